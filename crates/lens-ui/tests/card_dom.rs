//! The card mounted in a real browser (wasm-bindgen-test in headless Chromium).
#![cfg(target_arch = "wasm32")]

use lens_core::{Card, CardStatus, Query, QueryKind};
use lens_ui::{CardState, CardView};
use leptos::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn mount(state: ReadSignal<CardState>) -> (web_sys::HtmlElement, impl Drop) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || view! { <CardView state=state /> });
    (host, handle)
}

fn text(host: &web_sys::HtmlElement, testid: &str) -> Option<String> {
    host.query_selector(&format!("[data-testid={testid}]")).unwrap().map(|e| e.text_content().unwrap_or_default())
}

use wasm_bindgen::JsCast;

#[wasm_bindgen_test]
async fn shows_the_organization_name_once_the_card_arrives() {
    let (state, set_state) = signal(CardState::Loading);
    let (host, _handle) = mount(state);
    assert_eq!(text(&host, "lens-status").as_deref(), Some("Looking up…"));

    let card: Card = serde_json::from_value(serde_json::json!({
        "query": {"kind": "domain", "value": "acme.com"}, "status": "matched",
        "entity": {"kind": "organization", "id": 1, "name": "Acme <b>Corp</b>", "domains": ["acme.com"], "emails": [], "affinity_url": null},
        "candidates": [], "connections": [], "lists": [],
        "activity": {"first_email": null, "last_email": null, "last_event": null, "next_event": null, "last_interaction": null},
        "opportunities": [], "fetched_at": "2026-11-25T10:00:00Z", "stale": false, "error": null
    }))
    .unwrap();
    set_state.set(CardState::Ready(Box::new(card)));
    leptos::task::tick().await;
    // API text is text: the tags are shown, not interpreted.
    assert_eq!(text(&host, "lens-entity-name").as_deref(), Some("Acme <b>Corp</b>"));
    assert!(host.query_selector("b").unwrap().is_none());
    assert_eq!(text(&host, "lens-status").as_deref(), Some("In Affinity"));
}

#[wasm_bindgen_test]
fn says_not_in_affinity_for_an_unknown_domain() {
    let card = Card::new(Query { kind: QueryKind::Domain, value: "unknown.test".into() }, CardStatus::NotFound);
    let (state, _set) = signal(CardState::Ready(Box::new(card)));
    let (host, _handle) = mount(state);
    assert_eq!(text(&host, "lens-status").as_deref(), Some("Not in Affinity"));
    assert_eq!(text(&host, "lens-entity-name").as_deref(), Some("unknown.test"));
}

#[wasm_bindgen_test]
async fn a_full_card_shows_connections_lists_and_a_working_refresh() {
    let card: Card = serde_json::from_value(serde_json::json!({
        "query": {"kind": "domain", "value": "acme.com"}, "status": "matched",
        "entity": {"kind": "organization", "id": 1, "name": "Acme", "domains": ["acme.com"], "emails": [], "affinity_url": "https://firm.affinity.co/companies/1"},
        "candidates": [],
        "connections": [
            {"colleague": {"id": 1, "name": "Alice Doe", "email": null}, "contact": {"id": 2, "name": "Bob Smith", "email": "bob@acme.com"}, "strength": 0.82},
            {"colleague": {"id": 3, "name": "Ben Okafor", "email": null}, "contact": {"id": 2, "name": "Bob Smith", "email": null}, "strength": 0.41}
        ],
        "lists": [
            {"list_id": 10, "list_name": "Deal Pipeline", "entry_id": 5, "added_at": "2026-01-01T00:00:00Z",
             "status": {"text": "Diligence", "color": 3}, "status_since": "2026-10-01T00:00:00Z",
             "owners": [{"id": 1, "name": "Alice Doe", "email": null}], "amount": 5000000.0},
            {"list_id": 10, "list_name": "Deal Pipeline", "entry_id": 6, "added_at": null, "status": null, "status_since": null, "owners": [], "amount": null}
        ],
        "activity": {"first_email": null, "last_email": {"date": "2026-11-01T00:00:00Z", "people": [{"id": 1, "name": "Alice Doe", "email": null}]},
                     "last_event": null, "next_event": null, "last_interaction": null},
        "opportunities": [
            {"id": 8, "name": "Acme Series B", "list_name": "Fundraising", "status": "New", "affinity_url": "https://firm.affinity.co/opportunities/8", "status_skipped": false},
            {"id": 7, "name": "Acme Series A", "list_name": "Fundraising", "status": null, "affinity_url": "https://firm.affinity.co/opportunities/7", "status_skipped": true},
            {"id": 6, "name": "Acme Seed", "list_name": "Fundraising", "status": null}
        ],
        "fetched_at": "2026-11-25T10:00:00Z", "stale": false, "error": null, "people_total": 20, "people_checked": 12
    }))
    .unwrap();
    let (state, _set) = signal(CardState::Ready(Box::new(card)));
    let refreshed = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = refreshed.clone();
    let on_refresh = Callback::new(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let _handle =
        leptos::mount::mount_to(host.clone(), move || view! { <CardView state=state on_refresh=on_refresh /> });
    let count = |sel: &str| host.query_selector_all(&format!("[data-testid={sel}]")).unwrap().length();
    assert_eq!(count("lens-connection"), 2);
    assert_eq!(count("lens-list-entry"), 2, "one row per list entry, even on the same list");
    assert_eq!(count("lens-list-status"), 1);
    assert!(text(&host, "lens-card").unwrap().contains("From 12 of 20 people"));
    assert!(text(&host, "lens-card").unwrap().contains("5.0M"));
    // Opportunities: the Status read, the one skipped to spare the budget said so, and none
    // for an opportunity without one (an older card's JSON, without the newer keys).
    assert_eq!(count("lens-opportunity"), 3);
    assert_eq!(count("lens-opportunity-status-skipped"), 1);
    let skipped = host.query_selector_all("[data-testid=lens-opportunity]").unwrap().item(1).unwrap();
    assert!(skipped.text_content().unwrap().contains("Status in Affinity"));
    let opened = host.query_selector("[data-testid=lens-opportunity] a").unwrap().unwrap();
    assert_eq!(opened.get_attribute("href").as_deref(), Some("https://firm.affinity.co/opportunities/8"));
    let link = host.query_selector("[data-testid=lens-entity-name] a").unwrap().unwrap();
    assert_eq!(link.get_attribute("href").as_deref(), Some("https://firm.affinity.co/companies/1"));
    let button: web_sys::HtmlElement =
        host.query_selector("[data-testid=lens-refresh]").unwrap().unwrap().unchecked_into();
    button.click();
    assert_eq!(refreshed.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[wasm_bindgen_test]
fn an_error_card_says_what_to_do() {
    let mut card = Card::new(Query { kind: QueryKind::Domain, value: "acme.com".into() }, CardStatus::Error);
    card.error = Some(lens_core::CardError { kind: "unauthorized".into(), message: "401".into(), retry_at: None });
    let (state, _set) = signal(CardState::Ready(Box::new(card)));
    let (host, _handle) = mount(state);
    assert!(text(&host, "lens-error").unwrap().contains("API key"));
}

#[wasm_bindgen_test]
async fn a_partial_card_says_so() {
    let mut card = Card::new(Query { kind: QueryKind::Domain, value: "acme.com".into() }, CardStatus::Matched);
    let (state, set) = signal(CardState::Ready(Box::new(card.clone())));
    let (host, _handle) = mount(state);
    assert_eq!(text(&host, "lens-partial"), None, "a whole card says nothing of the kind");
    card.partial = true;
    set.set(CardState::Ready(Box::new(card)));
    leptos::task::tick().await;
    assert!(text(&host, "lens-partial").unwrap().contains("Refresh for the rest"));
}

#[wasm_bindgen_test]
fn a_card_links_only_to_affinitys_web_app() {
    // A card from a gateway (or a poisoned cache) must not put a phishing link in the Lens.
    for bad in ["javascript:alert(1)", "https://evil.example/", "https://firm.affinity.co.evil.example/x"] {
        let card: Card = serde_json::from_value(serde_json::json!({
            "query": {"kind": "domain", "value": "acme.com"}, "status": "matched",
            "entity": {"kind": "organization", "id": 1, "name": "Acme", "domains": ["acme.com"], "emails": [], "affinity_url": bad},
            "candidates": [], "connections": [], "lists": [],
            "activity": {"first_email": null, "last_email": null, "last_event": null, "next_event": null, "last_interaction": null},
            "opportunities": [{"id": 8, "name": "Acme Series B", "list_name": "Fundraising", "status": "New", "affinity_url": bad}],
            "fetched_at": "2026-11-25T10:00:00Z", "stale": false, "error": null
        }))
        .unwrap();
        let (state, _set) = signal(CardState::Ready(Box::new(card)));
        let (host, _handle) = mount(state);
        assert_eq!(text(&host, "lens-entity-name").as_deref(), Some("Acme"), "{bad}: the name is shown");
        assert_eq!(text(&host, "lens-opportunity").as_deref().map(|t| t.contains("Acme Series B")), Some(true));
        assert!(host.query_selector("a").unwrap().is_none(), "{bad}: no link");
        host.remove();
    }
}
