//! A synced item with the kind it belongs to, ready to write as one NDJSON line.

use std::io::{self, Write};

use crate::RawItem;

/// Identifies the parent a child item was fetched under (the space of an
/// Octopus deployment, the board of a sprint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    /// The output field naming the parent, e.g. `"space_id"` or `"board_id"`.
    pub field: &'static str,
    /// The parent's identifier.
    pub id: String,
}

impl ParentRef {
    /// The parent named `id`, in the output field `field`.
    ///
    /// ```
    /// let parent = ocean_core::ParentRef::new("space_id", "Spaces-1");
    /// assert_eq!((parent.field, parent.id.as_str()), ("space_id", "Spaces-1"));
    /// ```
    pub fn new(field: &'static str, id: impl Into<String>) -> Self {
        let id = id.into();
        Self { field, id }
    }
}

/// One synced item: its kind, its parent if it has one, and its JSON exactly
/// as the server sent it.
#[derive(Debug)]
pub struct Record {
    /// The resource kind, e.g. `"issue"`.
    pub kind: &'static str,
    /// The parent the item was fetched under.
    pub parent: Option<ParentRef>,
    /// The item's JSON, byte for byte.
    pub item: RawItem,
}

impl Record {
    /// A record without a parent.
    pub fn new(kind: &'static str, item: RawItem) -> Self {
        Self {
            kind,
            parent: None,
            item,
        }
    }

    /// A record fetched under a parent.
    pub fn child(
        kind: &'static str,
        field: &'static str,
        parent_id: impl Into<String>,
        item: RawItem,
    ) -> Self {
        Self {
            kind,
            parent: Some(ParentRef {
                field,
                id: parent_id.into(),
            }),
            item,
        }
    }

    /// Writes `{"kind":…,["<parent field>":…,]"item":…}` and a newline, copying
    /// the item's bytes without re-encoding them.
    ///
    /// ```
    /// use ocean_core::Record;
    /// let item = serde_json::value::RawValue::from_string(r#"{"Id":"Deployments-1"}"#.into()).unwrap();
    /// let mut out = Vec::new();
    /// Record::child("deployment", "space_id", "Spaces-1", item).write_ndjson(&mut out).unwrap();
    /// assert_eq!(out, b"{\"kind\":\"deployment\",\"space_id\":\"Spaces-1\",\"item\":{\"Id\":\"Deployments-1\"}}\n");
    /// ```
    pub fn write_ndjson(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"{\"kind\":")?;
        write_json_str(out, self.kind)?;
        if let Some(parent) = &self.parent {
            out.write_all(b",")?;
            write_json_str(out, parent.field)?;
            out.write_all(b":")?;
            write_json_str(out, &parent.id)?;
        }
        out.write_all(b",\"item\":")?;
        out.write_all(self.item.get().as_bytes())?;
        out.write_all(b"}\n")
    }
}

/// Writes `s` as a JSON string. Kinds, field names and ids rarely need escaping: those are
/// copied between quotes as they are, the rest go through serde_json.
fn write_json_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    let plain = s
        .bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f);
    if plain {
        out.write_all(b"\"")?;
        out.write_all(s.as_bytes())?;
        out.write_all(b"\"")
    } else {
        serde_json::to_writer(&mut *out, s).map_err(io::Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_only_when_needed() {
        for s in [
            "Spaces-1",
            "",
            "a\"b",
            "back\\slash",
            "tab\there",
            "é ü",
            "\u{7f}",
        ] {
            let mut fast = Vec::new();
            write_json_str(&mut fast, s).unwrap();
            assert_eq!(fast, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }
}
