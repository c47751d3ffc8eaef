//! The engine's rules against a scripted provider, on SQLite (and on PostgreSQL when
//! `OCEAN_TEST_POSTGRES` names a server): first run, incremental with a census,
//! deletions and their threshold, failure isolation, resume after a crash, the feed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use ocean_core::{Client, ItemChange, KindInfo, Provider, Record, Result};
use ocean_store::{ExportFilter, Store};
use ocean_sync::{Mode, NdjsonFeed, NoFeed, RunReport, Settings};

const PROJECT: KindInfo = KindInfo {
    name: "project",
    id_field: "id",
    parent: None,
    incremental: false,
    census: false,
};
const ISSUE: KindInfo = KindInfo {
    name: "issue",
    id_field: "id",
    parent: None,
    incremental: true,
    census: true,
};
const BROKEN: KindInfo = KindInfo {
    name: "broken",
    id_field: "id",
    parent: None,
    incremental: false,
    census: false,
};
static KINDS: [KindInfo; 3] = [PROJECT, ISSUE, BROKEN];

/// Per kind, id → (JSON, updated at, epoch ms).
type ScriptedItems = BTreeMap<&'static str, BTreeMap<String, (String, i64)>>;

/// A source whose items the test edits: per kind, id → (JSON, updated at, epoch ms).
#[derive(Clone)]
struct Scripted {
    tenant: String,
    client: Client,
    items: Arc<Mutex<ScriptedItems>>,
    /// Items yielded by full streams so far.
    served: Arc<AtomicU64>,
    /// A full stream hangs (like a killed process) after this many items.
    hang_after: Arc<Mutex<Option<u64>>>,
}

impl Scripted {
    fn new(tenant: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            client: Client::builder("http://127.0.0.1:9").build().unwrap(),
            items: Arc::default(),
            served: Arc::default(),
            hang_after: Arc::default(),
        }
    }

    fn put(&self, kind: &'static str, id: u32, content: &str) {
        let json = format!(r#"{{"id":"{id:05}","v":"{content}"}}"#);
        self.items
            .lock()
            .unwrap()
            .entry(kind)
            .or_default()
            .insert(format!("{id:05}"), (json, now()));
    }

    fn remove(&self, kind: &'static str, id: u32) {
        self.items
            .lock()
            .unwrap()
            .entry(kind)
            .or_default()
            .remove(&format!("{id:05}"));
    }

    fn snapshot(&self, kind: &str) -> Vec<(String, String, i64)> {
        self.items
            .lock()
            .unwrap()
            .get(kind)
            .map(|m| {
                m.iter()
                    .map(|(id, (j, t))| (id.clone(), j.clone(), *t))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn record(kind: &'static str, json: String) -> Record {
    Record::new(
        kind,
        serde_json::value::RawValue::from_string(json).unwrap(),
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

impl Provider for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
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
    fn full(&self, kind: &str, resume: Option<&str>) -> BoxStream<'static, Result<Record>> {
        let kind = self.kind(kind).unwrap().name;
        if kind == "broken" {
            let error = ocean_core::Error::Config("the broken kind always fails".into());
            return futures::stream::once(async move { Err(error) }).boxed();
        }
        let resume = resume.map(str::to_owned);
        let items: Vec<_> = self
            .snapshot(kind)
            .into_iter()
            .filter(|(id, _, _)| resume.as_deref().is_none_or(|r| id.as_str() > r))
            .collect();
        let served = Arc::clone(&self.served);
        let hang_after = *self.hang_after.lock().unwrap();
        futures::stream::iter(items)
            .enumerate()
            .then(move |(n, (_, json, _))| {
                let served = Arc::clone(&served);
                async move {
                    if hang_after.is_some_and(|h| n as u64 >= h) {
                        std::future::pending::<()>().await;
                    }
                    served.fetch_add(1, Ordering::SeqCst);
                    Ok(record(kind, json))
                }
            })
            .boxed()
    }
    fn checkpoint(&self, _kind: &str, record: &Record) -> Option<String> {
        ocean_core::raw_field(&record.item, "id").ok().flatten()
    }
    fn changes_since(
        &self,
        kind: &str,
        since: i64,
    ) -> Option<BoxStream<'static, Result<ItemChange>>> {
        let kind = self.kind(kind)?.name;
        if !self.kind(kind)?.incremental {
            return None;
        }
        let changed: Vec<_> = self
            .snapshot(kind)
            .into_iter()
            .filter(|(_, _, updated)| *updated >= since)
            .map(|(_, json, _)| Ok(ItemChange::Upsert(record(kind, json))))
            .collect();
        Some(futures::stream::iter(changed).boxed())
    }
    fn census(&self, kind: &str) -> Option<BoxStream<'static, Result<String>>> {
        let ids: Vec<_> = self
            .snapshot(kind)
            .into_iter()
            .map(|(id, _, _)| Ok(id))
            .collect();
        Some(futures::stream::iter(ids).boxed())
    }
    fn fetch_one(&self, kind: &str, id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        let kind = self.kind(kind).unwrap().name;
        let found = self
            .snapshot(kind)
            .into_iter()
            .find(|(i, _, _)| i == id)
            .map(|(_, json, _)| record(kind, json));
        async move { Ok(found) }.boxed()
    }
}

/// The stores the rules are checked on: SQLite always, PostgreSQL when configured.
async fn stores(test: &str) -> Vec<(String, Box<dyn Store>)> {
    let dir = std::env::temp_dir().join(format!("ocean-sync-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite:{}", dir.join("catalog.db").display());
    let mut stores = vec![(sqlite.clone(), ocean_store::open(&sqlite).await.unwrap())];
    match std::env::var("OCEAN_TEST_POSTGRES") {
        Ok(url) => stores.push((url.clone(), ocean_store::open(&url).await.unwrap())),
        Err(_) if std::env::var_os("OCEAN_REQUIRE_POSTGRES").is_some() => {
            panic!("OCEAN_REQUIRE_POSTGRES is set but OCEAN_TEST_POSTGRES is not")
        }
        Err(_) => eprintln!("{test}: OCEAN_TEST_POSTGRES unset: PostgreSQL not checked"),
    }
    stores
}

/// A tenant of its own per test, store and run (a PostgreSQL database outlives a run), so
/// runs never share a scope.
fn tenant(test: &str, store: &str) -> String {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "https://{test}.{}.{}-{run}.example",
        store.split(':').next().unwrap(),
        std::process::id()
    )
}

async fn run(
    provider: &Scripted,
    store: &dyn Store,
    kinds: &[&'static KindInfo],
    settings: &Settings,
) -> (RunReport, String) {
    let mut feed = NdjsonFeed(Vec::new());
    let report = ocean_sync::sync(provider, store, kinds, settings, &mut feed)
        .await
        .unwrap();
    (report, String::from_utf8(feed.0).unwrap())
}

async fn live_ids(store: &dyn Store, kind: &str, tenant_url: &str) -> Vec<String> {
    let filter = ExportFilter {
        provider: Some("scripted".into()),
        kinds: vec![kind.into()],
    };
    let items: Vec<_> = store
        .export(filter)
        .map(|item| item.unwrap())
        .collect()
        .await;
    items
        .into_iter()
        .filter(|item| item.tenant == tenant_url)
        .map(|item| item.id)
        .collect()
}

fn settings() -> Settings {
    Settings {
        batch_size: 7,
        ..Settings::default()
    }
}

#[tokio::test]
async fn a_first_run_is_full_then_runs_cost_what_changed() {
    for (name, store) in stores("incremental").await {
        let source = Scripted::new(&tenant("incremental", &name));
        for id in 0..40 {
            source.put("issue", id, "a");
            source.put("project", id, "a");
        }
        let (report, feed) = run(&source, store.as_ref(), &[&PROJECT, &ISSUE], &settings()).await;
        assert!(
            report
                .kinds
                .iter()
                .all(|k| k.mode == Mode::Full && k.created == 40),
            "{name}: {report:?}"
        );
        assert_eq!(
            feed.lines().count(),
            80,
            "{name}: every item is a change once"
        );

        // Nothing changed: nothing is written to the feed.
        let (report, feed) = run(&source, store.as_ref(), &[&PROJECT, &ISSUE], &settings()).await;
        assert_eq!(feed, "", "{name}");
        assert_eq!(report.kinds[1].mode, Mode::Incremental);
        assert_eq!(report.kinds[0].unchanged, 40);

        // Two edits, one creation, one deletion of issues: the feed says exactly that.
        tokio::time::sleep(Duration::from_millis(5)).await;
        source.put("issue", 3, "b");
        source.put("issue", 4, "b");
        source.put("issue", 99, "new");
        source.remove("issue", 7);
        let (report, feed) = run(&source, store.as_ref(), &[&ISSUE], &settings()).await;
        let issue = &report.kinds[0];
        assert_eq!(
            (issue.created, issue.updated, issue.deleted),
            (1, 2, 1),
            "{name}: {issue:?}"
        );
        let lines: Vec<&str> = feed.lines().collect();
        assert_eq!(lines.len(), 4, "{name}: {feed}");
        assert!(
            lines.contains(&r#"{"kind":"issue","action":"delete","id":"00007"}"#),
            "{feed}"
        );
        assert!(
            lines.contains(
                &r#"{"kind":"issue","action":"upsert","id":"00003","item":{"id":"00003","v":"b"}}"#
            ),
            "{feed}"
        );
        let live = live_ids(store.as_ref(), "issue", &source.tenant).await;
        assert_eq!(live.len(), 40);
        assert!(!live.contains(&"00007".to_owned()));
    }
}

#[tokio::test]
async fn deletions_beyond_the_threshold_delete_nothing() {
    for (name, store) in stores("threshold").await {
        let source = Scripted::new(&tenant("threshold", &name));
        for id in 0..10 {
            source.put("project", id, "a");
        }
        run(&source, store.as_ref(), &[&PROJECT], &settings()).await;
        for id in 0..6 {
            source.remove("project", id);
        }
        let (report, feed) = run(&source, store.as_ref(), &[&PROJECT], &settings()).await;
        assert_eq!(report.kinds[0].threshold, Some((6, 10)), "{name}");
        assert_eq!(report.kinds[0].deleted, 0);
        assert_eq!(feed, "");
        assert_eq!(
            live_ids(store.as_ref(), "project", &source.tenant)
                .await
                .len(),
            10
        );

        let generous = Settings {
            max_delete_fraction: 0.6,
            ..settings()
        };
        let (report, _) = run(&source, store.as_ref(), &[&PROJECT], &generous).await;
        assert_eq!(report.kinds[0].deleted, 6, "{name}");
        assert_eq!(
            live_ids(store.as_ref(), "project", &source.tenant)
                .await
                .len(),
            4
        );
    }
}

#[tokio::test]
async fn a_first_run_sweeps_what_webhooks_stored_before_it_unless_the_source_has_it() {
    for (name, store) in stores("first-sweep").await {
        let source = Scripted::new(&tenant("first-sweep", &name));
        for id in 0..10 {
            source.put("project", id, "a");
        }
        // Before any run, webhooks stored a project the source still has and one it
        // no longer has.
        let scope = ocean_store::Scope {
            provider: "scripted".into(),
            tenant: source.tenant.clone(),
        };
        let webhook = |id: &str| ocean_store::ItemWrite {
            id: id.into(),
            parent: None,
            json: format!(r#"{{"id":"{id}","v":"webhook"}}"#),
        };
        store
            .apply(
                &scope,
                None,
                "project",
                &[webhook("00003"), webhook("00099")],
                &[],
                None,
            )
            .await
            .unwrap();
        let (report, _) = run(&source, store.as_ref(), &[&PROJECT], &settings()).await;
        let project = &report.kinds[0];
        assert_eq!(
            (project.created, project.updated, project.deleted),
            (9, 1, 1),
            "{name}: {project:?}"
        );
        let live = live_ids(store.as_ref(), "project", &source.tenant).await;
        assert_eq!(live.len(), 10, "{name}: {live:?}");
        assert!(!live.contains(&"00099".to_owned()), "{name}");
    }
}

#[tokio::test]
async fn a_failing_kind_leaves_its_items_and_the_others_run() {
    for (name, store) in stores("isolation").await {
        let source = Scripted::new(&tenant("isolation", &name));
        for id in 0..5 {
            source.put("project", id, "a");
        }
        let (report, _) = run(&source, store.as_ref(), &[&BROKEN, &PROJECT], &settings()).await;
        let failed: Vec<_> = report.failed().map(|k| k.kind).collect();
        assert_eq!(failed, ["broken"], "{name}");
        assert_eq!(report.kinds[1].created, 5);
        assert_eq!(report.kinds[0].deleted, 0);
    }
}

#[tokio::test]
async fn a_run_killed_mid_kind_resumes_from_its_checkpoint() {
    for (name, store) in stores("resume").await {
        let source = Scripted::new(&tenant("resume", &name));
        for id in 0..100 {
            source.put("project", id, "a");
        }
        // The "process" dies after 50 items: the future is dropped mid-stream.
        *source.hang_after.lock().unwrap() = Some(50);
        let killed = tokio::time::timeout(
            Duration::from_millis(300),
            run(&source, store.as_ref(), &[&PROJECT], &settings()),
        )
        .await;
        assert!(killed.is_err(), "{name}: the run was meant to hang");
        let committed = live_ids(store.as_ref(), "project", &source.tenant)
            .await
            .len();
        assert_eq!(
            committed, 49,
            "{name}: seven batches of seven committed, the eighth not"
        );

        *source.hang_after.lock().unwrap() = None;
        source.served.store(0, Ordering::SeqCst);
        let (report, _) = run(&source, store.as_ref(), &[&PROJECT], &settings()).await;
        assert!(report.resumed, "{name}");
        assert_eq!(
            source.served.load(Ordering::SeqCst),
            51,
            "{name}: only what was not committed is fetched again"
        );
        assert_eq!((report.kinds[0].created, report.kinds[0].deleted), (51, 0));
        let live = live_ids(store.as_ref(), "project", &source.tenant).await;
        let mut unique = live.clone();
        unique.dedup();
        assert_eq!(
            (live.len(), unique.len()),
            (100, 100),
            "{name}: every item exactly once"
        );
    }
}

#[tokio::test]
async fn a_slow_source_commits_what_it_read_within_the_batch_time() {
    for (name, store) in stores("batch-time").await {
        let source = Scripted::new(&tenant("batch-time", &name));
        for id in 0..100 {
            source.put("project", id, "a");
        }
        // 30 items, then a source that never answers again, in batches of up to 1000.
        *source.hang_after.lock().unwrap() = Some(30);
        let settings = Settings {
            batch_size: 1000,
            batch_time: Duration::from_millis(100),
            ..Settings::default()
        };
        // Well past the batch time, for a loaded machine.
        let hung = tokio::time::timeout(
            Duration::from_secs(2),
            run(&source, store.as_ref(), &[&PROJECT], &settings),
        )
        .await;
        assert!(hung.is_err(), "{name}: the run was meant to hang");
        let committed = live_ids(store.as_ref(), "project", &source.tenant).await;
        assert_eq!(committed.len(), 30, "{name}: what was read is committed");
    }
}

#[tokio::test]
async fn two_writers_of_one_scope_never_interleave() {
    for (name, store) in stores("writers").await {
        let source = Scripted::new(&tenant("writers", &name));
        source.put("project", 1, "a");
        *source.hang_after.lock().unwrap() = Some(0);
        let (settings, mut no_feed) = (settings(), NoFeed);
        let first = ocean_sync::sync(
            &source,
            store.as_ref(),
            &[&PROJECT],
            &settings,
            &mut no_feed,
        );
        let second = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let other = ocean_store::open(&name).await.unwrap();
            ocean_sync::sync(&source, other.as_ref(), &[&PROJECT], &settings, &mut NoFeed).await
        };
        tokio::select! {
            _ = first => panic!("{name}: the first run hangs by design"),
            second = second => {
                let error = second.expect_err("the second writer must not run");
                assert!(error.to_string().contains("busy"), "{name}: {error}");
            }
        }
    }
}
