//! Two-phase issue sync: an id-only census of the JQL (large cheap pages), then the full
//! issues by `POST /rest/api/3/issue/bulkfetch`, many requests in flight. The enhanced
//! search is a cursor — page N+1 cannot be asked for before page N returns — so a
//! cursor walk of 100k issues is ~1000 strictly sequential round trips; the census is
//! 20 and the bulk fetches run in parallel.

use std::collections::HashMap;
use std::str::FromStr;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use ocean_core::{RawItem, Result, raw_field};
use serde::Deserialize;

use crate::JiraClient;

/// Issues per bulk fetch (the API's maximum).
pub const BULK_FETCH_MAX: usize = 100;

/// Issues per census page: Jira serves up to 5000 a page when only ids or keys are
/// asked for.
pub const CENSUS_PAGE: u32 = 5000;

/// How the issue kind is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssueStrategy {
    /// The enhanced search's cursor, one page of full issues after another.
    Cursor,
    /// An id-only census, then parallel bulk fetches of 100 issues (the default: on
    /// a server that takes 300 ms per full page it is several times faster, see
    /// BENCHMARKS.md, and it costs about one extra request per hundred issues).
    #[default]
    Census,
}

impl FromStr for IssueStrategy {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cursor" => Ok(Self::Cursor),
            "census" => Ok(Self::Census),
            _ => Err(format!(
                "unknown issue strategy `{s}`; expected cursor or census"
            )),
        }
    }
}

impl JiraClient {
    /// The key of every issue `jql` matches, in the JQL's order, from id-only pages.
    pub fn issue_keys(&self, jql: &str) -> BoxStream<'static, Result<String>> {
        let url = self.search_url();
        self.issues(jql)
            .raw()
            .body("fields", ["key"])
            .page_size(CENSUS_PAGE)
            .stream()
            .and_then(move |issue| {
                let url = url.clone();
                async move {
                    match raw_field(&issue, "key") {
                        Ok(Some(key)) => Ok(key),
                        found => Err(ocean_core::Error::Decode {
                            url,
                            path: "issues[].key".into(),
                            message: match found {
                                Err(e) => e.to_string(),
                                Ok(_) => "an issue of the census has no key".into(),
                            },
                        }),
                    }
                }
            })
            .boxed()
    }

    /// The full issues of `keys`, fetched [`BULK_FETCH_MAX`] at a time with up to
    /// [`fan_out`](crate::JiraClientBuilder::fan_out) requests in flight, in the keys'
    /// order. Issues gone since the census are left out.
    pub fn bulk_issues(
        &self,
        keys: BoxStream<'static, Result<String>>,
        fields: &[String],
        expand: Option<&str>,
    ) -> BoxStream<'static, Result<RawItem>> {
        let mut body = serde_json::json!({ "fields": fields });
        if let Some(expand) = expand {
            let expand: Vec<&str> = expand.split(',').map(str::trim).collect();
            body["expand"] = expand.into();
        }
        let client = self.clone();
        keys.try_chunks(BULK_FETCH_MAX)
            .map_err(|e| e.1)
            .map_ok(move |chunk| {
                let (client, mut body) = (client.clone(), body.clone());
                async move {
                    body["issueIdsOrKeys"] = serde_json::json!(chunk);
                    client.bulk_fetch(&chunk, &body).await
                }
            })
            .try_buffered(self.fan_out.max(1))
            .map_ok(|issues| futures::stream::iter(issues.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// One `bulkfetch`, its issues put back in the order of `keys`.
    async fn bulk_fetch(&self, keys: &[String], body: &serde_json::Value) -> Result<Vec<RawItem>> {
        #[derive(Deserialize)]
        struct Fetched {
            issues: Vec<RawItem>,
        }
        let fetched: Fetched = self
            .core
            .post("/rest/api/3/issue/bulkfetch")
            .json(body)
            .retryable(true)
            .send_json()
            .await?;
        let position: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let mut issues: Vec<(usize, RawItem)> = fetched
            .issues
            .into_iter()
            .map(|issue| {
                let at = raw_field(&issue, "key")
                    .ok()
                    .flatten()
                    .and_then(|key| position.get(key.as_str()).copied())
                    .unwrap_or(usize::MAX);
                (at, issue)
            })
            .collect();
        issues.sort_by_key(|(at, _)| *at);
        Ok(issues.into_iter().map(|(_, issue)| issue).collect())
    }

    fn search_url(&self) -> String {
        let path = "/rest/api/3/search/jql";
        self.core
            .url(path)
            .map_or(path.to_owned(), |u| u.to_string())
    }
}
