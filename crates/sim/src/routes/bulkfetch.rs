//! `POST /rest/api/3/issue/bulkfetch`: up to 100 issues by id or key, in ascending id order.
//!
//! Body (`BulkFetchIssueRequestBean`): `issueIdsOrKeys` (required, 1 to 100, ids and keys
//! mixed; keys match case-insensitively), `fields` (default `*navigable`: every field here),
//! `expand`, `properties` and `fieldsByKeys` (accepted, ignored). Answer (`BulkIssueResults`):
//! `{"issues": [...], "issueErrors": []}`; ids that match no issue are left out of both, as in
//! Jira. Answers are paced by [`Faults::issue_delay`](crate::Faults).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use super::reply;
use super::search::{Fields, string_list};
use crate::json::Obj;
use crate::state::AppState;
use crate::store::Row;

/// The most issues one request may name.
const MAX_ISSUES: usize = 100;

fn bad_request(message: &str) -> Response {
    reply::jira_error(StatusCode::BAD_REQUEST, message)
}

/// An id or key as sent: strings, or numbers for ids.
fn id_or_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) async fn post(State(st): State<AppState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return bad_request(
                "Invalid request payload. Refer to the REST API documentation and try again.",
            );
        }
    };
    let Some(list) = v["issueIdsOrKeys"].as_array() else {
        return bad_request("issueIdsOrKeys is required: a list of 1 to 100 issue ids or keys.");
    };
    let wanted: Option<Vec<String>> = list.iter().map(id_or_key).collect();
    let Some(wanted) = wanted else {
        return bad_request("issueIdsOrKeys must hold issue ids or keys.");
    };
    if wanted.is_empty() || wanted.len() > MAX_ISSUES {
        return bad_request(&format!(
            "Between 1 and {MAX_ISSUES} issue ids or keys can be requested; got {}.",
            wanted.len()
        ));
    }
    let mut fields = string_list(&v["fields"]);
    if fields.is_empty() {
        fields.push("*navigable".to_owned());
    }
    let fields = Fields::parse(&fields);
    let (body, count) = {
        let store = st.dataset.read();
        let issues = &store.jira.issues;
        let mut rows: Vec<&Row> = Vec::with_capacity(wanted.len());
        for w in &wanted {
            let row = issues.get(w).or_else(|| issues.get(&w.to_uppercase()));
            if let Some(row) = row {
                if !rows.iter().any(|r| Arc::ptr_eq(&r.id, &row.id)) {
                    rows.push(row);
                }
            }
        }
        rows.sort_by_key(|r| r.id.parse::<u64>().unwrap_or(u64::MAX));
        let rendered: Vec<Bytes> = rows
            .iter()
            .map(|r| fields.render(r, &st.jira_base))
            .collect();
        let mut buf = Vec::with_capacity(64 + rendered.iter().map(|r| r.len() + 1).sum::<usize>());
        let mut o = Obj::new(&mut buf);
        o.arr("issues", |a| {
            for r in &rendered {
                a.raw(r);
            }
        })
        .empty_arr("issueErrors");
        o.end();
        (buf, rows.len())
    };
    let delay = st.faults.issue_delay(count, fields.is_id_only());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    reply::item(Bytes::from(body))
}
