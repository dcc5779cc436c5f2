//! Tree-wide rules, checked as ordinary tests: every module documents itself (a published
//! crate with its README, next to its licence files), no trailing
//! whitespace, no should-panic or ignored tests (check the error; never hide a test), every test
//! SECURITY.md names exists, nothing cites a document outside the repository, every decision
//! `D<n>` cited is defined in `docs/compatibility.md`, every relative Markdown link resolves, and
//! every provider recipe and trap case is linked from the document that explains it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::workspace_root;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn tracked_text_files() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut files = Vec::new();
    for top in ["crates", "xtask", "fixtures", "fuzz", "docs"] {
        files_under(&root.join(top), &mut files);
    }
    for file in [
        "README.md",
        "ARCHITECTURE.md",
        "SECURITY.md",
        "CHANGELOG.md",
        "CONTRIBUTING.md",
        "Cargo.toml",
    ] {
        files.push(root.join(file));
    }
    files.retain(|path| {
        path.extension().is_some_and(|ext| ["rs", "md", "toml", "sh"].iter().any(|e| ext == *e))
    });
    files
}

#[test]
fn every_rust_module_has_a_doc_comment() {
    let missing: Vec<String> = tracked_text_files()
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            let text = text.trim_start();
            !text.starts_with("//!") && !text.starts_with(README_AS_CRATE_DOCS)
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "start these files with a `//!` line:\n{}", missing.join("\n"));
}

/// The first line of a published crate's `lib.rs`: its README is its documentation, so the
/// README's examples run as doc tests.
const README_AS_CRATE_DOCS: &str = "#![doc = include_str!(\"../README.md\")]";

#[test]
fn every_published_crate_documents_itself_with_its_readme_and_ships_its_licences() {
    let mut problems = Vec::new();
    let crates = fs::read_dir(workspace_root().join("crates")).into_iter().flatten().flatten();
    for entry in crates {
        let dir = entry.path();
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.is_empty() || manifest.contains("publish = false") {
            continue;
        }
        let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
        if !lib.starts_with(README_AS_CRATE_DOCS) {
            problems.push(format!(
                "{}: src/lib.rs does not start with {README_AS_CRATE_DOCS}",
                dir.display()
            ));
        }
        for file in ["README.md", "LICENSE-APACHE", "LICENSE-MIT"] {
            let same_as_root = file == "README.md"
                || fs::read(dir.join(file)).ok() == fs::read(workspace_root().join(file)).ok();
            if !dir.join(file).is_file() || !same_as_root {
                problems.push(format!("{}: no {file} (the workspace's)", dir.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_trailing_whitespace() {
    let mut offenders = Vec::new();
    for path in tracked_text_files() {
        let text = fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                offenders.push(format!("{}:{}", path.display(), number + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "trailing whitespace at:\n{}", offenders.join("\n"));
}

#[test]
fn no_should_panic_or_ignored_tests() {
    let banned = [concat!("#[should", "_panic"), concat!("#[ig", "nore")];
    let offenders: Vec<String> = tracked_text_files()
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            banned.iter().any(|pattern| text.contains(pattern))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "check the error instead of hiding the test:\n{}",
        offenders.join("\n")
    );
}

/// The `path::test_name` and `path` references in backticks of a document.
fn references(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            span.starts_with("crates/")
                || span.starts_with("fixtures/")
                || span.starts_with("fuzz/")
                || span.starts_with("xtask/")
        })
        .collect()
}

#[test]
fn security_md_names_only_tests_that_exist() {
    let root = workspace_root();
    let document = fs::read_to_string(root.join("SECURITY.md")).unwrap_or_default();
    let references = references(&document);
    let mut missing = Vec::new();
    let mut named_tests = 0;
    for reference in &references {
        let (path, test_name) = match reference.split_once("::") {
            Some((path, name)) => (path, Some(name)),
            None => (*reference, None),
        };
        if !root.join(path).exists() {
            missing.push(format!("{reference}: no {path}"));
            continue;
        }
        if let Some(test_name) = test_name {
            let source = fs::read_to_string(root.join(path)).unwrap_or_default();
            named_tests += 1;
            let defined = source.lines().any(|line| {
                let line = line.trim_start();
                let line = line.strip_prefix("async ").unwrap_or(line);
                line.strip_prefix("fn ")
                    .and_then(|rest| rest.strip_prefix(test_name))
                    .is_some_and(|rest| rest.starts_with('(') || rest.starts_with('<'))
            });
            if !defined {
                missing.push(format!("{reference}: no fn {test_name} in {path}"));
            }
        }
    }
    assert!(missing.is_empty(), "SECURITY.md names what does not exist:\n{}", missing.join("\n"));
    // The RFC 8725 table names a test for each item it meets; an emptied page fails here.
    assert!(
        named_tests >= 10 && references.len() >= 30,
        "{named_tests} tests, {} references",
        references.len()
    );
    for item in
        ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12"]
    {
        assert!(
            document.contains(&format!("| {item} ")),
            "SECURITY.md has no row for RFC 8725 {item}"
        );
    }
}

#[test]
fn references_are_read_from_backticks() {
    let text = "see `crates/a.rs::b` and `fixtures/x.toml`, not `cargo xtask` or `c`";
    assert_eq!(references(text), ["crates/a.rs::b", "fixtures/x.toml"]);
}

/// Every file git tracks, as paths under the workspace root; the tidy rules about citations read
/// these, whatever their extension.
fn git_tracked_files() -> Vec<PathBuf> {
    let root = workspace_root();
    let output = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git ls-files runs");
    assert!(output.status.success(), "git ls-files failed");
    output
        .stdout
        .split(|byte| *byte == 0)
        .filter(|name| !name.is_empty())
        .map(|name| root.join(String::from_utf8_lossy(name).as_ref()))
        .filter(|path| path.is_file())
        .collect()
}

/// The citations of documents that live outside the repository, assembled so this file does not
/// hold them.
fn outside_citations() -> [String; 4] {
    [
        ["shared", "/"].concat(),
        ["hasura-", "semantics.md"].concat(),
        ["CONTRACT", ".md"].concat(),
        ["semantics", " §"].concat(),
    ]
}

#[test]
fn nothing_cites_a_document_outside_the_repository() {
    let patterns = outside_citations();
    let mut offenders = Vec::new();
    for path in git_tracked_files() {
        let Ok(text) = fs::read_to_string(&path) else { continue };
        for (number, line) in text.lines().enumerate() {
            if let Some(pattern) = patterns.iter().find(|pattern| line.contains(pattern.as_str())) {
                offenders.push(format!("{}:{}: {pattern}", path.display(), number + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "cite docs/ instead (docs/compatibility.md, docs/server.md, docs/errors.md):\n{}",
        offenders.join("\n")
    );
}

/// The decision numbers `D<n>` a text cites: a `D` and digits, not inside a longer word.
fn decisions_cited(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let is_word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let mut cited = Vec::new();
    for (at, _) in text.match_indices('D') {
        if at > 0 && is_word(bytes[at - 1]) {
            continue;
        }
        let digits = bytes[at + 1..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        let end = at + 1 + digits;
        if digits == 0 || bytes.get(end).is_some_and(|byte| is_word(*byte)) {
            continue;
        }
        if let Ok(number) = text[at + 1..end].parse() {
            cited.push(number);
        }
    }
    cited
}

#[test]
fn every_decision_cited_is_defined() {
    let root = workspace_root();
    let compatibility = fs::read_to_string(root.join("docs/compatibility.md")).unwrap_or_default();
    let defined: Vec<u32> = compatibility
        .lines()
        .filter_map(|line| line.strip_prefix("### D"))
        .filter_map(|number| number.trim().parse().ok())
        .collect();
    assert!((1..=21).all(|number| defined.contains(&number)), "defined: {defined:?}");
    let mut undefined = Vec::new();
    for path in tracked_text_files() {
        if path.starts_with(root.join("fixtures/keys")) {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            for decision in decisions_cited(line) {
                if !defined.contains(&decision) {
                    undefined.push(format!("{}:{}: D{decision}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(
        undefined.is_empty(),
        "decisions docs/compatibility.md does not define:\n{}",
        undefined.join("\n")
    );
}

#[test]
fn decisions_are_read_as_whole_words() {
    assert_eq!(decisions_cited("D1, D19 and (D6); not PD2, D3x, D_4 or D"), [1, 19, 6]);
}

/// The targets of a Markdown text's inline links, `[text](target)`, outside code.
fn link_targets(text: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || line.starts_with("    ") {
            continue;
        }
        let outside_code: Vec<&str> = line.split('`').step_by(2).collect();
        for part in outside_code {
            for (at, _) in part.match_indices("](") {
                if let Some(end) = part[at + 2..].find(')') {
                    targets.push(&part[at + 2..at + 2 + end]);
                }
            }
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors_of(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| anchor(line.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_relative_markdown_link_resolves() {
    let mut broken = Vec::new();
    for path in git_tracked_files() {
        if path.extension().is_none_or(|ext| ext != "md") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap_or_default();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let resolved = if file.is_empty() {
                path.clone()
            } else {
                path.parent().map_or_else(PathBuf::new, Path::to_path_buf).join(file)
            };
            if !resolved.exists() {
                broken.push(format!("{}: {target} (no such file)", path.display()));
                continue;
            }
            let is_markdown = resolved.extension().is_some_and(|ext| ext == "md");
            if !fragment.is_empty() && is_markdown {
                let anchors = anchors_of(&fs::read_to_string(&resolved).unwrap_or_default());
                if !anchors.iter().any(|anchor| anchor == fragment) {
                    broken.push(format!("{}: {target} (no such heading)", path.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn links_and_anchors_are_read_as_github_does() {
    let text = "See [a](docs/a.md#b-c) and `[not](x)`.\n\n```\n[no](y)\n```\n    [no](z)\n";
    assert_eq!(link_targets(text), ["docs/a.md#b-c"]);
    assert_eq!(anchor(" Who the caller is"), "who-the-caller-is");
    assert_eq!(anchor(" `jwtgate serve --demo`"), "jwtgate-serve---demo");
    assert_eq!(anchor(" D2 in detail: the rules, made exact"), "d2-in-detail-the-rules-made-exact");
}

/// Provider recipes are explained in `docs/configuration.md`, traps in `docs/troubleshooting.md`:
/// each `recipe-*` and `trap-*` fixture is linked from its document, so no case goes unexplained.
#[test]
fn every_recipe_and_trap_case_is_linked_from_its_document() {
    let root = workspace_root();
    let linked = |document: &str| -> Vec<PathBuf> {
        let text = fs::read_to_string(root.join(document)).unwrap_or_default();
        link_targets(&text)
            .into_iter()
            .map(|target| root.join("docs").join(target.split('#').next().unwrap_or(target)))
            .filter_map(|path| path.canonicalize().ok())
            .collect()
    };
    let (recipes, traps) = (linked("docs/configuration.md"), linked("docs/troubleshooting.md"));
    let mut unlinked = Vec::new();
    for path in git_tracked_files() {
        if path.extension().is_none_or(|ext| ext != "toml")
            || !path.starts_with(root.join("fixtures"))
        {
            continue;
        }
        let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
        let (links, document) = if name.starts_with("recipe-") {
            (&recipes, "docs/configuration.md")
        } else if name.starts_with("trap-") {
            (&traps, "docs/troubleshooting.md")
        } else {
            continue;
        };
        if !path.canonicalize().is_ok_and(|path| links.contains(&path)) {
            unlinked.push(format!("{}: not linked from {document}", path.display()));
        }
    }
    assert!(unlinked.is_empty(), "explain each case in its document:\n{}", unlinked.join("\n"));
}
