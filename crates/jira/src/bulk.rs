//! Two-phase issue sync: an id-only census of the JQL (large cheap pages), then the full
//! issues by `POST /rest/api/3/issue/bulkfetch`, many requests in flight. The enhanced
//! search is a cursor — page N+1 cannot be asked for before page N returns — so a
//! cursor walk of 100k issues is ~1000 strictly sequential round trips; the census is
//! 20 and the bulk fetches run in parallel. Data Center has no bulk fetch: there the
//! issues come from `id in (…)` searches of the census's ids, also in parallel.

use std::collections::HashMap;
use std::str::FromStr;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use ocean_core::{RawItem, Result, raw_field};
use serde::Deserialize;

use crate::models::Issue;
use crate::{Deployment, JiraClient};

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
        self.census_field(jql, "key")
    }

    /// The id of every issue `jql` matches, in the JQL's order, from id-only pages: what
    /// [`bulk_issues`](Self::bulk_issues) takes.
    pub fn issue_ids(&self, jql: &str) -> BoxStream<'static, Result<String>> {
        self.census_field(jql, "id")
    }

    /// `field` (`id` or `key`) of every issue of `jql`, from pages of [`CENSUS_PAGE`]
    /// issues without fields (Data Center serves fewer a page; the offset pages then come
    /// in parallel).
    fn census_field(&self, jql: &str, field: &'static str) -> BoxStream<'static, Result<String>> {
        let url = self.search_url();
        self.issues(jql)
            .raw()
            .body("fields", ["key"])
            .page_size(CENSUS_PAGE)
            .stream()
            .and_then(move |issue| {
                let url = url.clone();
                async move {
                    match raw_field(&issue, field) {
                        Ok(Some(value)) => Ok(value),
                        found => Err(ocean_core::Error::Decode {
                            url,
                            path: format!("issues[].{field}"),
                            message: match found {
                                Err(e) => e.to_string(),
                                Ok(_) => format!("an issue of the census has no {field}"),
                            },
                        }),
                    }
                }
            })
            .boxed()
    }

    /// The full issues of `ids` (issue ids, as [`issue_ids`](Self::issue_ids) yields them;
    /// Cloud also takes keys), [`BULK_FETCH_MAX`] at a time with up to the client's
    /// [`max_concurrency`](ocean_core::ClientBuilder::max_concurrency) requests in
    /// flight, in the ids' order. Issues gone since the census are left out.
    ///
    /// Cloud answers `POST /rest/api/3/issue/bulkfetch`; Data Center, which has no bulk
    /// fetch, an `id in (…)` search of the same ids with `validateQuery: warn` (an id
    /// deleted meanwhile is then a warning, not an error).
    pub fn bulk_issues(
        &self,
        ids: BoxStream<'static, Result<String>>,
        fields: &[String],
        expand: Option<&str>,
    ) -> BoxStream<'static, Result<RawItem>> {
        self.bulk_issues_in_flight(ids, fields, expand, self.core.max_concurrency())
    }

    /// [`bulk_issues`](Self::bulk_issues) with at most `in_flight` requests at once.
    pub(crate) fn bulk_issues_in_flight(
        &self,
        ids: BoxStream<'static, Result<String>>,
        fields: &[String],
        expand: Option<&str>,
        in_flight: usize,
    ) -> BoxStream<'static, Result<RawItem>> {
        let fields = fields.to_vec();
        let expand: Option<Vec<String>> =
            expand.map(|e| e.split(',').map(|s| s.trim().to_owned()).collect());
        let client = self.clone();
        ids.try_chunks(BULK_FETCH_MAX)
            .map_err(|e| e.1)
            .map_ok(move |chunk| {
                let (client, fields, expand) = (client.clone(), fields.clone(), expand.clone());
                async move {
                    let issues = match client.deployment() {
                        Deployment::Cloud => client.bulk_fetch(&chunk, &fields, expand).await?,
                        Deployment::DataCenter => {
                            client.search_ids(&chunk, &fields, expand).await?
                        }
                    };
                    Ok(in_order_of(&chunk, issues))
                }
            })
            .try_buffered(in_flight.max(1))
            .map_ok(|issues| futures::stream::iter(issues.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// One `POST /rest/api/3/issue/bulkfetch` of `ids`.
    async fn bulk_fetch(
        &self,
        ids: &[String],
        fields: &[String],
        expand: Option<Vec<String>>,
    ) -> Result<Vec<RawItem>> {
        #[derive(Deserialize)]
        struct Fetched {
            issues: Vec<RawItem>,
        }
        let mut body = serde_json::json!({ "issueIdsOrKeys": ids, "fields": fields });
        if let Some(expand) = expand {
            body["expand"] = expand.into();
        }
        let fetched: Fetched = self
            .core
            .post("/rest/api/3/issue/bulkfetch")
            .json(&body)
            .retryable(true)
            .send_json()
            .await?;
        Ok(fetched.issues)
    }

    /// Data Center's bulk fetch: the issues of `id in (ids)`, through the offset search.
    async fn search_ids(
        &self,
        ids: &[String],
        fields: &[String],
        expand: Option<Vec<String>>,
    ) -> Result<Vec<RawItem>> {
        // Ids reach the JQL unquoted: anything but digits would change the query.
        if let Some(bad) = ids.iter().find(|id| !is_issue_id(id)) {
            return Err(ocean_core::Error::Decode {
                url: self.search_url(),
                path: "issues[].id".into(),
                message: format!("the census gave `{bad}`, which is not an issue id"),
            });
        }
        let mut search = self
            .issues(&format!("id in ({})", ids.join(",")))
            .raw()
            .body("fields", fields)
            .body("validateQuery", "warn")
            .page_size(BULK_FETCH_MAX as u32);
        if let Some(expand) = expand {
            search = search.body("expand", expand);
        }
        search.stream().try_collect().await
    }

    fn search_url(&self) -> String {
        let path = self.deployment().endpoint::<Issue>().path().to_owned();
        self.core.url(&path).map_or(path, |u| u.to_string())
    }
}

/// Whether `id` is a Jira issue id (digits only).
fn is_issue_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// `issues` in the order of `ids` (servers answer in their own order, e.g. ascending id).
fn in_order_of(ids: &[String], issues: Vec<RawItem>) -> Vec<RawItem> {
    let position: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut issues: Vec<(usize, RawItem)> = issues
        .into_iter()
        .map(|issue| {
            // Cloud's bulk fetch also takes keys: an issue named by its key is found by it.
            let at = ["id", "key"]
                .iter()
                .find_map(|field| {
                    let value = raw_field(&issue, field).ok().flatten()?;
                    position.get(value.as_str()).copied()
                })
                .unwrap_or(usize::MAX);
            (at, issue)
        })
        .collect();
    // Stable: issues the ids do not name (none, from a well-behaved server) keep their
    // order at the end rather than being dropped.
    issues.sort_by_key(|(at, _)| *at);
    issues.into_iter().map(|(_, issue)| issue).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_are_put_in_the_order_of_the_ids() {
        let issue = |id: &str| -> RawItem {
            serde_json::value::RawValue::from_string(format!(r#"{{"id":"{id}"}}"#)).unwrap()
        };
        let ids: Vec<String> = ["30", "10", "20"].map(str::to_owned).to_vec();
        let ordered = in_order_of(
            &ids,
            vec![issue("10"), issue("99"), issue("20"), issue("30")],
        );
        let got: Vec<&str> = ordered.iter().map(|i| i.get()).collect();
        assert_eq!(
            got,
            [
                r#"{"id":"30"}"#,
                r#"{"id":"10"}"#,
                r#"{"id":"20"}"#,
                r#"{"id":"99"}"#
            ]
        );
    }

    #[test]
    fn issues_asked_for_by_key_keep_the_keys_order() {
        let issue = |id: &str, key: &str| -> RawItem {
            serde_json::value::RawValue::from_string(format!(r#"{{"id":"{id}","key":"{key}"}}"#))
                .unwrap()
        };
        let keys: Vec<String> = ["EX-2", "EX-1"].map(str::to_owned).to_vec();
        let ordered = in_order_of(&keys, vec![issue("1", "EX-1"), issue("2", "EX-2")]);
        let got: Vec<&str> = ordered.iter().map(|i| i.get()).collect();
        assert_eq!(
            got,
            [r#"{"id":"2","key":"EX-2"}"#, r#"{"id":"1","key":"EX-1"}"#]
        );
    }

    #[test]
    fn only_digits_are_issue_ids() {
        assert!(is_issue_id("10042"));
        assert!(!is_issue_id(""));
        assert!(!is_issue_id("1) OR (project = X"));
        assert!(!is_issue_id("PROJ-1"));
    }
}
