//! A tenant: one provider at one base URL, with what serving it needs.

use std::sync::Arc;
use std::time::Duration;

use ocean_core::{KindInfo, Provider, WebhookSource};
use ocean_store::Scope;

use crate::repair::WebhookRepair;

/// One tenant the service keeps true: a Jira site or an Octopus server.
pub struct Tenant {
    /// A short name, unique in the service: in metrics labels, logs, the admin API and
    /// the tenant's webhook path (`/t/{name}/integration/webhook`).
    pub name: String,
    /// What syncs read.
    pub provider: Arc<dyn Provider>,
    /// What verifies, reads and re-fetches the tenant's webhook deliveries.
    pub source: Arc<dyn WebhookSource>,
    /// What registers and repairs the tenant's webhook, if the service should.
    pub repair: Option<Arc<dyn WebhookRepair>>,
    /// The kinds synced (all of the provider's when empty).
    pub kinds: Vec<&'static KindInfo>,
    /// Between incremental runs (default 15 min).
    pub interval: Duration,
    /// Between full runs with a deletion sweep (default 24 h).
    pub full_interval: Duration,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("provider", &self.provider.name())
            .field("tenant", &self.provider.tenant())
            .field("interval", &self.interval)
            .field("full_interval", &self.full_interval)
            .finish_non_exhaustive()
    }
}

/// The default [`Tenant::interval`].
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// The default [`Tenant::full_interval`].
pub const DEFAULT_FULL_INTERVAL: Duration = Duration::from_secs(24 * 3600);

impl Tenant {
    /// A tenant with the default intervals, every kind, and no webhook repair.
    pub fn new(
        name: impl Into<String>,
        provider: Arc<dyn Provider>,
        source: Arc<dyn WebhookSource>,
    ) -> Self {
        Self {
            name: name.into(),
            provider,
            source,
            repair: None,
            kinds: Vec::new(),
            interval: DEFAULT_INTERVAL,
            full_interval: DEFAULT_FULL_INTERVAL,
        }
    }

    /// The store scope of the tenant's data.
    pub fn scope(&self) -> Scope {
        Scope {
            provider: self.provider.name().to_owned(),
            tenant: self.provider.tenant(),
        }
    }

    /// The kinds a run syncs.
    pub(crate) fn run_kinds(&self) -> Vec<&'static KindInfo> {
        if self.kinds.is_empty() {
            self.provider.kinds().iter().collect()
        } else {
            self.kinds.clone()
        }
    }
}
