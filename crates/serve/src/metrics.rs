//! The service's metrics, in Prometheus' (OpenMetrics) text format, through
//! `prometheus-client`.

use std::sync::Mutex;

use ocean_core::Stats;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label pairs.
type Labels = Vec<(String, String)>;

/// Every metric the service exports (names as exported, `ocean_` prefixed).
pub(crate) struct Metrics {
    registry: Registry,
    /// HTTP requests sent to the providers, retries included.
    pub(crate) requests: Family<Labels, Counter>,
    /// Requests sent again after a failure.
    pub(crate) retries: Family<Labels, Counter>,
    /// `429` answers received.
    pub(crate) throttled: Family<Labels, Counter>,
    /// Items a sync wrote or saw, by tenant and kind.
    pub(crate) items_synced: Family<Labels, Counter>,
    /// Actual catalog changes, by tenant, kind, action and source (sync or webhook).
    pub(crate) changes: Family<Labels, Counter>,
    /// Sync runs by tenant, mode and outcome.
    pub(crate) runs: Family<Labels, Counter>,
    /// Sync run durations by tenant and mode.
    pub(crate) run_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    /// Webhook deliveries by tenant and outcome.
    pub(crate) deliveries: Family<Labels, Counter>,
    /// Deliveries recorded and not yet processed, by tenant.
    pub(crate) queue_depth: Family<Labels, Gauge>,
    /// Changes an incremental run found that no webhook had applied, by tenant and kind.
    pub(crate) missed: Family<Labels, Counter>,
    /// Webhook self-repairs by tenant and outcome.
    pub(crate) repairs: Family<Labels, Counter>,
    /// 1 while this replica holds the tenant's scheduling lease.
    pub(crate) lease_held: Family<Labels, Gauge>,
    /// Seconds from a delivery's record to its application, by tenant.
    pub(crate) delivery_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    /// The client counters last folded into the totals, per tenant.
    sampled: Mutex<Vec<(String, Stats)>>,
}

fn run_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 16))
}

fn delivery_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Labels from pairs.
pub(crate) fn labels<const N: usize>(pairs: [(&str, &str); N]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Metrics {
    /// Every metric registered, all at zero.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("ocean");
        let m = Self {
            requests: Family::default(),
            retries: Family::default(),
            throttled: Family::default(),
            items_synced: Family::default(),
            changes: Family::default(),
            runs: Family::default(),
            run_seconds: Family::new_with_constructor(run_histogram),
            deliveries: Family::default(),
            queue_depth: Family::default(),
            missed: Family::default(),
            repairs: Family::default(),
            lease_held: Family::default(),
            delivery_seconds: Family::new_with_constructor(delivery_histogram),
            sampled: Mutex::new(Vec::new()),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "requests",
            "HTTP requests sent to the provider, retries included",
            m.requests.clone(),
        );
        r.register(
            "retries",
            "Requests sent again after a failure",
            m.retries.clone(),
        );
        r.register(
            "rate_limited",
            "429 Too Many Requests answers received",
            m.throttled.clone(),
        );
        r.register(
            "items_synced",
            "Items a sync run wrote or saw unchanged",
            m.items_synced.clone(),
        );
        r.register(
            "changes",
            "Actual catalog changes by action (created, updated, deleted) and source (sync, webhook)",
            m.changes.clone(),
        );
        r.register(
            "sync_runs",
            "Sync runs by mode (incremental, full) and outcome (ok, failed, busy, interrupted)",
            m.runs.clone(),
        );
        r.register(
            "sync_run_duration_seconds",
            "Sync run wall time",
            m.run_seconds.clone(),
        );
        r.register(
            "webhook_deliveries",
            "Webhook deliveries by outcome (accepted, ignored, unverified, malformed, too_large, overloaded, draining, store_error, applied, failed)",
            m.deliveries.clone(),
        );
        r.register(
            "queue_depth",
            "Deliveries recorded in the store and not yet applied",
            m.queue_depth.clone(),
        );
        r.register(
            "missed_events",
            "Changes an incremental run found that no webhook had applied since the last run",
            m.missed.clone(),
        );
        r.register(
            "webhook_repairs",
            "Webhook or subscription checks by outcome",
            m.repairs.clone(),
        );
        r.register(
            "lease_held",
            "1 while this replica holds the tenant's scheduling lease",
            m.lease_held.clone(),
        );
        r.register(
            "delivery_apply_seconds",
            "Seconds from a delivery's record in the queue to its application to the catalog",
            m.delivery_seconds.clone(),
        );
        Self { registry, ..m }
    }

    /// Adds what a tenant's client counted since the last sample to the totals.
    pub(crate) fn sample_client(&self, tenant: &str, now: Stats) {
        let mut sampled = self.sampled.lock().unwrap_or_else(|p| p.into_inner());
        let i = match sampled.iter().position(|(t, _)| t == tenant) {
            Some(i) => i,
            None => {
                sampled.push((tenant.to_owned(), Stats::default()));
                sampled.len() - 1
            }
        };
        let slot = &mut sampled[i].1;
        let l = labels([("tenant", tenant)]);
        self.requests
            .get_or_create(&l)
            .inc_by(now.requests.saturating_sub(slot.requests));
        self.retries
            .get_or_create(&l)
            .inc_by(now.retries.saturating_sub(slot.retries));
        self.throttled
            .get_or_create(&l)
            .inc_by(now.throttled.saturating_sub(slot.throttled));
        *slot = now;
    }

    /// The text exposition of every metric.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
