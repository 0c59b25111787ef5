//! The client over a scripted transport: call counts, caching, coalescing, 429 handling
//! and pagination, on a fake clock.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use affinity_api::cache::{CachePolicy, MemoryCache, Source};
use affinity_api::clock::{Clock, FakeClock};
use affinity_api::endpoints::{self, EntityRef, SearchQuery};
use affinity_api::transport::{HttpRequest, HttpResponse, Transport};
use affinity_api::{Auth, Client, ClientConfig, Error};
use futures::StreamExt;
use web_time::Duration;

/// Answers from a script, in order, and records each request with the fake time it was sent.
#[derive(Clone)]
struct Scripted {
    clock: FakeClock,
    answers: Arc<Mutex<VecDeque<Result<HttpResponse, Error>>>>,
    seen: Arc<Mutex<Vec<(Duration, HttpRequest)>>>,
}

impl Scripted {
    fn new(clock: &FakeClock, answers: Vec<Result<HttpResponse, Error>>) -> Self {
        Scripted { clock: clock.clone(), answers: Arc::new(Mutex::new(answers.into())), seen: Arc::default() }
    }
    fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    fn urls(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|(_, r)| r.url.clone()).collect()
    }
}

impl Transport for Scripted {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.seen.lock().unwrap().push((self.clock.now(), request));
        // Let other tasks run, so that identical requests can overlap.
        tokio::task::yield_now().await;
        self.answers.lock().unwrap().pop_front().unwrap_or_else(|| panic!("unexpected request: the script is empty"))
    }
}

fn ok(body: &str) -> Result<HttpResponse, Error> {
    Ok(HttpResponse { status: 200, headers: vec![], body: body.to_owned() })
}
fn status(code: u16, headers: &[(&str, &str)], body: &str) -> Result<HttpResponse, Error> {
    Ok(HttpResponse {
        status: code,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: body.to_owned(),
    })
}

const WHOAMI: &str = r#"{"tenant":{"id":1,"name":"Firm","subdomain":"firm"},"user":{"id":2,"firstName":"A","lastName":"B","email":"a@firm.com"},"grant":{"type":"api_key","scope":"external_api","createdAt":"2026-01-01T00:00:00Z"}}"#;

fn client(clock: &FakeClock, transport: Scripted) -> Client<Scripted> {
    Client::builder(ClientConfig::new("https://api.test", "secret"), transport)
        .clock(Arc::new(clock.clone()))
        .cache(Arc::new(MemoryCache::default()))
        .build()
}

fn start() -> FakeClock {
    FakeClock::at(Duration::from_secs(1_700_000_000))
}

#[tokio::test]
async fn concurrent_identical_gets_share_one_request() {
    let clock = start();
    let t = Scripted::new(&clock, vec![ok(WHOAMI)]);
    let c = client(&clock, t.clone());
    let results = futures::future::join_all((0..10).map(|_| c.whoami())).await;
    assert!(results.iter().all(|r| r.as_ref().unwrap().tenant.subdomain == "firm"));
    assert_eq!(t.calls(), 1);
}

#[tokio::test]
async fn a_fresh_answer_makes_no_request_and_a_stale_one_stands_in_for_an_outage() {
    let clock = start();
    let t = Scripted::new(
        &clock,
        vec![ok(WHOAMI), Err(Error::Unavailable { status: Some(503), message: "down".into() }), ok(WHOAMI)],
    );
    let c = client(&clock, t.clone());
    assert_eq!(c.fetch(&endpoints::whoami()).await.unwrap().source, Source::Network);
    assert_eq!(c.fetch(&endpoints::whoami()).await.unwrap().source, Source::Fresh);
    assert_eq!(t.calls(), 1);
    clock.advance(CachePolicy::default().fresh_for + Duration::from_secs(1));
    let stale = c.fetch(&endpoints::whoami()).await.unwrap();
    assert_eq!(stale.source, Source::Stale);
    assert_eq!(stale.value.user.id, 2);
    assert_eq!(c.fetch(&endpoints::whoami()).await.unwrap().source, Source::Network);
    assert_eq!(t.calls(), 3);
}

#[tokio::test]
async fn past_the_stale_window_an_outage_is_an_error() {
    let clock = start();
    let t =
        Scripted::new(&clock, vec![ok(WHOAMI), Err(Error::Unavailable { status: None, message: "timeout".into() })]);
    let c = client(&clock, t.clone());
    c.whoami().await.unwrap();
    clock.advance(CachePolicy::default().stale_for + Duration::from_secs(1));
    assert_eq!(c.whoami().await.unwrap_err().kind(), "unavailable");
}

#[tokio::test]
async fn a_429_is_retried_only_after_its_reset() {
    let clock = start();
    let t = Scripted::new(&clock, vec![status(429, &[("Retry-After", "5")], "{}"), ok(WHOAMI)]);
    let c = client(&clock, t.clone());
    c.whoami().await.unwrap();
    let seen = t.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].0 - seen[0].0;
    assert!(gap >= Duration::from_secs(5), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(6), "waited too long: {gap:?}");
}

#[tokio::test]
async fn the_reset_header_is_used_when_there_is_no_retry_after_and_retries_are_bounded() {
    let clock = start();
    let limited = || status(429, &[("x-ratelimit-limit-user-reset", "20")], r#"{"message":"Too many requests"}"#);
    let t = Scripted::new(&clock, vec![limited(), limited(), limited(), limited()]);
    let c = client(&clock, t.clone());
    let err = c.whoami().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(20)), "{err:?}");
    let seen = t.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "one try and three retries");
    for pair in seen.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= Duration::from_secs(20));
    }
}

#[tokio::test]
async fn errors_keep_the_servers_message() {
    let clock = start();
    let t = Scripted::new(
        &clock,
        vec![
            status(422, &[], r#"{"errors":[{"message":"Invalid page_token variable"}]}"#),
            status(401, &[], r#"{"message":"bad key"}"#),
            status(403, &[], "{}"),
            status(404, &[], "{}"),
            status(500, &[], "<html>oops</html>"),
            ok(r#"{"tenant": 5}"#),
        ],
    );
    let c = client(&clock, t.clone());
    let e = c.execute(&endpoints::lists()).await.unwrap_err();
    assert_eq!(e, Error::Invalid { status: 422, message: "Invalid page_token variable".into() });
    assert_eq!(c.execute(&endpoints::list(1)).await.unwrap_err().kind(), "unauthorized");
    assert_eq!(c.execute(&endpoints::list(2)).await.unwrap_err().kind(), "forbidden");
    assert_eq!(c.execute(&endpoints::list(3)).await.unwrap_err().kind(), "not_found");
    assert_eq!(c.execute(&endpoints::list(4)).await.unwrap_err().kind(), "unavailable");
    match c.whoami().await.unwrap_err() {
        Error::BadResponse { path, .. } => assert_eq!(path, "tenant"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn pages_follow_tokens_with_every_other_parameter_unchanged() {
    let clock = start();
    let t = Scripted::new(
        &clock,
        vec![
            ok(r#"{"organizations":[{"id":1,"name":"A"},{"id":2,"name":"B"}],"next_page_token":"t1"}"#),
            ok(r#"{"organizations":[{"id":3,"name":"C"}],"next_page_token":"t2"}"#),
            ok(r#"{"organizations":[],"next_page_token":null}"#),
        ],
    );
    let c = client(&clock, t.clone());
    let query = SearchQuery { page_size: Some(2), with_interaction_dates: true, ..SearchQuery::term("acme") };
    let ids: Vec<i64> =
        c.items(endpoints::search_organizations(&query)).map(|o| o.unwrap().id).collect::<Vec<_>>().await;
    assert_eq!(ids, vec![1, 2, 3]);
    let urls = t.urls();
    assert_eq!(urls.len(), 3);
    assert_eq!(urls[0], "https://api.test/organizations?page_size=2&term=acme&with_interaction_dates=true");
    assert_eq!(urls[1], format!("{}&page_token=t1", urls[0]));
    assert_eq!(urls[2], format!("{}&page_token=t2", urls[0]));
}

#[tokio::test]
async fn a_write_makes_the_cache_stale_so_later_reads_see_it() {
    let clock = start();
    let t = Scripted::new(
        &clock,
        vec![
            ok("[]"),
            ok(
                r#"{"id":9,"list_id":5,"creator_id":2,"entity_id":7,"entity_type":1,"created_at":"2026-01-01T00:00:00Z"}"#,
            ),
            ok(r#"[{"id":9,"list_id":5,"entity_id":7}]"#),
        ],
    );
    let c = client(&clock, t.clone());
    assert!(c.execute(&endpoints::all_list_entries(5)).await.unwrap().is_empty());
    let created = c.execute(&endpoints::create_list_entry(5, 7)).await.unwrap();
    assert_eq!(created.id, 9);
    assert_eq!(c.execute(&endpoints::all_list_entries(5)).await.unwrap().len(), 1);
    let seen = t.seen.lock().unwrap().clone();
    assert_eq!(seen[1].1.body.as_deref(), Some(r#"{"entity_id":7}"#));
    assert!(seen[1].1.headers.contains(&("content-type".into(), "application/json".into())));
}

#[tokio::test]
async fn basic_and_bearer_auth_send_the_key_as_affinity_expects() {
    let clock = start();
    let t = Scripted::new(&clock, vec![ok("[]"), ok("[]")]);
    let basic = client(&clock, t.clone());
    basic.execute(&endpoints::field_values(EntityRef::Person(1))).await.unwrap();
    let mut config = ClientConfig::new("https://api.test", "secret");
    config.auth = Auth::Bearer;
    let bearer = Client::builder(config, t.clone()).clock(Arc::new(clock.clone())).build();
    bearer.execute(&endpoints::field_values(EntityRef::Person(1))).await.unwrap();
    let seen = t.seen.lock().unwrap().clone();
    let auth = |i: usize| seen[i].1.headers.iter().find(|(k, _)| k == "authorization").unwrap().1.clone();
    assert_eq!(auth(0), "Basic OnNlY3JldA=="); // base64(":secret")
    assert_eq!(auth(1), "Bearer secret");
    assert!(!format!("{:?}", basic.config()).contains("secret"), "Debug must hide the key");
}

#[tokio::test]
async fn rate_limit_feeds_the_monthly_budget() {
    let clock = start();
    let t = Scripted::new(
        &clock,
        vec![ok(
            r#"{"rate":{"org_monthly":{"limit":100000,"remaining":250,"reset":3600,"used":99750},"api_key_per_minute":{"limit":900,"remaining":899,"reset":30,"used":1}}}"#,
        )],
    );
    let c = client(&clock, t);
    c.rate_limit().await.unwrap();
    let monthly = c.limiter().monthly().unwrap();
    assert_eq!((monthly.limit, monthly.remaining), (Some(100_000), Some(250)));
}

/// A card someone waits for: past `max_wait`, a 429 is reported at once with its retry
/// time, and later requests fail fast until the reset instead of hanging.
#[tokio::test]
async fn with_a_wait_limit_a_long_429_fails_at_once_with_its_retry_time() {
    use affinity_api::limiter::{LimiterConfig, RateLimiter};
    let clock = start();
    let t = Scripted::new(&clock, vec![status(429, &[("Retry-After", "60")], "{}"), ok(WHOAMI)]);
    let config = LimiterConfig { max_wait: Some(Duration::from_secs(5)), ..LimiterConfig::default() };
    let c = Client::builder(ClientConfig::new("https://api.test", "secret"), t.clone())
        .clock(Arc::new(clock.clone()))
        .limiter(Arc::new(RateLimiter::new(config)))
        .build();
    let t0 = clock.now();
    let err = c.whoami().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(60)), "{err:?}");
    assert_eq!(clock.now(), t0, "no waiting");
    // Blocked until the reset: the next call fails without a request.
    let err = c.whoami().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { retry_after: Some(d) } if d > Duration::from_secs(59)), "{err:?}");
    assert_eq!(t.calls(), 1);
    // After the reset it goes through.
    clock.advance(Duration::from_secs(61));
    assert_eq!(c.whoami().await.unwrap().user.id, 2);
}

/// A refresh (`invalidate`) asks again, and when Affinity is down the old answer stands in.
#[tokio::test]
async fn after_invalidate_answers_are_asked_again_but_still_stand_in_for_an_outage() {
    let clock = start();
    let t =
        Scripted::new(&clock, vec![ok(WHOAMI), Err(Error::Unavailable { status: Some(503), message: "down".into() })]);
    let c = client(&clock, t.clone());
    c.whoami().await.unwrap();
    clock.advance(Duration::from_millis(10));
    c.invalidate();
    let (observed, observation) = c.observed();
    let again = observed.fetch(&endpoints::whoami()).await.unwrap();
    assert_eq!(again.source, Source::Stale);
    assert_eq!(t.calls(), 2);
    assert_eq!(observation.stale_since_ms(), Some(1_700_000_000_000));
}

/// The reads a write decides on: an outage is an error, never yesterday's answer (which
/// could say "not there yet" about something the lost first attempt already wrote).
#[tokio::test]
async fn an_uncached_read_fails_in_an_outage_instead_of_answering_from_the_cache() {
    let clock = start();
    let down = || Err(Error::Unavailable { status: Some(503), message: "down".into() });
    let t = Scripted::new(&clock, vec![ok(WHOAMI), down(), down()]);
    let c = client(&clock, t.clone());
    c.whoami().await.unwrap();
    assert_eq!(c.uncached().whoami().await.unwrap_err().kind(), "unavailable");
    assert_eq!(t.calls(), 2, "it asked Affinity although the answer was cached and fresh");
    clock.advance(CachePolicy::default().fresh_for + Duration::from_secs(1));
    assert_eq!(
        c.fetch(&endpoints::whoami()).await.unwrap().source,
        Source::Stale,
        "the cache is still there for cards"
    );
}

/// Bulk reads (a directory's pages) go to Affinity and leave the cache as it was: they
/// would push everything else out of it.
#[tokio::test]
async fn an_unstored_read_asks_affinity_and_keeps_nothing() {
    let clock = start();
    let t = Scripted::new(&clock, vec![ok(WHOAMI), ok(WHOAMI), ok(WHOAMI)]);
    let cache = Arc::new(MemoryCache::default());
    let c = Client::builder(ClientConfig::new("https://api.test", "secret"), t.clone())
        .clock(Arc::new(clock.clone()))
        .cache(cache.clone())
        .build();
    c.unstored().whoami().await.unwrap();
    c.unstored().whoami().await.unwrap();
    assert_eq!((t.calls(), cache.len()), (2, 0), "each unstored read is a request, and none is kept");
    c.whoami().await.unwrap();
    assert_eq!((t.calls(), cache.len()), (3, 1));
}
