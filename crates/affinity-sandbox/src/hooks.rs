//! Webhook subscriptions, as Affinity v1 has them (`/webhook`, at most 3 an account), and
//! their delivery: every successful write is POSTed to each subscribed URL as
//! `{"type": "list_entry.created", "body": {...}, "sent_at": 1700000000}`, the body in the
//! resource's v1 shape.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::input::Input;
use super::{Ctx, Shared, error, invalid, path_id, render};

/// Most subscriptions an account may have.
pub const MAX_SUBSCRIPTIONS: usize = 3;

/// One subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub disabled: bool,
}

impl Subscription {
    fn json(&self) -> Value {
        json!({ "id": self.id, "webhook_url": self.url, "subscriptions": self.events, "disabled": self.disabled,
                "created_by": super::seed::ids::ALICE })
    }
}

pub async fn list(State(s): Ctx) -> Response {
    let subs = s.webhooks.lock().expect("webhooks lock");
    Json(Value::Array(subs.iter().map(Subscription::json).collect())).into_response()
}

pub async fn get_one(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = match path_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let subs = s.webhooks.lock().expect("webhooks lock");
    match subs.iter().find(|x| x.id == id) {
        Some(x) => Json(x.json()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Webhook subscription not found"),
    }
}

fn events_of(body: &Value) -> Result<Vec<String>, Response> {
    match body.get("subscriptions") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| invalid("subscriptions must be event names")))
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(_) => Err(invalid("subscriptions must be a list of event names")),
    }
}

/// The subscription's URL: http(s), and on this machine unless the sandbox was told it may
/// call elsewhere (`remote_webhooks`): a page that drives the sandbox (its key is well known)
/// must not make it post to the network.
fn url_of(body: &Value, remote: bool) -> Result<String, Response> {
    let url = body.get("webhook_url").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && (remote || super::is_loopback_host(u.host_str())) => Ok(url),
        Ok(u) if matches!(u.scheme(), "http" | "https") => Err(invalid(
            "webhook_url must be on this machine (start the sandbox with --remote-webhooks to allow others)",
        )),
        _ => Err(invalid("webhook_url must be an http(s) URL")),
    }
}

pub async fn subscribe(State(s): Ctx, Input(body): Input) -> Response {
    let body = Value::Object(body);
    let (url, events) = match (url_of(&body, s.config.remote_webhooks), events_of(&body)) {
        (Ok(u), Ok(e)) => (u, e),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut subs = s.webhooks.lock().expect("webhooks lock");
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return invalid("You can only have 3 webhook subscriptions per instance");
    }
    let id = subs.iter().map(|x| x.id).max().unwrap_or(1000) + 1;
    let sub = Subscription { id, url, events, disabled: false };
    let out = sub.json();
    subs.push(sub);
    Json(out).into_response()
}

pub async fn update(State(s): Ctx, Path(id): Path<String>, Input(body): Input) -> Response {
    let id = match path_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let body = Value::Object(body);
    let mut subs = s.webhooks.lock().expect("webhooks lock");
    let Some(sub) = subs.iter_mut().find(|x| x.id == id) else {
        return error(StatusCode::NOT_FOUND, "Webhook subscription not found");
    };
    if body.get("webhook_url").is_some() {
        match url_of(&body, s.config.remote_webhooks) {
            Ok(u) => sub.url = u,
            Err(r) => return r,
        }
    }
    if body.get("subscriptions").is_some() {
        match events_of(&body) {
            Ok(e) => sub.events = e,
            Err(r) => return r,
        }
    }
    if let Some(d) = body.get("disabled") {
        sub.disabled = matches!(d, Value::Bool(true)) || matches!(d.as_str(), Some("true" | "True" | "1"));
    }
    Json(sub.json()).into_response()
}

pub async fn delete(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = match path_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut subs = s.webhooks.lock().expect("webhooks lock");
    let before = subs.len();
    subs.retain(|x| x.id != id);
    if subs.len() == before {
        return error(StatusCode::NOT_FOUND, "Webhook subscription not found");
    }
    Json(json!({ "success": true })).into_response()
}

/// The event a write makes, from its method and path: its name, and for a deletion the
/// resource as it was (read before the write).
fn event_name(method: &Method, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    Some(match (method.as_str(), segments.as_slice()) {
        ("POST", ["lists", _, "list-entries"]) => "list_entry.created",
        ("DELETE", ["lists", _, "list-entries", _]) => "list_entry.deleted",
        ("POST", ["field-values"]) => "field_value.created",
        ("PUT", ["field-values", _]) => "field_value.updated",
        ("DELETE", ["field-values", _]) => "field_value.deleted",
        ("POST", ["persons"]) => "person.created",
        ("POST", ["organizations"]) => "organization.created",
        ("POST", ["notes"]) => "note.created",
        _ => return None,
    })
}

/// Delivers the event `name` with `body` (the resource in its v1 shape) to every URL
/// subscribed to it, a few tries each, as Affinity retries failed deliveries. API v2's writes
/// call it themselves; v1's are delivered by [`deliver`].
pub(crate) fn emit(s: &Shared, name: &str, body: Value) {
    let targets: Vec<String> = s
        .webhooks
        .lock()
        .expect("webhooks lock")
        .iter()
        .filter(|x| !x.disabled && (x.events.is_empty() || x.events.iter().any(|e| e == name)))
        .map(|x| x.url.clone())
        .collect();
    if targets.is_empty() {
        return;
    }
    let sent_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let event = json!({ "type": name, "body": body, "sent_at": sent_at });
    let http = s.http.clone();
    tokio::spawn(async move {
        for url in targets {
            for attempt in 0..3u64 {
                match http.post(&url).json(&event).timeout(std::time::Duration::from_secs(5)).send().await {
                    Ok(r) if r.status().is_success() => break,
                    _ => tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await,
                }
            }
        }
    });
}

/// Delivers the event of every successful v1 write to the subscribed URLs.
pub async fn deliver(State(s): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(name) = event_name(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    // What a deletion removes, as it is before it goes.
    let segments: Vec<String> = request.uri().path().trim_matches('/').split('/').map(str::to_owned).collect();
    let before = {
        let w = s.world.read().expect("world lock");
        match (name, segments.as_slice()) {
            ("field_value.deleted", [_, id]) => id
                .parse::<i64>()
                .ok()
                .and_then(|id| w.field_values.iter().find(|v| v.id == id))
                .map(|v| render::field_value(&w, v)),
            ("list_entry.deleted", [_, _, _, id]) => id
                .parse::<i64>()
                .ok()
                .and_then(|id| w.list_entries.iter().find(|e| e.id == id))
                .map(|e| render::list_entry(&w, e)),
            _ => None,
        }
    };
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    emit(&s, name, before.unwrap_or(answer));
    Response::from_parts(parts, Body::from(bytes))
}
