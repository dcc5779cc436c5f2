//! Explanations: the steps verification takes, as it takes them; the verdict the same as
//! authentication's; hints only where they apply.

use std::sync::Arc;

use jwtgate_config::parse_jwt_secret;
use jwtgate_core::{
    Authenticator, AuthenticatorConfig, Explanation, FixedKeySet, Hint, JwkSet, KeySet, StepName,
    StepOutcome,
};
use jwtgate_test_support::keys::{TestKey, jwks};
use serde_json::{Value, json};

use crate::support::{HS_SECRET, NOW, claims, headers, hs256, mint_with_header, now};

fn authenticator(secret: &Value) -> Authenticator {
    let secret = parse_jwt_secret(&secret.to_string()).unwrap();
    let mut config = AuthenticatorConfig::new(vec![secret]);
    config.unauthorized_role = Some("anonymous".to_owned());
    Authenticator::new(config, |_| None)
}

fn hs_secret() -> Value {
    json!({"type": "HS256", "key": HS_SECRET})
}

/// Explains a request at the tests' `now`; checks the verdict is authentication's.
fn explain(authenticator: &Authenticator, pairs: &[(&str, &str)]) -> Explanation {
    let request = headers(pairs);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let explanation =
        runtime.block_on(authenticator.explain(&request, now, || std::future::ready(())));
    let direct = authenticator.authenticate_now(&request, now());
    assert_eq!(
        explanation
            .verdict
            .as_ref()
            .map(|a| a.session().role().to_owned())
            .map_err(ToString::to_string),
        direct.map(|a| a.session().role().to_owned()).map_err(|e| e.to_string()),
    );
    explanation
}

/// The (step, outcome, detail) triples, for readable assertions.
fn steps(explanation: &Explanation) -> Vec<(&'static str, &'static str, String)> {
    explanation
        .steps
        .iter()
        .map(|step| (step.name.as_str(), step.outcome.as_str(), step.detail.clone()))
        .collect()
}

fn failed(explanation: &Explanation) -> Vec<(&'static str, String)> {
    steps(explanation)
        .into_iter()
        .filter(|(name, outcome, _)| *outcome == "failed" && *name != "verdict")
        .map(|(name, _, detail)| (name, detail))
        .collect()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn a_good_token_is_followed_from_its_location_to_its_role() {
    let authenticator = authenticator(&hs_secret());
    let token = hs256(&claims());
    let explanation = explain(&authenticator, &[("authorization", &bearer(&token))]);
    let names: Vec<&str> = explanation.steps.iter().map(|step| step.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "location",
            "header",
            "secret",
            "key",
            "signature",
            "exp",
            "iat",
            "nbf",
            "iss",
            "aud",
            "claims",
            "role",
            "verdict"
        ]
    );
    let steps = steps(&explanation);
    assert_eq!(steps[0], ("location", "ok", "a token in the Authorization header".to_owned()));
    assert_eq!(steps[1], ("header", "ok", r#"alg HS256, typ "JWT""#.to_owned()));
    assert_eq!(steps[5], ("exp", "ok", "expires in 3600 s".to_owned()));
    assert_eq!(steps[11], ("role", "ok", "role user (default)".to_owned()));
    assert_eq!(steps[12], ("verdict", "ok", "200, role user".to_owned()));
    assert!(explanation.hints.is_empty() && !explanation.waited);
    // Nothing of the token or the key in any detail.
    assert!(
        steps.iter().all(|(_, _, detail)| !detail.contains(&token) && !detail.contains(HS_SECRET))
    );
}

#[test]
fn time_checks_say_by_how_much_and_hint_at_skew_under_a_minute() {
    let authenticator = authenticator(&hs_secret());
    let mut late = claims();
    late["exp"] = json!(NOW - 192);
    let explanation = explain(&authenticator, &[("authorization", &bearer(&hs256(&late)))]);
    assert_eq!(failed(&explanation), [("exp", "expired 192 s ago".to_owned())]);
    assert!(explanation.hints.is_empty());

    let mut early = claims();
    early["iat"] = json!(NOW + 3);
    let explanation = explain(&authenticator, &[("authorization", &bearer(&hs256(&early)))]);
    assert_eq!(failed(&explanation), [("iat", "issued 3 s in the future".to_owned())]);
    assert_eq!(explanation.hints, [Hint::SmallClockSkew]);
}

#[test]
fn issuer_audience_and_role_traps_get_their_hints() {
    let with_issuer = authenticator(
        &json!({"type": "HS256", "key": HS_SECRET, "issuer": "https://idp.example.com"}),
    );
    let mut slash = claims();
    slash["iss"] = json!("https://idp.example.com/");
    let explanation = explain(&with_issuer, &[("authorization", &bearer(&hs256(&slash)))]);
    assert_eq!(explanation.hints, [Hint::IssuerTrailingSlash]);
    assert_eq!(
        explanation.verdict.unwrap_err().to_string(),
        "Could not verify JWT: JWTNotInIssuer"
    );

    let plain = authenticator(&hs_secret());
    let mut empty = claims();
    empty["aud"] = json!([]);
    let explanation = explain(&plain, &[("authorization", &bearer(&hs256(&empty)))]);
    assert_eq!(explanation.hints, [Hint::EmptyAudience]);

    let token = hs256(&claims());
    let explanation =
        explain(&plain, &[("authorization", &bearer(&token)), ("x-hasura-role", "admin")]);
    assert_eq!(
        failed(&explanation),
        [("role", "Your requested role is not in allowed roles".to_owned())]
    );
    assert_eq!(explanation.hints, [Hint::RoleHeaderNotAllowed]);
    let explanation =
        explain(&plain, &[("authorization", &bearer(&token)), ("x-hasura-role", "editor")]);
    assert!(explanation.hints.is_empty());
}

#[test]
fn each_key_of_a_set_is_tried_or_passed_over_with_its_reason() {
    let (ec, rsa) = (TestKey::load("ec-p256"), TestKey::load("rsa-2048"));
    let set = JwkSet::parse(
        jwks(&[ec.jwk_with_kid("a"), ec.jwk_with_kid("b"), rsa.jwk_with_kid("r")]).as_bytes(),
    )
    .unwrap();
    let key_set: Arc<dyn KeySet> = Arc::new(FixedKeySet::new(set));
    let secret = parse_jwt_secret(r#"{"jwk_url": "https://idp.example.com/keys"}"#).unwrap();
    let authenticator =
        Authenticator::new(AuthenticatorConfig::new(vec![secret]), |_| Some(Arc::clone(&key_set)));
    let token =
        mint_with_header(&json!({"alg": "ES256", "kid": "b"}), &claims().to_string(), &ec, "ES256");
    let explanation = explain(&authenticator, &[("authorization", &bearer(&token))]);
    let keys: Vec<(&str, String)> = steps(&explanation)
        .into_iter()
        .filter(|(name, _, _)| *name == "key")
        .map(|(_, outcome, detail)| (outcome, detail))
        .collect();
    assert_eq!(
        keys,
        [
            ("skipped", r#"EC P-256 key, kid "a": skipped, the token names kid "b""#.to_owned()),
            ("info", r#"EC P-256 key, kid "b": tried"#.to_owned()),
            (
                "skipped",
                r#"RSA 2048-bit key, kid "r": skipped, the token names kid "b""#.to_owned()
            ),
        ]
    );
    assert!(explanation.verdict.is_ok());

    // An empty set: no usable keys, and a hint saying where to look.
    let empty: Arc<dyn KeySet> = Arc::new(FixedKeySet::new(JwkSet::empty()));
    let secret = parse_jwt_secret(r#"{"jwk_url": "https://idp.example.com/keys"}"#).unwrap();
    let authenticator =
        Authenticator::new(AuthenticatorConfig::new(vec![secret]), |_| Some(Arc::clone(&empty)));
    let explanation = explain(&authenticator, &[("authorization", &bearer(&token))]);
    assert_eq!(
        failed(&explanation),
        [("key", "the key set holds no usable key (0 skipped)".to_owned())]
    );
    assert_eq!(explanation.hints, [Hint::KeySetEmpty]);
}

#[test]
fn requests_without_a_token_explain_the_admin_secret_and_the_unauthorized_role() {
    let authenticator = authenticator(&hs_secret());
    let explanation = explain(&authenticator, &[]);
    assert_eq!(
        steps(&explanation),
        [
            ("location", "info", "no token in the Authorization header".to_owned()),
            (
                "unauthorized_role",
                "ok",
                "no credentials: the unauthorized role anonymous".to_owned()
            ),
            ("verdict", "ok", "200, role anonymous".to_owned()),
        ]
    );
    let explanation = explain(&authenticator, &[("authorization", "Basic abc")]);
    assert_eq!(
        failed(&explanation),
        [("location", r#"the Authorization header is not "Bearer <token>""#.to_owned())]
    );
    assert_eq!(explanation.verdict.unwrap_err().reason(), "malformed");
}

#[test]
fn an_explanation_neither_reads_nor_fills_the_cache() {
    let authenticator = authenticator(&hs_secret());
    let token = hs256(&claims());
    explain(&authenticator, &[("authorization", &bearer(&token))]);
    let stats = authenticator.cache_stats();
    // `explain` above also asked authentication once for the comparison: one miss, no hit.
    assert_eq!((stats.hits, stats.misses), (0, 1));
    assert_eq!(StepOutcome::Skipped.as_str(), "skipped");
    assert_eq!(StepName::AdminSecret.as_str(), "admin_secret");
}

#[test]
fn every_hint_is_a_sentence_in_docs_errors_md() {
    let doc = std::fs::read_to_string(jwtgate_test_support::errors_doc::errors_doc_path()).unwrap();
    let section = doc.split("### Hints").nth(1).unwrap().split("\n## ").next().unwrap();
    let hints = Hint::ALL;
    for hint in hints {
        assert!(section.contains(&format!("| `{hint}` |")), "{hint}");
    }
    assert_eq!(section.matches("\n| `").count(), hints.len(), "one row per hint");
}
