//! One fetcher per distinct key set of a list of secrets: what a server or a layer starts, and
//! restarts on a new configuration keeping the fetchers that serve it unchanged.

use std::sync::Arc;
use std::time::Duration;

use jwtgate_config::{JwkUrl, JwtSecret, KeySource, SecretString};

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
    started: Vec<Started>,
}

#[derive(Debug, Clone)]
struct Started {
    /// The index of the first secret naming the URL.
    secret: usize,
    handle: JwksHandle,
    /// What the fetcher was started for: a new configuration keeps it only when it asks for
    /// the same.
    spec: Spec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    url: JwkUrl,
    discovery: bool,
    headers: Vec<(String, SecretString)>,
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
        Self::default().restart(secrets, options)
    }

    /// [`Self::start`] on another clock (a simulation's).
    pub fn start_with_clock<C: Clock + Clone>(
        secrets: &[JwtSecret],
        options: &JwksOptions,
        clock: &C,
    ) -> Result<Self, StartError> {
        Self::default().restart_with_clock(secrets, options, clock)
    }

    /// The fetchers of a new configuration: each of these fetchers whose key set `secrets`
    /// still name the same way (URL, `jwk_url` or discovery, `jwk_headers`) is kept with the
    /// keys it holds and its schedule; the others are started. A fetcher of these that is not
    /// kept stops when its last handle goes.
    pub fn restart(
        &self,
        secrets: &[JwtSecret],
        options: &JwksOptions,
    ) -> Result<Self, StartError> {
        self.restart_with_clock(secrets, options, &SystemClock)
    }

    fn restart_with_clock<C: Clock + Clone>(
        &self,
        secrets: &[JwtSecret],
        options: &JwksOptions,
        clock: &C,
    ) -> Result<Self, StartError> {
        let mut started: Vec<Started> = Vec::new();
        for (secret, config) in secrets.iter().enumerate() {
            let Some(url) = config.key_source().key_set_url() else { continue };
            if started.iter().any(|known| known.spec.url == *url) {
                continue;
            }
            let discovery = matches!(config.key_source(), KeySource::Discovery(_));
            let spec = Spec { url: url.clone(), discovery, headers: config.jwk_headers().to_vec() };
            if let Some(kept) = self.started.iter().find(|known| known.spec == spec) {
                started.push(Started { secret, ..kept.clone() });
                continue;
            }
            let handle = spawn(config, &spec, options, clock)
                .map_err(|error| StartError { secret, error })?;
            started.push(Started { secret, handle, spec });
        }
        Ok(Self { started })
    }

    /// The key set of `url`, for `Authenticator::new`.
    pub fn key_set(&self, url: &JwkUrl) -> Option<Arc<dyn KeySet>> {
        let started = self.started.iter().find(|known| known.handle.url() == url)?;
        Some(Arc::new(started.handle.clone()))
    }

    /// Each fetcher with the index of the first secret naming its URL.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &JwksHandle)> {
        self.started.iter().map(|started| (started.secret, &started.handle))
    }

    /// Waits until each of these fetchers that `previous` does not hold has completed its
    /// first fetch (successful or not), or until `limit` has passed: they fetch at once, so the
    /// wait is that of the slowest. Returns those new fetchers with their secret's index.
    pub async fn first_fetches(
        &self,
        previous: &Fetchers,
        limit: Duration,
    ) -> Vec<(usize, &JwksHandle)> {
        let new: Vec<(usize, &JwksHandle)> =
            self.iter().filter(|(_, handle)| !previous.contains(handle)).collect();
        let _ = tokio::time::timeout(limit, async {
            for (_, handle) in &new {
                handle.wait_for_attempts(1).await;
            }
        })
        .await;
        new
    }

    /// Whether `handle` is one of these fetchers (not merely one of the same URL).
    pub fn contains(&self, handle: &JwksHandle) -> bool {
        self.started.iter().any(|started| started.handle.is_same(handle))
    }

    /// The fetchers.
    pub fn into_handles(self) -> Vec<JwksHandle> {
        self.started.into_iter().map(|started| started.handle).collect()
    }
}

/// Starts the fetcher `spec` describes for the secret `config`.
fn spawn<C: Clock + Clone>(
    config: &JwtSecret,
    spec: &Spec,
    options: &JwksOptions,
    clock: &C,
) -> Result<JwksHandle, SpawnError> {
    let mut options = options.clone();
    options.headers.clone_from(&spec.headers);
    let fetcher =
        HttpFetcher::new(&spec.url, options.fetch.clone())?.with_headers(&options.headers);
    match config.key_source() {
        KeySource::Discovery(discovery) => {
            JwksHandle::spawn_discovery_with(discovery.clone(), fetcher, clock.clone(), &options)
        }
        _ => JwksHandle::spawn_with(spec.url.clone(), fetcher, clock.clone(), &options),
    }
}

#[cfg(test)]
mod tests {
    use jwtgate_config::parse_jwt_secrets;

    use super::*;

    fn secrets(json: &str) -> Vec<JwtSecret> {
        parse_jwt_secrets(json).unwrap()
    }

    #[tokio::test]
    async fn a_restart_keeps_the_fetchers_configured_alike_and_starts_the_rest() {
        let options = JwksOptions::default();
        let before = Fetchers::start(
            &secrets(
                r#"[{"jwk_url": "http://127.0.0.1:9/a"},
                    {"jwk_url": "http://127.0.0.1:9/b", "jwk_headers": {"X-Key": "1"}},
                    {"issuer": "http://127.0.0.1:9/idp", "issuer_discovery": true},
                    {"jwk_url": "http://127.0.0.1:9/gone"}]"#,
            ),
            &options,
        )
        .unwrap();
        let after = before
            .restart(
                &secrets(
                    r#"[{"type": "HS256", "key": "a-32-byte-secret-for-the-restart"},
                        {"jwk_url": "http://127.0.0.1:9/b", "jwk_headers": {"X-Key": "2"}},
                        {"jwk_url": "http://127.0.0.1:9/a", "audience": "changed"},
                        {"issuer": "http://127.0.0.1:9/idp", "issuer_discovery": true},
                        {"jwk_url": "http://127.0.0.1:9/new"}]"#,
                ),
                &options,
            )
            .unwrap();
        let kept: Vec<(usize, &str, bool)> = after
            .iter()
            .map(|(secret, handle)| (secret, handle.url().redacted(), before.contains(handle)))
            .collect();
        assert_eq!(
            kept,
            [
                (1, "http://127.0.0.1:9/b", false),
                (2, "http://127.0.0.1:9/a", true),
                (3, "http://127.0.0.1:9/idp/.well-known/openid-configuration", true),
                (4, "http://127.0.0.1:9/new", false),
            ]
        );
    }
}
