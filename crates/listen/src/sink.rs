//! Where processed changes go: NDJSON on a writer, a channel, or your own [`ChangeSink`].

use std::io::{self, Write};
use std::sync::Mutex;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::ChangeLine;

/// Receives every processed change, in the order the worker finishes them.
///
/// Implemented by [`NdjsonSink`] (one line per change on a writer) and by
/// `tokio::sync::mpsc::Sender<ChangeLine>` (hand the changes to your own task). A write
/// that fails is logged at error level with the change; the worker then goes on.
pub trait ChangeSink: Send + Sync + 'static {
    /// Takes one change.
    fn write(&self, line: ChangeLine) -> BoxFuture<'_, io::Result<()>>;
}

/// Writes each change as one NDJSON line ([`ChangeLine::write_ndjson`]) and flushes, so a
/// reader sees every line as soon as it is done.
///
/// ```
/// use ocean_listen::NdjsonSink;
/// let stdout = NdjsonSink::new(std::io::stdout());
/// # let _ = stdout;
/// ```
#[derive(Debug)]
pub struct NdjsonSink<W> {
    out: Mutex<W>,
}

impl<W: Write + Send + 'static> NdjsonSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    fn write_line(&self, line: &ChangeLine) -> io::Result<()> {
        // A writer that panicked mid-line is still usable: the next line starts fresh.
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        line.write_ndjson(&mut *out)?;
        out.flush()
    }
}

impl<W: Write + Send + 'static> ChangeSink for NdjsonSink<W> {
    fn write(&self, line: ChangeLine) -> BoxFuture<'_, io::Result<()>> {
        let written = self.write_line(&line);
        Box::pin(async move { written })
    }
}

impl ChangeSink for mpsc::Sender<ChangeLine> {
    fn write(&self, line: ChangeLine) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            self.send(line).await.map_err(|_| {
                io::Error::new(io::ErrorKind::BrokenPipe, "the change receiver is closed")
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use ocean_core::webhook::{Action, Change};

    use super::*;

    fn change() -> Change {
        Change {
            kind: "project",
            action: Action::Delete,
            id: "ED".into(),
            parent: None,
        }
    }

    #[tokio::test]
    async fn ndjson_sinks_write_whole_lines() {
        let sink = NdjsonSink::new(Vec::new());
        sink.write(ChangeLine::delete(&change())).await.unwrap();
        sink.write(ChangeLine::delete(&change())).await.unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with("\"id\":\"ED\"}\n"));
    }

    #[tokio::test]
    async fn channel_sinks_forward_and_report_a_closed_receiver() {
        let (tx, mut rx) = mpsc::channel(1);
        tx.write(ChangeLine::delete(&change())).await.unwrap();
        assert_eq!(rx.recv().await.unwrap().id(), "ED");
        drop(rx);
        let err = tx.write(ChangeLine::delete(&change())).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
