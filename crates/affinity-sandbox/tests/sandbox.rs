//! The sandbox over HTTP, as clients see it.

use affinity_api::{Client, ClientConfig};
use affinity_sandbox::{Sandbox, SandboxConfig};

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

// ---- the full sandbox ------------------------------------------------------------------------

use affinity_api::endpoints::{self, DetailOptions, EntityRef, InteractionQuery, SearchQuery};
use affinity_api::models::{self, ValueType};
use affinity_sandbox::seed::ids;
use affinity_sandbox::{EndpointFault, Faults, World};
use futures::StreamExt;
use serde_json::Value;

async fn start_with(config: SandboxConfig, world: Option<World>) -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = match world {
        Some(w) => Sandbox::with_world(config, w),
        None => Sandbox::new(config),
    };
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn client_for(url: &str) -> Client {
    Client::new(ClientConfig::new(url, KEY))
}

#[tokio::test]
async fn every_read_endpoint_decodes_with_the_core_models() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let c = client_for(&url);
    let lists = c.execute(&endpoints::lists()).await.unwrap();
    assert_eq!(lists.len(), 8);
    let pipeline = c.execute(&endpoints::list(ids::DEAL_PIPELINE)).await.unwrap();
    assert_eq!(pipeline.name, "Deal Pipeline");
    assert!(pipeline.fields.iter().any(|f| f.name == "Status" && f.value_type == ValueType::RANKED_DROPDOWN));
    let entries = c.execute(&endpoints::all_list_entries(ids::DEAL_PIPELINE)).await.unwrap();
    assert!(entries.len() > 800);
    let entry = c.execute(&endpoints::list_entry(ids::DEAL_PIPELINE, entries[0].id)).await.unwrap();
    assert!(entry.entity().is_some());
    let fields = c.execute(&endpoints::fields(&Default::default())).await.unwrap();
    assert!(fields.len() > 10);
    assert!(!c.execute(&endpoints::organization_fields()).await.unwrap().is_empty());
    assert!(!c.execute(&endpoints::person_fields()).await.unwrap().is_empty());
    let values = c.execute(&endpoints::field_values(EntityRef::ListEntry(entries[0].id))).await.unwrap();
    assert!(!values.is_empty());
    let status = pipeline.fields.iter().find(|f| f.name == "Status").unwrap();
    let changes = c
        .execute(&endpoints::field_value_changes(status.id, Some(EntityRef::Organization(ids::ACME)), None))
        .await
        .unwrap();
    assert!(!changes.items.is_empty());
    let with_dates = SearchQuery {
        with_interaction_dates: true,
        with_interaction_persons: true,
        with_opportunities: true,
        ..SearchQuery::term("acme.test")
    };
    let orgs = c.execute(&endpoints::search_organizations(&with_dates)).await.unwrap();
    assert!(orgs.items.iter().any(|o| o.id == ids::ACME && o.interactions.is_some() && o.opportunity_ids.is_some()));
    let acme = c
        .execute(&endpoints::organization(
            ids::ACME,
            DetailOptions { with_interaction_dates: true, ..Default::default() },
        ))
        .await
        .unwrap();
    assert_eq!(acme.person_ids.as_ref().unwrap().len(), 20);
    assert!(acme.list_entries.as_ref().unwrap().len() >= 2);
    let persons = c.execute(&endpoints::search_persons(&SearchQuery::term("bob.smith@acme.test"))).await.unwrap();
    let bob = persons.items.first().expect("Bob is found by email");
    let bob = c.execute(&endpoints::person(bob.id, DetailOptions::default())).await.unwrap();
    assert_eq!(bob.organization_ids, Some(vec![ids::ACME]));
    let strengths = c.execute(&endpoints::relationship_strengths(bob.id, None)).await.unwrap();
    assert!(strengths.iter().any(|s| s.internal_id == ids::ALICE && (s.strength - 0.82).abs() < 1e-9));
    let opps = c.execute(&endpoints::search_opportunities(Some("Acme"), None)).await.unwrap();
    let opp = opps.items.first().expect("Acme has an opportunity");
    assert_eq!(c.execute(&endpoints::opportunity(opp.id)).await.unwrap().list_entries.len(), 1);
    let emails = c
        .execute(&endpoints::interactions(&InteractionQuery {
            interaction_type: 3,
            of: Some(EntityRef::Organization(ids::ACME)),
            internal_person_id: None,
            start_time: "2026-01-01T00:00:00Z".into(),
            end_time: "2026-12-31T00:00:00Z".into(),
            page_size: None,
        }))
        .await
        .unwrap();
    assert!(!emails.items.is_empty());
    let notes = c.execute(&endpoints::notes(Some(EntityRef::Organization(ids::ACME)), None)).await.unwrap();
    // Two from the generator, three dated ones for the card's latest notes (seed::acme_notes).
    assert_eq!(notes.items.len(), 5);
    c.execute(&endpoints::note(notes.items[0].id)).await.unwrap();
    let me = c.whoami().await.unwrap();
    assert_eq!(me.user.id, ids::ALICE);
    let rate = c.rate_limit().await.unwrap();
    assert_eq!(rate.rate.org_monthly.limit, models::RateLimitValue::Unlimited);
}

/// The keys of the first object of a response (or of its page's first item).
fn keys_of(v: &Value, wrapper: Option<&str>) -> Vec<String> {
    let item = match wrapper {
        Some(k) => &v[k][0],
        None if v.is_array() => &v[0],
        None => v,
    };
    let mut keys: Vec<String> = item.as_object().expect("an object").keys().cloned().collect();
    keys.sort();
    keys
}

fn fixture(path: &str) -> Value {
    let dir = std::env::var("AFFINITY_FIXTURES").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/affinity-v1")
    });
    serde_json::from_str(&std::fs::read_to_string(dir.join(path)).unwrap()).unwrap()
}

#[tokio::test]
async fn responses_have_the_key_sets_of_the_recorded_fixtures() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = url.clone();
        async move { http.get(format!("{url}{path}")).bearer_auth(KEY).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // (sandbox path, wrapper key, fixture, wrapper key in fixture, keys Affinity sends that this fixture omits)
    type Case<'a> = (String, Option<&'a str>, &'a str, Option<&'a str>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "/organizations?term=acme".into(),
            Some("organizations"),
            "organizations/search.affinity-node.json",
            Some("organizations"),
            &["crunchbase_uuid"],
        ),
        (
            format!("/organizations/{}?with_interaction_dates=true&with_opportunities=true", ids::ACME),
            None,
            "organizations/get_with_interactions.affinity-node.json",
            None,
            &["crunchbase_uuid"],
        ),
        ("/persons?term=smith".into(), Some("persons"), "persons/search.affinity-node.json", Some("persons"), &[]),
        (format!("/persons/{}", ids::ALICE), None, "persons/get.affinity-node.json", None, &[]),
        ("/lists".into(), None, "lists/lists_all.affinity-node.json", None, &["creator_id"]),
        (
            format!("/lists/{}/list-entries", ids::DEAL_PIPELINE),
            None,
            "list-entries/all_bare_array.affinity-node.json",
            None,
            &[],
        ),
        (
            format!("/lists/{}/list-entries?page_size=1", ids::DEAL_PIPELINE),
            None,
            "list-entries/paged_page1.affinity-node.json",
            None,
            &[],
        ),
        (format!("/fields?list_id={}", ids::DEAL_PIPELINE), None, "fields/fields_all.real.gdecugis.json", None, &[]),
        (
            format!("/notes?organization_id={}", ids::ACME),
            Some("notes"),
            "notes/all_paged.affinity-node.json",
            Some("notes"),
            &[],
        ),
        (
            "/relationships-strengths?external_id=PERSON".into(),
            None,
            "relationships-strengths/list.docs.json",
            None,
            &[],
        ),
        ("/auth/whoami".into(), None, "whoami/whoami.affinity-node.json", None, &[]),
        (format!("/field-values?organization_id={}", ids::ACME), None, "field-values/location_value.docs.json", None, &["entity_type", "value_type"]),
        // The older keys are in the reference's own example (shared/seed), not in this fixture.
        (
            "/field-value-changes?field_id=STATUS".into(),
            None,
            "field-value-changes/all.affinity-node.json",
            None,
            &["entity_attribute_id", "person", "company", "opp"],
        ),
        ("/opportunities?term=acme".into(), Some("opportunities"), "opportunities/opportunity.docs.json", None, &[]),
        ("/interactions?type=3&organization_id=7133202&start_time=2026-01-01T00:00:00Z&end_time=2026-12-01T00:00:00Z".into(), Some("emails"), "interactions/list_emails.docs.json", Some("emails"), &[]),
        ("/rate-limit".into(), None, "rate-limit/rate_limit.docs.json", None, &[]),
    ];
    let bob = get("/persons?term=bob.smith%40acme.test".into()).await["persons"][0]["id"].as_i64().unwrap();
    let fields = get(format!("/fields?list_id={}", ids::DEAL_PIPELINE)).await;
    let status_field =
        fields.as_array().unwrap().iter().find(|f| f["name"] == "Status").unwrap()["id"].as_i64().unwrap();
    for (path, wrapper, fixture_path, fixture_wrapper, extra) in cases {
        let path = path.replace("PERSON", &bob.to_string()).replace("STATUS", &status_field.to_string());
        let ours = keys_of(&get(path.clone()).await, wrapper);
        let mut theirs = keys_of(&fixture(fixture_path), fixture_wrapper);
        theirs.extend(extra.iter().map(|s| s.to_string()));
        theirs.sort();
        theirs.dedup();
        assert_eq!(ours, theirs, "{path} vs {fixture_path}");
    }
}

#[tokio::test]
async fn every_response_carries_lower_case_rate_limit_headers_and_429_past_the_minute() {
    let mut config = SandboxConfig::new(KEY);
    config.rate_limit_per_min = 5;
    let (url, _) = start_with(config, None).await;
    let http = reqwest::Client::new();
    let mut statuses = vec![];
    for _ in 0..7 {
        let r = http.get(format!("{url}/lists")).bearer_auth(KEY).send().await.unwrap();
        for h in [
            "x-ratelimit-limit-user",
            "x-ratelimit-limit-user-remaining",
            "x-ratelimit-limit-user-reset",
            "x-ratelimit-limit-org",
            "x-ratelimit-limit-org-remaining",
        ] {
            assert!(r.headers().contains_key(h), "missing {h}");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn the_monthly_budget_runs_out_and_rate_limit_reports_the_use() {
    let mut config = SandboxConfig::new(KEY);
    config.monthly_budget = Some(3);
    let (url, _) = start_with(config, None).await;
    let c = client_for(&url);
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http.get(format!("{url}/lists/11")).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = http.get(format!("{url}/lists/11")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(r.status(), 429, "the month's budget is spent");
    let rate = c.rate_limit().await.unwrap();
    assert_eq!(rate.rate.org_monthly.used, 3);
    assert_eq!(rate.rate.org_monthly.remaining, models::RateLimitValue::Limited(0));
}

#[tokio::test]
async fn writes_change_what_later_reads_return() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let c = client_for(&url);
    let org = c.execute(&endpoints::create_organization("Newco", Some("newco.test"), &[])).await.unwrap();
    let found = c.execute(&endpoints::search_organizations(&SearchQuery::term("newco.test"))).await.unwrap();
    assert_eq!(found.items.iter().map(|o| o.id).collect::<Vec<_>>(), vec![org.id]);
    let entry = c.execute(&endpoints::create_list_entry(ids::DEAL_PIPELINE, org.id)).await.unwrap();
    let pipeline = c.execute(&endpoints::list(ids::DEAL_PIPELINE)).await.unwrap();
    let status = pipeline.fields.iter().find(|f| f.name == "Status").unwrap();
    let option = &status.dropdown_options[2];
    let value = c
        .execute(&endpoints::create_field_value(status.id, org.id, serde_json::json!(option.id), Some(entry.id)))
        .await
        .unwrap();
    assert!(
        matches!(value.data(Some(ValueType::RANKED_DROPDOWN)), models::FieldValueData::RankedDropdown(ref o) if o.text == option.text)
    );
    let changes = c
        .execute(&endpoints::field_value_changes(status.id, Some(EntityRef::Organization(org.id)), None))
        .await
        .unwrap();
    assert_eq!(changes.items.len(), 1);
    let note = c.execute(&endpoints::create_note("First call went well", &[], &[org.id], &[])).await.unwrap();
    let notes = c.execute(&endpoints::notes(Some(EntityRef::Organization(org.id)), None)).await.unwrap();
    assert_eq!(notes.items.iter().map(|n| n.id).collect::<Vec<_>>(), vec![note.id]);
    let person =
        c.execute(&endpoints::create_person("Nia", "New", &["nia@newco.test".into()], &[org.id])).await.unwrap();
    let dup = c.execute(&endpoints::create_person("Nia", "Again", &["nia@newco.test".into()], &[])).await.unwrap_err();
    assert_eq!(dup.kind(), "invalid");
    let detail = c.execute(&endpoints::organization(org.id, DetailOptions::default())).await.unwrap();
    assert_eq!(detail.person_ids, Some(vec![person.id]));
    c.execute(&endpoints::delete_list_entry(ids::DEAL_PIPELINE, entry.id)).await.unwrap();
    assert!(c.execute(&endpoints::field_values(EntityRef::ListEntry(entry.id))).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_writes_get_422_with_a_message_and_a_read_only_key_gets_403() {
    let mut config = SandboxConfig::new(KEY);
    config.read_only_key = Some("reader".into());
    let (url, _) = start_with(config, None).await;
    let c = client_for(&url);
    match c.execute(&endpoints::create_note("orphan", &[], &[], &[])).await.unwrap_err() {
        affinity_api::Error::Invalid { status: 422, message } => {
            assert!(message.contains("At least one"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.execute(&endpoints::create_list_entry(ids::DEAL_PIPELINE, 1)).await.unwrap_err().kind(), "invalid");
    assert_eq!(c.execute(&endpoints::list(999)).await.unwrap_err().kind(), "not_found");
    let reader = Client::new(ClientConfig::new(&url, "reader"));
    assert_eq!(reader.execute(&endpoints::create_organization("X", None, &[])).await.unwrap_err().kind(), "forbidden");
    assert_eq!(reader.execute(&endpoints::list(ids::BOARD_CONFIDENTIAL)).await.unwrap_err().kind(), "forbidden");
    assert!(reader.execute(&endpoints::lists()).await.is_ok());
}

#[tokio::test]
async fn list_entries_are_paged_only_with_page_size_and_every_page_is_reachable() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let c = client_for(&url);
    let all = c.execute(&endpoints::all_list_entries(ids::PORTFOLIO)).await.unwrap();
    let paged: Vec<i64> = c.items(endpoints::list_entries(ids::PORTFOLIO, 40)).map(|e| e.unwrap().id).collect().await;
    assert_eq!(paged, all.iter().map(|e| e.id).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_hard_cases_are_in_the_world() {
    let world = affinity_sandbox::seed::generate(1);
    assert!((4_900..=5_100).contains(&world.organizations.len()), "{}", world.organizations.len());
    assert!((19_000..=21_000).contains(&world.persons.len()));
    assert_eq!(world.persons.iter().filter(|p| p.person_type == 1).count(), 15);
    assert_eq!(world.lists.len(), 8);
    let org = |id| world.organization(id).unwrap();
    assert_eq!(org(ids::MEGACORP).person_ids.len(), 150);
    assert!(org(ids::NO_DOMAIN).domain.is_none());
    assert_eq!(org(ids::SHARED_ONE).domain, org(ids::SHARED_TWO).domain);
    assert!(org(ids::HTML_NAME).name.contains("<script>"));
    assert!(!org(ids::UNICODE).name.is_ascii());
    let twice = world
        .list_entries
        .iter()
        .filter(|e| e.entity_id == ids::TWICE_LISTED && e.list_id == ids::DEAL_PIPELINE)
        .count();
    assert_eq!(twice, 2);
    assert_eq!(world.persons.iter().filter(|p| p.first_name == "Alex" && p.last_name == "Morgan").count(), 2);
    assert!(world.persons.iter().any(|p| p.emails.is_empty() && p.person_type == 0));
    assert!(world.organizations.iter().any(|o| o.domains.len() > 1));
}

#[test]
fn the_same_seed_gives_the_same_world_and_a_dump_loads_back() {
    use affinity_sandbox::seed::generate;
    let a = serde_json::to_string(&generate(42)).unwrap();
    let b = serde_json::to_string(&generate(42)).unwrap();
    if let Some(at) = a.bytes().zip(b.bytes()).position(|(x, y)| x != y) {
        panic!(
            "the worlds differ at byte {at}: {:?} vs {:?}",
            &a[at.saturating_sub(80)..at + 40],
            &b[at.saturating_sub(80)..at + 40]
        );
    }
    assert_eq!(a.len(), b.len());
    assert_ne!(a, serde_json::to_string(&generate(43)).unwrap());
    let loaded = serde_json::to_string(&World::from_json(&a).unwrap()).unwrap();
    if let Some(at) = a.bytes().zip(loaded.bytes()).position(|(x, y)| x != y) {
        panic!(
            "a dump loads back differently at byte {at}: {:?} vs {:?}",
            &a[at.saturating_sub(80)..],
            &loaded[at.saturating_sub(80)..]
        );
    }
    assert_eq!(a.len(), loaded.len());
}

#[tokio::test]
async fn a_world_from_json_is_served_as_stated() {
    let world = World::from_json(
        r#"{"tenant":{"id":9,"name":"Tiny","subdomain":"tiny","user_id":1},
            "persons":[{"id":1,"type":1,"first_name":"Ann","last_name":"Lee","emails":["ann@tiny.test"]}],
            "organizations":[{"id":5,"name":"Only Org","domain":"only.test","domains":["only.test"]}],
            "lists":[],"fields":[],"list_entries":[],"field_values":[],"field_value_changes":[],
            "opportunities":[],"strengths":[],"interactions":[],"notes":[],"next_id":0}"#,
    )
    .unwrap();
    let (url, _) = start_with(SandboxConfig::new(KEY), Some(world)).await;
    let c = client_for(&url);
    let all = c.execute(&endpoints::search_organizations(&SearchQuery::default())).await.unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(c.whoami().await.unwrap().tenant.subdomain, "tiny");
}

#[tokio::test]
async fn injected_faults_look_like_affinity_failing() {
    let mut config = SandboxConfig::new(KEY);
    config.faults = Faults { fail_rate: 1.0, fail_status: Some(502), ..Faults::default() };
    let (url, _) = start_with(config, None).await;
    assert_eq!(
        client_for(&url).execute(&endpoints::lists()).await.unwrap_err(),
        affinity_api::Error::Unavailable { status: Some(502), message: "Injected failure".into() }
    );

    let mut config = SandboxConfig::new(KEY);
    config.faults.endpoints.insert("/organizations".into(), EndpointFault::Malformed);
    config.faults.endpoints.insert("/persons".into(), EndpointFault::Hang);
    let (url, _) = start_with(config, None).await;
    let err = client_for(&url).execute(&endpoints::search_organizations(&SearchQuery::term("acme"))).await.unwrap_err();
    assert_eq!(err.kind(), "bad_response");
    let mut cfg = ClientConfig::new(&url, KEY);
    cfg.timeout = std::time::Duration::from_millis(300);
    let err = Client::new(cfg).execute(&endpoints::search_persons(&SearchQuery::term("a"))).await.unwrap_err();
    assert_eq!(err.kind(), "unavailable");
    assert!(client_for(&url).execute(&endpoints::lists()).await.is_ok(), "other endpoints still answer");
}

#[tokio::test]
async fn faults_can_be_changed_while_running() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let http = reqwest::Client::new();
    let set = http
        .post(format!("{url}/_sandbox/faults"))
        .bearer_auth(KEY)
        .json(&serde_json::json!({ "endpoints": { "/lists": { "status": 403 } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(client_for(&url).execute(&endpoints::lists()).await.unwrap_err().kind(), "forbidden");
}

#[tokio::test]
async fn concurrent_identical_lookups_reach_the_sandbox_once() {
    let (url, sandbox) = start_with(SandboxConfig::new(KEY), None).await;
    let c = client_for(&url);
    let before = sandbox.requests_served();
    let endpoint = endpoints::list(ids::DEAL_PIPELINE);
    let all = futures::future::join_all((0..20).map(|_| c.execute(&endpoint))).await;
    assert!(all.iter().all(Result::is_ok));
    assert_eq!(sandbox.requests_served() - before, 1);
    c.execute(&endpoints::list(ids::DEAL_PIPELINE)).await.unwrap();
    assert_eq!(sandbox.requests_served() - before, 1, "the second read is a fresh cache hit");
}

/// What the sandbox does not serve answers Affinity's JSON error (404, or 405 for a method a
/// served path lacks), and `--help` names each.
#[tokio::test]
async fn what_is_not_served_answers_a_json_404_or_405_and_the_help_names_it() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let http = reqwest::Client::new();
    for (method, path) in affinity_sandbox::NOT_SERVED {
        let concrete = path.replace("{id}", "1").replace("{entry_id}", "1").replace("{field_id}", "field-1");
        let request = http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{url}{concrete}"));
        let response = request.bearer_auth(KEY).json(&serde_json::json!({})).send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status == 404 || status == 405, "{method} {path}: {status}");
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{method} {path}: not JSON: {e}"));
        let message = body["message"].as_str().or(body["errors"][0]["message"].as_str());
        assert!(message.is_some_and(|m| !m.is_empty()), "{method} {path}: {body}");
        assert!(affinity_sandbox::NOT_SERVED_HELP.contains(path), "--help names {path}");
    }
}

/// A page on a name of its own that resolves here (DNS rebinding) gets nothing, and the
/// sandbox posts webhooks to this machine only.
#[tokio::test]
async fn the_sandbox_answers_only_for_this_machine_and_calls_only_this_machine() {
    let (url, _) = start_with(SandboxConfig::new(KEY), None).await;
    let http = reqwest::Client::new();
    let rebound =
        http.get(format!("{url}/lists")).header("host", "evil.example").bearer_auth(KEY).send().await.unwrap();
    assert_eq!(rebound.status(), 421);
    for host in ["localhost:8787", "acme.localhost", "127.0.0.1", "[::1]:9"] {
        let ok = http.get(format!("{url}/lists")).header("host", host).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(ok.status(), 200, "{host}");
    }
    let subscribe = |hook: &str| {
        http.post(format!("{url}/webhook/subscribe"))
            .bearer_auth(KEY)
            .json(&serde_json::json!({ "webhook_url": hook }))
            .send()
    };
    assert_eq!(subscribe("http://10.0.0.1/hook").await.unwrap().status(), 422);
    assert_eq!(subscribe("https://example.com/hook").await.unwrap().status(), 422);
    assert!(subscribe("http://127.0.0.1:9/hook").await.unwrap().status().is_success());
}
