//! jwtgate's build tasks, run as `cargo xtask <task>`.
//!
//! `cargo xtask ci` is the whole gate CI runs (`.ci/run`): formatting, clippy with warnings as
//! errors, every test with nextest, the conformance run, the deployment files' check, the
//! container image built and run, the instruction-count benchmark gate, ten seconds of each fuzz
//! target, doc tests and rustdoc warnings. It prints each step's time and ends with one
//! `N passed, N failed` line.

#![expect(clippy::print_stdout, clippy::print_stderr, reason = "xtask reports to the terminal")]

mod bench_gate;
mod browser;
mod ci;
mod conformance;
mod deploy_check;
mod fuzz;
mod image;
mod load_bench;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HELP: &str = "\
usage: cargo xtask <task>

tasks:
  ci      formatting, clippy (-D warnings), every test (nextest), conformance, the deploy
          check, the image, the benchmark gate, 10 s per fuzz target, doc tests, rustdoc;
          ends with `N passed, N failed`
  conformance [--suite config|claims|auth|jwks] [--driver lib|server] [FILTER] [--bless]
          every fixture case through the library and the server, then the claims fuzzing;
          a table per suite and `N passed, M failed`
  bench-gate [--bless]
          instructions per corpus scenario under callgrind against the committed baseline;
          fails on a regression above 3% (needs valgrind)
  fuzz [--seconds N] [--sanitizer address|none] [TARGET]
          the cargo-fuzz targets of fuzz/ (nightly toolchain, cargo-fuzz), seeded from
          fixtures/ into target/fuzz-corpus/, N seconds each (10; address sanitizer by
          default); crash inputs in target/fuzz-artifacts/
  browser the GET /explain page in Debian's chromium through playwright-core (npm ci in
          tests/browser; needs node, npm and /usr/bin/chromium); screenshots in
          target/explain-screenshots/
  deploy-check
          the Kubernetes kustomizations rendered (kubectl kustomize) and validated
          (kubernetes-validate --strict, Kubernetes 1.30); the GitHub workflows checked
          against the workflow schema (check-jsonschema)
  image [--test]
          the container image (Containerfile) from a static jwtgate and the host's CA
          bundle, with podman (--format docker) or docker; --test runs it and checks the
          probes, tokens, user, read-only root, health check and shutdown delay
  load-bench
          requests/s of `jwtgate serve` (HS256, RS256; cache on and off) next to a bare
          hyper server: wrk -t2 -c64, 5 alternating rounds of 5 s, median ratios, and each
          server's CPU time per request from /proc; the medians go to
          crates/jwtgate-bench/results/load-bench.tsv (needs wrk)
  help    this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("browser") => browser::run(),
        Some("load-bench") => load_bench::run(),
        Some("deploy-check") => deploy_check::run(),
        Some("image") => image::run(args.get(1..).unwrap_or_default()),
        Some("bench-gate") => bench_gate::run(args.get(1..).unwrap_or_default()),
        Some("conformance") => conformance::run(args.get(1..).unwrap_or_default()),
        Some("fuzz") => fuzz::run(args.get(1..).unwrap_or_default()),
        Some("help" | "--help" | "-h") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        other => {
            eprint!("unknown task {other:?}\n\n{HELP}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
