//! State shared by the routes, the mutations and the [`Simulator`](crate::Simulator) handle.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::dataset::Dataset;
use crate::faults::Faults;
use crate::oauth::OAuthServer;
use crate::routes::SelectionCache;
use crate::stats::Counters;
use crate::webhooks::Registry;

pub(crate) struct Shared {
    pub(crate) dataset: Dataset,
    pub(crate) faults: Faults,
    pub(crate) oauth: OAuthServer,
    pub(crate) counters: Arc<Counters>,
    pub(crate) webhooks: Mutex<Registry>,
    /// Evaluated JQL selections, so cursor walks evaluate once.
    pub(crate) selections: SelectionCache,
    /// Used for webhook deliveries, only from tasks on the simulator's runtime.
    pub(crate) client: reqwest::Client,
    /// `http://127.0.0.1:PORT/jira`
    pub(crate) jira_base: String,
    /// `http://127.0.0.1:PORT/octopus`
    pub(crate) octopus_base: String,
}

impl Shared {
    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.webhooks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) type AppState = Arc<Shared>;
