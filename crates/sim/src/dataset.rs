//! The data as served, shared by the routes, the mutations and the tests.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use serde_json::Value;

use crate::data::jira::JiraData;
use crate::data::octopus::OctopusData;
use crate::store::{Row, Table};

/// Both products' data. Lives behind the [`Dataset`] lock.
pub(crate) struct Store {
    pub(crate) jira: JiraData,
    pub(crate) octopus: OctopusData,
    /// Bumped by every applied mutation (cache invalidation).
    pub(crate) version: u64,
    /// The last timestamp handed out by [`tick`](Self::tick).
    last_tick_ms: i64,
}

impl Store {
    pub(crate) fn new(jira: JiraData, octopus: OctopusData) -> Self {
        Store {
            jira,
            octopus,
            version: 0,
            last_tick_ms: 0,
        }
    }

    /// The simulator's clock for changes: the wall clock in epoch ms, but strictly increasing,
    /// so every change gets its own `updated` instant (feeds paged by time never tie).
    pub(crate) fn tick(&mut self) -> i64 {
        self.last_tick_ms = crate::time::now_ms().max(self.last_tick_ms + 1);
        self.last_tick_ms
    }

    fn jira_table(&self, kind: &str) -> &Table {
        let j = &self.jira;
        match kind {
            "project" => &j.projects,
            "issue" => &j.issues,
            "user" => &j.users,
            "board" => &j.boards,
            "sprint" => &j.sprints,
            "epic" => &j.epics,
            "release" | "version" => &j.versions,
            "component" => &j.components,
            "worklog" => &j.worklogs,
            _ => panic!(
                "unknown Jira kind {kind:?}; expected one of {:?}",
                Dataset::JIRA_KINDS
            ),
        }
    }

    fn octopus_table(&self, kind: &str) -> &Table {
        let o = &self.octopus;
        match kind {
            "space" => &o.spaces,
            "project" => &o.projects,
            "release" => &o.releases,
            "deployment" => &o.deployments,
            "machine" => &o.machines,
            "environment" => &o.environments,
            "subscription" => &o.subscriptions,
            _ => panic!(
                "unknown Octopus kind {kind:?}; expected one of {:?}",
                Dataset::OCTOPUS_KINDS
            ),
        }
    }
}

/// A live view of the simulator's data, exactly as the HTTP API serves it.
///
/// Every method takes a read lock and copies what it returns, so the result is a snapshot:
/// it reflects every [`Mutation`](crate::Mutation) applied before the call and none after.
/// Items come back in the order the API serves them. For kinds listed per parent (sprints per
/// board, versions and components per project, worklogs per issue, Octopus items per space)
/// the parents come in their own served order and each parent's items in served order; that is
/// the order a client gets by walking parents and pages one after the other.
///
/// Methods panic on a kind that is not in [`JIRA_KINDS`](Self::JIRA_KINDS) or
/// [`OCTOPUS_KINDS`](Self::OCTOPUS_KINDS): a typo must not pass as an empty dataset.
///
/// # Issues and JQL
///
/// Every simulated issue matches the default JQL a client sends (for example Port's
/// `(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)`): the simulator does not
/// evaluate status clauses, and a clause it cannot tell keeps the issue. It does evaluate
/// `project`, `key`/`issuekey`, `id` and `updated`/`created` clauses (see the crate docs), so
/// `jira("issue")` is exactly the set a `search/jql` sync with the default JQL returns, and
/// `updated >= -10m` returns exactly the issues changed in the last ten minutes. Generated
/// issues are older than 2025; every mutation stamps `fields.updated` with the wall clock.
/// Epics are modelled as agile epics only (`jira("epic")`); they are not returned by
/// `search/jql`.
#[derive(Clone)]
pub struct Dataset {
    inner: Arc<RwLock<Store>>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.read();
        f.debug_struct("Dataset")
            .field("jira_issues", &s.jira.issues.len())
            .field("octopus_deployments", &s.octopus.deployments.len())
            .finish_non_exhaustive()
    }
}

impl Dataset {
    /// Jira kinds: `project issue user board sprint epic release component worklog`
    /// (`version` is accepted as an alias of `release`).
    pub const JIRA_KINDS: &'static [&'static str] = &[
        "project",
        "issue",
        "user",
        "board",
        "sprint",
        "epic",
        "release",
        "component",
        "worklog",
    ];

    /// Octopus kinds: `space project release deployment machine environment subscription`.
    pub const OCTOPUS_KINDS: &'static [&'static str] = &[
        "space",
        "project",
        "release",
        "deployment",
        "machine",
        "environment",
        "subscription",
    ];

    pub(crate) fn new(store: Store) -> Self {
        Dataset {
            inner: Arc::new(RwLock::new(store)),
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Every Jira item of `kind`, parsed, in served order.
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let sim = ocean_sim::Simulator::start(ocean_sim::SimConfig::default()).await?;
    /// let issues = sim.dataset().jira("issue");
    /// assert_eq!(issues.len(), 200);
    /// assert!(issues[0]["fields"]["summary"].is_string());
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn jira(&self, kind: &str) -> Vec<Value> {
        parse_all(self.read().jira_table(kind).all())
    }

    /// Every Octopus item of `kind`, parsed, in served order (space by space).
    pub fn octopus(&self, kind: &str) -> Vec<Value> {
        parse_all(self.read().octopus_table(kind).all())
    }

    /// The Octopus items of `kind` in one space (`"Spaces-1"`), in served order.
    pub fn octopus_in_space(&self, kind: &str, space_id: &str) -> Vec<Value> {
        parse_all(self.read().octopus_table(kind).served(space_id))
    }

    /// The Jira items of `kind` under one parent, in served order: sprints and epics of a board
    /// id, releases and components of a project id, worklogs of an issue id.
    pub fn jira_children(&self, kind: &str, parent_id: &str) -> Vec<Value> {
        parse_all(self.read().jira_table(kind).served(parent_id))
    }

    /// The ids of every Jira item of `kind` (users: `accountId`), in served order.
    pub fn jira_ids(&self, kind: &str) -> Vec<String> {
        self.read()
            .jira_table(kind)
            .all()
            .iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    /// The ids of every Octopus item of `kind`, in served order.
    pub fn octopus_ids(&self, kind: &str) -> Vec<String> {
        self.read()
            .octopus_table(kind)
            .all()
            .iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    /// The exact bytes served for every Jira item of `kind` (cheap: reference-counted).
    pub fn jira_raw(&self, kind: &str) -> Vec<Bytes> {
        self.read()
            .jira_table(kind)
            .all()
            .iter()
            .map(|r| r.json())
            .collect()
    }

    /// The exact bytes served for every Octopus item of `kind` (cheap: reference-counted).
    pub fn octopus_raw(&self, kind: &str) -> Vec<Bytes> {
        self.read()
            .octopus_table(kind)
            .all()
            .iter()
            .map(|r| r.json())
            .collect()
    }

    /// Number of Jira items of `kind`.
    pub fn jira_len(&self, kind: &str) -> usize {
        self.read().jira_table(kind).len()
    }

    /// Number of Octopus items of `kind`.
    pub fn octopus_len(&self, kind: &str) -> usize {
        self.read().octopus_table(kind).len()
    }

    /// One Jira item by id (or key, for projects, issues and epics).
    pub fn jira_get(&self, kind: &str, id_or_key: &str) -> Option<Value> {
        self.read().jira_table(kind).get(id_or_key).map(parse)
    }

    /// One Octopus item by id.
    pub fn octopus_get(&self, kind: &str, id: &str) -> Option<Value> {
        self.read().octopus_table(kind).get(id).map(parse)
    }
}

fn parse(row: &Row) -> Value {
    serde_json::from_slice(&row.json()).expect("stored items are valid JSON")
}

fn parse_all(rows: Vec<&Row>) -> Vec<Value> {
    rows.into_iter().map(parse).collect()
}
