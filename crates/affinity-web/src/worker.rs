//! The background's calls: lookups, writes, the account, and the state that outlives the
//! worker. The one place in the extension that holds a key (passed in on each call).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use affinity_core::actions::{Action, ListChoice, Target, list_choices, perform};
use affinity_core::cache::{CacheEntry, MemoryCache};
use affinity_core::limiter::{LimiterConfig, LimiterState, RateLimiter};
use affinity_core::{
    Card, CardStatus, Client, ClientConfig, EntityKind, PageError, PageHints, Query, QueryKind, lookup_card_hinted,
    resolve_page_with_hints,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{from_js, to_js};

/// What the background passes to every call: the settings from extension storage.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupSettings {
    api_key: String,
    base_url: String,
    #[serde(default)]
    ignored: Vec<String>,
}

fn settings_from(value: JsValue) -> Result<LookupSettings, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsValue::from_str(&format!("bad settings: {e}")))
}

/// The one client of this worker: one cache and one limiter for every tab, replaced when
/// the key or base URL changes (and its cache with it).
struct Shared {
    base_url: String,
    api_key: String,
    client: Client,
    cache: Arc<MemoryCache>,
}

thread_local! {
    static SHARED: RefCell<Option<Shared>> = const { RefCell::new(None) };
    /// State read back from storage before the client exists (see [`import_state`]).
    static RESTORED: RefCell<Option<PersistedState>> = const { RefCell::new(None) };
}

/// What survives a service-worker restart: the cache, the limiter and the refresh mark.
/// Never the key: the background drops this state when the key or base URL changes.
#[derive(Serialize, Deserialize, Default)]
struct PersistedState {
    /// Whose state this is ([`account`] of the base URL and key): another key's cache must
    /// never be shown.
    #[serde(default)]
    account: u64,
    #[serde(default)]
    cache: HashMap<String, CacheEntry>,
    #[serde(default)]
    limiter: LimiterState,
    #[serde(default)]
    fresh_after_ms: u64,
}

/// At most this much cached JSON is persisted (newest first): extension storage is small.
const PERSIST_BUDGET_BYTES: usize = 4 * 1024 * 1024;

/// A fingerprint of the base URL and key (not the key: it cannot be read back from it).
fn account(base_url: &str, api_key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (base_url, api_key).hash(&mut h);
    h.finish()
}

fn shared_client(base_url: &str, api_key: &str) -> (Client, Arc<MemoryCache>) {
    SHARED.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some(s) = slot.as_ref()
            && s.base_url == base_url
            && s.api_key == api_key
        {
            return (s.client.clone(), s.cache.clone());
        }
        let restored = RESTORED
            .with(|r| r.borrow_mut().take())
            .filter(|r| r.account == account(base_url, api_key))
            .unwrap_or_default();
        let cache = Arc::new(MemoryCache::default());
        cache.restore(restored.cache);
        // Someone is waiting for the card: past a few seconds' wait, say when to retry instead.
        let config = LimiterConfig { max_wait: Some(std::time::Duration::from_secs(5)), ..LimiterConfig::default() };
        let limiter = Arc::new(RateLimiter::with_state(config, restored.limiter));
        let client =
            Client::builder(ClientConfig::new(base_url, api_key), affinity_core::transport::FetchTransport::new())
                .cache(cache.clone())
                .limiter(limiter)
                .build();
        client.restore_fresh_after(restored.fresh_after_ms);
        *slot = Some(Shared {
            base_url: base_url.to_owned(),
            api_key: api_key.to_owned(),
            client: client.clone(),
            cache: cache.clone(),
        });
        (client, cache)
    })
}

/// `exportState()`: the cache and limiter as a JSON string to keep in extension storage,
/// or `null` before the first call made a client.
#[wasm_bindgen(js_name = exportState)]
pub fn export_state() -> Option<String> {
    SHARED.with(|cell| {
        let slot = cell.borrow();
        let s = slot.as_ref()?;
        let mut entries: Vec<(String, CacheEntry)> = s.cache.snapshot().into_iter().collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.1.stored_at_ms));
        let mut budget = PERSIST_BUDGET_BYTES;
        let cache = entries
            .into_iter()
            .take_while(|(k, e)| {
                let size = k.len() + e.body.len();
                let fits = size <= budget;
                budget = budget.saturating_sub(size);
                fits
            })
            .collect();
        let state = PersistedState {
            account: account(&s.base_url, &s.api_key),
            cache,
            limiter: s.client.limiter().snapshot(),
            fresh_after_ms: s.client.fresh_after_ms(),
        };
        serde_json::to_string(&state).ok()
    })
}

/// `importState(json)`: gives a state from [`export_state`] back, before the first lookup
/// of a restarted worker. A state that does not read is ignored (the cache starts empty).
#[wasm_bindgen(js_name = importState)]
pub fn import_state(json: &str) -> bool {
    let Ok(state) = serde_json::from_str::<PersistedState>(json) else { return false };
    RESTORED.with(|r| *r.borrow_mut() = Some(state));
    SHARED.with(|cell| *cell.borrow_mut() = None);
    true
}

/// Options of a lookup.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LookupOptions {
    /// Ask Affinity again (the card's refresh button); cached answers stay as a fallback.
    refresh: bool,
    /// What the content script read from the page (LinkedIn name, headline, website).
    hints: PageHints,
    /// A candidate of an ambiguous card, picked by the user.
    pick: Option<Target>,
}

/// `lookupCard(pageUrl, {apiKey, baseUrl, ignored}, {refresh, hints, pick}, onPartial?)`:
/// the Card for the page, or `null` when the page has nothing to look up (an IP address, a
/// browser page). `onPartial(card)` gets the identity as soon as the first round found it.
/// Every call shares one client: one cache and one rate limiter for all tabs.
#[wasm_bindgen(js_name = lookupCard)]
pub async fn lookup_card(
    page_url: String,
    settings: JsValue,
    options: JsValue,
    on_partial: Option<js_sys::Function>,
) -> Result<JsValue, JsValue> {
    let settings = settings_from(settings)?;
    let options: LookupOptions = if options.is_undefined() || options.is_null() {
        LookupOptions::default()
    } else {
        from_js(options, "options")?
    };
    let query = match options.pick {
        Some(t) => Query {
            kind: if t.kind == EntityKind::Person { QueryKind::PersonId } else { QueryKind::OrganizationId },
            value: t.id.to_string(),
        },
        None => match resolve_page_with_hints(&page_url, &options.hints, &settings.ignored) {
            Ok(q) => q,
            Err(PageError::Ignored(q)) => return to_js(&Card::new(q, CardStatus::Ignored)),
            Err(PageError::Unsupported(_)) => return Ok(JsValue::NULL),
        },
    };
    let (client, _) = shared_client(&settings.base_url, &settings.api_key);
    if options.refresh {
        client.invalidate();
    }
    let card = lookup_card_hinted(&client, &query, &options.hints, |partial| {
        if let (Some(f), Ok(partial)) = (&on_partial, to_js(partial)) {
            let _ = f.call1(&JsValue::NULL, &partial);
        }
    })
    .await;
    to_js(&card)
}

/// `pageQuery(pageUrl, ignored, hints)`: what a page would be looked up as (`{kind, value}`),
/// `{kind, value, ignored: true}` for a never-look-up site, or `null`. Costs no request.
#[wasm_bindgen(js_name = pageQuery)]
pub fn page_query(page_url: &str, ignored: JsValue, hints: JsValue) -> Result<JsValue, JsValue> {
    let ignored: Vec<String> =
        if ignored.is_undefined() || ignored.is_null() { vec![] } else { from_js(ignored, "ignored")? };
    let hints: PageHints =
        if hints.is_undefined() || hints.is_null() { PageHints::default() } else { from_js(hints, "hints")? };
    #[derive(Serialize)]
    struct Resolved {
        #[serde(flatten)]
        query: Query,
        ignored: bool,
    }
    match resolve_page_with_hints(page_url, &hints, &ignored) {
        Ok(query) => to_js(&Resolved { query, ignored: false }),
        Err(PageError::Ignored(query)) => to_js(&Resolved { query, ignored: true }),
        Err(PageError::Unsupported(_)) => Ok(JsValue::NULL),
    }
}

/// What a write or an account call answers: `{ok: true, ...}` or `{ok: false, kind, message}`.
fn answer<T: Serialize>(result: Result<T, affinity_core::Error>) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    struct Ok<T> {
        ok: bool,
        #[serde(flatten)]
        value: T,
    }
    #[derive(Serialize)]
    struct Failed {
        ok: bool,
        kind: &'static str,
        message: String,
    }
    match result {
        Result::Ok(value) => to_js(&Ok { ok: true, value }),
        Err(e) => to_js(&Failed { ok: false, kind: e.kind(), message: e.to_string() }),
    }
}

/// `performAction(settings, target, action)`: one write from the card (see
/// `affinity_core::actions`): `{ok, changed, message, target}` or `{ok: false, kind, message}`.
#[wasm_bindgen(js_name = performAction)]
pub async fn perform_action(settings: JsValue, target: JsValue, action: JsValue) -> Result<JsValue, JsValue> {
    let settings = settings_from(settings)?;
    let target: Option<Target> =
        if target.is_undefined() || target.is_null() { None } else { from_js(target, "target")? };
    let action: Action = from_js(action, "action")?;
    let (client, _) = shared_client(&settings.base_url, &settings.api_key);
    answer(perform(&client, target, &action).await)
}

/// `listChoices(settings)`: `{ok, lists: [{id, name, kind, statuses: [{text, color}]}]}`.
#[wasm_bindgen(js_name = listChoices)]
pub async fn list_choices_js(settings: JsValue) -> Result<JsValue, JsValue> {
    let settings = settings_from(settings)?;
    let (client, _) = shared_client(&settings.base_url, &settings.api_key);
    #[derive(Serialize)]
    struct Lists {
        lists: Vec<ListChoice>,
    }
    answer(list_choices(&client).await.map(|lists| Lists { lists }))
}

/// `whoami(settings)`: `{ok, user, email, firm, subdomain}`: the options page's "Test
/// connection". Always asks Affinity (not the cache).
#[wasm_bindgen(js_name = whoami)]
pub async fn whoami_js(settings: JsValue) -> Result<JsValue, JsValue> {
    let settings = settings_from(settings)?;
    // Testing a key typed in the options must not replace the client (and drop the cache)
    // of the key in use: an other key gets a client of its own for this one call.
    let in_use = SHARED.with(|cell| {
        cell.borrow()
            .as_ref()
            .filter(|s| s.base_url == settings.base_url && s.api_key == settings.api_key)
            .map(|s| s.client.clone())
    });
    let client = in_use.unwrap_or_else(|| {
        Client::builder(
            ClientConfig::new(&settings.base_url, &settings.api_key),
            affinity_core::transport::FetchTransport::new(),
        )
        .build()
    });
    // Asked of Affinity itself, without making every cached card stale.
    let client = client.uncached();
    #[derive(Serialize)]
    struct Me {
        user: String,
        email: Option<String>,
        firm: String,
        subdomain: String,
    }
    answer(client.whoami().await.map(|w| Me {
        user: format!("{} {}", w.user.first_name, w.user.last_name).trim().to_owned(),
        email: w.user.email,
        firm: w.tenant.name,
        subdomain: w.tenant.subdomain,
    }))
}

/// `usage(settings)`: `{ok, rate}` from `/rate-limit` (the month's budget used and left).
#[wasm_bindgen(js_name = usage)]
pub async fn usage_js(settings: JsValue) -> Result<JsValue, JsValue> {
    let settings = settings_from(settings)?;
    let (client, _) = shared_client(&settings.base_url, &settings.api_key);
    answer(client.rate_limit().await)
}

/// `budget(settings)`: the month's budget as last seen in Affinity's headers
/// (`{limit, remaining, unlimited, percentLeft}`), or `null` before any answer. No request.
#[wasm_bindgen(js_name = budget)]
pub fn budget_js(settings: JsValue) -> Result<JsValue, JsValue> {
    let settings = settings_from(settings)?;
    let (client, _) = shared_client(&settings.base_url, &settings.api_key);
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Budget {
        limit: Option<i64>,
        remaining: Option<i64>,
        unlimited: bool,
        percent_left: Option<f64>,
    }
    match client.limiter().monthly() {
        Some(m) => to_js(&Budget {
            limit: m.limit,
            remaining: m.remaining,
            unlimited: m.unlimited,
            percent_left: m.percent_left(),
        }),
        None => Ok(JsValue::NULL),
    }
}

/// `registrableDomain(host)`: the eTLD+1 of a host, or `null`.
#[wasm_bindgen(js_name = registrableDomain)]
pub fn registrable_domain(host: &str) -> Option<String> {
    affinity_core::page::registrable_domain(host)
}
