//! The gateway for the `<affinity-card>` web component: it holds the Affinity API key,
//! answers `GET /affinity/card?…` with the Card JSON computed by the lookup engine, and
//! forwards nothing else. One client (one cache, one limiter) serves every caller, and
//! identical lookups in flight are computed once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use affinity_core::cache::MemoryCache;
use affinity_core::{Card, Client, ClientConfig, PageError, Query, QueryKind, lookup_card, resolve_page};
use axum::extract::{Query as Params, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How the gateway runs.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Affinity's (or the sandbox's) base URL.
    pub base_url: String,
    /// The API key. Never logged, never sent to callers.
    pub api_key: String,
    /// Origins whose pages may call the gateway (CORS). Others get no CORS headers.
    pub allow_origins: Vec<String>,
    /// When set, callers must send `Authorization: Bearer <token>`.
    pub client_token: Option<String>,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("base_url", &self.base_url)
            .field("allow_origins", &self.allow_origins)
            .field("client_token", &self.client_token.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

type CardFuture = Shared<BoxFuture<'static, Card>>;

struct GatewayState {
    client: Client,
    client_token: Option<String>,
    in_flight: Mutex<HashMap<String, CardFuture>>,
}

/// The gateway: its state and routes.
#[derive(Clone)]
pub struct Gateway {
    shared: Arc<GatewayState>,
    allow_origins: Vec<String>,
}

impl Gateway {
    /// A gateway with its own client (cache and limiter shared by all its callers).
    pub fn new(config: GatewayConfig) -> Self {
        let client = Client::builder(
            ClientConfig::new(&config.base_url, &config.api_key),
            affinity_core::transport::ReqwestTransport::new(),
        )
        .cache(Arc::new(MemoryCache::new(20_000)))
        .build();
        Gateway {
            shared: Arc::new(GatewayState {
                client,
                client_token: config.client_token,
                in_flight: Mutex::new(HashMap::new()),
            }),
            allow_origins: config.allow_origins,
        }
    }

    /// Requests sent to Affinity so far.
    pub fn affinity_requests(&self) -> u64 {
        self.shared.client.requests_sent()
    }

    /// The routes: `/affinity/card`, `/healthz`, and 404 for everything else.
    pub fn router(&self) -> Router {
        let origins: Vec<HeaderValue> =
            self.allow_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET])
            .allow_headers([header::AUTHORIZATION]);
        Router::new()
            .route(
                "/affinity/card",
                get(card).layer(middleware::from_fn_with_state(self.shared.clone(), require_token)),
            )
            .route("/healthz", get(|| async { "ok" }))
            .fallback(|| async {
                (StatusCode::NOT_FOUND, Json(json!({ "error": "not found: this gateway only serves /affinity/card" })))
            })
            .layer(cors)
            .layer(middleware::from_fn(log_request))
            .with_state(self.shared.clone())
    }

    /// Serves until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

/// One line per request: method, path and query (which hold no secret), status, time.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let target = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let response = next.run(request).await;
    eprintln!("{method} {target} {} {}ms", response.status().as_u16(), started.elapsed().as_millis());
    response
}

async fn require_token(State(shared): State<Arc<GatewayState>>, request: Request, next: Next) -> Response {
    if let Some(token) = &shared.client_token {
        let sent = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if sent != Some(token.as_str()) {
            return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "a client token is required" }))).into_response();
        }
    }
    next.run(request).await
}

/// The query a card request asks for, or why it is not one.
fn query_of(params: &HashMap<String, String>) -> Result<Query, String> {
    let given: Vec<(&String, &String)> = params.iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let [(key, value)] = given.as_slice() else {
        return Err("give exactly one of domain, email, linkedin, organization_id, person_id".into());
    };
    let value = value.trim();
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
            _ => Err(format!("{value:?} is not an email address")),
        },
        "linkedin" => match resolve_page(value, &[]) {
            Ok(q) if matches!(q.kind, QueryKind::LinkedinPerson | QueryKind::LinkedinCompany) => Ok(q),
            _ => Err(format!("{value:?} is not a LinkedIn profile or company URL")),
        },
        "organization_id" => id(QueryKind::OrganizationId),
        "person_id" => id(QueryKind::PersonId),
        other => Err(format!("unknown parameter {other:?}")),
    }
}

async fn card(State(shared): State<Arc<GatewayState>>, Params(params): Params<HashMap<String, String>>) -> Response {
    let query = match query_of(&params) {
        Ok(q) => q,
        Err(message) => return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response(),
    };
    let key = format!("{:?}:{}", query.kind, query.value);
    let future = {
        let mut in_flight = shared.in_flight.lock().expect("in-flight lock");
        in_flight
            .entry(key.clone())
            .or_insert_with(|| {
                let client = shared.client.clone();
                let q = query.clone();
                async move { lookup_card(&client, &q).await }.boxed().shared()
            })
            .clone()
    };
    let card = future.clone().await;
    {
        let mut in_flight = shared.in_flight.lock().expect("in-flight lock");
        if in_flight.get(&key).is_some_and(|f| f.ptr_eq(&future)) {
            in_flight.remove(&key);
        }
    }
    let mut response = Json(card).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    response
}
