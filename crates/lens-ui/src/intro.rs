//! "Ask for an intro": a `mailto:` draft to the colleague who knows the contact best. The
//! user's mail client opens it; the Lens sends nothing.

use lens_core::card::Connection;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a `mailto:` URL's parts may leave as they are (RFC 3986's unreserved characters):
/// everything else is percent-encoded, spaces as `%20` (a `+` would stay a plus).
const PART: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The draft to `c.colleague` about meeting `c.contact` (of `company`, when the card is a
/// company's): `None` when the colleague's address is not known, or is not one address.
pub fn intro_mailto(c: &Connection, company: Option<&str>) -> Option<String> {
    let to = c.colleague.email.as_deref()?.trim();
    let plain = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    let (contact, colleague) = (plain(&c.contact.name), plain(&c.colleague.name));
    let (contact, colleague) = (contact.trim(), colleague.trim());
    let valid = to.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
        && to.chars().all(|ch| ch.is_ascii_graphic() && !matches!(ch, '?' | '&' | '#' | ',' | '<' | '>' | '"'));
    if !valid || contact.is_empty() {
        return None;
    }
    let at =
        company.map(plain).filter(|s| !s.trim().is_empty()).map(|s| format!(" at {}", s.trim())).unwrap_or_default();
    let first = colleague.split_whitespace().next().unwrap_or(colleague);
    let subject = format!("Intro to {contact}{at}?");
    let strength = lens_core::pill::strength_word(c.strength).to_lowercase();
    let body = format!(
        "Hi {first}, could you introduce me to {contact}{at}?\r\nAffinity shows you know {contact} best on the team ({strength}, {:.2}).",
        c.strength
    );
    let enc = |s: &str| utf8_percent_encode(s, PART).to_string();
    Some(format!("mailto:{}?subject={}&body={}", enc(to).replace("%40", "@"), enc(&subject), enc(&body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lens_core::card::PersonRef;

    fn connection(email: Option<&str>) -> Connection {
        Connection {
            colleague: PersonRef { id: 1, name: "Alice Doe".into(), email: email.map(str::to_owned) },
            contact: PersonRef { id: 2, name: "Bob Smith".into(), email: Some("bob@acme.test".into()) },
            strength: 0.82,
        }
    }

    #[test]
    fn the_draft_names_the_contact_the_company_and_the_relationship() {
        let url = intro_mailto(&connection(Some("alice@firm.test")), Some("Acme & Sons")).unwrap();
        assert_eq!(
            url,
            "mailto:alice@firm.test?subject=Intro%20to%20Bob%20Smith%20at%20Acme%20%26%20Sons%3F\
             &body=Hi%20Alice%2C%20could%20you%20introduce%20me%20to%20Bob%20Smith%20at%20Acme%20%26%20Sons%3F%0D%0A\
             Affinity%20shows%20you%20know%20Bob%20Smith%20best%20on%20the%20team%20%28strong%2C%200.82%29."
        );
        // A person's card: no company.
        let url = intro_mailto(&connection(Some("alice@firm.test")), None).unwrap();
        assert!(url.starts_with("mailto:alice@firm.test?subject=Intro%20to%20Bob%20Smith%3F&body="), "{url}");
    }

    #[test]
    fn no_draft_without_one_plain_address() {
        assert_eq!(intro_mailto(&connection(None), None), None);
        for bad in
            ["alice", "alice@firm.test?cc=eve@evil.test", "a@b.test,eve@evil.test", "al ice@firm.test", "@firm.test"]
        {
            assert_eq!(intro_mailto(&connection(Some(bad)), None), None, "{bad}");
        }
    }
}
