//! The request handler: routing, header and body modes, health, readiness and metrics.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use jwtgate_core::Authenticator;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::metrics::Metrics;
use crate::render::{self, Body, RenderedSession};

/// The largest POST body read in body mode.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The request handler of `jwtgate serve`: routing, the webhook and forward-auth modes,
/// health, readiness and metrics, over an [`Authenticator`].
pub struct App {
    authenticator: Authenticator,
    metrics: Metrics,
}

/// The wall clock: the server is the edge where time is read.
#[expect(clippy::disallowed_methods, reason = "the server is where the clock is read")]
fn now() -> SystemTime {
    SystemTime::now()
}

#[expect(clippy::disallowed_methods, reason = "request latency for the metrics histogram")]
fn started() -> Instant {
    Instant::now()
}

impl App {
    /// A handler over `authenticator`, with its metrics registered.
    pub fn new(authenticator: Authenticator) -> Result<Self, String> {
        let metrics =
            Metrics::new().map_err(|error| format!("cannot register metrics: {error}"))?;
        Ok(Self { authenticator, metrics })
    }

    /// The authenticator (its key set fetchers report to `/readyz`).
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// Answers one request (hyper's service function).
    pub async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, Infallible> {
        let path = request.uri().path();
        let response = match (request.method(), path) {
            (&Method::POST, "/v1/auth") => self.body_mode(request).await,
            (&Method::GET, "/v1/auth") => self.authenticate(request.headers()),
            (_, path) if path.starts_with("/v1/auth/") => self.authenticate(request.headers()),
            (&Method::GET, "/healthz") => render::json(StatusCode::OK, &json!({"status": "ok"})),
            (&Method::GET, "/readyz") => self.readiness(),
            (&Method::GET, "/metrics") => {
                let mut response = Response::new(http_body_util::Full::new(Bytes::from(
                    self.metrics.render(&self.authenticator),
                )));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                response
            }
            _ => render::empty(StatusCode::NOT_FOUND),
        };
        Ok(response)
    }

    /// Header mode: authenticates a client's headers at the current time and answers with the
    /// session (200) or the denial (401), as `GET /v1/auth` does.
    pub fn authenticate(&self, headers: &HeaderMap) -> Response<Body> {
        let start = started();
        let result = self.authenticator.authenticate(headers, now());
        let (response, code) = match &result {
            Ok(answer) => match answer.rendered(RenderedSession::new) {
                Some(rendered) => (rendered.response(), None),
                None => (RenderedSession::new(answer).response(), None),
            },
            Err(error) => (render::denial(error), Some(error.code())),
        };
        let seconds = start.elapsed().as_secs_f64();
        self.metrics.record(code, seconds);
        if tracing::enabled!(tracing::Level::DEBUG) {
            let token = TokenSummary::of(headers);
            let (alg, kid, digest) =
                (token.alg.as_str(), token.kid.as_str(), token.digest.as_str());
            match &result {
                Ok(answer) => {
                    let role = answer.session().role();
                    tracing::debug!(status = 200, role, alg, kid, token = digest, "authenticated");
                }
                Err(error) => {
                    tracing::debug!(status = 401, code = error.code(), %error, alg, kid, token = digest, "denied");
                }
            }
        }
        response
    }

    /// POST mode: the client's headers are the body's `headers` object.
    async fn body_mode(&self, request: Request<Incoming>) -> Response<Body> {
        let body = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                let reason = if error.is::<http_body_util::LengthLimitError>() {
                    format!("body larger than {MAX_BODY_BYTES} bytes")
                } else {
                    format!("could not read the body: {error}")
                };
                return invalid_body(&reason);
            }
        };
        match client_headers(&body) {
            Ok(headers) => self.authenticate(&headers),
            Err(reason) => invalid_body(&reason),
        }
    }

    fn readiness(&self) -> Response<Body> {
        for key_set in self.authenticator.key_sets() {
            if key_set.keys().is_empty() {
                let status = key_set.status();
                let reason = match status.last_attempt.map(|attempt| attempt.outcome) {
                    Some(Err(error)) => error.to_string(),
                    _ => "not fetched yet".to_owned(),
                };
                let body =
                    json!({"status": "unavailable", "reason": format!("{}: {reason}", status.url)});
                return render::json(StatusCode::SERVICE_UNAVAILABLE, &body);
            }
        }
        render::json(StatusCode::OK, &json!({"status": "ok"}))
    }
}

fn invalid_body(reason: &str) -> Response<Body> {
    tracing::warn!(reason, "invalid webhook request body");
    render::error_response(
        StatusCode::BAD_REQUEST,
        &format!("invalid webhook request body: {reason}"),
        "invalid-params",
    )
}

/// The body of Hasura's POST webhook: only `headers` is read; `request` and the rest are skipped
/// without being built.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object with a `headers` object")]
struct WebhookBody {
    headers: Map<String, Value>,
}

/// The client's headers from a POST body: names case-insensitive (for names differing only in
/// case the last wins), values strings.
fn client_headers(body: &Bytes) -> Result<HeaderMap, String> {
    let parsed: WebhookBody = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for (name, value) in &parsed.headers {
        let Value::String(value) = value else {
            return Err(format!("header {name:?} is not a string"));
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of {name:?} is not a header value"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// What the logs say about a presented `Authorization` token: its header's `alg` and `kid` and a
/// short digest, never the token itself.
struct TokenSummary {
    alg: String,
    kid: String,
    digest: String,
}

impl TokenSummary {
    fn of(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Self { alg: String::new(), kid: String::new(), digest: String::new() };
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
        let digest = digest.as_ref().iter().take(4).fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
        let header: Value = value
            .to_str()
            .ok()
            .and_then(|value| value.trim().strip_prefix("Bearer "))
            .and_then(|token| token.trim().split('.').next())
            .and_then(|part| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok()
            })
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or(Value::Null);
        let field = |name: &str| {
            header.get(name).and_then(Value::as_str).unwrap_or_default().chars().take(64).collect()
        };
        Self { alg: field("alg"), kid: field("kid"), digest }
    }
}
