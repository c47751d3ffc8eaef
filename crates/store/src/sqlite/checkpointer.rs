//! WAL checkpoints on a thread of their own, so that writes never wait on the disk.
//!
//! In WAL mode with `synchronous=NORMAL` a commit only appends to the log; the checkpoint
//! (the log copied back into the database, both files synced) is the one step of a write
//! that waits for the disk. Left to SQLite it runs inside the commit that crosses
//! `wal_autocheckpoint`, on the writer's thread: a full sync of 100k Jira issues waited
//! 0.66 s there, in 38 fsyncs, while nothing else could be written. Here a second
//! connection checkpoints instead, PASSIVE (the writer keeps appending while it copies),
//! when told that something was written, at most once per [`PAUSE`]. The writer's own
//! autocheckpoint stays, set high, as the bound on the log should this thread fall
//! behind. Durability is SQLite's: a checkpoint only copies what is already committed.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The least time between two checkpoints: each syncs both files, whatever it copies.
const PAUSE: Duration = Duration::from_millis(100);

/// The checkpointing thread of one store; dropping it stops the thread.
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing through `conn`, a connection to the store's file of its own.
    pub(super) fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        // One pending wake-up is enough: a checkpoint copies everything committed before it.
        let (wake, woken) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("ocean-sqlite-checkpoint".into())
            .spawn(move || checkpoint_when_woken(&conn, &woken))?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Says that something was committed: a checkpoint follows, within [`PAUSE`].
    pub(super) fn committed(&self) {
        if let Some(wake) = &self.wake {
            // Full: a wake-up is pending already.
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // The thread ends when the channel closes; the last connection to close then
        // checkpoints what is left, as SQLite always does.
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Checkpoints after each wake-up, no sooner than [`PAUSE`] after the last; returns when
/// the store closes the channel.
fn checkpoint_when_woken(conn: &Connection, woken: &mpsc::Receiver<()>) {
    let mut pending = false;
    loop {
        if !pending && woken.recv().is_err() {
            return;
        }
        // A failed checkpoint (another process's checkpoint under way, a full disk) only
        // leaves the copy to the next one, or to the writer's autocheckpoint, which
        // reports its errors: the data itself is committed in the log.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        let next = Instant::now() + PAUSE;
        pending = false;
        loop {
            match woken.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// The checkpointer's connection to the file at `path`: one that never checkpoints on
/// its own commits (it makes none) and waits for no lock.
pub(super) fn connection(path: &Path) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}
