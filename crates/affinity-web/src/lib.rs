//! The JavaScript-facing crate: a few camelCase functions and nothing else.
//!
//! - Background (service worker or event page): [`lookup_card`] turns a tab's URL into a
//!   Card, with the key passed in by the background's own glue (pages never see it).
//! - Overlay and popup pages: [`mount_card`] renders the Leptos card into an element and
//!   returns a handle that JS keeps alive and feeds with cards.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::sync::Arc;

use std::collections::HashMap;

use affinity_core::actions::{Action, ListChoice, Target, list_choices, perform};
use affinity_core::cache::{CacheEntry, MemoryCache};
use affinity_core::limiter::{LimiterConfig, LimiterState, RateLimiter};
use affinity_core::{
    Card, CardStatus, Client, ClientConfig, EntityKind, PageError, PageHints, Query, QueryKind, lookup_card_hinted,
    resolve_page_with_hints,
};
use affinity_ui::{ActionProps, CardAction, CardState, CardView, Notice, PillView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// Installs the panic hook so that a Rust panic shows in the console with its message.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

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

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsValue::from_str(&e.to_string()))
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsValue::from_str(&format!("bad {what}: {e}")))
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
    #[serde(default)]
    cache: HashMap<String, CacheEntry>,
    #[serde(default)]
    limiter: LimiterState,
    #[serde(default)]
    fresh_after_ms: u64,
}

/// At most this much cached JSON is persisted (newest first): extension storage is small.
const PERSIST_BUDGET_BYTES: usize = 4 * 1024 * 1024;

fn shared_client(base_url: &str, api_key: &str) -> (Client, Arc<MemoryCache>) {
    SHARED.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some(s) = slot.as_ref()
            && s.base_url == base_url
            && s.api_key == api_key
        {
            return (s.client.clone(), s.cache.clone());
        }
        let restored = RESTORED.with(|r| r.borrow_mut().take()).unwrap_or_default();
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
        let state =
            PersistedState { cache, limiter: s.client.limiter().snapshot(), fresh_after_ms: s.client.fresh_after_ms() };
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

/// `lookupCard(pageUrl, {apiKey, baseUrl, ignored}, {refresh, hints, pick})`: the Card for
/// the page, or `null` when the page has nothing to look up (an IP address, a browser
/// page). Every call shares one client: one cache and one rate limiter for all tabs.
#[wasm_bindgen(js_name = lookupCard)]
pub async fn lookup_card(page_url: String, settings: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
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
    let card = lookup_card_hinted(&client, &query, &options.hints, |_| {}).await;
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
    let (client, _) = shared_client(&settings.base_url, &settings.api_key);
    client.invalidate();
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

/// A mounted card. JS must keep it: dropping it unmounts the view.
#[wasm_bindgen]
pub struct CardHandle {
    set_state: WriteSignal<CardState>,
    set_choices: WriteSignal<Vec<ListChoice>>,
    set_notice: WriteSignal<Option<Notice>>,
    set_expanded: WriteSignal<bool>,
    _mount: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

#[wasm_bindgen]
impl CardHandle {
    /// Shows a Card (the JSON object of the contract).
    #[wasm_bindgen(js_name = setCard)]
    pub fn set_card(&self, card: JsValue) -> Result<(), JsValue> {
        let card: Card =
            serde_wasm_bindgen::from_value(card).map_err(|e| JsValue::from_str(&format!("not a Card: {e}")))?;
        self.set_state.set(CardState::Ready(Box::new(card)));
        Ok(())
    }

    /// Shows an error that happened before any card existed.
    #[wasm_bindgen(js_name = setError)]
    pub fn set_error(&self, message: String) {
        self.set_state.set(CardState::Failed(message));
    }

    /// Not looked up on purpose (`message` says why); the refresh callback looks it up.
    #[wasm_bindgen(js_name = setIdle)]
    pub fn set_idle(&self, message: String) {
        self.set_state.set(CardState::Idle(message));
    }

    /// Back to the loading state (before a refresh).
    #[wasm_bindgen(js_name = setLoading)]
    pub fn set_loading(&self) {
        self.set_state.set(CardState::Loading);
    }

    /// The lists the card offers (`listChoices(...).lists`).
    #[wasm_bindgen(js_name = setChoices)]
    pub fn set_choices(&self, lists: JsValue) -> Result<(), JsValue> {
        self.set_choices.set(from_js(lists, "lists")?);
        Ok(())
    }

    /// `{ok, text, pending}` under the card's actions, or `null` to clear it.
    #[wasm_bindgen(js_name = setNotice)]
    pub fn set_notice(&self, notice: JsValue) -> Result<(), JsValue> {
        let notice = if notice.is_null() || notice.is_undefined() { None } else { Some(from_js(notice, "notice")?) };
        self.set_notice.set(notice);
        Ok(())
    }

    /// Overlay only: the card (`true`) or the pill (`false`).
    #[wasm_bindgen(js_name = setExpanded)]
    pub fn set_expanded(&self, expanded: bool) {
        self.set_expanded.set(expanded);
    }
}

/// The callbacks of `mountCard`, all optional.
struct MountOptions {
    on_refresh: Option<js_sys::Function>,
    on_action: Option<js_sys::Function>,
    /// Overlay mode: a pill that expands to the card; called with the new state.
    on_expand: Option<js_sys::Function>,
    on_close: Option<js_sys::Function>,
    expanded: bool,
}

fn function(options: &JsValue, name: &str) -> Option<js_sys::Function> {
    js_sys::Reflect::get(options, &JsValue::from_str(name)).ok()?.dyn_into().ok()
}

fn callback<T: Serialize + 'static>(f: Option<js_sys::Function>) -> Option<Callback<T>> {
    f.map(|f| {
        let f = send_wrapper::SendWrapper::new(f);
        Callback::new(move |arg: T| {
            let arg = to_js(&arg).unwrap_or(JsValue::NULL);
            let _ = f.call1(&JsValue::NULL, &arg);
        })
    })
}

/// `mountCard(element, {onRefresh, onAction, onExpand, onClose, expanded})`: renders the
/// card (loading) into `element`. With `onRefresh` the card has a refresh button; with
/// `onAction` its writes (called with the action object; answer with `setNotice`); with
/// `onExpand` it is the overlay: a pill (`expanded: false`) that opens to the card, which
/// folds back, and a close button with `onClose`. A function instead of the object is
/// `onRefresh`.
#[wasm_bindgen(js_name = mountCard)]
pub fn mount_card(element: web_sys::HtmlElement, options: JsValue) -> CardHandle {
    let options = if let Some(f) = options.dyn_ref::<js_sys::Function>() {
        MountOptions { on_refresh: Some(f.clone()), on_action: None, on_expand: None, on_close: None, expanded: true }
    } else {
        MountOptions {
            on_refresh: function(&options, "onRefresh"),
            on_action: function(&options, "onAction"),
            on_expand: function(&options, "onExpand"),
            on_close: function(&options, "onClose"),
            expanded: js_sys::Reflect::get(&options, &JsValue::from_str("expanded"))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    };
    let (state, set_state) = signal(CardState::Loading);
    let (choices, set_choices) = signal(Vec::<ListChoice>::new());
    let (notice, set_notice) = signal(None::<Notice>);
    let overlay = options.on_expand.is_some();
    let (expanded, set_expanded) = signal(!overlay || options.expanded);
    let on_refresh = callback::<()>(options.on_refresh);
    let actions = callback::<CardAction>(options.on_action).map(|on_action| ActionProps {
        on_action,
        choices: choices.into(),
        notice: notice.into(),
    });
    let on_expand = callback::<bool>(options.on_expand);
    let expand = on_expand.map(|cb| {
        Callback::new(move |open: bool| {
            set_expanded.set(open);
            cb.run(open);
        })
    });
    let on_close = callback::<()>(options.on_close);
    let collapse = expand.map(|cb| Callback::new(move |_: ()| cb.run(false)));
    let mount = leptos::mount::mount_to(element, move || {
        let card = move || {
            view! { <CardView state=state on_refresh=on_refresh actions=actions on_collapse=collapse on_close=on_close /> }
                .into_any()
        };
        match expand {
            Some(expand) => (move || {
                if expanded.get() {
                    card()
                } else {
                    view! { <PillView state=state on_expand=Callback::new(move |_| expand.run(true)) /> }.into_any()
                }
            })
            .into_any(),
            None => card(),
        }
    });
    CardHandle { set_state, set_choices, set_notice, set_expanded, _mount: mount }
}
