//! The two drivers: the library in process at a fixed `now`, and the `jwtgate` binary over HTTP.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use jwtgate_config::{parse_jwt_secret, parse_jwt_secrets};
use jwtgate_core::{
    AuthError, Authenticated, Authenticator, AuthenticatorConfig, Hint, KEY_REFETCH_WAIT, StepName,
    StepOutcome,
};
use jwtgate_jwks::{
    Clock as _, Fetchers, JwksHandle, JwksOptions, KeySet as _, ManualClock, NextFetchAt,
};
use jwtgate_test_support::http::{HttpResponse, send};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::verdict::{Verdict, expires_of};
use jwtgate_conformance::case::{
    Case, DISCOVERY_DOCUMENT_PATH, Discovery, JWKS_PATH, Jwks, expand, tokens,
};

/// A scripted JWKS endpoint on wiremock (real HTTP): responses in order, the last repeating.
pub(crate) struct Provider {
    pub(crate) server: MockServer,
}

struct Script {
    responses: Vec<ResponseTemplate>,
    served: AtomicUsize,
}

impl Respond for Script {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let index =
            self.served.fetch_add(1, Ordering::SeqCst).min(self.responses.len().saturating_sub(1));
        self.responses.get(index).cloned().unwrap_or_else(|| ResponseTemplate::new(404))
    }
}

/// A scripted answer's status (200 when absent) and `Cache-Control`.
fn scripted(status: Option<u16>, cache_control: Option<&str>) -> ResponseTemplate {
    let template = ResponseTemplate::new(status.unwrap_or(200));
    match cache_control {
        Some(value) => template.insert_header("cache-control", value),
        None => template,
    }
}

impl Provider {
    /// The key set at `/jwks` (any path but the discovery document's answers it) and, when the
    /// case has one, the discovery document of issuer `/idp`.
    pub(crate) async fn start(spec: &Jwks, discovery: Option<&Discovery>, now: u64) -> Self {
        let responses = spec
            .responses
            .iter()
            .map(|response| {
                let mut template = scripted(response.status, response.cache_control.as_deref());
                if let Some(expires) = response.expires_at(now) {
                    template = template.insert_header("expires", expires.as_str());
                }
                if let Some(delay) = response.delay_ms {
                    template = template.set_delay(Duration::from_millis(delay));
                }
                template.set_body_string(response.body())
            })
            .collect();
        let server = MockServer::start().await;
        let with_required = |mut mock: wiremock::MockBuilder| {
            for (name, value) in &spec.require_headers {
                mock = mock.and(wiremock::matchers::header(name.as_str(), value.as_str()));
            }
            mock
        };
        if let Some(discovery) = discovery {
            let jwks_url = format!("{}{JWKS_PATH}", server.uri());
            let documents = discovery
                .responses
                .iter()
                .map(|response| {
                    scripted(response.status, response.cache_control.as_deref())
                        .set_body_string(expand(&response.body(), &[], &jwks_url))
                })
                .collect();
            with_required(Mock::given(wiremock::matchers::path(DISCOVERY_DOCUMENT_PATH)))
                .respond_with(Script { responses: documents, served: AtomicUsize::new(0) })
                .with_priority(1)
                .mount(&server)
                .await;
        }
        with_required(Mock::given(wiremock::matchers::any()))
            .respond_with(Script { responses, served: AtomicUsize::new(0) })
            .with_priority(2)
            .mount(&server)
            .await;
        // A request without the required headers is refused, as a gateway would.
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(401))
            .with_priority(3)
            .mount(&server)
            .await;
        Self { server }
    }

    pub(crate) fn url(&self) -> String {
        format!("{}{JWKS_PATH}", self.server.uri())
    }

    /// The paths of the key set requests so far, in order (discovery documents left out).
    pub(crate) async fn jwks_paths(&self) -> Vec<String> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .map(|request| request.url.path().to_owned())
            .filter(|path| path != DISCOVERY_DOCUMENT_PATH)
            .collect()
    }

    /// Key set fetches so far (discovery documents not counted).
    pub(crate) async fn fetches(&self) -> u64 {
        self.jwks_paths().await.len() as u64
    }
}

/// Runs a case in process at its fixed `now`.
#[expect(clippy::too_many_lines, reason = "one scripted case, step by step")]
pub(crate) async fn library(case: &Case, explain: bool) -> Result<Run, String> {
    let now = case.now();
    let start = UNIX_EPOCH + Duration::from_secs(now);
    let provider = match &case.jwks {
        Some(spec) => Some(Provider::start(spec, case.discovery.as_ref(), now).await),
        None => None,
    };
    let jwks_url = provider.as_ref().map(Provider::url).unwrap_or_default();
    let tokens = tokens(case, now, &jwks_url);
    let secrets = match (&case.config.jwt_secret, &case.config.jwt_secrets) {
        (Some(one), _) => {
            parse_jwt_secret(&expand(one, &tokens, &jwks_url)).map(|secret| vec![secret])
        }
        (_, Some(list)) => parse_jwt_secrets(&expand(list, &tokens, &jwks_url)),
        _ => return Err("no secret".to_owned()),
    }
    .map_err(|error| format!("config: {error}"))?;
    let clock = ManualClock::new(start);
    // The server's fetchers (one per key set, each with its secret's `jwk_headers`, discovery
    // included), on the simulated clock.
    let fetchers = Fetchers::start_with_clock(&secrets, &JwksOptions::default(), &clock)
        .map_err(|error| format!("key set: {error}"))?;
    let mut config = AuthenticatorConfig::new(secrets);
    config.admin_secret = case.config.admin_secret.clone().map(Into::into);
    config.unauthorized_role.clone_from(&case.config.unauthorized_role);
    if let Some(size) = case.config.token_cache_size {
        config.token_cache_size = size;
    }
    let authenticator = Authenticator::new(config, |url| fetchers.key_set(url));
    let key_sets = fetchers.into_handles();
    for key_set in &key_sets {
        tokio::time::timeout(Duration::from_secs(10), key_set.wait_for_attempts(1))
            .await
            .map_err(|_| "the first JWKS fetch did not complete".to_owned())?;
    }
    let headers = header_map(case, &tokens, &jwks_url)?;

    for step in &case.steps {
        let target = start + Duration::from_secs(step.at);
        let elapsed = target.duration_since(clock.now()).unwrap_or_default();
        clock.advance(elapsed);
        let key_set = key_sets.first().ok_or("steps need a jwk_url secret")?;
        // The fetch task reacts to the clock on its own time: wait (bounded) for the count.
        let waited =
            tokio::time::timeout(Duration::from_secs(10), key_set.wait_for_attempts(step.fetches))
                .await;
        let made = match &provider {
            Some(provider) => provider.fetches().await,
            None => 0,
        };
        if waited.is_err() || made != step.fetches || !idle(key_set, clock.now()) {
            return Err(format!("at {} s: {made} fetches (expected {})", step.at, step.fetches));
        }
        if let Some(next) = &step.next_fetch {
            let expected = match next {
                serde_json::Value::String(never) if never == "never" => NextFetchAt::Never,
                serde_json::Value::Number(at) => {
                    NextFetchAt::At(start + Duration::from_secs(at.as_u64().unwrap_or(0)))
                }
                other => return Err(format!("bad next_fetch {other}")),
            };
            let actual = key_set.status().next_fetch;
            if actual != Some(expected) {
                return Err(format!(
                    "at {} s: next fetch {actual:?} (expected {expected:?})",
                    step.at
                ));
            }
        }
        if let Some(status) = step.request_status {
            let headers = match step.request_token {
                None | Some(0) => headers.clone(),
                Some(index) => {
                    // `{{token}}` stands for the token this step names.
                    let mut reordered = tokens.clone();
                    if index >= reordered.len() {
                        return Err(format!("at {} s: no token {index}", step.at));
                    }
                    reordered.swap(0, index);
                    header_map(case, &reordered, &jwks_url)?
                }
            };
            let verdict = verdict_of(&authenticator, &headers, clock.now()).await;
            if verdict.status != status {
                return Err(format!(
                    "at {} s: status {} (expected {status}): {verdict:?}",
                    step.at, verdict.status
                ));
            }
        }
    }
    let (verdict, explained) = if explain {
        let now = clock.now();
        let wait = || tokio::time::sleep(KEY_REFETCH_WAIT);
        let explanation = authenticator.explain(&headers, || now, wait).await;
        let verdict = verdict_from_result(&explanation.verdict);
        let failed = explanation
            .steps
            .iter()
            .filter(|step| step.outcome == StepOutcome::Failed && step.name != StepName::Verdict)
            .map(|step| step.name.as_str().to_owned())
            .collect();
        let hints = explanation.hints.iter().map(|hint| hint.name().to_owned()).collect();
        (verdict, Some(Explained { failed, hints }))
    } else {
        let verdict =
            concurrent_verdict(&authenticator, &headers, clock.now(), case.request.concurrent)
                .await?;
        (verdict, None)
    };
    if let (Some(expected), Some(provider)) = (case.expect.fetches, &provider) {
        let key_set = key_sets.first().ok_or("fetches needs a jwk_url secret")?;
        let _ = tokio::time::timeout(Duration::from_secs(10), key_set.wait_for_attempts(expected))
            .await;
        let made = provider.fetches().await;
        if made != expected || !idle(key_set, clock.now()) {
            return Err(format!("{made} JWKS fetches (expected {expected})"));
        }
    }
    if let Some(expected) = &case.expect.ready_reason {
        let key_set = key_sets.first().ok_or("ready_reason needs a key set")?;
        let reason = key_set.status().unavailable_reason();
        if !key_set.current().is_empty() || reason != expand(expected, &tokens, &jwks_url) {
            return Err(format!("ready: {} usable keys, {reason:?}", key_set.current().len()));
        }
    }
    check_jwks_paths(case, provider.as_ref()).await?;
    Ok(Run { verdict, explained })
}

/// What a driver's run of a case observed.
pub(crate) struct Run {
    pub(crate) verdict: Verdict,
    /// For an explained run: the explanation's failed steps and hints (`None` when the driver
    /// cannot explain this request).
    pub(crate) explained: Option<Explained>,
}

/// An explanation as the harness checks it.
pub(crate) struct Explained {
    /// The names of the failed steps, in order (the verdict step left out).
    pub(crate) failed: Vec<String>,
    /// The hints' names.
    pub(crate) hints: Vec<String>,
}

/// The key set paths asked for, when the case names them.
async fn check_jwks_paths(case: &Case, provider: Option<&Provider>) -> Result<(), String> {
    let (Some(expected), Some(provider)) = (&case.expect.jwks_paths, provider) else {
        return Ok(());
    };
    let paths = provider.jwks_paths().await;
    if &paths != expected {
        return Err(format!("key set paths {paths:?} (expected {expected:?})"));
    }
    Ok(())
}

/// Whether the fetcher can start no fetch on its own: none is under way and none is due at
/// `now` on the simulated clock. With the fetches counted, no more are coming until the clock
/// moves or a request asks, so a count needs no waiting to be final.
fn idle(key_set: &JwksHandle, now: SystemTime) -> bool {
    let status = key_set.status();
    let due = matches!(status.next_fetch, Some(NextFetchAt::At(at)) if at <= now);
    status.in_flight.is_none() && !due
}

/// The verdict of `times` requests at once (one when absent): all alike, or an error.
async fn concurrent_verdict(
    authenticator: &Authenticator,
    headers: &HeaderMap,
    now: SystemTime,
    times: Option<usize>,
) -> Result<Verdict, String> {
    let requests = (0..times.unwrap_or(1).max(1)).map(|_| verdict_of(authenticator, headers, now));
    let verdicts = join_all(requests.collect()).await;
    all_alike(verdicts)
}

/// The one verdict every concurrent request got.
fn all_alike(verdicts: Vec<Verdict>) -> Result<Verdict, String> {
    let mut verdicts = verdicts.into_iter();
    let first = verdicts.next().ok_or("no request was sent")?;
    match verdicts.find(|verdict| *verdict != first) {
        None => Ok(first),
        Some(other) => Err(format!("concurrent requests differ: {first:?} and {other:?}")),
    }
}

/// Runs the futures at once on this task, and collects their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).map(Some).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        for (slot, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot
                && let std::task::Poll::Ready(value) = future.as_mut().poll(context)
            {
                *output = Some(value);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

async fn verdict_of(
    authenticator: &Authenticator,
    headers: &HeaderMap,
    now: SystemTime,
) -> Verdict {
    // The server's path: a token naming an unknown `kid` waits for the refetch, at most 2 s (D6).
    let wait = || tokio::time::sleep(KEY_REFETCH_WAIT);
    verdict_from_result(&authenticator.authenticate_waiting(headers, || now, wait).await)
}

fn verdict_from_result(result: &Result<Arc<Authenticated>, AuthError>) -> Verdict {
    match result {
        Ok(answer) => Verdict {
            status: 200,
            session: Some(
                answer.session().variables().map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
            ),
            expires: expires_of(answer.expires()),
            code: None,
            error: None,
        },
        Err(error) => Verdict {
            status: error.status().as_u16(),
            session: None,
            expires: None,
            code: Some(error.code().to_owned()),
            error: Some(error.to_string()),
        },
    }
}

fn header_map(case: &Case, tokens: &[String], jwks_url: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in &case.request.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|error| format!("header {name}: {error}"))?;
        let value = HeaderValue::from_str(&expand(value, tokens, jwks_url))
            .map_err(|error| format!("header value: {error}"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The `jwtgate` binary: `JWTGATE_BIN`, else beside this test's executable in the target dir.
pub(crate) fn jwtgate_binary() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("JWTGATE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let candidate = exe.parent().and_then(|deps| deps.parent()).map(|dir| dir.join("jwtgate"));
    candidate.filter(|path| path.exists()).ok_or_else(|| {
        "no jwtgate binary: run `cargo xtask conformance` or set JWTGATE_BIN".to_owned()
    })
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a case against the real binary over HTTP; token times follow the real clock.
#[expect(clippy::too_many_lines, reason = "one scripted session with the binary, step by step")]
pub(crate) async fn server(case: &Case, explain: bool) -> Result<(Run, u64), String> {
    #[expect(clippy::disallowed_methods, reason = "the server driver follows the real clock")]
    let now =
        SystemTime::now().duration_since(UNIX_EPOCH).map_err(|error| error.to_string())?.as_secs();
    let provider = match &case.jwks {
        Some(spec) => Some(Provider::start(spec, case.discovery.as_ref(), now).await),
        None => None,
    };
    let jwks_url = provider.as_ref().map(Provider::url).unwrap_or_default();
    let tokens = tokens(case, now, &jwks_url);
    let mut command = Command::new(jwtgate_binary()?);
    command.args(["serve", "--port", "0"]);
    for (flag, value) in [
        ("--jwt-secret", &case.config.jwt_secret),
        ("--jwt-secrets", &case.config.jwt_secrets),
        ("--admin-secret", &case.config.admin_secret),
        ("--unauthorized-role", &case.config.unauthorized_role),
    ] {
        if let Some(value) = value {
            command.arg(flag).arg(expand(value, &tokens, &jwks_url));
        }
    }
    if let Some(size) = case.config.token_cache_size {
        command.arg("--token-cache-size").arg(size.to_string());
    }
    if explain {
        command.arg("--explain");
    }
    for variable in jwtgate_test_support::BINARY_VARIABLES {
        command.env_remove(variable);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| error.to_string())?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let running = Running(child);
    let address: SocketAddr = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        line.trim()
            .strip_prefix("jwtgate listening on http://")
            .and_then(|address| address.parse().ok())
    })
    .await
    .map_err(|error| error.to_string())?
    .ok_or("jwtgate did not start")?;

    let method = case.request.method.clone().unwrap_or_else(|| "GET".to_owned());
    let path = case.request.path.clone().unwrap_or_else(|| "/v1/auth".to_owned());
    let headers: Vec<(String, String)> = case
        .request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), expand(value, &tokens, &jwks_url)))
        .collect();
    let body = case.request.body.as_ref().map(|body| expand(body, &tokens, &jwks_url));
    let (verdict, explained) = if explain {
        let admin = case.config.admin_secret.clone();
        let explained = tokio::task::spawn_blocking(move || {
            explain_over_http(address, &method, &headers, body.as_deref(), admin.as_deref())
        })
        .await
        .map_err(|error| error.to_string())??;
        let Some((verdict, explained)) = explained else {
            // Not explainable over HTTP: the verdict is not looked at.
            let verdict =
                Verdict { status: 0, session: None, expires: None, code: None, error: None };
            return Ok((Run { verdict, explained: None }, now));
        };
        (verdict, Some(explained))
    } else {
        (send_all(address, case, &method, &path, &headers, body).await?, None)
    };
    if let (Some(expected), Some(provider)) = (case.expect.fetches, &provider) {
        for _ in 0..100 {
            if provider.fetches().await >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let made = provider.fetches().await;
        if made != expected {
            return Err(format!("{made} JWKS fetches (expected {expected})"));
        }
    }
    if let Some(expected) = &case.expect.ready_reason {
        let ready = tokio::task::spawn_blocking(move || send(address, "GET", "/readyz", &[], None))
            .await
            .map_err(|error| error.to_string())?;
        let reason = serde_json::from_str::<serde_json::Value>(&ready.body)
            .ok()
            .and_then(|body| body.get("reason")?.as_str().map(str::to_owned));
        let expected = expand(expected, &tokens, &jwks_url);
        if ready.status != 503 || reason.as_deref() != Some(expected.as_str()) {
            return Err(format!("/readyz: {} {}", ready.status, ready.body));
        }
    }
    check_jwks_paths(case, provider.as_ref()).await?;
    drop(running);
    Ok((Run { verdict, explained }, now))
}

/// The case's request, sent `concurrent` times at once; the one verdict they all got.
async fn send_all(
    address: SocketAddr,
    case: &Case,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<String>,
) -> Result<Verdict, String> {
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..case.request.concurrent.unwrap_or(1).max(1) {
        let (method, path, headers, body) =
            (method.to_owned(), path.to_owned(), headers.to_vec(), body.clone());
        requests.spawn_blocking(move || {
            let borrowed: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            send(address, &method, &path, &borrowed, body.as_deref().map(str::as_bytes))
        });
    }
    let mut verdicts = Vec::new();
    for response in requests.join_all().await {
        verdicts.push(parse_verdict(&response)?);
    }
    all_alike(verdicts)
}

/// The case's request explained by `POST /v1/explain`: its verdict, failed steps and hints.
/// `None` when the request cannot be put in the body's `headers` object (a header name twice).
fn explain_over_http(
    address: SocketAddr,
    method: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    admin_secret: Option<&str>,
) -> Result<Option<(Verdict, Explained)>, String> {
    let explain_body = if let ("POST", Some(body)) = (method, body) {
        body.to_owned()
    } else {
        let mut object = serde_json::Map::new();
        for (name, value) in headers {
            let previous = object.insert(name.to_ascii_lowercase(), value.clone().into());
            if previous.is_some() {
                return Ok(None);
            }
        }
        serde_json::json!({"headers": object}).to_string()
    };
    let mut sent = vec![("Content-Type", "application/json")];
    if let Some(secret) = admin_secret {
        sent.push(("x-hasura-admin-secret", secret));
    }
    let response = send(address, "POST", "/v1/explain", &sent, Some(explain_body.as_bytes()));
    if response.status != 200 {
        // The body was refused as `POST /v1/auth` refuses it.
        let verdict = parse_verdict(&response)?;
        return Ok(Some((verdict, Explained { failed: Vec::new(), hints: Vec::new() })));
    }
    let explained: serde_json::Value = serde_json::from_str(&response.body)
        .map_err(|error| format!("explain body {:?}: {error}", response.body))?;
    let at = |pointer: &str| explained.pointer(pointer).cloned().unwrap_or_default();
    let status = at("/verdict/status").as_u64().and_then(|status| u16::try_from(status).ok());
    let verdict = verdict_from_body(status.ok_or("no verdict status")?, &at("/verdict/body"))?;
    let steps = at("/steps").as_array().cloned().unwrap_or_default();
    let field = |step: &serde_json::Value, name: &str| {
        step.get(name).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned()
    };
    let failed = steps
        .iter()
        .filter(|step| field(step, "outcome") == "failed" && field(step, "step") != "verdict")
        .map(|step| field(step, "step"))
        .collect();
    let hints = at("/hints")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|hint| {
            let text = hint.as_str()?;
            let known = Hint::ALL.iter().find(|known| known.to_string() == text)?;
            Some(known.name().to_owned())
        })
        .collect();
    Ok(Some((verdict, Explained { failed, hints })))
}

fn parse_verdict(response: &HttpResponse) -> Result<Verdict, String> {
    let body: serde_json::Value = serde_json::from_str(&response.body)
        .map_err(|error| format!("body {:?}: {error}", response.body))?;
    verdict_from_body(response.status, &body)
}

fn verdict_from_body(status: u16, body: &serde_json::Value) -> Result<Verdict, String> {
    let object = body.as_object().ok_or("body is not an object")?;
    if status == 200 {
        let mut session = BTreeMap::new();
        let mut expires = None;
        for (name, value) in object {
            let value = value.as_str().ok_or("a session value is not a string")?.to_owned();
            if name == "Expires" {
                expires = Some(value);
            } else {
                session.insert(name.clone(), value);
            }
        }
        Ok(Verdict { status: 200, session: Some(session), expires, code: None, error: None })
    } else {
        let text =
            |name: &str| object.get(name).and_then(|value| value.as_str()).map(str::to_owned);
        Ok(Verdict {
            status,
            session: None,
            expires: None,
            code: text("code"),
            error: text("error"),
        })
    }
}
