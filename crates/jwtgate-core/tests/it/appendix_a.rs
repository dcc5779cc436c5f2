//! Every row of hasura-semantics.md Appendix A (and the admin secret rows of CONTRACT.md):
//! exactly that code and message, and jwtgate's status 401 (D3).

use http::HeaderMap;
use jwtgate_test_support::keys::TestKey;
use serde_json::{Value, json};

use crate::support::{
    HS_SECRET, NOW, Setup, b64, bearer, claims, error_of, headers, hs256, mint, mint_with_header,
    now,
};

/// How a row's message is compared: byte-exact, or (for texts embedding library output,
/// Appendix A's rule) by prefix.
enum Message {
    Exact(&'static str),
    Prefix(&'static str),
}

struct Row {
    when: &'static str,
    setup: Setup,
    headers: HeaderMap,
    code: &'static str,
    message: Message,
}

fn with_claims(edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = claims();
    edit(&mut claims);
    hs256(&claims)
}

fn namespace(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    with_claims(|claims| edit(claims["https://hasura.io/jwt/claims"].as_object_mut().unwrap()))
}

fn row(
    when: &'static str,
    setup: Setup,
    headers: HeaderMap,
    code: &'static str,
    message: Message,
) -> Row {
    Row { when, setup, headers, code, message }
}

#[expect(clippy::too_many_lines, reason = "one row per catalogue entry")]
fn rows() -> Vec<Row> {
    use Message::{Exact, Prefix};
    let hs = Setup::hs256;
    let rsa = TestKey::load("rsa-2048");
    vec![
        row(
            "no token, no unauthorized role",
            hs(),
            HeaderMap::new(),
            "invalid-headers",
            Exact("Missing 'Authorization' or 'Cookie' header in JWT authentication mode"),
        ),
        row(
            "Authorization: bearer (lower case)",
            hs(),
            headers(&[("authorization", "bearer abc")]),
            "invalid-headers",
            Exact("Malformed Authorization header"),
        ),
        row(
            "Authorization: Basic",
            hs(),
            headers(&[("authorization", "Basic abc")]),
            "invalid-headers",
            Exact("Malformed Authorization header"),
        ),
        row(
            "Authorization: Bearer alone",
            hs(),
            headers(&[("authorization", "Bearer")]),
            "invalid-headers",
            Exact("Malformed Authorization header"),
        ),
        row(
            "Authorization: Bearer a b",
            hs(),
            headers(&[("authorization", "Bearer a b")]),
            "invalid-headers",
            Exact("Malformed Authorization header"),
        ),
        row(
            "malformed Authorization beside an unauthorized role",
            Setup { unauthorized_role: Some("anonymous"), ..hs() },
            headers(&[("authorization", "Token x")]),
            "invalid-headers",
            Exact("Malformed Authorization header"),
        ),
        row(
            "two Authorization headers",
            hs(),
            headers(&[
                ("authorization", &format!("Bearer {}", hs256(&claims()))),
                ("authorization", &format!("Bearer {}", hs256(&claims()))),
            ]),
            "invalid-headers",
            Exact("Could not verify JWT: Multiple JWTs found"),
        ),
        row(
            "issuer mismatch",
            Setup::secret(
                json!({"type": "HS256", "key": HS_SECRET, "issuer": "https://a.example"}),
            ),
            bearer(&with_claims(|c| c["iss"] = json!("https://b.example"))),
            "invalid-jwt",
            Exact("Could not verify JWT: JWTNotInIssuer"),
        ),
        row(
            "expired",
            hs(),
            bearer(&with_claims(|c| c["exp"] = json!(NOW))),
            "invalid-jwt",
            Exact("Could not verify JWT: JWTExpired"),
        ),
        row(
            "not yet valid",
            hs(),
            bearer(&with_claims(|c| c["nbf"] = json!(NOW + 1))),
            "invalid-jwt",
            Exact("Could not verify JWT: JWTNotYetValid"),
        ),
        row(
            "issued in the future",
            hs(),
            bearer(&with_claims(|c| c["iat"] = json!(NOW + 1))),
            "invalid-jwt",
            Exact("Could not verify JWT: JWTIssuedAtFuture"),
        ),
        row(
            "audience mismatch",
            Setup::secret(json!({"type": "HS256", "key": HS_SECRET, "audience": ["api"]})),
            bearer(&with_claims(|c| c["aud"] = json!(["web", "mobile"]))),
            "invalid-jwt",
            Exact("Could not verify JWT: JWTNotInAudience"),
        ),
        row(
            "bad signature",
            hs(),
            bearer(&mint(&claims(), &TestKey::hmac(b"another-secret-of-32-bytes-long!"), "HS256")),
            "invalid-jwt",
            Exact("Could not verify JWT: JWSError JWSInvalidSignature"),
        ),
        row(
            "no key verifies (another algorithm and key)",
            hs(),
            bearer(&mint(&claims(), &rsa, "RS256")),
            "invalid-jwt",
            Exact("Could not verify JWT: JWSError JWSInvalidSignature"),
        ),
        row(
            "empty key set",
            Setup::secret(json!({"jwk_url": "https://keys.example/jwks"})),
            bearer(&mint(&claims(), &rsa, "RS256")),
            "invalid-jwt",
            Exact("Could not verify JWT: JWSError NoUsableKeys"),
        ),
        row(
            "alg none",
            hs(),
            bearer(&format!(
                "{}.{}.",
                b64(br#"{"alg":"none"}"#),
                b64(claims().to_string().as_bytes())
            )),
            "invalid-jwt",
            Exact("Could not verify JWT: JWSError JWSNoSignatures"),
        ),
        row(
            "unknown alg",
            hs(),
            bearer(&mint_with_header(
                &json!({"alg": "Ed25519"}),
                &claims().to_string(),
                &TestKey::hmac(HS_SECRET.as_bytes()),
                "HS256",
            )),
            "invalid-jwt",
            Prefix("Could not verify JWT: JWSError (JSONDecodeError "),
        ),
        row(
            "two parts",
            hs(),
            bearer("abc.def"),
            "invalid-jwt",
            Exact(
                "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got 2)",
            ),
        ),
        row(
            "four parts",
            hs(),
            bearer("a.b.c.d"),
            "invalid-jwt",
            Exact(
                "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got 4)",
            ),
        ),
        row(
            "a payload that is not a claims set",
            hs(),
            bearer(&mint_with_header(
                &json!({"alg": "HS256"}),
                "[1,2]",
                &TestKey::hmac(HS_SECRET.as_bytes()),
                "HS256",
            )),
            "invalid-jwt",
            Prefix("Could not verify JWT: JWTClaimsSetDecodeError "),
        ),
        row(
            "exp that is a string",
            hs(),
            bearer(&with_claims(|c| c["exp"] = json!("soon"))),
            "invalid-jwt",
            Prefix("Could not verify JWT: JWTClaimsSetDecodeError "),
        ),
        row(
            "a token over 64 KiB",
            hs(),
            bearer(&"a".repeat(65537)),
            "invalid-jwt",
            Exact("Could not verify JWT: token larger than 65536 bytes"),
        ),
        row(
            "namespace key missing",
            hs(),
            bearer(&with_claims(|c| {
                c.as_object_mut().unwrap().remove("https://hasura.io/jwt/claims");
            })),
            "jwt-invalid-claims",
            Exact("claims key: 'https://hasura.io/jwt/claims' not found"),
        ),
        row(
            "namespace path missing",
            Setup::secret(
                json!({"type": "HS256", "key": HS_SECRET, "claims_namespace_path": "$.hasura"}),
            ),
            bearer(&hs256(&claims())),
            "jwt-invalid-claims",
            Exact("claims not found at claims_namespace_path: '$.hasura'"),
        ),
        row(
            "claims not an object in json format",
            hs(),
            bearer(&with_claims(|c| c["https://hasura.io/jwt/claims"] = json!("{}"))),
            "jwt-invalid-claims",
            Exact("expecting a json object when claims_format is json"),
        ),
        row(
            "claims not a string in stringified_json format",
            Setup::secret(
                json!({"type": "HS256", "key": HS_SECRET, "claims_format": "stringified_json"}),
            ),
            bearer(&hs256(&claims())),
            "jwt-invalid-claims",
            Exact("expecting a string when claims_format is stringified_json"),
        ),
        row(
            "claims a string that is not JSON",
            Setup::secret(
                json!({"type": "HS256", "key": HS_SECRET, "claims_format": "stringified_json"}),
            ),
            bearer(&with_claims(|c| c["https://hasura.io/jwt/claims"] = json!("{oops"))),
            "jwt-invalid-claims",
            Prefix("expecting stringified json at: "),
        ),
        row(
            "allowed roles missing",
            hs(),
            bearer(&namespace(|ns| {
                ns.remove("x-hasura-allowed-roles");
            })),
            "jwt-missing-role-claims",
            Exact("JWT claim does not contain x-hasura-allowed-roles"),
        ),
        row(
            "default role missing",
            hs(),
            bearer(&namespace(|ns| {
                ns.remove("x-hasura-default-role");
            })),
            "jwt-missing-role-claims",
            Exact("JWT claim does not contain x-hasura-default-role"),
        ),
        row(
            "allowed roles not a list",
            hs(),
            bearer(&namespace(|ns| {
                ns.insert("x-hasura-allowed-roles".into(), json!("user"));
            })),
            "jwt-invalid-claims",
            Exact(
                "invalid x-hasura-allowed-roles; should be a list of roles: parsing [] failed, expected Array, but encountered String",
            ),
        ),
        row(
            "default role not a string",
            hs(),
            bearer(&namespace(|ns| {
                ns.insert("x-hasura-default-role".into(), json!(7));
            })),
            "jwt-invalid-claims",
            Exact(
                "invalid x-hasura-default-role; should be a single role name: parsing String failed, expected String, but encountered Number",
            ),
        ),
        row(
            "claims_map claim missing",
            Setup::secret(json!({"type": "HS256", "key": HS_SECRET, "claims_map": {
                "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user",
                "x-hasura-user-id": {"path": "$.uid"}}})),
            bearer(&hs256(&claims())),
            "jwt-invalid-claims",
            Exact("JWT claim from claims_map, x-hasura-user-id not found"),
        ),
        row(
            "a non-string session variable",
            hs(),
            bearer(&namespace(|ns| {
                ns.insert("x-hasura-user-id".into(), json!(1));
            })),
            "jwt-invalid-claims",
            Exact(
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Number",
            ),
        ),
        row(
            "role not allowed",
            hs(),
            {
                let mut h = bearer(&hs256(&claims()));
                h.insert("x-hasura-role", "admin".parse().unwrap());
                h
            },
            "access-denied",
            Exact("Your requested role is not in allowed roles"),
        ),
        row(
            "wrong admin secret",
            Setup { admin_secret: Some("s3cret"), ..hs() },
            headers(&[("x-hasura-admin-secret", "guess")]),
            "access-denied",
            Exact("invalid x-hasura-admin-secret/x-hasura-access-key"),
        ),
        row(
            "empty admin secret",
            Setup { admin_secret: Some("s3cret"), ..hs() },
            headers(&[("x-hasura-admin-secret", "")]),
            "access-denied",
            Exact("invalid x-hasura-admin-secret/x-hasura-access-key"),
        ),
        row(
            "wrong access key",
            Setup { admin_secret: Some("s3cret"), ..hs() },
            headers(&[("X-Hasura-Access-Key", "guess")]),
            "access-denied",
            Exact("invalid x-hasura-admin-secret/x-hasura-access-key"),
        ),
    ]
}

#[tokio::test]
async fn every_row_of_the_catalogue() {
    let mut failures = Vec::new();
    let rows = rows();
    let count = rows.len();
    for row in rows {
        let authenticator = row.setup.build().await;
        let (code, message, status) = error_of(authenticator.authenticate(&row.headers, now()));
        let message_ok = match row.message {
            Message::Exact(expected) => message == expected,
            Message::Prefix(expected) => message.starts_with(expected),
        };
        if code != row.code || !message_ok || status != 401 {
            failures.push(format!("{}: got {status} {code} {message:?}", row.when));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
