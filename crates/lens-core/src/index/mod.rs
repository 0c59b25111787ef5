//! The index of the firm's companies, on this machine: every organization (id, name, every
//! domain) and, for every organization list it is on, the entry and its Status where
//! known. It answers a page before any network: "not in Affinity" for a site the firm does
//! not know (no call at all), "in Affinity · Deal Pipeline: Diligence" for one it does.
//!
//! - Looked up by registrable domain ([`Index::lookup_domain`]: any of an organization's
//!   domains, public-suffix aware, so `www.shop.acme.co.uk` finds `acme.co.uk`; a domain
//!   on two organizations answers both) and by normalised name ([`Index::lookup_name`]),
//!   each in microseconds; [`Index::answer`] makes the Card of a domain from it.
//! - Kept up to date by [`sync`] (the directory and the lists, under a [`SyncPolicy`]) and
//!   by [`Change`]s ([`Index::apply`]: webhooks, a company created from the card) and live
//!   cards ([`Index::learn_card`]: the live answer always wins).
//! - Persisted compactly ([`Index::encode`], postcard: about 30 bytes an organization),
//!   with a content [`Encoded::etag`] and a [`IndexMeta::revision`] that grows with every
//!   change; [`Index::public_only`] is what a gateway may serve (no private list).
//!
//! ```
//! use lens_core::index::{Change, Index};
//! let mut index = Index::default();
//! index.apply(Change::List { id: 10, name: "Deal Pipeline".into(), public: true });
//! index.apply(Change::Organization { id: 7, name: "Acme Corp".into(), domains: vec!["acme.com".into()] });
//! index.apply(Change::EntryAdded { list_id: 10, entry_id: 70, organization_id: 7 });
//! let found = index.lookup_domain("www.acme.com");
//! assert_eq!(found[0].lists[0].list_name, "Deal Pipeline");
//! assert!(index.lookup_domain("globex.com").is_empty());
//! assert_eq!(index.lookup_name("ACME corporation")[0].id, 7);
//! ```

mod changes;
pub mod policy;
mod postings;
mod store;
pub mod sync;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

pub use crate::card::StatusValue;
use crate::card::{Card, CardEntity, CardListEntry, CardSource, CardStatus, EntityKind, MatchBasis, Query, QueryKind};
use postings::{Postings, hash};

pub use changes::Change;
pub use policy::{ListRead, SyncLedger, SyncPlan, SyncPolicy};
pub use store::{DecodeError, Encoded};
pub use sync::{Progress, SyncOutcome, SyncReport, sync, sync_index};

/// A list of organizations the index knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedList {
    /// The list's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether everyone on the team can see it: a gateway serves the others to nobody
    /// ([`Index::public_only`]).
    pub public: bool,
    /// The v1 id of its Status field, if it has one.
    pub status_field: Option<i64>,
    /// Its size when its entries were last read (`list_size` of `GET /lists`).
    pub size: u64,
    /// When its entries were last read (ms since the epoch; 0: never).
    pub read_ms: u64,
    /// When its entries were last read with their Status (0: never).
    pub status_read_ms: u64,
    /// The Status values its entries refer to (by position).
    pub(crate) statuses: Vec<StatusValue>,
}

impl IndexedList {
    /// A list whose entries were never read.
    pub fn new(id: i64, name: impl Into<String>, public: bool) -> IndexedList {
        IndexedList {
            id,
            name: name.into(),
            public,
            status_field: None,
            size: 0,
            read_ms: 0,
            status_read_ms: 0,
            statuses: Vec::new(),
        }
    }

    /// The position of `status` in the list's table, added if new.
    fn status_slot(&mut self, status: &StatusValue) -> u16 {
        match self.statuses.iter().position(|s| s == status) {
            Some(i) => i as u16,
            None => {
                self.statuses.push(status.clone());
                (self.statuses.len() - 1).min(u16::MAX as usize) as u16
            }
        }
    }
}

/// An organization as the index holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Org {
    pub(crate) id: i64,
    pub(crate) name: Box<str>,
    /// Lower-case, as Affinity has them.
    pub(crate) domains: Box<[Box<str>]>,
    pub(crate) entries: Vec<Entry>,
}

/// One entry of an organization on a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) list_id: i64,
    pub(crate) entry_id: i64,
    /// Its Status in the list's table, where known.
    pub(crate) status: Option<u16>,
}

/// What the index knows of its own freshness, and the sync's ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Grows with every change of what the index holds (never goes back).
    pub revision: u64,
    /// When the whole directory was last read (ms since the epoch; 0: never).
    pub directory_ms: u64,
    /// A later time its owner vouches for (a gateway whose webhooks flow): see
    /// [`Index::vouch`].
    pub vouched_ms: u64,
    /// What the sync spent and when it last looked (see [`SyncPolicy`]).
    pub ledger: SyncLedger,
}

/// An organization the index knows, with the lists it is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownCompany {
    /// The organization's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Every domain it has in Affinity.
    pub domains: Vec<String>,
    /// Its entries on the lists the index holds, by list id.
    pub lists: Vec<KnownEntry>,
}

/// An organization's entry on a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownEntry {
    /// The list's id.
    pub list_id: i64,
    /// The list's name.
    pub list_name: String,
    /// Whether everyone on the team can see the list.
    pub public: bool,
    /// The entry's id.
    pub entry_id: i64,
    /// Its Status, where known (`None`: the list has none, or it was not read).
    pub status: Option<StatusValue>,
}

/// Every organization of the firm (see the module's documentation). Cheap to look up in,
/// and `Send + Sync`: a gateway shares one behind a lock.
#[derive(Debug, Default)]
pub struct Index {
    meta: IndexMeta,
    /// By id.
    lists: Vec<IndexedList>,
    /// By id.
    orgs: Vec<Org>,
    /// Registrable domain → organizations.
    domains: Postings,
    /// Normalised name → organizations.
    names: Postings,
    /// The content's hash, once computed (0: not yet, or changed since).
    etag: AtomicU64,
}

impl Clone for Index {
    fn clone(&self) -> Index {
        Index {
            meta: self.meta.clone(),
            lists: self.lists.clone(),
            orgs: self.orgs.clone(),
            domains: self.domains.clone(),
            names: self.names.clone(),
            etag: AtomicU64::new(self.etag.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Index {
    /// The same content and meta.
    fn eq(&self, other: &Index) -> bool {
        self.meta == other.meta && self.lists == other.lists && self.orgs == other.orgs
    }
}

/// The key an organization's domain, or a page's host, is filed under: its registrable
/// domain (public-suffix aware), else the name itself, lower-case.
pub fn domain_key(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.');
    // Most domains are a name and a one-label suffix (`acme.com`): their own registrable
    // domain whatever the list says (`*` makes any last label a suffix), without parsing.
    let simple = d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && d.bytes().filter(|b| *b == b'.').count() == 1
        && !d.starts_with('.')
        && !d.ends_with('.');
    if simple {
        return d.to_owned();
    }
    crate::page::registrable_domain(d).unwrap_or_else(|| d.to_lowercase())
}

/// The key a name is filed under: letters and digits, lower-case, without a legal form
/// ("Acme, Inc." and "ACME" are both `acme`).
pub fn name_key(name: &str) -> String {
    crate::page::company_key(name)
}

impl Index {
    /// An empty index.
    pub fn new() -> Index {
        Index::default()
    }

    /// How many organizations it holds.
    pub fn len(&self) -> usize {
        self.orgs.len()
    }

    /// Whether it holds no organization.
    pub fn is_empty(&self) -> bool {
        self.orgs.is_empty()
    }

    /// The lists it holds, by id.
    pub fn lists(&self) -> &[IndexedList] {
        &self.lists
    }

    /// The list with this id.
    pub fn list(&self, id: i64) -> Option<&IndexedList> {
        self.lists.binary_search_by_key(&id, |l| l.id).ok().map(|i| &self.lists[i])
    }

    /// Its freshness and the sync's ledger.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Grows with every change.
    pub fn revision(&self) -> u64 {
        self.meta.revision
    }

    /// The time up to which it is known complete (ms since the epoch; 0: never synced):
    /// when the directory was last read, or later if its owner vouched for it.
    pub fn as_of_ms(&self) -> u64 {
        self.meta.directory_ms.max(self.meta.vouched_ms)
    }

    /// Vouches that the index is complete at `now_ms`: for an owner that keeps it up to
    /// date from webhooks, and knows they arrive. Not a change of content.
    pub fn vouch(&mut self, now_ms: u64) {
        self.meta.vouched_ms = self.meta.vouched_ms.max(now_ms);
    }

    /// Makes every time the index keeps `by_ms` older (its reads, its ledger): for
    /// simulations of days of use and for tests. A shift of a day or more starts a new day
    /// for the day's calls; a shorter one leaves them on the day they were.
    pub fn age_by(&mut self, by_ms: u64) {
        let older = |t: &mut u64| *t = t.saturating_sub(by_ms);
        let meta = &mut self.meta;
        for t in [&mut meta.directory_ms, &mut meta.vouched_ms] {
            older(t);
        }
        let ledger = &mut meta.ledger;
        for t in [&mut ledger.lists_checked_ms, &mut ledger.last_sync_ms, &mut ledger.v2_checked_ms] {
            older(t);
        }
        ledger.day = ledger.day.saturating_sub(by_ms / (24 * 3600 * 1000));
        for l in &mut self.lists {
            older(&mut l.read_ms);
            older(&mut l.status_read_ms);
        }
    }

    fn org_at(&self, id: i64) -> Result<usize, usize> {
        self.orgs.binary_search_by_key(&id, |o| o.id)
    }

    fn known(&self, org: &Org) -> KnownCompany {
        let mut lists: Vec<KnownEntry> = org
            .entries
            .iter()
            .filter_map(|e| {
                let list = self.list(e.list_id)?;
                Some(KnownEntry {
                    list_id: list.id,
                    list_name: list.name.clone(),
                    public: list.public,
                    entry_id: e.entry_id,
                    status: e.status.and_then(|s| list.statuses.get(usize::from(s)).cloned()),
                })
            })
            .collect();
        lists.sort_by_key(|e| (e.list_id, e.entry_id));
        KnownCompany {
            id: org.id,
            name: org.name.to_string(),
            domains: org.domains.iter().map(|d| d.to_string()).collect(),
            lists,
        }
    }

    /// The ids of every organization it holds, in order.
    pub fn organization_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.orgs.iter().map(|o| o.id)
    }

    /// The organization with this id.
    pub fn company(&self, id: i64) -> Option<KnownCompany> {
        self.org_at(id).ok().map(|i| self.known(&self.orgs[i]))
    }

    /// The organizations one of whose domains has the registrable domain of `domain` (a
    /// host name or a domain: `www.acme.com`, `acme.com`), by id. Empty when the firm does
    /// not know it.
    pub fn lookup_domain(&self, domain: &str) -> Vec<KnownCompany> {
        self.ids_at(domain).filter_map(|id| self.company(id)).collect()
    }

    /// Whether any organization has the registrable domain of `domain` (no allocation of
    /// answers: for badging a page's links).
    pub fn knows_domain(&self, domain: &str) -> bool {
        self.ids_at(domain).next().is_some()
    }

    fn ids_at(&self, domain: &str) -> impl Iterator<Item = i64> + '_ {
        let key = domain_key(domain);
        let candidates = self.domains.ids(hash(&key));
        candidates.filter(move |id| {
            // Checked, not trusted to the hash.
            self.org_at(*id).is_ok_and(|i| self.orgs[i].domains.iter().any(|d| domain_key(d) == key))
        })
    }

    /// The organizations whose normalised name is that of `name` ([`name_key`]), by id.
    pub fn lookup_name(&self, name: &str) -> Vec<KnownCompany> {
        let key = name_key(name);
        if key.is_empty() {
            return Vec::new();
        }
        let ids = self.names.ids(hash(&key));
        ids.filter_map(|id| self.org_at(id).ok().map(|i| &self.orgs[i]))
            .filter(|o| name_key(&o.name) == key)
            .map(|o| self.known(o))
            .collect()
    }

    /// At most `limit` organizations whose normalised name, or one of whose domains, starts
    /// with what the user typed (a card's company picker: no call). Names that start with it
    /// come first, then shorter names; empty for a query with no letter or digit.
    pub fn search(&self, typed: &str, limit: usize) -> Vec<KnownCompany> {
        let key = name_key(typed);
        let domain = typed.trim().to_lowercase();
        if key.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut found: Vec<(bool, usize, &Org)> = self
            .orgs
            .iter()
            .filter_map(|o| {
                let by_name = name_key(&o.name).starts_with(&key);
                let by_domain = || o.domains.iter().any(|d| d.starts_with(domain.as_str()));
                (by_name || by_domain()).then_some((!by_name, o.name.len(), o))
            })
            .collect();
        found.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
        found.into_iter().take(limit).map(|(_, _, o)| self.known(o)).collect()
    }

    /// The Card the index gives for `query`, before any network: for a domain, `matched`
    /// (with its lists and their Status), `ambiguous` (several organizations have it) or
    /// `not_found`; for an organization id, `matched` or `None`. `None` for other queries,
    /// and for an index never synced. The card says it is from the index (`source`) and as
    /// of when (`fetched_at`); it has no connections or activity (the live look-up does).
    pub fn answer(&self, query: &Query) -> Option<Card> {
        if self.as_of_ms() == 0 {
            return None;
        }
        let found = match query.kind {
            QueryKind::Domain => self.lookup_domain(&query.value),
            QueryKind::OrganizationId => self.company(query.value.parse().ok()?).into_iter().collect(),
            _ => return None,
        };
        let mut card = Card::new(query.clone(), CardStatus::NotFound);
        card.source = CardSource::Index;
        card.fetched_at = crate::card::iso_from_ms(self.as_of_ms());
        match found.as_slice() {
            [] if query.kind == QueryKind::OrganizationId => return None,
            [] => {}
            [one] => {
                card.status = CardStatus::Matched;
                card.entity = Some(entity(one));
                card.lists = one.lists.iter().map(list_entry).collect();
                card.matched_on =
                    Some(if query.kind == QueryKind::Domain { MatchBasis::Domain } else { MatchBasis::Id });
            }
            many => {
                card.status = CardStatus::Ambiguous;
                card.candidates = many.iter().map(entity).collect();
            }
        }
        Some(card)
    }

    /// The same index without the lists that are not public and their entries: what a
    /// gateway may serve its callers (as its cards leave private lists out). The sync's
    /// ledger is left out too.
    pub fn public_only(&self) -> Index {
        let lists: Vec<IndexedList> = self.lists.iter().filter(|l| l.public).cloned().collect();
        let orgs = self
            .orgs
            .iter()
            .map(|o| {
                let entries = o.entries.iter().filter(|e| lists.iter().any(|l| l.id == e.list_id)).copied().collect();
                Org { entries, ..o.clone() }
            })
            .collect();
        let meta = IndexMeta { ledger: SyncLedger::default(), ..self.meta.clone() };
        Index { meta, lists, orgs, domains: self.domains.clone(), names: self.names.clone(), etag: AtomicU64::new(0) }
    }

    /// Rebuilds the look-up tables from the organizations (after a bulk change).
    fn reindex(&mut self) {
        let mut domains = Vec::with_capacity(self.orgs.len() * 5 / 4);
        let mut names = Vec::with_capacity(self.orgs.len());
        for o in &self.orgs {
            domains.extend(o.domains.iter().map(|d| (hash(&domain_key(d)), o.id)));
            let key = name_key(&o.name);
            if !key.is_empty() {
                names.push((hash(&key), o.id));
            }
        }
        self.domains = Postings::build(domains);
        self.names = Postings::build(names);
    }

    /// Marks a change of content: a new revision, and the ETag to compute again.
    fn changed(&mut self) {
        self.meta.revision += 1;
        self.etag.store(0, Ordering::Relaxed);
    }
}

fn entity(c: &KnownCompany) -> CardEntity {
    CardEntity {
        kind: EntityKind::Organization,
        id: c.id,
        name: c.name.clone(),
        domains: c.domains.clone(),
        emails: Vec::new(),
        affinity_url: None,
    }
}

fn list_entry(e: &KnownEntry) -> CardListEntry {
    CardListEntry {
        list_id: e.list_id,
        list_name: e.list_name.clone(),
        entry_id: e.entry_id,
        added_at: None,
        status: e.status.clone(),
        status_since: None,
        owners: Vec::new(),
        amount: None,
    }
}

/// Lower-case, trimmed, without a trailing dot; empty ones and repeats left out.
pub(crate) fn clean_domains<'a>(domains: impl IntoIterator<Item = &'a str>) -> Box<[Box<str>]> {
    let mut out: Vec<Box<str>> = Vec::new();
    for d in domains {
        let d = d.trim().trim_end_matches('.').to_lowercase();
        if !d.is_empty() && !out.iter().any(|o| **o == *d) {
            out.push(d.into());
        }
    }
    out.into_boxed_slice()
}
