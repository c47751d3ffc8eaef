//! `/_sim` control routes: mutations, stats and fault knobs over HTTP (for CLI-driven tests).
//! They skip authentication and faults.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::reply;
use crate::mutation::{Mutation, MutationError};
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sim/health", get(|| async { "ok" }))
        .route("/_sim/mutate", post(mutate))
        .route("/_sim/stats", get(stats))
        .route("/_sim/stats/reset", post(reset_stats))
        .route("/_sim/faults", get(faults).post(set_faults))
}

fn error(status: StatusCode, message: &str) -> Response {
    reply::json(
        status,
        serde_json::to_vec(&json!({ "error": message }))
            .expect("serializes")
            .into(),
    )
}

async fn mutate(State(st): State<AppState>, body: Bytes) -> Response {
    let m: Mutation = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid mutation: {e}")),
    };
    match crate::mutation::run(&st, m).await {
        Ok(outcome) => reply::item(serde_json::to_vec(&outcome).expect("serializes").into()),
        Err(e @ MutationError::NotFound { .. }) => error(StatusCode::NOT_FOUND, &e.to_string()),
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn stats(State(st): State<AppState>) -> Response {
    reply::item(
        serde_json::to_vec(&st.counters.snapshot())
            .expect("serializes")
            .into(),
    )
}

async fn reset_stats(State(st): State<AppState>) -> Response {
    st.counters.reset();
    reply::status(StatusCode::NO_CONTENT)
}

fn faults_json(st: &AppState) -> Response {
    let f = &st.faults;
    let body = json!({
        "rate_limit": f.rate_limit(),
        "fail_rate": f.fail_rate(),
        "latency_ms": f.latency().as_secs_f64() * 1000.0,
        "full_issue_latency_ms": f.full_issue_latency().as_secs_f64() * 1000.0,
        "id_page_latency_ms": f.id_page_latency().as_secs_f64() * 1000.0,
        "worklog_feed_delay_ms": f.worklog_feed_delay().as_secs_f64() * 1000.0,
        "malformed": f.malformed(),
        "jira_admin": f.jira_admin(),
        "fractional_retry_after": f.fractional_retry_after(),
    });
    reply::item(serde_json::to_vec(&body).expect("serializes").into())
}

async fn faults(State(st): State<AppState>) -> Response {
    faults_json(&st)
}

/// Sets the knobs present in the body, e.g. `{"rate_limit": 50, "fail_rate": 0.1}`;
/// `"rate_limit": null` turns the limit off.
async fn set_faults(State(st): State<AppState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected a JSON object of fault settings",
            );
        }
    };
    let f = &st.faults;
    if let Some(r) = v.get("rate_limit") {
        f.set_rate_limit(r.as_f64());
    }
    if let Some(r) = v.get("fail_rate").and_then(Value::as_f64) {
        f.set_fail_rate(r);
    }
    let ms = |name: &str| {
        v.get(name)
            .and_then(Value::as_f64)
            .filter(|ms| ms.is_finite())
            .map(|ms| std::time::Duration::from_secs_f64(ms.clamp(0.0, 1e9) / 1000.0))
    };
    if let Some(d) = ms("latency_ms") {
        f.set_latency(d);
    }
    if let Some(d) = ms("full_issue_latency_ms") {
        f.set_full_issue_latency(d);
    }
    if let Some(d) = ms("id_page_latency_ms") {
        f.set_id_page_latency(d);
    }
    if let Some(d) = ms("worklog_feed_delay_ms") {
        f.set_worklog_feed_delay(d);
    }
    if let Some(b) = v.get("malformed").and_then(Value::as_bool) {
        f.set_malformed(b);
    }
    if let Some(b) = v.get("jira_admin").and_then(Value::as_bool) {
        f.set_jira_admin(b);
    }
    if let Some(b) = v.get("fractional_retry_after").and_then(Value::as_bool) {
        f.set_fractional_retry_after(b);
    }
    faults_json(&st)
}
