//! Jira Software (agile) resources: boards, sprints, epics.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::Extra;

/// An agile board, as listed by `GET /rest/agile/1.0/board`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "board",
    path = "/rest/agile/1.0/board",
    items = "values",
    paginate = offset,
    id = "id"
)]
pub struct Board {
    /// The board id.
    pub id: u64,
    /// The board name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `scrum`, `kanban` or `simple`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub board_type: Option<String>,
    /// The REST URL of the board.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// The project (or user) the board belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<BoardLocation>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Where a board lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardLocation {
    /// The project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<u64>,
    /// The project key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_key: Option<String>,
    /// The project name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A sprint of a board, from `GET /rest/agile/1.0/board/{board_id}/sprint`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "sprint",
    path = "/rest/agile/1.0/board/{board_id}/sprint",
    items = "values",
    paginate = offset,
    id = "id",
    param(board_id = u64)
)]
pub struct Sprint {
    /// The sprint id.
    pub id: u64,
    /// The sprint name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `future`, `active` or `closed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The REST URL of the sprint.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// When the sprint starts (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// When the sprint ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// When the sprint was completed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_date: Option<String>,
    /// The board the sprint was created on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_board_id: Option<u64>,
    /// The sprint goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An epic of a board, from `GET /rest/agile/1.0/board/{board_id}/epic`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "epic",
    path = "/rest/agile/1.0/board/{board_id}/epic",
    items = "values",
    paginate = offset,
    id = "id",
    param(board_id = u64)
)]
pub struct Epic {
    /// The epic's issue id.
    pub id: u64,
    /// The epic's issue key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The epic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The epic summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Whether the epic is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<bool>,
    /// The REST URL of the epic.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// Every other field (`color`, …).
    #[serde(flatten)]
    pub extra: Extra,
}
