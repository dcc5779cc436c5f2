//! `jwtgate`: a Hasura auth webhook and forward-auth target that verifies JWTs exactly as Hasura
//! GraphQL Engine v2 does. Thin glue over `jwtgate-core`; the outside behaviour is
//! its contract (flags, variables, endpoints and answers) is docs/server.md.

mod cli;
mod demo;
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
    let invocation = match cli::parse(std::env::args_os()) {
        Ok(invocation) => invocation,
        Err(usage) => return fail(&usage),
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
    let line = message.replace('\n', " ");
    let _ = writeln!(std::io::stderr(), "jwtgate: {line}");
    ExitCode::FAILURE
}
