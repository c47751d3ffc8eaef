//! Test helpers: a started simulator plus a small HTTP client for each product.

use base64::Engine as _;
use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY, SimConfig, Simulator};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Env {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

pub fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{JIRA_EMAIL}:{JIRA_TOKEN}"))
    )
}

pub fn bearer() -> String {
    format!("Bearer {JIRA_TOKEN}")
}

pub async fn start(items: usize) -> Env {
    start_with(SimConfig {
        items,
        ..Default::default()
    })
    .await
}

pub async fn start_with(config: SimConfig) -> Env {
    let sim = Simulator::start(config).await.expect("simulator starts");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    Env { sim, http }
}

impl Env {
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.http.request(method, url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("body read");
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A Jira request with Basic auth; `path` starts with `/rest/`.
    pub async fn jira(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.sim.jira_url());
        self.send(method, &url, &[("authorization", &basic())], body)
            .await
    }

    pub async fn jira_get(&self, path: &str) -> Resp {
        self.jira(Method::GET, path, None).await
    }

    /// A Jira request as an OAuth app (Bearer).
    pub async fn jira_app(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.sim.jira_url());
        self.send(method, &url, &[("authorization", &bearer())], body)
            .await
    }

    /// An Octopus request; `path` starts with `/api`.
    pub async fn octopus(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.sim.octopus_url());
        self.send(method, &url, &[("x-octopus-apikey", OCTOPUS_API_KEY)], body)
            .await
    }

    pub async fn octopus_get(&self, path: &str) -> Resp {
        self.octopus(Method::GET, path, None).await
    }

    /// Follows an offset PageBean (`startAt`/`maxResults`, `isLast`) to the end.
    pub async fn jira_offset_all(&self, path: &str, max: usize, key: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut start = 0;
        for _ in 0..10_000 {
            let r = self
                .jira_get(&format!("{path}{sep}startAt={start}&maxResults={max}"))
                .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{path}: {}",
                String::from_utf8_lossy(&r.body)
            );
            let page = r.json();
            let items = page[key].as_array().expect("items array").clone();
            assert!(items.len() <= max);
            assert_eq!(page["startAt"], start);
            start += items.len();
            out.extend(items);
            if page["isLast"].as_bool().expect("isLast") {
                return out;
            }
            assert!(start > 0, "no progress");
        }
        panic!("too many pages");
    }

    /// Follows an Octopus collection through `Links["Page.Next"]`, checking the arithmetic.
    pub async fn octopus_all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(path.to_owned());
        let mut page_no = 0;
        while let Some(p) = next {
            let r = self.octopus_get(&p).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{p}: {}",
                String::from_utf8_lossy(&r.body)
            );
            let v = r.json();
            let (total, take) = (
                v["TotalResults"].as_u64().unwrap(),
                v["ItemsPerPage"].as_u64().unwrap(),
            );
            let pages = if take == 0 { 0 } else { total.div_ceil(take) };
            assert_eq!(v["NumberOfPages"], pages);
            assert_eq!(v["LastPageNumber"], pages.saturating_sub(1));
            let links = &v["Links"];
            assert_eq!(
                links.get("Page.Prev").is_some(),
                page_no > 0,
                "Page.Prev on page {page_no}"
            );
            assert!(
                links["Page.All"]
                    .as_str()
                    .unwrap()
                    .ends_with("take=2147483647")
            );
            out.extend(v["Items"].as_array().unwrap().iter().cloned());
            // Links are relative to the server root (here the /octopus virtual directory).
            next = links
                .get("Page.Next")
                .map(|l| l.as_str().unwrap().to_owned());
            assert_eq!(next.is_none(), page_no as u64 >= pages.saturating_sub(1));
            page_no += 1;
        }
        out
    }
}

impl Env {
    /// `POST /_sim/mutate` with a mutation's JSON; the outcome (or the error body).
    pub async fn control_mutate(&self, mutation: Value) -> Resp {
        let url = format!("{}/_sim/mutate", self.sim.url());
        self.send(Method::POST, &url, &[], Some(mutation)).await
    }

    /// Walks `search/jql` (POST) to the end with `fields` and `maxResults`; every issue, in
    /// order, and the number of pages.
    pub async fn search_walk(&self, jql: &str, max: usize, fields: Value) -> (Vec<Value>, usize) {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for pages in 1..100_000 {
            let mut body = serde_json::json!({"jql": jql, "maxResults": max, "fields": fields});
            if let Some(t) = &token {
                body["nextPageToken"] = t.clone().into();
            }
            let r = self
                .jira(Method::POST, "/rest/api/3/search/jql", Some(body))
                .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            let page = r.json();
            out.extend(page["issues"].as_array().unwrap().iter().cloned());
            match page.get("nextPageToken") {
                Some(t) => token = Some(t.as_str().unwrap().to_owned()),
                None => return (out, pages),
            }
        }
        panic!("too many pages");
    }
}
