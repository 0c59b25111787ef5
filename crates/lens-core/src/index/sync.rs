//! The sync: what the index reads from Affinity, and how it takes it in.
//!
//! A full sync is the directory (`GET /organizations?page_size=500`, ⌈N/500⌉ pages, one
//! after another: each page's token names the next) beside the lists: `GET /lists`
//! (fresh: sizes and sharing; the card's memory of the lists is refreshed with it) and
//! `GET /fields` (the account's memory when fresh: which field of each list is its Status),
//! then every list of organizations, four at a time: with API v2 a list with a Status as
//! `GET /v2/lists/{id}/list-entries?fieldIds=field-<Status>` (100 a page, with the
//! Status), any other list in one v1 call (`GET /lists/{id}/list-entries` without
//! `page_size`: every entry, no Status). v1's directory is used with a v2 key too: 500 a
//! page against v2's 100.
//!
//! Whether the key may read v2's list entries is found out on one list first (a public one:
//! a 403 there is the key's, not the list's), remembered in the index's ledger and asked
//! again after a day. Every read goes around the client's cache ([`affinity_api::Client::unstored`]):
//! thousands of entries nobody reads twice would push the cards out of it.
//!
//! [`sync`] reads without touching the index (a gateway keeps serving and applying
//! webhooks meanwhile); [`Index::absorb`] then takes what it read in. [`sync_index`] does
//! both for a single owner (the CLI, the extension).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::{StreamExt, stream};
use serde::Serialize;

use affinity_api::clock::unix_ms;
use affinity_api::endpoints::{self, FieldsQuery, SearchQuery};
use affinity_api::models::{EntityType, Field, List, ListEntity, Organization, ValueType};
use affinity_api::transport::{MaybeSend, MaybeSync, Transport};
use affinity_api::{Error, decode, v2};

use super::policy::{DIRECTORY_PAGE, ListRead, ListsNow, SyncPlan, SyncPolicy};
use super::{Entry, Index, Org, StatusValue, clean_domains};
use crate::account::LensClient;

/// Lists read at once (beside the directory's pages: the client's limiter allows 6).
const LISTS_AT_ONCE: usize = 4;

/// How a sync is going, for a progress bar ("Index: 48,210 companies, 9 lists …").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Organizations of the directory read so far.
    pub organizations: usize,
    /// Lists read so far.
    pub lists_read: usize,
    /// Lists to read in all (known once `GET /lists` answered).
    pub lists_to_read: usize,
    /// Calls sent so far.
    pub calls: u64,
}

/// A list of organizations as `GET /lists` says it is now.
#[derive(Debug, Clone)]
struct ListNow {
    id: i64,
    name: String,
    public: bool,
    size: u64,
    status_field: Option<i64>,
}

/// The entries of one list, as read.
#[derive(Debug, Clone)]
struct ListRows {
    id: i64,
    /// Its size as `GET /lists` said.
    size: u64,
    with_status: bool,
    /// Its Status was asked for and refused (v2 does not share this list with the key's
    /// user): asked again when the Status would be due, not every hour.
    status_refused: bool,
    rows: Vec<Row>,
}

/// One entry: its organization (with its name and domains, when the answer had them) and
/// its Status when read with it.
#[derive(Debug, Clone)]
struct Row {
    entry_id: i64,
    org_id: i64,
    org: Option<(String, Vec<String>)>,
    status: Option<StatusValue>,
}

/// What a sync read: give it to [`Index::absorb`].
#[derive(Debug, Default)]
pub struct SyncOutcome {
    /// What was planned.
    pub plan: SyncPlan,
    /// When it started and ended (ms since the epoch).
    pub started_ms: u64,
    /// When it ended.
    pub finished_ms: u64,
    /// Calls it sent (retries included).
    pub calls: u64,
    /// The first error met; what it stopped (the directory, a list) is left as it was.
    pub error: Option<Error>,
    /// Nothing more was read once the month's budget left fell below the threshold.
    pub held_for_budget: bool,
    lists: Option<Vec<ListNow>>,
    directory: Option<Vec<Org>>,
    read: Vec<ListRows>,
    v2_entries: Option<bool>,
}

/// What a sync did, once taken in.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// What was planned.
    pub plan: SyncPlan,
    /// Calls sent to Affinity.
    pub calls: u64,
    /// Organizations the index holds now.
    pub organizations: usize,
    /// Lists of organizations it holds now.
    pub lists: usize,
    /// Whether the whole directory was read.
    pub directory_read: bool,
    /// Lists read, and how many of them with their Status.
    pub lists_read: usize,
    /// Of `lists_read`, those read with their Status (API v2).
    pub lists_with_status: usize,
    /// How long it took (ms).
    pub elapsed_ms: u64,
    /// Whether what the index holds changed (then its revision and ETag did).
    pub changed: bool,
    /// The index's revision now.
    pub revision: u64,
    /// The first error met, in words.
    pub error: Option<String>,
    /// Stopped (or never started) because the month's budget left is below the threshold.
    pub held_for_budget: bool,
}

/// Counts what is done and tells the caller's progress hook.
struct Tally<'a, P> {
    progress: &'a P,
    observation: &'a affinity_api::Observation,
    organizations: AtomicUsize,
    lists_read: AtomicUsize,
    lists_to_read: AtomicUsize,
    held: AtomicBool,
    min_budget_percent: f64,
}

impl<P: Fn(Progress)> Tally<'_, P> {
    fn tell(&self) {
        (self.progress)(Progress {
            organizations: self.organizations.load(Ordering::Relaxed),
            lists_read: self.lists_read.load(Ordering::Relaxed),
            lists_to_read: self.lists_to_read.load(Ordering::Relaxed),
            calls: self.observation.requests(),
        });
    }

    /// Whether to stop: the month's budget left (as the last answer's headers said) is below
    /// the threshold.
    fn held<T: Transport + MaybeSend + MaybeSync + 'static>(&self, client: &LensClient<T>) -> bool {
        let low = client
            .limiter()
            .monthly()
            .and_then(|b| b.percent_left())
            .is_some_and(|left| left < self.min_budget_percent);
        if low {
            self.held.store(true, Ordering::Relaxed);
        }
        self.held.load(Ordering::Relaxed)
    }
}

/// Reads what `plan` says (see the module's documentation) with `client`, telling
/// `progress` as it goes; `index` says what is known already (which lists changed, the
/// day's calls). Never fails: an error stops what it met (see [`SyncOutcome::error`]).
pub async fn sync<T, P>(
    client: &LensClient<T>,
    index: &Index,
    plan: &SyncPlan,
    policy: &SyncPolicy,
    progress: P,
) -> SyncOutcome
where
    T: Transport + MaybeSend + MaybeSync + 'static,
    P: Fn(Progress) + MaybeSync,
{
    let started_ms = unix_ms();
    let (client, observation) = client.observed();
    let tally = Tally {
        progress: &progress,
        observation: &observation,
        organizations: AtomicUsize::new(0),
        lists_read: AtomicUsize::new(0),
        lists_to_read: AtomicUsize::new(0),
        held: AtomicBool::new(false),
        // A full sync too: the index never spends the month below the user's threshold (a
        // small month would otherwise go to the directory).
        min_budget_percent: policy.min_budget_percent,
    };
    let read_directory = plan.full || plan.directory;
    let directory = async { if read_directory { Some(directory(&client, &tally).await) } else { None } };
    let spending = if read_directory { SyncPolicy::directory_calls(index.len()) } else { 0 } + 2;
    let lists = async {
        if plan.full || plan.lists {
            let step = ListsStep { client: &client, index, plan, policy, started_ms, spending, tally: &tally };
            Some(step.run().await)
        } else {
            None
        }
    };
    let (directory, lists) = futures::join!(directory, lists);
    let mut outcome = SyncOutcome { plan: *plan, started_ms, ..SyncOutcome::default() };
    match directory {
        Some(Ok(orgs)) => outcome.directory = Some(orgs),
        Some(Err(e)) => outcome.error = Some(e),
        None => {}
    }
    if let Some(lists) = lists {
        outcome.take_lists(lists);
    }
    outcome.held_for_budget = tally.held.load(Ordering::Relaxed);
    outcome.calls = observation.requests();
    outcome.finished_ms = unix_ms();
    tally.tell();
    outcome
}

/// Plans with `policy` (or takes `plan`), reads, and takes it in: for an index with one
/// owner (the CLI, the extension). The month's budget is the client limiter's, as the last
/// answer said.
pub async fn sync_index<T, P>(
    client: &LensClient<T>,
    index: &mut Index,
    policy: &SyncPolicy,
    plan: Option<SyncPlan>,
    progress: P,
) -> SyncReport
where
    T: Transport + MaybeSend + MaybeSync + 'static,
    P: Fn(Progress) + MaybeSync,
{
    let budget = client.limiter().monthly();
    let plan = plan.unwrap_or_else(|| policy.plan(index, unix_ms(), budget.as_ref()));
    if plan.is_empty() {
        return SyncReport {
            plan,
            organizations: index.len(),
            lists: index.lists().len(),
            revision: index.revision(),
            held_for_budget: plan.held_for_budget,
            ..SyncReport::default()
        };
    }
    let outcome = sync(client, index, &plan, policy, progress).await;
    index.absorb(outcome)
}

/// Every page of the directory, one after another.
async fn directory<T, P>(client: &LensClient<T>, tally: &Tally<'_, P>) -> Result<Vec<Org>, Error>
where
    T: Transport + MaybeSend + MaybeSync + 'static,
    P: Fn(Progress),
{
    let query = SearchQuery { page_size: Some(DIRECTORY_PAGE as u32), ..SearchQuery::default() };
    let pages = client.unstored().pages(endpoints::search_organizations(&query));
    let mut pages = std::pin::pin!(pages);
    let mut orgs: Vec<Org> = Vec::new();
    while let Some(page) = pages.next().await {
        orgs.extend(page?.items.iter().map(org_of));
        tally.organizations.store(orgs.len(), Ordering::Relaxed);
        tally.tell();
        if tally.held(client) {
            return Err(Error::RateLimited { retry_after: None });
        }
    }
    orgs.sort_by_key(|o| o.id);
    orgs.dedup_by_key(|o| o.id);
    Ok(orgs)
}

fn org_of(o: &Organization) -> Org {
    let domains = o.domain.iter().chain(&o.domains).map(String::as_str);
    Org { id: o.id, name: o.name.as_str().into(), domains: clean_domains(domains), entries: Vec::new() }
}

/// What the lists' side of a sync found.
struct ListsFound {
    now: Vec<ListNow>,
    read: Vec<ListRows>,
    v2_entries: Option<bool>,
    error: Option<Error>,
}

impl SyncOutcome {
    fn take_lists(&mut self, found: Result<ListsFound, Error>) {
        match found {
            Ok(found) => {
                self.lists = Some(found.now);
                self.read = found.read;
                self.v2_entries = found.v2_entries;
                if self.error.is_none() {
                    self.error = found.error;
                }
            }
            Err(e) => self.error = self.error.take().or(Some(e)),
        }
    }
}

/// The lists' side of a sync: `GET /lists` and the Status fields, the plan, the reads.
struct ListsStep<'a, T, P> {
    client: &'a LensClient<T>,
    index: &'a Index,
    plan: &'a SyncPlan,
    policy: &'a SyncPolicy,
    started_ms: u64,
    /// Calls spent anyway (the directory, `GET /lists`, `GET /fields`).
    spending: u64,
    tally: &'a Tally<'a, P>,
}

impl<T, P> ListsStep<'_, T, P>
where
    T: Transport + MaybeSend + MaybeSync + 'static,
    P: Fn(Progress) + MaybeSync,
{
    async fn run(&self) -> Result<ListsFound, Error> {
        let ledger = &self.index.meta().ledger;
        let may_v2 = ledger.may_try_v2(self.started_ms);
        let (lists, fields) = futures::join!(lists_now(self.client), fields_now(self.client, may_v2));
        let lists = lists?;
        let status_fields = status_fields(&fields.unwrap_or_default());
        let now = ListsNow { lists: &lists, status_fields: &status_fields, v2: may_v2 };
        let mut reads = self.policy.plan_lists(self.index, now, self.plan, self.started_ms, self.spending);
        let now_lists: Vec<ListNow> = lists_of_organizations(&lists, &status_fields);
        if self.tally.held(self.client) {
            reads.clear();
        }
        self.tally.lists_to_read.store(reads.len(), Ordering::Relaxed);
        self.tally.tell();
        let size = |id: i64| now_lists.iter().find(|l| l.id == id).map_or(0, |l| l.size);
        let public = |id: i64| now_lists.iter().any(|l| l.id == id && l.public);
        let mut found = ListsFound { now: now_lists.clone(), read: Vec::new(), v2_entries: None, error: None };
        // The key's v2 rights are found out on one public list first, unless known.
        let unknown = ledger.v2_entries != Some(true);
        let probe = reads.iter().position(|(id, r)| unknown && public(*id) && matches!(r, ListRead::WithStatus { .. }));
        if let Some(at) = probe {
            let (id, how) = reads.remove(at);
            match self.read(id, how, size(id)).await {
                Ok(rows) => {
                    found.v2_entries = Some(true);
                    found.read.push(rows);
                }
                Err(e) if refuses(&e) => {
                    found.v2_entries = Some(false);
                    for read in reads.iter_mut().filter(|(_, r)| matches!(r, ListRead::WithStatus { .. })) {
                        read.1 = ListRead::Members;
                    }
                    reads.push((id, ListRead::Members));
                }
                Err(e) => found.error = Some(e),
            }
        }
        let results: Vec<Result<ListRows, Error>> = stream::iter(reads)
            .map(|(id, how)| self.read_or_fall_back(id, how, size(id)))
            .buffer_unordered(LISTS_AT_ONCE)
            .collect()
            .await;
        for result in results {
            match result {
                Ok(rows) => found.read.push(rows),
                Err(e) => found.error = found.error.take().or(Some(e)),
            }
        }
        Ok(found)
    }

    /// Reads a list as planned; a list v2 refuses (not shared with the key's user there)
    /// is read with v1.
    async fn read_or_fall_back(&self, id: i64, how: ListRead, size: u64) -> Result<ListRows, Error> {
        match self.read(id, how, size).await {
            Err(e) if refuses(&e) && matches!(how, ListRead::WithStatus { .. }) => {
                let rows = self.read(id, ListRead::Members, size).await?;
                Ok(ListRows { status_refused: true, ..rows })
            }
            other => other,
        }
    }

    async fn read(&self, id: i64, how: ListRead, size: u64) -> Result<ListRows, Error> {
        if self.tally.held(self.client) {
            return Err(Error::RateLimited { retry_after: None });
        }
        let rows = match how {
            ListRead::Empty => Vec::new(),
            ListRead::Members => members(self.client, id).await?,
            ListRead::WithStatus { status_field } => with_status(self.client, id, status_field).await?,
        };
        self.tally.lists_read.fetch_add(1, Ordering::Relaxed);
        self.tally.tell();
        Ok(ListRows { id, size, with_status: matches!(how, ListRead::WithStatus { .. }), status_refused: false, rows })
    }
}

/// A refusal that says the key (or this list, in v2) may not: fall back to v1.
fn refuses(e: &Error) -> bool {
    matches!(e, Error::Forbidden { .. } | Error::NotFound { .. } | Error::BadResponse { .. } | Error::Invalid { .. })
}

/// `GET /lists`, fresh; the card's memory of the lists is refreshed with it.
async fn lists_now<T: Transport + MaybeSend + MaybeSync + 'static>(client: &LensClient<T>) -> Result<Vec<List>, Error> {
    let body = client.uncached().execute(&endpoints::lists().returning::<serde_json::Value>()).await?.to_string();
    let lists = decode(&body)?;
    client.account().keep_context("/lists", body, unix_ms());
    Ok(lists)
}

/// `GET /fields` from the account's memory when fresh, else from Affinity (then kept):
/// needed only to read Status with v2.
async fn fields_now<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    wanted: bool,
) -> Result<Vec<Field>, Error> {
    if !wanted {
        return Ok(Vec::new());
    }
    if let Some(body) = client.account().context("/fields", unix_ms(), client.fresh_after_ms())
        && let Ok(fields) = decode(&body)
    {
        return Ok(fields);
    }
    let endpoint = endpoints::fields(&FieldsQuery::default()).returning::<serde_json::Value>();
    let body = client.execute(&endpoint).await?.to_string();
    let fields = decode(&body)?;
    client.account().keep_context("/fields", body, unix_ms());
    Ok(fields)
}

/// Each list's Status field: its list-specific dropdown named "Status".
fn status_fields(fields: &[Field]) -> Vec<(i64, i64)> {
    let dropdown = [ValueType::RANKED_DROPDOWN, ValueType::DROPDOWN, ValueType::LEGACY_DROPDOWN];
    fields
        .iter()
        .filter(|f| crate::fields::is_status(&f.name) && dropdown.contains(&f.value_type))
        .filter_map(|f| Some((f.list_id?, f.id)))
        .collect()
}

fn lists_of_organizations(lists: &[List], status_fields: &[(i64, i64)]) -> Vec<ListNow> {
    lists
        .iter()
        .filter(|l| l.list_type == EntityType::ORGANIZATION)
        .map(|l| ListNow {
            id: l.id,
            name: l.name.clone(),
            public: l.public,
            size: l.list_size.unwrap_or(0).max(0) as u64,
            status_field: status_fields.iter().find(|(list, _)| *list == l.id).map(|(_, f)| *f),
        })
        .collect()
}

/// Every entry of a list in one v1 call (no `page_size`), without Status.
async fn members<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    list_id: i64,
) -> Result<Vec<Row>, Error> {
    let entries = client.unstored().execute(&endpoints::all_list_entries(list_id)).await?;
    Ok(entries
        .iter()
        .filter_map(|e| {
            let org = match e.entity() {
                Some(ListEntity::Organization(o)) => Some((o.name.clone(), o.all_domains())),
                Some(_) => return None,
                None => None,
            };
            Some(Row { entry_id: e.id, org_id: e.entity_id, org, status: None })
        })
        .collect())
}

/// Every entry of a list with its Status, 100 a page (API v2).
async fn with_status<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    list_id: i64,
    status_field: i64,
) -> Result<Vec<Row>, Error> {
    let field = format!("field-{status_field}");
    let endpoint = v2::endpoints::company_list_entries_of_list(list_id, std::slice::from_ref(&field));
    let entries = client.unstored().v2_items(endpoint, usize::MAX).await?;
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            let company = e.entity?;
            let status = company
                .field(&field)
                .and_then(|f| f.value.dropdown())
                .map(|d| StatusValue { color: v2::color_number(d.color.as_deref()), text: d.text });
            let org = Some((company.name.clone(), company.all_domains()));
            Some(Row { entry_id: e.id, org_id: company.id, org, status })
        })
        .collect())
}

impl Index {
    /// Takes in what a sync read (see [`sync`]): the lists as they are now (gone ones
    /// dropped), the directory when read whole (its organizations replace the index's,
    /// keeping their entries), each list read (its entries replace the list's; a list read
    /// without Status keeps the Status known of entries still there). Changes applied
    /// while the sync ran are kept unless what the sync read replaces them: a gateway
    /// applies the changes it received meanwhile again.
    pub fn absorb(&mut self, outcome: SyncOutcome) -> SyncReport {
        let before = self.etag();
        let lists_read = outcome.read.len();
        let lists_with_status = outcome.read.iter().filter(|r| r.with_status).count();
        let directory_read = outcome.directory.is_some();
        if let Some(lists) = &outcome.lists {
            self.take_lists(lists);
            self.meta.ledger.lists_checked_ms = outcome.finished_ms;
        }
        if let Some(orgs) = outcome.directory {
            self.take_directory(orgs, outcome.started_ms);
        }
        for rows in outcome.read {
            self.take_rows(rows, outcome.finished_ms);
        }
        self.reindex();
        let ledger = &mut self.meta.ledger;
        ledger.spend(outcome.finished_ms, outcome.calls);
        ledger.last_sync_ms = outcome.finished_ms;
        if let Some(v2) = outcome.v2_entries {
            (ledger.v2_entries, ledger.v2_checked_ms) = (Some(v2), outcome.finished_ms);
        }
        self.etag.store(0, Ordering::Relaxed);
        let changed = self.etag() != before;
        if changed {
            self.meta.revision += 1;
        }
        SyncReport {
            plan: outcome.plan,
            calls: outcome.calls,
            organizations: self.len(),
            lists: self.lists.len(),
            directory_read,
            lists_read,
            lists_with_status,
            elapsed_ms: outcome.finished_ms.saturating_sub(outcome.started_ms),
            changed,
            revision: self.meta.revision,
            error: outcome.error.map(|e| e.to_string()),
            held_for_budget: outcome.held_for_budget,
        }
    }

    fn take_lists(&mut self, lists: &[ListNow]) {
        let gone: Vec<i64> = self.lists.iter().map(|l| l.id).filter(|id| !lists.iter().any(|l| l.id == *id)).collect();
        for id in gone {
            self.remove_list(id);
        }
        for l in lists {
            self.upsert_list(l.id, l.name.clone(), l.public);
            if let Ok(at) = self.lists.binary_search_by_key(&l.id, |x| x.id) {
                self.lists[at].status_field = l.status_field;
            }
        }
    }

    /// The directory's organizations replace the index's, which keep their entries.
    fn take_directory(&mut self, mut orgs: Vec<Org>, read_at_ms: u64) {
        let old = std::mem::take(&mut self.orgs);
        let mut old = old.into_iter().peekable();
        for org in &mut orgs {
            while old.peek().is_some_and(|o| o.id < org.id) {
                old.next();
            }
            if let Some(o) = old.next_if(|o| o.id == org.id) {
                org.entries = o.entries;
            }
        }
        self.orgs = orgs;
        self.meta.directory_ms = read_at_ms;
    }

    /// A list's entries as read replace those the index held.
    fn take_rows(&mut self, read: ListRows, read_at_ms: u64) {
        let Ok(li) = self.lists.binary_search_by_key(&read.id, |l| l.id) else { return };
        let mut known: Vec<(i64, StatusValue)> = Vec::new();
        for org in &mut self.orgs {
            for e in org.entries.iter().filter(|e| e.list_id == read.id) {
                if let Some(s) = e.status.and_then(|s| self.lists[li].statuses.get(usize::from(s))) {
                    known.push((e.entry_id, s.clone()));
                }
            }
            org.entries.retain(|e| e.list_id != read.id);
        }
        if read.with_status {
            self.lists[li].statuses.clear();
        }
        for row in read.rows {
            let at = match (self.org_at(row.org_id), row.org) {
                (Ok(at), _) => at,
                (Err(at), Some((name, domains))) => {
                    let domains = clean_domains(domains.iter().map(String::as_str));
                    self.orgs.insert(at, Org { id: row.org_id, name: name.into(), domains, entries: Vec::new() });
                    at
                }
                (Err(_), None) => continue,
            };
            let status = if read.with_status {
                row.status
            } else {
                known.iter().find(|k| k.0 == row.entry_id).map(|k| k.1.clone())
            };
            let status = status.map(|s| self.lists[li].status_slot(&s));
            self.orgs[at].entries.push(Entry { list_id: read.id, entry_id: row.entry_id, status });
        }
        let list = &mut self.lists[li];
        (list.size, list.read_ms) = (read.size, read_at_ms);
        if read.with_status || read.status_refused {
            list.status_read_ms = read_at_ms;
        }
    }
}
