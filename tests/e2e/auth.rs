//! Real deployments through the `ocean` binary: how credentials are asked for, Data Center
//! personal access tokens, OAuth 2.0 with rotating refresh tokens.

mod common;

use common::*;

#[test]
fn missing_jira_credentials_are_all_named_in_one_message() {
    let out = run(ocean().args(["sync", "jira"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for name in [
        "--url",
        "JIRA_URL",
        "--email",
        "JIRA_EMAIL",
        "--token",
        "JIRA_TOKEN",
        "--pat",
        "JIRA_PAT",
    ] {
        assert!(err.contains(name), "`{name}` not named in: {err}");
    }
    assert_eq!(err.matches("error:").count(), 1, "one message: {err}");
}

#[test]
fn only_the_missing_ones_are_named() {
    let out = run(ocean()
        .args(["sync", "jira", "--url", "http://127.0.0.1:9"])
        .env("JIRA_EMAIL", "me@example.com"));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("JIRA_TOKEN"), "{err}");
    assert!(!err.contains("JIRA_URL"), "{err}");
    assert!(!err.contains("JIRA_EMAIL"), "{err}");
}

#[test]
fn missing_octopus_credentials_are_all_named_in_one_message() {
    let out = run(ocean().args(["sync", "octopus"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for name in ["--url", "OCTOPUS_URL", "--api-key", "OCTOPUS_API_KEY"] {
        assert!(err.contains(name), "`{name}` not named in: {err}");
    }
}

#[tokio::test]
async fn a_personal_access_token_is_sent_as_bearer() {
    let sim = sim(30).await;
    let out = run(ocean()
        .args(["sync", "jira", "--kind", "project"])
        .env("JIRA_URL", sim.jira_url())
        .env("JIRA_PAT", ocean_sim::JIRA_TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    assert_eq!(
        items_of(&lines, "project").len(),
        sim.dataset().jira_len("project")
    );
}
