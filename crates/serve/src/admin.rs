//! The admin surface: `/healthz`, `/readyz`, `/metrics` and the control endpoints, on
//! their own address or behind a bearer token.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ocean_core::webhook::constant_time_eq;
use serde_json::json;

use crate::metrics::CONTENT_TYPE;
use crate::state::{Shared, TenantState};

/// The admin routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/admin/tenants", get(tenants))
        .route("/admin/tenants/{name}/sync", post(sync))
        .with_state(shared)
}

/// `Err` with a `401` unless the request carries the admin token (when one is set).
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(token) = &shared.options.admin_token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.trim().as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "a valid `Authorization: Bearer` admin token is required"})),
        )
            .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        Err(Box::new(r))
    }
}

/// `GET /healthz`: the process is up.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Why a tenant is not ready, if it is not.
fn tenant_problem(shared: &Shared, tenant: &TenantState) -> Option<String> {
    if shared.options.leases && !tenant.lease_held.load(Ordering::SeqCst) {
        // Another replica runs this tenant's schedule.
        return None;
    }
    let status = tenant.lock_status().clone();
    let limit = tenant.tenant.interval.saturating_mul(2);
    if let Some(error) = status.error {
        return Some(format!("last run failed: {error}"));
    }
    let since = status.finished.unwrap_or(shared.started);
    let age = Instant::now().saturating_duration_since(since);
    (age > limit).then(|| {
        format!(
            "no successful run for {}s (twice the interval is {}s)",
            age.as_secs(),
            limit.as_secs()
        )
    })
}

/// `GET /readyz`: the store answers and no tenant's last run failed or is too old.
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let mut problems = serde_json::Map::new();
    if let Some(first) = shared.tenants.first() {
        if let Err(e) = shared.store.queue_depth(&first.scope).await {
            problems.insert("store".into(), json!(e.to_string()));
        }
    }
    if shared.is_draining() {
        problems.insert("service".into(), json!("shutting down"));
    }
    for tenant in &shared.tenants {
        if let Some(p) = tenant_problem(&shared, tenant) {
            problems.insert(tenant.name().to_owned(), json!(p));
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, Json(json!({"ready": true}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "problems": problems})),
        )
            .into_response()
    }
}

/// `GET /metrics`: every metric, OpenMetrics text.
async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&shared, &headers) {
        return *r;
    }
    for tenant in &shared.tenants {
        shared
            .metrics
            .sample_client(tenant.name(), tenant.tenant.provider.client().stats());
        if let Ok(depth) = shared.store.queue_depth(&tenant.scope).await {
            tenant.pending.store(depth, Ordering::SeqCst);
        }
        tenant.publish_depth(&shared.metrics);
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        shared.metrics.render(),
    )
        .into_response()
}

/// `GET /admin/tenants`: each tenant's scope, lease and last run.
async fn tenants(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&shared, &headers) {
        return *r;
    }
    let list: Vec<_> = shared
        .tenants
        .iter()
        .map(|t| {
            let status = t.lock_status().clone();
            json!({
                "name": t.name(),
                "provider": t.scope.provider,
                "tenant": t.scope.tenant,
                "lease_held": t.lease_held.load(Ordering::SeqCst),
                "queued": t.pending.load(Ordering::SeqCst),
                "last_run_seconds_ago": status.finished.map(|f| f.elapsed().as_secs()),
                "last_error": status.error,
            })
        })
        .collect();
    Json(json!({ "tenants": list })).into_response()
}

/// The query of `POST /admin/tenants/{name}/sync`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct SyncQuery {
    /// A full run with a sweep instead of an incremental one.
    #[serde(default)]
    full: bool,
}

/// `POST /admin/tenants/{name}/sync[?full=true]`: runs the tenant's sync now (on the
/// replica holding its lease).
async fn sync(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(query): Query<SyncQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize(&shared, &headers) {
        return *r;
    }
    let Some(tenant) = shared.tenant(&name) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no tenant named {name:?}")})),
        )
            .into_response();
    };
    if query.full {
        tenant.trigger_full.store(true, Ordering::SeqCst);
    }
    tenant.trigger.notify_one();
    (
        StatusCode::ACCEPTED,
        Json(json!({"tenant": name, "full": query.full, "requested": true})),
    )
        .into_response()
}
