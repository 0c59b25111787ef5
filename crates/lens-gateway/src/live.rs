//! Live cards: what a caller's stream (`GET /affinity/events?cards=…`) may carry. A caller
//! names the cards it shows; it hears of a change only to those of them it has asked the
//! gateway for itself, and only by their keys: nothing of other callers' look-ups, nothing of
//! the entities or lists a change touched.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

/// Most cards one stream may follow.
pub const MAX_FOLLOWED: usize = 200;
/// Most card keys remembered a caller (the oldest are forgotten first).
const MAX_ASKED: usize = 2_000;
/// Most callers remembered (the least recent are forgotten first).
const MAX_CALLERS: usize = 10_000;

/// A caller's card keys: in the order asked (the oldest forgotten first), and as a set.
type Keys = (VecDeque<String>, HashSet<String>);

/// The cards each caller asked for (this replica's memory), and the callers in the order
/// first seen.
#[derive(Debug, Default)]
pub struct Asked {
    callers: Mutex<(HashMap<String, Keys>, VecDeque<String>)>,
}

impl Asked {
    /// `caller` asked for the card `key`.
    pub fn record(&self, caller: &str, key: &str) {
        let mut guard = self.callers.lock().expect("asked lock");
        let (callers, order) = &mut *guard;
        if !callers.contains_key(caller) {
            if callers.len() >= MAX_CALLERS
                && let Some(oldest) = order.pop_front()
            {
                callers.remove(&oldest);
            }
            order.push_back(caller.to_owned());
        }
        let (keys, set) = callers.entry(caller.to_owned()).or_default();
        if set.insert(key.to_owned()) {
            keys.push_back(key.to_owned());
            if keys.len() > MAX_ASKED
                && let Some(old) = keys.pop_front()
            {
                set.remove(&old);
            }
        }
    }

    /// Whether `caller` asked for `key`.
    pub fn has(&self, caller: &str, key: &str) -> bool {
        self.callers.lock().expect("asked lock").0.get(caller).is_some_and(|(_, set)| set.contains(key))
    }
}

/// The card keys a stream asks to follow (`cards=domain:acme.test,email:bob@acme.test`), or
/// why the parameter is not that.
pub fn followed(raw: Option<&str>) -> Result<Vec<String>, String> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err("name the cards to follow: ?cards=domain:acme.test,email:bob@acme.test".into());
    };
    let mut keys: Vec<String> = Vec::new();
    for key in raw.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let valid = key.len() <= 2_100
            && key.split_once(':').is_some_and(|(kind, value)| {
                ["domain", "email", "linkedin_person", "linkedin_company", "organization_id", "person_id"]
                    .contains(&kind)
                    && !value.is_empty()
            });
        if !valid {
            return Err(format!("{:?} is not a card key (kind:value)", key.chars().take(80).collect::<String>()));
        }
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    }
    if keys.len() > MAX_FOLLOWED {
        return Err(format!("a stream follows at most {MAX_FOLLOWED} cards"));
    }
    Ok(keys)
}

/// How far back a stream (re)opening may ask to hear the changes it missed (`?ago=` ms).
pub const MAX_AGO: std::time::Duration = std::time::Duration::from_secs(60);
/// Most changes kept for that.
const MAX_RECENT: usize = 2_000;
/// Added to `ago`: the client's measure of its gap and this replica's differ a little.
const AGO_MARGIN: std::time::Duration = std::time::Duration::from_millis(1_000);

/// The changes this replica's live streams hear (its own, and with Redis every replica's):
/// broadcast, and the last minute's kept, so that a stream opened (or reopened: a page
/// whose cards changed, a dropped connection) hears of the changes it missed meanwhile. A
/// page's stream is closed and opened again when its cards change, and a change between the
/// two would otherwise be lost.
#[derive(Debug)]
pub struct Feed {
    sender: tokio::sync::broadcast::Sender<String>,
    recent: Mutex<VecDeque<(std::time::Instant, String)>>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed { sender: tokio::sync::broadcast::channel(256).0, recent: Mutex::default() }
    }
}

impl Feed {
    /// Tells every stream, and keeps it for those to come.
    pub fn send(&self, message: String) {
        let now = std::time::Instant::now();
        let mut recent = self.recent.lock().expect("feed lock");
        while recent.front().is_some_and(|(at, _)| now.duration_since(*at) > MAX_AGO + AGO_MARGIN)
            || recent.len() >= MAX_RECENT
        {
            recent.pop_front();
        }
        recent.push_back((now, message.clone()));
        // Under the lock: a stream subscribing now gets each message once, kept or sent.
        let _ = self.sender.send(message);
    }

    /// The changes from now on, and those of the last `ago` (at most [`MAX_AGO`]).
    pub fn subscribe(&self, ago: std::time::Duration) -> (tokio::sync::broadcast::Receiver<String>, Vec<String>) {
        let recent = self.recent.lock().expect("feed lock");
        let receiver = self.sender.subscribe();
        let now = std::time::Instant::now();
        let window = ago.min(MAX_AGO) + AGO_MARGIN;
        let missed =
            recent.iter().filter(|(at, _)| now.duration_since(*at) <= window).map(|(_, m)| m.clone()).collect();
        (receiver, missed)
    }
}

/// What a change message (`{"cards": [...]}`, published by any replica) tells a stream that
/// follows `keys`: the keys of those cards it names, if any.
pub fn for_stream(message: &str, keys: &[String]) -> Option<String> {
    let change: serde_json::Value = serde_json::from_str(message).ok()?;
    let named: Vec<&str> = change.get("cards")?.as_array()?.iter().filter_map(|k| k.as_str()).collect();
    let mine: Vec<&String> = keys.iter().filter(|k| named.contains(&k.as_str())).collect();
    (!mine.is_empty()).then(|| serde_json::json!({ "cards": mine }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_hears_only_of_the_cards_it_follows_and_by_their_keys() {
        let keys = followed(Some("domain:acme.test, email:bob@acme.test")).unwrap();
        let change = r#"{"cards":["domain:acme.test","email:ceo@other.test"],"entities":[7133202],"meta":true}"#;
        assert_eq!(for_stream(change, &keys).as_deref(), Some(r#"{"cards":["domain:acme.test"]}"#));
        assert_eq!(for_stream(r#"{"cards":["domain:globex.test"]}"#, &keys), None);
        assert_eq!(for_stream("not json", &keys), None);
        for bad in [None, Some(""), Some("acme.test"), Some("secret:x"), Some("domain:")] {
            assert!(followed(bad).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_FOLLOWED).map(|i| format!("domain:d{i}.test")).collect();
        assert!(followed(Some(&many.join(","))).is_err());
    }

    #[tokio::test]
    async fn a_stream_opened_again_hears_the_changes_of_its_gap_once() {
        let feed = Feed::default();
        feed.send(r#"{"cards":["domain:old.test"]}"#.into());
        tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
        feed.send(r#"{"cards":["domain:acme.test"]}"#.into());
        // A stream that was away 100 ms hears the change of that gap (and not the older one).
        let (mut receiver, missed) = feed.subscribe(std::time::Duration::from_millis(100));
        assert_eq!(missed, [r#"{"cards":["domain:acme.test"]}"#]);
        // A first stream (no gap) hears only what comes now... and what came within the margin.
        let (_, none) = feed.subscribe(std::time::Duration::ZERO);
        assert_eq!(none.len(), 1, "{none:?}");
        feed.send(r#"{"cards":["domain:globex.test"]}"#.into());
        assert_eq!(receiver.recv().await.unwrap(), r#"{"cards":["domain:globex.test"]}"#);
        assert!(receiver.try_recv().is_err(), "each change once");
        // A gap longer than a minute is a minute.
        let (_, all) = feed.subscribe(std::time::Duration::from_secs(3_600));
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn what_a_caller_asked_for_is_theirs_alone_and_bounded() {
        let asked = Asked::default();
        asked.record("token:1", "domain:acme.test");
        assert!(asked.has("token:1", "domain:acme.test"));
        assert!(!asked.has("token:2", "domain:acme.test"));
        for i in 0..MAX_ASKED {
            asked.record("token:1", &format!("domain:d{i}.test"));
        }
        assert!(!asked.has("token:1", "domain:acme.test"), "the oldest is forgotten");
        assert!(asked.has("token:1", &format!("domain:d{}.test", MAX_ASKED - 1)));
    }
}
