//! Public keys from PEM, PKCS#1, SubjectPublicKeyInfo and X.509 DER (docs/compatibility.md 1.3.3).

use pkcs1::{RsaPublicKey, RsaPublicKeyRef, UintRef};
use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::SubjectPublicKeyInfoRef;

use super::{EcCurve, KeyError, VerifyingKey, significant_bits};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Why PEM text held no usable public key. `Display` follows `Could not decode PEM: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// No PEM block at all. Hasura's text names the failure of both of its parsers.
    #[error("No pem found No pem found")]
    NoPem,
    /// A PEM block whose framing or base64 is broken.
    #[error("malformed PEM: {0}")]
    Malformed(String),
    /// A private key was given where the public key belongs.
    #[error(
        "the PEM block is a private key ({label}); give the public key or an X.509 certificate"
    )]
    PrivateKey {
        /// The PEM label, e.g. `PRIVATE KEY`.
        label: String,
    },
    /// A well-formed public key of a kind jwtgate does not verify with (DSA, Ed448, X25519, ...).
    #[error("This key type is not supported")]
    UnsupportedKeyType,
    /// An EC key on a curve other than P-256, P-384 and P-521.
    #[error("Error getting EC parameters from the public key")]
    UnsupportedCurve,
    /// A certificate whose public key is not RSA, Ed25519 or EC.
    #[error("Could not decode RSA, EdDSA or EC public key from x509 cert")]
    UnsupportedCertificateKey,
    /// A SubjectPublicKeyInfo whose key bits cannot be read.
    #[error("malformed {kind} public key in SubjectPublicKeyInfo")]
    MalformedKeyBits {
        /// The key's kind (`RSA`, `EC`, `Ed25519`).
        kind: &'static str,
    },
    /// DER that is none of the accepted structures.
    #[error(
        "the {label} PEM block is neither a PKCS#1 RSA public key, a SubjectPublicKeyInfo public key nor an X.509 certificate"
    )]
    Undecodable {
        /// The PEM label.
        label: String,
    },
}

pub(super) fn from_pem(text: &str) -> Result<VerifyingKey, KeyError> {
    let blocks = pem::parse_many(text).map_err(|error| PemError::Malformed(error.to_string()))?;
    let block = blocks.first().ok_or(PemError::NoPem)?;
    let label = block.tag();
    if label.ends_with("PRIVATE KEY") {
        return Err(PemError::PrivateKey { label: label.to_owned() }.into());
    }
    let der = block.contents();
    if let Ok(rsa) = RsaPublicKeyRef::from_der(der) {
        return VerifyingKey::from_pkcs1_der(der, significant_bits(rsa.modulus.as_bytes()));
    }
    if let Ok(spki) = SubjectPublicKeyInfoRef::from_der(der) {
        return from_spki(&spki);
    }
    if let Ok(certificate) = Certificate::from_der(der) {
        let spki_der = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|_| PemError::UnsupportedCertificateKey)?;
        let spki = SubjectPublicKeyInfoRef::from_der(&spki_der)
            .map_err(|_| PemError::UnsupportedCertificateKey)?;
        return match from_spki(&spki) {
            Err(KeyError::Pem(PemError::UnsupportedKeyType)) => {
                Err(PemError::UnsupportedCertificateKey.into())
            }
            other => other,
        };
    }
    Err(PemError::Undecodable { label: label.to_owned() }.into())
}

pub(super) fn from_spki_der(der: &[u8]) -> Result<VerifyingKey, KeyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| PemError::Undecodable { label: "DER".to_owned() })?;
    from_spki(&spki)
}

fn from_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<VerifyingKey, KeyError> {
    let oid = spki.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        let der =
            spki.subject_public_key.as_bytes().ok_or(PemError::MalformedKeyBits { kind: "RSA" })?;
        let rsa = RsaPublicKeyRef::from_der(der)
            .map_err(|_| PemError::MalformedKeyBits { kind: "RSA" })?;
        VerifyingKey::from_pkcs1_der(der, significant_bits(rsa.modulus.as_bytes()))
    } else if oid == EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .and_then(|parameters| parameters.decode_as::<ObjectIdentifier>().ok())
            .and_then(|curve| match curve {
                SECP256R1 => Some(EcCurve::P256),
                SECP384R1 => Some(EcCurve::P384),
                SECP521R1 => Some(EcCurve::P521),
                _ => None,
            })
            .ok_or(PemError::UnsupportedCurve)?;
        let point =
            spki.subject_public_key.as_bytes().ok_or(PemError::MalformedKeyBits { kind: "EC" })?;
        VerifyingKey::from_ec_point(curve, point)
    } else if oid == ED25519 {
        let public_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(PemError::MalformedKeyBits { kind: "Ed25519" })?;
        VerifyingKey::from_ed25519(public_key)
    } else {
        Err(PemError::UnsupportedKeyType.into())
    }
}

/// DER PKCS#1 `RSAPublicKey` for a modulus and exponent (JWK `n` and `e`).
pub(super) fn rsa_public_key_der(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>, KeyError> {
    let malformed = |_| KeyError::Rejected { kind: "RSA", reason: "modulus or exponent" };
    let key = RsaPublicKey {
        modulus: UintRef::new(modulus).map_err(malformed)?,
        public_exponent: UintRef::new(exponent).map_err(malformed)?,
    };
    key.to_der().map_err(malformed)
}
