//! Offset-paging arithmetic shared by the Jira routes.

use axum::http::StatusCode;
use axum::response::Response;

use super::reply;
use crate::query::{self, Params};

/// A validated `startAt`/`maxResults` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Offset {
    pub(crate) start: usize,
    pub(crate) max: usize,
}

impl Offset {
    /// Reads `startAt` and `maxResults`; a missing or negative `maxResults` means `default`,
    /// and larger values are clamped to `cap` (Jira clamps rather than rejects).
    pub(crate) fn parse(params: &Params, default: usize, cap: usize) -> Result<Offset, Response> {
        let bad = |name: String| {
            reply::jira_error(
                StatusCode::BAD_REQUEST,
                &format!("The '{name}' parameter must be a number."),
            )
        };
        let start = params.int("startAt").map_err(bad)?.unwrap_or(0).max(0) as usize;
        let max = match params.int("maxResults").map_err(bad)? {
            Some(m) if m >= 0 => (m as usize).min(cap),
            _ => default,
        };
        Ok(Offset { start, max })
    }

    /// The slice of `total` items this page covers.
    pub(crate) fn range(&self, total: usize) -> std::ops::Range<usize> {
        let start = self.start.min(total);
        start..self.start.saturating_add(self.max).min(total)
    }

    /// Whether a page that returned `len` items is the last of `total`.
    pub(crate) fn is_last(&self, len: usize, total: usize) -> bool {
        self.start.saturating_add(len) >= total
    }
}

/// `base + path + ?query` with `startAt`/`maxResults` set and the other parameters kept.
pub(crate) fn page_url(
    base: &str,
    path: &str,
    params: &Params,
    start: usize,
    max: usize,
) -> String {
    let mut pairs = params.without(&["startAt", "maxResults"]);
    pairs.insert(0, ("maxResults".to_owned(), max.to_string()));
    pairs.insert(0, ("startAt".to_owned(), start.to_string()));
    format!("{base}{path}?{}", query::join(&pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_ranges() {
        let p = Params::parse(Some("startAt=-3&maxResults=5000"));
        let o = Offset::parse(&p, 50, 100).unwrap();
        assert_eq!(o, Offset { start: 0, max: 100 });
        assert_eq!(o.range(30), 0..30);
        assert!(o.is_last(30, 30));
        let o = Offset { start: 40, max: 10 };
        assert_eq!(o.range(30), 30..30);
        assert!(Offset::parse(&Params::parse(Some("startAt=x")), 50, 100).is_err());
        assert_eq!(
            page_url(
                "http://b",
                "/p",
                &Params::parse(Some("expand=insight&startAt=0")),
                2,
                2
            ),
            "http://b/p?startAt=2&maxResults=2&expand=insight"
        );
    }
}
