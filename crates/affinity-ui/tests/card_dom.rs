//! The card mounted in a real browser (wasm-bindgen-test in headless Chromium).
#![cfg(target_arch = "wasm32")]

use affinity_core::{Card, CardStatus, Query, QueryKind};
use affinity_ui::{CardState, CardView};
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
