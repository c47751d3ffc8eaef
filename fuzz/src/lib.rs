//! The bodies of the fuzz targets, shared by `fuzz_targets/*` (libFuzzer) and by the
//! bounded smoke run in `tests/reliability/fuzz_smoke.rs`, which includes this file.
//! Each takes arbitrary bytes and panics only when a parser breaks a promise.

use std::time::{Duration, SystemTime};

use ocean_core::reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ocean_core::wait_hint::{WaitHints, parse_reset, parse_retry_after};
use ocean_jira::events::JiraEvent;
use ocean_octopus::events::OctopusEvent;

/// A list page in every shape, raw, as JSON values and typed.
pub fn page_decode(data: &[u8]) {
    ocean_core::__fuzz::decode_page(data);
}

/// A sequence of pages, as any server might send them, through the pagination guards.
pub fn pagination_guards(data: &[u8]) {
    ocean_core::__fuzz::pagination_guards(data);
}

/// The instants the hints are read at: the epoch, now, and the far future.
fn instants() -> [SystemTime; 3] {
    [
        SystemTime::UNIX_EPOCH,
        SystemTime::now(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 40),
    ]
}

const HEADERS: [&str; 7] = [
    "retry-after",
    "x-ratelimit-reset",
    "x-ratelimit-remaining",
    "x-ratelimit-limit",
    "x-ratelimit-nearlimit",
    "octopus-ratelimit",
    "octopus-ratelimit-policy",
];

/// `Retry-After` / `X-RateLimit-Reset` values, and whole sets of rate-limit headers
/// (one value per line of the input, in the order of `HEADERS`).
pub fn wait_hint(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for now in instants() {
        let wait = parse_retry_after(&text, now);
        // Whole delta-seconds mean exactly that many seconds, whatever the clock says.
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed.len() < 15 && trimmed.bytes().all(|b| b.is_ascii_digit())
        {
            let n: u64 = trimmed.parse().unwrap();
            assert_eq!(wait, Some(Duration::from_secs(n)), "Retry-After: {trimmed}");
        }
        let _ = parse_reset(&text, now);
    }
    let mut headers = HeaderMap::new();
    for (name, value) in HEADERS.iter().zip(data.split(|b| *b == b'\n')) {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    for now in instants() {
        let hints = WaitHints::from_headers(&headers, now);
        let octopus = ocean_octopus::rate_limit_hints(&headers, now);
        let _ = format!("{:?}", hints.merge(octopus));
    }
}

/// A Jira webhook body, and everything a receiver asks of the event.
pub fn jira_event(data: &[u8]) {
    match JiraEvent::parse(data) {
        Ok(event) => {
            let _ = (
                event.webhook_event(),
                event.kind(),
                event.action(),
                event.id(),
            );
            let _ = event.issue_id();
            let _ = event.changes();
        }
        Err(e) => {
            let _ = (e.to_string(), e.path());
        }
    }
}

/// An Octopus subscription delivery, and the changes it asks for.
pub fn octopus_event(data: &[u8]) {
    match OctopusEvent::parse(data) {
        Ok(event) => {
            let _ = event.info();
            let _ = event.changes();
        }
        Err(e) => {
            let _ = (e.to_string(), e.path());
        }
    }
}
