//! Streaming kinds to NDJSON: the lossless path, one line per item.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use futures::TryStreamExt;
use futures::stream::BoxStream;
use ocean_core::{Client, KindInfo, Provider, Record};

use crate::commands::Failure;
use crate::report::{KindReport, Progress};

/// Where NDJSON lines go.
pub struct Sink {
    out: BufWriter<Box<dyn Write + Send>>,
}

impl Sink {
    /// Stdout, or the file when one is given.
    pub fn open(file: Option<&Path>) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = match file {
            Some(path) => Box::new(File::create(path)?),
            None => Box::new(io::stdout()),
        };
        Ok(Self {
            out: BufWriter::with_capacity(1 << 16, out),
        })
    }

    fn write(&mut self, record: &Record) -> io::Result<()> {
        record.write_ndjson(&mut self.out)
    }

    /// Flushes whole lines written so far; called on success and on failure alike,
    /// so partial output is always valid NDJSON.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One kind to sync.
pub struct Job {
    pub provider: &'static str,
    pub kind: &'static str,
    pub records: BoxStream<'static, ocean_core::Result<Record>>,
}

/// The kinds named, in the provider's order (parents first), or all of them.
pub fn selected(
    provider: &dyn Provider,
    names: &[&str],
) -> Result<Vec<&'static KindInfo>, Failure> {
    for name in names {
        if provider.kind(name).is_none() {
            let all: Vec<_> = provider.kinds().iter().map(|k| k.name).collect();
            return Err(format!(
                "unknown {} kind `{name}` (kinds: {})",
                provider.name(),
                all.join(", ")
            )
            .into());
        }
    }
    Ok(provider
        .kinds()
        .iter()
        .filter(|k| names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(k.name)))
        .collect())
}

/// A job per kind named (all when none): each kind's full stream.
pub fn jobs(provider: &dyn Provider, names: &[&str]) -> Result<Vec<Job>, Failure> {
    Ok(selected(provider, names)?
        .into_iter()
        .map(|kind| Job {
            provider: provider.name(),
            kind: kind.name,
            records: provider.full(kind.name, None),
        })
        .collect())
}

/// Why a sync stopped early, with what was done before.
pub struct Failed {
    pub done: Vec<KindReport>,
    pub error: Box<dyn std::error::Error + Send + Sync>,
}

/// Runs the jobs one kind after another, writing every record to `sink`.
pub async fn run(
    client: &Client,
    jobs: Vec<Job>,
    sink: &mut Sink,
    progress: &Progress,
) -> Result<Vec<KindReport>, Failed> {
    let mut reports = Vec::with_capacity(jobs.len());
    for job in jobs {
        let before = client.stats();
        let started = Instant::now();
        let bar = progress.kind_bar(job.provider, job.kind);
        let mut items = 0u64;
        let mut records = job.records;
        let outcome: Result<(), Box<dyn std::error::Error + Send + Sync>> = async {
            while let Some(record) = records.try_next().await? {
                sink.write(&record)?;
                items += 1;
                if items % 64 == 0 {
                    bar.set_position(items);
                    bar.set_message(format!("{} retries", (client.stats() - before).retries));
                }
            }
            Ok(())
        }
        .await;
        let stats = client.stats() - before;
        bar.set_position(items);
        bar.set_message(format!("{} retries", stats.retries));
        let report = KindReport {
            provider: job.provider,
            kind: job.kind,
            items,
            pages: stats.requests - stats.retries,
            retries: stats.retries,
            elapsed: started.elapsed(),
        };
        reports.push(report);
        match outcome {
            Ok(()) => bar.finish(),
            Err(error) => {
                bar.abandon_with_message("failed");
                return Err(Failed {
                    done: reports,
                    error,
                });
            }
        }
    }
    Ok(reports)
}
