//! `--config ocean.toml` through the `ocean` binary: settings, `${VAR}` secrets, per-kind
//! selector blocks, flags winning, and errors naming file, line and key.

mod common;

use common::*;

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ocean-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ocean.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn keys_of(lines: &[Line], kind: &str) -> std::collections::BTreeSet<String> {
    lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.item).unwrap();
            v["key"]
                .as_str()
                .map_or_else(|| v["id"].to_string(), str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn settings_secrets_and_selector_blocks_come_from_the_file() {
    let sim = sim(100).await;
    let config = write_config(
        "blocks",
        &format!(
            r#"# Secrets come from the environment.
[jira]
url = "{}"
email = "{}"
token = "${{OCEAN_TEST_JIRA_TOKEN}}"
deployment = "cloud"

[tuning]
max_concurrency = 4

[[jira.issue]]
jql = "project = PROJ1"

[[jira.issue]]
jql = "project = PROJ2"
fields = ["key", "summary"]

[[jira.sprint]]
state = "active"
"#,
            sim.jira_url(),
            ocean_sim::JIRA_EMAIL
        ),
    );
    let out = run(ocean()
        .args(["sync", "jira", "--config"])
        .arg(&config)
        .env("OCEAN_TEST_JIRA_TOKEN", ocean_sim::JIRA_TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    let kinds: std::collections::BTreeSet<&str> = lines.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(kinds, ["issue", "sprint"].into_iter().collect());

    let issues = sim.dataset().jira("issue");
    let of = |project: &str| -> std::collections::BTreeSet<String> {
        issues
            .iter()
            .filter(|i| i["fields"]["project"]["key"] == project)
            .map(|i| i["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut want = of("PROJ1");
    want.extend(of("PROJ2"));
    assert_eq!(keys_of(&lines, "issue"), want);
    let sprints: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.kind == "sprint")
        .map(|l| serde_json::from_str(&l.item).unwrap())
        .collect();
    assert!(!sprints.is_empty());
    assert!(sprints.iter().all(|s| s["state"] == "active"));

    // A flag wins over the file: --jql replaces both blocks' JQL, --kind picks the kinds.
    let out = run(ocean()
        .args([
            "sync",
            "jira",
            "--kind",
            "issue",
            "--jql",
            "project = PROJ2",
            "--config",
        ])
        .arg(&config)
        .env("OCEAN_TEST_JIRA_TOKEN", ocean_sim::JIRA_TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    assert_eq!(keys_of(&lines, "issue"), of("PROJ2"));
    assert!(lines.iter().all(|l| l.kind == "issue"));
}

#[test]
fn an_unknown_key_is_a_usage_error_naming_file_line_and_key() {
    let config = write_config(
        "unknown",
        "[jira]\nurl = \"http://127.0.0.1:9\"\ntokn = \"x\"\n",
    );
    let out = run(ocean().args(["sync", "jira", "--config"]).arg(&config));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}:3: `tokn`", config.display())),
        "{err}"
    );
}

#[test]
fn a_wrong_type_and_an_unset_variable_name_their_line_and_key_but_no_secret() {
    let config = write_config("types", "[tuning]\nmax_retries = \"three\"\n");
    let out = run(ocean().args(["sync", "octopus", "--config"]).arg(&config));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}:2: `max_retries`", config.display())),
        "{err}"
    );

    let config = write_config(
        "unset",
        "[octopus]\nurl = \"http://127.0.0.1:9\"\n\napi_key = \"${OCEAN_TEST_UNSET_KEY}\"\n",
    );
    let out = run(ocean().args(["sync", "octopus", "--config"]).arg(&config));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(":4: `api_key`"), "{err}");
    assert!(err.contains("OCEAN_TEST_UNSET_KEY"), "{err}");
}
