//! Reading the server's "wait this long" headers.
//!
//! `Retry-After` is delta-seconds (fractions accepted) or an HTTP-date;
//! `X-RateLimit-Reset` is ISO-8601 (Jira sends `yyyy-MM-ddTHH:mmZ`), Unix epoch
//! seconds, or small delta-seconds; Octopus 2026.3+ sends
//! `Octopus-RateLimit: r=<left>;t=<secs>` and `Octopus-RateLimit-Policy: l=<burst>;rpm=<rate>`.

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
    // Jira's `yyyy-MM-ddTHH:mmZ` and other offset forms RFC 3339 does not allow.
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

/// What a response's headers say about waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WaitHints {
    /// `Retry-After`, or failing that `X-RateLimit-Reset`, as a wait from now.
    pub retry_after: Option<Duration>,
    /// True when the server says the budget is (nearly) spent:
    /// `X-RateLimit-Remaining <= 1`, `X-RateLimit-NearLimit: true`, or `Octopus-RateLimit: r<=1`.
    pub exhausted: bool,
    /// When `exhausted`, how long until the budget refills, if the server said.
    pub refill: Option<Duration>,
    /// The rate the server's budget refills at, in requests per second, when it says:
    /// Octopus' `Octopus-RateLimit-Policy: rpm=…` / 60, or Jira's `X-RateLimit-Limit`
    /// (its burst limits are per second).
    pub rate: Option<f64>,
    /// True when less than a fifth of the budget is left (`X-RateLimit-NearLimit`,
    /// `X-RateLimit-Remaining <= 1`, or `Octopus-RateLimit: r` below a fifth of the
    /// policy's burst `l`): time to pace requests at [`rate`](Self::rate).
    pub low: bool,
    /// True when at least half of the budget is left (`X-RateLimit-Remaining` ≥ half of
    /// `X-RateLimit-Limit`, or `r` ≥ half of `l`): pacing may stop.
    pub recovered: bool,
}

impl WaitHints {
    /// Reads the hints from response headers.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = text("retry-after").and_then(|v| parse_retry_after(v, now));
        let reset = text("x-ratelimit-reset").and_then(|v| parse_reset(v, now));
        let remaining = text("x-ratelimit-remaining").and_then(|v| v.trim().parse::<f64>().ok());
        let near_limit = text("x-ratelimit-nearlimit").is_some_and(|v| v.trim() == "true");
        let octopus = text("octopus-ratelimit").map(parse_octopus_state);
        let policy = |name: &str| {
            text("octopus-ratelimit-policy")
                .and_then(|v| parse_params(v).find(|(k, _)| *k == name).map(|(_, v)| v))
        };
        let (octopus_rpm, octopus_burst) = (policy("rpm"), policy("l"));
        let jira_limit = text("x-ratelimit-limit")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|l| l.is_finite() && *l > 0.0);

        let jira_exhausted = near_limit || remaining.is_some_and(|r| r <= 1.0);
        let octopus_exhausted = octopus.is_some_and(|(r, _)| r.is_some_and(|r| r <= 1.0));
        // `try_`: a finite but huge `t` (or a tiny `rpm`) is too long for a `Duration`.
        let octopus_refill = octopus
            .and_then(|(_, t)| t)
            .and_then(|t| match octopus_rpm {
                // One token comes back every 60/rpm seconds; no need to wait for a full refill.
                Some(rpm) if rpm > 0.0 => Duration::try_from_secs_f64((60.0 / rpm).min(t)).ok(),
                _ => Duration::try_from_secs_f64(t).ok(),
            });
        let octopus_remaining = octopus.and_then(|(r, _)| r);
        let share = |remaining: Option<f64>, budget: Option<f64>, at_least: f64| matches!((remaining, budget), (Some(r), Some(b)) if b > 0.0 && r >= b * at_least);
        let octopus_low = octopus_exhausted
            || matches!((octopus_remaining, octopus_burst), (Some(r), Some(l)) if r < 0.2 * l);
        Self {
            retry_after: retry_after.or(reset),
            exhausted: jira_exhausted || octopus_exhausted,
            refill: if jira_exhausted {
                reset.or(retry_after)
            } else {
                octopus_refill
            },
            rate: octopus_rpm
                .filter(|rpm| *rpm > 0.0)
                .map(|rpm| rpm / 60.0)
                .or(jira_limit),
            low: jira_exhausted || octopus_low,
            recovered: share(octopus_remaining, octopus_burst, 0.5)
                || (!near_limit && share(remaining, jira_limit, 0.5)),
        }
    }
}

/// `r=<left>;t=<secs>` from `Octopus-RateLimit`.
fn parse_octopus_state(value: &str) -> (Option<f64>, Option<f64>) {
    let mut state = (None, None);
    for (key, number) in parse_params(value) {
        match key {
            "r" => state.0 = Some(number),
            "t" => state.1 = Some(number),
            _ => {}
        }
    }
    state
}

fn parse_params(value: &str) -> impl Iterator<Item = (&str, f64)> {
    value.split(';').filter_map(|pair| {
        let (key, number) = pair.split_once('=')?;
        let number: f64 = number.trim().parse().ok()?;
        (number.is_finite() && number >= 0.0).then_some((key.trim(), number))
    })
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
        let mut h = HeaderMap::new();
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=0;t=1e300"));
        let hints = WaitHints::from_headers(&h, at(0));
        assert!(hints.exhausted && hints.refill.is_none());
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
    fn hints_from_jira_headers() {
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
    fn hints_from_octopus_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "octopus-ratelimit-policy",
            HeaderValue::from_static("l=200;rpm=600"),
        );
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=0;t=18"));
        let hints = WaitHints::from_headers(&h, at(0));
        assert!(hints.exhausted);
        assert_eq!(hints.refill, Some(Duration::from_millis(100)));
        assert_eq!(hints.rate, Some(10.0));
        assert!(hints.low && !hints.recovered);
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=7;t=18"));
        let hints = WaitHints::from_headers(&h, at(0));
        assert!(!hints.exhausted && hints.low, "7 of 200 left is low");
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=120;t=8"));
        let hints = WaitHints::from_headers(&h, at(0));
        assert!(!hints.low && hints.recovered);
    }

    #[test]
    fn pacing_hints_from_jira_headers() {
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
    fn no_headers_no_hints() {
        assert_eq!(
            WaitHints::from_headers(&HeaderMap::new(), at(0)),
            WaitHints::default()
        );
    }
}
