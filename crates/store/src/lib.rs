//! # ocean-store
//!
//! The catalog: the items of every synced kind, stored as the exact bytes the API
//! served, plus the run state that keeps them true (bookmarks, checkpoints, run history).
//! One [`Store`] trait, two implementations: SQLite (embedded, the default) and
//! PostgreSQL (shared deployments). [`open`] picks one from a store spec.
#![warn(missing_docs)]

use async_trait::async_trait;
use futures::stream::BoxStream;

mod body;
mod common;
mod error;
mod export;
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
    /// The scope holds no live item of this kind. A full stream's sweep then has nothing
    /// to look at: every live item after it is one the run wrote, or a webhook wrote while
    /// it ran (counted as seen by the run). `false`, the default, always lets it sweep.
    pub no_live_items: bool,
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

/// Held while a scope is being written by one sync. Dropping it releases the lock (a
/// crashed holder's lock is released by the operating system or the server);
/// [`release`](ScopeLock::release) releases it before it returns, so the next writer of the
/// scope never finds it still held.
pub trait ScopeLock: Send {
    /// Releases the lock now.
    fn release(self: Box<Self>) -> futures::future::BoxFuture<'static, ()> {
        drop(self);
        Box::pin(async {})
    }
}

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
    /// changes that belong to no run (webhook deliveries): their items count as seen by
    /// the scope's unfinished run if there is one (so its sweep cannot delete what a
    /// webhook wrote after the run listed the kind), otherwise their last-seen runs stay
    /// as they were. Items are written before deletes, so an id in both ends tombstoned; an
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

    /// [`apply`](Self::apply) of items the caller shares instead of lends: a store that
    /// writes on another thread (SQLite) takes them as they are, where `apply` copies
    /// them first. The sync engine writes its batches through this.
    async fn apply_shared(
        &self,
        scope: &Scope,
        run: Option<RunId>,
        kind: &str,
        items: std::sync::Arc<[ItemWrite]>,
        deletes: &[String],
        checkpoint: Option<&str>,
    ) -> Result<Applied> {
        self.apply(scope, run, kind, &items, deletes, checkpoint)
            .await
    }

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

/// Opens the store named by `spec` for reading it: as [`open`] does, except that a
/// SQLite file that does not exist is an [`Error::Open`] rather than a new, empty store
/// (a mistyped path would print an empty catalog and leave a stray file behind).
pub async fn open_existing(spec: &str) -> Result<Box<dyn Store>> {
    if let spec::Spec::Sqlite(path) = spec::Spec::parse(spec)? {
        if let Err(e) = std::fs::metadata(&path) {
            if e.kind() == std::io::ErrorKind::NotFound {
                return Err(Error::Open {
                    store: path.display().to_string(),
                    source: "no such file (`ocean sync … --store` creates a store)".into(),
                });
            }
        }
    }
    open(spec).await
}
