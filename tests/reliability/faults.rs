//! The fault matrix (issue 8): for every fault a server can throw at a sync, the outcome is
//! either every item exactly once or a clear typed error: never a hang (each test runs under
//! a deadline), a panic, a silent drop or a duplicate.
//!
//! Faults the simulator has a knob for (503 rate, rate limit, latency, malformed pages,
//! wrong credentials, a non-admin caller) are driven through it; the rest through the
//! scripted server in `support`. Rows the core tests already pin at the `ListRequest`
//! level (`crates/core/tests/pagination.rs`, `request_path.rs`) are exercised here one
//! level up, through the provider clients (here) or the `ocean` binary (`cli_faults.rs`),
//! and the README's "Reliability" table lists both.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::{StreamExt, TryStreamExt};
use ocean_core::{Error, PaginationGuard, RawItem, Record, RetryPolicy, TransportKind};
use ocean_jira::{IssueStrategy, JiraClient, JiraKind, SyncOptions};
use ocean_octopus::{OctopusClient, OctopusKind};
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY, SimConfig, Simulator};
use serde_json::{Value, json};
use support::*;

fn jira_at(url: &str, retry: RetryPolicy, page_size: u32) -> JiraClient {
    JiraClient::builder(url)
        .basic("me@example.com", "api-token")
        .retry(retry)
        .page_size(page_size)
        .build()
        .unwrap()
}

fn octopus_at(url: &str, retry: RetryPolicy, page_size: u32) -> OctopusClient {
    OctopusClient::builder(url)
        .api_key("API-TESTKEY0000")
        .retry(retry)
        .page_size(page_size)
        .max_items_per_space(None)
        .build()
        .unwrap()
}

/// Drains a stream, keeping every item it yielded before its first error.
async fn drain<T>(
    mut stream: futures::stream::BoxStream<'static, ocean_core::Result<T>>,
) -> (Vec<T>, Option<Error>) {
    let mut items = Vec::new();
    while let Some(next) = stream.next().await {
        match next {
            Ok(item) => items.push(item),
            Err(e) => return (items, Some(e)),
        }
    }
    (items, None)
}

fn raw_texts(items: &[RawItem]) -> Vec<String> {
    sorted_text(items.iter().map(|i| i.get()))
}

fn record_texts(records: &[Record]) -> Vec<String> {
    sorted_text(records.iter().map(|r| r.item.get()))
}

fn http_date(at: SystemTime) -> String {
    httpdate::fmt_http_date(at)
}

// ---- 503s and 429 storms ----------------------------------------------------------------

/// 10 % of requests answered 503, and a 429 storm (`Retry-After` in whole seconds) as each
/// provider starts: every kind of both providers, through the provider clients, byte for
/// byte as served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_503s_and_429_storms_sync_every_item_exactly_once() {
    within(45, async {
        let sim = Arc::new(
            Simulator::start(SimConfig {
                items: 40,
                fail_rate: 0.1,
                ..SimConfig::default()
            })
            .await
            .unwrap(),
        );
        sim.faults().set_rate_limit(Some(10_000.0));
        let storm = start_storm(&sim).await;
        let jira = JiraClient::builder(&sim.jira_url())
            .basic(JIRA_EMAIL, JIRA_TOKEN)
            .retry(quick(40))
            .page_size(20)
            .build()
            .unwrap();
        // The kinds the simulator stores as tables (team and backlog are derived views).
        let stored = JiraKind::ALL
            .into_iter()
            .filter(|k| ocean_sim::Dataset::JIRA_KINDS.contains(&k.as_str()));
        for kind in stored {
            let records: Vec<Record> = jira
                .sync(kind, &SyncOptions::default())
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("jira {kind}: {e}"));
            let raw = sim.dataset().jira_raw(kind.as_str());
            let want = sorted_text(raw.iter().map(|b| std::str::from_utf8(b).unwrap()));
            assert_eq!(record_texts(&records), want, "jira {kind}");
        }
        storm.await.unwrap();
        let storm = start_storm(&sim).await;
        let octopus = OctopusClient::builder(&sim.octopus_url())
            .api_key(OCTOPUS_API_KEY)
            .retry(quick(40))
            .page_size(10)
            .max_items_per_space(None)
            .build()
            .unwrap();
        for kind in OctopusKind::ALL {
            let records: Vec<Record> = octopus
                .sync(kind)
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("octopus {kind}: {e}"));
            let raw = sim.dataset().octopus_raw(kind.as_str());
            let want = sorted_text(raw.iter().map(|b| std::str::from_utf8(b).unwrap()));
            assert_eq!(record_texts(&records), want, "octopus {kind}");
        }
        storm.await.unwrap();
        let stats = sim.stats();
        assert!(
            stats.unavailable > 0 && stats.rate_limited > 0,
            "the faults never fired, the test proves nothing: {stats:?}"
        );
        for (name, client) in [("jira", jira.core()), ("octopus", octopus.core())] {
            let stats = client.stats();
            assert!(stats.throttled > 0, "the storm missed {name}: {stats:?}");
        }
    })
    .await;
}

/// Bursts of 429 whose `Retry-After` is delta-seconds, then an HTTP-date, among 503s:
/// every project of every space exactly once, through the Octopus client with prefetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_429_with_seconds_and_http_date_retry_after_lose_nothing() {
    within(20, async {
        let spaces: Vec<Value> = (1..=3).map(octopus_space).collect();
        let docs: Vec<Vec<Value>> = (1..=3)
            .map(|s| {
                (0..25)
                    .map(|n| octopus_doc("Projects-", &format!("Spaces-{s}"), s * 100 + n))
                    .collect()
            })
            .collect();
        let all_docs: Vec<Value> = docs.iter().flatten().cloned().collect();
        let server = Server::start(move |n, req| {
            match n {
                // A burst answered with delta-seconds…
                3..=5 => {
                    return Reply::json(429, json!({"ErrorMessage": "slow down"}))
                        .with_header("retry-after", "1");
                }
                // …and one with an HTTP-date about a second away.
                12..=14 => {
                    let at = SystemTime::now() + Duration::from_secs(1);
                    return Reply::json(429, json!({"ErrorMessage": "slow down"}))
                        .with_header("retry-after", &http_date(at));
                }
                _ if n % 10 == 7 => {
                    return Reply::json(503, json!({"ErrorMessage": "unavailable"}));
                }
                _ => {}
            }
            if req.path() == "/api/spaces" {
                return Reply::json(200, octopus_page(req, &spaces, Lies::default()));
            }
            let space: usize = req.path()["/api/Spaces-".len()..]
                .split('/')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap();
            Reply::json(200, octopus_page(req, &docs[space - 1], Lies::default()))
        });
        let started = Instant::now();
        let client = octopus_at(&server.url, quick(10), 10);
        let records: Vec<Record> = client
            .sync(OctopusKind::Project)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(record_texts(&records), sorted_values(&all_docs));
        for r in &records {
            let space = &r.parent.as_ref().unwrap().id;
            assert!(r.item.get().contains(&format!("\"SpaceId\":\"{space}\"")));
        }
        // Both waits were honoured: at least the delta-seconds one in full.
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert!(client.core().stats().throttled >= 6);
    })
    .await;
}

// ---- Transport faults -------------------------------------------------------------------

/// Bodies cut off mid-read, by a FIN or by a TCP reset, on a paginated POST search: each
/// page is retried (a list is a read, even over POST) and every issue arrives exactly
/// once, in order. When every attempt is cut, the error is a typed transport error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_body_is_retried_and_loses_nothing() {
    within(20, async {
        let issues: Vec<Value> = (0..45).map(jira_issue).collect();
        let served = issues.clone();
        let server = Server::start(move |n, req| {
            let page = jql_page(req, &served);
            match n % 3 {
                1 => Reply::cut_of(&page, true),
                2 => Reply::cut_of(&page, false),
                _ => Reply::json(200, page),
            }
        });
        let jira = jira_at(&server.url, quick(4), 10);
        // The search cursor itself is under test, not the census over it.
        let options = SyncOptions {
            jql: Some("project = P1".into()),
            issue_strategy: IssueStrategy::Cursor,
            ..SyncOptions::default()
        };
        let records: Vec<Record> = jira
            .sync(JiraKind::Issue, &options)
            .try_collect()
            .await
            .unwrap();
        let got: Vec<String> = records.iter().map(|r| r.item.get().to_owned()).collect();
        let want: Vec<String> = issues.iter().map(Value::to_string).collect();
        assert_eq!(got, want, "every issue once, in order");
        assert!(server.hits() >= 10, "pages were cut and retried");

        let always_cut = Server::start(|_, req| Reply::cut_of(&jql_page(req, &[json!(1)]), true));
        let jira = jira_at(&always_cut.url, quick(2), 10);
        let err = jira
            .sync(JiraKind::Issue, &options)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        let Error::Transport { kind, url, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*kind, TransportKind::Response, "{err}");
        assert!(url.ends_with("/rest/api/3/search/jql"), "{url}");
        assert_eq!(always_cut.hits(), 3, "one send and two retries");
    })
    .await;
}

/// A complete HTTP answer whose JSON stops half-way: a decode error naming the URL, sent
/// once (a retry would get the same bytes), after every item of the pages before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_json_body_is_a_decode_error_naming_the_url() {
    within(10, async {
        let docs: Vec<Value> = (0..40)
            .map(|n| octopus_doc("Projects-", "Spaces-1", n))
            .collect();
        let served = docs.clone();
        let server = Server::start(move |_, req| {
            let page = octopus_page(req, &served, Lies::default()).to_string();
            if req.query_u64("skip") == Some(20) {
                Reply::json(200, &page[..page.len() / 2])
            } else {
                Reply::json(200, page)
            }
        });
        for prefetch in [true, false] {
            let client = octopus_at(&server.url, quick(3), 10);
            let before = server.requests().len();
            let (items, err) = drain(
                client
                    .projects("Spaces-1")
                    .prefetch(prefetch)
                    .raw()
                    .stream(),
            )
            .await;
            let err = err.expect("a decode error");
            let Error::Decode { url, message, .. } = &err else {
                panic!("{err:?}")
            };
            assert!(
                url.contains("/api/Spaces-1/projects?skip=20&take=10"),
                "{url}"
            );
            assert!(message.contains("EOF"), "{message}");
            assert_eq!(raw_texts(&items), sorted_values(&docs[..20]));
            let cut_sends = server.requests()[before..]
                .iter()
                .filter(|r| r.query_u64("skip") == Some(20))
                .count();
            assert_eq!(cut_sends, 1, "not retried (prefetch {prefetch})");
        }
    })
    .await;
}

/// An answer slower than the timeout: retried, then lossless; when every attempt is too
/// slow, a typed timeout naming the URL and the limit (the CLI's `--timeout`:
/// `cli_faults.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_beyond_the_timeout_is_retried_then_reported() {
    within(20, async {
        let docs: Vec<Value> = (0..30)
            .map(|n| octopus_doc("Projects-", "Spaces-1", n))
            .collect();
        // `slow_sends` sends of page 2 (skip=10) answer after 3 s, later ones at once.
        let server_slow_for = |slow_sends: usize| {
            let served = docs.clone();
            let sends = std::sync::atomic::AtomicUsize::new(0);
            Server::start(move |_, req| {
                let reply = Reply::json(200, octopus_page(req, &served, Lies::default()));
                let page_two = req.query_u64("skip") == Some(10);
                if page_two && sends.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < slow_sends
                {
                    reply.after(Duration::from_secs(3))
                } else {
                    reply
                }
            })
        };
        let client_of = |server: &Server| {
            OctopusClient::builder(&server.url)
                .api_key("API-TESTKEY0000")
                .retry(quick(2))
                .page_size(10)
                .timeout(Some(Duration::from_millis(250)))
                .build()
                .unwrap()
        };
        let page_two_sends = |server: &Server| {
            server
                .requests()
                .iter()
                .filter(|r| r.query_u64("skip") == Some(10))
                .count()
        };

        // The first send of page 2 is too slow, the retry is not: nothing lost.
        for prefetch in [true, false] {
            let server = server_slow_for(1);
            let items: Vec<RawItem> = client_of(&server)
                .projects("Spaces-1")
                .prefetch(prefetch)
                .raw()
                .stream()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(
                raw_texts(&items),
                sorted_values(&docs),
                "prefetch {prefetch}"
            );
            assert_eq!(page_two_sends(&server), 2);
        }

        // Every send of page 2 is too slow: a typed timeout after three sends.
        let server = server_slow_for(usize::MAX);
        let (items, err) = drain(client_of(&server).projects("Spaces-1").raw().stream()).await;
        let err = err.expect("a timeout");
        let Error::Timeout { url, after, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*after, Duration::from_millis(250));
        assert!(url.contains("/api/Spaces-1/projects?skip=10"), "{url}");
        assert!(err.to_string().contains("timed out after 250ms"), "{err}");
        assert_eq!(raw_texts(&items), sorted_values(&docs[..10]));
        assert_eq!(page_two_sends(&server), 3);
    })
    .await;
}

// ---- Bodies that are not what they should be ----------------------------------------------

/// A login page (200, `text/html`) where JSON was expected, as an SSO proxy sends: a
/// decode error naming the content type and the URL, sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_content_type_is_a_decode_error_naming_it() {
    within(10, async {
        let server = Server::start(|_, _| {
            Reply::typed(
                200,
                "text/html; charset=utf-8",
                "<html><body>Please sign in</body></html>",
            )
        });
        let jira = jira_at(&server.url, quick(3), 10);
        let err = jira.projects().fetch_all().await.unwrap_err();
        let Error::Decode { url, message, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(url.contains("/rest/api/3/project/search"), "{url}");
        assert!(
            message.contains("expected JSON but the server sent `text/html; charset=utf-8`")
                && message.contains("Please sign in"),
            "{message}"
        );
        let err = jira
            .sync(JiraKind::Board, &SyncOptions::default())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("text/html"), "{err}");
        assert_eq!(server.hits(), 2, "neither was retried");
    })
    .await;
}

/// A page whose items do not match the typed model: the error names the page's URL and
/// the JSON path of the bad field; the items before it came exactly once; the lossless
/// sync path, which never decodes items, gets every one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_that_does_not_match_the_model_names_the_url_and_json_path() {
    within(10, async {
        let mut projects: Vec<Value> = (0..5).map(jira_project).collect();
        projects[3]["key"] = json!(42);
        let served = projects.clone();
        let server = Server::start(move |_, req| Reply::json(200, jira_page(req, &served, 100)));
        let jira = jira_at(&server.url, quick(3), 2);
        let (typed, err) = drain(jira.projects().stream()).await;
        let err = err.expect("a decode error");
        let Error::Decode { url, path, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(url.contains("/rest/api/3/project/search?"), "{url}");
        assert!(url.contains("startAt=2"), "{url}");
        assert_eq!(path, "values[1].key");
        assert!(err.to_string().contains("values[1].key"), "{err}");
        let keys: Vec<&str> = typed.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["P0", "P1"], "the items before, each once");

        let records: Vec<Record> = jira
            .sync(JiraKind::Project, &SyncOptions::default())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(record_texts(&records), sorted_values(&projects));
    })
    .await;
}

// ---- Envelopes that lie ---------------------------------------------------------------------

fn thirty_five_projects() -> Vec<Value> {
    (0..35)
        .map(|n| octopus_doc("Projects-", "Spaces-1", n))
        .collect()
}

/// `TotalResults` says 100 (and `Page.Next` agrees) but 35 exist: every real item once,
/// then a typed guard error at the first empty page, with prefetch on and off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_that_is_too_high_ends_in_a_typed_error_after_every_item() {
    within(10, async {
        let docs = thirty_five_projects();
        let served = docs.clone();
        let lies = Lies {
            total: Some(100),
            links: LinkMode::FollowTotal,
        };
        let server =
            Server::start(move |_, req| Reply::json(200, octopus_page(req, &served, lies)));
        for prefetch in [true, false] {
            let client = octopus_at(&server.url, quick(2), 10);
            let (items, err) = drain(
                client
                    .projects("Spaces-1")
                    .prefetch(prefetch)
                    .raw()
                    .stream(),
            )
            .await;
            assert_eq!(
                raw_texts(&items),
                sorted_values(&docs),
                "prefetch {prefetch}"
            );
            let err = err.expect("a guard error");
            assert!(
                matches!(
                    &err,
                    Error::Pagination {
                        guard: PaginationGuard::EmptyPageBeforeEnd {
                            offset: 35,
                            total: Some(100)
                        },
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains("/api/Spaces-1/projects"), "{err}");
        }
    })
    .await;
}

/// `TotalResults` says 15 but 45 exist and `Page.Next` keeps pointing on: the page that
/// reaches the total contradicts it, so the stream ends there in a typed error (every
/// item up to that page once), with prefetch on (which planned for 15) and off. Reading
/// on past a total would let a server that serves page one again get it written twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_that_is_too_low_ends_at_the_total_in_a_typed_error() {
    within(10, async {
        let docs: Vec<Value> = (0..45)
            .map(|n| octopus_doc("Projects-", "Spaces-1", n))
            .collect();
        let served = docs.clone();
        let lies = Lies {
            total: Some(15),
            links: LinkMode::Honest,
        };
        let server =
            Server::start(move |_, req| Reply::json(200, octopus_page(req, &served, lies)));
        for prefetch in [true, false] {
            let before = server.hits();
            let client = octopus_at(&server.url, quick(2), 10);
            let (items, err) = drain(
                client
                    .projects("Spaces-1")
                    .prefetch(prefetch)
                    .raw()
                    .stream(),
            )
            .await;
            let texts: Vec<String> = items.iter().map(|i| i.get().to_owned()).collect();
            let want: Vec<String> = docs[..20].iter().map(Value::to_string).collect();
            assert_eq!(texts, want, "in order, each once (prefetch {prefetch})");
            let err = err.expect("a guard error");
            assert!(
                matches!(
                    &err,
                    Error::Pagination {
                        guard: PaginationGuard::TotalReachedButNotLast { total: 15 },
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains("/api/Spaces-1/projects"), "{err}");
            assert_eq!(server.hits() - before, 2, "prefetch {prefetch}");
        }
    })
    .await;
}

/// An empty page in the middle of a collection that says more follow: a typed guard
/// error naming the offset, after the items before it, never a silent end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_page_in_the_middle_is_a_typed_error_not_a_silent_end() {
    within(10, async {
        let docs: Vec<Value> = (0..50)
            .map(|n| octopus_doc("Projects-", "Spaces-1", n))
            .collect();
        let served = docs.clone();
        let server = Server::start(move |_, req| {
            let mut page = octopus_page(req, &served, Lies::default());
            if req.query_u64("skip") == Some(20) {
                page["Items"] = json!([]);
            }
            Reply::json(200, page)
        });
        for prefetch in [true, false] {
            let client = octopus_at(&server.url, quick(2), 10);
            let (items, err) = drain(
                client
                    .projects("Spaces-1")
                    .prefetch(prefetch)
                    .raw()
                    .stream(),
            )
            .await;
            assert_eq!(
                raw_texts(&items),
                sorted_values(&docs[..20]),
                "prefetch {prefetch}"
            );
            let err = err.expect("a guard error");
            assert!(
                matches!(
                    &err,
                    Error::Pagination {
                        guard: PaginationGuard::EmptyPageBeforeEnd { offset: 20, .. },
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    })
    .await;
}

/// A search whose `nextPageToken` comes back a second time: a typed guard error, not a
/// loop; the pages before it came exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_that_repeats_is_a_typed_error_not_a_loop() {
    within(10, async {
        let server = Server::start(|_, req| {
            let (issues, next) = match req.json()["nextPageToken"].as_str() {
                None => (vec![jira_issue(0), jira_issue(1)], "a"),
                Some("a") => (vec![jira_issue(2), jira_issue(3)], "b"),
                Some(_) => (vec![jira_issue(4), jira_issue(5)], "a"),
            };
            Reply::json(
                200,
                json!({"issues": issues, "nextPageToken": next, "isLast": false}),
            )
        });
        let jira = jira_at(&server.url, quick(2), 2);
        let options = SyncOptions {
            issue_strategy: IssueStrategy::Cursor,
            ..SyncOptions::default()
        };
        let (records, err) = drain(jira.sync(JiraKind::Issue, &options)).await;
        let err = err.expect("a guard error");
        assert!(
            matches!(
                &err,
                Error::Pagination {
                    guard: PaginationGuard::RepeatedCursor { page: 2 },
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("/rest/api/3/search/jql"), "{err}");
        let want: Vec<Value> = (0..4).map(jira_issue).collect();
        assert_eq!(record_texts(&records), sorted_values(&want));
        assert_eq!(server.hits(), 3);
    })
    .await;
}

/// `LastPageNumber` always one more than the page just read, every page full and new, no
/// total: an uncapped list stops at the page guard (tunable on the provider's request);
/// a capped kind stops exactly at the per-space cap without asking for more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_page_number_that_grows_forever_stops_at_a_guard_or_the_cap() {
    within(15, async {
        let server = Server::start(|_, req| {
            if req.path() == "/api/spaces" {
                let spaces: Vec<Value> = (1..=2).map(octopus_space).collect();
                return Reply::json(200, octopus_page(req, &spaces, Lies::default()));
            }
            let space = req.path().split('/').nth(2).unwrap_or_default().to_owned();
            let skip = req.query_u64("skip").unwrap_or(0) as usize;
            let take = req.query_u64("take").unwrap_or(30) as usize;
            let items: Vec<Value> = (skip..skip + take)
                .map(|n| octopus_doc("Deployments-", &space, n))
                .collect();
            Reply::json(
                200,
                json!({"ItemType": "Deployment", "Items": items,
                       "LastPageNumber": skip / take.max(1) + 1}),
            )
        });
        let client = OctopusClient::builder(&server.url)
            .api_key("API-TESTKEY0000")
            .retry(quick(2))
            .page_size(50)
            .max_items_per_space(Some(120))
            .build()
            .unwrap();

        let err = client
            .projects("Spaces-1")
            .max_pages(25)
            .raw()
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Pagination {
                    guard: PaginationGuard::TooManyPages { max_pages: 25 },
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(server.hits_on("/api/Spaces-1/projects"), 25);

        let records: Vec<Record> = client
            .sync(OctopusKind::Deployment)
            .try_collect()
            .await
            .unwrap();
        for space in ["Spaces-1", "Spaces-2"] {
            let mine: Vec<String> = records
                .iter()
                .filter(|r| r.parent.as_ref().is_some_and(|p| p.id == space))
                .map(|r| r.item.get().to_owned())
                .collect();
            assert_eq!(mine.len(), 120, "{space}: exactly the cap");
            assert_unique(&mine, space);
            assert_eq!(
                server.hits_on(&format!("/api/{space}/deployments")),
                3,
                "{space}: no page beyond the cap"
            );
        }
    })
    .await;
}

// ---- Credentials and permissions --------------------------------------------------------------

/// A 401 is not retried (the credential will not get better) and says which credential to
/// check, for Jira's Basic e-mail + token and Octopus' API key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_is_not_retried_and_names_the_credential() {
    within(10, async {
        let sim = Simulator::start(SimConfig {
            items: 20,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let jira = JiraClient::builder(&sim.jira_url())
            .basic(JIRA_EMAIL, "wrong-token-0000")
            .retry(quick(5))
            .build()
            .unwrap();
        let err = jira
            .sync(JiraKind::Project, &SyncOptions::default())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        let status = err.as_status().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!((status.status.as_u16(), status.attempts), (401, 1));
        assert!(
            err.to_string().contains(
                "check Basic credentials of user `demo@example.com`: it was rejected as invalid or expired"
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not authenticated"), "{err}");

        let octopus = OctopusClient::builder(&sim.octopus_url())
            .api_key("API-WRONG0000")
            .retry(quick(5))
            .build()
            .unwrap();
        let err = octopus
            .sync(OctopusKind::Project)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err:?}");
        assert!(
            err.to_string()
                .contains("check the API key sent in `x-octopus-apikey`"),
            "{err}"
        );
        let stats = sim.stats();
        assert_eq!((stats.requests, stats.unauthorized), (2, 2), "one send each");
    })
    .await;
}

/// A 403 is not retried and says the credential lacks a permission: the simulator's
/// admin-only Jira webhook list for a non-admin caller, and an Octopus key without
/// `ProjectView` (scripted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_is_not_retried_and_says_which_credential_lacks_permission() {
    within(10, async {
        let sim = Simulator::start(SimConfig {
            items: 20,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        sim.faults().set_jira_admin(false);
        let jira = JiraClient::builder(&sim.jira_url())
            .basic(JIRA_EMAIL, JIRA_TOKEN)
            .retry(quick(5))
            .build()
            .unwrap();
        let err = jira
            .core()
            .get("/rest/webhooks/1.0/webhook")
            .send()
            .await
            .unwrap_err();
        let status = err.as_status().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!((status.status.as_u16(), status.attempts), (403, 1));
        assert!(
            err.to_string().contains(
                "Basic credentials of user `demo@example.com` lacks the permission this request needs"
            ),
            "{err}"
        );
        assert_eq!(sim.stats().requests, 1);

        let server = Server::start(|_, _| {
            Reply::json(
                403,
                json!({"ErrorMessage": "You do not have permission to perform this action. Missing permission: ProjectView"}),
            )
        });
        let octopus = octopus_at(&server.url, quick(5), 10);
        let err = octopus
            .sync(OctopusKind::Project)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("Missing permission: ProjectView")
                && text.contains("the API key sent in `x-octopus-apikey` lacks the permission"),
            "{text}"
        );
        assert_eq!(server.hits(), 1);
    })
    .await;
}

// ---- Waits the client will not make -------------------------------------------------------

/// A `Retry-After` longer than the maximum wait fails at once, with both waits in the
/// error: an HTTP-date an hour away through the Octopus client (maximum 10 s); seconds
/// through the CLI in `cli_faults.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_beyond_the_max_wait_fails_fast_with_the_wait() {
    within(20, async {
        let server = Server::start(|_, _| {
            let at = SystemTime::now() + Duration::from_secs(3600);
            Reply::json(429, json!({"ErrorMessage": "slow down"}))
                .with_header("retry-after", &http_date(at))
        });
        let client = octopus_at(&server.url, quick(5).max_wait(Duration::from_secs(10)), 10);
        let started = Instant::now();
        let err = client
            .sync(OctopusKind::Space)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        let Error::RateLimited {
            retry_after,
            max_wait,
            url,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert!(
            (3595..=3600).contains(&retry_after.as_secs()),
            "{retry_after:?}"
        );
        assert_eq!(*max_wait, Duration::from_secs(10));
        assert!(url.ends_with("/api/spaces?skip=0&take=10"), "{url}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(server.hits(), 1);
    })
    .await;
}
