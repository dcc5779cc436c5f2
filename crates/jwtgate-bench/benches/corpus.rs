//! Every corpus scenario's `Authenticator::authenticate`, next to its floor (the bare aws-lc-rs
//! signature check on the same token) and to `jsonwebtoken::decode::<Value>` plus the same
//! claims resolution where jsonwebtoken has the algorithm; and a repeated request answered from
//! the cache.
//!
//! Run with `cargo bench -p jwtgate-bench`; compare ratios within one run.

#![expect(clippy::expect_used, reason = "a bench fails by panicking on a broken corpus")]

use std::hint::black_box;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use jwtgate_bench::prepare;
use jwtgate_claims::ClaimsSet;
use jwtgate_config::parse_jwt_secret;
use jwtgate_test_support::corpus::{self, Expected, Scenario};
use jwtgate_test_support::keys::fixture_text;

/// The bare signature check: a key prepared outside the loop, the signature decoded outside it.
type SignatureCheck = Box<dyn Fn(&[u8], &[u8]) -> bool>;

struct Floor {
    check: SignatureCheck,
    input: Vec<u8>,
    signature: Vec<u8>,
}

fn floor(scenario: &Scenario) -> Floor {
    let (input, signature) = scenario.token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let key = scenario.key.public_key_bytes();
    let check: SignatureCheck = if scenario.alg == "HS256" {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        Box::new(move |input, signature| hmac::verify(&key, input, signature).is_ok())
    } else {
        let algorithm: &'static dyn VerificationAlgorithm = match scenario.alg {
            "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
            "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
            "ES256" => &signature::ECDSA_P256_SHA256_FIXED,
            "ES384" => &signature::ECDSA_P384_SHA384_FIXED,
            "ES512" => &signature::ECDSA_P521_SHA512_FIXED,
            "EdDSA" => &signature::ED25519,
            other => unreachable!("no floor for {other}"),
        };
        let key = ParsedPublicKey::new(algorithm, key).expect("corpus keys parse");
        Box::new(move |input, signature| key.verify_sig(input, signature).is_ok())
    };
    Floor { check, input: input.as_bytes().to_vec(), signature }
}

/// `jsonwebtoken::decode::<Value>` with jwtgate's rules (no leeway, no required claims, no
/// audience check) and then the same claims resolution; `None` where jsonwebtoken lacks the
/// algorithm (ES512).
fn jsonwebtoken_path(scenario: &Scenario) -> Option<impl Fn() -> bool> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let (algorithm, key) = match scenario.alg {
        "HS256" => (Algorithm::HS256, DecodingKey::from_secret(&scenario.key.public_key_bytes())),
        "RS256" | "PS256" => {
            let key =
                DecodingKey::from_rsa_pem(fixture_text("rsa-2048.pub.pem").as_bytes()).ok()?;
            (if scenario.alg == "RS256" { Algorithm::RS256 } else { Algorithm::PS256 }, key)
        }
        "ES256" => (
            Algorithm::ES256,
            DecodingKey::from_ec_pem(fixture_text("ec-p256.pub.pem").as_bytes()).ok()?,
        ),
        "ES384" => (
            Algorithm::ES384,
            DecodingKey::from_ec_pem(fixture_text("ec-p384.pub.pem").as_bytes()).ok()?,
        ),
        "EdDSA" => (
            Algorithm::EdDSA,
            DecodingKey::from_ed_pem(fixture_text("ed25519.pub.pem").as_bytes()).ok()?,
        ),
        _ => return None,
    };
    let mut validation = Validation::new(algorithm);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.validate_nbf = true;
    validation.required_spec_claims.clear();
    let secret = parse_jwt_secret(&scenario.secret.to_string()).ok()?;
    let token = scenario.token.clone();
    Some(move || {
        let Ok(data) = decode::<serde_json::Value>(&token, &key, &validation) else { return false };
        let text = data.claims.to_string();
        let Ok(claims) = ClaimsSet::parse(&text) else { return false };
        jwtgate_claims::resolve(&claims, secret.claims(), None).is_ok()
    })
}

/// What reading any token costs before a verifier's own work: its three parts base64url-decoded
/// (the same SIMD decoder) and its header and payload parsed as JSON, the payload's values left
/// as raw text (`ClaimsSet::parse`, the one pass jwtgate makes). The time between this plus the
/// signature floor and `authenticate` is jwtgate's own.
fn decode_parse(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let decode = |part: &str| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(part).ok();
    let (Some(header), Some(payload), Some(signature)) =
        (decode(header), decode(payload), decode(signature))
    else {
        return false;
    };
    let header_ok = serde_json::from_slice::<serde::de::IgnoredAny>(&header).is_ok();
    let payload = String::from_utf8(payload).unwrap_or_default();
    header_ok && ClaimsSet::parse(&payload).is_ok() && !signature.is_empty()
}

fn corpus(c: &mut Criterion) {
    for scenario in corpus::all() {
        // `prepare` asserts the scenario's outcome before anything is timed.
        let prepared = prepare(scenario.name);
        let mut group = c.benchmark_group(scenario.name);
        group.bench_function("authenticate", |b| b.iter(|| prepared.run()));
        if matches!(scenario.expected, Expected::Role(_)) {
            let floor = floor(&scenario);
            assert!((floor.check)(&floor.input, &floor.signature), "{}: floor", scenario.name);
            group.bench_function("floor_aws_lc_verify", |b| {
                b.iter(|| (floor.check)(black_box(&floor.input), black_box(&floor.signature)));
            });
            assert!(decode_parse(&scenario.token), "{}: decode and parse", scenario.name);
            group.bench_function("floor_decode_parse", |b| {
                b.iter(|| decode_parse(black_box(&scenario.token)));
            });
            if let Some(jsonwebtoken) = jsonwebtoken_path(&scenario) {
                assert!(jsonwebtoken(), "{}: jsonwebtoken path", scenario.name);
                group.bench_function("jsonwebtoken_decode_resolve", |b| b.iter(&jsonwebtoken));
            }
        }
        group.finish();
    }
    for derived in jwtgate_bench::DERIVED {
        let prepared = prepare(derived);
        c.bench_function(&format!("{derived}/authenticate"), |b| b.iter(|| prepared.run()));
    }
}

criterion_group!(benches, corpus);
criterion_main!(benches);
