//! Shared helpers: fixtures from `tests/fixtures` (real payload shapes) and clients
//! pointed at a mock server, with no retries so that tests never sleep.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use futures::future::BoxFuture;
use httpmock::{HttpMockRequest, MockServer};
use ocean_core::{Record, RetryPolicy, Secret, TokenError, TokenProvider};
use ocean_jira::{JiraClient, JiraKind, SyncOptions};
use serde_json::{Value, json};

/// The e-mail and token of the Basic client; `Basic base64(me@example.com:api-token)`.
pub const EMAIL: &str = "me@example.com";
/// The API token of the Basic client.
pub const TOKEN: &str = "api-token";
/// The header the Basic client sends.
pub const BASIC_HEADER: &str = "Basic bWVAZXhhbXBsZS5jb206YXBpLXRva2Vu";
/// The OAuth cloud id.
pub const CLOUD_ID: &str = "11223344-a1b2-3b33-c444-def123456789";

/// A fixture file's text.
pub fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture file as JSON.
pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

/// A Basic-auth client of the mock server, no retries, small pages.
pub fn basic_client(server: &MockServer) -> JiraClient {
    JiraClient::builder(&server.base_url())
        .basic(EMAIL, TOKEN)
        .retry(RetryPolicy::none())
        .page_size(2)
        .build()
        .unwrap()
}

/// An OAuth client whose requests go to `{server}/ex/jira/{CLOUD_ID}`.
pub fn oauth_client(server: &MockServer, provider: Tokens) -> JiraClient {
    JiraClient::builder("https://example.atlassian.net")
        .oauth(CLOUD_ID, provider)
        .api_gateway(&server.base_url())
        // No retries: the resend after a token refresh is not one.
        .retry(RetryPolicy::none())
        .page_size(2)
        .build()
        .unwrap()
}

/// The path prefix of OAuth requests.
pub fn oauth_path(path: &str) -> String {
    format!("/ex/jira/{CLOUD_ID}{path}")
}

/// A token provider handing out `old` and, after a refresh, `new`; counts both calls.
#[derive(Clone, Default)]
pub struct Tokens {
    pub issued: Arc<AtomicUsize>,
    pub refreshed: Arc<AtomicUsize>,
}

impl TokenProvider for Tokens {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        self.issued.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Secret::new("old-token")) })
    }
    fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        self.refreshed.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Secret::new("new-token")) })
    }
}

impl Tokens {
    pub fn refreshes(&self) -> usize {
        self.refreshed.load(Ordering::SeqCst)
    }
}

/// An offset page in Jira's PageBean envelope.
pub fn offset_page(start: u64, values: Vec<Value>, total: u64) -> Value {
    let is_last = start + values.len() as u64 >= total;
    json!({
        "self": "https://your-domain.atlassian.net/x",
        "maxResults": 2,
        "startAt": start,
        "total": total,
        "isLast": is_last,
        "values": values,
    })
}

/// An agile page: `isLast`, no `total` (as many agile lists answer).
pub fn agile_page(start: u64, values: Vec<Value>, is_last: bool) -> Value {
    json!({ "maxResults": 2, "startAt": start, "isLast": is_last, "values": values })
}

/// The fixture's projects, re-keyed: the project with this key and a numeric id.
pub fn project(key: &str, id: u32) -> Value {
    let mut p = fixture("jira-project-search-page.json")["values"][0].clone();
    p["key"] = key.into();
    p["id"] = id.to_string().into();
    p["self"] = format!("https://your-domain.atlassian.net/rest/api/3/project/{key}").into();
    p
}

/// The fixture's issue, re-keyed.
pub fn issue(key: &str, id: u32) -> Value {
    let mut i = fixture("jira-search-jql-page.json")["issues"][0].clone();
    i["key"] = key.into();
    i["id"] = id.to_string().into();
    i
}

/// A board as `GET /rest/agile/1.0/board` lists it.
pub fn board(id: u64, kind: &str) -> Value {
    json!({
        "id": id,
        "self": format!("https://your-domain.atlassian.net/rest/agile/1.0/board/{id}"),
        "name": format!("Board {id}"),
        "type": kind,
        "location": {"projectId": 10000, "projectKey": "EX", "projectName": "Example",
                     "displayName": "Example (EX)", "projectTypeKey": "software"}
    })
}

/// A sprint of a board.
pub fn sprint(id: u64, board: u64, state: &str) -> Value {
    json!({
        "id": id,
        "self": format!("https://your-domain.atlassian.net/rest/agile/1.0/sprint/{id}"),
        "state": state,
        "name": format!("Sprint {id}"),
        "startDate": "2015-04-11T15:22:00.000+10:00",
        "endDate": "2015-04-20T01:22:00.000+10:00",
        "originBoardId": board,
        "goal": "ship"
    })
}

/// An epic.
pub fn epic(id: u64, key: &str) -> Value {
    json!({
        "id": id, "key": key, "self": format!("https://your-domain.atlassian.net/rest/agile/1.0/epic/{id}"),
        "name": format!("Epic {key}"), "summary": "Epic summary", "color": {"key": "color_4"}, "done": false
    })
}

/// A project version (release).
pub fn version(id: u32, project_id: u64) -> Value {
    json!({
        "self": format!("https://your-domain.atlassian.net/rest/api/3/version/{id}"),
        "id": id.to_string(), "description": "An excellent version", "name": format!("v{id}"),
        "archived": false, "released": true, "releaseDate": "2010-07-06",
        "userReleaseDate": "6/Jul/2010", "projectId": project_id, "overdue": true
    })
}

/// A component.
pub fn component(id: u32, project: &str) -> Value {
    json!({
        "self": format!("https://your-domain.atlassian.net/rest/api/3/component/{id}"),
        "id": id.to_string(), "name": format!("Component {id}"), "description": "A component",
        "lead": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof", "active": false},
        "assigneeType": "PROJECT_LEAD", "project": project, "projectId": 10000, "issueCount": 3
    })
}

/// A worklog, shaped like the one embedded in the search fixture.
pub fn worklog(id: u32, issue_id: u32) -> Value {
    let mut w = fixture("jira-search-jql-page.json")["issues"][0]["fields"]["worklog"][0].clone();
    w["id"] = id.to_string().into();
    w["issueId"] = issue_id.to_string().into();
    w
}

/// A page of worklogs (`PageOfWorklogs`: `worklogs`, `total`, no `isLast`).
pub fn worklog_page(start: u64, worklogs: Vec<Value>, total: u64) -> Value {
    json!({ "startAt": start, "maxResults": 2, "total": total, "worklogs": worklogs })
}

/// A JSON body's value, for `is_true` matchers.
pub fn body_json(req: &HttpMockRequest) -> Value {
    serde_json::from_slice(req.body_ref()).unwrap_or(Value::Null)
}

/// Every record of a sync, or the first error.
pub async fn sync_all(
    jira: &JiraClient,
    kind: JiraKind,
    options: &SyncOptions,
) -> ocean_core::Result<Vec<Record>> {
    jira.sync(kind, options).try_collect().await
}

/// The records' `(parent id, item id)` pairs, sorted.
pub fn tagged(records: &[Record], id_field: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = records
        .iter()
        .map(|r| {
            let parent = r.parent.as_ref().map(|p| p.id.clone()).unwrap_or_default();
            let id = ocean_core::raw_field(&r.item, id_field).unwrap().unwrap();
            (parent, id)
        })
        .collect();
    pairs.sort();
    pairs
}

/// A Jira ErrorCollection body.
pub fn error_collection(message: &str) -> Value {
    json!({ "errorMessages": [message], "errors": {} })
}
