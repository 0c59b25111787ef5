//! The lookup engine: from a [`Query`] to a [`Card`] in the fewest sequential rounds.
//!
//! For an organization (cold, with the concurrency cap allowing):
//!
//! 1. the domain search, with `whoami`, `/lists` and `/fields` alongside (these three
//!    are cached for long and cost nothing warm). The name is known: a partial card goes
//!    to `on_partial`.
//! 2. together: the organization (people, list entries, interactions, opportunities), its
//!    field values, its people found by their email domain with their interaction dates
//!    (names, and which are most recently in touch), and the team (colleagues by the firm's
//!    email domain, cached).
//! 3. together: relationship strengths for its most recently active people (at most
//!    [`MAX_PEOPLE`]), the Status histories of the lists it is on, and its opportunities.
//!
//! A warm lookup is answered by the client's cache and makes no request.

use std::collections::HashMap;

use futures::StreamExt;
use futures::future::join_all;

use crate::Error;
use crate::card::*;
use crate::client::Client;
use crate::endpoints::{self, DetailOptions, EntityRef, FieldsQuery, SearchQuery};
use crate::models::{
    Field, FieldValue, FieldValueData, List, Organization, Person, PersonType, Timestamp, ValueType, WhoAmI,
};
use crate::page::{CompanyHint, PageHints};
use crate::transport::{MaybeSend, MaybeSync, Transport};

/// How many pages of search results to read before giving up on an exact match.
const MAX_SEARCH_PAGES: usize = 3;
/// Relationship strengths are read for at most this many of an organization's people,
/// the most recently in touch first.
pub const MAX_PEOPLE: usize = 50;
/// Connections shown on a card.
const TOP_CONNECTIONS: usize = 5;

/// Looks `query` up and returns its card. Never fails: errors become a card with
/// `status: error`, so that every caller can show something.
pub async fn lookup_card<T: Transport + MaybeSend + MaybeSync + 'static>(client: &Client<T>, query: &Query) -> Card {
    lookup_card_with(client, query, |_| {}).await
}

/// Like [`lookup_card`], handing a partial card (identity only) to `on_partial` as soon as
/// the first round has found the entity, so that a UI can show the name at once.
pub async fn lookup_card_with<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    query: &Query,
    on_partial: impl FnMut(&Card),
) -> Card {
    lookup_card_hinted(client, query, &PageHints::default(), on_partial).await
}

/// Like [`lookup_card_with`], with what the page showed: a LinkedIn profile's name is
/// searched instead of its URL's slug, and several persons of that name are told apart
/// by their current company (the hint, with its LinkedIn slug, or the headline's "… at
/// Company"; see [`CompanyHint`]) matched against their organizations and their email
/// domains. The card says what the match rests on (`matched_on`) and who the profile shows
/// (`page_person`).
pub async fn lookup_card_hinted<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    query: &Query,
    hints: &PageHints,
    mut on_partial: impl FnMut(&Card),
) -> Card {
    let (client, observation) = client.observed();
    let mut card = match try_lookup(&client, query, hints, &mut on_partial).await {
        Ok(card) => card,
        Err(e) => Card::from_error(query.clone(), &e),
    };
    // Affinity could not be reached and the cache stood in: say so, and as of when.
    if let Some(ms) = observation.stale_since_ms() {
        card.stale = true;
        card.fetched_at = crate::card::iso_from_ms(ms);
    }
    card
}

/// What every lookup needs and the cache keeps for long.
struct Context {
    whoami: Option<WhoAmI>,
    lists: Vec<List>,
    fields: Vec<Field>,
}

async fn context<T: Transport + MaybeSend + MaybeSync + 'static>(client: &Client<T>) -> Result<Context, Error> {
    let (whoami, lists, fields) = futures::join!(
        client.whoami(),
        client.execute(&endpoints::lists()),
        client.execute(&endpoints::fields(&FieldsQuery::default()))
    );
    Ok(Context { whoami: whoami.ok(), lists: lists?, fields: fields? })
}

async fn try_lookup<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    query: &Query,
    hints: &PageHints,
    on_partial: &mut impl FnMut(&Card),
) -> Result<Card, Error> {
    match query.kind {
        QueryKind::Domain => {
            let (found, ctx, people) = futures::join!(
                organizations_with_domain(client, &query.value),
                context(client),
                people_at(client, Some(&query.value))
            );
            let (found, ctx) = (found?, ctx?);
            match found.as_slice() {
                [] => Ok(Card::new(query.clone(), CardStatus::NotFound)),
                [one] => {
                    let partial = Card {
                        entity: Some(org_entity(one, &ctx)),
                        matched_on: Some(MatchBasis::Domain),
                        ..Card::new(query.clone(), CardStatus::Matched)
                    };
                    on_partial(&partial);
                    organization_card(client, partial, one.id, &ctx, people).await
                }
                many => Ok(Card {
                    candidates: many.iter().map(|o| org_entity(o, &ctx)).collect(),
                    ..Card::new(query.clone(), CardStatus::Ambiguous)
                }),
            }
        }
        QueryKind::OrganizationId => {
            let id = parse_id(&query.value)?;
            let ctx = context(client).await?;
            let org = match client.get_organization(id).await {
                Ok(org) => org,
                Err(Error::NotFound { .. }) => return Ok(Card::new(query.clone(), CardStatus::NotFound)),
                Err(e) => return Err(e),
            };
            let partial = Card {
                entity: Some(org_entity(&org, &ctx)),
                matched_on: Some(MatchBasis::Id),
                ..Card::new(query.clone(), CardStatus::Matched)
            };
            on_partial(&partial);
            let domain = org.all_domains().into_iter().next();
            let people = people_at(client, domain.as_deref()).await;
            organization_card(client, partial, id, &ctx, people).await
        }
        QueryKind::Email => {
            let (found, ctx) = futures::join!(
                client.execute(&endpoints::search_persons(&SearchQuery::term(&query.value))),
                context(client)
            );
            let (found, ctx) = (found?, ctx?);
            let exact: Vec<Person> = found
                .items
                .into_iter()
                .filter(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(&query.value)))
                .collect();
            person_result(client, query, exact, &ctx, on_partial, MatchBasis::Email, None).await
        }
        QueryKind::PersonId => {
            let id = parse_id(&query.value)?;
            let ctx = context(client).await?;
            match client.execute(&endpoints::person(id, DetailOptions::default())).await {
                Ok(p) => person_result(client, query, vec![p], &ctx, on_partial, MatchBasis::Id, None).await,
                Err(Error::NotFound { .. }) => Ok(Card::new(query.clone(), CardStatus::NotFound)),
                Err(e) => Err(e),
            }
        }
        QueryKind::LinkedinPerson | QueryKind::LinkedinCompany => {
            // v1 has no LinkedIn field: the name in the URL's slug is searched, and only a
            // single match is taken as the entity.
            let name = hints
                .name
                .as_deref()
                .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| linkedin_name(&query.value));
            let ctx = context(client).await?;
            if query.kind == QueryKind::LinkedinCompany {
                let page = client.execute(&endpoints::search_organizations(&SearchQuery::term(&name))).await?;
                let exact: Vec<&Organization> =
                    page.items.iter().filter(|o| o.name.eq_ignore_ascii_case(&name)).collect();
                return match exact.as_slice() {
                    [] => Ok(Card::new(query.clone(), CardStatus::NotFound)),
                    [one] => {
                        let partial = Card {
                            entity: Some(org_entity(one, &ctx)),
                            matched_on: Some(MatchBasis::NameOnly),
                            ..Card::new(query.clone(), CardStatus::Matched)
                        };
                        on_partial(&partial);
                        let domain = one.all_domains().into_iter().next();
                        let people = people_at(client, domain.as_deref()).await;
                        organization_card(client, partial, one.id, &ctx, people).await
                    }
                    many => Ok(Card {
                        candidates: many.iter().map(|o| org_entity(o, &ctx)).collect(),
                        ..Card::new(query.clone(), CardStatus::Ambiguous)
                    }),
                };
            }
            let search = SearchQuery { with_current_organizations: true, ..SearchQuery::term(&name) };
            let page = client.execute(&endpoints::search_persons(&search)).await?;
            let exact: Vec<Person> = page.items.into_iter().filter(|p| p.name().eq_ignore_ascii_case(&name)).collect();
            let employer = hints.employer();
            let mut page_person = PagePerson {
                name: name.clone(),
                company: employer.as_ref().map(|e| e.name.clone()),
                organization: None,
            };
            // The company the page names picks one of several namesakes (or vouches for the
            // only one).
            let (found, basis) = match &employer {
                Some(company) if !exact.is_empty() => {
                    let at = at_company(client, &exact, company).await;
                    match at.len() {
                        0 => (exact, MatchBasis::NameOnly),
                        _ => (at, MatchBasis::NameAndCompany),
                    }
                }
                _ => (exact, MatchBasis::NameOnly),
            };
            if found.is_empty()
                && let Some(company) = &employer
            {
                page_person.organization = organization_named(client, company).await?.map(|o| org_entity(&o, &ctx));
            }
            person_result(client, query, found, &ctx, on_partial, basis, Some(page_person)).await
        }
    }
}

/// The candidates who work at `company`: by their current organizations (name, domains
/// or LinkedIn slug, see [`CompanyHint::is_organization`]), or by a work email at a domain
/// that spells the company's name.
async fn at_company<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    candidates: &[Person],
    company: &CompanyHint,
) -> Vec<Person> {
    let checks = candidates.iter().map(|p| async move {
        let by_email = p.emails.iter().filter_map(|e| e.rsplit_once('@')).any(|(_, d)| company.owns_email_domain(d));
        if by_email {
            return true;
        }
        let org_ids = p.current_organization_ids.clone().or(p.organization_ids.clone()).unwrap_or_default();
        let orgs = join_all(org_ids.iter().map(|id| client.get_organization(*id))).await;
        orgs.into_iter().filter_map(Result::ok).any(|o| company.is_organization(&o.name, &o.all_domains()))
    });
    let works_there = join_all(checks).await;
    candidates.iter().zip(works_there).filter(|(_, yes)| *yes).map(|(p, _)| p.clone()).collect()
}

/// The one organization that is `company` (searched by its name), if there is exactly one.
async fn organization_named<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    company: &CompanyHint,
) -> Result<Option<Organization>, Error> {
    let page = client.execute(&endpoints::search_organizations(&SearchQuery::term(company.core_name()))).await?;
    let mut named = page.items.into_iter().filter(|o| company.is_organization(&o.name, &o.all_domains()));
    Ok(match (named.next(), named.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    })
}

fn parse_id(value: &str) -> Result<i64, Error> {
    value.trim().parse().map_err(|_| Error::Invalid { status: 0, message: format!("{value:?} is not an id") })
}

/// "jane-doe-123" → "jane doe"; trailing numeric or hash-like parts are dropped.
pub fn linkedin_name(url: &str) -> String {
    let slug = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> =
        slug.split('-').filter(|p| !p.is_empty() && !p.chars().any(|c| c.is_ascii_digit())).collect();
    parts.join(" ")
}

async fn person_result<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    query: &Query,
    found: Vec<Person>,
    ctx: &Context,
    on_partial: &mut impl FnMut(&Card),
    basis: MatchBasis,
    page_person: Option<PagePerson>,
) -> Result<Card, Error> {
    let card = |status| Card { page_person: page_person.clone(), ..Card::new(query.clone(), status) };
    match found.as_slice() {
        [] => Ok(card(CardStatus::NotFound)),
        [one] => {
            let partial =
                Card { entity: Some(person_entity(one, ctx)), matched_on: Some(basis), ..card(CardStatus::Matched) };
            on_partial(&partial);
            person_card(client, partial, one.id, ctx).await
        }
        many => {
            Ok(Card { candidates: many.iter().map(|p| person_entity(p, ctx)).collect(), ..card(CardStatus::Ambiguous) })
        }
    }
}

/// Every organization whose `domain` or `domains` is exactly `domain`. The search matches
/// parts of names and domains, so its results hold near-misses and may run over pages.
async fn organizations_with_domain<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    domain: &str,
) -> Result<Vec<Organization>, Error> {
    let pages = client.pages(endpoints::search_organizations(&SearchQuery::term(domain))).take(MAX_SEARCH_PAGES);
    let mut pages = std::pin::pin!(pages);
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        found.extend(page?.items.into_iter().filter(|o| has_domain(o, domain)));
    }
    Ok(found)
}

/// Whether `domain` is exactly one of the organization's domains.
pub fn has_domain(org: &Organization, domain: &str) -> bool {
    org.all_domains().iter().any(|d| d.eq_ignore_ascii_case(domain))
}

fn app_url(ctx: &Context, path: &str) -> Option<String> {
    let sub = &ctx.whoami.as_ref()?.tenant.subdomain;
    (!sub.is_empty()).then(|| format!("https://{sub}.affinity.co/{path}"))
}

fn org_entity(org: &Organization, ctx: &Context) -> CardEntity {
    CardEntity {
        kind: EntityKind::Organization,
        id: org.id,
        name: org.name.clone(),
        domains: org.all_domains(),
        emails: Vec::new(),
        affinity_url: app_url(ctx, &format!("companies/{}", org.id)),
    }
}

fn person_entity(p: &Person, ctx: &Context) -> CardEntity {
    CardEntity {
        kind: EntityKind::Person,
        id: p.id,
        name: p.name(),
        domains: Vec::new(),
        emails: p.emails.clone(),
        affinity_url: app_url(ctx, &format!("persons/{}", p.id)),
    }
}

fn person_ref(p: &Person) -> PersonRef {
    PersonRef { id: p.id, name: p.name(), email: p.email().map(str::to_owned) }
}

/// The firm's colleagues, found by the key user's email domain (cached like any GET).
async fn team<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    ctx: &Context,
) -> HashMap<i64, Person> {
    let Some(domain) = ctx
        .whoami
        .as_ref()
        .and_then(|w| w.user.email.as_deref())
        .and_then(|e| e.split_once('@'))
        .map(|(_, d)| d.to_owned())
    else {
        return HashMap::new();
    };
    let page = client.execute(&endpoints::search_persons(&SearchQuery::term(domain))).await.unwrap_or_default();
    page.items.into_iter().filter(|p| p.person_type == PersonType::INTERNAL).map(|p| (p.id, p)).collect()
}

fn latest(p: &Person) -> Option<Timestamp> {
    p.interaction_dates.as_ref().and_then(|d| d.last_interaction_date.or(d.last_email_date).or(d.last_event_date))
}

/// The people whose email is at `domain`: all of them, and those with interactions (with
/// their dates). Persons without interactions have no relationship strengths.
#[derive(Default)]
struct PeopleAt {
    all: Vec<Person>,
    active: Vec<Person>,
}

async fn people_at<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    domain: Option<&str>,
) -> PeopleAt {
    let Some(domain) = domain else { return PeopleAt::default() };
    let at_domain =
        |p: &Person| p.emails.iter().any(|e| e.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)));
    let (all, active) = futures::join!(
        client.execute(&endpoints::search_persons(&SearchQuery::term(domain))),
        client.execute(&endpoints::search_persons(&SearchQuery {
            with_interaction_dates: true,
            ..SearchQuery::term(domain)
        }))
    );
    PeopleAt {
        all: all.map(|p| p.items).unwrap_or_default().into_iter().filter(at_domain).collect(),
        active: active.map(|p| p.items).unwrap_or_default().into_iter().filter(at_domain).collect(),
    }
}

async fn organization_card<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    mut card: Card,
    id: i64,
    ctx: &Context,
    people: PeopleAt,
) -> Result<Card, Error> {
    // Strengths for the people at the domain who have interactions start at once, most
    // recently in touch first, while the organization itself is read.
    let mut active: Vec<&Person> = people.active.iter().collect();
    active.sort_by_key(|p| std::cmp::Reverse(latest(p)));
    active.truncate(MAX_PEOPLE);
    let speculative_ids: Vec<i64> = active.iter().map(|p| p.id).collect();
    let speculative =
        join_all(speculative_ids.iter().map(|pid| client.execute(&endpoints::relationship_strengths(*pid, None))));

    let rest = async {
        // The organization, its field values and the team.
        let detail_options =
            DetailOptions { with_interaction_dates: true, with_interaction_persons: true, with_opportunities: true };
        let (org, values, team) = futures::join!(
            client.execute(&endpoints::organization(id, detail_options)),
            client.execute(&endpoints::field_values(EntityRef::Organization(id))),
            team(client, ctx)
        );
        let (org, values) = (org?, values?);
        // Then, with the list entries and people known: Status histories, opportunities,
        // and strengths for members the domain search could not vouch for (no email at
        // the domain), up to the cap.
        let members: Vec<i64> = org.person_ids.clone().unwrap_or_default();
        let seen: Vec<i64> = people.all.iter().map(|p| p.id).collect();
        let room = MAX_PEOPLE.saturating_sub(speculative_ids.iter().filter(|id| members.contains(id)).count());
        let unknown: Vec<i64> = members.iter().copied().filter(|m| !seen.contains(m)).take(room).collect();
        let entries = org.list_entries.clone().unwrap_or_default();
        let status_fields: Vec<&Field> = ctx
            .fields
            .iter()
            .filter(|f| f.name == "Status" && entries.iter().any(|e| Some(e.list_id) == f.list_id))
            .collect();
        let changes =
            join_all(status_fields.iter().map(|f| {
                client.execute(&endpoints::field_value_changes(f.id, Some(EntityRef::Organization(id)), None))
            }));
        let opportunity_ids = org.opportunity_ids.clone().unwrap_or_default();
        let opportunities = join_all(opportunity_ids.iter().take(10).map(|oid| {
            futures::future::join(
                client.execute(&endpoints::opportunity(*oid)),
                client.execute(&endpoints::field_values(EntityRef::Opportunity(*oid))),
            )
        }));
        let more = join_all(unknown.iter().map(|pid| client.execute(&endpoints::relationship_strengths(*pid, None))));
        let (changes, opportunities, more) = futures::join!(changes, opportunities, more);
        Ok::<_, Error>((org, values, team, unknown, changes, opportunities, more))
    };
    let (speculative, rest) = futures::join!(speculative, rest);
    let (org, values, team, unknown, changes, opportunities, more) = rest?;
    card.entity = Some(org_entity(&org, ctx));
    let members: Vec<i64> = org.person_ids.clone().unwrap_or_default();
    let known: HashMap<i64, &Person> = people.all.iter().chain(people.active.iter()).map(|p| (p.id, p)).collect();
    let ranked: Vec<(i64, Result<Vec<crate::models::RelationshipStrength>, Error>)> = speculative_ids
        .into_iter()
        .zip(speculative)
        .filter(|(id, _)| members.contains(id))
        .chain(unknown.into_iter().zip(more))
        .collect();
    card.people_total = Some(members.len());
    // Members at the domain without interactions have no strengths to read: they count
    // as checked.
    let active_ids: Vec<i64> = people.active.iter().map(|p| p.id).collect();
    let idle = members
        .iter()
        .filter(|m| {
            people.all.iter().any(|p| p.id == **m) && !active_ids.contains(m) && !ranked.iter().any(|(id, _)| id == *m)
        })
        .count();
    card.people_checked = Some((ranked.len() + idle).min(members.len()));

    // Connections.
    let mut connections = Vec::new();
    for (pid, result) in ranked {
        for s in result.unwrap_or_default() {
            let Some(colleague) = team.get(&s.internal_id) else { continue };
            let contact = match known.get(&pid) {
                Some(p) => person_ref(p),
                None => PersonRef { id: pid, name: String::new(), email: None },
            };
            connections.push(Connection { colleague: person_ref(colleague), contact, strength: s.strength });
        }
    }
    connections.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    connections.truncate(TOP_CONNECTIONS);
    // People without a matching email (no domain, another domain) are named one by one.
    for c in connections.iter_mut().filter(|c| c.contact.name.is_empty()) {
        if let Ok(p) = client.execute(&endpoints::person(c.contact.id, DetailOptions::default())).await {
            c.contact = person_ref(&p);
        }
    }
    card.connections = connections;

    // Lists.
    let history: Vec<crate::models::FieldValueChange> =
        changes.into_iter().filter_map(Result::ok).flat_map(|p| p.items).collect();
    card.lists = org
        .list_entries
        .iter()
        .flatten()
        .map(|e| list_item(e.id, e.list_id, e.created_at, ctx, &values, &history, &team))
        .collect();

    // Activity and opportunities.
    if let Some(i) = &org.interactions {
        card.activity = activity(i, &team);
    }
    card.opportunities = opportunities
        .into_iter()
        .filter_map(|(opp, values)| {
            let opp = opp.ok()?;
            let values = values.unwrap_or_default();
            let list_id = opp.list_entries.first().map(|e| e.list_id);
            let status = values.iter().find_map(|v| {
                let field = ctx.fields.iter().find(|f| f.id == v.field_id && f.name == "Status")?;
                match v.data(Some(field.value_type)) {
                    FieldValueData::RankedDropdown(o) => Some(o.text),
                    FieldValueData::Dropdown(t) | FieldValueData::Text(t) => Some(t),
                    _ => None,
                }
            });
            Some(CardOpportunity {
                id: opp.id,
                name: opp.name,
                list_name: list_id.and_then(|l| ctx.lists.iter().find(|x| x.id == l)).map(|l| l.name.clone()),
                status,
            })
        })
        .collect();
    Ok(card)
}

/// The card's activity from `interactions`, naming the colleagues involved.
fn activity(i: &crate::models::Interactions, team: &HashMap<i64, Person>) -> Activity {
    let item = |r: &Option<crate::models::InteractionRef>| {
        r.as_ref().and_then(|r| {
            r.date.map(|d| ActivityItem {
                date: d.to_iso(),
                people: r.person_ids.iter().filter_map(|id| team.get(id)).map(person_ref).collect(),
            })
        })
    };
    Activity {
        first_email: item(&i.first_email),
        last_email: item(&i.last_email),
        last_event: item(&i.last_event),
        next_event: item(&i.next_event),
        last_interaction: item(&i.last_interaction),
    }
}

/// One list entry on the card: list name, Status (and since when), Owners, Amount.
fn list_item(
    entry_id: i64,
    list_id: i64,
    added: Option<Timestamp>,
    ctx: &Context,
    values: &[FieldValue],
    history: &[crate::models::FieldValueChange],
    team: &HashMap<i64, Person>,
) -> CardListEntry {
    let field_named = |name: &str| ctx.fields.iter().find(|f| f.list_id == Some(list_id) && f.name == name);
    let of_entry = |field: Option<&Field>| -> Vec<&FieldValue> {
        field.map_or_else(Vec::new, |f| {
            values.iter().filter(|v| v.field_id == f.id && v.list_entry_id == Some(entry_id)).collect()
        })
    };
    let status_field = field_named("Status");
    let status_value = of_entry(status_field).into_iter().next();
    let status = status_value.and_then(|v| match v.data(status_field.map(|f| f.value_type)) {
        FieldValueData::RankedDropdown(o) => Some(StatusValue { text: o.text, color: o.color.unwrap_or(0) }),
        FieldValueData::Dropdown(t) => Some(StatusValue { text: t, color: 0 }),
        _ => None,
    });
    let status_since = status_field.and_then(|f| {
        history
            .iter()
            .filter(|c| c.field_id == f.id && c.list_entry_id == Some(entry_id))
            .filter_map(|c| c.changed_at)
            .max()
            .or_else(|| status_value.and_then(|v| v.updated_at.or(v.created_at)))
    });
    let owners_field = field_named("Owners");
    let owners = of_entry(owners_field)
        .into_iter()
        .filter_map(|v| match v.data(Some(ValueType::PERSON)) {
            FieldValueData::Person(id) => Some(team.get(&id).map(person_ref).unwrap_or(PersonRef {
                id,
                name: format!("Person {id}"),
                email: None,
            })),
            _ => None,
        })
        .collect();
    let amount = of_entry(field_named("Amount")).into_iter().find_map(|v| match v.data(Some(ValueType::NUMBER)) {
        FieldValueData::Number(n) => Some(n),
        FieldValueData::Other(serde_json::Value::Number(n)) => n.as_f64(),
        _ => None,
    });
    CardListEntry {
        list_id,
        list_name: ctx
            .lists
            .iter()
            .find(|l| l.id == list_id)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("List {list_id}")),
        entry_id,
        added_at: added.map(|t| t.to_iso()),
        status,
        status_since: status_since.map(|t| t.to_iso()),
        owners,
        amount,
    }
}

async fn person_card<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    mut card: Card,
    id: i64,
    ctx: &Context,
) -> Result<Card, Error> {
    let options =
        DetailOptions { with_interaction_dates: true, with_interaction_persons: true, with_opportunities: true };
    let (person, values, strengths, team) = futures::join!(
        client.execute(&endpoints::person(id, options)),
        client.execute(&endpoints::field_values(EntityRef::Person(id))),
        client.execute(&endpoints::relationship_strengths(id, None)),
        team(client, ctx)
    );
    let (person, values) = (person?, values?);
    card.entity = Some(person_entity(&person, ctx));
    let mut connections: Vec<Connection> = strengths
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| {
            let colleague = team.get(&s.internal_id)?;
            Some(Connection { colleague: person_ref(colleague), contact: person_ref(&person), strength: s.strength })
        })
        .collect();
    connections.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    connections.truncate(TOP_CONNECTIONS);
    card.connections = connections;
    let entries = person.list_entries.clone().unwrap_or_default();
    card.lists = entries.iter().map(|e| list_item(e.id, e.list_id, e.created_at, ctx, &values, &[], &team)).collect();
    if let Some(i) = &person.interactions {
        card.activity = activity(i, &team);
    }
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: i64, domain: Option<&str>, domains: &[&str]) -> Organization {
        Organization {
            id,
            name: format!("Org {id}"),
            domain: domain.map(str::to_owned),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn exact_domain_matching_ignores_near_misses() {
        let cases = [
            (org(1, Some("acme.com"), &[]), "acme.com", true),
            (org(2, None, &["acme.io", "acme.com"]), "acme.com", true),
            (org(3, Some("acme.com.au"), &[]), "acme.com", false),
            (org(4, Some("notacme.com"), &[]), "acme.com", false),
            (org(5, None, &[]), "acme.com", false),
            (org(6, Some("ACME.com"), &[]), "acme.com", true),
        ];
        for (o, domain, want) in cases {
            assert_eq!(has_domain(&o, domain), want, "org {} vs {domain}", o.id);
        }
    }

    #[test]
    fn linkedin_slugs_become_names() {
        let cases = [
            ("https://www.linkedin.com/in/jane-doe-123", "jane doe"),
            ("https://www.linkedin.com/in/jane-doe", "jane doe"),
            ("https://www.linkedin.com/in/jdoe-a1b2c3", "jdoe"),
            ("https://www.linkedin.com/company/acme", "acme"),
        ];
        for (url, want) in cases {
            assert_eq!(linkedin_name(url), want, "{url}");
        }
    }
}
