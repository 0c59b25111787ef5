//! The response cache: fresh answers are served without a request; stale ones (past
//! `fresh_for`, within `stale_for`) only when Affinity cannot be reached. The store is a
//! trait: in memory here, browser storage in the extension, a shared one in the gateway.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use web_time::Duration;

use crate::transport::{MaybeSend, MaybeSync};

/// A cached answer body and when it was stored (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub body: String,
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
}

/// How long answers stay fresh, and how long a stale one may stand in for an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub fresh_for: Duration,
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

/// An in-memory store with a bounded number of entries (the oldest go first).
#[derive(Debug)]
pub struct MemoryCache {
    capacity: usize,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl MemoryCache {
    /// A store of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        MemoryCache { capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    /// All entries, to persist.
    pub fn snapshot(&self) -> HashMap<String, CacheEntry> {
        self.entries.lock().expect("cache lock").clone()
    }

    /// Adds persisted entries back.
    pub fn restore(&self, entries: HashMap<String, CacheEntry>) {
        for (k, v) in entries {
            self.put(&k, v);
        }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("cache lock").len()
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
        self.entries.lock().expect("cache lock").get(key).cloned()
    }

    fn put(&self, key: &str, entry: CacheEntry) {
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            let oldest = entries.iter().min_by_key(|(_, e)| e.stored_at_ms).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(key.to_owned(), entry);
    }

    fn clear(&self) {
        self.entries.lock().expect("cache lock").clear();
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
}
