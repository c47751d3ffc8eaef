//! The `team` and `backlog` kinds against the simulator, across pages.

use futures::TryStreamExt;
use ocean_core::Record;
use ocean_jira::{Deployment, JiraClient, JiraKind, SyncOptions};
use ocean_sim::{SimConfig, Simulator};

async fn records(jira: &JiraClient, kind: JiraKind, options: &SyncOptions) -> Vec<Record> {
    jira.sync(kind, options).try_collect().await.unwrap()
}

#[tokio::test]
async fn teams_follow_the_cursor_and_backlogs_page_on_both_deployments() {
    let sim = Simulator::start(SimConfig {
        items: 600,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = |url: &str, deployment| {
        JiraClient::builder(url)
            .basic(ocean_sim::JIRA_EMAIL, ocean_sim::JIRA_TOKEN)
            .deployment(deployment)
            .page_size(7)
            .build()
            .unwrap()
    };
    let cloud = client(&sim.jira_url(), Deployment::Cloud);
    let options = SyncOptions {
        org_id: Some(ocean_sim::ORG_ID.into()),
        ..SyncOptions::default()
    };
    let teams = records(&cloud, JiraKind::Team, &options).await;
    let want = sim.jira_teams();
    assert!(want.len() > 7, "more than one page of teams");
    let got: Vec<serde_json::Value> = teams
        .iter()
        .map(|r| serde_json::from_str(r.item.get()).unwrap())
        .collect();
    assert_eq!(got, want);

    let backlog_ids = |records: Vec<Record>| -> Vec<(String, String)> {
        let mut ids: Vec<_> = records
            .iter()
            .map(|r| {
                let key = ocean_core::raw_field(&r.item, "key").unwrap().unwrap();
                (r.parent.as_ref().unwrap().id.clone(), key)
            })
            .collect();
        ids.sort();
        ids
    };
    let on_cloud = backlog_ids(records(&cloud, JiraKind::Backlog, &options).await);
    let dc = client(&sim.jira_dc_url(), Deployment::DataCenter);
    let on_dc = backlog_ids(records(&dc, JiraKind::Backlog, &options).await);
    assert_eq!(on_cloud.len(), sim.dataset().jira_len("issue"));
    assert_eq!(on_cloud, on_dc);
    let routes = sim.stats().per_route;
    assert!(
        routes
            .keys()
            .any(|r| r.contains("/rest/software/1.0/board")),
        "{routes:?}"
    );
}

#[tokio::test]
async fn a_component_name_filter_selects_the_same_components_on_both_deployments() {
    let sim = Simulator::start(SimConfig {
        items: 300,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let components = sim.dataset().jira("component");
    let name = components[0]["name"].as_str().unwrap().to_owned();
    let options = SyncOptions {
        component_query: Some(name.to_uppercase()),
        ..SyncOptions::default()
    };
    let ids = |records: Vec<Record>| -> Vec<String> {
        let mut ids: Vec<String> = records
            .iter()
            .map(|r| ocean_core::raw_field(&r.item, "id").unwrap().unwrap())
            .collect();
        ids.sort();
        ids
    };
    let mut got = Vec::new();
    for (url, deployment) in [
        (sim.jira_url(), Deployment::Cloud),
        (sim.jira_dc_url(), Deployment::DataCenter),
    ] {
        let jira = JiraClient::builder(&url)
            .basic(ocean_sim::JIRA_EMAIL, ocean_sim::JIRA_TOKEN)
            .deployment(deployment)
            .build()
            .unwrap();
        got.push(ids(records(&jira, JiraKind::Component, &options).await));
    }
    assert!(!got[0].is_empty());
    assert!(got[0].len() < components.len(), "the filter filtered");
    assert_eq!(got[0], got[1]);
}

#[tokio::test]
async fn single_items_are_fetched_on_data_center_as_on_cloud() {
    let sim = Simulator::start(SimConfig {
        items: 60,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = |url: &str, deployment| {
        JiraClient::builder(url)
            .basic(ocean_sim::JIRA_EMAIL, ocean_sim::JIRA_TOKEN)
            .deployment(deployment)
            .build()
            .unwrap()
    };
    let cloud = client(&sim.jira_url(), Deployment::Cloud);
    let dc = client(&sim.jira_dc_url(), Deployment::DataCenter);
    let data = sim.dataset();
    let first = |kind: &str, field: &str| -> String {
        let v = &data.jira(kind)[0][field];
        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
    };
    for (kind, id, field) in [
        (JiraKind::Project, first("project", "key"), "id"),
        (JiraKind::Issue, first("issue", "key"), "id"),
        (JiraKind::Release, first("release", "id"), "id"),
        (JiraKind::Component, first("component", "id"), "id"),
        (JiraKind::Board, first("board", "id"), "id"),
    ] {
        let on_cloud = cloud.fetch_one(kind, &id).await.unwrap().expect("on Cloud");
        let on_dc = dc
            .fetch_one(kind, &id)
            .await
            .unwrap()
            .expect("on Data Center");
        assert_eq!(
            ocean_core::raw_field(&on_cloud, field).unwrap(),
            ocean_core::raw_field(&on_dc, field).unwrap(),
            "{kind}"
        );
    }
    // A Data Center user is fetched by `key` (the simulator's key is the Cloud accountId).
    let account = first("user", "accountId");
    let user = dc
        .fetch_one(JiraKind::User, &account)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ocean_core::raw_field(&user, "key").unwrap(), Some(account));
    assert!(
        dc.fetch_one(JiraKind::Issue, "NOPE-1")
            .await
            .unwrap()
            .is_none()
    );
}
