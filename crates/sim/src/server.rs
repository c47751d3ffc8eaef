//! The [`Simulator`] handle: binds, generates, serves, mutates, stops.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::SimConfig;
use crate::dataset::Dataset;
use crate::faults::Faults;
use crate::mutation::{self, Mutation, MutationError, MutationOutcome};
use crate::oauth::OAuthServer;
use crate::state::Shared;
use crate::stats::{Counters, Stats};
use crate::webhooks::Registry;
use crate::{data, routes};

/// Worker threads of the simulator's own runtime.
const WORKERS: usize = 2;

/// A runtime that is shut down without blocking when dropped, so a [`Simulator`] can be
/// dropped inside async code.
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl OwnedRuntime {
    fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("the runtime lives as long as the simulator")
            .handle()
    }
}

/// A running simulator of the Jira Cloud and Octopus Deploy REST APIs on `127.0.0.1`.
///
/// The server runs on its own small multi-threaded Tokio runtime, so it keeps serving whatever
/// runtime (or executor) the caller uses, and dropping the handle stops it at once, closing
/// every connection. [`shutdown`](Self::shutdown) stops it gracefully instead.
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use ocean_sim::{SimConfig, Simulator};
/// let sim = Simulator::start(SimConfig { items: 50, ..Default::default() }).await?;
/// assert!(sim.jira_url().ends_with("/jira"));
/// assert_eq!(sim.dataset().jira_len("issue"), 50);
/// sim.shutdown().await;
/// # Ok(()) }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
/// ```
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    config: SimConfig,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<io::Result<()>>>,
    // Last: dropped after everything that may hold runtime resources.
    runtime: OwnedRuntime,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Binds `127.0.0.1:config.port`, generates the data (a few seconds for a million items;
    /// the caller's thread is not blocked) and starts serving.
    ///
    /// # Errors
    ///
    /// Binding the port or starting the runtime failed.
    pub async fn start(config: SimConfig) -> io::Result<Simulator> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = OwnedRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .thread_name("ocean-sim")
                .enable_all()
                .build()?,
        ));
        let jira_base = format!("http://{addr}/jira");
        let octopus_base = format!("http://{addr}/octopus");

        let (seed, items, lazy) = (config.seed, config.items, config.lazy);
        let (jb, ob) = (jira_base.clone(), octopus_base.clone());
        let store = runtime
            .handle()
            .spawn_blocking(move || data::generate(seed, items, &jb, &ob, lazy))
            .await
            .map_err(io::Error::other)?;

        let faults = Faults::new(config.seed);
        faults.set_rate_limit(config.rate_limit);
        faults.set_fail_rate(config.fail_rate);
        faults.set_latency(config.latency);
        faults.set_full_issue_latency(config.full_issue_latency);
        faults.set_id_page_latency(config.id_page_latency);
        faults.set_worklog_feed_delay(config.worklog_feed_delay);
        faults.set_malformed(config.malformed);

        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            dataset: Dataset::new(store),
            faults,
            oauth: OAuthServer::default(),
            counters: Arc::new(Counters::default()),
            webhooks: Mutex::new(Registry::new()),
            selections: Default::default(),
            client,
            jira_base,
            octopus_base,
        });

        let listener = {
            let _entered = runtime.handle().enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let app = routes::router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let server = runtime.handle().spawn(async move {
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        tracing::debug!(%addr, items, seed, "ocean-sim started");
        Ok(Simulator {
            shared,
            addr,
            config,
            shutdown: Some(tx),
            server: Some(server),
            runtime,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Jira site base URL, `http://127.0.0.1:PORT/jira`: paths such as
    /// `/rest/api/3/project/search` go under it. Auth: Basic `JIRA_EMAIL:JIRA_TOKEN` or
    /// `Bearer JIRA_TOKEN`.
    pub fn jira_url(&self) -> String {
        self.shared.jira_base.clone()
    }

    /// The Jira Data Center site, `http://127.0.0.1:PORT/jira-dc`: the same data as
    /// [`jira_url`](Self::jira_url) through Data Center's `/rest/api/2` paths and envelopes
    /// (`serverInfo` says `deploymentType: "Server"`; users carry `key` and `name`, where the
    /// `key` is the Cloud user's accountId). Auth: Basic `JIRA_EMAIL:JIRA_TOKEN` or `Bearer
    /// JIRA_TOKEN` (a personal access token).
    pub fn jira_dc_url(&self) -> String {
        format!("{}/jira-dc", self.url())
    }

    /// The Octopus server URL, `http://127.0.0.1:PORT/octopus`: the API is under `/api`.
    /// Links in responses are relative (`/api/Spaces-1/projects?skip=30&take=30`) and resolve
    /// against this URL, as with a server in a virtual directory. Auth: `X-Octopus-ApiKey:
    /// OCTOPUS_API_KEY`.
    pub fn octopus_url(&self) -> String {
        self.shared.octopus_base.clone()
    }

    /// The OAuth 2.0 token endpoint, `http://127.0.0.1:PORT/oauth/token` (refresh-token grant
    /// with [`OAUTH_CLIENT_ID`](crate::OAUTH_CLIENT_ID), starting from
    /// [`OAUTH_REFRESH_TOKEN`](crate::OAUTH_REFRESH_TOKEN)).
    pub fn oauth_token_url(&self) -> String {
        format!("{}/oauth/token", self.url())
    }

    /// The API gateway standing in for `https://api.atlassian.com`: `accessible-resources`
    /// under `/oauth/token/accessible-resources`, the site under `/ex/jira/{CLOUD_ID}`.
    pub fn oauth_api_url(&self) -> String {
        self.url()
    }

    /// The teams the simulated organisation [`ORG_ID`](crate::ORG_ID) serves, each as a
    /// synced `team` record's item: the team's fields plus `__members` (`[{"accountId"}]`).
    pub fn jira_teams(&self) -> Vec<serde_json::Value> {
        let users: Vec<String> = self
            .dataset()
            .jira("user")
            .iter()
            .filter_map(|u| u["accountId"].as_str().map(str::to_owned))
            .collect();
        routes::teams::derive(&users)
            .into_iter()
            .map(|(mut team, members)| {
                team["__members"] = members
                    .into_iter()
                    .map(|a| serde_json::json!({ "accountId": a }))
                    .collect();
                team
            })
            .collect()
    }

    /// The OAuth server: token lifetime knob and refresh counters.
    pub fn oauth(&self) -> &OAuthServer {
        &self.shared.oauth
    }

    /// The configuration the simulator was started with (the fault knobs may have moved since;
    /// read them from [`faults`](Self::faults)).
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The data as served. Reads take a snapshot and reflect every mutation applied so far.
    pub fn dataset(&self) -> &Dataset {
        &self.shared.dataset
    }

    /// The fault knobs, adjustable while the simulator runs.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// What has been served so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Zeroes the counters behind [`stats`](Self::stats).
    pub fn reset_stats(&self) {
        self.shared.counters.reset();
    }

    /// Applies a change, then POSTs the matching event to every registered receiver (Jira admin
    /// and dynamic webhooks, Octopus subscriptions) and returns once every delivery has been
    /// attempted. See [`Mutation`] for the events each change raises.
    ///
    /// # Errors
    ///
    /// The entity does not exist or the change is invalid; nothing was changed.
    pub async fn mutate(&self, m: Mutation) -> Result<MutationOutcome, MutationError> {
        let shared = self.shared.clone();
        // Deliveries run on the simulator's runtime, where its HTTP client lives.
        let task = self
            .runtime
            .handle()
            .spawn(async move { mutation::run(&shared, m).await });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(MutationError::Invalid(
                "the simulator is shutting down".to_owned(),
            )),
        }
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 5 s), then stops.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            // Wait on the simulator's runtime, so the caller needs no timer of its own.
            let wait = self
                .runtime
                .handle()
                .spawn(async move { tokio::time::timeout(Duration::from_secs(5), server).await });
            let _ = wait.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // `runtime` is dropped next and kills every task, including open connections.
    }
}
