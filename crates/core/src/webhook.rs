//! Provider-agnostic webhook pieces: what changed, checking who sent it, and the
//! [`WebhookSource`] a receiver serves.

use std::borrow::Cow;

use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{ParentRef, RawItem};

pub use crate::json_body::{BodyError, JsonNode, parse_object};

/// What a webhook event asks the receiver to do with an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The entity was created or changed: fetch it again and store it.
    Upsert,
    /// The entity is gone: remove it.
    Delete,
}

/// One entity a webhook event touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The resource kind, e.g. `"issue"`.
    pub kind: &'static str,
    /// Upsert or delete.
    pub action: Action,
    /// The identifier to re-fetch or delete (Jira issue key, Octopus document id…).
    pub id: String,
    /// The scope the entity lives in, when the API needs it to re-fetch (an Octopus space).
    pub parent: Option<ParentRef>,
}

/// Compares two byte strings in constant time.
///
/// ```
/// assert!(ocean_core::webhook::constant_time_eq(b"token", b"token"));
/// assert!(!ocean_core::webhook::constant_time_eq(b"token", b"tokem"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a `sha256=<hex>` signature header (Jira's and GitHub's `X-Hub-Signature`)
/// against `body`, in constant time.
///
/// ```
/// use ocean_core::webhook::{hmac_sha256_hex, verify_sha256_signature};
/// let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
/// let header = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// assert!(verify_sha256_signature(b"s3cret", body, &header));
/// assert!(!verify_sha256_signature(b"wrong", body, &header));
/// assert!(!verify_sha256_signature(b"s3cret", body, "sha256=00"));
/// ```
pub fn verify_sha256_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    constant_time_eq(
        hmac_sha256_hex(secret, body).as_bytes(),
        given.to_ascii_lowercase().as_bytes(),
    )
}

/// Checks the `sha256=<hex>` signature in header `name` against `body` under `secret`, in
/// constant time: [`VerifyError::Missing`] without the header, [`VerifyError::Mismatch`]
/// when it does not match.
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::{VerifyError, hmac_sha256_hex, verify_signature_header};
/// let body = br#"{"action":"opened"}"#;
/// let mut headers = HeaderMap::new();
/// let missing = verify_signature_header(&headers, "x-signature", b"s3cret", body);
/// assert_eq!(missing, Err(VerifyError::Missing { header: "x-signature".into() }));
/// let signature = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// headers.insert("x-signature", HeaderValue::from_str(&signature).unwrap());
/// assert_eq!(verify_signature_header(&headers, "x-signature", b"s3cret", body), Ok(()));
/// assert!(matches!(
///     verify_signature_header(&headers, "x-signature", b"other", body),
///     Err(VerifyError::Mismatch { .. })
/// ));
/// ```
pub fn verify_signature_header(
    headers: &HeaderMap,
    name: &str,
    secret: &[u8],
    body: &[u8],
) -> Result<(), VerifyError> {
    let header = name.to_owned();
    let Some(value) = headers.get(name) else {
        return Err(VerifyError::Missing { header });
    };
    match value.to_str() {
        Ok(signature) if verify_sha256_signature(secret, body, signature) => Ok(()),
        _ => Err(VerifyError::Mismatch { header }),
    }
}

/// A delivery body with the headers `names` folded in, for a provider that names the event
/// in a header rather than in the body (see [`WebhookSource::delivery_body`]):
/// `{"headers":{"<name>":"<value>",…},"body":<body>}`, names as given, absent (or non-text)
/// headers left out. A body that is not JSON comes back as it is, for `parse` to refuse.
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::fold_headers;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-event", HeaderValue::from_static("push"));
/// let folded = fold_headers(&headers, &["x-event", "x-delivery"], br#"{"ref":"main"}"#);
/// assert_eq!(folded, br#"{"headers":{"x-event":"push"},"body":{"ref":"main"}}"#);
/// assert_eq!(fold_headers(&headers, &["x-event"], b"not json"), b"not json");
/// ```
pub fn fold_headers(headers: &HeaderMap, names: &[&str], body: &[u8]) -> Vec<u8> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return body.to_vec();
    }
    let folded: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.into()))
        })
        .collect();
    let mut out = br#"{"headers":"#.to_vec();
    out.extend(serde_json::Value::Object(folded).to_string().into_bytes());
    out.extend(br#","body":"#);
    out.extend(body);
    out.push(b'}');
    out
}

/// Reads a delivery body [`fold_headers`] made: the value of the folded header `name`, and
/// the delivery's own body (paths below it read as in the body sent). A body that is not a
/// JSON object, or lacks the header, is a [`ParseError`].
///
/// ```
/// use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
/// use ocean_core::webhook::{fold_headers, unfold};
/// let mut headers = HeaderMap::new();
/// headers.insert("x-event", HeaderValue::from_static("push"));
/// let folded = fold_headers(&headers, &["x-event"], br#"{"ref":"main"}"#);
/// let (event, body) = unfold(&folded, "x-event").unwrap();
/// assert_eq!((event.as_str(), &body["ref"]), ("push", &serde_json::json!("main")));
/// let unnamed = fold_headers(&HeaderMap::new(), &["x-event"], b"{}");
/// assert_eq!(unfold(&unnamed, "x-event").unwrap_err().path, "headers.x-event");
/// ```
pub fn unfold(body: &[u8], name: &str) -> Result<(String, serde_json::Value), ParseError> {
    let mut doc = parse_object(body)?;
    let Some(value) = doc["headers"][name].as_str().map(str::to_owned) else {
        return Err(ParseError {
            path: format!("headers.{name}"),
            message: format!("the delivery has no `{name}` header"),
        });
    };
    Ok((value, doc["body"].take()))
}

/// A [`Change`] as a [`WebhookSource`] hands it to a receiver, with what the source
/// needs to fetch it again precisely.
///
/// ```
/// use ocean_core::webhook::{Action, Change, PendingChange};
/// let change = Change { kind: "issue", action: Action::Upsert, id: "ED-1".into(), parent: None };
/// let pending = PendingChange::from(change.clone());
/// assert_eq!((pending.change, pending.fetch_hint), (change, None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    /// What changed.
    pub change: Change,
    /// Source-specific detail for the re-fetch, opaque to the receiver (Jira: the numeric
    /// issue id, sent as `reconcileIssues` so the search sees the change just made).
    pub fetch_hint: Option<String>,
}

impl From<Change> for PendingChange {
    fn from(change: Change) -> Self {
        Self {
            change,
            fetch_hint: None,
        }
    }
}

/// What one webhook delivery asks the receiver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// An event the source acts on, with the entities it touched (usually one).
    Changes {
        /// The event's name as the provider sent it (`jira:issue_updated`, `Modified`).
        event: String,
        /// The entities to upsert or delete, in order.
        changes: Vec<PendingChange>,
    },
    /// A well-formed delivery the source does not act on (another event type, an
    /// untracked document).
    Unsupported {
        /// The event's name, as far as the body tells it.
        event: String,
        /// Why nothing is done, in words.
        reason: String,
    },
}

/// Why a delivery is not trusted as coming from the provider. The message never
/// contains the secret or the value received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature or secret header is absent.
    #[error("the `{header}` header is missing")]
    Missing {
        /// The header expected (`X-Hub-Signature`).
        header: String,
    },
    /// The header is there but does not match the body or the configured secret.
    #[error("the `{header}` header does not match")]
    Mismatch {
        /// The header checked.
        header: String,
    },
}

/// A delivery body that cannot be read as an event of the source.
///
/// ```
/// let e = ocean_core::webhook::ParseError { path: "issue.key".into(), message: "the webhook body has no `issue.key`".into() };
/// assert_eq!(e.to_string(), "the webhook body has no `issue.key`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Where in the JSON document the problem is (`issue.key`; `.` is the body itself).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// A provider's side of a webhook receiver: checks who sent a delivery, reads what
/// changed, and fetches the changed entity again (the body is never trusted as the
/// source of truth). Object safe, so one receiver serves any provider as
/// `Arc<dyn WebhookSource>`; ocean-jira's `JiraWebhooks` and ocean-octopus'
/// `OctopusWebhooks` implement it, and the `ocean-listen` crate serves it over HTTP.
///
/// ```
/// use futures::future::BoxFuture;
/// use ocean_core::reqwest::header::HeaderMap;
/// use ocean_core::webhook::{
///     Action, Change, ParseError, PendingChange, VerifyError, WebhookEvent, WebhookSource,
///     constant_time_eq,
/// };
/// use ocean_core::RawItem;
///
/// /// Deliveries are `{"deleted":"<id>"}` or `{"changed":"<id>"}`, with a token header.
/// struct Widgets { token: String }
///
/// impl WebhookSource for Widgets {
///     fn provider(&self) -> &'static str { "widgets" }
///     fn verifies(&self) -> bool { true }
///     fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), VerifyError> {
///         let header = "x-widget-token".to_owned();
///         match headers.get(&header) {
///             None => Err(VerifyError::Missing { header }),
///             Some(v) if constant_time_eq(v.as_bytes(), self.token.as_bytes()) => Ok(()),
///             Some(_) => Err(VerifyError::Mismatch { header }),
///         }
///     }
///     fn parse(&self, body: &[u8]) -> Result<WebhookEvent, ParseError> {
///         let doc: serde_json::Value = serde_json::from_slice(body)
///             .map_err(|e| ParseError { path: ".".into(), message: e.to_string() })?;
///         let (event, action) = if doc.get("deleted").is_some() {
///             ("deleted", Action::Delete)
///         } else {
///             ("changed", Action::Upsert)
///         };
///         let Some(id) = doc[event].as_str() else {
///             return Ok(WebhookEvent::Unsupported { event: event.into(), reason: "no id".into() });
///         };
///         let change = Change { kind: "widget", action, id: id.into(), parent: None };
///         Ok(WebhookEvent::Changes { event: event.into(), changes: vec![change.into()] })
///     }
///     fn fetch<'a>(&'a self, change: &'a PendingChange)
///         -> BoxFuture<'a, ocean_core::Result<Option<RawItem>>> {
///         Box::pin(async move {
///             let json = format!(r#"{{"id":{:?}}}"#, change.change.id);
///             Ok(Some(serde_json::value::RawValue::from_string(json).expect("JSON")))
///         })
///     }
/// }
///
/// let source: std::sync::Arc<dyn WebhookSource> =
///     std::sync::Arc::new(Widgets { token: "t".into() });
/// let event = source.parse(br#"{"changed":"w-1"}"#).unwrap();
/// assert!(matches!(event, WebhookEvent::Changes { ref changes, .. } if changes[0].change.id == "w-1"));
/// assert!(source.verify(&HeaderMap::new(), b"{}").is_err());
/// // The event is in the body: the body is read as sent.
/// assert_eq!(&*source.delivery_body(&HeaderMap::new(), b"{}"), b"{}");
/// ```
pub trait WebhookSource: Send + Sync + 'static {
    /// The provider's name for logs (`"jira"`, `"octopus"`).
    fn provider(&self) -> &'static str;

    /// Whether [`verify`](Self::verify) checks anything: `false` when no secret is
    /// configured and every delivery is accepted (a receiver should warn about it).
    fn verifies(&self) -> bool;

    /// Checks that the delivery comes from the provider (a signature over `body`, or a
    /// shared header), in constant time. `Ok` when no secret is configured.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError>;

    /// The bytes [`parse`](Self::parse) reads for a verified delivery, which a receiver that
    /// queues deliveries stores: by default the body as sent. A provider that names the
    /// event in a header rather than in the body folds that header in here (see
    /// [`fold_headers`]), so that a delivery read again later from a queue, without its
    /// headers, reads the same.
    fn delivery_body<'a>(&self, headers: &HeaderMap, body: &'a [u8]) -> Cow<'a, [u8]> {
        let _ = headers;
        Cow::Borrowed(body)
    }

    /// Reads a delivery body: the entities it touched, or why it asks for nothing. A body
    /// that is not JSON, or lacks what its event needs, is a [`ParseError`] naming the path.
    fn parse(&self, body: &[u8]) -> Result<WebhookEvent, ParseError>;

    /// Fetches the changed entity again, as the server's exact JSON; `Ok(None)` when it is
    /// gone (or no longer in scope). Retries are the client's own (its [`RetryPolicy`]):
    /// an `Err` is final.
    ///
    /// [`RetryPolicy`]: crate::RetryPolicy
    fn fetch<'a>(
        &'a self,
        change: &'a PendingChange,
    ) -> BoxFuture<'a, crate::Result<Option<RawItem>>>;
}
