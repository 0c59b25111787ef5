//! The JavaScript-facing crate: a few camelCase functions and nothing else. It builds as
//! two wasm modules, so that each context loads only what it runs:
//!
//! - feature `worker` (the background: service worker or event page): `lookupCard` and
//!   the other calls that reach Affinity, with the key passed in by the background's own
//!   glue (pages never see it), one client (cache and limiter) for every tab;
//! - feature `pages` (the overlay, the popup, the web component): `mountCard`, the Leptos
//!   card fed with Cards by JS.
//!
//! Both features are on by default (tests and clippy see everything); `scripts/build.mjs`
//! builds each alone.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::*;

#[cfg(feature = "pages")]
mod pages;
#[cfg(feature = "worker")]
mod worker;

/// Installs the panic hook so that a Rust panic shows in the console with its message.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsValue::from_str(&e.to_string()))
}

pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsValue::from_str(&format!("bad {what}: {e}")))
}
