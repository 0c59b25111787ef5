//! What a mail client's page says of a thread is the page's word: no input panics, and
//! what comes out is checked.
#![cfg(not(target_arch = "wasm32"))]

use lens_core::mail::{Firm, MAX_NAME_CHARS, MAX_PARTICIPANTS, Role, Seen, SeenAddress, email_address};
use proptest::prelude::*;

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::From), Just(Role::To), Just(Role::Cc)]
}

fn address_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9._+'-]{0,70}@[a-zA-Z0-9.-]{0,40}",
        "[a-z]{1,8}@(acme|globex|gmail|sandboxventures)\\.(test|com|co\\.uk)",
    ]
}

proptest! {
    #[test]
    fn an_address_that_checks_is_its_own_normal_form(text in address_like()) {
        if let Some(address) = email_address(&text) {
            prop_assert_eq!(email_address(&address), Some(address.clone()));
            prop_assert!(address.len() <= 254);
            prop_assert_eq!(address.matches('@').count(), 1);
            prop_assert!(!address.chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn any_thread_gives_checked_distinct_participants_none_of_them_the_firm(
        addresses in proptest::collection::vec((address_like(), proptest::option::of(any::<String>()), role()), 0..80),
        me in proptest::collection::vec(address_like(), 0..3),
    ) {
        let firm = Firm::new(["alex@sandboxventures.test"], ["priya@sandboxventures.test"]);
        let seen = Seen {
            addresses: addresses.into_iter().map(|(email, name, role)| SeenAddress { email, name, role }).collect(),
            me: me.clone(),
        };
        let got = seen.participants(&firm);
        prop_assert!(got.len() <= MAX_PARTICIPANTS);
        for (i, p) in got.iter().enumerate() {
            prop_assert_eq!(email_address(&p.email), Some(p.email.clone()));
            prop_assert!(!p.email.ends_with("@sandboxventures.test"));
            prop_assert!(!me.iter().filter_map(|m| email_address(m)).any(|m| m == p.email));
            prop_assert!(got[..i].iter().all(|q| q.email != p.email));
            prop_assert!(p.name.as_ref().is_none_or(|n| !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS));
            prop_assert!(!p.roles.is_empty());
        }
    }
}
