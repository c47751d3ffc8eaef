//! The fault matrix through the `ocean` binary (issue 8): the faults of `faults.rs` that
//! the CLI has its own answer to — its `--timeout`, its exit on a malformed page, its
//! warning for a board it cannot read, its maximum wait. Each test runs under a deadline.

#[path = "../e2e/common.rs"]
mod e2e;
mod support;

use std::time::{Duration, Instant};

use ocean_sim::{SimConfig, Simulator};
use serde_json::{Value, json};
use support::*;

/// The CLI against a simulator slower than `--timeout`: a typed timeout naming the URL
/// and the limit, and an exit instead of a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exits_on_a_simulator_slower_than_its_timeout() {
    within(20, async {
        let sim = Simulator::start(SimConfig {
            items: 10,
            latency: Duration::from_secs(2),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let mut cmd = e2e::ocean();
        e2e::jira_env(&mut cmd, &sim).args([
            "sync",
            "jira",
            "--kind",
            "project",
            "--timeout",
            "0.2",
            "--max-retries",
            "0",
        ]);
        let started = Instant::now();
        let out = run_bounded(cmd, 10).await;
        let stderr = e2e::text(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("timed out after 200ms"), "{stderr}");
        assert!(stderr.contains("/rest/api/3/project/search"), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(started.elapsed() < Duration::from_secs(5));
    })
    .await;
}

/// The simulator's malformed switch (list pages cut to invalid JSON), through the CLI: a
/// failing exit naming the URL, nothing half-written on stdout, and no retry loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_from_the_simulator_fails_the_cli_with_the_url() {
    within(20, async {
        let sim = e2e::sim(20).await;
        sim.faults().set_malformed(true);
        let mut cmd = e2e::ocean();
        e2e::jira_env(&mut cmd, &sim).args(["sync", "jira", "--kind", "project"]);
        let out = run_bounded(cmd, 10).await;
        let stderr = e2e::text(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        let url = format!("{}/rest/api/3/project/search", sim.jira_url());
        assert!(
            stderr.contains(&format!("could not decode the response of {url}")),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "{}", e2e::text(&out.stdout));
        assert_eq!(sim.stats().malformed, 1, "a decode error is not retried");

        let mut cmd = e2e::ocean();
        e2e::octopus_env(&mut cmd, &sim).args(["sync", "octopus", "--kind", "project"]);
        let out = run_bounded(cmd, 10).await;
        let stderr = e2e::text(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "could not decode the response of {}/api/spaces",
                sim.octopus_url()
            )),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    })
    .await;
}

/// A 404 on one parent's children: Jira boards (like Ocean, which skips boards it cannot
/// read) are skipped with a warning and every other board's sprints arrive once; an
/// Octopus space's collection is not skipped (Ocean fails there too): the sync fails
/// naming the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_on_a_board_is_skipped_with_a_warning_on_a_space_it_is_fatal() {
    within(20, async {
        let server = Server::start(|_, req| {
            let path = req.path().to_owned();
            let boards: Vec<Value> = (1..=3)
                .map(|b| json!({"id": b, "name": format!("Board {b}"), "type": "scrum"}))
                .collect();
            let not_found = || {
                Reply::json(
                    404,
                    json!({"errorMessages": ["Board does not exist or you do not have permission to see it."]}),
                )
            };
            match path.as_str() {
                "/rest/agile/1.0/board" => Reply::json(200, jira_page(req, &boards, 50)),
                "/rest/agile/1.0/board/2/sprint" => not_found(),
                p if p.starts_with("/rest/agile/1.0/board/") => {
                    let board: u64 = p.split('/').nth(5).unwrap().parse().unwrap();
                    let sprints: Vec<Value> = (0..3)
                        .map(|s| json!({"id": board * 10 + s, "name": format!("S{s}"), "state": "closed"}))
                        .collect();
                    Reply::json(200, jira_page(req, &sprints, 2))
                }
                "/api/spaces" => {
                    let spaces: Vec<Value> = (1..=2).map(octopus_space).collect();
                    Reply::json(200, octopus_page(req, &spaces, Lies::default()))
                }
                "/api/Spaces-1/projects" => {
                    let docs: Vec<Value> =
                        (0..3).map(|n| octopus_doc("Projects-", "Spaces-1", n)).collect();
                    Reply::json(200, octopus_page(req, &docs, Lies::default()))
                }
                _ => Reply::json(404, json!({"ErrorMessage": "The resource you requested was not found."})),
            }
        });

        let mut cmd = e2e::ocean();
        cmd.env("JIRA_URL", &server.url)
            .env("JIRA_EMAIL", "me@example.com")
            .env("JIRA_TOKEN", "api-token")
            .args(["sync", "jira", "--kind", "sprint"]);
        let out = run_bounded(cmd, 10).await;
        let stderr = e2e::text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("WARN")
                && stderr.contains("skipping this parent's children")
                && stderr.contains("/rest/agile/1.0/board/2/sprint")
                && stderr.contains("404"),
            "{stderr}"
        );
        let lines = e2e::ndjson(&out.stdout);
        let mut tagged: Vec<(String, String)> = lines
            .iter()
            .map(|l| (l.parent.clone().unwrap().1, l.item.clone()))
            .collect();
        tagged.sort();
        let ids: Vec<(&str, u64)> = tagged
            .iter()
            .map(|(b, item)| {
                let v: Value = serde_json::from_str(item).unwrap();
                (b.as_str(), v["id"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(
            ids,
            [("1", 10), ("1", 11), ("1", 12), ("3", 30), ("3", 31), ("3", 32)]
        );

        let mut cmd = e2e::ocean();
        cmd.env("OCTOPUS_URL", &server.url)
            .env("OCTOPUS_API_KEY", "API-TESTKEY0000")
            .args(["sync", "octopus", "--kind", "project"]);
        let out = run_bounded(cmd, 10).await;
        let stderr = e2e::text(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(
            stderr.contains("error: GET ")
                && stderr.contains("/api/Spaces-2/projects")
                && stderr.contains("404"),
            "{stderr}"
        );
        // Whatever was written before the failure is whole lines, each item at most once.
        let lines = e2e::ndjson(&out.stdout);
        let items: Vec<String> = lines.iter().map(|l| l.item.clone()).collect();
        assert_unique(&items, "octopus projects");
        assert!(lines.iter().all(|l| l.parent.as_ref().unwrap().1 == "Spaces-1"));
    })
    .await;
}

// ---- Waits the CLI will not make -------------------------------------------------------

/// A `Retry-After` in seconds longer than the CLI's maximum wait (120 s by default) fails
/// at once, with both waits in the error, after one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_fails_fast_on_a_retry_after_beyond_its_max_wait() {
    within(20, async {
        let server = Server::start(|_, _| {
            Reply::json(429, json!({"errorMessages": ["Rate limit exceeded."]}))
                .with_header("retry-after", "3600")
        });
        let mut cmd = e2e::ocean();
        cmd.env("JIRA_URL", &server.url)
            .env("JIRA_EMAIL", "me@example.com")
            .env("JIRA_TOKEN", "api-token")
            // No serverInfo probe: the one request counted below is the sync's.
            .args(["sync", "jira", "--kind", "project", "--deployment", "cloud"]);
        let started = Instant::now();
        let out = run_bounded(cmd, 10).await;
        let stderr = e2e::text(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(
            stderr.contains(
                "is rate limited: the server asks to wait 3600s, more than the maximum wait of 120s"
            ),
            "{stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(server.hits(), 1);
    })
    .await;
}
