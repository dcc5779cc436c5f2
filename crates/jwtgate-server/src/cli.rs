//! The command line and environment (docs/server.md "Command line"), resolved into settings.

#![expect(
    clippy::doc_markdown,
    reason = "the doc comments of the arguments are --help text, shown as written"
)]

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use jwtgate_core::DEFAULT_TOKEN_CACHE_SIZE;

use crate::sources::{SecretsInput, Source};

/// How the process was asked to run.
pub(crate) enum Invocation {
    /// `serve`.
    Serve(ServeSettings),
    /// `config check`.
    ConfigCheck(SecretsInput),
    /// `explain`.
    Explain(ExplainSettings),
    /// `healthcheck`: the URL to GET.
    Healthcheck(String),
    /// `--help` or `--version`: print this to stdout and exit 0.
    Print(String),
}

/// The `log` output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// Everything `serve` needs.
pub(crate) struct ServeSettings {
    pub(crate) secrets: SecretsInput,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) admin_secret: Option<Source>,
    pub(crate) unauthorized_role: Option<String>,
    pub(crate) jwks_required: bool,
    pub(crate) token_cache_size: usize,
    pub(crate) max_connections: usize,
    pub(crate) log_format: LogFormat,
    pub(crate) demo: bool,
    /// `--explain`: `POST /v1/explain` and `GET /explain` answered.
    pub(crate) explain: bool,
    /// `--shutdown-delay`: seconds between SIGTERM and the end of accepting, `/readyz` 503.
    pub(crate) shutdown_delay: std::time::Duration,
}

/// Everything `explain` needs.
pub(crate) struct ExplainSettings {
    pub(crate) secrets: SecretsInput,
    pub(crate) admin_secret: Option<Source>,
    pub(crate) unauthorized_role: Option<String>,
    /// The token, or `-` for stdin.
    pub(crate) token: Option<String>,
    /// `--header` values as given.
    pub(crate) headers: Vec<String>,
    /// `--at` as given.
    pub(crate) at: Option<String>,
    pub(crate) json: bool,
}

#[derive(Parser)]
#[command(
    name = "jwtgate",
    version,
    about = "Verifies JWTs exactly as Hasura GraphQL Engine v2 does"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the auth webhook and forward-auth endpoints.
    Serve(ServeArgs),
    /// Explain the verdict on a token (or request headers), step by step.
    Explain(ExplainArgs),
    /// Exit 0 when the server's /healthz answers 200, else 1 (a container health check).
    Healthcheck(HealthcheckArgs),
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the secrets and print them normalised, without network calls.
    Check(SecretArgs),
}

#[derive(Args)]
#[expect(
    clippy::struct_field_names,
    reason = "the fields are the flags, named as Hasura names them"
)]
struct SecretArgs {
    /// One JWT secret (JSON object), as HASURA_GRAPHQL_JWT_SECRET.
    #[arg(long, value_name = "JSON", env = "HASURA_GRAPHQL_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Several JWT secrets (JSON array), as HASURA_GRAPHQL_JWT_SECRETS.
    #[arg(
        long,
        value_name = "JSON_ARRAY",
        env = "HASURA_GRAPHQL_JWT_SECRETS",
        hide_env_values = true
    )]
    jwt_secrets: Option<String>,
    /// A file holding one JWT secret; re-read on change and on SIGHUP.
    #[arg(long, value_name = "PATH", env = "HASURA_GRAPHQL_JWT_SECRET_FILE")]
    jwt_secret_file: Option<String>,
    /// A file holding the JWT secrets (JSON array); re-read on change and on SIGHUP.
    #[arg(long, value_name = "PATH", env = "HASURA_GRAPHQL_JWT_SECRETS_FILE")]
    jwt_secrets_file: Option<String>,
}

/// Who may pass without a token.
#[derive(Args)]
struct AccessArgs {
    /// The admin secret (HASURA_GRAPHQL_ADMIN_SECRET).
    #[arg(long, env = "HASURA_GRAPHQL_ADMIN_SECRET", hide_env_values = true)]
    admin_secret: Option<String>,
    /// A file holding the admin secret; re-read on change and on SIGHUP.
    #[arg(long, value_name = "PATH", env = "HASURA_GRAPHQL_ADMIN_SECRET_FILE")]
    admin_secret_file: Option<String>,
    /// The role of requests without credentials (HASURA_GRAPHQL_UNAUTHORIZED_ROLE).
    #[arg(long, env = "HASURA_GRAPHQL_UNAUTHORIZED_ROLE")]
    unauthorized_role: Option<String>,
}

#[derive(Args)]
struct ExplainArgs {
    /// The token; `-` reads it from stdin (better: an argument stays in the shell's history).
    #[arg(value_name = "TOKEN")]
    token: Option<String>,
    /// A request header, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// The time of the check, RFC 3339 or Unix seconds [default: now].
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    secrets: SecretArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct HealthcheckArgs {
    /// The URL to GET [default: http://127.0.0.1:<JWTGATE_PORT or 8081>/healthz].
    #[arg(long)]
    url: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    secrets: SecretArgs,
    /// The address or name to listen on [default: 127.0.0.1].
    #[arg(long, env = "JWTGATE_HOST")]
    host: Option<String>,
    /// The port to listen on; 0 picks a free one [default: 8081].
    #[arg(long, env = "JWTGATE_PORT")]
    port: Option<String>,
    #[command(flatten)]
    access: AccessArgs,
    /// Fail start-up when a jwk_url's first fetch fails (JWTGATE_JWKS_REQUIRED=1|true).
    #[arg(long)]
    jwks_required: bool,
    /// Entries of the verified-token cache; 0 turns it off [default: 10000].
    #[arg(long, env = "JWTGATE_TOKEN_CACHE_SIZE")]
    token_cache_size: Option<String>,
    /// Connections open at once; one more is closed at once [default: 10000].
    #[arg(long, env = "JWTGATE_MAX_CONNECTIONS")]
    max_connections: Option<String>,
    /// `text` or `json` [default: text].
    #[arg(long, env = "JWTGATE_LOG_FORMAT")]
    log_format: Option<String>,
    /// Serve with a random HS256 secret and print a token and a curl command.
    #[arg(long)]
    demo: bool,
    /// Answer POST /v1/explain and GET /explain (JWTGATE_EXPLAIN=1|true).
    #[arg(long)]
    explain: bool,
    /// Seconds to keep serving after SIGTERM or SIGINT, /readyz answering 503, before the
    /// drain (for load balancers that need time to stop sending) [default: 0].
    #[arg(long, value_name = "S", env = "JWTGATE_SHUTDOWN_DELAY")]
    shutdown_delay: Option<String>,
}

/// Parses the command line (and environment); a usage error is one line of text.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, String> {
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Ok(Invocation::Print(error.render().to_string()))
                }
                _ => Err(one_line(&error.render().to_string())),
            };
        }
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|error| one_line(&error.to_string()))?;
    match cli.command {
        Command::Config { command: ConfigCommand::Check(secrets) } => {
            let sub = subcommand_matches(&matches, &["config", "check"]);
            Ok(Invocation::ConfigCheck(secrets_input(secrets, sub)?))
        }
        Command::Explain(args) => {
            let sub = subcommand_matches(&matches, &["explain"]);
            let (admin_secret, unauthorized_role) = access(args.access, sub)?;
            Ok(Invocation::Explain(ExplainSettings {
                secrets: secrets_input(args.secrets, sub)?,
                admin_secret,
                unauthorized_role,
                token: non_empty(args.token),
                headers: args.headers,
                at: non_empty(args.at),
                json: args.json,
            }))
        }
        Command::Serve(args) => {
            let sub = subcommand_matches(&matches, &["serve"]);
            serve_settings(args, sub).map(Invocation::Serve)
        }
        Command::Healthcheck(args) => healthcheck_url(args.url).map(Invocation::Healthcheck),
    }
}

/// `healthcheck`'s URL: `--url`, else `/healthz` on the loopback port `serve` would use.
fn healthcheck_url(url: Option<String>) -> Result<String, String> {
    if let Some(url) = non_empty(url) {
        return Ok(url);
    }
    let port = parsed(std::env::var("JWTGATE_PORT").ok(), "JWTGATE_PORT", 8081_u16)?;
    Ok(format!("http://127.0.0.1:{port}/healthz"))
}

/// `serve`'s settings from its arguments.
fn serve_settings(args: ServeArgs, sub: Option<&ArgMatches>) -> Result<ServeSettings, String> {
    let jwks_required = args.jwks_required || env_switch("JWTGATE_JWKS_REQUIRED")?;
    let explain = args.explain || env_switch("JWTGATE_EXPLAIN")?;
    let (admin_secret, unauthorized_role) = access(args.access, sub)?;
    Ok(ServeSettings {
        secrets: secrets_input(args.secrets, sub)?,
        host: non_empty(args.host).unwrap_or_else(|| "127.0.0.1".to_owned()),
        port: parsed(args.port, "--port", 8081)?,
        admin_secret,
        unauthorized_role,
        jwks_required,
        token_cache_size: parsed(
            args.token_cache_size,
            "--token-cache-size",
            DEFAULT_TOKEN_CACHE_SIZE,
        )?,
        max_connections: match parsed(args.max_connections, "--max-connections", 10_000)? {
            0 => return Err("invalid value '0' for '--max-connections'".to_owned()),
            n => n,
        },
        log_format: match non_empty(args.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(format!(
                    "invalid value '{other}' for '--log-format': expected text or json"
                ));
            }
        },
        demo: args.demo,
        explain,
        shutdown_delay: std::time::Duration::from_secs(parsed(
            args.shutdown_delay,
            "--shutdown-delay",
            0_u64,
        )?),
    })
}

fn subcommand_matches<'m>(matches: &'m ArgMatches, path: &[&str]) -> Option<&'m ArgMatches> {
    path.iter().try_fold(matches, |matches, name| matches.subcommand_matches(name))
}

/// A setting's argument id, flag and variable, for its value and for its file form.
type Names = [(&'static str, &'static str, &'static str); 2];

const JWT_SECRETS_NAMES: Names = [
    ("jwt_secrets", "--jwt-secrets", "HASURA_GRAPHQL_JWT_SECRETS"),
    ("jwt_secrets_file", "--jwt-secrets-file", "HASURA_GRAPHQL_JWT_SECRETS_FILE"),
];
const JWT_SECRET_NAMES: Names = [
    ("jwt_secret", "--jwt-secret", "HASURA_GRAPHQL_JWT_SECRET"),
    ("jwt_secret_file", "--jwt-secret-file", "HASURA_GRAPHQL_JWT_SECRET_FILE"),
];
const ADMIN_SECRET_NAMES: Names = [
    ("admin_secret", "--admin-secret", "HASURA_GRAPHQL_ADMIN_SECRET"),
    ("admin_secret_file", "--admin-secret-file", "HASURA_GRAPHQL_ADMIN_SECRET_FILE"),
];

/// One setting as clap read it (each from its flag, else its variable): the value and the file
/// form.
struct Setting {
    value: Option<String>,
    file: Option<String>,
    names: Names,
}

/// Where a setting comes from, and whether from the command line; a value and a file together
/// (by flag or variable) are a usage error.
fn resolve(
    setting: Setting,
    matches: Option<&ArgMatches>,
) -> Result<Option<(bool, Source)>, String> {
    let from_flag =
        |id: &str| matches.and_then(|m| m.value_source(id)) == Some(ValueSource::CommandLine);
    let name = |(id, flag, variable): (&str, &'static str, &'static str)| {
        if from_flag(id) { flag } else { variable }
    };
    let [value_names, file_names] = setting.names;
    match (non_empty(setting.value), non_empty(setting.file)) {
        (Some(_), Some(_)) => Err(format!(
            "{} and {} are both set: give the value or the file, not both",
            name(value_names),
            name(file_names)
        )),
        (Some(value), None) => Ok(Some((from_flag(value_names.0), Source::Value(value)))),
        (None, Some(path)) => Ok(Some((
            from_flag(file_names.0),
            Source::File { named_by: name(file_names), path: path.into() },
        ))),
        (None, None) => Ok(None),
    }
}

/// The admin secret's source and the unauthorized role.
fn access(
    args: AccessArgs,
    matches: Option<&ArgMatches>,
) -> Result<(Option<Source>, Option<String>), String> {
    let admin = Setting {
        value: args.admin_secret,
        file: args.admin_secret_file,
        names: ADMIN_SECRET_NAMES,
    };
    let admin_secret = resolve(admin, matches)?.map(|(_, source)| source);
    Ok((admin_secret, non_empty(args.unauthorized_role)))
}

/// The secrets in docs/server.md's order: flags before variables, the list before the single
/// one, each file form beside its value form.
fn secrets_input(args: SecretArgs, matches: Option<&ArgMatches>) -> Result<SecretsInput, String> {
    let list =
        Setting { value: args.jwt_secrets, file: args.jwt_secrets_file, names: JWT_SECRETS_NAMES };
    let single =
        Setting { value: args.jwt_secret, file: args.jwt_secret_file, names: JWT_SECRET_NAMES };
    let list = resolve(list, matches)?;
    let single = resolve(single, matches)?;
    let from_flag =
        |setting: &Option<(bool, Source)>| setting.as_ref().is_some_and(|(flag, _)| *flag);
    let input = if from_flag(&list) || (!from_flag(&single) && list.is_some()) {
        list.map(|(_, source)| SecretsInput::List(source))
    } else {
        single.map(|(_, source)| SecretsInput::Single(source))
    };
    Ok(input.unwrap_or(SecretsInput::Missing))
}

/// An empty value counts as not set.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

fn parsed<T: std::str::FromStr>(
    value: Option<String>,
    flag: &str,
    default: T,
) -> Result<T, String> {
    match non_empty(value) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| format!("invalid value '{text}' for '{flag}'")),
    }
}

/// `JWTGATE_JWKS_REQUIRED`: `1` or `true` on; `0`, `false` or empty off; else a usage error.
fn env_switch(name: &str) -> Result<bool, String> {
    match std::env::var(name).as_deref() {
        Err(_) | Ok("" | "0" | "false") => Ok(false),
        Ok("1" | "true") => Ok(true),
        Ok(other) => {
            Err(format!("invalid value '{other}' for {name}: expected 1, true, 0 or false"))
        }
    }
}

/// clap's first line, without its `error: ` prefix.
fn one_line(text: &str) -> String {
    let first = text.lines().find(|line| !line.trim().is_empty()).unwrap_or("invalid usage");
    first.strip_prefix("error: ").unwrap_or(first).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_cache_size_help_names_the_library_default() {
        let mut command = Cli::command();
        let serve = command.find_subcommand_mut("serve").map(clap::Command::render_help);
        let help = serve.map(|help| help.to_string()).unwrap_or_default();
        let line = help.lines().skip_while(|line| !line.contains("--token-cache-size")).nth(1);
        let wanted = format!("[default: {DEFAULT_TOKEN_CACHE_SIZE}]");
        assert!(line.is_some_and(|line| line.contains(&wanted)), "{wanted} in {help}");
    }
}
