//! Page resolution: from the URL in a tab to what to look up.

use crate::card::{Query, QueryKind};

/// Sites never looked up: search engines, webmail, social networks other than LinkedIn,
/// and Affinity itself. Matched against the registrable domain. Users extend it.
pub const NEVER_LOOK_UP: &[&str] = &[
    "google.com",
    "bing.com",
    "duckduckgo.com",
    "yahoo.com",
    "baidu.com",
    "yandex.ru",
    "ecosia.org",
    "gmail.com",
    "outlook.com",
    "live.com",
    "office.com",
    "hotmail.com",
    "proton.me",
    "protonmail.com",
    "icloud.com",
    "facebook.com",
    "instagram.com",
    "twitter.com",
    "x.com",
    "tiktok.com",
    "youtube.com",
    "reddit.com",
    "pinterest.com",
    "threads.net",
    "bsky.app",
    "affinity.co",
];

/// What the content script can read from the page besides its URL. All optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PageHints {
    /// The page title.
    pub title: Option<String>,
    /// A LinkedIn profile's or company page's name.
    pub name: Option<String>,
    /// A LinkedIn profile's headline ("CTO at Acme").
    pub headline: Option<String>,
    /// The person's current company, where the page shows it.
    pub company: Option<String>,
    /// A LinkedIn company page's website.
    pub website: Option<String>,
}

impl PageHints {
    /// The company: the hint, else what follows " at " in the headline.
    pub fn company(&self) -> Option<String> {
        self.company.clone().filter(|c| !c.trim().is_empty()).or_else(|| {
            let h = self.headline.as_deref()?;
            let at = h.rfind(" at ").or_else(|| h.rfind(" @ "))?;
            let company = h[at + 4..].trim();
            (!company.is_empty()).then(|| company.to_owned())
        })
    }
}

/// Why a page gives nothing to look up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Not an http(s) page with a registrable domain (an IP address, `localhost`, a file).
    #[error("nothing to look up on {0}")]
    Unsupported(String),
    /// The site is on the never-look-up list (built-in or the user's).
    #[error("{} is on the never-look-up list", .0.value)]
    Ignored(Query),
}

/// Turns a page URL into a query: the registrable domain of a company site (public suffix
/// aware, so `www.shop.acme.co.uk` is `acme.co.uk`), or a canonical LinkedIn person or
/// company URL. `user_ignored` extends [`NEVER_LOOK_UP`].
pub fn resolve_page(page_url: &str, user_ignored: &[String]) -> Result<Query, PageError> {
    let url = url::Url::parse(page_url.trim()).map_err(|_| PageError::Unsupported(page_url.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(PageError::Unsupported(page_url.to_owned()));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        _ => return Err(PageError::Unsupported(page_url.to_owned())),
    };
    let domain = registrable_domain(&host).ok_or_else(|| PageError::Unsupported(page_url.to_owned()))?;

    let user_ignores = |site: &str| user_ignored.iter().any(|i| is_same_site(site, i));
    if domain == "linkedin.com" {
        let segments: Vec<&str> =
            url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
        let query = match segments.as_slice() {
            ["in", slug, ..] => Ok(Query {
                kind: QueryKind::LinkedinPerson,
                value: format!("https://www.linkedin.com/in/{}", slug.to_ascii_lowercase()),
            }),
            ["company", slug, ..] => Ok(Query {
                kind: QueryKind::LinkedinCompany,
                value: format!("https://www.linkedin.com/company/{}", slug.to_ascii_lowercase()),
            }),
            _ => Err(PageError::Ignored(Query { kind: QueryKind::Domain, value: domain.clone() })),
        };
        // The user can switch LinkedIn off too (never look up, or pause).
        return match query {
            Ok(q) if user_ignores(&domain) => Err(PageError::Ignored(q)),
            other => other,
        };
    }

    let query = Query { kind: QueryKind::Domain, value: domain };
    let ignored = NEVER_LOOK_UP.iter().any(|i| is_same_site(&query.value, i)) || user_ignores(&query.value);
    if ignored { Err(PageError::Ignored(query)) } else { Ok(query) }
}

/// The registrable domain (eTLD+1) of a host name, if it has one. A trailing dot (the
/// fully qualified form) is ignored; a host with an empty label (`.example.com`,
/// `a..example.com`) is not a host name and has none, as the Public Suffix List's tests say.
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.split('.').any(str::is_empty) || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    // IDN hosts become punycode, as the URL standard says and as domains are stored.
    let ascii = url::Url::parse(&format!("http://{host}/")).ok()?.host_str()?.to_owned();
    let domain = psl::domain_str(&ascii)?;
    Some(domain.to_owned())
}

fn is_same_site(domain: &str, entry: &str) -> bool {
    let entry = entry.trim().trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
    !entry.is_empty() && (domain == entry || domain.ends_with(&format!(".{entry}")))
}

/// Like [`resolve_page`], using page hints: a LinkedIn company page with a website is
/// looked up by that website's domain.
pub fn resolve_page_with_hints(page_url: &str, hints: &PageHints, user_ignored: &[String]) -> Result<Query, PageError> {
    let query = resolve_page(page_url, user_ignored)?;
    if query.kind == QueryKind::LinkedinCompany
        && let Some(site) = hints.website.as_deref()
    {
        let site = if site.contains("://") { site.to_owned() } else { format!("https://{site}") };
        if let Ok(q) = resolve_page(&site, user_ignored) {
            return Ok(q);
        }
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_headline_names_the_company_when_the_page_does_not() {
        let h = PageHints { headline: Some("CTO at Acme Corporation".into()), ..Default::default() };
        assert_eq!(h.company().as_deref(), Some("Acme Corporation"));
        let h =
            PageHints { company: Some("Globex".into()), headline: Some("CEO at Initech".into()), ..Default::default() };
        assert_eq!(h.company().as_deref(), Some("Globex"));
        assert_eq!(PageHints::default().company(), None);
    }

    #[test]
    fn a_linkedin_company_page_with_a_website_is_looked_up_by_its_domain() {
        let hints = PageHints { website: Some("https://www.acme.com/".into()), ..Default::default() };
        let q = resolve_page_with_hints("https://www.linkedin.com/company/acme-corp/", &hints, &[]).unwrap();
        assert_eq!((q.kind, q.value.as_str()), (QueryKind::Domain, "acme.com"));
        let q =
            resolve_page_with_hints("https://www.linkedin.com/company/acme-corp/", &PageHints::default(), &[]).unwrap();
        assert_eq!(q.kind, QueryKind::LinkedinCompany);
    }

    fn domain_of(url: &str) -> Option<String> {
        match resolve_page(url, &[]) {
            Ok(Query { kind: QueryKind::Domain, value }) => Some(value),
            _ => None,
        }
    }

    #[test]
    fn company_sites_resolve_to_their_registrable_domain() {
        let cases = [
            ("https://acme.com", "acme.com"),
            ("https://www.acme.com/about?x=1#team", "acme.com"),
            ("https://www.shop.acme.co.uk/", "acme.co.uk"),
            ("http://ACME.io:8080/path", "acme.io"),
            ("https://blog.acme.com.au/", "acme.com.au"),
            ("http://acme.test:4000/", "acme.test"),
            ("https://münchen-startup.de/", "xn--mnchen-startup-gsb.de"),
            ("https://acme.github.io/", "acme.github.io"),
            ("https://m.acme.com/", "acme.com"),
            ("https://WWW.ACME.COM./", "acme.com"),
            ("https://user:pw@acme.io:8443/x?y#z", "acme.io"),
            ("https://docs.acme.dev/guide", "acme.dev"),
            ("https://acme.co.jp/", "acme.co.jp"),
            ("https://shop.acme.com.br/produtos", "acme.com.br"),
            ("https://www.acme.ac.uk/", "acme.ac.uk"),
            ("https://acme.vercel.app/", "acme.vercel.app"),
            ("https://xn--mnchen-startup-gsb.de/", "xn--mnchen-startup-gsb.de"),
            ("https://app.acme.io/login?next=/dashboard", "acme.io"),
            ("http://acme.localhost:8788/", "acme.localhost"),
        ];
        for (url, want) in cases {
            assert_eq!(domain_of(url).as_deref(), Some(want), "{url}");
        }
    }

    #[test]
    fn pages_without_a_domain_are_unsupported() {
        for url in [
            "http://127.0.0.1:8787/",
            "http://[::1]/",
            "file:///tmp/x.html",
            "chrome://extensions",
            "not a url",
            "http://localhost/",
        ] {
            assert!(matches!(resolve_page(url, &[]), Err(PageError::Unsupported(_))), "{url}");
        }
    }

    #[test]
    fn never_look_up_sites_are_ignored_and_users_can_add_their_own() {
        for url in [
            "https://www.google.com/search?q=acme",
            "https://mail.google.com/",
            "https://app.affinity.co/",
            "https://x.com/acme",
        ] {
            assert!(matches!(resolve_page(url, &[]), Err(PageError::Ignored(_))), "{url}");
        }
        let mine = vec!["intranet.example".to_owned()];
        assert!(matches!(resolve_page("https://wiki.intranet.example/", &mine), Err(PageError::Ignored(_))));
        assert!(resolve_page("https://wiki.intranet.example/", &[]).is_ok());
        // LinkedIn is looked up unless the user says otherwise.
        let profile = "https://www.linkedin.com/in/amorgan";
        assert!(resolve_page(profile, &[]).is_ok());
        assert!(matches!(resolve_page(profile, &["linkedin.com".to_owned()]), Err(PageError::Ignored(_))));
    }

    #[test]
    fn linkedin_profiles_and_companies_have_canonical_urls() {
        let person = resolve_page("https://www.linkedin.com/in/Jane-Doe-123/details/?trk=x", &[]).unwrap();
        assert_eq!(person.kind, QueryKind::LinkedinPerson);
        assert_eq!(person.value, "https://www.linkedin.com/in/jane-doe-123");
        let company = resolve_page("https://linkedin.com/company/acme/about/", &[]).unwrap();
        assert_eq!(company.kind, QueryKind::LinkedinCompany);
        assert_eq!(company.value, "https://www.linkedin.com/company/acme");
        assert!(matches!(resolve_page("https://www.linkedin.com/feed/", &[]), Err(PageError::Ignored(_))));
        for (url, want) in [
            ("https://de.linkedin.com/in/jane-doe-123", "https://www.linkedin.com/in/jane-doe-123"),
            (
                "https://www.linkedin.com/in/jane-doe-123/overlay/contact-info/",
                "https://www.linkedin.com/in/jane-doe-123",
            ),
            ("https://linkedin.com/in/JANE-DOE-123?originalSubdomain=uk", "https://www.linkedin.com/in/jane-doe-123"),
            ("https://www.linkedin.com/company/acme/posts/?feedView=all", "https://www.linkedin.com/company/acme"),
        ] {
            assert_eq!(resolve_page(url, &[]).unwrap().value, want, "{url}");
        }
    }
}
