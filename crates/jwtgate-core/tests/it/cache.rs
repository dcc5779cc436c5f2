//! The verified-token cache: hits, keys, expiry and key set changes.

use std::time::Duration;

use jwtgate_core::KeySet as _;
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::json;

use crate::support::{
    NOW, Setup, bearer, claims, error_of, hs256, mint_with_header, now, session_of,
};

#[tokio::test]
async fn a_repeated_token_is_answered_from_the_cache() {
    let authenticator = Setup { cache_size: 100, ..Setup::hs256() }.build().await;
    let request = bearer(&hs256(&claims()));
    let first = authenticator.authenticate_now(&request, now()).unwrap();
    let second = authenticator.authenticate_now(&request, now()).unwrap();
    assert_eq!(first, second);
    let stats = authenticator.cache_stats();
    assert_eq!((stats.hits, stats.misses), (1, 1));
}

#[tokio::test]
async fn size_zero_turns_the_cache_off() {
    let authenticator = Setup { cache_size: 0, ..Setup::hs256() }.build().await;
    let request = bearer(&hs256(&claims()));
    for _ in 0..3 {
        session_of(authenticator.authenticate_now(&request, now()));
    }
    let stats = authenticator.cache_stats();
    assert_eq!((stats.hits, stats.misses), (0, 0));
}

#[tokio::test]
async fn a_cached_answer_is_never_served_after_exp() {
    let authenticator = Setup { cache_size: 100, ..Setup::hs256() }.build().await;
    let mut claims = claims();
    claims["exp"] = json!(NOW + 10);
    let request = bearer(&hs256(&claims));
    session_of(authenticator.authenticate_now(&request, now()));
    session_of(authenticator.authenticate_now(&request, now() + Duration::from_millis(9_999)));
    assert_eq!(authenticator.cache_stats().hits, 1);
    let (_, message, _) =
        error_of(authenticator.authenticate_now(&request, now() + Duration::from_secs(10)));
    assert_eq!(message, "Could not verify JWT: JWTExpired");
}

#[tokio::test]
async fn the_role_header_is_part_of_the_key() {
    let authenticator = Setup { cache_size: 100, ..Setup::hs256() }.build().await;
    let token = hs256(&claims());
    let with_role = |role: &str| {
        let mut request = bearer(&token);
        request.insert("x-hasura-role", role.parse().unwrap());
        request
    };
    let role_of = |request| {
        authenticator.authenticate_now(&request, now()).unwrap().session().role().to_owned()
    };
    assert_eq!(role_of(bearer(&token)), "user");
    assert_eq!(role_of(with_role("editor")), "editor");
    assert_eq!(role_of(with_role("editor")), "editor");
    assert_eq!(
        error_of(authenticator.authenticate_now(&with_role("admin"), now())).1,
        "Your requested role is not in allowed roles"
    );
    assert_eq!(authenticator.cache_stats().hits, 1);
}

#[tokio::test]
async fn a_key_set_change_drops_cached_answers() {
    let a = TestKey::load("ec-p256");
    let b = TestKey::load("ed25519");
    let (authenticator, key_sets) = Setup {
        cache_size: 100,
        jwks: Some(jwks(&[a.jwk_with_kid("a"), b.jwk_with_kid("b")])),
        ..Setup::secret(json!({"jwk_url": "https://keys.example/jwks"}))
    }
    .build_with_key_sets()
    .await;
    let token =
        mint_with_header(&json!({"alg": "ES256", "kid": "a"}), &claims().to_string(), &a, "ES256");
    session_of(authenticator.authenticate_now(&bearer(&token), now()));
    session_of(authenticator.authenticate_now(&bearer(&token), now()));
    assert_eq!(authenticator.cache_stats().hits, 1);
    // A refetch (the fixed set again) replaces the set: the cached answer no longer counts.
    let key_set = &key_sets[0];
    key_set.request_refetch("c", now()).await;
    assert_eq!(key_set.status().fetches_ok, 2);
    session_of(authenticator.authenticate_now(&bearer(&token), now()));
    assert_eq!(authenticator.cache_stats().hits, 1, "verified again after the key set changed");
    session_of(authenticator.authenticate_now(&bearer(&token), now()));
    assert_eq!(authenticator.cache_stats().hits, 2);
}

#[tokio::test]
async fn failures_are_not_cached() {
    let authenticator = Setup { cache_size: 100, ..Setup::hs256() }.build().await;
    let mut claims = claims();
    claims["nbf"] = json!(NOW + 5);
    let request = bearer(&hs256(&claims));
    assert_eq!(
        error_of(authenticator.authenticate_now(&request, now())).1,
        "Could not verify JWT: JWTNotYetValid"
    );
    session_of(authenticator.authenticate_now(&request, now() + Duration::from_secs(5)));
}

#[tokio::test]
async fn a_rendering_is_made_once_per_cached_answer() {
    let authenticator = Setup { cache_size: 100, ..Setup::hs256() }.build().await;
    let request = bearer(&hs256(&claims()));
    let renders = std::cell::Cell::new(0);
    for _ in 0..3 {
        let answer = authenticator.authenticate_now(&request, now()).unwrap();
        let body = answer.rendered(|answer| {
            renders.set(renders.get() + 1);
            answer.session().role().to_owned()
        });
        assert_eq!(body.map(String::as_str), Some("user"));
        assert_eq!(answer.rendered(|_| 7_u8), None, "another type is not the stored rendering");
    }
    assert_eq!(renders.get(), 1);
}
