//! The real HTTP fetcher against wiremock: every cache header of D2 and every failure, each
//! asserting how many requests reached the server and which keys verify afterwards. Sockets run
//! in real time with short timeouts; the schedule runs on a manual clock.

use std::time::Duration;

use jwtgate_config::JwkUrl;
use jwtgate_jwks::{
    FetchError, FetchSettings, HttpFetcher, JwksHandle, JwksOptions, KeySet as _, ManualClock,
    NextFetchAt, Refetch, TransportError,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Keys, at, attempts, clock};

fn settings() -> FetchSettings {
    let mut settings = FetchSettings::default();
    settings.connect_timeout = Duration::from_secs(1);
    settings.timeout = Duration::from_secs(1);
    settings
}

fn spawn(server: &MockServer, clock: &ManualClock) -> JwksHandle {
    spawn_at(server, "/jwks", clock)
}

fn spawn_at(server: &MockServer, route: &str, clock: &ManualClock) -> JwksHandle {
    let url = JwkUrl::parse(&format!("{}{route}", server.uri())).unwrap();
    let fetcher = HttpFetcher::new(&url, settings()).unwrap();
    let mut options = JwksOptions::default();
    options.fetch = settings();
    JwksHandle::spawn_with(url, fetcher, clock.clone(), &options).unwrap()
}

fn keys_response(headers: &[(&str, &str)], body: &str) -> ResponseTemplate {
    headers
        .iter()
        .fold(ResponseTemplate::new(200), |template, (name, value)| {
            template.insert_header(*name, *value)
        })
        .set_body_string(body)
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// A name, the response headers, and the delay they schedule in seconds (None: never).
type HeaderCase<'a> = (&'static str, Vec<(&'static str, &'a str)>, Option<u64>);
/// A name, the failing response, and the error it must give.
type FailureCase = (&'static str, ResponseTemplate, fn(&FetchError) -> bool);

/// Each cache header: the delay it schedules (None: never), then the refetch it causes.
#[tokio::test]
async fn every_cache_header_schedules_the_next_fetch() {
    let keys = Keys::load();
    let expires_future = httpdate::fmt_http_date(at(300));
    let expires_past = httpdate::fmt_http_date(at(0) - Duration::from_hours(1));
    let cases: Vec<HeaderCase<'_>> = vec![
        ("max-age", vec![("cache-control", "max-age=10")], Some(10)),
        ("s-maxage", vec![("cache-control", "public, s-maxage=20")], Some(20)),
        ("no-cache", vec![("cache-control", "no-cache")], Some(60)),
        ("no-store", vec![("cache-control", "no-store")], Some(60)),
        (
            "must-revalidate with max-age",
            vec![("cache-control", "must-revalidate, max-age=30")],
            Some(30),
        ),
        ("must-revalidate alone", vec![("cache-control", "must-revalidate")], Some(60)),
        ("Expires in the future", vec![("expires", expires_future.as_str())], Some(300)),
        ("Expires in the past", vec![("expires", expires_past.as_str())], Some(60)),
        ("Expires malformed", vec![("expires", "next tuesday")], None),
        (
            "Cache-Control with Expires",
            vec![("cache-control", "max-age=45"), ("expires", expires_future.as_str())],
            Some(45),
        ),
        ("no headers", vec![], None),
        ("a delay under one second", vec![("cache-control", "max-age=0")], Some(60)),
    ];
    for (name, headers, delay) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(keys_response(&headers, &keys.set_a()))
            .mount(&server)
            .await;
        let clock = clock();
        let handle = spawn(&server, &clock);
        attempts(&handle, 1).await;
        assert_eq!(requests(&server).await, 1, "{name}");
        assert_eq!(keys.verifying(&handle), "A", "{name}");
        if let Some(seconds) = delay {
            assert_eq!(clock.next_wake(), Some(at(seconds)), "{name}");
            clock.advance(Duration::from_secs(seconds - 1));
            // The fetcher's sleep is still pending on the clock: nothing woke it.
            assert_eq!(clock.next_wake(), Some(at(seconds)), "{name}: not before {seconds} s");
            assert_eq!(handle.status().in_flight, None, "{name}");
            assert_eq!(requests(&server).await, 1, "{name}: not before {seconds} s");
            clock.advance(Duration::from_secs(1));
            attempts(&handle, 2).await;
            assert_eq!(requests(&server).await, 2, "{name}: refetched at {seconds} s");
        } else {
            assert_eq!(handle.status().next_fetch, Some(NextFetchAt::Never), "{name}");
            clock.advance(Duration::from_hours(30 * 24));
            // No sleep on the clock: only an unknown `kid` could wake the fetcher.
            assert_eq!(clock.next_wake(), None, "{name}");
            assert_eq!(handle.status().in_flight, None, "{name}");
            assert_eq!(requests(&server).await, 1, "{name}: never refetched");
        }
        assert_eq!(keys.verifying(&handle), "A", "{name}");
    }
}

/// Each failure after a good fetch: the keys stay, the retry comes after one second.
#[tokio::test]
async fn failures_keep_the_last_good_keys() {
    let keys = Keys::load();
    let too_large = format!(r#"{{"keys": [], "padding": "{}"}}"#, "x".repeat(1024 * 1024));
    let cases: Vec<FailureCase> = vec![
        (
            "500",
            ResponseTemplate::new(500),
            |e| matches!(e, FetchError::Status(s) if s.as_u16() == 500),
        ),
        (
            "404",
            ResponseTemplate::new(404),
            |e| matches!(e, FetchError::Status(s) if s.as_u16() == 404),
        ),
        (
            "slow response past the timeout",
            keys_response(&[], &Keys::load().set_b()).set_delay(Duration::from_secs(3)),
            |e| matches!(e, FetchError::Transport(TransportError::Timeout(_))),
        ),
        ("junk JSON", keys_response(&[], "{\"keys\": [oops"), |e| matches!(e, FetchError::Body(_))),
        ("empty key set", keys_response(&[], r#"{"keys": []}"#), |e| {
            matches!(e, FetchError::NoUsableKeys { skipped: 0 })
        }),
        ("body over the limit", keys_response(&[], &too_large), |e| {
            matches!(e, FetchError::Transport(TransportError::TooLarge(1_048_576)))
        }),
    ];
    for (name, failure, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(keys_response(&[("cache-control", "max-age=10")], &keys.set_a()))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET")).respond_with(failure).mount(&server).await;
        let clock = clock();
        let handle = spawn(&server, &clock);
        attempts(&handle, 1).await;
        clock.advance(Duration::from_secs(10));
        attempts(&handle, 2).await;
        assert_eq!(requests(&server).await, 2, "{name}");
        let status = handle.status();
        let outcome = status.last_attempt.unwrap().outcome;
        assert!(outcome.as_ref().is_err_and(expected), "{name}: {outcome:?}");
        assert_eq!(keys.verifying(&handle), "A", "{name}: the last good set is kept");
        assert_eq!(clock.next_wake(), Some(at(11)), "{name}: retry after one second");
        clock.advance(Duration::from_secs(1));
        attempts(&handle, 3).await;
        assert_eq!(requests(&server).await, 3, "{name}: retried");
        assert_eq!(clock.next_wake(), Some(at(13)), "{name}: then after two");
        assert_eq!(keys.verifying(&handle), "A", "{name}");
    }
}

#[tokio::test]
async fn a_failing_startup_fetch_serves_nothing_until_a_retry_succeeds() {
    let keys = Keys::load();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(keys_response(&[], &keys.set_a())).mount(&server).await;
    let clock = clock();
    let handle = spawn(&server, &clock);
    attempts(&handle, 1).await;
    assert_eq!(keys.verifying(&handle), "");
    assert_eq!(
        handle.status().last_attempt.unwrap().outcome.unwrap_err().to_string(),
        "HTTP status 503"
    );
    clock.advance(Duration::from_secs(1));
    attempts(&handle, 2).await;
    assert_eq!((requests(&server).await, keys.verifying(&handle).as_str()), (2, "A"));
}

#[tokio::test]
async fn a_key_rotation_from_a_to_b() {
    let keys = Keys::load();
    let server = MockServer::start().await;
    let max_age = [("cache-control", "max-age=60")];
    Mock::given(method("GET"))
        .respond_with(keys_response(&max_age, &keys.set_a()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(keys_response(&max_age, &keys.set_ab()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(keys_response(&max_age, &keys.set_b()))
        .mount(&server)
        .await;
    let clock = clock();
    let handle = spawn(&server, &clock);
    for (fetch, verifying) in [(1, "A"), (2, "AB"), (3, "B")] {
        if fetch > 1 {
            clock.advance(Duration::from_mins(1));
        }
        attempts(&handle, fetch).await;
        assert_eq!(requests(&server).await, usize::try_from(fetch).unwrap());
        assert_eq!(keys.verifying(&handle), verifying, "after fetch {fetch}");
    }
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_new_key_once() {
    let keys = Keys::load();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(keys_response(&[], &keys.set_a()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(keys_response(&[], &keys.set_ab()))
        .mount(&server)
        .await;
    let clock = clock();
    let handle = spawn(&server, &clock);
    attempts(&handle, 1).await;
    assert!(!handle.current().contains_kid("b"));
    let refetch = handle.request_refetch("b", at(0));
    assert!(refetch.is_pending());
    // Every other request of the moment joins the same refetch.
    let joined: Vec<Refetch> = (0..1000).map(|_| handle.request_refetch("b", at(0))).collect();
    refetch.await;
    assert!(handle.current().contains_kid("b"), "awaiting the refetch brings the new key");
    for refetch in joined {
        refetch.await;
    }
    assert_eq!((requests(&server).await, keys.verifying(&handle).as_str()), (2, "AB"));
    let again = (0..1000).filter(|_| handle.request_refetch("c", at(10)).is_pending()).count();
    // Within the window no refetch started: none is under way.
    assert_eq!(handle.status().in_flight, None);
    assert_eq!((again, requests(&server).await), (0, 2));
}

#[tokio::test]
async fn redirects_are_followed_up_to_five() {
    let keys = Keys::load();
    let server = MockServer::start().await;
    for hop in 0..5 {
        Mock::given(path(format!("/hop{hop}")))
            .respond_with(
                ResponseTemplate::new(302).insert_header("location", format!("/hop{}", hop + 1)),
            )
            .mount(&server)
            .await;
    }
    Mock::given(path("/hop5")).respond_with(keys_response(&[], &keys.set_a())).mount(&server).await;
    Mock::given(path("/loop"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/loop"))
        .mount(&server)
        .await;

    let clock = clock();
    let five = spawn_at(&server, "/hop0", &clock);
    attempts(&five, 1).await;
    assert_eq!(keys.verifying(&five), "A");
    let endless = spawn_at(&server, "/loop", &clock);
    attempts(&endless, 1).await;
    assert_eq!(
        endless.status().last_attempt.unwrap().outcome,
        Err(FetchError::Transport(TransportError::TooManyRedirects(5)))
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // A port that was free a moment ago (a dropped wiremock server would go back to its pool
    // and keep listening).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = JwkUrl::parse(&format!("http://127.0.0.1:{port}/jwks")).unwrap();
    let handle = JwksHandle::spawn_with(
        url.clone(),
        HttpFetcher::new(&url, settings()).unwrap(),
        clock(),
        &JwksOptions::default(),
    )
    .unwrap();
    attempts(&handle, 1).await;
    let outcome = handle.status().last_attempt.unwrap().outcome;
    assert!(
        matches!(outcome, Err(FetchError::Transport(TransportError::Request(_)))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn jwk_headers_go_with_every_fetch_to_the_key_sets_origin_only() {
    let keys = Keys::load();
    let server = MockServer::start().await;
    Mock::given(path("/jwks"))
        .and(wiremock::matchers::header("x-api-key", "k-3f9a1c"))
        .respond_with(keys_response(&[], &keys.set_a()))
        .mount(&server)
        .await;
    Mock::given(path("/jwks")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let url = JwkUrl::parse(&format!("{}/jwks", server.uri())).unwrap();
    let with = [("x-api-key".to_owned(), jwtgate_config::SecretString::new("k-3f9a1c"))];
    let fetcher = HttpFetcher::new(&url, settings()).unwrap().with_headers(&with);
    let handle = JwksHandle::spawn_with(url.clone(), fetcher, clock(), &JwksOptions::default());
    let handle = handle.unwrap();
    attempts(&handle, 1).await;
    assert_eq!(keys.verifying(&handle), "A", "the provider answered the request with the header");
    assert!(
        !format!("{:?}", HttpFetcher::new(&url, settings()).unwrap().with_headers(&with))
            .contains("k-3f9a1c")
    );

    // Without the header the provider refuses: the set stays empty.
    let bare = JwksHandle::spawn_with(
        url.clone(),
        HttpFetcher::new(&url, settings()).unwrap(),
        clock(),
        &JwksOptions::default(),
    )
    .unwrap();
    attempts(&bare, 1).await;
    assert_eq!(bare.current().len(), 0);

    // A redirect to another origin gets neither the header nor the keys.
    let elsewhere = MockServer::start().await;
    Mock::given(path("/jwks"))
        .and(wiremock::matchers::header_exists("x-api-key"))
        .respond_with(keys_response(&[], &keys.set_a()))
        .mount(&elsewhere)
        .await;
    Mock::given(path("/moved"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/jwks", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    let moved = JwkUrl::parse(&format!("{}/moved", server.uri())).unwrap();
    let fetcher = HttpFetcher::new(&moved, settings()).unwrap().with_headers(&with);
    let redirected =
        JwksHandle::spawn_with(moved, fetcher, clock(), &JwksOptions::default()).unwrap();
    attempts(&redirected, 1).await;
    assert_eq!(redirected.current().len(), 0, "the other origin never saw the header");
}

#[tokio::test]
async fn discovery_fetches_carry_jwk_headers_and_each_urls_basic_credentials() {
    let keys = Keys::load();
    let idp = MockServer::start().await;
    let key_host = MockServer::start().await;
    let issuer = format!("{}/realms/acme", idp.uri());
    // The key set lives on another host, behind credentials the document's jwks_uri carries.
    let jwks_uri = key_host.uri().replace("http://", "http://keys:s%3Acret@") + "/certs";
    Mock::given(path("/realms/acme/.well-known/openid-configuration"))
        .and(wiremock::matchers::header("x-api-key", "k-3f9a1c"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri}).to_string(),
        ))
        .mount(&idp)
        .await;
    // base64("keys:s:cret")
    Mock::given(path("/certs"))
        .and(wiremock::matchers::header("x-api-key", "k-3f9a1c"))
        .and(wiremock::matchers::header("authorization", "Basic a2V5czpzOmNyZXQ="))
        .respond_with(keys_response(&[("cache-control", "max-age=60")], &keys.set_a()))
        .mount(&key_host)
        .await;
    let discovery = jwtgate_config::IssuerDiscovery::new(&issuer).unwrap();
    let with = [("x-api-key".to_owned(), jwtgate_config::SecretString::new("k-3f9a1c"))];
    let document =
        HttpFetcher::new(discovery.document_url(), settings()).unwrap().with_headers(&with);
    let handle = JwksHandle::spawn_discovery_with(
        discovery.clone(),
        document,
        clock(),
        &JwksOptions::default(),
    )
    .unwrap();
    attempts(&handle, 1).await;
    assert_eq!(keys.verifying(&handle), "A");
    let status = handle.status();
    assert_eq!(status.url, format!("{issuer}/.well-known/openid-configuration"));
    assert_eq!(
        status.next_fetch,
        Some(NextFetchAt::At(at(60))),
        "the set's max-age, the document has none"
    );
    assert_eq!(requests(&idp).await + requests(&key_host).await, 2);
}

#[tokio::test]
async fn a_discovery_document_of_another_issuer_is_not_followed() {
    let key_host = MockServer::start().await;
    Mock::given(path("/certs")).respond_with(ResponseTemplate::new(200)).mount(&key_host).await;
    let impostor = MockServer::start().await;
    let jwks_uri = format!("{}/certs", key_host.uri());
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(
                serde_json::json!({"issuer": "https://idp.example.com", "jwks_uri": jwks_uri})
                    .to_string(),
            ),
        )
        .mount(&impostor)
        .await;
    let discovery = jwtgate_config::IssuerDiscovery::new(&impostor.uri()).unwrap();
    let document = HttpFetcher::new(discovery.document_url(), settings()).unwrap();
    let refused =
        JwksHandle::spawn_discovery_with(discovery, document, clock(), &JwksOptions::default())
            .unwrap();
    attempts(&refused, 1).await;
    assert_eq!(refused.current().len(), 0);
    assert_eq!(
        refused.status().unavailable_reason(),
        format!(
            "{0}/.well-known/openid-configuration: discovery document issuer \"https://idp.example.com\" differs from \"{0}\"",
            impostor.uri()
        )
    );
    assert_eq!(requests(&key_host).await, 0, "the key set was never asked for");
}
