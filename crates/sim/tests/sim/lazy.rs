//! A lazily rendered simulator serves the same bytes as an eager one, and changes stick.

use ocean_sim::SimConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::start_with;

#[tokio::test]
async fn lazy_and_eager_serve_identical_issues_and_worklogs() {
    let eager = start_with(SimConfig::new(300)).await;
    let lazy = start_with(SimConfig::new(300).with_lazy(true)).await;
    let strip = |env: &crate::common::Env, v: Vec<serde_json::Value>| {
        let text = serde_json::to_string(&v).unwrap();
        text.replace(&env.sim.url(), "http://sim")
    };
    for kind in ["issue", "worklog"] {
        assert_eq!(
            strip(&eager, eager.sim.dataset().jira(kind)),
            strip(&lazy, lazy.sim.dataset().jira(kind)),
            "{kind}"
        );
    }
    let (walked, _) = lazy
        .search_walk("project is not EMPTY", 100, json!(["*all"]))
        .await;
    assert_eq!(walked, lazy.sim.dataset().jira("issue"));

    // Changes materialise the item; the rest stays generated.
    let worklog = lazy.sim.dataset().jira("worklog")[0].clone();
    let r = lazy
        .control_mutate(json!({"type": "jira_worklog_update", "issue": worklog["issueId"], "id": worklog["id"], "time_spent_seconds": 7200}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let issue = lazy
        .jira_get(&format!(
            "/rest/api/3/issue/{}",
            worklog["issueId"].as_str().unwrap()
        ))
        .await
        .json();
    let embedded = issue["fields"]["worklog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == worklog["id"])
        .unwrap()
        .clone();
    assert_eq!(embedded["timeSpentSeconds"], 7200);
    let r = lazy
        .control_mutate(json!({"type": "jira_issue_bulk_update", "percent": 10}))
        .await;
    assert_eq!(r.json()["ids"].as_array().unwrap().len(), 30);
    let (changed, _) = lazy
        .search_walk("updated >= -5m", 100, json!(["summary"]))
        .await;
    assert_eq!(
        changed.len(),
        31,
        "30 edits and the issue whose worklog changed"
    );
}
