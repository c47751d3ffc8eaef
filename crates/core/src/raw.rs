//! Items kept as the exact JSON bytes the server sent.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// One item's JSON, byte for byte as the server sent it: the lossless, fast
/// path for forwarding items (no decode, no re-serialisation).
pub type RawItem = Box<RawValue>;

/// Reads one top-level field of a raw JSON object as a string (numbers are
/// converted), without decoding the rest. `Ok(None)` when absent or null.
///
/// ```
/// let item = serde_json::value::RawValue::from_string(r#"{"id":10042,"key":"PROJ-1","fields":{}}"#.into()).unwrap();
/// assert_eq!(ocean_core::raw_field(&item, "key").unwrap().as_deref(), Some("PROJ-1"));
/// assert_eq!(ocean_core::raw_field(&item, "id").unwrap().as_deref(), Some("10042"));
/// assert_eq!(ocean_core::raw_field(&item, "nope").unwrap(), None);
/// ```
pub fn raw_field(item: &RawValue, field: &str) -> Result<Option<String>, serde_json::Error> {
    let Some(value) = raw_member(item, field)? else {
        return Ok(None);
    };
    Ok(match serde_json::from_str(value.get())? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Null => None,
        // Named by type, not echoed: the value can be a whole object.
        other => {
            let found = match other {
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Array(_) => "an array",
                _ => "an object",
            };
            return Err(de::Error::custom(format_args!(
                "`{field}` is {found}, not a string or number"
            )));
        }
    })
}

/// One top-level field of a raw JSON object, as the bytes sent (`null` included), without
/// decoding the rest; `Ok(None)` when the object has no such field. Tells a field that is
/// there from one that is not, whatever its value.
///
/// ```
/// let item = serde_json::value::RawValue::from_string(r#"{"id":7,"pull_request":{"url":"u"},"milestone":null}"#.into()).unwrap();
/// assert_eq!(ocean_core::raw_member(&item, "pull_request").unwrap().map(|v| v.get()), Some(r#"{"url":"u"}"#));
/// assert_eq!(ocean_core::raw_member(&item, "milestone").unwrap().map(|v| v.get()), Some("null"));
/// assert!(ocean_core::raw_member(&item, "labels").unwrap().is_none());
/// assert!(ocean_core::raw_member(&serde_json::value::RawValue::from_string("[1]".into()).unwrap(), "id").is_err());
/// ```
pub fn raw_member<'a>(
    item: &'a RawValue,
    field: &str,
) -> Result<Option<&'a RawValue>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(item.get());
    de.deserialize_map(FieldVisitor { field })
}

struct FieldVisitor<'a> {
    field: &'a str,
}

impl<'de> Visitor<'de> for FieldVisitor<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a field `{}`", self.field)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.field {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}
