//! Runs every case under `fixtures/claims/`: `accept/` must resolve to exactly the expected
//! session (also kept as an insta snapshot under `fixtures/snapshots/claims/`), `reject/` must
//! fail with the expected code and message. The format is in `fixtures/README.md`.

use std::fs;
use std::path::Path;

use jwtgate_claims::{ClaimsSet, Session, resolve};
use jwtgate_config::parse_jwt_secret;
use jwtgate_test_support::{check_cases, fixtures_dir};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    source: String,
    config: String,
    claims: String,
    role: Option<String>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    session: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

fn session_json(session: &Session) -> Value {
    Value::Object(
        session
            .variables()
            .map(|(name, value)| (name.to_owned(), Value::from(value)))
            .collect::<Map<_, _>>(),
    )
}

fn run_case(path: &Path, accept: bool) -> Result<(), String> {
    let fixture: Fixture =
        toml::from_str(&fs::read_to_string(path).unwrap()).map_err(|error| error.to_string())?;
    if fixture.description.is_empty() || fixture.source.is_empty() {
        return Err("description and source are required".into());
    }
    let secret = parse_jwt_secret(&fixture.config).map_err(|error| format!("config: {error}"))?;
    let claims = ClaimsSet::parse(&fixture.claims).map_err(|error| format!("claims: {error}"))?;
    let result = resolve(&claims, secret.claims(), fixture.role.as_deref());
    let expect = &fixture.expect;
    match (accept, result) {
        (true, Ok(session)) => {
            let wanted: Value = serde_json::from_str(
                expect.session.as_deref().ok_or("expect.session is required")?,
            )
            .map_err(|error| format!("expect.session: {error}"))?;
            let got = session_json(&session);
            if got != wanted {
                return Err(format!("session\n{got:#}\nwanted\n{wanted:#}"));
            }
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(fixtures_dir().join("snapshots/claims"));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.set_description(fixture.description.clone());
            settings.set_info(&fixture.source);
            settings.bind(|| insta::assert_json_snapshot!(name, got));
            Ok(())
        }
        (false, Err(error)) => {
            let code = expect.code.as_deref().ok_or("expect.code is required")?;
            let message = expect.message.as_deref().ok_or("expect.message is required")?;
            if error.code() == code && error.to_string() == message {
                Ok(())
            } else {
                Err(format!("got {} {error}\nwanted {code} {message}", error.code()))
            }
        }
        (true, Err(error)) => Err(format!("rejected: {} {error}", error.code())),
        (false, Ok(session)) => Err(format!("accepted: {}", session_json(&session))),
    }
}

#[test]
fn accepted_claims_resolve_to_the_expected_session() {
    check_cases("claims", "accept", |path| run_case(path, true));
}

#[test]
fn rejected_claims_fail_with_hasuras_code_and_message() {
    check_cases("claims", "reject", |path| run_case(path, false));
}
