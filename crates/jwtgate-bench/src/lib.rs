//! The benchmark corpus prepared for measuring: each named scenario of
//! `jwtgate_test_support::corpus` becomes an authenticator, a request and a fixed `now`, its
//! outcome asserted once before anything is timed or counted.
//!
//! Two front ends use it: `benches/corpus.rs` (criterion, for people) and `src/bin/icount.rs`
//! (the instruction-count target of `cargo xtask bench-gate`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use jwtgate_config::{parse_jwt_secret, parse_jwt_secrets};
use jwtgate_core::{AuthError, Authenticated, Authenticator, AuthenticatorConfig};
use jwtgate_jwks::{
    Fetch, FetchedResponse, JwksHandle, JwksOptions, KeySet, ManualClock, TransportError,
};
use jwtgate_test_support::corpus::{self, Expected, Scenario};

/// Scenarios beside the corpus's token ones: from its `hs256` one, a repeated request answered
/// from the cache, a whole `GET /v1/auth` handled in process by the server's handler (routing
/// aside), a whole `POST /v1/auth` with Hasura's body (routing, the body read and parsed) and
/// the same token explained step by step (what `jwtgate explain` and `POST /v1/explain` pay,
/// and only they); and a request without a token carrying 10 000 `x-hasura-*` headers, all made
/// session variables on the unauthorized-role path.
pub const DERIVED: [&str; 5] = [
    "cache_hit",
    "webhook_get_in_process",
    "webhook_post_in_process",
    "explain_hs256",
    "unauthorized_role_10000_variables",
];

/// The `x-hasura-*` headers of `unauthorized_role_10000_variables`.
const MANY_VARIABLES: usize = 10_000;

/// The scenarios' names, in corpus order, then the derived ones.
pub fn names() -> Vec<&'static str> {
    corpus::all().iter().map(|scenario| scenario.name).chain(DERIVED).collect()
}

/// What a scenario runs.
enum Target {
    /// `Authenticator::authenticate_now`, the server's path.
    Library(Authenticator),
    /// `Authenticator::explain`: every step recorded.
    Explain(Authenticator),
    /// The server's header mode: authentication, rendering and metrics.
    Webhook(jwtgate_server::App),
    /// The server's body mode: this body posted to `/v1/auth`, handled whole.
    WebhookPost(jwtgate_server::App, Bytes),
}

/// A scenario ready to run: `run` handles its request once.
pub struct Prepared {
    /// The scenario's name.
    pub name: &'static str,
    target: Target,
    headers: HeaderMap,
    now: SystemTime,
    /// Keeps the JWKS fetcher's runtime alive for `jwk_url` scenarios; gives the POST scenario
    /// its timer.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Prepared {
    /// Handles the scenario's request once; returns the HTTP status it answers with.
    #[inline]
    pub fn run(&self) -> u16 {
        match &self.target {
            Target::Library(authenticator) => {
                match authenticator.authenticate_now(&self.headers, self.now) {
                    Ok(answer) => {
                        drop(answer);
                        200
                    }
                    Err(error) => error.status().as_u16(),
                }
            }
            Target::Explain(authenticator) => {
                let explanation =
                    at_once(authenticator.explain(&self.headers, || self.now, no_wait));
                if explanation.verdict.is_ok() { 200 } else { 401 }
            }
            Target::Webhook(app) => at_once(app.authenticate(&self.headers)).status().as_u16(),
            Target::WebhookPost(app, body) => {
                // The body's read timeout needs the runtime's timer at hand.
                let _entered = self.runtime.as_ref().map(tokio::runtime::Runtime::enter);
                let request = http::Request::post("/v1/auth")
                    .body(http_body_util::Full::new(body.clone()))
                    .unwrap_or_default();
                at_once(app.handle(request)).map_or(500, |response| response.status().as_u16())
            }
        }
    }

    /// The library outcome: the role, or the denial's message.
    fn outcome(&self) -> Result<String, String> {
        let configuration;
        let authenticator = match &self.target {
            Target::Library(authenticator) | Target::Explain(authenticator) => authenticator,
            Target::Webhook(app) | Target::WebhookPost(app, _) => {
                configuration = app.configuration();
                configuration.authenticator()
            }
        };
        let result: Result<Arc<Authenticated>, AuthError> =
            authenticator.authenticate_now(&self.headers, self.now);
        result.map(|answer| answer.session().role().to_owned()).map_err(|error| error.to_string())
    }
}

/// Runs a future that completes at its first poll: the corpus never waits for a key set refetch.
#[expect(clippy::panic, reason = "a corpus scenario that waits must stop the measurement")]
fn at_once<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("a corpus scenario waited for a key set refetch"),
    }
}

/// The explanation's timer: never needed, as the corpus never waits for a refetch.
async fn no_wait() {}

/// Serves a fixed JWKS document, no network.
struct FixedSet(Bytes);

impl Fetch for FixedSet {
    async fn fetch(&self) -> Result<FetchedResponse, TransportError> {
        Ok(FetchedResponse::new(StatusCode::OK, HeaderMap::new(), self.0.clone()))
    }
}

/// Prepares a scenario by name and checks its outcome once.
///
/// # Panics
/// On an unknown name, or when the scenario's outcome is not the expected one.
#[expect(clippy::panic, clippy::expect_used, reason = "a broken corpus must stop the measurement")]
pub fn prepare(name: &str) -> Prepared {
    if name == "unauthorized_role_10000_variables" {
        return prepare_many_variables();
    }
    let cache_hit = name == "cache_hit";
    let lookup = if DERIVED.contains(&name) { "hs256" } else { name };
    let scenario: Scenario = corpus::all()
        .into_iter()
        .find(|scenario| scenario.name == lookup)
        .unwrap_or_else(|| panic!("no scenario {name}; known: {:?}", names()));
    let mut config = AuthenticatorConfig::new(secrets(&scenario.secret));
    config.token_cache_size = if cache_hit { 16 } else { 0 };
    let now = UNIX_EPOCH + Duration::from_secs(corpus::NOW);
    let (authenticator, key_sets, mut runtime) =
        authenticator(config, scenario.jwks.as_deref(), now);
    let mut headers = HeaderMap::new();
    if let Some(role) = scenario.role {
        headers.insert("x-hasura-role", HeaderValue::from_static(role));
    }
    let authorization =
        HeaderValue::from_str(&format!("Bearer {}", scenario.token)).expect("tokens are ASCII");
    headers.insert(http::header::AUTHORIZATION, authorization);
    let (name, target) = match name {
        "webhook_get_in_process" => {
            let app = jwtgate_server::App::new(authenticator, key_sets).expect("metrics register");
            ("webhook_get_in_process", Target::Webhook(app))
        }
        "webhook_post_in_process" => {
            let app = jwtgate_server::App::new(authenticator, key_sets).expect("metrics register");
            runtime.get_or_insert_with(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .expect("a runtime")
            });
            ("webhook_post_in_process", Target::WebhookPost(app, hasura_post_body(&scenario.token)))
        }
        "explain_hs256" => ("explain_hs256", Target::Explain(authenticator)),
        "cache_hit" => ("cache_hit", Target::Library(authenticator)),
        _ => (scenario.name, Target::Library(authenticator)),
    };
    let prepared = Prepared { name, target, headers, now, runtime };
    let outcome = prepared.outcome();
    match scenario.expected {
        Expected::Role(role) => assert_eq!(outcome, Ok(role.to_owned()), "{name}"),
        Expected::Denied(message) => assert_eq!(outcome, Err(message.to_owned()), "{name}"),
    }
    if let Target::Library(authenticator) = &prepared.target
        && cache_hit
    {
        assert_eq!(prepared.run(), 200);
        assert_eq!(authenticator.cache_stats().hits, 1, "cache_hit is answered from the cache");
    }
    if matches!(prepared.target, Target::Webhook(_) | Target::WebhookPost(..) | Target::Explain(_))
    {
        assert_eq!(prepared.run(), 200, "{name} answers 200 for the typical token");
    }
    prepared
}

/// A scenario's secret config, one secret or a list.
#[expect(clippy::expect_used, reason = "a broken corpus must stop the measurement")]
fn secrets(config: &serde_json::Value) -> Vec<jwtgate_config::JwtSecret> {
    let secrets = if config.is_array() {
        parse_jwt_secrets(&config.to_string())
    } else {
        parse_jwt_secret(&config.to_string()).map(|secret| vec![secret])
    };
    secrets.expect("corpus secrets are valid")
}

/// The body Hasura posts in its webhook's POST mode: the client's headers and its GraphQL
/// request.
fn hasura_post_body(token: &str) -> Bytes {
    let body = serde_json::json!({
        "headers": {
            "Authorization": format!("Bearer {token}"),
            "Content-Type": "application/json",
            "User-Agent": "corpus-client/1.0",
        },
        "request": {
            "query": "query Me($id: String!) { users(where: {id: {_eq: $id}}) { id name } }",
            "variables": {"id": "5f7c8ec7c33c6c004bbafe82"},
            "operationName": "Me",
        },
    });
    Bytes::from(body.to_string())
}

/// The authenticator of a scenario; a `jwk_url` scenario's key set is served by a fetcher on a
/// runtime of its own, fetched once before this returns.
#[expect(clippy::expect_used, reason = "a broken corpus must stop the measurement")]
fn authenticator(
    config: AuthenticatorConfig,
    jwks: Option<&str>,
    now: SystemTime,
) -> (Authenticator, Vec<JwksHandle>, Option<tokio::runtime::Runtime>) {
    let Some(document) = jwks else {
        return (Authenticator::new(config, |_| None), Vec::new(), None);
    };
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let body = Bytes::from(document.to_owned());
    let mut key_sets = Vec::new();
    let authenticator = runtime.block_on(async {
        Authenticator::new(config, |url| {
            let fetcher = FixedSet(body.clone());
            let handle = JwksHandle::spawn_with(
                url.clone(),
                fetcher,
                ManualClock::new(now),
                &JwksOptions::default(),
            )
            .expect("inside a runtime");
            key_sets.push(handle.clone());
            Some(Arc::new(handle) as Arc<dyn KeySet>)
        })
    });
    for key_set in &key_sets {
        runtime.block_on(key_set.wait_for_attempts(1));
    }
    (authenticator, key_sets, Some(runtime))
}

/// `unauthorized_role_10000_variables`: the session is built from every `x-hasura-*` header.
#[expect(clippy::expect_used, reason = "a broken corpus must stop the measurement")]
fn prepare_many_variables() -> Prepared {
    let secret = format!(r#"{{"type": "HS256", "key": "{}"}}"#, corpus::HS256_SECRET);
    let mut config = AuthenticatorConfig::new(vec![
        parse_jwt_secret(&secret).expect("corpus secrets are valid"),
    ]);
    config.unauthorized_role = Some("anonymous".to_owned());
    config.token_cache_size = 0;
    let authenticator = Authenticator::new(config, |_| None);
    let mut headers = HeaderMap::new();
    // Reversed, so the names do not arrive sorted.
    for index in (0..MANY_VARIABLES).rev() {
        let name = http::HeaderName::try_from(format!("x-hasura-variable-{index}"))
            .expect("a header name");
        headers.insert(name, HeaderValue::from(index));
    }
    let now = UNIX_EPOCH + Duration::from_secs(corpus::NOW);
    let answer = authenticator.authenticate_now(&headers, now).expect("a session");
    assert_eq!(answer.session().role(), "anonymous");
    assert_eq!(answer.session().variables().count(), MANY_VARIABLES + 1);
    Prepared {
        name: "unauthorized_role_10000_variables",
        target: Target::Library(authenticator),
        headers,
        now,
        runtime: None,
    }
}
