//! The Affinity-compatible sandbox: the same paths, shapes, auth, errors, paging and rate
//! limit headers as Affinity API v1, over an in-memory [`World`] that writes change.

// Handlers return `Err(Response)` straight to the client on bad input: the size of the
// error variant costs nothing that matters here.
#![allow(clippy::result_large_err)]

mod hooks;
mod input;
mod paging;
mod params;
mod render;
mod search;
pub mod seed;
mod v2;
pub mod world;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use input::{Input, Params};
use render::With;
pub use world::World;

/// What the sandbox does not serve, each answered with Affinity's JSON error (404 for a path
/// it does not have, 405 for a method a path it has does not take): v1's writes to records
/// the Lens does not write, entity files and reminders; v2 beyond the 2026-07-15 subset.
pub const NOT_SERVED: [(&str, &str); 26] = [
    ("POST", "/lists"),
    ("POST", "/fields"),
    ("DELETE", "/fields/{id}"),
    ("PUT", "/persons/{id}"),
    ("DELETE", "/persons/{id}"),
    ("PUT", "/organizations/{id}"),
    ("DELETE", "/organizations/{id}"),
    ("POST", "/opportunities"),
    ("PUT", "/opportunities/{id}"),
    ("DELETE", "/opportunities/{id}"),
    ("POST", "/interactions"),
    ("PUT", "/interactions/{id}"),
    ("DELETE", "/interactions/{id}"),
    ("PUT", "/notes/{id}"),
    ("DELETE", "/notes/{id}"),
    ("GET", "/entity-files"),
    ("POST", "/entity-files"),
    ("GET", "/entity-files/download/{id}"),
    ("GET", "/reminders"),
    ("POST", "/reminders"),
    ("GET", "/v2/teams"),
    ("POST", "/v2/lists/{id}/list-entries"),
    ("GET", "/v2/lists/{id}/list-entries/{entry_id}/fields/{field_id}/values"),
    ("POST", "/v2/opportunities/{id}"),
    ("GET", "/v2/companies/{id}/fields"),
    ("PATCH", "/v2/persons/{id}"),
];

/// [`NOT_SERVED`] for people (`affinity-lens sandbox --help`).
pub const NOT_SERVED_HELP: &str = "\
Not served (Affinity's JSON 404, or 405 for a method a served path lacks):
  v1: POST /lists; POST /fields, DELETE /fields/{id}; PUT and DELETE /persons/{id},
      /organizations/{id}, /notes/{id}; POST /opportunities, PUT and DELETE
      /opportunities/{id}; POST /interactions, PUT and DELETE /interactions/{id};
      entity files (GET /entity-files, POST /entity-files, GET /entity-files/download/{id});
      reminders (GET /reminders, POST /reminders, /reminders/{id}).
  v2: everything outside the 2026-07-15 subset, e.g. GET /v2/teams,
      POST /v2/lists/{id}/list-entries and POST /v2/opportunities/{id} (2026-09-17),
      GET /v2/lists/{id}/list-entries/{entry_id}/fields/{field_id}/values,
      GET /v2/companies/{id}/fields, PATCH /v2/persons/{id}.
  Every operation of the subset is served, over the same world as v1.";

/// How a single endpoint misbehaves on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointFault {
    /// Answers 200 with a body that is not JSON.
    Malformed,
    /// Never answers.
    Hang,
    /// Answers with this status.
    Status(u16),
}

/// Faults injected for tests; changeable at run time through `POST /_sandbox/faults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added to every answer.
    pub latency_ms: u64,
    /// Share of requests (0.0 to 1.0) answered with `fail_status`.
    pub fail_rate: f64,
    /// The status of failed requests (default 503).
    pub fail_status: Option<u16>,
    /// Per path prefix (e.g. `/organizations`).
    pub endpoints: HashMap<String, EndpointFault>,
}

impl Faults {
    /// Parses `PATH=malformed|hang|STATUS` (the `--fault` option).
    pub fn parse_endpoint_fault(spec: &str) -> Result<(String, EndpointFault), String> {
        let (path, what) = spec.split_once('=').ok_or_else(|| format!("--fault wants PATH=KIND, got {spec:?}"))?;
        if !path.starts_with('/') {
            return Err(format!("--fault path must start with '/', got {path:?}"));
        }
        let fault = match what {
            "malformed" => EndpointFault::Malformed,
            "hang" => EndpointFault::Hang,
            n => EndpointFault::Status(
                n.parse().map_err(|_| format!("--fault kind must be malformed, hang or a status, got {n:?}"))?,
            ),
        };
        Ok((path.to_owned(), fault))
    }
}

/// How the sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The API key accepted with full rights (Basic with an empty user, or Bearer).
    pub api_key: String,
    /// A key that may read but gets 403 on every write and on private lists.
    pub read_only_key: Option<String>,
    /// Requests a minute per key before 429.
    pub rate_limit_per_min: u32,
    /// Requests a month for the account before 429 (`None`: unlimited).
    pub monthly_budget: Option<u64>,
    /// How long the sandbox's "month" lasts (seconds; `None`: two weeks from now, never reset):
    /// a short one lets a test see the month's budget come back.
    pub month_secs: Option<u64>,
    pub faults: Faults,
    /// API v2 answers 403 to every key: an account whose keys lack the v2 permissions.
    pub v2_forbidden: bool,
    /// A key with full v1 rights that gets 403 on every v2 endpoint.
    pub v1_only_key: Option<String>,
    /// Webhook subscriptions may call other machines (by default only this one's addresses).
    pub remote_webhooks: bool,
}

impl SandboxConfig {
    /// A sandbox that accepts `api_key`, 900 a minute, unlimited month, no faults.
    pub fn new(api_key: impl Into<String>) -> Self {
        SandboxConfig {
            api_key: api_key.into(),
            read_only_key: None,
            rate_limit_per_min: 900,
            monthly_budget: None,
            month_secs: None,
            faults: Faults::default(),
            v2_forbidden: false,
            v1_only_key: None,
            remote_webhooks: false,
        }
    }
}

/// Whether a host names this machine: `localhost` (and `*.localhost`) or a loopback address.
pub(crate) fn is_loopback_host(host: Option<&str>) -> bool {
    let Some(host) = host.map(|h| h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()) else {
        return false;
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// 421 unless the request names this machine in its Host: a page on a name of its own that
/// resolves here (DNS rebinding) cannot drive the sandbox.
async fn check_host(request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(|h| {
        // Strip the port (an IPv6 address keeps its brackets' content).
        match h.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => name.to_owned(),
            _ => h.to_owned(),
        }
    });
    if is_loopback_host(host.as_deref()) {
        next.run(request).await
    } else {
        error(StatusCode::MISDIRECTED_REQUEST, "The sandbox answers only requests for this machine (localhost)")
    }
}

#[derive(Debug)]
struct Usage {
    minute_start: Instant,
    minute_used: u32,
    month_used: u64,
}

struct Shared {
    config: SandboxConfig,
    /// When the current month began.
    month_start: Mutex<Instant>,
    world: RwLock<World>,
    faults: RwLock<Faults>,
    usage: Mutex<HashMap<String, Usage>>,
    rng: Mutex<fastrand::Rng>,
    served: std::sync::atomic::AtomicU64,
    /// Webhook subscriptions, and the client that delivers their events.
    webhooks: Mutex<Vec<hooks::Subscription>>,
    http: reqwest::Client,
    /// When each API request was answered (ms since the epoch) and what it asked (method,
    /// path and query); the last 200,000.
    answered: Mutex<std::collections::VecDeque<(i64, String)>>,
}

/// A sandbox: its state and routes.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Full,
    ReadOnly,
}

type Ctx = State<Arc<Shared>>;

impl Sandbox {
    /// A sandbox over the default generated world (seed 1).
    pub fn new(config: SandboxConfig) -> Self {
        Self::with_world(config, seed::generate(1))
    }

    /// A sandbox over the given world.
    pub fn with_world(config: SandboxConfig, world: World) -> Self {
        let faults = config.faults.clone();
        Sandbox {
            shared: Arc::new(Shared {
                config,
                month_start: Mutex::new(Instant::now()),
                world: RwLock::new(world),
                faults: RwLock::new(faults),
                usage: Mutex::new(HashMap::new()),
                rng: Mutex::new(fastrand::Rng::with_seed(7)),
                served: std::sync::atomic::AtomicU64::new(0),
                webhooks: Mutex::new(Vec::new()),
                // No redirects: a subscription's URL is the one checked.
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("an HTTP client"),
                answered: Mutex::new(std::collections::VecDeque::new()),
            }),
        }
    }

    /// How many authenticated API requests it has answered (tests assert call counts).
    pub fn requests_served(&self) -> u64 {
        self.shared.served.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// What each API request answered so far asked, oldest first: `"GET /path?query"`
    /// (tests check that a client never asks the same thing twice).
    pub fn requests(&self) -> Vec<String> {
        self.shared.answered.lock().expect("answered lock").iter().map(|(_, what)| what.clone()).collect()
    }

    /// A copy of the world as it is now.
    pub fn world(&self) -> World {
        self.shared.world.read().expect("world lock").clone()
    }

    /// The routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/lists", get(lists))
            .route("/lists/{id}", get(list))
            .route("/lists/{id}/list-entries", get(list_entries).post(create_list_entry))
            .route("/lists/{id}/list-entries/{entry_id}", get(list_entry).delete(delete_list_entry))
            .route("/fields", get(fields))
            .route("/persons/fields", get(person_fields))
            .route("/organizations/fields", get(organization_fields))
            .route("/field-values", get(field_values).post(create_field_value))
            .route("/field-values/{id}", axum::routing::put(update_field_value).delete(delete_field_value))
            .route("/field-value-changes", get(field_value_changes))
            .route("/persons", get(search_persons).post(create_person))
            .route("/persons/{id}", get(get_person))
            .route("/organizations", get(search_organizations).post(create_organization))
            .route("/organizations/{id}", get(get_organization))
            .route("/opportunities", get(search_opportunities))
            .route("/opportunities/{id}", get(get_opportunity))
            .route("/relationships-strengths", get(relationship_strengths))
            .route("/interactions", get(interactions))
            .route("/interactions/{id}", get(get_interaction))
            .route("/notes", get(notes).post(create_note))
            .route("/notes/{id}", get(get_note))
            .route("/auth/whoami", get(whoami))
            .route("/rate-limit", get(rate_limit))
            .route("/_sandbox/faults", post(set_faults).get(get_faults))
            .route("/_sandbox/requests", get(request_times))
            .route("/webhook", get(hooks::list))
            .route("/webhook/subscribe", post(hooks::subscribe))
            .route("/webhook/{id}", get(hooks::get_one).put(hooks::update).delete(hooks::delete))
            .merge(v2::routes())
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Not found") })
            .layer(middleware::from_fn_with_state(self.shared.clone(), hooks::deliver))
            .layer(middleware::from_fn_with_state(self.shared.clone(), gatekeeper))
            .layer(middleware::map_response(json_errors))
            .layer(middleware::from_fn(v2::error_bodies))
            .layer(middleware::from_fn(check_host))
            .with_state(self.shared.clone())
    }

    /// Serves until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

/// A JSON error in the shape clients read: `errors[]` with messages, and `message`.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [{ "code": status.as_u16(), "message": message }], "message": message })))
        .into_response()
}

fn invalid(message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// Every error in Affinity's JSON shape, including those the router itself gives (a method
/// a path does not serve, a path that cannot be read): they come as plain text or empty.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        "" => status.canonical_reason().unwrap_or("Error").to_owned(),
        t => t.to_owned(),
    };
    let mut fixed = error(status, &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().append(name.clone(), value.clone());
        }
    }
    fixed
}

/// The key sent with a request, from Basic (empty user, key as password) or Bearer auth.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(token.trim().to_owned());
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_owned())
}

impl Shared {
    /// Seconds until the month resets; when it has, the month's counts start again.
    fn month_reset_secs(&self, usage: &mut HashMap<String, Usage>) -> u64 {
        let Some(length) = self.config.month_secs else { return 1_209_600 };
        let mut start = self.month_start.lock().expect("month lock");
        let elapsed = start.elapsed().as_secs();
        if elapsed >= length.max(1) {
            *start = Instant::now();
            usage.values_mut().for_each(|u| u.month_used = 0);
            return length.max(1);
        }
        length.max(1) - elapsed
    }
}

/// Auth, rate limits, faults and the `x-ratelimit-*` headers, in Affinity's order.
async fn gatekeeper(State(shared): Ctx, mut request: Request, next: Next) -> Response {
    let key = presented_key(request.headers());
    // API v2 takes the key as a Bearer token only.
    let v2 = request.uri().path().starts_with("/v2/");
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("Bearer "));
    if v2 && key.is_some() && !bearer {
        return error(StatusCode::UNAUTHORIZED, "API v2 takes the API key as a Bearer token");
    }
    let v1_only = key.is_some() && key.as_deref() == shared.config.v1_only_key.as_deref();
    let access = match key.as_deref() {
        Some(k) if k == shared.config.api_key => Access::Full,
        Some(_) if v1_only => Access::Full,
        Some(k) if shared.config.read_only_key.as_deref() == Some(k) => Access::ReadOnly,
        Some(_) => return error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        None => {
            return error(
                StatusCode::UNAUTHORIZED,
                "Missing API key: use Basic auth with the key as password, or a Bearer token",
            );
        }
    };
    let key = key.unwrap_or_default();
    let path = request.uri().path().to_owned();
    let exempt_monthly = path == "/rate-limit" || path == "/auth/whoami" || path.starts_with("/_sandbox");
    // Asking where the limits stand is free, this minute too (the sandbox's reading of
    // Affinity's docs, which exempt it from the month): a client can learn before it sends.
    let exempt_minute = path == "/rate-limit" || path.starts_with("/_sandbox");

    // Rate limits: a fixed one-minute window per key, and the month for the account.
    let (limit_headers, limited) = {
        let mut usage = shared.usage.lock().expect("usage lock");
        let month_reset = shared.month_reset_secs(&mut usage);
        let total_month: u64 = usage.values().map(|u| u.month_used).sum();
        let u =
            usage.entry(key.clone()).or_insert(Usage { minute_start: Instant::now(), minute_used: 0, month_used: 0 });
        if u.minute_start.elapsed() >= Duration::from_secs(60) {
            u.minute_start = Instant::now();
            u.minute_used = 0;
        }
        let per_min = shared.config.rate_limit_per_min;
        let reset = 60u64.saturating_sub(u.minute_start.elapsed().as_secs());
        let over_minute = u.minute_used >= per_min && !exempt_minute;
        let over_month = !exempt_monthly && shared.config.monthly_budget.is_some_and(|b| total_month >= b);
        if !over_minute && !over_month {
            if !exempt_minute {
                u.minute_used += 1;
            }
            if !exempt_monthly {
                u.month_used += 1;
            }
        }
        let month_used = total_month + u64::from(!over_minute && !over_month && !exempt_monthly);
        let org = |v: Option<u64>| v.map_or("unlimited".to_owned(), |n| n.to_string());
        let headers = vec![
            ("x-ratelimit-limit-user", per_min.to_string()),
            ("x-ratelimit-limit-user-remaining", per_min.saturating_sub(u.minute_used).to_string()),
            ("x-ratelimit-limit-user-reset", reset.to_string()),
            ("x-ratelimit-limit-org", org(shared.config.monthly_budget)),
            (
                "x-ratelimit-limit-org-remaining",
                org(shared.config.monthly_budget.map(|b| b.saturating_sub(month_used))),
            ),
            ("x-ratelimit-limit-org-reset", month_reset.to_string()),
        ];
        (headers, over_minute || over_month)
    };
    let with_headers = |mut response: Response| {
        // v2 leaves the monthly headers out when the month has no cap (v1 says `unlimited`).
        let uncapped = v2 && shared.config.monthly_budget.is_none();
        for (k, v) in limit_headers.iter().filter(|(k, _)| !(uncapped && k.starts_with("x-ratelimit-limit-org"))) {
            if let Ok(v) = HeaderValue::from_str(v) {
                response.headers_mut().insert(*k, v);
            }
        }
        response
    };
    if limited {
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        if let Some((_, reset)) = limit_headers.iter().find(|(k, _)| *k == "x-ratelimit-limit-user-reset")
            && let Ok(v) = HeaderValue::from_str(reset)
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return with_headers(r);
    }

    // Faults (not on the sandbox's own control endpoint).
    if !path.starts_with("/_sandbox") {
        let faults = shared.faults.read().expect("faults lock").clone();
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        if let Some((_, fault)) =
            faults.endpoints.iter().filter(|(p, _)| path.starts_with(p.as_str())).max_by_key(|(p, _)| p.len())
        {
            match fault {
                EndpointFault::Malformed => {
                    return with_headers(
                        (
                            StatusCode::OK,
                            [(header::CONTENT_TYPE, "application/json")],
                            "{\"organizations\": [{\"id\": ",
                        )
                            .into_response(),
                    );
                }
                EndpointFault::Hang => std::future::pending::<()>().await,
                EndpointFault::Status(s) => {
                    let status = StatusCode::from_u16(*s).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                    return with_headers(error(status, "Injected fault"));
                }
            }
        }
        if faults.fail_rate > 0.0 && shared.rng.lock().expect("rng lock").f64() < faults.fail_rate {
            let status =
                StatusCode::from_u16(faults.fail_status.unwrap_or(503)).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return with_headers(error(status, "Injected failure"));
        }
    }

    if v2 && (shared.config.v2_forbidden || v1_only) {
        let message = "This API key does not have the permission to use this endpoint";
        return with_headers(v2::error(StatusCode::FORBIDDEN, "authorization", message));
    }
    // A search is a POST that only reads.
    let read = request.method() == Method::GET || (v2 && request.uri().path().ends_with("/search"));
    if access == Access::ReadOnly && !read {
        return with_headers(error(StatusCode::FORBIDDEN, "This API key may not make changes"));
    }
    request.extensions_mut().insert(access);
    shared.served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if !request.uri().path().starts_with("/_sandbox") {
        let mut answered = shared.answered.lock().expect("answered lock");
        if answered.len() >= 200_000 {
            answered.pop_front();
        }
        let uri = request.uri();
        let what = format!("{} {}", request.method(), uri.path_and_query().map_or(uri.path(), |p| p.as_str()));
        answered.push_back((chrono::Utc::now().timestamp_millis(), what));
    }
    with_headers(next.run(request).await)
}

// ---- parameters and paging ----------------------------------------------------------------

/// v1's answer to a bad parameter: 422 with its message.
fn refused(e: params::Invalid) -> Response {
    invalid(&e.message)
}

fn int(params: &HashMap<String, String>, key: &str) -> Result<Option<i64>, Response> {
    params::integer(params.get(key).map(String::as_str), key, i64::MIN..=i64::MAX).map_err(refused)
}

fn required(params: &HashMap<String, String>, key: &str) -> Result<i64, Response> {
    int(params, key)?.ok_or_else(|| invalid(&format!("{key} is required")))
}

fn flag(params: &HashMap<String, String>, key: &str) -> Result<bool, Response> {
    input::boolean(params.get(key).map(String::as_str), key)
}

fn path_id(raw: &str) -> Result<i64, Response> {
    params::id(raw, "the id").map_err(refused)
}

/// Pages `items` under `key` (`page_size` up to `max_size`, `page_token`). The token is
/// bound to the other parameters: one sent with different ones is refused (422), as
/// Affinity does.
fn paged<T>(
    items: Vec<T>,
    render: impl Fn(&T) -> Value,
    key: &str,
    params: &HashMap<String, String>,
    default_size: usize,
    max_size: usize,
) -> Response {
    let requested = match int(params, "page_size") {
        Ok(size) => size.map(|s| s.clamp(1, max_size as i64) as usize),
        Err(r) => return r,
    };
    let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let bound = paging::binding("", pairs, &["page_size", "page_token"], "");
    let (offset, size) = match params.get("page_token") {
        None => (0, requested.unwrap_or(default_size)),
        Some(raw) => match paging::Token::decode(raw, bound) {
            Some(t) => (t.offset, requested.unwrap_or(t.size)),
            None => return invalid("Invalid page_token variable"),
        },
    };
    let page = paging::window(items, offset, size);
    let token = page.next.map(|next| paging::Token::new(next, size, bound).encode());
    let items: Vec<Value> = page.items.iter().map(render).collect();
    Json(json!({ key: items, "next_page_token": token })).into_response()
}

fn with_from(params: &HashMap<String, String>, detail: bool) -> Result<With, Response> {
    let interaction_dates = flag(params, "with_interaction_dates")?;
    Ok(With {
        detail,
        interaction_dates,
        interaction_persons: flag(params, "with_interaction_persons")? && interaction_dates,
        opportunities: flag(params, "with_opportunities")?,
        current_organizations: flag(params, "with_current_organizations")?,
    })
}

/// The `min_<t>_date` / `max_<t>_date` filters of a person or organization search: each
/// keeps only those whose date `<t>` is within the bound (and so has one).
struct DateFilters(Vec<(&'static str, bool, chrono::DateTime<chrono::FixedOffset>)>);

impl DateFilters {
    const DATES: [&'static str; 6] =
        ["first_email", "last_email", "last_interaction", "last_event", "first_event", "next_event"];

    fn from(params: &HashMap<String, String>) -> Result<DateFilters, Response> {
        let mut filters = Vec::new();
        for date in Self::DATES {
            for (is_min, bound) in [(true, "min"), (false, "max")] {
                let key = format!("{bound}_{date}_date");
                if let Some(v) = params.get(&key) {
                    filters.push((date, is_min, input::datetime(v, &key)?));
                }
            }
        }
        Ok(DateFilters(filters))
    }

    fn keep(&self, activity: &world::Activity) -> bool {
        self.0.iter().all(|(date, is_min, bound)| {
            let touch = match *date {
                "first_email" => &activity.first_email,
                "last_email" => &activity.last_email,
                "last_interaction" => &activity.last_interaction,
                "last_event" => &activity.last_event,
                "first_event" => &activity.first_event,
                _ => &activity.next_event,
            };
            let at = touch.as_ref().and_then(|t| chrono::DateTime::parse_from_rfc3339(&t.date).ok());
            at.is_some_and(|at| if *is_min { at >= *bound } else { at <= *bound })
        })
    }
}

macro_rules! try_r {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

// ---- reads ----------------------------------------------------------------------------------

async fn lists(State(s): Ctx) -> Response {
    let w = s.world.read().expect("world lock");
    let all: Vec<Value> = w
        .lists
        .iter()
        .map(|l| {
            let mut v = render::list(l);
            v["list_size"] = json!(w.list_entries.iter().filter(|e| e.list_id == l.id).count());
            v
        })
        .collect();
    Json(all).into_response()
}

fn readable_list(w: &World, id: i64, access: Access) -> Result<&world::List, Response> {
    let list = w.list(id).ok_or_else(|| error(StatusCode::NOT_FOUND, "List not found"))?;
    if list.private && access == Access::ReadOnly {
        return Err(error(StatusCode::FORBIDDEN, "You do not have access to this list"));
    }
    Ok(list)
}

async fn list(State(s): Ctx, axum::Extension(access): axum::Extension<Access>, Path(id): Path<String>) -> Response {
    let id = try_r!(path_id(&id));
    let w = s.world.read().expect("world lock");
    let l = try_r!(readable_list(&w, id, access));
    let mut v = render::list(l);
    v["list_size"] = json!(w.list_entries.iter().filter(|e| e.list_id == id).count());
    v["additional_permissions"] = json!([]);
    v["fields"] = json!(w.fields.iter().filter(|f| f.list_id == Some(id)).map(render::field).collect::<Vec<_>>());
    Json(v).into_response()
}

async fn list_entries(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path(id): Path<String>,
    Params(p): Params,
) -> Response {
    let id = try_r!(path_id(&id));
    let w = s.world.read().expect("world lock");
    try_r!(readable_list(&w, id, access));
    let entries: Vec<&world::ListEntry> = w.list_entries.iter().filter(|e| e.list_id == id).collect();
    if p.contains_key("page_size") {
        paged(entries, |e| render::list_entry(&w, e), "list_entries", &p, 500, 500)
    } else {
        // Without page_size (even with a token) Affinity returns everything, bare.
        Json(entries.iter().map(|e| render::list_entry(&w, e)).collect::<Vec<_>>()).into_response()
    }
}

async fn list_entry(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path((id, entry_id)): Path<(String, String)>,
) -> Response {
    let (id, entry_id) = (try_r!(path_id(&id)), try_r!(path_id(&entry_id)));
    let w = s.world.read().expect("world lock");
    try_r!(readable_list(&w, id, access));
    match w.list_entries.iter().find(|e| e.list_id == id && e.id == entry_id) {
        Some(e) => Json(render::list_entry(&w, e)).into_response(),
        None => error(StatusCode::NOT_FOUND, "List entry not found"),
    }
}

async fn fields(State(s): Ctx, Params(p): Params) -> Response {
    let list_id = try_r!(int(&p, "list_id"));
    let value_type = try_r!(int(&p, "value_type"));
    let entity_type = try_r!(int(&p, "entity_type"));
    let modified_names = try_r!(flag(&p, "with_modified_names"));
    let without_options = try_r!(flag(&p, "exclude_dropdown_options"));
    let w = s.world.read().expect("world lock");
    let out: Vec<Value> = w
        .fields
        .iter()
        .filter(|f| list_id.is_none_or(|l| f.list_id == Some(l)))
        .filter(|f| value_type.is_none_or(|t| f.value_type == t))
        .filter(|f| entity_type.is_none_or(|t| f.entity_type == t))
        .map(|f| {
            let mut v = render::field(f);
            if modified_names && let Some(list) = f.list_id.and_then(|id| w.list(id)) {
                v["name"] = json!(format!("[{}] {}", list.name, f.name));
            }
            if without_options {
                v["dropdown_options"] = json!([]);
            }
            v
        })
        .collect();
    Json(out).into_response()
}

fn global_fields(s: &Shared, entity_type: i64) -> Response {
    let w = s.world.read().expect("world lock");
    let out: Vec<Value> =
        w.fields.iter().filter(|f| f.list_id.is_none() && f.entity_type == entity_type).map(render::field).collect();
    Json(out).into_response()
}

async fn person_fields(State(s): Ctx) -> Response {
    global_fields(&s, 0)
}

async fn organization_fields(State(s): Ctx) -> Response {
    global_fields(&s, 1)
}

async fn field_values(State(s): Ctx, Params(p): Params) -> Response {
    let keys = ["person_id", "organization_id", "opportunity_id", "list_entry_id"];
    let given: Vec<&str> = keys.iter().copied().filter(|k| p.contains_key(*k)).collect();
    if given.len() != 1 {
        return invalid("Exactly one of person_id, organization_id, opportunity_id or list_entry_id is required");
    }
    let id = try_r!(required(&p, given[0]));
    let w = s.world.read().expect("world lock");
    let out: Vec<Value> = w
        .field_values
        .iter()
        .filter(|v| match given[0] {
            "list_entry_id" => v.list_entry_id == Some(id),
            "opportunity_id" => v.entity_type == 8 && v.entity_id == id,
            "person_id" => v.entity_type == 0 && v.entity_id == id,
            _ => v.entity_type == 1 && v.entity_id == id,
        })
        .map(|v| render::field_value(&w, v))
        .collect();
    Json(out).into_response()
}

async fn field_value_changes(State(s): Ctx, Params(p): Params) -> Response {
    let field_id = try_r!(required(&p, "field_id"));
    let action_type = try_r!(int(&p, "action_type"));
    if action_type.is_some_and(|a| !(0..=2).contains(&a)) {
        return invalid("action_type must be 0 (create), 1 (delete) or 2 (update)");
    }
    let keys = ["person_id", "organization_id", "opportunity_id", "list_entry_id"];
    let given: Vec<&str> = keys.iter().copied().filter(|k| p.contains_key(*k)).collect();
    if given.len() > 1 {
        return invalid("At most one of person_id, organization_id, opportunity_id or list_entry_id may be given");
    }
    let filter = match given.first() {
        Some(k) => Some((*k, try_r!(required(&p, k)))),
        None => None,
    };
    let w = s.world.read().expect("world lock");
    let Some(field) = w.fields.iter().find(|f| f.id == field_id) else {
        return error(StatusCode::NOT_FOUND, "Field not found");
    };
    if !field.track_changes {
        return invalid("Tracking changes for this entity attribute is not yet supported");
    }
    // A list entry stands for its entity: its changes, and those of its entity's global values.
    let filter = match filter {
        Some(("list_entry_id", id)) => match w.list_entries.iter().find(|e| e.id == id) {
            Some(e) => Some(e.entity_id),
            None => return error(StatusCode::NOT_FOUND, "List entry not found"),
        },
        other => other.map(|(_, id)| id),
    };
    let out: Vec<Value> = w
        .field_value_changes
        .iter()
        .filter(|c| c.field_id == field_id)
        .filter(|c| filter.is_none_or(|e| c.entity_id == e))
        .filter(|c| action_type.is_none_or(|a| c.action_type == a))
        .map(|c| render::field_value_change(&w, field, c))
        .collect();
    Json(out).into_response()
}

fn matches_term(term: &str, haystacks: &[&str]) -> bool {
    term.is_empty() || haystacks.iter().any(|h| contains_lowercase(h, term))
}

/// Whether `hay`, lower-cased, contains `term` (already lower case). Allocates only for
/// text that is not ASCII: a search scans every person, and this keeps it fast.
fn contains_lowercase(hay: &str, term: &str) -> bool {
    if hay.is_ascii() && term.is_ascii() {
        let (h, t) = (hay.as_bytes(), term.as_bytes());
        t.len() <= h.len() && h.windows(t.len()).any(|w| w.eq_ignore_ascii_case(t))
    } else {
        hay.to_lowercase().contains(term)
    }
}

async fn search_persons(State(s): Ctx, Params(p): Params) -> Response {
    let term = p.get("term").map(|t| t.trim().to_lowercase()).unwrap_or_default();
    let with = try_r!(with_from(&p, false));
    let dates = try_r!(DateFilters::from(&p));
    let w = s.world.read().expect("world lock");
    let out: Vec<&world::Person> = w
        .persons
        .iter()
        .filter(|x| {
            matches_term(&term, &[x.first_name.as_str(), x.last_name.as_str()])
                || x.emails.iter().any(|e| contains_lowercase(e, &term))
                || (term.contains(' ') && contains_lowercase(&format!("{} {}", x.first_name, x.last_name), &term))
        })
        // With interaction dates, persons without any interaction are left out.
        .filter(|x| !with.interaction_dates || !x.activity.is_empty())
        .filter(|x| dates.keep(&x.activity))
        .collect();
    paged(out, |x| render::person(&w, x, with), "persons", &p, 500, 500)
}

async fn get_person(State(s): Ctx, Path(id): Path<String>, Params(p): Params) -> Response {
    let id = try_r!(path_id(&id));
    let w = s.world.read().expect("world lock");
    let with = try_r!(with_from(&p, true));
    match w.person(id) {
        Some(x) => Json(render::person(&w, x, with)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Person not found"),
    }
}

async fn search_organizations(State(s): Ctx, Params(p): Params) -> Response {
    let term = p.get("term").map(|t| t.trim().to_lowercase()).unwrap_or_default();
    let with = try_r!(with_from(&p, false));
    let dates = try_r!(DateFilters::from(&p));
    let w = s.world.read().expect("world lock");
    let out: Vec<&world::Organization> = w
        .organizations
        .iter()
        .filter(|o| {
            let mut hay = vec![o.name.as_str()];
            hay.extend(o.domains.iter().map(String::as_str));
            hay.extend(o.domain.iter().map(String::as_str));
            matches_term(&term, &hay)
        })
        .filter(|o| !with.interaction_dates || !o.activity.is_empty())
        .filter(|o| dates.keep(&o.activity))
        .collect();
    paged(out, |o| render::organization(&w, o, with), "organizations", &p, 500, 500)
}

async fn get_organization(State(s): Ctx, Path(id): Path<String>, Params(p): Params) -> Response {
    let id = try_r!(path_id(&id));
    let w = s.world.read().expect("world lock");
    let with = try_r!(with_from(&p, true));
    match w.organization(id) {
        Some(o) => Json(render::organization(&w, o, with)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Organization not found"),
    }
}

async fn search_opportunities(State(s): Ctx, Params(p): Params) -> Response {
    let term = p.get("term").map(|t| t.trim().to_lowercase()).unwrap_or_default();
    let w = s.world.read().expect("world lock");
    let out: Vec<&world::Opportunity> =
        w.opportunities.iter().filter(|o| matches_term(&term, &[o.name.as_str()])).collect();
    paged(out, |o| render::opportunity(&w, o), "opportunities", &p, 500, 500)
}

async fn get_opportunity(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = try_r!(path_id(&id));
    let w = s.world.read().expect("world lock");
    match w.opportunities.iter().find(|o| o.id == id) {
        Some(o) => Json(render::opportunity(&w, o)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Opportunity not found"),
    }
}

async fn relationship_strengths(State(s): Ctx, Params(p): Params) -> Response {
    let external = try_r!(required(&p, "external_id"));
    let internal = try_r!(int(&p, "internal_id"));
    let w = s.world.read().expect("world lock");
    match w.person(external) {
        None => return error(StatusCode::NOT_FOUND, "Person not found"),
        Some(x) if x.person_type == 1 => return invalid("external_id must be an external person"),
        _ => {}
    }
    let out: Vec<Value> = w
        .strengths_of(external)
        .filter(|r| internal.is_none_or(|i| r.internal_id == i))
        .map(|r| json!({ "internal_id": r.internal_id, "external_id": r.external_id, "strength": r.strength }))
        .collect();
    Json(out).into_response()
}

async fn interactions(State(s): Ctx, Params(p): Params) -> Response {
    let kind = try_r!(required(&p, "type"));
    if !(0..=3).contains(&kind) {
        return invalid("type must be 0, 1, 2 or 3");
    }
    let (Some(start), Some(end)) = (p.get("start_time"), p.get("end_time")) else {
        return invalid("start_time and end_time are required");
    };
    let (start, end) = (try_r!(input::datetime(start, "start_time")), try_r!(input::datetime(end, "end_time")));
    if end <= start || end - start > chrono::Duration::days(366) {
        return invalid("end_time must be after start_time, within one year");
    }
    let internal = try_r!(int(&p, "internal_person_id"));
    let direction = try_r!(int(&p, "direction"));
    if direction.is_some_and(|d| d != 0 && d != 1) {
        return invalid("direction must be 0 (sent) or 1 (received)");
    }
    let manual_only = match try_r!(int(&p, "logging_type")) {
        None | Some(0) => false,
        Some(1) => true,
        Some(_) => return invalid("logging_type must be 0 (all) or 1 (manual)"),
    };
    let w = s.world.read().expect("world lock");
    let entity_keys = ["person_id", "organization_id", "opportunity_id"];
    let given: Vec<&str> = entity_keys.iter().copied().filter(|k| p.contains_key(*k)).collect();
    if given.len() != 1 {
        return invalid("Exactly one of person_id, organization_id or opportunity_id is required");
    }
    let id = try_r!(required(&p, given[0]));
    let members: Vec<i64> = match given[0] {
        "person_id" => match w.person(id) {
            None => return error(StatusCode::NOT_FOUND, "Person not found"),
            Some(x) if x.person_type == 1 => return invalid("person_id must be an external person"),
            Some(_) => vec![id],
        },
        "organization_id" => match w.organization(id) {
            None => return error(StatusCode::NOT_FOUND, "Organization not found"),
            Some(o) => o.person_ids.clone(),
        },
        _ => match w.opportunities.iter().find(|o| o.id == id) {
            None => return error(StatusCode::NOT_FOUND, "Opportunity not found"),
            Some(o) => o.person_ids.clone(),
        },
    };
    let out: Vec<Value> = w
        .interactions
        .iter()
        .filter(|i| i.interaction_type == kind && i.person_ids.iter().any(|id| members.contains(id)))
        .filter(|i| internal.is_none_or(|id| i.person_ids.contains(&id)))
        .filter(|i| direction.is_none_or(|d| (kind == 2 || kind == 3) && i.direction == d))
        // Every interaction in the sandbox was logged automatically.
        .filter(|_| !manual_only)
        .filter(|i| chrono::DateTime::parse_from_rfc3339(&i.date).is_ok_and(|d| d >= start && d < end))
        .map(|i| render::interaction(&w, i))
        .collect();
    let key = match kind {
        3 => "emails",
        2 => "chat_messages",
        _ => "events",
    };
    paged(out, Value::clone, key, &p, 100, 100)
}

async fn get_interaction(State(s): Ctx, Path(id): Path<String>, Params(p): Params) -> Response {
    let id = try_r!(path_id(&id));
    let kind = try_r!(required(&p, "type"));
    if !(0..=3).contains(&kind) {
        return invalid("type must be 0, 1, 2 or 3");
    }
    let w = s.world.read().expect("world lock");
    match w.interactions.iter().find(|i| i.id == id && i.interaction_type == kind) {
        Some(i) => Json(render::interaction(&w, i)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Interaction not found"),
    }
}

async fn notes(State(s): Ctx, Params(p): Params) -> Response {
    let person = try_r!(int(&p, "person_id"));
    let org = try_r!(int(&p, "organization_id"));
    let opp = try_r!(int(&p, "opportunity_id"));
    let creator = try_r!(int(&p, "creator_id"));
    let w = s.world.read().expect("world lock");
    let out: Vec<Value> = w
        .notes
        .iter()
        .filter(|n| person.is_none_or(|id| n.person_ids.contains(&id)))
        .filter(|n| org.is_none_or(|id| n.organization_ids.contains(&id)))
        .filter(|n| opp.is_none_or(|id| n.opportunity_ids.contains(&id)))
        .filter(|n| creator.is_none_or(|id| n.creator_id == id))
        .map(render::note)
        .collect();
    paged(out, Value::clone, "notes", &p, 500, 500)
}

async fn get_note(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = try_r!(path_id(&id));
    let w = s.world.read().expect("world lock");
    match w.notes.iter().find(|n| n.id == id) {
        Some(n) => Json(render::note(n)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Note not found"),
    }
}

async fn whoami(State(s): Ctx) -> Response {
    let w = s.world.read().expect("world lock");
    let user = w.person(w.tenant.user_id);
    Json(json!({
        "tenant": { "id": w.tenant.id, "name": w.tenant.name, "subdomain": w.tenant.subdomain },
        "user": {
            "id": w.tenant.user_id,
            "firstName": user.map(|u| u.first_name.clone()),
            "lastName": user.map(|u| u.last_name.clone()),
            "email": user.and_then(|u| u.emails.first().cloned()),
        },
        "grant": { "type": "api_key", "scope": "external_api", "createdAt": "2026-01-01T00:00:00.000Z" }
    }))
    .into_response()
}

async fn rate_limit(State(s): Ctx, headers: HeaderMap) -> Response {
    let key = presented_key(&headers).unwrap_or_default();
    let mut usage = s.usage.lock().expect("usage lock");
    let month_reset = s.month_reset_secs(&mut usage);
    let month_used: u64 = usage.values().map(|u| u.month_used).sum();
    let (minute_used, reset) = usage
        .get(&key)
        .map(|u| (u.minute_used, 60u64.saturating_sub(u.minute_start.elapsed().as_secs())))
        .unwrap_or((0, 60));
    let per_min = s.config.rate_limit_per_min;
    let monthly = match s.config.monthly_budget {
        Some(b) => {
            json!({ "limit": b, "remaining": b.saturating_sub(month_used), "reset": month_reset, "used": month_used })
        }
        None => json!({ "limit": "unlimited", "remaining": "unlimited", "reset": month_reset, "used": month_used }),
    };
    Json(json!({ "rate": {
        "org_monthly": monthly,
        "api_key_per_minute": { "limit": per_min, "remaining": per_min.saturating_sub(minute_used), "reset": reset, "used": minute_used }
    }}))
    .into_response()
}

async fn set_faults(State(s): Ctx, body: axum::body::Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return invalid(&format!("faults must be a JSON object like GET /_sandbox/faults returns: {e}")),
    };
    *s.faults.write().expect("faults lock") = faults.clone();
    Json(faults).into_response()
}

/// `GET /_sandbox/requests`: when each API request was answered and what it asked, for
/// tests that check a client's pace and what it asks (`{"times_ms": [...], "requests":
/// ["GET /lists", "GET /persons?term=x", ...]}`, oldest first, the same order).
async fn request_times(State(s): Ctx) -> Response {
    let (times, requests): (Vec<i64>, Vec<String>) = s.answered.lock().expect("answered lock").iter().cloned().unzip();
    Json(json!({ "times_ms": times, "requests": requests })).into_response()
}

async fn get_faults(State(s): Ctx) -> Response {
    Json(s.faults.read().expect("faults lock").clone()).into_response()
}

// ---- writes ---------------------------------------------------------------------------------

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

type Body = serde_json::Map<String, Value>;

fn body_int(body: &Body, key: &str) -> Result<Option<i64>, Response> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => input::integer(v).map(Some).ok_or_else(|| invalid(&format!("{key} must be an integer"))),
    }
}

/// Ids sent as a JSON array, a form array (`person_ids[]=1&person_ids[]=2`) or one value.
fn body_ids(body: &Body, key: &str) -> Result<Vec<i64>, Response> {
    let items = match body.get(key) {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(items)) => items.clone(),
        Some(one @ (Value::Number(_) | Value::String(_))) => vec![one.clone()],
        Some(_) => return Err(invalid(&format!("{key} must be an array of integers"))),
    };
    items
        .iter()
        // An empty form array (`person_ids[]=`) is sent as one empty value.
        .filter(|v| v.as_str().is_none_or(|s| !s.trim().is_empty()))
        .map(|v| input::integer(v).ok_or_else(|| invalid(&format!("{key} must hold integers"))))
        .collect()
}

fn body_text(body: &Body, key: &str) -> String {
    match body.get(key) {
        Some(Value::String(s)) => s.trim().to_owned(),
        _ => String::new(),
    }
}

async fn create_list_entry(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path(id): Path<String>,
    Input(body): Input,
) -> Response {
    let id = try_r!(path_id(&id));
    let Some(entity_id) = try_r!(body_int(&body, "entity_id")) else { return invalid("entity_id is required") };
    let creator_id = try_r!(body_int(&body, "creator_id"));
    let mut w = s.world.write().expect("world lock");
    let list_type = try_r!(readable_list(&w, id, access)).list_type;
    let creator_id = try_r!(internal_person(&w, creator_id));
    let ok = match list_type {
        0 => w.person(entity_id).is_some(),
        1 => w.organization(entity_id).is_some(),
        _ => return invalid("Opportunities cannot be added to a list this way: create the opportunity"),
    };
    if !ok {
        return invalid("entity_id does not match an entity of this list's type");
    }
    let entry = world::ListEntry {
        id: w.new_id(),
        list_id: id,
        creator_id,
        entity_id,
        entity_type: list_type,
        created_at: now_iso(),
    };
    w.list_entries.push(entry.clone());
    (StatusCode::CREATED, Json(render::list_entry(&w, &entry))).into_response()
}

async fn delete_list_entry(
    State(s): Ctx,
    axum::Extension(access): axum::Extension<Access>,
    Path((id, entry_id)): Path<(String, String)>,
) -> Response {
    let (id, entry_id) = (try_r!(path_id(&id)), try_r!(path_id(&entry_id)));
    let mut w = s.world.write().expect("world lock");
    try_r!(readable_list(&w, id, access));
    let before = w.list_entries.len();
    w.list_entries.retain(|e| !(e.list_id == id && e.id == entry_id));
    if w.list_entries.len() == before {
        return error(StatusCode::NOT_FOUND, "List entry not found");
    }
    w.field_values.retain(|v| v.list_entry_id != Some(entry_id));
    Json(json!({ "success": true })).into_response()
}

/// Who a write says made it (`creator_id`): a colleague, by default the key's user.
fn internal_person(w: &World, id: Option<i64>) -> Result<i64, Response> {
    match id {
        None => Ok(w.tenant.user_id),
        Some(id) if w.person(id).is_some_and(|p| p.person_type == 1) => Ok(id),
        Some(_) => Err(invalid("creator_id must be an internal person")),
    }
}

/// Checks a value against its field and stores it as Affinity returns it (a ranked
/// dropdown is sent as the option id and stored as the option). Numbers and ids may come
/// as text (a form body or the query string).
fn stored_value(field: &world::Field, value: &Value) -> Result<Value, Response> {
    let bad = || invalid(&format!("value does not fit the field {:?}", field.name));
    match field.value_type {
        0 | 1 => input::integer(value).map(Value::from).ok_or_else(bad),
        3 => input::number(value).ok_or_else(bad),
        2 | 6 | 10 | 17 => value.is_string().then(|| value.clone()).ok_or_else(bad),
        4 => value.as_str().and_then(affinity_api::models::Timestamp::parse).map(|t| json!(t.to_iso())).ok_or_else(bad),
        5 => value.is_object().then(|| value.clone()).ok_or_else(bad),
        7 => {
            let id = input::integer(value).or_else(|| value.get("id").and_then(input::integer));
            match id.and_then(|id| field.dropdown_options.iter().find(|o| o.id == id)) {
                Some(o) => Ok(json!({ "id": o.id, "text": o.text, "rank": o.rank, "color": o.color })),
                None => Err(invalid("value must be the id of one of the field's dropdown options")),
            }
        }
        _ => Ok(value.clone()),
    }
}

async fn create_field_value(State(s): Ctx, Input(body): Input) -> Response {
    let Some(field_id) = try_r!(body_int(&body, "field_id")) else { return invalid("field_id is required") };
    let Some(entity_id) = try_r!(body_int(&body, "entity_id")) else { return invalid("entity_id is required") };
    let list_entry_id = try_r!(body_int(&body, "list_entry_id"));
    let Some(value) = body.get("value") else { return invalid("value is required") };
    let mut w = s.world.write().expect("world lock");
    let Some(field) = w.fields.iter().find(|f| f.id == field_id).cloned() else {
        return invalid("field_id does not exist");
    };
    if field.list_id.is_some() {
        match list_entry_id.and_then(|id| w.list_entries.iter().find(|e| e.id == id)) {
            Some(e) if Some(e.list_id) == field.list_id && e.entity_id == entity_id => {}
            _ => return invalid("a list-specific field needs the list_entry_id of this entity on its list"),
        }
    }
    let stored = try_r!(stored_value(&field, value));
    let now = now_iso();
    let id = w.new_id();
    let v = world::FieldValue {
        id,
        field_id,
        entity_id,
        entity_type: field.entity_type,
        list_entry_id,
        value: stored.clone(),
        created_at: now.clone(),
        updated_at: None,
    };
    w.field_values.push(v.clone());
    if field.track_changes {
        let change_id = w.new_id();
        let changer_id = w.tenant.user_id;
        w.field_value_changes.push(world::FieldValueChange {
            id: change_id,
            field_id,
            entity_id,
            list_entry_id,
            action_type: 0,
            changer_id,
            changed_at: now,
            value: stored,
        });
    }
    (StatusCode::CREATED, Json(render::field_value(&w, &v))).into_response()
}

async fn update_field_value(State(s): Ctx, Path(id): Path<String>, Input(body): Input) -> Response {
    let id = try_r!(path_id(&id));
    let Some(value) = body.get("value") else { return invalid("value is required") };
    let mut w = s.world.write().expect("world lock");
    let Some(index) = w.field_values.iter().position(|v| v.id == id) else {
        return error(StatusCode::NOT_FOUND, "Field value not found");
    };
    let field_id = w.field_values[index].field_id;
    let Some(field) = w.fields.iter().find(|f| f.id == field_id).cloned() else {
        return error(StatusCode::NOT_FOUND, "Field not found");
    };
    let stored = try_r!(stored_value(&field, value));
    let now = now_iso();
    w.field_values[index].value = stored.clone();
    w.field_values[index].updated_at = Some(now.clone());
    let v = w.field_values[index].clone();
    if field.track_changes {
        let change_id = w.new_id();
        let changer_id = w.tenant.user_id;
        w.field_value_changes.push(world::FieldValueChange {
            id: change_id,
            field_id,
            entity_id: v.entity_id,
            list_entry_id: v.list_entry_id,
            action_type: 2,
            changer_id,
            changed_at: now,
            value: stored,
        });
    }
    Json(render::field_value(&w, &v)).into_response()
}

async fn delete_field_value(State(s): Ctx, Path(id): Path<String>) -> Response {
    let id = try_r!(path_id(&id));
    let mut w = s.world.write().expect("world lock");
    let Some(index) = w.field_values.iter().position(|v| v.id == id) else {
        return error(StatusCode::NOT_FOUND, "Field value not found");
    };
    let v = w.field_values.remove(index);
    if w.fields.iter().any(|f| f.id == v.field_id && f.track_changes) {
        let change_id = w.new_id();
        let changer_id = w.tenant.user_id;
        w.field_value_changes.push(world::FieldValueChange {
            id: change_id,
            field_id: v.field_id,
            entity_id: v.entity_id,
            list_entry_id: v.list_entry_id,
            action_type: 1,
            changer_id,
            changed_at: now_iso(),
            value: v.value,
        });
    }
    Json(json!({ "success": true })).into_response()
}

async fn create_note(State(s): Ctx, Input(body): Input) -> Response {
    let content = body_text(&body, "content");
    if content.is_empty() {
        return invalid("content is required");
    }
    let parent_id = try_r!(body_int(&body, "parent_id"));
    let (mut person_ids, mut organization_ids, mut opportunity_ids) = (
        try_r!(body_ids(&body, "person_ids")),
        try_r!(body_ids(&body, "organization_ids")),
        try_r!(body_ids(&body, "opportunity_ids")),
    );
    if parent_id.is_none() && person_ids.is_empty() && organization_ids.is_empty() && opportunity_ids.is_empty() {
        return invalid("At least one of person_ids, organization_ids, opportunity_ids or parent_id is required");
    }
    let note_type = try_r!(body_int(&body, "type")).unwrap_or(0);
    if note_type != 0 && note_type != 2 {
        return invalid("type must be 0 (plain text) or 2 (HTML)");
    }
    let created_at = match body.get("created_at").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) {
        None => now_iso(),
        Some(t) => {
            let at = try_r!(input::datetime(t, "created_at"));
            if at > chrono::Utc::now() {
                return invalid("created_at cannot be in the future");
            }
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        }
    };
    let creator_id = try_r!(body_int(&body, "creator_id"));
    let mut w = s.world.write().expect("world lock");
    let creator_id = try_r!(internal_person(&w, creator_id));
    if let Some(parent) = parent_id {
        match w.notes.iter().find(|n| n.id == parent) {
            None => return error(StatusCode::NOT_FOUND, &format!("Note {parent} not found")),
            Some(n) if n.parent_id.is_some() => return invalid("A reply cannot be replied to"),
            // A reply belongs to its parent: the entity ids sent with it are ignored.
            Some(_) => (person_ids, organization_ids, opportunity_ids) = (vec![], vec![], vec![]),
        }
    }
    if let Some(missing) = organization_ids.iter().find(|id| w.organization(**id).is_none()) {
        return error(StatusCode::NOT_FOUND, &format!("Organization {missing} not found"));
    }
    if let Some(missing) = person_ids.iter().find(|id| w.person(**id).is_none()) {
        return error(StatusCode::NOT_FOUND, &format!("Person {missing} not found"));
    }
    if let Some(missing) = opportunity_ids.iter().find(|id| !w.opportunities.iter().any(|o| o.id == **id)) {
        return error(StatusCode::NOT_FOUND, &format!("Opportunity {missing} not found"));
    }
    let note = world::Note {
        id: w.new_id(),
        creator_id,
        person_ids,
        organization_ids,
        opportunity_ids,
        parent_id,
        interaction_id: None,
        content,
        note_type,
        created_at,
    };
    w.notes.push(note.clone());
    (StatusCode::CREATED, Json(render::note(&note))).into_response()
}

async fn create_organization(State(s): Ctx, Input(body): Input) -> Response {
    let name = body_text(&body, "name");
    if name.is_empty() {
        return invalid("name is required");
    }
    let domain = Some(body_text(&body, "domain").to_lowercase()).filter(|d| !d.is_empty());
    let person_ids = try_r!(body_ids(&body, "person_ids"));
    let mut w = s.world.write().expect("world lock");
    let org = world::Organization {
        id: w.new_id(),
        name,
        domains: domain.iter().cloned().collect(),
        domain,
        global: false,
        person_ids,
        activity: Default::default(),
        enriched: None,
    };
    w.add_organization(org.clone());
    (StatusCode::CREATED, Json(render::organization(&w, &org, With { detail: true, ..Default::default() })))
        .into_response()
}

async fn create_person(State(s): Ctx, Input(body): Input) -> Response {
    let (first_name, last_name) = (body_text(&body, "first_name"), body_text(&body, "last_name"));
    if first_name.is_empty() || last_name.is_empty() {
        return invalid("first_name and last_name are required");
    }
    let emails: Vec<String> = match body.get("emails") {
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|e| e.trim().to_lowercase())
            // An empty form array (`emails[]=`) is sent as one empty value.
            .filter(|e| !e.is_empty())
            .collect(),
        Some(Value::String(one)) => Some(one.trim().to_lowercase()).filter(|e| !e.is_empty()).into_iter().collect(),
        None => return invalid("emails is required (it may be empty)"),
        _ => return invalid("emails must be an array of strings"),
    };
    let organization_ids = try_r!(body_ids(&body, "organization_ids"));
    let mut w = s.world.write().expect("world lock");
    if let Some(taken) = emails.iter().find(|e| w.persons.iter().any(|p| p.emails.contains(e))) {
        return invalid(&format!("A person with the email {taken} already exists"));
    }
    let person = world::Person {
        id: w.new_id(),
        person_type: 0,
        first_name,
        last_name,
        emails,
        organization_ids: organization_ids.clone(),
        activity: Default::default(),
    };
    for org in &organization_ids {
        if let Some(o) = w.organizations.iter_mut().find(|o| o.id == *org) {
            o.person_ids.push(person.id);
        }
    }
    w.add_person(person.clone());
    (StatusCode::CREATED, Json(render::person(&w, &person, With { detail: true, ..Default::default() })))
        .into_response()
}
