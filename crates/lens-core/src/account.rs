//! What the Lens remembers about the key's account between page views, and (persisted by
//! the extension and the CLI) between runs: which API v2 endpoints the key may call, the
//! context every card needs (who the key is, the lists and fields, the team), and the
//! calls the Lens spent this month.
//!
//! A [`LensClient`] is an Affinity client with one [`Account`]: the client tells the
//! account of every request it sends (its [`Observer`] hook); the look-up asks and teaches
//! the account the rest. Clones share both.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use affinity_api::cache::CacheEntry;
use affinity_api::client::Observation;
use affinity_api::transport::{HttpRequest, MaybeSend, MaybeSync, Transport};
use affinity_api::{Client, ClientBuilder, ClientConfig, DefaultTransport, Error, Observer};
use serde::{Deserialize, Serialize};
use web_time::Duration;

/// A v2 capability asked for again after this long, when the key lacked it.
pub const RECHECK_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long the context (whoami, lists, fields, the team) is used without asking again.
/// The card's refresh asks again at once ([`Account::forget_context`]).
pub const CONTEXT_FRESH_FOR: Duration = Duration::from_secs(12 * 3600);
/// An open card counts as opening the page's pill (not another page view) when the pill
/// of the same thing was looked up this recently.
const OPENED_WITHIN: Duration = Duration::from_secs(30 * 60);

/// The v2 endpoints the lookup may use, each checked per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `POST /v2/companies/search` (BETA, "Export All Organizations directory").
    CompanySearch,
    /// `GET /v2/companies/{id}/relationships`.
    CompanyRelationships,
    /// `GET /v2/companies/{id}/list-entries`.
    CompanyListEntries,
    /// `GET /v2/persons/{id}/relationships`.
    PersonRelationships,
    /// `GET /v2/persons/{id}/list-entries`.
    PersonListEntries,
    /// `GET /v2/users` (BETA).
    Users,
    /// `GET /v2/opportunities`.
    Opportunities,
    /// `GET /v2/auth/whoami`: its grant's scopes say whether the key may write.
    Whoami,
    /// `GET /v2/companies/{id}` (the firmographics of a company on no list).
    Company,
    /// A list entry's field read and written through v2 (`…/list-entries/{id}/fields/{id}`).
    EntryFields,
    /// Writes at all, for a key without v2's whoami (whose grant says it otherwise): a key
    /// found refused a write (403) is read-only, and the card offers no control (asked again
    /// after a day, or when a write goes through).
    Writes,
}

impl Feature {
    /// Every feature.
    pub const ALL: [Feature; 11] = [
        Feature::CompanySearch,
        Feature::CompanyRelationships,
        Feature::CompanyListEntries,
        Feature::PersonRelationships,
        Feature::PersonListEntries,
        Feature::Users,
        Feature::Opportunities,
        Feature::Whoami,
        Feature::Company,
        Feature::EntryFields,
        Feature::Writes,
    ];

    /// Its name in the persisted state.
    pub fn key(self) -> &'static str {
        match self {
            Feature::CompanySearch => "v2.companies.search",
            Feature::CompanyRelationships => "v2.companies.relationships",
            Feature::CompanyListEntries => "v2.companies.list-entries",
            Feature::PersonRelationships => "v2.persons.relationships",
            Feature::PersonListEntries => "v2.persons.list-entries",
            Feature::Users => "v2.users",
            Feature::Opportunities => "v2.opportunities",
            Feature::Whoami => "v2.auth.whoami",
            Feature::Company => "v2.companies.get",
            Feature::EntryFields => "v2.list-entries.fields",
            Feature::Writes => "writes",
        }
    }
}

/// What the key was last found able to do, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    pub available: bool,
    /// When it was last found out (ms since the epoch).
    pub checked_ms: u64,
}

/// The month's spending by the Lens (not the firm's other integrations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// `YYYY-MM` (UTC) these counts are for.
    #[serde(default)]
    pub month: String,
    /// Requests sent to Affinity (retries included).
    #[serde(default)]
    pub calls: u64,
    /// Look-ups of a page (the pill), and cards looked up on their own (CLI, gateway).
    #[serde(default)]
    pub page_views: u64,
    /// Cards opened from a pill.
    #[serde(default)]
    pub cards_opened: u64,
}

impl Usage {
    /// Calls per page view this month, opened cards included; `None` before the first.
    pub fn calls_per_page_view(&self) -> Option<f64> {
        (self.page_views > 0).then(|| self.calls as f64 / self.page_views as f64)
    }
}

/// Everything remembered, as it is persisted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    #[serde(default)]
    pub capabilities: BTreeMap<String, Capability>,
    /// Context answers by request key, with when they were fetched.
    #[serde(default)]
    pub context: BTreeMap<String, CacheEntry>,
    #[serde(default)]
    pub usage: Usage,
    /// Pills looked up lately (query, ms), to tell an opened card from a new page view.
    #[serde(default)]
    pub recent_pills: Vec<(String, u64)>,
}

/// The account memory of one key (see the module's documentation).
#[derive(Debug, Default)]
pub struct Account {
    state: Mutex<AccountState>,
    /// Held by the write under way: one at a time per key, so that a double click's second
    /// write reads the first one's effect before deciding.
    writing: futures::lock::Mutex<()>,
}

fn month_of(now_ms: u64) -> String {
    use chrono::Datelike;
    let day = chrono::DateTime::from_timestamp_millis(now_ms as i64).unwrap_or_default().date_naive();
    format!("{:04}-{:02}", day.year(), day.month())
}

impl Account {
    /// An account remembering `state` (read back from storage).
    pub fn with_state(state: AccountState) -> Account {
        Account { state: Mutex::new(state), writing: futures::lock::Mutex::new(()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AccountState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What to persist.
    pub fn snapshot(&self) -> AccountState {
        self.lock().clone()
    }

    /// Whether to ask the v2 endpoint: yes unless the key was found without it less than
    /// a day ago.
    pub fn may_try(&self, feature: Feature, now_ms: u64) -> bool {
        match self.lock().capabilities.get(feature.key()) {
            Some(c) if !c.available => now_ms.saturating_sub(c.checked_ms) >= RECHECK_AFTER.as_millis() as u64,
            _ => true,
        }
    }

    /// What the key is known to be able to do: `Some(true)`, `Some(false)`, or `None` when
    /// not yet found out.
    pub fn capability(&self, feature: Feature) -> Option<bool> {
        self.lock().capabilities.get(feature.key()).map(|c| c.available)
    }

    /// Learns from a v2 answer. Returns whether the lookup should fall back to v1 for it:
    /// on 403 (the key lacks the permission: remembered), an answer the Lens cannot read
    /// or a refused request (remembered), and on 404 (remembered only while the endpoint
    /// never answered this key: once it did, a 404 is about the record, e.g. one created in
    /// v1 a moment ago and not yet visible in v2).
    pub fn learn<T>(&self, feature: Feature, result: &Result<T, Error>, now_ms: u64) -> bool {
        let mut state = self.lock();
        let known = state.capabilities.get(feature.key()).copied();
        let (available, fall_back) = match result {
            Ok(_) => (Some(true), false),
            Err(Error::Forbidden { .. } | Error::BadResponse { .. } | Error::Invalid { .. }) => (Some(false), true),
            Err(Error::NotFound { .. }) if known.is_some_and(|c| c.available) => (None, true),
            Err(Error::NotFound { .. }) => (Some(false), true),
            Err(_) => (None, false),
        };
        if let Some(available) = available {
            state.capabilities.insert(feature.key().to_owned(), Capability { available, checked_ms: now_ms });
        }
        fall_back
    }

    /// Waits for the write under way, if any; the next write may go while the guard lives.
    pub async fn one_write_at_a_time(&self) -> futures::lock::MutexGuard<'_, ()> {
        self.writing.lock().await
    }

    /// Learns from a write's answer whether the key may write: refused (403: the card then
    /// offers no control, for a day) or done. Other failures say nothing of it.
    pub fn learn_write<T>(&self, result: &Result<T, Error>, now_ms: u64) {
        let available = match result {
            Ok(_) => true,
            Err(Error::Forbidden { .. }) => false,
            Err(_) => return,
        };
        let key = Feature::Writes.key().to_owned();
        self.lock().capabilities.insert(key, Capability { available, checked_ms: now_ms });
    }

    /// A context answer stored less than [`CONTEXT_FRESH_FOR`] ago, and not before
    /// `not_before_ms` (the client's mark of a refresh or a write: see
    /// [`Client::invalidate`]).
    pub fn context(&self, key: &str, now_ms: u64, not_before_ms: u64) -> Option<String> {
        let state = self.lock();
        let entry = state.context.get(key)?;
        let fresh = now_ms.saturating_sub(entry.stored_at_ms) < CONTEXT_FRESH_FOR.as_millis() as u64;
        (fresh && entry.stored_at_ms >= not_before_ms).then(|| entry.body.clone())
    }

    /// Keeps a context answer.
    pub fn keep_context(&self, key: &str, body: String, now_ms: u64) {
        self.lock().context.insert(key.to_owned(), CacheEntry { body, stored_at_ms: now_ms });
    }

    /// Asks the context again next time.
    pub fn forget_context(&self) {
        self.lock().context.clear();
    }

    /// Counts one request sent to Affinity.
    pub fn count_call(&self, now_ms: u64) {
        let mut state = self.lock();
        roll(&mut state.usage, now_ms);
        state.usage.calls += 1;
    }

    /// Counts a look-up: a pill is a page view; a card is an opened card when the pill of
    /// the same `query` was looked up in the last half hour, else a page view of its own.
    pub fn count_lookup(&self, query: &str, pill: bool, now_ms: u64) {
        let mut state = self.lock();
        roll(&mut state.usage, now_ms);
        let window = OPENED_WITHIN.as_millis() as u64;
        state.recent_pills.retain(|(_, at)| now_ms.saturating_sub(*at) < window);
        if pill {
            state.usage.page_views += 1;
            state.recent_pills.retain(|(q, _)| q != query);
            state.recent_pills.push((query.to_owned(), now_ms));
            let excess = state.recent_pills.len().saturating_sub(200);
            state.recent_pills.drain(..excess);
        } else if let Some(i) = state.recent_pills.iter().position(|(q, _)| q == query) {
            state.recent_pills.remove(i);
            state.usage.cards_opened += 1;
        } else {
            state.usage.page_views += 1;
        }
    }

    /// This month's usage (zero when the month changed since the last count).
    pub fn usage(&self, now_ms: u64) -> Usage {
        let mut usage = self.lock().usage.clone();
        roll(&mut usage, now_ms);
        usage
    }
}

impl Observer for Account {
    /// Every request sent counts in the month's usage.
    fn request_sent(&self, _request: &HttpRequest, at: Duration) {
        self.count_call(at.as_millis() as u64);
    }
}

/// An Affinity [`Client`] with the Lens's memory of its key's [`Account`]: what every
/// look-up and write of the Lens takes. It derefs to the client, so requests are sent as
/// with the client itself; clones share the client's pipeline and the account.
pub struct LensClient<T = DefaultTransport> {
    api: Client<T>,
    account: Arc<Account>,
}

impl<T> Clone for LensClient<T> {
    fn clone(&self) -> Self {
        LensClient { api: self.api.clone(), account: self.account.clone() }
    }
}

impl<T> std::fmt::Debug for LensClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LensClient").field("api", &self.api).finish_non_exhaustive()
    }
}

impl<T> std::ops::Deref for LensClient<T> {
    type Target = Client<T>;
    fn deref(&self) -> &Client<T> {
        &self.api
    }
}

impl LensClient<DefaultTransport> {
    /// A client with the platform's transport, its own limiter, cache and account memory.
    pub fn from_config(config: ClientConfig) -> Self {
        LensClient::new(Client::builder(config, DefaultTransport::new()), Arc::default())
    }
}

impl<T: Transport + MaybeSend + MaybeSync + 'static> LensClient<T> {
    /// Builds the client from `builder` with `account` (restored from storage, or shared by
    /// the clients of a key) as the observer that counts its calls.
    pub fn new(builder: ClientBuilder<T>, account: Arc<Account>) -> Self {
        LensClient { api: builder.observer(account.clone()).build(), account }
    }

    /// What is remembered about the key's account: v2 capabilities, context, usage.
    pub fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// The Affinity client itself.
    pub fn api(&self) -> &Client<T> {
        &self.api
    }

    /// A clone whose answers are observed (see [`Client::observed`]): a look-up marks its
    /// card stale with it.
    pub fn observed(&self) -> (LensClient<T>, Arc<Observation>) {
        let (api, observation) = self.api.observed();
        (LensClient { api, account: self.account.clone() }, observation)
    }

    /// A clone whose reads always ask Affinity (see [`Client::uncached`]): for the reads a
    /// write decides on.
    pub fn uncached(&self) -> LensClient<T> {
        LensClient { api: self.api.uncached(), account: self.account.clone() }
    }
}

/// How far above the user's on-demand threshold (in points of the month's budget left) the
/// Lens may fetch a whole card ahead of its opening.
pub const AHEAD_MARGIN_PERCENT: f64 = 50.0;

/// Whether a page view may fetch the whole card ahead of the user opening it: only while
/// the month's budget is known, limited, and comfortably above the share below which pages
/// are looked up on demand only (`on_demand_below_percent`, 5 by default): at least
/// [`AHEAD_MARGIN_PERCENT`] points above it. An unknown or unlimited budget fetches nothing
/// ahead: the calls of a page view are the firm's first cost (an unlimited plan still
/// shares Affinity's per-minute pool with the firm's other integrations).
pub fn fetch_card_ahead(budget: Option<&affinity_api::limiter::MonthlyBudget>, on_demand_below_percent: f64) -> bool {
    budget
        .and_then(|b| b.percent_left())
        .is_some_and(|left| left >= on_demand_below_percent.max(0.0) + AHEAD_MARGIN_PERCENT)
}

fn roll(usage: &mut Usage, now_ms: u64) {
    let month = month_of(now_ms);
    if usage.month != month {
        *usage = Usage { month, ..Usage::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 3600 * 1000;

    #[test]
    fn a_key_without_a_permission_is_asked_again_after_a_day() {
        let a = Account::default();
        assert!(a.may_try(Feature::CompanySearch, 0));
        let forbidden: Result<(), Error> = Err(Error::Forbidden { message: "no".into() });
        assert!(a.learn(Feature::CompanySearch, &forbidden, 1_000));
        assert!(!a.may_try(Feature::CompanySearch, 1_000 + DAY - 1));
        assert!(a.may_try(Feature::CompanySearch, 1_000 + DAY));
        assert!(a.may_try(Feature::Users, 1_000), "features are remembered one by one");
        assert!(!a.learn(Feature::CompanySearch, &Ok::<_, Error>(()), 2 * DAY));
        assert_eq!(a.capability(Feature::CompanySearch), Some(true));
    }

    #[test]
    fn a_404_is_about_the_record_once_the_endpoint_answered() {
        let a = Account::default();
        let missing: Result<(), Error> = Err(Error::NotFound { message: "x".into() });
        assert!(a.learn(Feature::CompanyRelationships, &missing, 0));
        assert_eq!(a.capability(Feature::CompanyRelationships), Some(false));
        a.learn(Feature::CompanyRelationships, &Ok::<_, Error>(()), DAY * 2);
        assert!(a.learn(Feature::CompanyRelationships, &missing, DAY * 2));
        assert_eq!(a.capability(Feature::CompanyRelationships), Some(true));
        // An outage says nothing about the key.
        let down: Result<(), Error> = Err(Error::Unavailable { status: Some(503), message: "x".into() });
        assert!(!a.learn(Feature::Users, &down, 0));
        assert_eq!(a.capability(Feature::Users), None);
    }

    #[test]
    fn an_opened_card_is_not_another_page_view_and_months_start_at_zero() {
        let a = Account::default();
        let nov = 1_793_000_000_000; // 2026-10-26
        a.count_lookup("domain:acme.com", true, nov);
        a.count_call(nov);
        a.count_call(nov);
        a.count_lookup("domain:acme.com", false, nov + 1000);
        a.count_lookup("domain:globex.com", false, nov + 2000);
        let u = a.usage(nov + 3000);
        assert_eq!((u.calls, u.page_views, u.cards_opened), (2, 2, 1));
        assert_eq!(u.calls_per_page_view(), Some(1.0));
        assert_eq!(a.usage(nov + 40 * DAY).calls, 0);
    }

    #[test]
    fn the_whole_card_is_fetched_ahead_only_while_the_budget_is_comfortably_above_the_threshold() {
        use affinity_api::limiter::MonthlyBudget;
        let month = |remaining: i64| MonthlyBudget {
            limit: Some(100_000),
            remaining: Some(remaining),
            unlimited: false,
            resets_at_ms: None,
        };
        let cases = [
            (Some(month(90_000)), 5.0, true),
            (Some(month(55_000)), 5.0, true),
            (Some(month(54_999)), 5.0, false),
            (Some(month(90_000)), 45.0, false),
            (Some(month(2_000)), 5.0, false),
            (Some(MonthlyBudget { limit: None, remaining: None, unlimited: true, resets_at_ms: None }), 5.0, false),
            (None, 5.0, false),
        ];
        for (budget, threshold, want) in cases {
            assert_eq!(fetch_card_ahead(budget.as_ref(), threshold), want, "{budget:?} at {threshold}%");
        }
    }

    #[test]
    fn the_context_is_kept_for_hours_then_asked_again() {
        let a = Account::default();
        a.keep_context("/lists", "[]".into(), 10);
        assert_eq!(a.context("/lists", 1000, 0).as_deref(), Some("[]"));
        assert_eq!(a.context("/lists", 10 + CONTEXT_FRESH_FOR.as_millis() as u64, 0), None);
        assert_eq!(a.context("/lists", 1000, 11), None, "a refresh since it was kept");
        let restored = Account::with_state(a.snapshot());
        assert_eq!(restored.context("/lists", 50, 0).as_deref(), Some("[]"));
        restored.forget_context();
        assert_eq!(restored.context("/lists", 50, 0), None);
    }
}
