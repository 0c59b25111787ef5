//! The index as bytes: one format byte, then postcard (serde, varints) of the meta and the
//! lists' read times, then postcard of the content: the lists (id, name, public, Status
//! field and values), the domains' suffixes (what follows a domain's first label: `com`,
//! `co.uk`, …) and the organizations by id, each id as its distance from the one before,
//! with its name, domains and entries. A domain is its first label (or nothing, when the
//! label is the name's letters: `acme` for "Acme") and its suffix's position. About 25
//! bytes an organization.
//!
//! The ETag is a hash of the content's bytes: the same organizations and lists give the
//! same ETag whenever and wherever they were read (two replicas of a gateway agree), and
//! a sync that found nothing new leaves it as it was.
//!
//! Bytes from elsewhere (a gateway's answer, a file) are checked: a wrong format, bytes
//! that do not decode, or a table out of order is an error, never a panic.

use serde::{Deserialize, Serialize};

use super::postings::hash_bytes;
use super::{Entry, Index, IndexMeta, IndexedList, Org, StatusValue};

/// The format byte; another one is refused (and the index synced again).
const FORMAT: u8 = 2;

/// An encoded index and its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// What to store or serve.
    pub bytes: Vec<u8>,
    /// A strong ETag of the content (quoted, as the header wants it).
    pub etag: String,
}

/// Why bytes are not an index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Another format (or nothing).
    #[error("not an index of format {FORMAT} (format byte {0:?})")]
    Format(Option<u8>),
    /// The bytes do not decode.
    #[error("the index does not decode: {0}")]
    Bytes(String),
    /// It decodes but does not hold together (ids out of order, say).
    #[error("the index does not hold together: {0}")]
    Inconsistent(&'static str),
}

/// A list's content (what the ETag covers).
#[derive(Serialize, Deserialize)]
struct ListContent<'a> {
    id: i64,
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    public: bool,
    status_field: Option<i64>,
    statuses: std::borrow::Cow<'a, [StatusValue]>,
}

/// A list's bookkeeping: size when read, when read, when read with Status.
type ListReads = (u64, u64, u64);

/// An organization: its id's distance from the previous one's, name, domains, entries
/// (the list's position in the lists, the entry's id, the Status's position plus one or 0).
/// A domain: its first label (`None`: the name's letters) and its suffix's position.
type DomainOut<'a> = (Option<&'a str>, u32);

#[derive(Serialize)]
struct OrgOut<'a> {
    id_step: u64,
    name: &'a str,
    domains: Vec<DomainOut<'a>>,
    entries: Vec<(u32, i64, u32)>,
}

#[derive(Deserialize)]
struct OrgIn<'a> {
    id_step: u64,
    name: Box<str>,
    #[serde(borrow)]
    domains: Vec<(Option<&'a str>, u32)>,
    entries: Vec<(u32, i64, u32)>,
}

#[derive(Serialize)]
struct ContentOut<'a> {
    lists: Vec<ListContent<'a>>,
    suffixes: Vec<&'a str>,
    orgs: Vec<OrgOut<'a>>,
}

#[derive(Deserialize)]
struct ContentIn<'a> {
    #[serde(borrow)]
    lists: Vec<ListContent<'a>>,
    #[serde(borrow)]
    suffixes: Vec<&'a str>,
    #[serde(borrow)]
    orgs: Vec<OrgIn<'a>>,
}

/// A name's letters and digits, lower-case: the first label of most companies' domains.
fn letters(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A domain's first label and the rest (`acme`, `co.uk`); a domain without a dot is all
/// label.
fn split(domain: &str) -> (&str, &str) {
    domain.split_once('.').unwrap_or((domain, ""))
}

impl Index {
    /// The bytes of what the index holds (lists and organizations), hashed for the ETag.
    fn content_bytes(&self) -> Vec<u8> {
        let position = |list_id: i64| self.lists.binary_search_by_key(&list_id, |l| l.id).ok();
        let lists = self
            .lists
            .iter()
            .map(|l| ListContent {
                id: l.id,
                name: l.name.as_str().into(),
                public: l.public,
                status_field: l.status_field,
                statuses: l.statuses.as_slice().into(),
            })
            .collect();
        let mut suffixes: Vec<&str> = Vec::new();
        let mut suffix_at: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut previous = 0i64;
        let orgs = self
            .orgs
            .iter()
            .map(|o| {
                let id_step = o.id.wrapping_sub(previous) as u64;
                previous = o.id;
                let entries = o
                    .entries
                    .iter()
                    .filter_map(|e| {
                        Some((position(e.list_id)? as u32, e.entry_id, e.status.map_or(0, |s| u32::from(s) + 1)))
                    })
                    .collect();
                let own = letters(&o.name);
                let domains = o
                    .domains
                    .iter()
                    .map(|d| {
                        let (label, suffix) = split(d);
                        let at = *suffix_at.entry(suffix).or_insert_with(|| {
                            suffixes.push(suffix);
                            suffixes.len() as u32 - 1
                        });
                        ((label != own).then_some(label), at)
                    })
                    .collect();
                OrgOut { id_step, name: &o.name, domains, entries }
            })
            .collect();
        postcard::to_allocvec(&ContentOut { lists, suffixes, orgs }).expect("an index encodes (into memory)")
    }

    /// The index as bytes, with the ETag of its content.
    pub fn encode(&self) -> Encoded {
        let content = self.content_bytes();
        let etag = hash_bytes(&content).max(1);
        self.etag.store(etag, std::sync::atomic::Ordering::Relaxed);
        let reads: Vec<ListReads> = self.lists.iter().map(|l| (l.size, l.read_ms, l.status_read_ms)).collect();
        let mut bytes = vec![FORMAT];
        bytes.extend(postcard::to_allocvec(&(&self.meta, reads)).expect("an index encodes (into memory)"));
        bytes.extend(content);
        Encoded { bytes, etag: quoted(etag) }
    }

    /// A strong ETag of what the index holds (the same as [`Encoded::etag`]); computed
    /// once a change.
    pub fn etag(&self) -> String {
        let known = self.etag.load(std::sync::atomic::Ordering::Relaxed);
        if known != 0 {
            return quoted(known);
        }
        let etag = hash_bytes(&self.content_bytes()).max(1);
        self.etag.store(etag, std::sync::atomic::Ordering::Relaxed);
        quoted(etag)
    }

    /// The index these bytes hold.
    pub fn decode(bytes: &[u8]) -> Result<Index, DecodeError> {
        let (&format, rest) = bytes.split_first().ok_or(DecodeError::Format(None))?;
        if format != FORMAT {
            return Err(DecodeError::Format(Some(format)));
        }
        let bad = |e: postcard::Error| DecodeError::Bytes(e.to_string());
        let ((meta, reads), rest): ((IndexMeta, Vec<ListReads>), &[u8]) =
            postcard::take_from_bytes(rest).map_err(bad)?;
        let content: ContentIn<'_> = postcard::from_bytes(rest).map_err(bad)?;
        let lists = read_lists(content.lists, &reads)?;
        let orgs = read_orgs(content.orgs, &content.suffixes, &lists)?;
        let mut index = Index { meta, lists, orgs, ..Index::default() };
        index.reindex();
        Ok(index)
    }
}

fn quoted(etag: u64) -> String {
    format!("\"{etag:016x}\"")
}

fn read_lists(lists: Vec<ListContent<'_>>, reads: &[ListReads]) -> Result<Vec<IndexedList>, DecodeError> {
    if reads.len() != lists.len() {
        return Err(DecodeError::Inconsistent("lists and their read times differ in number"));
    }
    if lists.windows(2).any(|w| w[0].id >= w[1].id) {
        return Err(DecodeError::Inconsistent("lists out of order"));
    }
    Ok(lists
        .into_iter()
        .zip(reads)
        .map(|(l, &(size, read_ms, status_read_ms))| IndexedList {
            id: l.id,
            name: l.name.into_owned(),
            public: l.public,
            status_field: l.status_field,
            size,
            read_ms,
            status_read_ms,
            statuses: l.statuses.into_owned(),
        })
        .collect())
}

fn read_orgs(orgs: Vec<OrgIn<'_>>, suffixes: &[&str], lists: &[IndexedList]) -> Result<Vec<Org>, DecodeError> {
    let mut out = Vec::with_capacity(orgs.len());
    let mut previous: Option<i64> = None;
    for o in orgs {
        let id = match previous {
            None => o.id_step as i64,
            Some(p) if o.id_step > 0 => {
                p.checked_add_unsigned(o.id_step).ok_or(DecodeError::Inconsistent("an id overflows"))?
            }
            Some(_) => return Err(DecodeError::Inconsistent("organizations out of order")),
        };
        previous = Some(id);
        let mut entries = Vec::with_capacity(o.entries.len());
        for (position, entry_id, status) in o.entries {
            let list = lists.get(position as usize).ok_or(DecodeError::Inconsistent("an entry on no list"))?;
            let status = status.checked_sub(1).filter(|s| (*s as usize) < list.statuses.len()).map(|s| s as u16);
            entries.push(Entry { list_id: list.id, entry_id, status });
        }
        let own = letters(&o.name);
        let mut domains = Vec::with_capacity(o.domains.len());
        for (label, suffix) in o.domains {
            let suffix =
                suffixes.get(suffix as usize).ok_or(DecodeError::Inconsistent("a domain without its suffix"))?;
            let label = label.unwrap_or(&own);
            domains.push(if suffix.is_empty() { label.into() } else { format!("{label}.{suffix}").into_boxed_str() });
        }
        out.push(Org { id, name: o.name, domains: domains.into_boxed_slice(), entries });
    }
    Ok(out)
}
