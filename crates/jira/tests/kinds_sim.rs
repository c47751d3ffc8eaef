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
