//! Driving the simulator from another process: Octopus create/edit/delete and the bulk issue
//! edit over `POST /_sim/mutate`, webhooks included; latency knobs over `/_sim/faults`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Env, start, start_with};
use crate::mutations::receiver;

async fn ok(env: &Env, m: Value) -> Value {
    let r = env.control_mutate(m.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{m}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn octopus_items_are_created_edited_and_deleted_over_http() {
    let env = start(200).await;
    let mut rx = receiver().await;
    let r = env
        .octopus(
            Method::POST,
            "/api/Spaces-1/subscriptions",
            Some(json!({"Name": "all", "EventNotificationSubscription": {
                "Filter": {}, "WebhookURI": rx.url, "WebhookTimeout": "00:00:10"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    // Environments.
    let env_out = ok(
        &env,
        json!({"type": "octopus_environment_create", "name": "Staging"}),
    )
    .await;
    let env_id = env_out["id"].as_str().unwrap().to_owned();
    assert_eq!(env_out["events"], json!(["Created"]));
    let listed = env.octopus_all("/api/Spaces-1/environments").await;
    let staging = listed.iter().find(|e| e["Id"] == env_id.as_str()).unwrap();
    assert_eq!(staging["Name"], "Staging");
    assert!(
        staging["LastModifiedOn"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
    ok(
        &env,
        json!({"type": "octopus_environment_update", "id": env_id, "name": "Staging 2"}),
    )
    .await;
    let got = env
        .octopus_get(&format!("/api/Spaces-1/environments/{env_id}"))
        .await
        .json();
    assert_eq!(got["Name"], "Staging 2");

    // Machines in it.
    let m = ok(
        &env,
        json!({"type": "octopus_machine_create", "name": "stg-01", "environment_id": env_id}),
    )
    .await;
    let machine_id = m["id"].as_str().unwrap().to_owned();
    let got = env
        .octopus_get(&format!("/api/Spaces-1/machines/{machine_id}"))
        .await
        .json();
    assert_eq!(got["EnvironmentIds"], json!([env_id]));
    ok(
        &env,
        json!({"type": "octopus_machine_update", "id": machine_id, "is_disabled": true}),
    )
    .await;
    let got = env
        .octopus_get(&format!("/api/Spaces-1/machines/{machine_id}"))
        .await
        .json();
    assert_eq!(got["IsDisabled"], true);
    let second = ok(
        &env,
        json!({"type": "octopus_machine_create", "name": "stg-02", "environment_id": env_id}),
    )
    .await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    ok(
        &env,
        json!({"type": "octopus_machine_delete", "id": machine_id}),
    )
    .await;
    let machines = ids(&env.octopus_all("/api/Spaces-1/machines").await);
    assert!(!machines.contains(&machine_id) && machines.contains(&second_id));
    // Deleting the environment takes its remaining machine with it.
    let out = ok(
        &env,
        json!({"type": "octopus_environment_delete", "id": env_id}),
    )
    .await;
    assert_eq!(out["events"], json!(["Deleted", "Deleted"]));
    assert!(!ids(&env.octopus_all("/api/Spaces-1/environments").await).contains(&env_id));
    assert!(!ids(&env.octopus_all("/api/Spaces-1/machines").await).contains(&second_id));
    let r = env
        .octopus_get(&format!("/api/Spaces-1/environments/{env_id}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Projects, releases, deployments.
    let p = ok(
        &env,
        json!({"type": "octopus_project_create", "name": "Billing"}),
    )
    .await;
    let project_id = p["id"].as_str().unwrap().to_owned();
    ok(
        &env,
        json!({"type": "octopus_project_update", "id": project_id, "description": "Pays"}),
    )
    .await;
    let got = env
        .octopus_get(&format!("/api/Spaces-1/projects/{project_id}"))
        .await
        .json();
    assert_eq!(got["Description"], "Pays");
    assert!(got["LastModifiedOn"].is_string());
    let rel = ok(
        &env,
        json!({"type": "octopus_release_create", "project_id": project_id}),
    )
    .await;
    let release_id = rel["id"].as_str().unwrap().to_owned();
    ok(
        &env,
        json!({"type": "octopus_release_update", "id": release_id, "release_notes": "Fixes"}),
    )
    .await;
    let got = env
        .octopus_get(&format!("/api/Spaces-1/releases/{release_id}"))
        .await
        .json();
    assert_eq!(got["ReleaseNotes"], "Fixes");
    let d1 = ok(
        &env,
        json!({"type": "octopus_deployment_create", "release_id": release_id}),
    )
    .await;
    let d2 = ok(
        &env,
        json!({"type": "octopus_deployment_create", "release_id": release_id}),
    )
    .await;
    let (d1, d2) = (
        d1["id"].as_str().unwrap().to_owned(),
        d2["id"].as_str().unwrap().to_owned(),
    );
    ok(
        &env,
        json!({"type": "octopus_deployment_update", "id": d2, "comments": "Hotfix"}),
    )
    .await;
    let got = env
        .octopus_get(&format!("/api/Spaces-1/deployments/{d2}"))
        .await
        .json();
    assert_eq!(got["Comments"], "Hotfix");
    assert!(got["LastModifiedOn"].is_string());
    ok(&env, json!({"type": "octopus_deployment_delete", "id": d1})).await;
    let deployments = ids(&env.octopus_all("/api/Spaces-1/deployments").await);
    assert!(!deployments.contains(&d1) && deployments.contains(&d2));
    ok(
        &env,
        json!({"type": "octopus_release_delete", "id": release_id}),
    )
    .await;
    assert!(!ids(&env.octopus_all("/api/Spaces-1/deployments").await).contains(&d2));
    assert!(!ids(&env.octopus_all("/api/Spaces-1/releases").await).contains(&release_id));
    assert_eq!(env.sim.dataset().octopus_get("release", &release_id), None);

    // Every change reached the subscription.
    let categories: Vec<String> = rx
        .drain()
        .iter()
        .map(|(_, b)| {
            b["Payload"]["Event"]["Category"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for c in ["Created", "Modified", "Deleted"] {
        assert!(categories.iter().any(|x| x == c), "{c} in {categories:?}");
    }

    // Bad input: typed errors, nothing changed.
    let r = env
        .control_mutate(json!({"type": "octopus_machine_delete", "id": "Machines-999999"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = env
        .control_mutate(json!({"type": "octopus_machine_create", "name": "x", "environment_id": "Environments-4"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "Environments-4 is in Spaces-2"
    );
    let r = env
        .control_mutate(json!({"type": "octopus_environment_update"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bulk_edit_touches_the_asked_share_and_only_it() {
    let env = start(2_000).await;
    let out = ok(
        &env,
        json!({"type": "jira_issue_bulk_update", "percent": 1}),
    )
    .await;
    let edited: Vec<String> = out["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(edited.len(), 20);
    assert_eq!(out["id"], edited[0].as_str());
    assert_eq!(out["events"].as_array().unwrap().len(), 20);
    let (changed, _) = env.search_walk("updated >= -5m", 5000, json!(["id"])).await;
    let mut changed: Vec<String> = changed
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    changed.sort();
    let mut want = edited.clone();
    want.sort();
    assert_eq!(changed, want);
    let issue = env.sim.dataset().jira_get("issue", &edited[0]).unwrap();
    assert!(
        issue["fields"]["summary"]
            .as_str()
            .unwrap()
            .ends_with(" [edit 1]")
    );

    // A second call picks other issues and does not stack suffixes.
    let again = ok(
        &env,
        json!({"type": "jira_issue_bulk_update", "percent": 1}),
    )
    .await;
    let again: Vec<&str> = again["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(again.iter().any(|i| !edited.contains(&i.to_string())));
    let r = env
        .control_mutate(json!({"type": "jira_issue_bulk_update", "percent": 101}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let out = ok(
        &env,
        json!({"type": "jira_issue_bulk_update", "percent": 0.001}),
    )
    .await;
    assert_eq!(
        out["ids"].as_array().unwrap().len(),
        1,
        "a positive share edits at least one"
    );
}

#[tokio::test]
async fn issue_latency_is_paid_per_page_and_overlaps_across_requests() {
    let env = start_with(
        ocean_sim::SimConfig::new(300)
            .with_full_issue_latency(Duration::from_millis(200))
            .with_id_page_latency(Duration::from_millis(150)),
    )
    .await;
    let url = format!("{}/_sim/faults", env.sim.url());
    let knobs = env.send(Method::GET, &url, &[], None).await.json();
    assert_eq!(knobs["full_issue_latency_ms"], 200.0);
    assert_eq!(knobs["id_page_latency_ms"], 150.0);

    let search = |fields: Value, max: usize| {
        env.jira(
            Method::POST,
            "/rest/api/3/search/jql",
            Some(json!({"jql": "project is not EMPTY", "fields": fields, "maxResults": max})),
        )
    };
    let t = Instant::now();
    assert_eq!(search(json!(["*all"]), 100).await.status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(200), "100 full issues");
    let t = Instant::now();
    search(json!(["id"]), 5000).await;
    assert!(t.elapsed() >= Duration::from_millis(150), "an id-only page");
    let t = Instant::now();
    let r = env
        .jira(
            Method::POST,
            "/rest/api/3/issue/bulkfetch",
            Some(json!({"issueIdsOrKeys": (0..50).map(|i| (10_000 + i).to_string()).collect::<Vec<_>>()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        t.elapsed() >= Duration::from_millis(100),
        "50 full issues: half of 200 ms"
    );

    // Eight concurrent id-only pages: the sleeps overlap (eight in a row would take 1.2 s).
    let t = Instant::now();
    let all = futures_join(&env, 8).await;
    assert!(all.iter().all(|s| *s == StatusCode::OK));
    assert!(
        t.elapsed() < Duration::from_millis(1_000),
        "{:?}",
        t.elapsed()
    );

    // Knobs move at runtime.
    let knobs = env
        .send(
            Method::POST,
            &url,
            &[],
            Some(json!({"full_issue_latency_ms": 0, "id_page_latency_ms": 0})),
        )
        .await
        .json();
    assert_eq!(knobs["full_issue_latency_ms"], 0.0);
    assert_eq!(env.sim.faults().id_page_latency(), Duration::ZERO);
}

async fn futures_join(env: &Env, n: usize) -> Vec<StatusCode> {
    let mut handles = Vec::new();
    for _ in 0..n {
        let http = env.http.clone();
        let url = format!("{}/rest/api/3/search/jql", env.sim.jira_url());
        handles.push(tokio::spawn(async move {
            http.post(url)
                .header("authorization", crate::common::basic())
                .header("content-type", "application/json")
                .body(r#"{"jql": "project = PROJ1", "fields": ["id"]}"#)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
