//! Progress bars while syncing, and the summary table after.

use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What one kind's sync did.
#[derive(Debug, Clone)]
pub struct KindReport {
    pub provider: &'static str,
    pub kind: &'static str,
    pub items: u64,
    /// Successful requests (each a page, or a parent lookup).
    pub pages: u64,
    pub retries: u64,
    pub elapsed: Duration,
}

/// Progress bars on stderr (hidden when stderr is not a terminal).
#[derive(Clone)]
pub struct Progress {
    bars: MultiProgress,
}

impl Progress {
    pub fn new() -> Self {
        Self {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        }
    }

    /// The bars, for logging through them without tearing.
    pub fn bars(&self) -> &MultiProgress {
        &self.bars
    }

    pub fn kind_bar(&self, provider: &str, kind: &str) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "{spinner:.cyan} {prefix:<20} {human_pos:>9} items  {msg} [{elapsed}]",
        )
        .expect("valid template")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓");
        let bar = self.bars.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(format!("{provider} {kind}"));
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }
}

/// Writes the summary table.
pub fn write_summary(out: &mut impl Write, reports: &[KindReport]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<22} {:>9} {:>7} {:>8} {:>9}",
        "kind", "items", "pages", "retries", "elapsed"
    )?;
    for r in reports {
        let name = format!("{} {}", r.provider, r.kind);
        writeln!(
            out,
            "{name:<22} {:>9} {:>7} {:>8} {:>8.2}s",
            r.items,
            r.pages,
            r.retries,
            r.elapsed.as_secs_f64()
        )?;
    }
    let items: u64 = reports.iter().map(|r| r.items).sum();
    let pages: u64 = reports.iter().map(|r| r.pages).sum();
    let retries: u64 = reports.iter().map(|r| r.retries).sum();
    let elapsed: Duration = reports.iter().map(|r| r.elapsed).sum();
    writeln!(
        out,
        "{:<22} {items:>9} {pages:>7} {retries:>8} {:>8.2}s",
        "total",
        elapsed.as_secs_f64()
    )
}
