//! Start-up in docs/server.md's order: validate the configuration, fetch every `jwk_url` once,
//! bind, print the listening line, then log and serve until a signal.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jwtgate_config::{JwtSecret, KeySource, parse_jwt_secret, parse_jwt_secrets};
use jwtgate_core::{Authenticator, AuthenticatorConfig};
use jwtgate_jwks::{FetchSettings, Fetchers, JwksHandle, JwksOptions, KeySet as _};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::cli::{LogFormat, SecretsInput, ServeSettings};
use crate::{demo, server};
use jwtgate_server::App;

/// How long start-up waits for the first fetch of each `jwk_url` (the fetch timeout, plus a
/// little for the task to report).
const FIRST_FETCH_WAIT: Duration =
    FetchSettings::DEFAULT_TIMEOUT.saturating_add(Duration::from_secs(1));

/// The secrets, validated; the error names the field (`jwt_secret.<field>` or
/// `jwt_secrets[i].<field>`).
pub(crate) fn load_secrets(input: &SecretsInput) -> Result<Vec<JwtSecret>, String> {
    match input {
        SecretsInput::List(json) => parse_jwt_secrets(json).map_err(|error| error.to_string()),
        SecretsInput::Single(json) => {
            parse_jwt_secret(json).map(|secret| vec![secret]).map_err(|error| error.to_string())
        }
        SecretsInput::Missing => Err("no JWT secret configured: set --jwt-secret, --jwt-secrets, \
             HASURA_GRAPHQL_JWT_SECRET or HASURA_GRAPHQL_JWT_SECRETS"
            .to_owned()),
    }
}

/// `config check`: the secrets normalised, as one JSON array.
pub(crate) fn config_check(input: &SecretsInput) -> Result<String, String> {
    let secrets = load_secrets(input)?;
    Ok(Value::Array(secrets.iter().map(JwtSecret::normalized).collect()).to_string())
}

/// `serve`, until SIGTERM or SIGINT.
pub(crate) async fn serve(settings: ServeSettings) -> Result<(), String> {
    let (secrets, demo_key) = if settings.demo {
        let key = demo::Key::generate()?;
        (vec![key.secret()?], Some(key))
    } else {
        (load_secrets(&settings.secrets)?, None)
    };
    let field_prefix = |index: usize| match settings.secrets {
        SecretsInput::List(_) if !settings.demo => format!("jwt_secrets[{index}]"),
        _ => "jwt_secret".to_owned(),
    };
    let key_sets = start_key_sets(&secrets, &field_prefix, settings.jwks_required).await?;
    let mut config = AuthenticatorConfig::new(secrets);
    config.admin_secret = settings.admin_secret.map(Into::into);
    config.unauthorized_role = settings.unauthorized_role;
    config.token_cache_size = settings.token_cache_size;
    let authenticator = Authenticator::new(config, |url| key_sets.key_set(url));
    let app =
        App::new(authenticator, key_sets.into_handles()).map_err(|error| error.to_string())?;

    let low_open_files_limit = server::raise_open_files_limit(settings.max_connections);
    let listener = listen(&settings.host, settings.port).await?;
    let bound = announce(&listener, demo_key.as_ref())?;
    init_logging(settings.log_format);
    if let Some(limit) = low_open_files_limit {
        tracing::warn!(
            open_files_limit = limit,
            max_connections = settings.max_connections,
            "the open-files limit {limit} is below --max-connections {} + 64",
            settings.max_connections
        );
    }
    log_first_fetches(app.key_sets());
    tracing::info!(address = %bound, "serving");
    server::serve(listener, Arc::new(app), settings.max_connections, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// One fetcher per distinct URL, all fetching at once; waits for each first fetch, which must
/// succeed under `--jwks-required`.
async fn start_key_sets(
    secrets: &[JwtSecret],
    field_prefix: &dyn Fn(usize) -> String,
    jwks_required: bool,
) -> Result<Fetchers, String> {
    // The field a key set comes from, for the error lines.
    let field = |index: usize| {
        let name = match secrets.get(index).map(JwtSecret::key_source) {
            Some(KeySource::Discovery(_)) => "issuer_discovery",
            _ => "jwk_url",
        };
        format!("{}.{name}", field_prefix(index))
    };
    let fetchers = Fetchers::start(secrets, &JwksOptions::default())
        .map_err(|error| format!("{}: {error}", field(error.secret)))?;
    for (index, handle) in fetchers.iter() {
        let _ = tokio::time::timeout(FIRST_FETCH_WAIT, handle.wait_for_attempts(1)).await;
        if jwks_required && handle.current().is_empty() {
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

/// Binds `--host` and `--port`.
async fn listen(host: &str, port: u16) -> Result<TcpListener, String> {
    let address = resolve(host, port).await?;
    TcpListener::bind(address).await.map_err(|error| format!("cannot listen on {address}: {error}"))
}

/// The listening line on stdout (and the demo's token and command), before any log line.
fn announce(listener: &TcpListener, demo_key: Option<&demo::Key>) -> Result<SocketAddr, String> {
    let bound =
        listener.local_addr().map_err(|error| format!("cannot read the bound address: {error}"))?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "jwtgate listening on http://{bound}");
    if let Some(key) = demo_key {
        let token = key.token()?;
        let _ = writeln!(stdout, "token: {token}");
        let _ =
            writeln!(stdout, "curl -sS -H 'Authorization: Bearer {token}' http://{bound}/v1/auth");
    }
    let _ = stdout.flush();
    Ok(bound)
}

/// One log line per key set on how its start-up fetch went.
fn log_first_fetches(key_sets: &[JwksHandle]) {
    for key_set in key_sets {
        let status = key_set.status();
        match status.last_attempt.map(|attempt| attempt.outcome) {
            Some(Ok(keys)) => {
                tracing::info!(url = %status.url, keys, proxy = status.proxy.as_deref().map(tracing::field::display), "JWKS fetched at start-up");
            }
            Some(Err(error)) => {
                tracing::warn!(url = %status.url, %error, "JWKS start-up fetch failed; serving without its keys and retrying");
            }
            None => tracing::warn!(url = %status.url, "JWKS start-up fetch still running"),
        }
    }
}

/// `--host` as an IP address, or a name's first resolved address.
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| format!("cannot resolve --host {host}: {error}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve --host {host}: no address"))
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // A subscriber already set (only possible in-process) keeps its place.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminate = async move {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}
