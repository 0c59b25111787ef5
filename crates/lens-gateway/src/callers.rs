//! What each caller spends of the key's Affinity calls: a caller may start a look-up only
//! while the calls its look-ups made in the last minute are under its share, so that one
//! caller (a script with a token, a tab gone wild) cannot take the firm's per-minute budget.
//! With Redis the spending is shared by every replica (see `shared_state`); this is one
//! replica's memory, used alone or while Redis is away.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The window: a minute.
const WINDOW_MS: u64 = 60_000;
/// Most callers remembered (idle ones are forgotten first).
const MAX_CALLERS: usize = 10_000;

/// The Affinity calls each caller's look-ups made in the last minute.
#[derive(Debug)]
pub struct CallerCalls {
    per_min: u64,
    spent: Mutex<HashMap<String, VecDeque<(u64, u64)>>>,
}

impl CallerCalls {
    /// A caller may spend `per_min` calls a minute.
    pub fn new(per_min: u32) -> CallerCalls {
        CallerCalls { per_min: u64::from(per_min.max(1)), spent: Mutex::new(HashMap::new()) }
    }

    /// The calls `caller` spent in the minute before `now_ms`.
    pub fn spent(&self, caller: &str, now_ms: u64) -> u64 {
        let mut spent = self.spent.lock().expect("calls lock");
        let Some(log) = spent.get_mut(caller) else { return 0 };
        while log.front().is_some_and(|(at, _)| now_ms.saturating_sub(*at) >= WINDOW_MS) {
            log.pop_front();
        }
        log.iter().map(|(_, n)| n).sum()
    }

    /// Whether `caller`, having spent `spent` calls this minute, may start a look-up: `Ok`, or
    /// how long (ms) until the oldest of its calls leaves the window.
    pub fn room(&self, caller: &str, spent: u64, now_ms: u64) -> Result<(), u64> {
        if spent < self.per_min {
            return Ok(());
        }
        let spent_log = self.spent.lock().expect("calls lock");
        let oldest = spent_log.get(caller).and_then(|log| log.front()).map_or(now_ms, |(at, _)| *at);
        Err((oldest + WINDOW_MS).saturating_sub(now_ms).max(1_000))
    }

    /// `caller`'s look-up made `calls` calls at `now_ms`.
    pub fn spend(&self, caller: &str, calls: u64, now_ms: u64) {
        if calls == 0 {
            return;
        }
        let mut spent = self.spent.lock().expect("calls lock");
        if spent.len() >= MAX_CALLERS && !spent.contains_key(caller) {
            spent.retain(|_, log| log.back().is_some_and(|(at, _)| now_ms.saturating_sub(*at) < WINDOW_MS));
        }
        spent.entry(caller.to_owned()).or_default().push_back((now_ms, calls));
    }

    /// The share of a caller, in calls a minute.
    pub fn per_min(&self) -> u64 {
        self.per_min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_spends_its_share_of_calls_a_minute_and_no_more() {
        let calls = CallerCalls::new(10);
        assert_eq!(calls.room("a", calls.spent("a", 0), 0), Ok(()));
        calls.spend("a", 8, 1_000);
        calls.spend("a", 3, 2_000);
        assert_eq!(calls.spent("a", 2_000), 11);
        assert_eq!(calls.room("a", 11, 2_000), Err(59_000), "until the first look-up's calls leave the minute");
        assert_eq!(calls.room("b", calls.spent("b", 2_000), 2_000), Ok(()), "others are not held back");
        assert_eq!(calls.spent("a", 61_000), 3);
        assert_eq!(calls.room("a", 3, 61_000), Ok(()));
    }
}
