//! Every root kind, typed and through the lossless sync path, across several pages.

mod support;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use ocean_jira::{DEFAULT_JQL, IssueStrategy, JiraKind, SyncOptions};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn projects_page_by_offset_with_insight() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/project/search")
                .query_param("startAt", "0")
                .query_param("maxResults", "2")
                .query_param("expand", "insight")
                .header("authorization", BASIC_HEADER);
            then.status(200).json_body(offset_page(
                0,
                vec![project("EX", 10000), project("ABC", 10001)],
                3,
            ));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/project/search")
                .query_param("startAt", "2")
                .query_param("expand", "insight");
            then.status(200)
                .json_body(offset_page(2, vec![project("ZED", 10002)], 3));
        })
        .await;
    let jira = basic_client(&server);

    let projects = jira.projects().fetch_all().await.unwrap();
    let keys: Vec<_> = projects.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["EX", "ABC", "ZED"]);
    let ex = &projects[0];
    assert_eq!(ex.insight.as_ref().unwrap().total_issue_count, Some(100));
    assert_eq!(
        ex.project_category.as_ref().unwrap().name.as_deref(),
        Some("FIRST")
    );
    assert!(
        ex.extra.contains_key("avatarUrls"),
        "unknown fields are kept"
    );
    // The typed model serialises back to the same JSON.
    assert_eq!(serde_json::to_value(ex).unwrap(), project("EX", 10000));

    let records = sync_all(&jira, JiraKind::Project, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| r.kind == "project" && r.parent.is_none())
    );
    first.assert_calls_async(2).await;
    second.assert_calls_async(2).await;
}

#[tokio::test]
async fn the_project_fixture_page_decodes() {
    let server = MockServer::start_async().await;
    let text =
        fixture_text("jira-project-search-page.json").replace("\"total\": 7", "\"total\": 2");
    let text = text.replace("\"isLast\": false", "\"isLast\": true");
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/project/search");
            then.status(200)
                .header("content-type", "application/json")
                .body(text.clone());
        })
        .await;
    let jira = basic_client(&server);
    let records = sync_all(&jira, JiraKind::Project, &SyncOptions::default())
        .await
        .unwrap();
    // The item bytes are the server's, pretty-printing included.
    let first = records[0].item.get();
    assert!(text.contains(first), "{first}");
    assert!(first.contains("\n        \"id\": \"10000\""));
}

#[tokio::test]
async fn issues_follow_the_cursor_in_the_post_body() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .header("authorization", BASIC_HEADER)
                .is_true(|req| {
                    let body = body_json(req);
                    body["jql"] == DEFAULT_JQL
                        && body["fields"] == json!(["*all"])
                        && body["maxResults"] == 2
                        && body.get("nextPageToken").is_none()
                });
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture_text("jira-search-jql-page-first.json"));
        })
        .await;
    let last = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| {
                    let body = body_json(req);
                    body["nextPageToken"] == "CAEaAggD" && body["jql"] == DEFAULT_JQL
                });
            then.status(200).json_body(json!({
                "issues": [issue("ED-2", 10003), issue("ED-3", 10004)],
                "isLast": true
            }));
        })
        .await;
    let jira = basic_client(&server);

    let issues = jira.issues(DEFAULT_JQL).fetch_all().await.unwrap();
    let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["ED-1", "ED-2", "ED-3"]);
    let fields = &issues[0].fields;
    assert_eq!(fields.project.as_ref().unwrap().key.as_deref(), Some("EX"));
    assert!(fields.extra.contains_key("timetracking"));

    let cursor = SyncOptions {
        issue_strategy: IssueStrategy::Cursor,
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Issue, &cursor).await.unwrap();
    assert_eq!(records.len(), 3);
    let expected = &fixture("jira-search-jql-page-first.json")["issues"][0];
    assert_eq!(
        &serde_json::from_str::<Value>(records[0].item.get()).unwrap(),
        expected
    );
    first.assert_calls_async(2).await;
    last.assert_calls_async(2).await;
}

#[tokio::test]
async fn sync_options_shape_the_issue_search() {
    let server = MockServer::start_async().await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| {
                    let body = body_json(req);
                    body["jql"] == "project = EX"
                        && body["fields"] == json!(["summary", "status"])
                        && body["expand"] == "changelog"
                });
            then.status(200).json_body(json!({
                "issues": [issue("EX-1", 1), issue("EX-2", 2)],
                "nextPageToken": "next",
                "isLast": false
            }));
        })
        .await;
    let jira = basic_client(&server);
    let options = SyncOptions {
        jql: Some("project = EX".into()),
        fields: vec!["summary".into(), "status".into()],
        expand: Some("changelog".into()),
        max_issues: Some(2),
        issue_strategy: IssueStrategy::Cursor,
        ..SyncOptions::default()
    };
    // The cap ends the stream at 2 issues: the second page is never asked for.
    let records = sync_all(&jira, JiraKind::Issue, &options).await.unwrap();
    assert_eq!(records.len(), 2);
    search.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_jql_naming_an_unseen_project_is_a_warning_not_a_failure() {
    let server = MockServer::start_async().await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/api/3/search/jql");
            then.status(400).json_body(error_collection(
                "The value 'SECRET' does not exist for the field 'project'.",
            ));
        })
        .await;
    let jira = basic_client(&server);
    let options = SyncOptions {
        jql: Some("project = SECRET".into()),
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Issue, &options).await.unwrap();
    assert!(records.is_empty());
    // Worklogs fan out over the same search: no parents, no failure.
    let records = sync_all(&jira, JiraKind::Worklog, &options).await.unwrap();
    assert!(records.is_empty());
    search.assert_calls_async(2).await;

    // The typed stream still reports it, classified.
    let err = jira
        .issues("project = SECRET")
        .fetch_all()
        .await
        .unwrap_err();
    assert!(ocean_jira::is_jql_scope_error(&err), "{err}");
}

#[tokio::test]
async fn other_jql_errors_fail_the_sync() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/api/3/search/jql");
            then.status(400).json_body(error_collection(
                "Error in the JQL Query: Expecting operator but got 'banana'.",
            ));
        })
        .await;
    let jira = basic_client(&server);
    let err = sync_all(&jira, JiraKind::Issue, &SyncOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert!(err.to_string().contains("Expecting operator"), "{err}");
    assert!(!ocean_jira::is_jql_scope_error(&err));
}

#[tokio::test]
async fn users_page_until_an_empty_page_not_a_short_one() {
    let server = MockServer::start_async().await;
    let users = fixture("jira-users-search.json");
    let mut third = users[0].clone();
    third["accountId"] = "5b10ac8d82e05b22cc7d4ef6".into();
    let pages = [
        (0, users.clone()),
        // Privacy filtering shortened this page (window 2..4): it is not the end.
        (2, json!([third])),
        (4, json!([])),
    ];
    let mut mocks = Vec::new();
    for (start, body) in pages {
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path("/rest/api/3/users/search")
                        .query_param("startAt", start.to_string());
                    then.status(200).json_body(body);
                })
                .await,
        );
    }
    let jira = basic_client(&server);
    let all = jira.users().fetch_all().await.unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|u| u.display_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["Mia Krystof", "Emma Richards", "Mia Krystof"]);
    assert_eq!(all[0].extra["key"], "", "deprecated fields are kept");

    let records = sync_all(&jira, JiraKind::User, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    for mock in &mocks {
        mock.assert_calls_async(2).await;
    }
}

#[tokio::test]
async fn boards_page_until_is_last_with_filters() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board")
                .query_param("startAt", "0")
                .query_param("type", "scrum")
                .query_param("projectKeyOrId", "EX");
            then.status(200).json_body(agile_page(
                0,
                vec![board(1, "scrum"), board(2, "scrum")],
                false,
            ));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board")
                .query_param("startAt", "2");
            then.status(200)
                .json_body(agile_page(2, vec![board(3, "scrum")], true));
        })
        .await;
    let jira = basic_client(&server);
    let options = SyncOptions {
        board_type: Some("scrum".into()),
        board_project: Some("EX".into()),
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Board, &options).await.unwrap();
    assert_eq!(tagged(&records, "id").len(), 3);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;

    let boards = jira
        .boards()
        .query("type", "scrum")
        .query("projectKeyOrId", "EX")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(boards.iter().map(|b| b.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        boards[0].location.as_ref().unwrap().project_key.as_deref(),
        Some("EX")
    );
}

#[tokio::test]
async fn typed_models_read_their_fixtures() {
    let issue: ocean_jira::models::Issue =
        serde_json::from_value(fixture("jira-search-jql-page.json")["issues"][0].clone()).unwrap();
    assert_eq!(issue.key, "ED-1");
    let worklog: ocean_jira::models::Worklog = serde_json::from_value(worklog(1, 2)).unwrap();
    assert_eq!(worklog.time_spent_seconds, Some(12000));
    let started = ocean_jira::models::parse_timestamp(worklog.started.as_deref().unwrap()).unwrap();
    assert_eq!(started.timestamp(), 1610886840);
    let user: ocean_jira::models::User =
        serde_json::from_value(fixture("jira-users-search.json")[1].clone()).unwrap();
    assert_eq!(user.account_type.as_deref(), Some("atlassian"));
}
