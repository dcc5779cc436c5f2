//! `cargo xtask load-bench`: requests per second of `jwtgate serve` (HS256 and RS256 tokens,
//! cache on and off) next to a bare hyper server answering the same response from static
//! parts, measured with `wrk`
//! in alternating rounds so every ratio compares runs made moments apart; and each server's CPU
//! time per request (user plus system, from `/proc/<pid>/stat`), which a busy machine changes
//! far less than the rates. The medians go to `crates/jwtgate-bench/results/load-bench.tsv`,
//! which `jwtgate-bench`'s `charts` binary draws.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};

use crate::workspace_root;

// Shared with jwtgate-bench's `charts` without a dependency.
#[path = "../../crates/jwtgate-bench/src/stamp.rs"]
mod stamp;
use stamp::{machine, today};

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
    let mut targets = Vec::new();
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
    // The baseline answers exactly what jwtgate answers for the HS256 token (the RS256 token
    // carries the same claims).
    let mut bare = Command::new(release.join("examples/bare_hyper"));
    bare.arg("127.0.0.1:0");
    if let Some(first) = targets.first() {
        let (body, headers) = session_answer(first)?;
        bare.arg(body).args(headers);
    }
    targets.insert(0, start("bare hyper", bare, None)?);

    let ticks_per_second = clock_ticks_per_second()?;
    // rates[target][round], and CPU microseconds per request likewise
    let mut rates = vec![Vec::new(); targets.len()];
    let mut cpu = vec![Vec::new(); targets.len()];
    for round in 1..=ROUNDS {
        for (index, target) in targets.iter().enumerate() {
            let before = cpu_ticks(target)?;
            let run = wrk(target)?;
            let ticks = cpu_ticks(target)?.saturating_sub(before);
            #[expect(clippy::cast_precision_loss, reason = "tick and request counts are small")]
            let micros = ticks as f64 / ticks_per_second * 1e6 / run.requests as f64;
            println!(
                "round {round}: {:<26} {:>10.0} requests/s {micros:>6.2} µs CPU/request",
                target.name, run.rate
            );
            if let (Some(series), Some(cpu)) = (rates.get_mut(index), cpu.get_mut(index)) {
                series.push(run.rate);
                cpu.push(micros);
            }
        }
    }
    let bare = rates.first().cloned().unwrap_or_default();
    let bare_cpu = median(cpu.first().map(Vec::as_slice).unwrap_or_default());
    let mut table = String::from(
        "| server | median requests/s | median ratio to bare hyper | CPU µs/request | CPU beyond bare hyper |\n|---|---|---|---|---|\n",
    );
    let mut tsv = format!(
        "# cargo xtask load-bench, {}, {}\nserver\trequests_per_second\tratio_to_bare_hyper\tcpu_us_per_request\n",
        today(),
        machine()
    );
    for ((target, series), cpu) in targets.iter().zip(&rates).zip(&cpu) {
        let ratios: Vec<f64> = series.iter().zip(&bare).map(|(rate, base)| rate / base).collect();
        let (rate, ratio, cpu) = (median(series), median(&ratios), median(cpu));
        let _ = writeln!(
            table,
            "| {} | {rate:.0} | {ratio:.2}x | {cpu:.2} | {:+.2} |",
            target.name,
            cpu - bare_cpu
        );
        let _ = writeln!(tsv, "{}\t{rate:.0}\t{ratio:.3}\t{cpu:.3}", target.name);
    }
    println!("\n{table}");
    let results = root.join("crates/jwtgate-bench/results");
    std::fs::create_dir_all(&results)
        .and_then(|()| std::fs::write(results.join("load-bench.tsv"), tsv))
        .map_err(|error| format!("writing the results: {error}"))?;
    println!("written to crates/jwtgate-bench/results/load-bench.tsv");
    Ok(())
}

/// The kernel's clock ticks per second, the unit of `/proc/<pid>/stat`'s CPU times.
fn clock_ticks_per_second() -> Result<f64, String> {
    let output = Command::new("getconf").arg("CLK_TCK").output();
    output
        .ok()
        .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .ok_or_else(|| "getconf CLK_TCK failed".to_owned())
}

/// The server's user plus system CPU time so far, in clock ticks (`/proc/<pid>/stat` fields 14
/// and 15, counted after the command name, which may hold spaces).
fn cpu_ticks(target: &Target) -> Result<u64, String> {
    let path = format!("/proc/{}/stat", target.child.id());
    let stat = std::fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the name: field 3 (state) is index 0, so fields 14 and 15 are indices 11 and 12.
    let field = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok());
    match (field(11), field(12)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => Err(format!("{path}: no CPU times in {stat:?}")),
    }
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

/// The body and `x-hasura-*` headers (as `name: value`) a server answers `target`'s request
/// with, read over a plain HTTP/1.1 connection.
fn session_answer(target: &Target) -> Result<(String, Vec<String>), String> {
    use std::io::{Read as _, Write as _};
    let failed = |error: std::io::Error| format!("{}: {error}", target.name);
    let address = target
        .url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(address, _)| address)
        .ok_or_else(|| format!("{}: no address in {}", target.name, target.url))?;
    let mut stream = std::net::TcpStream::connect(address).map_err(failed)?;
    let authorization = target.authorization.as_deref().unwrap_or_default();
    write!(
        stream,
        "GET /v1/auth HTTP/1.1\r\nHost: {address}\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
    )
    .map_err(failed)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(failed)?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .filter(|(head, _)| head.starts_with("HTTP/1.1 200"))
        .ok_or_else(|| format!("{}: not a 200 answer: {answer:?}", target.name))?;
    let headers = head
        .lines()
        .filter(|line| line.to_ascii_lowercase().starts_with("x-hasura-"))
        .map(str::to_owned)
        .collect();
    Ok((body.to_owned(), headers))
}

/// One `wrk` run's figures.
struct Run {
    rate: f64,
    requests: u64,
}

/// One `wrk -t2 -c64` run.
fn wrk(target: &Target) -> Result<Run, String> {
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
    let rate = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok());
    // "  895006 requests in 12.03s, 425.92MB read"
    let requests = text.lines().find_map(|line| {
        line.split_once(" requests in ").and_then(|(count, _)| count.trim().parse::<u64>().ok())
    });
    match (rate, requests) {
        (Some(rate), Some(requests)) if requests > 0 => Ok(Run { rate, requests }),
        _ => Err(format!("{}: no rate or request count in wrk's output:\n{text}", target.name)),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}
