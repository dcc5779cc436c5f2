//! One fetcher per distinct `jwk_url` of a list of secrets: what a server or a layer starts.

use std::sync::Arc;

use jwtgate_config::{JwkUrl, JwtSecret, KeySource};

use super::clock::{Clock, SystemClock};
use super::http::HttpFetcher;
use super::worker::{JwksHandle, JwksOptions, SpawnError};
use crate::source::KeySet;

/// The fetchers of a list of secrets, one per distinct key set (a `jwk_url`, or the discovery
/// document's URL for `issuer_discovery`), in the order the URLs first appear, each sending its
/// secret's `jwk_headers`. Secrets sharing a URL share its fetcher (and the first one's
/// `jwk_headers`).
#[derive(Debug, Clone, Default)]
pub struct Fetchers {
    /// (index of the first secret naming the URL, its fetcher).
    started: Vec<(usize, JwksHandle)>,
}

/// A fetcher did not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct StartError {
    /// The index of the secret whose key set it was, in the list given.
    pub secret: usize,
    /// Why.
    #[source]
    pub error: SpawnError,
}

impl Fetchers {
    /// Starts a fetcher for each distinct key set of `secrets` (`jwk_url` or
    /// `issuer_discovery`), as tasks of the current tokio runtime; none when no secret has one.
    pub fn start(secrets: &[JwtSecret], options: &JwksOptions) -> Result<Self, StartError> {
        Self::start_with_clock(secrets, options, &SystemClock)
    }

    /// [`Self::start`] on another clock (a simulation's).
    pub fn start_with_clock<C: Clock + Clone>(
        secrets: &[JwtSecret],
        options: &JwksOptions,
        clock: &C,
    ) -> Result<Self, StartError> {
        let mut started: Vec<(usize, JwksHandle)> = Vec::new();
        for (secret, config) in secrets.iter().enumerate() {
            let Some(url) = config.key_source().key_set_url() else { continue };
            if started.iter().any(|(_, handle)| handle.url() == url) {
                continue;
            }
            let mut options = options.clone();
            options.headers = config.jwk_headers().to_vec();
            let fetcher = HttpFetcher::new(url, options.fetch.clone())
                .map_err(|error| StartError { secret, error: error.into() })?
                .with_headers(&options.headers);
            let spawned = match config.key_source() {
                KeySource::Discovery(discovery) => JwksHandle::spawn_discovery_with(
                    discovery.clone(),
                    fetcher,
                    clock.clone(),
                    &options,
                ),
                _ => JwksHandle::spawn_with(url.clone(), fetcher, clock.clone(), &options),
            };
            started.push((secret, spawned.map_err(|error| StartError { secret, error })?));
        }
        Ok(Self { started })
    }

    /// The key set of `url`, for `Authenticator::new`.
    pub fn key_set(&self, url: &JwkUrl) -> Option<Arc<dyn KeySet>> {
        let (_, handle) = self.started.iter().find(|(_, handle)| handle.url() == url)?;
        Some(Arc::new(handle.clone()))
    }

    /// Each fetcher with the index of the first secret naming its URL.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &JwksHandle)> {
        self.started.iter().map(|(secret, handle)| (*secret, handle))
    }

    /// The fetchers.
    pub fn into_handles(self) -> Vec<JwksHandle> {
        self.started.into_iter().map(|(_, handle)| handle).collect()
    }
}
