//! A crate deriving resources with every key compiles without a single warning, documented
//! or not, and without depending on `futures` itself.
#![deny(warnings, missing_docs)]

use ocean_core::futures::{StreamExt, TryStreamExt};
use ocean_core::{Client, ListRequest, Resource};
use serde::Deserialize;

/// Every key at once.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    kind = "issue",
    path = "/rest/api/3/project/{projectIdOrKey}/board/{board_id}/{type}",
    method = "POST",
    items = "issues",
    paginate = cursor,
    page_size = 100,
    max_items = 10_000,
    id = "key",
    query(expand = "names", "api-version" = 3, validate = true),
    query(fields = "*all"),
    limit_param = "maxResults",
    cursor_param = "nextPageToken",
    cursor_field = "nextPageToken",
    param(board_id = u64)
)]
pub struct Issue {
    /// The key.
    pub key: String,
}

/// Offset with renames.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    path = "/projects",
    items = "values",
    paginate = offset,
    start_param = "from",
    limit_param = "size"
)]
pub struct Project {
    /// The key.
    pub key: String,
}

/// Skip/take.
#[derive(Debug, Deserialize, Resource)]
#[resource(path = "/api/{space_id}/projects", items = "Items", paginate = skip_take)]
pub(crate) struct OctopusProject {
    #[serde(rename = "Id")]
    pub(crate) id: String,
}

/// A bare array, over several attributes, with a raw identifier.
#[derive(Debug, Deserialize, Resource)]
#[resource(path = "/users")]
#[resource(paginate = array, r#page_size = 100)]
pub struct User {
    /// The account.
    #[serde(rename = "accountId")]
    pub account_id: String,
}

/// Explicitly not paginated; private, so its unused functions must not warn.
#[derive(Deserialize, Resource)]
#[resource(path = "/private/{id}", paginate = none)]
struct Private {
    id: u64,
}

/// A generic resource.
#[derive(Debug, Deserialize, Resource)]
#[serde(bound = "")]
#[resource(path = "/generic", items = "values")]
pub struct Generic<T: serde::de::DeserializeOwned + Send + 'static> {
    /// The value.
    pub value: T,
}

fn assert_send_static<T: Send + 'static>(value: T) -> T {
    value
}

/// Uses every generated function without running it.
pub async fn use_them(client: &Client) -> ocean_core::Result<()> {
    let request: ListRequest<Issue> =
        Issue::list(client, "DEMO", 7, "story").body("jql", "project = DEMO");
    let _ = request.stream().boxed();
    let _ = assert_send_static(Issue::stream(client, "DEMO", 7u64, String::from("bug")));
    let _ = assert_send_static(Issue::pages(client, 'x', 7, 1.5));
    let _ = assert_send_static(Issue::fetch_all(client, "DEMO", 7, "epic"));
    let _projects: Vec<Project> = Project::stream(client).try_collect().await?;
    let octopus = OctopusProject::fetch_all(client, "Spaces-1").await?;
    let _ = octopus.iter().map(|p| p.id.len()).sum::<usize>();
    let _users: Vec<Vec<User>> = User::pages(client).try_collect().await?;
    let private = Private::fetch_all(client, 1).await?;
    let _ = private.iter().map(|p| p.id).sum::<u64>();
    let _generic: Vec<Generic<u8>> = Generic::fetch_all(client).await?;
    Ok(())
}

fn main() {
    assert_eq!(Issue::KIND, "issue");
    assert_eq!(OctopusProject::KIND, "octopus_project");
    assert_eq!(<Generic<String> as Resource>::KIND, "generic");
    assert_eq!(User::endpoint().requested_page_size(), 100);
    assert_eq!(
        Issue::endpoint().constant_query().collect::<Vec<_>>(),
        [
            ("expand", "names"),
            ("api-version", "3"),
            ("validate", "true"),
            ("fields", "*all")
        ]
    );
    let client = Client::builder("http://localhost:1").build().unwrap();
    let _ = use_them(&client);
}
