//! Typed webhook events: what an Octopus subscription delivery asks the receiver to do.
//!
//! A delivery is a `SubscriptionPayload` carrying one audit event:
//!
//! ```text
//! { "Timestamp": "…", "EventType": "SubscriptionPayload",
//!   "Payload": { "Subscription": {…}, "BatchId": "…",
//!                "Event": { "Id": "Events-1", "Category": "DeploymentSucceeded", "SpaceId": "Spaces-1",
//!                           "RelatedDocumentIds": ["Deployments-1", "Projects-1", "Releases-1", …],
//!                           "ChangeDetails": { "DocumentContext": null, "Differences": null }, … } } }
//! ```
//!
//! * A deletion (`Deleted`, `MachineDeleted`) deletes one document: the
//!   `ChangeDetails.DocumentContext.Id` when the server sends it, otherwise the
//!   event's subject, its first related document. An untracked subject (a
//!   channel, say) is [`Unsupported`](OctopusEvent::Unsupported), never a
//!   deletion of some other related document such as the channel's project.
//! * Any other known category upserts every related document of a tracked kind
//!   (`Projects-`, `Releases-`, `Deployments-`, `Machines-`, `Environments-`,
//!   `Spaces-`): one deployment event refreshes the deployment, its release, its
//!   project and its environment. A `Spaces-` id is re-fetched from
//!   `/api/spaces/{id}` (Ocean sends it to `/api/{space}/spaces/{id}`, which fails).
//! * Anything else is [`Unsupported`](OctopusEvent::Unsupported).
//!
//! Octopus does not sign deliveries; check the subscription's header with
//! [`verify_header_value`] before trusting a body.

use std::fmt;

use ocean_core::ParentRef;
use ocean_core::webhook::{Action, Change, JsonNode, constant_time_eq, parse_object};

use crate::OctopusKind;
use crate::subscriptions::EVENT_CATEGORIES;
use crate::sync::SPACE_FIELD;

/// The categories that remove a document.
const DELETE_CATEGORIES: &[&str] = &["Deleted", "MachineDeleted"];

/// The `EventType` of every subscription delivery.
const SUBSCRIPTION_PAYLOAD: &str = "SubscriptionPayload";

/// Checks the header a subscription was created with (`WebhookHeaderValue`) in
/// constant time. `false` when the header is missing, and when `expected` is
/// empty (a receiver with no secret configured accepts nothing by mistake).
///
/// ```
/// use ocean_octopus::verify_header_value;
/// assert!(verify_header_value(b"s3cr3t", Some(b"s3cr3t")));
/// assert!(!verify_header_value(b"s3cr3t", Some(b"s3cr3T")));
/// assert!(!verify_header_value(b"s3cr3t", None));
/// assert!(!verify_header_value(b"", Some(b"")));
/// ```
pub fn verify_header_value(expected: &[u8], received: Option<&[u8]>) -> bool {
    match received {
        Some(received) if !expected.is_empty() => constant_time_eq(expected, received),
        _ => false,
    }
}

/// A tracked document an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its kind, from its id's prefix.
    pub kind: OctopusKind,
    /// `Projects-1`.
    pub id: String,
}

/// What the delivery says about the audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    /// `Events-1`.
    pub id: Option<String>,
    /// `DeploymentSucceeded`, `Modified`, …
    pub category: String,
    /// The space the event happened in: `Event.SpaceId`, else the subscription's `SpaceId`.
    pub space_id: Option<String>,
    /// When it happened (ISO 8601 with offset).
    pub occurred: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
}

/// Why an event asks for nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsupportedReason {
    /// The body's `EventType` is not `SubscriptionPayload`.
    EventType(String),
    /// A category this crate does not subscribe to.
    UnknownCategory,
    /// No related document is of a tracked kind (a task, a channel, a user…).
    NoTrackedDocuments,
    /// A deletion of an untracked document (this id).
    UntrackedDeletion(String),
}

impl fmt::Display for UnsupportedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventType(t) => write!(f, "event type `{t}` is not {SUBSCRIPTION_PAYLOAD}"),
            Self::UnknownCategory => f.write_str("the category is not one this crate handles"),
            Self::NoTrackedDocuments => f.write_str("no related document is of a tracked kind"),
            Self::UntrackedDeletion(id) => write!(f, "the deleted document `{id}` is not tracked"),
        }
    }
}

/// One delivery, parsed into what the receiver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OctopusEvent {
    /// A tracked document was deleted: remove it.
    Deleted {
        /// The event.
        event: EventInfo,
        /// The document gone.
        document: Document,
    },
    /// Tracked documents were created or changed: fetch each again.
    Changed {
        /// The event.
        event: EventInfo,
        /// The documents to re-fetch, in the event's order, without repeats.
        documents: Vec<Document>,
    },
    /// Nothing to do.
    Unsupported {
        /// The event, when the body had one.
        event: Option<EventInfo>,
        /// Why.
        reason: UnsupportedReason,
    },
}

/// A delivery body that is not a well-formed subscription payload; every variant names
/// the JSON path.
pub type EventError = ocean_core::webhook::BodyError;

impl OctopusEvent {
    /// Parses a delivery body.
    ///
    /// ```
    /// use ocean_octopus::events::OctopusEvent;
    /// let body = br#"{"EventType":"SubscriptionPayload","Payload":{"Event":{
    ///     "Id":"Events-1","Category":"Modified","SpaceId":"Spaces-1",
    ///     "RelatedDocumentIds":["Projects-7","ProjectGroups-1"]}}}"#;
    /// let event = OctopusEvent::parse(body).unwrap();
    /// let changes = event.changes();
    /// assert_eq!((changes[0].kind, changes[0].id.as_str()), ("project", "Projects-7"));
    ///
    /// let err = OctopusEvent::parse(br#"{"Payload":{"Event":{"Category":7}}}"#).unwrap_err();
    /// assert_eq!(err.path(), "Payload.Event.Category");
    /// ```
    pub fn parse(body: &[u8]) -> Result<Self, EventError> {
        let body = parse_object(body)?;
        let root = JsonNode::root(&body);
        match root.opt_str("EventType")? {
            Some(event_type) if event_type != SUBSCRIPTION_PAYLOAD => {
                return Ok(Self::Unsupported {
                    event: None,
                    reason: UnsupportedReason::EventType(event_type),
                });
            }
            _ => {}
        }
        let payload = root.object("Payload")?;
        let raw = payload.object("Event")?;
        let category = raw.str("Category")?;
        let related = raw.str_array("RelatedDocumentIds")?;
        let document_context = raw.opt_str("ChangeDetails.DocumentContext.Id")?;
        let subscription_space = payload.opt_str("Subscription.SpaceId")?;
        let event = EventInfo {
            id: raw.opt_str("Id")?,
            space_id: raw.opt_str("SpaceId")?.or(subscription_space),
            occurred: raw.opt_str("Occurred")?,
            message: raw.opt_str("Message")?,
            category,
        };
        Ok(Self::classify(event, document_context, related))
    }

    fn classify(event: EventInfo, context: Option<String>, related: Vec<String>) -> Self {
        let unsupported = |event, reason| Self::Unsupported {
            event: Some(event),
            reason,
        };
        let category = event.category.as_str();
        if DELETE_CATEGORIES.contains(&category) {
            // The deleted document is the context's, else the event's subject (listed first).
            let Some(id) = context.or_else(|| related.into_iter().next()) else {
                return unsupported(event, UnsupportedReason::NoTrackedDocuments);
            };
            return match OctopusKind::from_id(&id) {
                Some(kind) => Self::Deleted {
                    event,
                    document: Document { kind, id },
                },
                None => unsupported(event, UnsupportedReason::UntrackedDeletion(id)),
            };
        }
        if !EVENT_CATEGORIES.contains(&category) {
            return unsupported(event, UnsupportedReason::UnknownCategory);
        }
        let mut documents: Vec<Document> = Vec::new();
        for id in related {
            let Some(kind) = OctopusKind::from_id(&id) else {
                continue;
            };
            if !documents.iter().any(|d| d.id == id) {
                documents.push(Document { kind, id });
            }
        }
        if documents.is_empty() {
            return unsupported(event, UnsupportedReason::NoTrackedDocuments);
        }
        Self::Changed { event, documents }
    }

    /// The event, when the body had one.
    pub fn info(&self) -> Option<&EventInfo> {
        match self {
            Self::Deleted { event, .. } | Self::Changed { event, .. } => Some(event),
            Self::Unsupported { event, .. } => event.as_ref(),
        }
    }

    /// What to do, entity by entity: a [`Change`] per document, its `parent` the
    /// event's space (`space_id`) for every kind but spaces. Empty when unsupported.
    pub fn changes(&self) -> Vec<Change> {
        let change = |event: &EventInfo, document: &Document, action| Change {
            kind: document.kind.as_str(),
            action,
            id: document.id.clone(),
            parent: match (&event.space_id, document.kind.is_space_scoped()) {
                (Some(space), true) => Some(ParentRef {
                    field: SPACE_FIELD,
                    id: space.clone(),
                }),
                _ => None,
            },
        };
        match self {
            Self::Deleted { event, document } => vec![change(event, document, Action::Delete)],
            Self::Changed { event, documents } => documents
                .iter()
                .map(|d| change(event, d, Action::Upsert))
                .collect(),
            Self::Unsupported { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn delivery(event: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "Timestamp": "2024-08-02T05:07:42.445+00:00",
            "EventType": "SubscriptionPayload",
            "Payload": { "ServerUri": null, "BatchId": "b", "Event": event }
        }))
        .unwrap()
    }

    fn summary(event: &OctopusEvent) -> Vec<(&'static str, Action, String, Option<String>)> {
        event
            .changes()
            .into_iter()
            .map(|c| (c.kind, c.action, c.id, c.parent.map(|p| p.id)))
            .collect()
    }

    fn upsert(
        kind: &'static str,
        id: &str,
        space: &str,
    ) -> (&'static str, Action, String, Option<String>) {
        (kind, Action::Upsert, id.into(), Some(space.into()))
    }

    #[test]
    fn a_real_2023_cloud_deployment_failure_refreshes_its_documents() {
        let event = OctopusEvent::parse(&fixture("octopus-subscription-event-2023.json")).unwrap();
        let info = event.info().unwrap();
        assert_eq!(info.category, "DeploymentFailed");
        assert_eq!(info.id.as_deref(), Some("Events-1111977"));
        assert_eq!(
            summary(&event),
            [
                upsert("deployment", "Deployments-12519", "Spaces-282"),
                upsert("project", "Projects-4522", "Spaces-282"),
                upsert("release", "Releases-11138", "Spaces-282"),
                upsert("environment", "Environments-1621", "Spaces-282"),
            ],
            "ServerTasks- and Channels- ids are not tracked"
        );
    }

    #[test]
    fn a_real_2022_self_hosted_deployment_success_refreshes_its_documents() {
        let event = OctopusEvent::parse(&fixture("octopus-subscription-event-2022.json")).unwrap();
        assert!(matches!(&event, OctopusEvent::Changed { documents, .. } if documents.len() == 4));
        assert_eq!(
            summary(&event)[0],
            upsert("deployment", "Deployments-84781", "Spaces-1")
        );
        assert_eq!(
            event.info().unwrap().occurred.as_deref(),
            Some("2022-02-11T15:47:36.034+00:00")
        );
    }

    #[test]
    fn document_created_and_modified_upsert_without_repeats() {
        for category in ["Created", "Modified"] {
            let event = OctopusEvent::parse(&delivery(json!({
                "Id": "Events-2", "Category": category, "SpaceId": "Spaces-3",
                "RelatedDocumentIds": ["Projects-9", "ProjectGroups-1", "Projects-9", "Lifecycles-1"],
                "ChangeDetails": { "DocumentContext": null, "Differences": null }
            })))
            .unwrap();
            assert_eq!(
                summary(&event),
                [upsert("project", "Projects-9", "Spaces-3")]
            );
        }
    }

    #[test]
    fn machine_health_events_upsert_the_machine() {
        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "MachineUnhealthy", "SpaceId": "Spaces-1",
            "RelatedDocumentIds": ["Machines-4", "Environments-1"]
        })))
        .unwrap();
        assert_eq!(
            summary(&event),
            [
                upsert("machine", "Machines-4", "Spaces-1"),
                upsert("environment", "Environments-1", "Spaces-1")
            ]
        );
    }

    #[test]
    fn a_deletion_uses_the_document_context() {
        let event = OctopusEvent::parse(&delivery(json!({
            "Id": "Events-3", "Category": "Deleted", "SpaceId": "Spaces-1",
            "RelatedDocumentIds": ["Projects-1", "Releases-5"],
            "ChangeDetails": { "DocumentContext": { "Id": "Releases-5", "Name": "1.0.0" } }
        })))
        .unwrap();
        assert_eq!(
            summary(&event),
            [(
                "release",
                Action::Delete,
                "Releases-5".into(),
                Some("Spaces-1".into())
            )]
        );
    }

    #[test]
    fn a_deletion_without_context_deletes_the_subject_only_if_tracked() {
        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "MachineDeleted", "SpaceId": "Spaces-1",
            "RelatedDocumentIds": ["Machines-8", "Environments-1"],
            "ChangeDetails": { "DocumentContext": null }
        })))
        .unwrap();
        assert_eq!(
            summary(&event),
            [(
                "machine",
                Action::Delete,
                "Machines-8".into(),
                Some("Spaces-1".into())
            )]
        );

        // A deleted channel must not delete its project.
        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "Deleted", "SpaceId": "Spaces-1",
            "RelatedDocumentIds": ["Channels-3", "Projects-1"]
        })))
        .unwrap();
        assert!(matches!(
            &event,
            OctopusEvent::Unsupported { reason: UnsupportedReason::UntrackedDeletion(id), .. } if id == "Channels-3"
        ));
        assert!(event.changes().is_empty());
    }

    #[test]
    fn space_documents_have_no_parent_and_the_space_branch_is_alive() {
        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "Modified", "SpaceId": "Spaces-2", "RelatedDocumentIds": ["Spaces-2"]
        })))
        .unwrap();
        assert_eq!(
            summary(&event),
            [("space", Action::Upsert, "Spaces-2".into(), None)]
        );

        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "Deleted", "ChangeDetails": { "DocumentContext": { "Id": "Spaces-9" } }
        })))
        .unwrap();
        assert_eq!(
            summary(&event),
            [("space", Action::Delete, "Spaces-9".into(), None)]
        );
    }

    #[test]
    fn the_space_falls_back_to_the_subscriptions() {
        let body = serde_json::to_vec(&json!({
            "EventType": "SubscriptionPayload",
            "Payload": {
                "Subscription": { "Id": "Subscriptions-1", "SpaceId": "Spaces-5" },
                "Event": { "Category": "DeploymentStarted", "RelatedDocumentIds": ["Deployments-1"] }
            }
        }))
        .unwrap();
        let event = OctopusEvent::parse(&body).unwrap();
        assert_eq!(
            summary(&event),
            [upsert("deployment", "Deployments-1", "Spaces-5")]
        );
    }

    #[test]
    fn unknown_categories_and_untracked_documents_are_unsupported() {
        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "LoginFailed", "RelatedDocumentIds": ["Users-1"]
        })))
        .unwrap();
        assert!(matches!(
            event,
            OctopusEvent::Unsupported {
                reason: UnsupportedReason::UnknownCategory,
                ..
            }
        ));

        let event = OctopusEvent::parse(&delivery(json!({
            "Category": "Modified", "SpaceId": "Spaces-1",
            "RelatedDocumentIds": ["ServerTasks-1", "Channels-2"]
        })))
        .unwrap();
        assert!(matches!(
            &event,
            OctopusEvent::Unsupported { reason: UnsupportedReason::NoTrackedDocuments, event: Some(e) }
                if e.category == "Modified"
        ));
        assert!(event.changes().is_empty());

        let event = OctopusEvent::parse(br#"{"EventType":"Ping","Payload":{}}"#).unwrap();
        assert!(matches!(
            event,
            OctopusEvent::Unsupported { reason: UnsupportedReason::EventType(ref t), event: None } if t == "Ping"
        ));
    }

    #[test]
    fn malformed_bodies_name_the_json_path() {
        let cases: [(&[u8], &str, &str); 7] = [
            (b"{not json", ".", "not JSON"),
            (b"[]", ".", "is an array, expected an object"),
            (br#"{"EventType":"SubscriptionPayload"}"#, "Payload", "has no `Payload`"),
            (br#"{"Payload":{"Event":null}}"#, "Payload.Event", "has no `Payload.Event`"),
            (br#"{"Payload":{"Event":{}}}"#, "Payload.Event.Category", "has no"),
            (
                br#"{"Payload":{"Event":{"Category":"Modified","RelatedDocumentIds":["Projects-1",2]}}}"#,
                "Payload.Event.RelatedDocumentIds[1]",
                "is a number, expected a string",
            ),
            (
                br#"{"Payload":{"Event":{"Category":"Deleted","ChangeDetails":{"DocumentContext":"x"}}}}"#,
                "Payload.Event.ChangeDetails.DocumentContext",
                "is a string, expected an object",
            ),
        ];
        for (body, path, text) in cases {
            let err = OctopusEvent::parse(body).unwrap_err();
            assert_eq!(err.path(), path, "{err}");
            assert!(err.to_string().contains(text), "{err}");
        }
    }

    #[test]
    fn header_values_compare_exactly() {
        assert!(verify_header_value(b"token", Some(b"token")));
        assert!(!verify_header_value(b"token", Some(b"token ")));
        assert!(!verify_header_value(b"token", Some(b"")));
        assert!(!verify_header_value(b"token", None));
        assert!(!verify_header_value(b"", None));
    }
}
