//! Pieces several models share.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::Extra;

/// A user as embedded in other resources (issue assignee, worklog author, component lead).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetails {
    /// The Atlassian account id (Cloud); absent on some Data Center payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The e-mail address, when the user's privacy settings show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// Whether the account is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parses a Jira timestamp: RFC 3339 (`2015-04-11T15:22:00.000+10:00`, agile API) or
/// Jira's own `2021-01-17T12:34:00.000+0000` (platform API, offset without a colon).
///
/// ```
/// use ocean_jira::models::parse_timestamp;
/// let a = parse_timestamp("2021-01-17T12:34:00.000+0000").unwrap();
/// let b = parse_timestamp("2021-01-17T13:34:00+01:00").unwrap();
/// assert_eq!(a, b);
/// assert!(parse_timestamp("yesterday").is_none());
/// ```
pub fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
}
