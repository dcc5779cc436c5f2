//! Where tokens are found (section 2), how several secrets are chosen between (section 6), and
//! who the caller is without a token (docs/server.md rules 1 to 3, D1).

use jwtgate_core::Caller;
use jwtgate_test_support::keys::TestKey;
use serde_json::{Value, json};

use crate::support::{
    HS_SECRET, Setup, bearer, claims, error_of, headers, hs256, mint, now, session_of,
};

const OTHER_SECRET: &str = "another-hmac-secret-of-32-bytes!";

fn cookie_secret(name: &str) -> Value {
    json!({"type": "HS256", "key": HS_SECRET, "header": {"type": "Cookie", "name": name}})
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
}

fn user_session() -> Vec<(String, String)> {
    vars(&[("x-hasura-role", "user"), ("x-hasura-user-id", "1")])
}

#[tokio::test]
async fn authorization_bearer_with_any_whitespace() {
    let authenticator = Setup::hs256().build().await;
    let token = hs256(&claims());
    for value in [format!("Bearer {token}"), format!("  Bearer \t{token}  ")] {
        let request = headers(&[("Authorization", &value)]);
        assert_eq!(
            session_of(authenticator.authenticate_now(&request, now())),
            user_session(),
            "{value:?}"
        );
    }
    // Hasura splits bytes (Char8 `words`): a 0xA0 byte separates words, a UTF-8 no-break space
    // (C2 A0) leaves a stray byte on `Bearer`.
    let mut request = http::HeaderMap::new();
    let latin1 = [b"Bearer\xa0".as_slice(), token.as_bytes()].concat();
    request.insert("authorization", http::HeaderValue::from_bytes(&latin1).unwrap());
    assert_eq!(session_of(authenticator.authenticate_now(&request, now())), user_session());
    let utf8 = headers(&[("authorization", &format!("Bearer\u{a0}{token}"))]);
    assert_eq!(
        error_of(authenticator.authenticate_now(&utf8, now())).1,
        "Malformed Authorization header"
    );
}

#[tokio::test]
async fn cookies_are_parsed_url_decoded_and_matched_exactly() {
    let authenticator = Setup::secret(cookie_secret("jwt")).build().await;
    let token = hs256(&claims());
    let encoded = token.replace('.', "%2E");
    for cookie in
        [format!("jwt={token}"), format!("a=1;  jwt={token}; b"), format!("jwt={encoded}")]
    {
        let request = headers(&[("cookie", &cookie)]);
        assert_eq!(
            session_of(authenticator.authenticate_now(&request, now())),
            user_session(),
            "{cookie}"
        );
    }
    // The name is case-sensitive, and an Authorization header is not where this secret looks.
    for request in [headers(&[("cookie", &format!("JWT={token}"))]), bearer(&token)] {
        let (code, message, _) = error_of(authenticator.authenticate_now(&request, now()));
        assert_eq!(code, "invalid-headers");
        assert_eq!(
            message,
            "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"
        );
    }
    // D14: surrounding quotes are not stripped, so the value is not a token.
    let quoted = headers(&[("cookie", &format!("jwt=\"{token}\""))]);
    assert_eq!(error_of(authenticator.authenticate_now(&quoted, now())).0, "invalid-jwt");
    // The same cookie twice is two candidates.
    let twice = headers(&[("cookie", &format!("jwt={token}; jwt={token}"))]);
    assert_eq!(
        error_of(authenticator.authenticate_now(&twice, now())).1,
        "Could not verify JWT: Multiple JWTs found"
    );
}

#[tokio::test]
async fn custom_headers_carry_the_bare_token() {
    let secret = json!({"type": "HS256", "key": HS_SECRET, "header": {"type": "CustomHeader", "name": "X-Auth-Token"}});
    let authenticator = Setup::secret(secret).build().await;
    let token = hs256(&claims());
    assert_eq!(
        session_of(authenticator.authenticate_now(&headers(&[("x-auth-token", &token)]), now())),
        user_session()
    );
    let with_bearer = headers(&[("x-auth-token", &format!("Bearer {token}"))]);
    assert_eq!(error_of(authenticator.authenticate_now(&with_bearer, now())).0, "invalid-jwt");
    // A custom header named Authorization never matches (section 2.2).
    let named_authorization = json!({"type": "HS256", "key": HS_SECRET, "header": {"type": "CustomHeader", "name": "Authorization"}});
    let authenticator = Setup::secret(named_authorization).build().await;
    assert_eq!(
        error_of(authenticator.authenticate_now(&headers(&[("authorization", &token)]), now())).0,
        "invalid-headers"
    );
}

#[tokio::test]
async fn several_secrets_are_chosen_by_location_and_issuer() {
    let a = json!({"type": "HS256", "key": HS_SECRET, "issuer": "https://a.example"});
    let b = json!({"type": "HS256", "key": OTHER_SECRET, "issuer": "https://b.example"});
    let open = json!({"type": "HS256", "key": OTHER_SECRET});
    let with_iss = |iss: Option<&str>, secret: &str| {
        let mut claims = claims();
        if let Some(iss) = iss {
            claims["iss"] = json!(iss);
        }
        mint(&claims, &TestKey::hmac(secret.as_bytes()), "HS256")
    };
    let authenticator =
        Setup { secrets: vec![a.clone(), b.clone()], ..Setup::default() }.build().await;
    let check = |token: &str| authenticator.authenticate_now(&bearer(token), now());
    assert_eq!(session_of(check(&with_iss(Some("https://a.example"), HS_SECRET))), user_session());
    assert_eq!(
        session_of(check(&with_iss(Some("https://b.example"), OTHER_SECRET))),
        user_session()
    );
    assert_eq!(
        error_of(check(&with_iss(Some("https://c.example"), HS_SECRET))).1,
        "Could not verify JWT: JWTNotInIssuer"
    );
    assert_eq!(
        error_of(check(&with_iss(None, HS_SECRET))).1,
        "Could not verify JWT: Multiple JWTs found"
    );
    // The chosen secret's failure is final: no fall-through to the other secret.
    assert_eq!(
        error_of(check(&with_iss(Some("https://a.example"), OTHER_SECRET))).1,
        "Could not verify JWT: JWSError JWSInvalidSignature"
    );

    let authenticator = Setup { secrets: vec![a, open], ..Setup::default() }.build().await;
    let check = |token: &str| authenticator.authenticate_now(&bearer(token), now());
    assert_eq!(
        session_of(check(&with_iss(Some("https://z.example"), OTHER_SECRET))),
        user_session()
    );
    assert_eq!(
        error_of(check(&with_iss(Some("https://a.example"), HS_SECRET))).1,
        "Could not verify JWT: Multiple JWTs found"
    );

    // Two secrets at different locations: each token goes to its own.
    let authorization = json!({"type": "HS256", "key": HS_SECRET});
    let cookie =
        json!({"type": "HS256", "key": OTHER_SECRET, "header": {"type": "Cookie", "name": "jwt"}});
    let authenticator =
        Setup { secrets: vec![authorization, cookie], ..Setup::default() }.build().await;
    let in_cookie = headers(&[("cookie", &format!("jwt={}", with_iss(None, OTHER_SECRET)))]);
    assert_eq!(session_of(authenticator.authenticate_now(&in_cookie, now())), user_session());
    let both = headers(&[
        ("cookie", &format!("jwt={}", with_iss(None, OTHER_SECRET))),
        ("authorization", &format!("Bearer {}", with_iss(None, HS_SECRET))),
    ]);
    assert_eq!(
        error_of(authenticator.authenticate_now(&both, now())).1,
        "Could not verify JWT: Multiple JWTs found"
    );
}

#[tokio::test]
async fn the_admin_secret_counts_only_without_a_token() {
    let setup = || Setup { admin_secret: Some("s3cret"), ..Setup::hs256() };
    let authenticator = setup().build().await;
    let admin = headers(&[
        ("x-hasura-admin-secret", "s3cret"),
        ("x-hasura-user-id", "7"),
        ("X-Hasura-Org", "a"),
        ("x-hasura-org", "b"),
    ]);
    let result = authenticator.authenticate_now(&admin, now()).unwrap();
    assert_eq!(result.caller(), Caller::AdminSecret);
    assert_eq!(result.expires(), None);
    let session: Vec<_> =
        result.session().variables().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    assert_eq!(
        session,
        vars(&[("x-hasura-org", "b"), ("x-hasura-role", "admin"), ("x-hasura-user-id", "7")])
    );

    let posing = headers(&[
        ("x-hasura-access-key", "s3cret"),
        ("x-hasura-role", "editor"),
        ("x-hasura-default-role", "x"),
    ]);
    assert_eq!(
        session_of(authenticator.authenticate_now(&posing, now())),
        vars(&[("x-hasura-role", "editor")])
    );

    // D1: with a token presented the admin secret is ignored, valid or not.
    let token = hs256(&claims());
    let mut with_token = bearer(&token);
    with_token.insert("x-hasura-admin-secret", "wrong".parse().unwrap());
    assert_eq!(session_of(authenticator.authenticate_now(&with_token, now())), user_session());
    let mut bad_token = bearer("a.b.c");
    bad_token.insert("x-hasura-admin-secret", "s3cret".parse().unwrap());
    assert_eq!(error_of(authenticator.authenticate_now(&bad_token, now())).0, "invalid-jwt");

    // Without a configured admin secret the headers are ignored.
    let authenticator = Setup::hs256().build().await;
    let (code, _, _) = error_of(
        authenticator.authenticate_now(&headers(&[("x-hasura-admin-secret", "s3cret")]), now()),
    );
    assert_eq!(code, "invalid-headers");
}

#[tokio::test]
async fn the_unauthorized_role_applies_when_nothing_is_presented() {
    let authenticator =
        Setup { unauthorized_role: Some("anonymous"), ..Setup::hs256() }.build().await;
    let request = headers(&[
        ("x-hasura-role", "admin"),
        ("x-hasura-user-id", "5"),
        ("x-hasura-allowed-roles", "[]"),
    ]);
    let result = authenticator.authenticate_now(&request, now()).unwrap();
    assert_eq!(result.caller(), Caller::UnauthorizedRole);
    let session: Vec<_> =
        result.session().variables().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    assert_eq!(session, vars(&[("x-hasura-role", "anonymous"), ("x-hasura-user-id", "5")]));
    // A presented token is verified and its failure final: no fallback to the role.
    assert_eq!(error_of(authenticator.authenticate_now(&bearer("a.b.c"), now())).0, "invalid-jwt");
    // With an admin secret configured too, a wrong one is still denied.
    let authenticator = Setup {
        unauthorized_role: Some("anonymous"),
        admin_secret: Some("s3cret"),
        ..Setup::hs256()
    }
    .build()
    .await;
    let (code, _, _) = error_of(
        authenticator.authenticate_now(&headers(&[("x-hasura-admin-secret", "nope")]), now()),
    );
    assert_eq!(code, "access-denied");
    assert_eq!(
        session_of(authenticator.authenticate_now(&headers(&[]), now())),
        vars(&[("x-hasura-role", "anonymous")])
    );
}

#[tokio::test]
async fn time_claims_honour_allowed_skew_and_audience_rules() {
    let skewed =
        Setup::secret(json!({"type": "HS256", "key": HS_SECRET, "allowed_skew": 60})).build().await;
    let plain = Setup::hs256().build().await;
    let token = |edit: &dyn Fn(&mut Value)| {
        let mut claims = claims();
        edit(&mut claims);
        bearer(&hs256(&claims))
    };
    let expired_30s = token(&|c| c["exp"] = json!(crate::support::NOW - 30));
    assert_eq!(
        error_of(plain.authenticate_now(&expired_30s, now())).1,
        "Could not verify JWT: JWTExpired"
    );
    session_of(skewed.authenticate_now(&expired_30s, now()));
    let fractional = token(&|c| c["exp"] = json!(1_700_000_000.5));
    session_of(plain.authenticate_now(&fractional, now()));
    let nbf_soon = token(&|c| c["nbf"] = json!(crate::support::NOW + 30));
    session_of(skewed.authenticate_now(&nbf_soon, now()));

    let audience =
        Setup::secret(json!({"type": "HS256", "key": HS_SECRET, "audience": ["api", "web"]}))
            .build()
            .await;
    session_of(audience.authenticate_now(&token(&|_| {}), now()));
    session_of(audience.authenticate_now(&token(&|c| c["aud"] = json!("web")), now()));
    session_of(audience.authenticate_now(&token(&|c| c["aud"] = json!(["x", "api"])), now()));
    assert_eq!(
        error_of(audience.authenticate_now(&token(&|c| c["aud"] = json!([])), now())).1,
        "Could not verify JWT: JWTNotInAudience"
    );
    // With no audience configured, `aud: []` still fails (section 3.5.4).
    assert_eq!(
        error_of(plain.authenticate_now(&token(&|c| c["aud"] = json!([])), now())).1,
        "Could not verify JWT: JWTNotInAudience"
    );
    // StringOrURI applies to `sub` too (section 3.6.4).
    let (_, message, _) =
        error_of(plain.authenticate_now(&token(&|c| c["sub"] = json!("a|b:c d")), now()));
    assert!(message.starts_with("Could not verify JWT: JWTClaimsSetDecodeError "), "{message}");
}
