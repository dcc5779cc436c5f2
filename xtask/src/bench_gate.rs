//! `cargo xtask bench-gate`: counts the instructions of every corpus scenario under callgrind
//! and compares them with the committed baseline; a regression above 3 percent fails.
//!
//! Counts repeat run to run where wall time does not. The baseline records a fingerprint of
//! everything that moves counts (toolchain, valgrind, lockfile, corpus, CPU model and flags);
//! when it differs, the baseline commit's measurement target is built in a git worktree sharing
//! the target directory and both are measured in the same run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::workspace_root;

/// The committed baseline.
const BASELINE: &str = "crates/jwtgate-bench/baseline.icount";
/// A regression above this fails the gate.
const THRESHOLD_PERCENT: f64 = 3.0;
/// Iterations counted per scenario; per-iteration counts are compared.
const ITERATIONS: u64 = 40;
/// aws-lc picks code paths by CPUID: with the extended features (AVX2, AVX-512, SHA, BMI, ADX)
/// masked, counts depend less on the processor, and valgrind emulates every instruction used.
const IA32CAP: &str = "~0x0:~0xFFFFFFFFFFFFFFFF";
/// What the corpus is made of: a change here changes what is measured.
const CORPUS_FILES: [&str; 3] = [
    "crates/jwtgate-test-support/src/corpus.rs",
    "crates/jwtgate-bench/src/lib.rs",
    "crates/jwtgate-bench/src/bin/icount.rs",
];

struct Baseline {
    commit: String,
    fingerprint: BTreeMap<String, String>,
    counts: BTreeMap<String, u64>,
}

pub(crate) fn run(args: &[String]) -> ExitCode {
    let bless = args.iter().any(|arg| arg == "--bless");
    match gate(bless) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("bench-gate: {error}");
            ExitCode::FAILURE
        }
    }
}

fn gate(bless: bool) -> Result<bool, String> {
    let root = workspace_root();
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    let current = build(&root, &target, "current")?;
    let fingerprint = fingerprint(&root)?;
    let names = scenario_names(&current)?;
    println!("==> counting instructions of {} scenarios", names.len());
    let counts = measure_all(&current, &names)?;

    if bless {
        let commit = git(&root, &["rev-parse", "HEAD"])?;
        write_baseline(&root.join(BASELINE), &commit, &fingerprint, &counts)?;
        println!("==> baseline written to {BASELINE} (commit it with the reason in the message)");
        return Ok(true);
    }
    let baseline = read_baseline(&root.join(BASELINE))?;
    let reference = if baseline.fingerprint == fingerprint {
        println!("==> fingerprint matches the baseline");
        baseline.counts
    } else {
        let changed: Vec<_> = fingerprint
            .iter()
            .filter(|(key, value)| baseline.fingerprint.get(*key) != Some(*value))
            .map(|(key, _)| key.as_str())
            .collect();
        println!(
            "==> fingerprint differs ({}): measuring the baseline commit {} too",
            changed.join(", "),
            baseline.commit
        );
        // The worktree stays until the baseline is measured: its target reads fixtures from it.
        let worktree = Worktree::add(&root, &target.join("bench-gate-baseline"), &baseline.commit)?;
        let old = build(&worktree.path, &target, "baseline")?;
        let old_names = scenario_names(&old)?;
        let shared: Vec<String> =
            names.iter().filter(|name| old_names.contains(name)).cloned().collect();
        measure_all(&old, &shared)?
    };
    Ok(report(&counts, &reference))
}

/// Prints the comparison; false when a scenario regressed beyond the threshold.
fn report(counts: &BTreeMap<String, u64>, reference: &BTreeMap<String, u64>) -> bool {
    println!("\n| scenario | instructions | baseline | change |\n|---|---|---|---|");
    let mut regressions = 0;
    for (name, &count) in counts {
        let Some(&base) = reference.get(name) else {
            println!("| {name} | {count} | (new) | |");
            continue;
        };
        #[expect(clippy::cast_precision_loss, reason = "instruction counts are far below 2^52")]
        let change = (count as f64 - base as f64) / base as f64 * 100.0;
        let verdict = if change > THRESHOLD_PERCENT {
            regressions += 1;
            " REGRESSION"
        } else if change < -THRESHOLD_PERCENT {
            " (faster: bless to keep it)"
        } else {
            ""
        };
        println!("| {name} | {count} | {base} | {change:+.2}%{verdict} |");
    }
    println!("\n{} passed, {regressions} failed", counts.len() - regressions);
    regressions == 0
}

/// Builds the measurement target (the release profile) and returns a copy of
/// it, so a later build of another commit cannot replace it.
fn build(root: &Path, target: &Path, label: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .args(["build", "--locked", "--release", "-p", "jwtgate-bench", "--bin", "icount"])
        .status()
        .map_err(|error| format!("cargo build: {error}"))?;
    if !status.success() {
        return Err(format!("building the measurement target ({label}) failed"));
    }
    let built = target.join("release/icount");
    let copy = target.join(format!("icount-{label}"));
    std::fs::copy(&built, &copy).map_err(|error| format!("{}: {error}", built.display()))?;
    Ok(copy)
}

/// A git worktree of the baseline commit, removed when dropped.
struct Worktree {
    root: PathBuf,
    path: PathBuf,
}

impl Worktree {
    fn add(root: &Path, path: &Path, commit: &str) -> Result<Self, String> {
        let _ = git(root, &["worktree", "remove", "--force", &path.display().to_string()]);
        git(root, &["worktree", "add", "--detach", &path.display().to_string(), commit])?;
        Ok(Self { root: root.to_path_buf(), path: path.to_path_buf() })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ =
            git(&self.root, &["worktree", "remove", "--force", &self.path.display().to_string()]);
    }
}

fn scenario_names(icount: &Path) -> Result<Vec<String>, String> {
    let output = Command::new(icount)
        .arg("--list")
        .output()
        .map_err(|error| format!("icount --list: {error}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect())
}

/// Counts each scenario once: with a fixed-seed cache hasher and mimalloc in the target, counts
/// repeat run to run within a few hundredths of a percent.
fn measure_all(icount: &Path, names: &[String]) -> Result<BTreeMap<String, u64>, String> {
    names.iter().map(|name| Ok((name.clone(), measure(icount, name)?))).collect()
}

fn measure(icount: &Path, name: &str) -> Result<u64, String> {
    let output = Command::new("setarch")
        .args(["-R", "valgrind", "--tool=callgrind", "--cache-sim=no", "--collect-atstart=no"])
        .args(["--toggle-collect=*measured*", "--callgrind-out-file=/dev/null"])
        .arg(icount)
        .args([name, &ITERATIONS.to_string()])
        .env("OPENSSL_ia32cap", IA32CAP)
        .output()
        .map_err(|error| format!("valgrind: {error} (is valgrind installed?)"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{name}: the measurement failed:\n{stderr}"));
    }
    let collected = stderr
        .lines()
        .find_map(|line| line.split_once("Collected :").map(|(_, count)| count.trim().to_owned()))
        .and_then(|count| count.parse::<u64>().ok())
        .ok_or_else(|| format!("{name}: no 'Collected' line in valgrind's output:\n{stderr}"))?;
    Ok(collected / ITERATIONS)
}

fn fingerprint(root: &Path) -> Result<BTreeMap<String, String>, String> {
    let command = |program: &str, args: &[&str]| -> Result<String, String> {
        let output = Command::new(program)
            .args(args)
            .output()
            .map_err(|error| format!("{program}: {error}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let read =
        |path: &str| std::fs::read(root.join(path)).map_err(|error| format!("{path}: {error}"));
    let mut corpus = Vec::new();
    for file in CORPUS_FILES {
        corpus.extend(read(file)?);
    }
    let manifest = String::from_utf8_lossy(&read("Cargo.toml")?).into_owned();
    let profiles: String = manifest
        .split("\n[")
        .filter(|section| section.starts_with("profile"))
        .collect::<Vec<_>>()
        .join("\n[");
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_field = |name: &str| {
        cpuinfo
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    };
    let mut fingerprint = BTreeMap::new();
    fingerprint.insert("rustc".to_owned(), hash_hex(command("rustc", &["-vV"])?.as_bytes()));
    fingerprint.insert("valgrind".to_owned(), command("valgrind", &["--version"])?);
    fingerprint.insert("lockfile".to_owned(), hash_hex(&read("Cargo.lock")?));
    fingerprint.insert("corpus".to_owned(), hash_hex(&corpus));
    fingerprint.insert("profiles".to_owned(), hash_hex(profiles.as_bytes()));
    fingerprint.insert("cpu-model".to_owned(), cpu_field("model name"));
    fingerprint.insert("cpu-flags".to_owned(), hash_hex(cpu_field("flags").as_bytes()));
    fingerprint.insert("ia32cap".to_owned(), IA32CAP.to_owned());
    Ok(fingerprint)
}

/// FNV-1a, 64 bits: a fingerprint, not a security measure (xtask has no dependencies).
fn hash_hex(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|error| format!("git: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()))
    }
}

/// The baseline as plain lines: `commit <sha>`, `fingerprint <key> <value>`, `count <scenario> <n>`.
fn write_baseline(
    path: &Path,
    commit: &str,
    fingerprint: &BTreeMap<String, String>,
    counts: &BTreeMap<String, u64>,
) -> Result<(), String> {
    let mut text = String::from(
        "# Instructions per scenario iteration, counted by `cargo xtask bench-gate` (callgrind).\n\
         # Rewrite with `cargo xtask bench-gate --bless`; commit with the reason in the message.\n",
    );
    let _ = writeln!(text, "commit {commit}");
    for (key, value) in fingerprint {
        let _ = writeln!(text, "fingerprint {key} {value}");
    }
    for (name, count) in counts {
        let _ = writeln!(text, "count {name} {count}");
    }
    std::fs::write(path, text).map_err(|error| format!("{}: {error}", path.display()))
}

fn read_baseline(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!("{}: {error} (create it with `cargo xtask bench-gate --bless`)", path.display())
    })?;
    let mut baseline =
        Baseline { commit: String::new(), fingerprint: BTreeMap::new(), counts: BTreeMap::new() };
    for line in text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("commit"), Some(commit), None) => commit.clone_into(&mut baseline.commit),
            (Some("fingerprint"), Some(key), Some(value)) => {
                baseline.fingerprint.insert(key.to_owned(), value.to_owned());
            }
            (Some("count"), Some(name), Some(count)) => {
                let count = count.parse().map_err(|_| format!("bad count line: {line}"))?;
                baseline.counts.insert(name.to_owned(), count);
            }
            _ => return Err(format!("{}: unreadable line: {line}", path.display())),
        }
    }
    Ok(baseline)
}
