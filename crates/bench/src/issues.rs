//! Scenario 6 (issue 16) and the incremental bar of issue 12: Jira issues at Jira Cloud's
//! pace. The simulator holds every full page back 300 ms per 100 issues and every id-only
//! page 50 ms, so the time goes where it goes on a real site: waiting for the server.
//!
//! * 6a: the two-phase sync (id census, then bulk fetches of 100, 10 in flight) against the
//!   sequential cursor, items/s; every item of both checked by id.
//! * 6b: the two-phase sync under a server rate limit R: requests/s achieved and 429s.
//! * 6c: a full sync of the issues into SQLite, 1% of them edited, an incremental run: its
//!   wall time and requests against the full run's.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ocean_core::raw_field;
use ocean_sim::{Mutation, SimConfig, Simulator};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Failure;
use crate::measure::{self, Run};
use crate::report::{Report, rate, secs};
use crate::scenarios::{Settings, count};

/// Jira Cloud's pace: a page of 100 full issues, and an id-only page.
const FULL_PAGE: Duration = Duration::from_millis(300);
const ID_PAGE: Duration = Duration::from_millis(50);
/// Requests in flight (the CLI's default, stated explicitly).
const CONCURRENCY: &str = "10";
/// The server's rate limit of 6b, requests per second: below what 10 requests in flight at
/// 300 ms each could reach (~33/s), so the limit, not the latency, bounds the run.
const RATE_LIMIT: f64 = 20.0;

/// Runs `cmd` to completion off the async runtime.
async fn run(mut cmd: Command) -> Result<Run, Failure> {
    Ok(tokio::task::spawn_blocking(move || measure::run(&mut cmd, None)).await??)
}

/// A temporary file path of this run.
fn temp(what: &str) -> PathBuf {
    // Large NDJSON goes to memory when there is a tmpfs: the check reads it back at once.
    let dir = Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("ocean-bench-{}-{what}", std::process::id()))
}

/// Removes a SQLite file, its journal files and the store's writer-lock files
/// (`FILE.lock-…`, one per scope).
pub(crate) fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
        return;
    };
    let mut prefix = file.to_owned();
    prefix.push(".lock-");
    let prefix = prefix.to_string_lossy().into_owned();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A config file capping the issue stream at `max` issues (the CLI has no flag for it).
fn cap_config(max: usize) -> Result<PathBuf, Failure> {
    let path = temp(&format!("cap-{max}.toml"));
    std::fs::write(&path, format!("[[jira.issue]]\nmax_issues = {max}\n"))?;
    Ok(path)
}

/// `ocean sync jira --kind issue` against `url`, NDJSON to `out`, with `strategy`.
fn sync_issues(s: &Settings, url: &str, strategy: &str, cap: Option<&Path>, out: &Path) -> Command {
    let mut cmd = s.ocean_jira(url);
    cmd.args([
        "--issue-strategy",
        strategy,
        "--max-concurrency",
        CONCURRENCY,
    ])
    .arg("-o")
    .arg(out);
    if let Some(cap) = cap {
        cmd.arg("--config").arg(cap);
    }
    cmd
}

/// Checks that `ndjson` holds `expected` issues, each an issue of the site, none twice;
/// removes the file.
fn check_ids(ndjson: &Path, site: &HashSet<String>, expected: usize) -> Result<(), Failure> {
    #[derive(Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        item: &'a RawValue,
    }
    let file = std::fs::File::open(ndjson)?;
    let mut seen = HashSet::with_capacity(expected);
    let mut line = String::new();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let result = (|| -> Result<(), Failure> {
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let parsed: Line = serde_json::from_str(&line)?;
            let id = raw_field(parsed.item, "id")?.ok_or("an issue without an id")?;
            if !site.contains(&id) {
                return Err(format!("issue {id} is not one of the site's").into());
            }
            if !seen.insert(id.clone()) {
                return Err(format!("issue {id} was written twice").into());
            }
        }
        if seen.len() != expected {
            return Err(format!("{} distinct issues, expected {expected}", seen.len()).into());
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(ndjson);
    result
}

/// Requests the simulator answered, and how many of them were 429s, since its last reset.
fn requests(sim: &Simulator) -> (u64, u64) {
    let stats = sim.stats();
    (stats.requests, stats.rate_limited)
}

/// Scenario 6 and the incremental row.
pub async fn issues(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let n = s.items(100_000);
    let sample = (n / 10).max(100);
    let sim = Simulator::start(
        SimConfig::new(n)
            .with_full_issue_latency(FULL_PAGE)
            .with_id_page_latency(ID_PAGE),
    )
    .await?;
    let url = sim.jira_url();
    let site: HashSet<String> = sim.dataset().jira_ids("issue").into_iter().collect();
    let label = count(n);

    // 6a: the two-phase sync of every issue; the cursor on a sample (its pace is constant:
    // one page after another, so items/s does not depend on how many pages are walked).
    let out = temp("census.ndjson");
    sim.reset_stats();
    let census = run(sync_issues(s, &url, "census", None, &out)).await?;
    let (census_requests, _) = requests(&sim);
    check_ids(&out, &site, n)?;
    let cap = cap_config(sample)?;
    let out = temp("cursor.ndjson");
    sim.reset_stats();
    let cursor = run(sync_issues(s, &url, "cursor", Some(&cap), &out)).await?;
    let (cursor_requests, _) = requests(&sim);
    check_ids(&out, &site, sample)?;
    let speedup = census.items_per_sec() / cursor.items_per_sec();
    report.row(
        format!(
            "6 parallel: {label} Jira issues, {} ms per full page of 100, {} ms per id-only page, \
             concurrency {CONCURRENCY}: census + bulk fetch vs sequential cursor ({} sample)",
            FULL_PAGE.as_millis(),
            ID_PAGE.as_millis(),
            count(sample)
        ),
        format!(
            "{} ({}, {census_requests} requests)",
            rate(census.items_per_sec()),
            secs(census.wall)
        ),
        format!(
            "{} ({} for {}, {cursor_requests} requests)",
            rate(cursor.items_per_sec()),
            secs(cursor.wall),
            count(sample)
        ),
        format!("{speedup:.1}×"),
        "≥ 5× items/s; every item once (by id)",
        Some(speedup >= 5.0),
    );
    report.notes.push(format!(
        "scenario 6: the simulator in-process (its own runtime), {} ms per 100 full issues \
         (pages of 50 take 150 ms), {} ms per id-only page; `ocean sync jira --kind issue \
         --max-concurrency {CONCURRENCY}` to NDJSON on tmpfs, every line's issue id checked \
         against the site (all {n} once for the census, the first {sample} once for the \
         cursor). The cursor ran on the first {sample} issues only (`[[jira.issue]] max_issues` \
         in a config file): it walks one page after another at a constant pace, so its items/s \
         are those of a full walk, which would take ≈ {}. Floors: census {} pages × {} ms + \
         {} bulk fetches × {} ms / {CONCURRENCY} ≈ {}; cursor {} pages × {} ms = {}",
        FULL_PAGE.as_millis(),
        ID_PAGE.as_millis(),
        secs(cursor.wall.mul_f64(n as f64 / sample as f64)),
        n.div_ceil(5000),
        ID_PAGE.as_millis(),
        n.div_ceil(100),
        FULL_PAGE.as_millis(),
        secs(ID_PAGE * n.div_ceil(5000) as u32 + FULL_PAGE * n.div_ceil(100) as u32 / 10),
        sample.div_ceil(50),
        FULL_PAGE.as_millis() / 2,
        secs(FULL_PAGE / 2 * sample.div_ceil(50) as u32),
    ));
    let _ = std::fs::remove_file(&cap);

    // 6b: the same under a server rate limit, on a sample long enough to outlast the burst.
    let limited = (n * 3 / 10).max(100);
    let cap = cap_config(limited)?;
    sim.faults().set_rate_limit(None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.reset_stats();
    sim.faults().set_rate_limit(Some(RATE_LIMIT));
    let out = temp("limited.ndjson");
    let paced = run(sync_issues(s, &url, "census", Some(&cap), &out)).await?;
    let stats = sim.stats();
    sim.faults().set_rate_limit(None);
    check_ids(&out, &site, limited)?;
    let _ = std::fs::remove_file(&cap);
    let ok = stats.requests - stats.rate_limited - stats.unavailable;
    let per_sec = ok as f64 / paced.wall.as_secs_f64();
    let share = stats.rate_limited as f64 / stats.requests.max(1) as f64;
    report.row(
        format!(
            "6 rate limit: R = {RATE_LIMIT:.0} req/s, census + bulk fetch of {} issues at the same pace, concurrency {CONCURRENCY}",
            count(limited)
        ),
        format!(
            "{per_sec:.1} req/s, {:.1}% 429 ({} of {}), {}",
            share * 100.0,
            stats.rate_limited,
            stats.requests,
            secs(paced.wall)
        ),
        "-",
        format!("{:.2} R", per_sec / RATE_LIMIT),
        format!("≥ {:.0} req/s (0.9 R), ≤ 1% 429", 0.9 * RATE_LIMIT),
        Some(per_sec >= 0.9 * RATE_LIMIT && share <= 0.01),
    );
    report.notes.push(format!(
        "scenario 6, rate limit: the simulator's token bucket (burst R, full at the start; \
         whole-second Retry-After as Jira sends); req/s = requests answered other than 429 over \
         the client's wall time, start-up included; all {limited} issues checked by id"
    ));

    // 6c: incremental after 1% edits, into SQLite.
    let db =
        std::env::temp_dir().join(format!("ocean-bench-{}-incremental.db", std::process::id()));
    remove_sqlite(&db);
    let store = format!("sqlite:{}", db.display());
    let into_store = || {
        let mut cmd = s.ocean_jira(&url);
        cmd.args(["--max-concurrency", CONCURRENCY, "--store", &store]);
        cmd
    };
    let full = run(into_store()).await?;
    let full_row = single_row(&full)?;
    let edited = sim
        .mutate(Mutation::JiraIssueBulkUpdate { percent: 1.0 })
        .await?
        .ids
        .len();
    let again = run(into_store()).await?;
    let again_row = single_row(&again)?;
    remove_sqlite(&db);
    if full_row.created != n as u64
        || again_row.mode != "incremental"
        || again_row.updated != edited as u64
        || again_row.created + again_row.deleted != 0
    {
        return Err(format!(
            "full run {full_row:?}, then {edited} edited, then {again_row:?}: expected {n} \
             created, then an incremental run updating exactly {edited}"
        )
        .into());
    }
    let wall = again.wall.as_secs_f64() / full.wall.as_secs_f64();
    let reqs = again_row.requests as f64 / full_row.requests as f64;
    report.row(
        format!(
            "6 incremental: {label} Jira issues in SQLite, {edited} (1%) edited, same pace: incremental vs full run"
        ),
        format!(
            "{} and {} requests ({} updated)",
            secs(again.wall),
            again_row.requests,
            again_row.updated
        ),
        format!("{} and {} requests", secs(full.wall), full_row.requests),
        format!("{:.1}% wall, {:.1}% requests", wall * 100.0, reqs * 100.0),
        "≤ 5% of the full run's wall time and requests",
        Some(wall <= 0.05 && reqs <= 0.05),
    );
    report.notes.push(format!(
        "scenario 6, incremental: `ocean sync jira --kind issue --store sqlite:FILE` twice \
         (wall from spawn to exit, start-up included); the second run reads `updated >= -Nm` \
         (N = minutes since the first run began + {} overlap) through census + bulk fetch, \
         then the id census of the whole JQL to find deletions: created 0, updated {}, \
         deleted 0, unchanged {}",
        ocean_jira::OVERLAP_MINUTES,
        again_row.updated,
        again_row.unchanged
    ));
    sim.shutdown().await;
    Ok(())
}

/// The only kind row of a `sync --store` run.
fn single_row(run: &Run) -> Result<measure::StoreRow, Failure> {
    match measure::store_rows(&run.stderr).as_slice() {
        [row] => Ok(row.clone()),
        rows => Err(format!("expected one kind row, got {rows:?}:\n{}", run.stderr).into()),
    }
}
