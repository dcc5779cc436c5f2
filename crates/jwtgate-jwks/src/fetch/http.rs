//! Fetching a `jwk_url` over HTTP(S): hyper with rustls, timeouts, a size limit, redirects.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, LOCATION, PROXY_AUTHORIZATION, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jwtgate_config::{JwkUrl, SecretString};
use url::Url;

use super::proxy::{Proxies, ProxyConnector, forward_credentials};

/// A response as the fetcher saw it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchedResponse {
    /// The status of the final response (after redirects).
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, at most the configured limit.
    pub body: Bytes,
}

/// Why a fetch produced no response to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connecting, TLS or HTTP failed.
    #[error("request failed: {0}")]
    Request(String),
    /// The whole fetch took longer than the timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The body is larger than the limit.
    #[error("response body larger than {0} bytes")]
    TooLarge(usize),
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// A redirect without a usable `Location`, or one from https to http.
    #[error("bad redirect: {0}")]
    BadRedirect(&'static str),
}

/// Something that fetches a key set document: HTTP in production, a script in tests.
pub trait Fetch: Send + Sync + 'static {
    /// Fetches the document once.
    fn fetch(&self) -> impl Future<Output = Result<FetchedResponse, TransportError>> + Send;

    /// The proxy fetches go through, credentials redacted, for logs and status (none by
    /// default).
    fn proxy(&self) -> Option<String> {
        None
    }
}

/// Limits of one fetch. Start from `default()` and set what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchSettings {
    /// The TCP connect timeout ([`Self::DEFAULT_CONNECT_TIMEOUT`] by default).
    pub connect_timeout: Duration,
    /// The timeout of the whole fetch: redirects, TLS, headers and body
    /// ([`Self::DEFAULT_TIMEOUT`] by default).
    pub timeout: Duration,
    /// The largest body read ([`Self::DEFAULT_MAX_BODY_BYTES`] by default).
    pub max_body_bytes: usize,
    /// The most redirects followed ([`Self::DEFAULT_MAX_REDIRECTS`] by default).
    pub max_redirects: usize,
    /// The proxies fetches go through ([`Proxies::from_env`] by default: the process's
    /// `http_proxy`, `https_proxy`, `no_proxy` ... variables).
    pub proxies: Proxies,
}

impl FetchSettings {
    /// The default TCP connect timeout: 10 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default timeout of a whole fetch: 10 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default largest body: 1 MiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
    /// The default most redirects followed: 5.
    pub const DEFAULT_MAX_REDIRECTS: usize = 5;
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            timeout: Self::DEFAULT_TIMEOUT,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            max_redirects: Self::DEFAULT_MAX_REDIRECTS,
            proxies: Proxies::from_env(),
        }
    }
}

impl FetchedResponse {
    /// A response with this status, these headers and this body (for a [`Fetch`] of your own).
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self { status, headers, body }
    }
}

type HttpsClient = Client<HttpsConnector<ProxyConnector>, Empty<Bytes>>;

/// Fetches one `jwk_url` with hyper and rustls.
///
/// Userinfo in the URL is taken out before the HTTP client sees the URL and sent as HTTP Basic
/// credentials (a header hyper marks sensitive), so no log of the client's shows it.
#[derive(Clone)]
pub struct HttpFetcher {
    url: Url,
    credentials: Option<HeaderValue>,
    /// Extra request headers (D21), values marked sensitive.
    headers: Vec<(HeaderName, HeaderValue)>,
    settings: FetchSettings,
    client: HttpsClient,
}

impl std::fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpFetcher").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl HttpFetcher {
    /// A fetcher for `url` trusting the system's root certificates (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` honoured), or the Mozilla roots when the system has none.
    pub fn new(url: &JwkUrl, settings: FetchSettings) -> Result<Self, TlsError> {
        Ok(Self::with_tls(url, settings, default_tls_config()?))
    }

    /// A fetcher with a TLS configuration of the caller's (say, a private root certificate or
    /// a client certificate). This is the one place a rustls type appears in this crate's
    /// API: it follows rustls 0.23, and a rustls release with a new major version is a
    /// breaking release of this crate.
    pub fn with_tls(url: &JwkUrl, settings: FetchSettings, tls: Arc<rustls::ClientConfig>) -> Self {
        let mut direct = HttpConnector::new();
        direct.enforce_http(false);
        direct.set_connect_timeout(Some(settings.connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(ProxyConnector { direct, proxies: settings.proxies.clone() });
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let (url, credentials) = without_userinfo(url.as_url());
        Self { url, credentials, headers: Vec::new(), settings, client }
    }

    /// The same fetcher sending these extra headers (a secret's `jwk_headers`) to the key
    /// set's origin. Names and values were checked by the configuration; one that is not a
    /// valid header is left out.
    #[must_use]
    pub fn with_headers(self, headers: &[(String, SecretString)]) -> Self {
        let headers = headers
            .iter()
            .filter_map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
                let mut value = HeaderValue::from_str(value.expose()).ok()?;
                value.set_sensitive(true);
                Some((name, value))
            })
            .collect();
        Self { headers, ..self }
    }

    /// A fetcher of another URL (a discovery document's `jwks_uri`) sharing this one's client,
    /// settings and extra headers; the new URL's userinfo, if any, gives its credentials.
    pub(crate) fn for_url(&self, url: &JwkUrl) -> Self {
        let (url, credentials) = without_userinfo(url.as_url());
        Self { url, credentials, ..self.clone() }
    }

    async fn fetch_following_redirects(&self) -> Result<FetchedResponse, TransportError> {
        let mut url = self.url.clone();
        for _ in 0..=self.settings.max_redirects {
            let mut request = Request::get(url.as_str())
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, concat!("jwtgate/", env!("CARGO_PKG_VERSION")))
                .body(Empty::new())
                .map_err(|error| TransportError::Request(error.to_string()))?;
            // Credentials and extra headers go only to the origin they were given for, never to
            // a redirect's.
            if url.origin() == self.url.origin() {
                for (name, value) in &self.headers {
                    request.headers_mut().insert(name.clone(), value.clone());
                }
                if let Some(credentials) = &self.credentials {
                    request.headers_mut().insert(AUTHORIZATION, credentials.clone());
                }
            }
            let proxies = &self.settings.proxies;
            if let Some(proxy) = proxies.shown_for(request.uri()) {
                tracing::debug!(proxy, "fetching through a proxy");
            }
            if let Some(credentials) = forward_credentials(proxies, request.uri()) {
                request.headers_mut().insert(PROXY_AUTHORIZATION, credentials);
            }
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| TransportError::Request(describe(&error)))?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                url = redirect_target(&url, response.headers())?;
                continue;
            }
            let (parts, body) = response.into_parts();
            let limit = self.settings.max_body_bytes;
            let body = Limited::new(body, limit).collect().await.map_err(|error| {
                if error.is::<http_body_util::LengthLimitError>() {
                    TransportError::TooLarge(limit)
                } else {
                    TransportError::Request(error.to_string())
                }
            })?;
            return Ok(FetchedResponse { status, headers: parts.headers, body: body.to_bytes() });
        }
        Err(TransportError::TooManyRedirects(self.settings.max_redirects))
    }
}

impl Fetch for HttpFetcher {
    async fn fetch(&self) -> Result<FetchedResponse, TransportError> {
        tokio::time::timeout(self.settings.timeout, self.fetch_following_redirects())
            .await
            .unwrap_or(Err(TransportError::Timeout(self.settings.timeout)))
    }

    fn proxy(&self) -> Option<String> {
        self.settings.proxies.shown_for(&self.url.as_str().parse().ok()?)
    }
}

/// The URL without its userinfo, and the userinfo as an HTTP Basic `Authorization` value
/// (percent-decoded, marked sensitive).
fn without_userinfo(url: &Url) -> (Url, Option<HeaderValue>) {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return (url.clone(), None);
    }
    let decode = |text: &str| percent_encoding::percent_decode_str(text).collect::<Vec<u8>>();
    let mut pair = decode(url.username());
    pair.push(b':');
    pair.extend(decode(url.password().unwrap_or_default()));
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    let credentials = HeaderValue::from_str(&format!("Basic {encoded}")).ok().map(|mut value| {
        value.set_sensitive(true);
        value
    });
    let mut bare = url.clone();
    // Both only fail for URLs that cannot have userinfo, which a `jwk_url` never is.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    (bare, credentials)
}

/// Where a redirect points, refusing a step down from https to http.
fn redirect_target(from: &Url, headers: &HeaderMap) -> Result<Url, TransportError> {
    let location = headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(TransportError::BadRedirect("no Location header"))?;
    let target =
        from.join(location).map_err(|_| TransportError::BadRedirect("Location is not a URL"))?;
    match (from.scheme(), target.scheme()) {
        ("https", "https") | ("http", "http" | "https") => Ok(target),
        ("https", "http") => Err(TransportError::BadRedirect("from https to http")),
        _ => Err(TransportError::BadRedirect("not an http or https URL")),
    }
}

/// An error with its causes, which carry the useful part (refused, DNS, certificate ...).
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The TLS set-up failed: the system's TLS configuration offers no protocol version rustls
/// supports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot set up TLS: {0}")]
pub struct TlsError(pub(crate) rustls::Error);

/// rustls with aws-lc-rs, trusting the system roots, or the Mozilla roots when there are none.
/// Loading the system store reads files, so it happens once per process.
fn default_tls_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, TlsError>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            tls_config(roots).map(Arc::new)
        })
        .clone()
}

/// A client configuration with the aws-lc-rs provider, its safe default protocol versions and
/// the given roots.
fn tls_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
