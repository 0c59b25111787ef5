//! The rate limiter: keeps a client under Affinity's limits by itself, so that a 429 is
//! never caused by it.
//!
//! - a per-user budget (900 a minute by default) as a sliding log: at most `per_minute`
//!   requests start in any 60-second window;
//! - a concurrency cap (6 by default);
//! - kept in step with the `X-Ratelimit-*` headers (matched case-insensitively): the
//!   server's remaining count and reset, and its limit;
//! - after a 429, nothing is sent before the reset (`Retry-After` or the reset header),
//!   plus jitter.
//!
//! [`RateLimiter::acquire`] is a pure decision (go now with a [`Slot`], or wait this
//! long); callers do the waiting with their clock. Like governor, it never sleeps itself.
//! A slot is a guard: it is given back when the request ends *or when its future is
//! dropped* (an aborted task, a cancelled call), so that no abandoned request holds one.
//!
//! What a server sends is read defensively: rate-limit and `Retry-After` values that are
//! not finite, negative or absurd are clamped ([`MAX_WAIT`]), never trusted to block a
//! client for years or to overflow.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use web_time::Duration;

use crate::models::RateLimitValue;
use crate::transport::HttpResponse;

const WINDOW: Duration = Duration::from_secs(60);

/// The longest wait a server's header can impose: an hour. A `Retry-After` of a year, or
/// of `inf`, is read as this.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);
/// The longest a monthly reset can be away.
const MAX_MONTHLY_RESET: Duration = Duration::from_secs(32 * 24 * 3600);

/// Reads a header's number of seconds: finite, at least 0, at most `cap`. `None` when it
/// is not a number at all.
pub fn header_seconds(value: &str, cap: Duration) -> Option<Duration> {
    let secs = value.trim().parse::<f64>().ok()?;
    if secs.is_nan() {
        return None;
    }
    // +inf and anything past the cap are the cap; -inf and negatives are 0.
    Some(Duration::from_secs_f64(secs.clamp(0.0, cap.as_secs_f64())))
}

/// When to retry after a 429 received at `now` (since the epoch): `Retry-After` in
/// seconds or as an HTTP date, else the per-minute reset header; at most [`MAX_WAIT`].
pub fn retry_after(response: &HttpResponse, now: Duration) -> Option<Duration> {
    if let Some(v) = response.header("retry-after") {
        if let Some(d) = header_seconds(v, MAX_WAIT) {
            return Some(d);
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc2822(v.trim()) {
            let at_ms = at.timestamp_millis().max(0) as u64;
            let wait = Duration::from_millis(at_ms.saturating_sub(ms(now)));
            return Some(wait.min(MAX_WAIT));
        }
    }
    response.header("x-ratelimit-limit-user-reset").and_then(|v| header_seconds(v, MAX_WAIT))
}

/// The limits to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Requests a minute for this key.
    pub per_minute: u32,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// How many times a 429 is retried before the error is returned.
    pub max_retries: u32,
    /// The longest a request waits for the limiter (or a 429's reset) before it fails
    /// with the time to retry instead. `None`: as long as it takes (batch callers); an
    /// interactive caller, with someone waiting, sets a few seconds.
    pub max_wait: Option<Duration>,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        LimiterConfig { per_minute: 900, concurrency: 6, max_retries: 3, max_wait: None }
    }
}

/// What to do about the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it now (the slot is taken: call [`RateLimiter::finish`] when it completes).
    Go,
    /// Try again after this long.
    Wait(Duration),
}

/// A concurrency slot: held while a request is in flight, given back when dropped,
/// whether the request completed or its future was abandoned.
#[derive(Debug)]
#[must_use = "the slot is given back as soon as it is dropped"]
pub struct Slot<'a> {
    limiter: &'a RateLimiter,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.limiter.finish();
    }
}

/// The monthly account budget, as last seen in headers or `/rate-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonthlyBudget {
    /// The account's calls a month (`X-Ratelimit-Limit-Org`); `None` when unlimited or not known.
    pub limit: Option<i64>,
    /// The calls left this month (`X-Ratelimit-Limit-Org-Remaining`); `None` when unlimited
    /// or not known.
    pub remaining: Option<i64>,
    /// Whether the account has no monthly limit (the server sent `unlimited`).
    pub unlimited: bool,
    /// When the month resets, since the epoch.
    pub resets_at_ms: Option<u64>,
}

impl MonthlyBudget {
    /// The share of the month's budget still left, in percent; `None` when unlimited or
    /// not known.
    pub fn percent_left(&self) -> Option<f64> {
        match (self.unlimited, self.limit, self.remaining) {
            (false, Some(limit), Some(remaining)) if limit > 0 => Some(100.0 * remaining.max(0) as f64 / limit as f64),
            _ => None,
        }
    }
}

/// The limiter's state, serialisable so that a restarted process keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimiterState {
    /// Start times (ms since the epoch) of requests in the last minute.
    sent_ms: VecDeque<u64>,
    /// No request before this (after a 429 or an exhausted server budget).
    blocked_until_ms: Option<u64>,
    /// The server's word: this many left until `server_reset_ms`.
    server_remaining: Option<u32>,
    server_reset_ms: Option<u64>,
    /// The server's per-minute limit, when it differs from the configured one.
    server_limit: Option<u32>,
    monthly: Option<MonthlyBudget>,
    #[serde(skip)]
    in_flight: u32,
}

/// One limiter for every request made with a key (shared by every caller of that key).
#[derive(Debug)]
pub struct RateLimiter {
    config: LimiterConfig,
    state: Mutex<LimiterState>,
}

/// Two resets closer than this belong to one server window (the header counts whole
/// seconds, and an answer read later computes its reset from a later now).
const SAME_WINDOW_MS: u64 = 5_000;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl RateLimiter {
    /// A limiter with these limits and no history.
    pub fn new(config: LimiterConfig) -> Self {
        Self::with_state(config, LimiterState::default())
    }

    /// A limiter that resumes from a persisted state.
    pub fn with_state(config: LimiterConfig, state: LimiterState) -> Self {
        RateLimiter { config, state: Mutex::new(state) }
    }

    /// The limits in force.
    pub fn config(&self) -> LimiterConfig {
        self.config
    }

    /// A copy of the state, to persist.
    pub fn snapshot(&self) -> LimiterState {
        self.state.lock().expect("limiter lock").clone()
    }

    /// The per-minute limit in force: the configured one, lowered by the server's.
    fn per_minute(&self, state: &LimiterState) -> u32 {
        state.server_limit.map_or(self.config.per_minute, |s| s.min(self.config.per_minute)).max(1)
    }

    /// Decides about one request at `now` (since the epoch): a [`Slot`] to send it now,
    /// given back when dropped, or how long to wait.
    pub fn acquire(&self, now: Duration) -> Result<Slot<'_>, Duration> {
        match self.check(now) {
            Decision::Go => Ok(Slot { limiter: self }),
            Decision::Wait(d) => Err(d),
        }
    }

    /// Requests holding a concurrency slot now.
    pub fn in_flight(&self) -> u32 {
        self.state.lock().expect("limiter lock").in_flight
    }

    /// Decides about one request at `now` (since the epoch). On [`Decision::Go`] the
    /// request is counted and holds a concurrency slot until [`RateLimiter::finish`].
    /// Prefer [`RateLimiter::acquire`], whose slot cannot be lost.
    pub fn check(&self, now: Duration) -> Decision {
        let now_ms = ms(now);
        let mut s = self.state.lock().expect("limiter lock");
        if let Some(until) = s.blocked_until_ms {
            // A block restored from storage is believed for [`MAX_WAIT`] at most.
            let until = until.min(now_ms.saturating_add(ms(MAX_WAIT)));
            s.blocked_until_ms = Some(until);
            if now_ms < until {
                return Decision::Wait(Duration::from_millis(until - now_ms));
            }
            s.blocked_until_ms = None;
        }
        while s.sent_ms.front().is_some_and(|&t| t + ms(WINDOW) <= now_ms) {
            s.sent_ms.pop_front();
        }
        let limit = self.per_minute(&s) as usize;
        if s.sent_ms.len() >= limit {
            let oldest = s.sent_ms[s.sent_ms.len() - limit];
            return Decision::Wait(Duration::from_millis(oldest + ms(WINDOW) - now_ms));
        }
        if let (Some(0), Some(reset)) = (s.server_remaining, s.server_reset_ms)
            && now_ms < reset
        {
            return Decision::Wait(Duration::from_millis(reset - now_ms));
        }
        if s.in_flight >= self.config.concurrency.max(1) {
            // A slot frees when a request finishes; look again shortly.
            return Decision::Wait(Duration::from_millis(25));
        }
        s.sent_ms.push_back(now_ms);
        s.in_flight += 1;
        if let Some(r) = s.server_remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
        Decision::Go
    }

    /// Frees the concurrency slot of a request that completed (or failed).
    pub fn finish(&self) {
        let mut s = self.state.lock().expect("limiter lock");
        s.in_flight = s.in_flight.saturating_sub(1);
    }

    /// Reads the `X-Ratelimit-*` headers of a response received at `now`.
    pub fn observe(&self, now: Duration, response: &HttpResponse) {
        let now_ms = ms(now);
        // Counts: finite numbers only (a float-to-int cast saturates; NaN is dropped).
        let count =
            |name: &str| response.header(name).and_then(|v| v.trim().parse::<f64>().ok()).filter(|n| n.is_finite());
        let mut s = self.state.lock().expect("limiter lock");
        if let Some(limit) = count("x-ratelimit-limit-user") {
            s.server_limit = Some(limit.max(1.0) as u32);
        }
        let reset_ms = response
            .header("x-ratelimit-limit-user-reset")
            .and_then(|v| header_seconds(v, MAX_WAIT))
            .map(|d| now_ms.saturating_add(ms(d)));
        if let Some(remaining) = count("x-ratelimit-limit-user-remaining") {
            let remaining = remaining.max(0.0) as u32;
            let reset = reset_ms.unwrap_or(now_ms.saturating_add(ms(WINDOW)));
            // Answers arrive out of order: one sent before others may be read after them and
            // say more is left than is. Within the same window (its reset, in whole seconds,
            // within a few seconds of the one known), the lowest count wins; a later window
            // starts from what the server says.
            let same_window =
                s.server_reset_ms.is_some_and(|old| now_ms < old && reset < old.saturating_add(SAME_WINDOW_MS));
            match (same_window, s.server_remaining, s.server_reset_ms) {
                (true, Some(known), Some(old)) => {
                    s.server_remaining = Some(known.min(remaining));
                    s.server_reset_ms = Some(old.max(reset));
                }
                _ => {
                    s.server_remaining = Some(remaining);
                    s.server_reset_ms = Some(reset);
                }
            }
        }
        let org_limit = response.header("x-ratelimit-limit-org").and_then(RateLimitValue::parse);
        let org_remaining = response.header("x-ratelimit-limit-org-remaining").and_then(RateLimitValue::parse);
        if org_limit.is_some() || org_remaining.is_some() {
            let value = |v: Option<RateLimitValue>| match v {
                Some(RateLimitValue::Limited(n)) => Some(n),
                _ => None,
            };
            s.monthly = Some(MonthlyBudget {
                limit: value(org_limit),
                remaining: value(org_remaining),
                unlimited: matches!(org_limit, Some(RateLimitValue::Unlimited))
                    || matches!(org_remaining, Some(RateLimitValue::Unlimited)),
                resets_at_ms: response
                    .header("x-ratelimit-limit-org-reset")
                    .and_then(|v| header_seconds(v, MAX_MONTHLY_RESET))
                    .map(|d| now_ms.saturating_add(ms(d))),
            });
        }
    }

    /// Records a 429 at `now`: nothing is sent before the reset, plus `jitter`.
    pub fn rate_limited(&self, now: Duration, retry_after: Option<Duration>, jitter: Duration) {
        let mut s = self.state.lock().expect("limiter lock");
        let wait = retry_after.unwrap_or(Duration::from_secs(60)).min(MAX_WAIT);
        let until = ms(now).saturating_add(ms(wait)).saturating_add(ms(jitter.min(WINDOW)));
        s.blocked_until_ms = Some(s.blocked_until_ms.map_or(until, |b| b.max(until)));
    }

    /// When the limiter lets requests through again after a 429, if it is blocked.
    pub fn blocked_until(&self) -> Option<Duration> {
        self.state.lock().expect("limiter lock").blocked_until_ms.map(Duration::from_millis)
    }

    /// The monthly budget as last seen.
    pub fn monthly(&self) -> Option<MonthlyBudget> {
        self.state.lock().expect("limiter lock").monthly
    }

    /// Records the monthly budget read from `/rate-limit`.
    pub fn set_monthly(&self, now: Duration, window: &crate::models::RateWindow) {
        let value = |v: RateLimitValue| match v {
            RateLimitValue::Limited(n) => Some(n),
            RateLimitValue::Unlimited => None,
        };
        let mut s = self.state.lock().expect("limiter lock");
        s.monthly = Some(MonthlyBudget {
            limit: value(window.limit),
            remaining: value(window.remaining),
            unlimited: window.limit == RateLimitValue::Unlimited,
            resets_at_ms: Some(
                ms(now).saturating_add((window.reset.clamp(0, MAX_MONTHLY_RESET.as_secs() as i64) as u64) * 1000),
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_block_of_years_holds_an_hour_at_most() {
        let state = LimiterState { blocked_until_ms: Some(u64::MAX / 2), ..LimiterState::default() };
        let limiter = RateLimiter::with_state(LimiterConfig::default(), state);
        let now = Duration::from_secs(1_800_000_000);
        assert_eq!(limiter.check(now), Decision::Wait(MAX_WAIT));
        assert!(matches!(limiter.check(now + MAX_WAIT), Decision::Go));
    }

    fn response(headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: String::new(),
        }
    }

    /// Sends `n` requests as fast as the limiter allows on a fake timeline (each finishes
    /// at once) and returns their start times.
    fn burst(limiter: &RateLimiter, n: usize) -> Vec<Duration> {
        let mut now = Duration::from_secs(1_000_000);
        let start = now;
        let mut starts = Vec::with_capacity(n);
        while starts.len() < n {
            match limiter.check(now) {
                Decision::Go => {
                    starts.push(now - start);
                    limiter.finish();
                }
                Decision::Wait(d) => {
                    assert!(d > Duration::ZERO, "a wait must move time");
                    now += d;
                }
            }
        }
        starts
    }

    #[test]
    fn a_burst_of_2000_never_passes_900_in_any_minute_and_takes_the_least_time() {
        let limiter = RateLimiter::new(LimiterConfig::default());
        let starts = burst(&limiter, 2000);
        // Every window [t, t+60s) holds at most 900 starts (checked from each start).
        let ms: Vec<u64> = starts.iter().map(|d| d.as_millis() as u64).collect();
        let mut j = 0;
        for i in 0..ms.len() {
            while j < ms.len() && ms[j] < ms[i] + 60_000 {
                j += 1;
            }
            assert!(j - i <= 900, "{} requests in the minute from {} ms", j - i, ms[i]);
        }
        // 900 at once, 900 a minute later, 200 a minute after that: 120 s is the least.
        assert_eq!(*starts.last().unwrap(), Duration::from_secs(120));
        assert_eq!(starts.iter().filter(|d| **d == Duration::ZERO).count(), 900);
    }

    #[test]
    fn the_concurrency_cap_holds_requests_until_one_finishes() {
        let limiter = RateLimiter::new(LimiterConfig { concurrency: 2, ..Default::default() });
        let now = Duration::from_secs(10);
        assert_eq!(limiter.check(now), Decision::Go);
        assert_eq!(limiter.check(now), Decision::Go);
        assert!(matches!(limiter.check(now), Decision::Wait(_)));
        limiter.finish();
        assert_eq!(limiter.check(now), Decision::Go);
    }

    #[test]
    fn after_a_429_nothing_goes_before_the_reset() {
        let limiter = RateLimiter::new(LimiterConfig::default());
        let t0 = Duration::from_secs(100);
        limiter.rate_limited(t0, Some(Duration::from_secs(7)), Duration::from_millis(300));
        for probe in [0, 1000, 6999, 7299] {
            let now = t0 + Duration::from_millis(probe);
            assert_eq!(limiter.check(now), Decision::Wait(Duration::from_millis(7300 - probe)), "at +{probe} ms");
        }
        assert_eq!(limiter.check(t0 + Duration::from_millis(7300)), Decision::Go);
    }

    #[test]
    fn lower_case_headers_keep_the_limiter_in_step_with_the_server() {
        let limiter = RateLimiter::new(LimiterConfig::default());
        let t0 = Duration::from_secs(100);
        // Another client of the same key has spent the minute: 0 left for 12 s.
        limiter.observe(
            t0,
            &response(&[
                ("x-ratelimit-limit-user", "900"),
                ("x-ratelimit-limit-user-remaining", "0"),
                ("x-ratelimit-limit-user-reset", "12"),
                ("x-ratelimit-limit-org", "unlimited"),
                ("x-ratelimit-limit-org-remaining", "unlimited"),
            ]),
        );
        assert_eq!(limiter.check(t0), Decision::Wait(Duration::from_secs(12)));
        assert_eq!(limiter.check(t0 + Duration::from_secs(12)), Decision::Go);
        assert!(limiter.monthly().unwrap().unlimited);
    }

    #[test]
    fn an_older_answer_read_late_does_not_give_back_what_later_requests_spent() {
        let limiter = RateLimiter::new(LimiterConfig::default());
        let t0 = Duration::from_secs(100);
        let left = |n: &str, reset: &str| {
            response(&[("x-ratelimit-limit-user-remaining", n), ("x-ratelimit-limit-user-reset", reset)])
        };
        // The server says 2 are left for 40 s; two requests go and use them.
        limiter.observe(t0, &left("2", "40"));
        assert_eq!(limiter.check(t0), Decision::Go);
        assert_eq!(limiter.check(t0), Decision::Go);
        assert!(matches!(limiter.check(t0), Decision::Wait(_)));
        // The first one's answer (1 left, read a second later) is older than what was spent.
        limiter.observe(t0 + Duration::from_secs(1), &left("1", "39"));
        assert!(matches!(limiter.check(t0 + Duration::from_secs(1)), Decision::Wait(_)), "nothing is left");
        // The next window starts from the server's word.
        let next = t0 + Duration::from_secs(41);
        limiter.observe(next, &left("899", "60"));
        assert_eq!(limiter.check(next), Decision::Go);
    }

    #[test]
    fn mixed_case_headers_and_a_lowered_server_limit_are_honoured() {
        let limiter = RateLimiter::new(LimiterConfig::default());
        let t0 = Duration::from_secs(100);
        limiter.observe(
            t0,
            &response(&[
                ("X-Ratelimit-Limit-User", "10"),
                ("X-Ratelimit-Limit-Org", "100000"),
                ("X-Ratelimit-Limit-Org-Remaining", "99"),
            ]),
        );
        let starts = burst(&limiter, 11);
        assert_eq!(starts[9], Duration::ZERO);
        assert_eq!(starts[10], Duration::from_secs(60));
        let monthly = limiter.monthly().unwrap();
        assert_eq!((monthly.limit, monthly.remaining, monthly.unlimited), (Some(100_000), Some(99), false));
    }

    #[test]
    fn the_state_survives_a_restart() {
        let limiter = RateLimiter::new(LimiterConfig { per_minute: 3, ..Default::default() });
        let t0 = Duration::from_secs(100);
        for _ in 0..3 {
            assert_eq!(limiter.check(t0), Decision::Go);
            limiter.finish();
        }
        let saved = serde_json::to_string(&limiter.snapshot()).unwrap();
        let restarted = RateLimiter::with_state(limiter.config(), serde_json::from_str(&saved).unwrap());
        assert_eq!(restarted.check(t0 + Duration::from_secs(1)), Decision::Wait(Duration::from_secs(59)));
    }

    #[test]
    fn the_share_of_the_month_left_is_known_only_for_a_limited_budget() {
        let b = |limit, remaining, unlimited| MonthlyBudget { limit, remaining, unlimited, resets_at_ms: None };
        assert_eq!(b(Some(100_000), Some(4_000), false).percent_left(), Some(4.0));
        assert_eq!(b(Some(100), Some(-3), false).percent_left(), Some(0.0));
        assert_eq!(b(None, Some(10), false).percent_left(), None);
        assert_eq!(b(Some(100), Some(10), true).percent_left(), None);
    }
}
