//! The HTTP side: `POST /integration/webhook` checks, reads and enqueues a delivery, and
//! answers at once.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ocean_core::WebhookSource;
use ocean_core::webhook::WebhookEvent;
use serde_json::json;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::worker::Batch;

/// What the route shares between requests.
pub(crate) struct Shared {
    pub(crate) source: Arc<dyn WebhookSource>,
    pub(crate) queue: mpsc::Sender<Batch>,
    pub(crate) retry_after: HeaderValue,
}

/// `POST /integration/webhook`.
///
/// | answer | when |
/// |---|---|
/// | `202 {"accepted":n}` | verified and parsed; its `n` changes are queued |
/// | `200 {"ignored":…}` | an event the source does not act on |
/// | `400 {"error":…,"path":…}` | the body is not a readable event |
/// | `401 {"error":…}` | the signature or secret header is missing or wrong |
/// | `413 {"error":…}` | the body is over the limit |
/// | `503 {"error":…}` + `Retry-After` | the queue is full (or the worker is gone) |
pub(crate) async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let provider = shared.source.provider();
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            tracing::warn!(provider, %status, error = %rejection.body_text(), "webhook body refused");
            return error(status, rejection.body_text());
        }
    };
    if let Err(e) = shared.source.verify(&headers, &body) {
        tracing::warn!(provider, error = %e, "webhook delivery refused: not verified");
        return error(StatusCode::UNAUTHORIZED, e.to_string());
    }
    let body = shared.source.delivery_body(&headers, &body);
    let (event, changes) = match shared.source.parse(&body) {
        Ok(WebhookEvent::Changes { event, changes }) => (event, changes),
        Ok(WebhookEvent::Unsupported { event, reason }) => {
            tracing::info!(
                provider,
                event,
                reason,
                "unsupported webhook event: ignored"
            );
            return (StatusCode::OK, Json(json!({ "ignored": reason }))).into_response();
        }
        Err(e) => {
            tracing::warn!(provider, path = %e.path, error = %e, "malformed webhook body");
            let body = json!({ "error": e.message, "path": e.path });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let accepted = changes.len();
    match shared.queue.try_send(Batch { event, changes }) {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))).into_response(),
        Err(TrySendError::Full(batch)) => {
            tracing::warn!(
                provider,
                event = batch.event,
                "webhook queue full: asking the sender to retry later"
            );
            unavailable(&shared, "the queue is full; retry later")
        }
        Err(TrySendError::Closed(batch)) => {
            tracing::error!(
                provider,
                event = batch.event,
                "the webhook worker is not running: delivery refused"
            );
            unavailable(&shared, "the worker is not running")
        }
    }
}

fn unavailable(shared: &Shared, message: &str) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, message.to_owned());
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, shared.retry_after.clone());
    response
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
