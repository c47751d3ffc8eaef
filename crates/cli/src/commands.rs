//! What each subcommand does.

use std::io::Write;
use std::time::Duration;

use ocean_core::Secret;
use ocean_jira::{JiraKind, SyncOptions, WebhookOptions};
use ocean_octopus::{OctopusKind, SubscriptionOptions};
use ocean_sim::{SimConfig, Simulator};

use crate::args::{ListenTarget, SimArgs, SyncTarget, WebhookTarget};
use crate::catalog;
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
            issue_strategy,
            org_id,
            selectors,
            output,
            store,
            tuning,
        } => {
            let client = clients::jira(credentials, &tuning).await?;
            let options = SyncOptions {
                jql,
                issue_strategy,
                org_id,
                ..SyncOptions::default()
            };
            if let Some(spec) = &store.store {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                let provider = crate::selectors::provider(client, options, selectors)?;
                return catalog::sync(&provider, &names, spec, &store).await;
            }
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
            store,
            tuning,
        } => {
            let cap = Some(max_items.unwrap_or(1000)).filter(|&n| n > 0);
            let client = clients::octopus(credentials, &tuning, cap)?;
            if let Some(spec) = &store.store {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                let provider = ocean_octopus::OctopusProvider::new(client);
                return catalog::sync(&provider, &names, spec, &store).await;
            }
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
        ..SimConfig::default()
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
