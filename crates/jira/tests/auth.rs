//! The three ways to authenticate, as the server sees them.

mod support;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use ocean_core::RetryPolicy;
use ocean_jira::{IssueStrategy, JiraClient, JiraKind, SyncOptions};
use serde_json::json;
use support::*;

#[tokio::test]
async fn basic_sends_base64_email_and_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/project/EX")
                .header("authorization", "Basic bWVAZXhhbXBsZS5jb206YXBpLXRva2Vu");
            then.status(200).json_body(project("EX", 10000));
        })
        .await;
    let jira = JiraClient::new(&server.base_url(), EMAIL, TOKEN).unwrap();
    let project = jira.project("EX").await.unwrap();
    assert_eq!(project.name, "Example");
    mock.assert_async().await;
}

#[tokio::test]
async fn a_data_center_pat_is_a_bearer_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board/7")
                .header("authorization", "Bearer dc-pat-123");
            then.status(200).json_body(board(7, "kanban"));
        })
        .await;
    let jira = JiraClient::builder(&server.base_url())
        .bearer("dc-pat-123")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(
        jira.board(7).await.unwrap().board_type.as_deref(),
        Some("kanban")
    );
    mock.assert_async().await;
}

#[tokio::test]
async fn oauth_goes_through_the_gateway_and_refreshes_once_after_a_401() {
    let server = MockServer::start_async().await;
    let stale = server
        .mock_async(|when, then| {
            when.header("authorization", "Bearer old-token");
            then.status(401)
                .json_body(json!({"code": 401, "message": "Unauthorized"}));
        })
        .await;
    let projects = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(oauth_path("/rest/api/3/project/search"))
                .header("authorization", "Bearer new-token");
            then.status(200)
                .json_body(offset_page(0, vec![project("EX", 10000)], 1));
        })
        .await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(oauth_path("/rest/api/3/search/jql"))
                .header("authorization", "Bearer new-token");
            then.status(200)
                .json_body(json!({"issues": [issue("EX-1", 1)], "isLast": true}));
        })
        .await;
    let tokens = Tokens::default();
    let jira = oauth_client(&server, tokens.clone());
    assert!(jira.is_oauth());

    let records = sync_all(&jira, JiraKind::Project, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    // Later requests, the search POST included, share the refreshed token.
    let cursor = SyncOptions {
        issue_strategy: IssueStrategy::Cursor,
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Issue, &cursor).await.unwrap();
    assert_eq!(records.len(), 1);
    stale.assert_calls_async(1).await;
    projects.assert_calls_async(1).await;
    search.assert_calls_async(1).await;
    assert_eq!(tokens.refreshes(), 1);
}

#[tokio::test]
async fn a_401_with_a_static_credential_fails_at_once_and_names_it() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(401).body("");
        })
        .await;
    let jira = basic_client(&server);
    let err = jira.user("abc").await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("me@example.com") && !text.contains(TOKEN),
        "{text}"
    );
    mock.assert_calls_async(1).await;
}
