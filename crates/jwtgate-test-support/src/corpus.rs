//! The benchmark corpus: named scenarios with fixed keys, configs, tokens, `now` and expected
//! outcomes, shared by the criterion benches and the instruction-count gate.

use serde_json::{Value, json};

use crate::keys::{TestKey, fixture_text, jwks};

/// The `now` of every scenario: Tue, 14 Nov 2023 22:13:20 GMT.
pub const NOW: u64 = 1_700_000_000;
/// The `exp` of the typical token: 2100-01-01, so comparison libraries that read the real clock
/// accept it too.
pub const TYPICAL_EXP: u64 = 4_102_444_800;
/// A 32-byte HS256 secret.
pub const HS256_SECRET: &str = "corpus-hmac-secret-32-bytes-long";

/// What a scenario must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A session with this role.
    Role(&'static str),
    /// A denial with this message.
    Denied(&'static str),
}

/// One named scenario.
pub struct Scenario {
    /// The name benches and the gate report.
    pub name: &'static str,
    /// The token's `alg`.
    pub alg: &'static str,
    /// The key that signed it (for floors and comparisons).
    pub key: TestKey,
    /// The JWT secret config; a JSON array for several secrets.
    pub secret: Value,
    /// The JWKS document, for `jwk_url` secrets.
    pub jwks: Option<String>,
    /// The token.
    pub token: String,
    /// The `x-hasura-role` header, if sent.
    pub role: Option<&'static str>,
    /// The outcome.
    pub expected: Expected,
}

/// The claims of the corpus token `typical`: 7 registered and 4 custom claims, the Hasura
/// namespace holding two role claims and 5 session variables.
pub fn typical_claims() -> Value {
    json!({
        "iss": "https://auth.example.com/",
        "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
        "aud": ["https://api.example.com", "https://example.eu.auth0.com/userinfo"],
        "iat": NOW - 60,
        "nbf": NOW - 60,
        "exp": TYPICAL_EXP,
        "jti": "4f1g23a12aa",
        "name": "Jo Example",
        "email": "jo@example.com",
        "locale": "en-GB",
        "https://hasura.io/jwt/claims": {
            "x-hasura-allowed-roles": ["user", "editor"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": "5f7c8ec7c33c6c004bbafe82",
            "x-hasura-org-id": "42",
            "x-hasura-team-id": "7",
            "x-hasura-plan": "pro",
            "x-hasura-region": "eu-west-1"
        }
    })
}

/// A compact JWS with header `{"alg", "kid", "typ"}`.
pub fn sign(claims: &Value, key: &TestKey, alg: &str) -> String {
    sign_with_header(&json!({"alg": alg, "kid": "corpus-key", "typ": "JWT"}), claims, key, alg)
}

/// A compact JWS with this header.
pub fn sign_with_header(header: &Value, claims: &Value, key: &TestKey, alg: &str) -> String {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let input =
        format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn pem_scenario(name: &'static str, alg: &'static str, key_name: &str, key_type: &str) -> Scenario {
    let key = TestKey::load(key_name);
    Scenario {
        name,
        alg,
        token: sign(&typical_claims(), &key, alg),
        key,
        secret: json!({"type": key_type, "key": fixture_text(&format!("{key_name}.pub.pem"))}),
        jwks: None,
        role: None,
        expected: Expected::Role("user"),
    }
}

fn hs256_scenario(
    name: &'static str,
    claims: &Value,
    secret: Value,
    expected: Expected,
) -> Scenario {
    let key = TestKey::hmac(HS256_SECRET.as_bytes());
    Scenario {
        name,
        alg: "HS256",
        token: sign(claims, &key, "HS256"),
        key,
        secret,
        jwks: None,
        role: None,
        expected,
    }
}

/// The verify-and-resolve scenarios of the typical token, one per algorithm family.
pub fn typical() -> Vec<Scenario> {
    vec![
        hs256_scenario(
            "hs256",
            &typical_claims(),
            json!({"type": "HS256", "key": HS256_SECRET}),
            Expected::Role("user"),
        ),
        pem_scenario("rs256", "RS256", "rsa-2048", "RS256"),
        pem_scenario("ps256", "PS256", "rsa-2048", "PS256"),
        pem_scenario("es256", "ES256", "ec-p256", "ES256"),
        pem_scenario("es384", "ES384", "ec-p384", "ES384"),
        pem_scenario("es512", "ES512", "ec-p521", "ES512"),
        pem_scenario("ed25519", "EdDSA", "ed25519", "Ed25519"),
    ]
}

/// The keys of a published set of 1 000 HS256 keys, `k0` to `k999` (D19 keeps the first 100).
const LARGE_SET_KEYS: usize = 1000;

/// A token no key of the 1 000-key set signed, its header naming `kid` (or none): what a
/// forger sends to make jwtgate try keys.
fn forged_against_a_large_set(name: &'static str, kid: Option<&str>) -> Scenario {
    let set_key = |index: usize| {
        TestKey::hmac(format!("large-set-key-{index:05}-of-32-bytes-at-least").as_bytes())
    };
    let keys: Vec<Value> = (0..LARGE_SET_KEYS)
        .map(|index| set_key(index).jwk_with_kid(&format!("k{index}")))
        .collect();
    let forger = TestKey::hmac(b"a-forger-secret-of-32-bytes-long");
    let mut header = json!({"alg": "HS256", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    Scenario {
        name,
        alg: "HS256",
        token: sign_with_header(&header, &typical_claims(), &forger, "HS256"),
        key: forger,
        secret: json!({"jwk_url": "https://keys.example.com/.well-known/jwks.json"}),
        jwks: Some(jwks(&keys)),
        role: None,
        expected: Expected::Denied("Could not verify JWT: JWSError JWSInvalidSignature"),
    }
}

/// Every scenario: the typical ones, `claims_map` with 10 paths, `stringified_json`, a JWKS key,
/// the two common rejections, forged tokens against a 1 000-key set with and without a `kid`
/// (D19: one key tried, then at most 100), a genuine token against a 100-key set with and
/// without a `kid` (one key tried, then all 100), and three secrets told apart by `issuer`.
#[expect(clippy::too_many_lines, reason = "the corpus is one table of scenarios")]
pub fn all() -> Vec<Scenario> {
    let mut scenarios = typical();
    let mut map = serde_json::Map::new();
    map.insert("x-hasura-allowed-roles".into(), json!({"path": "$.roles"}));
    map.insert("x-hasura-default-role".into(), json!({"path": "$.profile.role"}));
    let mut claims = typical_claims();
    claims["roles"] = json!(["user", "editor"]);
    claims["profile"] =
        json!({"role": "user", "ids": {"org": "42", "team": "7"}, "tags": ["a", "b", "c"]});
    for (variable, path) in [
        ("x-hasura-user-id", "$.sub"),
        ("x-hasura-org-id", "$.profile.ids.org"),
        ("x-hasura-team-id", "$.profile.ids.team"),
        ("x-hasura-email", "$.email"),
        ("x-hasura-name", "$.name"),
        ("x-hasura-locale", "$.locale"),
        ("x-hasura-first-tag", "$.profile.tags[0]"),
        ("x-hasura-issuer", "$.iss"),
    ] {
        map.insert(variable.into(), json!({"path": path}));
    }
    scenarios.push(hs256_scenario(
        "claims_map_10_paths",
        &claims,
        json!({"type": "HS256", "key": HS256_SECRET, "claims_map": map}),
        Expected::Role("user"),
    ));
    let mut stringified = typical_claims();
    let namespace = stringified["https://hasura.io/jwt/claims"].to_string();
    stringified["https://hasura.io/jwt/claims"] = Value::String(namespace);
    scenarios.push(hs256_scenario(
        "stringified_json",
        &stringified,
        json!({"type": "HS256", "key": HS256_SECRET, "claims_format": "stringified_json"}),
        Expected::Role("user"),
    ));
    let es256 = TestKey::load("ec-p256");
    scenarios.push(Scenario {
        name: "jwks_es256",
        alg: "ES256",
        token: sign(&typical_claims(), &es256, "ES256"),
        jwks: Some(jwks(&[
            TestKey::load("ed25519").jwk_with_kid("other"),
            es256.jwk_with_kid("corpus-key"),
        ])),
        key: es256,
        secret: json!({"jwk_url": "https://keys.example.com/.well-known/jwks.json"}),
        role: None,
        expected: Expected::Role("user"),
    });
    let mut expired = typical_claims();
    expired["exp"] = json!(NOW - 1);
    scenarios.push(hs256_scenario(
        "rejected_expired",
        &expired,
        json!({"type": "HS256", "key": HS256_SECRET}),
        Expected::Denied("Could not verify JWT: JWTExpired"),
    ));
    let wrong = TestKey::hmac(b"a-different-secret-of-32-bytes!!");
    scenarios.push(Scenario {
        name: "rejected_bad_signature",
        alg: "HS256",
        token: sign(&typical_claims(), &wrong, "HS256"),
        key: wrong,
        secret: json!({"type": "HS256", "key": HS256_SECRET}),
        jwks: None,
        role: None,
        expected: Expected::Denied("Could not verify JWT: JWSError JWSInvalidSignature"),
    });
    scenarios.push(forged_against_a_large_set("forged_kid_1000_key_set", Some("k7")));
    scenarios.push(forged_against_a_large_set("forged_no_kid_1000_key_set", None));
    scenarios.push(signed_by_a_hundred_key_set("key_set_100_kid", true));
    scenarios.push(signed_by_a_hundred_key_set("key_set_100_no_kid", false));
    scenarios.push(three_secrets_by_issuer());
    scenarios
}

/// The keys of a published set of 100 HS256 keys, `h0` to `h99`.
const HUNDRED_KEYS: usize = 100;

/// A genuine token signed by the set's last key: naming its `kid`, one key is tried; without
/// one, every key of the set fitting HS256 is, the signer last.
fn signed_by_a_hundred_key_set(name: &'static str, with_kid: bool) -> Scenario {
    let set_key = |index: usize| {
        TestKey::hmac(format!("hundred-set-key-{index:03}-of-32-bytes-min").as_bytes())
    };
    let keys: Vec<Value> =
        (0..HUNDRED_KEYS).map(|index| set_key(index).jwk_with_kid(&format!("h{index}"))).collect();
    let signer = set_key(HUNDRED_KEYS - 1);
    let mut header = json!({"alg": "HS256", "typ": "JWT"});
    if with_kid {
        header["kid"] = json!(format!("h{}", HUNDRED_KEYS - 1));
    }
    Scenario {
        name,
        alg: "HS256",
        token: sign_with_header(&header, &typical_claims(), &signer, "HS256"),
        key: signer,
        secret: json!({"jwk_url": "https://keys.example.com/.well-known/jwks.json"}),
        jwks: Some(jwks(&keys)),
        role: None,
        expected: Expected::Role("user"),
    }
}

/// Three secrets, the typical token's `iss` choosing the last (the issuer pre-match of several
/// secrets): `secret` is then a JSON array, the list form of `HASURA_GRAPHQL_JWT_SECRETS`.
fn three_secrets_by_issuer() -> Scenario {
    let key = TestKey::hmac(HS256_SECRET.as_bytes());
    Scenario {
        name: "three_secrets_by_issuer",
        alg: "HS256",
        token: sign(&typical_claims(), &key, "HS256"),
        key,
        secret: json!([
            {"type": "HS256", "key": "another-hmac-secret-of-32-bytes!", "issuer": "https://other.example.com/"},
            {"type": "RS256", "key": fixture_text("rsa-2048.pub.pem"), "issuer": "https://third.example.com/"},
            {"type": "HS256", "key": HS256_SECRET, "issuer": "https://auth.example.com/"},
        ]),
        jwks: None,
        role: None,
        expected: Expected::Role("user"),
    }
}
