//! One processed change, ready to write as one NDJSON line.

use std::io::{self, Write};

use ocean_core::webhook::{Action, Change};
use ocean_core::{ParentRef, RawItem};

/// The outcome of one change: the entity as fetched again, or its deletion.
///
/// Written by [`write_ndjson`](ChangeLine::write_ndjson) as
/// `{"kind":…,["<parent field>":…,]"action":"upsert","item":{…}}` (the item's bytes exactly as
/// the server sent them) or `{"kind":…,["<parent field>":…,]"action":"delete","id":…}`.
#[derive(Debug)]
pub enum ChangeLine {
    /// The entity exists: here it is, fetched after the event.
    Upsert {
        /// The resource kind, e.g. `"issue"`.
        kind: &'static str,
        /// The scope it lives in (an Octopus space), when the change named one.
        parent: Option<ParentRef>,
        /// The identifier the change named.
        id: String,
        /// The entity's JSON, byte for byte.
        item: RawItem,
    },
    /// The entity is gone: the event said so, or fetching it found nothing.
    Delete {
        /// The resource kind.
        kind: &'static str,
        /// The scope it lived in, when the change named one.
        parent: Option<ParentRef>,
        /// The identifier to remove.
        id: String,
    },
}

impl ChangeLine {
    /// The upsert of `change` with the entity just fetched.
    pub fn upsert(change: &Change, item: RawItem) -> Self {
        Self::Upsert {
            kind: change.kind,
            parent: change.parent.clone(),
            id: change.id.clone(),
            item,
        }
    }

    /// The deletion of the entity `change` names.
    pub fn delete(change: &Change) -> Self {
        Self::Delete {
            kind: change.kind,
            parent: change.parent.clone(),
            id: change.id.clone(),
        }
    }

    /// The resource kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Upsert { kind, .. } | Self::Delete { kind, .. } => kind,
        }
    }

    /// Upsert or delete.
    pub fn action(&self) -> Action {
        match self {
            Self::Upsert { .. } => Action::Upsert,
            Self::Delete { .. } => Action::Delete,
        }
    }

    /// The identifier the change named.
    pub fn id(&self) -> &str {
        match self {
            Self::Upsert { id, .. } | Self::Delete { id, .. } => id,
        }
    }

    /// Writes the line and a newline, copying an upsert's item without re-encoding it.
    ///
    /// ```
    /// use ocean_core::ParentRef;
    /// use ocean_core::webhook::{Action, Change};
    /// use ocean_listen::ChangeLine;
    ///
    /// let change = Change {
    ///     kind: "deployment",
    ///     action: Action::Upsert,
    ///     id: "Deployments-1".into(),
    ///     parent: Some(ParentRef { field: "space_id", id: "Spaces-1".into() }),
    /// };
    /// let item = serde_json::value::RawValue::from_string(r#"{"Id": "Deployments-1"}"#.into()).unwrap();
    /// let mut out = Vec::new();
    /// ChangeLine::upsert(&change, item).write_ndjson(&mut out).unwrap();
    /// ChangeLine::delete(&change).write_ndjson(&mut out).unwrap();
    /// assert_eq!(String::from_utf8(out).unwrap(), concat!(
    ///     r#"{"kind":"deployment","space_id":"Spaces-1","action":"upsert","item":{"Id": "Deployments-1"}}"#, "\n",
    ///     r#"{"kind":"deployment","space_id":"Spaces-1","action":"delete","id":"Deployments-1"}"#, "\n",
    /// ));
    /// ```
    pub fn write_ndjson(&self, out: &mut impl Write) -> io::Result<()> {
        let (Self::Upsert { kind, parent, .. } | Self::Delete { kind, parent, .. }) = self;
        out.write_all(b"{\"kind\":")?;
        serde_json::to_writer(&mut *out, kind)?;
        if let Some(parent) = parent {
            out.write_all(b",")?;
            serde_json::to_writer(&mut *out, parent.field)?;
            out.write_all(b":")?;
            serde_json::to_writer(&mut *out, &parent.id)?;
        }
        match self {
            Self::Upsert { item, .. } => {
                out.write_all(b",\"action\":\"upsert\",\"item\":")?;
                out.write_all(item.get().as_bytes())?;
            }
            Self::Delete { id, .. } => {
                out.write_all(b",\"action\":\"delete\",\"id\":")?;
                serde_json::to_writer(&mut *out, id)?;
            }
        }
        out.write_all(b"}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_without_a_parent_escape_their_strings() {
        let change = Change {
            kind: "issue",
            action: Action::Delete,
            id: "A\"B-1".into(),
            parent: None,
        };
        let mut out = Vec::new();
        let line = ChangeLine::delete(&change);
        line.write_ndjson(&mut out).unwrap();
        assert_eq!(
            out,
            b"{\"kind\":\"issue\",\"action\":\"delete\",\"id\":\"A\\\"B-1\"}\n"
        );
        assert_eq!(
            (line.kind(), line.action(), line.id()),
            ("issue", Action::Delete, "A\"B-1")
        );
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["id"], "A\"B-1");
    }
}
