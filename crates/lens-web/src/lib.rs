//! The JavaScript-facing crate. Its rules compile and are tested natively; its
//! `#[wasm_bindgen]` surface builds as two wasm modules, so that each context loads only
//! what it runs:
//!
//! - [`protocol`]: every message between the extension's parts, one reply shape;
//! - [`settings`]: the settings with their defaults, checked when saved;
//! - [`plan`]: what to do with a page (looked up now, on demand, paused) and the badge;
//! - [`background`]: the background's state and answers over a browser [`background::Host`];
//! - [`team`]: team mode, cards from the firm's gateway;
//! - [`company_index`]: the index of the firm's companies in the background (persisted,
//!   synced, the gateway's in team mode) and the answers it gives pages and link badges;
//! - feature `worker` (the background's module, wasm32): `Lens`, the background over the
//!   browser, and `migrateSettings`;
//! - feature `pages` (the overlay, the popup, the web component, wasm32): `mountCard`, the
//!   Leptos card fed with Cards by JS.
//!
//! Both features are on by default (tests and clippy see everything); `scripts/build.mjs`
//! builds each alone, in its own target directory.

pub mod background;
pub mod company_index;
pub mod plan;
pub mod protocol;
pub mod settings;
pub mod team;

#[cfg(all(target_arch = "wasm32", feature = "pages"))]
mod pages;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod worker;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(typescript_custom_section)]
const PROTOCOL_TYPES: &str = protocol::TYPESCRIPT;

/// Installs the panic hook so that a Rust panic shows in the console with its message.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsValue::from_str(&format!("bad {what}: {e}")))
}
