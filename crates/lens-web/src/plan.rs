//! What to do with a page, decided once per page view: what to look up, whether to show
//! the pill, and whether to look it up now or only when the user asks (the month's budget
//! is low); and the badge each outcome puts on the toolbar button.

use affinity_api::limiter::MonthlyBudget;
use lens_core::{Card, CardError, CardStatus, ErrorKind, PageError, PageHints, Query, resolve_page_with_hints};
use serde::{Deserialize, Serialize};

use crate::settings::Settings;

/// What the Lens does with a page.
#[derive(Debug, Clone, PartialEq)]
pub enum PagePlan {
    /// Nothing to look up (no registrable domain: an IP address, a browser page).
    Nothing,
    /// A site on the never-look-up list: nothing is looked up and nothing shown.
    Never(Query),
    /// A page view: looked up now, on demand, or not at all (paused).
    View(Box<PageView>),
}

/// A page the Lens has a card for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageView {
    /// What is looked up, resolved from the URL and hints once.
    pub query: Query,
    /// What the page showed besides its URL (LinkedIn's name, headline, company).
    pub hints: PageHints,
    /// The page's site (its registrable domain, else its host), for pausing.
    pub site: Option<String>,
    /// When to look it up.
    pub when: When,
    /// Whether the pill shows on the page.
    pub pill: bool,
    /// The page's URL (the popup checks that a tab still shows it).
    pub url: String,
    /// An email thread's page view (`query.kind` `thread`): the addresses its header area
    /// showed.
    #[serde(default)]
    pub thread: Option<lens_core::mail::Seen>,
}

/// When a page is looked up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "when", content = "message", rename_all = "snake_case")]
pub enum When {
    /// At once.
    Now,
    /// Only when the user asks: the sentence says why.
    OnDemand(String),
    /// Never: the site is paused, which counts as never-look-up (the card says "Not
    /// looked up").
    Paused,
}

/// Plans a page: `budget` is the month's budget as Affinity's last answer said it.
pub fn plan_page(url: &str, hints: &PageHints, settings: &Settings, budget: Option<&MonthlyBudget>) -> PagePlan {
    let query = match resolve_page_with_hints(url, hints, &settings.ignored) {
        Ok(q) => q,
        Err(PageError::Ignored(q)) => return PagePlan::Never(q),
        Err(PageError::Unsupported(_)) => return PagePlan::Nothing,
    };
    let site = site_of(url);
    let paused = site.as_deref().is_some_and(|s| settings.is_paused(s));
    let when = if paused {
        When::Paused
    } else {
        match budget_low(settings, budget) {
            Some(sentence) => When::OnDemand(sentence),
            None => When::Now,
        }
    };
    PagePlan::View(Box::new(PageView {
        query,
        hints: hints.clone(),
        site,
        when,
        pill: settings.overlay && !paused,
        url: url.to_owned(),
        thread: None,
    }))
}

/// Whether `url` is Gmail's (where threads, not the site, are looked up).
pub fn is_gmail(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.scheme() == "https" && u.host_str() == Some("mail.google.com"))
}

/// Plans an open email thread in Gmail: its participants are looked up (Gmail's own domain
/// never is), now, on demand or not at all (Gmail's site paused). `None` for a thread id
/// that is not one, or a page that is not Gmail's.
pub fn plan_thread(
    url: &str,
    thread: &str,
    seen: lens_core::mail::Seen,
    settings: &Settings,
    budget: Option<&MonthlyBudget>,
) -> Option<PageView> {
    let id_ok = (16..=128).contains(&thread.len()) && thread.chars().all(|c| c.is_ascii_alphanumeric());
    if !is_gmail(url) || !id_ok {
        return None;
    }
    let site = site_of(url);
    let paused = site.as_deref().is_some_and(|s| settings.is_paused(s));
    let when =
        if paused { When::Paused } else { budget_low(settings, budget).map(When::OnDemand).unwrap_or(When::Now) };
    Some(PageView {
        query: Query { kind: lens_core::QueryKind::Thread, value: thread.to_owned() },
        hints: PageHints::default(),
        site,
        when,
        pill: settings.overlay && !paused,
        url: url.to_owned(),
        thread: Some(seen),
    })
}

/// A page's site: its registrable domain, else its host; `None` for a non-web URL.
pub fn site_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    Some(lens_core::page::registrable_domain(&host).unwrap_or(host))
}

/// When the month's budget is below the user's share: the sentence that says so.
pub fn budget_low(settings: &Settings, budget: Option<&MonthlyBudget>) -> Option<String> {
    if settings.api_key.is_empty() {
        return None;
    }
    let b = budget?;
    let left = b.percent_left()?;
    if left >= settings.on_demand_below {
        return None;
    }
    Some(format!(
        "This month's Affinity budget is low ({} of {} requests left), so pages are looked up only when you ask.",
        thousands(b.remaining.unwrap_or(0)),
        thousands(b.limit.unwrap_or(0))
    ))
}

/// 1234567 → "1,234,567".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A paused page's card: not looked up.
pub fn paused_card(view: &PageView) -> Card {
    Card::new(view.query.clone(), CardStatus::Ignored)
}

/// The toolbar button's badge for a tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Badge {
    pub text: String,
    /// Its background colour.
    pub color: String,
    /// The button's tooltip.
    pub title: String,
}

const GREY: &str = "#5b6577";

impl Badge {
    /// No badge: nothing looked up (yet).
    pub fn none() -> Badge {
        Badge { text: String::new(), color: GREY.into(), title: "Affinity Lens".into() }
    }

    /// The badge for a lookup's outcome: ✓ in Affinity, ? several matches, ! an error;
    /// nothing for not found, not looked up or nothing to look up.
    pub fn for_outcome(outcome: &Result<Card, CardError>) -> Badge {
        let (text, color) = match outcome {
            Ok(card) => match card.status {
                CardStatus::Matched => ("✓", "#1a7f37"),
                CardStatus::Ambiguous => ("?", "#b54708"),
                CardStatus::NotFound | CardStatus::Ignored => ("", GREY),
                CardStatus::Error => ("!", "#b42318"),
            },
            Err(e) if e.kind == ErrorKind::Unsupported => ("", GREY),
            Err(_) => ("!", "#b42318"),
        };
        let title = match outcome {
            Ok(Card { status: CardStatus::Matched, entity: Some(e), .. }) => {
                format!("Affinity Lens: {} is in Affinity", e.name)
            }
            _ => "Affinity Lens".to_owned(),
        };
        Badge { text: text.into(), color: color.into(), title }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lens_core::{CardEntity, EntityKind, QueryKind};

    fn keyed() -> Settings {
        Settings { api_key: "k".into(), ..Settings::default() }
    }

    fn budget(limit: i64, remaining: i64) -> MonthlyBudget {
        MonthlyBudget { limit: Some(limit), remaining: Some(remaining), unlimited: false, resets_at_ms: None }
    }

    fn view(plan: PagePlan) -> PageView {
        match plan {
            PagePlan::View(v) => *v,
            other => panic!("not a view: {other:?}"),
        }
    }

    #[test]
    fn a_company_site_is_looked_up_now_with_the_pill() {
        let v = view(plan_page("https://www.shop.acme.co.uk/about", &PageHints::default(), &keyed(), None));
        assert_eq!(v.query, Query { kind: QueryKind::Domain, value: "acme.co.uk".into() });
        assert_eq!(v.site.as_deref(), Some("acme.co.uk"));
        assert_eq!(v.when, When::Now);
        assert!(v.pill);
    }

    #[test]
    fn nothing_to_look_up_and_never_look_up_sites_get_no_page_view() {
        assert_eq!(plan_page("http://127.0.0.1:8080/", &PageHints::default(), &keyed(), None), PagePlan::Nothing);
        assert_eq!(plan_page("chrome://settings", &PageHints::default(), &keyed(), None), PagePlan::Nothing);
        assert!(matches!(
            plan_page("https://www.google.com/search?q=x", &PageHints::default(), &keyed(), None),
            PagePlan::Never(_)
        ));
        let mine = Settings { ignored: vec!["acme.com".into()], ..keyed() };
        assert!(matches!(plan_page("https://acme.com/", &PageHints::default(), &mine, None), PagePlan::Never(_)));
    }

    #[test]
    fn a_paused_site_counts_as_never_looked_up_and_shows_no_pill() {
        let s = keyed().with_paused("acme.com", true);
        let v = view(plan_page("https://www.acme.com/", &PageHints::default(), &s, None));
        assert_eq!(v.when, When::Paused);
        assert!(!v.pill);
        assert_eq!(paused_card(&v).status, CardStatus::Ignored);
    }

    #[test]
    fn the_pill_can_be_turned_off() {
        let s = Settings { overlay: false, ..keyed() };
        let v = view(plan_page("https://acme.com/", &PageHints::default(), &s, None));
        assert!(!v.pill);
        assert_eq!(v.when, When::Now, "the badge and popup still work");
    }

    #[test]
    fn below_the_share_of_the_budget_left_pages_wait_to_be_asked() {
        let low = budget(100_000, 4_000); // 4% left, below the default 5%
        let v = view(plan_page("https://acme.com/", &PageHints::default(), &keyed(), Some(&low)));
        assert_eq!(
            v.when,
            When::OnDemand("This month's Affinity budget is low (4,000 of 100,000 requests left), so pages are looked up only when you ask.".into())
        );
        assert!(v.pill, "the pill offers the look-up");
        let fine = budget(100, 70);
        assert_eq!(view(plan_page("https://acme.com/", &PageHints::default(), &keyed(), Some(&fine))).when, When::Now);
        let eighty = Settings { on_demand_below: 80.0, ..keyed() };
        assert!(matches!(
            view(plan_page("https://acme.com/", &PageHints::default(), &eighty, Some(&fine))).when,
            When::OnDemand(_)
        ));
        let unlimited = MonthlyBudget { unlimited: true, ..low };
        assert_eq!(
            view(plan_page("https://acme.com/", &PageHints::default(), &keyed(), Some(&unlimited))).when,
            When::Now
        );
        // No key: nothing is spent anyway (the card says to add one).
        assert_eq!(budget_low(&Settings::default(), Some(&low)), None);
    }

    #[test]
    fn a_linkedin_profile_is_looked_up_by_what_the_page_shows() {
        let hints = PageHints { name: Some("Bob Smith".into()), ..PageHints::default() };
        let v = view(plan_page("https://www.linkedin.com/in/bob-smith-123/", &hints, &keyed(), None));
        assert_eq!(v.query.kind, QueryKind::LinkedinPerson);
        assert_eq!(v.hints.name.as_deref(), Some("Bob Smith"));
        assert_eq!(v.site.as_deref(), Some("linkedin.com"));
    }

    #[test]
    fn the_badge_says_known_several_or_error() {
        let q = Query { kind: QueryKind::Domain, value: "acme.com".into() };
        let mut card = Card::new(q.clone(), CardStatus::Matched);
        card.entity = Some(CardEntity {
            kind: EntityKind::Organization,
            id: 1,
            name: "Acme".into(),
            domains: vec![],
            emails: vec![],
            affinity_url: None,
        });
        let b = Badge::for_outcome(&Ok(card));
        assert_eq!((b.text.as_str(), b.title.as_str()), ("✓", "Affinity Lens: Acme is in Affinity"));
        for (status, text) in [
            (CardStatus::Ambiguous, "?"),
            (CardStatus::NotFound, ""),
            (CardStatus::Ignored, ""),
            (CardStatus::Error, "!"),
        ] {
            assert_eq!(Badge::for_outcome(&Ok(Card::new(q.clone(), status))).text, text, "{status:?}");
        }
        assert_eq!(Badge::for_outcome(&Err(CardError::new(ErrorKind::NoKey, "x"))).text, "!");
        assert_eq!(Badge::for_outcome(&Err(CardError::new(ErrorKind::Unsupported, "x"))).text, "");
        assert_eq!(Badge::none().text, "");
    }

    #[test]
    fn numbers_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
