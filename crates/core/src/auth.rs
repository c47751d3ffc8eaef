//! Credentials and how they become request headers.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use futures::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::{Mutex, RwLock};

use crate::Secret;

/// The error a [`TokenProvider`] returns when it cannot produce a token.
pub type TokenError = Box<dyn std::error::Error + Send + Sync>;

/// Supplies bearer tokens that can expire, such as OAuth 2 access tokens.
///
/// The client asks for [`TokenProvider::access_token`] (by default [`TokenProvider::token`])
/// and caches the token until its [`AccessToken::renew_at`]; after a `401` it calls
/// [`TokenProvider::renew`] (by default [`TokenProvider::refresh`]) once per rejected token,
/// however many requests were rejected with it, and retries each request once with the new
/// token, which every later request then shares. [`RefreshingToken`](crate::RefreshingToken)
/// implements the OAuth 2.0 refresh-token grant this way.
///
/// ```
/// use futures::future::BoxFuture;
/// use ocean_core::{Secret, TokenError, TokenProvider};
///
/// struct FromEnv;
/// impl TokenProvider for FromEnv {
///     fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
///         Box::pin(async { Ok(Secret::new(std::env::var("TOKEN")?)) })
///     }
///     fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
///         self.token()
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// The current token.
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>>;
    /// A fresh token, after the server rejected the current one.
    fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>>;

    /// The current token and when to stop using it. The client caches the token until
    /// [`AccessToken::renew_at`] and then asks again, so a provider that knows its tokens'
    /// lifetime gets to renew them before the server rejects one.
    ///
    /// The default wraps [`token`](Self::token) with no deadline.
    fn access_token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        Box::pin(async { Ok(AccessToken::new(self.token().await?)) })
    }

    /// A token to retry with after the server rejected `rejected`.
    ///
    /// Many requests in flight can be rejected with the same token at once; a provider that
    /// must not refresh twice (one whose refresh tokens rotate) returns its current token
    /// when that is no longer `rejected`, instead of refreshing again. The client already
    /// funnels its own rejections through one call; this guards providers shared by clients.
    ///
    /// The default wraps [`refresh`](Self::refresh) with no deadline.
    fn renew(&self, rejected: &Secret) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        let _ = rejected;
        Box::pin(async { Ok(AccessToken::new(self.refresh().await?)) })
    }

    /// Statuses besides `401` that mean "expired token" when they arrive after the token's
    /// [`renew_at`](AccessToken::renew_at) deadline: some gateways answer an expired token
    /// with `403` or `404`. A status listed here never causes a refresh while the token is
    /// still within its lifetime, where it means what it says. Default: none.
    fn expired_statuses(&self) -> &[u16] {
        &[]
    }
}

/// A bearer token and the moment a client should stop using it.
#[derive(Clone, Debug)]
pub struct AccessToken {
    /// The token.
    pub secret: Secret,
    /// Ask the provider again from this moment on; `None` keeps the token until a `401`.
    /// A [`tokio::time::Instant`], so tests can drive it with paused time.
    pub renew_at: Option<tokio::time::Instant>,
}

impl AccessToken {
    /// A token with no known deadline.
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            renew_at: None,
        }
    }

    /// True while the token may still be sent.
    pub fn is_fresh(&self) -> bool {
        self.renew_at
            .is_none_or(|at| tokio::time::Instant::now() < at)
    }
}

/// How requests authenticate. `Debug` never shows a credential.
///
/// ```
/// use ocean_core::Auth;
/// let auth = Auth::basic("me@example.com", "api-token");
/// assert!(!format!("{auth:?}").contains("api-token"));
/// let octopus = Auth::api_key("X-Octopus-ApiKey", "API-123").unwrap();
/// assert!(!format!("{octopus:?}").contains("API-123"));
/// ```
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: Basic base64(user:secret)` (Jira email + API token).
    Basic {
        /// The user name or e-mail address.
        user: String,
        /// The password or API token.
        secret: Secret,
    },
    /// `Authorization: Bearer <token>` with a token that never changes (a PAT).
    Bearer(Secret),
    /// `Authorization: Bearer <token>` with tokens from a refreshable provider.
    Provider(Arc<dyn TokenProvider>),
    /// A custom header carrying an API key, e.g. `X-Octopus-ApiKey`.
    ApiKey {
        /// The header name.
        header: HeaderName,
        /// The key.
        key: Secret,
    },
}

impl Auth {
    /// Basic authentication.
    pub fn basic(user: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self::Basic {
            user: user.into(),
            secret: secret.into(),
        }
    }

    /// A static bearer token.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Self::Bearer(token.into())
    }

    /// Bearer tokens from a refreshable provider.
    pub fn provider(provider: impl TokenProvider) -> Self {
        Self::Provider(Arc::new(provider))
    }

    /// An API key in the named header. Fails when the name is not a valid header name.
    pub fn api_key(header: &str, key: impl Into<Secret>) -> Result<Self, crate::Error> {
        let header = HeaderName::try_from(header)
            .map_err(|_| crate::Error::Config(format!("`{header}` is not a valid header name")))?;
        Ok(Self::ApiKey {
            header,
            key: key.into(),
        })
    }

    /// Which credential this is, in words, for error messages ("Basic credentials for me@x").
    pub fn describe(&self) -> String {
        match self {
            Self::None => "no credentials".into(),
            Self::Basic { user, .. } => format!("Basic credentials of user `{user}`"),
            Self::Bearer(_) => "the bearer token".into(),
            Self::Provider(_) => "the OAuth token provider's token".into(),
            Self::ApiKey { header, .. } => format!("the API key sent in `{header}`"),
        }
    }

    /// Every form in which a credential of this auth could appear in a body
    /// a server echoes back: the secret itself and its encoded header value.
    pub(crate) fn redactions(&self) -> Vec<String> {
        match self {
            Self::Basic { user, secret } => {
                vec![secret.expose().to_owned(), basic_value(user, secret)]
            }
            Self::Bearer(token) => vec![token.expose().to_owned()],
            Self::ApiKey { key, .. } => vec![key.expose().to_owned()],
            Self::None | Self::Provider(_) => Vec::new(),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("Auth::None"),
            Self::Basic { user, secret } => f
                .debug_struct("Auth::Basic")
                .field("user", user)
                .field("secret", secret)
                .finish(),
            Self::Bearer(token) => f.debug_tuple("Auth::Bearer").field(token).finish(),
            Self::Provider(_) => f.write_str("Auth::Provider([redacted])"),
            Self::ApiKey { header, key } => f
                .debug_struct("Auth::ApiKey")
                .field("header", header)
                .field("key", key)
                .finish(),
        }
    }
}

/// `base64(user:secret)`, the value of a Basic `Authorization` header.
fn basic_value(user: &str, secret: &Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", secret.expose()))
}

/// Turns an [`Auth`] into headers, caching provider tokens between requests.
///
/// Provider tokens are renewed through one mutex: requests that find the cached token stale,
/// or that were rejected with the same token, wait for a single renewal and share its result.
pub(crate) struct Authenticator {
    auth: Auth,
    cached: RwLock<Option<AccessToken>>,
    renewing: Mutex<()>,
}

impl Authenticator {
    pub(crate) fn new(auth: Auth) -> Self {
        Self {
            auth,
            cached: RwLock::new(None),
            renewing: Mutex::new(()),
        }
    }

    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// True when a `status` answered to a request sent with `sent` may be cured by asking
    /// for a new token: always for a `401`; for a provider's other expiry statuses only once
    /// the token has passed its renewal deadline.
    pub(crate) async fn may_refresh(&self, status: u16, sent: Option<&Secret>) -> bool {
        let Auth::Provider(provider) = &self.auth else {
            return false;
        };
        if status == 401 {
            return true;
        }
        if !provider.expired_statuses().contains(&status) {
            return false;
        }
        match (sent, self.cached.read().await.as_ref()) {
            (Some(sent), Some(cached)) => {
                cached.secret.expose() == sent.expose() && !cached.is_fresh()
            }
            _ => false,
        }
    }

    /// Adds the credential headers to a request; returns the provider token it sent, if any,
    /// for [`refresh`](Self::refresh) to name when the server rejects it.
    pub(crate) async fn apply(
        &self,
        headers: &mut HeaderMap,
    ) -> Result<Option<Secret>, TokenError> {
        let mut sent = None;
        let (name, value) = match &self.auth {
            Auth::None => return Ok(None),
            Auth::Basic { user, secret } => (
                AUTHORIZATION,
                format!("Basic {}", basic_value(user, secret)),
            ),
            Auth::Bearer(token) => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Auth::Provider(provider) => {
                let token = self.current_token(provider.as_ref()).await?;
                let value = format!("Bearer {}", token.expose());
                sent = Some(token);
                (AUTHORIZATION, value)
            }
            Auth::ApiKey { header, key } => (header.clone(), key.expose().to_owned()),
        };
        let mut value =
            HeaderValue::try_from(value).map_err(|_| "credential is not a valid header value")?;
        value.set_sensitive(true);
        headers.insert(name, value);
        Ok(sent)
    }

    /// Replaces the token the server rejected. When another request already replaced it
    /// (the cache no longer holds `rejected`), its result is reused: one renewal per stale
    /// token, however many requests were rejected with it.
    pub(crate) async fn refresh(&self, rejected: &Secret) -> Result<(), TokenError> {
        let Auth::Provider(provider) = &self.auth else {
            return Ok(());
        };
        let _one_at_a_time = self.renewing.lock().await;
        if let Some(cached) = self.cached.read().await.as_ref()
            && cached.secret.expose() != rejected.expose()
        {
            return Ok(());
        }
        let fresh = provider.renew(rejected).await?;
        *self.cached.write().await = Some(fresh);
        Ok(())
    }

    /// The cached provider token, if any, for scrubbing error bodies.
    pub(crate) async fn cached_secret(&self) -> Option<Secret> {
        self.cached.read().await.as_ref().map(|t| t.secret.clone())
    }

    /// The cached provider token, unless a refresh holds the lock right now.
    pub(crate) fn cached_secret_now(&self) -> Option<Secret> {
        self.cached
            .try_read()
            .ok()
            .and_then(|c| c.as_ref().map(|t| t.secret.clone()))
    }

    async fn current_token(&self, provider: &dyn TokenProvider) -> Result<Secret, TokenError> {
        if let Some(token) = self.cached.read().await.as_ref().filter(|t| t.is_fresh()) {
            return Ok(token.secret.clone());
        }
        let _one_at_a_time = self.renewing.lock().await;
        // Another request may have renewed it while this one waited.
        if let Some(token) = self.cached.read().await.as_ref().filter(|t| t.is_fresh()) {
            return Ok(token.secret.clone());
        }
        let token = provider.access_token().await?;
        let secret = token.secret.clone();
        *self.cached.write().await = Some(token);
        Ok(secret)
    }
}
