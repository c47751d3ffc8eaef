//! Provider clients from command-line credentials and tuning flags.

use std::time::Duration;

use clap::CommandFactory;
use clap::error::ErrorKind;
use ocean_core::RetryPolicy;
use ocean_jira::JiraClient;
use ocean_octopus::OctopusClient;

use crate::args::{Cli, JiraCredentials, OctopusCredentials, Tuning};

/// The header Octopus subscriptions carry the shared secret in.
pub const OCTOPUS_SECRET_HEADER: &str = "X-Ocean-Webhook-Secret";

/// Exits with a usage error (status 2) naming what is missing.
fn require(value: Option<String>, flag: &str, env: &str) -> String {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => v,
        None => Cli::command()
            .error(
                ErrorKind::MissingRequiredArgument,
                format!("missing {flag}: pass {flag} or set {env}"),
            )
            .exit(),
    }
}

fn timeout(tuning: &Tuning, default: Duration) -> Option<Duration> {
    Some(
        tuning
            .timeout
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(default),
    )
}

/// A Jira client: Basic auth with e-mail and API token.
pub fn jira(credentials: JiraCredentials, tuning: &Tuning) -> ocean_core::Result<JiraClient> {
    let url = require(credentials.url, "--url", "JIRA_URL");
    let email = require(credentials.email, "--email", "JIRA_EMAIL");
    let token = require(credentials.token, "--token", "JIRA_TOKEN");
    let mut retry = ocean_jira::retry_policy();
    if let Some(n) = tuning.max_retries {
        retry = retry.max_retries(n);
    }
    JiraClient::builder(&url)
        .basic(&email, token)
        .max_concurrency(tuning.max_concurrency)
        .rate_limit(tuning.rate_limit)
        .timeout(timeout(tuning, Duration::from_secs(30)))
        .retry(retry)
        .build()
}

/// An Octopus client: API key header.
pub fn octopus(
    credentials: OctopusCredentials,
    tuning: &Tuning,
    max_items: Option<u64>,
) -> ocean_core::Result<OctopusClient> {
    let url = require(credentials.url, "--url", "OCTOPUS_URL");
    let key = require(credentials.api_key, "--api-key", "OCTOPUS_API_KEY");
    let mut retry = RetryPolicy::default();
    if let Some(n) = tuning.max_retries {
        retry = retry.max_retries(n);
    }
    OctopusClient::builder(&url)
        .api_key(key)
        .max_concurrency(tuning.max_concurrency)
        .rate_limit(tuning.rate_limit)
        .timeout(timeout(tuning, Duration::from_secs(60)))
        .retry(retry)
        .max_items_per_space(max_items)
        .build()
}
