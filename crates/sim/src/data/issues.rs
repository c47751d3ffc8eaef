//! The generated issues and their worklogs as a pure function of the issue's index: rendered
//! once at start, or rendered again whenever served when [`SimConfig::lazy`](crate::SimConfig)
//! is on (then only their ids and attributes stay in memory).

use std::sync::Arc;

use bytes::Bytes;

use super::jira::{
    FIRST_ID, Fragments, IssueSpec, Person, ProjectRef, render_issue, render_worklog,
};
use crate::rng::Rng;
use crate::store::Render;
use crate::time::{DAY_MS, EPOCH_MS};

/// How far back generated issues were created.
const SPAN_MS: i64 = 365 * DAY_MS;

/// Everything the generated issues are a function of.
pub(crate) struct IssueGen {
    pub(crate) base: String,
    pub(crate) seed: u64,
    /// Number of generated issues.
    pub(crate) n: usize,
    pub(crate) frags: Fragments,
    /// The users as generated (issues embed them as they were then).
    pub(crate) people: Vec<Person>,
    /// The generated projects; issue `i` belongs to project `i % refs.len()`.
    pub(crate) refs: Vec<ProjectRef>,
    /// Per project: (component id, name) of its two components.
    pub(crate) components: Vec<Vec<(String, String)>>,
    /// Per project: its three versions as embedded in `fixVersions`.
    pub(crate) fixes: Vec<Vec<Bytes>>,
}

/// One generated worklog.
pub(crate) struct WorklogPlan {
    pub(crate) id: u64,
    author: usize,
    started_ms: i64,
    seconds: u64,
}

impl WorklogPlan {
    /// When the work was logged (its `created` and `updated`).
    pub(crate) fn logged_ms(&self) -> i64 {
        self.started_ms + self.seconds as i64 * 1000
    }
}

/// One generated issue.
pub(crate) struct IssuePlan {
    pub(crate) index: u64,
    pub(crate) id: u64,
    pub(crate) project: usize,
    pub(crate) key: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) worklogs: Vec<WorklogPlan>,
}

impl IssueGen {
    /// The id of the first worklog of issue `i`: issue `i` has `i % 3` worklogs.
    fn first_worklog(i: u64) -> u64 {
        FIRST_ID + 3 * (i / 3) + u64::from(i % 3 == 2)
    }

    /// Which issue (index) and which of its worklogs a generated worklog id is.
    fn locate_worklog(&self, id: u64) -> Option<(u64, usize)> {
        let w = id.checked_sub(FIRST_ID)?;
        let (block, r) = (w / 3, w % 3);
        let (i, k) = match r {
            0 => (3 * block + 1, 0),
            1 => (3 * block + 2, 0),
            _ => (3 * block + 2, 1),
        };
        (i < self.n as u64).then_some((i, k))
    }

    /// Issue `i` (0-based).
    pub(crate) fn plan(&self, i: u64) -> IssuePlan {
        let n_projects = self.refs.len() as u64;
        let project = (i % n_projects) as usize;
        let key = format!("{}-{}", self.refs[project].key, i / n_projects + 1);
        let id = FIRST_ID + i;
        let mut rng = Rng::new(self.seed, "jira.issue.time", id);
        let created_ms = EPOCH_MS - SPAN_MS + (i as i64) * (SPAN_MS / self.n.max(1) as i64);
        let updated_ms = (created_ms + rng.below(30 * DAY_MS as u64) as i64).min(EPOCH_MS);
        let first = Self::first_worklog(i);
        let worklogs = (0..i % 3)
            .map(|k| WorklogPlan {
                id: first + k,
                author: rng.below(self.people.len() as u64) as usize,
                seconds: (1 + rng.below(16)) * 1800,
                started_ms: created_ms + (k as i64 + 1) * 3_600_000,
            })
            .collect();
        IssuePlan {
            index: i,
            id,
            project,
            key,
            created_ms,
            updated_ms,
            worklogs,
        }
    }

    /// Renders worklog `w` of the issue with id `issue_id`, appending to `buf`.
    pub(crate) fn worklog(&self, issue_id: u64, w: &WorklogPlan, buf: &mut Vec<u8>) {
        render_worklog(
            buf,
            &self.base,
            self.seed,
            w.id,
            issue_id,
            &self.people[w.author],
            w.started_ms,
            w.seconds,
        );
    }

    /// Renders the issue with its rendered `worklogs` embedded, appending to `buf`.
    pub(crate) fn issue(&self, plan: &IssuePlan, worklogs: &[Bytes], buf: &mut Vec<u8>) {
        let i = plan.index;
        let comp = &self.components[plan.project][(i % 2) as usize];
        let fix = &self.fixes[plan.project][(i % 3) as usize];
        let spec = IssueSpec {
            id: plan.id,
            key: &plan.key,
            project: &self.refs[plan.project],
            summary: None,
            created_ms: plan.created_ms,
            updated_ms: plan.updated_ms,
            worklogs,
            component: Some((&comp.0, &comp.1)),
            fix_version: (i % 4 == 0).then_some(&fix[..]),
        };
        render_issue(buf, &self.base, self.seed, &self.frags, &self.people, &spec);
    }

    fn worklog_bytes(&self, issue_id: u64, w: &WorklogPlan) -> Bytes {
        let mut buf = Vec::with_capacity(1024);
        self.worklog(issue_id, w, &mut buf);
        buf.into()
    }
}

/// Renders generated issues by id.
pub(crate) struct LazyIssues(pub(crate) Arc<IssueGen>);

impl Render for LazyIssues {
    fn render(&self, id: &str) -> Bytes {
        let g = &self.0;
        let Some(i) = id.parse::<u64>().ok().and_then(|v| v.checked_sub(FIRST_ID)) else {
            return Bytes::new();
        };
        let plan = g.plan(i);
        let worklogs: Vec<Bytes> = plan
            .worklogs
            .iter()
            .map(|w| g.worklog_bytes(plan.id, w))
            .collect();
        let mut buf = Vec::with_capacity(8 * 1024);
        g.issue(&plan, &worklogs, &mut buf);
        buf.into()
    }
}

/// Renders generated worklogs by id.
pub(crate) struct LazyWorklogs(pub(crate) Arc<IssueGen>);

impl Render for LazyWorklogs {
    fn render(&self, id: &str) -> Bytes {
        let g = &self.0;
        let Some((i, k)) = id.parse().ok().and_then(|w| g.locate_worklog(w)) else {
            return Bytes::new();
        };
        let plan = g.plan(i);
        g.worklog_bytes(plan.id, &plan.worklogs[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worklog_ids_map_back_to_their_issue() {
        let g = IssueGen {
            base: String::new(),
            seed: 1,
            n: 10,
            frags: Fragments::new(""),
            people: Vec::new(),
            refs: Vec::new(),
            components: Vec::new(),
            fixes: Vec::new(),
        };
        let mut id = FIRST_ID;
        for i in 0..10u64 {
            assert_eq!(IssueGen::first_worklog(i), id);
            for k in 0..(i % 3) as usize {
                assert_eq!(g.locate_worklog(id), Some((i, k)));
                id += 1;
            }
        }
        assert_eq!(g.locate_worklog(id), None, "past the last issue");
        assert_eq!(g.locate_worklog(1), None);
    }
}
