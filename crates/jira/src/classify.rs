//! Which Jira errors mean "nothing here" rather than "the sync failed".

use ocean_core::Error;

/// `404`: the item is gone (or, as Jira often answers, not visible to these credentials).
pub(crate) fn is_not_found(e: &Error) -> bool {
    e.status().is_some_and(|s| s.as_u16() == 404)
}

fn is_bad_request_mentioning(e: &Error, needles: &[&str]) -> bool {
    e.as_status()
        .is_some_and(|s| s.status.as_u16() == 400 && needles.iter().any(|n| s.mentions(n)))
}

/// A JQL `400` naming a project the credentials cannot see (or that does not exist):
/// `The value 'X' does not exist for the field 'project'.`
///
/// Ocean fails the whole issue sync on it (its PR #2704 was never merged); the sync here
/// ends that issue stream with a warning instead. Use it the same way with the typed
/// [`JiraClient::issues`](crate::JiraClient::issues) stream.
pub fn is_jql_scope_error(e: &Error) -> bool {
    is_bad_request_mentioning(e, &["does not exist for the field 'project'"])
}

/// A `400` from a board's sprint or epic list saying the board lacks the feature:
/// `The board does not support sprints` (kanban and simple boards).
pub(crate) fn is_board_without_feature(e: &Error) -> bool {
    is_bad_request_mentioning(e, &["does not support"])
}

/// A `400` from a board's backlog saying it has none: `Backlogs are not supported on this
/// board` (kanban boards without a backlog).
pub(crate) fn is_board_without_backlog(e: &Error) -> bool {
    is_bad_request_mentioning(e, &["Backlogs are not supported"])
}

/// A JQL `400` about an issue key that does not exist or cannot be seen:
/// `An issue with key 'X' does not exist for field 'key'.`,
/// `The issue key 'X' for field 'key' is invalid.`
pub(crate) fn is_unknown_issue_key(e: &Error) -> bool {
    is_bad_request_mentioning(e, &["for field 'key'", "for the field 'key'"])
}
