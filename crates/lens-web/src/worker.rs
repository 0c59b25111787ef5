//! The background's module (`lens_worker`): a [`Lens`] over the browser. The JS router
//! (`background.js`) makes one with a host object that reaches the browser's APIs, and
//! gives it every message and event. The key is in the settings it is made with (read from
//! the extension-only store) and in nothing JS passes later.

use std::rc::Rc;

use affinity_api::transport::FetchTransport;
use futures::future::LocalBoxFuture;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::background::{self, Host};
use crate::company_index::BytesResponse;
use crate::plan::Badge;
use crate::protocol::{Origins, Sender, ToContent};
use crate::settings::Settings;
use crate::{from_js, to_js};

#[wasm_bindgen(typescript_custom_section)]
const LENS_HOST: &str = r#"
/** What the background's Rust needs from the browser (background.js makes it). */
export interface LensHost {
  sessionGet(key: string): Promise<unknown>;
  sessionSet(key: string, value: unknown): Promise<void>;
  sessionRemove(keys: string[]): Promise<void>;
  saveSettings(settings: LensSettings): Promise<void>;
  stateChanged(): void;
  forgetState(): void;
  setBadge(tabId: number, badge: { text: string; color: string; title: string }): void;
  toContent(tabId: number, message: LensToContent): void;
  tabUrl(tabId: number): Promise<string | undefined>;
  indexChanged(): void;
  fetchBytes(url: string, headers: [string, string][]): Promise<LensBytesResponse | null>;
}
/** An answer with a binary body (the gateway's index). */
export interface LensBytesResponse { status: number; etag: string | null; retryAfter: number | null; bytes: Uint8Array }
export interface LensSettings { apiKey: string; baseUrl: string; ignored: string[]; paused: string[]; overlay: boolean; position: LensPosition | null; onDemandBelow: number; mode: "personal" | "team"; gatewayUrl: string; gatewayToken: string; badges: boolean; noBadges: string[] }
export interface LensSender { tabId?: number; frameId?: number; url?: string }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "LensHost")]
    pub type JsHost;
    #[wasm_bindgen(method, js_name = sessionGet)]
    fn session_get(this: &JsHost, key: &str) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = sessionSet)]
    fn session_set(this: &JsHost, key: &str, value: JsValue) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = sessionRemove)]
    fn session_remove(this: &JsHost, keys: JsValue) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = saveSettings)]
    fn save_settings(this: &JsHost, settings: JsValue) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = stateChanged)]
    fn state_changed(this: &JsHost);
    #[wasm_bindgen(method, js_name = forgetState)]
    fn forget_state(this: &JsHost);
    #[wasm_bindgen(method, js_name = setBadge)]
    fn set_badge(this: &JsHost, tab_id: f64, badge: JsValue);
    #[wasm_bindgen(method, js_name = toContent)]
    fn to_content(this: &JsHost, tab_id: f64, message: JsValue);
    #[wasm_bindgen(method, js_name = tabUrl)]
    fn tab_url(this: &JsHost, tab_id: f64) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = indexChanged)]
    fn index_changed(this: &JsHost);
    #[wasm_bindgen(method, js_name = fetchBytes)]
    fn fetch_bytes(this: &JsHost, url: &str, headers: JsValue) -> js_sys::Promise;

    #[wasm_bindgen(typescript_type = "LensSettings")]
    pub type JsSettings;
    #[wasm_bindgen(typescript_type = "LensSender")]
    pub type JsSender;
    #[wasm_bindgen(typescript_type = "LensReply")]
    pub type JsReply;
    #[wasm_bindgen(typescript_type = "Promise<LensReply>")]
    pub type JsReplyPromise;
}

async fn settle(p: js_sys::Promise) -> Option<JsValue> {
    JsFuture::from(p).await.ok()
}

fn json_of(v: JsValue) -> Option<Value> {
    if v.is_undefined() || v.is_null() { None } else { serde_wasm_bindgen::from_value(v).ok() }
}

struct Browser(JsHost);

impl Host for Browser {
    async fn session_get(&self, key: &str) -> Option<Value> {
        json_of(settle(self.0.session_get(key)).await?)
    }
    async fn session_set(&self, key: &str, value: Value) {
        if let Ok(v) = to_js(&value) {
            settle(self.0.session_set(key, v)).await;
        }
    }
    async fn session_remove(&self, keys: &[String]) {
        if let Ok(v) = to_js(&keys) {
            settle(self.0.session_remove(v)).await;
        }
    }
    async fn save_settings(&self, settings: &Settings) {
        if let Ok(v) = to_js(settings) {
            settle(self.0.save_settings(v)).await;
        }
    }
    fn state_changed(&self) {
        self.0.state_changed();
    }
    fn forget_state(&self) {
        self.0.forget_state();
    }
    fn set_badge(&self, tab_id: i64, badge: &Badge) {
        if let Ok(v) = to_js(badge) {
            self.0.set_badge(tab_id as f64, v);
        }
    }
    fn to_content(&self, tab_id: i64, message: &ToContent) {
        if let Ok(v) = to_js(message) {
            self.0.to_content(tab_id as f64, v);
        }
    }
    async fn tab_url(&self, tab_id: i64) -> Option<String> {
        settle(self.0.tab_url(tab_id as f64)).await?.as_string()
    }
    fn random(&self) -> Option<[u8; 16]> {
        let mut bytes = [0u8; 16];
        let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
        crypto.dyn_into::<web_sys::Crypto>().ok()?.get_random_values_with_u8_array(&mut bytes).ok()?;
        Some(bytes)
    }
    fn spawn(&self, future: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(future);
    }
    fn index_changed(&self) {
        self.0.index_changed();
    }
    async fn fetch_bytes(&self, url: &str, headers: Vec<(String, String)>) -> Option<BytesResponse> {
        let headers = to_js(&headers).ok()?;
        let v = settle(self.0.fetch_bytes(url, headers)).await?;
        if v.is_null() || v.is_undefined() {
            return None;
        }
        let get = |k: &str| js_sys::Reflect::get(&v, &JsValue::from_str(k)).ok();
        let status = get("status")?.as_f64()? as u16;
        let etag = get("etag").and_then(|e| e.as_string());
        let retry_after = get("retryAfter").and_then(|r| r.as_f64()).filter(|r| *r >= 0.0).map(|r| r as u64);
        let bytes = get("bytes")?.dyn_into::<js_sys::Uint8Array>().ok()?.to_vec();
        Some(BytesResponse { status, etag, retry_after, bytes })
    }
}

/// The background: one client, one cache and one limiter for every tab.
#[wasm_bindgen]
pub struct Lens {
    inner: Rc<background::Lens<Browser, FetchTransport>>,
}

#[wasm_bindgen]
impl Lens {
    /// `new Lens(host, {extension, overlay}, settings, state, index)`: `settings` as stored
    /// (or `null`), `state` what `exportState()` returned before the worker stopped, `index`
    /// what `exportIndex()` returned.
    #[wasm_bindgen(constructor)]
    pub fn new(
        host: JsHost,
        origins: JsValue,
        settings: JsValue,
        state: Option<String>,
        index: Option<js_sys::Uint8Array>,
    ) -> Result<Lens, JsValue> {
        let origins: Origins = from_js(origins, "origins")?;
        let settings = json_of(settings).map(|v| Settings::from_stored(&v)).unwrap_or_default();
        let index = index.map(|b| b.to_vec());
        let lens =
            background::Lens::new(Browser(host), origins, FetchTransport::new, settings, state.as_deref(), index);
        Ok(Lens { inner: Rc::new(lens) })
    }

    /// Answers a message from `sender` (`runtime.onMessage`'s): always one reply,
    /// `{ok: true, answer, …}` or `{ok: false, error: {kind, message}}`.
    pub fn handle(&self, message: JsValue, sender: JsSender) -> JsReplyPromise {
        let lens = self.inner.clone();
        let message = json_of(message).unwrap_or(Value::Null);
        let sender: Sender = json_of(sender.into()).and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
        wasm_bindgen_futures::future_to_promise(async move {
            let reply = lens.handle(message, sender).await;
            to_js(&reply)
        })
        .unchecked_into()
    }

    /// Settings as stored, taken now (the ones an update moved out of `storage.local`).
    pub fn configure(&self, settings: JsSettings) {
        self.inner.configure(json_of(settings.into()).map(|v| Settings::from_stored(&v)).unwrap_or_default());
    }

    /// A tab was closed: its page view is forgotten.
    #[wasm_bindgen(js_name = tabClosed)]
    pub fn tab_closed(&self, tab_id: f64) -> js_sys::Promise {
        let lens = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            lens.forget_tab(tab_id as i64).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A browser command (the keyboard shortcut) in the active tab.
    pub fn command(&self, name: &str, tab_id: Option<f64>) {
        self.inner.command(name, tab_id.map(|t| t as i64));
    }

    /// The cache and limiter as a JSON string to keep, or `null` without a client.
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> Option<String> {
        self.inner.export_state()
    }

    /// The index of the firm's companies as bytes to keep, or `null` (none yet).
    #[wasm_bindgen(js_name = exportIndex)]
    pub fn export_index(&self) -> Option<js_sys::Uint8Array> {
        self.inner.export_index().map(|b| js_sys::Uint8Array::from(b.as_slice()))
    }

    /// Syncs the index if it is due (a page view does this by itself).
    #[wasm_bindgen(js_name = syncIndex)]
    pub fn sync_index(&self) {
        self.inner.sync_index_if_due();
    }
}

/// `migrateSettings(storageLocal)`: the settings an older version kept in `storage.local`,
/// to move to the extension-only store, or `null` when it kept none.
#[wasm_bindgen(js_name = migrateSettings)]
pub fn migrate_settings(legacy: JsValue) -> Result<JsSettings, JsValue> {
    let legacy = json_of(legacy).unwrap_or(Value::Null);
    match Settings::migrate(&legacy) {
        Some(s) => Ok(to_js(&s)?.unchecked_into()),
        None => Ok(JsValue::NULL.unchecked_into()),
    }
}
