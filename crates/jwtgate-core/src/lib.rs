#![doc = include_str!("../README.md")]

mod answer;
mod authenticator;
mod cache;
mod error;
mod explain;
mod explain_notes;
mod extract;
mod token;
mod verify;
mod wait;

pub use answer::{Authenticated, Caller};
pub use authenticator::{Authenticator, AuthenticatorConfig, DEFAULT_TOKEN_CACHE_SIZE, Outcome};
pub use cache::CacheStats;
pub use error::{AuthError, JwsDecodeError, JwtError, MAX_TOKEN_BYTES, hasura_error_body};
pub use explain::{Explanation, Hint, Step, StepName, StepOutcome};
pub use jwtgate_jwks::{FixedKeySet, JwkSet, KeySet, Refetch};
pub use wait::KEY_REFETCH_WAIT;
