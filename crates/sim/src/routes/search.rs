//! `GET|POST /rest/api/3/search/jql`: cursor pagination with opaque `nextPageToken`s; and
//! Data Center's offset-paged `GET|POST /rest/api/2/search`.
//!
//! A token is URL-safe base64 of `offset:fingerprint:sim`, where the fingerprint hashes the
//! JQL; a token that does not decode, or that belongs to another query, answers 400. Pages hold
//! at most 100 issues (`maxResults` defaults to 50; values below 1 mean 1). The response never
//! carries `total`, and `nextPageToken` is omitted on the last page.

use std::borrow::Cow;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value;

use super::reply;
use crate::dataset::Store;
use crate::jql::{self, IssueFacts, Jql};
use crate::query::Params;
use crate::render;
use crate::state::AppState;
use crate::store::Row;

const MAX_PAGE: usize = 100;
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
enum Fields {
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
    fn parse(list: &[String]) -> Self {
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

    fn render<'a>(&self, row: &'a Row, base: &str) -> Cow<'a, [u8]> {
        match self {
            Fields::All { exclude } if exclude.is_empty() => Cow::Borrowed(&row.json),
            Fields::IdOnly => Cow::Owned(crate::json::object(32, |o| {
                o.str("id", &row.id);
            })),
            Fields::Envelope => Cow::Owned(crate::json::object(200, |o| {
                o.str("expand", "")
                    .str("id", &row.id)
                    .str("self", &format!("{base}/rest/api/3/issue/{}", row.id))
                    .str("key", row.attr("key").unwrap_or_default())
                    .empty_obj("fields");
            })),
            Fields::All { exclude } => {
                let mut v: Value = serde_json::from_slice(&row.json).expect("issues are JSON");
                if let Some(f) = v["fields"].as_object_mut() {
                    f.retain(|k, _| !exclude.contains(k));
                }
                Cow::Owned(serde_json::to_vec(&v).expect("values serialize"))
            }
            Fields::Some(wanted) => {
                let mut v: Value = serde_json::from_slice(&row.json).expect("issues are JSON");
                if let Some(f) = v["fields"].as_object_mut() {
                    f.retain(|k, _| wanted.contains(k));
                }
                Cow::Owned(serde_json::to_vec(&v).expect("values serialize"))
            }
        }
    }
}

fn encode_token(offset: usize, fingerprint: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{offset}:{fingerprint:016x}:sim"))
}

fn decode_token(token: &str, fingerprint: u64) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split(':');
    let offset = parts.next()?.parse().ok()?;
    let fp = u64::from_str_radix(parts.next()?, 16).ok()?;
    (parts.next() == Some("sim") && parts.next().is_none() && fp == fingerprint).then_some(offset)
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
    search(&st, req)
}

fn string_list(v: &Value) -> Vec<String> {
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
    search(&st, req)
}

/// The issues a query selects, in served order.
pub(crate) fn select<'a>(store: &'a Store, q: &Jql) -> Vec<&'a Row> {
    let issues = &store.jira.issues;
    let matches = |row: &Row| {
        let facts = IssueFacts {
            id: &row.id,
            key: row.attr("key").unwrap_or_default(),
            project_key: row.attr("project").unwrap_or_default(),
        };
        q.matches(&facts, &|v, k| store.jira.project_matches(v, k))
    };
    if let Some(keys) = q.key_candidates() {
        let mut rows: Vec<&Row> = Vec::new();
        for k in keys {
            if let Some(row) = issues.get(&k) {
                if !rows.iter().any(|r| r.id == row.id) && matches(row) {
                    rows.push(row);
                }
            }
        }
        rows.sort_by_key(|r| r.id.parse::<u64>().unwrap_or(u64::MAX));
        return rows;
    }
    issues
        .served("")
        .into_iter()
        .filter(|r| matches(r))
        .collect()
}

fn search(st: &AppState, req: SearchRequest) -> Response {
    let q = match jql::parse(req.jql.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return bad_request(&e.message()),
    };
    let offset = match &req.token {
        None => 0,
        Some(t) => match decode_token(t, q.fingerprint) {
            Some(o) => o,
            None => return bad_request("The provided next page token is invalid or expired."),
        },
    };
    let max = req
        .max_results
        .map_or(DEFAULT_PAGE, |m| m.clamp(1, MAX_PAGE as i64) as usize);
    let fields = Fields::parse(&req.fields);
    let store = st.dataset.read();
    let (page, total): (Vec<&Row>, usize) = if q.matches_all() {
        let total = store.jira.issues.group_len("");
        (store.jira.issues.page("", offset, max), total)
    } else {
        let rows = select(&store, &q);
        let end = offset.saturating_add(max).min(rows.len());
        let start = offset.min(end);
        (rows[start..end].to_vec(), rows.len())
    };
    let next = offset + page.len();
    let is_last = next >= total;
    let rendered: Vec<Cow<'_, [u8]>> = page
        .iter()
        .map(|r| fields.render(r, &st.jira_base))
        .collect();
    let items: Vec<&[u8]> = rendered.iter().map(|c| c.as_ref()).collect();
    let token = (!is_last).then(|| encode_token(next, q.fingerprint));
    reply::list(render::jql_page(&items, token.as_deref(), is_last))
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
    let rows = select(&store, &q);
    let end = start.saturating_add(max).min(rows.len());
    let page = &rows[start.min(end)..end];
    let rendered: Vec<Cow<'_, [u8]>> = page
        .iter()
        .map(|r| fields.render(r, &st.jira_base))
        .collect();
    let mut body = format!(
        "{{\"expand\":\"schema,names\",\"startAt\":{start},\"maxResults\":{max},\"total\":{},\"issues\":[",
        rows.len()
    )
    .into_bytes();
    for (i, item) in rendered.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
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
    let count = if q.matches_all() {
        store.jira.issues.len()
    } else {
        select(&store, &q).len()
    };
    reply::item(Bytes::from(format!("{{\"count\":{count}}}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = encode_token(150, 0xabc);
        assert_eq!(decode_token(&t, 0xabc), Some(150));
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
