//! Identical work in flight, done once: the first caller for a key starts the future,
//! later callers for the same key await the same one.
//!
//! Cancellation-safe: the map holds the shared future only weakly, so when every caller
//! has left (a closed tab, an aborted request) the future is dropped, with whatever it
//! held (a limiter slot), and its entry is removed. While at least one caller is still
//! waiting the work goes on for it, whoever else leaves.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::{Shared, WeakShared};

use crate::clock::BoxFuture;

type Work<V> = Shared<BoxFuture<'static, V>>;
/// A map entry: an id and the shared future, held weakly.
type Entry<V> = (u64, WeakShared<BoxFuture<'static, V>>);

/// Futures in flight by key.
pub struct Coalescer<V: Clone> {
    /// Each entry: an id (so that a caller removes only the entry it joined) and the
    /// shared future, held weakly.
    map: Mutex<HashMap<String, Entry<V>>>,
    next_id: AtomicU64,
    max_entries: usize,
}

impl<V: Clone> std::fmt::Debug for Coalescer<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer").field("max_entries", &self.max_entries).finish_non_exhaustive()
    }
}

impl<V: Clone + 'static> Default for Coalescer<V> {
    fn default() -> Self {
        Coalescer::new(10_000)
    }
}

impl<V: Clone + 'static> Coalescer<V> {
    /// A coalescer that shares at most `max_entries` keys at once; past that, work runs
    /// unshared (it is never refused).
    pub fn new(max_entries: usize) -> Self {
        Coalescer { map: Mutex::new(HashMap::new()), next_id: AtomicU64::new(0), max_entries }
    }

    /// Keys in flight now.
    pub fn len(&self) -> usize {
        self.map.lock().expect("coalescer lock").len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Awaits the work in flight for `key`, or starts `make()` if there is none.
    pub async fn run(&self, key: &str, make: impl FnOnce() -> BoxFuture<'static, V>) -> V {
        let joined = {
            let mut map = self.map.lock().expect("coalescer lock");
            match map.get(key).and_then(|(id, weak)| weak.upgrade().map(|work| (*id, work))) {
                Some(found) => Ok(found),
                None if map.len() < self.max_entries || map.contains_key(key) => {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let work = make().shared();
                    if let Some(weak) = work.downgrade() {
                        map.insert(key.to_owned(), (id, weak));
                    }
                    Ok((id, work))
                }
                None => Err(make),
            }
        };
        let (id, work) = match joined {
            Ok(joined) => joined,
            Err(make) => return make().await,
        };
        let mut leave = Leave { coalescer: self, key, id, work: Some(work), done: false };
        let value = leave.work.as_mut().expect("set above").await;
        leave.done = true;
        value
    }
}

/// A caller's place in a shared future. When it goes, done or dropped, the entry goes
/// too if the work is done or nobody else is waiting for it (then dropping it cancels it).
struct Leave<'a, V: Clone> {
    coalescer: &'a Coalescer<V>,
    key: &'a str,
    id: u64,
    work: Option<Work<V>>,
    done: bool,
}

impl<V: Clone> Drop for Leave<'_, V> {
    fn drop(&mut self) {
        // Our handle goes first, outside the lock: if it was the last one, the work (and
        // whatever it holds) is dropped here.
        drop(self.work.take());
        let mut map = self.coalescer.map.lock().expect("coalescer lock");
        let mut alive = None;
        if let Some((id, weak)) = map.get(self.key)
            && *id == self.id
        {
            alive = weak.upgrade();
            if self.done || alive.is_none() {
                map.remove(self.key);
            }
        }
        drop(map);
        drop(alive);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Dropped(Arc<AtomicUsize>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn work_every_caller_abandons_is_dropped_and_forgotten() {
        futures::executor::block_on(async {
            let c: Coalescer<u32> = Coalescer::default();
            let dropped = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = futures::channel::oneshot::channel::<u32>();
            let guard = Dropped(dropped.clone());
            let rx = rx.map(move |v| {
                let _g = &guard;
                v.unwrap_or(0)
            });
            let mut first = Box::pin(c.run("k", move || Box::pin(rx)));
            let mut second = Box::pin(c.run("k", || unreachable!("the second caller shares the first one's work")));
            assert!(futures::poll!(&mut first).is_pending());
            assert!(futures::poll!(&mut second).is_pending());
            assert_eq!(c.len(), 1);
            drop(first);
            // One caller is still waiting: the work goes on.
            assert_eq!(dropped.load(Ordering::SeqCst), 0);
            assert_eq!(c.len(), 1);
            drop(second);
            assert_eq!(dropped.load(Ordering::SeqCst), 1, "the work was dropped with its last caller");
            assert!(c.is_empty());
            drop(tx);
        });
    }

    #[test]
    fn a_caller_that_stays_gets_the_answer_after_another_leaves() {
        futures::executor::block_on(async {
            let c: Coalescer<u32> = Coalescer::default();
            let (tx, rx) = futures::channel::oneshot::channel::<u32>();
            let mut first = Box::pin(c.run("k", move || Box::pin(rx.map(|v| v.unwrap_or(0)))));
            let mut second = Box::pin(c.run("k", || Box::pin(async { 99 })));
            assert!(futures::poll!(&mut first).is_pending());
            assert!(futures::poll!(&mut second).is_pending());
            drop(first);
            tx.send(7).unwrap();
            assert_eq!(second.await, 7);
            assert!(c.is_empty());
            // The next caller starts afresh.
            assert_eq!(c.run("k", || Box::pin(async { 8 })).await, 8);
            assert!(c.is_empty());
        });
    }

    #[test]
    fn past_its_capacity_work_runs_unshared() {
        futures::executor::block_on(async {
            let c: Coalescer<u32> = Coalescer::new(1);
            let (_tx, rx) = futures::channel::oneshot::channel::<u32>();
            let mut held = Box::pin(c.run("a", move || Box::pin(rx.map(|v| v.unwrap_or(0)))));
            assert!(futures::poll!(&mut held).is_pending());
            assert_eq!(c.run("b", || Box::pin(async { 5 })).await, 5);
            assert_eq!(c.len(), 1);
        });
    }
}
