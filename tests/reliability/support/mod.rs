//! Shared by the reliability tests: a scripted HTTP/1.1 server for faults the simulator
//! has no knob for, fake Jira and Octopus page builders, quick clients, and a guard
//! that turns a hang into a failure.
//!
//! The server follows the idea of `crates/core/tests/support` (a handler that answers
//! request number `n`), with what these tests add: it runs on a runtime of its own (so
//! the test runtime's task metrics see only the client), it can reset a connection
//! mid-body, and it timestamps every request (to prove none arrives after a drop).
#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocean_core::RetryPolicy;
use ocean_core::reqwest::Url;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Fails the test if `future` takes longer than `secs`: a hang is a failure, not a stuck CI.
pub async fn within<F: Future>(secs: u64, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), future).await {
        Ok(output) => output,
        Err(_) => panic!("hung: no outcome within {secs} s"),
    }
}

/// Short backoffs for tests on the real clock; no share-of-traffic budget, so a storm
/// ends in success or in `max_retries`, never in a race with the budget's window.
pub fn quick(max_retries: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(max_retries)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(40))
        .budget(None)
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let url = Url::parse(&format!("http://h{}", self.target)).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn query_u64(&self, name: &str) -> Option<u64> {
        self.query(name).and_then(|v| v.parse().ok())
    }

    /// The JSON body (`Null` when there is none).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What to answer.
pub enum Reply {
    /// A complete response.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A 200 announcing `announced` bytes, then only `body`; then the connection is
    /// closed, with a TCP reset when `reset`.
    Cut {
        announced: usize,
        body: String,
        reset: bool,
    },
    /// Close the connection with a reset, without answering.
    Reset,
    /// Answer after a delay.
    After(Duration, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: impl ToString) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn typed(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    pub fn after(self, delay: Duration) -> Self {
        Self::After(delay, Box::new(self))
    }

    /// The first half of `full`'s body, behind headers announcing all of it.
    pub fn cut_of(full: &Value, reset: bool) -> Self {
        let body = full.to_string();
        Self::Cut {
            announced: body.len(),
            body: body[..body.len() / 2].to_owned(),
            reset,
        }
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A runtime dropped without blocking, so a server can be dropped inside async code.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

pub struct Server {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    peak: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    _runtime: OwnedRuntime,
}

impl Server {
    /// Starts a server on `127.0.0.1` that answers request number `n` (from 0, in order
    /// of arrival) with `handler(n, request)`. It runs on its own single-thread runtime
    /// and stops when dropped.
    pub fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let peak = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let counter = Arc::new(AtomicUsize::new(0));
        let (seen2, peak2, in_flight2) = (seen.clone(), peak.clone(), in_flight.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (handler, seen, peak, in_flight, counter) = (
                    handler.clone(),
                    seen2.clone(),
                    peak2.clone(),
                    in_flight2.clone(),
                    counter.clone(),
                );
                tokio::spawn(async move {
                    serve(socket, &*handler, &seen, &peak, &in_flight, &counter).await;
                });
            }
        });
        Self {
            url,
            seen,
            peak,
            in_flight,
            _runtime: OwnedRuntime(Some(runtime)),
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Requests whose path is `path` (query ignored).
    pub fn hits_on(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }

    /// Requests that arrived after `at`.
    pub fn hits_after(&self, at: Instant) -> usize {
        self.requests().iter().filter(|r| r.at > at).count()
    }

    /// The most requests ever in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

async fn serve(
    socket: tokio::net::TcpStream,
    handler: &Handler,
    seen: &Mutex<Vec<Seen>>,
    peak: &AtomicUsize,
    in_flight: &AtomicUsize,
    counter: &AtomicUsize,
) {
    let _ = socket.set_nodelay(true);
    let mut read = BufReader::new(socket);
    while let Some(request) = read_request(&mut read).await {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push(request.clone());
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        let mut reply = handler(n, &request);
        let keep = loop {
            match reply {
                Reply::After(delay, next) => {
                    tokio::time::sleep(delay).await;
                    reply = *next;
                }
                Reply::Full {
                    status,
                    headers,
                    body,
                } => {
                    let mut head =
                        format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                    for (k, v) in headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let socket = read.get_mut();
                    let ok = socket.write_all(head.as_bytes()).await.is_ok()
                        && socket.write_all(body.as_bytes()).await.is_ok();
                    break ok;
                }
                Reply::Cut {
                    announced,
                    body,
                    reset,
                } => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {announced}\r\n\r\n{body}"
                    );
                    let socket = read.get_mut();
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.flush().await;
                    if reset {
                        // Let the partial body reach the client before the reset.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        let _ = socket.set_zero_linger();
                    }
                    break false;
                }
                Reply::Reset => {
                    let _ = read.get_mut().set_zero_linger();
                    break false;
                }
            }
        };
        in_flight.fetch_sub(1, Ordering::SeqCst);
        if !keep {
            return;
        }
    }
}

async fn read_request(read: &mut BufReader<tokio::net::TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        read.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    read.read_exact(&mut body).await.ok()?;
    Some(Seen {
        at,
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

// ---- Fake API pages -------------------------------------------------------------------

/// A Jira project item.
pub fn jira_project(n: usize) -> Value {
    json!({"id": format!("{}", 10000 + n), "key": format!("P{n}"), "name": format!("Project {n}")})
}

/// A Jira issue item.
pub fn jira_issue(n: usize) -> Value {
    json!({"id": format!("{}", 20000 + n), "key": format!("P1-{n}"), "fields": {"summary": format!("Issue {n}")}})
}

/// A Jira PageBean over `items` at the request's `startAt`/`maxResults` (capped at `cap`),
/// with an honest `total` and `isLast`.
pub fn jira_page(req: &Seen, items: &[Value], cap: usize) -> Value {
    let start = req.query_u64("startAt").unwrap_or(0) as usize;
    let size = (req.query_u64("maxResults").unwrap_or(50) as usize).min(cap);
    let end = (start + size).min(items.len());
    let values = &items[start.min(end)..end];
    json!({"startAt": start, "maxResults": size, "total": items.len(),
           "isLast": end >= items.len(), "values": values})
}

/// An enhanced-search page: tokens are `"t<offset>"`.
pub fn jql_page(req: &Seen, items: &[Value]) -> Value {
    let body = req.json();
    let start = body["nextPageToken"]
        .as_str()
        .and_then(|t| t.strip_prefix('t'))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0usize);
    let size = body["maxResults"].as_u64().unwrap_or(50) as usize;
    let end = (start + size).min(items.len());
    let mut page = json!({"issues": &items[start.min(end)..end], "isLast": end >= items.len()});
    if end < items.len() {
        page["nextPageToken"] = json!(format!("t{end}"));
    }
    page
}

/// An Octopus space.
pub fn octopus_space(n: usize) -> Value {
    json!({"Id": format!("Spaces-{n}"), "Name": format!("Space {n}"), "IsDefault": n == 1})
}

/// An Octopus document of `prefix` (`Projects-`) in `space`.
pub fn octopus_doc(prefix: &str, space: &str, n: usize) -> Value {
    json!({"Id": format!("{prefix}{n}"), "Name": format!("{prefix}{n}"), "SpaceId": space,
           "Version": format!("1.0.{n}")})
}

/// How an Octopus collection's `Links["Page.Next"]` is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkMode {
    /// From the real item count.
    #[default]
    Honest,
    /// From the announced (possibly lying) total.
    FollowTotal,
    /// No `Links` at all.
    Absent,
}

/// Envelope fields an Octopus collection announces, each of which a test may make lie.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lies {
    /// `TotalResults` (and the page numbers derived from it) instead of the real count.
    pub total: Option<usize>,
    /// How `Page.Next` is computed.
    pub links: LinkMode,
}

/// An Octopus collection page over `items` at the request's `skip`/`take`.
pub fn octopus_page(req: &Seen, items: &[Value], lies: Lies) -> Value {
    let skip = req.query_u64("skip").unwrap_or(0) as usize;
    let take = (req.query_u64("take").unwrap_or(30) as usize).max(1);
    let end = (skip + take).min(items.len());
    let total = lies.total.unwrap_or(items.len());
    let pages = total.div_ceil(take);
    let mut page = json!({
        "ItemType": "Thing", "TotalResults": total, "ItemsPerPage": take,
        "NumberOfPages": pages, "LastPageNumber": pages.saturating_sub(1),
        "Items": &items[skip.min(end)..end],
    });
    let next_until = match lies.links {
        LinkMode::Honest => items.len(),
        LinkMode::FollowTotal => total,
        LinkMode::Absent => return page,
    };
    let path = req.path().to_owned();
    let mut links = json!({"Self": format!("{path}?skip={skip}&take={take}")});
    if skip + take < next_until {
        links["Page.Next"] = json!(format!("{path}?skip={}&take={take}", skip + take));
    }
    page["Links"] = links;
    page
}

/// Items as sorted JSON text, for exactly-once comparisons.
pub fn sorted_text<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().map(str::to_owned).collect();
    v.sort();
    v
}

/// `Vec<Value>` as sorted compact JSON text.
pub fn sorted_values(items: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(Value::to_string).collect();
    v.sort();
    v
}

/// Asserts no element appears twice.
pub fn assert_unique(items: &[String], what: &str) {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        assert!(seen.insert(item), "{what}: {item} came twice");
    }
}

// ---- The simulator ----------------------------------------------------------------------

/// A 429 storm on the simulator: a noisy neighbour drains the shared budget (3 requests/s)
/// for 400 ms, so whatever a client sends then is answered 429 with `Retry-After: 1` (and
/// Jira's `X-RateLimit-Reset`), however well it paces itself; then a generous limit.
/// Returns once the budget is spent.
pub async fn start_storm(sim: &Arc<ocean_sim::Simulator>) -> tokio::task::JoinHandle<()> {
    let limited = sim.stats().rate_limited;
    sim.faults().set_rate_limit(Some(3.0));
    let storm = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let neighbour = ocean_core::reqwest::Client::new();
            let url = format!("{}/rest/api/3/myself", sim.jira_url());
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(400) {
                let _ = neighbour.get(&url).send().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sim.faults().set_rate_limit(Some(10_000.0));
        })
    };
    while sim.stats().rate_limited == limited {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    storm
}

// ---- The CLI ----------------------------------------------------------------------------

/// Runs a command to completion, killing it and failing the test if it runs longer than
/// `secs`; stdout and stderr are drained concurrently so a chatty child cannot block.
pub async fn run_bounded(mut cmd: std::process::Command, secs: u64) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts");
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = out.read_to_end(&mut b);
            b
        });
        let err = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = err.read_to_end(&mut b);
            b
        });
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hung: the command was still running after {secs} s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        std::process::Output {
            status,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    })
    .await
    .unwrap()
}
