//! Applying Jira mutations.

use serde_json::{Value, json};

use super::{Mutation, MutationError, not_found, parse, render};
use crate::data::jira::{self, IssueSpec, JiraData};
use crate::events::{self, JiraEvent};
use crate::store::{Attrs, Row};
use crate::time;

type JiraApplied = Option<(String, Option<String>, Vec<JiraEvent>)>;

/// Applies a Jira mutation at `now` (epoch ms); `None` when `m` is not a Jira mutation.
pub(super) fn apply(
    j: &mut JiraData,
    m: &Mutation,
    now: i64,
) -> Result<JiraApplied, MutationError> {
    let actor = events::actor(j);
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
                    jira::issue_attrs(&key, &issue_key, now, now),
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
            save_issue(j, &id, &mut v, now);
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
            drop_worklogs(j, &row.id, now);
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
                drop_worklogs(j, &issue.id, now);
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
        Mutation::JiraWorklogCreate {
            issue,
            time_spent_seconds,
        } => {
            let issue_id = j
                .issues
                .resolve(issue)
                .ok_or_else(|| not_found("issue", issue))?;
            let secs = (*time_spent_seconds).max(60);
            let wid = j.next_worklog_id;
            j.next_worklog_id += 1;
            let issue_num: u64 = issue_id.parse().unwrap_or_default();
            let mut json = Vec::with_capacity(2048);
            jira::render_worklog(
                &mut json,
                &j.base,
                j.seed,
                wid,
                issue_num,
                &j.people[0],
                now - secs as i64 * 1000,
                secs,
            );
            let v: Value = serde_json::from_slice(&json).expect("rendered worklogs are JSON");
            j.worklogs.push(
                &issue_id,
                Row::new(wid.to_string(), json, jira::worklog_attrs(now)),
            );
            j.worklog_feed.updated(wid, None, now);
            embed_worklog(j, &issue_id, &wid.to_string(), Some(&v), now);
            (
                wid.to_string(),
                None,
                vec![JiraEvent::entity(
                    "worklog_created",
                    "worklog",
                    v,
                    Vec::new(),
                )],
            )
        }
        Mutation::JiraWorklogUpdate {
            issue,
            id,
            time_spent_seconds,
        } => {
            let issue_id = owning_issue(j, issue, id)?;
            let row = j.worklogs.get(id).ok_or_else(|| not_found("worklog", id))?;
            let old = row.attr("updated").and_then(|t| t.parse().ok());
            let mut v = parse(row);
            let secs = *time_spent_seconds;
            v["timeSpentSeconds"] = json!(secs);
            v["timeSpent"] = json!(format!("{}h {}m", secs / 3600, (secs % 3600) / 60));
            v["updated"] = json!(time::jira(now));
            j.worklogs
                .replace(id, render(&v), Some(jira::worklog_attrs(now)));
            j.worklog_feed
                .updated(id.parse().unwrap_or_default(), old, now);
            embed_worklog(j, &issue_id, id, Some(&v), now);
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
        Mutation::JiraWorklogDelete { issue, id } => {
            let issue_id = owning_issue(j, issue, id)?;
            let row = j
                .worklogs
                .remove(id)
                .ok_or_else(|| not_found("worklog", id))?;
            let last = row.attr("updated").and_then(|t| t.parse().ok());
            j.worklog_feed
                .deleted(id.parse().unwrap_or_default(), last, now);
            embed_worklog(j, &issue_id, id, None, now);
            (
                id.clone(),
                None,
                vec![JiraEvent::entity(
                    "worklog_deleted",
                    "worklog",
                    parse(&row),
                    Vec::new(),
                )],
            )
        }
        _ => return Ok(None),
    }))
}

/// The issue that owns worklog `id`, checking that it is `issue` (an id or key).
fn owning_issue(j: &JiraData, issue: &str, id: &str) -> Result<std::sync::Arc<str>, MutationError> {
    let issue_id = j
        .issues
        .resolve(issue)
        .ok_or_else(|| not_found("issue", issue))?;
    if j.worklogs.group_of(id) != Some(&*issue_id) {
        return Err(not_found("worklog", id));
    }
    Ok(issue_id)
}

/// `attrs` with `name` set to `value`.
pub(super) fn with_attr(attrs: &Attrs, name: &'static str, value: String) -> Attrs {
    let mut out: Attrs = attrs.iter().filter(|(k, _)| *k != name).cloned().collect();
    out.push((name, value.into()));
    out
}

/// Stores an issue's new JSON with `fields.updated` set to `now`, keeping its attributes in
/// step (search filters and sorts on them).
pub(super) fn save_issue(j: &mut JiraData, id: &str, v: &mut Value, now: i64) {
    v["fields"]["updated"] = json!(time::jira(now));
    let attrs = j
        .issues
        .get(id)
        .map(|r| with_attr(&r.attrs, "updated", now.to_string()));
    j.issues.replace(id, render(v), attrs);
}

/// Puts worklog `id` (or removes it, when `worklog` is `None`) in the copy embedded in its
/// issue's `fields.worklog`, and marks the issue updated, as logging work does in Jira.
fn embed_worklog(j: &mut JiraData, issue_id: &str, id: &str, worklog: Option<&Value>, now: i64) {
    let Some(row) = j.issues.get(issue_id) else {
        return;
    };
    let mut iv = parse(row);
    if let Some(list) = iv["fields"]["worklog"].as_array_mut() {
        let at = list.iter().position(|w| w["id"] == json!(id));
        match (at, worklog) {
            (Some(i), Some(w)) => list[i] = w.clone(),
            (None, Some(w)) => list.push(w.clone()),
            (Some(i), None) => {
                list.remove(i);
            }
            (None, None) => {}
        }
    }
    save_issue(j, issue_id, &mut iv, now);
}

/// Removes every worklog of an issue being deleted, recording them in the deleted feed.
fn drop_worklogs(j: &mut JiraData, issue_id: &str, now: i64) {
    for w in j.worklogs.remove_group(issue_id) {
        let last = w.attr("updated").and_then(|t| t.parse().ok());
        j.worklog_feed
            .deleted(w.id.parse().unwrap_or_default(), last, now);
    }
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
