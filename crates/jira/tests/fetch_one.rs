//! Fetching one item again for a webhook: the server's bytes, or `None` when gone.

mod support;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use ocean_jira::{JiraKind, SyncOptions};
use serde_json::{Value, json};
use support::*;

fn parse(item: &ocean_core::RawItem) -> Value {
    serde_json::from_str(item.get()).unwrap()
}

#[tokio::test]
async fn an_issue_by_numeric_id_is_searched_with_reconcile() {
    let server = MockServer::start_async().await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| {
                    let body = body_json(req);
                    body["jql"] == r#"key = "10002""#
                        && body["reconcileIssues"] == json!([10002])
                        && body["maxResults"] == 1
                        && body["fields"] == json!(["*all"])
                });
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture_text("jira-search-jql-page.json"));
        })
        .await;
    let jira = basic_client(&server);
    let item = jira
        .fetch_one(JiraKind::Issue, "10002")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parse(&item)["key"], "ED-1");
    search.assert_async().await;
}

#[tokio::test]
async fn an_issue_by_key_has_no_reconcile_and_may_be_gone() {
    let server = MockServer::start_async().await;
    let empty = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| {
                    let body = body_json(req);
                    body["jql"] == r#"key = "ED-1""# && body.get("reconcileIssues").is_none()
                });
            then.status(200)
                .json_body(json!({"issues": [], "isLast": true}));
        })
        .await;
    let missing = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| body_json(req)["jql"] == r#"key = "GONE-1""#);
            then.status(400).json_body(error_collection(
                "An issue with key 'GONE-1' does not exist for field 'key'.",
            ));
        })
        .await;
    let jira = basic_client(&server);
    assert!(
        jira.fetch_one(JiraKind::Issue, "ED-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        jira.fetch_one(JiraKind::Issue, "GONE-1")
            .await
            .unwrap()
            .is_none()
    );
    empty.assert_async().await;
    missing.assert_async().await;
}

#[tokio::test]
async fn fetch_issue_is_scoped_by_the_sync_jql() {
    let server = MockServer::start_async().await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| {
                    let body = body_json(req);
                    body["jql"] == r#"(project = EX) AND key = "ST3-4""#
                        && body["reconcileIssues"] == json!([16642])
                        && body["fields"] == json!(["summary"])
                        && body["expand"] == "changelog"
                });
            then.status(200)
                .json_body(json!({"issues": [issue("ST3-4", 16642)], "isLast": true}));
        })
        .await;
    let jira = basic_client(&server);
    let event = ocean_jira::events::JiraEvent::parse(
        fixture_text("jira-webhook-event-issue-updated.json").as_bytes(),
    )
    .unwrap();
    let options = SyncOptions {
        jql: Some("project = EX".into()),
        fields: vec!["summary".into()],
        expand: Some("changelog".into()),
        ..SyncOptions::default()
    };
    let item = jira
        .fetch_issue(event.id().unwrap(), event.issue_id(), &options)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parse(&item)["key"], "ST3-4");
    search.assert_async().await;
}

#[tokio::test]
async fn single_items_by_kind_and_404_as_none() {
    let server = MockServer::start_async().await;
    let routes = [
        ("/rest/api/3/project/EX", project("EX", 10000)),
        ("/rest/agile/1.0/board/7", board(7, "scrum")),
        ("/rest/agile/1.0/sprint/11", sprint(11, 7, "active")),
        ("/rest/agile/1.0/epic/100", epic(100, "EX-1")),
        ("/rest/api/3/version/5", version(5, 10000)),
        ("/rest/api/3/component/6", component(6, "EX")),
    ];
    for (path, body) in routes.clone() {
        server
            .mock_async(|when, then| {
                when.method(GET).path(path);
                then.status(200).json_body(body);
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/user")
                .query_param("accountId", "5b10a2844c20165700ede21g");
            then.status(200)
                .json_body(fixture("jira-users-search.json")[0].clone());
        })
        .await;
    let worklogs = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/worklog/list")
                .json_body(json!({"ids": [100028]}));
            then.status(200).json_body(json!([worklog(100028, 10002)]));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/project/GONE");
            then.status(404)
                .json_body(fixture("jira-error-collection-404.json"));
        })
        .await;
    let jira = basic_client(&server);
    let cases = [
        (JiraKind::Project, "EX", "key", "EX"),
        (JiraKind::Board, "7", "id", "7"),
        (JiraKind::Sprint, "11", "id", "11"),
        (JiraKind::Epic, "100", "key", "EX-1"),
        (JiraKind::Release, "5", "id", "5"),
        (JiraKind::Component, "6", "id", "6"),
        (
            JiraKind::User,
            "5b10a2844c20165700ede21g",
            "displayName",
            "Mia Krystof",
        ),
        (JiraKind::Worklog, "100028", "issueId", "10002"),
    ];
    for (kind, id, field, expected) in cases {
        let item = jira.fetch_one(kind, id).await.unwrap().unwrap();
        let found = ocean_core::raw_field(&item, field).unwrap();
        assert_eq!(found.as_deref(), Some(expected), "{kind}");
    }
    assert!(
        jira.fetch_one(JiraKind::Project, "GONE")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        jira.fetch_one(JiraKind::Board, "404")
            .await
            .unwrap()
            .is_none()
    );
    worklogs.assert_async().await;

    // The typed getters read the same routes.
    assert_eq!(
        jira.sprint(11).await.unwrap().state.as_deref(),
        Some("active")
    );
    assert_eq!(jira.version("5").await.unwrap().name.as_deref(), Some("v5"));
    assert_eq!(jira.component("6").await.unwrap().issue_count, Some(3));
    assert_eq!(jira.epic("100").await.unwrap().done, Some(false));
    assert_eq!(
        jira.user("5b10a2844c20165700ede21g")
            .await
            .unwrap()
            .display_name
            .as_deref(),
        Some("Mia Krystof")
    );
    assert!(jira.project("GONE").await.is_err());
}

#[tokio::test]
async fn typed_getters_encode_path_segments() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/issue/EX-1/worklog/100028");
            then.status(200).json_body(worklog(100028, 10002));
        })
        .await;
    let issue = server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/issue/ED-1");
            then.status(200)
                .json_body(fixture("jira-search-jql-page.json")["issues"][0].clone());
        })
        .await;
    let jira = basic_client(&server);
    assert_eq!(jira.worklog("EX-1", "100028").await.unwrap().id, "100028");
    assert_eq!(jira.issue("ED-1").await.unwrap().id, "10002");
    // A key with a slash cannot escape its segment.
    assert!(
        jira.fetch_one(JiraKind::Project, "../issue/ED-1")
            .await
            .unwrap()
            .is_none()
    );
    mock.assert_async().await;
    issue.assert_calls_async(1).await;
    // A worklog id must be numeric.
    assert!(jira.fetch_one(JiraKind::Worklog, "abc").await.is_err());
}
