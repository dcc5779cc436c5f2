//! Tree-wide rules, checked as ordinary tests: every module documents itself, no trailing
//! whitespace, no should-panic or ignored tests (check the error; never hide a test).

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
    for top in ["crates", "xtask", "fixtures"] {
        files_under(&root.join(top), &mut files);
    }
    for file in ["README.md", "ARCHITECTURE.md", "Cargo.toml"] {
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
