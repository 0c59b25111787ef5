//! affinity-core compiled to wasm32 and run in headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use affinity_core::transport::{HttpRequest, HttpResponse, Transport};
use affinity_core::{CardStatus, Client, ClientConfig, Error, QueryKind, lookup_card, resolve_page};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn page_resolution_works_in_the_browser() {
    let q = resolve_page("https://www.shop.acme.co.uk/pricing", &[]).unwrap();
    assert_eq!(q.kind, QueryKind::Domain);
    assert_eq!(q.value, "acme.co.uk");
}

/// Answers every request with one canned response and records the requests.
struct Canned {
    status: u16,
    body: &'static str,
    seen: RefCell<Vec<HttpRequest>>,
}

impl Transport for Canned {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.seen.borrow_mut().push(request);
        Ok(HttpResponse { status: self.status, headers: vec![], body: self.body.to_owned() })
    }
}

#[wasm_bindgen_test]
async fn a_domain_lookup_keeps_only_exact_domain_matches() {
    let transport = Canned {
        status: 200,
        body: r#"{"organizations":[{"id":1,"name":"Acme","domain":"acme.com","domains":["acme.com"]},
                                   {"id":2,"name":"Acme AU","domain":"acme.com.au","domains":[]}],"next_page_token":null}"#,
        seen: RefCell::new(vec![]),
    };
    let client = Client::with_transport(ClientConfig::new("https://sandbox.test/", "k"), transport);
    let card = lookup_card(&client, &resolve_page("https://acme.com", &[]).unwrap()).await;
    assert_eq!(card.status, CardStatus::Matched);
    assert_eq!(card.entity.unwrap().id, 1);
}

#[wasm_bindgen_test]
async fn a_rejected_key_becomes_an_unauthorized_card() {
    let transport = Canned { status: 401, body: r#"{"message":"Invalid API key"}"#, seen: RefCell::new(vec![]) };
    let client = Client::with_transport(ClientConfig::new("https://sandbox.test", "bad"), transport);
    let card = lookup_card(&client, &resolve_page("https://acme.com", &[]).unwrap()).await;
    assert_eq!(card.status, CardStatus::Error);
    assert_eq!(card.error.unwrap().kind, "unauthorized");
}

#[wasm_bindgen_test]
async fn the_fetch_transport_reports_an_unreachable_server_as_unavailable() {
    // Port 9 (discard) on loopback: nothing listens there.
    let client = Client::new(ClientConfig::new("http://127.0.0.1:9", "k"));
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.kind(), "unavailable", "{err}");
}
