//! `affinity-lens index …`: the index of the firm's companies on this machine, kept beside
//! the account's memory in the cache directory (`index-<fingerprint>.bin`, one per base
//! URL and key, readable by the user only), and the card's answer from it.
//!
//! - `index sync [--full] [--json]`: what is due (see `lens_core::index::SyncPolicy`), or
//!   everything; prints organizations, lists, calls spent and time.
//! - `index status [--json]`: what the index holds, as of when, what it spent today.
//! - `index lookup DOMAIN… [--json] [--from-file FILE]`: from the index (or an index's bytes
//!   in a file, such as a gateway's `GET /affinity/index`), without a call.
//!
//! `affinity-lens card DOMAIN` answers a domain the firm does not know from a fresh index
//! (synced in the last day) without a call; a known one is looked up live, and the live card
//! corrects the index.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use lens_core::index::{Index, KnownCompany, SyncPlan, SyncPolicy, sync_index};
use lens_core::{Card, LensClient, Query, QueryKind};

use crate::account_file;

/// An index older than this does not answer cards: it might miss a company created since.
const FRESH_FOR_MS: u64 = 24 * 3600 * 1000;

#[derive(Args)]
pub struct IndexArgs {
    #[command(subcommand)]
    command: IndexCommand,
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Sync what is due (the directory daily, the lists hourly), or everything with --full.
    Sync {
        /// The whole directory and every list, whatever is due.
        #[arg(long)]
        full: bool,
        /// Print the sync's report as JSON.
        #[arg(long)]
        json: bool,
        /// Below this share of the month's Affinity budget left (percent), sync nothing.
        #[arg(long, default_value_t = 5.0)]
        min_budget_percent: f64,
        #[command(flatten)]
        api: crate::ApiArgs,
    },
    /// What the index holds, as of when, and what it spent today.
    Status {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: crate::ApiArgs,
    },
    /// Look domains up in the index, without a call.
    Lookup {
        /// `acme.com`, `https://www.acme.com/about`, …
        #[arg(required = true)]
        domains: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Read the index from this file (e.g. a gateway's `GET /affinity/index`) instead.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
        #[command(flatten)]
        api: crate::ApiArgs,
    },
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn path(api: &crate::ApiArgs) -> Result<PathBuf, String> {
    let key = api.key()?;
    account_file::path_named(&api.base_url, &key, "index", "bin")
        .ok_or_else(|| "no cache directory: set AFFINITY_LENS_CACHE_DIR".to_owned())
}

/// The index kept for this base URL and key (`None`: none yet, or unreadable).
fn load(api: &crate::ApiArgs) -> Result<Option<Index>, String> {
    let path = path(api)?;
    Ok(std::fs::read(&path).ok().and_then(|bytes| Index::decode(&bytes).ok()))
}

fn save(client: &LensClient, index: &Index) -> Result<u64, String> {
    let config = client.config();
    let path = account_file::path_named(&config.base_url, &config.api_key, "index", "bin")
        .ok_or_else(|| "no cache directory: set AFFINITY_LENS_CACHE_DIR".to_owned())?;
    let bytes = index.encode().bytes;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    account_file::write_private(&tmp, &bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(bytes.len() as u64)
}

pub async fn run(args: IndexArgs) -> Result<(), String> {
    match args.command {
        IndexCommand::Sync { full, json, min_budget_percent, api } => sync(api, full, json, min_budget_percent).await,
        IndexCommand::Status { json, api } => status(&api, json),
        IndexCommand::Lookup { domains, json, from_file, api } => {
            let index = match from_file {
                Some(file) => {
                    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    Some(Index::decode(&bytes).map_err(|e| format!("{}: {e}", file.display()))?)
                }
                None => load(&api)?,
            };
            lookup(index, &domains, json)
        }
    }
}

async fn sync(api: crate::ApiArgs, full: bool, json: bool, min_budget_percent: f64) -> Result<(), String> {
    let client = api.client()?;
    let mut index = load(&api)?.unwrap_or_default();
    let policy = SyncPolicy { min_budget_percent, ..SyncPolicy::default() };
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal() && !json;
    let progress = move |p: lens_core::index::Progress| {
        if tty {
            eprint!(
                "\r{} organizations, {}/{} lists, {} calls   ",
                p.organizations, p.lists_read, p.lists_to_read, p.calls
            );
        }
    };
    let report = sync_index(&client, &mut index, &policy, full.then(SyncPlan::full), progress).await;
    if tty {
        eprintln!();
    }
    crate::remember(&client);
    let bytes = save(&client, &index)?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        value["seconds"] = serde_json::json!(seconds);
        value["bytes"] = serde_json::json!(bytes);
        value["etag"] = serde_json::json!(index.etag());
        println!("{value}");
    } else if report.plan.is_empty() {
        let why = if report.held_for_budget { "the month's budget is below the threshold" } else { "nothing is due" };
        println!("nothing synced ({why}): {} organizations, {} lists", report.organizations, report.lists);
    } else {
        println!(
            "{} organizations, {} lists ({} read, {} with Status), {} calls, {seconds:.1} s{}",
            report.organizations,
            report.lists,
            report.lists_read,
            report.lists_with_status,
            report.calls,
            if report.directory_read { ", directory read" } else { "" }
        );
    }
    match report.error {
        Some(e) => Err(format!("the sync stopped early: {e}")),
        None => Ok(()),
    }
}

fn status(api: &crate::ApiArgs, json: bool) -> Result<(), String> {
    let Some(index) = load(api)? else {
        return Err("no index yet: run `affinity-lens index sync`".into());
    };
    let meta = index.meta();
    let now = now_ms();
    let calls_today = meta.ledger.calls_on(now);
    let lists: Vec<serde_json::Value> = index
        .lists()
        .iter()
        .map(|l| {
            serde_json::json!({ "id": l.id, "name": l.name, "public": l.public, "size": l.size,
            "status": l.status_field.is_some(), "read": iso(l.read_ms), "status_read": iso(l.status_read_ms) })
        })
        .collect();
    if json {
        let value = serde_json::json!({
            "organizations": index.len(), "lists": lists, "as_of": iso(index.as_of_ms()),
            "revision": index.revision(), "etag": index.etag(), "calls_today": calls_today,
            "calls_total": meta.ledger.calls_total, "bytes": index.encode().bytes.len(),
            "path": path(api)?.display().to_string(),
        });
        println!("{value}");
        return Ok(());
    }
    println!(
        "Index: {} companies, {} lists, as of {}, {calls_today} calls today ({} in all)",
        index.len(),
        index.lists().len(),
        iso(index.as_of_ms()).unwrap_or_else(|| "never".into()),
        meta.ledger.calls_total
    );
    for l in index.lists() {
        let status = if l.status_read_ms > 0 && l.status_field.is_some() { ", with Status" } else { "" };
        let shared = if l.public { "" } else { ", not public" };
        println!("  {}: {} entries{status}{shared}", l.name, l.size);
    }
    println!("  {} ({} bytes, revision {})", path(api)?.display(), index.encode().bytes.len(), index.revision());
    Ok(())
}

fn iso(ms: u64) -> Option<String> {
    (ms > 0).then(|| lens_core::card::iso_from_ms(ms))
}

fn lookup(index: Option<Index>, domains: &[String], json: bool) -> Result<(), String> {
    let Some(index) = index else {
        return Err("no index yet: run `affinity-lens index sync`".into());
    };
    let as_of = iso(index.as_of_ms()).unwrap_or_else(|| "never".into());
    let mut answers = Vec::new();
    for d in domains {
        let query = crate::parse_target(d)?;
        if query.kind != QueryKind::Domain {
            return Err(format!("{d:?} is not a domain or a URL"));
        }
        let found = index.lookup_domain(&query.value);
        if !json {
            print_found(&query.value, &found, &as_of);
        }
        answers.push(serde_json::json!({ "domain": query.value, "found": found }));
    }
    if json {
        println!("{}", serde_json::json!({ "as_of": as_of, "answers": answers }));
    }
    Ok(())
}

fn print_found(domain: &str, found: &[KnownCompany], as_of: &str) {
    if found.is_empty() {
        println!("{domain}: not in Affinity (index as of {as_of})");
    }
    for c in found {
        let lists: Vec<String> = c
            .lists
            .iter()
            .map(|l| match &l.status {
                Some(s) => format!("{}: {}", l.list_name, s.text),
                None => l.list_name.clone(),
            })
            .collect();
        let lists = if lists.is_empty() { String::new() } else { format!(" · {}", lists.join(" · ")) };
        println!("{domain}: {} (id {}){lists}", c.name, c.id);
    }
}

/// The card of a domain the firm does not know, from a fresh index, without a call.
pub fn answer_unknown(api: &crate::ApiArgs, query: &Query) -> Result<Option<Card>, String> {
    if query.kind != QueryKind::Domain {
        return Ok(None);
    }
    let Some(index) = load(api)? else { return Ok(None) };
    if now_ms().saturating_sub(index.as_of_ms()) > FRESH_FOR_MS {
        return Ok(None);
    }
    Ok(index.answer(query).filter(|card| card.status == lens_core::CardStatus::NotFound))
}

/// A live card corrects the index kept (when there is one).
pub fn learn(api: &crate::ApiArgs, client: &LensClient, card: &Card) {
    if let Ok(Some(mut index)) = load(api)
        && index.learn_card(card)
        && let Err(e) = save(client, &index)
    {
        eprintln!("affinity-lens: note: cannot update the index: {e}");
    }
}
