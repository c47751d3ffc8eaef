//! Event subscriptions: Octopus' webhooks, one per space, created once.
//!
//! Octopus delivers events to subscriptions, and a subscription lives in one
//! space, so [`OctopusClient::ensure_subscriptions`] walks every space. It reads
//! *all* pages of a space's subscriptions before deciding (Ocean checks page by
//! page and so creates a duplicate for every page without the match).

use std::fmt;

use futures::{StreamExt, TryStreamExt, stream};
use ocean_core::{Error, FanOut, Resource, Result, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{OctopusClient, OctopusKind};

/// The path, under the app host, where the receiver listens (Ocean's route).
pub const WEBHOOK_PATH: &str = "/integration/webhook";

/// The header a subscription made by [`Provider::ensure_webhooks`](ocean_core::Provider)
/// carries its shared secret in (Octopus signs nothing; the header is its only proof).
pub const SECRET_HEADER: &str = "X-Ocean-Webhook-Secret";

/// How long Octopus waits for the receiver to answer (Ocean's value), as a .NET TimeSpan.
pub const WEBHOOK_TIMEOUT: &str = "00:00:50";

/// The event categories a subscription asks for by default: document changes
/// (`Created`, `Modified`, `Deleted`), the deployment lifecycle, and the
/// machine events that change a deployment target's state. Together they cover
/// every change to the kinds this crate syncs.
pub const EVENT_CATEGORIES: &[&str] = &[
    "Created",
    "Modified",
    "Deleted",
    "DeploymentQueued",
    "DeploymentStarted",
    "DeploymentSucceeded",
    "DeploymentFailed",
    "MachineAdded",
    "MachineDeleted",
    "MachineEnabled",
    "MachineDisabled",
    "MachineHealthy",
    "MachineUnhealthy",
    "MachineUnavailable",
    "MachineHasWarnings",
    "MachineDeploymentRelatedPropertyWasUpdated",
];

/// The filter of a created subscription: which events Octopus delivers.
///
/// Within a list any value matches; across lists all must match; an empty list
/// matches everything. The default asks for [`EVENT_CATEGORIES`] about the
/// document types of the synced kinds (`Spaces`, `Projects`, `Releases`,
/// `Deployments`, `Machines`, `Environments`), so Octopus does not post logins,
/// task logs or variable edits. [`SubscriptionFilter::everything`] is Ocean's
/// behaviour (no filter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFilter {
    /// `Filter.EventCategories`.
    pub event_categories: Vec<String>,
    /// `Filter.DocumentTypes`.
    pub document_types: Vec<String>,
}

impl Default for SubscriptionFilter {
    fn default() -> Self {
        Self {
            event_categories: EVENT_CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
            document_types: OctopusKind::ALL
                .iter()
                .map(|k| k.document_type().to_owned())
                .collect(),
        }
    }
}

impl SubscriptionFilter {
    /// No filter: every event of the space.
    pub fn everything() -> Self {
        Self {
            event_categories: Vec::new(),
            document_types: Vec::new(),
        }
    }
}

/// How subscriptions are created.
///
/// ```
/// use ocean_octopus::SubscriptionOptions;
/// let options = SubscriptionOptions {
///     header: Some(("X-Ocean-Token".into(), "s3cr3t-value".into())),
///     ..SubscriptionOptions::default()
/// };
/// assert_eq!(options.name_prefix, "Ocean Subscription");
/// assert!(!format!("{options:?}").contains("s3cr3t-value"));
/// ```
#[derive(Debug, Clone)]
pub struct SubscriptionOptions {
    /// The subscription's name is `{name_prefix} - {app_host}` (default `Ocean Subscription`).
    pub name_prefix: String,
    /// `WebhookHeaderKey` and `WebhookHeaderValue`: a header Octopus adds to every
    /// delivery, which the receiver checks with [`verify_header_value`](crate::verify_header_value).
    /// Octopus signs nothing, so without it anyone can post events.
    pub header: Option<(String, Secret)>,
    /// Which events are delivered.
    pub filter: SubscriptionFilter,
}

impl Default for SubscriptionOptions {
    fn default() -> Self {
        Self {
            name_prefix: "Ocean Subscription".into(),
            header: None,
            filter: SubscriptionFilter::default(),
        }
    }
}

/// What [`OctopusClient::ensure_subscriptions`] did in one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceOutcome {
    /// The space.
    pub space_id: String,
    /// What happened there.
    pub outcome: SubscriptionOutcome,
}

/// Whether a space's subscription was created or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionOutcome {
    /// No subscription posted to the webhook URL; one was created.
    Created,
    /// A subscription already posts to the webhook URL; nothing was sent.
    AlreadyExists,
}

impl fmt::Display for SubscriptionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "created",
            Self::AlreadyExists => "already exists",
        })
    }
}

impl fmt::Display for SpaceOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: subscription {}", self.space_id, self.outcome)
    }
}

/// An event subscription, as listed (`GET /api/{space_id}/subscriptions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "subscription",
    path = "/{space_id}/subscriptions",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// `Subscriptions-1`.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// Whether deliveries are paused.
    #[serde(default)]
    pub is_disabled: bool,
    /// Where and what it delivers.
    #[serde(default)]
    pub event_notification_subscription: Option<EventNotification>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The webhook part of a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventNotification {
    /// Where events are posted.
    #[serde(rename = "WebhookURI", default)]
    pub webhook_uri: Option<String>,
    /// Every other field, as sent (the header value is `null` when read back).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Subscription {
    /// The URL it posts events to.
    pub fn webhook_uri(&self) -> Option<&str> {
        self.event_notification_subscription
            .as_ref()?
            .webhook_uri
            .as_deref()
    }
}

/// `{app_host}/integration/webhook`, without a doubled slash.
pub fn webhook_url(app_host: &str) -> String {
    format!("{}{WEBHOOK_PATH}", app_host.trim().trim_end_matches('/'))
}

impl OctopusClient {
    /// Makes sure every space has a subscription posting to `{app_host}/integration/webhook`.
    ///
    /// For each space (at most [`space_concurrency`](Self::space_concurrency) at once) it
    /// reads every page of the space's subscriptions; if one already posts to that URL the
    /// space is [`AlreadyExists`](SubscriptionOutcome::AlreadyExists), otherwise it creates
    /// one with `POST /api/{space_id}/subscriptions` ([`Created`](SubscriptionOutcome::Created)).
    /// The outcomes come in the server's space order.
    ///
    /// The first failure ends the call. Running it again is safe: spaces done
    /// before the failure report `AlreadyExists`. The header secret never
    /// appears in an error, even when the server echoes the request back.
    ///
    /// ```no_run
    /// # async fn run(client: ocean_octopus::OctopusClient) -> ocean_core::Result<()> {
    /// use ocean_octopus::SubscriptionOptions;
    /// let options = SubscriptionOptions {
    ///     header: Some(("X-Ocean-Token".into(), std::env::var("WEBHOOK_TOKEN").unwrap().into())),
    ///     ..Default::default()
    /// };
    /// for space in client.ensure_subscriptions("https://ocean.example.com", &options).await? {
    ///     println!("{space}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ensure_subscriptions(
        &self,
        app_host: &str,
        options: &SubscriptionOptions,
    ) -> Result<Vec<SpaceOutcome>> {
        let url = webhook_url(app_host);
        let name = format!("{} - {}", options.name_prefix, app_host.trim());
        let plan = std::sync::Arc::new(Plan {
            client: self.clone(),
            url,
            name,
            options: options.clone(),
        });
        let indexed = self
            .space_ids()
            .enumerate()
            .map(|(i, id)| id.map(|id| (i, id)));
        let mut outcomes: Vec<(usize, SpaceOutcome)> = FanOut::new(self.space_concurrency())
            .run(indexed, move |(i, space_id)| {
                let plan = std::sync::Arc::clone(&plan);
                stream::once(async move {
                    let outcome = plan.ensure_in(&space_id).await?;
                    Ok((i, SpaceOutcome { space_id, outcome }))
                })
            })
            .try_collect()
            .await?;
        outcomes.sort_by_key(|(i, _)| *i);
        Ok(outcomes.into_iter().map(|(_, o)| o).collect())
    }
}

/// One `ensure_subscriptions` call, shared by its spaces.
struct Plan {
    client: OctopusClient,
    url: String,
    name: String,
    options: SubscriptionOptions,
}

impl Plan {
    async fn ensure_in(&self, space_id: &str) -> Result<SubscriptionOutcome> {
        let mut existing = Subscription::list(self.client.core(), space_id)
            .page_size(self.client.page_size())
            .stream();
        while let Some(subscription) = existing.try_next().await? {
            if subscription.webhook_uri() == Some(self.url.as_str()) {
                tracing::debug!(space_id, subscription = %subscription.id, "subscription exists");
                return Ok(SubscriptionOutcome::AlreadyExists);
            }
        }
        drop(existing);
        let body = self.create_body(space_id);
        let sent = self
            .client
            .core()
            .post(format!("/{space_id}/subscriptions"))
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(_) => {
                tracing::info!(space_id, url = %self.url, "created an Octopus subscription");
                Ok(SubscriptionOutcome::Created)
            }
            Err(e) => Err(self.scrubbed(e)),
        }
    }

    /// The `SubscriptionResource` to create.
    fn create_body(&self, space_id: &str) -> Value {
        let filter = &self.options.filter;
        let mut notification = json!({
            "Filter": {
                "Users": [],
                "Projects": [],
                "ProjectGroups": [],
                "Environments": [],
                "EventGroups": [],
                "EventCategories": filter.event_categories,
                "EventAgents": [],
                "Tenants": [],
                "Tags": [],
                "DocumentTypes": filter.document_types,
            },
            "WebhookURI": self.url,
            "WebhookTimeout": WEBHOOK_TIMEOUT,
            "WebhookTeams": [],
            "EmailTeams": [],
            "EmailFrequencyPeriod": "01:00:00",
            "EmailPriority": "Normal",
            "EmailShowDatesInTimeZoneId": "UTC",
        });
        if let Some((key, value)) = &self.options.header {
            notification["WebhookHeaderKey"] = json!(key);
            notification["WebhookHeaderValue"] = json!(value.expose());
        }
        json!({
            "Name": self.name,
            "Type": "Event",
            "IsDisabled": false,
            "SpaceId": space_id,
            "EventNotificationSubscription": notification,
        })
    }

    /// The error without the header secret, should the server have echoed it back
    /// (core scrubs the API key, but this secret is ours, not the client's).
    fn scrubbed(&self, error: Error) -> Error {
        let Some((_, secret)) = &self.options.header else {
            return error;
        };
        let secret = secret.expose();
        match error {
            Error::Status(mut status) if !secret.is_empty() => {
                status.body_snippet = status.body_snippet.replace(secret, "[redacted]");
                for message in &mut status.messages {
                    *message = message.replace(secret, "[redacted]");
                }
                Error::Status(status)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_url_never_doubles_a_slash() {
        assert_eq!(
            webhook_url("https://ocean.example.com/"),
            "https://ocean.example.com/integration/webhook"
        );
        assert_eq!(
            webhook_url("https://ocean.example.com"),
            "https://ocean.example.com/integration/webhook"
        );
    }

    #[test]
    fn outcomes_read_as_words() {
        assert_eq!(SubscriptionOutcome::Created.to_string(), "created");
        assert_eq!(
            SubscriptionOutcome::AlreadyExists.to_string(),
            "already exists"
        );
        let outcome = SpaceOutcome {
            space_id: "Spaces-1".into(),
            outcome: SubscriptionOutcome::AlreadyExists,
        };
        assert_eq!(outcome.to_string(), "Spaces-1: subscription already exists");
    }

    #[test]
    fn the_default_filter_covers_every_synced_kind() {
        let filter = SubscriptionFilter::default();
        assert_eq!(
            filter.document_types,
            [
                "Spaces",
                "Projects",
                "Releases",
                "Deployments",
                "Machines",
                "Environments"
            ]
        );
        for category in [
            "Created",
            "Modified",
            "Deleted",
            "DeploymentSucceeded",
            "MachineHealthy",
        ] {
            assert!(
                filter.event_categories.iter().any(|c| c == category),
                "{category}"
            );
        }
        assert_eq!(SubscriptionFilter::everything().event_categories.len(), 0);
    }

    #[test]
    fn listed_subscriptions_decode_from_a_real_page() {
        let path = format!(
            "{}/tests/fixtures/octopus-subscriptions-collection.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let page: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let subscription: Subscription = serde_json::from_value(page["Items"][0].clone()).unwrap();
        assert_eq!(
            subscription.webhook_uri(),
            Some("https://eo1ekhz9261va71.m.pipedream.net")
        );
    }
}
