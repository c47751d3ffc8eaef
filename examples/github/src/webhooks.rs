//! GitHub's webhooks as a [`WebhookSource`]: deliveries signed in `X-Hub-Signature-256`,
//! the event named in `X-GitHub-Event`, and the changed object fetched again at its `url`.

use std::borrow::Cow;

use futures::future::BoxFuture;
use ocean_core::reqwest::header::HeaderMap;
use ocean_core::webhook::{Action, Change, JsonNode, ParseError, PendingChange, VerifyError};
use ocean_core::webhook::{
    WebhookEvent, WebhookSource, fold_headers, unfold, verify_signature_header,
};
use ocean_core::{Client, ParentRef, RawItem, Resource, Result, Secret};

use crate::Issue;
use crate::provider::{KINDS, PARENT_FIELD};

/// The header a delivery's HMAC-SHA256 signature comes in.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// The header naming a delivery's event (`issues`, `pull_request`…).
pub const EVENT_HEADER: &str = "x-github-event";

/// The receiver of an organisation's webhook deliveries, from
/// [`Provider::webhook_source`](ocean_core::Provider::webhook_source).
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::{WebhookEvent, hmac_sha256_hex};
/// use ocean_core::{Provider, Secret};
/// let client = ocean_github_example::client("https://api.github.com", "ghp_…").build().unwrap();
/// let github = ocean_github_example::GitHubProvider::new(client, "octo-org");
/// let source = github.webhook_source(Some(&Secret::new("s3cret"))).unwrap();
/// let body = br#"{"action":"closed","issue":{"url":"https://api.github.com/repos/o/r/issues/1"},"repository":{"url":"https://api.github.com/repos/o/r"}}"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-github-event", HeaderValue::from_static("issues"));
/// let signature = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// headers.insert("x-hub-signature-256", HeaderValue::from_str(&signature).unwrap());
/// assert!(source.verify(&headers, body).is_ok());
/// let event = source.parse(&source.delivery_body(&headers, body)).unwrap();
/// let WebhookEvent::Changes { changes, .. } = event else { panic!() };
/// assert_eq!(changes[0].change.id, "https://api.github.com/repos/o/r/issues/1");
/// ```
#[derive(Debug, Clone)]
pub struct GitHubWebhooks {
    pub(crate) client: Client,
    pub(crate) secret: Option<Secret>,
}

impl WebhookSource for GitHubWebhooks {
    fn provider(&self) -> &'static str {
        "github"
    }

    fn verifies(&self) -> bool {
        self.secret.is_some()
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let verify = |secret: &Secret| {
            verify_signature_header(headers, SIGNATURE_HEADER, secret.expose().as_bytes(), body)
        };
        self.secret.as_ref().map_or(Ok(()), verify)
    }

    fn delivery_body<'a>(&self, headers: &HeaderMap, body: &'a [u8]) -> Cow<'a, [u8]> {
        Cow::Owned(fold_headers(headers, &[EVENT_HEADER], body))
    }

    /// A `deleted` or `transferred` object is gone from where it was; any other action
    /// changed it. Children name their repository.
    fn parse(&self, body: &[u8]) -> Result<WebhookEvent, ParseError> {
        let (event, body) = unfold(body, EVENT_HEADER)?;
        let root = JsonNode::root(&body);
        // Each event is named after the kind of object it carries, under that name
        // (`"pull_request": {…}`), but `issues` (`"issue": {…}`).
        let issues = event.strip_suffix('s').filter(|name| *name == Issue::KIND);
        let name = issues.unwrap_or(&event);
        let Some(info) = KINDS.iter().find(|kind| kind.name == name) else {
            let reason = "not an event the GitHub provider acts on".to_owned();
            return Ok(WebhookEvent::Unsupported { event, reason });
        };
        let action = match root.opt_str("action")?.as_deref() {
            Some("deleted" | "transferred") => Action::Delete,
            _ => Action::Upsert,
        };
        let (kind, id) = (info.name, root.str(&format!("{}.url", info.name))?);
        let parent = match info.parent {
            Some(_) => Some(ParentRef::new(PARENT_FIELD, root.str("repository.url")?)),
            None => None,
        };
        let change = PendingChange::from(Change {
            kind,
            action,
            id,
            parent,
        });
        Ok(WebhookEvent::Changes {
            event,
            changes: vec![change],
        })
    }

    fn fetch<'a>(&'a self, change: &'a PendingChange) -> BoxFuture<'a, Result<Option<RawItem>>> {
        Box::pin(self.client.get_url(&change.change.id).send_json_if_found())
    }
}
