//! The webhook delivery queue and the scheduling leases, on SQLite and PostgreSQL alike.

#[allow(dead_code)]
mod common;

use common::{Fixture, scope};

const T0: i64 = 1_700_000_000_000;

on_both_backends!(
    enqueued_deliveries_come_out_in_order_and_once,
    a_lapsed_claim_is_handed_out_again,
    acked_deliveries_are_gone_and_scopes_never_mix,
    the_queue_survives_reopening,
    a_lease_has_one_holder_until_it_expires,
    a_released_lease_is_free_at_once,
);

async fn enqueued_deliveries_come_out_in_order_and_once(f: &Fixture) {
    let s = scope("jira");
    let a = f.store.enqueue(&s, b"{\"n\":1}", T0).await.unwrap();
    let b = f.store.enqueue(&s, b"{\"n\":2}", T0 + 1).await.unwrap();
    assert!(a < b);
    assert_eq!(f.store.queue_depth(&s).await.unwrap(), 2);
    let got = f.store.dequeue(&s, 10, T0 + 2, 30_000).await.unwrap();
    assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(got[0].body, b"{\"n\":1}");
    assert_eq!(got[0].enqueued_at, T0);
    assert_eq!(got[0].attempts, 1);
    // Claimed: nobody else gets them while the claim holds.
    assert!(
        f.store
            .dequeue(&s, 10, T0 + 3, 30_000)
            .await
            .unwrap()
            .is_empty()
    );
    // Still queued until acked.
    assert_eq!(f.store.queue_depth(&s).await.unwrap(), 2);
}

async fn a_lapsed_claim_is_handed_out_again(f: &Fixture) {
    let s = scope("octopus");
    let id = f.store.enqueue(&s, b"x", T0).await.unwrap();
    assert_eq!(f.store.dequeue(&s, 1, T0, 1_000).await.unwrap().len(), 1);
    assert!(
        f.store
            .dequeue(&s, 1, T0 + 999, 1_000)
            .await
            .unwrap()
            .is_empty()
    );
    let again = f.store.dequeue(&s, 1, T0 + 1_000, 1_000).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (id, 2));
}

async fn acked_deliveries_are_gone_and_scopes_never_mix(f: &Fixture) {
    let (s, other) = (scope("jira"), scope("jira"));
    let a = f.store.enqueue(&s, b"a", T0).await.unwrap();
    let b = f.store.enqueue(&s, b"b", T0).await.unwrap();
    let o = f.store.enqueue(&other, b"o", T0).await.unwrap();
    // Acking another scope's id does nothing.
    f.store.ack(&s, &[o]).await.unwrap();
    assert_eq!(f.store.queue_depth(&other).await.unwrap(), 1);
    f.store.ack(&s, &[a]).await.unwrap();
    let left = f.store.dequeue(&s, 10, T0, 1_000).await.unwrap();
    assert_eq!(left.iter().map(|d| d.id).collect::<Vec<_>>(), [b]);
    f.store.ack(&s, &[b, 12345]).await.unwrap();
    assert_eq!(f.store.queue_depth(&s).await.unwrap(), 0);
    let theirs = f.store.dequeue(&other, 10, T0, 1_000).await.unwrap();
    assert_eq!(theirs[0].body, b"o");
}

async fn the_queue_survives_reopening(f: &Fixture) {
    let s = scope("jira");
    f.store.enqueue(&s, b"kept", T0).await.unwrap();
    let reopened = ocean_store::open(&f.spec).await.expect("reopen");
    let got = reopened.dequeue(&s, 10, T0, 1_000).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"kept");
}

async fn a_lease_has_one_holder_until_it_expires(f: &Fixture) {
    let s = scope("jira");
    assert!(f.store.acquire_lease(&s, "a", T0, 10_000).await.unwrap());
    assert!(
        !f.store
            .acquire_lease(&s, "b", T0 + 5_000, 10_000)
            .await
            .unwrap()
    );
    // The holder renews.
    assert!(
        f.store
            .acquire_lease(&s, "a", T0 + 9_000, 10_000)
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .acquire_lease(&s, "b", T0 + 12_000, 10_000)
            .await
            .unwrap()
    );
    // Expired: another takes it, and the old holder cannot renew.
    assert!(
        f.store
            .acquire_lease(&s, "b", T0 + 19_000, 10_000)
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .acquire_lease(&s, "a", T0 + 19_001, 10_000)
            .await
            .unwrap()
    );
    // Leases are per scope.
    assert!(
        f.store
            .acquire_lease(&scope("jira"), "a", T0, 10_000)
            .await
            .unwrap()
    );
}

async fn a_released_lease_is_free_at_once(f: &Fixture) {
    let s = scope("octopus");
    assert!(f.store.acquire_lease(&s, "a", T0, 60_000).await.unwrap());
    // Only the holder can release it.
    f.store.release_lease(&s, "b").await.unwrap();
    assert!(
        !f.store
            .acquire_lease(&s, "b", T0 + 1, 60_000)
            .await
            .unwrap()
    );
    f.store.release_lease(&s, "a").await.unwrap();
    assert!(
        f.store
            .acquire_lease(&s, "b", T0 + 2, 60_000)
            .await
            .unwrap()
    );
}
