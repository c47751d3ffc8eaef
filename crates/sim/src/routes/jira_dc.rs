//! Jira Data Center / Server (`/rest/api/2`), served under `/jira-dc` from the same data as
//! the Cloud site: what differs is the paths and the envelopes, not the items.
//!
//! * `serverInfo` says `deploymentType: "Server"` (Cloud's says `"Cloud"`);
//! * projects are one bare array (`/rest/api/2/project`), components too (`/components`);
//! * issue search is offset-paged (`/rest/api/2/search`, `startAt`/`maxResults`/`total`);
//! * users have no `accountId`: they are found by `username` and identified by `key` (the
//!   Cloud user's accountId, so both syncs can be compared) and `name`;
//! * the worklog change feeds and batch getter are Cloud's, under `/rest/api/2`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::paging::Offset;
use super::{jira, worklog_feed};
use super::{reply, search};
use crate::query::Params;
use crate::render;
use crate::state::AppState;
use crate::store::{bodies, slices};

/// The base of the Data Center site, relative to the simulator's root.
pub(crate) const PREFIX: &str = "/jira-dc";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/api/2/serverInfo", get(server_info))
        .route("/rest/api/2/project", get(projects))
        .route("/rest/api/2/project/{key}", get(jira::project))
        .route(
            "/rest/api/2/project/{key}/version",
            get(jira::project_versions),
        )
        .route("/rest/api/2/project/{key}/components", get(components))
        .route(
            "/rest/api/2/search",
            get(search::offset_get).post(search::offset_post),
        )
        .route("/rest/api/2/issue/{key}", get(jira::issue))
        .route("/rest/api/2/issue/{key}/worklog", get(jira::worklogs))
        .route("/rest/api/2/issue/{key}/worklog/{id}", get(jira::worklog))
        // Server and Data Center have the worklog change feeds too (since Jira 7.0).
        .route("/rest/api/2/worklog/updated", get(worklog_feed::updated))
        .route("/rest/api/2/worklog/deleted", get(worklog_feed::deleted))
        .route("/rest/api/2/worklog/list", post(worklog_feed::list))
        .route("/rest/api/2/user/search", get(users))
        .route("/rest/api/2/user", get(user))
        .route("/rest/api/2/version/{id}", get(jira::version))
        .route("/rest/api/2/component/{id}", get(jira::component))
        .merge(jira::agile_routes())
}

fn base(st: &AppState) -> String {
    format!("{}{PREFIX}", st.jira_base.trim_end_matches("/jira"))
}

async fn server_info(State(st): State<AppState>) -> Response {
    jira::server_info(&base(&st), "Server", "9.12.15")
}

async fn projects(State(st): State<AppState>) -> Response {
    let store = st.dataset.read();
    let rows = store.jira.projects.served("");
    reply::list(render::bare_array(&slices(&bodies(&rows))))
}

async fn components(State(st): State<AppState>, Path(key): Path<String>) -> Response {
    let store = st.dataset.read();
    let Some(pid) = store.jira.project_id(&key) else {
        return reply::jira_error(
            StatusCode::NOT_FOUND,
            &format!("No project could be found with key '{key}'."),
        );
    };
    let rows = store.jira.components.served(&pid);
    reply::list(render::bare_array(&slices(&bodies(&rows))))
}

/// A Cloud user as Data Center shows it: `key` and `name`, no `accountId`/`accountType`.
fn dc_user(base: &str, cloud: &[u8]) -> Vec<u8> {
    let v: Value = serde_json::from_slice(cloud).unwrap_or(Value::Null);
    let key = v["accountId"].as_str().unwrap_or_default();
    let name = v["emailAddress"]
        .as_str()
        .and_then(|e| e.split('@').next())
        .map_or_else(|| format!("user-{key}"), str::to_owned);
    let user = json!({
        "self": format!("{base}/rest/api/2/user?username={name}"),
        "key": key,
        "name": name,
        "emailAddress": v["emailAddress"],
        "avatarUrls": v["avatarUrls"],
        "displayName": v["displayName"],
        "active": v["active"],
        "timeZone": v["timeZone"],
    });
    user.to_string().into_bytes()
}

/// `GET /rest/api/2/user?key=` (or `username=`): one user, Data Center's shape.
async fn user(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let base = base(&st);
    let store = st.dataset.read();
    let wanted = params.get("key").or(params.get("username"));
    let found = store
        .jira
        .users
        .served("")
        .iter()
        .map(|r| dc_user(&base, &r.json()))
        .find(|u| {
            let v: Value = serde_json::from_slice(u).unwrap_or(Value::Null);
            wanted.is_some_and(|w| v["key"] == w || v["name"] == w)
        });
    match found {
        Some(user) => reply::item(user.into()),
        None => reply::jira_error(
            StatusCode::NOT_FOUND,
            &format!(
                "The user named '{}' does not exist",
                wanted.unwrap_or_default()
            ),
        ),
    }
}

/// `GET /rest/api/2/user/search?username=.`: a bare array, `startAt`/`maxResults` (max 1000);
/// `username` (or DC 10's `query`) is required, and `.` matches everyone.
async fn users(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let Some(wanted) = params.get("username").or(params.get("query")) else {
        return reply::jira_error(
            StatusCode::BAD_REQUEST,
            "The username query parameter was not provided",
        );
    };
    let o = match Offset::parse(&params, 50, 1000) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let base = base(&st);
    let store = st.dataset.read();
    let wanted = wanted.to_lowercase();
    let users: Vec<Vec<u8>> = store
        .jira
        .users
        .served("")
        .iter()
        .map(|r| dc_user(&base, &r.json()))
        .filter(|u| wanted == "." || String::from_utf8_lossy(u).to_lowercase().contains(&wanted))
        .collect();
    let page: Vec<&[u8]> = users[o.range(users.len())]
        .iter()
        .map(Vec::as_slice)
        .collect();
    reply::list(render::bare_array(&page))
}
