//! Mutations and webhook delivery to a receiver started in the test; determinism.

use axum::http::HeaderMap;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use ocean_sim::{Mutation, SimConfig, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::common::start;

pub(crate) struct Receiver {
    pub(crate) url: String,
    rx: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
}

impl Receiver {
    /// Everything received so far (deliveries have completed when `mutate` returns).
    pub(crate) fn drain(&mut self) -> Vec<(HeaderMap, Value)> {
        self.drain_raw()
            .into_iter()
            .map(|(h, _, v)| (h, v))
            .collect()
    }

    fn drain_raw(&mut self) -> Vec<(HeaderMap, Bytes, Value)> {
        let mut out = Vec::new();
        while let Ok((h, b)) = self.rx.try_recv() {
            let v = serde_json::from_slice(&b).unwrap_or(Value::Null);
            out.push((h, b, v));
        }
        out
    }
}

pub(crate) async fn receiver() -> Receiver {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, rx }
}

fn hub_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn update(issue: &str, summary: &str, status: Option<&str>) -> Mutation {
    Mutation::JiraIssueUpdate {
        issue: issue.into(),
        summary: Some(summary.into()),
        status: status.map(Into::into),
        labels: None,
        assignee: None,
    }
}

#[tokio::test]
async fn jira_issue_update_is_signed_filtered_and_visible() {
    let env = start(100).await;
    let mut rx = receiver().await;
    let signed = json!({
        "name": "signed", "url": rx.url, "events": ["jira:issue_updated"],
        "filters": {"issue-related-events-section": "project = PROJ1"}, "secret": "s3cr3t",
    });
    let plain = json!({"name": "plain", "url": rx.url, "events": ["jira:issue_updated", "project_created"]});
    for hook in [signed, plain] {
        let r = env
            .jira(Method::POST, "/rest/webhooks/1.0/webhook", Some(hook))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }

    let outcome = env
        .sim
        .mutate(update("PROJ1-1", "Renamed", Some("Done")))
        .await
        .unwrap();
    assert_eq!(outcome.events, ["jira:issue_updated"]);
    assert_eq!(outcome.deliveries.len(), 2);
    assert!(
        outcome.deliveries.iter().all(|d| d.ok()),
        "{:?}",
        outcome.deliveries
    );

    let got = rx.drain_raw();
    assert_eq!(got.len(), 2);
    let (signed_headers, raw, body) = got
        .iter()
        .find(|(h, _, _)| h.contains_key("x-hub-signature"))
        .expect("a signed delivery");
    assert_eq!(
        signed_headers["x-hub-signature"].to_str().unwrap(),
        hub_signature("s3cr3t", raw)
    );
    assert_eq!(body["webhookEvent"], "jira:issue_updated");
    assert_eq!(body["issue_event_type_name"], "issue_generic");
    assert!(body["timestamp"].is_i64() && body["user"]["accountId"].is_string());
    assert_eq!(body["issue"]["key"], "PROJ1-1");
    assert_eq!(body["issue"]["fields"]["summary"], "Renamed");
    assert!(body["issue"].get("expand").is_none());
    let fields: Vec<&str> = body["changelog"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["summary", "status"]);
    assert!(
        got.iter()
            .all(|(h, _, _)| h["x-atlassian-webhook-flow"] == "Primary")
    );

    // The filter keeps PROJ2 events away from the signed hook.
    let outcome = env
        .sim
        .mutate(update("PROJ2-1", "Other", None))
        .await
        .unwrap();
    assert_eq!(outcome.deliveries.len(), 1);
    assert!(!rx.drain()[0].0.contains_key("x-hub-signature"));

    // The API and the dataset both serve the change.
    let issue = env.jira_get("/rest/api/3/issue/PROJ1-1").await.json();
    assert_eq!(issue["fields"]["summary"], "Renamed");
    assert_eq!(issue["fields"]["status"]["statusCategory"]["key"], "done");
    assert_eq!(
        env.sim.dataset().jira_get("issue", "PROJ1-1").unwrap(),
        issue
    );
}

#[tokio::test]
async fn jira_creates_and_deletes_over_the_control_route() {
    let env = start(100).await;
    let mut rx = receiver().await;
    let hook = json!({"name": "all", "url": rx.url, "events": [
        "jira:issue_created", "jira:issue_deleted", "project_created", "project_deleted", "sprint_closed"]});
    env.jira(Method::POST, "/rest/webhooks/1.0/webhook", Some(hook))
        .await;
    let url = format!("{}/_sim/mutate", env.sim.url());
    let mutate = |body: Value| env.send(Method::POST, &url, &[], Some(body));

    let r =
        mutate(json!({"type": "jira_issue_create", "project": "PROJ2", "summary": "Brand new"}))
            .await;
    assert_eq!(r.status, StatusCode::OK);
    let out = r.json();
    let key = out["key"].as_str().unwrap().to_owned();
    assert_eq!(key, "PROJ2-53", "after 50 issues and the board's 2 epics");
    assert_eq!(out["deliveries"][0]["status"], 200);
    assert_eq!(
        env.jira_get(&format!("/rest/api/3/issue/{key}"))
            .await
            .json()["fields"]["summary"],
        "Brand new"
    );
    assert_eq!(env.sim.dataset().jira_len("issue"), 101);
    let created = rx.drain();
    assert_eq!(created[0].1["webhookEvent"], "jira:issue_created");

    let r = mutate(json!({"type": "jira_issue_delete", "issue": key})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        env.jira_get(&format!("/rest/api/3/issue/{key}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(rx.drain()[0].1["issue"]["key"], key.as_str());

    let r =
        mutate(json!({"type": "jira_project_create", "key": "NEW", "name": "New things"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let ev = rx.drain();
    assert_eq!(
        (
            ev[0].1["webhookEvent"].as_str(),
            ev[0].1["project"]["key"].as_str()
        ),
        (Some("project_created"), Some("NEW"))
    );
    let page = env.jira_get("/rest/api/3/project/NEW/version").await.json();
    assert_eq!(
        (page["total"].as_u64(), page["isLast"].as_bool()),
        (Some(0), Some(true))
    );

    mutate(json!({"type": "jira_project_delete", "project": "PROJ1"})).await;
    assert_eq!(
        env.jira_get("/rest/api/3/project/PROJ1").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        env.sim
            .dataset()
            .jira("issue")
            .iter()
            .all(|i| i["fields"]["project"]["key"] != "PROJ1")
    );
    assert_eq!(
        env.jira_get("/rest/agile/1.0/board/1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(rx.drain()[0].1["webhookEvent"], "project_deleted");

    let sprint = env
        .sim
        .dataset()
        .jira("sprint")
        .into_iter()
        .find(|s| s["state"] == "active")
        .unwrap();
    let id = sprint["id"].to_string();
    let out = mutate(json!({"type": "jira_sprint_update", "id": id, "state": "closed"}))
        .await
        .json();
    assert_eq!(out["events"], json!(["sprint_closed"]));
    assert_eq!(rx.drain()[0].1["sprint"]["state"], "closed");

    let r = mutate(json!({"type": "jira_issue_update", "issue": "NOPE-1"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = mutate(json!({"type": "no_such_thing"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = mutate(json!({"type": "jira_project_create", "key": "bad key", "name": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn dynamic_webhooks_receive_matching_issue_events() {
    let env = start(100).await;
    let mut rx = receiver().await;
    let body = json!({"url": rx.url, "webhooks": [{"events": ["jira:issue_updated"], "jqlFilter": "project = PROJ2"}]});
    let r = env
        .jira_app(Method::POST, "/rest/api/3/webhook", Some(body))
        .await
        .json();
    assert!(r["webhookRegistrationResult"][0]["createdWebhookId"].is_u64());
    let out = env
        .sim
        .mutate(update("PROJ1-3", "not for you", None))
        .await
        .unwrap();
    assert!(out.deliveries.is_empty());
    let out = env
        .sim
        .mutate(update("PROJ2-3", "for you", None))
        .await
        .unwrap();
    assert_eq!(out.deliveries.len(), 1);
    let (headers, body) = rx.drain().remove(0);
    assert!(!headers.contains_key("x-hub-signature"));
    assert_eq!(body["issue"]["fields"]["summary"], "for you");
}

#[tokio::test]
async fn octopus_events_reach_subscriptions_with_their_header() {
    let env = start(200).await;
    let mut rx = receiver().await;
    let sub = |name: &str, categories: Value| {
        json!({"Name": name, "EventNotificationSubscription": {
            "Filter": {"EventCategories": categories},
            "WebhookURI": rx.url, "WebhookTimeout": "00:00:10",
            "WebhookHeaderKey": "X-Receiver-Token", "WebhookHeaderValue": "s3cr3t"}})
    };
    let r = env
        .octopus(
            Method::POST,
            "/api/Spaces-1/subscriptions",
            Some(sub("all", json!([]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    env.octopus(
        Method::POST,
        "/api/Spaces-1/subscriptions",
        Some(sub("failures", json!(["DeploymentFailed"]))),
    )
    .await;

    let newest_release = env
        .octopus_get("/api/Spaces-1/releases?take=1")
        .await
        .json()["Items"][0]
        .clone();
    let release_id = newest_release["Id"].as_str().unwrap().to_owned();
    let out = env
        .sim
        .mutate(Mutation::OctopusDeploymentCreate {
            release_id: release_id.clone(),
            environment_id: None,
            failed: false,
        })
        .await
        .unwrap();
    assert_eq!(out.events, ["DeploymentQueued", "DeploymentSucceeded"]);
    assert_eq!(out.id, "Deployments-201");
    assert_eq!(
        out.deliveries.len(),
        2,
        "the failures-only subscription gets nothing"
    );

    let got = rx.drain();
    let categories: Vec<&str> = got
        .iter()
        .map(|(_, b)| b["Payload"]["Event"]["Category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["DeploymentQueued", "DeploymentSucceeded"]);
    for (n, (headers, body)) in got.iter().enumerate() {
        assert_eq!(headers["x-receiver-token"], "s3cr3t");
        assert_eq!(body["EventType"], "SubscriptionPayload");
        let p = &body["Payload"];
        assert_eq!(p["ServerUri"], env.sim.octopus_url().as_str());
        assert_eq!(p["Subscription"]["Id"], "Subscriptions-1");
        assert_eq!(
            p["Subscription"]["EventNotificationSubscription"]["WebhookHeaderValue"],
            Value::Null
        );
        assert_eq!(
            (
                p["TotalEventsInBatch"].as_u64(),
                p["EventNumberInBatch"].as_u64()
            ),
            (Some(2), Some(n as u64 + 1))
        );
        let related = p["Event"]["RelatedDocumentIds"].as_array().unwrap();
        assert!(
            related.contains(&json!("Deployments-201")) && related.contains(&json!(release_id))
        );
        assert_eq!(p["Event"]["SpaceId"], "Spaces-1");
    }
    assert_eq!(
        got[0].1["Payload"]["BatchId"],
        got[1].1["Payload"]["BatchId"]
    );

    // Newest first: the new deployment leads the collection.
    let first = env
        .octopus_get("/api/Spaces-1/deployments?take=1")
        .await
        .json();
    assert_eq!(first["Items"][0]["Id"], "Deployments-201");
    assert_eq!(first["TotalResults"], 101);

    // Deleting a project removes it and its releases, and sends its document.
    let project = newest_release["ProjectId"].as_str().unwrap().to_owned();
    env.sim
        .mutate(Mutation::OctopusProjectDelete {
            id: project.clone(),
        })
        .await
        .unwrap();
    let (_, body) = rx.drain().remove(0);
    assert_eq!(body["Payload"]["Event"]["Category"], "Deleted");
    assert_eq!(
        body["Payload"]["Event"]["ChangeDetails"]["DocumentContext"]["Id"],
        project.as_str()
    );
    assert_eq!(
        env.octopus_get(&format!("/api/Spaces-1/projects/{project}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.octopus_get(&format!("/api/Spaces-1/releases/{release_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        env.sim
            .dataset()
            .octopus("deployment")
            .iter()
            .all(|d| d["ProjectId"] != project.as_str())
    );

    let created = env
        .sim
        .mutate(Mutation::OctopusProjectCreate {
            space_id: Some("Spaces-2".into()),
            name: "Fresh".into(),
        })
        .await
        .unwrap();
    assert!(
        created.deliveries.is_empty(),
        "no subscriptions in Spaces-2"
    );
    let fresh = env
        .octopus_get(&format!("/api/Spaces-2/projects/{}", created.id))
        .await
        .json();
    assert_eq!(fresh["Name"], "Fresh");
}

fn normalized(sim: &Simulator, kind: (&str, &str)) -> Vec<String> {
    let raw = if kind.0 == "jira" {
        sim.dataset().jira_raw(kind.1)
    } else {
        sim.dataset().octopus_raw(kind.1)
    };
    let port = sim.addr().port().to_string();
    raw.iter()
        .map(|b| String::from_utf8_lossy(b).replace(&port, "PORT"))
        .collect()
}

#[tokio::test]
async fn same_seed_same_data() {
    let config = SimConfig {
        items: 300,
        seed: 11,
        ..Default::default()
    };
    let a = Simulator::start(config.clone()).await.unwrap();
    let b = Simulator::start(config).await.unwrap();
    let c = Simulator::start(SimConfig {
        items: 300,
        seed: 12,
        ..Default::default()
    })
    .await
    .unwrap();
    for kind in [
        ("jira", "issue"),
        ("jira", "user"),
        ("jira", "worklog"),
        ("octopus", "deployment"),
        ("octopus", "machine"),
    ] {
        assert_eq!(normalized(&a, kind), normalized(&b, kind), "{kind:?}");
        assert_ne!(normalized(&a, kind), normalized(&c, kind), "{kind:?}");
    }
    a.shutdown().await;
    drop(b);
}
