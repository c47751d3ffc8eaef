//! Jira webhook registration: admin webhooks (`/rest/webhooks/1.0/webhook`, Basic auth, admin
//! only) and dynamic webhooks (`/rest/api/3/webhook`, OAuth apps only, i.e. Bearer callers).

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, put};
use bytes::Bytes;
use serde_json::Value;

use super::guard::JiraAuth;
use super::paging::{Offset, page_url};
use super::reply;
use crate::json::object;
use crate::query::Params;
use crate::render::{self, PageBean};
use crate::state::AppState;
use crate::time;
use crate::webhooks::{AdminWebhook, DYNAMIC_EVENTS, DYNAMIC_TTL_MS, DynamicWebhook};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/rest/webhooks/1.0/webhook",
            get(admin_list).post(admin_create),
        )
        .route(
            "/rest/webhooks/1.0/webhook/{id}",
            get(admin_get).put(admin_update).delete(admin_delete),
        )
        .route(
            "/rest/api/3/webhook",
            get(dynamic_list)
                .post(dynamic_register)
                .delete(dynamic_delete),
        )
        .route("/rest/api/3/webhook/refresh", put(dynamic_refresh))
}

fn forbidden_unless_admin(st: &AppState) -> Option<Response> {
    (!st.faults.jira_admin()).then(|| {
        reply::jira_error(
            StatusCode::FORBIDDEN,
            "You do not have the permission to manage webhooks. Only Jira administrators can manage webhooks.",
        )
    })
}

fn forbidden_unless_app(auth: JiraAuth) -> Option<Response> {
    (auth != JiraAuth::Bearer).then(|| {
        reply::jira_error(
            StatusCode::FORBIDDEN,
            "Only Connect and OAuth 2.0 apps can use this operation.",
        )
    })
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(reply::jira_error(
            StatusCode::BAD_REQUEST,
            "Invalid request payload. Refer to the REST API documentation and try again.",
        )),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

async fn admin_list(State(st): State<AppState>) -> Response {
    if let Some(r) = forbidden_unless_admin(&st) {
        return r;
    }
    let rendered: Vec<Vec<u8>> = st
        .registry()
        .admin
        .iter()
        .map(|h| h.render(&st.jira_base))
        .collect();
    let items: Vec<&[u8]> = rendered.iter().map(Vec::as_slice).collect();
    reply::list(render::bare_array(&items))
}

/// Applies a POST/PUT body to a webhook.
fn admin_fields(hook: &mut AdminWebhook, v: &Value) -> Result<(), Response> {
    let Some(url) = v["url"].as_str().filter(|u| !u.trim().is_empty()) else {
        return Err(reply::jira_field_error(
            StatusCode::BAD_REQUEST,
            "url",
            "The URL is required.",
        ));
    };
    if reqwest::Url::parse(url).is_err() {
        return Err(reply::jira_field_error(
            StatusCode::BAD_REQUEST,
            "url",
            "The URL is not valid.",
        ));
    }
    hook.url = url.to_owned();
    hook.name = v["name"].as_str().unwrap_or_default().to_owned();
    hook.events = strings(&v["events"]);
    hook.jql = v["filters"]["issue-related-events-section"]
        .as_str()
        .map(str::to_owned);
    hook.exclude_body = v["excludeBody"].as_bool().unwrap_or(false);
    hook.enabled = v["enabled"].as_bool().unwrap_or(true);
    if let Some(secret) = v["secret"].as_str() {
        hook.secret = Some(secret.to_owned()).filter(|s| !s.is_empty());
    }
    hook.description = v["description"].as_str().map(str::to_owned);
    hook.last_updated_ms = time::now_ms();
    Ok(())
}

async fn admin_create(State(st): State<AppState>, body: Bytes) -> Response {
    if let Some(r) = forbidden_unless_admin(&st) {
        return r;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut reg = st.registry();
    let mut hook = AdminWebhook {
        id: reg.next_admin,
        name: String::new(),
        url: String::new(),
        events: Vec::new(),
        jql: None,
        exclude_body: false,
        enabled: true,
        secret: None,
        description: None,
        last_updated_ms: 0,
    };
    if let Err(r) = admin_fields(&mut hook, &v) {
        return r;
    }
    reg.next_admin += 1;
    let rendered = hook.render(&st.jira_base);
    let location = format!("{}/rest/webhooks/1.0/webhook/{}", st.jira_base, hook.id);
    reg.admin.push(hook);
    let mut resp = reply::json(StatusCode::CREATED, rendered.into());
    if let Ok(loc) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

fn no_webhook(id: &str) -> Response {
    reply::jira_error(
        StatusCode::NOT_FOUND,
        &format!("Webhook with id {id} does not exist."),
    )
}

async fn admin_get(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    if let Some(r) = forbidden_unless_admin(&st) {
        return r;
    }
    let reg = st.registry();
    match reg.admin.iter().find(|h| h.id.to_string() == id) {
        Some(h) => reply::item(h.render(&st.jira_base).into()),
        None => no_webhook(&id),
    }
}

async fn admin_update(State(st): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    if let Some(r) = forbidden_unless_admin(&st) {
        return r;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut reg = st.registry();
    let Some(hook) = reg.admin.iter_mut().find(|h| h.id.to_string() == id) else {
        return no_webhook(&id);
    };
    let mut updated = hook.clone();
    if let Err(r) = admin_fields(&mut updated, &v) {
        return r;
    }
    *hook = updated;
    reply::item(hook.render(&st.jira_base).into())
}

async fn admin_delete(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    if let Some(r) = forbidden_unless_admin(&st) {
        return r;
    }
    let mut reg = st.registry();
    let before = reg.admin.len();
    reg.admin.retain(|h| h.id.to_string() != id);
    if reg.admin.len() == before {
        return no_webhook(&id);
    }
    reply::status(StatusCode::NO_CONTENT)
}

async fn dynamic_list(
    State(st): State<AppState>,
    Extension(auth): Extension<JiraAuth>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Some(r) = forbidden_unless_app(auth) {
        return r;
    }
    let params = Params::parse(q.as_deref());
    let o = match Offset::parse(&params, 100, 100) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let rendered: Vec<Vec<u8>> = st
        .registry()
        .dynamic
        .iter()
        .map(DynamicWebhook::render)
        .collect();
    let total = rendered.len();
    let page: Vec<&[u8]> = rendered[o.range(total)].iter().map(Vec::as_slice).collect();
    let is_last = o.is_last(page.len(), total);
    let path = "/rest/api/3/webhook";
    let self_url = page_url(&st.jira_base, path, &params, o.start, o.max);
    let next =
        (!is_last).then(|| page_url(&st.jira_base, path, &params, o.start + page.len(), o.max));
    let bean = PageBean {
        self_url: &self_url,
        next_page: next.as_deref(),
        max_results: o.max,
        start_at: o.start,
        total,
        is_last,
    };
    reply::list(render::page_bean(&bean, &page))
}

/// Validates one `webhooks[]` entry; `Err` holds its error messages.
fn dynamic_entry(entry: &Value) -> Result<(Vec<String>, String), Vec<String>> {
    let events = strings(&entry["events"]);
    let mut errors = Vec::new();
    if events.is_empty() {
        errors.push("At least one event is required.".to_owned());
    }
    for e in events
        .iter()
        .filter(|e| !DYNAMIC_EVENTS.contains(&e.as_str()))
    {
        errors.push(format!("The event {e} is not supported."));
    }
    let jql = entry["jqlFilter"].as_str().unwrap_or_default().to_owned();
    if jql.trim().is_empty() {
        errors.push("The JQL filter is required.".to_owned());
    } else if let Err(e) = crate::jql::parse(&jql) {
        errors.push(e.message());
    }
    if errors.is_empty() {
        Ok((events, jql))
    } else {
        Err(errors)
    }
}

async fn dynamic_register(
    State(st): State<AppState>,
    Extension(auth): Extension<JiraAuth>,
    body: Bytes,
) -> Response {
    if let Some(r) = forbidden_unless_app(auth) {
        return r;
    }
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(url) = v["url"].as_str().filter(|u| reqwest::Url::parse(u).is_ok()) else {
        return reply::jira_field_error(StatusCode::BAD_REQUEST, "url", "A valid URL is required.");
    };
    let Some(entries) = v["webhooks"].as_array() else {
        return reply::jira_field_error(
            StatusCode::BAD_REQUEST,
            "webhooks",
            "The webhooks list is required.",
        );
    };
    let mut reg = st.registry();
    // Jira keeps one webhook URL per app.
    let other_url = reg.dynamic.iter().any(|h| h.url != url);
    let mut results = Vec::with_capacity(entries.len());
    for entry in entries {
        let checked = if other_url {
            Err(vec![
                "Only one webhook URL is allowed per app; delete the existing webhooks first."
                    .to_owned(),
            ])
        } else {
            dynamic_entry(entry)
        };
        match checked {
            Ok((events, jql)) => {
                let id = reg.next_dynamic;
                reg.next_dynamic += 1;
                let opt = |k: &str| entry.get(k).filter(|x| x.is_array()).map(strings);
                reg.dynamic.push(DynamicWebhook {
                    id,
                    url: url.to_owned(),
                    events,
                    jql_filter: jql,
                    field_ids_filter: opt("fieldIdsFilter"),
                    issue_property_keys_filter: opt("issuePropertyKeysFilter"),
                    expiration_ms: time::now_ms() + DYNAMIC_TTL_MS,
                });
                results.push(object(40, |o| {
                    o.num("createdWebhookId", id);
                }));
            }
            Err(errors) => results.push(object(200, |o| {
                o.strs("errors", &errors);
            })),
        }
    }
    let items: Vec<&[u8]> = results.iter().map(Vec::as_slice).collect();
    let body = object(256, |o| {
        o.arr("webhookRegistrationResult", |a| {
            for i in &items {
                a.raw(i);
            }
        });
    });
    reply::item(body.into())
}

fn webhook_ids(body: &Bytes) -> Result<Vec<u64>, Response> {
    let v = parse_body(body)?;
    match v["webhookIds"].as_array() {
        Some(ids) => Ok(ids.iter().filter_map(Value::as_u64).collect()),
        None => Err(reply::jira_field_error(
            StatusCode::BAD_REQUEST,
            "webhookIds",
            "The webhookIds list is required.",
        )),
    }
}

async fn dynamic_delete(
    State(st): State<AppState>,
    Extension(auth): Extension<JiraAuth>,
    body: Bytes,
) -> Response {
    if let Some(r) = forbidden_unless_app(auth) {
        return r;
    }
    let ids = match webhook_ids(&body) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    st.registry().dynamic.retain(|h| !ids.contains(&h.id));
    reply::status(StatusCode::ACCEPTED)
}

async fn dynamic_refresh(
    State(st): State<AppState>,
    Extension(auth): Extension<JiraAuth>,
    body: Bytes,
) -> Response {
    if let Some(r) = forbidden_unless_app(auth) {
        return r;
    }
    let ids = match webhook_ids(&body) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    let expiration = time::now_ms() + DYNAMIC_TTL_MS;
    for hook in st
        .registry()
        .dynamic
        .iter_mut()
        .filter(|h| ids.contains(&h.id))
    {
        hook.expiration_ms = expiration;
    }
    reply::item(format!("{{\"expirationDate\":{expiration}}}").into())
}
