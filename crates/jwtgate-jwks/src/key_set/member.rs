//! Typed access to a JWK's members, turning each problem into a [`SkipReason`].

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use pkcs1::RsaPublicKeyRef;
use serde_json::{Map, Value};
use x509_cert::der::Decode as _;

use super::SkipReason;

/// base64url with or without padding: providers pad more often than RFC 7515 allows.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// Standard base64, which `x5c` uses (RFC 7517 4.7) and some providers use everywhere (Cognito).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JWK object's members.
pub(super) struct Members<'a> {
    object: &'a Map<String, Value>,
}

impl<'a> Members<'a> {
    pub(super) fn new(object: &'a Map<String, Value>) -> Self {
        Self { object }
    }

    pub(super) fn optional_str(&self, member: &'static str) -> Result<Option<&'a str>, SkipReason> {
        match self.object.get(member) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(SkipReason::WrongType { member, expected: "a string" }),
        }
    }

    pub(super) fn required_str(&self, member: &'static str) -> Result<&'a str, SkipReason> {
        self.optional_str(member)?.ok_or(SkipReason::Missing(member))
    }

    /// An optional array of strings.
    pub(super) fn optional_strings(
        &self,
        member: &'static str,
    ) -> Result<Option<Vec<&'a str>>, SkipReason> {
        let wrong_type = SkipReason::WrongType { member, expected: "an array of strings" };
        match self.object.get(member) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().ok_or_else(|| wrong_type.clone()))
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(wrong_type),
        }
    }

    /// A base64url member's bytes; standard base64 is read too (D7's real-world shapes).
    pub(super) fn required_bytes(&self, member: &'static str) -> Result<Vec<u8>, SkipReason> {
        let text = self.required_str(member)?;
        decode_lenient(text).ok_or(SkipReason::NotBase64(member))
    }

    /// Checks an optional thumbprint member decodes to `expected` bytes.
    pub(super) fn thumbprint(
        &self,
        member: &'static str,
        expected: usize,
    ) -> Result<(), SkipReason> {
        let Some(text) = self.optional_str(member)? else {
            return Ok(());
        };
        let bytes = decode_lenient(text).ok_or(SkipReason::NotBase64(member))?;
        if bytes.len() == expected {
            Ok(())
        } else {
            Err(SkipReason::BadThumbprint { member, len: bytes.len(), expected })
        }
    }

    /// The first certificate of `x5c`, if the member is present.
    pub(super) fn certificate(&self) -> Result<Option<Certificate>, SkipReason> {
        let chain = self.optional_strings("x5c")?.unwrap_or_default();
        let Some(first) = chain.first() else {
            return Ok(None);
        };
        let der = BASE64.decode(first).map_err(|_| SkipReason::NotBase64("x5c"))?;
        let certificate =
            x509_cert::Certificate::from_der(&der).map_err(|_| SkipReason::BadCertificate)?;
        let bits = certificate
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .as_bytes()
            .ok_or(SkipReason::BadCertificate)?
            .to_vec();
        Ok(Some(Certificate { public_key_bits: bits }))
    }
}

/// The public key an `x5c` certificate carries.
pub(super) struct Certificate {
    public_key_bits: Vec<u8>,
}

impl Certificate {
    /// The SubjectPublicKeyInfo key bits: PKCS#1 for RSA, the SEC1 point for EC, 32 bytes for
    /// Ed25519.
    pub(super) fn public_key_bits(&self) -> &[u8] {
        &self.public_key_bits
    }

    /// The modulus and exponent, when the key bits are an RSA public key.
    pub(super) fn rsa_components(&self) -> Option<(&[u8], &[u8])> {
        let key = RsaPublicKeyRef::from_der(&self.public_key_bits).ok()?;
        Some((key.modulus.as_bytes(), key.public_exponent.as_bytes()))
    }
}

/// Decodes base64url, or standard base64 when the text uses `+` or `/`; padded or not.
fn decode_lenient(text: &str) -> Option<Vec<u8>> {
    BASE64URL.decode(text).or_else(|_| BASE64.decode(text)).ok()
}
