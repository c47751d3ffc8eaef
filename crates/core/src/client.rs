//! The client and its one request path: auth → pacing → concurrency limit →
//! send and read → retry decision → trace.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::retry::budget::{Budget, TpsBudget};
use url::Url;

use crate::auth::Authenticator;
use crate::response::{Response, snippet};
use crate::retry::{Attempt, Decision, GiveUpReason, is_idempotent};
use crate::secret::scrub;
use crate::stats::Counters;
use crate::throttle::Throttle;
use crate::wait_hint::{HintReader, WaitHints};
use crate::{Auth, Error, Result, RetryPolicy, Secret, Stats, StatusError, TransportKind};

/// Bytes of an error body kept in [`StatusError::body_snippet`].
const SNIPPET_BYTES: usize = 500;

/// Builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use ocean_core::{Auth, Client, RetryPolicy};
/// let client = Client::builder("https://example.atlassian.net/")
///     .auth(Auth::basic("me@example.com", "api-token"))
///     .timeout(Some(Duration::from_secs(30)))
///     .max_concurrency(10)
///     .retry(RetryPolicy::default().max_retries(4))
///     .rate_limit(Some(20.0))
///     .build()
///     .unwrap();
/// assert_eq!(client.url("/rest/api/3/myself").unwrap().as_str(),
///            "https://example.atlassian.net/rest/api/3/myself");
/// ```
#[must_use]
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    max_concurrency: usize,
    retry: RetryPolicy,
    rate_limit: Option<f64>,
    user_agent: String,
    prefetch: bool,
    pool_idle_timeout: Option<Duration>,
    adaptive_pacing: bool,
    error_messages: ErrorMessages,
    hint_readers: Vec<HintReader>,
    rate_limit_window: Duration,
    default_headers: HeaderMap,
    header_error: Option<String>,
}

/// Reads the messages of an error body (a provider's error format) for
/// [`StatusError::messages`](crate::StatusError::messages).
pub type ErrorMessages = fn(&[u8]) -> Vec<String>;

impl ClientBuilder {
    /// How error bodies are read into [`StatusError::messages`](crate::StatusError::messages):
    /// each provider crate plugs in its API's error format. The default,
    /// [`generic_error_messages`], reads the common `message` / `error` / `errors` shapes.
    pub fn error_messages(mut self, parse: ErrorMessages) -> Self {
        self.error_messages = parse;
        self
    }

    /// Adds a reader of a provider's own rate-limit headers; its hints are merged with the
    /// standard `Retry-After` / `X-RateLimit-*` ones (see [`WaitHints::merge`]).
    pub fn rate_limit_headers(mut self, reader: HintReader) -> Self {
        self.hint_readers.push(reader);
        self
    }

    /// The period the standard `X-RateLimit-Limit` header counts requests over (default one
    /// second). Over a longer window (an hourly budget, say) the budget left must last until
    /// `X-RateLimit-Reset`: from under a fifth left, requests are paced at what is left spread
    /// over the time to the reset (see [`WaitHints::from_headers_over`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = ocean_core::Client::builder("https://api.example.com")
    ///     .rate_limit_window(Duration::from_secs(3600)) // "X-RateLimit-Limit: 5000" per hour
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn rate_limit_window(mut self, window: Duration) -> Self {
        self.rate_limit_window = window;
        self
    }

    /// A header sent with every request (an API version, a media type); a request's own
    /// header of the same name wins. Credentials belong in [`auth`](Self::auth), whose
    /// values are kept out of errors and logs. An invalid name or value fails
    /// [`build`](Self::build).
    ///
    /// ```
    /// let client = ocean_core::Client::builder("https://api.example.com")
    ///     .default_header("accept", "application/vnd.example+json")
    ///     .default_header("x-api-version", "2024-01-01")
    ///     .build();
    /// assert!(client.is_ok());
    /// let bad = ocean_core::Client::builder("https://api.example.com")
    ///     .default_header("bad name", "x")
    ///     .build();
    /// assert!(matches!(bad, Err(ocean_core::Error::Config(_))));
    /// ```
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(mut value)) => {
                // Kept out of the builder's `Debug`, in case it is a credential after all.
                value.set_sensitive(true);
                self.default_headers.insert(name, value);
            }
            _ => self.header_error = Some(format!("invalid default header `{name}`")),
        }
        self
    }

    /// Replaces the base URL given to [`Client::builder`] (a provider may only know it at
    /// build time, e.g. Jira OAuth's `api.atlassian.com/ex/jira/{cloudId}`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Credentials (default: none).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Connect timeout (default 10 s; `None` = wait as long as the OS does).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of one attempt, body included (default 30 s; `None` = none).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Requests in flight at once (default 10).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A client-side limit in requests per second (default: none).
    pub fn rate_limit(mut self, per_second: Option<f64>) -> Self {
        self.rate_limit = per_second;
        self
    }

    /// The `User-Agent` (default `ocean-rs/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Whether list streams prefetch pages concurrently once the total is known (default on).
    pub fn prefetch(mut self, on: bool) -> Self {
        self.prefetch = on;
        self
    }

    /// Whether the client paces itself on what the server says (default on):
    ///
    /// * a `429`'s `Retry-After` holds back every request of the client, not only the
    ///   one retried;
    /// * once the rate-limit headers say the budget is low and how fast it refills
    ///   (`X-RateLimit-Limit` with `X-RateLimit-NearLimit`/`-Remaining`, or a provider's
    ///   own headers read by [`rate_limit_headers`](Self::rate_limit_headers)), request
    ///   starts are spaced at that rate
    ///   until the budget has recovered, so a long sync runs at the server's rate instead
    ///   of bursting into `429`s;
    /// * a spent budget with a known refill time (`X-RateLimit-Reset`) pauses every request.
    ///
    /// Off, requests ignore those headers and only wait for their own retries (a `429`'s
    /// `Retry-After` still sets the wait before that request is retried). Off exists to
    /// measure what pacing buys (see `BENCHMARKS.md`); leave it on.
    ///
    /// ```
    /// let client = ocean_core::Client::builder("https://example.octopus.app/api")
    ///     .adaptive_pacing(false)
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn adaptive_pacing(mut self, on: bool) -> Self {
        self.adaptive_pacing = on;
        self
    }

    /// How long an idle pooled connection is kept (default 90 s; `None` = forever).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Builds the client. Fails on a bad base URL (credentials in it included) or setting.
    pub fn build(self) -> Result<Client> {
        let base = normalise_base(&self.base_url)?;
        if let Some(e) = self.header_error {
            return Err(Error::Config(e));
        }
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .default_headers(self.default_headers)
            .pool_max_idle_per_host(self.max_concurrency.max(10))
            .pool_idle_timeout(self.pool_idle_timeout)
            .tcp_nodelay(true);
        if let Some(t) = self.connect_timeout {
            http = http.connect_timeout(t);
        }
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let budget = self
            .retry
            .budget
            .map(|b| TpsBudget::new(b.window, b.min_per_sec, b.ratio));
        let throttle = Throttle::new(self.rate_limit, self.retry.max_wait, self.adaptive_pacing)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth: Authenticator::new(self.auth),
                permits: Semaphore::new(self.max_concurrency),
                max_concurrency: self.max_concurrency,
                retry: self.retry,
                budget,
                throttle,
                counters: Counters::default(),
                timeout: self.timeout,
                prefetch: self.prefetch,
                error_messages: self.error_messages,
                hint_readers: self.hint_readers,
                rate_limit_window: self.rate_limit_window,
            }),
        })
    }
}

/// `scheme://host[:port][/prefix]` without a trailing slash; no credentials allowed.
fn normalise_base(raw: &str) -> Result<String> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("base URL `{}`: {e}", without_credentials(raw))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "base URL must be http(s), got `{}`",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "put credentials in Auth, not in the base URL".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        // Not shown: a query may carry an API key (`?apikey=`, which some servers accept).
        let mut shown = url.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        return Err(Error::Config(format!(
            "base URL `{shown}` must not carry a query or fragment (put credentials in Auth)"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A URL that did not parse, for an error message: without anything up to an `@`
/// (user info) nor from a `?` or `#` on, where a credential could be.
fn without_credentials(raw: &str) -> String {
    let raw = raw.trim();
    let (prefix, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), raw),
    };
    let kept = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let kept = kept.rfind('@').map_or(kept, |at| &kept[at + 1..]);
    if kept.len() == rest.len() {
        format!("{prefix}{kept}")
    } else {
        format!("{prefix}{kept} (parts that may hold credentials not shown)")
    }
}

/// An HTTP client for one API: cheap to clone, every clone sharing one pool,
/// one concurrency limit, one pacing state and one set of counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    auth: Authenticator,
    permits: Semaphore,
    max_concurrency: usize,
    retry: RetryPolicy,
    budget: Option<TpsBudget>,
    throttle: Throttle,
    counters: Counters,
    timeout: Option<Duration>,
    prefetch: bool,
    error_messages: ErrorMessages,
    hint_readers: Vec<HintReader>,
    rate_limit_window: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field("auth", self.inner.auth.auth())
            .field("max_concurrency", &self.inner.max_concurrency)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client for the API at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            auth: Auth::None,
            connect_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(30)),
            max_concurrency: 10,
            retry: RetryPolicy::default(),
            rate_limit: None,
            user_agent: concat!("ocean-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            prefetch: true,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            adaptive_pacing: true,
            error_messages: generic_error_messages,
            hint_readers: Vec::new(),
            rate_limit_window: Duration::from_secs(1),
            default_headers: HeaderMap::new(),
            header_error: None,
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The absolute URL of `path`: `"/api/"` + `"spaces"` and `"/api"` + `"/spaces"` agree.
    pub fn url(&self, path: &str) -> Result<Url> {
        let joined = format!("{}/{}", self.inner.base, path.trim_start_matches('/'));
        Url::parse(&joined).map_err(|e| Error::Config(format!("URL `{joined}`: {e}")))
    }

    /// How many requests may be in flight at once.
    pub fn max_concurrency(&self) -> usize {
        self.inner.max_concurrency
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// The credentials in use.
    pub fn auth(&self) -> &Auth {
        self.inner.auth.auth()
    }

    pub(crate) fn prefetch_default(&self) -> bool {
        self.inner.prefetch
    }

    /// Starts a request to `path` (relative to the base URL).
    pub fn request(&self, method: Method, path: impl Into<String>) -> Request {
        Request {
            client: self.clone(),
            parts: RequestParts {
                method,
                path: path.into(),
                query: Vec::new(),
                body: None,
                replay_safe: None,
                headers: HeaderMap::new(),
                error: None,
            },
        }
    }

    /// Starts a `GET`.
    pub fn get(&self, path: impl Into<String>) -> Request {
        self.request(Method::GET, path)
    }

    /// Starts a `POST`.
    pub fn post(&self, path: impl Into<String>) -> Request {
        self.request(Method::POST, path)
    }

    /// Starts a `PUT`.
    pub fn put(&self, path: impl Into<String>) -> Request {
        self.request(Method::PUT, path)
    }

    /// Starts a `DELETE`.
    pub fn delete(&self, path: impl Into<String>) -> Request {
        self.request(Method::DELETE, path)
    }

    /// Starts a `GET` of an absolute `url` the API gave (an object's own URL, a link),
    /// which must lie under the base URL: the credentials go wherever the request goes.
    /// A URL elsewhere fails when sent, with an [`Error::Config`] naming only its origin.
    ///
    /// ```no_run
    /// # async fn run(client: ocean_core::Client) -> ocean_core::Result<()> {
    /// let issue: serde_json::Value = client
    ///     .get_url("https://api.example.com/repos/acme/app/issues/7")
    ///     .send_json()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn get_url(&self, url: &str) -> Request {
        match self.under_base(url) {
            Some((path, query)) => {
                let mut request = self.get(path);
                request.parts.query = query;
                request
            }
            None => {
                let mut request = self.get("");
                request.parts.error = Some(format!(
                    "`{}` is not under the client's base URL {}",
                    origin(url),
                    self.inner.base
                ));
                request
            }
        }
    }

    /// The path and query of an absolute `url` under the base URL, `None` for any other.
    pub(crate) fn under_base(&self, url: &str) -> Option<(String, Vec<(String, String)>)> {
        let rest = url
            .strip_prefix(self.inner.base.as_str())
            .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']))?;
        let rest = rest.split('#').next().unwrap_or_default();
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let query = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Some((path.to_owned(), query))
    }

    /// The central request path every call goes through.
    pub(crate) async fn execute(&self, parts: &RequestParts) -> Result<Response> {
        if let Some(e) = &parts.error {
            return Err(Error::Config(e.clone()));
        }
        let url = self.full_url(parts)?;
        let inner = &*self.inner;
        let policy = &inner.retry;
        let replay_safe = parts
            .replay_safe
            .unwrap_or_else(|| is_idempotent(&parts.method));
        let started = Instant::now();
        if let Some(budget) = &inner.budget {
            budget.deposit();
        }
        let mut retries = 0u32;
        let mut refreshed = false;
        // The provider token the last attempt carried, to name it when it is rejected.
        let mut sent_token: Option<Secret> = None;
        loop {
            inner.throttle.ready().await;
            let outcome = {
                let _permit = inner.permits.acquire().await.map_err(|_| closed())?;
                inner.counters.sent();
                self.send_once(parts, &url, &mut sent_token).await
            };
            let error = match outcome {
                Ok(response) => {
                    let now = SystemTime::now();
                    let hints = inner.hint_readers.iter().fold(
                        WaitHints::from_headers_over(
                            &response.headers,
                            now,
                            inner.rate_limit_window,
                        ),
                        |hints, read| hints.merge(read(&response.headers, now)),
                    );
                    inner.throttle.observe(&hints);
                    let status = response.status;
                    if status.is_success() {
                        return Ok(response);
                    }
                    // A 403 asks to wait only when the rate-limit headers say why: some APIs
                    // send a reset with every answer, and a plain 403 is a refusal.
                    let throttled = hints.exhausted || response.headers.contains_key(RETRY_AFTER);
                    let retry_after = hints
                        .retry_after
                        .filter(|_| status != StatusCode::FORBIDDEN || throttled);
                    let error = self
                        .status_error(parts, &url, &response, retries + 1, retry_after)
                        .await;
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        inner.counters.throttled();
                        if let Some(wait) = hints.retry_after {
                            inner.throttle.server_pause(wait);
                        }
                    }
                    let stale = match &sent_token {
                        Some(sent) if !refreshed => inner
                            .auth
                            .may_refresh(status.as_u16(), Some(sent))
                            .await
                            .then_some(sent),
                        _ => None,
                    };
                    if let Some(stale) = stale {
                        // A stale token is not a server fault: resend once with a
                        // fresh one without charging the retry limits.
                        refreshed = true;
                        inner.auth.refresh(stale).await.map_err(Error::Token)?;
                        tracing::info!(method = %parts.method, url = %url, status = status.as_u16(), "token renewed after rejection");
                        continue;
                    }
                    error
                }
                Err(error) => error,
            };
            let attempt = Attempt {
                error: &error,
                replay_safe,
                retries,
                elapsed: started.elapsed(),
            };
            let withdraw = || inner.budget.as_ref().is_none_or(|b| b.withdraw());
            let wait = match policy.decide(&attempt, &mut rand::rng(), withdraw) {
                Decision::Retry(wait) => wait,
                Decision::GiveUp(GiveUpReason::NotRetryable) => return Err(error),
                Decision::GiveUp(GiveUpReason::WaitTooLong(wait)) => {
                    return Err(Error::RateLimited {
                        method: parts.method.clone(),
                        url: url.to_string(),
                        retry_after: wait,
                        max_wait: policy.max_wait,
                    });
                }
                Decision::GiveUp(reason) => {
                    tracing::warn!(method = %parts.method, url = %url, attempts = retries + 1, %reason, "giving up");
                    return Err(error);
                }
            };
            retries += 1;
            inner.counters.retried();
            tracing::warn!(
                method = %parts.method,
                url = %url,
                status = error.status().map(|s| s.as_u16()),
                attempt = retries,
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    fn full_url(&self, parts: &RequestParts) -> Result<Url> {
        let mut url = self.url(&parts.path)?;
        if !parts.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&parts.query);
        }
        Ok(url)
    }

    async fn send_once(
        &self,
        parts: &RequestParts,
        url: &Url,
        sent_token: &mut Option<Secret>,
    ) -> Result<Response> {
        let inner = &*self.inner;
        let mut headers = parts.headers.clone();
        *sent_token = inner.auth.apply(&mut headers).await.map_err(Error::Token)?;
        let mut request = inner
            .http
            .request(parts.method.clone(), url.clone())
            .headers(headers);
        if let Some(body) = &parts.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transport = |e: reqwest::Error| self.transport_error(e, &parts.method, url);
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        Ok(Response {
            status,
            headers,
            url: url.to_string(),
            body,
            client: Some(self.clone()),
        })
    }

    fn transport_error(&self, e: reqwest::Error, method: &Method, url: &Url) -> Error {
        let (method, url) = (method.clone(), url.to_string());
        if e.is_timeout() {
            let after = self.inner.timeout.unwrap_or_default();
            Error::Timeout { method, url, after }
        } else if e.is_connect() {
            Error::Transport {
                method,
                url,
                kind: TransportKind::Connect,
                source: e.without_url(),
            }
        } else {
            Error::Transport {
                method,
                url,
                kind: TransportKind::Response,
                source: e.without_url(),
            }
        }
    }

    /// `text` with every secret this client sends replaced by `[redacted]`. Synchronous,
    /// so a provider token being refreshed at this instant is the one thing it can miss.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let auth = &self.inner.auth;
        let mut owned = auth.auth().redactions();
        owned.extend(auth.cached_secret_now().map(|s| s.expose().to_owned()));
        let secrets: Vec<&str> = owned.iter().map(String::as_str).collect();
        scrub(text, &secrets)
    }

    async fn status_error(
        &self,
        parts: &RequestParts,
        url: &Url,
        response: &Response,
        attempts: u32,
        retry_after: Option<Duration>,
    ) -> Error {
        let auth = &self.inner.auth;
        let cached = auth.cached_secret().await;
        let mut owned = auth.auth().redactions();
        owned.extend(cached.map(|s| s.expose().to_owned()));
        let secrets: Vec<&str> = owned.iter().map(String::as_str).collect();
        let messages = (self.inner.error_messages)(&response.body)
            .iter()
            .map(|m| scrub(m, &secrets))
            .collect();
        let credential = matches!(
            response.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        )
        .then(|| auth.auth().describe());
        Error::Status(Box::new(StatusError {
            method: parts.method.clone(),
            url: url.to_string(),
            status: response.status,
            body_snippet: scrubbed_snippet(&response.body, &secrets),
            messages,
            credential,
            attempts,
            retry_after,
        }))
    }
}

/// The first [`SNIPPET_BYTES`] of a body, scrubbed before it is cut: cutting first could
/// leave the start of a secret that straddled the cut, which scrubbing no longer matches.
fn scrubbed_snippet(body: &[u8], secrets: &[&str]) -> String {
    let longest = secrets.iter().map(|s| s.len()).max().unwrap_or(0);
    let text = scrub(&snippet(body, SNIPPET_BYTES + longest), secrets);
    let text = text.trim_end_matches('…');
    if text.len() <= SNIPPET_BYTES && body.len() <= SNIPPET_BYTES + longest {
        return text.to_owned();
    }
    let mut end = SNIPPET_BYTES.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The origin of `url` (`https://host:port`) for an error message: never its path or
/// query, where a credential could be.
pub(crate) fn origin(url: &str) -> String {
    Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "an unparsable URL".into())
}

fn closed() -> Error {
    Error::Config("the client's concurrency limiter was closed".into())
}

/// The messages of an error body in the shapes most APIs use: a top-level `message`,
/// `error` or `error_description` string, and `errors` as an array (of strings, or of
/// objects with a `message`) or an object of field → message.
///
/// ```
/// let body = br#"{"message":"Validation Failed","errors":[{"message":"name is taken"}]}"#;
/// assert_eq!(ocean_core::generic_error_messages(body), ["Validation Failed", "name is taken"]);
/// ```
pub fn generic_error_messages(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    let mut messages: Vec<String> = ["message", "error", "error_description"]
        .iter()
        .filter_map(|key| map.get(*key)?.as_str().map(str::to_owned))
        .collect();
    match map.get("errors") {
        Some(serde_json::Value::Array(list)) => messages.extend(list.iter().filter_map(|e| {
            e.as_str()
                .or_else(|| e.get("message")?.as_str())
                .map(str::to_owned)
        })),
        Some(serde_json::Value::Object(fields)) => messages.extend(
            fields
                .iter()
                .filter_map(|(k, v)| Some(format!("{k}: {}", v.as_str()?))),
        ),
        _ => {}
    }
    messages
}

/// One request, fully described, before sending.
#[derive(Debug, Clone)]
pub(crate) struct RequestParts {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Bytes>,
    /// `Some(true)` opts a non-idempotent request into retries (e.g. a search `POST`).
    pub(crate) replay_safe: Option<bool>,
    pub(crate) headers: HeaderMap,
    pub(crate) error: Option<String>,
}

/// A request being prepared; [`Request::send`] runs it through the client's request path.
///
/// ```no_run
/// # async fn run(client: ocean_core::Client) -> ocean_core::Result<()> {
/// let me: serde_json::Value = client.get("/rest/api/3/myself").send().await?.json()?;
/// let created = client
///     .post("/rest/api/3/search/jql")
///     .json(&serde_json::json!({"jql": "project = X", "maxResults": 1}))
///     .retryable(true) // a read, safe to send twice
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until sent"]
pub struct Request {
    client: Client,
    parts: RequestParts,
}

impl Request {
    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl fmt::Display) -> Self {
        self.parts.query.push((name.into(), value.to_string()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.parts.body = Some(bytes.into()),
            Err(e) => self.parts.error = Some(format!("request body is not JSON: {e}")),
        }
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.parts.headers.insert(name, value);
            }
            _ => self.parts.error = Some(format!("invalid header `{name}`")),
        }
        self
    }

    /// Marks a non-idempotent request as safe to send again (a read over `POST`),
    /// or an idempotent one as unsafe.
    pub fn retryable(mut self, safe: bool) -> Self {
        self.parts.replay_safe = Some(safe);
        self
    }

    /// Sends the request; a non-success status is an [`Error::Status`].
    pub async fn send(self) -> Result<Response> {
        self.client.execute(&self.parts).await
    }

    /// Sends the request; a `404 Not Found` or `410 Gone` answer (what was asked for is not
    /// there, or no longer) is `Ok(None)`, any other failure an error.
    pub async fn send_if_found(self) -> Result<Option<Response>> {
        match self.send().await {
            Ok(response) => Ok(Some(response)),
            Err(e)
                if e.status()
                    .is_some_and(|s| [StatusCode::NOT_FOUND, StatusCode::GONE].contains(&s)) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// [`send_if_found`](Self::send_if_found), decoding the JSON answer (as a
    /// [`RawItem`](crate::RawItem) to keep the bytes as sent).
    pub async fn send_json_if_found<T: DeserializeOwned>(self) -> Result<Option<T>> {
        self.send_if_found().await?.map(|r| r.json()).transpose()
    }

    /// Sends the request and decodes the JSON answer.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        self.send().await?.json()
    }
}

/// Declares the transport setters of [`ClientBuilder`] on a provider's builder, forwarding
/// each to the builder's `ClientBuilder` field, so every builder speaks one vocabulary and
/// none re-implements it (serde's `forward_to_deserialize_any!` pattern).
///
/// ```
/// use ocean_core::{Client, ClientBuilder};
/// pub struct AcmeClientBuilder { core: ClientBuilder, page_size: u32 }
/// impl AcmeClientBuilder {
///     ocean_core::forward_transport_setters!(core);
/// }
/// let acme = AcmeClientBuilder { core: Client::builder("https://acme.example"), page_size: 50 }
///     .max_concurrency(4)
///     .rate_limit(Some(10.0));
/// assert!(acme.core.build().is_ok());
/// ```
#[macro_export]
macro_rules! forward_transport_setters {
    ($core:ident) => {
        /// Requests in flight at once.
        pub fn max_concurrency(mut self, n: usize) -> Self {
            self.$core = self.$core.max_concurrency(n);
            self
        }

        /// The retry policy.
        pub fn retry(mut self, policy: $crate::RetryPolicy) -> Self {
            self.$core = self.$core.retry(policy);
            self
        }

        /// A client-side limit in requests per second (default: none; the server's
        /// `Retry-After` and rate-limit headers are honoured either way).
        pub fn rate_limit(mut self, per_second: ::core::option::Option<f64>) -> Self {
            self.$core = self.$core.rate_limit(per_second);
            self
        }

        /// The timeout of one attempt, body included (`None` = none).
        pub fn timeout(mut self, timeout: ::core::option::Option<::core::time::Duration>) -> Self {
            self.$core = self.$core.timeout(timeout);
            self
        }

        /// The connect timeout (`None` = the operating system's).
        pub fn connect_timeout(
            mut self,
            timeout: ::core::option::Option<::core::time::Duration>,
        ) -> Self {
            self.$core = self.$core.connect_timeout(timeout);
            self
        }

        /// Whether requests pace themselves on the server's rate-limit headers (default on).
        pub fn adaptive_pacing(mut self, on: bool) -> Self {
            self.$core = self.$core.adaptive_pacing(on);
            self
        }
    };
}

#[cfg(test)]
mod snippet_tests {
    use super::*;

    #[test]
    fn a_secret_straddling_the_cut_is_scrubbed_whole() {
        let secret = "s3cret-token-value";
        let body = format!(
            "{}{secret}{}",
            "a".repeat(SNIPPET_BYTES - 5),
            "b".repeat(100)
        );
        let text = scrubbed_snippet(body.as_bytes(), &[secret]);
        assert!(!text.contains("s3cre"), "{text}");
        assert!(
            text.ends_with('…') && text.len() <= SNIPPET_BYTES + 3,
            "{text}"
        );
        assert_eq!(scrubbed_snippet(b"short body", &[secret]), "short body");
    }
}
