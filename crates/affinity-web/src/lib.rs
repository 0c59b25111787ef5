//! The JavaScript-facing crate: a few camelCase functions and nothing else.
//!
//! - Background (service worker or event page): [`lookup_card`] turns a tab's URL into a
//!   Card, with the key passed in by the background's own glue (pages never see it).
//! - Overlay and popup pages: [`mount_card`] renders the Leptos card into an element and
//!   returns a handle that JS keeps alive and feeds with cards.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::sync::Arc;

use affinity_core::cache::{CacheStore, MemoryCache};
use affinity_core::{Card, CardStatus, Client, ClientConfig, PageError, lookup_card as core_lookup, resolve_page};
use affinity_ui::{CardState, CardView};
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// Installs the panic hook so that a Rust panic shows in the console with its message.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// What the background passes to a lookup: the settings from extension storage.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupSettings {
    api_key: String,
    base_url: String,
    #[serde(default)]
    ignored: Vec<String>,
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsValue::from_str(&e.to_string()))
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
        let cache = Arc::new(MemoryCache::default());
        let client =
            Client::builder(ClientConfig::new(base_url, api_key), affinity_core::transport::FetchTransport::new())
                .cache(cache.clone())
                .build();
        *slot = Some(Shared {
            base_url: base_url.to_owned(),
            api_key: api_key.to_owned(),
            client: client.clone(),
            cache: cache.clone(),
        });
        (client, cache)
    })
}

/// Options of a lookup.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LookupOptions {
    /// Forget cached answers first (the card's refresh button).
    refresh: bool,
}

/// `lookupCard(pageUrl, {apiKey, baseUrl, ignored}, {refresh})`: the Card for the page, or
/// `null` when the page has nothing to look up (an IP address, a browser page). Every call
/// shares one client: one cache and one rate limiter for all tabs.
#[wasm_bindgen(js_name = lookupCard)]
pub async fn lookup_card(page_url: String, settings: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let settings: LookupSettings =
        serde_wasm_bindgen::from_value(settings).map_err(|e| JsValue::from_str(&format!("bad settings: {e}")))?;
    let options: LookupOptions = if options.is_undefined() || options.is_null() {
        LookupOptions::default()
    } else {
        serde_wasm_bindgen::from_value(options).unwrap_or_default()
    };
    let query = match resolve_page(&page_url, &settings.ignored) {
        Ok(q) => q,
        Err(PageError::Ignored(q)) => return to_js(&Card::new(q, CardStatus::Ignored)),
        Err(PageError::Unsupported(_)) => return Ok(JsValue::NULL),
    };
    let (client, cache) = shared_client(&settings.base_url, &settings.api_key);
    if options.refresh {
        cache.clear();
    }
    let card = core_lookup(&client, &query).await;
    to_js(&card)
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

    /// Back to the loading state (before a refresh).
    #[wasm_bindgen(js_name = setLoading)]
    pub fn set_loading(&self) {
        self.set_state.set(CardState::Loading);
    }
}

/// `mountCard(element, onRefresh?)`: renders the card (loading) into `element`; with
/// `onRefresh`, the card has a refresh button that calls it.
#[wasm_bindgen(js_name = mountCard)]
pub fn mount_card(element: web_sys::HtmlElement, on_refresh: Option<js_sys::Function>) -> CardHandle {
    let (state, set_state) = signal(CardState::Loading);
    let on_refresh = on_refresh.map(|f| {
        let f = send_wrapper::SendWrapper::new(f);
        Callback::new(move |_| {
            let _ = f.call0(&JsValue::NULL);
        })
    });
    let mount = leptos::mount::mount_to(element, move || match on_refresh {
        Some(cb) => view! { <CardView state=state on_refresh=cb /> }.into_any(),
        None => view! { <CardView state=state /> }.into_any(),
    });
    CardHandle { set_state, _mount: mount }
}
