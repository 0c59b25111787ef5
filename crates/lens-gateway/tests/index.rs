//! `GET /affinity/index` against the sandbox: authenticated like cards, the firm's index
//! without private lists, `ETag`/`If-None-Match`, 503 before the first sync, and webhooks
//! that change it.

use std::time::{Duration, Instant};

use affinity_sandbox::seed::ids;
use affinity_sandbox::{Faults, Sandbox, SandboxConfig};
use lens_core::index::Index;
use lens_gateway::gateway::{CallerAuth, Gateway, GatewayConfig, WebhookConfig};

const KEY: &str = "gateway-index-key";
const TOKEN: &str = "a-caller-token-of-16+-chars";
const SECRET: &str = "a-webhook-secret-of-24-chars-or-more";

struct Running {
    url: String,
    sandbox: Sandbox,
    http: reqwest::Client,
}

async fn start(faults: Faults) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig { faults, ..SandboxConfig::new(KEY) });
    tokio::spawn(sandbox.clone().serve(listener));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = GatewayConfig::new(&base, KEY, addr);
    config.auth = CallerAuth { tokens: vec![TOKEN.into()], ..CallerAuth::default() };
    config.webhook = Some(WebhookConfig { public_url: format!("http://{addr}"), secret: SECRET.into() });
    tokio::spawn(Gateway::new(config).serve(listener));
    Running { url: format!("http://{addr}"), sandbox, http: reqwest::Client::new() }
}

impl Running {
    async fn index(&self, etag: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}/affinity/index", self.url)).bearer_auth(TOKEN);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send().await.unwrap()
    }

    /// The index once served (within 10 s), and its ETag.
    async fn ready(&self) -> (Index, String) {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.index(None).await;
            if r.status() == 200 {
                let etag = r.headers()["etag"].to_str().unwrap().to_owned();
                return (Index::decode(&r.bytes().await.unwrap()).unwrap(), etag);
            }
            assert!(Instant::now() < until, "no index within 10 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls with `If-None-Match` until the index changes (within 5 s).
    async fn changed(&self, etag: &str) -> (Index, String) {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let r = self.index(Some(etag)).await;
            if r.status() == 200 {
                let etag = r.headers()["etag"].to_str().unwrap().to_owned();
                return (Index::decode(&r.bytes().await.unwrap()).unwrap(), etag);
            }
            assert_eq!(r.status(), 304);
            assert!(Instant::now() < until, "the index did not change within 5 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn webhook(&self, event: serde_json::Value) {
        let url = format!("{}/affinity/webhook/{SECRET}", self.url);
        let r = self.http.post(url).json(&event).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn the_index_is_served_to_known_callers_without_private_lists_and_with_an_etag() {
    let g = start(Faults::default()).await;
    // No identity, a wrong token: 401, as for cards.
    let r = g.http.get(format!("{}/affinity/index", g.url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = g.http.get(format!("{}/affinity/index", g.url)).bearer_auth("not-a-token-of-ours").send().await.unwrap();
    assert_eq!(r.status(), 401);

    let (index, etag) = g.ready().await;
    let r = g.index(None).await;
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["cache-control"], "private, no-cache");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(index.len(), g.sandbox.world().organizations.len());
    // Acme is on Deal Pipeline (public) and Board Confidential (private): only the first.
    assert!(index.list(ids::BOARD_CONFIDENTIAL).is_none(), "a private list is served");
    let acme = &index.lookup_domain("acme.test")[0];
    assert!(acme.lists.iter().any(|l| l.list_id == ids::DEAL_PIPELINE));
    assert!(acme.lists.iter().all(|l| l.list_id != ids::BOARD_CONFIDENTIAL));

    // Unchanged: 304 without a body, the same ETag; a list of tags and a weak one match too.
    for sent in [etag.clone(), format!("\"0\", {etag}"), format!("W/{etag}"), "*".into()] {
        let r = g.index(Some(&sent)).await;
        assert_eq!(r.status(), 304, "{sent}");
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    assert_eq!(g.index(Some("\"something-else\"")).await.status(), 200);
}

#[tokio::test]
async fn before_the_first_sync_the_index_answers_503_with_retry_after_at_once() {
    // Every answer of Affinity takes 2 s: the first sync takes several.
    let g = start(Faults { latency_ms: 2000, ..Faults::default() }).await;
    let started = Instant::now();
    let r = g.index(None).await;
    assert!(started.elapsed() < Duration::from_secs(1), "the request waited for the sync");
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not ready"), "{body}");
    assert_eq!(body["retry_after"], 5);
    // It is still authenticated.
    let r = g.http.get(format!("{}/affinity/index", g.url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn webhooks_change_the_index_served() {
    let g = start(Faults::default()).await;
    let (_, etag) = g.ready().await;
    // A new organization.
    let event = serde_json::json!({ "type": "organization.created", "sent_at": now_secs(),
        "body": { "id": 990001, "name": "Newco", "domain": "newco.test", "domains": ["newco.test"] } });
    g.webhook(event).await;
    let (index, etag) = g.changed(&etag).await;
    assert_eq!(index.lookup_domain("www.newco.test")[0].id, 990001);

    // Acme's Status on Deal Pipeline changes.
    let world = g.sandbox.world();
    let status = world.fields.iter().find(|f| f.list_id == Some(ids::DEAL_PIPELINE) && f.name == "Status").unwrap();
    let entry =
        world.list_entries.iter().find(|e| e.list_id == ids::DEAL_PIPELINE && e.entity_id == ids::ACME).unwrap();
    let option = status.dropdown_options.iter().find(|o| o.text == "IC Review").unwrap();
    let event = serde_json::json!({ "type": "field_value.updated", "sent_at": now_secs(),
        "body": { "id": 880001, "field_id": status.id, "entity_id": ids::ACME, "entity_type": 1,
                  "list_entry_id": entry.id, "value_type": 7, "value": option } });
    g.webhook(event).await;
    let (index, etag) = g.changed(&etag).await;
    let acme = &index.lookup_domain("acme.test")[0];
    let deal = acme.lists.iter().find(|l| l.list_id == ids::DEAL_PIPELINE).unwrap();
    assert_eq!(deal.status.as_ref().unwrap().text, "IC Review");

    // Newco is merged into Acme, then Globex is deleted.
    let newco = serde_json::json!({ "id": 990001, "name": "Newco", "domain": "newco.test", "domains": ["newco.test"] });
    let acme_now = serde_json::json!({ "id": ids::ACME, "name": "Acme", "domain": "acme.test",
        "domains": ["acme.test", "newco.test"] });
    g.webhook(serde_json::json!({ "type": "organization.merged", "sent_at": now_secs(),
        "body": { "removed_company": newco, "company": acme_now } }))
        .await;
    let (index, etag) = g.changed(&etag).await;
    assert_eq!(index.lookup_domain("newco.test")[0].id, ids::ACME);
    assert!(index.company(990001).is_none());
    g.webhook(serde_json::json!({ "type": "organization.deleted", "sent_at": now_secs(),
        "body": { "id": ids::GLOBEX, "name": "Globex" } }))
        .await;
    let (index, _) = g.changed(&etag).await;
    assert!(index.lookup_domain("globex.test").is_empty());
}
