//! The schedule on tokio's paused clock: a day of incremental and full runs in
//! milliseconds, retries with doubling backoff, and never two runs of a tenant at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use ocean_core::reqwest::header::HeaderMap;
use ocean_core::webhook::{ParseError, PendingChange, VerifyError, WebhookEvent, WebhookSource};
use ocean_core::{Client, ItemChange, KindInfo, Provider, RawItem, Record, Result};
use ocean_serve::{Options, Service, Tenant};
use tokio::time::Instant;

static KINDS: [KindInfo; 1] = [KindInfo {
    name: "widget",
    id_field: "id",
    parent: None,
    incremental: true,
    census: false,
}];

/// A provider that records when each run reads it, how many read at once, and can fail.
struct Clocked {
    client: Client,
    tenant: String,
    fulls: Mutex<Vec<Instant>>,
    incrementals: Mutex<Vec<Instant>>,
    failing: AtomicBool,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
    /// How long each read takes (virtual time).
    read_time: Duration,
}

impl Clocked {
    fn new(read_time: Duration) -> Arc<Self> {
        Arc::new(Self {
            client: Client::builder("http://127.0.0.1:9").build().unwrap(),
            tenant: format!("https://clocked-{}.example", std::process::id()),
            fulls: Mutex::default(),
            incrementals: Mutex::default(),
            failing: AtomicBool::new(false),
            in_flight: Arc::default(),
            most_in_flight: Arc::default(),
            read_time,
        })
    }

    /// A stream that takes `read_time`, counting concurrent readers, then yields `items`.
    fn slow<T: Send + 'static>(&self, items: Vec<Result<T>>) -> BoxStream<'static, Result<T>> {
        let (now, most) = (
            Arc::clone(&self.in_flight),
            Arc::clone(&self.most_in_flight),
        );
        let wait = self.read_time;
        futures::stream::once(async move {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(wait).await;
            now.fetch_sub(1, Ordering::SeqCst);
            futures::stream::iter(items)
        })
        .flatten()
        .boxed()
    }
}

fn widget() -> Record {
    Record::new(
        "widget",
        serde_json::value::RawValue::from_string(r#"{"id":"w1"}"#.into()).unwrap(),
    )
}

impl Provider for Clocked {
    fn name(&self) -> &'static str {
        "clocked"
    }
    fn tenant(&self) -> String {
        self.tenant.clone()
    }
    fn client(&self) -> &Client {
        &self.client
    }
    fn kinds(&self) -> &'static [KindInfo] {
        &KINDS
    }
    fn full(&self, _kind: &str, _resume: Option<&str>) -> BoxStream<'static, Result<Record>> {
        self.fulls.lock().unwrap().push(Instant::now());
        self.slow(vec![Ok(widget())])
    }
    fn changes_since(
        &self,
        _kind: &str,
        _since: i64,
    ) -> Option<BoxStream<'static, Result<ItemChange>>> {
        self.incrementals.lock().unwrap().push(Instant::now());
        let item = if self.failing.load(Ordering::SeqCst) {
            Err(ocean_core::Error::Config("the source is down".into()))
        } else {
            Ok(ItemChange::Upsert(widget()))
        };
        Some(self.slow(vec![item]))
    }
    fn census(&self, _kind: &str) -> Option<BoxStream<'static, Result<String>>> {
        None
    }
    fn fetch_one(&self, _kind: &str, _id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        Box::pin(async { Ok(None) })
    }
}

/// A webhook source that is never posted to in these tests.
struct Quiet;

impl WebhookSource for Quiet {
    fn provider(&self) -> &'static str {
        "clocked"
    }
    fn verifies(&self) -> bool {
        true
    }
    fn verify(&self, _headers: &HeaderMap, _body: &[u8]) -> std::result::Result<(), VerifyError> {
        Ok(())
    }
    fn parse(&self, _body: &[u8]) -> std::result::Result<WebhookEvent, ParseError> {
        Ok(WebhookEvent::Unsupported {
            event: "none".into(),
            reason: "test".into(),
        })
    }
    fn fetch<'a>(&'a self, _change: &'a PendingChange) -> BoxFuture<'a, Result<Option<RawItem>>> {
        Box::pin(async { Ok(None) })
    }
}

fn options() -> Options {
    let mut o = Options::default();
    o.bind = "127.0.0.1:0".parse().unwrap();
    o.admin_bind = Some("127.0.0.1:0".parse().unwrap());
    // No deliveries in these tests: an idle worker need not poll every second of a
    // virtual day, and the lease is renewed a few times an hour.
    o.queue_poll = Duration::from_secs(3600);
    o.lease_ttl = Duration::from_secs(3600);
    o
}

/// Serves `provider` until `run_for` of virtual time has passed; the shutdown result.
async fn serve_for(provider: Arc<Clocked>, o: Options, run_for: Duration) -> ocean_serve::Stopped {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("sqlite:{}", dir.path().join("c.db").display());
    let store: Arc<dyn ocean_store::Store> = ocean_store::open(&spec).await.unwrap().into();
    let tenant = Tenant::new("clocked", provider, Arc::new(Quiet));
    let service = Service::bind(store, vec![tenant], o).await.unwrap();
    service
        .run(tokio::time::sleep(run_for))
        .await
        .expect("the service stops cleanly")
}

fn gaps(times: &[Instant]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn a_day_of_incremental_runs_and_one_full_run() {
    let provider = Clocked::new(Duration::from_secs(2));
    let stopped = serve_for(
        Arc::clone(&provider),
        options(),
        Duration::from_secs(27 * 3600),
    )
    .await;
    assert!(stopped.in_time);
    let fulls = provider.fulls.lock().unwrap().clone();
    let incrementals = provider.incrementals.lock().unwrap().clone();
    // The first run ever is full (no bookmark), then one scheduled full run within
    // 24 h ± 10 %.
    assert_eq!(fulls.len(), 2, "full runs at {fulls:?}");
    let full_gap = fulls[1] - fulls[0];
    assert!(
        full_gap >= Duration::from_secs(21 * 3600) && full_gap <= Duration::from_secs(27 * 3600),
        "{full_gap:?}"
    );
    // Incremental runs every 15 min ± 10 %, jittered (not all equal).
    let gaps = gaps(&incrementals);
    assert!(
        incrementals.len() >= 90,
        "{} incremental runs",
        incrementals.len()
    );
    for g in &gaps {
        // A gap spanning the full run is two intervals long.
        assert!(
            *g >= Duration::from_secs(13 * 60) && *g <= Duration::from_secs(34 * 60),
            "a gap of {g:?}"
        );
    }
    assert!(gaps.windows(2).any(|w| w[0] != w[1]), "no jitter");
    assert_eq!(provider.most_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failing_run_is_retried_with_doubling_backoff() {
    let provider = Clocked::new(Duration::ZERO);
    provider.failing.store(true, Ordering::SeqCst);
    let mut o = options();
    o.retry_base = Duration::from_secs(30);
    // 15 min interval: retries at +30 s, +60 s, +120 s, +240 s, +480 s, then capped.
    let stopped = serve_for(Arc::clone(&provider), o, Duration::from_secs(3600)).await;
    assert!(stopped.in_time);
    let incrementals = provider.incrementals.lock().unwrap().clone();
    let gaps = gaps(&incrementals);
    // The first run ever is full and succeeds; every incremental after it fails.
    let s = Duration::from_secs;
    let near = |g: Duration, want: Duration| g >= want && g < want + s(1);
    assert!(gaps.len() >= 6, "{gaps:?}");
    for (g, want) in gaps
        .iter()
        .zip([s(30), s(60), s(120), s(240), s(480), s(900)])
    {
        assert!(near(*g, want), "gaps {gaps:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_during_a_long_run_is_bounded() {
    // Every read takes an hour: shutdown comes in the middle of the first run.
    let provider = Clocked::new(Duration::from_secs(3600));
    let mut o = options();
    o.sync_grace = Duration::from_secs(5);
    o.shutdown_timeout = Duration::from_secs(30);
    let started = Instant::now();
    let stopped = serve_for(Arc::clone(&provider), o, Duration::from_secs(60)).await;
    assert!(stopped.in_time, "{stopped:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60 + 30),
        "{:?}",
        started.elapsed()
    );
}
