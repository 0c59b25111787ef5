//! The Affinity API v1 client. Rate limiting, caching, coalescing and retries wrap the
//! transport, not each endpoint: every request goes through [`Client::execute`].
//!
//! - GETs are cached ([`CachePolicy`]): a fresh answer makes no request; a stale one
//!   stands in when Affinity is unreachable ([`Source::Stale`]).
//! - Concurrent identical GETs share one request ([`Coalescer`]); when every caller has
//!   left, the request is dropped.
//! - Every request waits for the [`RateLimiter`] and holds one of its slots while in
//!   flight; the slot is a guard, given back even when the request's future is dropped.
//!   A 429 blocks the limiter until the reset (at most an hour) and is retried a bounded
//!   number of times.
//! - A successful write clears the cache, so that later reads see it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use futures::stream::{self, Stream, StreamExt};
use serde::de::DeserializeOwned;
use web_time::Duration;

use crate::Error;
use crate::cache::{CacheEntry, CachePolicy, CacheStore, MemoryCache, Source};
use crate::clock::{BoxFuture, Clock, SystemClock};
use crate::coalesce::Coalescer;
use crate::endpoints::{self, DetailOptions, Endpoint};
use crate::limiter::{LimiterConfig, RateLimiter};
use crate::models::{Organization, Page, RateLimit, WhoAmI};
use crate::observer::Observer;
use crate::shared::SharedState;
use crate::transport::{DefaultTransport, HttpRequest, HttpResponse, MaybeSend, MaybeSync, Method, Transport};
use crate::v2;

/// How the key is sent. Affinity v1 accepts both; Basic is the long-documented one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// `Authorization: Basic base64(":" + key)`.
    #[default]
    Basic,
    /// `Authorization: Bearer key`.
    Bearer,
}

/// Where and how to reach Affinity.
#[derive(Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash, e.g. `https://api.affinity.co`.
    pub base_url: String,
    /// The user's API key. Never logged: `Debug` hides it.
    pub api_key: String,
    /// How v1 requests carry the key (v2's always use Bearer).
    pub auth: Auth,
    /// Time limit for one request.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<hidden>")
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ClientConfig {
    /// Basic auth and a 15-second timeout.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: api_key.into(),
            auth: Auth::Basic,
            timeout: Duration::from_secs(15),
        }
    }
}

/// The `Authorization` headers for a key, built once per client: v1's (Basic or Bearer, as
/// configured) and v2's (Bearer only).
fn authorization(config: &ClientConfig) -> [String; 2] {
    let key = &config.api_key;
    let v1 = match config.auth {
        Auth::Basic => format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!(":{key}"))),
        Auth::Bearer => format!("Bearer {key}"),
    };
    [v1, format!("Bearer {key}")]
}

/// An answer and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched<R> {
    /// The decoded answer.
    pub value: R,
    /// Whether it came from Affinity or the cache.
    pub source: Source,
}

struct Inner<T> {
    config: ClientConfig,
    /// The `Authorization` headers, built once from the key: v1's (`config.auth`) and v2's
    /// (Bearer).
    authorization: [String; 2],
    transport: T,
    limiter: Arc<RateLimiter>,
    cache: Arc<dyn CacheStore>,
    policy: CachePolicy,
    clock: Arc<dyn Clock>,
    in_flight: Coalescer<Result<HttpResponse, Error>>,
    requests_sent: AtomicU64,
    responses_429: AtomicU64,
    /// Told of every request and answer, if anyone listens.
    observer: Option<Arc<dyn Observer>>,
    /// The cache and window shared with other clients of the key, if any.
    shared: Option<Arc<dyn SharedState>>,
    /// Cached answers stored before this instant (ms since the epoch) are not fresh: they
    /// are asked again, and stand in only if Affinity cannot be reached.
    fresh_after_ms: AtomicU64,
}

/// An Affinity API v1 client. Cheap to clone: clones share the limiter, cache and
/// in-flight requests.
pub struct Client<T = DefaultTransport> {
    inner: Arc<Inner<T>>,
    /// Set by [`Client::observed`]: what this clone's answers were.
    observed: Option<Arc<Observation>>,
    /// How GETs use the cache: set by [`Client::uncached`] and [`Client::unstored`].
    reads: Reads,
}

/// How a client's GETs use the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Through the cache and the requests in flight.
    Cached,
    /// Always to Affinity, alone, failing rather than falling back to a cached answer; the
    /// answer still refreshes the cache ([`Client::uncached`]).
    Uncached,
    /// Always to Affinity, alone, and never kept ([`Client::unstored`]).
    Unstored,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client { inner: self.inner.clone(), observed: self.observed.clone(), reads: self.reads }
    }
}

/// What the answers of one task (a set of related reads) were: whether any was a stale
/// stand-in, and the oldest of those; and how many requests it sent. An observation made
/// within another (a task of a task) counts for both.
#[derive(Debug, Default)]
pub struct Observation {
    stale: std::sync::atomic::AtomicBool,
    oldest_stale_ms: AtomicU64,
    requests: AtomicU64,
    within: Option<Arc<Observation>>,
}

impl Observation {
    /// When the oldest stale answer was stored (ms since the epoch), if any answer was stale.
    pub fn stale_since_ms(&self) -> Option<u64> {
        self.stale.load(Ordering::SeqCst).then(|| self.oldest_stale_ms.load(Ordering::SeqCst))
    }

    /// How many requests the task sent to Affinity (retries included; a read shared with
    /// another task counts for the one that sent it).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn stale_answer(&self, stored_at_ms: u64) {
        self.stale.store(true, Ordering::SeqCst);
        self.oldest_stale_ms.fetch_min(stored_at_ms, Ordering::SeqCst);
        if let Some(outer) = &self.within {
            outer.stale_answer(stored_at_ms);
        }
    }

    fn request_sent(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if let Some(outer) = &self.within {
            outer.request_sent();
        }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with shared or custom parts.
pub struct ClientBuilder<T> {
    config: ClientConfig,
    transport: T,
    limiter: Option<Arc<RateLimiter>>,
    cache: Option<Arc<dyn CacheStore>>,
    policy: CachePolicy,
    clock: Option<Arc<dyn Clock>>,
    shared: Option<Arc<dyn SharedState>>,
    observer: Option<Arc<dyn Observer>>,
}

impl<T: Transport + MaybeSend + MaybeSync + 'static> ClientBuilder<T> {
    /// Tells `observer` of every request sent and answer received (to count calls).
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }
    /// Shares answers and the per-minute window with the key's other clients.
    pub fn shared(mut self, shared: Arc<dyn SharedState>) -> Self {
        self.shared = Some(shared);
        self
    }
    /// Uses this limiter (share one among every client of a key).
    pub fn limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }
    /// Uses this cache store.
    pub fn cache(mut self, cache: Arc<dyn CacheStore>) -> Self {
        self.cache = Some(cache);
        self
    }
    /// Uses this cache policy.
    pub fn cache_policy(mut self, policy: CachePolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Uses this clock (tests pass a [`crate::clock::FakeClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// The client.
    pub fn build(self) -> Client<T> {
        Client {
            observed: None,
            reads: Reads::Cached,
            inner: Arc::new(Inner {
                authorization: authorization(&self.config),
                config: self.config,
                transport: self.transport,
                limiter: self.limiter.unwrap_or_else(|| Arc::new(RateLimiter::new(LimiterConfig::default()))),
                cache: self.cache.unwrap_or_else(|| Arc::new(MemoryCache::default())),
                policy: self.policy,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                in_flight: Coalescer::default(),
                requests_sent: AtomicU64::new(0),
                responses_429: AtomicU64::new(0),
                observer: self.observer,
                shared: self.shared,
                fresh_after_ms: AtomicU64::new(0),
            }),
        }
    }
}

impl Client<DefaultTransport> {
    /// A client with the platform's transport, its own limiter and an in-memory cache.
    pub fn new(config: ClientConfig) -> Self {
        Client::builder(config, DefaultTransport::new()).build()
    }
}

impl<T: Transport + MaybeSend + MaybeSync + 'static> Client<T> {
    /// A client over the given transport with its own limiter and cache.
    pub fn with_transport(config: ClientConfig, transport: T) -> Self {
        Client::builder(config, transport).build()
    }

    /// Starts building a client over `transport`.
    pub fn builder(config: ClientConfig, transport: T) -> ClientBuilder<T> {
        ClientBuilder {
            config,
            transport,
            limiter: None,
            cache: None,
            policy: CachePolicy::default(),
            clock: None,
            shared: None,
            observer: None,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The limiter (for its monthly budget, or to persist its state).
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.inner.limiter
    }

    /// How many requests have gone to the transport (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests_sent.load(Ordering::SeqCst)
    }

    /// Forgets the cached answers (in this client's own store) for which `drop` says yes:
    /// a webhook said what they hold has changed. Returns how many went.
    pub fn forget(&self, drop: impl Fn(&str) -> bool) -> usize {
        let keys: Vec<String> = self.inner.cache.keys().into_iter().filter(|k| drop(k)).collect();
        for key in &keys {
            self.inner.cache.remove(key);
        }
        keys.len()
    }

    /// The cache store (to find what an event touches in it).
    pub fn cache(&self) -> &Arc<dyn CacheStore> {
        &self.inner.cache
    }

    /// The cache policy in force.
    pub fn cache_policy(&self) -> CachePolicy {
        self.inner.policy
    }

    /// How many answers were 429s (Affinity's rate limit was hit).
    pub fn rate_limited_responses(&self) -> u64 {
        self.inner.responses_429.load(Ordering::SeqCst)
    }

    /// How many distinct GETs are in flight (shared by their callers) now.
    pub fn gets_in_flight(&self) -> usize {
        self.inner.in_flight.len()
    }

    fn url(&self, path: &str, query: &[(String, String)]) -> Result<String, Error> {
        let base = &self.inner.config.base_url;
        let mut url = url::Url::parse(&format!("{base}{path}"))
            .map_err(|e| Error::Invalid { status: 0, message: format!("bad base URL {base:?}: {e}") })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url.into())
    }

    /// A clone (same cache, limiter and requests in flight) that records whether its
    /// answers came from the stale cache: a caller can then say that what it shows is stale.
    pub fn observed(&self) -> (Client<T>, Arc<Observation>) {
        let observation = Arc::new(Observation {
            oldest_stale_ms: AtomicU64::new(u64::MAX),
            within: self.observed.clone(),
            ..Default::default()
        });
        (Client { inner: self.inner.clone(), observed: Some(observation.clone()), reads: self.reads }, observation)
    }

    /// A clone whose GETs always ask Affinity, share no request in flight, and fail
    /// instead of answering from the cache: for the reads a write decides on (is it done
    /// already?), where an old answer would mean a duplicate. Answers still refresh the cache.
    pub fn uncached(&self) -> Client<T> {
        Client { inner: self.inner.clone(), observed: self.observed.clone(), reads: Reads::Uncached }
    }

    /// A clone whose GETs always ask Affinity, share no request in flight, and are never
    /// kept in the cache: for bulk reads (every page of a directory) that would push
    /// everything else out of it and that no one reads twice.
    pub fn unstored(&self) -> Client<T> {
        Client { inner: self.inner.clone(), observed: self.observed.clone(), reads: Reads::Unstored }
    }

    /// Makes every cached answer stale: the next reads ask Affinity again, and the cached
    /// answers stand in only if it cannot be reached (for a refresh the user asked for;
    /// after a write).
    pub fn invalidate(&self) {
        let now_ms = self.inner.clock.now().as_millis() as u64;
        self.inner.fresh_after_ms.fetch_max(now_ms + 1, Ordering::SeqCst);
    }

    /// Since when (ms since the epoch) cached answers count as fresh: to persist with the
    /// cache, and give back to [`Client::restore_fresh_after`] after a restart.
    pub fn fresh_after_ms(&self) -> u64 {
        self.inner.fresh_after_ms.load(Ordering::SeqCst)
    }

    /// See [`Client::fresh_after_ms`].
    pub fn restore_fresh_after(&self, ms: u64) {
        self.inner.fresh_after_ms.fetch_max(ms, Ordering::SeqCst);
    }

    /// Sends one request and decodes a 2xx answer. The future owns what it needs, so
    /// endpoints built in place can be awaited together.
    pub fn execute<R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<R>,
    ) -> impl Future<Output = Result<R, Error>> + MaybeSend + use<R, T> {
        let fetched = self.fetch(endpoint);
        async move { Ok(fetched.await?.value) }
    }

    /// Like [`Client::execute`], saying whether the answer came from the network or the cache.
    pub fn fetch<R: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<R>,
    ) -> impl Future<Output = Result<Fetched<R>, Error>> + MaybeSend + use<R, T> {
        let method = endpoint.method;
        let body = endpoint.body.as_ref().map(|b| b.to_string());
        let url = self.url(&endpoint.path, &endpoint.query);
        let read = endpoint.is_read();
        let key = url.as_ref().map(|u| endpoint.cache_key(u)).unwrap_or_default();
        // Only the decoding depends on `R`: the request itself is one future for every
        // endpoint (one copy of its code, not one per answer type).
        let raw = self.clone().fetch_body(method, url, body, read, key);
        async move {
            let (body, source) = raw.await?;
            // A 204 (a v2 write) has no body: it reads as `null`, so as `()` or `None`.
            let body = if body.trim().is_empty() { "null" } else { body.as_str() };
            Ok(Fetched { value: decode(body)?, source })
        }
    }

    /// Sends a request and answers its body: a read through the cache and the requests in
    /// flight, a write straight to Affinity (after which nothing cached is fresh).
    async fn fetch_body(
        self,
        method: Method,
        url: Result<String, Error>,
        body: Option<String>,
        read: bool,
        key: String,
    ) -> Result<(String, Source), Error> {
        let url = url?;
        if read {
            return self.get(key, self.request(method, url, body)).await;
        }
        let response = check_status(self.send_limited(self.request(method, url, body)).await?)?;
        // The write changes what reads return: nothing cached is fresh any more (it still
        // stands in for an outage).
        self.invalidate();
        Ok((response.body, Source::Network))
    }

    fn request(&self, method: Method, url: String, body: Option<String>) -> HttpRequest {
        // API v2 takes Bearer only, at the version our models follow.
        let v2 = url.strip_prefix(&self.inner.config.base_url).is_some_and(v2::is_v2_path);
        let authorization = self.inner.authorization[usize::from(v2)].clone();
        let mut headers =
            vec![("authorization".to_owned(), authorization), ("accept".to_owned(), "application/json".to_owned())];
        if v2 {
            headers.push(("x-affinity-api-version".to_owned(), v2::API_VERSION.to_owned()));
        }
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        HttpRequest { method, url, headers, body, timeout: self.inner.config.timeout }
    }

    /// A cached, coalesced read (a GET, or a v2 search), cached under `url` (its key).
    async fn get(&self, url: String, request: HttpRequest) -> Result<(String, Source), Error> {
        if self.reads == Reads::Unstored {
            return Ok((check_status(self.send_limited(request).await?)?.body, Source::Network));
        }
        if self.reads == Reads::Uncached {
            let response = check_status(self.send_limited(request).await?)?;
            let stored_at_ms = self.inner.clock.now().as_millis() as u64;
            self.inner.cache.put(&url, CacheEntry { body: response.body.clone(), stored_at_ms });
            return Ok((response.body, Source::Network));
        }
        let now_ms = self.inner.clock.now().as_millis() as u64;
        let cached = self.inner.cache.get(&url);
        let fresh_after = self.inner.fresh_after_ms.load(Ordering::SeqCst);
        let fresh = |entry: &CacheEntry| {
            now_ms.saturating_sub(entry.stored_at_ms) < self.inner.policy.fresh_for.as_millis() as u64
                && entry.stored_at_ms >= fresh_after
        };
        // While a shared store answers it is the one trusted: another client of the key
        // may have dropped an answer there that this one still holds.
        let shared = self.inner.shared.as_ref().filter(|s| s.available());
        match shared {
            None => {
                if let Some(entry) = cached.as_ref().filter(|e| fresh(e)) {
                    return Ok((entry.body.clone(), Source::Fresh));
                }
            }
            Some(shared) => {
                if let Some(entry) = shared.cache_get(&url).await.filter(|e| fresh(e)) {
                    self.inner.cache.put(&url, entry.clone());
                    return Ok((entry.body, Source::Fresh));
                }
            }
        }
        let this = self.clone();
        let result = self
            .inner
            .in_flight
            .run(&url, move || -> BoxFuture<'static, Result<HttpResponse, Error>> {
                Box::pin(async move { this.send_limited(request).await })
            })
            .await;
        match result.and_then(check_status) {
            Ok(response) => {
                let stored_at_ms = self.inner.clock.now().as_millis() as u64;
                let entry = CacheEntry { body: response.body.clone(), stored_at_ms };
                if let Some(shared) = &self.inner.shared {
                    shared.cache_put(&url, entry.clone(), self.inner.policy.fresh_for).await;
                }
                self.inner.cache.put(&url, entry);
                Ok((response.body, Source::Network))
            }
            Err(Error::Unavailable { status, message }) => match cached {
                Some(entry)
                    if now_ms.saturating_sub(entry.stored_at_ms) < self.inner.policy.stale_for.as_millis() as u64 =>
                {
                    if let Some(o) = &self.observed {
                        o.stale_answer(entry.stored_at_ms);
                    }
                    Ok((entry.body, Source::Stale))
                }
                _ => Err(Error::Unavailable { status, message }),
            },
            Err(e) => Err(e),
        }
    }

    /// Sends through the limiter, retrying 429s after their reset.
    async fn send_limited(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let inner = &self.inner;
        let mut attempt = 0;
        loop {
            let max_wait = inner.limiter.config().max_wait;
            let slot = loop {
                let wait = match inner.limiter.acquire(inner.clock.now()) {
                    // Also a place in the window shared with the key's other clients.
                    Ok(slot) => match &inner.shared {
                        Some(shared) => match shared.take_request(inner.clock.now()).await {
                            Ok(()) => break slot,
                            Err(d) => d, // the slot goes back while waiting
                        },
                        None => break slot,
                    },
                    Err(d) => d,
                };
                if max_wait.is_some_and(|m| wait > m) {
                    return Err(Error::RateLimited { retry_after: Some(wait) });
                }
                inner.clock.sleep(wait).await;
            };
            inner.requests_sent.fetch_add(1, Ordering::SeqCst);
            if let Some(o) = &self.observed {
                o.request_sent();
            }
            if let Some(observer) = &inner.observer {
                observer.request_sent(&request, inner.clock.now());
            }
            // The slot is held across the send and given back when it ends, or when this
            // future is dropped mid-send.
            let result = inner.transport.send(request.clone()).await;
            drop(slot);
            let response = result?;
            let now = inner.clock.now();
            if let Some(observer) = &inner.observer {
                observer.response_received(&request, response.status, now);
            }
            inner.limiter.observe(now, &response);
            if let Some(shared) = &inner.shared {
                shared.observe(&response, now);
            }
            if response.status != 429 {
                return Ok(response);
            }
            inner.responses_429.fetch_add(1, Ordering::SeqCst);
            let retry_after = crate::limiter::retry_after(&response, now);
            // Jitter (up to 0.5 s) so that many callers do not return at once.
            let jitter = Duration::from_millis(u64::from(now.subsec_nanos() % 500));
            inner.limiter.rate_limited(now, retry_after, jitter);
            attempt += 1;
            let too_long = max_wait.is_some_and(|m| retry_after.is_none_or(|d| d + jitter > m));
            if too_long || attempt > inner.limiter.config().max_retries {
                return Err(Error::RateLimited { retry_after });
            }
        }
    }

    /// Every page of a paged endpoint, following `next_page_token` with the other
    /// parameters unchanged. Stops at the first error (yielded) or a page without a token.
    pub fn pages<I: DeserializeOwned + 'static>(
        &self,
        endpoint: Endpoint<Page<I>>,
    ) -> impl Stream<Item = Result<Page<I>, Error>> + use<I, T> {
        let client = self.clone();
        stream::unfold(Some(endpoint), move |next| {
            let client = client.clone();
            async move {
                let endpoint = next?;
                match client.execute(&endpoint).await {
                    Ok(page) => {
                        let following = page.next_page_token.as_deref().map(|t| endpoint.with_page_token(t));
                        Some((Ok(page), following))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }

    /// Every item of a paged endpoint, page after page.
    pub fn items<I: DeserializeOwned + 'static>(
        &self,
        endpoint: Endpoint<Page<I>>,
    ) -> impl Stream<Item = Result<I, Error>> + use<I, T> {
        self.pages(endpoint).flat_map(|page| {
            stream::iter(match page {
                Ok(p) => p.items.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        })
    }

    /// The items of up to `max_pages` pages of a v2 listing, following `pagination.nextUrl`
    /// as it is.
    pub async fn v2_items<I: DeserializeOwned + 'static>(
        &self,
        endpoint: Endpoint<v2::Paged<I>>,
        max_pages: usize,
    ) -> Result<Vec<I>, Error> {
        // A loop rather than `v2_pages`: the extension's module holds one copy of this per
        // item type, and a stream's state machine is larger.
        let mut out = Vec::new();
        let mut next = Some(endpoint);
        let mut pages = 0;
        while let Some(endpoint) = next.take() {
            let page = self.execute(&endpoint).await?;
            out.extend(page.data);
            pages += 1;
            if pages < max_pages {
                next = page.pagination.next_url.as_deref().and_then(|u| endpoint.with_next_url(u));
            }
        }
        Ok(out)
    }

    /// Every page of a v2 listing, following `pagination.nextUrl` as it is. Stops at the
    /// first error (yielded) or a page without a next URL.
    pub fn v2_pages<I: DeserializeOwned + 'static>(
        &self,
        endpoint: Endpoint<v2::Paged<I>>,
    ) -> impl Stream<Item = Result<v2::Paged<I>, Error>> + use<I, T> {
        let client = self.clone();
        stream::unfold(Some(endpoint), move |next| {
            let client = client.clone();
            async move {
                let endpoint = next?;
                match client.execute(&endpoint).await {
                    Ok(page) => {
                        let following = page.pagination.next_url.as_deref().and_then(|u| endpoint.with_next_url(u));
                        Some((Ok(page), following))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }

    /// `GET /organizations/{id}`.
    pub async fn get_organization(&self, id: i64) -> Result<Organization, Error> {
        self.execute(&endpoints::organization(id, DetailOptions::default())).await
    }

    /// `GET /auth/whoami`: the key's user and firm.
    pub async fn whoami(&self) -> Result<WhoAmI, Error> {
        self.execute(&endpoints::whoami()).await
    }

    /// `GET /rate-limit`, also recorded in the limiter's monthly budget.
    pub async fn rate_limit(&self) -> Result<RateLimit, Error> {
        let url = self.url("/rate-limit", &[])?;
        let response = check_status(self.send_limited(self.request(Method::Get, url, None)).await?)?;
        let rate: RateLimit = decode(&response.body)?;
        self.inner.limiter.set_monthly(self.inner.clock.now(), &rate.rate.org_monthly);
        Ok(rate)
    }
}

fn check_status(response: HttpResponse) -> Result<HttpResponse, Error> {
    if (200..300).contains(&response.status) {
        return Ok(response);
    }
    // 429s never get here: `send_limited` retries them and reports `RateLimited` itself.
    Err(Error::from_status(response.status, &response.body, None))
}

/// Decodes JSON, naming the field that failed.
pub fn decode<R: DeserializeOwned>(body: &str) -> Result<R, Error> {
    // In a wasm build, where the field's path would double every model's decoding code,
    // the error says where in the answer instead (line and column).
    #[cfg(target_arch = "wasm32")]
    {
        serde_json::from_str(body).map_err(|e| Error::BadResponse {
            path: format!("line {} column {}", e.line(), e.column()),
            message: e.to_string(),
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let de = &mut serde_json::Deserializer::from_str(body);
        serde_path_to_error::deserialize(de)
            .map_err(|e| Error::BadResponse { path: e.path().to_string(), message: e.inner().to_string() })
    }
}
