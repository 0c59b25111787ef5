//! A client for Affinity CRM's API, v1 and v2, native and in the browser (wasm32).
//!
//! - [`models`] and [`v2`]: every resource as serde types, lenient where the API is loose
//!   (unknown fields ignored, open enums, `null` for empty lists);
//! - [`endpoints`] and [`v2::endpoints`]: every request as data ([`Endpoint`]: method,
//!   path, query, body and the type it returns);
//! - [`Client`]: one pipeline for both versions over a [`Transport`] (reqwest natively,
//!   `fetch` in the browser): a [`limiter`] that keeps under Affinity's rate limits, a
//!   [`cache`] with stale answers for outages, [`coalesce`]d identical reads, retries after
//!   429, and an injected [`clock`];
//! - hooks: [`shared::SharedState`] shares the cache and the per-minute window between
//!   processes of one key, and [`observer::Observer`] is told of every request (to count a
//!   month's calls, say).
//!
//! It knows nothing of any application built on it.
//!
//! ```no_run
//! # async fn run() -> Result<(), affinity_api::Error> {
//! use affinity_api::{Client, ClientConfig, endpoints};
//! use futures::StreamExt;
//!
//! let client = Client::new(ClientConfig::new("https://api.affinity.co", "YOUR-KEY"));
//! let me = client.whoami().await?;
//! println!("{} at {}", me.user.first_name, me.tenant.name);
//!
//! // Every entry of list 123, page after page (limited and cached like any request).
//! let mut entries = std::pin::pin!(client.items(endpoints::list_entries(123, 500)));
//! while let Some(entry) = entries.next().await {
//!     println!("entry {}", entry?.id);
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod cache;
pub mod client;
pub mod clock;
pub mod coalesce;
pub mod endpoints;
pub mod error;
pub mod limiter;
pub mod models;
pub mod observer;
pub mod shared;
pub mod transport;
pub mod v2;

pub use client::{Auth, Client, ClientBuilder, ClientConfig, Fetched, Observation, decode};
pub use endpoints::Endpoint;
pub use error::Error;
pub use observer::Observer;
pub use transport::{DefaultTransport, HttpRequest, HttpResponse, Method, Transport};
