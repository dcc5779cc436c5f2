//! Known attacks on JWT verifiers, each rejected.

use jwtgate_test_support::keys::TestKey;
use serde_json::json;

use crate::support::{
    HS_SECRET, Setup, b64, bearer, claims, error_of, fixture_text, headers, hs256, mint,
    mint_with_header, now, session_of,
};

#[tokio::test]
async fn alg_none_in_any_spelling() {
    let authenticator = Setup::hs256().build().await;
    let payload = b64(claims().to_string().as_bytes());
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    assert_eq!(
        error_of(authenticator.authenticate_now(&bearer(&none), now())).1,
        "Could not verify JWT: JWSError JWSNoSignatures"
    );
    // A signature copied from a real token does not help.
    let real_signature = hs256(&claims()).rsplit('.').next().unwrap().to_owned();
    let none_signed = format!("{}.{payload}.{real_signature}", b64(br#"{"alg":"none"}"#));
    assert_eq!(
        error_of(authenticator.authenticate_now(&bearer(&none_signed), now())).1,
        "Could not verify JWT: JWSError JWSNoSignatures"
    );
    for spelling in ["None", "NONE", "nOnE"] {
        let token = format!("{}.{payload}.", b64(format!(r#"{{"alg":"{spelling}"}}"#).as_bytes()));
        let (code, message, _) = error_of(authenticator.authenticate_now(&bearer(&token), now()));
        assert_eq!(code, "invalid-jwt");
        assert!(
            message.starts_with("Could not verify JWT: JWSError (JSONDecodeError "),
            "{spelling}: {message}"
        );
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_not_an_rsa_signature() {
    let pem = fixture_text("rsa-2048.pub.pem");
    let authenticator = Setup::secret(json!({"type": "RS256", "key": pem})).build().await;
    for secret in [pem.as_bytes(), pem.trim().as_bytes()] {
        let token = mint(&claims(), &TestKey::hmac(secret), "HS256");
        assert_eq!(
            error_of(authenticator.authenticate_now(&bearer(&token), now())).1,
            "Could not verify JWT: JWSError JWSInvalidSignature"
        );
    }
}

#[tokio::test]
async fn claims_re_signed_with_another_key_are_rejected() {
    let authenticator = Setup::hs256().build().await;
    let mut claims = claims();
    claims["https://hasura.io/jwt/claims"]["x-hasura-allowed-roles"] = json!(["admin"]);
    claims["https://hasura.io/jwt/claims"]["x-hasura-default-role"] = json!("admin");
    for key in [TestKey::hmac(b"attacker-chosen-secret-32-bytes!"), TestKey::load("ec-p256")] {
        let alg = if matches!(key, TestKey::Hmac(_)) { "HS256" } else { "ES256" };
        let token = mint(&claims, &key, alg);
        assert_eq!(
            error_of(authenticator.authenticate_now(&bearer(&token), now())).1,
            "Could not verify JWT: JWSError JWSInvalidSignature"
        );
    }
}

#[tokio::test]
async fn padded_base64_is_rejected() {
    let authenticator = Setup::hs256().build().await;
    // A payload whose base64url needs padding, sent padded and signed over the padded text.
    let header = json!({"alg": "HS256"});
    let mut claims = claims();
    claims["pad"] = json!("x");
    let mut padded_payload = b64(claims.to_string().as_bytes());
    while !padded_payload.len().is_multiple_of(4) {
        padded_payload.push('=');
    }
    assert!(padded_payload.ends_with('='), "the payload needs padding for this test");
    let input = format!("{}.{padded_payload}", b64(header.to_string().as_bytes()));
    let signature = TestKey::hmac(HS_SECRET.as_bytes()).sign("HS256", input.as_bytes());
    let token = format!("{input}.{}", b64(&signature));
    let (code, message, _) = error_of(authenticator.authenticate_now(&bearer(&token), now()));
    assert_eq!(code, "invalid-jwt");
    assert!(message.starts_with("Could not verify JWT: JWSError (JSONDecodeError "), "{message}");
}

#[tokio::test]
async fn a_megabyte_token_is_refused_before_decoding() {
    let authenticator = Setup::hs256().build().await;
    let huge = format!("{}.{}.{}", "e".repeat(400_000), "e".repeat(400_000), "e".repeat(248_576));
    for request in [bearer(&huge), headers(&[("authorization", &format!("Bearer {huge}"))])] {
        assert_eq!(
            error_of(authenticator.authenticate_now(&request, now())).1,
            "Could not verify JWT: token larger than 65536 bytes"
        );
    }
    // Exactly 65536 bytes is decoded (and fails as an ordinary bad token).
    let limit = "e".repeat(65536);
    assert!(
        error_of(authenticator.authenticate_now(&bearer(&limit), now()))
            .1
            .contains("CompactDecodeError")
    );
}

#[tokio::test]
async fn duplicate_authorization_headers_even_after_a_cached_success() {
    let authenticator = Setup { cache_size: 100, ..Setup::hs256() }.build().await;
    let token = hs256(&claims());
    session_of(authenticator.authenticate_now(&bearer(&token), now()));
    session_of(authenticator.authenticate_now(&bearer(&token), now()));
    assert_eq!(authenticator.cache_stats().hits, 1);
    let bearer_value = format!("Bearer {token}");
    let twice = headers(&[("authorization", &bearer_value), ("authorization", &bearer_value)]);
    assert_eq!(
        error_of(authenticator.authenticate_now(&twice, now())).1,
        "Could not verify JWT: Multiple JWTs found"
    );
    let with_malformed = headers(&[("authorization", &bearer_value), ("authorization", "Basic x")]);
    assert_eq!(
        error_of(authenticator.authenticate_now(&with_malformed, now())).1,
        "Malformed Authorization header"
    );
}

#[tokio::test]
async fn a_token_signed_by_an_unrelated_key_with_the_right_kid() {
    let a = TestKey::load("ec-p256");
    let set = jwtgate_test_support::keys::jwks(&[a.jwk_with_kid("a")]);
    let authenticator =
        Setup { jwks: Some(set), ..Setup::secret(json!({"jwk_url": "https://keys.example/jwks"})) }
            .build()
            .await;
    let attacker = TestKey::load("ec-p384");
    let token = mint_with_header(
        &json!({"alg": "ES384", "kid": "a"}),
        &claims().to_string(),
        &attacker,
        "ES384",
    );
    assert_eq!(
        error_of(authenticator.authenticate_now(&bearer(&token), now())).1,
        "Could not verify JWT: JWSError JWSInvalidSignature"
    );
    let good =
        mint_with_header(&json!({"alg": "ES256", "kid": "a"}), &claims().to_string(), &a, "ES256");
    session_of(authenticator.authenticate_now(&bearer(&good), now()));
}

#[test]
fn config_debug_never_shows_the_admin_secret() {
    let mut config = jwtgate_core::AuthenticatorConfig::default();
    config.admin_secret = Some("an-admin-secret-nobody-may-log".into());
    let debug = format!("{config:?}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(!debug.contains("an-admin-secret"), "{debug}");
}

#[tokio::test]
async fn a_repeated_header_member_counts_its_last_value() {
    // aeson keeps the last of repeated object members; serde would refuse them.
    let authenticator = Setup::hs256().build().await;
    let key = TestKey::hmac(HS_SECRET.as_bytes());
    let signed = |header: &str| {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims().to_string().as_bytes()));
        format!("{input}.{}", b64(&key.sign("HS256", input.as_bytes())))
    };
    session_of(
        authenticator.authenticate_now(&bearer(&signed(r#"{"alg":"none","alg":"HS256"}"#)), now()),
    );
    assert_eq!(
        error_of(
            authenticator
                .authenticate_now(&bearer(&signed(r#"{"alg":"HS256","alg":"none"}"#)), now())
        )
        .1,
        "Could not verify JWT: JWSError JWSNoSignatures"
    );
    assert_eq!(
        error_of(
            authenticator
                .authenticate_now(&bearer(&signed(r#"{"alg":"HS256","kid":null}"#)), now())
        )
        .1,
        r#"Could not verify JWT: JWSError (JSONDecodeError "parsing Text failed, expected String, but encountered Null")"#
    );
}

/// RFC 8725 3.10: keys come from the configuration only. A token naming its own key (`jku`,
/// `x5u`, an embedded `jwk` or `x5c`) and signed with it is refused, and nothing is fetched
/// from the address it names.
#[tokio::test]
async fn keys_a_token_names_are_never_fetched_or_used() {
    let attacker = TestKey::load("ec-p256");
    let provider = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string(
            jwtgate_test_support::keys::jwks(&[attacker.jwk_with_kid("attacker")]),
        ))
        .mount(&provider)
        .await;
    let address = format!("{}/jwks.json", provider.uri());
    let header = json!({
        "alg": "ES256", "kid": "attacker", "jku": address, "x5u": address,
        "jwk": attacker.jwk_with_kid("attacker"),
        "x5c": [jwtgate_test_support::keys::x5c_entry("ec-p256")],
    });
    let token = mint_with_header(&header, &claims().to_string(), &attacker, "ES256");
    let configured = TestKey::load("rsa-2048");
    let set = jwtgate_test_support::keys::jwks(&[configured.jwk_with_kid("k")]);
    let setups = [
        Setup::hs256(),
        Setup::secret(json!({"type": "RS256", "key": fixture_text("rsa-2048.pub.pem")})),
        Setup { jwks: Some(set), ..Setup::secret(json!({"jwk_url": "https://keys.example/jwks"})) },
    ];
    for setup in setups {
        let authenticator = setup.build().await;
        let (code, message, status) =
            error_of(authenticator.authenticate_now(&bearer(&token), now()));
        assert_eq!((code.as_str(), status), ("invalid-jwt", 401), "{message}");
        assert!(message.starts_with("Could not verify JWT: JWSError"), "{message}");
    }
    let requests = provider.received_requests().await.unwrap_or_default();
    assert!(requests.is_empty(), "the token's own key address was fetched");
}
