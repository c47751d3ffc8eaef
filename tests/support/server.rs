//! The one scripted HTTP/1.1 server of the workspace's tests, for what httpmock and the
//! simulator cannot express: replies that change from one request to the next, bodies
//! cut off mid-read (by a FIN or a TCP reset), answers that never come, in-flight
//! counting, and a timestamp per request (to prove none arrives after a drop).
//!
//! A handler answers request number `n` (from 0, in order of arrival). [`Server::start`]
//! runs the server on a runtime of its own (the test runtime's task metrics then see only
//! the client); [`Server::start_local`] runs it on the test's runtime, so a paused clock
//! drives its delays too. Included with `#[path]` by core's tests and the reliability
//! suite.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocean_core::reqwest::Url;
use ocean_core::serde_json::{self, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

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

/// What every connection of one server shares.
#[derive(Clone)]
struct State {
    handler: Arc<Handler>,
    seen: Arc<Mutex<Vec<Seen>>>,
    peak: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    counter: Arc<AtomicUsize>,
}

impl State {
    fn new(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            handler: Arc::new(handler),
            seen: Arc::default(),
            peak: Arc::default(),
            in_flight: Arc::default(),
            counter: Arc::default(),
        }
    }

    /// Accepts connections until the runtime stops, each served on a task of its own.
    async fn accept(self, listener: tokio::net::TcpListener) {
        while let Ok((socket, _)) = listener.accept().await {
            let state = self.clone();
            tokio::spawn(async move { serve(socket, &state).await });
        }
    }

    fn into_server(self, url: String, runtime: Option<tokio::runtime::Runtime>) -> Server {
        Server {
            url,
            state: self,
            _runtime: OwnedRuntime(runtime),
        }
    }
}

pub struct Server {
    pub url: String,
    state: State,
    _runtime: OwnedRuntime,
}

impl Server {
    /// Starts a server on `127.0.0.1` on a single-thread runtime of its own; it stops when
    /// dropped.
    pub fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = State::new(handler);
        let accepting = state.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            accepting.accept(listener).await;
        });
        state.into_server(url, Some(runtime))
    }

    /// Starts a server on `127.0.0.1` on the current (test) runtime; it stops with it.
    pub async fn start_local(
        handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = State::new(handler);
        tokio::spawn(state.clone().accept(listener));
        state.into_server(url, None)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.state.seen.lock().unwrap().len()
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
        self.state.peak.load(Ordering::SeqCst)
    }
}

async fn serve(socket: tokio::net::TcpStream, state: &State) {
    let _ = socket.set_nodelay(true);
    let mut read = BufReader::new(socket);
    while let Some(request) = read_request(&mut read).await {
        let n = state.counter.fetch_add(1, Ordering::SeqCst);
        state.seen.lock().unwrap().push(request.clone());
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak.fetch_max(now, Ordering::SeqCst);
        let mut reply = (state.handler)(n, &request);
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
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
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
