//! A tiny static page server for the memory scenario: Octopus deployment pages generated on
//! the fly from one item template, so a million items cost no memory and no start-up time
//! (the simulator pre-renders every item: ~15 s and ~9 GB at a million).
//!
//! Routes, with the collection size `N` in the path so one server serves every scale:
//! `GET /n/{N}/api/spaces` (one space, `Spaces-1`) and `GET /n/{N}/api/{space}/deployments`
//! (`skip`/`take`, `TotalResults`, `Links["Page.Next"]`, like Octopus). The item and space
//! templates are the simulator's own renderings. Authentication is not checked.

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use ocean_sim::{SimConfig, Simulator};

use crate::Failure;

/// The simulator's renderings of one space and one deployment, the latter split around its id.
pub struct Templates {
    space: Bytes,
    before_id: Bytes,
    after_id: Bytes,
}

impl Templates {
    /// Takes the templates from a tiny simulator.
    pub async fn from_simulator() -> Result<Self, Failure> {
        let sim = Simulator::start(SimConfig {
            items: 2,
            ..SimConfig::default()
        })
        .await?;
        let space = sim
            .dataset()
            .octopus_raw("space")
            .into_iter()
            .find(|s| contains(s, br#""Id":"Spaces-1""#))
            .ok_or("the simulator has no Spaces-1")?;
        let deployment = sim
            .dataset()
            .octopus_raw("deployment")
            .into_iter()
            .next()
            .ok_or("the simulator has no deployment")?;
        sim.shutdown().await;
        let marker = br#""Id":""#;
        let start = find(&deployment, marker).ok_or("a deployment without an Id")? + marker.len();
        let end = start
            + deployment[start..]
                .iter()
                .position(|b| *b == b'"')
                .ok_or("an unterminated Id")?;
        Ok(Self {
            space,
            before_id: deployment.slice(..start),
            after_id: deployment.slice(end..),
        })
    }

    /// Bytes of one rendered deployment.
    pub fn item_len(&self) -> usize {
        self.before_id.len() + self.after_id.len() + "Deployments-1000000".len()
    }

    fn spaces_page(&self) -> Bytes {
        let mut buf = Vec::with_capacity(self.space.len() + 512);
        buf.extend_from_slice(
            br#"{"ItemType":"Space","TotalResults":1,"ItemsPerPage":50,"NumberOfPages":1,"LastPageNumber":0,"Items":["#,
        );
        buf.extend_from_slice(&self.space);
        buf.extend_from_slice(br#"],"Links":{"Self":"/api/spaces?skip=0&take=50"}}"#);
        buf.into()
    }

    /// Deployments `skip..skip+take` of `total`, newest (highest id) first.
    fn deployments_page(&self, total: usize, path: &str, skip: usize, take: usize) -> Bytes {
        let end = skip.saturating_add(take).min(total);
        let start = skip.min(end);
        let pages = if take == 0 { 0 } else { total.div_ceil(take) };
        let mut buf = Vec::with_capacity((end - start) * (self.item_len() + 1) + 1024);
        let _ = write!(
            buf,
            r#"{{"ItemType":"Deployment","TotalResults":{total},"ItemsPerPage":{take},"NumberOfPages":{pages},"LastPageNumber":{},"Items":["#,
            pages.saturating_sub(1)
        );
        for i in start..end {
            if i > start {
                buf.push(b',');
            }
            buf.extend_from_slice(&self.before_id);
            let _ = write!(buf, "Deployments-{}", total - i);
            buf.extend_from_slice(&self.after_id);
        }
        let _ = write!(
            buf,
            r#"],"Links":{{"Self":"{path}?skip={skip}&take={take}""#
        );
        if take > 0 && end < total {
            let _ = write!(buf, r#","Page.Next":"{path}?skip={end}&take={take}""#);
        }
        buf.extend_from_slice(b"}}");
        buf.into()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn json(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

/// `skip` and `take` from a query string (defaults 0 and 30, as Octopus).
fn skip_take(query: Option<&str>) -> (usize, usize) {
    let (mut skip, mut take) = (0, 30);
    for pair in query.unwrap_or_default().split('&') {
        match pair.split_once('=') {
            Some(("skip", v)) => skip = v.parse().unwrap_or(0),
            Some(("take", v)) => take = v.parse().unwrap_or(30),
            _ => {}
        }
    }
    (skip, take)
}

async fn spaces(State(t): State<Arc<Templates>>) -> Response {
    json(t.spaces_page())
}

async fn deployments(
    State(t): State<Arc<Templates>>,
    Path((total, space)): Path<(usize, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let (skip, take) = skip_take(query.as_deref());
    let path = format!("/api/{space}/deployments");
    json(t.deployments_page(total, &path, skip, take))
}

/// The router over `templates`.
pub fn router(templates: Templates) -> Router {
    Router::new()
        .route("/n/{total}/api/spaces", get(spaces))
        .route("/n/{total}/api/{space}/deployments", get(deployments))
        .with_state(Arc::new(templates))
}

/// Serves until killed, after printing `… listening on http://127.0.0.1:PORT`.
pub async fn serve(port: u16) -> Result<(), Failure> {
    use axum::serve::ListenerExt as _;
    let app = router(Templates::from_simulator().await?);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ocean-bench template server listening on http://{addr}"
    )?;
    out.flush()?;
    drop(out);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_are_valid_and_complete() {
        let t = Templates::from_simulator().await.unwrap();
        let first: serde_json::Value =
            serde_json::from_slice(&t.deployments_page(120, "/api/Spaces-1/deployments", 0, 50))
                .unwrap();
        assert_eq!(first["TotalResults"], 120);
        assert_eq!(first["Items"].as_array().unwrap().len(), 50);
        assert_eq!(first["Items"][0]["Id"], "Deployments-120");
        assert_eq!(
            first["Links"]["Page.Next"],
            "/api/Spaces-1/deployments?skip=50&take=50"
        );
        let last: serde_json::Value =
            serde_json::from_slice(&t.deployments_page(120, "/api/Spaces-1/deployments", 100, 50))
                .unwrap();
        assert_eq!(last["Items"].as_array().unwrap().len(), 20);
        assert_eq!(last["Items"][19]["Id"], "Deployments-1");
        assert!(last["Links"].get("Page.Next").is_none());
        let spaces: serde_json::Value = serde_json::from_slice(&t.spaces_page()).unwrap();
        assert_eq!(spaces["Items"][0]["Id"], "Spaces-1");
        assert_eq!(skip_take(Some("skip=5&take=7&x=1")), (5, 7));
    }
}
