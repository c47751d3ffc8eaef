//! Octopus as a [`WebhookSource`]: header check, event parsing and re-fetching, for a
//! provider-agnostic receiver (the `ocean-listen` crate) to serve.

use std::fmt;

use futures::future::BoxFuture;
use ocean_core::reqwest::header::HeaderMap;
use ocean_core::webhook::{ParseError, PendingChange, VerifyError, WebhookEvent, WebhookSource};
use ocean_core::{RawItem, Secret};

use crate::events::{OctopusEvent, UnsupportedReason};
use crate::{OctopusClient, OctopusKind, verify_header_value};

/// Receives Octopus subscription deliveries: checks the header the subscription was
/// created with ([`SubscriptionOptions::header`](crate::SubscriptionOptions)), reads the
/// [`OctopusEvent`], and re-fetches each changed document with
/// [`OctopusClient::fetch_one`] in the event's space.
///
/// Octopus signs nothing: the header is a shared secret, compared in constant time.
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::{VerifyError, WebhookSource};
/// use ocean_octopus::{OctopusClient, OctopusWebhooks};
///
/// let client = OctopusClient::new("https://example.octopus.app", "API-KEY").unwrap();
/// let source = OctopusWebhooks::new(client).header("X-Ocean-Webhook-Secret", "s3cret");
/// let mut headers = HeaderMap::new();
/// assert!(matches!(source.verify(&headers, b"{}"), Err(VerifyError::Missing { .. })));
/// headers.insert("x-ocean-webhook-secret", HeaderValue::from_static("s3cret"));
/// assert!(source.verify(&headers, b"{}").is_ok());
/// ```
#[derive(Clone)]
pub struct OctopusWebhooks {
    client: OctopusClient,
    header: Option<(String, Secret)>,
}

impl fmt::Debug for OctopusWebhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OctopusWebhooks")
            .field("client", &self.client.core())
            .field("header", &self.header)
            .finish()
    }
}

impl OctopusWebhooks {
    /// A source that fetches with `client` and accepts every delivery (until
    /// [`header`](Self::header) is set).
    pub fn new(client: OctopusClient) -> Self {
        Self {
            client,
            header: None,
        }
    }

    /// The subscription's `WebhookHeaderKey` and `WebhookHeaderValue`: deliveries without
    /// that exact header value are refused. An empty value is no secret.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Secret>) -> Self {
        let value = value.into();
        self.header = (!value.expose().is_empty()).then(|| (key.into(), value));
        self
    }

    /// The client fetches go through.
    pub fn client(&self) -> &OctopusClient {
        &self.client
    }

    async fn fetch_change(&self, pending: &PendingChange) -> ocean_core::Result<Option<RawItem>> {
        let change = &pending.change;
        let kind: OctopusKind = change
            .kind
            .parse()
            .map_err(|e| ocean_core::Error::Config(format!("an Octopus webhook change of {e}")))?;
        let space = change.parent.as_ref().map_or("", |p| p.id.as_str());
        self.client.fetch_one(kind, space, &change.id).await
    }
}

impl WebhookSource for OctopusWebhooks {
    fn provider(&self) -> &'static str {
        "octopus"
    }

    fn verifies(&self) -> bool {
        self.header.is_some()
    }

    fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), VerifyError> {
        let Some((key, secret)) = &self.header else {
            return Ok(());
        };
        let Some(received) = headers.get(key.as_str()) else {
            return Err(VerifyError::Missing {
                header: key.clone(),
            });
        };
        if verify_header_value(secret.expose().as_bytes(), Some(received.as_bytes())) {
            Ok(())
        } else {
            Err(VerifyError::Mismatch {
                header: key.clone(),
            })
        }
    }

    fn parse(&self, body: &[u8]) -> Result<WebhookEvent, ParseError> {
        let event = OctopusEvent::parse(body).map_err(ParseError::from)?;
        let name = match (&event, event.info()) {
            (_, Some(info)) => info.category.clone(),
            (
                OctopusEvent::Unsupported {
                    reason: UnsupportedReason::EventType(t),
                    ..
                },
                None,
            ) => t.clone(),
            _ => String::new(),
        };
        match &event {
            OctopusEvent::Unsupported { reason, .. } => Ok(WebhookEvent::Unsupported {
                event: name,
                reason: reason.to_string(),
            }),
            _ => Ok(WebhookEvent::Changes {
                event: name,
                changes: event
                    .changes()
                    .into_iter()
                    .map(PendingChange::from)
                    .collect(),
            }),
        }
    }

    fn fetch<'a>(
        &'a self,
        change: &'a PendingChange,
    ) -> BoxFuture<'a, ocean_core::Result<Option<RawItem>>> {
        Box::pin(self.fetch_change(change))
    }
}

#[cfg(test)]
mod tests {
    use httpmock::prelude::*;
    use ocean_core::reqwest::header::HeaderValue;
    use ocean_core::webhook::Action;

    use super::*;

    fn source(url: &str) -> OctopusWebhooks {
        OctopusWebhooks::new(OctopusClient::new(url, "API-TEST").unwrap())
    }

    const DEPLOYED: &[u8] = br#"{"EventType":"SubscriptionPayload","Payload":{"Event":{
        "Id":"Events-9","Category":"DeploymentSucceeded","SpaceId":"Spaces-2",
        "RelatedDocumentIds":["Deployments-4","ServerTasks-1","Projects-3"]}}}"#;

    #[test]
    fn the_header_is_checked_only_when_configured() {
        let open = source("https://o.example.com");
        assert!(!open.verifies());
        assert_eq!(open.verify(&HeaderMap::new(), b""), Ok(()));
        assert!(!open.clone().header("X-Key", "").verifies());

        let closed = open.header("X-Key", "t0ken");
        let mut headers = HeaderMap::new();
        assert!(matches!(
            closed.verify(&headers, b""),
            Err(VerifyError::Missing { header }) if header == "X-Key"
        ));
        headers.insert("x-key", HeaderValue::from_static("t0kem"));
        assert!(matches!(
            closed.verify(&headers, b""),
            Err(VerifyError::Mismatch { .. })
        ));
        headers.insert("x-key", HeaderValue::from_static("t0ken"));
        assert_eq!(closed.verify(&headers, b""), Ok(()));
        assert!(!format!("{closed:?}").contains("t0ken"));
    }

    #[test]
    fn events_become_changes_in_their_space() {
        let WebhookEvent::Changes { event, changes } = source("https://o").parse(DEPLOYED).unwrap()
        else {
            panic!("supported")
        };
        assert_eq!(event, "DeploymentSucceeded");
        let summary: Vec<_> = changes
            .iter()
            .map(|p| {
                let c = &p.change;
                (
                    c.kind,
                    c.action,
                    c.id.as_str(),
                    c.parent.as_ref().unwrap().id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("deployment", Action::Upsert, "Deployments-4", "Spaces-2"),
                ("project", Action::Upsert, "Projects-3", "Spaces-2")
            ]
        );
    }

    #[test]
    fn unsupported_and_malformed_deliveries() {
        let source = source("https://o");
        assert!(matches!(
            source.parse(br#"{"EventType":"Ping","Payload":{}}"#),
            Ok(WebhookEvent::Unsupported { event, .. }) if event == "Ping"
        ));
        assert!(matches!(
            source.parse(br#"{"Payload":{"Event":{"Category":"LoginFailed"}}}"#),
            Ok(WebhookEvent::Unsupported { event, .. }) if event == "LoginFailed"
        ));
        let err = source
            .parse(br#"{"Payload":{"Event":{"Category":7}}}"#)
            .unwrap_err();
        assert_eq!(err.path, "Payload.Event.Category");
    }

    #[tokio::test]
    async fn changes_are_fetched_in_their_space_and_gone_is_none() {
        let server = MockServer::start_async().await;
        let deployment = server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/api/Spaces-2/deployments/Deployments-4");
                then.status(200).body(r#"{"Id":"Deployments-4"}"#);
            })
            .await;
        let project = server
            .mock_async(|when, then| {
                when.method(GET).path("/api/Spaces-2/projects/Projects-3");
                then.status(404).body(r#"{"ErrorMessage":"gone"}"#);
            })
            .await;
        let source = source(&server.base_url());
        let WebhookEvent::Changes { changes, .. } = source.parse(DEPLOYED).unwrap() else {
            panic!("supported")
        };
        let item = source.fetch(&changes[0]).await.unwrap().unwrap();
        assert_eq!(item.get(), r#"{"Id":"Deployments-4"}"#);
        assert!(source.fetch(&changes[1]).await.unwrap().is_none());
        deployment.assert_async().await;
        project.assert_async().await;
    }
}
