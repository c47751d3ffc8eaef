//! Lists the projects of a Jira site, then the first issues of a JQL query.
//!
//! ```text
//! JIRA_URL=https://example.atlassian.net JIRA_EMAIL=me@example.com JIRA_TOKEN=… \
//! JIRA_JQL='project = EX' cargo run -p ocean-examples --example jira_projects_and_issues
//! ```
//!
//! `JIRA_JQL` is optional (default: Ocean's, open or recently touched issues).

use futures::TryStreamExt;
use ocean_jira::{DEFAULT_JQL, JiraClient};

/// How many issues to print.
const FIRST_ISSUES: u64 = 20;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (JIRA_URL, JIRA_EMAIL, JIRA_TOKEN; JIRA_JQL optional)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jira = JiraClient::new(&env("JIRA_URL")?, &env("JIRA_EMAIL")?, env("JIRA_TOKEN")?)?;
    let jql = std::env::var("JIRA_JQL").unwrap_or_else(|_| DEFAULT_JQL.to_owned());

    println!("Projects:");
    let mut projects = jira.projects().stream();
    while let Some(project) = projects.try_next().await? {
        let issues = project.insight.as_ref().and_then(|i| i.total_issue_count);
        println!(
            "  {:<10} {} ({} issues)",
            project.key,
            project.name,
            issues.unwrap_or(0)
        );
    }

    println!("\nFirst {FIRST_ISSUES} issues of `{jql}`:");
    let mut issues = jira
        .issues(&jql)
        .body("fields", ["summary", "status"])
        .max_items(Some(FIRST_ISSUES))
        .stream();
    while let Some(issue) = issues.try_next().await? {
        let status = issue.fields.status.as_ref().and_then(|s| s.name.as_deref());
        println!(
            "  {:<12} [{}] {}",
            issue.key,
            status.unwrap_or("?"),
            issue.fields.summary.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
