//! # ocean-listen
//!
//! A webhook receiver that keeps synced data fresh, for any provider that implements
//! [`WebhookSource`] (ocean-jira's `JiraWebhooks`, ocean-octopus' `OctopusWebhooks`).
//!
//! `POST /integration/webhook` ([`WEBHOOK_PATH`]):
//!
//! 1. reads the body, up to [`ListenOptions::body_limit`] (`413` beyond);
//! 2. checks it comes from the provider with [`WebhookSource::verify`] (`401` and a warning
//!    when the signature or secret header is missing or wrong; nothing is processed);
//! 3. reads the event with [`WebhookSource::parse`] (`400` naming the JSON path when it
//!    cannot; `200` and an info log when the event is not one the source acts on);
//! 4. queues its changes for the [`Worker`] and answers `202` at once. The queue holds
//!    [`ListenOptions::queue_capacity`] deliveries: when it is full the answer is `503`
//!    with `Retry-After`, so the provider retries later and memory stays bounded.
//!
//! The worker re-fetches every upserted entity through the provider's client (the body is
//! never trusted as the source of truth; the client retries transient failures with its
//! own policy), turns a fetch that finds nothing into a delete, and hands each outcome to a
//! [`ChangeSink`] as a [`ChangeLine`]: NDJSON on stdout with [`NdjsonSink`] (what
//! `ocean listen` does), or a channel to your own code. A fetch that fails for good is
//! logged at error level with the change; nothing is dropped silently.
//!
//! ## In your own axum app
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axum::Router;
//! use axum::routing::get;
//! use ocean_jira::{JiraClient, JiraWebhooks};
//! use ocean_listen::{ChangeLine, ListenOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = JiraClient::new("https://example.atlassian.net", "me@example.com", "api-token")?;
//! let source = Arc::new(JiraWebhooks::new(client).secret("the-webhook-secret"));
//!
//! // Changes arrive on a channel, already re-fetched.
//! let (changes, mut received) = tokio::sync::mpsc::channel::<ChangeLine>(256);
//! tokio::spawn(async move {
//!     while let Some(line) = received.recv().await {
//!         println!("{:?} {} {}", line.action(), line.kind(), line.id());
//!     }
//! });
//!
//! let app = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .merge(ocean_listen::router(source, Arc::new(changes), ListenOptions::default()));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! [`router`] spawns its worker on the current Tokio runtime; [`receiver`] hands it to you
//! instead (to await it on shutdown), and [`serve`] does all of it on a listener, draining
//! the queue on shutdown.
#![warn(missing_docs)]

mod handler;
mod line;
mod options;
mod sink;
mod worker;

use std::future::Future;
use std::io;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::routing::post;
pub use ocean_core::WebhookSource;
use tokio::sync::mpsc;

pub use line::ChangeLine;
pub use options::ListenOptions;
pub use sink::{ChangeSink, NdjsonSink};
pub use worker::Worker;

/// The path deliveries are posted to, as `ocean webhooks` registers it.
pub const WEBHOOK_PATH: &str = "/integration/webhook";

/// The route and its worker, not yet running: mount the [`Router`] (merge it into your
/// own) and run the [`Worker`] (`tokio::spawn(worker.run())`). Warns once when the source
/// verifies nothing (no secret configured).
pub fn receiver(
    source: Arc<dyn WebhookSource>,
    sink: Arc<dyn ChangeSink>,
    options: ListenOptions,
) -> (Router, Worker) {
    if !source.verifies() {
        tracing::warn!(
            provider = source.provider(),
            "no webhook secret configured: unsigned deliveries are accepted from anyone"
        );
    }
    let (queue, queued) = mpsc::channel(options.queue_capacity.max(1));
    let shared = handler::Shared {
        source: Arc::clone(&source),
        queue,
        retry_after: HeaderValue::from(options.retry_after_secs()),
    };
    let router = Router::new()
        .route(WEBHOOK_PATH, post(handler::receive))
        .layer(DefaultBodyLimit::max(options.body_limit))
        .with_state(Arc::new(shared));
    (router, Worker::new(source, sink, queued))
}

/// The route, with its worker spawned on the current Tokio runtime. Merge it into your
/// app's router. The worker ends when every clone of the router is dropped.
///
/// # Panics
///
/// Outside a Tokio runtime.
pub fn router(
    source: Arc<dyn WebhookSource>,
    sink: Arc<dyn ChangeSink>,
    options: ListenOptions,
) -> Router {
    let (router, worker) = receiver(source, sink, options);
    tokio::spawn(worker.run());
    router
}

/// Serves the receiver on `listener` until `shutdown` resolves, then stops accepting,
/// finishes the requests in flight, and processes every queued delivery before returning.
///
/// ```no_run
/// # async fn run(source: std::sync::Arc<dyn ocean_listen::WebhookSource>) -> std::io::Result<()> {
/// use std::sync::Arc;
/// use ocean_listen::{ListenOptions, NdjsonSink};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// let sink = Arc::new(NdjsonSink::new(std::io::stdout()));
/// let ctrl_c = async { let _ = tokio::signal::ctrl_c().await; };
/// ocean_listen::serve(listener, source, sink, ListenOptions::default(), ctrl_c).await
/// # }
/// ```
pub async fn serve(
    listener: tokio::net::TcpListener,
    source: Arc<dyn WebhookSource>,
    sink: Arc<dyn ChangeSink>,
    options: ListenOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (router, worker) = receiver(source, sink, options);
    let worker = tokio::spawn(worker.run());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    // The router, and with it the queue's sender, is gone: the worker drains and ends.
    worker.await.map_err(io::Error::other)
}
