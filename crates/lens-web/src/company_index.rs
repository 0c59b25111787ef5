//! The index of the firm's companies in the extension (`lens_core::index`): kept by the
//! background, persisted in the extension's IndexedDB as bytes, restored by the next
//! worker, dropped with the key. In personal mode it is synced with the key (see
//! [`lens_core::index::SyncPolicy`]); in team mode it is the gateway's (`GET
//! {gateway}/affinity/index`, with `If-None-Match`).
//!
//! It answers a page view before any network (an unknown site costs no call at all) and
//! the content script's question "which of these links are companies the firm knows?"
//! (badges), always without a call.

use std::sync::{Arc, Mutex};

use lens_core::index::{Index, KnownCompany, Progress, domain_key};
use serde::{Deserialize, Serialize};

/// A persisted index starts with this, then the account (8 bytes), the ETag's length (2)
/// and the ETag (team mode), then the index's own bytes.
const MAGIC: &[u8; 4] = b"LIX1";

/// At most this many hosts in one `lens:links` question, each at most this long.
pub const MAX_HOSTS: usize = 2000;
const MAX_HOST_LEN: usize = 253;

/// An index as old as this answers no page view: a company created since might be missing
/// (the directory is read daily on days of use; a browser left for a long weekend reads it
/// again on the first page view, and meanwhile the live look-up answers).
pub const ANSWERS_FOR_MS: u64 = 4 * 24 * 3600 * 1000;

/// Where the index came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexSource {
    /// None yet.
    #[default]
    None,
    /// Synced with the user's key.
    Sync,
    /// The firm's gateway.
    Gateway,
}

/// The background's index and its sync.
#[derive(Debug, Default)]
pub struct IndexState {
    /// Whose index it is (the account fingerprint of the background's engine).
    pub account: u64,
    pub index: Index,
    /// A sync (or a gateway fetch) is running.
    pub syncing: bool,
    /// How the running sync goes.
    pub progress: Arc<Mutex<Option<Progress>>>,
    /// What stopped the last sync, in words.
    pub error: Option<String>,
    /// Team mode: the gateway's ETag of the index held, and when to ask again.
    pub etag: Option<String>,
    pub next_fetch_ms: u64,
    /// When the index was last fetched from the gateway (ms since the epoch).
    pub fetched_ms: u64,
}

impl IndexState {
    /// An empty index for `account`.
    pub fn new(account: u64) -> IndexState {
        IndexState { account, ..IndexState::default() }
    }

    /// The persisted form: see [`MAGIC`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let encoded = self.index.encode();
        let etag = self.etag.as_deref().unwrap_or("").as_bytes();
        let etag = &etag[..etag.len().min(1024)];
        let mut out = Vec::with_capacity(14 + etag.len() + encoded.bytes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.account.to_le_bytes());
        out.extend_from_slice(&(etag.len() as u16).to_le_bytes());
        out.extend_from_slice(etag);
        out.extend_from_slice(&encoded.bytes);
        out
    }

    /// A persisted index, if it is `account`'s and reads.
    pub fn from_bytes(bytes: &[u8], account: u64) -> Option<IndexState> {
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let (owner, rest) = rest.split_at_checked(8)?;
        if u64::from_le_bytes(owner.try_into().ok()?) != account {
            return None;
        }
        let (len, rest) = rest.split_at_checked(2)?;
        let (etag, rest) = rest.split_at_checked(usize::from(u16::from_le_bytes(len.try_into().ok()?)))?;
        let index = Index::decode(rest).ok()?;
        let etag = std::str::from_utf8(etag).ok().filter(|e| !e.is_empty()).map(str::to_owned);
        Some(IndexState { account, index, etag, ..IndexState::default() })
    }

    /// Whether it may answer a page view at `now_ms`: synced, and not too old.
    pub fn answers(&self, now_ms: u64) -> bool {
        let as_of = self.index.as_of_ms();
        as_of > 0 && now_ms.saturating_sub(as_of) <= ANSWERS_FOR_MS
    }

    /// What the options show.
    pub fn status(&self, now_ms: u64, source: IndexSource) -> IndexStatus {
        let meta = self.index.meta();
        let iso = |ms: u64| (ms > 0).then(|| lens_core::card::iso_from_ms(ms));
        let synced = match source {
            IndexSource::Gateway => self.fetched_ms,
            _ => meta.ledger.last_sync_ms,
        };
        IndexStatus {
            companies: self.index.len(),
            lists: self.index.lists().len(),
            synced_at: iso(synced),
            as_of: iso(self.index.as_of_ms()),
            calls_today: meta.ledger.calls_on(now_ms),
            syncing: self.syncing,
            progress: if self.syncing {
                self.progress.lock().ok().and_then(|p| *p).map(SyncProgress::from)
            } else {
                None
            },
            error: self.error.clone(),
            source,
        }
    }
}

/// What the options page shows of the index: "Index: 48,210 companies, 9 lists, synced
/// 10:32, 104 calls today", and how a sync goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexStatus {
    pub companies: usize,
    pub lists: usize,
    /// When the last sync ended (or the gateway's index was last fetched).
    pub synced_at: Option<String>,
    /// Up to when it is known complete.
    pub as_of: Option<String>,
    /// The index's Affinity calls today (UTC): personal mode only.
    pub calls_today: u64,
    pub syncing: bool,
    pub progress: Option<SyncProgress>,
    pub error: Option<String>,
    pub source: IndexSource,
}

/// How a sync goes (`lens_core::index::Progress`, as the options read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub organizations: usize,
    pub lists_read: usize,
    pub lists_to_read: usize,
    pub calls: u64,
}

impl From<Progress> for SyncProgress {
    fn from(p: Progress) -> SyncProgress {
        SyncProgress {
            organizations: p.organizations,
            lists_read: p.lists_read,
            lists_to_read: p.lists_to_read,
            calls: p.calls,
        }
    }
}

/// A link host the index knows: its registrable domain, the company's name, and what its
/// badge says on hover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownLink {
    pub host: String,
    pub domain: String,
    pub name: String,
    pub status: String,
}

/// What a badge (or the pill from the index) says of a company: "In Affinity · Deal
/// Pipeline: Diligence", the first list with a Status first.
pub fn status_line(companies: &[KnownCompany]) -> String {
    let [company] = companies else { return format!("Several matches in Affinity ({})", companies.len()) };
    let mut entries: Vec<_> = company.lists.iter().collect();
    entries.sort_by_key(|e| e.status.is_none());
    match entries.first() {
        Some(e) => match &e.status {
            Some(s) => format!("{} · {}: {}", company.name, e.list_name, s.text),
            None => format!("{} · {}", company.name, e.list_name),
        },
        None => format!("{} · in Affinity", company.name),
    }
}

/// The hosts (of a page's links) whose registrable domain the index knows, but not the
/// page's own site: each link host once, at most [`MAX_HOSTS`].
pub fn known_links(index: &Index, hosts: &[String], page_site: Option<&str>) -> Vec<KnownLink> {
    let mut out: Vec<KnownLink> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for host in hosts.iter().take(MAX_HOSTS) {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() || host.len() > MAX_HOST_LEN || !host.contains('.') || !seen.insert(host.clone()) {
            continue;
        }
        let domain = domain_key(&host);
        // A free-mail provider is nobody's company (an organization may still list it, by
        // mistake: every sender at gmail.com would look known).
        if Some(domain.as_str()) == page_site || lens_core::mail::is_free_mail(&domain) || !index.knows_domain(&domain)
        {
            continue;
        }
        let found = index.lookup_domain(&domain);
        let name = match found.as_slice() {
            [one] => one.name.clone(),
            _ => domain.clone(),
        };
        out.push(KnownLink { host, domain, name, status: status_line(&found) });
    }
    out
}

/// The gateway's index: `GET {gateway}/affinity/index`.
pub fn index_url(gateway: &str) -> String {
    let base = gateway.trim_end_matches('/');
    let base = base.strip_suffix("/affinity").unwrap_or(base);
    format!("{base}/affinity/index")
}

/// An answer with a binary body (the host fetches it: the client's transport reads text).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BytesResponse {
    pub status: u16,
    pub etag: Option<String>,
    /// `Retry-After` in seconds.
    pub retry_after: Option<u64>,
    pub bytes: Vec<u8>,
}

/// What the gateway's answer means for the index held.
#[derive(Debug)]
pub enum GatewayIndex {
    /// 200: a new index (and its ETag).
    New(Box<Index>, Option<String>),
    /// 304: the one held is current.
    Unchanged,
    /// Ask again after this long (ms): 503 before the gateway's first sync, 429, an error.
    Later(u64, String),
}

/// Reads the gateway's answer.
pub fn read_gateway_index(response: Option<BytesResponse>) -> GatewayIndex {
    const MINUTE: u64 = 60_000;
    let Some(r) = response else { return GatewayIndex::Later(MINUTE, "the gateway could not be reached".into()) };
    let wait = r.retry_after.map(|s| s.clamp(1, 3600) * 1000);
    match r.status {
        200 => match Index::decode(&r.bytes) {
            Ok(index) => GatewayIndex::New(Box::new(index), r.etag),
            Err(e) => GatewayIndex::Later(10 * MINUTE, format!("the gateway's index does not read ({e})")),
        },
        304 => GatewayIndex::Unchanged,
        503 => GatewayIndex::Later(wait.unwrap_or(MINUTE), "the gateway has no index yet".into()),
        401 | 403 => GatewayIndex::Later(10 * MINUTE, format!("the gateway refused the index ({})", r.status)),
        404 => GatewayIndex::Later(60 * MINUTE, "this gateway serves no index".into()),
        s => GatewayIndex::Later(wait.unwrap_or(MINUTE), format!("the gateway answered {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lens_core::index::Change;

    fn index() -> Index {
        let mut index = Index::default();
        index.apply(Change::List { id: 10, name: "Deal Pipeline".into(), public: true });
        index.apply(Change::Organization { id: 7, name: "Acme".into(), domains: vec!["acme.com".into()] });
        index.apply(Change::Organization { id: 8, name: "Globex".into(), domains: vec!["globex.co.uk".into()] });
        index.apply(Change::EntryAdded { list_id: 10, entry_id: 70, organization_id: 7 });
        index
    }

    #[test]
    fn a_persisted_index_is_its_accounts_only() {
        let state = IndexState { account: 5, index: index(), etag: Some("\"abc\"".into()), ..IndexState::default() };
        let bytes = state.to_bytes();
        let again = IndexState::from_bytes(&bytes, 5).unwrap();
        assert_eq!(again.index, state.index);
        assert_eq!(again.etag.as_deref(), Some("\"abc\""));
        assert!(IndexState::from_bytes(&bytes, 6).is_none(), "another key's index is not restored");
        assert!(IndexState::from_bytes(&bytes[..20], 5).is_none());
        assert!(IndexState::from_bytes(b"nonsense", 5).is_none());
    }

    #[test]
    fn links_known_to_the_index_are_named_by_registrable_domain_but_not_the_pages_own() {
        let hosts: Vec<String> =
            ["www.acme.com", "shop.globex.co.uk", "news.ycombinator.com", "acme.com", "ACME.com", "x"]
                .into_iter()
                .map(String::from)
                .collect();
        let known = known_links(&index(), &hosts, Some("example.org"));
        let domains: Vec<(&str, &str)> = known.iter().map(|k| (k.host.as_str(), k.domain.as_str())).collect();
        assert_eq!(
            domains,
            vec![("www.acme.com", "acme.com"), ("shop.globex.co.uk", "globex.co.uk"), ("acme.com", "acme.com")]
        );
        assert_eq!(known[0].status, "Acme · Deal Pipeline");
        assert_eq!(known[1].status, "Globex · in Affinity");
        // On acme.com itself, its own links are not badged.
        let own = known_links(&index(), &hosts, Some("acme.com"));
        assert_eq!(own.len(), 1);
    }

    #[test]
    fn the_gateways_answers() {
        let bytes = index().encode().bytes;
        let ok = BytesResponse { status: 200, etag: Some("\"e1\"".into()), retry_after: None, bytes };
        assert!(matches!(read_gateway_index(Some(ok)), GatewayIndex::New(i, Some(e)) if i.len() == 2 && e == "\"e1\""));
        let same = BytesResponse { status: 304, ..BytesResponse::default() };
        assert!(matches!(read_gateway_index(Some(same)), GatewayIndex::Unchanged));
        let early = BytesResponse { status: 503, retry_after: Some(7), ..BytesResponse::default() };
        assert!(matches!(read_gateway_index(Some(early)), GatewayIndex::Later(7000, _)));
        let junk = BytesResponse { status: 200, bytes: b"junk".to_vec(), ..BytesResponse::default() };
        assert!(matches!(read_gateway_index(Some(junk)), GatewayIndex::Later(..)));
        assert_eq!(index_url("https://gw.example/affinity/"), "https://gw.example/affinity/index");
    }
}
