//! The sandbox over HTTP, as clients see it.

use affinity_core::{CardStatus, Client, ClientConfig, Query, QueryKind, lookup_card};
use affinity_server::sandbox::{Sandbox, SandboxConfig};

const KEY: &str = "test-key";

async fn start() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Sandbox::new(SandboxConfig::new(KEY)).serve(listener));
    url
}

#[tokio::test]
async fn basic_and_bearer_auth_are_both_accepted() {
    let url = start().await;
    let http = reqwest::Client::new();
    let basic = http.get(format!("{url}/organizations?term=acme")).basic_auth("", Some(KEY)).send().await.unwrap();
    assert_eq!(basic.status(), 200);
    let bearer = http.get(format!("{url}/organizations?term=acme")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(bearer.status(), 200);
    let body: serde_json::Value = bearer.json().await.unwrap();
    assert!(body["organizations"].as_array().unwrap().iter().any(|o| o["name"] == "Acme Corporation"));
    assert!(body.get("next_page_token").is_some());
}

#[tokio::test]
async fn a_missing_or_wrong_key_gets_401_with_a_json_error() {
    let url = start().await;
    let http = reqwest::Client::new();
    for request in [
        http.get(format!("{url}/organizations?term=acme")),
        http.get(format!("{url}/organizations?term=acme")).basic_auth("", Some("wrong")),
        http.get(format!("{url}/organizations/7133202")).bearer_auth("wrong"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn get_organization_by_id_and_404_for_an_unknown_one() {
    let url = start().await;
    let client = Client::new(ClientConfig::new(&url, KEY));
    let org = client.get_organization(7133202).await.unwrap();
    assert_eq!(org.name, "Acme Corporation");
    assert!(org.person_ids.is_some());
    let err = client.get_organization(1).await.unwrap_err();
    assert_eq!(err.kind(), "not_found");
}

#[tokio::test]
async fn paging_follows_tokens_and_refuses_a_token_with_other_parameters() {
    let url = start().await;
    let http = reqwest::Client::new();
    let first: serde_json::Value = http
        .get(format!("{url}/organizations?term=test&page_size=2"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["organizations"].as_array().unwrap().len(), 2);
    let token = first["next_page_token"].as_str().unwrap();
    let second = http
        .get(format!("{url}/organizations?term=test&page_size=2&page_token={token}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    let second: serde_json::Value = second.json().await.unwrap();
    assert_ne!(second["organizations"][0]["id"], first["organizations"][0]["id"]);
    let other = http
        .get(format!("{url}/organizations?term=globex&page_size=2&page_token={token}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 422);
}

#[tokio::test]
async fn the_core_lookup_matches_a_seeded_domain_against_the_sandbox() {
    let url = start().await;
    let client = Client::new(ClientConfig::new(&url, KEY));
    let card = lookup_card(&client, &Query { kind: QueryKind::Domain, value: "acme.test".into() }).await;
    assert_eq!(card.status, CardStatus::Matched);
    assert_eq!(card.entity.unwrap().name, "Acme Corporation");
    let card = lookup_card(&client, &Query { kind: QueryKind::Domain, value: "nobody.test".into() }).await;
    assert_eq!(card.status, CardStatus::NotFound);
    let bad = Client::new(ClientConfig::new(&url, "wrong"));
    let card = lookup_card(&bad, &Query { kind: QueryKind::Domain, value: "acme.test".into() }).await;
    assert_eq!(card.error.unwrap().kind, "unauthorized");
}
