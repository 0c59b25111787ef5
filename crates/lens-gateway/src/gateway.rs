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
use lens_core::{Card, CardStatus, LensClient, PageError, Query, QueryKind, lookup_card_with, resolve_page};

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
            reserve_percent: 10.0,
            show_lists: Vec::new(),
            card_deadline: Duration::from_secs(8),
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
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
}

impl Outcome {
    const ALL: [Outcome; 10] = [
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
        }
    }
}

#[derive(Default)]
struct Metrics {
    outcomes: Mutex<HashMap<&'static str, u64>>,
    open_connections: AtomicU64,
    refused_connections: AtomicU64,
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
    changes: tokio::sync::broadcast::Sender<String>,
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
        .cache(response_cache.clone())
        .cache_policy(affinity_api::cache::CachePolicy {
            fresh_for: config.card_fresh_for,
            ..affinity_api::cache::CachePolicy::default()
        })
        .limiter(Arc::new(limiter));
        if let Some(redis) = &config.redis {
            builder = builder.shared(redis.clone());
        }
        let client = LensClient::new(builder, Default::default());
        let (changes, _) = tokio::sync::broadcast::channel(256);
        if let Some(redis) = &config.redis {
            // Every replica's changes reach this one's live cards, and a change of lists or
            // fields (another replica's webhook) this one's remembered context.
            let mut from_all = redis.subscribe();
            let to_here = changes.clone();
            let account = client.account().clone();
            tokio::spawn(async move {
                loop {
                    match from_all.recv().await {
                        Ok(message) => {
                            if serde_json::from_str::<serde_json::Value>(&message)
                                .is_ok_and(|m| m.get("meta").and_then(serde_json::Value::as_bool) == Some(true))
                            {
                                account.forget_context();
                            }
                            let _ = to_here.send(message);
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return,
                    }
                }
            });
        }
        let mut hosts = vec![config.listen.to_string()];
        if config.listen.ip().is_loopback() {
            hosts.push(format!("localhost:{}", config.listen.port()));
        }
        hosts.extend(config.public_hosts.iter().map(|h| h.to_ascii_lowercase()));
        Gateway {
            shared: Arc::new(GatewayState {
                client,
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
            }),
        }
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
            Ok(hidden) => eprintln!(
                "gateway: lists hidden from cards because they are not public in Affinity: {} (show one with --show-list NAME)",
                hidden.join(", ")
            ),
            Err(e) => eprintln!("gateway: could not read the lists yet ({}); private lists stay hidden", e.kind()),
        }
    }

    /// The routes: `/affinity/card`, `/healthz`, `/metrics`, and 404 for everything else.
    pub fn router(&self) -> Router {
        let origins: Vec<HeaderValue> =
            self.shared.config.allow_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET])
            .allow_headers([header::AUTHORIZATION])
            .allow_credentials(true);
        let authenticated = Router::new()
            .route("/affinity/card", get(card))
            .route("/affinity/events", get(events))
            .route("/metrics", get(metrics))
            .layer(middleware::from_fn_with_state(self.shared.clone(), require_caller));
        Router::new()
            .merge(authenticated)
            .route("/healthz", get(healthz))
            .route("/affinity/webhook/{secret}", axum::routing::post(webhook))
            .fallback(|State(shared): State<Arc<GatewayState>>| async move {
                shared.metrics.count(Outcome::NotFound);
                (StatusCode::NOT_FOUND, Json(json!({ "error": "not found: this gateway only serves /affinity/card" })))
            })
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

        let slots = Arc::new(tokio::sync::Semaphore::new(self.shared.config.max_connections.max(1)));
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
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                self.shared.metrics.refused_connections.fetch_add(1, Ordering::Relaxed);
                drop(stream);
                continue;
            };
            let shared = self.shared.clone();
            let service = router.clone().map_request(move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(axum::body::Body::new)
            });
            let header_timeout = self.shared.config.header_timeout;
            tokio::spawn(async move {
                let _slot = slot;
                shared.metrics.open_connections.fetch_add(1, Ordering::Relaxed);
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let _ = connection.await;
                shared.metrics.open_connections.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }
}

/// One line per request: method, path, what was looked up (never an email or a person's
/// profile), caller kind, status, time. No key, no token, no user name.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let mut path = request.uri().path().to_owned();
    // The webhook URL's last segment is a secret.
    if let Some(rest) = path.strip_prefix("/affinity/webhook/")
        && !rest.is_empty()
    {
        path = "/affinity/webhook/…".to_owned();
    }
    let looked_up = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| match k.as_ref() {
                    "domain" | "organization_id" | "person_id" => format!("{k}={v}"),
                    _ => format!("{k}=…"),
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .map(|q| format!("?{q}"))
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

/// A page of an origin that is not allowed is refused before anything is looked up, so
/// it cannot time known and unknown companies either. Requests without an Origin (not
/// from a page) go on to the caller check.
async fn check_origin(State(shared): State<Arc<GatewayState>>, request: Request, next: Next) -> Response {
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| shared.config.allow_origins.iter().any(|a| a == o));
        if !allowed {
            shared.metrics.count(Outcome::WrongOrigin);
            return refuse(StatusCode::FORBIDDEN, "pages of this origin may not use the gateway");
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

/// The query a card request asks for, or why it is not one.
fn query_of(params: &HashMap<String, String>) -> Result<Query, String> {
    let given: Vec<(&String, &String)> = params.iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let [(key, value)] = given.as_slice() else {
        return Err("give exactly one of domain, email, linkedin, organization_id, person_id".into());
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
        "organization_id" => id(QueryKind::OrganizationId),
        "person_id" => id(QueryKind::PersonId),
        other => Err(format!("unknown parameter {other:?}")),
    }
}

fn now_ms(shared: &GatewayState) -> u64 {
    shared.clock.now().as_millis() as u64
}

/// The cached card for `key`: the shared one while Redis answers, else this replica's.
async fn cached_card(shared: &GatewayState, key: &str) -> Option<(Card, u64)> {
    let entry = match shared.redis() {
        // While Redis answers it is the truth: a webhook may have dropped a card there that
        // this replica still holds.
        Some(redis) => redis.card_get(key).await,
        None => shared.cards.get(key),
    }?;
    let card = serde_json::from_str(&entry.body).ok()?;
    Some((card, entry.stored_at_ms))
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
        match (here, everywhere) {
            // The lower figure is the later one: a month's budget only goes down.
            (Some(a), Some(b)) => {
                Some(if b.remaining.unwrap_or(i64::MAX) < a.remaining.unwrap_or(i64::MAX) { b } else { a })
            }
            (a, b) => a.or(b),
        }
    }
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
    let query = match query_of(&params) {
        Ok(q) => q,
        Err(message) => {
            shared.metrics.count(Outcome::BadRequest);
            return refuse(StatusCode::BAD_REQUEST, &message);
        }
    };
    let key = card_key(&query);
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
    // The look-up, shared with identical requests in flight, within the deadline.
    let work = {
        let (shared, query, key) = (shared.clone(), query.clone(), key.clone());
        move || -> BoxFuture<'static, Card> { Box::pin(async move { look_up(&shared, &query, &key).await }) }
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

/// Below the month's reserve, the card a caller gets: the cached one, even old, or an
/// error that says why. `None` above the reserve.
async fn below_reserve(shared: &GatewayState, query: &Query, cached: &Option<(Card, u64)>) -> Option<Card> {
    let monthly = shared.monthly().await;
    let left = monthly.and_then(|m| m.percent_left()).filter(|left| *left < shared.config.reserve_percent)?;
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

/// Looks the card up (with replicas, only one of them does; the others wait for its card)
/// and keeps it for everyone.
async fn look_up(shared: &Arc<GatewayState>, query: &Query, key: &str) -> Card {
    let _forget = ForgetPartial { shared, key };
    let mut lock = None;
    if let Some(redis) = shared.redis() {
        let hold = shared.config.card_deadline + Duration::from_secs(2);
        match redis.lock(key, hold).await {
            Some(token) => lock = Some(Unlock { redis: redis.clone(), key: key.to_owned(), token: Some(token) }),
            None => {
                if let Some(card) = another_replicas_card(shared, key, hold).await {
                    return card;
                }
            }
        }
    }
    let card = lookup_card_with(&shared.client, query, |partial| {
        shared.partials.lock().expect("partials lock").insert(key.to_owned(), partial.clone());
    })
    .await;
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
        (None, None) => {
            let mut card = Card::new(query, CardStatus::Error);
            card.error = Some(lens_core::card::CardError {
                kind: "unavailable".into(),
                message: "Affinity did not answer in time; try again in a moment.".into(),
                retry_at: None,
            });
            card
        }
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

/// What a caller may see of a card: no private list, errors in our own words.
async fn finish_card(shared: &GatewayState, mut card: Card) -> Card {
    match hidden_lists(shared).await {
        Ok(hidden) => {
            card.lists.retain(|l| !hidden.contains(&l.list_name));
            card.opportunities.retain(|o| o.list_name.as_ref().is_none_or(|n| !hidden.contains(n)));
        }
        // Which lists are private is not known: show none.
        Err(_) => {
            card.lists.clear();
            card.opportunities.retain(|o| o.list_name.is_none());
        }
    }
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
async fn hidden_lists(shared: &GatewayState) -> Result<Vec<String>, affinity_api::Error> {
    let lists = shared.client.execute(&endpoints::lists()).await?;
    Ok(lists
        .into_iter()
        .filter(|l| !l.public && !shared.config.show_lists.iter().any(|s| s.eq_ignore_ascii_case(&l.name)))
        .map(|l| l.name)
        .collect())
}

/// `POST /affinity/webhook/{secret}`: an event from Affinity. Drops exactly the answers
/// and cards it touches, here and (with Redis) for every replica, and tells live cards.
async fn webhook(
    State(shared): State<Arc<GatewayState>>,
    axum::extract::Path(secret): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Response {
    use subtle::ConstantTimeEq;
    let known =
        shared.config.webhook.as_ref().is_some_and(|w| bool::from(w.secret.as_bytes().ct_eq(secret.as_bytes())));
    if !known {
        shared.metrics.count(Outcome::NotFound);
        return refuse(StatusCode::NOT_FOUND, "not found: this gateway only serves /affinity/card");
    }
    let Ok(event) = serde_json::from_slice::<affinity_api::models::WebhookEvent>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "not a webhook event");
    };
    let touched = crate::webhooks::event_refs(&event);
    let cards = invalidate(&shared, &touched).await;
    eprintln!("gateway: webhook {}: {} cached card(s) dropped", event.event, cards);
    Json(json!({ "ok": true })).into_response()
}

/// Drops what `touched` touches; returns how many cards went.
async fn invalidate(shared: &GatewayState, touched: &[String]) -> usize {
    use crate::webhooks::{card_refs, touches, url_refs};
    shared.client.forget(|url| touches(&url_refs(url), touched));
    let mut keys: Vec<String> = shared
        .cards
        .keys()
        .into_iter()
        .filter(|key| {
            shared
                .cards
                .get(key)
                .and_then(|e| serde_json::from_str::<Card>(&e.body).ok())
                .is_some_and(|card| touches(&card_refs(&card), touched))
        })
        .collect();
    for key in &keys {
        shared.cards.remove(key);
    }
    if let Some(redis) = &shared.config.redis {
        keys.extend(redis.drop_touched(touched).await);
    }
    keys.sort();
    keys.dedup();
    let entities: Vec<i64> = touched.iter().filter_map(|r| r.strip_prefix("id:")?.parse().ok()).collect();
    // Lists or fields changed (a new list, a Status option renamed): the context remembered
    // for hours (lists, fields) is asked again, here and (through Redis) on every replica.
    let meta = touched.iter().any(|r| r == "meta");
    if meta {
        shared.client.account().forget_context();
    }
    let message = json!({ "cards": keys, "entities": entities, "meta": meta }).to_string();
    match &shared.config.redis {
        Some(redis) => redis.publish(&message).await,
        None => {
            let _ = shared.changes.send(message);
        }
    }
    keys.len()
}

/// `GET /affinity/events`: server-sent events, one `change` event per webhook that dropped
/// something: `{"cards": ["domain:acme.test", …], "entities": [7133202, …]}`. A page keeps
/// one such connection whatever the number of cards on it.
async fn events(State(shared): State<Arc<GatewayState>>) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let receiver = shared.changes.subscribe();
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(message) => {
                    return Some((
                        Ok::<_, std::convert::Infallible>(Event::default().event("change").data(message)),
                        receiver,
                    ));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    });
    let opening = futures::stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    use futures::StreamExt;
    Sse::new(opening.chain(stream)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
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

async fn healthz(State(shared): State<Arc<GatewayState>>) -> Response {
    let hidden = match hidden_lists(&shared).await {
        Ok(hidden) => json!(hidden),
        Err(_) => json!(null),
    };
    Json(json!({ "status": "ok", "hidden_lists": hidden })).into_response()
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
        Metric::gauge(
            "lens_gateway_open_connections",
            "Connections open now.",
            m.open_connections.load(Ordering::Relaxed) as f64,
        ),
        Metric::counter(
            "lens_gateway_refused_connections_total",
            "Connections closed at once because too many were open.",
            m.refused_connections.load(Ordering::Relaxed) as f64,
        ),
        Metric {
            name: "lens_gateway_cache_bytes",
            kind: "gauge",
            help: "Bytes held by the caches.",
            values: cache_bytes,
        },
        Metric::gauge("lens_gateway_lookups_in_flight", "Card look-ups in flight now.", shared.lookups.len() as f64),
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
}
