//! A layer from the secret JSON, with one key set fetcher per `jwk_url` (or discovery) started for it.

use jwtgate_config::{ConfigError, JwtSecret, SecretString, parse_jwt_secret, parse_jwt_secrets};
use jwtgate_core::{Authenticator, AuthenticatorConfig, DEFAULT_TOKEN_CACHE_SIZE};
use jwtgate_jwks::{Fetchers, JwksOptions, StartError};

use std::sync::Arc;

use crate::layer::{Current, HasuraAuthLayer, OnDenial};

/// Why a layer could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither `jwt_secret` nor `jwt_secrets` nor `secrets` was given.
    #[error("no JWT secret given")]
    NoSecret,
    /// The secret JSON is not valid; the message names the field as Hasura does.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `jwk_url`'s fetcher did not start (outside a tokio runtime, or TLS).
    #[error(transparent)]
    KeySet(#[from] StartError),
}

/// The secrets, as given.
#[derive(Debug)]
enum Secrets {
    Missing,
    Json { list: bool, json: String },
    Parsed(Vec<JwtSecret>),
}

/// Builds a [`HasuraAuthLayer`]: the secrets (the JSON of `HASURA_GRAPHQL_JWT_SECRET` or of
/// `HASURA_GRAPHQL_JWT_SECRETS`), and optionally the admin secret, the unauthorized role, the
/// cache size and what to do with a denial. `build` starts the key set fetchers.
#[derive(Debug)]
#[must_use]
pub struct Builder {
    secrets: Secrets,
    admin_secret: Option<SecretString>,
    unauthorized_role: Option<String>,
    token_cache_size: usize,
    jwks: JwksOptions,
    on_denial: OnDenial,
}

impl HasuraAuthLayer {
    /// A builder with no secret yet, no admin secret, no unauthorized role, the default cache,
    /// default fetch settings, and denials rejected.
    pub fn builder() -> Builder {
        Builder {
            secrets: Secrets::Missing,
            admin_secret: None,
            unauthorized_role: None,
            token_cache_size: DEFAULT_TOKEN_CACHE_SIZE,
            jwks: JwksOptions::default(),
            on_denial: OnDenial::Reject,
        }
    }
}

impl Builder {
    /// One secret: the JSON of `HASURA_GRAPHQL_JWT_SECRET`.
    pub fn jwt_secret(self, json: impl Into<String>) -> Self {
        Self { secrets: Secrets::Json { list: false, json: json.into() }, ..self }
    }

    /// Several secrets: the JSON list of `HASURA_GRAPHQL_JWT_SECRETS`.
    pub fn jwt_secrets(self, json: impl Into<String>) -> Self {
        Self { secrets: Secrets::Json { list: true, json: json.into() }, ..self }
    }

    /// Secrets already parsed by `jwtgate-config`.
    pub fn secrets(self, secrets: Vec<JwtSecret>) -> Self {
        Self { secrets: Secrets::Parsed(secrets), ..self }
    }

    /// The admin secret (`HASURA_GRAPHQL_ADMIN_SECRET`): a request without a token that sends it
    /// in `x-hasura-admin-secret` gets an admin session.
    pub fn admin_secret(self, secret: impl Into<SecretString>) -> Self {
        Self { admin_secret: Some(secret.into()), ..self }
    }

    /// The unauthorized role (`HASURA_GRAPHQL_UNAUTHORIZED_ROLE`): the session of a request
    /// without a token or an admin secret.
    pub fn unauthorized_role(self, role: impl Into<String>) -> Self {
        Self { unauthorized_role: Some(role.into()), ..self }
    }

    /// Entries of the verified-token cache; 0 turns it off.
    pub fn token_cache_size(self, entries: usize) -> Self {
        Self { token_cache_size: entries, ..self }
    }

    /// Settings of the key set fetchers.
    pub fn jwks_options(self, options: JwksOptions) -> Self {
        Self { jwks: options, ..self }
    }

    /// What to do with a request that cannot be authenticated.
    pub fn on_denial(self, on_denial: OnDenial) -> Self {
        Self { on_denial, ..self }
    }

    /// Reads the secrets and starts one fetcher per distinct `jwk_url` or discovery, as tasks of
    /// the current tokio runtime. It does not wait for their first fetch: a request meanwhile
    /// waits for it (at most 2 s) when its token names a `kid`.
    pub fn build(self) -> Result<HasuraAuthLayer, BuildError> {
        let on_denial = self.on_denial;
        let current = self.configuration(&Fetchers::default())?;
        Ok(HasuraAuthLayer::with_current(current).on_denial(on_denial))
    }

    /// How long a reload waits for the first fetch of each new key set.
    pub(crate) fn first_fetch_wait(&self) -> std::time::Duration {
        self.jwks.first_fetch_wait()
    }

    /// The configuration these settings describe, keeping the fetchers of `previous` that
    /// serve a key set configured alike.
    pub(crate) fn configuration(self, previous: &Fetchers) -> Result<Current, BuildError> {
        let secrets = match self.secrets {
            Secrets::Missing => return Err(BuildError::NoSecret),
            Secrets::Json { list: true, json } => parse_jwt_secrets(&json)?,
            Secrets::Json { list: false, json } => vec![parse_jwt_secret(&json)?],
            Secrets::Parsed(secrets) => secrets,
        };
        let fetchers = previous.restart(&secrets, &self.jwks)?;
        let mut config = AuthenticatorConfig::new(secrets);
        config.admin_secret = self.admin_secret;
        config.unauthorized_role = self.unauthorized_role;
        config.token_cache_size = self.token_cache_size;
        let authenticator = Arc::new(Authenticator::new(config, |url| fetchers.key_set(url)));
        let key_sets = fetchers.clone().into_handles();
        Ok(Current { authenticator, fetchers, key_sets })
    }
}
