//! The Public Suffix List project's own test vectors (`shared/real-world/psl/test_psl.txt`),
//! read at test time: `registrable_domain` must give what each `checkPublicSuffix` line says.
#![cfg(not(target_arch = "wasm32"))]

use lens_core::page::registrable_domain;

/// `shared/` sits beside the repository (CI checks it out there too).
fn vectors() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/real-world/psl/test_psl.txt");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("the PSL test vectors are needed at {path}: {e}"))
}

/// `'text'` → `Some(text)`, `null` → `None`.
fn literal(s: &str) -> Option<String> {
    let s = s.trim();
    if s == "null" {
        return None;
    }
    Some(s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or_else(|| panic!("not a literal: {s}")).into())
}

/// The ASCII (punycode) form, which is how the Lens keeps domains.
fn ascii(domain: &str) -> String {
    url::Url::parse(&format!("http://{domain}/")).unwrap().host_str().unwrap().to_owned()
}

#[test]
fn every_public_suffix_list_test_vector_passes() {
    let text = vectors();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| l.starts_with("checkPublicSuffix(")) {
        let args = line.trim_start_matches("checkPublicSuffix(").trim_end_matches(';').trim_end_matches(')');
        let (input, want) = args.split_once(',').unwrap_or_else(|| panic!("two arguments: {line}"));
        // `null` input: the function takes text, and empty text has no domain either.
        let input = literal(input).unwrap_or_default();
        let want = literal(want).map(|w| ascii(&w));
        let got = registrable_domain(&input);
        if got != want {
            failures.push(format!("{input:?}: got {got:?}, want {want:?}"));
        }
        checked += 1;
    }
    assert!(checked >= 78, "only {checked} vectors found: is {} the official file?", "test_psl.txt");
    assert!(failures.is_empty(), "{} of {checked} vectors fail:\n{}", failures.len(), failures.join("\n"));
}
