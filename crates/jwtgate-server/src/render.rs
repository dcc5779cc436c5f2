//! Responses exactly as docs/server.md "Success" and "Failure" say.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use jwtgate_core::{AuthError, Authenticated, Caller, hasura_error_body};
use serde::Serializer as _;
use serde_json::Value;

/// The body of every response.
pub type Body = Full<Bytes>;

/// `Expires` is sent only for an `exp` below this (year 10000).
const LAST_REPRESENTABLE_EXP: f64 = 253_402_300_800.0;

static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
static NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// The 200 answer for a session, made once per answer (a cached answer keeps it): its body and
/// its whole header map, which a response clones rather than builds.
pub(crate) struct RenderedSession {
    body: Bytes,
    headers: HeaderMap,
}

impl RenderedSession {
    pub(crate) fn new(answer: &Authenticated) -> Self {
        let session = answer.session();
        let expires = answer.expires().and_then(imf_fixdate);
        let mut body = Vec::with_capacity(
            64 + session.variables().map(|(n, v)| n.len() + v.len() + 6).sum::<usize>(),
        );
        // `x-hasura-role` first, then the other variables by name, then `Expires`.
        let role = std::iter::once(("x-hasura-role", session.role()));
        let others = session.variables().filter(|(name, _)| *name != "x-hasura-role");
        let members =
            role.chain(others).chain(expires.as_deref().map(|expires| ("Expires", expires)));
        let mut serializer = serde_json::Serializer::new(&mut body);
        // Serialising strings into a Vec cannot fail.
        let _ = serializer.collect_map(members);
        let variables = session
            .variables()
            .filter(|(name, _)| {
                answer.caller() != Caller::UnauthorizedRole || *name == "x-hasura-role"
            })
            .filter_map(|(name, value)| response_header(name, value));
        let mut headers = HeaderMap::with_capacity(2 + session.variables().count());
        headers.insert(CONTENT_TYPE, APPLICATION_JSON.clone());
        headers.insert(CACHE_CONTROL, NO_STORE.clone());
        for (name, value) in variables {
            headers.append(name, value);
        }
        Self { body: Bytes::from(body), headers }
    }

    pub(crate) fn response(&self) -> Response<Body> {
        let mut response = Response::new(Full::new(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// The status and body `GET /v1/auth` gives for a verdict.
pub(crate) fn verdict_body(
    verdict: &Result<std::sync::Arc<Authenticated>, AuthError>,
) -> (StatusCode, Bytes) {
    match verdict {
        Ok(answer) => (StatusCode::OK, RenderedSession::new(answer).body),
        Err(error) => (error.status(), Bytes::from(error.hasura_body())),
    }
}

/// The answer `GET /v1/auth` gives for a verdict: the session (200) or Hasura's denial (401).
pub fn verdict(verdict: &Result<std::sync::Arc<Authenticated>, AuthError>) -> Response<Body> {
    match verdict {
        Ok(answer) => match answer.rendered(RenderedSession::new) {
            Some(rendered) => rendered.response(),
            None => RenderedSession::new(answer).response(),
        },
        Err(error) => denial(error),
    }
}

/// A session variable as a response header, when its name is an `x-hasura-` token and its value
/// has no control bytes other than tab.
fn response_header(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    if !name.starts_with("x-hasura-") {
        return None;
    }
    let value_ok = value.bytes().all(|byte| byte == b'\t' || (byte >= 0x20 && byte != 0x7f));
    if !value_ok {
        return None;
    }
    // HeaderName accepts exactly RFC 9110 token characters (lower-case, as session names are).
    Some((HeaderName::from_bytes(name.as_bytes()).ok()?, HeaderValue::from_str(value).ok()?))
}

/// floor(`exp`) as an IMF-fixdate, for 0 <= exp < 253402300800.
fn imf_fixdate(exp: f64) -> Option<String> {
    if !(0.0..LAST_REPRESENTABLE_EXP).contains(&exp) {
        return None;
    }
    // In range, so the floor is a whole number of seconds that fits a u64.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "range checked above"
    )]
    let seconds = exp.floor() as u64;
    Some(httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds)))
}

/// The 401 answer for a denial.
pub(crate) fn denial(error: &AuthError) -> Response<Body> {
    let mut response = with_error_body(error.status(), error.hasura_body());
    response.headers_mut().insert(WWW_AUTHENTICATE, error.www_authenticate());
    response
}

/// Hasura's error shape: `{"error": message, "path": "$", "code": code}`, in that key order.
pub(crate) fn error_response(status: StatusCode, message: &str, code: &str) -> Response<Body> {
    with_error_body(status, hasura_error_body(message, code))
}

fn with_error_body(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON.clone());
    response.headers_mut().insert(CACHE_CONTROL, NO_STORE.clone());
    response
}

/// A JSON body with a status (health, readiness).
pub(crate) fn json(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON.clone());
    response.headers_mut().insert(CACHE_CONTROL, NO_STORE.clone());
    response
}

/// An empty response with a status.
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
