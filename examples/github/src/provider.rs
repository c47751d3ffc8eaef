//! GitHub as an [`ocean_core::Provider`]: an organisation's repositories, and per
//! repository its issues, pull requests and workflow runs. Issues alone can be read
//! incrementally (`since=`); the others are synced in full.

use futures::future::{BoxFuture, ready};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use ocean_core::{
    Client, Error, FanOut, ItemChange, KindInfo, ListRequest, Provider, RawItem, Record, Resource,
    Result,
};

use crate::{Issue, PullRequest, Repository, WorkflowRun};

/// The field of a child record naming its repository (the repository's `url`).
const PARENT_FIELD: &str = "repository_url";
/// Repositories whose children are read at once.
const REPOSITORY_CONCURRENCY: usize = 4;
/// How far before the bookmark an incremental run looks: `since=` compares `updated_at`
/// to the second on GitHub's clock, which may trail ours.
const OVERLAP_MS: i64 = 60_000;

/// Every kind, parents first, named and identified as the models declare them.
static KINDS: [KindInfo; 4] = [
    kind(Repository::KIND, None, false),
    kind(Issue::KIND, Some(Repository::KIND), true),
    kind(PullRequest::KIND, Some(Repository::KIND), false),
    kind(WorkflowRun::KIND, Some(Repository::KIND), false),
];

const fn kind(name: &'static str, parent: Option<&'static str>, incremental: bool) -> KindInfo {
    let id_field = "url";
    KindInfo {
        name,
        id_field,
        parent,
        incremental,
        census: false,
    }
}

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
        Self {
            client,
            org: org.into(),
        }
    }

    /// `list(client, owner, repository name)` for every repository, tagged with it.
    fn per_repository<F>(&self, kind: &'static str, list: F) -> BoxStream<'static, Result<Record>>
    where
        F: Fn(&Client, &str, &str) -> BoxStream<'static, Result<RawItem>> + Send + 'static,
    {
        let (client, org) = (self.client.clone(), self.org.clone());
        let repositories = Repository::stream(&self.client, &self.org);
        FanOut::new(REPOSITORY_CONCURRENCY).run(repositories, move |repository: Repository| {
            list(&client, &org, &repository.name)
                .map_ok(move |item| Record::child(kind, PARENT_FIELD, repository.url.clone(), item))
        })
    }
}

/// The items of a list, as sent.
fn raw<T>(list: ListRequest<T>) -> BoxStream<'static, Result<RawItem>> {
    list.raw().stream()
}

/// Issues without the pull requests GitHub lists among them (those are their own kind).
fn issues_only(list: ListRequest<Issue>) -> BoxStream<'static, Result<RawItem>> {
    #[derive(serde::Deserialize)]
    struct Probe {
        pull_request: Option<serde::de::IgnoredAny>,
    }
    let is_pull_request = |item: &RawItem| {
        serde_json::from_str::<Probe>(item.get()).is_ok_and(|p| p.pull_request.is_some())
    };
    raw(list)
        .try_filter(move |item| ready(!is_pull_request(item)))
        .boxed()
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

    fn full(&self, kind: &str, _resume: Option<&str>) -> BoxStream<'static, Result<Record>> {
        match kind {
            Repository::KIND => raw(Repository::list(&self.client, &self.org))
                .map_ok(|item| Record::new(Repository::KIND, item))
                .boxed(),
            Issue::KIND => {
                self.per_repository(Issue::KIND, |c, o, r| issues_only(Issue::list(c, o, r)))
            }
            PullRequest::KIND => {
                self.per_repository(PullRequest::KIND, |c, o, r| raw(PullRequest::list(c, o, r)))
            }
            WorkflowRun::KIND => {
                self.per_repository(WorkflowRun::KIND, |c, o, r| raw(WorkflowRun::list(c, o, r)))
            }
            other => futures::stream::iter([Err(unknown(other))]).boxed(),
        }
    }

    /// Issues updated since the bookmark (less a minute); GitHub cannot list
    /// deleted issues, so nothing is reported deleted.
    fn changes_since(
        &self,
        kind: &str,
        since: i64,
    ) -> Option<BoxStream<'static, Result<ItemChange>>> {
        if kind != Issue::KIND {
            return None;
        }
        let since = chrono::DateTime::from_timestamp_millis(since.saturating_sub(OVERLAP_MS))
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let list = move |c: &Client, o: &str, r: &str| {
            issues_only(Issue::list(c, o, r).query("since", &since))
        };
        Some(
            self.per_repository(Issue::KIND, list)
                .map_ok(ItemChange::Upsert)
                .boxed(),
        )
    }

    /// Fetches the object at its `url`; a child's repository is the first three segments
    /// of its path (`/repos/{owner}/{repo}`).
    fn fetch_one(&self, kind: &str, id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        let (client, info, id) = (self.client.clone(), self.kind(kind).copied(), id.to_owned());
        let kind = kind.to_owned();
        async move {
            let info = info.ok_or_else(|| unknown(&kind))?;
            let base = client.base_url();
            let path = id.strip_prefix(base).filter(|p| p.starts_with("/repos/"));
            let path = path.ok_or_else(|| {
                Error::Config(format!(
                    "`{id}` is not a repository object's URL under {base}"
                ))
            })?;
            let item: RawItem = match client.get(path).send().await {
                Ok(response) => response.json()?,
                Err(e) if e.status().is_some_and(|s| matches!(s.as_u16(), 404 | 410)) => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let repository = path
                .match_indices('/')
                .nth(3)
                .map(|(end, _)| format!("{base}{}", &path[..end]));
            Ok(Some(match (info.parent, repository) {
                (Some(_), Some(repository)) => {
                    Record::child(info.name, PARENT_FIELD, repository, item)
                }
                _ => Record::new(info.name, item),
            }))
        }
        .boxed()
    }
}
