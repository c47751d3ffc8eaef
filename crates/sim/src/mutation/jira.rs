//! Applying Jira mutations.

use serde_json::{Value, json};

use super::{Mutation, MutationError, not_found, parse, render};
use crate::data::jira::{self, IssueSpec, JiraData};
use crate::events::{self, JiraEvent};
use crate::store::Row;
use crate::time;

type JiraApplied = Option<(String, Option<String>, Vec<JiraEvent>)>;

/// Applies a Jira mutation; `None` when `m` is not a Jira mutation.
pub(super) fn apply(j: &mut JiraData, m: &Mutation) -> Result<JiraApplied, MutationError> {
    let actor = events::actor(j);
    let now = time::now_ms();
    Ok(Some(match m {
        Mutation::JiraIssueCreate { project, summary } => {
            let key = j
                .project_key(project)
                .ok_or_else(|| not_found("project", project))?;
            let pref = j
                .project_refs
                .get(&key)
                .cloned()
                .ok_or_else(|| not_found("project", project))?;
            let number = j.issue_numbers.entry(key.clone()).or_insert(0);
            *number += 1;
            let issue_key = format!("{key}-{number}");
            let id = j.next_issue_id;
            j.next_issue_id += 1;
            let mut json = Vec::with_capacity(8 * 1024);
            jira::render_issue(
                &mut json,
                &j.base,
                j.seed,
                &j.frags,
                &j.people,
                &IssueSpec {
                    id,
                    key: &issue_key,
                    project: &pref,
                    summary: Some(summary),
                    created_ms: now,
                    updated_ms: now,
                    worklogs: &[],
                    component: None,
                    fix_version: None,
                },
            );
            let value: Value = serde_json::from_slice(&json).expect("rendered issues are JSON");
            let id_s = id.to_string();
            let id_arc: std::sync::Arc<str> = id_s.as_str().into();
            j.issues.push(
                "",
                Row::new(
                    id_arc.clone(),
                    json,
                    vec![
                        ("project", key.as_str().into()),
                        ("key", issue_key.as_str().into()),
                    ],
                ),
            );
            j.issues.add_alias(&issue_key, &id_arc);
            j.worklogs.ensure_group(&id_s);
            let ev = JiraEvent::issue(
                "jira:issue_created",
                "issue_created",
                actor,
                value,
                &key,
                None,
            );
            (id_s, Some(issue_key), vec![ev])
        }
        Mutation::JiraIssueUpdate {
            issue,
            summary,
            status,
            labels,
            assignee,
        } => {
            let row = j
                .issues
                .get(issue)
                .ok_or_else(|| not_found("issue", issue))?;
            let (id, project_key) = (
                row.id.to_string(),
                row.attr("project").unwrap_or_default().to_owned(),
            );
            let mut v = parse(row);
            let mut items = Vec::new();
            let mut type_name = "issue_updated";
            let f = &mut v["fields"];
            if let Some(s) = summary {
                items.push(change(
                    "summary",
                    Value::Null,
                    f["summary"].clone(),
                    Value::Null,
                    json!(s),
                ));
                f["summary"] = json!(s);
            }
            if let Some(name) = status {
                let st = j.frags.status_by_name(name).ok_or_else(|| {
                    let names: Vec<&str> = j.frags.statuses.iter().map(|s| s.name).collect();
                    MutationError::Invalid(format!("unknown status {name:?}; one of {names:?}"))
                })?;
                items.push(change(
                    "status",
                    f["status"]["id"].clone(),
                    f["status"]["name"].clone(),
                    json!(st.id),
                    json!(st.name),
                ));
                f["status"] = serde_json::from_slice(&st.json).expect("fragments are JSON");
                f["statuscategorychangedate"] = json!(time::jira(now));
                if st.is_done() {
                    f["resolution"] = json!({"id": "10000", "name": "Done", "description": "Work has been completed on this issue.", "self": format!("{}/rest/api/3/resolution/10000", j.base)});
                    f["resolutiondate"] = json!(time::jira(now));
                } else {
                    f["resolution"] = Value::Null;
                    f["resolutiondate"] = Value::Null;
                }
                type_name = "issue_generic";
            }
            if let Some(labels) = labels {
                let old = f["labels"].as_array().map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                });
                items.push(change(
                    "labels",
                    Value::Null,
                    json!(old),
                    Value::Null,
                    json!(labels.join(" ")),
                ));
                f["labels"] = json!(labels);
            }
            if let Some(account) = assignee {
                let new = if account.is_empty() {
                    Value::Null
                } else {
                    parse(
                        j.users
                            .get(account)
                            .ok_or_else(|| not_found("user", account))?,
                    )
                };
                items.push(change(
                    "assignee",
                    f["assignee"]["accountId"].clone(),
                    f["assignee"]["displayName"].clone(),
                    new["accountId"].clone(),
                    new["displayName"].clone(),
                ));
                f["assignee"] = new;
                if summary.is_none() && status.is_none() && labels.is_none() {
                    type_name = "issue_assigned";
                }
            }
            f["updated"] = json!(time::jira(now));
            j.issues.replace(&id, render(&v), None);
            let changelog = json!({"id": j.take_changelog_id().to_string(), "items": items});
            let ev = JiraEvent::issue(
                "jira:issue_updated",
                type_name,
                actor,
                v.clone(),
                &project_key,
                Some(changelog),
            );
            let key = v["key"].as_str().map(str::to_owned);
            (id, key, vec![ev])
        }
        Mutation::JiraIssueDelete { issue } => {
            let row = j
                .issues
                .remove(issue)
                .ok_or_else(|| not_found("issue", issue))?;
            j.worklogs.remove_group(&row.id);
            let v = parse(&row);
            let key = v["key"].as_str().map(str::to_owned);
            let project = row.attr("project").unwrap_or_default().to_owned();
            let ev = JiraEvent::issue(
                "jira:issue_deleted",
                "issue_deleted",
                actor,
                v,
                &project,
                None,
            );
            (row.id.to_string(), key, vec![ev])
        }
        Mutation::JiraProjectCreate { key, name } => {
            let valid = key.len() <= 10
                && key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !valid {
                return Err(MutationError::Invalid(
                    "Project keys must start with an uppercase letter, followed by one or more uppercase alphanumeric characters.".into(),
                ));
            }
            if j.projects.get(key).is_some() {
                return Err(MutationError::Invalid(format!(
                    "A project with the key {key} already exists."
                )));
            }
            let id = j.next_project_id;
            j.next_project_id += 1;
            let json = jira::render_project(&j.base, j.seed, id, key, name, 0, now);
            let v: Value = serde_json::from_slice(&json).expect("rendered projects are JSON");
            let id_arc: std::sync::Arc<str> = id.to_string().into();
            j.projects.push(
                "",
                Row::new(
                    id_arc.clone(),
                    json,
                    vec![("key", key.as_str().into()), ("name", name.as_str().into())],
                ),
            );
            j.projects.add_alias(key, &id_arc);
            j.projects.add_alias(name, &id_arc);
            j.project_refs
                .insert(key.clone(), jira::new_project_ref(&j.base, id, key, name));
            j.issue_numbers.insert(key.clone(), 0);
            j.versions.ensure_group(&id_arc);
            j.components.ensure_group(&id_arc);
            let ev = JiraEvent::entity(
                "project_created",
                "project",
                project_event(&v, j),
                Vec::new(),
            );
            (id.to_string(), Some(key.clone()), vec![ev])
        }
        Mutation::JiraProjectUpdate { project, name } => {
            let row = j
                .projects
                .get(project)
                .ok_or_else(|| not_found("project", project))?;
            let (id, key) = (
                row.id.to_string(),
                row.attr("key").unwrap_or_default().to_owned(),
            );
            let mut v = parse(row);
            if let Some(name) = name {
                v["name"] = json!(name);
                if let Some(r) = j.project_refs.get(&key) {
                    let r = jira::new_project_ref(&j.base, r.id, &key, name);
                    j.project_refs.insert(key.clone(), r);
                }
            }
            let display = v["name"].as_str().unwrap_or_default().to_owned();
            j.projects.replace(
                &id,
                render(&v),
                Some(vec![
                    ("key", key.as_str().into()),
                    ("name", display.as_str().into()),
                ]),
            );
            j.projects.add_alias(&display, &id.as_str().into());
            let ev = JiraEvent::entity(
                "project_updated",
                "project",
                project_event(&v, j),
                Vec::new(),
            );
            (id, Some(key), vec![ev])
        }
        Mutation::JiraProjectDelete { project } => {
            let row = j
                .projects
                .remove(project)
                .ok_or_else(|| not_found("project", project))?;
            let key = row.attr("key").unwrap_or_default().to_owned();
            for issue in j
                .issues
                .remove_where(|_, r| r.attr("project") == Some(&key))
            {
                j.worklogs.remove_group(&issue.id);
            }
            j.versions.remove_group(&row.id);
            j.components.remove_group(&row.id);
            for board in j
                .boards
                .remove_where(|_, r| r.attr("project") == Some(&key))
            {
                j.sprints.remove_group(&board.id);
                j.epics.remove_group(&board.id);
            }
            j.project_refs.remove(&key);
            let v = parse(&row);
            let ev = JiraEvent::entity(
                "project_deleted",
                "project",
                project_event(&v, j),
                Vec::new(),
            );
            (row.id.to_string(), Some(key), vec![ev])
        }
        Mutation::JiraVersionUpdate { id, name, released } => {
            let row = j.versions.get(id).ok_or_else(|| not_found("version", id))?;
            let mut v = parse(row);
            if let Some(name) = name {
                v["name"] = json!(name);
            }
            let mut event = "jira:version_updated";
            if let Some(r) = released {
                if v["released"].as_bool() != Some(*r) {
                    event = if *r {
                        "jira:version_released"
                    } else {
                        "jira:version_unreleased"
                    };
                }
                v["released"] = json!(r);
                if *r {
                    v["overdue"] = json!(false);
                }
            }
            j.versions.replace(id, render(&v), None);
            (
                id.clone(),
                None,
                vec![JiraEvent::entity(event, "version", v, Vec::new())],
            )
        }
        Mutation::JiraSprintUpdate { id, name, state } => {
            let row = j.sprints.get(id).ok_or_else(|| not_found("sprint", id))?;
            let old = parse(row);
            let mut v = old.clone();
            if let Some(name) = name {
                v["name"] = json!(name);
            }
            let mut event = "sprint_updated";
            if let Some(state) = state {
                if !matches!(state.as_str(), "future" | "active" | "closed") {
                    return Err(MutationError::Invalid(format!(
                        "unknown sprint state {state:?}"
                    )));
                }
                if state == "closed" && old["state"] != "closed" {
                    event = "sprint_closed";
                    v["completeDate"] = json!(time::jira(now));
                }
                v["state"] = json!(state);
            }
            let state = v["state"].as_str().unwrap_or_default().to_owned();
            j.sprints
                .replace(id, render(&v), Some(vec![("state", state.into())]));
            let extra = if event == "sprint_updated" {
                vec![("oldValue", old)]
            } else {
                Vec::new()
            };
            (
                id.clone(),
                None,
                vec![JiraEvent::entity(event, "sprint", v, extra)],
            )
        }
        Mutation::JiraBoardUpdate { id, name } => {
            let row = j.boards.get(id).ok_or_else(|| not_found("board", id))?;
            let mut attrs = row.attrs.clone();
            let mut v = parse(row);
            v["name"] = json!(name);
            attrs.retain(|(k, _)| *k != "name");
            attrs.push(("name", name.as_str().into()));
            j.boards.replace(id, render(&v), Some(attrs));
            (
                id.clone(),
                None,
                vec![JiraEvent::entity("board_updated", "board", v, Vec::new())],
            )
        }
        Mutation::JiraUserUpdate {
            account_id,
            display_name,
            active,
        } => {
            let row = j
                .users
                .get(account_id)
                .ok_or_else(|| not_found("user", account_id))?;
            let mut v = parse(row);
            if let Some(n) = display_name {
                v["displayName"] = json!(n);
            }
            if let Some(a) = active {
                v["active"] = json!(a);
            }
            let full = render(&v);
            j.users.replace(account_id, full.clone(), None);
            if let Some(p) = j.people.iter_mut().find(|p| p.account_id == *account_id) {
                p.full = full;
                p.short = render(&json!({
                    "accountId": v["accountId"], "active": v["active"],
                    "displayName": v["displayName"], "self": v["self"],
                }));
            }
            (
                account_id.clone(),
                None,
                vec![JiraEvent::entity("user_updated", "user", v, Vec::new())],
            )
        }
        Mutation::JiraWorklogUpdate {
            issue,
            id,
            time_spent_seconds,
        } => {
            let issue_id = j
                .issues
                .resolve(issue)
                .ok_or_else(|| not_found("issue", issue))?;
            if j.worklogs.group_of(id) != Some(&*issue_id) {
                return Err(not_found("worklog", id));
            }
            let row = j.worklogs.get(id).ok_or_else(|| not_found("worklog", id))?;
            let mut v = parse(row);
            let secs = *time_spent_seconds;
            v["timeSpentSeconds"] = json!(secs);
            v["timeSpent"] = json!(format!("{}h {}m", secs / 3600, (secs % 3600) / 60));
            v["updated"] = json!(time::jira(now));
            j.worklogs.replace(id, render(&v), None);
            // Keep the copy embedded in the issue's fields in step.
            if let Some(issue_row) = j.issues.get(&issue_id) {
                let mut iv = parse(issue_row);
                if let Some(list) = iv["fields"]["worklog"].as_array_mut() {
                    for w in list.iter_mut().filter(|w| w["id"] == json!(id)) {
                        *w = v.clone();
                    }
                }
                j.issues.replace(&issue_id, render(&iv), None);
            }
            (
                id.clone(),
                None,
                vec![JiraEvent::entity(
                    "worklog_updated",
                    "worklog",
                    v,
                    Vec::new(),
                )],
            )
        }
        _ => return Ok(None),
    }))
}

fn change(field: &str, from: Value, from_string: Value, to: Value, to_string: Value) -> Value {
    json!({
        "field": field, "fieldtype": "jira", "fieldId": field,
        "from": from, "fromString": from_string, "to": to, "toString": to_string,
    })
}

/// The `project` object of `project_*` events.
fn project_event(v: &Value, j: &JiraData) -> Value {
    let lead: Value = serde_json::from_slice(&j.people[0].short).unwrap_or(Value::Null);
    json!({
        "self": v["self"],
        "id": v["id"].as_str().and_then(|s| s.parse::<u64>().ok()),
        "key": v["key"],
        "name": v["name"],
        "avatarUrls": v["avatarUrls"],
        "projectLead": lead,
        "assigneeType": "UNASSIGNED",
    })
}
