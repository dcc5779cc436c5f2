//! The jwtgate conformance harness lives in `tests/conformance/` (a `harness = false` test):
//! every case under `fixtures/` runs through the library driver (`jwtgate-core` in process, fixed
//! `now`) and the server driver (the built `jwtgate` binary over HTTP). Run it with
//! `cargo xtask conformance`; the case format is in `fixtures/README.md`.

pub mod case;

use std::path::{Path, PathBuf};

/// Every `.toml` file under `dir`, in subfolders too, sorted; an unreadable folder holds none.
pub fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
