//! JWK sets for jwtgate: tolerant key set parsing, the documented refresh policy, and a fetcher
//! that never drops keys.
//!
//! - [`JwkSet::parse`] turns a JWKS document into ready-to-verify keys
//!   ([`jwtgate_config::VerifyingKey`]), skipping unusable keys with a reason (D7).
//! - [`refresh`] is decision D2 as pure functions: response headers and `now` in, the next fetch
//!   out.
//! - With the default `fetch` feature, [`JwksHandle`] runs one tokio task per URL that fetches
//!   with hyper and rustls, swaps each good set in atomically, keeps the last good set when the
//!   provider fails (D4, D5) and refetches once for an unknown `kid` (D6).
//!
//! ```
//! use jwtgate_jwks::JwkSet;
//!
//! let set = JwkSet::parse(br#"{"keys": [
//!     {"kty": "OKP", "crv": "Ed25519", "kid": "a",
//!      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
//!     {"kty": "EC", "crv": "secp256k1", "kid": "b", "x": "", "y": ""}
//! ]}"#)?;
//! assert_eq!(set.len(), 1);
//! assert_eq!(set.skipped()[0].to_string(), r#"keys[1] (kid "b"): unsupported curve "secp256k1""#);
//! # Ok::<(), jwtgate_jwks::JwksError>(())
//! ```

mod key_set;
pub mod refresh;
mod source;

#[cfg(feature = "fetch")]
mod fetch;

pub use key_set::{Jwk, JwkSet, JwksError, MAX_USABLE_KEYS, SkipReason, SkippedKey};
pub use source::{FixedKeySet, KeySet, Refetch};

#[cfg(feature = "fetch")]
pub use fetch::{
    Clock, Fetch, FetchAttempt, FetchError, FetchSettings, FetchedResponse, HttpFetcher,
    JwksHandle, JwksOptions, JwksStatus, ManualClock, NextFetchAt, SpawnError, SystemClock,
    TlsError, TransportError, Trigger,
};

#[cfg(all(test, feature = "fetch"))]
mod errors_doc_tests;
