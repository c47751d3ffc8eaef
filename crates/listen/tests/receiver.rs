//! The receiver end to end, with the real Jira and Octopus sources: verification, limits,
//! malformed and unknown events, back-pressure, and re-fetches that fail; and a source
//! whose event is named in a header.

#[path = "../../../tests/support/header_named.rs"]
mod header_named;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use header_named::HeaderNamed;
use ocean_core::webhook::{Action, hmac_sha256_hex};
use ocean_core::{RetryPolicy, WebhookSource};
use ocean_jira::{JiraClient, JiraWebhooks};
use ocean_listen::{ChangeLine, ListenOptions};
use ocean_octopus::{OctopusClient, OctopusWebhooks};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

const SECRET: &str = "s3cret";
const OCTOPUS_HEADER: &str = "X-Ocean-Webhook-Secret";
/// Every wait is bounded: a broken receiver fails the test instead of hanging it.
const WAIT: Duration = Duration::from_secs(10);

/// A Jira source whose client must never be used: nothing answers on its port and it does
/// not retry, so an unexpected fetch fails fast (and shows up as a missing line).
fn jira(secret: Option<&str>) -> Arc<dyn WebhookSource> {
    let client = JiraClient::builder("http://127.0.0.1:9")
        .basic("me@example.com", "token")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let source = JiraWebhooks::new(client);
    Arc::new(match secret {
        Some(s) => source.secret(s),
        None => source,
    })
}

fn octopus(url: &str) -> Arc<dyn WebhookSource> {
    let quick = RetryPolicy::default()
        .max_retries(3)
        .base_delay(Duration::from_millis(10))
        .budget(None);
    let client = OctopusClient::builder(url)
        .api_key("API-TEST")
        .retry(quick)
        .build()
        .unwrap();
    Arc::new(OctopusWebhooks::new(client).header(OCTOPUS_HEADER, SECRET))
}

/// A router with a running worker, and the channel its changes arrive on.
fn start(
    source: Arc<dyn WebhookSource>,
    options: ListenOptions,
) -> (Router, mpsc::Receiver<ChangeLine>) {
    let (sink, lines) = mpsc::channel(64);
    (ocean_listen::router(source, Arc::new(sink), options), lines)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn post(router: &Router, headers: &[(&str, String)], body: impl Into<Vec<u8>>) -> Answer {
    let mut request = Request::post(ocean_listen::WEBHOOK_PATH);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request.body(Body::from(body.into())).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

fn signed(secret: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let signature = format!("sha256={}", hmac_sha256_hex(secret.as_bytes(), body));
    vec![("x-hub-signature", signature)]
}

fn issue_event(name: &str, key: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "webhookEvent": name,
        "issue": { "id": "10001", "key": key, "fields": { "summary": "from the body" } }
    }))
    .unwrap()
}

async fn next_line(lines: &mut mpsc::Receiver<ChangeLine>) -> ChangeLine {
    tokio::time::timeout(WAIT, lines.recv())
        .await
        .expect("a change line within the deadline")
        .expect("the sink is open")
}

/// Waits for the line of a marker delivery, sent after the ones under test: the worker
/// keeps the order, so anything they had queued would have come out first.
async fn only_marker_arrives(router: &Router, lines: &mut mpsc::Receiver<ChangeLine>) {
    let marker = issue_event("jira:issue_deleted", "MARK-1");
    let answer = post(router, &signed(SECRET, &marker), marker).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let line = next_line(lines).await;
    assert_eq!((line.action(), line.id()), (Action::Delete, "MARK-1"));
    assert!(lines.try_recv().is_err(), "nothing else was written");
}

#[tokio::test]
async fn a_bad_signature_is_401_and_nothing_is_processed() {
    let (router, mut lines) = start(jira(Some(SECRET)), ListenOptions::default());
    let body = issue_event("jira:issue_updated", "ED-1");
    for headers in [signed("wrong", &body), signed(SECRET, b"another body")] {
        let answer = post(&router, &headers, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(
            answer.body["error"]
                .as_str()
                .unwrap()
                .contains("X-Hub-Signature"),
            "{}",
            answer.body
        );
    }
    only_marker_arrives(&router, &mut lines).await;
}

#[tokio::test]
async fn a_missing_signature_or_secret_header_is_401() {
    let (router, mut lines) = start(jira(Some(SECRET)), ListenOptions::default());
    let answer = post(&router, &[], issue_event("jira:issue_updated", "ED-1")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.body["error"].as_str().unwrap().contains("missing"),
        "{}",
        answer.body
    );
    only_marker_arrives(&router, &mut lines).await;

    let (router, _lines) = start(octopus("http://127.0.0.1:9"), ListenOptions::default());
    let body =
        br#"{"Payload":{"Event":{"Category":"Deleted","RelatedDocumentIds":["Projects-1"]}}}"#;
    let answer = post(&router, &[], &body[..]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let wrong = [(OCTOPUS_HEADER, "s3cre".to_owned())];
    assert_eq!(
        post(&router, &wrong, &body[..]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let right = [(OCTOPUS_HEADER, SECRET.to_owned())];
    assert_eq!(
        post(&router, &right, &body[..]).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn unsigned_deliveries_are_accepted_without_a_secret() {
    let (router, mut lines) = start(jira(None), ListenOptions::default());
    let body = issue_event("jira:issue_deleted", "ED-4");
    let answer = post(&router, &[], body).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert_eq!(answer.body, json!({ "accepted": 1 }));
    assert_eq!(next_line(&mut lines).await.id(), "ED-4");
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let options = ListenOptions::default().body_limit(256);
    let (router, mut lines) = start(jira(Some(SECRET)), options);
    let mut body = issue_event("jira:issue_deleted", "ED-1");
    body.truncate(body.len() - 1);
    body.extend(format!(r#","padding":"{}"}}"#, "x".repeat(300)).bytes());
    let answer = post(&router, &signed(SECRET, &body), body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    only_marker_arrives(&router, &mut lines).await;
}

#[tokio::test]
async fn malformed_json_is_400_with_the_json_path() {
    let (router, mut lines) = start(jira(Some(SECRET)), ListenOptions::default());
    let cases: [(&[u8], &str); 3] = [
        (b"{not json", "."),
        (
            br#"{"webhookEvent":"jira:issue_created","issue":{"id":"1"}}"#,
            "issue.key",
        ),
        (
            br#"{"webhookEvent":"sprint_closed","sprint":{"id":true}}"#,
            "sprint.id",
        ),
    ];
    for (body, path) in cases {
        let answer = post(&router, &signed(SECRET, body), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(answer.body["path"], path, "{}", answer.body);
        assert!(answer.body["error"].is_string());
    }
    only_marker_arrives(&router, &mut lines).await;

    let (router, _lines) = start(octopus("http://127.0.0.1:9"), ListenOptions::default());
    let body =
        br#"{"Payload":{"Event":{"Category":"Modified","RelatedDocumentIds":["Projects-1",2]}}}"#;
    let answer = post(&router, &[(OCTOPUS_HEADER, SECRET.to_owned())], &body[..]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["path"], "Payload.Event.RelatedDocumentIds[1]");
}

#[tokio::test]
async fn an_unknown_event_is_2xx_and_writes_nothing() {
    let (router, mut lines) = start(jira(Some(SECRET)), ListenOptions::default());
    let body = br#"{"webhookEvent":"issuelink_created","issueLink":{"id":1}}"#;
    let answer = post(&router, &signed(SECRET, body), &body[..]).await;
    assert!(answer.status.is_success(), "{}", answer.status);
    assert!(answer.body["ignored"].is_string(), "{}", answer.body);
    only_marker_arrives(&router, &mut lines).await;
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let options = ListenOptions::default()
        .queue_capacity(1)
        .retry_after(Duration::from_secs(2));
    let (sink, mut lines) = mpsc::channel(8);
    // The worker is held back, so the queue fills deterministically.
    let (router, worker) = ocean_listen::receiver(jira(None), Arc::new(sink), options);
    let first = issue_event("jira:issue_deleted", "ED-1");
    let second = issue_event("jira:issue_deleted", "ED-2");
    assert_eq!(post(&router, &[], first).await.status, StatusCode::ACCEPTED);
    let full = post(&router, &[], second.clone()).await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(full.headers["retry-after"], "2");

    tokio::spawn(worker.run());
    assert_eq!(next_line(&mut lines).await.id(), "ED-1");
    // The sender's retry now finds room.
    assert_eq!(
        post(&router, &[], second).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(next_line(&mut lines).await.id(), "ED-2");
    assert!(lines.try_recv().is_err());
}

/// A stand-in Octopus server answering every GET from a script (the last answer repeats),
/// recording the paths asked for.
#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<(u16, &'static str)>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    async fn start(answers: &[(u16, &'static str)]) -> (Self, String) {
        let script = Self::default();
        script
            .answers
            .lock()
            .unwrap()
            .extend(answers.iter().copied());
        let state = script.clone();
        let app = Router::new().fallback(move |uri: axum::http::Uri| {
            let state = state.clone();
            async move {
                state.hits.lock().unwrap().push(uri.path().to_owned());
                let mut answers = state.answers.lock().unwrap();
                let (status, body) = if answers.len() > 1 {
                    answers.pop_front().unwrap()
                } else {
                    answers[0]
                };
                (StatusCode::from_u16(status).unwrap(), body)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (script, url)
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn deployment_event(ids: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "EventType": "SubscriptionPayload",
        "Payload": { "Event": {
            "Id": "Events-1", "Category": "DeploymentSucceeded", "SpaceId": "Spaces-1",
            "RelatedDocumentIds": ids,
        } }
    }))
    .unwrap()
}

const DEPLOYMENT: &str = r#"{"Id":"Deployments-7","SpaceId":"Spaces-1", "State":"Success"}"#;

#[tokio::test]
async fn a_transient_fetch_failure_is_retried_and_the_change_lands_once() {
    let (server, url) = Scripted::start(&[(503, "busy"), (200, DEPLOYMENT)]).await;
    let (router, mut lines) = start(octopus(&url), ListenOptions::default());
    let header = [(OCTOPUS_HEADER, SECRET.to_owned())];
    let answer = post(&router, &header, deployment_event(&["Deployments-7"])).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);

    let ChangeLine::Upsert {
        kind, parent, item, ..
    } = next_line(&mut lines).await
    else {
        panic!("an upsert")
    };
    assert_eq!(kind, "deployment");
    assert_eq!(parent.unwrap().id, "Spaces-1");
    assert_eq!(item.get(), DEPLOYMENT, "the fetched bytes, untouched");
    assert_eq!(
        server.hits(),
        ["/api/Spaces-1/deployments/Deployments-7"; 2],
        "one failure, one retry"
    );
    // Once: a later delivery's line is the next one.
    let deleted = br#"{"Payload":{"Event":{"Category":"Deleted","SpaceId":"Spaces-1","RelatedDocumentIds":["Projects-2"]}}}"#;
    assert_eq!(
        post(&router, &header, &deleted[..]).await.status,
        StatusCode::ACCEPTED
    );
    let line = next_line(&mut lines).await;
    assert_eq!((line.action(), line.id()), (Action::Delete, "Projects-2"));
    assert!(lines.try_recv().is_err());
}

#[tokio::test]
async fn a_vanished_entity_becomes_a_delete_and_a_lasting_failure_skips_only_its_change() {
    // Deployments-7 is gone (404); Projects-3 fails every attempt; Environments-1 is fine.
    let (server, url) = Scripted::start(&[
        (404, "{}"),
        (503, "down"),
        (503, "down"),
        (503, "down"),
        (503, "down"),
        (200, r#"{"Id":"Environments-1"}"#),
    ])
    .await;
    let (router, mut lines) = start(octopus(&url), ListenOptions::default());
    let header = [(OCTOPUS_HEADER, SECRET.to_owned())];
    let body = deployment_event(&["Deployments-7", "Projects-3", "Environments-1"]);
    assert_eq!(
        post(&router, &header, body).await.status,
        StatusCode::ACCEPTED
    );

    let gone = next_line(&mut lines).await;
    assert_eq!(
        (gone.kind(), gone.action(), gone.id()),
        ("deployment", Action::Delete, "Deployments-7")
    );
    // Projects-3 is logged at error level and skipped; the worker goes on.
    let next = next_line(&mut lines).await;
    assert_eq!(
        (next.kind(), next.action(), next.id()),
        ("environment", Action::Upsert, "Environments-1")
    );
    let hits = server.hits();
    assert_eq!(
        hits.iter().filter(|p| p.ends_with("/Projects-3")).count(),
        4,
        "the first attempt and 3 retries: {hits:?}"
    );
}

#[tokio::test]
async fn serve_answers_on_loopback_and_drains_the_queue_on_shutdown() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        ocean_listen::WEBHOOK_PATH
    );
    let (sink, mut lines) = mpsc::channel(8);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ocean_listen::serve(
        listener,
        jira(Some(SECRET)),
        Arc::new(sink),
        ListenOptions::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    let http = ocean_core::reqwest::Client::new();
    let body = issue_event("jira:issue_deleted", "ED-9");
    let answer = http
        .post(&url)
        .header("X-Hub-Signature", &signed(SECRET, &body)[0].1)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 202);
    let unsigned = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);

    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, server)
        .await
        .expect("serve returns after shutdown")
        .unwrap()
        .unwrap();
    assert_eq!(next_line(&mut lines).await.id(), "ED-9");
    assert!(lines.recv().await.is_none(), "the worker has ended");
}

#[tokio::test]
async fn an_event_named_in_a_header_is_read_with_its_header() {
    let (router, mut lines) = start(Arc::new(HeaderNamed), ListenOptions::default());
    let answer = post(&router, &[("x-event", "removed".into())], r#"{"id":7}"#).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let line = next_line(&mut lines).await;
    assert_eq!((line.action(), line.id()), (Action::Delete, "7"));
    let answer = post(&router, &[], r#"{"id":8}"#).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.body["path"], "headers.x-event");
    assert!(lines.try_recv().is_err(), "nothing else was written");
}
