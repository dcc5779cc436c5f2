//! Ready-to-verify keys: an HMAC secret or a public key, parsed once into aws-lc-rs values.
//!
//! A [`VerifyingKey`] is built at configuration or JWKS fetch time and holds one prepared
//! verifier per algorithm the key can check, so verifying a token never parses key material.

mod decode;

use std::fmt;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

use crate::Algorithm;

pub use decode::PemError;

/// The smallest RSA modulus jwtgate accepts (D13).
const RSA_MIN_BITS: u32 = 1024;
/// Moduli from here up verify every RSA algorithm; below it only RS256 and RS512 (D13).
const RSA_MODERN_MIN_BITS: u32 = 2048;
/// The largest modulus aws-lc-rs verifies with.
const RSA_MAX_BITS: u32 = 8192;

/// An elliptic curve jwtgate verifies ECDSA signatures on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256 (`ES256`).
    P256,
    /// NIST P-384 (`ES384`).
    P384,
    /// NIST P-521 (`ES512`).
    P521,
}

impl EcCurve {
    /// The JWK `crv` name (`P-256`, `P-384`, `P-521`).
    pub fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
        }
    }

    /// Reads a JWK `crv` name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::P256, Self::P384, Self::P521].into_iter().find(|curve| curve.name() == name)
    }

    /// The byte length of a coordinate on this curve (a JWK's `x` and `y`, padded).
    pub fn coordinate_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }

    fn algorithm(self) -> (Algorithm, &'static signature::EcdsaVerificationAlgorithm) {
        match self {
            Self::P256 => (Algorithm::Es256, &signature::ECDSA_P256_SHA256_FIXED),
            Self::P384 => (Algorithm::Es384, &signature::ECDSA_P384_SHA384_FIXED),
            Self::P521 => (Algorithm::Es512, &signature::ECDSA_P521_SHA512_FIXED),
        }
    }
}

/// What kind of key a [`VerifyingKey`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// A shared HMAC secret of `len` bytes.
    Hmac {
        /// The secret's length in bytes.
        len: usize,
    },
    /// An RSA public key with a modulus of `bits` bits.
    Rsa {
        /// The modulus size in bits.
        bits: u32,
    },
    /// An ECDSA public key.
    Ec(EcCurve),
    /// An Ed25519 public key.
    Ed25519,
}

/// Why key material could not become a [`VerifyingKey`].
///
/// `Display` gives the reason after Hasura's `Invalid JWK: ` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An HMAC secret shorter than its `type` needs
    /// (docs/compatibility.md 1.3.2; "atleast" is Hasura's).
    #[error("Key size too small; should be atleast {min_len} characters")]
    HmacTooShort {
        /// The minimum length in bytes for the configured `type`.
        min_len: usize,
    },
    /// The PEM text did not hold a usable public key (docs/compatibility.md 1.3.3).
    #[error("Could not decode PEM: {0}")]
    Pem(#[from] PemError),
    /// An RSA modulus under 1024 bits (D13).
    #[error("RSA key too small ({bits} bits)")]
    RsaTooSmall {
        /// The modulus size in bits.
        bits: u32,
    },
    /// An RSA modulus over 8192 bits, which aws-lc-rs cannot verify with.
    #[error("RSA key too large ({bits} bits; at most 8192 are supported)")]
    RsaTooLarge {
        /// The modulus size in bits.
        bits: u32,
    },
    /// An Ed25519 public key of small order, with which forged signatures verify (D18).
    #[error("weak Ed25519 public key")]
    WeakEd25519,
    /// aws-lc-rs rejected the key material (a bad point, exponent or length).
    #[error("the {kind} public key is malformed ({reason})")]
    Rejected {
        /// The kind of key being built (`RSA`, `EC`, `Ed25519`).
        kind: &'static str,
        /// aws-lc-rs's reason.
        reason: &'static str,
    },
}

/// A prepared verifier for one algorithm.
enum Verifier {
    // Boxed: an aws-lc HMAC key is over a kilobyte.
    Hmac(Box<hmac::Key>),
    PublicKey(ParsedPublicKey),
}

/// A key ready to verify JWS signatures: an HMAC secret or a parsed public key.
///
/// Build it once (configuration or JWKS fetch time) and share it; [`VerifyingKey::verify`] does
/// no parsing. Which algorithms a key verifies follows Hasura's library
/// (docs/compatibility.md 3.2): an HMAC secret verifies each `HS*` whose hash is no longer than the secret, an RSA key every
/// `RS*` and `PS*` (under 2048 bits only RS256 and RS512, D13), an EC key the `ES*` of its curve,
/// an Ed25519 key `EdDSA`. `Debug` never shows key material.
pub struct VerifyingKey {
    kind: KeyKind,
    verifiers: Box<[Option<Verifier>; Algorithm::ALL.len()]>,
}

impl VerifyingKey {
    /// An HMAC key from the secret's bytes, used as they are (no base64 decoding).
    ///
    /// Any length is accepted here; the key verifies `HS256` from 32 bytes, `HS384` from 48 and
    /// `HS512` from 64. The configuration's minimum for its `type` is checked by the config parser.
    pub fn from_hmac_secret(secret: &[u8]) -> Self {
        let mut key = Self::empty(KeyKind::Hmac { len: secret.len() });
        for (alg, hmac_alg, min_len) in [
            (Algorithm::Hs256, hmac::HMAC_SHA256, 32),
            (Algorithm::Hs384, hmac::HMAC_SHA384, 48),
            (Algorithm::Hs512, hmac::HMAC_SHA512, 64),
        ] {
            if secret.len() >= min_len {
                key.set(alg, Verifier::Hmac(Box::new(hmac::Key::new(hmac_alg, secret))));
            }
        }
        key
    }

    /// A public key from PEM text, read as Hasura reads it: the first PEM block, whatever its
    /// label, as PKCS#1 `RSAPublicKey`, then SubjectPublicKeyInfo, then an X.509 certificate.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        decode::from_pem(text)
    }

    /// A public key from DER SubjectPublicKeyInfo (RSA, EC on P-256/384/521, or Ed25519).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        decode::from_spki_der(der)
    }

    /// An RSA public key from its big-endian modulus and exponent (leading zero bytes allowed).
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, KeyError> {
        let der = decode::rsa_public_key_der(modulus, exponent)?;
        Self::from_pkcs1_der(&der, significant_bits(modulus))
    }

    /// An ECDSA public key from its SEC1 point encoding (`04 || x || y`).
    pub fn from_ec_point(curve: EcCurve, point: &[u8]) -> Result<Self, KeyError> {
        let (alg, verification) = curve.algorithm();
        let parsed = ParsedPublicKey::new(verification, point)
            .map_err(|error| KeyError::Rejected { kind: "EC", reason: error.description_() })?;
        let mut key = Self::empty(KeyKind::Ec(curve));
        key.set(alg, Verifier::PublicKey(parsed));
        Ok(key)
    }

    /// An ECDSA public key from its affine coordinates (JWK `x` and `y`), each left-padded to
    /// the curve's field size.
    pub fn from_ec_coordinates(curve: EcCurve, x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let mut point = Vec::with_capacity(1 + x.len() + y.len());
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Self::from_ec_point(curve, &point)
    }

    /// An Ed25519 public key from its 32 bytes (JWK `x`). A key of small order is refused:
    /// with the identity key, say, a signature R = identity, S = 0 verifies every message (D18).
    pub fn from_ed25519(public_key: &[u8]) -> Result<Self, KeyError> {
        if is_small_order_ed25519(public_key) {
            return Err(KeyError::WeakEd25519);
        }
        let parsed = ParsedPublicKey::new(&signature::ED25519, public_key).map_err(|error| {
            KeyError::Rejected { kind: "Ed25519", reason: error.description_() }
        })?;
        let mut key = Self::empty(KeyKind::Ed25519);
        key.set(Algorithm::EdDsa, Verifier::PublicKey(parsed));
        Ok(key)
    }

    /// An RSA key from DER PKCS#1 `RSAPublicKey`; `bits` is the modulus size.
    fn from_pkcs1_der(der: &[u8], bits: u32) -> Result<Self, KeyError> {
        if bits < RSA_MIN_BITS {
            return Err(KeyError::RsaTooSmall { bits });
        }
        if bits > RSA_MAX_BITS {
            return Err(KeyError::RsaTooLarge { bits });
        }
        let table: &[(Algorithm, &'static signature::RsaParameters)] =
            if bits >= RSA_MODERN_MIN_BITS {
                &[
                    (Algorithm::Rs256, &signature::RSA_PKCS1_2048_8192_SHA256),
                    (Algorithm::Rs384, &signature::RSA_PKCS1_2048_8192_SHA384),
                    (Algorithm::Rs512, &signature::RSA_PKCS1_2048_8192_SHA512),
                    (Algorithm::Ps256, &signature::RSA_PSS_2048_8192_SHA256),
                    (Algorithm::Ps384, &signature::RSA_PSS_2048_8192_SHA384),
                    (Algorithm::Ps512, &signature::RSA_PSS_2048_8192_SHA512),
                ]
            } else {
                // aws-lc-rs verifies 1024-2047 bit keys only with these legacy parameters (D13).
                &[
                    (Algorithm::Rs256, &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
                    (Algorithm::Rs512, &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
                ]
            };
        let mut key = Self::empty(KeyKind::Rsa { bits });
        for &(alg, parameters) in table {
            let verification: &'static dyn VerificationAlgorithm = parameters;
            let parsed = ParsedPublicKey::new(verification, der).map_err(|error| {
                KeyError::Rejected { kind: "RSA", reason: error.description_() }
            })?;
            key.set(alg, Verifier::PublicKey(parsed));
        }
        Ok(key)
    }

    fn empty(kind: KeyKind) -> Self {
        Self { kind, verifiers: Box::default() }
    }

    fn set(&mut self, alg: Algorithm, verifier: Verifier) {
        if let Some(slot) = self.verifiers.get_mut(alg.index()) {
            *slot = Some(verifier);
        }
    }

    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Whether this key can verify signatures made with `alg`.
    pub fn supports(&self, alg: Algorithm) -> bool {
        matches!(self.verifiers.get(alg.index()), Some(Some(_)))
    }

    /// The algorithms this key verifies, in [`Algorithm::ALL`] order.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        Algorithm::ALL.into_iter().filter(|&alg| self.supports(alg))
    }

    /// Checks `signature` over `signing_input` (the token's `header.payload` bytes) with `alg`.
    ///
    /// `false` when the signature does not verify or this key cannot verify `alg`; Hasura treats
    /// both as "this key did not verify". HMAC tags are compared in constant time.
    #[must_use]
    pub fn verify(&self, alg: Algorithm, signing_input: &[u8], signature: &[u8]) -> bool {
        match self.verifiers.get(alg.index()) {
            Some(Some(Verifier::Hmac(key))) => hmac::verify(key, signing_input, signature).is_ok(),
            Some(Some(Verifier::PublicKey(key))) => {
                key.verify_sig(signing_input, signature).is_ok()
            }
            Some(None) | None => false,
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kind", &self.kind)
            .field("algorithms", &self.algorithms().map(Algorithm::name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether 32 bytes encode an Ed25519 point of small order: equal, with the top bit of the last
/// byte (the sign of x) cleared, to one of the 7 entries of libsodium's blocklist (the points
/// of order 1, 2, 4 and 8, and the non-canonical encodings of two of them).
fn is_small_order_ed25519(public_key: &[u8]) -> bool {
    const ORDER_8_A: [u8; 32] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    const ORDER_8_B: [u8; 32] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    /// Little-endian `first, 0xff .. 0xff, 0x7f`: p - 1, p and p + 1.
    const fn near_p(first: u8) -> [u8; 32] {
        let mut bytes = [0xff; 32];
        bytes[0] = first;
        bytes[31] = 0x7f;
        bytes
    }
    /// Little-endian 0 and 1.
    const fn small(first: u8) -> [u8; 32] {
        let mut bytes = [0; 32];
        bytes[0] = first;
        bytes
    }
    const BLOCKLIST: [[u8; 32]; 7] =
        [small(0), small(1), ORDER_8_A, ORDER_8_B, near_p(0xec), near_p(0xed), near_p(0xee)];
    let Ok(mut bytes) = <[u8; 32]>::try_from(public_key) else { return false };
    bytes[31] &= 0x7f;
    BLOCKLIST.contains(&bytes)
}

/// The bit length of a big-endian unsigned integer, ignoring leading zero bytes.
fn significant_bits(bytes: &[u8]) -> u32 {
    let start = bytes.iter().position(|&byte| byte != 0).unwrap_or(bytes.len());
    let trimmed = bytes.get(start..).unwrap_or_default();
    match trimmed.first() {
        None => 0,
        Some(&first) => {
            let whole_bytes = u32::try_from(trimmed.len() - 1).unwrap_or(u32::MAX / 8 - 1);
            whole_bytes.saturating_mul(8).saturating_add(8 - first.leading_zeros())
        }
    }
}

#[cfg(test)]
mod tests;
