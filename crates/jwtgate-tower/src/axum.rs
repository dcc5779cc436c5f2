//! axum extractors (feature `axum`): the session the layer put in the request's extensions.

use std::ops::Deref;
use std::sync::Arc;

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use jwtgate_core::{AuthError, Authenticated};

use crate::layer::{Denied, denial};

/// The caller [`HasuraAuthLayer`](crate::HasuraAuthLayer) authenticated: its Hasura session and
/// how it was recognised. As an extractor it refuses a request the layer denied (under
/// [`OnDenial::Continue`](crate::OnDenial::Continue)) with Hasura's 401; as `Option<HasuraSession>`
/// it is `None` then.
#[derive(Debug, Clone)]
pub struct HasuraSession(pub Arc<Authenticated>);

impl Deref for HasuraSession {
    type Target = Authenticated;

    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

/// Why a handler asking for a [`HasuraSession`] got none.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRejection {
    /// The layer denied the request: answered with Hasura's 401.
    Denied(AuthError),
    /// No `HasuraAuthLayer` in front of the handler: answered 500, a mistake in the router.
    NoLayer,
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Denied(error) => denial(&error).map(Body::new),
            Self::NoLayer => {
                let mut response = Response::new(Body::from("HasuraAuthLayer is not installed"));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HasuraSession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, SessionRejection> {
        if let Some(authenticated) = parts.extensions.get::<Arc<Authenticated>>() {
            return Ok(Self(Arc::clone(authenticated)));
        }
        match parts.extensions.get::<Denied>() {
            Some(Denied(error)) => Err(SessionRejection::Denied(error.clone())),
            None => Err(SessionRejection::NoLayer),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for HasuraSession {
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, SessionRejection> {
        if let Some(authenticated) = parts.extensions.get::<Arc<Authenticated>>() {
            return Ok(Some(Self(Arc::clone(authenticated))));
        }
        if parts.extensions.get::<Denied>().is_some() {
            Ok(None)
        } else {
            Err(SessionRejection::NoLayer)
        }
    }
}
