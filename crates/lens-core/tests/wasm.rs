//! lens-core compiled to wasm32 and run in headless Chromium (wasm-bindgen-test): page
//! resolution with the Public Suffix List, and a look-up over a browser-side transport.
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use affinity_api::transport::{HttpRequest, HttpResponse, Transport};
use affinity_api::{Client, ClientConfig, Error};
use lens_core::{CardStatus, LensClient, QueryKind, lookup_card, resolve_page};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn page_resolution_works_in_the_browser() {
    let q = resolve_page("https://www.shop.acme.co.uk/pricing", &[]).unwrap();
    assert_eq!(q.kind, QueryKind::Domain);
    assert_eq!(q.value, "acme.co.uk");
}

/// Answers every request with one status and body.
struct Canned {
    status: u16,
    body: &'static str,
}

impl Transport for Canned {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, Error> {
        Ok(HttpResponse { status: self.status, headers: vec![], body: self.body.to_owned() })
    }
}

fn lens<T: Transport + 'static>(base_url: &str, key: &str, transport: T) -> LensClient<T> {
    LensClient::new(Client::builder(ClientConfig::new(base_url, key), transport), Arc::default())
}

/// Answers like a tiny Affinity: one organization on acme.com, a near miss, nothing else.
struct TinyAffinity;

impl Transport for TinyAffinity {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let path = request
            .url
            .split("://")
            .nth(1)
            .and_then(|r| r.split_once('/'))
            .map(|(_, p)| format!("/{p}"))
            .unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default().to_owned();
        let body = match path.as_str() {
            "/organizations" => {
                r#"{"organizations":[{"id":1,"name":"Acme","domain":"acme.com","domains":["acme.com"]},
                                   {"id":2,"name":"Acme AU","domain":"acme.com.au","domains":[]}],"next_page_token":null}"#
            }
            "/organizations/1" => {
                r#"{"id":1,"name":"Acme","domain":"acme.com","domains":["acme.com"],"person_ids":[],"list_entries":[]}"#
            }
            "/auth/whoami" => {
                r#"{"tenant":{"id":1,"name":"F","subdomain":"firm"},"user":{"id":2,"firstName":"A","lastName":"B","email":"a@firm.com"}}"#
            }
            "/persons" => r#"{"persons":[],"next_page_token":null}"#,
            _ => "[]",
        };
        Ok(HttpResponse { status: 200, headers: vec![], body: body.to_owned() })
    }
}

#[wasm_bindgen_test]
async fn a_domain_lookup_keeps_only_exact_domain_matches() {
    let client = lens("https://sandbox.test/", "k", TinyAffinity);
    let card = lookup_card(&client, &resolve_page("https://acme.com", &[]).unwrap()).await;
    assert_eq!(card.status, CardStatus::Matched, "{:?}", card.error);
    let entity = card.entity.unwrap();
    assert_eq!(entity.id, 1);
    assert_eq!(entity.affinity_url.as_deref(), Some("https://firm.affinity.co/companies/1"));
}

#[wasm_bindgen_test]
async fn a_rejected_key_becomes_an_unauthorized_card() {
    let transport = Canned { status: 401, body: r#"{"message":"Invalid API key"}"# };
    let client = lens("https://sandbox.test", "bad", transport);
    let card = lookup_card(&client, &resolve_page("https://acme.com", &[]).unwrap()).await;
    assert_eq!(card.status, CardStatus::Error);
    assert_eq!(card.error.unwrap().kind, "unauthorized");
}
