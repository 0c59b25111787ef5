//! Native servers of Affinity Lens.
//!
//! - [`gateway`]: serves Cards to the `<affinity-card>` web component, keeping the API
//!   key on the server.
//! - [`sandbox`]: an Affinity-compatible API v1 server with a seeded world, so that the
//!   demo and every test run without an Affinity account.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use affinity_server::sandbox::{Sandbox, SandboxConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! Sandbox::new(SandboxConfig::new("demo-key")).serve(listener).await
//! # }
//! ```

pub mod gateway;
pub mod sandbox;
pub mod shared_state;
pub mod webhooks;
