//! `ocean serve --config ocean.toml`: the `[serve]` table and its `[[serve.tenants]]`.
//!
//! Secrets are given by environment variable name (`token_env`, `api_key_env`,
//! `webhook_secret_env`), as `${VAR}` inside a value (the convention of the other
//! commands' config), or, less safely, inline; errors name the tenant and the field,
//! never a value.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// The whole file: only `[serve]` is read here; other tables are left to other commands.
#[derive(Debug, Default, Deserialize)]
pub struct File {
    /// The service's table.
    #[serde(default)]
    pub serve: ServeConfig,
}

/// `[serve]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// The store spec.
    pub store: Option<String>,
    /// The webhook listener's address.
    pub bind: Option<String>,
    /// The URL providers post to.
    pub public_url: Option<String>,
    /// The admin listener's address.
    pub admin_bind: Option<String>,
    /// The environment variable holding the admin bearer token.
    pub admin_token_env: Option<String>,
    /// Default incremental interval, e.g. `15m`.
    pub interval: Option<String>,
    /// Default full interval, e.g. `24h`.
    pub full_interval: Option<String>,
    /// Between webhook self-repairs, e.g. `6h`.
    pub repair_interval: Option<String>,
    /// The scheduling lease's time to live, e.g. `30s`.
    pub lease_ttl: Option<String>,
    /// The bound on shutdown, e.g. `30s`.
    pub shutdown_timeout: Option<String>,
    /// Recorded, unapplied deliveries per tenant before `503`.
    pub queue_capacity: Option<usize>,
    /// The tenants.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
}

/// `[[serve.tenants]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Unique short name.
    pub name: String,
    /// `jira` or `octopus`.
    pub provider: String,
    /// Base URL.
    pub url: String,
    /// Jira: the account e-mail.
    pub email: Option<String>,
    /// Jira: the API token, inline.
    pub token: Option<String>,
    /// Jira: the variable holding the API token.
    pub token_env: Option<String>,
    /// Octopus: the API key, inline.
    pub api_key: Option<String>,
    /// Octopus: the variable holding the API key.
    pub api_key_env: Option<String>,
    /// The webhook secret, inline.
    pub webhook_secret: Option<String>,
    /// The variable holding the webhook secret.
    pub webhook_secret_env: Option<String>,
    /// Jira: the JQL of the synced issues.
    pub jql: Option<String>,
    /// The kinds synced (default all).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// This tenant's incremental interval.
    pub interval: Option<String>,
    /// This tenant's full interval.
    pub full_interval: Option<String>,
    /// Octopus: items per space of the capped kinds (0 = no cap; default 1000).
    pub max_items: Option<u64>,
    /// Requests in flight at once (default 10).
    pub max_concurrency: Option<usize>,
    /// Client-side requests per second.
    pub rate_limit: Option<f64>,
    /// Whether to register and repair the webhook (default true).
    pub repair_webhook: Option<bool>,
}

/// `raw` with every `${NAME}` replaced by the environment variable `NAME`.
pub fn expand(tenant: &str, field: &str, raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("tenant {tenant:?}: {field} has `${{` without `}}`"))?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| {
            format!("tenant {tenant:?}: {field} names ${{{name}}}, which is not set")
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads and parses `path`.
pub fn load(path: &Path) -> Result<ServeConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    let file: File =
        toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
    Ok(file.serve)
}

/// A secret given inline or by variable name; `None` when neither is given.
pub fn secret(
    tenant: &str,
    field: &str,
    inline: &Option<String>,
    env: &Option<String>,
) -> Result<Option<String>, String> {
    if let Some(v) = inline.as_ref().filter(|v| !v.is_empty()) {
        return expand(tenant, field, v).map(Some);
    }
    match env {
        Some(var) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            _ => Err(format!(
                "tenant {tenant:?}: {field}_env names {var}, which is not set"
            )),
        },
        None => Ok(None),
    }
}

/// Parses `500ms`, `30s`, `15m`, `24h`, `2d` (a bare number is seconds).
pub fn duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 15m, 24h)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        other => return Err(format!("`{s}`: unknown unit `{other}` (ms, s, m, h, d)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{s}` is not a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert!(duration("soon").is_err());
        assert!(duration("5y").is_err());
    }

    #[test]
    fn a_config_parses_and_unknown_fields_are_refused() {
        let file: File = toml::from_str(
            r#"
            [other]
            ignored = true
            [serve]
            store = "x.db"
            interval = "5m"
            [[serve.tenants]]
            name = "acme"
            provider = "jira"
            url = "https://acme.atlassian.net"
            email = "me@acme.com"
            token_env = "ACME_TOKEN"
            kinds = ["issue"]
            "#,
        )
        .unwrap();
        assert_eq!(file.serve.tenants[0].name, "acme");
        assert!(toml::from_str::<File>("[serve]\nbogus = 1").is_err());
    }

    #[test]
    fn values_expand_environment_variables() {
        // PATH is set wherever tests run.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand("t", "url", "a${PATH}b"), Ok(format!("a{path}b")));
        assert_eq!(expand("t", "url", "plain"), Ok("plain".into()));
        let e = expand("t", "token", "${OCEAN_TEST_SURELY_UNSET}").unwrap_err();
        assert!(
            e.contains("OCEAN_TEST_SURELY_UNSET") && e.contains("token"),
            "{e}"
        );
        assert!(expand("t", "url", "${OPEN").is_err());
    }

    #[test]
    fn missing_secret_variables_are_named_without_values() {
        let e = secret(
            "acme",
            "token",
            &None,
            &Some("OCEAN_TEST_SURELY_UNSET".into()),
        )
        .unwrap_err();
        assert!(
            e.contains("acme") && e.contains("OCEAN_TEST_SURELY_UNSET"),
            "{e}"
        );
    }
}
