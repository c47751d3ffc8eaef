//! # ocean-store
//!
//! The catalog: the items of every synced kind, stored as the exact bytes the API
//! served, plus the run state that keeps them true (bookmarks, checkpoints, run history).
//! One [`Store`] trait, two implementations: SQLite (embedded, the default) and
//! PostgreSQL (shared deployments). [`open`] picks one from a store spec.
#![warn(missing_docs)]

use async_trait::async_trait;
use futures::stream::BoxStream;

mod error;
mod migrate;
mod postgres;
mod spec;
mod sqlite;

pub use error::{Error, Result, Source};
pub use migrate::SUPPORTED as SCHEMA_VERSION;
pub use spec::redact;

/// Whose data: one provider at one tenant (its base URL). Data of two scopes never mix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// `"jira"`, `"octopus"`, …
    pub provider: String,
    /// The tenant's base URL, e.g. `https://example.atlassian.net`.
    pub tenant: String,
}

/// A run's identifier, increasing per store.
pub type RunId = i64;

/// One item to write: its id, its parent, its JSON bytes as served.
#[derive(Debug, Clone)]
pub struct ItemWrite {
    /// The item's id within its kind.
    pub id: String,
    /// The parent's output field and id (`("board_id", "12")`), as sync output carries it.
    pub parent: Option<(String, String)>,
    /// The item's JSON, byte for byte.
    pub json: String,
}

/// What writing one item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAction {
    /// Not stored before (or tombstoned): now live.
    Created,
    /// Stored with other content (content hash of JSON and parent differs).
    Updated,
    /// Stored with the same content; only its last-seen run moved.
    Unchanged,
}

/// What one [`Store::apply`] did, in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// One action per item written, in the order given.
    pub actions: Vec<ItemAction>,
    /// The ids actually tombstoned (ids given for deletion that were not live are absent).
    pub deleted: Vec<String>,
}

/// The run state of one kind in one scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindState {
    /// The change bookmark of the last successful run of this kind (epoch milliseconds,
    /// the client's clock at that run's start), `None` before the first.
    pub bookmark: Option<i64>,
    /// The checkpoint written with the last applied batch of an unfinished run, if any.
    pub checkpoint: Option<String>,
    /// Whether this kind already finished (successfully) in the current unfinished run.
    pub done_in_run: bool,
}

/// A run begun or resumed by [`Store::begin_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The run's id.
    pub id: RunId,
    /// `true` when an unfinished run of this scope was resumed rather than a new one begun.
    pub resumed: bool,
    /// When the run began (epoch milliseconds, client clock), kept across resumes.
    pub started_at: i64,
}

/// What a kind's part of a run achieved, kept in the run history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindResult {
    /// Items created.
    pub created: u64,
    /// Items updated.
    pub updated: u64,
    /// Items tombstoned.
    pub deleted: u64,
    /// Items seen unchanged.
    pub unchanged: u64,
    /// HTTP requests made.
    pub requests: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// `None` on success, else the error's message.
    pub error: Option<String>,
    /// The bookmark to keep when the kind succeeded.
    pub bookmark: Option<i64>,
}

/// What a deletion sweep did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sweep {
    /// These ids were tombstoned.
    Deleted(Vec<String>),
    /// Nothing was deleted: `would_delete` of `live` exceeds the allowed fraction.
    Refused {
        /// How many would have been tombstoned.
        would_delete: u64,
        /// How many live items the kind has.
        live: u64,
    },
}

/// One live item of the catalog, as `catalog export` prints it.
#[derive(Debug, Clone)]
pub struct CatalogItem {
    /// The provider.
    pub provider: String,
    /// The tenant (base URL) the item belongs to.
    pub tenant: String,
    /// The kind.
    pub kind: String,
    /// The item's id.
    pub id: String,
    /// The parent field and id, if any.
    pub parent: Option<(String, String)>,
    /// The item's JSON, byte for byte.
    pub json: String,
}

/// Counts of one kind in one scope, with its last run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindStats {
    /// The scope.
    pub scope: Scope,
    /// The kind.
    pub kind: String,
    /// Live items.
    pub live: u64,
    /// Tombstoned items.
    pub tombstoned: u64,
    /// The last finished run of this kind: its id, start (epoch ms) and result.
    pub last_run: Option<(RunId, i64, KindResult)>,
}

/// Which live items `export` yields.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only this provider.
    pub provider: Option<String>,
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
}

/// A webhook delivery recorded by [`Store::enqueue`], handed out by [`Store::dequeue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery's id in the queue (increasing in enqueue order).
    pub id: i64,
    /// The delivery's body, byte for byte as received.
    pub body: Vec<u8>,
    /// When it was enqueued (epoch milliseconds, client clock).
    pub enqueued_at: i64,
    /// How many times it has been handed out, this time included.
    pub attempts: u32,
}

/// Held while a scope is being written by one sync; dropping it releases the lock.
pub trait ScopeLock: Send {}

/// The catalog and its run state.
///
/// Every method that changes items or run state does so in one transaction: a crash
/// at any instant leaves either all of a call's effect or none of it.
#[async_trait]
pub trait Store: Send + Sync {
    /// A printable name of the store (a path or a URL without its password).
    fn describe(&self) -> String;

    /// Takes the exclusive writer lock of `scope`, or fails with [`Error::Busy`] at once
    /// when another process holds it. A crashed holder's lock is released by the OS
    /// (SQLite: file lock) or the server (PostgreSQL: session advisory lock).
    async fn lock(&self, scope: &Scope) -> Result<Box<dyn ScopeLock>>;

    /// Resumes the unfinished run of `scope`, or begins a new one at `now` (epoch ms).
    async fn begin_run(&self, scope: &Scope, now: i64) -> Result<RunInfo>;

    /// The run state of `kind` in `scope` (for the current unfinished run, if any).
    async fn kind_state(&self, scope: &Scope, kind: &str) -> Result<KindState>;

    /// In one transaction: upserts `items` (comparing content hashes; every item's
    /// last-seen run becomes `run`), tombstones `deletes`, and stores `checkpoint` as
    /// the kind's checkpoint (`None` leaves it as it was). `run` is `None` for
    /// changes that belong to no run (webhook deliveries): those leave last-seen runs as
    /// they were. Items are written before deletes, so an id in both ends tombstoned; an
    /// id repeated in `items` is compared with its earlier write in the same call.
    async fn apply(
        &self,
        scope: &Scope,
        run: Option<RunId>,
        kind: &str,
        items: &[ItemWrite],
        deletes: &[String],
        checkpoint: Option<&str>,
    ) -> Result<Applied>;

    /// Marks live items of `kind` with these ids as seen in `run` (an id-only census),
    /// and returns the ids the store does not hold live (to fetch), in the order given.
    async fn touch(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        ids: &[String],
    ) -> Result<Vec<String>>;

    /// Tombstones every live item of `kind` not seen in `run`, unless that is more than
    /// `max_fraction` of the kind's live items (then nothing changes).
    async fn sweep(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        max_fraction: f64,
    ) -> Result<Sweep>;

    /// Records the kind's result in the run history; on success (`result.error` is
    /// `None`) keeps `result.bookmark` (a `None` bookmark leaves the kept one as it was)
    /// and marks the kind done in the run. Clears the kind's checkpoint either way.
    /// Fails with [`Error::UnknownRun`] when `run` is not a run of `scope`.
    async fn finish_kind(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        result: &KindResult,
    ) -> Result<()>;

    /// Ends the run; the next [`Store::begin_run`] begins a new one. Fails with
    /// [`Error::UnknownRun`] when `run` is not a run of `scope`.
    async fn finish_run(&self, scope: &Scope, run: RunId) -> Result<()>;

    /// The live catalog, ordered by provider, kind and id (then tenant), streamed in
    /// batches (O(batch) memory).
    fn export(&self, filter: ExportFilter) -> BoxStream<'static, Result<CatalogItem>>;

    /// Counts per scope and kind, with each kind's last run.
    async fn stats(&self) -> Result<Vec<KindStats>>;

    /// Records a verified webhook delivery of `scope` durably (committed before this
    /// returns, so a receiver may acknowledge it) and returns its id.
    async fn enqueue(&self, scope: &Scope, body: &[u8], now: i64) -> Result<i64>;

    /// Claims up to `limit` deliveries of `scope`, oldest first, that no one holds: each
    /// is held for `claim_ms` from `now` (a crashed consumer's claim lapses then) and its
    /// attempt count goes up by one. Several consumers never get the same delivery while
    /// a claim holds.
    async fn dequeue(
        &self,
        scope: &Scope,
        limit: usize,
        now: i64,
        claim_ms: i64,
    ) -> Result<Vec<Delivery>>;

    /// Removes processed deliveries from the queue (ids not queued are ignored).
    async fn ack(&self, scope: &Scope, ids: &[i64]) -> Result<()>;

    /// How many deliveries of `scope` are queued (claimed or not).
    async fn queue_depth(&self, scope: &Scope) -> Result<u64>;

    /// Takes or renews the scheduling lease of `scope` for `holder` until `now + ttl_ms`:
    /// `true` when `holder` holds it now (it was free, expired, or already `holder`'s),
    /// `false` when another holder's lease has not expired.
    async fn acquire_lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool>;

    /// Gives the lease of `scope` up if `holder` holds it, so another may take it at once.
    async fn release_lease(&self, scope: &Scope, holder: &str) -> Result<()>;
}

/// Opens (creating if missing, migrating if older) the store named by `spec`: a file
/// path or `sqlite:PATH` for SQLite, `postgres://…` or `postgresql://…` for PostgreSQL.
///
/// Errors name the store (never its password): [`Error::InvalidSpec`], [`Error::Open`]
/// (unopenable path, refused connection), [`Error::Corrupt`], [`Error::SchemaTooNew`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> ocean_store::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let store = ocean_store::open(&format!("sqlite:{}", dir.path().join("c.db").display())).await?;
/// let scope = ocean_store::Scope { provider: "jira".into(), tenant: "https://x.example".into() };
/// let _lock = store.lock(&scope).await?;
/// let run = store.begin_run(&scope, 1_700_000_000_000).await?;
/// let item = ocean_store::ItemWrite { id: "1".into(), parent: None, json: r#"{"id":"1"}"#.into() };
/// let applied = store.apply(&scope, Some(run.id), "issue", &[item], &[], None).await?;
/// assert_eq!(applied.actions, [ocean_store::ItemAction::Created]);
/// # Ok(())
/// # }
/// ```
pub async fn open(spec: &str) -> Result<Box<dyn Store>> {
    match spec::Spec::parse(spec)? {
        spec::Spec::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(path).await?)),
        spec::Spec::Postgres { url, display } => postgres::PgStore::open(&url, display).await,
    }
}

/// How many items one export page holds.
pub(crate) const EXPORT_BATCH: usize = 1000;

/// The content hash stored with an item: SHA-256 over its parent and JSON, first 16 bytes.
pub(crate) fn content_hash(item: &ItemWrite) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    match &item.parent {
        Some((field, id)) => {
            h.update([1u8]);
            h.update((field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
            h.update((id.len() as u64).to_le_bytes());
            h.update(id.as_bytes());
        }
        None => h.update([0u8]),
    }
    h.update(item.json.as_bytes());
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// The stats of (provider, tenant, kind) in `out`, created empty if missing.
pub(crate) fn stats_slot(
    out: &mut std::collections::BTreeMap<(String, String, String), KindStats>,
    provider: String,
    tenant: String,
    kind: String,
) -> &mut KindStats {
    out.entry((provider.clone(), tenant.clone(), kind.clone()))
        .or_insert_with(|| KindStats {
            scope: Scope { provider, tenant },
            kind,
            live: 0,
            tombstoned: 0,
            last_run: None,
        })
}

/// A count as the databases store it.
pub(crate) fn to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored count back.
pub(crate) fn from_db(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Rejects a sweep fraction that is not a finite number ≥ 0.
pub(crate) fn check_fraction(store: &str, max_fraction: f64) -> Result<()> {
    if max_fraction.is_finite() && max_fraction >= 0.0 {
        Ok(())
    } else {
        Err(Error::Invalid {
            store: store.to_string(),
            reason: format!("max delete fraction must be a number >= 0, not {max_fraction}"),
        })
    }
}

/// Whether deleting `would_delete` of `live` items exceeds `max_fraction`.
pub(crate) fn exceeds(would_delete: u64, live: u64, max_fraction: f64) -> bool {
    would_delete as f64 > max_fraction * live as f64
}

/// Two strings: a (provider, kind) group or an (id, tenant) position within one.
pub(crate) type Pair = (String, String);

/// What an export reads from a backend: the (provider, kind) groups of the item key
/// order, and pages of live items within one group.
#[async_trait]
pub(crate) trait ExportSource: Send + Sync + 'static {
    /// The first (provider, kind) strictly after `after` (from the start when `None`).
    async fn next_group(&self, after: Option<(String, String)>)
    -> Result<Option<(String, String)>>;

    /// Up to [`EXPORT_BATCH`] live items of a group ordered by (id, tenant), strictly
    /// after `after`.
    async fn page(
        &self,
        provider: &str,
        kind: &str,
        after: Option<Pair>,
    ) -> Result<Vec<CatalogItem>>;
}

/// Streams the live items `filter` selects from `src`, ordered by provider, kind, id and
/// tenant: group by group, page by page (keyset pagination, so each page is an index
/// seek), holding at most one page.
pub(crate) fn export_stream(
    src: std::sync::Arc<dyn ExportSource>,
    filter: ExportFilter,
) -> BoxStream<'static, Result<CatalogItem>> {
    use futures::StreamExt;
    struct Pager {
        src: std::sync::Arc<dyn ExportSource>,
        filter: ExportFilter,
        /// The group being read and the last (id, tenant) yielded from it.
        group: Option<(Pair, Option<Pair>)>,
        /// The last group finished (or skipped).
        last: Option<Pair>,
        done: bool,
    }
    impl Pager {
        async fn next_page(&mut self) -> Result<Option<Vec<CatalogItem>>> {
            loop {
                if self.done {
                    return Ok(None);
                }
                let Some(((provider, kind), after)) = self.group.take() else {
                    let from = match (self.last.take(), &self.filter.provider) {
                        (None, Some(p)) => Some((p.clone(), String::new())),
                        (last, _) => last,
                    };
                    match self.src.next_group(from).await? {
                        None => self.done = true,
                        Some((p, _)) if self.filter.provider.as_ref().is_some_and(|f| *f != p) => {
                            self.done = true
                        }
                        Some(g)
                            if !self.filter.kinds.is_empty()
                                && !self.filter.kinds.contains(&g.1) =>
                        {
                            self.last = Some(g)
                        }
                        Some(g) => self.group = Some((g, None)),
                    }
                    continue;
                };
                let items = self.src.page(&provider, &kind, after).await?;
                if items.len() < EXPORT_BATCH {
                    self.last = Some((provider, kind));
                } else if let Some(l) = items.last() {
                    let after = Some((l.id.clone(), l.tenant.clone()));
                    self.group = Some(((provider, kind), after));
                }
                if !items.is_empty() {
                    return Ok(Some(items));
                }
            }
        }
    }
    let pager = Pager {
        src,
        filter,
        group: None,
        last: None,
        done: false,
    };
    futures::stream::unfold(pager, |mut p| async move {
        match p.next_page().await {
            Ok(Some(items)) => Some((items.into_iter().map(Ok).collect::<Vec<_>>(), p)),
            Ok(None) => None,
            Err(e) => {
                p.done = true;
                Some((vec![Err(e)], p))
            }
        }
    })
    .flat_map(futures::stream::iter)
    .boxed()
}
