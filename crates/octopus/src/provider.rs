//! Octopus Deploy as an [`ocean_core::Provider`].
//!
//! Every kind is synced in full and swept: the API has no `updated` filter on its lists.
//! Spaces, projects, environments and machines are small. Releases and deployments grow
//! without bound but are append-mostly; when the client caps them per space
//! ([`max_items_per_space`](crate::OctopusClientBuilder::max_items_per_space)) their full
//! stream is incomplete, so nothing of theirs is swept.

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use std::sync::Arc;

use ocean_core::{Client, KindInfo, Provider, Record, Result, Secret, WebhookSource};

use crate::{OctopusClient, OctopusKind, OctopusWebhooks, SECRET_HEADER, SubscriptionOptions};

/// An Octopus server as a [`Provider`].
///
/// ```no_run
/// # fn run() -> ocean_core::Result<()> {
/// use ocean_core::Provider;
/// let client = ocean_octopus::OctopusClient::new("https://example.octopus.app", "API-KEY")?;
/// let octopus = ocean_octopus::OctopusProvider::new(client);
/// assert_eq!(octopus.kind("deployment").unwrap().parent, Some("space"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OctopusProvider {
    client: OctopusClient,
}

impl OctopusProvider {
    /// The provider of `client`'s server.
    pub fn new(client: OctopusClient) -> Self {
        Self { client }
    }

    /// The Octopus client.
    pub fn octopus(&self) -> &OctopusClient {
        &self.client
    }
}

impl Provider for OctopusProvider {
    fn name(&self) -> &'static str {
        "octopus"
    }

    fn tenant(&self) -> String {
        self.client.core().base_url().to_string()
    }

    fn client(&self) -> &Client {
        self.client.core()
    }

    fn kinds(&self) -> &'static [KindInfo] {
        &OctopusKind::INFOS
    }

    fn full(&self, kind: &str, _resume: Option<&str>) -> BoxStream<'static, Result<Record>> {
        match kind.parse::<OctopusKind>() {
            Ok(kind) => self.client.sync(kind),
            Err(e) => {
                let error = ocean_core::Error::Config(e.to_string());
                futures::stream::once(async move { Err(error) }).boxed()
            }
        }
    }

    fn complete(&self, kind: &str) -> bool {
        let capped = kind
            .parse::<OctopusKind>()
            .is_ok_and(OctopusKind::is_capped);
        !(capped && self.client.max_items_per_space().is_some())
    }

    /// Fetches a document by its id alone (ids are unique across spaces); the record
    /// carries no space.
    fn fetch_one(&self, kind: &str, id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        let (client, kind_name, id) = (self.client.clone(), kind.to_owned(), id.to_owned());
        async move {
            let kind: OctopusKind = kind_name
                .parse()
                .map_err(|e: crate::ParseKindError| ocean_core::Error::Config(e.to_string()))?;
            let item = client.fetch_one(kind, "", &id).await?;
            Ok(item.map(|item| Record::new(kind.as_str(), item)))
        }
        .boxed()
    }

    fn webhook_source(&self, secret: Option<&Secret>) -> Option<Arc<dyn WebhookSource>> {
        let mut source = OctopusWebhooks::new(self.client.clone());
        if let Some(secret) = secret {
            source = source.header(SECRET_HEADER, secret.clone());
        }
        Some(Arc::new(source))
    }

    /// One subscription per space, each line `Spaces-1: created`.
    fn ensure_webhooks<'a>(
        &'a self,
        app_host: &'a str,
        secret: Option<&'a Secret>,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        let options = SubscriptionOptions {
            header: secret.map(|s| (SECRET_HEADER.to_owned(), s.clone())),
            ..SubscriptionOptions::default()
        };
        async move {
            let spaces = self.client.ensure_subscriptions(app_host, &options).await?;
            Ok(spaces
                .iter()
                .map(|space| format!("{}: {}", space.space_id, space.outcome))
                .collect())
        }
        .boxed()
    }
}
