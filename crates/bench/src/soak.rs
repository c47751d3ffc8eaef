//! `ocean-bench soak`: `ocean serve` (the real binary) against the simulator for a while,
//! with mutations at a steady rate and a share of webhook deliveries dropped on the way by
//! a proxy, then one incremental run. Reports deliveries/s, delivery → store latency (p99
//! from the service's histogram), RSS over time, dropped vs counted-missed events, whether
//! the catalog equals the source byte for byte, and a burst of replayed signed deliveries
//! straight at the receiver (deliveries/s it records, and that overload answers 503).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use ocean_sim::{Mutation, SimConfig, Simulator};

use crate::Failure;

/// What the proxy between the simulator and the service shares.
struct Proxy {
    target: AtomicU16,
    drop_share: f64,
    counter: AtomicU64,
    dropped: AtomicU64,
    /// The last forwarded delivery (path, signature, body), replayed by the burst.
    last: Mutex<Option<(String, String, Bytes)>>,
    /// Issue → whether its last delivery was dropped.
    last_dropped: Mutex<HashMap<String, bool>>,
    http: reqwest::Client,
}

/// Forwards a delivery to the service, or drops it (answers 200, forwards nothing) for
/// `drop_share` of them, evenly spread.
async fn relay(
    State(p): State<Arc<Proxy>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let n = p.counter.fetch_add(1, Ordering::SeqCst);
    let every = (1.0 / p.drop_share.max(1e-9)).round() as u64;
    let key = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["issue"]["key"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let dropped = p.drop_share > 0.0 && n % every == every - 1;
    p.last_dropped
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, dropped);
    if dropped {
        p.dropped.fetch_add(1, Ordering::SeqCst);
        return StatusCode::OK;
    }
    let signature = headers
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let url = format!(
        "http://127.0.0.1:{}{}",
        p.target.load(Ordering::SeqCst),
        uri.path()
    );
    *p.last.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((url.clone(), signature.clone(), body.clone()));
    match p
        .http
        .post(url)
        .header("x-hub-signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(r) => StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

/// `VmRSS` of a live process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The smallest histogram bound holding `q` of the observations.
fn quantile_bound(text: &str, histogram: &str, q: f64) -> Option<f64> {
    let prefix = format!("{histogram}_bucket{{");
    let buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            let count: f64 = l.rsplit(' ').next()?.parse().ok()?;
            Some((le, count))
        })
        .collect();
    let total = buckets.iter().map(|b| b.1).fold(0.0, f64::max);
    buckets
        .iter()
        .find(|(_, c)| *c >= q * total && total > 0.0)
        .map(|(le, _)| *le)
}

/// Runs the soak and prints its report.
pub async fn soak(
    ocean: PathBuf,
    minutes: f64,
    rate: f64,
    drop_share: f64,
    items: usize,
) -> Result<(), Failure> {
    let sim = Simulator::start(SimConfig {
        items,
        ..SimConfig::default()
    })
    .await?;
    let proxy = Arc::new(Proxy {
        target: AtomicU16::new(0),
        drop_share,
        counter: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        last: Mutex::new(None),
        last_dropped: Mutex::new(HashMap::new()),
        http: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let proxy_url = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new()
        .fallback(axum::routing::post(relay))
        .with_state(Arc::clone(&proxy));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("ocean-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = format!("sqlite:{}", dir.join("catalog.db").display());
    let config = dir.join("ocean.toml");
    std::fs::write(
        &config,
        format!(
            "[serve]\nstore = \"{store}\"\ninterval = \"24h\"\n\n[[serve.tenants]]\nname = \"jira\"\nprovider = \"jira\"\nurl = \"{}\"\nemail = \"{}\"\ntoken = \"{}\"\nwebhook_secret = \"soak-secret\"\nkinds = [\"project\", \"issue\", \"user\"]\n",
            sim.jira_url(),
            ocean_sim::JIRA_EMAIL,
            ocean_sim::JIRA_TOKEN
        ),
    )?;
    let mut child = Command::new(&ocean)
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0"])
        .args(["--public-url", &proxy_url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let result = drive(&sim, &proxy, &mut child, minutes, rate, &store).await;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn drive(
    sim: &Simulator,
    proxy: &Arc<Proxy>,
    child: &mut Child,
    minutes: f64,
    rate: f64,
    store: &str,
) -> Result<(), Failure> {
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let (mut web, mut admin) = (None, None);
    while web.is_none() || admin.is_none() {
        let line = lines.next().ok_or("ocean serve exited")??;
        if let Some(rest) = line.strip_prefix("listening on http://127.0.0.1:") {
            web = rest.split(' ').next().and_then(|p| p.parse::<u16>().ok());
        }
        if let Some(rest) = line.strip_prefix("admin on ") {
            admin = Some(rest.trim().to_owned());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let (web, admin) = (web.unwrap_or_default(), admin.unwrap_or_default());
    proxy.target.store(web, Ordering::SeqCst);
    let http = reqwest::Client::new();
    let metrics = || async {
        http.get(format!("{admin}/metrics"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())
    };
    let runs_ok = r#"ocean_sync_runs_total{tenant="jira",mode="incremental",outcome="ok"}"#;
    let wait_runs = |n: f64| async move {
        let start = Instant::now();
        while sample(&metrics().await?, runs_ok) < n {
            if start.elapsed() > Duration::from_secs(600) {
                return Err::<(), Failure>("a sync run did not finish in 10 minutes".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    };
    wait_runs(1.0).await?;
    let keys = sim.dataset().jira_ids("issue");
    let keys: Vec<String> = keys
        .into_iter()
        .filter_map(|id| {
            sim.dataset()
                .jira_get("issue", &id)
                .and_then(|v| v["key"].as_str().map(str::to_owned))
        })
        .collect();
    if keys.is_empty() {
        return Err("the simulator has no issues".into());
    }
    let pid = child.id();
    let mut rss = vec![(0.0, rss_kib(pid).unwrap_or(0))];
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let total = Duration::from_secs_f64(minutes * 60.0);
    let started = Instant::now();
    let mut next = started;
    let mut sent = 0u64;
    let mut last_rss = started;
    while started.elapsed() < total {
        let key = &keys[(sent as usize * 7919) % keys.len()];
        sim.mutate(Mutation::JiraIssueUpdate {
            issue: key.clone(),
            summary: Some(format!("soak edit {sent}")),
            status: None,
            labels: None,
            assignee: None,
        })
        .await?;
        sent += 1;
        if last_rss.elapsed() >= Duration::from_secs(10) {
            rss.push((started.elapsed().as_secs_f64(), rss_kib(pid).unwrap_or(0)));
            last_rss = Instant::now();
        }
        next += period;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Let the queue drain, then one incremental run catches what was dropped.
    loop {
        if sample(&metrics().await?, r#"ocean_queue_depth{tenant="jira"}"#) == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rss.push((started.elapsed().as_secs_f64(), rss_kib(pid).unwrap_or(0)));
    let before = sample(&metrics().await?, runs_ok);
    http.post(format!("{admin}/admin/tenants/jira/sync"))
        .send()
        .await?;
    wait_runs(before + 1.0).await?;
    let text = metrics().await?;
    let missed = sample(
        &text,
        r#"ocean_missed_events_total{tenant="jira",kind="issue"}"#,
    );
    let dropped = proxy.dropped.load(Ordering::SeqCst);
    let expected_missed = proxy
        .last_dropped
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .filter(|d| **d)
        .count();
    let p99 = quantile_bound(&text, "ocean_delivery_apply_seconds", 0.99);
    let applied = sample(
        &text,
        r#"ocean_webhook_deliveries_total{tenant="jira",outcome="applied"}"#,
    );
    let equal = catalog_equals_source(store, sim).await?;

    println!(
        "soak: {minutes} min, {sent} mutations ({:.1}/s), {dropped} deliveries dropped by the proxy",
        sent as f64 / elapsed
    );
    println!(
        "  applied by webhook: {applied} ({:.1}/s); p99 delivery → store ≤ {} s",
        applied / elapsed,
        p99.map_or("?".into(), |p| format!("{p}"))
    );
    println!(
        "  missed events counted: {missed}; issues whose last delivery was dropped: {expected_missed}"
    );
    println!("  catalog equals the source byte for byte (issues): {equal}");
    let rss_text: Vec<String> = rss
        .iter()
        .map(|(t, k)| format!("{t:.0}s:{}MB", k / 1024))
        .collect();
    println!("  RSS of ocean serve: {}", rss_text.join(" "));

    burst(proxy, &admin, &http).await?;
    Ok(())
}

/// Replays the last signed delivery at the receiver from 64 tasks for 10 s.
async fn burst(proxy: &Arc<Proxy>, admin: &str, http: &reqwest::Client) -> Result<(), Failure> {
    let Some((url, signature, body)) = proxy.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    else {
        return Ok(());
    };
    let counts: Arc<Mutex<HashMap<u16, u64>>> = Arc::default();
    let until = Instant::now() + Duration::from_secs(10);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (http, url, signature, body, counts) = (
                http.clone(),
                url.clone(),
                signature.clone(),
                body.clone(),
                Arc::clone(&counts),
            );
            tokio::spawn(async move {
                while Instant::now() < until {
                    let status = http
                        .post(&url)
                        .header("x-hub-signature", &signature)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    *counts
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(status)
                        .or_default() += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let counts = counts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let accepted = counts.get(&202).copied().unwrap_or(0);
    let mut all: Vec<_> = counts.into_iter().collect();
    all.sort();
    println!(
        "  burst of signed deliveries, 64 senders for 10 s: {:.0} recorded/s; answers {all:?}",
        accepted as f64 / 10.0
    );
    let _ = admin;
    Ok(())
}

/// Whether every stored issue equals what `GET /rest/api/3/issue/{key}`-equivalent sync
/// output serves now: compares the store's export with a fresh `ocean sync` of issues.
async fn catalog_equals_source(store: &str, sim: &Simulator) -> Result<bool, Failure> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or("no folder")?;
    let ocean = [dir.join("ocean"), dir.join("../ocean")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or("no ocean binary")?;
    let fresh = Command::new(&ocean)
        .args(["sync", "jira", "--kind", "issue"])
        .env("JIRA_URL", sim.jira_url())
        .env("JIRA_EMAIL", ocean_sim::JIRA_EMAIL)
        .env("JIRA_TOKEN", ocean_sim::JIRA_TOKEN)
        .output()?;
    let stored = Command::new(&ocean)
        .args(["catalog", "export", "--store", store, "--kind", "issue"])
        .output()?;
    let items = |out: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = String::from_utf8_lossy(out)
            .lines()
            .filter_map(|l| {
                let start = l.find("\"item\":")? + 7;
                Some(l[start..l.len() - 1].to_owned())
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (items(&fresh.stdout), items(&stored.stdout));
    Ok(!a.is_empty() && a == b)
}
