//! Fault injection: rate limiting, transient failures, latency and malformed pages.
//!
//! All knobs are atomics so a test can flip them while a client is mid-sync.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::rng::mix;

/// Runtime fault knobs of a running [`Simulator`](crate::Simulator).
///
/// Faults apply to every Jira and Octopus route, before authentication; the `/_sim` control
/// routes are exempt. The order is: latency, rate limit (429), transient failure (503),
/// authentication (401), the route itself, then the malformed-page fault on list responses.
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use std::time::Duration;
/// let sim = ocean_sim::Simulator::start(ocean_sim::SimConfig::default()).await?;
/// sim.faults().set_rate_limit(Some(50.0));
/// sim.faults().set_fail_rate(0.1);
/// sim.faults().set_latency(Duration::from_millis(5));
/// sim.faults().set_malformed(false);
/// assert_eq!(sim.faults().rate_limit(), Some(50.0));
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct Faults {
    seed: u64,
    /// Requests per second as f64 bits; 0 means off.
    rate_limit: AtomicU64,
    fail_rate: AtomicU64,
    latency_us: AtomicU64,
    full_issue_latency_us: AtomicU64,
    id_page_latency_us: AtomicU64,
    worklog_feed_delay_us: AtomicU64,
    malformed: AtomicBool,
    jira_admin: AtomicBool,
    fractional_retry_after: AtomicBool,
    /// Counts requests that reached the failure draw, so the 503 sequence is reproducible.
    draws: AtomicU64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The rate limiter's verdict on one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Admission {
    /// No rate limit configured.
    Unlimited,
    /// Admitted; `remaining` whole tokens are left of `burst`.
    Allowed {
        rate: f64,
        burst: f64,
        remaining: f64,
    },
    /// Rejected; a token will be available in `retry_after` seconds.
    Limited {
        rate: f64,
        burst: f64,
        retry_after: f64,
    },
}

impl Faults {
    pub(crate) fn new(seed: u64) -> Self {
        Faults {
            seed,
            rate_limit: AtomicU64::new(0f64.to_bits()),
            fail_rate: AtomicU64::new(0f64.to_bits()),
            latency_us: AtomicU64::new(0),
            full_issue_latency_us: AtomicU64::new(0),
            id_page_latency_us: AtomicU64::new(0),
            worklog_feed_delay_us: AtomicU64::new(0),
            malformed: AtomicBool::new(false),
            jira_admin: AtomicBool::new(true),
            fractional_retry_after: AtomicBool::new(false),
            draws: AtomicU64::new(0),
            bucket: Mutex::new(Bucket {
                tokens: 0.0,
                last: Instant::now(),
            }),
        }
    }

    /// Limits both APIs together to `rate` requests per second with a token bucket whose burst
    /// is `max(rate, 1)` (the bucket starts full). `None`, zero, negative or non-finite values
    /// turn the limit off.
    ///
    /// Rejected requests get 429 with `Retry-After` in whole seconds (at least 1, like Jira)
    /// unless [`set_fractional_retry_after`](Self::set_fractional_retry_after) is on.
    pub fn set_rate_limit(&self, rate: Option<f64>) {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0).unwrap_or(0.0);
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        bucket.tokens = rate.max(1.0);
        bucket.last = Instant::now();
        self.rate_limit.store(rate.to_bits(), Ordering::SeqCst);
    }

    /// The configured rate limit in requests per second.
    pub fn rate_limit(&self) -> Option<f64> {
        let r = f64::from_bits(self.rate_limit.load(Ordering::Relaxed));
        (r > 0.0).then_some(r)
    }

    /// Makes this fraction (clamped to `0..=1`) of requests answer 503. The choice is a hash
    /// of the seed and a request counter, so the same request sequence fails the same way
    /// on every run.
    pub fn set_fail_rate(&self, rate: f64) {
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.fail_rate.store(rate.to_bits(), Ordering::SeqCst);
    }

    /// The configured 503 fraction.
    pub fn fail_rate(&self) -> f64 {
        f64::from_bits(self.fail_rate.load(Ordering::Relaxed))
    }

    /// Sleeps this long before answering each request (an async sleep: other requests are
    /// served meanwhile).
    pub fn set_latency(&self, latency: Duration) {
        store_duration(&self.latency_us, latency);
    }

    /// The configured latency.
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    /// Extra time to serve **100 full issues** (issues with fields): a `search/jql` page or a
    /// `POST /rest/api/3/issue/bulkfetch` answer of `n` issues waits `n / 100` of this on top of
    /// [`latency`](Self::latency). Real Jira Cloud takes roughly 300–800 ms for 100 issues.
    /// The wait is an async sleep after the data lock is released: concurrent requests overlap.
    pub fn set_full_issue_latency(&self, per_100_issues: Duration) {
        store_duration(&self.full_issue_latency_us, per_100_issues);
    }

    /// The extra time per 100 full issues.
    pub fn full_issue_latency(&self) -> Duration {
        Duration::from_micros(self.full_issue_latency_us.load(Ordering::Relaxed))
    }

    /// Extra time to serve one id-only `search/jql` page (`fields` of `id`/`key` only, up to
    /// 5000 issues), whatever its size, on top of [`latency`](Self::latency); e.g. 50 ms.
    pub fn set_id_page_latency(&self, per_page: Duration) {
        store_duration(&self.id_page_latency_us, per_page);
    }

    /// The extra time per id-only page.
    pub fn id_page_latency(&self) -> Duration {
        Duration::from_micros(self.id_page_latency_us.load(Ordering::Relaxed))
    }

    /// Leaves changes younger than this out of `GET /rest/api/3/worklog/updated` and
    /// `/worklog/deleted`. Jira Cloud leaves out the last minute; the default is zero.
    pub fn set_worklog_feed_delay(&self, delay: Duration) {
        store_duration(&self.worklog_feed_delay_us, delay);
    }

    /// How recent a change must not be to appear in the worklog feeds.
    pub fn worklog_feed_delay(&self) -> Duration {
        Duration::from_micros(self.worklog_feed_delay_us.load(Ordering::Relaxed))
    }

    /// How long an answer of `issues` issues waits beyond the base latency: the id-only page
    /// latency when `id_only`, else `issues / 100` of the full-issue latency.
    pub(crate) fn issue_delay(&self, issues: usize, id_only: bool) -> Duration {
        if id_only {
            self.id_page_latency()
        } else {
            self.full_issue_latency().mul_f64(issues as f64 / 100.0)
        }
    }

    /// When on, list pages (every paginated or bare-array listing) answer 200
    /// `application/json` with a truncated, invalid JSON body. Single-item getters are unaffected.
    pub fn set_malformed(&self, malformed: bool) {
        self.malformed.store(malformed, Ordering::SeqCst);
    }

    /// Whether list pages are malformed.
    pub fn malformed(&self) -> bool {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Whether the Jira caller is a site administrator (default `true`). When `false`,
    /// `GET /rest/api/3/mypermissions?permissions=ADMINISTER` answers `havePermission: false`
    /// and the admin webhook endpoints (`/rest/webhooks/1.0/webhook`) answer 403.
    pub fn set_jira_admin(&self, admin: bool) {
        self.jira_admin.store(admin, Ordering::SeqCst);
    }

    /// Whether the Jira caller is a site administrator.
    pub fn jira_admin(&self) -> bool {
        self.jira_admin.load(Ordering::Relaxed)
    }

    /// When on, a sub-second wait is sent as a decimal `Retry-After` (`"0.2"`) instead of being
    /// rounded up to `"1"`. Off by default because real Jira and Octopus send whole seconds;
    /// turn it on to keep high-rate benchmarks fast.
    pub fn set_fractional_retry_after(&self, on: bool) {
        self.fractional_retry_after.store(on, Ordering::SeqCst);
    }

    /// Whether sub-second `Retry-After` values are sent as decimals.
    pub fn fractional_retry_after(&self) -> bool {
        self.fractional_retry_after.load(Ordering::Relaxed)
    }

    /// Takes a token from the bucket.
    pub(crate) fn admit(&self) -> Admission {
        let Some(rate) = self.rate_limit() else {
            return Admission::Unlimited;
        };
        let burst = rate.max(1.0);
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let elapsed = now.duration_since(b.last).as_secs_f64();
        b.last = now;
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Admission::Allowed {
                rate,
                burst,
                remaining: b.tokens.floor(),
            }
        } else {
            Admission::Limited {
                rate,
                burst,
                retry_after: (1.0 - b.tokens) / rate,
            }
        }
    }

    /// Draws whether this request fails with 503.
    pub(crate) fn should_fail(&self) -> bool {
        let rate = self.fail_rate();
        if rate <= 0.0 {
            return false;
        }
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let unit = (mix(self.seed ^ mix(n ^ 0xFA11_u64)) >> 11) as f64 / (1u64 << 53) as f64;
        unit < rate
    }

    /// Formats a wait as `Retry-After`.
    pub(crate) fn retry_after_value(&self, secs: f64) -> String {
        if self.fractional_retry_after() && secs < 1.0 {
            let s = format!("{:.3}", secs.max(0.001));
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            format!("{}", secs.ceil().max(1.0) as u64)
        }
    }
}

fn store_duration(cell: &AtomicU64, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    cell.store(us, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_delays_scale_with_full_issues_only() {
        let f = Faults::new(1);
        assert_eq!(f.issue_delay(100, false), Duration::ZERO);
        f.set_full_issue_latency(Duration::from_millis(300));
        f.set_id_page_latency(Duration::from_millis(50));
        assert_eq!(f.issue_delay(100, false), Duration::from_millis(300));
        assert_eq!(f.issue_delay(50, false), Duration::from_millis(150));
        assert_eq!(f.issue_delay(5000, true), Duration::from_millis(50));
        assert_eq!(f.issue_delay(0, false), Duration::ZERO);
    }

    #[test]
    fn bucket_admits_a_burst_then_limits() {
        let f = Faults::new(1);
        assert_eq!(f.admit(), Admission::Unlimited);
        f.set_rate_limit(Some(5.0));
        let allowed = (0..10)
            .filter(|_| matches!(f.admit(), Admission::Allowed { .. }))
            .count();
        assert_eq!(allowed, 5);
        match f.admit() {
            Admission::Limited { retry_after, .. } => {
                assert!(retry_after > 0.0 && retry_after <= 0.2)
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        f.set_rate_limit(None);
        assert_eq!(f.admit(), Admission::Unlimited);
    }

    #[test]
    fn failure_sequence_is_reproducible() {
        let draw = |seed| {
            let f = Faults::new(seed);
            f.set_fail_rate(0.3);
            (0..200).map(|_| f.should_fail()).collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
        let fails = draw(9).iter().filter(|x| **x).count();
        assert!((30..90).contains(&fails), "{fails}");
    }

    #[test]
    fn retry_after_formats() {
        let f = Faults::new(1);
        assert_eq!(f.retry_after_value(0.2), "1");
        assert_eq!(f.retry_after_value(2.1), "3");
        f.set_fractional_retry_after(true);
        assert_eq!(f.retry_after_value(0.2), "0.2");
        assert_eq!(f.retry_after_value(1.5), "2");
    }
}
