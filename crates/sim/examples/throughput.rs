//! Measures page-serving throughput on loopback: full `search/jql` syncs and Octopus
//! deployment pages, from several concurrent clients.
//!
//! `cargo run --release -p ocean-sim --example throughput -- [items] [clients]`

use std::time::Instant;

use base64::Engine as _;
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY, SimConfig, Simulator};

/// Pulls the next-page token out of the body's tail without parsing the issues.
fn next_token(body: &[u8]) -> Option<String> {
    let tail = &body[body.len().saturating_sub(512)..];
    let text = String::from_utf8_lossy(tail);
    let start = text.rfind("\"nextPageToken\":\"")? + "\"nextPageToken\":\"".len();
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_owned())
}

async fn jira_sync(client: reqwest::Client, url: String, auth: String) -> (u64, u64) {
    let (mut bytes, mut pages) = (0u64, 0u64);
    let mut token: Option<String> = None;
    loop {
        let body = match &token {
            None => {
                r#"{"jql":"project is not EMPTY","maxResults":50,"fields":["*all"]}"#.to_owned()
            }
            Some(t) => format!(
                r#"{{"jql":"project is not EMPTY","maxResults":50,"fields":["*all"],"nextPageToken":"{t}"}}"#
            ),
        };
        let resp = client
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_success(), "{}", resp.status());
        let body = resp.bytes().await.expect("body");
        bytes += body.len() as u64;
        pages += 1;
        token = next_token(&body);
        if token.is_none() {
            return (bytes, pages);
        }
    }
}

async fn octopus_sync(client: reqwest::Client, base: String, take: usize) -> (u64, u64) {
    let (mut bytes, mut pages) = (0u64, 0u64);
    for space in ["Spaces-1", "Spaces-2"] {
        let mut skip = 0;
        loop {
            let url = format!("{base}/api/{space}/deployments?skip={skip}&take={take}");
            let resp = client
                .get(&url)
                .header("x-octopus-apikey", OCTOPUS_API_KEY)
                .send()
                .await
                .expect("request");
            let body = resp.bytes().await.expect("body");
            bytes += body.len() as u64;
            pages += 1;
            if !String::from_utf8_lossy(&body[body.len().saturating_sub(400)..])
                .contains("Page.Next")
            {
                break;
            }
            skip += take;
        }
    }
    (bytes, pages)
}

fn report(what: &str, bytes: u64, pages: u64, secs: f64) {
    println!(
        "{what}: {pages} pages, {:.1} MB in {secs:.2} s = {:.0} MB/s, {:.0} pages/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        pages as f64 / secs
    );
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let items: usize = args.next().map_or(100_000, |a| a.parse().expect("items"));
    let clients: usize = args.next().map_or(4, |a| a.parse().expect("clients"));

    let t = Instant::now();
    let sim = Simulator::start(SimConfig {
        items,
        ..Default::default()
    })
    .await?;
    println!("generated {items} items in {:.2?}", t.elapsed());
    let raw = sim.dataset().jira_raw("issue");
    let avg = raw.iter().map(|b| b.len()).sum::<usize>() / raw.len().max(1);
    println!("average issue: {avg} bytes");

    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{JIRA_EMAIL}:{JIRA_TOKEN}"))
    );
    let url = format!("{}/rest/api/3/search/jql", sim.jira_url());

    let t = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(jira_sync(client.clone(), url.clone(), auth.clone())))
        .collect();
    let (mut bytes, mut pages) = (0, 0);
    for task in tasks {
        let (b, p) = task.await.expect("task");
        bytes += b;
        pages += p;
    }
    report(
        &format!("jira search/jql x{clients}"),
        bytes,
        pages,
        t.elapsed().as_secs_f64(),
    );

    let t = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(octopus_sync(client.clone(), sim.octopus_url(), 50)))
        .collect();
    let (mut bytes, mut pages) = (0, 0);
    for task in tasks {
        let (b, p) = task.await.expect("task");
        bytes += b;
        pages += p;
    }
    report(
        &format!("octopus deployments take=50 x{clients}"),
        bytes,
        pages,
        t.elapsed().as_secs_f64(),
    );
    println!("{:?}", sim.stats().requests);
    sim.shutdown().await;
    Ok(())
}
