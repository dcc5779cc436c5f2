//! Tokens for the tests, minted against the real clock (the layer reads it).

use std::time::{SystemTime, UNIX_EPOCH};

use jwtgate_test_support::corpus::sign_with_header;
use jwtgate_test_support::keys::TestKey;
use serde_json::{Value, json};

/// An HS256 secret of the tests, as `HASURA_GRAPHQL_JWT_SECRET` holds it.
pub(crate) const HS256_SECRET: &str =
    r#"{"type": "HS256", "key": "an-hmac-secret-of-at-least-32-bytes!"}"#;
const HS256_KEY: &[u8] = b"an-hmac-secret-of-at-least-32-bytes!";

#[expect(clippy::disallowed_methods, reason = "the layer checks tokens against the real clock")]
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims of a user `42` with roles `user` and `editor`, expiring `exp_in` seconds from now.
pub(crate) fn claims(exp_in: i64) -> Value {
    let exp = i64::try_from(unix_now()).unwrap() + exp_in;
    json!({"sub": "42", "exp": exp, "https://hasura.io/jwt/claims": {
        "x-hasura-allowed-roles": ["user", "editor"], "x-hasura-default-role": "user",
        "x-hasura-user-id": "42"}})
}

/// A token over `claims` signed with the HS256 secret.
pub(crate) fn hs256(claims: &Value) -> String {
    sign_with_header(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        &TestKey::hmac(HS256_KEY),
        "HS256",
    )
}
