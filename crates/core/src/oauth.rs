//! The OAuth 2.0 refresh-token grant (RFC 6749 §6) as a [`TokenProvider`], for any provider.
//!
//! What makes it safe with servers that rotate refresh tokens:
//! * one refresh at a time: the state sits behind an async mutex held across the token
//!   request, so concurrent callers wait for the refresh in flight and share its result;
//! * the rotated refresh token is handed to the [`RefreshTokenStore`] before the access token
//!   that came with it is returned, and the old one is never sent again;
//! * access tokens are renewed before they expire (`expires_in` minus a margin), so a long run
//!   does not spend a rejected request per expiry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::Secret;
use crate::auth::{AccessToken, TokenError, TokenProvider};
use crate::secret::scrub;
use crate::token_store::{RefreshTokenStore, StoreError};

/// How long before `expires_in` runs out a token is renewed, at most; never more than a
/// quarter of its lifetime, so short-lived tokens are still used for most of it.
pub const DEFAULT_RENEW_MARGIN: Duration = Duration::from_secs(60);

/// The lifetime assumed when a token response has no `expires_in`.
const ASSUMED_LIFETIME: Duration = Duration::from_secs(3600);

/// Why a refresh failed. Never carries a token.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The token endpoint refused the grant (`400 invalid_grant`: the refresh token was
    /// revoked, expired or already used; the user must authorize again).
    #[error("the token endpoint {url} refused the refresh token ({status}: {code}{}){}",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
        if code == "invalid_grant" {
            "; it was revoked, expired or already used: authorize the app again for a new one"
        } else {
            ""
        })]
    Rejected {
        /// The token endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_grant`, or `unknown`.
        code: String,
        /// The OAuth `error_description`, secrets removed.
        description: Option<String>,
    },
    /// The token endpoint could not be reached or did not answer in full.
    #[error("the token endpoint {url} could not be reached: {source}")]
    Transport {
        /// The token endpoint.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The token endpoint answered 2xx with something other than a token response.
    #[error("the token endpoint {url} sent an unreadable token response: {reason}")]
    Malformed {
        /// The token endpoint.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The refresh token could not be read or the rotated one could not be kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where and as whom to refresh.
#[derive(Clone)]
pub struct OAuthClient {
    /// The token endpoint, e.g. `https://auth.atlassian.com/oauth/token`.
    pub token_url: Url,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: Secret,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: Option<String>,
    error_description: Option<String>,
}

struct State {
    access: Option<AccessToken>,
    /// The refresh token to send next; `None` until loaded from the store.
    refresh: Option<Secret>,
}

/// Access tokens from the refresh-token grant, renewed before expiry, one refresh at a time,
/// rotated refresh tokens stored before use.
///
/// ```no_run
/// use std::sync::Arc;
/// use ocean_core::{Auth, Client, OAuthClient, RefreshingToken, Secret, TokenFile};
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tokens = Arc::new(RefreshingToken::new(
///     OAuthClient {
///         token_url: "https://auth.atlassian.com/oauth/token".parse()?,
///         client_id: "my-app".into(),
///         client_secret: Secret::new("app-secret"),
///     },
///     Arc::new(TokenFile::new("jira.token")),
/// )?);
/// let client = Client::builder("https://api.atlassian.com/ex/jira/CLOUD-ID")
///     .auth(Auth::Provider(tokens.clone()))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
pub struct RefreshingToken {
    client: OAuthClient,
    store: Arc<dyn RefreshTokenStore>,
    http: reqwest::Client,
    margin: Duration,
    expired_statuses: Vec<u16>,
    state: Mutex<State>,
    refreshes: AtomicU64,
}

impl std::fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("client", &self.client)
            .field("store", &self.store.describe())
            .field("refreshes", &self.refreshes())
            .finish_non_exhaustive()
    }
}

impl RefreshingToken {
    /// Tokens for `client`, starting from the refresh token in `store`.
    ///
    /// # Errors
    ///
    /// The HTTP client for the token endpoint could not be built.
    pub fn new(client: OAuthClient, store: Arc<dyn RefreshTokenStore>) -> Result<Self, OAuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| OAuthError::Transport {
                url: client.token_url.to_string(),
                source,
            })?;
        Ok(Self {
            client,
            store,
            http,
            margin: DEFAULT_RENEW_MARGIN,
            expired_statuses: Vec::new(),
            state: Mutex::new(State {
                access: None,
                refresh: None,
            }),
            refreshes: AtomicU64::new(0),
        })
    }

    /// Renew this long before expiry at most (default [`DEFAULT_RENEW_MARGIN`]; never more
    /// than a quarter of a token's lifetime).
    #[must_use]
    pub fn renew_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Statuses the API answers an expired token with besides `401` (Atlassian's gateway:
    /// `403`, `404`); see [`TokenProvider::expired_statuses`].
    #[must_use]
    pub fn expired_statuses(mut self, statuses: &[u16]) -> Self {
        self.expired_statuses = statuses.to_vec();
        self
    }

    /// How many refresh grants were made so far.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The current access token, refreshed when there is none or it is due for renewal.
    ///
    /// # Errors
    ///
    /// The refresh failed; see [`OAuthError`].
    pub async fn current(&self) -> Result<AccessToken, OAuthError> {
        let mut state = self.state.lock().await;
        if let Some(access) = state.access.as_ref().filter(|a| a.is_fresh()) {
            return Ok(access.clone());
        }
        self.refresh_locked(&mut state).await
    }

    /// A new access token unless the current one is no longer `rejected` (another caller
    /// already replaced it): one refresh per rejected token.
    ///
    /// # Errors
    ///
    /// The refresh failed; see [`OAuthError`].
    pub async fn renew_rejected(&self, rejected: &Secret) -> Result<AccessToken, OAuthError> {
        let mut state = self.state.lock().await;
        if let Some(access) = state
            .access
            .as_ref()
            .filter(|a| a.secret.expose() != rejected.expose())
        {
            return Ok(access.clone());
        }
        self.refresh_locked(&mut state).await
    }

    /// The refresh grant, with the state locked so no other refresh can start.
    async fn refresh_locked(&self, state: &mut State) -> Result<AccessToken, OAuthError> {
        let refresh = match &state.refresh {
            Some(token) => token.clone(),
            None => self.store.load()?,
        };
        state.access = None;
        let url = self.client.token_url.to_string();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", &self.client.client_id)
            .append_pair("client_secret", self.client.client_secret.expose())
            .append_pair("refresh_token", refresh.expose())
            .finish();
        let transport = |source: reqwest::Error| OAuthError::Transport {
            url: url.clone(),
            source: source.without_url(),
        };
        let sent_at = Instant::now();
        let response = self
            .http
            .post(self.client.token_url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let secrets = [refresh.expose(), self.client.client_secret.expose()];
        if !status.is_success() {
            let parsed: Option<ErrorResponse> = serde_json::from_slice(&bytes).ok();
            let (code, description) = parsed
                .map(|e| (e.error, e.error_description))
                .unwrap_or_default();
            return Err(OAuthError::Rejected {
                url,
                status: status.as_u16(),
                code: code.unwrap_or_else(|| "unknown".into()),
                description: description.map(|d| scrub(&d, &secrets)),
            });
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| OAuthError::Malformed {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        if parsed.access_token.is_empty() {
            return Err(OAuthError::Malformed {
                url,
                reason: "`access_token` is empty".into(),
            });
        }
        if let Some(rotated) = parsed
            .refresh_token
            .filter(|r| !r.is_empty() && r != refresh.expose())
        {
            let rotated = Secret::new(rotated);
            // The old token is dead from here on: remember the new one even if storing it
            // fails, and store it before anything uses the access token.
            state.refresh = Some(rotated.clone());
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || store.save(&rotated))
                .await
                .map_err(|e| OAuthError::Malformed {
                    url: url.clone(),
                    reason: format!("storing the rotated refresh token was interrupted: {e}"),
                })??;
        } else {
            state.refresh = Some(refresh);
        }
        let access = AccessToken {
            secret: Secret::new(parsed.access_token),
            renew_at: Some(sent_at + self.lifetime_used(parsed.expires_in)),
        };
        state.access = Some(access.clone());
        tracing::debug!(token_url = %self.client.token_url, "OAuth access token refreshed");
        Ok(access)
    }

    /// How long after the request a token of `expires_in` seconds may be used.
    fn lifetime_used(&self, expires_in: Option<f64>) -> Duration {
        let lifetime = expires_in
            .filter(|s| s.is_finite() && *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(ASSUMED_LIFETIME);
        lifetime - self.margin.min(lifetime / 4)
    }
}

impl TokenProvider for RefreshingToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Ok(self.current().await?.secret) })
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async {
            let mut state = self.state.lock().await;
            Ok(self.refresh_locked(&mut state).await?.secret)
        })
    }

    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        Box::pin(async { Ok(self.current().await?) })
    }

    fn renew(&self, rejected: &Secret) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        let rejected = rejected.clone();
        Box::pin(async move { Ok(self.renew_rejected(&rejected).await?) })
    }

    fn expired_statuses(&self) -> &[u16] {
        &self.expired_statuses
    }
}

impl TokenProvider for Arc<RefreshingToken> {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        self.as_ref().token()
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        self.as_ref().refresh()
    }

    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        self.as_ref().access_token()
    }

    fn renew(&self, rejected: &Secret) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        self.as_ref().renew(rejected)
    }

    fn expired_statuses(&self) -> &[u16] {
        self.as_ref().expired_statuses()
    }
}
