//! `ocean listen` against the simulator: webhooks registered with `ocean webhooks --secret`,
//! entities changed in the simulator, and every change on the listener's stdout exactly
//! once, with the entity as the API serves it now.

mod common;
mod listener;

use std::time::Duration;

use common::*;
use listener::{Listener, mutate, register};
use ocean_sim::Mutation;
use serde_json::Value;

const SECRET: &str = "listen-e2e-secret";

/// `(kind, action, id)` of a line; the id is the item's `key`, else `Id`, for upserts.
fn summary(line: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let id = match line["action"].as_str() {
        Some("upsert") => {
            let item = &line["item"];
            text(if item["key"].is_string() {
                &item["key"]
            } else {
                &item["Id"]
            })
        }
        _ => text(&line["id"]),
    };
    (text(&line["kind"]), text(&line["action"]), id)
}

fn expect(kind: &str, action: &str, id: &str) -> (String, String, String) {
    (kind.to_owned(), action.to_owned(), id.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_issue_and_project_changes_arrive_once_and_fresh() {
    let sim = sim(40).await;
    let listener = Listener::start(jira_env(&mut ocean(), &sim).args([
        "listen",
        "jira",
        "--bind",
        "127.0.0.1:0",
        "--secret",
        SECRET,
    ]));
    register(
        jira_env(&mut ocean(), &sim),
        "jira",
        &listener.app_host(),
        SECRET,
        1,
    );
    let data = sim.dataset();

    // An issue: created, updated, deleted.
    let created = mutate(
        &sim,
        Mutation::JiraIssueCreate {
            project: "PROJ1".into(),
            summary: "Made by the listener test".into(),
        },
    )
    .await;
    let key = created.key.expect("a new issue key");
    let got = listener.wait_for_lines(1).await;
    assert_eq!(
        summary(&got[0]),
        expect("issue", "upsert", &key),
        "{got:#?}"
    );
    assert_eq!(Some(&got[0]["item"]), data.jira_get("issue", &key).as_ref());

    let got = listener
        .after(
            &sim,
            Mutation::JiraIssueUpdate {
                issue: key.clone(),
                summary: Some("Renamed by the listener test".into()),
                status: Some("In Progress".into()),
                labels: None,
                assignee: None,
            },
            1,
        )
        .await;
    assert_eq!(summary(&got[0]), expect("issue", "upsert", &key));
    assert_eq!(
        got[0]["item"]["fields"]["summary"],
        "Renamed by the listener test"
    );
    assert_eq!(Some(&got[0]["item"]), data.jira_get("issue", &key).as_ref());

    let got = listener
        .after(&sim, Mutation::JiraIssueDelete { issue: key.clone() }, 1)
        .await;
    assert_eq!(summary(&got[0]), expect("issue", "delete", &key));
    assert!(data.jira_get("issue", &key).is_none());

    // A project: created, renamed, deleted.
    let project = "LSTN";
    let got = listener
        .after(
            &sim,
            Mutation::JiraProjectCreate {
                key: project.into(),
                name: "Listener".into(),
            },
            1,
        )
        .await;
    assert_eq!(summary(&got[0]), expect("project", "upsert", project));
    assert_eq!(
        Some(&got[0]["item"]),
        data.jira_get("project", project).as_ref()
    );

    let got = listener
        .after(
            &sim,
            Mutation::JiraProjectUpdate {
                project: project.into(),
                name: Some("Listener, renamed".into()),
            },
            1,
        )
        .await;
    assert_eq!(got[0]["item"]["name"], "Listener, renamed");
    assert_eq!(
        Some(&got[0]["item"]),
        data.jira_get("project", project).as_ref()
    );

    let got = listener
        .after(
            &sim,
            Mutation::JiraProjectDelete {
                project: project.into(),
            },
            1,
        )
        .await;
    assert_eq!(summary(&got[0]), expect("project", "delete", project));

    // A last change: once it is out, every earlier one is (the listener keeps the order).
    listener
        .after(
            &sim,
            Mutation::JiraIssueUpdate {
                issue: "PROJ1-1".into(),
                summary: Some("marker".into()),
                status: None,
                labels: None,
                assignee: None,
            },
            1,
        )
        .await;
    let all: Vec<_> = listener.lines().iter().map(summary).collect();
    assert_eq!(
        all,
        [
            expect("issue", "upsert", &key),
            expect("issue", "upsert", &key),
            expect("issue", "delete", &key),
            expect("project", "upsert", project),
            expect("project", "upsert", project),
            expect("project", "delete", project),
            expect("issue", "upsert", "PROJ1-1"),
        ],
        "each change exactly once\nstderr: {}",
        listener.stderr()
    );

    // Unsigned deliveries are refused.
    let url = format!("{}/integration/webhook", listener.app_host());
    let http = ocean_core::reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let forged = http
        .post(&url)
        .body(r#"{"webhookEvent":"jira:issue_deleted","issue":{"id":"10000","key":"PROJ1-1"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    assert_eq!(listener.lines().len(), all.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octopus_project_and_deployment_changes_arrive_once_and_fresh() {
    let sim = sim(40).await;
    let listener = Listener::start(octopus_env(&mut ocean(), &sim).args([
        "listen",
        "octopus",
        "--bind",
        "127.0.0.1:0",
        "--secret",
        SECRET,
    ]));
    register(
        octopus_env(&mut ocean(), &sim),
        "octopus",
        &listener.app_host(),
        SECRET,
        2,
    );
    let data = sim.dataset();
    let fresh = |line: &Value| {
        let (kind, _, id) = summary(line);
        assert_eq!(
            Some(&line["item"]),
            data.octopus_get(&kind, &id).as_ref(),
            "{kind} {id}"
        );
        assert_eq!(line["space_id"], "Spaces-1");
    };

    // A project: created, changed, deleted.
    let created = mutate(
        &sim,
        Mutation::OctopusProjectCreate {
            space_id: Some("Spaces-1".into()),
            name: "Listener".into(),
        },
    )
    .await;
    let project = created.id;
    let got = listener.wait_for_lines(1).await;
    assert_eq!(summary(&got[0]), expect("project", "upsert", &project));
    fresh(&got[0]);

    let got = listener
        .after(
            &sim,
            Mutation::OctopusProjectUpdate {
                id: project.clone(),
                name: Some("Listener, renamed".into()),
                description: None,
                is_disabled: None,
            },
            1,
        )
        .await;
    assert_eq!(got[0]["item"]["Name"], "Listener, renamed");
    fresh(&got[0]);

    let got = listener
        .after(
            &sim,
            Mutation::OctopusProjectDelete {
                id: project.clone(),
            },
            1,
        )
        .await;
    assert_eq!(summary(&got[0]), expect("project", "delete", &project));

    // A deployment: queued, then succeeded; each event refreshes the deployment, its
    // project, release and environment (tasks and channels are not tracked).
    let release = data.octopus_in_space("release", "Spaces-1")[0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = listener
        .after(
            &sim,
            Mutation::OctopusDeploymentCreate {
                release_id: release.clone(),
                environment_id: None,
                failed: false,
            },
            8,
        )
        .await;
    let deployment = summary(&got[0]).2;
    let item = &got[0]["item"];
    let refreshed = [
        expect("deployment", "upsert", &deployment),
        expect("project", "upsert", item["ProjectId"].as_str().unwrap()),
        expect("release", "upsert", &release),
        expect(
            "environment",
            "upsert",
            item["EnvironmentId"].as_str().unwrap(),
        ),
    ];
    let mut per_event = refreshed.to_vec();
    per_event.extend(refreshed.iter().cloned());
    assert_eq!(got.iter().map(summary).collect::<Vec<_>>(), per_event);
    got.iter().for_each(fresh);
    assert_eq!(item["ReleaseId"], release.as_str());

    // A last change flushes the order: nothing else was written.
    listener
        .after(
            &sim,
            Mutation::OctopusProjectUpdate {
                id: "Projects-1".into(),
                name: None,
                description: Some("marker".into()),
                is_disabled: None,
            },
            1,
        )
        .await;
    assert_eq!(
        listener.lines().len(),
        3 + 8 + 1,
        "each change exactly once: {:#?}\nstderr: {}",
        listener.lines(),
        listener.stderr()
    );
    assert!(
        !listener.stderr().contains("not verified"),
        "{}",
        listener.stderr()
    );
}
