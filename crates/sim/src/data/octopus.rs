//! The simulated Octopus Deploy server: spaces, environments, machines, projects, releases,
//! deployments and subscriptions, rendered once in the shapes of
//! `shared/specs/examples/octopus-*.json`.

use std::sync::Arc;

use super::names::{AREAS, PRODUCTS};
use super::octopus_gen::{LazyDeployments, LazyReleases, OctopusGen, SpacePlan};
use crate::json::{Obj, object};
use crate::rng::Rng;
use crate::store::{Arena, Render, Row, Table};
use crate::time;

/// The two simulated spaces: (id, name, slug, description, is default).
pub(crate) const SPACES: [(&str, &str, &str, &str, bool); 2] = [
    ("Spaces-1", "Default", "default", "The default space", true),
    (
        "Spaces-2",
        "Platform",
        "platform",
        "Shared platform services",
        false,
    ),
];

/// The default space, used by unscoped paths (`/api/projects`).
pub(crate) const DEFAULT_SPACE: &str = "Spaces-1";

const ENVIRONMENTS: [&str; 3] = ["Development", "Test", "Production"];

/// Number of Octopus projects per space for `n` items.
pub(crate) fn projects_per_space(n: usize) -> usize {
    (n / 50).clamp(2, 100)
}

/// Deployments in space `s` (0-based): N/2 each, the odd one in the first space.
pub(crate) fn deployments_in(n: usize, s: usize) -> usize {
    if s == 0 { n - n / 2 } else { n / 2 }
}

/// Releases in space `s`: N/4 in total, split like deployments, at least one where there are
/// deployments (every deployment needs a release).
pub(crate) fn releases_in(n: usize, s: usize) -> usize {
    let total = n / 4;
    let share = if s == 0 { total - total / 2 } else { total / 2 };
    share.max(usize::from(deployments_in(n, s) > 0))
}

/// Running counters for ids created at runtime.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) project: u64,
    pub(crate) release: u64,
    pub(crate) deployment: u64,
    pub(crate) task: u64,
    pub(crate) subscription: u64,
    pub(crate) event: u64,
    pub(crate) environment: u64,
    pub(crate) machine: u64,
}

/// Everything the simulated Octopus server serves.
pub(crate) struct OctopusData {
    /// The server URI (`http://127.0.0.1:PORT/octopus`), sent as `ServerUri` in events.
    pub(crate) base: String,
    pub(crate) seed: u64,
    /// Group `""`.
    pub(crate) spaces: Table,
    /// Grouped by space; attr `name`.
    pub(crate) projects: Table,
    /// Grouped by space; attr `name`.
    pub(crate) environments: Table,
    /// Grouped by space; attr `name`.
    pub(crate) machines: Table,
    /// Grouped by space, newest first; attrs `project`, `channel`, `version`.
    pub(crate) releases: Table,
    /// Grouped by space, newest first; attrs `project`, `release`, `environment`, `channel`.
    pub(crate) deployments: Table,
    /// Grouped by space; attr `name`.
    pub(crate) subscriptions: Table,
    pub(crate) next: Counters,
}

impl OctopusData {
    /// The table for a URL plural (`projects`, `deployments`, ...).
    pub(crate) fn table(&self, plural: &str) -> Option<&Table> {
        Some(match plural {
            "spaces" => &self.spaces,
            "projects" => &self.projects,
            "environments" => &self.environments,
            "machines" => &self.machines,
            "releases" => &self.releases,
            "deployments" => &self.deployments,
            "subscriptions" => &self.subscriptions,
            _ => return None,
        })
    }
}

/// `ItemType` and the Links template query for a collection.
pub(crate) fn collection_meta(plural: &str) -> (&'static str, &'static str) {
    match plural {
        "spaces" => ("Space", "{/id}{?skip,ids,take,partialName}"),
        "projects" => (
            "Project",
            "{?name,skip,ids,clone,take,partialName,clonedFromProjectId}",
        ),
        "environments" => ("Environment", "{?name,skip,ids,take,partialName}"),
        "machines" => (
            "DeploymentTarget",
            "{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,environmentIds,thumbprint,deploymentId,shellNames,deploymentTargetTypes}",
        ),
        "releases" => ("Release", "{?skip,take,ids,searchByVersion}"),
        "deployments" => (
            "Deployment",
            "{?skip,take,ids,projects,environments,tenants,channels,taskState,partialName}",
        ),
        "subscriptions" => ("Subscription", "{/id}{?skip,take,ids,partialName,spaces}"),
        _ => ("Resource", "{?skip,take}"),
    }
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn render_space(id: &str, name: &str, slug: &str, description: &str, is_default: bool) -> Vec<u8> {
    object(900, |o| {
        o.str("Id", id)
            .str("Name", name)
            .str("Slug", slug)
            .str("Description", description)
            .bool("IsDefault", is_default)
            .bool("IsPrivate", false)
            .bool("TaskQueueStopped", false)
            .strs(
                "SpaceManagersTeams",
                &[
                    "teams-administrators".to_owned(),
                    "teams-managers".to_owned(),
                    format!("teams-spacemanagers-{id}"),
                ],
            )
            .empty_arr("SpaceManagersTeamMembers")
            .null("Icon")
            .empty_arr("ExtensionSettings")
            .str("LastModifiedOn", "0001-01-01T00:00:00.000+00:00")
            .obj("Links", |l| {
                l.str("Self", &format!("/api/spaces/{id}"))
                    .str("SpaceHome", &format!("/api/{id}"))
                    .str("Web", &format!("/app#/spaces/{id}"))
                    .str("Logo", &format!("/api/spaces/{id}/logo?cb=2024.3.10989"))
                    .str("Search", &format!("/api/spaces/{id}/search"));
            });
    })
}

pub(crate) fn render_environment(space: &str, id: &str, name: &str, sort_order: usize) -> Vec<u8> {
    object(700, |o| {
        o.str("Id", id)
            .str("Name", name)
            .str("Slug", &slug(name))
            .str("Description", &format!("{name} environment"))
            .num("SortOrder", sort_order)
            .bool("UseGuidedFailure", name == "Production")
            .bool("AllowDynamicInfrastructure", name != "Production")
            .str("SpaceId", space)
            .empty_arr("ExtensionSettings")
            .obj("Links", |l| {
                l.str("Self", &format!("/api/{space}/environments/{id}"))
                    .str("Machines", &format!("/api/{space}/environments/{id}/machines{{?skip,take,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,shellNames}}"))
                    .str("SinglyScopedVariableDetails", &format!("/api/{space}/environments/{id}/singlyScopedVariableDetails"))
                    .str("Metadata", &format!("/api/{space}/environments/{id}/metadata"))
                    .str("Web", &format!("/app#/{space}/infrastructure/environments/{id}"));
            });
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn render_machine(
    seed: u64,
    space: &str,
    id: &str,
    number: u64,
    name: &str,
    env_id: &str,
    tentacle: bool,
) -> Vec<u8> {
    let mut rng = Rng::new(seed, "octopus.machine", number);
    let health = *rng.pick(&["Healthy", "Healthy", "Healthy", "HasWarnings", "Unhealthy"]);
    let role = *rng.pick(&[
        "web-server",
        "app-server",
        "worker",
        "db-server",
        "test-server",
    ]);
    let thumbprint = rng.hex(40).to_uppercase();
    object(1800, |o| {
        o.str("Id", id)
            .strs("EnvironmentIds", &[env_id])
            .strs("Roles", &[role])
            .str("TenantedDeploymentParticipation", "Untenanted")
            .empty_arr("TenantIds")
            .empty_arr("TenantTags")
            .str("SpaceId", space)
            .str("Name", name);
        if tentacle {
            o.str("Thumbprint", &thumbprint).str(
                "Uri",
                &format!("https://10.0.{}.{}:10933/", number / 250, number % 250 + 1),
            );
        } else {
            o.null("Thumbprint").null("Uri");
        }
        o.bool("IsDisabled", false)
            .str("MachinePolicyId", "MachinePolicies-1")
            .str("HealthStatus", health)
            .bool("HasLatestCalamari", true)
            .str(
                "StatusSummary",
                if health == "Unhealthy" {
                    "There was a problem communicating with this machine (last checked: Tuesday, 31 December 2024 5:39:57 PM +00:00)"
                } else {
                    "This machine is responding (last checked: Tuesday, 31 December 2024 5:39:57 PM +00:00)"
                },
            )
            .bool("IsInProcess", false)
            .obj("Endpoint", |e| {
                if tentacle {
                    e.str("CommunicationStyle", "TentaclePassive")
                        .str("Uri", &format!("https://10.0.{}.{}:10933/", number / 250, number % 250 + 1))
                        .str("Thumbprint", &thumbprint)
                        .obj("TentacleVersionDetails", |t| {
                            t.bool("UpgradeLocked", false)
                                .str("Version", "8.1.2196")
                                .bool("UpgradeSuggested", false)
                                .bool("UpgradeRequired", false)
                                .bool("UpgradeAvailable", false);
                        })
                        .str("CertificateSignatureAlgorithm", "sha256RSA")
                        .null("ProxyId")
                        .str("DefaultWorkerPoolId", "")
                        .null("Id")
                        .null("LastModifiedOn")
                        .null("LastModifiedBy")
                        .empty_obj("Links");
                } else {
                    e.str("CommunicationStyle", "StepPackage")
                        .str("DeploymentTargetTypeId", "aws-ecs-target")
                        .str("StepPackageId", "aws-ecs-target")
                        .str("StepPackageVersion", "3.0.1")
                        .str("LastSavedStepPackageVersion", "3.0.1")
                        .obj("Inputs", |i| {
                            i.str("clusterName", &format!("cluster-{}", number % 5))
                                .str("region", "eu-west-1")
                                .obj("authentication", |a| {
                                    a.obj("credentials", |c| {
                                        c.str("type", "account").str("account", "Accounts-1");
                                    })
                                    .obj("role", |r| {
                                        r.str("type", "noAssumedRole");
                                    });
                                });
                        })
                        .str("DefaultWorkerPoolId", "")
                        .null("Id")
                        .null("LastModifiedOn")
                        .null("LastModifiedBy")
                        .obj("Links", |l| {
                            l.str("Logo", "/api/steps/deploymenttargets/aws-ecs-target/3.0.1/logo");
                        });
                }
            })
            .str("OperatingSystem", if tentacle { "Linux" } else { "Unknown" })
            .str("ShellName", if tentacle { "Bash" } else { "Unknown" })
            .str("ShellVersion", if tentacle { "5.1.16" } else { "Unknown" })
            .str("Architecture", if tentacle { "x64" } else { "Unknown" })
            .str("Slug", &slug(name))
            .bool("SkipInitialHealthCheck", false)
            .obj("Links", |l| {
                l.str("Self", &format!("/api/{space}/machines/{id}"))
                    .str("Connection", &format!("/api/{space}/machines/{id}/connection"))
                    .str("TasksTemplate", &format!("/api/{space}/machines/{id}/tasks{{?skip,take,type}}"))
                    .str(
                        "SinglyScopedVariableDetails",
                        &format!("/api/{space}/machines/{id}/singlyScopedVariableDetails"),
                    );
            });
    })
}

/// Renders a project as served by `/api/{space}/projects`.
pub(crate) fn render_project(
    seed: u64,
    space: &str,
    id: &str,
    name: &str,
    description: &str,
    is_disabled: bool,
) -> Vec<u8> {
    let mut rng = Rng::new(seed, "octopus.project", crate::rng::fnv1a(id.as_bytes()));
    let icon = *rng.pick(&["map-signs", "rocket", "cogs", "cloud", "database", "globe"]);
    let color = *rng.pick(&["#5E2EA2", "#1F62A6", "#00874D", "#D63D3D", "#E6A100"]);
    let group = 1 + rng.below(3);
    object(2600, |o| {
        o.str("Id", id)
            .str("SpaceId", space)
            .str("VariableSetId", &format!("variableset-{id}"))
            .str("DeploymentProcessId", &format!("deploymentprocess-{id}"))
            .null("ClonedFromProjectId")
            .bool("DiscreteChannelRelease", false)
            .empty_arr("IncludedLibraryVariableSetIds")
            .bool("DefaultToSkipIfAlreadyInstalled", false)
            .str("TenantedDeploymentMode", "Untenanted")
            .str("DefaultGuidedFailureMode", "EnvironmentDefault")
            .obj("VersioningStrategy", |v| {
                v.null("Template").null("DonorPackage");
            })
            .obj("ReleaseCreationStrategy", |r| {
                r.null("ChannelId").null("ReleaseCreationPackage").null("ReleaseCreationPackageStepId");
            })
            .empty_arr("Templates")
            .empty_arr("AutoDeployReleaseOverrides")
            .null("ReleaseNotesTemplate")
            .null("DeploymentChangesTemplate")
            .bool("ForcePackageDownload", false)
            .obj("Icon", |i| {
                i.str("Id", icon).str("Color", color);
            })
            .bool("AllowIgnoreChannelRules", true)
            .null("ExecuteDeploymentsOnResilientPipeline")
            .empty_arr("ExtensionSettings")
            .str("Name", name)
            .str("Slug", &slug(name))
            .str("Description", description)
            .bool("IsDisabled", is_disabled)
            .str("ProjectGroupId", &format!("ProjectGroups-{group}"))
            .str("LifecycleId", "Lifecycles-1")
            .bool("AutoCreateRelease", false)
            .bool("IsVersionControlled", false)
            .obj("PersistenceSettings", |p| {
                p.str("Type", "Database");
            })
            .obj("ProjectConnectivityPolicy", |p| {
                p.str("SkipMachineBehavior", "None")
                    .empty_arr("TargetRoles")
                    .bool("AllowDeploymentsToNoTargets", false)
                    .bool("ExcludeUnhealthyTargets", false);
            })
            .obj("Links", |l| {
                let p = format!("/api/{space}/projects/{id}");
                l.str("Self", &p)
                    .str("Variables", &format!("{p}/variables"))
                    .str("Releases", &format!("{p}/releases{{/version}}{{?skip,take,searchByVersion}}"))
                    .str("Channels", &format!("{p}/channels{{/id}}{{?skip,take,partialName}}"))
                    .str("Triggers", &format!("{p}/triggers{{?skip,take,partialName,triggerActionType,triggerActionCategory,runbooks}}"))
                    .str("DeploymentProcess", &format!("{p}/deploymentprocesses"))
                    .str("DeploymentSettings", &format!("{p}/deploymentsettings"))
                    .str("Web", &format!("/app#/{space}/projects/{id}"))
                    .str("Logo", &format!("{p}/logo?cb={icon}-{}-2024.3.10989", color.replace('#', "%23")))
                    .str("Runbooks", &format!("{p}/runbooks{{?skip,take,partialName}}"))
                    .str("Summary", &format!("{p}/summary"));
            });
    })
}

/// What varies between releases.
pub(crate) struct ReleaseSpec<'a> {
    pub(crate) space: &'a str,
    pub(crate) id: &'a str,
    pub(crate) project_id: &'a str,
    pub(crate) channel_id: &'a str,
    pub(crate) version: &'a str,
    pub(crate) assembled_ms: i64,
}

/// Renders a release as served by `/api/{space}/releases`, appending to `buf`.
pub(crate) fn render_release(buf: &mut Vec<u8>, s: &ReleaseSpec<'_>) {
    let ReleaseSpec {
        space,
        id,
        project_id: pid,
        channel_id: cid,
        version,
        ..
    } = *s;
    let snap = Rng::new(0, id, 0).hex(5).to_uppercase();
    let mut o = Obj::new(buf);
    o.str("Id", id)
        .str("SpaceId", space)
        .str("ProjectId", pid)
        .str("Version", version)
        .str("ChannelId", cid)
        .null("ReleaseNotes")
        .fmt(
            "ProjectDeploymentProcessSnapshotId",
            format_args!("deploymentprocess-{pid}-s-1-{snap}"),
        )
        .bool("IgnoreChannelRules", false)
        .empty_arr("BuildInformation")
        .str("Assembled", &time::octopus(s.assembled_ms))
        .empty_arr("LibraryVariableSetSnapshotIds")
        .empty_arr("SelectedPackages")
        .empty_arr("SelectedGitResources")
        .fmt(
            "ProjectVariableSetSnapshotId",
            format_args!("variableset-{pid}-s-0-{snap}"),
        )
        .null("VersionControlReference")
        .obj("Links", |l| {
            l.fmt("Self", format_args!("/api/{space}/releases/{id}"))
                .fmt("Project", format_args!("/api/{space}/projects/{pid}"))
                .fmt(
                    "Channel",
                    format_args!("/api/{space}/projects/{pid}/channels/{cid}"),
                )
                .fmt(
                    "Progression",
                    format_args!("/api/{space}/releases/{id}/progression"),
                )
                .fmt(
                    "Deployments",
                    format_args!("/api/{space}/releases/{id}/deployments{{?skip,take}}"),
                )
                .fmt(
                    "DeploymentTemplate",
                    format_args!("/api/{space}/releases/{id}/deployments/template"),
                )
                .fmt(
                    "Artifacts",
                    format_args!("/api/{space}/artifacts?regarding={id}"),
                )
                .fmt("Web", format_args!("/app#/{space}/releases/{id}"))
                .fmt(
                    "SnapshotVariables",
                    format_args!("/api/{space}/releases/{id}/snapshot-variables"),
                );
        });
    o.end();
}

/// What varies between deployments.
pub(crate) struct DeploymentSpec<'a> {
    pub(crate) space: &'a str,
    pub(crate) id: &'a str,
    pub(crate) release_id: &'a str,
    pub(crate) project_id: &'a str,
    pub(crate) channel_id: &'a str,
    pub(crate) environment_id: &'a str,
    pub(crate) environment_name: &'a str,
    pub(crate) task_id: &'a str,
    pub(crate) created_ms: i64,
    pub(crate) failed: bool,
    pub(crate) deployed_by: &'a str,
}

/// Renders a deployment as served by `/api/{space}/deployments`, appending to `buf`.
pub(crate) fn render_deployment(buf: &mut Vec<u8>, d: &DeploymentSpec<'_>) {
    let DeploymentSpec {
        space,
        id,
        release_id: rid,
        project_id: pid,
        environment_id: eid,
        ..
    } = *d;
    let task = d.task_id;
    let mut o = Obj::new(buf);
    o.str("Id", id)
        .str("SpaceId", space)
        .str("ReleaseId", rid)
        .str("ChannelId", d.channel_id)
        .fmt(
            "DeploymentProcessId",
            format_args!("deploymentprocess-{pid}-s-1-CGNSF"),
        )
        .empty_arr("Changes")
        .null("ChangesMarkdown")
        .str("EnvironmentId", eid)
        .null("TenantId")
        .bool("ForcePackageDownload", false)
        .bool("ForcePackageRedeployment", false)
        .str("Priority", "LifecycleDefault")
        .empty_arr("SkipActions")
        .empty_arr("SpecificMachineIds")
        .empty_arr("ExcludedMachineIds")
        .null("ManifestVariableSetId")
        .str("TaskId", task)
        .str("ProjectId", pid)
        .bool("UseGuidedFailure", false)
        .null("Comments")
        .empty_obj("FormValues")
        .null("QueueTime")
        .null("QueueTimeExpiry")
        .fmt("Name", format_args!("Deploy to {}", d.environment_name))
        .str("Created", &time::octopus(d.created_ms))
        .null("TentacleRetentionPeriod")
        .null("ChangeRequestSettings")
        .str("DeployedBy", d.deployed_by)
        .null("DeployedById")
        .bool("FailureEncountered", d.failed)
        .empty_arr("DeployedToMachineIds")
        .obj("ExecutionPlanLogContext", |e| {
            e.empty_arr("Steps");
        })
        .obj("Links", |l| {
            l.fmt("Self", format_args!("/api/{space}/deployments/{id}"))
                .fmt("Release", format_args!("/api/{space}/releases/{rid}"))
                .fmt(
                    "Environment",
                    format_args!("/api/{space}/environments/{eid}"),
                )
                .fmt("Project", format_args!("/api/{space}/projects/{pid}"))
                .fmt("Task", format_args!("/api/tasks/{task}"))
                .fmt("Web", format_args!("/app#/{space}/deployments/{id}"))
                .fmt(
                    "Artifacts",
                    format_args!("/api/{space}/artifacts?regarding={id}"),
                )
                .fmt(
                    "Interruptions",
                    format_args!("/api/{space}/interruptions?regarding={id}"),
                )
                .fmt(
                    "DeploymentProcess",
                    format_args!(
                        "/api/{space}/deploymentprocesses/deploymentprocess-{pid}-s-1-CGNSF"
                    ),
                );
        });
    o.end();
}

/// Release and deployment attributes, for filters and cascades.
pub(crate) fn release_attrs(project: &str, channel: &str, version: &str) -> crate::store::Attrs {
    vec![
        ("project", project.into()),
        ("channel", channel.into()),
        ("version", version.into()),
    ]
}

pub(crate) fn deployment_attrs(
    project: &str,
    release: &str,
    environment: &str,
    channel: &str,
    task: &str,
) -> crate::store::Attrs {
    vec![
        ("project", project.into()),
        ("release", release.into()),
        ("environment", environment.into()),
        ("channel", channel.into()),
        ("task", task.into()),
    ]
}

/// The channel id of a project (one default channel per project).
pub(crate) fn channel_of(project_id: &str) -> String {
    format!("Channels-{}", project_id.trim_start_matches("Projects-"))
}

/// A release version for the `seq`-th release of a project.
pub(crate) fn version(seq: u64) -> String {
    format!("{}.{}.{}", 1 + seq / 100, (seq / 10) % 10, seq % 10)
}

/// Generates the whole Octopus server for `n` items; with `lazy`, releases and deployments are
/// rendered when served instead of now.
pub(crate) fn generate(seed: u64, n: usize, base: &str, lazy: bool) -> OctopusData {
    let per_space = projects_per_space(n);
    let mut spaces = Table::new();
    let mut projects = Table::new();
    let mut environments = Table::new();
    let mut machines = Table::new();
    let mut releases = Table::newest_first();
    releases.reserve(releases_in(n, 0) + releases_in(n, 1), SPACES.len(), 0);
    let mut deployments = Table::newest_first();
    deployments.reserve(n, SPACES.len(), 0);
    let mut subscriptions = Table::new();
    let mut next = Counters::default();
    let mut plans = Vec::with_capacity(SPACES.len());
    let mut next_machine = 1u64;
    let mut arena = Arena::new();
    let mut scratch = Vec::with_capacity(8 * 1024);

    for (s, &(sid, name, sl, desc, is_default)) in SPACES.iter().enumerate() {
        spaces.push(
            "",
            Row::new(
                sid,
                render_space(sid, name, sl, desc, is_default),
                vec![("name", name.into())],
            ),
        );
        for g in [
            &mut projects,
            &mut environments,
            &mut machines,
            &mut releases,
            &mut deployments,
            &mut subscriptions,
        ] {
            g.ensure_group(sid);
        }

        let mut env_ids = Vec::new();
        for (j, env) in ENVIRONMENTS.iter().enumerate() {
            let eid = format!("Environments-{}", s * 3 + j + 1);
            environments.push(
                sid,
                Row::new(
                    eid.as_str(),
                    render_environment(sid, &eid, env, j),
                    vec![("name", (*env).into())],
                ),
            );
            for k in 0..2 {
                let mid = format!("Machines-{next_machine}");
                let mname = format!("{}-{}-{:02}", sl, env.to_lowercase(), k + 1);
                let json = render_machine(seed, sid, &mid, next_machine, &mname, &eid, k == 0);
                machines.push(
                    sid,
                    Row::new(
                        mid.as_str(),
                        json,
                        vec![
                            ("name", mname.as_str().into()),
                            ("environment", eid.as_str().into()),
                        ],
                    ),
                );
                next_machine += 1;
            }
            env_ids.push((eid, *env));
        }

        let mut project_ids = Vec::with_capacity(per_space);
        for p in 0..per_space {
            let number = (s * per_space + p + 1) as u64;
            let pid = format!("Projects-{number}");
            let mut rng = Rng::new(seed, "octopus.project.name", number);
            let pname = format!("{} {} {number}", rng.pick(PRODUCTS), rng.pick(AREAS));
            let desc = format!("Deploys the {pname} service.");
            let json = render_project(seed, sid, &pid, &pname, &desc, false);
            projects.push(
                sid,
                Row::new(pid.as_str(), json, vec![("name", pname.as_str().into())]),
            );
            project_ids.push(pid);
        }
        // Octopus lists projects by name.
        projects.sort_group_by_key(sid, |r| r.attr("name").unwrap_or_default().to_lowercase());

        plans.push(SpacePlan {
            id: sid,
            project_ids,
            environments: env_ids,
            releases: releases_in(n, s),
            deployments: deployments_in(n, s),
            release_base: next.release,
            deployment_base: next.deployment,
        });
        next.release += releases_in(n, s) as u64;
        next.deployment += deployments_in(n, s) as u64;
    }
    next.task = next.deployment;

    // Releases and deployments, kept or rendered when served.
    let generator = Arc::new(OctopusGen {
        spaces: plans,
        seed,
    });
    let lazy_releases: Arc<dyn Render> = Arc::new(LazyReleases(generator.clone()));
    let lazy_deployments: Arc<dyn Render> = Arc::new(LazyDeployments(generator.clone()));
    for (s, plan) in generator.spaces.iter().enumerate() {
        for k in 0..plan.releases {
            scratch.clear();
            let g = generator.release(s, k, &mut scratch);
            let row = if lazy {
                Row::lazy(g.id, lazy_releases.clone(), g.attrs)
            } else {
                Row::new(g.id, arena.store(&scratch), g.attrs)
            };
            releases.push(plan.id, row);
        }
        for j in 0..plan.deployments {
            scratch.clear();
            let g = generator.deployment(s, j, &mut scratch);
            let row = if lazy {
                Row::lazy(g.id, lazy_deployments.clone(), g.attrs)
            } else {
                Row::new(g.id, arena.store(&scratch), g.attrs)
            };
            deployments.push(plan.id, row);
        }
    }
    next.project = (SPACES.len() * per_space) as u64;
    next.environment = (SPACES.len() * ENVIRONMENTS.len()) as u64;
    next.machine = next_machine - 1;

    OctopusData {
        base: base.to_owned(),
        seed,
        spaces,
        projects,
        environments,
        machines,
        releases,
        deployments,
        subscriptions,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_rendering_serves_the_same_bytes() {
        for n in [3, 200, 1001] {
            let eager = generate(5, n, "http://x/octopus", false);
            let lazy = generate(5, n, "http://x/octopus", true);
            for (e, l) in [
                (&eager.releases, &lazy.releases),
                (&eager.deployments, &lazy.deployments),
            ] {
                let (e, l) = (e.all(), l.all());
                assert_eq!(e.len(), l.len());
                for (a, b) in e.iter().zip(&l) {
                    assert_eq!((&a.id, &a.attrs), (&b.id, &b.attrs));
                    assert_eq!(a.json(), b.json(), "{}", a.id);
                }
            }
            assert_eq!(eager.next.deployment, lazy.next.deployment);
            assert_eq!(eager.next.task, eager.next.deployment);
        }
    }

    #[test]
    fn sizes_follow_the_formulas() {
        let d = generate(42, 200, "http://x/octopus", false);
        assert_eq!(d.spaces.len(), 2);
        assert_eq!(d.environments.len(), 6);
        assert_eq!(d.machines.len(), 12);
        assert_eq!(d.projects.len(), 8);
        assert_eq!(d.releases.len(), 50);
        assert_eq!(d.deployments.len(), 200);
        assert_eq!(d.deployments.group_len("Spaces-2"), 100);
        let newest = d.deployments.page("Spaces-1", 0, 1)[0];
        assert_eq!(newest.id.as_ref(), "Deployments-100");
        for row in d.deployments.all() {
            let v: serde_json::Value = serde_json::from_slice(&row.json()).unwrap();
            let space = v["SpaceId"].as_str().unwrap();
            let rel = d.releases.get(v["ReleaseId"].as_str().unwrap()).unwrap();
            assert_eq!(d.releases.group_of(&rel.id), Some(space));
        }
    }

    #[test]
    fn tiny_datasets_still_have_releases_for_deployments() {
        for n in 0..6 {
            let d = generate(1, n, "http://x/octopus", false);
            assert_eq!(d.deployments.len(), n);
        }
    }
}
