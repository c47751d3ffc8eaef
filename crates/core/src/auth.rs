//! Credentials and how they become request headers.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use futures::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::RwLock;

use crate::Secret;

/// The error a [`TokenProvider`] returns when it cannot produce a token.
pub type TokenError = Box<dyn std::error::Error + Send + Sync>;

/// Supplies bearer tokens that can expire, such as OAuth 2 access tokens.
///
/// The client asks for [`TokenProvider::token`] once and caches it; after a
/// `401` it calls [`TokenProvider::refresh`] exactly once and retries the
/// request with the new token, which every later request then shares.
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
pub(crate) struct Authenticator {
    auth: Auth,
    cached: RwLock<Option<Secret>>,
}

impl Authenticator {
    pub(crate) fn new(auth: Auth) -> Self {
        Self {
            auth,
            cached: RwLock::new(None),
        }
    }

    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// True when a `401` may be cured by asking for a new token.
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.auth, Auth::Provider(_))
    }

    /// Adds the credential headers to a request.
    pub(crate) async fn apply(&self, headers: &mut HeaderMap) -> Result<(), TokenError> {
        let (name, value) = match &self.auth {
            Auth::None => return Ok(()),
            Auth::Basic { user, secret } => (
                AUTHORIZATION,
                format!("Basic {}", basic_value(user, secret)),
            ),
            Auth::Bearer(token) => (AUTHORIZATION, format!("Bearer {}", token.expose())),
            Auth::Provider(provider) => {
                let token = self.current_token(provider.as_ref()).await?;
                (AUTHORIZATION, format!("Bearer {}", token.expose()))
            }
            Auth::ApiKey { header, key } => (header.clone(), key.expose().to_owned()),
        };
        let mut value =
            HeaderValue::try_from(value).map_err(|_| "credential is not a valid header value")?;
        value.set_sensitive(true);
        headers.insert(name, value);
        Ok(())
    }

    /// Forgets the cached token and asks the provider for a new one.
    pub(crate) async fn refresh(&self) -> Result<(), TokenError> {
        if let Auth::Provider(provider) = &self.auth {
            let fresh = provider.refresh().await?;
            *self.cached.write().await = Some(fresh);
        }
        Ok(())
    }

    /// The cached provider token, if any, for scrubbing error bodies.
    pub(crate) async fn cached_secret(&self) -> Option<Secret> {
        self.cached.read().await.clone()
    }

    /// The cached provider token, unless a refresh holds the lock right now.
    pub(crate) fn cached_secret_now(&self) -> Option<Secret> {
        self.cached.try_read().ok().and_then(|c| c.clone())
    }

    async fn current_token(&self, provider: &dyn TokenProvider) -> Result<Secret, TokenError> {
        if let Some(token) = self.cached.read().await.clone() {
            return Ok(token);
        }
        let token = provider.token().await?;
        *self.cached.write().await = Some(token.clone());
        Ok(token)
    }
}
