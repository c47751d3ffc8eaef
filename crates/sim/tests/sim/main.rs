//! End-to-end tests of the simulator over loopback HTTP.

mod bulk;
mod common;
mod control;
mod faults;
mod incremental;
mod jira;
mod lazy;
mod lifecycle;
mod mutations;
mod octopus;
