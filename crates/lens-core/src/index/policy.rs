//! When the index syncs and what it may spend: pure decisions, tested with tables.
//!
//! - A **full sync** when the index was never synced (a key saved): the directory and every
//!   list of organizations.
//! - The **directory** (⌈N/500⌉ calls) at most once a day ([`SyncPolicy::directory_every`]),
//!   and only on days of use: call [`SyncPolicy::plan`] when the Lens is used (a page
//!   view, a CLI command), never from a timer alone.
//! - The **lists** at most hourly ([`SyncPolicy::lists_every`]): one `GET /lists` says each
//!   list's size, and only a list whose size changed is read again (one call with v1; its
//!   Status pages, ⌈size/100⌉, with API v2 when the day's calls allow, else one v1 call
//!   that keeps the Status known of the entries still there). A list's Status is read again
//!   at most daily ([`SyncPolicy::statuses_every`]), oldest first, with what the day's
//!   calls leave ([`SyncPolicy::day_calls`], less a reserve for the hourly checks).
//! - **Nothing** while the month's budget left is below the caller's threshold
//!   ([`SyncPolicy::min_budget_percent`], the on-demand share of the options).

use serde::{Deserialize, Serialize};
use web_time::Duration;

use affinity_api::limiter::MonthlyBudget;
use affinity_api::models::{EntityType, List};

use super::Index;

/// The directory's page: `GET /organizations?page_size=500`.
pub const DIRECTORY_PAGE: u64 = 500;
/// A v2 list-entries page: `GET /v2/lists/{id}/list-entries?limit=100`.
pub const STATUS_PAGE: u64 = 100;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// When the index syncs, and how much it may spend (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncPolicy {
    /// The directory is read again after this long (a day), on a day of use.
    pub directory_every: Duration,
    /// `GET /lists` is asked again after this long (an hour).
    pub lists_every: Duration,
    /// A list's Status is read again after this long (a day), budget allowing.
    pub statuses_every: Duration,
    /// The index's calls in a day (UTC) beyond the directory and the lists that changed:
    /// Status refreshes stop where they would pass it.
    pub day_calls: u64,
    /// Calls of the day kept for the hourly checks of `GET /lists`.
    pub reserve_calls: u64,
    /// Below this share of the month's budget left (percent), nothing syncs.
    pub min_budget_percent: f64,
}

impl Default for SyncPolicy {
    /// Directory daily, lists hourly, Status daily within 150 calls a day, nothing below
    /// 5% of the month's budget (the extension's default on-demand share).
    fn default() -> Self {
        SyncPolicy {
            directory_every: Duration::from_secs(24 * 3600),
            lists_every: Duration::from_secs(3600),
            statuses_every: Duration::from_secs(24 * 3600),
            day_calls: 150,
            reserve_calls: 15,
            min_budget_percent: 5.0,
        }
    }
}

/// What the sync spent and when it last looked: kept in the index's meta.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLedger {
    /// When `GET /lists` was last asked (ms since the epoch; 0: never).
    pub lists_checked_ms: u64,
    /// The UTC day (days since the epoch) `calls_today` counts.
    pub day: u64,
    /// The index's calls that day.
    pub calls_today: u64,
    /// The index's calls since it was made.
    pub calls_total: u64,
    /// When the last sync ended (ms since the epoch; 0: never).
    pub last_sync_ms: u64,
    /// Whether the key could read API v2's list entries (with their Status) when last
    /// tried (`None`: not tried yet), and when.
    pub v2_entries: Option<bool>,
    /// When `v2_entries` was found out (ms since the epoch).
    pub v2_checked_ms: u64,
}

impl SyncLedger {
    /// The index's calls on the day of `now_ms`.
    pub fn calls_on(&self, now_ms: u64) -> u64 {
        if self.day == now_ms / DAY_MS { self.calls_today } else { 0 }
    }

    /// Whether to ask API v2 for list entries: yes unless the key was refused them less
    /// than a day ago.
    pub fn may_try_v2(&self, now_ms: u64) -> bool {
        self.v2_entries != Some(false) || now_ms.saturating_sub(self.v2_checked_ms) >= DAY_MS
    }

    /// Counts `calls` spent at `now_ms`.
    pub fn spend(&mut self, now_ms: u64, calls: u64) {
        let day = now_ms / DAY_MS;
        if self.day != day {
            self.day = day;
            self.calls_today = 0;
        }
        self.calls_today += calls;
        self.calls_total += calls;
    }
}

/// What to sync now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPlan {
    /// Everything: the directory and every list, Status included where the key may.
    pub full: bool,
    /// The directory.
    pub directory: bool,
    /// `GET /lists`, then the lists that may have changed and the Status due.
    pub lists: bool,
    /// Nothing, because the month's budget left is below the threshold.
    pub held_for_budget: bool,
}

impl SyncPlan {
    /// Whether there is anything to do.
    pub fn is_empty(&self) -> bool {
        !(self.full || self.directory || self.lists)
    }

    /// Everything (the CLI's `index sync --full`, a key just saved).
    pub fn full() -> SyncPlan {
        SyncPlan { full: true, directory: true, lists: true, held_for_budget: false }
    }
}

/// How one list is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListRead {
    /// Empty now: no call, its entries go.
    Empty,
    /// `GET /lists/{id}/list-entries` without `page_size`: every entry in one call; the
    /// Status known of entries still there is kept.
    Members,
    /// `GET /v2/lists/{id}/list-entries?fieldIds=field-{status_field}`, 100 a page: every
    /// entry with its Status.
    WithStatus {
        /// The v1 id of the list's Status field.
        status_field: i64,
    },
}

impl ListRead {
    /// The calls it takes for a list of `size` entries.
    pub fn calls(&self, size: u64) -> u64 {
        match self {
            ListRead::Empty => 0,
            ListRead::Members => 1,
            ListRead::WithStatus { .. } => size.div_ceil(STATUS_PAGE).max(1),
        }
    }
}

/// What planning the lists needs to know besides the index: the answer of `GET /lists`,
/// each list's Status field, and whether the key may read API v2's list entries.
#[derive(Debug, Clone, Copy)]
pub struct ListsNow<'a> {
    /// `GET /lists`.
    pub lists: &'a [List],
    /// (list id, v1 id of its Status field).
    pub status_fields: &'a [(i64, i64)],
    /// The key may read `GET /v2/lists/{id}/list-entries`.
    pub v2: bool,
}

impl SyncPolicy {
    /// What to sync at `now_ms` (ms since the epoch), given the index (its last reads and
    /// the day's calls) and the month's budget as last known (`None`: not known yet).
    pub fn plan(&self, index: &Index, now_ms: u64, budget: Option<&MonthlyBudget>) -> SyncPlan {
        if budget.and_then(MonthlyBudget::percent_left).is_some_and(|left| left < self.min_budget_percent) {
            return SyncPlan { held_for_budget: true, ..SyncPlan::default() };
        }
        let meta = index.meta();
        if meta.directory_ms == 0 {
            return SyncPlan::full();
        }
        let due = |last: u64, every: Duration| now_ms.saturating_sub(last) >= every.as_millis() as u64;
        let directory = due(meta.directory_ms, self.directory_every);
        let lists = directory || due(meta.ledger.lists_checked_ms, self.lists_every);
        SyncPlan { full: false, directory, lists, held_for_budget: false }
    }

    /// How to read each list of organizations now (lists to leave as they are are not
    /// named), given what `GET /lists` said; `spending` is what the sync spends anyway
    /// (the directory, `GET /lists`). A full plan reads every list, Status included where
    /// the key may; otherwise see the module's documentation.
    pub fn plan_lists(
        &self,
        index: &Index,
        now: ListsNow<'_>,
        plan: &SyncPlan,
        now_ms: u64,
        spending: u64,
    ) -> Vec<(i64, ListRead)> {
        let status_field = |id: i64| now.status_fields.iter().find(|(l, _)| *l == id).map(|(_, f)| *f);
        let best = |id: i64| match status_field(id).filter(|_| now.v2) {
            Some(f) => ListRead::WithStatus { status_field: f },
            None => ListRead::Members,
        };
        let size = |l: &List| l.list_size.unwrap_or(0).max(0) as u64;
        let organizations = now.lists.iter().filter(|l| l.list_type == EntityType::ORGANIZATION);
        if plan.full {
            return organizations.map(|l| (l.id, if size(l) == 0 { ListRead::Empty } else { best(l.id) })).collect();
        }
        let spent = index.meta().ledger.calls_on(now_ms) + spending + self.reserve_calls;
        let mut left = self.day_calls.saturating_sub(spent);
        let mut reads = Vec::new();
        let mut due = Vec::new();
        for l in organizations {
            let known = index.list(l.id);
            let changed = known.is_none_or(|k| k.read_ms == 0 || k.size != size(l));
            if changed && size(l) == 0 {
                reads.push((l.id, ListRead::Empty));
            } else if changed {
                let read = best(l.id);
                let read = if read.calls(size(l)) <= left.max(1) { read } else { ListRead::Members };
                left = left.saturating_sub(read.calls(size(l)));
                reads.push((l.id, read));
            } else if let (ListRead::WithStatus { .. }, Some(k)) = (best(l.id), known) {
                let stale = now_ms.saturating_sub(k.status_read_ms) >= self.statuses_every.as_millis() as u64;
                if stale {
                    due.push((k.status_read_ms, l.id, size(l)));
                }
            }
        }
        due.sort_unstable();
        for (_, id, size) in due {
            let read = best(id);
            if read.calls(size) <= left {
                left -= read.calls(size);
                reads.push((id, read));
            }
        }
        reads
    }

    /// What reading the directory of an index of `organizations` costs.
    pub fn directory_calls(organizations: usize) -> u64 {
        (organizations as u64).div_ceil(DIRECTORY_PAGE).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{IndexMeta, IndexedList};

    const NOW: u64 = 1_800_000_000_000;
    const HOUR: u64 = 3600 * 1000;

    fn index(directory_ms: u64, lists_checked_ms: u64, calls_today: u64, lists: Vec<IndexedList>) -> Index {
        let ledger = SyncLedger { lists_checked_ms, day: NOW / DAY_MS, calls_today, ..SyncLedger::default() };
        Index { meta: IndexMeta { directory_ms, ledger, ..IndexMeta::default() }, lists, ..Index::default() }
    }

    fn budget(left: i64) -> MonthlyBudget {
        MonthlyBudget { limit: Some(100_000), remaining: Some(left), unlimited: false, resets_at_ms: None }
    }

    #[test]
    fn what_to_sync_follows_the_last_reads_and_the_months_budget() {
        let p = SyncPolicy::default();
        let plan = |i: &Index, b: Option<MonthlyBudget>| p.plan(i, NOW, b.as_ref());
        let (full, nothing) = (SyncPlan::full(), SyncPlan::default());
        let lists_only = SyncPlan { lists: true, ..nothing };
        let both = SyncPlan { directory: true, lists: true, ..nothing };
        let cases = [
            (index(0, 0, 0, vec![]), None, full),
            (index(NOW - HOUR / 2, NOW - HOUR / 2, 0, vec![]), None, nothing),
            (index(NOW - 2 * HOUR, NOW - HOUR, 0, vec![]), None, lists_only),
            (index(NOW - 24 * HOUR, NOW - 10, 0, vec![]), Some(budget(60_000)), both),
            (
                index(NOW - 24 * HOUR, NOW - HOUR, 0, vec![]),
                Some(budget(4_000)),
                SyncPlan { held_for_budget: true, ..nothing },
            ),
            (index(0, 0, 0, vec![]), Some(budget(100)), SyncPlan { held_for_budget: true, ..nothing }),
        ];
        for (i, (idx, b, want)) in cases.into_iter().enumerate() {
            assert_eq!(plan(&idx, b), want, "case {i}");
        }
    }

    fn known(id: i64, size: u64, read_ms: u64, status_read_ms: u64) -> IndexedList {
        IndexedList { size, read_ms, status_read_ms, ..IndexedList::new(id, format!("L{id}"), true) }
    }

    fn list(id: i64, size: i64, list_type: EntityType) -> List {
        serde_json::from_value(serde_json::json!({
            "id": id, "type": list_type.code(), "name": format!("L{id}"), "public": true, "list_size": size
        }))
        .unwrap()
    }

    #[test]
    fn lists_are_read_when_their_size_changed_and_their_status_when_due_within_the_days_calls() {
        let p = SyncPolicy::default();
        let org = EntityType::ORGANIZATION;
        let lists = [
            list(1, 250, org),               // unchanged, Status read 2 h ago
            list(2, 301, org),               // grew: read again, 4 pages with its Status
            list(3, 0, org),                 // emptied
            list(4, 900, org),               // unchanged, Status a day old: 9 pages
            list(5, 80, org),                // unchanged, Status two days old: 1 page
            list(6, 40, EntityType::PERSON), // not a list of organizations
            list(7, 10, org),                // new, no Status field
        ];
        let fields = [(1, 11), (2, 21), (3, 31), (4, 41), (5, 51), (6, 61)];
        let idx = |calls_today| {
            let known = vec![
                known(1, 250, NOW, NOW - 2 * HOUR),
                known(2, 300, NOW, NOW),
                known(3, 5, NOW, NOW),
                known(4, 900, NOW, NOW - 24 * HOUR),
                known(5, 80, NOW, NOW - 48 * HOUR),
            ];
            index(NOW, NOW - HOUR, calls_today, known)
        };
        let status = |f| ListRead::WithStatus { status_field: f };
        let plan = SyncPlan { lists: true, ..SyncPlan::default() };
        let now = ListsNow { lists: &lists, status_fields: &fields, v2: true };
        let reads = p.plan_lists(&idx(0), now, &plan, NOW, 1);
        assert_eq!(
            reads,
            vec![(2, status(21)), (3, ListRead::Empty), (7, ListRead::Members), (5, status(51)), (4, status(41))]
        );
        // Late in a day of 140 calls: the changed lists still, one v1 call for the big one,
        // and no Status refresh.
        let reads = p.plan_lists(&idx(140), now, &plan, NOW, 1);
        assert_eq!(reads, vec![(2, ListRead::Members), (3, ListRead::Empty), (7, ListRead::Members)]);
        // Without v2: members only; a full plan reads every list of organizations.
        let v1 = ListsNow { v2: false, ..now };
        assert!(
            p.plan_lists(&idx(0), v1, &plan, NOW, 1).iter().all(|(_, r)| !matches!(r, ListRead::WithStatus { .. }))
        );
        let all = p.plan_lists(&idx(0), now, &SyncPlan::full(), NOW, 101);
        assert_eq!(all.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 7]);
        assert_eq!(all[3], (4, status(41)));
    }

    #[test]
    fn the_days_calls_start_again_each_day_and_v2_is_asked_again_after_a_day() {
        let mut ledger = SyncLedger::default();
        ledger.spend(NOW, 100);
        ledger.spend(NOW + HOUR, 5);
        assert_eq!((ledger.calls_on(NOW + 2 * HOUR), ledger.calls_total), (105, 105));
        assert_eq!(ledger.calls_on(NOW + DAY_MS), 0);
        ledger.spend(NOW + DAY_MS, 1);
        assert_eq!((ledger.calls_today, ledger.calls_total), (1, 106));
        assert!(ledger.may_try_v2(NOW));
        (ledger.v2_entries, ledger.v2_checked_ms) = (Some(false), NOW);
        assert!(!ledger.may_try_v2(NOW + DAY_MS - 1) && ledger.may_try_v2(NOW + DAY_MS));
        assert_eq!(ListRead::WithStatus { status_field: 1 }.calls(0), 1);
        assert_eq!(ListRead::WithStatus { status_field: 1 }.calls(201), 3);
        assert_eq!(SyncPolicy::directory_calls(50_000), 100);
    }
}
