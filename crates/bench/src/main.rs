//! `ocean-bench`: the benchmarks of issue 7, measured in one run against baselines.
//!
//! `ocean-bench all` runs every scenario and prints a table (scenario, ocean-rs, baseline,
//! ratio, bar, result) plus the peak RSS figures; see `BENCHMARKS.md`. The other
//! subcommands are the pieces it spawns as subprocesses: the hand-written baselines, the
//! typed library streams, and the template page server.

mod catalog;
mod handwritten;
mod issues;
mod library;
mod measure;
mod python;
mod report;
mod scenarios;
mod soak;
mod template;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report::Report;
use crate::scenarios::Settings;

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The page size of every list, on both sides (the clients' default).
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Parser)]
#[command(
    name = "ocean-bench",
    about = "Benchmarks of ocean-rs against hand-written baselines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every scenario, one after another; prints the table at the end.
    All {
        /// Multiplies item counts, page counts and durations (1 = the issue's figures).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Measured runs per side of each comparison (median reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// The `ocean` binary (default: next to this one; under `cargo run`, built first with
        /// the same profile, so it is never stale).
        #[arg(long, value_name = "PATH")]
        ocean: Option<PathBuf>,
        /// Also write the table as Markdown here.
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
        /// Only these scenarios (1 = overhead and typed, with 5; 2 = prefetch; 3 = memory;
        /// 4 = rate limit; 6 = Jira issues at Cloud latency: census vs cursor, rate limit,
        /// incremental; 7 = the SQLite store: speed and memory; 8 = Port Ocean's Python
        /// client); default all.
        #[arg(long = "only", value_name = "N")]
        only: Vec<u8>,
        /// A Python interpreter with `port-ocean` installed, for scenario 8 (without it the
        /// scenario's row says it was not measured).
        #[arg(long, env = "OCEAN_BENCH_PYTHON", value_name = "PATH")]
        python: Option<PathBuf>,
    },
    /// The pass-through baseline: reqwest + `Box<RawValue>` items to NDJSON on stdout.
    Baseline { provider: Provider, url: String },
    /// Typed items, through the library's stream (`lib`) or a reqwest + serde loop (`loop`).
    Typed {
        mode: TypedMode,
        provider: Provider,
        url: String,
        /// The library client's concurrency limit (`lib` only).
        #[arg(long, default_value_t = 10)]
        max_concurrency: usize,
    },
    /// `ocean serve` against the simulator with mutations at a steady rate and dropped
    /// webhooks, then one incremental run (issue 15's soak; not part of `all`).
    Soak {
        /// How long mutations go on, in minutes.
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Mutations per second.
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// The share of webhook deliveries the proxy drops.
        #[arg(long, default_value_t = 0.05)]
        drop: f64,
        /// Simulator scale.
        #[arg(long, default_value_t = 2000)]
        items: usize,
        /// The `ocean` binary (default: next to this one).
        #[arg(long, value_name = "PATH")]
        ocean: Option<PathBuf>,
    },
    /// The template page server of the memory scenario; prints where it listens.
    Serve {
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Provider {
    Jira,
    Octopus,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TypedMode {
    Lib,
    Loop,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, Failure> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    Ok(builder.enable_all().build()?)
}

fn run(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::All {
            scale,
            runs,
            ocean,
            markdown,
            only,
            python,
        } => all(scale, runs, ocean, markdown.as_deref(), &only, python),
        // The children run on the same runtime as the `ocean` binary (multi-threaded).
        Command::Baseline { provider, url } => {
            let items = runtime(true)?.block_on(async {
                match provider {
                    Provider::Jira => handwritten::jira_passthrough(&url).await,
                    Provider::Octopus => handwritten::octopus_passthrough(&url).await,
                }
            })?;
            eprintln!("items={items}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Typed {
            mode,
            provider,
            url,
            max_concurrency,
        } => {
            let items = runtime(true)?.block_on(async {
                match (mode, provider) {
                    (TypedMode::Lib, Provider::Jira) => {
                        library::jira_typed(&url, max_concurrency).await
                    }
                    (TypedMode::Lib, Provider::Octopus) => {
                        library::octopus_typed(&url, max_concurrency).await
                    }
                    (TypedMode::Loop, Provider::Jira) => handwritten::jira_typed(&url).await,
                    (TypedMode::Loop, Provider::Octopus) => handwritten::octopus_typed(&url).await,
                }
            })?;
            eprintln!("items={items}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Soak {
            minutes,
            rate,
            drop,
            items,
            ocean,
        } => {
            let ocean = match ocean {
                Some(path) => path,
                None => default_ocean()?,
            };
            runtime(true)?.block_on(soak::soak(ocean, minutes, rate, drop, items))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { port } => {
            runtime(false)?.block_on(template::serve(port))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ocean` next to this binary (`target/<profile>/`), also when this one runs from `deps/`.
/// Under `cargo run` it is built first, with this binary's profile.
fn default_ocean() -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or("this binary has no folder")?;
    if let (Ok(cargo), Ok(manifest_dir)) =
        (std::env::var("CARGO"), std::env::var("CARGO_MANIFEST_DIR"))
    {
        let mut build = std::process::Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "ocean-cli", "--manifest-path"])
            .arg(PathBuf::from(manifest_dir).join("../../Cargo.toml"));
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(profile) => {
                build.args(["--profile", profile]);
            }
            None => {}
        }
        eprintln!("building the `ocean` binary: {build:?}");
        if !build.status()?.success() {
            return Err("building the `ocean` binary failed".into());
        }
    }
    [dir.join("ocean"), dir.join("../ocean")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no `ocean` binary next to {}: build it (`cargo build --release -p ocean-cli`) or pass --ocean",
                exe.display()
            )
            .into()
        })
}

fn all(
    scale: f64,
    runs: usize,
    ocean: Option<PathBuf>,
    markdown: Option<&std::path::Path>,
    only: &[u8],
    python: Option<PathBuf>,
) -> Result<ExitCode, Failure> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("--scale must be positive, got {scale}").into());
    }
    let wanted = |n: u8| only.is_empty() || only.contains(&n);
    let settings = Settings {
        scale,
        runs: runs.max(1),
        ocean: match ocean {
            Some(path) => path,
            // Scenarios 2 and 4 are the only ones that do not drive the `ocean` binary.
            None if [1, 3, 6, 7, 8].into_iter().any(wanted) => default_ocean()?,
            None => PathBuf::new(),
        },
        bench: std::env::current_exe()?,
        python,
    };
    let mut report = Report::default();
    let started = std::time::Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", started.elapsed().as_secs_f64());
    if wanted(1) {
        step("scenario 1: overhead and typed, against the simulator in its own process");
        scenarios::overhead(&settings, &mut report)?;
    }
    let rt = runtime(true)?;
    if wanted(2) {
        step("scenario 2: prefetch");
        rt.block_on(scenarios::prefetch(&settings, &mut report))?;
    }
    if wanted(3) {
        step("scenario 3: memory");
        scenarios::memory(&settings, &mut report)?;
    }
    if wanted(4) {
        step("scenario 4: rate limit");
        rt.block_on(scenarios::rate_limit(&settings, &mut report))?;
    }
    if wanted(6) {
        step(
            "scenario 6: Jira issues at Jira Cloud's pace: census vs cursor, rate limit, incremental",
        );
        rt.block_on(issues::issues(&settings, &mut report))?;
    }
    if wanted(7) {
        step("scenario 7: the SQLite store: speed and memory");
        catalog::store(&settings, &mut report)?;
    }
    if wanted(8) {
        step("scenario 8: Port Ocean's Python client");
        python::python(&settings, &mut report)?;
    }
    step("done");
    let table = report.markdown();
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{table}")?;
    // Missed bars are reported, not failures: timings on a shared machine are noisy.
    // Wrong results (item counts, order) have already failed the run.
    writeln!(
        out,
        "{} of {} bars met, {} missed (scale {scale}, {} run(s) per side)",
        report.rows.iter().filter(|r| r.pass == Some(true)).count(),
        report.rows.iter().filter(|r| r.pass.is_some()).count(),
        report.failed_bars(),
        settings.runs
    )?;
    if let Some(path) = markdown {
        std::fs::write(path, &table)?;
    }
    Ok(ExitCode::SUCCESS)
}
