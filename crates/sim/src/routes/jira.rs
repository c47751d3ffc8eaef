//! Jira Cloud platform (`/rest/api/3`) and Jira Software (`/rest/agile/1.0`) read routes.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;

use super::paging::{Offset, page_url};
use super::reply;
use super::{bulkfetch, search, worklog_feed};
use crate::json::object;
use crate::query::Params;
use crate::render::{self, PageBean};
use crate::state::AppState;
use crate::store::{Row, bodies, slices};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/api/3/project/search", get(project_search))
        .route("/rest/api/3/project/{key}", get(project))
        .route("/rest/api/3/project/{key}/version", get(project_versions))
        .route(
            "/rest/api/3/project/{key}/component",
            get(project_components),
        )
        .route(
            "/rest/api/3/search/jql",
            get(search::get).post(search::post),
        )
        .route(
            "/rest/api/3/search/approximate-count",
            post(search::approximate_count),
        )
        .route("/rest/api/3/search", get(legacy_search).post(legacy_search))
        .route("/rest/api/2/search", get(legacy_search).post(legacy_search))
        .route("/rest/api/3/issue/bulkfetch", post(bulkfetch::post))
        .route("/rest/api/3/worklog/updated", get(worklog_feed::updated))
        .route("/rest/api/3/worklog/deleted", get(worklog_feed::deleted))
        .route("/rest/api/3/worklog/list", post(worklog_feed::list))
        .route("/rest/api/3/issue/{key}", get(issue))
        .route("/rest/api/3/issue/{key}/worklog", get(worklogs))
        .route("/rest/api/3/issue/{key}/worklog/{id}", get(worklog))
        .route("/rest/api/3/users/search", get(users))
        .route("/rest/api/3/users", get(users))
        .route("/rest/api/3/user", get(user))
        .route("/rest/api/3/myself", get(myself))
        .route("/rest/api/3/version/{id}", get(version))
        .route("/rest/api/3/component/{id}", get(component))
        .route("/rest/api/3/mypermissions", get(my_permissions))
        .route("/rest/api/2/serverInfo", get(server_info_cloud))
        .route("/rest/api/3/serverInfo", get(server_info_cloud))
        .merge(agile_routes())
}

/// Jira Software's agile API: the same paths and shapes on Cloud and Data Center.
pub(super) fn agile_routes() -> Router<AppState> {
    Router::new()
        .route("/rest/agile/1.0/board", get(boards))
        .route("/rest/agile/1.0/board/{id}", get(board))
        .route("/rest/agile/1.0/board/{id}/sprint", get(board_sprints))
        .route("/rest/agile/1.0/board/{id}/epic", get(board_epics))
        .route("/rest/agile/1.0/board/{id}/project", get(board_projects))
        .route("/rest/agile/1.0/sprint/{id}", get(sprint))
        .route("/rest/agile/1.0/epic/{id}", get(epic))
}

/// `GET /rest/api/{2,3}/serverInfo` of a Cloud site: what clients probe to tell Cloud from
/// Data Center.
async fn server_info_cloud(State(st): State<AppState>) -> Response {
    server_info(&st.jira_base, "Cloud", "1001.0.0-SNAPSHOT")
}

/// A `serverInfo` body.
pub(super) fn server_info(base: &str, deployment: &str, version: &str) -> Response {
    let body = serde_json::json!({
        "baseUrl": base,
        "version": version,
        "deploymentType": deployment,
        "buildNumber": 100_000,
        "serverTitle": "ocean-sim",
    });
    reply::item(body.to_string().into())
}

/// Renders the agile API's page of `items` (already filtered, in served order); `total`
/// only where the real endpoint sends one.
fn agile_page(o: Offset, items: &[&[u8]], total: Option<usize>) -> Response {
    let page = &items[o.range(items.len())];
    let is_last = o.is_last(page.len(), items.len());
    reply::list(render::agile_page(o.max, o.start, total, is_last, page))
}

fn not_found(message: &str) -> Response {
    reply::jira_error(StatusCode::NOT_FOUND, message)
}

fn no_project(key: &str) -> Response {
    not_found(&format!("No project could be found with key '{key}'."))
}

/// Renders a PageBean of `rows` (already filtered, in served order).
fn page_bean(st: &AppState, path: &str, params: &Params, o: Offset, rows: &[&Row]) -> Response {
    let total = rows.len();
    let page = &rows[o.range(total)];
    let is_last = o.is_last(page.len(), total);
    let self_url = page_url(&st.jira_base, path, params, o.start, o.max);
    let next =
        (!is_last).then(|| page_url(&st.jira_base, path, params, o.start + page.len(), o.max));
    let bean = PageBean {
        self_url: &self_url,
        next_page: next.as_deref(),
        max_results: o.max,
        start_at: o.start,
        total,
        is_last,
    };
    reply::list(render::page_bean(&bean, &slices(&bodies(page))))
}

async fn project_search(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 100) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let keys = params.list("keys");
    let ids = params.list("id");
    let query = params.get("query").map(str::to_lowercase);
    let types = params.list("typeKey");
    let store = st.dataset.read();
    let rows: Vec<&Row> = store
        .jira
        .projects
        .served("")
        .into_iter()
        .filter(|r| keys.is_empty() || keys.iter().any(|k| r.attr("key") == Some(k)))
        .filter(|r| ids.is_empty() || ids.iter().any(|i| *i == *r.id))
        .filter(|r| {
            query.as_ref().is_none_or(|q| {
                [r.attr("key"), r.attr("name")]
                    .iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(q))
            })
        })
        .filter(|_| types.is_empty() || types.iter().any(|t| t == "software"))
        .collect();
    page_bean(&st, "/rest/api/3/project/search", &params, o, &rows)
}

pub(super) async fn project(State(st): State<AppState>, Path(key): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.projects.get(&key) {
        Some(row) => reply::item(row.json()),
        None => no_project(&key),
    }
}

pub(super) async fn project_versions(
    State(st): State<AppState>,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    project_children(st, key, q, "version").await
}

async fn project_components(
    State(st): State<AppState>,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    project_children(st, key, q, "component").await
}

async fn project_children(st: AppState, key: String, q: Option<String>, what: &str) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 100) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let store = st.dataset.read();
    let Some(pid) = store.jira.project_id(&key) else {
        return no_project(&key);
    };
    let table = if what == "version" {
        &store.jira.versions
    } else {
        &store.jira.components
    };
    let query = params.get("query").map(str::to_lowercase);
    let rows: Vec<&Row> = match &query {
        None => table.served(&pid),
        Some(q) => table
            .served(&pid)
            .into_iter()
            .filter(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.json())
                    .ok()
                    .and_then(|v| v["name"].as_str().map(|n| n.to_lowercase().contains(q)))
                    .unwrap_or(false)
            })
            .collect(),
    };
    page_bean(
        &st,
        &format!("/rest/api/3/project/{key}/{what}"),
        &params,
        o,
        &rows,
    )
}

async fn legacy_search() -> Response {
    reply::jira_error(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

pub(super) async fn issue(State(st): State<AppState>, Path(key): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.issues.get(&key) {
        Some(row) => reply::item(row.json()),
        None => not_found("Issue does not exist or you do not have permission to see it."),
    }
}

pub(super) async fn worklogs(
    State(st): State<AppState>,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 5000, 5000) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let store = st.dataset.read();
    let Some(id) = store.jira.issues.resolve(&key) else {
        return not_found("Issue does not exist or you do not have permission to see it.");
    };
    let total = store.jira.worklogs.group_len(&id);
    let page = store.jira.worklogs.page(&id, o.start, o.max);
    reply::list(render::worklog_page(
        o.start,
        o.max,
        total,
        &slices(&bodies(&page)),
    ))
}

pub(super) async fn worklog(
    State(st): State<AppState>,
    Path((key, id)): Path<(String, String)>,
) -> Response {
    let store = st.dataset.read();
    let issue = store.jira.issues.resolve(&key);
    match (issue, store.jira.worklogs.get(&id)) {
        (Some(issue), Some(row)) if store.jira.worklogs.group_of(&id) == Some(&*issue) => {
            reply::item(row.json())
        }
        (None, _) => not_found("Issue does not exist or you do not have permission to see it."),
        _ => not_found(&format!("Cannot find worklog with id: {id}.")),
    }
}

async fn users(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 1000) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let store = st.dataset.read();
    let page = store.jira.users.page("", o.start, o.max);
    reply::list(render::bare_array(&slices(&bodies(&page))))
}

async fn user(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let Some(account) = params.get("accountId").filter(|a| !a.is_empty()) else {
        return reply::jira_error(
            StatusCode::BAD_REQUEST,
            "The query parameter 'accountId' is required.",
        );
    };
    let store = st.dataset.read();
    match store.jira.users.get(account) {
        Some(row) => reply::item(row.json()),
        None => not_found(&format!(
            "Specified user does not exist or you do not have required permissions: {account}"
        )),
    }
}

async fn myself(State(st): State<AppState>) -> Response {
    let store = st.dataset.read();
    reply::item(store.jira.people[0].full.clone())
}

pub(super) async fn version(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.versions.get(&id) {
        Some(row) => reply::item(row.json()),
        None => not_found(&format!("Could not find version for id '{id}'")),
    }
}

pub(super) async fn component(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.components.get(&id) {
        Some(row) => reply::item(row.json()),
        None => not_found(&format!("The component with id {id} does not exist.")),
    }
}

/// Permission keys the simulator knows: (key, id, name, type, description).
const PERMISSIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "ADMINISTER",
        "0",
        "Jira Administrators",
        "GLOBAL",
        "Ability to perform most administration functions (excluding Import & Export, SMTP Configuration, etc.).",
    ),
    (
        "SYSTEM_ADMIN",
        "44",
        "Jira System Administrators",
        "GLOBAL",
        "Ability to perform all administration functions.",
    ),
    (
        "BROWSE_PROJECTS",
        "10",
        "Browse Projects",
        "PROJECT",
        "Ability to browse projects and the issues within them.",
    ),
    (
        "CREATE_ISSUES",
        "11",
        "Create Issues",
        "PROJECT",
        "Ability to create issues.",
    ),
    (
        "EDIT_ISSUES",
        "12",
        "Edit Issues",
        "PROJECT",
        "Ability to edit issues.",
    ),
    (
        "ADMINISTER_PROJECTS",
        "23",
        "Administer Projects",
        "PROJECT",
        "Ability to administer a project in Jira.",
    ),
    (
        "USER_PICKER",
        "27",
        "Browse users and groups",
        "GLOBAL",
        "Ability to select a user or group from a popup window.",
    ),
    (
        "WORK_ON_ISSUES",
        "20",
        "Work On Issues",
        "PROJECT",
        "Ability to log work done against an issue.",
    ),
];

async fn my_permissions(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let wanted = params.list("permissions");
    if wanted.is_empty() {
        return reply::jira_error(
            StatusCode::BAD_REQUEST,
            "The 'permissions' query parameter is required: a comma-separated list of permission keys.",
        );
    }
    let unknown: Vec<&str> = wanted
        .iter()
        .filter(|w| !PERMISSIONS.iter().any(|p| p.0 == w.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return reply::jira_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid permission keys: {}", unknown.join(", ")),
        );
    }
    let admin = st.faults.jira_admin();
    let body = object(600, |o| {
        o.obj("permissions", |ps| {
            for w in &wanted {
                if let Some(&(key, id, name, kind, description)) =
                    PERMISSIONS.iter().find(|p| p.0 == w)
                {
                    let have = admin
                        || !matches!(key, "ADMINISTER" | "SYSTEM_ADMIN" | "ADMINISTER_PROJECTS");
                    ps.obj(key, |p| {
                        p.str("id", id)
                            .str("key", key)
                            .str("name", name)
                            .str("type", kind)
                            .str("description", description)
                            .bool("havePermission", have);
                    });
                }
            }
        });
    });
    reply::item(Bytes::from(body))
}

async fn boards(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 50) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let types = params.list("type");
    let project = params
        .get("projectKeyOrId")
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let name = params.get("name").map(str::to_lowercase);
    let store = st.dataset.read();
    let project_key = match &project {
        Some(p) => match store.jira.project_key(p) {
            Some(k) => Some(k),
            None => return no_project(p),
        },
        None => None,
    };
    let rows: Vec<&Row> = store
        .jira
        .boards
        .served("")
        .into_iter()
        .filter(|r| types.is_empty() || types.iter().any(|t| r.attr("type") == Some(t)))
        .filter(|r| {
            project_key
                .as_deref()
                .is_none_or(|k| r.attr("project") == Some(k))
        })
        .filter(|r| {
            name.as_ref()
                .is_none_or(|n| r.attr("name").is_some_and(|b| b.to_lowercase().contains(n)))
        })
        .collect();
    agile_page(o, &slices(&bodies(&rows)), Some(rows.len()))
}

pub(super) fn no_board(id: &str) -> Response {
    not_found(&format!(
        "Board {id} does not exist or you do not have permission to see it."
    ))
}

async fn board(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.boards.get(&id) {
        Some(row) => reply::item(row.json()),
        None => no_board(&id),
    }
}

async fn board_sprints(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 50) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let states = params.list("state");
    if let Some(bad) = states
        .iter()
        .find(|s| !matches!(s.as_str(), "future" | "active" | "closed"))
    {
        return reply::jira_field_error(
            StatusCode::BAD_REQUEST,
            "state",
            &format!(
                "The sprint state '{bad}' is not valid. Valid states are: future, active, closed."
            ),
        );
    }
    let store = st.dataset.read();
    let Some(board) = store.jira.boards.get(&id) else {
        return no_board(&id);
    };
    if board.attr("type") != Some("scrum") {
        return reply::jira_error(
            StatusCode::BAD_REQUEST,
            "The board does not support sprints",
        );
    }
    let rows: Vec<&Row> = store
        .jira
        .sprints
        .served(&board.id)
        .into_iter()
        .filter(|r| states.is_empty() || states.iter().any(|s| r.attr("state") == Some(s)))
        .collect();
    agile_page(o, &slices(&bodies(&rows)), None)
}

async fn board_epics(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 50) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let done = match params.get("done").map(str::to_lowercase).as_deref() {
        None | Some("") => None,
        Some("true") => Some("true"),
        Some("false") => Some("false"),
        Some(other) => {
            return reply::jira_field_error(
                StatusCode::BAD_REQUEST,
                "done",
                &format!("'{other}' is not a valid value for done; use true or false."),
            );
        }
    };
    let store = st.dataset.read();
    let Some(board) = store.jira.boards.get(&id) else {
        return no_board(&id);
    };
    let rows: Vec<&Row> = store
        .jira
        .epics
        .served(&board.id)
        .into_iter()
        .filter(|r| done.is_none_or(|d| r.attr("done") == Some(d)))
        .collect();
    agile_page(o, &slices(&bodies(&rows)), None)
}

async fn board_projects(
    State(st): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 50, 50) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let store = st.dataset.read();
    let Some(board) = store.jira.boards.get(&id) else {
        return no_board(&id);
    };
    let refs: Vec<&[u8]> = board
        .attr("project")
        .and_then(|k| store.jira.project_refs.get(k))
        .map(|r| vec![&r.embed[..]])
        .unwrap_or_default();
    agile_page(o, &refs, Some(refs.len()))
}

async fn sprint(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.sprints.get(&id) {
        Some(row) => reply::item(row.json()),
        None => not_found(&format!(
            "Sprint with id {id} does not exist or you do not have permission to see it."
        )),
    }
}

async fn epic(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.jira.epics.get(&id) {
        Some(row) => reply::item(row.json()),
        None => not_found(&format!(
            "Epic {id} does not exist or you do not have permission to see it."
        )),
    }
}
