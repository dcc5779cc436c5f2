//! ARCHITECTURE.md's dependency lines hold: each crate's "May depend on" names exactly the
//! workspace crates among its normal dependencies (`cargo metadata`), and nothing its "Never in
//! its dependency tree" line names shows in `cargo tree -e normal`.

#![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cargo(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|error| panic!("cargo {args:?}: {error}"));
    assert!(output.status.success(), "cargo {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// What ARCHITECTURE.md says of one crate.
#[derive(Debug, Default)]
struct Declared {
    may_depend_on: Option<BTreeSet<String>>,
    never: BTreeSet<String>,
}

/// The backticked words of a line.
fn code_spans(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

/// The dependency lines under each `crates/<name>` or `xtask` heading (a `### ` line).
fn declared(architecture: &str, members: &BTreeSet<String>) -> BTreeMap<String, Declared> {
    let mut crates: BTreeMap<String, Declared> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in architecture.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            current = code_spans(heading)
                .next()
                .map(|path| path.rsplit('/').next().unwrap_or(path).to_owned())
                .filter(|name| members.contains(name));
            continue;
        }
        let Some(name) = &current else { continue };
        let entry = crates.entry(name.clone()).or_default();
        if let Some(rest) = line.strip_prefix("- May depend on: ") {
            let named = code_spans(rest).filter(|span| members.contains(*span));
            entry.may_depend_on = Some(named.map(str::to_owned).collect());
        } else if let Some(rest) = line.strip_prefix("- Never in its dependency tree: ") {
            entry.never = code_spans(rest).map(str::to_owned).collect();
        }
    }
    crates
}

/// Each workspace member's normal and build dependencies that are workspace members.
fn actual(metadata: &Value, members: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let packages = metadata["packages"].as_array().unwrap();
    packages
        .iter()
        .map(|package| {
            let dependencies = package["dependencies"].as_array().unwrap();
            let internal = dependencies
                .iter()
                .filter(|dependency| dependency["kind"].as_str() != Some("dev"))
                .filter_map(|dependency| dependency["name"].as_str())
                .filter(|name| members.contains(*name))
                .map(str::to_owned)
                .collect();
            (package["name"].as_str().unwrap().to_owned(), internal)
        })
        .collect()
}

/// `cargo metadata` of the workspace, its members' names, and ARCHITECTURE.md.
fn workspace() -> (Value, BTreeSet<String>, String) {
    let args = ["metadata", "--format-version", "1", "--no-deps", "--locked"];
    let metadata: Value = serde_json::from_str(&cargo(&args)).unwrap();
    let members = members(&metadata);
    let architecture = fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
    (metadata, members, architecture)
}

fn members(metadata: &Value) -> BTreeSet<String> {
    let packages = metadata["packages"].as_array().unwrap();
    packages.iter().map(|package| package["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_crate_depends_on_exactly_the_crates_architecture_md_names() {
    let (metadata, members, architecture) = workspace();
    let declared = declared(&architecture, &members);
    let mut problems = Vec::new();
    for (name, dependencies) in actual(&metadata, &members) {
        match declared.get(&name).and_then(|entry| entry.may_depend_on.as_ref()) {
            None => problems.push(format!("{name}: no \"May depend on\" line")),
            Some(allowed) if allowed != &dependencies => problems.push(format!(
                "{name}: ARCHITECTURE.md says {allowed:?}, Cargo.toml has {dependencies:?}"
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_a_crate_must_never_depend_on_is_in_its_tree() {
    let (_, members, architecture) = workspace();
    let mut checked = 0;
    for (name, entry) in declared(&architecture, &members) {
        if entry.never.is_empty() {
            continue;
        }
        let tree = cargo(&["tree", "-p", &name, "-e", "normal", "--prefix", "none", "--locked"]);
        let present: BTreeSet<&str> =
            tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
        let found: Vec<&String> =
            entry.never.iter().filter(|banned| present.contains(banned.as_str())).collect();
        assert!(found.is_empty(), "{name} must never depend on {found:?}:\n{tree}");
        checked += 1;
    }
    assert!(checked >= 3, "the core, claims and config lines were read ({checked})");
}

#[test]
fn the_dependency_lines_are_read_as_written() {
    let members: BTreeSet<String> =
        ["jwtgate-a", "jwtgate-b", "xtask"].into_iter().map(str::to_owned).collect();
    let text = "### `crates/jwtgate-a` (publish = false)\n\n\
                - May depend on: `jwtgate-b` (without its `fetch` feature).\n\
                - Never in its dependency tree: `tokio`, `hyper`.\n\n\
                ### `xtask`\n\n- May depend on: no jwtgate crate.\n";
    let declared = declared(text, &members);
    let a = &declared["jwtgate-a"];
    assert_eq!(a.may_depend_on, Some(BTreeSet::from(["jwtgate-b".to_owned()])));
    assert_eq!(a.never, BTreeSet::from(["tokio".to_owned(), "hyper".to_owned()]));
    assert_eq!(declared["xtask"].may_depend_on, Some(BTreeSet::new()));
    assert!(!declared.contains_key("jwtgate-b"));
}
