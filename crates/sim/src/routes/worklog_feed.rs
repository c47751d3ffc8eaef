//! The worklog change feeds and the worklog batch getter:
//!
//! - `GET /rest/api/3/worklog/updated?since=<epoch ms>` and `GET /rest/api/3/worklog/deleted?since=`
//!   (`ChangedWorklogs`): `{"values": [{"worklogId", "updatedTime", "properties": []}], "since",
//!   "until", "self", "nextPage", "lastPage"}`, oldest first, 1000 per page. `since` is
//!   inclusive; `until` is the time of the page's last entry (`since` on an empty page);
//!   `nextPage` is this URL with `since=until` and is sent on every page, as in Jira's example,
//!   so walk until `lastPage` is true (the entry at `until` comes again on the next page).
//!   Changes younger than [`Faults::worklog_feed_delay`](crate::Faults::worklog_feed_delay) are
//!   left out, like Jira leaves out the last minute.
//! - `POST /rest/api/3/worklog/list` `{"ids": [1, 2]}` (1 to 1000 ids): the worklogs as a bare
//!   array, unknown ids left out.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use super::reply;
use crate::feed::Change;
use crate::json::Obj;
use crate::query::Params;
use crate::render;
use crate::state::AppState;
use crate::store::{Row, bodies, slices};
use crate::time;

/// Entries per feed page, and ids per `worklog/list` request.
const PAGE: usize = 1000;

pub(crate) async fn updated(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    feed(&st, q.as_deref(), Change::Updated, "updated")
}

pub(crate) async fn deleted(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    feed(&st, q.as_deref(), Change::Deleted, "deleted")
}

fn feed(st: &AppState, raw: Option<&str>, which: Change, path: &str) -> Response {
    let params = Params::parse(raw);
    let since = match params.int("since") {
        Ok(s) => s.unwrap_or(0).max(0),
        Err(_) => {
            return reply::jira_error(
                StatusCode::BAD_REQUEST,
                "The 'since' parameter must be a UNIX timestamp in milliseconds.",
            );
        }
    };
    let delay = i64::try_from(st.faults.worklog_feed_delay().as_millis()).unwrap_or(i64::MAX);
    let before = time::now_ms().saturating_sub(delay);
    let (page, more) = st
        .dataset
        .read()
        .jira
        .worklog_feed
        .page(which, since, before, PAGE);
    let until = page.last().map_or(since, |(t, _)| *t);
    let url = |s: i64| format!("{}/rest/api/3/worklog/{path}?since={s}", st.jira_base);
    let mut buf = Vec::with_capacity(128 + page.len() * 64);
    let mut o = Obj::new(&mut buf);
    o.arr("values", |a| {
        for (t, id) in &page {
            a.obj(|v| {
                v.num("worklogId", id)
                    .num("updatedTime", t)
                    .empty_arr("properties");
            });
        }
    })
    .num("since", since)
    .num("until", until)
    .str("self", &url(since))
    .str("nextPage", &url(until))
    .bool("lastPage", !more);
    o.end();
    reply::list(Bytes::from(buf))
}

pub(crate) async fn list(State(st): State<AppState>, body: Bytes) -> Response {
    let bad = |m: &str| reply::jira_error(StatusCode::BAD_REQUEST, m);
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(ids) = v["ids"].as_array() else {
        return bad("The request must contain 'ids': a list of worklog ids.");
    };
    let ids: Option<Vec<String>> = ids
        .iter()
        .map(|i| match i {
            Value::Number(n) => n.as_u64().map(|n| n.to_string()),
            Value::String(s) => s.trim().parse::<u64>().ok().map(|n| n.to_string()),
            _ => None,
        })
        .collect();
    let Some(mut ids) = ids else {
        return bad("Worklog ids must be numbers.");
    };
    if ids.is_empty() || ids.len() > PAGE {
        return bad(&format!(
            "Between 1 and {PAGE} worklog ids can be requested; got {}.",
            ids.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|i| seen.insert(i.clone()));
    let store = st.dataset.read();
    let rows: Vec<&Row> = ids
        .iter()
        .filter_map(|id| store.jira.worklogs.get(id))
        .collect();
    reply::list(render::bare_array(&slices(&bodies(&rows))))
}
