//! Scenario 8: Port Ocean's Python client (`crates/bench/python`, run with the interpreter
//! of a virtualenv holding `port-ocean`) against `ocean sync` on the overhead scenario:
//! 100k Jira issues through the search cursor and 100k Octopus deployments, from the
//! simulator in its own process, alternating.

use std::path::{Path, PathBuf};
use std::process::Command;

use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY};

use crate::Failure;
use crate::report::{self, Report, runs_summary};
use crate::scenarios::{Settings, alternate, count};

/// The harness script, in this crate's source tree.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/ocean_python_baseline.py")
}

/// `Python X.Y.Z, port-ocean A.B.C, httpx D.E.F` of the interpreter.
fn versions(python: &Path) -> Result<String, Failure> {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys, importlib.metadata as m; \
             print(f\"Python {sys.version.split()[0]}, port-ocean {m.version('port-ocean')}, \
             httpx {m.version('httpx')}\")",
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot report port-ocean's version (is it installed there?): {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Scenario 8, or a row saying why it was not measured.
pub fn python(s: &Settings, report: &mut Report) -> Result<(), Failure> {
    let Some(python) = &s.python else {
        report.row(
            "8 Python: Port Ocean's client on the overhead scenario",
            "not measured",
            "-",
            "-",
            "≥ 10×",
            None,
        );
        report.notes.push(
            "scenario 8 needs a Python with port-ocean: `--python PATH` or OCEAN_BENCH_PYTHON \
             (see crates/bench/python/README.md)"
                .to_owned(),
        );
        return Ok(());
    };
    let versions = versions(python)?;
    let n = s.items(100_000);
    let sim = s.simulator(n)?;
    let jira = format!("{}/jira", sim.url);
    let octopus = format!("{}/octopus", sim.url);
    let py = |args: &[&str]| {
        let mut cmd = Command::new(python);
        cmd.arg(script()).args(args);
        cmd
    };
    let settings = s.with_runs(s.runs.min(3));
    let cursor = || {
        let mut cmd = s.ocean_jira(&jira);
        cmd.args(["--issue-strategy", "cursor"]);
        cmd
    };
    let runs = alternate(
        &settings,
        &sim,
        n,
        &[&cursor, &|| py(&["jira", &jira, JIRA_EMAIL, JIRA_TOKEN])],
    )?;
    ratio_row(
        report,
        &format!(
            "8 Python: {} Jira issues, cursor POST: `ocean sync --issue-strategy cursor` vs Port Ocean's client ({versions})",
            count(n)
        ),
        &runs[0],
        &runs[1],
    );
    let runs = alternate(
        &settings,
        &sim,
        n,
        &[&|| s.ocean_octopus(&octopus, &[]), &|| {
            py(&["octopus", &octopus, OCTOPUS_API_KEY])
        }],
    )?;
    ratio_row(
        report,
        &format!(
            "8 Python: {} Octopus deployments, skip/take: `ocean sync` (defaults) vs Port Ocean's client (2 spaces merged)",
            count(n)
        ),
        &runs[0],
        &runs[1],
    );
    report.notes.push(format!(
        "scenario 8: `ocean sim --items {n}` in its own process; {} runs per side after a \
         warm-up, alternating; the Python side is crates/bench/python/ocean_python_baseline.py \
         with {versions}",
        settings.runs
    ));
    Ok(())
}

fn ratio_row(
    report: &mut Report,
    scenario: &str,
    ocean: &[crate::measure::Run],
    python: &[crate::measure::Run],
) {
    let ratio = report::median_rate(ocean) / report::median_rate(python);
    report.row(
        scenario,
        runs_summary(ocean),
        runs_summary(python),
        format!("{ratio:.1}×"),
        "≥ 10×",
        Some(ratio >= 10.0),
    );
    let cpu = |runs: &[crate::measure::Run]| {
        report::median(runs.iter().map(|r| r.cpu.as_secs_f64()).collect())
    };
    report.notes.push(format!(
        "{scenario}: client CPU {:.2} s vs {:.2} s (median)",
        cpu(ocean),
        cpu(python)
    ));
}
