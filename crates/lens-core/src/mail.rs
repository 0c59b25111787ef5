//! An email thread's participants: which of them the Lens looks up, and under which
//! company (issue #22, the Gmail card).
//!
//! The content script reads the addresses and display names a mail client shows in a
//! thread's header area (senders, To and Cc of each message) and the addresses it marks as
//! the user's own. All of that is the page's word: [`Seen::participants`] turns it into the
//! external participants, each address checked ([`email_address`]), capped, and told apart:
//!
//! - the user's own addresses (what the mail client marks as "me", and the key's own user
//!   from `whoami`) are left out;
//! - colleagues (an address at one of the firm's domains: the team's email domains) are
//!   left out;
//! - everybody else is a participant; their company is the registrable domain of their
//!   address, unless that is a free-mail provider ([`is_free_mail`]), where a person has no
//!   company by their address.
//!
//! Nothing here reads a subject or a body: they never reach this module.

use serde::{Deserialize, Serialize};

use crate::card::Card;
use crate::page::registrable_domain;

/// At most this many participants are read from one thread (a mailing list's thread can
/// name hundreds; the card shows the first ones in the thread's order).
pub const MAX_PARTICIPANTS: usize = 30;
/// At most this many addresses are taken from the page as "seen", before any check.
pub const MAX_SEEN: usize = 500;
/// A display name longer than this is cut (on a character boundary).
pub const MAX_NAME_CHARS: usize = 120;
/// RFC 5321's limits: 64 for the local part, 254 for the whole address.
const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;

/// Domains of free-mail providers: an address there says nothing of its owner's company.
///
/// The crate made for this (`email_provider_validator`) downloads its list when it is
/// built, which builds here cannot; these are the providers with the most users (each
/// country's largest), which is what decides a thread's company in practice. A domain not
/// listed is treated as a company's, and its company is simply not found.
const FREE_MAIL: &[&str] = &[
    "126.com",
    "139.com",
    "163.com",
    "aim.com",
    "aol.co.uk",
    "aol.com",
    "bigpond.com",
    "btinternet.com",
    "comcast.net",
    "email.com",
    "fastmail.com",
    "fastmail.fm",
    "free.fr",
    "freenet.de",
    "gmail.com",
    "gmx.at",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hey.com",
    "hotmail.co.uk",
    "hotmail.com",
    "hotmail.de",
    "hotmail.fr",
    "hotmail.it",
    "hushmail.com",
    "icloud.com",
    "inbox.com",
    "laposte.net",
    "libero.it",
    "live.co.uk",
    "live.com",
    "live.fr",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "naver.com",
    "orange.fr",
    "outlook.com",
    "outlook.de",
    "outlook.fr",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "rambler.ru",
    "rediffmail.com",
    "sbcglobal.net",
    "seznam.cz",
    "sfr.fr",
    "t-online.de",
    "tutanota.com",
    "uol.com.br",
    "verizon.net",
    "web.de",
    "wp.pl",
    "yahoo.ca",
    "yahoo.co.in",
    "yahoo.co.jp",
    "yahoo.co.uk",
    "yahoo.com",
    "yahoo.com.au",
    "yahoo.com.br",
    "yahoo.de",
    "yahoo.fr",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zoho.com",
];

/// Whether `domain` (registrable, lower-case) belongs to a free-mail provider.
pub fn is_free_mail(domain: &str) -> bool {
    FREE_MAIL.binary_search(&domain).is_ok()
}

/// An email address as the Lens uses it: trimmed, lower-case, one `@`, a local part of 1 to
/// 64 characters without spaces, quotes, angle brackets or control characters, a domain
/// that is a host name with a registrable domain, 254 characters at most. `None` for
/// anything else (a page's text is not an address because it has an `@`).
pub fn email_address(text: &str) -> Option<String> {
    let text = text.trim().trim_start_matches("mailto:");
    if text.is_empty() || text.len() > MAX_ADDRESS {
        return None;
    }
    let (local, domain) = text.rsplit_once('@')?;
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || matches!(c, '@' | '"' | '<' | '>' | ',' | ';' | '(' | ')');
    if local.is_empty() || local.len() > MAX_LOCAL || local.chars().any(bad) {
        return None;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return None;
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let ascii = domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ascii || registrable_domain(&domain).is_none() {
        return None;
    }
    Some(format!("{}@{domain}", local.to_lowercase()))
}

/// Where a participant was seen in a message's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    From,
    To,
    Cc,
}

/// One address as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenAddress {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: Role,
}

/// What the content script read from a thread's header area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// In the thread's order (first message first).
    pub addresses: Vec<SeenAddress>,
    /// The addresses the mail client marks as the user's own.
    #[serde(default)]
    pub me: Vec<String>,
}

/// Who the user and the firm are, to leave them out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Firm {
    /// The key's own user's addresses (`whoami`).
    pub own_addresses: Vec<String>,
    /// The team's email domains (registrable).
    pub domains: Vec<String>,
}

impl Firm {
    /// The firm from the key's user's address and the team's addresses (each registrable
    /// domain once; free-mail domains are never the firm's).
    pub fn new<'a>(own: impl IntoIterator<Item = &'a str>, team: impl IntoIterator<Item = &'a str>) -> Firm {
        let own_addresses: Vec<String> = own.into_iter().filter_map(email_address).collect();
        let domain_of =
            |a: &str| email_address(a).and_then(|a| a.split_once('@').and_then(|(_, d)| registrable_domain(d)));
        let mut domains: Vec<String> = own_addresses
            .iter()
            .filter_map(|a| domain_of(a))
            .chain(team.into_iter().filter_map(domain_of))
            .filter(|d| !is_free_mail(d))
            .collect();
        domains.sort();
        domains.dedup();
        Firm { own_addresses, domains }
    }
}

/// An external participant of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub email: String,
    /// The display name the thread shows, if any (cut to [`MAX_NAME_CHARS`]).
    pub name: Option<String>,
    /// Every role the address has in the thread, in order (from, to, cc).
    pub roles: Vec<Role>,
    /// The registrable domain of the address, when it is a company's (not free mail).
    pub company_domain: Option<String>,
}

/// A display name as shown: spaces collapsed, control characters dropped, cut to
/// [`MAX_NAME_CHARS`]; `None` when nothing is left or it is the address itself.
fn display_name(name: Option<&str>, email: &str) -> Option<String> {
    let cleaned: String = name?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_matches(['"', '\'']).trim().to_owned();
    (!cleaned.is_empty() && !cleaned.eq_ignore_ascii_case(email)).then_some(cleaned)
}

impl Seen {
    /// The thread's external participants, in the thread's order, each address once, at
    /// most [`MAX_PARTICIPANTS`]: not the user (as the page marks them or as `firm` says),
    /// not a colleague (an address at one of the firm's domains), not an address that does
    /// not check.
    pub fn participants(&self, firm: &Firm) -> Vec<Participant> {
        let me: Vec<String> = self
            .me
            .iter()
            .take(MAX_SEEN)
            .filter_map(|a| email_address(a))
            .chain(firm.own_addresses.iter().cloned())
            .collect();
        let mut out: Vec<Participant> = Vec::new();
        for seen in self.addresses.iter().take(MAX_SEEN) {
            let Some(email) = email_address(&seen.email) else { continue };
            if me.contains(&email) {
                continue;
            }
            let Some(domain) = email.split_once('@').and_then(|(_, d)| registrable_domain(d)) else { continue };
            if firm.domains.contains(&domain) {
                continue;
            }
            if let Some(known) = out.iter_mut().find(|p| p.email == email) {
                if !known.roles.contains(&seen.role) {
                    known.roles.push(seen.role);
                    known.roles.sort();
                }
                if known.name.is_none() {
                    known.name = display_name(seen.name.as_deref(), &email);
                }
                continue;
            }
            if out.len() == MAX_PARTICIPANTS {
                continue;
            }
            let company_domain = (!is_free_mail(&domain)).then_some(domain);
            let name = display_name(seen.name.as_deref(), &email);
            out.push(Participant { email, name, roles: vec![seen.role], company_domain });
        }
        out
    }
}

/// The pill of a thread: "3 people · 2 in Affinity · Acme: Diligence" (the company and
/// Status shown when one is known), "1 person · not in Affinity", or "No one outside the
/// firm" for a thread of colleagues.
pub fn thread_pill(people: usize, in_affinity: usize, company_status: Option<(&str, Option<&str>)>) -> String {
    if people == 0 {
        return "No one outside the firm".to_owned();
    }
    let who = if people == 1 { "1 person".to_owned() } else { format!("{people} people") };
    let known = match in_affinity {
        0 if people == 1 => "not in Affinity".to_owned(),
        0 => "none in Affinity".to_owned(),
        n => format!("{n} in Affinity"),
    };
    match company_status {
        Some((company, Some(status))) => format!("{who} · {known} · {company}: {status}"),
        Some((company, None)) => format!("{who} · {known} · {company}"),
        None => format!("{who} · {known}"),
    }
}

/// The pill of a thread's card.
pub fn thread_card_pill(card: &Card) -> String {
    let in_affinity = card.thread.iter().filter(|t| t.person.is_some()).count();
    let company = card.thread.iter().find_map(|t| {
        let org = t.organization.as_ref()?;
        let status = t.lists.iter().find_map(|l| l.status.as_ref()).map(|s| s.text.as_str());
        Some((org.name.as_str(), status))
    });
    thread_pill(card.thread.len(), in_affinity, company)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_mail_list_is_sorted_lower_case_and_registrable() {
        assert!(FREE_MAIL.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicate (binary search)");
        for d in FREE_MAIL {
            assert_eq!(registrable_domain(d).as_deref(), Some(*d), "{d} is a registrable domain");
        }
        assert!(is_free_mail("gmail.com") && !is_free_mail("acme.test"));
    }

    #[test]
    fn addresses_are_checked_and_normalised() {
        let ok = [
            (" Maya@Acme.TEST ", "maya@acme.test"),
            ("mailto:bob.smith@mail.acme.co.uk", "bob.smith@mail.acme.co.uk"),
            ("o'neil+deals@globex.test.", "o'neil+deals@globex.test"),
        ];
        for (text, want) in ok {
            assert_eq!(email_address(text).as_deref(), Some(want), "{text:?}");
        }
        let bad = [
            "",
            "maya",
            "@acme.test",
            "maya@",
            "maya@localhost",
            "maya@127.0.0.1",
            "maya smith@acme.test",
            "<maya@acme.test>",
            "maya@acme.test, bob@acme.test",
            ".maya@acme.test",
            "ma..ya@acme.test",
            "maya@co.uk",
            "maya@ex ample.com",
        ];
        for text in bad {
            assert_eq!(email_address(text), None, "{text:?}");
        }
        assert_eq!(email_address(&format!("{}@acme.test", "a".repeat(65))), None);
        assert_eq!(email_address(&format!("a@{}.test", "b".repeat(250))), None);
    }

    fn seen(email: &str, name: &str, role: Role) -> SeenAddress {
        SeenAddress { email: email.into(), name: Some(name.into()), role }
    }

    #[test]
    fn a_thread_s_external_participants_leave_out_the_user_the_firm_and_bad_addresses() {
        let firm = Firm::new(["alex@sandboxventures.test"], ["priya@sandboxventures.test", "sam@gmail.com"]);
        assert_eq!(firm.domains, ["sandboxventures.test"], "a colleague's gmail is not the firm's domain");
        let thread = Seen {
            addresses: vec![
                seen("Maya@acme.test", "Maya  Chen", Role::From),
                seen("alex@sandboxventures.test", "Alex", Role::To),
                seen("jordan@bankerly.test", "\"Jordan Lee\"", Role::Cc),
                seen("priya@SandboxVentures.test", "Priya", Role::Cc),
                seen("alex.personal@gmail.com", "Alex", Role::Cc),
                seen("not an address", "Nobody", Role::Cc),
                seen("maya@acme.test", "Maya Chen", Role::To),
                seen("kim@gmail.com", "kim@gmail.com", Role::Cc),
            ],
            me: vec!["alex.personal@gmail.com".into()],
        };
        let got = thread.participants(&firm);
        type Row<'a> = (&'a str, Option<&'a str>, &'a [Role], Option<&'a str>);
        let summary: Vec<Row> = got
            .iter()
            .map(|p| (p.email.as_str(), p.name.as_deref(), p.roles.as_slice(), p.company_domain.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("maya@acme.test", Some("Maya Chen"), &[Role::From, Role::To][..], Some("acme.test")),
                ("jordan@bankerly.test", Some("Jordan Lee"), &[Role::Cc][..], Some("bankerly.test")),
                ("kim@gmail.com", None, &[Role::Cc][..], None),
            ]
        );
    }

    #[test]
    fn a_long_thread_is_capped_and_names_are_cut() {
        let addresses = (0..100)
            .map(|i| SeenAddress { email: format!("p{i}@co{i}.test"), name: Some("N".repeat(500)), role: Role::Cc })
            .collect();
        let got = Seen { addresses, me: vec![] }.participants(&Firm::default());
        assert_eq!(got.len(), MAX_PARTICIPANTS);
        assert_eq!(got[0].email, "p0@co0.test");
        assert!(got.iter().all(|p| p.name.as_ref().is_some_and(|n| n.chars().count() == MAX_NAME_CHARS)));
    }

    #[test]
    fn the_pill_says_how_many_and_what_the_firm_knows() {
        assert_eq!(thread_pill(3, 2, Some(("Acme", Some("Diligence")))), "3 people · 2 in Affinity · Acme: Diligence");
        assert_eq!(thread_pill(1, 0, None), "1 person · not in Affinity");
        assert_eq!(thread_pill(2, 0, None), "2 people · none in Affinity");
        assert_eq!(thread_pill(2, 1, Some(("Globex", None))), "2 people · 1 in Affinity · Globex");
        assert_eq!(thread_pill(0, 0, None), "No one outside the firm");
    }
}
