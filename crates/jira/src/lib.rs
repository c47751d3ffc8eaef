//! # ocean-jira
//!
//! The Jira Cloud / Data Center provider of ocean-rs, built on [`ocean_core`]: every
//! request goes through one [`ocean_core::Client`] (auth, pacing, retries with
//! Atlassian's policy, concurrency limit), every list through a derived
//! [`ocean_core::ListRequest`], every fan-out through [`ocean_core::FanOut`].
//!
//! * [`JiraClient`]: Basic (e-mail + API token), Data Center PAT (bearer) or OAuth 2.0
//!   (refreshable tokens through `api.atlassian.com`): [`atlassian_tokens`] refreshes them
//!   with rotating refresh tokens, [`find_cloud_id`] finds the site's cloud id.
//! * Typed lists and getters per kind ([`JiraClient::projects`], [`JiraClient::issues`],
//!   [`JiraClient::sprints`] …) over the [`models`], which keep unknown fields.
//! * [`JiraClient::sync`]: the lossless path, each item's bytes untouched in a
//!   [`Record`](ocean_core::Record) tagged with its [`JiraKind`] and parent.
//! * [`JiraClient::ensure_webhook`]: creates, repairs or refreshes the live-event webhook;
//!   [`events::JiraEvent`] reads deliveries, [`verify_signature`] checks them,
//!   [`JiraClient::fetch_one`] fetches what changed; [`JiraWebhooks`] bundles the three as an
//!   [`ocean_core::WebhookSource`] for a receiver such as `ocean-listen`.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use ocean_jira::{JiraClient, JiraKind, SyncOptions};
//!
//! # async fn run() -> ocean_core::Result<()> {
//! let jira = JiraClient::new("https://example.atlassian.net", "me@example.com", "api-token")?;
//!
//! // Typed: every project, then the first ten open issues of one.
//! let mut projects = jira.projects().stream();
//! while let Some(project) = projects.try_next().await? {
//!     println!("{} {}", project.key, project.name);
//! }
//! let issues = jira
//!     .issues("project = EX AND statusCategory != Done")
//!     .max_items(Some(10))
//!     .fetch_all()
//!     .await?;
//! for issue in &issues {
//!     println!("{} {:?}", issue.key, issue.fields.summary);
//! }
//!
//! // Lossless: every sprint of every board as NDJSON, tagged with its board.
//! let mut sprints = jira.sync(JiraKind::Sprint, &SyncOptions::default());
//! let mut out = std::io::stdout().lock();
//! while let Some(record) = sprints.try_next().await? {
//!     record.write_ndjson(&mut out).expect("stdout");
//! }
//! # Ok(()) }
//! ```
//!
//! ## Cloud and Data Center
//!
//! One client serves both: [`Deployment`] picks Cloud's `/rest/api/3` lists or Data Center's
//! `/rest/api/2` ones (offset-paged `/rest/api/2/search`, bare-array projects and components,
//! users by `username`), and [`JiraClient::detect_deployment`] asks the site's `serverInfo`.
//! The synced records have the same shape; a Data Center user record identifies the user by
//! `key` and `name` where a Cloud one has `accountId`. The typed [`JiraClient::users`] list
//! and the single-item getters are Cloud only. Atlassian Teams are not synced.
#![warn(missing_docs)]

mod backlog;
mod bulk;
mod classify;
mod client;
mod deployment;
pub mod events;
mod kinds;
pub mod models;
mod oauth;
mod profile;
mod provider;
mod sync;
mod teams;
mod webhook_source;
mod webhooks;

pub use backlog::DEFAULT_BACKLOG_JQL;
pub use bulk::{BULK_FETCH_MAX, CENSUS_PAGE, IssueStrategy};
pub use classify::is_jql_scope_error;
pub use client::{ATLASSIAN_API_GATEWAY, DEFAULT_PROJECT_EXPAND, JiraClient, JiraClientBuilder};
pub use deployment::{Deployment, ParseDeploymentError, SERVER_INFO_PATH};
pub use events::verify_signature;
pub use kinds::{JiraKind, ParseKindError};
pub use oauth::{
    ACCESSIBLE_RESOURCES_PATH, ATLASSIAN_TOKEN_URL, AccessibleResource, atlassian_tokens,
    find_cloud_id,
};
pub use profile::{error_messages, retry_policy};
pub use provider::{JiraProvider, OVERLAP_MINUTES};
pub use sync::{DEFAULT_JQL, SyncOptions};
pub use webhook_source::{JiraWebhooks, SIGNATURE_HEADER};
pub use webhooks::{
    MATCH_ALL_JQL, OAUTH_WEBHOOK_EVENTS, WEBHOOK_EVENTS, WEBHOOK_PATH, WebhookOptions,
    WebhookOutcome,
};
