//! What each subcommand does.

use std::io::Write;
use std::time::Duration;

use ocean_core::{Provider, Secret};
use ocean_jira::{JiraProvider, SyncOptions};
use ocean_octopus::OctopusProvider;
use ocean_sim::{SimConfig, Simulator};

use crate::args::{ListenTarget, SimArgs, SyncTarget, WebhookTarget};
use crate::catalog;
use crate::clients;
use crate::report::{Progress, write_summary};
use crate::sync::{self, Job, Sink};

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// `ocean sync …`: every item of the chosen kinds, as NDJSON or into a catalog.
pub async fn sync(target: SyncTarget, progress: &Progress) -> Result<(), Failure> {
    let (provider, kinds, output, store): (Box<dyn Provider>, Vec<&str>, _, _) = match target {
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
            if store.store.is_none() && !selectors.is_empty() {
                // Several selector blocks of a kind are several jobs: NDJSON holds them all.
                let core = client.core().clone();
                let jobs = crate::selectors::jobs(&client, selectors);
                return write_ndjson(&core, jobs, output.file.as_deref(), progress).await;
            }
            let options = SyncOptions {
                jql,
                issue_strategy,
                org_id,
                ..SyncOptions::default()
            };
            let provider = crate::selectors::provider(client, options, selectors)?;
            let names = kinds.iter().map(|k| k.as_str()).collect();
            (Box::new(provider), names, output, store)
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
            let names = kinds.iter().map(|k| k.as_str()).collect();
            (Box::new(OctopusProvider::new(client)), names, output, store)
        }
    };
    match &store.store {
        Some(spec) => catalog::sync(provider.as_ref(), &kinds, spec, &store).await,
        None => {
            let jobs = sync::jobs(provider.as_ref(), &kinds)?;
            write_ndjson(provider.client(), jobs, output.file.as_deref(), progress).await
        }
    }
}

/// Runs `jobs` into NDJSON (stdout or `file`) and prints the summary on stderr.
async fn write_ndjson(
    core: &ocean_core::Client,
    jobs: Vec<Job>,
    file: Option<&std::path::Path>,
    progress: &Progress,
) -> Result<(), Failure> {
    let mut sink = Sink::open(file)?;
    let outcome = sync::run(core, jobs, &mut sink, progress).await;
    sink.flush()?;
    let (reports, outcome) = match outcome {
        Ok(reports) => (reports, Ok(())),
        Err(failed) => (failed.done, Err(failed.error)),
    };
    progress
        .bars()
        .suspend(|| write_summary(&mut std::io::stderr(), &reports))?;
    outcome
}

/// `ocean webhooks …`: register, or find, the webhook of each target.
pub async fn webhooks(target: WebhookTarget) -> Result<(), Failure> {
    let (provider, app): (Box<dyn Provider>, _) = match target {
        WebhookTarget::Jira {
            app,
            credentials,
            tuning,
        } => {
            let client = clients::jira(credentials, &tuning).await?;
            (
                Box::new(JiraProvider::new(client, SyncOptions::default())),
                app,
            )
        }
        WebhookTarget::Octopus {
            app,
            credentials,
            tuning,
        } => {
            let client = clients::octopus(credentials, &tuning, None)?;
            (Box::new(OctopusProvider::new(client)), app)
        }
    };
    let secret = app.secret.map(Secret::new);
    let lines = provider
        .ensure_webhooks(&app.app_host, secret.as_ref())
        .await?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{} {line}", provider.name())?;
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
    // Not `stdout().lock()`: the command runs as a task, and a lock is not `Send` across
    // the wait below.
    let mut out = std::io::BufWriter::new(std::io::stdout());
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
