//! A board's backlog: the issues of the board's project that match the `jql` parameter.
//! Cloud: `GET /rest/software/1.0/board/{id}/backlog` (`nextPageToken` paging); Data Center:
//! `GET /rest/agile/1.0/board/{id}/backlog` (offset paging). Kanban boards have none:
//! `400 Backlogs are not supported on this board`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::jira::no_board;
use super::paging::Offset;
use super::reply;
use crate::jql;
use crate::query::Params;
use crate::render;
use crate::state::AppState;
use crate::store::Row;
use crate::store::{bodies, slices};

const MAX_PAGE: usize = 100;

/// Cloud's route (the Jira Software API).
pub(crate) fn cloud_routes() -> Router<AppState> {
    Router::new().route("/rest/software/1.0/board/{id}/backlog", get(cloud))
}

/// Data Center's route (the agile API).
pub(crate) fn dc_routes() -> Router<AppState> {
    Router::new().route("/rest/agile/1.0/board/{id}/backlog", get(dc))
}

/// The backlog's issues in served order, or the error answer.
fn backlog<'a>(
    store: &'a crate::dataset::Store,
    id: &str,
    params: &Params,
) -> Result<Vec<&'a Row>, Response> {
    let Some(board) = store.jira.boards.get(id) else {
        return Err(no_board(id));
    };
    if board.attr("type") != Some("scrum") {
        return Err(reply::jira_error(
            StatusCode::BAD_REQUEST,
            "Backlogs are not supported on this board",
        ));
    }
    let q = jql::parse(params.get("jql").unwrap_or(""))
        .map_err(|e| reply::jira_error(StatusCode::BAD_REQUEST, &e.message()))?;
    let project = board.attr("project");
    Ok(super::select::select(store, &q, crate::time::now_ms())
        .into_iter()
        .filter(|r| r.attr("project") == project)
        .collect())
}

async fn cloud(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let store = st.dataset.read();
    let rows = match backlog(&store, &id, &params) {
        Ok(rows) => rows,
        Err(r) => return r,
    };
    let Ok(max) = params.int("maxResults") else {
        return reply::jira_error(StatusCode::BAD_REQUEST, "maxResults must be a number");
    };
    let max = max.map_or(50, |m| m.clamp(1, MAX_PAGE as i64) as usize);
    // The token is the offset; clients treat it as opaque.
    let start: usize = match params.get("nextPageToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match t.strip_prefix("backlog-").and_then(|o| o.parse().ok()) {
            Some(o) => o,
            None => {
                return reply::jira_error(StatusCode::BAD_REQUEST, "Invalid nextPageToken");
            }
        },
    };
    let end = start.saturating_add(max).min(rows.len());
    let page = &rows[start.min(end)..end];
    let is_last = end >= rows.len();
    let token = (!is_last).then(|| format!("backlog-{end}"));
    reply::list(render::jql_page(
        &slices(&bodies(page)),
        token.as_deref(),
        is_last,
    ))
}

async fn dc(State(st): State<AppState>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, MAX_PAGE) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let store = st.dataset.read();
    let rows = match backlog(&store, &id, &params) {
        Ok(rows) => rows,
        Err(r) => return r,
    };
    let page = &rows[o.range(rows.len())];
    let items = render::bare_array(&slices(&bodies(page)));
    let body = format!(
        "{{\"expand\":\"names,schema\",\"startAt\":{},\"maxResults\":{},\"total\":{},\"issues\":{}}}",
        o.start,
        o.max,
        rows.len(),
        String::from_utf8_lossy(&items)
    );
    reply::list(body.into())
}
