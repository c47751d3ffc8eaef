//! Typed webhook deliveries: which entity changed, how, and what to fetch again.
//!
//! ```
//! use ocean_core::webhook::Action;
//! use ocean_jira::JiraKind;
//! use ocean_jira::events::JiraEvent;
//!
//! let body = br#"{"webhookEvent":"sprint_closed","sprint":{"id":7,"originBoardId":3,"state":"closed"}}"#;
//! let event = JiraEvent::parse(body).unwrap();
//! assert_eq!(event.kind(), Some(JiraKind::Sprint));
//! assert_eq!(event.action(), Some(Action::Upsert));
//! assert_eq!(event.id(), Some("7"));
//! let change = &event.changes()[0];
//! assert_eq!((change.kind, change.id.as_str()), ("sprint", "7"));
//! assert_eq!(change.parent.as_ref().unwrap().id, "3");
//!
//! let other = JiraEvent::parse(br#"{"webhookEvent":"issuelink_created"}"#).unwrap();
//! assert!(other.changes().is_empty());
//! ```

use ocean_core::ParentRef;
use ocean_core::webhook::{Action, Change, JsonNode, parse_object, verify_sha256_signature};
use serde_json::Value;

use crate::JiraKind;

/// A webhook body that cannot be read as a Jira event; every variant names the JSON path.
pub type EventError = ocean_core::webhook::BodyError;

/// One Jira webhook delivery, reduced to what a receiver acts on.
///
/// `webhook_event` is the event's name as Jira sent it. How names map to actions:
///
/// | events | kind | action | id |
/// |---|---|---|---|
/// | `jira:issue_created`, `_updated`; `comment_created`, `_updated`, `_deleted` | issue | upsert | issue key |
/// | `jira:issue_deleted` | issue | delete | issue key |
/// | `project_created`, `_updated`, `_restored_deleted`, `_restored_archived` | project | upsert | project key (id if no key) |
/// | `project_deleted`, `_soft_deleted`, `_archived` | project | delete | project key (id if no key) |
/// | `user_created`, `_updated` / `user_deleted` | user | upsert / delete | account id |
/// | `jira:version_created`, `_updated`, `_released`, `_unreleased`, `_moved` | release | upsert | version id |
/// | `jira:version_deleted`, `_merged` | release | delete | version id |
/// | `board_created`, `_updated`, `_configuration_changed` / `board_deleted` | board | upsert / delete | board id |
/// | `sprint_created`, `_updated`, `_started`, `_closed` / `sprint_deleted` | sprint | upsert / delete | sprint id |
/// | `worklog_created`, `_updated` / `worklog_deleted` | worklog | upsert / delete | worklog id |
///
/// Archived and trashed (soft-deleted) projects are deletes because the project list a
/// sync reads (`project/search`, live projects) no longer returns them; restoring one is
/// an upsert. Comment events re-fetch their issue. Any other name is
/// [`JiraEvent::Unsupported`], not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JiraEvent {
    /// An issue changed.
    Issue {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The numeric issue id.
        id: String,
        /// The issue key.
        key: String,
        /// The key before the issue moved to another project, when this event moved it.
        previous_key: Option<String>,
    },
    /// A project changed.
    Project {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The project key, when the payload has it.
        key: Option<String>,
        /// The numeric project id, when the payload has it.
        id: Option<String>,
    },
    /// A user changed.
    User {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The account id.
        account_id: String,
    },
    /// A release (project version) changed.
    Release {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The version id.
        id: String,
        /// The id of the version's project.
        project_id: Option<String>,
        /// The version this one was merged into (`jira:version_merged`), which changed too.
        merged_to: Option<String>,
    },
    /// A board changed.
    Board {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The board id.
        id: String,
    },
    /// A sprint changed.
    Sprint {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The sprint id.
        id: String,
        /// The board the sprint was created on (`originBoardId`).
        board_id: Option<String>,
    },
    /// A worklog changed.
    Worklog {
        /// The event name.
        webhook_event: String,
        /// Upsert or delete.
        action: Action,
        /// The worklog id.
        id: String,
        /// The id of the issue the worklog belongs to.
        issue_id: Option<String>,
    },
    /// An event this crate does not act on (`issuelink_created`, `option_*`, …).
    Unsupported {
        /// The event name.
        webhook_event: String,
    },
}

impl JiraEvent {
    /// Reads a webhook body. An unknown `webhookEvent` is [`JiraEvent::Unsupported`];
    /// a body that is not JSON, or lacks what its event needs, is an [`EventError`]
    /// naming the JSON path.
    pub fn parse(body: &[u8]) -> Result<JiraEvent, EventError> {
        let root = parse_object(body)?;
        let doc = JsonNode::root(&root);
        let name = doc.str("webhookEvent")?;
        let webhook_event = name.clone();
        let (kind, action) = match classify(&name) {
            Some(found) => found,
            None => return Ok(Self::Unsupported { webhook_event }),
        };
        Ok(match kind {
            JiraKind::Issue => Self::Issue {
                action,
                id: doc.id("issue.id")?,
                key: doc.str("issue.key")?,
                previous_key: previous_key(&root),
                webhook_event,
            },
            JiraKind::Project => {
                let key = doc.opt_id("project.key")?;
                let id = doc.opt_id("project.id")?;
                if key.is_none() && id.is_none() {
                    return Err(EventError::Missing {
                        path: "project.key".into(),
                    });
                }
                Self::Project {
                    webhook_event,
                    action,
                    key,
                    id,
                }
            }
            JiraKind::User => Self::User {
                webhook_event,
                action,
                account_id: doc.str("user.accountId")?,
            },
            JiraKind::Release => {
                let merged_to = match doc.lookup("mergedTo")? {
                    Some(_) => merged_to(&doc, "mergedTo")?,
                    None => merged_to(&doc, "version.mergedTo")?,
                };
                Self::Release {
                    webhook_event,
                    action,
                    id: doc.id("version.id")?,
                    project_id: doc.opt_id("version.projectId")?,
                    merged_to,
                }
            }
            JiraKind::Board => Self::Board {
                webhook_event,
                action,
                id: doc.id("board.id")?,
            },
            JiraKind::Sprint => Self::Sprint {
                webhook_event,
                action,
                id: doc.id("sprint.id")?,
                board_id: doc.opt_id("sprint.originBoardId")?,
            },
            JiraKind::Worklog => Self::Worklog {
                webhook_event,
                action,
                id: doc.id("worklog.id")?,
                issue_id: doc.opt_id("worklog.issueId")?,
            },
            // Kinds no row of `EVENTS` names: `classify` never yields them.
            _ => Self::Unsupported { webhook_event },
        })
    }

    /// The event's name, as Jira sent it in `webhookEvent`.
    pub fn webhook_event(&self) -> &str {
        match self {
            Self::Issue { webhook_event, .. }
            | Self::Project { webhook_event, .. }
            | Self::User { webhook_event, .. }
            | Self::Release { webhook_event, .. }
            | Self::Board { webhook_event, .. }
            | Self::Sprint { webhook_event, .. }
            | Self::Worklog { webhook_event, .. }
            | Self::Unsupported { webhook_event } => webhook_event,
        }
    }

    /// The kind of the entity that changed; `None` when unsupported.
    pub fn kind(&self) -> Option<JiraKind> {
        Some(match self {
            Self::Issue { .. } => JiraKind::Issue,
            Self::Project { .. } => JiraKind::Project,
            Self::User { .. } => JiraKind::User,
            Self::Release { .. } => JiraKind::Release,
            Self::Board { .. } => JiraKind::Board,
            Self::Sprint { .. } => JiraKind::Sprint,
            Self::Worklog { .. } => JiraKind::Worklog,
            Self::Unsupported { .. } => return None,
        })
    }

    /// Upsert or delete; `None` when unsupported.
    pub fn action(&self) -> Option<Action> {
        match self {
            Self::Issue { action, .. }
            | Self::Project { action, .. }
            | Self::User { action, .. }
            | Self::Release { action, .. }
            | Self::Board { action, .. }
            | Self::Sprint { action, .. }
            | Self::Worklog { action, .. } => Some(*action),
            Self::Unsupported { .. } => None,
        }
    }

    /// The identifier to fetch again (with [`JiraClient::fetch_one`](crate::JiraClient::fetch_one))
    /// or delete: the issue key, the project key (or id), the account id, else the
    /// numeric id. `None` when unsupported.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Issue { key, .. } => Some(key),
            Self::Project { key, id, .. } => key.as_deref().or(id.as_deref()),
            Self::User { account_id, .. } => Some(account_id),
            Self::Release { id, .. }
            | Self::Board { id, .. }
            | Self::Sprint { id, .. }
            | Self::Worklog { id, .. } => Some(id),
            Self::Unsupported { .. } => None,
        }
    }

    /// The numeric id of the issue an issue event is about: pass it to
    /// [`JiraClient::fetch_issue`](crate::JiraClient::fetch_issue) as `reconcile_id` so the
    /// search sees the change this event reports.
    pub fn issue_id(&self) -> Option<u64> {
        match self {
            Self::Issue { id, .. } => id.parse().ok(),
            _ => None,
        }
    }

    /// The entities this event touched, for a receiver to upsert or delete.
    ///
    /// Usually one; an issue moved to another project also deletes its previous key, and a
    /// merged version also upserts the version it was merged into. Worklogs name their
    /// issue as parent (`issue_id`), sprints their board (`board_id`), releases their
    /// project (`project_id`). Empty when unsupported.
    pub fn changes(&self) -> Vec<Change> {
        let (Some(kind), Some(action), Some(id)) = (self.kind(), self.action(), self.id()) else {
            return Vec::new();
        };
        let parent = match self {
            Self::Sprint { board_id, .. } => parent("board_id", board_id),
            Self::Worklog { issue_id, .. } => parent("issue_id", issue_id),
            Self::Release { project_id, .. } => parent("project_id", project_id),
            _ => None,
        };
        let mut changes = vec![Change {
            kind: kind.as_str(),
            action,
            id: id.to_owned(),
            parent: parent.clone(),
        }];
        match self {
            Self::Issue {
                previous_key: Some(previous),
                key,
                ..
            } if previous != key => changes.insert(
                0,
                Change {
                    kind: kind.as_str(),
                    action: Action::Delete,
                    id: previous.clone(),
                    parent: None,
                },
            ),
            Self::Release {
                merged_to: Some(target),
                ..
            } => changes.push(Change {
                kind: kind.as_str(),
                action: Action::Upsert,
                id: target.clone(),
                parent,
            }),
            _ => {}
        }
        changes
    }
}

fn parent(field: &'static str, id: &Option<String>) -> Option<ParentRef> {
    id.as_ref().map(|id| ParentRef {
        field,
        id: id.clone(),
    })
}

/// Every event name Jira delivers that touches a kind: the kind, what it does to it, and
/// whether ocean's admin webhook subscribes to it (Ocean's 29: the classifier, the
/// registration's [`WEBHOOK_EVENTS`](crate::WEBHOOK_EVENTS) and
/// [`OAUTH_WEBHOOK_EVENTS`](crate::OAUTH_WEBHOOK_EVENTS) all read this table). The
/// unsubscribed rows are acted on when a webhook registered elsewhere sends them.
const EVENTS: &[(&str, JiraKind, Action, bool)] = {
    use Action::{Delete, Upsert};
    use JiraKind::{Board, Issue, Project, Release, Sprint, User, Worklog};
    &[
        ("jira:issue_created", Issue, Upsert, true),
        ("jira:issue_updated", Issue, Upsert, true),
        ("jira:issue_deleted", Issue, Delete, true),
        ("jira:version_created", Release, Upsert, true),
        ("jira:version_updated", Release, Upsert, true),
        ("jira:version_deleted", Release, Delete, true),
        ("jira:version_released", Release, Upsert, true),
        ("jira:version_unreleased", Release, Upsert, true),
        ("jira:version_moved", Release, Upsert, true),
        ("project_created", Project, Upsert, true),
        ("project_updated", Project, Upsert, true),
        ("project_deleted", Project, Delete, true),
        ("project_soft_deleted", Project, Delete, true),
        ("project_restored_deleted", Project, Upsert, true),
        ("project_archived", Project, Delete, true),
        ("project_restored_archived", Project, Upsert, true),
        ("user_created", User, Upsert, true),
        ("user_updated", User, Upsert, true),
        ("user_deleted", User, Delete, true),
        ("board_created", Board, Upsert, true),
        ("board_updated", Board, Upsert, true),
        ("board_deleted", Board, Delete, true),
        ("worklog_created", Worklog, Upsert, true),
        ("worklog_updated", Worklog, Upsert, true),
        ("worklog_deleted", Worklog, Delete, true),
        ("sprint_created", Sprint, Upsert, true),
        ("sprint_updated", Sprint, Upsert, true),
        ("sprint_deleted", Sprint, Delete, true),
        ("sprint_closed", Sprint, Upsert, true),
        ("comment_created", Issue, Upsert, false),
        ("comment_updated", Issue, Upsert, false),
        ("comment_deleted", Issue, Upsert, false),
        ("jira:version_merged", Release, Delete, false),
        ("board_configuration_changed", Board, Upsert, false),
        ("sprint_started", Sprint, Upsert, false),
    ]
};

/// The kind and action of a supported event name.
fn classify(name: &str) -> Option<(JiraKind, Action)> {
    EVENTS
        .iter()
        .find(|(event, ..)| *event == name)
        .map(|&(_, kind, action, _)| (kind, action))
}

/// Whether a row of [`EVENTS`] is subscribed to, by every webhook or (`issues_only`) by
/// the dynamic ones, which Jira accepts issue events for alone.
const fn subscribed(row: usize, issues_only: bool) -> bool {
    let (_, kind, _, subscribed) = EVENTS[row];
    subscribed && (!issues_only || matches!(kind, JiraKind::Issue))
}

/// How many events a webhook subscribes to.
pub(crate) const fn subscribed_count(issues_only: bool) -> usize {
    let (mut row, mut n) = (0, 0);
    while row < EVENTS.len() {
        n += subscribed(row, issues_only) as usize;
        row += 1;
    }
    n
}

/// The names of the events a webhook subscribes to, in the table's order.
pub(crate) const fn subscribed_events<const N: usize>(issues_only: bool) -> [&'static str; N] {
    let mut names = [""; N];
    let (mut row, mut n) = (0, 0);
    while row < EVENTS.len() {
        if subscribed(row, issues_only) {
            names[n] = EVENTS[row].0;
            n += 1;
        }
        row += 1;
    }
    names
}

/// The issue's key before this event, when the changelog records a key change (a move).
fn previous_key(root: &Value) -> Option<String> {
    root.pointer("/changelog/items")?
        .as_array()?
        .iter()
        .find(|item| {
            let field = item.get("field").and_then(Value::as_str);
            let field_id = item.get("fieldId").and_then(Value::as_str);
            field.is_some_and(|f| f.eq_ignore_ascii_case("key")) || field_id == Some("issuekey")
        })?
        .get("fromString")?
        .as_str()
        .map(str::to_owned)
}

/// `mergedTo` as an id or an object with an `id`.
fn merged_to(doc: &JsonNode<'_>, path: &str) -> Result<Option<String>, EventError> {
    match doc.lookup(path)? {
        Some(node) if node.value().is_object() => node.opt_id("id"),
        Some(_) => doc.opt_id(path),
        None => Ok(None),
    }
}

/// Checks Jira's `X-Hub-Signature: sha256=<hex>` header (sent when the webhook has a
/// secret) against the raw body, in constant time. No header, or an empty secret, is
/// `false`.
///
/// ```
/// use ocean_core::webhook::hmac_sha256_hex;
/// use ocean_jira::verify_signature;
/// let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
/// let header = format!("sha256={}", hmac_sha256_hex(b"s3cret", body));
/// assert!(verify_signature(b"s3cret", body, Some(&header)));
/// assert!(!verify_signature(b"s3cret", b"{}", Some(&header)));
/// assert!(!verify_signature(b"s3cret", body, None));
/// ```
pub fn verify_signature(secret: &[u8], body: &[u8], x_hub_signature: Option<&str>) -> bool {
    !secret.is_empty()
        && x_hub_signature.is_some_and(|header| verify_sha256_signature(secret, body, header))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classifier_and_the_registrations_read_one_table() {
        for &(name, kind, action, subscribed) in EVENTS {
            assert_eq!(classify(name), Some((kind, action)), "{name}");
            assert_eq!(crate::WEBHOOK_EVENTS.contains(&name), subscribed, "{name}");
            let dynamic = subscribed && kind == JiraKind::Issue;
            assert_eq!(
                crate::OAUTH_WEBHOOK_EVENTS.contains(&name),
                dynamic,
                "{name}"
            );
        }
        assert_eq!(classify("issuelink_created"), None);
    }
}
