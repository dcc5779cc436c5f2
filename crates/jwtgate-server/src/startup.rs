//! Start-up in docs/server.md's order: validate the configuration, fetch every `jwk_url` once,
//! bind, print the listening line, then log and serve until a signal.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use jwtgate_config::JwtSecret;
use jwtgate_jwks::{Fetchers, JwksHandle};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::cli::{LogFormat, ServeSettings};
use crate::sources::{SecretsInput, Source};
use crate::{demo, reload, server};
use jwtgate_server::App;

/// `config check`: the secrets normalised, as one JSON array.
pub(crate) fn config_check(input: &SecretsInput) -> Result<String, String> {
    let secrets = input.load()?;
    Ok(Value::Array(secrets.iter().map(JwtSecret::normalized).collect()).to_string())
}

/// `serve`, until SIGTERM or SIGINT.
pub(crate) async fn serve(settings: ServeSettings) -> Result<(), String> {
    let (secrets_input, demo_key) = if settings.demo {
        let key = demo::Key::generate()?;
        (SecretsInput::Single(Source::Value(key.secret_json())), Some(key))
    } else {
        (settings.secrets, None)
    };
    let mut config = reload::Settings {
        secrets: secrets_input,
        admin_secret: settings.admin_secret,
        unauthorized_role: settings.unauthorized_role,
        token_cache_size: settings.token_cache_size,
        jwks_required: settings.jwks_required,
        fetchers: Fetchers::default(),
    };
    let watched = reload::Watched::start(&config)?;
    let signalled = shutdown_signal()?;
    let (configuration, fetchers) = config.build(config.secrets.load()?).await?;
    config.fetchers = fetchers;
    let key_sets = configuration.key_sets().to_vec();
    let app = Arc::new(
        App::with_configuration(configuration)
            .map_err(|error| error.to_string())?
            .with_explain(settings.explain),
    );

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
    log_first_fetches(&key_sets);
    drop(key_sets);
    tracing::info!(address = %bound, "serving");
    let reloading = tokio::spawn(reload::watch(Arc::clone(&app), config, watched));
    let delay = settings.shutdown_delay;
    let shutting_down = Arc::clone(&app);
    let shutdown = async move {
        signalled.await;
        if !delay.is_zero() {
            // Still serving: a load balancer that polls /readyz stops sending meanwhile.
            shutting_down.shut_down_soon();
            tracing::info!(seconds = delay.as_secs(), "shutting down after --shutdown-delay");
            tokio::time::sleep(delay).await;
        }
    };
    server::serve(listener, app, settings.max_connections, shutdown).await;
    reloading.abort();
    tracing::info!("stopped");
    Ok(())
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

/// Listens for SIGTERM and SIGINT from now on (so one sent as soon as the listening line
/// appears is caught, not fatal); the future resolves on the first of them.
fn shutdown_signal() -> Result<impl Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|error| format!("cannot listen for {name}: {error}"))
    };
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
