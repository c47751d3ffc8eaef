//! Jira as a [`WebhookSource`]: signature check, event parsing and re-fetching, for a
//! provider-agnostic receiver (the `ocean-listen` crate) to serve.

use std::fmt;

use futures::future::BoxFuture;
use ocean_core::reqwest::header::HeaderMap;
use ocean_core::webhook::{
    Action, ParseError, PendingChange, VerifyError, WebhookEvent, WebhookSource,
};
use ocean_core::{RawItem, Secret};

use crate::classify::is_not_found;
use crate::events::JiraEvent;
use crate::{JiraClient, JiraKind, SyncOptions};
use ocean_core::path_segment;

/// The header Jira signs admin-webhook deliveries in: `sha256=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature";

/// Receives Jira webhook deliveries: checks [`SIGNATURE_HEADER`] against the secret the
/// webhook was registered with ([`WebhookOptions::secret`](crate::WebhookOptions)), reads the
/// [`JiraEvent`], and re-fetches each changed entity in the shape [`JiraClient::sync`]
/// writes it (issues through the search, scoped by the sync's JQL and fields, with the
/// event's issue id as `reconcileIssues`; projects with the sync's `expand`).
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::{hmac_sha256_hex, WebhookEvent, WebhookSource};
/// use ocean_jira::{JiraClient, JiraWebhooks};
///
/// let client = JiraClient::new("https://example.atlassian.net", "me@example.com", "token").unwrap();
/// let source = JiraWebhooks::new(client).secret("s3cret");
/// let body = br#"{"webhookEvent":"jira:issue_deleted","issue":{"id":"10001","key":"ED-1"}}"#;
///
/// let mut headers = HeaderMap::new();
/// assert!(source.verify(&headers, body).is_err());
/// let signature = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// headers.insert("x-hub-signature", HeaderValue::from_str(&signature).unwrap());
/// assert!(source.verify(&headers, body).is_ok());
///
/// let WebhookEvent::Changes { changes, .. } = source.parse(body).unwrap() else { panic!() };
/// assert_eq!((changes[0].change.kind, changes[0].change.id.as_str()), ("issue", "ED-1"));
/// ```
#[derive(Clone)]
pub struct JiraWebhooks {
    client: JiraClient,
    secret: Option<Secret>,
    options: SyncOptions,
}

impl fmt::Debug for JiraWebhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraWebhooks")
            .field("client", &self.client)
            .field("secret", &self.secret)
            .field("jql", &self.options.effective_jql())
            .finish_non_exhaustive()
    }
}

impl JiraWebhooks {
    /// A source that fetches with `client`, accepts unsigned deliveries (until
    /// [`secret`](Self::secret) is set) and scopes issues like [`SyncOptions::default`].
    pub fn new(client: JiraClient) -> Self {
        Self {
            client,
            secret: None,
            options: SyncOptions::default(),
        }
    }

    /// The webhook's secret: deliveries without a matching signature are refused. An
    /// empty secret is no secret.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        let secret = secret.into();
        self.secret = (!secret.expose().is_empty()).then_some(secret);
        self
    }

    /// The sync's options, so re-fetched items match synced ones: the issue JQL (an issue
    /// outside it becomes a delete), `fields`, `expand` and the project `expand`.
    pub fn sync_options(mut self, options: SyncOptions) -> Self {
        self.options = options;
        self
    }

    /// The client fetches go through.
    pub fn client(&self) -> &JiraClient {
        &self.client
    }

    async fn fetch_change(&self, pending: &PendingChange) -> ocean_core::Result<Option<RawItem>> {
        let change = &pending.change;
        let kind: JiraKind = change
            .kind
            .parse()
            .map_err(|e| ocean_core::Error::Config(format!("a Jira webhook change of {e}")))?;
        match kind {
            JiraKind::Issue => {
                let reconcile = pending.fetch_hint.as_deref().and_then(|id| id.parse().ok());
                self.client
                    .fetch_issue(&change.id, reconcile, &self.options)
                    .await
            }
            JiraKind::Project => self.fetch_project(&change.id).await,
            other => self.client.fetch_one(other, &change.id).await,
        }
    }

    /// `GET project/{key}` with the sync's `expand`, so the item has the synced shape.
    async fn fetch_project(&self, key: &str) -> ocean_core::Result<Option<RawItem>> {
        let mut request = self
            .client
            .core()
            .get(format!("/rest/api/3/project/{}", path_segment(key)));
        if let Some(expand) = &self.options.project_expand {
            request = request.query("expand", expand);
        }
        match request.send().await {
            Ok(response) => response.json().map(Some),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl WebhookSource for JiraWebhooks {
    fn provider(&self) -> &'static str {
        "jira"
    }

    fn verifies(&self) -> bool {
        self.secret.is_some()
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let Some(secret) = &self.secret else {
            return Ok(());
        };
        // `secret` is never empty (see `secret`): an empty key would sign anything.
        ocean_core::webhook::verify_signature_header(
            headers,
            SIGNATURE_HEADER,
            secret.expose().as_bytes(),
            body,
        )
    }

    fn parse(&self, body: &[u8]) -> Result<WebhookEvent, ParseError> {
        let event = JiraEvent::parse(body).map_err(ParseError::from)?;
        let name = event.webhook_event().to_owned();
        let changes = event.changes();
        if changes.is_empty() {
            return Ok(WebhookEvent::Unsupported {
                event: name,
                reason: "not an event the Jira provider acts on".to_owned(),
            });
        }
        let issue_key = matches!(event, JiraEvent::Issue { .. })
            .then(|| event.id())
            .flatten();
        let issue_id = event.issue_id();
        let changes = changes
            .into_iter()
            .map(|change| {
                // Only the event's own issue has the id the event reports.
                let own = change.action == Action::Upsert && Some(change.id.as_str()) == issue_key;
                PendingChange {
                    fetch_hint: issue_id.filter(|_| own).map(|id| id.to_string()),
                    change,
                }
            })
            .collect();
        Ok(WebhookEvent::Changes {
            event: name,
            changes,
        })
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
    use ocean_core::webhook::hmac_sha256_hex;

    use super::*;

    fn source(url: &str) -> JiraWebhooks {
        let client = JiraClient::builder(url)
            .basic("me@example.com", "token")
            .build()
            .unwrap();
        JiraWebhooks::new(client)
    }

    fn signed(secret: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("sha256={}", hmac_sha256_hex(secret.as_bytes(), body));
        headers.insert("x-hub-signature", HeaderValue::from_str(&value).unwrap());
        headers
    }

    const UPDATED: &[u8] =
        br#"{"webhookEvent":"jira:issue_updated","issue":{"id":"10042","key":"ED-7"}}"#;

    #[test]
    fn signatures_are_checked_only_with_a_secret() {
        let open = source("https://x.atlassian.net");
        assert!(!open.verifies());
        assert_eq!(open.verify(&HeaderMap::new(), UPDATED), Ok(()));
        assert!(!open.clone().secret("").verifies(), "empty is no secret");

        let closed = open.secret("s3cret");
        assert!(closed.verifies());
        assert_eq!(closed.verify(&signed("s3cret", UPDATED), UPDATED), Ok(()));
        assert!(matches!(
            closed.verify(&HeaderMap::new(), UPDATED),
            Err(VerifyError::Missing { header }) if header == SIGNATURE_HEADER
        ));
        assert!(matches!(
            closed.verify(&signed("wrong", UPDATED), UPDATED),
            Err(VerifyError::Mismatch { .. })
        ));
        assert!(matches!(
            closed.verify(&signed("s3cret", UPDATED), b"{}"),
            Err(VerifyError::Mismatch { .. })
        ));
        assert!(!format!("{closed:?}").contains("s3cret"));
    }

    #[test]
    fn issue_upserts_carry_the_issue_id_as_fetch_hint() {
        let source = source("https://x.atlassian.net");
        let WebhookEvent::Changes { event, changes } = source.parse(UPDATED).unwrap() else {
            panic!("supported")
        };
        assert_eq!(event, "jira:issue_updated");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].change.id, "ED-7");
        assert_eq!(changes[0].fetch_hint.as_deref(), Some("10042"));

        // A move deletes the old key (no hint) and upserts the new one (hinted).
        let moved = br#"{"webhookEvent":"jira:issue_updated","issue":{"id":"5","key":"NEW-1"},
            "changelog":{"items":[{"field":"Key","fromString":"OLD-9","toString":"NEW-1"}]}}"#;
        let WebhookEvent::Changes { changes, .. } = source.parse(moved).unwrap() else {
            panic!("supported")
        };
        let summary: Vec<_> = changes
            .iter()
            .map(|p| {
                (
                    p.change.action,
                    p.change.id.as_str(),
                    p.fetch_hint.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Action::Delete, "OLD-9", None),
                (Action::Upsert, "NEW-1", Some("5"))
            ]
        );
    }

    #[test]
    fn unknown_events_are_unsupported_and_bad_bodies_name_the_path() {
        let source = source("https://x.atlassian.net");
        assert!(matches!(
            source.parse(br#"{"webhookEvent":"issuelink_created"}"#),
            Ok(WebhookEvent::Unsupported { event, .. }) if event == "issuelink_created"
        ));
        let err = source
            .parse(br#"{"webhookEvent":"jira:issue_created","issue":{"id":"1"}}"#)
            .unwrap_err();
        assert_eq!(err.path, "issue.key");
        assert_eq!(source.parse(b"{nope").unwrap_err().path, ".");
    }

    #[tokio::test]
    async fn issues_are_searched_in_scope_with_reconcile_and_gone_is_none() {
        let server = MockServer::start_async().await;
        let found = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/rest/api/3/search/jql")
                    .json_body_includes(r#"{"reconcileIssues":[10042]}"#)
                    .json_body_includes(r#"{"jql":"(project = ED) AND key = \"ED-7\""}"#);
                then.status(200)
                    .body(r#"{"issues":[{"id":"10042","key":"ED-7","fields":{}}]}"#);
            })
            .await;
        let source = source(&server.base_url()).sync_options(SyncOptions {
            jql: Some("project = ED".into()),
            ..SyncOptions::default()
        });
        let WebhookEvent::Changes { changes, .. } = source.parse(UPDATED).unwrap() else {
            panic!("supported")
        };
        let item = source.fetch(&changes[0]).await.unwrap().unwrap();
        assert_eq!(item.get(), r#"{"id":"10042","key":"ED-7","fields":{}}"#);
        found.assert_async().await;

        let gone = server
            .mock_async(|when, then| {
                when.method(GET).path("/rest/api/3/project/OLD");
                then.status(404).body(r#"{"errorMessages":["No project"]}"#);
            })
            .await;
        let deleted = br#"{"webhookEvent":"project_updated","project":{"id":1,"key":"OLD"}}"#;
        let WebhookEvent::Changes { changes, .. } = source.parse(deleted).unwrap() else {
            panic!("supported")
        };
        assert!(source.fetch(&changes[0]).await.unwrap().is_none());
        gone.assert_async().await;
    }

    #[tokio::test]
    async fn projects_are_fetched_with_the_sync_expand() {
        let server = MockServer::start_async().await;
        let project = server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/rest/api/3/project/ED")
                    .query_param("expand", "insight");
                then.status(200).body(r#"{"id":"10000","key":"ED"}"#);
            })
            .await;
        let source = source(&server.base_url());
        let body = br#"{"webhookEvent":"project_created","project":{"id":10000,"key":"ED"}}"#;
        let WebhookEvent::Changes { changes, .. } = source.parse(body).unwrap() else {
            panic!("supported")
        };
        let item = source.fetch(&changes[0]).await.unwrap().unwrap();
        assert_eq!(item.get(), r#"{"id":"10000","key":"ED"}"#);
        project.assert_async().await;
    }
}
