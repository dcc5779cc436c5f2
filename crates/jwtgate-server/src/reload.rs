//! The configuration in force and its reload (docs/server.md "Reload"): built at start-up, and
//! built again from the same settings on SIGHUP or when a file a setting is read from changes.

use std::path::PathBuf;
use std::time::Duration;

use jwtgate_config::{JwtSecret, KeySource};
use jwtgate_core::{Authenticator, AuthenticatorConfig};
use jwtgate_jwks::{Fetchers, JwksOptions, KeySet as _};
use jwtgate_server::{App, Configuration};

use crate::sources::{SecretsInput, Source};

/// How often the files settings are read from are checked for a change (the contract allows
/// 5 s).
const FILE_POLL: Duration = Duration::from_secs(1);

/// The settings a configuration is built from, and the key set fetchers of the one in force.
pub(crate) struct Settings {
    pub(crate) secrets: SecretsInput,
    pub(crate) admin_secret: Option<Source>,
    pub(crate) unauthorized_role: Option<String>,
    pub(crate) token_cache_size: usize,
    pub(crate) jwks_required: bool,
    /// The fetchers of the configuration in force, which a new one keeps where it can.
    pub(crate) fetchers: Fetchers,
}

impl Settings {
    /// Reads the settings (files included) and builds a configuration: validates the secrets,
    /// keeps the fetchers of key sets configured as before, starts the others and waits for
    /// their first fetch (which must succeed under `--jwks-required`). Errors name the field as
    /// at start-up. Nothing is in force until the caller puts it there.
    pub(crate) async fn build(
        &self,
        secrets: Vec<JwtSecret>,
    ) -> Result<(Configuration, Fetchers), String> {
        let admin_secret = self.admin_secret.as_ref().map(Source::read).transpose()?;
        let fetchers = self.start_key_sets(&secrets).await?;
        let mut config = AuthenticatorConfig::new(secrets);
        config.admin_secret = admin_secret.map(Into::into);
        config.unauthorized_role.clone_from(&self.unauthorized_role);
        config.token_cache_size = self.token_cache_size;
        let authenticator = Authenticator::new(config, |url| fetchers.key_set(url));
        Ok((Configuration::new(authenticator, fetchers.clone().into_handles()), fetchers))
    }

    /// The fetchers of `secrets`, new ones fetching at once; waits for each new one's first
    /// fetch, which must succeed under `--jwks-required`.
    async fn start_key_sets(&self, secrets: &[JwtSecret]) -> Result<Fetchers, String> {
        let field = |index: usize| {
            let prefix = if self.secrets.is_list() {
                format!("jwt_secrets[{index}]")
            } else {
                "jwt_secret".to_owned()
            };
            let name = match secrets.get(index).map(JwtSecret::key_source) {
                Some(KeySource::Discovery(_)) => "issuer_discovery",
                _ => "jwk_url",
            };
            format!("{prefix}.{name}")
        };
        let options = JwksOptions::default();
        let fetchers = self
            .fetchers
            .restart(secrets, &options)
            .map_err(|error| format!("{}: {error}", field(error.secret)))?;
        let wait = options.first_fetch_wait();
        for (index, handle) in fetchers.first_fetches(&self.fetchers, wait).await {
            if self.jwks_required && handle.current().is_empty() {
                let reason = handle
                    .status()
                    .last_attempt
                    .and_then(|attempt| attempt.outcome.err())
                    .map_or_else(|| "no answer in time".to_owned(), |error| error.to_string());
                return Err(format!(
                    "{}: the first fetch of {} failed: {reason}",
                    field(index),
                    handle.url()
                ));
            }
        }
        Ok(fetchers)
    }

    /// Re-reads every setting and, when the configuration is valid, puts it in force.
    async fn reload(&mut self, app: &App) -> Result<usize, String> {
        let secrets = self.secrets.load()?;
        let count = secrets.len();
        let (configuration, fetchers) = self.build(secrets).await?;
        app.replace(configuration);
        self.fetchers = fetchers;
        Ok(count)
    }

    /// The files the settings are read from.
    fn files(&self) -> Vec<PathBuf> {
        let admin = self.admin_secret.as_ref().and_then(Source::file);
        self.secrets.file().into_iter().chain(admin).map(PathBuf::from).collect()
    }
}

/// What reloading watches, taken before the configuration is first read, so that nothing that
/// happens after is missed: SIGHUP (listened for from now on, since its default action would
/// end the process) and the files' contents.
pub(crate) struct Watched {
    hangup: Option<tokio::signal::unix::Signal>,
    files: Vec<PathBuf>,
    seen: Vec<Option<Vec<u8>>>,
}

impl Watched {
    /// Starts listening for SIGHUP and notes the files' contents now.
    pub(crate) fn start(settings: &Settings) -> Result<Self, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let hangup = signal(SignalKind::hangup())
            .map_err(|error| format!("cannot listen for SIGHUP: {error}"))?;
        let files = settings.files();
        let seen = contents(&files);
        Ok(Self { hangup: Some(hangup), files, seen })
    }
}

/// Reloads on SIGHUP and when the content of a file a setting is read from changes, until the
/// process ends. A configuration that fails to build changes nothing.
pub(crate) async fn watch(app: std::sync::Arc<App>, mut settings: Settings, watched: Watched) {
    let Watched { mut hangup, files, mut seen } = watched;
    let mut poll = tokio::time::interval(FILE_POLL);
    loop {
        let trigger = tokio::select! {
            Some(()) = received(&mut hangup) => "SIGHUP",
            _ = poll.tick() => {
                if files.is_empty() || contents(&files) == seen {
                    continue;
                }
                "file change"
            }
        };
        seen = contents(&files);
        apply(&app, &mut settings, trigger).await;
    }
}

async fn apply(app: &App, settings: &mut Settings, trigger: &'static str) {
    match settings.reload(app).await {
        Ok(secrets) => {
            app.count_reload(true);
            tracing::info!(trigger, secrets, "configuration reloaded");
        }
        Err(error) => {
            app.count_reload(false);
            tracing::error!(trigger, %error, "configuration reload failed; keeping the one in force");
        }
    }
}

/// The next SIGHUP; never, when it cannot be listened for.
async fn received(hangup: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match hangup {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

/// Each file's content now (`None` when it cannot be read): a change is a reason to reload.
fn contents(files: &[PathBuf]) -> Vec<Option<Vec<u8>>> {
    files.iter().map(|path| std::fs::read(path).ok()).collect()
}
