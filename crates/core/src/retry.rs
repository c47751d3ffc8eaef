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
//! | statuses retried | 429, 408, 502, 503, 504, a throttling 403 (+500 opt-in; 401 once with a token provider) | 429, 408, 502, 503, 504, 401 |
//!
//! Non-idempotent methods (`POST`, `PATCH`) are retried only on 429 (or a throttling
//! 403), on a failed connect (the request never left), or when the request opts in.
//!
//! One function decides: [`RetryPolicy::decide`] (the shape of tower's and octocrab's
//! retry `Policy`) is what the client's request path asks after every failed attempt,
//! and [`Error::is_retryable`] is its answer under the default policy.

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};

use crate::{Error, TransportKind};

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

    /// What to do after a failed attempt: send it again after a wait, or give up.
    ///
    /// In order: an error that sending again cannot fix gives up; a server-requested
    /// wait (`Retry-After`, a rate-limit reset) longer than [`max_wait`](Self::max_wait)
    /// gives up at once; otherwise the wait is the server's, or a backoff, unless the
    /// retries or the time budget are spent. `withdraw` is asked last, only when all else
    /// says retry: it spends a token of the share-of-traffic budget.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ocean_core::{Attempt, Decision, Error, GiveUpReason, RetryPolicy};
    /// let policy = RetryPolicy::default().max_retries(2);
    /// let error = Error::Config("bad".into());
    /// let attempt = Attempt { error: &error, replay_safe: true, retries: 0, elapsed: Duration::ZERO };
    /// let decision = policy.decide(&attempt, &mut rand::rng(), || true);
    /// assert_eq!(decision, Decision::GiveUp(GiveUpReason::NotRetryable));
    /// ```
    pub fn decide(
        &self,
        attempt: &Attempt<'_>,
        rng: &mut impl Rng,
        withdraw: impl FnOnce() -> bool,
    ) -> Decision {
        if !self.retries(attempt.error, attempt.replay_safe) {
            return Decision::GiveUp(GiveUpReason::NotRetryable);
        }
        let wait = match server_wait(attempt.error) {
            Some(wait) if wait > self.max_wait => {
                return Decision::GiveUp(GiveUpReason::WaitTooLong(wait));
            }
            Some(wait) => wait,
            None => self.backoff(attempt.retries, rng),
        };
        let reason = if attempt.retries >= self.max_retries {
            GiveUpReason::NoRetriesLeft
        } else if attempt.elapsed.saturating_add(wait) > self.max_elapsed {
            GiveUpReason::TimeBudgetSpent
        } else if !withdraw() {
            GiveUpReason::TrafficBudgetSpent
        } else {
            return Decision::Retry(wait);
        };
        Decision::GiveUp(reason)
    }

    /// Whether sending the request of `error` again may succeed, for a request of this kind.
    pub(crate) fn retries(&self, error: &Error, replay_safe: bool) -> bool {
        match error {
            // A throttle, not a refusal: the request was turned away before it was served.
            Error::Status(e) if e.status == StatusCode::FORBIDDEN => e.retry_after.is_some(),
            Error::Status(e) => self.retries_status(e.status, replay_safe),
            Error::RateLimited { .. } => true,
            // The request never left.
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            } => true,
            Error::Transport { .. } | Error::Timeout { .. } => replay_safe,
            Error::Decode { .. }
            | Error::Pagination { .. }
            | Error::Api { .. }
            | Error::Token(_)
            | Error::Config(_) => false,
        }
    }

    /// Whether a status may be retried for a request of this kind.
    pub(crate) fn retries_status(&self, status: StatusCode, replay_safe: bool) -> bool {
        match status.as_u16() {
            429 => true,
            500 => self.retry_500 && replay_safe,
            408 | 502 | 503 | 504 => replay_safe,
            _ => false,
        }
    }
}

/// The wait the server asked for before the request of `error` is sent again.
fn server_wait(error: &Error) -> Option<Duration> {
    match error {
        Error::Status(e) => e.retry_after,
        Error::RateLimited { retry_after, .. } => Some(*retry_after),
        _ => None,
    }
}

/// One failed attempt, as [`RetryPolicy::decide`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// How the attempt failed.
    pub error: &'a Error,
    /// Whether the request may be sent twice without changing the outcome (an idempotent
    /// method, or a read over `POST` that opted in).
    pub replay_safe: bool,
    /// Retries already made (0 after the first send).
    pub retries: u32,
    /// Time since the first send.
    pub elapsed: Duration,
}

/// What [`RetryPolicy::decide`] says to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the request again after this wait.
    Retry(Duration),
    /// Return the error.
    GiveUp(GiveUpReason),
}

/// Why a request is not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// Sending it again cannot succeed (a `404`, a decode error, a `POST` cut off mid-answer).
    NotRetryable,
    /// The server asks to wait this long, more than the policy's maximum wait (the client
    /// answers [`Error::RateLimited`]).
    WaitTooLong(Duration),
    /// [`RetryPolicy::max_retries`] retries were made.
    NoRetriesLeft,
    /// Waiting once more would exceed [`RetryPolicy::max_elapsed`].
    TimeBudgetSpent,
    /// Retries used up their share of the client's traffic ([`RetryPolicy::budget`]).
    TrafficBudgetSpent,
}

impl std::fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRetryable => f.write_str("not retryable"),
            Self::WaitTooLong(wait) => write!(f, "the server asks to wait {wait:?}"),
            Self::NoRetriesLeft => f.write_str("no retries left"),
            Self::TimeBudgetSpent => f.write_str("retry time budget spent"),
            Self::TrafficBudgetSpent => f.write_str("retry budget (share of traffic) spent"),
        }
    }
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

    fn status(code: u16, retry_after: Option<Duration>) -> Error {
        Error::Status(Box::new(crate::StatusError {
            method: Method::GET,
            url: "https://example.com/x".into(),
            status: StatusCode::from_u16(code).unwrap(),
            body_snippet: String::new(),
            messages: Vec::new(),
            credential: None,
            attempts: 1,
            retry_after,
        }))
    }

    fn transport(kind: TransportKind) -> Error {
        let source = reqwest::Client::new().get("not a URL").build().unwrap_err();
        let (method, url) = (Method::GET, "https://example.com/x".into());
        Error::Transport {
            method,
            url,
            kind,
            source,
        }
    }

    /// One error of every class the request path can meet.
    fn every_error_class() -> Vec<Error> {
        let wait = Some(Duration::from_secs(2));
        let mut errors: Vec<Error> = [400, 401, 403, 404, 409, 422, 500, 408, 429, 502, 503, 504]
            .into_iter()
            .flat_map(|code| [status(code, None), status(code, wait)])
            .collect();
        let (method, url) = (Method::GET, String::from("https://example.com/x"));
        errors.extend([
            transport(TransportKind::Connect),
            transport(TransportKind::Response),
            Error::Timeout {
                method: method.clone(),
                url: url.clone(),
                after: Duration::from_secs(30),
            },
            Error::RateLimited {
                method,
                url: url.clone(),
                retry_after: Duration::from_secs(600),
                max_wait: Duration::from_secs(120),
            },
            Error::Decode {
                url: url.clone(),
                path: ".".into(),
                message: "eof".into(),
            },
            Error::Pagination {
                url: url.clone(),
                guard: crate::PaginationGuard::MissingCursor { page: 1 },
            },
            Error::Api {
                url,
                message: "no".into(),
            },
            Error::Token("refused".into()),
            Error::Config("bad".into()),
        ]);
        errors
    }

    fn first_failure(error: &Error, replay_safe: bool) -> Attempt<'_> {
        Attempt {
            error,
            replay_safe,
            retries: 0,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn is_retryable_agrees_with_the_decision_on_every_error_class() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(3);
        for error in every_error_class() {
            let decision = policy.decide(&first_failure(&error, true), &mut rng, || true);
            let retried = !matches!(decision, Decision::GiveUp(GiveUpReason::NotRetryable));
            assert_eq!(error.is_retryable(), retried, "{error:?}: {decision:?}");
        }
    }

    #[test]
    fn decisions_follow_the_rules_in_order() {
        let policy = RetryPolicy::default()
            .max_retries(2)
            .max_elapsed(Duration::from_secs(60));
        let mut rng = StdRng::seed_from_u64(5);
        let mut decide = |error: &Error, replay_safe, retries, elapsed, budget| {
            let attempt = Attempt {
                error,
                replay_safe,
                retries,
                elapsed: Duration::from_secs(elapsed),
            };
            policy.decide(&attempt, &mut rng, || budget)
        };
        let wait = Duration::from_secs(2);
        // The server's wait is taken as it is; a refused request is retried whatever its method.
        assert_eq!(
            decide(&status(429, Some(wait)), false, 0, 0, true),
            Decision::Retry(wait)
        );
        assert_eq!(
            decide(&status(403, Some(wait)), false, 0, 0, true),
            Decision::Retry(wait)
        );
        // Without one, a backoff under the ceiling.
        let Decision::Retry(backoff) = decide(&status(503, None), true, 1, 0, true) else {
            panic!()
        };
        assert!(backoff <= policy.backoff_ceiling(1));
        assert_eq!(
            decide(&status(503, None), false, 0, 0, true),
            Decision::GiveUp(GiveUpReason::NotRetryable)
        );
        assert_eq!(
            decide(&status(403, None), true, 0, 0, true),
            Decision::GiveUp(GiveUpReason::NotRetryable)
        );
        let long = Duration::from_secs(600);
        assert_eq!(
            decide(&status(429, Some(long)), true, 0, 0, true),
            Decision::GiveUp(GiveUpReason::WaitTooLong(long))
        );
        assert_eq!(
            decide(&status(429, Some(wait)), true, 2, 0, true),
            Decision::GiveUp(GiveUpReason::NoRetriesLeft)
        );
        assert_eq!(
            decide(&status(429, Some(wait)), true, 0, 59, true),
            Decision::GiveUp(GiveUpReason::TimeBudgetSpent)
        );
        assert_eq!(
            decide(&status(429, Some(wait)), true, 0, 0, false),
            Decision::GiveUp(GiveUpReason::TrafficBudgetSpent)
        );
        // A failed connect never left: retried even for a POST; a cut-off answer only when safe.
        assert!(matches!(
            decide(&transport(TransportKind::Connect), false, 0, 0, true),
            Decision::Retry(_)
        ));
        assert_eq!(
            decide(&transport(TransportKind::Response), false, 0, 0, true),
            Decision::GiveUp(GiveUpReason::NotRetryable)
        );
    }

    #[test]
    fn the_traffic_budget_is_asked_only_when_all_else_says_retry() {
        let policy = RetryPolicy::default().max_retries(0);
        let mut asked = false;
        let error = status(503, None);
        let decision = policy.decide(&first_failure(&error, true), &mut rand::rng(), || {
            asked = true;
            true
        });
        assert_eq!(decision, Decision::GiveUp(GiveUpReason::NoRetriesLeft));
        assert!(!asked, "no token spent on a request given up anyway");
    }
}
