//! The library side of the typed comparison: the typed streams a user of ocean-rs writes.

use futures::TryStreamExt;
use ocean_jira::{DEFAULT_JQL, JiraClient};
use ocean_octopus::OctopusClient;
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY};

use crate::Failure;

/// Every Jira issue of the default JQL through `JiraClient::issues(..).stream()`.
pub async fn jira_typed(url: &str, max_concurrency: usize) -> Result<u64, Failure> {
    let jira = JiraClient::builder(url)
        .basic(JIRA_EMAIL, JIRA_TOKEN)
        .max_concurrency(max_concurrency)
        .build()?;
    let mut issues = jira.issues(DEFAULT_JQL).stream();
    let mut items = 0u64;
    while let Some(issue) = issues.try_next().await? {
        std::hint::black_box(&issue);
        items += 1;
    }
    Ok(items)
}

/// Every Octopus deployment of every space through `OctopusClient::deployments_all()`,
/// uncapped.
pub async fn octopus_typed(url: &str, max_concurrency: usize) -> Result<u64, Failure> {
    let octopus = OctopusClient::builder(url)
        .api_key(OCTOPUS_API_KEY)
        .max_concurrency(max_concurrency)
        .max_items_per_space(None)
        .build()?;
    let mut deployments = octopus.deployments_all();
    let mut items = 0u64;
    while let Some(pair) = deployments.try_next().await? {
        std::hint::black_box(&pair);
        items += 1;
    }
    Ok(items)
}
