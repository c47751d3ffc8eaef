//! When to send a request again, and how long to wait first.
//!
//! Defaults, next to Port Ocean's (`RetryConfig`):
//!
//! | setting | ocean-rs | Ocean |
//! |---|---|---|
//! | retries after the first send | 6 | 10 |
//! | first backoff, growth | 0.5 s, ×2 | 0.1 s, ×2 |
//! | jitter | full (uniform 0..backoff) | ±10 % |
//! | cap on one backoff | 30 s | 60 s |
//! | longest server-requested wait (`Retry-After`) before failing fast | 120 s | capped to 60 s, then retried |
//! | total time spent retrying one request | 5 min | unbounded (~102 s of sleep) |
//! | retries as a share of traffic | ≤ 20 % extra over a 10 s window, at least 10/s | unbounded |
//! | statuses retried | 429, 408, 502, 503, 504 (+500 opt-in; 401 once with a token provider) | 429, 408, 502, 503, 504, 401 |
//!
//! Non-idempotent methods (`POST`, `PATCH`) are retried only on 429, on a
//! failed connect (the request never left), or when the request opts in.

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};

/// How backoff waits are randomised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Uniform in `0..=backoff` (AWS "full jitter"): spreads synchronized clients best.
    Full,
    /// Uniform in `backoff × low ..= backoff × high` (Jira documents 0.7–1.3).
    Range {
        /// Lowest factor.
        low: f64,
        /// Highest factor.
        high: f64,
    },
}

/// A bound on retries as a share of all traffic (tower's `TpsBudget`), so a
/// 429 storm cannot multiply load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// The window deposits count in.
    pub window: Duration,
    /// Retries always allowed per second, whatever the traffic.
    pub min_per_sec: u32,
    /// Extra retries allowed as a fraction of first attempts (0.2 = 20 %).
    pub ratio: f32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(10),
            min_per_sec: 10,
            ratio: 0.2,
        }
    }
}

/// Bounded retries with exponential backoff, jitter and budgets.
///
/// ```
/// use std::time::Duration;
/// use ocean_core::RetryPolicy;
/// let policy = RetryPolicy::default().max_retries(3).base_delay(Duration::from_millis(10));
/// assert_eq!(policy.backoff_ceiling(2), Duration::from_millis(40));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) base_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) jitter: Jitter,
    pub(crate) max_wait: Duration,
    pub(crate) max_elapsed: Duration,
    pub(crate) retry_500: bool,
    pub(crate) budget: Option<RetryBudget>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            jitter: Jitter::Full,
            max_wait: Duration::from_secs(120),
            max_elapsed: Duration::from_secs(300),
            retry_500: false,
            budget: Some(RetryBudget::default()),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries after the first send (0 = send once).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first backoff; each later one doubles.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The cap on one backoff.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How backoffs are randomised.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The longest server-requested wait honoured; longer ones fail at once with
    /// [`Error::RateLimited`](crate::Error::RateLimited).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The total time one request may spend being retried.
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Also retry `500 Internal Server Error`.
    pub fn retry_500(mut self, on: bool) -> Self {
        self.retry_500 = on;
        self
    }

    /// The share-of-traffic budget; `None` disables it.
    pub fn budget(mut self, budget: Option<RetryBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// The upper bound of the backoff before the `retry`-th retry (from 0), before jitter.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// A randomised backoff before the `retry`-th retry (from 0).
    pub fn backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let wait = match self.jitter {
            Jitter::Full => ceiling.mul_f64(rng.random_range(0.0..=1.0)),
            Jitter::Range { low, high } if low < high => {
                ceiling.mul_f64(rng.random_range(low..=high))
            }
            Jitter::Range { low, .. } => ceiling.mul_f64(low.max(0.0)),
        };
        wait.min(self.max_delay)
    }

    /// Whether a status may be retried for a request of this kind.
    pub(crate) fn retries_status(&self, status: StatusCode, replay_safe: bool) -> bool {
        match status {
            StatusCode::TOO_MANY_REQUESTS => true,
            StatusCode::INTERNAL_SERVER_ERROR => self.retry_500 && replay_safe,
            s => is_retryable_status(s) && replay_safe,
        }
    }
}

/// The statuses worth sending again: 408, 429, 502, 503, 504.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
}

/// True for methods that may be sent twice without changing the outcome.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = RetryPolicy::default();
        let ceilings: Vec<_> = (0..8).map(|n| p.backoff_ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling_and_spreads() {
        let p = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(7);
        let waits: Vec<_> = (0..200).map(|_| p.backoff(3, &mut rng)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(4)));
        assert!(waits.iter().any(|w| *w < Duration::from_secs(1)));
        assert!(waits.iter().any(|w| *w > Duration::from_secs(3)));
    }

    #[test]
    fn a_range_jitter_stays_within_its_bounds() {
        // A provider profile's shape: start near 5 s, jitter x0.7-1.3, cap 30 s.
        let p = RetryPolicy::default()
            .base_delay(Duration::from_secs(5))
            .max_delay(Duration::from_secs(30))
            .jitter(Jitter::Range {
                low: 0.7,
                high: 1.3,
            });
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let w = p.backoff(0, &mut rng);
            assert!(
                w >= Duration::from_millis(3500) && w <= Duration::from_millis(6500),
                "{w:?}"
            );
        }
        // Capped at 30 s even with jitter above 1.
        assert!((0..50).all(|_| p.backoff(5, &mut rng) <= Duration::from_secs(30)));
    }

    #[test]
    fn status_classes() {
        let p = RetryPolicy::default();
        for s in [408, 502, 503, 504] {
            let s = StatusCode::from_u16(s).unwrap();
            assert!(p.retries_status(s, true) && !p.retries_status(s, false));
        }
        assert!(p.retries_status(StatusCode::TOO_MANY_REQUESTS, false));
        for s in [400, 401, 403, 404, 422, 500] {
            assert!(
                !p.retries_status(StatusCode::from_u16(s).unwrap(), true),
                "{s}"
            );
        }
        assert!(
            p.clone()
                .retry_500(true)
                .retries_status(StatusCode::INTERNAL_SERVER_ERROR, true)
        );
    }
}
