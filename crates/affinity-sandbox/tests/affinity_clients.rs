//! The sandbox as other Affinity clients see it: every request form the v1 reference and
//! its examples use (JSON and form bodies, parameters in the query string, booleans and
//! datetimes as clients spell them) gets Affinity's answer, every error is Affinity's JSON
//! error body with the right status, and every answer carries the keys the reference's
//! examples show (the fixtures in `shared/fixtures/affinity-v1`, read at test time).

use affinity_sandbox::seed::{self, ids};
use affinity_sandbox::{Sandbox, SandboxConfig, World};
use reqwest::Method;
use serde_json::{Value, json};

const KEY: &str = "test-key";

async fn start_world(world: World) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Sandbox::with_world(SandboxConfig::new(KEY), world).serve(listener));
    url
}

/// One sandbox over the seeded world for every test that does not need a world of its own
/// (generating it takes a second or two). It runs on its own thread: each test has its own
/// runtime. Tests that write make their own records, so they do not disturb each other.
async fn start() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(format!("http://{}", listener.local_addr().unwrap())).unwrap();
                Sandbox::new(SandboxConfig::new(KEY)).serve(listener).await.unwrap();
            });
        });
        rx.recv().unwrap()
    })
    .clone()
}

/// An answer: status, content type and the body as JSON (`Null` when it is not JSON).
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

/// Sends a request with an optional body of the given content type.
async fn send(url: &str, method: Method, path: &str, body: Option<(&str, String)>) -> Answer {
    let mut request = reqwest::Client::new().request(method, format!("{url}{path}")).basic_auth("", Some(KEY));
    if let Some((content_type, body)) = body {
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = response.text().await.unwrap();
    Answer { status, content_type, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
}

async fn get(url: &str, path: &str) -> Answer {
    send(url, Method::GET, path, None).await
}

fn json_body(v: Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

fn form_body(s: &str) -> Option<(&'static str, String)> {
    Some(("application/x-www-form-urlencoded", s.to_owned()))
}

/// Affinity's error: JSON with `errors[]` of `{code, message}` and a top-level `message`.
fn assert_affinity_error(answer: &Answer, status: u16, what: &str) {
    assert_eq!(answer.status, status, "{what}: {}", answer.body);
    assert!(answer.content_type.starts_with("application/json"), "{what}: content type {:?}", answer.content_type);
    let message = answer.body["message"].as_str().unwrap_or_else(|| panic!("{what}: no message in {}", answer.body));
    assert!(!message.is_empty(), "{what}");
    assert_eq!(answer.body["errors"][0]["message"], message, "{what}");
    assert_eq!(answer.body["errors"][0]["code"], status, "{what}");
}

async fn status_field(url: &str) -> (i64, Value) {
    let fields = get(url, &format!("/fields?list_id={}", ids::DEAL_PIPELINE)).await.body;
    let status = fields.as_array().unwrap().iter().find(|f| f["name"] == "Status").unwrap().clone();
    (status["id"].as_i64().unwrap(), status)
}

// ---- the four requests of the issue ---------------------------------------------------------

#[tokio::test]
async fn field_value_changes_carry_the_older_keys_of_the_reference_example() {
    let url = start().await;
    let (field_id, _) = status_field(&url).await;
    let changes = get(&url, &format!("/field-value-changes?field_id={field_id}&organization_id={}", ids::ACME)).await;
    assert_eq!(changes.status, 200);
    let changes = changes.body.as_array().unwrap().clone();
    assert!(!changes.is_empty());
    for change in changes {
        assert_eq!(change["entity_attribute_id"], field_id, "{change}");
        // The Deal Pipeline is a list of organizations: the entity is the `company`.
        assert_eq!(change["company"]["id"], ids::ACME, "{change}");
        assert_eq!(change["company"]["name"], "Acme Corporation");
        assert_eq!(change["person"], Value::Null);
        assert_eq!(change["opp"], Value::Null);
        assert!(change["changer"]["first_name"].is_string());
    }
    // On a list of people the entity is the `person`.
    let talent = get(&url, &format!("/fields?list_id={}", ids::TALENT)).await.body;
    let talent_status = talent.as_array().unwrap().iter().find(|f| f["name"] == "Status").unwrap()["id"].clone();
    let changes = get(&url, &format!("/field-value-changes?field_id={talent_status}")).await.body;
    let first = &changes[0];
    assert_eq!(first["person"]["id"], first["entity_id"], "{first}");
    assert_eq!(first["company"], Value::Null);
}

#[tokio::test]
async fn boolean_parameters_accept_the_spellings_clients_send_and_refuse_the_rest() {
    let url = start().await;
    for yes in ["true", "True", "1", "TRUE"] {
        let found = get(&url, &format!("/organizations?term=acme.test&with_interaction_dates={yes}")).await;
        assert_eq!(found.status, 200, "{yes}");
        let acme = found.body["organizations"].as_array().unwrap().iter().find(|o| o["id"] == ids::ACME).cloned();
        assert!(acme.unwrap()["interaction_dates"]["last_email_date"].is_string(), "{yes}");
        let detail = get(&url, &format!("/persons/{}?with_opportunities={yes}", ids::ALICE)).await;
        assert!(detail.body["opportunity_ids"].is_array(), "{yes}");
    }
    for no in ["false", "False", "0"] {
        let found = get(&url, &format!("/organizations?term=acme.test&with_interaction_dates={no}")).await;
        assert_eq!(found.status, 200, "{no}");
        assert!(found.body["organizations"][0].get("interaction_dates").is_none(), "{no}");
    }
    for bad in ["yes", "", "2"] {
        let refused = get(&url, &format!("/organizations?term=acme.test&with_interaction_dates={bad}")).await;
        assert_affinity_error(&refused, 422, bad);
        assert!(refused.body["message"].as_str().unwrap().contains("with_interaction_dates"));
        let refused = get(&url, &format!("/fields?exclude_dropdown_options={bad}")).await;
        assert_affinity_error(&refused, 422, bad);
    }
}

#[tokio::test]
async fn a_field_value_is_updated_from_the_query_string_with_an_empty_body() {
    let url = start().await;
    let (field_id, status) = status_field(&url).await;
    let entries = get(&url, &format!("/lists/{}/list-entries", ids::DEAL_PIPELINE)).await.body;
    let entry = entries[0]["id"].as_i64().unwrap();
    let values = get(&url, &format!("/field-values?list_entry_id={entry}")).await.body;
    let value = values.as_array().unwrap().iter().find(|v| v["field_id"] == field_id).unwrap()["id"].clone();
    let option = status["dropdown_options"][1].clone();
    for body in [None, Some(("", String::new())), Some(("application/json", String::new()))] {
        let updated = send(&url, Method::PUT, &format!("/field-values/{value}?value={}", option["id"]), body).await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        assert_eq!(updated.body["value"]["text"], option["text"]);
    }
    let missing = send(&url, Method::PUT, &format!("/field-values/{value}"), None).await;
    assert_affinity_error(&missing, 422, "no value anywhere");
}

#[tokio::test]
async fn form_bodies_are_read_as_the_reference_writes_them() {
    let url = start().await;
    // A note on two organizations, the arrays as `organization_ids[]=…`, percent-encoded or not.
    let form =
        format!("content=Met+them+at+the+fair&organization_ids[]={}&organization_ids%5B%5D={}", ids::ACME, ids::GLOBEX);
    let note = send(&url, Method::POST, "/notes", form_body(&form)).await;
    assert_eq!(note.status, 201, "{}", note.body);
    assert_eq!(note.body["content"], "Met them at the fair");
    assert_eq!(note.body["organization_ids"], json!([ids::ACME, ids::GLOBEX]));
    assert_eq!(note.body["type"], 0);

    let person =
        send(&url, Method::POST, "/persons", form_body("first_name=Ada&last_name=Byron&emails[]=ada%40byron.test"))
            .await;
    assert_eq!(person.status, 201, "{}", person.body);
    assert_eq!(person.body["emails"], json!(["ada@byron.test"]));
    let nobody = send(&url, Method::POST, "/persons", form_body("first_name=No&last_name=Mail&emails[]=")).await;
    assert_eq!(nobody.status, 201, "{}", nobody.body);
    assert_eq!(nobody.body["emails"], json!([]));

    let person_id = person.body["id"].as_i64().unwrap();
    let org = send(
        &url,
        Method::POST,
        "/organizations",
        form_body(&format!("name=Byron+Labs&domain=byron.test&person_ids[]={person_id}")),
    )
    .await;
    assert_eq!(org.status, 201, "{}", org.body);
    assert_eq!(org.body["domain"], "byron.test");
    assert_eq!(org.body["person_ids"], json!([person_id]));
    let org_id = org.body["id"].as_i64().unwrap();

    let entry = send(
        &url,
        Method::POST,
        &format!("/lists/{}/list-entries", ids::DEAL_PIPELINE),
        form_body(&format!("entity_id={org_id}")),
    )
    .await;
    assert_eq!(entry.status, 201, "{}", entry.body);
    let entry_id = entry.body["id"].as_i64().unwrap();

    // A number field's value, and a ranked dropdown's option id, sent as text.
    let fields = get(&url, &format!("/fields?list_id={}", ids::DEAL_PIPELINE)).await.body;
    let field = |name: &str| fields.as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone();
    let (amount, status) = (field("Amount"), field("Status"));
    let form = format!("field_id={}&entity_id={org_id}&list_entry_id={entry_id}&value=2500000", amount["id"]);
    let value = send(&url, Method::POST, "/field-values", form_body(&form)).await;
    assert_eq!(value.status, 201, "{}", value.body);
    assert_eq!(value.body["value"], 2500000);
    let option = &status["dropdown_options"][0];
    let form = format!("field_id={}&entity_id={org_id}&list_entry_id={entry_id}&value={}", status["id"], option["id"]);
    let value = send(&url, Method::POST, "/field-values", form_body(&form)).await;
    assert_eq!(value.status, 201, "{}", value.body);
    assert_eq!(value.body["value"]["text"], option["text"]);

    // The same writes as JSON still work, and read back the same.
    let note =
        send(&url, Method::POST, "/notes", json_body(json!({ "content": "JSON note", "person_ids": [person_id] })))
            .await;
    assert_eq!(note.status, 201, "{}", note.body);
    let notes = get(&url, &format!("/notes?person_id={person_id}")).await.body;
    assert_eq!(notes["notes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn interaction_times_without_an_offset_are_read_as_utc() {
    let url = start().await;
    let path = |start: &str, end: &str| {
        format!("/interactions?type=3&organization_id={}&start_time={start}&end_time={end}", ids::ACME)
    };
    let with_offset = get(&url, &path("2026-01-01T00:00:00Z", "2026-12-01T00:00:00%2B00:00")).await;
    assert_eq!(with_offset.status, 200, "{}", with_offset.body);
    let emails = with_offset.body["emails"].as_array().unwrap().len();
    assert!(emails > 0);
    for (start, end) in [
        ("2026-01-01T00:00:00", "2026-12-01T00:00:00"),
        ("2026-01-01T00:00:00.000", "2026-12-01T00:00:00.000000"),
        ("2026-01-01", "2026-12-01"),
        ("2026-01-01%2000:00:00", "2026-12-01%2000:00:00"),
    ] {
        let naive = get(&url, &path(start, end)).await;
        assert_eq!(naive.status, 200, "{start}: {}", naive.body);
        assert_eq!(naive.body["emails"].as_array().unwrap().len(), emails, "{start}");
    }
    // An hour east of UTC, the window starts an hour earlier: never fewer emails.
    let east = get(&url, &path("2026-01-01T00:00:00%2B01:00", "2026-12-01T00:00:00")).await;
    assert!(east.body["emails"].as_array().unwrap().len() >= emails);
    assert_affinity_error(&get(&url, &path("last+week", "2026-12-01")).await, 422, "not a time");
}

// ---- the pass over every endpoint -----------------------------------------------------------

#[tokio::test]
async fn every_error_is_affinitys_json_body_with_the_right_status() {
    let url = start().await;
    let notes = "/notes";
    // (status, method, path, body)
    type Case = (u16, Method, String, Option<(&'static str, String)>);
    let cases: Vec<Case> = vec![
        (400, Method::POST, notes.into(), Some(("application/json", "{\"content\": ".into()))),
        (422, Method::POST, notes.into(), Some(("application/json", "[1, 2]".into()))),
        (415, Method::POST, notes.into(), Some(("text/plain", "content=hi".into()))),
        (415, Method::POST, notes.into(), Some(("", "content=hi".into()))),
        (415, Method::POST, notes.into(), Some(("multipart/form-data; boundary=x", "--x--".into()))),
        (
            413,
            Method::POST,
            notes.into(),
            Some(("application/json", format!("{{\"content\": \"{}\"}}", "a".repeat(3 << 20)))),
        ),
        (422, Method::POST, notes.into(), json_body(json!({ "content": "no entity" }))),
        (422, Method::POST, notes.into(), json_body(json!({ "content": "x", "person_ids": "many" }))),
        (404, Method::POST, notes.into(), json_body(json!({ "content": "x", "organization_ids": [1] }))),
        (404, Method::POST, notes.into(), json_body(json!({ "content": "x", "parent_id": 1 }))),
        (422, Method::POST, notes.into(), json_body(json!({ "content": "x", "person_ids": [ids::ALICE], "type": 1 }))),
        (405, Method::DELETE, "/lists".into(), None),
        (405, Method::PATCH, format!("/organizations/{}", ids::ACME), None),
        (404, Method::GET, "/no-such-endpoint".into(), None),
        (404, Method::GET, "/organizations/1".into(), None),
        (422, Method::GET, "/organizations/acme".into(), None),
        (422, Method::GET, "/persons?page_size=ten".into(), None),
        (422, Method::GET, "/persons?page_token=not-a-token".into(), None),
        (422, Method::GET, "/field-values".into(), None),
        (422, Method::GET, "/field-value-changes".into(), None),
        (422, Method::GET, "/field-value-changes?field_id=1&person_id=1&organization_id=2".into(), None),
        (422, Method::GET, "/interactions?type=3&start_time=2026-01-01&end_time=2026-02-01".into(), None),
        (
            422,
            Method::GET,
            format!("/interactions?type=9&organization_id={}&start_time=2026-01-01&end_time=2026-02-01", ids::ACME),
            None,
        ),
        (
            422,
            Method::GET,
            format!("/interactions?type=3&person_id={}&start_time=2026-01-01&end_time=2026-02-01", ids::ALICE),
            None,
        ),
        (
            422,
            Method::GET,
            format!("/interactions?type=3&organization_id={}&start_time=2026-01-01&end_time=2028-01-01", ids::ACME),
            None,
        ),
        (422, Method::GET, "/persons?min_last_email_date=soon&term=acme".into(), None),
        (422, Method::GET, "/relationships-strengths".into(), None),
        (422, Method::GET, "/interactions/1".into(), None),
        (422, Method::POST, "/_sandbox/faults".into(), Some(("application/json", "{\"latency_ms\": \"slow\"}".into()))),
    ];
    for (status, method, path, body) in cases {
        let what = format!("{method} {path}");
        let answer = send(&url, method, &path, body).await;
        assert_affinity_error(&answer, status, &what);
    }
}

#[tokio::test]
async fn search_date_filters_work_in_the_query_and_as_a_json_body_on_a_get() {
    let url = start().await;
    let all = get(&url, "/persons?term=acme.test&with_interaction_dates=true").await.body;
    let all = all["persons"].as_array().unwrap().clone();
    let bound = "2026-06-01T00:00:00Z";
    let later = |p: &&Value| p["interaction_dates"]["last_email_date"].as_str().is_some_and(|d| d >= bound);
    let expected = all.iter().filter(later).count();
    assert!(expected > 0 && expected < all.len(), "the seed has emails before and after {bound}");
    let query =
        get(&url, &format!("/persons?term=acme.test&with_interaction_dates=true&min_last_email_date={bound}")).await;
    assert_eq!(query.status, 200, "{}", query.body);
    assert_eq!(query.body["persons"].as_array().unwrap().len(), expected);
    let body = json_body(json!({ "term": "acme.test", "with_interaction_dates": true, "min_last_email_date": bound }));
    let in_body = send(&url, Method::GET, "/persons", body).await;
    assert_eq!(in_body.status, 200, "{}", in_body.body);
    assert_eq!(in_body.body["persons"], query.body["persons"]);
    let orgs = get(&url, "/organizations?term=acme&max_first_email_date=2000-01-01").await;
    assert_eq!(orgs.body["organizations"], json!([]));
}

#[tokio::test]
async fn fields_can_have_their_list_in_the_name_and_leave_out_dropdown_options() {
    let url = start().await;
    let path = format!("/fields?list_id={}&with_modified_names=true&exclude_dropdown_options=True", ids::DEAL_PIPELINE);
    let fields = get(&url, &path).await.body;
    let status = fields.as_array().unwrap().iter().find(|f| f["name"] == "[Deal Pipeline] Status").cloned();
    assert_eq!(status.expect("the Status field, named with its list")["dropdown_options"], json!([]));
}

#[tokio::test]
async fn a_note_can_reply_to_a_note_and_a_reply_cannot_be_replied_to() {
    let url = start().await;
    let parent =
        send(&url, Method::POST, "/notes", json_body(json!({ "content": "Parent", "organization_ids": [ids::ACME] })))
            .await;
    let parent_id = parent.body["id"].as_i64().unwrap();
    let reply = send(
        &url,
        Method::POST,
        "/notes",
        form_body(&format!("content=Reply&parent_id={parent_id}&person_ids[]={}", ids::ALICE)),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["parent_id"], parent_id);
    assert_eq!(reply.body["person_ids"], json!([]), "a reply's entity ids are ignored");
    let again =
        send(&url, Method::POST, "/notes", json_body(json!({ "content": "No", "parent_id": reply.body["id"] }))).await;
    assert_affinity_error(&again, 422, "a reply to a reply");
    let dated = send(
        &url,
        Method::POST,
        "/notes",
        json_body(json!({ "content": "Old", "organization_ids": [ids::ACME], "created_at": "2024-01-02T03:04:05" })),
    )
    .await;
    assert_eq!(dated.body["created_at"], "2024-01-02T03:04:05.000Z");
    let future = send(
        &url,
        Method::POST,
        "/notes",
        json_body(json!({ "content": "Soon", "organization_ids": [ids::ACME], "created_at": "2999-01-01" })),
    )
    .await;
    assert_affinity_error(&future, 422, "a note from the future");
}

// ---- answers carry every key of the reference's examples ------------------------------------

/// Every key `theirs` has, `ours` has too, in nested objects and in the first item of
/// arrays of objects. `value` is left out: its shape is the field's.
fn missing_keys(ours: &Value, theirs: &Value, at: &str, missing: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            for (k, tv) in t {
                let here = format!("{at}.{k}");
                match o.get(k) {
                    None => missing.push(here),
                    Some(_) if k == "value" => {}
                    Some(ov) => missing_keys(ov, tv, &here, missing),
                }
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            if let (Some(first), Some(their_first)) = (o.first(), t.first())
                && their_first.is_object()
            {
                missing_keys(first, their_first, &format!("{at}[0]"), missing);
            }
        }
        _ => {}
    }
}

fn fixture(path: &str) -> Value {
    let full = format!("{}/../../../shared/fixtures/affinity-v1/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("the fixture {full} is needed: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn every_answer_carries_the_keys_of_the_reference_examples() {
    let mut world = seed::generate(1);
    // The seed has no chat messages: one, to show its shape.
    let bob = world.persons.iter().find(|p| p.emails.iter().any(|e| e == "bob.smith@acme.test")).unwrap().id;
    let chat = world.new_id();
    world.interactions.push(affinity_sandbox::world::Interaction {
        id: chat,
        interaction_type: 2,
        date: "2026-03-01T10:00:00.000Z".into(),
        subject: String::new(),
        person_ids: vec![ids::ALICE, bob],
        direction: 0,
    });
    let url = start_world(world).await;
    let (status_id, _) = status_field(&url).await;
    let entries = get(&url, &format!("/lists/{}/list-entries", ids::TALENT)).await.body;
    let person_entry = entries[0].clone();
    let org_entries = get(&url, &format!("/lists/{}/list-entries", ids::DEAL_PIPELINE)).await.body;
    let org_entry = org_entries[0]["id"].clone();
    let opportunity = get(&url, "/opportunities?term=acme").await.body["opportunities"][0]["id"].clone();
    let acme_note = get(&url, &format!("/notes?organization_id={}", ids::ACME)).await.body["notes"][0]["id"].clone();
    let email = "2026-01-01T00:00:00Z&end_time=2026-12-01T00:00:00Z";

    let reads: Vec<(String, &str)> = vec![
        ("/auth/whoami".into(), "whoami/whoami.affinity-node.json"),
        ("/auth/whoami".into(), "whoami/whoami.docs.json"),
        ("/rate-limit".into(), "rate-limit/rate_limit.docs.json"),
        ("/rate-limit".into(), "rate-limit/rate_limit.unlimited.affinity-node.json"),
        ("/lists".into(), "lists/lists_all.affinity-node.json"),
        (format!("/lists/{}", ids::TALENT), "lists/list_single.affinity-node.json"),
        (format!("/lists/{}", ids::TALENT), "lists/list_resource.docs.json"),
        (format!("/lists/{}/list-entries", ids::TALENT), "list-entries/all_bare_array.affinity-node.json"),
        (format!("/lists/{}/list-entries?page_size=1", ids::TALENT), "list-entries/paged_page1.affinity-node.json"),
        (format!("/lists/{}/list-entries/{}", ids::TALENT, person_entry["id"]), "list-entries/get.affinity-node.json"),
        (format!("/lists/{}/list-entries/{}", ids::TALENT, person_entry["id"]), "list-entries/list_entry.docs.json"),
        (format!("/fields?list_id={}", ids::DEAL_PIPELINE), "fields/fields_all.real.gdecugis.json"),
        (format!("/fields?list_id={}", ids::DEAL_PIPELINE), "fields/field_resource.docs.json"),
        ("/persons/fields".into(), "fields/persons_fields.affinity-node.json"),
        ("/organizations/fields".into(), "fields/organizations_fields.affinity-node.json"),
        (format!("/field-values?list_entry_id={org_entry}"), "field-values/get_all.affinity-node.json"),
        (format!("/field-values?list_entry_id={org_entry}"), "field-values/ranked_dropdown_value.docs.json"),
        (format!("/field-values?list_entry_id={org_entry}"), "field-values/location_value.docs.json"),
        (format!("/field-value-changes?field_id={status_id}"), "field-value-changes/all.affinity-node.json"),
        (format!("/persons/{bob}"), "persons/get.affinity-node.json"),
        ("/persons?term=smith".into(), "persons/search.affinity-node.json"),
        (
            "/persons?term=acme.test&with_interaction_dates=true".into(),
            "persons/search_with_interaction_dates.affinity-node.json",
        ),
        (
            format!(
                "/organizations/{}?with_interaction_dates=true&with_interaction_persons=true&with_opportunities=true",
                ids::ACME
            ),
            "organizations/get_with_interactions.affinity-node.json",
        ),
        ("/organizations?term=acme".into(), "organizations/search.affinity-node.json"),
        (format!("/opportunities/{opportunity}"), "opportunities/opportunity.docs.json"),
        (
            format!("/interactions?type=3&organization_id={}&start_time={email}", ids::ACME),
            "interactions/list_emails.docs.json",
        ),
        (format!("/interactions/{chat}?type=2"), "interactions/get_chat_message.docs.json"),
        (format!("/relationships-strengths?external_id={bob}"), "relationships-strengths/list.docs.json"),
        (format!("/notes?organization_id={}", ids::ACME), "notes/all_paged.affinity-node.json"),
        (format!("/notes/{acme_note}"), "notes/get.affinity-node.json"),
    ];
    let mut missing = Vec::new();
    for (path, example) in reads {
        let answer = get(&url, &path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        missing_keys(&answer.body, &fixture(example), &format!("{path} ({example})"), &mut missing);
    }

    let writes: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/persons".into(),
            json!({ "first_name": "Alice", "last_name": "Doe", "emails": ["alice@example.test"], "organization_ids": [ids::ACME] }),
            "persons/create.affinity-node.json",
        ),
        (
            Method::POST,
            "/organizations".into(),
            json!({ "name": "Acme Two", "domain": "acme2.test", "person_ids": [bob] }),
            "organizations/create.affinity-node.json",
        ),
        (
            Method::POST,
            "/notes".into(),
            json!({ "content": "<strong>x</strong>", "type": 2, "organization_ids": [ids::ACME] }),
            "notes/create.affinity-node.json",
        ),
        (
            Method::POST,
            format!("/lists/{}/list-entries", ids::TALENT),
            json!({ "entity_id": bob }),
            "list-entries/create.affinity-node.json",
        ),
    ];
    for (method, path, body, example) in writes {
        let answer = send(&url, method, &path, json_body(body)).await;
        assert_eq!(answer.status, 201, "{path}: {}", answer.body);
        missing_keys(&answer.body, &fixture(example), &format!("{path} ({example})"), &mut missing);
    }
    let values = get(&url, &format!("/field-values?list_entry_id={org_entry}")).await.body;
    let status_value = values.as_array().unwrap().iter().find(|v| v["field_id"] == status_id).unwrap()["id"].clone();
    let updated = send(
        &url,
        Method::PUT,
        &format!("/field-values/{status_value}"),
        json_body(json!({ "value": values[0]["value"]["id"] })),
    )
    .await;
    missing_keys(
        &updated.body,
        &fixture("field-values/update_date_value.affinity-node.json"),
        "PUT /field-values",
        &mut missing,
    );
    let deleted = send(&url, Method::DELETE, &format!("/field-values/{status_value}"), None).await;
    missing_keys(&deleted.body, &fixture("common/success.docs.json"), "DELETE /field-values", &mut missing);
    assert_eq!(deleted.body["success"], true);
    assert!(
        missing.is_empty(),
        "keys the reference's examples show and the sandbox leaves out:\n{}",
        missing.join("\n")
    );
}
