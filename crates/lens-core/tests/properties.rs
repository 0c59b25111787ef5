//! Property tests of what the Lens reads from a page or a server: page URLs and hosts, and
//! the Card from any JSON. A failing case found here is kept below as a named regression
//! test.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per property.
fn cases(n: u32) -> Config {
    Config { cases: n, failure_persistence: None, ..Config::default() }
}

// ---- page resolution -------------------------------------------------------------------------

mod pages {
    use super::*;
    use lens_core::page::{NEVER_LOOK_UP, registrable_domain};
    use lens_core::{PageError, QueryKind, resolve_page};

    /// A DNS label: letters, digits and inner hyphens (not an IDN's `xn--` form, which
    /// must be valid punycode).
    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?".prop_filter("not punycode", |l| !l.starts_with("xn--"))
    }

    /// Public suffixes of several kinds: a TLD, two-level country suffixes, a private
    /// suffix (a hosting platform), and a wildcard-free one with an IDN.
    fn suffix() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["com", "io", "de", "co.uk", "com.au", "co.jp", "com.br", "github.io", "vercel.app"])
    }

    /// Mixes the case of ASCII letters.
    fn mixed_case(s: &str, mask: u64) -> String {
        s.chars().enumerate().map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c }).collect()
    }

    proptest! {
        #![proptest_config(cases(256))]

        /// A company site resolves to its registrable domain whatever surrounds the host:
        /// scheme, user info, port, path, query, fragment, case, a trailing dot, subdomains.
        #[test]
        fn a_company_site_resolves_to_its_registrable_domain(
            name in label(),
            suffix in suffix(),
            subdomains in prop::collection::vec(label(), 0..4),
            scheme in prop::sample::select(vec!["http", "https"]),
            user in prop::option::of("[a-z]{1,5}(:[a-z0-9]{1,5})?@"),
            port in prop::option::of(1u16..),
            path in "(/[a-zA-Z0-9._~%-]{0,8}){0,3}",
            query in prop::option::of("\\?[a-z0-9=&]{0,12}"),
            fragment in prop::option::of("#[a-z0-9]{0,8}"),
            trailing_dot in any::<bool>(),
            case_mask in any::<u64>(),
        ) {
            let domain = format!("{name}.{suffix}");
            // Some such names are public suffixes themselves (`us.com`), or never looked up.
            prop_assume!(registrable_domain(&domain).as_deref() == Some(domain.as_str()));
            prop_assume!(!NEVER_LOOK_UP.iter().any(|s| domain == *s) && domain != "linkedin.com");
            let mut host = subdomains.iter().map(|s| format!("{s}.")).collect::<String>() + &domain;
            if trailing_dot {
                host.push('.');
            }
            let url = format!(
                "{scheme}://{}{}{}{path}{}{}",
                user.unwrap_or_default(),
                mixed_case(&host, case_mask),
                port.map(|p| format!(":{p}")).unwrap_or_default(),
                query.unwrap_or_default(),
                fragment.unwrap_or_default(),
            );
            let query = resolve_page(&url, &[]);
            prop_assert!(query.is_ok(), "{url}: {query:?}");
            let query = query.unwrap();
            prop_assert_eq!(query.kind, QueryKind::Domain);
            prop_assert_eq!(query.value, domain, "{}", url);
        }

        /// Any text as a page URL resolves or is refused, never panics; what it resolves to
        /// is a registrable domain of the URL's host.
        #[test]
        fn any_text_as_a_page_url_resolves_or_is_refused(
            text in prop_oneof![
                any::<String>(),
                "(https?|ftp|file|chrome)://[a-zA-Z0-9.:@_%\\[\\]-]{0,30}(/[ -~]{0,16})?",
                "https?://([a-z0-9-]{0,6}\\.){0,4}[a-z0-9-]{0,6}\\.?(:[0-9]{0,6})?/",
            ],
        ) {
            if let Ok(q) = resolve_page(&text, &[]) {
                if q.kind == QueryKind::Domain {
                    prop_assert_eq!(registrable_domain(&q.value), Some(q.value.clone()), "{}", text);
                    let host = url::Url::parse(text.trim()).unwrap().host_str().unwrap().trim_end_matches('.').to_owned();
                    prop_assert!(host == q.value || host.ends_with(&format!(".{}", q.value)), "{text}: {q:?}");
                } else {
                    prop_assert!(q.value.starts_with("https://www.linkedin.com/"), "{text}: {q:?}");
                }
            }
        }

        /// A registrable domain has no empty label, is lower case, is a suffix of its host,
        /// and is its own registrable domain.
        #[test]
        fn a_registrable_domain_is_a_clean_suffix_of_its_host(host in "[a-zA-Z0-9.-]{0,30}") {
            if let Some(d) = registrable_domain(&host) {
                prop_assert!(!d.split('.').any(str::is_empty), "{host:?} → {d:?}");
                prop_assert_eq!(d.to_ascii_lowercase(), d.clone());
                let lower = host.trim_end_matches('.').to_ascii_lowercase();
                prop_assert!(lower == d || lower.ends_with(&format!(".{d}")), "{host:?} → {d:?}");
                prop_assert_eq!(registrable_domain(&d), Some(d.clone()));
            }
        }

        /// IP addresses are not company sites.
        #[test]
        fn ip_addresses_are_never_looked_up(v4 in any::<std::net::Ipv4Addr>(), v6 in any::<std::net::Ipv6Addr>(), port in 1u16..) {
            for url in [format!("http://{v4}/"), format!("https://{v4}:{port}/x"), format!("http://[{v6}]/")] {
                prop_assert!(matches!(resolve_page(&url, &[]), Err(PageError::Unsupported(_))), "{}", url);
            }
        }

        /// The never-look-up sites and every subdomain of them are ignored, and so is
        /// whatever the user adds.
        #[test]
        fn never_look_up_sites_and_their_subdomains_are_ignored(
            site in prop::sample::select(NEVER_LOOK_UP.to_vec()),
            sub in prop::option::of(label()),
            path in "(/[a-z0-9]{0,8}){0,2}",
            mine in label(),
        ) {
            let host = sub.map(|s| format!("{s}.{site}")).unwrap_or_else(|| site.to_owned());
            let url = format!("https://{host}{path}");
            prop_assert!(matches!(resolve_page(&url, &[]), Err(PageError::Ignored(_))), "{}", url);
            let own = format!("{mine}.com");
            prop_assume!(!NEVER_LOOK_UP.contains(&own.as_str()));
            let url = format!("https://www.{own}{path}");
            prop_assert!(resolve_page(&url, &[]).is_ok(), "{}", url);
            prop_assert!(matches!(resolve_page(&url, std::slice::from_ref(&own)), Err(PageError::Ignored(_))), "{}", url);
        }

        /// A LinkedIn profile has one canonical URL, whatever the subdomain, case, and
        /// what follows the slug.
        #[test]
        fn a_linkedin_profile_has_one_canonical_url(
            slug in "[a-zA-Z0-9][a-zA-Z0-9-]{0,28}",
            sub in prop::sample::select(vec!["", "www.", "de.", "uk.", "fr."]),
            rest in "(/[a-z-]{1,12}){0,2}/?(\\?[a-z]{1,8}=[a-z0-9]{0,6})?",
        ) {
            let url = format!("https://{sub}linkedin.com/in/{slug}{rest}");
            let q = resolve_page(&url, &[]).unwrap();
            prop_assert_eq!(q.kind, QueryKind::LinkedinPerson);
            prop_assert_eq!(q.value, format!("https://www.linkedin.com/in/{}", slug.to_ascii_lowercase()));
        }
    }
}

// ---- the Card from any text --------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    /// Any text (a gateway's answer, a persisted card), as a Card: read or refused, never a panic.
    #[test]
    fn any_text_reads_as_a_card_or_fails_cleanly(text in any::<String>()) {
        let _ = serde_json::from_str::<lens_core::Card>(&text);
    }
}

// ---- what the properties found ---------------------------------------------------------------

mod found {
    use lens_core::page::registrable_domain;

    /// `a_registrable_domain_is_a_clean_suffix_of_its_host` found `"0"` → `"0.0"`: the URL
    /// standard reads some numbers as IPv4 addresses (`0` is `0.0.0.0`), and their last two
    /// numbers were taken for a domain.
    #[test]
    fn a_host_the_url_standard_reads_as_an_ip_address_has_no_registrable_domain() {
        for host in ["0", "127.1", "0x7f.1", "2130706433", "10.0.0.1", "1.2.3.4."] {
            assert_eq!(registrable_domain(host), None, "{host}");
        }
        assert_eq!(registrable_domain("0.acme.com").as_deref(), Some("acme.com"));
    }
}

// ---- what an opened card adds (issue #23): notes, fields, firmographics, typed input -----

mod extras {
    use super::*;
    use lens_core::fields::{self, FieldInput};
    use lens_core::notes::{NOTE_TEXT_CHARS, plain_text};
    use serde_json::{Value, json};

    /// Any JSON, a few levels deep (what a server might answer where a value is expected).
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z]{1,16}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const TYPES: [&str; 14] = [
        "text",
        "number",
        "datetime",
        "dropdown",
        "dropdown-multi",
        "ranked-dropdown",
        "person",
        "person-multi",
        "company",
        "company-multi",
        "location",
        "formula-number",
        "interaction",
        "something-new",
    ];

    proptest! {
        #![proptest_config(cases(256))]

        /// A note's text never grows past the cut, keeps no tag of an HTML note, and never
        /// panics, whatever the note holds.
        #[test]
        fn a_note_reads_as_bounded_plain_text(content in "[^<&]{0,600}", html in any::<bool>(), tag in "[a-z]{1,6}") {
            let marked = format!("<{tag}>{content}</{tag}>");
            let text = plain_text(&marked, html);
            prop_assert!(text.chars().count() <= NOTE_TEXT_CHARS);
            // An HTML note's tag is gone; a text note's is kept, as text.
            let opening = format!("<{tag}>");
            prop_assert_eq!(text.starts_with(&opening), !html);
        }

        /// Whatever a list entry's fields hold, the card reads them without panicking, and a
        /// field it cannot read is not editable.
        #[test]
        fn any_v2_field_value_reads_without_panicking(t in prop::sample::select(TYPES.to_vec()), data in any_json()) {
            let entry: affinity_api::v2::ListEntry = serde_json::from_value(json!({
                "id": 1, "listId": 10, "listName": "Deal Pipeline",
                "fields": [{"id": "field-7", "name": "X", "type": "list", "value": {"type": t, "data": data}}]
            })).unwrap();
            let shown = fields::from_v2(&entry, &[], true);
            prop_assert_eq!(shown.len(), 1);
            prop_assert!(!shown[0].editable, "a field the schema does not describe offers no control");
            let _ = fields::v2_value(&entry.fields[0]);
        }

        /// Whatever v1's field values hold (a v1-only key's card), each field of the list
        /// reads without panicking, one item per field of the list.
        #[test]
        fn any_v1_field_value_reads_without_panicking(
            code in prop::sample::select(vec![0i64, 1, 2, 3, 4, 5, 6, 7, 17, 99]),
            multiple in any::<bool>(),
            values in prop::collection::vec(any_json(), 0..4),
        ) {
            let field: affinity_api::models::Field = serde_json::from_value(json!({
                "id": 7, "name": "X", "list_id": 10, "value_type": code, "allows_multiple": multiple,
                "dropdown_options": [{"id": 1, "text": "A", "rank": 0, "color": 3}]
            })).unwrap();
            let values: Vec<affinity_api::models::FieldValue> = values.into_iter().enumerate().map(|(i, v)| {
                serde_json::from_value(json!({
                    "id": i, "field_id": 7, "entity_id": 1, "list_entry_id": 5, "value": v
                })).unwrap()
            }).collect();
            let shown = fields::from_v1(10, 5, &[field], &values, &fields::Names::default(), true);
            prop_assert_eq!(shown.len(), 1);
            // An array exactly for a multi-valued type (v2 has none for dates or texts: the
            // first value is shown).
            prop_assert_eq!(shown[0].value.is_array(), fields::is_multi(&shown[0].value_type));
        }

        /// Whatever a note holds (markup, stray `<` and `&`, entities of any number), its
        /// text is bounded, has no control character an entity made, and never panics.
        #[test]
        fn any_note_reads_as_bounded_text(content in "[a-z<>&#;/ x0-9\\n]{0,300}", html in any::<bool>()) {
            let text = plain_text(&content, html);
            prop_assert!(text.chars().count() <= NOTE_TEXT_CHARS);
            prop_assert!(!text.lines().any(|l| l.trim().is_empty()), "no blank line: {:?}", text);
        }

        /// Whatever the enriched fields hold, firmographics read without panicking, and a
        /// year founded is a year.
        #[test]
        fn any_enriched_value_reads_without_panicking(
            id in prop::sample::select(vec!["affinity-data-year-founded", "affinity-data-location", "affinity-data-industry", "affinity-data-number-of-employees", "affinity-data-last-funding-date"]),
            data in any_json(),
        ) {
            let field: affinity_api::v2::Field = serde_json::from_value(json!({
                "id": id, "name": "X", "type": "enriched", "value": {"type": "number", "data": data}
            })).unwrap();
            if let Some(f) = lens_core::firmographics::from_fields(&[field]) {
                prop_assert!(f.year_founded.is_none_or(|y| (1000..=9999).contains(&y)));
                prop_assert!(f.employees.is_none_or(|e| e >= 0));
            }
        }

        /// A number typed as the card shows it reads back as that number; anything with a
        /// letter in it is refused.
        #[test]
        fn numbers_typed_read_back(n in -1e12f64..1e12f64, junk in "[a-zA-Z]{1,3}") {
            let typed = format!("{n}");
            prop_assert_eq!(fields::parse_number(&typed), Some(n));
            let refused = format!("{typed}{junk}");
            prop_assert!(fields::parse_input("Amount", "number", &refused).is_err());
        }

        /// Every real date is taken as typed; a day past the month's end is refused.
        #[test]
        fn dates_typed_are_real_ones(y in 1000i32..9999, m in 1u32..=12, d in 1u32..=31) {
            let typed = format!("{y:04}-{m:02}-{d:02}");
            let real = chrono::NaiveDate::from_ymd_opt(y, m, d).is_some();
            let parsed = fields::parse_input("Close Date", "datetime", &typed);
            prop_assert_eq!(parsed.is_ok(), real);
            if real {
                prop_assert_eq!(parsed.unwrap(), Some(FieldInput::Date { date: typed }));
            }
        }
    }
}
