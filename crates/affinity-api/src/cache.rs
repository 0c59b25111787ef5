//! The response cache: fresh answers are served without a request; stale ones (past
//! `fresh_for`, within `stale_for`) only when Affinity cannot be reached. The store is a
//! trait: in memory here; an application may keep it in browser storage, or share one
//! between processes.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use web_time::Duration;

use crate::transport::{MaybeSend, MaybeSync};

/// A cached answer body and when it was stored (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The response body, as received.
    pub body: String,
    /// When it was stored, in milliseconds since the epoch.
    pub stored_at_ms: u64,
}

/// Where cached answers live. Keys are request URLs (never the API key).
pub trait CacheStore: MaybeSend + MaybeSync + 'static {
    /// The entry for `key`, if any.
    fn get(&self, key: &str) -> Option<CacheEntry>;
    /// Stores or replaces the entry for `key`.
    fn put(&self, key: &str, entry: CacheEntry);
    /// Forgets everything (after a write, or when the key changes).
    fn clear(&self);
    /// Forgets one entry (an answer that a webhook says has changed).
    fn remove(&self, key: &str);
    /// The keys held, for finding the ones an event touches.
    fn keys(&self) -> Vec<String>;
}

/// How long answers stay fresh, and how long a stale one may stand in for an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// How long after it was stored an answer is served without a request.
    pub fresh_for: Duration,
    /// How long after it was stored an answer may still stand in when Affinity cannot be
    /// reached.
    pub stale_for: Duration,
}

impl Default for CachePolicy {
    /// Fresh for 5 minutes, shown as stale for 3 days.
    fn default() -> Self {
        CachePolicy { fresh_for: Duration::from_secs(5 * 60), stale_for: Duration::from_secs(3 * 24 * 3600) }
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Just fetched.
    Network,
    /// From the cache, within `fresh_for`.
    Fresh,
    /// From the cache, past `fresh_for`, because Affinity could not be reached.
    Stale,
}

/// An in-memory store bounded in entries and in bytes (keys plus bodies); the oldest
/// entries go first, in O(log n).
#[derive(Debug)]
pub struct MemoryCache {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, (CacheEntry, u64)>,
    /// (stored_at_ms, sequence) → key: the eviction order.
    order: std::collections::BTreeMap<(u64, u64), String>,
    bytes: usize,
    next_seq: u64,
}

impl Entries {
    fn remove(&mut self, key: &str) {
        if let Some((entry, seq)) = self.map.remove(key) {
            self.order.remove(&(entry.stored_at_ms, seq));
            self.bytes -= key.len() + entry.body.len();
        }
    }
}

impl MemoryCache {
    /// A store of at most `capacity` entries (and 64 MiB).
    pub fn new(capacity: usize) -> Self {
        MemoryCache::bounded(capacity, 64 << 20)
    }

    /// A store of at most `capacity` entries and `max_bytes` of keys and bodies.
    pub fn bounded(capacity: usize, max_bytes: usize) -> Self {
        MemoryCache { capacity: capacity.max(1), max_bytes, inner: Mutex::new(Entries::default()) }
    }

    /// All entries, to persist.
    pub fn snapshot(&self) -> HashMap<String, CacheEntry> {
        let inner = self.inner.lock().expect("cache lock");
        inner.map.iter().map(|(k, (e, _))| (k.clone(), e.clone())).collect()
    }

    /// Adds persisted entries back.
    pub fn restore(&self, entries: HashMap<String, CacheEntry>) {
        for (k, v) in entries {
            self.put(&k, v);
        }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("cache lock").map.len()
    }

    /// How many bytes of keys and bodies are held.
    pub fn bytes(&self) -> usize {
        self.inner.lock().expect("cache lock").bytes
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new(2000)
    }
}

impl CacheStore for MemoryCache {
    fn get(&self, key: &str) -> Option<CacheEntry> {
        self.inner.lock().expect("cache lock").map.get(key).map(|(e, _)| e.clone())
    }

    fn put(&self, key: &str, entry: CacheEntry) {
        let size = key.len() + entry.body.len();
        let mut inner = self.inner.lock().expect("cache lock");
        inner.remove(key);
        if size > self.max_bytes {
            return; // larger than the whole store: not kept
        }
        while inner.map.len() >= self.capacity || inner.bytes + size > self.max_bytes {
            let Some((_, oldest)) = inner.order.pop_first() else { break };
            if let Some((e, _)) = inner.map.remove(&oldest) {
                inner.bytes -= oldest.len() + e.body.len();
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.order.insert((entry.stored_at_ms, seq), key.to_owned());
        inner.bytes += size;
        inner.map.insert(key.to_owned(), (entry, seq));
    }

    fn clear(&self) {
        *self.inner.lock().expect("cache lock") = Entries::default();
    }

    fn remove(&self, key: &str) {
        self.inner.lock().expect("cache lock").remove(key);
    }

    fn keys(&self) -> Vec<String> {
        self.inner.lock().expect("cache lock").map.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_drops_its_oldest_entry() {
        let cache = MemoryCache::new(2);
        cache.put("a", CacheEntry { body: "1".into(), stored_at_ms: 1 });
        cache.put("b", CacheEntry { body: "2".into(), stored_at_ms: 2 });
        cache.put("c", CacheEntry { body: "3".into(), stored_at_ms: 3 });
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("c").unwrap().body, "3");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_store_full_in_bytes_drops_its_oldest_entries_and_never_keeps_more() {
        let cache = MemoryCache::bounded(100, 30);
        for (i, key) in ["a", "b", "c", "d"].iter().enumerate() {
            cache.put(key, CacheEntry { body: "x".repeat(9), stored_at_ms: i as u64 });
            assert!(cache.bytes() <= 30);
        }
        // Each entry is 10 bytes: three fit, the oldest went.
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.len(), 3);
        // Replacing an entry does not count it twice; one larger than the store is not kept.
        cache.put("d", CacheEntry { body: "y".repeat(9), stored_at_ms: 9 });
        assert_eq!(cache.bytes(), 30);
        cache.put("huge", CacheEntry { body: "z".repeat(100), stored_at_ms: 10 });
        assert_eq!(cache.get("huge"), None);
        assert_eq!(cache.len(), 3);
        cache.remove("d");
        assert_eq!((cache.len(), cache.bytes()), (2, 20));
    }
}
