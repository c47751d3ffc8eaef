//! Atlassian Teams (public Teams REST API) of the simulated organisation [`ORG_ID`]: teams
//! derived from the users (team `i` of `n` holds every user whose index is `i` modulo `n`).
//!
//! * `GET /gateway/api/public/teams/v1/org/{orgId}/teams?cursor=&size=` →
//!   `{"entities": [...], "cursor": "..."}` (no `cursor` on the last page);
//! * `POST /gateway/api/public/teams/v1/org/{orgId}/teams/{teamId}/members?first=&after=` →
//!   `{"results": [{"accountId"}], "pageInfo": {"endCursor", "hasNextPage"}}`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::reply;
use crate::query::Params;
use crate::state::AppState;

/// The organisation id whose teams the simulator serves.
pub const ORG_ID: &str = "sim-org-0001";

const BASE: &str = "/gateway/api/public/teams/v1/org/{org}/teams";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(teams))
        .route(&format!("{BASE}/{{team}}/members"), post(members))
}

/// Teams of `users` account ids: `(team JSON, member account ids)`, in served order.
pub(crate) fn derive(users: &[String]) -> Vec<(Value, Vec<String>)> {
    let n = (users.len() / 3).clamp(1, 200);
    (0..n)
        .map(|i| {
            let members: Vec<String> = users.iter().skip(i).step_by(n).cloned().collect();
            let team = json!({
                "teamId": format!("0f5e7c3a-0000-4000-9000-{i:012}"),
                "displayName": format!("Team {}", i + 1),
                "description": format!("Simulated team {}", i + 1),
                "organizationId": ORG_ID,
                "state": "ACTIVE",
                "teamType": "OPEN",
                "creatorId": users.first().cloned().unwrap_or_default(),
            });
            (team, members)
        })
        .collect()
}

fn account_ids(st: &AppState) -> Vec<String> {
    let store = st.dataset.read();
    store
        .jira
        .users
        .served("")
        .iter()
        .map(|r| r.id.to_string())
        .collect()
}

fn no_org(org: &str) -> Response {
    reply::json(
        StatusCode::NOT_FOUND,
        json!({ "code": 404, "message": format!("Organization {org} not found") })
            .to_string()
            .into(),
    )
}

fn offset(token: Option<&str>) -> usize {
    token.and_then(|t| t.parse().ok()).unwrap_or(0)
}

async fn teams(
    State(st): State<AppState>,
    Path(org): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if org != ORG_ID {
        return no_org(&org);
    }
    let params = Params::parse(q.as_deref());
    let size = params
        .get("size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 300);
    let start = offset(params.get("cursor"));
    let all = derive(&account_ids(&st));
    let end = start.saturating_add(size).min(all.len());
    let entities: Vec<&Value> = all[start.min(end)..end].iter().map(|(t, _)| t).collect();
    let mut body = json!({ "entities": entities });
    if end < all.len() {
        body["cursor"] = json!(end.to_string());
    }
    reply::list(body.to_string().into())
}

async fn members(
    State(st): State<AppState>,
    Path((org, team)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    if org != ORG_ID {
        return no_org(&org);
    }
    let all = derive(&account_ids(&st));
    let Some((_, members)) = all.iter().find(|(t, _)| t["teamId"] == team.as_str()) else {
        return reply::json(
            StatusCode::NOT_FOUND,
            json!({ "code": 404, "message": format!("Team {team} not found") })
                .to_string()
                .into(),
        );
    };
    let params = Params::parse(q.as_deref());
    let first = params
        .get("first")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 50);
    let start = offset(params.get("after"));
    let end = start.saturating_add(first).min(members.len());
    let results: Vec<Value> = members[start.min(end)..end]
        .iter()
        .map(|a| json!({ "accountId": a }))
        .collect();
    let body = json!({
        "results": results,
        "pageInfo": { "endCursor": end.to_string(), "hasNextPage": end < members.len() },
    });
    reply::item(body.to_string().into())
}
