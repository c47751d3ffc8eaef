//! The `backlog` kind: the issues on each board's backlog, tagged with the board.
//!
//! Cloud serves it from the Jira Software API (`/rest/software/1.0`, `nextPageToken` paging,
//! Ocean's default); Data Center from the agile API (`/rest/agile/1.0`, offset paging).

use ocean_core::{Endpoint, Error, Pagination};

use crate::classify::{is_board_without_backlog, is_board_without_feature, is_not_found};
use crate::deployment::Deployment;

/// The backlog JQL when none is given (Ocean's default).
pub const DEFAULT_BACKLOG_JQL: &str = "updated >= -1w OR statusCategory != Done";

/// Where a board's backlog lives on `deployment`.
pub(crate) fn endpoint(deployment: Deployment) -> Endpoint {
    match deployment {
        Deployment::Cloud => {
            Endpoint::new("backlog", "/rest/software/1.0/board/{board_id}/backlog")
                .items("issues")
                .paginate(Pagination::cursor())
                .id_field("key")
        }
        Deployment::DataCenter => {
            Endpoint::new("backlog", "/rest/agile/1.0/board/{board_id}/backlog")
                .items("issues")
                .paginate(Pagination::offset())
                .id_field("key")
        }
    }
}

/// Boards without a backlog (`400 Backlogs are not supported on this board`, kanban boards
/// without one) and boards gone mid-sync are skipped.
pub(crate) fn skip(e: &Error) -> bool {
    is_board_without_backlog(e) || is_board_without_feature(e) || is_not_found(e)
}
