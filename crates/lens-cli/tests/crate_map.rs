//! The workspace's shape, as docs/design.md draws it: two wings (`affinity-*` crates speak
//! Affinity and know nothing of the Lens; `lens-*` crates are the product), each crate using
//! only the crates below it, no module that imports a module that imports it, and no function
//! in the product's engine or gateway longer than a screen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
    manifest_path: PathBuf,
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    /// `null` for a normal dependency, else `dev` or `build`.
    kind: Option<String>,
}

fn metadata() -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON")
}

/// Our crates and the workspace crates each one depends on, normal and dev apart.
fn crate_graph() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let m = metadata();
    let ours: BTreeSet<String> =
        m.packages.iter().filter(|p| m.workspace_members.contains(&p.id)).map(|p| p.name.clone()).collect();
    m.packages
        .iter()
        .filter(|p| ours.contains(&p.name))
        .map(|p| {
            let of_kind = |dev: bool| {
                p.dependencies
                    .iter()
                    .filter(|d| ours.contains(&d.name) && (d.kind.as_deref() == Some("dev")) == dev)
                    .map(|d| d.name.clone())
                    .collect::<BTreeSet<_>>()
            };
            (p.name.clone(), (of_kind(false), of_kind(true)))
        })
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn the_workspace_is_the_seven_crates_of_the_two_wings() {
    let graph = crate_graph();
    let names: Vec<&str> = graph.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["affinity-api", "affinity-sandbox", "lens-cli", "lens-core", "lens-gateway", "lens-ui", "lens-web"]
    );
}

#[test]
fn no_affinity_crate_depends_on_a_lens_crate() {
    for (name, (normal, dev)) in crate_graph().iter().filter(|(n, _)| n.starts_with("affinity-")) {
        let lens: Vec<&String> = normal.iter().chain(dev).filter(|d| d.starts_with("lens-")).collect();
        assert!(lens.is_empty(), "{name} depends on {lens:?}: Affinity's crates know nothing of the Lens");
    }
}

#[test]
fn each_crate_uses_only_the_crates_below_it() {
    // (crate, what it may depend on, what its tests may add)
    let rules: [(&str, &[&str], &[&str]); 7] = [
        ("affinity-api", &[], &[]),
        ("affinity-sandbox", &["affinity-api"], &[]),
        ("lens-core", &["affinity-api"], &["affinity-sandbox"]),
        ("lens-ui", &["lens-core"], &[]),
        ("lens-web", &["affinity-api", "lens-core", "lens-ui"], &[]),
        ("lens-gateway", &["affinity-api", "lens-core"], &["affinity-sandbox"]),
        ("lens-cli", &["affinity-api", "affinity-sandbox", "lens-core", "lens-gateway"], &[]),
    ];
    let graph = crate_graph();
    for (name, may, tests_may) in rules {
        let (normal, dev) = &graph[name];
        let allowed = set(may);
        let extra: Vec<&String> = normal.difference(&allowed).collect();
        assert!(extra.is_empty(), "{name} depends on {extra:?}; it may use {may:?}");
        let allowed_dev = allowed.union(&set(tests_may)).cloned().collect::<BTreeSet<_>>();
        let extra: Vec<&String> = dev.difference(&allowed_dev).collect();
        assert!(extra.is_empty(), "{name}'s tests depend on {extra:?}; they may use {allowed_dev:?}");
    }
    // The sandbox is a test tool: never in the gateway's binary.
    assert!(!graph["lens-gateway"].0.contains("affinity-sandbox"));
}

fn crate_dir(name: &str) -> PathBuf {
    let m = metadata();
    let p = m.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no crate {name}"));
    p.manifest_path.parent().unwrap().to_owned()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The functions of a file longer than `max` lines, as `file:line name (n lines)`. A function
/// runs from its `fn` line to the `}` at the same indentation (rustfmt's layout).
fn long_functions(path: &Path, max: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let words: Vec<&str> = body.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| *w == "fn") else { continue };
        let prefix_ok = words[..at]
            .iter()
            .all(|w| ["pub", "async", "const", "unsafe", "extern"].contains(w) || w.starts_with("pub("));
        if !prefix_ok || words.len() <= at + 1 {
            continue;
        }
        // The signature ends at the first line ending in `{` (a body follows), `;` (a
        // declaration) or `}` (a body on one line).
        let Some(sig) = lines[i..].iter().position(|l| l.trim_end().ends_with(['{', ';', '}'])) else { continue };
        if !lines[i + sig].trim_end().ends_with('{') {
            continue;
        }
        let closing = format!("{indent}}}");
        let Some(end) = lines[i..].iter().position(|l| l.trim_end() == closing) else { continue };
        let name: String = words[at + 1].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if end + 1 > max {
            found.push(format!("{}:{} {name} ({} lines)", path.display(), i + 1, end + 1));
        }
    }
    found
}

#[test]
fn no_function_of_the_engine_or_the_gateway_runs_past_80_lines() {
    let mut long = Vec::new();
    for name in ["lens-core", "lens-gateway"] {
        for file in rust_files(&crate_dir(name).join("src")) {
            long.extend(long_functions(&file, 80));
        }
    }
    assert!(long.is_empty(), "functions over 80 lines (make their steps named functions):\n{}", long.join("\n"));
}

/// A crate's top-level modules and the ones each uses (`crate::name` in code, not comments).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let module_of = |file: &Path| -> String {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        first.trim_end_matches(".rs").to_owned()
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let module = module_of(&file);
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for line in text.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let before = line[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                    continue;
                }
                let rest = &line[at + "crate::".len()..];
                let used: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let is_module = src.join(format!("{used}.rs")).exists() || src.join(&used).join("mod.rs").exists();
                if !used.is_empty() && used != module && is_module {
                    uses.insert(used);
                }
            }
        }
    }
    graph
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut c = path[i..].to_vec();
            c.push(node.to_owned());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    for name in ["affinity-api", "affinity-sandbox", "lens-core", "lens-gateway", "lens-web"] {
        let graph = module_graph(&crate_dir(name).join("src"));
        assert_eq!(cycle(&graph), None, "{name}'s modules form a cycle");
    }
}

#[test]
fn the_checks_above_see_what_they_look_for() {
    // A cycle and a long function, made up, are found.
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a".into(), set(&["b"])), ("b".into(), set(&["c"])), ("c".into(), set(&["a"]))].into();
    assert_eq!(cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let dir = std::env::temp_dir().join(format!("crate-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("long.rs");
    let body: String = (0..85).map(|i| format!("    let x{i} = {i};\n")).collect();
    std::fs::write(&file, format!("pub async fn long() {{\n{body}}}\n\nfn short() {{}}\n")).unwrap();
    let found = long_functions(&file, 80);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("long (87 lines)"), "{found:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
