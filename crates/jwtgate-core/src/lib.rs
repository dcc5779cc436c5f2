//! jwtgate's verification core: from a request's headers to a Hasura session, with Hasura v2's
//! exact verdicts.
//!
//! Build an [`Authenticator`] once from the configured secrets (see `jwtgate-config`), the
//! admin secret and the unauthorized role; call [`Authenticator::authenticate`] with the request
//! headers and `now` for each request. Every failure is an [`AuthError`] whose `code()`,
//! `Display` and `status()` are Hasura's code, Hasura's message and jwtgate's HTTP status (401).
//! Nothing here reads the clock: `now` is passed in.

mod answer;
mod authenticator;
mod cache;
mod error;
mod extract;
mod token;
mod verify;

pub use answer::{Authenticated, Caller};
pub use authenticator::{Authenticator, AuthenticatorConfig, DEFAULT_TOKEN_CACHE_SIZE, Outcome};
pub use cache::CacheStats;
pub use error::{AuthError, JwsDecodeError, JwtError, MAX_TOKEN_BYTES};
pub use jwtgate_jwks::{FixedKeySet, JwkSet, KeySet, Refetch};
