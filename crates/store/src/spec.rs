//! Store specs: which backend a `--store` argument names, and how to print it safely.

use std::path::PathBuf;

use crate::{Error, Result};

/// A parsed store spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spec {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`url`, as given) and its printable form.
    Postgres {
        /// The URL, password included: only ever handed to the driver.
        url: String,
        /// The URL with its password replaced by `***`.
        display: String,
    },
}

impl Spec {
    /// Parses `spec`: `postgres://…`/`postgresql://…`, `sqlite:PATH` (also `sqlite://PATH`),
    /// or a plain file path.
    pub(crate) fn parse(spec: &str) -> Result<Spec> {
        let invalid = |reason: &str| Error::InvalidSpec {
            spec: redact(spec),
            reason: reason.to_string(),
        };
        let trimmed = spec.trim();
        if trimmed.is_empty() {
            return Err(invalid(
                "empty: give a file path, sqlite:PATH or postgres://…",
            ));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            return Ok(Spec::Postgres {
                url: trimmed.to_string(),
                display: redact(trimmed),
            });
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(invalid("sqlite: needs a file path after it"));
            }
            return Ok(Spec::Sqlite(PathBuf::from(path)));
        }
        let scheme = trimmed.split_once("://").map(|(s, _)| s).unwrap_or("");
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        {
            return Err(invalid(&format!(
                "unsupported scheme {scheme:?}: use a file path, sqlite:PATH or postgres://…"
            )));
        }
        Ok(Spec::Sqlite(PathBuf::from(trimmed)))
    }
}

/// `spec` with any password replaced by `***`: the user-info password of a URL and a
/// `password=` query parameter. Text that is not a URL is returned as is.
///
/// ```
/// assert_eq!(
///     ocean_store::redact("postgres://user:secret@host/db"),
///     "postgres://user:***@host/db"
/// );
/// ```
pub fn redact(spec: &str) -> String {
    let Ok(mut url) = url::Url::parse(spec) else {
        return redact_unparsed(spec);
    };
    if url.cannot_be_a_base() {
        return redact_unparsed(spec);
    }
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return "<unprintable store URL>".to_string();
    }
    if url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// [`redact`] for text that does not parse as a URL: everything between the first `:`
/// after `scheme://` and the last `@` goes, as does every `password=` value. May hide
/// more than the password, never less.
fn redact_unparsed(spec: &str) -> String {
    let mut out = match spec.split_once("://") {
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) if rest[..at].contains(':') => {
                let user = rest[..at].split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***{}", &rest[at..])
            }
            _ => spec.to_string(),
        },
        None => spec.to_string(),
    };
    let mut from = 0;
    while let Some(pos) = out[from..].to_ascii_lowercase().find("password=") {
        let start = from + pos + "password=".len();
        let end = out[start..]
            .find(['&', ' ', '#'])
            .map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
        from = start + 3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(Spec::parse("a.db").unwrap(), Spec::Sqlite("a.db".into()));
        assert_eq!(
            Spec::parse("sqlite:/x/a.db").unwrap(),
            Spec::Sqlite("/x/a.db".into())
        );
        assert_eq!(
            Spec::parse("sqlite:///x/a.db").unwrap(),
            Spec::Sqlite("/x/a.db".into())
        );
        assert!(matches!(
            Spec::parse("postgresql://u@h/db").unwrap(),
            Spec::Postgres { .. }
        ));
        assert!(matches!(Spec::parse(""), Err(Error::InvalidSpec { .. })));
        assert!(matches!(
            Spec::parse("sqlite:"),
            Err(Error::InvalidSpec { .. })
        ));
        assert!(matches!(
            Spec::parse("mysql://u:pw@h/db"),
            Err(Error::InvalidSpec { .. })
        ));
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://user:secret@host:5432/db"),
            "postgres://user:***@host:5432/db"
        );
        assert_eq!(redact("postgres://user@host/db"), "postgres://user@host/db");
        let r = redact("postgresql://u@h/db?password=secret&sslmode=disable");
        assert!(!r.contains("secret"), "{r}");
        assert!(r.contains("sslmode=disable"), "{r}");
        let e = Spec::parse("mysql://u:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        // Not parseable as URLs: still no password.
        for bad in [
            "postgres://user:hunter2@host:notaport/db",
            "postgres://user:hun/ter2@host/db",
            "postgres://user:hunter2@[::1/db",
            "postgresql://h:x/db?PASSWORD=hunter2&x=1",
        ] {
            let r = redact(bad);
            assert!(
                !r.contains("hunter2") && !r.contains("ter2"),
                "{bad} -> {r}"
            );
        }
        assert_eq!(
            redact("postgres://user:pw@host:x/db"),
            "postgres://user:***@host:x/db"
        );
    }
}
