//! Injected time. The limiter, the cache and retries read the time and sleep through a
//! [`Clock`]; tests use [`FakeClock`] and never sleep. Times are durations since the Unix
//! epoch, so that they survive being persisted (a service worker restarts often).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use web_time::Duration;

use crate::transport::{MaybeSend, MaybeSync};

/// A boxed future that is `Send` natively and not in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future that is `Send` natively and not in the browser.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The time source.
pub trait Clock: MaybeSend + MaybeSync + 'static {
    /// Now, as time since the Unix epoch.
    fn now(&self) -> Duration;
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The platform clock: `SystemTime` (via web-time, so it works on wasm32) and tokio's or
/// the browser's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        web_time::SystemTime::now().duration_since(web_time::SystemTime::UNIX_EPOCH).unwrap_or_default()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    #[cfg(target_arch = "wasm32")]
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let ms = u32::try_from(duration.as_millis()).unwrap_or(u32::MAX);
        Box::pin(gloo_timers::future::TimeoutFuture::new(ms))
    }
}

/// Now, in milliseconds since the Unix epoch, by the platform clock: the time the account's
/// memory and persisted entries are stamped with.
pub fn unix_ms() -> u64 {
    SystemClock.now().as_millis() as u64
}

/// A clock for tests: time moves only when told, and sleeping moves it.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    micros: Arc<AtomicU64>,
}

impl FakeClock {
    /// A clock at `start` since the epoch.
    pub fn at(start: Duration) -> Self {
        FakeClock { micros: Arc::new(AtomicU64::new(start.as_micros() as u64)) }
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.micros.fetch_add(by.as_micros() as u64, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::SeqCst))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}
