//! The date and machine a results table was measured on, for its first line. Standard library
//! only: `charts` and `cargo xtask load-bench` (which has no dependencies) both include this
//! file as a module.

/// Today's date (`date +%Y-%m-%d`).
pub(crate) fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The CPU model and the number of CPUs.
pub(crate) fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{model}, {cpus} CPUs")
}
