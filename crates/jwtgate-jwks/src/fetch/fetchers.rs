//! One fetcher per distinct `jwk_url` of a list of secrets: what a server or a layer starts.

use std::sync::Arc;

use jwtgate_config::{JwkUrl, JwtSecret, KeySource};

use super::worker::{JwksHandle, JwksOptions, SpawnError};
use crate::source::KeySet;

/// The fetchers of a list of secrets, one per distinct `jwk_url`, in the order the URLs first
/// appear, each sending its secret's `jwk_headers`. Secrets sharing a URL share its fetcher (and
/// the first one's `jwk_headers`).
#[derive(Debug, Clone, Default)]
pub struct Fetchers {
    /// (index of the first secret naming the URL, its fetcher).
    started: Vec<(usize, JwksHandle)>,
}

/// A fetcher did not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct StartError {
    /// The index of the secret whose `jwk_url` it was, in the list given.
    pub secret: usize,
    /// Why.
    #[source]
    pub error: SpawnError,
}

impl Fetchers {
    /// Starts a fetcher for each distinct `jwk_url` of `secrets`, as tasks of the current tokio
    /// runtime; none when no secret has a `jwk_url`.
    pub fn start(secrets: &[JwtSecret], options: &JwksOptions) -> Result<Self, StartError> {
        let mut started: Vec<(usize, JwksHandle)> = Vec::new();
        for (secret, config) in secrets.iter().enumerate() {
            if let KeySource::JwkUrl(url) = config.key_source()
                && !started.iter().any(|(_, handle)| handle.url() == url)
            {
                let mut options = options.clone();
                options.headers = config.jwk_headers().to_vec();
                let handle = JwksHandle::spawn(url.clone(), &options)
                    .map_err(|error| StartError { secret, error })?;
                started.push((secret, handle));
            }
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
