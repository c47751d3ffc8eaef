//! Changes to the simulated data, and the webhook events they cause: the public types here,
//! the per-product application in `jira` and `octopus`.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod bulk;
mod jira;
mod octopus;

use crate::dataset::Store;
use crate::events;
use crate::store::Row;
use crate::webhooks::{Delivery, Outgoing, Registry};

/// A change to the simulated data. Applying it (with [`Simulator::mutate`](crate::Simulator::mutate)
/// or `POST /_sim/mutate`) updates what the API serves and then POSTs the event the real product
/// would send to every registered receiver.
///
/// Over HTTP the JSON form is internally tagged by `type`, fields in snake_case:
///
/// ```
/// use ocean_sim::Mutation;
/// let m: Mutation = serde_json::from_str(
///     r#"{"type":"jira_issue_update","issue":"PROJ1-1","summary":"New title"}"#,
/// ).unwrap();
/// assert!(matches!(m, Mutation::JiraIssueUpdate { .. }));
/// ```
///
/// Identifiers accept what the API accepts: issues by id or key, projects by id or key.
///
/// Every change is stamped with the simulator's clock (the wall clock, strictly increasing
/// across changes): Jira issues get `fields.updated`, worklogs `updated` (and their place in
/// `GET /rest/api/3/worklog/updated`), deleted worklogs their deletion time in
/// `/worklog/deleted`; Octopus documents get `LastModifiedOn`. Deleted items disappear from
/// every list and lookup at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mutation {
    /// Creates an issue in `project` → `jira:issue_created`.
    JiraIssueCreate {
        /// Project id or key.
        project: String,
        /// The new issue's summary.
        summary: String,
    },
    /// Changes an issue → `jira:issue_updated` with a changelog.
    JiraIssueUpdate {
        /// Issue id or key.
        issue: String,
        /// New summary.
        #[serde(default)]
        summary: Option<String>,
        /// New status name: `To Do`, `In Progress`, `In Review` or `Done`.
        #[serde(default)]
        status: Option<String>,
        /// New labels (replacing the old ones).
        #[serde(default)]
        labels: Option<Vec<String>>,
        /// New assignee accountId; an empty string unassigns.
        #[serde(default)]
        assignee: Option<String>,
    },
    /// Deletes an issue and its worklogs (which join the `worklog/deleted` feed) →
    /// `jira:issue_deleted`.
    JiraIssueDelete {
        /// Issue id or key.
        issue: String,
    },
    /// Edits `percent`% of all issues (rounded, at least one when `percent > 0`), spread evenly
    /// over the served order and shifted on every call so repeated calls touch other issues:
    /// each gets a new summary suffix (`… [edit N]`) and `fields.updated` → one
    /// `jira:issue_updated` per issue. For incremental-sync benchmarks (100k issues, 1%).
    /// The outcome's `ids` lists the edited issue ids.
    JiraIssueBulkUpdate {
        /// Share of the issues to edit, `0..=100`.
        percent: f64,
    },
    /// Creates a project (with no issues) → `project_created`.
    JiraProjectCreate {
        /// An uppercase project key, e.g. `NEW`.
        key: String,
        /// The project name.
        name: String,
    },
    /// Renames a project → `project_updated`.
    JiraProjectUpdate {
        /// Project id or key.
        project: String,
        /// New name.
        #[serde(default)]
        name: Option<String>,
    },
    /// Deletes a project with its issues, worklogs, versions, components, boards, sprints and
    /// epics → `project_deleted`.
    JiraProjectDelete {
        /// Project id or key.
        project: String,
    },
    /// Changes a version → `jira:version_released`, `jira:version_unreleased` or
    /// `jira:version_updated`.
    JiraVersionUpdate {
        /// Version id.
        #[serde(deserialize_with = "id_string")]
        id: String,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New released flag.
        #[serde(default)]
        released: Option<bool>,
    },
    /// Changes a sprint → `sprint_closed` when it moves to `closed`, else `sprint_updated`.
    JiraSprintUpdate {
        /// Sprint id.
        #[serde(deserialize_with = "id_string")]
        id: String,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New state: `future`, `active` or `closed`.
        #[serde(default)]
        state: Option<String>,
    },
    /// Renames a board → `board_updated`.
    JiraBoardUpdate {
        /// Board id.
        #[serde(deserialize_with = "id_string")]
        id: String,
        /// New name.
        name: String,
    },
    /// Changes a user → `user_updated`.
    JiraUserUpdate {
        /// The user's accountId.
        account_id: String,
        /// New display name.
        #[serde(default)]
        display_name: Option<String>,
        /// New active flag.
        #[serde(default)]
        active: Option<bool>,
    },
    /// Logs work on an issue as the demo user, started `time_spent_seconds` ago →
    /// `worklog_created`. The issue's `updated` moves too.
    JiraWorklogCreate {
        /// Issue id or key.
        issue: String,
        /// Time spent, in seconds (at least 60).
        time_spent_seconds: u64,
    },
    /// Deletes a worklog → `worklog_deleted`; it joins `GET /rest/api/3/worklog/deleted`.
    JiraWorklogDelete {
        /// Issue id or key that owns the worklog.
        issue: String,
        /// Worklog id.
        #[serde(deserialize_with = "id_string")]
        id: String,
    },
    /// Changes a worklog's time spent → `worklog_updated`.
    JiraWorklogUpdate {
        /// Issue id or key that owns the worklog.
        issue: String,
        /// Worklog id.
        #[serde(deserialize_with = "id_string")]
        id: String,
        /// New time spent, in seconds.
        time_spent_seconds: u64,
    },
    /// Creates an Octopus project → `Created`.
    OctopusProjectCreate {
        /// Space id; `Spaces-1` when absent.
        #[serde(default)]
        space_id: Option<String>,
        /// Project name.
        name: String,
    },
    /// Changes an Octopus project → `Modified`.
    OctopusProjectUpdate {
        /// Project id (`Projects-3`).
        id: String,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New description.
        #[serde(default)]
        description: Option<String>,
        /// New disabled flag.
        #[serde(default)]
        is_disabled: Option<bool>,
    },
    /// Deletes an Octopus project with its releases and deployments → `Deleted`.
    OctopusProjectDelete {
        /// Project id.
        id: String,
    },
    /// Changes a release → `Modified`.
    OctopusReleaseUpdate {
        /// Release id.
        id: String,
        /// New version.
        #[serde(default)]
        version: Option<String>,
        /// New release notes.
        #[serde(default)]
        release_notes: Option<String>,
    },
    /// Deletes a release with its deployments → `Deleted`.
    OctopusReleaseDelete {
        /// Release id.
        id: String,
    },
    /// Changes a deployment's comments (the field Octopus lets you edit after the fact) →
    /// `Modified`.
    OctopusDeploymentUpdate {
        /// Deployment id.
        id: String,
        /// New comments.
        comments: String,
    },
    /// Deletes a deployment → `Deleted`.
    OctopusDeploymentDelete {
        /// Deployment id.
        id: String,
    },
    /// Creates an environment (last in sort order) → `Created`.
    OctopusEnvironmentCreate {
        /// Space id; `Spaces-1` when absent.
        #[serde(default)]
        space_id: Option<String>,
        /// Environment name.
        name: String,
    },
    /// Changes an environment → `Modified`.
    OctopusEnvironmentUpdate {
        /// Environment id.
        id: String,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New description.
        #[serde(default)]
        description: Option<String>,
    },
    /// Deletes an environment and the machines in it → `Deleted` (one per entity).
    /// Past deployments to it stay.
    OctopusEnvironmentDelete {
        /// Environment id.
        id: String,
    },
    /// Creates a listening-tentacle machine → `Created`.
    OctopusMachineCreate {
        /// Space id; `Spaces-1` when absent.
        #[serde(default)]
        space_id: Option<String>,
        /// Machine name.
        name: String,
        /// Environment id; the space's first environment when absent.
        #[serde(default)]
        environment_id: Option<String>,
    },
    /// Changes a machine → `Modified`.
    OctopusMachineUpdate {
        /// Machine id.
        id: String,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New disabled flag.
        #[serde(default)]
        is_disabled: Option<bool>,
    },
    /// Deletes a machine → `Deleted`.
    OctopusMachineDelete {
        /// Machine id.
        id: String,
    },
    /// Creates a release of a project → `Created`.
    OctopusReleaseCreate {
        /// Project id.
        project_id: String,
        /// Version; the project's next version when absent.
        #[serde(default)]
        version: Option<String>,
    },
    /// Creates (queues) a deployment of a release → `DeploymentQueued` then
    /// `DeploymentSucceeded` (or `DeploymentFailed` when `failed`), one POST per event.
    OctopusDeploymentCreate {
        /// Release id.
        release_id: String,
        /// Environment id; the space's first environment when absent.
        #[serde(default)]
        environment_id: Option<String>,
        /// Whether the deployment fails.
        #[serde(default)]
        failed: bool,
    },
}

/// Accepts an id as a JSON string or number (`"5"` or `5`), as Jira shows both.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

/// What a mutation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MutationOutcome {
    /// Id of the created, changed or deleted entity.
    pub id: String,
    /// Its key, for Jira issues and projects.
    pub key: Option<String>,
    /// The events raised, in order (`jira:issue_updated`, `DeploymentQueued`, ...).
    pub events: Vec<String>,
    /// Every entity a bulk mutation changed ([`Mutation::JiraIssueBulkUpdate`]); empty for the
    /// others (`id` is then the only one). For a bulk mutation `id` is the first of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// One entry per webhook POST, in the order they were built.
    pub deliveries: Vec<Delivery>,
}

/// Why a mutation was refused. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MutationError {
    /// The entity (or its parent) does not exist.
    NotFound {
        /// What was looked up (`issue`, `project`, ...).
        kind: &'static str,
        /// The id or key given.
        id: String,
    },
    /// The request is invalid (duplicate key, unknown status...).
    Invalid(String),
}

impl std::fmt::Display for MutationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MutationError::NotFound { kind, id } => write!(f, "no {kind} {id:?} in the simulator"),
            MutationError::Invalid(msg) => write!(f, "invalid mutation: {msg}"),
        }
    }
}

impl std::error::Error for MutationError {}

pub(super) fn not_found(kind: &'static str, id: &str) -> MutationError {
    MutationError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

pub(super) fn parse(row: &Row) -> Value {
    serde_json::from_slice(&row.json()).expect("stored items are valid JSON")
}

pub(super) fn render(v: &Value) -> Bytes {
    serde_json::to_vec(v).expect("values serialize").into()
}

/// Applies `m` and returns the outcome (without deliveries) and the POSTs to make.
pub(crate) fn apply(
    store: &mut Store,
    registry: &mut Registry,
    m: &Mutation,
) -> Result<(MutationOutcome, Vec<Outgoing>), MutationError> {
    let outcome = |id: &str, key: Option<&str>, events: Vec<String>| MutationOutcome {
        id: id.to_owned(),
        key: key.map(str::to_owned),
        events,
        ids: Vec::new(),
        deliveries: Vec::new(),
    };
    let now = store.tick();
    store.version += 1;
    if let Mutation::JiraIssueBulkUpdate { percent } = m {
        let (ids, events) = bulk::edit_issues(&mut store.jira, *percent, now)?;
        let names = events.iter().map(|e| e.name.clone()).collect();
        let out = events
            .iter()
            .flat_map(|e| events::jira_outgoing(registry, &store.jira, e))
            .collect();
        let mut o = outcome(ids.first().map_or("", String::as_str), None, names);
        o.ids = ids;
        return Ok((o, out));
    }
    if let Some((id, key, events)) = jira::apply(&mut store.jira, m, now)? {
        let names = events.iter().map(|e| e.name.clone()).collect();
        let out = events
            .iter()
            .flat_map(|e| events::jira_outgoing(registry, &store.jira, e))
            .collect();
        return Ok((outcome(&id, key.as_deref(), names), out));
    }
    let (id, events) = octopus::apply(&mut store.octopus, m, now)?;
    let names = events.iter().map(|e| e.category.clone()).collect();
    let out = events::octopus_outgoing(&mut store.octopus, &events);
    Ok((outcome(&id, None, names), out))
}

/// Applies `m` under the data lock, then delivers its events (outside the lock).
pub(crate) async fn run(
    st: &crate::state::Shared,
    m: Mutation,
) -> Result<MutationOutcome, MutationError> {
    let (mut outcome, outgoing) = {
        let mut store = st.dataset.write();
        let mut registry = st.registry();
        apply(&mut store, &mut registry, &m)?
    };
    outcome.deliveries = crate::webhooks::deliver(&st.client, outgoing, &st.counters).await;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_may_be_numbers_and_mutations_round_trip() {
        let m: Mutation =
            serde_json::from_str(r#"{"type":"jira_sprint_update","id":5,"state":"closed"}"#)
                .unwrap();
        assert_eq!(
            m,
            Mutation::JiraSprintUpdate {
                id: "5".into(),
                name: None,
                state: Some("closed".into())
            }
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mutation>(&json).unwrap(), m);
        assert!(
            serde_json::from_str::<Mutation>(r#"{"type":"jira_board_update","id":[1],"name":"x"}"#)
                .is_err()
        );
    }
}
