//! The Octopus client: construction, the typed per-space list requests, and
//! single-document reads. Every request goes through [`ocean_core::Client`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ocean_core::reqwest::StatusCode;
use ocean_core::{
    Auth, Client, ClientBuilder, Error, ListRequest, RawItem, Result, Secret, path_segment,
};

use crate::OctopusKind;
use crate::kinds::{SPACE_PARAM, SpaceScoped};
use crate::models::{Deployment, Environment, Machine, Project, Release, Space};

/// The header Octopus reads the API key from.
pub const API_KEY_HEADER: &str = "X-Octopus-ApiKey";

/// Ocean's client timeout for Octopus, kept as our default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Ocean's page size for Octopus.
const DEFAULT_PAGE_SIZE: u32 = 50;
/// Spaces streamed at once (Ocean: unbounded).
const DEFAULT_SPACE_CONCURRENCY: usize = 4;
/// Releases and deployments read per space (Ocean: "100", really 150, not configurable).
const DEFAULT_MAX_ITEMS_PER_SPACE: u64 = 1000;

/// Builds an [`OctopusClient`].
///
/// ```
/// use std::time::Duration;
/// use ocean_core::RetryPolicy;
/// use ocean_octopus::OctopusClient;
/// let client = OctopusClient::builder("https://octopus.example.com/")
///     .api_key("API-0123456789ABCDEF")
///     .max_concurrency(8)
///     .retry(RetryPolicy::default().max_retries(3))
///     .rate_limit(Some(3.0))
///     .timeout(Some(Duration::from_secs(30)))
///     .page_size(100)
///     .space_concurrency(2)
///     .max_items_per_space(Some(500))
///     .build()
///     .unwrap();
/// assert_eq!(client.core().base_url(), "https://octopus.example.com/api");
/// assert_eq!(client.max_items_per_space(), Some(500));
/// ```
#[must_use]
pub struct OctopusClientBuilder {
    server_url: String,
    api_key: Option<Secret>,
    core: ClientBuilder,
    settings: Settings,
}

impl fmt::Debug for OctopusClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OctopusClientBuilder")
            .field("server_url", &self.server_url)
            .field("api_key", &self.api_key)
            .field("core", &self.core)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl OctopusClientBuilder {
    /// The API key, sent as `X-Octopus-ApiKey` (required).
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    // Transport: max_concurrency (default 10, across all spaces), retry (default
    // `RetryPolicy::default()`), rate_limit (Octopus 2026.3+ limits 200 requests a minute
    // per user when enabled; the client paces itself on `Octopus-RateLimit` headers),
    // timeout (default 60 s, like Ocean), connect_timeout, adaptive_pacing.
    ocean_core::forward_transport_setters!(core);

    /// Items asked for per page (default 50, like Ocean; Octopus has no server cap).
    pub fn page_size(mut self, size: u32) -> Self {
        self.settings.page_size = size.max(1);
        self
    }

    /// Spaces streamed at once when a kind is listed across all spaces (default 4).
    pub fn space_concurrency(mut self, n: usize) -> Self {
        self.settings.space_concurrency = n.max(1);
        self
    }

    /// The most releases and deployments read per space, newest first (default
    /// `Some(1000)`; `None` reads every one). The stream stops exactly at the cap,
    /// with a warning, and never requests a page beyond it.
    pub fn max_items_per_space(mut self, max: Option<u64>) -> Self {
        self.settings.max_items_per_space = max;
        self
    }

    /// Builds the client. Fails without an API key, or on a bad server URL.
    pub fn build(self) -> Result<OctopusClient> {
        let key = self
            .api_key
            .ok_or_else(|| Error::Config("an Octopus API key is required".into()))?;
        let base = format!("{}/api", self.server_url.trim().trim_end_matches('/'));
        let core = self
            .core
            .base_url(base)
            .auth(Auth::api_key(API_KEY_HEADER, key)?)
            .build()?;
        Ok(OctopusClient {
            core,
            settings: Arc::new(self.settings),
        })
    }
}

/// What the Octopus layer adds on top of the core client's settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) page_size: u32,
    pub(crate) space_concurrency: usize,
    pub(crate) max_items_per_space: Option<u64>,
}

/// A client for one Octopus Deploy server: cheap to clone, every clone sharing
/// one connection pool, concurrency limit and pacing state.
///
/// Three ways to read:
/// * typed, one space: [`projects`](Self::projects), [`releases`](Self::releases), … return
///   [`ListRequest`]s to stream;
/// * typed, every space: [`all`](Self::all) (e.g. `all::<Project>()`) yields `(space_id, item)`;
/// * lossless: [`sync`](Self::sync) yields [`Record`](ocean_core::Record)s holding each
///   document's bytes untouched, tagged with their space.
///
/// `Debug` never shows the API key.
#[derive(Clone)]
pub struct OctopusClient {
    pub(crate) core: Client,
    pub(crate) settings: Arc<Settings>,
}

impl fmt::Debug for OctopusClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OctopusClient")
            .field("core", &self.core)
            .field("settings", &self.settings)
            .finish()
    }
}

impl OctopusClient {
    /// A client for the server at `server_url` (e.g. `https://x.octopus.app`, or with a
    /// virtual directory), with every other setting at its default.
    pub fn new(server_url: &str, api_key: impl Into<Secret>) -> Result<Self> {
        Self::builder(server_url).api_key(api_key).build()
    }

    /// Starts building a client for the server at `server_url`.
    pub fn builder(server_url: &str) -> OctopusClientBuilder {
        OctopusClientBuilder {
            server_url: server_url.to_owned(),
            api_key: None,
            core: Client::builder(server_url)
                .timeout(Some(DEFAULT_TIMEOUT))
                .error_messages(error_messages)
                .rate_limit_headers(crate::rate_limit_hints),
            settings: Settings {
                page_size: DEFAULT_PAGE_SIZE,
                space_concurrency: DEFAULT_SPACE_CONCURRENCY,
                max_items_per_space: Some(DEFAULT_MAX_ITEMS_PER_SPACE),
            },
        }
    }

    /// The core client, for requests this crate has no method for.
    ///
    /// Its base URL ends in `/api`, so paths are relative to it: `core().get("/tasks")`.
    pub fn core(&self) -> &Client {
        &self.core
    }

    /// The page size asked for.
    pub fn page_size(&self) -> u32 {
        self.settings.page_size
    }

    /// Spaces streamed at once.
    pub fn space_concurrency(&self) -> usize {
        self.settings.space_concurrency
    }

    /// The cap on releases and deployments per space.
    pub fn max_items_per_space(&self) -> Option<u64> {
        self.settings.max_items_per_space
    }

    /// Every space (`GET /api/spaces`).
    pub fn spaces(&self) -> ListRequest<Space> {
        Space::list(&self.core).page_size(self.settings.page_size)
    }

    /// The items of any [`SpaceScoped`] kind in one space, with the client's page size
    /// and, for capped kinds, its per-space cap.
    pub fn in_space<T: SpaceScoped>(&self, space_id: &str) -> ListRequest<T> {
        let request = ListRequest::<T>::new(&self.core, T::endpoint())
            .path_param(SPACE_PARAM, space_id)
            .page_size(self.settings.page_size);
        if T::CAPPED {
            request.max_items(self.settings.max_items_per_space)
        } else {
            request
        }
    }

    /// The projects of one space.
    pub fn projects(&self, space_id: &str) -> ListRequest<Project> {
        self.in_space(space_id)
    }

    /// The releases of one space, newest first, capped at [`max_items_per_space`](Self::max_items_per_space).
    pub fn releases(&self, space_id: &str) -> ListRequest<Release> {
        self.in_space(space_id)
    }

    /// The deployments of one space, newest first, capped at [`max_items_per_space`](Self::max_items_per_space).
    pub fn deployments(&self, space_id: &str) -> ListRequest<Deployment> {
        self.in_space(space_id)
    }

    /// The deployment targets of one space.
    pub fn machines(&self, space_id: &str) -> ListRequest<Machine> {
        self.in_space(space_id)
    }

    /// The environments of one space.
    pub fn environments(&self, space_id: &str) -> ListRequest<Environment> {
        self.in_space(space_id)
    }

    /// One document, as sent: `GET /api/spaces/{id}` for a space, otherwise
    /// `GET /api/{space_id}/{plural}/{id}` (an empty `space_id` addresses the
    /// server's default space). `Ok(None)` when the server answers 404.
    ///
    /// ```no_run
    /// # async fn run(client: ocean_octopus::OctopusClient) -> ocean_core::Result<()> {
    /// use ocean_octopus::OctopusKind;
    /// if let Some(raw) = client.fetch_one(OctopusKind::Deployment, "Spaces-1", "Deployments-7").await? {
    ///     println!("{}", raw.get());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch_one(
        &self,
        kind: OctopusKind,
        space_id: &str,
        id: &str,
    ) -> Result<Option<RawItem>> {
        let path = document_path(kind, space_id, id)?;
        match self.core.get(path).send().await {
            Ok(response) => response.json::<RawItem>().map(Some),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The path of one document, every segment checked or percent-encoded so an
/// id from a webhook body cannot reach another endpoint.
fn document_path(kind: OctopusKind, space_id: &str, id: &str) -> Result<String> {
    if id.is_empty() {
        return Err(Error::Config(format!("an empty {kind} id")));
    }
    let id = path_segment(id);
    Ok(match kind {
        OctopusKind::Space => format!("/spaces/{id}"),
        _ if space_id.is_empty() => format!("/{}/{id}", kind.plural()),
        _ => format!("/{}/{}/{id}", path_segment(space_id), kind.plural()),
    })
}

/// The messages of an Octopus error body: `ErrorMessage`, then each of `Errors`.
///
/// ```
/// let body = br#"{"ErrorMessage":"There was a problem with your request.","Errors":["Name is required"]}"#;
/// assert_eq!(
///     ocean_octopus::error_messages(body),
///     ["There was a problem with your request.", "Name is required"]
/// );
/// ```
pub fn error_messages(body: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    let mut messages: Vec<String> = map
        .get("ErrorMessage")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let Some(serde_json::Value::Array(list)) = map.get("Errors") {
        messages.extend(list.iter().filter_map(|m| m.as_str().map(str::to_owned)));
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_paths_follow_the_api_layout() {
        let path = |k, s, i| document_path(k, s, i).unwrap();
        assert_eq!(
            path(OctopusKind::Space, "ignored", "Spaces-2"),
            "/spaces/Spaces-2"
        );
        assert_eq!(
            path(OctopusKind::Project, "Spaces-1", "Projects-1"),
            "/Spaces-1/projects/Projects-1"
        );
        assert_eq!(
            path(OctopusKind::Machine, "", "Machines-4"),
            "/machines/Machines-4",
            "no space: the server's default space"
        );
        assert_eq!(
            path(OctopusKind::Release, "Spaces-1", "../tasks?x=1"),
            "/Spaces-1/releases/..%2Ftasks%3Fx%3D1"
        );
        assert!(document_path(OctopusKind::Release, "Spaces-1", "").is_err());
    }

    #[test]
    fn the_base_url_ends_in_api_and_the_key_is_required() {
        let client = OctopusClient::new("https://x.octopus.app/", "API-KEY123").unwrap();
        assert_eq!(client.core().base_url(), "https://x.octopus.app/api");
        assert_eq!(
            client.core().url("spaces").unwrap().as_str(),
            "https://x.octopus.app/api/spaces"
        );
        let virtual_dir =
            OctopusClient::new("https://h.example.com/octopus", "API-KEY123").unwrap();
        assert_eq!(
            virtual_dir.core().base_url(),
            "https://h.example.com/octopus/api"
        );
        assert_eq!(
            (
                client.page_size(),
                client.space_concurrency(),
                client.max_items_per_space()
            ),
            (50, 4, Some(1000))
        );

        let err = OctopusClient::builder("https://x.octopus.app")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("API key is required"), "{err}");
        assert!(OctopusClient::new("ftp://x", "API-KEY123").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = OctopusClient::new("https://x.octopus.app", "API-SECRETKEY").unwrap();
        assert!(!format!("{client:?}").contains("API-SECRETKEY"));
        let builder = OctopusClient::builder("https://x.octopus.app").api_key("API-SECRETKEY");
        assert!(!format!("{builder:?}").contains("API-SECRETKEY"));
    }
}
