//! The no-advance guards: what a list's pages must do for the stream to go on.
//!
//! Pure bookkeeping over what each page said (no I/O), so every strategy shares it and
//! the fuzz target can drive it with arbitrary page sequences. It keeps only the
//! fingerprints of the previous page's items, the largest total announced and a few
//! counters: memory is O(page), never O(items) or O(pages).

use std::collections::HashSet;

use crate::PaginationGuard;

/// Requests a list may take beyond `ceil(total / page size)` before
/// [`PaginationGuard::RequestBudget`] fires: the page that reaches the total can be short,
/// and a total may grow by a page while the list is read.
pub(crate) const BUDGET_SLACK: u64 = 2;

/// What one page said, as far as the guards care.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen<'a> {
    /// Items before this page: its offset, or the items read so far for cursors.
    pub(crate) offset: u64,
    /// The total this page announced.
    pub(crate) total: Option<u64>,
    /// Whether the page claims more pages follow (`isLast: false`, a next cursor or link).
    pub(crate) claims_more: bool,
    /// The fingerprints of the page's items, in order.
    pub(crate) fingerprints: &'a [u64],
}

/// Which of a page's items to yield: all, or all but those already on the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Every item is new.
    All,
    /// The items at these indexes (ascending) were on the previous page: drop them.
    /// A list shifted by an insertion while it was read repeats its boundary item.
    Except(Vec<usize>),
}

/// The running state of one list's guards.
#[derive(Debug)]
pub(crate) struct Progress {
    max_pages: u64,
    item_cap: Option<u64>,
    /// Pages received so far.
    pages: u64,
    /// The largest total any page announced.
    total: Option<u64>,
    /// The fewest items on a page that did not end the list (how slowly it can advance).
    smallest: Option<u64>,
    /// The most items on any page (how fast it can advance at best).
    largest: u64,
    previous: HashSet<u64>,
}

impl Progress {
    /// Guards for a list read with at most `max_pages` pages and `item_cap` items.
    pub(crate) fn new(max_pages: u64, item_cap: Option<u64>) -> Self {
        Self {
            max_pages,
            item_cap,
            pages: 0,
            total: None,
            smallest: None,
            largest: 0,
            previous: HashSet::new(),
        }
    }

    /// Pages received so far.
    pub(crate) fn pages(&self) -> u64 {
        self.pages
    }

    /// Fails when one more request would exceed the page guard.
    pub(crate) fn before_request(&self) -> Result<(), PaginationGuard> {
        self.within_max(self.pages + 1)
    }

    /// Fails when a list of `pages` pages would exceed the page guard. Pure arithmetic:
    /// a claimed size is never materialised.
    pub(crate) fn within_max(&self, pages: u64) -> Result<(), PaginationGuard> {
        if pages > self.max_pages {
            return Err(PaginationGuard::TooManyPages {
                max_pages: self.max_pages,
            });
        }
        Ok(())
    }

    /// Checks a page before any of its items is yielded, then records it.
    ///
    /// In order: the page guard; items claimed past the total; a page with no item that
    /// was not already on the previous page; the request budget; and whether the pages
    /// the total still needs, at the best page size seen, fit under the page guard.
    pub(crate) fn page(&mut self, seen: Seen<'_>) -> Result<Admit, PaginationGuard> {
        self.pages += 1;
        self.within_max(self.pages)?;
        let n = seen.fingerprints.len() as u64;
        if let Some(total) = seen.total {
            if n > 0 && seen.claims_more && seen.offset >= total {
                return Err(PaginationGuard::OffsetPastTotal {
                    offset: seen.offset,
                    total,
                });
            }
            self.total = Some(self.total.map_or(total, |t| t.max(total)));
        }
        let admit = self.admit(seen.fingerprints)?;
        self.largest = self.largest.max(n);
        if seen.claims_more && n > 0 {
            self.smallest = Some(self.smallest.map_or(n, |s| s.min(n)));
        }
        self.check_budget()?;
        self.check_plan(seen.offset.saturating_add(n))?;
        Ok(admit)
    }

    /// Which items are new, compared with the previous page; remembers this one.
    fn admit(&mut self, fingerprints: &[u64]) -> Result<Admit, PaginationGuard> {
        let repeated: Vec<usize> = fingerprints
            .iter()
            .enumerate()
            .filter(|(_, f)| self.previous.contains(f))
            .map(|(i, _)| i)
            .collect();
        if !fingerprints.is_empty() && repeated.len() == fingerprints.len() {
            return Err(PaginationGuard::RepeatedPage {
                page: self.pages - 1,
            });
        }
        self.previous.clear();
        self.previous.extend(fingerprints.iter().copied());
        Ok(if repeated.is_empty() {
            Admit::All
        } else {
            Admit::Except(repeated)
        })
    }

    /// Every page that does not end the list covers at least `smallest` new positions, so
    /// a list of `total` items needs at most `ceil(total / smallest)` pages. More means the
    /// server is not advancing (a cursor that changes while nothing moves on).
    fn check_budget(&self) -> Result<(), PaginationGuard> {
        let (Some(total), Some(smallest)) = (self.total, self.smallest) else {
            return Ok(());
        };
        let budget = total.div_ceil(smallest.max(1)).saturating_add(BUDGET_SLACK);
        if self.pages > budget {
            return Err(PaginationGuard::RequestBudget {
                total,
                requests: self.pages,
                budget,
            });
        }
        Ok(())
    }

    /// The pages the rest of the total needs even at the largest page seen must fit under
    /// the page guard: a claimed `total: 1e14` one item at a time fails here, at once.
    fn check_plan(&self, covered: u64) -> Result<(), PaginationGuard> {
        let Some(total) = self.total else {
            return Ok(());
        };
        let end = self.item_cap.map_or(total, |cap| cap.min(total));
        let rest = end.saturating_sub(covered).div_ceil(self.largest.max(1));
        self.within_max(self.pages.saturating_add(rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(offset: u64, total: Option<u64>, more: bool, f: &[u64]) -> Seen<'_> {
        Seen {
            offset,
            total,
            claims_more: more,
            fingerprints: f,
        }
    }

    #[test]
    fn a_huge_total_fails_the_plan_at_once() {
        let mut p = Progress::new(100_000, None);
        let err = p.page(seen(0, Some(100_000_000_000_000), true, &[1]));
        assert_eq!(
            err,
            Err(PaginationGuard::TooManyPages { max_pages: 100_000 })
        );
        // Ten full pages of ten fit under a guard of ten; eleven do not.
        let mut p = Progress::new(10, None);
        assert_eq!(p.page(seen(0, Some(100), true, &[0; 10])), Ok(Admit::All));
        let mut p = Progress::new(10, None);
        assert!(p.page(seen(0, Some(101), true, &[0; 10])).is_err());
        // An item cap bounds the plan.
        let mut p = Progress::new(10, Some(50));
        assert!(p.page(seen(0, Some(u64::MAX), true, &[1])).is_err());
        let mut p = Progress::new(10, Some(10));
        assert!(p.page(seen(0, Some(u64::MAX), true, &[1])).is_ok());
    }

    #[test]
    fn repeats_of_the_previous_page_are_dropped_or_fatal() {
        let mut p = Progress::new(100, None);
        assert_eq!(p.page(seen(0, None, true, &[1, 2, 3])), Ok(Admit::All));
        assert_eq!(
            p.page(seen(3, None, true, &[3, 4, 5])),
            Ok(Admit::Except(vec![0]))
        );
        assert_eq!(
            p.page(seen(6, None, true, &[5, 4])),
            Err(PaginationGuard::RepeatedPage { page: 2 })
        );
    }

    #[test]
    fn an_offset_past_the_total_that_claims_more_is_fatal() {
        let mut p = Progress::new(100, None);
        assert_eq!(
            p.page(seen(7, Some(7), true, &[1])),
            Err(PaginationGuard::OffsetPastTotal {
                offset: 7,
                total: 7
            })
        );
        // Not claiming more, it is just the end.
        let mut p = Progress::new(100, None);
        assert!(p.page(seen(7, Some(7), false, &[1])).is_ok());
    }

    #[test]
    fn fresh_pages_past_the_budget_are_fatal() {
        let mut p = Progress::new(1000, None);
        let mut err = None;
        for page in 0..100u64 {
            let f = [page * 2, page * 2 + 1];
            if let Err(e) = p.page(seen(0, Some(7), true, &f)) {
                err = Some((page, e));
                break;
            }
        }
        // ceil(7 / 2) + slack = 6 pages are fine; the seventh is not.
        assert_eq!(
            err,
            Some((
                6,
                PaginationGuard::RequestBudget {
                    total: 7,
                    requests: 7,
                    budget: 6
                }
            ))
        );
    }
}
