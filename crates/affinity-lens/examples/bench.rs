//! `npm run bench` (lookup part): the time to a complete Card against the sandbox with
//! 100 ms of latency, for organizations with 1, 20 and 150 people, cold and warm, with the
//! sequential rounds and API requests it took; beside the seed's sequential recipe.
//!
//! Run: `cargo run --profile native -p affinity-lens --example bench -- [--latency-ms 100] [--markdown]`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use affinity_core::cache::MemoryCache;
use affinity_core::endpoints::{self, DetailOptions, EntityRef, FieldsQuery, SearchQuery};
use affinity_core::limiter::{LimiterConfig, RateLimiter};
use affinity_core::transport::{HttpRequest, HttpResponse, ReqwestTransport, Transport};
use affinity_core::{Client, ClientConfig, Error, Query, QueryKind, lookup_card};
use affinity_server::sandbox::{Faults, Sandbox, SandboxConfig};

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
}

fn client(url: &str, transport: Recording) -> Client<Recording> {
    Client::builder(ClientConfig::new(url, "bench-key"), transport)
        .cache(Arc::new(MemoryCache::default()))
        .limiter(Arc::new(RateLimiter::new(LimiterConfig::default())))
        .build()
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Sandbox::new(config).serve(listener));

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
    let cold20 = rows.iter().find(|r| r.case == "20 people" && r.how == "Lens, cold").unwrap().ms;
    let base20 = rows.iter().find(|r| r.case == "20 people" && r.how.starts_with("seed")).unwrap().ms;
    println!("\nCold 20-person lookup: {:.1}x faster than the seed's recipe.", base20 / cold20);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
