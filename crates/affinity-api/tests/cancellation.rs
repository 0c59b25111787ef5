//! Futures dropped at any await point (a closed tab, an aborted gateway request) give
//! back every limiter slot and leave nothing in flight; a request shared by several
//! callers keeps going for those who stay. Headers from a server never panic the limiter
//! or block it for more than an hour.
#![cfg(not(target_arch = "wasm32"))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use affinity_api::cache::MemoryCache;
use affinity_api::clock::{BoxFuture, Clock, FakeClock};
use affinity_api::endpoints::{self, DetailOptions, SearchQuery};
use affinity_api::limiter::{self, Decision, LimiterConfig, MAX_WAIT, RateLimiter};
use affinity_api::transport::{HttpRequest, HttpResponse, Transport};
use affinity_api::{Client, ClientConfig, Error};
use proptest::prelude::*;
use web_time::Duration;

/// A future that is pending `n` times (waking itself) before it is ready: an await point
/// that a test can stop at.
struct Steps(usize);
impl Future for Steps {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Fake time whose sleeps also yield once, so that a wait is an await point.
#[derive(Clone)]
struct SteppingClock(FakeClock);
impl Clock for SteppingClock {
    fn now(&self) -> Duration {
        self.0.now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.0.advance(d);
        Box::pin(Steps(1))
    }
}

/// A status and headers to answer with once.
type Once = Arc<Mutex<Option<(u16, Vec<(String, String)>)>>>;

/// Answers every request with `body` after three await points; optionally a 429 first.
#[derive(Clone)]
struct Slow {
    sent: Arc<AtomicUsize>,
    first_status: Once,
}

impl Slow {
    fn new() -> Self {
        Slow { sent: Arc::default(), first_status: Arc::default() }
    }
}

impl Transport for Slow {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        Steps(3).await;
        if let Some((status, headers)) = self.first_status.lock().unwrap().take() {
            return Ok(HttpResponse { status, headers, body: "{}".into() });
        }
        let body = if request.url.contains("/organizations/") {
            r#"{"id":1,"name":"Acme","domain":"acme.test","domains":["acme.test"],"person_ids":[]}"#
        } else {
            r#"{"organizations":[],"next_page_token":null}"#
        };
        Ok(HttpResponse { status: 200, headers: vec![], body: body.into() })
    }
}

fn client(transport: Slow, concurrency: u32) -> Client<Slow> {
    let clock = SteppingClock(FakeClock::at(Duration::from_secs(1_700_000_000)));
    Client::builder(ClientConfig::new("https://api.test", "secret"), transport)
        .clock(Arc::new(clock))
        .cache(Arc::new(MemoryCache::default()))
        .limiter(Arc::new(RateLimiter::new(LimiterConfig { concurrency, ..Default::default() })))
        .build()
}

/// Twelve requests at once over a concurrency cap of 3: some wait for the limiter, some
/// are in flight, some share a request with an identical one.
fn burst(c: &Client<Slow>) -> impl Future<Output = usize> + use<> {
    let futures: Vec<_> = (0..12)
        .map(|i| {
            let c = c.clone();
            async move {
                let id = i % 8; // 8 distinct organizations: 4 of them asked twice
                c.execute(&endpoints::organization(id, DetailOptions::default())).await.is_ok() as usize
            }
        })
        .collect();
    async move { futures::future::join_all(futures).await.into_iter().sum() }
}

fn poll_n_then_drop<F: Future>(future: F, n: usize) -> Option<F::Output> {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    for _ in 0..n {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

#[test]
fn requests_dropped_at_every_await_point_give_back_every_slot() {
    let mut completed_at = None;
    for n in 0..200 {
        let c = client(Slow::new(), 3);
        let finished = poll_n_then_drop(burst(&c), n);
        assert_eq!(c.limiter().in_flight(), 0, "a slot was lost when dropped after {n} polls");
        assert_eq!(c.gets_in_flight(), 0, "a request in flight was left behind after {n} polls");
        if let Some(ok) = finished {
            assert_eq!(ok, 12);
            completed_at = Some(n);
            break;
        }
        // After the drop, the same client still serves a whole burst.
        assert_eq!(futures::executor::block_on(burst(&c)), 12, "after a drop at {n} polls");
    }
    assert!(completed_at.is_some_and(|n| n >= 5), "the burst should span many await points: {completed_at:?}");
}

#[test]
fn a_shared_request_goes_on_for_the_caller_that_stays() {
    futures::executor::block_on(async {
        let t = Slow::new();
        let c = client(t.clone(), 6);
        let endpoint = endpoints::organization(1, DetailOptions::default());
        let mut leaving = Box::pin(c.execute(&endpoint));
        let mut staying = Box::pin(c.execute(&endpoint));
        assert!(futures::poll!(&mut leaving).is_pending());
        assert!(futures::poll!(&mut staying).is_pending());
        drop(leaving);
        assert_eq!(staying.await.unwrap().name, "Acme");
        assert_eq!(t.sent.load(Ordering::SeqCst), 1, "one request for both callers");
        assert_eq!(c.limiter().in_flight(), 0);
        assert_eq!(c.gets_in_flight(), 0);
    });
}

#[test]
fn an_infinite_or_huge_retry_after_neither_panics_nor_blocks_for_more_than_an_hour() {
    for value in ["inf", "Infinity", "1e300", "18446744073709551616", "-5", "NaN", "Wed, 01 Jan 9999 00:00:00 GMT"] {
        let t = Slow::new();
        *t.first_status.lock().unwrap() = Some((429, vec![("retry-after".into(), value.into())]));
        let c = Client::builder(ClientConfig::new("https://api.test", "secret"), t.clone())
            .clock(Arc::new(SteppingClock(FakeClock::at(Duration::from_secs(1_700_000_000)))))
            .limiter(Arc::new(RateLimiter::new(LimiterConfig {
                max_wait: Some(Duration::from_secs(5)),
                ..Default::default()
            })))
            .build();
        let now = Duration::from_secs(1_700_000_000);
        let result =
            futures::executor::block_on(c.execute(&endpoints::search_organizations(&SearchQuery {
                term: Some("x".into()),
                ..Default::default()
            })));
        match result {
            // Too long to wait for a card: the error says when to come back, within the hour.
            Err(Error::RateLimited { retry_after }) => {
                assert!(retry_after.is_none_or(|d| d <= MAX_WAIT), "{value}: {retry_after:?}")
            }
            // A wait short enough (NaN, negative: read as no wait) was waited out.
            Ok(_) => {}
            Err(e) => panic!("{value}: {e}"),
        }
        let blocked = c.limiter().blocked_until().unwrap_or_default();
        assert!(blocked <= now + MAX_WAIT + Duration::from_secs(61), "{value}: blocked until {blocked:?}");
        assert_eq!(c.limiter().in_flight(), 0);
    }
}

fn response(headers: &[(String, String)]) -> HttpResponse {
    HttpResponse { status: 429, headers: headers.to_vec(), body: String::new() }
}

/// Header values a server might send: numbers of every size and sign, and junk.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|f| f.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|i| format!("{i}000000")),
        Just("inf".to_owned()),
        Just("-inf".to_owned()),
        Just("NaN".to_owned()),
        Just("unlimited".to_owned()),
        "\\PC{0,12}",
        (0i64..253_402_300_799)
            .prop_map(|s| { chrono::DateTime::from_timestamp(s, 0).map(|d| d.to_rfc2822()).unwrap_or_default() }),
    ]
}

const HEADERS: [&str; 7] = [
    "retry-after",
    "x-ratelimit-limit-user",
    "x-ratelimit-limit-user-remaining",
    "x-ratelimit-limit-user-reset",
    "x-ratelimit-limit-org",
    "x-ratelimit-limit-org-remaining",
    "x-ratelimit-limit-org-reset",
];

/// What can happen to a limiter.
#[derive(Debug, Clone)]
enum Op {
    /// Try to start a request (kept in flight if it starts).
    Acquire,
    /// End (or drop) the in-flight request at this index, if there is one.
    Release(usize),
    /// Time passes.
    Advance(u32),
    /// A response with these headers arrives.
    Observe(Vec<(usize, String)>),
    /// A 429 with these headers arrives.
    RateLimited(Vec<(usize, String)>),
}

fn op() -> impl Strategy<Value = Op> {
    let headers = || proptest::collection::vec((0..HEADERS.len(), header_value()), 0..4);
    prop_oneof![
        4 => Just(Op::Acquire),
        2 => any::<usize>().prop_map(Op::Release),
        2 => (0u32..90_000).prop_map(Op::Advance),
        1 => headers().prop_map(Op::Observe),
        1 => headers().prop_map(Op::RateLimited),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the server sends and whatever is dropped when: no panic, never more than
    /// the limit in any 60-second window, never more in flight than the cap, no slot lost,
    /// and no wait longer than an hour past the last thing seen.
    #[test]
    fn the_limiter_keeps_its_invariants(ops in proptest::collection::vec(op(), 1..120), per_minute in 1u32..20, concurrency in 1u32..5) {
        let limiter = RateLimiter::new(LimiterConfig { per_minute, concurrency, ..Default::default() });
        let mut now = Duration::from_secs(1_700_000_000);
        let mut held = Vec::new();
        let mut starts: Vec<Duration> = Vec::new();
        let headers = |hs: &[(usize, String)]| hs.iter().map(|(i, v)| (HEADERS[*i].to_owned(), v.clone())).collect::<Vec<_>>();
        for op in ops {
            match op {
                Op::Acquire => match limiter.acquire(now) {
                    Ok(slot) => { starts.push(now); held.push(slot); }
                    Err(wait) => {
                        prop_assert!(wait > Duration::ZERO);
                        prop_assert!(wait <= MAX_WAIT + Duration::from_secs(60), "a wait of {wait:?}");
                    }
                },
                Op::Release(i) => if !held.is_empty() { let i = i % held.len(); drop(held.swap_remove(i)); },
                Op::Advance(ms) => now += Duration::from_millis(ms.into()),
                Op::Observe(hs) => { let mut r = response(&headers(&hs)); r.status = 200; limiter.observe(now, &r); }
                Op::RateLimited(hs) => {
                    let r = response(&headers(&hs));
                    limiter.observe(now, &r);
                    let after = limiter::retry_after(&r, now);
                    prop_assert!(after.is_none_or(|d| d <= MAX_WAIT));
                    limiter.rate_limited(now, after, Duration::from_millis(499));
                }
            }
            prop_assert_eq!(limiter.in_flight() as usize, held.len());
            prop_assert!(held.len() <= concurrency as usize);
        }
        // Never more than per_minute starts in any 60-second window.
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts[i..].iter().take_while(|s| **s < *t + Duration::from_secs(60)).count();
            prop_assert!(in_window <= per_minute as usize, "{in_window} starts in the minute from {t:?}");
        }
        drop(held);
        prop_assert_eq!(limiter.in_flight(), 0);
        // And it lets a request through again within the hour (plus the minute's window).
        let later = now + MAX_WAIT + Duration::from_secs(61);
        prop_assert!(matches!(limiter.check(later), Decision::Go));
    }

    /// Any header value: a number of seconds within [0, an hour], or nothing; never a panic.
    #[test]
    fn header_seconds_are_finite_and_capped(value in header_value()) {
        if let Some(d) = limiter::header_seconds(&value, MAX_WAIT) {
            prop_assert!(d <= MAX_WAIT);
        }
        let r = response(&[("retry-after".into(), value.clone()), ("x-ratelimit-limit-user-reset".into(), value)]);
        let now = Duration::from_secs(1_700_000_000);
        prop_assert!(limiter::retry_after(&r, now).is_none_or(|d| d <= MAX_WAIT));
    }
}
