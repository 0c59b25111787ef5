//! What an Affinity webhook event touches, so that the gateway drops exactly those cached
//! answers and cards. Both sides are described by the same small vocabulary of references:
//!
//! - `id:N`: an Affinity entity (organization, person, opportunity, list entry) by id. The
//!   kinds share the vocabulary on purpose: a rare collision of ids across kinds drops one
//!   answer too many, never one too few;
//! - `term:T`: a search by `T` (a domain, an email), which a new or changed entity can answer
//!   differently;
//! - `meta`: the lists, fields and the key's user, which every card reads.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use affinity_api::models::WebhookEvent;
use lens_core::Card;
use serde_json::Value;

/// Most references one event may name; an event naming more drops every card instead (its
/// work stays bounded whatever it says).
pub const MAX_REFS: usize = 1_000;
/// An event sent longer ago than this (or this far in the future) is refused.
pub const MAX_EVENT_AGE_SECS: i64 = 600;

/// Why an event is refused before it does anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its `sent_at` is too old or in the future: a replay of a captured event.
    Stale,
    /// The same event was received lately.
    Replay,
}

/// Checks an event's age: `sent_at` (Unix seconds) within [`MAX_EVENT_AGE_SECS`] of `now_secs`.
/// An event without one is accepted (Affinity's older events have none).
pub fn fresh(event: &WebhookEvent, now_secs: i64) -> Result<(), Refusal> {
    match event.sent_at {
        Some(at) if (now_secs - at).abs() > MAX_EVENT_AGE_SECS => Err(Refusal::Stale),
        _ => Ok(()),
    }
}

/// A digest of an event's body.
type Digest = [u8; 32];

/// The digests seen, and when each was seen (Unix seconds), oldest first.
type SeenLog = (HashSet<Digest>, VecDeque<(Digest, i64)>);

/// The events seen lately (by a digest of their body), to ignore a replay.
#[derive(Debug, Default)]
pub struct Seen {
    seen: Mutex<SeenLog>,
}

impl Seen {
    /// Whether `digest` is new (and now seen); events older than [`MAX_EVENT_AGE_SECS`] are
    /// forgotten (a replay of those is refused as stale).
    pub fn first_time(&self, digest: Digest, now_secs: i64) -> bool {
        let mut guard = self.seen.lock().expect("seen lock");
        let (set, order) = &mut *guard;
        while order.front().is_some_and(|(_, at)| now_secs - at > MAX_EVENT_AGE_SECS || set.len() > 100_000) {
            if let Some((old, _)) = order.pop_front() {
                set.remove(&old);
            }
        }
        if !set.insert(digest) {
            return false;
        }
        order.push_back((digest, now_secs));
        true
    }
}

/// The cached cards by reference, so that an event finds the cards it touches without
/// reading every card.
#[derive(Debug, Default)]
pub struct CardIndex {
    by_ref: Mutex<HashMap<String, HashSet<String>>>,
}

/// Most references indexed: past it the index starts again (an evicted card's references
/// are not removed one by one).
const MAX_INDEXED: usize = 500_000;

impl CardIndex {
    /// The card `key` has the references `refs`.
    pub fn add(&self, key: &str, refs: &[String]) {
        let mut by_ref = self.by_ref.lock().expect("index lock");
        if by_ref.len() > MAX_INDEXED {
            by_ref.clear();
        }
        for r in refs {
            by_ref.entry(r.clone()).or_default().insert(key.to_owned());
        }
    }

    /// The keys of the cards `touched` touches (all of them for `meta-cards`), taken out of
    /// the index.
    pub fn take(&self, touched: &[String]) -> Vec<String> {
        let mut by_ref = self.by_ref.lock().expect("index lock");
        let mut keys: Vec<String> = touched.iter().filter_map(|r| by_ref.remove(r)).flatten().collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The references of a cached answer, from its cache key: the request URL (v1 or v2), and
/// for a v2 search the body after a space.
pub fn url_refs(key: &str) -> Vec<String> {
    let (url, body) = key.split_once(' ').unwrap_or((key, ""));
    let Ok(url) = url::Url::parse(url) else { return vec!["meta".into()] };
    let mut refs = Vec::new();
    // A search's body names what it searches for.
    if let Ok(body) = serde_json::from_str::<Value>(body) {
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(format!("term:{}", s.trim().to_lowercase())),
                Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
                Value::Object(o) => o.values().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        strings(&body, &mut refs);
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    for window in segments.windows(2) {
        if matches!(window[0], "organizations" | "companies" | "persons" | "opportunities" | "list-entries" | "notes")
            && let Ok(id) = window[1].parse::<i64>()
        {
            refs.push(format!("id:{id}"));
        }
    }
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "organization_id" | "person_id" | "opportunity_id" | "list_entry_id" | "external_id" | "internal_id"
            | "entity_id" | "ids" | "companyId" | "personId" => {
                if let Ok(id) = v.parse::<i64>() {
                    refs.push(format!("id:{id}"));
                }
            }
            "term" => refs.push(format!("term:{}", v.trim().to_lowercase())),
            _ => {}
        }
    }
    // A list's entries change with any entry of it.
    if let [first, id, ..] = segments.as_slice()
        && *first == "lists"
        && id.parse::<i64>().is_ok()
    {
        refs.push(format!("list:{id}"));
    }
    // What names no entity (whoami, lists, fields, the rate limit) is the account's context.
    if refs.is_empty() {
        refs.push("meta".into());
    }
    refs.sort();
    refs.dedup();
    refs
}

/// The references of a card: what it shows and what it was asked for.
pub fn card_refs(card: &Card) -> Vec<String> {
    let mut refs = vec![format!("term:{}", card.query.value.to_lowercase())];
    let mut id = |n: i64| refs.push(format!("id:{n}"));
    if let Some(e) = &card.entity {
        id(e.id);
    }
    for c in &card.candidates {
        id(c.id);
    }
    for c in &card.connections {
        id(c.colleague.id);
        id(c.contact.id);
    }
    for l in &card.lists {
        id(l.entry_id);
        for o in &l.owners {
            id(o.id);
        }
    }
    for o in &card.opportunities {
        id(o.id);
    }
    if let Ok(n) = card.query.value.parse::<i64>() {
        id(n);
    }
    for l in &card.lists {
        refs.push(format!("list:{}", l.list_id));
    }
    refs.push("meta-cards".into());
    refs.sort();
    refs.dedup();
    refs
}

/// The references an event touches.
pub fn event_refs(event: &WebhookEvent) -> Vec<String> {
    let body = &event.body;
    let mut refs = Vec::new();
    let num = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    let mut ids = |v: Option<&Value>| {
        match v {
            Some(Value::Array(a)) => refs.extend(a.iter().filter_map(num).map(|n| format!("id:{n}"))),
            Some(v) => refs.extend(num(v).map(|n| format!("id:{n}"))),
            None => {}
        };
    };
    for key in [
        "id",
        "entity_id",
        "list_entry_id",
        "organization_id",
        "person_id",
        "opportunity_id",
        "organization_ids",
        "person_ids",
        "opportunity_ids",
    ] {
        // `id` of a field value or a note is not an entity: only its links are.
        if key == "id" && (event.event.starts_with("field_value.") || event.event.starts_with("note.")) {
            continue;
        }
        ids(body.get(key));
    }
    if let Some(entity) = body.get("entity") {
        ids(entity.get("id"));
    }
    for key in ["company", "removed_company"] {
        if let Some(org) = body.get(key) {
            ids(org.get("id"));
        }
    }
    // Searches that a changed name, domain or email could answer differently.
    let mut terms = |v: Option<&Value>| {
        let mut add = |s: &str| refs.push(format!("term:{}", s.trim().to_lowercase()));
        match v {
            Some(Value::String(s)) => add(s),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).for_each(add),
            _ => {}
        }
    };
    for source in
        [Some(body), body.get("company"), body.get("removed_company"), body.get("entity")].into_iter().flatten()
    {
        terms(source.get("domain"));
        terms(source.get("domains"));
        terms(source.get("emails"));
        terms(source.get("primary_email"));
    }
    // A person's email domain is what the Lens searches people by.
    let emails: Vec<String> = refs
        .iter()
        .filter_map(|r| r.strip_prefix("term:").and_then(|e| e.split_once('@')).map(|(_, d)| format!("term:{d}")))
        .collect();
    refs.extend(emails);
    if let Some(list) = body.get("list_id").and_then(num) {
        refs.push(format!("list:{list}"));
    }
    if event.event.starts_with("list.") || event.event.starts_with("field.") {
        refs.push("meta".into());
        refs.push("meta-cards".into());
    }
    refs.sort();
    refs.dedup();
    if refs.len() > MAX_REFS {
        // Bounded work: drop every card and what names no entity, rather than follow each.
        return vec!["meta".into(), "meta-cards".into()];
    }
    refs
}

/// Whether something with `refs` is touched by an event with `touched`.
pub fn touches(refs: &[String], touched: &[String]) -> bool {
    refs.iter().any(|r| touched.binary_search(r).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> WebhookEvent {
        let path = format!("{}/../../../shared/fixtures/affinity-v1/webhooks/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn answers_are_known_by_the_entities_and_searches_in_their_url() {
        let refs = |u: &str| url_refs(&format!("https://api.affinity.co{u}"));
        assert_eq!(refs("/organizations/7133202?with_interaction_dates=true"), ["id:7133202"]);
        assert_eq!(refs("/field-values?organization_id=12"), ["id:12"]);
        assert_eq!(refs("/organizations?term=Acme.test&page_size=100"), ["term:acme.test"]);
        assert_eq!(refs("/relationships-strengths?external_id=5"), ["id:5"]);
        assert_eq!(refs("/lists"), ["meta"]);
        assert_eq!(refs("/lists/17/list-entries"), ["list:17"]);
        // API v2: companies by id, and a search by its body.
        assert_eq!(refs("/v2/companies/7133202/list-entries?limit=100"), ["id:7133202"]);
        assert_eq!(refs("/v2/opportunities?ids=4&ids=5"), ["id:4", "id:5"]);
        assert_eq!(
            refs(r#"/v2/companies/search?fieldTypes=relationship-intelligence {"term":"Acme.test"}"#),
            ["term:acme.test"]
        );
    }

    #[test]
    fn every_recorded_event_touches_what_it_names() {
        let refs = event_refs(&fixture("event_field_value_updated.helpcenter.json"));
        assert_eq!(refs, ["id:91407761"]);
        let refs = event_refs(&fixture("event_list_entry_created.docs.json"));
        for r in ["id:388", "id:38706", "id:70796737", "list:26", "term:john@affinity.co", "term:affinity.co"] {
            assert!(refs.contains(&r.to_owned()), "{r} in {refs:?}");
        }
        let merged = event_refs(&fixture("event_organization_merged.helpcenter.json"));
        assert!(merged.iter().filter(|r| r.starts_with("id:")).count() >= 2, "{merged:?}");
        for name in [
            "event_organization_created.helpcenter.json",
            "event_person_created.helpcenter.json",
            "event_list_entry_created.helpcenter.json",
        ] {
            assert!(!event_refs(&fixture(name)).is_empty(), "{name}");
        }
    }

    #[test]
    fn a_status_change_touches_its_organization_card_and_not_another() {
        use lens_core::{CardStatus, Query, QueryKind};
        let mut card = Card::new(Query { kind: QueryKind::Domain, value: "acme.test".into() }, CardStatus::Matched);
        card.entity = Some(lens_core::card::CardEntity {
            kind: lens_core::card::EntityKind::Organization,
            id: 7,
            name: "Acme".into(),
            domains: vec![],
            emails: vec![],
            affinity_url: None,
        });
        let other = Card::new(Query { kind: QueryKind::Domain, value: "globex.test".into() }, CardStatus::NotFound);
        let event: WebhookEvent = serde_json::from_value(serde_json::json!({
            "type": "field_value.updated",
            "body": { "id": 99, "field_id": 3, "entity_id": 7, "entity_type": 1, "list_entry_id": 55, "value": 4 },
            "sent_at": 1
        }))
        .unwrap();
        let touched = event_refs(&event);
        assert!(touches(&card_refs(&card), &touched));
        assert!(!touches(&card_refs(&other), &touched));
        // A new organization with that domain touches the card that did not find one.
        let created: WebhookEvent = serde_json::from_value(serde_json::json!({
            "type": "organization.created", "body": { "id": 8, "name": "Globex", "domain": "globex.test", "domains": ["globex.test"] }
        }))
        .unwrap();
        assert!(touches(&card_refs(&other), &event_refs(&created)));
    }

    #[test]
    fn old_or_repeated_events_and_events_naming_too_much_do_bounded_work_or_none() {
        let event = |sent_at: Option<i64>, ids: usize| WebhookEvent {
            event: "list_entry.created".into(),
            body: serde_json::json!({ "person_ids": (0..ids as i64).collect::<Vec<_>>() }),
            sent_at,
        };
        let now = 1_800_000_000;
        assert_eq!(fresh(&event(Some(now - 5), 1), now), Ok(()));
        assert_eq!(fresh(&event(Some(now - 86_400), 1), now), Err(Refusal::Stale));
        assert_eq!(fresh(&event(Some(now + 3_600), 1), now), Err(Refusal::Stale));
        assert_eq!(fresh(&event(None, 1), now), Ok(()));
        assert!(event_refs(&event(None, 10)).contains(&"id:9".to_owned()));
        assert_eq!(event_refs(&event(None, 10_000)), ["meta", "meta-cards"]);

        let seen = Seen::default();
        assert!(seen.first_time([1; 32], now));
        assert!(!seen.first_time([1; 32], now + 1), "a replay");
        assert!(seen.first_time([2; 32], now + 1));
        assert!(seen.first_time([1; 32], now + MAX_EVENT_AGE_SECS + 2), "forgotten once it would be stale anyway");
    }

    #[test]
    fn the_index_finds_the_cards_a_reference_names_once() {
        let index = CardIndex::default();
        index.add("domain:acme.test", &["id:1".into(), "meta-cards".into()]);
        index.add("domain:globex.test", &["id:2".into(), "meta-cards".into()]);
        assert_eq!(index.take(&["id:1".into()]), ["domain:acme.test"]);
        assert_eq!(index.take(&["id:1".into()]), Vec::<String>::new());
        assert_eq!(index.take(&["meta-cards".into()]), ["domain:acme.test", "domain:globex.test"]);
    }
}
