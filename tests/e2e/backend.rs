//! Where an e2e test keeps its catalog: SQLite in a temporary directory, or PostgreSQL
//! (the server `OCEAN_TEST_POSTGRES` names) in a fresh schema of its own, so tests run
//! in parallel on a database that outlives them. `on_both_backends!` makes one test per
//! backend; the PostgreSQL variant prints why it is skipped when no server is
//! configured or reachable, and fails instead under `OCEAN_REQUIRE_POSTGRES=1`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A test's catalog.
pub enum Backend {
    /// A SQLite file in this directory.
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL schema: the server's URL, the schema, and the store spec using it.
    Postgres {
        url: String,
        schema: String,
        spec: String,
    },
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    /// PostgreSQL from `OCEAN_TEST_POSTGRES`, in a fresh schema, or `None` after saying
    /// why not.
    pub async fn postgres(test: &str) -> Option<Backend> {
        let required = std::env::var("OCEAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let url = match std::env::var("OCEAN_TEST_POSTGRES") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                let why = "OCEAN_TEST_POSTGRES is not set";
                if required {
                    panic!("{test}: {why}, and OCEAN_REQUIRE_POSTGRES=1 requires PostgreSQL");
                }
                eprintln!("SKIPPED {test} on PostgreSQL: {why}");
                return None;
            }
        };
        let client = match admin(&url).await {
            Ok(client) => client,
            Err(e) if !required => {
                eprintln!("SKIPPED {test} on PostgreSQL: server unreachable: {e}");
                return None;
            }
            Err(e) => panic!("{test}: PostgreSQL unreachable ({e}), and OCEAN_REQUIRE_POSTGRES=1"),
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "e2e_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create the test's schema");
        let sep = if url.contains('?') { '&' } else { '?' };
        let spec = format!("{url}{sep}options=-csearch_path%3D{schema}");
        Some(Backend::Postgres { url, schema, spec })
    }

    /// The store spec.
    pub fn spec(&self) -> String {
        match self {
            Backend::Sqlite(dir) => format!("sqlite:{}", dir.path().join("catalog.db").display()),
            Backend::Postgres { spec, .. } => spec.clone(),
        }
    }

    /// A directory for the test's other files.
    pub fn dir(&self) -> PathBuf {
        match self {
            Backend::Sqlite(dir) => dir.path().to_path_buf(),
            Backend::Postgres { .. } => std::env::temp_dir(),
        }
    }

    /// Drops the test's PostgreSQL schema (the SQLite directory goes with `self`).
    pub async fn cleanup(self) {
        if let Backend::Postgres { url, schema, .. } = self {
            if let Ok(client) = admin(&url).await {
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                    .await;
            }
        }
    }
}

/// A connection for setting up (or tampering with) a test's schema.
pub async fn admin(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// `mod sqlite` and `mod postgres`, each with one test `name` per `name => body`, where
/// `body` is an `async fn(&Backend)` of the enclosing module.
macro_rules! on_both_backends {
    ($($name:ident => $body:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$body(&crate::backend::Backend::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(backend) =
                        crate::backend::Backend::postgres(stringify!($name)).await
                    else {
                        return;
                    };
                    super::$body(&backend).await;
                    // Reached only when the test passed: a failed one leaves its schema
                    // to look at.
                    backend.cleanup().await;
                }
            )*
        }
    };
}
