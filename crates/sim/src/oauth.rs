//! The simulated Atlassian OAuth 2.0 (3LO) authorization server: rotating refresh tokens,
//! expiring access tokens, and the counters tests assert on.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The OAuth app's client id the token endpoint accepts.
pub const OAUTH_CLIENT_ID: &str = "sim-oauth-client";

/// The OAuth app's client secret the token endpoint accepts.
pub const OAUTH_CLIENT_SECRET: &str = "sim-oauth-secret";

/// The refresh token valid when the simulator starts (the first grant rotates it away).
pub const OAUTH_REFRESH_TOKEN: &str = "sim-refresh-0";

/// The cloud id of the simulated site, listed by `accessible-resources`; the site is served
/// under `/ex/jira/{CLOUD_ID}` as well as `/jira`.
pub const CLOUD_ID: &str = "5e1f0c2a-0000-4000-8000-00000000c10d";

/// Atlassian's access tokens live an hour.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// What a Bearer token is, to the simulated gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessCheck {
    Valid,
    Expired,
    Unknown,
}

/// Why a refresh grant was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrantError {
    /// Wrong client id or secret.
    InvalidClient,
    /// A refresh token that was rotated away (reuse) or never issued.
    InvalidGrant,
}

/// A granted token pair.
pub(crate) struct Grant {
    pub(crate) access_token: String,
    pub(crate) refresh_token: String,
    pub(crate) expires_in: u64,
}

struct Inner {
    lifetime: Duration,
    refresh: String,
    retired: HashSet<String>,
    access: HashMap<String, Instant>,
    issued: u64,
}

/// The OAuth server's state and knobs (see [`Simulator::oauth`](crate::Simulator::oauth)).
///
/// Every grant rotates the refresh token: the old one is refused from then on with
/// `400 invalid_grant`, as Atlassian does. Access tokens are refused with `401` once their
/// lifetime has passed.
pub struct OAuthServer {
    inner: Mutex<Inner>,
    refreshes: AtomicU64,
    reused: AtomicU64,
    expired: AtomicU64,
}

impl std::fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthServer")
            .field("refreshes", &self.refreshes())
            .finish_non_exhaustive()
    }
}

impl Default for OAuthServer {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                lifetime: DEFAULT_LIFETIME,
                refresh: OAUTH_REFRESH_TOKEN.to_owned(),
                retired: HashSet::new(),
                access: HashMap::new(),
                issued: 0,
            }),
            refreshes: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            expired: AtomicU64::new(0),
        }
    }
}

impl OAuthServer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Access tokens granted from now on expire after `lifetime` (default one hour). The
    /// token response's `expires_in` is whole seconds, as Atlassian's (rounded down, at
    /// least 1): use whole seconds to keep client and server in step.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.lock().lifetime = lifetime;
    }

    /// Expires every access token granted so far, now: the next request with one gets `401`,
    /// as when the server's clock runs ahead of the client's.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for expiry in self.lock().access.values_mut() {
            *expiry = now;
        }
    }

    /// Refresh grants that succeeded.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Grants refused because the refresh token had already been used (rotated away).
    pub fn reused_refresh_tokens(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }

    /// Requests refused with `401` because their access token had expired.
    pub fn expired_access_tokens(&self) -> u64 {
        self.expired.load(Ordering::Relaxed)
    }

    /// The refresh token the next grant must present.
    pub fn refresh_token(&self) -> String {
        self.lock().refresh.clone()
    }

    /// The refresh-token grant: rotate, or refuse.
    pub(crate) fn grant(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<Grant, GrantError> {
        if client_id != OAUTH_CLIENT_ID || client_secret != OAUTH_CLIENT_SECRET {
            return Err(GrantError::InvalidClient);
        }
        let mut inner = self.lock();
        if refresh_token != inner.refresh {
            if inner.retired.contains(refresh_token) {
                self.reused.fetch_add(1, Ordering::Relaxed);
            }
            return Err(GrantError::InvalidGrant);
        }
        inner.issued += 1;
        let n = inner.issued;
        let old = std::mem::replace(&mut inner.refresh, format!("sim-refresh-{n}"));
        inner.retired.insert(old);
        let access_token = format!("sim-access-{n}");
        let lifetime = inner.lifetime;
        inner
            .access
            .insert(access_token.clone(), Instant::now() + lifetime);
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        Ok(Grant {
            access_token,
            refresh_token: inner.refresh.clone(),
            expires_in: lifetime.as_secs().max(1),
        })
    }

    /// Whether `token` is a live access token; counts expired ones.
    pub(crate) fn check(&self, token: &str) -> AccessCheck {
        let expiry = self.lock().access.get(token).copied();
        match expiry {
            Some(at) if Instant::now() < at => AccessCheck::Valid,
            Some(_) => {
                self.expired.fetch_add(1, Ordering::Relaxed);
                AccessCheck::Expired
            }
            None => AccessCheck::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_rotates_and_the_old_token_is_refused_as_reuse() {
        let server = OAuthServer::default();
        let first = server
            .grant(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN)
            .ok()
            .unwrap();
        assert_ne!(first.refresh_token, OAUTH_REFRESH_TOKEN);
        assert_eq!(
            server
                .grant(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN)
                .err(),
            Some(GrantError::InvalidGrant)
        );
        assert_eq!(server.reused_refresh_tokens(), 1);
        assert_eq!(server.check(&first.access_token), AccessCheck::Valid);
        assert_eq!(
            server
                .grant(OAUTH_CLIENT_ID, "wrong", &first.refresh_token)
                .err(),
            Some(GrantError::InvalidClient)
        );
    }

    #[test]
    fn access_tokens_expire() {
        let server = OAuthServer::default();
        server.set_access_token_lifetime(Duration::from_millis(1));
        let grant = server
            .grant(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN)
            .ok()
            .unwrap();
        assert_eq!(grant.expires_in, 1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(server.check(&grant.access_token), AccessCheck::Expired);
        assert_eq!(server.expired_access_tokens(), 1);
        assert_eq!(server.check("nope"), AccessCheck::Unknown);
    }
}
