//! The `ocean` binary against the simulator: full syncs item for item, failures,
//! rate limits, webhooks, and the output contract.

mod common;

use common::*;

#[tokio::test]
async fn jira_full_sync_yields_every_item_exactly_once() {
    let sim = sim(120).await;
    let out = run(jira_env(&mut ocean(), &sim).args(["sync", "jira"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    let data = sim.dataset();
    for kind in [
        "project",
        "issue",
        "user",
        "board",
        "sprint",
        "epic",
        "release",
        "component",
        "worklog",
    ] {
        let got = items_of(&lines, kind);
        let want = served(data.jira_raw(kind));
        assert_eq!(got.len(), want.len(), "{kind}: count");
        assert!(
            got == want,
            "{kind}: the synced bytes differ from the served ones"
        );
    }
    // Children carry their parent.
    assert!(
        lines
            .iter()
            .filter(|l| l.kind == "sprint")
            .all(|l| l.parent.as_ref().is_some_and(|(f, _)| f == "board_id"))
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.kind == "worklog")
            .all(|l| l.parent.as_ref().is_some_and(|(f, _)| f == "issue_key"))
    );
    // The summary goes to stderr, never stdout.
    assert!(text(&out.stderr).contains("total"));
}

#[tokio::test]
async fn octopus_full_sync_yields_every_item_exactly_once_tagged_by_space() {
    let sim = sim(150).await;
    let out = run(octopus_env(&mut ocean(), &sim).args(["sync", "octopus", "--max-items", "0"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    let data = sim.dataset();
    for kind in [
        "space",
        "project",
        "release",
        "deployment",
        "machine",
        "environment",
    ] {
        assert_eq!(
            items_of(&lines, kind),
            served(data.octopus_raw(kind)),
            "{kind}"
        );
    }
    for line in lines.iter().filter(|l| l.kind != "space") {
        let (field, space) = line.parent.as_ref().expect("space tag");
        assert_eq!(field, "space_id");
        assert!(
            line.item.contains(&format!("\"SpaceId\":\"{space}\"")),
            "{}",
            line.item
        );
    }
}

#[tokio::test]
async fn octopus_cap_is_exact_per_space() {
    let sim = sim(200).await;
    let out = run(octopus_env(&mut ocean(), &sim).args([
        "sync",
        "octopus",
        "--kind",
        "deployment",
        "--max-items",
        "7",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    for space in ["Spaces-1", "Spaces-2"] {
        let n = lines
            .iter()
            .filter(|l| l.parent.as_ref().is_some_and(|(_, s)| s == space))
            .count();
        assert_eq!(n, 7, "{space}");
    }
}

#[tokio::test]
async fn kinds_filter_and_output_file() {
    let sim = sim(60).await;
    let dir = std::env::temp_dir().join(format!("ocean-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("projects.ndjson");
    let out = run(jira_env(&mut ocean(), &sim)
        .args(["sync", "jira", "--kind", "project", "--kind", "user", "-o"])
        .arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "nothing on stdout with -o");
    let lines = ndjson(&std::fs::read(&file).unwrap());
    assert_eq!(
        items_of(&lines, "project").len(),
        sim.dataset().jira_len("project")
    );
    assert_eq!(
        items_of(&lines, "user").len(),
        sim.dataset().jira_len("user")
    );
    assert!(
        lines
            .iter()
            .all(|l| l.kind == "project" || l.kind == "user")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn wrong_credentials_fail_with_401_and_no_secret() {
    let sim = sim(20).await;
    let out = run(jira_env(&mut ocean(), &sim)
        .env("JIRA_TOKEN", "wrong-token-123")
        .args(["sync", "jira", "--kind", "project"]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("error:") && err.contains("401"), "{err}");
    assert!(err.contains("check Basic credentials"), "{err}");
    assert!(!err.contains("wrong-token-123"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run(octopus_env(&mut ocean(), &sim)
        .env("OCTOPUS_API_KEY", "API-WRONGKEY")
        .args(["sync", "octopus"]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("401") && !err.contains("API-WRONGKEY"),
        "{err}"
    );
}

#[tokio::test]
async fn a_rate_limited_run_still_completes() {
    let sim = ocean_sim::Simulator::start(ocean_sim::SimConfig {
        items: 100,
        rate_limit: Some(40.0),
        ..Default::default()
    })
    .await
    .unwrap();
    sim.faults().set_fractional_retry_after(true);
    let started = std::time::Instant::now();
    let out = run(jira_env(&mut ocean(), &sim).args([
        "sync",
        "jira",
        "--kind",
        "issue",
        "--kind",
        "worklog",
        "--max-retries",
        "20",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    assert_eq!(
        items_of(&lines, "issue").len(),
        sim.dataset().jira_len("issue")
    );
    assert_eq!(
        items_of(&lines, "worklog").len(),
        sim.dataset().jira_len("worklog")
    );
    // The run asked for far more than the burst of 40, so the limit governed it: the
    // client paced itself on the rate-limit headers, or was answered 429 and retried.
    let elapsed = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    let answered = (stats.requests - stats.rate_limited) as f64;
    assert!(
        answered > 80.0,
        "only {answered} requests: the limit never mattered"
    );
    assert!(
        elapsed >= (answered - 40.0) / 40.0 * 0.8,
        "{answered} requests in {elapsed:.2}s beat the limit of 40/s"
    );
}

#[tokio::test]
async fn webhooks_are_created_once() {
    let sim = sim(20).await;
    let host = "https://ocean.example.com";
    let first = run(jira_env(&mut ocean(), &sim).args(["webhooks", "jira", "--app-host", host]));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("created"),
        "{}",
        text(&first.stdout)
    );
    let second = run(jira_env(&mut ocean(), &sim).args(["webhooks", "jira", "--app-host", host]));
    assert!(
        text(&second.stdout).contains("already exists"),
        "{}",
        text(&second.stdout)
    );

    let first =
        run(octopus_env(&mut ocean(), &sim).args(["webhooks", "octopus", "--app-host", host]));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout).matches("created").count(),
        2,
        "{}",
        text(&first.stdout)
    );
    let second =
        run(octopus_env(&mut ocean(), &sim).args(["webhooks", "octopus", "--app-host", host]));
    assert_eq!(
        text(&second.stdout).matches("already exists").count(),
        2,
        "{}",
        text(&second.stdout)
    );
}

#[tokio::test]
async fn webhooks_without_admin_rights_say_so() {
    let sim = sim(20).await;
    sim.faults().set_jira_admin(false);
    let out = run(jira_env(&mut ocean(), &sim).args([
        "webhooks",
        "jira",
        "--app-host",
        "https://x.example.com",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no permission"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn missing_credentials_are_a_usage_error_naming_the_variable() {
    let out = run(ocean().args(["sync", "jira"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("JIRA_URL"),
        "{}",
        text(&out.stderr)
    );
    let out = run(ocean().args(["sync", "octopus", "--url", "http://127.0.0.1:9"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("OCTOPUS_API_KEY"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unknown_kinds_list_the_valid_ones() {
    let out = run(ocean().args(["sync", "jira", "--kind", "ticket"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("ticket") && err.contains("worklog") && err.contains("component"),
        "{err}"
    );
    let out = run(ocean().args(["sync", "octopus", "--kind", "runbook"]));
    assert!(
        text(&out.stderr).contains("deployment"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn verbose_flags_work_before_and_after_the_subcommand() {
    for args in [
        &["-vv", "sync", "jira", "--help"][..],
        &["sync", "jira", "--help", "-v"],
    ] {
        let out = run(ocean().args(args));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}
