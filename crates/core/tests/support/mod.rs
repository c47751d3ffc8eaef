//! A scripted HTTP/1.1 server for the cases httpmock cannot express: replies
//! that change from one request to the next, bodies cut off mid-read,
//! connection resets, answers that never come, and in-flight counting.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
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

    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
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
    /// Headers announcing `announced` bytes, then only `body`, then the connection closes.
    Cut { announced: usize, body: String },
    /// Close the connection without answering.
    Reset,
    /// Answer after a delay.
    After(Duration, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

pub struct Server {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    peak: Arc<AtomicUsize>,
}

impl Server {
    /// Starts a server that answers request number `n` (from 0) with `handler(n, request)`.
    pub async fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let peak = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let counter = Arc::new(AtomicUsize::new(0));
        let (seen2, peak2) = (seen.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (handler, seen, peak, in_flight, counter) = (
                    handler.clone(),
                    seen2.clone(),
                    peak2.clone(),
                    in_flight.clone(),
                    counter.clone(),
                );
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut read = BufReader::new(read);
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
                                    let mut head = format!(
                                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
                                        body.len()
                                    );
                                    for (k, v) in headers {
                                        head.push_str(&format!("{k}: {v}\r\n"));
                                    }
                                    head.push_str("\r\n");
                                    let ok = write.write_all(head.as_bytes()).await.is_ok()
                                        && write.write_all(body.as_bytes()).await.is_ok();
                                    break ok;
                                }
                                Reply::Cut { announced, body } => {
                                    let head = format!(
                                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {announced}\r\n\r\n{body}"
                                    );
                                    let _ = write.write_all(head.as_bytes()).await;
                                    break false;
                                }
                                Reply::Reset => break false,
                            }
                        };
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if !keep {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, seen, peak }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// The most requests ever in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

async fn read_request(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Seen> {
    let mut line = String::new();
    if read.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
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
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
