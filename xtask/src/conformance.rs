//! `cargo xtask conformance`: builds the `jwtgate` binary, runs every fixture case through the
//! library and server drivers (the `jwtgate-conformance` harness), then the claims fuzzing
//! (proptest), and ends with one `N passed, M failed` line.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};

use crate::workspace_root;

/// What to run.
#[derive(Default)]
struct Selection {
    suite: Option<String>,
    driver: Option<String>,
    filter: Option<String>,
    bless: bool,
}

fn parse(args: &[String]) -> Result<Selection, String> {
    let mut selection = Selection::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--suite" => selection.suite = Some(args.next().ok_or("--suite needs a name")?.clone()),
            "--driver" => {
                let driver = args.next().ok_or("--driver needs lib or server")?;
                if !matches!(driver.as_str(), "lib" | "server") {
                    return Err(format!("unknown driver {driver}: lib or server"));
                }
                selection.driver = Some(driver.clone());
            }
            "--bless" => selection.bless = true,
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => selection.filter = Some(other.to_owned()),
        }
    }
    Ok(selection)
}

pub(crate) fn run(args: &[String]) -> ExitCode {
    let selection = match parse(args) {
        Ok(selection) => selection,
        Err(error) => {
            eprintln!("conformance: {error}");
            return ExitCode::FAILURE;
        }
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    let built = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--locked", "-p", "jwtgate-server", "--bin", "jwtgate"])
        .status();
    if !built.is_ok_and(|status| status.success()) {
        eprintln!("conformance: building the jwtgate binary failed");
        return ExitCode::FAILURE;
    }
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), Into::into);

    let mut harness =
        vec!["test", "--locked", "-p", "jwtgate-conformance", "--test", "conformance", "--"];
    // A suite is a name prefix, a driver a suffix; libtest takes one filter and many skips.
    let suite_filter = selection.suite.as_ref().map(|suite| format!("{suite}:"));
    if let Some(filter) = selection.filter.as_deref().or(suite_filter.as_deref()) {
        harness.push(filter);
    }
    match selection.driver.as_deref() {
        Some("lib") => harness.extend(["--skip", "/server"]),
        Some("server") => harness.extend(["--skip", "/lib"]),
        _ => {}
    }
    let insta = if selection.bless { "always" } else { "no" };
    let (mut passed, mut failed) = run_counting(
        Command::new(&cargo)
            .current_dir(&root)
            .args(&harness)
            .env("JWTGATE_BIN", target.join("debug/jwtgate"))
            .env("INSTA_UPDATE", insta),
    );

    // The claims fuzzing belongs to the proof: random claims_map paths and claims.
    if selection.filter.is_none()
        && selection.suite.as_deref().is_none_or(|suite| suite == "claims")
    {
        println!("\n==> fuzzing claims_map paths and claims (proptest)");
        let (fuzz_passed, fuzz_failed) =
            run_counting(Command::new(&cargo).current_dir(&root).args([
                "test",
                "--locked",
                "-p",
                "jwtgate-claims",
                "--test",
                "it",
                "properties",
            ]));
        passed += fuzz_passed;
        failed += fuzz_failed;
    }
    println!("\n{passed} passed, {failed} failed");
    if failed == 0 && passed > 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Runs a test command, echoing stdout and summing its `test result:` lines.
fn run_counting(command: &mut Command) -> (u64, u64) {
    let spawned = command.stdout(Stdio::piped()).spawn();
    let Ok(mut child) = spawned else {
        eprintln!("conformance: cannot run cargo");
        return (0, 1);
    };
    let mut counts = (0, 0);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(result) = line.strip_prefix("test result: ") {
                let number_before = |word: &str| {
                    result
                        .split([';', '.'])
                        .filter_map(|part| part.trim().strip_suffix(word))
                        .find_map(|number| number.trim().parse::<u64>().ok())
                        .unwrap_or(0)
                };
                counts.0 += number_before("passed");
                counts.1 += number_before("failed");
            }
        }
    }
    let ok = child.wait().is_ok_and(|status| status.success());
    if !ok && counts.1 == 0 {
        counts.1 = 1;
    }
    counts
}
