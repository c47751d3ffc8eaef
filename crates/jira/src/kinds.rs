//! The resource kinds the provider syncs, by name.

use std::str::FromStr;

ocean_core::kinds! {
    /// A kind of Jira resource: one row each, the only place a kind is declared. The
    /// identity is `"key"` for issues and projects (what webhooks, the census and
    /// children's parent fields name), `"accountId"` for users, `"teamId"` for teams (the
    /// Teams API has no `id`), `"id"` otherwise.
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
        Project = "project", id = "key";
        /// Issues matched by a JQL query (`POST /rest/api/3/search/jql`).
        Issue = "issue", id = "key", incremental = true, census = true;
        /// Users (`GET /rest/api/3/users/search`).
        User = "user", id = "accountId";
        /// Agile boards (`GET /rest/agile/1.0/board`).
        Board = "board", id = "id";
        /// Sprints of every board.
        Sprint = "sprint", id = "id", parent = Board;
        /// Epics of every board.
        Epic = "epic", id = "id", parent = Board;
        /// Releases (versions) of every project.
        Release = "release", id = "id", parent = Project;
        /// Components of every project.
        Component = "component", id = "id", parent = Project;
        /// Worklogs of every issue the JQL matches.
        Worklog = "worklog", id = "id", parent = Issue, incremental = true;
        /// Atlassian Teams of the organisation in [`SyncOptions::org_id`](crate::SyncOptions),
        /// each with its members in `__members` (Ocean's `team`).
        Team = "team", id = "teamId";
        /// Issues on every board's backlog (Ocean's `backlog`).
        Backlog = "backlog", id = "id", parent = Board;
    }
}

impl JiraKind {
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

/// A name that is not a [`JiraKind`]; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Jira kind `{given}`; valid kinds: {}", JiraKind::names())]
pub struct ParseKindError {
    /// The name that was given.
    pub given: String,
}

impl FromStr for JiraKind {
    type Err = ParseKindError;

    /// Parses a kind name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ParseKindError {
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
