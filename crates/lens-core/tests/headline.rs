//! Headlines are page text: whatever a LinkedIn member writes there, reading the company
//! from it never panics, and what it gives is a piece of the headline.
#![cfg(not(target_arch = "wasm32"))]

use lens_core::PageHints;
use lens_core::page::{CompanyHint, company_in_headline};
use proptest::prelude::*;

/// Any Unicode, with the markers and separators the rule looks for mixed in often.
fn headline() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        Just(" at ".to_owned()),
        Just(" @ ".to_owned()),
        Just(" @".to_owned()),
        Just(" | ".to_owned()),
        Just("·".to_owned()),
        Just("•".to_owned()),
        Just("🧠".to_owned()),
        Just("ß".to_owned()),
        Just("株".to_owned()),
        Just("\u{301}".to_owned()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn any_headline_gives_a_trimmed_piece_of_itself_or_nothing(h in headline()) {
        if let Some(company) = company_in_headline(&h) {
            prop_assert!(!company.is_empty());
            prop_assert!(h.contains(&company), "{company:?} is not in {h:?}");
            prop_assert!(company.chars().next().is_some_and(char::is_alphanumeric));
            prop_assert!(company.chars().last().is_some_and(char::is_alphanumeric));
        }
    }

    #[test]
    fn any_headline_and_company_make_a_hint_that_compares_without_panicking(
        h in headline(), company in headline(), org in headline(), slug in "[a-z0-9-]{0,12}",
    ) {
        let hints = PageHints {
            headline: Some(h),
            company: Some(company),
            company_url: Some(format!("https://www.linkedin.com/company/{slug}/")),
            ..Default::default()
        };
        if let Some(employer) = hints.employer() {
            let CompanyHint { name, .. } = &employer;
            prop_assert!(!name.trim().is_empty());
            let _ = employer.core_name();
            let _ = employer.is_organization(&org, std::slice::from_ref(&org));
            let _ = employer.owns_email_domain(&org);
        }
    }
}

#[test]
fn the_at_sign_rule_cuts_on_character_boundaries() {
    // Before: the byte after " @ " plus one, so "wedbank | Pega Senior System Architect".
    assert_eq!(
        company_in_headline("SAFe certified Scrum Master @ Swedbank | Pega Senior System Architect").as_deref(),
        Some("Swedbank")
    );
    // A multi-byte character right after " @ " (this panicked before).
    assert_eq!(company_in_headline("Founder @ Ωmega").as_deref(), Some("Ωmega"));
    assert_eq!(company_in_headline("Founder @ é").as_deref(), Some("é"));
}
