//! Simulator configuration.

use std::time::Duration;

/// How to build and run a [`Simulator`](crate::Simulator).
///
/// The data is a pure function of `seed` and `items`; the fault and latency fields set the
/// initial values of the runtime knobs in [`Faults`](crate::Faults) (also adjustable later,
/// and over HTTP with `POST /_sim/faults`).
///
/// Build it as a struct literal or with the builder methods:
///
/// ```
/// use std::time::Duration;
/// use ocean_sim::SimConfig;
///
/// let config = ocean_sim::SimConfig { items: 1_000, seed: 7, ..Default::default() };
/// assert_eq!(config.port, 0);
///
/// // Jira Cloud-like pacing: 300 ms per 100 full issues, 50 ms per id-only page.
/// let realistic = SimConfig::new(100_000)
///     .with_latency(Duration::from_millis(20))
///     .with_full_issue_latency(Duration::from_millis(300))
///     .with_id_page_latency(Duration::from_millis(50))
///     .with_rate_limit(Some(100.0));
/// assert_eq!(realistic.items, 100_000);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Seed of every generated value.
    pub seed: u64,
    /// The scale `N`: Jira issues and Octopus deployments (see the crate docs for every kind).
    pub items: usize,
    /// Requests per second across both APIs; `None` is unlimited.
    pub rate_limit: Option<f64>,
    /// Fraction of requests answered 503 (`0.0..=1.0`).
    pub fail_rate: f64,
    /// Base delay before every Jira and Octopus answer.
    pub latency: Duration,
    /// Extra delay per 100 full issues served by `search/jql` (with fields) and
    /// `issue/bulkfetch`, scaled by the issues in the answer (see
    /// [`Faults::set_full_issue_latency`](crate::Faults::set_full_issue_latency)).
    pub full_issue_latency: Duration,
    /// Extra delay per id-only `search/jql` page (see
    /// [`Faults::set_id_page_latency`](crate::Faults::set_id_page_latency)).
    pub id_page_latency: Duration,
    /// How recent a change must not be to appear in `GET /rest/api/3/worklog/updated` and
    /// `/worklog/deleted`: Jira Cloud leaves out the last minute (`Duration::from_secs(60)`);
    /// the default, zero, shows every change at once so tests need not wait.
    pub worklog_feed_delay: Duration,
    /// Render generated Jira issues and worklogs and Octopus releases and deployments each time
    /// they are served instead of once at start (changed items are kept as changed). The bytes
    /// are identical; memory drops about fivefold (see the crate docs for figures) for some
    /// CPU per item served. For large (1M) datasets.
    pub lazy: bool,
    /// Whether list pages are sent as truncated, invalid JSON.
    pub malformed: bool,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

impl Default for SimConfig {
    /// Seed 42, 200 items, no faults, no latency, an ephemeral port.
    fn default() -> Self {
        SimConfig {
            seed: 42,
            items: 200,
            rate_limit: None,
            fail_rate: 0.0,
            latency: Duration::ZERO,
            full_issue_latency: Duration::ZERO,
            id_page_latency: Duration::ZERO,
            worklog_feed_delay: Duration::ZERO,
            lazy: false,
            malformed: false,
            port: 0,
        }
    }
}

impl SimConfig {
    /// The default configuration at scale `items`.
    pub fn new(items: usize) -> Self {
        SimConfig {
            items,
            ..SimConfig::default()
        }
    }

    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`rate_limit`](Self::rate_limit) (requests per second; `None` is unlimited).
    pub fn with_rate_limit(mut self, rate: Option<f64>) -> Self {
        self.rate_limit = rate;
        self
    }

    /// Sets [`fail_rate`](Self::fail_rate).
    pub fn with_fail_rate(mut self, rate: f64) -> Self {
        self.fail_rate = rate;
        self
    }

    /// Sets the base per-request [`latency`](Self::latency).
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets [`full_issue_latency`](Self::full_issue_latency), the delay per 100 full issues.
    pub fn with_full_issue_latency(mut self, per_100_issues: Duration) -> Self {
        self.full_issue_latency = per_100_issues;
        self
    }

    /// Sets [`id_page_latency`](Self::id_page_latency), the delay per id-only page.
    pub fn with_id_page_latency(mut self, per_page: Duration) -> Self {
        self.id_page_latency = per_page;
        self
    }

    /// Sets [`worklog_feed_delay`](Self::worklog_feed_delay).
    pub fn with_worklog_feed_delay(mut self, delay: Duration) -> Self {
        self.worklog_feed_delay = delay;
        self
    }

    /// Sets [`lazy`](Self::lazy).
    pub fn with_lazy(mut self, lazy: bool) -> Self {
        self.lazy = lazy;
        self
    }

    /// Sets [`malformed`](Self::malformed).
    pub fn with_malformed(mut self, malformed: bool) -> Self {
        self.malformed = malformed;
        self
    }

    /// Sets [`port`](Self::port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}
