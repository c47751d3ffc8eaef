//! Jira as an [`ocean_core::Provider`]: what a sync engine needs to keep a catalog of a
//! Jira site true — full streams, issues and worklogs changed since a bookmark, an id-only
//! census of the JQL, one item fetched again.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use ocean_core::{
    Client, ItemChange, KindInfo, Provider, RawItem, Record, Result, Secret, WebhookSource,
    raw_field,
};
use serde::Deserialize;

use crate::{JiraClient, JiraKind, JiraWebhooks, SyncOptions, WebhookOptions};

/// How far back before the bookmark an incremental issue or worklog run looks, in
/// minutes. JQL compares `updated` at minute precision, Jira's search index trails
/// writes by seconds (minutes under load), and a change committed just before a run
/// began may become visible only after it: ten minutes absorbs all three, at the cost
/// of re-reading what changed in those minutes (unchanged items write nothing).
/// The window is expressed relative to the server's clock (`updated >= -Nm`), so the
/// client's clock skew cancels out.
pub const OVERLAP_MINUTES: i64 = 10;

/// Issue keys per `id in (…)` lookup when scoping worklogs to the JQL.
const SCOPE_CHUNK: usize = 100;
/// Worklog ids per `POST worklog/list` (the API's maximum).
const WORKLOG_LIST_CHUNK: usize = 1000;
/// Pages of a worklog change feed at most, a guard against a feed that never ends.
const MAX_FEED_PAGES: u32 = 100_000;

/// A Jira site with the options of its sync, as a [`Provider`].
///
/// ```no_run
/// # fn run() -> ocean_core::Result<()> {
/// use ocean_core::Provider;
/// let client = ocean_jira::JiraClient::new("https://example.atlassian.net", "me@example.com", "token")?;
/// let jira = ocean_jira::JiraProvider::new(client, ocean_jira::SyncOptions::default());
/// assert_eq!(jira.kind("issue").unwrap().id_field, "key");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct JiraProvider {
    client: JiraClient,
    options: SyncOptions,
    /// Options of single kinds, overriding `options` for those kinds.
    per_kind: Vec<(JiraKind, SyncOptions)>,
}

impl JiraProvider {
    /// The provider of `client`'s site, syncing with `options`.
    pub fn new(client: JiraClient, options: SyncOptions) -> Self {
        Self {
            client,
            options,
            per_kind: Vec::new(),
        }
    }

    /// Syncs `kind` with `options` instead of the provider's (a config file's per-kind
    /// selector block). Worklogs are scoped by the worklog options' JQL, the census and
    /// incremental issue windows by the issue options'.
    pub fn kind_options(mut self, kind: JiraKind, options: SyncOptions) -> Self {
        self.per_kind.retain(|(k, _)| *k != kind);
        self.per_kind.push((kind, options));
        self
    }

    /// The options `kind` syncs with.
    fn options_for(&self, kind: JiraKind) -> &SyncOptions {
        self.per_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&self.options, |(_, options)| options)
    }

    /// The Jira client.
    pub fn jira(&self) -> &JiraClient {
        &self.client
    }

    /// The sync options of the kinds without options of their own.
    pub fn options(&self) -> &SyncOptions {
        &self.options
    }

    /// The options with the issue JQL narrowed to what changed in the last `minutes`,
    /// oldest change first (so an interrupted stream can resume where it was).
    fn window(&self, minutes: Option<i64>) -> SyncOptions {
        let issue = self.options_for(JiraKind::Issue);
        let base = strip_order_by(issue.effective_jql());
        let jql = match minutes {
            Some(minutes) => {
                format!("({base}) AND updated >= -{minutes}m ORDER BY updated ASC, key ASC")
            }
            None => format!("{base} ORDER BY updated ASC, key ASC"),
        };
        SyncOptions {
            jql: Some(jql),
            ..issue.clone()
        }
    }

    fn worklog_changes(&self, since: i64) -> BoxStream<'static, Result<ItemChange>> {
        let provider = self.clone();
        let since = (since - OVERLAP_MINUTES * 60_000).max(0);
        async_stream::try_stream! {
            let updated = provider.worklog_feed("/rest/api/3/worklog/updated", since).await?;
            let list_path = provider.client.deployment().platform_path("/rest/api/3/worklog/list");
            for ids in updated.chunks(WORKLOG_LIST_CHUNK) {
                let worklogs: Vec<RawItem> = provider
                    .client
                    .core()
                    .post(&list_path)
                    .json(&serde_json::json!({ "ids": ids }))
                    .retryable(true)
                    .send_json()
                    .await?;
                for chunk in worklogs.chunks(SCOPE_CHUNK) {
                    let issue_ids: Vec<String> = chunk
                        .iter()
                        .filter_map(|w| raw_field(w, "issueId").ok().flatten())
                        .collect();
                    let keys = provider.issue_keys_in_scope(&issue_ids).await?;
                    for worklog in chunk {
                        let issue = raw_field(worklog, "issueId").ok().flatten();
                        if let Some(key) = issue.and_then(|id| keys.iter().find(|(i, _)| *i == id)) {
                            let item = worklog.clone();
                            yield ItemChange::Upsert(Record::child("worklog", "issue_key", key.1.clone(), item));
                        }
                    }
                }
            }
            for id in provider.worklog_feed("/rest/api/3/worklog/deleted", since).await? {
                yield ItemChange::Delete(id.to_string());
            }
        }
        .boxed()
    }

    /// The worklog ids of a change feed (`worklog/updated` or `worklog/deleted`) since
    /// `since`, page after page (`until` of one page is `since` of the next).
    async fn worklog_feed(&self, cloud_path: &str, mut since: i64) -> Result<Vec<i64>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Feed {
            values: Vec<Entry>,
            until: Option<i64>,
            #[serde(default)]
            last_page: bool,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Entry {
            worklog_id: i64,
        }
        let path = self.client.deployment().platform_path(cloud_path);
        let mut ids = Vec::new();
        for _ in 0..MAX_FEED_PAGES {
            let page: Feed = self
                .client
                .core()
                .get(&path)
                .query("since", since)
                .send_json()
                .await?;
            ids.extend(page.values.iter().map(|e| e.worklog_id));
            match page.until {
                Some(until) if !page.last_page && until > since => since = until,
                Some(_) if !page.last_page => {
                    return Err(ocean_core::Error::Config(format!(
                        "{path}: the feed did not advance past since={since} while lastPage is false"
                    )));
                }
                _ => return Ok(ids),
            }
        }
        Err(ocean_core::Error::Config(format!(
            "{path}: more than {MAX_FEED_PAGES} pages"
        )))
    }

    /// `(id, key)` of those of `issue_ids` inside the sync's JQL.
    async fn issue_keys_in_scope(&self, issue_ids: &[String]) -> Result<Vec<(String, String)>> {
        if issue_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = issue_ids
            .iter()
            .map(String::as_str)
            .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        let jql = format!(
            "({}) AND id in ({})",
            strip_order_by(self.options_for(JiraKind::Worklog).effective_jql()),
            ids.join(",")
        );
        let issues: Vec<RawItem> = self
            .client
            .issues(&jql)
            .raw()
            .body("fields", ["key"])
            .stream()
            .try_collect()
            .await?;
        Ok(issues
            .iter()
            .filter_map(|issue| {
                let id = raw_field(issue, "id").ok().flatten()?;
                let key = raw_field(issue, "key").ok().flatten()?;
                Some((id, key))
            })
            .collect())
    }
}

impl Provider for JiraProvider {
    fn name(&self) -> &'static str {
        "jira"
    }

    fn tenant(&self) -> String {
        self.client.site_url().to_owned()
    }

    fn client(&self) -> &Client {
        self.client.core()
    }

    fn kinds(&self) -> &'static [KindInfo] {
        &JiraKind::INFOS
    }

    fn full(&self, kind: &str, resume: Option<&str>) -> BoxStream<'static, Result<Record>> {
        let Some(kind) = parse(kind) else {
            return unknown_kind(kind);
        };
        match kind {
            JiraKind::Issue => {
                let minutes = resume.and_then(minutes_since_timestamp);
                self.client.sync(kind, &self.window(minutes))
            }
            _ => self.client.sync(kind, self.options_for(kind)),
        }
    }

    /// Issues stream oldest change first: an issue's `updated` is where a stream
    /// interrupted after it resumes (less the overlap).
    fn checkpoint(&self, kind: &str, record: &Record) -> Option<String> {
        #[derive(Deserialize)]
        struct Fields {
            updated: Option<String>,
        }
        #[derive(Deserialize)]
        struct Issue {
            fields: Fields,
        }
        if parse(kind) != Some(JiraKind::Issue) {
            return None;
        }
        serde_json::from_str::<Issue>(record.item.get())
            .ok()?
            .fields
            .updated
    }

    fn changes_since(
        &self,
        kind: &str,
        since: i64,
    ) -> Option<BoxStream<'static, Result<ItemChange>>> {
        match parse(kind)? {
            JiraKind::Issue => {
                let minutes = window_minutes(since);
                // The engine reads the census while it applies these changes: each gets
                // half the client's requests, so the census (the run's longest part, one
                // page after another) never queues behind a full set of bulk fetches.
                let options = SyncOptions {
                    bulk_concurrency: Some((self.client.core().max_concurrency() / 2).max(1)),
                    ..self.window(Some(minutes))
                };
                let issues = self.client.sync(JiraKind::Issue, &options);
                Some(issues.map_ok(ItemChange::Upsert).boxed())
            }
            JiraKind::Worklog => Some(self.worklog_changes(since)),
            _ => None,
        }
    }

    fn census(&self, kind: &str) -> Option<BoxStream<'static, Result<String>>> {
        if parse(kind)? != JiraKind::Issue {
            return None;
        }
        Some(self.client.issue_keys(strip_order_by(
            self.options_for(JiraKind::Issue).effective_jql(),
        )))
    }

    fn fetch_one(&self, kind: &str, id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        let Some(kind) = parse(kind) else {
            let message = format!("unknown Jira kind `{kind}`");
            return async move { Err(ocean_core::Error::Config(message)) }.boxed();
        };
        let options = self.options_for(kind).clone();
        let (client, id) = (self.client.clone(), id.to_owned());
        async move {
            let item = match kind {
                JiraKind::Issue => client.fetch_issue(&id, None, &options).await?,
                _ => client.fetch_one(kind, &id).await?,
            };
            Ok(item.map(|item| Record::new(kind.as_str(), item)))
        }
        .boxed()
    }

    /// Deliveries signed with `secret`; issues re-fetched within the issue options' JQL.
    fn webhook_source(&self, secret: Option<&Secret>) -> Option<Arc<dyn WebhookSource>> {
        let mut source = JiraWebhooks::new(self.client.clone())
            .sync_options(self.options_for(JiraKind::Issue).clone());
        if let Some(secret) = secret {
            source = source.secret(secret.clone());
        }
        Some(Arc::new(source))
    }

    /// The site's one webhook: `https://site: webhook created`.
    fn ensure_webhooks<'a>(
        &'a self,
        app_host: &'a str,
        secret: Option<&'a Secret>,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        let options = WebhookOptions {
            secret: secret.cloned(),
            ..WebhookOptions::default()
        };
        async move {
            let outcome = self.client.ensure_webhook(app_host, &options).await?;
            Ok(vec![format!("{}: {outcome}", self.client.site_url())])
        }
        .boxed()
    }
}

fn parse(kind: &str) -> Option<JiraKind> {
    kind.parse().ok()
}

fn unknown_kind<T: Send + 'static>(kind: &str) -> BoxStream<'static, Result<T>> {
    let error = ocean_core::Error::Config(format!("unknown Jira kind `{kind}`"));
    futures::stream::once(async move { Err(error) }).boxed()
}

/// The JQL without its `ORDER BY` clause (the sync orders the issues itself).
fn strip_order_by(jql: &str) -> &str {
    let lower = jql.to_ascii_lowercase();
    match lower.rfind("order by") {
        Some(at) if !lower[at..].contains('"') && !lower[at..].contains('\'') => {
            jql[..at].trim_end()
        }
        _ => jql.trim_end(),
    }
}

/// Minutes from a Jira timestamp (`2024-05-01T10:00:00.000+0000`) to now, plus the
/// overlap; `None` when the checkpoint is not a timestamp (the stream starts over).
fn minutes_since_timestamp(checkpoint: &str) -> Option<i64> {
    let at = chrono::DateTime::parse_from_str(checkpoint, "%Y-%m-%dT%H:%M:%S%.f%z").ok()?;
    Some(window_minutes(at.timestamp_millis()))
}

/// Whole minutes from `since` (epoch ms) to now, rounded up, plus the overlap.
fn window_minutes(since: i64) -> i64 {
    let elapsed = now_millis().saturating_sub(since).max(0);
    elapsed.saturating_add(59_999) / 60_000 + OVERLAP_MINUTES
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_described_once_with_its_parent() {
        let names: Vec<_> = JiraKind::INFOS.iter().map(|k| k.name).collect();
        assert_eq!(names, JiraKind::ALL.map(JiraKind::as_str));
        let worklog = JiraKind::Worklog.info();
        assert_eq!(worklog.parent, Some("issue"));
        assert!(worklog.incremental && !worklog.census);
        assert_eq!(JiraKind::Issue.info().id_field, "key");
        assert_eq!(JiraKind::Team.info().id_field, "teamId");
    }

    #[test]
    fn order_by_is_stripped_but_not_inside_strings() {
        assert_eq!(strip_order_by("project = A ORDER BY key"), "project = A");
        assert_eq!(
            strip_order_by("project = A order by rank desc"),
            "project = A"
        );
        assert_eq!(
            strip_order_by("summary ~ \"order by\""),
            "summary ~ \"order by\""
        );
        assert_eq!(strip_order_by("project = A"), "project = A");
    }

    #[test]
    fn a_checkpoint_resumes_with_the_overlap() {
        let minutes = minutes_since_timestamp("2000-01-01T00:00:00.000+0000").unwrap();
        assert!(minutes > 13_000_000);
        assert_eq!(minutes_since_timestamp("not a time"), None);
    }
}
