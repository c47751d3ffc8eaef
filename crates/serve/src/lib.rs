//! # ocean-serve
//!
//! `ocean serve` as a library: one long-running process that keeps the catalog of one or
//! more tenants (a Jira site, an Octopus server) true.
//!
//! - **Receiver**: `POST /integration/webhook` (one tenant) or
//!   `/t/{tenant}/integration/webhook` verifies a delivery, reads it, and commits it to the
//!   store's queue before answering `202`: a crash right after the answer loses nothing.
//!   A worker per tenant applies the queue to the catalog (re-fetching each entity) and
//!   only then removes the delivery.
//! - **Schedule**: an incremental run every [`Tenant::interval`], a full run with a
//!   deletion sweep every [`Tenant::full_interval`], jittered, retried with backoff, never
//!   two at once (the store's scope lock), on the one replica holding the tenant's lease.
//! - **Self-repair**: each tenant's webhook is checked at start and every
//!   [`Options::repair_interval`].
//! - **Missed events**: each incremental run's changes that no webhook had applied since
//!   the last run are counted (`ocean_missed_events_total{tenant,kind}`).
//! - **Admin**: `/healthz`, `/readyz`, `/metrics`, `/admin/tenants`,
//!   `POST /admin/tenants/{name}/sync[?full=true]`, on [`Options::admin_bind`] or,
//!   without one, on the webhook listener behind [`Options::admin_token`].
//! - **Shutdown**: deliveries are answered `503` with `Retry-After`, the queue is drained
//!   into the store, a running sync gets [`Options::sync_grace`] to finish (past it, it
//!   stops at its last committed checkpoint and the next start resumes it), all within
//!   [`Options::shutdown_timeout`].
//!
//! ```no_run
//! # async fn run(store: std::sync::Arc<dyn ocean_store::Store>, tenant: ocean_serve::Tenant)
//! # -> Result<(), ocean_serve::Error> {
//! let service = ocean_serve::Service::bind(store, vec![tenant], ocean_serve::Options::default()).await?;
//! println!("webhooks on {}", service.webhook_addr());
//! service.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod admin;
mod intake;
mod metrics;
mod repair;
mod schedule;
mod state;
mod tenant;
mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use ocean_listen::WEBHOOK_PATH;
use ocean_store::Store;
use tokio::net::TcpListener;

pub use repair::{ProviderRepair, WebhookRepair};
pub use tenant::{DEFAULT_FULL_INTERVAL, DEFAULT_INTERVAL, Tenant};

use crate::metrics::{Metrics, labels};
use crate::state::{Shared, TenantState};

/// How the service runs. [`Default`] gives the documented defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Where webhooks are received (default `127.0.0.1:8000`).
    pub bind: SocketAddr,
    /// The URL providers post to (the registered webhook is `{public_url}/integration/webhook`,
    /// or `{public_url}/t/{tenant}/integration/webhook` with several tenants); default
    /// `http://{bind}` as bound.
    pub public_url: Option<String>,
    /// Where the admin surface listens; `None` serves it on the webhook listener, which
    /// then requires [`admin_token`](Self::admin_token).
    pub admin_bind: Option<SocketAddr>,
    /// A bearer token `/metrics` and `/admin/*` require (never logged).
    pub admin_token: Option<String>,
    /// Deliveries recorded and not yet applied, per tenant, beyond which new ones are
    /// answered `503` (default 10 000).
    pub queue_capacity: usize,
    /// The largest delivery body accepted (default 1 MiB).
    pub body_limit: usize,
    /// The `Retry-After` of a `503` (default 5 s).
    pub retry_after: Duration,
    /// How long a worker holds a claimed delivery before another may take it (default 60 s).
    pub claim: Duration,
    /// Attempts at a delivery whose entity cannot be fetched before it is given up (the
    /// next sync catches the change; default 5).
    pub max_attempts: u32,
    /// How often an idle worker looks at the queue (default 1 s).
    pub queue_poll: Duration,
    /// The delay before each tenant's first run, jittered ±50% (default 1 s).
    pub first_run_delay: Duration,
    /// The first retry's wait after a failed run, doubling up to the interval (default 30 s).
    pub retry_base: Duration,
    /// Between webhook self-repairs (default 6 h; Jira's dynamic webhooks last 30 days).
    pub repair_interval: Duration,
    /// Whether runs are scheduled only by the replica holding a tenant's lease in the
    /// store (default `true`; harmless with one replica).
    pub leases: bool,
    /// A lease's time to live; a dead holder's tenants are taken over within it (default 30 s).
    pub lease_ttl: Duration,
    /// This replica's name in the lease table (default `{host}-{pid}`).
    pub replica: String,
    /// The sync engine's settings (`full` is set per run).
    pub sync: ocean_sync::Settings,
    /// How long a running sync may go on after shutdown begins (default 10 s).
    pub sync_grace: Duration,
    /// The bound on the whole shutdown (default 30 s).
    pub shutdown_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            public_url: None,
            admin_bind: Some(SocketAddr::from(([127, 0, 0, 1], 9090))),
            admin_token: None,
            queue_capacity: 10_000,
            body_limit: 1024 * 1024,
            retry_after: Duration::from_secs(5),
            claim: Duration::from_secs(60),
            max_attempts: 5,
            queue_poll: worker::DEFAULT_POLL,
            first_run_delay: Duration::from_secs(1),
            retry_base: Duration::from_secs(30),
            repair_interval: Duration::from_secs(6 * 3600),
            leases: true,
            lease_ttl: Duration::from_secs(30),
            replica: default_replica(),
            sync: ocean_sync::Settings::default(),
            sync_grace: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// `{hostname}-{pid}`.
fn default_replica() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ocean".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Why the service could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A listener could not be bound.
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Which listener (`webhooks`, `admin`).
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration cannot be served as it is.
    #[error("invalid service configuration: {0}")]
    Config(String),
    /// The store failed at start.
    #[error(transparent)]
    Store(#[from] ocean_store::Error),
    /// An HTTP server failed.
    #[error("the {what} server failed: {source}")]
    Serve {
        /// Which server.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// What a shutdown achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// Deliveries still recorded in the store (applied by the next start), per tenant.
    pub queued: Vec<(String, u64)>,
    /// Whether everything stopped before [`Options::shutdown_timeout`].
    pub in_time: bool,
}

/// A bound, not yet running service.
pub struct Service {
    shared: Arc<Shared>,
    webhooks: TcpListener,
    admin: Option<TcpListener>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("webhooks", &self.webhooks.local_addr().ok())
            .field(
                "admin",
                &self.admin.as_ref().and_then(|a| a.local_addr().ok()),
            )
            .field("tenants", &self.shared.tenants.len())
            .finish()
    }
}

impl Service {
    /// Checks the configuration, binds the listeners and reads each tenant's queue depth.
    pub async fn bind(
        store: Arc<dyn Store>,
        tenants: Vec<Tenant>,
        options: Options,
    ) -> Result<Service, Error> {
        if tenants.is_empty() {
            return Err(Error::Config("no tenant configured".into()));
        }
        for (i, t) in tenants.iter().enumerate() {
            let valid = !t.name.is_empty()
                && t.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid {
                return Err(Error::Config(format!(
                    "tenant name {:?} must be letters, digits, '-' or '_'",
                    t.name
                )));
            }
            if tenants[..i].iter().any(|o| o.name == t.name) {
                return Err(Error::Config(format!("two tenants are named {:?}", t.name)));
            }
            if t.interval.is_zero() || t.full_interval.is_zero() {
                return Err(Error::Config(format!(
                    "tenant {:?}: intervals must be above zero",
                    t.name
                )));
            }
        }
        if options.admin_bind.is_none() && options.admin_token.is_none() {
            return Err(Error::Config(
                "the admin surface shares the webhook listener: give it an admin token or its own address"
                    .into(),
            ));
        }
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| Error::Bind { addr, what, source })
        };
        let webhooks = bind(options.bind, "webhooks").await?;
        let admin = match options.admin_bind {
            Some(addr) => Some(bind(addr, "admin").await?),
            None => None,
        };
        let public = match &options.public_url {
            Some(url) => url.trim().trim_end_matches('/').to_owned(),
            None => format!(
                "http://{}",
                webhooks.local_addr().map_err(|source| Error::Bind {
                    addr: options.bind,
                    what: "webhooks",
                    source,
                })?
            ),
        };
        let several = tenants.len() > 1;
        let mut states = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            let app_host = if several {
                format!("{public}/t/{}", tenant.name)
            } else {
                public.clone()
            };
            if !tenant.source.verifies() {
                tracing::warn!(
                    tenant = tenant.name,
                    "no webhook secret configured: unsigned deliveries are accepted from anyone"
                );
            }
            let state = TenantState::new(tenant, app_host);
            let depth = store.queue_depth(&state.scope).await?;
            state.pending.store(depth, Ordering::SeqCst);
            states.push(Arc::new(state));
        }
        let (stop, _) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            store,
            metrics: Metrics::new(),
            options,
            draining: Default::default(),
            stop,
            tenants: states,
            started: Instant::now(),
        });
        for t in &shared.tenants {
            t.publish_depth(&shared.metrics);
        }
        Ok(Service {
            shared,
            webhooks,
            admin,
        })
    }

    /// The address webhooks are received on.
    pub fn webhook_addr(&self) -> SocketAddr {
        self.webhooks
            .local_addr()
            .unwrap_or(self.shared.options.bind)
    }

    /// The admin surface's own address, if it has one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|a| a.local_addr().ok())
    }

    /// Each tenant's name and the URL its webhook is registered with.
    pub fn webhook_urls(&self) -> Vec<(String, String)> {
        self.shared
            .tenants
            .iter()
            .map(|t| (t.name().to_owned(), format!("{}{WEBHOOK_PATH}", t.app_host)))
            .collect()
    }

    /// Runs until `shutdown` resolves, then stops gracefully (see the crate docs).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<Stopped, Error> {
        let Service {
            shared,
            webhooks,
            admin,
        } = self;
        let mut app = Router::new()
            .route(&format!("/t/{{name}}{WEBHOOK_PATH}"), post(intake::by_name))
            .layer(DefaultBodyLimit::max(shared.options.body_limit));
        if shared.tenants.len() == 1 {
            app = app.route(WEBHOOK_PATH, post(intake::single));
        }
        let mut app = app.with_state(Arc::clone(&shared));
        let admin_app = admin::router(Arc::clone(&shared));
        if admin.is_none() {
            app = app.merge(admin_app.clone());
        }
        // The HTTP servers outlive the drain: deliveries are answered 503 meanwhile.
        let (close, closed) = tokio::sync::watch::channel(false);
        let until_closed = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|c| *c).await;
        };
        let web = tokio::spawn(
            axum::serve(webhooks, app)
                .with_graceful_shutdown(until_closed(closed.clone()))
                .into_future(),
        );
        let admin_server = admin.map(|listener| {
            tokio::spawn(
                axum::serve(listener, admin_app)
                    .with_graceful_shutdown(until_closed(closed.clone()))
                    .into_future(),
            )
        });

        let mut drains = Vec::new();
        let mut background = Vec::new();
        for t in &shared.tenants {
            drains.push(tokio::spawn(worker::run(
                Arc::clone(&shared),
                Arc::clone(t),
            )));
            drains.push(tokio::spawn(schedule::run(
                Arc::clone(&shared),
                Arc::clone(t),
            )));
            drains.push(tokio::spawn(schedule::keep_lease(
                Arc::clone(&shared),
                Arc::clone(t),
            )));
            background.push(tokio::spawn(repair_loop(
                Arc::clone(&shared),
                Arc::clone(t),
            )));
        }

        shutdown.await;
        let deadline = Instant::now() + shared.options.shutdown_timeout;
        tracing::info!("shutting down: refusing deliveries, draining the queue");
        shared.draining.store(true, Ordering::SeqCst);
        shared.stop.send_replace(true);
        for t in &shared.tenants {
            t.wake.notify_one();
        }
        let all = futures::future::join_all(drains);
        let in_time = tokio::time::timeout_at(deadline, all).await.is_ok();
        if !in_time {
            tracing::warn!(
                timeout = ?shared.options.shutdown_timeout,
                "shutdown timeout reached: what is left stays recorded for the next start"
            );
        }
        for task in background {
            task.abort();
        }
        close.send_replace(true);
        let web = web.await;
        if let Some(admin) = admin_server {
            let _ = admin.await;
        }
        if let Ok(Err(source)) = web {
            return Err(Error::Serve {
                what: "webhooks",
                source,
            });
        }
        let mut queued = Vec::new();
        for t in &shared.tenants {
            let left = shared.store.queue_depth(&t.scope).await.unwrap_or(0);
            queued.push((t.name().to_owned(), left));
        }
        Ok(Stopped { queued, in_time })
    }
}

/// Checks the tenant's webhook at start and every `repair_interval`.
async fn repair_loop(shared: Arc<Shared>, tenant: Arc<TenantState>) {
    let Some(repair) = tenant.tenant.repair.clone() else {
        return;
    };
    let mut failures = 0u32;
    loop {
        let wait = match repair.ensure(&tenant.app_host).await {
            Ok(outcome) => {
                failures = 0;
                tracing::info!(tenant = tenant.name(), url = %tenant.app_host, outcome, "webhook checked");
                count_repair(&shared, &tenant, "ok");
                schedule::jitter(shared.options.repair_interval, 0.1)
            }
            Err(e) => {
                failures += 1;
                tracing::error!(tenant = tenant.name(), error = %e, "webhook self-repair failed: retrying");
                count_repair(&shared, &tenant, "failed");
                schedule::backoff(
                    failures,
                    Duration::from_secs(10),
                    shared.options.repair_interval,
                )
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.stopped() => return,
        }
    }
}

fn count_repair(shared: &Shared, tenant: &TenantState, outcome: &str) {
    shared
        .metrics
        .repairs
        .get_or_create(&labels([("tenant", tenant.name()), ("outcome", outcome)]))
        .inc();
}
