//! The Jira client: construction, the typed list requests and the single-item getters.

use std::fmt;
use std::time::Duration;

use ocean_core::{
    Auth, Client, ClientBuilder, ListRequest, RawItem, Secret, TokenProvider, path_segment,
};
use serde::de::DeserializeOwned;

use crate::classify::is_not_found;
use crate::deployment::Deployment;
use crate::models::{Board, Component, Epic, Issue, Project, Release, Sprint, User, Worklog};
use crate::sync::SyncOptions;
use crate::{JiraKind, classify};

/// The default Atlassian API gateway OAuth 2.0 (3LO) requests go through.
pub const ATLASSIAN_API_GATEWAY: &str = "https://api.atlassian.com";

/// The `expand` the project list asks for unless told otherwise (Ocean's default).
pub const DEFAULT_PROJECT_EXPAND: &str = "insight";

/// Builds a [`JiraClient`].
///
/// ```
/// use std::time::Duration;
/// use ocean_jira::JiraClient;
/// let jira = JiraClient::builder("https://example.atlassian.net")
///     .basic("me@example.com", "api-token")
///     .max_concurrency(4)
///     .page_size(100)
///     .fan_out(3)
///     .timeout(Some(Duration::from_secs(10)))
///     .build()
///     .unwrap();
/// assert_eq!(jira.core().base_url(), "https://example.atlassian.net");
/// ```
#[must_use]
pub struct JiraClientBuilder {
    site: String,
    auth: Auth,
    cloud_id: Option<String>,
    gateway: String,
    core: ClientBuilder,
    page_size: u32,
    fan_out: usize,
    deployment: Deployment,
}

impl JiraClientBuilder {
    /// Cloud (the default) or Data Center / Server: which paths the lists use. Find out with
    /// [`Deployment::detect`], or [`JiraClient::detect_deployment`].
    pub fn deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = deployment;
        self
    }

    /// Basic authentication: an Atlassian account e-mail and API token (Cloud), or a
    /// user name and password (Data Center).
    pub fn basic(mut self, email: &str, token: impl Into<Secret>) -> Self {
        self.auth = Auth::basic(email, token);
        self.cloud_id = None;
        self
    }

    /// A Data Center personal access token, sent as `Authorization: Bearer <pat>`.
    pub fn bearer(mut self, pat: impl Into<Secret>) -> Self {
        self.auth = Auth::bearer(pat);
        self.cloud_id = None;
        self
    }

    /// OAuth 2.0 (3LO): bearer tokens from `provider`, refreshed once after a `401`.
    /// Requests go to `https://api.atlassian.com/ex/jira/{cloud_id}` instead of the site URL.
    pub fn oauth(mut self, cloud_id: &str, provider: impl TokenProvider) -> Self {
        self.auth = Auth::provider(provider);
        self.cloud_id = Some(cloud_id.trim().to_owned());
        self
    }

    /// The API gateway of OAuth requests (default [`ATLASSIAN_API_GATEWAY`]); for proxies
    /// and tests.
    pub fn api_gateway(mut self, url: &str) -> Self {
        self.gateway = url.trim_end_matches('/').to_owned();
        self
    }

    // Transport: max_concurrency (default 10, Ocean's), retry (default
    // `ocean_jira::retry_policy()`, Atlassian's documented policy), rate_limit, timeout (default
    // 30 s, as Ocean's Jira client), connect_timeout, adaptive_pacing.
    ocean_core::forward_transport_setters!(core);

    /// The page size every list asks for (default 50; Jira clamps some endpoints, e.g.
    /// projects to 100, and the streams follow what it returns).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// How many parents' children are streamed at once in a fan-out (sprints of boards,
    /// releases of projects, worklogs of issues; default 5).
    pub fn fan_out(mut self, parents: usize) -> Self {
        self.fan_out = parents.max(1);
        self
    }

    /// Builds the client. Fails on a bad URL or an empty OAuth cloud id.
    pub fn build(self) -> ocean_core::Result<JiraClient> {
        let base = match &self.cloud_id {
            Some(id)
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                return Err(ocean_core::Error::Config(format!(
                    "`{id}` is not an Atlassian cloud id (expected letters, digits and dashes)"
                )));
            }
            Some(id) => format!("{}/ex/jira/{id}", self.gateway),
            None => self.site.clone(),
        };
        let core = self
            .core
            .base_url(base)
            .auth(self.auth)
            .user_agent(concat!("ocean-jira/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(JiraClient {
            core,
            site: self.site.trim_end_matches('/').to_owned(),
            page_size: self.page_size,
            fan_out: self.fan_out,
            deployment: self.deployment,
        })
    }
}

/// A Jira Cloud or Data Center client: typed lists and getters, the lossless
/// [`sync`](JiraClient::sync) path, webhook registration. Cheap to clone; clones share
/// one connection pool, concurrency limit and pacing state.
#[derive(Clone)]
pub struct JiraClient {
    pub(crate) core: Client,
    site: String,
    pub(crate) page_size: u32,
    pub(crate) fan_out: usize,
    pub(crate) deployment: Deployment,
}

impl fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraClient")
            .field("core", &self.core)
            .field("page_size", &self.page_size)
            .field("fan_out", &self.fan_out)
            .field("deployment", &self.deployment)
            .finish()
    }
}

impl JiraClient {
    /// A client for the site at `url` with Basic authentication (e-mail and API token)
    /// and every default.
    pub fn new(url: &str, email: &str, token: impl Into<Secret>) -> ocean_core::Result<Self> {
        Self::builder(url).basic(email, token).build()
    }

    /// Starts building a client for the site at `url` (`https://x.atlassian.net` or a Data
    /// Center base URL).
    pub fn builder(url: &str) -> JiraClientBuilder {
        JiraClientBuilder {
            site: url.trim().to_owned(),
            auth: Auth::None,
            cloud_id: None,
            gateway: ATLASSIAN_API_GATEWAY.to_owned(),
            core: Client::builder(url.trim())
                .max_concurrency(10)
                .retry(crate::retry_policy())
                .error_messages(crate::error_messages)
                .timeout(Some(Duration::from_secs(30))),
            page_size: 50,
            fan_out: 5,
            deployment: Deployment::Cloud,
        }
    }

    /// The underlying ocean-core client, for requests this crate has no method for.
    pub fn core(&self) -> &Client {
        &self.core
    }

    /// The site URL the client was built with (the requests' base differs under OAuth).
    pub fn site_url(&self) -> &str {
        &self.site
    }

    /// Cloud or Data Center, as built.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// This client with `deployment` instead (same connection pool and pacing).
    #[must_use]
    pub fn with_deployment(mut self, deployment: Deployment) -> Self {
        self.deployment = deployment;
        self
    }

    /// Asks the site which deployment it is (`GET /rest/api/2/serverInfo`).
    ///
    /// # Errors
    ///
    /// The request failed, or the answer has no `deploymentType`.
    pub async fn detect_deployment(&self) -> ocean_core::Result<Deployment> {
        Deployment::detect(&self.core).await
    }

    /// True when the client authenticates with OAuth 2.0 (a token provider).
    pub fn is_oauth(&self) -> bool {
        matches!(self.core.auth(), Auth::Provider(_))
    }

    fn list<T>(&self, request: ListRequest<T>) -> ListRequest<T> {
        request.page_size(self.page_size)
    }

    /// `T`'s list on this client's deployment (Data Center paths differ from Cloud's).
    fn deployed<T: ocean_core::Resource>(&self) -> ListRequest<T> {
        self.list(ListRequest::new(
            &self.core,
            self.deployment.endpoint::<T>(),
        ))
    }

    /// Every project the credentials can browse, with `expand=insight`.
    ///
    /// For another `expand`, start from `Project::list(jira.core())`.
    pub fn projects(&self) -> ListRequest<Project> {
        self.deployed::<Project>()
            .query("expand", DEFAULT_PROJECT_EXPAND)
    }

    /// Every issue matching `jql`, with every field (`fields: ["*all"]`).
    ///
    /// Override the body with `.body("fields", […])` or `.body("expand", "changelog")`.
    /// The JQL must be bounded (Jira rejects e.g. a lone `order by`).
    pub fn issues(&self, jql: &str) -> ListRequest<Issue> {
        self.deployed::<Issue>()
            .body("jql", jql)
            .body("fields", ["*all"])
    }

    /// Every user, active or not (a bare array, paged until an empty page). Cloud only: Data
    /// Center users have no `accountId`; sync them with [`JiraKind::User`] instead.
    pub fn users(&self) -> ListRequest<User> {
        self.list(User::list(&self.core))
    }

    /// Every agile board; add `.query("type", "scrum")` or `.query("projectKeyOrId", "EX")`
    /// to narrow.
    pub fn boards(&self) -> ListRequest<Board> {
        self.list(Board::list(&self.core))
    }

    /// Every sprint of a board, in every state; add `.query("state", "active,future")` to
    /// narrow.
    pub fn sprints(&self, board_id: u64) -> ListRequest<Sprint> {
        self.list(Sprint::list(&self.core, board_id))
    }

    /// Every epic of a board; add `.query("done", false)` for the open ones.
    pub fn epics(&self, board_id: u64) -> ListRequest<Epic> {
        self.list(Epic::list(&self.core, board_id))
    }

    /// Every release (version) of a project.
    pub fn releases(&self, project_key: &str) -> ListRequest<Release> {
        self.deployed::<Release>()
            .path_param("project_key", project_key)
    }

    /// Every component of a project.
    pub fn components(&self, project_key: &str) -> ListRequest<Component> {
        self.deployed::<Component>()
            .path_param("project_key", project_key)
    }

    /// Every worklog of an issue; add `.query("startedAfter", epoch_ms)` to narrow.
    pub fn worklogs(&self, issue_key: &str) -> ListRequest<Worklog> {
        self.deployed::<Worklog>()
            .path_param("issue_key", issue_key)
    }

    /// `GET` one item; `path` is Cloud's, moved to `/rest/api/2` on Data Center.
    async fn get_one<T: DeserializeOwned>(&self, path: String) -> ocean_core::Result<T> {
        self.core
            .get(self.deployment.platform_path(&path))
            .send_json()
            .await
    }

    /// One project by key or id.
    pub async fn project(&self, key: &str) -> ocean_core::Result<Project> {
        self.get_one(format!("/rest/api/3/project/{}", path_segment(key)))
            .await
    }

    /// One issue by key or id, with every field.
    pub async fn issue(&self, key: &str) -> ocean_core::Result<Issue> {
        self.get_one(format!("/rest/api/3/issue/{}", path_segment(key)))
            .await
    }

    /// One user by account id.
    pub async fn user(&self, account_id: &str) -> ocean_core::Result<User> {
        self.core
            .get("/rest/api/3/user")
            .query("accountId", account_id)
            .send_json()
            .await
    }

    /// One release (version) by id.
    pub async fn version(&self, id: &str) -> ocean_core::Result<Release> {
        self.get_one(format!("/rest/api/3/version/{}", path_segment(id)))
            .await
    }

    /// One component by id.
    pub async fn component(&self, id: &str) -> ocean_core::Result<Component> {
        self.get_one(format!("/rest/api/3/component/{}", path_segment(id)))
            .await
    }

    /// One board by id.
    pub async fn board(&self, id: u64) -> ocean_core::Result<Board> {
        self.get_one(format!("/rest/agile/1.0/board/{id}")).await
    }

    /// One sprint by id.
    pub async fn sprint(&self, id: u64) -> ocean_core::Result<Sprint> {
        self.get_one(format!("/rest/agile/1.0/sprint/{id}")).await
    }

    /// One epic by id or key.
    pub async fn epic(&self, id_or_key: &str) -> ocean_core::Result<Epic> {
        self.get_one(format!("/rest/agile/1.0/epic/{}", path_segment(id_or_key)))
            .await
    }

    /// One worklog of an issue.
    pub async fn worklog(&self, issue_key: &str, id: &str) -> ocean_core::Result<Worklog> {
        self.get_one(format!(
            "/rest/api/3/issue/{}/worklog/{}",
            path_segment(issue_key),
            path_segment(id)
        ))
        .await
    }

    /// Fetches one item again, as the server's exact JSON, for a webhook upsert;
    /// `Ok(None)` when it is gone (`404`).
    ///
    /// `id` is what [`JiraEvent`](crate::events::JiraEvent) reports: an issue key or id, a
    /// project key or id, an account id, a numeric id otherwise. Issues go through the
    /// search (`POST /rest/api/3/search/jql`, `key = "<id>"`) rather than `GET issue`, so
    /// that they have the sync's shape; a numeric issue id is also sent as
    /// `reconcileIssues`, which makes the search see a change made a moment ago. Worklogs
    /// are read with `POST /rest/api/3/worklog/list`, which needs no issue.
    ///
    /// On Data Center the same resources are read under `/rest/api/2` (issues through
    /// `POST /rest/api/2/search`), and a user by its `key` (`GET /rest/api/2/user?key=`).
    pub async fn fetch_one(&self, kind: JiraKind, id: &str) -> ocean_core::Result<Option<RawItem>> {
        let path = match kind {
            JiraKind::Issue => {
                let reconcile = id.trim().parse().ok();
                return self
                    .search_issue(id, reconcile, None, &["*all"], None)
                    .await;
            }
            JiraKind::Worklog => return self.fetch_worklog(id).await,
            JiraKind::User => {
                // Data Center users have a `key` where Cloud ones have an `accountId`.
                let request = match self.deployment {
                    Deployment::Cloud => self.core.get("/rest/api/3/user").query("accountId", id),
                    Deployment::DataCenter => self.core.get("/rest/api/2/user").query("key", id),
                };
                return found(request.send().await);
            }
            JiraKind::Project => format!("/rest/api/3/project/{}", path_segment(id)),
            JiraKind::Board => format!("/rest/agile/1.0/board/{}", path_segment(id)),
            JiraKind::Sprint => format!("/rest/agile/1.0/sprint/{}", path_segment(id)),
            JiraKind::Epic => format!("/rest/agile/1.0/epic/{}", path_segment(id)),
            JiraKind::Release => format!("/rest/api/3/version/{}", path_segment(id)),
            JiraKind::Component => format!("/rest/api/3/component/{}", path_segment(id)),
            // Jira sends no events for these (nor does Ocean fetch them one by one).
            JiraKind::Team | JiraKind::Backlog => {
                return Err(ocean_core::Error::Config(format!(
                    "a single {kind} cannot be fetched; sync the kind instead"
                )));
            }
        };
        found(
            self.core
                .get(self.deployment.platform_path(&path))
                .send()
                .await,
        )
    }

    /// Fetches one issue through the search, scoped by the options' JQL (the default JQL
    /// when `options.jql` is `None`), with the options' `fields` and `expand`: `Ok(None)`
    /// when the issue is gone *or no longer matches the JQL*, as Ocean treats it.
    ///
    /// `reconcile_id` (the numeric issue id, e.g. from the webhook) is sent as
    /// `reconcileIssues` for read-after-write consistency.
    pub async fn fetch_issue(
        &self,
        key: &str,
        reconcile_id: Option<u64>,
        options: &SyncOptions,
    ) -> ocean_core::Result<Option<RawItem>> {
        let scope = options.effective_jql();
        let expand = options.expand.as_deref();
        self.search_issue(key, reconcile_id, Some(scope), &options.fields, expand)
            .await
    }

    /// `POST search/jql` for one issue, by key or id, optionally within a JQL scope.
    async fn search_issue(
        &self,
        key: &str,
        reconcile_id: Option<u64>,
        scope: Option<&str>,
        fields: &[impl serde::Serialize],
        expand: Option<&str>,
    ) -> ocean_core::Result<Option<RawItem>> {
        #[derive(serde::Deserialize)]
        struct Found {
            issues: Vec<RawItem>,
        }
        let by_key = format!("key = {}", jql_string(key.trim()));
        let jql = match scope {
            Some(scope) => format!("({scope}) AND {by_key}"),
            None => by_key,
        };
        let mut body = serde_json::json!({
            "jql": jql,
            "fields": fields,
            "maxResults": 1,
        });
        if let Some(expand) = expand {
            body["expand"] = expand.into();
        }
        // Data Center searches offset-paged `/rest/api/2/search`, always consistent, without
        // `reconcileIssues`.
        let path = match self.deployment {
            Deployment::Cloud => {
                if let Some(id) = reconcile_id {
                    body["reconcileIssues"] = serde_json::json!([id]);
                }
                "/rest/api/3/search/jql"
            }
            Deployment::DataCenter => "/rest/api/2/search",
        };
        let request = self.core.post(path).json(&body).retryable(true);
        match request.send_json::<Found>().await {
            Ok(found) => Ok(found.issues.into_iter().next()),
            Err(e) if is_not_found(&e) || classify::is_unknown_issue_key(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn fetch_worklog(&self, id: &str) -> ocean_core::Result<Option<RawItem>> {
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| ocean_core::Error::Config(format!("worklog id `{id}` is not a number")))?;
        let request = self
            .core
            .post(self.deployment.platform_path("/rest/api/3/worklog/list"))
            .json(&serde_json::json!({ "ids": [id] }))
            .retryable(true);
        match request.send_json::<Vec<RawItem>>().await {
            Ok(found) => Ok(found.into_iter().next()),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The raw body of a single-item answer; `None` on `404`.
fn found(
    response: ocean_core::Result<ocean_core::Response>,
) -> ocean_core::Result<Option<RawItem>> {
    match response {
        Ok(response) => response.json().map(Some),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A JQL string literal: `"ED-1"`, with quotes and backslashes escaped, so a value from a
/// webhook cannot change the query.
pub(crate) fn jql_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_strings_are_quoted_and_escaped() {
        assert_eq!(jql_string("ED-1"), r#""ED-1""#);
        assert_eq!(
            jql_string(r#"X" OR key != "Y\"#),
            r#""X\" OR key != \"Y\\""#
        );
    }

    #[test]
    fn oauth_needs_a_plausible_cloud_id() {
        struct Never;
        impl TokenProvider for Never {
            fn token(
                &self,
            ) -> futures::future::BoxFuture<'_, Result<Secret, ocean_core::TokenError>>
            {
                Box::pin(async { Err("no token".into()) })
            }
            fn refresh(
                &self,
            ) -> futures::future::BoxFuture<'_, Result<Secret, ocean_core::TokenError>>
            {
                self.token()
            }
        }
        let err = JiraClient::builder("https://x.atlassian.net")
            .oauth("../evil", Never)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("cloud id"), "{err}");
        let jira = JiraClient::builder("https://x.atlassian.net")
            .oauth("11223344-a1b2-3b33-c444-def123456789", Never)
            .build()
            .unwrap();
        assert_eq!(
            jira.core().base_url(),
            "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789"
        );
        assert!(jira.is_oauth());
        assert_eq!(jira.site_url(), "https://x.atlassian.net");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let jira = JiraClient::new("https://x.atlassian.net", "me@x.com", "tok-secret-1").unwrap();
        let shown = format!("{jira:?}");
        assert!(
            !shown.contains("tok-secret-1") && shown.contains("me@x.com"),
            "{shown}"
        );
    }
}
