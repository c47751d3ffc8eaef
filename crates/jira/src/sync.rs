//! The lossless sync path: every kind as a stream of [`Record`]s, children fanned out
//! over their parents.

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use ocean_core::{
    Error, FanOut, ListRequest, RawItem, Record, Resource, Result, end_quietly, raw_field,
};

use crate::backlog::{self, DEFAULT_BACKLOG_JQL};
use crate::classify::{is_board_without_feature, is_jql_scope_error, is_not_found};
use crate::client::DEFAULT_PROJECT_EXPAND;
use crate::deployment::Deployment;
use crate::models::{Board, Component, Epic, Issue, Project, Release, Sprint, User, Worklog};
use crate::{IssueStrategy, JiraClient, JiraKind};

/// The JQL of the issue sync when none is given (Ocean's default): open issues, and
/// issues created or updated in the last week.
pub const DEFAULT_JQL: &str = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)";

/// What [`JiraClient::sync`] fetches. `Default` matches Ocean's selector defaults except
/// where noted (sprints and epics: every one, not only the active or open ones).
///
/// ```
/// use ocean_jira::{DEFAULT_JQL, SyncOptions};
/// let options = SyncOptions {
///     jql: Some("project = EX".into()),
///     sprint_state: Some("active".into()),
///     ..SyncOptions::default()
/// };
/// assert_eq!(options.effective_jql(), "project = EX");
/// assert_eq!(SyncOptions::default().effective_jql(), DEFAULT_JQL);
/// assert_eq!(SyncOptions::default().fields, ["*all"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOptions {
    /// The JQL of the issues, and of the issues whose worklogs are synced; `None` means
    /// [`DEFAULT_JQL`]. It must be bounded.
    pub jql: Option<String>,
    /// The issue fields to return (default `["*all"]`; `"*navigable"`, `"-comment"`, ids).
    pub fields: Vec<String>,
    /// The issue `expand`, comma-separated (`renderedFields`, `names`, `changelog`, …;
    /// default none).
    pub expand: Option<String>,
    /// The project `expand`, comma-separated (default `insight`, Ocean's).
    pub project_expand: Option<String>,
    /// Sprint states, comma-separated (`future`, `active`, `closed`). `None` (the default)
    /// syncs every state: a full sync should not drop closed sprints. Ocean defaults to
    /// `active` only.
    pub sprint_state: Option<String>,
    /// `Some(false)` syncs open epics only (Ocean's default), `Some(true)` done ones;
    /// `None` (the default) every epic.
    pub epic_done: Option<bool>,
    /// Only boards of this type (`scrum`, `kanban`, `simple`); default all.
    pub board_type: Option<String>,
    /// Only boards of this project (key or id); default all.
    pub board_project: Option<String>,
    /// Only worklogs started at or after this instant (epoch milliseconds).
    pub worklogs_started_after: Option<i64>,
    /// Only worklogs started before this instant (epoch milliseconds).
    pub worklogs_started_before: Option<i64>,
    /// Stop each issue stream after this many issues, with a warning (default: no cap).
    pub max_issues: Option<u64>,
    /// How issues are read: an id census then parallel bulk fetches (the default), or
    /// the search cursor.
    pub issue_strategy: IssueStrategy,
    /// Bulk fetches of the census strategy in flight at most; `None` (the default) is the
    /// client's [`max_concurrency`](ocean_core::ClientBuilder::max_concurrency). Lower it
    /// to leave requests to another stream read at the same time.
    pub bulk_concurrency: Option<usize>,
    /// The Atlassian organisation whose teams the `team` kind syncs; without it, `team`
    /// yields nothing (as Ocean's does without `atlassianOrganizationId`).
    pub org_id: Option<String>,
    /// Only components whose name or description contains this text, case-insensitive
    /// (Ocean's `nameFilter`; Cloud's `query`); default all.
    pub component_query: Option<String>,
    /// The JQL narrowing each board's backlog; `None` means
    /// [`DEFAULT_BACKLOG_JQL`](crate::DEFAULT_BACKLOG_JQL).
    pub backlog_jql: Option<String>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            jql: None,
            fields: vec!["*all".to_owned()],
            expand: None,
            project_expand: Some(DEFAULT_PROJECT_EXPAND.to_owned()),
            sprint_state: None,
            epic_done: None,
            board_type: None,
            board_project: None,
            worklogs_started_after: None,
            worklogs_started_before: None,
            max_issues: None,
            issue_strategy: IssueStrategy::default(),
            bulk_concurrency: None,
            org_id: None,
            component_query: None,
            backlog_jql: None,
        }
    }
}

impl SyncOptions {
    /// The JQL the issue sync runs: [`SyncOptions::jql`] or [`DEFAULT_JQL`].
    pub fn effective_jql(&self) -> &str {
        self.jql.as_deref().unwrap_or(DEFAULT_JQL)
    }
}

impl JiraClient {
    /// Streams every item of `kind` as a [`Record`]: the item's JSON bytes untouched,
    /// tagged with its kind, and children with their parent.
    ///
    /// * `project`, `issue`, `user`, `board`: one list each.
    /// * `sprint`, `epic`: every board's, tagged `board_id`. A board that answers
    ///   `400 … does not support sprints` (kanban, simple boards) or `404` is skipped with
    ///   a warning.
    /// * `release`, `component`: every project's, tagged `project_key`.
    /// * `worklog`: the worklogs of every issue the JQL matches, tagged `issue_key`.
    /// * `backlog`: the issues on every board's backlog, tagged `board_id`; boards without a
    ///   backlog are skipped with a warning.
    /// * `team`: the teams of [`SyncOptions::org_id`], each with its members as `__members`.
    ///
    /// A JQL that names a project the credentials cannot see makes Jira answer `400 The
    /// value 'X' does not exist for the field 'project'` for the whole query: the issue
    /// (or worklog) stream then logs a warning and ends with no items rather than failing
    /// (see [`is_jql_scope_error`](crate::is_jql_scope_error)). Every other error ends the
    /// stream with that error.
    ///
    /// Up to [`fan_out`](crate::JiraClientBuilder::fan_out) parents are worked on at once;
    /// children of different parents interleave.
    pub fn sync(
        &self,
        kind: JiraKind,
        options: &SyncOptions,
    ) -> BoxStream<'static, Result<Record>> {
        match kind {
            JiraKind::Project => {
                let mut list = self.raw::<Project>();
                if let Some(expand) = &options.project_expand {
                    list = list.query("expand", expand);
                }
                records(kind, list.stream())
            }
            JiraKind::Issue => records(kind, self.issue_stream(options, &options.fields, true)),
            JiraKind::User => records(kind, self.raw::<User>().stream()),
            JiraKind::Board => records(kind, self.board_stream(options)),
            JiraKind::Sprint => {
                let state = options.sprint_state.clone();
                let client = self.clone();
                self.fan_out(kind, self.board_stream(options), board_skip, move |board| {
                    let mut list = client.raw::<Sprint>().path_param("board_id", board);
                    if let Some(state) = &state {
                        list = list.query("state", state);
                    }
                    list.stream()
                })
            }
            JiraKind::Epic => {
                let done = options.epic_done;
                let client = self.clone();
                self.fan_out(kind, self.board_stream(options), board_skip, move |board| {
                    let mut list = client.raw::<Epic>().path_param("board_id", board);
                    if let Some(done) = done {
                        list = list.query("done", done);
                    }
                    list.stream()
                })
            }
            JiraKind::Release => {
                let client = self.clone();
                let projects = self.raw::<Project>().stream();
                self.fan_out(kind, projects, is_not_found, move |key| {
                    client
                        .raw::<Release>()
                        .path_param("project_key", key)
                        .stream()
                })
            }
            JiraKind::Component => {
                let client = self.clone();
                let query = options.component_query.clone();
                let projects = self.raw::<Project>().stream();
                self.fan_out(kind, projects, is_not_found, move |key| {
                    let mut list = client.raw::<Component>().path_param("project_key", key);
                    match (&query, client.deployment) {
                        (None, _) => list.stream(),
                        (Some(q), Deployment::Cloud) => {
                            list = list.query("query", q);
                            list.stream()
                        }
                        // Data Center's list has no `query`: filter here, as Cloud would.
                        (Some(q), Deployment::DataCenter) => {
                            let needle = q.to_lowercase();
                            list.stream()
                                .try_filter(move |item| {
                                    let hit = ["name", "description"].iter().any(|f| {
                                        raw_field(item, f)
                                            .ok()
                                            .flatten()
                                            .is_some_and(|v| v.to_lowercase().contains(&needle))
                                    });
                                    futures::future::ready(hit)
                                })
                                .boxed()
                        }
                    }
                })
            }
            JiraKind::Team => self.team_records(options.org_id.as_deref()),
            JiraKind::Backlog => {
                let jql = options
                    .backlog_jql
                    .clone()
                    .unwrap_or_else(|| DEFAULT_BACKLOG_JQL.to_owned());
                let fields = options.fields.join(",");
                let client = self.clone();
                self.fan_out(
                    kind,
                    self.board_stream(options),
                    backlog::skip,
                    move |board| {
                        ListRequest::<RawItem>::new(
                            &client.core,
                            backlog::endpoint(client.deployment),
                        )
                        .page_size(client.page_size)
                        .path_param("board_id", board)
                        .query("jql", &jql)
                        .query("fields", &fields)
                        .stream()
                    },
                )
            }
            JiraKind::Worklog => {
                let (after, before) = (
                    options.worklogs_started_after,
                    options.worklogs_started_before,
                );
                let client = self.clone();
                let issues = self.issue_stream(options, &["key".to_owned()], false);
                self.fan_out(kind, issues, is_not_found, move |key| {
                    let mut list = client.raw::<Worklog>().path_param("issue_key", key);
                    if let Some(after) = after {
                        list = list.query("startedAfter", after);
                    }
                    if let Some(before) = before {
                        list = list.query("startedBefore", before);
                    }
                    list.stream()
                })
            }
        }
    }

    /// A raw list of `T`'s endpoint with the client's page size.
    fn raw<T: Resource>(&self) -> ListRequest<RawItem> {
        ListRequest::new(&self.core, self.deployment.endpoint::<T>()).page_size(self.page_size)
    }

    fn board_stream(&self, options: &SyncOptions) -> BoxStream<'static, Result<RawItem>> {
        let mut list = self.raw::<Board>();
        if let Some(board_type) = &options.board_type {
            list = list.query("type", board_type);
        }
        if let Some(project) = &options.board_project {
            list = list.query("projectKeyOrId", project);
        }
        list.stream()
    }

    /// The issues of the options' JQL; a JQL naming an unseen project ends it quietly.
    fn issue_stream(
        &self,
        options: &SyncOptions,
        fields: &[String],
        with_expand: bool,
    ) -> BoxStream<'static, Result<RawItem>> {
        let jql = options.effective_jql().to_owned();
        let expand = options.expand.as_deref().filter(|_| with_expand);
        let issues = match options.issue_strategy {
            // A census is only worth it when the issues carry more than their id and key.
            IssueStrategy::Census if fields.iter().any(|f| f != "key" && f != "id") => {
                let ids = self.issue_ids(&jql);
                let ids = match options.max_issues {
                    Some(max) => ids.take(usize::try_from(max).unwrap_or(usize::MAX)).boxed(),
                    None => ids,
                };
                let in_flight = options
                    .bulk_concurrency
                    .unwrap_or_else(|| self.core().max_concurrency());
                self.bulk_issues_in_flight(ids, fields, expand, in_flight)
            }
            _ => {
                let mut list = self.raw::<Issue>().body("jql", &jql).body("fields", fields);
                if let Some(expand) = expand {
                    list = list.body("expand", expand);
                }
                if options.max_issues.is_some() {
                    list = list.max_items(options.max_issues);
                }
                list.stream()
            }
        };
        end_quietly(issues, move |e| {
            let skip = is_jql_scope_error(e);
            if skip {
                tracing::warn!(
                    jql = %jql,
                    error = %e,
                    "the JQL names a project these credentials cannot see: no issues synced for it"
                );
            }
            skip
        })
    }

    /// Streams `children(parent id)` for every parent, each tagged with its parent.
    fn fan_out<F, S>(
        &self,
        kind: JiraKind,
        parents: BoxStream<'static, Result<RawItem>>,
        skip: fn(&Error) -> bool,
        mut children: F,
    ) -> BoxStream<'static, Result<Record>>
    where
        F: FnMut(&str) -> S + Send + 'static,
        S: futures::Stream<Item = Result<RawItem>> + Send + 'static,
    {
        let parent = kind.parent().unwrap_or(JiraKind::Project);
        let id_field = parent.id_field();
        let parent_url = match parent {
            JiraKind::Board => self.endpoint_url::<Board>(),
            JiraKind::Issue => self.endpoint_url::<Issue>(),
            _ => self.endpoint_url::<Project>(),
        };
        let tag = kind.parent_field().unwrap_or("parent_id");
        FanOut::new(self.fan_out)
            .skip_when(skip)
            .run(parents, move |parent: RawItem| {
                match raw_field(&parent, id_field) {
                    Ok(Some(id)) => {
                        let parent_id = id.clone();
                        children(&id)
                            .map_ok(move |item| {
                                Record::child(kind.as_str(), tag, parent_id.clone(), item)
                            })
                            .boxed()
                    }
                    found => {
                        let message = match found {
                            Err(e) => e.to_string(),
                            Ok(_) => format!("a parent of a {kind} has no `{id_field}`"),
                        };
                        let error = Error::Decode {
                            url: parent_url.clone(),
                            path: id_field.to_owned(),
                            message,
                        };
                        stream::once(async move { Err(error) }).boxed()
                    }
                }
            })
    }

    fn endpoint_url<T: Resource>(&self) -> String {
        let path = self.deployment.endpoint::<T>().path().to_owned();
        self.core.url(&path).map_or(path, |u| u.to_string())
    }
}

/// Sprints and epics: skip boards without the feature, and boards gone mid-sync.
fn board_skip(e: &Error) -> bool {
    is_board_without_feature(e) || is_not_found(e)
}

fn records(
    kind: JiraKind,
    items: BoxStream<'static, Result<RawItem>>,
) -> BoxStream<'static, Result<Record>> {
    items
        .map_ok(move |item| Record::new(kind.as_str(), item))
        .boxed()
}
