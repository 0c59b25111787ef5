//! Who may hold the gateway's connections, so that no one can switch it off: at most
//! `max_connections` at once, and at most `max_connections_per_ip` from one address (the
//! firm's trusted proxies excepted: every user comes through them); a connection that sends no
//! whole request head in time is closed. A live stream (`/affinity/events`) gives its
//! connection's place back (in all and its address's) and takes one in the streams' own pool
//! instead, capped in all and per caller, so that a thousand open tabs (behind one office's
//! address, say) never keep a card from being served.
//!
//! Every place is a guard: given back when the connection or stream ends, however it ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The connections' places.
#[derive(Debug)]
pub(crate) struct Connections {
    global: Arc<Semaphore>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    per_ip_max: usize,
    /// Addresses without a per-address cap (the trusted proxies).
    exempt: Vec<IpAddr>,
}

/// Why a connection was refused at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The gateway is full.
    Full,
    /// This address holds its share already.
    Address,
}

/// One connection's place: given back on drop.
#[derive(Debug)]
pub(crate) struct Place {
    connections: Arc<Connections>,
    ip: IpAddr,
    _global: Option<OwnedSemaphorePermit>,
}

/// A connection's place as the connection and its requests share it: the connection holds it
/// until it ends, unless a live stream gives it back early ([`Slot::release`]).
#[derive(Debug, Clone)]
pub(crate) struct Slot(Arc<Mutex<Option<Place>>>);

impl Slot {
    /// Holds `place` for a connection.
    pub fn new(place: Place) -> Slot {
        Slot(Arc::new(Mutex::new(Some(place))))
    }

    /// Gives the connection's place back (a live stream lives in its own pool).
    pub fn release(&self) {
        self.0.lock().expect("slot lock").take();
    }
}

impl Connections {
    pub fn new(max: usize, per_ip_max: usize, exempt: Vec<IpAddr>) -> Arc<Connections> {
        Arc::new(Connections {
            global: Arc::new(Semaphore::new(max.max(1))),
            per_ip: Mutex::new(HashMap::new()),
            per_ip_max: per_ip_max.max(1),
            exempt,
        })
    }

    /// A place for a connection from `ip`, or why not.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Place, Refused> {
        let limited = !self.exempt.contains(&ip);
        {
            let mut per_ip = self.per_ip.lock().expect("per-ip lock");
            let held = per_ip.entry(ip).or_default();
            if limited && *held >= self.per_ip_max {
                return Err(Refused::Address);
            }
            *held += 1;
        }
        // From here on the address's count is given back by `Place`'s drop.
        let mut place = Place { connections: self.clone(), ip, _global: None };
        place._global = Some(self.global.clone().try_acquire_owned().map_err(|_| Refused::Full)?);
        Ok(place)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.per_ip.lock().expect("per-ip lock").values().sum()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut per_ip = self.connections.per_ip.lock().expect("per-ip lock");
        if let Some(held) = per_ip.get_mut(&self.ip) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// The live streams' own pool: at most `max` at once, `per_caller_max` for one caller.
#[derive(Debug)]
pub(crate) struct Streams {
    global: Arc<Semaphore>,
    per_caller: Mutex<HashMap<String, usize>>,
    per_caller_max: usize,
}

/// One stream's place: given back on drop.
#[derive(Debug)]
pub(crate) struct StreamPlace {
    streams: Arc<Streams>,
    caller: String,
    _global: OwnedSemaphorePermit,
}

impl Streams {
    pub fn new(max: usize, per_caller_max: usize) -> Arc<Streams> {
        Arc::new(Streams {
            global: Arc::new(Semaphore::new(max.max(1))),
            per_caller: Mutex::new(HashMap::new()),
            per_caller_max: per_caller_max.max(1),
        })
    }

    /// A place for a stream of `caller`, or `None` when the caller or the gateway has all it
    /// may.
    pub fn admit(self: &Arc<Self>, caller: &str) -> Option<StreamPlace> {
        let mut per_caller = self.per_caller.lock().expect("streams lock");
        let held = per_caller.entry(caller.to_owned()).or_default();
        if *held >= self.per_caller_max {
            return None;
        }
        let permit = self.global.clone().try_acquire_owned().ok()?;
        *held += 1;
        Some(StreamPlace { streams: self.clone(), caller: caller.to_owned(), _global: permit })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.per_caller.lock().expect("streams lock").values().sum()
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        let mut per_caller = self.streams.per_caller.lock().expect("streams lock");
        if let Some(held) = per_caller.get_mut(&self.caller) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                per_caller.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn one_address_cannot_take_every_place_and_places_come_back() {
        let c = Connections::new(10, 3, vec![ip(9)]);
        let mine: Vec<Place> = (0..3).map(|_| c.admit(ip(1)).unwrap()).collect();
        assert_eq!(c.admit(ip(1)).unwrap_err(), Refused::Address);
        let other = c.admit(ip(2)).unwrap();
        // The proxy has no per-address cap, only the global one.
        let proxied: Vec<Place> = (0..6).map(|_| c.admit(ip(9)).unwrap()).collect();
        assert_eq!(c.admit(ip(3)).unwrap_err(), Refused::Full);
        assert_eq!(c.open(), 10);
        drop(mine);
        drop(other);
        drop(proxied);
        assert_eq!(c.open(), 0);
        assert!(c.admit(ip(1)).is_ok());
    }

    #[test]
    fn a_stream_gives_its_connections_place_back_and_takes_one_of_its_own() {
        let c = Connections::new(1, 1, vec![]);
        let slot = Slot::new(c.admit(ip(1)).unwrap());
        let held = slot.clone();
        assert_eq!(c.admit(ip(2)).unwrap_err(), Refused::Full);
        held.release();
        let next = c.admit(ip(1)).expect("the stream's connection no longer counts, in all or for its address");
        drop(next);
        drop(slot);
        let s = Streams::new(3, 2);
        let a = s.admit("token:1").unwrap();
        let _b = s.admit("token:1").unwrap();
        assert!(s.admit("token:1").is_none(), "two a caller");
        let _c = s.admit("token:2").unwrap();
        assert!(s.admit("token:3").is_none(), "three in all");
        drop(a);
        assert!(s.admit("token:3").is_some());
    }
}
