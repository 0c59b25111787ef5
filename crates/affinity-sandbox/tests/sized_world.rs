//! Worlds of any size (`--orgs`, `--lists`): deterministic, the default world first, the
//! rest with distinct names and plausible domains, and the listings a directory sync reads
//! paged as Affinity pages them.

use std::collections::{HashMap, HashSet};

use affinity_api::{Client, ClientConfig, endpoints, v2};
use affinity_sandbox::seed::{Size, generate, generate_sized, ids};
use affinity_sandbox::{Sandbox, SandboxConfig, World};
use futures::StreamExt;

const KEY: &str = "sized-key";
const SIZE: Size = Size { organizations: 12_000, lists: 10 };

#[test]
fn a_larger_world_keeps_the_default_one_and_adds_distinct_companies() {
    let small = generate(1);
    let big = generate_sized(1, SIZE);
    assert_eq!(big.organizations.len(), 12_000);
    assert_eq!(big.lists.len(), 10);
    // The default world's organizations come first, as they were (Acme and the hard cases).
    for (a, b) in small.organizations.iter().zip(&big.organizations) {
        assert_eq!((a.id, &a.name, &a.domains), (b.id, &b.name, &b.domains));
    }
    let added = &big.organizations[5_000..];
    let names: HashSet<&str> = added.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names.len(), added.len(), "the added companies have distinct names");
    let old: HashSet<&str> = small.organizations.iter().map(|o| o.name.as_str()).collect();
    assert!(added.iter().all(|o| !old.contains(o.name.as_str())));
    assert!(added.iter().all(|o| !o.domains.is_empty() && o.domains.iter().all(|d| d.contains('.'))));
    let mut by_domain: HashMap<&str, usize> = HashMap::new();
    for d in added.iter().flat_map(|o| &o.domains) {
        *by_domain.entry(d).or_default() += 1;
    }
    assert!(by_domain.values().any(|n| *n > 1), "some share a domain");
    let several = added.iter().filter(|o| o.domains.len() > 1).count();
    assert!((added.len() / 50..added.len() / 5).contains(&several), "{several} with several domains");
}

#[test]
fn the_same_seed_and_size_give_the_same_world() {
    let size = Size { organizations: 6_000, lists: 9 };
    let a = serde_json::to_string(&generate_sized(7, size)).unwrap();
    assert_eq!(a, serde_json::to_string(&generate_sized(7, size)).unwrap());
    assert_ne!(a, serde_json::to_string(&generate_sized(8, size)).unwrap());
}

#[test]
fn lists_grow_with_the_square_root_of_the_directory() {
    let count = |w: &World, list: i64| w.list_entries.iter().filter(|e| e.list_id == list).count();
    let small = generate(1);
    let big = generate_sized(1, Size { organizations: 20_000, lists: 10 });
    // Four times the organizations: about twice the deals.
    let (a, b) = (count(&small, ids::DEAL_PIPELINE), count(&big, ids::DEAL_PIPELINE));
    assert!((2 * a - 20..=2 * a + 20).contains(&b), "{a} then {b}");
    let watchlist = big.lists.iter().find(|l| l.name == "Watchlist").expect("a ninth list");
    assert!(count(&big, watchlist.id) > 200);
    assert!(big.fields.iter().any(|f| f.list_id == Some(watchlist.id) && f.name == "Status"));
    let small_ids: HashSet<i64> = small.organizations.iter().map(|o| o.id).collect();
    assert!(
        big.list_entries.iter().any(|e| e.entity_type == 1 && !small_ids.contains(&e.entity_id)),
        "the added companies are on lists too"
    );
}

async fn start(world: World) -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::with_world(SandboxConfig::new(KEY), world);
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

#[tokio::test]
async fn the_directory_pages_500_at_a_time_in_v1_and_100_in_v2() {
    let (url, sandbox) = start(generate_sized(1, SIZE)).await;
    let client = Client::new(ClientConfig::new(&url, KEY));
    let query = endpoints::SearchQuery { page_size: Some(500), ..Default::default() };
    let pages: Vec<_> = client.pages(endpoints::search_organizations(&query)).collect().await;
    assert_eq!(pages.len(), 24, "12,000 organizations, 500 a page");
    let ids: HashSet<i64> = pages.into_iter().flat_map(|p| p.unwrap().items).map(|o| o.id).collect();
    assert_eq!(ids.len(), 12_000);
    // Larger pages are cut to 500.
    let big = endpoints::SearchQuery { page_size: Some(5_000), ..Default::default() };
    assert_eq!(client.execute(&endpoints::search_organizations(&big)).await.unwrap().items.len(), 500);

    let companies = client.execute(&v2_companies()).await.unwrap();
    assert_eq!(companies.data.len(), 100);
    let next = companies.pagination.next_url.expect("a cursor");
    let second = client.execute(&v2_companies().with_next_url(&next).unwrap()).await.unwrap();
    let first: HashSet<i64> = companies.data.iter().map(|c| c.id).collect();
    assert_eq!(second.data.len(), 100);
    assert!(second.data.iter().all(|c| !first.contains(&c.id)), "the next page goes on");
    assert!(sandbox.requests().iter().all(|r| !r.contains("page_size=5000&page_token")));
}

fn v2_companies() -> affinity_api::Endpoint<v2::Paged<v2::Company>> {
    v2::endpoints::companies()
}

#[tokio::test]
async fn a_whole_list_comes_in_one_v1_call_and_100_a_page_with_its_status_in_v2() {
    let world = generate_sized(1, SIZE);
    let status = world.fields.iter().find(|f| f.list_id == Some(ids::DEAL_PIPELINE) && f.name == "Status").unwrap().id;
    let size = world.list_entries.iter().filter(|e| e.list_id == ids::DEAL_PIPELINE).count();
    let (url, sandbox) = start(world).await;
    let client = Client::new(ClientConfig::new(&url, KEY));
    let before = sandbox.requests_served();
    let all = client.execute(&endpoints::all_list_entries(ids::DEAL_PIPELINE)).await.unwrap();
    assert_eq!((all.len(), sandbox.requests_served() - before), (size, 1));

    let field = format!("field-{status}");
    let endpoint = v2::endpoints::company_list_entries_of_list(ids::DEAL_PIPELINE, std::slice::from_ref(&field));
    let entries = client.v2_items(endpoint, usize::MAX).await.unwrap();
    assert_eq!(entries.len(), size);
    assert_eq!(sandbox.requests_served() - before, 1 + size.div_ceil(100) as u64);
    let with_status = entries
        .iter()
        .filter(|e| e.entity.as_ref().is_some_and(|c| c.field(&field).and_then(|f| f.value.dropdown()).is_some()))
        .count();
    assert_eq!(with_status, size, "every Deal Pipeline entry has a Status");
    assert!(entries.iter().all(|e| e.entity.as_ref().is_some_and(|c| c.fields.len() == 1)), "that field only");
}
