//! What the gateway's replicas share, in Redis (`--redis URL`): the card cache, the
//! Affinity response cache, the key's per-minute window, the month's budget as last seen,
//! the "this look-up is already running" locks, and the changes that live cards listen to.
//!
//! Redis is a help, never a dependency: every command has a short time limit, and while
//! Redis cannot be reached the replica serves from its own memory and paces itself with a
//! conservative share of the key's limit (the limit divided by the replicas it last saw).
//! It says so once in the log, and goes back to Redis when it answers again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use affinity_api::cache::CacheEntry;
use affinity_api::clock::{BoxFuture, unix_ms};
use affinity_api::shared::SharedState;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Keys of one deployment (one Affinity account) start with this.
fn prefix_for(base_url: &str, api_key: &str) -> String {
    // A fingerprint, not the key: nothing in Redis reveals it.
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (base_url, api_key).hash(&mut h);
    format!("lens:{:016x}:", h.finish())
}

/// The window shared by every replica, in one atomic step: the sorted set of request
/// times of the last minute, by Redis's own clock. The window is 61 s rather than 60: a
/// request reaches Affinity a little after it took its place, and Affinity's minute must
/// still hold no more than the limit.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 61000)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[2] .. ':' .. now)
  redis.call('PEXPIRE', KEYS[1], 62000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + 61000 - now)
";

/// The window's length, here as in [`TAKE`].
const WINDOW_MS: u64 = 61_000;

/// Deletes a lock only if it is still ours.
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The gateway's shared state in Redis.
pub struct RedisState {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    up: AtomicBool,
    prefix: String,
    per_minute: u32,
    replica: String,
    replicas_seen: AtomicU32,
    /// The requests this replica sent in the last window (ms since the epoch): its own
    /// window while Redis is away.
    fallback: Mutex<VecDeque<u64>>,
    sequence: AtomicU64,
    /// Changes published by any replica (JSON), for live cards.
    changes: tokio::sync::broadcast::Sender<String>,
    /// Itself, for the futures the client keeps past a borrow.
    me: std::sync::Weak<RedisState>,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState").field("up", &self.up).finish_non_exhaustive()
    }
}

/// How long a Redis command may take before Redis counts as away.
const TIME_LIMIT: Duration = Duration::from_secs(1);

impl RedisState {
    /// Connects (or keeps trying in the background) and starts the replica's heartbeat.
    pub async fn start(url: &str, base_url: &str, api_key: &str, per_minute: u32) -> Result<Arc<Self>, String> {
        let client = redis::Client::open(url).map_err(|e| format!("--redis {url:?}: {e}"))?;
        let (changes, _) = tokio::sync::broadcast::channel(256);
        let state = Arc::new_cyclic(|me| RedisState {
            client,
            conn: Mutex::new(None),
            up: AtomicBool::new(false),
            prefix: prefix_for(base_url, api_key),
            per_minute: per_minute.max(1),
            replica: format!("{:016x}", fastrand::u64(..)),
            replicas_seen: AtomicU32::new(1),
            fallback: Mutex::new(VecDeque::new()),
            sequence: AtomicU64::new(0),
            changes,
            me: me.clone(),
        });
        state.connect().await;
        if !state.available() {
            eprintln!("gateway: Redis cannot be reached yet: serving from this replica's memory until it can");
        }
        tokio::spawn(Self::maintain(Arc::downgrade(&state)));
        tokio::spawn(Self::listen(Arc::downgrade(&state)));
        Ok(state)
    }

    async fn connect(&self) -> bool {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIME_LIMIT))
            .set_response_timeout(Some(TIME_LIMIT))
            .set_number_of_retries(1);
        match ConnectionManager::new_with_config(self.client.clone(), config).await {
            Ok(conn) => {
                *self.conn.lock().expect("redis lock") = Some(conn);
                self.heartbeat().await;
                if !self.up.swap(true, Ordering::SeqCst) {
                    eprintln!("gateway: sharing state through Redis");
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Every 2 s: reconnect if needed, say the replica is alive, count the replicas.
    async fn maintain(this: std::sync::Weak<Self>) {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let Some(this) = this.upgrade() else { return };
            if this.conn().is_none() {
                this.connect().await;
            } else {
                this.heartbeat().await;
            }
        }
    }

    async fn heartbeat(&self) {
        let Some(mut conn) = self.conn() else { return };
        let key = format!("{}replica:{}", self.prefix, self.replica);
        let pattern = format!("{}replica:*", self.prefix);
        let result: redis::RedisResult<Vec<String>> = async {
            let _: () = conn.set_ex(&key, 1, 10).await?;
            conn.keys(&pattern).await
        }
        .await;
        match result {
            Ok(replicas) => self.replicas_seen.store(replicas.len().max(1) as u32, Ordering::SeqCst),
            Err(e) => self.down(&e),
        }
    }

    /// Forwards the changes published by every replica to this one's listeners.
    async fn listen(this: std::sync::Weak<Self>) {
        loop {
            let Some(state) = this.upgrade() else { return };
            let channel = format!("{}changes", state.prefix);
            let pubsub = state.client.get_async_pubsub().await;
            drop(state);
            if let Ok(mut pubsub) = pubsub
                && pubsub.subscribe(&channel).await.is_ok()
            {
                use futures::StreamExt;
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let Some(state) = this.upgrade() else { return };
                    if let Ok(text) = message.get_payload::<String>() {
                        let _ = state.changes.send(text);
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    fn conn(&self) -> Option<ConnectionManager> {
        self.conn.lock().expect("redis lock").clone()
    }

    /// Redis failed: serve alone until it answers again (said once).
    fn down(&self, error: &redis::RedisError) {
        *self.conn.lock().expect("redis lock") = None;
        if self.up.swap(false, Ordering::SeqCst) {
            let share = self.share();
            eprintln!(
                "gateway: Redis is unreachable ({:?}): serving from this replica's memory with {share} of the {} calls a minute until it is back",
                error.kind(),
                self.per_minute
            );
        }
    }

    /// The share of the key's limit this replica takes while Redis is away.
    fn share(&self) -> u32 {
        (self.per_minute / self.replicas_seen.load(Ordering::SeqCst).max(1)).max(1)
    }

    /// Runs a command with the time limit; `None` (and fallback) if Redis fails.
    async fn run<R>(&self, f: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<R>) -> Option<R> {
        let mut conn = self.conn()?;
        match tokio::time::timeout(TIME_LIMIT * 2, f(&mut conn)).await {
            Ok(Ok(r)) => Some(r),
            Ok(Err(e)) => {
                self.down(&e);
                None
            }
            Err(_) => {
                self.down(&redis::RedisError::from((redis::ErrorKind::Io, "timed out")));
                None
            }
        }
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.prefix)
    }

    /// A shared card (JSON and when it was stored).
    pub async fn card_get(&self, key: &str) -> Option<CacheEntry> {
        let k = self.key("card", key);
        let text: String = self.run(async |c| c.get::<_, Option<String>>(&k).await).await.flatten()?;
        serde_json::from_str(&text).ok()
    }

    /// Shares a card for `ttl`, indexed by its references.
    pub async fn card_put(&self, key: &str, entry: &CacheEntry, refs: &[String], ttl: Duration) {
        self.put_indexed("card", key, entry, refs, ttl).await;
    }

    async fn put_indexed(&self, kind: &str, key: &str, entry: &CacheEntry, refs: &[String], ttl: Duration) {
        let k = self.key(kind, key);
        let Ok(text) = serde_json::to_string(entry) else { return };
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let indexes: Vec<String> = refs.iter().map(|r| self.key("idx", r)).collect();
        self.run(async |c| {
            let mut pipe = redis::pipe();
            pipe.set(&k, &text).arg("PX").arg(ttl_ms).ignore();
            for idx in &indexes {
                pipe.sadd(idx, &k).ignore().pexpire(idx, (ttl_ms + 60_000) as i64).ignore();
            }
            pipe.query_async::<()>(c).await
        })
        .await;
    }

    /// Drops every shared answer and card with one of these references; returns the card
    /// keys dropped.
    pub async fn drop_touched(&self, refs: &[String]) -> Vec<String> {
        let indexes: Vec<String> = refs.iter().map(|r| self.key("idx", r)).collect();
        let card_prefix = self.key("card", "");
        self.run(async |c| {
            let mut keys: Vec<String> = Vec::new();
            for idx in &indexes {
                let members: Vec<String> = c.smembers(idx).await?;
                keys.extend(members);
            }
            keys.sort();
            keys.dedup();
            if !keys.is_empty() {
                let _: () = c.del(&keys).await?;
            }
            Ok(keys.iter().filter_map(|k| k.strip_prefix(&card_prefix).map(str::to_owned)).collect())
        })
        .await
        .unwrap_or_default()
    }

    /// Takes the look-up lock for `key` for at most `hold`: `Some(token)` if this replica
    /// is to do it; `None` if another replica is on it (or Redis is away: then `Some`).
    pub async fn lock(&self, key: &str, hold: Duration) -> Option<String> {
        let token = format!("{}:{}", self.replica, self.sequence.fetch_add(1, Ordering::Relaxed));
        let k = self.key("lock", key);
        let ms = hold.as_millis().max(1) as u64;
        match self
            .run(async |c| redis::cmd("SET").arg(&k).arg(&token).arg("NX").arg("PX").arg(ms).query_async(c).await)
            .await
        {
            Some(Some::<String>(_)) => Some(token),
            Some(None) => None,
            None => Some(token), // Redis away: nobody to share the work with
        }
    }

    /// Gives a lock back (only if it is still ours).
    pub async fn unlock(&self, key: &str, token: &str) {
        let k = self.key("lock", key);
        self.run(async |c| redis::Script::new(UNLOCK).key(&k).arg(token).invoke_async::<i64>(c).await).await;
    }

    /// Gives a lock back from a `Drop` (an abandoned look-up): in a task of its own.
    pub fn unlock_later(self: &Arc<Self>, key: String, token: String) {
        let this = self.clone();
        tokio::spawn(async move { this.unlock(&key, &token).await });
    }

    /// The month's budget as last seen by any replica.
    pub async fn budget_get(&self) -> Option<affinity_api::limiter::MonthlyBudget> {
        let k = self.key("budget", "monthly");
        let text: String = self.run(async |c| c.get::<_, Option<String>>(&k).await).await.flatten()?;
        serde_json::from_str(&text).ok()
    }

    /// Shares the month's budget as this replica sees it.
    pub async fn budget_put(&self, budget: &affinity_api::limiter::MonthlyBudget) {
        let k = self.key("budget", "monthly");
        let Ok(text) = serde_json::to_string(budget) else { return };
        self.run(async |c| c.set_ex::<_, _, ()>(&k, &text, 3600).await).await;
    }

    /// Tells every replica (and their live cards) what changed.
    pub async fn publish(&self, message: &str) {
        let channel = format!("{}changes", self.prefix);
        if self.run(async |c| c.publish::<_, _, i64>(&channel, message).await).await.is_none() {
            // Redis away: at least this replica's listeners hear it.
            let _ = self.changes.send(message.to_owned());
        }
    }

    /// The changes published by every replica.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.changes.subscribe()
    }
}

impl SharedState for RedisState {
    fn available(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    fn cache_get(&self, key: &str) -> BoxFuture<'static, Option<CacheEntry>> {
        let (k, conn) = (self.key("resp", key), self.conn());
        let this = self.weak();
        Box::pin(async move {
            let this = this?;
            let _ = conn?;
            let text: String = this.run(async |c| c.get::<_, Option<String>>(&k).await).await.flatten()?;
            serde_json::from_str(&text).ok()
        })
    }

    fn cache_put(&self, key: &str, entry: CacheEntry, ttl: Duration) -> BoxFuture<'static, ()> {
        let key = key.to_owned();
        let this = self.weak();
        Box::pin(async move {
            if let Some(this) = this {
                let refs = crate::webhooks::url_refs(&key);
                this.put_indexed("resp", &key, &entry, &refs, ttl).await;
            }
        })
    }

    fn take_request(&self, _now: Duration) -> BoxFuture<'static, Result<(), Duration>> {
        let this = self.weak();
        Box::pin(async move {
            let Some(this) = this else { return Ok(()) };
            let k = this.key("window", "minute");
            let member = format!("{}:{}", this.replica, this.sequence.fetch_add(1, Ordering::Relaxed));
            let limit = this.per_minute;
            match this
                .run(async |c| redis::Script::new(TAKE).key(&k).arg(limit).arg(&member).invoke_async::<u64>(c).await)
                .await
            {
                Some(0) => {
                    // Remembered here too, so that if Redis goes away this replica's own
                    // window starts with what it has just sent.
                    this.remember(unix_ms());
                    Ok(())
                }
                Some(wait_ms) => Err(Duration::from_millis(wait_ms)),
                None => this.take_alone(),
            }
        })
    }
}

impl RedisState {
    /// A strong handle for a future that outlives the borrow (the state lives in an Arc).
    fn weak(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

    /// Records a request this replica sent, in its own window.
    fn remember(&self, now: u64) {
        let mut window = self.fallback.lock().expect("fallback lock");
        while window.front().is_some_and(|t| t + WINDOW_MS <= now) {
            window.pop_front();
        }
        window.push_back(now);
    }

    /// The replica's own window at its share of the limit, while Redis is away.
    fn take_alone(&self) -> Result<(), Duration> {
        let now = unix_ms();
        let share = self.share() as usize;
        let mut window = self.fallback.lock().expect("fallback lock");
        while window.front().is_some_and(|t| t + WINDOW_MS <= now) {
            window.pop_front();
        }
        if window.len() < share {
            window.push_back(now);
            Ok(())
        } else {
            let oldest = window[window.len() - share];
            Err(Duration::from_millis((oldest + WINDOW_MS).saturating_sub(now).max(1)))
        }
    }
}
