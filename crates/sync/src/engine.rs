//! One run of the engine over one scope: plan each kind, stream it into the store in
//! checkpointed batches, sweep what the source no longer has, report.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use futures::stream::BoxStream;
use ocean_core::{ItemChange, KindInfo, Provider, Record, raw_field};
use ocean_store::{Applied, ItemAction, ItemWrite, KindResult, RunId, Scope, Store, Sweep};

use crate::feed::{Feed, FeedLine};

/// How a run treats its kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Full stream and sweep for every kind, whatever its bookmark.
    pub full: bool,
    /// A sweep that would tombstone more than this fraction of a kind's live items
    /// tombstones nothing (default 0.5).
    pub max_delete_fraction: f64,
    /// Items per transaction at most (default 2000). Fewer, larger transactions write
    /// less: each also rewrites the pages of the store's key index it touches, and a
    /// full sync meets keys in no particular order.
    pub batch_size: usize,
    /// JSON bytes per transaction at most (default 8 MiB): what bounds a batch's memory
    /// where items are large (two batches are held at once, one read while one is
    /// written).
    pub batch_bytes: usize,
    /// How long a full stream's batch is read at most before it is written (default
    /// 1 s): a slow source still commits its items, and its checkpoint, every second.
    pub batch_time: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            full: false,
            max_delete_fraction: 0.5,
            batch_size: 2000,
            batch_bytes: 8 << 20,
            batch_time: Duration::from_secs(1),
        }
    }
}

impl Settings {
    /// Whether a transaction of `items` writes (items and deletions) and `bytes` of JSON
    /// has reached the batch limits.
    fn batch_full(&self, items: usize, bytes: usize) -> bool {
        items >= self.batch_size.max(1) || bytes >= self.batch_bytes
    }
}

/// What a kind's run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything listed, then swept.
    Full,
    /// Changes since the bookmark (and a census where the kind has one).
    Incremental,
    /// Finished earlier in the resumed run: nothing done now.
    AlreadyDone,
}

/// One kind's part of a run.
#[derive(Debug, Clone)]
pub struct KindReport {
    /// The kind.
    pub kind: &'static str,
    /// How it was synced.
    pub mode: Mode,
    /// Items created.
    pub created: u64,
    /// Items whose content changed.
    pub updated: u64,
    /// Items tombstoned.
    pub deleted: u64,
    /// Items seen unchanged.
    pub unchanged: u64,
    /// HTTP requests made for this kind.
    pub requests: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// `Some((would_delete, live))` when the sweep was refused by the threshold.
    pub threshold: Option<(u64, u64)>,
    /// The kind was read in full but its read is incomplete by design (the provider caps
    /// it), so nothing of it was swept.
    pub capped: bool,
    /// The error that ended the kind, if it failed (its items were left untouched).
    pub error: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The run's id in the store.
    pub run: RunId,
    /// Whether an interrupted run was resumed.
    pub resumed: bool,
    /// One report per kind, in the order synced.
    pub kinds: Vec<KindReport>,
}

impl RunReport {
    /// The kinds that failed.
    pub fn failed(&self) -> impl Iterator<Item = &KindReport> {
        self.kinds.iter().filter(|k| k.error.is_some())
    }
}

/// What stops a whole run (a kind's own failure does not: see [`KindReport::error`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ocean_store::Error),
    /// The change feed could not be written.
    #[error("writing the change feed: {0}")]
    Feed(#[from] std::io::Error),
}

/// A kind's failure: the source's (the kind fails, the run goes on) or the run's.
enum KindError {
    Source(String),
    Run(Error),
}

impl From<ocean_store::Error> for KindError {
    fn from(e: ocean_store::Error) -> Self {
        Self::Run(e.into())
    }
}

impl From<std::io::Error> for KindError {
    fn from(e: std::io::Error) -> Self {
        Self::Run(e.into())
    }
}

impl From<ocean_core::Error> for KindError {
    fn from(e: ocean_core::Error) -> Self {
        Self::Source(e.to_string())
    }
}

/// Syncs `kinds` of `provider` into `store`, one kind after another, sending every
/// actual change to `feed`.
///
/// Fails only when the store or the feed fails; a kind whose source fails is reported
/// in its [`KindReport::error`] and the run goes on.
pub async fn sync(
    provider: &dyn Provider,
    store: &dyn Store,
    kinds: &[&'static KindInfo],
    settings: &Settings,
    feed: &mut dyn Feed,
) -> Result<RunReport, Error> {
    let scope = Scope {
        provider: provider.name().to_owned(),
        tenant: provider.tenant(),
    };
    let lock = store.lock(&scope).await?;
    let report = sync_scope(provider, store, &scope, kinds, settings, feed).await;
    lock.release().await;
    report
}

/// [`sync`] with the scope's lock held.
async fn sync_scope(
    provider: &dyn Provider,
    store: &dyn Store,
    scope: &Scope,
    kinds: &[&'static KindInfo],
    settings: &Settings,
    feed: &mut dyn Feed,
) -> Result<RunReport, Error> {
    let run = store.begin_run(scope, now_millis()).await?;
    let mut reports = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let mut job = KindJob {
            provider,
            store,
            scope,
            run: run.id,
            kind,
            settings,
            feed: &mut *feed,
            report: KindReport {
                kind: kind.name,
                mode: Mode::Full,
                created: 0,
                updated: 0,
                deleted: 0,
                unchanged: 0,
                requests: 0,
                elapsed: Duration::ZERO,
                threshold: None,
                capped: false,
                error: None,
            },
        };
        let before = provider.client().stats();
        let started = Instant::now();
        let outcome = job.run().await;
        let mut report = job.report;
        report.requests = (provider.client().stats() - before).requests;
        report.elapsed = started.elapsed();
        match outcome {
            Ok(()) => {}
            Err(KindError::Run(e)) => return Err(e),
            Err(KindError::Source(message)) => report.error = Some(message),
        }
        if report.mode != Mode::AlreadyDone {
            let result = KindResult {
                created: report.created,
                updated: report.updated,
                deleted: report.deleted,
                unchanged: report.unchanged,
                requests: report.requests,
                elapsed_ms: u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
                error: report.error.clone(),
                bookmark: Some(run.started_at),
            };
            store.finish_kind(scope, run.id, kind.name, &result).await?;
        }
        reports.push(report);
    }
    store.finish_run(scope, run.id).await?;
    Ok(RunReport {
        run: run.id,
        resumed: run.resumed,
        kinds: reports,
    })
}

/// One kind's part of a run.
struct KindJob<'a> {
    provider: &'a dyn Provider,
    store: &'a dyn Store,
    scope: &'a Scope,
    run: RunId,
    kind: &'static KindInfo,
    settings: &'a Settings,
    feed: &'a mut dyn Feed,
    report: KindReport,
}

impl KindJob<'_> {
    async fn run(&mut self) -> Result<(), KindError> {
        let state = self.store.kind_state(self.scope, self.kind.name).await?;
        if state.done_in_run {
            self.report.mode = Mode::AlreadyDone;
            return Ok(());
        }
        let incremental = match state.bookmark {
            Some(bookmark) if !self.settings.full && self.kind.incremental => {
                self.provider.changes_since(self.kind.name, bookmark)
            }
            _ => None,
        };
        match incremental {
            Some(changes) => {
                self.report.mode = Mode::Incremental;
                let census = if self.kind.census {
                    self.provider.census(self.kind.name)
                } else {
                    None
                };
                match census {
                    Some(ids) => {
                        // Both mostly wait on the server: the census is read and marked
                        // while the changes are applied.
                        let (store, scope, run, kind) =
                            (self.store, self.scope, self.run, self.kind.name);
                        let (applied, touched) = futures::join!(
                            self.apply_changes(changes),
                            touch_census(store, scope, run, kind, ids)
                        );
                        applied?;
                        // Items the changes wrote after the census met them were not
                        // in the store yet: only what is still unknown is missing.
                        let mut missing = touched?;
                        if !missing.is_empty() {
                            missing = store.touch(scope, run, kind, &missing).await?;
                        }
                        self.fetch_missing(missing).await?;
                        self.sweep().await?;
                    }
                    None => self.apply_changes(changes).await?,
                }
            }
            None => {
                self.report.mode = Mode::Full;
                let records = self
                    .provider
                    .full(self.kind.name, state.checkpoint.as_deref());
                self.apply_records(records).await?;
                if !self.provider.complete(self.kind.name) {
                    self.report.capped = true;
                } else if !state.no_live_items {
                    // (With nothing live before the stream, e.g. a first load, every live
                    // item now is one the run or a concurrent webhook wrote: nothing to sweep.)
                    self.sweep().await?;
                }
            }
        }
        Ok(())
    }

    /// Writes a full stream in batches, each with the checkpoint after its last item.
    /// While one batch is written the next is read (double buffering): the source and the
    /// store work at the same time.
    async fn apply_records(
        &mut self,
        mut records: BoxStream<'static, ocean_core::Result<Record>>,
    ) -> Result<(), KindError> {
        let (provider, kind, settings) = (self.provider, self.kind, self.settings);
        let mut batch = Batch::new(settings);
        let mut ended = batch.fill(&mut records, provider, kind).await?;
        loop {
            if batch.items.is_empty() {
                return Ok(());
            }
            let checkpoint = batch.checkpoint.take();
            let items = std::mem::take(&mut batch.items);
            if ended {
                return self.write(items, &[], checkpoint.as_deref()).await;
            }
            let mut next = Batch::new(settings);
            let (written, read) = futures::join!(
                self.write(items, &[], checkpoint.as_deref()),
                next.fill(&mut records, provider, kind)
            );
            // A failed read fails the kind after the batch before it is written, as
            // without the overlap; the partial batch it was filling is not written.
            written?;
            ended = read?;
            batch = next;
        }
    }

    /// Writes changes and deletions in batches.
    async fn apply_changes(
        &mut self,
        mut changes: BoxStream<'static, ocean_core::Result<ItemChange>>,
    ) -> Result<(), KindError> {
        let mut items = Vec::new();
        let mut deletes = Vec::new();
        let mut bytes = 0;
        loop {
            let next = changes.try_next().await?;
            let end = next.is_none();
            match next {
                Some(ItemChange::Upsert(record)) => {
                    bytes += record.item.get().len();
                    items.push(self.item(record)?);
                }
                Some(ItemChange::Delete(id)) => deletes.push(id),
                None => {}
            }
            let full = self.settings.batch_full(items.len() + deletes.len(), bytes);
            if full || (end && !(items.is_empty() && deletes.is_empty())) {
                self.write(std::mem::take(&mut items), &deletes, None)
                    .await?;
                deletes.clear();
                bytes = 0;
            }
            if end {
                return Ok(());
            }
        }
    }

    /// Fetches and writes the items of the census the catalog lacks.
    async fn fetch_missing(&mut self, missing: Vec<String>) -> Result<(), KindError> {
        // Items in scope the catalog lacks (the JQL changed, or a change was missed):
        // fetched one by one, as there are few.
        let mut batch = Vec::new();
        for id in missing {
            if let Some(record) = self.provider.fetch_one(self.kind.name, &id).await? {
                batch.push(self.item(record)?);
            }
        }
        if !batch.is_empty() {
            self.write(batch, &[], None).await?;
        }
        Ok(())
    }

    /// Tombstones what the run did not see, within the threshold.
    async fn sweep(&mut self) -> Result<(), KindError> {
        let swept = self
            .store
            .sweep(
                self.scope,
                self.run,
                self.kind.name,
                self.settings.max_delete_fraction,
            )
            .await?;
        match swept {
            Sweep::Deleted(ids) => {
                self.report.deleted += ids.len() as u64;
                for id in &ids {
                    self.feed.change(FeedLine::Delete {
                        kind: self.kind.name,
                        id,
                    })?;
                }
            }
            Sweep::Refused { would_delete, live } => {
                self.report.threshold = Some((would_delete, live));
            }
        }
        Ok(())
    }

    /// One transaction: items, deletions, checkpoint; then the feed and the counts.
    async fn write(
        &mut self,
        items: Vec<ItemWrite>,
        deletes: &[String],
        checkpoint: Option<&str>,
    ) -> Result<(), KindError> {
        // Shared with the store, not copied: a batch is megabytes of JSON.
        let items: Arc<[ItemWrite]> = items.into();
        let Applied { actions, deleted } = self
            .store
            .apply_shared(
                self.scope,
                Some(self.run),
                self.kind.name,
                Arc::clone(&items),
                deletes,
                checkpoint,
            )
            .await?;
        for (item, action) in items.iter().zip(actions) {
            match action {
                ItemAction::Created => self.report.created += 1,
                ItemAction::Updated => self.report.updated += 1,
                ItemAction::Unchanged => {
                    self.report.unchanged += 1;
                    continue;
                }
            }
            self.feed.change(FeedLine::Upsert {
                kind: self.kind.name,
                id: &item.id,
                parent: item.parent.as_ref().map(|(f, p)| (f.as_str(), p.as_str())),
                json: &item.json,
            })?;
        }
        self.report.deleted += deleted.len() as u64;
        for id in &deleted {
            self.feed.change(FeedLine::Delete {
                kind: self.kind.name,
                id,
            })?;
        }
        Ok(())
    }

    /// The record as the store keeps it; an item without its id field fails the kind.
    fn item(&self, record: Record) -> Result<ItemWrite, KindError> {
        item_write(self.kind, record)
    }
}

/// The record as the store keeps it (its JSON moved, not copied); an item without its id
/// field fails the kind.
fn item_write(kind: &KindInfo, record: Record) -> Result<ItemWrite, KindError> {
    let field = kind.id_field;
    let id = match raw_field(&record.item, field) {
        Ok(Some(id)) => id,
        Ok(None) => {
            return Err(KindError::Source(format!(
                "a {} item has no `{field}`: {}",
                kind.name,
                snippet(record.item.get())
            )));
        }
        Err(e) => {
            return Err(KindError::Source(format!(
                "a {} item's `{field}`: {e}",
                kind.name
            )));
        }
    };
    Ok(ItemWrite {
        id,
        parent: record.parent.map(|p| (p.field.to_owned(), p.id)),
        json: Box::<str>::from(record.item).into(),
    })
}

/// One transaction's worth of a full stream, and the checkpoint after its last item.
struct Batch<'a> {
    items: Vec<ItemWrite>,
    checkpoint: Option<String>,
    /// The JSON bytes of `items`.
    bytes: usize,
    settings: &'a Settings,
}

impl<'a> Batch<'a> {
    fn new(settings: &'a Settings) -> Self {
        Self {
            items: Vec::new(),
            checkpoint: None,
            bytes: 0,
            settings,
        }
    }

    /// Whether the batch, with `pending` more items, is full.
    fn full(&self, pending: &Option<Record>) -> bool {
        let (items, bytes) = match pending {
            Some(record) => (self.items.len() + 1, self.bytes + record.item.get().len()),
            None => (self.items.len(), self.bytes),
        };
        self.settings.batch_full(items, bytes)
    }

    fn push(&mut self, kind: &KindInfo, record: Record) -> Result<(), KindError> {
        self.bytes += record.item.get().len();
        self.items.push(item_write(kind, record)?);
        Ok(())
    }

    /// Reads records until the batch is full, its time is up, or the stream ends; true
    /// when it ended (the stream is then not polled again).
    async fn fill(
        &mut self,
        records: &mut BoxStream<'static, ocean_core::Result<Record>>,
        provider: &dyn Provider,
        kind: &KindInfo,
    ) -> Result<bool, KindError> {
        // Each record is kept until the next arrives: the last one's checkpoint is read
        // before its JSON moves into the batch.
        let mut last = None;
        let mut ended = false;
        let deadline = tokio::time::Instant::now() + self.settings.batch_time;
        while !self.full(&last) {
            let next = if last.is_none() {
                records.try_next().await?
            } else {
                // Past the deadline, what was read is written; the stream is polled again
                // for the next batch (a stream's next item is safe to stop waiting for).
                match tokio::time::timeout_at(deadline, records.try_next()).await {
                    Ok(next) => next?,
                    Err(_) => break,
                }
            };
            let Some(record) = next else {
                ended = true;
                break;
            };
            if let Some(before) = last.replace(record) {
                self.push(kind, before)?;
            }
        }
        if let Some(record) = last {
            self.checkpoint = provider.checkpoint(kind.name, &record);
            self.push(kind, record)?;
        }
        Ok(ended)
    }
}

/// Marks every id of `ids` seen, a chunk at a time, the next chunk read while one is
/// marked; returns the ids the store does not hold live.
async fn touch_census(
    store: &dyn Store,
    scope: &Scope,
    run: RunId,
    kind: &str,
    ids: BoxStream<'static, ocean_core::Result<String>>,
) -> Result<Vec<String>, KindError> {
    let mut chunks = ids.try_chunks(CENSUS_BATCH).map_err(|e| e.1);
    let mut missing = Vec::new();
    let mut next = chunks.try_next().await?;
    while let Some(chunk) = next {
        let (touched, read) =
            futures::join!(store.touch(scope, run, kind, &chunk), chunks.try_next());
        missing.extend(touched?);
        next = read?;
    }
    Ok(missing)
}

/// Ids per census transaction.
const CENSUS_BATCH: usize = 5000;

/// The start of a JSON text, for an error message.
fn snippet(json: &str) -> &str {
    let mut end = json.len().min(200);
    while !json.is_char_boundary(end) {
        end -= 1;
    }
    &json[..end]
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
