//! Tree-wide rules, checked as ordinary tests: every module documents itself, no trailing
//! whitespace, no should-panic or ignored tests (check the error; never hide a test), and every
//! test SECURITY.md names exists.

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
    for top in ["crates", "xtask", "fixtures", "fuzz"] {
        files_under(&root.join(top), &mut files);
    }
    for file in ["README.md", "ARCHITECTURE.md", "SECURITY.md", "Cargo.toml"] {
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
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "start these files with a `//!` line:\n{}", missing.join("\n"));
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
