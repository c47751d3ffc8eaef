//! Shared by the reliability tests: the workspace's scripted server (for faults the
//! simulator has no knob for), fake Jira and Octopus page builders, quick clients, and a
//! guard that turns a hang into a failure.
#![allow(dead_code)]

#[path = "../../support/server.rs"]
mod server;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocean_core::RetryPolicy;
use serde_json::{Value, json};

pub use server::{Reply, Seen, Server};

/// Fails the test if `future` takes longer than `secs`: a hang is a failure, not a stuck CI.
pub async fn within<F: Future>(secs: u64, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), future).await {
        Ok(output) => output,
        Err(_) => panic!("hung: no outcome within {secs} s"),
    }
}

/// Short backoffs for tests on the real clock; no share-of-traffic budget, so a storm
/// ends in success or in `max_retries`, never in a race with the budget's window.
pub fn quick(max_retries: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(max_retries)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(40))
        .budget(None)
}

// ---- Fake API pages -------------------------------------------------------------------

/// A Jira project item.
pub fn jira_project(n: usize) -> Value {
    json!({"id": format!("{}", 10000 + n), "key": format!("P{n}"), "name": format!("Project {n}")})
}

/// A Jira issue item.
pub fn jira_issue(n: usize) -> Value {
    json!({"id": format!("{}", 20000 + n), "key": format!("P1-{n}"), "fields": {"summary": format!("Issue {n}")}})
}

/// A Jira PageBean over `items` at the request's `startAt`/`maxResults` (capped at `cap`),
/// with an honest `total` and `isLast`.
pub fn jira_page(req: &Seen, items: &[Value], cap: usize) -> Value {
    let start = req.query_u64("startAt").unwrap_or(0) as usize;
    let size = (req.query_u64("maxResults").unwrap_or(50) as usize).min(cap);
    let end = (start + size).min(items.len());
    let values = &items[start.min(end)..end];
    json!({"startAt": start, "maxResults": size, "total": items.len(),
           "isLast": end >= items.len(), "values": values})
}

/// An enhanced-search page: tokens are `"t<offset>"`.
pub fn jql_page(req: &Seen, items: &[Value]) -> Value {
    let body = req.json();
    let start = body["nextPageToken"]
        .as_str()
        .and_then(|t| t.strip_prefix('t'))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0usize);
    let size = body["maxResults"].as_u64().unwrap_or(50) as usize;
    let end = (start + size).min(items.len());
    let mut page = json!({"issues": &items[start.min(end)..end], "isLast": end >= items.len()});
    if end < items.len() {
        page["nextPageToken"] = json!(format!("t{end}"));
    }
    page
}

/// An Octopus space.
pub fn octopus_space(n: usize) -> Value {
    json!({"Id": format!("Spaces-{n}"), "Name": format!("Space {n}"), "IsDefault": n == 1})
}

/// An Octopus document of `prefix` (`Projects-`) in `space`.
pub fn octopus_doc(prefix: &str, space: &str, n: usize) -> Value {
    json!({"Id": format!("{prefix}{n}"), "Name": format!("{prefix}{n}"), "SpaceId": space,
           "Version": format!("1.0.{n}")})
}

/// How an Octopus collection's `Links["Page.Next"]` is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkMode {
    /// From the real item count.
    #[default]
    Honest,
    /// From the announced (possibly lying) total.
    FollowTotal,
    /// No `Links` at all.
    Absent,
}

/// Envelope fields an Octopus collection announces, each of which a test may make lie.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lies {
    /// `TotalResults` (and the page numbers derived from it) instead of the real count.
    pub total: Option<usize>,
    /// How `Page.Next` is computed.
    pub links: LinkMode,
}

/// An Octopus collection page over `items` at the request's `skip`/`take`.
pub fn octopus_page(req: &Seen, items: &[Value], lies: Lies) -> Value {
    let skip = req.query_u64("skip").unwrap_or(0) as usize;
    let take = (req.query_u64("take").unwrap_or(30) as usize).max(1);
    let end = (skip + take).min(items.len());
    let total = lies.total.unwrap_or(items.len());
    let pages = total.div_ceil(take);
    let mut page = json!({
        "ItemType": "Thing", "TotalResults": total, "ItemsPerPage": take,
        "NumberOfPages": pages, "LastPageNumber": pages.saturating_sub(1),
        "Items": &items[skip.min(end)..end],
    });
    let next_until = match lies.links {
        LinkMode::Honest => items.len(),
        LinkMode::FollowTotal => total,
        LinkMode::Absent => return page,
    };
    let path = req.path().to_owned();
    let mut links = json!({"Self": format!("{path}?skip={skip}&take={take}")});
    if skip + take < next_until {
        links["Page.Next"] = json!(format!("{path}?skip={}&take={take}", skip + take));
    }
    page["Links"] = links;
    page
}

/// Items as sorted JSON text, for exactly-once comparisons.
pub fn sorted_text<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().map(str::to_owned).collect();
    v.sort();
    v
}

/// `Vec<Value>` as sorted compact JSON text.
pub fn sorted_values(items: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(Value::to_string).collect();
    v.sort();
    v
}

/// Asserts no element appears twice.
pub fn assert_unique(items: &[String], what: &str) {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        assert!(seen.insert(item), "{what}: {item} came twice");
    }
}

// ---- The simulator ----------------------------------------------------------------------

/// A 429 storm on the simulator: a noisy neighbour drains the shared budget (3 requests/s)
/// for 400 ms, so whatever a client sends then is answered 429 with `Retry-After: 1` (and
/// Jira's `X-RateLimit-Reset`), however well it paces itself; then a generous limit.
/// Returns once the budget is spent.
pub async fn start_storm(sim: &Arc<ocean_sim::Simulator>) -> tokio::task::JoinHandle<()> {
    let limited = sim.stats().rate_limited;
    sim.faults().set_rate_limit(Some(3.0));
    let storm = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let neighbour = ocean_core::reqwest::Client::new();
            let url = format!("{}/rest/api/3/myself", sim.jira_url());
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(400) {
                let _ = neighbour.get(&url).send().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sim.faults().set_rate_limit(Some(10_000.0));
        })
    };
    while sim.stats().rate_limited == limited {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    storm
}

// ---- The CLI ----------------------------------------------------------------------------

/// Runs a command to completion, killing it and failing the test if it runs longer than
/// `secs`; stdout and stderr are drained concurrently so a chatty child cannot block.
pub async fn run_bounded(mut cmd: std::process::Command, secs: u64) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts");
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = out.read_to_end(&mut b);
            b
        });
        let err = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = err.read_to_end(&mut b);
            b
        });
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hung: the command was still running after {secs} s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        std::process::Output {
            status,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    })
    .await
    .unwrap()
}
