//! The results table, the peak-RSS figures and the notes, printed as Markdown.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::Run;

/// One line of the table.
pub struct Row {
    pub scenario: String,
    pub ocean: String,
    pub baseline: String,
    pub ratio: String,
    pub bar: String,
    /// `None` for information only.
    pub pass: Option<bool>,
}

/// Everything measured in one run of `ocean-bench all`.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Peak RSS figures, one line each.
    pub rss: Vec<String>,
    /// Server CPU shares, spreads and other context, one line each.
    pub notes: Vec<String>,
    /// The highest median server CPU share seen in scenario 1.
    pub server_share_max: f64,
}

impl Report {
    pub fn row(
        &mut self,
        scenario: impl Into<String>,
        ocean: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        bar: impl Into<String>,
        pass: Option<bool>,
    ) {
        self.rows.push(Row {
            scenario: scenario.into(),
            ocean: ocean.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            bar: bar.into(),
            pass,
        });
    }

    /// Keeps the highest median server CPU share of two sets of runs.
    pub fn saw_server_share(&mut self, a: &[Run], b: &[Run]) {
        let share = median_server_share(a).max(median_server_share(b));
        self.server_share_max = self.server_share_max.max(share);
    }

    pub fn failed_bars(&self) -> usize {
        self.rows.iter().filter(|r| r.pass == Some(false)).count()
    }

    /// The table, the RSS figures and the notes, as Markdown.
    pub fn markdown(&self) -> String {
        let header = ["scenario", "ocean-rs", "baseline", "ratio", "bar", "result"];
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.scenario.clone(),
                    r.ocean.clone(),
                    r.baseline.clone(),
                    r.ratio.clone(),
                    r.bar.clone(),
                    match r.pass {
                        Some(true) => "PASS".into(),
                        Some(false) => "FAIL".into(),
                        None => "info".into(),
                    },
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (c, w) in cells.iter().zip(widths) {
                let pad = w - c.chars().count();
                let _ = write!(s, " {c}{} |", " ".repeat(pad));
            }
            s.push('\n');
            s
        };
        let mut out = line(&header.map(String::from));
        out.push('|');
        for w in widths {
            let _ = write!(out, "{}|", "-".repeat(w + 2));
        }
        out.push('\n');
        for row in &cells {
            out.push_str(&line(row));
        }
        if !self.rss.is_empty() {
            out.push_str("\nPeak RSS (whole process, `VmHWM` sampled every millisecond):\n\n");
            for l in &self.rss {
                let _ = writeln!(out, "- {l}");
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n\n");
            for l in &self.notes {
                let _ = writeln!(out, "- {l}");
            }
        }
        out
    }
}

pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

pub fn median_rate(runs: &[Run]) -> f64 {
    median(runs.iter().map(Run::items_per_sec).collect())
}

pub fn median_rss_mib(runs: &[Run]) -> f64 {
    median(runs.iter().map(|r| r.max_rss_kib as f64 / 1024.0).collect())
}

pub fn median_server_share(runs: &[Run]) -> f64 {
    median(runs.iter().map(Run::server_share).collect())
}

/// Spread of items/s over the runs: (min, max).
pub fn spread(runs: &[Run]) -> (f64, f64) {
    let rates: Vec<f64> = runs.iter().map(Run::items_per_sec).collect();
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// `412k items/s` style.
pub fn rate(per_sec: f64) -> String {
    if per_sec >= 10_000.0 {
        format!("{:.0}k items/s", per_sec / 1000.0)
    } else {
        format!("{per_sec:.0} items/s")
    }
}

/// Items/s, median wall time and peak RSS of a set of runs.
pub fn runs_summary(runs: &[Run]) -> String {
    let wall = median(runs.iter().map(|r| r.wall.as_secs_f64()).collect());
    format!(
        "{} ({:.2} s, {:.1} MiB)",
        rate(median_rate(runs)),
        wall,
        median_rss_mib(runs)
    )
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}
