//! The Affinity-compatible sandbox: same paths, shapes, auth and errors as Affinity API v1,
//! over an in-memory world.

mod world;

use std::sync::{Arc, RwLock};

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use world::World;

/// How the sandbox behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The one API key accepted (Basic with an empty user, or Bearer).
    pub api_key: String,
}

impl SandboxConfig {
    /// A sandbox that accepts `api_key`, with the default world.
    pub fn new(api_key: impl Into<String>) -> Self {
        SandboxConfig { api_key: api_key.into() }
    }
}

struct Shared {
    config: SandboxConfig,
    world: RwLock<World>,
}

/// A running sandbox's state and routes.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

impl Sandbox {
    /// A sandbox over the seeded world.
    pub fn new(config: SandboxConfig) -> Self {
        Self::with_world(config, World::seeded())
    }

    /// A sandbox over the given world.
    pub fn with_world(config: SandboxConfig, world: World) -> Self {
        Sandbox { shared: Arc::new(Shared { config, world: RwLock::new(world) }) }
    }

    /// The routes, for tests that drive the router directly or serve it themselves.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/organizations", get(search_organizations))
            .route("/organizations/{id}", get(get_organization))
            .route("/auth/whoami", get(whoami))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Not found") })
            .layer(middleware::from_fn_with_state(self.shared.clone(), authenticate))
            .with_state(self.shared.clone())
    }

    /// Serves until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

/// A JSON error in the shape clients read (`{"errors":[{"message":..}]}` plus `message`).
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [{ "code": status.as_u16(), "message": message }], "message": message })))
        .into_response()
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

async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    match presented_key(request.headers()) {
        Some(key) if key == shared.config.api_key => {
            let mut response = next.run(request).await;
            response.headers_mut().insert("x-ratelimit-limit-user", HeaderValue::from_static("900"));
            response
        }
        Some(_) => error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        None => error(
            StatusCode::UNAUTHORIZED,
            "Missing API key: use Basic auth with the key as password, or a Bearer token",
        ),
    }
}

#[derive(Debug, Deserialize, Serialize)]
struct SearchParams {
    #[serde(default)]
    term: Option<String>,
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    page_token: Option<String>,
}

/// The page token: the search it continues and where it stands, base64url JSON as
/// Affinity's own tokens are.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct PageToken {
    params: serde_json::Value,
    page_size: usize,
    offset: usize,
}

const DEFAULT_PAGE_SIZE: usize = 500;

async fn search_organizations(State(shared): State<Arc<Shared>>, Query(params): Query<SearchParams>) -> Response {
    let filters = json!({ "term": params.term });
    let page_size = params.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, DEFAULT_PAGE_SIZE);
    let offset = match &params.page_token {
        None => 0,
        Some(token) => match decode_token(token) {
            Some(t) if t.params == filters => t.offset,
            _ => return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid page_token variable"),
        },
    };
    let world = shared.world.read().expect("world lock");
    let matches = world.search_organizations(params.term.as_deref().unwrap_or(""));
    let page: Vec<_> = matches.iter().skip(offset).take(page_size).map(|o| o.summary()).collect();
    let next = offset + page.len();
    let next_page_token =
        (next < matches.len()).then(|| encode_token(&PageToken { params: filters, page_size, offset: next }));
    Json(json!({ "organizations": page, "next_page_token": next_page_token })).into_response()
}

async fn get_organization(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "organization_id must be an integer");
    };
    let world = shared.world.read().expect("world lock");
    match world.organization(id) {
        Some(org) => Json(org.detail()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Organization not found"),
    }
}

async fn whoami(State(shared): State<Arc<Shared>>) -> Response {
    let world = shared.world.read().expect("world lock");
    Json(world.whoami()).into_response()
}

fn encode_token(token: &PageToken) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(token).expect("token serialises"))
}

fn decode_token(token: &str) -> Option<PageToken> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    serde_json::from_slice(&bytes).ok()
}
