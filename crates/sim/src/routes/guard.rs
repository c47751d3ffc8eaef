//! The request pipeline in front of every Jira and Octopus route: count, wait (latency),
//! rate-limit (429), fail (503), authenticate (401), run the route, add rate-limit headers and
//! break list pages when the malformed fault is on.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;

use super::reply::{self, ListPage};
use crate::faults::Admission;
use crate::oauth::AccessCheck;
use crate::query::Params;
use crate::render;
use crate::state::AppState;
use crate::stats::Counters;
use crate::time;
use crate::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY};

/// How a Jira caller authenticated; Bearer callers count as OAuth apps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JiraAuth {
    Basic,
    Bearer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Provider {
    Jira,
    Octopus,
}

pub(crate) async fn jira(State(st): State<AppState>, req: Request, next: Next) -> Response {
    guard(st, Provider::Jira, req, next).await
}

pub(crate) async fn octopus(State(st): State<AppState>, req: Request, next: Next) -> Response {
    guard(st, Provider::Octopus, req, next).await
}

fn jira_auth(st: &AppState, headers: &HeaderMap) -> Option<JiraAuth> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .ok()?;
        let expected = format!("{JIRA_EMAIL}:{JIRA_TOKEN}");
        (decoded == expected.as_bytes()).then_some(JiraAuth::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let token = credentials.trim();
        (token == JIRA_TOKEN || st.oauth.check(token) == AccessCheck::Valid)
            .then_some(JiraAuth::Bearer)
    } else {
        None
    }
}

fn octopus_authed(req: &Request) -> bool {
    if let Some(key) = req.headers().get("x-octopus-apikey") {
        return key.as_bytes() == OCTOPUS_API_KEY.as_bytes();
    }
    Params::parse(req.uri().query()).get_ci("apikey") == Some(OCTOPUS_API_KEY)
}

/// A low-cardinality label for a path: segments holding ids (any segment with a digit, except
/// API versions) become `{id}`, e.g. `/octopus/api/{id}/deployments`.
fn route_label(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let versioned = matches!(seg, "1.0" | "2" | "3");
            if !versioned && seg.bytes().any(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn set(resp: &mut Response, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

async fn guard(st: AppState, provider: Provider, mut req: Request, next: Next) -> Response {
    let counters = &st.counters;
    Counters::bump(&counters.requests);
    // Nested routers see the path without their prefix.
    let prefix = if provider == Provider::Jira {
        "/jira"
    } else {
        "/octopus"
    };
    counters.route(
        req.method().as_str(),
        &format!("{prefix}{}", route_label(req.uri().path())),
    );

    let latency = st.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let admission = st.faults.admit();
    if let Admission::Limited {
        rate,
        burst,
        retry_after,
    } = admission
    {
        Counters::bump(&counters.rate_limited);
        return too_many(&st, provider, rate, burst, retry_after);
    }

    if st.faults.should_fail() {
        Counters::bump(&counters.unavailable);
        let mut resp = match provider {
            Provider::Jira => reply::jira_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable. Please try again later.",
            ),
            Provider::Octopus => reply::octopus_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable. Please try again later.",
                &[],
            ),
        };
        advisory_headers(&mut resp, provider, admission);
        return resp;
    }

    let authed = match provider {
        Provider::Jira => match jira_auth(&st, req.headers()) {
            Some(mode) => {
                req.extensions_mut().insert(mode);
                true
            }
            None => false,
        },
        Provider::Octopus => octopus_authed(&req),
    };
    if !authed {
        Counters::bump(&counters.unauthorized);
        let mut resp = match provider {
            Provider::Jira => {
                let mut r = reply::jira_error(
                    StatusCode::UNAUTHORIZED,
                    "You are not authenticated. Authentication required to perform this operation.",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"ocean-sim\""),
                );
                r
            }
            Provider::Octopus => reply::octopus_error(
                StatusCode::UNAUTHORIZED,
                "Either your API key is invalid, or your account has been disabled. Please contact your Octopus administrator.",
                &[],
            ),
        };
        advisory_headers(&mut resp, provider, admission);
        return resp;
    }

    let mut resp = next.run(req).await;
    advisory_headers(&mut resp, provider, admission);
    if st.faults.malformed()
        && resp.status() == StatusCode::OK
        && resp.extensions().get::<ListPage>().is_some()
    {
        Counters::bump(&counters.malformed);
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        resp = Response::from_parts(parts, render::truncate(&bytes).into());
        resp.headers_mut().remove(header::CONTENT_LENGTH);
    }
    resp
}

/// Rate-limit headers on admitted requests.
fn advisory_headers(resp: &mut Response, provider: Provider, admission: Admission) {
    let Admission::Allowed {
        rate,
        burst,
        remaining,
    } = admission
    else {
        return;
    };
    match provider {
        Provider::Jira => {
            set(resp, "x-ratelimit-limit", format!("{}", rate.ceil() as u64));
            set(
                resp,
                "x-ratelimit-remaining",
                format!("{}", remaining as u64),
            );
            if remaining < 0.2 * burst {
                set(resp, "x-ratelimit-nearlimit", "true".to_owned());
            }
        }
        Provider::Octopus => {
            set(resp, "octopus-ratelimit-policy", policy(rate, burst));
            let refill = ((burst - remaining) / rate).ceil() as u64;
            set(
                resp,
                "octopus-ratelimit",
                format!("r={};t={refill}", remaining as u64),
            );
        }
    }
}

fn policy(rate: f64, burst: f64) -> String {
    format!(
        "l={};rpm={}",
        burst.ceil() as u64,
        (rate * 60.0).round() as u64
    )
}

fn too_many(
    st: &AppState,
    provider: Provider,
    rate: f64,
    burst: f64,
    retry_after: f64,
) -> Response {
    let retry = st.faults.retry_after_value(retry_after);
    let mut resp = match provider {
        Provider::Jira => reply::jira_error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded."),
        Provider::Octopus => reply::octopus_error(
            StatusCode::TOO_MANY_REQUESTS,
            "You have exceeded the rate limit. Please wait before retrying.",
            &[],
        ),
    };
    set(&mut resp, "retry-after", retry);
    match provider {
        Provider::Jira => {
            let reset_ms = time::now_ms() + (retry_after.ceil().max(1.0) as i64) * 1000;
            set(
                &mut resp,
                "x-ratelimit-limit",
                format!("{}", rate.ceil() as u64),
            );
            set(&mut resp, "x-ratelimit-remaining", "0".to_owned());
            set(&mut resp, "x-ratelimit-reset", time::reset(reset_ms));
            set(&mut resp, "ratelimit-reason", "jira-burst-based".to_owned());
        }
        Provider::Octopus => {
            set(&mut resp, "octopus-ratelimit-policy", policy(rate, burst));
            set(
                &mut resp,
                "octopus-ratelimit",
                format!("r=0;t={}", (burst / rate).ceil() as u64),
            );
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_hide_ids() {
        assert_eq!(
            route_label("/jira/rest/api/3/issue/PROJ1-2/worklog"),
            "/jira/rest/api/3/issue/{id}/worklog"
        );
        assert_eq!(
            route_label("/octopus/api/Spaces-1/projects"),
            "/octopus/api/{id}/projects"
        );
        assert_eq!(
            route_label("/jira/rest/agile/1.0/board/12"),
            "/jira/rest/agile/1.0/board/{id}"
        );
    }
}
