//! A replica's own view of the key's per-minute window, for when Redis goes away.
//!
//! While Redis answers, every replica takes its place in one shared window (the `TAKE`
//! script of [`crate::shared_state`]). Meanwhile each keeps here what it will need if Redis
//! goes: the shared window as last read (a *mirror*: every replica's places, by this
//! machine's clock) and the places it took itself. When Redis goes, the replica takes places
//! alone, at its share of the limit (`limit / replicas`), counting
//!
//! - the mirror's places still in the window,
//! - every place it took itself that the mirror does not hold: all those it remembered after
//!   the command that read the mirror was sent (a place taken in Redis after that read was
//!   remembered after the read was sent; one taken before may be counted twice, which only
//!   errs on the safe side),
//! - for the other replicas' places since the read, as many as the whole key could have taken
//!   in that time at the limit's pace,
//! - and Affinity's own count of the key's minute, as its last answer's headers said.
//!
//! Each place is counted by the replica that took it, so replicas that share the load keep the
//! key's minute under the limit together. The mirror is refreshed by the heartbeat and by any
//! place taken while it is older than [`MIRROR_FRESH_MS`], so that a busy replica's mirror
//! is never more than a moment old.

use std::collections::VecDeque;
use std::time::Duration;

/// The window's length: 61 s rather than 60, a second's margin for the way to Affinity.
pub(crate) const WINDOW_MS: u64 = 61_000;

/// A mirror older than this is refreshed by the next place taken in Redis.
pub(crate) const MIRROR_FRESH_MS: u64 = 500;

/// The shared window as a replica last read it.
#[derive(Debug, Clone, Default)]
struct Mirror {
    /// When each place was taken, by this machine's clock (Redis's time plus the offset
    /// measured when the answer came, so a little late: places are held a little longer).
    places: Vec<u64>,
    /// When the command that read it was sent (this machine's clock, ms since the epoch); 0
    /// if never read.
    sent_at: u64,
    /// Redis's time in the read (ms), to keep the newest of reads answered out of order.
    redis_now: i64,
}

/// A replica's own window (see the module's documentation).
#[derive(Debug, Default)]
pub(crate) struct FallbackWindow {
    mirror: Mirror,
    /// The places this replica took in the last window (ms since the epoch), in Redis or alone.
    own: VecDeque<u64>,
    /// What the window alone started from when Redis went away (the mirror's places and the
    /// others' estimated ones), and the time from which its own places count; `None` while
    /// Redis answers.
    base: Option<(Vec<u64>, u64)>,
}

impl FallbackWindow {
    /// Whether the mirror should be refreshed by the next place taken in Redis.
    pub(crate) fn mirror_stale(&self, now: u64) -> bool {
        now.saturating_sub(self.mirror.sent_at) >= MIRROR_FRESH_MS
    }

    /// The shared window as read by a command sent at `sent_at` and answered at `local_now`
    /// (this machine's clock): Redis's time then, and its places by Redis's clock. A read
    /// older (by Redis's clock) than the one kept is ignored. Redis answers, so the window
    /// alone, if it was in use, ends.
    pub(crate) fn mirror(&mut self, redis_now: i64, places: &[i64], sent_at: u64, local_now: u64) {
        self.base = None;
        if self.mirror.sent_at != 0 && redis_now < self.mirror.redis_now {
            return;
        }
        // Redis's clock to this machine's, by the answer's arrival: places appear later than
        // they were, never earlier.
        let offset = local_now as i64 - redis_now;
        let places = places.iter().map(|p| (p + offset).max(0) as u64).collect();
        self.mirror = Mirror { places, sent_at, redis_now };
    }

    /// A place this replica took in Redis at `now`.
    pub(crate) fn remember(&mut self, now: u64) {
        self.trim(now);
        self.own.push_back(now);
    }

    fn trim(&mut self, now: u64) {
        while self.own.front().is_some_and(|t| t + WINDOW_MS <= now) {
            self.own.pop_front();
        }
    }

    /// Takes a place alone, at `share` of the key's `per_minute`, or says how long to wait.
    /// `affinity_count` is Affinity's count of the key's minute from its last headers (the
    /// calls it holds, and when that minute resets).
    pub(crate) fn take_alone(
        &mut self,
        now: u64,
        share: u32,
        per_minute: u32,
        affinity_count: Option<(u32, u64)>,
    ) -> Result<(), Duration> {
        if let Some((held, reset_at)) = affinity_count
            && reset_at > now
            && held >= per_minute
        {
            return Err(Duration::from_millis((reset_at - now).max(1)));
        }
        let (base, since) = self.base.get_or_insert_with(|| base_of(&self.mirror, per_minute, now)).clone();
        self.trim(now);
        let mut all: Vec<u64> = (base.into_iter().filter(|t| t + WINDOW_MS > now))
            .chain(self.own.iter().copied().filter(|t| *t >= since))
            .collect();
        all.sort_unstable();
        let share = share.max(1) as usize;
        if all.len() < share {
            self.own.push_back(now);
            return Ok(());
        }
        let oldest = all[all.len() - share];
        Err(Duration::from_millis((oldest + WINDOW_MS).saturating_sub(now).max(1)))
    }
}

/// What the window alone starts from at `now`: the mirror's places, plus as many places at
/// `now` as the whole key could have taken since the mirror was read (the other replicas went
/// on meanwhile); and the time from which this replica's own places are not in the mirror.
fn base_of(mirror: &Mirror, per_minute: u32, now: u64) -> (Vec<u64>, u64) {
    if mirror.sent_at == 0 {
        // Never read: nothing known of other replicas but Affinity's own count.
        return (Vec::new(), 0);
    }
    let since = now.saturating_sub(mirror.sent_at).min(WINDOW_MS);
    let unseen = (u64::from(per_minute) * since).div_ceil(WINDOW_MS) as usize;
    let mut base: Vec<u64> = mirror.places.iter().copied().filter(|t| t + WINDOW_MS > now).collect();
    base.extend(std::iter::repeat_n(now, unseen));
    (base, mirror.sent_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: u64 = 1_800_000_000_000;

    #[test]
    fn places_taken_in_redis_after_the_mirror_was_read_still_count() {
        // The mirror, read at T0, holds 100 places; then this replica took 60 more in Redis
        // before Redis went away 100 ms later (the mirror never saw them).
        let mut w = FallbackWindow::default();
        w.mirror(1_000, &vec![1_000 - 5_000; 100], T0, T0);
        for i in 0..60 {
            w.remember(T0 + 10 + i);
        }
        // Alone at half of 300: 150 - 100 - 60 - the others' estimate: nothing.
        let now = T0 + 100;
        assert!(w.take_alone(now, 150, 300, None).is_err());
        // When the mirror's places leave the window (56 s later), the replica's own 60 and the
        // estimate of the others' (1 place for 100 ms) still count: 89 places, not 150.
        let later = T0 - 5_000 + WINDOW_MS;
        let taken = (0..200).filter(|_| w.take_alone(later, 150, 300, None).is_ok()).count();
        assert_eq!(taken, 150 - 60 - 1);
    }

    #[test]
    fn a_read_answered_out_of_order_does_not_replace_a_newer_one() {
        let mut w = FallbackWindow::default();
        w.mirror(2_000, &[1_900, 1_950], T0 + 10, T0 + 20);
        w.mirror(1_000, &[], T0, T0 + 30);
        assert_eq!(w.mirror.places.len(), 2);
        assert_eq!(w.mirror.sent_at, T0 + 10);
        assert!(!w.mirror_stale(T0 + 100));
        assert!(w.mirror_stale(T0 + 10 + MIRROR_FRESH_MS));
    }

    #[test]
    fn affinity_s_own_count_holds_the_replica_back_until_its_reset() {
        let mut w = FallbackWindow::default();
        let r = w.take_alone(T0, 150, 300, Some((300, T0 + 7_000)));
        assert_eq!(r, Err(Duration::from_millis(7_000)));
        assert_eq!(w.take_alone(T0 + 7_000, 150, 300, Some((300, T0 + 7_000))), Ok(()));
    }

    /// The shared window in Redis, as the `TAKE` script keeps it (without Affinity's count).
    fn redis_take(window: &mut Vec<u64>, now: u64, limit: usize) -> bool {
        window.retain(|t| t + WINDOW_MS > now);
        if window.len() < limit {
            window.push(now);
            true
        } else {
            false
        }
    }

    /// A place taken while Redis answers, as `RedisState::take_request` takes it: the shared
    /// window read with it when this replica's read is stale, then the place remembered.
    fn take_in_redis(w: &mut FallbackWindow, shared: &mut Vec<u64>, now: u64, limit: usize) -> bool {
        if w.mirror_stale(now) {
            shared.retain(|t| t + WINDOW_MS > now);
            let places: Vec<i64> = shared.iter().map(|t| *t as i64).collect();
            w.mirror(now as i64, &places, now, now);
        }
        let ok = redis_take(shared, now, limit);
        if ok {
            w.remember(now);
        }
        ok
    }

    #[test]
    fn a_replica_that_takes_a_place_after_another_s_burst_counts_the_burst_when_redis_goes() {
        let (mut a, mut b, mut shared) = (FallbackWindow::default(), FallbackWindow::default(), Vec::new());
        // Both read the empty window (the heartbeat); b then sends 200 at once; a one, a
        // second later; Redis goes.
        a.mirror(0, &[], T0, T0);
        b.mirror(0, &[], T0, T0);
        let burst = (0..200).filter(|_| take_in_redis(&mut b, &mut shared, T0 + 100, 300)).count();
        assert_eq!(burst, 200);
        assert!(take_in_redis(&mut a, &mut shared, T0 + 1_000, 300));
        // Alone at 150 each: a's read, made with its place, holds b's burst; without it a
        // would have sent 149 more (201 + 143 > 300).
        let now = T0 + 1_100;
        let more = (0..300).filter(|_| a.take_alone(now, 150, 300, None).is_ok()).count();
        let more_b = (0..300).filter(|_| b.take_alone(now, 150, 300, None).is_ok()).count();
        assert_eq!((more, more_b), (0, 0));
        assert!(burst + 1 + more + more_b <= 300);
    }

    /// The most places in any 60-s window (Affinity's minute has no margin).
    fn busiest_minute(mut times: Vec<u64>) -> usize {
        times.sort_unstable();
        let (mut most, mut j) = (0, 0);
        for i in 0..times.len() {
            while times[j] + 60_000 <= times[i] {
                j += 1;
            }
            most = most.max(i - j + 1);
        }
        most
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Replicas behind a load balancer (requests dealt in turn, one at a time or in runs
        /// of up to 100, as sticky sessions do), driven past the limit in bursts and lulls,
        /// Redis gone at any moment: no 60-s window ever holds more than the limit, before,
        /// across and after the moment Redis went away.
        #[test]
        fn replicas_sharing_the_load_never_exceed_the_limit_when_redis_goes(
            replicas in 2usize..4,
            gaps in prop::collection::vec(prop_oneof![60 => 0u64..12, 1 => 500u64..65_000], 2_000..8_000),
            gone_at in 0usize..8_000,
            heartbeat_phase in 0u64..2_000,
            run in prop_oneof![Just(1usize), 1usize..100],
        ) {
            let limit = 300usize;
            let share = (limit / replicas) as u32;
            let mut shared = Vec::new();
            let mut sent = Vec::new();
            let mut windows: Vec<FallbackWindow> = (0..replicas).map(|_| FallbackWindow::default()).collect();
            let mut now = T0;
            let mut next_beat = T0 + heartbeat_phase;
            for (i, gap) in gaps.iter().enumerate() {
                now += gap;
                let up = i < gone_at;
                while up && next_beat <= now {
                    for w in windows.iter_mut() {
                        shared.retain(|t| t + WINDOW_MS > next_beat);
                        let places: Vec<i64> = shared.iter().map(|t| *t as i64).collect();
                        w.mirror(next_beat as i64, &places, next_beat, next_beat);
                    }
                    next_beat += 2_000;
                }
                let w = &mut windows[(i / run) % replicas];
                let ok = if up {
                    take_in_redis(w, &mut shared, now, limit)
                } else {
                    w.take_alone(now, share, limit as u32, None).is_ok()
                };
                if ok {
                    sent.push(now);
                }
            }
            prop_assert!(busiest_minute(sent) <= limit);
        }
    }
}
