//! The JavaScript-facing crate: a few camelCase functions and nothing else.
//!
//! - Background (service worker or event page): [`lookup_card`] turns a tab's URL into a
//!   Card, with the key passed in by the background's own glue (pages never see it).
//! - Overlay and popup pages: [`mount_card`] renders the Leptos card into an element and
//!   returns a handle that JS keeps alive and feeds with cards.
#![cfg(target_arch = "wasm32")]

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

/// `lookupCard(pageUrl, {apiKey, baseUrl, ignored})`: the Card for the page, or `null`
/// when the page has nothing to look up (an IP address, a browser page).
#[wasm_bindgen(js_name = lookupCard)]
pub async fn lookup_card(page_url: String, settings: JsValue) -> Result<JsValue, JsValue> {
    let settings: LookupSettings =
        serde_wasm_bindgen::from_value(settings).map_err(|e| JsValue::from_str(&format!("bad settings: {e}")))?;
    let query = match resolve_page(&page_url, &settings.ignored) {
        Ok(q) => q,
        Err(PageError::Ignored(q)) => return to_js(&Card::new(q, CardStatus::Ignored)),
        Err(PageError::Unsupported(_)) => return Ok(JsValue::NULL),
    };
    let client = Client::new(ClientConfig::new(settings.base_url, settings.api_key));
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

/// `mountCard(element)`: renders the card (loading) into `element`.
#[wasm_bindgen(js_name = mountCard)]
pub fn mount_card(element: web_sys::HtmlElement) -> CardHandle {
    let (state, set_state) = signal(CardState::Loading);
    let mount = leptos::mount::mount_to(element, move || view! { <CardView state=state /> }.into_any());
    CardHandle { set_state, _mount: mount }
}
