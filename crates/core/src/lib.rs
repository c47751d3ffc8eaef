//! # ocean-core
//!
//! The transport, auth, retry, rate-limit and pagination layer of ocean-rs.
//! A provider crate (Jira, Octopus, yours) declares its resource kinds with
//! `#[derive(Resource)]` and never writes an HTTP, retry or pagination loop.
//!
//! * [`Client`]: one pooled keep-alive HTTP client per API, with one request
//!   path: auth → pacing ([`RetryPolicy`], rate limit, server-requested pauses)
//!   → concurrency limit → send and read → retry decision → trace.
//! * [`Auth`]: Basic, Bearer (static, or refreshable via [`TokenProvider`]),
//!   API-key header; credentials live in [`Secret`]s that never print.
//! * [`RefreshingToken`]: the OAuth 2.0 refresh-token grant, renewed before expiry, one
//!   refresh at a time, rotated refresh tokens kept atomically in a [`TokenFile`].
//! * [`ListRequest`]: pagination as `Stream`s — offset, skip/take, cursor,
//!   bare array — with guards against loops and silent drops, concurrent
//!   in-order prefetch, item caps, typed items or lossless [`RawItem`]s.
//! * [`FanOut`]: children for every parent (sprints per board), bounded.
//! * [`Error`]: one enum that says what, where and whether to retry.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use ocean_core::{Auth, Client, Resource};
//!
//! #[derive(Debug, serde::Deserialize, Resource)]
//! #[resource(kind = "project", path = "/rest/api/3/project/search", items = "values", paginate = offset)]
//! struct Project { id: String, key: String }
//!
//! # async fn run() -> ocean_core::Result<()> {
//! let client = Client::builder("https://example.atlassian.net")
//!     .auth(Auth::basic("me@example.com", "api-token"))
//!     .build()?;
//! let mut projects = Project::stream(&client);
//! while let Some(project) = projects.try_next().await? {
//!     println!("{} {}", project.id, project.key);
//! }
//! # Ok(()) }
//! ```
//!
//! ## `#[derive(Resource)]`
//!
//! See [`derive_docs`] for the attribute grammar, with an example per pagination kind.
#![warn(missing_docs)]

mod auth;
mod client;
mod endpoint;
mod error;
mod fanout;
mod json_body;
mod kind_table;
mod oauth;
mod page;
mod pagination;
mod path;
mod provider;
mod raw;
mod record;
mod resource;
mod response;
mod retry;
mod secret;
mod stats;
mod throttle;
mod token_store;
pub mod wait_hint;
pub mod webhook;

/// Fuzzing entry points (see `fuzz/`); not part of the API.
#[doc(hidden)]
#[path = "fuzz_entry.rs"]
pub mod __fuzz;

#[doc = include_str!("derive_docs.md")]
pub mod derive_docs {}

pub use auth::{AccessToken, Auth, TokenError, TokenProvider};
pub use client::{Client, ClientBuilder, ErrorMessages, Request, generic_error_messages};
pub use endpoint::{Endpoint, Pagination};
pub use error::{Error, PaginationGuard, Result, StatusError, TransportKind};
pub use fanout::{FanOut, SkipRule, end_quietly};
pub use oauth::{DEFAULT_RENEW_MARGIN, OAuthClient, OAuthError, RefreshingToken};
pub use path::path_segment;
pub use provider::{ItemChange, KindInfo, Provider};
pub use raw::{RawItem, raw_field, raw_member};
pub use record::{ParentRef, Record};
pub use resource::{DEFAULT_MAX_PAGES, ListRequest, Resource};
pub use response::Response;
pub use retry::{Attempt, Decision, GiveUpReason, Jitter, RetryBudget, RetryPolicy};
pub use secret::Secret;
pub use stats::Stats;
pub use token_store::{
    MemoryTokenStore, RefreshTokenStore, StoreError, TokenFile, write_atomically,
};
pub use webhook::WebhookSource;

/// The derive; see [`derive_docs`].
pub use ocean_macros::Resource;

pub use futures;
pub use reqwest;
pub use serde_json;
