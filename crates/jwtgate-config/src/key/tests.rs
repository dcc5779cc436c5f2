//! Keys from every accepted form verify what they should, and only that.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

use super::*;

macro_rules! key_file {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/keys/", $name))
    };
}

const MESSAGE: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0";

fn private_der(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).unwrap().into_contents()
}

fn algs(key: &VerifyingKey) -> Vec<&'static str> {
    key.algorithms().map(Algorithm::name).collect()
}

/// Verifies `signature` with exactly `alg`, and checks that a changed message or any other
/// algorithm is refused.
#[track_caller]
fn assert_verifies_only(key: &VerifyingKey, alg: Algorithm, signature: &[u8]) {
    assert!(key.verify(alg, MESSAGE, signature), "{alg} should verify");
    assert!(!key.verify(alg, b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkxIn0", signature));
    for other in Algorithm::ALL.into_iter().filter(|&other| other != alg) {
        assert!(
            !key.verify(other, MESSAGE, signature),
            "{other} must not verify an {alg} signature"
        );
    }
}

fn rsa_sign(encoding: &'static dyn sig::RsaEncoding) -> Vec<u8> {
    let pair = RsaKeyPair::from_pkcs8(&private_der(key_file!("rsa-2048.key.pem"))).unwrap();
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(encoding, &SystemRandom::new(), MESSAGE, &mut signature).unwrap();
    signature
}

#[test]
fn rsa_2048_from_spki_pkcs1_and_certificate() {
    for text in [
        key_file!("rsa-2048.pub.pem"),
        key_file!("rsa-2048.pkcs1.pem"),
        key_file!("rsa-2048.cert.pem"),
    ] {
        let key = VerifyingKey::from_pem(text).unwrap();
        assert_eq!(key.kind(), KeyKind::Rsa { bits: 2048 });
        assert_eq!(algs(&key), ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]);
        for (alg, encoding) in [
            (Algorithm::Rs256, &sig::RSA_PKCS1_SHA256 as &'static dyn sig::RsaEncoding),
            (Algorithm::Rs384, &sig::RSA_PKCS1_SHA384),
            (Algorithm::Rs512, &sig::RSA_PKCS1_SHA512),
            (Algorithm::Ps256, &sig::RSA_PSS_SHA256),
            (Algorithm::Ps384, &sig::RSA_PSS_SHA384),
            (Algorithm::Ps512, &sig::RSA_PSS_SHA512),
        ] {
            assert_verifies_only(&key, alg, &rsa_sign(encoding));
        }
    }
}

#[test]
fn rsa_1024_verifies_rs256_and_rs512_only() {
    let key = VerifyingKey::from_pem(key_file!("rsa-1024.pub.pem")).unwrap();
    assert_eq!(key.kind(), KeyKind::Rsa { bits: 1024 });
    assert_eq!(algs(&key), ["RS256", "RS512"]);
    let rs256 = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/keys/rsa-1024.rs256.sig"
    ));
    let rs512 = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/keys/rsa-1024.rs512.sig"
    ));
    assert_verifies_only(&key, Algorithm::Rs256, rs256);
    assert_verifies_only(&key, Algorithm::Rs512, rs512);
}

#[test]
fn rsa_under_1024_bits_is_refused() {
    assert_eq!(
        VerifyingKey::from_pem(key_file!("rsa-512.pub.pem")).unwrap_err().to_string(),
        "RSA key too small (512 bits)"
    );
}

#[test]
fn ecdsa_on_each_curve_from_spki_and_certificate() {
    let cases = [
        (
            key_file!("ec-p256.key.pem"),
            [key_file!("ec-p256.pub.pem"), key_file!("ec-p256.cert.pem")],
            EcCurve::P256,
            Algorithm::Es256,
            &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
        ),
        (
            key_file!("ec-p384.key.pem"),
            [key_file!("ec-p384.pub.pem"), key_file!("ec-p384.cert.pem")],
            EcCurve::P384,
            Algorithm::Es384,
            &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
        ),
        (
            key_file!("ec-p521.key.pem"),
            [key_file!("ec-p521.pub.pem"), key_file!("ec-p521.cert.pem")],
            EcCurve::P521,
            Algorithm::Es512,
            &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
        ),
    ];
    for (private, publics, curve, alg, signing) in cases {
        let pair = EcdsaKeyPair::from_pkcs8(signing, &private_der(private)).unwrap();
        let signature = pair.sign(&SystemRandom::new(), MESSAGE).unwrap();
        for text in publics {
            let key = VerifyingKey::from_pem(text).unwrap();
            assert_eq!(key.kind(), KeyKind::Ec(curve));
            assert_eq!(algs(&key), [alg.name()]);
            assert_verifies_only(&key, alg, signature.as_ref());
        }
        let from_point = VerifyingKey::from_ec_point(curve, pair.public_key().as_ref()).unwrap();
        assert_verifies_only(&from_point, alg, signature.as_ref());
    }
}

#[test]
fn ed25519_from_spki_certificate_and_raw_bytes() {
    let pair =
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(&private_der(key_file!("ed25519.key.pem")))
            .unwrap();
    let signature = pair.sign(MESSAGE);
    for text in [key_file!("ed25519.pub.pem"), key_file!("ed25519.cert.pem")] {
        let key = VerifyingKey::from_pem(text).unwrap();
        assert_eq!(key.kind(), KeyKind::Ed25519);
        assert_verifies_only(&key, Algorithm::EdDsa, signature.as_ref());
    }
    let raw = VerifyingKey::from_ed25519(pair.public_key().as_ref()).unwrap();
    assert_verifies_only(&raw, Algorithm::EdDsa, signature.as_ref());
    assert!(VerifyingKey::from_ed25519(&[0; 31]).is_err());
}

#[test]
fn ed25519_keys_of_small_order_are_refused() {
    // The attack D18 closes: with the identity key, R = identity and S = 0 verify any message.
    let identity: [u8; 32] = std::array::from_fn(|i| u8::from(i == 0));
    let mut forged = [0_u8; 64];
    forged[0] = 1;
    let raw = sig::UnparsedPublicKey::new(&sig::ED25519, identity);
    assert!(raw.verify(MESSAGE, &forged).is_ok(), "aws-lc-rs alone accepts the forgery");

    let mut blocklist = vec![[0_u8; 32], identity];
    for hex in [
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ] {
        let bytes: Vec<u8> =
            (0..32).map(|at| u8::from_str_radix(&hex[at * 2..at * 2 + 2], 16).unwrap()).collect();
        blocklist.push(bytes.try_into().unwrap());
    }
    for entry in blocklist {
        let mut signed_x = entry;
        signed_x[31] |= 0x80;
        for bytes in [entry, signed_x] {
            assert_eq!(VerifyingKey::from_ed25519(&bytes).unwrap_err(), KeyError::WeakEd25519);
        }
    }
    for text in [key_file!("ed25519-identity.pub.pem"), key_file!("ed25519-identity.cert.pem")] {
        assert_eq!(VerifyingKey::from_pem(text).unwrap_err(), KeyError::WeakEd25519);
    }
    assert_eq!(KeyError::WeakEd25519.to_string(), "weak Ed25519 public key");
}

#[test]
fn hmac_algorithms_follow_the_secret_length() {
    for (len, expected) in [
        (31, &[][..]),
        (32, &["HS256"][..]),
        (48, &["HS256", "HS384"][..]),
        (64, &["HS256", "HS384", "HS512"][..]),
    ] {
        let secret = vec![b'k'; len];
        let key = VerifyingKey::from_hmac_secret(&secret);
        assert_eq!(key.kind(), KeyKind::Hmac { len });
        assert_eq!(algs(&key), expected, "{len}-byte secret");
    }
    let secret = [b'k'; 32];
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), MESSAGE);
    assert_verifies_only(&VerifyingKey::from_hmac_secret(&secret), Algorithm::Hs256, tag.as_ref());
}

#[test]
fn rsa_components_with_leading_zero_match_the_pem_key() {
    let pair = RsaKeyPair::from_pkcs8(&private_der(key_file!("rsa-2048.key.pem"))).unwrap();
    let components = pair.public_key();
    let modulus = components.modulus().big_endian_without_leading_zero();
    let exponent = components.exponent().big_endian_without_leading_zero();
    let mut padded = vec![0];
    padded.extend_from_slice(modulus);
    let key = VerifyingKey::from_rsa_components(&padded, exponent).unwrap();
    assert_eq!(key.kind(), KeyKind::Rsa { bits: 2048 });
    assert_verifies_only(&key, Algorithm::Rs256, &rsa_sign(&sig::RSA_PKCS1_SHA256));
}

#[test]
fn unusable_pem_gives_a_clear_reason() {
    let reason = |text: &str| VerifyingKey::from_pem(text).unwrap_err().to_string();
    assert_eq!(reason("not a key"), "Could not decode PEM: No pem found No pem found");
    assert_eq!(reason(""), "Could not decode PEM: No pem found No pem found");
    assert!(reason(key_file!("rsa-2048.key.pem")).contains("private key (PRIVATE KEY)"));
    assert!(reason(key_file!("ec-p256.key.pem")).contains("private key"));
    assert_eq!(
        reason(key_file!("secp256k1.pub.pem")),
        "Could not decode PEM: Error getting EC parameters from the public key"
    );
    assert_eq!(
        reason(key_file!("ed448.pub.pem")),
        "Could not decode PEM: This key type is not supported"
    );
    assert_eq!(
        reason(key_file!("ed448.cert.pem")),
        "Could not decode PEM: Could not decode RSA, EdDSA or EC public key from x509 cert"
    );
    assert!(
        reason("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .starts_with("Could not decode PEM: the PUBLIC KEY PEM block is neither")
    );
    assert!(
        reason("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")
            .starts_with("Could not decode PEM: malformed PEM")
    );
}

#[test]
fn debug_shows_no_key_material() {
    let shown =
        format!("{:?}", VerifyingKey::from_hmac_secret(b"a-very-secret-hmac-key-of-32-bytes!"));
    assert_eq!(shown, r#"VerifyingKey { kind: Hmac { len: 35 }, algorithms: ["HS256"], .. }"#);
}

#[test]
fn pem_with_crlf_and_surrounding_text_reads_the_first_block() {
    let crlf = key_file!("ec-p256.pub.pem").replace('\n', "\r\n");
    assert_eq!(VerifyingKey::from_pem(&crlf).unwrap().kind(), KeyKind::Ec(EcCurve::P256));
    let annotated = format!(
        "Certificate:\n    Subject: CN=jwtgate test key\n{}{}",
        key_file!("ed25519.cert.pem"),
        key_file!("rsa-2048.pub.pem")
    );
    assert_eq!(VerifyingKey::from_pem(&annotated).unwrap().kind(), KeyKind::Ed25519);
}

/// Decodes unpadded base64url (the RFC vectors' encoding) without a dependency.
fn base64url(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url: {c}"),
    };
    let mut bits = 0_u32;
    let mut count = 0;
    let mut out = Vec::new();
    for &c in text.as_bytes() {
        bits = (bits << 6) | u32::from(value(c));
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).unwrap());
        }
    }
    out
}

/// Checks a published compact JWS verifies as published and not after one flipped bit.
fn assert_known_answer(key: &VerifyingKey, alg: Algorithm, token: &str) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut signature = base64url(signature);
    assert!(key.verify(alg, input.as_bytes(), &signature), "{alg:?}: the published signature");
    signature[10] ^= 0x01;
    assert!(!key.verify(alg, input.as_bytes(), &signature), "{alg:?}: a flipped bit");
}

#[test]
fn rfc7515_a4_es512_known_answer() {
    let x = base64url(
        "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
    );
    let y = base64url(
        "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2",
    );
    let key = VerifyingKey::from_ec_coordinates(EcCurve::P521, &x, &y).unwrap();
    assert_known_answer(
        &key,
        Algorithm::Es512,
        "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZq\
         wqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn",
    );
}

#[test]
fn rfc8037_a4_ed25519_known_answer() {
    let key = VerifyingKey::from_ed25519(&base64url("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
        .unwrap();
    assert_known_answer(
        &key,
        Algorithm::EdDsa,
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbh\
         ijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
    );
}
