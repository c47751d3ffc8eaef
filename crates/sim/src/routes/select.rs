//! Which issues a JQL query selects, in what order: evaluation, `ORDER BY`, and a small cache
//! so a cursor walk evaluates its query once rather than once per page.
//!
//! A selection is computed at an *anchor*: the instant relative dates (`-15m`) are resolved
//! against, fixed by the walk's first page and carried in its page tokens, so every page of a
//! walk sees the same query. The cache is keyed by (query, anchor, data version); any mutation
//! bumps the version, so a walk that spans a change re-evaluates once and sees the change.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::dataset::Store;
use crate::jql::{IssueFacts, Jql, Sort, SortField};
use crate::store::Row;

/// How many selections the cache keeps (one per concurrent walk is plenty).
const CACHE_SIZE: usize = 8;

/// The ordered ids a query selected.
pub(crate) type Selection = Arc<Vec<Arc<str>>>;

#[derive(Default)]
pub(crate) struct SelectionCache {
    entries: Mutex<VecDeque<(Key, Selection)>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    fingerprint: u64,
    anchor_ms: i64,
    version: u64,
}

impl SelectionCache {
    /// The ids `q` selects at `anchor_ms`, from the cache when the data has not changed.
    pub(crate) fn get(&self, store: &Store, q: &Jql, anchor_ms: i64) -> Selection {
        let key = Key {
            fingerprint: q.fingerprint,
            anchor_ms,
            version: store.version,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, s)) = entries.iter().find(|(k, _)| *k == key) {
            return s.clone();
        }
        let ids: Vec<Arc<str>> = select(store, q, anchor_ms)
            .into_iter()
            .map(|r| r.id.clone())
            .collect();
        let selection = Arc::new(ids);
        if entries.len() == CACHE_SIZE {
            entries.pop_front();
        }
        entries.push_back((key, selection.clone()));
        selection
    }
}

/// An issue's `created` or `updated` attribute, epoch ms.
pub(crate) fn issue_time(row: &Row, name: &str) -> Option<i64> {
    row.attr(name).and_then(|v| v.parse().ok())
}

/// Whether `row` matches `q` at `now_ms`.
pub(crate) fn matches(store: &Store, q: &Jql, row: &Row, now_ms: i64) -> bool {
    let facts = IssueFacts {
        id: &row.id,
        key: row.attr("key").unwrap_or_default(),
        project_key: row.attr("project").unwrap_or_default(),
        created_ms: issue_time(row, "created"),
        updated_ms: issue_time(row, "updated"),
    };
    q.matches(&facts, &|v, k| store.jira.project_matches(v, k), now_ms)
}

/// Whether the query needs no evaluation: every issue, in served order.
pub(crate) fn is_everything(q: &Jql) -> bool {
    q.matches_all() && q.order.is_empty()
}

/// The issues `q` selects at `now_ms`, sorted by its `ORDER BY` (served order otherwise).
pub(crate) fn select<'a>(store: &'a Store, q: &Jql, now_ms: i64) -> Vec<&'a Row> {
    let issues = &store.jira.issues;
    let mut rows: Vec<&Row> = if let Some(keys) = q.key_candidates() {
        let mut rows: Vec<&Row> = Vec::new();
        for k in keys {
            // Keys match case-insensitively, as in Jira.
            if let Some(row) = issues.get(&k).or_else(|| issues.get(&k.to_uppercase())) {
                if !rows.iter().any(|r| r.id == row.id) && matches(store, q, row, now_ms) {
                    rows.push(row);
                }
            }
        }
        rows.sort_by_key(|r| numeric_id(r));
        rows
    } else {
        issues
            .served("")
            .into_iter()
            .filter(|r| matches(store, q, r, now_ms))
            .collect()
    };
    if !q.order.is_empty() {
        // Each row's sort values are read once, not once per comparison (they are parsed
        // from its attributes).
        let mut keyed: Vec<(Vec<SortValue<'a>>, &'a Row)> = rows
            .into_iter()
            .map(|row| {
                (
                    q.order.iter().map(|s| sort_value(row, s.field)).collect(),
                    row,
                )
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| compare(a, b, &q.order));
        rows = keyed.into_iter().map(|(_, row)| row).collect();
    }
    rows
}

/// A row's value for one `ORDER BY` field.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortValue<'a> {
    Time(Option<i64>),
    Key(&'a str, u64),
    Id(u64),
}

fn sort_value(row: &Row, field: SortField) -> SortValue<'_> {
    match field {
        SortField::Updated => SortValue::Time(issue_time(row, "updated")),
        SortField::Created => SortValue::Time(issue_time(row, "created")),
        SortField::Key => {
            let (project, number) = key_parts(row);
            SortValue::Key(project, number)
        }
        SortField::Id => SortValue::Id(numeric_id(row)),
    }
}

fn numeric_id(row: &Row) -> u64 {
    row.id.parse().unwrap_or(u64::MAX)
}

/// `PROJ12-345` → (`PROJ12`, 345), so keys sort by project, then number.
fn key_parts(row: &Row) -> (&str, u64) {
    let key = row.attr("key").unwrap_or_default();
    match key.rsplit_once('-') {
        Some((project, n)) => (project, n.parse().unwrap_or(0)),
        None => (key, 0),
    }
}

fn compare(a: &[SortValue<'_>], b: &[SortValue<'_>], order: &[Sort]) -> Ordering {
    for ((a, b), s) in a.iter().zip(b).zip(order) {
        let ord = if s.descending { b.cmp(a) } else { a.cmp(b) };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
