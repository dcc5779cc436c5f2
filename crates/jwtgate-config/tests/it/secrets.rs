//! The typed view of parsed secrets, and what never leaks into `Debug` or error text.

use jwtgate_config::{
    ClaimValue, ClaimsFormat, ClaimsSource, KeySource, Namespace, PathStep, SecretRef,
    TokenLocation, parse_jwt_secret, parse_jwt_secrets,
};

const HMAC_KEY: &str = "a-32-byte-secret-for-jwtgate-tests!!";

#[test]
fn defaults_are_hasuras() {
    let secret = parse_jwt_secret(&format!(r#"{{"type": "HS256", "key": "{HMAC_KEY}"}}"#)).unwrap();
    assert_eq!(secret.location(), &TokenLocation::Authorization);
    assert_eq!(secret.audience(), None);
    assert_eq!(secret.issuer(), None);
    assert!(secret.allowed_skew() == 0.0);
    assert_eq!(
        secret.claims(),
        &ClaimsSource::Namespace {
            namespace: Namespace::Key("https://hasura.io/jwt/claims".to_owned()),
            format: ClaimsFormat::Json,
        }
    );
}

#[test]
fn claims_map_is_typed_and_takes_precedence() {
    let secret = parse_jwt_secret(&format!(
        r#"{{"type": "HS256", "key": "{HMAC_KEY}", "claims_format": "stringified_json",
            "claims_map": {{
              "x-hasura-allowed-roles": ["user", "editor"],
              "x-hasura-default-role": {{"path": "$.roles[0]", "default": "user"}},
              "X-Hasura-User-Id": {{"path": "$.sub"}},
              "x-hasura-user-id": "overridden later wins",
              "X-HASURA-DEFAULT-ROLE": "dropped: a role entry in another case"
            }}}}"#
    ))
    .unwrap();
    let ClaimsSource::Map(map) = secret.claims() else { panic!("claims_map mode expected") };
    assert_eq!(
        map.allowed_roles,
        ClaimValue::Literal(vec!["user".to_owned(), "editor".to_owned()])
    );
    let ClaimValue::Path { path, default } = &map.default_role else { panic!("a path") };
    assert_eq!(path.steps(), [PathStep::Key("roles".to_owned()), PathStep::Index(0)]);
    assert_eq!(default.as_deref(), Some("user"));
    assert_eq!(
        map.session_variables,
        [("x-hasura-user-id".to_owned(), ClaimValue::Literal("overridden later wins".to_owned()))]
    );
}

#[test]
fn custom_header_name_is_lower_cased_for_matching() {
    let secret = parse_jwt_secret(&format!(
        r#"{{"type": "HS256", "key": "{HMAC_KEY}", "header": {{"type": "CustomHeader", "name": "X-My-Token"}}}}"#
    ))
    .unwrap();
    assert_eq!(secret.location(), &TokenLocation::CustomHeader { name: "x-my-token".to_owned() });
    let cookie = parse_jwt_secret(&format!(
        r#"{{"type": "HS256", "key": "{HMAC_KEY}", "header": {{"type": "cookie", "name": "My_Cookie"}}}}"#
    ))
    .unwrap();
    assert_eq!(cookie.location(), &TokenLocation::Cookie { name: "My_Cookie".to_owned() });
}

#[test]
fn jwk_url_keeps_credentials_for_fetching_only() {
    let secret = parse_jwt_secret(r#"{"jwk_url": "https://u:p@example.com/jwks?k=v"}"#).unwrap();
    let KeySource::JwkUrl(url) = secret.key_source() else { panic!("a jwk_url secret") };
    assert_eq!(url.as_url().as_str(), "https://u:p@example.com/jwks?k=v");
    let shown = format!("{secret:?} {}", secret.normalized());
    assert!(!shown.contains("u:p") && !shown.contains("k=v"), "{shown}");
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let secret = parse_jwt_secret(&format!(r#"{{"type": "HS256", "key": "{HMAC_KEY}"}}"#)).unwrap();
    let shown = format!("{secret:?} {:?} {}", secret.key_source(), secret.normalized());
    assert!(!shown.contains(HMAC_KEY), "{shown}");

    let short_key = "secret-but-short";
    for json in [
        format!(r#"{{"type": "HS256", "key": "{short_key}"}}"#),
        format!(r#"{{"type": "RS256", "key": "{short_key}"}}"#),
        format!(r#"{{"type": "XX256", "key": "{short_key}"}}"#),
        format!(r#"{{"type": "HS256", "key": "{short_key}", "jwk_url": "https://x"}}"#),
        format!(r#"{{"type": "HS256", "key": "{short_key}" "#),
    ] {
        let error = parse_jwt_secret(&json).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(short_key), "{shown}");
    }
}

#[test]
fn list_errors_point_at_the_element() {
    let error = parse_jwt_secrets(&format!(
        r#"[{{"type": "HS256", "key": "{HMAC_KEY}"}}, {{"jwk_url": "ftp://x"}}]"#
    ))
    .unwrap_err();
    assert_eq!(error.secret(), SecretRef::ListItem(1));
    assert_eq!(error.field(), "jwk_url");
}
