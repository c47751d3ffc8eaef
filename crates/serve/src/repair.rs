//! Webhook self-repair: make sure the provider posts the tenant's events to us.

use futures::future::BoxFuture;
use ocean_jira::{JiraClient, WebhookOptions};
use ocean_octopus::{OctopusClient, SubscriptionOptions};

/// Registers or repairs a tenant's webhook (Jira) or subscriptions (Octopus) so that
/// they post to `{app_host}/integration/webhook` with the right events and secret; for
/// Jira's dynamic (OAuth) webhooks this also pushes their 30-day expiry back.
pub trait WebhookRepair: Send + Sync + 'static {
    /// Checks and repairs; `Ok` names what was done, in words, for the log.
    fn ensure<'a>(&'a self, app_host: &'a str) -> BoxFuture<'a, ocean_core::Result<String>>;
}

/// Jira: [`JiraClient::ensure_webhook`].
#[derive(Debug, Clone)]
pub struct JiraRepair {
    /// The tenant's client.
    pub client: JiraClient,
    /// The webhook's name and secret.
    pub options: WebhookOptions,
}

impl WebhookRepair for JiraRepair {
    fn ensure<'a>(&'a self, app_host: &'a str) -> BoxFuture<'a, ocean_core::Result<String>> {
        Box::pin(async move {
            let outcome = self.client.ensure_webhook(app_host, &self.options).await?;
            Ok(outcome.to_string())
        })
    }
}

/// Octopus: [`OctopusClient::ensure_subscriptions`] in every space.
#[derive(Debug, Clone)]
pub struct OctopusRepair {
    /// The tenant's client.
    pub client: OctopusClient,
    /// The subscriptions' name, header secret and event filter.
    pub options: SubscriptionOptions,
}

impl WebhookRepair for OctopusRepair {
    fn ensure<'a>(&'a self, app_host: &'a str) -> BoxFuture<'a, ocean_core::Result<String>> {
        Box::pin(async move {
            let spaces = self
                .client
                .ensure_subscriptions(app_host, &self.options)
                .await?;
            let parts: Vec<String> = spaces.iter().map(ToString::to_string).collect();
            Ok(parts.join("; "))
        })
    }
}
