//! Running the real `ocean` binary against the simulator.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Output};

use ocean_sim::{SimConfig, Simulator};
use serde_json::value::RawValue;

/// The `ocean` binary with a clean environment: no credentials leak in from the host.
pub fn ocean() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ocean"));
    for var in [
        "JIRA_URL",
        "JIRA_EMAIL",
        "JIRA_TOKEN",
        "JIRA_PAT",
        "JIRA_OAUTH_CLIENT_ID",
        "JIRA_OAUTH_CLIENT_SECRET",
        "JIRA_OAUTH_REFRESH_TOKEN",
        "JIRA_OAUTH_TOKEN_FILE",
        "JIRA_OAUTH_TOKEN_URL",
        "JIRA_OAUTH_API_URL",
        "JIRA_CLOUD_ID",
        "JIRA_DEPLOYMENT",
        "JIRA_ORG_ID",
        "OCEAN_CONFIG",
        "OCTOPUS_URL",
        "OCTOPUS_API_KEY",
        "RUST_LOG",
        "OCEAN_WEBHOOK_SECRET",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn jira_env<'a>(cmd: &'a mut Command, sim: &Simulator) -> &'a mut Command {
    cmd.env("JIRA_URL", sim.jira_url())
        .env("JIRA_EMAIL", ocean_sim::JIRA_EMAIL)
        .env("JIRA_TOKEN", ocean_sim::JIRA_TOKEN)
}

pub fn octopus_env<'a>(cmd: &'a mut Command, sim: &Simulator) -> &'a mut Command {
    cmd.env("OCTOPUS_URL", sim.octopus_url())
        .env("OCTOPUS_API_KEY", ocean_sim::OCTOPUS_API_KEY)
}

pub async fn sim(items: usize) -> Simulator {
    Simulator::start(SimConfig {
        items,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("ocean runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One parsed NDJSON line: the kind, the parent tag if any, and the item's exact bytes.
#[derive(Debug)]
pub struct Line {
    pub kind: String,
    pub parent: Option<(String, String)>,
    pub item: String,
}

/// Parses stdout line by line; every line must be a JSON object with `kind` and `item`.
pub fn ndjson(stdout: &[u8]) -> Vec<Line> {
    let text = std::str::from_utf8(stdout).expect("stdout is UTF-8");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output ends in a half line"
    );
    text.lines()
        .map(|line| {
            let fields: BTreeMap<String, Box<RawValue>> =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            let kind: String = serde_json::from_str(fields["kind"].get()).unwrap();
            let parent = fields
                .iter()
                .find(|(k, _)| k.ends_with("_id") || k.ends_with("_key"))
                .map(|(k, v)| (k.clone(), serde_json::from_str::<String>(v.get()).unwrap()));
            Line {
                kind,
                parent,
                item: fields["item"].get().to_owned(),
            }
        })
        .collect()
}

/// The items of one kind, sorted, as exact JSON text.
pub fn items_of(lines: &[Line], kind: &str) -> Vec<String> {
    let mut items: Vec<String> = lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| l.item.clone())
        .collect();
    items.sort();
    items
}

/// The simulator's served bytes for a kind, sorted.
pub fn served(raw: Vec<bytes::Bytes>) -> Vec<String> {
    let mut items: Vec<String> = raw
        .iter()
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .collect();
    items.sort();
    items
}
