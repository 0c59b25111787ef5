//! The look-up and the card's writes against the sandbox over HTTP.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::Arc;

use affinity_api::endpoints::{self, DetailOptions, EntityRef, SearchQuery};
use affinity_api::{Client, ClientConfig};
use affinity_sandbox::seed::ids;
use affinity_sandbox::{Sandbox, SandboxConfig};
use lens_core::{CardStatus, LensClient, Query, QueryKind, lookup_card};

const KEY: &str = "test-key";

async fn start_with(config: SandboxConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Sandbox::new(config).serve(listener));
    url
}

async fn start() -> String {
    start_with(SandboxConfig::new(KEY)).await
}

fn client_for(url: &str, key: &str) -> LensClient {
    LensClient::new(Client::builder(ClientConfig::new(url, key), affinity_api::DefaultTransport::new()), Arc::default())
}

#[tokio::test]
async fn the_core_lookup_matches_a_seeded_domain_against_the_sandbox() {
    let url = start().await;
    let client = client_for(&url, KEY);
    let card = lookup_card(&client, &Query { kind: QueryKind::Domain, value: "acme.test".into() }).await;
    assert_eq!(card.status, CardStatus::Matched);
    assert_eq!(card.entity.unwrap().name, "Acme Corporation");
    let card = lookup_card(&client, &Query { kind: QueryKind::Domain, value: "nobody.test".into() }).await;
    assert_eq!(card.status, CardStatus::NotFound);
    let bad = client_for(&url, "wrong");
    let card = lookup_card(&bad, &Query { kind: QueryKind::Domain, value: "acme.test".into() }).await;
    assert_eq!(card.error.unwrap().kind, "unauthorized");
}

/// The card's writes against the sandbox: each is read back, and each done twice (a retry)
/// changes nothing the second time.
#[tokio::test]
async fn card_writes_are_read_back_and_a_retry_creates_no_duplicate() {
    use lens_core::EntityKind;
    use lens_core::actions::{Action, list_choices, perform};
    let url = start().await;
    let c = client_for(&url, KEY);

    // Create the organization; again: it is found, not created twice.
    let create = Action::CreateOrganization { name: "Brand New".into(), domain: "brand-new.test".into() };
    let first = perform(&c, None, &create).await.unwrap();
    assert!(first.changed, "{first:?}");
    let again = perform(&c, None, &create).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.target, first.target);
    let found = c.execute(&endpoints::search_organizations(&SearchQuery::term("brand-new.test"))).await.unwrap();
    assert_eq!(found.items.len(), 1);
    let target = first.target.unwrap();
    assert_eq!(target.kind, EntityKind::Organization);

    // The lists an organization can go on, with the Status options of each.
    let choices = list_choices(&c).await.unwrap();
    let pipeline = choices.iter().find(|l| l.id == ids::DEAL_PIPELINE).expect("the pipeline is a choice");
    assert_eq!(pipeline.kind, EntityKind::Organization);
    assert!(pipeline.statuses.len() >= 3, "{pipeline:?}");

    // Add to the pipeline, twice: one entry.
    let add = Action::AddToList { list_id: ids::DEAL_PIPELINE };
    assert!(perform(&c, Some(target), &add).await.unwrap().changed);
    let second = perform(&c, Some(target), &add).await.unwrap();
    assert!(!second.changed);
    assert!(second.message.contains("Already on"), "{}", second.message);
    let org = c.execute(&endpoints::organization(target.id, DetailOptions::default())).await.unwrap();
    let entries: Vec<_> = org.list_entries.unwrap().into_iter().filter(|e| e.list_id == ids::DEAL_PIPELINE).collect();
    assert_eq!(entries.len(), 1);

    // Set its Status, twice, then another: one value, changed in place.
    let status = pipeline.statuses[1].text.clone();
    let set = Action::SetStatus { list_id: ids::DEAL_PIPELINE, entry_id: entries[0].id, status: status.clone() };
    assert!(perform(&c, Some(target), &set).await.unwrap().changed);
    assert!(!perform(&c, Some(target), &set).await.unwrap().changed);
    let other = pipeline.statuses[2].text.clone();
    let set_other = Action::SetStatus { list_id: ids::DEAL_PIPELINE, entry_id: entries[0].id, status: other.clone() };
    assert!(perform(&c, Some(target), &set_other).await.unwrap().changed);
    let values = c.execute(&endpoints::field_values(EntityRef::ListEntry(entries[0].id))).await.unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0].value["text"], serde_json::json!(other));
    let card = lookup_card(&c, &Query { kind: QueryKind::Domain, value: "brand-new.test".into() }).await;
    assert_eq!(card.lists[0].status.as_ref().unwrap().text, other, "the card shows the new Status at once");

    // A note, twice: one note.
    let note = Action::AddNote { content: "Met the founders at the demo day.".into() };
    assert!(perform(&c, Some(target), &note).await.unwrap().changed);
    assert!(!perform(&c, Some(target), &note).await.unwrap().changed);
    let notes = c.execute(&endpoints::notes(Some(EntityRef::Organization(target.id)), None)).await.unwrap();
    assert_eq!(notes.items.len(), 1);

    // Errors say what is wrong.
    let bad = Action::SetStatus { list_id: ids::DEAL_PIPELINE, entry_id: entries[0].id, status: "Nope".into() };
    let e = perform(&c, Some(target), &bad).await.unwrap_err();
    assert!(e.to_string().contains("not a Status"), "{e}");
    let e = perform(&c, None, &add).await.unwrap_err();
    assert_eq!(e.kind(), "invalid");
}

/// A read-only key may look but not write: the write reports 403 and nothing changes.
#[tokio::test]
async fn a_write_with_a_read_only_key_is_refused() {
    use lens_core::EntityKind;
    use lens_core::actions::{Action, Target, perform};
    let url = start_with(SandboxConfig { read_only_key: Some("ro".into()), ..SandboxConfig::new(KEY) }).await;
    let ro = client_for(&url, "ro");
    let target = Target { kind: EntityKind::Organization, id: ids::ACME };
    let e = perform(&ro, Some(target), &Action::AddNote { content: "hello".into() }).await.unwrap_err();
    assert_eq!(e.kind(), "forbidden");
}
