//! Building request paths from values that come from users or from the API.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters (`A–Z a–z 0–9 - . _ ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` as one path segment: every byte but the unreserved ones percent-encoded, so an
/// id holding `/`, `?` or `..` can never reach another resource.
///
/// ```
/// assert_eq!(ocean_core::path_segment("ED-1"), "ED-1");
/// assert_eq!(ocean_core::path_segment("a/b c"), "a%2Fb%20c");
/// assert_eq!(ocean_core::path_segment(".."), "..");
/// ```
pub fn path_segment(value: &str) -> String {
    utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::path_segment;

    #[test]
    fn only_unreserved_characters_stay() {
        assert_eq!(path_segment("ED-1_a.b~c"), "ED-1_a.b~c");
        assert_eq!(path_segment("a/b c?#%"), "a%2Fb%20c%3F%23%25");
        assert_eq!(path_segment("é"), "%C3%A9");
        assert_eq!(path_segment("team:1"), "team%3A1");
    }
}
