//! A successful authentication, as the verifier and its cache hand it out.

use std::any::Any;
use std::fmt;
use std::sync::OnceLock;

use jwtgate_claims::Session;

/// How the caller was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// By a verified token.
    Token,
    /// By the admin secret.
    AdminSecret,
    /// Not at all: the unauthorized role applies.
    UnauthorizedRole,
}

/// A successful authentication: the session, and the token's `exp` when it had one.
pub struct Authenticated {
    session: Session,
    expires: Option<f64>,
    caller: Caller,
    /// The caller's rendering of this answer (say, an HTTP response), made once: a cached answer
    /// keeps it, so a cache hit renders nothing.
    rendered: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("session", &self.session)
            .field("expires", &self.expires)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Authenticated {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && self.expires == other.expires
            && self.caller == other.caller
    }
}

impl Authenticated {
    pub(crate) fn new(session: Session, expires: Option<f64>, caller: Caller) -> Self {
        Self { session, expires, caller, rendered: OnceLock::new() }
    }

    /// The caller's rendering of this answer, made by `render` the first time it is asked for
    /// and kept with the answer (and so with its cache entry). `None` when an earlier call
    /// stored a rendering of another type.
    pub fn rendered<T: Any + Send + Sync>(&self, render: impl FnOnce(&Self) -> T) -> Option<&T> {
        self.rendered.get_or_init(|| Box::new(render(self))).downcast_ref()
    }

    /// The Hasura session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The token's `exp` (seconds since the epoch), exactly as sent.
    pub fn expires(&self) -> Option<f64> {
        self.expires
    }

    /// How the caller was recognised.
    pub fn caller(&self) -> Caller {
        self.caller
    }
}
