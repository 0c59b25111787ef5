//! State shared with other processes that use the same key: the replicas of a service
//! behind a load balancer, say. The client asks it, besides its own cache and limiter, for
//! answers another replica already fetched and for a place in the key's per-minute window,
//! which Affinity counts across every replica. The store itself (Redis, say) lives
//! outside this crate; it must fail open: when it cannot be reached it answers "not
//! cached" and leaves the pace to the local limiter.

use web_time::Duration;

use crate::cache::CacheEntry;
use crate::clock::BoxFuture;
use crate::transport::{HttpResponse, MaybeSend, MaybeSync};

/// A cache and a rate-limit window shared by several clients of one key.
pub trait SharedState: MaybeSend + MaybeSync + 'static {
    /// Whether the shared store answers now. While it does, the client trusts it over its
    /// own cache (another replica may have dropped an answer there); while it does not,
    /// the client serves from its own memory.
    fn available(&self) -> bool;
    /// The shared answer for `key`, if any.
    fn cache_get(&self, key: &str) -> BoxFuture<'static, Option<CacheEntry>>;
    /// Shares an answer for `ttl`.
    fn cache_put(&self, key: &str, entry: CacheEntry, ttl: Duration) -> BoxFuture<'static, ()>;
    /// Takes a place for one request in the key's window shared by every client, at `now`
    /// (since the epoch): `Ok`, or how long to wait before asking again.
    fn take_request(&self, now: Duration) -> BoxFuture<'static, Result<(), Duration>>;

    /// Learns from an answer (its `x-ratelimit-*` headers) what Affinity's own window holds,
    /// the key's other clients' calls included, so that the shared window holds at least as
    /// much. Called for every answer, inline: it should only note the figures. By default,
    /// nothing.
    fn observe(&self, response: &HttpResponse, now: Duration) {
        let _ = (response, now);
    }
}
