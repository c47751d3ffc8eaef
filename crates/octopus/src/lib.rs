//! # ocean-octopus
//!
//! The Octopus Deploy provider of ocean-rs: spaces, and in every space its
//! projects, releases, deployments, deployment targets (machines) and
//! environments; event subscriptions (Octopus' webhooks); and typed webhook
//! events. Every request goes through [`ocean_core::Client`] (auth, retries,
//! rate limits, concurrency), every list through [`ocean_core::ListRequest`]
//! (skip/take pagination), and the walk over spaces through [`ocean_core::FanOut`].
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use ocean_octopus::{OctopusClient, OctopusKind};
//!
//! # async fn run() -> ocean_core::Result<()> {
//! let client = OctopusClient::new("https://example.octopus.app", "API-0123456789ABCDEF0123456789")?;
//!
//! // Typed, one space.
//! let mut projects = client.projects("Spaces-1").stream();
//! while let Some(project) = projects.try_next().await? {
//!     println!("{} {}", project.id, project.name);
//! }
//!
//! // Typed, every space (4 spaces at a time by default).
//! let deployments: Vec<_> = client.deployments_all().try_collect().await?;
//! for (space_id, deployment) in &deployments {
//!     println!("{space_id} {} {:?}", deployment.id, deployment.created);
//! }
//!
//! // Lossless: each document's bytes untouched, tagged with its space, as NDJSON.
//! let mut records = client.sync(OctopusKind::Release);
//! while let Some(record) = records.try_next().await? {
//!     record.write_ndjson(&mut std::io::stdout()).expect("stdout");
//! }
//! # Ok(()) }
//! ```
//!
//! ## Kinds
//!
//! | kind | listed from | per space | capped |
//! |---|---|---|---|
//! | `space` | `GET /api/spaces` | | |
//! | `project` | `GET /api/{space_id}/projects` | ✓ | |
//! | `release` | `GET /api/{space_id}/releases` (newest first) | ✓ | ✓ |
//! | `deployment` | `GET /api/{space_id}/deployments` (newest first) | ✓ | ✓ |
//! | `machine` | `GET /api/{space_id}/machines` | ✓ | |
//! | `environment` | `GET /api/{space_id}/environments` | ✓ | |
//!
//! All page with `skip`/`take`, 50 items a page by default, and stop on the
//! envelope's `Links["Page.Next"]`, `LastPageNumber` or `TotalResults`.
//! Releases and deployments grow without bound, so each space yields at most
//! [`max_items_per_space`](OctopusClientBuilder::max_items_per_space) of them
//! (default 1000, the newest), cut exactly at the cap with a warning and
//! without requesting pages beyond it. Port Ocean's cap reads up to 150
//! deployments when it says 100, and cannot be changed.
//!
//! ## Any other kind
//!
//! Any collection under `/api/{space_id}/…` is one struct and one attribute
//! away. Runbooks, for example:
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use ocean_core::Resource;
//! use ocean_octopus::{OctopusClient, SpaceScoped};
//!
//! /// A runbook (`GET /api/{space_id}/runbooks`).
//! #[derive(Debug, serde::Deserialize, Resource)]
//! #[resource(kind = "runbook", path = "/{space_id}/runbooks", items = "Items",
//!            paginate = skip_take, page_size = 50, id = "Id")]
//! #[serde(rename_all = "PascalCase")]
//! pub struct Runbook {
//!     pub id: String,
//!     pub name: String,
//!     pub project_id: String,
//!     #[serde(flatten)]
//!     pub extra: serde_json::Map<String, serde_json::Value>,
//! }
//!
//! impl SpaceScoped for Runbook {} // `const CAPPED: bool = true;` to apply the per-space cap
//!
//! # async fn run(client: OctopusClient) -> ocean_core::Result<()> {
//! let one_space = client.in_space::<Runbook>("Spaces-1").fetch_all().await?;
//! let mut every_space = client.all::<Runbook>();
//! while let Some((space_id, runbook)) = every_space.try_next().await? {
//!     println!("{space_id} {} {}", runbook.id, runbook.name);
//! }
//! let lossless = client.sync_resource::<Runbook>(); // Records of kind "runbook"
//! # let _ = (one_space, lossless);
//! # Ok(()) }
//! ```
//!
//! The path is relative to the client's base URL, which already ends in `/api`.
//!
//! ## Webhooks
//!
//! [`OctopusClient::ensure_subscriptions`] creates, in every space that lacks one, an
//! event subscription posting to `{app_host}/integration/webhook`, filtered to the
//! events that change the kinds above (see [`SubscriptionFilter`]) and carrying a
//! header secret when one is given. The receiver checks the header with
//! [`verify_header_value`] and turns the body into [`Change`](ocean_core::webhook::Change)s
//! with [`events::OctopusEvent::parse`] and [`events::OctopusEvent::changes`]; each
//! upsert is re-fetched with [`OctopusClient::fetch_one`]. [`OctopusWebhooks`] bundles the
//! three as an [`ocean_core::WebhookSource`] for a receiver such as `ocean-listen`.
//!
//! ```no_run
//! use ocean_core::webhook::Action;
//! use ocean_octopus::events::OctopusEvent;
//! use ocean_octopus::{OctopusClient, OctopusKind, verify_header_value};
//!
//! # async fn receive(client: OctopusClient, token: Option<&[u8]>, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! if !verify_header_value(b"the-secret-given-at-creation", token) {
//!     return Ok(()); // answer 401
//! }
//! for change in OctopusEvent::parse(body)?.changes() {
//!     let kind: OctopusKind = change.kind.parse()?;
//!     let space = change.parent.as_ref().map_or("", |p| p.id.as_str());
//!     match change.action {
//!         Action::Upsert => {
//!             if let Some(document) = client.fetch_one(kind, space, &change.id).await? {
//!                 println!("upsert {kind} {}", document.get());
//!             }
//!         }
//!         Action::Delete => println!("delete {kind} {}", change.id),
//!     }
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod client;
pub mod events;
mod kinds;
mod models;
mod provider;
mod rate_limit;
mod subscriptions;
mod sync;
mod webhook_source;

pub use client::{API_KEY_HEADER, OctopusClient, OctopusClientBuilder, error_messages};
pub use events::verify_header_value;
pub use kinds::{OctopusKind, ParseKindError, SpaceScoped};
pub use models::{Deployment, Environment, Machine, Project, Release, Space};
pub use provider::OctopusProvider;
pub use rate_limit::rate_limit_hints;
pub use subscriptions::{
    EVENT_CATEGORIES, EventNotification, SECRET_HEADER, SpaceOutcome, Subscription,
    SubscriptionFilter, SubscriptionOptions, SubscriptionOutcome, WEBHOOK_PATH, WEBHOOK_TIMEOUT,
    webhook_url,
};
pub use sync::SPACE_FIELD;
pub use webhook_source::OctopusWebhooks;
