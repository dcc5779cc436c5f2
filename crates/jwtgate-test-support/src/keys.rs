//! The fixture keys (`fixtures/keys/`) as signers and as JWKs, for tests that need real
//! signatures and real key sets.

use std::fs;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pkcs1::der::Decode as _;
use serde_json::{Map, Value, json};

use crate::fixtures_dir;

/// A private key from `fixtures/keys/<name>.key.pem`, or an HMAC secret.
pub enum TestKey {
    /// An RSA key pair.
    Rsa(RsaKeyPair),
    /// An ECDSA key pair, with the JWK curve name and the JWS algorithm it signs.
    Ec(EcdsaKeyPair, &'static str, &'static str),
    /// An Ed25519 key pair.
    Ed25519(Ed25519KeyPair),
    /// An HMAC secret.
    Hmac(Vec<u8>),
}

/// The text of `fixtures/keys/<file>`.
///
/// # Panics
/// When the file is missing.
pub fn fixture_text(file: &str) -> String {
    let path = fixtures_dir().join("keys").join(file);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The PEM file `fixtures/keys/<file>` as DER.
///
/// # Panics
/// When the file is missing or not PEM.
pub fn fixture_der(file: &str) -> Vec<u8> {
    let path = fixtures_dir().join("keys").join(file);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    pem::parse(text).unwrap_or_else(|error| panic!("{}: {error}", path.display())).into_contents()
}

impl TestKey {
    /// Loads `rsa-2048`, `rsa-2048-next`, `rsa-1024`, `ec-p256`, `ec-p384`, `ec-p521` or
    /// `ed25519`.
    ///
    /// # Panics
    /// For another name or an unreadable file.
    pub fn load(name: &str) -> Self {
        let der = fixture_der(&format!("{name}.key.pem"));
        let ec = |alg: &'static signature::EcdsaSigningAlgorithm, crv, jws| {
            Self::Ec(
                EcdsaKeyPair::from_pkcs8(alg, &der).unwrap_or_else(|e| panic!("{name}: {e}")),
                crv,
                jws,
            )
        };
        match name {
            "rsa-2048" | "rsa-2048-next" | "rsa-1024" => {
                Self::Rsa(RsaKeyPair::from_pkcs8(&der).unwrap_or_else(|e| panic!("{name}: {e}")))
            }
            "ec-p256" => ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", "ES256"),
            "ec-p384" => ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", "ES384"),
            "ec-p521" => ec(&signature::ECDSA_P521_SHA512_FIXED_SIGNING, "P-521", "ES512"),
            "ed25519" => Self::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .unwrap_or_else(|e| panic!("{name}: {e}")),
            ),
            other => panic!("no fixture key {other:?}"),
        }
    }

    /// An HMAC secret of these bytes.
    pub fn hmac(secret: &[u8]) -> Self {
        Self::Hmac(secret.to_vec())
    }

    /// Signs `message` with the JWS algorithm `alg` (which must fit the key).
    ///
    /// # Panics
    /// When `alg` does not fit the key.
    pub fn sign(&self, alg: &str, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Rsa(key) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    "PS512" => &signature::RSA_PSS_SHA512,
                    other => panic!("an RSA key cannot sign {other}"),
                };
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(padding, &rng, message, &mut signature).unwrap_or_else(|e| panic!("{e}"));
                signature
            }
            Self::Ec(key, _, jws) => {
                assert_eq!(alg, *jws, "this EC key signs {jws}");
                key.sign(&rng, message).unwrap_or_else(|e| panic!("{e}")).as_ref().to_vec()
            }
            Self::Ed25519(key) => {
                assert_eq!(alg, "EdDSA", "an Ed25519 key signs EdDSA");
                key.sign(message).as_ref().to_vec()
            }
            Self::Hmac(secret) => {
                let hash = match alg {
                    "HS256" => aws_lc_rs::hmac::HMAC_SHA256,
                    "HS384" => aws_lc_rs::hmac::HMAC_SHA384,
                    "HS512" => aws_lc_rs::hmac::HMAC_SHA512,
                    other => panic!("an HMAC secret cannot sign {other}"),
                };
                aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(hash, secret), message)
                    .as_ref()
                    .to_vec()
            }
        }
    }

    /// The public key as aws-lc-rs reads it: PKCS#1 DER for RSA, the SEC1 point for EC, the 32
    /// raw bytes for Ed25519, the secret for HMAC.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match self {
            Self::Rsa(key) => key.public_key().as_ref().to_vec(),
            Self::Ec(key, _, _) => key.public_key().as_ref().to_vec(),
            Self::Ed25519(key) => key.public_key().as_ref().to_vec(),
            Self::Hmac(secret) => secret.clone(),
        }
    }

    /// The public JWK members of this key (no `kid`, `alg` or `use`).
    pub fn jwk(&self) -> Map<String, Value> {
        let b64 = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
        let value = match self {
            Self::Rsa(key) => {
                let der = key.public_key().as_ref();
                let rsa = pkcs1::RsaPublicKeyRef::from_der(der).unwrap_or_else(|e| panic!("{e}"));
                json!({"kty": "RSA", "n": b64(rsa.modulus.as_bytes()), "e": b64(rsa.public_exponent.as_bytes())})
            }
            Self::Ec(key, crv, _) => {
                let point = key.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                json!({"kty": "EC", "crv": crv, "x": b64(&point[1..=half]), "y": b64(&point[1 + half..])})
            }
            Self::Ed25519(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_key().as_ref())})
            }
            Self::Hmac(secret) => json!({"kty": "oct", "k": b64(secret)}),
        };
        match value {
            Value::Object(members) => members,
            _ => unreachable!("every arm builds an object"),
        }
    }

    /// The public JWK with a `kid`.
    pub fn jwk_with_kid(&self, kid: &str) -> Value {
        let mut members = self.jwk();
        members.insert("kid".to_owned(), Value::String(kid.to_owned()));
        Value::Object(members)
    }
}

/// The certificate `fixtures/keys/<name>.cert.pem` as an `x5c` entry (standard base64 DER).
pub fn x5c_entry(name: &str) -> String {
    STANDARD.encode(fixture_der(&format!("{name}.cert.pem")))
}

/// The `x5t` (SHA-1) or, with `sha256`, the `x5t#S256` thumbprint of the certificate
/// `fixtures/keys/<name>.cert.pem`, base64url as a JWK carries it.
pub fn x5t(name: &str, sha256: bool) -> String {
    let algorithm = if sha256 {
        &aws_lc_rs::digest::SHA256
    } else {
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY
    };
    URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(algorithm, &fixture_der(&format!("{name}.cert.pem"))))
}

/// A JWKS document holding these JWKs.
pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}
