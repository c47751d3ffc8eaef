//! Scheduled syncs of one tenant: incremental every `interval`, full with a sweep every
//! `full_interval`, jittered, retried with backoff, one at a time, and only on the
//! replica holding the tenant's lease.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use ocean_core::Provider;
use ocean_sync::{Feed, FeedLine, Mode, RunReport, Settings};

use crate::metrics::labels;
use crate::state::{Shared, TenantState};

/// What a scheduled run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunKind {
    /// Changes since the bookmarks (first runs of a kind are full anyway).
    Incremental,
    /// Every kind in full, with a sweep.
    Full,
}

impl RunKind {
    fn label(self) -> &'static str {
        match self {
            RunKind::Incremental => "incremental",
            RunKind::Full => "full",
        }
    }
}

/// Collects the `(kind, id)` of every change a run made.
#[derive(Default)]
struct Changed(Vec<(String, String)>);

impl Feed for Changed {
    fn change(&mut self, line: FeedLine<'_>) -> std::io::Result<()> {
        let (kind, id) = match line {
            FeedLine::Upsert { kind, id, .. } | FeedLine::Delete { kind, id } => (kind, id),
        };
        self.0.push((kind.to_owned(), id.to_owned()));
        Ok(())
    }
}

/// A uniformly random number in `[0, 1)`, from the standard library's hasher seeds.
fn unit_random() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `base` moved by up to ±`fraction` of itself, at random.
pub(crate) fn jitter(base: Duration, fraction: f64) -> Duration {
    let factor = 1.0 + fraction * (2.0 * unit_random() - 1.0);
    base.mul_f64(factor.max(0.0))
}

/// The wait before retry `failures` (1-based): 2^(n-1) × `base`, at most `cap`.
pub(crate) fn backoff(failures: u32, base: Duration, cap: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    base.saturating_mul(1u32 << exp).min(cap)
}

/// Runs the tenant's schedule until shutdown.
pub(crate) async fn run(shared: Arc<Shared>, tenant: Arc<TenantState>) {
    let interval = tenant.tenant.interval;
    let full_interval = tenant.tenant.full_interval;
    // The first run comes soon after start (spread a little, so tenants do not align),
    // and is incremental: a kind's first run ever is full by itself.
    let mut next = Instant::now() + jitter(shared.options.first_run_delay, 0.5);
    let mut next_full = Instant::now() + jitter(full_interval, 0.1);
    let mut failures = 0u32;
    loop {
        let asked = tokio::select! {
            () = tokio::time::sleep_until(next) => false,
            () = tenant.trigger.notified() => true,
            () = shared.stopped() => return,
        };
        if shared.is_draining() {
            return;
        }
        if !hold_lease(&shared, &tenant).await {
            // Another replica runs this tenant: look again within a lease period.
            next = Instant::now() + shared.options.lease_ttl / 4;
            continue;
        }
        let full = if asked {
            tenant.trigger_full.swap(false, Ordering::SeqCst)
        } else {
            Instant::now() >= next_full
        };
        let kind = if full {
            RunKind::Full
        } else {
            RunKind::Incremental
        };
        match run_once(&shared, &tenant, kind).await {
            Outcome::Done => {
                failures = 0;
                next = Instant::now() + jitter(interval, 0.1);
                if full {
                    next_full = Instant::now() + jitter(full_interval, 0.1);
                }
            }
            Outcome::Failed => {
                failures += 1;
                let wait = backoff(failures, shared.options.retry_base, interval);
                tracing::warn!(
                    tenant = tenant.name(),
                    failures,
                    retry_in = ?wait,
                    "sync run failed: retrying with backoff"
                );
                next = Instant::now() + wait;
                if full {
                    // The full run is still owed: the retry is full.
                    next_full = Instant::now();
                }
            }
            Outcome::Interrupted => return,
        }
    }
}

/// Takes or renews the tenant's lease (when leases are on); `true` when this replica
/// may run the tenant.
pub(crate) async fn hold_lease(shared: &Shared, tenant: &TenantState) -> bool {
    if !shared.options.leases {
        return true;
    }
    let ttl = i64::try_from(shared.options.lease_ttl.as_millis()).unwrap_or(i64::MAX);
    let held = match shared
        .store
        .acquire_lease(
            &tenant.scope,
            &shared.options.replica,
            crate::state::now_ms(),
            ttl,
        )
        .await
    {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(tenant = tenant.name(), error = %e, "cannot take the scheduling lease");
            false
        }
    };
    let was = tenant.lease_held.swap(held, Ordering::SeqCst);
    if held != was {
        tracing::info!(
            tenant = tenant.name(),
            replica = shared.options.replica,
            held,
            "scheduling lease {}",
            if held { "taken" } else { "lost" }
        );
    }
    shared
        .metrics
        .lease_held
        .get_or_create(&labels([("tenant", tenant.name())]))
        .set(i64::from(held));
    held
}

/// Keeps renewing the lease while the service runs, so a holder keeps it between runs
/// and a standby takes over within a lease period of the holder's death.
pub(crate) async fn keep_lease(shared: Arc<Shared>, tenant: Arc<TenantState>) {
    if !shared.options.leases {
        return;
    }
    loop {
        hold_lease(&shared, &tenant).await;
        tokio::select! {
            () = tokio::time::sleep(shared.options.lease_ttl / 4) => {}
            () = shared.stopped() => break,
        }
    }
    if tenant.lease_held.load(Ordering::SeqCst) {
        if let Err(e) = shared
            .store
            .release_lease(&tenant.scope, &shared.options.replica)
            .await
        {
            tracing::warn!(tenant = tenant.name(), error = %e, "could not release the lease");
        }
    }
}

enum Outcome {
    Done,
    Failed,
    Interrupted,
}

/// One run, reported in logs and metrics; interrupted by shutdown after a grace period.
async fn run_once(shared: &Shared, tenant: &TenantState, kind: RunKind) -> Outcome {
    let name = tenant.name();
    let provider: &dyn Provider = tenant.tenant.provider.as_ref();
    let kinds = tenant.tenant.run_kinds();
    let settings = Settings {
        full: kind == RunKind::Full,
        ..shared.options.sync.clone()
    };
    // Changes webhooks apply from now on belong to the next comparison.
    let webhooked = std::mem::take(&mut *tenant.lock_applied());
    let mut feed = Changed::default();
    let started = Instant::now();
    tracing::info!(tenant = name, mode = kind.label(), "sync run starting");
    let result = {
        let sync = ocean_sync::sync(
            provider,
            shared.store.as_ref(),
            &kinds,
            &settings,
            &mut feed,
        );
        tokio::pin!(sync);
        tokio::select! {
            r = &mut sync => Some(r),
            () = shared.stopped() => {
                // Let the run finish within the grace period; past it, stop at the last
                // committed checkpoint (every batch commits with its checkpoint), to be
                // resumed by the next start.
                tokio::time::timeout(shared.options.sync_grace, &mut sync).await.ok()
            }
        }
    };
    let elapsed = started.elapsed();
    shared
        .metrics
        .sample_client(name, provider.client().stats());
    let mode = kind.label();
    let count_run = |outcome: &str| {
        shared
            .metrics
            .runs
            .get_or_create(&labels([
                ("tenant", name),
                ("mode", mode),
                ("outcome", outcome),
            ]))
            .inc();
    };
    let Some(result) = result else {
        count_run("interrupted");
        tracing::warn!(
            tenant = name,
            mode,
            "sync run interrupted by shutdown at its last checkpoint: the next start resumes it"
        );
        return Outcome::Interrupted;
    };
    shared
        .metrics
        .run_seconds
        .get_or_create(&labels([("tenant", name), ("mode", mode)]))
        .observe(elapsed.as_secs_f64());
    let error = match result {
        Ok(report) => {
            record(shared, tenant, kind, &report, &feed, &webhooked);
            report.failed().next().map(|k| {
                format!(
                    "kind {} failed: {}",
                    k.kind,
                    k.error.as_deref().unwrap_or("")
                )
            })
        }
        Err(ocean_sync::Error::Store(ocean_store::Error::Busy { .. })) => {
            count_run("busy");
            tracing::info!(
                tenant = name,
                "another writer holds the tenant's lock: run skipped"
            );
            // Put back what this run did not compare.
            tenant.lock_applied().extend(webhooked);
            return Outcome::Done;
        }
        Err(e) => Some(e.to_string()),
    };
    let mut status = tenant.lock_status();
    status.finished = Some(Instant::now());
    status.error = error.clone();
    drop(status);
    match error {
        None => {
            count_run("ok");
            tracing::info!(tenant = name, mode, elapsed = ?elapsed, "sync run done");
            Outcome::Done
        }
        Some(error) => {
            count_run("failed");
            tracing::error!(tenant = name, mode, error, "sync run failed");
            Outcome::Failed
        }
    }
}

/// Folds a run's report into the metrics and counts the changes no webhook applied.
fn record(
    shared: &Shared,
    tenant: &TenantState,
    kind: RunKind,
    report: &RunReport,
    feed: &Changed,
    webhooked: &std::collections::HashSet<(String, String)>,
) {
    let name = tenant.name();
    for k in &report.kinds {
        let l = |extra: [(&str, &str); 2]| {
            labels([("tenant", name), ("kind", k.kind), extra[0], extra[1]])
        };
        let m = &shared.metrics;
        m.items_synced
            .get_or_create(&labels([("tenant", name), ("kind", k.kind)]))
            .inc_by(k.created + k.updated + k.unchanged);
        for (action, n) in [
            ("created", k.created),
            ("updated", k.updated),
            ("deleted", k.deleted),
        ] {
            if n > 0 {
                m.changes
                    .get_or_create(&l([("action", action), ("source", "sync")]))
                    .inc_by(n);
            }
        }
        if let Some((would, live)) = k.threshold {
            tracing::warn!(
                tenant = name,
                kind = k.kind,
                would_delete = would,
                live,
                "deletion threshold: nothing deleted"
            );
        }
    }
    // Only an incremental run of kinds that were incremental compares: a full run (and
    // a kind's first run) finds everything "changed" by construction.
    if kind != RunKind::Incremental {
        return;
    }
    let mut missed: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (k, id) in &feed.0 {
        let incremental = report
            .kinds
            .iter()
            .any(|r| r.kind == k && r.mode == Mode::Incremental);
        if incremental && !webhooked.contains(&(k.clone(), id.clone())) {
            *missed.entry(k.as_str()).or_default() += 1;
        }
    }
    for (k, n) in missed {
        tracing::warn!(
            tenant = name,
            kind = k,
            missed = n,
            "changes no webhook delivered were caught by the incremental run"
        );
        shared
            .metrics
            .missed
            .get_or_create(&labels([("tenant", name), ("kind", k)]))
            .inc_by(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(backoff(1, s(5), s(60)), s(5));
        assert_eq!(backoff(2, s(5), s(60)), s(10));
        assert_eq!(backoff(4, s(5), s(60)), s(40));
        assert_eq!(backoff(5, s(5), s(60)), s(60));
        assert_eq!(backoff(500, s(5), s(60)), s(60));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        for _ in 0..1000 {
            let j = jitter(Duration::from_secs(100), 0.1);
            assert!(
                j >= Duration::from_secs(90) && j <= Duration::from_secs(110),
                "{j:?}"
            );
        }
    }
}
