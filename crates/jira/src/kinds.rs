//! The resource kinds the provider syncs, by name.

use std::fmt;
use std::str::FromStr;

/// A kind of Jira resource.
///
/// ```
/// use ocean_jira::JiraKind;
/// let kind: JiraKind = "sprint".parse().unwrap();
/// assert_eq!(kind, JiraKind::Sprint);
/// assert_eq!(kind.to_string(), "sprint");
/// assert_eq!(kind.parent_field(), Some("board_id"));
/// let err = "sprints".parse::<JiraKind>().unwrap_err();
/// assert!(err.to_string().contains("project, issue, user"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JiraKind {
    /// Projects (`GET /rest/api/3/project/search`).
    Project,
    /// Issues matched by a JQL query (`POST /rest/api/3/search/jql`).
    Issue,
    /// Users (`GET /rest/api/3/users/search`).
    User,
    /// Agile boards (`GET /rest/agile/1.0/board`).
    Board,
    /// Sprints of every board.
    Sprint,
    /// Epics of every board.
    Epic,
    /// Releases (versions) of every project.
    Release,
    /// Components of every project.
    Component,
    /// Worklogs of every issue the JQL matches.
    Worklog,
    /// Atlassian Teams of the organisation in [`SyncOptions::org_id`](crate::SyncOptions),
    /// each with its members in `__members` (Ocean's `team`).
    Team,
    /// Issues on every board's backlog (Ocean's `backlog`).
    Backlog,
}

impl JiraKind {
    /// Every kind, parents before their children.
    pub const ALL: [JiraKind; 11] = [
        Self::Project,
        Self::Issue,
        Self::User,
        Self::Board,
        Self::Sprint,
        Self::Epic,
        Self::Release,
        Self::Component,
        Self::Worklog,
        Self::Team,
        Self::Backlog,
    ];

    /// The kind's name: `"project"` … `"worklog"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Issue => "issue",
            Self::User => "user",
            Self::Board => "board",
            Self::Sprint => "sprint",
            Self::Epic => "epic",
            Self::Release => "release",
            Self::Component => "component",
            Self::Worklog => "worklog",
            Self::Team => "team",
            Self::Backlog => "backlog",
        }
    }

    /// The kind whose items this kind is fetched under, if any.
    pub const fn parent(self) -> Option<JiraKind> {
        match self {
            Self::Sprint | Self::Epic | Self::Backlog => Some(Self::Board),
            Self::Release | Self::Component => Some(Self::Project),
            Self::Worklog => Some(Self::Issue),
            Self::Project | Self::Issue | Self::User | Self::Board | Self::Team => None,
        }
    }

    /// The field a synced child [`Record`](ocean_core::Record) names its parent with:
    /// `"board_id"`, `"project_key"` or `"issue_key"`.
    pub const fn parent_field(self) -> Option<&'static str> {
        match self.parent() {
            Some(Self::Board) => Some("board_id"),
            Some(Self::Project) => Some("project_key"),
            Some(_) => Some("issue_key"),
            None => None,
        }
    }
}

impl fmt::Display for JiraKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`JiraKind`]; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Jira kind `{given}`; valid kinds: {}", valid_kinds())]
pub struct ParseKindError {
    /// The name that was given.
    pub given: String,
}

fn valid_kinds() -> String {
    JiraKind::ALL.map(JiraKind::as_str).join(", ")
}

impl FromStr for JiraKind {
    type Err = ParseKindError;

    /// Parses a kind name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ParseKindError {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in JiraKind::ALL {
            assert_eq!(kind.as_str().parse::<JiraKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(" Issue ".parse::<JiraKind>(), Ok(JiraKind::Issue));
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = "teams".parse::<JiraKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown Jira kind `teams`; valid kinds: project, issue, user, board, sprint, epic, \
             release, component, worklog, team, backlog"
        );
    }

    #[test]
    fn children_name_their_parents() {
        let tags: Vec<_> = JiraKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.parent_field()))
            .filter(|(_, f)| f.is_some())
            .collect();
        assert_eq!(
            tags,
            [
                ("sprint", Some("board_id")),
                ("epic", Some("board_id")),
                ("release", Some("project_key")),
                ("component", Some("project_key")),
                ("worklog", Some("issue_key")),
                ("backlog", Some("board_id")),
            ]
        );
    }
}
