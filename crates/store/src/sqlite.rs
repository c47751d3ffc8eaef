//! The SQLite store: one file (WAL mode, `synchronous=NORMAL`), one connection used on
//! tokio's blocking pool, one `BEGIN IMMEDIATE` transaction per call. Scope locks are
//! `flock`s on `<file>.lock-<scope hash>` beside the database, released by the OS when
//! the holder dies. WAL checkpoints run on a thread of their own ([`checkpointer`]).

mod bodies;
mod checkpointer;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use rusqlite::types::{ToSqlOutput, Type, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::body::{self, BodyError, Compressor, Dict, Dicts};
use crate::common::{Compared, compare, content_hash, from_db, to_db};
use crate::{
    Applied, CatalogItem, Delivery, Error, ExportFilter, ItemAction, ItemWrite, KindResult,
    KindState, KindStats, Result, RunId, RunInfo, Scope, ScopeLock, Store, Sweep, migrate,
};
use bodies::{Bodies, Helper};

/// How long a write waits for another process's write transaction on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A SQLite catalog.
pub(crate) struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The database file, canonical: the base of the scope lock files.
    path: PathBuf,
    display: String,
    conn: Mutex<Connection>,
    /// Copies the log into the database off the writer's thread.
    checkpointer: checkpointer::Checkpointer,
    /// Compresses a load's bodies ahead of the writer.
    helper: Helper,
}

/// Maps a SQLite error on `store` during `op` to a typed error.
fn db_err(store: &str, op: &'static str, e: rusqlite::Error) -> Error {
    let store = store.to_string();
    if let rusqlite::Error::FromSqlConversionFailure(_, _, source) = &e
        && source.is::<BodyError>()
    {
        return Error::Corrupt {
            store,
            source: Box::new(e),
        };
    }
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            store,
            source: Box::new(e),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            Error::Open {
                store,
                source: Box::new(e),
            }
        }
        _ => Error::Backend {
            store,
            op,
            source: Box::new(e),
        },
    }
}

impl SqliteStore {
    /// Opens or creates the database at `path` and migrates it.
    pub(crate) async fn open(path: PathBuf) -> Result<SqliteStore> {
        let display = path.display().to_string();
        let d = display.clone();
        let conn = tokio::task::spawn_blocking(move || {
            let conn = open_conn(&path, &d)?;
            let checkpoints = checkpointer::connection(&path)
                .map_err(|e| db_err(&d, "open the checkpointer", e))
                .and_then(|c| {
                    checkpointer::Checkpointer::start(c).map_err(|e| Error::Backend {
                        store: d.clone(),
                        op: "start the checkpointer",
                        source: Box::new(e),
                    })
                })?;
            let helper = Helper::start().map_err(|e| Error::Backend {
                store: d.clone(),
                op: "start the compressing thread",
                source: Box::new(e),
            })?;
            // Lock files sit beside the real file, whichever path or link named it.
            Ok((
                conn,
                checkpoints,
                helper,
                std::fs::canonicalize(&path).unwrap_or(path),
            ))
        })
        .await
        .map_err(|e| Error::Backend {
            store: display.clone(),
            op: "open",
            source: Box::new(e),
        })?;
        let (conn, checkpointer, helper, path) = conn?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                display,
                conn: Mutex::new(conn),
                checkpointer,
                helper,
            }),
        })
    }

    /// Runs `f` on the connection on the blocking pool.
    async fn run<T, F>(&self, op: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &str) -> Result<T> + Send + 'static,
    {
        run(&self.inner, op, f).await
    }
}

async fn run<T, F>(inner: &Arc<Inner>, op: &'static str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection, &str) -> Result<T> + Send + 'static,
{
    let inner2 = Arc::clone(inner);
    tokio::task::spawn_blocking(move || {
        let mut conn = inner2.conn.lock().unwrap_or_else(|p| p.into_inner());
        let done = f(&mut conn, &inner2.display);
        // After reads too: a checkpoint with nothing to copy costs nothing.
        inner2.checkpointer.committed();
        done
    })
    .await
    .map_err(|e| Error::Backend {
        store: inner.display.clone(),
        op,
        source: Box::new(e),
    })?
}

fn open_conn(path: &Path, store: &str) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::Open {
        store: store.to_string(),
        source: Box::new(e),
    })?;
    let e = |op| move |err| db_err(store, op, err);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(e("configure"))?;
    // SQLite's largest page: fewer pages to write, no overflow pages for large items; a
    // full sync of 100k Jira issues took 2.36 s against 2.43 s with 16 KiB pages (median
    // of 6 alternating runs). Only takes effect while the file is still empty (before
    // WAL mode is set): older files keep theirs.
    conn.execute_batch("PRAGMA page_size = 65536")
        .map_err(e("configure"))?;
    // The first statement that reads the file: a non-database fails here.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(e("set WAL mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Open {
            store: store.to_string(),
            source: format!("cannot use WAL journal mode (got {mode})").into(),
        });
    }
    // A 4 MiB page cache: what a run reads back is the key index and the narrow item rows
    // (6.4 and 8 MiB at 100k Jira issues, in 64 KiB pages), and since writes and the
    // census walk the index in key order a batch at a time, a small cache holds what they
    // need: a load of 100k issues and an incremental run with no change take as long as
    // with 6 MiB (medians 1.95 and 1.95 s, 0.58 and 0.56 s, alternating), 1M Octopus items
    // too. The store's peak RSS then grows 12% from 10k to 1M items against 20% with 6 MiB
    // (a small load fills less of the cache).
    // Checkpoints are the checkpointer's: this connection's own, at 4096 pages of log
    // (256 MiB), only bound the log should that thread fall behind.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4096;
         PRAGMA wal_autocheckpoint = 4096;",
    )
    .map_err(e("configure"))?;
    conn.set_prepared_statement_cache_capacity(32);
    migrate_conn(&conn, store)?;
    Ok(conn)
}

fn migrate_conn(conn: &Connection, store: &str) -> Result<()> {
    let e = |op| move |err| db_err(store, op, err);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(e("read schema"))?;
    migrate::check(store, version)?;
    for (i, sql) in migrate::SQLITE.iter().enumerate() {
        let target = i as i64 + 1;
        if version >= target {
            continue;
        }
        // Re-read under the write lock: another process may have migrated meanwhile.
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(e("migrate"))?;
        let step = (|| {
            let now: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if now < target {
                conn.execute_batch(sql)?;
                conn.pragma_update(None, "user_version", target)?;
            }
            conn.execute_batch("COMMIT")
        })();
        if let Err(err) = step {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(db_err(store, "migrate", err));
        }
    }
    Ok(())
}

/// An item's JSON from column `idx` of `row`: TEXT as it is (every body before
/// compression, and those it does not shrink), a BLOB decompressed (see [`body`]) with
/// `dicts`, those of the item's kind.
fn read_body(row: &rusqlite::Row<'_>, idx: usize, dicts: &Dicts) -> rusqlite::Result<String> {
    let failed = |ty, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(idx, ty, e)
    };
    match row.get_ref(idx)? {
        ValueRef::Text(t) => {
            String::from_utf8(t.to_vec()).map_err(|e| failed(Type::Text, e.into()))
        }
        ValueRef::Blob(b) => body::decode(b, dicts).map_err(|e| failed(Type::Blob, e.into())),
        other => Err(rusqlite::Error::InvalidColumnType(
            idx,
            "json".into(),
            other.data_type(),
        )),
    }
}

/// A `body_dicts` row: its id and its bytes.
fn dict_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Vec<u8>)> {
    Ok((row.get(0)?, row.get(1)?))
}

/// The compression dictionaries of `kind` ([`body::Dict`]), by id.
fn kind_dicts(conn: &Connection, provider: &str, kind: &str) -> rusqlite::Result<Dicts> {
    conn.prepare_cached("SELECT id, dict FROM body_dicts WHERE provider = ?1 AND kind = ?2")?
        .query_map(params![provider, kind], dict_row)?
        // An id past u32 was never written into a body.
        .filter_map(|row| {
            row.map(|(id, dict)| u32::try_from(id).ok().map(|id| (id, dict)))
                .transpose()
        })
        .collect()
}

/// The dictionary `kind`'s bodies are compressed against: the one stored, or else one made
/// of the first of `items` long enough, stored now, in the transaction that writes the
/// bodies compressed against it. Dictionaries are per provider and kind: tenants share
/// them (their items have the same shape).
fn kind_dict(
    tx: &Connection,
    provider: &str,
    kind: &str,
    items: &[ItemWrite],
) -> rusqlite::Result<Option<Dict>> {
    if items.is_empty() {
        return Ok(None);
    }
    let stored = tx
        .prepare_cached(
            "SELECT id, dict FROM body_dicts WHERE provider = ?1 AND kind = ?2
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![provider, kind], dict_row)
        .optional()?;
    let (id, bytes) = match stored {
        Some(stored) => stored,
        None => {
            let Some(bytes) = items.iter().find_map(|i| body::dictionary_of(&i.json)) else {
                return Ok(None);
            };
            tx.prepare_cached("INSERT INTO body_dicts (provider, kind, dict) VALUES (?1, ?2, ?3)")?
                .execute(params![provider, kind, bytes])?;
            (tx.last_insert_rowid(), bytes.to_vec())
        }
    };
    Ok(u32::try_from(id).ok().map(|id| Dict { id, bytes }))
}

/// The stored value of `item`'s JSON: `compressed` ([`Compressor::encode`]) if it is some.
fn stored_json<'a>(item: &'a ItemWrite, compressed: &'a Option<Vec<u8>>) -> ToSqlOutput<'a> {
    ToSqlOutput::Borrowed(match compressed {
        Some(b) => ValueRef::Blob(b),
        None => ValueRef::Text(item.json.as_bytes()),
    })
}

/// The unfinished run of a scope, if any: its id and start.
fn current_run(conn: &Connection, scope: &Scope) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.prepare_cached(
        "SELECT id, started_at FROM runs WHERE provider = ?1 AND tenant = ?2 AND finished = 0
         ORDER BY id DESC LIMIT 1",
    )?
    .query_row(params![scope.provider, scope.tenant], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

fn check_run(conn: &Connection, store: &str, scope: &Scope, run: RunId) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM runs WHERE id = ?1 AND provider = ?2 AND tenant = ?3")
        .and_then(|mut s| s.exists(params![run, scope.provider, scope.tenant]))
        .map_err(|e| db_err(store, "find run", e))?;
    if found {
        Ok(())
    } else {
        Err(Error::UnknownRun {
            store: store.to_string(),
            run,
            provider: scope.provider.clone(),
            tenant: scope.tenant.clone(),
        })
    }
}

/// Holds the scope's lock file locked; closing it releases the lock.
struct FileLock {
    _file: File,
}

impl ScopeLock for FileLock {}

/// The lock file of `scope` beside the database at `path`.
fn lock_path(path: &Path, scope: &Scope) -> PathBuf {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(scope.provider.as_bytes());
    h.update([0u8]);
    h.update(scope.tenant.as_bytes());
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".lock-{hex}"));
    PathBuf::from(name)
}

/// Export pages read on the blocking pool.
struct SqliteExport(Arc<Inner>);

#[async_trait]
impl crate::export::ExportSource for SqliteExport {
    async fn next_group(
        &self,
        after: Option<(String, String)>,
    ) -> Result<Option<(String, String)>> {
        run(&self.0, "export", move |conn, store| {
            let (p, k) = after.unwrap_or_default();
            // Strictly after (p, k); the empty pair sorts before every group.
            conn.prepare_cached(
                "SELECT provider, kind FROM items WHERE (provider, kind) > (?1, ?2)
                 ORDER BY provider, kind LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![p, k], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| db_err(store, "export", e))
        })
        .await
    }

    async fn page(
        &self,
        provider: &str,
        kind: &str,
        after: Option<(String, String)>,
    ) -> Result<Vec<CatalogItem>> {
        let (provider, kind) = (provider.to_string(), kind.to_string());
        run(&self.0, "export", move |conn, store| {
            let (id, tenant) = after.unwrap_or_default();
            let mut go = || -> rusqlite::Result<Vec<CatalogItem>> {
                // One snapshot for the dictionaries and the bodies: another process's
                // first load may commit both between two statements.
                let tx = conn.transaction()?;
                let dicts = kind_dicts(&tx, &provider, &kind)?;
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT i.id, i.tenant, i.parent_field, i.parent_id, j.json
                     FROM items i JOIN item_json j ON j.item = i.item
                     WHERE i.provider = ?1 AND i.kind = ?2 AND (i.id, i.tenant) > (?3, ?4)
                       AND i.tombstone = 0
                     ORDER BY i.id, i.tenant LIMIT {}",
                    crate::export::EXPORT_BATCH
                ))?;
                let rows = stmt.query_map(params![provider, kind, id, tenant], |r| {
                    let parent = match (
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ) {
                        (Some(f), Some(i)) => Some((f, i)),
                        _ => None,
                    };
                    Ok(CatalogItem {
                        provider: provider.clone(),
                        kind: kind.clone(),
                        id: r.get(0)?,
                        tenant: r.get(1)?,
                        parent,
                        json: read_body(r, 4, &dicts)?,
                    })
                })?;
                let page = rows.collect();
                drop(stmt);
                tx.commit()?;
                page
            };
            go().map_err(|e| db_err(store, "export", e))
        })
        .await
    }
}

/// What one [`Store::apply`] writes, owned for the blocking pool.
struct Write {
    scope: Scope,
    run: Option<RunId>,
    kind: String,
    items: Arc<[ItemWrite]>,
    deletes: Vec<String>,
    checkpoint: Option<String>,
}

/// The positions of `items` in key order, equal ids in the order given. The writes of a
/// batch and the marks of a census go in this order: the key index is then walked
/// forward, each page once, instead of all over and back from the OS (a no-change
/// incremental run of 100k issues: 0.59–0.73 → 0.40–0.46 s, system time 0.20–0.34 →
/// 0.07–0.10 s; and a 4 MiB page cache serves a load as fast as 6 MiB did).
fn key_order<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| id(&items[a]).cmp(id(&items[b])));
    order
}

/// One [`Store::apply`]: its items, deletions and checkpoint in one transaction; a load's
/// bodies compressed by `helper`.
fn apply_tx(conn: &mut Connection, helper: &Helper, write: &Write) -> rusqlite::Result<Applied> {
    let Write {
        scope,
        run,
        kind,
        items,
        deletes,
        checkpoint,
    } = write;
    let (run, kind, checkpoint) = (*run, kind.as_str(), checkpoint.as_deref());
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // A write outside any run (a webhook) counts as seen by the run under way, if any:
    // that run's listing may have passed before the item existed, and its sweep must not
    // delete what the webhook just wrote.
    let seen_in = match run {
        Some(run) => Some(run),
        None if items.is_empty() => None,
        None => current_run(&tx, scope)?.map(|(id, _)| id),
    };
    let mut applied = Applied {
        // One slot per item, each written below in key order.
        actions: vec![ItemAction::Unchanged; items.len()],
        deleted: Vec::new(),
    };
    {
        let (p, t) = (&scope.provider, &scope.tenant);
        let mut find = tx.prepare_cached(
            "SELECT item, hash, tombstone FROM items
             WHERE provider = ?1 AND kind = ?2 AND id = ?3 AND tenant = ?4",
        )?;
        // A batch whose first item is new is taken for a load of new items.
        let load = match items.first() {
            Some(first) if items.len() >= bodies::AHEAD_MIN => {
                !find.exists(params![p, kind, first.id, t])?
            }
            _ => false,
        };
        // Inserts nothing (0 rows) where the key is stored already.
        let mut insert = tx.prepare_cached(
            "INSERT INTO items (provider, kind, id, tenant, parent_field, parent_id, hash,
                                first_seen_run, last_seen_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT (provider, kind, id, tenant) DO NOTHING",
        )?;
        let mut insert_json =
            tx.prepare_cached("INSERT INTO item_json (item, json) VALUES (?1, ?2)")?;
        let mut rewrite = tx.prepare_cached(
            "UPDATE items SET parent_field = ?2, parent_id = ?3, hash = ?4,
                 first_seen_run = CASE WHEN tombstone THEN ?5 ELSE first_seen_run END,
                 last_seen_run = COALESCE(?5, last_seen_run), tombstone = 0, deleted_run = NULL
             WHERE item = ?1",
        )?;
        let mut rewrite_json =
            tx.prepare_cached("UPDATE item_json SET json = ?2 WHERE item = ?1")?;
        let mut seen = tx.prepare_cached("UPDATE items SET last_seen_run = ?2 WHERE item = ?1")?;
        let dict = kind_dict(&tx, p, kind, items)?.map(Arc::new);
        let order: Arc<[usize]> = key_order(items, |item| &item.id).into();
        let mut bodies = if load {
            helper.ahead(items, &order, dict.as_ref())
        } else {
            Bodies::Inline(Compressor::new(dict))
        };
        for &i in order.iter() {
            let item = &items[i];
            let hash = content_hash(item);
            let (pf, pid) = match &item.parent {
                Some((f, i)) => (Some(f.as_str()), Some(i.as_str())),
                None => (None, None),
            };
            let fresh = params![p, kind, item.id, t, pf, pid, hash, seen_in];
            // In a load the insert alone tells a new item (one walk of the key index,
            // not two); an item it finds stored is then looked up.
            let inserted = load && insert.execute(fresh)? == 1;
            let found: Option<(i64, Vec<u8>, bool)> = if inserted {
                None
            } else {
                find.query_row(params![p, kind, item.id, t], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?
            };
            let stored =
                found.map(|(row, old, tombstone)| (row, compare(&old, &hash, item), tombstone));
            let action = match stored {
                None => {
                    // Not found in this transaction: the insert cannot conflict.
                    if !inserted && insert.execute(fresh)? != 1 {
                        return Err(rusqlite::Error::StatementChangedRows(0));
                    }
                    let compressed = bodies.next(&item.json, true);
                    let json = stored_json(item, &compressed);
                    insert_json.execute(params![tx.last_insert_rowid(), json])?;
                    ItemAction::Created
                }
                Some((row, compared, tombstone)) if tombstone || compared == Compared::Differs => {
                    rewrite.execute(params![row, pf, pid, hash, seen_in])?;
                    let compressed = bodies.next(&item.json, true);
                    rewrite_json.execute(params![row, stored_json(item, &compressed)])?;
                    if tombstone {
                        ItemAction::Created
                    } else {
                        ItemAction::Updated
                    }
                }
                Some((row, Compared::SameLegacy, _)) => {
                    bodies.next(&item.json, false);
                    // The same parent, the new hash; the body stays.
                    rewrite.execute(params![row, pf, pid, hash, seen_in])?;
                    ItemAction::Unchanged
                }
                Some((row, _, _)) => {
                    bodies.next(&item.json, false);
                    if let Some(run) = seen_in {
                        seen.execute(params![row, run])?;
                    }
                    ItemAction::Unchanged
                }
            };
            applied.actions[i] = action;
        }
        if !deletes.is_empty() {
            let mut delete = tx.prepare_cached(
                "UPDATE items SET tombstone = 1, deleted_run = ?5
                 WHERE provider = ?1 AND kind = ?2 AND id = ?3 AND tenant = ?4 AND tombstone = 0",
            )?;
            for id in deletes {
                if delete.execute(params![p, kind, id, t, run])? > 0 {
                    applied.deleted.push(id.clone());
                }
            }
        }
        if let Some(cp) = checkpoint {
            tx.prepare_cached(
                "INSERT INTO kind_state (provider, tenant, kind, checkpoint, checkpoint_run)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (provider, tenant, kind)
                 DO UPDATE SET checkpoint = excluded.checkpoint,
                               checkpoint_run = excluded.checkpoint_run",
            )?
            .execute(params![p, t, kind, cp, run])?;
        }
    }
    tx.commit()?;
    Ok(applied)
}

#[async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        self.inner.display.clone()
    }

    async fn lock(&self, scope: &Scope) -> Result<Box<dyn ScopeLock>> {
        let path = lock_path(&self.inner.path, scope);
        let store = self.inner.display.clone();
        let scope = scope.clone();
        let lock_err = |path: &Path, source| Error::LockFile {
            store: store.clone(),
            path: path.display().to_string(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| lock_err(&path, e))?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(Box::new(FileLock { _file: file })),
            Err(fs4::TryLockError::WouldBlock) => Err(Error::Busy {
                store,
                provider: scope.provider,
                tenant: scope.tenant,
            }),
            Err(fs4::TryLockError::Error(e)) => Err(lock_err(&path, e)),
        }
    }

    async fn begin_run(&self, scope: &Scope, now: i64) -> Result<RunInfo> {
        let scope = scope.clone();
        self.run("begin run", move |conn, store| {
            let e = |err| db_err(store, "begin run", err);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(e)?;
            let info = match current_run(&tx, &scope).map_err(e)? {
                Some((id, started_at)) => RunInfo {
                    id,
                    resumed: true,
                    started_at,
                },
                None => {
                    tx.prepare_cached(
                        "INSERT INTO runs (provider, tenant, started_at) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut s| s.execute(params![scope.provider, scope.tenant, now]))
                    .map_err(e)?;
                    RunInfo {
                        id: tx.last_insert_rowid(),
                        resumed: false,
                        started_at: now,
                    }
                }
            };
            tx.commit().map_err(e)?;
            Ok(info)
        })
        .await
    }

    async fn kind_state(&self, scope: &Scope, kind: &str) -> Result<KindState> {
        let (scope, kind) = (scope.clone(), kind.to_string());
        self.run("read kind state", move |conn, store| {
            let e = |err| db_err(store, "read kind state", err);
            let tx = conn.transaction().map_err(e)?;
            let current = current_run(&tx, &scope).map_err(e)?.map(|(id, _)| id);
            let row: Option<(Option<i64>, Option<String>, Option<i64>, Option<i64>)> = tx
                .prepare_cached(
                    "SELECT bookmark, checkpoint, checkpoint_run, done_run FROM kind_state
                     WHERE provider = ?1 AND tenant = ?2 AND kind = ?3",
                )
                .and_then(|mut s| {
                    s.query_row(params![scope.provider, scope.tenant, kind], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()
                })
                .map_err(e)?;
            let no_live_items = tx
                .prepare_cached(
                    "SELECT NOT EXISTS (SELECT 1 FROM items
                     WHERE provider = ?1 AND kind = ?2 AND tenant = ?3 AND tombstone = 0)",
                )
                .and_then(|mut s| {
                    s.query_row(params![scope.provider, kind, scope.tenant], |r| r.get(0))
                })
                .map_err(e)?;
            let Some((bookmark, checkpoint, checkpoint_run, done_run)) = row else {
                return Ok(KindState {
                    no_live_items,
                    ..KindState::default()
                });
            };
            let in_current = |r: Option<i64>| current.is_some() && r == current;
            Ok(KindState {
                bookmark,
                checkpoint: checkpoint.filter(|_| in_current(checkpoint_run)),
                done_in_run: in_current(done_run),
                no_live_items,
            })
        })
        .await
    }

    async fn apply(
        &self,
        scope: &Scope,
        run: Option<RunId>,
        kind: &str,
        items: &[ItemWrite],
        deletes: &[String],
        checkpoint: Option<&str>,
    ) -> Result<Applied> {
        let items = items.to_vec().into();
        self.apply_shared(scope, run, kind, items, deletes, checkpoint)
            .await
    }

    async fn apply_shared(
        &self,
        scope: &Scope,
        run: Option<RunId>,
        kind: &str,
        items: Arc<[ItemWrite]>,
        deletes: &[String],
        checkpoint: Option<&str>,
    ) -> Result<Applied> {
        let write = Write {
            scope: scope.clone(),
            run,
            kind: kind.to_string(),
            items,
            deletes: deletes.to_vec(),
            checkpoint: checkpoint.map(str::to_string),
        };
        let inner = Arc::clone(&self.inner);
        self.run("apply", move |conn, store| {
            apply_tx(conn, &inner.helper, &write).map_err(|e| db_err(store, "apply", e))
        })
        .await
    }

    async fn touch(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        ids: &[String],
    ) -> Result<Vec<String>> {
        let (scope, kind, ids) = (scope.clone(), kind.to_string(), ids.to_vec());
        self.run("touch", move |conn, store| {
            let go = || -> rusqlite::Result<Vec<String>> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                // Missing ids still come back in the order given.
                let order = key_order(&ids, String::as_str);
                let mut gone = vec![false; ids.len()];
                {
                    let mut seen = tx.prepare_cached(
                        "UPDATE items SET last_seen_run = ?5
                         WHERE provider = ?1 AND kind = ?2 AND id = ?3 AND tenant = ?4
                           AND tombstone = 0",
                    )?;
                    for i in order {
                        let params = params![scope.provider, kind, ids[i], scope.tenant, run];
                        gone[i] = seen.execute(params)? == 0;
                    }
                }
                tx.commit()?;
                let missing = ids.into_iter().zip(gone);
                Ok(missing
                    .filter_map(|(id, gone)| gone.then_some(id))
                    .collect())
            };
            go().map_err(|e| db_err(store, "touch", e))
        })
        .await
    }

    async fn sweep(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        max_fraction: f64,
    ) -> Result<Sweep> {
        crate::common::check_fraction(&self.inner.display, max_fraction)?;
        let (scope, kind) = (scope.clone(), kind.to_string());
        self.run("sweep", move |conn, store| {
            let mut go = || -> rusqlite::Result<Sweep> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let args = params![scope.provider, kind, scope.tenant, run];
                // The kind's row ids come from the key index, and its rows are then read in
                // row order: looked up in key order instead, they send the reads all over
                // the table (100k issues: 176 → 58 ms, most of an incremental run's CPU).
                let (live, would): (i64, i64) = tx
                    .prepare_cached(
                        "SELECT count(*), count(*) FILTER (WHERE last_seen_run IS NOT ?4)
                         FROM items WHERE item IN (SELECT item FROM items
                             WHERE provider = ?1 AND kind = ?2 AND tenant = ?3)
                           AND tombstone = 0",
                    )?
                    .query_row(args, |r| Ok((r.get(0)?, r.get(1)?)))?;
                let (live, would) = (from_db(live), from_db(would));
                if would == 0 {
                    return Ok(Sweep::Deleted(Vec::new()));
                }
                if crate::common::exceeds(would, live, max_fraction) {
                    return Ok(Sweep::Refused {
                        would_delete: would,
                        live,
                    });
                }
                let mut ids = tx
                    .prepare_cached(
                        "UPDATE items SET tombstone = 1, deleted_run = ?4
                         WHERE item IN (SELECT item FROM items
                             WHERE provider = ?1 AND kind = ?2 AND tenant = ?3)
                           AND tombstone = 0 AND last_seen_run IS NOT ?4
                         RETURNING id",
                    )?
                    .query_map(args, |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                tx.commit()?;
                ids.sort();
                Ok(Sweep::Deleted(ids))
            };
            go().map_err(|e| db_err(store, "sweep", e))
        })
        .await
    }

    async fn finish_kind(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        result: &KindResult,
    ) -> Result<()> {
        let (scope, kind, r) = (scope.clone(), kind.to_string(), result.clone());
        self.run("finish kind", move |conn, store| {
            let e = |err| db_err(store, "finish kind", err);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(e)?;
            check_run(&tx, store, &scope, run)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO run_kinds (run, kind, created, updated, deleted, unchanged,
                     requests, elapsed_ms, error, bookmark)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    run,
                    kind,
                    to_db(r.created),
                    to_db(r.updated),
                    to_db(r.deleted),
                    to_db(r.unchanged),
                    to_db(r.requests),
                    to_db(r.elapsed_ms),
                    r.error,
                    r.bookmark
                ])
            })
            .map_err(e)?;
            let ok = r.error.is_none();
            tx.prepare_cached(
                "INSERT INTO kind_state (provider, tenant, kind, bookmark, done_run)
                 VALUES (?1, ?2, ?3, CASE WHEN ?5 THEN ?4 END, CASE WHEN ?5 THEN ?6 END)
                 ON CONFLICT (provider, tenant, kind) DO UPDATE SET
                     bookmark = CASE WHEN ?5 THEN COALESCE(?4, bookmark) ELSE bookmark END,
                     done_run = CASE WHEN ?5 THEN ?6 ELSE done_run END,
                     checkpoint = NULL, checkpoint_run = NULL",
            )
            .and_then(|mut s| {
                s.execute(params![
                    scope.provider,
                    scope.tenant,
                    kind,
                    r.bookmark,
                    ok,
                    run
                ])
            })
            .map_err(e)?;
            tx.commit().map_err(e)
        })
        .await
    }

    async fn finish_run(&self, scope: &Scope, run: RunId) -> Result<()> {
        let scope = scope.clone();
        self.run("finish run", move |conn, store| {
            let n = conn
                .prepare_cached(
                    "UPDATE runs SET finished = 1 WHERE id = ?1 AND provider = ?2 AND tenant = ?3",
                )
                .and_then(|mut s| s.execute(params![run, scope.provider, scope.tenant]))
                .map_err(|e| db_err(store, "finish run", e))?;
            if n == 0 {
                return Err(Error::UnknownRun {
                    store: store.to_string(),
                    run,
                    provider: scope.provider,
                    tenant: scope.tenant,
                });
            }
            Ok(())
        })
        .await
    }

    fn export(&self, filter: ExportFilter) -> BoxStream<'static, Result<CatalogItem>> {
        crate::export::export_stream(Arc::new(SqliteExport(Arc::clone(&self.inner))), filter)
    }

    async fn stats(&self) -> Result<Vec<KindStats>> {
        self.run("stats", |conn, store| {
            let mut go = || -> rusqlite::Result<Vec<KindStats>> {
                let tx = conn.transaction()?;
                let mut out: BTreeMap<(String, String, String), KindStats> = BTreeMap::new();
                {
                    let mut s = tx.prepare_cached(
                        "SELECT provider, tenant, kind, sum(tombstone = 0), sum(tombstone != 0)
                         FROM items GROUP BY provider, tenant, kind",
                    )?;
                    let mut rows = s.query([])?;
                    while let Some(r) = rows.next()? {
                        let st =
                            crate::common::stats_slot(&mut out, r.get(0)?, r.get(1)?, r.get(2)?);
                        st.live = from_db(r.get(3)?);
                        st.tombstoned = from_db(r.get(4)?);
                    }
                    let mut s = tx.prepare_cached(
                        "SELECT r.provider, r.tenant, k.kind, r.id, r.started_at, k.created,
                                k.updated, k.deleted, k.unchanged, k.requests, k.elapsed_ms,
                                k.error, k.bookmark
                         FROM run_kinds k JOIN runs r ON r.id = k.run ORDER BY k.run",
                    )?;
                    let mut rows = s.query([])?;
                    while let Some(r) = rows.next()? {
                        let st =
                            crate::common::stats_slot(&mut out, r.get(0)?, r.get(1)?, r.get(2)?);
                        st.last_run = Some((
                            r.get(3)?,
                            r.get(4)?,
                            KindResult {
                                created: from_db(r.get(5)?),
                                updated: from_db(r.get(6)?),
                                deleted: from_db(r.get(7)?),
                                unchanged: from_db(r.get(8)?),
                                requests: from_db(r.get(9)?),
                                elapsed_ms: from_db(r.get(10)?),
                                error: r.get(11)?,
                                bookmark: r.get(12)?,
                            },
                        ));
                    }
                }
                Ok(out.into_values().collect())
            };
            go().map_err(|e| db_err(store, "stats", e))
        })
        .await
    }

    async fn enqueue(&self, scope: &Scope, body: &[u8], now: i64) -> Result<i64> {
        let (scope, body) = (scope.clone(), body.to_vec());
        self.run("enqueue", move |conn, store| {
            conn.prepare_cached(
                "INSERT INTO deliveries (provider, tenant, body, enqueued_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![scope.provider, scope.tenant, body, now]))
            .map_err(|e| db_err(store, "enqueue", e))?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn dequeue(
        &self,
        scope: &Scope,
        limit: usize,
        now: i64,
        claim_ms: i64,
    ) -> Result<Vec<Delivery>> {
        let scope = scope.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run("dequeue", move |conn, store| {
            let mut go = || -> rusqlite::Result<Vec<Delivery>> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let out = tx
                    .prepare_cached(
                        "UPDATE deliveries
                         SET claimed_until = ?4 + ?5, attempts = attempts + 1
                         WHERE id IN (SELECT id FROM deliveries
                                      WHERE provider = ?1 AND tenant = ?2 AND claimed_until <= ?4
                                      ORDER BY id LIMIT ?3)
                         RETURNING id, body, enqueued_at, attempts",
                    )?
                    .query_map(
                        params![scope.provider, scope.tenant, limit, now, claim_ms],
                        |r| {
                            Ok(Delivery {
                                id: r.get(0)?,
                                body: r.get(1)?,
                                enqueued_at: r.get(2)?,
                                attempts: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(u32::MAX),
                            })
                        },
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                tx.commit()?;
                let mut out = out;
                out.sort_by_key(|d| d.id);
                Ok(out)
            };
            go().map_err(|e| db_err(store, "dequeue", e))
        })
        .await
    }

    async fn ack(&self, scope: &Scope, ids: &[i64]) -> Result<()> {
        let (scope, ids) = (scope.clone(), ids.to_vec());
        self.run("ack", move |conn, store| {
            let go = || -> rusqlite::Result<()> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
                    let mut del = tx.prepare_cached(
                        "DELETE FROM deliveries WHERE id = ?1 AND provider = ?2 AND tenant = ?3",
                    )?;
                    for id in ids {
                        del.execute(params![id, scope.provider, scope.tenant])?;
                    }
                }
                tx.commit()
            };
            go().map_err(|e| db_err(store, "ack", e))
        })
        .await
    }

    async fn queue_depth(&self, scope: &Scope) -> Result<u64> {
        let scope = scope.clone();
        self.run("queue depth", move |conn, store| {
            conn.prepare_cached(
                "SELECT count(*) FROM deliveries WHERE provider = ?1 AND tenant = ?2",
            )
            .and_then(|mut s| s.query_row(params![scope.provider, scope.tenant], |r| r.get(0)))
            .map(from_db)
            .map_err(|e| db_err(store, "queue depth", e))
        })
        .await
    }

    async fn acquire_lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let (scope, holder) = (scope.clone(), holder.to_string());
        self.run("acquire lease", move |conn, store| {
            conn.prepare_cached(
                "INSERT INTO leases (provider, tenant, holder, expires_at)
                 VALUES (?1, ?2, ?3, ?4 + ?5)
                 ON CONFLICT (provider, tenant) DO UPDATE
                 SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4",
            )
            .and_then(|mut s| s.execute(params![scope.provider, scope.tenant, holder, now, ttl_ms]))
            .map(|n| n > 0)
            .map_err(|e| db_err(store, "acquire lease", e))
        })
        .await
    }

    async fn release_lease(&self, scope: &Scope, holder: &str) -> Result<()> {
        let (scope, holder) = (scope.clone(), holder.to_string());
        self.run("release lease", move |conn, store| {
            conn.prepare_cached(
                "DELETE FROM leases WHERE provider = ?1 AND tenant = ?2 AND holder = ?3",
            )
            .and_then(|mut s| s.execute(params![scope.provider, scope.tenant, holder]))
            .map(drop)
            .map_err(|e| db_err(store, "release lease", e))
        })
        .await
    }
}
