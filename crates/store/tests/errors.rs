//! Bad stores: each a typed error naming the store, never its password.

#[allow(dead_code)]
mod common;

use ocean_store::{Error, SCHEMA_VERSION};

#[tokio::test]
async fn a_missing_file_is_created_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = ocean_store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.describe(), path.display().to_string());
    drop(store);
    assert!(path.exists());
    ocean_store::open(&format!("sqlite:{}", path.display()))
        .await
        .expect("reopens");
}

#[tokio::test]
async fn an_unopenable_path_names_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/c.db");
    let e = ocean_store::open(path.to_str().unwrap())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, Error::Open { .. }), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
}

#[tokio::test]
async fn a_corrupted_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let e = ocean_store::open(path.to_str().unwrap())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("junk.db"), "{e}");
}

#[tokio::test]
async fn a_newer_sqlite_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(ocean_store::open(path.to_str().unwrap()).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let e = ocean_store::open(path.to_str().unwrap())
        .await
        .err()
        .unwrap();
    match &e {
        Error::SchemaTooNew {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("future.db"), "{e}");
}

#[tokio::test]
async fn bad_specs_are_refused() {
    for spec in ["", "   ", "sqlite:", "mysql://root:hunter2@db/x"] {
        let e = ocean_store::open(spec).await.err().unwrap();
        assert!(matches!(e, Error::InvalidSpec { .. }), "{spec}: {e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}

#[tokio::test]
async fn a_refusing_postgres_names_the_store_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let spec = "postgres://ocean:s3cr3t@127.0.0.1:1/catalog?connect_timeout=5";
    let e = ocean_store::open(spec).await.err().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, Error::Open { .. }), "{msg}");
    assert!(
        msg.contains("postgres://ocean:***@127.0.0.1:1/catalog"),
        "{msg}"
    );
    assert!(
        !msg.contains("s3cr3t") && !format!("{e:?}").contains("s3cr3t"),
        "{msg}"
    );
}

#[tokio::test]
async fn wrong_postgres_credentials_are_an_open_error() {
    let Some(url) = common::postgres_url("wrong_postgres_credentials_are_an_open_error") else {
        return;
    };
    let Ok(mut cfg) = url::Url::parse(&url) else {
        return;
    };
    cfg.set_path("/ocean_no_such_database");
    let e = ocean_store::open(cfg.as_str()).await.err().unwrap();
    assert!(matches!(e, Error::Open { .. }), "{e}");
    assert!(e.to_string().contains("ocean_no_such_database"), "{e}");
}

#[tokio::test]
async fn a_newer_postgres_schema_is_refused() {
    let test = "a_newer_postgres_schema_is_refused";
    let Some(f) = common::Fixture::postgres(test).await else {
        return;
    };
    let (url, schema) = (
        common::postgres_url(test).unwrap(),
        f.spec.rsplit("%3D").next().unwrap().to_string(),
    );
    let admin = common::admin(&url).await.unwrap();
    admin
        .batch_execute(&format!(
            "UPDATE {schema}.ocean_schema_version SET version = {}",
            SCHEMA_VERSION + 1
        ))
        .await
        .unwrap();
    let e = ocean_store::open(&f.spec).await.err().unwrap();
    assert!(matches!(e, Error::SchemaTooNew { .. }), "{e}");
    f.cleanup().await;
}
