//! Response builders shared by the routes.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::render;

/// Marks a response as a list page, so the malformed-page fault can find it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListPage;

const JSON: &str = "application/json;charset=UTF-8";

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

/// A 200 list page.
pub(crate) fn list(body: Bytes) -> Response {
    let mut resp = json(StatusCode::OK, body);
    resp.extensions_mut().insert(ListPage);
    resp
}

/// A 200 single item.
pub(crate) fn item(body: Bytes) -> Response {
    json(StatusCode::OK, body)
}

/// A Jira ErrorCollection.
pub(crate) fn jira_error(status: StatusCode, message: &str) -> Response {
    json(status, render::jira_error(&[message], &[]))
}

/// A Jira ErrorCollection with a field error.
pub(crate) fn jira_field_error(status: StatusCode, field: &str, message: &str) -> Response {
    json(status, render::jira_error(&[], &[(field, message)]))
}

/// An Octopus error body.
pub(crate) fn octopus_error(status: StatusCode, message: &str, errors: &[&str]) -> Response {
    json(status, render::octopus_error(message, errors))
}

/// The Octopus 404.
pub(crate) fn octopus_not_found() -> Response {
    octopus_error(StatusCode::NOT_FOUND, "The resource was not found..", &[])
}

/// An empty response with a status.
pub(crate) fn status(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}
