//! The webhook route: verify, read, record durably in the store's queue, then answer.
//!
//! A `202` means the delivery is committed to the store's queue: a crash right after it
//! loses nothing, the next start (or another replica) applies it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ocean_core::webhook::WebhookEvent;
use serde_json::json;

use crate::metrics::labels;
use crate::state::{Shared, TenantState, now_ms};

/// `POST /t/{tenant}/integration/webhook`.
pub(crate) async fn by_name(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match shared.tenant(&name).cloned() {
        Some(tenant) => receive(&shared, &tenant, &headers, body).await,
        None => error(StatusCode::NOT_FOUND, format!("no tenant named {name:?}")),
    }
}

/// `POST /integration/webhook` (a service with one tenant).
pub(crate) async fn single(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match shared.tenants.first().cloned() {
        Some(tenant) => receive(&shared, &tenant, &headers, body).await,
        None => error(StatusCode::NOT_FOUND, "no tenant configured".into()),
    }
}

/// | answer | when |
/// |---|---|
/// | `202 {"accepted":n,"queued":id}` | verified, parsed, committed to the queue |
/// | `200 {"ignored":…}` | an event the source does not act on |
/// | `400`, `401`, `413` | malformed, unverified, too large: nothing recorded |
/// | `503` + `Retry-After` | shutting down, the queue is full, or the store failed |
async fn receive(
    shared: &Shared,
    tenant: &TenantState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let name = tenant.name();
    let outcome = |o: &str| {
        shared
            .metrics
            .deliveries
            .get_or_create(&labels([("tenant", name), ("outcome", o)]))
            .inc();
    };
    if shared.is_draining() {
        outcome("draining");
        return unavailable(shared, "shutting down; retry later");
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            outcome("too_large");
            tracing::warn!(tenant = name, status = %rejection.status(), "webhook body refused");
            return error(rejection.status(), rejection.body_text());
        }
    };
    let source = &tenant.tenant.source;
    if let Err(e) = source.verify(headers, &body) {
        outcome("unverified");
        tracing::warn!(tenant = name, error = %e, "webhook delivery refused: not verified");
        return error(StatusCode::UNAUTHORIZED, e.to_string());
    }
    // What is queued is what parses: the worker reads it again without the headers.
    let body = source.delivery_body(headers, &body);
    let accepted = match source.parse(&body) {
        Ok(WebhookEvent::Changes { changes, .. }) => changes.len(),
        Ok(WebhookEvent::Unsupported { event, reason }) => {
            outcome("ignored");
            tracing::info!(
                tenant = name,
                event,
                reason,
                "unsupported webhook event: ignored"
            );
            return (StatusCode::OK, Json(json!({ "ignored": reason }))).into_response();
        }
        Err(e) => {
            outcome("malformed");
            tracing::warn!(tenant = name, path = %e.path, error = %e, "malformed webhook body");
            let body = json!({ "error": e.message, "path": e.path });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let capacity = shared.options.queue_capacity as u64;
    if tenant.pending.load(Ordering::SeqCst) >= capacity {
        outcome("overloaded");
        tracing::warn!(
            tenant = name,
            capacity,
            "webhook queue full: asking the sender to retry later"
        );
        return unavailable(shared, "the queue is full; retry later");
    }
    match shared.store.enqueue(&tenant.scope, &body, now_ms()).await {
        Ok(id) => {
            tenant.pending.fetch_add(1, Ordering::SeqCst);
            tenant.publish_depth(&shared.metrics);
            tenant.wake.notify_one();
            outcome("accepted");
            (
                StatusCode::ACCEPTED,
                Json(json!({ "accepted": accepted, "queued": id })),
            )
                .into_response()
        }
        Err(e) => {
            outcome("store_error");
            tracing::error!(tenant = name, error = %e, "could not record a webhook delivery: asking the sender to retry");
            unavailable(shared, "the delivery could not be recorded; retry later")
        }
    }
}

fn unavailable(shared: &Shared, message: &str) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, message.to_owned());
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(shared.options.retry_after.as_secs().max(1)),
    );
    response
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
