//! `issuer_discovery` (D21): a key set found through the issuer's OpenID discovery document.

use std::fmt;

use crate::{JwkUrl, JwkUrlError};

/// Where an OpenID Connect issuer publishes its discovery document (OpenID Connect Discovery 1.0,
/// section 4), appended to the issuer without its trailing `/`.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// A secret's key set found by OpenID Connect discovery (D21): the set is the `jwks_uri` of the
/// document at `<issuer>/.well-known/openid-configuration`, whose own `issuer` must equal the
/// configured one exactly.
///
/// `Display` and `Debug` show the document's URL redacted like a `jwk_url`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IssuerDiscovery {
    issuer: String,
    document: JwkUrl,
}

impl IssuerDiscovery {
    /// Discovery for `issuer`, which must be an absolute `http` or `https` URL (else
    /// [`JwkUrlError::NotHttp`], whatever is wrong with it).
    pub fn new(issuer: &str) -> Result<Self, JwkUrlError> {
        let base = issuer.strip_suffix('/').unwrap_or(issuer);
        let document =
            JwkUrl::parse(&format!("{base}{DISCOVERY_PATH}")).map_err(|_| JwkUrlError::NotHttp)?;
        Ok(Self { issuer: issuer.to_owned(), document })
    }

    /// The configured issuer, which the document's `issuer` must equal exactly.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The discovery document's URL: what `/readyz`, metrics and logs name the key set by.
    pub fn document_url(&self) -> &JwkUrl {
        &self.document
    }
}

impl fmt::Display for IssuerDiscovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.document, f)
    }
}

impl fmt::Debug for IssuerDiscovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IssuerDiscovery").field(&self.document.redacted()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_sits_under_the_issuer_without_its_trailing_slash() {
        for (issuer, document) in [
            ("https://idp.example.com", "https://idp.example.com/.well-known/openid-configuration"),
            (
                "https://idp.example.com/",
                "https://idp.example.com/.well-known/openid-configuration",
            ),
            (
                "https://idp.example.com/realms/acme/",
                "https://idp.example.com/realms/acme/.well-known/openid-configuration",
            ),
            ("http://127.0.0.1:8080/t", "http://127.0.0.1:8080/t/.well-known/openid-configuration"),
        ] {
            let discovery = IssuerDiscovery::new(issuer).unwrap();
            assert_eq!(discovery.document_url().as_url().as_str(), document);
            assert_eq!(discovery.issuer(), issuer);
        }
    }

    #[test]
    fn only_http_issuers_and_credentials_never_shown() {
        for bad in ["acme", "urn:example:idp", "ftp://idp.example.com", ""] {
            assert!(IssuerDiscovery::new(bad).is_err(), "{bad}");
        }
        let discovery = IssuerDiscovery::new("https://user:pw@idp.example.com").unwrap();
        let shown = "https://<redacted>@idp.example.com/.well-known/openid-configuration";
        assert_eq!(discovery.to_string(), shown);
        assert_eq!(format!("{discovery:?}"), format!("IssuerDiscovery({shown:?})"));
    }
}
