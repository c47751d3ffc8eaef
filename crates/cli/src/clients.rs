//! Provider clients from command-line credentials and tuning flags.

use std::time::Duration;

use clap::CommandFactory;
use clap::error::ErrorKind;
use ocean_core::RetryPolicy;
use ocean_jira::{Deployment, JiraClient};
use ocean_octopus::OctopusClient;

use crate::args::{Cli, DeploymentArg, JiraCredentials, OAuthArgs, OctopusCredentials, Tuning};
use crate::commands::Failure;
use crate::oauth;

/// Requests in flight at once unless told otherwise (Ocean's).
const DEFAULT_CONCURRENCY: usize = 10;

/// A credential the user did not give: its flag and environment variable.
struct Missing {
    flag: &'static str,
    env: &'static str,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (or {})", self.flag, self.env)
    }
}

/// The value when given and not blank; otherwise records it as missing.
fn take(
    value: Option<String>,
    flag: &'static str,
    env: &'static str,
    missing: &mut Vec<Missing>,
) -> String {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => v,
        None => {
            missing.push(Missing { flag, env });
            String::new()
        }
    }
}

/// Exits with one usage error (status 2) naming every missing credential, so a new user
/// fixes them all in one go instead of one per run.
fn exit_if_missing(missing: &[Missing], alternatives: &str) {
    if missing.is_empty() {
        return;
    }
    let list = missing
        .iter()
        .map(Missing::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Cli::command()
        .error(
            ErrorKind::MissingRequiredArgument,
            format!("missing credentials: {list}{alternatives}"),
        )
        .exit()
}

/// Said when the Jira user gave neither Basic credentials nor an alternative.
const JIRA_ALTERNATIVES: &str = "\n  instead of --email and --token: --pat (or JIRA_PAT) for a Data Center \
     personal access token, or OAuth 2.0 with --oauth-client-id (or JIRA_OAUTH_CLIENT_ID), \
     --oauth-client-secret (or JIRA_OAUTH_CLIENT_SECRET) and --oauth-token-file (or \
     JIRA_OAUTH_TOKEN_FILE) or --oauth-refresh-token (or JIRA_OAUTH_REFRESH_TOKEN)";

fn timeout(tuning: &Tuning, default: Duration) -> Option<Duration> {
    Some(
        tuning
            .timeout
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(default),
    )
}

/// How a Jira client authenticates, from the credentials given.
enum JiraAuth {
    Basic { email: String, token: String },
    Pat(String),
    OAuth(OAuthArgs),
}

/// A Jira client: Basic auth (e-mail and API token, or user name and password), a Data
/// Center personal access token, or OAuth 2.0 with rotating refresh tokens. Exits with a
/// usage error naming every missing credential.
pub async fn jira(credentials: JiraCredentials, tuning: &Tuning) -> Result<JiraClient, Failure> {
    let mut missing = Vec::new();
    let oauth = credentials.oauth.any_credential();
    let (url, auth) = if oauth {
        // The site URL is optional: it only picks among the sites the token reaches.
        let mut args = credentials.oauth;
        args.oauth_client_id = Some(take(
            args.oauth_client_id,
            "--oauth-client-id",
            "JIRA_OAUTH_CLIENT_ID",
            &mut missing,
        ));
        args.oauth_client_secret = Some(take(
            args.oauth_client_secret,
            "--oauth-client-secret",
            "JIRA_OAUTH_CLIENT_SECRET",
            &mut missing,
        ));
        if args.oauth_token_file.is_none() && args.oauth_refresh_token.is_none() {
            missing.push(Missing {
                flag: "--oauth-token-file or --oauth-refresh-token",
                env: "JIRA_OAUTH_TOKEN_FILE or JIRA_OAUTH_REFRESH_TOKEN",
            });
        }
        (
            credentials.url.filter(|u| !u.trim().is_empty()),
            JiraAuth::OAuth(args),
        )
    } else {
        let url = take(credentials.url, "--url", "JIRA_URL", &mut missing);
        let auth = match credentials.pat.filter(|p| !p.trim().is_empty()) {
            Some(pat) => JiraAuth::Pat(pat),
            None => JiraAuth::Basic {
                email: take(credentials.email, "--email", "JIRA_EMAIL", &mut missing),
                token: take(credentials.token, "--token", "JIRA_TOKEN", &mut missing),
            },
        };
        (Some(url), auth)
    };
    let alternatives = match auth {
        JiraAuth::Basic { .. } if missing.len() > 1 => JIRA_ALTERNATIVES,
        _ => "",
    };
    exit_if_missing(&missing, alternatives);
    let mut retry = ocean_jira::retry_policy();
    if let Some(n) = tuning.max_retries {
        retry = retry.max_retries(n);
    }
    let builder = match auth {
        JiraAuth::Basic { email, token } => {
            JiraClient::builder(url.as_deref().unwrap_or_default()).basic(&email, token)
        }
        JiraAuth::Pat(pat) => JiraClient::builder(url.as_deref().unwrap_or_default()).bearer(pat),
        JiraAuth::OAuth(args) => oauth::builder(args, url.as_deref()).await?,
    };
    let client = builder
        .max_concurrency(tuning.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY))
        .rate_limit(tuning.rate_limit)
        .timeout(timeout(tuning, Duration::from_secs(30)))
        .retry(retry)
        .build()?;
    let deployment = match (credentials.deployment.unwrap_or(DeploymentArg::Auto), oauth) {
        // The OAuth gateway reaches Cloud sites only.
        (_, true) | (DeploymentArg::Cloud, _) => Deployment::Cloud,
        (DeploymentArg::Dc, false) => Deployment::DataCenter,
        (DeploymentArg::Auto, false) => detect(&client).await,
    };
    Ok(client.with_deployment(deployment))
}

/// The site's deployment; Cloud when the probe fails, since the sync's own first request
/// then reports the real problem (credentials, network) better than the probe could.
async fn detect(client: &JiraClient) -> Deployment {
    match client.detect_deployment().await {
        Ok(deployment) => {
            tracing::info!(%deployment, "detected the Jira deployment");
            deployment
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not tell Jira Cloud from Data Center; assuming Cloud (pass --deployment dc or cloud)");
            Deployment::Cloud
        }
    }
}

/// An Octopus client: API key header.
pub fn octopus(
    credentials: OctopusCredentials,
    tuning: &Tuning,
    max_items: Option<u64>,
) -> ocean_core::Result<OctopusClient> {
    let mut missing = Vec::new();
    let url = take(credentials.url, "--url", "OCTOPUS_URL", &mut missing);
    let key = take(
        credentials.api_key,
        "--api-key",
        "OCTOPUS_API_KEY",
        &mut missing,
    );
    exit_if_missing(&missing, "");
    let mut retry = RetryPolicy::default();
    if let Some(n) = tuning.max_retries {
        retry = retry.max_retries(n);
    }
    OctopusClient::builder(&url)
        .api_key(key)
        .max_concurrency(tuning.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY))
        .rate_limit(tuning.rate_limit)
        .timeout(timeout(tuning, Duration::from_secs(60)))
        .retry(retry)
        .max_items_per_space(max_items)
        .build()
}
