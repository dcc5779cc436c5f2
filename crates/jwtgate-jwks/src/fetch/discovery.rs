//! OpenID Connect discovery (D21): the discovery document names the key set's URL.

use http::HeaderMap;
use jwtgate_config::{IssuerDiscovery, JwkUrl};
use serde_json::Value;

use super::http::{Fetch as _, HttpFetcher};
use super::worker::{FetchError, Fetched, Source, fetch_key_set};

/// The longest `issuer` of a discovery document quoted in an error; the rest is cut.
const QUOTED_ISSUER_CHARS: usize = 200;

/// Why a discovery document did not name a usable key set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The body is not a JSON object.
    #[error("discovery document is not a JSON object")]
    NotAnObject,
    /// The document's `issuer` is not the configured one: the set stays unusable.
    #[error("discovery document issuer {got:?} differs from {configured:?}")]
    IssuerMismatch {
        /// The document's `issuer` (cut to 200 characters), or `null` when it has none.
        got: String,
        /// The configured `issuer`.
        configured: String,
    },
    /// No `jwks_uri` string.
    #[error("discovery document has no jwks_uri")]
    NoJwksUri,
    /// A `jwks_uri` that is not an absolute `http` or `https` URL.
    #[error("discovery document jwks_uri is not an absolute http or https URL")]
    JwksUriNotHttp,
    /// An `http` `jwks_uri` in a document fetched over `https`.
    #[error("discovery document jwks_uri steps down from https to http")]
    JwksUriDowngrade,
}

/// The key set URL a discovery document names, once its `issuer` is the configured one.
pub(super) fn jwks_uri(body: &[u8], discovery: &IssuerDiscovery) -> Result<JwkUrl, DiscoveryError> {
    let document: Value = serde_json::from_slice(body).map_err(|_| DiscoveryError::NotAnObject)?;
    let document = document.as_object().ok_or(DiscoveryError::NotAnObject)?;
    let issuer = document.get("issuer").and_then(Value::as_str);
    if issuer != Some(discovery.issuer()) {
        let got = issuer.map_or_else(
            || "null".to_owned(),
            |issuer| issuer.chars().take(QUOTED_ISSUER_CHARS).collect(),
        );
        return Err(DiscoveryError::IssuerMismatch {
            got,
            configured: discovery.issuer().to_owned(),
        });
    }
    let text = document.get("jwks_uri").and_then(Value::as_str).ok_or(DiscoveryError::NoJwksUri)?;
    let url = JwkUrl::parse(text).map_err(|_| DiscoveryError::JwksUriNotHttp)?;
    if discovery.document_url().as_url().scheme() == "https" && url.as_url().scheme() == "http" {
        return Err(DiscoveryError::JwksUriDowngrade);
    }
    Ok(url)
}

/// A key set found by discovery: each fetch reads the document, then the set it names.
pub(super) struct Discovered {
    pub(super) discovery: IssuerDiscovery,
    /// Fetches the document; the set's fetcher is made from it for each `jwks_uri`.
    pub(super) document: HttpFetcher,
}

impl Source for Discovered {
    async fn fetch_set(&self) -> Result<Fetched, FetchError> {
        let response = self.document.fetch().await?;
        if !response.status.is_success() {
            return Err(FetchError::Status(response.status));
        }
        let url = jwks_uri(&response.body, &self.discovery)?;
        let fetcher = self.document.for_url(&url);
        let (set, headers) = fetch_key_set(&fetcher).await.map_err(|error| {
            FetchError::JwksUri { url: url.redacted().to_owned(), error: Box::new(error) }
        })?;
        let headers: Vec<HeaderMap> = vec![response.headers, headers];
        Ok(Fetched { set, headers })
    }

    fn proxy(&self) -> Option<String> {
        self.document.proxy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery(issuer: &str) -> IssuerDiscovery {
        IssuerDiscovery::new(issuer).unwrap()
    }

    #[test]
    fn the_document_names_the_set_once_its_issuer_matches_exactly() {
        let acme = discovery("https://idp.example.com/acme");
        let body = br#"{"issuer": "https://idp.example.com/acme", "jwks_uri": "https://keys.example.com/acme.json"}"#;
        assert_eq!(
            jwks_uri(body, &acme).unwrap().as_url().as_str(),
            "https://keys.example.com/acme.json"
        );

        let trailing = br#"{"issuer": "https://idp.example.com/acme/", "jwks_uri": "https://keys.example.com/k"}"#;
        assert_eq!(
            jwks_uri(trailing, &acme).unwrap_err().to_string(),
            r#"discovery document issuer "https://idp.example.com/acme/" differs from "https://idp.example.com/acme""#
        );
        let none = br#"{"jwks_uri": "https://keys.example.com/k"}"#;
        assert_eq!(
            jwks_uri(none, &acme).unwrap_err(),
            DiscoveryError::IssuerMismatch {
                got: "null".to_owned(),
                configured: acme.issuer().to_owned()
            }
        );
        let long = format!(r#"{{"issuer": "{}", "jwks_uri": "https://k"}}"#, "i".repeat(5000));
        let Err(DiscoveryError::IssuerMismatch { got, .. }) = jwks_uri(long.as_bytes(), &acme)
        else {
            panic!("a mismatch")
        };
        assert_eq!(got.len(), QUOTED_ISSUER_CHARS);
    }

    #[test]
    fn documents_without_a_usable_jwks_uri_are_refused() {
        let acme = discovery("https://idp.example.com");
        let with =
            |uri: &str| format!(r#"{{"issuer": "https://idp.example.com", "jwks_uri": {uri}}}"#);
        for (body, error) in [
            ("[]".to_owned(), DiscoveryError::NotAnObject),
            ("<html>".to_owned(), DiscoveryError::NotAnObject),
            (r#"{"issuer": "https://idp.example.com"}"#.to_owned(), DiscoveryError::NoJwksUri),
            (with("42"), DiscoveryError::NoJwksUri),
            (with(r#""/keys""#), DiscoveryError::JwksUriNotHttp),
            (with(r#""file:///etc/keys""#), DiscoveryError::JwksUriNotHttp),
            (with(r#""http://idp.example.com/keys""#), DiscoveryError::JwksUriDowngrade),
        ] {
            assert_eq!(jwks_uri(body.as_bytes(), &acme).unwrap_err(), error, "{body}");
        }
        // An http issuer may name an http or an https set.
        let plain = discovery("http://127.0.0.1:8080");
        let body = br#"{"issuer": "http://127.0.0.1:8080", "jwks_uri": "http://127.0.0.1:8081/k"}"#;
        assert!(jwks_uri(body, &plain).is_ok());
    }
}
