//! Page resolution: from the URL in a tab to what to look up.

use std::sync::LazyLock;

use publicsuffix::Psl;

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
    /// The person's current company, where the page shows it (the profile's top card or
    /// its structured data).
    pub company: Option<String>,
    /// The current company's LinkedIn page, where the profile links it
    /// (`https://www.linkedin.com/company/acme`).
    pub company_url: Option<String>,
    /// A LinkedIn company page's website.
    pub website: Option<String>,
}

/// The most characters of a hint the lookup takes (page text: a name, a headline).
pub const MAX_HINT_CHARS: usize = 300;

impl PageHints {
    /// The hints as the lookup takes them: short, trimmed strings only (they are page text):
    /// each trimmed and cut to [`MAX_HINT_CHARS`] characters, an empty one left out. The
    /// extension's `lens:page` and the gateway's card API both take hints through it.
    pub fn cleaned(self) -> PageHints {
        let clean = |s: Option<String>| {
            s.map(|s| s.trim().chars().take(MAX_HINT_CHARS).collect::<String>()).filter(|s| !s.is_empty())
        };
        PageHints {
            title: clean(self.title),
            name: clean(self.name),
            headline: clean(self.headline),
            company: clean(self.company),
            company_url: clean(self.company_url),
            website: clean(self.website),
        }
    }

    /// Whether no hint is given.
    pub fn is_empty(&self) -> bool {
        *self == PageHints::default()
    }

    /// The company: the hint, else what the headline names after " at " or " @ "
    /// ([`company_in_headline`]).
    pub fn company(&self) -> Option<String> {
        self.company
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .or_else(|| company_in_headline(self.headline.as_deref()?))
    }

    /// The current company as a [`CompanyHint`]: its name ([`PageHints::company`]) and, when
    /// the page links it, its LinkedIn page's slug.
    pub fn employer(&self) -> Option<CompanyHint> {
        let name = self.company()?;
        let slug = self.company_url.as_deref().and_then(linkedin_company_slug);
        Some(CompanyHint { name, slug })
    }
}

/// The company a headline names: in the first of its parts (split at `|`, `·`, `•`) that
/// says "… at X" or "… @ X", the text after the last such marker, without the emoji or
/// punctuation around it. "SAFe certified Scrum Master @ Swedbank | Pega Senior System
/// Architect" → "Swedbank".
pub fn company_in_headline(headline: &str) -> Option<String> {
    headline.split(['|', '·', '•']).find_map(|part| {
        // The markers are ASCII: the byte after one is always a character boundary.
        let start = [" at ", " @ "].iter().filter_map(|m| part.rfind(m).map(|i| i + m.len())).max()?;
        let company = part[start..].trim_matches(|c: char| !c.is_alphanumeric());
        (!company.is_empty()).then(|| company.to_owned())
    })
}

/// The slug of a LinkedIn company page URL (`https://uk.linkedin.com/company/acme/?trk=x` →
/// `acme`; numeric ids too), lower-case.
pub fn linkedin_company_slug(url: &str) -> Option<String> {
    let url = url::Url::parse(url.trim()).ok()?;
    let host = url.host_str()?;
    if host != "linkedin.com" && !host.ends_with(".linkedin.com") {
        return None;
    }
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (Some("company"), Some(slug)) => Some(slug.to_lowercase()),
        _ => None,
    }
}

/// A person's current company as a page names it, to tell namesakes apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyHint {
    /// As the page writes it: "Insighture - We're hiring", "Recruitjob.se".
    pub name: String,
    /// The slug of its LinkedIn page, when linked: "insighture", or a numeric id.
    pub slug: Option<String>,
}

impl CompanyHint {
    /// The name without what LinkedIn pages add after a separator ("Insighture - We're
    /// hiring" → "Insighture", "Acme (YC W21)" → "Acme").
    pub fn core_name(&self) -> &str {
        let cut = [" - ", " – ", " | ", " (", ", "].iter().filter_map(|sep| self.name.find(sep)).min();
        let core = cut.map_or(self.name.as_str(), |i| &self.name[..i]).trim();
        if core.is_empty() { self.name.trim() } else { core }
    }

    /// Whether an organization with this name and these domains is this company: the same
    /// name (ignoring case, spaces, punctuation and a legal form such as "Inc" or
    /// "Corporation", with or without what follows a separator), a name that is one of its
    /// domains ("Recruitjob.se"), or a LinkedIn slug that spells its name or its domain's
    /// first label.
    pub fn is_organization(&self, org_name: &str, domains: &[String]) -> bool {
        let org = squash(org_name);
        if org.is_empty() {
            return false;
        }
        if org == squash(&self.name) || org == squash(self.core_name()) || company_key(org_name) == self.key() {
            return true;
        }
        let name = self.name.trim();
        if domains.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            return true;
        }
        self.slug
            .as_deref()
            .map(squash)
            .filter(|s| !s.is_empty() && !s.chars().all(|c| c.is_ascii_digit()))
            .is_some_and(|slug| {
                slug == org || domains.iter().any(|d| squash(d.split('.').next().unwrap_or_default()) == slug)
            })
    }

    /// Whether an email at `domain` is a work address at this company: the domain is the
    /// company's name ("Recruitjob.se"), or its first label spells the name without its
    /// legal form ("acme.com" for "Acme Corporation", "initech.io" for "Initech").
    pub fn owns_email_domain(&self, domain: &str) -> bool {
        let label = squash(domain.split('.').next().unwrap_or_default());
        !label.is_empty()
            && (label == squash(&self.name)
                || label == self.key()
                || self.name.trim().eq_ignore_ascii_case(domain.trim()))
    }

    fn key(&self) -> String {
        company_key(self.core_name())
    }
}

/// Legal forms and the like, dropped from the end of a company's name to compare it.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "gmbh",
    "ag",
    "ab",
    "sa",
    "sas",
    "bv",
    "nv",
    "oy",
    "as",
    "aps",
    "srl",
    "spa",
    "pty",
    "pte",
    "kk",
    "group",
    "holdings",
];

/// A company's name for comparing: letters and digits only, without a trailing legal
/// form ("Acme Corporation" → "acme", "Work&Coaching i Sverige AB" → "workcoachingisverige").
pub(crate) fn company_key(name: &str) -> String {
    let mut words: Vec<String> = name.split_whitespace().map(squash).filter(|w| !w.is_empty()).collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(&w.as_str())) {
        words.pop();
    }
    words.concat()
}

/// Lower-case letters and digits only: "Acme, Inc." → "acmeinc".
pub(crate) fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
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
    // IDN hosts become punycode, as the URL standard says and as domains are stored. The
    // standard also reads some numbers as IPv4 addresses (`0`, `127.1`, `0x7f.1`): no domain.
    let url = url::Url::parse(&format!("http://{host}/")).ok()?;
    let Some(url::Host::Domain(ascii)) = url.host() else { return None };
    let domain = PUBLIC_SUFFIXES.domain(ascii.as_bytes())?;
    std::str::from_utf8(domain.as_bytes()).ok().map(str::to_owned)
}

/// The Public Suffix List (`data/public_suffix_list.dat`, compacted by `build.rs`), read
/// on the first look-up. As data it is a fifth of the list compiled into code.
static PUBLIC_SUFFIXES: LazyLock<publicsuffix::List> = LazyLock::new(|| {
    include_str!(concat!(env!("OUT_DIR"), "/public_suffix_list.txt"))
        .parse()
        .expect("the Public Suffix List built in parses (tested)")
});

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
    fn the_built_in_public_suffix_list_is_whole() {
        let list = &*PUBLIC_SUFFIXES;
        let suffix = |host: &str| list.suffix(host.as_bytes()).map(|s| (s.as_bytes().to_vec(), s.typ()));
        use publicsuffix::Type;
        // Both sections, wildcards, exceptions, and IDN rules in their ASCII form.
        assert_eq!(suffix("www.example.co.uk"), Some((b"co.uk".to_vec(), Some(Type::Icann))));
        assert_eq!(suffix("someone.github.io"), Some((b"github.io".to_vec(), Some(Type::Private))));
        assert_eq!(registrable_domain("a.b.c.kawasaki.jp").as_deref(), Some("b.c.kawasaki.jp"));
        assert_eq!(registrable_domain("a.city.kawasaki.jp").as_deref(), Some("city.kawasaki.jp"));
        assert_eq!(registrable_domain("www.xn--85x722f.xn--fiqs8s").as_deref(), Some("xn--85x722f.xn--fiqs8s"));
    }

    #[test]
    fn a_headline_names_the_company_when_the_page_does_not() {
        let h = PageHints { headline: Some("CTO at Acme Corporation".into()), ..Default::default() };
        assert_eq!(h.company().as_deref(), Some("Acme Corporation"));
        let h =
            PageHints { company: Some("Globex".into()), headline: Some("CEO at Initech".into()), ..Default::default() };
        assert_eq!(h.company().as_deref(), Some("Globex"));
        assert_eq!(PageHints::default().company(), None);
        let h = PageHints { company: Some("  ".into()), headline: Some("CEO at Initech".into()), ..Default::default() };
        assert_eq!(h.company().as_deref(), Some("Initech"));
    }

    #[test]
    fn headlines_of_real_profiles_name_their_company() {
        let cases = [
            ("SAFe certified Scrum Master @ Swedbank | Pega Senior System Architect", Some("Swedbank")),
            (
                "Senior Software Engineer at Insighture | 2x AWS | AWS SAA | AWS DVA | Serverless Enthusiast",
                Some("Insighture"),
            ),
            ("Tech Education Lead, Tech Expert & Frontend Dev at Novare Potential", Some("Novare Potential")),
            (
                "Building businesses on the Internet | AI/ ML Experimenter 🔬 | Web3 Degen 🧪 | Co-Founder @ Aristotle 🧠 | Helping Founders",
                Some("Aristotle"),
            ),
            ("Board member of Mobvilla AB", None),
            ("Analytics Solutions | Data Architect & Engineer | Data Analytics Expert | Cloud Platform guru", None),
            ("Researcher.", None),
            // A multi-byte character right after the marker.
            ("Founder @ Ünïcødé Straße", Some("Ünïcødé Straße")),
            ("CTO @ 株式会社", Some("株式会社")),
            ("Engineer @ 🚀", None),
            ("at", None),
            (" @ ", None),
        ];
        for (headline, want) in cases {
            assert_eq!(company_in_headline(headline).as_deref(), want, "{headline}");
        }
    }

    #[test]
    fn linkedin_company_links_give_their_slug() {
        let cases = [
            ("https://lk.linkedin.com/company/aristotlehq?trk=ppro_cprof", Some("aristotlehq")),
            ("https://www.linkedin.com/company/5049/", Some("5049")),
            ("https://se.linkedin.com/company/Novare-Potential", Some("novare-potential")),
            ("https://www.linkedin.com/school/kth/", None),
            ("https://example.com/company/acme", None),
            ("not a url", None),
        ];
        for (url, want) in cases {
            assert_eq!(linkedin_company_slug(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn a_company_hint_recognises_its_organization() {
        let hint = |name: &str, slug: Option<&str>| CompanyHint { name: name.into(), slug: slug.map(str::to_owned) };
        let domains = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (hint("Initech", None), "Initech", domains(&["initech.test"]), true),
            (hint("Acme", None), "Acme Corporation", domains(&[]), true),
            (hint("ACME, Inc.", None), "Acme Corporation", domains(&[]), true),
            (hint("Insighture - We're hiring", Some("insighture")), "Insighture", domains(&[]), true),
            (hint("Recruitjob.se", None), "Recruit Job", domains(&["recruitjob.se"]), true),
            (hint("Aristotle - Co-Pilot for Cold Sales", Some("aristotlehq")), "Aristotle HQ", domains(&[]), true),
            (hint("Big Co", Some("5049")), "Swedbank", domains(&["swedbank.se"]), false),
            (hint("Globex", None), "Initech", domains(&["initech.test"]), false),
            (hint("Acme Corporation", None), "Acme Anvils (unrelated)", domains(&["acmeanvils.test"]), false),
            (hint("Group", None), "", domains(&[]), false),
        ];
        for (h, org, doms, want) in cases {
            assert_eq!(h.is_organization(org, &doms), want, "{h:?} vs {org}");
        }
        assert!(hint("Initech", None).owns_email_domain("initech.test"));
        assert!(hint("Acme Corporation", None).owns_email_domain("acme.com"));
        assert!(hint("Recruitjob.se", None).owns_email_domain("recruitjob.se"));
        assert!(!hint("Globex", None).owns_email_domain("initech.test"));
        assert!(!hint("Acme Corporation", None).owns_email_domain("gmail.test"));
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
