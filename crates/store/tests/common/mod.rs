//! Test fixtures: a fresh store per test on each backend.
//!
//! PostgreSQL tests connect to the server named by `OCEAN_TEST_POSTGRES` and each use
//! their own schema (via the URL's `options=-csearch_path=…`), so they run in parallel.
//! Without that variable (or without a reachable server) they print why and pass,
//! unless `OCEAN_REQUIRE_POSTGRES=1` (CI), which turns the skip into a failure.

use std::sync::atomic::{AtomicU32, Ordering};

use futures::TryStreamExt;
use ocean_store::{CatalogItem, ExportFilter, ItemWrite, Scope, Store};

/// A store under test, with what keeps it alive.
pub struct Fixture {
    /// The store.
    pub store: Box<dyn Store>,
    /// The spec it was opened with.
    pub spec: String,
    /// Which backend.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// The PostgreSQL server to test against, or `None` (after saying why) to skip.
pub fn postgres_url(test: &str) -> Option<String> {
    let required = std::env::var("OCEAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match std::env::var("OCEAN_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let why = "OCEAN_TEST_POSTGRES is not set";
            if required {
                panic!("{test}: {why}, and OCEAN_REQUIRE_POSTGRES=1 requires PostgreSQL");
            }
            eprintln!(
                "SKIPPED {test} on PostgreSQL: {why} (e.g. postgres://postgres@localhost/postgres)"
            );
            None
        }
    }
}

fn skip_unreachable(test: &str, why: String) -> Option<Fixture> {
    if std::env::var("OCEAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("{test}: PostgreSQL unreachable ({why}), and OCEAN_REQUIRE_POSTGRES=1");
    }
    eprintln!("SKIPPED {test} on PostgreSQL: server unreachable: {why}");
    None
}

/// `url` with a search path option naming `schema`.
pub fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// A connection for test setup.
pub async fn admin(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

impl Fixture {
    /// A fresh SQLite store in a temporary directory.
    pub async fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = format!("sqlite:{}", dir.path().join("catalog.db").display());
        let store = ocean_store::open(&spec).await.expect("open sqlite store");
        Fixture {
            store,
            spec,
            backend: "sqlite",
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL store in its own schema, or `None` when skipped.
    pub async fn postgres(test: &str) -> Option<Fixture> {
        let url = postgres_url(test)?;
        let client = match admin(&url).await {
            Ok(c) => c,
            Err(e) => {
                let cause = std::error::Error::source(&e).map(|s| format!(": {s}"));
                return skip_unreachable(test, format!("{e}{}", cause.unwrap_or_default()));
            }
        };
        let schema = format!("t_{}", unique());
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        let spec = with_schema(&url, &schema);
        let store = ocean_store::open(&spec).await.expect("open postgres store");
        Some(Fixture {
            store,
            spec,
            backend: "postgres",
            _dir: None,
            pg: Some((url, schema)),
        })
    }

    /// Drops the test's schema (PostgreSQL).
    pub async fn cleanup(self) {
        drop(self.store);
        if let Some((url, schema)) = self.pg {
            if let Ok(c) = admin(&url).await {
                let _ = c
                    .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                    .await;
            }
        }
    }
}

/// A scope unique to the calling test.
pub fn scope(provider: &str) -> Scope {
    Scope {
        provider: provider.into(),
        tenant: format!("https://t{}.example", unique()),
    }
}

/// An item with JSON `{"id":ID,"v":V}`.
pub fn item(id: &str, v: u32) -> ItemWrite {
    ItemWrite {
        id: id.into(),
        parent: None,
        json: format!(r#"{{"id":"{id}","v":{v}}}"#),
    }
}

/// The live items of `scope`, as the whole catalog's export gives them.
pub async fn exported(store: &dyn Store, scope: &Scope) -> Vec<CatalogItem> {
    let all: Vec<CatalogItem> = store
        .export(ExportFilter::default())
        .try_collect()
        .await
        .unwrap();
    all.into_iter()
        .filter(|i| i.tenant == scope.tenant)
        .collect()
}

/// Ids as owned strings.
pub fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Generates one test per backend for each named `async fn(&Fixture)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let f = $crate::common::Fixture::sqlite().await;
                    super::$name(&f).await;
                    f.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(f) = $crate::common::Fixture::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&f).await;
                    f.cleanup().await;
                }
            )*
        }
    };
}
