//! Page envelopes written around pre-rendered items.
//!
//! Each function sizes one buffer for the whole body up front and copies the item bytes in,
//! so serving a page is one allocation and a memcpy per item.

use bytes::Bytes;

use crate::json::Obj;

/// Fixed overhead reserved for an envelope's own fields and links.
const ENVELOPE: usize = 1024;

fn capacity(items: &[&[u8]]) -> usize {
    ENVELOPE + items.iter().map(|i| i.len() + 1).sum::<usize>()
}

fn items_array(o: &mut Obj<'_>, key: &str, items: &[&[u8]]) {
    o.arr(key, |a| {
        for item in items {
            a.raw(item);
        }
    });
}

/// A Jira `PageBean` (`project/search`, versions, components, dynamic webhooks).
pub(crate) struct PageBean<'a> {
    pub(crate) self_url: &'a str,
    pub(crate) next_page: Option<&'a str>,
    pub(crate) max_results: usize,
    pub(crate) start_at: usize,
    pub(crate) total: usize,
    pub(crate) is_last: bool,
}

pub(crate) fn page_bean(p: &PageBean<'_>, items: &[&[u8]]) -> Bytes {
    let mut buf = Vec::with_capacity(capacity(items));
    let mut o = Obj::new(&mut buf);
    o.str("self", p.self_url);
    if let Some(next) = p.next_page {
        o.str("nextPage", next);
    }
    o.num("maxResults", p.max_results)
        .num("startAt", p.start_at)
        .num("total", p.total)
        .bool("isLast", p.is_last);
    items_array(&mut o, "values", items);
    o.end();
    buf.into()
}

/// A Jira Software (agile) page: `{maxResults, startAt, total?, isLast, values}`.
pub(crate) fn agile_page(
    max_results: usize,
    start_at: usize,
    total: Option<usize>,
    is_last: bool,
    items: &[&[u8]],
) -> Bytes {
    let mut buf = Vec::with_capacity(capacity(items));
    let mut o = Obj::new(&mut buf);
    o.num("maxResults", max_results).num("startAt", start_at);
    if let Some(total) = total {
        o.num("total", total);
    }
    o.bool("isLast", is_last);
    items_array(&mut o, "values", items);
    o.end();
    buf.into()
}

/// An enhanced-search page: `{issues, nextPageToken?, isLast}`, never a total.
pub(crate) fn jql_page(items: &[&[u8]], next_token: Option<&str>, is_last: bool) -> Bytes {
    let mut buf = Vec::with_capacity(capacity(items));
    let mut o = Obj::new(&mut buf);
    items_array(&mut o, "issues", items);
    if let Some(token) = next_token {
        o.str("nextPageToken", token);
    }
    o.bool("isLast", is_last);
    o.end();
    buf.into()
}

/// A bare JSON array (`users/search`, admin webhooks).
pub(crate) fn bare_array(items: &[&[u8]]) -> Bytes {
    let mut buf = Vec::with_capacity(capacity(items));
    buf.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(item);
    }
    buf.push(b']');
    buf.into()
}

/// `PageOfWorklogs`: `{startAt, maxResults, total, worklogs}`.
pub(crate) fn worklog_page(
    start_at: usize,
    max_results: usize,
    total: usize,
    items: &[&[u8]],
) -> Bytes {
    let mut buf = Vec::with_capacity(capacity(items));
    let mut o = Obj::new(&mut buf);
    o.num("startAt", start_at)
        .num("maxResults", max_results)
        .num("total", total);
    items_array(&mut o, "worklogs", items);
    o.end();
    buf.into()
}

/// Paging arithmetic of an Octopus collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OctopusPaging {
    pub(crate) total: usize,
    pub(crate) skip: usize,
    pub(crate) take: usize,
}

impl OctopusPaging {
    pub(crate) fn number_of_pages(&self) -> usize {
        if self.take == 0 {
            0
        } else {
            self.total.div_ceil(self.take)
        }
    }

    /// Zero-based; 0 when the collection is empty.
    pub(crate) fn last_page_number(&self) -> usize {
        self.number_of_pages().saturating_sub(1)
    }

    pub(crate) fn has_next(&self) -> bool {
        self.take > 0 && self.skip.saturating_add(self.take) < self.total
    }
}

/// An Octopus `*ResourceCollection` with its relative `Links`.
///
/// `path` is the collection path as the client sees it (`/api/Spaces-1/projects`), `extra` the
/// other query parameters to keep in the page links (already encoded, `&`-joined).
pub(crate) fn octopus_collection(
    item_type: &str,
    path: &str,
    template: &str,
    extra: &str,
    paging: OctopusPaging,
    items: &[&[u8]],
) -> Bytes {
    let OctopusPaging { total, skip, take } = paging;
    let link = |skip: usize, take: usize| {
        if extra.is_empty() {
            format!("{path}?skip={skip}&take={take}")
        } else {
            format!("{path}?skip={skip}&take={take}&{extra}")
        }
    };
    let mut buf = Vec::with_capacity(capacity(items));
    let mut o = Obj::new(&mut buf);
    o.str("ItemType", item_type)
        .num("TotalResults", total)
        .num("ItemsPerPage", take)
        .num("NumberOfPages", paging.number_of_pages())
        .num("LastPageNumber", paging.last_page_number());
    items_array(&mut o, "Items", items);
    o.obj("Links", |l| {
        l.str("Self", &link(skip, take))
            .str("Template", &format!("{path}{template}"))
            .str("Page.All", &link(0, i32::MAX as usize));
        if skip > 0 {
            l.str("Page.Prev", &link(skip.saturating_sub(take), take));
        }
        if paging.has_next() {
            l.str("Page.Next", &link(skip + take, take));
        }
        l.str("Page.Current", &link(skip, take))
            .str("Page.Last", &link(paging.last_page_number() * take, take));
    });
    o.end();
    buf.into()
}

/// A Jira ErrorCollection: `{"errorMessages":[..],"errors":{..}}`.
pub(crate) fn jira_error(messages: &[&str], errors: &[(&str, &str)]) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    let mut o = Obj::new(&mut buf);
    o.strs("errorMessages", messages).obj("errors", |e| {
        for (k, v) in errors {
            e.str(k, v);
        }
    });
    o.end();
    buf.into()
}

/// An Octopus error: `{"ErrorMessage": .., "Errors": [..]?}`.
pub(crate) fn octopus_error(message: &str, errors: &[&str]) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    let mut o = Obj::new(&mut buf);
    o.str("ErrorMessage", message);
    if !errors.is_empty() {
        o.strs("Errors", errors);
    }
    o.end();
    buf.into()
}

/// Cuts a body so it is no longer valid JSON (every strict prefix of an object or array is
/// invalid).
pub(crate) fn truncate(body: &Bytes) -> Bytes {
    let cut = (body.len() / 2).max(1).min(body.len().saturating_sub(1));
    body.slice(..cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn octopus_links_follow_the_arithmetic() {
        let items: Vec<&[u8]> = vec![b"1", b"2"];
        let paging = OctopusPaging {
            total: 57,
            skip: 30,
            take: 30,
        };
        let body = octopus_collection(
            "Project",
            "/api/Spaces-1/projects",
            "{?skip,take}",
            "",
            paging,
            &items,
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["NumberOfPages"], 2);
        assert_eq!(v["LastPageNumber"], 1);
        assert_eq!(
            v["Links"]["Page.Prev"],
            "/api/Spaces-1/projects?skip=0&take=30"
        );
        assert!(v["Links"].get("Page.Next").is_none());
        assert_eq!(
            v["Links"]["Page.Last"],
            "/api/Spaces-1/projects?skip=30&take=30"
        );
        assert_eq!(
            v["Links"]["Page.All"],
            "/api/Spaces-1/projects?skip=0&take=2147483647"
        );

        let empty = OctopusPaging {
            total: 0,
            skip: 0,
            take: 30,
        };
        assert_eq!((empty.number_of_pages(), empty.last_page_number()), (0, 0));
        assert!(
            OctopusPaging {
                total: 31,
                skip: 0,
                take: 30
            }
            .has_next()
        );
    }

    #[test]
    fn envelopes_are_valid_json() {
        let items: Vec<&[u8]> = vec![br#"{"a":1}"#, br#"{"a":2}"#];
        for body in [
            page_bean(
                &PageBean {
                    self_url: "s",
                    next_page: Some("n"),
                    max_results: 2,
                    start_at: 0,
                    total: 5,
                    is_last: false,
                },
                &items,
            ),
            agile_page(2, 0, None, true, &items),
            jql_page(&items, None, true),
            bare_array(&items),
            worklog_page(0, 2, 2, &items),
            jira_error(&["x"], &[("f", "bad")]),
            octopus_error("x", &["y"]),
        ] {
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert!(v.is_object() || v.is_array());
            assert!(serde_json::from_slice::<Value>(&truncate(&body)).is_err());
        }
    }
}
