//! Per-kind selector blocks of the config file (`[[jira.issue]]`, `[[jira.sprint]]` …): what
//! each may set, and the sync jobs they become. Each block is one job with its own
//! [`SyncOptions`]; several blocks of a kind are several jobs, as Ocean's resource entries.

use ocean_jira::{JiraClient, JiraKind, JiraProvider, SyncOptions};
use serde::Deserialize;

use crate::config::Text;
use crate::sync::Job;

/// `[[jira.project]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectBlock {
    /// The project `expand` (default `insight`).
    expand: Option<Text>,
}

/// `[[jira.issue]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBlock {
    /// The JQL (default Ocean's).
    jql: Option<Text>,
    /// The fields (default `["*all"]`).
    fields: Option<Vec<String>>,
    /// The issue `expand`, comma-separated.
    expand: Option<Text>,
    /// Stop after this many issues.
    max_issues: Option<u64>,
}

/// The board filters every board-fanned kind takes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardBlock {
    /// `scrum`, `kanban` or `simple`.
    #[serde(rename = "type")]
    board_type: Option<Text>,
    /// A project key or id.
    project: Option<Text>,
}

/// `[[jira.sprint]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SprintBlock {
    /// Sprint states, comma-separated (`future`, `active`, `closed`); default all.
    state: Option<Text>,
    /// Boards of this type only.
    board_type: Option<Text>,
    /// Boards of this project only.
    board_project: Option<Text>,
}

/// `[[jira.epic]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpicBlock {
    /// `false`: open epics only, `true`: done ones; default every epic.
    done: Option<bool>,
    /// Boards of this type only.
    board_type: Option<Text>,
    /// Boards of this project only.
    board_project: Option<Text>,
}

/// `[[jira.worklog]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklogBlock {
    /// The JQL of the issues whose worklogs are synced.
    jql: Option<Text>,
    /// Worklogs started at or after this instant (epoch ms).
    started_after: Option<i64>,
    /// Worklogs started before this instant (epoch ms).
    started_before: Option<i64>,
}

/// `[[jira.backlog]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacklogBlock {
    /// The JQL narrowing each backlog (default Ocean's).
    jql: Option<Text>,
    /// The issue fields (default `["*all"]`).
    fields: Option<Vec<String>>,
    /// Boards of this type only.
    board_type: Option<Text>,
    /// Boards of this project only.
    board_project: Option<Text>,
}

/// `[[jira.team]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamBlock {
    /// The organisation id (else `[jira] org_id`).
    org_id: Option<Text>,
}

/// `[[jira.component]]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentBlock {
    /// Only components whose name or description contains this (Ocean's `nameFilter`).
    name_filter: Option<Text>,
}

/// A kind with nothing to select (`[[jira.user]]`, `[[jira.release]]`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlainBlock {}

/// Every selector block of `[jira]`, by kind.
#[derive(Debug, Default)]
pub struct Blocks {
    pub project: Vec<ProjectBlock>,
    pub issue: Vec<IssueBlock>,
    pub user: Vec<PlainBlock>,
    pub board: Vec<BoardBlock>,
    pub sprint: Vec<SprintBlock>,
    pub epic: Vec<EpicBlock>,
    pub release: Vec<PlainBlock>,
    pub component: Vec<ComponentBlock>,
    pub worklog: Vec<WorklogBlock>,
    pub team: Vec<TeamBlock>,
    pub backlog: Vec<BacklogBlock>,
}

fn text(t: Option<Text>) -> Option<String> {
    t.map(Text::into_inner)
}

impl Blocks {
    /// One `(kind, options)` per block, in kind order, each starting from `base` (the
    /// flags' options): a block's keys replace the defaults and `[jira]`'s keys; a flag
    /// given (`flag_jql`, `flag_org`) replaces all of them.
    pub fn plan(
        self,
        base: &SyncOptions,
        flag_jql: bool,
        flag_org: bool,
    ) -> Vec<(JiraKind, SyncOptions)> {
        let mut plan = Vec::new();
        let pick = |flag: &Option<String>, block: Option<Text>, use_flag: bool| {
            if use_flag {
                flag.clone()
            } else {
                text(block).or_else(|| flag.clone())
            }
        };
        for b in self.project {
            let mut o = base.clone();
            if let Some(expand) = text(b.expand) {
                o.project_expand = Some(expand);
            }
            plan.push((JiraKind::Project, o));
        }
        for b in self.issue {
            let mut o = base.clone();
            o.jql = pick(&base.jql, b.jql, flag_jql);
            if let Some(fields) = b.fields {
                o.fields = fields;
            }
            o.expand = text(b.expand).or(o.expand);
            o.max_issues = b.max_issues.or(o.max_issues);
            plan.push((JiraKind::Issue, o));
        }
        plan.extend(self.user.iter().map(|_| (JiraKind::User, base.clone())));
        for b in self.board {
            let mut o = base.clone();
            o.board_type = text(b.board_type);
            o.board_project = text(b.project);
            plan.push((JiraKind::Board, o));
        }
        for b in self.sprint {
            let mut o = base.clone();
            o.sprint_state = text(b.state);
            o.board_type = text(b.board_type);
            o.board_project = text(b.board_project);
            plan.push((JiraKind::Sprint, o));
        }
        for b in self.epic {
            let mut o = base.clone();
            o.epic_done = b.done;
            o.board_type = text(b.board_type);
            o.board_project = text(b.board_project);
            plan.push((JiraKind::Epic, o));
        }
        plan.extend(
            self.release
                .iter()
                .map(|_| (JiraKind::Release, base.clone())),
        );
        for b in self.component {
            let mut o = base.clone();
            o.component_query = text(b.name_filter);
            plan.push((JiraKind::Component, o));
        }
        for b in self.worklog {
            let mut o = base.clone();
            o.jql = pick(&base.jql, b.jql, flag_jql);
            o.worklogs_started_after = b.started_after;
            o.worklogs_started_before = b.started_before;
            plan.push((JiraKind::Worklog, o));
        }
        for b in self.team {
            let mut o = base.clone();
            o.org_id = pick(&base.org_id, b.org_id, flag_org);
            plan.push((JiraKind::Team, o));
        }
        for b in self.backlog {
            let mut o = base.clone();
            o.backlog_jql = text(b.jql);
            if let Some(fields) = b.fields {
                o.fields = fields;
            }
            o.board_type = text(b.board_type);
            o.board_project = text(b.board_project);
            plan.push((JiraKind::Backlog, o));
        }
        plan
    }
}

/// The sync jobs of a plan.
pub fn jobs(client: &JiraClient, plan: Vec<(JiraKind, SyncOptions)>) -> Vec<Job> {
    plan.into_iter()
        .map(|(kind, options)| Job {
            provider: "jira",
            kind: kind.as_str(),
            records: client.sync(kind, &options),
        })
        .collect()
}

/// A provider for a `--store` sync: the flags' options, and each kind's selector block as
/// that kind's options. A catalog holds one item set per kind, so a kind takes one block.
pub fn provider(
    client: JiraClient,
    options: SyncOptions,
    plan: Vec<(JiraKind, SyncOptions)>,
) -> Result<JiraProvider, String> {
    let mut provider = JiraProvider::new(client, options);
    let mut seen = Vec::new();
    for (kind, options) in plan {
        if seen.contains(&kind) {
            return Err(format!(
                "--store syncs one [[jira.{kind}]] block per kind: the config file has several \
                 (merge their selectors, e.g. into one JQL)"
            ));
        }
        seen.push(kind);
        provider = provider.kind_options(kind, options);
    }
    Ok(provider)
}
