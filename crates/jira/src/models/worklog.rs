//! Worklogs.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::{Extra, UserDetails};

/// A worklog of an issue, from `GET /rest/api/3/issue/{issue_key}/worklog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "worklog",
    path = "/rest/api/3/issue/{issue_key}/worklog",
    items = "worklogs",
    paginate = offset,
    id = "id"
)]
pub struct Worklog {
    /// The worklog id, as a string.
    pub id: String,
    /// The id of the issue the work was logged on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<String>,
    /// Who logged the work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<UserDetails>,
    /// Who last changed the worklog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_author: Option<UserDetails>,
    /// When the work started (see [`parse_timestamp`](super::parse_timestamp)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// When the worklog was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When the worklog was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// The time spent, as Jira writes it (`"3h 20m"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_spent: Option<String>,
    /// The time spent in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_spent_seconds: Option<i64>,
    /// The REST URL of the worklog.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// Every other field (`comment` as an ADF document, `visibility`, …).
    #[serde(flatten)]
    pub extra: Extra,
}
