//! Project components.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::{Extra, UserDetails};

/// A component of a project, from `GET /rest/api/3/project/{project_key}/component`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "component",
    path = "/rest/api/3/project/{project_key}/component",
    items = "values",
    paginate = offset,
    id = "id"
)]
pub struct Component {
    /// The component id, as a string.
    pub id: String,
    /// The component name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The component lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<UserDetails>,
    /// How issues are assigned (`PROJECT_DEFAULT`, `COMPONENT_LEAD`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_type: Option<String>,
    /// The project key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    /// How many issues use the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_count: Option<i64>,
    /// The REST URL of the component.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}
