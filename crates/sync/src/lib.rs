//! # ocean-sync
//!
//! The sync engine: keeps a catalog ([`ocean_store::Store`]) of any
//! [`Provider`](ocean_core::Provider) equal to the source over time.
//!
//! A run of a scope (one provider at one tenant) takes the scope's writer lock, resumes
//! the scope's unfinished run or begins one, then syncs each kind on its own:
//!
//! | kind's situation | what the run does |
//! |---|---|
//! | first run, `full`, or no change filter | full stream, then sweep: stored items not seen are tombstoned |
//! | incremental with a census (Jira issues) | changes since the bookmark, then an id-only census, then sweep |
//! | incremental without a census (Jira worklogs) | changes and deletions since the bookmark |
//! | finished earlier in the resumed run | skipped |
//!
//! Items and the kind's checkpoint are written in one transaction per batch; a sweep
//! that would delete more than `max_delete_fraction` of a kind's live items deletes
//! nothing (the report says so); a kind that fails leaves its items untouched and the
//! other kinds go on. Every actual change goes to a [`Feed`].
#![warn(missing_docs)]

mod engine;
mod feed;

pub use engine::{Error, KindReport, Mode, RunReport, Settings, sync};
pub use feed::{Feed, FeedLine, NdjsonFeed, NoFeed};
