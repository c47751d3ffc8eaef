//! Releases (project versions).

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::Extra;

/// A release: a version of a project, from `GET /rest/api/3/project/{project_key}/version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "release",
    path = "/rest/api/3/project/{project_key}/version",
    items = "values",
    paginate = offset,
    id = "id"
)]
pub struct Release {
    /// The version id, as a string.
    pub id: String,
    /// The version name (`"1.2.0"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the version is archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// Whether the version is released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released: Option<bool>,
    /// The release date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    /// The start date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Whether the release date has passed while unreleased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// The id of the project the version belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    /// The REST URL of the version.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}
