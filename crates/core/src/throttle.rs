//! Client-side pacing: an optional fixed rate, plus adaptive pauses the server asks for.
//!
//! The adaptive pause is a shared "not before" instant that only ever moves
//! forward. Requests sleep until it on their own; nobody holds a lock while
//! sleeping (Port Ocean's Jira limiter sleeps under a global lock and stalls
//! every request).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::{Error, Result};

pub(crate) struct Throttle {
    fixed: Option<DefaultDirectRateLimiter>,
    origin: Instant,
    /// Milliseconds after `origin` before which no request starts.
    not_before_ms: AtomicU64,
    max_pause: Duration,
}

impl Throttle {
    /// `per_second`: the fixed rate, if any. `max_pause`: the longest adaptive pause accepted.
    pub(crate) fn new(per_second: Option<f64>, max_pause: Duration) -> Result<Self> {
        let fixed = per_second.map(quota).transpose()?.map(RateLimiter::direct);
        Ok(Self {
            fixed,
            origin: Instant::now(),
            not_before_ms: AtomicU64::new(0),
            max_pause,
        })
    }

    /// Waits until a request may start.
    pub(crate) async fn ready(&self) {
        let not_before =
            self.origin + Duration::from_millis(self.not_before_ms.load(Ordering::Acquire));
        if not_before > Instant::now() {
            tokio::time::sleep_until(not_before).await;
        }
        if let Some(limiter) = &self.fixed {
            limiter.until_ready().await;
        }
    }

    /// Holds new requests back for `wait` (capped at the maximum pause).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait.min(self.max_pause);
        let ms = until.saturating_duration_since(self.origin).as_millis();
        self.not_before_ms
            .fetch_max(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::AcqRel);
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
    let period = Duration::from_secs_f64(1.0 / per_second);
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
        let t = Throttle::new(None, Duration::from_secs(60)).unwrap();
        t.pause_for(Duration::from_secs(10));
        t.pause_for(Duration::from_secs(2));
        assert_eq!(t.remaining_pause(), Duration::from_secs(10));
        let start = Instant::now();
        t.ready().await;
        assert_eq!(start.elapsed().as_secs(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_is_capped() {
        let t = Throttle::new(None, Duration::from_secs(5)).unwrap();
        t.pause_for(Duration::from_secs(3600));
        assert_eq!(t.remaining_pause(), Duration::from_secs(5));
    }

    #[test]
    fn bad_rates_are_config_errors() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Throttle::new(Some(bad), Duration::ZERO),
                Err(Error::Config(_))
            ));
        }
    }
}
