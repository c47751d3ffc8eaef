//! Query-string parsing that keeps repeated parameters (`fields=a&fields=b`, `id=1&id=2`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What [`encode`] escapes: all but unreserved characters and `,` (kept readable in lists).
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b',');

/// Decoded query parameters, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Params::default();
        };
        Params(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, matched case-insensitively (Octopus ignores case).
    pub(crate) fn get_ci(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, with comma-separated values split.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// An integer parameter: `Ok(None)` when absent, `Err(name)` when not a number.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.get_ci(name) {
            None => Ok(None),
            Some("") => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| name.to_owned()),
        }
    }

    /// The parameters except `names`, for building page links.
    pub(crate) fn without(&self, names: &[&str]) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| !names.iter().any(|n| n.eq_ignore_ascii_case(k)))
            .cloned()
            .collect()
    }
}

/// Percent-encodes a query component.
pub(crate) fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_COMPONENT).to_string()
}

/// Builds `key=value&...` from pairs.
pub(crate) fn join(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeated_and_encoded() {
        let p = Params::parse(Some(
            "fields=a&fields=b,c&jql=project%20%3D%20X+order&empty&x=%zz",
        ));
        assert_eq!(p.list("fields"), ["a", "b", "c"]);
        assert_eq!(p.get("jql"), Some("project = X order"));
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.get("x"), Some("%zz"));
        assert_eq!(p.int("jql"), Err("jql".to_owned()));
        assert_eq!(encode("a b=c"), "a%20b%3Dc");
    }
}
