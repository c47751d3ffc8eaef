//! Typed models of the Jira resources, shaped on real payloads.
//!
//! Each model types the fields a caller usually reads and keeps every other field in
//! `extra`, so nothing the server sent is dropped. Optional fields absent from the payload
//! stay absent when the model is serialised again. The lossless path for forwarding items
//! is [`JiraClient::sync`](crate::JiraClient::sync), which never decodes them.
//!
//! Each resource derives [`Resource`](ocean_core::Resource), so besides the
//! [`JiraClient`](crate::JiraClient) methods it has `list`, `stream`, `pages` and
//! `fetch_all` functions taking an [`ocean_core::Client`].

mod agile;
mod common;
mod component;
mod issue;
mod project;
mod release;
mod user;
mod worklog;

pub use agile::{Board, BoardLocation, Epic, Sprint};
pub use common::{UserDetails, parse_timestamp};
pub use component::Component;
pub use issue::{Issue, IssueFields, IssueType, Priority, ProjectRef, Status, StatusCategory};
pub use project::{Project, ProjectCategory, ProjectInsight};
pub use release::Release;
pub use user::User;
pub use worklog::Worklog;

/// The fields a model does not type, by name, exactly as the server sent them.
pub type Extra = serde_json::Map<String, serde_json::Value>;
