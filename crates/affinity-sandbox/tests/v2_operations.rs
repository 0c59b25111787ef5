//! Every operation of Affinity's API v2 subset (the 2026-07-15 OpenAPI document in
//! shared/real-world/affinity-v2, read at test time), as an integrator would call it: on the
//! world's records, with the parameters and bodies of the document's own examples, and in
//! every error the document declares for it that the sandbox can be made to answer; each
//! answer checked against the schema the document declares for its status (the `jsonschema`
//! crate). A cursor walk over the 5,000-company world sees every company once; v2 writes are
//! what v1 reads and deliver their webhook events; the rate-limit headers are the document's.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use affinity_sandbox::seed::ids;
use affinity_sandbox::{Sandbox, SandboxConfig, World};
use common::{Answer, call, spec};
use serde_json::{Value, json};

const KEY: &str = "v2-ops-key";
const V1_ONLY: &str = "v2-ops-v1-only";
const READ_ONLY: &str = "v2-ops-read-only";

/// Errors the document declares that no request to the sandbox answers, and why.
const NOT_PRODUCED: [(&str, &str, u16, &str); 2] = [
    ("get", "/v2/opportunities", 404, "a listing answers the opportunities it has, even for unknown ids"),
    ("get", "/v2/notes", 404, "a listing answers the notes it has, even for a filter that matches none"),
];

struct World2 {
    base: String,
    sandbox: Sandbox,
}

async fn start(config: SandboxConfig, world: Option<World>) -> World2 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = match world {
        Some(w) => Sandbox::with_world(config, w),
        None => Sandbox::new(config),
    };
    tokio::spawn(sandbox.clone().serve(listener));
    World2 { base, sandbox }
}

fn config() -> SandboxConfig {
    SandboxConfig {
        v1_only_key: Some(V1_ONLY.into()),
        read_only_key: Some(READ_ONLY.into()),
        ..SandboxConfig::new(KEY)
    }
}

/// Every operation of the document: (method, path).
fn operations() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in spec()["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// The records the calls are made on.
struct Records {
    bob: i64,
    entry: i64,
    status_field: i64,
    amount_field: i64,
    status_option: i64,
    owners_field: i64,
    opportunity: i64,
    interaction: (i64, &'static str),
}

fn records(w: &World) -> Records {
    let bob = w.persons.iter().find(|p| p.emails.iter().any(|e| e == "bob.smith@acme.test")).map(|p| p.id);
    let entry = w.list_entries.iter().find(|e| e.list_id == ids::DEAL_PIPELINE && e.entity_id == ids::ACME).unwrap();
    let field = |name: &str| w.fields.iter().find(|f| f.list_id == Some(ids::DEAL_PIPELINE) && f.name == name).unwrap();
    let interaction = w.interactions.iter().find(|i| i.interaction_type == 0).unwrap();
    Records {
        bob: bob.expect("Bob is in the world"),
        entry: entry.id,
        status_field: field("Status").id,
        amount_field: field("Amount").id,
        status_option: field("Status").dropdown_options[1].id,
        owners_field: field("Owners").id,
        opportunity: w.opportunities[0].id,
        interaction: (interaction.id, "meeting"),
    }
}

/// The document's path with its parameters filled from the records.
fn concrete(path: &str, r: &Records, person: i64) -> String {
    path.replace("{companyId}", &ids::ACME.to_string())
        .replace("{personId}", &person.to_string())
        .replace("{listId}", &ids::DEAL_PIPELINE.to_string())
        .replace("{listEntryId}", &r.entry.to_string())
        .replace("{fieldId}", &format!("field-{}", r.status_field))
        .replace("{opportunityId}", &r.opportunity.to_string())
}

/// Checks an answer against the document: a status it declares (or `default`), the
/// rate-limit headers, the schema of that status.
fn check(method: &str, path: &str, what: &str, answer: &Answer) {
    let declared = common::declares(method, path, answer.status);
    assert!(
        declared || [401, 429].contains(&answer.status),
        "{method} {what}: {} is not a status the document declares: {}",
        answer.status,
        answer.body
    );
    for h in ["x-ratelimit-limit-user", "x-ratelimit-limit-user-remaining", "x-ratelimit-limit-user-reset"] {
        let v = answer.headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("{what} lacks {h}"));
        assert!(v.parse::<u64>().is_ok(), "{what}: {h} is an integer, got {v:?}");
    }
    if answer.status == 204 {
        assert_eq!(answer.body, Value::Null, "{method} {what}: a 204 has no body");
        return;
    }
    let errors = common::answer_errors(method, path, answer.status, &answer.body);
    assert!(errors.is_empty(), "{method} {what} ({}) strays from the document:\n{}", answer.status, errors.join("\n"));
}

/// The calls on the world's records that succeed, one or more an operation.
fn successes(r: &Records, new_person: i64) -> Vec<(&'static str, &'static str, String, Option<Value>, u16)> {
    let status = format!("field-{}", r.status_field);
    let amount = format!("field-{}", r.amount_field);
    let owners = format!("field-{}", r.owners_field);
    let search = json!({
        "filters": { "operator": "and", "filters": [
            { "fieldId": "affinity-data-number-of-employees", "valueType": "number", "operator": "is-greater-than", "value": 100 },
            { "operator": "or", "filters": [
                { "fieldId": "affinity-data-industry", "valueType": "filterable-text-multi", "operator": "is-not-empty" },
                { "fieldId": "affinity-data-year-founded", "valueType": "number", "operator": "is-empty" }
            ] }
        ] },
        "sorts": [{ "fieldId": "affinity-data-number-of-employees", "direction": "desc" }]
    });
    vec![
        ("get", "/v2/auth/whoami", "/v2/auth/whoami".into(), None, 200),
        ("get", "/v2/users", "/v2/users?limit=5&filter=status%3Dactive".into(), None, 200),
        ("get", "/v2/companies", "/v2/companies?limit=3&fieldTypes=enriched&fieldTypes=global".into(), None, 200),
        (
            "get",
            "/v2/companies",
            format!(
                "/v2/companies?ids={}&ids={}&fieldIds=affinity-data-industry&fieldIds=last-email",
                ids::ACME,
                ids::GLOBEX
            ),
            None,
            200,
        ),
        (
            "get",
            "/v2/companies/fields",
            "/v2/companies/fields?includes=filterability&includes=sortability".into(),
            None,
            200,
        ),
        ("get", "/v2/companies/fields", "/v2/companies/fields?filter=name%3D~location".into(), None, 200),
        ("post", "/v2/companies/search", "/v2/companies/search?fieldTypes=enriched&limit=5".into(), Some(search), 201),
        (
            "post",
            "/v2/companies/search",
            "/v2/companies/search".into(),
            Some(json!({ "search": { "term": "acme" } })),
            201,
        ),
        ("get", "/v2/companies/{companyId}", format!("/v2/companies/{}?fieldTypes=enriched", ids::ACME), None, 200),
        (
            "get",
            "/v2/companies/{companyId}/list-entries",
            format!("/v2/companies/{}/list-entries", ids::ACME),
            None,
            200,
        ),
        ("get", "/v2/companies/{companyId}/lists", format!("/v2/companies/{}/lists", ids::ACME), None, 200),
        (
            "get",
            "/v2/companies/{companyId}/relationships",
            format!("/v2/companies/{}/relationships?totalCount=true&filter=interactionScore%3E%3D0.2", ids::ACME),
            None,
            200,
        ),
        (
            "get",
            "/v2/persons",
            "/v2/persons?limit=3&fieldTypes=global&fieldTypes=relationship-intelligence".into(),
            None,
            200,
        ),
        (
            "post",
            "/v2/persons",
            "/v2/persons".into(),
            Some(json!({ "firstName": "Ada", "lastName": "Ops", "primaryEmailAddress": "ada@ops-test.test",
                         "emailAddresses": ["ada.ops@ops-test.test"] })),
            201,
        ),
        ("get", "/v2/persons/fields", "/v2/persons/fields?includes=filterability".into(), None, 200),
        (
            "post",
            "/v2/persons/search",
            "/v2/persons/search?limit=5".into(),
            Some(json!({ "search": { "term": "bob" } })),
            201,
        ),
        ("get", "/v2/persons/{personId}", format!("/v2/persons/{}?fieldTypes=global", r.bob), None, 200),
        ("delete", "/v2/persons/{personId}", format!("/v2/persons/{new_person}"), None, 204),
        ("get", "/v2/persons/{personId}/list-entries", format!("/v2/persons/{}/list-entries", r.bob), None, 200),
        (
            "get",
            "/v2/persons/{personId}/relationships",
            format!("/v2/persons/{}/relationships?orderBy=interactionScore", r.bob),
            None,
            200,
        ),
        ("get", "/v2/opportunities", "/v2/opportunities?limit=2".into(), None, 200),
        ("get", "/v2/opportunities/{opportunityId}", format!("/v2/opportunities/{}", r.opportunity), None, 200),
        ("get", "/v2/lists", "/v2/lists?term=deal".into(), None, 200),
        (
            "post",
            "/v2/lists",
            "/v2/lists".into(),
            Some(json!({ "name": "Ops Test List", "type": "company", "isPublic": true })),
            201,
        ),
        ("get", "/v2/lists/{listId}", format!("/v2/lists/{}", ids::DEAL_PIPELINE), None, 200),
        (
            "get",
            "/v2/lists/{listId}/fields",
            format!("/v2/lists/{}/fields?includes=sortability", ids::DEAL_PIPELINE),
            None,
            200,
        ),
        (
            "get",
            "/v2/lists/{listId}/list-entries",
            format!("/v2/lists/{}/list-entries?limit=5&fieldTypes=list", ids::DEAL_PIPELINE),
            None,
            200,
        ),
        (
            "get",
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields",
            format!("/v2/lists/{}/list-entries/{}/fields?types=list", ids::DEAL_PIPELINE, r.entry),
            None,
            200,
        ),
        (
            "patch",
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields",
            format!("/v2/lists/{}/list-entries/{}/fields", ids::DEAL_PIPELINE, r.entry),
            Some(json!({ "operation": "update-fields", "updates": [
                { "id": amount, "value": { "type": "number", "data": 2_500_000 } },
                { "id": owners, "value": { "type": "person-multi", "data": [{ "id": ids::ALICE }] } }
            ] })),
            200,
        ),
        (
            "get",
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}",
            format!("/v2/lists/{}/list-entries/{}/fields/{status}", ids::DEAL_PIPELINE, r.entry),
            None,
            200,
        ),
        (
            "post",
            "/v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}",
            format!("/v2/lists/{}/list-entries/{}/fields/{status}", ids::DEAL_PIPELINE, r.entry),
            Some(json!({ "value": { "type": "ranked-dropdown", "data": { "dropdownOptionId": r.status_option } } })),
            204,
        ),
        (
            "get",
            "/v2/notes",
            "/v2/notes?totalCount=true&includes=companiesPreview&includes=repliesCount".into(),
            None,
            200,
        ),
        (
            "post",
            "/v2/notes",
            "/v2/notes".into(),
            Some(json!({ "type": "entities", "content": { "html": "<p>Ops test: <strong>bold</strong></p>" },
                         "companies": [{ "id": ids::ACME }] })),
            201,
        ),
        (
            "post",
            "/v2/notes",
            "/v2/notes".into(),
            Some(json!({ "type": "interaction", "content": { "html": "<p>On the meeting</p>" },
                         "interaction": { "type": r.interaction.1, "id": r.interaction.0 } })),
            201,
        ),
    ]
}

#[tokio::test]
async fn every_operation_answers_on_the_worlds_records_as_the_document_says() {
    let s = start(config(), None).await;
    let r = records(&s.sandbox.world());
    // A person to delete (created through v1).
    let created = reqwest::Client::new()
        .post(format!("{}/persons", s.base))
        .basic_auth("", Some(KEY))
        .json(&json!({ "first_name": "To", "last_name": "Delete", "emails": ["to.delete@ops-test.test"] }))
        .send()
        .await
        .unwrap();
    let new_person = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut covered = BTreeSet::new();
    for (method, path, url, body, status) in successes(&r, new_person) {
        let answer = call(method, &format!("{}{url}", s.base), KEY, body.as_ref()).await;
        assert_eq!(answer.status, status, "{method} {url}: {}", answer.body);
        check(method, path, &url, &answer);
        covered.insert((method.to_owned(), path.to_owned()));
    }
    assert_eq!(covered, operations(), "every operation of the document is called");

    // What the writes did, read back.
    let w = s.sandbox.world();
    assert!(w.person(new_person).is_none(), "the person is deleted");
    assert!(w.persons.iter().any(|p| p.emails.iter().any(|e| e == "ada@ops-test.test")));
    assert!(w.lists.iter().any(|l| l.name == "Ops Test List" && l.public));
    let entry_value =
        |field: i64| w.field_values.iter().filter(|v| v.field_id == field && v.list_entry_id == Some(r.entry)).count();
    assert_eq!(entry_value(r.owners_field), 1, "Owners replaced by one person");
    assert!(
        w.field_values
            .iter()
            .any(|v| v.field_id == r.amount_field && v.list_entry_id == Some(r.entry) && v.value == json!(2_500_000))
    );
    assert!(
        w.notes.iter().any(|n| n.content.contains("Ops test") && n.organization_ids == [ids::ACME] && n.note_type == 2)
    );
    assert!(w.notes.iter().any(|n| n.interaction_id == Some(r.interaction.0)));
}

/// A query string from the examples of an operation's query parameters.
fn example_query(op: &Value) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for p in op["parameters"].as_array().into_iter().flatten().map(common::resolve) {
        if p["in"] != "query" {
            continue;
        }
        let name = p["name"].as_str().unwrap();
        let example =
            p.get("example").or_else(|| p["schema"].get("example")).or_else(|| p["schema"]["items"].get("example"));
        match example {
            Some(Value::Array(items)) => items.iter().for_each(|v| {
                q.append_pair(name, &v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            }),
            Some(Value::String(v)) => {
                q.append_pair(name, v);
            }
            Some(v) => {
                q.append_pair(name, &v.to_string());
            }
            None => {}
        }
    }
    q.finish()
}

/// The request bodies the document gives as examples for an operation.
fn example_bodies(op: &Value) -> Vec<Value> {
    let media = &op["requestBody"]["content"]["application/json"];
    let mut out: Vec<Value> =
        media["examples"].as_object().into_iter().flatten().map(|(_, e)| common::resolve(e)["value"].clone()).collect();
    if let Some(e) = media.get("example") {
        out.push(e.clone());
    }
    out
}

#[tokio::test]
async fn the_documents_own_examples_are_answered_as_the_document_says() {
    let s = start(config(), None).await;
    let r = records(&s.sandbox.world());
    let mut bodies_sent = 0;
    for (method, path) in operations() {
        let op = &spec()["paths"][&path][&method];
        // Ids in the path from the world (a deletion of Bob would be refused: he is
        // external, so a person of the examples' own is deleted instead).
        let person = if method == "delete" { r.bob + 1 } else { r.bob };
        let query = example_query(op);
        let url =
            format!("{}{}{}{query}", s.base, concrete(&path, &r, person), if query.is_empty() { "" } else { "?" });
        let bodies = example_bodies(op);
        if bodies.is_empty() {
            let answer = call(&method, &url, KEY, None).await;
            check(&method, &path, &url, &answer);
        }
        for body in bodies {
            let answer = call(&method, &url, KEY, Some(&body)).await;
            check(&method, &path, &format!("{url} {body}"), &answer);
            bodies_sent += 1;
        }
    }
    assert!(bodies_sent >= 8, "the examples' bodies were sent ({bodies_sent})");
}

/// A request that makes the operation answer `status`, if the sandbox can be made to.
fn error_case(method: &str, path: &str, status: u16, r: &Records) -> Option<(String, Option<Value>, &'static str)> {
    let has_path_id = path.contains('{');
    let op = &spec()["paths"][path][method];
    let has_limit = op["parameters"].as_array().into_iter().flatten().any(|p| common::resolve(p)["name"] == "limit");
    let missing = "999999999";
    match status {
        403 => Some((concrete(path, r, r.bob), Some(json!({})), V1_ONLY)),
        400 if has_limit => Some((format!("{}?limit=1000", concrete(path, r, r.bob)), Some(json!({})), KEY)),
        400 if has_path_id => {
            let bad = path
                .replace("{companyId}", "abc")
                .replace("{personId}", "abc")
                .replace("{listId}", "abc")
                .replace("{opportunityId}", "abc")
                .replace("{listEntryId}", "abc");
            Some((concrete(&bad, r, r.bob), Some(json!({})), KEY))
        }
        400 => Some((path.to_owned(), Some(json!({ "nonsense": true })), KEY)),
        404 if path == "/v2/auth/whoami" => None, // answered by a world without its user: see below
        404 if path == "/v2/notes" && method == "post" => Some((
            path.to_owned(),
            Some(
                json!({ "type": "entities", "content": { "html": "<p>x</p>" }, "companies": [{ "id": 999_999_999 }] }),
            ),
            KEY,
        )),
        404 if path == "/v2/persons" && method == "post" => Some((
            path.to_owned(),
            Some(json!({ "firstName": "No", "lastName": "Field", "primaryEmailAddress": null,
                         "fields": [{ "id": "field-999999999", "value": { "type": "text", "data": "x" } }] })),
            KEY,
        )),
        404 if path.ends_with("{fieldId}") => Some((
            concrete(path, r, r.bob).replace(&format!("field-{}", r.status_field), "field-999999999"),
            Some(json!({ "value": null })),
            KEY,
        )),
        404 if has_path_id => {
            let gone = path
                .replace("{listEntryId}", missing)
                .replace("{companyId}", missing)
                .replace("{personId}", missing)
                .replace("{opportunityId}", missing)
                .replace("{listId}", missing);
            Some((concrete(&gone, r, r.bob), Some(json!({})), KEY))
        }
        _ => None,
    }
}

#[tokio::test]
async fn every_declared_error_is_answered_in_the_documents_shape() {
    let s = start(config(), None).await;
    let r = records(&s.sandbox.world());
    for (method, path) in operations() {
        let declared: Vec<u16> = spec()["paths"][&path][&method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|k| k.parse::<u16>().ok())
            .filter(|s| *s >= 400)
            .collect();
        for status in declared {
            if NOT_PRODUCED.iter().any(|(m, p, st, _)| *m == method && *p == path && *st == status) {
                continue;
            }
            if path == "/v2/auth/whoami" && status == 404 {
                continue;
            }
            let (url, body, key) = error_case(&method, &path, status, &r)
                .unwrap_or_else(|| panic!("no case for {method} {path} {status}"));
            let body = (method != "get" && method != "delete").then_some(body).flatten();
            let answer = call(&method, &format!("{}{url}", s.base), key, body.as_ref()).await;
            assert_eq!(answer.status, status, "{method} {url}: {}", answer.body);
            check(&method, &path, &url, &answer);
        }
    }
    // Who a key is, in a world without its user: 404.
    let empty = start(SandboxConfig::new(KEY), Some(World::empty())).await;
    let answer = call("get", &format!("{}/v2/auth/whoami", empty.base), KEY, None).await;
    assert_eq!(answer.status, 404);
    check("get", "/v2/auth/whoami", "whoami without a user", &answer);
    // A read-only key writes nothing (403 in v2's shape).
    let note = json!({ "type": "entities", "content": { "html": "<p>x</p>" }, "companies": [{ "id": ids::ACME }] });
    let answer = call("post", &format!("{}/v2/notes", s.base), READ_ONLY, Some(&note)).await;
    assert_eq!(answer.status, 403);
    check("post", "/v2/notes", "a read-only key's note", &answer);
    // A path or a method the document does not have: v2's 404 and 405.
    let answer = call("get", &format!("{}/v2/teams", s.base), KEY, None).await;
    assert_eq!((answer.status, answer.body["errors"][0]["code"].as_str()), (404, Some("not-found")));
    let answer = call("put", &format!("{}/v2/lists", s.base), KEY, Some(&json!({}))).await;
    assert_eq!((answer.status, answer.body["errors"][0]["code"].as_str()), (405, Some("method-not-allowed")));
}

#[tokio::test]
async fn a_cursor_walk_sees_every_company_of_the_world_once() {
    let s = start(config(), None).await;
    let expected: HashSet<i64> = s.sandbox.world().organizations.iter().map(|o| o.id).collect();
    assert!(expected.len() >= 5_000, "a world of {} companies", expected.len());
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/v2/companies?limit=100", s.base));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let answer = call("get", &url, KEY, None).await;
        assert_eq!(answer.status, 200, "{url}");
        pages += 1;
        seen.extend(answer.body["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
        next = answer.body["pagination"]["nextUrl"].as_str().map(str::to_owned);
        assert!(pages <= 60, "the walk ends");
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), unique.len(), "no company twice");
    assert_eq!(unique, expected, "every company");
    assert_eq!(pages, expected.len().div_ceil(100));
    // A cursor sent with other parameters is refused (400), as the document says.
    let first = call("get", &format!("{}/v2/companies?limit=100", s.base), KEY, None).await;
    let next = first.body["pagination"]["nextUrl"].as_str().unwrap().to_owned();
    let tampered = call("get", &format!("{next}&fieldTypes=enriched"), KEY, None).await;
    assert_eq!((tampered.status, tampered.body["errors"][0]["code"].as_str()), (400, Some("bad-request")));
    let unknown = call("get", &format!("{}/v2/companies?cursor=nonsense", s.base), KEY, None).await;
    assert_eq!(unknown.status, 400);
}

/// Receives webhook events on a local port.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(event): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(event);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn event(got: &Arc<Mutex<Vec<Value>>>, name: &str, pick: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        if let Some(e) = got.lock().unwrap().iter().find(|e| e["type"] == name && pick(&e["body"])) {
            return e.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no {name} event; got {:?}", got.lock().unwrap().iter().map(|e| e["type"].clone()).collect::<Vec<_>>());
}

#[tokio::test]
async fn v2_writes_are_what_v1_reads_and_deliver_their_webhook_events() {
    let s = start(config(), None).await;
    let r = records(&s.sandbox.world());
    let (hook, got) = webhook_receiver().await;
    let http = reqwest::Client::new();
    let v1 = |path: String| http.get(format!("{}{path}", s.base)).basic_auth("", Some(KEY)).send();
    let subscribed = http
        .post(format!("{}/webhook/subscribe", s.base))
        .basic_auth("", Some(KEY))
        .json(&json!({ "webhook_url": hook }))
        .send()
        .await
        .unwrap();
    assert!(subscribed.status().is_success(), "{}", subscribed.status());

    // A note.
    let note = json!({ "type": "entities", "content": { "html": "<p>Term sheet <em>sent</em></p>" },
                       "companies": [{ "id": ids::ACME }], "persons": [{ "id": r.bob }] });
    let created = call("post", &format!("{}/v2/notes", s.base), KEY, Some(&note)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let read: Value = v1(format!("/notes/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(read["content"], "<p>Term sheet <em>sent</em></p>");
    assert_eq!(read["type"], 2, "an HTML note in v1");
    assert_eq!(read["organization_ids"], json!([ids::ACME]));
    assert_eq!(read["person_ids"], json!([r.bob]));
    event(&got, "note.created", |b| b["id"] == id).await;

    // A list entry's Status, changed in place (v1's value keeps its id).
    let before: Value = v1(format!("/field-values?list_entry_id={}", r.entry)).await.unwrap().json().await.unwrap();
    let old = before.as_array().unwrap().iter().find(|v| v["field_id"] == r.status_field).unwrap().clone();
    let field = format!("field-{}", r.status_field);
    let set = json!({ "value": { "type": "ranked-dropdown", "data": { "dropdownOptionId": r.status_option } } });
    let url = format!("{}/v2/lists/{}/list-entries/{}/fields/{field}", s.base, ids::DEAL_PIPELINE, r.entry);
    let answer = call("post", &url, KEY, Some(&set)).await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    let after: Value = v1(format!("/field-values?list_entry_id={}", r.entry)).await.unwrap().json().await.unwrap();
    let now = after.as_array().unwrap().iter().find(|v| v["field_id"] == r.status_field).unwrap().clone();
    assert_eq!(now["value"]["id"], r.status_option, "{now}");
    if old["value"]["id"] != r.status_option {
        assert_eq!(now["id"], old["id"], "changed in place");
        event(&got, "field_value.updated", |b| b["id"] == now["id"]).await;
    }
    // The same write again changes nothing.
    assert_eq!(call("post", &url, KEY, Some(&set)).await.status, 204);
    let again: Value = v1(format!("/field-values?list_entry_id={}", r.entry)).await.unwrap().json().await.unwrap();
    assert_eq!(again, after);
    // A value of the wrong type is refused before anything changes.
    let wrong = json!({ "value": { "type": "number", "data": "abc" } });
    let refused = call("post", &url, KEY, Some(&wrong)).await;
    assert_eq!((refused.status, refused.body["errors"][0]["code"].as_str()), (400, Some("validation")));

    // A person.
    let person = json!({ "firstName": "Grace", "lastName": "Hopper", "primaryEmailAddress": "grace@navy-test.test" });
    let created = call("post", &format!("{}/v2/persons", s.base), KEY, Some(&person)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let read: Value = v1(format!("/persons/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(
        (read["first_name"].as_str(), read["emails"][0].as_str()),
        (Some("Grace"), Some("grace@navy-test.test"))
    );
    event(&got, "person.created", |b| b["id"] == id).await;
    // Twice: the email is taken.
    let twice = call("post", &format!("{}/v2/persons", s.base), KEY, Some(&person)).await;
    assert_eq!(twice.status, 400);
}

#[tokio::test]
async fn rate_limit_headers_are_integers_and_the_monthly_ones_only_with_a_monthly_cap() {
    let unlimited = start(config(), None).await;
    let answer = call("get", &format!("{}/v2/auth/whoami", unlimited.base), KEY, None).await;
    assert!(answer.headers.get("x-ratelimit-limit-org").is_none(), "no monthly cap: no monthly headers");
    let capped = start(SandboxConfig { monthly_budget: Some(1000), ..SandboxConfig::new(KEY) }, None).await;
    let answer = call("get", &format!("{}/v2/users", capped.base), KEY, None).await;
    for h in ["x-ratelimit-limit-org", "x-ratelimit-limit-org-remaining", "x-ratelimit-limit-org-reset"] {
        let v = answer.headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("{h} with a cap"));
        assert!(v.parse::<u64>().is_ok(), "{h}: {v:?}");
    }
    assert_eq!(answer.headers["x-ratelimit-limit-org"], "1000");
}

#[test]
fn the_operations_not_answered_with_an_error_are_few_and_named() {
    // Each has a reason; they are also in `affinity-lens sandbox --help` and the README.
    for (method, path, status, why) in NOT_PRODUCED {
        assert!(common::declares(method, path, status), "{method} {path} declares {status}");
        assert!(!why.is_empty());
    }
}
