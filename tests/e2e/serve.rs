//! `ocean serve` against the simulator, with the real binary: it registers its webhook,
//! full-syncs, follows mutations through webhooks, catches a webhook that never came in
//! its next incremental run (and counts it), drains on SIGTERM, loses nothing to a
//! SIGKILL right after acknowledging a delivery, and two replicas share one tenant.
//!
//! Every test runs on SQLite and, when `OCEAN_TEST_POSTGRES` names a server, on
//! PostgreSQL (otherwise that variant prints why it is skipped).

mod common;
#[macro_use]
mod backend;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use backend::Backend;
use common::*;
use futures::TryStreamExt;
use ocean_core::reqwest;
use ocean_sim::{Mutation, Simulator};

const SECRET: &str = "serve-e2e-secret";
/// Every wait is bounded, so a broken service fails the test instead of hanging it.
const DEADLINE: Duration = Duration::from_secs(30);
/// Jira kinds the tests sync (the ones the simulator serves incrementally or in full).
const KINDS: &str = r#"["project", "issue", "user"]"#;

/// A running `ocean serve`, killed on drop; its stderr is collected by a thread.
struct Serve {
    child: Child,
    webhook_port: u16,
    admin: String,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    fn start(config: &Path, extra: &[&str]) -> Serve {
        let mut cmd = ocean();
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("ocean serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (ports, found) = mpsc::channel();
        let err = BufReader::new(child.stderr.take().expect("piped stderr"));
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in err.lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("listening on http://127.0.0.1:") {
                    let port = rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
                    let _ = ports.send(("web", port.map(|p| p.to_string())));
                }
                if let Some(rest) = line.strip_prefix("admin on ") {
                    let _ = ports.send(("admin", Some(rest.trim().to_owned())));
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (mut web, mut admin) = (None, None);
        while web.is_none() || admin.is_none() {
            match found.recv_timeout(DEADLINE) {
                Ok(("web", p)) => web = p.and_then(|p| p.parse::<u16>().ok()),
                Ok((_, a)) => admin = a,
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "ocean serve did not start; stderr: {}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
        Serve {
            child,
            webhook_port: web.unwrap_or_default(),
            admin: admin.unwrap_or_default(),
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .expect("admin answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    async fn metrics(&self) -> String {
        let (status, text) = self.get("/metrics").await;
        assert_eq!(status, 200, "{text}");
        text
    }

    /// The value of the sample `name{labels}`, 0 when absent.
    async fn metric(&self, sample: &str) -> f64 {
        sample_value(&self.metrics().await, sample)
    }

    /// Waits until `sample` reaches at least `value`.
    async fn wait_metric(&self, sample: &str, value: f64) {
        let start = Instant::now();
        loop {
            if self.metric(sample).await >= value {
                return;
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "{sample} never reached {value}; metrics:\n{}\nstderr:\n{}",
                    self.metrics().await,
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn trigger(&self, tenant: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/admin/tenants/{tenant}/sync", self.admin))
            .send()
            .await
            .expect("admin answers");
        assert_eq!(r.status().as_u16(), 202);
    }

    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill {signal} failed");
    }

    /// Waits for the process to exit; its status code.
    fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            if start.elapsed() > within {
                panic!(
                    "ocean serve still running after {within:?}; stderr: {}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `name{labels} value` in a metrics text; 0 when absent.
fn sample_value(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A config with one Jira tenant named `jira` on the simulator, synced every `interval`.
fn config(dir: &Path, store: &str, sim: &Simulator, interval: &str) -> PathBuf {
    let path = dir.join(format!("ocean-{}.toml", sim.addr().port()));
    let text = format!(
        r#"
[serve]
store = "{store}"
interval = "{interval}"

[[serve.tenants]]
name = "jira"
provider = "jira"
url = "{url}"
email = "{email}"
token_env = "SERVE_E2E_JIRA_TOKEN"
webhook_secret_env = "SERVE_E2E_SECRET"
kinds = {KINDS}
"#,
        url = sim.jira_url(),
        email = ocean_sim::JIRA_EMAIL,
    );
    std::fs::write(&path, text).expect("config written");
    path
}

/// Starts `ocean serve` with the test's secrets in its environment.
fn serve(config: &Path, extra: &[&str]) -> Serve {
    // The child inherits these; they never appear on a command line.
    // SAFETY: set before any child starts in this test; same values in every test.
    unsafe {
        std::env::set_var("SERVE_E2E_JIRA_TOKEN", ocean_sim::JIRA_TOKEN);
        std::env::set_var("SERVE_E2E_SECRET", SECRET);
    }
    Serve::start(config, extra)
}

/// The stored JSON of every live item of `kind`, by id.
async fn catalog(spec: &str, sim: &Simulator, kind: &str) -> Vec<(String, String)> {
    let store = ocean_store::open(spec).await.expect("open the catalog");
    let filter = ocean_store::ExportFilter {
        provider: Some("jira".into()),
        kinds: vec![kind.into()],
    };
    let tenant = sim.jira_url();
    store
        .export(filter)
        .try_filter(|i| std::future::ready(i.tenant == tenant))
        .map_ok(|i| (i.id, i.json))
        .try_collect()
        .await
        .expect("export")
}

async fn queue_depth(spec: &str, sim: &Simulator) -> u64 {
    let store = ocean_store::open(spec).await.expect("open the catalog");
    let scope = ocean_store::Scope {
        provider: "jira".into(),
        tenant: sim.jira_url(),
    };
    store.queue_depth(&scope).await.expect("queue depth")
}

/// Waits until the catalog's `key` reads `summary`; how long it took.
async fn wait_summary(spec: &str, sim: &Simulator, key: &str, summary: &str) -> Duration {
    let start = Instant::now();
    loop {
        let items = catalog(spec, sim, "issue").await;
        if items
            .iter()
            .any(|(id, json)| id == key && json.contains(summary))
        {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{key} never read {summary:?} in the catalog"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn edit(issue: &str, summary: &str) -> Mutation {
    Mutation::JiraIssueUpdate {
        issue: issue.into(),
        summary: Some(summary.into()),
        status: None,
        labels: None,
        assignee: None,
    }
}

async fn mutate(sim: &Simulator, m: Mutation) -> ocean_sim::MutationOutcome {
    tokio::time::timeout(DEADLINE, sim.mutate(m))
        .await
        .expect("mutation within the deadline")
        .expect("mutation applies")
}

/// Deletes every admin webhook the simulator holds, as an administrator might.
async fn delete_webhooks(sim: &Simulator) {
    let http = reqwest::Client::new();
    let list: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{}/rest/webhooks/1.0/webhook", sim.jira_url()))
            .basic_auth(ocean_sim::JIRA_EMAIL, Some(ocean_sim::JIRA_TOKEN))
            .send()
            .await
            .expect("list webhooks")
            .text()
            .await
            .expect("webhooks body"),
    )
    .expect("webhooks JSON");
    for hook in list.as_array().expect("a list") {
        let url = hook["self"].as_str().expect("self");
        let status = http
            .delete(url)
            .basic_auth(ocean_sim::JIRA_EMAIL, Some(ocean_sim::JIRA_TOKEN))
            .send()
            .await
            .expect("delete webhook")
            .status();
        assert!(status.is_success(), "delete {url}: {status}");
    }
}

const RUNS_OK: &str = r#"ocean_sync_runs_total{tenant="jira",mode="incremental",outcome="ok"}"#;

async fn lifecycle(backend: &Backend) {
    let sim = sim(40).await;
    let spec = backend.spec();
    let config = config(&backend.dir(), &spec, &sim, "1h");
    let mut serve = serve(&config, &[]);

    // Registers its webhook and full-syncs (a kind's first run is full).
    serve
        .wait_metric(
            r#"ocean_webhook_repairs_total{tenant="jira",outcome="ok"}"#,
            1.0,
        )
        .await;
    serve.wait_metric(RUNS_OK, 1.0).await;
    let issues = catalog(&spec, &sim, "issue").await;
    assert_eq!(issues.len(), sim.dataset().jira_len("issue"));
    let (status, ready) = serve.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let (status, _) = serve.get("/healthz").await;
    assert_eq!(status, 200);

    // The webhook path keeps its signature check: an unsigned delivery is refused.
    let unsigned = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/integration/webhook",
            serve.webhook_port
        ))
        .body(r#"{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"X-1"}}"#)
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(unsigned.status().as_u16(), 401);

    // A mutation reaches the catalog through the webhook within a second.
    let live = &issues[0].0;
    let outcome = mutate(&sim, edit(live, "Edited live")).await;
    let delivered = serde_json::to_string(&outcome).unwrap();
    assert!(delivered.contains("202"), "{delivered}");
    let took = wait_summary(&spec, &sim, live, "Edited live").await;
    assert!(
        took < Duration::from_secs(1),
        "webhook → catalog took {took:?}"
    );

    // The webhook is deleted behind our back: the next edit is never delivered...
    delete_webhooks(&sim).await;
    let missed = &issues[1].0;
    mutate(&sim, edit(missed, "Edited unseen")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = catalog(&spec, &sim, "issue").await;
    assert!(
        !before
            .iter()
            .any(|(_, json)| json.contains("Edited unseen")),
        "the edit arrived without a webhook"
    );
    // ...and the next incremental run catches it and counts it as missed.
    serve.trigger("jira").await;
    serve.wait_metric(RUNS_OK, 2.0).await;
    wait_summary(&spec, &sim, missed, "Edited unseen").await;
    let metrics = serve.metrics().await;
    assert_eq!(
        sample_value(
            &metrics,
            r#"ocean_missed_events_total{tenant="jira",kind="issue"}"#
        ),
        1.0,
        "exactly the one dropped change is missed:\n{metrics}"
    );
    for name in [
        "ocean_requests_total",
        "ocean_items_synced_total",
        "ocean_changes_total",
        "ocean_sync_run_duration_seconds",
        "ocean_webhook_deliveries_total",
        "ocean_queue_depth",
        "ocean_missed_events_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    assert!(!serve.stderr().contains(SECRET), "the secret was logged");
    serve.signal("-TERM");
    assert_eq!(serve.wait_exit(DEADLINE), Some(0), "{}", serve.stderr());
}

async fn sigterm_drains(backend: &Backend) {
    let sim = sim(40).await;
    let spec = backend.spec();
    let config = config(&backend.dir(), &spec, &sim, "1h");
    let mut serve = serve(&config, &["--shutdown-timeout", "20s"]);
    serve.wait_metric(RUNS_OK, 1.0).await;
    let issues = catalog(&spec, &sim, "issue").await;
    // Slow re-fetches keep deliveries queued when SIGTERM comes.
    sim.faults().set_latency(Duration::from_millis(150));
    let edits: Vec<(String, String)> = issues
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, (id, _))| (id.clone(), format!("Drained edit {i}")))
        .collect();
    for (id, summary) in &edits {
        let outcome = mutate(&sim, edit(id, summary)).await;
        let delivered = serde_json::to_string(&outcome).unwrap();
        assert!(delivered.contains("202"), "{delivered}");
    }
    let queued = serve.metric(r#"ocean_queue_depth{tenant="jira"}"#).await;
    assert!(
        queued > 0.0,
        "nothing was queued at SIGTERM: the test proves nothing"
    );
    serve.signal("-TERM");
    // While draining, deliveries are refused with 503 and Retry-After.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/integration/webhook",
            serve.webhook_port
        ))
        .body("{}")
        .send()
        .await
        .expect("the receiver still answers while draining");
    assert_eq!(refused.status().as_u16(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(serve.wait_exit(DEADLINE), Some(0), "{}", serve.stderr());
    sim.faults().set_latency(Duration::ZERO);
    let items = catalog(&spec, &sim, "issue").await;
    for (id, summary) in &edits {
        assert!(
            items
                .iter()
                .any(|(i, json)| i == id && json.contains(summary.as_str())),
            "{id} lost {summary:?}; stderr: {}",
            serve.stderr()
        );
    }
    assert_eq!(queue_depth(&spec, &sim).await, 0);
}

async fn sigkill_after_ack(backend: &Backend) {
    let sim = sim(40).await;
    let spec = backend.spec();
    let config = config(&backend.dir(), &spec, &sim, "1h");
    let serve1 = serve(&config, &["--claim", "1s"]);
    serve1.wait_metric(RUNS_OK, 1.0).await;
    let issue = catalog(&spec, &sim, "issue").await[0].0.clone();
    // The re-fetch hangs: the delivery is acknowledged but not applied when we kill.
    sim.faults().set_latency(Duration::from_secs(5));
    let outcome = mutate(&sim, edit(&issue, "Survives SIGKILL")).await;
    let delivered = serde_json::to_string(&outcome).unwrap();
    assert!(delivered.contains("202"), "{delivered}");
    serve1.signal("-KILL");
    drop(serve1);
    sim.faults().set_latency(Duration::ZERO);
    assert!(
        !catalog(&spec, &sim, "issue")
            .await
            .iter()
            .any(|(_, json)| json.contains("Survives SIGKILL")),
        "applied before the kill: the test proves nothing"
    );
    assert_eq!(
        queue_depth(&spec, &sim).await,
        1,
        "the 202 was not recorded"
    );
    // The next start applies what was recorded.
    let serve2 = serve(&config, &["--claim", "1s"]);
    wait_summary(&spec, &sim, &issue, "Survives SIGKILL").await;
    serve2
        .wait_metric(
            r#"ocean_webhook_deliveries_total{tenant="jira",outcome="applied"}"#,
            1.0,
        )
        .await;
    assert_eq!(queue_depth(&spec, &sim).await, 0);
}

async fn two_replicas(backend: &Backend) {
    let sim = sim(20).await;
    let spec = backend.spec();
    let config = config(&backend.dir(), &spec, &sim, "300ms");
    let args = |name: &'static str| ["--lease-ttl", "2s", "--replica", name];
    let mut a = serve(&config, &args("replica-a"));
    a.wait_metric(RUNS_OK, 1.0).await;
    let b = serve(&config, &args("replica-b"));
    // Both are up for a while; runs happen every 300 ms, all on the lease holder.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let runs_a = a.metric(RUNS_OK).await;
    let runs_b = b.metric(RUNS_OK).await;
    assert!(runs_a >= 3.0, "replica a ran {runs_a} times");
    assert_eq!(runs_b, 0.0, "replica b ran while a held the lease");
    assert_eq!(b.metric(r#"ocean_lease_held{tenant="jira"}"#).await, 0.0);
    let busy = r#"ocean_sync_runs_total{tenant="jira",mode="incremental",outcome="busy"}"#;
    assert_eq!(a.metric(busy).await + b.metric(busy).await, 0.0);
    // The holder dies: b takes the tenant over within a lease period (plus a poll).
    a.signal("-KILL");
    let _ = a.wait_exit(DEADLINE);
    let killed = Instant::now();
    b.wait_metric(RUNS_OK, 1.0).await;
    let took = killed.elapsed();
    assert!(
        took < Duration::from_millis(2000 + 500 + 1000),
        "takeover took {took:?}"
    );
}

async fn admin_token(backend: &Backend) {
    let sim = sim(10).await;
    let spec = backend.spec();
    let config = config(&backend.dir(), &spec, &sim, "1h");
    let serve = serve(&config, &["--admin-token", "admin-e2e-token"]);
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut r = http.get(format!("{}{path}", serve.admin));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(get("/metrics", None).await.unwrap().status().as_u16(), 401);
    assert_eq!(
        get("/metrics", Some("wrong"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        get("/metrics", Some("admin-e2e-token"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        get("/admin/tenants", None).await.unwrap().status().as_u16(),
        401
    );
    // Probes stay open.
    assert_eq!(get("/healthz", None).await.unwrap().status().as_u16(), 200);
    assert!(
        !serve.stderr().contains("admin-e2e-token"),
        "the token was logged"
    );
}

on_both_backends!(
    serve_registers_syncs_follows_webhooks_and_counts_a_missed_one => lifecycle,
    sigterm_drains_the_queue_with_nothing_lost => sigterm_drains,
    sigkill_after_a_202_loses_nothing => sigkill_after_ack,
    two_replicas_never_run_one_tenant_at_once => two_replicas,
    the_admin_surface_requires_its_token => admin_token,
);
