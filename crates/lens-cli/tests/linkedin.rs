//! LinkedIn profiles against the sandbox's world: the company a profile names picks one of
//! two namesakes, the card says what the match rests on, and a profile nobody has added
//! can be created once, linked to its company's organization.

use std::sync::Arc;

use affinity_api::cache::MemoryCache;
use affinity_api::endpoints::{self, DetailOptions, SearchQuery};
use affinity_api::{Client, ClientConfig};
use affinity_sandbox::seed::ids;
use affinity_sandbox::{Sandbox, SandboxConfig};
use lens_core::actions::{Action, Target, perform};
use lens_core::card::MatchBasis;
use lens_core::{Card, CardStatus, EntityKind, LensClient, PageHints, Query, QueryKind, lookup_card_hinted};

const KEY: &str = "linkedin-key";

async fn start() -> (LensClient, Sandbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = Sandbox::new(SandboxConfig::new(KEY));
    tokio::spawn(sandbox.clone().serve(listener));
    let builder = Client::builder(ClientConfig::new(&url, KEY), affinity_api::transport::ReqwestTransport::new());
    let client = LensClient::new(builder.cache(Arc::new(MemoryCache::default())), Arc::default());
    (client, sandbox)
}

async fn profile(client: &LensClient, slug: &str, hints: PageHints) -> Card {
    let query = Query { kind: QueryKind::LinkedinPerson, value: format!("https://www.linkedin.com/in/{slug}") };
    lookup_card_hinted(client, &query, &hints, |_| {}).await
}

fn shows(name: &str, company: Option<&str>, company_url: Option<&str>, headline: Option<&str>) -> PageHints {
    PageHints {
        name: Some(name.into()),
        company: company.map(str::to_owned),
        company_url: company_url.map(str::to_owned),
        headline: headline.map(str::to_owned),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_top_card_company_picks_one_of_two_namesakes_and_the_card_says_so() {
    let (c, _) = start().await;
    // The headline names no company: the top card's "Current company" does.
    let card =
        profile(&c, "alex-morgan-initech", shows("Alex Morgan", Some("Initech"), None, Some("Operations"))).await;
    assert_eq!(card.status, CardStatus::Matched, "{:?}", card.candidates);
    assert_eq!(card.entity.as_ref().unwrap().emails, ["alex.morgan@initech.test"]);
    assert_eq!(card.matched_on, Some(MatchBasis::NameAndCompany));
    assert_eq!(card.page_person.as_ref().unwrap().company.as_deref(), Some("Initech"));

    // LinkedIn's own way of writing the company ("… - We're hiring") still names it.
    let card = profile(&c, "amorgan", shows("Alex Morgan", Some("Globex - We're hiring"), None, None)).await;
    assert_eq!(card.entity.as_ref().unwrap().emails, ["alex.morgan@globex.test"]);
    assert_eq!(card.matched_on, Some(MatchBasis::NameAndCompany));

    // The company's LinkedIn page alone (its slug spells the organization).
    let card = profile(
        &c,
        "amorgan",
        shows("Alex Morgan", Some("Initech Worldwide"), Some("https://www.linkedin.com/company/initech/"), None),
    )
    .await;
    assert_eq!(card.entity.as_ref().unwrap().emails, ["alex.morgan@initech.test"]);
}

#[tokio::test]
async fn without_a_company_namesakes_stay_several_matches_and_one_name_is_name_only() {
    let (c, _) = start().await;
    let card = profile(&c, "alex-morgan", shows("Alex Morgan", None, None, Some("Operations"))).await;
    assert_eq!(card.status, CardStatus::Ambiguous);
    assert_eq!(card.candidates.len(), 2);
    assert_eq!(card.matched_on, None);
    // A company neither works at: still both, never a guess.
    let card = profile(&c, "alex-morgan", shows("Alex Morgan", Some("Megacorp"), None, None)).await;
    assert_eq!((card.status, card.candidates.len()), (CardStatus::Ambiguous, 2));

    let bob = profile(&c, "bob-smith", shows("Bob Smith", None, None, None)).await;
    assert_eq!((bob.status, bob.matched_on), (CardStatus::Matched, Some(MatchBasis::NameOnly)));
    let bob = profile(&c, "bob-smith", shows("Bob Smith", None, None, Some("CTO at Acme Corporation"))).await;
    assert_eq!(bob.matched_on, Some(MatchBasis::NameAndCompany));
    let bob = profile(&c, "bob-smith", shows("Bob Smith", Some("Initech"), None, None)).await;
    assert_eq!((bob.status, bob.matched_on), (CardStatus::Matched, Some(MatchBasis::NameOnly)));
}

#[tokio::test]
async fn a_profile_not_in_affinity_is_created_once_and_linked_to_its_company() {
    let (c, sandbox) = start().await;
    let hints = shows("Ottoline Varga", Some("Acme Corporation"), None, Some("Head of Anvils"));
    let card = profile(&c, "ottoline-varga", hints.clone()).await;
    assert_eq!(card.status, CardStatus::NotFound);
    let seen = card.page_person.clone().expect("the page's person");
    assert_eq!(seen.name, "Ottoline Varga");
    let org = seen.organization.expect("Acme Corporation is in Affinity");
    assert_eq!((org.id, org.name.as_str()), (ids::ACME, "Acme Corporation"));

    let create = Action::CreatePerson {
        first_name: "Ottoline".into(),
        last_name: "Varga".into(),
        organization_id: Some(org.id),
        email: None,
    };
    let first = perform(&c, None, &create).await.unwrap();
    assert!(first.changed, "{first:?}");
    assert_eq!(first.message, "Ottoline Varga was added to Affinity.");
    let id = first.target.unwrap().id;
    // Clicked again (a double click, another tab with the old card): nothing new.
    let before = sandbox.requests_served();
    let again = perform(&c, None, &create).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.message, "Ottoline Varga is already in Affinity.");
    assert_eq!(again.target, Some(Target { kind: EntityKind::Person, id }));
    assert!(sandbox.requests_served() > before, "the check read Affinity, not the cache");
    let found = c.uncached().execute(&endpoints::search_persons(&SearchQuery::term("Ottoline Varga"))).await.unwrap();
    assert_eq!(found.items.len(), 1);
    let person = c.execute(&endpoints::person(id, DetailOptions::default())).await.unwrap();
    assert_eq!(person.organization_ids.unwrap_or_default(), [ids::ACME]);

    // Its card now: the person, by name and company.
    c.invalidate();
    let card = profile(&c, "ottoline-varga", hints).await;
    assert_eq!((card.status, card.matched_on), (CardStatus::Matched, Some(MatchBasis::NameAndCompany)));
    assert_eq!(card.entity.unwrap().id, id);
}

#[tokio::test]
async fn a_company_not_in_affinity_leaves_the_new_person_unlinked() {
    let (c, _) = start().await;
    let card = profile(&c, "pim-vos", shows("Pim Vos", Some("Nowhere Industries"), None, None)).await;
    assert_eq!(card.status, CardStatus::NotFound);
    let seen = card.page_person.unwrap();
    assert_eq!((seen.company.as_deref(), seen.organization), (Some("Nowhere Industries"), None));
    let made = perform(
        &c,
        None,
        &Action::CreatePerson { first_name: "Pim".into(), last_name: "Vos".into(), organization_id: None, email: None },
    )
    .await
    .unwrap();
    assert!(made.changed);
    let again = perform(
        &c,
        None,
        &Action::CreatePerson { first_name: "Pim".into(), last_name: "Vos".into(), organization_id: None, email: None },
    )
    .await
    .unwrap();
    assert!(!again.changed);
    assert_eq!(again.target, made.target);
}
