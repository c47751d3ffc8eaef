//! The strategies of APIs beyond Jira and Octopus (issue 13): RFC 8288 `Link` headers,
//! 1-based page numbers, and a next URL in the body, with the same guards as the others.

#[path = "../../../tests/support/server.rs"]
mod support;

use futures::{StreamExt, TryStreamExt};
use ocean_core::{
    Client, Endpoint, Error, ListRequest, Pagination, PaginationGuard, Resource, RetryPolicy,
};
use serde_json::json;
use support::{Reply, Seen, Server};

fn client(url: &str) -> Client {
    Client::builder(url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn query_u64(req: &Seen, name: &str) -> Option<u64> {
    req.query(name).and_then(|v| v.parse().ok())
}

async fn drain(request: ListRequest<u64>) -> (Vec<u64>, Option<Error>) {
    let mut stream = request.stream();
    let mut items = Vec::new();
    while let Some(next) = stream.next().await {
        match next {
            Ok(item) => items.push(item),
            Err(e) => return (items, Some(e)),
        }
    }
    (items, None)
}

fn guard(err: Option<Error>) -> PaginationGuard {
    match err {
        Some(Error::Pagination { guard, .. }) => guard,
        other => panic!("expected a pagination guard, got {other:?}"),
    }
}

/// A GitHub-style list of `items` items: `?page=N&per_page=M`, `rel="next"` until the end.
fn github_page(base: &str, req: &Seen, items: u64) -> Reply {
    let page = query_u64(req, "page").unwrap_or(1);
    let size = query_u64(req, "per_page").unwrap_or(30);
    let start = (page - 1) * size;
    let values: Vec<u64> = (start.min(items)..(start + size).min(items)).collect();
    let mut reply = Reply::json(200, json!(values).to_string());
    let last = items.div_ceil(size).max(1);
    let mut links = vec![format!(
        r#"<{base}/things?page={last}&per_page={size}>; rel="last""#
    )];
    if start + size < items {
        // Absolute on odd pages, relative on even ones: both must work.
        let next = if page % 2 == 1 {
            format!("{base}/things?page={}&per_page={size}", page + 1)
        } else {
            format!("/things?page={}&per_page={size}", page + 1)
        };
        links.insert(0, format!(r#"<{next}>; rel="next""#));
    }
    reply = reply.with_header("link", &links.join(", "));
    reply
}

fn link_endpoint() -> Endpoint {
    Endpoint::new("thing", "/things")
        .paginate(Pagination::link_header())
        .page_size(10)
}

#[tokio::test]
async fn link_headers_are_followed_to_the_end() {
    let base = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let server = Server::start_local(move |_, r| github_page(b.get().unwrap(), r, 47)).await;
    base.set(server.url.clone()).unwrap();
    let items: Vec<u64> = ListRequest::<u64>::new(&client(&server.url), link_endpoint())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, (0..47).collect::<Vec<_>>());
    let pages: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (query_u64(r, "page"), query_u64(r, "per_page")))
        .collect();
    assert_eq!(
        pages,
        [
            (None, Some(10)),
            (Some(2), Some(10)),
            (Some(3), Some(10)),
            (Some(4), Some(10)),
            (Some(5), Some(10))
        ]
    );
}

#[tokio::test]
async fn a_repeated_next_link_is_an_error_not_a_loop() {
    let server = Server::start_local(|n, _| {
        Reply::json(200, json!([n]).to_string())
            .with_header("link", r#"</things?page=2>; rel="next""#)
    })
    .await;
    let (items, err) = drain(ListRequest::new(&client(&server.url), link_endpoint())).await;
    // Refused with the page that repeats it, as a repeated cursor is.
    assert_eq!(guard(err), PaginationGuard::RepeatedCursor { page: 1 });
    assert_eq!((items, server.hits()), (vec![0], 2));
}

#[tokio::test]
async fn a_fresh_next_link_over_the_same_items_is_refused() {
    let server = Server::start_local(|n, _| {
        let next = format!(r#"</things?page={}>; rel="next""#, n + 2);
        Reply::json(200, "[1,2,3]").with_header("link", &next)
    })
    .await;
    let (items, err) = drain(ListRequest::new(&client(&server.url), link_endpoint())).await;
    assert_eq!(guard(err), PaginationGuard::RepeatedPage { page: 1 });
    assert_eq!((items, server.hits()), (vec![1, 2, 3], 2));
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let server = Server::start_local(|_, _| {
        Reply::json(200, "[1]").with_header(
            "link",
            r#"<https://elsewhere.example/things?page=2>; rel="next""#,
        )
    })
    .await;
    let (items, err) = drain(ListRequest::new(&client(&server.url), link_endpoint())).await;
    assert_eq!(
        guard(err),
        PaginationGuard::ForeignNextLink {
            origin: "https://elsewhere.example".into()
        }
    );
    assert_eq!((items, server.hits()), (vec![1], 1));
}

fn page_number_endpoint() -> Endpoint {
    Endpoint::new("thing", "/things")
        .items("data")
        .paginate(Pagination::page_number().total_pages("total_pages"))
        .page_size(10)
}

#[tokio::test]
async fn page_numbers_stop_on_a_short_page_or_the_total_pages() {
    // A short last page, no total-pages marker.
    let server = Server::start_local(|_, r| {
        let page = query_u64(r, "page").unwrap();
        let start = (page - 1) * 10;
        let values: Vec<u64> = (start.min(25)..(start + 10).min(25)).collect();
        Reply::json(200, json!({"data": values}).to_string())
    })
    .await;
    let endpoint = Endpoint::new("thing", "/things")
        .items("data")
        .paginate(Pagination::page_number())
        .page_size(10);
    let (items, err) = drain(ListRequest::new(&client(&server.url), endpoint)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items, (0..25).collect::<Vec<_>>());
    assert_eq!(server.hits(), 3);

    // Full pages only: the total-pages field (or header) ends it without an empty page.
    for header in [false, true] {
        let server = Server::start_local(move |_, r| {
            let page = query_u64(r, "page").unwrap();
            let values: Vec<u64> = ((page - 1) * 10..page * 10).collect();
            if header {
                Reply::json(200, json!({"data": values}).to_string())
                    .with_header("total_pages", "3")
            } else {
                Reply::json(200, json!({"data": values, "total_pages": 3}).to_string())
            }
        })
        .await;
        let (items, err) = drain(ListRequest::new(
            &client(&server.url),
            page_number_endpoint(),
        ))
        .await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(items, (0..30).collect::<Vec<_>>(), "header {header}");
        assert_eq!(server.hits(), 3);
    }
}

#[tokio::test]
async fn a_server_ignoring_the_page_number_is_refused_at_the_second_page() {
    let server = Server::start_local(|_, _| {
        let values: Vec<u64> = (0..10).collect();
        Reply::json(
            200,
            json!({"data": values, "total_pages": 1000}).to_string(),
        )
    })
    .await;
    let (items, err) = drain(ListRequest::new(
        &client(&server.url),
        page_number_endpoint(),
    ))
    .await;
    assert_eq!(guard(err), PaginationGuard::RepeatedPage { page: 1 });
    assert_eq!((items.len(), server.hits()), (10, 2));
}

#[tokio::test]
async fn an_empty_page_before_the_total_pages_is_an_error() {
    let server = Server::start_local(|_, r| {
        let page = query_u64(r, "page").unwrap();
        let values: Vec<u64> = if page == 1 { (0..10).collect() } else { vec![] };
        Reply::json(200, json!({"data": values, "total_pages": 5}).to_string())
    })
    .await;
    let (items, err) = drain(ListRequest::new(
        &client(&server.url),
        page_number_endpoint(),
    ))
    .await;
    assert!(
        matches!(
            guard(err),
            PaginationGuard::EmptyPageBeforeEnd { offset: 10, .. }
        ),
        "bad guard"
    );
    assert_eq!(items.len(), 10);
}

#[tokio::test]
async fn next_urls_in_the_body_top_level_or_nested() {
    // Jira's `nextPage` and Octopus' `Links["Page.Next"]`, relative or absolute.
    for field in ["nextPage", "Links/Page.Next"] {
        let server = Server::start_local(move |_, r| {
            let start = query_u64(r, "from").unwrap_or(0);
            let values: Vec<u64> = (start..(start + 4).min(10)).collect();
            let next = (start + 4 < 10).then(|| format!("/things?from={}", start + 4));
            let body = if field == "nextPage" {
                json!({"values": values, "nextPage": next})
            } else {
                json!({"values": values, "Links": {"Self": "/things", "Page.Next": next}})
            };
            Reply::json(200, body.to_string())
        })
        .await;
        let endpoint = Endpoint::new("thing", "/things")
            .items("values")
            .paginate(Pagination::next_url(field))
            .page_size(4);
        let (items, err) = drain(ListRequest::new(&client(&server.url), endpoint)).await;
        assert!(err.is_none(), "{field}: {err:?}");
        assert_eq!(items, (0..10).collect::<Vec<_>>(), "{field}");
        assert_eq!(server.hits(), 3, "{field}");
        assert_eq!(server.requests()[0].query("limit").as_deref(), Some("4"));
    }
}

#[tokio::test]
async fn a_repeated_next_url_is_an_error_not_a_loop() {
    let server = Server::start_local(|n, _| {
        Reply::json(
            200,
            json!({"values": [n], "next": "/things?from=1"}).to_string(),
        )
    })
    .await;
    let endpoint = Endpoint::new("thing", "/things")
        .items("values")
        .paginate(Pagination::next_url("next"));
    let (items, err) = drain(ListRequest::new(&client(&server.url), endpoint)).await;
    assert_eq!(guard(err), PaginationGuard::RepeatedCursor { page: 1 });
    assert_eq!(items, [0]);
}

/// The derive declares them too.
#[derive(Debug, serde::Deserialize, Resource)]
#[resource(path = "/repos", paginate = link_header, limit_param = "size")]
struct Repo(#[allow(dead_code)] u64);

#[derive(Debug, serde::Deserialize, Resource)]
#[resource(path = "/pages", items = "data", paginate = page_number, start_param = "p")]
struct Paged(#[allow(dead_code)] u64);

#[derive(Debug, serde::Deserialize, Resource)]
#[resource(path = "/next", items = "values", paginate = next_url, cursor_field = "Links/Page.Next")]
struct Followed(#[allow(dead_code)] u64);

#[test]
fn the_derive_declares_the_new_strategies() {
    assert_eq!(
        Repo::endpoint().pagination(),
        &Pagination::link_header().limit_param("size")
    );
    assert_eq!(
        Paged::endpoint().pagination(),
        &Pagination::page_number().start_param("p")
    );
    assert_eq!(
        Followed::endpoint().pagination(),
        &Pagination::next_url("Links/Page.Next")
    );
}

/// Envelope names come from the resource: a total called `count`, a flag called `done`.
#[derive(Debug, serde::Deserialize, Resource)]
#[resource(path = "/things", items = "rows", paginate = offset, page_size = 5, total = "count", is_last = "done")]
struct Row(#[allow(dead_code)] u64);

/// And skip/take's last page and next link, renamed.
#[derive(Debug, serde::Deserialize, Resource)]
#[resource(path = "/things", items = "rows", paginate = skip_take, page_size = 5,
           total = "n", last_page = "lastPage", next_link = "links/next")]
struct Doc(#[allow(dead_code)] u64);

#[tokio::test]
async fn envelope_field_names_come_from_the_resource() {
    // `done` is honest: all 12 rows; then `done: false` at `count`: the contradiction is
    // only seen if both names are read.
    for honest in [true, false] {
        let server = Server::start_local(move |_, r| {
            let start = query_u64(r, "startAt").unwrap_or(0);
            let rows: Vec<u64> = (start..(start + 5).min(12)).collect();
            let done = honest && start + 5 >= 12;
            Reply::json(
                200,
                json!({"rows": rows, "count": 12, "done": done, "total": 1, "isLast": true})
                    .to_string(),
            )
        })
        .await;
        let request =
            ListRequest::<u64>::new(&client(&server.url), Row::endpoint()).prefetch(false);
        let (items, err) = drain(request).await;
        assert_eq!(items, (0..12).collect::<Vec<_>>(), "honest {honest}");
        if honest {
            assert!(err.is_none(), "{err:?}");
        } else {
            assert_eq!(
                guard(err),
                PaginationGuard::TotalReachedButNotLast { total: 12 }
            );
        }
    }

    let server = Server::start_local(|_, r| {
        let skip = query_u64(r, "skip").unwrap_or(0);
        let rows: Vec<u64> = (skip..(skip + 5).min(12)).collect();
        let next = (skip + 5 < 12).then(|| format!("/things?skip={}", skip + 5));
        Reply::json(
            200,
            json!({"rows": rows, "n": 12, "lastPage": 2, "links": {"next": next},
                   "TotalResults": 1, "LastPageNumber": 0})
            .to_string(),
        )
    })
    .await;
    let request = ListRequest::<u64>::new(&client(&server.url), Doc::endpoint()).prefetch(false);
    let (items, err) = drain(request).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items, (0..12).collect::<Vec<_>>());
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn records_carry_the_kind_the_parent_and_the_bytes_as_sent() {
    #[derive(Debug, serde::Deserialize, Resource)]
    #[resource(path = "/teams/{team}/members", paginate = link_header)]
    struct Member {
        #[allow(dead_code)]
        id: String,
    }
    let server = Server::start_local(|n, _| match n {
        0 => Reply::json(200, r#"[{"id":"a", "x":1}]"#)
            .with_header("link", r#"</teams/t1/members?page=2>; rel="next""#),
        _ => Reply::json(200, r#"[{"id":"b"}]"#),
    })
    .await;
    let parent = ocean_core::ParentRef::new("team_id", "t1");
    let records: Vec<_> = Member::list(&client(&server.url), "t1")
        .records(Some(parent.clone()))
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<_> = records
        .iter()
        .map(|r| (r.kind, r.parent.clone(), r.item.get()))
        .collect();
    assert_eq!(
        seen,
        [
            ("member", Some(parent.clone()), r#"{"id":"a", "x":1}"#),
            ("member", Some(parent), r#"{"id":"b"}"#),
        ]
    );
    let roots: Vec<_> = Member::list(&client(&server.url), "t1")
        .records(None)
        .try_collect()
        .await
        .unwrap();
    assert!(roots.iter().all(|r| r.parent.is_none()));
}
