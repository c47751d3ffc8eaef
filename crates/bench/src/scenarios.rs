//! The scenarios of issue 7, each adding rows to the [`Report`].

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use ocean_core::{Auth, Client, ListRequest, RawItem, Resource, RetryPolicy, raw_field};
use ocean_octopus::{API_KEY_HEADER, Deployment, OctopusClient};
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY, SimConfig, Simulator};

use crate::measure::{self, Run, Server};
use crate::report::{self, Report, median, pct, rate, runs_summary, secs};
use crate::{Failure, PAGE_SIZE};

/// `100k`, `1M`, `500`.
pub(crate) fn count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// How big and how often.
pub struct Settings {
    /// Multiplies every item count, page count and duration (1.0 = the issue's figures).
    pub scale: f64,
    /// Measured runs per side of each comparison (after one warm-up run each when > 1).
    pub runs: usize,
    /// The `ocean` binary.
    pub ocean: PathBuf,
    /// This binary, for the baselines and the template server.
    pub bench: PathBuf,
    /// A Python interpreter with `port-ocean` installed, for scenario 8.
    pub python: Option<PathBuf>,
}

impl Settings {
    pub(crate) fn items(&self, n: usize) -> usize {
        ((n as f64 * self.scale).round() as usize).max(50)
    }

    pub(crate) fn ocean(&self) -> Command {
        let mut cmd = Command::new(&self.ocean);
        for var in [
            "JIRA_URL",
            "JIRA_EMAIL",
            "JIRA_TOKEN",
            "OCTOPUS_URL",
            "OCTOPUS_API_KEY",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// These settings with `runs` runs a side, for a scenario that measures fewer.
    pub(crate) fn with_runs(&self, runs: usize) -> Settings {
        Settings {
            runs,
            scale: self.scale,
            ocean: self.ocean.clone(),
            bench: self.bench.clone(),
            python: None,
        }
    }

    /// `ocean sim --items n` in its own process.
    pub(crate) fn simulator(&self, n: usize) -> Result<Server, Failure> {
        let mut cmd = self.ocean();
        cmd.args(["sim", "--items", &n.to_string()]);
        Ok(Server::start(cmd)?)
    }

    pub(crate) fn ocean_jira(&self, url: &str) -> Command {
        let mut cmd = self.ocean();
        cmd.env("JIRA_URL", url)
            .env("JIRA_EMAIL", JIRA_EMAIL)
            .env("JIRA_TOKEN", JIRA_TOKEN)
            .args(["sync", "jira", "--kind", "issue"]);
        cmd
    }

    pub(crate) fn ocean_octopus(&self, url: &str, extra: &[&str]) -> Command {
        let mut cmd = self.ocean();
        cmd.env("OCTOPUS_URL", url)
            .env("OCTOPUS_API_KEY", OCTOPUS_API_KEY)
            .args([
                "sync",
                "octopus",
                "--kind",
                "deployment",
                "--max-items",
                "0",
            ])
            .args(extra);
        cmd
    }

    pub(crate) fn bench(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bench);
        cmd.args(args);
        cmd
    }
}

/// Runs every command `runs` times, rotating which goes first each round, after one
/// warm-up run each (when `runs > 1`). Every run must report `expected` items.
pub(crate) fn alternate(
    s: &Settings,
    server: &Server,
    expected: usize,
    commands: &[&dyn Fn() -> Command],
) -> Result<Vec<Vec<Run>>, Failure> {
    let check = |run: Run, i: usize| -> Result<Run, Failure> {
        if run.items != expected as u64 {
            return Err(format!(
                "{:?} reported {} items, expected {expected}:\n{}",
                commands[i](),
                run.items,
                run.stderr
            )
            .into());
        }
        Ok(run)
    };
    if s.runs > 1 {
        for (i, cmd) in commands.iter().enumerate() {
            check(measure::run(&mut cmd(), Some(server))?, i)?;
        }
    }
    let mut runs: Vec<Vec<Run>> = commands.iter().map(|_| Vec::new()).collect();
    for round in 0..s.runs {
        for k in 0..commands.len() {
            let i = (round + k) % commands.len();
            let run = check(measure::run(&mut commands[i](), Some(server))?, i)?;
            runs[i].push(run);
        }
    }
    Ok(runs)
}

pub(crate) fn ratio_row(
    report: &mut Report,
    scenario: &str,
    ocean: &[Run],
    baseline: &[Run],
    server: &str,
) {
    let ratio = report::median_rate(ocean) / report::median_rate(baseline);
    report.row(
        scenario,
        runs_summary(ocean),
        runs_summary(baseline),
        format!("{ratio:.2}×"),
        "≥ 0.90×",
        Some(ratio >= 0.9),
    );
    let (lo, hi) = report::spread(ocean);
    let (blo, bhi) = report::spread(baseline);
    report.notes.push(format!(
        "{scenario}: {server} CPU {} of a core during ocean-rs runs, {} during baseline runs; \
         client CPU {:.2} s vs {:.2} s (median); items/s spread {}–{} vs {}–{} over {} runs each",
        pct(report::median_server_share(ocean)),
        pct(report::median_server_share(baseline)),
        median(ocean.iter().map(|r| r.cpu.as_secs_f64()).collect()),
        median(baseline.iter().map(|r| r.cpu.as_secs_f64()).collect()),
        rate(lo),
        rate(hi),
        rate(blo),
        rate(bhi),
        ocean.len(),
    ));
    report.saw_server_share(ocean, baseline);
}

/// Scenario 1 (and 5): full syncs through the real `ocean` binary and the typed library
/// streams, against hand-written loops, all served by the simulator in its own process.
pub fn overhead(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let n = s.items(100_000);
    let start = Instant::now();
    let sim = s.simulator(n)?;
    report.notes.push(format!(
        "scenario 1: `ocean sim --items {n}` (pre-rendered pages, its own process, 2 worker \
         threads) generated and started in {}",
        secs(start.elapsed())
    ));
    let jira = format!("{}/jira", sim.url);
    let octopus = format!("{}/octopus", sim.url);
    let label = count(n);

    let runs = alternate(
        s,
        &sim,
        n,
        &[
            // The loop walks the cursor: so does `ocean`, for a like-for-like overhead.
            &|| {
                let mut cmd = s.ocean_jira(&jira);
                cmd.args(["--issue-strategy", "cursor"]);
                cmd
            },
            &|| s.bench(&["baseline", "jira", &jira]),
        ],
    )?;
    ratio_row(
        report,
        &format!(
            "1 overhead: {label} Jira issues, cursor POST: `ocean sync` → NDJSON vs pass-through loop"
        ),
        &runs[0],
        &runs[1],
        "sim",
    );

    let runs = alternate(
        s,
        &sim,
        n,
        &[
            &|| s.ocean_octopus(&octopus, &[]),
            &|| s.ocean_octopus(&octopus, &["--max-concurrency", "1"]),
            &|| s.bench(&["baseline", "octopus", &octopus]),
        ],
    )?;
    ratio_row(
        report,
        &format!(
            "1 overhead: {label} Octopus deployments, skip/take: `ocean sync` (defaults) → NDJSON vs pass-through loop"
        ),
        &runs[0],
        &runs[2],
        "sim",
    );
    ratio_row(
        report,
        &format!(
            "1 overhead: {label} Octopus deployments: `ocean sync --max-concurrency 1` (one request at a time, like the loop) vs pass-through loop"
        ),
        &runs[1],
        &runs[2],
        "sim",
    );

    let runs = alternate(
        s,
        &sim,
        n,
        &[&|| s.bench(&["typed", "lib", "jira", &jira]), &|| {
            s.bench(&["typed", "loop", "jira", &jira])
        }],
    )?;
    ratio_row(
        report,
        &format!(
            "1 typed: {label} Jira `Issue`s: `JiraClient::issues(..).stream()` vs reqwest + serde loop"
        ),
        &runs[0],
        &runs[1],
        "sim",
    );

    let runs = alternate(
        s,
        &sim,
        n,
        &[
            &|| s.bench(&["typed", "lib", "octopus", &octopus]),
            &|| {
                s.bench(&[
                    "typed",
                    "lib",
                    "octopus",
                    &octopus,
                    "--max-concurrency",
                    "1",
                ])
            },
            &|| s.bench(&["typed", "loop", "octopus", &octopus]),
        ],
    )?;
    ratio_row(
        report,
        &format!(
            "1 typed: {label} Octopus `Deployment`s: `deployments_all()` (defaults) vs reqwest + serde loop"
        ),
        &runs[0],
        &runs[2],
        "sim",
    );
    ratio_row(
        report,
        &format!(
            "1 typed: {label} Octopus `Deployment`s: `deployments_all()` with max_concurrency 1 vs reqwest + serde loop"
        ),
        &runs[1],
        &runs[2],
        "sim",
    );

    let share = report.server_share_max;
    report.row(
        "5 server: the simulator's CPU during scenario 1 (highest median of any side)",
        format!("{} of a core", pct(share)),
        "-",
        "-",
        "< 100% of a core (never saturated)",
        Some(share < 1.0),
    );
    Ok(())
}

/// Scenario 2: offset pagination with a known total, 20 ms per request, concurrent
/// prefetch (10 in flight) against one page at a time.
pub async fn prefetch(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let pages = ((200.0 * s.scale).round() as usize).max(5);
    let per_space = pages * PAGE_SIZE as usize;
    let latency = Duration::from_millis(20);
    let sim = Simulator::start(SimConfig {
        items: per_space * 2,
        latency,
        ..SimConfig::default()
    })
    .await?;
    let expected: Vec<String> = sim
        .dataset()
        .octopus_in_space("deployment", "Spaces-1")
        .iter()
        .filter_map(|d| d["Id"].as_str().map(str::to_owned))
        .collect();
    if expected.len() != per_space {
        return Err(format!(
            "Spaces-1 holds {} deployments, expected {per_space}",
            expected.len()
        )
        .into());
    }
    let octopus = OctopusClient::builder(&sim.octopus_url())
        .api_key(OCTOPUS_API_KEY)
        .max_concurrency(10)
        .max_items_per_space(None)
        .build()?;
    let list = |prefetch: bool| {
        let octopus = octopus.clone();
        async move {
            let start = Instant::now();
            let ids: Vec<String> = octopus
                .deployments("Spaces-1")
                .raw()
                .prefetch(prefetch)
                .stream()
                .map(|item| {
                    let item = item?;
                    Ok::<_, Failure>(raw_field(&item, "Id")?.unwrap_or_default())
                })
                .try_collect()
                .await?;
            Ok::<_, Failure>((start.elapsed(), ids))
        }
    };
    let rounds = s.runs.clamp(1, 3);
    let (mut concurrent, mut sequential) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for prefetch in if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        } {
            let (elapsed, ids) = list(prefetch).await?;
            if ids != expected {
                let lost = expected.iter().filter(|id| !ids.contains(id)).count();
                return Err(format!(
                    "prefetch={prefetch}: {} items, {lost} lost, order {}",
                    ids.len(),
                    if lost == 0 { "wrong" } else { "unchecked" }
                )
                .into());
            }
            if prefetch {
                concurrent.push(elapsed.as_secs_f64());
            } else {
                sequential.push(elapsed.as_secs_f64());
            }
        }
    }
    sim.shutdown().await;
    let (c, q) = (median(concurrent), median(sequential));
    let speedup = q / c;
    report.row(
        format!(
            "2 prefetch: {pages} pages × {PAGE_SIZE}, {} ms per request, known total: concurrency 10 vs sequential",
            latency.as_millis()
        ),
        format!("{c:.2} s"),
        format!("{q:.2} s"),
        format!("{speedup:.1}×"),
        "≥ 5× faster; in order, none lost",
        Some(speedup >= 5.0),
    );
    report.notes.push(format!(
        "scenario 2: {rounds} round(s) each, alternating; every run's {per_space} ids were checked \
         against the simulator's order (none lost, none reordered); the floor is {pages} × {} ms = \
         {:.1} s sequential, {:.2} s at 10 in flight",
        latency.as_millis(),
        pages as f64 * latency.as_secs_f64(),
        pages as f64 * latency.as_secs_f64() / 10.0
    ));
    Ok(())
}

/// Scenario 3: peak RSS of `ocean sync` streaming 10k, 100k and 1M Octopus deployments
/// from the template server.
pub fn memory(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let server = Server::start(s.bench(&["serve", "--port", "0"]))?;
    let scales = [10_000, 100_000, 1_000_000].map(|n| s.items(n));
    let mut ocean_rss = Vec::new();
    let mut cells = Vec::new();
    let mut baseline_cells = Vec::new();
    for n in scales {
        let url = format!("{}/n/{n}", server.url);
        let runs = alternate(
            &s.with_runs(1),
            &server,
            n,
            &[&|| s.ocean_octopus(&url, &[]), &|| {
                s.bench(&["baseline", "octopus", &url])
            }],
        )?;
        let (ocean, baseline) = (&runs[0][0], &runs[1][0]);
        let mib = |r: &Run| r.max_rss_kib as f64 / 1024.0;
        ocean_rss.push(mib(ocean));
        cells.push(format!("{:.1}", mib(ocean)));
        baseline_cells.push(format!("{:.1}", mib(baseline)));
        report.rss.push(format!(
            "`ocean sync octopus --kind deployment --max-items 0`, {n} items: {:.1} MiB \
             ({}, {}); pass-through loop: {:.1} MiB ({}, {}); template server CPU {} / {} of a core",
            mib(ocean),
            rate(ocean.items_per_sec()),
            secs(ocean.wall),
            mib(baseline),
            rate(baseline.items_per_sec()),
            secs(baseline.wall),
            pct(ocean.server_share()),
            pct(baseline.server_share()),
        ));
    }
    let first = ocean_rss[0];
    let flat = ocean_rss.iter().all(|m| (m / first - 1.0).abs() <= 0.2);
    let max = ocean_rss.iter().copied().fold(f64::MIN, f64::max);
    let min = ocean_rss.iter().copied().fold(f64::MAX, f64::min);
    let label = scales.map(count).join("/");
    report.row(
        format!("3 memory: peak RSS of `ocean sync`, {label} Octopus deployments (MiB)"),
        cells.join(" / "),
        format!("loop: {}", baseline_cells.join(" / ")),
        format!("max/min {:.2}", max / min),
        "flat within ±20% of the smallest",
        Some(flat),
    );
    report.notes.push(
        "scenario 3: pages come from `ocean-bench serve`, a single-threaded axum server that \
         renders each page on the fly from the simulator's own deployment and space templates \
         (the simulator pre-renders every item: ~15 s and ~9 GB at a million)"
            .to_owned(),
    );
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Provider {
    Jira,
    Octopus,
}

struct RateRun {
    elapsed: Duration,
    requests: u64,
    limited: u64,
    ok: u64,
    items: u64,
    errors: u64,
}

impl RateRun {
    fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn limited_share(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.limited as f64 / self.requests as f64
        }
    }

    fn summary(&self) -> String {
        format!(
            "{:.1} req/s, {:.1}% 429 ({} of {})",
            self.per_sec(),
            self.limited_share() * 100.0,
            self.limited,
            self.requests
        )
    }
}

async fn rate_run(
    sim: &Simulator,
    provider: Provider,
    adaptive: bool,
    limit: f64,
    length: Duration,
) -> Result<RateRun, Failure> {
    // A fresh, full bucket and fresh counters for every run.
    sim.faults().set_rate_limit(None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.reset_stats();
    sim.faults().set_rate_limit(Some(limit));
    let retry = RetryPolicy::default()
        .max_retries(100)
        .base_delay(Duration::from_millis(50))
        .max_delay(Duration::from_secs(2))
        .budget(None);
    let (base, auth) = match provider {
        Provider::Jira => (sim.jira_url(), Auth::basic(JIRA_EMAIL, JIRA_TOKEN)),
        Provider::Octopus => (
            format!("{}/api", sim.octopus_url()),
            Auth::api_key(API_KEY_HEADER, OCTOPUS_API_KEY)?,
        ),
    };
    let mut client = Client::builder(base)
        .auth(auth)
        .max_concurrency(10)
        .retry(retry)
        .adaptive_pacing(adaptive);
    if provider == Provider::Octopus {
        // `Octopus-RateLimit*` is read by ocean-octopus's reader, as `OctopusClient` does;
        // without it the core client sees only `Retry-After`.
        client = client.rate_limit_headers(ocean_octopus::rate_limit_hints);
    }
    let client = client.build()?;
    let list = || match provider {
        Provider::Jira => {
            ListRequest::<RawItem>::new(&client, ocean_jira::models::Issue::endpoint())
                .body("jql", ocean_jira::DEFAULT_JQL)
                .body("fields", ["*all"])
                .page_size(10)
        }
        Provider::Octopus => ListRequest::<RawItem>::new(&client, Deployment::endpoint())
            .path_param("space_id", "Spaces-1")
            .max_items(None)
            .page_size(10),
    };
    let (mut items, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    let work = async {
        loop {
            let mut stream = list().stream();
            loop {
                match stream.next().await {
                    Some(Ok(_)) => items += 1,
                    Some(Err(_)) => {
                        errors += 1;
                        break;
                    }
                    None => break,
                }
            }
        }
    };
    let _ = tokio::time::timeout(length, work).await;
    let elapsed = start.elapsed();
    let stats = sim.stats();
    Ok(RateRun {
        elapsed,
        requests: stats.requests,
        limited: stats.rate_limited,
        ok: stats.requests - stats.rate_limited - stats.unavailable,
        items,
        errors,
    })
}

/// Scenario 4: a server limited to R requests/s, the client's adaptive pacing on vs off.
pub async fn rate_limit(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let limit = 50.0;
    let length = Duration::from_secs_f64((20.0 * s.scale).max(0.5));
    let sim = Simulator::start(SimConfig {
        items: 2_000,
        ..SimConfig::default()
    })
    .await?;
    // Sub-second waits as decimals, so the retry-only client is not slowed by whole seconds.
    sim.faults().set_fractional_retry_after(true);
    for (provider, what) in [
        (
            Provider::Octopus,
            "Octopus deployments, skip/take with prefetch (10 in flight)",
        ),
        (Provider::Jira, "Jira issues, cursor POST (one in flight)"),
    ] {
        let on = rate_run(&sim, provider, true, limit, length).await?;
        let off = rate_run(&sim, provider, false, limit, length).await?;
        let pass = on.per_sec() >= 0.9 * limit && on.limited_share() <= 0.01;
        report.row(
            format!(
                "4 rate limit: R = {limit:.0} req/s for {:.1} s, {what}: adaptive pacing on vs off (retries only)",
                length.as_secs_f64()
            ),
            on.summary(),
            off.summary(),
            format!("{:.2}× req/s", on.per_sec() / off.per_sec()),
            format!("≥ {:.0} req/s (0.9 R), ≤ 1% 429", 0.9 * limit),
            Some(pass),
        );
        report.notes.push(format!(
            "scenario 4, {}: on streamed {} items ({} stream errors), off {} items ({} stream \
             errors); req/s counts requests the simulator answered other than 429",
            if provider == Provider::Jira {
                "Jira"
            } else {
                "Octopus"
            },
            on.items,
            on.errors,
            off.items,
            off.errors
        ));
    }
    sim.shutdown().await;
    Ok(())
}
