//! The lookup engine against the sandbox's world: the Card for every hard case, the
//! rounds and requests it takes, and the CLI as a user runs it.

use std::process::Command;
use std::sync::Arc;

use affinity_api::cache::MemoryCache;
use affinity_api::{Client, ClientConfig};
use affinity_sandbox::seed::ids;
use affinity_sandbox::{Sandbox, SandboxConfig};
use lens_core::{Card, CardStatus, LensClient, Query, QueryKind, lookup_card, lookup_card_with};

const KEY: &str = "cards-key";
/// A key without API v2.
const V1_ONLY: &str = "cards-v1-key";

async fn start() -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig { v1_only_key: Some(V1_ONLY.into()), ..SandboxConfig::new(KEY) });
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn client(url: &str) -> LensClient {
    client_with_key(url, KEY)
}

fn client_with_key(url: &str, key: &str) -> LensClient {
    let builder = Client::builder(ClientConfig::new(url, key), affinity_api::transport::ReqwestTransport::new());
    LensClient::new(builder.cache(Arc::new(MemoryCache::default())), Arc::default())
}

fn domain(d: &str) -> Query {
    Query { kind: QueryKind::Domain, value: d.into() }
}

#[tokio::test]
async fn acme_has_its_strongest_connection_lists_status_owners_amount_and_activity() {
    let (url, _) = start().await;
    let card = lookup_card(&client(&url), &domain("acme.test")).await;
    assert_eq!(card.status, CardStatus::Matched, "{:?}", card.error);
    let e = card.entity.as_ref().unwrap();
    assert_eq!((e.id, e.name.as_str()), (ids::ACME, "Acme Corporation"));
    assert_eq!(e.affinity_url.as_deref(), Some("https://sandbox-ventures.affinity.co/companies/7133202"));
    let best = &card.connections[0];
    assert_eq!(
        (best.colleague.name.as_str(), best.contact.name.as_str(), best.strength),
        ("Alice Doe", "Bob Smith", 0.82)
    );
    assert!(card.connections.windows(2).all(|w| w[0].strength >= w[1].strength), "strongest first");
    let pipeline = card.lists.iter().find(|l| l.list_name == "Deal Pipeline").expect("on the Deal Pipeline");
    assert!(pipeline.status.is_some() && pipeline.status_since.is_some() && pipeline.amount.is_some());
    assert!(!pipeline.owners.is_empty() && pipeline.owners.iter().all(|o| !o.name.starts_with("Person ")));
    assert!(card.lists.iter().any(|l| l.list_name == "Portfolio"));
    assert!(card.activity.last_interaction.is_some());
    assert!(card.opportunities.iter().any(|o| o.name.starts_with("Acme Corporation")
        && o.list_name.as_deref() == Some("Fundraising Opportunities")
        && o.status.is_some()));
    assert_eq!(card.people_total, Some(20));
}

#[tokio::test]
async fn the_hard_cases_give_the_card_a_user_expects() {
    let (url, _) = start().await;
    let c = client(&url);
    // A domain shared by two organizations: pick one.
    let shared = lookup_card(&c, &domain("shared.test")).await;
    assert_eq!(shared.status, CardStatus::Ambiguous);
    assert_eq!(shared.candidates.len(), 2);
    // On one list twice: two list items.
    let twice = lookup_card(&c, &domain("twice.test")).await;
    assert_eq!(twice.lists.iter().filter(|l| l.list_name == "Deal Pipeline").count(), 2);
    // 150 people: API v2's relationships cover them all; a v1-only key reads strengths for
    // the 50 most recently in touch (those without interactions have none to read), and
    // the card says how many of the 150 it covers.
    let mega = lookup_card(&c, &domain("megacorp.test")).await;
    assert_eq!((mega.people_total, mega.people_checked), (Some(150), Some(150)));
    let v1 = lookup_card(&client_with_key(&url, V1_ONLY), &domain("megacorp.test")).await;
    assert_eq!(v1.people_total, Some(150));
    let checked = v1.people_checked.unwrap();
    assert!((50..150).contains(&checked), "{checked}");
    // HTML and unicode names come back as they are (the UI shows them as text).
    let html = lookup_card(&c, &domain("html.test")).await;
    assert!(html.entity.unwrap().name.contains("<script>"));
    let unicode = lookup_card(&c, &domain("unicode.test")).await;
    assert_eq!(unicode.entity.unwrap().name, "Ünïcødé Straße Ωmega 株式会社");
    // A near miss in the search is not a match; an unknown domain is not found.
    assert_eq!(lookup_card(&c, &domain("acmeanvils.test")).await.entity.unwrap().id, ids::ACME_ANVILS);
    assert_eq!(lookup_card(&c, &domain("nobody-here.test")).await.status, CardStatus::NotFound);
    // Without a domain: found by id.
    let by_id = lookup_card(&c, &Query { kind: QueryKind::OrganizationId, value: ids::NO_DOMAIN.to_string() }).await;
    assert_eq!(by_id.entity.unwrap().name, "No Domain Holdings");
    // A person by email, and two people with the same name from a LinkedIn URL.
    let bob = lookup_card(&c, &Query { kind: QueryKind::Email, value: "bob.smith@acme.test".into() }).await;
    assert_eq!(bob.entity.as_ref().unwrap().name, "Bob Smith");
    assert_eq!(bob.connections[0].colleague.name, "Alice Doe");
    let alex = lookup_card(
        &c,
        &Query { kind: QueryKind::LinkedinPerson, value: "https://www.linkedin.com/in/alex-morgan-42".into() },
    )
    .await;
    assert_eq!(alex.status, CardStatus::Ambiguous);
    assert_eq!(alex.candidates.len(), 2);
    // A person without email is still a card, found by id.
    let nomail = c
        .execute(&affinity_api::endpoints::search_persons(&affinity_api::endpoints::SearchQuery::term("Nomail")))
        .await
        .unwrap();
    let nomail_id = nomail.items[0].id;
    let card = lookup_card(&c, &Query { kind: QueryKind::PersonId, value: nomail_id.to_string() }).await;
    assert_eq!(card.status, CardStatus::Matched);
    assert!(card.entity.unwrap().emails.is_empty());
    // The profile page's headline tells the two apart.
    let hints = lens_core::PageHints {
        name: Some("Alex Morgan".into()),
        headline: Some("VP Sales at Globex".into()),
        ..Default::default()
    };
    let globex_alex = lens_core::lookup_card_hinted(
        &c,
        &Query { kind: QueryKind::LinkedinPerson, value: "https://www.linkedin.com/in/amorgan".into() },
        &hints,
        |_| {},
    )
    .await;
    assert_eq!(globex_alex.status, CardStatus::Matched, "{:?}", globex_alex.candidates);
    assert!(globex_alex.entity.unwrap().emails.contains(&"alex.morgan@globex.test".to_owned()));
}

#[tokio::test]
async fn a_card_takes_at_most_three_rounds_cold_shows_the_name_first_and_nothing_warm() {
    let (url, sandbox) = start().await;
    let c = client(&url);
    let mut partial: Option<Card> = None;
    let before = sandbox.requests_served();
    let card = lookup_card_with(&c, &domain("acme.test"), |p| partial = Some(p.clone())).await;
    assert_eq!(partial.unwrap().entity.unwrap().name, "Acme Corporation");
    assert_eq!(card.status, CardStatus::Matched);
    let cold = sandbox.requests_served() - before;
    assert!(cold > 0);
    let warm_before = sandbox.requests_served();
    let again = lookup_card(&c, &domain("acme.test")).await;
    assert_eq!(again.entity, card.entity);
    assert_eq!(sandbox.requests_served(), warm_before, "a warm lookup makes no request");
}

#[tokio::test]
async fn errors_become_cards_that_say_what_happened() {
    let (url, _) = start().await;
    let bad = LensClient::from_config(ClientConfig::new(&url, "wrong-key"));
    let card = lookup_card(&bad, &domain("acme.test")).await;
    assert_eq!(card.status, CardStatus::Error);
    assert_eq!(card.error.unwrap().kind, "unauthorized");
    let down = LensClient::from_config(ClientConfig::new("http://127.0.0.1:9", KEY));
    assert_eq!(lookup_card(&down, &domain("acme.test")).await.error.unwrap().kind, "unavailable");
}

fn lens(args: &[&str], url: &str, key: Option<&str>) -> std::process::Output {
    lens_in(&std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lens-cache"), args, url, key)
}

/// Runs the CLI with `cache` as its cache directory.
fn lens_in(cache: &std::path::Path, args: &[&str], url: &str, key: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_affinity-lens"));
    cmd.args(args).env("AFFINITY_BASE_URL", url).env_remove("AFFINITY_API_KEY").env("AFFINITY_LENS_CACHE_DIR", cache);
    if let Some(k) = key {
        cmd.env("AFFINITY_API_KEY", k);
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_a_card_a_json_card_and_clear_errors() {
    let (url, _) = start().await;
    let text = lens(&["card", "https://www.acme.test/about"], &url, Some(KEY));
    assert!(text.status.success());
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(out.starts_with("Acme Corporation (id 7133202)"), "{out}");
    assert!(out.contains("Alice Doe knows Bob Smith: 0.82"), "{out}");
    assert!(out.contains("Deal Pipeline:"), "{out}");

    let json = lens(&["card", "acme.test", "--json"], &url, Some(KEY));
    let card: Card = serde_json::from_slice(&json.stdout).expect("--json prints exactly the Card");
    assert_eq!(card.entity.unwrap().id, ids::ACME);

    let who = lens(&["whoami"], &url, Some(KEY));
    assert!(String::from_utf8_lossy(&who.stdout).contains("Alice Doe"));
    let usage = lens(&["usage"], &url, Some(KEY));
    assert!(String::from_utf8_lossy(&usage.stdout).contains("this month"));

    for (args, key, message) in [
        (vec!["card", "acme.test"], Some("wrong"), "rejected the API key"),
        (vec!["card", "acme.test"], None, "no API key"),
        (vec!["card", "not a domain"], Some(KEY), "is not a domain"),
        (vec!["card", "nobody@"], Some(KEY), "not an email address"),
    ] {
        let out = lens(&args, &url, key);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"));
    }
    let down = lens(&["card", "acme.test"], "http://127.0.0.1:9", Some(KEY));
    assert!(String::from_utf8_lossy(&down.stderr).contains("unavailable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_remembers_the_context_across_runs_and_says_what_the_lens_spent() {
    let (url, sandbox) = start().await;
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lens-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let mut spent = Vec::new();
    for _ in 0..2 {
        let before = sandbox.requests_served();
        assert!(lens_in(&cache, &["card", "acme.test", "--json"], &url, Some(KEY)).status.success());
        spent.push(sandbox.requests_served() - before);
    }
    // The second run knows who the key is, the team, the lists and fields: it asks only
    // for the card itself.
    assert!(spent[1] < spent[0], "{spent:?}");
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "one file for the key: {files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(KEY), "the key is never written");
    let usage = lens_in(&cache, &["usage"], &url, Some(KEY));
    let out = String::from_utf8_lossy(&usage.stdout);
    // Both cards, and the /rate-limit call `usage` itself made.
    let want = format!("the Lens:    {} calls this month", spent[0] + spent[1] + 1);
    assert!(out.contains(&want) && out.contains("2 page views"), "{out}");
    let _ = std::fs::remove_dir_all(&cache);
}

/// Records each request's start and end, to count sequential rounds.
#[derive(Clone, Default)]
struct Recording {
    inner: affinity_api::transport::ReqwestTransport,
    spans: Arc<std::sync::Mutex<Vec<(std::time::Instant, std::time::Instant)>>>,
}

impl affinity_api::transport::Transport for Recording {
    async fn send(
        &self,
        request: affinity_api::transport::HttpRequest,
    ) -> Result<affinity_api::transport::HttpResponse, affinity_api::Error> {
        let start = std::time::Instant::now();
        let result = self.inner.send(request).await;
        self.spans.lock().unwrap().push((start, std::time::Instant::now()));
        result
    }
}

/// The longest chain of requests each of which started after the previous one ended.
fn rounds(spans: &[(std::time::Instant, std::time::Instant)]) -> usize {
    let mut spans = spans.to_vec();
    spans.sort_by_key(|s| s.0);
    let mut depth = vec![0usize; spans.len()];
    for i in 0..spans.len() {
        depth[i] = 1 + (0..i).filter(|&j| spans[j].1 <= spans[i].0).map(|j| depth[j]).max().unwrap_or(0);
    }
    depth.into_iter().max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_organization_card_takes_three_rounds_when_the_concurrency_cap_allows() {
    use affinity_api::limiter::{LimiterConfig, RateLimiter};
    let mut config = SandboxConfig::new(KEY);
    config.faults.latency_ms = 40; // so that requests in one round overlap
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Sandbox::new(config).serve(listener));
    for d in ["acme.test", "solo.test", "twice.test"] {
        let t = Recording::default();
        let limiter = Arc::new(RateLimiter::new(LimiterConfig { concurrency: 64, ..Default::default() }));
        let c =
            LensClient::new(Client::builder(ClientConfig::new(&url, KEY), t.clone()).limiter(limiter), Arc::default());
        let card = lookup_card(&c, &domain(d)).await;
        assert_eq!(card.status, CardStatus::Matched, "{d}");
        let spans = t.spans.lock().unwrap().clone();
        assert!(rounds(&spans) <= 3, "{d}: {} rounds over {} requests", rounds(&spans), spans.len());
    }
}

/// Issue #23: `card` prints the firmographics line, every field of each list entry and the
/// latest notes; `--json` has them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_firmographics_every_field_and_the_latest_notes() {
    let (url, _) = start().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lens-cache-extras");
    let text = lens_in(&dir, &["card", "acme.test"], &url, Some(KEY));
    assert!(text.status.success());
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(
        out.contains(
            "  Manufacturing, Aerospace · 420 employees · $48.5M raised · last round Series B, $30M, 2025-06-12 \
             · San Francisco, California, United States · founded 2014\n"
        ),
        "{out}"
    );
    assert!(out.contains("Fields (Deal Pipeline):\n  Status: "), "{out}");
    assert!(out.contains("  Sectors: AI, Developer Tools\n"), "{out}");
    assert!(out.contains("  Close Date: 2027-01-15\n"), "{out}");
    assert!(out.contains("  Co-investors: Globex\n"), "{out}");
    assert!(out.contains("Notes:\n"), "{out}");
    assert!(
        out.contains("    Diligence call: strong net retention & a clear path to Series C.\n    Next: references.\n"),
        "{out}"
    );

    let json = lens_in(&dir, &["card", "acme.test", "--json"], &url, Some(KEY));
    let card: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(card["notes"].as_array().map(Vec::len), Some(3));
    assert_eq!(card["firmographics"]["employees"], 420);
    assert!(card["fields"][0]["fields"].as_array().is_some_and(|f| !f.is_empty()), "{}", card["fields"]);
}
