//! The gateway's index of the firm's companies (`GET /affinity/index`): synced once for the
//! firm, kept fresh by webhooks and live cards, shared by the replicas through Redis, and
//! served without the lists cards leave out.
//!
//! With Redis, the replicas agree through an ordered log of changes:
//!
//! - a webhook's change (or what a live card teaches) is appended to a log in Redis by one
//!   Lua script (`INCR` gives it its number, `ZADD` files it), and a notice goes out on the
//!   replicas' channel; every replica (the one that received it too) reads the log from
//!   where it stands and applies the changes in the log's order. Two replicas receiving two
//!   webhooks at once cannot lose either: neither rewrites the other's index, both apply
//!   both, in the same order, and get the same index;
//! - a sync (one replica at a time: a Redis lock with an expiry) reads Affinity, takes what
//!   it read into its index, applies again the changes logged meanwhile, and stores a
//!   snapshot under a new generation (`INCR`) with the log number it holds; the other
//!   replicas load it (on the notice, or within 2 s) and apply the log after it. A snapshot
//!   is stored only if newer (a Lua check of generation and log number), so a slow replica
//!   never puts an older index back; replicas also store their snapshot now and then, so
//!   that one starting later does not need a log longer than Redis keeps;
//! - the snapshot's bytes are stored raw beside a digest tagged with the key (as every
//!   value the gateway believes), the changes tagged one by one.
//!
//! Without Redis (or while it is away) the replica syncs and applies changes itself.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use affinity_api::clock::unix_ms;
use affinity_api::models::{FieldValue, FieldValueData, List, Organization, OrganizationMerged, WebhookEvent};
use lens_core::index::{Change, Index, StatusValue, SyncPolicy, sync};
use lens_core::{Card, LensClient};
use serde::{Deserialize, Serialize};

use crate::shared_state::{IndexSnapshot, RedisState};

/// One entry of the index's log: a change, or a live card to learn from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Entry {
    Change(Change),
    Card(Box<Card>),
}

/// What `GET /affinity/index` answers: the index without the lists cards leave out.
pub(crate) struct Served {
    pub bytes: axum::body::Bytes,
    /// Quoted, as the header has it.
    pub etag: String,
    pub organizations: usize,
    pub revision: u64,
}

/// This replica's copy of the index, and where it stands in the shared log.
#[derive(Default)]
struct Local {
    index: Option<Index>,
    generation: u64,
    seq: u64,
    /// The changes applied lately, by log number: applied again after a sync.
    recent: VecDeque<(u64, Entry)>,
    /// The log number of the last snapshot stored or loaded.
    saved_seq: u64,
}

/// Changes kept for a sync to apply again.
const RECENT: usize = 20_000;
/// How often the log is read without a notice, and the sync looked at.
const CATCH_UP_EVERY: Duration = Duration::from_secs(2);
const SYNC_CHECK_EVERY: Duration = Duration::from_secs(60);
/// While there is no index yet, the sync is tried this often.
const FIRST_SYNC_RETRY: Duration = Duration::from_secs(10);
/// The longest a replica holds the sync lock (a sync of 50,000 organizations takes ~20 s).
const SYNC_LOCK: Duration = Duration::from_secs(15 * 60);
/// The index syncs only while this many points of the month's budget are left above the
/// cards' reserve ...
const INDEX_MARGIN_PERCENT: f64 = 10.0;
/// ... and at least this many calls above that: a month too small for an index has none.
const MIN_HEADROOM_CALLS: i64 = 100;
/// How often at most a replica stores its snapshot between syncs.
const SAVE_EVERY: Duration = Duration::from_secs(60);

/// The index's keeper (see the module's documentation).
pub(crate) struct IndexKeeper {
    client: LensClient,
    redis: Option<Arc<RedisState>>,
    show_lists: Vec<String>,
    policy: SyncPolicy,
    /// Webhooks flow: the served index is vouched for as of each change.
    vouch: bool,
    local: Mutex<Local>,
    served: RwLock<Option<Arc<Served>>>,
    catching: tokio::sync::Mutex<()>,
    notice: tokio::sync::Notify,
    ready: tokio::sync::watch::Sender<bool>,
    /// Changes to record, in the order they came (a webhook's, a card's).
    queue: tokio::sync::mpsc::Sender<Vec<Entry>>,
    queued: Mutex<Option<tokio::sync::mpsc::Receiver<Vec<Entry>>>>,
    /// Syncs this replica ran, and the Affinity calls they made.
    pub syncs: AtomicU64,
    pub sync_calls: AtomicU64,
    held_said: std::sync::atomic::AtomicBool,
}

impl IndexKeeper {
    pub(crate) fn new(
        client: LensClient,
        redis: Option<Arc<RedisState>>,
        show_lists: Vec<String>,
        min_budget_percent: f64,
        vouch: bool,
    ) -> Arc<IndexKeeper> {
        // The index leaves the cards the 10 points of the month above their reserve.
        let min_budget_percent = (min_budget_percent + INDEX_MARGIN_PERCENT).min(100.0);
        let policy = SyncPolicy { min_budget_percent, ..SyncPolicy::default() };
        let (queue, queued) = tokio::sync::mpsc::channel(4096);
        Arc::new(IndexKeeper {
            queue,
            queued: Mutex::new(Some(queued)),
            client,
            redis,
            show_lists,
            policy,
            vouch,
            local: Mutex::new(Local::default()),
            served: RwLock::new(None),
            catching: tokio::sync::Mutex::new(()),
            notice: tokio::sync::Notify::new(),
            ready: tokio::sync::watch::channel(false).0,
            syncs: AtomicU64::new(0),
            sync_calls: AtomicU64::new(0),
            held_said: Default::default(),
        })
    }

    /// Starts the keeper's tasks: reading the shared log (on notice, or every 2 s) and the
    /// sync (at start when no index is there, then as the policy says).
    pub(crate) fn start(self: &Arc<Self>) {
        tokio::spawn(catch_up_loop(Arc::downgrade(self)));
        tokio::spawn(sync_loop(Arc::downgrade(self)));
        if let Some(queued) = self.queued.lock().expect("queue lock").take() {
            tokio::spawn(record_loop(Arc::downgrade(self), queued));
        }
    }

    /// Records `entries` soon, after those queued before (a full queue drops them: the next
    /// sync brings what they said).
    pub(crate) fn queue(&self, entries: Vec<Entry>) {
        if !entries.is_empty() {
            let _ = self.queue.try_send(entries);
        }
    }

    /// The index as served, once there is one.
    pub(crate) fn served(&self) -> Option<Arc<Served>> {
        self.served.read().expect("served lock").clone()
    }

    /// Waits until the index is served, at most `limit`.
    pub(crate) async fn ready_within(&self, limit: Duration) -> bool {
        let mut ready = self.ready.subscribe();
        tokio::time::timeout(limit, ready.wait_for(|r| *r)).await.is_ok_and(|r| r.is_ok())
    }

    /// Another replica logged a change or stored a snapshot.
    pub(crate) fn notice(&self) {
        self.notice.notify_one();
    }

    fn redis(&self) -> Option<&Arc<RedisState>> {
        use affinity_api::shared::SharedState;
        self.redis.as_ref().filter(|r| r.available())
    }

    /// Records a change: in the shared log (every replica applies it), or here alone.
    pub(crate) async fn record(&self, entry: Entry) {
        if let Some(redis) = self.redis()
            && let Ok(json) = serde_json::to_string(&entry)
            && redis.index_append(&json).await.is_some()
        {
            self.catch_up().await;
            return;
        }
        let changed = {
            let mut local = self.local.lock().expect("index lock");
            local.index.as_mut().is_some_and(|index| apply(index, &entry))
        };
        if changed {
            self.refresh();
        }
    }

    /// The changes a webhook event makes (none for an event the index does not follow).
    pub(crate) fn changes_of(&self, event: &WebhookEvent) -> Vec<Change> {
        let local = self.local.lock().expect("index lock");
        let status_list = |field_id: i64| {
            let index = local.index.as_ref()?;
            index.lists().iter().find(|l| l.status_field == Some(field_id)).map(|l| l.id)
        };
        changes_of(event, status_list)
    }

    /// Whether a live card would teach the index something (then it is logged).
    pub(crate) fn would_learn(&self, card: &Card) -> bool {
        let local = self.local.lock().expect("index lock");
        local.index.as_ref().is_some_and(|index| would_learn(index, card))
    }

    /// Reads the shared log from where this replica stands (and the snapshot first when a
    /// newer generation is stored), applies it, and serves the result.
    pub(crate) async fn catch_up(&self) {
        let Some(redis) = self.redis().cloned() else { return };
        let _one = self.catching.lock().await;
        let Some(head) = redis.index_head().await else { return };
        let (generation, seq, has) = {
            let local = self.local.lock().expect("index lock");
            (local.generation, local.seq, local.index.is_some())
        };
        let mut changed = false;
        if head.generation > generation || (!has && head.generation > 0) {
            changed |= self.load(&redis).await;
        }
        if head.log_seq > seq || changed {
            changed |= self.apply_log(&redis).await;
        }
        if changed {
            self.refresh();
        }
    }

    /// Loads the stored snapshot; whether it was taken.
    async fn load(&self, redis: &RedisState) -> bool {
        let Some(snapshot) = redis.index_snapshot().await else { return false };
        let index = match Index::decode(&snapshot.bytes) {
            Ok(index) => index,
            Err(e) => {
                eprintln!("gateway: the index stored in Redis does not decode ({e}): it is synced again");
                return false;
            }
        };
        let mut local = self.local.lock().expect("index lock");
        if snapshot.generation < local.generation
            || (snapshot.generation == local.generation && snapshot.seq <= local.seq && local.index.is_some())
        {
            return false;
        }
        local.index = Some(index);
        (local.generation, local.seq, local.saved_seq) = (snapshot.generation, snapshot.seq, snapshot.seq);
        true
    }

    /// Applies the log after this replica's place; whether the index changed.
    async fn apply_log(&self, redis: &RedisState) -> bool {
        let seq = self.local.lock().expect("index lock").seq;
        let Some(entries) = redis.index_changes_after(seq).await else { return false };
        let mut local = self.local.lock().expect("index lock");
        let mut changed = false;
        for (n, json) in entries {
            if n <= local.seq {
                continue;
            }
            local.seq = n;
            let Ok(entry) = serde_json::from_str::<Entry>(&json) else { continue };
            if let Some(index) = local.index.as_mut() {
                changed |= apply(index, &entry);
            }
            local.recent.push_back((n, entry));
            if local.recent.len() > RECENT {
                local.recent.pop_front();
            }
        }
        changed
    }

    /// Makes the served copy again from this replica's index.
    fn refresh(&self) {
        let served = {
            let local = self.local.lock().expect("index lock");
            let Some(index) = local.index.as_ref().filter(|i| i.as_of_ms() > 0) else { return };
            serve_copy(index, &self.show_lists, self.vouch.then(unix_ms))
        };
        *self.served.write().expect("served lock") = Some(Arc::new(served));
        self.ready.send_replace(true);
    }
}

/// What `GET /affinity/index` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The whole index (200).
    Whole,
    /// The caller's copy is current (304).
    NotModified,
    /// No index yet (503).
    Unavailable,
}

/// Seconds a caller is told to wait for an index not ready yet.
const RETRY_AFTER_SECS: u64 = 5;

/// Whether `If-None-Match` names `etag` (a list, weak or strong, or `*`).
fn matches(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|header| {
        header.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    })
}

/// What a request for the index gets, given the served index and its `If-None-Match`.
pub(crate) fn answer(served: Option<&Served>, if_none_match: Option<&str>) -> Answer {
    match served {
        None => Answer::Unavailable,
        Some(s) if matches(if_none_match, &s.etag) => Answer::NotModified,
        Some(_) => Answer::Whole,
    }
}

/// The response: the bytes (`application/octet-stream`) with `ETag` and `Cache-Control:
/// private, no-cache`; 304 without a body when the caller's copy is current; 503 with
/// `Retry-After` and `{"error", "retry_after"}` before the first sync.
pub(crate) fn respond(served: Option<&Served>, if_none_match: Option<&str>) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let Some(s) = served else {
        let body = serde_json::json!({
            "error": "the gateway's index is not ready yet: its first sync with Affinity is running",
            "retry_after": RETRY_AFTER_SECS,
        });
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        return response;
    };
    let mut response = match answer(served, if_none_match) {
        Answer::NotModified => StatusCode::NOT_MODIFIED.into_response(),
        _ => ([(header::CONTENT_TYPE, "application/octet-stream")], s.bytes.clone()).into_response(),
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&s.etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    response
}

/// Applies one log entry; whether the index changed.
fn apply(index: &mut Index, entry: &Entry) -> bool {
    match entry {
        Entry::Change(change) => index.apply(change.clone()),
        Entry::Card(card) => index.learn_card(card),
    }
}

/// What callers may see: the lists that are public, or shown with `--show-list`, and their
/// entries (as on cards); vouched for as of `now` when webhooks flow.
fn serve_copy(index: &Index, show_lists: &[String], vouch: Option<u64>) -> Served {
    let shown: Vec<Change> = index
        .lists()
        .iter()
        .filter(|l| !l.public && show_lists.iter().any(|s| s.eq_ignore_ascii_case(&l.name)))
        .map(|l| Change::List { id: l.id, name: l.name.clone(), public: true })
        .collect();
    let mut public = if shown.is_empty() {
        index.public_only()
    } else {
        let mut copy = index.clone();
        for change in shown {
            copy.apply(change);
        }
        copy.public_only()
    };
    if let Some(now) = vouch {
        public.vouch(now);
    }
    let encoded = public.encode();
    Served { bytes: encoded.bytes.into(), etag: encoded.etag, organizations: public.len(), revision: index.revision() }
}

/// Whether learning from a card would change the index (cheaply, without a copy; `true`
/// when unsure: a change logged for nothing costs one entry).
fn would_learn(index: &Index, card: &Card) -> bool {
    use lens_core::{CardStatus, EntityKind, QueryKind};
    if card.source == lens_core::card::CardSource::Index || card.error.is_some() || card.partial {
        return false;
    }
    let differs = |e: &lens_core::CardEntity| {
        e.kind == EntityKind::Organization
            && index.company(e.id).is_none_or(|c| {
                let mut theirs: Vec<String> = e.domains.iter().map(|d| d.trim().to_lowercase()).collect();
                let mut ours = c.domains.clone();
                theirs.sort();
                ours.sort();
                c.name != e.name || ours != theirs
            })
    };
    match card.status {
        CardStatus::Matched => card.entity.as_ref().is_some_and(|e| {
            let entries = |c: &lens_core::index::KnownCompany| {
                let mut ours: Vec<(i64, i64, Option<StatusValue>)> =
                    c.lists.iter().map(|l| (l.list_id, l.entry_id, l.status.clone())).collect();
                let mut theirs: Vec<(i64, i64, Option<StatusValue>)> =
                    card.lists.iter().map(|l| (l.list_id, l.entry_id, l.status.clone())).collect();
                ours.sort_by_key(|x| (x.0, x.1));
                theirs.sort_by_key(|x| (x.0, x.1));
                ours != theirs
            };
            differs(e) || index.company(e.id).is_none_or(|c| entries(&c))
        }),
        CardStatus::Ambiguous => card.candidates.iter().any(differs),
        CardStatus::NotFound if card.query.kind == QueryKind::Domain => index.knows_domain(&card.query.value),
        _ => false,
    }
}

/// The changes a webhook event makes to the index. `status_list` says which list a field is
/// the Status of (from the index). Events the index does not follow, and bodies that do not
/// read, make none.
pub(crate) fn changes_of(event: &WebhookEvent, status_list: impl Fn(i64) -> Option<i64>) -> Vec<Change> {
    let body = &event.body;
    let num = |key: &str| body.get(key).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let org = || serde_json::from_value::<Organization>(body.clone()).ok();
    match event.event.as_str() {
        "organization.created" | "organization.updated" => {
            org().map(|o| Change::organization(&o)).into_iter().collect()
        }
        "organization.deleted" => num("id").map(|id| Change::OrganizationDeleted { id }).into_iter().collect(),
        "organization.merged" => match serde_json::from_value::<OrganizationMerged>(body.clone()) {
            Ok(m) => vec![
                Change::OrganizationsMerged { removed: m.removed_company.id, into: m.company.id },
                Change::organization(&m.company),
            ],
            Err(_) => Vec::new(),
        },
        "list_entry.created" => entry_added(body),
        "list_entry.deleted" => match (num("list_id"), num("id")) {
            (Some(list_id), Some(entry_id)) => vec![Change::EntryRemoved { list_id, entry_id }],
            _ => Vec::new(),
        },
        "field_value.created" | "field_value.updated" | "field_value.deleted" => status_set(event, status_list),
        "list.created" | "list.updated" => match serde_json::from_value::<List>(body.clone()) {
            Ok(l) if l.list_type == affinity_api::models::EntityType::ORGANIZATION => {
                vec![Change::List { id: l.id, name: l.name, public: l.public }]
            }
            _ => Vec::new(),
        },
        "list.deleted" => num("id").map(|id| Change::ListDeleted { id }).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `list_entry.created`: the organization (when the body carries it, so that a company new to
/// the index is there first), then its entry. An entry of a person or an opportunity, or on
/// a list the index does not hold, changes nothing when applied.
fn entry_added(body: &serde_json::Value) -> Vec<Change> {
    let num = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let (Some(list_id), Some(entry_id)) = (num(body.get("list_id")), num(body.get("id"))) else {
        return Vec::new();
    };
    // v1's entity types: 1 is an organization.
    if num(body.get("entity_type")).is_some_and(|t| t != 1) {
        return Vec::new();
    }
    let entity = body.get("entity").and_then(|e| serde_json::from_value::<Organization>(e.clone()).ok());
    let Some(organization_id) = num(body.get("entity_id")).or(entity.as_ref().map(|o| o.id)) else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    if let Some(org) = entity.filter(|o| o.id == organization_id && !o.name.is_empty()) {
        changes.push(Change::organization(&org));
    }
    changes.push(Change::EntryAdded { list_id, entry_id, organization_id });
    changes
}

/// `field_value.*` on a list's Status field: the entry's Status as it is now (none once
/// deleted).
fn status_set(event: &WebhookEvent, status_list: impl Fn(i64) -> Option<i64>) -> Vec<Change> {
    let Ok(value) = serde_json::from_value::<FieldValue>(event.body.clone()) else { return Vec::new() };
    let (Some(list_id), Some(entry_id)) = (status_list(value.field_id), value.list_entry_id) else {
        return Vec::new();
    };
    let status = if event.event == "field_value.deleted" {
        None
    } else {
        match value.data(None) {
            FieldValueData::RankedDropdown(o) => Some(StatusValue { text: o.text, color: o.color.unwrap_or(0) }),
            FieldValueData::Dropdown(text) => Some(StatusValue { text, color: 0 }),
            _ => return Vec::new(),
        }
    };
    vec![Change::Status { list_id, entry_id, status }]
}

/// Reads the log on notice, or every [`CATCH_UP_EVERY`]; stores a snapshot now and then.
async fn catch_up_loop(keeper: Weak<IndexKeeper>) {
    loop {
        let Some(this) = keeper.upgrade() else { return };
        this.catch_up().await;
        this.save_now_and_then().await;
        let wait = async {
            tokio::select! {
                () = this.notice.notified() => {}
                () = tokio::time::sleep(CATCH_UP_EVERY) => {}
            }
        };
        wait.await;
    }
}

/// Records the queued changes one after another.
async fn record_loop(keeper: Weak<IndexKeeper>, mut queued: tokio::sync::mpsc::Receiver<Vec<Entry>>) {
    while let Some(entries) = queued.recv().await {
        let Some(this) = keeper.upgrade() else { return };
        for entry in entries {
            this.record(entry).await;
        }
    }
}

/// Syncs at start when no index is there, then as the policy says.
async fn sync_loop(keeper: Weak<IndexKeeper>) {
    loop {
        let Some(this) = keeper.upgrade() else { return };
        this.sync_if_due().await;
        let wait = if this.served().is_some() { SYNC_CHECK_EVERY } else { FIRST_SYNC_RETRY };
        drop(this);
        tokio::time::sleep(wait).await;
    }
}

/// Gives the sync lock back however the sync ends (also when it is dropped).
struct SyncLock {
    redis: Option<Arc<RedisState>>,
    token: Option<String>,
}

const SYNC_LOCK_NAME: &str = "index-sync";

impl Drop for SyncLock {
    fn drop(&mut self) {
        if let (Some(redis), Some(token)) = (self.redis.take(), self.token.take()) {
            redis.unlock_later(SYNC_LOCK_NAME.to_owned(), token);
        }
    }
}

impl IndexKeeper {
    /// The month's budget as last seen here or, with Redis, by any replica (the lower).
    async fn monthly(&self) -> Option<affinity_api::limiter::MonthlyBudget> {
        let here = self.client.limiter().monthly();
        let everywhere = match self.redis() {
            Some(redis) => redis.budget_get().await,
            None => None,
        };
        match (here, everywhere) {
            (Some(a), Some(b)) => {
                Some(if b.remaining.unwrap_or(i64::MAX) < a.remaining.unwrap_or(i64::MAX) { b } else { a })
            }
            (a, b) => a.or(b),
        }
    }

    /// Says once that the month's budget holds the index back.
    fn say_held(&self) {
        if !self.held_said.swap(true, Ordering::Relaxed) {
            eprintln!(
                "gateway: the index is not synced: the month's Affinity budget left is too close to the reserve (the index keeps {INDEX_MARGIN_PERCENT} points and {MIN_HEADROOM_CALLS} calls above it)"
            );
        }
    }

    /// Syncs what the policy says is due, if no other replica is syncing.
    pub(crate) async fn sync_if_due(&self) {
        let mut lock = SyncLock { redis: None, token: None };
        if let Some(redis) = self.redis() {
            match redis.lock(SYNC_LOCK_NAME, SYNC_LOCK).await {
                Some(token) => (lock.redis, lock.token) = (Some(redis.clone()), Some(token)),
                None => return,
            }
            // What another replica synced meanwhile.
            self.catch_up().await;
        }
        let (base, seq0) = {
            let local = self.local.lock().expect("index lock");
            (local.index.clone().unwrap_or_default(), local.seq)
        };
        let mut budget = self.monthly().await;
        if budget.is_none() {
            // `GET /rate-limit` is free: never start a sync blind.
            let _ = self.client.rate_limit().await;
            budget = self.monthly().await;
        }
        let plan = self.policy.plan(&base, unix_ms(), budget.as_ref());
        let headroom = budget.as_ref().and_then(|b| {
            let floor = b.limit? as f64 * self.policy.min_budget_percent / 100.0;
            Some(b.remaining? - floor.ceil() as i64)
        });
        let held = plan.held_for_budget || (!plan.is_empty() && headroom.is_some_and(|h| h < MIN_HEADROOM_CALLS));
        if held && base.as_of_ms() == 0 {
            self.say_held();
        }
        if plan.is_empty() || held {
            return;
        }
        let outcome = sync(&self.client, &base, &plan, &self.policy, |_| {}).await;
        self.take_sync(outcome, seq0).await;
        drop(lock);
    }

    /// Takes a sync's outcome in, applies the changes logged since it started again, and
    /// stores the result for every replica under a new generation.
    async fn take_sync(&self, outcome: lens_core::index::SyncOutcome, seq0: u64) {
        let generation = match self.redis() {
            Some(redis) => redis.index_generation().await,
            None => None,
        };
        let (report, snapshot) = {
            let mut local = self.local.lock().expect("index lock");
            let local = &mut *local;
            let index = local.index.get_or_insert_with(Index::default);
            let report = index.absorb(outcome);
            for (_, entry) in local.recent.iter().filter(|(n, _)| *n > seq0) {
                apply(index, entry);
            }
            local.generation = generation.unwrap_or(local.generation + 1);
            local.saved_seq = local.seq;
            let snapshot = IndexSnapshot { generation: local.generation, seq: local.seq, bytes: index.encode().bytes };
            (report, snapshot)
        };
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.sync_calls.fetch_add(report.calls, Ordering::Relaxed);
        let error = report.error.as_deref().map(|e| format!(", stopped early: {e}")).unwrap_or_default();
        eprintln!(
            "gateway: index synced: {} organizations, {} lists ({} read), {} calls, {} ms{error}",
            report.organizations, report.lists, report.lists_read, report.calls, report.elapsed_ms
        );
        self.refresh();
        if let (Some(redis), Some(_)) = (self.redis(), generation)
            && redis.index_save(&snapshot).await
        {
            redis.publish(&serde_json::json!({ "index": snapshot.seq }).to_string()).await;
        }
    }

    /// Stores this replica's snapshot when it is further along the log than the stored one
    /// (at most every [`SAVE_EVERY`], one replica at a time).
    async fn save_now_and_then(&self) {
        let Some(redis) = self.redis().cloned() else { return };
        let behind = {
            let local = self.local.lock().expect("index lock");
            local.index.is_some() && local.seq > local.saved_seq
        };
        if !behind || redis.lock("index-save", SAVE_EVERY).await.is_none() {
            return;
        }
        // The lock is left to expire: it spaces the saves.
        let snapshot = {
            let mut local = self.local.lock().expect("index lock");
            let Some(index) = local.index.as_ref() else { return };
            let bytes = index.encode().bytes;
            local.saved_seq = local.seq;
            IndexSnapshot { generation: local.generation, seq: local.seq, bytes }
        };
        redis.index_save(&snapshot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> WebhookEvent {
        let path = format!("{}/../../../shared/fixtures/affinity-v1/webhooks/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn event(name: &str, body: serde_json::Value) -> WebhookEvent {
        WebhookEvent { event: name.into(), body, sent_at: None }
    }

    #[test]
    fn recorded_events_make_the_changes_they_say() {
        let none = |_| None;
        let created = changes_of(&fixture("event_organization_created.helpcenter.json"), none);
        assert_eq!(
            created,
            [Change::Organization { id: 64779194, name: "Example Org".into(), domains: vec!["example.com".into()] }]
        );
        let merged = changes_of(&fixture("event_organization_merged.helpcenter.json"), none);
        assert_eq!(merged[0], Change::OrganizationsMerged { removed: 64779194, into: 64779195 });
        assert!(matches!(&merged[1], Change::Organization { id: 64779195, .. }));
        // A person's list entry (entity_type 0) is not the index's.
        assert!(changes_of(&fixture("event_list_entry_created.docs.json"), none).is_empty());
        // A global field (no list entry) is no Status.
        assert!(changes_of(&fixture("event_field_value_updated.helpcenter.json"), |_| Some(1)).is_empty());
        assert!(changes_of(&fixture("event_person_created.helpcenter.json"), none).is_empty());
    }

    #[test]
    fn entries_and_status_values_follow_their_list() {
        let added = changes_of(
            &event(
                "list_entry.created",
                serde_json::json!({ "id": 5, "list_id": 10, "entity_id": 7, "entity_type": 1,
                "entity": { "id": 7, "name": "Acme", "domain": "acme.test", "domains": ["acme.test"] } }),
            ),
            |_| None,
        );
        assert_eq!(added.len(), 2);
        assert_eq!(added[1], Change::EntryAdded { list_id: 10, entry_id: 5, organization_id: 7 });
        let removed = changes_of(&event("list_entry.deleted", serde_json::json!({ "id": 5, "list_id": 10 })), |_| None);
        assert_eq!(removed, [Change::EntryRemoved { list_id: 10, entry_id: 5 }]);
        let status_of = |field| (field == 33).then_some(10);
        let value = serde_json::json!({ "id": 1, "field_id": 33, "entity_id": 7, "list_entry_id": 5, "value_type": 7,
            "value": { "id": 2, "text": "Diligence", "rank": 3, "color": 4 } });
        let set = changes_of(&event("field_value.updated", value.clone()), status_of);
        let diligence = StatusValue { text: "Diligence".into(), color: 4 };
        assert_eq!(set, [Change::Status { list_id: 10, entry_id: 5, status: Some(diligence) }]);
        let cleared = changes_of(&event("field_value.deleted", value.clone()), status_of);
        assert_eq!(cleared, [Change::Status { list_id: 10, entry_id: 5, status: None }]);
        // Another field of the list: nothing.
        assert!(changes_of(&event("field_value.updated", value), |_| None).is_empty());
        // Nonsense bodies: nothing, no panic.
        for name in ["organization.created", "organization.merged", "list_entry.created", "field_value.created"] {
            assert!(changes_of(&event(name, serde_json::json!("x")), status_of).is_empty(), "{name}");
        }
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_a_star() {
        let tag = "\"00ff\"";
        assert!(matches(Some(tag), tag));
        assert!(matches(Some("\"1\", \"00ff\""), tag));
        assert!(matches(Some("W/\"00ff\""), tag));
        assert!(matches(Some("*"), tag));
        assert!(!matches(Some("\"00fe\""), tag));
        assert!(!matches(None, tag));
    }

    #[test]
    fn a_live_card_teaches_only_what_the_index_does_not_know() {
        use lens_core::{CardStatus, Query, QueryKind};
        let mut index = Index::new();
        index.apply(Change::Organization { id: 7, name: "Acme".into(), domains: vec!["acme.test".into()] });
        let query = |d: &str| Query { kind: QueryKind::Domain, value: d.into() };
        let mut card = Card::new(query("acme.test"), CardStatus::Matched);
        card.entity = Some(lens_core::CardEntity {
            kind: lens_core::EntityKind::Organization,
            id: 7,
            name: "Acme".into(),
            domains: vec!["acme.test".into()],
            emails: vec![],
            affinity_url: None,
        });
        assert!(!would_learn(&index, &card));
        card.entity.as_mut().unwrap().name = "Acme Corp".into();
        assert!(would_learn(&index, &card));
        assert!(would_learn(&index, &Card::new(query("acme.test"), CardStatus::NotFound)));
        assert!(!would_learn(&index, &Card::new(query("globex.test"), CardStatus::NotFound)));
    }
}
