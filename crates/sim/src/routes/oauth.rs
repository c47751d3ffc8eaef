//! Atlassian's OAuth 2.0 (3LO) endpoints: `POST /oauth/token` (refresh-token grant, form or
//! JSON body, as auth.atlassian.com accepts both) and `GET /oauth/token/accessible-resources`
//! (the sites an access token reaches, as api.atlassian.com lists them).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use super::reply;
use crate::oauth::{AccessCheck, CLOUD_ID, GrantError};
use crate::query::Params;
use crate::state::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token)).route(
        "/oauth/token/accessible-resources",
        get(accessible_resources),
    )
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({ "error": code, "error_description": description });
    reply::json(status, body.to_string().into())
}

/// The grant's fields, from a JSON object or a form body.
fn fields(headers: &HeaderMap, body: &[u8]) -> Option<[String; 4]> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let names = ["grant_type", "client_id", "client_secret", "refresh_token"];
    if json {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        Some(names.map(|n| value[n].as_str().unwrap_or_default().to_owned()))
    } else {
        let params = Params::parse(std::str::from_utf8(body).ok());
        Some(names.map(|n| params.get(n).unwrap_or_default().to_owned()))
    }
}

async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some([grant_type, client_id, client_secret, refresh_token]) = fields(&headers, &body)
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Unreadable body.",
        );
    };
    if grant_type != "refresh_token" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only the refresh_token grant is simulated.",
        );
    }
    match st.oauth.grant(&client_id, &client_secret, &refresh_token) {
        Ok(grant) => {
            let body = json!({
                "access_token": grant.access_token,
                "expires_in": grant.expires_in,
                "token_type": "Bearer",
                "refresh_token": grant.refresh_token,
                "scope": "read:jira-work read:jira-user manage:jira-webhook offline_access",
            });
            reply::item(body.to_string().into())
        }
        Err(GrantError::InvalidClient) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client id or wrong client secret.",
        ),
        Err(GrantError::InvalidGrant) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Unknown or invalid refresh token.",
        ),
    }
}

async fn accessible_resources(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if st.oauth.check(token.trim()) != AccessCheck::Valid {
        return reply::json(
            StatusCode::UNAUTHORIZED,
            json!({ "code": 401, "message": "Unauthorized" })
                .to_string()
                .into(),
        );
    }
    let body = json!([{
        "id": CLOUD_ID,
        "url": st.jira_base,
        "name": "ocean-sim",
        "scopes": ["read:jira-work", "read:jira-user", "manage:jira-webhook"],
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
    }]);
    reply::item(body.to_string().into())
}
