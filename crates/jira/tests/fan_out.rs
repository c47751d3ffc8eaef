//! Child kinds streamed over their parents, each record tagged with its parent.

mod support;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use ocean_jira::{JiraKind, SyncOptions};
use serde_json::json;
use support::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Boards 1 (scrum), 2 (kanban) and 3 (scrum) over two pages.
async fn mock_boards(server: &MockServer) {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board")
                .query_param("startAt", "0");
            then.status(200).json_body(agile_page(
                0,
                vec![board(1, "scrum"), board(2, "kanban")],
                false,
            ));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board")
                .query_param("startAt", "2");
            then.status(200)
                .json_body(agile_page(2, vec![board(3, "scrum")], true));
        })
        .await;
}

#[tokio::test]
async fn sprints_of_every_board_skip_boards_without_sprints() {
    let server = MockServer::start_async().await;
    mock_boards(&server).await;
    let b1p1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board/1/sprint")
                .query_param("startAt", "0")
                // A full sync asks for every state.
                .query_param_missing("state");
            then.status(200).json_body(agile_page(
                0,
                vec![sprint(10, 1, "closed"), sprint(11, 1, "active")],
                false,
            ));
        })
        .await;
    let b1p2 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board/1/sprint")
                .query_param("startAt", "2");
            then.status(200)
                .json_body(agile_page(2, vec![sprint(12, 1, "future")], true));
        })
        .await;
    let kanban = server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/agile/1.0/board/2/sprint");
            then.status(400)
                .json_body(error_collection("The board does not support sprints"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/agile/1.0/board/3/sprint");
            then.status(200)
                .json_body(agile_page(0, vec![sprint(30, 3, "active")], true));
        })
        .await;
    let jira = basic_client(&server);

    let records = sync_all(&jira, JiraKind::Sprint, &SyncOptions::default())
        .await
        .unwrap();
    assert!(records.iter().all(|r| r.kind == "sprint"));
    assert!(
        records
            .iter()
            .all(|r| r.parent.as_ref().unwrap().field == "board_id")
    );
    assert_eq!(
        tagged(&records, "id"),
        pairs(&[("1", "10"), ("1", "11"), ("1", "12"), ("3", "30")])
    );
    b1p1.assert_calls_async(1).await;
    b1p2.assert_calls_async(1).await;
    kanban.assert_calls_async(1).await;

    // Typed, one board; the 400 is an error there.
    let sprints = jira.sprints(1).fetch_all().await.unwrap();
    assert_eq!(
        sprints.iter().map(|s| s.id).collect::<Vec<_>>(),
        [10, 11, 12]
    );
    assert_eq!(sprints[0].origin_board_id, Some(1));
    assert!(jira.sprints(2).fetch_all().await.is_err());
}

#[tokio::test]
async fn the_sprint_state_option_is_sent() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/agile/1.0/board");
            then.status(200)
                .json_body(agile_page(0, vec![board(1, "scrum")], true));
        })
        .await;
    let active = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board/1/sprint")
                .query_param("state", "active,future");
            then.status(200)
                .json_body(agile_page(0, vec![sprint(11, 1, "active")], true));
        })
        .await;
    let jira = basic_client(&server);
    let options = SyncOptions {
        sprint_state: Some("active,future".into()),
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Sprint, &options).await.unwrap();
    assert_eq!(records.len(), 1);
    active.assert_calls_async(1).await;
}

#[tokio::test]
async fn other_sprint_errors_fail_the_sync() {
    let server = MockServer::start_async().await;
    mock_boards(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path_prefix("/rest/agile/1.0/board/");
            then.status(403)
                .json_body(error_collection("You do not have permission"));
        })
        .await;
    let jira = basic_client(&server);
    let err = sync_all(&jira, JiraKind::Sprint, &SyncOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err}");
}

#[tokio::test]
async fn epics_of_every_board_skip_boards_without_epics() {
    let server = MockServer::start_async().await;
    mock_boards(&server).await;
    let b1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board/1/epic")
                .query_param("startAt", "0")
                .query_param("done", "false");
            then.status(200).json_body(agile_page(
                0,
                vec![epic(100, "EX-1"), epic(101, "EX-2")],
                false,
            ));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/agile/1.0/board/1/epic")
                .query_param("startAt", "2");
            then.status(200)
                .json_body(agile_page(2, vec![epic(102, "EX-3")], true));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/agile/1.0/board/2/epic");
            then.status(400)
                .json_body(error_collection("The board does not support epics"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/agile/1.0/board/3/epic");
            then.status(200)
                .json_body(agile_page(0, vec![epic(300, "EX-30")], true));
        })
        .await;
    let jira = basic_client(&server);
    let options = SyncOptions {
        epic_done: Some(false),
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Epic, &options).await.unwrap();
    assert_eq!(
        tagged(&records, "key"),
        pairs(&[("1", "EX-1"), ("1", "EX-2"), ("1", "EX-3"), ("3", "EX-30")])
    );
    b1.assert_calls_async(1).await;

    let epics = jira.epics(3).fetch_all().await.unwrap();
    assert_eq!(epics[0].key.as_deref(), Some("EX-30"));
}

/// Projects EX and ABC, one page.
async fn mock_projects(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/project/search")
                // Parents are listed lean: no expand.
                .query_param_missing("expand");
            then.status(200).json_body(offset_page(
                0,
                vec![project("EX", 10000), project("ABC", 10001)],
                2,
            ));
        })
        .await
}

#[tokio::test]
async fn releases_of_every_project_tagged_with_the_project_key() {
    let server = MockServer::start_async().await;
    let projects = mock_projects(&server).await;
    for (start, values) in [
        (0, vec![version(1, 10000), version(2, 10000)]),
        (2, vec![version(3, 10000)]),
    ] {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/rest/api/3/project/EX/version")
                    .query_param("startAt", start.to_string());
                then.status(200).json_body(offset_page(start, values, 3));
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/project/ABC/version");
            then.status(200)
                .json_body(offset_page(0, vec![version(9, 10001)], 1));
        })
        .await;
    let jira = basic_client(&server);
    let records = sync_all(&jira, JiraKind::Release, &SyncOptions::default())
        .await
        .unwrap();
    assert!(
        records
            .iter()
            .all(|r| r.parent.as_ref().unwrap().field == "project_key")
    );
    assert_eq!(
        tagged(&records, "id"),
        pairs(&[("ABC", "9"), ("EX", "1"), ("EX", "2"), ("EX", "3")])
    );
    projects.assert_calls_async(1).await;

    let releases = jira.releases("EX").fetch_all().await.unwrap();
    assert_eq!(releases.len(), 3);
    assert_eq!(releases[0].project_id, Some(10000));
    assert_eq!(releases[0].released, Some(true));
}

#[tokio::test]
async fn components_of_every_project_skip_a_project_gone_mid_sync() {
    let server = MockServer::start_async().await;
    mock_projects(&server).await;
    for (start, values) in [
        (0, vec![component(1, "EX"), component(2, "EX")]),
        (2, vec![component(3, "EX")]),
    ] {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/rest/api/3/project/EX/component")
                    .query_param("startAt", start.to_string());
                then.status(200).json_body(offset_page(start, values, 3));
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/project/ABC/component");
            then.status(404).json_body(error_collection(
                "No project could be found with key 'ABC'.",
            ));
        })
        .await;
    let jira = basic_client(&server);
    let records = sync_all(&jira, JiraKind::Component, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tagged(&records, "id"),
        pairs(&[("EX", "1"), ("EX", "2"), ("EX", "3")])
    );
    let components = jira.components("EX").fetch_all().await.unwrap();
    assert_eq!(
        components[0].lead.as_ref().unwrap().display_name.as_deref(),
        Some("Mia Krystof")
    );
}

#[tokio::test]
async fn worklogs_of_every_issue_the_jql_matches() {
    let server = MockServer::start_async().await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .is_true(|req| {
                    let body = body_json(req);
                    // Parents need only their keys.
                    body["jql"] == "project = EX" && body["fields"] == json!(["key"])
                });
            then.status(200).json_body(json!({
                "issues": [{"id": "1", "key": "EX-1"}, {"id": "2", "key": "EX-2"}],
                "isLast": true
            }));
        })
        .await;
    for (start, worklogs) in [
        (0, vec![worklog(11, 1), worklog(12, 1)]),
        (2, vec![worklog(13, 1)]),
    ] {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/rest/api/3/issue/EX-1/worklog")
                    .query_param("startAt", start.to_string())
                    .query_param("startedAfter", "1700000000000");
                then.status(200).json_body(worklog_page(start, worklogs, 3));
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/issue/EX-2/worklog");
            then.status(200)
                .json_body(worklog_page(0, vec![worklog(21, 2)], 1));
        })
        .await;
    let jira = basic_client(&server);
    let options = SyncOptions {
        jql: Some("project = EX".into()),
        worklogs_started_after: Some(1_700_000_000_000),
        ..SyncOptions::default()
    };
    let records = sync_all(&jira, JiraKind::Worklog, &options).await.unwrap();
    assert!(records.iter().all(|r| r.kind == "worklog"));
    assert!(
        records
            .iter()
            .all(|r| r.parent.as_ref().unwrap().field == "issue_key")
    );
    assert_eq!(
        tagged(&records, "id"),
        pairs(&[
            ("EX-1", "11"),
            ("EX-1", "12"),
            ("EX-1", "13"),
            ("EX-2", "21")
        ])
    );
    search.assert_calls_async(1).await;

    let worklogs = jira.worklogs("EX-2").fetch_all().await.unwrap();
    assert_eq!(worklogs[0].issue_id.as_deref(), Some("2"));
}

#[tokio::test]
async fn fan_out_bounds_parents_in_flight() {
    let server = MockServer::start_async().await;
    let boards: Vec<_> = (1..=6).map(|id| board(id, "scrum")).collect();
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/agile/1.0/board");
            then.status(200).json_body(agile_page(0, boards, true));
        })
        .await;
    let sprints = server
        .mock_async(|when, then| {
            when.method(GET)
                .path_matches(r"^/rest/agile/1\.0/board/\d+/sprint$");
            then.status(200)
                .json_body(agile_page(0, vec![sprint(1, 0, "active")], true));
        })
        .await;
    let jira = ocean_jira::JiraClient::builder(&server.base_url())
        .basic(EMAIL, TOKEN)
        .retry(ocean_core::RetryPolicy::none())
        .fan_out(2)
        .build()
        .unwrap();
    let records = sync_all(&jira, JiraKind::Sprint, &SyncOptions::default())
        .await
        .unwrap();
    let mut parents: Vec<_> = records
        .iter()
        .map(|r| r.parent.as_ref().unwrap().id.clone())
        .collect();
    parents.sort();
    assert_eq!(parents, ["1", "2", "3", "4", "5", "6"]);
    sprints.assert_calls_async(6).await;
}
