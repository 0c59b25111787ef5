//! What an opened card adds (issue #23), against the sandbox: the latest notes, every field
//! of a list entry (the same with a v2 key and a v1-only key), the company's firmographics,
//! and writes to each kind of field, each found done when retried or sent twice at once.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::Arc;

use affinity_api::endpoints::{self, EntityRef};
use affinity_api::{Client, ClientConfig, Error};
use affinity_sandbox::seed::ids;
use affinity_sandbox::{Sandbox, SandboxConfig};
use lens_core::actions::{Action, Target, perform};
use lens_core::card::{Card, CardField, Phase};
use lens_core::fields::{FieldInput, FieldOp};
use lens_core::lookup::lookup;
use lens_core::{CardStatus, EntityKind, LensClient, PageHints, Query, QueryKind};
use serde_json::{Value, json};

const KEY: &str = "extras-key";
const V1_ONLY: &str = "extras-v1-key";
const READ_ONLY: &str = "extras-read-only-key";

async fn start() -> (String, Sandbox) {
    start_with(SandboxConfig {
        v1_only_key: Some(V1_ONLY.into()),
        read_only_key: Some(READ_ONLY.into()),
        ..SandboxConfig::new(KEY)
    })
    .await
}

async fn start_with(config: SandboxConfig) -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(config);
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn client(url: &str, key: &str) -> LensClient {
    let builder = Client::builder(ClientConfig::new(url, key), affinity_api::DefaultTransport::new());
    LensClient::new(builder.cache(Arc::new(affinity_api::cache::MemoryCache::default())), Arc::default())
}

async fn card(c: &LensClient, domain: &str, phase: Phase) -> Card {
    let query = Query { kind: QueryKind::Domain, value: domain.into() };
    let card = lookup(c, &query, &PageHints::default(), phase, |_| {}).await;
    assert_eq!(card.status, CardStatus::Matched, "{:?}", card.error);
    card
}

fn deal(card: &Card) -> &lens_core::card::CardListEntry {
    card.lists.iter().find(|l| l.list_id == ids::DEAL_PIPELINE).expect("on the Deal Pipeline")
}

/// The fields of the Deal Pipeline entry.
fn deal_fields(card: &Card) -> &[CardField] {
    let entry = deal(card).entry_id;
    &card.fields.iter().find(|f| f.entry_id == entry).expect("the entry's fields").fields
}

fn field<'a>(card: &'a Card, name: &str) -> &'a CardField {
    deal_fields(card).iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no field {name}"))
}

const ACME: Target = Target { kind: EntityKind::Organization, id: ids::ACME };

#[tokio::test]
async fn an_opened_card_has_the_three_latest_notes_newest_first_as_plain_text() {
    let (url, _sandbox) = start().await;
    let c = client(&url, KEY);
    assert!(card(&c, "acme.test", Phase::Pill).await.notes.is_empty(), "a page view reads no note");
    let notes = card(&c, "acme.test", Phase::Card).await.notes;
    let texts: Vec<&str> = notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            // An HTML note reads as its text; a text note keeps its markup, as text.
            "Diligence call: strong net retention & a clear path to Series C.\nNext: references.",
            "Met Bob at the Acme offsite. <b>Not HTML</b>: shown as text.",
            "Intro from Northwind Capital: they lead the Series B and want a co-investor.",
        ]
    );
    assert!(notes.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    assert_eq!(notes[0].author.as_ref().map(|a| a.name.as_str()), Some("Ben Okafor"));
    assert!(
        notes
            .iter()
            .all(|n| n.affinity_url.as_deref() == Some("https://sandbox-ventures.affinity.co/companies/7133202"))
    );
}

#[tokio::test]
async fn a_note_written_from_the_card_is_the_next_cards_first_and_written_once() {
    let (url, _sandbox) = start().await;
    let c = client(&url, KEY);
    let done = perform(&c, Some(ACME), &Action::AddNote { content: "Term sheet sent <today>.".into() }).await.unwrap();
    assert!(done.changed);
    let again = perform(&c, Some(ACME), &Action::AddNote { content: "Term sheet sent <today>.".into() }).await.unwrap();
    assert!(!again.changed, "a retry finds it written");
    // The next opened card has it first (the write made nothing cached fresh), as text.
    let notes = card(&c, "acme.test", Phase::Card).await.notes;
    let first = &notes[0];
    assert_eq!(
        (first.text.as_str(), first.author.as_ref().map(|a| a.id)),
        ("Term sheet sent <today>.", Some(ids::ALICE))
    );
    assert_eq!(notes.iter().filter(|n| n.text == first.text).count(), 1, "written once");
}

#[tokio::test]
async fn every_field_of_a_list_entry_is_on_the_card_the_same_with_either_key() {
    let (url, _sandbox) = start().await;
    let v2 = card(&client(&url, KEY), "acme.test", Phase::Card).await;
    let v1 = card(&client(&url, V1_ONLY), "acme.test", Phase::Card).await;
    let shown: Vec<(&str, &str, Value)> =
        deal_fields(&v2).iter().map(|f| (f.name.as_str(), f.value_type.as_str(), f.value.clone())).collect();
    let names: Vec<&str> = shown.iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        ["Status", "Owners", "Amount", "Source", "Priority", "Sectors", "Next Step", "Close Date", "Co-investors"]
    );
    assert_eq!(field(&v2, "Source").value["text"], "Referral");
    assert_eq!(field(&v2, "Priority").value["text"], "High");
    let sectors: Vec<&Value> = field(&v2, "Sectors").value.as_array().unwrap().iter().map(|v| &v["text"]).collect();
    assert_eq!(sectors, [&json!("AI"), &json!("Developer Tools")]);
    assert_eq!(field(&v2, "Next Step").value, json!("Partner meeting with the CEO"));
    assert_eq!(field(&v2, "Close Date").value, json!("2027-01-15T08:00:00.000Z"));
    assert_eq!(
        field(&v2, "Co-investors").value,
        json!([{"id": ids::GLOBEX, "name": "Globex", "domain": "globex.test"}])
    );
    assert_eq!(field(&v2, "Owners").value_type, "person-multi");
    assert!(field(&v2, "Source").options.iter().any(|o| o.text == "Conference"));
    assert!(deal_fields(&v2).iter().all(|f| f.editable), "a key that writes may change each");
    assert_eq!(v2.fields.len(), v2.lists.len(), "every entry's fields");
    assert_eq!(v2.fields, v1.fields, "the same fields with a v1-only key");
}

#[tokio::test]
async fn firmographics_come_with_a_v2_key_and_are_left_out_without() {
    let (url, sandbox) = start().await;
    let c = client(&url, KEY);
    // With the list entries of the page view: the firmographics cost nothing more.
    let pill = card(&c, "acme.test", Phase::Pill).await;
    let f = pill.firmographics.expect("Acme's enriched fields");
    assert_eq!((f.employees, f.total_funding_usd, f.year_founded), (Some(420), Some(48_500_000.0), Some(2014)));
    assert_eq!(f.last_round.as_deref(), Some("Series B"));
    assert_eq!(f.location.as_deref(), Some("San Francisco, California, United States"));
    assert_eq!(f.industries, ["Manufacturing", "Aerospace"]);
    // A company on no list: asked with the company, once.
    let before = sandbox.requests().len();
    let solo = card(&c, "solo.test", Phase::Card).await;
    let asked: Vec<String> = sandbox.requests().split_off(before);
    assert_eq!(
        asked.iter().filter(|r| r.contains("/v2/companies/7133207?fieldTypes=enriched")).count(),
        1,
        "{asked:?}"
    );
    assert!(solo.firmographics.is_some());
    // A v1-only key reads none: no firmographics, and no error.
    let v1 = card(&client(&url, V1_ONLY), "acme.test", Phase::Card).await;
    assert_eq!((v1.firmographics, v1.error), (None, None));
}

/// The sandbox's values of one field of Acme's Deal Pipeline entry, as v1 stores them.
async fn stored(url: &str, entry: i64, field: i64) -> Vec<Value> {
    let c = client(url, KEY);
    let values = c.uncached().execute(&endpoints::field_values(EntityRef::ListEntry(entry))).await.unwrap();
    values.into_iter().filter(|v| v.field_id == field).map(|v| v.value).collect()
}

/// Sends `action` twice at once (a double click), then once more (a retried request): the
/// first changes the field, the others find it done.
async fn three_times(c: &LensClient, action: &Action) {
    let (a, b) = futures::join!(perform(c, Some(ACME), action), perform(c, Some(ACME), action));
    let (a, b) = (a.unwrap(), b.unwrap());
    // One at a time: the second reads the first one's effect.
    assert!(a.changed != b.changed, "one of the two writes: {a:?} {b:?}");
    let again = perform(c, Some(ACME), action).await.unwrap();
    assert!(!again.changed, "a retry finds it done: {again:?}");
}

#[tokio::test]
async fn each_kind_of_field_is_written_once_with_either_key() {
    let (url, sandbox) = start().await;
    for key in [KEY, V1_ONLY] {
        let mark = sandbox.requests().len();
        let c = client(&url, key);
        let before = card(&c, "acme.test", Phase::Card).await;
        let entry = deal(&before).entry_id;
        let at = |name: &str| field(&before, name).id;
        let set = |name: &str, op: FieldOp, value: FieldInput| Action::SetField {
            list_id: ids::DEAL_PIPELINE,
            entry_id: entry,
            field_id: at(name),
            op,
            value: Some(value),
            label: String::new(),
        };
        let option = |name: &str, text: &str| {
            let id = field(&before, name).options.iter().find(|o| o.text == text).unwrap().id;
            FieldInput::Option { id }
        };
        // Each key writes values of its own (the second finds the first's otherwise).
        let v2 = key == KEY;
        let amount = if v2 { 7_500_000.0 } else { 8_250_000.5 };
        let text = format!("Send the term sheet ({key})");
        let (source, priority, sector) =
            if v2 { ("Conference", "Low", "Climate") } else { ("Outbound", "Medium", "Health") };
        let (date, owner, investor) =
            if v2 { ("2027-03-31", ids::ALICE, ids::INITECH) } else { ("2028-02-29", ids::ALICE + 1, ids::MEGACORP) };
        let cases = [
            (set("Amount", FieldOp::Set, FieldInput::Number { number: amount }), "Amount", json!([amount])),
            (set("Source", FieldOp::Set, option("Source", source)), "Source", json!([source])),
            (set("Priority", FieldOp::Set, option("Priority", priority)), "Priority", Value::Null),
            (set("Next Step", FieldOp::Set, FieldInput::Text { text: text.clone() }), "Next Step", json!([text])),
            (set("Close Date", FieldOp::Set, FieldInput::Date { date: date.into() }), "Close Date", Value::Null),
            (set("Sectors", FieldOp::Add, option("Sectors", sector)), "Sectors", Value::Null),
            (set("Owners", FieldOp::Add, FieldInput::Person { id: owner }), "Owners", Value::Null),
            (set("Co-investors", FieldOp::Add, FieldInput::Company { id: investor }), "Co-investors", Value::Null),
        ];
        for (action, name, want) in cases {
            three_times(&c, &action).await;
            let values = stored(&url, entry, at(name)).await;
            if want != Value::Null {
                assert_eq!(Value::Array(values.clone()), want, "{key}: {name}");
            }
            let once = |want: Value| values.iter().filter(|v| **v == want).count() == 1;
            match name {
                "Priority" | "Close Date" => assert_eq!(values.len(), 1, "{key}: {values:?}"),
                "Sectors" => assert!(once(json!(sector)), "{key}: {values:?}"),
                "Owners" => assert!(once(json!(owner)), "{key}: {values:?}"),
                "Co-investors" => assert!(once(json!(investor)), "{key}: {values:?}"),
                _ => {}
            }
        }
        c.invalidate();
        let after = card(&c, "acme.test", Phase::Card).await;
        assert_eq!(field(&after, "Priority").value["text"], priority);
        assert_eq!(field(&after, "Close Date").value.as_str().map(|d| &d[..10]), Some(date));
        assert!(field(&after, "Owners").value.as_array().unwrap().iter().any(|o| o["id"] == owner));
        // Removing a value, twice: it is gone, and the second finds it gone.
        let remove = set("Sectors", FieldOp::Remove, option("Sectors", sector));
        assert!(perform(&c, Some(ACME), &remove).await.unwrap().changed);
        assert!(!perform(&c, Some(ACME), &remove).await.unwrap().changed);
        assert!(!stored(&url, entry, at("Sectors")).await.contains(&json!(sector)));
        // API v2 where the key may, else v1.
        let sent = sandbox.requests().split_off(mark);
        let v2_writes = sent.iter().filter(|r| r.starts_with("POST /v2/lists/10/list-entries/")).count();
        let v1_writes =
            sent.iter().filter(|r| r.starts_with("POST /field-values") || r.starts_with("PUT /field-values")).count();
        assert_eq!((v2_writes > 0, v1_writes > 0), (v2, !v2), "{key}: {sent:?}");
        // Clearing a single value.
        let clear = Action::SetField {
            list_id: ids::DEAL_PIPELINE,
            entry_id: entry,
            field_id: at("Next Step"),
            op: FieldOp::Set,
            value: None,
            label: String::new(),
        };
        assert!(perform(&c, Some(ACME), &clear).await.unwrap().changed);
        assert!(stored(&url, entry, at("Next Step")).await.is_empty());
    }
}

#[tokio::test]
async fn a_read_only_key_gets_no_control_and_its_write_is_refused() {
    let (url, _sandbox) = start().await;
    let c = client(&url, READ_ONLY);
    let shown = card(&c, "acme.test", Phase::Card).await;
    assert!(!deal_fields(&shown).is_empty());
    assert!(shown.fields.iter().flat_map(|e| &e.fields).all(|f| !f.editable), "its grant reads only");
    // Without v2, whoami does not tell: the first write refused makes the key read-only.
    let config = SandboxConfig { read_only_key: Some(READ_ONLY.into()), v2_forbidden: true, ..SandboxConfig::new(KEY) };
    let (url, _sandbox) = start_with(config).await;
    let c = client(&url, READ_ONLY);
    let before = card(&c, "acme.test", Phase::Card).await;
    assert!(field(&before, "Next Step").editable);
    let action = Action::SetField {
        list_id: ids::DEAL_PIPELINE,
        entry_id: deal(&before).entry_id,
        field_id: field(&before, "Next Step").id,
        op: FieldOp::Set,
        value: Some(FieldInput::Text { text: "x".into() }),
        label: String::new(),
    };
    assert!(matches!(perform(&c, Some(ACME), &action).await, Err(Error::Forbidden { .. })));
    c.invalidate();
    let after = card(&c, "acme.test", Phase::Card).await;
    assert!(after.fields.iter().flat_map(|e| &e.fields).all(|f| !f.editable), "refused once: read-only for the card");
}

#[tokio::test]
async fn bad_input_is_refused_in_words_before_any_request() {
    let (url, sandbox) = start().await;
    let c = client(&url, KEY);
    let before = card(&c, "acme.test", Phase::Card).await;
    let amount = field(&before, "Amount");
    assert_eq!(amount.value_type, "number");
    let entry = deal(&before).entry_id;
    let mark = sandbox.requests().len();
    // What the card checks as the user types: "abc" is no number, 2026-02-30 no date.
    let typed = lens_core::fields::parse_input(&amount.name, &amount.value_type, "abc");
    assert_eq!(typed, Err("Amount takes a number, like 5000 or 2.5: \"abc\" is not one.".to_owned()));
    let close = field(&before, "Close Date");
    assert!(lens_core::fields::parse_input(&close.name, &close.value_type, "2026-02-30").is_err());
    // And what reaches `perform` without that check is refused before any call too.
    let set = |field_id, value| Action::SetField {
        list_id: ids::DEAL_PIPELINE,
        entry_id: entry,
        field_id,
        op: FieldOp::Set,
        value: Some(value),
        label: String::new(),
    };
    let bad_date = set(close.id, FieldInput::Date { date: "2026-02-30".into() });
    assert!(matches!(perform(&c, Some(ACME), &bad_date).await, Err(Error::Invalid { status: 0, .. })));
    assert_eq!(sandbox.requests().len(), mark, "no request: {:?}", &sandbox.requests()[mark..]);
    // A value of the wrong kind (a text for a number) is found so by the check's read, and
    // nothing is written.
    let text = set(amount.id, FieldInput::Text { text: "abc".into() });
    for key in [KEY, V1_ONLY] {
        let refused = perform(&client(&url, key), Some(ACME), &text).await;
        assert!(matches!(refused, Err(Error::Invalid { status: 0, .. })), "{key}: {refused:?}");
    }
    let writes = sandbox.requests()[mark..].iter().filter(|r| !r.starts_with("GET ")).count();
    assert_eq!(writes, 0, "{:?}", &sandbox.requests()[mark..]);
    assert_eq!(field(&card(&c, "acme.test", Phase::Card).await, "Amount").value, amount.value);
}
