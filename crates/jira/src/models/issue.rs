//! Issues.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::{Extra, UserDetails};

/// A Jira issue, as returned by the enhanced JQL search (`POST /rest/api/3/search/jql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "issue",
    path = "/rest/api/3/search/jql",
    method = "POST",
    items = "issues",
    paginate = cursor,
    id = "key"
)]
pub struct Issue {
    /// The numeric id, as a string (`"10002"`).
    pub id: String,
    /// The issue key (`"ED-1"`).
    pub key: String,
    /// The REST URL of the issue.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// The requested fields (empty when only ids and keys were asked for).
    #[serde(default)]
    pub fields: IssueFields,
    /// Every other field (`expand`, `changelog`, `renderedFields`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The commonly read fields of an issue; custom fields and the rest are in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueFields {
    /// The summary line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The workflow status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The issue type.
    #[serde(rename = "issuetype", default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<IssueType>,
    /// The project the issue belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectRef>,
    /// The assignee, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<UserDetails>,
    /// The reporter, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<UserDetails>,
    /// The priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// The labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Every other field, custom fields included, exactly as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A workflow status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The status id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The status name (`"In Progress"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The category (`new`, `indeterminate`, `done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<StatusCategory>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A status category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusCategory {
    /// `new`, `indeterminate` or `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The display name (`"To Do"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field (the numeric `id`, `colorName`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An issue type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueType {
    /// The issue type id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name (`"Bug"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether this is a sub-task type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtask: Option<bool>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// The priority id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name (`"Medium"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The project an issue belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRef {
    /// The project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The project key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The project name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}
