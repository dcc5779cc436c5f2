//! Proxies for key set and discovery fetches, from the proxy variables of the environment:
//! plain-HTTP forwarding for `http` URLs, a `CONNECT` tunnel for `https` ones.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which proxy, if any, each key set fetch goes through.
///
/// `Debug` shows each proxy with its credentials replaced by `<redacted>`.
#[derive(Clone)]
pub struct Proxies {
    matcher: Option<Arc<Matcher>>,
    /// What `Debug` shows: the variables' proxies, redacted, and the `NO_PROXY` list.
    shown: Arc<Shown>,
}

#[derive(Default)]
struct Shown {
    http: Option<String>,
    https: Option<String>,
    no_proxy: String,
}

impl Proxies {
    /// No proxy: every fetch connects directly.
    pub fn none() -> Self {
        Self { matcher: None, shown: Arc::default() }
    }

    /// The proxies the process environment names; see [`Self::from_variables`].
    pub fn from_env() -> Self {
        Self::from_variables(|name| std::env::var(name).ok())
    }

    /// The proxies that these variables name, as curl reads them, lower case first:
    ///
    /// - `http` URLs: `http_proxy`, else `HTTP_PROXY` (except under CGI, that is when
    ///   `REQUEST_METHOD` is set, where a request's `Proxy:` header would arrive as
    ///   `HTTP_PROXY`), else `all_proxy` / `ALL_PROXY`;
    /// - `https` URLs: `https_proxy`, else `HTTPS_PROXY`, else `all_proxy` / `ALL_PROXY`;
    /// - `no_proxy`, else `NO_PROXY`: hosts reached directly (comma-separated names, which match
    ///   their subdomains too, IP addresses or networks such as `10.0.0.0/8`, or `*` for all).
    ///
    /// A proxy is an `http://` URL, with optional `user:password@` sent as
    /// `Proxy-Authorization: Basic`; a value without a scheme is taken as `http://`.
    pub fn from_variables(variable: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| names.iter().find_map(|name| variable(name));
        let cgi = variable("REQUEST_METHOD").is_some();
        let http = if cgi { first(&["http_proxy"]) } else { first(&["http_proxy", "HTTP_PROXY"]) };
        let https = first(&["https_proxy", "HTTPS_PROXY"]);
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let no_proxy = first(&["no_proxy", "NO_PROXY"]).unwrap_or_default();
        let http = http.or_else(|| all.clone()).unwrap_or_default();
        let https = https.or(all).unwrap_or_default();
        // curl's `*` is every host; hyper-util's matcher applies it to names only, not to IP
        // addresses, so it is handled here.
        let everything_direct = no_proxy.split(',').any(|entry| entry.trim() == "*");
        let matcher =
            Matcher::builder().http(http.clone()).https(https.clone()).no(no_proxy.clone()).build();
        let shown = Shown { http: redacted(&http), https: redacted(&https), no_proxy };
        let matcher = (!everything_direct).then(|| Arc::new(matcher));
        Self { matcher, shown: Arc::new(shown) }
    }

    /// The proxy for `destination`, if it is not to be reached directly.
    pub(crate) fn intercept(&self, destination: &Uri) -> Option<Intercept> {
        self.matcher.as_ref()?.intercept(destination)
    }

    /// The proxy of `destination`, redacted, for a log line.
    pub(crate) fn shown_for(&self, destination: &Uri) -> Option<String> {
        self.intercept(destination)?;
        match destination.scheme_str() {
            Some("https") => self.shown.https.clone(),
            _ => self.shown.http.clone(),
        }
    }
}

impl Default for Proxies {
    /// [`Proxies::from_env`].
    fn default() -> Self {
        Self::from_env()
    }
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxies")
            .field("http", &self.shown.http)
            .field("https", &self.shown.https)
            .field("no_proxy", &self.shown.no_proxy)
            .field("enabled", &self.matcher.is_some())
            .finish()
    }
}

/// A proxy variable's value as logs may show it: its userinfo replaced by `<redacted>`.
fn redacted(value: &str) -> Option<String> {
    let intercept = Matcher::builder().all(value.to_owned()).build();
    let proxy = intercept.intercept(&Uri::from_static("http://jwtgate.invalid/"))?;
    let uri = proxy.uri();
    let credentials = proxy.basic_auth().is_some() || proxy.raw_auth().is_some();
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = uri.authority().map_or("", |authority| authority.as_str());
    Some(format!("{scheme}://{}{authority}", if credentials { "<redacted>@" } else { "" }))
}

/// The connections of an [`HttpFetcher`](super::HttpFetcher): direct, to a forwarding proxy
/// for `http` URLs, or through a proxy's `CONNECT` tunnel for `https` ones (TLS then runs
/// inside the tunnel).
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    pub(crate) direct: HttpConnector,
    pub(crate) proxies: Proxies,
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxiedStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxiedStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.direct.poll_ready(context).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let mut direct = self.direct.clone();
        let Some(proxy) = self.proxies.intercept(&destination) else {
            return Box::pin(async move {
                let io = direct.call(destination).await?;
                Ok(ProxiedStream { io, forwarding: false })
            });
        };
        if proxy.uri().scheme_str() != Some("http") {
            let scheme = proxy.uri().scheme_str().unwrap_or_default().to_owned();
            return Box::pin(async move {
                Err(format!("proxy scheme {scheme}:// is not supported; use an http:// proxy")
                    .into())
            });
        }
        if destination.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(proxy.uri().clone(), direct);
            if let Some(credentials) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(credentials.clone());
            }
            return Box::pin(async move {
                std::future::poll_fn(|context| tunnel.poll_ready(context)).await?;
                let io = tunnel.call(destination).await?;
                Ok(ProxiedStream { io, forwarding: false })
            });
        }
        let proxy_uri = proxy.uri().clone();
        Box::pin(async move {
            let io = direct.call(proxy_uri).await?;
            Ok(ProxiedStream { io, forwarding: true })
        })
    }
}

/// The `Proxy-Authorization` value of a request to `destination` that a proxy forwards (an
/// `http` URL through a proxy with credentials), marked sensitive.
pub(crate) fn forward_credentials(proxies: &Proxies, destination: &Uri) -> Option<HeaderValue> {
    if destination.scheme_str() != Some("http") {
        return None;
    }
    let mut credentials = proxies.intercept(destination)?.basic_auth()?.clone();
    credentials.set_sensitive(true);
    Some(credentials)
}

/// A connection, telling hyper whether it goes to a forwarding proxy (which takes requests in
/// absolute form).
pub(crate) struct ProxiedStream {
    io: TokioIo<TcpStream>,
    forwarding: bool,
}

impl Connection for ProxiedStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl Read for ProxiedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(context, buffer)
    }
}

impl Write for ProxiedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(context, buffer)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(context)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(context, buffers)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn proxies(variables: &[(&str, &str)]) -> Proxies {
        let variables: HashMap<String, String> =
            variables.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        Proxies::from_variables(|name| variables.get(name).cloned())
    }

    fn proxy_of(proxies: &Proxies, url: &'static str) -> Option<String> {
        proxies.intercept(&Uri::from_static(url)).map(|proxy| proxy.uri().to_string())
    }

    #[test]
    fn lower_case_first_and_no_upper_case_http_proxy_under_cgi() {
        let both = [("http_proxy", "http://lower:3128"), ("HTTP_PROXY", "http://upper:3128")];
        assert_eq!(
            proxy_of(&proxies(&both), "http://k.example/").as_deref(),
            Some("http://lower:3128/")
        );
        let upper = [("HTTP_PROXY", "http://upper:3128"), ("HTTPS_PROXY", "http://secure:3128")];
        assert_eq!(
            proxy_of(&proxies(&upper), "http://k.example/").as_deref(),
            Some("http://upper:3128/")
        );
        assert_eq!(
            proxy_of(&proxies(&upper), "https://k.example/").as_deref(),
            Some("http://secure:3128/")
        );

        // Under CGI a client's `Proxy:` header arrives as HTTP_PROXY: it is not honoured.
        let cgi = [
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://attacker:80"),
            ("HTTPS_PROXY", "http://secure:3128"),
        ];
        assert_eq!(proxy_of(&proxies(&cgi), "http://k.example/"), None);
        assert_eq!(
            proxy_of(&proxies(&cgi), "https://k.example/").as_deref(),
            Some("http://secure:3128/")
        );
        let cgi_lower = [("REQUEST_METHOD", "GET"), ("http_proxy", "http://lower:3128")];
        assert_eq!(
            proxy_of(&proxies(&cgi_lower), "http://k.example/").as_deref(),
            Some("http://lower:3128/")
        );
    }

    #[test]
    fn all_proxy_fills_in_and_no_proxy_bypasses() {
        let set = proxies(&[
            ("ALL_PROXY", "proxy.internal:8080"),
            ("https_proxy", "http://secure:3128"),
            ("NO_PROXY", "idp.internal, 10.0.0.0/8"),
        ]);
        assert_eq!(
            proxy_of(&set, "http://k.example/").as_deref(),
            Some("http://proxy.internal:8080/")
        );
        assert_eq!(proxy_of(&set, "https://k.example/").as_deref(), Some("http://secure:3128/"));
        for direct in
            ["https://idp.internal/keys", "https://eu.idp.internal/keys", "http://10.1.2.3/keys"]
        {
            assert_eq!(proxy_of(&set, direct), None, "{direct}");
        }
        let star =
            proxies(&[("ALL_PROXY", "proxy.internal:8080"), ("no_proxy", "idp.internal, *")]);
        for direct in ["https://k.example/", "http://127.0.0.1:8080/keys", "https://[::1]/keys"] {
            assert_eq!(proxy_of(&star, direct), None, "{direct}");
        }
        assert_eq!(proxy_of(&proxies(&[]), "https://k.example/"), None);
        assert_eq!(proxy_of(&Proxies::none(), "https://k.example/"), None);
    }

    #[test]
    fn credentials_go_to_the_proxy_only_redacted_in_debug() {
        let set = proxies(&[("http_proxy", "http://jwt%40gate:s3cret@proxy.internal:3128")]);
        let credentials =
            forward_credentials(&set, &Uri::from_static("http://k.example/")).unwrap();
        assert!(credentials.is_sensitive());
        // base64("jwt@gate:s3cret")
        assert_eq!(credentials, "Basic and0QGdhdGU6czNjcmV0");
        let shown = format!("{set:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("jwt"), "{shown}");
        assert!(shown.contains("http://<redacted>@proxy.internal:3128"), "{shown}");
        assert_eq!(
            set.shown_for(&Uri::from_static("http://k.example/")).as_deref(),
            Some("http://<redacted>@proxy.internal:3128")
        );
        assert_eq!(forward_credentials(&set, &Uri::from_static("https://k.example/")), None);
    }
}
