//! The lookup engine: from a [`Query`] to a [`Card`] in the fewest Affinity calls, then the
//! fewest sequential rounds.
//!
//! Affinity's monthly budget is shared by the whole firm, so a page view costs only what the
//! pill shows ([`Phase::Pill`]): the match, the best connection, and the list entries with
//! their Status. The rest of the card ([`Phase::Card`]) is asked for when the card is
//! opened; it reuses every answer of the page view (the client's cache), so no call is
//! made twice for one card.
//!
//! For an organization, with a key that may use API v2 (checked per key, see
//! [`crate::account`]):
//!
//! 1. the domain search (v1: it matches every domain of an organization; v2's search
//!    matches the primary domain only) — the name is known: `on_partial`;
//! 2. together: `GET /v2/companies/{id}/relationships` (strongest first, whatever the
//!    headcount) and `GET /v2/companies/{id}/list-entries` (every list row with Status,
//!    Owners and Amount). The pill is complete: 3 calls.
//! 3. the opened card adds the organization (activity, people, opportunities) and its
//!    field values (time in status), then its opportunities.
//!
//! With a v1-only key, the page view reads relationship strengths only for the
//! [`PILL_PEOPLE`] people most recently in touch (v1 has one call per person, and people
//! without interactions have none), with the organization and its field values for the
//! lists: at most 8 calls. The opened card reads the others, most recently in touch first,
//! up to [`MAX_PEOPLE`], and stops early when what is found cannot be beaten (strength 1.0
//! is the maximum). v1 gives no other bound on a strength, so the pill's connection is the
//! best of those read, a lower bound (`people_checked` < `people_total`, and the pill says
//! "at least"), and the card's (the same or stronger) replaces it when opened.
//!
//! The context every card needs (whoami, lists, fields, the team) is remembered for hours
//! by the client's [`crate::account::Account`] (persisted by the extension and the CLI),
//! so a page view does not pay for it.

use std::collections::HashMap;
use std::future::Future;

use futures::StreamExt;
use futures::future::join_all;
use serde::de::DeserializeOwned;

use affinity_api::clock::unix_ms;
use affinity_api::endpoints::{self, DetailOptions, Endpoint, EntityRef, FieldsQuery, SearchQuery};
use affinity_api::models::{
    Field, FieldValue, FieldValueData, List, ListEntryRef, Organization, Person, PersonType, RelationshipStrength,
    Timestamp, ValueType, WhoAmI,
};
use affinity_api::transport::{MaybeSend, MaybeSync, Transport};
use affinity_api::{Error, decode, v2};

use crate::account::{Feature, LensClient};
use crate::card::*;
use crate::fields::{self, Names};
use crate::firmographics;
use crate::notes::recent_notes;
use crate::page::{CompanyHint, PageHints};

/// How many pages of search results to read before giving up on an exact match.
const MAX_SEARCH_PAGES: usize = 3;
/// Relationship strengths are read for at most this many of an organization's people,
/// the most recently in touch first (v1).
pub const MAX_PEOPLE: usize = 50;
/// v1, a page view: strengths of this many people, the most recently in touch.
pub const PILL_PEOPLE: usize = 4;
/// Connections shown on a card.
const TOP_CONNECTIONS: usize = 5;
/// Relationships asked of v2 (strongest first): enough for the top connections.
const RELATIONSHIPS_PAGE: u32 = 20;
/// Opportunities shown on a card, the most recent first.
const MAX_OPPORTUNITIES: usize = 10;
/// Opportunities whose Status an opened card reads: one call each (v1 and v2 alike), so the
/// most recent one only, and an opened card costs at most 8 calls with API v2 however many
/// opportunities the company has: the page view's 3 (search, relationships, list entries),
/// then the organization, its field values, its notes, the opportunities' names and this one
/// Status. The firmographics come with the list entries; a company whose entries do not
/// carry them (it is on no list) asks for them with the company, and its card then reads no
/// opportunity's Status ([`statuses_to_read`]).
pub const OPPORTUNITY_STATUSES: usize = 1;
/// The highest strength Affinity gives: nobody can beat a connection this strong.
const MAX_STRENGTH: f64 = 1.0;

/// Looks `query` up and returns its whole card. Never fails: errors become a card with
/// `status: error`, so that every caller can show something.
pub async fn lookup_card<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    query: &Query,
) -> Card {
    lookup_card_with(client, query, |_| {}).await
}

/// Like [`lookup_card`], handing a partial card (identity only) to `on_partial` as soon as
/// the first round has found the entity, so that a UI can show the name at once.
pub async fn lookup_card_with<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
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
    client: &LensClient<T>,
    query: &Query,
    hints: &PageHints,
    on_partial: impl FnMut(&Card),
) -> Card {
    lookup(client, query, hints, Phase::Card, on_partial).await
}

/// Looks `query` up for `phase`: [`Phase::Pill`] for a page view (what the pill shows, for
/// the fewest calls), [`Phase::Card`] for the whole card (after a pill of the same query it
/// costs only what the pill did not ask). Counted in the account's usage.
pub async fn lookup<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    query: &Query,
    hints: &PageHints,
    phase: Phase,
    mut on_partial: impl FnMut(&Card),
) -> Card {
    let key = format!("{:?}:{}", query.kind, query.value);
    client.account().count_lookup(&key, phase == Phase::Pill, unix_ms());
    let (client, observation) = client.observed();
    // Boxed: the look-up's future is large (many requests in flight at once).
    let mut card = match Box::pin(try_lookup(&client, query, hints, phase, &mut on_partial)).await {
        Ok(card) => card,
        Err(e) => Card::from_error(query.clone(), &e),
    };
    card.phase = phase;
    // Affinity could not be reached and the cache stood in: say so, and as of when.
    if let Some(ms) = observation.stale_since_ms() {
        card.stale = true;
        card.fetched_at = crate::card::iso_from_ms(ms);
    }
    card
}

// ---- the context, remembered by the account ------------------------------------------------

/// What every card needs: who the key is (for links into Affinity) and the team (to tell
/// colleagues from contacts).
struct Context {
    whoami: Option<WhoAmI>,
    team: HashMap<i64, PersonRef>,
    /// Whether the key may write (the card then offers its controls).
    writes: bool,
}

/// The lists and fields (v1: list names, which field is Status, Owners, Amount).
#[derive(Default)]
struct Schema {
    lists: Vec<List>,
    fields: Vec<Field>,
}

/// A context answer from the account's memory (unless a refresh or a write came since it
/// was kept: the client's `fresh_after` mark), else from Affinity (then remembered, as it
/// came).
async fn remembered<T, R>(client: &LensClient<T>, key: &str, endpoint: Endpoint<R>) -> Result<R, Error>
where
    T: Transport + MaybeSend + MaybeSync + 'static,
    R: DeserializeOwned,
{
    if let Some(body) = client.account().context(key, unix_ms(), client.fresh_after_ms())
        && let Ok(value) = decode(&body)
    {
        return Ok(value);
    }
    fetch_context(client, key, endpoint).await
}

/// Asks Affinity for a context answer, and remembers its body.
async fn fetch_context<T, R>(client: &LensClient<T>, key: &str, endpoint: Endpoint<R>) -> Result<R, Error>
where
    T: Transport + MaybeSend + MaybeSync + 'static,
    R: DeserializeOwned,
{
    let body = client.execute(&endpoint.returning::<serde_json::Value>()).await?.to_string();
    let value = decode(&body)?;
    client.account().keep_context(key, body, unix_ms());
    Ok(value)
}

/// Who the key is, and whether it may write: `GET /v2/auth/whoami` where the key may (a
/// grant whose scopes hold `api.read` and not `api` only reads), else v1's (which does not
/// say). Remembered with the context. A key whose write was refused lately (403,
/// [`Feature::Writes`]) does not write either.
async fn whoami<T: Transport + MaybeSend + MaybeSync + 'static>(client: &LensClient<T>) -> (Option<WhoAmI>, bool) {
    let account = client.account();
    let refused = !account.may_try(Feature::Writes, unix_ms());
    let v2 = via_v2(client, Feature::Whoami, remembered(client, "/v2/auth/whoami", v2::endpoints::whoami())).await;
    let (who, reads_only) = match v2 {
        Some(Ok(w)) => {
            let scopes = w.grant.as_ref().map(|g| g.scopes.clone()).unwrap_or_default();
            let reads_only = scopes.iter().any(|s| s == "api.read") && !scopes.iter().any(|s| s == "api");
            (Some(v1_whoami(w)), reads_only)
        }
        Some(Err(_)) => (None, false),
        None => (remembered(client, "/auth/whoami", endpoints::whoami()).await.ok(), false),
    };
    (who, !refused && !reads_only)
}

/// v2's whoami in v1's shape (what the card uses of it: the firm's subdomain, the user).
fn v1_whoami(w: v2::WhoAmI) -> WhoAmI {
    use affinity_api::models::{Grant, Tenant, WhoAmIUser};
    WhoAmI {
        tenant: Tenant { id: w.tenant.id, name: w.tenant.name, subdomain: w.tenant.subdomain },
        user: WhoAmIUser {
            id: w.user.id,
            first_name: w.user.first_name,
            last_name: w.user.last_name.unwrap_or_default(),
            email: w.user.email_address,
        },
        grant: w.grant.map(|g| Grant {
            kind: Some(g.grant_type),
            scope: Some(g.scopes.join(" ")),
            created_at: g.created_at,
        }),
    }
}

/// Who the key is and the team: `GET /v2/users` (beside whoami) when the key may, else the
/// persons of the key user's email domain who are internal. Both remembered.
async fn context<T: Transport + MaybeSend + MaybeSync + 'static>(client: &LensClient<T>) -> Result<Context, Error> {
    let account = client.account();
    let remembered_team: Option<Vec<PersonRef>> =
        account.context("team", unix_ms(), client.fresh_after_ms()).and_then(|body| decode(&body).ok());
    if let Some(team) = remembered_team {
        let (who, writes) = whoami(client).await;
        return Ok(Context { whoami: who, team: team.into_iter().map(|p| (p.id, p)).collect(), writes });
    }
    let users = async {
        let users = client.v2_items(v2::endpoints::users(), 20);
        via_v2(client, Feature::Users, users).await
    };
    let ((who, writes), users) = futures::join!(whoami(client), users);
    let team: Result<Vec<PersonRef>, Error> = match users {
        Some(users) => users.map(|users| {
            users.into_iter().map(|u| PersonRef { id: u.id, name: u.name(), email: u.primary_email_address }).collect()
        }),
        None => v1_team(client, who.as_ref()).await,
    };
    if let Ok(team) = &team
        && let Ok(body) = serde_json::to_string(team)
    {
        account.keep_context("team", body, unix_ms());
    }
    // Without the team no connection can be told: an error (a rate limit, an outage) is the
    // card's, as any answer it needs.
    Ok(Context { whoami: who, team: team?.into_iter().map(|p| (p.id, p)).collect(), writes })
}

/// v1: the internal persons of the key user's email domain.
async fn v1_team<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    who: Option<&WhoAmI>,
) -> Result<Vec<PersonRef>, Error> {
    let Some(domain) = who.and_then(|w| w.user.email.as_deref()).and_then(|e| e.split_once('@')).map(|(_, d)| d) else {
        return Ok(Vec::new());
    };
    let page = client.execute(&endpoints::search_persons(&SearchQuery::term(domain))).await?;
    Ok(page.items.iter().filter(|p| p.person_type == PersonType::INTERNAL).map(person_ref).collect())
}

async fn schema<T: Transport + MaybeSend + MaybeSync + 'static>(client: &LensClient<T>) -> Result<Schema, Error> {
    let (lists, fields) = futures::join!(lists(client), fields(client));
    Ok(Schema { lists: lists?, fields: fields? })
}

/// The firm's team (the people a card's person fields are picked from), by name: the
/// account's remembered context, so warm this costs nothing.
pub async fn team<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
) -> Result<Vec<PersonRef>, Error> {
    let mut team: Vec<PersonRef> = context(client).await?.team.into_values().collect();
    team.sort_by_key(|a| (a.name.to_lowercase(), a.id));
    Ok(team)
}

/// The firm's lists and fields, remembered with the account's context (the card's list
/// picker asks for them too).
pub async fn lists_and_fields<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
) -> Result<(Vec<List>, Vec<Field>), Error> {
    let s = schema(client).await?;
    Ok((s.lists, s.fields))
}

async fn lists<T: Transport + MaybeSend + MaybeSync + 'static>(client: &LensClient<T>) -> Result<Vec<List>, Error> {
    remembered(client, "/lists", endpoints::lists()).await
}

async fn fields<T: Transport + MaybeSend + MaybeSync + 'static>(client: &LensClient<T>) -> Result<Vec<Field>, Error> {
    remembered(client, "/fields", endpoints::fields(&FieldsQuery::default())).await
}

/// The schema, asked again (not from memory) when an entry is on a list it does not know:
/// a list created since it was remembered.
async fn schema_for<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    list_ids: &[i64],
    read: Option<Result<Schema, Error>>,
) -> Result<Schema, Error> {
    let known = match read {
        Some(known) => known?,
        None => schema(client).await?,
    };
    if list_ids.iter().all(|id| known.lists.iter().any(|l| l.id == *id)) {
        return Ok(known);
    }
    let (lists, fields) = futures::join!(
        fetch_context(client, "/lists", endpoints::lists()),
        fetch_context(client, "/fields", endpoints::fields(&FieldsQuery::default()))
    );
    Ok(Schema { lists: lists?, fields: fields? })
}

/// Asks a v2 endpoint when the key may: `Some(answer)`, or `None` to use v1 (the key was
/// found without it lately, or it just said so: 403, 404, an unreadable answer).
pub(crate) async fn via_v2<T, R>(
    client: &LensClient<T>,
    feature: Feature,
    request: impl Future<Output = Result<R, Error>>,
) -> Option<Result<R, Error>>
where
    T: Transport + MaybeSend + MaybeSync + 'static,
{
    let account = client.account();
    if !account.may_try(feature, unix_ms()) {
        return None;
    }
    let result = request.await;
    if account.learn(feature, &result, unix_ms()) { None } else { Some(result) }
}

// ---- the query kinds ------------------------------------------------------------------------

/// The card of `query`: what it matches (by what it is: a company's domain, an id, an email,
/// a LinkedIn profile or company page), then the card of what it matched.
async fn try_lookup<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    query: &Query,
    hints: &PageHints,
    phase: Phase,
    on_partial: &mut impl FnMut(&Card),
) -> Result<Card, Error> {
    let look = Look { client, query, phase };
    let (matched, ctx) = match query.kind {
        QueryKind::Domain => look.domain().await?,
        QueryKind::OrganizationId => look.organization_id().await?,
        QueryKind::Email => look.email().await?,
        QueryKind::PersonId => look.person_id().await?,
        QueryKind::LinkedinCompany => look.linkedin_company(&page_name(query, hints)).await?,
        QueryKind::LinkedinPerson => look.linkedin_person(&page_name(query, hints), hints).await?,
        QueryKind::Thread => {
            let message = "a thread is looked up by its participants (lens_core::thread::lookup_thread)";
            return Err(Error::Invalid { status: 0, message: message.to_owned() });
        }
    };
    match matched {
        Matched::Organizations { found, basis, start } => {
            look.organizations(&found, &ctx, basis, start, on_partial).await
        }
        Matched::Persons(found) => person_result(client, query, found, &ctx, on_partial, phase).await,
        Matched::Nothing => Ok(look.card(CardStatus::NotFound)),
    }
}

/// The person with this email address (an email thread's participant): one search, the
/// account's context remembered. `None` when nobody has it; the first when several do.
pub async fn person_by_email<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    email: &str,
) -> Result<Option<CardEntity>, Error> {
    let query = Query { kind: QueryKind::Email, value: email.to_owned() };
    let look = Look { client, query: &query, phase: Phase::Pill };
    let (matched, ctx) = look.email().await?;
    Ok(match matched {
        Matched::Persons(found) => found.people.first().map(|p| person_entity(p, &ctx)),
        _ => None,
    })
}

/// Who the firm is (the key's user and the team's addresses), to leave them out of an email
/// thread's participants: the context every card needs, remembered by the account.
pub async fn firm<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
) -> Result<crate::mail::Firm, Error> {
    let ctx = context(client).await?;
    let own = ctx.whoami.as_ref().and_then(|w| w.user.email.as_deref());
    Ok(crate::mail::Firm::new(own, ctx.team.values().filter_map(|p| p.email.as_deref())))
}

/// The name a LinkedIn page shows (v1 has no LinkedIn field, so it is searched), else its
/// URL's slug.
fn page_name(query: &Query, hints: &PageHints) -> String {
    hints
        .name
        .as_deref()
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| linkedin_name(&query.value))
}

/// What a query matched, before its card is read.
// One value a look-up, moved once: its size does not matter (boxing it would only allocate).
#[allow(clippy::large_enum_variant)]
enum Matched {
    /// Organizations; the card of the only one starts from `start`.
    Organizations {
        found: Vec<Organization>,
        basis: MatchBasis,
        start: OrgStart,
    },
    Persons(Found),
    /// An id the firm does not have.
    Nothing,
}

impl Matched {
    /// The organizations found, and where the card of the only one starts.
    fn organizations(
        found: Vec<Organization>,
        basis: MatchBasis,
        start: impl FnOnce(&Organization) -> OrgStart,
    ) -> Matched {
        let start = match found.as_slice() {
            [one] => start(one),
            _ => OrgStart { id: 0, domain: None, detail: None, people: None },
        };
        Matched::Organizations { found, basis, start }
    }
}

/// One look-up: the client, what is looked up and for which phase.
struct Look<'a, T> {
    client: &'a LensClient<T>,
    query: &'a Query,
    phase: Phase,
}

impl<T: Transport + MaybeSend + MaybeSync + 'static> Look<'_, T> {
    fn card(&self, status: CardStatus) -> Card {
        Card::new(self.query.clone(), status)
    }

    /// The organizations found: none, one (its card from `start`, with the name shown at
    /// once) or several to pick from.
    async fn organizations(
        &self,
        found: &[Organization],
        ctx: &Context,
        basis: MatchBasis,
        start: OrgStart,
        on_partial: &mut impl FnMut(&Card),
    ) -> Result<Card, Error> {
        match found {
            [] => Ok(self.card(CardStatus::NotFound)),
            [one] => {
                let partial = Card {
                    entity: Some(org_entity(one, ctx)),
                    matched_on: Some(basis),
                    ..self.card(CardStatus::Matched)
                };
                on_partial(&partial);
                Box::pin(organization_card(self.client, partial, start, ctx, self.phase)).await
            }
            many => Ok(Card {
                candidates: many.iter().map(|o| org_entity(o, ctx)).collect(),
                ..self.card(CardStatus::Ambiguous)
            }),
        }
    }

    /// A company's site: the organizations with exactly that domain.
    async fn domain(&self) -> Result<(Matched, Context), Error> {
        let (client, domain) = (self.client, &self.query.value);
        // The people at the domain are needed only for v1's strengths: started at once
        // when the key has no v2 relationships.
        let v1_people = !client.account().may_try(Feature::CompanyRelationships, unix_ms());
        let people = maybe(v1_people, people_at(client, Some(domain), self.phase));
        let (found, ctx, people) = futures::join!(organizations_with_domain(client, domain), context(client), people);
        let ctx = ctx?;
        let start = |one: &Organization| OrgStart { id: one.id, domain: Some(domain.clone()), detail: None, people };
        Ok((Matched::organizations(found?, MatchBasis::Domain, start), ctx))
    }

    async fn organization_id(&self) -> Result<(Matched, Context), Error> {
        let id = parse_id(&self.query.value)?;
        let (org, ctx) = futures::join!(self.client.execute(&org_detail(id)), context(self.client));
        let ctx = ctx?;
        let org = match org {
            Ok(org) => org,
            Err(Error::NotFound { .. }) => return Ok((Matched::Nothing, ctx)),
            Err(e) => return Err(e),
        };
        let start = |one: &Organization| {
            let domain = one.all_domains().into_iter().next();
            OrgStart { id, domain, detail: Some(one.clone()), people: None }
        };
        Ok((Matched::organizations(vec![org], MatchBasis::Id, start), ctx))
    }

    async fn email(&self) -> Result<(Matched, Context), Error> {
        let email = &self.query.value;
        let search = self.client.execute(&endpoints::search_persons(&SearchQuery::term(email)));
        let (found, ctx) = futures::join!(search, context(self.client));
        let ctx = ctx?;
        let exact: Vec<Person> =
            found?.items.into_iter().filter(|p| p.emails.iter().any(|e| e.eq_ignore_ascii_case(email))).collect();
        Ok((Matched::Persons(Found { people: exact, basis: MatchBasis::Email, page_person: None }), ctx))
    }

    async fn person_id(&self) -> Result<(Matched, Context), Error> {
        let id = parse_id(&self.query.value)?;
        let (found, ctx) = futures::join!(self.client.execute(&person_detail(id)), context(self.client));
        let ctx = ctx?;
        match found {
            Ok(p) => Ok((Matched::Persons(Found { people: vec![p], basis: MatchBasis::Id, page_person: None }), ctx)),
            Err(Error::NotFound { .. }) => Ok((Matched::Nothing, ctx)),
            Err(e) => Err(e),
        }
    }

    /// A LinkedIn company page: the organizations of that name (v1 has no LinkedIn field).
    async fn linkedin_company(&self, name: &str) -> Result<(Matched, Context), Error> {
        let search = self.client.execute(&endpoints::search_organizations(&SearchQuery::term(name)));
        let (page, ctx) = futures::join!(search, context(self.client));
        let ctx = ctx?;
        let exact: Vec<Organization> = page?.items.into_iter().filter(|o| o.name.eq_ignore_ascii_case(name)).collect();
        let start = |one: &Organization| {
            let domain = one.all_domains().into_iter().next();
            OrgStart { id: one.id, domain, detail: None, people: None }
        };
        Ok((Matched::organizations(exact, MatchBasis::NameOnly, start), ctx))
    }

    /// A LinkedIn profile: the persons of that name, told apart by the company the page
    /// names; nobody of that name is offered to be added, linked to their company.
    async fn linkedin_person(&self, name: &str, hints: &PageHints) -> Result<(Matched, Context), Error> {
        let client = self.client;
        let search = SearchQuery { with_current_organizations: true, ..SearchQuery::term(name) };
        let (page, ctx) = futures::join!(client.execute(&endpoints::search_persons(&search)), context(client));
        let ctx = ctx?;
        let exact: Vec<Person> = page?.items.into_iter().filter(|p| p.name().eq_ignore_ascii_case(name)).collect();
        let employer = hints.employer();
        let mut page_person = PagePerson {
            name: name.to_owned(),
            company: employer.as_ref().map(|e| e.name.clone()),
            organization: None,
        };
        // The company the page names picks one of several namesakes (or vouches for the
        // only one).
        let (people, basis) = match &employer {
            Some(company) if !exact.is_empty() => match at_company(client, &exact, company).await {
                at if at.is_empty() => (exact, MatchBasis::NameOnly),
                at => (at, MatchBasis::NameAndCompany),
            },
            _ => (exact, MatchBasis::NameOnly),
        };
        // Nobody of that name: the card offers to add them, linked to their company's
        // organization (looked up for the opened card only).
        if people.is_empty()
            && self.phase == Phase::Card
            && let Some(company) = &employer
        {
            page_person.organization = organization_named(client, company).await?.map(|o| org_entity(&o, &ctx));
        }
        Ok((Matched::Persons(Found { people, basis, page_person: Some(page_person) }), ctx))
    }
}

/// The candidates who work at `company`: by their current organizations (name, domains
/// or LinkedIn slug, see [`CompanyHint::is_organization`]), or by a work email at a domain
/// that spells the company's name.
async fn at_company<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
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
    client: &LensClient<T>,
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

/// The persons a look-up found, what the match rests on, and who the page shows.
struct Found {
    people: Vec<Person>,
    basis: MatchBasis,
    page_person: Option<PagePerson>,
}

/// The persons found: none, one (their card, with the name shown at once) or several to
/// pick from.
async fn person_result<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    query: &Query,
    found: Found,
    ctx: &Context,
    on_partial: &mut impl FnMut(&Card),
    phase: Phase,
) -> Result<Card, Error> {
    let card = |status| Card { page_person: found.page_person.clone(), ..Card::new(query.clone(), status) };
    match found.people.as_slice() {
        [] => Ok(card(CardStatus::NotFound)),
        [one] => {
            let partial = Card {
                entity: Some(person_entity(one, ctx)),
                matched_on: Some(found.basis),
                ..card(CardStatus::Matched)
            };
            on_partial(&partial);
            Box::pin(person_card(client, partial, one, ctx, phase)).await
        }
        many => {
            Ok(Card { candidates: many.iter().map(|p| person_entity(p, ctx)).collect(), ..card(CardStatus::Ambiguous) })
        }
    }
}

/// Every organization whose `domain` or `domains` is exactly `domain`. The search matches
/// parts of names and domains, so its results hold near-misses and may run over pages.
async fn organizations_with_domain<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
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

fn v2_person_ref(p: &v2::PersonData) -> PersonRef {
    PersonRef { id: p.id, name: p.name(), email: p.primary_email_address.clone() }
}

/// The organization with what the card shows of it (people, list entries, activity with
/// the colleagues in it, opportunities): one URL for the pill and the card, so that the
/// card reuses the pill's answer.
fn org_detail(id: i64) -> endpoints::Endpoint<Organization> {
    let options =
        DetailOptions { with_interaction_dates: true, with_interaction_persons: true, with_opportunities: true };
    endpoints::organization(id, options)
}

fn person_detail(id: i64) -> endpoints::Endpoint<Person> {
    let options =
        DetailOptions { with_interaction_dates: true, with_interaction_persons: true, with_opportunities: true };
    endpoints::person(id, options)
}

fn latest(p: &Person) -> Option<Timestamp> {
    p.interaction_dates.as_ref().and_then(|d| d.last_interaction_date.or(d.last_email_date).or(d.last_event_date))
}

/// The people whose email is at `domain`: those with interactions (with their dates), and
/// (for the whole card) all of them. Persons without interactions have no strengths.
#[derive(Default)]
struct PeopleAt {
    all: Vec<Person>,
    active: Vec<Person>,
}

async fn people_at<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    domain: Option<&str>,
    phase: Phase,
) -> PeopleAt {
    let Some(domain) = domain else { return PeopleAt::default() };
    let at_domain =
        |p: &Person| p.emails.iter().any(|e| e.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)));
    let all = async {
        match phase {
            Phase::Card => client.execute(&endpoints::search_persons(&SearchQuery::term(domain))).await,
            Phase::Pill => Ok(Default::default()),
        }
    };
    let (all, active) = futures::join!(
        all,
        client.execute(&endpoints::search_persons(&SearchQuery {
            with_interaction_dates: true,
            ..SearchQuery::term(domain)
        }))
    );
    let mut active: Vec<Person> = active.map(|p| p.items).unwrap_or_default().into_iter().filter(at_domain).collect();
    // Most recently in touch first (then by id: the same order on every look-up).
    active.sort_by_key(|p| (std::cmp::Reverse(latest(p)), p.id));
    PeopleAt { all: all.map(|p| p.items).unwrap_or_default().into_iter().filter(at_domain).collect(), active }
}

/// Strongest first; ties in a fixed order (contact, then colleague), whichever API they
/// came from.
fn rank(connections: &mut Vec<Connection>) {
    connections.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then(a.contact.id.cmp(&b.contact.id))
            .then(a.colleague.id.cmp(&b.colleague.id))
    });
    connections.truncate(TOP_CONNECTIONS);
}

/// Whether no one else can change the top `needed` connections: they are all as strong as
/// a strength can be.
fn settled(connections: &[Connection], needed: usize) -> bool {
    connections.len() >= needed && connections.iter().take(needed).all(|c| c.strength >= MAX_STRENGTH)
}

/// The connections in v2 relationships: pairs of a colleague and someone else.
fn v2_connections(relationships: &[v2::Relationship], team: &HashMap<i64, PersonRef>) -> Vec<Connection> {
    let mut out: Vec<Connection> = relationships
        .iter()
        .filter_map(|r| {
            let (colleague, contact) = match (team.get(&r.person1.id), team.get(&r.person2.id)) {
                (Some(c), None) => (c, &r.person2),
                (None, Some(c)) => (c, &r.person1),
                _ => return None,
            };
            Some(Connection {
                colleague: colleague.clone(),
                contact: v2_person_ref(contact),
                strength: r.interaction_score,
            })
        })
        .collect();
    rank(&mut out);
    out
}

async fn maybe<F: Future>(wanted: bool, work: F) -> Option<F::Output> {
    match wanted {
        true => Some(work.await),
        false => None,
    }
}

type Strengths = Vec<(i64, Result<Vec<RelationshipStrength>, Error>)>;

/// v1: the people at the domain (unless the lookup has them) and the strengths of the
/// [`PILL_PEOPLE`] most recently in touch.
async fn pill_strengths<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    people: Option<PeopleAt>,
    domain: Option<&str>,
    phase: Phase,
) -> (PeopleAt, Strengths) {
    let people = match people {
        Some(p) => p,
        None => people_at(client, domain, phase).await,
    };
    let ids: Vec<i64> = people.active.iter().take(PILL_PEOPLE).map(|p| p.id).collect();
    let strengths =
        join_all(ids.iter().map(|pid| client.execute(&endpoints::relationship_strengths(*pid, None)))).await;
    (people, ids.into_iter().zip(strengths).collect())
}

/// Where an organization's card starts from.
struct OrgStart {
    id: i64,
    /// The domain its people are found by (v1 strengths).
    domain: Option<String>,
    /// The organization as [`org_detail`] reads it, when the lookup had it already.
    detail: Option<Organization>,
    /// v1: the people at the domain, when the lookup started reading them.
    people: Option<PeopleAt>,
}

/// What the organization's card is made of, read together in one round: v2's relationships
/// and list entries where the key may, and what v1 is asked for beside them (the
/// organization with its people, entries, activity and opportunities; its field values for
/// Status, Owners, Amount and time in status; strengths; the lists and fields).
struct OrgReads {
    relationships: Option<Vec<v2::Relationship>>,
    entries: Option<Vec<v2::ListEntry>>,
    detail: Option<Organization>,
    values: Vec<FieldValue>,
    /// v1: the people at the domain and the strengths read so far.
    v1: Option<(PeopleAt, Strengths)>,
    schema: Option<Result<Schema, Error>>,
}

/// The organization's card: its entity, connections, lists, activity and (opened card)
/// opportunities.
async fn organization_card<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    mut card: Card,
    start: OrgStart,
    ctx: &Context,
    phase: Phase,
) -> Result<Card, Error> {
    let reads = read_organization(client, start, phase).await?;
    if let Some(org) = &reads.detail {
        card.entity = Some(org_entity(org, ctx));
    }
    let members: Vec<i64> = reads.detail.as_ref().and_then(|o| o.person_ids.clone()).unwrap_or_default();
    match (&reads.relationships, reads.v1) {
        (Some(rels), _) => {
            card.connections = v2_connections(rels, &ctx.team);
            if reads.detail.is_some() {
                // v2's relationships cover every person.
                card.people_total = Some(members.len());
                card.people_checked = Some(members.len());
            }
        }
        (None, Some((people, strengths))) => {
            let at = OrgPeople { members: &members, people: &people };
            v1_organization_connections(client, &mut card, at, strengths, ctx, phase).await;
        }
        (None, None) => {}
    }
    let refs = reads.detail.as_ref().and_then(|o| o.list_entries.clone()).unwrap_or_default();
    let source = EntrySource { v2: reads.entries.as_deref(), v1: &refs, values: &reads.values };
    (card.lists, card.fields) = list_items(client, source, reads.schema, ctx, phase).await?;
    // The firmographics come with the list entries (no call); without them, the opened card
    // asks for them with the company, where the key reads v2.
    let carried = reads.entries.iter().flatten().find(|e| firmographics::has_enriched(&e.fields));
    card.firmographics = carried.and_then(|e| firmographics::from_fields(&e.fields));
    let ask_company = phase == Phase::Card && carried.is_none() && reads.entries.is_some();
    // Activity (from the organization, read for the card or for v1's lists).
    if let Some(i) = reads.detail.as_ref().and_then(|o| o.interactions.as_ref()) {
        card.activity = activity(i, &ctx.team);
    }
    if phase == Phase::Card {
        let id = card.entity.as_ref().map_or(0, |e| e.id);
        let url = card.entity.as_ref().and_then(|e| e.affinity_url.clone());
        let ids = reads.detail.as_ref().and_then(|o| o.opportunity_ids.clone()).unwrap_or_default();
        // Opportunities, notes and (maybe) the company's firmographics: one round. The notes
        // need only the id, but a cold card's first reads already fill the concurrency cap
        // (6): beside them they would cost a round (measured: 3 rounds became 4).
        let (found, notes, company) = futures::join!(
            opportunities(client, &ids, ctx, statuses_to_read(ask_company)),
            recent_notes(client, EntityRef::Organization(id), &ctx.team, url.as_deref()),
            maybe(ask_company, company_firmographics(client, id)),
        );
        card.opportunities = found?;
        // Notes and firmographics that cannot be read are left out, not an error.
        card.notes = notes.unwrap_or_default();
        card.firmographics = card.firmographics.take().or(company.flatten());
    }
    Ok(card)
}

/// How many opportunities' Status an opened card reads: [`OPPORTUNITY_STATUSES`], or none
/// when it spends that call on the company's firmographics (an opened card with API v2
/// costs at most 8 calls).
pub fn statuses_to_read(asks_company: bool) -> usize {
    if asks_company { 0 } else { OPPORTUNITY_STATUSES }
}

/// A company's firmographics asked with the company (`fieldTypes=enriched`), where the key
/// reads v2; `None` when they cannot be read.
async fn company_firmographics<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    id: i64,
) -> Option<Firmographics> {
    let company = client.execute(&v2::endpoints::company_with_fields(id, &["enriched"]));
    let company = via_v2(client, Feature::Company, company).await?.ok()?;
    firmographics::from_fields(&company.fields)
}

/// Where a card's list entries come from: API v2's entries where the key has them, else
/// v1's (the entity's entries), with the entity's v1 field values (Status since when; v1's
/// fields).
struct EntrySource<'a> {
    v2: Option<&'a [v2::ListEntry]>,
    v1: &'a [ListEntryRef],
    values: &'a [FieldValue],
}

/// The card's list entries, and for the opened card every field of each one's list.
async fn list_items<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    source: EntrySource<'_>,
    schema: Option<Result<Schema, Error>>,
    ctx: &Context,
    phase: Phase,
) -> Result<(Vec<CardListEntry>, Vec<EntryFields>), Error> {
    let full = phase == Phase::Card;
    let of = |list_id, entry_id, fields| EntryFields { list_id, entry_id, fields };
    if let Some(entries) = source.v2 {
        let items: Vec<CardListEntry> = entries.iter().map(|e| v2_list_item(e, source.values)).collect();
        if !full {
            return Ok((items, Vec::new()));
        }
        let ids: Vec<i64> = entries.iter().map(|e| e.list_id).collect();
        // v1's fields describe v2's (options, several values); without them the fields are
        // shown as v2 gives them, to read only: never the card's failure.
        let known = schema_for(client, &ids, schema).await.map(|s| s.fields).unwrap_or_default();
        let fields = entries.iter().map(|e| of(e.list_id, e.id, fields::from_v2(e, &known, ctx.writes)));
        return Ok((items, fields.collect()));
    }
    let ids: Vec<i64> = source.v1.iter().map(|e| e.list_id).collect();
    let schema = schema_for(client, &ids, schema).await?;
    let items = source.v1.iter().map(|e| list_item(e, &schema, source.values, &ctx.team)).collect();
    if !full {
        return Ok((items, Vec::new()));
    }
    let names = v1_names(client, &schema.fields, source.values, &ids, &ctx.team).await;
    let fields = source.v1.iter().map(|e| {
        of(e.list_id, e.id, fields::from_v1(e.list_id, e.id, &schema.fields, source.values, &names, ctx.writes))
    });
    Ok((items, fields.collect()))
}

/// v1 names the persons and organizations of field values by id: the colleagues are known,
/// the others are read, one call each (a v1-only key's opened card: v2 names them itself).
async fn v1_names<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    fields: &[Field],
    values: &[FieldValue],
    list_ids: &[i64],
    team: &HashMap<i64, PersonRef>,
) -> Names {
    let (persons, companies) = fields::v1_references(fields, values, list_ids);
    let unknown: Vec<i64> = persons.into_iter().filter(|id| !team.contains_key(id)).collect();
    let (people, orgs) = futures::join!(
        join_all(unknown.iter().map(|id| client.execute(&endpoints::person(*id, DetailOptions::default())))),
        join_all(companies.iter().map(|id| client.get_organization(*id))),
    );
    let mut names = Names { persons: team.clone(), companies: HashMap::new() };
    names.persons.extend(people.into_iter().flatten().map(|p| (p.id, person_ref(&p))));
    let company = |o: Organization| (o.id, fields::company_value(o.id, &o.name, o.domain.as_deref()));
    names.companies.extend(orgs.into_iter().flatten().map(company));
    names
}

/// Reads what the organization's card needs for `phase`, v2 and v1 together: what v1 will
/// be asked for starts with v2's requests (the organization and its field values for the
/// opened card, and what the key has no v2 for); where v2 says no (the first time for this
/// key), v1 is asked for that part after.
async fn read_organization<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    start: OrgStart,
    phase: Phase,
) -> Result<OrgReads, Error> {
    let (id, full) = (start.id, phase == Phase::Card);
    let account = client.account();
    let v1_lists = !account.may_try(Feature::CompanyListEntries, unix_ms());
    let v1_strengths = !account.may_try(Feature::CompanyRelationships, unix_ms());
    let known_detail = start.detail.clone();
    let detail = || async {
        match &known_detail {
            Some(d) => Ok(d.clone()),
            None => client.execute(&org_detail(id)).await,
        }
    };
    let values = || client.execute(&endpoints::field_values(EntityRef::Organization(id)));
    let domain = start.domain.as_deref();
    let relationships = client.v2_items(v2::endpoints::company_relationships(id, RELATIONSHIPS_PAGE), 1);
    let entries = client.v2_items(v2::endpoints::company_list_entries(id), 5);
    let (relationships, entries, early_detail, early_values, early_strengths, schema) = futures::join!(
        via_v2(client, Feature::CompanyRelationships, relationships),
        via_v2(client, Feature::CompanyListEntries, entries),
        maybe(full || v1_lists || v1_strengths || start.detail.is_some(), detail()),
        maybe(full || v1_lists, values()),
        maybe(v1_strengths, pill_strengths(client, start.people, domain, phase)),
        maybe(v1_lists || full, schema(client)),
    );
    let (relationships, entries) = (relationships.transpose()?, entries.transpose()?);
    let detail = match early_detail {
        Some(d) => Some(d?),
        None if relationships.is_none() || entries.is_none() => Some(detail().await?),
        None => None,
    };
    let values = match early_values {
        Some(v) => v?,
        None if entries.is_none() => values().await?,
        None => Vec::new(),
    };
    let v1 = match early_strengths {
        Some(found) => Some(found),
        None if relationships.is_none() => Some(pill_strengths(client, None, domain, phase).await),
        None => None,
    };
    Ok(OrgReads { relationships, entries, detail, values, v1, schema })
}

/// An organization's members (its `person_ids`) and the people found at its domain.
#[derive(Clone, Copy)]
struct OrgPeople<'a> {
    members: &'a [i64],
    people: &'a PeopleAt,
}

impl OrgPeople<'_> {
    /// The connections in `strengths` of the organization's members, strongest first.
    fn connections(&self, strengths: &Strengths, team: &HashMap<i64, PersonRef>) -> Vec<Connection> {
        let known: HashMap<i64, &Person> =
            self.people.all.iter().chain(self.people.active.iter()).map(|p| (p.id, p)).collect();
        let mut out = Vec::new();
        for (pid, result) in strengths.iter().filter(|(pid, _)| self.members.contains(pid)) {
            for s in result.as_ref().map(Vec::as_slice).unwrap_or_default() {
                let Some(colleague) = team.get(&s.internal_id) else { continue };
                let contact = match known.get(pid) {
                    Some(p) => person_ref(p),
                    None => PersonRef { id: *pid, name: String::new(), email: None },
                };
                out.push(Connection { colleague: colleague.clone(), contact, strength: s.strength });
            }
        }
        rank(&mut out);
        out
    }

    /// The members whose strengths could still change the answer, beyond those read: the
    /// rest of the active people at the domain, then members the domain search could not
    /// vouch for (no email at the domain), up to [`MAX_PEOPLE`] in all.
    fn unread(&self, strengths: &Strengths) -> Vec<i64> {
        let read: Vec<i64> = strengths.iter().map(|(id, _)| *id).collect();
        let mut more: Vec<i64> = (self.people.active.iter().map(|p| p.id))
            .filter(|id| !read.contains(id) && self.members.contains(id))
            .collect();
        let seen: Vec<i64> = self.people.all.iter().chain(self.people.active.iter()).map(|p| p.id).collect();
        more.extend(self.members.iter().copied().filter(|m| !seen.contains(m)));
        let room = MAX_PEOPLE.saturating_sub(read.iter().filter(|id| self.members.contains(id)).count());
        more.truncate(room);
        more
    }

    /// How many members' strengths are known: those read, and those at the domain without
    /// interactions (who have no strengths to read).
    fn checked(&self, strengths: &Strengths) -> usize {
        let read = strengths.iter().filter(|(id, _)| self.members.contains(id)).count();
        let active: Vec<i64> = self.people.active.iter().map(|p| p.id).collect();
        let idle = (self.members.iter())
            .filter(|m| self.people.all.iter().any(|p| p.id == **m) && !active.contains(m))
            .filter(|m| !strengths.iter().any(|(id, _)| id == *m))
            .count();
        (read + idle).min(self.members.len())
    }
}

/// v1's connections of an organization: the strengths read for the pill, and for the opened
/// card those of everyone else who can still change the answer, with the contacts named.
async fn v1_organization_connections<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    card: &mut Card,
    at: OrgPeople<'_>,
    mut strengths: Strengths,
    ctx: &Context,
    phase: Phase,
) {
    let full = phase == Phase::Card;
    if full && !settled(&at.connections(&strengths, &ctx.team), TOP_CONNECTIONS) {
        let more = at.unread(&strengths);
        let got = join_all(more.iter().map(|pid| client.execute(&endpoints::relationship_strengths(*pid, None)))).await;
        strengths.extend(more.into_iter().zip(got));
    }
    let mut connections = at.connections(&strengths, &ctx.team);
    // People without a matching email (no domain, another domain) are named one by one.
    if full {
        for c in connections.iter_mut().filter(|c| c.contact.name.is_empty()) {
            if let Ok(p) = client.execute(&endpoints::person(c.contact.id, DetailOptions::default())).await {
                c.contact = person_ref(&p);
            }
        }
    }
    card.connections = connections;
    card.people_total = Some(at.members.len());
    card.people_checked = Some(at.checked(&strengths));
}

/// The card's opportunities, the most recent (highest id) first: names and lists (v2 in one
/// call where the key may, else one v1 call each), and the Status of the `statuses` most
/// recent.
async fn opportunities<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    ids: &[i64],
    ctx: &Context,
    statuses: usize,
) -> Result<Vec<CardOpportunity>, Error> {
    let mut ids = ids.to_vec();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(MAX_OPPORTUNITIES);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let named = async {
        if let Some(found) =
            via_v2(client, Feature::Opportunities, client.v2_items(v2::endpoints::opportunities(&ids), 1)).await
        {
            return found.map(|o| o.into_iter().map(|o| (o.id, o.name, o.list_name)).collect::<Vec<_>>());
        }
        let (lists, found) =
            futures::join!(lists(client), join_all(ids.iter().map(|id| client.execute(&endpoints::opportunity(*id)))));
        let lists = lists?;
        Ok(found
            .into_iter()
            .filter_map(Result::ok)
            .map(|o| {
                let list = o.list_entries.first().and_then(|e| lists.iter().find(|l| l.id == e.list_id));
                (o.id, o.name, list.map(|l| l.name.clone()))
            })
            .collect())
    };
    let read = &ids[..ids.len().min(statuses)];
    let statuses =
        join_all(read.iter().map(|id| client.execute(&endpoints::field_values(EntityRef::Opportunity(*id)))));
    // Which value is the Status: the fields say (remembered with the context).
    let (named, statuses, fields) = futures::join!(named, statuses, fields(client));
    let (named, fields) = (named?, fields?);
    let status_of = |values: &[FieldValue]| {
        values.iter().find_map(|v| {
            let field = fields.iter().find(|f| f.id == v.field_id && crate::fields::is_status(&f.name))?;
            match v.data(Some(field.value_type)) {
                FieldValueData::RankedDropdown(o) => Some(o.text),
                FieldValueData::Dropdown(t) | FieldValueData::Text(t) => Some(t),
                _ => None,
            }
        })
    };
    let statuses: HashMap<i64, Option<String>> =
        read.iter().zip(statuses).map(|(id, v)| (*id, v.ok().and_then(|v| status_of(&v)))).collect();
    Ok(ids
        .iter()
        .filter_map(|id| named.iter().find(|(oid, ..)| oid == id))
        .map(|(id, name, list_name)| CardOpportunity {
            id: *id,
            name: name.clone(),
            list_name: list_name.clone(),
            status: statuses.get(id).cloned().flatten(),
            affinity_url: app_url(ctx, &format!("opportunities/{id}")),
            status_skipped: !statuses.contains_key(id),
        })
        .collect())
}

/// The card's activity from `interactions`, naming the colleagues involved.
fn activity(i: &affinity_api::models::Interactions, team: &HashMap<i64, PersonRef>) -> Activity {
    let item = |r: &Option<affinity_api::models::InteractionRef>| {
        r.as_ref().and_then(|r| {
            r.date.map(|d| ActivityItem {
                date: d.to_iso(),
                people: r.person_ids.iter().filter_map(|id| team.get(id)).cloned().collect(),
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

/// Since when a list entry's Status is what it is: when its value was last set (the
/// value's `updated_at`, else `created_at`; Affinity changes a value in place when the
/// Status changes). One call for every list of the entity, instead of one per Status field.
fn status_since(values: &[FieldValue], status_field: i64, entry_id: i64) -> Option<String> {
    values
        .iter()
        .find(|v| v.field_id == status_field && v.list_entry_id == Some(entry_id))
        .and_then(|v| v.updated_at.or(v.created_at))
        .map(|t| t.to_iso())
}

/// One list entry on the card from v1: list name, Status (and since when), Owners, Amount.
fn list_item(
    e: &ListEntryRef,
    schema: &Schema,
    values: &[FieldValue],
    team: &HashMap<i64, PersonRef>,
) -> CardListEntry {
    let (entry_id, list_id) = (e.id, e.list_id);
    let field_named = |name: &str| schema.fields.iter().find(|f| f.list_id == Some(list_id) && f.name == name);
    let of_entry = |field: Option<&Field>| -> Vec<&FieldValue> {
        field.map_or_else(Vec::new, |f| {
            values.iter().filter(|v| v.field_id == f.id && v.list_entry_id == Some(entry_id)).collect()
        })
    };
    let status_field = field_named(crate::fields::STATUS);
    let status_value = of_entry(status_field).into_iter().next();
    let status = status_value.and_then(|v| match v.data(status_field.map(|f| f.value_type)) {
        FieldValueData::RankedDropdown(o) => Some(StatusValue { text: o.text, color: o.color.unwrap_or(0) }),
        FieldValueData::Dropdown(t) => Some(StatusValue { text: t, color: 0 }),
        _ => None,
    });
    let owners = of_entry(field_named("Owners"))
        .into_iter()
        .filter_map(|v| match v.data(Some(ValueType::PERSON)) {
            FieldValueData::Person(id) => {
                Some(team.get(&id).cloned().unwrap_or(PersonRef { id, name: format!("Person {id}"), email: None }))
            }
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
        list_name: schema
            .lists
            .iter()
            .find(|l| l.id == list_id)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("List {list_id}")),
        entry_id,
        added_at: e.created_at.map(|t| t.to_iso()),
        status,
        status_since: status_field.and_then(|f| status_since(values, f.id, entry_id)),
        owners,
        amount,
    }
}

/// One list entry on the card from v2 (its fields carry Status, Owners and Amount by name;
/// the time in status comes from v1's values, when the card has them).
fn v2_list_item(e: &v2::ListEntry, values: &[FieldValue]) -> CardListEntry {
    let status_field = e.field_named(crate::fields::STATUS);
    let status = status_field
        .and_then(|f| f.value.dropdown())
        .map(|d| StatusValue { text: d.text, color: v2::color_number(d.color.as_deref()) });
    let status_id = status_field.and_then(|f| f.id.strip_prefix("field-")?.parse::<i64>().ok());
    let owners = e.field_named("Owners").map(|f| f.value.persons()).unwrap_or_default();
    let owners = owners.iter().map(v2_person_ref).collect();
    let amount = e.field_named("Amount").and_then(|f| f.value.number());
    CardListEntry {
        list_id: e.list_id,
        list_name: if e.list_name.is_empty() { format!("List {}", e.list_id) } else { e.list_name.clone() },
        entry_id: e.id,
        added_at: e.created_at.map(|t| t.to_iso()),
        status,
        status_since: status_id.and_then(|f| status_since(values, f, e.id)),
        owners,
        amount,
    }
}

async fn person_card<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &LensClient<T>,
    mut card: Card,
    found: &Person,
    ctx: &Context,
    phase: Phase,
) -> Result<Card, Error> {
    let id = found.id;
    let full = phase == Phase::Card;
    let relationships = client.v2_items(v2::endpoints::person_relationships(id, RELATIONSHIPS_PAGE), 1);
    let entries = client.v2_items(v2::endpoints::person_list_entries(id), 5);
    let (relationships, entries) = futures::join!(
        via_v2(client, Feature::PersonRelationships, relationships),
        via_v2(client, Feature::PersonListEntries, entries)
    );
    let (relationships, entries) = (relationships.transpose()?, entries.transpose()?);
    let need_detail = full || entries.is_none();
    let url = app_url(ctx, &format!("persons/{id}"));
    let (person, values, strengths, early_schema, notes) = futures::join!(
        maybe(need_detail, client.execute(&person_detail(id))),
        maybe(need_detail, client.execute(&endpoints::field_values(EntityRef::Person(id)))),
        maybe(relationships.is_none(), client.execute(&endpoints::relationship_strengths(id, None))),
        maybe(entries.is_none() || full, schema(client)),
        maybe(full, recent_notes(client, EntityRef::Person(id), &ctx.team, url.as_deref())),
    );
    let (person, values) = (person.transpose()?, values.transpose()?.unwrap_or_default());
    let shown = person.as_ref().unwrap_or(found);
    card.entity = Some(person_entity(shown, ctx));
    card.connections = person_connections(relationships.as_deref(), strengths, shown, ctx);
    let refs = person.as_ref().and_then(|p| p.list_entries.clone()).unwrap_or_default();
    let source = EntrySource { v2: entries.as_deref(), v1: &refs, values: &values };
    (card.lists, card.fields) = list_items(client, source, early_schema, ctx, phase).await?;
    if let Some(i) = person.as_ref().and_then(|p| p.interactions.as_ref()) {
        card.activity = activity(i, &ctx.team);
    }
    // Notes that cannot be read are left out, not an error.
    card.notes = notes.and_then(Result::ok).unwrap_or_default();
    Ok(card)
}

/// A person's connections: v2's relationships where the key has them, else v1's strengths.
fn person_connections(
    relationships: Option<&[v2::Relationship]>,
    strengths: Option<Result<Vec<RelationshipStrength>, Error>>,
    shown: &Person,
    ctx: &Context,
) -> Vec<Connection> {
    if let Some(rels) = relationships {
        return v2_connections(rels, &ctx.team);
    }
    let mut connections: Vec<Connection> = strengths
        .and_then(Result::ok)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| {
            let colleague = ctx.team.get(&s.internal_id)?;
            Some(Connection { colleague: colleague.clone(), contact: person_ref(shown), strength: s.strength })
        })
        .collect();
    rank(&mut connections);
    connections
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

    fn person(id: i64) -> PersonRef {
        PersonRef { id, name: format!("P{id}"), email: None }
    }

    fn rel(a: i64, b: i64, score: f64) -> v2::Relationship {
        let p = |id| v2::PersonData { id, ..Default::default() };
        v2::Relationship { person1: p(a), person2: p(b), interaction_score: score, linked_in: None }
    }

    #[test]
    fn v2_relationships_become_connections_between_a_colleague_and_a_contact() {
        let team: HashMap<i64, PersonRef> = [(1, person(1)), (2, person(2))].into();
        let rels = [rel(1, 10, 0.5), rel(11, 2, 0.9), rel(1, 2, 0.99), rel(10, 11, 0.95), rel(2, 12, 0.5)];
        let c = v2_connections(&rels, &team);
        let pairs: Vec<(i64, i64, f64)> = c.iter().map(|c| (c.colleague.id, c.contact.id, c.strength)).collect();
        // Two colleagues, or two outsiders, are no connection; ties go by contact.
        assert_eq!(pairs, [(2, 11, 0.9), (1, 10, 0.5), (2, 12, 0.5)]);
    }

    #[test]
    fn only_connections_at_the_maximum_strength_settle_the_answer() {
        let c = |s| Connection { colleague: person(1), contact: person(2), strength: s };
        assert!(settled(&[c(1.0)], 1));
        assert!(!settled(&[c(0.99)], 1));
        assert!(!settled(&[c(1.0)], 2));
        assert!(!settled(&[], 1));
    }
}
