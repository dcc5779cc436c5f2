//! Key set parsing: every supported key type verifies, real-world shapes are read, unusable keys
//! are skipped with their reason while the rest serve (D7).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwtgate_config::{Algorithm, KeyKind};
use jwtgate_test_support::keys::{TestKey, jwks, x5c_entry};
use serde_json::{Value, json};

use super::*;

const MESSAGE: &[u8] = b"header.payload";

fn parse(keys: &[Value]) -> JwkSet {
    JwkSet::parse(jwks(keys).as_bytes()).unwrap()
}

/// The key verifies a signature made with `alg` by `signer`, and not after one flipped bit.
fn assert_verifies(key: &VerifyingKey, signer: &TestKey, alg: Algorithm) {
    let mut signature = signer.sign(alg.name(), MESSAGE);
    assert!(key.verify(alg, MESSAGE, &signature), "{alg:?} should verify");
    signature[0] ^= 1;
    assert!(!key.verify(alg, MESSAGE, &signature), "{alg:?} verified a changed signature");
}

fn with(mut key: Value, member: &str, value: Value) -> Value {
    key.as_object_mut().unwrap().insert(member.to_owned(), value);
    key
}

fn skip_reason(key: Value) -> SkipReason {
    let set = parse(&[key]);
    assert!(set.is_empty(), "the key should have been skipped");
    set.skipped()[0].reason.clone()
}

#[test]
fn every_key_type_becomes_a_verifying_key() {
    let cases = [
        (
            "rsa-2048",
            vec![
                Algorithm::Rs256,
                Algorithm::Rs384,
                Algorithm::Rs512,
                Algorithm::Ps256,
                Algorithm::Ps512,
            ],
        ),
        ("ec-p256", vec![Algorithm::Es256]),
        ("ec-p384", vec![Algorithm::Es384]),
        ("ec-p521", vec![Algorithm::Es512]),
        ("ed25519", vec![Algorithm::EdDsa]),
    ];
    for (name, algorithms) in cases {
        let signer = TestKey::load(name);
        let set = parse(&[signer.jwk_with_kid(name)]);
        assert_eq!(set.len(), 1, "{name}: {:?}", set.skipped());
        assert_eq!(set.keys()[0].kid(), Some(name));
        for alg in algorithms {
            assert_verifies(set.keys()[0].key(), &signer, alg);
        }
    }
}

#[test]
fn an_oct_key_verifies_hmac() {
    let signer = TestKey::hmac(&[7; 64]);
    let set = parse(&[signer.jwk_with_kid("h")]);
    assert_eq!(set.keys()[0].key().kind(), KeyKind::Hmac { len: 64 });
    for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        assert_verifies(set.keys()[0].key(), &signer, alg);
    }
}

#[test]
fn real_world_shapes_are_read() {
    let rsa = TestKey::load("rsa-2048");
    let jwk = Value::Object(rsa.jwk());
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let mut n_with_zero = vec![0];
    n_with_zero.extend_from_slice(&n);
    let thumbprint = URL_SAFE_NO_PAD.encode([9; 20]);
    let shapes = [
        // Firebase App Check: `n` with a leading zero byte (Hasura #9922).
        ("leading zero", with(jwk.clone(), "n", json!(URL_SAFE_NO_PAD.encode(&n_with_zero)))),
        // Cognito identity pools: standard base64 with padding.
        (
            "standard base64",
            with(
                with(jwk.clone(), "n", json!(STANDARD.encode(&n))),
                "e",
                json!(STANDARD.encode(&e)),
            ),
        ),
        // Auth0, Azure AD: the certificate chain and its thumbprints beside the key.
        (
            "x5c and x5t",
            with(
                with(
                    with(jwk.clone(), "x5c", json!([x5c_entry("rsa-2048")])),
                    "x5t",
                    json!(thumbprint),
                ),
                "x5t#S256",
                json!(URL_SAFE_NO_PAD.encode([1; 32])),
            ),
        ),
        ("use sig", with(jwk.clone(), "use", json!("sig"))),
        (
            "alg and key_ops",
            with(with(jwk.clone(), "alg", json!("RS256")), "key_ops", json!(["verify"])),
        ),
        ("extra members", with(with(jwk.clone(), "issuer", json!("x")), "n2", json!(7))),
    ];
    for (shape, key) in shapes {
        let set = parse(&[key]);
        assert_eq!(set.len(), 1, "{shape}: {:?}", set.skipped());
        assert_verifies(set.keys()[0].key(), &rsa, Algorithm::Rs256);
    }
}

#[test]
fn an_ec_certificate_is_checked_against_the_point() {
    let ec = TestKey::load("ec-p256");
    let good = with(Value::Object(ec.jwk()), "x5c", json!([x5c_entry("ec-p256")]));
    assert_eq!(parse(&[good]).len(), 1);
    let wrong = with(Value::Object(ec.jwk()), "x5c", json!([x5c_entry("ec-p384")]));
    assert_eq!(skip_reason(wrong), SkipReason::CertificateMismatch);
    let ed = TestKey::load("ed25519");
    let good = with(Value::Object(ed.jwk()), "x5c", json!([x5c_entry("ed25519")]));
    assert_eq!(parse(&[good]).len(), 1);
}

#[test]
#[expect(clippy::too_many_lines, reason = "a table of key shapes and their reasons")]
fn unusable_keys_are_skipped_with_a_reason() {
    let rsa = Value::Object(TestKey::load("rsa-2048").jwk());
    let ec = Value::Object(TestKey::load("ec-p256").jwk());
    let cases: Vec<(Value, SkipReason)> = vec![
        (json!("RSA"), SkipReason::NotAnObject),
        (json!({"n": "AQAB"}), SkipReason::Missing("kty")),
        (json!({"kty": 1}), SkipReason::WrongType { member: "kty", expected: "a string" }),
        (json!({"kty": "RSA", "e": "AQAB"}), SkipReason::Missing("n")),
        (with(rsa.clone(), "n", json!("not base64!")), SkipReason::NotBase64("n")),
        (json!({"kty": "XYZ"}), SkipReason::UnsupportedKeyType("XYZ".into())),
        (with(rsa.clone(), "use", json!("enc")), SkipReason::NotForSignatures("enc".into())),
        (with(rsa.clone(), "use", json!("verify")), SkipReason::NotForSignatures("verify".into())),
        (with(rsa.clone(), "key_ops", json!(["encrypt"])), SkipReason::VerifyNotAllowed),
        (with(rsa.clone(), "key_ops", json!([])), SkipReason::VerifyNotAllowed),
        (
            with(rsa.clone(), "alg", json!("RSA-OAEP")),
            SkipReason::AlgorithmNotForThisKey("RSA-OAEP".into()),
        ),
        (
            with(rsa.clone(), "alg", json!("ES256")),
            SkipReason::AlgorithmNotForThisKey("ES256".into()),
        ),
        (
            with(ec.clone(), "alg", json!("ES256K")),
            SkipReason::AlgorithmNotForThisKey("ES256K".into()),
        ),
        (
            json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([0; 32])}),
            SkipReason::Key(KeyError::WeakEd25519),
        ),
        (
            with(rsa.clone(), "key_ops", json!(["check"])),
            SkipReason::UnknownKeyOperation("check".into()),
        ),
        (
            with(rsa.clone(), "key_ops", json!("verify")),
            SkipReason::WrongType { member: "key_ops", expected: "an array of strings" },
        ),
        (with(rsa.clone(), "alg", json!("RS999")), SkipReason::UnknownAlgorithm("RS999".into())),
        (
            with(rsa.clone(), "kid", json!(7)),
            SkipReason::WrongType { member: "kid", expected: "a string" },
        ),
        // Old Auth0 tenants: a hex thumbprint, base64url-encoded (40 bytes, Hasura #4335).
        (
            with(rsa.clone(), "x5t", json!(URL_SAFE_NO_PAD.encode([b'a'; 40]))),
            SkipReason::BadThumbprint { member: "x5t", len: 40, expected: 20 },
        ),
        (with(rsa.clone(), "x5c", json!(["AAAA"])), SkipReason::BadCertificate),
        (with(rsa.clone(), "x5c", json!([x5c_entry("ec-p256")])), SkipReason::CertificateMismatch),
        (
            with(ec.clone(), "crv", json!("secp256k1")),
            SkipReason::UnsupportedCurve("secp256k1".into()),
        ),
        (
            json!({"kty": "OKP", "crv": "Ed448", "x": "AAAA"}),
            SkipReason::UnsupportedCurve("Ed448".into()),
        ),
        (
            with(ec.clone(), "x", json!(URL_SAFE_NO_PAD.encode([1; 33]))),
            SkipReason::CoordinateTooLong { member: "x", len: 33, curve: "P-256", max: 32 },
        ),
        (
            with(ec.clone(), "x", json!(URL_SAFE_NO_PAD.encode([1; 32]))),
            SkipReason::Key(KeyError::Rejected { kind: "EC", reason: "" }),
        ),
    ];
    for (key, expected) in cases {
        let reason = skip_reason(key.clone());
        match (&reason, &expected) {
            // aws-lc-rs's wording is its own; the kind is what matters.
            (
                SkipReason::Key(KeyError::Rejected { kind, .. }),
                SkipReason::Key(KeyError::Rejected { kind: want, .. }),
            ) => {
                assert_eq!(kind, want, "{key}");
            }
            _ => assert_eq!(reason, expected, "{key}"),
        }
    }
}

#[test]
fn a_small_rsa_key_is_skipped_with_the_config_error() {
    let key = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xff; 64]), "e": "AQAB"});
    assert_eq!(skip_reason(key), SkipReason::Key(KeyError::RsaTooSmall { bits: 512 }));
}

#[test]
fn one_bad_key_does_not_spoil_the_set() {
    let good = TestKey::load("ed25519").jwk_with_kid("good");
    let set = parse(&[json!({"kty": "XYZ", "kid": "odd"}), good, json!(null)]);
    assert_eq!(set.len(), 1);
    assert_eq!(set.keys()[0].kid(), Some("good"));
    let skipped: Vec<String> = set.skipped().iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        [r#"keys[0] (kid "odd"): unsupported kty "XYZ""#, "keys[2]: not a JSON object"]
    );
}

#[test]
fn a_document_that_is_not_a_key_set_fails() {
    for body in ["", "junk", "[]", "{}", r#"{"keys": {}}"#, r#"{"keys": [1,]}"#] {
        let error = JwkSet::parse(body.as_bytes()).unwrap_err();
        assert!(matches!(error, JwksError::NotAJwkSet(_)), "{body}");
    }
    assert!(JwkSet::parse(br#"{"keys": [], "other": 1}"#).unwrap().is_empty());
}

#[test]
fn a_keycloak_set_serves_its_signing_key_only() {
    // Keycloak publishes an RSA-OAEP encryption key beside its RS256 signing key.
    let rsa = TestKey::load("rsa-2048");
    let signing = with(with(rsa.jwk_with_kid("sig-1"), "use", json!("sig")), "alg", json!("RS256"));
    let encryption =
        with(with(rsa.jwk_with_kid("enc-1"), "use", json!("enc")), "alg", json!("RSA-OAEP"));
    let set = parse(&[encryption, signing]);
    assert_eq!(set.len(), 1);
    assert_eq!(set.keys()[0].kid(), Some("sig-1"));
    assert_eq!(set.keys()[0].alg(), Some(Algorithm::Rs256));
    assert_eq!(
        set.skipped()[0].to_string(),
        r#"keys[0] (kid "enc-1"): use "enc" is not for signatures"#
    );
}

#[test]
fn a_key_with_an_alg_fits_only_that_alg() {
    let set = parse(&[with(TestKey::load("rsa-2048").jwk_with_kid("k"), "alg", json!("RS256"))]);
    let kids = |alg| set.keys_to_try(Some("k"), alg).count();
    assert_eq!(kids(Algorithm::Rs256), 1);
    assert_eq!(kids(Algorithm::Ps256), 0, "an RSA key pinned to RS256 must not verify PS256");
    assert_eq!(kids(Algorithm::Rs512), 0);
    let unpinned = parse(&[TestKey::load("rsa-2048").jwk_with_kid("k")]);
    assert_eq!(unpinned.keys_to_try(None, Algorithm::Ps256).count(), 1);
}

/// A set of `n` Ed25519 keys with kids `k0`, `k1`, ... and one P-256 key with kid `ec`.
fn large_set(n: usize) -> JwkSet {
    let ed = TestKey::load("ed25519");
    let mut keys: Vec<Value> = (0..n).map(|i| ed.jwk_with_kid(&format!("k{i}"))).collect();
    keys.push(TestKey::load("ec-p256").jwk_with_kid("ec"));
    parse(&keys)
}

#[test]
fn a_set_keeps_its_first_hundred_usable_keys() {
    let set = large_set(1000);
    assert_eq!(set.len(), MAX_USABLE_KEYS);
    assert_eq!(set.keys()[99].kid(), Some("k99"));
    assert_eq!(set.skipped().len(), 901);
    assert_eq!(
        set.skipped()[0].to_string(),
        r#"keys[100] (kid "k100"): more than 100 usable keys"#
    );
    assert!(!set.contains_kid("ec"), "the key after the first hundred is not kept");
}

#[test]
fn the_keys_a_token_may_cost_are_bounded() {
    // Counted, not timed: each key handed out is one signature check for a forged token.
    let set = large_set(1000);
    let tried = |kid, alg| set.keys_to_try(kid, alg).count();
    assert_eq!(tried(Some("k7"), Algorithm::EdDsa), 1, "a kid naming a key costs one check");
    assert_eq!(tried(None, Algorithm::EdDsa), 100, "no kid: at most the hundred kept keys");
    assert_eq!(tried(Some("unknown"), Algorithm::EdDsa), 100, "an unknown kid counts as none");
    assert_eq!(tried(None, Algorithm::Es256), 0, "no kept key fits ES256");
    assert_eq!(tried(Some("k7"), Algorithm::Es256), 0, "the named key does not fit ES256");

    let mixed = parse(&[
        TestKey::load("ec-p256").jwk_with_kid("a"),
        Value::Object(TestKey::load("ed25519").jwk()),
        TestKey::load("ec-p384").jwk_with_kid("b"),
        TestKey::load("ec-p256").jwk_with_kid("b"),
    ]);
    let kids = |kid, alg| {
        mixed.keys_to_try(kid, alg).map(|jwk| jwk.kid().unwrap_or("-")).collect::<Vec<_>>()
    };
    assert_eq!(kids(Some("b"), Algorithm::Es256), ["b"]);
    assert_eq!(kids(Some("b"), Algorithm::Es384), ["b"]);
    assert_eq!(kids(None, Algorithm::Es256), ["a", "b"]);
    assert_eq!(kids(Some("zzz"), Algorithm::EdDsa), ["-"]);
    assert!(mixed.contains_kid("b"));
    assert!(!mixed.contains_kid("-"));
}

#[test]
fn debug_shows_no_key_material() {
    let rsa = TestKey::load("rsa-2048");
    let set = parse(&[rsa.jwk_with_kid("k")]);
    let n = rsa.jwk()["n"].as_str().unwrap().to_owned();
    let debug = format!("{set:?}");
    assert!(debug.contains("\"k\"") && !debug.contains(&n[..20]), "{debug}");
}

fn certificate(name: &str) -> String {
    std::fs::read_to_string(
        jwtgate_test_support::fixtures_dir().join(format!("keys/{name}.cert.pem")),
    )
    .unwrap()
}

#[test]
fn googles_x509_map_is_a_key_set_whose_kids_are_its_members() {
    let body = json!({
        "1e2f3a": certificate("rsa-2048"),
        "4b5c6d": certificate("rsa-2048-next"),
        "ed-1": certificate("ed25519-identity"),
    });
    let set = JwkSet::parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        set.keys().iter().map(Jwk::kid).collect::<Vec<_>>(),
        [Some("1e2f3a"), Some("4b5c6d")]
    );
    assert_verifies(set.keys()[0].key(), &TestKey::load("rsa-2048"), Algorithm::Rs256);
    assert_verifies(set.keys()[1].key(), &TestKey::load("rsa-2048-next"), Algorithm::Rs256);
    assert_eq!(set.keys()[0].alg(), None);
    // A certificate whose key cannot serve is skipped with the config's reason, as in a JWKS.
    assert_eq!(set.skipped().len(), 1);
    assert_eq!(set.skipped()[0].to_string(), r#"keys[2] (kid "ed-1"): weak Ed25519 public key"#);
}

#[test]
fn a_map_with_anything_but_certificates_is_not_a_key_set() {
    let rsa = certificate("rsa-2048");
    for body in [
        json!({"a": rsa, "b": 1}),
        json!({"a": rsa, "b": "-----BEGIN PUBLIC KEY-----\n"}),
        json!({}),
        json!([rsa]),
    ] {
        let error = JwkSet::parse(body.to_string().as_bytes()).unwrap_err();
        assert!(error.to_string().starts_with("not a JWK set: "), "{body}: {error}");
    }
}
