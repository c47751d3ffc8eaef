//! Item bodies compressed ahead of the writer.
//!
//! Compressing an item's JSON ([`Compressor::encode`]) costs about as much CPU as writing
//! it, and the writer is the one thread a full sync waits on. In a batch of new items (a
//! first load) the store's helper thread compresses the batch in order, a few items ahead,
//! while the writer inserts. A batch of items mostly stored already (a later run) is
//! compressed inline, and only what changed: compressing ahead would spend CPU on
//! unchanged items. The helper lives as long as the store, like the checkpointer: no
//! thread is started per batch.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use crate::ItemWrite;
use crate::body::{Compressor, Dict};

/// Batches smaller than this (a webhook's item, a short tail) are compressed inline: a
/// hand-over would cost more than it saves.
pub(super) const AHEAD_MIN: usize = 64;

/// Bodies the helper hands over at once: one wake-up of the writer per chunk, not per item.
const CHUNK: usize = 16;

/// Chunks the helper may hold ready.
const AHEAD: usize = 4;

/// Compressed bodies of a chunk of items, reversed (the writer pops them in order).
type Chunk = Vec<Option<Vec<u8>>>;

/// One batch to compress, in the writer's order, and where its chunks go.
struct Job {
    items: Arc<[ItemWrite]>,
    order: Arc<[usize]>,
    dict: Option<Arc<Dict>>,
    chunks: SyncSender<Chunk>,
}

/// The store's compressing thread; dropping it stops the thread.
pub(super) struct Helper {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Helper {
    /// Starts the thread.
    pub(super) fn start() -> std::io::Result<Helper> {
        let (jobs, taken) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("ocean-sqlite-compress".into())
            .spawn(move || {
                for job in taken {
                    compress(&job);
                }
            })?;
        Ok(Helper {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Has `items` compressed against `dict` ahead of the writer, which takes them from
    /// the [`Bodies`] returned in `order` (indices into `items`).
    pub(super) fn ahead(
        &self,
        items: &Arc<[ItemWrite]>,
        order: &Arc<[usize]>,
        dict: Option<&Arc<Dict>>,
    ) -> Bodies {
        let (chunks, taken) = mpsc::sync_channel(AHEAD);
        let job = Job {
            items: Arc::clone(items),
            order: Arc::clone(order),
            dict: dict.cloned(),
            chunks,
        };
        match self.jobs.as_ref().map(|jobs| jobs.send(job)) {
            Some(Ok(())) => Bodies::Ahead {
                chunks: taken,
                chunk: Vec::new(),
                dict: dict.cloned(),
            },
            // The thread is gone (it cannot be, short of a panic): compress inline.
            _ => Bodies::Inline(Compressor::new(dict.cloned())),
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Compresses `job`'s items into its channel, a chunk at a time, until the writer stops
/// taking them (it failed, or it is done).
fn compress(job: &Job) {
    let mut compressor = Compressor::new(job.dict.clone());
    for chunk in job.order.chunks(CHUNK) {
        let mut bodies: Chunk = chunk
            .iter()
            .map(|&i| compressor.encode(&job.items[i].json))
            .collect();
        bodies.reverse();
        if job.chunks.send(bodies).is_err() {
            return;
        }
    }
}

/// Where the writer takes each item's stored body from.
pub(super) enum Bodies {
    /// The helper's, one per item of the batch, in order, a chunk at a time (the chunk
    /// being taken from, reversed).
    Ahead {
        chunks: Receiver<Chunk>,
        chunk: Chunk,
        dict: Option<Arc<Dict>>,
    },
    /// Compressed by the writer itself, when it needs them.
    Inline(Compressor),
}

impl Bodies {
    /// The compressed body of the batch's next item, `json` (what [`Compressor::encode`]
    /// gives), when the writer `wants` it. Called once for every item, in the writer's
    /// order (the one given to [`Helper::ahead`]).
    pub(super) fn next(&mut self, json: &str, wants: bool) -> Option<Vec<u8>> {
        match self {
            Bodies::Ahead {
                chunks,
                chunk,
                dict,
            } => {
                if chunk.is_empty() {
                    match chunks.recv() {
                        Ok(next) => *chunk = next,
                        // The helper is gone: the rest of the batch is compressed inline.
                        Err(_) => {
                            *self = Bodies::Inline(Compressor::new(dict.take()));
                            return self.next(json, wants);
                        }
                    }
                }
                chunk.pop().flatten().filter(|_| wants)
            }
            Bodies::Inline(compressor) if wants => compressor.encode(json),
            Bodies::Inline(_) => None,
        }
    }
}
