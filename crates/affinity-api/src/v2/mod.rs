//! Affinity API v2 beside v1: models, endpoints as data, and cursor paging. v2 requests go
//! through the same [`crate::Client`] as v1 (one limiter, one cache, one pool of requests
//! in flight: Affinity counts v1 and v2 against the same limits); the client sends them
//! with `Authorization: Bearer` and `X-Affinity-Api-Version: 2026-07-15` ([`API_VERSION`]),
//! the version whose OpenAPI document (`shared/real-world/affinity-v2`) these models follow.
//!
//! Some endpoints are BETA or need a permission not every key has: a 403 or 404 from one
//! says so ([`crate::Error::Forbidden`], [`crate::Error::NotFound`]), and an application
//! may fall back to v1. Follow a listing's `nextUrl` with [`crate::Client::v2_items`] or
//! [`crate::Client::v2_pages`].

pub mod endpoints;
pub mod models;

pub use models::*;

/// The API version these models follow, sent with every v2 request.
pub const API_VERSION: &str = "2026-07-15";

/// Whether a request path is API v2's.
pub fn is_v2_path(path: &str) -> bool {
    path.starts_with("/v2/")
}
