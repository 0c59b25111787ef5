//! Affinity Lens core: the Affinity API v1 models and client, and the lookup engine that
//! turns the page a user is looking at into a [`Card`].
//!
//! It compiles natively (the CLI, the sandbox's tests, the gateway) and to wasm32 (the
//! extension's background worker). Nothing here touches the DOM or Leptos.
//!
//! ```no_run
//! # async fn run() -> Result<(), affinity_core::Error> {
//! use affinity_core::{Client, ClientConfig, resolve_page, lookup_card};
//! let client = Client::new(ClientConfig::new("https://api.affinity.co", "KEY"));
//! let query = resolve_page("https://www.acme.com/about", &[]).expect("a company site");
//! let card = lookup_card(&client, &query).await;
//! println!("{}", serde_json::to_string_pretty(&card).unwrap());
//! # Ok(()) }
//! ```

pub mod account;
pub mod actions;
pub mod cache;
pub mod card;
pub mod client;
pub mod clock;
pub mod coalesce;
pub mod endpoints;
pub mod error;
pub mod limiter;
pub mod lookup;
pub mod models;
pub mod page;
pub mod shared;
pub mod transport;
pub mod v2;

pub use card::{Card, CardEntity, CardError, CardStatus, EntityKind, Query, QueryKind};
pub use client::{Auth, Client, ClientBuilder, ClientConfig, Fetched};
pub use error::{Error, ErrorKind};
pub use lookup::{lookup_card, lookup_card_hinted, lookup_card_with};
pub use page::{PageError, PageHints, resolve_page, resolve_page_with_hints};
pub use transport::{DefaultTransport, HttpRequest, HttpResponse, Method, Transport};
