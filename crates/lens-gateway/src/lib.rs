//! Affinity Lens's gateway: one server a firm runs for everybody, serving Cards to the
//! `<affinity-card>` web component and to extensions in team mode, with the Affinity key on
//! the server.
//!
//! - [`gateway`]: callers identified (tokens, a trusted SSO header), origins checked, the
//!   month's budget guarded, private lists hidden, a card deadline, metrics;
//! - [`shared_state`]: what replicas share in Redis (cache, the key's per-minute window,
//!   look-up locks, changes), and (`fallback`) a replica's own window while Redis is away;
//! - [`webhooks`]: which cached answers and cards an Affinity event touches.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use lens_gateway::gateway::{CallerAuth, Gateway, GatewayConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8788").await?;
//! let mut config = GatewayConfig::new("https://api.affinity.co", "KEY", listener.local_addr()?);
//! config.auth = CallerAuth { tokens: vec!["a-caller-token-of-16+-chars".into()], ..Default::default() };
//! Gateway::new(config).serve(listener).await
//! # }
//! ```

mod callers;
mod connections;
mod fallback;
pub mod gateway;
mod index;
mod live;
pub mod shared_state;
pub mod webhooks;
