//! GitHub as an [`ocean_core::Provider`]: an organisation's repositories, and per
//! repository its issues, pull requests and workflow runs. Issues alone can be read
//! incrementally (`since=`); the others are synced in full.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat};
use futures::future::{BoxFuture, ready};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use ocean_core::{Client, Error, FanOut, ItemChange, KindInfo, ParentRef, Provider, Resource};
use ocean_core::{Record, Result, Secret, WebhookSource, raw_member};

use crate::{GitHubWebhooks, Issue, PullRequest, Repository, WorkflowRun};

/// The field of a child record naming its repository (the repository's `url`).
pub(crate) const PARENT_FIELD: &str = "repository_url";
/// Repositories whose children are read at once.
const REPOSITORY_CONCURRENCY: usize = 4;
/// How far before the bookmark an incremental run looks: `since=` compares `updated_at`
/// to the second on GitHub's clock, which may trail ours.
const OVERLAP_MS: i64 = 60_000;

/// Every kind, parents first, named and identified as the models declare them.
pub(crate) static KINDS: [KindInfo; 4] = [
    KindInfo::of::<Repository>(),
    KindInfo::of::<Issue>().under::<Repository>().incremental(),
    KindInfo::of::<PullRequest>().under::<Repository>(),
    KindInfo::of::<WorkflowRun>().under::<Repository>(),
];

type Records = BoxStream<'static, Result<Record>>;
type Changes = BoxStream<'static, Result<ItemChange>>;

/// One GitHub organisation as a [`Provider`].
///
/// ```
/// use ocean_core::Provider;
/// let client = ocean_github_example::client("https://api.github.com", "ghp_…").build().unwrap();
/// let github = ocean_github_example::GitHubProvider::new(client, "octo-org");
/// assert_eq!(github.kind("issue").unwrap().parent, Some("repository"));
/// assert_eq!(github.tenant(), "https://api.github.com/orgs/octo-org");
/// ```
#[derive(Debug, Clone)]
pub struct GitHubProvider {
    client: Client,
    org: String,
}

impl GitHubProvider {
    /// The provider of organisation `org`, read through `client` (see [`crate::client`]).
    pub fn new(client: Client, org: impl Into<String>) -> Self {
        let org = org.into();
        Self { client, org }
    }

    /// Every item of child `kind` of every repository (issues changed `since` a time, when
    /// given), tagged with its repository. Pull requests, which GitHub lists among the
    /// issues, are their own kind.
    fn children(&self, kind: &'static str, since: Option<String>) -> Records {
        let (client, org) = (self.client.clone(), self.org.clone());
        let repositories = Repository::stream(&self.client, &self.org);
        FanOut::new(REPOSITORY_CONCURRENCY).run(repositories, move |repository: Repository| {
            let (c, o, r) = (&client, org.as_str(), repository.name.as_str());
            let parent = Some(ParentRef::new(PARENT_FIELD, repository.url));
            let issues = || {
                since
                    .iter()
                    .fold(Issue::list(c, o, r), |l, at| l.query("since", at))
            };
            let records = match kind {
                Issue::KIND => issues().records(parent),
                PullRequest::KIND => PullRequest::list(c, o, r).records(parent),
                _ => WorkflowRun::list(c, o, r).records(parent),
            };
            records.try_filter(|record| ready(!is_pull_request(record)))
        })
    }
}

/// Whether a record of the issue list is a pull request (has a `pull_request` object).
fn is_pull_request(record: &Record) -> bool {
    let member = raw_member(&record.item, "pull_request");
    record.kind == Issue::KIND && member.is_ok_and(|v| v.is_some_and(|v| v.get() != "null"))
}

fn unknown(kind: &str) -> Error {
    Error::Config(format!("GitHub has no kind `{kind}`"))
}

impl Provider for GitHubProvider {
    fn name(&self) -> &'static str {
        "github"
    }

    /// The organisation: two organisations' data never mix.
    fn tenant(&self) -> String {
        format!("{}/orgs/{}", self.client.base_url(), self.org)
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn kinds(&self) -> &'static [KindInfo] {
        &KINDS
    }

    fn full(&self, kind: &str, _resume: Option<&str>) -> Records {
        match self.kind(kind) {
            Some(info) if info.parent.is_some() => self.children(info.name, None),
            Some(_) => Repository::list(&self.client, &self.org).records(None),
            None => futures::stream::iter([Err(unknown(kind))]).boxed(),
        }
    }

    /// Issues updated since the bookmark (less a minute); GitHub cannot list
    /// deleted issues, so nothing is reported deleted.
    fn changes_since(&self, kind: &str, since: i64) -> Option<Changes> {
        let since = DateTime::from_timestamp_millis(since.saturating_sub(OVERLAP_MS));
        let since = since
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Secs, true);
        let changed = (kind == Issue::KIND).then(|| self.children(Issue::KIND, Some(since)));
        Some(changed?.map_ok(ItemChange::Upsert).boxed())
    }

    /// Fetches the object at its `url`; a child's repository is the start of its URL,
    /// `{base}/repos/{owner}/{repo}`.
    fn fetch_one(&self, kind: &str, id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        let (client, info, id) = (self.client.clone(), self.kind(kind).copied(), id.to_owned());
        let unknown = unknown(kind);
        async move {
            let info = info.ok_or(unknown)?;
            let repos = format!("{}/repos/", client.base_url());
            let Some(rest) = id.strip_prefix(&repos) else {
                return Err(Error::Config(format!("`{id}` is not a URL under {repos}")));
            };
            // `{owner}/{repo}` ends at the second slash after `/repos/`.
            let owner_repo: Vec<&str> = rest.splitn(3, '/').take(2).collect();
            let repository = ParentRef::new(PARENT_FIELD, repos.clone() + &owner_repo.join("/"));
            let parent = info.parent.and(Some(repository));
            let item = client.get_url(&id).send_json_if_found().await?;
            Ok(item.map(|item| Record {
                kind: info.name,
                parent,
                item,
            }))
        }
        .boxed()
    }

    fn webhook_source(&self, secret: Option<&Secret>) -> Option<Arc<dyn WebhookSource>> {
        let (client, secret) = (self.client.clone(), secret.cloned());
        Some(Arc::new(GitHubWebhooks { client, secret }))
    }
}
