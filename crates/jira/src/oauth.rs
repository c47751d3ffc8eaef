//! Atlassian's side of OAuth 2.0 (3LO): the token endpoint, the gateway's expiry statuses and
//! finding a site's cloud id. The refresh itself is ocean-core's [`RefreshingToken`].

use std::sync::Arc;

use ocean_core::{
    Auth, Client, OAuthClient, OAuthError, RefreshTokenStore, RefreshingToken, Secret,
};
use serde::Deserialize;

use crate::ATLASSIAN_API_GATEWAY;

/// Atlassian's token endpoint (`auth.atlassian.com`).
pub const ATLASSIAN_TOKEN_URL: &str = "https://auth.atlassian.com/oauth/token";

/// Where the gateway lists the sites an access token reaches, under the API gateway.
pub const ACCESSIBLE_RESOURCES_PATH: &str = "/oauth/token/accessible-resources";

/// Besides `401`, what Atlassian's gateway may answer an expired token with.
const GATEWAY_EXPIRY_STATUSES: &[u16] = &[401, 403, 404];

/// Refreshing tokens for an Atlassian OAuth 2.0 (3LO) app: the refresh-token grant at
/// `token_url` (default [`ATLASSIAN_TOKEN_URL`]), refresh tokens kept in `store`, and the
/// gateway's `403`/`404` for an expired token treated as such.
///
/// # Errors
///
/// `token_url` is not a URL, or the HTTP client could not be built.
pub fn atlassian_tokens(
    client_id: &str,
    client_secret: impl Into<Secret>,
    token_url: Option<&str>,
    store: Arc<dyn RefreshTokenStore>,
) -> Result<Arc<RefreshingToken>, OAuthError> {
    let url = token_url.unwrap_or(ATLASSIAN_TOKEN_URL);
    let token_url = url.parse().map_err(|e| OAuthError::Malformed {
        url: url.to_owned(),
        reason: format!("not a token endpoint URL: {e}"),
    })?;
    let tokens = RefreshingToken::new(
        OAuthClient {
            token_url,
            client_id: client_id.to_owned(),
            client_secret: client_secret.into(),
        },
        store,
    )?
    .expired_statuses(GATEWAY_EXPIRY_STATUSES);
    Ok(Arc::new(tokens))
}

/// One site an access token reaches.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessibleResource {
    /// The cloud id: the `{cloudId}` of `api.atlassian.com/ex/jira/{cloudId}`.
    pub id: String,
    /// The site URL, e.g. `https://example.atlassian.net`.
    pub url: String,
    /// The site name.
    #[serde(default)]
    pub name: String,
}

/// The cloud id of the site at `site` (or of the only site, when `site` is `None`), from the
/// gateway's `accessible-resources` list.
///
/// # Errors
///
/// The list could not be fetched, no site matches, or several do and `site` is `None`; the
/// message lists the sites the token reaches.
pub async fn find_cloud_id(
    tokens: Arc<RefreshingToken>,
    gateway: Option<&str>,
    site: Option<&str>,
) -> ocean_core::Result<String> {
    let gateway = gateway.unwrap_or(ATLASSIAN_API_GATEWAY);
    let client = Client::builder(gateway)
        .auth(Auth::Provider(tokens))
        .build()?;
    let sites: Vec<AccessibleResource> =
        client.get(ACCESSIBLE_RESOURCES_PATH).send().await?.json()?;
    choose(&sites, site).map_err(|reason| {
        ocean_core::Error::Config(format!(
            "{reason} (sites listed at {gateway}{ACCESSIBLE_RESOURCES_PATH}: {})",
            listing(&sites)
        ))
    })
}

fn normalise(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn choose(sites: &[AccessibleResource], site: Option<&str>) -> Result<String, String> {
    match site {
        Some(wanted) => sites
            .iter()
            .find(|s| normalise(&s.url) == normalise(wanted))
            .map(|s| s.id.clone())
            .ok_or_else(|| format!("the OAuth token does not reach the site {wanted}")),
        None => match sites {
            [only] => Ok(only.id.clone()),
            [] => Err("the OAuth token reaches no Jira site".into()),
            _ => Err(
                "the OAuth token reaches several sites: name one with the site URL or the cloud id"
                    .into(),
            ),
        },
    }
}

fn listing(sites: &[AccessibleResource]) -> String {
    if sites.is_empty() {
        return "none".into();
    }
    sites
        .iter()
        .map(|s| format!("{} {} ({})", s.id, s.url, s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(id: &str, url: &str) -> AccessibleResource {
        AccessibleResource {
            id: id.into(),
            url: url.into(),
            name: "n".into(),
        }
    }

    #[test]
    fn the_site_url_picks_among_several_and_one_site_needs_none() {
        let sites = [
            site("a", "https://a.atlassian.net"),
            site("b", "https://b.atlassian.net"),
        ];
        assert_eq!(
            choose(&sites, Some("https://B.atlassian.net/")).unwrap(),
            "b"
        );
        assert!(choose(&sites, None).unwrap_err().contains("several"));
        assert!(
            choose(&sites, Some("https://c.atlassian.net"))
                .unwrap_err()
                .contains("c.atlassian.net")
        );
        assert_eq!(choose(&sites[..1], None).unwrap(), "a");
        assert!(choose(&[], None).is_err());
    }
}
