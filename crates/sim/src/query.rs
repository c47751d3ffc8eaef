//! Query-string parsing that keeps repeated parameters (`fields=a&fields=b`, `id=1&id=2`).

/// Decoded query parameters, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Params::default();
        };
        Params(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
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

/// Percent-decodes a query component (`+` is a space).
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes a query component.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
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
        assert_eq!(decode("%"), "%");
        assert_eq!(encode("a b=c"), "a%20b%3Dc");
    }
}
