//! The typed documents: the fields callers commonly need, typed; everything
//! else kept in `extra`, so nothing the server sends is lost.
//!
//! Octopus adds fields between versions (`Icon`, `ChangeRequestSettings`, …), so
//! only `Id` (and a kind's defining field, like a release's `Version`) is
//! required; every other known field is optional or defaults.

use ocean_core::Resource;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::kinds::SpaceScoped;

/// A space (`GET /api/spaces`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "space",
    path = "/spaces",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Space {
    /// `Spaces-1`.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The URL-friendly name.
    #[serde(default)]
    pub slug: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the unscoped API paths (`/api/projects`) address this space.
    #[serde(default)]
    pub is_default: bool,
    /// Whether the task queue of this space is stopped.
    #[serde(default)]
    pub task_queue_stopped: bool,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A project (`GET /api/{space_id}/projects`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "project",
    path = "/{space_id}/projects",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Project {
    /// `Projects-1`.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The URL-friendly name.
    #[serde(default)]
    pub slug: Option<String>,
    /// The space it belongs to.
    #[serde(default)]
    pub space_id: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// `ProjectGroups-1`.
    #[serde(default)]
    pub project_group_id: Option<String>,
    /// `Lifecycles-1`.
    #[serde(default)]
    pub lifecycle_id: Option<String>,
    /// Whether the project is disabled.
    #[serde(default)]
    pub is_disabled: bool,
    /// Whether its process lives in Git (config-as-code).
    #[serde(default)]
    pub is_version_controlled: bool,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A release (`GET /api/{space_id}/releases`, newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "release",
    path = "/{space_id}/releases",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Release {
    /// `Releases-1`.
    pub id: String,
    /// The version, e.g. `1.2.3`.
    pub version: String,
    /// The project released.
    #[serde(default)]
    pub project_id: Option<String>,
    /// `Channels-1`.
    #[serde(default)]
    pub channel_id: Option<String>,
    /// The space it belongs to.
    #[serde(default)]
    pub space_id: Option<String>,
    /// When it was created (ISO 8601 with offset).
    #[serde(default)]
    pub assembled: Option<String>,
    /// The release notes (Markdown).
    #[serde(default)]
    pub release_notes: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A deployment (`GET /api/{space_id}/deployments`, newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "deployment",
    path = "/{space_id}/deployments",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Deployment {
    /// `Deployments-1`.
    pub id: String,
    /// e.g. `Deploy to Production`.
    #[serde(default)]
    pub name: Option<String>,
    /// The release deployed.
    #[serde(default)]
    pub release_id: Option<String>,
    /// The environment deployed to.
    #[serde(default)]
    pub environment_id: Option<String>,
    /// The project deployed.
    #[serde(default)]
    pub project_id: Option<String>,
    /// `Channels-1`.
    #[serde(default)]
    pub channel_id: Option<String>,
    /// The tenant, for tenanted deployments.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The server task running it (`ServerTasks-1`): its state is the deployment's state.
    #[serde(default)]
    pub task_id: Option<String>,
    /// The space it belongs to.
    #[serde(default)]
    pub space_id: Option<String>,
    /// When it was created (ISO 8601 with offset).
    #[serde(default)]
    pub created: Option<String>,
    /// Who started it.
    #[serde(default)]
    pub deployed_by: Option<String>,
    /// Whether a step failed (guided failure may still have let it finish).
    #[serde(default)]
    pub failure_encountered: bool,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A deployment target (`GET /api/{space_id}/machines`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "machine",
    path = "/{space_id}/machines",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Machine {
    /// `Machines-1`.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The environments it deploys to.
    #[serde(default)]
    pub environment_ids: Vec<String>,
    /// Its target roles (tags).
    #[serde(default)]
    pub roles: Vec<String>,
    /// `Healthy`, `Unavailable`, `Unknown`, `HasWarnings` or `Unhealthy`.
    #[serde(default)]
    pub health_status: Option<String>,
    /// Whether it is disabled.
    #[serde(default)]
    pub is_disabled: bool,
    /// The space it belongs to.
    #[serde(default)]
    pub space_id: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An environment (`GET /api/{space_id}/environments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "environment",
    path = "/{space_id}/environments",
    items = "Items",
    paginate = skip_take,
    page_size = 50,
    id = "Id"
)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// `Environments-1`.
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Its position in lifecycles and dashboards.
    #[serde(default)]
    pub sort_order: Option<i32>,
    /// The space it belongs to.
    #[serde(default)]
    pub space_id: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SpaceScoped for Project {}

impl SpaceScoped for Release {
    const CAPPED: bool = true;
}

impl SpaceScoped for Deployment {
    const CAPPED: bool = true;
}

impl SpaceScoped for Machine {}

impl SpaceScoped for Environment {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OctopusKind;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn real_documents_decode_and_keep_unknown_fields() {
        let space: Space = serde_json::from_str(&fixture("octopus-space.json")).unwrap();
        assert_eq!((space.id.as_str(), space.is_default), ("Spaces-1", true));
        assert!(space.extra.contains_key("SpaceManagersTeams"));

        let project: Project = serde_json::from_str(&fixture("octopus-project.json")).unwrap();
        assert_eq!(project.name, "Sample Project");
        assert_eq!(project.lifecycle_id.as_deref(), Some("Lifecycles-2"));
        assert!(
            project.extra.contains_key("Icon"),
            "unknown fields are kept"
        );

        let release: Release = serde_json::from_str(&fixture("octopus-release.json")).unwrap();
        assert_eq!(
            (release.version.as_str(), release.project_id.as_deref()),
            ("0.0.2", Some("Projects-41"))
        );

        let machine: Machine = serde_json::from_str(&fixture("octopus-machine.json")).unwrap();
        assert_eq!(machine.health_status.as_deref(), Some("Unhealthy"));
        assert_eq!(machine.roles, ["test-server"]);

        let page: Value =
            serde_json::from_str(&fixture("octopus-deployments-collection.json")).unwrap();
        let deployment: Deployment = serde_json::from_value(page["Items"][0].clone()).unwrap();
        assert_eq!(deployment.task_id.as_deref(), Some("ServerTasks-11599"));
        assert!(!deployment.failure_encountered);
    }

    #[test]
    fn every_kind_is_listed_from_its_plural_path() {
        let endpoints = [
            (OctopusKind::Space, Space::endpoint()),
            (OctopusKind::Project, Project::endpoint()),
            (OctopusKind::Release, Release::endpoint()),
            (OctopusKind::Deployment, Deployment::endpoint()),
            (OctopusKind::Machine, Machine::endpoint()),
            (OctopusKind::Environment, Environment::endpoint()),
        ];
        for (kind, endpoint) in endpoints {
            assert_eq!(endpoint.kind(), kind.as_str());
            let expected = if kind.is_space_scoped() {
                format!("/{{space_id}}/{}", kind.plural())
            } else {
                format!("/{}", kind.plural())
            };
            assert_eq!(endpoint.path(), expected);
            assert_eq!(endpoint.items_key(), Some("Items"));
            assert_eq!(endpoint.pagination(), &ocean_core::Pagination::skip_take());
            assert_eq!(endpoint.requested_page_size(), 50);
            assert_eq!(endpoint.id_field_name(), Some("Id"));
        }
        let capped = [
            (OctopusKind::Project, Project::CAPPED),
            (OctopusKind::Release, Release::CAPPED),
            (OctopusKind::Deployment, Deployment::CAPPED),
            (OctopusKind::Machine, Machine::CAPPED),
            (OctopusKind::Environment, Environment::CAPPED),
        ];
        for (kind, capped) in capped {
            assert_eq!(capped, kind.is_capped(), "{kind}");
        }
    }
}
