//! What is particular to the SQLite store.

use ocean_store::{Error, Scope};

fn scope() -> Scope {
    Scope {
        provider: "jira".into(),
        tenant: "https://x.example".into(),
    }
}

#[tokio::test]
async fn the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    drop(ocean_store::open(path.to_str().unwrap()).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, ocean_store::SCHEMA_VERSION);
}

#[cfg(unix)]
#[tokio::test]
async fn a_link_to_the_file_shares_its_locks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let link = dir.path().join("link.db");
    let store = ocean_store::open(path.to_str().unwrap()).await.unwrap();
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let linked = ocean_store::open(link.to_str().unwrap()).await.unwrap();
    let _held = store.lock(&scope()).await.unwrap();
    let e = linked
        .lock(&scope())
        .await
        .err()
        .expect("busy through the link");
    assert!(matches!(e, Error::Busy { .. }), "{e}");
    assert!(
        e.to_string().contains("link.db"),
        "names the store as given: {e}"
    );
}
