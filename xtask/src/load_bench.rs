//! `cargo xtask load-bench`: requests per second of `jwtgate serve` (HS256 and RS256 tokens,
//! cache on and off) next to a bare hyper server answering a fixed body, measured with `wrk`
//! in alternating rounds so every ratio compares runs made moments apart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};

use crate::workspace_root;

const ROUNDS: usize = 5;
const SECONDS_PER_RUN: u32 = 5;

/// One server under load.
struct Target {
    name: &'static str,
    child: Child,
    url: String,
    authorization: Option<String>,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn run() -> ExitCode {
    match measure() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("load-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::too_many_lines, reason = "the measurement's steps in order")]
fn measure() -> Result<(), String> {
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err("wrk is needed (apt-get install wrk)".to_owned());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    let status = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "--locked", "-p", "jwtgate-server", "--bin", "jwtgate"])
        .args(["--example", "bare_hyper", "--example", "load_tokens"])
        .status()
        .map_err(|error| format!("cargo build: {error}"))?;
    if !status.success() {
        return Err("the release build failed".to_owned());
    }
    let release = root.join("target/release");
    let tokens = Command::new(release.join("examples/load_tokens"))
        .output()
        .map_err(|error| format!("load_tokens: {error}"))?;
    let tokens = String::from_utf8_lossy(&tokens.stdout).into_owned();
    let value = |name: &str| {
        tokens
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .ok_or_else(|| format!("load_tokens printed no {name}"))
    };
    let jwtgate = release.join("jwtgate");
    let mut targets =
        vec![start("bare hyper", Command::new(release.join("examples/bare_hyper")), None)?];
    for (alg, cache) in [("HS256", "10000"), ("HS256", "0"), ("RS256", "10000"), ("RS256", "0")] {
        let mut command = Command::new(&jwtgate);
        command
            .args(["serve", "--port", "0", "--token-cache-size", cache, "--jwt-secret"])
            .arg(value(&format!("{alg}_SECRET"))?)
            .env("RUST_LOG", "warn");
        let name = match (alg, cache) {
            ("HS256", "0") => "jwtgate HS256, cache off",
            ("HS256", _) => "jwtgate HS256, cache on",
            ("RS256", "0") => "jwtgate RS256, cache off",
            _ => "jwtgate RS256, cache on",
        };
        targets.push(start(
            name,
            command,
            Some(format!("Bearer {}", value(&format!("{alg}_TOKEN"))?)),
        )?);
    }

    // rates[target][round]
    let mut rates = vec![Vec::new(); targets.len()];
    for round in 1..=ROUNDS {
        for (index, target) in targets.iter().enumerate() {
            let rate = wrk(target)?;
            println!("round {round}: {:<26} {rate:>10.0} requests/s", target.name);
            if let Some(series) = rates.get_mut(index) {
                series.push(rate);
            }
        }
    }
    let bare = rates.first().cloned().unwrap_or_default();
    println!("\n| server | median requests/s | median ratio to bare hyper |\n|---|---|---|");
    for (target, series) in targets.iter().zip(&rates) {
        let ratios: Vec<f64> = series.iter().zip(&bare).map(|(rate, base)| rate / base).collect();
        println!("| {} | {:.0} | {:.2}x |", target.name, median(series), median(&ratios));
    }
    Ok(())
}

/// Starts a server and reads its listening line.
fn start(
    name: &'static str,
    mut command: Command,
    authorization: Option<String>,
) -> Result<Target, String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("{name}: {error}"))?;
    let stdout = child.stdout.take().ok_or_else(|| format!("{name}: no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|error| format!("{name}: {error}"))?;
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http://"))
        .ok_or_else(|| format!("{name}: unexpected first line {line:?}"))?
        .to_owned();
    Ok(Target { name, child, url: format!("{url}/v1/auth"), authorization })
}

/// One `wrk -t2 -c64` run; returns requests per second.
fn wrk(target: &Target) -> Result<f64, String> {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c64", &format!("-d{SECONDS_PER_RUN}s")]);
    if let Some(authorization) = &target.authorization {
        command.args(["-H", &format!("Authorization: {authorization}")]);
    }
    let output = command.arg(&target.url).output().map_err(|error| format!("wrk: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if text.contains("Non-2xx") {
        return Err(format!("{}: non-2xx answers under load:\n{text}", target.name));
    }
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
        .ok_or_else(|| format!("{}: no Requests/sec in wrk's output:\n{text}", target.name))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}
