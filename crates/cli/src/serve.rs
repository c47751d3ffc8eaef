//! `ocean serve`: the long-running service (crate `ocean-serve`) from a config file and
//! flags.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ocean_core::{Provider, Secret};
use ocean_jira::{JiraProvider, SyncOptions};
use ocean_octopus::OctopusProvider;
use ocean_serve::{Options, ProviderRepair, Service, Tenant};

use crate::args::{JiraCredentials, OctopusCredentials, ServeArgs, Tuning};
use crate::clients;
use crate::commands::Failure;
use crate::serve_config::{self, ServeConfig, TenantConfig, duration};

/// Runs the service until SIGTERM or Ctrl-C, then drains and exits.
/// `config` is the `--config` file, whose `[serve]` table this reads.
pub async fn run(args: ServeArgs, config: Option<&std::path::Path>) -> Result<(), Failure> {
    let config = match config {
        Some(path) => serve_config::load(path)?,
        None => ServeConfig::default(),
    };
    let spec = args
        .store
        .clone()
        .or_else(|| config.store.clone())
        .ok_or("no store: pass --store or set `store` in [serve]")?;
    let interval = pick(&args.interval, &config.interval, "interval")?;
    let full_interval = pick(&args.full_interval, &config.full_interval, "full_interval")?;
    if config.tenants.is_empty() {
        return Err("no tenant: add a [[serve.tenants]] table to the config".into());
    }
    let mut tenants = Vec::with_capacity(config.tenants.len());
    for t in &config.tenants {
        tenants.push(tenant(t, interval, full_interval).await?);
    }
    let options = options(&args, &config)?;
    let store: Arc<dyn ocean_store::Store> = ocean_store::open(&spec).await?.into();
    let service = Service::bind(store, tenants, options).await?;
    // Printed, not logged: scripts and tests read the ports from these lines.
    eprintln!("listening on http://{} (webhooks)", service.webhook_addr());
    if let Some(admin) = service.admin_addr() {
        eprintln!("admin on http://{admin}");
    }
    for (name, url) in service.webhook_urls() {
        tracing::info!(tenant = name, url, "webhook URL");
    }
    let stopped = service.run(crate::listen::shutdown()).await?;
    for (tenant, queued) in &stopped.queued {
        if *queued > 0 {
            eprintln!("{tenant}: {queued} deliveries stay recorded for the next start");
        }
    }
    eprintln!(
        "stopped{}",
        if stopped.in_time {
            ""
        } else {
            " (shutdown timeout reached)"
        }
    );
    Ok(())
}

/// A duration from the flag, else the config, else `None`.
fn pick(
    flag: &Option<String>,
    config: &Option<String>,
    name: &str,
) -> Result<Option<Duration>, String> {
    flag.as_ref()
        .or(config.as_ref())
        .map(|s| duration(s).map_err(|e| format!("{name}: {e}")))
        .transpose()
}

fn addr(s: &str, name: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|e| format!("{name} `{s}` is not an address like 127.0.0.1:8000: {e}"))
}

fn options(args: &ServeArgs, config: &ServeConfig) -> Result<Options, Failure> {
    let mut o = Options::default();
    if let Some(b) = args.bind.as_ref().or(config.bind.as_ref()) {
        o.bind = addr(b, "bind")?;
    }
    o.public_url = args
        .public_url
        .clone()
        .or_else(|| config.public_url.clone());
    match args.admin_bind.as_ref().or(config.admin_bind.as_ref()) {
        Some(b) if b == "none" => o.admin_bind = None,
        Some(b) => o.admin_bind = Some(addr(b, "admin_bind")?),
        None => {}
    }
    o.admin_token = match (&args.admin_token, &config.admin_token_env) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(var)) => Some(
            std::env::var(var)
                .map_err(|_| format!("admin_token_env names {var}, which is not set"))?,
        ),
        (None, None) => None,
    };
    if let Some(d) = pick(
        &args.shutdown_timeout,
        &config.shutdown_timeout,
        "shutdown_timeout",
    )? {
        o.shutdown_timeout = d;
        o.sync_grace = o.sync_grace.min(d / 2);
    }
    if let Some(d) = pick(&args.lease_ttl, &config.lease_ttl, "lease_ttl")? {
        o.lease_ttl = d;
    }
    if let Some(d) = pick(&None, &config.repair_interval, "repair_interval")? {
        o.repair_interval = d;
    }
    if let Some(d) = pick(&args.claim, &None, "claim")? {
        o.claim = d;
    }
    if let Some(d) = pick(&args.retry_base, &None, "retry_base")? {
        o.retry_base = d;
    }
    if let Some(n) = config.queue_capacity {
        o.queue_capacity = n.max(1);
    }
    if let Some(r) = &args.replica {
        o.replica = r.clone();
    }
    o.sync.max_delete_fraction = args.max_delete_fraction;
    Ok(o)
}

/// Exits the config's tenant as a [`Tenant`], with its clients built.
async fn tenant(
    t: &TenantConfig,
    interval: Option<Duration>,
    full_interval: Option<Duration>,
) -> Result<Tenant, Failure> {
    let name = t.name.as_str();
    let tuning = Tuning {
        max_retries: None,
        max_concurrency: t.max_concurrency,
        rate_limit: t.rate_limit,
        timeout: None,
    };
    let secret = serve_config::secret(
        name,
        "webhook_secret",
        &t.webhook_secret,
        &t.webhook_secret_env,
    )?;
    let provider: Arc<dyn Provider> = match t.provider.as_str() {
        "jira" => {
            let token = serve_config::secret(name, "token", &t.token, &t.token_env)?
                .ok_or_else(|| format!("tenant {name:?}: give `token_env` (or `token`)"))?;
            let email = t
                .email
                .as_deref()
                .ok_or_else(|| format!("tenant {name:?}: give `email`"))?;
            let email = serve_config::expand(name, "email", email)?;
            let credentials = JiraCredentials {
                url: Some(serve_config::expand(name, "url", &t.url)?),
                email: Some(email),
                token: Some(token),
                ..JiraCredentials::default()
            };
            let client = clients::jira(credentials, &tuning).await?;
            let sync = SyncOptions {
                jql: t
                    .jql
                    .as_deref()
                    .map(|j| serve_config::expand(name, "jql", j))
                    .transpose()?,
                ..SyncOptions::default()
            };
            Arc::new(JiraProvider::new(client, sync))
        }
        "octopus" => {
            let key = serve_config::secret(name, "api_key", &t.api_key, &t.api_key_env)?
                .ok_or_else(|| format!("tenant {name:?}: give `api_key_env` (or `api_key`)"))?;
            let credentials = OctopusCredentials {
                url: Some(serve_config::expand(name, "url", &t.url)?),
                api_key: Some(key),
            };
            let max_items = Some(t.max_items.unwrap_or(1000)).filter(|n| *n > 0);
            Arc::new(OctopusProvider::new(clients::octopus(
                credentials,
                &tuning,
                max_items,
            )?))
        }
        other => {
            return Err(format!(
                "tenant {name:?}: provider must be `jira` or `octopus`, not {other:?}"
            )
            .into());
        }
    };
    let secret = secret.map(Secret::new);
    let source = provider
        .webhook_source(secret.as_ref())
        .ok_or_else(|| format!("tenant {name:?}: {} has no webhooks", provider.name()))?;
    let mut tenant = Tenant::new(name, Arc::clone(&provider), source);
    if t.repair_webhook.unwrap_or(true) {
        tenant.repair = Some(Arc::new(ProviderRepair { provider, secret }));
    }
    let names: Vec<&str> = t.kinds.iter().map(String::as_str).collect();
    tenant.kinds = crate::sync::selected(tenant.provider.as_ref(), &names)
        .map_err(|e| format!("tenant {name:?}: {e}"))?;
    if let Some(d) = pick(&None, &t.interval, "interval")?.or(interval) {
        tenant.interval = d;
    }
    if let Some(d) = pick(&None, &t.full_interval, "full_interval")?.or(full_interval) {
        tenant.full_interval = d;
    }
    Ok(tenant)
}
