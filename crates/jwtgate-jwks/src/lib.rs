#![doc = include_str!("../README.md")]

mod key_set;
pub mod refresh;
mod source;

#[cfg(feature = "fetch")]
mod fetch;

pub use key_set::{Jwk, JwkSet, JwksError, MAX_USABLE_KEYS, SkipReason, SkippedKey};
pub use source::{FixedKeySet, KeySet, Refetch};

#[cfg(feature = "fetch")]
pub use fetch::{
    Clock, DiscoveryError, Fetch, FetchAttempt, FetchError, FetchSettings, FetchedResponse,
    Fetchers, HttpFetcher, JwksHandle, JwksOptions, JwksStatus, ManualClock, NextFetchAt, Proxies,
    SpawnError, StartError, SystemClock, TlsError, TransportError,
};

pub use refresh::Trigger;

#[cfg(all(test, feature = "fetch"))]
mod errors_doc_tests;
