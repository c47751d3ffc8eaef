//! Real deployments through the `ocean` binary: how credentials are asked for, Data Center
//! personal access tokens, OAuth 2.0 with rotating refresh tokens.

mod common;

use common::*;

#[test]
fn missing_jira_credentials_are_all_named_in_one_message() {
    let out = run(ocean().args(["sync", "jira"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for name in [
        "--url",
        "JIRA_URL",
        "--email",
        "JIRA_EMAIL",
        "--token",
        "JIRA_TOKEN",
        "--pat",
        "JIRA_PAT",
    ] {
        assert!(err.contains(name), "`{name}` not named in: {err}");
    }
    assert_eq!(err.matches("error:").count(), 1, "one message: {err}");
}

#[test]
fn only_the_missing_ones_are_named() {
    let out = run(ocean()
        .args(["sync", "jira", "--url", "http://127.0.0.1:9"])
        .env("JIRA_EMAIL", "me@example.com"));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("JIRA_TOKEN"), "{err}");
    assert!(!err.contains("JIRA_URL"), "{err}");
    assert!(!err.contains("JIRA_EMAIL"), "{err}");
}

#[test]
fn missing_octopus_credentials_are_all_named_in_one_message() {
    let out = run(ocean().args(["sync", "octopus"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    for name in ["--url", "OCTOPUS_URL", "--api-key", "OCTOPUS_API_KEY"] {
        assert!(err.contains(name), "`{name}` not named in: {err}");
    }
}

#[tokio::test]
async fn a_personal_access_token_is_sent_as_bearer() {
    let sim = sim(30).await;
    let out = run(ocean()
        .args(["sync", "jira", "--kind", "project"])
        .env("JIRA_URL", sim.jira_url())
        .env("JIRA_PAT", ocean_sim::JIRA_TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    assert_eq!(
        items_of(&lines, "project").len(),
        sim.dataset().jira_len("project")
    );
}

/// `ocean` with the simulator's OAuth app and a token file.
fn oauth_env<'a>(
    cmd: &'a mut std::process::Command,
    sim: &ocean_sim::Simulator,
    file: &std::path::Path,
) -> &'a mut std::process::Command {
    cmd.env("JIRA_OAUTH_CLIENT_ID", ocean_sim::OAUTH_CLIENT_ID)
        .env("JIRA_OAUTH_CLIENT_SECRET", ocean_sim::OAUTH_CLIENT_SECRET)
        .env("JIRA_OAUTH_TOKEN_FILE", file)
        .env("JIRA_OAUTH_TOKEN_URL", sim.oauth_token_url())
        .env("JIRA_OAUTH_API_URL", sim.oauth_api_url())
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ocean-auth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test]
async fn oauth_sync_seeds_the_token_file_keeps_it_rotated_and_prints_no_secret() {
    let sim = sim(60).await;
    let dir = temp_dir("seed");
    let file = dir.join("jira.token");
    let out = run(oauth_env(&mut ocean(), &sim, &file)
        .args(["sync", "jira", "--kind", "project", "--kind", "issue"])
        .env("JIRA_OAUTH_REFRESH_TOKEN", ocean_sim::OAUTH_REFRESH_TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);
    assert_eq!(
        items_of(&lines, "issue").len(),
        sim.dataset().jira_len("issue")
    );
    assert_eq!(read(&file), format!("{}\n", sim.oauth().refresh_token()));

    // The next run needs only the file; the stale seed in the environment is ignored.
    let again = run(oauth_env(&mut ocean(), &sim, &file)
        .args(["sync", "jira", "--kind", "project"])
        .env("JIRA_OAUTH_REFRESH_TOKEN", ocean_sim::OAUTH_REFRESH_TOKEN));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(sim.oauth().reused_refresh_tokens(), 0);
    assert_eq!(sim.oauth().refreshes(), 2);

    // A stale seed in a fresh file is the lock-out the token file prevents: said plainly.
    let stale = run(oauth_env(&mut ocean(), &sim, &dir.join("other.token"))
        .args(["sync", "jira", "--kind", "project"])
        .env("JIRA_OAUTH_REFRESH_TOKEN", ocean_sim::OAUTH_REFRESH_TOKEN));
    assert!(!stale.status.success());
    let err = text(&stale.stderr);
    assert!(
        err.contains("invalid_grant") && err.contains("authorize the app again"),
        "{err}"
    );
    assert!(!err.contains(ocean_sim::OAUTH_REFRESH_TOKEN), "{err}");
    assert!(!err.contains(ocean_sim::OAUTH_CLIENT_SECRET), "{err}");

    let all = format!(
        "{}{}{}",
        text(&out.stderr),
        text(&again.stderr),
        text(&again.stdout)
    );
    for secret in [
        ocean_sim::OAUTH_CLIENT_SECRET,
        ocean_sim::OAUTH_REFRESH_TOKEN,
        "sim-refresh-",
        "sim-access-",
    ] {
        assert!(!all.contains(secret), "`{secret}` printed");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_empty_token_file_without_a_seed_is_an_error_naming_the_file() {
    let sim = sim(10).await;
    let dir = temp_dir("empty");
    let file = dir.join("jira.token");
    let out = run(oauth_env(&mut ocean(), &sim, &file).args(["sync", "jira"]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("jira.token"), "{err}");
    assert!(err.contains("--oauth-refresh-token"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn oauth_without_a_client_secret_names_what_is_missing() {
    let out = run(ocean()
        .args(["sync", "jira"])
        .env("JIRA_OAUTH_CLIENT_ID", "app"));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("JIRA_OAUTH_CLIENT_SECRET"), "{err}");
    assert!(err.contains("JIRA_OAUTH_TOKEN_FILE"), "{err}");
    assert!(!err.contains("JIRA_EMAIL"), "{err}");
}

#[tokio::test]
async fn the_token_file_survives_a_sigkill_right_after_each_refresh() {
    let sim = ocean_sim::Simulator::start(ocean_sim::SimConfig {
        items: 300,
        // Slow enough for a sync of several seconds: refreshes happen mid-sync.
        latency: std::time::Duration::from_millis(100),
        ..ocean_sim::SimConfig::default()
    })
    .await
    .unwrap();
    sim.oauth()
        .set_access_token_lifetime(std::time::Duration::from_secs(1));
    let dir = temp_dir("sigkill");
    let file = dir.join("jira.token");
    std::fs::write(&file, format!("{}\n", ocean_sim::OAUTH_REFRESH_TOKEN)).unwrap();
    // Round 0 kills right after the start-up refresh, rounds 1 and 2 right after the first
    // and second refresh in the middle of the sync (every 750 ms of one-second tokens).
    for round in 0..3 {
        let mut seen = read(&file);
        let mut child = oauth_env(&mut ocean(), &sim, &file)
            .args(["sync", "jira", "--kind", "issue", "--kind", "worklog", "-o"])
            .arg(dir.join("out.ndjson"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill the moment the file changes for the (round + 1)-th time: a refresh has just
        // been stored.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        for _ in 0..=round {
            while read(&file) == seen {
                assert!(
                    std::time::Instant::now() < deadline,
                    "round {round}: no refresh"
                );
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "round {round}: the sync ended before its refresh"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            seen = read(&file);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let after = read(&file);
        assert_eq!(
            after,
            format!("{}\n", sim.oauth().refresh_token()),
            "round {round}: the file must hold the live refresh token, whole"
        );
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("jira.token"))
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n == "jira.token" || n.ends_with(".tmp")),
            "{names:?}"
        );
    }
    // Not locked out: a full run from the file still works.
    let out = run(oauth_env(&mut ocean(), &sim, &file).args(["sync", "jira", "--kind", "project"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(sim.oauth().reused_refresh_tokens(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The deployment the `-v` log says was detected (the log may be coloured).
fn detected(stderr: &[u8]) -> String {
    let log = text(stderr);
    let line = log
        .lines()
        .find(|l| l.contains("detected the Jira deployment"))
        .unwrap_or_else(|| panic!("no detection logged: {log}"));
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// `(kind, id, parent)` of every line; users are identified by `accountId` on Cloud and by
/// `key` on Data Center.
fn identities(
    lines: &[Line],
    kind: &str,
) -> std::collections::BTreeSet<(String, String, Option<String>)> {
    lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| {
            let item: serde_json::Value = serde_json::from_str(&l.item).unwrap();
            let id = ["id", "accountId", "key"]
                .iter()
                .find_map(|f| match &item[*f] {
                    serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{} without an id: {}", l.kind, l.item));
            (
                l.kind.clone(),
                id,
                l.parent.as_ref().map(|(_, p)| p.clone()),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_data_center_sync_of_every_kind_matches_the_cloud_sync_by_id() {
    let sim = sim(80).await;
    let cloud = run(jira_env(&mut ocean(), &sim).args(["sync", "jira", "-v"]));
    assert!(cloud.status.success(), "{}", text(&cloud.stderr));
    assert_eq!(detected(&cloud.stderr), "cloud");

    let dc = run(ocean()
        .args(["sync", "jira", "-v"])
        .env("JIRA_URL", sim.jira_dc_url())
        .env("JIRA_PAT", ocean_sim::JIRA_TOKEN));
    assert!(dc.status.success(), "{}", text(&dc.stderr));
    assert_eq!(detected(&dc.stderr), "dc");

    let (cloud, dc) = (ndjson(&cloud.stdout), ndjson(&dc.stdout));
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
        let (c, d) = (identities(&cloud, kind), identities(&dc, kind));
        assert!(!c.is_empty(), "{kind}: nothing synced");
        assert_eq!(c, d, "{kind}: Data Center differs from Cloud");
    }
    // Data Center users carry `key` and `name`, never an accountId.
    assert!(
        dc.iter()
            .filter(|l| l.kind == "user")
            .all(|l| l.item.contains("\"key\"") && !l.item.contains("accountId"))
    );
    assert_eq!(cloud.len(), dc.len());
}

#[tokio::test]
async fn data_center_basic_auth_and_a_forced_deployment_work() {
    let sim = sim(30).await;
    let out = run(ocean()
        .args(["sync", "jira", "--kind", "issue", "--deployment", "dc"])
        .env("JIRA_URL", sim.jira_dc_url())
        .env("JIRA_EMAIL", ocean_sim::JIRA_EMAIL)
        .env("JIRA_TOKEN", ocean_sim::JIRA_TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(items_of(&ndjson(&out.stdout), "issue").len(), 30);
    // The v2 search was used; Cloud's v3 one was never asked.
    let routes = sim.stats().per_route;
    assert!(
        routes.keys().any(|r| r.contains("/rest/api/2/search")),
        "{routes:?}"
    );
    assert!(
        !routes.keys().any(|r| r.contains("/search/jql")),
        "{routes:?}"
    );
}

#[tokio::test]
async fn teams_with_members_and_backlogs_tagged_by_board() {
    let sim = sim(120).await;
    let out = run(jira_env(&mut ocean(), &sim).args([
        "sync",
        "jira",
        "--kind",
        "team",
        "--kind",
        "backlog",
        "--org-id",
        ocean_sim::ORG_ID,
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out.stdout);

    let mut got: Vec<serde_json::Value> = items_of(&lines, "team")
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    let mut want = sim.jira_teams();
    let by_id = |v: &serde_json::Value| v["teamId"].as_str().unwrap().to_owned();
    got.sort_by_key(by_id);
    want.sort_by_key(by_id);
    assert!(!want.is_empty());
    assert_eq!(got, want, "teams, members included as __members");

    // Backlogs: every issue of each scrum board's project once, tagged with the board; the
    // kanban board has none and is skipped.
    let boards = sim.dataset().jira("board");
    let issues = sim.dataset().jira("issue");
    for board in &boards {
        let id = board["id"].to_string();
        let on_board: Vec<&Line> = lines
            .iter()
            .filter(|l| l.kind == "backlog" && l.parent.as_ref().is_some_and(|(_, b)| *b == id))
            .collect();
        if board["type"] != "scrum" {
            assert!(on_board.is_empty(), "board {id}");
            continue;
        }
        let project = board["location"]["projectKey"].as_str().unwrap();
        let want: std::collections::BTreeSet<String> = issues
            .iter()
            .filter(|i| i["fields"]["project"]["key"] == project)
            .map(|i| i["key"].as_str().unwrap().to_owned())
            .collect();
        let got: std::collections::BTreeSet<String> = on_board
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(&l.item).unwrap()["key"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(!want.is_empty(), "board {id}: the test needs a backlog");
        assert_eq!(got.len(), on_board.len(), "board {id}: an issue came twice");
        assert_eq!(got, want, "board {id}");
    }

    // Without an organisation id, the team kind yields nothing and the sync succeeds.
    let out = run(jira_env(&mut ocean(), &sim).args(["sync", "jira", "--kind", "team"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}
