//! Item bodies compressed ahead of the writer.
//!
//! Compressing an item's JSON ([`Compressor::encode`]) costs about as much CPU as writing it,
//! and the writer is the one thread a full sync waits on. In a batch of new items (a first
//! load) a helper thread compresses the batch in order, a few items ahead, while the
//! writer inserts. A batch of items mostly stored already (a later run) is compressed
//! inline, and only what changed: compressing ahead would spend CPU on unchanged items.

use std::sync::mpsc::{self, Receiver};
use std::thread::Scope;

use crate::ItemWrite;
use crate::body::{Compressor, Dict};

/// Batches smaller than this (a webhook's item, a short tail) are compressed inline: a
/// thread would cost more than it saves.
pub(super) const AHEAD_MIN: usize = 64;

/// Bodies the helper hands over at once: one wake-up of the writer per chunk, not per item.
const CHUNK: usize = 16;

/// Chunks the helper may hold ready.
const AHEAD: usize = 4;

/// Where the writer takes each item's stored body from.
pub(super) enum Bodies<'a> {
    /// A helper thread's, one per item of the batch, in order, a chunk at a time (the
    /// chunk being taken from, reversed).
    Ahead {
        chunks: Receiver<Vec<Option<Vec<u8>>>>,
        chunk: Vec<Option<Vec<u8>>>,
        dict: Option<&'a Dict>,
    },
    /// Compressed by the writer itself, when it needs them.
    Inline(Compressor<'a>),
}

impl Bodies<'_> {
    /// Compresses `items` against `dict` on a thread of `scope`, ahead of the writer.
    pub(super) fn ahead<'scope>(
        scope: &'scope Scope<'scope, '_>,
        items: &'scope [ItemWrite],
        dict: Option<&'scope Dict>,
    ) -> Bodies<'scope> {
        let (made, taken) = mpsc::sync_channel(AHEAD);
        scope.spawn(move || {
            let mut compressor = Compressor::new(dict);
            for chunk in items.chunks(CHUNK) {
                let mut bodies: Vec<_> = chunk.iter().map(|i| compressor.encode(&i.json)).collect();
                bodies.reverse();
                // The writer stopped (it failed, or it is done).
                if made.send(bodies).is_err() {
                    return;
                }
            }
        });
        Bodies::Ahead {
            chunks: taken,
            chunk: Vec::new(),
            dict,
        }
    }

    /// The compressed body of the batch's next item, `json` (what [`Compressor::encode`] gives),
    /// when the writer `wants` it. Called once for every item, in the batch's order.
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
                            *self = Bodies::Inline(Compressor::new(*dict));
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
