//! `docs/errors.md` lists every configuration error exactly.

use jwtgate_test_support::errors_doc::{Rendered, assert_documented, assert_every_variant};

use super::ConfigErrorKind as Kind;
use crate::json_type::{JsonType, ShapeError};
use crate::{JsonPathError, JwkUrlError, KeyError, PemError};

fn every_pem_error() -> Vec<PemError> {
    vec![
        PemError::NoPem,
        PemError::Malformed("the base64 does not decode".to_owned()),
        PemError::PrivateKey { label: "PRIVATE KEY".to_owned() },
        PemError::UnsupportedKeyType,
        PemError::UnsupportedCurve,
        PemError::UnsupportedCertificateKey,
        PemError::MalformedKeyBits { kind: "RSA" },
        PemError::Undecodable { label: "PUBLIC KEY".to_owned() },
    ]
}

fn every_key_error() -> Vec<KeyError> {
    [
        KeyError::HmacTooShort { min_len: 32 },
        KeyError::RsaTooSmall { bits: 512 },
        KeyError::RsaTooLarge { bits: 16384 },
        KeyError::WeakEd25519,
        KeyError::Rejected { kind: "EC", reason: "InvalidEncoding" },
    ]
    .into_iter()
    .chain(every_pem_error().into_iter().map(KeyError::Pem))
    .collect()
}

/// One value of every variant, with every nested error.
fn every_error() -> Vec<Kind> {
    let path_error = || JsonPathError { input: "$.a b".to_owned() };
    [
        Kind::InvalidJson("expected value at line 1 column 1".to_owned()),
        Kind::Shape(ShapeError::WrongType {
            parser: "JWTConfig",
            expected: JsonType::Object,
            found: JsonType::Array,
        }),
        Kind::Shape(ShapeError::EmptyString),
        Kind::MissingKey("type"),
        Kind::BothNamespaces,
        Kind::NoKeySource,
        Kind::BothKeySources,
        Kind::UnsupportedKeyType("EdDSA".to_owned()),
        Kind::NamespacePath(path_error()),
        Kind::ClaimsMapPath(path_error()),
        Kind::ClaimsMapRoleMissing("x-hasura-allowed-roles"),
        Kind::ClaimsFormat("JSON".to_owned()),
        Kind::StringOrUri,
        Kind::JwkUrl(JwkUrlError::NotAUri(url::ParseError::RelativeUrlWithoutBase)),
        Kind::JwkUrl(JwkUrlError::NotHttp),
        Kind::HeaderType,
        Kind::HeaderString("expected value at line 1 column 1".to_owned()),
        Kind::EmptySecretList,
        Kind::JwkHeadersShape,
        Kind::JwkHeaderName("x api key".to_owned()),
        Kind::JwkHeaderValue("x-api-key".to_owned()),
        Kind::IssuerDiscoveryShape,
        Kind::IssuerDiscoveryNeedsIssuer,
        Kind::IssuerDiscoveryWithKey,
    ]
    .into_iter()
    .chain(every_key_error().into_iter().map(Kind::InvalidKey))
    .collect()
}

fn kind_variant(error: &Kind) -> usize {
    match error {
        Kind::InvalidJson(_) => 0,
        Kind::Shape(_) => 1,
        Kind::MissingKey(_) => 2,
        Kind::BothNamespaces => 3,
        Kind::NoKeySource => 4,
        Kind::BothKeySources => 5,
        Kind::UnsupportedKeyType(_) => 6,
        Kind::InvalidKey(_) => 7,
        Kind::NamespacePath(_) => 8,
        Kind::ClaimsMapPath(_) => 9,
        Kind::ClaimsMapRoleMissing(_) => 10,
        Kind::ClaimsFormat(_) => 11,
        Kind::StringOrUri => 12,
        Kind::JwkUrl(_) => 13,
        Kind::HeaderType => 14,
        Kind::HeaderString(_) => 15,
        Kind::EmptySecretList => 16,
        Kind::JwkHeadersShape => 17,
        Kind::JwkHeaderName(_) => 18,
        Kind::JwkHeaderValue(_) => 19,
        Kind::IssuerDiscoveryShape => 20,
        Kind::IssuerDiscoveryNeedsIssuer => 21,
        Kind::IssuerDiscoveryWithKey => 22,
    }
}

fn key_variant(error: &KeyError) -> usize {
    match error {
        KeyError::HmacTooShort { .. } => 0,
        KeyError::Pem(_) => 1,
        KeyError::RsaTooSmall { .. } => 2,
        KeyError::RsaTooLarge { .. } => 3,
        KeyError::WeakEd25519 => 4,
        KeyError::Rejected { .. } => 5,
    }
}

fn pem_variant(error: &PemError) -> usize {
    match error {
        PemError::NoPem => 0,
        PemError::Malformed(_) => 1,
        PemError::PrivateKey { .. } => 2,
        PemError::UnsupportedKeyType => 3,
        PemError::UnsupportedCurve => 4,
        PemError::UnsupportedCertificateKey => 5,
        PemError::MalformedKeyBits { .. } => 6,
        PemError::Undecodable { .. } => 7,
    }
}

fn url_variant(error: &JwkUrlError) -> usize {
    match error {
        JwkUrlError::NotAUri(_) => 0,
        JwkUrlError::NotHttp => 1,
    }
}

fn shape_variant(error: &ShapeError) -> usize {
    match error {
        ShapeError::WrongType { .. } => 0,
        ShapeError::EmptyString => 1,
    }
}

#[test]
fn every_variant_has_an_example() {
    let errors = every_error();
    assert_every_variant("ConfigErrorKind", errors.iter().map(kind_variant), 23);
    assert_every_variant("KeyError", every_key_error().iter().map(key_variant), 6);
    assert_every_variant("PemError", every_pem_error().iter().map(pem_variant), 8);
    let urls = errors.iter().filter_map(|e| if let Kind::JwkUrl(u) = e { Some(u) } else { None });
    assert_every_variant("JwkUrlError", urls.map(url_variant), 2);
    let shapes = errors.iter().filter_map(|e| if let Kind::Shape(s) = e { Some(s) } else { None });
    assert_every_variant("ShapeError", shapes.map(shape_variant), 2);
}

#[test]
fn every_error_is_in_docs_errors_md() {
    let rendered: Vec<Rendered> =
        every_error().iter().map(|error| Rendered::plain(error.to_string())).collect();
    assert_documented("Secret errors", &rendered);
}
