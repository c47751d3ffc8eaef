//! Every pagination strategy, every guard, prefetch order, caps and fan-out.

#[path = "../../../tests/support/server.rs"]
mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use ocean_core::{
    Client, Endpoint, Error, FanOut, ListRequest, Pagination, PaginationGuard, RawItem, RetryPolicy,
};
use serde_json::{Value, json};
use support::{Reply, Seen, Server};

fn client(url: &str) -> Client {
    Client::builder(url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn offset_endpoint() -> Endpoint {
    Endpoint::new("thing", "/things")
        .items("values")
        .paginate(Pagination::offset())
        .page_size(10)
}

fn query_u64(req: &Seen, name: &str) -> u64 {
    req.query(name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// A Jira-style offset server over `items` items with a page-size cap.
/// `total` is what it announces; `is_last` whether it sends `isLast`.
fn jira_page(req: &Seen, items: u64, cap: u64, total: u64, is_last: bool) -> Reply {
    let start = query_u64(req, "startAt");
    let size = query_u64(req, "maxResults").min(cap);
    let end = (start + size).min(items);
    let values: Vec<u64> = (start.min(end)..end).collect();
    let mut page = json!({"startAt": start, "maxResults": size, "total": total, "values": values});
    if is_last {
        page["isLast"] = json!(end >= items);
    }
    Reply::json(200, page.to_string())
}

async fn collect(request: ListRequest<u64>) -> Result<Vec<u64>, Error> {
    request.stream().try_collect().await
}

#[tokio::test]
async fn offset_follows_is_last_and_advances_by_what_the_server_returned() {
    // The server caps pages at 7 although we ask for 10.
    let server = Server::start_local(|_, r| jira_page(r, 53, 7, 53, true)).await;
    let items = collect(ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(false))
        .await
        .unwrap();
    assert_eq!(items, (0..53).collect::<Vec<_>>());
    let starts: Vec<_> = server
        .requests()
        .iter()
        .map(|r| query_u64(r, "startAt"))
        .collect();
    assert_eq!(starts, [0, 7, 14, 21, 28, 35, 42, 49]);
}

#[tokio::test]
async fn offset_stops_on_total_without_is_last_and_on_an_empty_page() {
    let server = Server::start_local(|_, r| jira_page(r, 25, 10, 25, false)).await;
    let items = collect(ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(false))
        .await
        .unwrap();
    assert_eq!(items.len(), 25);
    assert_eq!(server.hits(), 3);

    let server = Server::start_local(|_, r| {
        if query_u64(r, "startAt") == 0 {
            Reply::json(200, r#"{"values":[1,2,3,4,5,6,7,8,9,10]}"#)
        } else {
            Reply::json(200, r#"{"values":[]}"#)
        }
    })
    .await;
    let items = collect(ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(false))
        .await
        .unwrap();
    assert_eq!(items.len(), 10);
}

#[tokio::test]
async fn an_empty_page_the_server_calls_not_last_is_a_guard_error() {
    let server = Server::start_local(|n, r| {
        if n == 0 {
            jira_page(r, 100, 10, 100, true)
        } else {
            Reply::json(200, r#"{"values":[],"isLast":false,"total":100}"#)
        }
    })
    .await;
    let err = collect(ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(false))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Pagination {
                guard: PaginationGuard::EmptyPageBeforeEnd { offset: 10, .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("/things"), "{err}");
}

/// A total contradicted by `isLast: false` on the page that reaches it: every item up to
/// that page once, then a typed error rather than reading past the total (see
/// `PaginationGuard::TotalReachedButNotLast`).
#[tokio::test]
async fn a_total_that_is_too_low_ends_at_the_total_in_a_typed_error() {
    // Announces 20 but holds 45 and says isLast honestly.
    for prefetch in [false, true] {
        let server = Server::start_local(|_, r| jira_page(r, 45, 10, 20, true)).await;
        let mut stream = ListRequest::<u64>::new(&client(&server.url), offset_endpoint())
            .prefetch(prefetch)
            .stream();
        let mut items = Vec::new();
        let err = loop {
            match stream.next().await {
                Some(Ok(item)) => items.push(item),
                Some(Err(e)) => break e,
                None => panic!("the contradiction went unreported (prefetch {prefetch})"),
            }
        };
        assert_eq!(items, (0..20).collect::<Vec<_>>(), "prefetch {prefetch}");
        assert!(
            matches!(
                err,
                Error::Pagination {
                    guard: PaginationGuard::TotalReachedButNotLast { total: 20 },
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(server.hits(), 2, "prefetch {prefetch}");
    }
}

#[tokio::test]
async fn a_total_that_is_too_high_ends_in_an_error_not_a_hang() {
    for prefetch in [false, true] {
        let server = Server::start_local(|_, r| jira_page(r, 30, 10, 1000, false)).await;
        let err =
            collect(ListRequest::new(&client(&server.url), offset_endpoint()).prefetch(prefetch))
                .await
                .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Pagination {
                    guard: PaginationGuard::EmptyPageBeforeEnd { offset: 30, .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn prefetch_is_concurrent_and_in_order() {
    // Later pages answer faster, so completion order is the reverse of page order.
    let server = Server::start_local(|_, r| {
        let start = query_u64(r, "startAt");
        let delay = Duration::from_millis(5 + (200 - start.min(200)) / 4);
        Reply::After(delay, Box::new(jira_page(r, 200, 10, 200, true)))
    })
    .await;
    let c = Client::builder(&server.url)
        .max_concurrency(8)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let items = collect(ListRequest::new(&c, offset_endpoint()))
        .await
        .unwrap();
    assert_eq!(items, (0..200).collect::<Vec<_>>());
    assert_eq!(server.hits(), 20);
    assert!(
        server.peak_in_flight() > 1 && server.peak_in_flight() <= 8,
        "peak {}",
        server.peak_in_flight()
    );
}

#[tokio::test]
async fn prefetch_fills_gaps_left_by_short_pages() {
    // The server caps page 3 (startAt 20) at 4 items: the engine must fetch 24..30 itself.
    let server = Server::start_local(|_, r| {
        let cap = if query_u64(r, "startAt") == 20 { 4 } else { 10 };
        jira_page(r, 57, cap, 57, true)
    })
    .await;
    let items = collect(ListRequest::new(&client(&server.url), offset_endpoint()))
        .await
        .unwrap();
    assert_eq!(items, (0..57).collect::<Vec<_>>());
}

#[tokio::test]
async fn item_cap_is_exact_and_stops_requesting() {
    for prefetch in [false, true] {
        let server = Server::start_local(|_, r| jira_page(r, 1000, 10, 1000, true)).await;
        let request = ListRequest::new(&client(&server.url), offset_endpoint().max_items(25))
            .prefetch(prefetch);
        let items = collect(request).await.unwrap();
        assert_eq!(items, (0..25).collect::<Vec<_>>());
        assert_eq!(server.hits(), 3, "prefetch {prefetch}");
    }
}

fn octopus_page(req: &Seen, items: u64, last_page_lie: Option<i64>, links: bool) -> Reply {
    let skip = query_u64(req, "skip");
    let take = query_u64(req, "take").max(1);
    let end = (skip + take).min(items);
    let values: Vec<u64> = (skip.min(end)..end).collect();
    let pages = items.div_ceil(take);
    let mut page = json!({
        "ItemType": "Thing", "TotalResults": items, "ItemsPerPage": take, "NumberOfPages": pages,
        "LastPageNumber": last_page_lie.unwrap_or(pages.max(1) as i64 - 1), "Items": values,
    });
    if links {
        let mut l = json!({"Self": "/api/things"});
        if end < items {
            l["Page.Next"] = json!(format!("/api/things?skip={end}&take={take}"));
        }
        page["Links"] = l;
    }
    Reply::json(200, page.to_string())
}

fn octopus_endpoint() -> Endpoint {
    Endpoint::new("thing", "/things")
        .items("Items")
        .paginate(Pagination::skip_take())
        .page_size(10)
}

#[tokio::test]
async fn skip_take_stops_after_last_page_number_or_page_next() {
    for links in [false, true] {
        let server = Server::start_local(move |_, r| octopus_page(r, 35, None, links)).await;
        let items =
            collect(ListRequest::new(&client(&server.url), octopus_endpoint()).prefetch(false))
                .await
                .unwrap();
        assert_eq!(items, (0..35).collect::<Vec<_>>());
        assert_eq!(server.hits(), 4);
        let skips: Vec<_> = server
            .requests()
            .iter()
            .map(|r| query_u64(r, "skip"))
            .collect();
        assert_eq!(skips, [0, 10, 20, 30]);
    }
}

#[tokio::test]
async fn a_last_page_number_that_grows_forever_hits_the_page_guard() {
    let server = Server::start_local(|n, r| {
        // Every page is full and claims there is always one more.
        let mut reply = octopus_page(r, u64::MAX / 2, Some(n as i64 + 5), false);
        if let Reply::Full { body, .. } = &mut reply {
            let mut page: Value = serde_json::from_str(body).unwrap();
            page["TotalResults"] = Value::Null;
            *body = page.to_string();
        }
        reply
    })
    .await;
    let request = ListRequest::new(&client(&server.url), octopus_endpoint())
        .prefetch(false)
        .max_pages(50);
    let err = collect(request).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Pagination {
                guard: PaginationGuard::TooManyPages { max_pages: 50 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.hits(), 50);
}

fn cursor_endpoint() -> Endpoint {
    Endpoint::new("issue", "/search/jql")
        .method(reqwest::Method::POST)
        .items("issues")
        .paginate(Pagination::cursor())
        .page_size(10)
}

#[tokio::test]
async fn cursor_travels_in_the_post_body_until_is_last() {
    let server = Server::start_local(|_, r| {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["jql"], "project = X");
        assert_eq!(body["maxResults"], 10);
        let page = match body.get("nextPageToken").and_then(Value::as_str) {
            None => json!({"issues": [1, 2], "nextPageToken": "t1", "isLast": false}),
            Some("t1") => json!({"issues": [3, 4], "nextPageToken": "t2", "isLast": false}),
            Some("t2") => json!({"issues": [5], "isLast": true}),
            Some(other) => panic!("unexpected token {other}"),
        };
        Reply::json(200, page.to_string())
    })
    .await;
    let request =
        ListRequest::new(&client(&server.url), cursor_endpoint()).body("jql", "project = X");
    assert_eq!(collect(request).await.unwrap(), [1, 2, 3, 4, 5]);
    assert!(server.requests().iter().all(|r| r.method == "POST"));
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_not_a_loop() {
    let server = Server::start_local(|_, _| {
        Reply::json(
            200,
            r#"{"issues":[1],"nextPageToken":"same","isLast":false}"#,
        )
    })
    .await;
    let err = collect(ListRequest::new(&client(&server.url), cursor_endpoint()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Pagination {
                guard: PaginationGuard::RepeatedCursor { page: 1 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_missing_cursor_on_a_page_that_is_not_last_is_an_error() {
    let server =
        Server::start_local(|_, _| Reply::json(200, r#"{"issues":[1],"isLast":false}"#)).await;
    let err = collect(ListRequest::new(&client(&server.url), cursor_endpoint()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Pagination {
                guard: PaginationGuard::MissingCursor { page: 0 },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn bare_arrays_stop_on_an_empty_page_only() {
    // Pages shortened by privacy filtering must not end the list.
    let server = Server::start_local(|_, r| {
        let page = match query_u64(r, "startAt") {
            0 => "[0,1,2]",
            10 => "[10]",
            20 => "[20,21,22,23,24,25,26,27,28,29]",
            _ => "[]",
        };
        Reply::json(200, page)
    })
    .await;
    let endpoint = Endpoint::new("user", "/users")
        .paginate(Pagination::array())
        .page_size(10);
    let items = collect(ListRequest::new(&client(&server.url), endpoint))
        .await
        .unwrap();
    assert_eq!(items.len(), 14);
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn raw_items_are_byte_for_byte() {
    let server = Server::start_local(|_, _| {
        Reply::json(
            200,
            r#"{"values":[{"b":1,"a":[1.50,"\u00e9"]}],"isLast":true}"#,
        )
    })
    .await;
    let items: Vec<RawItem> = ListRequest::<RawItem>::new(&client(&server.url), offset_endpoint())
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(items[0].get(), r#"{"b":1,"a":[1.50,"\u00e9"]}"#);
}

#[tokio::test]
async fn item_decode_errors_name_the_url_and_path() {
    let server =
        Server::start_local(|_, _| Reply::json(200, r#"{"values":[1,"two"],"isLast":true}"#)).await;
    let err = collect(ListRequest::new(&client(&server.url), offset_endpoint()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, url, .. } if path == "values[1]" && url.contains("/things?startAt=0")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unfilled_placeholders_are_config_errors() {
    let endpoint = Endpoint::new("sprint", "/board/{board_id}/sprint");
    let err = collect(ListRequest::new(&client("http://127.0.0.1:9"), endpoint))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("{board_id}"), "{err}");
}

#[tokio::test]
async fn fan_out_tags_children_bounds_parents_and_skips_classified_errors() {
    let server = Server::start_local(|_, r| {
        let board: u64 = r.target.split('/').nth(2).unwrap().parse().unwrap();
        let reply = match board {
            3 => Reply::json(
                400,
                r#"{"errorMessages":["The board does not support sprints"],"errors":{}}"#,
            ),
            _ => jira_page(r, 12, 5, 12, true),
        };
        Reply::After(Duration::from_millis(20), Box::new(reply))
    })
    .await;
    let c = Client::builder(&server.url)
        .max_concurrency(50)
        .retry(RetryPolicy::none())
        .prefetch(false)
        .build()
        .unwrap();
    let parents = futures::stream::iter((1..=8u64).map(Ok));
    let child_client = c.clone();
    let children = FanOut::new(2)
        .skip_when(|e| {
            e.as_status()
                .is_some_and(|s| s.mentions("does not support sprints"))
        })
        .run(parents, move |board| {
            let endpoint = Endpoint::new("sprint", "/board/{board_id}/sprint")
                .items("values")
                .paginate(Pagination::offset())
                .page_size(5);
            ListRequest::<u64>::new(&child_client, endpoint)
                .path_param("board_id", board)
                .stream()
                .map_ok(move |s| (board, s))
        });
    let mut tagged: Vec<(u64, u64)> = children.try_collect().await.unwrap();
    tagged.sort();
    let expected: Vec<_> = (1..=8u64)
        .filter(|b| *b != 3)
        .flat_map(|b| (0..12).map(move |s| (b, s)))
        .collect();
    assert_eq!(tagged, expected);
    // Two parents in flight, each child paging sequentially.
    assert_eq!(server.peak_in_flight(), 2);
}

#[tokio::test]
async fn fan_out_fails_on_unclassified_errors() {
    let server =
        Server::start_local(|_, _| Reply::json(404, r#"{"errorMessages":["gone"]}"#)).await;
    let c = client(&server.url);
    let err = FanOut::new(2)
        .skip_when(|e| {
            e.as_status()
                .is_some_and(|s| s.mentions("does not support sprints"))
        })
        .run(futures::stream::iter([Ok(1u64)]), move |b| {
            ListRequest::<u64>::new(&c, Endpoint::new("s", "/board/{id}").items("values"))
                .path_param("id", b)
                .stream()
        })
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn dropping_a_stream_cancels_its_requests() {
    let server = Server::start_local(|_, r| {
        Reply::After(
            Duration::from_millis(300),
            Box::new(jira_page(r, 1000, 10, 1000, true)),
        )
    })
    .await;
    let c = client(&server.url);
    {
        let mut stream = ListRequest::<u64>::new(&c, offset_endpoint()).stream();
        // Take the first page, leaving prefetches in flight, then drop.
        stream.next().await.unwrap().unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sent = server.hits();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Nothing new starts after the drop.
    assert_eq!(server.hits(), sent);
    assert!(sent <= 1 + c.max_concurrency(), "{sent}");
}

#[tokio::test]
async fn decode_errors_are_capped_and_scrubbed() {
    // A 6 KB string where a number belongs, echoing the token the client sent.
    let server = Server::start_local(|_, r| {
        let token = r
            .header("authorization")
            .unwrap_or_default()
            .replace("Bearer ", "");
        let long = format!("{token} {}", "x".repeat(6000));
        Reply::json(200, json!({"values": [long], "isLast": true}).to_string())
    })
    .await;
    let c = Client::builder(&server.url)
        .auth(ocean_core::Auth::bearer("sekrit-token-123"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = collect(ListRequest::new(&c, offset_endpoint()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(text.len() < 600, "{} bytes: {text}", text.len());
    assert!(!text.contains("sekrit-token-123"), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
}

#[tokio::test]
async fn error_bodies_are_read_by_the_parser_the_provider_plugs_in() {
    let server = Server::start_local(|_, _| {
        Reply::json(
            400,
            r#"{"problems":[{"text":"bad board"}],"message":"Bad"}"#,
        )
    })
    .await;
    fn problems(body: &[u8]) -> Vec<String> {
        let v: Value = serde_json::from_slice(body).unwrap_or_default();
        v["problems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["text"].as_str().map(str::to_owned))
            .collect()
    }
    let plugged = Client::builder(&server.url)
        .retry(RetryPolicy::none())
        .error_messages(problems)
        .build()
        .unwrap();
    for (c, want) in [(plugged, "bad board"), (client(&server.url), "Bad")] {
        let err = collect(ListRequest::new(&c, offset_endpoint()))
            .await
            .unwrap_err();
        assert_eq!(err.as_status().unwrap().messages, [want], "{err}");
    }
}
