//! `GET|POST /rest/api/3/search/jql`: cursor pagination with opaque `nextPageToken`s; and
//! Data Center's offset-paged `GET|POST /rest/api/2/search`.
//!
//! A token is URL-safe base64 of `offset:fingerprint:anchor:sim`, where the fingerprint hashes
//! the JQL and the anchor is the instant relative dates were resolved at on the first page; a
//! token that does not decode, or that belongs to another query, answers 400. Pages hold at
//! most 100 issues, or 5000 when only `id`/`key` are requested (`maxResults` defaults to 50;
//! values below 1 mean 1). The response never carries `total`, and `nextPageToken` is omitted
//! on the last page. Pages are paced by [`Faults::issue_delay`](crate::Faults).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value;

use super::reply;
use super::select;
use crate::jql;
use crate::query::Params;
use crate::render;
use crate::state::AppState;
use crate::store::{Row, slices};
use crate::time;

/// The largest page of issues with fields.
const MAX_PAGE: usize = 100;
/// The largest page when only `id`/`key` are requested.
const MAX_ID_PAGE: usize = 5000;
const DEFAULT_PAGE: usize = 50;

/// What a search asked for, from the query string or the JSON body.
#[derive(Debug, Default)]
struct SearchRequest {
    jql: Option<String>,
    token: Option<String>,
    max_results: Option<i64>,
    fields: Vec<String>,
}

/// Which parts of each issue to return.
#[derive(Debug, PartialEq)]
pub(crate) enum Fields {
    /// No `fields` sent: Jira's default is the id only.
    IdOnly,
    /// Only `id`/`key` requested: the issue envelope with empty `fields`.
    Envelope,
    /// `*all` or `*navigable`: everything (pre-rendered), minus any `-field`.
    All { exclude: Vec<String> },
    /// An explicit list.
    Some(Vec<String>),
}

impl Fields {
    pub(crate) fn parse(list: &[String]) -> Self {
        if list.is_empty() {
            return Fields::IdOnly;
        }
        let exclude: Vec<String> = list
            .iter()
            .filter_map(|f| f.strip_prefix('-'))
            .map(str::to_owned)
            .collect();
        if list.iter().any(|f| f == "*all" || f == "*navigable") {
            return Fields::All { exclude };
        }
        let wanted: Vec<String> = list
            .iter()
            .filter(|f| !f.starts_with('-'))
            .filter(|f| !exclude.contains(f))
            .cloned()
            .collect();
        if wanted.iter().all(|f| f == "id" || f == "key") {
            Fields::Envelope
        } else {
            Fields::Some(wanted)
        }
    }

    /// Whether only `id`/`key` are returned (the cheap, large-page request).
    pub(crate) fn is_id_only(&self) -> bool {
        matches!(self, Fields::IdOnly | Fields::Envelope)
    }

    /// The issue as this request shows it.
    pub(crate) fn render(&self, row: &Row, base: &str) -> Bytes {
        match self {
            Fields::All { exclude } if exclude.is_empty() => row.json(),
            Fields::IdOnly => Bytes::from(crate::json::object(32, |o| {
                o.str("id", &row.id);
            })),
            Fields::Envelope => Bytes::from(crate::json::object(200, |o| {
                o.str("expand", "")
                    .str("id", &row.id)
                    .str("self", &format!("{base}/rest/api/3/issue/{}", row.id))
                    .str("key", row.attr("key").unwrap_or_default())
                    .empty_obj("fields");
            })),
            Fields::All { exclude } => {
                let mut v: Value = serde_json::from_slice(&row.json()).expect("issues are JSON");
                if let Some(f) = v["fields"].as_object_mut() {
                    f.retain(|k, _| !exclude.contains(k));
                }
                Bytes::from(serde_json::to_vec(&v).expect("values serialize"))
            }
            Fields::Some(wanted) => {
                let mut v: Value = serde_json::from_slice(&row.json()).expect("issues are JSON");
                if let Some(f) = v["fields"].as_object_mut() {
                    f.retain(|k, _| wanted.contains(k));
                }
                Bytes::from(serde_json::to_vec(&v).expect("values serialize"))
            }
        }
    }
}

fn encode_token(offset: usize, fingerprint: u64, anchor_ms: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{offset}:{fingerprint:016x}:{anchor_ms}:sim"))
}

/// `(offset, anchor)` of a token issued for the query with this fingerprint.
fn decode_token(token: &str, fingerprint: u64) -> Option<(usize, i64)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split(':');
    let offset = parts.next()?.parse().ok()?;
    let fp = u64::from_str_radix(parts.next()?, 16).ok()?;
    let anchor = parts.next()?.parse().ok()?;
    (parts.next() == Some("sim") && parts.next().is_none() && fp == fingerprint)
        .then_some((offset, anchor))
}

fn bad_request(message: &str) -> Response {
    reply::jira_error(StatusCode::BAD_REQUEST, message)
}

pub(crate) async fn get(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let max_results = match params.int("maxResults") {
        Ok(m) => m,
        Err(_) => return bad_request("The 'maxResults' parameter must be a number."),
    };
    let req = SearchRequest {
        jql: params.get("jql").map(str::to_owned),
        token: params
            .get("nextPageToken")
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        max_results,
        fields: params.list("fields"),
    };
    respond(&st, req).await
}

pub(crate) fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) async fn post(State(st): State<AppState>, body: Bytes) -> Response {
    let v: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return bad_request(
                    "Invalid request payload. Refer to the REST API documentation and try again.",
                );
            }
        }
    };
    let max_results = match &v["maxResults"] {
        Value::Null => None,
        Value::Number(n) => n.as_i64(),
        _ => return bad_request("The 'maxResults' field must be a number."),
    };
    let req = SearchRequest {
        jql: v["jql"].as_str().map(str::to_owned),
        token: v["nextPageToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        max_results,
        fields: string_list(&v["fields"]),
    };
    respond(&st, req).await
}

async fn respond(st: &AppState, req: SearchRequest) -> Response {
    let (resp, delay) = search(st, req);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    resp
}

/// Answers a search, with how long to hold the answer back (outside the data lock).
fn search(st: &AppState, req: SearchRequest) -> (Response, std::time::Duration) {
    let no_delay = std::time::Duration::ZERO;
    let q = match jql::parse(req.jql.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return (bad_request(&e.message()), no_delay),
    };
    let (offset, anchor) = match &req.token {
        None => (0, time::now_ms()),
        Some(t) => match decode_token(t, q.fingerprint) {
            Some(o) => o,
            None => {
                return (
                    bad_request("The provided next page token is invalid or expired."),
                    no_delay,
                );
            }
        },
    };
    let fields = Fields::parse(&req.fields);
    let cap = if fields.is_id_only() {
        MAX_ID_PAGE
    } else {
        MAX_PAGE
    };
    let max = req
        .max_results
        .map_or(DEFAULT_PAGE, |m| m.clamp(1, cap as i64) as usize);
    let store = st.dataset.read();
    let issues = &store.jira.issues;
    let selection;
    let (page, total): (Vec<&Row>, usize) = if select::is_everything(&q) {
        (issues.page("", offset, max), issues.group_len(""))
    } else {
        selection = st.selections.get(&store, &q, anchor);
        let end = offset.saturating_add(max).min(selection.len());
        let start = offset.min(end);
        let rows = selection[start..end]
            .iter()
            .filter_map(|id| issues.get(id))
            .collect();
        (rows, selection.len())
    };
    let next = offset + page.len();
    let is_last = next >= total;
    let rendered: Vec<Bytes> = page
        .iter()
        .map(|r| fields.render(r, &st.jira_base))
        .collect();
    let items = slices(&rendered);
    let token = (!is_last).then(|| encode_token(next, q.fingerprint, anchor));
    let delay = st.faults.issue_delay(page.len(), fields.is_id_only());
    (
        reply::list(render::jql_page(&items, token.as_deref(), is_last)),
        delay,
    )
}

/// `GET /rest/api/2/search` on Data Center: offset pages (`startAt`, `maxResults`, `total`).
pub(crate) async fn offset_get(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref());
    let (Ok(max_results), Ok(start_at)) = (params.int("maxResults"), params.int("startAt")) else {
        return bad_request("The 'startAt' and 'maxResults' parameters must be numbers.");
    };
    let fields = params.list("fields");
    offset_search(&st, params.get("jql"), start_at, max_results, fields)
}

/// `POST /rest/api/2/search` on Data Center: the same with the parameters in the body.
pub(crate) async fn offset_post(State(st): State<AppState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return bad_request("Can not deserialize the search request."),
    };
    let int = |name: &str| match &v[name] {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_i64()),
        _ => Err(()),
    };
    let (Ok(max_results), Ok(start_at)) = (int("maxResults"), int("startAt")) else {
        return bad_request("The 'startAt' and 'maxResults' fields must be numbers.");
    };
    let fields = match &v["fields"] {
        // Data Center's default is every navigable field.
        Value::Null => vec!["*navigable".to_owned()],
        other => string_list(other),
    };
    offset_search(&st, v["jql"].as_str(), start_at, max_results, fields)
}

fn offset_search(
    st: &AppState,
    jql: Option<&str>,
    start_at: Option<i64>,
    max_results: Option<i64>,
    fields: Vec<String>,
) -> Response {
    let q = match jql::parse(jql.unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return bad_request(&e.message()),
    };
    let start = start_at.unwrap_or(0).max(0) as usize;
    let max = max_results.map_or(DEFAULT_PAGE, |m| m.clamp(1, MAX_PAGE as i64) as usize);
    let fields = Fields::parse(&fields);
    let store = st.dataset.read();
    let rows = select::select(&store, &q, time::now_ms());
    let end = start.saturating_add(max).min(rows.len());
    let mut body = format!(
        "{{\"expand\":\"schema,names\",\"startAt\":{start},\"maxResults\":{max},\"total\":{},\"issues\":[",
        rows.len()
    )
    .into_bytes();
    for (i, row) in rows[start.min(end)..end].iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&fields.render(row, &st.jira_base));
    }
    body.extend_from_slice(b"]}");
    reply::list(body.into())
}

/// `POST /rest/api/3/search/approximate-count`: `{"jql"}` → `{"count"}` (exact here).
pub(crate) async fn approximate_count(State(st): State<AppState>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let q = match jql::parse(v["jql"].as_str().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return bad_request(&e.message()),
    };
    let store = st.dataset.read();
    let count = if select::is_everything(&q) {
        store.jira.issues.len()
    } else {
        st.selections.get(&store, &q, time::now_ms()).len()
    };
    reply::item(Bytes::from(format!("{{\"count\":{count}}}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = encode_token(150, 0xabc, 1_700_000_000_000);
        assert_eq!(decode_token(&t, 0xabc), Some((150, 1_700_000_000_000)));
        assert_eq!(decode_token(&t, 0xabd), None);
        assert_eq!(decode_token("garbage!!", 0xabc), None);
        assert_eq!(decode_token("", 0xabc), None);
    }

    #[test]
    fn field_modes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(Fields::parse(&[]), Fields::IdOnly);
        assert_eq!(Fields::parse(&s(&["key"])), Fields::Envelope);
        assert_eq!(
            Fields::parse(&s(&["*all"])),
            Fields::All { exclude: vec![] }
        );
        assert_eq!(
            Fields::parse(&s(&["*navigable", "-comment"])),
            Fields::All {
                exclude: s(&["comment"])
            }
        );
        assert_eq!(
            Fields::parse(&s(&["summary", "key"])),
            Fields::Some(s(&["summary", "key"]))
        );
    }
}
