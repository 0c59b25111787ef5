//! Affinity API v2 beside v1: models, endpoints as data, and cursor paging. v2 requests go
//! through the same [`crate::Client`] as v1 (one limiter, one cache, one pool of requests
//! in flight: Affinity counts v1 and v2 against the same limits); the client sends them
//! with `Authorization: Bearer` and `X-Affinity-Api-Version: 2026-07-15` ([`API_VERSION`]),
//! the version whose OpenAPI document (`shared/real-world/affinity-v2`) these models follow.
//!
//! Some endpoints are BETA or need a permission not every key has; the lookup asks them
//! only when [`crate::account::Capabilities`] says the key may, and falls back to v1.

pub mod endpoints;
pub mod models;

pub use models::*;

use crate::Error;
use crate::client::Client;
use crate::endpoints::Endpoint;
use crate::transport::{MaybeSend, MaybeSync, Transport};

/// The API version the Lens is written against, sent with every v2 request.
pub const API_VERSION: &str = "2026-07-15";

/// Whether a request path is API v2's.
pub fn is_v2_path(path: &str) -> bool {
    path.starts_with("/v2/")
}

/// The items of up to `max_pages` pages, following `pagination.nextUrl` as it is.
pub async fn items<T, X>(client: &Client<X>, endpoint: Endpoint<Paged<T>>, max_pages: usize) -> Result<Vec<T>, Error>
where
    T: serde::de::DeserializeOwned + 'static,
    X: Transport + MaybeSend + MaybeSync + 'static,
{
    let mut out = Vec::new();
    let mut next = Some(endpoint);
    let mut pages = 0;
    while let Some(endpoint) = next.take() {
        let page = client.execute(&endpoint).await?;
        out.extend(page.data);
        pages += 1;
        if pages < max_pages {
            next = page.pagination.next_url.as_deref().and_then(|u| endpoint.with_next_url(u));
        }
    }
    Ok(out)
}
