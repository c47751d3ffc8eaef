//! The worklog change feeds behind `GET /rest/api/3/worklog/updated` and `/worklog/deleted`:
//! every live worklog by its last update, every deleted worklog by its deletion time.

use std::collections::BTreeSet;

/// Changed-worklog entries: `(time ms, worklog id)`, oldest first.
#[derive(Debug, Default)]
pub(crate) struct WorklogFeed {
    updated: BTreeSet<(i64, u64)>,
    deleted: BTreeSet<(i64, u64)>,
}

/// Which of the two feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Created or edited worklogs, by `updatedTime`.
    Updated,
    /// Deleted worklogs, by deletion time.
    Deleted,
}

impl WorklogFeed {
    /// Records that worklog `id` was created (`old` is `None`) or edited at `at`.
    pub(crate) fn updated(&mut self, id: u64, old: Option<i64>, at: i64) {
        if let Some(old) = old {
            self.updated.remove(&(old, id));
        }
        self.updated.insert((at, id));
    }

    /// Records that worklog `id`, last updated at `last`, was deleted at `at`.
    pub(crate) fn deleted(&mut self, id: u64, last: Option<i64>, at: i64) {
        if let Some(last) = last {
            self.updated.remove(&(last, id));
        }
        self.deleted.insert((at, id));
    }

    /// Up to `max` entries of `which` with `since <= time < before`, oldest first, and whether
    /// more such entries follow.
    pub(crate) fn page(
        &self,
        which: Change,
        since: i64,
        before: i64,
        max: usize,
    ) -> (Vec<(i64, u64)>, bool) {
        let set = match which {
            Change::Updated => &self.updated,
            Change::Deleted => &self.deleted,
        };
        if since >= before {
            return (Vec::new(), false);
        }
        let mut range = set.range((since, 0)..(before, 0));
        let page: Vec<(i64, u64)> = range.by_ref().take(max).copied().collect();
        let more = range.next().is_some();
        (page, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_move_and_page() {
        let mut f = WorklogFeed::default();
        for id in 1..=5 {
            f.updated(id, None, 100 + id as i64);
        }
        f.updated(2, Some(102), 200);
        f.deleted(3, Some(103), 201);
        let (page, more) = f.page(Change::Updated, 0, i64::MAX, 2);
        assert_eq!((page, more), (vec![(101, 1), (104, 4)], true));
        let (page, more) = f.page(Change::Updated, 104, i64::MAX, 10);
        assert_eq!((page, more), (vec![(104, 4), (105, 5), (200, 2)], false));
        assert_eq!(f.page(Change::Updated, 0, 105, 10).0.len(), 2);
        assert_eq!(f.page(Change::Deleted, 0, i64::MAX, 10).0, [(201, 3)]);
        assert!(f.page(Change::Deleted, 202, i64::MAX, 10).0.is_empty());
        assert!(f.page(Change::Deleted, 5, 5, 10).0.is_empty());
    }
}
