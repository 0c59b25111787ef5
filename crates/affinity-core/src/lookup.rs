//! The lookup engine: from a [`Query`] to a [`Card`].

use crate::Error;
use crate::card::{Card, CardEntity, CardStatus, EntityKind, Query, QueryKind};
use crate::client::Client;
use crate::models::Organization;
use crate::transport::{MaybeSend, MaybeSync, Transport};

/// How many pages of search results to read before giving up on an exact match.
const MAX_SEARCH_PAGES: usize = 3;

/// Looks `query` up and returns its card. Never fails: errors become a card with
/// `status: error`, so that every caller can show something.
pub async fn lookup_card<T: Transport + MaybeSend + MaybeSync + 'static>(client: &Client<T>, query: &Query) -> Card {
    match try_lookup(client, query).await {
        Ok(card) => card,
        Err(e) => Card::from_error(query.clone(), &e),
    }
}

async fn try_lookup<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    query: &Query,
) -> Result<Card, Error> {
    match query.kind {
        QueryKind::Domain => {
            let matches = organizations_with_domain(client, &query.value).await?;
            Ok(card_for_organizations(query, matches))
        }
        QueryKind::OrganizationId => {
            let id = query.value.parse::<i64>().map_err(|_| Error::Invalid {
                status: 0,
                message: format!("{:?} is not an organization id", query.value),
            })?;
            match client.get_organization(id).await {
                Ok(org) => Ok(card_for_organizations(query, vec![org])),
                Err(Error::NotFound { .. }) => Ok(Card::new(query.clone(), CardStatus::NotFound)),
                Err(e) => Err(e),
            }
        }
        other => Err(Error::Invalid { status: 0, message: format!("looking up {other:?} is not supported yet") }),
    }
}

/// Every organization whose `domain` or `domains` is exactly `domain`. The search matches
/// parts of names and domains, so its results hold near-misses and may run over pages.
async fn organizations_with_domain<T: Transport + MaybeSend + MaybeSync + 'static>(
    client: &Client<T>,
    domain: &str,
) -> Result<Vec<Organization>, Error> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_SEARCH_PAGES {
        let page = client.search_organizations(domain, token.as_deref()).await?;
        found.extend(page.items.into_iter().filter(|o| has_domain(o, domain)));
        match page.next_page_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    Ok(found)
}

/// Whether `domain` is exactly one of the organization's domains.
pub fn has_domain(org: &Organization, domain: &str) -> bool {
    org.all_domains().iter().any(|d| d.eq_ignore_ascii_case(domain))
}

fn entity(org: &Organization) -> CardEntity {
    CardEntity {
        kind: EntityKind::Organization,
        id: org.id,
        name: org.name.clone(),
        domains: org.all_domains(),
        emails: Vec::new(),
        affinity_url: None,
    }
}

fn card_for_organizations(query: &Query, orgs: Vec<Organization>) -> Card {
    match orgs.as_slice() {
        [] => Card::new(query.clone(), CardStatus::NotFound),
        [one] => Card { entity: Some(entity(one)), ..Card::new(query.clone(), CardStatus::Matched) },
        many => {
            Card { candidates: many.iter().map(entity).collect(), ..Card::new(query.clone(), CardStatus::Ambiguous) }
        }
    }
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
    fn cards_follow_the_number_of_matches() {
        let q = Query { kind: QueryKind::Domain, value: "acme.com".into() };
        assert_eq!(card_for_organizations(&q, vec![]).status, CardStatus::NotFound);
        let one = card_for_organizations(&q, vec![org(1, Some("acme.com"), &[])]);
        assert_eq!(one.status, CardStatus::Matched);
        assert_eq!(one.entity.unwrap().name, "Org 1");
        let two = card_for_organizations(&q, vec![org(1, Some("acme.com"), &[]), org(2, Some("acme.com"), &[])]);
        assert_eq!(two.status, CardStatus::Ambiguous);
        assert_eq!(two.candidates.len(), 2);
    }
}
