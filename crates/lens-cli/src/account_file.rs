//! The CLI's memory of the key's account between runs, in the user's cache directory:
//! which API v2 endpoints the key may call, the context every card needs (who the key is,
//! the team, lists and fields) and the calls the Lens spent this month. One file per base
//! URL and key (named by a fingerprint: the key is never written), readable by the user
//! only. A file that cannot be read is ignored; one that cannot be written is skipped.

use std::path::PathBuf;

use lens_core::account::{Account, AccountState};

/// `$AFFINITY_LENS_CACHE_DIR`, else the platform's cache directory (`$XDG_CACHE_HOME` or
/// `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows) with
/// `affinity-lens` under it.
pub fn cache_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = env("AFFINITY_LENS_CACHE_DIR") {
        return Some(dir);
    }
    let base = if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Caches"))
    } else if cfg!(windows) {
        env("LOCALAPPDATA")
    } else {
        env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("affinity-lens"))
}

fn path_for(base_url: &str, api_key: &str) -> Option<PathBuf> {
    path_named(base_url, api_key, "account", "json")
}

/// A file of this base URL and key in the cache directory: `{stem}-{fingerprint}.{ext}`
/// (the account's, the index's beside it).
pub fn path_named(base_url: &str, api_key: &str, stem: &str, ext: &str) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (base_url, api_key).hash(&mut h);
    Some(cache_dir()?.join(format!("{stem}-{:016x}.{ext}", h.finish())))
}

/// The account remembered for this base URL and key (empty when there is none).
pub fn load(base_url: &str, api_key: &str) -> Account {
    let state = path_for(base_url, api_key)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str::<AccountState>(&text).ok())
        .unwrap_or_default();
    Account::with_state(state)
}

/// Remembers the account for the next run.
pub fn save(base_url: &str, api_key: &str, account: &Account) -> std::io::Result<()> {
    let Some(path) = path_for(base_url, api_key) else { return Ok(()) };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string(&account.snapshot()).map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    write_private(&tmp, text.as_bytes())?;
    std::fs::rename(&tmp, &path)
}

#[cfg(unix)]
pub fn write_private(path: &std::path::Path, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text)
}

#[cfg(not(unix))]
pub fn write_private(path: &std::path::Path, text: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, text)
}
