//! The index of the firm's companies: look-ups, changes, what a live card teaches it, what
//! a gateway may serve, and its bytes.

use lens_core::card::{Card, CardEntity, CardListEntry, CardSource, CardStatus, EntityKind, StatusValue};
use lens_core::index::{Change, Index, domain_key};
use lens_core::{Query, QueryKind};

fn status(text: &str) -> Option<StatusValue> {
    Some(StatusValue { text: text.into(), color: 3 })
}

fn org(id: i64, name: &str, domains: &[&str]) -> Change {
    Change::Organization { id, name: name.into(), domains: domains.iter().map(|d| d.to_string()).collect() }
}

/// A small firm: two lists (one private), Acme on both, two companies sharing a domain.
fn firm() -> Index {
    let mut index = Index::new();
    for change in [
        Change::List { id: 10, name: "Deal Pipeline".into(), public: true },
        Change::List { id: 17, name: "Board Confidential".into(), public: false },
        org(1, "Acme Corporation", &["acme.com", "acme.io"]),
        org(2, "Globex", &["globex.co.uk"]),
        org(3, "Shared One", &["shared.com"]),
        org(4, "Shared Two", &["SHARED.com."]),
        org(5, "Pages Co", &["pages.github.io"]),
        Change::EntryAdded { list_id: 10, entry_id: 100, organization_id: 1 },
        Change::Status { list_id: 10, entry_id: 100, status: status("Diligence") },
        Change::EntryAdded { list_id: 17, entry_id: 170, organization_id: 1 },
    ] {
        assert!(index.apply(change.clone()), "{change:?} changed nothing");
    }
    index.vouch(1_800_000_000_000);
    index
}

fn ids(found: &[lens_core::index::KnownCompany]) -> Vec<i64> {
    found.iter().map(|c| c.id).collect()
}

#[test]
fn a_company_is_found_by_the_registrable_domain_of_any_of_its_domains() {
    let index = firm();
    for host in ["acme.com", "www.acme.com", "ACME.IO", "app.acme.io."] {
        assert_eq!(ids(&index.lookup_domain(host)), vec![1], "{host}");
    }
    assert_eq!(ids(&index.lookup_domain("shop.globex.co.uk")), vec![2], "public-suffix aware");
    assert!(index.lookup_domain("co.uk").is_empty());
    assert_eq!(ids(&index.lookup_domain("pages.github.io")), vec![5]);
    assert!(index.lookup_domain("other.github.io").is_empty(), "github.io is a public suffix");
    assert!(index.lookup_domain("acme.org").is_empty());
    assert!(index.knows_domain("blog.acme.com") && !index.knows_domain("example.com"));
}

#[test]
fn a_domain_on_two_companies_answers_both() {
    let index = firm();
    assert_eq!(ids(&index.lookup_domain("www.shared.com")), vec![3, 4]);
    let card = index.answer(&Query { kind: QueryKind::Domain, value: "shared.com".into() }).unwrap();
    assert_eq!(card.status, CardStatus::Ambiguous);
    assert_eq!(card.candidates.len(), 2);
}

#[test]
fn a_company_is_found_by_its_normalised_name() {
    let index = firm();
    for name in ["Acme Corporation", "acme", "ACME, Inc.", "  Acme   Corp "] {
        assert_eq!(ids(&index.lookup_name(name)), vec![1], "{name}");
    }
    assert!(index.lookup_name("Acme Anvils").is_empty());
    assert!(index.lookup_name("Inc.").is_empty() && index.lookup_name("").is_empty());
}

#[test]
fn a_picker_finds_companies_by_the_start_of_their_name_or_domain() {
    let index = firm();
    assert_eq!(ids(&index.search("ac", 10)), vec![1]);
    assert_eq!(ids(&index.search("Glob", 10)), vec![2]);
    assert_eq!(ids(&index.search("globex.co", 10)), vec![2], "by domain");
    // Names that start with it first, shorter names before longer ones; at most `limit`.
    assert_eq!(ids(&index.search("shared", 10)), vec![3, 4]);
    assert_eq!(ids(&index.search("shared", 1)), vec![3]);
    assert!(index.search("  ", 10).is_empty() && index.search("zzz", 10).is_empty());
}

#[test]
fn a_company_comes_with_its_lists_and_status_where_known() {
    let acme = &firm().lookup_domain("acme.com")[0];
    assert_eq!(acme.domains, vec!["acme.com", "acme.io"]);
    let lists: Vec<(&str, bool, Option<&str>)> = acme
        .lists
        .iter()
        .map(|l| (l.list_name.as_str(), l.public, l.status.as_ref().map(|s| s.text.as_str())))
        .collect();
    assert_eq!(lists, vec![("Deal Pipeline", true, Some("Diligence")), ("Board Confidential", false, None)]);
}

#[test]
fn the_index_answers_a_page_with_a_card_that_says_where_it_comes_from() {
    let index = firm();
    let ask = |value: &str| index.answer(&Query { kind: QueryKind::Domain, value: value.into() }).unwrap();
    let unknown = ask("example.com");
    assert_eq!((unknown.status, unknown.source), (CardStatus::NotFound, CardSource::Index));
    assert_eq!(unknown.fetched_at, "2027-01-15T08:00:00.000Z", "as of when");
    let acme = ask("acme.com");
    assert_eq!(acme.status, CardStatus::Matched);
    assert_eq!(acme.entity.as_ref().map(|e| e.id), Some(1));
    assert_eq!(acme.lists[0].status.as_ref().map(|s| s.text.as_str()), Some("Diligence"));
    let by_id = index.answer(&Query { kind: QueryKind::OrganizationId, value: "2".into() }).unwrap();
    assert_eq!(by_id.entity.map(|e| e.name), Some("Globex".into()));
    assert!(index.answer(&Query { kind: QueryKind::OrganizationId, value: "99".into() }).is_none());
    assert!(index.answer(&Query { kind: QueryKind::Email, value: "a@acme.com".into() }).is_none());
    assert!(Index::new().answer(&Query { kind: QueryKind::Domain, value: "x.com".into() }).is_none(), "never synced");
}

#[test]
fn changes_move_a_company_between_domains_lists_and_statuses() {
    let mut index = firm();
    let rev = index.revision();
    assert!(!index.apply(org(2, "Globex", &["globex.co.uk"])), "the same again changes nothing");
    assert_eq!(index.revision(), rev);
    assert!(index.apply(org(2, "Globex Intl", &["globex.com"])));
    assert!(index.lookup_domain("globex.co.uk").is_empty());
    assert_eq!(ids(&index.lookup_domain("globex.com")), vec![2]);
    assert_eq!(ids(&index.lookup_name("globex intl")), vec![2]);
    assert!(index.lookup_name("globex").is_empty());
    assert!(index.apply(Change::Status { list_id: 10, entry_id: 100, status: status("IC Review") }));
    assert_eq!(index.company(1).unwrap().lists[0].status, status("IC Review"));
    assert!(index.apply(Change::EntryRemoved { list_id: 10, entry_id: 100 }));
    assert_eq!(index.company(1).unwrap().lists.len(), 1);
    assert!(!index.apply(Change::EntryAdded { list_id: 10, entry_id: 101, organization_id: 99 }), "unknown company");
    assert!(!index.apply(Change::EntryAdded { list_id: 99, entry_id: 101, organization_id: 1 }), "unknown list");
    assert!(index.apply(Change::OrganizationDeleted { id: 3 }));
    assert_eq!(ids(&index.lookup_domain("shared.com")), vec![4]);
    assert_eq!(index.revision(), rev + 4, "one revision a change that changed something");
}

#[test]
fn a_merge_moves_the_entries_to_the_company_kept() {
    let mut index = firm();
    assert!(index.apply(Change::EntryAdded { list_id: 10, entry_id: 300, organization_id: 3 }));
    assert!(index.apply(Change::OrganizationsMerged { removed: 3, into: 4 }));
    assert!(index.company(3).is_none());
    assert_eq!(index.company(4).unwrap().lists[0].entry_id, 300);
    assert!(!index.apply(Change::OrganizationsMerged { removed: 4, into: 4 }));
    assert!(index.company(4).is_some());
}

#[test]
fn a_list_deleted_takes_its_entries_along() {
    let mut index = firm();
    assert!(index.apply(Change::ListDeleted { id: 17 }));
    assert_eq!(index.company(1).unwrap().lists.len(), 1);
    assert!(index.apply(Change::List { id: 10, name: "Deals".into(), public: true }));
    assert_eq!(index.company(1).unwrap().lists[0].list_name, "Deals");
}

fn live(status: CardStatus, value: &str) -> Card {
    Card::new(Query { kind: QueryKind::Domain, value: value.into() }, status)
}

#[test]
fn a_live_card_wins_over_the_index() {
    let mut index = firm();
    let mut card = live(CardStatus::Matched, "acme.com");
    card.entity = Some(CardEntity {
        kind: EntityKind::Organization,
        id: 1,
        name: "Acme Corp".into(),
        domains: vec!["acme.com".into()],
        emails: vec![],
        affinity_url: None,
    });
    let entry: CardListEntry = serde_json::from_value(serde_json::json!({
        "list_id": 12, "list_name": "Co-investors", "entry_id": 120, "added_at": null,
        "status": {"text": "Warm", "color": 3}, "status_since": null, "owners": [], "amount": null
    }))
    .unwrap();
    card.lists = vec![entry];
    assert!(index.learn_card(&card));
    let acme = index.company(1).unwrap();
    assert_eq!((acme.name.as_str(), acme.domains.len()), ("Acme Corp", 1));
    assert!(index.lookup_domain("acme.io").is_empty());
    assert_eq!(acme.lists.len(), 1, "the live card's lists replace the index's");
    assert_eq!((acme.lists[0].list_name.as_str(), acme.lists[0].public), ("Co-investors", false));
    assert!(!index.learn_card(&card), "the same card again teaches nothing");

    assert!(index.learn_card(&live(CardStatus::NotFound, "shared.com")), "nobody has it now");
    assert!(index.lookup_domain("shared.com").is_empty());
    assert!(index.company(3).is_some(), "the companies stay, without that domain");
    let mut from_index = live(CardStatus::NotFound, "globex.co.uk");
    from_index.source = CardSource::Index;
    assert!(!index.learn_card(&from_index));
}

#[test]
fn what_a_gateway_serves_leaves_private_lists_out() {
    let index = firm();
    let public = index.public_only();
    assert_eq!(public.lists().iter().map(|l| l.id).collect::<Vec<_>>(), vec![10]);
    let acme = public.company(1).unwrap();
    assert_eq!(acme.lists.iter().map(|l| l.list_id).collect::<Vec<_>>(), vec![10]);
    assert_eq!(public.len(), index.len());
    assert_ne!(public.etag(), index.etag());
    assert_eq!(ids(&public.lookup_domain("acme.io")), vec![1]);
}

#[test]
fn the_bytes_give_the_same_index_back_and_the_etag_follows_the_content() {
    let index = firm();
    let encoded = index.encode();
    let back = Index::decode(&encoded.bytes).unwrap();
    assert_eq!(back, index);
    assert_eq!(back.etag(), encoded.etag);
    assert_eq!(ids(&back.lookup_domain("www.acme.io")), vec![1]);
    assert_eq!(back.company(1).unwrap().lists[0].status, status("Diligence"));
    // Times are not content: a vouched index has the same ETag.
    let mut later = back.clone();
    later.vouch(1_900_000_000_000);
    assert_eq!(later.etag(), encoded.etag);
    later.apply(Change::Status { list_id: 10, entry_id: 100, status: None });
    assert_ne!(later.etag(), encoded.etag);
    assert!(encoded.etag.starts_with('"') && encoded.etag.ends_with('"'));
}

#[test]
fn bytes_that_are_not_an_index_are_refused() {
    let bytes = firm().encode().bytes;
    assert!(Index::decode(&[]).is_err());
    assert!(Index::decode(&[9, 0, 0]).is_err(), "another format");
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        assert!(Index::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn domain_keys_are_registrable_domains() {
    for (domain, key) in [
        ("acme.com", "acme.com"),
        ("www.acme.co.uk", "acme.co.uk"),
        ("ACME.com", "acme.com"),
        ("github.io", "github.io"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("co.uk", "co.uk"),
    ] {
        assert_eq!(domain_key(domain), key, "{domain}");
    }
}
