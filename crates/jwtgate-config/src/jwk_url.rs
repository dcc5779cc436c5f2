//! The `jwk_url` of a secret: an absolute `http` or `https` URL, shown only redacted.

use std::fmt::{self, Write as _};

use url::Url;

/// A JWKS endpoint. `Display` and `Debug` show it with userinfo and query replaced by
/// `<redacted>` (docs/server.md), since either may carry credentials.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JwkUrl {
    url: Url,
    redacted: String,
}

/// Why a `jwk_url` was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkUrlError {
    /// Not a URL at all.
    #[error("not a URI ({0})")]
    NotAUri(url::ParseError),
    /// A URL whose scheme is not `http` or `https`.
    #[error("must be an absolute http or https URL")]
    NotHttp,
}

impl JwkUrl {
    /// Parses and checks a `jwk_url`.
    pub fn parse(text: &str) -> Result<Self, JwkUrlError> {
        let url = Url::parse(text).map_err(JwkUrlError::NotAUri)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(JwkUrlError::NotHttp);
        }
        let redacted = redact(&url);
        Ok(Self { url, redacted })
    }

    /// The full URL, credentials included: for fetching only, never for display.
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The URL with userinfo and query replaced by `<redacted>`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }
}

fn redact(url: &Url) -> String {
    let mut out = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        out.push_str("<redacted>@");
    }
    out.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        let _ = write!(out, ":{port}");
    }
    out.push_str(url.path());
    if url.query().is_some() {
        out.push_str("?<redacted>");
    }
    if let Some(fragment) = url.fragment() {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

impl fmt::Display for JwkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for JwkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JwkUrl").field(&self.redacted).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_and_query() {
        let url = JwkUrl::parse("https://user:pw@example.com:8443/keys?token=abc#x").unwrap();
        assert_eq!(url.redacted(), "https://<redacted>@example.com:8443/keys?<redacted>#x");
        assert_eq!(format!("{url} {url:?}"), format!("{0} JwkUrl({0:?})", url.redacted()));
        assert_eq!(url.as_url().password(), Some("pw"));
        let plain = JwkUrl::parse("http://[::1]:9000/.well-known/jwks.json").unwrap();
        assert_eq!(plain.redacted(), "http://[::1]:9000/.well-known/jwks.json");
    }

    #[test]
    fn only_absolute_http_urls() {
        for bad in [
            "ftp://example.com/keys",
            "file:///etc/keys",
            "mailto:a@b",
            "/keys",
            "example.com/keys",
            "",
        ] {
            assert!(JwkUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
