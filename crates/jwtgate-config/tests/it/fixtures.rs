//! Runs every case under `fixtures/config/`: `accept/` must parse to the expected normalised
//! config, `reject/` must fail with the expected message. The format is in `fixtures/README.md`.

use std::fs;
use std::path::Path;

use jwtgate_config::{Algorithm, JwtSecret, KeySource, parse_jwt_secret, parse_jwt_secrets};
use jwtgate_test_support::{check_cases, expand_key_placeholders};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    source: String,
    jwt_secret: Option<String>,
    jwt_secrets: Option<String>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The normalised secrets, as a JSON array (accept only).
    normalized: Option<String>,
    /// The algorithms the first secret's key verifies, if it has a `key` (accept only).
    algorithms: Option<Vec<String>>,
    /// The key's kind as `Debug` prints it, e.g. `Rsa { bits: 2048 }` (accept only).
    key_kind: Option<String>,
    /// The whole error line (reject only).
    error: Option<String>,
}

fn parse(fixture: &Fixture) -> Result<Vec<JwtSecret>, String> {
    let result = match (&fixture.jwt_secret, &fixture.jwt_secrets) {
        (Some(one), None) => {
            parse_jwt_secret(&expand_key_placeholders(one)).map(|secret| vec![secret])
        }
        (None, Some(list)) => parse_jwt_secrets(&expand_key_placeholders(list)),
        _ => panic!("a fixture has exactly one of jwt_secret and jwt_secrets"),
    };
    result.map_err(|error| error.to_string())
}

fn load(path: &Path) -> Fixture {
    let text = fs::read_to_string(path).unwrap();
    let fixture: Fixture =
        toml::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    assert!(!fixture.description.is_empty() && !fixture.source.is_empty(), "{}", path.display());
    fixture
}

#[test]
fn accepted_configs_normalise_as_expected() {
    check_cases("config", "accept", |path| {
        let fixture = &load(path);
        let expect = &fixture.expect;
        if expect.error.is_some() {
            return Err("an accept fixture cannot expect an error".into());
        }
        let secrets = parse(fixture)?;
        let normalized = Value::Array(secrets.iter().map(JwtSecret::normalized).collect());
        let wanted: Value = serde_json::from_str(
            expect.normalized.as_deref().ok_or("accept fixtures give expect.normalized")?,
        )
        .map_err(|error| format!("expect.normalized: {error}"))?;
        if normalized != wanted {
            return Err(format!("normalised to\n{normalized:#}\nwanted\n{wanted:#}"));
        }
        let key = match secrets.first().map(JwtSecret::key_source) {
            Some(KeySource::Key { key, .. }) => Some(key),
            _ => None,
        };
        if let Some(wanted) = &expect.algorithms {
            let key = key.ok_or("expect.algorithms needs a key secret")?;
            let got: Vec<&str> = key.algorithms().map(Algorithm::name).collect();
            if got != *wanted {
                return Err(format!("key verifies {got:?}, wanted {wanted:?}"));
            }
        }
        if let Some(wanted) = &expect.key_kind {
            let got = format!("{:?}", key.ok_or("expect.key_kind needs a key secret")?.kind());
            if got != *wanted {
                return Err(format!("key kind {got}, wanted {wanted}"));
            }
        }
        Ok(())
    });
}

#[test]
fn rejected_configs_fail_with_the_expected_message() {
    check_cases("config", "reject", |path| {
        let fixture = &load(path);
        let expect = &fixture.expect;
        let wanted = expect.error.as_deref().ok_or("reject fixtures give expect.error")?;
        if expect.normalized.is_some() || expect.algorithms.is_some() || expect.key_kind.is_some() {
            return Err("a reject fixture expects only an error".into());
        }
        match parse(fixture) {
            Ok(secrets) => Err(format!("accepted: {secrets:?}")),
            Err(error) if error == wanted => Ok(()),
            Err(error) => Err(format!("error\n  {error}\nwanted\n  {wanted}")),
        }
    });
}
