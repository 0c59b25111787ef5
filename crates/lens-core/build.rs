//! The Public Suffix List the Lens carries (`data/public_suffix_list.dat`, the official
//! file as published) made compact for `include_str!`: comments dropped except the two
//! section markers (`publicsuffix` reads them to tell ICANN from private suffixes), and each
//! rule in its ASCII (punycode) form, which is how hosts are compared. The list is data:
//! about 45 KiB in the background's gzipped wasm, where a list compiled into code was
//! 257 KiB (docs/design.md).

use std::fmt::Write as _;
use std::path::Path;

const SOURCE: &str = "data/public_suffix_list.dat";

fn main() {
    println!("cargo::rerun-if-changed={SOURCE}");
    let text = std::fs::read_to_string(SOURCE).unwrap_or_else(|e| panic!("{SOURCE}: {e}"));
    let mut out = String::with_capacity(text.len() / 2);
    let mut rules = 0;
    for line in text.lines().map(str::trim) {
        if line.contains("===BEGIN ICANN DOMAINS===") || line.contains("===BEGIN PRIVATE DOMAINS===") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // A rule is the line's first word; comments and blank lines are not rules.
        let Some(rule) = line.split_whitespace().next().filter(|r| !r.starts_with("//")) else { continue };
        let (prefix, name) = match (rule.strip_prefix('!'), rule.strip_prefix("*.")) {
            (Some(name), _) => ("!", name),
            (None, Some(name)) => ("*.", name),
            (None, None) => ("", rule),
        };
        let ascii = idna::domain_to_ascii(name).unwrap_or_else(|e| panic!("{SOURCE}: rule {rule:?}: {e:?}"));
        writeln!(out, "{prefix}{ascii}").expect("writing to a String");
        rules += 1;
    }
    assert!(rules > 5_000 && out.matches("===BEGIN").count() == 2, "{SOURCE} is not the Public Suffix List");
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&dir).join("public_suffix_list.txt"), out).expect("writing OUT_DIR");
}
