//! The conformance harness: every fixture case, through the library driver and the server
//! driver, one test per (suite, case, driver); a table per suite and `N passed, M failed` at the
//! end. Run it with `cargo xtask conformance`; the format is in `fixtures/README.md`.

#![expect(clippy::print_stdout, reason = "the harness reports its table to the terminal")]
#![expect(clippy::expect_used, reason = "a broken fixture fails its case by panicking")]

mod drivers;
mod suites;
mod verdict;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jwtgate_test_support::fixtures_dir;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

/// The suites, each a folder of case files (`config` and `claims` with `accept/` and `reject/`).
const SUITES: [(&str, &str); 4] = [
    ("config", "config"),
    ("claims", "claims"),
    ("auth", "conformance/auth"),
    ("jwks", "conformance/jwks"),
];

/// Cases jwtgate does not meet yet (bugs), each with a reason. A listed case that passes fails
/// the run, so the list only shrinks.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownDivergences {
    #[serde(default)]
    case: Vec<KnownDivergence>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownDivergence {
    /// `suite:case-stem/driver`, as the test is named.
    test: String,
    reason: String,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passed: u64,
    failed: u64,
    expected_divergences: u64,
    tagged: u64,
}

fn case_files(folder: &str) -> Vec<PathBuf> {
    jwtgate_conformance::case_files(&fixtures_dir().join(folder))
}

/// Every snapshot belongs to a case of its suite, and none is left `.snap.new` (CI never
/// writes snapshots; a pending one means a review was skipped).
fn orphaned_snapshots() -> Result<(), String> {
    let mut problems = Vec::new();
    for (suite, folder) in SUITES.into_iter().filter(|(suite, _)| *suite != "config") {
        let cases: Vec<String> = case_files(folder)
            .iter()
            .filter_map(|path| path.file_stem().and_then(|stem| stem.to_str()).map(str::to_owned))
            .collect();
        let directory = fixtures_dir().join("snapshots/conformance").join(suite);
        for entry in std::fs::read_dir(&directory).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            match name.strip_suffix(".snap") {
                Some(stem) if cases.iter().any(|case| case == stem) => {}
                _ => problems.push(format!("{suite}/{name}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("snapshots without a case, or pending review: {}", problems.join(", ")))
    }
}

fn test_name(suite: &str, path: &Path, driver: &str) -> String {
    let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or("case");
    let verdict =
        path.parent().and_then(|dir| dir.file_name()).and_then(|dir| dir.to_str()).unwrap_or("");
    if matches!(verdict, "accept" | "reject") {
        format!("{suite}:{verdict}/{stem}/{driver}")
    } else {
        format!("{suite}:{stem}/{driver}")
    }
}

#[expect(clippy::too_many_lines, reason = "the suites and their drivers, one table")]
fn main() {
    let arguments = Arguments::from_args();
    let known_path = fixtures_dir().join("conformance/known-divergences.toml");
    let known: KnownDivergences =
        toml::from_str(&std::fs::read_to_string(&known_path).expect("known-divergences.toml"))
            .expect("known-divergences.toml is valid");
    let known: BTreeMap<String, String> =
        known.case.into_iter().map(|entry| (entry.test, entry.reason)).collect();
    let tallies: Arc<Mutex<BTreeMap<&'static str, Tally>>> = Arc::default();

    let mut trials = Vec::new();
    for (suite, folder) in SUITES {
        for path in case_files(folder) {
            let drivers = match suites::drivers_of(suite, &path) {
                Ok(drivers) => drivers,
                Err(error) => {
                    let name = test_name(suite, &path, "load");
                    trials.push(Trial::test(name, move || {
                        Err(Failed::from(format!("{}: {error}", path.display())))
                    }));
                    continue;
                }
            };
            let tagged = suites::divergence(suite, &path).is_some();
            for driver in drivers {
                let name = test_name(suite, &path, driver);
                let expected_failure = known.get(&name).cloned();
                let tallies = Arc::clone(&tallies);
                let path = path.clone();
                trials.push(Trial::test(name, move || {
                    let outcome = std::panic::catch_unwind(|| suites::run(suite, &path, driver))
                        .unwrap_or_else(|_| Err("the case panicked".to_owned()));
                    let mut tallies = tallies.lock().expect("tally lock");
                    let tally = tallies.entry(suite).or_default();
                    if tagged {
                        tally.tagged += 1;
                    }
                    match (outcome, expected_failure) {
                        (Ok(()), None) => {
                            tally.passed += 1;
                            Ok(())
                        }
                        (Err(problem), None) => {
                            tally.failed += 1;
                            Err(Failed::from(format!("{}\n  {problem}", path.display())))
                        }
                        (Err(_), Some(_)) => {
                            tally.expected_divergences += 1;
                            Ok(())
                        }
                        (Ok(()), Some(reason)) => {
                            tally.failed += 1;
                            Err(Failed::from(format!(
                                "unexpectedly passing: remove it from known-divergences.toml ({reason})"
                            )))
                        }
                    }
                }));
            }
        }
    }
    trials.push(Trial::test("snapshots:no-orphans", || orphaned_snapshots().map_err(Failed::from)));
    let listing = arguments.list;
    let conclusion = libtest_mimic::run(&arguments, trials);
    if !listing {
        let tallies = tallies.lock().expect("tally lock");
        println!("\n| suite | passed | failed | expected divergences | cases tagged `diverges` |");
        println!("|---|---|---|---|---|");
        for (suite, tally) in tallies.iter() {
            println!(
                "| {suite} | {} | {} | {} | {} |",
                tally.passed, tally.failed, tally.expected_divergences, tally.tagged
            );
        }
        println!("\n{} passed, {} failed", conclusion.num_passed, conclusion.num_failed);
    }
    conclusion.exit();
}
