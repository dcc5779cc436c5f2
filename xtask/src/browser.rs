//! `cargo xtask browser`: the explain page in a real browser. Installs the pinned
//! `playwright-core` (`npm ci` in `tests/browser/`), starts the `jwtgate` binary with
//! `--explain` on a loopback port, and runs `tests/browser/explain.mjs` against it with Debian's
//! chromium; screenshots land in `target/explain-screenshots/`.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};

use crate::workspace_root;

/// The HS256 secret the server runs with and the script signs with.
const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes-for-the-page";

/// Kills the server when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run() -> ExitCode {
    match drive() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("browser: {error}");
            ExitCode::FAILURE
        }
    }
}

fn drive() -> Result<bool, String> {
    let root = workspace_root();
    let scripts = root.join("tests").join("browser");
    let succeeded = |command: &mut Command, what: &str| -> Result<(), String> {
        let status = command.status().map_err(|error| format!("{what}: {error}"))?;
        if status.success() { Ok(()) } else { Err(format!("{what} failed: {status}")) }
    };
    succeeded(
        Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&scripts),
        "npm ci in tests/browser",
    )?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    succeeded(
        Command::new(&cargo)
            .args(["build", "--locked", "-p", "jwtgate-server", "--bin", "jwtgate"])
            .current_dir(&root),
        "building jwtgate",
    )?;
    let secret = format!(r#"{{"type": "HS256", "key": "{SECRET}"}}"#);
    let mut child = Command::new(root.join("target").join("debug").join("jwtgate"))
        .args(["serve", "--port", "0", "--explain", "--jwt-secret", &secret])
        .env_remove("HASURA_GRAPHQL_ADMIN_SECRET")
        .env_remove("HASURA_GRAPHQL_ADMIN_SECRET_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("starting jwtgate: {error}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|error| error.to_string())?;
    let address = line
        .trim()
        .strip_prefix("jwtgate listening on ")
        .ok_or_else(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let screenshots = root.join("target").join("explain-screenshots");
    let status = Command::new("node")
        .arg("explain.mjs")
        .arg(&address)
        .arg(SECRET)
        .arg(&screenshots)
        .current_dir(&scripts)
        .status()
        .map_err(|error| format!("running node: {error}"))?;
    drop(server);
    Ok(status.success())
}
