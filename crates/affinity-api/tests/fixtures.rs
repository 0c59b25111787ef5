//! Every recorded or documented Affinity response in shared/fixtures/affinity-v1 decodes
//! into its model. The files are discovered by walking the folder; a failure names the
//! file and the field.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use affinity_api::client::decode;
use affinity_api::models::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("AFFINITY_FIXTURES") {
        return PathBuf::from(dir);
    }
    // The workspace sits beside shared/ (…/main and …/shared).
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/affinity-v1")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") && path.file_name().is_some_and(|n| n != "index.json") {
            out.push(path);
        }
    }
}

/// Decodes as `T`, reporting the failing field.
fn as_<T: DeserializeOwned>(text: &str) -> Result<String, String> {
    decode::<T>(text)
        .map(|_| std::any::type_name::<T>().rsplit("::").next().unwrap_or_default().to_owned())
        .map_err(|e| e.to_string())
}

/// Picks the model for a file from its folder (the endpoint family) and its JSON shape
/// (bare array, paged wrapper or single object), and decodes it.
fn decode_fixture(folder: &str, text: &str) -> Result<String, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let is_array = json.is_array();
    // A page has a token, or its folder's wrapper key (a last page may omit the token).
    let wrappers: &[&str] = match folder {
        "interactions" => &["emails", "events", "chat_messages"],
        "entity-files" => &["entity_files"],
        "list-entries" => &["list_entries"],
        "persons" | "organizations" | "opportunities" | "notes" | "reminders" => &[folder],
        _ => &[],
    };
    let paged =
        json.get("next_page_token").is_some() || wrappers.iter().any(|k| json.get(k).is_some_and(Value::is_array));
    match folder {
        "whoami" => as_::<WhoAmI>(text),
        "rate-limit" => as_::<RateLimit>(text),
        "common" => as_::<Success>(text),
        "lists" if is_array => as_::<Vec<List>>(text),
        "lists" => as_::<List>(text),
        "list-entries" if is_array => as_::<Vec<ListEntry>>(text),
        "list-entries" if paged => as_::<Page<ListEntry>>(text),
        "list-entries" => as_::<ListEntry>(text),
        "fields" if is_array => as_::<Vec<Field>>(text),
        "fields" => as_::<Field>(text),
        "field-values" if is_array => as_::<Vec<FieldValue>>(text),
        "field-values" => as_::<FieldValue>(text),
        "field-value-changes" if is_array || paged => as_::<Page<FieldValueChange>>(text),
        "field-value-changes" => as_::<FieldValueChange>(text),
        "persons" if paged => as_::<Page<Person>>(text),
        "persons" => as_::<Person>(text),
        "organizations" if paged => as_::<Page<Organization>>(text),
        "organizations" => as_::<Organization>(text),
        "opportunities" if paged => as_::<Page<Opportunity>>(text),
        "opportunities" => as_::<Opportunity>(text),
        "interactions" if paged => as_::<Page<Interaction>>(text),
        "interactions" => as_::<Interaction>(text),
        "relationships-strengths" => as_::<Vec<RelationshipStrength>>(text),
        "notes" if paged || is_array => as_::<Page<Note>>(text),
        "notes" => as_::<Note>(text),
        "entity-files" if paged => as_::<Page<EntityFile>>(text),
        "entity-files" => as_::<EntityFile>(text),
        "reminders" if paged => as_::<Page<Reminder>>(text),
        "reminders" => as_::<Reminder>(text),
        "webhooks" if is_array => as_::<Vec<WebhookSubscription>>(text),
        "webhooks" if json.get("body").is_some() => {
            let event: WebhookEvent = decode(text).map_err(|e| e.to_string())?;
            let body = event.body.to_string();
            let family = event.event.split('.').next().unwrap_or_default();
            match (family, event.event.as_str()) {
                (_, "organization.merged") => as_::<OrganizationMerged>(&body),
                ("list_entry", _) => as_::<ListEntry>(&body),
                ("field_value", _) => as_::<FieldValue>(&body),
                ("organization", _) => as_::<Organization>(&body),
                ("person", _) => as_::<Person>(&body),
                ("opportunity", _) => as_::<Opportunity>(&body),
                ("note", _) => as_::<Note>(&body),
                ("reminder", _) => as_::<Reminder>(&body),
                ("file", _) => as_::<EntityFile>(&body),
                ("field", _) => as_::<Field>(&body),
                _ => Err(format!("no model for webhook event {}", event.event)),
            }
            .map(|m| format!("WebhookEvent<{m}>"))
        }
        "webhooks" => as_::<WebhookSubscription>(text),
        other => Err(format!("no model for the folder {other:?}")),
    }
}

#[test]
fn every_fixture_decodes_into_its_model() {
    let dir = fixtures_dir();
    assert!(dir.is_dir(), "fixtures not found at {} (set AFFINITY_FIXTURES)", dir.display());
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    assert!(files.len() >= 60, "expected the 60 fixture files, found {}", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let folder = file.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or_default();
        let text = std::fs::read_to_string(file).unwrap();
        if let Err(e) = decode_fixture(folder, &text) {
            failures.push(format!("{}: {e}", file.strip_prefix(&dir).unwrap_or(file).display()));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures failed:\n{}", failures.len(), files.len(), failures.join("\n"));
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(fixtures_dir().join(path)).unwrap()
}

#[test]
fn unlimited_monthly_budget_is_read_as_unlimited() {
    let rl: RateLimit = decode(&fixture("rate-limit/rate_limit.unlimited.affinity-node.json")).unwrap();
    assert_eq!(rl.rate.org_monthly.limit, RateLimitValue::Unlimited);
    assert_eq!(rl.rate.api_key_per_minute.limit, RateLimitValue::Limited(900));
    assert_eq!(rl.rate.api_key_per_minute.remaining, RateLimitValue::Limited(878));
}

#[test]
fn list_entry_pages_end_on_an_empty_page_without_a_token() {
    let first: Page<ListEntry> = decode(&fixture("list-entries/paged_page1.affinity-node.json")).unwrap();
    assert_eq!(first.items.len(), 1);
    assert!(first.next_page_token.is_some());
    let last: Page<ListEntry> = decode(&fixture("list-entries/paged_last_empty.affinity-node.json")).unwrap();
    assert!(last.items.is_empty());
    assert_eq!(last.next_page_token, None);
}

#[test]
fn field_values_are_typed_by_their_value_type() {
    let values: Vec<FieldValue> = decode(&fixture("field-values/get_all.affinity-node.json")).unwrap();
    assert!(
        matches!(values[0].data(Some(ValueType::LOCATION)), FieldValueData::Location(ref l) if l.city.as_deref() == Some("San Francisco"))
    );
    assert_eq!(values[1].id, 2634897436, "ids beyond 2^31 survive");
    assert_eq!(values[1].data(None), FieldValueData::Dropdown("Software Engineer".into()));
    let ranked: FieldValue = decode(&fixture("field-values/ranked_dropdown_value.docs.json")).unwrap();
    assert!(matches!(ranked.data(Some(ValueType::RANKED_DROPDOWN)), FieldValueData::RankedDropdown(_)));
}

#[test]
fn legacy_webhook_dates_keep_their_offset() {
    let event: WebhookEvent = decode(&fixture("webhooks/event_list_entry_created.helpcenter.json")).unwrap();
    let entry: ListEntry = serde_json::from_value(event.body).unwrap();
    assert_eq!(entry.created_at.unwrap().to_iso(), "2021-11-11T06:58:31.000-08:00");
    // The example says entity_type 1 but carries a person: the body's keys decide.
    assert!(
        matches!(entry.entity(), Some(ListEntity::Person(ref p)) if p.first_name == "John"),
        "{:?}",
        entry.entity()
    );
}

#[test]
fn unknown_enum_codes_are_kept_not_rejected() {
    let field: Field = decode(r#"{"id":1,"name":"X","value_type":99,"allows_multiple":false}"#).unwrap();
    assert_eq!(field.value_type.code(), 99);
    let person: Person = decode(r#"{"id":1,"type":2,"first_name":"C","last_name":null,"emails":null}"#).unwrap();
    assert_eq!(person.person_type.code(), 2);
    assert!(person.emails.is_empty());
}

#[test]
fn a_bad_field_is_named_in_the_error() {
    let err = decode::<Page<Person>>(r#"{"persons":[{"id":1},{"id":"x"}],"next_page_token":null}"#).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("persons[1].id"), "{text}");
}
