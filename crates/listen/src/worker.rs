//! The worker: takes deliveries off the queue, re-fetches what changed, hands the
//! outcome to the sink.

use std::sync::Arc;

use ocean_core::WebhookSource;
use ocean_core::webhook::{Action, PendingChange};
use tokio::sync::mpsc;

use crate::{ChangeLine, ChangeSink};

/// One accepted delivery, waiting for the worker.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The event's name, for logs.
    pub(crate) event: String,
    /// What it touched, in order.
    pub(crate) changes: Vec<PendingChange>,
}

/// Processes accepted deliveries one at a time, in the order they were accepted, so an
/// update and a later delete of the same entity come out in that order.
///
/// Each upsert is fetched again through the source (the client retries transient failures
/// with its own policy); a fetch that finds nothing becomes a delete; a fetch that still
/// fails is logged at error level with the change, and the worker goes on. Run it with
/// [`Worker::run`]; it ends once every [`Router`](axum::Router) clone holding the queue is
/// dropped and the queue is drained.
#[must_use = "a worker does nothing until it is run"]
pub struct Worker {
    source: Arc<dyn WebhookSource>,
    sink: Arc<dyn ChangeSink>,
    queue: mpsc::Receiver<Batch>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("provider", &self.source.provider())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Worker {
    pub(crate) fn new(
        source: Arc<dyn WebhookSource>,
        sink: Arc<dyn ChangeSink>,
        queue: mpsc::Receiver<Batch>,
    ) -> Self {
        Self {
            source,
            sink,
            queue,
        }
    }

    /// Processes deliveries until the queue is closed and empty.
    pub async fn run(mut self) {
        while let Some(batch) = self.queue.recv().await {
            for pending in &batch.changes {
                self.process(&batch.event, pending).await;
            }
        }
        tracing::debug!(
            provider = self.source.provider(),
            "webhook queue closed: worker done"
        );
    }

    async fn process(&self, event: &str, pending: &PendingChange) {
        let change = &pending.change;
        let provider = self.source.provider();
        let parent = change.parent.as_ref().map(|p| p.id.as_str());
        let line = match change.action {
            Action::Delete => ChangeLine::delete(change),
            Action::Upsert => match self.source.fetch(pending).await {
                Ok(Some(item)) => ChangeLine::upsert(change, item),
                Ok(None) => {
                    tracing::debug!(provider, event, kind = change.kind, id = %change.id, "the changed entity is gone: writing a delete");
                    ChangeLine::delete(change)
                }
                Err(error) => {
                    tracing::error!(
                        provider, event, kind = change.kind, id = %change.id, parent,
                        action = "upsert", %error,
                        "could not fetch the changed entity after retries: change not applied"
                    );
                    return;
                }
            },
        };
        let action = line.action();
        if let Err(error) = self.sink.write(line).await {
            tracing::error!(
                provider, event, kind = change.kind, id = %change.id, parent, ?action, %error,
                "could not write the change"
            );
        }
    }
}
