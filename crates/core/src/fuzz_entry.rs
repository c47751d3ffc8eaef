//! Entry points for the fuzz targets in the workspace's `fuzz/` directory and their
//! smoke test. Not an API: hidden from the docs and free to change.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::page::decode_page as decode;
use crate::{Error, RawItem};

/// An item as a derived resource decodes it: a required field, optional ones, the rest kept.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Typed {
    id: serde_json::Value,
    #[serde(default)]
    key: Option<String>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// Decodes `body` as a list page in every shape an endpoint can declare (Jira `values`,
/// a search's `issues` with a cursor, Octopus `Items`, a bare array), as raw items, JSON
/// values and a typed struct, then as a plain JSON body. Panics only when the decoder
/// breaks a promise: every failure is an [`Error::Decode`] naming the URL, and a page that
/// decodes both raw and as values says the same thing both ways.
pub fn decode_page(body: &[u8]) {
    const URL: &str = "https://fuzz.example/rest/api/3/list";
    let shapes = [
        (Some("values"), None),
        (Some("issues"), Some("nextPageToken")),
        (Some("Items"), None),
        (None, None),
    ];
    for (items, cursor) in shapes {
        let raw = decode::<RawItem>(URL, body, items, cursor);
        let value = decode::<serde_json::Value>(URL, body, items, cursor);
        let typed = decode::<Typed>(URL, body, items, cursor);
        let errors = [
            raw.as_ref().err(),
            value.as_ref().err(),
            typed.as_ref().err(),
        ];
        for error in errors.into_iter().flatten() {
            match error {
                // The path may be empty: serde_path_to_error prints a key `""` as nothing.
                Error::Decode { url, .. } => assert_eq!(url, URL, "a decode error names the URL"),
                other => panic!("a page decodes or fails with Error::Decode, not {other:?}"),
            }
        }
        if let (Ok(raw), Ok(value)) = (&raw, &value) {
            assert_eq!(raw.items.len(), value.items.len());
            assert_eq!(
                (
                    raw.total,
                    raw.is_last,
                    &raw.cursor,
                    raw.last_page_number,
                    raw.next_link
                ),
                (
                    value.total,
                    value.is_last,
                    &value.cursor,
                    value.last_page_number,
                    value.next_link
                ),
            );
            for item in &raw.items {
                serde_json::from_str::<IgnoredAny>(item.get()).expect("a raw item is JSON");
            }
        }
    }
    let _ = crate::response::decode_json::<serde_json::Value>(URL, body);
    let _ = crate::response::snippet(body, 500);
}
