//! What Jira's API expects of a client besides its resources: Atlassian's retry policy and
//! Jira's error body, plugged into ocean-core's client by [`JiraClient::builder`](crate::JiraClient::builder).

use std::time::Duration;

use ocean_core::{Jitter, RetryPolicy};
use serde_json::Value;

/// Atlassian's documented policy: honour `Retry-After`, else start near 5 s, double,
/// jitter ×0.7–1.3, cap 30 s, at most 4 retries.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(4)
        .base_delay(Duration::from_secs(5))
        .max_delay(Duration::from_secs(30))
        .jitter(Jitter::Range {
            low: 0.7,
            high: 1.3,
        })
}

/// The messages of a Jira `ErrorCollection` (`errorMessages`, `errors` field → message),
/// after a gateway's top-level `message`, if any.
///
/// ```
/// let body = br#"{"errorMessages":["No project"],"errors":{"jql":"bad clause"}}"#;
/// assert_eq!(ocean_jira::error_messages(body), ["No project", "jql: bad clause"]);
/// ```
pub fn error_messages(body: &[u8]) -> Vec<String> {
    let Ok(Value::Object(map)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    let mut messages: Vec<String> = map
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let Some(Value::Array(list)) = map.get("errorMessages") {
        messages.extend(list.iter().filter_map(|m| m.as_str().map(str::to_owned)));
    }
    if let Some(Value::Object(fields)) = map.get("errors") {
        messages.extend(
            fields
                .iter()
                .filter_map(|(k, v)| Some(format!("{k}: {}", v.as_str()?))),
        );
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn jira_jitter_is_point_seven_to_one_point_three() {
        let p = retry_policy();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let w = p.backoff(0, &mut rng);
            assert!(
                w >= Duration::from_millis(3500) && w <= Duration::from_millis(6500),
                "{w:?}"
            );
        }
        assert!((0..50).all(|_| p.backoff(5, &mut rng) <= Duration::from_secs(30)));
    }

    #[test]
    fn other_bodies_give_no_messages() {
        assert!(error_messages(b"<html>").is_empty());
        assert!(error_messages(br#"{"errorMessages":"not a list"}"#).is_empty());
    }
}
