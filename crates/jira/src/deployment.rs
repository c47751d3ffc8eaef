//! Jira Cloud or Data Center / Server: which one a site is, and where each list lives there.
//!
//! Data Center has no `/rest/api/3`: its lists are under `/rest/api/2`, some as bare arrays,
//! issue search is offset-paged, and users are found by `username` and identified by `key`
//! (no `accountId`). The agile API (`/rest/agile/1.0`) and admin webhooks are the same.

use std::fmt;
use std::str::FromStr;

use ocean_core::reqwest::Method;
use ocean_core::{Client, Endpoint, Pagination, Resource};

/// Where `serverInfo` lives on both deployments.
pub const SERVER_INFO_PATH: &str = "/rest/api/2/serverInfo";

/// Which Jira a site runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deployment {
    /// Jira Cloud (`*.atlassian.net`, or through the OAuth gateway): `/rest/api/3`.
    #[default]
    Cloud,
    /// Jira Data Center or Server: `/rest/api/2`.
    DataCenter,
}

impl Deployment {
    /// `"cloud"` or `"dc"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cloud => "cloud",
            Self::DataCenter => "dc",
        }
    }

    /// What `serverInfo`'s `deploymentType` says: `"Cloud"` is Cloud, anything else
    /// (`"Server"`, `"DataCenter"`) is Data Center.
    pub fn from_deployment_type(value: &str) -> Self {
        if value.eq_ignore_ascii_case("cloud") {
            Self::Cloud
        } else {
            Self::DataCenter
        }
    }

    /// A platform-API path written for Cloud (`/rest/api/3/…`) as this deployment serves it:
    /// Data Center has the same resources under `/rest/api/2/…`.
    pub(crate) fn platform_path(self, cloud_path: &str) -> String {
        match self {
            Self::Cloud => cloud_path.to_owned(),
            Self::DataCenter => cloud_path.replacen("/rest/api/3/", "/rest/api/2/", 1),
        }
    }

    /// The endpoint `T` lists from on this deployment.
    pub(crate) fn endpoint<T: Resource>(self) -> Endpoint {
        let cloud = T::endpoint();
        if self == Self::Cloud {
            return cloud;
        }
        match cloud.kind() {
            // One bare array of every project; no paging.
            "project" => Endpoint::new("project", "/rest/api/2/project")
                .paginate(Pagination::None)
                .id_field("key"),
            // Offset-paged search, parameters in the POST body.
            "issue" => Endpoint::new("issue", "/rest/api/2/search")
                .method(Method::POST)
                .items("issues")
                .paginate(Pagination::offset())
                .id_field("key"),
            // `username=.` matches every user on Data Center.
            "user" => Endpoint::new("user", "/rest/api/2/user/search")
                .query("username", ".")
                .paginate(Pagination::array())
                .id_field("key"),
            "release" => Endpoint::new("release", "/rest/api/2/project/{project_key}/version")
                .items("values")
                .paginate(Pagination::offset())
                .id_field("id"),
            "component" => {
                Endpoint::new("component", "/rest/api/2/project/{project_key}/components")
                    .paginate(Pagination::None)
                    .id_field("id")
            }
            "worklog" => Endpoint::new("worklog", "/rest/api/2/issue/{issue_key}/worklog")
                .items("worklogs")
                .paginate(Pagination::offset())
                .id_field("id"),
            // The agile API is the same on both.
            _ => cloud,
        }
    }

    /// Asks the site: `GET /rest/api/2/serverInfo`, which both deployments serve.
    ///
    /// # Errors
    ///
    /// The request failed or the answer has no `deploymentType`.
    pub async fn detect(client: &Client) -> ocean_core::Result<Self> {
        let response = client.get(SERVER_INFO_PATH).send().await?;
        let info: serde_json::Value = response.json()?;
        match info["deploymentType"].as_str() {
            Some(kind) => Ok(Self::from_deployment_type(kind)),
            None => Err(ocean_core::Error::Decode {
                url: response.url().to_owned(),
                path: "deploymentType".into(),
                message: "serverInfo has no `deploymentType`".into(),
            }),
        }
    }
}

impl fmt::Display for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a deployment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Jira deployment `{0}`; valid: cloud, dc (or datacenter, server)")]
pub struct ParseDeploymentError(pub String);

impl FromStr for Deployment {
    type Err = ParseDeploymentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cloud" => Ok(Self::Cloud),
            "dc" | "datacenter" | "data-center" | "server" => Ok(Self::DataCenter),
            _ => Err(ParseDeploymentError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Board, Issue, User};

    #[test]
    fn data_center_lists_use_v2_and_agile_is_shared() {
        let dc = Deployment::DataCenter;
        assert_eq!(dc.endpoint::<Issue>().path(), "/rest/api/2/search");
        assert_eq!(dc.endpoint::<User>().id_field_name(), Some("key"));
        assert_eq!(dc.endpoint::<Board>().path(), Board::endpoint().path());
        assert_eq!(
            Deployment::Cloud.endpoint::<Issue>().path(),
            Issue::endpoint().path()
        );
        assert_eq!("Server".parse::<Deployment>(), Ok(Deployment::DataCenter));
        assert_eq!(Deployment::from_deployment_type("Cloud"), Deployment::Cloud);
        assert!(
            "onprem"
                .parse::<Deployment>()
                .unwrap_err()
                .to_string()
                .contains("dc")
        );
    }
}
