//! The background fetcher: one tokio task per `jwk_url` (the `fetch` feature).

mod clock;
mod discovery;
mod fetchers;
mod http;
mod proxy;
mod worker;

pub use clock::{Clock, ManualClock, SystemClock};
pub use discovery::DiscoveryError;
pub use fetchers::{Fetchers, StartError};
pub use http::{Fetch, FetchSettings, FetchedResponse, HttpFetcher, TlsError, TransportError};
pub use proxy::Proxies;
pub use worker::{
    FetchAttempt, FetchError, JwksHandle, JwksOptions, JwksStatus, NextFetchAt, SpawnError,
};
