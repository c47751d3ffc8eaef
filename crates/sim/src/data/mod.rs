//! Deterministic generation of the simulated datasets.
//!
//! Everything is a pure function of `(seed, items, base URL)`; the two products are generated
//! on two threads.

mod issues;
pub(crate) mod jira;
mod names;
pub(crate) mod octopus;
mod octopus_gen;

use crate::dataset::Store;

/// Generates both products' data; with `lazy`, Jira issues and worklogs and Octopus releases
/// and deployments are rendered when served.
pub(crate) fn generate(
    seed: u64,
    items: usize,
    jira_base: &str,
    octopus_base: &str,
    lazy: bool,
) -> Store {
    std::thread::scope(|s| {
        let octopus = s.spawn(|| octopus::generate(seed, items, octopus_base, lazy));
        let jira = jira::generate(seed, items, jira_base, lazy);
        let octopus = octopus.join().expect("octopus generation panicked");
        Store::new(jira, octopus)
    })
}
