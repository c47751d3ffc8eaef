//! `ocean demo`: the simulator in-process, both providers synced into an embedded
//! catalog, then changed — an incremental run shows exactly those changes, and a webhook
//! delivery updates the catalog live.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use ocean_core::Provider;
use ocean_jira::{JiraClient, JiraProvider, SyncOptions};
use ocean_listen::ListenOptions;
use ocean_octopus::{OctopusClient, OctopusProvider};
use ocean_sim::{Mutation, SimConfig, Simulator};
use ocean_store::{CatalogItem, ExportFilter, Scope, Store};
use ocean_sync::{NdjsonFeed, NoFeed, Settings};
use tokio::net::TcpListener;

use crate::args::DemoArgs;
use crate::catalog::write_run_summary;
use crate::commands::Failure;
use crate::listen_store::StoreSink;

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<(), Failure> {
    let config = SimConfig {
        items: args.items,
        latency: Duration::from_millis(5),
        fail_rate: 0.02,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await?;
    sim.faults().set_fractional_retry_after(true);
    // A limit the client's 10 concurrent requests will hit now and then, so retries show.
    sim.faults().set_rate_limit(Some(200.0));
    let spec = args.store.clone().unwrap_or_else(default_store);
    let store: Arc<dyn Store> = ocean_store::open(&spec).await?.into();
    // Everything goes to stdout, in order: the demo is read, not parsed, and a hidden
    // progress bar (stdout or stderr not a terminal) would swallow lines printed through it.
    let say = |line: String| writeln!(std::io::stdout(), "{line}");
    say(format!(
        "simulator on {} ({} Jira issues, {} Octopus deployments); catalog in {}",
        sim.url(),
        sim.dataset().jira_len("issue"),
        sim.dataset().octopus_len("deployment"),
        store.describe(),
    ))?;
    let quick = ocean_core::RetryPolicy::default()
        .max_retries(8)
        .base_delay(Duration::from_millis(50));
    let jira = JiraProvider::new(
        JiraClient::builder(&sim.jira_url())
            .basic(ocean_sim::JIRA_EMAIL, ocean_sim::JIRA_TOKEN)
            .retry(quick.clone())
            .build()?,
        SyncOptions::default(),
    );
    let octopus = OctopusProvider::new(
        OctopusClient::builder(&sim.octopus_url())
            .api_key(ocean_sim::OCTOPUS_API_KEY)
            .max_items_per_space(None)
            .retry(quick)
            .build()?,
    );
    let providers: [&dyn Provider; 2] = [&jira, &octopus];

    say("\n1. the first sync of every kind (full):".into())?;
    for provider in providers {
        sync(provider, store.as_ref(), &mut NoFeed).await?;
    }

    say("\n2. the simulator changes a few items:".into())?;
    for change in mutate(&sim, store.as_ref(), &jira, &octopus).await? {
        say(format!("   {change}"))?;
    }
    say(
        "\n   an incremental run finds exactly those (issues and worklogs through `updated` \
         filters,\n   the rest in full), and the change feed lists them (the backlog kind holds \
         the same issues by board):"
            .into(),
    )?;
    let mut feed = NdjsonFeed(Vec::new());
    for provider in providers {
        sync(provider, store.as_ref(), &mut feed).await?;
    }
    for line in String::from_utf8_lossy(&feed.0).lines() {
        say(format!("   {}", shorten(line)))?;
    }

    say("\n3. a webhook delivery updates the catalog between syncs:".into())?;
    live_update(&sim, Arc::clone(&store), &jira).await?;

    if let Some(path) = &args.file {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut items = store.export(ExportFilter::default());
        while let Some(item) = items.try_next().await? {
            crate::catalog::write_export_line(&mut out, &item)?;
        }
        out.flush()?;
        say(format!(
            "\nthe catalog exported as NDJSON to {}",
            path.display()
        ))?;
    }
    let stats = sim.stats();
    say(format!(
        "\nthe simulator answered {} requests: {} rate limited (429), {} unavailable (503) — all retried.\n\
         Inspect the catalog: ocean catalog stats --store {}",
        stats.requests,
        stats.rate_limited,
        stats.unavailable,
        // A PostgreSQL URL's password stays off the screen.
        ocean_store::redact(&spec)
    ))?;
    sim.shutdown().await;
    Ok(())
}

/// One run of `provider` into `store`, its summary on stdout.
async fn sync(
    provider: &dyn Provider,
    store: &dyn Store,
    feed: &mut dyn ocean_sync::Feed,
) -> Result<(), Failure> {
    let kinds: Vec<_> = provider.kinds().iter().collect();
    let report = ocean_sync::sync(provider, store, &kinds, &Settings::default(), feed).await?;
    write_run_summary(
        &mut std::io::stdout(),
        provider.name(),
        &store.describe(),
        &report,
    )?;
    if let Some(failed) = report.failed().next() {
        return Err(format!("{} {} failed", provider.name(), failed.kind).into());
    }
    Ok(())
}

/// Creates, edits and deletes a few items of both providers; says what it did.
async fn mutate(
    sim: &Simulator,
    store: &dyn Store,
    jira: &JiraProvider,
    octopus: &OctopusProvider,
) -> Result<Vec<String>, Failure> {
    let issues = ids(store, jira, "issue", 3).await?;
    let [edited, moved, deleted] = issues.as_slice() else {
        return Err("the demo needs at least three issues (raise --items)".into());
    };
    // A worklog of an issue that stays, so its edit shows as an edit.
    let (worklog, worklog_issue) = export(store, jira, "worklog", usize::MAX)
        .await?
        .into_iter()
        .find_map(|w| match w.parent {
            Some((_, issue)) if issue != *deleted => Some((w.id, issue)),
            _ => None,
        })
        .ok_or("the demo needs a worklog (raise --items)")?;
    let (project, deployment) = match (
        ids(store, octopus, "project", 1).await?.pop(),
        ids(store, octopus, "deployment", 1).await?.pop(),
    ) {
        (Some(p), Some(d)) => (p, d),
        _ => return Err("the demo needs an Octopus project and deployment (raise --items)".into()),
    };
    let jira_project = edited.split('-').next().unwrap_or_default().to_owned();
    let created = sim
        .mutate(Mutation::JiraIssueCreate {
            project: jira_project,
            summary: "Created by the demo".into(),
        })
        .await?;
    let mut said = vec![format!(
        "created Jira issue {}",
        created.key.unwrap_or(created.id)
    )];
    let changes = [
        (
            Mutation::JiraIssueUpdate {
                issue: edited.clone(),
                summary: Some("Edited by the demo".into()),
                status: None,
                labels: None,
                assignee: None,
            },
            format!("edited the summary of Jira issue {edited}"),
        ),
        (
            Mutation::JiraIssueUpdate {
                issue: moved.clone(),
                summary: None,
                status: Some("In Progress".into()),
                labels: None,
                assignee: None,
            },
            format!("moved Jira issue {moved} to In Progress"),
        ),
        (
            Mutation::JiraIssueDelete {
                issue: deleted.clone(),
            },
            format!("deleted Jira issue {deleted} (and its worklogs)"),
        ),
        (
            Mutation::JiraWorklogUpdate {
                issue: worklog_issue.clone(),
                id: worklog.clone(),
                time_spent_seconds: 5400,
            },
            format!(
                "changed the time spent of Jira worklog {worklog} (which updates issue {worklog_issue} too)"
            ),
        ),
        (
            Mutation::OctopusProjectUpdate {
                id: project.clone(),
                name: Some("Renamed by the demo".into()),
                description: None,
                is_disabled: None,
            },
            format!("renamed Octopus project {project}"),
        ),
        (
            Mutation::OctopusDeploymentDelete {
                id: deployment.clone(),
            },
            format!("deleted Octopus deployment {deployment}"),
        ),
    ];
    for (mutation, what) in changes {
        sim.mutate(mutation).await?;
        said.push(what);
    }
    Ok(said)
}

/// The first `n` ids of a kind in the catalog.
async fn ids(
    store: &dyn Store,
    provider: &dyn Provider,
    kind: &str,
    n: usize,
) -> Result<Vec<String>, Failure> {
    let items = export(store, provider, kind, n).await?;
    Ok(items.into_iter().map(|item| item.id).collect())
}

/// The first `n` items of a kind in the catalog.
async fn export(
    store: &dyn Store,
    provider: &dyn Provider,
    kind: &str,
    n: usize,
) -> Result<Vec<CatalogItem>, Failure> {
    let filter = ExportFilter {
        provider: Some(provider.name().to_owned()),
        kinds: vec![kind.to_owned()],
    };
    Ok(store.export(filter).take(n).try_collect().await?)
}

/// Registers the Jira webhook with a receiver writing into the catalog, changes an
/// issue, and waits for the catalog to show it.
async fn live_update(
    sim: &Simulator,
    store: Arc<dyn Store>,
    jira: &dyn Provider,
) -> Result<(), Failure> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let app_host = format!("http://{}", listener.local_addr()?);
    let scope = Scope {
        provider: jira.name().to_owned(),
        tenant: jira.tenant(),
    };
    let sink = Arc::new(StoreSink::quiet(Arc::clone(&store), scope, jira.kinds()));
    let source = jira
        .webhook_source(None)
        .ok_or("the demo's provider has no webhooks")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ocean_listen::serve(
        listener,
        source,
        sink,
        ListenOptions::default(),
        async {
            let _ = stopped.await;
        },
    ));
    for outcome in jira.ensure_webhooks(&app_host, None).await? {
        println!("   jira {outcome}, posting to {app_host}");
    }
    let issue = ids(store.as_ref(), jira, "issue", 1)
        .await?
        .pop()
        .ok_or("no issue left")?;
    let summary = "Edited live, delivered by webhook";
    sim.mutate(Mutation::JiraIssueUpdate {
        issue: issue.clone(),
        summary: Some(summary.into()),
        status: None,
        labels: None,
        assignee: None,
    })
    .await?;
    let filter = ExportFilter {
        provider: Some("jira".into()),
        kinds: vec!["issue".into()],
    };
    let mut seen = false;
    for _ in 0..100 {
        let items: Vec<_> = store.export(filter.clone()).try_collect().await?;
        if items
            .iter()
            .any(|item| item.id == issue && item.json.contains(summary))
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    server.await??;
    if seen {
        println!("   {issue} in the catalog now reads \"{summary}\"");
        Ok(())
    } else {
        Err(format!("the webhook update of {issue} did not reach the catalog within 2 s").into())
    }
}

/// A line of the change feed, cut for a terminal.
fn shorten(line: &str) -> String {
    const MAX: usize = 150;
    match line.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// A fresh `ocean-demo.db` in the system's temporary directory: the last demo's
/// database goes, with its WAL and its lock files (one per simulator, whose port — and so
/// tenant — differs on every run, so they would pile up).
fn default_store() -> String {
    const NAME: &str = "ocean-demo.db";
    let dir = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = name == NAME
                || [".lock-", "-wal", "-shm"]
                    .iter()
                    .any(|suffix| name.starts_with(&format!("{NAME}{suffix}")));
            if ours {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    dir.join(NAME).display().to_string()
}
