//! The PostgreSQL store: one connection (reconnected if it drops) with cached prepared
//! statements, one transaction per call, batched writes through `UNNEST` arrays.
//!
//! Connections are made without TLS (`NoTls`): point the store at a server on a Unix
//! socket or loopback (or a TLS-terminating proxy); a URL demanding `sslmode=require`
//! is refused by the driver. Scope locks are session-level `pg_try_advisory_lock`s held
//! on a dedicated connection, released by the server when that session ends (the lock
//! is dropped or its process dies). Tables live in the connection's current schema, so
//! `options=-csearch_path%3DNAME` in the URL keeps a store in schema `NAME`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, Config, NoTls, Statement};

use crate::common::{Compared, compare, content_hash, from_db, to_db};
use crate::export::Pair;
use crate::{
    Applied, CatalogItem, Delivery, Error, ExportFilter, ItemAction, ItemWrite, KindResult,
    KindState, KindStats, Result, RunId, RunInfo, Scope, ScopeLock, Store, Sweep, migrate,
};

/// How long a connection attempt may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The advisory lock key serialising migrations (per database).
const MIGRATE_LOCK: i64 = 0x6f63_6561_6e5f_6d69; // "ocean_mi"

/// A PostgreSQL catalog.
pub(crate) struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    display: String,
    config: Config,
    /// The schema the tables live in (part of the scope lock keys).
    schema: String,
    conn: Mutex<Conn>,
}

/// A connection with its prepared statements.
struct Conn {
    client: Client,
    stmts: HashMap<&'static str, Statement>,
}

impl Conn {
    /// The prepared statements for `sqls`, preparing those not seen before.
    async fn prepare<const N: usize>(
        &mut self,
        sqls: [&'static str; N],
    ) -> Result<[Statement; N], tokio_postgres::Error> {
        for sql in sqls {
            if !self.stmts.contains_key(sql) {
                let stmt = self.client.prepare(sql).await?;
                self.stmts.insert(sql, stmt);
            }
        }
        // Every sql was just found or inserted.
        Ok(sqls.map(|sql| self.stmts[sql].clone()))
    }
}

fn pg_err<'a>(store: &'a str, op: &'static str) -> impl Fn(tokio_postgres::Error) -> Error + 'a {
    move |e| Error::Backend {
        store: store.to_string(),
        op,
        source: Box::new(e),
    }
}

/// Connects with `config`; the connection runs on its own task.
async fn connect(config: &Config, store: &str) -> Result<Client> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| Error::Open {
        store: store.to_string(),
        source: Box::new(e),
    })?;
    tokio::spawn(async move {
        // Ends when the client is dropped or the server goes away; the next call sees a
        // closed client and reconnects.
        let _ = connection.await;
    });
    // Every query here reads a page or a batch through an index: plan each execution
    // afresh (a generic plan cached while a fresh store's tables were tiny would keep
    // scanning them whole), with no parallel workers (starting them costs more than they
    // save).
    client
        .batch_execute(
            "SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0",
        )
        .await
        .map_err(|e| Error::Open {
            store: store.to_string(),
            source: Box::new(e),
        })?;
    Ok(client)
}

/// A 64-bit key for an advisory lock on `parts`.
fn lock_key(parts: &[&str]) -> i64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    i64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

async fn migrate_conn(client: &mut Client, store: &str) -> Result<()> {
    let e = pg_err(store, "migrate");
    for (i, sql) in migrate::POSTGRES.iter().enumerate() {
        let target = i as i64 + 1;
        let tx = client.transaction().await.map_err(&e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
            .await
            .map_err(&e)?;
        // Read before creating anything, so that an up-to-date store needs no CREATE right.
        let exists: bool = tx
            .query_one(
                // Where CREATE TABLE would put it: the current schema.
                "SELECT to_regclass(quote_ident(current_schema()) || '.ocean_schema_version')
                        IS NOT NULL",
                &[],
            )
            .await
            .map_err(&e)?
            .get(0);
        let version: i64 = if exists {
            let row = tx
                .query_opt("SELECT max(version) FROM ocean_schema_version", &[])
                .await
                .map_err(&e)?;
            row.and_then(|r| r.get::<_, Option<i64>>(0)).unwrap_or(0)
        } else {
            0
        };
        migrate::check(store, version)?;
        if version < target {
            if !exists {
                tx.batch_execute("CREATE TABLE ocean_schema_version (version BIGINT NOT NULL)")
                    .await
                    .map_err(&e)?;
            }
            tx.batch_execute(sql).await.map_err(&e)?;
            tx.execute("DELETE FROM ocean_schema_version", &[])
                .await
                .map_err(&e)?;
            tx.execute(
                "INSERT INTO ocean_schema_version (version) VALUES ($1)",
                &[&target],
            )
            .await
            .map_err(&e)?;
        }
        tx.commit().await.map_err(&e)?;
    }
    Ok(())
}

impl PgStore {
    /// Connects to `url` (printed as `display`) and migrates it.
    pub(crate) async fn open(url: &str, display: String) -> Result<Box<dyn Store>> {
        let mut config: Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| Error::InvalidSpec {
                    spec: display.clone(),
                    reason: e.to_string(),
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let mut client = connect(&config, &display).await?;
        migrate_conn(&mut client, &display).await?;
        let schema: Option<String> = client
            .query_one("SELECT current_schema()", &[])
            .await
            .map_err(pg_err(&display, "read schema"))?
            .get(0);
        let conn = Mutex::new(Conn {
            client,
            stmts: HashMap::new(),
        });
        let inner = Inner {
            display,
            config,
            schema: schema.unwrap_or_default(),
            conn,
        };
        Ok(Box::new(PgStore {
            inner: Arc::new(inner),
        }))
    }
}

impl Inner {
    /// The shared connection, reconnected first if it was lost.
    async fn conn(&self) -> Result<MutexGuard<'_, Conn>> {
        let mut guard = self.conn.lock().await;
        if guard.client.is_closed() {
            let client = connect(&self.config, &self.display).await?;
            *guard = Conn {
                client,
                stmts: HashMap::new(),
            };
        }
        Ok(guard)
    }

    fn unknown_run(&self, scope: &Scope, run: RunId) -> Error {
        Error::UnknownRun {
            store: self.display.clone(),
            run,
            provider: scope.provider.clone(),
            tenant: scope.tenant.clone(),
        }
    }
}

/// Holds a session advisory lock on its own connection; dropping it ends the session,
/// which releases the lock once the server sees the session end.
struct PgLock {
    client: Client,
    key: i64,
}

impl ScopeLock for PgLock {
    /// Unlocks on the server before returning (ending the session alone releases the lock
    /// only when the server gets to it, after a next writer may already have asked).
    fn release(self: Box<Self>) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(async move {
            // A failure leaves the lock to the session's end, as a drop would.
            let _ = self
                .client
                .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
                .await;
        })
    }
}

const CURRENT_RUN: &str = "SELECT id, started_at FROM runs
     WHERE provider = $1 AND tenant = $2 AND NOT finished ORDER BY id DESC LIMIT 1";
const RUN_OF_SCOPE: &str = "SELECT 1 FROM runs WHERE id = $1 AND provider = $2 AND tenant = $3";
// A batch of ids is looked up one id at a time on the full key, in a `LATERAL … LIMIT 1`
// subquery the planner cannot flatten into a join: with `id = ANY(…)` or a plain join it
// may, on statistics that do not know the scope yet (a fresh store, a new tenant), scan
// the scope's whole (provider, kind) range for every batch.
const FIND: &str = "SELECT x.id, i.hash, i.tombstone
     FROM unnest($4::text[]) AS x (id)
     CROSS JOIN LATERAL (
         SELECT hash, tombstone FROM items
         WHERE provider = $1 AND kind = $2 AND id = x.id AND tenant = $3 LIMIT 1
     ) i";
const UPSERT: &str = "INSERT INTO items AS i (provider, kind, tenant, id, parent_field,
         parent_id, hash, first_seen_run, last_seen_run)
     SELECT $1::text, $2::text, $3::text, u.id, u.pf, u.pid, u.hash, $4::bigint, $4::bigint
     FROM UNNEST($5::text[], $6::text[], $7::text[], $8::bytea[]) AS u (id, pf, pid, hash)
     ON CONFLICT (provider, kind, id, tenant) DO UPDATE SET
         parent_field = EXCLUDED.parent_field, parent_id = EXCLUDED.parent_id,
         hash = EXCLUDED.hash,
         first_seen_run = CASE WHEN i.tombstone THEN EXCLUDED.first_seen_run
                          ELSE i.first_seen_run END,
         last_seen_run = COALESCE(EXCLUDED.last_seen_run, i.last_seen_run),
         tombstone = FALSE, deleted_run = NULL
     RETURNING i.id, i.item";
const UPSERT_JSON: &str = "INSERT INTO item_json (item, json)
     SELECT * FROM UNNEST($1::bigint[], $2::text[])
     ON CONFLICT (item) DO UPDATE SET json = EXCLUDED.json";
/// The `item` keys of the live items of a batch of ids (`$1` provider, `$2` kind,
/// `$3` tenant, `$5` ids), looked up id by id as in [`FIND`].
macro_rules! live_items {
    () => {
        "item = ANY (ARRAY(
             SELECT (SELECT item FROM items
                     WHERE provider = $1 AND kind = $2 AND id = x.id AND tenant = $3
                       AND NOT tombstone LIMIT 1)
             FROM unnest($5::text[]) AS x (id)))"
    };
}
const SEEN: &str = concat!(
    "UPDATE items SET last_seen_run = $4 WHERE ",
    live_items!(),
    " RETURNING id"
);
const DELETE: &str = concat!(
    "UPDATE items SET tombstone = TRUE, deleted_run = $4 WHERE ",
    live_items!(),
    " RETURNING id"
);
const CHECKPOINT: &str =
    "INSERT INTO kind_state (provider, tenant, kind, checkpoint, checkpoint_run)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (provider, tenant, kind)
     DO UPDATE SET checkpoint = EXCLUDED.checkpoint, checkpoint_run = EXCLUDED.checkpoint_run";

#[async_trait]
impl Store for PgStore {
    fn describe(&self) -> String {
        self.inner.display.clone()
    }

    async fn lock(&self, scope: &Scope) -> Result<Box<dyn ScopeLock>> {
        let inner = &self.inner;
        let client = connect(&inner.config, &inner.display).await?;
        let key = lock_key(&["scope", &inner.schema, &scope.provider, &scope.tenant]);
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .map_err(pg_err(&inner.display, "lock"))?
            .get(0);
        if got {
            Ok(Box::new(PgLock { client, key }))
        } else {
            Err(Error::Busy {
                store: inner.display.clone(),
                provider: scope.provider.clone(),
                tenant: scope.tenant.clone(),
            })
        }
    }

    async fn begin_run(&self, scope: &Scope, now: i64) -> Result<RunInfo> {
        let e = pg_err(&self.inner.display, "begin run");
        let mut conn = self.inner.conn().await?;
        let [current, insert] = conn
            .prepare([
                CURRENT_RUN,
                "INSERT INTO runs (provider, tenant, started_at) VALUES ($1, $2, $3) RETURNING id",
            ])
            .await
            .map_err(&e)?;
        let tx = conn.client.transaction().await.map_err(&e)?;
        // Serialise run creation per scope (a key apart from the scope's writer lock).
        let key = lock_key(&["run", &self.inner.schema, &scope.provider, &scope.tenant]);
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
            .await
            .map_err(&e)?;
        let (p, t) = (&scope.provider, &scope.tenant);
        let info = match tx.query_opt(&current, &[p, t]).await.map_err(&e)? {
            Some(row) => RunInfo {
                id: row.get(0),
                resumed: true,
                started_at: row.get(1),
            },
            None => {
                let row = tx.query_one(&insert, &[p, t, &now]).await.map_err(&e)?;
                RunInfo {
                    id: row.get(0),
                    resumed: false,
                    started_at: now,
                }
            }
        };
        tx.commit().await.map_err(&e)?;
        Ok(info)
    }

    async fn kind_state(&self, scope: &Scope, kind: &str) -> Result<KindState> {
        let e = pg_err(&self.inner.display, "read kind state");
        let mut conn = self.inner.conn().await?;
        let [current, state, live] = conn
            .prepare([
                CURRENT_RUN,
                "SELECT bookmark, checkpoint, checkpoint_run, done_run FROM kind_state
                 WHERE provider = $1 AND tenant = $2 AND kind = $3",
                "SELECT NOT EXISTS (SELECT 1 FROM items
                 WHERE provider = $1 AND tenant = $2 AND kind = $3 AND NOT tombstone)",
            ])
            .await
            .map_err(&e)?;
        let tx = conn.client.transaction().await.map_err(&e)?;
        let (p, t) = (&scope.provider, &scope.tenant);
        let current: Option<i64> = tx
            .query_opt(&current, &[p, t])
            .await
            .map_err(&e)?
            .map(|r| r.get(0));
        let no_live_items: bool = tx
            .query_one(&live, &[p, t, &kind])
            .await
            .map_err(&e)?
            .get(0);
        let Some(row) = tx.query_opt(&state, &[p, t, &kind]).await.map_err(&e)? else {
            return Ok(KindState {
                no_live_items,
                ..KindState::default()
            });
        };
        tx.commit().await.map_err(&e)?;
        let in_current = |r: Option<i64>| current.is_some() && r == current;
        let checkpoint: Option<String> = row.get(1);
        Ok(KindState {
            bookmark: row.get(0),
            checkpoint: checkpoint.filter(|_| in_current(row.get(2))),
            done_in_run: in_current(row.get(3)),
            no_live_items,
        })
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
        let e = pg_err(&self.inner.display, "apply");
        let mut conn = self.inner.conn().await?;
        let [
            find,
            upsert,
            upsert_json,
            seen,
            delete,
            set_checkpoint,
            current,
        ] = conn
            .prepare([
                FIND,
                UPSERT,
                UPSERT_JSON,
                SEEN,
                DELETE,
                CHECKPOINT,
                CURRENT_RUN,
            ])
            .await
            .map_err(&e)?;
        let tx = conn.client.transaction().await.map_err(&e)?;
        let (p, t) = (&scope.provider, &scope.tenant);
        // A write outside any run (a webhook) counts as seen by the run under way, if any:
        // that run's listing may have passed before the item existed, and its sweep must
        // not delete what the webhook just wrote.
        let seen_in: Option<RunId> = match run {
            Some(run) => Some(run),
            None if items.is_empty() => None,
            None => tx
                .query_opt(&current, &[p, t])
                .await
                .map_err(&e)?
                .map(|row| row.get(0)),
        };
        let mut applied = Applied {
            actions: Vec::with_capacity(items.len()),
            deleted: Vec::new(),
        };

        if !items.is_empty() {
            let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
            // id -> (hash, live), as stored, then as this batch leaves it.
            let mut state: HashMap<String, (Vec<u8>, bool)> = HashMap::with_capacity(items.len());
            for row in tx.query(&find, &[p, &kind, t, &ids]).await.map_err(&e)? {
                let tombstone: bool = row.get(2);
                state.insert(row.get(0), (row.get(1), !tombstone));
            }
            // The last write of each id that changed it (index into `items`, hash).
            let mut write: HashMap<&str, (usize, [u8; 16])> = HashMap::new();
            let mut unchanged: Vec<&str> = Vec::new();
            for (n, item) in items.iter().enumerate() {
                let hash = content_hash(item);
                let (action, legacy) = match state.get(&item.id) {
                    Some((old, true)) => match compare(old, &hash, item) {
                        Compared::Same => (ItemAction::Unchanged, false),
                        // Written again for its new hash; still unchanged.
                        Compared::SameLegacy => (ItemAction::Unchanged, true),
                        Compared::Differs => (ItemAction::Updated, false),
                    },
                    _ => (ItemAction::Created, false),
                };
                if action == ItemAction::Unchanged && !legacy {
                    if !write.contains_key(item.id.as_str()) {
                        unchanged.push(&item.id);
                    }
                } else {
                    state.insert(item.id.clone(), (hash.to_vec(), true));
                    write.insert(&item.id, (n, hash));
                }
                applied.actions.push(action);
            }
            if !write.is_empty() {
                let mut rows: Vec<(usize, [u8; 16])> = write.into_values().collect();
                rows.sort_unstable_by_key(|(n, _)| *n);
                let hashes: Vec<&[u8]> = rows.iter().map(|(_, h)| h.as_slice()).collect();
                let rows: Vec<&ItemWrite> = rows.iter().map(|(n, _)| &items[*n]).collect();
                let ids: Vec<&str> = rows.iter().map(|i| i.id.as_str()).collect();
                let pf: Vec<Option<&str>> = rows
                    .iter()
                    .map(|i| i.parent.as_ref().map(|(f, _)| f.as_str()))
                    .collect();
                let pid: Vec<Option<&str>> = rows
                    .iter()
                    .map(|i| i.parent.as_ref().map(|(_, v)| v.as_str()))
                    .collect();
                let keys: HashMap<String, i64> = tx
                    .query(&upsert, &[p, &kind, t, &seen_in, &ids, &pf, &pid, &hashes])
                    .await
                    .map_err(&e)?
                    .into_iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                let mut keyed: Vec<i64> = Vec::with_capacity(rows.len());
                for item in &rows {
                    let Some(key) = keys.get(&item.id) else {
                        return Err(Error::Backend {
                            store: self.inner.display.clone(),
                            op: "apply",
                            source: format!("upsert returned no row for id {:?}", item.id).into(),
                        });
                    };
                    keyed.push(*key);
                }
                let json: Vec<&str> = rows.iter().map(|i| i.json.as_str()).collect();
                tx.execute(&upsert_json, &[&keyed, &json])
                    .await
                    .map_err(&e)?;
            }
            if let (Some(run), false) = (seen_in, unchanged.is_empty()) {
                tx.execute(&seen, &[p, &kind, t, &run, &unchanged])
                    .await
                    .map_err(&e)?;
            }
        }
        if !deletes.is_empty() {
            let gone: HashSet<String> = tx
                .query(&delete, &[p, &kind, t, &run, &deletes])
                .await
                .map_err(&e)?
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            let mut reported = HashSet::new();
            for id in deletes {
                if gone.contains(id) && reported.insert(id) {
                    applied.deleted.push(id.clone());
                }
            }
        }
        if let Some(cp) = checkpoint {
            tx.execute(&set_checkpoint, &[p, t, &kind, &cp, &run])
                .await
                .map_err(&e)?;
        }
        tx.commit().await.map_err(&e)?;
        Ok(applied)
    }

    async fn touch(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        ids: &[String],
    ) -> Result<Vec<String>> {
        let e = pg_err(&self.inner.display, "touch");
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.inner.conn().await?;
        let [seen] = conn.prepare([SEEN]).await.map_err(&e)?;
        let (p, t) = (&scope.provider, &scope.tenant);
        // One statement: its own transaction.
        let live: HashSet<String> = conn
            .client
            .query(&seen, &[p, &kind, t, &run, &ids])
            .await
            .map_err(&e)?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        Ok(ids
            .iter()
            .filter(|id| !live.contains(*id))
            .cloned()
            .collect())
    }

    async fn sweep(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        max_fraction: f64,
    ) -> Result<Sweep> {
        crate::common::check_fraction(&self.inner.display, max_fraction)?;
        let e = pg_err(&self.inner.display, "sweep");
        let mut conn = self.inner.conn().await?;
        let [count, sweep] = conn
            .prepare([
                "SELECT count(*), count(*) FILTER (WHERE last_seen_run IS DISTINCT FROM $4)
                 FROM items WHERE provider = $1 AND kind = $2 AND tenant = $3 AND NOT tombstone",
                "UPDATE items SET tombstone = TRUE, deleted_run = $4
                 WHERE provider = $1 AND kind = $2 AND tenant = $3 AND NOT tombstone
                   AND last_seen_run IS DISTINCT FROM $4
                 RETURNING id",
            ])
            .await
            .map_err(&e)?;
        let tx = conn.client.transaction().await.map_err(&e)?;
        let (p, t) = (&scope.provider, &scope.tenant);
        let row = tx
            .query_one(&count, &[p, &kind, t, &run])
            .await
            .map_err(&e)?;
        let (live, would) = (from_db(row.get(0)), from_db(row.get(1)));
        if would == 0 {
            return Ok(Sweep::Deleted(Vec::new()));
        }
        if crate::common::exceeds(would, live, max_fraction) {
            return Ok(Sweep::Refused {
                would_delete: would,
                live,
            });
        }
        let mut ids: Vec<String> = tx
            .query(&sweep, &[p, &kind, t, &run])
            .await
            .map_err(&e)?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        tx.commit().await.map_err(&e)?;
        ids.sort();
        Ok(Sweep::Deleted(ids))
    }

    async fn finish_kind(
        &self,
        scope: &Scope,
        run: RunId,
        kind: &str,
        result: &KindResult,
    ) -> Result<()> {
        let e = pg_err(&self.inner.display, "finish kind");
        let mut conn = self.inner.conn().await?;
        let [check, history, state] = conn
            .prepare([
                RUN_OF_SCOPE,
                "INSERT INTO run_kinds (run, kind, created, updated, deleted, unchanged, requests,
                     elapsed_ms, error, bookmark)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (run, kind) DO UPDATE SET created = EXCLUDED.created,
                     updated = EXCLUDED.updated, deleted = EXCLUDED.deleted,
                     unchanged = EXCLUDED.unchanged, requests = EXCLUDED.requests,
                     elapsed_ms = EXCLUDED.elapsed_ms, error = EXCLUDED.error,
                     bookmark = EXCLUDED.bookmark",
                "INSERT INTO kind_state AS s (provider, tenant, kind, bookmark, done_run)
                 VALUES ($1, $2, $3, CASE WHEN $5 THEN $4::BIGINT END,
                         CASE WHEN $5 THEN $6::BIGINT END)
                 ON CONFLICT (provider, tenant, kind) DO UPDATE SET
                     bookmark = CASE WHEN $5 THEN COALESCE($4, s.bookmark) ELSE s.bookmark END,
                     done_run = CASE WHEN $5 THEN $6 ELSE s.done_run END,
                     checkpoint = NULL, checkpoint_run = NULL",
            ])
            .await
            .map_err(&e)?;
        let tx = conn.client.transaction().await.map_err(&e)?;
        let (p, t) = (&scope.provider, &scope.tenant);
        if tx
            .query_opt(&check, &[&run, p, t])
            .await
            .map_err(&e)?
            .is_none()
        {
            return Err(self.inner.unknown_run(scope, run));
        }
        let r = result;
        let counts = [
            r.created,
            r.updated,
            r.deleted,
            r.unchanged,
            r.requests,
            r.elapsed_ms,
        ]
        .map(to_db);
        tx.execute(
            &history,
            &[
                &run,
                &kind,
                &counts[0],
                &counts[1],
                &counts[2],
                &counts[3],
                &counts[4],
                &counts[5],
                &r.error,
                &r.bookmark,
            ],
        )
        .await
        .map_err(&e)?;
        let ok = r.error.is_none();
        tx.execute(&state, &[p, t, &kind, &r.bookmark, &ok, &run])
            .await
            .map_err(&e)?;
        tx.commit().await.map_err(&e)
    }

    async fn finish_run(&self, scope: &Scope, run: RunId) -> Result<()> {
        let e = pg_err(&self.inner.display, "finish run");
        let mut conn = self.inner.conn().await?;
        let [finish] = conn
            .prepare([
                "UPDATE runs SET finished = TRUE WHERE id = $1 AND provider = $2 AND tenant = $3",
            ])
            .await
            .map_err(&e)?;
        let n = conn
            .client
            .execute(&finish, &[&run, &scope.provider, &scope.tenant])
            .await
            .map_err(&e)?;
        if n == 0 {
            return Err(self.inner.unknown_run(scope, run));
        }
        Ok(())
    }

    fn export(&self, filter: ExportFilter) -> BoxStream<'static, Result<CatalogItem>> {
        crate::export::export_stream(Arc::new(PgExport(Arc::clone(&self.inner))), filter)
    }

    async fn enqueue(&self, scope: &Scope, body: &[u8], now: i64) -> Result<i64> {
        let e = pg_err(&self.inner.display, "enqueue");
        let mut conn = self.inner.conn().await?;
        let [insert] = conn
            .prepare([
                "INSERT INTO deliveries (provider, tenant, body, enqueued_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            ])
            .await
            .map_err(&e)?;
        let row = conn
            .client
            .query_one(&insert, &[&scope.provider, &scope.tenant, &body, &now])
            .await
            .map_err(&e)?;
        Ok(row.get(0))
    }

    async fn dequeue(
        &self,
        scope: &Scope,
        limit: usize,
        now: i64,
        claim_ms: i64,
    ) -> Result<Vec<Delivery>> {
        let e = pg_err(&self.inner.display, "dequeue");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.inner.conn().await?;
        // SKIP LOCKED: concurrent consumers (replicas) claim disjoint deliveries.
        let [claim] = conn
            .prepare([
                "UPDATE deliveries SET claimed_until = $3 + $5, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM deliveries
                              WHERE provider = $1 AND tenant = $2 AND claimed_until <= $3
                              ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
                 RETURNING id, body, enqueued_at, attempts",
            ])
            .await
            .map_err(&e)?;
        let rows = conn
            .client
            .query(
                &claim,
                &[&scope.provider, &scope.tenant, &now, &limit, &claim_ms],
            )
            .await
            .map_err(&e)?;
        let mut out: Vec<Delivery> = rows
            .iter()
            .map(|r| Delivery {
                id: r.get(0),
                body: r.get(1),
                enqueued_at: r.get(2),
                attempts: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
            })
            .collect();
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    async fn ack(&self, scope: &Scope, ids: &[i64]) -> Result<()> {
        let e = pg_err(&self.inner.display, "ack");
        let mut conn = self.inner.conn().await?;
        let [delete] = conn
            .prepare([
                "DELETE FROM deliveries WHERE provider = $1 AND tenant = $2 AND id = ANY($3)",
            ])
            .await
            .map_err(&e)?;
        let ids = ids.to_vec();
        conn.client
            .execute(&delete, &[&scope.provider, &scope.tenant, &ids])
            .await
            .map_err(&e)?;
        Ok(())
    }

    async fn queue_depth(&self, scope: &Scope) -> Result<u64> {
        let e = pg_err(&self.inner.display, "queue depth");
        let mut conn = self.inner.conn().await?;
        let [count] = conn
            .prepare(["SELECT count(*) FROM deliveries WHERE provider = $1 AND tenant = $2"])
            .await
            .map_err(&e)?;
        let row = conn
            .client
            .query_one(&count, &[&scope.provider, &scope.tenant])
            .await
            .map_err(&e)?;
        Ok(from_db(row.get(0)))
    }

    async fn acquire_lease(
        &self,
        scope: &Scope,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let e = pg_err(&self.inner.display, "acquire lease");
        let mut conn = self.inner.conn().await?;
        let [take] = conn
            .prepare(["INSERT INTO leases (provider, tenant, holder, expires_at)
                 VALUES ($1, $2, $3, $4::BIGINT + $5::BIGINT)
                 ON CONFLICT (provider, tenant) DO UPDATE
                 SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                 WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $4::BIGINT"])
            .await
            .map_err(&e)?;
        let n = conn
            .client
            .execute(
                &take,
                &[&scope.provider, &scope.tenant, &holder, &now, &ttl_ms],
            )
            .await
            .map_err(&e)?;
        Ok(n > 0)
    }

    async fn release_lease(&self, scope: &Scope, holder: &str) -> Result<()> {
        let e = pg_err(&self.inner.display, "release lease");
        let mut conn = self.inner.conn().await?;
        let [release] = conn
            .prepare(["DELETE FROM leases WHERE provider = $1 AND tenant = $2 AND holder = $3"])
            .await
            .map_err(&e)?;
        conn.client
            .execute(&release, &[&scope.provider, &scope.tenant, &holder])
            .await
            .map_err(&e)?;
        Ok(())
    }

    async fn stats(&self) -> Result<Vec<KindStats>> {
        let e = pg_err(&self.inner.display, "stats");
        let mut conn = self.inner.conn().await?;
        let tx = conn.client.transaction().await.map_err(&e)?;
        let mut out: BTreeMap<(String, String, String), KindStats> = BTreeMap::new();
        let counts = tx
            .query(
                "SELECT provider, tenant, kind, count(*) FILTER (WHERE NOT tombstone),
                        count(*) FILTER (WHERE tombstone)
                 FROM items GROUP BY provider, tenant, kind",
                &[],
            )
            .await
            .map_err(&e)?;
        for r in counts {
            let st = crate::common::stats_slot(&mut out, r.get(0), r.get(1), r.get(2));
            st.live = from_db(r.get(3));
            st.tombstoned = from_db(r.get(4));
        }
        let runs = tx
            .query(
                "SELECT r.provider, r.tenant, k.kind, r.id, r.started_at, k.created, k.updated,
                        k.deleted, k.unchanged, k.requests, k.elapsed_ms, k.error, k.bookmark
                 FROM run_kinds k JOIN runs r ON r.id = k.run ORDER BY k.run",
                &[],
            )
            .await
            .map_err(&e)?;
        for r in runs {
            let st = crate::common::stats_slot(&mut out, r.get(0), r.get(1), r.get(2));
            st.last_run = Some((
                r.get(3),
                r.get(4),
                KindResult {
                    created: from_db(r.get(5)),
                    updated: from_db(r.get(6)),
                    deleted: from_db(r.get(7)),
                    unchanged: from_db(r.get(8)),
                    requests: from_db(r.get(9)),
                    elapsed_ms: from_db(r.get(10)),
                    error: r.get(11),
                    bookmark: r.get(12),
                },
            ));
        }
        tx.commit().await.map_err(&e)?;
        Ok(out.into_values().collect())
    }
}

/// Export pages read on the shared connection.
struct PgExport(Arc<Inner>);

#[async_trait]
impl crate::export::ExportSource for PgExport {
    async fn next_group(&self, after: Option<Pair>) -> Result<Option<Pair>> {
        let e = pg_err(&self.0.display, "export");
        let mut conn = self.0.conn().await?;
        let [next] = conn
            .prepare([
                "SELECT provider, kind FROM items WHERE (provider, kind) > ($1, $2)
                 ORDER BY provider, kind LIMIT 1",
            ])
            .await
            .map_err(&e)?;
        let (p, k) = after.unwrap_or_default();
        let row = conn.client.query_opt(&next, &[&p, &k]).await.map_err(&e)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn page(
        &self,
        provider: &str,
        kind: &str,
        after: Option<Pair>,
    ) -> Result<Vec<CatalogItem>> {
        // The page's items by the key index, then each one's JSON by its primary key.
        const PAGE: &str = "SELECT i.id, i.tenant, i.parent_field, i.parent_id, j.json
             FROM (SELECT item, id, tenant, parent_field, parent_id FROM items
                   WHERE provider = $1 AND kind = $2 AND (id, tenant) > ($3, $4)
                     AND NOT tombstone
                   ORDER BY id, tenant LIMIT $5) i
             CROSS JOIN LATERAL (SELECT json FROM item_json WHERE item = i.item LIMIT 1) j
             ORDER BY i.id, i.tenant";
        let e = pg_err(&self.0.display, "export");
        let mut conn = self.0.conn().await?;
        let [page] = conn.prepare([PAGE]).await.map_err(&e)?;
        let (id, tenant) = after.unwrap_or_default();
        let limit = crate::export::EXPORT_BATCH as i64;
        let rows = conn
            .client
            .query(&page, &[&provider, &kind, &id, &tenant, &limit])
            .await
            .map_err(&e)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let parent = match (r.get::<_, Option<String>>(2), r.get::<_, Option<String>>(3)) {
                    (Some(f), Some(i)) => Some((f, i)),
                    _ => None,
                };
                CatalogItem {
                    provider: provider.to_string(),
                    kind: kind.to_string(),
                    id: r.get(0),
                    tenant: r.get(1),
                    parent,
                    json: r.get(4),
                }
            })
            .collect())
    }
}
