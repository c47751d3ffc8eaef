//! `sync --store` and `catalog …`: keeping a catalog true, and reading it.

use std::io::{self, BufWriter, Write};

use futures::TryStreamExt;
use ocean_core::Provider;
use ocean_store::{CatalogItem, ExportFilter, Store};
use ocean_sync::{Feed, KindReport, Mode, NdjsonFeed, NoFeed, RunReport, Settings};

use crate::args::{CatalogCommand, StoreArgs};
use crate::commands::Failure;

/// Syncs `kinds` (all when empty) of `provider` into the store of `args`, prints the
/// summary on stderr, and fails when any kind failed.
pub async fn sync(
    provider: &dyn Provider,
    kinds: &[&str],
    store_spec: &str,
    args: &StoreArgs,
) -> Result<(), Failure> {
    let kinds = crate::sync::selected(provider, kinds)?;
    let store = ocean_store::open(store_spec).await?;
    let settings = Settings {
        full: args.full,
        max_delete_fraction: args.max_delete_fraction,
        ..Settings::default()
    };
    let mut changes = NdjsonFeed(BufWriter::with_capacity(1 << 16, io::stdout()));
    let feed: &mut dyn Feed = if args.changes {
        &mut changes
    } else {
        &mut NoFeed
    };
    let report = ocean_sync::sync(provider, store.as_ref(), &kinds, &settings, feed).await;
    changes.0.flush()?;
    let report = report?;
    let mut err = io::stderr().lock();
    write_run_summary(&mut err, provider.name(), &store.describe(), &report)?;
    let failed: Vec<&str> = report.failed().map(|k| k.kind).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} kinds failed: {}", provider.name(), failed.join(", ")).into())
    }
}

/// The summary of a run: warnings first, then one row per kind.
pub fn write_run_summary(
    out: &mut impl Write,
    provider: &str,
    store: &str,
    report: &RunReport,
) -> io::Result<()> {
    if report.resumed {
        writeln!(out, "resumed the interrupted run {} of {store}", report.run)?;
    }
    for kind in &report.kinds {
        if let Some((would_delete, live)) = kind.threshold {
            writeln!(
                out,
                "warning: {provider} {}: deletion threshold exceeded: {would_delete} of {live} live items unseen; nothing of this kind deleted (--max-delete-fraction)",
                kind.kind
            )?;
        }
        if kind.capped && kind.error.is_none() {
            writeln!(
                out,
                "note: {provider} {}: its read is capped (--max-items), so deletions of it are not swept",
                kind.kind
            )?;
        }
        if let Some(error) = &kind.error {
            writeln!(
                out,
                "error: {provider} {} failed, its catalog left untouched: {error}",
                kind.kind
            )?;
        }
    }
    writeln!(
        out,
        "{:<22} {:<11} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9}",
        "kind", "mode", "created", "updated", "deleted", "unchanged", "requests", "elapsed"
    )?;
    for kind in &report.kinds {
        write_kind_row(out, provider, kind)?;
    }
    Ok(())
}

fn write_kind_row(out: &mut impl Write, provider: &str, kind: &KindReport) -> io::Result<()> {
    let mode = match (&kind.error, kind.mode) {
        (Some(_), _) => "FAILED",
        (None, Mode::Full) => "full",
        (None, Mode::Incremental) => "incremental",
        (None, Mode::AlreadyDone) => "done before",
    };
    writeln!(
        out,
        "{:<22} {mode:<11} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8.2}s",
        format!("{provider} {}", kind.kind),
        kind.created,
        kind.updated,
        kind.deleted,
        kind.unchanged,
        kind.requests,
        kind.elapsed.as_secs_f64()
    )
}

/// `ocean catalog …`.
pub async fn command(command: CatalogCommand) -> Result<(), Failure> {
    match command {
        CatalogCommand::Export {
            store,
            provider,
            kinds,
            tenant,
        } => {
            let store = ocean_store::open_existing(&store).await?;
            export(
                store.as_ref(),
                ExportFilter { provider, kinds },
                tenant.as_deref(),
            )
            .await
        }
        CatalogCommand::Stats { store } => {
            let store = ocean_store::open_existing(&store).await?;
            stats(store.as_ref()).await
        }
    }
}

/// Writes the live items `filter` selects, of `tenant` only when one is given (a
/// trailing `/` on either side does not matter).
async fn export(
    store: &dyn Store,
    filter: ExportFilter,
    tenant: Option<&str>,
) -> Result<(), Failure> {
    let tenant = tenant.map(|t| t.trim_end_matches('/'));
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout());
    let mut items = store.export(filter);
    while let Some(item) = items.try_next().await? {
        if tenant.is_none_or(|t| item.tenant.trim_end_matches('/') == t) {
            write_export_line(&mut out, &item)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `{"kind":K,["<parent field>":P,]"item":{…}}`: the line `ocean sync` prints.
pub fn write_export_line(out: &mut impl Write, item: &CatalogItem) -> io::Result<()> {
    out.write_all(b"{\"kind\":")?;
    serde_json::to_writer(&mut *out, &item.kind)?;
    if let Some((field, id)) = &item.parent {
        out.write_all(b",")?;
        serde_json::to_writer(&mut *out, field)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, id)?;
    }
    out.write_all(b",\"item\":")?;
    out.write_all(item.json.as_bytes())?;
    out.write_all(b"}\n")
}

async fn stats(store: &dyn Store) -> Result<(), Failure> {
    let rows = store.stats().await?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:<9} {:<12} {:>9} {:>10}  last run",
        "provider", "kind", "live", "tombstoned"
    )?;
    for row in rows {
        let last = match &row.last_run {
            None => "never".to_owned(),
            Some((run, started, result)) => {
                let when = chrono::DateTime::from_timestamp_millis(*started).map_or_else(
                    || started.to_string(),
                    |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                );
                let outcome = match &result.error {
                    None => "ok".to_owned(),
                    Some(e) => format!("FAILED: {e}"),
                };
                format!(
                    "#{run} at {when}: +{} ~{} -{} ={} in {} requests, {outcome}",
                    result.created,
                    result.updated,
                    result.deleted,
                    result.unchanged,
                    result.requests
                )
            }
        };
        writeln!(
            out,
            "{:<9} {:<12} {:>9} {:>10}  {last}  ({})",
            row.scope.provider, row.kind, row.live, row.tombstoned, row.scope.tenant
        )?;
    }
    Ok(())
}
