//! `ocean demo`: the simulator in-process, both providers synced into an embedded
//! catalog, then changed — an incremental run shows exactly those changes, and a webhook
//! delivery updates the catalog live.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use ocean_core::Provider;
use ocean_jira::{JiraClient, JiraProvider, JiraWebhooks, SyncOptions, WebhookOptions};
use ocean_listen::ListenOptions;
use ocean_octopus::{OctopusClient, OctopusProvider};
use ocean_sim::{Mutation, SimConfig, Simulator};
use ocean_store::{ExportFilter, Scope, Store};
use ocean_sync::{NdjsonFeed, NoFeed, Settings};
use tokio::net::TcpListener;

use crate::args::DemoArgs;
use crate::catalog::write_run_summary;
use crate::commands::Failure;
use crate::listen_store::StoreSink;
use crate::report::Progress;

/// Runs the demo.
pub async fn run(args: DemoArgs, progress: &Progress) -> Result<(), Failure> {
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
    let say = |line: String| progress.bars().println(line);
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

    let changed = mutate(&sim, store.as_ref(), &jira, &octopus).await?;
    say(format!(
        "\n2. the simulator changed {changed} items; an incremental run finds exactly those (the change feed):"
    ))?;
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
         Inspect the catalog: ocean catalog stats --store {spec}",
        stats.requests, stats.rate_limited, stats.unavailable
    ))?;
    sim.shutdown().await;
    Ok(())
}

/// One run of `provider` into `store`, its summary on stderr.
async fn sync(
    provider: &dyn Provider,
    store: &dyn Store,
    feed: &mut dyn ocean_sync::Feed,
) -> Result<(), Failure> {
    let kinds: Vec<_> = provider.kinds().iter().collect();
    let report = ocean_sync::sync(provider, store, &kinds, &Settings::default(), feed).await?;
    write_run_summary(
        &mut std::io::stderr(),
        provider.name(),
        &store.describe(),
        &report,
    )?;
    if let Some(failed) = report.failed().next() {
        return Err(format!("{} {} failed", provider.name(), failed.kind).into());
    }
    Ok(())
}

/// Creates, edits and deletes a few items of both providers; returns how many.
async fn mutate(
    sim: &Simulator,
    store: &dyn Store,
    jira: &JiraProvider,
    octopus: &OctopusProvider,
) -> Result<usize, Failure> {
    let issues = ids(store, jira, "issue", 4).await?;
    let projects = ids(store, octopus, "project", 2).await?;
    let [first, second, third, fourth] = issues.as_slice() else {
        return Err("the demo needs at least four issues (raise --items)".into());
    };
    let [renamed, deleted] = projects.as_slice() else {
        return Err("the demo needs at least two Octopus projects (raise --items)".into());
    };
    let project = first.split('-').next().unwrap_or_default().to_owned();
    let mutations = vec![
        Mutation::JiraIssueCreate {
            project: project.clone(),
            summary: "Created by the demo".into(),
        },
        Mutation::JiraIssueCreate {
            project,
            summary: "Created by the demo, too".into(),
        },
        Mutation::JiraIssueUpdate {
            issue: second.clone(),
            summary: Some("Edited by the demo".into()),
            status: None,
            labels: None,
            assignee: None,
        },
        Mutation::JiraIssueUpdate {
            issue: third.clone(),
            summary: None,
            status: Some("In Progress".into()),
            labels: None,
            assignee: None,
        },
        Mutation::JiraIssueDelete {
            issue: fourth.clone(),
        },
        Mutation::OctopusProjectUpdate {
            id: renamed.clone(),
            name: Some("Renamed by the demo".into()),
            description: None,
            is_disabled: None,
        },
        Mutation::OctopusProjectDelete {
            id: deleted.clone(),
        },
    ];
    let count = mutations.len();
    for mutation in mutations {
        sim.mutate(mutation).await?;
    }
    Ok(count)
}

/// The first `n` ids of a kind in the catalog.
async fn ids(
    store: &dyn Store,
    provider: &dyn Provider,
    kind: &str,
    n: usize,
) -> Result<Vec<String>, Failure> {
    let filter = ExportFilter {
        provider: Some(provider.name().to_owned()),
        kinds: vec![kind.to_owned()],
    };
    let items: Vec<_> = store.export(filter).take(n).try_collect().await?;
    Ok(items.into_iter().map(|item| item.id).collect())
}

/// Registers the Jira webhook with a receiver writing into the catalog, changes an
/// issue, and waits for the catalog to show it.
async fn live_update(
    sim: &Simulator,
    store: Arc<dyn Store>,
    jira: &JiraProvider,
) -> Result<(), Failure> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let app_host = format!("http://{}", listener.local_addr()?);
    let scope = Scope {
        provider: jira.name().to_owned(),
        tenant: jira.tenant(),
    };
    let sink = Arc::new(StoreSink::quiet(Arc::clone(&store), scope, jira.kinds()));
    let source = Arc::new(JiraWebhooks::new(jira.jira().clone()));
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
    let outcome = jira
        .jira()
        .ensure_webhook(&app_host, &WebhookOptions::default())
        .await?;
    eprintln!("   webhook to {app_host}: {outcome}");
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
        eprintln!("   {issue} in the catalog now reads \"{summary}\"");
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

/// `ocean-demo.db` in the system's temporary directory.
fn default_store() -> String {
    let path: PathBuf = std::env::temp_dir().join("ocean-demo.db");
    let _ = std::fs::remove_file(&path);
    path.display().to_string()
}
