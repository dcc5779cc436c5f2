//! `fuzz-seeds <dir>`: writes the fuzz targets' seed corpora, rendered from `fixtures/`, into
//! `<dir>/<target>/` (`cargo xtask fuzz` runs it into `target/fuzz-corpus/`).
//!
//! Each seed is in its target's input format (`fuzz/README.md`): the rendered requests of the
//! auth cases (tokens minted at the case's `now`), every secret configuration, every key set
//! body and caching header pair the cases serve, every JSON path a configuration names, and the
//! auth cases' requests as webhook requests.

#![expect(clippy::print_stderr, reason = "a command-line tool reports to the terminal")]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jwtgate_conformance::case::{self, Case};
use jwtgate_conformance::case_files;
use jwtgate_test_support::{expand_key_placeholders, fixtures_dir};
use serde_json::Value;

/// The key set URL the `authenticate` and `webhook` targets configure (never fetched: their
/// key set is served in process).
const FUZZ_JWKS_URL: &str = "http://jwks.fuzz.invalid/keys";

/// How many authenticator setups the `authenticate` target chooses from by its first byte.
const AUTHENTICATE_SETUPS: u8 = 7;

/// Seeds per target, deduplicated.
#[derive(Default)]
struct Seeds {
    authenticate: BTreeSet<Vec<u8>>,
    secret_config: BTreeSet<Vec<u8>>,
    jwk_set: BTreeSet<Vec<u8>>,
    cache_headers: BTreeSet<Vec<u8>>,
    json_path: BTreeSet<Vec<u8>>,
    webhook: BTreeSet<Vec<u8>>,
}

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fuzz-seeds <output directory>");
        return ExitCode::FAILURE;
    };
    let mut seeds = Seeds::default();
    let result = collect(&mut seeds).and_then(|()| write(&seeds, &out));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fuzz-seeds: {error}");
            ExitCode::FAILURE
        }
    }
}

fn collect(seeds: &mut Seeds) -> Result<(), String> {
    for file in toml_files("config")? {
        let document = read_toml(&file)?;
        for member in ["jwt_secret", "jwt_secrets"] {
            if let Some(text) = document.get(member).and_then(toml::Value::as_str) {
                add_config(seeds, &expand_key_placeholders(text));
            }
        }
    }
    for file in toml_files("claims")? {
        let document = read_toml(&file)?;
        if let Some(text) = document.get("config").and_then(toml::Value::as_str) {
            add_config(seeds, &expand_key_placeholders(text));
        }
        if let Some(claims) = document.get("claims").and_then(toml::Value::as_str) {
            // The claims as an HS256 token of the conformance secret, for every setup.
            let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
            let token = case::mint("HS256", &header, claims, &case::signing_key("hs256"));
            add_request(seeds, &[("Authorization".to_owned(), format!("Bearer {token}"))]);
        }
    }
    for folder in ["conformance/auth", "conformance/jwks"] {
        for file in toml_files(folder)? {
            let case = Case::load(&file).map_err(|error| format!("{}: {error}", file.display()))?;
            add_case(seeds, &case);
        }
    }
    Ok(())
}

fn add_case(seeds: &mut Seeds, case: &Case) {
    let now = case.now();
    let tokens = case::tokens(case, now, FUZZ_JWKS_URL);
    let render = |text: &str| case::expand(&expand_key_placeholders(text), &tokens, FUZZ_JWKS_URL);
    for text in [&case.config.jwt_secret, &case.config.jwt_secrets].into_iter().flatten() {
        add_config(seeds, &render(text));
    }
    for response in case.jwks.iter().flat_map(|jwks| &jwks.responses) {
        seeds.jwk_set.insert(response.body().into_bytes());
        let mut lines = String::new();
        if let Some(cache_control) = &response.cache_control {
            let _ = writeln!(lines, "cache-control: {cache_control}");
        }
        if let Some(expires) = response.expires_at(now) {
            let _ = writeln!(lines, "expires: {expires}");
        }
        seeds.cache_headers.insert(lines.into_bytes());
    }
    let headers: Vec<(String, String)> =
        case.request.headers.iter().map(|(name, value)| (name.clone(), render(value))).collect();
    add_request(seeds, &headers);
    let method = case.request.method.as_deref().unwrap_or("GET");
    let path = case.request.path.as_deref().unwrap_or("/v1/auth");
    let mut head = format!("{method} {path}\n");
    for (name, value) in &headers {
        let _ = writeln!(head, "{name}: {value}");
    }
    let body = case.request.body.as_deref().map(render).unwrap_or_default();
    seeds.webhook.insert(format!("{head}\n{body}").into_bytes());
}

/// A request's headers: an `authenticate` seed per setup, and a POST body for `webhook`.
fn add_request(seeds: &mut Seeds, headers: &[(String, String)]) {
    let mut block = String::new();
    for (name, value) in headers {
        let _ = writeln!(block, "{name}: {value}");
    }
    for setup in 0..AUTHENTICATE_SETUPS {
        let mut seed = vec![setup];
        seed.extend_from_slice(block.as_bytes());
        seeds.authenticate.insert(seed);
    }
    let object: serde_json::Map<String, Value> =
        headers.iter().map(|(name, value)| (name.clone(), Value::from(value.as_str()))).collect();
    let body = serde_json::json!({"headers": object, "request": {"query": "{ __typename }"}});
    seeds.webhook.insert(format!("POST /v1/auth\n\n{body}").into_bytes());
}

/// A secret configuration, and every JSON path it names.
fn add_config(seeds: &mut Seeds, text: &str) {
    seeds.secret_config.insert(text.trim().as_bytes().to_vec());
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let mut pending = vec![&value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Object(members) => {
                    for (name, member) in members {
                        if let ("path" | "claims_namespace_path", Value::String(path)) =
                            (name.as_str(), member)
                        {
                            seeds.json_path.insert(path.as_bytes().to_vec());
                        }
                        pending.push(member);
                    }
                }
                Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
    }
}

fn write(seeds: &Seeds, out: &Path) -> Result<(), String> {
    let targets = [
        ("authenticate", &seeds.authenticate),
        ("secret_config", &seeds.secret_config),
        ("jwk_set", &seeds.jwk_set),
        ("cache_headers", &seeds.cache_headers),
        ("json_path", &seeds.json_path),
        ("webhook", &seeds.webhook),
    ];
    for (target, inputs) in targets {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
        // Seeds of an earlier run go (ECDSA signatures differ per run); what libFuzzer found stays.
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with("seed-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        for input in inputs {
            let mut hasher = DefaultHasher::new();
            input.hash(&mut hasher);
            let file = dir.join(format!("seed-{:016x}", hasher.finish()));
            std::fs::write(&file, input).map_err(|error| format!("{}: {error}", file.display()))?;
        }
        eprintln!("fuzz-seeds: {} seeds for {target} in {}", inputs.len(), dir.display());
    }
    Ok(())
}

/// The case files under `fixtures/<folder>`; none is an error (a moved fixture tree).
fn toml_files(folder: &str) -> Result<Vec<PathBuf>, String> {
    let dir = fixtures_dir().join(folder);
    let files = case_files(&dir);
    if files.is_empty() {
        return Err(format!("no case files under {}", dir.display()));
    }
    Ok(files)
}

fn read_toml(file: &Path) -> Result<toml::Table, String> {
    let text =
        std::fs::read_to_string(file).map_err(|error| format!("{}: {error}", file.display()))?;
    toml::from_str(&text).map_err(|error| format!("{}: {error}", file.display()))
}
