//! The card of an email thread (`query.kind` `thread`, the extension in Gmail): its
//! external participants ([`crate::mail`]) looked up, each by their address, with their
//! company's organization (from the index where the caller has one), its lists, Status and
//! best connection.

use affinity_api::transport::{MaybeSend, MaybeSync, Transport};

use crate::LensClient;
use std::collections::HashMap;

use crate::card::{Card, CardEntity, CardStatus, Phase, Query, QueryKind, ThreadPerson};
use crate::lookup::{lookup, person_by_email};
use crate::mail::{Participant, Seen};
use crate::page::PageHints;

/// Looks a thread's external participants up (the thread's card, `query.kind` `thread`):
///
/// - each participant's person by their address: one search each (answers are cached: the
///   thread opened again costs nothing);
/// - each company domain's organization, with its lists and Status: from `indexed` (the
///   index's answer for a domain, without a call; `None` when there is no index to ask),
///   else live; and for each organization found, its best connection, as a page view of it
///   costs.
///
/// Never fails: when every participant's search failed, the card says why.
pub async fn lookup_thread<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    thread_id: &str,
    people: &[Participant],
    indexed: impl Fn(&str) -> Option<Card>,
) -> Card {
    let query = Query { kind: QueryKind::Thread, value: thread_id.to_owned() };
    let domains = company_domains(people);
    let answers: Vec<Option<Card>> = domains.iter().map(|d| indexed(d)).collect();
    let persons = futures::future::join_all(people.iter().map(|p| person_by_email(client, &p.email)));
    let companies = futures::future::join_all(domains.iter().zip(answers).map(|(d, a)| company(client, d, a)));
    let (persons, companies) = futures::join!(persons, companies);
    if let Some(Err(e)) = persons.iter().find(|r| r.is_err())
        && persons.iter().all(Result::is_err)
    {
        return Card::from_error(query, e);
    }
    let persons = persons.into_iter().map(|p| p.ok().flatten()).collect();
    thread_card(query, people, persons, domains.into_iter().zip(companies).collect())
}

/// The company domains of a thread's participants, each once.
pub fn company_domains(people: &[Participant]) -> Vec<&str> {
    let mut domains: Vec<&str> = people.iter().filter_map(|p| p.company_domain.as_deref()).collect();
    domains.sort_unstable();
    domains.dedup();
    domains
}

/// A thread's card from what was found: each participant's person (`persons`, in the
/// participants' order) and the organization card of each company domain that has one
/// (`companies`; the best connection is its first). `matched` when anyone or any company is
/// in Affinity.
pub fn thread_card(
    query: Query,
    people: &[Participant],
    persons: Vec<Option<CardEntity>>,
    companies: Vec<(&str, Option<Card>)>,
) -> Card {
    let by_domain: HashMap<&str, Card> = companies.into_iter().filter_map(|(d, c)| Some((d, c?))).collect();
    let thread: Vec<ThreadPerson> = people
        .iter()
        .zip(persons)
        .map(|(p, person)| {
            let org = p.company_domain.as_deref().and_then(|d| by_domain.get(d));
            ThreadPerson {
                email: p.email.clone(),
                name: p.name.clone(),
                company_domain: p.company_domain.clone(),
                person,
                organization: org.and_then(|c| c.entity.clone()),
                lists: org.map(|c| c.lists.clone()).unwrap_or_default(),
                connection: org.and_then(|c| c.connections.first().cloned()),
            }
        })
        .collect();
    let known = thread.iter().any(|t| t.person.is_some() || t.organization.is_some());
    Card { thread, ..Card::new(query, if known { CardStatus::Matched } else { CardStatus::NotFound }) }
}

/// The card of a thread as the page showed it (`seen`): its external participants (not the
/// user, not the firm, as the account's context says) looked up by [`lookup_thread`].
pub async fn lookup_seen_thread<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    thread_id: &str,
    seen: &Seen,
    indexed: impl Fn(&str) -> Option<Card>,
) -> Card {
    match crate::lookup::firm(client).await {
        Ok(firm) => lookup_thread(client, thread_id, &seen.participants(&firm), indexed).await,
        Err(e) => Card::from_error(Query { kind: QueryKind::Thread, value: thread_id.to_owned() }, &e),
    }
}

/// The organization of a company domain, with its lists and best connection: none when the
/// index says the firm does not know it (no call), else a page view's look-up of it.
async fn company<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    domain: &str,
    indexed: Option<Card>,
) -> Option<Card> {
    if indexed.as_ref().is_some_and(|c| c.status != CardStatus::Matched) {
        return None;
    }
    let query = Query { kind: QueryKind::Domain, value: domain.to_owned() };
    let live = lookup(client, &query, &PageHints::default(), Phase::Pill, |_| {}).await;
    match live.status {
        CardStatus::Matched => Some(live),
        // Affinity could not say: what the index said, if anything.
        CardStatus::Error => indexed,
        _ => None,
    }
}
