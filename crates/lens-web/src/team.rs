//! Team mode: the background asks the firm's gateway for cards (`GET
//! {gateway}/affinity/card?domain=…`, docs/card.md) instead of Affinity, so that no
//! Affinity key sits in the browser and a company any colleague looked up costs nothing
//! again (the gateway's shared cache). The gateway is read-only by design: writes from the
//! card need the user's own key (see docs/design.md).
//!
//! Cards are kept in the background's persisted cache, so that a page seen before shows
//! its card, marked stale, while the gateway cannot be reached.

use affinity_api::cache::{CacheEntry, CacheStore};
use affinity_api::clock::unix_ms;
use affinity_api::transport::{HttpRequest, Method, Transport};
use lens_core::{Card, CardError, CardStatus, ErrorKind, PageHints, Query, QueryKind};
use serde_json::Value;
use web_time::Duration;

/// A gateway card's wait at most (the gateway's own deadline is shorter).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A cached card stands in for an unreachable gateway this long at most (as personal
/// mode's cached answers do).
const STALE_FOR_MS: u64 = 3 * 24 * 3600 * 1000;

/// The card's URL at the gateway: its base URL as the options name it (with or without the
/// `/affinity` the web component's `endpoint` ends with) and the one query parameter.
pub fn card_url(gateway: &str, query: &Query) -> String {
    let base = gateway.trim_end_matches('/');
    let base = base.strip_suffix("/affinity").unwrap_or(base);
    let value: String = url::form_urlencoded::byte_serialize(query.value.as_bytes()).collect();
    format!("{base}/affinity/card?{}={value}", parameter(query.kind))
}

/// The card's URL with the hints the page showed (a LinkedIn profile's `name`, `headline`
/// and current `company`; a LinkedIn company page's `website`), so that the gateway tells
/// namesakes apart as personal mode does. Each is at most 300 characters (as the extension
/// takes them from the page); the gateway checks them again.
pub fn card_url_with_hints(gateway: &str, query: &Query, hints: &PageHints) -> String {
    let mut url = card_url(gateway, query);
    let wanted: &[(&str, &Option<String>)] = match query.kind {
        QueryKind::LinkedinPerson => {
            &[("name", &hints.name), ("headline", &hints.headline), ("company", &hints.company)]
        }
        QueryKind::LinkedinCompany => &[("website", &hints.website)],
        _ => &[],
    };
    for (name, value) in wanted {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let v: String = v.chars().take(300).collect();
            let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            url.push_str(&format!("&{name}={v}"));
        }
    }
    url
}

/// The headers of every request to the gateway: `accept`, `x-affinity-lens` (the gateway
/// serves a request that cannot come from another site: a page cannot send it without a
/// preflight, also when the browser sends no Origin) and, with a token, `authorization:
/// Bearer` (without one the browser's cookies stand for the user).
pub fn headers(token: &str, accept: &str) -> Vec<(String, String)> {
    let mut headers = vec![("accept".to_owned(), accept.to_owned()), ("x-affinity-lens".to_owned(), "1".to_owned())];
    if !token.is_empty() {
        headers.push(("authorization".to_owned(), format!("Bearer {token}")));
    }
    headers
}

/// The gateway's index is asked again (with `If-None-Match`) at most this often, on use.
pub const INDEX_EVERY_MS: u64 = 2 * 60 * 1000;

fn parameter(kind: QueryKind) -> &'static str {
    match kind {
        QueryKind::Domain => "domain",
        QueryKind::Email => "email",
        QueryKind::LinkedinPerson | QueryKind::LinkedinCompany => "linkedin",
        QueryKind::OrganizationId => "organization_id",
        QueryKind::PersonId => "person_id",
        // The gateway has no thread cards: a thread is asked person by person.
        QueryKind::Thread => "thread",
    }
}

fn cache_key(query: &Query) -> String {
    format!("team:{}:{}", parameter(query.kind), query.value)
}

/// The gateway resolves the query again as the extension does; only the case may differ.
fn same_query(got: &Query, asked: &Query) -> bool {
    got.kind == asked.kind && got.value.eq_ignore_ascii_case(&asked.value)
}

fn failed(query: &Query, kind: ErrorKind, message: impl Into<String>) -> Card {
    let mut card = Card::new(query.clone(), CardStatus::Error);
    card.error = Some(CardError::new(kind, message));
    card
}

/// A thread's card in team mode: each external participant asked of the gateway by their
/// address, and their company's domain from the gateway's index (`indexed`) or asked of the
/// gateway. No key here: the firm is the user's own addresses' domains (colleagues share
/// them).
#[allow(clippy::too_many_arguments)]
pub async fn thread_card<T: Transport>(
    transport: &T,
    gateway: &str,
    token: &str,
    query: &Query,
    seen: &lens_core::mail::Seen,
    cache: &dyn CacheStore,
    refresh: bool,
    indexed: &std::collections::HashMap<String, Option<Card>>,
) -> Card {
    let firm = lens_core::mail::Firm::new(seen.me.iter().map(String::as_str), std::iter::empty());
    let people = seen.participants(&firm);
    let ask = |kind: QueryKind, value: &str| {
        let q = Query { kind, value: value.to_owned() };
        async move { card(transport, gateway, token, &q, &PageHints::default(), cache, refresh).await }
    };
    let domains = lens_core::thread::company_domains(&people);
    let persons = futures::future::join_all(people.iter().map(|p| ask(QueryKind::Email, &p.email)));
    let companies = futures::future::join_all(domains.iter().map(|d| async {
        match indexed.get(*d).cloned().flatten() {
            Some(c) if c.status != CardStatus::Matched => None,
            _ => Some(ask(QueryKind::Domain, d).await).filter(|c| c.status == CardStatus::Matched),
        }
    }));
    let (persons, companies) = futures::join!(persons, companies);
    if let Some(failed) = persons.iter().find(|c| c.status == CardStatus::Error)
        && persons.iter().all(|c| c.status == CardStatus::Error)
    {
        return Card { query: query.clone(), thread: Vec::new(), ..failed.clone() };
    }
    let persons =
        persons.into_iter().map(|c| (c.status == CardStatus::Matched).then_some(c.entity).flatten()).collect();
    lens_core::thread::thread_card(query.clone(), &people, persons, domains.into_iter().zip(companies).collect())
}

/// The card of `query` from the gateway; with `token`, sent as `Authorization: Bearer`,
/// else the browser's session with the gateway (its cookies) stands for the user. A whole
/// card is cached; when the gateway cannot be reached, the cached card is returned stale
/// (for 3 days). A card about another query than the one asked is refused (`bad_response`).
/// The browser's HTTP cache may answer within the gateway's `max-age`; a `refresh` asks
/// the gateway itself (`Cache-Control: no-cache`).
pub async fn card<T: Transport>(
    transport: &T,
    gateway: &str,
    token: &str,
    query: &Query,
    hints: &PageHints,
    cache: &dyn CacheStore,
    refresh: bool,
) -> Card {
    let mut headers = headers(token, "application/json");
    if refresh {
        headers.push(("cache-control".to_owned(), "no-cache".to_owned()));
    }
    let request = HttpRequest {
        method: Method::Get,
        url: card_url_with_hints(gateway, query, hints),
        headers,
        body: None,
        timeout: TIMEOUT,
    };
    let key = cache_key(query);
    let stale = || {
        let entry = cache.get(&key).filter(|e| unix_ms().saturating_sub(e.stored_at_ms) <= STALE_FOR_MS)?;
        let mut card: Card = serde_json::from_str(&entry.body).ok()?;
        card.stale = true;
        Some(card)
    };
    let response = match transport.send(request).await {
        Ok(r) => r,
        Err(e) => {
            return stale().unwrap_or_else(|| {
                failed(query, ErrorKind::Unavailable, format!("The gateway could not be reached ({e})."))
            });
        }
    };
    let said = || {
        serde_json::from_str::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| format!("status {}", response.status))
    };
    match response.status {
        200 => match serde_json::from_str::<Card>(&response.body) {
            Ok(card) if !same_query(&card.query, query) => {
                failed(query, ErrorKind::BadResponse, "The gateway answered with the card of something else.")
            }
            Ok(card) => {
                if card.status != CardStatus::Error && !card.partial {
                    cache.put(&key, CacheEntry { body: response.body.clone(), stored_at_ms: unix_ms() });
                }
                card
            }
            Err(_) => failed(query, ErrorKind::BadResponse, "The gateway's answer is not a card."),
        },
        401 => failed(
            query,
            ErrorKind::Unauthorized,
            "The gateway refused this token (or this browser is not signed in to it): check the Lens's options.",
        ),
        403 => failed(query, ErrorKind::Forbidden, format!("The gateway refused this request: {}.", said())),
        400 | 404 => failed(query, ErrorKind::Invalid, format!("The gateway: {}.", said())),
        status => stale().unwrap_or_else(|| {
            let kind = if status == 429 { ErrorKind::RateLimited } else { ErrorKind::Unavailable };
            failed(query, kind, format!("The gateway could not answer now: {}.", said()))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use affinity_api::Error;
    use affinity_api::cache::MemoryCache;
    use affinity_api::transport::HttpResponse;
    use futures::executor::block_on;
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<Vec<HttpRequest>>>;

    #[derive(Clone)]
    struct Gateway {
        answer: Arc<Mutex<Option<(u16, String)>>>,
        seen: Seen,
    }

    impl Transport for Gateway {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
            self.seen.lock().unwrap().push(request);
            match self.answer.lock().unwrap().clone() {
                Some((status, body)) => Ok(HttpResponse { status, headers: Vec::new(), body }),
                None => Err(Error::Unavailable { status: None, message: "offline".into() }),
            }
        }
    }

    fn acme() -> Query {
        Query { kind: QueryKind::Domain, value: "acme.test".into() }
    }

    fn acme_card() -> String {
        let mut card = Card::new(acme(), CardStatus::Matched);
        card.fetched_at = "2026-01-01T00:00:00.000Z".into();
        serde_json::to_string(&card).unwrap()
    }

    #[test]
    fn the_url_names_one_parameter_at_the_gateways_card_path() {
        assert_eq!(card_url("https://gw.example", &acme()), "https://gw.example/affinity/card?domain=acme.test");
        assert_eq!(
            card_url("https://gw.example/affinity/", &acme()),
            "https://gw.example/affinity/card?domain=acme.test"
        );
        let person = Query { kind: QueryKind::LinkedinPerson, value: "https://www.linkedin.com/in/jane-doe/".into() };
        assert_eq!(
            card_url("http://127.0.0.1:8790", &person),
            "http://127.0.0.1:8790/affinity/card?linkedin=https%3A%2F%2Fwww.linkedin.com%2Fin%2Fjane-doe%2F"
        );
        let id = Query { kind: QueryKind::OrganizationId, value: "7".into() };
        assert!(card_url("https://gw", &id).ends_with("?organization_id=7"));
    }

    #[test]
    fn a_card_comes_with_the_token_is_cached_and_shown_stale_offline() {
        let gateway = Gateway { answer: Arc::new(Mutex::new(Some((200, acme_card())))), seen: Seen::default() };
        let cache = MemoryCache::default();
        let got = block_on(card(&gateway, "https://gw.example", "tok", &acme(), &PageHints::default(), &cache, false));
        assert_eq!((got.status, got.stale), (CardStatus::Matched, false));
        let sent = gateway.seen.lock().unwrap()[0].headers.clone();
        assert!(sent.contains(&("authorization".into(), "Bearer tok".into())), "{sent:?}");
        assert!(sent.iter().all(|(k, _)| k != "cache-control"), "the browser's HTTP cache may answer");
        block_on(card(&gateway, "https://gw.example", "tok", &acme(), &PageHints::default(), &cache, true));
        let refreshed = gateway.seen.lock().unwrap()[1].headers.clone();
        assert!(refreshed.contains(&("cache-control".into(), "no-cache".into())), "a refresh asks the gateway");
        // Offline: the cached card, stale.
        *gateway.answer.lock().unwrap() = None;
        let offline =
            block_on(card(&gateway, "https://gw.example", "tok", &acme(), &PageHints::default(), &cache, false));
        assert_eq!((offline.status, offline.stale), (CardStatus::Matched, true));
        // A 503 too; a 401 says to check the token.
        *gateway.answer.lock().unwrap() = Some((503, json!({"error": "busy"}).to_string()));
        assert!(
            block_on(card(&gateway, "https://gw.example", "tok", &acme(), &PageHints::default(), &cache, false)).stale
        );
        *gateway.answer.lock().unwrap() = Some((401, json!({"error": "no"}).to_string()));
        let refused =
            block_on(card(&gateway, "https://gw.example", "tok", &acme(), &PageHints::default(), &cache, false));
        assert_eq!(refused.error.unwrap().kind, ErrorKind::Unauthorized);
    }

    #[test]
    fn a_card_about_another_query_is_refused_and_not_cached() {
        let mut other = Card::new(Query { kind: QueryKind::Domain, value: "evil.example".into() }, CardStatus::Matched);
        other.entity = serde_json::from_value(json!({"kind": "organization", "id": 1, "name": "Acme",
            "domains": ["acme.test"], "emails": [], "affinity_url": "https://evil.example/"}))
        .unwrap();
        let gateway = Gateway {
            answer: Arc::new(Mutex::new(Some((200, serde_json::to_string(&other).unwrap())))),
            seen: Seen::default(),
        };
        let cache = MemoryCache::default();
        let got = block_on(card(&gateway, "https://gw.example", "", &acme(), &PageHints::default(), &cache, false));
        assert_eq!((got.status, got.query), (CardStatus::Error, acme()));
        assert_eq!(got.error.unwrap().kind, ErrorKind::BadResponse);
        assert!(got.entity.is_none(), "nothing of the other card is shown");
        assert!(cache.is_empty());
        // The same query in other capitals is the same query.
        let shouted = Card::new(Query { kind: QueryKind::Domain, value: "ACME.test".into() }, CardStatus::Matched);
        *gateway.answer.lock().unwrap() = Some((200, serde_json::to_string(&shouted).unwrap()));
        assert_eq!(
            block_on(card(&gateway, "https://gw.example", "", &acme(), &PageHints::default(), &cache, false)).status,
            CardStatus::Matched
        );
    }

    #[test]
    fn a_cached_card_stands_in_for_three_days_at_most() {
        let gateway = Gateway { answer: Arc::new(Mutex::new(None)), seen: Seen::default() };
        let cache = MemoryCache::default();
        let day = 24 * 3600 * 1000;
        cache.put(&cache_key(&acme()), CacheEntry { body: acme_card(), stored_at_ms: unix_ms() - 3 * day + 60_000 });
        let got = block_on(card(&gateway, "https://gw.example", "", &acme(), &PageHints::default(), &cache, false));
        assert_eq!((got.status, got.stale), (CardStatus::Matched, true));
        cache.put(&cache_key(&acme()), CacheEntry { body: acme_card(), stored_at_ms: unix_ms() - 3 * day - 60_000 });
        let got = block_on(card(&gateway, "https://gw.example", "", &acme(), &PageHints::default(), &cache, false));
        assert_eq!(got.status, CardStatus::Error, "older than 3 days: not shown");
        assert_eq!(got.error.unwrap().kind, ErrorKind::Unavailable);
    }

    #[test]
    fn without_a_token_no_authorization_is_sent_and_nothing_cached_fails_clearly() {
        let gateway = Gateway { answer: Arc::new(Mutex::new(None)), seen: Seen::default() };
        let cache = MemoryCache::default();
        let got = block_on(card(&gateway, "https://gw.example", "", &acme(), &PageHints::default(), &cache, false));
        assert_eq!(got.status, CardStatus::Error);
        assert_eq!(got.error.as_ref().unwrap().kind, ErrorKind::Unavailable);
        assert!(got.error.unwrap().message.contains("gateway"));
        let sent = gateway.seen.lock().unwrap()[0].headers.clone();
        assert!(sent.iter().all(|(k, _)| k != "authorization"), "{sent:?}");
        *gateway.answer.lock().unwrap() = Some((400, json!({"error": "give exactly one"}).to_string()));
        let bad = block_on(card(&gateway, "https://gw.example", "", &acme(), &PageHints::default(), &cache, false));
        assert!(bad.error.unwrap().message.contains("give exactly one"));
        assert!(cache.is_empty(), "errors are not cached");
    }

    #[test]
    fn a_profile_asks_the_gateway_with_the_pages_hints() {
        let person = Query { kind: QueryKind::LinkedinPerson, value: "https://www.linkedin.com/in/jane-doe".into() };
        let hints = PageHints {
            name: Some("Jane Doe".into()),
            headline: Some("CEO at Initech & Co".into()),
            company: Some(" Initech ".into()),
            website: Some("https://ignored.example".into()),
            ..PageHints::default()
        };
        assert_eq!(
            card_url_with_hints("https://gw.example", &person, &hints),
            "https://gw.example/affinity/card?linkedin=https%3A%2F%2Fwww.linkedin.com%2Fin%2Fjane-doe\
             &name=Jane+Doe&headline=CEO+at+Initech+%26+Co&company=Initech"
        );
        let company =
            Query { kind: QueryKind::LinkedinCompany, value: "https://www.linkedin.com/company/initech".into() };
        let site = PageHints { website: Some("https://initech.com".into()), ..PageHints::default() };
        assert!(
            card_url_with_hints("https://gw.example", &company, &site).ends_with("&website=https%3A%2F%2Finitech.com")
        );
        let long = PageHints { name: Some("x".repeat(400)), ..PageHints::default() };
        let url = card_url_with_hints("https://gw.example", &person, &long);
        assert!(url.ends_with(&format!("&name={}", "x".repeat(300))), "{url}");
        let domain = Query { kind: QueryKind::Domain, value: "acme.com".into() };
        assert_eq!(card_url_with_hints("https://gw.example", &domain, &hints), card_url("https://gw.example", &domain));
    }
}
