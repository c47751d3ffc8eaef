//! Users.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};

use super::Extra;

/// A Jira user, as listed by `GET /rest/api/3/users/search` (active, inactive and app users).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "user",
    path = "/rest/api/3/users/search",
    paginate = array,
    id = "accountId"
)]
pub struct User {
    /// The Atlassian account id.
    pub account_id: String,
    /// `atlassian`, `app`, `customer` or `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// Whether the account is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The e-mail address, when the user's privacy settings show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// The REST URL of the user.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// Every other field (`avatarUrls`, `timeZone`, the always-empty `key` and `name`, …).
    #[serde(flatten)]
    pub extra: Extra,
}
