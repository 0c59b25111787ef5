//! A look-up table from a key's hash to organization ids: a sorted vector of pairs, 16
//! bytes a posting, built at once after a load or a sync and changed in place by single
//! changes. A hash only narrows the search: the index checks what it finds.

/// The postings, sorted by (hash, id), without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Postings(Vec<(u64, i64)>);

impl Postings {
    /// The table of these pairs.
    pub(crate) fn build(mut pairs: Vec<(u64, i64)>) -> Postings {
        pairs.sort_unstable();
        pairs.dedup();
        Postings(pairs)
    }

    /// The ids filed under `key`.
    pub(crate) fn ids(&self, key: u64) -> impl Iterator<Item = i64> + '_ {
        let start = self.0.partition_point(|p| p.0 < key);
        self.0[start..].iter().take_while(move |p| p.0 == key).map(|p| p.1)
    }

    /// Files `id` under `key`.
    pub(crate) fn insert(&mut self, key: u64, id: i64) {
        if let Err(at) = self.0.binary_search(&(key, id)) {
            self.0.insert(at, (key, id));
        }
    }

    /// Takes `id` out from under `key`.
    pub(crate) fn remove(&mut self, key: u64, id: i64) {
        if let Ok(at) = self.0.binary_search(&(key, id)) {
            self.0.remove(at);
        }
    }
}

/// FNV-1a, 64 bits: stable across runs and platforms (the table is rebuilt from the keys
/// on load, and never persisted, but tests compare tables).
pub(crate) fn hash(key: &str) -> u64 {
    hash_bytes(key.as_bytes())
}

/// FNV-1a over bytes (also the ETag of an encoded index).
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_under_their_key_only_and_changes_keep_the_order() {
        let mut p = Postings::build(vec![(5, 2), (3, 9), (5, 1), (5, 2)]);
        assert_eq!(p.ids(5).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(p.ids(4).count(), 0);
        p.insert(4, 7);
        p.insert(5, 0);
        p.remove(5, 2);
        p.remove(6, 1);
        assert_eq!(p, Postings::build(vec![(3, 9), (4, 7), (5, 0), (5, 1)]));
    }

    #[test]
    fn the_hash_is_fnv_1a() {
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
