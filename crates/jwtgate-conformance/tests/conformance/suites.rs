//! The suites: `config` and `claims` (the crates' fixture suites, run here through both drivers)
//! and the request-level `auth` and `jwks` suites of `fixtures/conformance/`.

use std::path::Path;
use std::process::Command;

use jwtgate_config::{JwtSecret, parse_jwt_secret, parse_jwt_secrets};
use jwtgate_test_support::expand_key_placeholders;
use serde_json::Value;

use crate::drivers::{self, jwtgate_binary};
use crate::verdict::{self, check};
use jwtgate_conformance::case::{Case, Config, Expect, Request, TokenSpec};

/// Runs one case of a suite in one driver.
pub(crate) fn run(suite: &str, path: &Path, driver: &str) -> Result<(), String> {
    match suite {
        "config" => config_case(path, driver),
        "claims" => request_case(suite, path, driver, &claims_case(path)?),
        _ => request_case(suite, path, driver, &Case::load(path)?),
    }
}

/// Which drivers a case runs in, and (for one) why.
pub(crate) fn drivers_of(suite: &str, path: &Path) -> Result<Vec<&'static str>, String> {
    let case = match suite {
        "config" => return Ok(vec!["lib", "server"]),
        "claims" => claims_case(path)?,
        _ => Case::load(path)?,
    };
    Ok(["lib", "server"].into_iter().filter(|driver| case.runs_in(driver)).collect())
}

/// `diverges = "D<n>"` of a case, if any.
pub(crate) fn divergence(suite: &str, path: &Path) -> Option<String> {
    match suite {
        "auth" | "jwks" => Case::load(path).ok()?.diverges,
        _ => None,
    }
}

fn request_case(suite: &str, path: &Path, driver: &str, case: &Case) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let run = |explain: bool| -> Result<(drivers::Run, u64, u64), String> {
        if driver == "lib" {
            Ok((runtime.block_on(drivers::library(case, explain))?, case.now(), 0))
        } else {
            let (run, now) = runtime.block_on(drivers::server(case, explain))?;
            Ok((run, now, 5))
        }
    };
    let (answered, now, tolerance) = run(false)?;
    let verdict = answered.verdict;
    check(&verdict, &case.expect, now, tolerance)
        .map_err(|problem| format!("{problem}\n  verdict: {verdict:?}"))?;
    verdict::snapshot(suite, path, &case.description, &verdict)?;
    // The case again, in a fresh state, explained: the same verdict, and a failed step that is
    // the cause of the denial.
    let (explained_run, now, tolerance) = run(true)?;
    let Some(explained) = explained_run.explained else { return Ok(()) };
    let explained_verdict = explained_run.verdict;
    check(&explained_verdict, &case.expect, now, tolerance)
        .map_err(|problem| format!("explained: {problem}\n  verdict: {explained_verdict:?}"))?;
    if (explained_verdict.status, &explained_verdict.code, &explained_verdict.error)
        != (verdict.status, &verdict.code, &verdict.error)
    {
        return Err(format!("explained {explained_verdict:?}, answered {verdict:?}"));
    }
    verdict::check_explanation(&explained_verdict, &explained.failed)?;
    if let Some(hints) = &case.expect.hints
        && *hints != explained.hints
    {
        return Err(format!("hints {:?} (expected {hints:?})", explained.hints));
    }
    Ok(())
}

/// A claims fixture as a request: its claims signed with its config's HS256 key, sent with its
/// `x-hasura-role`, must give its session or its error through the whole pipeline.
fn claims_case(path: &Path) -> Result<Case, String> {
    let table: toml::Table =
        toml::from_str(&std::fs::read_to_string(path).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let text = |name: &str| table.get(name).and_then(toml::Value::as_str).map(str::to_owned);
    let config = expand_key_placeholders(&text("config").ok_or("no config")?);
    let secret: Value = serde_json::from_str(&config).map_err(|e| e.to_string())?;
    let key = secret
        .get("key")
        .and_then(Value::as_str)
        .ok_or("a claims fixture signs with its HS256 key")?;
    let expect = table.get("expect").and_then(toml::Value::as_table).ok_or("no expect")?;
    let field = |name: &str| expect.get(name).and_then(toml::Value::as_str).map(str::to_owned);
    let session = match field("session") {
        Some(session) => {
            Some(serde_json::from_str(&session).map_err(|e| format!("expect.session: {e}"))?)
        }
        None => None,
    };
    let mut headers = vec![("Authorization".to_owned(), "Bearer {{token}}".to_owned())];
    if let Some(role) = text("role") {
        headers.push(("x-hasura-role".to_owned(), role));
    }
    Ok(Case {
        description: text("description").unwrap_or_default(),
        source: text("source").unwrap_or_default(),
        diverges: None,
        drivers: None,
        only_reason: None,
        now: None,
        config: Config {
            jwt_secret: Some(config),
            jwt_secrets: None,
            admin_secret: None,
            unauthorized_role: None,
            token_cache_size: None,
        },
        tokens: vec![TokenSpec {
            alg: Some("HS256".to_owned()),
            key: Some(format!("hmac:{key}")),
            header: None,
            claims: text("claims"),
            raw: None,
        }],
        request: Request { method: None, path: None, headers, body: None, concurrent: None },
        jwks: None,
        discovery: None,
        steps: Vec::new(),
        expect: Expect {
            status: if session.is_some() { 200 } else { 401 },
            session,
            expires: None,
            code: field("code"),
            error: field("message"),
            error_prefix: None,
            fetches: None,
            jwks_paths: None,
            ready_reason: None,
            hints: None,
        },
    })
}

/// A config fixture: the library parses it; the server's `config check` prints the same.
fn config_case(path: &Path, driver: &str) -> Result<(), String> {
    let table: toml::Table =
        toml::from_str(&std::fs::read_to_string(path).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let (flag, json) = match (table.get("jwt_secret"), table.get("jwt_secrets")) {
        (Some(one), None) => {
            ("--jwt-secret", expand_key_placeholders(one.as_str().unwrap_or_default()))
        }
        (None, Some(list)) => {
            ("--jwt-secrets", expand_key_placeholders(list.as_str().unwrap_or_default()))
        }
        _ => return Err("exactly one of jwt_secret and jwt_secrets".to_owned()),
    };
    let expect = table.get("expect").and_then(toml::Value::as_table).ok_or("no expect")?;
    let outcome: Result<Value, String> = if driver == "lib" {
        let parsed = if flag == "--jwt-secret" {
            parse_jwt_secret(&json).map(|s| vec![s])
        } else {
            parse_jwt_secrets(&json)
        };
        parsed
            .map(|secrets| Value::Array(secrets.iter().map(JwtSecret::normalized).collect()))
            .map_err(|error| error.to_string())
    } else {
        let output = Command::new(jwtgate_binary()?)
            .args(["config", "check", flag, &json])
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            serde_json::from_slice(&output.stdout)
                .map_err(|e| format!("config check printed no JSON: {e}"))
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(stderr.trim_end().strip_prefix("jwtgate: ").unwrap_or(&stderr).to_owned())
        }
    };
    match (outcome, expect.get("normalized"), expect.get("error")) {
        (Ok(normalized), Some(expected), None) => {
            let expected: Value = serde_json::from_str(expected.as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            if normalized == expected {
                Ok(())
            } else {
                Err(format!("normalized {normalized} (expected {expected})"))
            }
        }
        (Err(error), None, Some(expected)) if expected.as_str() == Some(error.as_str()) => Ok(()),
        (outcome, _, _) => Err(format!("got {outcome:?}; expected {expect:?}")),
    }
}
