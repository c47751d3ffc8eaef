//! Entry points for the fuzz targets in the workspace's `fuzz/` directory and their
//! smoke test. Not an API: hidden from the docs and free to change.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::page::{Layout, decode_layout};
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
    let offset_layout = |items, cursor| Layout {
        items,
        cursor,
        total: Some("total"),
        is_last: Some("isLast"),
        ..Layout::default()
    };
    let shapes = [
        offset_layout(Some("values"), None),
        offset_layout(Some("issues"), Some("nextPageToken")),
        Layout {
            items: Some("Items"),
            total: Some("TotalResults"),
            last_page: Some("LastPageNumber"),
            next_link: Some("Links/Page.Next"),
            ..Layout::default()
        },
        offset_layout(Some("values"), Some("Links/Page.Next")),
        offset_layout(None, None),
    ];
    for layout in shapes {
        let raw = decode_layout::<RawItem>(URL, body, layout);
        let value = decode_layout::<serde_json::Value>(URL, body, layout);
        let typed = decode_layout::<Typed>(URL, body, layout);
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

/// Drives the pagination guards with a page sequence read from `data` (the lying servers of
/// issue 17 and any other): byte 0 is the page guard (1–64), then 4 bytes a page: where
/// its items start (relative to the offset: 0–255 back), how many (0–15), the total it
/// announces (absent, the offset plus 0–63, or 1e14) and whether it claims more. Panics
/// when an admitted item was on the page before, when more pages than the guard are
/// admitted, or when a list with a known total takes more than
/// `ceil(total / smallest page) + slack` pages.
pub fn pagination_guards(data: &[u8]) {
    use crate::pagination::progress::{Admit, BUDGET_SLACK, Progress, Seen};
    let Some((&guard, script)) = data.split_first() else {
        return;
    };
    let max_pages = u64::from(guard % 64) + 1;
    let mut progress = Progress::new(max_pages, None);
    let mut previous: Vec<u64> = Vec::new();
    let (mut offset, mut admitted) = (0u64, 0u64);
    let (mut largest_total, mut smallest) = (None::<u64>, None::<u64>);
    for page in script.chunks_exact(4) {
        let start = offset.saturating_sub(u64::from(page[0]));
        let n = u64::from(page[1] % 16);
        let fingerprints: Vec<u64> = (start..start + n).collect();
        let total = match page[2] {
            0..=63 => None,
            64..=127 => Some(offset + u64::from(page[2] - 64)),
            _ if page[2] == 255 => Some(100_000_000_000_000),
            other => Some(u64::from(other)),
        };
        let claims_more = page[3] % 2 == 1;
        let seen = Seen {
            offset,
            total,
            claims_more,
            fingerprints: &fingerprints,
        };
        let Ok(admit) = progress.page(seen) else {
            return;
        };
        admitted += 1;
        assert!(
            admitted <= max_pages,
            "{admitted} pages past a guard of {max_pages}"
        );
        let kept: Vec<u64> = match admit {
            Admit::All => fingerprints.clone(),
            Admit::Except(drop) => fingerprints
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, f)| *f)
                .collect(),
        };
        assert!(
            kept.iter().all(|f| !previous.contains(f)),
            "{kept:?} repeats {previous:?}"
        );
        largest_total = total.map_or(largest_total, |t| {
            Some(largest_total.map_or(t, |l| l.max(t)))
        });
        if claims_more && n > 0 {
            smallest = Some(smallest.map_or(n, |s| s.min(n)));
        }
        if let (Some(t), Some(s)) = (largest_total, smallest) {
            assert!(
                admitted <= t.div_ceil(s) + BUDGET_SLACK,
                "{admitted} pages for a total of {t} in pages of at least {s}"
            );
        }
        previous = fingerprints;
        if !claims_more {
            return;
        }
        offset += n;
    }
}
