//! # A GitHub provider for ocean-rs
//!
//! Written with `#[derive(Resource)]` and ocean-core's public API only, as a third
//! integration would be: the repositories of an organisation, their issues (changed
//! ones alone with `since=`), pull requests and workflow runs, paged by `Link` headers.
//! GitHub's error body, rate-limit headers and webhook signature plug into core here.
//!
//! ```no_run
//! # async fn run() -> ocean_core::Result<()> {
//! use futures::TryStreamExt;
//! use ocean_core::Provider;
//! let client = ocean_github_example::client("https://api.github.com", "ghp_…").build()?;
//! let github = ocean_github_example::GitHubProvider::new(client, "octo-org");
//! let mut issues = github.full("issue", None);
//! while let Some(record) = issues.try_next().await? {
//!     println!("{}", record.item.get());
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod models;
mod provider;

use std::time::SystemTime;

use ocean_core::reqwest::header::HeaderMap;
use ocean_core::wait_hint::{WaitHints, parse_reset};
use ocean_core::webhook::{VerifyError, verify_sha256_signature};
use ocean_core::{Auth, Client, ClientBuilder, Secret};

pub use models::{Issue, PullRequest, Repository, WorkflowRun};
pub use provider::GitHubProvider;

/// The header a delivery's HMAC-SHA256 signature comes in.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// A core client builder for the GitHub API at `base_url` (`https://api.github.com`, or
/// `https://HOST/api/v3` for GitHub Enterprise Server), sending `token` as a bearer token,
/// with GitHub's error body and rate-limit headers plugged in. Tune it, then `build()`.
pub fn client(base_url: &str, token: impl Into<Secret>) -> ClientBuilder {
    Client::builder(base_url)
        .auth(Auth::bearer(token))
        .error_messages(error_messages)
        .rate_limit_headers(rate_limit_hints)
}

/// The messages of a GitHub error body, `{"message", "errors", "documentation_url"}`:
/// the message, then each error (its `message`, else `resource.field: code`), then
/// where the documentation is.
///
/// ```
/// let body = br#"{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"}],"documentation_url":"https://docs.github.com/rest"}"#;
/// assert_eq!(ocean_github_example::error_messages(body), [
///     "Validation Failed", "Issue.title: missing_field", "see https://docs.github.com/rest",
/// ]);
/// ```
pub fn error_messages(body: &[u8]) -> Vec<String> {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value, key: &str| v.get(key)?.as_str().map(str::to_owned);
    let errors = body
        .get("errors")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten();
    let errors = errors.filter_map(|e| {
        let described = || {
            Some(format!(
                "{}.{}: {}",
                text(e, "resource")?,
                text(e, "field")?,
                text(e, "code")?
            ))
        };
        e.as_str()
            .map(str::to_owned)
            .or_else(|| text(e, "message"))
            .or_else(described)
    });
    let docs = text(&body, "documentation_url").map(|url| format!("see {url}"));
    text(&body, "message")
        .into_iter()
        .chain(errors)
        .chain(docs)
        .collect()
}

/// What GitHub's `X-RateLimit-*` headers mean for pacing. Core's standard reader already
/// pauses on a spent budget until `X-RateLimit-Reset` (epoch seconds) and honours
/// `Retry-After`; but it takes `X-RateLimit-Limit` as requests per second, while GitHub's
/// is per hour (per minute for search). The rate to pace at is what is left, spread over
/// the time to the reset; the budget is low under a fifth, recovered from a half.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let mut headers = HeaderMap::new();
/// headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
/// headers.insert("x-ratelimit-remaining", HeaderValue::from_static("600"));
/// headers.insert("x-ratelimit-reset", HeaderValue::from_static("1700000300"));
/// let hints = ocean_github_example::rate_limit_hints(&headers, now);
/// assert_eq!(hints.rate, Some(2.0)); // 600 requests left for 300 s
/// assert!(hints.low && !hints.recovered);
/// ```
pub fn rate_limit_hints(headers: &HeaderMap, now: SystemTime) -> WaitHints {
    let text = |name: &str| headers.get(name)?.to_str().ok();
    let number = |name: &str| {
        text(name)?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
    };
    let reset = text("x-ratelimit-reset").and_then(|v| parse_reset(v, now));
    let (Some(limit), Some(left), Some(reset)) = (
        number("x-ratelimit-limit"),
        number("x-ratelimit-remaining"),
        reset,
    ) else {
        return WaitHints::default();
    };
    WaitHints {
        rate: Some(left.max(1.0) / reset.as_secs_f64().max(1.0)),
        low: left < limit * 0.2,
        recovered: left >= limit * 0.5,
        ..WaitHints::default()
    }
}

/// Checks a webhook delivery's `X-Hub-Signature-256` against `body` under the webhook's
/// `secret`, in constant time.
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::hmac_sha256_hex;
/// let body = br#"{"action":"opened"}"#;
/// let mut headers = HeaderMap::new();
/// let signature = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// headers.insert("x-hub-signature-256", HeaderValue::from_str(&signature).unwrap());
/// assert!(ocean_github_example::verify_signature(b"s3cret", &headers, body).is_ok());
/// assert!(ocean_github_example::verify_signature(b"other", &headers, body).is_err());
/// ```
pub fn verify_signature(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), VerifyError> {
    let header = SIGNATURE_HEADER.to_owned();
    match headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()) {
        None => Err(VerifyError::Missing { header }),
        Some(signature) if verify_sha256_signature(secret, body, signature) => Ok(()),
        Some(_) => Err(VerifyError::Mismatch { header }),
    }
}
