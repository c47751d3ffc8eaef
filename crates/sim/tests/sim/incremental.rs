//! What an incremental sync needs from search: `updated` filters, `ORDER BY`, id lists, id-only
//! census pages and approximate counts, against the mutations' clock.

use std::collections::HashSet;

use chrono::{Duration as Span, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::start;

fn ids(issues: &[Value]) -> Vec<String> {
    issues
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `yyyy/MM/dd HH:mm` for `minutes` from now (UTC, as the simulator reads JQL dates).
fn jql_date(minutes: i64) -> String {
    (Utc::now() + Span::minutes(minutes))
        .format("%Y/%m/%d %H:%M")
        .to_string()
}

#[tokio::test]
async fn updated_filters_see_exactly_the_changed_issues() {
    let env = start(200).await; // PROJ1..PROJ4, 50 issues each
    let user_jql = "project in (PROJ1, PROJ2)";
    let before = format!("({user_jql}) AND updated >= \"{}\"", jql_date(-1));
    let (none, _) = env.search_walk(&before, 50, json!(["id"])).await;
    assert!(none.is_empty(), "generated issues are old: {none:?}");

    // Edit one in scope, one out of scope, create one in scope, over the control API.
    let mut new_key = String::new();
    for m in [
        json!({"type": "jira_issue_update", "issue": "PROJ1-3", "summary": "Changed"}),
        json!({"type": "jira_issue_update", "issue": "PROJ3-1", "labels": ["x"]}),
        json!({"type": "jira_issue_create", "project": "PROJ2", "summary": "New"}),
    ] {
        let r = env.control_mutate(m).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        if let Some(k) = r.json()["key"].as_str() {
            new_key = k.to_owned();
        }
    }
    let created = env.sim.dataset().jira_get("issue", &new_key).unwrap();
    assert_eq!(created["fields"]["summary"], "New");

    for jql in [
        format!("({user_jql}) AND updated >= \"{}\"", jql_date(-1)),
        format!("({user_jql}) AND updated >= -5m"),
        format!("({user_jql}) AND updated >= \"-1h\" ORDER BY updated ASC, key"),
        format!("updated > -10m AND ({user_jql}) order by key"),
    ] {
        let (got, _) = env.search_walk(&jql, 50, json!(["key"])).await;
        let keys: Vec<&str> = got.iter().map(|i| i["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["PROJ1-3", new_key.as_str()], "{jql}");
    }
    // Newest first: the created issue was stamped after the edit.
    let (got, _) = env
        .search_walk(
            &format!("({user_jql}) AND updated >= -5m ORDER BY updated DESC"),
            50,
            json!(["key"]),
        )
        .await;
    assert_eq!(got[0]["key"], new_key.as_str());
    // OR around the user's JQL, and the complement.
    let (got, _) = env
        .search_walk("key = PROJ1-1 OR updated >= -5m", 50, json!(["key"]))
        .await;
    assert_eq!(got.len(), 4, "PROJ1-1 plus three changed issues");
    let (old, _) = env
        .search_walk(&format!("({user_jql}) AND updated < -5m"), 100, json!("id"))
        .await;
    assert_eq!(old.len(), 100 - 1, "every other issue of both projects");

    // The timestamps are real: fields.updated of the edit is within the last minutes.
    let edited = env.sim.dataset().jira_get("issue", "PROJ1-3").unwrap();
    let updated = chrono::DateTime::parse_from_str(
        edited["fields"]["updated"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.3f%z",
    )
    .unwrap();
    assert!(
        (Utc::now() - updated.with_timezone(&Utc))
            .num_seconds()
            .abs()
            < 300
    );

    // An approximate count agrees.
    let r = env
        .jira(
            Method::POST,
            "/rest/api/3/search/approximate-count",
            Some(json!({"jql": format!("({user_jql}) AND updated >= -5m")})),
        )
        .await;
    assert_eq!(r.json(), json!({"count": 2}));
}

#[tokio::test]
async fn order_by_and_id_lists() {
    let env = start(60).await;
    let (by_key, _) = env
        .search_walk("project = PROJ1 ORDER BY key DESC", 7, json!(["key"]))
        .await;
    let keys: Vec<String> = by_key
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 30);
    assert_eq!(keys[0], "PROJ1-30", "numbers sort numerically, not as text");
    assert_eq!(keys[29], "PROJ1-1");

    let (by_updated, _) = env
        .search_walk(
            "project = PROJ2 ORDER BY updated ASC, key",
            100,
            json!(["updated"]),
        )
        .await;
    let times: Vec<&str> = by_updated
        .iter()
        .map(|i| i["fields"]["updated"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    let (got, _) = env
        .search_walk("id in (10003, 10001, 99999, 10002)", 50, json!(["id"]))
        .await;
    assert_eq!(ids(&got), ["10001", "10002", "10003"]);
    let (got, _) = env
        .search_walk(
            "key in (PROJ2-2, proj1-1) ORDER BY key DESC",
            50,
            json!(["key"]),
        )
        .await;
    assert_eq!(ids(&got), ["10003", "10000"], "PROJ2-2, then PROJ1-1");
}

#[tokio::test]
async fn bad_dates_answer_400_with_an_error_collection() {
    let env = start(10).await;
    for jql in [
        "updated >= yesterday",
        "project = PROJ1 AND updated >= \"2026/13/45 10:00\"",
        "created < -3x",
    ] {
        let r = env
            .jira(
                Method::POST,
                "/rest/api/3/search/jql",
                Some(json!({"jql": jql})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{jql}");
        let v = r.json();
        let msg = v["errorMessages"][0].as_str().unwrap();
        assert!(msg.contains("yyyy/MM/dd HH:mm"), "{msg}");
        assert_eq!(v["errors"], json!({}));
    }
}

#[tokio::test]
async fn id_only_census_pages_hold_up_to_5000() {
    let env = start(12_000).await;
    let census_jql = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)";
    let (got, pages) = env.search_walk(census_jql, 5000, json!(["id"])).await;
    assert_eq!(pages, 3);
    assert_eq!(got.len(), 12_000);
    assert_eq!(
        got.iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect::<HashSet<_>>()
            .len(),
        12_000
    );
    assert_eq!(
        got[0],
        json!({"expand": "", "id": "10000", "self": format!("{}/rest/api/3/issue/10000", env.sim.jira_url()), "key": "PROJ1-1", "fields": {}})
    );
    // Without fields (Jira's default, the id only) the same cap applies; GET too.
    let r = env
        .jira_get("/rest/api/3/search/jql?jql=project%20is%20not%20EMPTY&maxResults=9000")
        .await
        .json();
    assert_eq!(r["issues"].as_array().unwrap().len(), 5000);
    assert_eq!(r["issues"][0], json!({"id": "10000"}));
    assert_eq!(r["isLast"], false);
    // Full issues stay at 100 per page.
    let r = env
        .jira(
            Method::POST,
            "/rest/api/3/search/jql",
            Some(json!({"jql": census_jql, "maxResults": 5000, "fields": ["*all"]})),
        )
        .await
        .json();
    assert_eq!(r["issues"].as_array().unwrap().len(), 100);
    let r = env
        .jira(
            Method::POST,
            "/rest/api/3/search/approximate-count",
            Some(json!({"jql": census_jql})),
        )
        .await;
    assert_eq!(r.json(), json!({"count": 12_000}));
}

#[tokio::test]
async fn a_census_walk_sees_deletions() {
    let env = start(100).await;
    let jql = "project = PROJ1 ORDER BY key";
    let (first, _) = env.search_walk(jql, 5000, json!(["id"])).await;
    let r = env
        .control_mutate(json!({"type": "jira_issue_delete", "issue": "PROJ1-5"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (second, _) = env.search_walk(jql, 5000, json!(["id"])).await;
    assert_eq!(first.len(), second.len() + 1);
    let gone: Vec<String> = ids(&first)
        .into_iter()
        .filter(|i| !ids(&second).contains(i))
        .collect();
    assert_eq!(gone, ["10008"]);
    let r = env.jira_get("/rest/api/3/issue/PROJ1-5").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
