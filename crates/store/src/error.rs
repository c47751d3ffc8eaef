//! Store errors: what failed and on which store (never its password).

/// A store result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed underlying error (a SQLite, PostgreSQL or I/O error).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong with a store. Every variant names the store as [`crate::Store::describe`]
/// prints it: a path, or a URL whose password is replaced by `***`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another process is writing this scope.
    #[error("store {store} is busy: another sync of {provider} at {tenant} holds its lock")]
    Busy {
        /// The store (printable).
        store: String,
        /// The provider.
        provider: String,
        /// The tenant.
        tenant: String,
    },
    /// The store spec names no store this crate can open.
    #[error("invalid store spec {spec:?}: {reason}")]
    InvalidSpec {
        /// The spec, password redacted.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store could not be opened or reached (a missing directory, a refused or
    /// failed PostgreSQL connection, wrong credentials).
    #[error("cannot open store {store}: {}", chain(.source.as_ref()))]
    Open {
        /// The store (printable).
        store: String,
        /// Why.
        #[source]
        source: Source,
    },
    /// The SQLite file is not a database or is damaged.
    #[error("store {store} is corrupted or not an ocean store: {}", chain(.source.as_ref()))]
    Corrupt {
        /// The store (printable).
        store: String,
        /// The database's own error.
        #[source]
        source: Source,
    },
    /// The store was written by a newer ocean-store than this one.
    #[error(
        "store {store} has schema version {found}, newer than the {supported} this ocean supports: upgrade ocean"
    )]
    SchemaTooNew {
        /// The store (printable).
        store: String,
        /// The store's schema version.
        found: i64,
        /// The newest schema version this binary knows.
        supported: i64,
    },
    /// A run id that does not belong to the scope (or does not exist).
    #[error("store {store}: run {run} is not a run of {provider} at {tenant}")]
    UnknownRun {
        /// The store (printable).
        store: String,
        /// The run given.
        run: i64,
        /// The provider.
        provider: String,
        /// The tenant.
        tenant: String,
    },
    /// An argument the store cannot act on (e.g. a negative sweep fraction).
    #[error("store {store}: {reason}")]
    Invalid {
        /// The store (printable).
        store: String,
        /// What is wrong.
        reason: String,
    },
    /// The scope's lock file could not be created or locked.
    #[error("store {store}: cannot use lock file {path}: {source}")]
    LockFile {
        /// The store (printable).
        store: String,
        /// The lock file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A database operation failed.
    #[error("store {store}: {op} failed: {}", chain(.source.as_ref()))]
    Backend {
        /// The store (printable).
        store: String,
        /// What was being done.
        op: &'static str,
        /// The database's own error.
        #[source]
        source: Source,
    },
}

/// `e` and its sources, joined by `: ` (a source whose text is already there is skipped).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
    }
    out
}
