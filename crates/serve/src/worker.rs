//! The delivery worker: takes recorded deliveries off the store's queue, re-fetches what
//! changed, applies it to the catalog, and only then removes the delivery.
//!
//! At least once: a crash between applying and acknowledging applies the delivery again
//! on the next start, which is harmless (the entity is fetched again; an unchanged item
//! changes nothing).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ocean_core::raw_field;
use ocean_core::webhook::{Action, PendingChange, WebhookEvent};
use ocean_store::{Delivery, ItemAction, ItemWrite};

use crate::metrics::labels;
use crate::state::{Shared, TenantState, now_ms};

/// Deliveries claimed per store round trip.
const BATCH: usize = 32;

/// Why one change could not be applied now.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApplyError {
    /// The provider did not answer the re-fetch (after its client's retries).
    #[error("fetching {kind} {id}: {source}")]
    Fetch {
        kind: &'static str,
        id: String,
        #[source]
        source: ocean_core::Error,
    },
    /// The store refused the write.
    #[error("writing {kind} {id}: {source}")]
    Store {
        kind: &'static str,
        id: String,
        #[source]
        source: ocean_store::Error,
    },
}

/// Processes the tenant's queue until shutdown has begun and the queue is empty (of
/// deliveries this replica may claim).
pub(crate) async fn run(shared: Arc<Shared>, tenant: Arc<TenantState>) {
    let poll = shared.options.queue_poll;
    loop {
        let claim = i64::try_from(shared.options.claim.as_millis()).unwrap_or(i64::MAX);
        let batch = match shared
            .store
            .dequeue(&tenant.scope, BATCH, now_ms(), claim)
            .await
        {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(tenant = tenant.name(), error = %e, "cannot read the delivery queue");
                if shared.is_draining() {
                    return;
                }
                tokio::time::sleep(poll).await;
                continue;
            }
        };
        if batch.is_empty() {
            if shared.is_draining() {
                tracing::info!(tenant = tenant.name(), "delivery queue drained");
                return;
            }
            // Other replicas record and apply deliveries too: the store has the count.
            if let Ok(depth) = shared.store.queue_depth(&tenant.scope).await {
                tenant.pending.store(depth, Ordering::SeqCst);
                tenant.publish_depth(&shared.metrics);
            }
            // A new delivery, shutdown, or the poll (deliveries another replica recorded,
            // claims that lapsed) wakes us.
            tokio::select! {
                () = tenant.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
            continue;
        }
        for delivery in batch {
            process(&shared, &tenant, delivery).await;
        }
    }
}

/// Applies one delivery and acknowledges it, or leaves it for a later attempt.
async fn process(shared: &Shared, tenant: &TenantState, delivery: Delivery) {
    let name = tenant.name();
    let outcome = |o: &str| {
        shared
            .metrics
            .deliveries
            .get_or_create(&labels([("tenant", name), ("outcome", o)]))
            .inc();
    };
    let changes = match tenant.tenant.source.parse(&delivery.body) {
        Ok(WebhookEvent::Changes { changes, .. }) => changes,
        // Parsed when received: a body that no longer parses (an upgrade changed the
        // reader) has nothing to apply.
        Ok(WebhookEvent::Unsupported { .. }) => Vec::new(),
        Err(e) => {
            tracing::error!(tenant = name, delivery = delivery.id, error = %e, "a recorded delivery no longer parses: dropped");
            Vec::new()
        }
    };
    for pending in &changes {
        if let Err(e) = apply(shared, tenant, pending).await {
            if delivery.attempts >= shared.options.max_attempts {
                tracing::error!(
                    tenant = name, delivery = delivery.id, attempts = delivery.attempts, error = %e,
                    "giving up on a delivery: the next sync run will catch the change"
                );
                outcome("failed");
                break;
            }
            tracing::warn!(
                tenant = name, delivery = delivery.id, attempts = delivery.attempts, error = %e,
                "a delivery could not be applied: it is retried when its claim lapses"
            );
            return;
        }
    }
    match shared.store.ack(&tenant.scope, &[delivery.id]).await {
        Ok(()) => {
            let _ = tenant
                .pending
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    Some(n.saturating_sub(1))
                });
            tenant.publish_depth(&shared.metrics);
            outcome("applied");
            let waited = (now_ms() - delivery.enqueued_at).max(0) as f64 / 1000.0;
            shared
                .metrics
                .delivery_seconds
                .get_or_create(&labels([("tenant", name)]))
                .observe(waited);
        }
        Err(e) => {
            tracing::error!(tenant = name, delivery = delivery.id, error = %e, "could not acknowledge an applied delivery: it will be applied again");
        }
    }
}

/// Re-fetches one change and writes it to the catalog.
async fn apply(
    shared: &Shared,
    tenant: &TenantState,
    pending: &PendingChange,
) -> Result<(), ApplyError> {
    let change = &pending.change;
    let kind = change.kind;
    let fetched = match change.action {
        Action::Delete => None,
        Action::Upsert => tenant
            .tenant
            .source
            .fetch(pending)
            .await
            .map_err(|source| ApplyError::Fetch {
                kind,
                id: change.id.clone(),
                source,
            })?,
    };
    let (items, deletes) = match fetched {
        Some(item) => {
            // The catalog's key is the item's own id field: the event may name the item
            // otherwise (a project by key, an issue by id).
            let id_field = tenant
                .tenant
                .provider
                .kind(kind)
                .map_or("id", |k| k.id_field);
            let id = raw_field(&item, id_field)
                .ok()
                .flatten()
                .unwrap_or_else(|| change.id.clone());
            let write = ItemWrite {
                id,
                parent: change
                    .parent
                    .as_ref()
                    .map(|p| (p.field.to_owned(), p.id.clone())),
                json: item.get().to_owned(),
            };
            (vec![write], Vec::new())
        }
        None => (Vec::new(), vec![change.id.clone()]),
    };
    let applied = shared
        .store
        .apply(&tenant.scope, None, kind, &items, &deletes, None)
        .await
        .map_err(|source| ApplyError::Store {
            kind,
            id: change.id.clone(),
            source,
        })?;
    let count = |action: &str, n: usize| {
        if n > 0 {
            shared
                .metrics
                .changes
                .get_or_create(&labels([
                    ("tenant", tenant.name()),
                    ("kind", kind),
                    ("action", action),
                    ("source", "webhook"),
                ]))
                .inc_by(n as u64);
        }
    };
    let created = applied
        .actions
        .iter()
        .filter(|a| **a == ItemAction::Created)
        .count();
    let updated = applied
        .actions
        .iter()
        .filter(|a| **a == ItemAction::Updated)
        .count();
    count("created", created);
    count("updated", updated);
    count("deleted", applied.deleted.len());
    let mut seen = tenant.lock_applied();
    for item in &items {
        seen.insert((kind.to_owned(), item.id.clone()));
    }
    for id in &deletes {
        seen.insert((kind.to_owned(), id.clone()));
    }
    Ok(())
}

/// How long to wait between polls of an empty queue when nothing wakes the worker.
pub(crate) const DEFAULT_POLL: Duration = Duration::from_secs(1);
