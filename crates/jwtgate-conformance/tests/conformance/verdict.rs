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
