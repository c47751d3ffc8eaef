//! What the service's tasks share: the store, the metrics, and each tenant's state.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use ocean_store::{Scope, Store};
use tokio::sync::Notify;

use crate::metrics::{Metrics, labels};
use crate::{Options, Tenant};

/// Shared by the HTTP handlers, the workers and the schedulers.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) metrics: Metrics,
    pub(crate) options: Options,
    /// Set on shutdown: deliveries are refused with `503`.
    pub(crate) draining: AtomicBool,
    /// Turns `true` on shutdown.
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
    pub(crate) tenants: Vec<Arc<TenantState>>,
    pub(crate) started: Instant,
}

impl Shared {
    /// The tenant named `name`.
    pub(crate) fn tenant(&self, name: &str) -> Option<&Arc<TenantState>> {
        self.tenants.iter().find(|t| t.tenant.name == name)
    }

    /// Resolves once shutdown has begun.
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Whether shutdown has begun.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// The last scheduled run of a tenant, as `/readyz` judges it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunStatus {
    /// When the last run ended, successfully or not.
    pub(crate) finished: Option<Instant>,
    /// Its error, if it failed.
    pub(crate) error: Option<String>,
}

/// One tenant's live state.
pub(crate) struct TenantState {
    pub(crate) tenant: Tenant,
    pub(crate) scope: Scope,
    /// Where the provider should post (`{public_url}` or `{public_url}/t/{name}`).
    pub(crate) app_host: String,
    /// Wakes the worker: a delivery was recorded, or shutdown began.
    pub(crate) wake: Notify,
    /// Deliveries recorded and not yet acknowledged (this replica's view).
    pub(crate) pending: AtomicU64,
    /// Wakes the scheduler for a run asked through the admin API.
    pub(crate) trigger: Notify,
    /// Whether the asked run is full.
    pub(crate) trigger_full: AtomicBool,
    pub(crate) status: Mutex<RunStatus>,
    /// `(kind, id)` of every change webhooks applied since the last run began.
    pub(crate) applied: Mutex<HashSet<(String, String)>>,
    /// Whether this replica holds the scheduling lease.
    pub(crate) lease_held: AtomicBool,
}

impl TenantState {
    pub(crate) fn new(tenant: Tenant, app_host: String) -> Self {
        Self {
            scope: tenant.scope(),
            tenant,
            app_host,
            wake: Notify::new(),
            pending: AtomicU64::new(0),
            trigger: Notify::new(),
            trigger_full: AtomicBool::new(false),
            status: Mutex::new(RunStatus::default()),
            applied: Mutex::new(HashSet::new()),
            lease_held: AtomicBool::new(false),
        }
    }

    /// The tenant's name.
    pub(crate) fn name(&self) -> &str {
        &self.tenant.name
    }

    /// Sets the queue-depth gauge from [`pending`](Self::pending).
    pub(crate) fn publish_depth(&self, metrics: &Metrics) {
        let depth = self.pending.load(Ordering::SeqCst);
        metrics
            .queue_depth
            .get_or_create(&labels([("tenant", self.name())]))
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    pub(crate) fn lock_status(&self) -> std::sync::MutexGuard<'_, RunStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn lock_applied(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
        self.applied.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Epoch milliseconds now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
