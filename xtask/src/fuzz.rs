//! `cargo xtask fuzz [--seconds N] [--sanitizer address|none] [TARGET]`: the cargo-fuzz targets
//! of `fuzz/`, seeded from `fixtures/`.
//!
//! Seeds are rendered by `jwtgate-conformance`'s `fuzz-seeds` into `target/fuzz-corpus/<target>/`
//! (which keeps what libFuzzer adds); crash inputs land in `target/fuzz-artifacts/<target>/`.
//! The targets build with the nightly toolchain; without it the task fails saying so.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::workspace_root;

/// What one target's run reported.
struct Outcome {
    target: String,
    ok: bool,
    runs: String,
    corpus: String,
}

struct Options {
    seconds: u64,
    sanitizer: String,
    target: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { seconds: 10, sanitizer: "address".to_owned(), target: None };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                options.seconds = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|seconds| *seconds > 0)
                    .ok_or("--seconds takes a positive number")?;
            }
            "--sanitizer" => {
                let sanitizer = args
                    .next()
                    .filter(|value| matches!(value.as_str(), "address" | "none"))
                    .ok_or("--sanitizer takes `address` or `none`")?;
                options.sanitizer.clone_from(sanitizer);
            }
            target if !target.starts_with('-') && options.target.is_none() => {
                options.target = Some(target.to_owned());
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(options)
}

pub(crate) fn run(args: &[String]) -> ExitCode {
    match fuzz(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("cargo xtask fuzz: {error}");
            ExitCode::FAILURE
        }
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "the task's steps in order: seeds, build, then each target"
)]
fn fuzz(args: &[String]) -> Result<bool, String> {
    let options = parse(args)?;
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    let corpus_root = root.join("target").join("fuzz-corpus");
    let artifacts_root = root.join("target").join("fuzz-artifacts");
    let target_dir = root.join("target").join("fuzz");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());

    // Never skip silently: no nightly or no cargo-fuzz stops the task with the reason.
    check_toolchain(TOOLCHAIN)?;
    println!("==> fuzz seeds from fixtures/ into {}", corpus_root.display());
    let seeds = Command::new(&cargo)
        .args(["run", "--quiet", "--locked", "-p", "jwtgate-conformance", "--bin", "fuzz-seeds"])
        .arg("--")
        .arg(&corpus_root)
        .current_dir(&root)
        .status()
        .map_err(|error| format!("cannot run {cargo}: {error}"))?;
    if !seeds.success() {
        return Err("the seed corpus could not be generated".to_owned());
    }

    let targets = match &options.target {
        Some(target) => vec![target.clone()],
        None => list_targets(&fuzz_dir)?,
    };
    println!("==> building {} (sanitizer {})", targets.join(", "), options.sanitizer);
    let mut build = nightly_fuzz(&fuzz_dir);
    build.args(["build", "--release", "--debug-assertions", "--sanitizer", &options.sanitizer]);
    build.arg("--target-dir").arg(&target_dir);
    if let Some(target) = &options.target {
        build.arg(target);
    }
    if !build.status().map_err(|error| format!("cannot run cargo fuzz: {error}"))?.success() {
        return Err("the fuzz targets did not build".to_owned());
    }

    let mut outcomes = Vec::new();
    for target in &targets {
        println!("==> {target}: {} s", options.seconds);
        let corpus = corpus_root.join(target);
        let artifacts = artifacts_root.join(target);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
        }
        let mut run = nightly_fuzz(&fuzz_dir);
        run.args(["run", "--release", "--debug-assertions", "--sanitizer", &options.sanitizer]);
        run.arg("--target-dir").arg(&target_dir);
        run.arg(target).arg(&corpus).arg("--");
        run.arg(format!("-max_total_time={}", options.seconds));
        run.arg(format!("-artifact_prefix={}/", artifacts.display()));
        run.arg("-print_final_stats=1");
        let output = run.output().map_err(|error| format!("cannot run cargo fuzz: {error}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let ok = output.status.success();
        if !ok {
            // The whole report: the failing input's path and the panic or sanitizer message.
            eprintln!("{log}");
        }
        let runs = log
            .lines()
            .find_map(|line| line.strip_prefix("Done ")?.split_whitespace().next())
            .unwrap_or("?")
            .to_owned();
        let corpus = log
            .lines()
            .rev()
            .find_map(|line| line.split(" corp: ").nth(1)?.split_whitespace().next())
            .unwrap_or("?")
            .to_owned();
        outcomes.push(Outcome { target: target.clone(), ok, runs, corpus });
    }

    println!("{:<16} {:>12} {:>16}  verdict", "target", "runs", "corpus");
    for outcome in &outcomes {
        let verdict =
            if outcome.ok { "no crash" } else { "CRASH (input in target/fuzz-artifacts)" };
        println!("{:<16} {:>12} {:>16}  {verdict}", outcome.target, outcome.runs, outcome.corpus);
    }
    let crashed = outcomes.iter().filter(|outcome| !outcome.ok).count();
    // libtest's summary form, which `cargo xtask ci` counts.
    let verdict = if crashed == 0 { "ok" } else { "FAILED" };
    println!("test result: {verdict}. {} passed; {crashed} failed", outcomes.len() - crashed);
    Ok(crashed == 0)
}

/// The toolchain the targets build with (cargo-fuzz needs nightly's sanitizer and coverage
/// flags).
const TOOLCHAIN: &str = "nightly";

/// Fails with the reason when `cargo +<toolchain>` or its cargo-fuzz cannot run.
fn check_toolchain(toolchain: &str) -> Result<(), String> {
    let plus = format!("+{toolchain}");
    let version = Command::new("cargo")
        .args([plus.as_str(), "--version"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .map_err(|error| format!("cannot run `cargo {plus} --version`: {error}"))?;
    if !version.status.success() {
        return Err(format!(
            "`cargo {plus} --version` failed: {}the fuzz targets need the {toolchain} toolchain",
            String::from_utf8_lossy(&version.stderr)
        ));
    }
    let has_fuzz = Command::new("cargo")
        .args([plus.as_str(), "fuzz", "--version"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_fuzz {
        return Err("cargo-fuzz is not installed: cargo install cargo-fuzz --locked".to_owned());
    }
    Ok(())
}

/// `cargo +nightly` through rustup's proxy on `PATH`.
pub(crate) fn nightly_cargo() -> Command {
    let mut command = Command::new("cargo");
    command.arg(format!("+{TOOLCHAIN}"));
    // The workspace's cargo sets these for xtask; the nightly cargo must pick its own.
    for variable in ["CARGO", "RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN", "CARGO_MANIFEST_DIR"] {
        command.env_remove(variable);
    }
    command
}

/// `cargo +nightly fuzz` in `fuzz/`.
fn nightly_fuzz(fuzz_dir: &Path) -> Command {
    let mut command = nightly_cargo();
    command.arg("fuzz").current_dir(fuzz_dir);
    command
}

/// The targets `cargo fuzz list` names.
fn list_targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let output = nightly_fuzz(fuzz_dir)
        .arg("list")
        .output()
        .map_err(|error| format!("cannot run cargo fuzz list: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo fuzz list: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let targets: Vec<String> =
        String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect();
    if targets.is_empty() {
        return Err("cargo fuzz list names no target".to_owned());
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::{check_toolchain, parse};

    #[test]
    fn a_missing_toolchain_stops_the_task_saying_so() {
        let error = check_toolchain("jwtgate-no-such-toolchain").err().unwrap_or_default();
        assert!(
            error.starts_with("`cargo +jwtgate-no-such-toolchain --version` failed: "),
            "{error}"
        );
        assert!(error.ends_with("the fuzz targets need the jwtgate-no-such-toolchain toolchain"));
    }

    #[test]
    fn reads_seconds_sanitizer_and_one_target() {
        let args: Vec<String> =
            ["--seconds", "600", "--sanitizer", "none", "webhook"].map(str::to_owned).to_vec();
        let options = parse(&args).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(options.seconds, 600);
        assert_eq!(options.sanitizer, "none");
        assert_eq!(options.target.as_deref(), Some("webhook"));
        assert!(parse(&["--seconds".to_owned(), "0".to_owned()]).is_err());
        assert!(parse(&["--sanitizer".to_owned(), "memory".to_owned()]).is_err());
        assert!(parse(&["a".to_owned(), "b".to_owned()]).is_err());
    }
}
