//! What the v2 tests share: Affinity's OpenAPI subset (read from `../shared` at test time),
//! the schema it declares for each answer, a JSON Schema validator over it (the `jsonschema`
//! crate, draft 2020-12, formats checked), and a call helper.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

pub const SUBSET: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/real-world/affinity-v2/openapi-2026-07-15-subset.json");

/// The OpenAPI subset.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SUBSET).unwrap_or_else(|e| panic!("cannot read {SUBSET}: {e}"));
        serde_json::from_str(&text).expect("the subset is JSON")
    })
}

/// A JSON pointer token (`/` and `~` escaped).
pub fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// `#/components/responses/400` → the object it names; anything else as it is.
pub fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(spec().pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("unresolved {r}"))),
        None => v,
    }
}

/// Where the document declares the answer's schema for `status` of `method path` (or its
/// `default`), as a JSON pointer into the document, and the status key used.
pub fn response_pointer(method: &str, path: &str, status: u16) -> (String, String) {
    let op = format!("/paths/{}/{method}", token(path));
    let responses =
        spec().pointer(&format!("{op}/responses")).unwrap_or_else(|| panic!("{method} {path} is in the subset"));
    let key = if responses.get(status.to_string()).is_some() { status.to_string() } else { "default".to_owned() };
    let response = &responses[&key];
    let base = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches('#').to_owned(),
        None => format!("{op}/responses/{key}"),
    };
    (format!("{base}/content/{}/schema", token("application/json")), key)
}

/// Whether the document declares `status` for `method path` (not counting `default`).
pub fn declares(method: &str, path: &str, status: u16) -> bool {
    spec()["paths"][path][method]["responses"].get(status.to_string()).is_some()
}

type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

/// A validator for the schema at `pointer` in the document: the document itself is the root
/// (so that its `#/components/…` references resolve), pointed at that schema.
pub fn validator(pointer: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(pointer) {
        return v.clone();
    }
    let mut root = spec().clone();
    // A URI fragment: the path's braces percent-encoded.
    let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
    root.as_object_mut().unwrap().insert("$ref".into(), Value::String(format!("#{fragment}")));
    let built = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema at {pointer} compiles: {e}"));
    let built = Arc::new(built);
    cache.lock().unwrap().insert(pointer.to_owned(), built.clone());
    built
}

/// What is wrong with `value` against the schema at `pointer` (empty: it conforms).
pub fn errors_at(pointer: &str, value: &Value) -> Vec<String> {
    validator(pointer).iter_errors(value).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// What is wrong with an answer of `method path` with `status`.
pub fn answer_errors(method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    errors_at(&response_pointer(method, path, status).0, body)
}

/// An answer: status, headers, body (JSON, or `null` for an empty body).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// Calls `method url` with `key` as a Bearer token and the pinned version, and `body` as JSON.
pub async fn call(method: &str, url: &str, key: &str, body: Option<&Value>) -> Answer {
    let http = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut request = http.request(method, url).bearer_auth(key).header("x-affinity-api-version", "2026-07-15");
    if let Some(b) = body {
        request = request.json(b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{url}: not JSON: {text}"))
    };
    Answer { status, headers, body }
}
