//! The `Store` contract, run against SQLite and PostgreSQL alike.

mod common;

use common::{Fixture, exported, ids, item, scope};
use futures::TryStreamExt;
use ocean_store::{Error, ExportFilter, ItemAction::*, ItemWrite, KindResult, Sweep};

const T0: i64 = 1_700_000_000_000;

on_both_backends!(
    describe_names_the_store,
    lock_is_exclusive_per_scope,
    lock_is_seen_by_a_second_opener,
    lock_of_a_killed_holder_is_released,
    begin_run_resumes_until_finished,
    apply_reports_created_updated_unchanged,
    a_load_out_of_key_order_keeps_each_body_with_its_item,
    items_hashed_by_an_older_ocean_compare_unchanged,
    apply_deletes_only_live_items,
    apply_with_no_run_for_webhooks,
    a_webhook_write_during_a_run_survives_its_sweep,
    checkpoint_follows_the_run,
    finish_kind_keeps_bookmark_on_success_only,
    unknown_runs_are_refused,
    touch_marks_seen_and_returns_missing,
    sweep_tombstones_unseen,
    kind_state_says_when_nothing_is_live,
    sweep_refuses_over_threshold,
    sweep_rejects_bad_fraction,
    export_is_ordered_filtered_and_paged,
    stats_counts_and_last_run,
    tenants_never_mix,
    two_handles_write_at_once,
);

async fn describe_names_the_store(f: &Fixture) {
    let d = f.store.describe();
    match f.backend {
        "sqlite" => assert!(f.spec.ends_with(&d), "{d} vs {}", f.spec),
        _ => assert!(d.starts_with("postgres"), "{d}"),
    }
}

async fn lock_is_exclusive_per_scope(f: &Fixture) {
    let (a, b) = (scope("jira"), scope("jira"));
    let held = f.store.lock(&a).await.expect("first lock");
    let err = f.store.lock(&a).await.err().expect("second lock must fail");
    assert!(matches!(err, Error::Busy { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("busy") && msg.contains(&a.tenant), "{msg}");
    let _other = f.store.lock(&b).await.expect("another scope is free");
    drop(held);
    let _again = relock(f.store.as_ref(), &a).await;
}

/// Takes a lock just released. PostgreSQL releases a session lock when the server has
/// ended the dropped lock's session, a few milliseconds after the drop: retry briefly.
async fn relock(
    store: &dyn ocean_store::Store,
    s: &ocean_store::Scope,
) -> Box<dyn ocean_store::ScopeLock> {
    for _ in 0..100 {
        match store.lock(s).await {
            Ok(l) => return l,
            Err(Error::Busy { .. }) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("lock of {s:?} not released within 2 s of its drop")
}

async fn lock_is_seen_by_a_second_opener(f: &Fixture) {
    let s = scope("octopus");
    let other = ocean_store::open(&f.spec).await.expect("second open");
    let held = f.store.lock(&s).await.unwrap();
    assert!(matches!(other.lock(&s).await, Err(Error::Busy { .. })));
    drop(held);
    let _l = relock(other.as_ref(), &s).await;
}

/// Not a test of its own: run by `lock_of_a_killed_holder_is_released` in a child
/// process (this same test binary) to hold a lock until it is SIGKILLed.
#[tokio::test]
async fn lock_holder() {
    let (Ok(spec), Ok(tenant)) = (
        std::env::var("OCEAN_STORE_HOLD_SPEC"),
        std::env::var("OCEAN_STORE_HOLD_TENANT"),
    ) else {
        return;
    };
    let store = ocean_store::open(&spec).await.unwrap();
    let _lock = store
        .lock(&ocean_store::Scope {
            provider: "jira".into(),
            tenant,
        })
        .await
        .unwrap();
    println!("locked");
    tokio::time::sleep(std::time::Duration::from_secs(120)).await;
}

async fn lock_of_a_killed_holder_is_released(f: &Fixture) {
    use std::io::BufRead;
    let s = scope("jira");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_holder", "--nocapture", "--test-threads=1"])
        .env("OCEAN_STORE_HOLD_SPEC", &f.spec)
        .env("OCEAN_STORE_HOLD_TENANT", &s.tenant)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let locked = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.contains("locked"))
    });
    assert!(locked.await.unwrap(), "the child did not take the lock");
    assert!(matches!(f.store.lock(&s).await, Err(Error::Busy { .. })));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let _l = relock(f.store.as_ref(), &s).await;
}

async fn begin_run_resumes_until_finished(f: &Fixture) {
    let (s, other) = (scope("jira"), scope("jira"));
    let r1 = f.store.begin_run(&s, T0).await.unwrap();
    assert!(!r1.resumed);
    assert_eq!(r1.started_at, T0);
    let r1b = f.store.begin_run(&s, T0 + 5).await.unwrap();
    assert_eq!((r1b.id, r1b.resumed, r1b.started_at), (r1.id, true, T0));
    let o = f.store.begin_run(&other, T0).await.unwrap();
    assert!(!o.resumed && o.id != r1.id, "scopes have their own runs");
    f.store.finish_run(&s, r1.id).await.unwrap();
    let r2 = f.store.begin_run(&s, T0 + 10).await.unwrap();
    assert!(!r2.resumed && r2.id > r1.id && r2.started_at == T0 + 10);
}

async fn apply_reports_created_updated_unchanged(f: &Fixture) {
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    let a = f
        .store
        .apply(
            &s,
            Some(run),
            "issue",
            &[item("1", 1), item("2", 1)],
            &[],
            None,
        )
        .await;
    assert_eq!(a.unwrap().actions, [Created, Created]);
    let mut child = item("2", 1);
    child.parent = Some(("board_id".into(), "7".into()));
    let batch = [
        item("1", 1),
        child.clone(),
        item("3", 1),
        item("3", 2),
        item("3", 2),
    ];
    let a = f
        .store
        .apply(&s, Some(run), "issue", &batch, &[], None)
        .await
        .unwrap();
    // A parent change is a change; a repeated id sees its earlier write.
    assert_eq!(a.actions, [Unchanged, Updated, Created, Updated, Unchanged]);
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[child], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Unchanged]);
    // The same id in another kind is another item.
    let a = f
        .store
        .apply(&s, Some(run), "board", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Created]);
    let mine = exported(f.store.as_ref(), &s).await;
    assert_eq!(mine.len(), 4);
    let two = mine
        .iter()
        .find(|i| i.kind == "issue" && i.id == "2")
        .unwrap();
    assert_eq!(two.parent, Some(("board_id".into(), "7".into())));
    assert_eq!(two.json, r#"{"id":"2","v":1}"#);
    let three = mine
        .iter()
        .find(|i| i.kind == "issue" && i.id == "3")
        .unwrap();
    assert_eq!(three.json, r#"{"id":"3","v":2}"#, "bytes kept exactly");
}

/// The stored hash of the only item of `s`, or with `set`, replaced by it first.
async fn raw_hash(f: &Fixture, s: &ocean_store::Scope, set: Option<&[u8]>) -> Vec<u8> {
    let tenant = s.tenant.as_str();
    match f.backend {
        "sqlite" => {
            let conn = rusqlite::Connection::open(f.spec.trim_start_matches("sqlite:")).unwrap();
            if let Some(hash) = set {
                conn.execute(
                    "UPDATE items SET hash = ?1 WHERE tenant = ?2",
                    (hash, tenant),
                )
                .unwrap();
            }
            conn.query_row("SELECT hash FROM items WHERE tenant = ?1", [tenant], |r| {
                r.get(0)
            })
            .unwrap()
        }
        _ => {
            let client = common::admin(&f.spec).await.unwrap();
            if let Some(hash) = set {
                client
                    .execute(
                        "UPDATE items SET hash = $1 WHERE tenant = $2",
                        &[&hash, &tenant],
                    )
                    .await
                    .unwrap();
            }
            client
                .query_one("SELECT hash FROM items WHERE tenant = $1", &[&tenant])
                .await
                .unwrap()
                .get(0)
        }
    }
}

async fn a_load_out_of_key_order_keeps_each_body_with_its_item(f: &Fixture) {
    // Bodies long enough to be compressed (ahead of the writer, in SQLite) and different
    // for every item: a body written under another item's key would show.
    let body = |id: &str, v: u32| ItemWrite {
        id: id.into(),
        parent: None,
        json: format!(r#"{{"id":"{id}","v":{v},"pad":"{}"}}"#, "ab".repeat(200)),
    };
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    // A load of 100 new items against key order, then the first id again, changed.
    let mut batch: Vec<_> = (0..100)
        .rev()
        .map(|n| body(&format!("{n:03}"), n))
        .collect();
    batch.push(body("099", 1000));
    let a = f
        .store
        .apply(&s, Some(run), "issue", &batch, &[], None)
        .await
        .unwrap();
    let mut expected = vec![Created; 100];
    expected.push(Updated);
    assert_eq!(
        a.actions, expected,
        "one action per item, in the order given"
    );
    let mine = exported(f.store.as_ref(), &s).await;
    assert_eq!(mine.len(), 100);
    for item in mine {
        let n: u32 = item.id.parse().unwrap();
        let v = if n == 99 { 1000 } else { n };
        assert_eq!(item.json, body(&item.id, v).json, "item {}", item.id);
    }
}

async fn items_hashed_by_an_older_ocean_compare_unchanged(f: &Fixture) {
    use sha2::{Digest, Sha256};
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    let one = item("1", 1);
    f.store
        .apply(
            &s,
            Some(run),
            "issue",
            std::slice::from_ref(&one),
            &[],
            None,
        )
        .await
        .unwrap();
    let current = raw_hash(f, &s, None).await;
    // What stores before XXH3 hold: SHA-256 of the parent marker and the JSON, 16 bytes.
    let mut sha = Sha256::new();
    sha.update([0u8]);
    sha.update(one.json.as_bytes());
    let legacy = sha.finalize()[..16].to_vec();
    raw_hash(f, &s, Some(&legacy)).await;
    let again = [one.clone(), one.clone()];
    let a = f
        .store
        .apply(&s, Some(run), "issue", &again, &[], None)
        .await;
    assert_eq!(a.unwrap().actions, [Unchanged, Unchanged]);
    assert_eq!(
        raw_hash(f, &s, None).await,
        current,
        "the new hash is stored"
    );
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[item("1", 2)], &[], None)
        .await;
    assert_eq!(a.unwrap().actions, [Updated]);
    // Another content's legacy hash is no match.
    raw_hash(f, &s, Some(&legacy)).await;
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[item("1", 3)], &[], None)
        .await;
    assert_eq!(a.unwrap().actions, [Updated]);
}

async fn apply_deletes_only_live_items(f: &Fixture) {
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    f.store
        .apply(
            &s,
            Some(run),
            "issue",
            &[item("1", 1), item("2", 1)],
            &[],
            None,
        )
        .await
        .unwrap();
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[], &ids(&["1", "9", "1"]), None)
        .await;
    let a = a.unwrap();
    assert!(a.actions.is_empty());
    assert_eq!(
        a.deleted,
        ids(&["1"]),
        "unknown and repeated ids are not reported"
    );
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[], &ids(&["1"]), None)
        .await
        .unwrap();
    assert!(a.deleted.is_empty(), "already tombstoned");
    // A tombstoned item that comes back is created again.
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Created]);
    // Upsert and delete in one call: the delete wins.
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[item("2", 5)], &ids(&["2"]), None)
        .await;
    let a = a.unwrap();
    assert_eq!((a.actions, a.deleted), (vec![Updated], ids(&["2"])));
    let st = stats_of(f, &s, "issue").await;
    assert_eq!((st.live, st.tombstoned), (1, 1));
}

async fn apply_with_no_run_for_webhooks(f: &Fixture) {
    let s = scope("jira");
    let a = f
        .store
        .apply(&s, None, "issue", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Created]);
    let a = f
        .store
        .apply(&s, None, "issue", &[item("1", 2)], &ids(&["1"]), None)
        .await
        .unwrap();
    assert_eq!((a.actions, a.deleted), (vec![Updated], ids(&["1"])));
    // Seen by a later full run's census: not swept.
    f.store
        .apply(&s, None, "issue", &[item("2", 1)], &[], None)
        .await
        .unwrap();
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    assert!(
        f.store
            .touch(&s, run, "issue", &ids(&["2"]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        f.store.sweep(&s, run, "issue", 1.0).await.unwrap(),
        Sweep::Deleted(vec![])
    );
}

async fn a_webhook_write_during_a_run_survives_its_sweep(f: &Fixture) {
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    f.store
        .apply(&s, Some(run), "project", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    // Between the run's listing and its sweep, a webhook creates "2" and repeats "1".
    f.store
        .apply(
            &s,
            None,
            "project",
            &[item("2", 1), item("1", 1)],
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        f.store.sweep(&s, run, "project", 1.0).await.unwrap(),
        Sweep::Deleted(vec![])
    );
    assert_eq!(stats_of(f, &s, "project").await.live, 2);
    // With no run under way, a webhook write changes no run's view.
    f.store.finish_run(&s, run).await.unwrap();
    f.store
        .apply(&s, None, "project", &[item("3", 1)], &[], None)
        .await
        .unwrap();
    let next = f.store.begin_run(&s, T0 + 1).await.unwrap().id;
    f.store
        .apply(
            &s,
            Some(next),
            "project",
            &[item("1", 1), item("2", 1)],
            &[],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        f.store.sweep(&s, next, "project", 1.0).await.unwrap(),
        Sweep::Deleted(ids(&["3"]))
    );
}

async fn checkpoint_follows_the_run(f: &Fixture) {
    let s = scope("jira");
    assert_eq!(
        f.store.kind_state(&s, "issue").await.unwrap(),
        ocean_store::KindState {
            no_live_items: true,
            ..Default::default()
        }
    );
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    f.store
        .apply(&s, Some(run), "issue", &[item("1", 1)], &[], Some("page=2"))
        .await
        .unwrap();
    f.store
        .apply(&s, Some(run), "issue", &[item("2", 1)], &[], None)
        .await
        .unwrap();
    let st = f.store.kind_state(&s, "issue").await.unwrap();
    assert_eq!(
        st.checkpoint.as_deref(),
        Some("page=2"),
        "None leaves it as it was"
    );
    assert!(!st.done_in_run);
    assert_eq!(
        f.store.kind_state(&s, "board").await.unwrap().checkpoint,
        None
    );
    // Resumed (crash): the checkpoint is still there.
    assert!(f.store.begin_run(&s, T0 + 1).await.unwrap().resumed);
    assert_eq!(
        f.store
            .kind_state(&s, "issue")
            .await
            .unwrap()
            .checkpoint
            .as_deref(),
        Some("page=2")
    );
    // A run that ended without finishing the kind leaves no checkpoint for the next run.
    f.store.finish_run(&s, run).await.unwrap();
    assert_eq!(
        f.store.kind_state(&s, "issue").await.unwrap().checkpoint,
        None
    );
    f.store.begin_run(&s, T0 + 2).await.unwrap();
    assert_eq!(
        f.store.kind_state(&s, "issue").await.unwrap().checkpoint,
        None
    );
}

async fn finish_kind_keeps_bookmark_on_success_only(f: &Fixture) {
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    f.store
        .apply(&s, Some(run), "issue", &[item("1", 1)], &[], Some("c1"))
        .await
        .unwrap();
    let ok = KindResult {
        created: 1,
        bookmark: Some(T0),
        ..Default::default()
    };
    f.store.finish_kind(&s, run, "issue", &ok).await.unwrap();
    let st = f.store.kind_state(&s, "issue").await.unwrap();
    assert_eq!(
        st,
        ocean_store::KindState {
            bookmark: Some(T0),
            checkpoint: None,
            done_in_run: true,
            no_live_items: false,
        }
    );
    f.store.finish_run(&s, run).await.unwrap();

    let run2 = f.store.begin_run(&s, T0 + 100).await.unwrap().id;
    let st = f.store.kind_state(&s, "issue").await.unwrap();
    assert_eq!(
        (st.bookmark, st.done_in_run),
        (Some(T0), false),
        "done is per run"
    );
    f.store
        .apply(&s, Some(run2), "issue", &[], &[], Some("c2"))
        .await
        .unwrap();
    let failed = KindResult {
        error: Some("HTTP 500".into()),
        bookmark: Some(T0 + 100),
        ..Default::default()
    };
    f.store
        .finish_kind(&s, run2, "issue", &failed)
        .await
        .unwrap();
    let st = f.store.kind_state(&s, "issue").await.unwrap();
    assert_eq!(
        st,
        ocean_store::KindState {
            bookmark: Some(T0),
            checkpoint: None,
            done_in_run: false,
            no_live_items: false,
        }
    );
    // A kind that never had state gets it on its first success.
    let ok = KindResult {
        bookmark: Some(5),
        ..Default::default()
    };
    f.store.finish_kind(&s, run2, "board", &ok).await.unwrap();
    let st = f.store.kind_state(&s, "board").await.unwrap();
    assert_eq!((st.bookmark, st.done_in_run), (Some(5), true));
}

async fn unknown_runs_are_refused(f: &Fixture) {
    let (s, other) = (scope("jira"), scope("jira"));
    let run = f.store.begin_run(&other, T0).await.unwrap().id;
    let e = f.store.finish_run(&s, run).await.unwrap_err();
    assert!(matches!(e, Error::UnknownRun { .. }), "{e}");
    let e = f
        .store
        .finish_kind(&s, 987_654, "issue", &KindResult::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UnknownRun { .. }), "{e}");
}

async fn touch_marks_seen_and_returns_missing(f: &Fixture) {
    let s = scope("jira");
    let r1 = f.store.begin_run(&s, T0).await.unwrap().id;
    let items = [item("1", 1), item("2", 1), item("3", 1)];
    f.store
        .apply(&s, Some(r1), "issue", &items, &ids(&["3"]), None)
        .await
        .unwrap();
    f.store.finish_run(&s, r1).await.unwrap();
    let r2 = f.store.begin_run(&s, T0 + 1).await.unwrap().id;
    let missing = f
        .store
        .touch(&s, r2, "issue", &ids(&["4", "1", "3"]))
        .await
        .unwrap();
    assert_eq!(
        missing,
        ids(&["4", "3"]),
        "unknown and tombstoned ids, in the order given"
    );
    // "1" was seen in r2 by the census, "2" was not.
    assert_eq!(
        f.store.sweep(&s, r2, "issue", 1.0).await.unwrap(),
        Sweep::Deleted(ids(&["2"]))
    );
    assert!(
        f.store
            .touch(&s, r2, "issue", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn kind_state_says_when_nothing_is_live(f: &Fixture) {
    let (s, other) = (scope("jira"), scope("jira"));
    let nothing = |st: ocean_store::KindState| st.no_live_items;
    assert!(
        nothing(f.store.kind_state(&s, "issue").await.unwrap()),
        "empty"
    );
    // Another tenant's items, or another kind's, are not this kind's.
    f.store
        .apply(&other, None, "issue", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    f.store
        .apply(&s, None, "project", &[item("P", 1)], &[], None)
        .await
        .unwrap();
    assert!(nothing(f.store.kind_state(&s, "issue").await.unwrap()));
    // A webhook's item is live; tombstoned, it is not.
    f.store
        .apply(&s, None, "issue", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    assert!(!nothing(f.store.kind_state(&s, "issue").await.unwrap()));
    f.store
        .apply(&s, None, "issue", &[], &ids(&["1"]), None)
        .await
        .unwrap();
    assert!(nothing(f.store.kind_state(&s, "issue").await.unwrap()));
}

async fn sweep_tombstones_unseen(f: &Fixture) {
    let s = scope("octopus");
    let r1 = f.store.begin_run(&s, T0).await.unwrap().id;
    assert_eq!(
        f.store.sweep(&s, r1, "project", 0.5).await.unwrap(),
        Sweep::Deleted(vec![])
    );
    let items: Vec<ItemWrite> = (0..10).map(|i| item(&format!("p{i}"), 1)).collect();
    f.store
        .apply(&s, Some(r1), "project", &items, &[], None)
        .await
        .unwrap();
    f.store
        .apply(&s, Some(r1), "space", &[item("s", 1)], &[], None)
        .await
        .unwrap();
    f.store.finish_run(&s, r1).await.unwrap();
    let r2 = f.store.begin_run(&s, T0 + 1).await.unwrap().id;
    f.store
        .apply(&s, Some(r2), "project", &items[..7], &[], None)
        .await
        .unwrap();
    let swept = f.store.sweep(&s, r2, "project", 0.5).await.unwrap();
    assert_eq!(swept, Sweep::Deleted(ids(&["p7", "p8", "p9"])));
    let st = stats_of(f, &s, "project").await;
    assert_eq!((st.live, st.tombstoned), (7, 3));
    assert_eq!(
        stats_of(f, &s, "space").await.live,
        1,
        "other kinds untouched"
    );
    // Swept items coming back are created.
    let a = f
        .store
        .apply(&s, Some(r2), "project", &items[7..], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Created, Created, Created]);
}

async fn sweep_refuses_over_threshold(f: &Fixture) {
    let s = scope("jira");
    let r1 = f.store.begin_run(&s, T0).await.unwrap().id;
    let items: Vec<ItemWrite> = (0..10).map(|i| item(&i.to_string(), 1)).collect();
    f.store
        .apply(&s, Some(r1), "issue", &items, &[], None)
        .await
        .unwrap();
    f.store.finish_run(&s, r1).await.unwrap();
    let r2 = f.store.begin_run(&s, T0 + 1).await.unwrap().id;
    f.store
        .apply(&s, Some(r2), "issue", &items[..4], &[], None)
        .await
        .unwrap();
    let swept = f.store.sweep(&s, r2, "issue", 0.5).await.unwrap();
    assert_eq!(
        swept,
        Sweep::Refused {
            would_delete: 6,
            live: 10
        }
    );
    let st = stats_of(f, &s, "issue").await;
    assert_eq!((st.live, st.tombstoned), (10, 0), "nothing changed");
    // Exactly at the threshold is allowed.
    f.store
        .apply(&s, Some(r2), "issue", &items[4..5], &[], None)
        .await
        .unwrap();
    let swept = f.store.sweep(&s, r2, "issue", 0.5).await.unwrap();
    assert_eq!(swept, Sweep::Deleted(ids(&["5", "6", "7", "8", "9"])));
}

async fn sweep_rejects_bad_fraction(f: &Fixture) {
    let s = scope("jira");
    let r = f.store.begin_run(&s, T0).await.unwrap().id;
    for bad in [f64::NAN, -0.1, f64::INFINITY] {
        let e = f.store.sweep(&s, r, "issue", bad).await.unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }), "{e}");
    }
}

async fn export_is_ordered_filtered_and_paged(f: &Fixture) {
    let (j, o) = (scope("jira"), scope("octopus"));
    let rj = f.store.begin_run(&j, T0).await.unwrap().id;
    let ro = f.store.begin_run(&o, T0).await.unwrap().id;
    // More than one export page (1000) of one kind, written out of order.
    let mut many: Vec<ItemWrite> = (0..2345).map(|i| item(&format!("{i:05}"), 1)).collect();
    many.reverse();
    for chunk in many.chunks(500) {
        f.store
            .apply(&j, Some(rj), "issue", chunk, &[], None)
            .await
            .unwrap();
    }
    f.store
        .apply(&j, Some(rj), "issue", &[], &ids(&["00007"]), None)
        .await
        .unwrap();
    f.store
        .apply(&j, Some(rj), "board", &[item("b", 1)], &[], None)
        .await
        .unwrap();
    f.store
        .apply(&o, Some(ro), "project", &[item("p", 1)], &[], None)
        .await
        .unwrap();

    let all: Vec<_> = f
        .store
        .export(ExportFilter::default())
        .try_collect()
        .await
        .unwrap();
    let keys: Vec<_> = all
        .iter()
        .map(|i| (i.provider.clone(), i.kind.clone(), i.id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ordered by provider, kind, id");
    assert_eq!(all.len(), 2344 + 2);
    assert!(
        !all.iter().any(|i| i.id == "00007"),
        "tombstones are not exported"
    );

    let filter = ExportFilter {
        provider: Some("jira".into()),
        kinds: vec!["board".into()],
    };
    let boards: Vec<_> = f.store.export(filter).try_collect().await.unwrap();
    assert_eq!(boards.len(), 1);
    assert_eq!(
        (boards[0].kind.as_str(), boards[0].tenant.as_str()),
        ("board", j.tenant.as_str())
    );
    let filter = ExportFilter {
        provider: Some("octopus".into()),
        kinds: vec![],
    };
    let octo: Vec<_> = f.store.export(filter).try_collect().await.unwrap();
    assert_eq!(octo.len(), 1);
    let filter = ExportFilter {
        provider: None,
        kinds: vec!["issue".into(), "project".into()],
    };
    assert_eq!(
        f.store
            .export(filter)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        2345
    );
}

async fn stats_counts_and_last_run(f: &Fixture) {
    let s = scope("jira");
    let r1 = f.store.begin_run(&s, T0).await.unwrap().id;
    f.store
        .apply(
            &s,
            Some(r1),
            "issue",
            &[item("1", 1), item("2", 1)],
            &ids(&["2"]),
            None,
        )
        .await
        .unwrap();
    let res = KindResult {
        created: 2,
        deleted: 1,
        requests: 3,
        elapsed_ms: 40,
        bookmark: Some(T0),
        ..Default::default()
    };
    f.store.finish_kind(&s, r1, "issue", &res).await.unwrap();
    let fail = KindResult {
        error: Some("boom".into()),
        ..Default::default()
    };
    f.store.finish_kind(&s, r1, "board", &fail).await.unwrap();
    f.store.finish_run(&s, r1).await.unwrap();
    let st = stats_of(f, &s, "issue").await;
    assert_eq!((st.live, st.tombstoned), (1, 1));
    assert_eq!(st.last_run, Some((r1, T0, res)));
    let board = stats_of(f, &s, "board").await;
    assert_eq!(
        (board.live, board.last_run.map(|r| r.2.error)),
        (0, Some(Some("boom".into())))
    );
    let r2 = f.store.begin_run(&s, T0 + 9).await.unwrap().id;
    let res2 = KindResult {
        unchanged: 1,
        ..Default::default()
    };
    f.store.finish_kind(&s, r2, "issue", &res2).await.unwrap();
    assert_eq!(
        stats_of(f, &s, "issue").await.last_run,
        Some((r2, T0 + 9, res2))
    );
}

async fn tenants_never_mix(f: &Fixture) {
    let (a, b) = (scope("jira"), scope("jira"));
    let ra = f.store.begin_run(&a, T0).await.unwrap().id;
    let rb = f.store.begin_run(&b, T0).await.unwrap().id;
    f.store
        .apply(&a, Some(ra), "issue", &[item("1", 1)], &[], Some("a"))
        .await
        .unwrap();
    let x = f
        .store
        .apply(&b, Some(rb), "issue", &[item("1", 2)], &ids(&["1"]), None)
        .await;
    let x = x.unwrap();
    assert_eq!(x.actions, [Created]);
    let x = f
        .store
        .apply(&b, Some(rb), "issue", &[], &ids(&["1"]), None)
        .await
        .unwrap();
    assert!(x.deleted.is_empty());
    assert_eq!(
        f.store.kind_state(&b, "issue").await.unwrap().checkpoint,
        None
    );
    assert_eq!(
        f.store.touch(&b, rb, "issue", &ids(&["1"])).await.unwrap(),
        ids(&["1"])
    );
    assert_eq!(
        f.store.sweep(&b, rb, "issue", 1.0).await.unwrap(),
        Sweep::Deleted(vec![])
    );
    assert_eq!(stats_of(f, &a, "issue").await.live, 1);
    let st = stats_of(f, &b, "issue").await;
    assert_eq!((st.live, st.tombstoned), (0, 1));
    // The same id live in both: exported once per tenant, each with its own bytes.
    f.store
        .apply(&b, Some(rb), "issue", &[item("1", 3)], &[], None)
        .await
        .unwrap();
    let all: Vec<_> = f
        .store
        .export(ExportFilter::default())
        .try_collect()
        .await
        .unwrap();
    let ones: Vec<_> = all
        .iter()
        .filter(|i| i.id == "1" && (i.tenant == a.tenant || i.tenant == b.tenant))
        .map(|i| (i.tenant.clone(), i.json.clone()))
        .collect();
    let mut want = vec![
        (a.tenant.clone(), r#"{"id":"1","v":1}"#.to_string()),
        (b.tenant.clone(), r#"{"id":"1","v":3}"#.to_string()),
    ];
    want.sort();
    assert_eq!(ones, want, "ordered by tenant after provider, kind and id");
}

async fn stats_of(f: &Fixture, s: &ocean_store::Scope, kind: &str) -> ocean_store::KindStats {
    let all = f.store.stats().await.unwrap();
    all.into_iter()
        .find(|k| &k.scope == s && k.kind == kind)
        .unwrap_or_else(|| panic!("no stats for {kind} of {s:?}"))
}

/// A call that fails half way leaves nothing of its effect (PostgreSQL refuses a NUL
/// byte in text, so the second item of this batch fails after the first was written).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failed_apply_writes_nothing() {
    let Some(f) = Fixture::postgres("postgres_failed_apply_writes_nothing").await else {
        return;
    };
    let s = scope("jira");
    let run = f.store.begin_run(&s, T0).await.unwrap().id;
    f.store
        .apply(&s, Some(run), "issue", &[item("1", 1)], &[], Some("c1"))
        .await
        .unwrap();
    let bad = ItemWrite {
        id: "3".into(),
        parent: None,
        json: "{\"v\":\"\0\"}".into(),
    };
    let batch = [item("1", 2), item("2", 1), bad];
    let e = f
        .store
        .apply(&s, Some(run), "issue", &batch, &ids(&["1"]), Some("c2"))
        .await;
    let e = e.unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e}");
    assert_eq!(
        f.store
            .kind_state(&s, "issue")
            .await
            .unwrap()
            .checkpoint
            .as_deref(),
        Some("c1")
    );
    let mine = exported(f.store.as_ref(), &s).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].json, r#"{"id":"1","v":1}"#);
    // The connection is still usable after the rolled-back transaction.
    let a = f
        .store
        .apply(&s, Some(run), "issue", &[item("2", 1)], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Created]);
    f.cleanup().await;
}

async fn two_handles_write_at_once(f: &Fixture) {
    async fn write_many(store: &dyn ocean_store::Store, s: &ocean_store::Scope) {
        let run = store.begin_run(s, T0).await.unwrap().id;
        for n in 0..20 {
            let items: Vec<ItemWrite> = (0..50).map(|i| item(&format!("{n}-{i}"), 1)).collect();
            store
                .apply(s, Some(run), "issue", &items, &[], Some("cp"))
                .await
                .unwrap();
        }
    }
    let other = ocean_store::open(&f.spec).await.expect("second handle");
    let (a, b) = (scope("jira"), scope("jira"));
    tokio::join!(
        write_many(f.store.as_ref(), &a),
        write_many(other.as_ref(), &b)
    );
    assert_eq!(stats_of(f, &a, "issue").await.live, 1000);
    assert_eq!(stats_of(f, &b, "issue").await.live, 1000);
}

/// A store whose server connection was cut reconnects on its next call (the call that
/// finds the connection dead may fail with a backend error; none after it does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reconnects_after_losing_its_connection() {
    let test = "postgres_reconnects_after_losing_its_connection";
    let Some(f) = Fixture::postgres(test).await else {
        return;
    };
    let app = format!("ocean_store_test_{}", std::process::id());
    let store = ocean_store::open(&format!("{}&application_name={app}", f.spec))
        .await
        .unwrap();
    let s = scope("jira");
    let run = store.begin_run(&s, T0).await.unwrap().id;
    store
        .apply(&s, Some(run), "issue", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    let admin = common::admin(&common::postgres_url(test).unwrap())
        .await
        .unwrap();
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    if let Err(e) = store.kind_state(&s, "issue").await {
        assert!(matches!(e, Error::Backend { .. }), "{e}");
    }
    let a = store
        .apply(&s, Some(run), "issue", &[item("1", 1)], &[], None)
        .await
        .unwrap();
    assert_eq!(a.actions, [Unchanged]);
    f.cleanup().await;
}
