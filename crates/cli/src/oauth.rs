//! A Jira client builder for OAuth 2.0 (3LO) from the command line: where the refresh token
//! lives, the refreshing token source, the cloud id.

use std::sync::Arc;

use ocean_core::{MemoryTokenStore, RefreshTokenStore, Secret, TokenFile};
use ocean_jira::{ATLASSIAN_API_GATEWAY, JiraClient, JiraClientBuilder};

use crate::args::OAuthArgs;
use crate::commands::Failure;

/// The refresh token's home: the token file (seeded from --oauth-refresh-token only while it
/// holds no token, since a file that does may hold a newer, rotated one), else memory.
fn store(args: &OAuthArgs) -> Result<Arc<dyn RefreshTokenStore>, Failure> {
    let seed = args
        .oauth_refresh_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match (&args.oauth_token_file, seed) {
        (Some(path), seed) => {
            let file = TokenFile::new(path);
            if !file.holds_token() {
                let Some(seed) = seed else {
                    return Err(format!(
                        "{} holds no refresh token: pass --oauth-refresh-token once to seed it",
                        path.display()
                    )
                    .into());
                };
                file.save(&Secret::new(seed))?;
            } else if seed.is_some() {
                tracing::info!(file = %path.display(), "using the refresh token in the token file; --oauth-refresh-token only seeds an empty one");
            }
            Ok(Arc::new(file))
        }
        (None, Some(seed)) => Ok(Arc::new(MemoryTokenStore::new(seed))),
        (None, None) => Err("OAuth needs --oauth-token-file or --oauth-refresh-token".into()),
    }
}

/// A builder for the site reached through the gateway, the cloud id looked up when not given.
pub async fn builder(args: OAuthArgs, site: Option<&str>) -> Result<JiraClientBuilder, Failure> {
    let store = store(&args)?;
    let tokens = ocean_jira::atlassian_tokens(
        args.oauth_client_id.as_deref().unwrap_or_default(),
        args.oauth_client_secret.unwrap_or_default(),
        args.oauth_token_url.as_deref(),
        store,
    )?;
    let gateway = args
        .oauth_api_url
        .as_deref()
        .unwrap_or(ATLASSIAN_API_GATEWAY)
        .to_owned();
    let cloud_id = match args.cloud_id.filter(|c| !c.trim().is_empty()) {
        Some(id) => id,
        None => ocean_jira::find_cloud_id(tokens.clone(), Some(&gateway), site).await?,
    };
    Ok(JiraClient::builder(site.unwrap_or(&gateway))
        .api_gateway(&gateway)
        .oauth(&cloud_id, tokens))
}
