//! Versioned schema migrations, embedded in the binary.
//!
//! Migration `n` (1-based) brings a store from schema version `n - 1` to `n`; each runs
//! in one transaction together with the version bump. SQLite keeps the version in
//! `PRAGMA user_version`, PostgreSQL in the `ocean_schema_version` table. A store whose
//! version is newer than [`SUPPORTED`] is refused with [`Error::SchemaTooNew`].

use crate::{Error, Result};

/// SQLite migrations, in order.
pub(crate) const SQLITE: &[&str] = &[
    // 1: items, runs, kind state, run history.
    // An item's JSON lives apart from its (narrow) row, so that marking items seen,
    // counting and sweeping rewrite and read small rows, never the bodies.
    "CREATE TABLE items (
        item INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        parent_field TEXT,
        parent_id TEXT,
        hash BLOB NOT NULL,
        first_seen_run INTEGER,
        last_seen_run INTEGER,
        tombstone INTEGER NOT NULL DEFAULT 0,
        deleted_run INTEGER
    );
    CREATE UNIQUE INDEX items_key ON items (provider, kind, id, tenant);
    CREATE TABLE item_json (
        item INTEGER PRIMARY KEY,
        json TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_scope ON runs (provider, tenant, finished);
    CREATE TABLE kind_state (
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        bookmark INTEGER,
        checkpoint TEXT,
        checkpoint_run INTEGER,
        done_run INTEGER,
        PRIMARY KEY (provider, tenant, kind)
    );
    CREATE TABLE run_kinds (
        run INTEGER NOT NULL REFERENCES runs (id),
        kind TEXT NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        elapsed_ms INTEGER NOT NULL,
        error TEXT,
        bookmark INTEGER,
        PRIMARY KEY (run, kind)
    );",
    // 2: the webhook delivery queue and the scheduling leases (ocean serve).
    "CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        body BLOB NOT NULL,
        enqueued_at INTEGER NOT NULL,
        claimed_until INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX deliveries_scope ON deliveries (provider, tenant, id);
    CREATE TABLE leases (
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (provider, tenant)
    );",
    // 3: item bodies may be LZ4-compressed BLOBs (see `body.rs`). No table changes: the
    // version alone makes a binary that cannot read them refuse the store up front.
    "SELECT 1;",
    // 4: bodies compressed against a dictionary of their kind (see `body.rs`), kept here.
    // AUTOINCREMENT: a body names its dictionary by id, so an id is never given twice.
    "CREATE TABLE body_dicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        dict BLOB NOT NULL
    );
    CREATE INDEX body_dicts_kind ON body_dicts (provider, kind);",
];

/// PostgreSQL migrations, in order (same schema as [`SQLITE`]).
pub(crate) const POSTGRES: &[&str] = &[
    // 1: items, runs, kind state, run history.
    // Keys compare bytewise (COLLATE "C"), as in SQLite: the same export order on both.
    // As in SQLite, the JSON lives apart from the narrow item row.
    "CREATE TABLE items (
        item BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider TEXT COLLATE \"C\" NOT NULL,
        kind TEXT COLLATE \"C\" NOT NULL,
        id TEXT COLLATE \"C\" NOT NULL,
        tenant TEXT COLLATE \"C\" NOT NULL,
        parent_field TEXT,
        parent_id TEXT,
        hash BYTEA NOT NULL,
        first_seen_run BIGINT,
        last_seen_run BIGINT,
        tombstone BOOLEAN NOT NULL DEFAULT FALSE,
        deleted_run BIGINT,
        UNIQUE (provider, kind, id, tenant)
    );
    CREATE TABLE item_json (
        item BIGINT PRIMARY KEY,
        json TEXT NOT NULL
    );
    CREATE TABLE runs (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        finished BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX runs_scope ON runs (provider, tenant, finished);
    CREATE TABLE kind_state (
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        bookmark BIGINT,
        checkpoint TEXT,
        checkpoint_run BIGINT,
        done_run BIGINT,
        PRIMARY KEY (provider, tenant, kind)
    );
    CREATE TABLE run_kinds (
        run BIGINT NOT NULL REFERENCES runs (id),
        kind TEXT NOT NULL,
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        deleted BIGINT NOT NULL,
        unchanged BIGINT NOT NULL,
        requests BIGINT NOT NULL,
        elapsed_ms BIGINT NOT NULL,
        error TEXT,
        bookmark BIGINT,
        PRIMARY KEY (run, kind)
    );",
    // 2: the webhook delivery queue and the scheduling leases (ocean serve).
    "CREATE TABLE deliveries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        body BYTEA NOT NULL,
        enqueued_at BIGINT NOT NULL,
        claimed_until BIGINT NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX deliveries_scope ON deliveries (provider, tenant, id);
    CREATE TABLE leases (
        provider TEXT NOT NULL,
        tenant TEXT NOT NULL,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (provider, tenant)
    );",
    // 3: kept in step with SQLite's version 3 (compressed bodies there; nothing here).
    "SELECT 1;",
    // 4: kept in step with SQLite's version 4 (compression dictionaries there).
    "SELECT 1;",
];

/// The newest schema version this binary knows (both backends share it).
pub const SUPPORTED: i64 = 4;

const _: () = assert!(SQLITE.len() as i64 == SUPPORTED && POSTGRES.len() as i64 == SUPPORTED);

/// Fails with [`Error::SchemaTooNew`] when `found` is newer than [`SUPPORTED`].
pub(crate) fn check(store: &str, found: i64) -> Result<()> {
    if found > SUPPORTED {
        return Err(Error::SchemaTooNew {
            store: store.to_string(),
            found,
            supported: SUPPORTED,
        });
    }
    Ok(())
}
