//! Octopus Deploy routes (`/api/...`), space-scoped and unscoped (the default space).
//!
//! Collections use the `*ResourceCollection` envelope with `skip`/`take` (default take 30, no
//! cap) and relative `Links`; `.../all` answers a bare array.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use super::reply;
use crate::data::octopus::{self as data, DEFAULT_SPACE};
use crate::json::object;
use crate::query::{self, Params};
use crate::render::{self, OctopusPaging};
use crate::state::AppState;
use crate::store::{Row, Table, bodies, slices};

const PLURALS: &[&str] = &[
    "projects",
    "environments",
    "machines",
    "releases",
    "deployments",
    "subscriptions",
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api", get(root))
        .route("/api/", get(root))
        .route("/api/spaces", get(spaces))
        .route("/api/spaces/all", get(spaces_all))
        .route("/api/spaces/{id}", get(space))
        .route("/api/{a}", get(one_segment).post(create_default))
        .route(
            "/api/{a}/{b}",
            get(two_segments)
                .post(create_in_space)
                .put(update_default)
                .delete(delete_default),
        )
        .route(
            "/api/{a}/{b}/{c}",
            get(three_segments)
                .put(update_in_space)
                .delete(delete_in_space),
        )
}

async fn root() -> Response {
    let s = DEFAULT_SPACE;
    let body = object(1500, |o| {
        o.str("Application", "Octopus Deploy")
            .str("Version", "2024.3.10989")
            .str("ApiVersion", "3.0.0")
            .str("InstallationId", "9f155416-5d9e-4e19-ba58-b710d4edf336")
            .obj("Links", |l| {
                l.str("Self", "/api")
                    .str("Spaces", "/api/spaces{/id}{?skip,ids,take,partialName}")
                    .str("Environments", &format!("/api/{s}/environments{{/id}}{{?name,skip,ids,take,partialName}}"))
                    .str("Machines", &format!("/api/{s}/machines{{/id}}{{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,environmentIds,thumbprint,deploymentId,shellNames,deploymentTargetTypes}}"))
                    .str("Projects", &format!("/api/{s}/projects{{/id}}{{?name,skip,ids,clone,take,partialName,clonedFromProjectId}}"))
                    .str("Releases", &format!("/api/{s}/releases{{/id}}{{?skip,take,ids,searchByVersion}}"))
                    .str("Deployments", &format!("/api/{s}/deployments{{/id}}{{?skip,take,ids,projects,environments,tenants,channels,taskState,partialName}}"))
                    .str("Subscriptions", &format!("/api/{s}/subscriptions{{/id}}{{?skip,take,ids,partialName,spaces}}"))
                    .str("Tasks", "/api/tasks{/id}{?skip,active,environment,tenant,runbook,project,name,node,running,states,hasPendingInterruptions,hasWarningsOrErrors,take,ids,partialName,spaces,includeSystem,description,fromCompletedDate,toCompletedDate,fromQueueDate,toQueueDate,fromStartDate,toStartDate}")
                    .str("Web", "/app");
            });
    });
    reply::item(body.into())
}

/// Where a request points, after resolving scoped and unscoped forms.
struct Target {
    space: String,
    plural: String,
    /// The path prefix the client used (`/api/Spaces-1/projects` or `/api/projects`).
    path: String,
}

fn is_space(s: &str) -> bool {
    s.starts_with("Spaces-")
}

async fn spaces(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let target = Target {
        space: String::new(),
        plural: "spaces".into(),
        path: "/api/spaces".into(),
    };
    collection(&st, &target, q.as_deref())
}

async fn spaces_all(State(st): State<AppState>) -> Response {
    let store = st.dataset.read();
    let rows = store.octopus.spaces.served("");
    reply::list(render::bare_array(&slices(&bodies(&rows))))
}

async fn space(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let store = st.dataset.read();
    match store.octopus.spaces.get(&id) {
        Some(row) => reply::item(row.json()),
        None => reply::octopus_not_found(),
    }
}

/// `/api/{plural}`: a default-space collection.
async fn one_segment(
    State(st): State<AppState>,
    Path(a): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if !PLURALS.contains(&a.as_str()) {
        return reply::octopus_not_found();
    }
    let target = Target {
        space: DEFAULT_SPACE.into(),
        path: format!("/api/{a}"),
        plural: a,
    };
    collection(&st, &target, q.as_deref())
}

/// `/api/{space}/{plural}` (a collection) or `/api/{plural}/{id}` (an item of the default space).
async fn two_segments(
    State(st): State<AppState>,
    Path((a, b)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    if is_space(&a) {
        if !PLURALS.contains(&b.as_str()) || st.dataset.read().octopus.spaces.get(&a).is_none() {
            return reply::octopus_not_found();
        }
        let target = Target {
            path: format!("/api/{a}/{b}"),
            space: a,
            plural: b,
        };
        return collection(&st, &target, q.as_deref());
    }
    if !PLURALS.contains(&a.as_str()) {
        return reply::octopus_not_found();
    }
    if b == "all" {
        return all(&st, DEFAULT_SPACE, &a);
    }
    item(&st, DEFAULT_SPACE, &a, &b)
}

/// `/api/{space}/{plural}/{id}`.
async fn three_segments(
    State(st): State<AppState>,
    Path((a, b, c)): Path<(String, String, String)>,
) -> Response {
    if !is_space(&a) || !PLURALS.contains(&b.as_str()) {
        return reply::octopus_not_found();
    }
    if c == "all" {
        return all(&st, &a, &b);
    }
    item(&st, &a, &b, &c)
}

fn item(st: &AppState, space: &str, plural: &str, id: &str) -> Response {
    let store = st.dataset.read();
    let Some(table) = store.octopus.table(plural) else {
        return reply::octopus_not_found();
    };
    match table.get(id) {
        Some(row) if table.group_of(id) == Some(space) => reply::item(row.json()),
        _ => reply::octopus_not_found(),
    }
}

fn all(st: &AppState, space: &str, plural: &str) -> Response {
    let store = st.dataset.read();
    if store.octopus.spaces.get(space).is_none() {
        return reply::octopus_not_found();
    }
    let Some(table) = store.octopus.table(plural) else {
        return reply::octopus_not_found();
    };
    let rows = table.served(space);
    reply::list(render::bare_array(&slices(&bodies(&rows))))
}

fn bad(message: &str) -> Response {
    reply::octopus_error(
        StatusCode::BAD_REQUEST,
        "There was a problem with your request.",
        &[message],
    )
}

fn filtered<'a>(table: &'a Table, space: &str, params: &Params) -> Option<Vec<&'a Row>> {
    let ids = params.list("ids");
    let partial = params
        .get_ci("partialName")
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase);
    let name = params
        .get_ci("name")
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase);
    let projects = params.list("projects");
    let environments = params.list("environments");
    if ids.is_empty()
        && partial.is_none()
        && name.is_none()
        && projects.is_empty()
        && environments.is_empty()
    {
        return None;
    }
    let name_of = |r: &Row| r.attr("name").unwrap_or_default().to_lowercase();
    Some(
        table
            .served(space)
            .into_iter()
            .filter(|r| ids.is_empty() || ids.iter().any(|i| *i == *r.id))
            .filter(|r| partial.as_ref().is_none_or(|p| name_of(r).contains(p)))
            .filter(|r| name.as_ref().is_none_or(|n| name_of(r) == *n))
            .filter(|r| {
                projects.is_empty()
                    || r.attr("project")
                        .is_some_and(|p| projects.iter().any(|x| x == p))
            })
            .filter(|r| {
                environments.is_empty()
                    || r.attr("environment")
                        .is_some_and(|e| environments.iter().any(|x| x == e))
            })
            .collect(),
    )
}

fn collection(st: &AppState, target: &Target, q: Option<&str>) -> Response {
    let params = Params::parse(q);
    let (skip, take) = match (params.int("skip"), params.int("take")) {
        (Ok(s), Ok(t)) => (s.unwrap_or(0), t.unwrap_or(30)),
        _ => return bad("The skip and take parameters must be whole numbers."),
    };
    if skip < 0 || take < 0 {
        return bad("The skip and take parameters must not be negative.");
    }
    let (skip, take) = (skip as usize, take as usize);
    let store = st.dataset.read();
    let Some(table) = store.octopus.table(&target.plural) else {
        return reply::octopus_not_found();
    };
    let (item_type, template) = data::collection_meta(&target.plural);
    let group = if target.plural == "spaces" {
        ""
    } else {
        target.space.as_str()
    };
    let (page, total) = match filtered(table, group, &params) {
        None => (table.page(group, skip, take), table.group_len(group)),
        Some(rows) => {
            let end = skip.saturating_add(take).min(rows.len());
            (rows[skip.min(end)..end].to_vec(), rows.len())
        }
    };
    let extra = query::join(&params.without(&["skip", "take", "apikey"]));
    let items = bodies(&page);
    let items = slices(&items);
    let paging = OctopusPaging { total, skip, take };
    reply::list(render::octopus_collection(
        item_type,
        &target.path,
        template,
        &extra,
        paging,
        &items,
    ))
}

// --- Subscriptions -------------------------------------------------------------------------

fn strings(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().filter(|x| x.is_string()).cloned().collect()),
        _ => json!([]),
    }
}

/// Builds the stored SubscriptionResource from a request body.
fn subscription(id: &str, space: &str, v: &Value) -> Result<Value, Response> {
    let name = v["Name"].as_str().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(bad("Please provide a name for this subscription."));
    }
    if let Some(t) = v.get("Type").and_then(Value::as_str) {
        if t != "Event" {
            return Err(bad("The subscription type must be Event."));
        }
    }
    let ens = &v["EventNotificationSubscription"];
    let filter = &ens["Filter"];
    let mut f = serde_json::Map::new();
    for k in [
        "Users",
        "Projects",
        "ProjectGroups",
        "Environments",
        "EventGroups",
        "EventCategories",
        "EventAgents",
        "Tenants",
        "Tags",
        "DocumentTypes",
    ] {
        f.insert(k.to_owned(), strings(&filter[k]));
    }
    let text = |k: &str, default: &str| ens[k].as_str().map_or(json!(default), |s| json!(s));
    let nullable = |k: &str| ens[k].as_str().map_or(Value::Null, |s| json!(s));
    if let Some(uri) = ens["WebhookURI"].as_str().filter(|u| !u.is_empty()) {
        if reqwest::Url::parse(uri).is_err() {
            return Err(bad("The webhook URI must be an absolute URL."));
        }
    }
    Ok(json!({
        "Id": id,
        "Name": name,
        "Type": "Event",
        "IsDisabled": v["IsDisabled"].as_bool().unwrap_or(false),
        "EventNotificationSubscription": {
            "Filter": Value::Object(f),
            "EmailTeams": strings(&ens["EmailTeams"]),
            "EmailFrequencyPeriod": text("EmailFrequencyPeriod", "01:00:00"),
            "EmailPriority": text("EmailPriority", "Normal"),
            "EmailDigestLastProcessed": null,
            "EmailDigestLastProcessedEventAutoId": null,
            "EmailShowDatesInTimeZoneId": text("EmailShowDatesInTimeZoneId", "UTC"),
            "WebhookURI": nullable("WebhookURI"),
            "WebhookTeams": strings(&ens["WebhookTeams"]),
            "WebhookTimeout": text("WebhookTimeout", "00:00:10"),
            "WebhookHeaderKey": nullable("WebhookHeaderKey"),
            "WebhookHeaderValue": nullable("WebhookHeaderValue"),
            "WebhookLastProcessed": null,
            "WebhookLastProcessedEventAutoId": null,
        },
        "SpaceId": space,
        "Links": { "Self": format!("/api/{space}/subscriptions/{id}") },
    }))
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad("The request body must be a JSON object.")),
    }
}

fn create(st: &AppState, space: &str, body: &Bytes) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut store = st.dataset.write();
    let o = &mut store.octopus;
    if o.spaces.get(space).is_none() {
        return reply::octopus_not_found();
    }
    let name = v["Name"]
        .as_str()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if o.subscriptions
        .served(space)
        .iter()
        .any(|r| r.attr("name") == Some(&name))
    {
        return bad(&format!(
            "A subscription with the name '{name}' already exists in this space."
        ));
    }
    let id = format!("Subscriptions-{}", o.next.subscription + 1);
    let resource = match subscription(&id, space, &v) {
        Ok(r) => r,
        Err(r) => return r,
    };
    o.next.subscription += 1;
    let json: Bytes = serde_json::to_vec(&resource)
        .expect("values serialize")
        .into();
    o.subscriptions.push(
        space,
        Row::new(
            id.as_str(),
            json.clone(),
            vec![("name", name.as_str().into())],
        ),
    );
    reply::json(StatusCode::CREATED, json)
}

fn update(st: &AppState, space: &str, id: &str, body: &Bytes) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut store = st.dataset.write();
    let o = &mut store.octopus;
    if o.subscriptions.group_of(id) != Some(space) {
        return reply::octopus_not_found();
    }
    let resource = match subscription(id, space, &v) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let name = resource["Name"].as_str().unwrap_or_default().to_owned();
    let json: Bytes = serde_json::to_vec(&resource)
        .expect("values serialize")
        .into();
    o.subscriptions
        .replace(id, json.clone(), Some(vec![("name", name.as_str().into())]));
    reply::item(json)
}

fn delete(st: &AppState, space: &str, id: &str) -> Response {
    let mut store = st.dataset.write();
    let o = &mut store.octopus;
    if o.subscriptions.group_of(id) != Some(space) {
        return reply::octopus_not_found();
    }
    o.subscriptions.remove(id);
    reply::status(StatusCode::OK)
}

/// `POST /api/subscriptions` (default space).
async fn create_default(
    State(st): State<AppState>,
    Path(a): Path<String>,
    body: Bytes,
) -> Response {
    if a != "subscriptions" {
        return method_not_allowed();
    }
    create(&st, DEFAULT_SPACE, &body)
}

/// `POST /api/{space}/subscriptions`.
async fn create_in_space(
    State(st): State<AppState>,
    Path((a, b)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !is_space(&a) || b != "subscriptions" {
        return method_not_allowed();
    }
    create(&st, &a, &body)
}

async fn update_default(
    State(st): State<AppState>,
    Path((a, b)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if a != "subscriptions" {
        return method_not_allowed();
    }
    update(&st, DEFAULT_SPACE, &b, &body)
}

async fn update_in_space(
    State(st): State<AppState>,
    Path((a, b, c)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if !is_space(&a) || b != "subscriptions" {
        return method_not_allowed();
    }
    update(&st, &a, &c, &body)
}

async fn delete_default(
    State(st): State<AppState>,
    Path((a, b)): Path<(String, String)>,
) -> Response {
    if a != "subscriptions" {
        return method_not_allowed();
    }
    delete(&st, DEFAULT_SPACE, &b)
}

async fn delete_in_space(
    State(st): State<AppState>,
    Path((a, b, c)): Path<(String, String, String)>,
) -> Response {
    if !is_space(&a) || b != "subscriptions" {
        return method_not_allowed();
    }
    delete(&st, &a, &c)
}

fn method_not_allowed() -> Response {
    reply::octopus_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "The requested HTTP method is not supported for this resource.",
        &[],
    )
}
