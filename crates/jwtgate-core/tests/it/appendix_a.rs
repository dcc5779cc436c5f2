//! Every row of docs/compatibility.md Appendix A (and the admin secret rows of docs/server.md):
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
            Exact(
                r#"Could not verify JWT: JWSError (JSONDecodeError "unrecognised value; expected: [\"HS256\",\"HS384\",\"HS512\",\"RS256\",\"RS384\",\"RS512\",\"ES256\",\"ES384\",\"ES512\",\"ES256K\",\"PS256\",\"PS384\",\"PS512\",\"none\",\"EdDSA\"]")"#,
            ),
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
            Exact(
                r#"Could not verify JWT: JWTClaimsSetDecodeError "parsing JWT Claims Set failed, expected Object, but encountered Array""#,
            ),
        ),
        row(
            "exp that is a string",
            hs(),
            bearer(&with_claims(|c| c["exp"] = json!("soon"))),
            "invalid-jwt",
            Exact(
                r#"Could not verify JWT: JWTClaimsSetDecodeError "Error in $.exp: parsing NumericDate failed, expected Number, but encountered String""#,
            ),
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
        let (code, message, status) = error_of(authenticator.authenticate_now(&row.headers, now()));
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

/// A validly signed HS256 token with this header and payload.
fn signed(header: &Value, payload: &str) -> String {
    mint_with_header(header, payload, &TestKey::hmac(HS_SECRET.as_bytes()), "HS256")
}

#[tokio::test]
#[expect(clippy::too_many_lines, reason = "one row per message")]
async fn crit_and_the_decode_texts_are_exact() {
    // D17: jose understands no `crit` extension, so each of these validly signed tokens fails;
    // Appendix A's note: the decode texts are jose's and aeson's words, never serde's.
    let jws = |inner: &str| format!("Could not verify JWT: JWSError (JSONDecodeError \"{inner}\")");
    let claims_set =
        |inner: &str| format!("Could not verify JWT: JWTClaimsSetDecodeError \"{inner}\"");
    let payload = claims().to_string();
    let mut cases: Vec<(&str, String, String)> = Vec::new();
    for (crit, expected) in [
        (json!(["x"]), "crit key is not understood"),
        (json!(["exp"]), "crit key is not understood"),
        (json!(["alg"]), "crit key is reserved"),
        (json!(["kid", "x"]), "crit key is reserved"),
        (json!(["x5t#S256"]), "crit key is reserved"),
        (json!([]), "parsing NonEmpty failed, unexpected empty list"),
        (json!("x"), "parsing NonEmpty failed, expected Array, but encountered String"),
        (json!(1), "parsing NonEmpty failed, expected Array, but encountered Number"),
        (json!({}), "parsing NonEmpty failed, expected Array, but encountered Object"),
        (json!(true), "parsing NonEmpty failed, expected Array, but encountered Boolean"),
        (json!(null), "parsing NonEmpty failed, expected Array, but encountered Null"),
        (json!(["x", 1]), "parsing Text failed, expected String, but encountered Number"),
    ] {
        let header = json!({"alg": "HS256", "crit": crit, "x": 1});
        cases.push(("crit", signed(&header, &payload), jws(expected)));
    }
    let b64_unencoded = json!({"alg": "HS256", "b64": false, "crit": ["b64"]});
    cases.push(("b64", signed(&b64_unencoded, &payload), jws("crit key is not understood")));
    let good = signed(&json!({"alg": "HS256"}), &payload);
    let (header, rest) = good.split_once('.').unwrap();
    let not_base64 = [
        format!("{header}!.{rest}"),
        format!("{header}=.{rest}"),
        good.replacen('.', ".*", 1),
        format!("{good}*"),
    ];
    for token in not_base64 {
        cases.push(("not base64url", token, jws("Not valid base64url")));
    }
    for header in [b64(b"{oops"), b64(b"[1]"), b64(b"\"alg\"")] {
        cases.push((
            "header not JSON",
            format!("{header}.{rest}"),
            jws("protected header contains invalid JSON"),
        ));
    }
    cases.push((
        "no alg",
        signed(&json!({"typ": "JWT"}), &payload),
        jws(r#"missing required header \"alg\""#),
    ));
    cases.push((
        "kid a number",
        signed(&json!({"alg": "HS256", "kid": 7}), &payload),
        jws("parsing Text failed, expected String, but encountered Number"),
    ));
    for (claim, value, expected) in [
        (
            "iss",
            json!(1),
            "Error in $.iss: parsing StringOrURI failed, expected String, but encountered Number",
        ),
        (
            "sub",
            json!(12345),
            "Error in $.sub: parsing StringOrURI failed, expected String, but encountered Number",
        ),
        ("sub", json!("a|b:c d"), "Error in $.sub: failed to parse StringOrURI"),
        (
            "aud",
            json!(true),
            "Error in $.aud: parsing StringOrURI failed, expected String, but encountered Boolean",
        ),
        (
            "aud",
            json!([1]),
            "Error in $.aud: parsing StringOrURI failed, expected String, but encountered Array",
        ),
        (
            "aud",
            json!(["x:y z"]),
            "Error in $.aud: parsing StringOrURI failed, expected String, but encountered Array",
        ),
        (
            "exp",
            json!("soon"),
            "Error in $.exp: parsing NumericDate failed, expected Number, but encountered String",
        ),
        (
            "nbf",
            json!([1]),
            "Error in $.nbf: parsing NumericDate failed, expected Number, but encountered Array",
        ),
        (
            "iat",
            json!({}),
            "Error in $.iat: parsing NumericDate failed, expected Number, but encountered Object",
        ),
        (
            "jti",
            json!(5),
            "Error in $.jti: parsing Text failed, expected String, but encountered Number",
        ),
    ] {
        let mut edited = claims();
        edited[claim] = value;
        cases.push((claim, hs256(&edited), claims_set(expected)));
    }
    let mut two_bad = claims();
    two_bad["jti"] = json!(5);
    two_bad["sub"] = json!(5);
    cases.push((
        "the first bad claim in jose's order",
        hs256(&two_bad),
        claims_set(
            "Error in $.sub: parsing StringOrURI failed, expected String, but encountered Number",
        ),
    ));
    for (payload, found) in
        [("\"x\"", "String"), ("7", "Number"), ("null", "Null"), ("[]", "Array")]
    {
        cases.push((
            "payload not an object",
            signed(&json!({"alg": "HS256"}), payload),
            claims_set(&format!(
                "parsing JWT Claims Set failed, expected Object, but encountered {found}"
            )),
        ));
    }
    let authenticator = Setup::hs256().build().await;
    let mut failures = Vec::new();
    for (what, token, expected) in &cases {
        let (code, message, _) = error_of(authenticator.authenticate_now(&bearer(token), now()));
        if code != "invalid-jwt" || message != *expected {
            failures.push(format!("{what}: got {code} {message:?}, want {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {}:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
