//! # A GitHub provider for ocean-rs
//!
//! Written with `#[derive(Resource)]` and ocean-core's public API only, as a third
//! integration would be: the repositories of an organisation, their issues (changed
//! ones alone with `since=`), pull requests and workflow runs, paged by `Link` headers,
//! and the webhooks that say which of them changed. GitHub's error body, hourly
//! rate-limit window, media type and webhook events plug into core here.
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
mod webhooks;

use std::time::Duration;

use ocean_core::{Auth, Client, ClientBuilder, Secret};
use serde_json::Value;

pub use models::{Issue, PullRequest, Repository, WorkflowRun};
pub use provider::GitHubProvider;
pub use webhooks::{EVENT_HEADER, GitHubWebhooks, SIGNATURE_HEADER};

/// A core client builder for the GitHub API at `base_url` (`https://api.github.com`, or
/// `https://HOST/api/v3` for GitHub Enterprise Server), sending `token` as a bearer token
/// and GitHub's media type and API version with every request, with GitHub's error body
/// read and its `X-RateLimit-Limit` counted per hour. Tune it, then `build()`.
pub fn client(base_url: &str, token: impl Into<Secret>) -> ClientBuilder {
    Client::builder(base_url)
        .auth(Auth::bearer(token))
        .default_header("accept", "application/vnd.github+json")
        .default_header("x-github-api-version", "2022-11-28")
        .error_messages(error_messages)
        .rate_limit_window(Duration::from_secs(3600))
}

/// The messages of a GitHub error body, `{"message", "errors", "documentation_url"}`:
/// core's reading of `message` and `errors[]`, then each error without a message as
/// `resource.field: code`, then where the documentation is.
///
/// ```
/// let body = br#"{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"}],"documentation_url":"https://docs.github.com/rest"}"#;
/// assert_eq!(ocean_github_example::error_messages(body), [
///     "Validation Failed", "Issue.title: missing_field", "see https://docs.github.com/rest",
/// ]);
/// ```
pub fn error_messages(body: &[u8]) -> Vec<String> {
    let mut messages = ocean_core::generic_error_messages(body);
    let body: Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |v: &Value, key: &str| v[key].as_str().map(str::to_owned);
    let errors = body["errors"].as_array().into_iter().flatten();
    for error in errors.filter(|e| e["message"].is_null()) {
        let described = ["resource", "field", "code"].map(|key| text(error, key));
        if let [Some(resource), Some(field), Some(code)] = described {
            messages.push(format!("{resource}.{field}: {code}"));
        }
    }
    messages.extend(text(&body, "documentation_url").map(|url| format!("see {url}")));
    messages
}
