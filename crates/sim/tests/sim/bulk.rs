//! `POST /rest/api/3/issue/bulkfetch` and the worklog feeds (`worklog/updated`, `/deleted`,
//! `/list`), with the mutations that feed them.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Env, start};

async fn bulkfetch(env: &Env, body: Value) -> (StatusCode, Value) {
    let r = env
        .jira(Method::POST, "/rest/api/3/issue/bulkfetch", Some(body))
        .await;
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

#[tokio::test]
async fn bulkfetch_returns_issues_in_id_order_with_the_real_shape() {
    let env = start(300).await;
    let (status, v) = bulkfetch(
        &env,
        json!({"issueIdsOrKeys": ["PROJ2-3", "10000", "proj1-2", "NOPE-1", "10000", 10005]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["issueErrors"], json!([]));
    let issues = v["issues"].as_array().unwrap();
    let got: Vec<&str> = issues.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let mut want: Vec<String> = ["PROJ2-3", "10000", "PROJ1-2", "10005"]
        .iter()
        .map(|k| {
            env.sim.dataset().jira_get("issue", k).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    want.sort_by_key(|i| i.parse::<u64>().unwrap());
    want.dedup();
    assert_eq!(got, want);
    // Default fields: the whole issue, byte for byte what search/jql serves with *all.
    assert_eq!(
        issues[0],
        env.sim.dataset().jira_get("issue", "10000").unwrap()
    );

    let (_, v) = bulkfetch(
        &env,
        json!({"issueIdsOrKeys": ["PROJ1-1"], "fields": ["summary", "updated"], "expand": ["names"]}),
    )
    .await;
    let fields = v["issues"][0]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["summary", "updated"]);

    for bad in [
        json!({}),
        json!({"issueIdsOrKeys": []}),
        json!({"issueIdsOrKeys": (0..101).map(|i| (10_000 + i).to_string()).collect::<Vec<_>>()}),
        json!({"issueIdsOrKeys": [true]}),
        json!([1, 2]),
    ] {
        let (status, v) = bulkfetch(&env, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(v["errorMessages"][0].is_string(), "{v}");
    }
    let (status, v) = bulkfetch(
        &env,
        json!({"issueIdsOrKeys": (0..100).map(|i| (10_000 + i).to_string()).collect::<Vec<_>>()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["issues"].as_array().unwrap().len(), 100);
}

/// Walks a worklog feed from `since` until `lastPage`; `(worklogId → updatedTime, pages, until)`.
async fn walk_feed(env: &Env, which: &str, since: i64) -> (BTreeMap<u64, i64>, usize, i64) {
    let mut out = BTreeMap::new();
    let mut path = format!("/rest/api/3/worklog/{which}?since={since}");
    for pages in 1..1000 {
        let r = env.jira_get(&path).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        let values = v["values"].as_array().unwrap();
        assert!(values.len() <= 1000);
        let times: Vec<i64> = values
            .iter()
            .map(|w| w["updatedTime"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        for w in values {
            assert_eq!(w["properties"], json!([]));
            out.insert(
                w["worklogId"].as_u64().unwrap(),
                w["updatedTime"].as_i64().unwrap(),
            );
        }
        let until = v["until"].as_i64().unwrap();
        if let Some(last) = times.last() {
            assert_eq!(until, *last);
        }
        let next = v["nextPage"].as_str().unwrap();
        assert!(next.ends_with(&format!("/rest/api/3/worklog/{which}?since={until}")));
        if v["lastPage"].as_bool().unwrap() {
            return (out, pages, until);
        }
        path = next[env.sim.jira_url().len()..].to_owned();
    }
    panic!("too many pages");
}

#[tokio::test]
async fn worklog_feeds_page_by_1000_and_follow_changes() {
    let env = start(3_300).await;
    let all = env.sim.dataset().jira("worklog");
    assert_eq!(all.len(), (0..3_300).map(|i| i % 3).sum::<usize>());
    let (seen, pages, until) = walk_feed(&env, "updated", 0).await;
    assert_eq!(
        seen.len(),
        all.len(),
        "every worklog, despite the repeated boundary"
    );
    assert_eq!(pages, 4);
    let (deleted, _, _) = walk_feed(&env, "deleted", 0).await;
    assert!(deleted.is_empty());

    // Log, edit and delete work over the control API.
    let r = env
        .control_mutate(
            json!({"type": "jira_worklog_create", "issue": "PROJ1-2", "time_spent_seconds": 5400}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let created = r.json();
    assert_eq!(created["events"], json!(["worklog_created"]));
    let new_id = created["id"].as_str().unwrap().to_owned();
    let issue = env.sim.dataset().jira_get("issue", "PROJ1-2").unwrap();
    let issue_id = issue["id"].as_str().unwrap();
    let old = env.sim.dataset().jira_children("worklog", issue_id);
    assert!(old.iter().any(|w| w["id"] == new_id.as_str()));
    assert_eq!(old.last().unwrap()["timeSpent"], "1h 30m");
    let edited_id = all[0]["id"].as_str().unwrap().to_owned();
    let edited_issue = all[0]["issueId"].as_str().unwrap().to_owned();
    let deleted_id = all[1]["id"].as_str().unwrap().to_owned();
    let deleted_issue = all[1]["issueId"].as_str().unwrap().to_owned();
    for m in [
        json!({"type": "jira_worklog_update", "issue": edited_issue, "id": edited_id, "time_spent_seconds": 60}),
        json!({"type": "jira_worklog_delete", "issue": deleted_issue, "id": deleted_id}),
    ] {
        let r = env.control_mutate(m).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // Deleting an issue deletes its worklogs too.
    let doomed = env.sim.dataset().jira_get("issue", "10005").unwrap();
    let doomed_worklogs: Vec<u64> = doomed["fields"]["worklog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(doomed_worklogs.len(), 2);
    let r = env
        .control_mutate(json!({"type": "jira_issue_delete", "issue": "10005"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let (changed, pages, _) = walk_feed(&env, "updated", until + 1).await;
    assert_eq!(pages, 1);
    let changed: Vec<u64> = changed.keys().copied().collect();
    let mut want = vec![new_id.parse::<u64>().unwrap(), edited_id.parse().unwrap()];
    want.sort();
    assert_eq!(changed, want);
    let (gone, _, _) = walk_feed(&env, "deleted", until + 1).await;
    let mut want_gone = doomed_worklogs.clone();
    want_gone.push(deleted_id.parse().unwrap());
    want_gone.sort();
    assert_eq!(gone.keys().copied().collect::<Vec<_>>(), want_gone);
    // The issue that lost a worklog was updated, and no longer embeds it.
    let issue = env.sim.dataset().jira_get("issue", &deleted_issue).unwrap();
    assert!(
        !issue["fields"]["worklog"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == deleted_id.as_str())
    );

    // worklog/list: the full worklogs, unknown and deleted ids left out.
    let r = env
        .jira(
            Method::POST,
            "/rest/api/3/worklog/list",
            Some(json!({"ids": [edited_id.parse::<u64>().unwrap(), deleted_id, 1, new_id]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let got: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [edited_id.as_str(), new_id.as_str()]);
    assert_eq!(list[0]["timeSpentSeconds"], 60);
    for bad in [
        json!({}),
        json!({"ids": []}),
        json!({"ids": (0..1001).collect::<Vec<_>>()}),
        json!({"ids": ["x"]}),
    ] {
        let r = env
            .jira(Method::POST, "/rest/api/3/worklog/list", Some(bad.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = env.jira_get("/rest/api/3/worklog/updated?since=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_feed_delay_hides_the_last_changes() {
    let env = crate::common::start_with(
        ocean_sim::SimConfig::new(30).with_worklog_feed_delay(std::time::Duration::from_secs(60)),
    )
    .await;
    let before = walk_feed(&env, "updated", 0).await.0.len();
    let r = env
        .control_mutate(
            json!({"type": "jira_worklog_create", "issue": "PROJ1-1", "time_spent_seconds": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(walk_feed(&env, "updated", 0).await.0.len(), before);
    env.sim
        .faults()
        .set_worklog_feed_delay(std::time::Duration::ZERO);
    assert_eq!(walk_feed(&env, "updated", 0).await.0.len(), before + 1);
}
