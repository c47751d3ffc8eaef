//! Projects.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::Extra;

/// A Jira project, as listed by `GET /rest/api/3/project/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "project",
    path = "/rest/api/3/project/search",
    items = "values",
    paginate = offset,
    id = "key"
)]
pub struct Project {
    /// The numeric id, as a string (`"10000"`).
    pub id: String,
    /// The project key (`"EX"`).
    pub key: String,
    /// The display name.
    pub name: String,
    /// The REST URL of the project.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// `software`, `service_desk` or `business`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_type_key: Option<String>,
    /// Whether the project is team-managed (next-gen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simplified: Option<bool>,
    /// `classic` or `next-gen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Whether the project is private.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    /// The category, when the project has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_category: Option<ProjectCategory>,
    /// Issue statistics (`expand=insight`, which the client asks for by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insight: Option<ProjectInsight>,
    /// Every other field (`avatarUrls`, `lead`, `description`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A project category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectCategory {
    /// The category id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The category name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Issue statistics of a project (`expand=insight`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInsight {
    /// How many issues the project holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_issue_count: Option<i64>,
    /// When an issue last changed (`2021-04-22T05:37:05.000+0000`; see
    /// [`parse_timestamp`](super::parse_timestamp)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_issue_update_time: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}
