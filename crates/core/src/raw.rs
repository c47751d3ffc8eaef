//! Items kept as the exact JSON bytes the server sent.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
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
/// there from one that is not, whatever its value. An object that repeats the field gives
/// its first occurrence.
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
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(item.get());
    let read = de.deserialize_map(FieldVisitor {
        field,
        found: &mut found,
    });
    match read {
        // Read to the end: the object has no such field.
        Ok(()) => Ok(None),
        // The visitor stopped at the field (see `FieldVisitor`).
        Err(_) if found.is_some() => Ok(found),
        Err(e) => Err(e),
    }
}

/// Reads an object's keys until `field` and stops there: the rest of an item (most of it:
/// ids come first) need not be read, because a `RawValue` is valid JSON already. Serde's
/// only early exit is an error, so the visitor leaves the value in `found` and fails; the
/// caller takes a filled `found` as success.
struct FieldVisitor<'a, 'de> {
    field: &'a str,
    found: &'a mut Option<&'de RawValue>,
}

impl<'de> Visitor<'de> for FieldVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a field `{}`", self.field)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(is_field) = map.next_key_seed(KeyIs(self.field))? {
            if is_field {
                *self.found = Some(map.next_value::<&'de RawValue>()?);
                return Err(de::Error::custom("stopped at the field"));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// Reads a key and tells whether it is the one sought, without allocating it (serde
/// gives even a `Cow` key owned): the bytes as sent, or as unescaped into serde_json's
/// scratch buffer.
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: &str) -> RawItem {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn a_field_is_found_wherever_it_is_and_only_at_the_top_level() {
        let issue = item(
            r#"{"expand":"","id":"10","fields":{"key":"inner","big":[1,2,{"a":"b"}]},"key":"P-1"}"#,
        );
        assert_eq!(raw_field(&issue, "id").unwrap().as_deref(), Some("10"));
        assert_eq!(raw_field(&issue, "key").unwrap().as_deref(), Some("P-1"));
        assert_eq!(raw_field(&issue, "big").unwrap(), None);
        assert_eq!(
            raw_member(&issue, "fields").unwrap().map(|v| v.get()),
            Some(r#"{"key":"inner","big":[1,2,{"a":"b"}]}"#)
        );
    }

    #[test]
    fn a_repeated_field_gives_its_first_occurrence() {
        let issue = item(r#"{"id":"1","id":"2"}"#);
        assert_eq!(raw_field(&issue, "id").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn escaped_keys_compare_decoded_and_wrong_shapes_are_errors() {
        assert_eq!(
            raw_field(&item(r#"{"\u0069d":5}"#), "id")
                .unwrap()
                .as_deref(),
            Some("5")
        );
        assert!(raw_member(&item(r#""id""#), "id").is_err());
        let err = raw_field(&item(r#"{"id":{"x":1}}"#), "id").unwrap_err();
        assert!(err.to_string().contains("`id` is an object"), "{err}");
    }
}
