//! The layer and its service: authenticate the request's headers, then call the inner service
//! with the caller in the request's extensions, or answer Hasura's 401.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{Either, Full};
use jwtgate_core::{AuthError, Authenticated, Authenticator, KEY_REFETCH_WAIT};
use jwtgate_jwks::{Fetchers, JwksHandle};

/// What the layer does with a request it cannot authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnDenial {
    /// Answer Hasura's 401 (`{"error", "path", "code"}` with `WWW-Authenticate`); the inner
    /// service never sees the request.
    #[default]
    Reject,
    /// Call the inner service anyway, with the [`Denied`] error in the request's extensions.
    Continue,
}

/// The denial, in the extensions of a request passed on under [`OnDenial::Continue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub AuthError);

/// The body of the layer's responses: the inner service's, or the 401's.
pub type AuthBody<B> = Either<Full<Bytes>, B>;

/// What the layer and each service built from it share: the configuration in force, which
/// [`HasuraAuthLayer::reload`] replaces.
struct Shared {
    current: ArcSwap<Current>,
}

/// A configuration in force: the authenticator and its key set fetchers.
pub(crate) struct Current {
    pub(crate) authenticator: Arc<Authenticator>,
    pub(crate) fetchers: Fetchers,
    pub(crate) key_sets: Vec<JwksHandle>,
}

/// A `tower::Layer` authenticating each request as Hasura's JWT mode does.
///
/// On success the request reaches the inner service with an `Arc<Authenticated>` (the session
/// and how the caller was recognised) in its extensions.
#[derive(Clone)]
pub struct HasuraAuthLayer {
    shared: Arc<Shared>,
    on_denial: OnDenial,
}

impl fmt::Debug for HasuraAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HasuraAuthLayer")
            .field("authenticator", &self.shared.current.load().authenticator)
            .field("on_denial", &self.on_denial)
            .finish_non_exhaustive()
    }
}

impl HasuraAuthLayer {
    /// A layer over an authenticator built by hand; `key_sets` are the fetchers of its
    /// `jwk_url`s (for [`HasuraAuthLayer::key_sets`]), empty when it has none or you keep them.
    /// [`HasuraAuthLayer::builder`] starts the fetchers for you.
    pub fn new(authenticator: Authenticator, key_sets: Vec<JwksHandle>) -> Self {
        let authenticator = Arc::new(authenticator);
        Self::with_current(Current { authenticator, fetchers: Fetchers::default(), key_sets })
    }

    pub(crate) fn with_current(current: Current) -> Self {
        let shared = Arc::new(Shared { current: ArcSwap::from_pointee(current) });
        Self { shared, on_denial: OnDenial::Reject }
    }

    pub(crate) fn current(&self) -> Arc<Current> {
        self.shared.current.load_full()
    }

    /// Puts a new configuration in force for this layer and every service made from it: a
    /// request that began on the old one finishes on it. The new one keeps the fetchers of key
    /// sets configured as before; the fetchers it starts complete their first fetch (or fail,
    /// or time out) before the switch. `on_denial` stays as it is.
    pub async fn reload(&self, builder: crate::Builder) -> Result<(), crate::BuildError> {
        let previous = self.current();
        let wait = builder.first_fetch_wait();
        let next = builder.configuration(&previous.fetchers)?;
        next.fetchers.first_fetches(&previous.fetchers, wait).await;
        self.shared.current.store(Arc::new(next));
        Ok(())
    }

    /// The same layer doing `on_denial` with requests it cannot authenticate.
    #[must_use]
    pub fn on_denial(self, on_denial: OnDenial) -> Self {
        Self { on_denial, ..self }
    }

    /// The authenticator in force.
    pub fn authenticator(&self) -> Arc<Authenticator> {
        Arc::clone(&self.current().authenticator)
    }

    /// The key set fetchers in force (for readiness: `status()`, `current()`).
    pub fn key_sets(&self) -> Vec<JwksHandle> {
        self.current().key_sets.clone()
    }
}

impl<S> tower_layer::Layer<S> for HasuraAuthLayer {
    type Service = HasuraAuth<S>;

    fn layer(&self, inner: S) -> HasuraAuth<S> {
        HasuraAuth { inner, shared: Arc::clone(&self.shared), on_denial: self.on_denial }
    }
}

/// The service [`HasuraAuthLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct HasuraAuth<S> {
    inner: S,
    shared: Arc<Shared>,
    on_denial: OnDenial,
}

impl<S: fmt::Debug> fmt::Debug for HasuraAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HasuraAuth").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for HasuraAuth<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<AuthBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh clone stays for the
        // next one (tower's guidance for services moved into a future).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let shared = Arc::clone(&self.shared);
        let on_denial = self.on_denial;
        Box::pin(async move {
            let authenticator = Arc::clone(&shared.current.load().authenticator);
            match authenticate(&authenticator, request.headers()).await {
                Ok(authenticated) => {
                    request.extensions_mut().insert(authenticated);
                }
                Err(denied) if on_denial == OnDenial::Continue => {
                    request.extensions_mut().insert(Denied(denied));
                }
                Err(denied) if is_grpc(request.headers()) => {
                    return Ok(grpc_denial(&denied).map(Either::Left));
                }
                Err(denied) => return Ok(denial(&denied).map(Either::Left)),
            }
            let response = inner.call(request).await?;
            Ok(response.map(Either::Right))
        })
    }
}

/// The verdict on a request's headers now, waiting at most [`KEY_REFETCH_WAIT`] for a key set
/// refetch when the core asks to (D6).
pub(crate) async fn authenticate(
    authenticator: &Authenticator,
    headers: &HeaderMap,
) -> Result<Arc<Authenticated>, AuthError> {
    authenticator.authenticate_waiting(headers, now, || tokio::time::sleep(KEY_REFETCH_WAIT)).await
}

/// The wall clock: the layer is an edge, where time is read.
#[expect(clippy::disallowed_methods, reason = "the layer is where the clock is read")]
fn now() -> SystemTime {
    SystemTime::now()
}

static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
static APPLICATION_GRPC: HeaderValue = HeaderValue::from_static("application/grpc");
/// gRPC's `UNAUTHENTICATED`.
static GRPC_UNAUTHENTICATED: HeaderValue = HeaderValue::from_static("16");
static NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Hasura's 401 for a denial, as `jwtgate serve` answers it.
pub(crate) fn denial(error: &AuthError) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(error.hasura_body())));
    *response.status_mut() = error.status();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, APPLICATION_JSON.clone());
    headers.insert(CACHE_CONTROL, NO_STORE.clone());
    headers.insert(http::header::WWW_AUTHENTICATE, error.www_authenticate());
    response
}

/// Whether the request is a gRPC call (`content-type: application/grpc`, `application/grpc+proto`
/// ...), whose client reads a status from `grpc-status`, not from an HTTP status and a JSON body.
fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"))
}

/// Bytes `grpc-message` percent-encodes: all but 0x20 to 0x7E, and `%` itself (the gRPC over
/// HTTP/2 specification).
const GRPC_MESSAGE_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');

/// The denial of a gRPC call: a trailers-only response with `grpc-status` 16 (`UNAUTHENTICATED`)
/// and Hasura's message as `grpc-message`.
pub(crate) fn grpc_denial(error: &AuthError) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    let message =
        percent_encoding::utf8_percent_encode(&error.to_string(), GRPC_MESSAGE_ESCAPED).to_string();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, APPLICATION_GRPC.clone());
    headers.insert("grpc-status", GRPC_UNAUTHENTICATED.clone());
    // Percent-encoded text is visible ASCII, always a valid header value.
    if let Ok(message) = HeaderValue::from_str(&message) {
        headers.insert("grpc-message", message);
    }
    headers.insert(http::header::WWW_AUTHENTICATE, error.www_authenticate());
    response
}
