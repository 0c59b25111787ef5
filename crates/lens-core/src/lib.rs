//! Affinity Lens's engine: from the page a user is looking at to a [`Card`], in the fewest
//! calls of the firm's monthly Affinity budget.
//!
//! - [`page`]: what a page is about (a company's registrable domain by the Public Suffix
//!   List, a LinkedIn profile, an email), and the sites never looked up;
//! - [`lookup`]: the look-up and its two phases (the pill of a page view, then the opened
//!   card), v2 where the key may and v1 otherwise;
//! - [`index`]: every company the firm knows, on this machine (domains, names, lists and
//!   Status), its sync under a budget, its compact bytes: a page the firm does not know
//!   costs no call;
//! - [`mail`]: an email thread's external participants (not the user, not the firm, each
//!   address checked) and their companies by domain (not free mail); [`thread`]: the card
//!   of such a thread;
//! - [`card`]: the Card, the JSON contract between the gateway, the web component, the CLI
//!   and the UI; [`pill`]: what the folded card says of it; [`error_kind`]: the failures
//!   it and the extension report;
//! - [`fields`], [`notes`], [`firmographics`]: what an opened card adds: every field of a
//!   list entry (and the checks of what the user types into one), the latest notes, a
//!   company's facts from Affinity's enrichment;
//! - [`actions`]: the card's writes, each checked first so that a retry never duplicates;
//! - [`account`]: what the Lens remembers of a key's account (v2 capabilities, context,
//!   the month's usage), and [`LensClient`], an Affinity client that carries it.
//!
//! It compiles natively (the CLI, the gateway) and to wasm32 (the extension's background).
//! Nothing here touches the DOM or Leptos; Affinity itself is spoken by `affinity-api`.
//!
//! ```no_run
//! # async fn run() {
//! use lens_core::{LensClient, lookup_card, resolve_page};
//! use affinity_api::ClientConfig;
//! let client = LensClient::from_config(ClientConfig::new("https://api.affinity.co", "KEY"));
//! let query = resolve_page("https://www.acme.com/about", &[]).expect("a company site");
//! let card = lookup_card(&client, &query).await;
//! println!("{}", serde_json::to_string_pretty(&card).unwrap());
//! # }
//! ```

pub mod account;
pub mod actions;
pub mod card;
pub mod error_kind;
pub mod fields;
pub mod firmographics;
pub mod index;
pub mod lookup;
pub mod mail;
pub mod notes;
pub mod page;
pub mod pill;
pub mod thread;

pub use account::{Account, LensClient};
pub use card::{Card, CardEntity, CardError, CardStatus, EntityKind, Query, QueryKind};
pub use error_kind::ErrorKind;
pub use lookup::{lookup_card, lookup_card_hinted, lookup_card_with};
pub use page::{PageError, PageHints, resolve_page, resolve_page_with_hints};
