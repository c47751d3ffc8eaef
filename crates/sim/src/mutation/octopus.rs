//! Applying Octopus mutations.

use serde_json::{Value, json};

use super::{Mutation, MutationError, not_found, parse, render};
use crate::data::octopus::{self, DeploymentSpec, OctopusData, ReleaseSpec};
use crate::events::OctopusEvent;
use crate::store::Row;
use crate::time;

/// Applies an Octopus mutation.
pub(super) fn apply(
    o: &mut OctopusData,
    m: &Mutation,
) -> Result<(String, Vec<OctopusEvent>), MutationError> {
    let now = time::now_ms();
    match m {
        Mutation::OctopusProjectCreate { space_id, name } => {
            let space = space_id.as_deref().unwrap_or(octopus::DEFAULT_SPACE);
            if o.spaces.get(space).is_none() {
                return Err(not_found("space", space));
            }
            o.next.project += 1;
            let id = format!("Projects-{}", o.next.project);
            let json = octopus::render_project(o.seed, space, &id, name, "", false);
            let v: Value = serde_json::from_slice(&json).expect("rendered projects are JSON");
            o.projects.push(
                space,
                Row::new(id.as_str(), json, vec![("name", name.as_str().into())]),
            );
            let ev = OctopusEvent {
                space: space.to_owned(),
                category: "Created".into(),
                message: format!("Project {name} was created"),
                related: vec![id.clone()],
                document: Some(v),
            };
            Ok((id, vec![ev]))
        }
        Mutation::OctopusProjectUpdate {
            id,
            name,
            description,
            is_disabled,
        } => {
            let space = o
                .projects
                .group_of(id)
                .ok_or_else(|| not_found("project", id))?
                .to_owned();
            let mut v = parse(o.projects.get(id).ok_or_else(|| not_found("project", id))?);
            if let Some(n) = name {
                v["Name"] = json!(n);
            }
            if let Some(d) = description {
                v["Description"] = json!(d);
            }
            if let Some(d) = is_disabled {
                v["IsDisabled"] = json!(d);
            }
            let display = v["Name"].as_str().unwrap_or_default().to_owned();
            o.projects.replace(
                id,
                render(&v),
                Some(vec![("name", display.as_str().into())]),
            );
            let ev = OctopusEvent {
                space,
                category: "Modified".into(),
                message: format!("Project {display} was modified"),
                related: vec![id.clone()],
                document: Some(v),
            };
            Ok((id.clone(), vec![ev]))
        }
        Mutation::OctopusProjectDelete { id } => {
            let space = o
                .projects
                .group_of(id)
                .ok_or_else(|| not_found("project", id))?
                .to_owned();
            let row = o
                .projects
                .remove(id)
                .ok_or_else(|| not_found("project", id))?;
            o.releases
                .remove_where(|_, r| r.attr("project") == Some(id));
            o.deployments
                .remove_where(|_, r| r.attr("project") == Some(id));
            let v = parse(&row);
            let ev = OctopusEvent {
                space,
                category: "Deleted".into(),
                message: format!(
                    "Project {} was deleted",
                    v["Name"].as_str().unwrap_or_default()
                ),
                related: vec![id.clone()],
                document: Some(v),
            };
            Ok((id.clone(), vec![ev]))
        }
        Mutation::OctopusReleaseCreate {
            project_id,
            version,
        } => {
            let space = o
                .projects
                .group_of(project_id)
                .ok_or_else(|| not_found("project", project_id))?
                .to_owned();
            let project_name = parse(
                o.projects
                    .get(project_id)
                    .ok_or_else(|| not_found("project", project_id))?,
            )["Name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let version = match version {
                Some(v) => v.clone(),
                None => {
                    let seq = o
                        .releases
                        .served(&space)
                        .iter()
                        .filter(|r| r.attr("project") == Some(project_id))
                        .count();
                    octopus::version(seq as u64)
                }
            };
            o.next.release += 1;
            let id = format!("Releases-{}", o.next.release);
            let channel = octopus::channel_of(project_id);
            let mut json = Vec::with_capacity(2048);
            octopus::render_release(
                &mut json,
                &ReleaseSpec {
                    space: &space,
                    id: &id,
                    project_id,
                    channel_id: &channel,
                    version: &version,
                    assembled_ms: now,
                },
            );
            let v: Value = serde_json::from_slice(&json).expect("rendered releases are JSON");
            o.releases.push(
                &space,
                Row::new(
                    id.as_str(),
                    json,
                    octopus::release_attrs(project_id, &channel, &version),
                ),
            );
            let ev = OctopusEvent {
                space,
                category: "Created".into(),
                message: format!("Release {version} was created for {project_name}"),
                related: vec![id.clone(), project_id.clone(), channel],
                document: Some(v),
            };
            Ok((id, vec![ev]))
        }
        Mutation::OctopusDeploymentCreate {
            release_id,
            environment_id,
            failed,
        } => {
            let space = o
                .releases
                .group_of(release_id)
                .ok_or_else(|| not_found("release", release_id))?
                .to_owned();
            let release = o
                .releases
                .get(release_id)
                .ok_or_else(|| not_found("release", release_id))?;
            let project_id = release.attr("project").unwrap_or_default().to_owned();
            let channel = release.attr("channel").unwrap_or_default().to_owned();
            let version = release.attr("version").unwrap_or_default().to_owned();
            let env_id = match environment_id {
                Some(e) => e.clone(),
                None => o
                    .environments
                    .served(&space)
                    .first()
                    .map(|r| r.id.to_string())
                    .ok_or_else(|| not_found("environment", &space))?,
            };
            if o.environments.group_of(&env_id) != Some(space.as_str()) {
                return Err(not_found("environment", &env_id));
            }
            let env_name = o
                .environments
                .get(&env_id)
                .and_then(|r| r.attr("name"))
                .unwrap_or_default()
                .to_owned();
            let project_name = o
                .projects
                .get(&project_id)
                .and_then(|r| r.attr("name"))
                .unwrap_or_default()
                .to_owned();
            o.next.deployment += 1;
            o.next.task += 1;
            let id = format!("Deployments-{}", o.next.deployment);
            let task = format!("ServerTasks-{}", 10_000 + o.next.task);
            let mut json = Vec::with_capacity(2048);
            octopus::render_deployment(
                &mut json,
                &DeploymentSpec {
                    space: &space,
                    id: &id,
                    release_id,
                    project_id: &project_id,
                    channel_id: &channel,
                    environment_id: &env_id,
                    environment_name: &env_name,
                    task_id: &task,
                    created_ms: now,
                    failed: *failed,
                    deployed_by: crate::JIRA_EMAIL,
                },
            );
            o.deployments.push(
                &space,
                Row::new(
                    id.as_str(),
                    json,
                    octopus::deployment_attrs(&project_id, release_id, &env_id, &channel, &task),
                ),
            );
            let related = vec![
                id.clone(),
                project_id,
                release_id.clone(),
                env_id,
                task,
                channel,
            ];
            let outcome = if *failed {
                ("DeploymentFailed", "failed")
            } else {
                ("DeploymentSucceeded", "succeeded")
            };
            let events = [("DeploymentQueued", "queued"), outcome]
                .into_iter()
                .map(|(category, verb)| OctopusEvent {
                    space: space.clone(),
                    category: category.into(),
                    message: format!("Deploy to {env_name} {verb} for {project_name} release {version} to {env_name}"),
                    related: related.clone(),
                    document: None,
                })
                .collect();
            Ok((id, events))
        }
        other => Err(MutationError::Invalid(format!(
            "unsupported mutation {other:?}"
        ))),
    }
}
