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

/// Every live item of `store`, as export yields them: (id, json).
async fn exported(store: &dyn ocean_store::Store) -> Vec<Result<(String, String), Error>> {
    use futures::StreamExt;
    store
        .export(ocean_store::ExportFilter::default())
        .map(|r| r.map(|i| (i.id, i.json)))
        .collect()
        .await
}

/// A Jira-like body: repetitive, so it is stored compressed; non-ASCII and escapes kept.
fn big_json(id: &str) -> String {
    let field = r#"{"self":"https://x.example/rest/api/3/status/1","name":"To Do \u00e9 é ☃"}"#;
    format!(r#"{{"id":"{id}", "fields": {{"a":{field},"b":{field},"c":{field},"d":{field}}}}}"#)
}

#[tokio::test]
async fn bodies_are_stored_compressed_and_legacy_text_rows_still_read_byte_equal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = ocean_store::open(path.to_str().unwrap()).await.unwrap();
    let items: Vec<_> = ["1", "2", "3"]
        .iter()
        .map(|id| ocean_store::ItemWrite {
            id: id.to_string(),
            parent: None,
            json: big_json(id),
        })
        .collect();
    store
        .apply(&scope(), None, "issue", &items, &[], None)
        .await
        .unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let types: Vec<String> = conn
        .prepare("SELECT typeof(json) FROM item_json ORDER BY item")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(types, ["blob", "blob", "blob"]);
    let stored: i64 = conn
        .query_row("SELECT length(json) FROM item_json LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        (stored as usize) < big_json("1").len() / 2,
        "{stored} bytes stored of {}",
        big_json("1").len()
    );
    // Item 2 as a store written before compression holds it: the JSON as TEXT.
    let legacy = format!("{} ", big_json("2"));
    conn.execute(
        "UPDATE item_json SET json = ?1 WHERE item =
             (SELECT item FROM items WHERE id = '2')",
        [&legacy],
    )
    .unwrap();
    let ty: String = conn
        .query_row(
            "SELECT typeof(json) FROM item_json j JOIN items i ON i.item = j.item
             WHERE i.id = '2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ty, "text");

    let got: Vec<_> = exported(&*store)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        got,
        [
            ("1".to_string(), big_json("1")),
            ("2".to_string(), legacy),
            ("3".to_string(), big_json("3")),
        ]
    );
}

#[tokio::test]
async fn a_damaged_compressed_body_is_a_corrupt_store_not_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = ocean_store::open(path.to_str().unwrap()).await.unwrap();
    let item = ocean_store::ItemWrite {
        id: "1".into(),
        parent: None,
        json: big_json("1"),
    };
    store
        .apply(&scope(), None, "issue", &[item], &[], None)
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    // The codec tag of the blob replaced by one no ocean writes.
    conn.execute(
        "UPDATE item_json SET json = CAST(X'09' || substr(json, 2) AS BLOB)",
        [],
    )
    .unwrap();
    let got = exported(&*store).await;
    assert_eq!(got.len(), 1);
    let e = got.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("unknown encoding 9"), "{e}");
}
