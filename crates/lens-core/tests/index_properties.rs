//! Property tests of the index: its bytes (which a gateway serves: remote input) never
//! panic and give the same index back; its domain keys are registrable domains; after any
//! changes, look-ups agree with a plain model of what was applied.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use lens_core::card::StatusValue;
use lens_core::index::{Change, Index, domain_key};
use lens_core::page::registrable_domain;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn cases(n: u32) -> Config {
    Config { cases: n, failure_persistence: None, ..Config::default() }
}

fn domain() -> impl Strategy<Value = String> {
    let label = "[a-z0-9]{1,6}";
    let suffix = prop::sample::select(vec!["com", "io", "co.uk", "github.io", "de", "COM", "test"]);
    (prop::collection::vec(label, 1..3), suffix).prop_map(|(labels, s)| format!("{}.{s}", labels.join(".")))
}

fn change() -> impl Strategy<Value = Change> {
    let id = 1i64..12;
    let status = prop::option::of(prop::sample::select(vec!["New", "Diligence", "Passed"]))
        .prop_map(|s| s.map(|t| StatusValue { text: t.into(), color: 2 }));
    prop_oneof![
        4 => (id.clone(), "[A-Za-z ]{0,12}", prop::collection::vec(domain(), 0..3))
            .prop_map(|(id, name, domains)| Change::Organization { id, name, domains }),
        1 => id.clone().prop_map(|id| Change::OrganizationDeleted { id }),
        1 => (id.clone(), id.clone()).prop_map(|(removed, into)| Change::OrganizationsMerged { removed, into }),
        1 => (1i64..4, any::<bool>()).prop_map(|(id, public)| Change::List { id, name: format!("L{id}"), public }),
        1 => (1i64..4).prop_map(|id| Change::ListDeleted { id }),
        3 => (1i64..4, 1i64..30, id.clone())
            .prop_map(|(list_id, entry_id, organization_id)| Change::EntryAdded { list_id, entry_id, organization_id }),
        1 => (1i64..4, 1i64..30).prop_map(|(list_id, entry_id)| Change::EntryRemoved { list_id, entry_id }),
        2 => (1i64..4, 1i64..30, status).prop_map(|(list_id, entry_id, status)| Change::Status { list_id, entry_id, status }),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    /// Any bytes: an index or an error, never a panic.
    #[test]
    fn any_bytes_decode_or_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Index::decode(&bytes);
        let mut framed = vec![1u8];
        framed.extend(&bytes);
        let _ = Index::decode(&framed);
    }

    /// The bytes of an index, changed in one place: an index or an error, never a panic.
    #[test]
    fn a_damaged_index_decodes_or_is_refused(changes in prop::collection::vec(change(), 0..30), at in any::<usize>(), byte in any::<u8>()) {
        let mut index = Index::new();
        for c in changes { index.apply(c); }
        let mut bytes = index.encode().bytes;
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Ok(back) = Index::decode(&bytes) {
            let _ = back.lookup_domain("acme.com");
            let _ = back.encode();
        }
    }

    /// The fast path of a domain's key agrees with the Public Suffix List.
    #[test]
    fn a_domain_key_is_its_registrable_domain(d in domain(), host in "[a-zA-Z0-9.-]{0,20}") {
        for d in [d, host] {
            let trimmed = d.trim().trim_end_matches('.');
            let want = registrable_domain(trimmed).unwrap_or_else(|| trimmed.to_lowercase());
            prop_assert_eq!(domain_key(&d), want, "{}", d);
        }
    }

    /// After any changes: the bytes give the same index back, and every company is found
    /// by each of its domains and its name, with the lists it is on.
    #[test]
    fn look_ups_agree_with_what_was_applied(changes in prop::collection::vec(change(), 0..60)) {
        let mut index = Index::new();
        let mut revision = 0;
        for c in changes {
            let changed = index.apply(c);
            prop_assert_eq!(index.revision(), revision + u64::from(changed));
            revision = index.revision();
        }
        let back = Index::decode(&index.encode().bytes).unwrap();
        prop_assert_eq!(&back, &index);
        prop_assert_eq!(back.etag(), index.etag());
        let mut by_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for id in 1..12 {
            let Some(c) = index.company(id) else { continue };
            for d in &c.domains {
                by_key.entry(domain_key(d)).or_default().push(id);
            }
            if !lens_core::index::name_key(&c.name).is_empty() {
                prop_assert!(index.lookup_name(&c.name).iter().any(|f| f.id == id));
            }
            for l in &c.lists {
                prop_assert!(index.list(l.list_id).is_some(), "an entry on a list the index holds");
            }
        }
        for (key, mut ids) in by_key {
            ids.dedup();
            let found: Vec<i64> = back.lookup_domain(&key).iter().map(|c| c.id).collect();
            prop_assert_eq!(found, ids, "{}", key);
        }
    }
}
