//! `npm run bench` (index part): what the index of the firm's companies costs and gives.
//!
//! 1. A full sync of worlds of 5,000 and 50,000 organizations (10 lists) at the sandbox's
//!    latency, with a key that may use API v2 and a v1-only key: calls (the sandbox's
//!    count) and time, against issue #21's targets (v1 at most ⌈N/500⌉ + one a list + 3;
//!    v2 at most ⌈N/100⌉ + one a list + 3; 50,000 in under 20 s).
//! 2. A simulated day of use of the 50,000-organization firm (the day after its full sync):
//!    ten hours of use, the Lens asking the policy what is due each hour, with the firm
//!    changing its lists meanwhile: the index's calls that day (target at most 150).
//! 3. The persisted size (target at most 2 MB for 50,000), the time to load it, and the time
//!    of a look-up (target well under a millisecond).
//!
//! Run: `cargo run --profile native -p lens-cli --example index_bench -- [--latency-ms 100]`

use std::sync::Arc;
use std::time::Instant;

use affinity_api::cache::MemoryCache;
use affinity_api::transport::ReqwestTransport;
use affinity_api::{Client, ClientConfig, endpoints};
use affinity_sandbox::seed::{Size, generate_sized, ids};
use affinity_sandbox::{Faults, Sandbox, SandboxConfig, World};
use lens_core::LensClient;
use lens_core::index::{Index, SyncPlan, SyncPolicy, SyncReport, sync_index};

const KEY: &str = "index-bench-key";
const V1_KEY: &str = "index-bench-v1-key";
const HOUR: u64 = 3600 * 1000;

async fn start(world: World, latency_ms: u64) -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = SandboxConfig { v1_only_key: Some(V1_KEY.into()), ..SandboxConfig::new(KEY) };
    config.faults = Faults { latency_ms, ..Faults::default() };
    let sandbox = Sandbox::with_world(config, world);
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn client(url: &str, key: &str) -> LensClient {
    let builder = Client::builder(ClientConfig::new(url, key), ReqwestTransport::new());
    LensClient::new(builder.cache(Arc::new(MemoryCache::default())), Arc::default())
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**not met**" }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A full sync; its report, the sandbox's count (plus the v2 requests it refuses a v1-only
/// key without counting them), and the seconds it took.
async fn full_sync(url: &str, sandbox: &Sandbox, key: &str) -> (SyncReport, u64, f64, Index) {
    let c = client(url, key);
    let mut index = Index::new();
    let before = sandbox.requests_served();
    let started = Instant::now();
    let report = sync_index(&c, &mut index, &SyncPolicy::default(), Some(SyncPlan::full()), |_| {}).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.error, None);
    let served = sandbox.requests_served() - before;
    (report, served, seconds, index)
}

async fn full_syncs(latency: u64) -> Index {
    println!("Full sync of the directory and every list, sandbox latency {latency} ms, 10 lists\n");
    println!("| organizations | key | calls | target | | time (s) | target | | lists with Status |");
    println!("|---:|---|---:|---:|---|---:|---:|---|---:|");
    let mut kept = Index::new();
    for orgs in [5_000u64, 50_000] {
        let world = generate_sized(1, Size { organizations: orgs as usize, lists: 10 });
        // "One call a list": every list of the firm (the index reads those of organizations).
        let lists = world.lists.len() as u64;
        let (url, sandbox) = start(world, latency).await;
        for (key, name, per_page) in [(KEY, "API v2", 100), (V1_KEY, "v1 only", 500)] {
            let (report, served, seconds, index) = full_sync(&url, &sandbox, key).await;
            let calls = report.calls.max(served);
            let target = orgs.div_ceil(per_page) + lists + 3;
            let time_ok = orgs < 50_000 || seconds < 20.0;
            let time_target = if orgs == 50_000 { "20" } else { "" };
            println!(
                "| {} | {name} | {calls} | {target} | {} | {seconds:.1} | {time_target} | {} | {} of {} |",
                thousands(orgs),
                met(calls <= target),
                if time_target.is_empty() { "" } else { met(time_ok) },
                report.lists_with_status,
                report.lists
            );
            if orgs == 50_000 && key == KEY {
                kept = index;
            }
        }
    }
    println!(
        "\nThe directory is v1's `GET /organizations?page_size=500` for both keys (500 a page against \
         v2's 100), its pages one after another; the lists are read beside it, four at a time: with \
         API v2 a list with a Status 100 entries a page with its Status, any other list in one v1 call."
    );
    kept
}

/// A day of use: the firm changes its lists while the Lens is used for ten hours.
async fn day_of_use() {
    let world = generate_sized(1, Size { organizations: 50_000, lists: 10 });
    let status_value = world
        .field_values
        .iter()
        .find(|v| {
            world.fields.iter().any(|f| f.id == v.field_id && f.name == "Status" && f.list_id == Some(ids::PORTFOLIO))
        })
        .map(|v| v.id)
        .expect("a Portfolio Status");
    let option = world
        .fields
        .iter()
        .find(|f| f.list_id == Some(ids::PORTFOLIO) && f.name == "Status")
        .map(|f| f.dropdown_options[1].id)
        .unwrap();
    let orgs: Vec<i64> = world.organizations.iter().skip(100).step_by(997).map(|o| o.id).collect();
    let (url, sandbox) = start(world, 0).await;
    let c = client(&url, KEY);
    let colleague = client(&url, KEY);
    let mut index = Index::new();
    sync_index(&c, &mut index, &SyncPolicy::default(), None, |_| {}).await;
    index.age_by(24 * HOUR);
    println!("\nA day of use, 50,000 organizations and 10 lists, API v2 key: the index's calls hour by hour\n");
    println!("| hour | what the firm did since | what the index read | calls |");
    println!("|---:|---|---|---:|");
    let mut total = 0;
    for hour in 0..10u64 {
        let did = match hour {
            2 => {
                for org in &orgs[..3] {
                    colleague.execute(&endpoints::create_list_entry(ids::DEAL_PIPELINE, *org)).await.unwrap();
                }
                "3 companies added to the Deal Pipeline"
            }
            5 => {
                colleague.execute(&endpoints::update_field_value(status_value, option.into())).await.unwrap();
                colleague.execute(&endpoints::create_list_entry(ids::CO_INVESTORS, orgs[4])).await.unwrap();
                "a Portfolio Status changed; a co-investor added"
            }
            8 => {
                colleague.execute(&endpoints::create_list_entry(18, orgs[5])).await.unwrap();
                "a company added to the Watchlist"
            }
            _ => "",
        };
        let before = sandbox.requests_served();
        let report = sync_index(&c, &mut index, &SyncPolicy::default(), None, |_| {}).await;
        let calls = sandbox.requests_served() - before;
        total += calls;
        let read = match (report.directory_read, report.lists_read) {
            (_, _) if report.plan.is_empty() => "nothing due".to_owned(),
            (true, n) => format!("the directory, `GET /lists`, {n} lists ({} with Status)", report.lists_with_status),
            (false, 0) => "`GET /lists`: no list changed".to_owned(),
            (false, n) => format!("`GET /lists`, {n} list(s) that changed ({} with Status)", report.lists_with_status),
        };
        println!("| {hour} | {did} | {read} | {calls} |");
        index.age_by(HOUR);
    }
    println!("| | | **the day** (target ≤ 150) | **{total}** ({}) |", met(total <= 150));
    println!(
        "\nThe day starts with the directory (its daily read: ⌈50,000/500⌉ = 100 calls) and the \
         lists whose Status is a day old (as the day's 150 calls allow, oldest first); then one \
         `GET /lists` an hour, and a list read again only when its size changed. A Status changed \
         without a change of size shows on the next day's refresh (the card's live answer and, in \
         team mode, the gateway's webhooks correct it sooner)."
    );
}

fn sizes_and_lookups(index: &Index) {
    let started = Instant::now();
    let encoded = index.encode();
    let encode_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let back = Index::decode(&encoded.bytes).unwrap();
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(back.len(), index.len());
    let known: Vec<String> = index
        .organization_ids()
        .step_by(7)
        .filter_map(|id| index.company(id).and_then(|c| c.domains.first().map(|d| format!("www.{d}"))))
        .collect();
    let unknown: Vec<String> = (0..20_000).map(|i| format!("unknown-{i}.example.com")).collect();
    let time = |domains: &[String], want: bool| {
        let started = Instant::now();
        for d in domains {
            assert_eq!(back.knows_domain(d), want, "{d}");
            std::hint::black_box(back.lookup_domain(d));
        }
        started.elapsed().as_secs_f64() * 1e6 / domains.len().max(1) as f64
    };
    let (known_us, unknown_us) = (time(&known, true), time(&unknown, false));
    let public = index.public_only().encode().bytes.len();
    let mb = |b: usize| b as f64 / 1_000_000.0;
    println!("\nThe index of 50,000 organizations\n");
    println!("| measure | value | target | |");
    println!("|---|---:|---:|---|");
    println!(
        "| persisted size | {:.2} MB ({:.1} bytes an organization) | 2 MB | {} |",
        mb(encoded.bytes.len()),
        encoded.bytes.len() as f64 / index.len() as f64,
        met(encoded.bytes.len() <= 2_000_000)
    );
    println!("| what a gateway serves (public lists only) | {:.2} MB | | |", mb(public));
    println!("| encode | {encode_ms:.1} ms | | |");
    println!("| load (decode and build the look-up tables) | {load_ms:.1} ms | | |");
    println!(
        "| look-up of a known domain (`www.` + one of its domains) | {known_us:.2} µs | well under 1 ms | {} |",
        met(known_us < 100.0)
    );
    println!("| look-up of an unknown domain | {unknown_us:.2} µs | | {} |", met(unknown_us < 100.0));
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let latency = args
        .iter()
        .position(|a| a == "--latency-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let index = full_syncs(latency).await;
    day_of_use().await;
    sizes_and_lookups(&index);
}
