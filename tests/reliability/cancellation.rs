//! Cancellation at the provider level (issue 8): dropping a sync stream mid fan-out stops
//! every request at once (none reaches the server afterwards) and leaves no task running.
//! `crates/core/tests/pagination.rs` (`dropping_a_stream_cancels_its_requests`) covers a
//! single list; these drop fan-outs over many parents, with prefetch windows in flight.
//!
//! The scripted server runs on a runtime of its own, so the test runtime's
//! `num_alive_tasks` counts only what the client spawned (hyper's connection tasks).

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use ocean_core::{Record, RetryPolicy};
use ocean_jira::{JiraClient, JiraKind, SyncOptions};
use ocean_octopus::{OctopusClient, OctopusKind};
use serde_json::{Value, json};
use support::*;

/// Tasks alive on the test runtime.
fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Waits (up to 3 s) for the runtime's tasks to drop to `baseline`.
async fn settles_to(baseline: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive() > baseline && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    alive()
}

/// Takes `n` records, then drops the stream; returns when it was dropped.
async fn take_then_drop(
    mut stream: futures::stream::BoxStream<'static, ocean_core::Result<Record>>,
    n: usize,
) -> Instant {
    for _ in 0..n {
        stream.next().await.expect("a record").expect("no error");
    }
    drop(stream);
    Instant::now()
}

/// Asserts nothing new reaches `server` after the drop, once requests already on the
/// wire have landed; returns how many requests were sent in all.
async fn assert_quiet_after(server: &Server, dropped: Instant) -> usize {
    // A request hyper was writing at the very moment of the drop may still land.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let settled = server.hits();
    let late = server.hits_after(dropped + Duration::from_millis(20));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        server.hits(),
        settled,
        "requests kept coming after the drop"
    );
    assert_eq!(late, 0, "a request started after the drop");
    settled
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_jira_sprint_sync_mid_fan_out_stops_every_request() {
    within(15, async {
        let baseline = alive();
        // 30 boards; each board's sprints come in 3 slow pages of 2.
        let server = Server::start(|_, req| {
            if req.path() == "/rest/agile/1.0/board" {
                let boards: Vec<Value> = (1..=30)
                    .map(|b| json!({"id": b, "name": format!("Board {b}"), "type": "scrum"}))
                    .collect();
                return Reply::json(200, jira_page(req, &boards, 50));
            }
            let board: u64 = req.path().split('/').nth(5).unwrap().parse().unwrap();
            let sprints: Vec<Value> = (0..6)
                .map(|s| json!({"id": board * 100 + s, "name": format!("S{s}"), "state": "closed"}))
                .collect();
            Reply::json(200, jira_page(req, &sprints, 2)).after(Duration::from_millis(150))
        });
        let jira = JiraClient::builder(&server.url)
            .basic("me@example.com", "api-token")
            .retry(RetryPolicy::none())
            .page_size(2)
            .fan_out(5)
            .build()
            .unwrap();
        let dropped = take_then_drop(jira.sync(JiraKind::Sprint, &SyncOptions::default()), 7).await;
        assert!(
            server.peak_in_flight() >= 2,
            "the fan-out was not under way: {} in flight at most",
            server.peak_in_flight()
        );
        let sent = assert_quiet_after(&server, dropped).await;
        // A full sync needs 1 + 30 × 3 requests; the drop cut it short.
        assert!(sent < 40, "{sent} requests");
        drop(jira);
        let left = settles_to(baseline).await;
        assert_eq!(
            left, baseline,
            "tasks left running after the client was dropped"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_an_octopus_sync_mid_prefetch_across_spaces_stops_every_request() {
    within(15, async {
        let baseline = alive();
        // 4 spaces of 200 deployments each, slow pages of 10: every space prefetches a
        // window of pages at once.
        let server = Server::start(|_, req| {
            if req.path() == "/api/spaces" {
                let spaces: Vec<Value> = (1..=4).map(octopus_space).collect();
                return Reply::json(200, octopus_page(req, &spaces, Lies::default()));
            }
            let space = req.path().split('/').nth(2).unwrap().to_owned();
            let docs: Vec<Value> = (0..200)
                .map(|n| octopus_doc("Deployments-", &space, n))
                .collect();
            Reply::json(200, octopus_page(req, &docs, Lies::default()))
                .after(Duration::from_millis(150))
        });
        let octopus = OctopusClient::builder(&server.url)
            .api_key("API-TESTKEY0000")
            .retry(RetryPolicy::none())
            .page_size(10)
            .space_concurrency(4)
            .max_concurrency(8)
            .max_items_per_space(None)
            .build()
            .unwrap();
        let dropped = take_then_drop(octopus.sync(OctopusKind::Deployment), 25).await;
        assert!(
            server.peak_in_flight() >= 4,
            "prefetch was not under way: {} in flight at most",
            server.peak_in_flight()
        );
        let sent = assert_quiet_after(&server, dropped).await;
        // A full sync needs 1 + 4 × 20 requests.
        assert!(sent < 60, "{sent} requests");
        drop(octopus);
        let left = settles_to(baseline).await;
        assert_eq!(
            left, baseline,
            "tasks left running after the client was dropped"
        );
    })
    .await;
}

/// The same through the `ocean` binary's own loop: a sync that fails part-way (a 500 on one
/// board's sprints while other boards' pages are in flight) stops sending at once and
/// exits; no request reaches the server after the process is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cli_sync_stops_its_in_flight_fan_out() {
    within(20, async {
        let server = Server::start(|_, req| {
            if req.path() == "/rest/agile/1.0/board" {
                let boards: Vec<Value> = (1..=30)
                    .map(|b| json!({"id": b, "type": "scrum"}))
                    .collect();
                return Reply::json(200, jira_page(req, &boards, 50));
            }
            let board: u64 = req.path().split('/').nth(5).unwrap().parse().unwrap();
            if board == 3 {
                return Reply::json(500, json!({"errorMessages": ["boom"]}));
            }
            let sprints: Vec<Value> = (0..6)
                .map(|s| json!({"id": board * 100 + s, "state": "closed"}))
                .collect();
            Reply::json(200, jira_page(req, &sprints, 2)).after(Duration::from_millis(200))
        });
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ocean"));
        for var in ["JIRA_URL", "JIRA_EMAIL", "JIRA_TOKEN", "RUST_LOG"] {
            cmd.env_remove(var);
        }
        cmd.env("JIRA_URL", &server.url)
            .env("JIRA_EMAIL", "me@example.com")
            .env("JIRA_TOKEN", "api-token")
            .args(["sync", "jira", "--kind", "sprint", "--max-retries", "0"])
            // No serverInfo probe: this mock serves only the agile routes.
            .args(["--deployment", "cloud"]);
        let started = Instant::now();
        let out = run_bounded(cmd, 10).await;
        let exited = Instant::now();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("500"), "{stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the failure did not stop the sync at once"
        );
        let sent = assert_quiet_after(&server, exited).await;
        assert!(sent < 30, "{sent} requests");
    })
    .await;
}
