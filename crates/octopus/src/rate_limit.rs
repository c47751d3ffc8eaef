//! Octopus 2026.3+ rate-limit headers, read for ocean-core's pacing:
//! `Octopus-RateLimit: r=<left>;t=<secs>` and `Octopus-RateLimit-Policy: l=<burst>;rpm=<rate>`.

use std::time::{Duration, SystemTime};

use ocean_core::reqwest::header::HeaderMap;
use ocean_core::wait_hint::WaitHints;

/// The hints of Octopus' rate-limit headers (plugged into the core client by
/// [`OctopusClient::builder`](crate::OctopusClient::builder)).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// let mut headers = HeaderMap::new();
/// headers.insert("octopus-ratelimit", HeaderValue::from_static("r=0;t=18"));
/// headers.insert("octopus-ratelimit-policy", HeaderValue::from_static("l=200;rpm=600"));
/// let hints = ocean_octopus::rate_limit_hints(&headers, SystemTime::now());
/// assert!(hints.exhausted && hints.low);
/// assert_eq!(hints.refill, Some(Duration::from_millis(100)));
/// ```
pub fn rate_limit_hints(headers: &HeaderMap, _now: SystemTime) -> WaitHints {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let state = text("octopus-ratelimit").map(parse_state);
    let policy = |name: &str| {
        text("octopus-ratelimit-policy")
            .and_then(|v| parse_params(v).find(|(k, _)| *k == name).map(|(_, v)| v))
    };
    let (rpm, burst) = (policy("rpm"), policy("l"));
    let remaining = state.and_then(|(r, _)| r);
    let exhausted = remaining.is_some_and(|r| r <= 1.0);
    // `try_`: a finite but huge `t` (or a tiny `rpm`) is too long for a `Duration`.
    let refill = state.and_then(|(_, t)| t).and_then(|t| match rpm {
        // One token comes back every 60/rpm seconds; no need to wait for a full refill.
        Some(rpm) if rpm > 0.0 => Duration::try_from_secs_f64((60.0 / rpm).min(t)).ok(),
        _ => Duration::try_from_secs_f64(t).ok(),
    });
    let share = |at_least: f64| matches!((remaining, burst), (Some(r), Some(l)) if l > 0.0 && r >= l * at_least);
    WaitHints {
        retry_after: None,
        exhausted,
        refill,
        rate: rpm.filter(|rpm| *rpm > 0.0).map(|rpm| rpm / 60.0),
        low: exhausted || matches!((remaining, burst), (Some(r), Some(l)) if r < 0.2 * l),
        recovered: share(0.5),
    }
}

/// `r=<left>;t=<secs>` from `Octopus-RateLimit`.
fn parse_state(value: &str) -> (Option<f64>, Option<f64>) {
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
    use ocean_core::reqwest::header::HeaderValue;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn hints_from_octopus_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "octopus-ratelimit-policy",
            HeaderValue::from_static("l=200;rpm=600"),
        );
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=0;t=18"));
        let hints = rate_limit_hints(&h, at(0));
        assert!(hints.exhausted);
        assert_eq!(hints.refill, Some(Duration::from_millis(100)));
        assert_eq!(hints.rate, Some(10.0));
        assert!(hints.low && !hints.recovered);
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=7;t=18"));
        let hints = rate_limit_hints(&h, at(0));
        assert!(!hints.exhausted && hints.low, "7 of 200 left is low");
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=120;t=8"));
        let hints = rate_limit_hints(&h, at(0));
        assert!(!hints.low && hints.recovered);
    }

    #[test]
    fn values_too_large_for_a_duration_are_ignored() {
        // Found by fuzzing: used to panic.
        let mut h = HeaderMap::new();
        h.insert("octopus-ratelimit", HeaderValue::from_static("r=0;t=1e300"));
        let hints = rate_limit_hints(&h, at(0));
        assert!(hints.exhausted && hints.refill.is_none());
        assert_eq!(
            rate_limit_hints(&HeaderMap::new(), at(0)),
            WaitHints::default()
        );
    }
}
