//! The request handler: routing, header and body modes, health, readiness and metrics.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use jwtgate_core::{Authenticator, KEY_REFETCH_WAIT};
use jwtgate_jwks::{JwksHandle, KeySet as _};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};

use crate::explain_http;
use crate::metrics::Metrics;
use crate::render::{self, Body};

/// A POST body, or the answer refusing it; `Err` when it did not arrive in time.
async fn read_body<B>(request: Request<B>) -> Result<Result<Bytes, Response<Body>>, BodyTimedOut>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let collect = Limited::new(request.into_body(), MAX_BODY_BYTES).collect();
    match tokio::time::timeout(BODY_TIMEOUT, collect).await {
        Err(_elapsed) => {
            tracing::debug!("request body not received within 10 s; closing the connection");
            Err(BodyTimedOut)
        }
        Ok(Ok(collected)) => Ok(Ok(collected.to_bytes())),
        Ok(Err(error)) => {
            let reason = if error.is::<http_body_util::LengthLimitError>() {
                format!("body larger than {MAX_BODY_BYTES} bytes")
            } else {
                format!("could not read the body: {error}")
            };
            Ok(Err(invalid_body(&reason)))
        }
    }
}

/// The largest POST body read in body mode.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a POST body may take to arrive after its head (docs/server.md).
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body that did not arrive within 10 s: the service fails, so hyper closes the
/// connection without an answer.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within 10 s")]
pub struct BodyTimedOut;

/// The request handler of `jwtgate serve`: routing, the webhook and forward-auth modes,
/// health, readiness and metrics, over the [`Configuration`] in force, which a reload replaces.
pub struct App {
    current: ArcSwap<Configuration>,
    metrics: Metrics,
    /// `--explain`: `POST /v1/explain` and `GET /explain` answered.
    explain: bool,
    /// Shutting down: `/readyz` answers 503 so load balancers stop sending.
    shutting_down: AtomicBool,
}

/// A configuration in force: the authenticator, and the fetchers of its key sets (one per URL)
/// for `/readyz` and the metrics.
pub struct Configuration {
    authenticator: Authenticator,
    key_sets: Vec<JwksHandle>,
}

impl Configuration {
    /// `authenticator`, whose key sets are fetched by `key_sets`.
    pub fn new(authenticator: Authenticator, key_sets: Vec<JwksHandle>) -> Self {
        Self { authenticator, key_sets }
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// The key set fetchers, one per URL.
    pub fn key_sets(&self) -> &[JwksHandle] {
        &self.key_sets
    }
}

/// The metrics could not be registered.
#[derive(Debug, thiserror::Error)]
#[error("cannot register metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

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
    /// A handler over `authenticator`, whose key sets are fetched by `key_sets` (one per URL),
    /// with its metrics registered.
    pub fn new(
        authenticator: Authenticator,
        key_sets: Vec<JwksHandle>,
    ) -> Result<Self, MetricsError> {
        Self::with_configuration(Configuration::new(authenticator, key_sets))
    }

    /// A handler over `configuration`, with its metrics registered.
    pub fn with_configuration(configuration: Configuration) -> Result<Self, MetricsError> {
        let current = ArcSwap::from_pointee(configuration);
        Ok(Self {
            current,
            metrics: Metrics::new()?,
            explain: false,
            shutting_down: AtomicBool::new(false),
        })
    }

    /// The same handler answering `POST /v1/explain` and `GET /explain` (`--explain`).
    #[must_use]
    pub fn with_explain(self, on: bool) -> Self {
        Self { explain: on, ..self }
    }

    /// The configuration in force.
    pub fn configuration(&self) -> Arc<Configuration> {
        self.current.load_full()
    }

    /// Puts `next` in force: requests that began on the old configuration finish on it, later
    /// ones use `next`. The old one's counts stay in the metrics.
    pub fn replace(&self, next: Configuration) {
        let next = Arc::new(next);
        let old = self.current.swap(Arc::clone(&next));
        self.metrics.replaced(&old, &next);
    }

    /// From now on `/readyz` answers 503 `shutting down` (`--shutdown-delay`); everything else
    /// is served as before.
    pub fn shut_down_soon(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// Counts a configuration reload, applied (`ok`) or refused.
    pub fn count_reload(&self, ok: bool) {
        self.metrics.count_reload(ok);
    }

    /// Counts a connection closed at once because `--max-connections` were open.
    pub fn count_rejected_connection(&self) {
        self.metrics.count_rejected_connection();
    }

    /// Answers one request: hyper's service function, and callable without a socket with any
    /// body (a fuzz target or a test passes `http_body_util::Full<Bytes>`). The client is not
    /// known: the explain endpoints then answer only with the admin secret.
    pub async fn handle<B>(&self, request: Request<B>) -> Result<Response<Body>, BodyTimedOut>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.handle_from(None, request).await
    }

    /// [`App::handle`] for a request from `client`.
    pub async fn handle_from<B>(
        &self,
        client: Option<SocketAddr>,
        request: Request<B>,
    ) -> Result<Response<Body>, BodyTimedOut>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path();
        let response = match (request.method(), path) {
            // Boxed: the rare endpoint's state stays out of every request's future.
            (&Method::POST, "/v1/explain") if self.explain => {
                Box::pin(self.explain_request(client, request)).await?
            }
            (&Method::GET, "/explain") if self.explain => {
                let admin =
                    self.configuration().authenticator.admin_secret_matches(request.headers());
                // The page asks for the admin secret itself when the server has one.
                explain_http::refused(admin.map(|_| true), client)
                    .unwrap_or_else(explain_http::page)
            }
            (&Method::POST, "/v1/auth") => self.body_mode(request).await?,
            (&Method::GET, "/v1/auth") => self.authenticate(request.headers()).await,
            (_, path) if path.starts_with("/v1/auth/") => {
                self.authenticate(request.headers()).await
            }
            (&Method::GET, "/healthz") => render::json(StatusCode::OK, &json!({"status": "ok"})),
            (&Method::GET, "/readyz") => self.readiness(),
            (&Method::GET, "/metrics") => {
                let configuration = self.configuration();
                let mut response = Response::new(http_body_util::Full::new(Bytes::from(
                    self.metrics.render(&configuration),
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
    pub async fn authenticate(&self, headers: &HeaderMap) -> Response<Body> {
        let start = started();
        // D6: a token naming a `kid` its key set lacks waits, at most 2 s, for the refetch it
        // joins or starts.
        let wait = || tokio::time::sleep(KEY_REFETCH_WAIT);
        // The configuration a request begins with is the one it finishes on, across a reload.
        // A guard, not a counted reference: no shared counter touched per request.
        let configuration = self.current.load();
        let result = configuration.authenticator.authenticate_waiting(headers, now, wait).await;
        let response = render::verdict(&result);
        let denial = result.as_ref().err();
        let seconds = start.elapsed().as_secs_f64();
        self.metrics.record(denial, seconds);
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
    async fn body_mode<B>(&self, request: Request<B>) -> Result<Response<Body>, BodyTimedOut>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let body = match read_body(request).await? {
            Ok(body) => body,
            Err(refused) => return Ok(refused),
        };
        Ok(match client_headers(&body) {
            Ok(headers) => self.authenticate(&headers).await,
            Err(reason) => invalid_body(&reason),
        })
    }

    /// `POST /v1/explain`: the body of `POST /v1/auth` and an optional `at`, explained; never
    /// counted in the verification metrics.
    async fn explain_request<B>(
        &self,
        client: Option<SocketAddr>,
        request: Request<B>,
    ) -> Result<Response<Body>, BodyTimedOut>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let configuration = self.configuration();
        let admin = configuration.authenticator.admin_secret_matches(request.headers());
        if let Some(refused) = explain_http::refused(admin, client) {
            return Ok(refused);
        }
        let body = match read_body(request).await? {
            Ok(body) => body,
            Err(refused) => return Ok(refused),
        };
        let headers = match client_headers(&body) {
            Ok(headers) => headers,
            Err(reason) => return Ok(invalid_body(&reason)),
        };
        let at = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|body| body.get("at").and_then(Value::as_f64))
            .filter(|at| at.is_finite() && *at >= 0.0)
            .map(|at| std::time::UNIX_EPOCH + Duration::from_secs_f64(at));
        let wait = || tokio::time::sleep(KEY_REFETCH_WAIT);
        let explanation =
            configuration.authenticator.explain(&headers, || at.unwrap_or_else(now), wait).await;
        Ok(render::json(StatusCode::OK, &explain_http::explanation_json(&explanation)))
    }

    fn readiness(&self) -> Response<Body> {
        if self.shutting_down.load(Ordering::Relaxed) {
            let body = json!({"status": "unavailable", "reason": "shutting down"});
            return render::json(StatusCode::SERVICE_UNAVAILABLE, &body);
        }
        for key_set in &self.configuration().key_sets {
            if key_set.current().is_empty() {
                let reason = key_set.status().unavailable_reason();
                let body = json!({"status": "unavailable", "reason": reason});
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

/// The most `headers` members a webhook body may carry (docs/server.md).
const MAX_BODY_HEADERS: usize = 100;

/// The client's headers from a POST body: the `headers` member, an object of string values
/// (names case-insensitive; for names differing only in case the last wins). Other members,
/// Hasura's `request` among them, are skipped without being built. Errors name the kind of
/// problem and its position, never a value (a value may be a token).
fn client_headers(body: &[u8]) -> Result<HeaderMap, String> {
    let too_many = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    deserializer
        .deserialize_any(BodyVisitor { too_many: &too_many })
        .and_then(|headers| deserializer.end().map(|()| headers))
        .map_err(|error| {
            if too_many.get() {
                format!("more than {MAX_BODY_HEADERS} headers")
            } else {
                describe_body_error(&error)
            }
        })
}

/// A body error as a value-free reason with its position: syntax errors get jwtgate's words
/// (serde's may quote input); data errors come from the visitors below, which never quote a
/// value.
fn describe_body_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (line, column) = (error.line(), error.column());
    match error.classify() {
        Category::Data => error.to_string(),
        Category::Eof => format!("unexpected end of the body at line {line} column {column}"),
        Category::Syntax | Category::Io => {
            format!("not valid JSON at line {line} column {column}")
        }
    }
}

/// A visitor whose every non-`visit_map` entry point fails with `message`, so serde never
/// reports (and so quotes) the value it met.
macro_rules! refuse_non_objects {
    ($message:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(E::custom($message))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(de::Error::custom($message))
        }
    };
}

/// The body: an object; only `headers` is read. `too_many` is set when `headers` has more
/// than [`MAX_BODY_HEADERS`] members.
struct BodyVisitor<'a> {
    too_many: &'a Cell<bool>,
}

impl<'de> Visitor<'de> for BodyVisitor<'_> {
    type Value = HeaderMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    refuse_non_objects!("expected a JSON object");

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderMap, A::Error> {
        let mut headers = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "headers" {
                headers = Some(map.next_value_seed(HeadersSeed { too_many: self.too_many })?);
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        headers.ok_or_else(|| de::Error::custom("no `headers` member"))
    }
}

/// The `headers` member: an object of at most [`MAX_BODY_HEADERS`] string values.
struct HeadersSeed<'a> {
    too_many: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for HeadersSeed<'_> {
    type Value = HeaderMap;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<HeaderMap, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeadersSeed<'_> {
    type Value = HeaderMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of header values")
    }

    refuse_non_objects!("`headers` must be a JSON object");

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderMap, A::Error> {
        let mut headers = HeaderMap::new();
        let mut number = 0;
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            number += 1;
            if number > MAX_BODY_HEADERS {
                self.too_many.set(true);
                return Err(de::Error::custom("too many headers"));
            }
            let value = map.next_value_seed(HeaderValueSeed { number })?;
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                de::Error::custom(format_args!("header {number} has an invalid name"))
            })?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                de::Error::custom(format_args!("header {number} has an invalid value"))
            })?;
            // Never fails below the limit; `try_` keeps a size from input from panicking.
            headers
                .try_insert(name, value)
                .map_err(|_| de::Error::custom("the headers do not fit a header map"))?;
        }
        Ok(headers)
    }
}

/// One header value: a string. `number` counts the members from 1, for errors.
struct HeaderValueSeed {
    number: usize,
}

impl<'de> DeserializeSeed<'de> for HeaderValueSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeaderValueSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.not_a_string())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(self.not_a_string())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(self.not_a_string())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.not_a_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(self.not_a_string())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.not_a_string())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.not_a_string())
    }
}

impl HeaderValueSeed {
    fn not_a_string<E: de::Error>(&self) -> E {
        E::custom(format_args!("header {} is not a string", self.number))
    }
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
