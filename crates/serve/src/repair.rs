//! Webhook self-repair: make sure the provider posts the tenant's events to us.

use std::sync::Arc;

use futures::future::BoxFuture;
use ocean_core::{Provider, Secret};

/// Registers or repairs a tenant's webhooks so that they post to
/// `{app_host}/integration/webhook` with the right events and secret (for Jira's dynamic
/// OAuth webhooks this also pushes their 30-day expiry back).
pub trait WebhookRepair: Send + Sync + 'static {
    /// Checks and repairs; `Ok` names what was done, in words, for the log.
    fn ensure<'a>(&'a self, app_host: &'a str) -> BoxFuture<'a, ocean_core::Result<String>>;
}

/// Any provider's [`Provider::ensure_webhooks`], with the tenant's secret.
#[derive(Clone)]
pub struct ProviderRepair {
    /// The tenant's provider.
    pub provider: Arc<dyn Provider>,
    /// What deliveries are signed (or headed) with.
    pub secret: Option<Secret>,
}

impl WebhookRepair for ProviderRepair {
    fn ensure<'a>(&'a self, app_host: &'a str) -> BoxFuture<'a, ocean_core::Result<String>> {
        Box::pin(async move {
            let lines = self
                .provider
                .ensure_webhooks(app_host, self.secret.as_ref())
                .await?;
            Ok(lines.join("; "))
        })
    }
}
