//! Measures what a sync engine's two-phase and incremental runs cost the simulator at scale:
//! generation time and memory, an id-only census, bulk fetches, a 1% bulk edit and the
//! incremental census after it.
//!
//! `cargo run --release -p ocean-sim --example scale -- [items] [concurrency] [lazy]`
//! (`lazy` renders issues and worklogs on demand: [`SimConfig::lazy`]).

use std::time::Instant;

use base64::Engine as _;
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, Mutation, SimConfig, Simulator};
use serde_json::{Value, json};

/// The default JQL of Ocean's Jira integration.
const DEFAULT_JQL: &str = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)";

/// `VmRSS` and `VmHWM` of this process, in MB (0 where /proc is unavailable).
fn memory_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Jira {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl Jira {
    async fn post(&self, path: &str, body: &Value) -> Value {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("authorization", &self.auth)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).expect("serializes"))
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        serde_json::from_slice(&resp.bytes().await.expect("body")).expect("JSON")
    }

    /// Walks an id-only census of `jql`; the ids and the pages.
    async fn census(&self, jql: &str) -> (Vec<String>, usize) {
        let (mut ids, mut pages) = (Vec::new(), 0);
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"jql": jql, "fields": ["id"], "maxResults": 5000});
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let page = self.post("/rest/api/3/search/jql", &body).await;
            pages += 1;
            ids.extend(
                page["issues"]
                    .as_array()
                    .expect("issues")
                    .iter()
                    .map(|i| i["id"].as_str().expect("id").to_owned()),
            );
            match page["nextPageToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => return (ids, pages),
            }
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let items: usize = args.next().map_or(100_000, |a| a.parse().expect("items"));
    let concurrency: usize = args.next().map_or(10, |a| a.parse().expect("concurrency"));
    let lazy = args.next().is_some_and(|a| a == "lazy");

    let t = Instant::now();
    let sim = Simulator::start(SimConfig::new(items).with_lazy(lazy)).await?;
    let (rss, peak) = memory_mb();
    println!(
        "start {items} items (lazy: {lazy}): {:.2?}, RSS {rss} MB (peak {peak} MB)",
        t.elapsed()
    );
    let jira = std::sync::Arc::new(Jira {
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        base: sim.jira_url(),
        auth: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{JIRA_EMAIL}:{JIRA_TOKEN}"))
        ),
    });

    let t = Instant::now();
    let (ids, pages) = jira.census(DEFAULT_JQL).await;
    println!(
        "census (ids, 5000/page): {} ids in {pages} pages, {:.2?}",
        ids.len(),
        t.elapsed()
    );

    let t = Instant::now();
    let chunks: Vec<Vec<String>> = ids.chunks(100).map(<[String]>::to_vec).collect();
    let chunks = std::sync::Arc::new(tokio::sync::Mutex::new(chunks.into_iter()));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (jira, chunks) = (jira.clone(), chunks.clone());
            tokio::spawn(async move {
                let mut n = 0;
                loop {
                    let Some(chunk) = chunks.lock().await.next() else {
                        return n;
                    };
                    let page = jira
                        .post(
                            "/rest/api/3/issue/bulkfetch",
                            &json!({"issueIdsOrKeys": chunk, "fields": ["*all"]}),
                        )
                        .await;
                    n += page["issues"].as_array().expect("issues").len();
                }
            })
        })
        .collect();
    let mut fetched = 0;
    for w in workers {
        fetched += w.await.expect("worker");
    }
    println!(
        "bulkfetch x{concurrency}: {fetched} issues in {:.2?}",
        t.elapsed()
    );

    let t = Instant::now();
    let out = sim
        .mutate(Mutation::JiraIssueBulkUpdate { percent: 1.0 })
        .await
        .expect("bulk edit");
    println!(
        "bulk edit 1%: {} issues in {:.2?}",
        out.ids.len(),
        t.elapsed()
    );

    let t = Instant::now();
    let (changed, pages) = jira
        .census(&format!("({DEFAULT_JQL}) AND updated >= -10m"))
        .await;
    println!(
        "incremental census: {} ids in {pages} pages, {:.2?}",
        changed.len(),
        t.elapsed()
    );
    let (rss, peak) = memory_mb();
    println!("end: RSS {rss} MB (peak {peak} MB)");
    sim.shutdown().await;
    Ok(())
}
