//! `jwtgate explain`: the configuration read as `serve` reads it, one request explained step by
//! step, printed for people or as JSON (docs/server.md "jwtgate explain").

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Read as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::BodyExt as _;
use jwtgate_core::{Explanation, KEY_REFETCH_WAIT, StepOutcome};
use jwtgate_jwks::Fetchers;
use serde_json::Value;

use crate::cli::ExplainSettings;
use crate::reload;

/// What an explanation ended in: the verdict's status, and the text to print.
pub(crate) struct Explained {
    pub(crate) status: u16,
    pub(crate) output: String,
}

/// Explains the request the settings describe. An error is a usage or configuration error.
pub(crate) async fn run(settings: ExplainSettings) -> Result<Explained, String> {
    let at = settings.at.as_deref().map(parse_time).transpose()?;
    let headers = request_headers(settings.token.as_deref(), &settings.headers)?;
    let config = reload::Settings {
        secrets: settings.secrets,
        admin_secret: settings.admin_secret,
        unauthorized_role: settings.unauthorized_role,
        token_cache_size: 0,
        jwks_required: false,
        fetchers: Fetchers::default(),
    };
    let (configuration, _fetchers) = config.build(config.secrets.load()?).await?;
    let now = || at.unwrap_or_else(wall_clock);
    let explanation = configuration
        .authenticator()
        .explain(&headers, now, || tokio::time::sleep(KEY_REFETCH_WAIT))
        .await;
    let response = jwtgate_server::verdict(&explanation.verdict);
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let output = if settings.json {
        format!("{}\n", jwtgate_server::explanation_json(&explanation))
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        as_text(&explanation, status, &body, colour)
    };
    Ok(Explained { status, output })
}

/// The wall clock: the command line is an edge, where time is read.
#[expect(clippy::disallowed_methods, reason = "explain checks at the current time by default")]
fn wall_clock() -> SystemTime {
    SystemTime::now()
}

/// `--at`: Unix seconds, or an RFC 3339 time.
fn parse_time(text: &str) -> Result<SystemTime, String> {
    let invalid =
        || format!("invalid value '{text}' for '--at': expected RFC 3339 or Unix seconds");
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(UNIX_EPOCH + Duration::from_secs(seconds));
    }
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| invalid())?;
    let nanos = u64::try_from(parsed.unix_timestamp_nanos()).map_err(|_| invalid())?;
    Ok(UNIX_EPOCH + Duration::from_nanos(nanos))
}

/// The request: each `--header`, and the token (`-`: read from stdin) as `Authorization: Bearer`.
fn request_headers(token: Option<&str>, given: &[String]) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for line in given {
        let invalid = || format!("invalid value '{line}' for '--header': expected 'Name: value'");
        let (name, value) = line.split_once(':').ok_or_else(invalid)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| invalid())?;
        headers.append(name, value);
    }
    let token = match token {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| format!("cannot read the token from stdin: {error}"))?;
            Some(text.trim().to_owned())
        }
        other => other.map(str::to_owned),
    };
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the token holds characters a header cannot carry".to_owned())?;
        headers.append(http::header::AUTHORIZATION, value);
    }
    if headers.is_empty() {
        return Err(
            "nothing to explain: give a token (or - to read it from stdin) or --header".to_owned()
        );
    }
    Ok(headers)
}

fn as_text(explanation: &Explanation, status: u16, body: &Value, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_owned() }
    };
    let mut out = String::new();
    let verdict = match &explanation.verdict {
        Ok(answer) => paint("32", &format!("{status} role {}", answer.session().role())),
        Err(error) => paint("31", &format!("{status} {}: {error}", error.code())),
    };
    let _ = writeln!(out, "{verdict}");
    for step in &explanation.steps {
        let outcome = match step.outcome {
            StepOutcome::Ok => paint("32", "ok"),
            StepOutcome::Failed => paint("31;1", "FAILED"),
            StepOutcome::Skipped => paint("2", "skipped"),
            StepOutcome::Info => "info".to_owned(),
        };
        let _ = writeln!(out, "  {:<17} {outcome:<7} {}", step.name.as_str(), step.detail);
    }
    if !explanation.hints.is_empty() {
        let _ = writeln!(out, "hints:");
        for hint in &explanation.hints {
            let _ = writeln!(out, "  - {hint}");
        }
    }
    let _ = writeln!(out, "answer: {body}");
    out
}
