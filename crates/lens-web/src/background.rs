//! The background's decisions and state: every [`Request`] is decoded, checked against its
//! sender and answered here. The browser's side (session storage, the extension-only
//! store, the badge, messages to a tab) is a [`Host`], so that all of it runs natively in
//! tests with a fake host and a fake transport; `background.js` only routes the browser's
//! events to a [`Lens`] and gives it the host.
//!
//! - Settings reach the client once, by [`Lens::configure`], at start and when the options
//!   page saves a new key or base URL; no call passes the key.
//! - A page is planned once per page view ([`plan_page`]): its token stands for that plan
//!   (kept in session storage, so a restarted worker still knows it).
//! - One lookup per page view, shared by everyone who asks for it; its first round (the
//!   identity) is available before the whole card.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use affinity_api::cache::{CacheEntry, MemoryCache};
use affinity_api::clock::unix_ms;
use affinity_api::limiter::{LimiterConfig, LimiterState, MonthlyBudget, RateLimiter};
use affinity_api::transport::{MaybeSend, MaybeSync, Transport};
use affinity_api::{Client, ClientConfig};
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use lens_core::account::{Account, AccountState, fetch_card_ahead};
use lens_core::actions::{Target, list_choices, perform};
use lens_core::card::Phase;
use lens_core::lookup;
use lens_core::{Card, CardError, CardStatus, EntityKind, ErrorKind, LensClient, Query, QueryKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::company_index::{BytesResponse, GatewayIndex, IndexSource, IndexState, known_links, read_gateway_index};
use crate::plan::{Badge, PagePlan, PageView, When, paused_card, plan_page, site_of};
use crate::protocol::{Answer, FRAME_SIZES, Origins, Reply, Request, Role, Sender, ToContent, Token};
use crate::settings::{Position, Settings, check_base_url};
use crate::team;

/// What the background needs from the browser.
#[allow(async_fn_in_trait)]
pub trait Host: 'static {
    /// The browser session's memory (`storage.session`): what a token stands for.
    async fn session_get(&self, key: &str) -> Option<Value>;
    async fn session_set(&self, key: &str, value: Value);
    async fn session_remove(&self, keys: &[String]);
    /// Keeps the settings where only the extension can read them.
    async fn save_settings(&self, settings: &Settings);
    /// The cache or limiter changed: persist [`Lens::export_state`] soon.
    fn state_changed(&self);
    /// The key or base URL changed: the persisted cache is another account's, drop it.
    fn forget_state(&self);
    fn set_badge(&self, tab_id: i64, badge: &Badge);
    /// Sends a message to the tab's top frame (its content script).
    fn to_content(&self, tab_id: i64, message: &ToContent);
    /// The URL a tab shows.
    async fn tab_url(&self, tab_id: i64) -> Option<String>;
    /// 16 random bytes, or `None` without a random source (no page view is then made).
    fn random(&self) -> Option<[u8; 16]>;
    /// Runs a future to its end, whoever waits for it.
    fn spawn(&self, future: LocalBoxFuture<'static, ()>);
    /// The index of the firm's companies changed: persist [`Lens::export_index`] soon.
    fn index_changed(&self);
    /// A GET whose answer is bytes (the gateway's index): `None` when it could not be sent.
    /// Without an `authorization` header the browser's cookies go with it.
    async fn fetch_bytes(&self, url: &str, headers: Vec<(String, String)>) -> Option<BytesResponse>;
}

/// What survives a worker restart: the cache, the limiter and the refresh mark; never the
/// key (the state is dropped when the key or base URL changes).
#[derive(Serialize, Deserialize, Default)]
struct PersistedState {
    /// Whose state this is ([`account`] of the base URL and key).
    #[serde(default)]
    account: u64,
    #[serde(default)]
    cache: HashMap<String, CacheEntry>,
    #[serde(default)]
    limiter: LimiterState,
    #[serde(default)]
    fresh_after_ms: u64,
    /// What the Lens learnt of the account: which v2 endpoints the key may call, the
    /// context every card needs, the month's calls.
    #[serde(default)]
    memory: AccountState,
}

/// At most this much cached JSON is persisted (newest first).
const PERSIST_BUDGET_BYTES: usize = 4 * 1024 * 1024;

/// A fingerprint of the base URL and key (the key cannot be read back from it).
fn account(base_url: &str, api_key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (base_url, api_key).hash(&mut h);
    h.finish()
}

/// What a token stands for, in session storage.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PageRecord {
    view: PageView,
    tab_id: Option<i64>,
    /// A candidate of an ambiguous card the user picked.
    #[serde(default)]
    pick: Option<Target>,
}

type Pending = Shared<LocalBoxFuture<'static, Reply>>;

struct Engine<T> {
    client: LensClient<T>,
    cache: Arc<MemoryCache>,
    account: u64,
}

struct Inner<H, T> {
    host: H,
    origins: Origins,
    new_transport: Box<dyn Fn() -> T>,
    settings: RefCell<Settings>,
    engine: RefCell<Result<Engine<T>, CardError>>,
    /// State a previous worker left, used by the first client of its account.
    restored: RefCell<Option<PersistedState>>,
    /// token → (id, the lookup) and token → its first round.
    lookups: RefCell<HashMap<Token, (u64, Phase, Pending)>>,
    firsts: RefCell<HashMap<Token, Pending>>,
    /// The page views of this worker's life, and each tab's, by token (also written to the
    /// session storage, which outlives the worker: a page view's answer does not wait for it).
    pages: RefCell<HashMap<Token, PageRecord>>,
    tabs: RefCell<HashMap<i64, Token>>,
    next_id: Cell<u64>,
    /// The index of the firm's companies (see `company_index`), and the bytes a previous
    /// worker left, taken by the first engine of their account.
    index: RefCell<IndexState>,
    restored_index: RefCell<Option<Vec<u8>>>,
    /// Whether the index syncs by itself (off in unit tests that count requests).
    index_sync: Cell<bool>,
}

/// The background: one client (one cache, one limiter) for every tab.
pub struct Lens<H, T> {
    inner: Rc<Inner<H, T>>,
}

impl<H, T> Clone for Lens<H, T> {
    fn clone(&self) -> Self {
        Lens { inner: self.inner.clone() }
    }
}

fn expired() -> CardError {
    CardError::new(ErrorKind::Expired, "This card has expired: reload the page.")
}

/// Team mode without a personal key: the gateway only reads (docs/design.md).
fn writes_need_a_key() -> CardError {
    CardError::new(
        ErrorKind::NoKey,
        "Team mode reads cards through your firm's gateway; to change Affinity from the card, add your own API key in the options.",
    )
}

/// The account whose state (cache, limiter) is kept: the key's at its base URL, or in team
/// mode the gateway's (with the personal key, if any, for writes).
fn account_of(settings: &Settings) -> u64 {
    match settings.gateway() {
        Some(gateway) => account(&format!("team {gateway}"), &settings.api_key),
        None => account(&settings.base_url, &settings.api_key),
    }
}

fn no_key() -> CardError {
    CardError::new(ErrorKind::NoKey, "Add your Affinity API key in the Lens options.")
}

impl<H: Host, T: Transport + MaybeSend + MaybeSync + 'static> Lens<H, T> {
    /// The background, with the settings as stored and the state a previous worker left
    /// (`export_state`'s JSON).
    pub fn new(
        host: H,
        origins: Origins,
        new_transport: impl Fn() -> T + 'static,
        settings: Settings,
        state: Option<&str>,
        index: Option<Vec<u8>>,
    ) -> Lens<H, T> {
        let restored = state.and_then(|s| serde_json::from_str::<PersistedState>(s).ok());
        let lens = Lens {
            inner: Rc::new(Inner {
                host,
                origins,
                new_transport: Box::new(new_transport),
                settings: RefCell::new(Settings::default()),
                engine: RefCell::new(Err(no_key())),
                restored: RefCell::new(restored),
                lookups: RefCell::new(HashMap::new()),
                firsts: RefCell::new(HashMap::new()),
                pages: RefCell::new(HashMap::new()),
                tabs: RefCell::new(HashMap::new()),
                next_id: Cell::new(0),
                index: RefCell::new(IndexState::default()),
                restored_index: RefCell::new(index),
                index_sync: Cell::new(true),
            }),
        };
        lens.configure(settings);
        lens
    }

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        self.inner.settings.borrow().clone()
    }

    /// Takes new settings. A new key or base URL makes a new client (with the auth header
    /// built once) and drops every page view's lookup and the persisted cache; a refused
    /// base URL leaves no client, and every card says why.
    pub fn configure(&self, settings: Settings) {
        let inner = &self.inner;
        let new_account = account_of(&settings);
        let same = matches!(&*inner.engine.borrow(), Ok(e) if e.account == new_account);
        *inner.settings.borrow_mut() = settings.clone();
        if same {
            return;
        }
        let had_client = inner.engine.borrow().is_ok();
        inner.lookups.borrow_mut().clear();
        inner.firsts.borrow_mut().clear();
        // Team mode without a key still has an engine: its cache keeps the gateway's cards.
        let engine = if settings.api_key.is_empty() && settings.gateway().is_none() {
            Err(no_key())
        } else {
            check_base_url(&settings.base_url)
                .map(|base_url| self.engine_for(&base_url, &settings.api_key, new_account))
        };
        if had_client {
            inner.host.forget_state();
        }
        *inner.engine.borrow_mut() = engine;
        // The index is the account's: a previous worker's if it was this account's, else a
        // new one (synced on the next use).
        let restored = inner.restored_index.borrow_mut().take();
        let state = restored.and_then(|b| IndexState::from_bytes(&b, new_account));
        *inner.index.borrow_mut() = state.unwrap_or_else(|| IndexState::new(new_account));
    }

    /// Whether the index syncs by itself (unit tests that count requests turn it off).
    pub fn set_index_sync(&self, on: bool) {
        self.inner.index_sync.set(on);
    }

    /// The index as bytes to persist (`None`: nothing worth keeping yet).
    pub fn export_index(&self) -> Option<Vec<u8>> {
        let st = self.inner.index.borrow();
        (st.index.as_of_ms() > 0 || !st.index.is_empty()).then(|| st.to_bytes())
    }

    /// Where the index comes from with these settings.
    fn index_source(&self) -> IndexSource {
        let settings = self.settings();
        if settings.gateway().is_some() {
            IndexSource::Gateway
        } else if !settings.api_key.is_empty() && self.inner.engine.borrow().is_ok() {
            IndexSource::Sync
        } else {
            IndexSource::None
        }
    }

    /// What the index answers for `query` now, if it may answer (a domain, an index synced
    /// in the last days).
    fn index_card(&self, query: &Query) -> Option<Card> {
        if query.kind != QueryKind::Domain {
            return None;
        }
        let st = self.inner.index.borrow();
        if !st.answers(unix_ms()) {
            return None;
        }
        st.index.answer(query)
    }

    /// Syncs the index if it is due (personal mode: as [`lens_core::index::SyncPolicy`]
    /// plans, never below the user's on-demand share of the month's budget; team mode: the
    /// gateway's index, asked again every few minutes of use). Called on use: a page view,
    /// saved settings.
    pub fn sync_index_if_due(&self) {
        if !self.inner.index_sync.get() || self.inner.index.borrow().syncing {
            return;
        }
        match self.index_source() {
            IndexSource::None => {}
            IndexSource::Gateway => self.fetch_gateway_index(),
            IndexSource::Sync => self.sync_with_key(),
        }
    }

    fn sync_with_key(&self) {
        let Ok(client) = self.client() else { return };
        let settings = self.settings();
        let policy = lens_core::index::SyncPolicy {
            min_budget_percent: settings.on_demand_below,
            ..lens_core::index::SyncPolicy::default()
        };
        let (snapshot, account, progress) = {
            let mut st = self.inner.index.borrow_mut();
            let plan = policy.plan(&st.index, unix_ms(), self.budget().as_ref());
            if plan.is_empty() {
                return;
            }
            st.syncing = true;
            st.error = None;
            if let Ok(mut p) = st.progress.lock() {
                *p = Some(Default::default());
            }
            ((st.index.clone(), plan), st.account, st.progress.clone())
        };
        let weak: Weak<Inner<H, T>> = Rc::downgrade(&self.inner);
        let run = async move {
            let (index, plan) = snapshot;
            let tell = progress.clone();
            let outcome = lens_core::index::sync(&client, &index, &plan, &policy, move |p| {
                if let Ok(mut slot) = tell.lock() {
                    *slot = Some(p);
                }
            })
            .await;
            drop(index);
            let Some(inner) = weak.upgrade() else { return };
            {
                let mut st = inner.index.borrow_mut();
                if st.account != account {
                    return; // another key meanwhile: its index starts again
                }
                st.syncing = false;
                let report = st.index.absorb(outcome);
                st.error = report.error;
            }
            inner.host.index_changed();
            inner.host.state_changed();
        };
        self.inner.host.spawn(run.boxed_local());
    }

    fn fetch_gateway_index(&self) {
        let settings = self.settings();
        let Some(gateway) = settings.gateway().map(str::to_owned) else { return };
        let now = unix_ms();
        let (etag, account) = {
            let mut st = self.inner.index.borrow_mut();
            if now < st.next_fetch_ms {
                return;
            }
            st.syncing = true;
            (st.etag.clone(), st.account)
        };
        let mut headers = team::headers(&settings.gateway_token, "application/octet-stream");
        if let Some(etag) = etag {
            headers.push(("if-none-match".to_owned(), etag));
        }
        let url = crate::company_index::index_url(&gateway);
        let weak: Weak<Inner<H, T>> = Rc::downgrade(&self.inner);
        let run = async move {
            let Some(inner) = weak.upgrade() else { return };
            let response = inner.host.fetch_bytes(&url, headers).await;
            let answer = read_gateway_index(response);
            let mut st = inner.index.borrow_mut();
            if st.account != account {
                return;
            }
            st.syncing = false;
            let now = unix_ms();
            let changed = match answer {
                GatewayIndex::New(index, etag) => {
                    st.index = *index;
                    st.etag = etag;
                    st.error = None;
                    (st.fetched_ms, st.next_fetch_ms) = (now, now + team::INDEX_EVERY_MS);
                    true
                }
                GatewayIndex::Unchanged => {
                    st.error = None;
                    (st.fetched_ms, st.next_fetch_ms) = (now, now + team::INDEX_EVERY_MS);
                    false
                }
                GatewayIndex::Later(wait_ms, why) => {
                    st.error = Some(why);
                    st.next_fetch_ms = now + wait_ms;
                    false
                }
            };
            drop(st);
            if changed {
                inner.host.index_changed();
            }
        };
        self.inner.host.spawn(run.boxed_local());
    }

    fn engine_for(&self, base_url: &str, api_key: &str, account: u64) -> Engine<T> {
        let restored = self.inner.restored.borrow_mut().take().filter(|r| r.account == account).unwrap_or_default();
        let cache = Arc::new(MemoryCache::default());
        cache.restore(restored.cache);
        // Someone is waiting for the card: past a few seconds' wait, say when to retry instead.
        let config = LimiterConfig { max_wait: Some(web_time::Duration::from_secs(5)), ..LimiterConfig::default() };
        let limiter = Arc::new(RateLimiter::with_state(config, restored.limiter));
        let builder =
            Client::builder(ClientConfig::new(base_url, api_key), (self.inner.new_transport)()).cache(cache.clone());
        let client = LensClient::new(builder.limiter(limiter), Arc::new(Account::with_state(restored.memory)));
        client.restore_fresh_after(restored.fresh_after_ms);
        Engine { client, cache, account }
    }

    /// The client for writes and the budget: in team mode, only with a personal key.
    fn keyed_client(&self) -> Result<LensClient<T>, CardError> {
        let settings = self.settings();
        if settings.api_key.is_empty() && settings.gateway().is_some() {
            return Err(writes_need_a_key());
        }
        self.client()
    }

    fn client(&self) -> Result<LensClient<T>, CardError> {
        self.inner.engine.borrow().as_ref().map(|e| e.client.clone()).map_err(Clone::clone)
    }

    /// The month's budget as Affinity's last answer said it.
    pub fn budget(&self) -> Option<MonthlyBudget> {
        self.inner.engine.borrow().as_ref().ok()?.client.limiter().monthly()
    }

    /// The cache and limiter as JSON to persist, or `None` without a client.
    pub fn export_state(&self) -> Option<String> {
        let engine = self.inner.engine.borrow();
        let e = engine.as_ref().ok()?;
        let mut entries: Vec<(String, CacheEntry)> = e.cache.snapshot().into_iter().collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.1.stored_at_ms));
        let mut budget = PERSIST_BUDGET_BYTES;
        let cache = entries
            .into_iter()
            .take_while(|(k, e)| {
                let size = k.len() + e.body.len();
                let fits = size <= budget;
                budget = budget.saturating_sub(size);
                fits
            })
            .collect();
        let state = PersistedState {
            account: e.account,
            cache,
            limiter: e.client.limiter().snapshot(),
            fresh_after_ms: e.client.fresh_after_ms(),
            memory: e.client.account().snapshot(),
        };
        serde_json::to_string(&state).ok()
    }

    /// Answers one message (any JSON) from `sender`: the reply's JSON.
    pub async fn handle(&self, message: Value, sender: Sender) -> Value {
        let request = match Request::decode(message) {
            Ok(r) => r,
            Err(reply) => return reply.to_value(),
        };
        let role = self.inner.origins.role(&sender);
        if !request.allowed(&role) {
            return Reply::bad_message("not from a sender that may send it").to_value();
        }
        // A page view or saved settings are a use: the index syncs if due (after the answer
        // is made: a page view's pill never waits for it).
        let used = matches!(
            request,
            Request::Page { .. } | Request::Thread { .. } | Request::Save { .. } | Request::Position { .. }
        );
        let reply = self.answer(request, role).await.to_value();
        if used {
            self.sync_index_if_due();
        }
        reply
    }

    async fn answer(&self, request: Request, role: Role) -> Reply {
        let (tab, overlay) = match role {
            Role::Content { tab_id, .. } => (Some(tab_id), None),
            Role::Overlay { tab_id } => (Some(tab_id), Some(tab_id)),
            Role::Extension | Role::Other => (None, None),
        };
        let result = match request {
            Request::Page { url, hints } => self.on_page(url, Request::clean_hints(hints), tab).await,
            Request::Thread { url, thread, addresses, me } => {
                self.on_thread(url, thread, lens_core::mail::Seen { addresses, me }, tab).await
            }
            Request::Position { side, top } => {
                let top = if top.is_finite() { top.clamp(0.0, 100_000.0).round() as u32 } else { 0 };
                let next = Settings { position: Some(Position { side, top }), ..self.settings() };
                self.save(next).await;
                Ok(Answer::Ack {})
            }
            Request::Card { token, first, refresh, lookup, pick, full } => {
                return self.on_card(token, first, refresh, lookup, pick, full).await;
            }
            Request::Act { token, target, action } => {
                let Some(record) = self.page_of(&token).await else { return Reply(Err(expired())) };
                // A write is about what this page view's card shows (its entity or a
                // candidate), and from the overlay only about its own tab's page view.
                let mut ok = overlay.is_none_or(|tab| record.tab_id == Some(tab));
                if let (true, Some(target)) = (ok, target) {
                    ok = self.shown_targets(&token, record).await.contains(&target);
                }
                if !ok {
                    return Reply::bad_message("lens:act: not this page view's entity, or another tab's");
                }
                match self.keyed_client() {
                    Err(e) => Err(e),
                    Ok(client) => {
                        let done = perform(&client, target, &action).await;
                        self.inner.host.state_changed();
                        done.map(|outcome| Answer::Done { outcome }).map_err(|e| CardError::from(&e))
                    }
                }
            }
            Request::Choices { token } => {
                if self.page_of(&token).await.is_none() {
                    return Reply(Err(expired()));
                }
                match self.keyed_client() {
                    Err(e) => Err(e),
                    Ok(client) => {
                        let (lists, people) = futures::join!(list_choices(&client), lens_core::lookup::team(&client));
                        lists
                            .and_then(|lists| Ok(Answer::Lists { lists, people: people? }))
                            .map_err(|e| CardError::from(&e))
                    }
                }
            }
            Request::Companies { token, query } => {
                if self.page_of(&token).await.is_none() {
                    return Reply(Err(expired()));
                }
                let query: String = query.chars().take(100).collect();
                let found = self.inner.index.borrow().index.search(&query, crate::protocol::COMPANY_CHOICES);
                Ok(Answer::Companies { companies: found.into_iter().map(Into::into).collect() })
            }
            Request::Expand { token, expanded } => {
                if let Some(tab) = tab {
                    self.inner.host.to_content(tab, &ToContent::Expand { token, expanded });
                }
                Ok(Answer::Ack {})
            }
            Request::Close { token } => {
                if let Some(tab) = tab {
                    self.inner.host.to_content(tab, &ToContent::Close { token });
                }
                Ok(Answer::Ack {})
            }
            Request::Tab { tab_id } => self.on_tab(tab_id).await,
            Request::Pause { site, paused } => {
                let site = site.trim().to_ascii_lowercase();
                if site.is_empty() {
                    return Reply::bad_message("lens:pause: no site");
                }
                let next = self.settings().with_paused(&site, paused);
                let paused = next.paused.clone();
                self.save(next).await;
                Ok(Answer::Paused { paused })
            }
            Request::Whoami { api_key, base_url } => self.on_whoami(api_key.trim(), &base_url).await,
            Request::Usage {} => match self.keyed_client() {
                Err(e) => Err(e),
                Ok(client) => {
                    let rate = client.rate_limit().await;
                    self.inner.host.state_changed();
                    let lens = client.account().usage(unix_ms());
                    rate.map(|r| Answer::usage(&r, &lens)).map_err(|e| CardError::from(&e))
                }
            },
            Request::Settings {} => Ok(Answer::Settings { settings: self.settings().to_form() }),
            Request::Save { settings } => match self.settings().with_form(&settings) {
                Err(e) => Err(e),
                Ok(next) => {
                    self.save(next.clone()).await;
                    Ok(Answer::Settings { settings: next.to_form() })
                }
            },
            Request::Links { hosts } => {
                let page = match &role {
                    Role::Content { url, .. } => url.clone(),
                    _ => String::new(),
                };
                let known = match self.badges_on(&page) {
                    true => {
                        let st = self.inner.index.borrow();
                        let site = site_of(&page);
                        if st.answers(unix_ms()) { known_links(&st.index, &hosts, site.as_deref()) } else { Vec::new() }
                    }
                    false => Vec::new(),
                };
                Ok(Answer::Links { known })
            }
            Request::LinkCard { domain } => self.on_link_card(&domain, tab).await,
            Request::Index {} => {
                let source = self.index_source();
                // The gateway's index is one small answer when unchanged: the options ask for
                // it while they show it (a sync with the key waits for a use).
                if source == IndexSource::Gateway {
                    self.sync_index_if_due();
                }
                Ok(Answer::Index { status: self.inner.index.borrow().status(unix_ms(), source) })
            }
        };
        Reply(result)
    }

    /// Keeps `settings` and takes them.
    async fn save(&self, settings: Settings) {
        self.inner.host.save_settings(&settings).await;
        self.configure(settings);
    }

    async fn page_of(&self, token: &Token) -> Option<PageRecord> {
        if let Some(record) = self.inner.pages.borrow().get(token) {
            return Some(record.clone());
        }
        // A page view of a previous worker's.
        let v = self.inner.host.session_get(&format!("page:{}", token.as_str())).await?;
        serde_json::from_value(v).ok()
    }

    async fn save_page(&self, token: &Token, record: &PageRecord) {
        self.inner.pages.borrow_mut().insert(token.clone(), record.clone());
        let v = serde_json::to_value(record).unwrap_or(Value::Null);
        self.inner.host.session_set(&format!("page:{}", token.as_str()), v).await;
    }

    /// The entity and candidates of a page view's card (its lookup, started again after a
    /// worker restart: the cache answers).
    async fn shown_targets(&self, token: &Token, record: PageRecord) -> Vec<Target> {
        let pending = self.inner.lookups.borrow().get(token).map(|(_, _, p)| p.clone());
        let reply = pending.unwrap_or_else(|| self.start(token, record, false, Phase::Pill)).await;
        let Ok(Answer::Card { card, .. }) = reply.0 else { return Vec::new() };
        let entity = card.entity.iter().map(|e| Target { kind: e.kind, id: e.id });
        entity.chain(card.candidates.iter().map(|c| Target { kind: c.kind, id: c.id })).collect()
    }

    /// A new page view: known here at once, written to the session storage meanwhile (after
    /// the tab's previous one is removed there).
    async fn new_view(&self, view: PageView, tab_id: Option<i64>) -> Result<Token, CardError> {
        let bytes = self.inner.host.random().ok_or_else(|| {
            CardError::new(ErrorKind::Internal, "The browser gave the Lens no random numbers: it cannot show a card.")
        })?;
        let token = Token::from_bytes(bytes);
        let record = PageRecord { view, tab_id, pick: None };
        self.inner.pages.borrow_mut().insert(token.clone(), record.clone());
        if let Some(tab) = tab_id {
            self.inner.tabs.borrow_mut().insert(tab, token.clone());
        }
        let (lens, saved) = (self.clone(), token.clone());
        self.inner.host.spawn(Box::pin(async move {
            let v = serde_json::to_value(&record).unwrap_or(Value::Null);
            let key = format!("page:{}", saved.as_str());
            let page = lens.inner.host.session_set(&key, v);
            let tab = async {
                if let Some(tab) = tab_id {
                    lens.inner.host.session_set(&format!("tab:{tab}"), Value::String(saved.as_str().to_owned())).await;
                }
            };
            futures::join!(page, tab);
        }));
        Ok(token)
    }

    /// A closed tab's page view is forgotten, here and in the session storage.
    pub async fn forget_tab(&self, tab_id: i64) {
        let known = self.take_tab(tab_id);
        self.forget_tab_view(tab_id, known).await;
    }

    /// The tab's page view, if this worker knows it: no longer the tab's, and forgotten here.
    fn take_tab(&self, tab_id: i64) -> Option<Token> {
        let old = self.inner.tabs.borrow_mut().remove(&tab_id)?;
        self.drop_view(&old);
        Some(old)
    }

    /// The tab's previous page view, when a new one comes, is forgotten without making the
    /// new one wait: here at once when this worker knows it, in the session storage
    /// meanwhile (its removal started before the new page view's writes).
    fn forget_tab_soon(&self, tab_id: i64) {
        let known = self.take_tab(tab_id);
        let lens = self.clone();
        self.inner.host.spawn(Box::pin(async move { lens.forget_tab_view(tab_id, known).await }));
    }

    /// Forgets the tab's page view `known` (this worker's), else the one the session storage
    /// names (a previous worker's). The `tab:` entry is left to a page view made here in the
    /// meantime (its write may already be on its way).
    async fn forget_tab_view(&self, tab_id: i64, known: Option<Token>) {
        let key = format!("tab:{tab_id}");
        let old = match known {
            Some(old) => old,
            None => {
                let Some(old) = self.inner.host.session_get(&key).await else { return };
                let Some(old) = old.as_str().and_then(|s| Token::try_from(s.to_owned()).ok()) else { return };
                if self.inner.tabs.borrow().get(&tab_id) == Some(&old) {
                    return;
                }
                self.drop_view(&old);
                old
            }
        };
        let mut keys = vec![format!("page:{}", old.as_str())];
        if !self.inner.tabs.borrow().contains_key(&tab_id) {
            keys.push(key);
        }
        self.inner.host.session_remove(&keys).await;
    }

    /// A page view's state in this worker: its look-up, its first answer, its record.
    fn drop_view(&self, old: &Token) {
        self.inner.lookups.borrow_mut().remove(old);
        self.inner.firsts.borrow_mut().remove(old);
        self.inner.pages.borrow_mut().remove(old);
    }

    /// A browser command (the keyboard shortcut) in the active tab.
    pub fn command(&self, name: &str, tab_id: Option<i64>) {
        if let (Some(tab), "toggle-card") = (tab_id, name) {
            self.inner.host.to_content(tab, &ToContent::Toggle {});
        }
    }

    async fn on_page(&self, url: String, hints: lens_core::PageHints, tab: Option<i64>) -> Result<Answer, CardError> {
        let Some(tab_id) = tab else { return Err(CardError::new(ErrorKind::BadMessage, "a page without a tab")) };
        self.forget_tab_soon(tab_id);
        let settings = self.settings();
        let plan = plan_page(&url, &hints, &settings, self.budget().as_ref());
        match plan {
            PagePlan::Nothing | PagePlan::Never(_) => {
                self.inner.host.set_badge(tab_id, &Badge::none());
                // Gmail is never looked up by its site; its inbox's senders get badges.
                let badges = crate::plan::is_gmail(&url) && self.badges_on(&url);
                let position = settings.position;
                Ok(Answer::Page { show: false, token: None, position, frame: FRAME_SIZES, badges, pill: None })
            }
            PagePlan::View(view) => {
                let show = view.pill;
                let badges = view.when != When::Paused && self.badges_on(&url);
                // The index answers first: a site the firm does not know costs no call.
                let indexed = match view.when {
                    When::Paused => None,
                    _ => self.index_card(&view.query),
                };
                let unknown = indexed.as_ref().is_some_and(|c| c.status == CardStatus::NotFound);
                let now = view.when == When::Now && !unknown;
                let view = *view;
                let token = self.new_view(view.clone(), Some(tab_id)).await?;
                if let Some(card) = &indexed {
                    self.inner.host.set_badge(tab_id, &Badge::for_outcome(&Ok(card.clone())));
                }
                if now {
                    // A page view costs what the pill shows; the whole card only while the
                    // month's budget is comfortably above the user's threshold.
                    let ahead = fetch_card_ahead(self.budget().as_ref(), settings.on_demand_below);
                    let phase = if ahead { Phase::Card } else { Phase::Pill };
                    drop(self.start(&token, PageRecord { view, tab_id: Some(tab_id), pick: None }, false, phase));
                } else if indexed.is_none() {
                    self.inner.host.set_badge(tab_id, &Badge::none());
                }
                // The content script paints the index's pill while the overlay frame starts.
                let pill = indexed.as_ref().filter(|_| show).map(lens_core::pill::Pill::of);
                Ok(Answer::Page {
                    show,
                    token: Some(token),
                    position: settings.position,
                    frame: FRAME_SIZES,
                    badges,
                    pill,
                })
            }
        }
    }

    /// An open email thread in Gmail: a page view of its participants (the pill and card
    /// say who is on the thread), looked up as a page view is.
    async fn on_thread(
        &self,
        url: String,
        thread: String,
        seen: lens_core::mail::Seen,
        tab: Option<i64>,
    ) -> Result<Answer, CardError> {
        let Some(tab_id) = tab else { return Err(CardError::new(ErrorKind::BadMessage, "a thread without a tab")) };
        self.forget_tab_soon(tab_id);
        let settings = self.settings();
        let hidden = Answer::Page {
            show: false,
            token: None,
            position: settings.position,
            frame: FRAME_SIZES,
            badges: false,
            pill: None,
        };
        let Some(view) = crate::plan::plan_thread(&url, &thread, seen, &settings, self.budget().as_ref()) else {
            return Ok(hidden);
        };
        let show = view.pill;
        let now = view.when == When::Now;
        let token = self.new_view(view.clone(), Some(tab_id)).await?;
        self.inner.host.set_badge(tab_id, &Badge::none());
        if now {
            let ahead = fetch_card_ahead(self.budget().as_ref(), settings.on_demand_below);
            let phase = if ahead { Phase::Card } else { Phase::Pill };
            drop(self.start(&token, PageRecord { view, tab_id: Some(tab_id), pick: None }, false, phase));
        }
        Ok(Answer::Page {
            show,
            token: Some(token),
            position: settings.position,
            frame: FRAME_SIZES,
            badges: false,
            pill: None,
        })
    }

    /// Whether the links of the page at `url` get badges: on in the options and for its
    /// site, which is neither paused nor never looked up.
    fn badges_on(&self, url: &str) -> bool {
        let settings = self.settings();
        let Some(site) = site_of(url) else { return false };
        let never = matches!(plan_page(url, &Default::default(), &settings, None), PagePlan::Never(_));
        settings.badges_on(&site) && !settings.is_paused(&site) && (!never || crate::plan::is_gmail(url))
    }

    /// The keyboard shortcut over a badged link: a page view of that company (a domain the
    /// index knows), in the tab whose link it is.
    async fn on_link_card(&self, domain: &str, tab: Option<i64>) -> Result<Answer, CardError> {
        let Some(tab_id) = tab else { return Err(CardError::new(ErrorKind::BadMessage, "a link without a tab")) };
        let domain = lens_core::index::domain_key(domain);
        let query = Query { kind: QueryKind::Domain, value: domain.clone() };
        if !self.index_card(&query).is_some_and(|c| c.status != CardStatus::NotFound) {
            return Err(CardError::new(ErrorKind::BadMessage, "lens:link_card: not a company the index knows"));
        }
        let settings = self.settings();
        let url = format!("https://{domain}/");
        let PagePlan::View(view) = plan_page(&url, &Default::default(), &settings, self.budget().as_ref()) else {
            return Err(CardError::new(ErrorKind::Unsupported, "This site is never looked up."));
        };
        let bytes = self.inner.host.random().ok_or_else(|| {
            CardError::new(ErrorKind::Internal, "The browser gave the Lens no random numbers: it cannot show a card.")
        })?;
        let token = Token::from_bytes(bytes);
        // The tab's own page view stays its page view: this one is only the link's card.
        self.save_page(&token, &PageRecord { view: *view, tab_id: Some(tab_id), pick: None }).await;
        Ok(Answer::Page {
            show: true,
            token: Some(token),
            position: settings.position,
            frame: FRAME_SIZES,
            badges: true,
            // Opened at once (the card, not the pill).
            pill: None,
        })
    }

    /// The card of a page view: the pill's (`full: false`), or the whole card (`full`: the
    /// user opened it, or it is the popup), which reuses every answer of the pill.
    async fn on_card(
        &self,
        token: Token,
        first: bool,
        refresh: bool,
        lookup: bool,
        pick: Option<Target>,
        full: bool,
    ) -> Reply {
        let Some(mut record) = self.page_of(&token).await else { return Reply(Err(expired())) };
        let phase = if full { Phase::Card } else { Phase::Pill };
        if let Some(pick) = pick {
            record.pick = Some(pick);
            self.save_page(&token, &record).await;
            return self.start(&token, record, refresh, Phase::Card).await;
        }
        if first {
            let pending = self.inner.firsts.borrow().get(&token).cloned();
            if let Some(pending) = pending {
                return pending.await;
            }
        }
        if !refresh {
            // The page view's lookup answers a pill; only a whole card answers an opened one.
            let pending = self
                .inner
                .lookups
                .borrow()
                .get(&token)
                .filter(|(_, phase, _)| !full || *phase == Phase::Card)
                .map(|(_, _, p)| p.clone());
            if let Some(pending) = pending {
                return pending.await;
            }
        }
        if !full && !lookup && !refresh && record.pick.is_none() && record.view.when != When::Paused {
            // The index's answer stands for the pill where no live look-up runs: a site the
            // firm does not know, or any site while the budget is low. A click checks live.
            if let Some(card) = self.index_card(&record.view.query)
                && (card.status == CardStatus::NotFound || matches!(record.view.when, When::OnDemand(_)))
            {
                return Reply::ok(Answer::card(card, false));
            }
        }
        match &record.view.when {
            When::Paused if record.pick.is_none() => Reply::ok(Answer::card(paused_card(&record.view), false)),
            When::OnDemand(message) if !lookup && !refresh => Reply::ok(Answer::OnDemand { message: message.clone() }),
            _ => self.start(&token, record, refresh, phase).await,
        }
    }

    /// Starts the lookup of a page view (again, with `refresh`), shared by everyone who asks.
    fn start(&self, token: &Token, record: PageRecord, refresh: bool, phase: Phase) -> Pending {
        let id = self.inner.next_id.get() + 1;
        self.inner.next_id.set(id);
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => {
                if let Some(tab) = record.tab_id {
                    self.inner.host.set_badge(tab, &Badge::for_outcome(&Err(e.clone())));
                }
                let reply = Reply(Err(e));
                return futures::future::ready(reply).boxed_local().shared();
            }
        };
        if refresh {
            client.invalidate();
        }
        let query = match record.pick {
            Some(t) => Query {
                kind: if t.kind == EntityKind::Person { QueryKind::PersonId } else { QueryKind::OrganizationId },
                value: t.id.to_string(),
            },
            None => record.view.query.clone(),
        };
        let hints = record.view.hints.clone();
        // A thread: its participants, and what the index says of their companies' domains.
        let thread = record.view.thread.clone().filter(|_| record.pick.is_none());
        let indexed: HashMap<String, Option<Card>> = thread
            .iter()
            .flat_map(|seen| seen.addresses.iter().take(lens_core::mail::MAX_SEEN))
            .filter_map(|a| lens_core::mail::email_address(&a.email))
            .filter_map(|a| lens_core::page::registrable_domain(a.split_once('@')?.1))
            .map(|d| {
                let answer = self.index_card(&Query { kind: QueryKind::Domain, value: d.clone() });
                (d, answer)
            })
            .collect();
        let (first_tx, first_rx) = futures::channel::oneshot::channel::<Reply>();
        // A company the index knows shows what the index says (its lists and Status) before
        // any call returns; the live card then wins.
        let from_index = if refresh || record.pick.is_some() { None } else { self.index_card(&query) };
        let first_tx = match from_index {
            Some(card) if card.status != CardStatus::NotFound => {
                let _ = first_tx.send(Reply::ok(Answer::card(card, true)));
                None
            }
            _ => Some(first_tx),
        };
        let first_tx = Rc::new(RefCell::new(first_tx));
        let index_account = self.inner.index.borrow().account;
        let weak: Weak<Inner<H, T>> = Rc::downgrade(&self.inner);
        let key = token.clone();
        let tab = record.tab_id;
        // Team mode: the card from the gateway, kept in the engine's cache.
        let settings = self.settings();
        let team = settings.gateway().and_then(|gateway| {
            let cache = self.inner.engine.borrow().as_ref().ok()?.cache.clone();
            Some((gateway.to_owned(), settings.gateway_token.clone(), (self.inner.new_transport)(), cache))
        });
        let lookup = async move {
            let partial_tx = first_tx.clone();
            let card: Card = if let (Some(seen), Some((gateway, token, transport, cache))) = (&thread, &team) {
                team::thread_card(transport, gateway, token, &query, seen, cache.as_ref(), refresh, &indexed).await
            } else if let Some(seen) = &thread {
                let indexed = |d: &str| indexed.get(d).cloned().flatten();
                lens_core::thread::lookup_seen_thread(&client, &query.value, seen, indexed).await
            } else if let Some((gateway, token, transport, cache)) = &team {
                team::card(transport, gateway, token, &query, &hints, cache.as_ref(), refresh).await
            } else {
                lookup::lookup(&client, &query, &hints, phase, move |partial| {
                    if let Some(tx) = partial_tx.borrow_mut().take() {
                        let _ = tx.send(Reply::ok(Answer::card(partial.clone(), true)));
                    }
                })
                .await
            };
            let reply = Reply::ok(Answer::card(card.clone(), false));
            if let Some(tx) = first_tx.borrow_mut().take() {
                let _ = tx.send(reply.clone());
            }
            if let Some(inner) = weak.upgrade() {
                inner.host.state_changed();
                // The live answer corrects the index.
                let learnt = {
                    let mut st = inner.index.borrow_mut();
                    st.account == index_account && st.index.as_of_ms() > 0 && st.index.learn_card(&card)
                };
                if learnt {
                    inner.host.index_changed();
                }
                // Only the tab's current page view sets its badge (not a slow lookup of a
                // page left since).
                let current = inner.lookups.borrow().get(&key).is_some_and(|(i, _, _)| *i == id);
                if let (true, Some(tab)) = (current, tab) {
                    inner.host.set_badge(tab, &Badge::for_outcome(&Ok(card)));
                }
            }
            reply
        }
        .boxed_local()
        .shared();
        let first = first_rx
            .map(|r| r.unwrap_or_else(|_| Reply::failed(ErrorKind::Internal, "the lookup ended without a card")))
            .boxed_local()
            .shared();
        self.inner.firsts.borrow_mut().insert(token.clone(), first);
        self.inner.lookups.borrow_mut().insert(token.clone(), (id, phase, lookup.clone()));
        self.inner.host.spawn(lookup.clone().map(|_| ()).boxed_local());
        lookup
    }

    async fn on_tab(&self, tab_id: i64) -> Result<Answer, CardError> {
        let url = self.inner.host.tab_url(tab_id).await.unwrap_or_default();
        let settings = self.settings();
        let key = format!("tab:{tab_id}");
        let mut token = match self.inner.host.session_get(&key).await.and_then(|v| v.as_str().map(str::to_owned)) {
            Some(t) => Token::try_from(t).ok(),
            None => None,
        };
        if let Some(t) = &token
            && self.page_of(t).await.is_none_or(|r| r.view.url != url)
        {
            token = None;
        }
        let site = crate::plan::site_of(&url);
        let paused = site.as_deref().is_some_and(|s| settings.is_paused(s));
        if token.is_none() {
            // A tab the content script never reported (opened before the install, say).
            match plan_page(&url, &Default::default(), &settings, self.budget().as_ref()) {
                PagePlan::Nothing => {
                    return Ok(Answer::Tab { token: None, url, site, ignored: false, paused });
                }
                PagePlan::Never(_) => return Ok(Answer::Tab { token: None, url, site, ignored: true, paused }),
                PagePlan::View(view) => token = Some(self.new_view(*view, Some(tab_id)).await?),
            }
        }
        Ok(Answer::Tab { token, url, site, ignored: false, paused })
    }

    async fn on_whoami(&self, api_key: &str, base_url: &str) -> Result<Answer, CardError> {
        let base_url = check_base_url(base_url)?;
        if api_key.is_empty() {
            return Err(CardError::new(ErrorKind::NoKey, "Enter an API key first."));
        }
        // Testing a key typed in the options must not replace the client (and its cache)
        // of the key in use: another key gets a client of its own for this one call.
        let wanted = account(&base_url, api_key);
        let in_use = match &*self.inner.engine.borrow() {
            Ok(e) if e.account == wanted => Some(e.client.api().clone()),
            _ => None,
        };
        let client = in_use.unwrap_or_else(|| {
            Client::builder(ClientConfig::new(&base_url, api_key), (self.inner.new_transport)()).build()
        });
        let w = client.uncached().whoami().await.map_err(|e| CardError::from(&e))?;
        Ok(Answer::Me {
            user: format!("{} {}", w.user.first_name, w.user.last_name).trim().to_owned(),
            email: w.user.email,
            firm: w.tenant.name,
            subdomain: w.tenant.subdomain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use affinity_api::Error;
    use affinity_api::transport::{HttpRequest, HttpResponse};
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;
    use lens_core::PageHints;
    use serde_json::json;
    use std::sync::Mutex;

    #[derive(Default)]
    struct FakeHost {
        session: RefCell<HashMap<String, Value>>,
        saved: RefCell<Vec<Settings>>,
        badges: RefCell<Vec<(i64, String)>>,
        to_content: RefCell<Vec<(i64, Value)>>,
        forgot: Cell<u32>,
        changed: Cell<u32>,
        counter: Cell<u8>,
        no_random: Cell<bool>,
        spawner: RefCell<Option<futures::executor::LocalSpawner>>,
        tabs: RefCell<HashMap<i64, String>>,
        index_changes: Cell<u32>,
        fetched: RefCell<Vec<(String, Headers)>>,
        gateway_index: RefCell<Option<BytesResponse>>,
    }

    impl Host for Rc<FakeHost> {
        async fn session_get(&self, key: &str) -> Option<Value> {
            self.session.borrow().get(key).cloned()
        }
        async fn session_set(&self, key: &str, value: Value) {
            self.session.borrow_mut().insert(key.to_owned(), value);
        }
        async fn session_remove(&self, keys: &[String]) {
            for k in keys {
                self.session.borrow_mut().remove(k);
            }
        }
        async fn save_settings(&self, settings: &Settings) {
            self.saved.borrow_mut().push(settings.clone());
        }
        fn state_changed(&self) {
            self.changed.set(self.changed.get() + 1);
        }
        fn forget_state(&self) {
            self.forgot.set(self.forgot.get() + 1);
        }
        fn set_badge(&self, tab_id: i64, badge: &Badge) {
            self.badges.borrow_mut().push((tab_id, badge.text.clone()));
        }
        fn to_content(&self, tab_id: i64, message: &ToContent) {
            self.to_content.borrow_mut().push((tab_id, serde_json::to_value(message).unwrap()));
        }
        async fn tab_url(&self, tab_id: i64) -> Option<String> {
            self.tabs.borrow().get(&tab_id).cloned()
        }
        fn random(&self) -> Option<[u8; 16]> {
            self.counter.set(self.counter.get() + 1);
            (!self.no_random.get()).then_some([self.counter.get(); 16])
        }
        fn spawn(&self, future: LocalBoxFuture<'static, ()>) {
            self.spawner.borrow().as_ref().expect("a spawner").spawn_local(future).unwrap();
        }
        fn index_changed(&self) {
            self.index_changes.set(self.index_changes.get() + 1);
        }
        async fn fetch_bytes(&self, url: &str, headers: Vec<(String, String)>) -> Option<BytesResponse> {
            self.fetched.borrow_mut().push((url.to_owned(), headers));
            self.gateway_index.borrow().clone()
        }
    }

    type Answers = Arc<dyn Fn(&str) -> (u16, String) + Send + Sync>;
    type Headers = Vec<(String, String)>;

    /// Affinity as a function of the request's path; keeps every request's URL and headers.
    #[derive(Clone)]
    struct FakeAffinity {
        answer: Answers,
        seen: Arc<Mutex<Vec<(String, Headers)>>>,
    }

    impl Transport for FakeAffinity {
        fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, Error>> + MaybeSend {
            let path = request.url.clone();
            self.seen.lock().unwrap().push((path.clone(), request.headers.clone()));
            let (status, body) = (self.answer)(&path);
            async move { Ok(HttpResponse { status, headers: vec![], body }) }
        }
    }

    use std::future::Future;

    fn whoami_body() -> String {
        json!({"tenant": {"name": "Sandbox Ventures", "subdomain": "sandbox", "id": 1},
                       "user": {"id": 1, "firstName": "Alice", "lastName": "Doe", "email": "alice@x.test"},
        })
        .to_string()
    }

    struct World {
        pool: LocalPool,
        host: Rc<FakeHost>,
        lens: Lens<Rc<FakeHost>, FakeAffinity>,
        affinity: FakeAffinity,
    }

    fn world(settings: Settings) -> World {
        world_answering(
            settings,
            Arc::new(
                |path: &str| if path.ends_with("/auth/whoami") { (200, whoami_body()) } else { (503, "{}".into()) },
            ),
        )
    }

    fn world_answering(settings: Settings, answer: Answers) -> World {
        let pool = LocalPool::new();
        let host = Rc::new(FakeHost::default());
        *host.spawner.borrow_mut() = Some(pool.spawner());
        let affinity = FakeAffinity { answer, seen: Arc::default() };
        let transport = affinity.clone();
        let origins =
            Origins { extension: "chrome-extension://lens".into(), overlay: "chrome-extension://lens".into() };
        let lens = Lens::new(host.clone(), origins, move || transport.clone(), settings, None, None);
        lens.set_index_sync(false);
        World { pool, host, lens, affinity }
    }

    fn keyed() -> Settings {
        Settings { api_key: "k".into(), base_url: "http://127.0.0.1:9".into(), ..Settings::default() }
    }

    const CONTENT: fn(&str) -> Sender = |url| Sender { tab_id: Some(4), frame_id: Some(0), url: Some(url.to_owned()) };
    fn overlay() -> Sender {
        Sender { tab_id: Some(4), frame_id: Some(9), url: Some("chrome-extension://lens/overlay.html".into()) }
    }
    fn options() -> Sender {
        Sender { tab_id: None, frame_id: None, url: Some("chrome-extension://lens/options.html".into()) }
    }

    impl World {
        fn ask(&mut self, message: Value, sender: Sender) -> Value {
            let lens = self.lens.clone();
            self.pool.run_until(async move { lens.handle(message, sender).await })
        }
    }

    #[test]
    fn a_bad_message_or_sender_gets_the_one_error_reply() {
        let mut w = world(keyed());
        let r = w.ask(json!({"type": "lens:nope"}), options());
        assert_eq!(r["error"]["kind"], "bad_message");
        // A page may not ask for a card or save settings.
        let r = w.ask(json!({"type": "lens:settings"}), CONTENT("https://acme.com/"));
        assert_eq!((r["ok"].clone(), r["error"]["kind"].clone()), (json!(false), json!("bad_message")));
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), options());
        assert_eq!(r["error"]["kind"], "bad_message");
    }

    #[test]
    fn the_overlay_gets_no_settings_and_writes_for_its_own_tab_only() {
        let mut w = world(keyed());
        for message in [
            json!({"type": "lens:settings"}),
            json!({"type": "lens:save", "settings": {"apiKey": "x", "baseUrl": "https://evil.example", "ignored": "", "paused": "", "overlay": true, "onDemandBelow": "5"}}),
            json!({"type": "lens:whoami", "apiKey": "k", "baseUrl": "http://127.0.0.1:9"}),
            json!({"type": "lens:tab", "tabId": 4}),
            json!({"type": "lens:pause", "site": "acme.com", "paused": true}),
        ] {
            let r = w.ask(message.clone(), overlay());
            assert_eq!(r["error"]["kind"], "bad_message", "{message}: {r}");
        }
        assert!(w.host.saved.borrow().is_empty() && w.affinity.seen.lock().unwrap().is_empty());
        // The options page still may.
        assert_eq!(w.ask(json!({"type": "lens:settings"}), options())["settings"]["apiKey"], "k");
        // A page view of tab 4, asked for by an overlay in tab 5.
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        let other_tab = Sender { tab_id: Some(5), ..overlay() };
        let act = json!({"type": "lens:act", "token": r["token"], "target": null,
            "action": {"action": "create_organization", "name": "Acme", "domain": "acme.com"}});
        assert_eq!(w.ask(act.clone(), other_tab)["error"]["kind"], "bad_message");
        // From its own tab, a create is no protocol error (the fake Affinity is down).
        assert_ne!(w.ask(act, overlay())["error"]["kind"], "bad_message");
    }

    #[test]
    fn a_write_is_about_the_page_views_entity_only() {
        let mut w = with_v2();
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        let token = r["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        assert_eq!(w.ask(json!({"type": "lens:card", "token": token}), overlay())["card"]["entity"]["id"], 7);
        let act = |id: i64| {
            json!({"type": "lens:act", "token": token, "target": {"kind": "organization", "id": id},
                "action": {"action": "add_note", "content": "Met them."}})
        };
        let before = w.affinity.seen.lock().unwrap().len();
        let r = w.ask(act(8), overlay());
        assert_eq!(r["error"]["kind"], "bad_message", "{r}");
        assert_eq!(w.affinity.seen.lock().unwrap().len(), before, "nothing was asked of Affinity");
        // Its own entity goes ahead (the fake has no notes: an error, but not the protocol's).
        let r = w.ask(act(7), overlay());
        assert_ne!(r["error"]["kind"], "bad_message", "{r}");
        // A worker started since knows the entity too (its lookup runs again).
        let transport = w.affinity.clone();
        let origins =
            Origins { extension: "chrome-extension://lens".into(), overlay: "chrome-extension://lens".into() };
        w.lens = Lens::new(w.host.clone(), origins, move || transport.clone(), keyed(), None, None);
        w.lens.set_index_sync(false);
        assert_eq!(w.ask(act(8), overlay())["error"]["kind"], "bad_message");
        assert_ne!(w.ask(act(7), overlay())["error"]["kind"], "bad_message");
    }

    #[test]
    fn without_a_random_source_no_page_view_is_made() {
        let mut w = world(keyed());
        w.host.no_random.set(true);
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        assert_eq!((r["ok"].clone(), r["error"]["kind"].clone()), (json!(false), json!("internal")), "{r}");
        assert!(w.host.session.borrow().keys().all(|k| !k.starts_with("page:")), "no all-zero token was kept");
        w.host.tabs.borrow_mut().insert(7, "https://globex.com/".into());
        assert_eq!(w.ask(json!({"type": "lens:tab", "tabId": 7}), options())["error"]["kind"], "internal");
    }

    #[test]
    fn a_company_page_gets_a_token_and_its_lookup_starts_at_once() {
        let mut w = world(keyed());
        let r =
            w.ask(json!({"type": "lens:page", "url": "https://acme.com/", "hints": {}}), CONTENT("https://acme.com/"));
        assert_eq!(r["answer"], "page");
        assert_eq!(r["show"], true);
        assert_eq!(r["frame"]["card"]["height"], FRAME_SIZES.card.height);
        let token = r["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        assert!(!w.affinity.seen.lock().unwrap().is_empty(), "the lookup asked Affinity before the card was asked for");
        // Affinity is down: the card says so, and so does the badge.
        let card = w.ask(json!({"type": "lens:card", "token": token}), overlay());
        assert_eq!(card["answer"], "card");
        assert_eq!(card["card"]["status"], "error");
        assert_eq!(card["card"]["error"]["kind"], "unavailable");
        assert_eq!(w.host.badges.borrow().last().unwrap(), &(4, "!".to_owned()));
        // An unknown token has expired.
        let r = w.ask(json!({"type": "lens:card", "token": "ab".repeat(16)}), overlay());
        assert_eq!(r["error"]["kind"], "expired");
    }

    /// Affinity for a key with API v2: one company, acme.com, known to Alice.
    fn with_v2() -> World {
        world_answering(
            keyed(),
            Arc::new(|url: &str| {
                let path = url.trim_start_matches("http://127.0.0.1:9");
                let body = match path {
                p if p.starts_with("/auth/whoami") => whoami_body(),
                p if p.starts_with("/v2/users") => json!({"data": [{"id": 1, "firstName": "Alice", "lastName": "Doe",
                    "primaryEmailAddress": "alice@x.test", "photoUrl": null, "status": "active"}],
                    "pagination": {"nextUrl": null}}).to_string(),
                p if p.starts_with("/organizations?term=acme.com") => json!({"organizations": [{"id": 7,
                    "name": "Acme", "domain": "acme.com", "domains": ["acme.com"]}], "next_page_token": null}).to_string(),
                p if p.starts_with("/v2/companies/7/relationships") => json!({"data": [{
                    "person1": {"id": 1, "firstName": "Alice", "lastName": "Doe", "primaryEmailAddress": "alice@x.test"},
                    "person2": {"id": 20, "firstName": "Bob", "lastName": "Smith", "primaryEmailAddress": "bob@acme.com"},
                    "interactionScore": 0.82, "linkedIn": null}], "pagination": {"nextUrl": null}}).to_string(),
                p if p.starts_with("/v2/companies/7/list-entries") => json!({"data": [{"id": 5, "listId": 3,
                    "listName": "Deal Pipeline", "createdAt": "2026-01-01T00:00:00Z", "creatorId": 1, "fields": [
                    {"id": "field-9", "name": "Status", "type": "list", "enrichmentSource": null, "value":
                    {"type": "ranked-dropdown", "data": {"dropdownOptionId": 1, "text": "Diligence", "rank": 1, "color": "blue"}}}]}],
                    "pagination": {"nextUrl": null}}).to_string(),
                p if p.starts_with("/organizations/7?") => json!({"id": 7, "name": "Acme", "domain": "acme.com",
                    "domains": ["acme.com"], "person_ids": [20], "list_entries": [{"id": 5, "list_id": 3}],
                    "opportunity_ids": []}).to_string(),
                p if p.starts_with("/field-values?organization_id=7") => json!([{"id": 1, "field_id": 9,
                    "entity_id": 7, "list_entry_id": 5, "value": {"id": 1, "text": "Diligence"},
                    "created_at": "2026-02-01T00:00:00Z"}]).to_string(),
                _ => return (404, json!({"errors": [{"code": "not-found", "message": "no"}]}).to_string()),
            };
                (200, body)
            }),
        )
    }

    fn asked(w: &World) -> Vec<String> {
        w.affinity
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(u, _)| u.trim_start_matches("http://127.0.0.1:9").to_owned())
            .collect()
    }

    #[test]
    fn a_page_view_asks_what_the_pill_shows_and_the_opened_card_the_rest() {
        let mut w = with_v2();
        let r =
            w.ask(json!({"type": "lens:page", "url": "https://acme.com/", "hints": {}}), CONTENT("https://acme.com/"));
        let token = r["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        let pill = w.ask(json!({"type": "lens:card", "token": token}), overlay());
        assert_eq!(
            (pill["card"]["phase"].as_str(), pill["card"]["connections"][0]["strength"].as_f64()),
            (Some("pill"), Some(0.82))
        );
        assert_eq!(pill["card"]["lists"][0]["status"]["text"], "Diligence");
        let page_view = asked(&w);
        assert!(
            page_view.iter().all(|u| !u.starts_with("/organizations/7?") && !u.starts_with("/field-values")),
            "{page_view:?}"
        );
        // Opened: the rest, and nothing the page view asked already.
        let card = w.ask(json!({"type": "lens:card", "token": token, "full": true}), overlay());
        assert_eq!(card["card"]["phase"], "card");
        assert_eq!(card["card"]["lists"][0]["status_since"], "2026-02-01T00:00:00.000Z");
        assert_eq!(card["card"]["connections"], pill["card"]["connections"], "the pill and the card agree");
        let opened: Vec<String> = asked(&w).into_iter().skip(page_view.len()).collect();
        assert!(opened.iter().all(|u| !page_view.contains(u)), "asked twice: {opened:?}");
        assert!(opened.iter().any(|u| u.starts_with("/organizations/7?")), "{opened:?}");
        // The options page: what the Lens spent this month.
        let usage = w.ask(json!({"type": "lens:usage"}), options());
        assert_eq!(usage["ok"], false, "the fake has no /rate-limit");
        let state = w.lens.export_state().unwrap();
        let state: Value = serde_json::from_str(&state).unwrap();
        assert_eq!(state["memory"]["capabilities"]["v2.companies.relationships"]["available"], true);
        assert_eq!(state["memory"]["usage"]["page_views"], 1);
        assert_eq!(state["memory"]["usage"]["cards_opened"], 1);
        assert!(state["memory"]["context"]["team"].is_object(), "the team is remembered");
    }

    #[test]
    fn page_views_are_answered_from_memory_and_outlive_the_worker_in_the_session_storage() {
        let mut w = world(keyed());
        let page = |url: &str| json!({"type": "lens:page", "url": url, "hints": {}});
        let first =
            w.ask(page("https://acme.com/"), CONTENT("https://acme.com/"))["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        let second =
            w.ask(page("https://globex.com/"), CONTENT("https://globex.com/"))["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        // The storage holds the tab's page view, not the one it navigated away from.
        let stored = w.host.session.borrow().clone();
        assert_eq!(stored.get("tab:4"), Some(&json!(second)));
        assert!(stored.contains_key(&format!("page:{second}")));
        assert!(!stored.contains_key(&format!("page:{first}")), "{stored:?}");
        // A new worker (the old one stopped) still knows the tab's page view.
        let transport = w.affinity.clone();
        let origins =
            Origins { extension: "chrome-extension://lens".into(), overlay: "chrome-extension://lens".into() };
        w.lens = Lens::new(w.host.clone(), origins, move || transport.clone(), keyed(), None, None);
        w.lens.set_index_sync(false);
        let r = w.ask(json!({"type": "lens:card", "token": second, "first": true}), overlay());
        assert_ne!(r["error"]["kind"], "expired", "{r}");
        let r = w.ask(json!({"type": "lens:card", "token": first, "first": true}), overlay());
        assert_eq!(r["error"]["kind"], "expired", "{r}");
        // Its next page view there forgets it, in the storage too (read meanwhile: the
        // answer does not wait for it), and the tab is the new page view's.
        let third =
            w.ask(page("https://initech.com/"), CONTENT("https://initech.com/"))["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        let stored = w.host.session.borrow().clone();
        assert!(!stored.contains_key(&format!("page:{second}")), "{stored:?}");
        assert_eq!(stored.get("tab:4"), Some(&json!(third)));
        assert!(stored.contains_key(&format!("page:{third}")));
        let r = w.ask(json!({"type": "lens:card", "token": second, "first": true}), overlay());
        assert_eq!(r["error"]["kind"], "expired", "{r}");
        // A page view that shows nothing (a site never looked up) forgets the tab's too.
        w.ask(page("https://mail.google.com/mail/u/0/"), CONTENT("https://mail.google.com/mail/u/0/"));
        w.pool.run_until_stalled();
        let stored = w.host.session.borrow().clone();
        assert!(!stored.contains_key(&format!("page:{third}")), "{stored:?}");
    }

    #[test]
    fn a_closed_tab_forgets_its_page_view_here_and_in_the_session_storage() {
        let mut w = world(keyed());
        let r =
            w.ask(json!({"type": "lens:page", "url": "https://acme.com/", "hints": {}}), CONTENT("https://acme.com/"));
        let token = r["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        assert!(w.host.session.borrow().contains_key(&format!("page:{token}")));
        let lens = w.lens.clone();
        w.pool.run_until(async move { lens.forget_tab(4).await });
        let stored = w.host.session.borrow().clone();
        assert!(!stored.contains_key("tab:4") && !stored.contains_key(&format!("page:{token}")), "{stored:?}");
        let r = w.ask(json!({"type": "lens:card", "token": token, "first": true}), overlay());
        assert_eq!(r["error"]["kind"], "expired", "{r}");
    }

    #[test]
    fn what_the_key_may_call_survives_a_restart() {
        let mut w = with_v2();
        let r =
            w.ask(json!({"type": "lens:page", "url": "https://acme.com/", "hints": {}}), CONTENT("https://acme.com/"));
        let token = r["token"].as_str().unwrap().to_owned();
        w.pool.run_until_stalled();
        w.ask(json!({"type": "lens:card", "token": token}), overlay());
        let state = w.lens.export_state().unwrap();
        let transport = w.affinity.clone();
        let origins =
            Origins { extension: "chrome-extension://lens".into(), overlay: "chrome-extension://lens".into() };
        let again = Lens::new(w.host.clone(), origins, move || transport.clone(), keyed(), Some(&state), None);
        let client = again.client().unwrap();
        assert_eq!(client.account().capability(lens_core::account::Feature::CompanyListEntries), Some(true));
        assert!(client.account().context("team", unix_ms(), 0).is_some(), "nor asks for the team again");
    }

    #[test]
    fn team_mode_asks_the_gateway_with_its_token_and_writes_need_a_key() {
        let team = Settings {
            mode: crate::settings::Mode::Team,
            gateway_url: "http://127.0.0.1:8790".into(),
            gateway_token: "tok".into(),
            ..Settings::default()
        };
        let mut w = world(team.clone());
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        let token = r["token"].as_str().unwrap().to_owned();
        let card = w.ask(json!({"type": "lens:card", "token": token}), overlay());
        // The fake answers 503: the gateway's card says so (no stale card yet).
        assert_eq!(card["card"]["status"], "error", "{card}");
        assert!(card["card"]["error"]["message"].as_str().unwrap().contains("gateway"), "{card}");
        let seen = w.affinity.seen.lock().unwrap().clone();
        assert!(!seen.is_empty());
        for (url, headers) in &seen {
            assert_eq!(url, "http://127.0.0.1:8790/affinity/card?domain=acme.com", "only the gateway is asked");
            assert!(headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer tok"), "{headers:?}");
        }
        // Writes (and the list choices they need) say a personal key is needed.
        let choices = w.ask(json!({"type": "lens:choices", "token": token}), overlay());
        assert_eq!(choices["error"]["kind"], "no_key");
        assert!(choices["error"]["message"].as_str().unwrap().contains("add your own API key"), "{choices}");
        assert_eq!(w.affinity.seen.lock().unwrap().len(), seen.len(), "and ask nobody");
        // With a personal key, team mode writes with it (and still reads from the gateway).
        let keyed_team = world(Settings { api_key: "k".into(), ..team });
        assert!(keyed_team.lens.keyed_client().is_ok());
    }

    #[test]
    fn a_gmail_thread_in_team_mode_asks_the_gateway_for_each_participant_and_never_for_the_user() {
        let team = Settings {
            mode: crate::settings::Mode::Team,
            gateway_url: "http://127.0.0.1:8790".into(),
            gateway_token: "tok".into(),
            ..Settings::default()
        };
        // The gateway: Bob is a person of Acme (an organization); nobody else is known.
        let card_of = |query: &str| -> (u16, String) {
            let (kind, value) = query.split_once('=').unwrap();
            let value = value.replace("%40", "@");
            let q = json!({"kind": if kind == "email" { "email" } else { "domain" }, "value": value});
            let matched = |entity: Value| {
                json!({"query": q, "status": "matched", "entity": entity, "candidates": [], "connections": [], "lists": [],
                    "activity": {}, "opportunities": [], "fetched_at": "2026-12-06T10:00:00Z", "stale": false, "error": null})
            };
            let body = match value.as_str() {
                "bob@acme.test" => matched(
                    json!({"kind": "person", "id": 3, "name": "Bob Smith", "domains": [], "emails": ["bob@acme.test"], "affinity_url": null}),
                ),
                "acme.test" => matched(
                    json!({"kind": "organization", "id": 7, "name": "Acme", "domains": ["acme.test"], "emails": [], "affinity_url": null}),
                ),
                _ => {
                    json!({"query": q, "status": "not_found", "entity": null, "candidates": [], "connections": [], "lists": [],
                    "activity": {}, "opportunities": [], "fetched_at": "2026-12-06T10:00:00Z", "stale": false, "error": null})
                }
            };
            (200, body.to_string())
        };
        let mut w = world_answering(
            team,
            Arc::new(move |url: &str| match url.split_once("/affinity/card?") {
                Some((_, query)) => card_of(query),
                None => (404, "{}".into()),
            }),
        );
        let gmail = "https://mail.google.com/mail/u/0/#inbox/FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS";
        let from = Sender { tab_id: Some(4), frame_id: Some(0), url: Some(gmail.to_owned()) };
        let r = w.ask(
            json!({"type": "lens:thread", "url": gmail, "thread": "FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS",
                "addresses": [
                    {"email": "bob@acme.test", "name": "Bob Smith", "role": "from"},
                    {"email": "alice@firm.test", "name": null, "role": "to"},
                    {"email": "ben@firm.test", "name": "Ben", "role": "to"},
                    {"email": "sam@gmail.com", "name": "Sam", "role": "to"}],
                "me": ["alice@firm.test"]}),
            from,
        );
        assert_eq!(r["show"], true, "{r}");
        let card = w.ask(json!({"type": "lens:card", "token": r["token"], "full": true}), overlay());
        let people: Vec<(String, Value, Value)> = card["card"]["thread"]
            .as_array()
            .unwrap_or_else(|| panic!("{card}"))
            .iter()
            .map(|p| {
                (p["email"].as_str().unwrap().to_owned(), p["person"]["id"].clone(), p["organization"]["id"].clone())
            })
            .collect();
        // Not the user, not a colleague (the user's domain); free mail has no company.
        assert_eq!(
            people,
            [("bob@acme.test".into(), json!(3), json!(7)), ("sam@gmail.com".into(), Value::Null, Value::Null)]
        );
        assert_eq!(card["pill"]["text"], "2 people · 1 in Affinity · Acme", "{card}");
        let asked: Vec<String> = w.affinity.seen.lock().unwrap().iter().map(|(u, _)| u.clone()).collect();
        assert!(asked.iter().all(|u| u.starts_with("http://127.0.0.1:8790/affinity/card?")), "{asked:?}");
        assert!(!asked.iter().any(|u| u.contains("firm.test")), "the user or a colleague was asked about: {asked:?}");
    }

    #[test]
    fn without_a_key_every_card_says_to_add_one() {
        let mut w = world(Settings::default());
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        let token = r["token"].as_str().unwrap().to_owned();
        let card = w.ask(json!({"type": "lens:card", "token": token}), overlay());
        assert_eq!(card["error"]["kind"], "no_key");
        assert!(w.affinity.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn a_paused_site_shows_no_pill_and_its_card_says_not_looked_up() {
        let mut w = world(keyed().with_paused("acme.com", true));
        with_index(&w);
        let r = w.ask(json!({"type": "lens:page", "url": "https://www.acme.com/"}), CONTENT("https://www.acme.com/"));
        assert_eq!((r["show"].clone(), r["pill"].clone()), (json!(false), Value::Null), "nothing to paint: {r}");
        let card = w.ask(json!({"type": "lens:card", "token": r["token"]}), overlay());
        assert_eq!(card["card"]["status"], "ignored");
        assert!(w.affinity.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn a_never_look_up_site_gets_no_token() {
        let mut w = world(keyed());
        let r =
            w.ask(json!({"type": "lens:page", "url": "https://www.google.com/"}), CONTENT("https://www.google.com/"));
        assert_eq!((r["show"].clone(), r["token"].clone()), (json!(false), Value::Null));
    }

    #[test]
    fn saving_a_new_key_configures_once_and_drops_the_old_accounts_state() {
        let mut w = world(keyed());
        let form = json!({"apiKey": "new", "baseUrl": "http://localhost:9", "ignored": "x.com", "paused": "", "overlay": true, "onDemandBelow": "5"});
        let r = w.ask(json!({"type": "lens:save", "settings": form}), options());
        assert_eq!(r["answer"], "settings", "{r}");
        assert_eq!(w.host.saved.borrow().last().unwrap().api_key, "new");
        assert_eq!(w.host.forgot.get(), 1);
        assert_eq!(w.lens.settings().ignored, vec!["x.com"]);
        // The same key again: nothing to forget.
        w.ask(json!({"type": "lens:save", "settings": form}), options());
        assert_eq!(w.host.forgot.get(), 1);
        // The header is built from the configured key: the next request carries it.
        w.ask(json!({"type": "lens:whoami", "apiKey": "new", "baseUrl": "http://localhost:9"}), options());
        let seen = w.affinity.seen.lock().unwrap();
        let (_, headers) = seen.last().unwrap();
        assert!(headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")));
    }

    #[test]
    fn an_http_base_url_for_another_host_is_refused_with_a_clear_message() {
        let mut w = world(keyed());
        let form = json!({"apiKey": "k", "baseUrl": "http://api.affinity.co", "ignored": "", "paused": "", "overlay": true, "onDemandBelow": "5"});
        let r = w.ask(json!({"type": "lens:save", "settings": form}), options());
        assert_eq!(r["error"]["kind"], "bad_settings");
        assert!(r["error"]["message"].as_str().unwrap().contains("https://"));
        assert!(w.host.saved.borrow().is_empty(), "nothing saved");
        let r = w.ask(json!({"type": "lens:whoami", "apiKey": "k", "baseUrl": "http://api.affinity.co"}), options());
        assert_eq!(r["error"]["kind"], "bad_settings");
        // Settings stored by an older version with such a URL: no client, every card says why.
        let mut old = world(Settings { base_url: "http://api.affinity.co".into(), ..keyed() });
        let r = old.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        let card = old.ask(json!({"type": "lens:card", "token": r["token"]}), overlay());
        assert_eq!(card["error"]["kind"], "bad_settings");
        assert!(old.affinity.seen.lock().unwrap().is_empty(), "the key never went out");
    }

    #[test]
    fn test_connection_names_the_user_and_firm() {
        let mut w = world(keyed());
        let r = w.ask(json!({"type": "lens:whoami", "apiKey": "typed", "baseUrl": ""}), options());
        assert_eq!(r["answer"], "me", "{r}");
        assert_eq!(r["user"], "Alice Doe");
        assert_eq!(r["firm"], "Sandbox Ventures");
    }

    #[test]
    fn pause_position_and_relays() {
        let mut w = world(keyed());
        let r = w.ask(json!({"type": "lens:pause", "site": "Acme.com", "paused": true}), options());
        assert_eq!(r["paused"], json!(["acme.com"]));
        w.ask(json!({"type": "lens:position", "side": "left", "top": -5}), CONTENT("https://acme.com/"));
        assert_eq!(w.lens.settings().position, Some(Position { side: crate::settings::Side::Left, top: 0 }));
        let t = "cd".repeat(16);
        w.ask(json!({"type": "lens:expand", "token": t, "expanded": true}), overlay());
        w.lens.command("toggle-card", Some(4));
        let sent = w.host.to_content.borrow().clone();
        assert_eq!(
            sent,
            vec![
                (4, json!({"type": "lens:expand", "token": t, "expanded": true})),
                (4, json!({"type": "lens:toggle"}))
            ]
        );
    }

    #[test]
    fn the_popup_gets_its_tabs_page_view() {
        let mut w = world(keyed());
        w.host.tabs.borrow_mut().insert(7, "https://globex.com/".into());
        w.host.tabs.borrow_mut().insert(8, "https://www.google.com/".into());
        let r = w.ask(json!({"type": "lens:tab", "tabId": 7}), options());
        assert_eq!((r["site"].clone(), r["ignored"].clone()), (json!("globex.com"), json!(false)));
        assert!(r["token"].is_string());
        let r = w.ask(json!({"type": "lens:tab", "tabId": 8}), options());
        assert_eq!((r["token"].clone(), r["ignored"].clone()), (Value::Null, json!(true)));
    }

    #[test]
    fn a_navigation_forgets_the_tabs_previous_page_view() {
        let mut w = world(Settings::default());
        let a = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        w.ask(json!({"type": "lens:page", "url": "https://globex.com/"}), CONTENT("https://globex.com/"));
        let r = w.ask(json!({"type": "lens:card", "token": a["token"]}), overlay());
        assert_eq!(r["error"]["kind"], "expired");
        let _ = PageHints::default();
    }

    /// An index that knows Acme (acme.com) on the Deal Pipeline, synced now.
    fn with_index(w: &World) {
        use lens_core::index::{Change, Index};
        let mut index = Index::default();
        index.apply(Change::List { id: 3, name: "Deal Pipeline".into(), public: true });
        index.apply(Change::Organization { id: 7, name: "Acme".into(), domains: vec!["acme.com".into()] });
        index.apply(Change::EntryAdded { list_id: 3, entry_id: 5, organization_id: 7 });
        index.vouch(unix_ms());
        w.lens.inner.index.borrow_mut().index = index;
    }

    #[test]
    fn the_index_answers_an_unknown_site_without_a_call_and_a_known_one_first() {
        let mut w = with_v2();
        with_index(&w);
        let r = w.ask(json!({"type": "lens:page", "url": "https://globex.com/"}), CONTENT("https://globex.com/"));
        assert_eq!(r["badges"], true);
        // The content script paints the index's pill while the overlay starts.
        assert_eq!(
            (r["pill"]["text"].as_str(), r["pill"]["status"].as_str()),
            (Some("Not in Affinity"), Some("not_found"))
        );
        w.pool.run_until_stalled();
        let pill = w.ask(json!({"type": "lens:card", "token": r["token"], "first": true}), overlay());
        assert_eq!(
            (pill["card"]["status"].as_str(), pill["card"]["source"].as_str()),
            (Some("not_found"), Some("index"))
        );
        assert!(asked(&w).is_empty(), "an unknown site costs no call: {:?}", asked(&w));
        // Opened, the card checks live.
        let card = w.ask(json!({"type": "lens:card", "token": r["token"], "full": true}), overlay());
        assert_eq!(card["card"]["source"], "live");
        assert!(!asked(&w).is_empty());
        // A known company: the index's card first (partial), then the live one.
        let r = w.ask(json!({"type": "lens:page", "url": "https://acme.com/"}), CONTENT("https://acme.com/"));
        let first = w.ask(json!({"type": "lens:card", "token": r["token"], "first": true}), overlay());
        assert_eq!(r["pill"], first["pill"], "the content script's pill is the overlay's first");
        assert_eq!(r["pill"]["status"], "matched");
        assert_eq!((first["partial"].as_bool(), first["card"]["source"].as_str()), (Some(true), Some("index")));
        assert_eq!(first["card"]["lists"][0]["list_name"], "Deal Pipeline");
        let pill = w.ask(json!({"type": "lens:card", "token": r["token"]}), overlay());
        assert_eq!(pill["card"]["source"], "live");
        assert_eq!(pill["card"]["lists"][0]["status"]["text"], "Diligence");
        // The live card taught the index the Status.
        let known = w.lens.inner.index.borrow().index.lookup_domain("acme.com");
        assert_eq!(known[0].lists[0].status.as_ref().map(|s| s.text.as_str()), Some("Diligence"));
        assert!(w.host.index_changes.get() > 0);
    }

    #[test]
    fn links_are_answered_from_the_index_where_badges_are_on() {
        let mut w = world(keyed().with_paused("paused.com", true));
        with_index(&w);
        let hosts = json!({"type": "lens:links", "hosts": ["www.acme.com", "globex.com", "acme.com"]});
        let r = w.ask(hosts.clone(), CONTENT("https://news.example/a"));
        let domains: Vec<&str> = r["known"].as_array().unwrap().iter().map(|k| k["domain"].as_str().unwrap()).collect();
        assert_eq!(domains, ["acme.com", "acme.com"]);
        assert_eq!(r["known"][0]["status"], "Acme · Deal Pipeline");
        for page in ["https://paused.com/", "https://www.google.com/search?q=acme"] {
            let r = w.ask(hosts.clone(), CONTENT(page));
            assert_eq!(r["known"], json!([]), "{page}");
        }
        assert!(w.affinity.seen.lock().unwrap().is_empty());
        // Not from the overlay or the options.
        assert_eq!(w.ask(hosts.clone(), overlay())["error"]["kind"], "bad_message");
        // The shortcut over a badged link: a page view of that company, for a known domain only.
        let r = w.ask(json!({"type": "lens:link_card", "domain": "acme.com"}), CONTENT("https://news.example/a"));
        assert!(r["token"].is_string(), "{r}");
        let r = w.ask(json!({"type": "lens:link_card", "domain": "globex.com"}), CONTENT("https://news.example/a"));
        assert_eq!(r["error"]["kind"], "bad_message");
    }

    #[test]
    fn the_index_is_restored_by_the_next_worker_of_its_account_only() {
        let w = world(keyed());
        with_index(&w);
        let bytes = w.lens.export_index().unwrap();
        let origins =
            Origins { extension: "chrome-extension://lens".into(), overlay: "chrome-extension://lens".into() };
        let t = w.affinity.clone();
        let again = Lens::new(w.host.clone(), origins.clone(), move || t.clone(), keyed(), None, Some(bytes.clone()));
        assert_eq!(again.inner.index.borrow().index.len(), 1);
        // A new key drops it.
        again.configure(Settings { api_key: "other".into(), ..keyed() });
        assert_eq!(again.inner.index.borrow().index.len(), 0);
        let t = w.affinity.clone();
        let other = Settings { api_key: "other".into(), ..keyed() };
        let theirs = Lens::new(w.host.clone(), origins, move || t.clone(), other, None, Some(bytes));
        assert_eq!(theirs.inner.index.borrow().index.len(), 0, "another key's index is not restored");
    }

    #[test]
    fn team_mode_takes_the_gateways_index_with_its_etag() {
        use lens_core::index::{Change, Index};
        let team = Settings {
            mode: crate::settings::Mode::Team,
            gateway_url: "http://127.0.0.1:8790".into(),
            gateway_token: "tok".into(),
            ..Settings::default()
        };
        let mut w = world(team);
        w.lens.set_index_sync(true);
        let mut index = Index::default();
        index.apply(Change::Organization { id: 7, name: "Acme".into(), domains: vec!["acme.com".into()] });
        index.vouch(unix_ms());
        *w.host.gateway_index.borrow_mut() = Some(BytesResponse {
            status: 200,
            etag: Some("\"e1\"".into()),
            retry_after: None,
            bytes: index.encode().bytes,
        });
        w.ask(json!({"type": "lens:page", "url": "https://globex.com/"}), CONTENT("https://globex.com/"));
        w.pool.run_until_stalled();
        let (url, headers) = w.host.fetched.borrow()[0].clone();
        assert_eq!(url, "http://127.0.0.1:8790/affinity/index");
        let before = w.affinity.seen.lock().unwrap().len();
        assert!(headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer tok"), "{headers:?}");
        let r = w.ask(json!({"type": "lens:page", "url": "https://globex.com/"}), CONTENT("https://globex.com/"));
        let pill = w.ask(json!({"type": "lens:card", "token": r["token"]}), overlay());
        assert_eq!(pill["card"]["source"], "index", "{pill}");
        w.pool.run_until_stalled();
        assert_eq!(w.affinity.seen.lock().unwrap().len(), before, "nobody asked for a card");
        // Asked again later with the ETag.
        w.lens.inner.index.borrow_mut().next_fetch_ms = 0;
        w.lens.sync_index_if_due();
        w.pool.run_until_stalled();
        let (_, headers) = w.host.fetched.borrow()[1].clone();
        assert!(headers.iter().any(|(k, v)| k == "if-none-match" && v == "\"e1\""), "{headers:?}");
        let status = w.ask(json!({"type": "lens:index"}), options());
        assert_eq!((status["companies"].as_u64(), status["source"].as_str()), (Some(1), Some("gateway")));
    }
}
