//! `docs/errors.md` lists every reason a key is skipped and every reason a fetch fails.

use std::time::Duration;

use http::StatusCode;
use jwtgate_config::KeyError;
use jwtgate_test_support::errors_doc::{Rendered, assert_documented, assert_every_variant};

use crate::{
    DiscoveryError, FetchError, JwksError, SkipReason, SpawnError, TlsError, TransportError,
};

fn every_skip_reason() -> Vec<SkipReason> {
    vec![
        SkipReason::NotAnObject,
        SkipReason::Missing("kty"),
        SkipReason::WrongType { member: "kid", expected: "a string" },
        SkipReason::NotBase64("n"),
        SkipReason::UnsupportedKeyType("oct".to_owned()),
        SkipReason::UnsupportedCurve("secp256k1".to_owned()),
        SkipReason::NotForSignatures("enc".to_owned()),
        SkipReason::UnknownKeyOperation("frobnicate".to_owned()),
        SkipReason::VerifyNotAllowed,
        SkipReason::UnknownAlgorithm("RS1".to_owned()),
        SkipReason::AlgorithmNotForThisKey("RSA-OAEP".to_owned()),
        SkipReason::TooManyKeys,
        SkipReason::CoordinateTooLong { member: "x", len: 33, curve: "P-256", max: 32 },
        SkipReason::BadThumbprint { member: "x5t", len: 32, expected: 20 },
        SkipReason::BadCertificate,
        SkipReason::CertificateMismatch,
        SkipReason::Key(KeyError::WeakEd25519),
    ]
}

fn skip_variant(reason: &SkipReason) -> usize {
    match reason {
        SkipReason::NotAnObject => 0,
        SkipReason::Missing(_) => 1,
        SkipReason::WrongType { .. } => 2,
        SkipReason::NotBase64(_) => 3,
        SkipReason::UnsupportedKeyType(_) => 4,
        SkipReason::UnsupportedCurve(_) => 5,
        SkipReason::NotForSignatures(_) => 6,
        SkipReason::UnknownKeyOperation(_) => 7,
        SkipReason::VerifyNotAllowed => 8,
        SkipReason::UnknownAlgorithm(_) => 9,
        SkipReason::AlgorithmNotForThisKey(_) => 10,
        SkipReason::TooManyKeys => 11,
        SkipReason::CoordinateTooLong { .. } => 12,
        SkipReason::BadThumbprint { .. } => 13,
        SkipReason::BadCertificate => 14,
        SkipReason::CertificateMismatch => 15,
        SkipReason::Key(_) => 16,
    }
}

fn every_fetch_error() -> Vec<FetchError> {
    vec![
        TransportError::Request("connection refused".to_owned()).into(),
        TransportError::Timeout(Duration::from_secs(10)).into(),
        TransportError::TooLarge(1_048_576).into(),
        TransportError::TooManyRedirects(10).into(),
        TransportError::BadRedirect("https to http").into(),
        FetchError::Status(StatusCode::SERVICE_UNAVAILABLE),
        JwksError::NotAJwkSet("expected value at line 1 column 1".to_owned()).into(),
        FetchError::NoUsableKeys { skipped: 2 },
        DiscoveryError::NotAnObject.into(),
        DiscoveryError::IssuerMismatch {
            got: "https://idp.example.com/".to_owned(),
            configured: "https://idp.example.com".to_owned(),
        }
        .into(),
        DiscoveryError::NoJwksUri.into(),
        DiscoveryError::JwksUriNotHttp.into(),
        DiscoveryError::JwksUriDowngrade.into(),
        FetchError::JwksUri {
            url: "https://idp.example.com/keys".to_owned(),
            error: Box::new(FetchError::Status(StatusCode::NOT_FOUND)),
        },
    ]
}

fn fetch_variant(error: &FetchError) -> usize {
    match error {
        FetchError::Transport(transport) => match transport {
            TransportError::Request(_) => 0,
            TransportError::Timeout(_) => 1,
            TransportError::TooLarge(_) => 2,
            TransportError::TooManyRedirects(_) => 3,
            TransportError::BadRedirect(_) => 4,
        },
        FetchError::Status(_) => 5,
        FetchError::Body(JwksError::NotAJwkSet(_)) => 6,
        FetchError::NoUsableKeys { .. } => 7,
        FetchError::Discovery(discovery) => match discovery {
            DiscoveryError::NotAnObject => 8,
            DiscoveryError::IssuerMismatch { .. } => 9,
            DiscoveryError::NoJwksUri => 10,
            DiscoveryError::JwksUriNotHttp => 11,
            DiscoveryError::JwksUriDowngrade => 12,
        },
        FetchError::JwksUri { .. } => 13,
    }
}

fn every_spawn_error() -> Vec<SpawnError> {
    let tls = TlsError(rustls::Error::General("no protocol versions".to_owned()));
    vec![SpawnError::NoRuntime, tls.into()]
}

fn spawn_variant(error: &SpawnError) -> usize {
    match error {
        SpawnError::NoRuntime => 0,
        SpawnError::Tls(_) => 1,
    }
}

#[test]
fn every_variant_has_an_example() {
    assert_every_variant("SkipReason", every_skip_reason().iter().map(skip_variant), 17);
    assert_every_variant("FetchError", every_fetch_error().iter().map(fetch_variant), 14);
    assert_every_variant("SpawnError", every_spawn_error().iter().map(spawn_variant), 2);
}

#[test]
fn every_reason_is_in_docs_errors_md() {
    let skips: Vec<Rendered> =
        every_skip_reason().iter().map(|reason| Rendered::plain(reason.to_string())).collect();
    assert_documented("Skipped keys", &skips);
    let fetches: Vec<Rendered> =
        every_fetch_error().iter().map(|error| Rendered::plain(error.to_string())).collect();
    assert_documented("Failed fetches", &fetches);
    let spawns: Vec<Rendered> =
        every_spawn_error().iter().map(|error| Rendered::plain(error.to_string())).collect();
    assert_documented("Starting a key set fetcher", &spawns);
}
