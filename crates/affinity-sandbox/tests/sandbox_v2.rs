//! The sandbox's API v2 against Affinity's own OpenAPI document (the 2026-07-15 subset in
//! shared/real-world/affinity-v2, read at test time): answers of the endpoints the Lens
//! uses, errors included, validates against the response schema the document
//! declares for its path, method and status; cursors page through everything and are
//! refused with other parameters; Bearer only; and a key without the v2 permissions gets
//! 403 in v2's shape while its v1 calls work.

mod common;

use common::call;
use serde_json::{Value, json};

use affinity_sandbox::seed::ids;
use affinity_sandbox::{Sandbox, SandboxConfig};

const KEY: &str = "v2-key";
const V1_ONLY: &str = "v1-only-key";
const READ_ONLY: &str = "read-only-key";
/// One sandbox for the file's tests (the world takes a moment to generate).
async fn start() -> String {
    static URL: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    URL.get_or_init(|| async {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(format!("http://{}", listener.local_addr().unwrap())).unwrap();
                let config = SandboxConfig {
                    v1_only_key: Some(V1_ONLY.into()),
                    read_only_key: Some(READ_ONLY.into()),
                    ..SandboxConfig::new(KEY)
                };
                Sandbox::new(config).serve(listener).await.unwrap();
            });
        });
        rx.recv().unwrap()
    })
    .await
    .clone()
}

/// Calls `method path` (the document's path, with the ids filled in `concrete`), checks the
/// status and validates the answer against the declared schema.
async fn conforms(method: &str, path: &str, concrete: &str, key: &str, body: Option<Value>, status: u16) -> Value {
    let base = start().await;
    let answer = call(method, &format!("{base}{concrete}"), key, body.as_ref()).await;
    assert_eq!(answer.status, status, "{method} {concrete}: {}", answer.body);
    for h in ["x-ratelimit-limit-user", "x-ratelimit-limit-user-remaining", "x-ratelimit-limit-user-reset"] {
        assert!(answer.headers.contains_key(h), "{concrete} carries {h}");
    }
    let errors = common::answer_errors(method, path, status, &answer.body);
    assert!(errors.is_empty(), "{method} {concrete} ({status}) does not match the document:\n{}", errors.join("\n"));
    answer.body
}

#[tokio::test]
async fn every_answer_of_the_endpoints_used_matches_the_documents_schemas() {
    let acme = ids::ACME;
    let search = json!({ "search": { "term": "acme" } });
    let cases: Vec<(&str, &str, String, Option<Value>, u16)> = vec![
        ("get", "/v2/auth/whoami", "/v2/auth/whoami".into(), None, 200),
        (
            "post",
            "/v2/companies/search",
            "/v2/companies/search?fieldTypes=relationship-intelligence".into(),
            Some(search.clone()),
            201,
        ),
        ("post", "/v2/companies/search", "/v2/companies/search?limit=1".into(), Some(search), 201),
        (
            "post",
            "/v2/companies/search",
            "/v2/companies/search".into(),
            Some(json!({ "search": { "term": "ac" } })),
            400,
        ),
        (
            "get",
            "/v2/companies/{companyId}",
            format!("/v2/companies/{acme}?fieldTypes=relationship-intelligence&fieldTypes=global"),
            None,
            200,
        ),
        ("get", "/v2/companies/{companyId}", "/v2/companies/1".into(), None, 404),
        (
            "get",
            "/v2/companies/{companyId}/relationships",
            format!("/v2/companies/{acme}/relationships?totalCount=true"),
            None,
            200,
        ),
        (
            "get",
            "/v2/companies/{companyId}/relationships",
            format!("/v2/companies/{}/relationships?limit=100", ids::MEGACORP),
            None,
            200,
        ),
        (
            "get",
            "/v2/companies/{companyId}/relationships",
            format!("/v2/companies/{acme}/relationships?limit=0"),
            None,
            400,
        ),
        ("get", "/v2/companies/{companyId}/relationships", "/v2/companies/1/relationships".into(), None, 404),
        ("get", "/v2/companies/{companyId}/list-entries", format!("/v2/companies/{acme}/list-entries"), None, 200),
        (
            "get",
            "/v2/companies/{companyId}/list-entries",
            format!("/v2/companies/{}/list-entries", ids::TWICE_LISTED),
            None,
            200,
        ),
        ("get", "/v2/companies/{companyId}/list-entries", "/v2/companies/1/list-entries".into(), None, 404),
        ("get", "/v2/users", "/v2/users?limit=5".into(), None, 200),
        ("get", "/v2/users", "/v2/users?filter=status%3Dactive".into(), None, 200),
        ("get", "/v2/opportunities", "/v2/opportunities?limit=3".into(), None, 200),
        ("get", "/v2/opportunities", "/v2/opportunities?ids=x".into(), None, 400),
    ];
    for (method, path, concrete, body, status) in cases {
        conforms(method, path, &concrete, KEY, body, status).await;
    }
}

#[tokio::test]
async fn person_endpoints_match_the_documents_schemas() {
    let base = start().await;
    let bob = call("get", &format!("{base}/v2/companies/{}/relationships", ids::ACME), KEY, None).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["person2"]["firstName"] == "Bob")
        .map(|r| r["person2"]["id"].as_i64().unwrap())
        .expect("Bob is in Acme's relationships");
    for (path, concrete, status) in [
        ("/v2/persons/{personId}/relationships", format!("/v2/persons/{bob}/relationships"), 200),
        ("/v2/persons/{personId}/list-entries", format!("/v2/persons/{bob}/list-entries"), 200),
        ("/v2/persons/{personId}/list-entries", "/v2/persons/1/list-entries".to_string(), 404),
    ] {
        conforms("get", path, &concrete, KEY, None, status).await;
    }
}

#[tokio::test]
async fn the_v2_view_is_the_v1_world() {
    let base = start().await;
    let http = reqwest::Client::new();
    // Relationships: v1's strengths of Acme's people, strongest first.
    let rels = call("get", &format!("{base}/v2/companies/{}/relationships?limit=100", ids::ACME), KEY, None).await.body;
    let first = &rels["data"][0];
    assert_eq!((first["person1"]["id"].as_i64(), first["interactionScore"].as_f64()), (Some(ids::ALICE), Some(0.82)));
    let bob = first["person2"]["id"].as_i64().unwrap();
    let v1: Value = http
        .get(format!("{base}/relationships-strengths?external_id={bob}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let from_v2 = rels["data"].as_array().unwrap().iter().filter(|r| r["person2"]["id"] == bob).count();
    assert_eq!(from_v2, v1.as_array().unwrap().len());
    // List entries: the same rows as v1's organization, with Status read from the same value.
    let entries = call("get", &format!("{base}/v2/companies/{}/list-entries", ids::ACME), KEY, None).await.body;
    let org: Value = http
        .get(format!("{base}/organizations/{}", ids::ACME))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v1_entries: Vec<i64> =
        org["list_entries"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let v2_entries: Vec<i64> = entries["data"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(v1_entries, v2_entries);
    let pipeline = entries["data"].as_array().unwrap().iter().find(|e| e["listId"] == ids::DEAL_PIPELINE).unwrap();
    let status = pipeline["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Status").unwrap();
    assert_eq!(status["value"]["type"], "ranked-dropdown");
    let values: Value = http
        .get(format!("{base}/field-values?list_entry_id={}", pipeline["id"]))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v1_status = values.as_array().unwrap().iter().find(|v| v["value"]["text"].is_string()).unwrap();
    assert_eq!(status["value"]["data"]["text"], v1_status["value"]["text"]);
    let owners = pipeline["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Owners").unwrap();
    assert_eq!(owners["value"]["type"], "person-multi");
    assert!(owners["value"]["data"].as_array().unwrap().iter().all(|p| p["type"] == "internal"));
}

#[tokio::test]
async fn cursors_page_through_everything_and_only_with_their_own_parameters() {
    let base = start().await;
    let all =
        call("get", &format!("{base}/v2/users?limit=100"), KEY, None).await.body["data"].as_array().unwrap().len();
    assert_eq!(all, 15, "the team");
    let mut seen = Vec::new();
    let mut next = Some(format!("{base}/v2/users?limit=4"));
    let mut pages = 0;
    while let Some(url) = next {
        let page = call("get", &url, KEY, None).await.body;
        seen.extend(page["data"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()));
        next = page["pagination"]["nextUrl"].as_str().map(str::to_owned);
        pages += 1;
        if pages == 2 {
            assert!(page["pagination"]["prevUrl"].is_string());
        }
    }
    assert_eq!((pages, seen.len()), (4, 15));
    seen.dedup();
    assert_eq!(seen.len(), 15, "no user twice");
    // A cursor with other parameters is refused in v2's shape.
    let first = call("get", &format!("{base}/v2/users?limit=4"), KEY, None).await.body;
    let cursor = first["pagination"]["nextUrl"].as_str().unwrap().split("cursor=").nth(1).unwrap().to_owned();
    let other = call("get", &format!("{base}/v2/users?limit=4&term=a&cursor={cursor}"), KEY, None).await;
    assert_eq!(other.status, 400);
    assert_eq!(other.body["errors"][0]["code"], "bad-request");
    // A search's cursor belongs to its body.
    let s =
        call("post", &format!("{base}/v2/companies/search?limit=1"), KEY, Some(&json!({"search": {"term": "acme"}})))
            .await
            .body;
    let next = s["pagination"]["nextUrl"].as_str().expect("more than one Acme");
    let again = call("post", next, KEY, Some(&json!({"search": {"term": "globex"}}))).await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn the_search_matches_names_and_primary_domains() {
    let base = start().await;
    let found =
        call("post", &format!("{base}/v2/companies/search"), KEY, Some(&json!({"search": {"term": "acme.test"}})))
            .await
            .body;
    let names: Vec<&str> = found["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme Corporation"]);
    assert!(found["data"][0].get("fields").is_none(), "no fields unless asked");
    let secondary =
        call("post", &format!("{base}/v2/companies/search"), KEY, Some(&json!({"search": {"term": "acme.localhost"}})))
            .await;
    assert_eq!(secondary.body["data"].as_array().unwrap().len(), 0, "a secondary domain is not searched");
}

#[tokio::test]
async fn v2_takes_bearer_only_and_a_v1_only_key_gets_403_in_v2_shape() {
    let base = start().await;
    let http = reqwest::Client::new();
    let basic = http.get(format!("{base}/v2/users")).basic_auth("", Some(KEY)).send().await.unwrap();
    assert_eq!(basic.status(), 401);
    let body: Value = basic.json().await.unwrap();
    let errors = common::answer_errors("get", "/v2/users", 401, &body);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(body["errors"][0]["code"], "authentication");

    for (method, path, concrete) in [
        ("get", "/v2/users", "/v2/users".to_string()),
        ("post", "/v2/companies/search", "/v2/companies/search".to_string()),
        ("get", "/v2/companies/{companyId}/list-entries", format!("/v2/companies/{}/list-entries", ids::ACME)),
    ] {
        let body = (method == "post").then(|| json!({"search": {"term": "acme"}}));
        let answer = conforms(method, path, &concrete, V1_ONLY, body, 403).await;
        assert_eq!(answer["errors"][0]["code"], "authorization");
    }
    // Its v1 calls are answered.
    let v1 =
        http.get(format!("{base}/organizations/{}", ids::ACME)).basic_auth("", Some(V1_ONLY)).send().await.unwrap();
    assert_eq!(v1.status(), 200);
    // An unknown v2 path is v2's 404.
    let missing = call("get", &format!("{base}/v2/nothing-here"), KEY, None).await;
    assert_eq!((missing.status, missing.body["errors"][0]["code"].as_str()), (404, Some("not-found")));
}

#[tokio::test]
async fn the_v2_forbidden_flag_closes_v2_to_every_key() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = SandboxConfig { v2_forbidden: true, ..SandboxConfig::new(KEY) };
    let world = affinity_sandbox::World::empty();
    tokio::spawn(Sandbox::with_world(config, world).serve(listener));
    let answer = call("get", &format!("{base}/v2/users"), KEY, None).await;
    assert_eq!((answer.status, answer.body["errors"][0]["code"].as_str()), (403, Some("authorization")));
    let whoami = reqwest::Client::new().get(format!("{base}/auth/whoami")).bearer_auth(KEY).send().await.unwrap();
    assert_ne!(whoami.status(), 403);
}

#[test]
fn the_schema_check_catches_answers_that_stray_from_the_document() {
    let schema = |v: &Value| common::answer_errors("get", "/v2/companies/{companyId}/relationships", 200, v);
    let person = json!({ "id": 1, "firstName": "A", "lastName": null, "primaryEmailAddress": null });
    let good = json!({ "data": [{ "person1": person, "person2": person, "interactionScore": 0.5, "linkedIn": null }],
                       "pagination": { "nextUrl": null, "prevUrl": null, "totalCount": 1 } });
    let errors = schema(&good);
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({ "data": [{ "person1": person, "person2": person, "interactionScore": "high", "linkedIn": null }], "pagination": {} }),
        json!({ "data": [{ "person1": person, "person2": person, "interactionScore": 0.5 }], "pagination": {} }),
        json!({ "data": [{ "person1": person, "person2": person, "interactionScore": 1.5, "linkedIn": null }], "pagination": {} }),
        json!({ "data": [], "pagination": { "nextUrl": "not a url" } }),
        json!({ "data": [], "pagination": {}, "extra": true }),
        json!({ "pagination": {} }),
    ] {
        let errors = schema(&bad);
        assert!(!errors.is_empty(), "{bad} passed");
    }
    let field_value = json!({ "type": "ranked-dropdown", "data": { "dropdownOptionId": 1, "text": "x", "rank": 1 } });
    let errors = common::errors_at("/components/schemas/FieldValue", &field_value);
    assert!(!errors.is_empty(), "a ranked dropdown without its colour passed");
}

/// What a card shows and edits of a deal: the Deal Pipeline has a field of every kind (Status
/// and another ranked dropdown, Owners, Amount, a dropdown, a multi-valued dropdown, text, a
/// date, organizations), Acme's entry holds a value in each, and a company's list entries
/// carry its enriched fields (the firmographics come with them).
#[tokio::test]
async fn the_deal_pipeline_has_a_field_of_every_kind_and_entries_carry_the_companys_fields() {
    let base = start().await;
    let path = "/v2/companies/{companyId}/list-entries";
    let entries = conforms("get", path, &format!("/v2/companies/{}/list-entries", ids::ACME), KEY, None, 200).await;
    let deal = entries["data"].as_array().unwrap().iter().find(|e| e["listId"] == ids::DEAL_PIPELINE).unwrap();
    let field = |name: &str| {
        let f = deal["fields"].as_array().unwrap().iter().find(|f| f["name"] == name && f["type"] == "list");
        f.unwrap_or_else(|| panic!("no list field {name}: {deal}")).clone()
    };
    let kinds: Vec<(&str, &str)> = vec![
        ("Status", "ranked-dropdown"),
        ("Owners", "person-multi"),
        ("Amount", "number"),
        ("Source", "dropdown"),
        ("Priority", "ranked-dropdown"),
        ("Sectors", "dropdown-multi"),
        ("Next Step", "text"),
        ("Close Date", "datetime"),
        ("Co-investors", "company-multi"),
    ];
    for (name, kind) in kinds {
        let f = field(name);
        assert_eq!(f["value"]["type"], kind, "{name}");
        assert!(!f["value"]["data"].is_null(), "Acme's {name} has a value: {f}");
    }
    assert_eq!(field("Source")["value"]["data"]["text"], "Referral");
    assert_eq!(field("Co-investors")["value"]["data"][0]["name"], "Globex");
    let employees = deal["fields"].as_array().unwrap().iter().find(|f| f["id"] == "affinity-data-number-of-employees");
    assert_eq!(employees.map(|f| f["value"]["data"].clone()), Some(json!(420)));
    // v1 reads the same values (one field value per value of a multi-valued field).
    let values = call("get", &format!("{base}/field-values?list_entry_id={}", deal["id"]), KEY, None).await.body;
    let sectors = field("Sectors")["id"].as_str().unwrap().trim_start_matches("field-").parse::<i64>().unwrap();
    let texts: Vec<&Value> =
        values.as_array().unwrap().iter().filter(|v| v["field_id"] == sectors).map(|v| &v["value"]).collect();
    assert_eq!(texts, [&json!("AI"), &json!("Developer Tools")]);
}

/// A key that only reads says so in its grant (`api.read`), and its writes are refused.
#[tokio::test]
async fn a_read_only_key_says_so_in_whoami_and_may_not_write() {
    let base = start().await;
    let full = conforms("get", "/v2/auth/whoami", "/v2/auth/whoami", KEY, None, 200).await;
    assert_eq!(full["grant"]["scopes"], json!(["api"]));
    let read_only = conforms("get", "/v2/auth/whoami", "/v2/auth/whoami", READ_ONLY, None, 200).await;
    assert_eq!(read_only["grant"]["scopes"], json!(["api.read"]));
    let entries = call("get", &format!("{base}/v2/companies/{}/list-entries", ids::ACME), READ_ONLY, None).await.body;
    let deal = entries["data"].as_array().unwrap().iter().find(|e| e["listId"] == ids::DEAL_PIPELINE).unwrap();
    let next_step = deal["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Next Step").unwrap();
    let url = format!("{base}/v2/lists/{}/list-entries/{}/fields/{}", ids::DEAL_PIPELINE, deal["id"], next_step["id"]);
    let body = json!({ "value": { "type": "text", "data": "Not allowed" } });
    assert_eq!(call("post", &url, READ_ONLY, Some(&body)).await.status, 403);
}
