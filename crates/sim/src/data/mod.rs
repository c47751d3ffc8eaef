//! Deterministic generation of the simulated datasets.
//!
//! Everything is a pure function of `(seed, items, base URL)`; the two products are generated
//! on two threads.

pub(crate) mod jira;
mod names;
pub(crate) mod octopus;

use crate::dataset::Store;

/// Generates both products' data.
pub(crate) fn generate(seed: u64, items: usize, jira_base: &str, octopus_base: &str) -> Store {
    std::thread::scope(|s| {
        let octopus = s.spawn(|| octopus::generate(seed, items, octopus_base));
        let jira = jira::generate(seed, items, jira_base);
        let octopus = octopus.join().expect("octopus generation panicked");
        Store { jira, octopus }
    })
}

#[cfg(test)]
mod timing {
    #[test]
    #[ignore]
    fn generation_timing() {
        let n = std::env::var("SIM_ITEMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        let t = std::time::Instant::now();
        let j = super::jira::generate(42, n, "http://127.0.0.1:1/jira");
        eprintln!("jira {:?} issues {}", t.elapsed(), j.issues.len());
        let t = std::time::Instant::now();
        let o = super::octopus::generate(42, n, "http://127.0.0.1:1/octopus");
        eprintln!(
            "octopus {:?} deployments {}",
            t.elapsed(),
            o.deployments.len()
        );
        std::mem::forget((j, o));
    }
}
