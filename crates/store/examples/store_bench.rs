//! Write throughput of a store: N items of ~2 KB in batches of 500, then the same items
//! again (all unchanged), then changed; then an id-only census and sweep in a new run, a
//! full export and the stats.
//!
//! ```text
//! cargo run --release -p ocean-store --example store_bench -- [STORE] [N]
//! ```
//! STORE defaults to a SQLite file in a temporary directory, N to 100000.

use std::time::Instant;

use futures::StreamExt;
use ocean_store::{ExportFilter, ItemWrite, Scope};

const BATCH: usize = 500;

fn item(i: usize, version: u32) -> ItemWrite {
    let filler = "x".repeat(1900);
    ItemWrite {
        id: format!("{i}"),
        parent: None,
        json: format!(
            r#"{{"id":"{i}","key":"PROJ-{i}","fields":{{"version":{version},"description":"{filler}"}}}}"#
        ),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let spec = args
        .next()
        .unwrap_or_else(|| format!("sqlite:{}", dir.path().join("bench.db").display()));
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let store = ocean_store::open(&spec).await?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let scope = Scope {
        provider: "jira".into(),
        tenant: format!("https://bench-{nanos}.example"),
    };
    let _lock = store.lock(&scope).await?;
    let run = store.begin_run(&scope, 0).await?.id;
    println!(
        "store {} — {n} items of ~2 KB, batches of {BATCH}",
        store.describe()
    );

    for (pass, version) in [("create", 1), ("unchanged", 1), ("update", 2)] {
        let start = Instant::now();
        let mut batch = Vec::with_capacity(BATCH);
        for i in 0..n {
            batch.push(item(i, version));
            if batch.len() == BATCH || i + 1 == n {
                store
                    .apply(&scope, Some(run), "issue", &batch, &[], Some("cp"))
                    .await?;
                batch.clear();
            }
        }
        let s = start.elapsed().as_secs_f64();
        println!("{pass:>9}: {:>9.0} items/s ({s:.2} s)", n as f64 / s);
    }

    // An id-only census in a new run, 1000 ids a call, then its sweep.
    store.finish_run(&scope, run).await?;
    let run = store.begin_run(&scope, 1).await?.id;
    let start = Instant::now();
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    for chunk in ids.chunks(1000) {
        store.touch(&scope, run, "issue", chunk).await?;
    }
    store.sweep(&scope, run, "issue", 0.5).await?;
    let s = start.elapsed().as_secs_f64();
    println!(
        "   census: {:>9.0} ids/s ({s:.2} s, with the sweep)",
        n as f64 / s
    );

    let start = Instant::now();
    let filter = ExportFilter {
        provider: Some("jira".into()),
        kinds: vec!["issue".into()],
    };
    let mut stream = store.export(filter);
    let mut count = 0usize;
    while let Some(item) = stream.next().await {
        item?;
        count += 1;
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "   export: {:>9.0} items/s ({count} items, {s:.2} s)",
        count as f64 / s
    );

    let start = Instant::now();
    let kinds = store.stats().await?.len();
    println!(
        "    stats: {:.2} s ({kinds} scope kinds)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
