//! Shared helpers for jwtgate's tests: where `fixtures/` is, which case files a suite has, a
//! runner that checks every case and reports all failures at once, each named by its file, and
//! the fixture keys as signers and JWKs ([`keys`]), the benchmark corpus ([`corpus`]) and a
//! minimal HTTP/1.1 client ([`http`]), and `docs/errors.md` as tables ([`errors_doc`]).

#![expect(
    clippy::panic,
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test helpers fail by panicking"
)]
#![allow(clippy::indexing_slicing, reason = "test helpers fail by panicking")]

pub mod corpus;
pub mod errors_doc;
pub mod http;
pub mod keys;

use std::fs;
use std::path::{Path, PathBuf};

/// Every environment variable the `jwtgate` binary reads: a test that starts the binary removes
/// them, so the developer's environment cannot leak in.
pub const BINARY_VARIABLES: [&str; 26] = [
    "HASURA_GRAPHQL_JWT_SECRET",
    "HASURA_GRAPHQL_JWT_SECRETS",
    "HASURA_GRAPHQL_ADMIN_SECRET",
    "HASURA_GRAPHQL_UNAUTHORIZED_ROLE",
    "HASURA_GRAPHQL_JWT_SECRET_FILE",
    "HASURA_GRAPHQL_JWT_SECRETS_FILE",
    "HASURA_GRAPHQL_ADMIN_SECRET_FILE",
    "HASURA_GRAPHQL_ACCESS_KEY",
    "JWTGATE_HOST",
    "JWTGATE_PORT",
    "JWTGATE_JWKS_REQUIRED",
    "JWTGATE_TOKEN_CACHE_SIZE",
    "JWTGATE_LOG_FORMAT",
    "JWTGATE_MAX_CONNECTIONS",
    "JWTGATE_EXPLAIN",
    "JWTGATE_SHUTDOWN_DELAY",
    "RUST_LOG",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

/// The workspace's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The `.toml` cases of `fixtures/<suite>/<verdict>/`, sorted; panics when there are none, so a
/// moved folder cannot make a suite pass by running nothing.
///
/// # Panics
/// When the folder cannot be read or holds no case.
pub fn case_files(suite: &str, verdict: &str) -> Vec<PathBuf> {
    let dir = fixtures_dir().join(suite).join(verdict);
    let entries = fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// Runs `check` on every case of `fixtures/<suite>/<verdict>/`, then panics with every failure,
/// each prefixed by its file.
///
/// # Panics
/// When any case fails, or the suite has no case.
pub fn check_cases(suite: &str, verdict: &str, check: impl Fn(&Path) -> Result<(), String>) {
    let failures: Vec<String> = case_files(suite, verdict)
        .iter()
        .filter_map(|path| check(path).err().map(|why| format!("{}: {why}", path.display())))
        .collect();
    assert!(failures.is_empty(), "{} failing fixture(s):\n{}", failures.len(), failures.join("\n"));
}

/// Replaces each `{{pem:NAME}}` in a fixture's secret JSON with the JSON-escaped text of
/// `fixtures/keys/NAME`, so PEM keys can sit inside JSON strings.
///
/// # Panics
/// On an unterminated placeholder or a missing key file.
pub fn expand_key_placeholders(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{pem:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{pem:".len()..];
        let end = after.find("}}").unwrap_or_else(|| panic!("unterminated placeholder in {text}"));
        let name = &after[..end];
        let pem = fs::read_to_string(fixtures_dir().join("keys").join(name))
            .unwrap_or_else(|error| panic!("key file {name}: {error}"));
        let quoted = serde_json::Value::String(pem).to_string();
        out.push_str(&quoted[1..quoted.len() - 1]);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}
