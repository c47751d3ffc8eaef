//! End-to-end tests of the simulator over loopback HTTP.

mod common;
mod faults;
mod jira;
mod lifecycle;
mod mutations;
mod octopus;
