//! `affinity-lens index …` and the card's answer from the index, against the sandbox, with
//! the calls counted by the sandbox's request log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use affinity_sandbox::seed::{Size, generate_sized};
use affinity_sandbox::{Sandbox, SandboxConfig};
use lens_core::{Card, CardStatus};

const KEY: &str = "index-cli-key";
const V1_ONLY: &str = "index-cli-v1-key";
const SIZE: Size = Size { organizations: 2_000, lists: 10 };

async fn start() -> (String, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = SandboxConfig { v1_only_key: Some(V1_ONLY.into()), ..SandboxConfig::new(KEY) };
    let sandbox = Sandbox::with_world(config, generate_sized(1, SIZE));
    tokio::spawn(sandbox.clone().serve(listener));
    (url, sandbox)
}

fn cache(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("index-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn lens(cache: &Path, url: &str, key: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_affinity-lens"))
        .args(args)
        .env("AFFINITY_BASE_URL", url)
        .env("AFFINITY_API_KEY", key)
        .env("AFFINITY_LENS_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lists of organizations of the world the sandbox serves.
fn org_lists(sandbox: &Sandbox) -> u64 {
    sandbox.world().lists.iter().filter(|l| l.list_type == 1).count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_syncs_then_answers_unknown_domains_without_a_call() {
    let (url, sandbox) = start().await;
    let dir = cache("v2");
    let before = sandbox.requests_served();
    let report: serde_json::Value =
        serde_json::from_slice(&lens(&dir, &url, KEY, &["index", "sync", "--json"]).stdout).unwrap();
    let served = sandbox.requests_served() - before;
    assert_eq!(report["organizations"], 2_000);
    assert_eq!(report["calls"].as_u64(), Some(served), "the CLI prints what the sandbox served");
    let target = 2_000u64.div_ceil(100) + org_lists(&sandbox) + 3;
    assert!(served <= target, "{served} calls, target {target}");
    assert!(report["lists_with_status"].as_u64().unwrap() >= 3);
    assert!(report["bytes"].as_u64().unwrap() < 2_000 * 40, "{report}");

    // From the index, no call: status, look-ups, and the card of an unknown domain.
    let quiet = sandbox.requests_served();
    let status = text(&lens(&dir, &url, KEY, &["index", "status"]));
    assert!(status.starts_with("Index: 2000 companies, 7 lists, as of 20"), "{status}");
    assert!(status.contains("Deal Pipeline:") && status.contains("with Status"), "{status}");
    let found = text(&lens(&dir, &url, KEY, &["index", "lookup", "https://www.acme.test/about", "example.com"]));
    assert!(found.contains("acme.test: Acme Corporation (id 7133202) · Deal Pipeline: "), "{found}");
    assert!(found.contains("example.com: not in Affinity (index as of 20"), "{found}");
    let card = text(&lens(&dir, &url, KEY, &["card", "example.com"]));
    assert!(card.starts_with("example.com: not in Affinity (from the index as of 20"), "{card}");
    let json: Card =
        serde_json::from_slice(&lens(&dir, &url, KEY, &["card", "unknown-startup.io", "--json"]).stdout).unwrap();
    assert_eq!((json.status, json.source), (CardStatus::NotFound, lens_core::card::CardSource::Index));
    assert_eq!(sandbox.requests_served(), quiet, "no call at all");

    // A known company is looked up live; a sync right after has nothing due.
    let live = text(&lens(&dir, &url, KEY, &["card", "acme.test"]));
    assert!(live.starts_with("Acme Corporation (id 7133202)"), "{live}");
    assert!(sandbox.requests_served() > quiet);
    let again = sandbox.requests_served();
    let nothing = text(&lens(&dir, &url, KEY, &["index", "sync"]));
    assert!(nothing.starts_with("nothing synced (nothing is due): 2000 organizations"), "{nothing}");
    assert_eq!(sandbox.requests_served(), again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_only_key_syncs_within_its_target() {
    let (url, sandbox) = start().await;
    let dir = cache("v1");
    let before = sandbox.requests_served();
    let report: serde_json::Value =
        serde_json::from_slice(&lens(&dir, &url, V1_ONLY, &["index", "sync", "--full", "--json"]).stdout).unwrap();
    // The sandbox neither counts nor logs the one v2 request it refuses.
    let calls = report["calls"].as_u64().unwrap();
    assert_eq!(calls, sandbox.requests_served() - before + 1);
    let target = 2_000u64.div_ceil(500) + org_lists(&sandbox) + 3;
    assert!(calls <= target, "{calls} calls, target {target}");
    assert_eq!(report["lists_with_status"], 0);
    let found = text(&lens(&dir, &url, V1_ONLY, &["index", "lookup", "acme.test"]));
    assert!(
        found.contains("Acme Corporation (id 7133202) · Deal Pipeline · Portfolio · Board Confidential\n"),
        "without Status: {found}"
    );
}
