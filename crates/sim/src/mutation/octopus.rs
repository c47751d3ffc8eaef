//! Applying Octopus mutations.

use serde_json::{Value, json};

use super::{Mutation, MutationError, not_found, parse, render};
use crate::data::octopus::{self, DeploymentSpec, OctopusData, ReleaseSpec};
use crate::events::OctopusEvent;
use crate::store::Row;
use crate::time;

/// Stamps an Octopus document as changed at `now` by the demo user.
fn modified(v: &mut Value, now: i64) {
    v["LastModifiedOn"] = json!(time::octopus(now));
    v["LastModifiedBy"] = json!(crate::JIRA_EMAIL);
}

/// A resource event (`Created`, `Modified`, `Deleted`) about `id`, carrying its document.
fn event(space: &str, category: &str, message: String, id: &str, doc: Value) -> OctopusEvent {
    OctopusEvent {
        space: space.to_owned(),
        category: category.into(),
        message,
        related: vec![id.to_owned()],
        document: Some(doc),
    }
}

/// The space of a new resource: `space_id`, or the default space; it must exist.
fn space_of(o: &OctopusData, space_id: Option<&str>) -> Result<String, MutationError> {
    let space = space_id.unwrap_or(octopus::DEFAULT_SPACE);
    if o.spaces.get(space).is_none() {
        return Err(not_found("space", space));
    }
    Ok(space.to_owned())
}

/// `name`, the item's display name from its `Name` (or `Version`) field.
fn display(v: &Value) -> String {
    v["Name"]
        .as_str()
        .or(v["Version"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Applies an Octopus mutation at `now` (epoch ms).
pub(super) fn apply(
    o: &mut OctopusData,
    m: &Mutation,
    now: i64,
) -> Result<(String, Vec<OctopusEvent>), MutationError> {
    if let Some(done) = infrastructure(o, m, now)? {
        return Ok(done);
    }
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
        } => edit(&mut o.projects, "project", "Project", id, now, |v| {
            set(v, "Name", name);
            set(v, "Description", description);
            set(v, "IsDisabled", is_disabled);
        }),
        Mutation::OctopusProjectDelete { id } => {
            let (space, v) = remove(&mut o.projects, "project", id)?;
            o.releases
                .remove_where(|_, r| r.attr("project") == Some(id));
            o.deployments
                .remove_where(|_, r| r.attr("project") == Some(id));
            let message = format!("Project {} was deleted", display(&v));
            let ev = event(&space, "Deleted", message, id, v);
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
        Mutation::OctopusReleaseUpdate {
            id,
            version,
            release_notes,
        } => edit(&mut o.releases, "release", "Release", id, now, |v| {
            set(v, "Version", version);
            set(v, "ReleaseNotes", release_notes);
        }),
        Mutation::OctopusReleaseDelete { id } => {
            let (space, v) = remove(&mut o.releases, "release", id)?;
            o.deployments
                .remove_where(|_, r| r.attr("release") == Some(id));
            let message = format!("Release {} was deleted", display(&v));
            Ok((id.clone(), vec![event(&space, "Deleted", message, id, v)]))
        }
        Mutation::OctopusDeploymentUpdate { id, comments } => edit(
            &mut o.deployments,
            "deployment",
            "Deployment",
            id,
            now,
            |v| {
                v["Comments"] = json!(comments);
            },
        ),
        Mutation::OctopusDeploymentDelete { id } => {
            let (space, v) = remove(&mut o.deployments, "deployment", id)?;
            let message = format!("Deployment {id} was deleted");
            Ok((id.clone(), vec![event(&space, "Deleted", message, id, v)]))
        }
        other => Err(MutationError::Invalid(format!(
            "unsupported mutation {other:?}"
        ))),
    }
}

/// Sets `field` of `v` when a value is given.
fn set<T: serde::Serialize>(v: &mut Value, field: &str, value: &Option<T>) {
    if let Some(value) = value {
        v[field] = json!(value);
    }
}

/// Edits document `id` of `table` in place: `change` sets its fields; the document is then
/// stamped modified, stored with the row's `name`/`version` attributes following its
/// `Name`/`Version`, and announced by a `Modified` event ("{noun} {name} was modified").
fn edit(
    table: &mut crate::store::Table,
    kind: &'static str,
    noun: &str,
    id: &str,
    now: i64,
    change: impl FnOnce(&mut Value),
) -> Result<(String, Vec<OctopusEvent>), MutationError> {
    let space = group(table, kind, id)?;
    let row = table.get(id).ok_or_else(|| not_found(kind, id))?;
    let mut attrs = row.attrs.clone();
    let mut v = parse(row);
    change(&mut v);
    modified(&mut v, now);
    for (attr, value) in attrs.iter_mut() {
        let field = match *attr {
            "name" => "Name",
            "version" => "Version",
            _ => continue,
        };
        if let Some(current) = v[field].as_str() {
            *value = current.into();
        }
    }
    table.replace(id, render(&v), Some(attrs));
    // A deployment's `Name` is its task's title ("Deploy to …"): its events name its id.
    let shown = match kind {
        "deployment" => id.to_owned(),
        _ => display(&v),
    };
    let message = format!("{noun} {shown} was modified");
    Ok((
        id.to_owned(),
        vec![event(&space, "Modified", message, id, v)],
    ))
}

/// Removes document `id` from `table`: its space and its last JSON.
fn remove(
    table: &mut crate::store::Table,
    kind: &'static str,
    id: &str,
) -> Result<(String, Value), MutationError> {
    let space = group(table, kind, id)?;
    let row = table.remove(id).ok_or_else(|| not_found(kind, id))?;
    Ok((space, parse(&row)))
}

/// The space (group) that holds `id` in `table`.
fn group(
    table: &crate::store::Table,
    kind: &'static str,
    id: &str,
) -> Result<String, MutationError> {
    table
        .group_of(id)
        .map(str::to_owned)
        .ok_or_else(|| not_found(kind, id))
}

type Applied = Option<(String, Vec<OctopusEvent>)>;

/// Environment and machine mutations; `None` for the others.
fn infrastructure(o: &mut OctopusData, m: &Mutation, now: i64) -> Result<Applied, MutationError> {
    Ok(Some(match m {
        Mutation::OctopusEnvironmentCreate { space_id, name } => {
            let space = space_of(o, space_id.as_deref())?;
            o.next.environment += 1;
            let id = format!("Environments-{}", o.next.environment);
            let order = o.environments.group_len(&space);
            let mut v: Value =
                serde_json::from_slice(&octopus::render_environment(&space, &id, name, order))
                    .expect("rendered environments are JSON");
            modified(&mut v, now);
            o.environments.push(
                &space,
                Row::new(
                    id.as_str(),
                    render(&v),
                    vec![("name", name.as_str().into())],
                ),
            );
            let message = format!("Environment {name} was created");
            (id.clone(), vec![event(&space, "Created", message, &id, v)])
        }
        Mutation::OctopusEnvironmentUpdate {
            id,
            name,
            description,
        } => edit(
            &mut o.environments,
            "environment",
            "Environment",
            id,
            now,
            |v| {
                set(v, "Name", name);
                set(v, "Description", description);
            },
        )?,
        Mutation::OctopusEnvironmentDelete { id } => {
            let (space, v) = remove(&mut o.environments, "environment", id)?;
            let mut events = vec![event(
                &space,
                "Deleted",
                format!("Environment {} was deleted", display(&v)),
                id,
                v,
            )];
            for machine in o
                .machines
                .remove_where(|_, r| r.attr("environment") == Some(id))
            {
                let mv = parse(&machine);
                let message = format!("Deployment target {} was deleted", display(&mv));
                events.push(event(&space, "Deleted", message, &machine.id, mv));
            }
            (id.clone(), events)
        }
        Mutation::OctopusMachineCreate {
            space_id,
            name,
            environment_id,
        } => {
            let space = space_of(o, space_id.as_deref())?;
            let env = match environment_id {
                Some(e) => e.clone(),
                None => o
                    .environments
                    .served(&space)
                    .first()
                    .map(|r| r.id.to_string())
                    .ok_or_else(|| not_found("environment", &space))?,
            };
            if o.environments.group_of(&env) != Some(space.as_str()) {
                return Err(not_found("environment", &env));
            }
            o.next.machine += 1;
            let number = o.next.machine;
            let id = format!("Machines-{number}");
            let json = octopus::render_machine(o.seed, &space, &id, number, name, &env, true);
            let mut v: Value = serde_json::from_slice(&json).expect("rendered machines are JSON");
            modified(&mut v, now);
            o.machines.push(
                &space,
                Row::new(
                    id.as_str(),
                    render(&v),
                    vec![
                        ("name", name.as_str().into()),
                        ("environment", env.as_str().into()),
                    ],
                ),
            );
            let message = format!("Deployment target {name} was created");
            (id.clone(), vec![event(&space, "Created", message, &id, v)])
        }
        Mutation::OctopusMachineUpdate {
            id,
            name,
            is_disabled,
        } => edit(
            &mut o.machines,
            "machine",
            "Deployment target",
            id,
            now,
            |v| {
                set(v, "Name", name);
                set(v, "IsDisabled", is_disabled);
            },
        )?,
        Mutation::OctopusMachineDelete { id } => {
            let (space, v) = remove(&mut o.machines, "machine", id)?;
            let message = format!("Deployment target {} was deleted", display(&v));
            (id.clone(), vec![event(&space, "Deleted", message, id, v)])
        }
        _ => return Ok(None),
    }))
}
