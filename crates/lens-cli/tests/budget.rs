//! What a page view and an opened card cost the firm, counted by the sandbox, for a key
//! with API v2 and a v1-only key, against the targets of issue #11 (v2: at most 3 calls a
//! page view and 8 an opened card whatever the headcount; v1: at most 8 a page view;
//! warm: none); both keys get the same card; and a key learns once that v2 says no.

use std::sync::Arc;

use affinity_api::cache::MemoryCache;
use affinity_api::clock::unix_ms;
use affinity_api::{Client, ClientConfig};
use affinity_sandbox::{Sandbox, SandboxConfig};
use lens_core::account::Feature;
use lens_core::card::Phase;
use lens_core::lookup::{OPPORTUNITY_STATUSES, lookup};
use lens_core::{Card, CardStatus, LensClient, PageHints, Query, QueryKind};

const KEY: &str = "budget-key";
const V1_ONLY: &str = "budget-v1-key";

async fn start() -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig { v1_only_key: Some(V1_ONLY.into()), ..SandboxConfig::new(KEY) });
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn client(url: &str, key: &str) -> LensClient {
    let builder = Client::builder(ClientConfig::new(url, key), affinity_api::transport::ReqwestTransport::new());
    LensClient::new(builder.cache(Arc::new(MemoryCache::default())), Arc::default())
}

fn domain(d: &str) -> (Query, PageHints) {
    (Query { kind: QueryKind::Domain, value: d.into() }, PageHints::default())
}

fn profile() -> (Query, PageHints) {
    let hints =
        PageHints { name: Some("Bob Smith".into()), company: Some("Acme Corporation".into()), ..Default::default() };
    (Query { kind: QueryKind::LinkedinPerson, value: "https://www.linkedin.com/in/bob-smith".into() }, hints)
}

/// A card without what differs between two look-ups of the same thing (when it was made),
/// or between keys: the firmographics come with API v2 only.
fn comparable(card: &Card) -> Card {
    Card { fetched_at: String::new(), firmographics: None, ..card.clone() }
}

struct Cost {
    page_view: u64,
    opened: u64,
    warm: u64,
    pill: Card,
    card: Card,
    /// What the page view and the opened card asked the sandbox, in order.
    sent: Vec<String>,
}

/// A page view, then its card opened, then both again (warm), on a client whose context
/// (who the key is, the team, lists and fields) is already known, as after the first page
/// of a session or a restart (it is persisted).
async fn cost(url: &str, sandbox: &Sandbox, key: &str, (query, hints): (Query, PageHints)) -> Cost {
    let c = client(url, key);
    let globex = Query { kind: QueryKind::Domain, value: "globex.test".into() };
    assert_eq!(lookup(&c, &globex, &hints, Phase::Card, |_| {}).await.status, CardStatus::Matched);
    let before = sandbox.requests_served();
    let mark = sandbox.requests().len();
    let pill = lookup(&c, &query, &hints, Phase::Pill, |_| {}).await;
    let page_view = sandbox.requests_served() - before;
    let card = lookup(&c, &query, &hints, Phase::Card, |_| {}).await;
    let opened = sandbox.requests_served() - before;
    let sent = sandbox.requests().split_off(mark);
    let warm_before = sandbox.requests_served();
    lookup(&c, &query, &hints, Phase::Pill, |_| {}).await;
    lookup(&c, &query, &hints, Phase::Card, |_| {}).await;
    let warm = sandbox.requests_served() - warm_before;
    assert_eq!((pill.phase, card.phase), (Phase::Pill, Phase::Card));
    assert_eq!(card.status, CardStatus::Matched, "{:?}", card.error);
    Cost { page_view, opened, warm, pill, card, sent }
}

#[tokio::test]
async fn a_page_view_and_an_opened_card_cost_what_the_issue_allows_with_and_without_v2() {
    let (url, sandbox) = start().await;
    for (name, case) in [
        ("1 person", domain("solo.test")),
        ("20 people", domain("acme.test")),
        ("150 people", domain("megacorp.test")),
        ("LinkedIn person", profile()),
    ] {
        let v2 = cost(&url, &sandbox, KEY, case.clone()).await;
        let v1 = cost(&url, &sandbox, V1_ONLY, case.clone()).await;
        eprintln!("{name}: v2 {} / {} ; v1 {} / {}", v2.page_view, v2.opened, v1.page_view, v1.opened);
        assert!(v2.page_view <= 3, "{name}, v2: {} calls a page view", v2.page_view);
        assert!(v2.opened <= 8, "{name}, v2: {} calls to the opened card", v2.opened);
        assert!(v1.page_view <= 8, "{name}, v1: {} calls a page view", v1.page_view);
        assert_eq!((v2.warm, v1.warm), (0, 0), "{name}: warm look-ups ask nothing");
        // No call is repeated within a page view and its opened card.
        for (key, sent) in [("v2", &v2.sent), ("v1", &v1.sent)] {
            let mut seen = std::collections::HashSet::new();
            let repeated: Vec<&String> = sent.iter().filter(|r| !seen.insert(*r)).collect();
            assert!(!sent.is_empty() && repeated.is_empty(), "{name}, {key}: sent twice: {repeated:?}");
        }
        // The pill and the card agree: the card's best connection is the pill's, or (v1,
        // which reads fewer people for the pill) a stronger one.
        let best = |c: &Card| c.connections.first().map(|c| c.strength).unwrap_or_default();
        assert_eq!(v2.pill.connections.first(), v2.card.connections.first(), "{name}");
        assert!(best(&v1.card) >= best(&v1.pill), "{name}");
        assert_eq!(v2.pill.lists.len(), v2.card.lists.len(), "{name}: the pill knows every list entry");
        for (p, c) in v2.pill.lists.iter().zip(&v2.card.lists).chain(v1.pill.lists.iter().zip(&v1.card.lists)) {
            assert_eq!((p.entry_id, &p.status), (c.entry_id, &c.status), "{name}: the pill's Status is the card's");
        }
        // The opened card has the notes and every field of its list entries; a company's
        // firmographics come with API v2 (v1 has none).
        if name != "LinkedIn person" {
            assert!(v2.card.firmographics.is_some() && v1.card.firmographics.is_none(), "{name}");
        }
        assert_eq!(v2.card.fields.len(), v2.card.lists.len(), "{name}");
        assert!(v2.pill.fields.is_empty() && v2.pill.notes.is_empty(), "{name}: a page view reads neither");
        // The notes: one call, the opened card's (counted in the 8 above).
        for (key, sent) in [("v2", &v2.sent), ("v1", &v1.sent)] {
            let notes = sent.iter().filter(|r| r.starts_with("GET /notes") || r.starts_with("GET /v2/notes")).count();
            assert_eq!(notes, 1, "{name}, {key}: {sent:?}");
        }
        // The same card with either key (v1 covers at most 50 people of 150).
        if name != "150 people" {
            assert_eq!(comparable(&v2.card), comparable(&v1.card), "{name}: the same card with either key");
        }
    }
}

#[tokio::test]
async fn a_key_without_v2_is_found_out_once_and_sees_the_same_card() {
    let (url, sandbox) = start().await;
    let (query, hints) = domain("acme.test");
    let with_v2 = lookup(&client(&url, KEY), &query, &hints, Phase::Card, |_| {}).await;
    let c = client(&url, V1_ONLY);
    let first = lookup(&c, &query, &hints, Phase::Card, |_| {}).await;
    assert_eq!(comparable(&first), comparable(&with_v2), "no error: the v1 card");
    for feature in [Feature::CompanyRelationships, Feature::CompanyListEntries, Feature::Users] {
        assert_eq!(c.account().capability(feature), Some(false), "{feature:?} remembered");
    }
    // Asked again within the day: no v2 request at all (each would be a 403).
    let forbidden_before = sandbox.requests_served();
    let globex = Query { kind: QueryKind::Domain, value: "globex.test".into() };
    assert_eq!(lookup(&c, &globex, &hints, Phase::Pill, |_| {}).await.status, CardStatus::Matched);
    let spent = sandbox.requests_served() - forbidden_before;
    // The search, the people with interactions, their strengths, the organization, its values.
    assert!(spent <= 8, "{spent}");
    let restored = lens_core::account::Account::with_state(c.account().snapshot());
    assert!(!restored.may_try(Feature::CompanyRelationships, unix_ms()), "the verdict survives a restart");
    assert!(restored.may_try(Feature::CompanyRelationships, unix_ms() + 25 * 3600 * 1000), "and is re-checked daily");
}

/// Megacorp has more opportunities than a card reads the Status of: the most recent ones
/// have theirs, the others say it was not read, and the card still costs at most 8 calls.
#[tokio::test]
async fn an_opened_card_reads_the_status_of_the_most_recent_opportunities_only() {
    let (url, sandbox) = start().await;
    for key in [KEY, V1_ONLY] {
        let Cost { card, opened, .. } = cost(&url, &sandbox, key, domain("megacorp.test")).await;
        if key == KEY {
            assert!(opened <= 8, "{opened} calls to Megacorp's opened card");
        }
        let opportunities = &card.opportunities;
        assert!(opportunities.len() >= 5, "{key}: {opportunities:?}");
        assert!(opportunities.windows(2).all(|w| w[0].id > w[1].id), "{key}: the most recent first");
        let (read, skipped) = opportunities.split_at(OPPORTUNITY_STATUSES);
        assert!(read.iter().all(|o| !o.status_skipped && o.status.is_some()), "{key}: {read:?}");
        assert!(skipped.iter().all(|o| o.status_skipped && o.status.is_none()), "{key}: {skipped:?}");
        assert!(
            opportunities.iter().all(|o| o.list_name.as_deref() == Some("Fundraising Opportunities")),
            "{key}: {opportunities:?}"
        );
        assert!(
            opportunities
                .iter()
                .all(|o| o.affinity_url.as_ref().is_some_and(|u| u.ends_with(&format!("/opportunities/{}", o.id))))
        );
    }
}

#[tokio::test]
async fn the_account_counts_the_calls_page_views_and_opened_cards_of_the_month() {
    let (url, sandbox) = start().await;
    let c = client(&url, KEY);
    let before = sandbox.requests_served();
    let (query, hints) = domain("acme.test");
    lookup(&c, &query, &hints, Phase::Pill, |_| {}).await;
    lookup(&c, &query, &hints, Phase::Card, |_| {}).await;
    lookup(&c, &Query { kind: QueryKind::Domain, value: "nobody-here.test".into() }, &hints, Phase::Pill, |_| {}).await;
    let usage = c.account().usage(unix_ms());
    assert_eq!(usage.calls, sandbox.requests_served() - before);
    assert_eq!((usage.page_views, usage.cards_opened), (2, 1));
}

#[tokio::test]
async fn a_refresh_asks_for_the_context_again() {
    let (url, sandbox) = start().await;
    let c = client(&url, KEY);
    let (query, hints) = domain("acme.test");
    lookup(&c, &query, &hints, Phase::Pill, |_| {}).await;
    let before = sandbox.requests_served();
    lookup(&c, &query, &hints, Phase::Pill, |_| {}).await;
    assert_eq!(sandbox.requests_served(), before, "warm");
    // The card's refresh: every answer, and the remembered context, is asked again.
    c.invalidate();
    lookup(&c, &query, &hints, Phase::Pill, |_| {}).await;
    // The search, the relationships, the list entries; whoami and the users.
    assert_eq!(sandbox.requests_served() - before, 5);
}
