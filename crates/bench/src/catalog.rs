//! Scenario 7 (issues 12 and 16): the embedded store at stream speed.
//!
//! * Full sync of 100k Jira issues into a fresh SQLite file against the same sync to NDJSON
//!   on `/dev/null`, from the simulator in its own process (no latency: the store is what is
//!   measured), alternating; and the cursor's NDJSON sync in the same rounds, to show what
//!   the census costs where latency is nil.
//! * Peak RSS of `ocean sync … --store` from 10k to 1M Octopus deployments (the median of
//!   up to three runs at each scale), served by the template server (the simulator would
//!   pre-render a million items).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Failure;
use crate::issues::remove_sqlite;
use crate::measure::{Run, Server};
use crate::report::{self, Report, rate, runs_summary, secs};
use crate::scenarios::{Settings, alternate, count};

fn db_path(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ocean-bench-{}-{what}.db", std::process::id()))
}

/// `cmd` with `--store sqlite:PATH`, PATH removed first so every run is a first, full run.
fn fresh_store(mut cmd: Command, path: &Path) -> Command {
    remove_sqlite(path);
    cmd.arg("--store").arg(format!("sqlite:{}", path.display()));
    cmd
}

/// Scenario 7.
pub fn store(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let n = s.items(100_000);
    let sim = s.simulator(n)?;
    let jira = format!("{}/jira", sim.url);
    let db = db_path("store-speed");
    // The same bytes as NDJSON in a file beside the database: what writing them costs at all.
    let file = db.with_extension("ndjson");
    let runs = alternate(
        &s.with_runs(s.runs.min(3)),
        &sim,
        n,
        &[
            &|| s.ocean_jira(&jira),
            &|| fresh_store(s.ocean_jira(&jira), &db),
            &|| {
                let mut cmd = s.ocean_jira(&jira);
                cmd.args(["--issue-strategy", "cursor"]);
                cmd
            },
            &|| {
                let mut cmd = s.ocean_jira(&jira);
                cmd.arg("-o").arg(&file);
                cmd
            },
        ],
    )?;
    remove_sqlite(&db);
    let _ = std::fs::remove_file(&file);
    drop(sim);
    let ratio = report::median_rate(&runs[1]) / report::median_rate(&runs[0]);
    report.row(
        format!(
            "7 store: full sync of {} Jira issues (census + bulk fetch, no latency) into a new SQLite file vs to NDJSON on /dev/null",
            count(n)
        ),
        runs_summary(&runs[1]),
        runs_summary(&runs[0]),
        format!("{ratio:.2}×"),
        "≥ 0.50×",
        Some(ratio >= 0.5),
    );
    let strategies = report::median_rate(&runs[0]) / report::median_rate(&runs[2]);
    report.row(
        format!(
            "7 strategy without latency: {} Jira issues to NDJSON, census + bulk fetch (the default) vs cursor",
            count(n)
        ),
        runs_summary(&runs[0]),
        runs_summary(&runs[2]),
        format!("{strategies:.2}×"),
        "information (the default's cost where latency is nil)",
        None,
    );
    let to_file = report::median_rate(&runs[3]) / report::median_rate(&runs[0]);
    report.row(
        format!(
            "7 file: the same sync to an NDJSON file on the store's disk vs to NDJSON on /dev/null ({})",
            count(n)
        ),
        runs_summary(&runs[3]),
        runs_summary(&runs[0]),
        format!("{to_file:.2}×"),
        "information (what writing the bytes costs)",
        None,
    );
    let (lo, hi) = report::spread(&runs[1]);
    let (blo, bhi) = report::spread(&runs[0]);
    report.notes.push(format!(
        "scenario 7, store speed: `ocean sim --items {n}` in its own process; {} runs each, \
         alternating (the SQLite file deleted before each, so each is a first, full run: every \
         item created, a checkpoint per transaction of up to 2000 items or 8 MiB, no sweep: \
         nothing was stored before); items/s spread \
         {}–{} (SQLite) vs {}–{} (NDJSON); client CPU {:.2} s vs {:.2} s (median); sim CPU {} vs {}",
        runs[0].len(),
        rate(lo),
        rate(hi),
        rate(blo),
        rate(bhi),
        report::median(runs[1].iter().map(|r| r.cpu.as_secs_f64()).collect()),
        report::median(runs[0].iter().map(|r| r.cpu.as_secs_f64()).collect()),
        report::pct(report::median_server_share(&runs[1])),
        report::pct(report::median_server_share(&runs[0])),
    ));

    // Peak RSS into the store, 10k → 1M: the median of three runs at each scale (fewer
    // if fewer were asked for), as one run's peak moves by a few MiB with where the
    // threads happen to be.
    let server = Server::start(s.bench(&["serve", "--port", "0"]))?;
    let scales = [10_000, 100_000, 1_000_000].map(|n| s.items(n));
    let mut rss = Vec::new();
    for n in scales {
        let url = format!("{}/n/{n}", server.url);
        let db = db_path(&format!("rss-{n}"));
        let runs = alternate(
            &s.with_runs(s.runs.min(3)),
            &server,
            n,
            &[&|| fresh_store(s.ocean_octopus(&url, &[]), &db)],
        )?;
        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        remove_sqlite(&db);
        let runs: &[Run] = &runs[0];
        let mib = report::median_rss_mib(runs);
        rss.push(mib);
        let each: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.1}", r.max_rss_kib as f64 / 1024.0))
            .collect();
        report.rss.push(format!(
            "`ocean sync octopus --kind deployment --max-items 0 --store sqlite:FILE`, {n} items: \
             {mib:.1} MiB, median of {} runs ({} MiB; {}, {}; SQLite file {:.0} MiB)",
            runs.len(),
            each.join(", "),
            rate(report::median_rate(runs)),
            secs(std::time::Duration::from_secs_f64(report::median(
                runs.iter().map(|r| r.wall.as_secs_f64()).collect()
            ))),
            size as f64 / (1024.0 * 1024.0)
        ));
    }
    let first = rss[0];
    let flat = rss.iter().all(|m| (m / first - 1.0).abs() <= 0.2);
    let max = rss.iter().copied().fold(f64::MIN, f64::max);
    let min = rss.iter().copied().fold(f64::MAX, f64::min);
    report.row(
        format!(
            "7 store memory: peak RSS of `ocean sync --store sqlite:FILE`, {} Octopus deployments (MiB, median of runs)",
            scales.map(count).join("/")
        ),
        rss.iter()
            .map(|m| format!("{m:.1}"))
            .collect::<Vec<_>>()
            .join(" / "),
        "-",
        format!("max/min {:.2}", max / min),
        "flat within ±20% of the smallest",
        Some(flat),
    );
    Ok(())
}
