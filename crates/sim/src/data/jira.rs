//! The simulated Jira site: projects, issues, users, boards, sprints, epics, versions, components
//! and worklogs, rendered once in the shapes of `shared/specs/examples/jira-*.json`.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::issues::{IssueGen, LazyIssues, LazyWorklogs};
use super::names::{
    AREAS, CATEGORIES, EPIC_COLORS, FIRST, LABELS, LAST, OBJECTS, PRODUCTS, QUALIFIERS,
    SPRINT_GOALS, TIME_ZONES, VERBS,
};
use crate::feed::WorklogFeed;
use crate::json::{Arr, Obj, object};
use crate::rng::Rng;
use crate::store::{Arena, Attrs, Render, Row, Table};
use crate::time::{self, DAY_MS, EPOCH_MS};

/// Number of Jira projects for `n` items.
pub(crate) fn project_count(n: usize) -> usize {
    (n / 50).clamp(2, 200)
}

/// Number of Jira users for `n` items.
pub(crate) fn user_count(n: usize) -> usize {
    (n / 10).clamp(5, 2000)
}

/// First id of generated numeric Jira ids (projects, issues, versions, ...).
pub(crate) const FIRST_ID: u64 = 10_000;

/// A user as embedded in other items.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub(crate) account_id: String,
    /// The full user object (the `users/search` item), embedded as assignee, reporter, lead.
    pub(crate) full: Bytes,
    /// `{accountId, active, displayName, self}`: the worklog author form.
    pub(crate) short: Bytes,
}

/// A project as embedded in issues.
#[derive(Clone, Debug)]
pub(crate) struct ProjectRef {
    pub(crate) id: u64,
    pub(crate) key: String,
    pub(crate) name: String,
    pub(crate) embed: Bytes,
}

/// One status of the simulated workflow.
#[derive(Clone)]
pub(crate) struct Status {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    category: Category,
    pub(crate) json: Bytes,
}

impl Status {
    pub(crate) fn is_done(&self) -> bool {
        self.category.1 == "done"
    }
}

/// Pre-rendered constant fragments (they embed the base URL).
#[derive(Clone)]
pub(crate) struct Fragments {
    pub(crate) statuses: Vec<Status>,
    issue_types: Vec<Bytes>,
    priorities: Vec<Bytes>,
    resolution: Bytes,
}

/// Status category: (id, key, colorName, name).
type Category = (u32, &'static str, &'static str, &'static str);

const STATUSES: &[(&str, &str, Category)] = &[
    ("10000", "To Do", (2, "new", "blue-gray", "To Do")),
    (
        "3",
        "In Progress",
        (4, "indeterminate", "yellow", "In Progress"),
    ),
    (
        "10001",
        "In Review",
        (4, "indeterminate", "yellow", "In Progress"),
    ),
    ("10002", "Done", (3, "done", "green", "Done")),
];

const ISSUE_TYPES: &[(&str, &str, &str, u32)] = &[
    ("10001", "Task", "A small, distinct piece of work.", 10318),
    ("10004", "Bug", "A problem or error.", 10303),
    (
        "10005",
        "Story",
        "Functionality or a feature expressed as a user goal.",
        10315,
    ),
];

const PRIORITIES: &[(&str, &str, &str)] = &[
    ("1", "Highest", "highest"),
    ("2", "High", "high"),
    ("3", "Medium", "medium"),
    ("4", "Low", "low"),
    ("5", "Lowest", "lowest"),
];

impl Fragments {
    pub(crate) fn new(base: &str) -> Self {
        let statuses = STATUSES
            .iter()
            .map(|&(id, name, category)| Status {
                id,
                name,
                category,
                json: object(400, |o| {
                    o.str("self", &format!("{base}/rest/api/3/status/{id}"))
                        .str("description", "")
                        .str(
                            "iconUrl",
                            &format!("{base}/images/icons/statuses/generic.png"),
                        )
                        .str("name", name)
                        .str("id", id)
                        .obj("statusCategory", |c| {
                            c.str(
                                "self",
                                &format!("{base}/rest/api/3/statuscategory/{}", category.0),
                            )
                            .num("id", category.0)
                            .str("key", category.1)
                            .str("colorName", category.2)
                            .str("name", category.3);
                        });
                })
                .into(),
            })
            .collect();
        let issue_types = ISSUE_TYPES
            .iter()
            .map(|&(id, name, description, avatar)| {
                object(400, |o| {
                    o.str("self", &format!("{base}/rest/api/3/issuetype/{id}"))
                        .str("id", id)
                        .str("description", description)
                        .str(
                            "iconUrl",
                            &format!(
                                "{base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{avatar}?size=medium"
                            ),
                        )
                        .str("name", name)
                        .bool("subtask", false)
                        .num("avatarId", avatar)
                        .num("hierarchyLevel", 0);
                })
                .into()
            })
            .collect();
        let priorities = PRIORITIES
            .iter()
            .map(|&(id, name, icon)| {
                object(200, |o| {
                    o.str("self", &format!("{base}/rest/api/3/priority/{id}"))
                        .str(
                            "iconUrl",
                            &format!("{base}/images/icons/priorities/{icon}.svg"),
                        )
                        .str("name", name)
                        .str("id", id);
                })
                .into()
            })
            .collect();
        let resolution = object(200, |o| {
            o.str("self", &format!("{base}/rest/api/3/resolution/10000"))
                .str("id", "10000")
                .str("description", "Work has been completed on this issue.")
                .str("name", "Done");
        })
        .into();
        Fragments {
            statuses,
            issue_types,
            priorities,
            resolution,
        }
    }

    pub(crate) fn status_by_name(&self, name: &str) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

/// Everything the simulated Jira site serves.
pub(crate) struct JiraData {
    pub(crate) base: String,
    pub(crate) seed: u64,
    pub(crate) frags: Fragments,
    /// Group `""`; alias = project key.
    pub(crate) projects: Table,
    /// Group `""`; alias = issue key; attrs from [`issue_attrs`].
    pub(crate) issues: Table,
    /// Group `""`.
    pub(crate) users: Table,
    /// Group `""`; attrs `type`, `project` (key), `projectId`, `name`.
    pub(crate) boards: Table,
    /// Grouped by board id; attr `state`.
    pub(crate) sprints: Table,
    /// Grouped by board id; alias = epic key; attr `done`.
    pub(crate) epics: Table,
    /// Grouped by project id.
    pub(crate) versions: Table,
    /// Grouped by project id.
    pub(crate) components: Table,
    /// Grouped by issue id; attr `updated` (epoch ms).
    pub(crate) worklogs: Table,
    /// Worklog changes by time, for `worklog/updated` and `worklog/deleted`.
    pub(crate) worklog_feed: WorklogFeed,
    pub(crate) next_worklog_id: u64,
    pub(crate) people: Vec<Person>,
    /// Project key → embeddable project.
    pub(crate) project_refs: HashMap<String, ProjectRef>,
    /// Project key → highest issue number used.
    pub(crate) issue_numbers: HashMap<String, u64>,
    pub(crate) next_issue_id: u64,
    pub(crate) next_project_id: u64,
    pub(crate) next_changelog: u64,
    /// Bulk edits applied so far (each shifts which issues the next one picks).
    pub(crate) bulk_edits: u64,
}

/// An issue's attributes: `project` (key), `key`, `created` and `updated` (epoch ms).
pub(crate) fn issue_attrs(project_key: &str, key: &str, created_ms: i64, updated_ms: i64) -> Attrs {
    vec![
        ("project", project_key.into()),
        ("key", key.into()),
        ("created", created_ms.to_string().into()),
        ("updated", updated_ms.to_string().into()),
    ]
}

/// A worklog's attributes: `updated` (epoch ms).
pub(crate) fn worklog_attrs(updated_ms: i64) -> Attrs {
    vec![("updated", updated_ms.to_string().into())]
}

impl JiraData {
    /// Resolves a project id or key to its key.
    pub(crate) fn project_key(&self, id_or_key: &str) -> Option<String> {
        let row = self.projects.get(id_or_key)?;
        row.attr("key").map(str::to_owned)
    }

    /// Resolves a project id or key to its id.
    pub(crate) fn project_id(&self, id_or_key: &str) -> Option<Arc<str>> {
        self.projects.resolve(id_or_key)
    }

    /// Whether a JQL `project` value (key, id or name) names the project with key `key`.
    pub(crate) fn project_matches(&self, value: &str, key: &str) -> bool {
        value.eq_ignore_ascii_case(key)
            || self.projects.get(value).and_then(|r| r.attr("key")) == Some(key)
            || self
                .projects
                .get(&value.to_uppercase())
                .and_then(|r| r.attr("key"))
                == Some(key)
    }

    /// The next changelog id for an issue update.
    pub(crate) fn take_changelog_id(&mut self) -> u64 {
        self.next_changelog += 1;
        self.next_changelog
    }
}

fn avatar_urls(o: &mut Obj<'_>, url: impl Fn(&str, u32) -> String) {
    o.obj("avatarUrls", |a| {
        for (size, name) in [(16, "xsmall"), (24, "small"), (32, "medium"), (48, "large")] {
            a.str(&format!("{size}x{size}"), &url(name, size));
        }
    });
}

fn adf(o: &mut Obj<'_>, key: &str, text: &str) {
    o.obj(key, |d| {
        d.str("type", "doc").num("version", 1).arr("content", |c| {
            c.obj(|p| {
                p.str("type", "paragraph").arr("content", |c| {
                    c.obj(|t| {
                        t.str("type", "text").str("text", text);
                    });
                });
            });
        });
    });
}

fn person(base: &str, seed: u64, index: u64) -> (Person, Bytes) {
    let mut rng = Rng::new(seed, "jira.user", index);
    let (account_id, display_name, email) = if index == 0 {
        (
            "5b10a2844c20165700ede21g".to_owned(),
            "Demo User".to_owned(),
            crate::JIRA_EMAIL.to_owned(),
        )
    } else {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let email = format!(
            "{}.{}{index}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        (rng.hex(24), format!("{first} {last}"), email)
    };
    let initials: String = display_name
        .split(' ')
        .filter_map(|w| w.chars().next())
        .collect();
    let self_url = format!("{base}/rest/api/3/user?accountId={account_id}");
    let active = index == 0 || rng.chance(0.9);
    let account_type = if index != 0 && rng.chance(0.05) {
        "app"
    } else {
        "atlassian"
    };
    let show_email = index == 0 || rng.chance(0.6);
    let tz = *rng.pick(TIME_ZONES);
    let full = object(900, |o| {
        o.str("accountId", &account_id)
            .str("accountType", account_type)
            .bool("active", active);
        avatar_urls(o, |_, size| {
            format!(
                "https://avatar-management--avatars.server-location.prod.public.atl-paas.net/initials/{initials}-{}.png?size={size}&s={size}",
                index % 7
            )
        });
        o.str("displayName", &display_name);
        if show_email {
            o.str("emailAddress", &email);
        }
        o.str("key", "")
            .str("name", "")
            .str("self", &self_url)
            .str("timeZone", tz);
    });
    let short = object(200, |o| {
        o.str("accountId", &account_id)
            .bool("active", active)
            .str("displayName", &display_name)
            .str("self", &self_url);
    });
    let full = Bytes::from(full);
    (
        Person {
            account_id,
            full: full.clone(),
            short: short.into(),
        },
        full,
    )
}

fn project_ref(base: &str, id: u64, key: &str, name: &str) -> ProjectRef {
    let embed = object(600, |o| {
        o.str("self", &format!("{base}/rest/api/3/project/{id}"))
            .str("id", &id.to_string())
            .str("key", key)
            .str("name", name)
            .str("projectTypeKey", "software")
            .bool("simplified", false);
        avatar_urls(o, |size, _| {
            format!("{base}/secure/projectavatar?size={size}&pid={id}")
        });
    });
    ProjectRef {
        id,
        key: key.to_owned(),
        name: name.to_owned(),
        embed: embed.into(),
    }
}

/// Renders a project as served by `project/search` and `project/{key}`.
pub(crate) fn render_project(
    base: &str,
    seed: u64,
    id: u64,
    key: &str,
    name: &str,
    issue_count: u64,
    last_update_ms: i64,
) -> Vec<u8> {
    let mut rng = Rng::new(seed, "jira.project", id);
    let (cat_name, cat_desc) = *rng.pick(CATEGORIES);
    let cat_id = 10_000 + CATEGORIES.iter().position(|c| c.0 == cat_name).unwrap_or(0);
    let uuid = rng.guid();
    object(1200, |o| {
        o.str(
            "expand",
            "description,lead,issueTypes,url,projectKeys,permissions,insight",
        )
        .str("self", &format!("{base}/rest/api/3/project/{id}"))
        .str("id", &id.to_string())
        .str("key", key)
        .str("name", name);
        avatar_urls(o, |size, _| {
            format!("{base}/secure/projectavatar?size={size}&pid={id}")
        });
        o.obj("projectCategory", |c| {
            c.str(
                "self",
                &format!("{base}/rest/api/3/projectCategory/{cat_id}"),
            )
            .str("id", &cat_id.to_string())
            .str("name", cat_name)
            .str("description", cat_desc);
        })
        .str("projectTypeKey", "software")
        .bool("simplified", false)
        .str("style", "classic")
        .bool("isPrivate", false)
        .empty_obj("properties")
        .str("entityId", &uuid)
        .str("uuid", &uuid)
        .obj("insight", |i| {
            i.num("totalIssueCount", issue_count)
                .str("lastIssueUpdateTime", &time::jira(last_update_ms));
        });
    })
}

/// What varies between issues.
pub(crate) struct IssueSpec<'a> {
    pub(crate) id: u64,
    pub(crate) key: &'a str,
    pub(crate) project: &'a ProjectRef,
    pub(crate) summary: Option<&'a str>,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    /// Rendered worklogs of this issue, embedded in `fields.worklog`.
    pub(crate) worklogs: &'a [Bytes],
    /// Components and versions of the project, to reference from the issue.
    pub(crate) component: Option<(&'a str, &'a str)>,
    pub(crate) fix_version: Option<&'a [u8]>,
}

/// Renders an issue in the `search/jql` shape with every field (`*all`), appending to `buf`.
pub(crate) fn render_issue(
    buf: &mut Vec<u8>,
    base: &str,
    seed: u64,
    frags: &Fragments,
    people: &[Person],
    spec: &IssueSpec<'_>,
) {
    let mut rng = Rng::new(seed, "jira.issue", spec.id);
    let (verb, object, qualifier) = (*rng.pick(VERBS), *rng.pick(OBJECTS), *rng.pick(QUALIFIERS));
    let status = &frags.statuses[rng.below(frags.statuses.len() as u64) as usize];
    let issue_type = rng.pick(&frags.issue_types);
    let priority = rng.pick(&frags.priorities);
    let assignee = if rng.chance(0.8) {
        Some(rng.pick(people))
    } else {
        None
    };
    let reporter = rng.pick(people);
    let n_labels = rng.below(3) as usize;
    let labels: Vec<&str> = (0..n_labels).map(|_| *rng.pick(LABELS)).collect();
    let watchers = rng.below(5);
    let votes = rng.below(3);
    let due = if rng.chance(0.3) {
        Some(time::date(spec.created_ms + 21 * DAY_MS))
    } else {
        None
    };
    let estimate_h = 1 + rng.below(16);
    let customers = 1 + rng.below(40);
    let comment_author = if rng.chance(0.15) {
        Some(rng.pick(people))
    } else {
        None
    };
    let linked = if spec.id > FIRST_ID && rng.chance(0.2) {
        Some(spec.id - 1)
    } else {
        None
    };
    let id = spec.id;
    let key = spec.key;
    let created = time::jira(spec.created_ms);
    let updated = time::jira(spec.updated_ms);
    let mut o = Obj::new(buf);
    o.str("expand", "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations")
        .fmt("id", format_args!("{id}"))
        .fmt("self", format_args!("{base}/rest/api/3/issue/{id}"))
        .str("key", key)
        .obj("fields", |f| {
            match spec.summary {
                Some(s) => f.str("summary", s),
                None => f.fmt("summary", format_args!("{verb} {object} {qualifier}")),
            };
            f.raw("issuetype", issue_type).raw("status", &status.json).raw("priority", priority);
            match assignee {
                Some(p) => f.raw("assignee", &p.full),
                None => f.null("assignee"),
            };
            f.raw("reporter", &reporter.full)
                .raw("project", &spec.project.embed)
                .str("created", &created)
                .str("updated", &updated)
                .str("statuscategorychangedate", &updated);
            if status.is_done() {
                f.raw("resolution", &frags.resolution).str("resolutiondate", &updated);
            } else {
                f.null("resolution").null("resolutiondate");
            }
            f.strs("labels", &labels)
                .arr("components", |a| {
                    if let Some((cid, cname)) = spec.component {
                        a.obj(|c| {
                            c.fmt("self", format_args!("{base}/rest/api/3/component/{cid}"))
                                .str("id", cid)
                                .str("name", cname);
                        });
                    }
                })
                .arr("fixVersions", |a| {
                    if let Some(v) = spec.fix_version {
                        a.raw(v);
                    }
                })
                .empty_arr("versions");
            f.obj("description", |d| {
                d.str("type", "doc").num("version", 1).arr("content", |c| {
                    c.obj(|p| {
                        p.str("type", "paragraph").arr("content", |c| {
                            c.obj(|t| {
                                t.str("type", "text");
                                match spec.summary {
                                    Some(s) => t.str("text", s),
                                    None => t.fmt(
                                        "text",
                                        format_args!(
                                            "{verb} {object} {qualifier}. Steps to reproduce are in the linked runbook; seen by {customers} customers."
                                        ),
                                    ),
                                };
                            });
                        });
                    });
                });
            });
            f.opt_str("duedate", due.as_deref())
                .null("environment")
                .null("security")
                .obj("watcher", |w| {
                    w.bool("isWatching", false)
                        .fmt("self", format_args!("{base}/rest/api/3/issue/{key}/watchers"))
                        .num("watchCount", watchers);
                })
                .obj("votes", |v| {
                    v.fmt("self", format_args!("{base}/rest/api/3/issue/{key}/votes"))
                        .num("votes", votes)
                        .bool("hasVoted", false);
                })
                .empty_arr("attachment")
                .empty_arr("sub-tasks")
                .arr("issuelinks", |a| {
                    if let Some(other) = linked {
                        a.obj(|l| {
                            l.fmt("id", format_args!("{}", other + 5_000_000))
                                .obj("type", |t| {
                                    t.str("id", "10000")
                                        .str("name", "Blocks")
                                        .str("inward", "is blocked by")
                                        .str("outward", "blocks");
                                })
                                .obj("inwardIssue", |i| {
                                    i.fmt("id", format_args!("{other}"))
                                        .fmt("self", format_args!("{base}/rest/api/3/issue/{other}"));
                                });
                        });
                    }
                })
                .arr("comment", |a| {
                    if let Some(author) = comment_author {
                        let cid = spec.id + 7_000_000;
                        a.obj(|c| {
                            c.raw("author", &author.short);
                            adf(c, "body", "Reproduced on staging, picking this up.");
                            c.str("created", &updated)
                                .fmt("id", format_args!("{cid}"))
                                .fmt("self", format_args!("{base}/rest/api/3/issue/{id}/comment/{cid}"))
                                .raw("updateAuthor", &author.short)
                                .str("updated", &updated);
                        });
                    }
                })
                .arr("worklog", |a: &mut Arr<'_>| {
                    for w in spec.worklogs {
                        a.raw(w);
                    }
                })
                .obj("timetracking", |t| {
                    t.fmt("originalEstimate", format_args!("{estimate_h}h"))
                        .num("originalEstimateSeconds", estimate_h * 3600)
                        .fmt("remainingEstimate", format_args!("{estimate_h}h"))
                        .num("remainingEstimateSeconds", estimate_h * 3600)
                        .num("timeSpentSeconds", 0);
                });
        });
    o.end();
}

/// Renders a worklog in the `issue/{key}/worklog` shape, appending to `buf`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_worklog(
    buf: &mut Vec<u8>,
    base: &str,
    seed: u64,
    id: u64,
    issue_id: u64,
    author: &Person,
    started_ms: i64,
    seconds: u64,
) {
    let mut rng = Rng::new(seed, "jira.worklog", id);
    let comment = *rng.pick(&[
        "I did some work here.",
        "Paired on the fix.",
        "Code review and follow-up.",
        "Investigated logs.",
    ]);
    let logged = time::jira(started_ms + seconds as i64 * 1000);
    let mut o = Obj::new(buf);
    o.fmt(
        "self",
        format_args!("{base}/rest/api/3/issue/{issue_id}/worklog/{id}"),
    )
    .raw("author", &author.short)
    .raw("updateAuthor", &author.short);
    adf(&mut o, "comment", comment);
    o.str("created", &logged)
        .str("updated", &logged)
        .str("started", &time::jira(started_ms));
    if seconds % 3600 == 0 {
        o.fmt("timeSpent", format_args!("{}h", seconds / 3600));
    } else {
        o.fmt(
            "timeSpent",
            format_args!("{}h {}m", seconds / 3600, (seconds % 3600) / 60),
        );
    }
    o.num("timeSpentSeconds", seconds)
        .fmt("id", format_args!("{id}"))
        .fmt("issueId", format_args!("{issue_id}"));
    o.end();
}

/// Generates the whole Jira site for `n` items; with `lazy`, issues and worklogs are rendered
/// when served instead of now.
pub(crate) fn generate(seed: u64, n: usize, base: &str, lazy: bool) -> JiraData {
    let frags = Fragments::new(base);
    let n_projects = project_count(n);
    let n_users = user_count(n);

    let mut users = Table::new();
    let mut people = Vec::with_capacity(n_users);
    for u in 0..n_users as u64 {
        let (p, full) = person(base, seed, u);
        users.push("", Row::new(p.account_id.as_str(), full, Vec::new()));
        people.push(p);
    }

    // Projects: names first, so issues can embed them.
    let issues_in = |p: usize| (n / n_projects + usize::from(p < n % n_projects)) as u64;
    let mut project_refs = HashMap::new();
    let mut refs = Vec::with_capacity(n_projects);
    for p in 0..n_projects {
        let mut rng = Rng::new(seed, "jira.project.name", p as u64);
        let name = format!("{} {}", rng.pick(PRODUCTS), rng.pick(AREAS));
        let key = format!("PROJ{}", p + 1);
        let r = project_ref(base, FIRST_ID + p as u64, &key, &name);
        refs.push(r.clone());
        project_refs.insert(key, r);
    }

    // Versions and components, per project.
    let mut versions = Table::new();
    let mut components = Table::new();
    let mut fix_versions: Vec<Vec<Bytes>> = Vec::with_capacity(n_projects);
    let mut component_ids: Vec<Vec<(String, String)>> = Vec::with_capacity(n_projects);
    for (p, r) in refs.iter().enumerate() {
        let pid = r.id.to_string();
        versions.ensure_group(&pid);
        components.ensure_group(&pid);
        let mut fixes = Vec::new();
        for j in 0..3u64 {
            let vid = FIRST_ID + (p as u64) * 3 + j;
            let release_ms = EPOCH_MS + (j as i64 - 1) * 30 * DAY_MS;
            let released = j == 0;
            let name = format!("{}.{}.0", 1 + p % 3, j);
            let description = [
                "An excellent version",
                "Minor Bugfix version",
                "Next big thing",
            ][j as usize];
            let json = object(500, |o| {
                o.str("self", &format!("{base}/rest/api/3/version/{vid}"))
                    .str("id", &vid.to_string())
                    .str("description", description)
                    .str("name", &name)
                    .bool("archived", false)
                    .bool("released", released)
                    .str("startDate", &time::date(release_ms - 30 * DAY_MS))
                    .str("releaseDate", &time::date(release_ms))
                    .str("userStartDate", &time::user_date(release_ms - 30 * DAY_MS))
                    .str("userReleaseDate", &time::user_date(release_ms))
                    .bool("overdue", !released && release_ms < EPOCH_MS)
                    .num("projectId", r.id);
            });
            let embed = object(300, |o| {
                o.str("self", &format!("{base}/rest/api/3/version/{vid}"))
                    .str("id", &vid.to_string())
                    .str("description", description)
                    .str("name", &name)
                    .bool("archived", false)
                    .bool("released", released)
                    .str("releaseDate", &time::date(release_ms));
            });
            fixes.push(Bytes::from(embed));
            versions.push(&pid, Row::new(vid.to_string(), json, Vec::new()));
        }
        fix_versions.push(fixes);
        let mut comps = Vec::new();
        for j in 0..2u64 {
            let cid = FIRST_ID + (p as u64) * 2 + j;
            let mut rng = Rng::new(seed, "jira.component", cid);
            let lead = rng.pick(&people);
            let name = ["Backend", "Frontend"][j as usize].to_owned();
            let json = object(3000, |o| {
                o.str("self", &format!("{base}/rest/api/3/component/{cid}"))
                    .str("id", &cid.to_string())
                    .str("name", &name)
                    .str("description", &format!("{name} work for {}", r.name))
                    .raw("lead", &lead.full)
                    .str("assigneeType", "PROJECT_LEAD")
                    .raw("assignee", &lead.full)
                    .str("realAssigneeType", "PROJECT_LEAD")
                    .raw("realAssignee", &lead.full)
                    .bool("isAssigneeTypeValid", false)
                    .num("issueCount", issues_in(p) / 2)
                    .str("project", &r.key)
                    .num("projectId", r.id);
            });
            components.push(&pid, Row::new(cid.to_string(), json, Vec::new()));
            comps.push((cid.to_string(), name));
        }
        component_ids.push(comps);
    }

    // Issues and their worklogs.
    let mut issues = Table::new();
    issues.reserve(n, 1, n);
    issues.ensure_group("");
    let mut worklogs = Table::new();
    worklogs.reserve(n, n, 0);
    let mut worklog_feed = WorklogFeed::default();
    let mut arena = Arena::new();
    let mut scratch = Vec::with_capacity(16 * 1024);
    let mut last_update = vec![EPOCH_MS - 365 * DAY_MS; n_projects];
    let generator = Arc::new(IssueGen {
        base: base.to_owned(),
        seed,
        n,
        frags: frags.clone(),
        people: people.clone(),
        refs: refs.clone(),
        components: component_ids,
        fixes: fix_versions,
    });
    let lazy_issues: Arc<dyn Render> = Arc::new(LazyIssues(generator.clone()));
    let lazy_worklogs: Arc<dyn Render> = Arc::new(LazyWorklogs(generator.clone()));
    let mut next_worklog = FIRST_ID;
    for i in 0..n as u64 {
        let plan = generator.plan(i);
        let p = plan.project;
        last_update[p] = last_update[p].max(plan.updated_ms);
        let id_s = plan.id.to_string();
        worklogs.ensure_group(&id_s);
        let mut embedded = Vec::new();
        for w in &plan.worklogs {
            let logged = w.logged_ms();
            worklog_feed.updated(w.id, None, logged);
            let row = if lazy {
                Row::lazy(
                    w.id.to_string(),
                    lazy_worklogs.clone(),
                    worklog_attrs(logged),
                )
            } else {
                scratch.clear();
                generator.worklog(plan.id, w, &mut scratch);
                let json = arena.store(&scratch);
                embedded.push(json.clone());
                Row::new(w.id.to_string(), json, worklog_attrs(logged))
            };
            worklogs.push(&id_s, row);
            next_worklog = w.id + 1;
        }
        let attrs = issue_attrs(&refs[p].key, &plan.key, plan.created_ms, plan.updated_ms);
        let id_arc: Arc<str> = id_s.into();
        let row = if lazy {
            Row::lazy(id_arc.clone(), lazy_issues.clone(), attrs)
        } else {
            scratch.clear();
            generator.issue(&plan, &embedded, &mut scratch);
            Row::new(id_arc.clone(), arena.store(&scratch), attrs)
        };
        issues.push("", row);
        issues.add_alias(&plan.key, &id_arc);
    }

    let mut projects = Table::new();
    projects.ensure_group("");
    for (p, r) in refs.iter().enumerate() {
        let json = render_project(
            base,
            seed,
            r.id,
            &r.key,
            &r.name,
            issues_in(p),
            last_update[p],
        );
        let id: Arc<str> = r.id.to_string().into();
        projects.push(
            "",
            Row::new(
                id.clone(),
                json,
                vec![
                    ("key", r.key.as_str().into()),
                    ("name", r.name.as_str().into()),
                ],
            ),
        );
        projects.add_alias(&r.key, &id);
        projects.add_alias(&r.name, &id);
    }

    // Boards: one scrum board per project, plus one kanban board on the first project.
    let mut boards = Table::new();
    boards.ensure_group("");
    let mut sprints = Table::new();
    let mut epics = Table::new();
    let mut next_sprint = 1u64;
    let mut next_epic_id = FIRST_ID + n as u64;
    let mut issue_numbers: HashMap<String, u64> = refs
        .iter()
        .enumerate()
        .map(|(p, r)| (r.key.clone(), issues_in(p)))
        .collect();
    let board_specs: Vec<(usize, &str)> = (0..n_projects)
        .map(|p| (p, "scrum"))
        .chain(std::iter::once((0, "kanban")))
        .collect();
    for (b, &(p, kind)) in board_specs.iter().enumerate() {
        let board_id = b as u64 + 1;
        let r = &refs[p];
        let name = if kind == "scrum" {
            format!("{} board", r.key)
        } else {
            format!("{} kanban", r.key)
        };
        let json = object(600, |o| {
            o.num("id", board_id)
                .str("self", &format!("{base}/rest/agile/1.0/board/{board_id}"))
                .str("name", &name)
                .str("type", kind)
                .obj("location", |l| {
                    l.num("projectId", r.id)
                        .str("displayName", &format!("{} ({})", r.name, r.key))
                        .str("projectName", &r.name)
                        .str("projectKey", &r.key)
                        .str("projectTypeKey", "software")
                        .str(
                            "avatarURI",
                            &format!(
                                "{base}/secure/projectavatar?size=small&s=small&pid={}",
                                r.id
                            ),
                        )
                        .str("name", &format!("{} ({})", r.name, r.key));
                })
                .bool("isPrivate", false);
        });
        let bid = board_id.to_string();
        boards.push(
            "",
            Row::new(
                bid.as_str(),
                json,
                vec![
                    ("type", kind.into()),
                    ("project", r.key.as_str().into()),
                    ("projectId", r.id.to_string().into()),
                    ("name", name.as_str().into()),
                ],
            ),
        );
        sprints.ensure_group(&bid);
        epics.ensure_group(&bid);
        if kind == "scrum" {
            for (j, state) in ["closed", "active", "future"].into_iter().enumerate() {
                let sid = next_sprint;
                next_sprint += 1;
                let start = EPOCH_MS + (j as i64 - 1) * 14 * DAY_MS;
                let goal = *Rng::new(seed, "jira.sprint", sid).pick(SPRINT_GOALS);
                let json = object(500, |o| {
                    o.num("id", sid)
                        .str("self", &format!("{base}/rest/agile/1.0/sprint/{sid}"))
                        .str("state", state)
                        .str("name", &format!("{} Sprint {}", r.key, j + 1));
                    if state != "future" {
                        o.str("startDate", &time::jira(start))
                            .str("endDate", &time::jira(start + 14 * DAY_MS));
                    }
                    if state == "closed" {
                        o.str("completeDate", &time::jira(start + 14 * DAY_MS));
                    }
                    o.str("createdDate", &time::jira(start - 2 * DAY_MS))
                        .num("originBoardId", board_id)
                        .str("goal", goal);
                });
                sprints.push(
                    &bid,
                    Row::new(sid.to_string(), json, vec![("state", state.into())]),
                );
            }
        }
        for j in 0..2u64 {
            let eid = next_epic_id;
            next_epic_id += 1;
            let number = issue_numbers.get_mut(&r.key).map(|n| {
                *n += 1;
                *n
            });
            let ekey = format!("{}-{}", r.key, number.unwrap_or(0));
            let mut rng = Rng::new(seed, "jira.epic", eid);
            let name = format!(
                "{} {}",
                rng.pick(PRODUCTS),
                ["revamp", "hardening"][j as usize]
            );
            let done = j == 0 && b % 2 == 0;
            let color = *rng.pick(EPIC_COLORS);
            let json = object(400, |o| {
                o.num("id", eid)
                    .str("key", &ekey)
                    .str("self", &format!("{base}/rest/agile/1.0/epic/{eid}"))
                    .str("name", &name)
                    .str("summary", &format!("{name} for {}", r.name))
                    .obj("color", |c| {
                        c.str("key", color);
                    })
                    .bool("done", done);
            });
            let eid_s: Arc<str> = eid.to_string().into();
            epics.push(
                &bid,
                Row::new(eid_s.clone(), json, vec![("done", done.to_string().into())]),
            );
            epics.add_alias(&ekey, &eid_s);
        }
    }

    JiraData {
        base: base.to_owned(),
        seed,
        frags,
        projects,
        issues,
        users,
        boards,
        sprints,
        epics,
        versions,
        components,
        worklogs,
        worklog_feed,
        next_worklog_id: next_worklog,
        people,
        project_refs,
        issue_numbers,
        next_issue_id: next_epic_id,
        next_project_id: FIRST_ID + n_projects as u64,
        next_changelog: 100_000,
        bulk_edits: 0,
    }
}

/// Builds an embeddable reference for a project created at runtime.
pub(crate) fn new_project_ref(base: &str, id: u64, key: &str, name: &str) -> ProjectRef {
    project_ref(base, id, key, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_formulas() {
        let d = generate(42, 200, "http://x/jira", false);
        assert_eq!(d.projects.len(), 4);
        assert_eq!(d.issues.len(), 200);
        assert_eq!(d.users.len(), 20);
        assert_eq!(d.boards.len(), 5);
        assert_eq!(d.sprints.len(), 12);
        assert_eq!(d.epics.len(), 10);
        assert_eq!(d.versions.len(), 12);
        assert_eq!(d.components.len(), 8);
        assert_eq!(d.worklogs.len(), (0..200).map(|i| i % 3).sum::<usize>());
        for row in d.issues.all() {
            let v: serde_json::Value = serde_json::from_slice(&row.json()).unwrap();
            assert_eq!(v["id"], row.id.as_ref());
            assert!(v["fields"]["status"]["statusCategory"]["key"].is_string());
            assert_eq!(v["fields"]["description"]["type"], "doc");
        }
    }

    #[test]
    fn lazy_rendering_serves_the_same_bytes() {
        let eager = generate(3, 400, "http://x/jira", false);
        let lazy = generate(3, 400, "http://x/jira", true);
        for (table_e, table_l) in [
            (&eager.issues, &lazy.issues),
            (&eager.worklogs, &lazy.worklogs),
        ] {
            let (e, l) = (table_e.all(), table_l.all());
            assert_eq!(e.len(), l.len());
            for (a, b) in e.iter().zip(&l) {
                assert_eq!(a.id, b.id);
                assert_eq!(a.attrs, b.attrs);
                assert_eq!(a.json(), b.json(), "{}", a.id);
            }
        }
        assert_eq!(eager.next_worklog_id, lazy.next_worklog_id);
        assert_eq!(
            eager
                .projects
                .all()
                .iter()
                .map(|r| r.json())
                .collect::<Vec<_>>(),
            lazy.projects
                .all()
                .iter()
                .map(|r| r.json())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn epic_keys_never_collide_with_issue_keys() {
        let d = generate(7, 120, "http://x/jira", false);
        for row in d.epics.all() {
            let v: serde_json::Value = serde_json::from_slice(&row.json()).unwrap();
            assert!(d.issues.get(v["key"].as_str().unwrap()).is_none());
        }
    }
}
