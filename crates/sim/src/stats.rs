//! Request counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A snapshot of what the simulator has served (see [`Simulator::stats`](crate::Simulator::stats)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// Requests to the Jira and Octopus APIs, whatever their answer (`/_sim` is not counted).
    pub requests: u64,
    /// 429 answers sent by the rate limiter.
    pub rate_limited: u64,
    /// 503 answers sent by the failure knob.
    pub unavailable: u64,
    /// 401 answers (bad or missing credentials).
    pub unauthorized: u64,
    /// List pages sent malformed.
    pub malformed: u64,
    /// Webhook and subscription POSTs that got a 2xx.
    pub webhooks_delivered: u64,
    /// Webhook and subscription POSTs that failed or got a non-2xx.
    pub webhooks_failed: u64,
    /// Requests per route, keyed `"METHOD /matched/path/{param}"`.
    pub per_route: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) unauthorized: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) webhooks_delivered: AtomicU64,
    pub(crate) webhooks_failed: AtomicU64,
    per_route: Mutex<HashMap<String, u64>>,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn route(&self, method: &str, path: &str) {
        let mut map = self.per_route.lock().unwrap_or_else(|e| e.into_inner());
        let key = format!("{method} {path}");
        *map.entry(key).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let per_route = self.per_route.lock().unwrap_or_else(|e| e.into_inner());
        Stats {
            requests: load(&self.requests),
            rate_limited: load(&self.rate_limited),
            unavailable: load(&self.unavailable),
            unauthorized: load(&self.unauthorized),
            malformed: load(&self.malformed),
            webhooks_delivered: load(&self.webhooks_delivered),
            webhooks_failed: load(&self.webhooks_failed),
            per_route: per_route.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    pub(crate) fn reset(&self) {
        for c in [
            &self.requests,
            &self.rate_limited,
            &self.unavailable,
            &self.unauthorized,
            &self.malformed,
            &self.webhooks_delivered,
            &self.webhooks_failed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.per_route
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
