//! The README's speed figures as files: reads the last `cargo bench -p jwtgate-bench` run
//! (criterion's `target/criterion/`) into `results/criterion.tsv`, then draws
//! `results/library.svg` from it and `results/server.svg` from `results/load-bench.tsv`
//! (written by `cargo xtask load-bench`). Either table may be missing; its chart is then not
//! drawn.
//!
//! `cargo run -p jwtgate-bench --bin charts`

#![expect(clippy::print_stdout, clippy::print_stderr, reason = "a command-line tool")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jwtgate_test_support::corpus;
use plotters::prelude::*;

#[path = "../stamp.rs"]
mod stamp;
use stamp::{machine, today};

/// A chart's size in pixels.
const WIDTH: u32 = 760;
/// The height of one bar row.
const ROW: u32 = 34;

const JWTGATE: RGBColor = RGBColor(0x1f, 0x6f, 0xb4);
const OTHER: RGBColor = RGBColor(0xb0, 0xb0, 0xb0);
const LIGHT: RGBColor = RGBColor(0x9e, 0xc9, 0xe8);

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = root.parent().and_then(Path::parent).unwrap_or(root);
    let results = root.join("results");
    match run(&workspace.join("target/criterion"), &results) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("charts: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(criterion: &Path, results: &Path) -> Result<(), String> {
    std::fs::create_dir_all(results).map_err(|error| format!("{}: {error}", results.display()))?;
    let table = results.join("criterion.tsv");
    if criterion.is_dir() {
        let text = criterion_table(criterion)?;
        write(&table, &text)?;
        println!("wrote {}", table.display());
    }
    if let Ok(text) = std::fs::read_to_string(&table) {
        let rows = library_rows(&text);
        let chart = results.join("library.svg");
        library_chart(&chart, &title_of(&text), &rows)?;
        println!("wrote {}", chart.display());
    }
    let load = results.join("load-bench.tsv");
    if let Ok(text) = std::fs::read_to_string(&load) {
        let chart = results.join("server.svg");
        server_chart(&chart, &title_of(&text), &server_rows(&text))?;
        println!("wrote {}", chart.display());
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|error| format!("{}: {error}", path.display()))
}

/// A criterion estimate in nanoseconds: the slope where criterion fitted one, else the mean.
fn estimate(criterion: &Path, group: &str, bench: &str) -> Option<f64> {
    // A benchmark in a group is `group/bench/`; a lone `group/bench` id is `group_bench/`.
    let lone = format!("{group}_{bench}");
    let grouped: PathBuf = [group, bench, "new", "estimates.json"].iter().collect();
    let alone: PathBuf = [lone.as_str(), "new", "estimates.json"].iter().collect();
    let text = std::fs::read_to_string(criterion.join(grouped))
        .or_else(|_| std::fs::read_to_string(criterion.join(alone)))
        .ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    ["slope", "mean"].iter().find_map(|kind| value.get(kind)?.get("point_estimate")?.as_f64())
}

/// One row per corpus scenario and derived scenario: `authenticate`, its floor and the
/// jsonwebtoken path, in nanoseconds (empty where not measured).
fn criterion_table(criterion: &Path) -> Result<String, String> {
    let mut text = format!("# cargo bench -p jwtgate-bench, {}, {}\n", today(), machine());
    text.push_str("scenario\tauthenticate_ns\tfloor_ns\tjsonwebtoken_ns\tdecode_parse_ns\n");
    let names = jwtgate_bench::names();
    for name in &names {
        let cell = |bench: &str| {
            estimate(criterion, name, bench).map_or_else(String::new, |ns| format!("{ns:.1}"))
        };
        let authenticate = cell("authenticate");
        if authenticate.is_empty() {
            return Err(format!("no criterion estimate for {name}: run cargo bench first"));
        }
        let _ = writeln!(
            text,
            "{name}\t{authenticate}\t{}\t{}\t{}",
            cell("floor_aws_lc_verify"),
            cell("jsonwebtoken_decode_resolve"),
            cell("floor_decode_parse")
        );
    }
    Ok(text)
}

/// The first line's words after `# `: what ran, when and where.
fn title_of(text: &str) -> String {
    text.lines().next().and_then(|line| line.strip_prefix("# ")).unwrap_or_default().to_owned()
}

/// A library chart row: the scenario, its ratio to the floor, the floor plus reading the token
/// (decoding and parsing) over the floor, and jsonwebtoken's.
struct LibraryRow {
    name: String,
    ratio: f64,
    read: Option<f64>,
    jsonwebtoken: Option<f64>,
}

fn library_rows(text: &str) -> Vec<LibraryRow> {
    let typical: Vec<&str> = corpus::typical().iter().map(|scenario| scenario.name).collect();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("scenario\t"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let number = |index: usize| cells.get(index).and_then(|cell| cell.parse::<f64>().ok());
            let (name, authenticate, floor) = (cells.first()?, number(1)?, number(2)?);
            // The typical scenarios and the two claims modes: the ones with a floor that shows
            // the verify path's own cost.
            let shown = typical.contains(name)
                || ["claims_map_10_paths", "stringified_json", "jwks_es256"].contains(name);
            shown.then(|| LibraryRow {
                name: (*name).to_owned(),
                ratio: authenticate / floor,
                read: number(4).map(|ns| (ns + floor) / floor),
                jsonwebtoken: number(3).map(|ns| ns / floor),
            })
        })
        .collect()
}

/// A server chart row: the configuration, its throughput ratio to bare hyper and its CPU time
/// per request.
struct ServerRow {
    name: String,
    ratio: f64,
    cpu_micros: f64,
}

fn server_rows(text: &str) -> Vec<ServerRow> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("server\t"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let number = |index: usize| cells.get(index).and_then(|cell| cell.parse::<f64>().ok());
            Some(ServerRow {
                name: (*cells.first()?).to_owned(),
                ratio: number(2)?,
                cpu_micros: number(3)?,
            })
        })
        .collect()
}

/// Horizontal bars: each scenario's `authenticate` over its floor, and jsonwebtoken's path over
/// the same floor beside it.
fn library_chart(path: &Path, title: &str, rows: &[LibraryRow]) -> Result<(), String> {
    let most = rows
        .iter()
        .flat_map(|row| [Some(row.ratio), row.jsonwebtoken])
        .flatten()
        .fold(1.0_f64, f64::max);
    let bars: Vec<(String, f64, RGBColor)> = rows
        .iter()
        .flat_map(|row| {
            let ours = (format!("{}: jwtgate", row.name), row.ratio, JWTGATE);
            let read =
                row.read.map(|ratio| (format!("{}: floor + reading", row.name), ratio, LIGHT));
            let theirs =
                row.jsonwebtoken.map(|ratio| (format!("{}: jsonwebtoken", row.name), ratio, OTHER));
            std::iter::once(ours).chain(read).chain(theirs)
        })
        .collect();
    bar_chart(
        path,
        &format!("time per token / the bare signature check (lower is better), {title}"),
        &bars,
        most * 1.15,
        |ratio| format!("{ratio:.2}x"),
    )
}

/// Two panels: throughput over bare hyper's, and CPU time per request.
fn server_chart(path: &Path, title: &str, rows: &[ServerRow]) -> Result<(), String> {
    let ratios: Vec<(String, f64, RGBColor)> = rows
        .iter()
        .map(|row| {
            (row.name.clone(), row.ratio, if row.name == "bare hyper" { OTHER } else { JWTGATE })
        })
        .collect();
    let cpu: Vec<(String, f64, RGBColor)> = rows
        .iter()
        .map(|row| {
            (
                row.name.clone(),
                row.cpu_micros,
                if row.name == "bare hyper" { OTHER } else { JWTGATE },
            )
        })
        .collect();
    let most_cpu = cpu.iter().map(|(_, micros, _)| *micros).fold(1.0_f64, f64::max);
    let top = path.with_extension("ratio.svg");
    bar_chart(
        &top,
        &format!("requests/s / bare hyper's (higher is better), {title}"),
        &ratios,
        1.15,
        |ratio| format!("{ratio:.2}x"),
    )?;
    let bottom = path.with_extension("cpu.svg");
    bar_chart(
        &bottom,
        "server CPU time per request, user + system, µs (lower is better)",
        &cpu,
        most_cpu * 1.15,
        |micros| format!("{micros:.2} µs"),
    )?;
    stack(path, &[&top, &bottom])
}

/// Labelled horizontal bars from 0 to `most`.
fn bar_chart(
    path: &Path,
    title: &str,
    bars: &[(String, f64, RGBColor)],
    most: f64,
    label: impl Fn(f64) -> String,
) -> Result<(), String> {
    let count = u32::try_from(bars.len()).map_err(|_| "too many bars".to_owned())?;
    let height = 70 + ROW * count;
    let area = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    let failed = |error: &dyn std::fmt::Display| format!("{}: {error}", path.display());
    area.fill(&WHITE).map_err(|error| failed(&error))?;
    let mut chart = ChartBuilder::on(&area)
        .caption(title, ("sans-serif", 14))
        .margin(10)
        .x_label_area_size(24)
        .y_label_area_size(250)
        .build_cartesian_2d(0.0..most, (0..count).into_segmented())
        .map_err(|error| failed(&error))?;
    let names: Vec<&str> = bars.iter().map(|(name, _, _)| name.as_str()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(index) => {
                // The first bar is drawn at the top, where the axis ends.
                let at = count.checked_sub(index + 1).and_then(|at| usize::try_from(at).ok());
                at.and_then(|at| names.get(at)).map_or_else(String::new, |name| (*name).to_owned())
            }
            _ => String::new(),
        })
        .draw()
        .map_err(|error| failed(&error))?;
    let placed = bars.iter().zip((0..count).rev());
    chart
        .draw_series(placed.clone().map(|((_, value, color), index)| {
            let mut bar = Rectangle::new(
                [(0.0, SegmentValue::Exact(index)), (*value, SegmentValue::Exact(index + 1))],
                color.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))
        .map_err(|error| failed(&error))?;
    chart
        .draw_series(placed.map(|((_, value, _), index)| {
            Text::new(label(*value), (*value, SegmentValue::CenterOf(index)), ("sans-serif", 12))
        }))
        .map_err(|error| failed(&error))?;
    area.present().map_err(|error| failed(&error))
}

/// One SVG holding `parts` one above the other (each an SVG of the same width), which then go.
fn stack(path: &Path, parts: &[&Path]) -> Result<(), String> {
    let mut body = String::new();
    let mut offset = 0u32;
    for part in parts {
        let text = std::fs::read_to_string(part)
            .map_err(|error| format!("{}: {error}", part.display()))?;
        let height = text
            .split_once("height=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .and_then(|(height, _)| height.parse::<u32>().ok())
            .unwrap_or(0);
        let _ = write!(body, "<g transform=\"translate(0,{offset})\">{}</g>", inner_svg(&text));
        offset += height;
        let _ = std::fs::remove_file(part);
    }
    let svg = format!(
        "<svg width=\"{WIDTH}\" height=\"{offset}\" viewBox=\"0 0 {WIDTH} {offset}\" xmlns=\"http://www.w3.org/2000/svg\">\n{body}\n</svg>\n"
    );
    write(path, &svg)
}

/// The elements inside an SVG document's root element.
fn inner_svg(text: &str) -> &str {
    let start = text.find('>').map_or(0, |at| at + 1);
    let end = text.rfind("</svg>").unwrap_or(text.len());
    text.get(start..end).unwrap_or_default()
}
