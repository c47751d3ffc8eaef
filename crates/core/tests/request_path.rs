//! The central request path: retry classes, wait hints, budgets, auth, limits, redaction.

#[path = "../../../tests/support/server.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use ocean_core::{
    Auth, Client, Error, RetryBudget, RetryPolicy, Secret, TokenError, TokenProvider, TransportKind,
};
use support::{Reply, Server};
use tokio::time::Instant;

/// A policy whose backoffs are short, for tests on the real clock.
fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
}

fn client(url: &str, policy: RetryPolicy) -> Client {
    Client::builder(url).retry(policy).build().unwrap()
}

/// A client whose only timers are retry waits, so tokio's paused clock can run it.
fn paused_client(url: &str, policy: RetryPolicy) -> Client {
    Client::builder(url)
        .retry(policy)
        .timeout(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .build()
        .unwrap()
}

/// Answers `status` `failures` times, then 200 `{"ok":true}`.
async fn flaky(status: u16, failures: usize) -> Server {
    Server::start_local(move |n, _| {
        if n < failures {
            Reply::json(status, "{}")
        } else {
            Reply::json(200, r#"{"ok":true}"#)
        }
    })
    .await
}

#[tokio::test]
async fn retryable_statuses_are_retried_for_get() {
    for status in [408, 429, 502, 503, 504] {
        let server = flaky(status, 2).await;
        let c = client(&server.url, quick());
        let body: serde_json::Value = c.get("/x").send_json().await.unwrap();
        assert_eq!(body["ok"], true, "{status}");
        assert_eq!(server.hits(), 3, "{status}");
        assert_eq!(c.stats().retries, 2);
    }
}

#[tokio::test]
async fn other_statuses_are_never_retried() {
    for status in [400, 401, 403, 404, 409, 422, 500] {
        let server = flaky(status, 5).await;
        let err = client(&server.url, quick())
            .get("/x")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(!matches!(status, 400 | 401 | 403 | 404 | 422) || !err.is_retryable());
        assert_eq!(server.hits(), 1, "{status} must not be retried");
    }
}

#[tokio::test]
async fn status_500_is_retried_only_when_enabled() {
    let server = flaky(500, 1).await;
    client(&server.url, quick().retry_500(true))
        .get("/x")
        .send()
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn post_is_retried_on_429_but_not_on_503_unless_it_opts_in() {
    let server = flaky(429, 1).await;
    client(&server.url, quick())
        .post("/x")
        .json(&1)
        .send()
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);

    let server = flaky(503, 1).await;
    let err = client(&server.url, quick())
        .post("/x")
        .json(&1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.hits(), 1);

    let server = flaky(503, 1).await;
    client(&server.url, quick())
        .post("/x")
        .json(&1)
        .retryable(true)
        .send()
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = flaky(503, usize::MAX).await;
    let err = client(&server.url, quick().max_retries(3))
        .get("/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.hits(), 4);
    let status = err.as_status().unwrap();
    assert_eq!(status.attempts, 4);
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured_over_backoff() {
    let server = Server::start_local(|n, _| match n {
        0 => Reply::json(429, "{}").with_header("retry-after", "7"),
        1 => Reply::json(503, "{}").with_header("retry-after", "1.5"),
        _ => Reply::json(200, "{}"),
    })
    .await;
    let start = Instant::now();
    paused_client(&server.url, RetryPolicy::default())
        .get("/x")
        .send()
        .await
        .unwrap();
    assert_eq!(start.elapsed().as_millis(), 8500);
    assert_eq!(server.hits(), 3);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_honoured() {
    let at = SystemTime::now() + Duration::from_secs(30);
    let date = httpdate_fmt(at);
    let server = Server::start_local(move |n, _| {
        if n == 0 {
            Reply::json(503, "{}").with_header("retry-after", &date)
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let start = Instant::now();
    paused_client(&server.url, RetryPolicy::default())
        .get("/x")
        .send()
        .await
        .unwrap();
    let waited = start.elapsed().as_secs();
    assert!((28..=30).contains(&waited), "waited {waited}s");
}

fn httpdate_fmt(at: SystemTime) -> String {
    // RFC 1123, as servers send it.
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

#[tokio::test(start_paused = true)]
async fn a_wait_beyond_max_wait_fails_fast() {
    let server =
        Server::start_local(|_, _| Reply::json(429, "{}").with_header("retry-after", "3600")).await;
    let start = Instant::now();
    let policy = RetryPolicy::default().max_wait(Duration::from_secs(60));
    let err = paused_client(&server.url, policy)
        .get("/x")
        .send()
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(server.hits(), 1);
    match &err {
        Error::RateLimited {
            retry_after,
            max_wait,
            ..
        } => {
            assert_eq!(
                (*retry_after, *max_wait),
                (Duration::from_secs(3600), Duration::from_secs(60))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("3600s"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_exponentially_on_the_paused_clock() {
    let server = flaky(503, 4).await;
    let policy = RetryPolicy::default()
        .base_delay(Duration::from_secs(1))
        .jitter(ocean_core::Jitter::Range {
            low: 1.0,
            high: 1.0,
        });
    let start = Instant::now();
    paused_client(&server.url, policy)
        .get("/x")
        .send()
        .await
        .unwrap();
    // 1 + 2 + 4 + 8 seconds.
    assert_eq!(start.elapsed().as_secs(), 15);
}

#[tokio::test(start_paused = true)]
async fn total_retry_time_is_bounded() {
    let server = flaky(503, usize::MAX).await;
    let policy = RetryPolicy::default()
        .max_retries(100)
        .base_delay(Duration::from_secs(1))
        .jitter(ocean_core::Jitter::Range {
            low: 1.0,
            high: 1.0,
        })
        .max_elapsed(Duration::from_secs(10));
    let start = Instant::now();
    paused_client(&server.url, policy)
        .get("/x")
        .send()
        .await
        .unwrap_err();
    // Waits of 1, 2 and 4 s fit in 10 s; the next 8 s would not.
    assert_eq!(start.elapsed().as_secs(), 7);
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn retry_budget_stops_retry_storms() {
    let server = flaky(503, usize::MAX).await;
    let budget = RetryBudget {
        window: Duration::from_secs(10),
        min_per_sec: 1,
        ratio: 0.0,
    };
    let c = client(&server.url, quick().max_retries(50).budget(Some(budget)));
    for _ in 0..5 {
        c.get("/x").send().await.unwrap_err();
    }
    // Five requests with 50 retries each would be 255 sends; the budget allows about ten retries.
    let sent = server.hits();
    assert!(sent <= 5 + 12, "{sent} requests sent");
}

#[tokio::test]
async fn connection_resets_and_cut_bodies_are_retried() {
    let server = Server::start_local(|n, _| match n {
        0 => Reply::Reset,
        1 => Reply::Cut {
            announced: 100,
            body: r#"{"values":[1,2"#.into(),
            reset: false,
        },
        _ => Reply::json(200, r#"{"ok":true}"#),
    })
    .await;
    let c = client(&server.url, quick());
    let body: serde_json::Value = c.get("/x").send_json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn a_cut_body_on_a_plain_post_is_reported_not_retried() {
    let server = Server::start_local(|_, _| Reply::Cut {
        announced: 100,
        body: "{".into(),
        reset: false,
    })
    .await;
    let err = client(&server.url, quick())
        .post("/x")
        .json(&1)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Response,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn connect_failures_are_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&url, quick().max_retries(2))
        .post("/x")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = Server::start_local(|_, _| {
        Reply::After(Duration::from_millis(400), Box::new(Reply::json(200, "{}")))
    })
    .await;
    let c = Client::builder(&server.url)
        .timeout(Some(Duration::from_millis(50)))
        .retry(quick().max_retries(1))
        .build()
        .unwrap();
    let err = c.get("/slow").send().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("/slow"), "{err}");
    assert_eq!(server.hits(), 2);
}

struct Rotating {
    calls: AtomicUsize,
}

impl TokenProvider for Rotating {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Ok(Secret::new("old-token")) })
    }
    fn refresh(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Secret::new("new-token")) })
    }
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_the_new_token_sticks() {
    let server = Server::start_local(|_, req| {
        if req.header("authorization") == Some("Bearer new-token") {
            Reply::json(200, "{}")
        } else {
            Reply::json(401, r#"{"errorMessages":["token expired"]}"#)
        }
    })
    .await;
    let provider = Arc::new(Rotating {
        calls: AtomicUsize::new(0),
    });
    let c = Client::builder(&server.url)
        .auth(Auth::Provider(provider.clone()))
        // The refresh is not a retry: it works even with retries off.
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    c.post("/search").send().await.unwrap();
    c.get("/again").send().await.unwrap();
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    let auth: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(
        auth,
        ["Bearer old-token", "Bearer new-token", "Bearer new-token"]
    );
}

#[tokio::test]
async fn a_401_after_refresh_is_final() {
    let server = Server::start_local(|_, _| Reply::json(401, "{}")).await;
    let provider = Rotating {
        calls: AtomicUsize::new(0),
    };
    let c = Client::builder(&server.url)
        .auth(Auth::provider(provider))
        .retry(quick())
        .build()
        .unwrap();
    let err = c.get("/x").send().await.unwrap_err();
    assert_eq!(server.hits(), 2);
    assert!(err.to_string().contains("OAuth token provider"), "{err}");
}

#[tokio::test]
async fn secrets_never_reach_errors_or_debug() {
    let server = Server::start_local(|_, req| {
        // A hostile server echoing every header it got.
        let echo: Vec<_> = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        Reply::json(
            401,
            serde_json::json!({"errorMessages": echo, "ErrorMessage": "bad key API-SECRET-KEY-1"})
                .to_string(),
        )
    })
    .await;
    for auth in [
        Auth::api_key("X-Octopus-ApiKey", "API-SECRET-KEY-1").unwrap(),
        Auth::bearer("API-SECRET-KEY-1"),
        Auth::basic("me@example.com", "API-SECRET-KEY-1"),
    ] {
        let c = Client::builder(&server.url)
            .auth(auth.clone())
            .retry(quick())
            .build()
            .unwrap();
        let err = c.get("/x").send().await.unwrap_err();
        for text in [
            format!("{err}"),
            format!("{err:?}"),
            format!("{c:?}"),
            format!("{auth:?}"),
        ] {
            assert!(!text.contains("API-SECRET-KEY-1"), "leaked: {text}");
            // The base64 of the Basic credential must not leak either.
            assert!(!text.contains("QVBJLVNFQ1JFVC1LRVktMQ"), "leaked: {text}");
        }
        assert!(err.to_string().contains("check "), "{err}");
    }
}

#[tokio::test]
async fn basic_auth_header_and_user_agent_are_sent() {
    let server = Server::start_local(|_, _| Reply::json(200, "{}")).await;
    let c = Client::builder(format!("{}/", server.url))
        .auth(Auth::basic("me@example.com", "tok"))
        .build()
        .unwrap();
    c.get("rest/api/3/myself").send().await.unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.target, "/rest/api/3/myself");
    assert_eq!(
        req.header("authorization"),
        Some("Basic bWVAZXhhbXBsZS5jb206dG9r")
    );
    assert_eq!(
        req.header("user-agent"),
        Some(concat!("ocean-rs/", env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn default_headers_go_with_every_request_unless_the_request_sets_its_own() {
    let server = Server::start_local(|_, _| Reply::json(200, "{}")).await;
    let c = Client::builder(&server.url)
        .default_header("accept", "application/vnd.example+json")
        .default_header("x-api-version", "2024-01-01")
        .build()
        .unwrap();
    c.get("/a").send().await.unwrap();
    c.get("/b")
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(
        seen[0].header("accept"),
        Some("application/vnd.example+json")
    );
    assert_eq!(seen[1].header("accept"), Some("text/plain"));
    assert!(
        seen.iter()
            .all(|r| r.header("x-api-version") == Some("2024-01-01"))
    );
}

#[tokio::test]
async fn an_absolute_url_is_fetched_only_under_the_base_url() {
    let server = Server::start_local(|_, req| match req.path() {
        "/api/items/1" => Reply::json(200, r#"{"id":1}"#),
        "/api/items/2" => Reply::json(410, "{}"),
        _ => Reply::json(404, "{}"),
    })
    .await;
    let c = client(&format!("{}/api", server.url), RetryPolicy::none());
    let url = format!("{}/api/items/1?expand=all#frag", server.url);
    let found = c.get_url(&url).send_if_found().await.unwrap().unwrap();
    assert_eq!(found.body().as_ref(), br#"{"id":1}"#);
    let item: Option<ocean_core::RawItem> = c.get_url(&url).send_json_if_found().await.unwrap();
    assert_eq!(item.unwrap().get(), r#"{"id":1}"#);
    assert_eq!(server.requests()[0].target, "/api/items/1?expand=all");
    for gone in ["/api/items/2", "/api/items/3"] {
        let url = format!("{}{gone}", server.url);
        assert!(
            c.get_url(&url).send_if_found().await.unwrap().is_none(),
            "{gone}"
        );
    }
    let hits = server.hits();
    for foreign in [
        format!("{}/apix/items/1", server.url),
        "https://elsewhere.example/api/items/1?token=s3cret".to_owned(),
    ] {
        let error = c.get_url(&foreign).send().await.unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
    assert_eq!(server.hits(), hits, "nothing sent elsewhere");
    let refused = c.get("/api/other").send_if_found().await.unwrap();
    assert!(refused.is_none(), "a 404 is none");
    let server = Server::start_local(|_, _| Reply::json(500, "{}")).await;
    let c = client(&server.url, RetryPolicy::none());
    assert!(
        c.get("/x").send_if_found().await.is_err(),
        "other failures stay errors"
    );
}

#[tokio::test]
async fn an_hourly_budget_paces_what_is_left_until_the_reset() {
    // 30 requests left for 10 s: three a second once under a fifth of 1000 is left.
    let server = Server::start_local(|_, _| {
        Reply::json(200, "{}")
            .with_header("x-ratelimit-limit", "1000")
            .with_header("x-ratelimit-remaining", "30")
            .with_header("x-ratelimit-reset", "10")
    })
    .await;
    let c = Client::builder(&server.url)
        .rate_limit_window(Duration::from_secs(3600))
        .build()
        .unwrap();
    let started = Instant::now();
    for _ in 0..4 {
        c.get("/x").send().await.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "paced: {:?}",
        started.elapsed()
    );
    // Per second (the default), the same headers do not slow anything.
    let c = client(&server.url, RetryPolicy::none());
    let started = Instant::now();
    for _ in 0..4 {
        c.get("/x").send().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn base_url_joining_is_normalised() {
    let a = Client::builder("http://h/api/").build().unwrap();
    let b = Client::builder("http://h/api").build().unwrap();
    assert_eq!(a.url("spaces").unwrap(), b.url("/spaces").unwrap());
    assert_eq!(a.url("/spaces").unwrap().as_str(), "http://h/api/spaces");
    assert!(matches!(
        Client::builder("http://user:pw@h/").build(),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        Client::builder("ftp://h/").build(),
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = Server::start_local(|_, _| {
        Reply::After(Duration::from_millis(30), Box::new(Reply::json(200, "{}")))
    })
    .await;
    let c = Client::builder(&server.url)
        .max_concurrency(4)
        .build()
        .unwrap();
    let calls = (0..24).map(|i| c.get(format!("/x/{i}")).send());
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(server.hits(), 24);
    assert_eq!(server.peak_in_flight(), 4);
}

#[tokio::test(start_paused = true)]
async fn near_limit_headers_pause_new_requests_until_the_reset() {
    let server = Server::start_local(|n, _| {
        if n == 0 {
            Reply::json(200, "{}")
                .with_header("x-ratelimit-remaining", "1")
                .with_header("x-ratelimit-reset", "20")
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let c = paused_client(&server.url, RetryPolicy::default());
    c.get("/a").send().await.unwrap();
    let start = Instant::now();
    c.get("/b").send().await.unwrap();
    assert_eq!(start.elapsed().as_secs(), 20);
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_every_request_not_just_the_one_retried() {
    let server = Server::start_local(|n, _| {
        if n == 0 {
            Reply::json(429, "{}").with_header("retry-after", "5")
        } else {
            Reply::json(200, "{}")
        }
    })
    .await;
    let c = paused_client(&server.url, RetryPolicy::default());
    let start = Instant::now();
    c.get("/first").send().await.unwrap();
    c.get("/second").send().await.unwrap();
    assert_eq!(start.elapsed().as_secs(), 5);
    assert_eq!(c.stats().throttled, 1);
}

#[tokio::test]
async fn client_side_rate_limit_paces_requests() {
    let server = Server::start_local(|_, _| Reply::json(200, "{}")).await;
    let c = Client::builder(&server.url)
        .rate_limit(Some(20.0))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    for _ in 0..30 {
        c.get("/x").send().await.unwrap();
    }
    // A burst of 20, then 10 more at 20/s.
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn decode_errors_name_url_and_json_path_and_content_type() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Me {
        id: u64,
    }
    let server = Server::start_local(|n, _| match n {
        0 => Reply::json(200, r#"{"id":"x"}"#),
        _ => Reply::Full {
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: "<html>login</html>".into(),
        },
    })
    .await;
    let c = client(&server.url, quick());
    let err = c.get("/me").send().await.unwrap().json::<Me>().unwrap_err();
    assert!(
        matches!(&err, Error::Decode { path, url, .. } if path == "id" && url.ends_with("/me")),
        "{err:?}"
    );
    let err = c.get("/me").send().await.unwrap().json::<Me>().unwrap_err();
    assert!(err.to_string().contains("text/html"), "{err}");
}
