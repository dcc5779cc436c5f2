//! The server with `jwk_url` secrets served by wiremock: readiness, metrics, verification and
//! redaction.

use jwtgate_test_support::corpus::{TYPICAL_EXP, sign};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Server, runtime};

#[test]
fn jwks_keys_verify_and_readiness_follows_them() {
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    let key = TestKey::load("ec-p256");
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("cache-control", "max-age=300")
                    .set_body_string(jwks(&[key.jwk_with_kid("corpus-key")])),
            )
            .mount(&provider),
    );
    let url = format!("{}/keys?api_key=secret", provider.uri());
    let secret = json!({"jwk_url": url}).to_string();
    let server = Server::start(&["--jwt-secret", &secret], &[]);

    let ready = server.get("/readyz", &[]);
    assert_eq!((ready.status, ready.json()), (200, json!({"status": "ok"})));
    let claims = json!({"sub": "7", "exp": TYPICAL_EXP, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user", "x-hasura-user-id": "7"}});
    let token = sign(&claims, &key, "ES256");
    let response = server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["x-hasura-user-id"], "7");

    let metrics = server.get("/metrics", &[]).body;
    let redacted = format!("{}/keys?<redacted>", provider.uri());
    assert!(
        metrics
            .contains(&format!(r#"jwtgate_jwks_fetches_total{{result="ok",url="{redacted}"}} 1"#)),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(r#"jwtgate_jwks_keys{{url="{redacted}"}} 1"#)), "{metrics}");
    assert!(!metrics.contains("api_key=secret"));
    assert!(!server.stderr().contains("api_key=secret"));
}

#[test]
fn an_unreachable_provider_keeps_serving_and_readyz_says_why() {
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&provider),
    );
    let url = format!("{}/jwks", provider.uri());
    let server = Server::start(&["--jwt-secret", &json!({"jwk_url": url}).to_string()], &[]);
    let ready = server.get("/readyz", &[]);
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.json(),
        json!({"status": "unavailable", "reason": format!("{url}: HTTP status 500")})
    );
    let token = sign(&json!({"sub": "1"}), &TestKey::load("ec-p256"), "ES256");
    let response = server.get("/v1/auth", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(response.json()["error"], "Could not verify JWT: JWSError NoUsableKeys");
    let metrics = server.get("/metrics", &[]).body;
    // Retries may have run meanwhile: at least the start-up failure is counted.
    assert!(
        metrics.contains(&format!(r#"jwtgate_jwks_fetches_total{{result="error",url="{url}"}} "#)),
        "{metrics}"
    );
    assert!(server.stderr().contains("JWKS start-up fetch failed"), "{}", server.stderr());
}

#[test]
fn an_unknown_kid_refetches_the_key_set_once() {
    let runtime = runtime();
    let provider = runtime.block_on(MockServer::start());
    let old = TestKey::load("ec-p256");
    let new = TestKey::load("ed25519");
    let before = jwks(&[old.jwk_with_kid("old")]);
    let after = jwks(&[old.jwk_with_kid("old"), new.jwk_with_kid("corpus-key")]);
    runtime.block_on(async {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(before))
            .up_to_n_times(1)
            .mount(&provider)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(after))
            .mount(&provider)
            .await;
    });
    let secret = json!({"jwk_url": format!("{}/jwks", provider.uri())}).to_string();
    let server = Server::start(&["--jwt-secret", &secret], &[]);
    let claims = json!({"sub": "1", "exp": TYPICAL_EXP, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user"}});
    let token = sign(&claims, &new, "EdDSA");
    let authorization = format!("Bearer {token}");
    // The first request is verified against the current set (no wait) and starts the refetch.
    let first = server.get("/v1/auth", &[("Authorization", &authorization)]);
    assert_eq!(first.json()["error"], "Could not verify JWT: JWSError JWSInvalidSignature");
    let mut verified = false;
    for _ in 0..100 {
        if server.get("/v1/auth", &[("Authorization", &authorization)]).status == 200 {
            verified = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(verified, "the rotated key never arrived");
    let fetches = runtime.block_on(provider.received_requests()).unwrap().len();
    assert_eq!(fetches, 2, "one start-up fetch and one kid-triggered refetch");
}
