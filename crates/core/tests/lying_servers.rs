//! Servers that lie (issue 17): each stream ends within seconds with a typed guard error,
//! yields no item twice, stays in bounded memory and sends fewer than 50 requests.

#[path = "../../../tests/support/server.rs"]
mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use ocean_core::{
    Client, Endpoint, Error, ListRequest, Pagination, PaginationGuard, RawItem, RetryPolicy,
};
use serde_json::json;
use support::{Reply, Seen, Server};

fn client(url: &str) -> Client {
    Client::builder(url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn query_u64(req: &Seen, name: &str) -> u64 {
    req.query(name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Peak resident memory of this process, in KiB (Linux; `None` elsewhere).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What a stream did against a lying server.
struct Outcome {
    items: Vec<u64>,
    error: Error,
    requests: usize,
    took: Duration,
}

/// Drains `request` under a 10 s deadline; the stream must end in an error.
async fn drain(server: &Server, request: ListRequest<u64>) -> Outcome {
    let started = Instant::now();
    let peak_before = peak_rss_kib();
    let mut stream = request.stream();
    let mut items = Vec::new();
    let error = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.next().await {
                Some(Ok(item)) => items.push(item),
                Some(Err(e)) => return e,
                None => panic!("the stream ended without a word after {items:?}"),
            }
        }
    })
    .await
    .expect("the stream ends within seconds");
    if let (Some(before), Some(after)) = (peak_before, peak_rss_kib()) {
        // Generous: the point is megabytes, not the gigabytes (or abort) of a planned 1e14.
        assert!(
            after.saturating_sub(before) < 256 * 1024,
            "{before} -> {after} KiB"
        );
    }
    let outcome = Outcome {
        items,
        error,
        requests: server.hits(),
        took: started.elapsed(),
    };
    let unique: HashSet<_> = outcome.items.iter().collect();
    assert_eq!(unique.len(), outcome.items.len(), "an item came twice");
    assert!(outcome.requests < 50, "{} requests", outcome.requests);
    assert!(outcome.took < Duration::from_secs(5), "{:?}", outcome.took);
    outcome
}

fn guard(error: &Error) -> &PaginationGuard {
    match error {
        Error::Pagination { guard, url } => {
            assert!(url.contains("/things"), "{url}");
            guard
        }
        other => panic!("expected a pagination guard, got {other:?}"),
    }
}

fn offset_endpoint() -> Endpoint {
    Endpoint::new("thing", "/things")
        .items("values")
        .paginate(Pagination::offset())
        .page_size(50)
}

/// One item per page, `total: 1e14`, `isLast: false`: the plan alone exceeds the page
/// guard, so the stream fails at the first page, without allocating for the claim.
#[tokio::test]
async fn one_item_per_page_with_a_total_of_1e14() {
    for prefetch in [true, false] {
        let server = Server::start_local(|_, r| {
            let start = query_u64(r, "startAt");
            let page = json!({"startAt": start, "total": 100_000_000_000_000u64,
                "isLast": false, "values": [start]});
            Reply::json(200, page.to_string())
        })
        .await;
        let request = ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(prefetch);
        let out = drain(&server, request).await;
        assert_eq!(
            guard(&out.error),
            &PaginationGuard::TooManyPages {
                max_pages: ocean_core::DEFAULT_MAX_PAGES
            }
        );
        assert_eq!(out.requests, 1, "prefetch {prefetch}");
    }
}

/// The same, but the one item is always the same: the page guard still wins, at once.
#[tokio::test]
async fn the_same_single_item_under_a_huge_total_is_not_written_twice() {
    let server = Server::start_local(|_, _| {
        Reply::json(
            200,
            r#"{"total":100000000000000,"isLast":false,"values":[7]}"#,
        )
    })
    .await;
    let request = ListRequest::new(&client(&server.url), offset_endpoint())
        .prefetch(false)
        .max_pages(u64::MAX);
    let out = drain(&server, request).await;
    // Without a page guard to stop it, the repeat is caught on the second page.
    assert_eq!(
        guard(&out.error),
        &PaginationGuard::RepeatedPage { page: 1 }
    );
    assert_eq!((out.items, out.requests), (vec![7], 2));
}

/// `total: 7`, `isLast: false` forever, and past the total it serves page one again:
/// every item once, then `TotalReachedButNotLast` — the page past the total is never asked.
#[tokio::test]
async fn total_7_with_is_last_false_forever() {
    for prefetch in [true, false] {
        let server = Server::start_local(|_, r| {
            let start = query_u64(r, "startAt");
            // Pages of at most 3; past the total it wraps around to page one.
            let from = if start >= 7 { 0 } else { start };
            let values: Vec<u64> = (from..(from + 3).min(7)).collect();
            let page = json!({"startAt": start, "total": 7, "isLast": false, "values": values});
            Reply::json(200, page.to_string())
        })
        .await;
        let request = ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(prefetch);
        let out = drain(&server, request).await;
        assert_eq!(
            guard(&out.error),
            &PaginationGuard::TotalReachedButNotLast { total: 7 }
        );
        assert_eq!(out.items, (0..7).collect::<Vec<_>>(), "prefetch {prefetch}");
        assert!(
            server
                .requests()
                .iter()
                .all(|r| query_u64(r, "startAt") < 7),
            "asked past the total"
        );
        assert_eq!(out.requests, 3, "prefetch {prefetch}");
    }
}

/// A total that shrinks under the offset while pages still claim more: the page past it
/// is refused before it is yielded.
#[tokio::test]
async fn a_page_past_its_own_total_that_claims_more() {
    let server = Server::start_local(|n, r| {
        let start = query_u64(r, "startAt");
        let total = if n == 0 { 100 } else { 7 };
        let values: Vec<u64> = (start..start + 10).collect();
        let page = json!({"startAt": start, "total": total, "isLast": false, "values": values});
        Reply::json(200, page.to_string())
    })
    .await;
    let endpoint = offset_endpoint().page_size(10);
    let request = ListRequest::new(&client(&server.url), endpoint).prefetch(false);
    let out = drain(&server, request).await;
    assert_eq!(
        guard(&out.error),
        &PaginationGuard::OffsetPastTotal {
            offset: 10,
            total: 7
        }
    );
    assert_eq!(out.items, (0..10).collect::<Vec<_>>());
}

/// A bare array (`users/search`) whose server ignores `startAt`: the second, identical
/// page is refused before it is yielded.
#[tokio::test]
async fn a_bare_array_that_ignores_start_at() {
    for size in [3u64, 50] {
        let server = Server::start_local(move |_, _| {
            let page: Vec<u64> = (100..100 + size).collect();
            Reply::json(200, json!(page).to_string())
        })
        .await;
        let endpoint = Endpoint::new("user", "/things")
            .paginate(Pagination::array())
            .page_size(50);
        let out = drain(&server, ListRequest::new(&client(&server.url), endpoint)).await;
        assert_eq!(
            guard(&out.error),
            &PaginationGuard::RepeatedPage { page: 1 }
        );
        assert_eq!(out.items, (100..100 + size).collect::<Vec<_>>());
        assert_eq!(out.requests, 2);
    }
}

fn cursor_endpoint() -> Endpoint {
    Endpoint::new("issue", "/things")
        .method(reqwest::Method::POST)
        .items("issues")
        .paginate(Pagination::cursor())
        .page_size(10)
}

/// A fresh cursor on every page, with the same items: refused at the second page.
#[tokio::test]
async fn a_fresh_cursor_with_the_same_items() {
    let server = Server::start_local(|n, _| {
        let page = json!({"issues": [1, 2, 3], "nextPageToken": format!("t{n}"), "isLast": false});
        Reply::json(200, page.to_string())
    })
    .await;
    let out = drain(
        &server,
        ListRequest::new(&client(&server.url), cursor_endpoint()),
    )
    .await;
    assert_eq!(
        guard(&out.error),
        &PaginationGuard::RepeatedPage { page: 1 }
    );
    assert_eq!((out.items, out.requests), (vec![1, 2, 3], 2));
}

/// A list that shifted by one while it was read repeats its boundary item: it is
/// yielded once, and the list goes on.
#[tokio::test]
async fn a_boundary_item_repeated_by_a_shifted_list_is_yielded_once() {
    let server = Server::start_local(|_, r| {
        let start = query_u64(r, "startAt");
        // An insertion before offset 10 after the first page: page two starts one early.
        let from = if start == 0 { 0 } else { start - 1 };
        let values: Vec<u64> = (from..(from + 10).min(25)).collect();
        let page = json!({"startAt": start, "isLast": from + 10 >= 25, "values": values});
        Reply::json(200, page.to_string())
    })
    .await;
    let endpoint = offset_endpoint().page_size(10);
    let items: Vec<u64> = ListRequest::<u64>::new(&client(&server.url), endpoint)
        .prefetch(false)
        .stream()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(items, (0..25).collect::<Vec<_>>());
}

/// Raw items are fingerprinted by their bytes, too.
#[tokio::test]
async fn raw_items_repeating_under_fresh_cursors_are_refused() {
    let server = Server::start_local(|n, _| {
        let page = json!({"issues": [{"id": "1"}], "nextPageToken": format!("t{n}")});
        Reply::json(200, page.to_string())
    })
    .await;
    let mut stream = ListRequest::<RawItem>::new(&client(&server.url), cursor_endpoint()).stream();
    assert!(stream.next().await.unwrap().is_ok());
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(guard(&err), &PaginationGuard::RepeatedPage { page: 1 });
    assert_eq!(server.hits(), 2);
}
