//! RFC 8288 `Link` headers: the `rel="next"` target, if any.

use reqwest::header::{HeaderMap, LINK};

/// The target of the first link with relation `next`, across every `Link` header.
///
/// A header holds comma-separated `<target>; param=value` entries; `rel` may list several
/// space-separated relations (`rel="next last"`) and compares case-insensitively.
pub(crate) fn next(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_in)
}

fn next_in(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params = &after[close + 1..];
        let end = params.find('<').unwrap_or(params.len());
        if params[..end].split([';', ',']).any(is_rel_next) {
            return Some(target.trim().to_owned());
        }
        rest = &params[end..];
    }
    None
}

fn is_rel_next(param: &str) -> bool {
    param.split_once('=').is_some_and(|(name, value)| {
        name.trim().eq_ignore_ascii_case("rel")
            && value
                .trim()
                .trim_matches('"')
                .split_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case("next"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_other_relations() {
        let github = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(
            next_in(github).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        let first_last = r#"<https://x/a?page=1>; rel="first", <https://x/a?page=9>; rel="prev""#;
        assert_eq!(next_in(first_last), None);
        assert_eq!(
            next_in("</a?b=1,2>; REL=\"last NEXT\"").as_deref(),
            Some("/a?b=1,2")
        );
        assert_eq!(
            next_in("<https://x/a>; rel=next").as_deref(),
            Some("https://x/a")
        );
        for broken in ["", "<", "<a", "garbage; rel=next", "<a>; rel"] {
            assert_eq!(next_in(broken), None, "{broken}");
        }
    }
}
