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

/// Every row of `sql`'s two columns.
fn pairs<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
    conn: &rusqlite::Connection,
    sql: &str,
) -> Vec<(A, B)> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn each_kind_is_compressed_against_one_dictionary_kept_with_its_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = ocean_store::open(path.to_str().unwrap()).await.unwrap();
    let write = |ids: std::ops::Range<usize>| -> Vec<ocean_store::ItemWrite> {
        ids.map(|i| ocean_store::ItemWrite {
            id: i.to_string(),
            parent: None,
            json: big_json(&i.to_string()),
        })
        .collect()
    };
    // A load (compressed ahead), a later webhook-sized write (inline), another kind.
    for (kind, items) in [
        ("issue", write(0..100)),
        ("issue", write(100..101)),
        ("board", write(0..3)),
    ] {
        store
            .apply(&scope(), None, kind, &items, &[], None)
            .await
            .unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let dicts: Vec<(i64, String)> = pairs(&conn, "SELECT id, kind FROM body_dicts ORDER BY id");
    assert_eq!(dicts, [(1, "issue".to_string()), (2, "board".to_string())]);
    // Every body: codec 2 (LZ4 with a dictionary), then the id of its kind's dictionary.
    let bodies: Vec<(String, Vec<u8>)> = pairs(
        &conn,
        "SELECT i.kind, j.json FROM items i JOIN item_json j ON j.item = i.item",
    );
    assert_eq!(bodies.len(), 104);
    for (kind, body) in &bodies {
        let dict = if kind == "issue" { 1u32 } else { 2 };
        assert_eq!(body[0], 2, "{kind}");
        assert_eq!(body[5..9], dict.to_le_bytes(), "{kind}");
    }
    let mut want: Vec<_> = (0..3)
        .map(|i| (i.to_string(), big_json(&i.to_string())))
        .chain((0..101).map(|i| (i.to_string(), big_json(&i.to_string()))))
        .collect();
    want.sort();
    let mut got: Vec<_> = exported(&*store)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    got.sort();
    assert_eq!(got, want);

    // Without its dictionary a body cannot be read: a corrupt store, not garbage. A
    // dictionary made afterwards never takes the lost one's id.
    conn.execute("DELETE FROM body_dicts WHERE kind = 'board'", [])
        .unwrap();
    store
        .apply(&scope(), None, "board", &write(3..4), &[], None)
        .await
        .unwrap();
    let ids: Vec<(i64, String)> = pairs(&conn, "SELECT id, kind FROM body_dicts ORDER BY id");
    assert_eq!(ids, [(1, "issue".to_string()), (3, "board".to_string())]);
    let e = exported(&*store)
        .await
        .into_iter()
        .find_map(Result::err)
        .expect("the boards fail");
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("dictionary 2"), "{e}");
}

/// `big_json` of `id`, version `v`.
fn versioned(id: usize, v: u32) -> ocean_store::ItemWrite {
    ocean_store::ItemWrite {
        id: format!("{id:04}"),
        parent: None,
        json: big_json(&format!("{id}-v{v}")),
    }
}

#[tokio::test]
async fn batches_compressed_ahead_keep_each_body_with_its_item() {
    use ocean_store::ItemAction::{Created, Unchanged, Updated};
    let dir = tempfile::tempdir().unwrap();
    let store = ocean_store::open(dir.path().join("c.db").to_str().unwrap())
        .await
        .unwrap();
    // A load of new items: compressed ahead of the writer.
    let first: Vec<_> = (0..300).map(|i| versioned(i, 1)).collect();
    let a = store
        .apply(&scope(), None, "issue", &first, &[], None)
        .await
        .unwrap();
    assert!(a.actions.iter().all(|a| *a == Created));
    // A batch that starts with a new item (so it is compressed ahead too) then mixes
    // unchanged, changed and new items: each body must land with its own item.
    let mut mixed = vec![versioned(1000, 1)];
    mixed.extend((0..300).map(|i| versioned(i, if i % 3 == 0 { 2 } else { 1 })));
    mixed.extend((1001..1100).map(|i| versioned(i, 1)));
    let a = store
        .apply(&scope(), None, "issue", &mixed, &[], None)
        .await
        .unwrap();
    let expected: Vec<_> = mixed
        .iter()
        .enumerate()
        .map(|(n, _)| match n {
            0 => Created,
            n if n <= 300 && (n - 1) % 3 == 0 => Updated,
            n if n <= 300 => Unchanged,
            _ => Created,
        })
        .collect();
    assert_eq!(a.actions, expected);
    // A batch of stored items, changed (compressed inline, as needed).
    let rerun: Vec<_> = (0..300).map(|i| versioned(i, 3)).collect();
    store
        .apply(&scope(), None, "issue", &rerun, &[], None)
        .await
        .unwrap();
    let mut want: Vec<_> = rerun
        .iter()
        .chain(&mixed[..1])
        .chain(&mixed[301..])
        .map(|i| (i.id.clone(), i.json.clone()))
        .collect();
    want.sort();
    let got: Vec<_> = exported(&*store)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn committed_writes_reach_the_database_file_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = ocean_store::open(path.to_str().unwrap()).await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let items: Vec<_> = (0..200).map(|i| versioned(i, 1)).collect();
    store
        .apply(&scope(), None, "issue", &items, &[], None)
        .await
        .unwrap();
    // The commit is in the log; the checkpointer copies it into the file on its own,
    // far below the writer's autocheckpoint.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(store);
}
