//! The change feed: one line per actual change a run or a webhook made to the catalog.

use std::io::{self, Write};

/// One actual change to the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedLine<'a> {
    /// An item was created or its content changed.
    Upsert {
        /// The kind.
        kind: &'a str,
        /// The item's id.
        id: &'a str,
        /// The parent field and id, as sync output carries them.
        parent: Option<(&'a str, &'a str)>,
        /// The item's JSON, byte for byte.
        json: &'a str,
    },
    /// An item was tombstoned.
    Delete {
        /// The kind.
        kind: &'a str,
        /// The item's id.
        id: &'a str,
    },
}

impl FeedLine<'_> {
    /// Writes `{"kind":K,"action":"upsert","id":ID,["<parent field>":P,]"item":{…}}` or
    /// `{"kind":K,"action":"delete","id":ID}` and a newline; the item's bytes are copied
    /// as they are.
    ///
    /// ```
    /// use ocean_sync::FeedLine;
    /// let mut out = Vec::new();
    /// FeedLine::Upsert { kind: "sprint", id: "7", parent: Some(("board_id", "1")), json: r#"{"id":7}"# }
    ///     .write_ndjson(&mut out)
    ///     .unwrap();
    /// assert_eq!(out, b"{\"kind\":\"sprint\",\"action\":\"upsert\",\"id\":\"7\",\"board_id\":\"1\",\"item\":{\"id\":7}}\n");
    /// ```
    pub fn write_ndjson(&self, out: &mut impl Write) -> io::Result<()> {
        let (kind, action, id) = match self {
            Self::Upsert { kind, id, .. } => (kind, "upsert", id),
            Self::Delete { kind, id } => (kind, "delete", id),
        };
        out.write_all(b"{\"kind\":")?;
        serde_json::to_writer(&mut *out, kind)?;
        write!(out, ",\"action\":\"{action}\",\"id\":")?;
        serde_json::to_writer(&mut *out, id)?;
        if let Self::Upsert { parent, json, .. } = self {
            if let Some((field, parent_id)) = parent {
                out.write_all(b",")?;
                serde_json::to_writer(&mut *out, field)?;
                out.write_all(b":")?;
                serde_json::to_writer(&mut *out, parent_id)?;
            }
            out.write_all(b",\"item\":")?;
            out.write_all(json.as_bytes())?;
        }
        out.write_all(b"}\n")
    }
}

/// Receives every actual change of a run.
pub trait Feed: Send {
    /// Takes one change.
    fn change(&mut self, line: FeedLine<'_>) -> io::Result<()>;
}

/// Drops every change (a run without `--changes`).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFeed;

impl Feed for NoFeed {
    fn change(&mut self, _line: FeedLine<'_>) -> io::Result<()> {
        Ok(())
    }
}

/// Writes every change as one NDJSON line.
#[derive(Debug)]
pub struct NdjsonFeed<W: Write + Send>(pub W);

impl<W: Write + Send> Feed for NdjsonFeed<W> {
    fn change(&mut self, line: FeedLine<'_>) -> io::Result<()> {
        line.write_ndjson(&mut self.0)
    }
}
