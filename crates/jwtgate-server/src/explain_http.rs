//! Explanations over HTTP (behind `--explain`): `POST /v1/explain` answers `jwtgate explain
//! --json`'s object, `GET /explain` serves the page that asks for it.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use jwtgate_core::{AuthError, Explanation};
use serde_json::{Value, json};

use crate::render::{self, Body};

/// The page: one HTML file with its style and script inline, no external asset.
const PAGE: &str = include_str!("explain.html");

/// The page's Content-Security-Policy (docs/server.md): nothing but itself and `/v1/explain`.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; img-src data:; connect-src 'self'; form-action 'none'; \
    frame-ancestors 'none'; base-uri 'none'";

/// `jwtgate explain --json`'s object: the verdict `GET /v1/auth` answers, the steps, the hints.
pub fn explanation_json(explanation: &Explanation) -> Value {
    let (status, body) = render::verdict_body(&explanation.verdict);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let steps: Vec<Value> = explanation
        .steps
        .iter()
        .map(|step| {
            json!({"step": step.name.as_str(), "outcome": step.outcome.as_str(), "detail": step.detail})
        })
        .collect();
    let hints: Vec<String> = explanation.hints.iter().map(ToString::to_string).collect();
    json!({"verdict": {"status": status.as_u16(), "body": body}, "steps": steps, "hints": hints})
}

/// Who may ask: with an admin secret configured, a request carrying it (`admin` is whether it
/// does); without one, loopback clients only.
pub(crate) fn refused(admin: Option<bool>, client: Option<SocketAddr>) -> Option<Response<Body>> {
    match admin {
        Some(true) => None,
        Some(false) => Some(render::denial(&AuthError::InvalidAdminSecret)),
        None if client.is_some_and(|client| client.ip().is_loopback()) => None,
        None => Some(render::empty(StatusCode::FORBIDDEN)),
    }
}

/// The page, with headers that keep it to itself.
pub(crate) fn page() -> Response<Body> {
    let mut response =
        Response::new(http_body_util::Full::new(Bytes::from_static(PAGE.as_bytes())));
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
