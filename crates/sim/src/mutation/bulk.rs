//! [`Mutation::JiraIssueBulkUpdate`](super::Mutation::JiraIssueBulkUpdate): edits a share of all
//! issues at once, for incremental-sync benchmarks.

use serde_json::{Value, json};

use super::jira::save_issue;
use super::{MutationError, parse};
use crate::data::jira::JiraData;
use crate::events::{self, JiraEvent};

/// The summary suffix bulk edits write (and replace on later edits).
const SUFFIX: &str = " [edit ";

/// Which of `n` issues (by served position) an edit of `count` picks on its `round`-th call:
/// evenly spaced, shifted by the round so consecutive calls pick different issues.
fn positions(n: usize, count: usize, round: u64) -> Vec<usize> {
    if n == 0 || count == 0 {
        return Vec::new();
    }
    let count = count.min(n);
    let stride = n / count;
    let shift = (round as usize).wrapping_mul(7919) % stride.max(1);
    (0..count).map(|k| (k * n / count + shift) % n).collect()
}

/// Edits `percent`% of the issues at `now`; returns their ids and one event per issue.
pub(super) fn edit_issues(
    j: &mut JiraData,
    percent: f64,
    now: i64,
) -> Result<(Vec<String>, Vec<JiraEvent>), MutationError> {
    if !(0.0..=100.0).contains(&percent) {
        return Err(MutationError::Invalid(format!(
            "percent must be within 0..=100, got {percent}"
        )));
    }
    let n = j.issues.len();
    let mut count = (n as f64 * percent / 100.0).round() as usize;
    if percent > 0.0 && count == 0 && n > 0 {
        count = 1;
    }
    j.bulk_edits += 1;
    let round = j.bulk_edits;
    let all = j.issues.served("");
    let picked: Vec<String> = positions(n, count, round)
        .into_iter()
        .map(|p| all[p].id.to_string())
        .collect();
    let actor = events::actor(j);
    let mut evs = Vec::with_capacity(picked.len());
    for id in &picked {
        let Some(row) = j.issues.get(id) else {
            continue;
        };
        let project = row.attr("project").unwrap_or_default().to_owned();
        let mut v = parse(row);
        let old = v["fields"]["summary"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let base = old.split(SUFFIX).next().unwrap_or_default();
        let new = format!("{base}{SUFFIX}{round}]");
        v["fields"]["summary"] = json!(new);
        save_issue(j, id, &mut v, now);
        let changelog = json!({
            "id": j.take_changelog_id().to_string(),
            "items": [{
                "field": "summary", "fieldtype": "jira", "fieldId": "summary",
                "from": Value::Null, "fromString": old, "to": Value::Null, "toString": new,
            }],
        });
        evs.push(JiraEvent::issue(
            "jira:issue_updated",
            "issue_updated",
            actor.clone(),
            v,
            &project,
            Some(changelog),
        ));
    }
    Ok((picked, evs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_distinct_spread_and_shift() {
        let a = positions(1000, 10, 1);
        let b = positions(1000, 10, 2);
        assert_eq!(a.len(), 10);
        assert_ne!(a, b);
        let mut sorted = a.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        assert!(a.iter().all(|p| *p < 1000));
        assert_eq!(positions(3, 5, 1).len(), 3);
        assert!(positions(0, 5, 1).is_empty());
        let mut all = positions(7, 7, 3);
        all.sort();
        assert_eq!(all, (0..7).collect::<Vec<_>>());
    }
}
