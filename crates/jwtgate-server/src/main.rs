//! `jwtgate`: a Hasura auth webhook and forward-auth target that verifies JWTs exactly as Hasura
//! GraphQL Engine v2 does. Thin glue over `jwtgate-core`; the outside behaviour is
//! its contract (flags, variables, endpoints and answers) is docs/server.md.

mod cli;
mod coarse_timer;
mod demo;
mod explain_command;
mod healthcheck;
mod reload;
mod server;
mod sources;
mod startup;

use std::io::Write as _;
use std::process::ExitCode;

use cli::Invocation;

/// mimalloc: allocation-heavy request handling on many threads is its strength, and it cut the
/// server's CPU per request measurably against glibc's malloc (see the README's load figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let explaining = std::env::args_os().nth(1).is_some_and(|command| command == "explain");
    let invocation = match cli::parse(std::env::args_os()) {
        Ok(invocation) => invocation,
        // `explain` keeps exit 1 for a denial: its usage errors exit 2.
        Err(usage) => return fail_with(&usage, if explaining { 2 } else { 1 }),
    };
    match invocation {
        Invocation::Print(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Invocation::ConfigCheck(input) => match startup::config_check(&input) {
            Ok(json) => {
                let _ = writeln!(std::io::stdout(), "{json}");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        },
        Invocation::Explain(settings) => {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => return fail_with(&format!("cannot start the runtime: {error}"), 2),
            };
            match runtime.block_on(explain_command::run(settings)) {
                Ok(explained) => {
                    let _ = std::io::stdout().write_all(explained.output.as_bytes());
                    ExitCode::from(u8::from(explained.status != 200))
                }
                Err(error) => fail_with(&error, 2),
            }
        }
        Invocation::Healthcheck(url) => match healthcheck::check(&url) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error),
        },
        Invocation::Serve(settings) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => return fail(&format!("cannot start the runtime: {error}")),
            };
            match runtime.block_on(startup::serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => fail(&error),
            }
        }
    }
}

/// The one stderr line of a start-up failure, and exit status 1.
fn fail(message: &str) -> ExitCode {
    fail_with(message, 1)
}

/// The one stderr line of a failure, and this exit status.
fn fail_with(message: &str, status: u8) -> ExitCode {
    let line = message.replace('\n', " ");
    let _ = writeln!(std::io::stderr(), "jwtgate: {line}");
    ExitCode::from(status)
}
