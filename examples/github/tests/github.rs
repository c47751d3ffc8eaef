//! The GitHub provider against httpmock: `Link` pages, pull requests kept out of issues,
//! `since=`, GitHub's error body, its rate-limit headers and headers sent, re-fetching by
//! `url`, and webhooks (signatures, events, the object fetched again).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use httpmock::Method::GET;
use httpmock::{Mock, MockServer};
use ocean_core::reqwest::header::{HeaderMap, HeaderValue};
use ocean_core::webhook::{
    Action, Change, PendingChange, VerifyError, WebhookEvent, WebhookSource, hmac_sha256_hex,
};
use ocean_core::{Error, ItemChange, Provider, Record, RetryPolicy, Secret};
use ocean_github_example::{GitHubProvider, client};

const TOKEN: &str = "ghp_TESTTOKEN0123456789";
const ORG: &str = "acme";

fn provider(server: &MockServer, retry: RetryPolicy) -> GitHubProvider {
    let client = client(&server.base_url(), TOKEN)
        .retry(retry)
        .build()
        .unwrap();
    GitHubProvider::new(client, ORG)
}

fn repo(server: &MockServer, name: &str) -> String {
    let url = server.url(format!("/repos/{ORG}/{name}"));
    format!(
        r#"{{"id":7, "name":"{name}","full_name":"{ORG}/{name}","url":"{url}","private":false,"topics":["a"]}}"#
    )
}

fn issue(server: &MockServer, repo: &str, number: u64, pull_request: bool) -> String {
    let url = server.url(format!("/repos/{ORG}/{repo}/issues/{number}"));
    let pr = if pull_request {
        r#","pull_request":{"url":"x"}"#
    } else {
        ""
    };
    format!(
        r#"{{"url":"{url}","number":{number},"title":"t {number}","state":"open","labels":[]{pr}}}"#
    )
}

/// Mocks `path` as `Link`-paged pages of `items`; every request must carry the token.
async fn pages<'a>(server: &'a MockServer, path: &str, pages: &[Vec<String>]) -> Vec<Mock<'a>> {
    let mut mocks = Vec::new();
    for (i, items) in pages.iter().enumerate() {
        let number = i + 1;
        let mock = server
            .mock_async(|when, then| {
                let when = when
                    .method(GET)
                    .path(path)
                    .header("authorization", format!("Bearer {TOKEN}"));
                if number == 1 {
                    when.query_param("per_page", "100")
                        .query_param_missing("page");
                } else {
                    when.query_param("page", number.to_string());
                }
                let then = then.status(200).header("content-type", "application/json");
                let then = if number < pages.len() {
                    let next = server.url(format!("{path}?per_page=100&page={}", number + 1));
                    then.header(
                        "link",
                        format!(r#"<{next}>; rel="next", <{next}>; rel="last""#),
                    )
                } else {
                    then
                };
                then.body(format!("[{}]", items.join(",")));
            })
            .await;
        mocks.push(mock);
    }
    mocks
}

/// Epoch seconds `secs` from now, as `X-RateLimit-Reset` gives a reset.
fn epoch_in(secs: u64) -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    now.as_secs() + secs
}

/// Every record of a full stream of `kind`.
async fn full(github: &GitHubProvider, kind: &str) -> ocean_core::Result<Vec<Record>> {
    github.full(kind, None).try_collect().await
}

fn raw_items(records: &[Record]) -> BTreeSet<String> {
    records.iter().map(|r| r.item.get().to_owned()).collect()
}

#[tokio::test]
async fn repositories_and_their_issues_stream_across_link_pages_without_pull_requests() {
    let server = MockServer::start_async().await;
    let repos = [
        repo(&server, "one"),
        repo(&server, "two"),
        repo(&server, "three"),
    ];
    let repo_mocks = pages(
        &server,
        "/orgs/acme/repos",
        &[repos[..2].to_vec(), repos[2..].to_vec()],
    )
    .await;
    let (i1, pr2, i3) = (
        issue(&server, "one", 1, false),
        issue(&server, "one", 2, true),
        issue(&server, "one", 3, false),
    );
    let i4 = issue(&server, "three", 4, false);
    pages(
        &server,
        "/repos/acme/one/issues",
        &[vec![i1.clone(), pr2], vec![i3.clone()]],
    )
    .await;
    pages(&server, "/repos/acme/two/issues", &[vec![]]).await;
    pages(&server, "/repos/acme/three/issues", &[vec![i4.clone()]]).await;
    let github = provider(&server, RetryPolicy::none());

    let records = full(&github, "repository").await.unwrap();
    assert_eq!(
        raw_items(&records),
        repos.iter().cloned().collect(),
        "bytes as sent"
    );
    assert!(
        records
            .iter()
            .all(|r| r.kind == "repository" && r.parent.is_none())
    );
    for mock in &repo_mocks {
        assert_eq!(mock.calls_async().await, 1);
    }

    let records = full(&github, "issue").await.unwrap();
    assert_eq!(
        raw_items(&records),
        BTreeSet::from([i1, i3, i4]),
        "the pull request is not an issue"
    );
    for record in &records {
        let parent = record.parent.as_ref().unwrap();
        assert_eq!(parent.field, "repository_url");
        let number: serde_json::Value = serde_json::from_str(record.item.get()).unwrap();
        let repo = if number["number"] == 4 {
            "three"
        } else {
            "one"
        };
        assert_eq!(parent.id, server.url(format!("/repos/acme/{repo}")));
    }
}

#[tokio::test]
async fn pull_requests_and_workflow_runs_are_read_per_repository() {
    let server = MockServer::start_async().await;
    pages(&server, "/orgs/acme/repos", &[vec![repo(&server, "one")]]).await;
    let pull = format!(
        r#"{{"url":"{}","number":9,"title":"p","state":"closed","merged_at":null}}"#,
        server.url("/repos/acme/one/pulls/9")
    );
    let pulls = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/repos/acme/one/pulls")
                .query_param("state", "all");
            then.status(200).body(format!("[{pull}]"));
        })
        .await;
    let run = format!(
        r#"{{"url":"{}","status":"completed","conclusion":"success","run_attempt":1}}"#,
        server.url("/repos/acme/one/actions/runs/5")
    );
    server
        .mock_async(|when, then| {
            when.method(GET).path("/repos/acme/one/actions/runs");
            then.status(200)
                .body(format!(r#"{{"total_count":1,"workflow_runs":[{run}]}}"#));
        })
        .await;
    let github = provider(&server, RetryPolicy::none());

    let records = full(&github, "pull_request").await.unwrap();
    assert_eq!(raw_items(&records), BTreeSet::from([pull]));
    pulls.assert_async().await;
    let records = full(&github, "workflow_run").await.unwrap();
    assert_eq!(raw_items(&records), BTreeSet::from([run]));
    assert_eq!(records[0].kind, "workflow_run");
    let error = full(&github, "gist").await.unwrap_err();
    assert!(
        matches!(error, Error::Config(ref m) if m.contains("gist")),
        "{error}"
    );
}

#[tokio::test]
async fn githubs_error_body_lands_in_the_typed_error() {
    let server = MockServer::start_async().await;
    server.mock_async(|when, then| {
        when.method(GET).path("/orgs/acme/repos");
        then.status(404).body(r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos"}"#);
    }).await;
    let github = provider(&server, RetryPolicy::none());
    let error = full(&github, "repository").await.unwrap_err();
    let status = error.as_status().expect("a status error");
    assert_eq!(status.status.as_u16(), 404);
    assert_eq!(
        status.messages,
        ["Not Found", "see https://docs.github.com/rest/repos"]
    );
    assert!(error.to_string().contains("Not Found"), "{error}");
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_spent_budget_holds_the_next_page_until_the_epoch_reset() {
    let server = MockServer::start_async().await;
    // Timed from before the reset is set: a slow setup must not eat into the wait.
    let started = Instant::now();
    let reset = epoch_in(2);
    let next = server.url("/orgs/acme/repos?per_page=100&page=2");
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/orgs/acme/repos")
                .query_param_missing("page");
            then.status(200)
                .header("link", format!(r#"<{next}>; rel="next""#))
                .header("x-ratelimit-limit", "5000")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", reset.to_string())
                .body(format!("[{}]", repo(&server, "one")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/orgs/acme/repos")
                .query_param("page", "2");
            then.status(200).body(format!("[{}]", repo(&server, "two")));
        })
        .await;
    let github = provider(&server, RetryPolicy::none());

    let records = full(&github, "repository").await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for the reset: {:?}",
        started.elapsed()
    );
    first.assert_async().await;
    second.assert_async().await;
}

#[tokio::test]
async fn a_secondary_limits_retry_after_is_waited_or_refused_when_too_long() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/orgs/acme/repos");
            then.status(429)
                .header("retry-after", "1")
                .body(r#"{"message":"You have exceeded a secondary rate limit"}"#);
        })
        .await;
    let github = provider(&server, RetryPolicy::default().max_retries(1).budget(None));
    let started = Instant::now();
    let error = full(&github, "repository").await.unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(limited.calls_async().await, 2);
    let status = error.as_status().expect("a status error");
    assert_eq!((status.status.as_u16(), status.attempts), (429, 2));
    assert_eq!(
        status.messages,
        ["You have exceeded a secondary rate limit"]
    );

    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/orgs/acme/repos");
            then.status(429).header("retry-after", "3600").body("{}");
        })
        .await;
    let github = provider(&server, RetryPolicy::default().max_retries(3));
    let error = full(&github, "repository").await.unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(3600)),
        "{error}"
    );
    assert_eq!(limited.calls_async().await, 1);
}

#[tokio::test]
async fn changed_issues_are_asked_for_with_since_less_the_overlap() {
    let server = MockServer::start_async().await;
    pages(&server, "/orgs/acme/repos", &[vec![repo(&server, "one")]]).await;
    let changed = issue(&server, "one", 1, false);
    let issues = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/repos/acme/one/issues")
                .query_param("state", "all")
                .query_param("since", "2024-01-01T00:00:00Z");
            then.status(200)
                .body(format!("[{changed},{}]", issue(&server, "one", 2, true)));
        })
        .await;
    let github = provider(&server, RetryPolicy::none());
    assert!(github.kind("issue").unwrap().incremental);

    let bookmark = 1_704_067_260_000; // 2024-01-01T00:01:00Z
    let changes: Vec<ItemChange> = github
        .changes_since("issue", bookmark)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    issues.assert_async().await;
    let [ItemChange::Upsert(record)] = &changes[..] else {
        panic!("{changes:?}")
    };
    assert_eq!(record.item.get(), changed);
    assert!(github.changes_since("pull_request", bookmark).is_none());
}

#[tokio::test]
async fn one_object_is_fetched_again_at_its_url() {
    let server = MockServer::start_async().await;
    let body = issue(&server, "one", 1, false);
    server
        .mock_async(|when, then| {
            when.method(GET).path("/repos/acme/one/issues/1");
            then.status(200).body(body.clone());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/repos/acme/one/issues/2");
            then.status(410)
                .body(r#"{"message":"This issue was deleted"}"#);
        })
        .await;
    let github = provider(&server, RetryPolicy::none());

    let record = github
        .fetch_one("issue", &server.url("/repos/acme/one/issues/1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((record.kind, record.item.get()), ("issue", body.as_str()));
    assert_eq!(record.parent.unwrap().id, server.url("/repos/acme/one"));
    let gone = github
        .fetch_one("issue", &server.url("/repos/acme/one/issues/2"))
        .await
        .unwrap();
    assert!(gone.is_none());
    let foreign = github
        .fetch_one("issue", "https://elsewhere.example/repos/acme/one/issues/1")
        .await
        .unwrap_err();
    assert!(matches!(foreign, Error::Config(_)), "{foreign}");
    assert!(github.fetch_one("gist", "x").await.is_err());
}

/// The provider's webhook source, checking deliveries against `secret`.
fn webhooks(server: &MockServer, secret: Option<&str>) -> Arc<dyn WebhookSource> {
    let github = provider(server, RetryPolicy::none());
    github
        .webhook_source(secret.map(Secret::new).as_ref())
        .unwrap()
}

/// Headers of a delivery of `event` signed with `secret`.
fn delivery(event: &str, secret: &[u8], body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", HeaderValue::from_str(event).unwrap());
    let signature = format!("sha256={}", hmac_sha256_hex(secret, body));
    headers.insert(
        "x-hub-signature-256",
        HeaderValue::from_str(&signature).unwrap(),
    );
    headers
}

#[tokio::test]
async fn webhook_signatures_are_checked() {
    let server = MockServer::start_async().await;
    let source = webhooks(&server, Some("s3cret"));
    let body = br#"{"action":"opened","issue":{"number":1}}"#;
    let mut headers = HeaderMap::new();
    assert!(source.verifies());
    assert_eq!(
        source.verify(&headers, body),
        Err(VerifyError::Missing {
            header: "x-hub-signature-256".into()
        })
    );
    headers = delivery("issues", b"s3cret", body);
    assert_eq!(source.verify(&headers, body), Ok(()));
    assert!(matches!(
        source.verify(&headers, b"{}"),
        Err(VerifyError::Mismatch { .. })
    ));
    headers.insert("x-hub-signature-256", HeaderValue::from_static("sha1=abc"));
    assert!(matches!(
        source.verify(&headers, body),
        Err(VerifyError::Mismatch { .. })
    ));
    let open = webhooks(&server, None);
    assert!(!open.verifies() && open.verify(&HeaderMap::new(), body).is_ok());
}

#[tokio::test]
async fn webhook_events_name_the_object_to_fetch_again_by_its_url() {
    let server = MockServer::start_async().await;
    let source = webhooks(&server, Some("s3cret"));
    let repo = server.url("/repos/acme/one");
    let parse = |event: &str, body: String| {
        let headers = delivery(event, b"s3cret", body.as_bytes());
        source.verify(&headers, body.as_bytes()).unwrap();
        source.parse(&source.delivery_body(&headers, body.as_bytes()))
    };
    let cases = [
        (
            "issues",
            "edited",
            "issue",
            "/repos/acme/one/issues/1",
            Action::Upsert,
        ),
        (
            "issues",
            "deleted",
            "issue",
            "/repos/acme/one/issues/2",
            Action::Delete,
        ),
        (
            "pull_request",
            "closed",
            "pull_request",
            "/repos/acme/one/pulls/3",
            Action::Upsert,
        ),
        (
            "workflow_run",
            "completed",
            "workflow_run",
            "/repos/acme/one/actions/runs/4",
            Action::Upsert,
        ),
        (
            "repository",
            "archived",
            "repository",
            "/repos/acme/one",
            Action::Upsert,
        ),
        (
            "repository",
            "deleted",
            "repository",
            "/repos/acme/one",
            Action::Delete,
        ),
    ];
    for (event, action, kind, path, expected) in cases {
        let url = server.url(path);
        let body = format!(
            r#"{{"action":"{action}","{kind}":{{"url":"{url}","id":9}},"repository":{{"url":"{repo}"}}}}"#
        );
        let Ok(WebhookEvent::Changes {
            event: name,
            changes,
        }) = parse(event, body)
        else {
            panic!("{event} {action}")
        };
        assert_eq!(name, event);
        let [pending] = &changes[..] else {
            panic!("{changes:?}")
        };
        let change = &pending.change;
        assert_eq!(
            (change.kind, change.action, change.id.as_str()),
            (kind, expected, url.as_str())
        );
        let parent = change.parent.as_ref().map(|p| (p.field, p.id.as_str()));
        let expected_parent = (kind != "repository").then_some(("repository_url", repo.as_str()));
        assert_eq!(parent, expected_parent, "{event}");
    }
    let ignored = parse("push", r#"{"ref":"main"}"#.into()).unwrap();
    assert!(matches!(ignored, WebhookEvent::Unsupported { ref event, .. } if event == "push"));
    let no_url = parse("issues", r#"{"action":"opened","issue":{}}"#.into()).unwrap_err();
    assert_eq!(no_url.path, "issue.url");
    let no_event = source.parse(&source.delivery_body(&HeaderMap::new(), b"{}"));
    assert_eq!(no_event.unwrap_err().path, "headers.x-github-event");
    assert_eq!(source.parse(b"{nope").unwrap_err().path, ".");

    let body = issue(&server, "one", 1, false);
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/repos/acme/one/issues/1")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).body(body.clone());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/repos/acme/one/issues/2");
            then.status(404).body(r#"{"message":"Not Found"}"#);
        })
        .await;
    let change = |n: u64| {
        let id = server.url(format!("/repos/acme/one/issues/{n}"));
        PendingChange::from(Change {
            kind: "issue",
            action: Action::Upsert,
            id,
            parent: None,
        })
    };
    let item = source.fetch(&change(1)).await.unwrap().unwrap();
    assert_eq!(item.get(), body, "the bytes as sent");
    fresh.assert_async().await;
    assert!(source.fetch(&change(2)).await.unwrap().is_none(), "gone");
}

#[tokio::test]
async fn githubs_media_type_and_api_version_go_with_every_request() {
    let server = MockServer::start_async().await;
    let repos = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/orgs/acme/repos")
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28");
            then.status(200).body("[]");
        })
        .await;
    let github = provider(&server, RetryPolicy::none());
    assert!(full(&github, "repository").await.unwrap().is_empty());
    repos.assert_async().await;
}

#[tokio::test]
async fn an_hourly_budget_running_low_paces_requests_until_the_reset() {
    let server = MockServer::start_async().await;
    let reset = epoch_in(10);
    // 30 requests left of 5000 for ten seconds: three a second.
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/orgs/acme/repos");
            then.status(200)
                .header("x-ratelimit-limit", "5000")
                .header("x-ratelimit-remaining", "30")
                .header("x-ratelimit-reset", reset.to_string())
                .body("[]");
        })
        .await;
    let github = provider(&server, RetryPolicy::none());
    let started = Instant::now();
    for _ in 0..4 {
        full(&github, "repository").await.unwrap();
    }
    assert_eq!(limited.calls_async().await, 4);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "paced: {:?}",
        started.elapsed()
    );
}

#[test]
fn kinds_name_their_parent_and_identity() {
    let client = client("https://api.github.com", TOKEN).build().unwrap();
    let github = GitHubProvider::new(client, ORG);
    let kinds: Vec<_> = github
        .kinds()
        .iter()
        .map(|k| (k.name, k.parent, k.id_field))
        .collect();
    assert_eq!(
        kinds,
        [
            ("repository", None, "url"),
            ("issue", Some("repository"), "url"),
            ("pull_request", Some("repository"), "url"),
            ("workflow_run", Some("repository"), "url"),
        ]
    );
}

#[tokio::test]
async fn a_403_is_retried_only_when_the_rate_limit_headers_explain_it() {
    let reset = epoch_in(1).to_string();
    let cases: [(&[(&str, &str)], usize); 3] = [
        // The secondary limit: `Retry-After`.
        (&[("retry-after", "1")], 2),
        // The primary limit, spent: wait for the reset.
        (
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            2,
        ),
        // A refusal: every answer carries a reset, but the budget is not spent.
        (
            &[
                ("x-ratelimit-remaining", "4999"),
                ("x-ratelimit-reset", &reset),
            ],
            1,
        ),
    ];
    for (headers, sends) in cases {
        let server = MockServer::start_async().await;
        let refused = server
            .mock_async(|when, then| {
                when.method(GET).path("/orgs/acme/repos");
                let then = headers
                    .iter()
                    .fold(then.status(403), |then, (k, v)| then.header(*k, *v));
                then.body(r#"{"message":"Resource not accessible by integration"}"#);
            })
            .await;
        let github = provider(&server, RetryPolicy::default().max_retries(1).budget(None));
        let error = full(&github, "repository").await.unwrap_err();
        assert_eq!(refused.calls_async().await, sends, "{headers:?}");
        assert_eq!(error.is_retryable(), sends > 1, "{headers:?}");
        assert_eq!(
            error.as_status().unwrap().messages,
            ["Resource not accessible by integration"]
        );
    }
}
