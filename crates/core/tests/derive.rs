//! `#[derive(Resource)]` end to end: derived resources stream every pagination kind from a
//! mock server, through nothing but the generated functions.
#![deny(missing_docs)]

use futures::TryStreamExt;
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use ocean_core::{Client, Pagination, Resource};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// A Jira project: offset pagination, a constant query parameter.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    kind = "project",
    path = "/rest/api/3/project/search",
    items = "values",
    paginate = offset,
    page_size = 2,
    query(expand = "description,lead"),
    id = "key"
)]
pub struct Project {
    /// The project key.
    pub key: String,
}

/// An Octopus project: skip/take in an envelope, a typed placeholder.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    path = "/api/{spaceId}/projects",
    items = "Items",
    paginate = skip_take,
    page_size = 2,
    param(space_id = &str)
)]
pub struct OctopusProject {
    /// The project id.
    #[serde(rename = "Id")]
    pub id: String,
}

/// A Jira issue from the enhanced search: cursor pagination over POST.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    path = "/rest/api/3/search/jql",
    method = "POST",
    items = "issues",
    paginate = cursor,
    page_size = 2
)]
pub struct Issue {
    /// The issue id.
    pub id: String,
}

/// A Jira changelog page over GET, with renamed cursor names.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    path = "/changes",
    items = "entries",
    paginate = cursor,
    cursor_param = "after",
    cursor_field = "next",
    limit_param = "limit",
    page_size = 10
)]
pub struct Change {
    /// The change id.
    pub id: u32,
}

/// A Jira user: a bare array, paged until an empty page.
#[derive(Debug, Deserialize, Resource)]
#[resource(path = "/rest/api/3/users/search", paginate = array, page_size = 3)]
pub struct JiraUser {
    /// The account id.
    #[serde(rename = "accountId")]
    pub account_id: String,
}

/// A project version: one request, a placeholder of any `Display` type.
#[derive(Debug, Deserialize, Resource)]
#[resource(path = "/rest/api/3/project/{projectIdOrKey}/versions")]
pub struct Version {
    /// The version name.
    pub name: String,
}

/// A sprint of a board: two typed placeholders, renamed offset parameters.
#[derive(Debug, Deserialize, Resource)]
#[resource(
    path = "/board/{board_id}/sprint/{state}",
    items = "values",
    paginate = offset,
    start_param = "from",
    limit_param = "size",
    page_size = 50,
    max_items = 10000,
    param(board_id = u64)
)]
pub struct Sprint {
    /// The sprint id.
    pub id: u64,
}

/// A generic resource: the impls carry the struct's bounds (`bound = ""` keeps serde from
/// adding a `T: Deserialize<'de>` that would be ambiguous next to them).
#[derive(Debug, Deserialize, Resource)]
#[serde(bound = "")]
#[resource(path = "/wrapped", items = "values")]
pub struct Wrapped<T: DeserializeOwned + Send + 'static> {
    /// The wrapped value.
    pub value: T,
}

fn client(server: &MockServer) -> Client {
    Client::builder(server.base_url()).build().unwrap()
}

#[test]
fn the_trait_impl_describes_the_endpoint() {
    assert_eq!(Project::KIND, "project");
    assert_eq!(
        OctopusProject::KIND,
        "octopus_project",
        "the default kind is snake_case"
    );
    assert_eq!(JiraUser::KIND, "jira_user");

    let project = Project::endpoint();
    assert_eq!(project.kind(), "project");
    assert_eq!(project.path(), "/rest/api/3/project/search");
    assert_eq!(project.http_method(), ocean_core::reqwest::Method::GET);
    assert_eq!(project.items_key(), Some("values"));
    assert_eq!(project.pagination(), &Pagination::offset());
    assert_eq!(project.requested_page_size(), 2);
    assert_eq!(project.item_cap(), None);
    assert_eq!(
        project.constant_query().collect::<Vec<_>>(),
        [("expand", "description,lead")]
    );
    assert_eq!(project.id_field_name(), Some("key"));

    let issue = Issue::endpoint();
    assert_eq!(issue.http_method(), ocean_core::reqwest::Method::POST);
    assert_eq!(issue.pagination(), &Pagination::cursor());

    let change = Change::endpoint();
    assert_eq!(
        change.pagination(),
        &Pagination::cursor()
            .cursor_param("after")
            .cursor_field("next")
            .limit_param("limit")
    );

    let sprint = <Sprint as Resource>::endpoint();
    assert_eq!(
        sprint.pagination(),
        &Pagination::offset().start_param("from").limit_param("size")
    );
    assert_eq!(sprint.item_cap(), Some(10000));
    assert_eq!(
        sprint.path_params().collect::<Vec<_>>(),
        ["board_id", "state"]
    );

    let version = Version::endpoint();
    assert_eq!(version.items_key(), None);
    assert_eq!(version.pagination(), &Pagination::None);
    assert_eq!(version.kind(), "version");
    assert_eq!(JiraUser::endpoint().pagination(), &Pagination::array());
    assert_eq!(
        OctopusProject::endpoint().pagination(),
        &Pagination::skip_take()
    );
}

#[tokio::test]
async fn offset_streams_every_page_until_is_last_with_constant_query() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for (start, keys, is_last) in [
        ("0", ["A", "B"].as_slice(), false),
        ("2", &["C", "D"], false),
        ("4", &["E"], true),
    ] {
        let values: Vec<_> = keys.iter().map(|k| json!({ "key": k })).collect();
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path("/rest/api/3/project/search")
                        .query_param("expand", "description,lead")
                        .query_param("startAt", start)
                        .query_param("maxResults", "2");
                    then.status(200)
                        .json_body(json!({ "values": values, "isLast": is_last }));
                })
                .await,
        );
    }
    let client = client(&server);

    let keys: Vec<String> = Project::stream(&client)
        .map_ok(|p| p.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["A", "B", "C", "D", "E"]);
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }

    let pages: Vec<Vec<Project>> = Project::pages(&client).try_collect().await.unwrap();
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [2, 2, 1],
        "one Vec per page, split where the server split"
    );

    let all = Project::fetch_all(&client).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[4].key, "E");
}

#[tokio::test]
async fn skip_take_reads_the_octopus_envelope_and_fills_a_typed_placeholder() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for (skip, ids) in [
        ("0", ["Projects-1", "Projects-2"].as_slice()),
        ("2", &["Projects-3"]),
    ] {
        let items: Vec<_> = ids.iter().map(|id| json!({ "Id": id })).collect();
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path("/api/Spaces-1/projects")
                        .query_param("skip", skip)
                        .query_param("take", "2");
                    then.status(200).json_body(json!({
                        "ItemType": "Project",
                        "TotalResults": 3,
                        "ItemsPerPage": 2,
                        "NumberOfPages": 2,
                        "LastPageNumber": 1,
                        "Items": items
                    }));
                })
                .await,
        );
    }
    let client = client(&server);
    let space = String::from("Spaces-1");
    // Without prefetching, `LastPageNumber` alone decides where the list ends.
    let ids: Vec<String> = OctopusProject::list(&client, &space)
        .prefetch(false)
        .stream()
        .map_ok(|p| p.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["Projects-1", "Projects-2", "Projects-3"]);
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn cursor_over_post_sends_the_token_and_runtime_fields_in_the_body() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .json_body(json!({ "jql": "project = DEMO", "maxResults": 2 }));
            then.status(200).json_body(json!({
                "issues": [{ "id": "1" }, { "id": "2" }],
                "nextPageToken": "t1"
            }));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/api/3/search/jql")
                .json_body(json!({
                    "jql": "project = DEMO",
                    "maxResults": 2,
                    "nextPageToken": "t1"
                }));
            then.status(200)
                .json_body(json!({ "issues": [{ "id": "3" }], "isLast": true }));
        })
        .await;
    let client = client(&server);

    let pages: Vec<Vec<Issue>> = Issue::list(&client)
        .body("jql", "project = DEMO")
        .pages()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<Vec<&str>> = pages
        .iter()
        .map(|page| page.iter().map(|i| i.id.as_str()).collect())
        .collect();
    assert_eq!(ids, [vec!["1", "2"], vec!["3"]]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn cursor_over_get_uses_the_renamed_parameters_and_runtime_query() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/changes")
                .query_param("jql", "project = DEMO")
                .query_param("limit", "10")
                .query_param_missing("after");
            then.status(200)
                .json_body(json!({ "entries": [{ "id": 1 }], "next": "c2" }));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/changes")
                .query_param("jql", "project = DEMO")
                .query_param("limit", "10")
                .query_param("after", "c2");
            then.status(200)
                .json_body(json!({ "entries": [{ "id": 2 }] }));
        })
        .await;
    let client = client(&server);

    let changes = Change::list(&client)
        .query("jql", "project = DEMO")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(changes.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn array_goes_on_after_a_short_page_and_stops_on_an_empty_one() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for (start, ids) in [
        // Jira filters users inside the requested window, so a short page
        // still moves the window by the full page size.
        ("0", ["a", "b", "c"].as_slice()),
        ("3", &["d"]),
        ("6", &["e", "f", "g"]),
        ("9", &[]),
    ] {
        let body: Vec<_> = ids.iter().map(|id| json!({ "accountId": id })).collect();
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(GET)
                        .path("/rest/api/3/users/search")
                        .query_param("startAt", start)
                        .query_param("maxResults", "3");
                    then.status(200).json_body(json!(body));
                })
                .await,
        );
    }
    let client = client(&server);

    let users: Vec<String> = JiraUser::stream(&client)
        .map_ok(|u| u.account_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(users, ["a", "b", "c", "d", "e", "f", "g"]);
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn no_pagination_is_one_request_with_a_percent_encoded_placeholder() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/project/DEMO%2F1%20x/versions")
                .query_param_missing("startAt")
                .query_param_missing("maxResults");
            then.status(200)
                .json_body(json!([{ "name": "1.0" }, { "name": "2.0" }]));
        })
        .await;
    let client = client(&server);

    let versions = Version::fetch_all(&client, "DEMO/1 x").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["1.0", "2.0"]
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn typed_and_display_placeholders_fill_the_path_in_order() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/board/42/sprint/active")
                .query_param("from", "0")
                .query_param("size", "50");
            then.status(200)
                .json_body(json!({ "values": [{ "id": 7 }], "isLast": true }));
        })
        .await;
    let client = client(&server);

    let sprints = Sprint::fetch_all(&client, 42, "active").await.unwrap();
    assert_eq!(sprints.iter().map(|s| s.id).collect::<Vec<_>>(), [7]);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn streams_and_futures_are_send_and_static() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/board/1/sprint/closed%20now");
            then.status(200)
                .json_body(json!({ "values": [{ "id": 1 }, { "id": 2 }] }));
        })
        .await;
    let client = client(&server);

    // The arguments are borrowed only while the call builds the request.
    let state = String::from("closed now");
    let fetch = Sprint::fetch_all(&client, 1, &state);
    let stream = Sprint::stream(&client, 1, &state);
    drop(state);
    drop(client);

    let fetched = tokio::spawn(fetch).await.unwrap().unwrap();
    let streamed: Vec<Sprint> = tokio::spawn(stream.try_collect::<Vec<_>>())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched.len(), 2);
    assert_eq!(streamed.len(), 2);
}

#[tokio::test]
async fn generic_resources_stream() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/wrapped");
            then.status(200)
                .json_body(json!({ "values": [{ "value": 1 }, { "value": 2 }] }));
        })
        .await;
    let client = client(&server);

    let wrapped = Wrapped::<u8>::fetch_all(&client).await.unwrap();
    assert_eq!(wrapped.iter().map(|w| w.value).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(Wrapped::<String>::KIND, "wrapped");
}

/// Repro for a pagination-engine bug (not the derive's): with prefetching on, a short last
/// page inside the prefetch window makes the engine re-request the gap after the end of the
/// list forever (until `max_pages`), since an empty page adds nothing to the offset.
#[tokio::test]
async fn offset_with_a_total_stops_after_a_short_last_page() {
    let server = MockServer::start_async().await;
    for (start, keys) in [
        ("0", ["A", "B"].as_slice()),
        ("2", &["C", "D"]),
        ("4", &["E"]),
    ] {
        let values: Vec<_> = keys.iter().map(|k| json!({ "key": k })).collect();
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/rest/api/3/project/search")
                    .query_param("startAt", start);
                then.status(200)
                    .json_body(json!({ "values": values, "total": 5 }));
            })
            .await;
    }
    // Past the end Jira answers an empty page with the total.
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/project/search")
                .query_param("startAt", "5");
            then.status(200)
                .json_body(json!({ "values": [], "total": 5 }));
        })
        .await;
    let client = client(&server);

    let keys: Vec<String> = Project::list(&client)
        .max_pages(20)
        .stream()
        .map_ok(|p| p.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["A", "B", "C", "D", "E"]);
}
