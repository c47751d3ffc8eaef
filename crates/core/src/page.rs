//! Decoding one page in a single pass: the items plus the few envelope fields
//! pagination needs (`total`, `isLast`, the cursor, Octopus' `LastPageNumber`
//! and `Links["Page.Next"]`). Everything else is skipped without allocating.
//!
//! Each item's bytes are also fingerprinted as they are decoded, so pagination can
//! tell a page that repeats the previous one without keeping either page's items.

use std::fmt;
use std::marker::PhantomData;

use std::any::{Any, TypeId};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::RawItem;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// What a page said, besides its items.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    /// A hash of each item's JSON bytes, in item order (empty when not asked for).
    pub(crate) fingerprints: Vec<u64>,
    /// `total` (Jira) or `TotalResults` (Octopus); a negative total counts as none.
    pub(crate) total: Option<u64>,
    /// `isLast` (Jira).
    pub(crate) is_last: Option<bool>,
    /// The next cursor.
    pub(crate) cursor: Option<String>,
    /// Octopus' zero-based `LastPageNumber`.
    pub(crate) last_page_number: Option<i64>,
    /// Whether Octopus' `Links` had a `Page.Next`, when `Links` was present.
    pub(crate) next_link: Option<bool>,
    /// The number of pages, from the page-number strategy's total-pages field or header.
    pub(crate) total_pages: Option<u64>,
}

impl<T> Page<T> {
    fn of(items: Vec<T>) -> Self {
        Self {
            items,
            fingerprints: Vec::new(),
            total: None,
            is_last: None,
            cursor: None,
            last_page_number: None,
            next_link: None,
            total_pages: None,
        }
    }
}

/// Where a page keeps what pagination reads: the endpoint's field names.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Layout<'a> {
    /// The item array's key; `None` means the body is the array.
    pub(crate) items: Option<&'a str>,
    /// The cursor's field, or a `/`-separated path to it (`Links/Page.Next`).
    pub(crate) cursor: Option<&'a str>,
    /// A field holding the number of pages.
    pub(crate) total_pages: Option<&'a str>,
    /// The item total.
    pub(crate) total: Option<&'a str>,
    /// A boolean, true on the last page.
    pub(crate) is_last: Option<&'a str>,
    /// The zero-based number of the last page.
    pub(crate) last_page: Option<&'a str>,
    /// A `/`-separated path whose non-null presence says a next page exists.
    pub(crate) next_link: Option<&'a str>,
}

/// Decodes a [`Page`] laid out as `layout` says.
pub(crate) struct PageSeed<'a, T> {
    pub(crate) layout: Layout<'a>,
    /// Whether to fingerprint items: needs a deserializer that lends its input (the
    /// untracked first pass), so the tracked pass that only locates an error skips it.
    pub(crate) fingerprint: bool,
    pub(crate) item: PhantomData<fn() -> T>,
}

impl<'de, T: Deserialize<'de> + 'static> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.layout.items {
            None => {
                let (items, fingerprints) = ItemsSeed::<T>::new(self.fingerprint).deserialize(d)?;
                let mut page = Page::of(items);
                page.fingerprints = fingerprints;
                Ok(page)
            }
            Some(_) => d.deserialize_map(self),
        }
    }
}

/// The item array, optionally fingerprinting each item's bytes.
struct ItemsSeed<T> {
    fingerprint: bool,
    item: PhantomData<fn() -> T>,
}

impl<T> ItemsSeed<T> {
    fn new(fingerprint: bool) -> Self {
        Self {
            fingerprint,
            item: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de> + 'static> DeserializeSeed<'de> for ItemsSeed<T> {
    type Value = (Vec<T>, Vec<u64>);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.fingerprint {
            d.deserialize_seq(self)
        } else {
            Vec::<T>::deserialize(d).map(|items| (items, Vec::new()))
        }
    }
}

impl<'de, T: Deserialize<'de> + 'static> Visitor<'de> for ItemsSeed<T> {
    type Value = (Vec<T>, Vec<u64>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let room = seq.size_hint().unwrap_or(0).min(4096);
        let (mut items, mut fingerprints) = (Vec::with_capacity(room), Vec::with_capacity(room));
        // Each item is borrowed as raw JSON (a scan, no allocation), hashed, then decoded
        // from those bytes: the only way to see an item's bytes while decoding it.
        let raw_items = TypeId::of::<T>() == TypeId::of::<RawItem>();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            fingerprints.push(fingerprint(raw.get().as_bytes()));
            if raw_items {
                // Raw items are those bytes: copied, not scanned a second time.
                let item: Box<dyn Any> = Box::new(raw.to_owned());
                if let Ok(item) = item.downcast::<T>() {
                    items.push(*item);
                    continue;
                }
            }
            let mut json = serde_json::Deserializer::from_str(raw.get());
            items.push(T::deserialize(&mut json).map_err(de::Error::custom)?);
        }
        Ok((items, fingerprints))
    }
}

/// A 64-bit hash of one item's bytes (XXH3): items of two pages are compared by it.
/// Collisions between the few hundred items of two pages are out of reach, and only a
/// server's own bytes could collide. A hand-rolled multiply-rotate hash here was 10% of
/// a sequential 100k-issue walk's CPU; XXH3 reads the bytes at memory speed.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

impl<'de, T: Deserialize<'de> + 'static> Visitor<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an object with an array `{}`",
            self.layout.items.unwrap_or_default()
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (cursor_head, cursor_rest) = split_path(self.layout.cursor);
        let (link_head, link_rest) = split_path(self.layout.next_link);
        let key_seed = KeySeed {
            layout: self.layout,
            cursor_head,
            link_head,
        };
        let mut items = None;
        let mut page = Page::of(Vec::new());
        while let Some(key) = map.next_key_seed(key_seed)? {
            match key {
                Key::Items => {
                    items = Some(map.next_value_seed(ItemsSeed::<T>::new(self.fingerprint))?)
                }
                Key::Cursor => {
                    page.cursor = match cursor_rest {
                        Some(rest) => map.next_value_seed(PathString { path: rest })?,
                        None => map.next_value()?,
                    }
                }
                Key::TotalPages => {
                    page.total_pages = map
                        .next_value::<Option<i64>>()?
                        .and_then(|t| u64::try_from(t).ok())
                }
                // int64 in the specs: a negative (or absurd) total says nothing usable.
                Key::Total => {
                    page.total = map
                        .next_value::<Option<i64>>()?
                        .and_then(|t| u64::try_from(t).ok())
                }
                Key::IsLast => page.is_last = map.next_value()?,
                Key::LastPageNumber => page.last_page_number = map.next_value()?,
                Key::NextLink => {
                    page.next_link = Some(match link_rest {
                        Some(rest) => map.next_value_seed(PathPresent { path: rest })?,
                        None => !map.next_value::<IgnoredOrNull>()?.0,
                    })
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        (page.items, page.fingerprints) = items.ok_or_else(|| {
            de::Error::custom(format_args!(
                "missing the item array `{}`",
                self.layout.items.unwrap_or_default()
            ))
        })?;
        Ok(page)
    }
}

#[derive(Clone, Copy)]
enum Key {
    Items,
    Cursor,
    TotalPages,
    Total,
    IsLast,
    LastPageNumber,
    NextLink,
    Other,
}

/// `a/b/c` as `(Some("a"), Some("b/c"))`; `a` as `(Some("a"), None)`.
fn split_path(path: Option<&str>) -> (Option<&str>, Option<&str>) {
    match path.map(|p| p.split_once('/')) {
        Some(Some((head, rest))) => (Some(head), Some(rest)),
        Some(None) => (path, None),
        None => (None, None),
    }
}

#[derive(Clone, Copy)]
struct KeySeed<'a> {
    layout: Layout<'a>,
    cursor_head: Option<&'a str>,
    link_head: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            k if Some(k) == self.layout.items => Key::Items,
            k if Some(k) == self.cursor_head => Key::Cursor,
            k if Some(k) == self.layout.total_pages => Key::TotalPages,
            k if Some(k) == self.layout.total => Key::Total,
            k if Some(k) == self.layout.is_last => Key::IsLast,
            k if Some(k) == self.layout.last_page => Key::LastPageNumber,
            k if Some(k) == self.link_head => Key::NextLink,
            _ => Key::Other,
        })
    }
}

/// The string at a `/`-separated `path` inside a value; `None` when any step is absent,
/// null or not an object (a next URL that is not there means the last page).
struct PathString<'a> {
    path: &'a str,
}

impl<'de> DeserializeSeed<'de> for PathString<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PathString<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object holding `{}`", self.path)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (head, rest) = match self.path.split_once('/') {
            Some((head, rest)) => (head, Some(rest)),
            None => (self.path, None),
        };
        let mut found = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key != head {
                map.next_value::<IgnoredAny>()?;
            } else if let Some(rest) = rest {
                found = map.next_value_seed(PathString { path: rest })?;
            } else {
                found = map.next_value()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Whether a non-null value sits at a `/`-separated `path` inside a value.
struct PathPresent<'a> {
    path: &'a str,
}

impl<'de> DeserializeSeed<'de> for PathPresent<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let (head, rest) = match self.path.split_once('/') {
            Some((head, rest)) => (head, Some(rest)),
            None => (self.path, None),
        };
        d.deserialize_any(PresentVisitor { head, rest })
    }
}

struct PresentVisitor<'a> {
    head: &'a str,
    rest: Option<&'a str>,
}

impl<'de> Visitor<'de> for PresentVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object that may hold `{}`", self.head)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key != self.head {
                map.next_value::<IgnoredAny>()?;
            } else if let Some(rest) = self.rest {
                found = map.next_value_seed(PathPresent { path: rest })?;
            } else {
                found = !map.next_value::<IgnoredOrNull>()?.0;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
}

/// Any value, skipped; remembers whether it was `null`.
struct IgnoredOrNull(bool);

impl<'de> Deserialize<'de> for IgnoredOrNull {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(Option::<IgnoredAny>::deserialize(d)?.is_none()))
    }
}

/// [`decode_layout`] with Jira-style names (`total`, `isLast`), for the tests.
#[cfg(test)]
pub(crate) fn decode_page<T: serde::de::DeserializeOwned + 'static>(
    url: &str,
    body: &[u8],
    items: Option<&str>,
    cursor: Option<&str>,
) -> crate::Result<Page<T>> {
    let layout = Layout {
        items,
        cursor,
        total: Some("total"),
        is_last: Some("isLast"),
        ..Layout::default()
    };
    decode_layout(url, body, layout)
}

/// Decodes a page body laid out as `layout` says, with errors naming the URL and the
/// JSON path.
///
/// The page is decoded once, untracked: tracking the JSON path of every value costs as
/// much again as decoding typed items. Only a page that fails is decoded a second time,
/// with the path tracked, to say where.
pub(crate) fn decode_layout<T: serde::de::DeserializeOwned + 'static>(
    url: &str,
    body: &[u8],
    layout: Layout<'_>,
) -> crate::Result<Page<T>> {
    let seed = PageSeed {
        layout,
        fingerprint: true,
        item: PhantomData,
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    match seed
        .deserialize(&mut json)
        .and_then(|page| json.end().map(|()| page))
    {
        Ok(page) => Ok(page),
        Err(untracked) => Err(page_error::<T>(url, body, layout, untracked)),
    }
}

/// The error of a page that failed to decode, with the JSON path: decodes it again, tracked.
#[cold]
#[inline(never)]
fn page_error<T: serde::de::DeserializeOwned + 'static>(
    url: &str,
    body: &[u8],
    layout: Layout<'_>,
    untracked: serde_json::Error,
) -> crate::Error {
    let seed = PageSeed::<T> {
        layout,
        fingerprint: false,
        item: PhantomData,
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let tracked = seed.deserialize(serde_path_to_error::Deserializer::new(
        &mut json, &mut track,
    ));
    match tracked {
        Err(e) => {
            crate::response::decode_error(url, serde_path_to_error::Error::new(track.path(), e))
        }
        // Only trailing characters are left to fail on (or, should the tracked decode ever
        // disagree, the untracked error stands, without a path).
        Ok(_) => crate::Error::Decode {
            url: url.into(),
            path: ".".into(),
            message: json.end().err().unwrap_or(untracked).to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, RawItem};

    #[test]
    fn reads_an_offset_envelope() {
        let body = br#"{"self":"x","maxResults":2,"startAt":0,"total":5,"isLast":false,
            "values":[{"id":"1"},{"id":"2"}],"nextPage":"y"}"#;
        let page: Page<serde_json::Value> = decode_page("u", body, Some("values"), None).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!((page.total, page.is_last), (Some(5), Some(false)));
    }

    /// The skip/take strategy's default names.
    fn skip_take() -> Layout<'static> {
        Layout {
            items: Some("Items"),
            total: Some("TotalResults"),
            last_page: Some("LastPageNumber"),
            next_link: Some("Links/Page.Next"),
            ..Layout::default()
        }
    }

    #[test]
    fn reads_a_skip_take_envelope_and_links() {
        let body = br#"{"ItemType":"Project","TotalResults":3,"ItemsPerPage":2,"NumberOfPages":2,
            "LastPageNumber":1,"Items":[{"Id":"Projects-1"},{"Id":"Projects-2"}],
            "Links":{"Self":"/api/x","Page.Next":"/api/x?skip=2&take=2","Page.Current":"/api/x"}}"#;
        let page: Page<RawItem> = decode_layout("u", body, skip_take()).unwrap();
        assert_eq!(page.items[1].get(), r#"{"Id":"Projects-2"}"#);
        assert_eq!(
            (page.total, page.last_page_number, page.next_link),
            (Some(3), Some(1), Some(true))
        );
    }

    #[test]
    fn reads_cursor_and_bare_arrays() {
        let body = br#"{"issues":[],"nextPageToken":"abc","isLast":false}"#;
        let page: Page<RawItem> =
            decode_page("u", body, Some("issues"), Some("nextPageToken")).unwrap();
        assert_eq!(page.cursor.as_deref(), Some("abc"));
        let page: Page<u32> = decode_page("u", b"[1,2,3]", None, None).unwrap();
        assert_eq!(page.items, [1, 2, 3]);
    }

    #[test]
    fn reads_next_urls_at_nested_paths_and_total_pages() {
        let body = br#"{"Items":[1],"Links":{"Self":"/a","Page.Next":"/a?skip=1"},"pages":4}"#;
        let layout = Layout {
            items: Some("Items"),
            cursor: Some("Links/Page.Next"),
            total_pages: Some("pages"),
            ..Layout::default()
        };
        let page: Page<u32> = decode_layout("u", body, layout).unwrap();
        assert_eq!(page.cursor.as_deref(), Some("/a?skip=1"));
        assert_eq!(page.total_pages, Some(4));
        for body in [
            &br#"{"Items":[1],"Links":{"Self":"/a"}}"#[..],
            br#"{"Items":[1],"Links":null}"#,
            br#"{"Items":[1],"Links":[1,{"a":2}]}"#,
            br#"{"Items":[1],"Links":{"Page.Next":null}}"#,
        ] {
            let page: Page<u32> = decode_layout("u", body, layout).unwrap();
            assert_eq!(page.cursor, None);
            let page: Page<u32> = decode_layout("u", body, skip_take()).unwrap();
            assert!(!page.next_link.unwrap_or(false));
        }
    }

    #[test]
    fn errors_name_url_and_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            id: u32,
        }
        let body = br#"{"values":[{"id":1},{"id":"two"}],"total":2}"#;
        let err = decode_page::<Item>("http://h/x", body, Some("values"), None).unwrap_err();
        let Error::Decode { url, path, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (url.as_str(), path.as_str()),
            ("http://h/x", "values[1].id")
        );

        let err = decode_page::<Item>("u", br#"{"other":[]}"#, Some("values"), None).unwrap_err();
        assert!(
            err.to_string().contains("missing the item array `values`"),
            "{err}"
        );
        let err =
            decode_page::<Item>("u", br#"{"values":[{"id":1}"#, Some("values"), None).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        let err =
            decode_page::<Item>("u", br#"{"values":[]} x"#, Some("values"), None).unwrap_err();
        let Error::Decode { path, message, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, ".");
        assert!(message.contains("trailing characters"), "{message}");
    }
}
