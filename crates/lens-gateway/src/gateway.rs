//! The gateway for the `<affinity-card>` web component: it holds the firm's Affinity API
//! key, answers `GET /affinity/card?…` with the Card JSON computed by the lookup engine,
//! and forwards nothing else.
//!
//! It is run by the firm for everybody, so every request passes, in this order:
//!
//! 1. the Host check (421 unless the listen address or a `--public-host`: no DNS rebinding);
//! 2. the Origin check (403 for a page of an origin not allowed, before any look-up);
//! 3. CORS (preflights answered here);
//! 4. the caller's identity (a client token, or the SSO proxy's user header from a trusted
//!    proxy address; 401 otherwise);
//! 5. the card cache (a card looked up lately costs nothing);
//! 6. the monthly reserve (below it, cached cards only) and the caller's per-minute limit
//!    of cold look-ups (429 with `Retry-After`);
//! 7. the look-up, shared by identical requests in flight, cut at a deadline (a partial
//!    card, marked), with private lists left out.
//!
//! One client (one response cache, one limiter) serves every caller; every map and cache
//! is bounded; everything is counted in `/metrics`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use affinity_api::cache::{CacheEntry, CacheStore, MemoryCache};
use affinity_api::clock::{BoxFuture, Clock, SystemClock};
use affinity_api::coalesce::Coalescer;
use affinity_api::limiter::{LimiterConfig, RateLimiter};

use affinity_api::{Client, ClientConfig, endpoints};
use lens_core::{
    Card, CardStatus, LensClient, PageError, PageHints, Query, QueryKind, lookup_card_hinted, resolve_page,
};
use sha2::Digest;

use crate::connections::{Connections, Refused, Slot, Streams};
use crate::shared_state::RedisState;
use axum::extract::{ConnectInfo, Query as Params, Request, State};
pub use axum::http::HeaderName;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How callers prove who they are. At least one way must be set, or `no_auth` (a loopback
/// demo only).
#[derive(Clone, Default)]
pub struct CallerAuth {
    /// Tokens callers send as `Authorization: Bearer <token>`.
    pub tokens: Vec<String>,
    /// For each token (same order; missing or empty: any), the origins whose pages may use it:
    /// a token that leaks from an intranet page is refused from anywhere else, and from a
    /// request without an `Origin`.
    pub token_origins: Vec<Vec<String>>,
    /// The header in which the firm's SSO proxy names the user (e.g. `X-Forwarded-Email`).
    pub trusted_user_header: Option<HeaderName>,
    /// Addresses of that proxy: the header is believed only from them.
    pub trusted_proxies: Vec<IpAddr>,
    /// Everyone who can reach the gateway may use it.
    pub no_auth: bool,
}

/// How the gateway runs.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Affinity's (or the sandbox's) base URL.
    pub base_url: String,
    /// The API key. Never logged, never sent to callers.
    pub api_key: String,
    /// The address it listens on: a request's Host must be this or a public host.
    pub listen: SocketAddr,
    /// Host names (with the port, if not the default) under which callers reach it.
    pub public_hosts: Vec<String>,
    /// Origins whose pages may call the gateway. A request from another origin is refused.
    pub allow_origins: Vec<String>,
    pub auth: CallerAuth,
    /// Cold look-ups (ones not answered from the card cache) a caller may start a minute.
    pub caller_per_min: u32,
    /// Affinity calls a caller's look-ups may make a minute (with Redis, across replicas).
    pub caller_calls_per_min: u32,
    /// Below this share of the month's budget left (percent), only cached cards are served.
    pub reserve_percent: f64,
    /// Lists that are not public in Affinity but may be shown on cards anyway (by name).
    pub show_lists: Vec<String>,
    /// The longest a card may take; after it, a partial card (or an error) is answered.
    pub card_deadline: Duration,
    /// A connection that has not sent a whole request head within this is closed (also
    /// an idle keep-alive connection).
    pub header_timeout: Duration,
    /// Connections open at once; more are closed at once.
    pub max_connections: usize,
    /// Connections open at once from one address (the trusted proxies excepted): one client
    /// cannot take every place.
    pub max_connections_per_ip: usize,
    /// Live streams (`/affinity/events`) open at once; they do not count as connections.
    pub max_streams: usize,
    /// Live streams one caller may hold open.
    pub max_streams_per_caller: usize,
    /// Bytes of Affinity answers cached.
    pub cache_bytes: usize,
    /// How long a card is served from the card cache without a look-up.
    pub card_fresh_for: Duration,
    /// Affinity's per-minute limit for the key.
    pub rate_limit_per_min: u32,
    /// State shared with the other replicas (Redis), if any.
    pub redis: Option<Arc<RedisState>>,
    /// Where Affinity's webhooks reach this gateway, if they do.
    pub webhook: Option<WebhookConfig>,
}

/// The public address of the gateway for Affinity's webhooks, and the secret in its path.
#[derive(Clone)]
pub struct WebhookConfig {
    /// The gateway's public base URL, e.g. `https://lens.intranet.example`.
    pub public_url: String,
    /// A secret only Affinity and the gateway know; part of the URL Affinity calls.
    pub secret: String,
}

impl WebhookConfig {
    /// The URL Affinity is asked to call.
    pub fn url(&self) -> String {
        format!("{}/affinity/webhook/{}", self.public_url.trim_end_matches('/'), self.secret)
    }
}

impl GatewayConfig {
    /// The defaults for everything but where Affinity is, the key and the address.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>, listen: SocketAddr) -> Self {
        GatewayConfig {
            base_url: base_url.into(),
            api_key: api_key.into(),
            listen,
            public_hosts: Vec::new(),
            allow_origins: Vec::new(),
            auth: CallerAuth::default(),
            caller_per_min: 60,
            caller_calls_per_min: 300,
            reserve_percent: 10.0,
            show_lists: Vec::new(),
            card_deadline: Duration::from_secs(8),
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_connections_per_ip: 64,
            max_streams: 512,
            max_streams_per_caller: 4,
            cache_bytes: 64 << 20,
            card_fresh_for: Duration::from_secs(300),
            rate_limit_per_min: 900,
            redis: None,
            webhook: None,
        }
    }
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("base_url", &self.base_url)
            .field("listen", &self.listen)
            .field("public_hosts", &self.public_hosts)
            .field("allow_origins", &self.allow_origins)
            .field("tokens", &self.auth.tokens.len())
            .field("trusted_user_header", &self.auth.trusted_user_header)
            .finish_non_exhaustive()
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
struct Caller(String);

/// What happened to a request, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Outcome {
    Card,
    Cached,
    Partial,
    Reserve,
    CallerLimited,
    BadRequest,
    Unauthorized,
    WrongHost,
    WrongOrigin,
    NotFound,
    Index,
    IndexNotModified,
    IndexUnavailable,
}

impl Outcome {
    const ALL: [Outcome; 13] = [
        Outcome::Card,
        Outcome::Cached,
        Outcome::Partial,
        Outcome::Reserve,
        Outcome::CallerLimited,
        Outcome::BadRequest,
        Outcome::Unauthorized,
        Outcome::WrongHost,
        Outcome::WrongOrigin,
        Outcome::NotFound,
        Outcome::Index,
        Outcome::IndexNotModified,
        Outcome::IndexUnavailable,
    ];
    fn name(self) -> &'static str {
        match self {
            Outcome::Card => "card",
            Outcome::Cached => "cached",
            Outcome::Partial => "partial",
            Outcome::Reserve => "reserve",
            Outcome::CallerLimited => "caller_limited",
            Outcome::BadRequest => "bad_request",
            Outcome::Unauthorized => "unauthorized",
            Outcome::WrongHost => "wrong_host",
            Outcome::WrongOrigin => "wrong_origin",
            Outcome::NotFound => "not_found",
            Outcome::Index => "index",
            Outcome::IndexNotModified => "index_not_modified",
            Outcome::IndexUnavailable => "index_unavailable",
        }
    }
}

#[derive(Default)]
struct Metrics {
    outcomes: Mutex<HashMap<&'static str, u64>>,
    /// Connections closed at once: the gateway was full.
    refused_connections: AtomicU64,
    /// Connections closed at once: their address held its share.
    refused_per_address: AtomicU64,
    /// Look-ups running (also those whose callers have left).
    running: AtomicU64,
    /// Requests from browser extensions (an extension origin).
    from_extensions: AtomicU64,
}

/// Counts a running look-up while it lives.
struct Running<'a>(&'a AtomicU64);

impl<'a> Running<'a> {
    fn new(counter: &'a AtomicU64) -> Running<'a> {
        counter.fetch_add(1, Ordering::SeqCst);
        Running(counter)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Metrics {
    fn count(&self, outcome: Outcome) {
        *self.outcomes.lock().expect("metrics lock").entry(outcome.name()).or_default() += 1;
    }
}

/// Most callers tracked for the per-caller limit; idle ones are forgotten first.
const MAX_CALLERS: usize = 10_000;

struct GatewayState {
    client: LensClient,
    connections: Arc<Connections>,
    streams: Arc<Streams>,
    response_cache: Arc<MemoryCache>,
    cards: MemoryCache,
    lookups: Coalescer<Card>,
    /// Partial cards of look-ups in flight, by card key.
    partials: Mutex<HashMap<String, Card>>,
    /// Each caller's per-minute window of cold look-ups, and when it last started one.
    callers: Mutex<HashMap<String, (Arc<RateLimiter>, u64)>>,
    config: GatewayConfig,
    hosts: Vec<String>,
    metrics: Metrics,
    clock: SystemClock,
    /// What changed (JSON), for live cards: fed by this replica or, with Redis, by all.
    changes: Arc<crate::live::Feed>,
    /// The cards each caller asked for: what its live stream may hear of.
    asked: crate::live::Asked,
    /// The Affinity calls each caller's look-ups made lately.
    calls: crate::callers::CallerCalls,
    /// When the month's budget was last read on purpose (ms since the epoch).
    budget_read_ms: AtomicU64,
    /// The cached cards by reference (what a webhook event touches).
    index: crate::webhooks::CardIndex,
    /// The webhook events received lately (a replay is ignored).
    seen: crate::webhooks::Seen,
    /// Webhook events' references, handled in batches by [`drop_changes`].
    events: tokio::sync::mpsc::Sender<Vec<String>>,
    /// The index of the firm's companies (`GET /affinity/index`).
    companies: Arc<crate::index::IndexKeeper>,
}

/// The gateway: its state and routes.
#[derive(Clone)]
pub struct Gateway {
    shared: Arc<GatewayState>,
}

impl Gateway {
    /// A gateway with its own client (cache and limiter shared by all its callers).
    pub fn new(config: GatewayConfig) -> Self {
        let response_cache = Arc::new(MemoryCache::bounded(50_000, config.cache_bytes));
        let client = gateway_client(&config, response_cache.clone());
        let changes = Arc::new(crate::live::Feed::default());
        let companies = crate::index::IndexKeeper::new(
            client.clone(),
            config.redis.clone(),
            config.show_lists.clone(),
            config.reserve_percent,
            config.webhook.is_some(),
        );
        if let Some(redis) = &config.redis {
            relay_changes(redis, changes.clone(), client.account().clone(), Arc::downgrade(&companies));
        }
        let mut hosts = vec![config.listen.to_string()];
        if config.listen.ip().is_loopback() {
            hosts.push(format!("localhost:{}", config.listen.port()));
        }
        hosts.extend(config.public_hosts.iter().map(|h| h.to_ascii_lowercase()));
        let (events, received) = tokio::sync::mpsc::channel(1024);
        let calls = crate::callers::CallerCalls::new(config.caller_calls_per_min);
        let gateway = Gateway {
            shared: Arc::new(GatewayState {
                client,
                connections: Connections::new(
                    config.max_connections,
                    config.max_connections_per_ip,
                    config.auth.trusted_proxies.clone(),
                ),
                streams: Streams::new(config.max_streams, config.max_streams_per_caller),
                response_cache,
                cards: MemoryCache::bounded(20_000, (config.cache_bytes / 4).max(1 << 20)),
                lookups: Coalescer::new(4096),
                partials: Mutex::new(HashMap::new()),
                callers: Mutex::new(HashMap::new()),
                hosts,
                config,
                metrics: Metrics::default(),
                clock: SystemClock,
                changes,
                asked: Default::default(),
                calls,
                budget_read_ms: AtomicU64::new(0),
                index: Default::default(),
                seen: Default::default(),
                events,
                companies,
            }),
        };
        gateway.shared.companies.start();
        tokio::spawn(drop_changes(Arc::downgrade(&gateway.shared), received));
        gateway
    }

    /// Requests sent to Affinity so far.
    pub fn affinity_requests(&self) -> u64 {
        self.shared.client.requests_sent()
    }

    /// Reads the month's budget and the lists (two calls, once), and says at start what
    /// is hidden. Failures are logged, not fatal: the look-ups read both again.
    pub async fn prepare(&self) {
        if let Err(e) = self.shared.client.rate_limit().await {
            eprintln!("gateway: could not read the month's budget yet ({})", e.kind());
        }
        match hidden_lists(&self.shared).await {
            Ok(hidden) if hidden.is_empty() => eprintln!("gateway: every list is public; none is hidden"),
            // Ids, not names: a list's name can be the secret itself, and logs travel.
            Ok(hidden) => eprintln!(
                "gateway: {} list(s) hidden from cards because they are not public in Affinity (ids {}; show one with --show-list NAME)",
                hidden.len(),
                hidden.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(", ")
            ),
            Err(e) => eprintln!("gateway: could not read the lists yet ({}); private lists stay hidden", e.kind()),
        }
        // The first sync of a small firm is done before the gateway listens; a large one goes
        // on while it serves (the index answers 503 until then).
        if !self.shared.companies.ready_within(INDEX_WAIT_AT_START).await {
            eprintln!("gateway: the index is still syncing: /affinity/index answers 503 until it is ready");
        }
    }

    /// The routes: `/affinity/card`, `/healthz`, `/metrics`, and 404 for everything else.
    pub fn router(&self) -> Router {
        let origins: Vec<HeaderValue> =
            self.shared.config.allow_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET])
            .allow_headers([header::AUTHORIZATION, HeaderName::from_static(LENS_HEADER)])
            .allow_credentials(true);
        let authenticated = Router::new()
            .route("/affinity/card", get(card))
            .route("/affinity/events", get(events))
            .route("/affinity/index", get(index))
            .route("/metrics", get(metrics))
            .layer(middleware::from_fn_with_state(self.shared.clone(), require_caller));
        // What anyone may ask (no identity) has a short time budget for the whole request.
        let unauthenticated = Router::new()
            .route("/healthz", get(healthz))
            .route("/affinity/webhook/{secret}", axum::routing::post(webhook))
            .fallback(|State(shared): State<Arc<GatewayState>>| async move {
                shared.metrics.count(Outcome::NotFound);
                not_found_closing()
            })
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                UNAUTHENTICATED_TIME,
            ));
        Router::new()
            .merge(authenticated)
            .merge(unauthenticated)
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_TIME))
            .layer(cors)
            .layer(middleware::from_fn_with_state(self.shared.clone(), check_origin))
            .layer(middleware::from_fn_with_state(self.shared.clone(), check_host))
            .layer(middleware::from_fn(log_request))
            .with_state(self.shared.clone())
    }

    /// Serves until the process ends: at most `max_connections` at once, each closed when
    /// it sends no whole request head within `header_timeout`.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;
        use tower::ServiceExt;

        let router = self.router();
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    eprintln!("gateway: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let place = match self.shared.connections.admit(peer.ip()) {
                Ok(place) => place,
                Err(why) => {
                    let counter = match why {
                        Refused::Full => &self.shared.metrics.refused_connections,
                        Refused::Address => &self.shared.metrics.refused_per_address,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    drop(stream);
                    continue;
                }
            };
            let slot = Slot::new(place);
            let held = slot.clone();
            let service = router.clone().map_request(move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(slot.clone());
                request.map(axum::body::Body::new)
            });
            let header_timeout = self.shared.config.header_timeout;
            tokio::spawn(async move {
                let _place = held;
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let _ = connection.await;
            });
        }
    }
}

/// At most this much of a value a log line quotes.
const LOGGED_CHARS: usize = 80;

/// A value for a log line: quoted and escaped (no control character of the request reaches
/// the log: one request is one line), at most [`LOGGED_CHARS`] characters.
fn logged(value: &str) -> String {
    let cut: String = value.chars().take(LOGGED_CHARS).collect();
    let more = if value.chars().count() > LOGGED_CHARS { "…" } else { "" };
    format!("{:?}{more}", cut)
}

/// One line per request: method, path, what was looked up (never an email or a person's
/// profile), status, time. No key, no token, no user name; every value from the request
/// escaped ([`logged`]).
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path();
    // The webhook URL's last segment is a secret.
    let path = match path.strip_prefix("/affinity/webhook/") {
        Some(rest) if !rest.is_empty() => "/affinity/webhook/…".to_owned(),
        _ => logged(path),
    };
    let looked_up = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| match k.as_ref() {
                    "domain" | "organization_id" | "person_id" => format!("{k}={}", logged(&v)),
                    "email" | "linkedin" | "cards" => format!("{k}=…"),
                    _ => "…".to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .map(|q| format!(" {q}"))
        .unwrap_or_default();
    let response = next.run(request).await;
    eprintln!("{method} {path}{looked_up} {} {}ms", response.status().as_u16(), started.elapsed().as_millis());
    response
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// 421 unless the Host is the listen address or a public host: a DNS-rebinding page (its
/// own name pointing at us) gets nothing.
async fn check_host(State(shared): State<Arc<GatewayState>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .map(str::to_ascii_lowercase);
    match host {
        Some(h) if shared.hosts.contains(&h) => next.run(request).await,
        _ => {
            shared.metrics.count(Outcome::WrongHost);
            refuse(StatusCode::MISDIRECTED_REQUEST, "this gateway does not answer for that host name")
        }
    }
}

/// The header a page cannot send to another origin without the browser asking the gateway
/// first (a CORS preflight, which only the allowed origins pass): the web component and the
/// extension send it; a script elsewhere (server to server) sends it too.
pub const LENS_HEADER: &str = "x-affinity-lens";

/// Whether an `Origin` is a browser extension's (`chrome-extension://…`, `moz-extension://…`):
/// a web page can never send one, and Firefox's differs for every install, so no admin can
/// list it; the caller's identity is still required.
fn is_extension_origin(origin: &str) -> bool {
    ["chrome-extension://", "moz-extension://", "safari-web-extension://"].iter().any(|s| origin.starts_with(s))
}

/// A page of an origin that is not allowed is refused before anything is looked up, so it
/// cannot time known and unknown companies either. A request without an `Origin` (a no-cors
/// or same-origin GET) that would be identified by the browser's cookies (the SSO proxy's
/// user header, no token) is refused too, unless it shows it was not sent by another site:
/// the [`LENS_HEADER`], or `Sec-Fetch-Site: same-origin` or `none`.
async fn check_origin(State(shared): State<Arc<GatewayState>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    match headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or_default()) {
        Some(o) if shared.config.allow_origins.iter().any(|a| a == o) => {}
        Some(o) if is_extension_origin(o) => {
            shared.metrics.from_extensions.fetch_add(1, Ordering::Relaxed);
        }
        Some(_) => {
            shared.metrics.count(Outcome::WrongOrigin);
            return refuse(StatusCode::FORBIDDEN, "pages of this origin may not use the gateway");
        }
        None => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer "));
            // A caller named by the firm's proxy (its SSO cookie): a browser sent it, maybe
            // for a page of another site. Anyone else is refused (401) by `authenticate`.
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
            let auth = &shared.config.auth;
            let by_cookie = !bearer
                && auth.trusted_user_header.as_ref().is_some_and(|name| headers.contains_key(name))
                && peer.is_some_and(|p| auth.trusted_proxies.contains(&p));
            let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
            let not_another_site = headers.contains_key(LENS_HEADER) || matches!(site, Some("same-origin" | "none"));
            if by_cookie && !not_another_site && request.uri().path() != "/healthz" {
                shared.metrics.count(Outcome::WrongOrigin);
                return refuse(
                    StatusCode::FORBIDDEN,
                    "a request without an Origin must carry the X-Affinity-Lens header (pages of other sites cannot)",
                );
            }
        }
    }
    next.run(request).await
}

/// Who the caller is: a token's number, or the SSO user from a trusted proxy.
fn identify(config: &CallerAuth, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<Caller> {
    use subtle::ConstantTimeEq;
    if let Some(sent) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    {
        // Every token is compared, in constant time, whichever matches.
        let mut found = None;
        for (i, token) in config.tokens.iter().enumerate() {
            if bool::from(token.as_bytes().ct_eq(sent.as_bytes())) {
                found = Some(i);
            }
        }
        if let Some(i) = found {
            let origins = config.token_origins.get(i).map(Vec::as_slice).unwrap_or_default();
            let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
            if !origins.is_empty() && !origin.is_some_and(|o| origins.iter().any(|a| a == o)) {
                return None;
            }
            return Some(Caller(format!("token:{}", i + 1)));
        }
    }
    if let (Some(name), Some(peer)) = (&config.trusted_user_header, peer)
        && config.trusted_proxies.contains(&peer)
        && let Some(user) = headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|u| !u.is_empty())
    {
        return Some(Caller(format!("user:{}", user.to_lowercase())));
    }
    config.no_auth.then(|| Caller("anyone".into()))
}

async fn require_caller(State(shared): State<Arc<GatewayState>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match identify(&shared.config.auth, request.headers(), peer) {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            shared.metrics.count(Outcome::Unauthorized);
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                "the gateway needs to know who is asking: send its client token, or come through the firm's sign-in",
            );
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
    }
}

/// What a page shows besides its URL, as the card API takes it: a LinkedIn profile's
/// name, headline and current company (its name, its LinkedIn page), a company page's
/// website.
const PERSON_HINTS: [&str; 4] = ["name", "headline", "company", "company_url"];
const COMPANY_HINTS: [&str; 1] = ["website"];

/// The query and the page's hints a card request asks for, or why it is not one. Hints go
/// with a LinkedIn profile (`linkedin_person`, or `linkedin` naming one) or company page;
/// each at most 2,048 bytes, then trimmed and cut as the extension's are
/// ([`PageHints::cleaned`]). A company page's website, when given, must be a domain: the
/// card is then that domain's, as in personal mode.
fn card_request(params: &HashMap<String, String>) -> Result<(Query, PageHints), String> {
    let is_hint = |k: &str| PERSON_HINTS.contains(&k) || COMPANY_HINTS.contains(&k);
    let (hints, rest): (HashMap<String, String>, HashMap<String, String>) =
        params.iter().map(|(k, v)| (k.clone(), v.clone())).partition(|(k, _)| is_hint(k));
    let query = query_of(&rest)?;
    let hints: HashMap<String, String> = hints.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    if hints.is_empty() {
        return Ok((query, PageHints::default()));
    }
    let allowed: &[&str] = match query.kind {
        QueryKind::LinkedinPerson => &PERSON_HINTS,
        QueryKind::LinkedinCompany => &COMPANY_HINTS,
        _ => &[],
    };
    let mut keys: Vec<&String> = hints.keys().collect();
    keys.sort();
    if let Some(stray) = keys.iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{stray} is not a hint of this query: name, headline, company and company_url go with linkedin_person, website with linkedin_company"
        ));
    }
    if let Some(long) = keys.iter().find(|k| hints[k.as_str()].len() > 2048) {
        return Err(format!("{long} is too long"));
    }
    let hint = |k: &str| hints.get(k).cloned();
    let hints = PageHints {
        title: None,
        name: hint("name"),
        headline: hint("headline"),
        company: hint("company"),
        company_url: hint("company_url"),
        website: hint("website"),
    }
    .cleaned();
    let Some(site) = hints.website.as_deref() else { return Ok((query, hints)) };
    let url = if site.contains("://") { site.to_owned() } else { format!("https://{site}") };
    match lens_core::resolve_page_with_hints(&query.value, &hints, &[]) {
        Ok(q) if q.kind == QueryKind::Domain && resolve_page(&url, &[]).is_ok() => Ok((q, hints)),
        _ => Err(format!("website {:?} is not a domain", site.chars().take(80).collect::<String>())),
    }
}

/// The query a card request asks for, or why it is not one.
fn query_of(params: &HashMap<String, String>) -> Result<Query, String> {
    let given: Vec<(&String, &String)> = params.iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let [(key, value)] = given.as_slice() else {
        return Err(
            "give exactly one of domain, email, linkedin, linkedin_person, linkedin_company, organization_id, person_id"
                .into(),
        );
    };
    let value = value.trim();
    if value.len() > 2048 {
        return Err(format!("{key} is too long"));
    }
    let id = |kind| {
        value
            .parse::<i64>()
            .map(|_| Query { kind, value: value.to_owned() })
            .map_err(|_| format!("{key} must be a number"))
    };
    match key.as_str() {
        "domain" => {
            let url = if value.contains("://") { value.to_owned() } else { format!("https://{value}") };
            match resolve_page(&url, &[]) {
                Ok(q) if q.kind == QueryKind::Domain => Ok(q),
                Err(PageError::Ignored(q)) => Ok(q),
                _ => Err(format!("{value:?} is not a domain")),
            }
        }
        "email" => match value.split_once('@') {
            Some((u, d)) if !u.is_empty() && d.contains('.') => {
                Ok(Query { kind: QueryKind::Email, value: value.to_lowercase() })
            }
            _ => Err("that is not an email address".into()),
        },
        "linkedin" => match resolve_page(value, &[]) {
            Ok(q) if matches!(q.kind, QueryKind::LinkedinPerson | QueryKind::LinkedinCompany) => Ok(q),
            _ => Err("that is not a LinkedIn profile or company URL".into()),
        },
        "linkedin_person" => match resolve_page(value, &[]) {
            Ok(q) if q.kind == QueryKind::LinkedinPerson => Ok(q),
            _ => Err("linkedin_person must be a LinkedIn profile URL (https://www.linkedin.com/in/…)".into()),
        },
        "linkedin_company" => match resolve_page(value, &[]) {
            Ok(q) if q.kind == QueryKind::LinkedinCompany => Ok(q),
            _ => {
                Err("linkedin_company must be a LinkedIn company page URL (https://www.linkedin.com/company/…)".into())
            }
        },
        "organization_id" => id(QueryKind::OrganizationId),
        "person_id" => id(QueryKind::PersonId),
        other => Err(format!("unknown parameter {other:?}")),
    }
}

fn now_ms(shared: &GatewayState) -> u64 {
    shared.clock.now().as_millis() as u64
}

/// The cached card for `key`: the shared one while Redis answers, else this replica's. A card
/// from Redis is made what this gateway may show again (its own `--show-list`): Redis is
/// shared, and trusted no more than it must be.
async fn cached_card(shared: &GatewayState, key: &str) -> Option<(Card, u64)> {
    match shared.redis() {
        // While Redis answers it is the truth: a webhook may have dropped a card there that
        // this replica still holds.
        Some(redis) => {
            let entry = redis.card_get(key).await?;
            let card = serde_json::from_str(&entry.body).ok()?;
            Some((finish_card(shared, card).await, entry.stored_at_ms))
        }
        None => {
            let entry = shared.cards.get(key)?;
            Some((serde_json::from_str(&entry.body).ok()?, entry.stored_at_ms))
        }
    }
}

/// Keeps a card here and, with Redis, for every replica.
async fn store_card(shared: &GatewayState, key: &str, card: &Card) {
    let entry = CacheEntry { body: serde_json::to_string(card).unwrap_or_default(), stored_at_ms: now_ms(shared) };
    if let Some(redis) = &shared.config.redis {
        let ttl = shared.config.card_fresh_for;
        redis.card_put(key, &entry, &crate::webhooks::card_refs(card), ttl).await;
        if let Some(budget) = shared.client.limiter().monthly() {
            redis.budget_put(&budget).await;
        }
    }
    shared.index.add(key, &crate::webhooks::card_refs(card));
    shared.cards.put(key, entry);
}

impl GatewayState {
    /// Redis, while it answers.
    fn redis(&self) -> Option<&Arc<RedisState>> {
        use affinity_api::shared::SharedState;
        self.config.redis.as_ref().filter(|r| r.available())
    }

    /// The month's budget as last seen here or, with Redis, by any replica.
    async fn monthly(&self) -> Option<affinity_api::limiter::MonthlyBudget> {
        let here = self.client.limiter().monthly();
        let everywhere = match self.redis() {
            Some(redis) => redis.budget_get().await,
            None => None,
        };
        let budget = match (here, everywhere) {
            // The lower figure is the later one: a month's budget only goes down.
            (Some(a), Some(b)) => {
                Some(if b.remaining.unwrap_or(i64::MAX) < a.remaining.unwrap_or(i64::MAX) { b } else { a })
            }
            (a, b) => a.or(b),
        };
        // Past the month's reset the figure says nothing any more: the next answer (or a read
        // of /rate-limit) tells the new month's.
        budget.filter(|b| b.resets_at_ms.is_none_or(|at| at > now_ms(self)))
    }

    /// Reads the month's budget again (`GET /rate-limit`, which the month does not count), at
    /// most every [`BUDGET_READ_EVERY`]: in reserve mode no look-up refreshes it, and it must
    /// not outlive the month's reset.
    fn refresh_budget(self: &Arc<Self>) {
        let now = now_ms(self);
        let last = self.budget_read_ms.load(Ordering::SeqCst);
        if now.saturating_sub(last) < BUDGET_READ_EVERY.as_millis() as u64
            || self.budget_read_ms.compare_exchange(last, now, Ordering::SeqCst, Ordering::SeqCst).is_err()
        {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Ok(_rate) = this.client.rate_limit().await
                && let (Some(redis), Some(budget)) = (this.redis(), this.client.limiter().monthly())
            {
                redis.budget_put(&budget).await;
            }
        });
    }
}

/// The gateway's one client: its response cache, a limiter at the key's per-minute limit that
/// fails fast at the card deadline, and Redis's shared state when given.
fn gateway_client(config: &GatewayConfig, response_cache: Arc<MemoryCache>) -> LensClient {
    let limiter = RateLimiter::new(LimiterConfig {
        per_minute: config.rate_limit_per_min,
        // A card someone is waiting for fails fast with its retry time rather than hang.
        max_wait: Some(config.card_deadline),
        ..LimiterConfig::default()
    });
    let mut builder = Client::builder(
        ClientConfig::new(&config.base_url, &config.api_key),
        affinity_api::transport::ReqwestTransport::new(),
    )
    .cache(response_cache)
    .cache_policy(affinity_api::cache::CachePolicy {
        fresh_for: config.card_fresh_for,
        ..affinity_api::cache::CachePolicy::default()
    })
    .limiter(Arc::new(limiter));
    if let Some(redis) = &config.redis {
        builder = builder.shared(redis.clone());
    }
    LensClient::new(builder, Default::default())
}

/// Every replica's changes reach this one's live cards, and a change of lists or fields
/// (another replica's webhook) this one's remembered context.
fn relay_changes(
    redis: &Arc<RedisState>,
    to_here: Arc<crate::live::Feed>,
    account: Arc<lens_core::account::Account>,
    companies: std::sync::Weak<crate::index::IndexKeeper>,
) {
    let mut from_all = redis.subscribe();
    tokio::spawn(async move {
        loop {
            match from_all.recv().await {
                Ok(message) if message.starts_with("{\"index\"") => {
                    // The index's log grew, or a sync stored a snapshot.
                    if let Some(companies) = companies.upgrade() {
                        companies.notice();
                    }
                }
                Ok(message) => {
                    if serde_json::from_str::<serde_json::Value>(&message)
                        .is_ok_and(|m| m.get("meta").and_then(serde_json::Value::as_bool) == Some(true))
                    {
                        account.forget_context();
                    }
                    to_here.send(message);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            }
        }
    });
}

/// The key a card looked up with hints is kept under: its query's, and a digest of the
/// hints (`linkedin_person:https://www.linkedin.com/in/jane#0123456789abcdef`).
fn hinted_key(key: &str, hints: &PageHints) -> String {
    if hints.is_empty() {
        return key.to_owned();
    }
    let text = serde_json::to_string(hints).unwrap_or_default();
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!("{key}#{}", digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>())
}

/// The key of a card: its query as the web component names it (`domain:acme.test`).
fn card_key(query: &Query) -> String {
    let kind = serde_json::to_value(query.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    format!("{kind}:{}", query.value)
}

fn card_response(card: &Card, max_age: u64) -> Response {
    let mut response = Json(card).into_response();
    let cache = HeaderValue::from_str(&format!("private, max-age={max_age}")).expect("ascii");
    response.headers_mut().insert(header::CACHE_CONTROL, cache);
    response
}

/// `GET /affinity/card`: a card from the cache while it is fresh; below the month's reserve,
/// cached cards only; else a look-up within the caller's limit, shared with identical
/// requests in flight and answered by the deadline.
async fn card(
    State(shared): State<Arc<GatewayState>>,
    axum::Extension(caller): axum::Extension<Caller>,
    Params(params): Params<HashMap<String, String>>,
) -> Response {
    let (query, hints) = match card_request(&params) {
        Ok(asked) => asked,
        Err(message) => {
            shared.metrics.count(Outcome::BadRequest);
            return refuse(StatusCode::BAD_REQUEST, &message);
        }
    };
    // A card looked up with hints is kept apart (namesakes); live streams follow its query.
    let followed = card_key(&query);
    let key = hinted_key(&followed, &hints);
    shared.asked.record(&caller.0, &followed);
    if let Some(redis) = shared.redis().cloned() {
        // For a live stream served by another replica (the card is not kept waiting).
        let (caller, key) = (caller.0.clone(), followed);
        tokio::spawn(async move { redis.asked(&caller, Some(&key), &[]).await });
    }
    let now = now_ms(&shared);
    let fresh_ms = shared.config.card_fresh_for.as_millis() as u64;
    let cached = cached_card(&shared, &key).await;

    // A card looked up lately is free.
    if let Some((card, stored)) = &cached
        && now.saturating_sub(*stored) < fresh_ms
    {
        shared.metrics.count(Outcome::Cached);
        return card_response(card, 60);
    }
    if let Some(card) = below_reserve(&shared, &query, &cached).await {
        shared.metrics.count(Outcome::Reserve);
        return card_response(&card, 60);
    }
    if let Err(wait) = caller_limiter(&shared, &caller, now).acquire(shared.clock.now()) {
        shared.metrics.count(Outcome::CallerLimited);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let message = format!("too many new look-ups from you this minute: try again in {secs} s");
        let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, &message);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return response;
    }
    // The caller's share of Affinity's calls (on every replica, with Redis).
    let spent = caller_spent(&shared, &caller.0, 0, now).await;
    if let Err(wait_ms) = shared.calls.room(&caller.0, spent, now) {
        shared.metrics.count(Outcome::CallerLimited);
        let secs = wait_ms.div_ceil(1000);
        let message = format!(
            "your look-ups used {spent} of Affinity's calls this minute (your share is {}): try again in {secs} s",
            shared.calls.per_min()
        );
        let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, &message);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return response;
    }
    // The look-up, shared with identical requests in flight, awaited until the deadline (it
    // goes on after it, for the next caller).
    let work = {
        let (shared, query, key, caller) = (shared.clone(), query.clone(), key.clone(), caller.0.clone());
        move || spawn_look_up(shared, query, hints, key, caller)
    };
    match tokio::time::timeout(shared.config.card_deadline, shared.lookups.run(&key, work)).await {
        Ok(card) => {
            shared.metrics.count(Outcome::Card);
            card_response(&card, 60)
        }
        Err(_) => {
            shared.metrics.count(Outcome::Partial);
            card_response(&past_deadline(&shared, query, &key, cached).await, 0)
        }
    }
}

/// `GET /affinity/index`: the firm's index without the lists cards leave out (see
/// [`crate::index::answer`]). An unchanged index (`If-None-Match`) costs nothing; a whole one
/// counts as one of the caller's look-ups of the minute.
async fn index(
    State(shared): State<Arc<GatewayState>>,
    axum::Extension(caller): axum::Extension<Caller>,
    headers: HeaderMap,
) -> Response {
    use crate::index::Answer;
    let served = shared.companies.served();
    let wanted = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    match crate::index::answer(served.as_deref(), wanted) {
        Answer::NotModified => shared.metrics.count(Outcome::IndexNotModified),
        Answer::Unavailable => shared.metrics.count(Outcome::IndexUnavailable),
        Answer::Whole => {
            if let Err(wait) = caller_limiter(&shared, &caller, now_ms(&shared)).acquire(shared.clock.now()) {
                shared.metrics.count(Outcome::CallerLimited);
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                let message = format!("too many requests from you this minute: try again in {secs} s");
                let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, &message);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                return response;
            }
            shared.metrics.count(Outcome::Index);
        }
    }
    crate::index::respond(served.as_deref(), wanted)
}

/// How often at most the month's budget is read on purpose.
const BUDGET_READ_EVERY: Duration = Duration::from_secs(300);

/// Below the month's reserve, the card a caller gets: the cached one, even old, or an
/// error that says why. `None` above the reserve.
async fn below_reserve(shared: &Arc<GatewayState>, query: &Query, cached: &Option<(Card, u64)>) -> Option<Card> {
    let monthly = shared.monthly().await;
    if monthly.is_none() {
        // Not known (or the month has turned): ask, without holding this card back.
        shared.refresh_budget();
    }
    let left = monthly.and_then(|m| m.percent_left()).filter(|left| *left < shared.config.reserve_percent)?;
    // In reserve mode nothing else reads the budget: read it now and then.
    shared.refresh_budget();
    if let Some((card, stored)) = cached {
        return Some(stale(card.clone(), *stored));
    }
    let mut card = Card::new(query.clone(), CardStatus::Error);
    card.error = Some(lens_core::card::CardError {
        kind: "budget_reserve".into(),
        message: format!(
            "The firm's Affinity budget for this month is down to its reserve ({left:.1}% left): only companies and people looked up before are shown."
        ),
        retry_at: monthly.and_then(|m| m.resets_at_ms).map(lens_core::card::iso_from_ms),
    });
    Some(card)
}

/// A cached card shown as stale, as of when it was stored.
fn stale(mut card: Card, stored_ms: u64) -> Card {
    card.stale = true;
    card.fetched_at = lens_core::card::iso_from_ms(stored_ms);
    card
}

/// The caller's own limiter of cold look-ups (a minute's window, no concurrency cap).
fn caller_limiter(shared: &GatewayState, caller: &Caller, now: u64) -> Arc<RateLimiter> {
    let mut callers = shared.callers.lock().expect("callers lock");
    if callers.len() >= MAX_CALLERS && !callers.contains_key(&caller.0) {
        // Forget callers whose last look-up is over a minute old: their window is empty.
        callers.retain(|_, (_, last)| now.saturating_sub(*last) < 60_000);
    }
    let (limiter, last) = callers.entry(caller.0.clone()).or_insert_with(|| {
        let config = LimiterConfig {
            per_minute: shared.config.caller_per_min,
            concurrency: u32::MAX,
            ..LimiterConfig::default()
        };
        (Arc::new(RateLimiter::new(config)), now)
    });
    *last = now;
    limiter.clone()
}

/// The Affinity calls `caller`'s look-ups made in the last minute, after adding `add`: as
/// every replica counts them in Redis, else (alone, or Redis away) as this one does.
async fn caller_spent(shared: &GatewayState, caller: &str, add: u64, now: u64) -> u64 {
    if add > 0 {
        shared.calls.spend(caller, add, now);
    }
    let mine = shared.calls.spent(caller, now);
    match shared.redis() {
        Some(redis) => redis.caller_calls(caller, add).await.map_or(mine, |all| all.max(mine)),
        None => mine,
    }
}

/// How long a look-up may go on after its callers' deadline, at most: it fills the cache for
/// the next caller, but Affinity not answering at all must not keep tasks for ever.
const LOOK_UP_LIMIT: Duration = Duration::from_secs(45);

/// The look-up of `key` on a task of its own: a caller who gives up at the deadline (or
/// leaves: a closed tab) does not stop it; the card it finds is kept for the next caller.
fn spawn_look_up(
    shared: Arc<GatewayState>,
    query: Query,
    hints: PageHints,
    key: String,
    caller: String,
) -> BoxFuture<'static, Card> {
    let failed = Card::new(query.clone(), CardStatus::Error);
    let task = tokio::spawn(async move {
        let _running = Running::new(&shared.metrics.running);
        let limit = LOOK_UP_LIMIT.max(shared.config.card_deadline * 2);
        match tokio::time::timeout(limit, look_up(&shared, &query, &hints, &key, &caller)).await {
            Ok(card) => card,
            Err(_) => unavailable(query, "Affinity did not answer in time; try again in a moment."),
        }
    });
    Box::pin(async move {
        task.await.unwrap_or_else(|_| Card {
            error: Some(lens_core::card::CardError {
                kind: "internal".into(),
                message: "the look-up stopped unexpectedly".into(),
                retry_at: None,
            }),
            ..failed
        })
    })
}

/// An error card: Affinity did not answer (`unavailable`).
fn unavailable(query: Query, message: &str) -> Card {
    let mut card = Card::new(query, CardStatus::Error);
    card.error =
        Some(lens_core::card::CardError { kind: "unavailable".into(), message: message.into(), retry_at: None });
    card
}

/// Looks the card up (with replicas, only one of them does; the others wait for its card)
/// and keeps it for everyone.
async fn look_up(shared: &Arc<GatewayState>, query: &Query, hints: &PageHints, key: &str, caller: &str) -> Card {
    let _forget = ForgetPartial { shared, key };
    let mut lock = None;
    if let Some(redis) = shared.redis() {
        let hold = shared.config.card_deadline + Duration::from_secs(2);
        // Cards differ by `--show-list`: so do the look-ups other replicas wait for.
        let scoped = format!("{}|{key}", visibility_digest(&shared.config.show_lists));
        match redis.lock(&scoped, hold).await {
            Some(token) => lock = Some(Unlock { redis: redis.clone(), key: scoped, token: Some(token) }),
            None => {
                if let Some(card) = another_replicas_card(shared, key, hold).await {
                    return card;
                }
            }
        }
    }
    // What the look-up costs is the caller's (calls shared with another look-up count once,
    // for the one that made them).
    let (client, spent) = shared.client.observed();
    let card = lookup_card_hinted(&client, query, hints, |partial| {
        shared.partials.lock().expect("partials lock").insert(key.to_owned(), partial.clone());
    })
    .await;
    caller_spent(shared, caller, spent.requests(), now_ms(shared)).await;
    // The live card wins over the index and corrects it (before private lists leave it: the
    // index keeps them, and serves them to nobody).
    if shared.companies.would_learn(&card) {
        shared.companies.queue(vec![crate::index::Entry::Card(Box::new(card.clone()))]);
    }
    let card = finish_card(shared, card).await;
    if card.status != CardStatus::Error && !card.stale {
        store_card(shared, key, &card).await;
    }
    if let Some(mut lock) = lock
        && let Some(token) = lock.token.take()
    {
        lock.redis.unlock(&lock.key, &token).await;
    }
    card
}

/// A digest of what cards may show (`--show-list`, as the Redis keyspace of cards is split):
/// look-ups of one card by gateways that show different lists do not wait for each other.
fn visibility_digest(show_lists: &[String]) -> String {
    let mut names: Vec<String> = show_lists.iter().map(|s| s.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    let digest = sha2::Sha256::digest(names.join("\n").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The card another replica is looking up, once it has stored it (within `hold`).
async fn another_replicas_card(shared: &GatewayState, key: &str, hold: Duration) -> Option<Card> {
    let until = Instant::now() + hold;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Some((card, stored)) = cached_card(shared, key).await
            && now_ms(shared).saturating_sub(stored) < 5_000
        {
            return Some(card);
        }
    }
    None
}

/// At the deadline: what the look-up found so far (`partial`), else the cached card (better
/// an older card than none), else an error that says so.
async fn past_deadline(shared: &GatewayState, query: Query, key: &str, cached: Option<(Card, u64)>) -> Card {
    let partial = shared.partials.lock().expect("partials lock").get(key).cloned();
    match (partial, cached) {
        (Some(mut card), _) => {
            card.partial = true;
            finish_card(shared, card).await
        }
        (None, Some((card, stored))) => stale(card, stored),
        // Affinity slow, or the look-up still waiting for a place in the key's minute.
        (None, None) => unavailable(
            query,
            "Affinity did not answer in time (or the firm's calls this minute are spent); try again in a moment.",
        ),
    }
}

/// Gives a replica's look-up lock back if the look-up is dropped before it does.
struct Unlock {
    redis: Arc<RedisState>,
    key: String,
    token: Option<String>,
}

impl Drop for Unlock {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.redis.unlock_later(std::mem::take(&mut self.key), token);
        }
    }
}

/// Removes a look-up's partial card when the look-up ends or is dropped.
struct ForgetPartial<'a> {
    shared: &'a GatewayState,
    key: &'a str,
}

impl Drop for ForgetPartial<'_> {
    fn drop(&mut self) {
        self.shared.partials.lock().expect("partials lock").remove(self.key);
    }
}

/// What a caller may see of a card: only entries on lists known to be public (or shown with
/// `--show-list`), errors in our own words. A list the gateway does not know (created since it
/// last read them) is read again; until it is known, it is not shown.
async fn finish_card(shared: &GatewayState, mut card: Card) -> Card {
    let mut lists = shared.client.execute(&endpoints::lists()).await;
    let unknown =
        |lists: &[affinity_api::models::List]| card.lists.iter().any(|e| !lists.iter().any(|l| l.id == e.list_id));
    if lists.as_ref().is_ok_and(|l| unknown(l)) {
        lists = shared.client.uncached().execute(&endpoints::lists()).await;
    }
    let shown = |l: &affinity_api::models::List| {
        l.public || shared.config.show_lists.iter().any(|s| s.eq_ignore_ascii_case(&l.name))
    };
    let visible: Vec<&affinity_api::models::List> = match &lists {
        Ok(lists) => lists.iter().filter(|l| shown(l)).collect(),
        // Which lists are private is not known: show none.
        Err(_) => Vec::new(),
    };
    card.lists.retain(|e| visible.iter().any(|l| l.id == e.list_id));
    // The fields of a list entry go with it; and the gateway writes nothing, so none of
    // them is offered to change.
    card.fields.retain(|e| visible.iter().any(|l| l.id == e.list_id));
    card.fields.iter_mut().flat_map(|e| e.fields.iter_mut()).for_each(|f| f.editable = false);
    card.opportunities.retain(|o| o.list_name.as_ref().is_some_and(|n| visible.iter().any(|l| &l.name == n)));
    if let Some(error) = card.error.as_mut() {
        error.message = match error.kind.as_str() {
            "unauthorized" => "The gateway's Affinity key was rejected: tell whoever runs the gateway.",
            "forbidden" => "The gateway's Affinity key may not read this.",
            "not_found" => "Not found in Affinity.",
            "invalid" => "Affinity refused the look-up.",
            "rate_limited" => "Affinity's rate limit is reached: try again in a minute.",
            "unavailable" => "Affinity cannot be reached just now: try again in a moment.",
            "bad_response" => "Affinity answered something the gateway could not read.",
            _ => "The card could not be made.",
        }
        .to_owned();
    }
    card
}

/// The names of the lists that are not public in Affinity and not named by `--show-list`.
/// Reads `/lists` through the client's cache (free while the look-ups keep it fresh).
/// The lists not public in Affinity and not named by `--show-list`: left out of cards.
async fn hidden_lists(shared: &GatewayState) -> Result<Vec<(i64, String)>, affinity_api::Error> {
    let lists = shared.client.execute(&endpoints::lists()).await?;
    Ok(lists
        .into_iter()
        .filter(|l| !l.public && !shared.config.show_lists.iter().any(|s| s.eq_ignore_ascii_case(&l.name)))
        .map(|l| (l.id, l.name))
        .collect())
}

/// The longest a request without an identity (a webhook, a health check, an unknown path) may
/// take in all.
const UNAUTHENTICATED_TIME: Duration = Duration::from_secs(5);
/// How long the gateway waits at start for its index before it listens anyway.
const INDEX_WAIT_AT_START: Duration = Duration::from_secs(5);
/// The longest any request's body may take to arrive.
const BODY_TIME: Duration = Duration::from_secs(10);

/// The largest webhook body read (Affinity's events are a few KiB).
const MAX_WEBHOOK_BODY: usize = 64 * 1024;
/// The longest a webhook body may take to arrive.
const WEBHOOK_BODY_TIME: Duration = Duration::from_secs(5);

/// `POST /affinity/webhook/{secret}`: an event from Affinity. The secret is checked before
/// anything of the body is read (a wrong one gets the 404 of an unknown path at once); the
/// body is read within [`WEBHOOK_BODY_TIME`], at most [`MAX_WEBHOOK_BODY`]. Drops exactly the
/// answers and cards it touches, here and (with Redis) for every replica, and tells live cards.
async fn webhook(
    State(shared): State<Arc<GatewayState>>,
    axum::extract::Path(secret): axum::extract::Path<String>,
    request: Request,
) -> Response {
    use subtle::ConstantTimeEq;
    let known =
        shared.config.webhook.as_ref().is_some_and(|w| bool::from(w.secret.as_bytes().ct_eq(secret.as_bytes())));
    if !known {
        shared.metrics.count(Outcome::NotFound);
        return not_found_closing();
    }
    let read = axum::body::to_bytes(request.into_body(), MAX_WEBHOOK_BODY);
    let body = match tokio::time::timeout(WEBHOOK_BODY_TIME, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the event is too large"),
        Err(_) => return refuse(StatusCode::REQUEST_TIMEOUT, "the event took too long to arrive"),
    };
    let Ok(event) = serde_json::from_slice::<affinity_api::models::WebhookEvent>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "not a webhook event");
    };
    let now_secs = (now_ms(&shared) / 1000) as i64;
    if crate::webhooks::fresh(&event, now_secs).is_err() {
        return refuse(StatusCode::BAD_REQUEST, "the event is too old (or from the future)");
    }
    let digest: [u8; 32] = sha2::Sha256::digest(&body).into();
    if !shared.seen.first_time(digest, now_secs) {
        // The same event again (a replay, or Affinity retrying): done already.
        return Json(json!({ "ok": true, "replay": true })).into_response();
    }
    // The index keeps every list (and serves only what cards may show).
    let changes = shared.companies.changes_of(&event);
    shared.companies.queue(changes.into_iter().map(crate::index::Entry::Change).collect());
    if hidden_change(&shared, &event).await {
        // A change on a list the cards do not show changes no card (every card leaves that
        // list out): nothing is dropped, and nobody is told.
        return Json(json!({ "ok": true })).into_response();
    }
    if shared.events.try_send(crate::webhooks::event_refs(&event)).is_err() {
        // A flood: every card is dropped at the next batch rather than each event followed.
        let _ = shared.events.try_send(vec!["meta".into(), "meta-cards".into()]);
    }
    Json(json!({ "ok": true })).into_response()
}

/// Whether an event is about a list the cards leave out (a private one, not shown with
/// `--show-list`): a list entry on it, or a value of one of its fields.
async fn hidden_change(shared: &GatewayState, event: &affinity_api::models::WebhookEvent) -> bool {
    let Ok(lists) = shared.client.execute(&endpoints::lists()).await else { return false };
    let hidden = |id: i64| {
        lists.iter().any(|l| {
            l.id == id && !l.public && !shared.config.show_lists.iter().any(|s| s.eq_ignore_ascii_case(&l.name))
        })
    };
    if let Some(list) = event.body.get("list_id").and_then(|v| v.as_i64()) {
        return hidden(list);
    }
    if event.event.starts_with("field_value.")
        && let Some(field) = event.body.get("field_id").and_then(|v| v.as_i64())
        && let Ok((_, fields)) = lens_core::lookup::lists_and_fields(&shared.client).await
    {
        return fields.iter().any(|f| f.id == field && f.list_id.is_some_and(hidden));
    }
    false
}

/// How often at most every card is dropped, or the account's context forgotten, by events
/// (a list or field changed): a burst of such events does it once, then once more after.
const BROAD_EVERY: Duration = Duration::from_secs(10);

/// Handles webhook events in batches: what arrived together is dropped together, once; the
/// broad drops (every card, the context) at most once per [`BROAD_EVERY`], the last one
/// deferred rather than lost.
async fn drop_changes(shared: std::sync::Weak<GatewayState>, mut received: tokio::sync::mpsc::Receiver<Vec<String>>) {
    let broad = |r: &String| r == "meta" || r == "meta-cards";
    let mut last_broad: Option<Instant> = None;
    let mut deferred: Vec<String> = Vec::new();
    loop {
        let wait = match (deferred.is_empty(), last_broad) {
            (false, Some(at)) => BROAD_EVERY.saturating_sub(at.elapsed()),
            _ => Duration::from_secs(3600),
        };
        let mut touched: Vec<String> = match tokio::time::timeout(wait, received.recv()).await {
            Ok(Some(refs)) => refs,
            Ok(None) => return,
            Err(_) => Vec::new(),
        };
        while let Ok(more) = received.try_recv() {
            touched.extend(more);
        }
        touched.extend(std::mem::take(&mut deferred));
        touched.sort();
        touched.dedup();
        if touched.iter().any(broad) && last_broad.is_some_and(|at| at.elapsed() < BROAD_EVERY) {
            deferred = touched.iter().filter(|r| broad(r)).cloned().collect();
            touched.retain(|r| !broad(r));
        } else if touched.iter().any(broad) {
            last_broad = Some(Instant::now());
        }
        if touched.is_empty() {
            continue;
        }
        let Some(shared) = shared.upgrade() else { return };
        let cards = invalidate(&shared, &touched).await;
        eprintln!("gateway: webhook events: {cards} cached card(s) dropped");
    }
}

/// The 404 of an unknown path, closing the connection (its body, if any, is not read).
fn not_found_closing() -> Response {
    let mut response = refuse(StatusCode::NOT_FOUND, "not found: this gateway only serves /affinity/card");
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Drops what `touched` touches; returns how many cards went.
async fn invalidate(shared: &GatewayState, touched: &[String]) -> usize {
    use crate::webhooks::{touches, url_refs};
    shared.client.forget(|url| touches(&url_refs(url), touched));
    let mut keys: Vec<String> =
        shared.index.take(touched).into_iter().filter(|key| shared.cards.get(key).is_some()).collect();
    for key in &keys {
        shared.cards.remove(key);
    }
    if let Some(redis) = &shared.config.redis {
        keys.extend(redis.drop_touched(touched).await);
    }
    keys.sort();
    keys.dedup();
    // Lists or fields changed (a new list, a Status option renamed): the context remembered
    // for hours (lists, fields) is asked again, here and (through Redis) on every replica.
    let meta = touched.iter().any(|r| r == "meta");
    if meta {
        shared.client.account().forget_context();
    }
    if keys.is_empty() && !meta {
        return 0;
    }
    // Between replicas only (streams hear of the cards they follow, nothing else).
    // A card looked up with hints is followed by its query's key.
    let mut followed: Vec<&str> = keys.iter().map(|k| k.split('#').next().unwrap_or(k)).collect();
    followed.dedup();
    let message = json!({ "cards": followed, "meta": meta }).to_string();
    match &shared.config.redis {
        Some(redis) => redis.publish(&message).await,
        None => shared.changes.send(message),
    }
    keys.len()
}

/// `GET /affinity/events?cards=…[&ago=ms]`: server-sent events, one `change` event
/// (`{"cards": ["domain:acme.test"]}`) when a card the caller follows (and asked the gateway
/// for itself) has changed, and at once those of the last `ago` ms (at most a minute: the
/// page's gap since its cards were fetched or its last stream closed). A page keeps one
/// stream whatever the number of its cards; the stream lives in its own pool (at most a few
/// a caller), not among the card requests' connections.
async fn events(
    State(shared): State<Arc<GatewayState>>,
    axum::Extension(caller): axum::Extension<Caller>,
    slot: Option<axum::Extension<Slot>>,
    Params(params): Params<HashMap<String, String>>,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    let keys = match crate::live::followed(params.get("cards").map(String::as_str)) {
        Ok(keys) => keys,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, &message),
    };
    // How long the page may have missed changes (since its cards were fetched, or its last
    // stream closed): those of that gap are told at once.
    let ago = match params.get("ago").map(|a| a.parse::<u64>()) {
        None => Duration::ZERO,
        Some(Ok(ms)) => Duration::from_millis(ms),
        Some(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "ago: a number of milliseconds"),
    };
    // Only cards this caller asked for: a stream tells nothing of others' look-ups.
    let elsewhere = match shared.redis() {
        Some(redis) => redis.asked(&caller.0, None, &keys).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let keys: Vec<String> = (keys.into_iter().enumerate())
        .filter(|(i, k)| shared.asked.has(&caller.0, k) || elsewhere.get(*i).copied().unwrap_or(false))
        .map(|(_, k)| k)
        .collect();
    let Some(place) = shared.streams.admit(&caller.0) else {
        shared.metrics.count(Outcome::CallerLimited);
        let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, "too many live streams open: close some tabs");
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(30));
        return response;
    };
    // The stream's connection no longer counts among the card requests'.
    if let Some(axum::Extension(slot)) = slot {
        slot.release();
    }
    let (receiver, missed) = shared.changes.subscribe(ago);
    let missed: Vec<_> = missed
        .iter()
        .filter_map(|m| crate::live::for_stream(m, &keys))
        .map(|mine| Ok::<_, std::convert::Infallible>(Event::default().event("change").data(mine)))
        .collect();
    let stream = futures::stream::unfold((receiver, place, keys), |(mut receiver, place, keys)| async move {
        loop {
            match receiver.recv().await {
                Ok(message) => {
                    if let Some(mine) = crate::live::for_stream(&message, &keys) {
                        let event = Ok::<_, std::convert::Infallible>(Event::default().event("change").data(mine));
                        return Some((event, (receiver, place, keys)));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    });
    let opening = futures::stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    Sse::new(opening.chain(futures::stream::iter(missed)).chain(stream))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

impl Gateway {
    /// Makes sure Affinity sends this gateway its webhooks: reuses the subscription that
    /// already calls its URL (or one of its own under an old secret), never creates a
    /// second one, and says at start what it did. Replicas take turns through Redis.
    pub async fn subscribe_webhooks(&self) {
        let shared = &self.shared;
        let Some(hook) = &shared.config.webhook else { return };
        let url = hook.url();
        let ours = format!("{}/affinity/webhook/", hook.public_url.trim_end_matches('/'));
        let mut lock = None;
        if let Some(redis) = shared.redis() {
            for _ in 0..100 {
                if let Some(token) = redis.lock("webhook-subscription", Duration::from_secs(20)).await {
                    lock = Some(token);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let client = shared.client.uncached();
        let said = match client.execute(&endpoints::webhooks()).await {
            Err(e) => format!("could not read Affinity's webhook subscriptions ({})", e.kind()),
            Ok(subscriptions) => {
                if let Some(s) = subscriptions.iter().find(|s| s.webhook_url == url) {
                    if s.disabled {
                        let _ = client.execute(&endpoints::update_webhook(s.id, &url, &[])).await;
                    }
                    format!("reusing its webhook subscription #{} (Affinity allows 3 an account)", s.id)
                } else if let Some(s) = subscriptions.iter().find(|s| s.webhook_url.starts_with(&ours)) {
                    match client.execute(&endpoints::update_webhook(s.id, &url, &[])).await {
                        Ok(_) => format!("moved its webhook subscription #{} to the new secret", s.id),
                        Err(e) => format!("could not update its webhook subscription #{} ({})", s.id, e.kind()),
                    }
                } else if subscriptions.len() >= 3 {
                    "Affinity's 3 webhook subscriptions are all taken by other integrations: cards are refreshed by their lifetime only".to_owned()
                } else {
                    match client.execute(&endpoints::subscribe_webhook(&url, &[])).await {
                        Ok(s) => format!(
                            "subscribed to Affinity's webhooks (#{}, {} of 3 in use)",
                            s.id,
                            subscriptions.len() + 1
                        ),
                        Err(e) => format!("could not subscribe to Affinity's webhooks ({})", e.kind()),
                    }
                }
            }
        };
        eprintln!("gateway: {said}");
        if let (Some(redis), Some(token)) = (shared.config.redis.as_ref(), lock) {
            redis.unlock("webhook-subscription", &token).await;
        }
    }
}

/// `GET /healthz`: `{"status": "ok"}` from this process alone (no call to Affinity, nothing
/// about the firm): for load balancers, which ask without an identity.
async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `/metrics` in Prometheus's text format.
async fn metrics(State(shared): State<Arc<GatewayState>>) -> Response {
    let text: String = gateway_metrics(&shared).iter().map(Metric::text).collect();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// One metric in Prometheus's text format: its name, kind, help and labelled values.
struct Metric {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    values: Vec<(String, f64)>,
}

impl Metric {
    fn counter(name: &'static str, help: &'static str, value: f64) -> Metric {
        Metric { name, kind: "counter", help, values: vec![(String::new(), value)] }
    }

    fn gauge(name: &'static str, help: &'static str, value: f64) -> Metric {
        Metric { name, kind: "gauge", help, values: vec![(String::new(), value)] }
    }

    fn text(&self) -> String {
        let Metric { name, kind, help, values } = self;
        let mut out = format!("# HELP {name} {help}\n# TYPE {name} {kind}\n");
        for (labels, value) in values {
            out.push_str(&format!("{name}{labels} {value}\n"));
        }
        out
    }
}

fn gateway_metrics(shared: &GatewayState) -> Vec<Metric> {
    let m = &shared.metrics;
    let outcomes = m.outcomes.lock().expect("metrics lock").clone();
    let count = |o: Outcome| *outcomes.get(o.name()).unwrap_or(&0) as f64;
    let by_outcome = Outcome::ALL.iter().map(|o| (format!("{{outcome=\"{}\"}}", o.name()), count(*o))).collect();
    let limiter = shared.client.limiter();
    let monthly = limiter.monthly();
    let remaining = monthly.and_then(|m| m.remaining).map_or(f64::NAN, |r| r as f64);
    let percent = monthly.and_then(|m| m.percent_left()).unwrap_or(f64::NAN);
    let cache_bytes = vec![
        ("{cache=\"responses\"}".into(), shared.response_cache.bytes() as f64),
        ("{cache=\"cards\"}".into(), shared.cards.bytes() as f64),
    ];
    vec![
        Metric {
            name: "lens_gateway_requests_total",
            kind: "counter",
            help: "Requests answered, by outcome.",
            values: by_outcome,
        },
        Metric::counter(
            "lens_gateway_card_cache_hits_total",
            "Cards served from the card cache.",
            count(Outcome::Cached),
        ),
        Metric::counter(
            "lens_gateway_affinity_requests_total",
            "Requests sent to Affinity.",
            shared.client.requests_sent() as f64,
        ),
        Metric::counter(
            "lens_gateway_affinity_rate_limited_total",
            "429 answers from Affinity.",
            shared.client.rate_limited_responses() as f64,
        ),
        Metric::gauge(
            "lens_gateway_affinity_in_flight",
            "Requests to Affinity in flight now.",
            f64::from(limiter.in_flight()),
        ),
        Metric::gauge(
            "lens_gateway_budget_remaining",
            "Affinity calls left this month (NaN: unknown or unlimited).",
            remaining,
        ),
        Metric::gauge("lens_gateway_budget_percent_left", "Share of the month's budget left, in percent.", percent),
        Metric::counter(
            "lens_gateway_redis_rejected_values_total",
            "Values read from Redis whose tag did not verify (not written by a gateway of this key).",
            shared.config.redis.as_ref().map_or(0, |r| r.rejected_values()) as f64,
        ),
        Metric {
            name: "lens_gateway_cache_bytes",
            kind: "gauge",
            help: "Bytes held by the caches.",
            values: cache_bytes,
        },
        Metric::gauge("lens_gateway_lookups_in_flight", "Card look-ups in flight now.", shared.lookups.len() as f64),
        Metric::gauge(
            "lens_gateway_lookups_running",
            "Card look-ups running now, also those whose callers have left (they fill the cache).",
            m.running.load(Ordering::SeqCst) as f64,
        ),
    ]
    .into_iter()
    .chain(connection_metrics(shared))
    .chain(index_metrics(shared))
    .collect()
}

/// What the index served holds, and what its syncs cost.
fn index_metrics(shared: &GatewayState) -> Vec<Metric> {
    vec![
        Metric::gauge(
            "lens_gateway_index_organizations",
            "Organizations in the index served (0: not ready).",
            shared.companies.served().map_or(0, |s| s.organizations) as f64,
        ),
        Metric::gauge(
            "lens_gateway_index_revision",
            "The served index's revision (grows with every change).",
            shared.companies.served().map_or(0, |s| s.revision) as f64,
        ),
        Metric::counter(
            "lens_gateway_index_syncs_total",
            "Syncs of the index this replica ran.",
            shared.companies.syncs.load(Ordering::Relaxed) as f64,
        ),
        Metric::counter(
            "lens_gateway_index_sync_calls_total",
            "Affinity calls this replica's syncs of the index made.",
            shared.companies.sync_calls.load(Ordering::Relaxed) as f64,
        ),
    ]
}

/// What the connections and streams hold and were refused.
fn connection_metrics(shared: &GatewayState) -> Vec<Metric> {
    let m = &shared.metrics;
    vec![
        Metric::gauge("lens_gateway_open_connections", "Connections open now.", shared.connections.open() as f64),
        Metric::gauge("lens_gateway_open_streams", "Live streams open now.", shared.streams.open() as f64),
        Metric::counter(
            "lens_gateway_refused_per_address_total",
            "Connections closed at once because their address held its share.",
            m.refused_per_address.load(Ordering::Relaxed) as f64,
        ),
        Metric::counter(
            "lens_gateway_extension_requests_total",
            "Requests from a browser extension (Origin chrome-extension://, moz-extension://, …).",
            m.from_extensions.load(Ordering::Relaxed) as f64,
        ),
        Metric::counter(
            "lens_gateway_refused_connections_total",
            "Connections closed at once because too many were open.",
            m.refused_connections.load(Ordering::Relaxed) as f64,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn callers_are_known_by_token_or_by_the_proxy_header_from_a_trusted_address_only() {
        let auth = CallerAuth {
            tokens: vec!["alpha".into(), "beta".into()],
            trusted_user_header: Some(HeaderName::from_static("x-forwarded-email")),
            trusted_proxies: vec!["10.0.0.5".parse().unwrap()],
            no_auth: false,
            token_origins: Vec::new(),
        };
        let proxy = Some("10.0.0.5".parse().unwrap());
        let stranger = Some("10.0.0.6".parse().unwrap());
        let who = |h: &[(&str, &str)], peer| identify(&auth, &headers(h), peer).map(|c| c.0);
        assert_eq!(who(&[("authorization", "Bearer beta")], stranger).as_deref(), Some("token:2"));
        assert_eq!(who(&[("authorization", "Bearer gamma")], stranger), None);
        assert_eq!(who(&[("authorization", "Bearer ")], stranger), None);
        assert_eq!(who(&[], stranger), None);
        assert_eq!(who(&[("x-forwarded-email", "Ann@Firm.com")], proxy).as_deref(), Some("user:ann@firm.com"));
        assert_eq!(who(&[("x-forwarded-email", "ann@firm.com")], stranger), None, "header from an untrusted address");
        assert_eq!(who(&[("x-forwarded-email", " ")], proxy), None);
        let open = CallerAuth { no_auth: true, ..CallerAuth::default() };
        assert!(identify(&open, &headers(&[]), None).is_some());
    }

    #[test]
    fn a_token_bound_to_origins_is_refused_from_any_other_and_from_none() {
        let auth = CallerAuth {
            tokens: vec!["page-token".into(), "server-token".into()],
            token_origins: vec![vec!["https://intranet.example".into()], vec![]],
            ..CallerAuth::default()
        };
        let who = |h: &[(&str, &str)]| identify(&auth, &headers(h), None).map(|c| c.0);
        let bearer = ("authorization", "Bearer page-token");
        assert_eq!(who(&[bearer, ("origin", "https://intranet.example")]).as_deref(), Some("token:1"));
        assert_eq!(who(&[bearer, ("origin", "https://other.example")]), None);
        assert_eq!(who(&[bearer]), None, "a request without an Origin");
        assert_eq!(who(&[("authorization", "Bearer server-token")]).as_deref(), Some("token:2"));
    }

    #[test]
    fn card_queries_are_checked_before_anything_is_looked_up() {
        let q = |pairs: &[(&str, &str)]| {
            query_of(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>())
        };
        assert_eq!(q(&[("domain", "www.acme.test")]).unwrap().value, "acme.test");
        assert!(q(&[("domain", "acme.test"), ("email", "a@b.co")]).is_err());
        assert!(q(&[("organization_id", "x")]).is_err());
        assert!(q(&[("domain", &"a".repeat(5000))]).is_err());
        // The error does not echo an email back.
        assert!(!q(&[("email", "nobody")]).unwrap_err().contains("nobody"));
    }

    #[test]
    fn hints_go_with_their_linkedin_query_checked_and_cut_as_the_extensions() {
        let r = |pairs: &[(&str, &str)]| {
            card_request(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>())
        };
        let profile = ("linkedin_person", "https://www.linkedin.com/in/Jane-Doe/?trk=x");
        let (q, hints) = r(&[profile, ("name", "  Jane Doe "), ("headline", "CTO at Acme"), ("company", "")]).unwrap();
        assert_eq!((q.kind, q.value.as_str()), (QueryKind::LinkedinPerson, "https://www.linkedin.com/in/jane-doe"));
        assert_eq!(hints.name.as_deref(), Some("Jane Doe"));
        assert_eq!(hints.company, None);
        assert_eq!(hints.company().as_deref(), Some("Acme"));
        let long = "x".repeat(500);
        assert_eq!(r(&[profile, ("name", &long)]).unwrap().1.name.unwrap().len(), lens_core::page::MAX_HINT_CHARS);
        assert!(r(&[profile, ("name", &"x".repeat(3000))]).unwrap_err().contains("name is too long"));
        // A hint that is not the query's, or without a LinkedIn query: 400.
        assert!(r(&[profile, ("website", "acme.test")]).unwrap_err().contains("website is not a hint"));
        assert!(r(&[("domain", "acme.test"), ("name", "Jane")]).unwrap_err().contains("name is not a hint"));
        assert!(r(&[("linkedin_person", "https://www.linkedin.com/company/acme")]).is_err());
        // A company page with its website is the website's card; a website that is no domain: 400.
        let page = ("linkedin_company", "https://www.linkedin.com/company/acme-corp");
        let (q, _) = r(&[page, ("website", "https://www.acme.test/about")]).unwrap();
        assert_eq!((q.kind, q.value.as_str()), (QueryKind::Domain, "acme.test"));
        assert!(r(&[page, ("website", "not a site")]).unwrap_err().contains("is not a domain"));
        assert_eq!(r(&[page]).unwrap().0.kind, QueryKind::LinkedinCompany);
        // Hinted cards are kept apart; a card without hints keeps its plain key.
        let (q, hints) = r(&[profile, ("name", "Jane Doe")]).unwrap();
        let key = hinted_key(&card_key(&q), &hints);
        assert!(key.starts_with("linkedin_person:https://www.linkedin.com/in/jane-doe#"), "{key}");
        assert_eq!(hinted_key(&card_key(&q), &PageHints::default()), card_key(&q));
    }
}
