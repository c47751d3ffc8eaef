//! A catalog that stays true (issue 12), with the real `ocean` binary against the
//! simulator, on SQLite and on PostgreSQL: `sync --store` first and incremental runs,
//! deletions and their threshold, failure isolation, kill-and-resume, two writers, the
//! change feed, `catalog export|stats`, `listen --store` (between runs and during one),
//! `ocean demo`, tenants side by side, and bad stores.
//!
//! The oracle is the plain `ocean sync` of the same kinds (NDJSON, no store): a catalog
//! must hold exactly its lines, and a `--changes` run must print exactly the difference
//! between the catalog before and the source after.

mod common;
#[macro_use]
mod backend;
mod listener;

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use backend::Backend;
use common::*;
use futures::TryStreamExt;
use ocean_sim::{Mutation, SimConfig, Simulator};
use serde_json::Value;

/// Every wait is bounded, so a broken run fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(20);
const SECRET: &str = "catalog-e2e-secret";

/// Lines keyed by (kind, id): `{"kind":K,["<parent>":P,]"item":{…}}` as sync prints them.
type Lines = BTreeMap<(String, String), String>;
/// Changes keyed by (kind, id): the upserted item's sync line, or `None` for a delete.
type Changes = BTreeMap<(String, String), Option<String>>;

/// The provider's credentials for the simulator.
/// `provider` is `jira`, `octopus`, or `jira-dc` (the simulated Data Center, with a PAT).
fn creds<'a>(cmd: &'a mut Command, sim: &Simulator, provider: &str) -> &'a mut Command {
    match provider {
        "jira" => jira_env(cmd, sim),
        "jira-dc" => cmd
            .env("JIRA_URL", sim.jira_dc_url())
            .env("JIRA_PAT", ocean_sim::JIRA_TOKEN),
        _ => octopus_env(cmd, sim),
    }
}

/// The `ocean sync` subcommand of a provider of [`creds`].
fn command(provider: &str) -> &str {
    provider.trim_end_matches("-dc")
}

/// `ocean sync PROVIDER --store SPEC ARGS…`.
fn store_sync(sim: &Simulator, provider: &str, spec: &str, args: &[&str]) -> Output {
    run(creds(&mut ocean(), sim, provider)
        .args(["sync", command(provider), "--store", spec])
        .args(args))
}

/// Its stderr, after checking it succeeded.
fn ok(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {err}", out.status.code());
    err
}

/// The plain `ocean sync PROVIDER ARGS…` (no store): what the source holds now.
fn source(sim: &Simulator, provider: &str, args: &[&str]) -> Lines {
    let out = run(creds(&mut ocean(), sim, provider)
        .args(["sync", command(provider)])
        .args(args));
    ok(&out);
    keyed(provider, &out.stdout)
}

/// `ocean catalog export --store SPEC ARGS…`.
fn export(spec: &str, provider: &str, args: &[&str]) -> Lines {
    let out = run(ocean()
        .args(["catalog", "export", "--store", spec, "--provider", provider])
        .args(args));
    ok(&out);
    keyed(provider, &out.stdout)
}

/// The item field naming an item of `kind` (what the catalog keys it by).
fn id_field(provider: &str, kind: &str) -> &'static str {
    match (provider, kind) {
        ("octopus", _) => "Id",
        (_, "issue" | "project") => "key",
        (_, "user") => "accountId",
        (_, "team") => "teamId",
        _ => "id",
    }
}

fn id_of(provider: &str, kind: &str, item: &Value) -> String {
    match &item[id_field(provider, kind)] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("{kind} item without an id: {other}"),
    }
}

/// NDJSON sync or export lines by (kind, id); an item twice fails the test.
fn keyed(provider: &str, stdout: &[u8]) -> Lines {
    let mut lines = Lines::new();
    for line in text(stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let kind = v["kind"].as_str().expect("kind").to_owned();
        let id = id_of(provider, &kind, &v["item"]);
        if let Some(first) = lines.insert((kind.clone(), id.clone()), line.to_owned()) {
            panic!("{kind} {id} twice:\n{first}\n{line}");
        }
    }
    lines
}

/// The items of one kind.
fn of_kind(lines: &Lines, kind: &str) -> Lines {
    lines
        .iter()
        .filter(|((k, _), _)| k == kind)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What a `--changes` run must print: upserts (the line as sync prints it) for items new
/// or different in `after`, deletes (`None`) for items gone from it.
fn diff(before: &Lines, after: &Lines) -> Changes {
    let mut changes = BTreeMap::new();
    for (key, line) in after {
        if before.get(key) != Some(line) {
            changes.insert(key.clone(), Some(line.clone()));
        }
    }
    for key in before.keys() {
        if !after.contains_key(key) {
            changes.insert(key.clone(), None);
        }
    }
    changes
}

/// `got == want`, or a failure naming the items that differ (not the whole catalogs).
#[track_caller]
fn assert_same(got: &Lines, want: &Lines, what: &str) {
    if got != want {
        let differ: Vec<_> = diff(want, got)
            .into_iter()
            .map(|(k, c)| (k, c.is_some()))
            .collect();
        panic!(
            "{what}: {} items differ ((kind, id), whether the first holds it): {differ:?}",
            differ.len()
        );
    }
}

/// Two change feeds are equal, or a failure naming the changes that differ.
#[track_caller]
fn assert_changes(got: &Changes, want: &Changes, what: &str) {
    if got != want {
        let keys: std::collections::BTreeSet<_> = got.keys().chain(want.keys()).collect();
        let differ: Vec<_> = keys
            .into_iter()
            .filter(|k| got.get(*k) != want.get(*k))
            .map(|k| {
                (
                    k,
                    got.get(k).map(Option::is_some),
                    want.get(k).map(Option::is_some),
                )
            })
            .collect();
        panic!("{what}: (change, got upsert?, wanted upsert?) differ: {differ:?}");
    }
}

/// The change feed of a run, checked line by line for its exact shape:
/// `{"kind":K,"action":"delete","id":ID}` or `{"kind":K,"action":"upsert","id":ID,…}`
/// whose rest is the sync line of the item. Upserts map to that sync line.
fn feed(provider: &str, stdout: &[u8]) -> Changes {
    let mut changes = BTreeMap::new();
    for line in text(stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let (kind, id) = (
            v["kind"].as_str().expect("kind").to_owned(),
            v["id"].as_str().expect("id is a string").to_owned(),
        );
        let head = format!(
            "{{\"kind\":{},\"action\":{},\"id\":{}",
            Value::from(kind.as_str()),
            v["action"],
            Value::from(id.as_str())
        );
        assert!(line.starts_with(&head), "fields out of order: {line}");
        let change = match v["action"].as_str() {
            Some("delete") => {
                assert_eq!(line, format!("{head}}}"), "a delete carries no more");
                None
            }
            Some("upsert") => {
                assert_eq!(id_of(provider, &kind, &v["item"]), id, "{line}");
                let rest = line[head.len()..]
                    .strip_prefix(',')
                    .expect("more after the id");
                Some(format!("{{\"kind\":{},{rest}", Value::from(kind.as_str())))
            }
            other => panic!("action {other:?}: {line}"),
        };
        assert!(
            changes.insert((kind, id), change).is_none(),
            "a change printed twice: {line}"
        );
    }
    changes
}

/// One row of a run's summary table.
#[derive(Debug, PartialEq)]
struct Row {
    mode: String,
    created: u64,
    updated: u64,
    deleted: u64,
    unchanged: u64,
    requests: u64,
}

/// The summary row of `provider kind` in a run's stderr.
fn row(stderr: &str, provider: &str, kind: &str) -> Row {
    assert!(
        stderr.contains("created  updated  deleted unchanged requests   elapsed"),
        "no summary header: {stderr}"
    );
    let line = stderr
        .lines()
        .find(|l| l.split_whitespace().take(2).eq([provider, kind]))
        .unwrap_or_else(|| panic!("no row for {provider} {kind}: {stderr}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    let n = cells.len();
    assert!(n >= 9 && cells[n - 1].ends_with('s'), "{line}");
    let num = |i: usize| cells[i].parse::<u64>().unwrap_or_else(|_| panic!("{line}"));
    Row {
        mode: cells[2..n - 6].join(" "),
        created: num(n - 6),
        updated: num(n - 5),
        deleted: num(n - 4),
        unchanged: num(n - 3),
        requests: num(n - 2),
    }
}

fn row_of(mode: &str, counts: [u64; 4]) -> impl Fn(u64) -> Row + '_ {
    move |requests| Row {
        mode: mode.to_owned(),
        created: counts[0],
        updated: counts[1],
        deleted: counts[2],
        unchanged: counts[3],
        requests,
    }
}

/// Checks a row's mode and counts (its request count is checked apart, if at all).
fn assert_row(stderr: &str, provider: &str, kind: &str, mode: &str, counts: [u64; 4]) -> u64 {
    let got = row(stderr, provider, kind);
    assert_eq!(
        got,
        row_of(mode, counts)(got.requests),
        "{provider} {kind}: {stderr}"
    );
    got.requests
}

/// Requests the simulator served on a route since `before`.
fn served_on(sim: &Simulator, before: &ocean_sim::Stats, route: &str) -> u64 {
    let now = sim.stats();
    now.per_route.get(route).copied().unwrap_or(0)
        - before.per_route.get(route).copied().unwrap_or(0)
}

const BULKFETCH: &str = "POST /jira/rest/api/3/issue/bulkfetch";
const ISSUE_WORKLOGS: &str = "GET /jira/rest/api/3/issue/{id}/worklog";
const SEARCH: &str = "POST /jira/rest/api/3/search/jql";

async fn mutate(sim: &Simulator, m: Mutation) -> ocean_sim::MutationOutcome {
    listener::mutate(sim, m).await
}

fn edit(issue: &str, summary: &str) -> Mutation {
    Mutation::JiraIssueUpdate {
        issue: issue.into(),
        summary: Some(summary.into()),
        status: None,
        labels: None,
        assignee: None,
    }
}

/// The first `n` items of a Jira kind (or `octopus:KIND`) the simulator serves.
fn some(sim: &Simulator, kind: &str, n: usize) -> Vec<Value> {
    let data = sim.dataset();
    let raw = match kind.strip_prefix("octopus:") {
        Some(kind) => data.octopus_raw(kind),
        None => data.jira_raw(kind),
    };
    raw.iter()
        .take(n)
        .map(|b| serde_json::from_slice(b).expect("JSON"))
        .collect()
}

/// Logs `seconds` on the first of `worklogs` and deletes the second.
async fn edit_and_delete_worklogs(sim: &Simulator, worklogs: &[Value], seconds: u64) {
    let worklog = |n: usize| (field(&worklogs[n], "issueId"), field(&worklogs[n], "id"));
    let (issue, id) = worklog(0);
    mutate(
        sim,
        Mutation::JiraWorklogUpdate {
            issue,
            id,
            time_spent_seconds: seconds,
        },
    )
    .await;
    let (issue, id) = worklog(1);
    mutate(sim, Mutation::JiraWorklogDelete { issue, id }).await;
}

fn field(item: &Value, name: &str) -> String {
    match &item[name] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// Rules 1 and 7: a first run stores every item once, byte for byte; export and stats.
async fn first_run(backend: &Backend) {
    let sim = sim(120).await;
    let spec = backend.spec();
    let out = store_sync(&sim, "jira", &spec, &[]);
    let err = ok(&out);
    assert!(
        out.stdout.is_empty(),
        "without --changes stdout stays empty"
    );
    let jira = source(&sim, "jira", &[]);
    assert_same(
        &export(&spec, "jira", &[]),
        &jira,
        "the catalog is the sync",
    );
    for kind in ["project", "issue", "user", "board", "worklog"] {
        let n = of_kind(&jira, kind).len() as u64;
        assert!(n > 0, "{kind}: the simulator serves some");
        assert_row(&err, "jira", kind, "full", [n, 0, 0, 0]);
    }

    let all = ["--max-items", "0"];
    ok(&store_sync(&sim, "octopus", &spec, &all));
    let octopus = source(&sim, "octopus", &all);
    assert_same(&export(&spec, "octopus", &[]), &octopus, "octopus");

    // Filters: kinds of one provider.
    let some_kinds = export(&spec, "jira", &["--kind", "issue", "--kind", "project"]);
    let mut want = of_kind(&jira, "issue");
    want.extend(of_kind(&jira, "project"));
    assert_same(&some_kinds, &want, "--kind issue --kind project");

    // Stats: live and tombstoned per provider and kind, with the last run.
    let out = run(ocean().args(["catalog", "stats", "--store", &spec]));
    ok(&out);
    let stats = text(&out.stdout);
    for (provider, lines, tenant) in [
        ("jira", &jira, sim.jira_url()),
        ("octopus", &octopus, sim.octopus_url()),
    ] {
        let kinds: std::collections::BTreeSet<&str> =
            lines.keys().map(|(k, _)| k.as_str()).collect();
        for kind in kinds {
            let n = of_kind(lines, kind).len();
            let line = stats
                .lines()
                .find(|l| l.split_whitespace().take(2).eq([provider, kind]))
                .unwrap_or_else(|| panic!("no stats of {provider} {kind}: {stats}"));
            let cells: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cells[2..4], [n.to_string(), "0".to_owned()], "{line}");
            assert!(line.contains(&format!("+{n} ~0 -0 =0")), "{line}");
            assert!(line.contains(", ok") && line.contains(&tenant), "{line}");
        }
    }
}

// Rules 2, 3 and 6: incremental runs print exactly the changes, find deletions by census
// and by the worklog feed, and fetch only what changed.
async fn incremental(backend: &Backend) {
    let sim = sim(300).await;
    let spec = backend.spec();
    let jira_kinds = ["--kind", "project", "--kind", "issue", "--kind", "worklog"];
    let octopus_kinds = [
        "--kind",
        "project",
        "--kind",
        "environment",
        "--kind",
        "machine",
        "--kind",
        "deployment",
        "--max-items",
        "0",
    ];
    let start = sim.stats();
    let first = ok(&store_sync(&sim, "jira", &spec, &jira_kinds));
    let full_bulkfetches = served_on(&sim, &start, BULKFETCH);
    let full_issue_requests = row(&first, "jira", "issue").requests;
    ok(&store_sync(&sim, "octopus", &spec, &octopus_kinds));
    let before_jira = export(&spec, "jira", &[]);
    let before_octopus = export(&spec, "octopus", &[]);

    // Issues created, edited and deleted (its worklogs go to the deleted feed), worklogs
    // edited and deleted elsewhere, a project renamed; Octopus edits and a cascade.
    let issues = some(&sim, "issue", 4);
    let key = |i: usize| field(&issues[i], "key");
    let worklogs: Vec<Value> = some(&sim, "worklog", 300)
        .into_iter()
        .filter(|w| field(w, "issueId") != field(&issues[2], "id"))
        .take(2)
        .collect();
    let created = mutate(
        &sim,
        Mutation::JiraIssueCreate {
            project: key(0).split('-').next().unwrap().into(),
            summary: "Created for the incremental test".into(),
        },
    )
    .await;
    mutate(&sim, edit(&key(1), "Edited for the incremental test")).await;
    mutate(&sim, Mutation::JiraIssueDelete { issue: key(2) }).await;
    edit_and_delete_worklogs(&sim, &worklogs, 4321).await;
    mutate(
        &sim,
        Mutation::JiraProjectUpdate {
            project: key(3).split('-').next().unwrap().into(),
            name: Some("Renamed project".into()),
        },
    )
    .await;
    let project = field(&some(&sim, "octopus:project", 1)[0], "Id");
    let environment = field(&some(&sim, "octopus:environment", 1)[0], "Id");
    let deployment = field(&some(&sim, "octopus:deployment", 1)[0], "Id");
    for m in [
        Mutation::OctopusProjectUpdate {
            id: project,
            name: Some("Renamed for the incremental test".into()),
            description: None,
            is_disabled: None,
        },
        Mutation::OctopusEnvironmentDelete { id: environment },
        Mutation::OctopusDeploymentUpdate {
            id: deployment,
            comments: "Edited for the incremental test".into(),
        },
    ] {
        mutate(&sim, m).await;
    }
    let want_jira = diff(&before_jira, &source(&sim, "jira", &jira_kinds));
    let want_octopus = diff(&before_octopus, &source(&sim, "octopus", &octopus_kinds));
    assert!(want_jira.contains_key(&("issue".into(), created.key.clone().unwrap())));
    assert!(want_jira.contains_key(&("issue".into(), key(2))));

    let start = sim.stats();
    let out = store_sync(
        &sim,
        "jira",
        &spec,
        &[&jira_kinds[..], &["--changes"]].concat(),
    );
    let err = ok(&out);
    let got = feed("jira", &out.stdout);
    assert_changes(&got, &want_jira, "the Jira change feed");
    // Issues and worklogs read only what changed: one bulk fetch of the changed issues,
    // the worklog change feeds instead of every issue's worklogs.
    assert!(
        served_on(&sim, &start, BULKFETCH) <= 1 && full_bulkfetches >= 3,
        "{} bulk fetches (full run: {full_bulkfetches})",
        served_on(&sim, &start, BULKFETCH)
    );
    assert_eq!(served_on(&sim, &start, ISSUE_WORKLOGS), 0);
    assert!(served_on(&sim, &start, "GET /jira/rest/api/3/worklog/updated") >= 1);
    assert!(served_on(&sim, &start, "GET /jira/rest/api/3/worklog/deleted") >= 1);
    for (kind, mode) in [
        ("issue", "incremental"),
        ("worklog", "incremental"),
        ("project", "full"),
    ] {
        let of_this = || got.iter().filter(|(k, _)| k.0 == kind);
        let deleted = of_this().filter(|(_, c)| c.is_none()).count() as u64;
        let upserted = of_this().filter(|(_, c)| c.is_some()).count() as u64;
        let created = of_this()
            .filter(|(k, c)| c.is_some() && !before_jira.contains_key(*k))
            .count() as u64;
        let r = row(&err, "jira", kind);
        assert_eq!(r.mode, mode, "{kind}");
        assert_eq!(
            (r.created, r.updated, r.deleted),
            (created, upserted - created, deleted),
            "{kind}: {err}"
        );
        if kind == "project" {
            assert_eq!(
                r.unchanged,
                of_kind(&before_jira, kind).len() as u64 - r.updated
            );
        }
    }
    let issue_requests = row(&err, "jira", "issue").requests;
    assert!(
        issue_requests <= 4 && issue_requests < full_issue_requests,
        "incremental issues took {issue_requests} requests, the full run {full_issue_requests}"
    );

    let out = store_sync(
        &sim,
        "octopus",
        &spec,
        &[&octopus_kinds[..], &["--changes"]].concat(),
    );
    let err = ok(&out);
    assert_changes(
        &feed("octopus", &out.stdout),
        &want_octopus,
        "the Octopus change feed",
    );
    assert_eq!(row(&err, "octopus", "environment").deleted, 1);
    assert_eq!(row(&err, "octopus", "project").updated, 1);
    assert_eq!(row(&err, "octopus", "deployment").mode, "full");

    // Nothing changed since: nothing printed, nothing counted but unchanged.
    let out = store_sync(
        &sim,
        "jira",
        &spec,
        &[&jira_kinds[..], &["--changes"]].concat(),
    );
    let err = ok(&out);
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    for kind in ["project", "issue", "worklog"] {
        let r = row(&err, "jira", kind);
        assert_eq!(
            (r.created, r.updated, r.deleted),
            (0, 0, 0),
            "{kind}: {err}"
        );
    }
    assert_same(
        &export(&spec, "jira", &[]),
        &source(&sim, "jira", &jira_kinds),
        "the catalog after the runs",
    );
}

// Rule 2 on Jira Data Center: the same incremental runs through `/rest/api/2`.
async fn data_center(backend: &Backend) {
    let sim = sim(100).await;
    let spec = backend.spec();
    let kinds = ["--kind", "issue", "--kind", "worklog"];
    ok(&store_sync(&sim, "jira-dc", &spec, &kinds));
    let before = export(&spec, "jira", &[]);
    assert_same(&before, &source(&sim, "jira-dc", &kinds), "the first run");
    let issue = field(&some(&sim, "issue", 1)[0], "key");
    let worklogs = some(&sim, "worklog", 2);
    mutate(&sim, edit(&issue, "Edited on Data Center")).await;
    edit_and_delete_worklogs(&sim, &worklogs, 600).await;
    let want = diff(&before, &source(&sim, "jira-dc", &kinds));
    let out = store_sync(
        &sim,
        "jira-dc",
        &spec,
        &[&kinds[..], &["--changes"]].concat(),
    );
    let err = ok(&out);
    assert_eq!(row(&err, "jira", "worklog").mode, "incremental", "{err}");
    assert_eq!(row(&err, "jira", "issue").mode, "incremental", "{err}");
    assert_changes(
        &feed("jira", &out.stdout),
        &want,
        "the Data Center change feed",
    );
    assert!(want.contains_key(&("worklog".to_owned(), field(&worklogs[1], "id"))));
}

// Rule 3: a sweep over the threshold deletes nothing of that kind and says so; a higher
// fraction lets it through; `--full` sweeps what an incremental feed did not report.
async fn deletions(backend: &Backend) {
    let sim = sim(200).await;
    let spec = backend.spec();
    let kinds = ["--kind", "project", "--kind", "environment"];
    ok(&store_sync(&sim, "octopus", &spec, &kinds));
    let projects = some(&sim, "octopus:project", usize::MAX);
    let live = projects.len();
    let gone = live / 2 + 1;
    for p in &projects[..gone] {
        mutate(&sim, Mutation::OctopusProjectDelete { id: field(p, "Id") }).await;
    }
    let environment = field(&some(&sim, "octopus:environment", 1)[0], "Id");
    mutate(&sim, Mutation::OctopusEnvironmentDelete { id: environment }).await;

    let out = store_sync(&sim, "octopus", &spec, &kinds);
    let err = ok(&out);
    assert!(
        err.contains("threshold")
            && err.contains("octopus project")
            && err.contains(&format!("{gone} of {live}")),
        "{err}"
    );
    assert_eq!(row(&err, "octopus", "project").deleted, 0);
    assert_eq!(
        of_kind(&export(&spec, "octopus", &[]), "project").len(),
        live
    );
    // The threshold is per kind: the environment went.
    assert_eq!(row(&err, "octopus", "environment").deleted, 1);

    let out = store_sync(
        &sim,
        "octopus",
        &spec,
        &[&kinds[..], &["--max-delete-fraction", "0.9"]].concat(),
    );
    let err = ok(&out);
    assert!(!err.contains("threshold"), "{err}");
    assert_eq!(row(&err, "octopus", "project").deleted, gone as u64);
    assert_same(
        &export(&spec, "octopus", &[]),
        &source(&sim, "octopus", &kinds),
        "octopus",
    );
    // Capped (the default 1000 per space): deployments are stored, never swept, and the
    // summary says so.
    let err = ok(&store_sync(
        &sim,
        "octopus",
        &spec,
        &["--kind", "deployment"],
    ));
    assert!(
        err.contains("note: octopus deployment: its read is capped (--max-items), so deletions of it are not swept"),
        "{err}"
    );

    // Issues that leave the JQL's scope go too, found by the id-only census without
    // reading any issue in full; issues that enter it are fetched one by one.
    let wide = ["--kind", "issue", "--jql", "project in (PROJ1, PROJ2)"];
    let narrow = ["--kind", "issue", "--jql", "project = PROJ1"];
    ok(&store_sync(&sim, "jira", &spec, &wide));
    let (wide_issues, narrow_issues) = (source(&sim, "jira", &wide), source(&sim, "jira", &narrow));
    let left = (wide_issues.len() - narrow_issues.len()) as u64;
    assert!(left > 0 && !narrow_issues.is_empty());
    let start = sim.stats();
    let err = ok(&store_sync(
        &sim,
        "jira",
        &spec,
        &[&narrow[..], &["--max-delete-fraction", "1"]].concat(),
    ));
    assert_row(&err, "jira", "issue", "incremental", [0, 0, left, 0]);
    assert_eq!(served_on(&sim, &start, BULKFETCH), 0);
    assert_same(
        &of_kind(&export(&spec, "jira", &[]), "issue"),
        &narrow_issues,
        "narrowed",
    );
    let start = sim.stats();
    let err = ok(&store_sync(&sim, "jira", &spec, &wide));
    assert_row(&err, "jira", "issue", "incremental", [left, 0, 0, 0]);
    // One search by key per missing issue, besides the window and the census.
    let searches = served_on(&sim, &start, SEARCH);
    assert!(
        (left..=left + 3).contains(&searches) && served_on(&sim, &start, BULKFETCH) == 0,
        "{searches} searches for {left} issues"
    );
    assert_same(
        &of_kind(&export(&spec, "jira", &[]), "issue"),
        &wide_issues,
        "widened",
    );

    // A worklog deletion the feed does not show yet (Jira Cloud holds the last minute
    // back): the incremental run misses it, `--full` sweeps it.
    sim.faults()
        .set_worklog_feed_delay(Duration::from_secs(3600));
    let worklog = ["--kind", "worklog"];
    ok(&store_sync(&sim, "jira", &spec, &worklog));
    let w = &some(&sim, "worklog", 1)[0];
    mutate(
        &sim,
        Mutation::JiraWorklogDelete {
            issue: field(w, "issueId"),
            id: field(w, "id"),
        },
    )
    .await;
    let err = ok(&store_sync(&sim, "jira", &spec, &worklog));
    assert_row(&err, "jira", "worklog", "incremental", [0, 0, 0, 0]);
    let err = ok(&store_sync(
        &sim,
        "jira",
        &spec,
        &[&worklog[..], &["--full"]].concat(),
    ));
    let r = row(&err, "jira", "worklog");
    assert_eq!((r.mode.as_str(), r.deleted), ("full", 1), "{err}");
    assert_same(
        &of_kind(&export(&spec, "jira", &[]), "worklog"),
        &source(&sim, "jira", &worklog),
        "worklogs",
    );
}

// Rule 4: a failing kind leaves its items untouched, the others are stored, exit 1.
async fn isolation(backend: &Backend) {
    let sim = sim(60).await;
    let spec = backend.spec();
    let kinds = ["--kind", "project", "--kind", "team"];
    let org = ["--org-id", ocean_sim::ORG_ID];
    ok(&store_sync(
        &sim,
        "jira",
        &spec,
        &[&kinds[..], &org].concat(),
    ));
    let before = export(&spec, "jira", &[]);
    let teams = of_kind(&before, "team");
    assert!(!teams.is_empty());
    let project = field(&some(&sim, "project", 1)[0], "key");
    mutate(
        &sim,
        Mutation::JiraProjectUpdate {
            project,
            name: Some("Renamed while teams fail".into()),
        },
    )
    .await;

    // An organisation that does not exist: the team kind fails; a sweep of it would
    // delete every team (the fraction allows it), so none must run.
    let out = store_sync(
        &sim,
        "jira",
        &spec,
        &[
            &kinds[..],
            &["--org-id", "no-such-org", "--max-delete-fraction", "1"],
        ]
        .concat(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("jira team failed"), "{err}");
    assert!(err.contains("kinds failed: team"), "{err}");
    assert_eq!(row(&err, "jira", "team").mode, "FAILED");
    assert_eq!(row(&err, "jira", "project").updated, 1);
    let after = export(&spec, "jira", &[]);
    assert_same(
        &of_kind(&after, "team"),
        &teams,
        "the failed kind is untouched",
    );
    let out = run(ocean().args(["catalog", "stats", "--store", &spec]));
    let stats = text(&out.stdout);
    let team = stats
        .lines()
        .find(|l| l.split_whitespace().take(2).eq(["jira", "team"]))
        .unwrap_or_else(|| panic!("{stats}"));
    assert!(
        team.contains("FAILED: "),
        "the last run of teams failed: {team}"
    );
    assert_same(
        &of_kind(&after, "project"),
        &source(&sim, "jira", &["--kind", "project"]),
        "the project renamed meanwhile",
    );
}

// Rules 5 and 9: SIGKILL mid-sync, a second writer refused meanwhile, the rerun resumes
// from the checkpoint and ends with every item exactly once.
async fn kill_and_resume(backend: &Backend) {
    let total = 1500;
    let sim = Simulator::start(SimConfig {
        items: total,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let spec = backend.spec();
    // Projects first (they finish before the kill), then issues.
    let kinds = ["--kind", "project", "--kind", "issue"];
    let want = source(&sim, "jira", &kinds);
    assert_eq!(of_kind(&want, "issue").len(), total);
    // Slow enough to be caught mid-run: 15 bulk fetches one at a time.
    sim.faults()
        .set_full_issue_latency(Duration::from_millis(150));
    let mut child = jira_env(&mut ocean(), &sim)
        .args(["sync", "jira", "--store", &spec, "--max-concurrency", "1"])
        .args(kinds)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ocean starts");
    let committed = wait_for_items(&spec, "issue", 500, &mut child).await;
    assert!(committed < total, "the run finished before the kill");

    // Another writer of the same tenant stops at once, saying why.
    let started = Instant::now();
    let second = store_sync(&sim, "jira", &spec, &["--kind", "issue"]);
    let err = text(&second.stderr);
    assert!(!second.status.success(), "{err}");
    assert!(
        err.contains("busy") && err.contains("another sync of jira"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let committed = count_items(&spec, "issue").await;
    sim.faults().set_full_issue_latency(Duration::ZERO);

    let start = sim.stats();
    let out = store_sync(&sim, "jira", &spec, &kinds);
    let err = ok(&out);
    assert!(err.contains("resumed the interrupted run"), "{err}");
    // The kind that finished before the kill is not run again.
    assert_row(&err, "jira", "project", "done before", [0, 0, 0, 0]);
    let r = row(&err, "jira", "issue");
    assert_eq!(r.mode, "full", "{err}");
    assert_eq!(r.created as usize, total - committed, "{err}");
    // Pages before the checkpoint are not fetched again: bulk fetches of 100 cover what
    // was missing, plus one for the overlap at the checkpoint.
    let fetched = served_on(&sim, &start, BULKFETCH) as usize;
    eprintln!(
        "killed with {committed} of {total} committed; the rerun made {fetched} bulk fetches"
    );
    assert!(
        fetched <= (total - committed).div_ceil(100) + 1,
        "{fetched} bulk fetches after {committed} of {total} were committed"
    );
    assert_same(
        &export(&spec, "jira", &[]),
        &want,
        "every issue exactly once",
    );
}

/// Waits until the catalog holds `at_least` live items of `kind`; how many it saw.
async fn wait_for_items(
    spec: &str,
    kind: &str,
    at_least: usize,
    child: &mut std::process::Child,
) -> usize {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut err = String::new();
            use std::io::Read;
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("the sync ended ({status}) before the kill: {err}");
        }
        let n = count_items(spec, kind).await;
        if n >= at_least {
            return n;
        }
        assert!(start.elapsed() < DEADLINE, "only {n} {kind} items stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn count_items(spec: &str, kind: &str) -> usize {
    let store = ocean_store::open(spec).await.expect("open the catalog");
    let filter = ocean_store::ExportFilter {
        provider: Some("jira".into()),
        kinds: vec![kind.into()],
    };
    let items: Vec<_> = store.export(filter).try_collect().await.expect("export");
    items.len()
}

// Rule 8: a signed webhook delivery to `ocean listen --store` updates the catalog.
async fn listen_store(backend: &Backend) {
    let sim = sim(40).await;
    let spec = backend.spec();
    let issues = ["--kind", "issue"];
    ok(&store_sync(&sim, "jira", &spec, &issues));
    let listener = listener::Listener::start(jira_env(&mut ocean(), &sim).args([
        "listen",
        "jira",
        "--bind",
        "127.0.0.1:0",
        "--secret",
        SECRET,
        "--store",
        &spec,
    ]));
    listener::register(
        jira_env(&mut ocean(), &sim),
        "jira",
        &listener.app_host(),
        SECRET,
        1,
    );
    let keys: Vec<String> = some(&sim, "issue", 2)
        .iter()
        .map(|i| field(i, "key"))
        .collect();
    // The listener prints a change after writing it to the store.
    listener
        .after(&sim, edit(&keys[0], "Changed by a webhook"), 1)
        .await;
    listener
        .after(
            &sim,
            Mutation::JiraIssueDelete {
                issue: keys[1].clone(),
            },
            1,
        )
        .await;
    let want = source(&sim, "jira", &issues);
    assert!(want[&("issue".into(), keys[0].clone())].contains("Changed by a webhook"));
    assert_same(&export(&spec, "jira", &[]), &want, &listener.stderr());

    // The next run finds the catalog already true: no change to print.
    let out = store_sync(&sim, "jira", &spec, &[&issues[..], &["--changes"]].concat());
    ok(&out);
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));

    // Octopus subscriptions feed the same catalog, under their own tenant.
    let projects = ["--kind", "project"];
    ok(&store_sync(&sim, "octopus", &spec, &projects));
    let listener = listener::Listener::start(octopus_env(&mut ocean(), &sim).args([
        "listen",
        "octopus",
        "--bind",
        "127.0.0.1:0",
        "--secret",
        SECRET,
        "--store",
        &spec,
    ]));
    listener::register(
        octopus_env(&mut ocean(), &sim),
        "octopus",
        &listener.app_host(),
        SECRET,
        2,
    );
    let project = field(&some(&sim, "octopus:project", 1)[0], "Id");
    listener
        .after(
            &sim,
            Mutation::OctopusProjectUpdate {
                id: project,
                name: Some("Renamed by a subscription".into()),
                description: None,
                is_disabled: None,
            },
            1,
        )
        .await;
    let want = source(&sim, "octopus", &projects);
    assert_same(&export(&spec, "octopus", &[]), &want, &listener.stderr());
}

// A webhook that creates an item while a full run is past listing it: the run's sweep
// leaves the webhook's item alone.
async fn webhook_during_a_run(backend: &Backend) {
    let sim = Simulator::start(SimConfig {
        items: 1000,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let spec = backend.spec();
    let listener = listener::Listener::start(jira_env(&mut ocean(), &sim).args([
        "listen",
        "jira",
        "--bind",
        "127.0.0.1:0",
        "--secret",
        SECRET,
        "--store",
        &spec,
    ]));
    listener::register(
        jira_env(&mut ocean(), &sim),
        "jira",
        &listener.app_host(),
        SECRET,
        1,
    );
    sim.faults()
        .set_full_issue_latency(Duration::from_millis(100));
    let mut child = jira_env(&mut ocean(), &sim)
        .args(["sync", "jira", "--store", &spec, "--max-concurrency", "1"])
        .args(["--kind", "issue", "--max-delete-fraction", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ocean starts");
    // The issue ids are listed before the first batch is stored.
    wait_for_items(&spec, "issue", 500, &mut child).await;
    let created = listener
        .after(
            &sim,
            Mutation::JiraIssueCreate {
                project: "PROJ1".into(),
                summary: "Created during a run".into(),
            },
            1,
        )
        .await;
    let key = created[0]["item"]["key"].as_str().expect("key").to_owned();
    let status = child.wait().expect("the sync ends");
    assert!(status.success(), "{status}");
    let stored = of_kind(&export(&spec, "jira", &[]), "issue");
    assert!(
        stored.contains_key(&("issue".to_owned(), key.clone())),
        "the run swept {key}, written by a webhook after the run listed the issues"
    );
    assert_same(
        &stored,
        &source(&sim, "jira", &["--kind", "issue"]),
        "issues",
    );
}

// Rule 10: `ocean demo` end to end into the backend.
async fn demo(backend: &Backend) {
    let spec = backend.spec();
    let out = run(ocean().args(["demo", "--items", "100", "--store", &spec]));
    let err = ok(&out);
    let shown = text(&out.stdout);
    let incremental = shown
        .split("2. the simulator changes")
        .nth(1)
        .unwrap_or_else(|| panic!("no second step: {shown}\n{err}"));
    // One created, two edited (three when the edited worklog's issue is another), one
    // deleted.
    let r = row(incremental, "jira", "issue");
    assert_eq!(
        (r.mode.as_str(), r.created, r.deleted),
        ("incremental", 1, 1)
    );
    assert!((2..=3).contains(&r.updated), "{incremental}");
    let r = row(incremental, "jira", "worklog");
    assert_eq!((r.mode.as_str(), r.updated), ("incremental", 1));
    assert!(
        r.deleted >= 1,
        "the deleted issue's worklogs: {incremental}"
    );
    assert_eq!(row(incremental, "octopus", "project").updated, 1);
    assert_eq!(row(incremental, "octopus", "deployment").deleted, 1);
    assert!(
        incremental.contains(r#"{"kind":"issue","action":"delete","id":"#),
        "{incremental}"
    );
    assert!(
        shown.contains(r#"in the catalog now reads "Edited live, delivered by webhook""#),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "catalog stats --store {}",
            ocean_store::redact(&spec)
        )),
        "{shown}"
    );
    let catalog = export(&spec, "jira", &["--kind", "issue"]);
    assert!(
        catalog
            .values()
            .any(|l| l.contains("Edited live, delivered by webhook")),
        "the webhook's edit is in the catalog"
    );
}

// A store holds two tenants side by side: one's runs never touch the other's items.
async fn tenants(backend: &Backend) {
    let (a, b) = (sim(40).await, sim(40).await);
    let spec = backend.spec();
    let kinds = ["--kind", "project", "--kind", "issue"];
    ok(&store_sync(&a, "jira", &spec, &kinds));
    let out = store_sync(&b, "jira", &spec, &[&kinds[..], &["--changes"]].concat());
    let err = ok(&out);
    let want_b = source(&b, "jira", &kinds);
    // B's first run is a first run, though the store holds the same ids of A.
    assert_eq!(feed("jira", &out.stdout).len(), want_b.len());
    assert_row(
        &err,
        "jira",
        "issue",
        "full",
        [of_kind(&want_b, "issue").len() as u64, 0, 0, 0],
    );
    let gone = field(&some(&b, "issue", 1)[0], "key");
    mutate(
        &b,
        Mutation::JiraIssueDelete {
            issue: gone.clone(),
        },
    )
    .await;
    let err = ok(&store_sync(&b, "jira", &spec, &kinds));
    assert_eq!(row(&err, "jira", "issue").deleted, 1);

    // Each tenant's export is its source, nothing of the other's.
    for sim in [&a, &b] {
        let tenant = format!("{}/", sim.jira_url());
        let mine = export(&spec, "jira", &["--tenant", &tenant]);
        assert_same(&mine, &source(sim, "jira", &kinds), &tenant);
    }
    let a_issues = of_kind(
        &export(&spec, "jira", &["--tenant", &a.jira_url()]),
        "issue",
    );
    assert!(a_issues.contains_key(&("issue".to_owned(), gone)));
}

// A store newer than the binary is refused before anything is fetched or written.
async fn newer_schema(backend: &Backend) {
    let sim = sim(20).await;
    let spec = backend.spec();
    let projects = ["--kind", "project"];
    ok(&store_sync(&sim, "jira", &spec, &projects));
    match backend {
        Backend::Sqlite(dir) => {
            let db = rusqlite::Connection::open(dir.path().join("catalog.db")).unwrap();
            db.pragma_update(None, "user_version", 999).unwrap();
        }
        Backend::Postgres { url, schema, .. } => {
            backend::admin(url)
                .await
                .unwrap()
                .batch_execute(&format!(
                    "UPDATE {schema}.ocean_schema_version SET version = 999"
                ))
                .await
                .unwrap();
        }
    }
    let start = sim.stats();
    for args in [
        &["sync", "jira", "--store", &spec][..],
        &["catalog", "stats", "--store", &spec],
    ] {
        let out = run(jira_env(&mut ocean(), &sim).args(args));
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains("schema version 999, newer") && err.contains("upgrade ocean"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(served_on(&sim, &start, SEARCH), 0, "nothing fetched");
}

on_both_backends!(
    a_first_run_stores_every_item_once_and_export_and_stats_show_it => first_run,
    incremental_runs_print_and_store_exactly_the_changes => incremental,
    data_center_runs_are_incremental_too => data_center,
    deletions_beyond_the_threshold_wait_and_full_sweeps => deletions,
    a_failing_kind_is_isolated_and_left_untouched => isolation,
    a_sigkilled_sync_resumes_exactly_once_and_a_second_writer_is_refused => kill_and_resume,
    a_webhook_to_listen_store_updates_the_catalog => listen_store,
    a_webhook_during_a_run_is_not_swept_by_it => webhook_during_a_run,
    the_demo_runs_end_to_end_into_the_store => demo,
    tenants_of_one_store_never_mix => tenants,
    a_store_of_a_newer_schema_is_refused => newer_schema,
);

#[tokio::test]
async fn an_unopenable_or_corrupted_store_is_a_clear_error_and_stays_as_it_was() {
    let sim = sim(20).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"a file").unwrap();
    let corrupt = dir.path().join("corrupt.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&corrupt, &garbage).unwrap();
    let start = sim.stats();
    for (store, expect) in [
        (file.join("catalog.db"), "cannot open store"),
        (corrupt.clone(), "is corrupted or not an ocean store"),
    ] {
        let spec = store.display().to_string();
        let out = store_sync(&sim, "jira", &spec, &[]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains(expect) && err.contains(&spec), "{err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(served_on(&sim, &start, SEARCH), 0, "nothing fetched");
    assert_eq!(std::fs::read(&corrupt).unwrap(), garbage, "left as it was");
    // Reading a store that is not there does not make an empty one.
    let missing = dir.path().join("missing.db");
    for command in ["stats", "export"] {
        let out = run(ocean().args(["catalog", command, "--store"]).arg(&missing));
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&format!(
                "cannot open store {}: no such file",
                missing.display()
            )),
            "{err}"
        );
    }
    assert!(!missing.exists());
    assert_eq!(std::fs::read(&file).unwrap(), b"a file");
}

#[test]
fn a_store_and_an_output_file_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("catalog.db");
    let out = run(ocean()
        .args(["sync", "jira", "--url", "http://127.0.0.1:9", "--store"])
        .arg(&store)
        .args(["-o", "out.ndjson"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--store"),
        "{}",
        text(&out.stderr)
    );
    assert!(!store.exists());
}

#[tokio::test]
async fn a_refused_postgres_is_named_without_its_password() {
    let sim = sim(20).await;
    // Port 1 on loopback refuses at once.
    let spec = "postgres://ocean:hunter2-secret@127.0.0.1:1/catalog";
    for args in [
        &["sync", "jira", "--store", spec][..],
        &["catalog", "export", "--store", spec],
    ] {
        let out = run(jira_env(&mut ocean(), &sim).args(args));
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains("cannot open store postgres://ocean:***@127.0.0.1:1/catalog"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
}
