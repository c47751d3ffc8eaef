//! Simulator configuration.

use std::time::Duration;

/// How to build and run a [`Simulator`](crate::Simulator).
///
/// The data is a pure function of `seed` and `items`; the fault fields set the initial values
/// of the runtime knobs in [`Faults`](crate::Faults).
///
/// ```
/// let config = ocean_sim::SimConfig { items: 1_000, seed: 7, ..Default::default() };
/// assert_eq!(config.port, 0);
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
    /// Delay before every answer.
    pub latency: Duration,
    /// Whether list pages are sent as truncated, invalid JSON.
    pub malformed: bool,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

impl Default for SimConfig {
    /// Seed 42, 200 items, no faults, an ephemeral port.
    fn default() -> Self {
        SimConfig {
            seed: 42,
            items: 200,
            rate_limit: None,
            fail_rate: 0.0,
            latency: Duration::ZERO,
            malformed: false,
            port: 0,
        }
    }
}
