//! What a driver observed, the hand-written checks, and the snapshot that catches drift.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use jwtgate_conformance::case::{Expect, relative};

/// A driver's observation of one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Verdict {
    pub(crate) status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// `Expires` as jwtgate writes it: floor(`exp`) as an IMF-fixdate, for 0 <= exp < 253402300800.
pub(crate) fn expires_of(exp: Option<f64>) -> Option<String> {
    let exp = exp.filter(|exp| (0.0..253_402_300_800.0).contains(exp))?;
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "range checked")]
    let seconds = exp.floor() as u64;
    Some(httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds)))
}

/// Checks a verdict against the case's expectations; `tolerance` is how far `Expires` may be
/// from the expected time (0 in the library driver, a few seconds over HTTP).
pub(crate) fn check(
    verdict: &Verdict,
    expect: &Expect,
    now: u64,
    tolerance: u64,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if verdict.status != expect.status {
        problems.push(format!("status {} (expected {})", verdict.status, expect.status));
    }
    if let Some(session) = &expect.session
        && verdict.session.as_ref() != Some(session)
    {
        problems.push(format!("session {:?} (expected {session:?})", verdict.session));
    }
    if let Some(spec) = &expect.expires {
        let wanted = relative(spec, now).ok_or_else(|| format!("bad expires spec {spec}"))?;
        let got = verdict.expires.as_deref().and_then(|date| httpdate::parse_http_date(date).ok());
        let close = got
            .and_then(|got| got.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|got| got.as_secs().abs_diff(wanted) <= tolerance);
        if !close {
            problems.push(format!("Expires {:?} (expected {spec})", verdict.expires));
        }
    }
    if expect.code.is_some() && verdict.code != expect.code {
        problems.push(format!("code {:?} (expected {:?})", verdict.code, expect.code));
    }
    if expect.error.is_some() && verdict.error != expect.error {
        problems.push(format!("error {:?} (expected {:?})", verdict.error, expect.error));
    }
    if let Some(prefix) = &expect.error_prefix
        && !verdict.error.as_deref().is_some_and(|error| error.starts_with(prefix.as_str()))
    {
        problems.push(format!("error {:?} (expected to start with {prefix:?})", verdict.error));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// Checks that an explanation's failed steps give the verdict's cause: none for a 200 (or a
/// refused body, which is never explained), else the last failed step is one of those the denial
/// comes from.
pub(crate) fn check_explanation(verdict: &Verdict, failed: &[String]) -> Result<(), String> {
    if verdict.status != 401 {
        return if failed.is_empty() || verdict.status != 200 {
            Ok(())
        } else {
            Err(format!("a 200 with failed steps {failed:?}"))
        };
    }
    let error = verdict.error.as_deref().unwrap_or_default();
    let code = verdict.code.as_deref().unwrap_or_default();
    let causes: &[&str] = match error {
        _ if error.contains("JWTExpired") => &["exp"],
        _ if error.contains("JWTNotYetValid") => &["nbf"],
        _ if error.contains("JWTIssuedAtFuture") => &["iat"],
        _ if error.contains("JWSInvalidSignature") || error.contains("JWSNoSignatures") => {
            &["signature"]
        }
        _ if error.contains("NoUsableKeys") => &["key"],
        _ if error.contains("JWTNotInAudience") => &["aud"],
        _ if error.contains("JWTNotInIssuer") => &["iss", "secret"],
        _ if error.contains("Multiple JWTs found") => &["secret"],
        "Malformed Authorization header" => &["location"],
        _ if error.contains("JWTClaimsSetDecodeError") => &["claims"],
        _ if error.starts_with("Could not verify JWT: ") => &["header"],
        _ if error.starts_with("Missing 'Authorization'") => &["unauthorized_role"],
        _ if code == "access-denied" && error.contains("admin-secret") => &["admin_secret"],
        _ if code == "jwt-missing-role-claims" || code == "access-denied" => &["role"],
        _ => &["claims", "role"],
    };
    match failed.last() {
        Some(last) if causes.contains(&last.as_str()) => Ok(()),
        _ => Err(format!("{error:?} explained by failed steps {failed:?} (expected {causes:?})")),
    }
}

/// Compares the verdict with its snapshot in `fixtures/snapshots/conformance/<suite>/`.
/// `Expires` is shape-checked and replaced, so both drivers share one snapshot.
pub(crate) fn snapshot(
    suite: &str,
    case_path: &Path,
    description: &str,
    verdict: &Verdict,
) -> Result<(), String> {
    let mut normalized = verdict.clone();
    if let Some(expires) = &normalized.expires {
        httpdate::parse_http_date(expires)
            .map_err(|_| format!("Expires {expires:?} is not an HTTP date"))?;
        normalized.expires = Some("<http-date>".to_owned());
    }
    let name = case_path.file_stem().and_then(|stem| stem.to_str()).unwrap_or("case").to_owned();
    let directory = jwtgate_test_support::fixtures_dir().join("snapshots/conformance").join(suite);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(directory);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(description);
    settings.set_sort_maps(true);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_json_snapshot!(name.as_str(), normalized));
    }));
    outcome.map_err(|_| {
        format!("snapshot {suite}/{name} differs (review, then bless with INSTA_UPDATE=always)")
    })
}
