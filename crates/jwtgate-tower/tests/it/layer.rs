//! The layer through `tower::ServiceExt::oneshot` over a service that records what reaches it.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use jwtgate_test_support::corpus::sign_with_header;
use jwtgate_test_support::keys::{TestKey, jwks};
use jwtgate_tower::{AuthError, Authenticated, Caller, Denied, HasuraAuthLayer, OnDenial};
use serde_json::{Value, json};
use tower::{Layer as _, ServiceExt as _};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{HS256_SECRET, claims, hs256};

/// What the inner service saw of one request.
#[derive(Debug, Default, Clone)]
struct Seen {
    authenticated: Option<Arc<Authenticated>>,
    denied: Option<AuthError>,
}

/// Sends one request with these headers through `layer` to a recording service.
async fn send(
    layer: &HasuraAuthLayer,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, Option<Seen>) {
    let seen: Arc<Mutex<Option<Seen>>> = Arc::default();
    let record = Arc::clone(&seen);
    let inner = tower::service_fn(move |request: Request<Full<Bytes>>| {
        let record = Arc::clone(&record);
        async move {
            let extensions = request.extensions();
            let saw = Seen {
                authenticated: extensions.get::<Arc<Authenticated>>().cloned(),
                denied: extensions.get::<Denied>().map(|Denied(error)| error.clone()),
            };
            *record.lock().unwrap() = Some(saw);
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
        }
    });
    let mut request = Request::builder().uri("/graphql");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        layer.layer(inner).oneshot(request.body(Full::default()).unwrap()).await.unwrap();
    let status = response.status();
    let challenge = response.headers().get("www-authenticate").cloned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let mut body: Value = serde_json::from_slice(&body).unwrap();
    if let Some(challenge) = challenge {
        body["www-authenticate"] = json!(challenge.to_str().unwrap());
    }
    let seen = seen.lock().unwrap().clone();
    (status, body, seen)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_valid_token_reaches_the_service_with_its_session() {
    let layer = HasuraAuthLayer::builder().jwt_secret(HS256_SECRET).build().unwrap();
    let token = hs256(&claims(3600));
    let (status, _, seen) =
        send(&layer, &[("authorization", &bearer(&token)), ("x-hasura-role", "editor")]).await;
    assert_eq!(status, StatusCode::OK);
    let authenticated = seen.unwrap().authenticated.unwrap();
    assert_eq!(authenticated.caller(), Caller::Token);
    assert_eq!(authenticated.session().role(), "editor");
    assert_eq!(authenticated.session().get("x-hasura-user-id"), Some("42"));
}

#[tokio::test]
async fn an_expired_token_gets_hasuras_401_and_never_reaches_the_service() {
    let layer = HasuraAuthLayer::builder().jwt_secret(HS256_SECRET).build().unwrap();
    let expired = hs256(&claims(-60));
    let (status, body, seen) = send(&layer, &[("authorization", &bearer(&expired))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "Could not verify JWT: JWTExpired", "path": "$", "code": "invalid-jwt",
               "www-authenticate": "Bearer error=\"invalid_token\""})
    );
    assert!(seen.is_none(), "the service was called");
}

#[tokio::test]
async fn continue_mode_hands_the_service_the_denial() {
    let layer = HasuraAuthLayer::builder()
        .jwt_secret(HS256_SECRET)
        .on_denial(OnDenial::Continue)
        .build()
        .unwrap();
    let expired = hs256(&claims(-60));
    let (status, _, seen) = send(&layer, &[("authorization", &bearer(&expired))]).await;
    assert_eq!(status, StatusCode::OK);
    let seen = seen.unwrap();
    assert!(seen.authenticated.is_none());
    assert_eq!(seen.denied.unwrap().to_string(), "Could not verify JWT: JWTExpired");
    let (_, _, seen) = send(&layer, &[]).await;
    assert_eq!(
        seen.unwrap().denied.unwrap().to_string(),
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"
    );
}

#[tokio::test]
async fn the_admin_secret_and_the_unauthorized_role_behave_as_in_the_server() {
    let layer = HasuraAuthLayer::builder()
        .jwt_secret(HS256_SECRET)
        .admin_secret("s3cret")
        .unauthorized_role("anonymous")
        .build()
        .unwrap();
    let (status, _, seen) =
        send(&layer, &[("x-hasura-admin-secret", "s3cret"), ("x-hasura-role", "auditor")]).await;
    assert_eq!(status, StatusCode::OK);
    let admin = seen.unwrap().authenticated.unwrap();
    assert_eq!((admin.caller(), admin.session().role()), (Caller::AdminSecret, "auditor"));

    let (status, body, seen) = send(&layer, &[("x-hasura-admin-secret", "wrong")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "access-denied");
    assert_eq!(body["error"], "invalid x-hasura-admin-secret/x-hasura-access-key");
    assert_eq!(body["www-authenticate"], "Bearer");
    assert!(seen.is_none());

    let (status, _, seen) = send(&layer, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let anonymous = seen.unwrap().authenticated.unwrap();
    assert_eq!(
        (anonymous.caller(), anonymous.session().role()),
        (Caller::UnauthorizedRole, "anonymous")
    );

    // A presented token is always enforced, the unauthorized role notwithstanding (D1).
    let (status, body, _) = send(&layer, &[("authorization", "Bearer x.y.z")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid-jwt");
}

#[tokio::test]
async fn a_bad_secret_or_no_secret_fails_the_build_with_hasuras_words() {
    let error =
        HasuraAuthLayer::builder().jwt_secret(r#"{"type": "HS256", "key": "short"}"#).build();
    assert_eq!(
        error.unwrap_err().to_string(),
        "jwt_secret.key: Invalid JWK: Key size too small; should be atleast 32 characters"
    );
    let error = HasuraAuthLayer::builder().jwt_secrets(r#"[{"type": "HS256"}]"#).build();
    assert!(error.unwrap_err().to_string().starts_with("jwt_secrets[0]."));
    assert_eq!(HasuraAuthLayer::builder().build().unwrap_err().to_string(), "no JWT secret given");
}

#[test]
fn a_jwk_url_outside_a_tokio_runtime_fails_the_build() {
    let error = HasuraAuthLayer::builder()
        .jwt_secret(r#"{"jwk_url": "https://keys.example/jwks"}"#)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no tokio runtime: a key set fetcher runs as a task of the current tokio runtime"
    );
}

#[tokio::test]
async fn the_first_request_after_a_key_rotation_waits_for_the_refetch_and_succeeds() {
    let (a, b) = (TestKey::load("ec-p256"), TestKey::load("ed25519"));
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(jwks(&[a.jwk_with_kid("a")])))
        .up_to_n_times(1)
        .mount(&provider)
        .await;
    let rotated = jwks(&[a.jwk_with_kid("a"), b.jwk_with_kid("b")]);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(rotated))
        .mount(&provider)
        .await;
    let secret = json!({"jwk_url": format!("{}/jwks", provider.uri())}).to_string();
    let layer = HasuraAuthLayer::builder().jwt_secret(secret).build().unwrap();
    layer.key_sets()[0].wait_for_attempts(1).await;

    let token = sign_with_header(&json!({"alg": "EdDSA", "kid": "b"}), &claims(3600), &b, "EdDSA");
    let (status, body, seen) = send(&layer, &[("authorization", &bearer(&token))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(seen.unwrap().authenticated.unwrap().session().role(), "user");
    assert_eq!(provider.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn reload_swaps_the_configuration_for_every_service_and_keeps_key_sets_alike() {
    let key = TestKey::load("ec-p256");
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(jwks(&[key.jwk_with_kid("k")])))
        .mount(&provider)
        .await;
    let key_set = json!({"jwk_url": format!("{}/jwks", provider.uri()), "issuer": "idp"});
    let hmac = |secret: &str| json!({"type": "HS256", "key": secret, "issuer": "hs"});
    let (old, new) = ("the-old-hs256-secret-of-32-bytes", "the-new-hs256-secret-of-32-bytes");
    let layer = HasuraAuthLayer::builder()
        .jwt_secrets(json!([key_set, hmac(old)]).to_string())
        .build()
        .unwrap();
    layer.key_sets()[0].wait_for_attempts(1).await;
    let made_before = layer.layer(tower::service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    }));
    let token = |secret: &[u8], alg: &str, issuer: &str| {
        let mut claims = claims(3600);
        claims["iss"] = json!(issuer);
        let key = if alg == "HS256" { TestKey::hmac(secret) } else { TestKey::load("ec-p256") };
        sign_with_header(&json!({"alg": alg, "kid": "k"}), &claims, &key, alg)
    };
    let status = |layer: &HasuraAuthLayer, token: String| {
        let layer = layer.clone();
        async move { send(&layer, &[("authorization", &bearer(&token))]).await.0 }
    };
    assert_eq!(status(&layer, token(old.as_bytes(), "HS256", "hs")).await, StatusCode::OK);

    let reloaded = HasuraAuthLayer::builder().jwt_secrets(json!([key_set, hmac(new)]).to_string());
    layer.reload(reloaded).await.unwrap();
    assert_eq!(status(&layer, token(new.as_bytes(), "HS256", "hs")).await, StatusCode::OK);
    assert_eq!(
        status(&layer, token(old.as_bytes(), "HS256", "hs")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status(&layer, token(&[], "ES256", "idp")).await, StatusCode::OK);
    assert_eq!(provider.received_requests().await.unwrap().len(), 1, "the key set was kept");
    // A service made before the reload uses the new configuration too.
    let request = Request::builder()
        .header("authorization", bearer(&token(old.as_bytes(), "HS256", "hs")))
        .body(Full::default())
        .unwrap();
    assert_eq!(made_before.oneshot(request).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // An invalid configuration is refused and changes nothing.
    let invalid = HasuraAuthLayer::builder().jwt_secret(r#"{"type": "HS256", "key": "short"}"#);
    let error = layer.reload(invalid).await.unwrap_err().to_string();
    assert_eq!(
        error,
        "jwt_secret.key: Invalid JWK: Key size too small; should be atleast 32 characters"
    );
    assert_eq!(status(&layer, token(new.as_bytes(), "HS256", "hs")).await, StatusCode::OK);
}
