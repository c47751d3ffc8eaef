//! The four kinds, declared by attribute: the fields most callers read, typed; every
//! other field kept in `extra`, so nothing GitHub sends is lost.
//!
//! Every kind is identified by its `url`, the API URL GitHub gives each object: it is
//! unique across repositories, and [`Provider::fetch_one`](ocean_core::Provider::fetch_one)
//! fetches the object again from it (the REST API cannot fetch an issue by its numeric `id`).

use ocean_core::Resource;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A repository of an organisation (`GET /orgs/{org}/repos`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(kind = "repository", path = "/orgs/{org}/repos")]
#[resource(paginate = link_header, page_size = 100, id = "url")]
pub struct Repository {
    /// Its API URL.
    pub url: String,
    /// `hello-world`.
    pub name: String,
    /// `octo-org/hello-world`.
    pub full_name: String,
    /// Whether it is archived (read-only).
    #[serde(default)]
    pub archived: bool,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An issue of a repository, open or closed (`GET /repos/{owner}/{repo}/issues`).
/// GitHub lists pull requests among them, with a `pull_request` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "issue",
    path = "/repos/{owner}/{repo}/issues",
    query(state = "all")
)]
#[resource(paginate = link_header, page_size = 100, id = "url")]
pub struct Issue {
    /// Its API URL.
    pub url: String,
    /// Its number in the repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// Present when the issue is a pull request.
    pub pull_request: Option<Value>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A pull request of a repository, open or closed (`GET /repos/{owner}/{repo}/pulls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(
    kind = "pull_request",
    path = "/repos/{owner}/{repo}/pulls",
    query(state = "all")
)]
#[resource(paginate = link_header, page_size = 100, id = "url")]
pub struct PullRequest {
    /// Its API URL.
    pub url: String,
    /// Its number in the repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A GitHub Actions workflow run (`GET /repos/{owner}/{repo}/actions/runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Resource)]
#[resource(kind = "workflow_run", path = "/repos/{owner}/{repo}/actions/runs")]
#[resource(items = "workflow_runs", paginate = link_header, page_size = 100, id = "url")]
pub struct WorkflowRun {
    /// Its API URL.
    pub url: String,
    /// `queued`, `in_progress`, `completed`…
    pub status: Option<String>,
    /// `success`, `failure`… once completed.
    pub conclusion: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
