//! Client-side pacing: an optional fixed rate, plus adaptive pacing on what the server says.
//!
//! Adaptive pacing has two parts, both shared by every request of a client:
//!
//! * a pause: a "not before" instant that only ever moves forward, set by a `Retry-After`
//!   or by a spent budget's refill time. Requests sleep until it on their own; nobody
//!   holds a lock while sleeping (Port Ocean's Jira limiter sleeps under a global lock
//!   and stalls every request).
//! * a pace: once the server says its budget is low and how fast it refills, request
//!   starts are spaced at just under that rate, one slot each, until the budget has
//!   recovered (half full again). A pause alone wakes every waiting request at once, and
//!   all but one of them then meet an empty budget; slots let about as many through as
//!   the server refills, so a sync runs at the server's rate without being answered 429.
//!
//! [`ClientBuilder::adaptive_pacing(false)`](crate::ClientBuilder::adaptive_pacing) turns
//! both off: requests then only wait for their own retries.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::wait_hint::WaitHints;
use crate::{Error, Result};

/// The fastest pace a server's advertised rate can set (one request per microsecond).
const MIN_PACE_NS: u64 = 1_000;

/// The share of the server's rate a paced client uses. The rest lets a low budget refill
/// slowly, so timing jitter on the way to the server never meets an empty bucket.
const PACE_SHARE: f64 = 0.95;

/// How long pacing outlives the last response that asked for it (longer when the server
/// says its budget takes longer to refill). Pacing must lapse on its own if rate-limit
/// headers stop coming (a lifted limit, a proxy that strips them).
const DEFAULT_PACE_HOLD: Duration = Duration::from_secs(10);

/// Nanoseconds between request starts when pacing at a server's `rate` (requests/s).
fn pace_ns(rate: f64) -> u64 {
    (1e9 / (rate * PACE_SHARE)).clamp(MIN_PACE_NS as f64, u64::MAX as f64) as u64
}

pub(crate) struct Throttle {
    fixed: Option<DefaultDirectRateLimiter>,
    origin: Instant,
    /// Milliseconds after `origin` before which no request starts.
    not_before_ms: AtomicU64,
    max_pause: Duration,
    adaptive: bool,
    /// Nanoseconds between request starts while the server's budget is low; 0 = not pacing.
    pace_ns: AtomicU64,
    /// Nanoseconds after `origin` of the next free paced slot.
    next_slot_ns: AtomicU64,
    /// Nanoseconds after `origin` when pacing lapses unless a response renews it.
    pace_until_ns: AtomicU64,
}

impl Throttle {
    /// `per_second`: the fixed rate, if any. `max_pause`: the longest adaptive pause accepted.
    /// `adaptive`: whether the server's hints pause and pace requests.
    pub(crate) fn new(
        per_second: Option<f64>,
        max_pause: Duration,
        adaptive: bool,
    ) -> Result<Self> {
        let fixed = per_second.map(quota).transpose()?.map(RateLimiter::direct);
        Ok(Self {
            fixed,
            origin: Instant::now(),
            not_before_ms: AtomicU64::new(0),
            max_pause,
            adaptive,
            pace_ns: AtomicU64::new(0),
            next_slot_ns: AtomicU64::new(0),
            pace_until_ns: AtomicU64::new(0),
        })
    }

    /// Waits until a request may start.
    pub(crate) async fn ready(&self) {
        let not_before =
            self.origin + Duration::from_millis(self.not_before_ms.load(Ordering::Acquire));
        if not_before > Instant::now() {
            tokio::time::sleep_until(not_before).await;
        }
        let mut pace = self.pace_ns.load(Ordering::Acquire);
        if pace > 0
            && self.since_origin_ns(Instant::now()) > self.pace_until_ns.load(Ordering::Acquire)
        {
            // No response has renewed the pacing for a while: stop.
            if self
                .pace_ns
                .compare_exchange(pace, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                tracing::debug!("no fresh rate-limit hints: pacing off");
            }
            pace = 0;
        }
        if pace > 0 {
            let now = self.since_origin_ns(Instant::now());
            let previous = self
                .next_slot_ns
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |next| {
                    Some(next.max(now).saturating_add(pace))
                })
                .unwrap_or(now);
            let slot = previous.max(now);
            if slot > now {
                tokio::time::sleep_until(self.origin + Duration::from_nanos(slot)).await;
            }
        }
        if let Some(limiter) = &self.fixed {
            limiter.until_ready().await;
        }
    }

    /// Adapts to what a response's headers say about the server's budget: paces requests
    /// at the server's rate while the budget is low, stops once it has recovered, and
    /// pauses for the refill when the budget is spent.
    pub(crate) fn observe(&self, hints: &WaitHints) {
        if !self.adaptive {
            return;
        }
        let longest = u64::try_from(self.max_pause.as_nanos())
            .unwrap_or(u64::MAX)
            .max(MIN_PACE_NS);
        let pace = match hints.rate.filter(|r| r.is_finite() && *r > 0.0) {
            // A rate so low it would space requests beyond the longest pause accepted
            // is paced at that pause instead: never an effective hang.
            Some(rate) if hints.low => Some(pace_ns(rate).min(longest)),
            _ if hints.recovered => Some(0),
            _ => None,
        };
        if pace.is_some_and(|p| p > 0) {
            let hold = hints
                .refill
                .unwrap_or_default()
                .max(DEFAULT_PACE_HOLD)
                .min(self.max_pause.max(DEFAULT_PACE_HOLD));
            let until = self.since_origin_ns(Instant::now() + hold);
            self.pace_until_ns.fetch_max(until, Ordering::AcqRel);
        }
        if let Some(pace) = pace {
            let before = self.pace_ns.swap(pace, Ordering::AcqRel);
            if (before == 0) != (pace == 0) {
                tracing::debug!(
                    interval_ms = pace as f64 / 1e6,
                    "server budget {}",
                    if pace == 0 {
                        "recovered: pacing off"
                    } else {
                        "low: pacing requests at its rate"
                    }
                );
            }
        }
        if let (true, Some(refill)) = (hints.exhausted, hints.refill) {
            self.pause_for(refill);
        }
    }

    /// Holds new requests back for a wait the server asked for (`Retry-After`), unless
    /// adaptive pacing is off.
    pub(crate) fn server_pause(&self, wait: Duration) {
        if self.adaptive {
            self.pause_for(wait);
        }
    }

    /// Holds new requests back for `wait` (capped at the maximum pause).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait.min(self.max_pause);
        let ms = until.saturating_duration_since(self.origin).as_millis();
        self.not_before_ms
            .fetch_max(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::AcqRel);
    }

    fn since_origin_ns(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// The current pause, if requests are held back.
    #[cfg(test)]
    pub(crate) fn remaining_pause(&self) -> Duration {
        let not_before =
            self.origin + Duration::from_millis(self.not_before_ms.load(Ordering::Acquire));
        not_before.saturating_duration_since(Instant::now())
    }
}

fn quota(per_second: f64) -> Result<Quota> {
    if !(per_second.is_finite() && per_second > 0.0) {
        return Err(Error::Config(format!(
            "rate limit must be a positive number, got {per_second}"
        )));
    }
    // A burst of one second's worth (at least 1) keeps the long-run rate exact.
    // `try_`: a rate so low its period overflows a `Duration` must not panic.
    let period = Duration::try_from_secs_f64(1.0 / per_second)
        .map_err(|_| Error::Config(format!("rate limit {per_second}/s is too low")))?;
    let burst = NonZeroU32::new(per_second.floor().clamp(1.0, u32::MAX as f64) as u32)
        .unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .map(|q| q.allow_burst(burst))
        .ok_or_else(|| Error::Config(format!("rate limit {per_second}/s is too high")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pause_never_moves_backwards() {
        let t = Throttle::new(None, Duration::from_secs(60), true).unwrap();
        t.pause_for(Duration::from_secs(10));
        t.pause_for(Duration::from_secs(2));
        assert_eq!(t.remaining_pause(), Duration::from_secs(10));
        let start = Instant::now();
        t.ready().await;
        assert_eq!(start.elapsed().as_secs(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_is_capped() {
        let t = Throttle::new(None, Duration::from_secs(5), true).unwrap();
        t.pause_for(Duration::from_secs(3600));
        assert_eq!(t.remaining_pause(), Duration::from_secs(5));
    }

    fn hints(rate: Option<f64>, low: bool, recovered: bool) -> WaitHints {
        WaitHints {
            rate,
            low,
            recovered,
            ..WaitHints::default()
        }
    }

    /// Timers tick in whole milliseconds: compare with a little slack.
    fn about(elapsed: Duration, expected: Duration) {
        let slack = Duration::from_millis(3);
        assert!(
            elapsed + slack >= expected && elapsed <= expected + slack,
            "{elapsed:?} is not about {expected:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_low_budget_paces_requests_at_the_servers_rate_until_it_recovers() {
        let t = Throttle::new(None, Duration::from_secs(60), true).unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            t.ready().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "no pacing before a hint");
        t.observe(&hints(Some(10.0), true, false));
        let pace = Duration::from_nanos(pace_ns(10.0));
        assert!(pace > Duration::from_millis(100) && pace < Duration::from_millis(110));
        let start = Instant::now();
        for _ in 0..5 {
            t.ready().await;
        }
        // Five slots a pace apart, the first one free.
        about(start.elapsed(), pace * 4);
        t.observe(&hints(Some(10.0), false, false));
        t.ready().await;
        about(start.elapsed(), pace * 5);
        t.observe(&hints(Some(10.0), false, true));
        let start = Instant::now();
        t.ready().await;
        t.ready().await;
        assert_eq!(start.elapsed(), Duration::ZERO, "recovered: pacing off");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_take_one_slot_each() {
        let t = std::sync::Arc::new(Throttle::new(None, Duration::from_secs(60), true).unwrap());
        t.observe(&hints(Some(50.0), true, false));
        let start = Instant::now();
        let waits: Vec<_> = (0..10)
            .map(|_| {
                let t = t.clone();
                tokio::spawn(async move {
                    t.ready().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut elapsed = Vec::new();
        for w in waits {
            elapsed.push(w.await.unwrap());
        }
        elapsed.sort();
        let pace = Duration::from_nanos(pace_ns(50.0));
        for (i, e) in elapsed.into_iter().enumerate() {
            about(e, pace * i as u32);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_lapses_when_hints_stop_coming() {
        let t = Throttle::new(None, Duration::from_secs(60), true).unwrap();
        t.observe(&hints(Some(1.0), true, false));
        let start = Instant::now();
        t.ready().await;
        t.ready().await;
        about(start.elapsed(), Duration::from_nanos(pace_ns(1.0)));
        // No response renews the pacing: after the hold, requests run free again.
        tokio::time::sleep(DEFAULT_PACE_HOLD).await;
        let start = Instant::now();
        for _ in 0..5 {
            t.ready().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tiny_advertised_rate_never_paces_beyond_the_longest_pause() {
        let t = Throttle::new(None, Duration::from_secs(2), true).unwrap();
        t.observe(&hints(Some(0.001), true, false));
        let start = Instant::now();
        t.ready().await;
        t.ready().await;
        about(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn off_ignores_every_hint() {
        let t = Throttle::new(None, Duration::from_secs(60), false).unwrap();
        t.observe(&hints(Some(10.0), true, false));
        t.observe(&WaitHints {
            exhausted: true,
            refill: Some(Duration::from_secs(5)),
            ..WaitHints::default()
        });
        t.server_pause(Duration::from_secs(5));
        let start = Instant::now();
        for _ in 0..3 {
            t.ready().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn bad_rates_are_config_errors() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300] {
            assert!(matches!(
                Throttle::new(Some(bad), Duration::ZERO, true),
                Err(Error::Config(_))
            ));
        }
    }
}
