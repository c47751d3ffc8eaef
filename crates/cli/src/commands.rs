//! What each subcommand does.

use std::io::Write;
use std::time::Duration;

use ocean_core::Secret;
use ocean_jira::{JiraKind, SyncOptions, WebhookOptions};
use ocean_octopus::{OctopusKind, SubscriptionOptions};
use ocean_sim::{SimConfig, Simulator};

use crate::args::{DemoArgs, ListenTarget, SimArgs, SyncTarget, WebhookTarget};
use crate::clients::{self, OCTOPUS_SECRET_HEADER};
use crate::report::{Progress, write_summary};
use crate::sync::{self, Job, Sink};

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

fn jira_jobs(
    client: &ocean_jira::JiraClient,
    kinds: &[JiraKind],
    options: &SyncOptions,
) -> Vec<Job> {
    let kinds = if kinds.is_empty() {
        &JiraKind::ALL[..]
    } else {
        kinds
    };
    kinds
        .iter()
        .map(|kind| Job {
            provider: "jira",
            kind: kind.as_str(),
            records: client.sync(*kind, options),
        })
        .collect()
}

fn octopus_jobs(client: &ocean_octopus::OctopusClient, kinds: &[OctopusKind]) -> Vec<Job> {
    let kinds = if kinds.is_empty() {
        &OctopusKind::ALL[..]
    } else {
        kinds
    };
    kinds
        .iter()
        .map(|kind| Job {
            provider: "octopus",
            kind: kind.as_str(),
            records: client.sync(*kind),
        })
        .collect()
}

/// `ocean sync …`: every item of the chosen kinds as NDJSON.
pub async fn sync(target: SyncTarget, progress: &Progress) -> Result<(), Failure> {
    let (core, jobs, output) = match target {
        SyncTarget::Jira {
            credentials,
            kinds,
            jql,
            org_id,
            selectors,
            output,
            tuning,
        } => {
            let client = clients::jira(credentials, &tuning).await?;
            let options = SyncOptions {
                jql,
                org_id,
                ..SyncOptions::default()
            };
            let jobs = match selectors.is_empty() {
                true => jira_jobs(&client, &kinds, &options),
                false => crate::selectors::jobs(&client, selectors),
            };
            (client.core().clone(), jobs, output)
        }
        SyncTarget::Octopus {
            credentials,
            kinds,
            max_items,
            output,
            tuning,
        } => {
            let cap = Some(max_items.unwrap_or(1000)).filter(|&n| n > 0);
            let client = clients::octopus(credentials, &tuning, cap)?;
            (client.core().clone(), octopus_jobs(&client, &kinds), output)
        }
    };
    let mut sink = Sink::open(output.file.as_deref())?;
    let outcome = sync::run(&core, jobs, &mut sink, progress).await;
    sink.flush()?;
    let reports = match outcome {
        Ok(reports) => reports,
        Err(failed) => {
            progress
                .bars()
                .suspend(|| write_summary(&mut std::io::stderr(), &failed.done))?;
            return Err(failed.error);
        }
    };
    progress
        .bars()
        .suspend(|| write_summary(&mut std::io::stderr(), &reports))?;
    Ok(())
}

/// `ocean webhooks …`: register, or find, the webhook of each target.
pub async fn webhooks(target: WebhookTarget) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match target {
        WebhookTarget::Jira {
            app,
            credentials,
            tuning,
        } => {
            let client = clients::jira(credentials, &tuning).await?;
            let options = WebhookOptions {
                secret: app.secret.map(Secret::new),
                ..WebhookOptions::default()
            };
            let outcome = client.ensure_webhook(&app.app_host, &options).await?;
            writeln!(out, "jira {}: {outcome}", client.site_url())?;
        }
        WebhookTarget::Octopus {
            app,
            credentials,
            tuning,
        } => {
            let client = clients::octopus(credentials, &tuning, None)?;
            let header = app
                .secret
                .map(|s| (OCTOPUS_SECRET_HEADER.to_owned(), Secret::new(s)));
            let options = SubscriptionOptions {
                header,
                ..SubscriptionOptions::default()
            };
            for space in client.ensure_subscriptions(&app.app_host, &options).await? {
                writeln!(out, "octopus {}: {}", space.space_id, space.outcome)?;
            }
        }
    }
    Ok(())
}

/// `ocean listen …`: receive webhooks until Ctrl-C, one NDJSON line per change.
pub async fn listen(target: ListenTarget) -> Result<(), Failure> {
    crate::listen::run(target).await
}

/// `ocean sim`: serve until Ctrl-C.
pub async fn sim(args: SimArgs) -> Result<(), Failure> {
    let config = SimConfig {
        seed: args.seed,
        items: args.items,
        rate_limit: args.rate_limit,
        fail_rate: args.fail_rate,
        latency: Duration::from_millis(args.latency_ms),
        malformed: args.malformed,
        port: args.port,
    };
    let sim = Simulator::start(config).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ocean simulator listening on {}", sim.url())?;
    writeln!(
        out,
        "  JIRA_URL={}  JIRA_EMAIL={}  JIRA_TOKEN={}",
        sim.jira_url(),
        ocean_sim::JIRA_EMAIL,
        ocean_sim::JIRA_TOKEN
    )?;
    writeln!(
        out,
        "  Data Center: JIRA_URL={}  JIRA_PAT={}",
        sim.jira_dc_url(),
        ocean_sim::JIRA_TOKEN
    )?;
    writeln!(
        out,
        "  OAuth: JIRA_OAUTH_CLIENT_ID={}  JIRA_OAUTH_CLIENT_SECRET={}  JIRA_OAUTH_REFRESH_TOKEN={}  JIRA_OAUTH_TOKEN_URL={}  JIRA_OAUTH_API_URL={}",
        ocean_sim::OAUTH_CLIENT_ID,
        ocean_sim::OAUTH_CLIENT_SECRET,
        sim.oauth().refresh_token(),
        sim.oauth_token_url(),
        sim.oauth_api_url()
    )?;
    writeln!(
        out,
        "  OCTOPUS_URL={}  OCTOPUS_API_KEY={}",
        sim.octopus_url(),
        ocean_sim::OCTOPUS_API_KEY
    )?;
    writeln!(
        out,
        "  control: POST {}/_sim/mutate, GET {}/_sim/stats; Ctrl-C stops",
        sim.url(),
        sim.url()
    )?;
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

/// `ocean demo`: the simulator in-process, every kind of both providers synced from it.
pub async fn demo(args: DemoArgs, progress: &Progress) -> Result<(), Failure> {
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
    progress.bars().println(format!(
        "simulator on {} ({} Jira issues, {} Octopus deployments); syncing every kind…",
        sim.url(),
        sim.dataset().jira_len("issue"),
        sim.dataset().octopus_len("deployment"),
    ))?;
    let quick = ocean_core::RetryPolicy::default()
        .max_retries(8)
        .base_delay(Duration::from_millis(50));
    let jira = ocean_jira::JiraClient::builder(&sim.jira_url())
        .basic(ocean_sim::JIRA_EMAIL, ocean_sim::JIRA_TOKEN)
        .retry(quick.clone())
        .build()?;
    let octopus = ocean_octopus::OctopusClient::builder(&sim.octopus_url())
        .api_key(ocean_sim::OCTOPUS_API_KEY)
        .retry(quick)
        .build()?;
    let mut sink = match &args.file {
        Some(path) => Sink::open(Some(path))?,
        None => Sink::discard(),
    };
    let mut reports = sync::run(
        jira.core(),
        jira_jobs(&jira, &[], &SyncOptions::default()),
        &mut sink,
        progress,
    )
    .await
    .map_err(|f| f.error)?;
    reports.extend(
        sync::run(
            octopus.core(),
            octopus_jobs(&octopus, &[]),
            &mut sink,
            progress,
        )
        .await
        .map_err(|f| f.error)?,
    );
    sink.flush()?;
    let stats = sim.stats();
    progress.bars().suspend(|| -> std::io::Result<()> {
        let mut err = std::io::stderr().lock();
        writeln!(err)?;
        write_summary(&mut err, &reports)?;
        writeln!(
            err,
            "\nthe simulator answered {} requests: {} rate limited (429), {} unavailable (503) — all retried",
            stats.requests, stats.rate_limited, stats.unavailable
        )?;
        if let Some(path) = &args.file {
            writeln!(err, "NDJSON written to {}", path.display())?;
        }
        Ok(())
    })?;
    sim.shutdown().await;
    Ok(())
}
