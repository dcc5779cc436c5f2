//! Key sets through the `KeySet` trait: a token signed by a rotated key may wait for the
//! refetch its `kid` starts (`Outcome::AwaitKeys`), a request that may not wait never does,
//! and a set that never changes never asks anyone to wait (D6).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use jwtgate_config::{JwkUrl, parse_jwt_secret};
use jwtgate_core::{
    AuthError, Authenticated, Authenticator, AuthenticatorConfig, FixedKeySet, JwkSet, JwtError,
    KeySet, Outcome,
};
use jwtgate_jwks::{JwksHandle, JwksOptions, ManualClock};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;

use crate::support::{Script, bearer, claims, mint_with_header, now, session_of};

fn authenticator(key_set: &Arc<dyn KeySet>) -> Authenticator {
    let secret = parse_jwt_secret(r#"{"jwk_url": "https://keys.example/jwks"}"#).unwrap();
    // The default configuration, verified-token cache included: an answer to wait is never cached.
    Authenticator::new(AuthenticatorConfig::new(vec![secret]), |_| Some(Arc::clone(key_set)))
}

/// A fetcher serving through `fetcher` on a manual clock, once its first fetch is in, and an
/// authenticator over its set.
async fn fetching(fetcher: impl jwtgate_jwks::Fetch) -> (JwksHandle, Authenticator) {
    let handle = JwksHandle::spawn_with(
        JwkUrl::parse("https://keys.example/jwks").unwrap(),
        fetcher,
        ManualClock::new(now()),
        &JwksOptions::default(),
    )
    .unwrap();
    handle.wait_for_attempts(1).await;
    let authenticator = authenticator(&(Arc::new(handle.clone()) as Arc<dyn KeySet>));
    (handle, authenticator)
}

fn token(key: &TestKey, alg: &str, kid: &str) -> HeaderMap {
    bearer(&mint_with_header(&json!({"alg": alg, "kid": kid}), &claims().to_string(), key, alg))
}

fn verdict(outcome: Outcome) -> Result<Arc<Authenticated>, AuthError> {
    match outcome {
        Outcome::Done(verdict) => verdict,
        Outcome::AwaitKeys(refetch) => panic!("asked to wait for {refetch:?}"),
    }
}

#[tokio::test]
async fn a_token_signed_by_a_rotated_key_waits_for_the_refetch_its_kid_starts() {
    let (a, b, stranger) =
        (TestKey::load("ec-p256"), TestKey::load("ed25519"), TestKey::load("rsa-2048"));
    let before = jwks(&[a.jwk_with_kid("a")]);
    let after = jwks(&[a.jwk_with_kid("a"), b.jwk_with_kid("b")]);
    let (handle, authenticator) = fetching(Script::new([before, after])).await;
    let rotated = token(&b, "EdDSA", "b");

    let Outcome::AwaitKeys(refetch) = authenticator.authenticate(&rotated, now()) else {
        panic!("a kid the set lacks, with a refetch under way, asks to wait");
    };
    assert!(refetch.is_pending());
    refetch.await;
    assert_eq!(handle.status().fetches_ok, 2);
    session_of(authenticator.authenticate_now(&rotated, now()));
    session_of(verdict(authenticator.authenticate(&rotated, now())));

    // Within 30 s of that refetch no other starts, so nobody is asked to wait.
    let unknown = token(&stranger, "RS256", "c");
    let later = now() + Duration::from_secs(10);
    assert_eq!(
        verdict(authenticator.authenticate(&unknown, later)).unwrap_err(),
        AuthError::Jwt(JwtError::InvalidSignature)
    );
    // A request that may not wait is answered from the set held, the refetch runs behind it.
    let after_the_window = now() + Duration::from_secs(31);
    assert_eq!(
        authenticator.authenticate_now(&unknown, after_the_window).unwrap_err(),
        AuthError::Jwt(JwtError::InvalidSignature)
    );
    handle.wait_for_attempts(3).await;
    assert_eq!(handle.status().fetches_ok, 3);
}

#[tokio::test]
async fn a_token_the_held_set_verifies_never_waits() {
    let b = TestKey::load("ed25519");
    // `b` without a kid: a token naming an unknown kid is tried against the keys fitting its
    // alg (D19), verifies, and is answered at once while the refetch runs.
    let mut jwk = b.jwk_with_kid("b");
    jwk.as_object_mut().unwrap().remove("kid");
    let (handle, authenticator) = fetching(Script::new([jwks(&[jwk])])).await;
    session_of(verdict(authenticator.authenticate(&token(&b, "EdDSA", "new"), now())));
    handle.wait_for_attempts(2).await;
}

#[test]
fn a_fixed_key_set_never_asks_to_wait() {
    let (a, b) = (TestKey::load("ec-p256"), TestKey::load("ed25519"));
    let set = JwkSet::parse(jwks(&[a.jwk_with_kid("a")]).as_bytes()).unwrap();
    let authenticator = authenticator(&(Arc::new(FixedKeySet::new(set)) as Arc<dyn KeySet>));
    session_of(verdict(authenticator.authenticate(&token(&a, "ES256", "a"), now())));
    assert_eq!(
        verdict(authenticator.authenticate(&token(&b, "EdDSA", "b"), now())).unwrap_err(),
        AuthError::Jwt(JwtError::InvalidSignature)
    );
}

/// Serves `first` once; every later fetch never answers (a provider gone quiet).
struct QuietAfterFirst {
    first: String,
    served: std::sync::atomic::AtomicBool,
}

impl jwtgate_jwks::Fetch for QuietAfterFirst {
    async fn fetch(&self) -> Result<jwtgate_jwks::FetchedResponse, jwtgate_jwks::TransportError> {
        if self.served.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let body = bytes::Bytes::from(self.first.clone());
        Ok(jwtgate_jwks::FetchedResponse::new(http::StatusCode::OK, HeaderMap::new(), body))
    }
}

#[tokio::test]
async fn waiting_ends_with_the_timer_when_the_refetch_does_not_answer() {
    let (a, b) = (TestKey::load("ec-p256"), TestKey::load("ed25519"));
    let fetcher = QuietAfterFirst {
        first: jwks(&[a.jwk_with_kid("a")]),
        served: std::sync::atomic::AtomicBool::new(false),
    };
    let (_fetcher, authenticator) = fetching(fetcher).await;
    // The timer has already run out: the request is answered from the set held.
    let rotated = token(&b, "EdDSA", "b");
    let verdict =
        authenticator.authenticate_waiting(&rotated, now, || std::future::ready(())).await;
    assert_eq!(verdict.unwrap_err(), AuthError::Jwt(JwtError::InvalidSignature));
    // The set is still usable for the keys it has, and nothing waits for them.
    let known = token(&a, "ES256", "a");
    session_of(authenticator.authenticate_waiting(&known, now, std::future::pending::<()>).await);
}

#[tokio::test]
async fn waiting_returns_with_the_refetch_when_it_answers_first() {
    let (a, b) = (TestKey::load("ec-p256"), TestKey::load("ed25519"));
    let (_fetcher, authenticator) = fetching(Script::new([
        jwks(&[a.jwk_with_kid("a")]),
        jwks(&[a.jwk_with_kid("a"), b.jwk_with_kid("b")]),
    ]))
    .await;
    // A timer that never ends: only the refetch can end the wait.
    let rotated = token(&b, "EdDSA", "b");
    session_of(authenticator.authenticate_waiting(&rotated, now, std::future::pending::<()>).await);
}
