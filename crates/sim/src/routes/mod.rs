//! The HTTP surface: `/jira/...` (also under `/ex/jira/{cloudId}`), Data Center's
//! `/jira-dc/...`, `/octopus/...`,
//! `/oauth/token...` and `/_sim/...`.

// Handlers return early with a ready `Response` as the error; it is a cold path and boxing it
// would only add noise.
#![allow(clippy::result_large_err)]

mod backlog;
mod bulkfetch;
mod guard;
mod jira;
mod jira_dc;
mod jira_webhooks;
mod oauth;
mod octopus;
mod paging;
mod reply;
mod search;
mod select;
mod sim;
mod worklog_feed;

pub(crate) use select::SelectionCache;
pub(crate) mod teams;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;

use crate::state::AppState;

async fn jira_fallback() -> Response {
    reply::jira_error(
        StatusCode::NOT_FOUND,
        "null for uri: the requested resource does not exist.",
    )
}

async fn octopus_fallback() -> Response {
    reply::octopus_not_found()
}

/// The whole application.
pub(crate) fn router(state: AppState) -> Router {
    let jira = jira::routes()
        .merge(jira_webhooks::routes())
        .merge(backlog::cloud_routes())
        .merge(teams::routes())
        .fallback(jira_fallback)
        .layer(middleware::from_fn_with_state(state.clone(), guard::jira));
    let jira_dc = jira_dc::routes()
        .merge(jira_webhooks::routes())
        .merge(backlog::dc_routes())
        .fallback(jira_fallback)
        .layer(middleware::from_fn_with_state(state.clone(), guard::jira));
    let octopus =
        octopus::routes()
            .fallback(octopus_fallback)
            .layer(middleware::from_fn_with_state(
                state.clone(),
                guard::octopus,
            ));
    Router::new()
        // The OAuth gateway's route to the same site (`api.atlassian.com/ex/jira/{cloudId}`).
        .nest(
            &format!("/ex/jira/{}", crate::oauth::CLOUD_ID),
            jira.clone(),
        )
        .nest("/jira", jira)
        .nest(jira_dc::PREFIX, jira_dc)
        .merge(oauth::routes())
        .nest("/octopus", octopus)
        .merge(sim::routes())
        .with_state(state)
}
