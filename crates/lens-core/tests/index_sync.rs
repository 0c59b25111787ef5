//! The index's sync against the sandbox: what a full sync and the hourly and daily refreshes
//! cost (counted by the sandbox), what they read, and what they leave alone.
#![cfg(not(target_arch = "wasm32"))]

use std::sync::{Arc, Mutex};

use affinity_api::cache::MemoryCache;
use affinity_api::transport::ReqwestTransport;
use affinity_api::{Client, ClientConfig, endpoints};
use affinity_sandbox::seed::{Size, generate_sized, ids};
use affinity_sandbox::{Sandbox, SandboxConfig, World};
use lens_core::LensClient;
use lens_core::index::{Index, Progress, SyncPlan, SyncPolicy, sync, sync_index};

const KEY: &str = "index-key";
const V1_ONLY: &str = "index-v1-key";
const HOUR: u64 = 3600 * 1000;
const SIZE: Size = Size { organizations: 6_000, lists: 10 };

async fn start(world: World) -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = SandboxConfig { v1_only_key: Some(V1_ONLY.into()), ..SandboxConfig::new(KEY) };
    let sandbox = Sandbox::with_world(config, world);
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn client(url: &str, key: &str) -> LensClient {
    let builder = Client::builder(ClientConfig::new(url, key), ReqwestTransport::new());
    LensClient::new(builder.cache(Arc::new(MemoryCache::default())), Arc::default())
}

/// The world's lists of organizations: (id, entries, has a Status).
fn org_lists(world: &World) -> Vec<(i64, usize, bool)> {
    world
        .lists
        .iter()
        .filter(|l| l.list_type == 1)
        .map(|l| {
            let size = world.list_entries.iter().filter(|e| e.list_id == l.id).count();
            let status = world.fields.iter().any(|f| f.list_id == Some(l.id) && f.name == "Status");
            (l.id, size, status)
        })
        .collect()
}

/// Runs a sync as planned and counts what the sandbox served for it.
async fn counted(c: &LensClient, index: &mut Index, sandbox: &Sandbox, plan: Option<SyncPlan>) -> (u64, Vec<String>) {
    let (before, mark) = (sandbox.requests_served(), sandbox.requests().len());
    let report = sync_index(c, index, &SyncPolicy::default(), plan, |_| {}).await;
    assert_eq!(report.error, None);
    let served = sandbox.requests_served() - before;
    // The sandbox does not count (nor log) what it refuses a v1-only key on /v2.
    assert!(report.calls >= served && report.calls <= served + 1, "the sync counts what it sends");
    (report.calls, sandbox.requests().split_off(mark))
}

#[tokio::test]
async fn a_full_sync_with_api_v2_reads_the_directory_and_every_list_with_its_status() {
    let world = generate_sized(1, SIZE);
    let lists = org_lists(&world);
    let (url, sandbox) = start(world.clone()).await;
    let c = client(&url, KEY);
    let mut index = Index::new();
    let (calls, sent) = counted(&c, &mut index, &sandbox, None).await;

    assert_eq!(index.len(), world.organizations.len());
    // /lists and /fields, the directory 500 a page, a Status list 100 a page (Board
    // Confidential is not shared with the key in v2: then one v1 call), others one call.
    let n = world.organizations.len() as u64;
    let list_calls: u64 = lists
        .iter()
        .map(|&(id, size, status)| match (status, id) {
            (_, _) if size == 0 => 0,
            (true, ids::BOARD_CONFIDENTIAL) => 2,
            (true, _) => (size as u64).div_ceil(100),
            (false, _) => 1,
        })
        .sum();
    assert_eq!(calls, 2 + n.div_ceil(500) + list_calls, "{sent:#?}");
    let target = n.div_ceil(100) + lists.len() as u64 + 3;
    assert!(calls <= target, "{calls} calls against the v2 target {target}");
    assert!(sent.iter().all(|r| !r.contains("/v2/companies")), "v1's 500-a-page directory");
    assert_eq!(
        sent.iter().filter(|r| r.starts_with("GET /organizations?page_size=500")).count() as u64,
        n.div_ceil(500)
    );

    // Every entry of every list of organizations, with its Status where the list has one.
    for &(id, size, _) in &lists {
        let held = (0..).zip(world.organizations.iter()).map(|(_, o)| index.company(o.id).unwrap());
        let entries = held.flat_map(|c| c.lists).filter(|l| l.list_id == id).count();
        assert_eq!(entries, size, "list {id}");
    }
    let acme = index.lookup_domain("www.acme.com").remove(0);
    let deal = acme.lists.iter().find(|l| l.list_id == ids::DEAL_PIPELINE).unwrap();
    let status_field = world.fields.iter().find(|f| f.list_id == Some(ids::DEAL_PIPELINE) && f.name == "Status");
    let value = world
        .field_values
        .iter()
        .find(|v| Some(v.field_id) == status_field.map(|f| f.id) && v.list_entry_id == Some(deal.entry_id))
        .unwrap();
    assert_eq!(deal.status.as_ref().map(|s| s.text.as_str()), value.value["text"].as_str());
    let board = acme.lists.iter().find(|l| l.list_id == ids::BOARD_CONFIDENTIAL).unwrap();
    assert!(!board.public && board.status.is_none(), "read with v1: no Status");
    assert_eq!(index.meta().ledger.v2_entries, Some(true));
}

#[tokio::test]
async fn a_v1_only_key_syncs_within_its_target_without_status_and_learns_it_once() {
    let world = generate_sized(1, SIZE);
    let lists = org_lists(&world);
    let (url, sandbox) = start(world.clone()).await;
    let c = client(&url, V1_ONLY);
    let mut index = Index::new();
    let (calls, _) = counted(&c, &mut index, &sandbox, None).await;
    let n = world.organizations.len() as u64;
    let target = n.div_ceil(500) + lists.len() as u64 + 3;
    assert!(calls <= target, "{calls} calls against the v1 target {target}");
    assert_eq!(index.len(), world.organizations.len());
    let statuses = index.lookup_domain("acme.com")[0].lists.iter().filter(|l| l.status.is_some()).count();
    assert_eq!(statuses, 0, "v1 gives no Status");
    assert_eq!(index.meta().ledger.v2_entries, Some(false));
    // Known now: the next full sync asks v2 nothing, and /fields not at all.
    let (again, sent) = counted(&c, &mut index, &sandbox, Some(SyncPlan::full())).await;
    assert_eq!(again, 1 + n.div_ceil(500) + lists.len() as u64);
    assert!(sent.iter().all(|r| !r.contains("/v2/") && !r.starts_with("GET /fields")), "{sent:#?}");
}

#[tokio::test]
async fn later_syncs_read_only_what_may_have_changed() {
    let world = generate_sized(1, SIZE);
    let n = world.organizations.len() as u64;
    let portfolio = world.list_entries.iter().filter(|e| e.list_id == ids::PORTFOLIO).count() as u64;
    let (url, sandbox) = start(world).await;
    let c = client(&url, KEY);
    let mut index = Index::new();
    counted(&c, &mut index, &sandbox, None).await;
    let (revision, etag) = (index.revision(), index.etag());

    // Right after: nothing is due.
    assert!(SyncPolicy::default().plan(&index, affinity_api::clock::unix_ms(), None).is_empty());
    // An hour later: one GET /lists, nothing changed, nothing read (the fields are remembered).
    index.age_by(HOUR);
    let (calls, sent) = counted(&c, &mut index, &sandbox, None).await;
    assert_eq!((calls, sent[0].as_str()), (1, "GET /lists"), "{sent:#?}");
    assert_eq!((index.revision(), index.etag()), (revision, etag.clone()), "nothing new: the same ETag");

    // A company joins the Portfolio: the next hour reads that list only, with its Status.
    let colleague = client(&url, KEY);
    let entry = colleague.execute(&endpoints::create_list_entry(ids::PORTFOLIO, ids::INITECH)).await.unwrap();
    index.age_by(HOUR);
    let (calls, sent) = counted(&c, &mut index, &sandbox, None).await;
    assert_eq!(calls, 1 + (portfolio + 1).div_ceil(100), "{sent:#?}");
    assert!(sent[1..].iter().all(|r| r.starts_with(&format!("GET /v2/lists/{}/list-entries", ids::PORTFOLIO))));
    let initech = index.lookup_domain("initech.test").remove(0);
    assert!(initech.lists.iter().any(|l| l.entry_id == entry.id), "in the index within the hour");
    assert!(index.revision() > revision && index.etag() != etag);

    // A day later: the directory again, and the lists whose Status is a day old.
    index.age_by(24 * HOUR);
    let (calls, sent) = counted(&c, &mut index, &sandbox, None).await;
    let pages = sent.iter().filter(|r| r.starts_with("GET /organizations?")).count() as u64;
    assert_eq!(pages, n.div_ceil(500));
    assert!(calls <= SyncPolicy::default().day_calls + n.div_ceil(500), "{calls}");
}

#[tokio::test]
async fn the_sync_tells_its_progress_and_can_run_on_another_task() {
    let (url, _sandbox) = start(generate_sized(1, Size { organizations: 1_200, lists: 8 })).await;
    let c = client(&url, KEY);
    let index = Index::new();
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = seen.clone();
    let plan = SyncPlan::full();
    let policy = SyncPolicy::default();
    // The gateway syncs on a task of its own: the future is Send.
    let outcome =
        tokio::spawn(async move { sync(&c, &index, &plan, &policy, move |p| log.lock().unwrap().push(p)).await })
            .await
            .unwrap();
    let seen = seen.lock().unwrap();
    let orgs: Vec<usize> = seen.iter().map(|p| p.organizations).collect();
    assert!(orgs.windows(2).all(|w| w[0] <= w[1]), "{orgs:?}");
    assert!(orgs.contains(&500) && orgs.contains(&1_000), "page by page: {orgs:?}");
    let last = seen.last().unwrap();
    assert_eq!((last.organizations, last.lists_read), (1_200, last.lists_to_read));
    assert_eq!(last.calls, outcome.calls);
    let mut index = Index::new();
    let report = index.absorb(outcome);
    assert_eq!((report.organizations, report.changed), (1_200, true));
}
