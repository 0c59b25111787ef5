//! What the gateway's replicas share, in Redis (`--redis URL`): the card cache, the
//! Affinity response cache, the key's per-minute window, the month's budget as last seen,
//! the "this look-up is already running" locks, and the changes that live cards listen to.
//!
//! Redis is a help, never a dependency: every command has a short time limit, and while
//! Redis cannot be reached the replica serves from its own memory and paces itself with a
//! conservative share of the key's limit (the limit divided by the replicas it last saw).
//! It says so once in the log, and goes back to Redis when it answers again.
//!
//! Redis is not trusted blindly:
//! - the connection may use TLS (`rediss://`, with a private CA in [`RedisOptions::ca_pem`])
//!   and AUTH (a password, and an ACL user, in the URL or in [`RedisOptions::password`]); a
//!   Redis on another host without either is refused unless [`RedisOptions::insecure`];
//! - every value the gateway reads back and believes (cards, Affinity's answers, the month's
//!   budget) and every change message is stored with an HMAC-SHA256 tag, keyed with a secret
//!   derived from the API key, and bound to its Redis key and an expiry. A value whose tag
//!   does not verify is treated as absent, counted ([`RedisState::rejected_values`]) and said
//!   once in the log: whoever can write to Redis without the API key cannot plant a card, a
//!   budget or a change;
//! - cards live under a prefix with a digest of the gateway's visibility (its `--show-list`),
//!   so gateways that show different lists never serve each other's cards. What is the same
//!   whatever the visibility (Affinity's answers, the window, the budget, the locks, the
//!   replicas) stays shared by every gateway of the key.
//!
//! What cannot be tagged (the window, the locks, the replicas' heartbeats) can still be
//! disturbed by someone who can write to Redis: Redis must stay private.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use affinity_api::cache::CacheEntry;
use affinity_api::clock::{BoxFuture, unix_ms};
use affinity_api::shared::SharedState;
use hmac::{Hmac, Mac};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};

use crate::fallback::{FallbackWindow, WINDOW_MS};

type HmacSha256 = Hmac<Sha256>;

/// Lower-case hexadecimal.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `parts`, each preceded by its length (so that no two lists of parts collide),
/// in hexadecimal. SHA-256, unlike `DefaultHasher`, is the same on every build.
fn digest(parts: &[&[u8]]) -> String {
    let mut sha = Sha256::new();
    for part in parts {
        sha.update((part.len() as u64).to_be_bytes());
        sha.update(part);
    }
    hex(&sha.finalize())
}

/// Keys of one deployment (one Affinity account) start with this.
fn prefix_for(base_url: &str, api_key: &str) -> String {
    // A fingerprint, not the key: nothing in Redis reveals it.
    let d = digest(&[b"affinity-lens redis prefix v1", base_url.as_bytes(), api_key.as_bytes()]);
    format!("lens:{}:", &d[..32])
}

/// The digest of a visibility (what a gateway's cards may show), in card keys.
fn visibility_digest(visibility: &str) -> String {
    digest(&[b"affinity-lens visibility v1", visibility.as_bytes()])[..16].to_owned()
}

/// Card keys (and their reference indexes) of one visibility start with this.
fn card_prefix_for(prefix: &str, visibility_digest: &str) -> String {
    format!("{prefix}v:{visibility_digest}:")
}

/// The secret that tags values: HMAC-SHA256 keyed with the API key (every replica has it;
/// a writer to Redis without it cannot forge a tag) over a label and the base URL.
fn value_key(base_url: &str, api_key: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(api_key.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"affinity-lens redis v1");
    mac.update(&[0]);
    mac.update(base_url.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The first word of a tagged value.
const SEAL_VERSION: &str = "lens1";

/// How far the replicas' clocks may disagree about a tagged value's expiry.
const CLOCK_SLACK_MS: u64 = 60_000;

/// Tags values for Redis, and checks them when they come back:
/// `lens1.<valid until, ms>.<HMAC-SHA256, hex>.<payload>`, the tag over the place (the Redis
/// key or channel), the expiry and the payload. A value cannot be forged without the key,
/// nor moved to another key (a genuine card of another company), nor replayed after it
/// expired.
struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    fn mac(&self, place: &str, until_ms: u64, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        for part in [place.as_bytes(), until_ms.to_string().as_bytes(), payload.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// `payload`, tagged for `place`, valid for `valid_for` from `now_ms`.
    fn seal(&self, place: &str, payload: &str, valid_for: Duration, now_ms: u64) -> String {
        let until = now_ms.saturating_add(valid_for.as_millis() as u64);
        let tag = hex(&self.mac(place, until, payload).finalize().into_bytes());
        format!("{SEAL_VERSION}.{until}.{tag}.{payload}")
    }

    /// The payload of `sealed` if its tag is right for `place` and it has not expired.
    fn open<'a>(&self, place: &str, sealed: &'a str, now_ms: u64) -> Option<&'a str> {
        let mut parts = sealed.splitn(4, '.');
        let (Some(SEAL_VERSION), Some(until), Some(tag), Some(payload)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let until: u64 = until.parse().ok().filter(|u: &u64| u.to_string() == until)?;
        let tag = unhex(tag)?;
        self.mac(place, until, payload).verify_slice(&tag).ok()?;
        (until.saturating_add(CLOCK_SLACK_MS) >= now_ms).then_some(payload)
    }
}

/// The bytes of 64 hexadecimal digits (a SHA-256 tag).
fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

/// How the gateway reaches Redis, and what it keeps apart there (`RedisState::start`).
#[derive(Clone, Default)]
pub struct RedisOptions {
    /// A canonical description of what this gateway's cards may show (the CLI passes its
    /// `--show-list` names, ASCII-lower-cased, sorted and joined with newlines). Cards are
    /// kept under a prefix with its SHA-256 digest, so that gateways whose cards differ never
    /// share a card; anything else (Affinity's answers, the window, the budget, the locks)
    /// is shared by every gateway of the key.
    pub visibility: String,
    /// PEM certificates of the CA(s) to trust for `rediss://` instead of the public roots
    /// (a firm's private CA).
    pub ca_pem: Option<Vec<u8>>,
    /// The password for Redis's AUTH, when it is not in the URL (`--redis-password-file`).
    /// The URL's user name, if any, is kept (an ACL user).
    pub password: Option<String>,
    /// Accept a Redis on another host without TLS or without a password (a network the
    /// firm trusts). Without it such a URL is refused.
    pub insecure: bool,
}

impl std::fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisOptions")
            .field("visibility", &self.visibility)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "<PEM>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// `text` with every occurrence of `secret` hidden.
fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text.to_owned(),
    }
}

/// Whether Redis at `addr` is on this machine.
fn is_local(addr: &redis::ConnectionAddr) -> bool {
    match addr {
        redis::ConnectionAddr::Tcp(host, _) | redis::ConnectionAddr::TcpTls { host, .. } => {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        redis::ConnectionAddr::Unix(_) => true,
        _ => false,
    }
}

/// The connection to make for `url` with `options`, or why it is refused. Never says the
/// password, nor the URL that may hold it.
pub fn connection_info(url: &str, options: &RedisOptions) -> Result<redis::ConnectionInfo, String> {
    const FORM: &str = "redis://[USER:PASSWORD@]HOST[:PORT][/DB] or rediss://… (TLS)";
    let parsed = url::Url::parse(url).map_err(|_| format!("--redis is not a Redis URL ({FORM})"))?;
    let url_password = parsed.password().map(str::to_owned);
    let secret = url_password.as_deref().or(options.password.as_deref());
    if parsed.fragment().is_some() {
        return Err(
            "--redis: a fragment (#insecure) is not accepted: it would turn off the certificate check; give the CA with --redis-ca-file".into(),
        );
    }
    let mut info = redis::IntoConnectionInfo::into_connection_info(parsed)
        .map_err(|e| scrub(&format!("--redis is not a Redis URL ({FORM}): {e}"), secret))?;
    let tls = matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. });
    let at = scrub(&info.addr().to_string(), secret);
    if let Some(password) = &options.password {
        if password.is_empty() {
            return Err("the Redis password file is empty".into());
        }
        if url_password.is_some() {
            return Err(
                "the --redis URL holds a password and --redis-password-file gives one too: give only one".into()
            );
        }
        info = info.clone().set_redis_settings(info.redis_settings().clone().set_password(password));
    }
    if options.ca_pem.is_some() && !tls {
        return Err(format!("--redis-ca-file is for TLS: use rediss:// for Redis at {at}"));
    }
    if !options.insecure && !is_local(info.addr()) {
        if !tls {
            return Err(format!(
                "--redis: Redis at {at} is not on this machine, and redis:// would send the firm's CRM data (and the password) unencrypted: use rediss:// (with --redis-ca-file for a private CA), or --redis-insecure on a network you trust"
            ));
        }
        if info.redis_settings().password().is_none_or(str::is_empty) {
            return Err(format!(
                "--redis: Redis at {at} is not on this machine and no password is given: put it in the URL (rediss://:PASSWORD@HOST, or rediss://USER:PASSWORD@HOST) or give --redis-password-file FILE, or --redis-insecure on a network you trust"
            ));
        }
    }
    Ok(info)
}

/// The Redis client for `url` with `options`, or why not (without the password).
fn client_for(url: &str, options: &RedisOptions) -> Result<redis::Client, String> {
    let info = connection_info(url, options)?;
    let secret = info.redis_settings().password().map(str::to_owned);
    let result = match &options.ca_pem {
        Some(pem) => {
            if !String::from_utf8_lossy(pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err("--redis-ca-file holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
            }
            redis::Client::build_with_tls(
                info,
                redis::TlsCertificates { client_tls: None, root_cert: Some(pem.clone()) },
            )
        }
        None => redis::Client::open(info),
    };
    result.map_err(|e| scrub(&format!("--redis: {e}"), secret.as_deref()))
}

/// The window shared by every replica, in one atomic step: the sorted set of request
/// times of the last minute, by Redis's own clock. The window is 61 s rather than 60: a
/// request reaches Affinity a little after it took its place, and Affinity's minute must
/// still hold no more than the limit. Entries from the future were not put there by this
/// script (it writes only `now`): they are dropped, and no wait is longer than the window.
///
/// Affinity's own count comes first: ARGV[3] is how many calls its headers last said the key's
/// minute held (its other clients' included), ARGV[4] in how many ms that minute resets. The
/// window is filled up to that many with places that leave it at the reset, so that neither a
/// replica that just started nor another program using the key makes the gateways send more
/// than Affinity takes.
///
/// Answers `{wait}` (0: the place, ARGV[2], is taken; else the ms until one frees), followed,
/// when ARGV[5] is `1`, by Redis's time and the window's places before this one: the read
/// a replica's own window starts from if Redis goes away ([`FallbackWindow`]).
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 61000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + 1000), '+inf')
local n = redis.call('ZCARD', KEYS[1])
local floor = math.min(tonumber(ARGV[3]), limit)
local reset = math.min(math.max(tonumber(ARGV[4]), 0), 61000)
for i = n + 1, floor do
  redis.call('ZADD', KEYS[1], now - 61000 + reset, 'affinity:' .. now .. ':' .. i)
end
if floor > n then n = floor end
local out = { 0 }
if ARGV[5] == '1' then
  out[2] = now
  for i, score in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do
    if i % 2 == 0 then out[#out + 1] = tonumber(score) end
  end
end
redis.call('PEXPIRE', KEYS[1], 62000)
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[2] .. ':' .. now)
  return out
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
out[1] = math.min(61000, math.max(1, tonumber(oldest[2]) + 61000 - now))
return out
";

/// The shared window's places (when each was taken, by Redis's clock) and Redis's time now:
/// what a replica starts its own window from if Redis goes away.
const WINDOW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 61000)
local out = { now }
for _, score in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do
  if _ % 2 == 0 then out[#out + 1] = tonumber(score) end
end
return out
";

/// A caller's Affinity calls in the last minute, by Redis's clock, shared by every replica
/// (KEYS[1], a sorted set of `<replica>:<sequence>:<calls>` scored by when): adds ARGV[2]
/// calls (0 to only read) as ARGV[1], and returns the minute's sum.
const CALLER_CALLS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
local add = tonumber(ARGV[2])
if add > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[1] .. ':' .. add)
  redis.call('PEXPIRE', KEYS[1], 61000)
end
local sum = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  sum = sum + (tonumber(string.match(member, ':(%d+)$')) or 0)
end
return sum
";

/// Records that a caller asked for cards (KEYS[1], a set of digests of card keys, at most
/// 2,000: a random one goes beyond; kept a day): adds ARGV[1] if given, then answers, for
/// each of ARGV[2..], whether it is there.
const ASKED: &str = r"
if ARGV[1] ~= '' then
  redis.call('SADD', KEYS[1], ARGV[1])
  if redis.call('SCARD', KEYS[1]) > 2000 then redis.call('SPOP', KEYS[1]) end
  redis.call('PEXPIRE', KEYS[1], 86400000)
end
local out = {}
for i = 2, #ARGV do out[#out + 1] = redis.call('SISMEMBER', KEYS[1], ARGV[i]) end
return out
";

/// The replicas' heartbeat, by Redis's clock: this replica is seen now (KEYS[1], a sorted
/// set scored by when each replica was last seen; those not seen for 10 s are gone), its
/// visibility too (KEYS[2], remembered for ARGV[3] ms: as long as its cards can live), and
/// the number of replicas alive. No `KEYS`.
const HEARTBEAT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + 1000), '+inf')
redis.call('PEXPIRE', KEYS[1], 60000)
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return redis.call('ZCARD', KEYS[1])
";

/// How long a visibility is remembered after its last gateway was seen: longer than a card
/// lives (`--card-ttl-secs` is at most an hour), so that a change drops its cards too.
const VISIBILITY_MEMORY_MS: u64 = 2 * 3600 * 1000;

/// The most visibilities whose cards a change looks at.
const MAX_VISIBILITIES: usize = 64;

/// Deletes a lock only if it is still ours.
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// How long a change message is believed after it was sent.
const CHANGE_VALID_FOR: Duration = Duration::from_secs(300);

/// How long the month's budget is kept in Redis.
const BUDGET_TTL: Duration = Duration::from_secs(3600);

/// The gateway's shared state in Redis.
pub struct RedisState {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    up: AtomicBool,
    /// Keys shared by every gateway of the key start with this.
    prefix: String,
    /// This gateway's visibility (its digest), and the prefix of its cards.
    visibility: String,
    card_prefix: String,
    sealer: Sealer,
    /// Values (and messages) whose tag did not verify, and whether that was said.
    rejected: AtomicU64,
    rejected_said: AtomicBool,
    /// The password, only to keep it out of what is logged.
    password: Option<String>,
    /// Why Redis could not be reached last (said at start).
    last_error: Mutex<Option<String>>,
    per_minute: u32,
    replica: String,
    replicas_seen: AtomicU32,
    /// The replica's own view of the key's window, for when Redis goes away.
    window: Mutex<FallbackWindow>,
    /// Affinity's count of the key's minute as its headers last said: the calls it holds
    /// (`limit - remaining`), and when (ms since the epoch) that minute resets.
    affinity_count: Mutex<Option<(u32, u64)>>,
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
    /// Refuses (with a message that never holds the password) a URL that does not parse,
    /// and a Redis on another host without TLS or without a password unless
    /// `options.insecure` (see [`connection_info`]).
    pub async fn start(
        url: &str,
        base_url: &str,
        api_key: &str,
        per_minute: u32,
        options: RedisOptions,
    ) -> Result<Arc<Self>, String> {
        let client = client_for(url, &options)?;
        let password = client.get_connection_info().redis_settings().password().map(str::to_owned);
        let (changes, _) = tokio::sync::broadcast::channel(256);
        let prefix = prefix_for(base_url, api_key);
        let visibility = visibility_digest(&options.visibility);
        let state = Arc::new_cyclic(|me| RedisState {
            client,
            conn: Mutex::new(None),
            up: AtomicBool::new(false),
            card_prefix: card_prefix_for(&prefix, &visibility),
            prefix,
            visibility,
            sealer: Sealer { key: value_key(base_url, api_key) },
            rejected: AtomicU64::new(0),
            rejected_said: AtomicBool::new(false),
            password,
            last_error: Mutex::new(None),
            per_minute: per_minute.max(1),
            replica: format!("{:016x}", fastrand::u64(..)),
            replicas_seen: AtomicU32::new(1),
            window: Mutex::new(FallbackWindow::default()),
            affinity_count: Mutex::new(None),
            sequence: AtomicU64::new(0),
            changes,
            me: me.clone(),
        });
        state.connect().await;
        if !state.available() {
            let why = state.last_error.lock().expect("redis lock").clone().unwrap_or_else(|| "no answer".into());
            eprintln!("gateway: Redis cannot be reached yet ({why}): serving from this replica's memory until it can");
        }
        tokio::spawn(Self::maintain(Arc::downgrade(&state)));
        tokio::spawn(Self::listen(Arc::downgrade(&state)));
        Ok(state)
    }

    /// Values read from Redis (and change messages) refused so far because their tag did
    /// not verify: written by someone without the API key, moved, or out of date.
    pub fn rejected_values(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// A Redis error as it may be logged: its kind and text, never the password.
    fn describe(&self, error: &redis::RedisError) -> String {
        scrub(&format!("{:?}: {error}", error.kind()), self.password.as_deref())
    }

    async fn connect(&self) -> bool {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIME_LIMIT))
            .set_response_timeout(Some(TIME_LIMIT))
            .set_number_of_retries(1);
        let result = match ConnectionManager::new_with_config(self.client.clone(), config).await {
            Ok(mut conn) => self.heartbeat_on(&mut conn).await.map(|()| conn),
            Err(e) => Err(e),
        };
        match result {
            Ok(conn) => {
                *self.conn.lock().expect("redis lock") = Some(conn);
                if !self.up.swap(true, Ordering::SeqCst) {
                    eprintln!("gateway: sharing state through Redis");
                }
                true
            }
            Err(e) => {
                *self.last_error.lock().expect("redis lock") = Some(self.describe(&e));
                false
            }
        }
    }

    /// Every 2 s: reconnect if needed, say the replica is alive, count the replicas.
    async fn maintain(this: std::sync::Weak<Self>) {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let Some(this) = this.upgrade() else { return };
            match this.conn() {
                None => {
                    this.connect().await;
                }
                Some(mut conn) => {
                    if let Err(e) = this.heartbeat_on(&mut conn).await {
                        this.down(&e);
                    }
                }
            }
        }
    }

    /// Says this replica (and its visibility) is alive, and counts the replicas.
    async fn heartbeat_on(&self, conn: &mut ConnectionManager) -> redis::RedisResult<()> {
        let replicas = format!("{}replicas", self.prefix);
        let visibilities = format!("{}visibilities", self.prefix);
        let script = redis::Script::new(HEARTBEAT);
        let mut invocation = script.key(&replicas);
        invocation.key(&visibilities).arg(&self.replica).arg(&self.visibility).arg(VISIBILITY_MEMORY_MS);
        let count = tokio::time::timeout(TIME_LIMIT * 2, invocation.invoke_async::<u64>(conn))
            .await
            .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out")))??;
        self.replicas_seen.store(count.clamp(1, u32::MAX as u64) as u32, Ordering::SeqCst);
        // The shared window, as it is now: this replica's own starts from it if Redis goes.
        let window = self.key("window", "minute");
        let script = redis::Script::new(WINDOW);
        let invocation = script.key(&window);
        let sent_at = unix_ms();
        let scores = tokio::time::timeout(TIME_LIMIT * 2, invocation.invoke_async::<Vec<i64>>(conn))
            .await
            .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out")))??;
        self.mirror(&scores, sent_at);
        Ok(())
    }

    /// Forwards the changes published by every replica to this one's listeners: only those
    /// tagged with the key.
    async fn listen(this: std::sync::Weak<Self>) {
        loop {
            let Some(state) = this.upgrade() else { return };
            let channel = state.channel();
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
                        match state.sealer.open(&channel, &text, unix_ms()) {
                            Some(change) => {
                                let _ = state.changes.send(change.to_owned());
                            }
                            None => state.refused(),
                        }
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

    /// A value from Redis whose tag did not verify: counted, and said once.
    fn refused(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        if !self.rejected_said.swap(true, Ordering::SeqCst) {
            eprintln!(
                "gateway: WARNING: Redis holds values this gateway did not write (no valid tag of this API key, or out of date): they are ignored, as if absent. Someone else can write to this Redis: it must be private"
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

    /// A key shared by every gateway of the key.
    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.prefix)
    }

    /// A key of this gateway's visibility (cards and their indexes).
    fn card_key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.card_prefix)
    }

    /// The channel of changes.
    fn channel(&self) -> String {
        format!("{}changes", self.prefix)
    }

    /// The value at `key` if this gateway's key tagged it for there (else absent: counted).
    async fn get_sealed(&self, key: &str) -> Option<String> {
        let text: String = self.run(async |c| c.get::<_, Option<String>>(key).await).await.flatten()?;
        match self.sealer.open(key, &text, unix_ms()) {
            Some(payload) => Some(payload.to_owned()),
            None => {
                self.refused();
                None
            }
        }
    }

    /// A shared card (JSON and when it was stored).
    pub async fn card_get(&self, key: &str) -> Option<CacheEntry> {
        let text = self.get_sealed(&self.card_key("card", key)).await?;
        serde_json::from_str(&text).ok()
    }

    /// Shares a card for `ttl` with the gateways of the same visibility, indexed by its
    /// references.
    pub async fn card_put(&self, key: &str, entry: &CacheEntry, refs: &[String], ttl: Duration) {
        let indexes: Vec<String> = refs.iter().map(|r| self.card_key("idx", r)).collect();
        self.put_indexed(self.card_key("card", key), entry, &indexes, ttl).await;
    }

    async fn put_indexed(&self, k: String, entry: &CacheEntry, indexes: &[String], ttl: Duration) {
        let Ok(text) = serde_json::to_string(entry) else { return };
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let sealed = self.sealer.seal(&k, &text, ttl, unix_ms());
        self.run(async |c| {
            let mut pipe = redis::pipe();
            pipe.set(&k, &sealed).arg("PX").arg(ttl_ms).ignore();
            for idx in indexes {
                pipe.sadd(idx, &k).ignore().pexpire(idx, (ttl_ms + 60_000) as i64).ignore();
            }
            pipe.query_async::<()>(c).await
        })
        .await;
    }

    /// Drops every shared answer and card with one of these references (the cards of every
    /// visibility seen lately, not only this gateway's); returns the card keys dropped.
    pub async fn drop_touched(&self, refs: &[String]) -> Vec<String> {
        if refs.is_empty() {
            return Vec::new();
        }
        let visibilities = format!("{}visibilities", self.prefix);
        self.run(async |c| {
            let mut digests: Vec<String> = c.zrange(&visibilities, 0, -1).await?;
            // Only digests as this code writes them make key names.
            digests.retain(|d| d.len() == 16 && d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            digests.retain(|d| *d != self.visibility);
            digests.truncate(MAX_VISIBILITIES - 1);
            digests.push(self.visibility.clone());
            let card_prefixes: Vec<String> = digests.iter().map(|d| card_prefix_for(&self.prefix, d)).collect();
            // Each index, with the prefix of the card keys it holds (none for answers).
            let mut indexes: Vec<(String, Option<&str>)> = refs.iter().map(|r| (self.key("idx", r), None)).collect();
            for card_prefix in &card_prefixes {
                indexes.extend(refs.iter().map(|r| (format!("{card_prefix}idx:{r}"), Some(card_prefix.as_str()))));
            }
            let mut pipe = redis::pipe();
            for (idx, _) in &indexes {
                pipe.smembers(idx);
            }
            let members: Vec<Vec<String>> = pipe.query_async(c).await?;
            let mut keys: Vec<String> = Vec::new();
            let mut cards: Vec<String> = Vec::new();
            for ((_, card_prefix), members) in indexes.iter().zip(members) {
                for member in members {
                    if let Some(name) =
                        card_prefix.and_then(|p| member.strip_prefix(p)).and_then(|m| m.strip_prefix("card:"))
                    {
                        cards.push(name.to_owned());
                    }
                    keys.push(member);
                }
            }
            keys.sort();
            keys.dedup();
            if !keys.is_empty() {
                let _: () = c.del(&keys).await?;
            }
            cards.sort();
            cards.dedup();
            Ok(cards)
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

    /// The month's budget as last seen by any replica (if a gateway of the key wrote it).
    pub async fn budget_get(&self) -> Option<affinity_api::limiter::MonthlyBudget> {
        let text = self.get_sealed(&self.key("budget", "monthly")).await?;
        serde_json::from_str(&text).ok()
    }

    /// The Affinity calls `caller`'s look-ups made in the last minute on every replica, after
    /// adding `add` (this replica's latest); `None` while Redis is away. The key names the
    /// caller by a digest (no email in Redis).
    pub async fn caller_calls(&self, caller: &str, add: u64) -> Option<u64> {
        let digest = Sha256::digest(caller.as_bytes());
        let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let k = self.key("calls", &name);
        let member = format!("{}:{}", self.replica, self.sequence.fetch_add(1, Ordering::Relaxed));
        self.run(async |c| redis::Script::new(CALLER_CALLS).key(&k).arg(&member).arg(add).invoke_async::<u64>(c).await)
            .await
    }

    /// Notes that `caller` asked for the card `key` (with `Some`), and tells which of `keys`
    /// it asked for on any replica: a live stream and the cards it follows may be served by
    /// different replicas. `None` while Redis is away. Callers and cards are named by
    /// digests.
    pub async fn asked(&self, caller: &str, key: Option<&str>, keys: &[String]) -> Option<Vec<bool>> {
        let digest = |text: &str| {
            Sha256::digest(text.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect::<String>()
        };
        let k = self.key("asked", &digest(caller));
        let added = key.map(digest).unwrap_or_default();
        let asked: Vec<String> = keys.iter().map(|k| digest(k)).collect();
        let script = redis::Script::new(ASKED);
        let found: Vec<i64> = self
            .run(async |c| {
                let mut call = script.key(&k);
                call.arg(&added);
                for a in &asked {
                    call.arg(a);
                }
                call.invoke_async(c).await
            })
            .await?;
        Some(found.into_iter().map(|n| n == 1).collect())
    }

    /// Shares the month's budget as this replica sees it.
    pub async fn budget_put(&self, budget: &affinity_api::limiter::MonthlyBudget) {
        let k = self.key("budget", "monthly");
        let Ok(text) = serde_json::to_string(budget) else { return };
        let sealed = self.sealer.seal(&k, &text, BUDGET_TTL, unix_ms());
        self.run(async |c| c.set_ex::<_, _, ()>(&k, &sealed, BUDGET_TTL.as_secs()).await).await;
    }

    /// Tells every replica (and their live cards) what changed.
    pub async fn publish(&self, message: &str) {
        let channel = self.channel();
        let sealed = self.sealer.seal(&channel, message, CHANGE_VALID_FOR, unix_ms());
        if self.run(async |c| c.publish::<_, _, i64>(&channel, &sealed).await).await.is_none() {
            // Redis away: at least this replica's listeners hear it.
            let _ = self.changes.send(message.to_owned());
        }
    }

    /// The changes published by every replica.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.changes.subscribe()
    }
}

/// Appends one change of the index to the shared log (KEYS[1] the counter, KEYS[2] a sorted
/// set of `<seq>|<sealed change>` scored by seq), keeping the last ARGV[2]: Redis orders the
/// changes of every replica, and each replica applies them in that order.
const INDEX_APPEND: &str = r"
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, n .. '|' .. ARGV[1])
local size = redis.call('ZCARD', KEYS[2])
local keep = tonumber(ARGV[2])
if size > keep then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, size - keep - 1) end
return n
";

/// Stores a snapshot of the index (KEYS[1] `generation:seq`, KEYS[2] the sealed digest,
/// KEYS[3] the bytes) only if it is newer than the one stored: a later generation (a sync), or
/// the same generation further along the log. Returns 1 if stored.
const INDEX_SAVE: &str = r"
local head = redis.call('GET', KEYS[1])
local g, s = 0, 0
if head then
  local a, b = string.match(head, '^(%d+):(%d+)$')
  g = tonumber(a) or 0
  s = tonumber(b) or 0
end
local ng, ns = tonumber(ARGV[1]), tonumber(ARGV[2])
if ng < g or (ng == g and ns <= s) then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[4])
return 1
";

/// Changes of the index kept in the shared log (a replica further behind loads a snapshot).
const INDEX_LOG_KEEP: u64 = 20_000;
/// How long a snapshot's digest and a logged change are believed.
const INDEX_VALID_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Where the shared index stands: the stored snapshot's generation and place in the log, and
/// the log's last change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexHead {
    /// Grows with every sync stored (0: no snapshot yet).
    pub generation: u64,
    /// The last change of the log the snapshot holds.
    pub snapshot_seq: u64,
    /// The log's last change.
    pub log_seq: u64,
}

/// A snapshot of the index as stored: its generation, place in the log, and bytes.
pub struct IndexSnapshot {
    pub generation: u64,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

impl RedisState {
    /// Appends a change (JSON) to the shared log, and tells every replica; its number in the
    /// log, `None` while Redis is away.
    pub async fn index_append(&self, change: &str) -> Option<u64> {
        let (counter, log) = (self.key("index", "seq"), self.key("index", "log"));
        let sealed = self.sealer.seal(&log, change, INDEX_VALID_FOR, unix_ms());
        let script = redis::Script::new(INDEX_APPEND);
        let seq = self
            .run(async |c| script.key(&counter).key(&log).arg(&sealed).arg(INDEX_LOG_KEEP).invoke_async::<u64>(c).await)
            .await?;
        self.publish(&serde_json::json!({ "index": seq }).to_string()).await;
        Some(seq)
    }

    /// The changes of the log after `seq`, in order (at most 5,000; those whose tag does not
    /// verify are left out and counted).
    pub async fn index_changes_after(&self, seq: u64) -> Option<Vec<(u64, String)>> {
        let log = self.key("index", "log");
        let members: Vec<String> = self
            .run(async |c| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&log)
                    .arg(format!("({seq}"))
                    .arg("+inf")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(5000)
                    .query_async(c)
                    .await
            })
            .await?;
        let now = unix_ms();
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            let opened = member.split_once('|').and_then(|(n, sealed)| {
                let n = n.parse::<u64>().ok()?;
                Some((n, self.sealer.open(&log, sealed, now)?.to_owned()))
            });
            match opened {
                Some(change) => out.push(change),
                None => self.refused(),
            }
        }
        Some(out)
    }

    /// Where the shared index stands (`None` while Redis is away).
    pub async fn index_head(&self) -> Option<IndexHead> {
        let (head, counter) = (self.key("index", "head"), self.key("index", "seq"));
        let (stored, log_seq): (Option<String>, Option<u64>) =
            self.run(async |c| redis::pipe().get(&head).get(&counter).query_async(c).await).await?;
        let (generation, snapshot_seq) = stored
            .as_deref()
            .and_then(|h| h.split_once(':'))
            .and_then(|(g, s)| Some((g.parse().ok()?, s.parse().ok()?)))
            .unwrap_or((0, 0));
        Some(IndexHead { generation, snapshot_seq, log_seq: log_seq.unwrap_or(0) })
    }

    /// The stored snapshot, if there is one whose digest this gateway's key tagged.
    pub async fn index_snapshot(&self) -> Option<IndexSnapshot> {
        let (digest_key, bytes_key) = (self.key("index", "digest"), self.key("index", "bytes"));
        let (sealed, bytes): (Option<String>, Option<Vec<u8>>) =
            self.run(async |c| redis::pipe().get(&digest_key).get(&bytes_key).query_async(c).await).await?;
        let (sealed, bytes) = (sealed?, bytes?);
        let Some(payload) = self.sealer.open(&digest_key, &sealed, unix_ms()) else {
            self.refused();
            return None;
        };
        let mut parts = payload.splitn(3, ':');
        let (Some(g), Some(s), Some(digest)) = (parts.next(), parts.next(), parts.next()) else { return None };
        if hex(&Sha256::digest(&bytes)) != digest {
            self.refused();
            return None;
        }
        Some(IndexSnapshot { generation: g.parse().ok()?, seq: s.parse().ok()?, bytes })
    }

    /// Stores a snapshot unless a newer one is there; whether it was stored.
    pub async fn index_save(&self, snapshot: &IndexSnapshot) -> bool {
        let keys = [self.key("index", "head"), self.key("index", "digest"), self.key("index", "bytes")];
        let payload = format!("{}:{}:{}", snapshot.generation, snapshot.seq, hex(&Sha256::digest(&snapshot.bytes)));
        let sealed = self.sealer.seal(&keys[1], &payload, INDEX_VALID_FOR, unix_ms());
        let script = redis::Script::new(INDEX_SAVE);
        self.run(async |c| {
            let mut call = script.key(&keys[0]);
            call.key(&keys[1]).key(&keys[2]);
            call.arg(snapshot.generation).arg(snapshot.seq).arg(&sealed).arg(snapshot.bytes.as_slice());
            call.invoke_async::<i64>(c).await
        })
        .await
            == Some(1)
    }

    /// A new generation number for a snapshot made by a sync.
    pub async fn index_generation(&self) -> Option<u64> {
        let k = self.key("index", "generation");
        self.run(async |c| c.incr::<_, _, u64>(&k, 1).await).await
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
            let text = this.get_sealed(&k).await?;
            serde_json::from_str(&text).ok()
        })
    }

    fn cache_put(&self, key: &str, entry: CacheEntry, ttl: Duration) -> BoxFuture<'static, ()> {
        let key = key.to_owned();
        let this = self.weak();
        Box::pin(async move {
            if let Some(this) = this {
                let indexes: Vec<String> = crate::webhooks::url_refs(&key).iter().map(|r| this.key("idx", r)).collect();
                this.put_indexed(this.key("resp", &key), &entry, &indexes, ttl).await;
            }
        })
    }

    fn observe(&self, response: &affinity_api::HttpResponse, now: Duration) {
        self.note_affinity_count(response, now.as_millis() as u64);
    }

    fn take_request(&self, _now: Duration) -> BoxFuture<'static, Result<(), Duration>> {
        let this = self.weak();
        Box::pin(async move {
            let Some(this) = this else { return Ok(()) };
            let k = this.key("window", "minute");
            let member = format!("{}:{}", this.replica, this.sequence.fetch_add(1, Ordering::Relaxed));
            let limit = this.per_minute;
            let now = unix_ms();
            let (floor, reset_in) = match *this.affinity_count.lock().expect("count lock") {
                Some((held, reset_at)) if reset_at > now => (held, reset_at - now),
                _ => (0, 0),
            };
            let want_window = this.window.lock().expect("window lock").mirror_stale(now);
            let take = async |c: &mut ConnectionManager| {
                let script = redis::Script::new(TAKE);
                let mut call = script.key(&k);
                call.arg(limit).arg(&member).arg(floor).arg(reset_in).arg(if want_window { "1" } else { "0" });
                call.invoke_async::<Vec<i64>>(c).await
            };
            match this.run(take).await {
                Some(reply) => {
                    // No answer of the script's shape: a place not known to be taken.
                    let (wait, window) = reply.split_first().map_or((1_000, &[][..]), |(w, rest)| (*w, rest));
                    this.mirror(window, now);
                    if wait > 0 {
                        return Err(Duration::from_millis(wait as u64));
                    }
                    // Remembered here too, so that if Redis goes away this replica's own
                    // window counts what it has just sent.
                    this.window.lock().expect("window lock").remember(unix_ms());
                    Ok(())
                }
                None => {
                    let share = this.share();
                    let count = *this.affinity_count.lock().expect("count lock");
                    this.window.lock().expect("window lock").take_alone(unix_ms(), share, limit, count)
                }
            }
        })
    }
}

impl RedisState {
    /// Notes Affinity's count of the key's minute from an answer's headers (see
    /// [`SharedState::observe`]): the next place taken fills the shared window up to it.
    fn note_affinity_count(&self, response: &affinity_api::HttpResponse, now_ms: u64) {
        let number = |name: &str| response.header(name)?.trim().parse::<f64>().ok().filter(|n| n.is_finite());
        let (Some(limit), Some(remaining)) =
            (number("x-ratelimit-limit-user"), number("x-ratelimit-limit-user-remaining"))
        else {
            return;
        };
        let held = (limit - remaining).clamp(0.0, f64::from(self.per_minute)) as u32;
        let reset_ms = number("x-ratelimit-limit-user-reset").map_or(WINDOW_MS, |s| (s.max(0.0) * 1000.0) as u64);
        *self.affinity_count.lock().expect("count lock") = Some((held, now_ms + reset_ms.min(WINDOW_MS)));
    }

    /// A strong handle for a future that outlives the borrow (the state lives in an Arc).
    fn weak(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

    /// The shared window as read by a command sent at `sent_at` (Redis's time, then the
    /// places): what this replica's own window starts from if Redis goes away.
    fn mirror(&self, scores: &[i64], sent_at: u64) {
        if let Some((&redis_now, places)) = scores.split_first() {
            self.window.lock().expect("window lock").mirror(redis_now, places, sent_at, unix_ms());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer { key: value_key("https://api.affinity.co", "test-key") }
    }

    #[test]
    fn a_value_with_the_right_tag_is_read_back() {
        let s = sealer();
        let sealed = s.seal("lens:x:card:domain:acme.test", r#"{"a":1}"#, Duration::from_secs(60), 1_000);
        assert_eq!(s.open("lens:x:card:domain:acme.test", &sealed, 1_000), Some(r#"{"a":1}"#));
        // A payload with dots in it comes back whole.
        let dotted = s.seal("k", "a.b.c", Duration::from_secs(1), 0);
        assert_eq!(s.open("k", &dotted, 0), Some("a.b.c"));
    }

    #[test]
    fn the_tag_is_the_documented_hmac() {
        // The same value computed outside this code (Python's hmac and hashlib).
        let s = sealer();
        let sealed = s.seal("lens:x:card:domain:acme.test", r#"{"a":1}"#, Duration::from_millis(1_000), 0);
        assert_eq!(sealed, r#"lens1.1000.4fa147415c439195320eadc3799eb156f0fe826d6171f0b2011690d7f1127019.{"a":1}"#);
    }

    #[test]
    fn a_value_with_a_wrong_or_missing_tag_is_refused() {
        let s = sealer();
        let place = "lens:x:card:domain:acme.test";
        let card = r#"{"body":"{}","stored_at_ms":1}"#;
        let sealed = s.seal(place, card, Duration::from_secs(60), 1_000);
        // No tag at all: what a third party writes.
        assert_eq!(s.open(place, card, 1_000), None);
        assert_eq!(s.open(place, "", 1_000), None);
        assert_eq!(s.open(place, "lens1...", 1_000), None);
        // The payload changed under the tag.
        let tampered = sealed.replace("stored_at_ms\":1", "stored_at_ms\":2");
        assert_ne!(tampered, sealed);
        assert_eq!(s.open(place, &tampered, 1_000), None);
        // The tag changed (one digit), or cut short.
        let mut bytes = sealed.clone().into_bytes();
        let at = "lens1.61000.".len();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        assert_eq!(s.open(place, &String::from_utf8(bytes).unwrap(), 1_000), None);
        assert!(sealed.starts_with("lens1.61000."));
        let later = sealed.replacen("lens1.61000.", "lens1.99961000.", 1);
        assert_eq!(s.open(place, &later, 1_000), None, "the expiry is under the tag");
        assert_eq!(s.open(place, &sealed.replacen(".", ".0", 1), 1_000), None, "only one way to write it");
        // A genuine value moved to another key (another company's card).
        assert_eq!(s.open("lens:x:card:domain:evil.test", &sealed, 1_000), None);
        // Tagged with another API key.
        let other = Sealer { key: value_key("https://api.affinity.co", "another-key") };
        assert_eq!(other.open(place, &sealed, 1_000), None);
        // Replayed long after it expired (a minute of clock slack is allowed).
        assert_eq!(s.open(place, &sealed, 61_000 + CLOCK_SLACK_MS), Some(card));
        assert_eq!(s.open(place, &sealed, 61_001 + CLOCK_SLACK_MS), None);
    }

    #[test]
    fn the_prefixes_are_fixed_sha256_digests() {
        // Fixed inputs give fixed prefixes, whatever the build (computed outside this code).
        let prefix = prefix_for("https://api.affinity.co", "test-key");
        assert_eq!(prefix, "lens:090248834eae599f826d2977aa26bc73:");
        assert!(!prefix.contains("test-key"));
        assert_ne!(prefix, prefix_for("https://api.affinity.co", "other-key"));
        assert_ne!(prefix, prefix_for("http://127.0.0.1:8787", "test-key"));
        assert_eq!(visibility_digest(""), "4a66f9aba370e1a8");
        assert_eq!(visibility_digest("board confidential"), "900e3f25068d12d1");
        assert_eq!(
            card_prefix_for(&prefix, &visibility_digest("board confidential")),
            "lens:090248834eae599f826d2977aa26bc73:v:900e3f25068d12d1:"
        );
    }

    fn options() -> RedisOptions {
        RedisOptions::default()
    }

    const SECRET: &str = "hunter2-very-secret";

    #[test]
    fn loopback_redis_needs_neither_tls_nor_a_password() {
        for url in ["redis://127.0.0.1:6379/0", "redis://localhost/0", "redis://[::1]:6379", "redis://127.0.0.2/1"] {
            assert!(connection_info(url, &options()).is_ok(), "{url}");
        }
        let info = connection_info("redis://:pw@127.0.0.1/0", &options()).unwrap();
        assert_eq!(info.redis_settings().password(), Some("pw"));
    }

    #[test]
    fn remote_redis_without_a_password_or_without_tls_is_refused_unless_insecure() {
        let no_password = connection_info("rediss://10.0.0.30:6379/0", &options()).unwrap_err();
        assert!(no_password.contains("no password"), "{no_password}");
        let plain = connection_info("redis://10.0.0.30:6379/0", &options()).unwrap_err();
        assert!(plain.contains("rediss://"), "{plain}");
        let plain = connection_info(&format!("redis://:{SECRET}@redis.example:6379/0"), &options()).unwrap_err();
        assert!(plain.contains("unencrypted"), "{plain}");
        assert!(!plain.contains(SECRET), "{plain}");
        let insecure = RedisOptions { insecure: true, ..options() };
        assert!(connection_info("redis://10.0.0.30:6379/0", &insecure).is_ok());
        assert!(connection_info("rediss://10.0.0.30:6379/0", &insecure).is_ok());
        // TLS and a password: accepted, from the URL (with an ACL user) or from the file.
        let info = connection_info(&format!("rediss://lens:{SECRET}@redis.example/2"), &options()).unwrap();
        assert_eq!(info.redis_settings().username(), Some("lens"));
        assert_eq!(info.redis_settings().password(), Some(SECRET));
        assert_eq!(info.redis_settings().db(), 2);
        let from_file = RedisOptions { password: Some(SECRET.into()), ..options() };
        let info = connection_info("rediss://lens@redis.example:6380/0", &from_file).unwrap();
        assert_eq!(info.redis_settings().username(), Some("lens"));
        assert_eq!(info.redis_settings().password(), Some(SECRET));
    }

    #[test]
    fn the_password_never_appears_in_an_error() {
        let from_file = RedisOptions { password: Some(SECRET.into()), ..options() };
        let cases = [
            (format!("redis://:{SECRET}@10.0.0.30:6379/0"), options()),
            (format!("rediss://:{SECRET}@10.0.0.30:6379/0#insecure"), options()),
            (format!("redis://:{SECRET}@10.0.0.30:6379/notadb"), options()),
            (format!("redis//:{SECRET}@10.0.0.30"), options()),
            (format!("http://:{SECRET}@10.0.0.30"), options()),
            (format!("redis://:{SECRET}@127.0.0.1/0"), from_file.clone()),
            ("redis://10.0.0.30/0".into(), from_file.clone()),
            (format!("redis://:{SECRET}@127.0.0.1/0"), RedisOptions { ca_pem: Some(b"x".to_vec()), ..options() }),
        ];
        for (url, options) in cases {
            let error = client_for(&url, &options).unwrap_err();
            assert!(!error.contains(SECRET), "{error}");
            assert!(!error.contains(&url), "{error}");
        }
    }

    #[test]
    fn certificate_checks_cannot_be_turned_off_and_a_ca_needs_tls() {
        let error = connection_info("rediss://:pw@127.0.0.1/0#insecure", &options()).unwrap_err();
        assert!(error.contains("--redis-ca-file"), "{error}");
        let ca = RedisOptions { ca_pem: Some(b"-----BEGIN CERTIFICATE-----".to_vec()), ..options() };
        let error = connection_info("redis://127.0.0.1/0", &ca).unwrap_err();
        assert!(error.contains("rediss://"), "{error}");
        let not_pem = RedisOptions { ca_pem: Some(b"not a certificate".to_vec()), ..options() };
        let error = client_for("rediss://127.0.0.1/0", &not_pem).unwrap_err();
        assert!(error.contains("no PEM certificate"), "{error}");
        let empty = RedisOptions { password: Some(String::new()), ..options() };
        assert!(connection_info("rediss://10.0.0.30/0", &empty).is_err());
    }

    #[test]
    fn options_do_not_print_the_password() {
        let options = RedisOptions { password: Some(SECRET.into()), ca_pem: Some(b"PEM".to_vec()), ..options() };
        assert!(!format!("{options:?}").contains(SECRET));
    }
}
