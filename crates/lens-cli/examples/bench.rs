//! `npm run bench` (lookup part): first what a page view and an opened card cost the firm
//! in Affinity calls, for organizations with 1, 20 and 150 people and a LinkedIn person,
//! with a key that may use API v2 and a v1-only key, beside what a page view cost before
//! (the whole card at once), with the rounds and time to the pill's first and complete
//! answer; then the time to a complete Card, cold and warm, with the sequential rounds and
//! API requests it took, beside the seed's sequential recipe.
//!
//! Run: `cargo run --profile native -p affinity-lens --example bench -- [--latency-ms 100] [--markdown]`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use affinity_api::cache::MemoryCache;
use affinity_api::endpoints::{self, DetailOptions, EntityRef, FieldsQuery, SearchQuery};
use affinity_api::limiter::{LimiterConfig, RateLimiter};
use affinity_api::transport::{HttpRequest, HttpResponse, ReqwestTransport, Transport};
use affinity_api::{Client, ClientConfig, Error};
use affinity_sandbox::{Faults, Sandbox, SandboxConfig};
use lens_core::card::Phase;
use lens_core::{LensClient, PageHints, Query, QueryKind, lookup_card};

/// Records when each request started and ended, to count sequential rounds.
#[derive(Clone, Default)]
struct Recording {
    inner: ReqwestTransport,
    spans: Arc<Mutex<Vec<(Instant, Instant)>>>,
}

impl Transport for Recording {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let start = Instant::now();
        let result = self.inner.send(request).await;
        self.spans.lock().unwrap().push((start, Instant::now()));
        result
    }
}

impl Recording {
    /// The longest chain of requests each of which started after the previous ended:
    /// the number of sequential round trips.
    fn rounds(&self) -> usize {
        let mut spans = self.spans.lock().unwrap().clone();
        spans.sort_by_key(|s| s.0);
        let mut depth = vec![0usize; spans.len()];
        for i in 0..spans.len() {
            depth[i] = 1 + (0..i).filter(|&j| spans[j].1 <= spans[i].0).map(|j| depth[j]).max().unwrap_or(0);
        }
        depth.into_iter().max().unwrap_or(0)
    }
    fn requests(&self) -> usize {
        self.spans.lock().unwrap().len()
    }
    fn reset(&self) {
        self.spans.lock().unwrap().clear();
    }
    /// Rounds of the requests that ended by `at`.
    fn rounds_by(&self, at: Instant) -> usize {
        let spans: Vec<(Instant, Instant)> = self.spans.lock().unwrap().iter().copied().filter(|s| s.1 <= at).collect();
        Recording { spans: Arc::new(Mutex::new(spans)), ..Recording::default() }.rounds()
    }
}

fn client(url: &str, transport: Recording) -> LensClient<Recording> {
    client_with(url, KEY, transport)
}

const KEY: &str = "bench-key";
/// A key without the API v2 permissions (the sandbox answers it 403 on /v2).
const V1_KEY: &str = "bench-v1-key";

fn client_with(url: &str, key: &str, transport: Recording) -> LensClient<Recording> {
    let builder = Client::builder(ClientConfig::new(url, key), transport)
        .cache(Arc::new(MemoryCache::default()))
        .limiter(Arc::new(RateLimiter::new(LimiterConfig::default())));
    LensClient::new(builder, Arc::default())
}

/// The seed's recipe, one request after another: find the organization, read its people,
/// then each person's strengths; then the lists, fields, field values and each Status
/// field's history; then the names of the best connection.
async fn baseline(c: &Client<Recording>, domain: &str) -> Result<(), Error> {
    let page = c.execute(&endpoints::search_organizations(&SearchQuery::term(domain))).await?;
    let org = page.items.into_iter().find(|o| o.all_domains().iter().any(|d| d == domain)).expect("found");
    let detail = c.execute(&endpoints::organization(org.id, DetailOptions::default())).await?;
    let mut best: Option<(i64, i64, f64)> = None;
    for pid in detail.person_ids.unwrap_or_default() {
        for s in c.execute(&endpoints::relationship_strengths(pid, None)).await? {
            if best.is_none_or(|b| s.strength > b.2) {
                best = Some((s.internal_id, pid, s.strength));
            }
        }
    }
    c.execute(&endpoints::lists()).await?;
    let fields = c.execute(&endpoints::fields(&FieldsQuery::default())).await?;
    c.execute(&endpoints::field_values(EntityRef::Organization(org.id))).await?;
    for entry in detail.list_entries.unwrap_or_default() {
        if let Some(status) = fields.iter().find(|f| f.list_id == Some(entry.list_id) && f.name == "Status") {
            c.execute(&endpoints::field_value_changes(status.id, Some(EntityRef::Organization(org.id)), None)).await?;
        }
    }
    if let Some((internal, external, _)) = best {
        c.execute(&endpoints::person(internal, DetailOptions::default())).await?;
        c.execute(&endpoints::person(external, DetailOptions::default())).await?;
    }
    Ok(())
}

struct Row {
    case: String,
    how: &'static str,
    ms: f64,
    rounds: usize,
    requests: usize,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let latency = args
        .iter()
        .position(|a| a == "--latency-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100u64);
    let mut config = SandboxConfig::new("bench-key");
    config.rate_limit_per_min = 100_000;
    config.faults = Faults { latency_ms: latency, ..Faults::default() };
    config.v1_only_key = Some(V1_KEY.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Sandbox::new(config).serve(listener));

    budget_bench(&url, latency).await;

    let mut rows = Vec::new();
    for (domain, people) in [("solo.test", 1), ("acme.test", 20), ("megacorp.test", 150)] {
        let case = format!("{people} {}", if people == 1 { "person" } else { "people" });
        let query = Query { kind: QueryKind::Domain, value: domain.into() };
        let t = Recording::default();
        let c = client(&url, t.clone());
        let start = Instant::now();
        let card = lookup_card(&c, &query).await;
        assert!(card.error.is_none(), "{:?}", card.error);
        rows.push(Row {
            case: case.clone(),
            how: "Lens, cold",
            ms: ms(start.elapsed()),
            rounds: t.rounds(),
            requests: t.requests(),
        });
        t.reset();
        let start = Instant::now();
        lookup_card(&c, &query).await;
        rows.push(Row {
            case: case.clone(),
            how: "Lens, warm",
            ms: ms(start.elapsed()),
            rounds: t.rounds(),
            requests: t.requests(),
        });

        let t = Recording::default();
        let c = client(&url, t.clone());
        let start = Instant::now();
        baseline(&c, domain).await.expect("baseline");
        rows.push(Row {
            case,
            how: "seed recipe (sequential)",
            ms: ms(start.elapsed()),
            rounds: t.rounds(),
            requests: t.requests(),
        });
    }

    println!("Lookup: time to the complete Card, sandbox latency {latency} ms per request, concurrency cap 6\n");
    println!("| organization | how | time (ms) | sequential rounds | API requests |");
    println!("|---|---|---:|---:|---:|");
    for r in &rows {
        println!("| {} | {} | {:.0} | {} | {} |", r.case, r.how, r.ms, r.rounds, r.requests);
    }
    gateway_bench(&url).await;

    let cold20 = rows.iter().find(|r| r.case == "20 people" && r.how == "Lens, cold").unwrap().ms;
    let base20 = rows.iter().find(|r| r.case == "20 people" && r.how.starts_with("seed")).unwrap().ms;
    println!("\nCold 20-person lookup: {:.1}x faster than the seed's recipe.", base20 / cold20);
}

/// The gateway: cached cards under 50 concurrent clients, and what 1,000 card requests
/// over 100 distinct domains cost in Affinity requests.
async fn gateway_bench(sandbox_url: &str) {
    use lens_gateway::gateway::{CallerAuth, Gateway, GatewayConfig};
    const TOKEN: &str = "bench-client-token-0001";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = GatewayConfig::new(sandbox_url, "bench-key", addr);
    config.auth = CallerAuth { tokens: vec![TOKEN.into()], ..CallerAuth::default() };
    config.caller_per_min = 1_000_000;
    config.caller_calls_per_min = 1_000_000;
    let gateway = Gateway::new(config);
    let url = format!("http://{addr}");
    tokio::spawn(gateway.clone().serve(listener));
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(reqwest::header::AUTHORIZATION, format!("Bearer {TOKEN}").parse().unwrap());
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).default_headers(auth).build().unwrap();

    // 1,000 requests over 100 distinct domains, 50 at a time, from cold.
    let domains: Vec<String> = {
        let page: serde_json::Value = http
            .get(format!("{sandbox_url}/organizations?page_size=100&term=.com"))
            .bearer_auth("bench-key")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["domain"].as_str().map(str::to_owned))
            .collect()
    };
    let before = gateway.affinity_requests();
    let started = Instant::now();
    let jobs: Vec<String> = (0..1000).map(|i| domains[i % domains.len()].clone()).collect();
    let sem = Arc::new(tokio::sync::Semaphore::new(50));
    let mut handles = Vec::new();
    for d in jobs {
        let (http, url, sem) = (http.clone(), url.clone(), sem.clone());
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            http.get(format!("{url}/affinity/card?domain={d}")).send().await.unwrap().status().as_u16()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    let spent = gateway.affinity_requests() - before;
    let cold_secs = started.elapsed().as_secs_f64();

    // Cached cards: 50 clients, 4,000 requests.
    let mut latencies: Vec<f64> = Vec::new();
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..50 {
        let (http, url, domains) = (http.clone(), url.clone(), domains.clone());
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..80 {
                let d = &domains[(c * 7 + i) % domains.len()];
                let t = Instant::now();
                let r = http.get(format!("{url}/affinity/card?domain={d}")).send().await.unwrap();
                let _ = r.bytes().await.unwrap();
                out.push(ms(t.elapsed()));
            }
            out
        }));
    }
    for h in handles {
        latencies.extend(h.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("\nGateway (sandbox latency as above)\n");
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| cached cards, 50 concurrent clients: requests per second | {:.0} |", latencies.len() as f64 / secs);
    println!("| cached cards: p50 latency (ms) | {:.2} |", pct(0.50));
    println!("| cached cards: p99 latency (ms) | {:.2} |", pct(0.99));
    println!("| 1,000 card requests over {} distinct domains: Affinity requests | {} |", domains.len(), spent);
    println!("| the same 1,000 requests: wall time from cold (s) | {:.1} |", cold_secs);
}

/// What one page costs: the page view (the pill), the opened card (in all), warm.
struct Cost {
    first_session: usize,
    page_view: usize,
    first_rounds: usize,
    first_ms: f64,
    pill_rounds: usize,
    pill_ms: f64,
    opened: usize,
    warm: usize,
}

async fn page_cost(url: &str, key: &str, query: &Query, hints: &PageHints) -> Cost {
    use lens_core::lookup::lookup;
    // The first page of a session: nothing known of the account yet.
    let t = Recording::default();
    let c = client_with(url, key, t.clone());
    lookup(&c, query, hints, Phase::Pill, |_| {}).await;
    let first_session = t.requests();
    // Another company's card opened earlier in the session: the context is all known.
    let globex = Query { kind: QueryKind::Domain, value: "globex.test".into() };
    lookup(&c, &globex, &PageHints::default(), Phase::Card, |_| {}).await;
    // A cold page view: a new client (empty cache) that knows the account's context and
    // what the key may do, as the extension and the CLI remember them between runs.
    let t = Recording::default();
    let builder = Client::builder(ClientConfig::new(url, key), t.clone())
        .cache(Arc::new(MemoryCache::default()))
        .limiter(Arc::new(RateLimiter::new(LimiterConfig::default())));
    let c = LensClient::new(builder, Arc::new(lens_core::account::Account::with_state(c.account().snapshot())));
    let start = Instant::now();
    let mut first_at = None;
    let pill = lookup(&c, query, hints, Phase::Pill, |_| first_at = Some(Instant::now())).await;
    let pill_ms = ms(start.elapsed());
    assert!(pill.error.is_none(), "{:?}", pill.error);
    let first_at = first_at.unwrap_or_else(Instant::now);
    let (page_view, pill_rounds, first_rounds) = (t.requests(), t.rounds(), t.rounds_by(first_at));
    let card = lookup(&c, query, hints, Phase::Card, |_| {}).await;
    assert!(card.error.is_none(), "{:?}", card.error);
    let opened = t.requests();
    t.reset();
    lookup(&c, query, hints, Phase::Pill, |_| {}).await;
    lookup(&c, query, hints, Phase::Card, |_| {}).await;
    Cost {
        first_session,
        page_view,
        first_rounds,
        first_ms: ms(first_at.duration_since(start)),
        pill_rounds,
        pill_ms,
        opened,
        warm: t.requests(),
    }
}

/// The table of issue #11: Affinity calls per cold page view and per opened card.
async fn budget_bench(url: &str, latency: u64) {
    let profile =
        PageHints { name: Some("Bob Smith".into()), company: Some("Acme Corporation".into()), ..PageHints::default() };
    let cases = [
        ("1 person", Query { kind: QueryKind::Domain, value: "solo.test".into() }, PageHints::default(), "10"),
        ("20 people", Query { kind: QueryKind::Domain, value: "acme.test".into() }, PageHints::default(), "29"),
        ("150 people", Query { kind: QueryKind::Domain, value: "megacorp.test".into() }, PageHints::default(), "60"),
        (
            "LinkedIn person",
            Query { kind: QueryKind::LinkedinPerson, value: "https://www.linkedin.com/in/bob-smith".into() },
            profile,
            "8",
        ),
    ];
    println!(
        "Affinity calls per page view (the pill) and per opened card (the page view and the card, in all), sandbox latency {latency} ms\n"
    );
    println!(
        "| page | key | before #11 (whole card) | cold page view | first page of a session | opened card, in all | warm | pill's first answer: rounds, ms | complete pill: rounds, ms |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|---|");
    for (name, query, hints, before) in &cases {
        for (label, key) in [("API v2", KEY), ("v1 only", V1_KEY)] {
            let c = page_cost(url, key, query, hints).await;
            println!(
                "| {name} | {label} | {before} | {} | {} | {} | {} | {}, {:.0} | {}, {:.0} |",
                c.page_view, c.first_session, c.opened, c.warm, c.first_rounds, c.first_ms, c.pill_rounds, c.pill_ms
            );
        }
    }
    println!(
        "\n\"Before #11\" is what a cold look-up cost when every page view made the whole card (commit 5626019). \"Cold page view\": a new client with an empty cache that knows the key's context (whoami, team, lists, fields) and which v2 endpoints it may call, as the extension and the CLI remember them; \"first page of a session\" knows nothing yet. Targets: API v2 at most 3 a page view and 8 an opened card; v1 only at most 8 a page view; warm 0; the first answer within 2 rounds and the complete pill within 3.\n"
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
