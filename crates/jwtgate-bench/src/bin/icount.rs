//! The measurement target of `cargo xtask bench-gate`: runs one scenario `N` times inside
//! `measured`, which callgrind counts alone (`--toggle-collect=*measured*`).
//!
//! `icount <scenario> <iterations>`; `icount --list` prints the scenario names.

#![expect(clippy::print_stdout, clippy::print_stderr, reason = "a command-line tool")]

use std::hint::black_box;
use std::process::ExitCode;

use jwtgate_bench::{Prepared, names, prepare};

/// The server's allocator, so counts reflect it; glibc's malloc also made counts vary from run
/// to run by its consolidation timing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The counted part: nothing but the scenario, `iterations` times.
#[inline(never)]
fn measured(prepared: &Prepared, iterations: u64) {
    for _ in 0..iterations {
        let _ = black_box(prepared.run());
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [list] if list == "--list" => {
            for name in names() {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        [scenario, iterations] => {
            let Ok(iterations) = iterations.parse() else {
                eprintln!("icount: iterations must be a number");
                return ExitCode::FAILURE;
            };
            let prepared = prepare(scenario);
            measured(&prepared, iterations);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: icount <scenario> <iterations> | icount --list");
            ExitCode::FAILURE
        }
    }
}
