//! Reading the server's "wait this long" headers.
//!
//! `Retry-After` is delta-seconds (fractions accepted) or an HTTP-date;
//! `X-RateLimit-Reset` is ISO-8601 (Jira sends `yyyy-MM-ddTHH:mmZ`), Unix epoch
//! seconds, or small delta-seconds. A provider's own headers (Octopus'
//! `Octopus-RateLimit`, say) are read by a [`HintReader`] its crate plugs into
//! [`ClientBuilder::rate_limit_headers`](crate::ClientBuilder::rate_limit_headers).

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::HeaderMap;

/// Values of `X-RateLimit-Reset` up to this many are delta-seconds; larger ones are epoch seconds.
const MAX_DELTA_SECONDS: u64 = 10_000;

/// Parses a `Retry-After` value: delta-seconds (fractions accepted) or an HTTP-date.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ocean_core::wait_hint::parse_retry_after;
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
/// assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1500)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(seconds) = parse_seconds(value) {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an `X-RateLimit-Reset` value into the wait until the reset.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ocean_core::wait_hint::parse_reset;
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
/// assert_eq!(parse_reset("2023-11-14T22:14Z", now), Some(Duration::from_secs(40)));
/// assert_eq!(parse_reset("2023-11-14T22:13:30.5+00:00", now), Some(Duration::from_millis(10_500)));
/// assert_eq!(parse_reset("1700000005", now), Some(Duration::from_secs(5)));
/// assert_eq!(parse_reset("7", now), Some(Duration::from_secs(7)));
/// ```
pub fn parse_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = value.parse().ok()?;
        if n <= MAX_DELTA_SECONDS {
            return Some(Duration::from_secs(n));
        }
        // Checked: an epoch past what `SystemTime` holds would panic on `+`.
        let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(n))?;
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    let at: SystemTime = parse_iso8601(value)?.into();
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn parse_seconds(value: &str) -> Option<Duration> {
    if !value.bytes().next()?.is_ascii_digit() {
        return None;
    }
    let seconds: f64 = value.parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

fn parse_iso8601(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(at.with_timezone(&Utc));
    }
    // `yyyy-MM-ddTHH:mmZ` and other offset forms RFC 3339 does not allow.
    for format in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(at) = DateTime::parse_from_str(value, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let naive = value.strip_suffix('Z')?;
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(naive, format).ok())
        .map(|at| at.and_utc())
}

/// Reads a provider's own rate-limit headers into hints, merged with the standard ones
/// (see [`WaitHints::merge`]).
pub type HintReader = fn(&HeaderMap, SystemTime) -> WaitHints;

/// What a response's headers say about waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WaitHints {
    /// `Retry-After`, or failing that `X-RateLimit-Reset`, as a wait from now.
    pub retry_after: Option<Duration>,
    /// True when the server says the budget is (nearly) spent:
    /// `X-RateLimit-Remaining <= 1` or `X-RateLimit-NearLimit: true` (or a provider's own).
    pub exhausted: bool,
    /// When `exhausted`, how long until the budget refills, if the server said.
    pub refill: Option<Duration>,
    /// The rate the server's budget refills at, in requests per second, when it says:
    /// `X-RateLimit-Limit` (burst limits per second), unless a provider's reader knows better.
    pub rate: Option<f64>,
    /// True when less than a fifth of the budget is left (`X-RateLimit-NearLimit`,
    /// `X-RateLimit-Remaining <= 1`, or a provider's own): time to pace requests at
    /// [`rate`](Self::rate).
    pub low: bool,
    /// True when at least half of the budget is left (`X-RateLimit-Remaining` ≥ half of
    /// `X-RateLimit-Limit`, or a provider's own): pacing may stop.
    pub recovered: bool,
}

impl WaitHints {
    /// Reads the standard hints from response headers: `Retry-After` and the
    /// `X-RateLimit-*` family, `X-RateLimit-Limit` counting requests per second.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        Self::from_headers_over(headers, now, Duration::from_secs(1))
    }

    /// [`from_headers`](Self::from_headers) for an `X-RateLimit-Limit` counted over
    /// `window` (an hour, say). The rate is the limit spread over the window; over a window
    /// longer than a second the budget left must last until `X-RateLimit-Reset`, so when
    /// that is known the rate is what is left spread over the time to the reset, and under
    /// a fifth left is [`low`](Self::low) (a per-second budget refills before pacing
    /// could help, so there only a spent one is).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
    /// use ocean_core::wait_hint::WaitHints;
    /// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
    /// headers.insert("x-ratelimit-remaining", HeaderValue::from_static("600"));
    /// headers.insert("x-ratelimit-reset", HeaderValue::from_static("1700000300"));
    /// let hints = WaitHints::from_headers_over(&headers, now, Duration::from_secs(3600));
    /// assert_eq!(hints.rate, Some(2.0)); // 600 requests left for 300 s
    /// assert!(hints.low && !hints.recovered && !hints.exhausted);
    /// ```
    pub fn from_headers_over(headers: &HeaderMap, now: SystemTime, window: Duration) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = text("retry-after").and_then(|v| parse_retry_after(v, now));
        let reset = text("x-ratelimit-reset").and_then(|v| parse_reset(v, now));
        let remaining = text("x-ratelimit-remaining").and_then(|v| v.trim().parse::<f64>().ok());
        let near_limit = text("x-ratelimit-nearlimit").is_some_and(|v| v.trim() == "true");
        let limit = text("x-ratelimit-limit")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|l| l.is_finite() && *l > 0.0);
        let exhausted = near_limit || remaining.is_some_and(|r| r <= 1.0);
        let half_left = matches!((remaining, limit), (Some(r), Some(l)) if r >= l * 0.5);
        let long_window = window > Duration::from_secs(1);
        let until_reset = match (remaining, reset) {
            (Some(r), Some(t)) if long_window => Some(r.max(1.0) / t.as_secs_f64().max(1.0)),
            _ => None,
        };
        let window_secs = window.as_secs_f64().max(f64::MIN_POSITIVE);
        let fifth_left =
            long_window && matches!((remaining, limit), (Some(r), Some(l)) if r < l * 0.2);
        Self {
            retry_after: retry_after.or(reset),
            exhausted,
            refill: if exhausted {
                reset.or(retry_after)
            } else {
                None
            },
            rate: until_reset.or(limit.map(|l| l / window_secs)),
            low: exhausted || fifth_left,
            recovered: !near_limit && half_left,
        }
    }

    /// These hints with a provider reader's: either side's exhaustion, lowness or recovery
    /// counts; the standard refill when the standard headers say the budget is spent, the
    /// provider's otherwise; the provider's rate first (it knows its own policy).
    pub fn merge(self, provider: WaitHints) -> Self {
        Self {
            retry_after: self.retry_after.or(provider.retry_after),
            exhausted: self.exhausted || provider.exhausted,
            refill: if self.exhausted {
                self.refill.or(provider.refill)
            } else {
                provider.refill
            },
            rate: provider.rate.or(self.rate),
            low: self.low || provider.low,
            recovered: self.recovered || provider.recovered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn retry_after_rejects_garbage_and_negative() {
        for bad in ["", "-1", "NaN", "inf", "1e400", "soon", "Wed, 99 Oct 2015"] {
            assert_eq!(parse_retry_after(bad, at(0)), None, "{bad}");
        }
        assert_eq!(parse_retry_after(" 0 ", at(0)), Some(Duration::ZERO));
    }

    #[test]
    fn values_too_large_for_a_clock_or_a_duration_are_ignored() {
        // Found by fuzzing: both used to panic.
        assert_eq!(parse_reset("18446744073709551615", at(0)), None);
    }

    #[test]
    fn past_dates_mean_no_wait() {
        let now = at(2_000_000_000);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_reset("2015-10-21T07:28Z", now), Some(Duration::ZERO));
    }

    #[test]
    fn hints_from_x_ratelimit_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("1"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("1970-01-01T00:01Z"),
        );
        let hints = WaitHints::from_headers(&h, at(30));
        assert!(hints.exhausted);
        assert_eq!(hints.refill, Some(Duration::from_secs(30)));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_providers_hints_merge_with_the_standard_ones() {
        let provider = WaitHints {
            exhausted: true,
            refill: Some(Duration::from_millis(100)),
            rate: Some(10.0),
            low: true,
            ..WaitHints::default()
        };
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
        let merged = WaitHints::from_headers(&h, at(0)).merge(provider);
        assert_eq!(
            merged,
            WaitHints {
                recovered: false,
                ..provider
            }
        );
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("5"));
        let merged = WaitHints::from_headers(&h, at(0)).merge(provider);
        assert_eq!(
            merged.refill,
            Some(Duration::from_secs(5)),
            "the standard refill first"
        );
    }

    #[test]
    fn pacing_hints_from_x_ratelimit_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("15"));
        h.insert("x-ratelimit-nearlimit", HeaderValue::from_static("true"));
        let hints = WaitHints::from_headers(&h, at(0));
        assert_eq!(hints.rate, Some(100.0));
        assert!(hints.low && hints.exhausted && !hints.recovered);
        h.remove("x-ratelimit-nearlimit");
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("60"));
        let hints = WaitHints::from_headers(&h, at(0));
        assert!(!hints.low && hints.recovered);
    }

    #[test]
    fn a_longer_window_spreads_what_is_left_until_the_reset() {
        let hour = Duration::from_secs(3600);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("3600"));
        // Without a reset, the limit spread over its window.
        assert_eq!(
            WaitHints::from_headers_over(&h, at(0), hour).rate,
            Some(1.0)
        );
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("2000"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("100"));
        let hints = WaitHints::from_headers_over(&h, at(0), hour);
        assert_eq!(hints.rate, Some(20.0));
        assert!(!hints.low && hints.recovered);
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("700"));
        let hints = WaitHints::from_headers_over(&h, at(0), hour);
        assert!(hints.low && !hints.exhausted && !hints.recovered);
        // The same headers per second: the limit is the rate, and only a spent budget is low.
        let hints = WaitHints::from_headers(&h, at(0));
        assert_eq!(hints.rate, Some(3600.0));
        assert!(!hints.low);
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let hints = WaitHints::from_headers_over(&h, at(0), hour);
        assert!(hints.exhausted && hints.low);
        assert_eq!(
            (hints.refill, hints.rate),
            (Some(Duration::from_secs(100)), Some(0.01))
        );
    }

    #[test]
    fn no_headers_no_hints() {
        assert_eq!(
            WaitHints::from_headers(&HeaderMap::new(), at(0)),
            WaitHints::default()
        );
    }
}
