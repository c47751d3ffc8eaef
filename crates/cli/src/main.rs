//! `ocean`: sync Jira or Octopus Deploy to NDJSON, manage webhooks, run the simulator.
// Doc comments on the arguments are `--help` text, where bare URLs read best.
#![allow(rustdoc::bare_urls)]

mod args;
mod catalog;
mod clients;
mod commands;
mod config;
mod demo;
mod listen;
mod listen_store;
mod oauth;
mod report;
mod selectors;
mod serve;
mod serve_config;
mod sync;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::args::{Cli, Command};
use crate::report::Progress;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Err(e) = config::apply(&mut cli) {
        // A config mistake is a usage error, like a bad flag.
        use clap::CommandFactory as _;
        Cli::command()
            .error(clap::error::ErrorKind::InvalidValue, e)
            .exit();
    }
    let progress = Progress::new();
    let json = matches!(&cli.command, Command::Serve(a) if a.log_format == args::LogFormat::Json);
    let default = match &cli.command {
        Command::Demo(_) => "error",
        Command::Serve(_) => "info",
        _ => "warn",
    };
    init_logging(cli.verbose, default, json, &progress);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&e),
    };
    // The command runs as a task on the runtime's workers, not on this thread: the tasks
    // that read its responses then wake it where they run, instead of across threads
    // (a sequential 100k-issue walk spent a fifth of its CPU switching threads).
    let command = runtime.spawn(async move {
        match cli.command {
            Command::Sync(target) => commands::sync(target, &progress).await,
            Command::Webhooks(target) => commands::webhooks(target).await,
            Command::Listen(target) => commands::listen(target).await,
            Command::Catalog(command) => catalog::command(command).await,
            Command::Sim(args) => commands::sim(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Serve(args) => serve::run(args, cli.config.as_deref()).await,
        }
    });
    let outcome = match runtime.block_on(command) {
        Ok(outcome) => outcome,
        // A panic in the command: propagate it as the panic it is.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.as_ref()),
    }
}

/// Prints `error: …` with the cause chain and returns a failing exit code.
fn fail(error: &(dyn std::error::Error + 'static)) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = writeln!(err, "  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::FAILURE
}

/// Logs on stderr, through the progress bars so they do not tear.
/// `quiet` is the level without `-v`; `json` writes one JSON object per line.
fn init_logging(verbose: u8, quiet: &str, json: bool, progress: &Progress) {
    let default = match verbose {
        0 => quiet,
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let bars = progress.bars().clone();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || LogWriter(bars.clone()));
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
}

struct LogWriter(indicatif::MultiProgress);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
