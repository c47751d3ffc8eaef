//! Listing every kind across spaces and pages, the per-space cap, and auth.

mod support;

use std::collections::BTreeMap;

use futures::TryStreamExt;
use httpmock::Method::GET;
use httpmock::MockServer;
use ocean_core::{ParentRef, Record};
use ocean_octopus::{OctopusClient, OctopusKind, Project};
use support::{KEY, client, collection, hits, space};

/// A document of `kind` in `space`, with odd spacing and the fields its struct requires.
fn document(kind: OctopusKind, space: &str, n: usize) -> String {
    let id = format!("{}{n}", kind.id_prefix());
    format!(
        r#"{{"Id":"{id}",  "SpaceId":"{space}", "Name":"{kind} {n}", "Version":"1.0.{n}", "Unknown":{{"Nested":[1, 2]}}}}"#
    )
}

/// Items per space: several pages, a short last page, and an empty space.
const SPACES: [(&str, usize); 3] = [("Spaces-1", 5), ("Spaces-2", 3), ("Spaces-3", 0)];

#[tokio::test]
async fn every_kind_streams_every_page_of_every_space_tagged_with_its_space() {
    let server = MockServer::start_async().await;
    let spaces: Vec<String> = SPACES.iter().map(|(id, _)| space(id)).collect();
    let space_mocks = collection(&server, "/spaces", &spaces, 2).await;
    let client = client(&server, 2);

    for kind in OctopusKind::ALL.into_iter().filter(|k| k.is_space_scoped()) {
        let mut expected = BTreeMap::new();
        let mut item_mocks = Vec::new();
        let mut n = 0;
        for (space_id, count) in SPACES {
            let docs: Vec<String> = (0..count)
                .map(|_| {
                    n += 1;
                    document(kind, space_id, n)
                })
                .collect();
            for doc in &docs {
                expected.insert(doc.clone(), space_id.to_owned());
            }
            let path = format!("/{space_id}/{}", kind.plural());
            item_mocks.extend(collection(&server, &path, &docs, 2).await);
        }

        let records: Vec<Record> = client.sync(kind).try_collect().await.unwrap();
        let mut seen = BTreeMap::new();
        for record in &records {
            assert_eq!(record.kind, kind.as_str());
            let parent = record.parent.clone().expect("tagged with its space");
            assert_eq!(parent.field, "space_id");
            let raw = record.item.get().to_owned();
            assert_eq!(
                expected.get(&raw),
                Some(&parent.id),
                "bytes untouched, right space"
            );
            assert!(seen.insert(raw, parent.id).is_none(), "an item came twice");
        }
        assert_eq!(seen, expected, "{kind}: every item exactly once");
        assert_eq!(
            hits(&item_mocks).await,
            [1, 1, 1, 0, 1, 1, 0, 1],
            "{kind}: each page once, nothing past a short last page"
        );
    }
    assert_eq!(
        hits(&space_mocks).await,
        [5, 5, 0],
        "spaces are listed once per sync"
    );
}

#[tokio::test]
async fn spaces_sync_untagged_and_typed_streams_pair_items_with_spaces() {
    let server = MockServer::start_async().await;
    let spaces: Vec<String> = SPACES.iter().map(|(id, _)| space(id)).collect();
    collection(&server, "/spaces", &spaces, 2).await;
    for (space_id, count) in SPACES {
        let docs: Vec<String> = (1..=count)
            .map(|n| document(OctopusKind::Project, space_id, n))
            .collect();
        collection(&server, &format!("/{space_id}/projects"), &docs, 2).await;
    }
    let client = client(&server, 2);

    let records: Vec<Record> = client.sync(OctopusKind::Space).try_collect().await.unwrap();
    let raw: Vec<&str> = records.iter().map(|r| r.item.get()).collect();
    assert_eq!(raw, spaces.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        records
            .iter()
            .all(|r| r.kind == "space" && r.parent.is_none())
    );

    let mut pairs: Vec<(String, String)> = client
        .all::<Project>()
        .map_ok(|(space, project)| (space, project.id))
        .try_collect()
        .await
        .unwrap();
    pairs.sort();
    let expected: Vec<(String, String)> = [("Spaces-1", 5), ("Spaces-2", 3)]
        .into_iter()
        .flat_map(|(s, count)| (1..=count).map(move |n| (s.to_owned(), format!("Projects-{n}"))))
        .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(pairs, expected);

    let projects = client.projects("Spaces-2").fetch_all().await.unwrap();
    assert_eq!(projects.len(), 3);
    assert_eq!(projects[0].space_id.as_deref(), Some("Spaces-2"));
    assert!(projects[0].extra.contains_key("Unknown"));
}

/// Two spaces of ten deployments and ten releases, pages of two.
async fn capped_server(server: &MockServer) -> Vec<Vec<httpmock::Mock<'_>>> {
    let spaces: Vec<String> = ["Spaces-1", "Spaces-2"]
        .iter()
        .map(|id| space(id))
        .collect();
    collection(server, "/spaces", &spaces, 2).await;
    let mut mocks = Vec::new();
    for kind in [
        OctopusKind::Deployment,
        OctopusKind::Release,
        OctopusKind::Project,
    ] {
        for space_id in ["Spaces-1", "Spaces-2"] {
            let docs: Vec<String> = (1..=10).map(|n| document(kind, space_id, n)).collect();
            mocks.push(
                collection(server, &format!("/{space_id}/{}", kind.plural()), &docs, 2).await,
            );
        }
    }
    mocks
}

fn capped_client(server: &MockServer, cap: Option<u64>) -> OctopusClient {
    OctopusClient::builder(&server.base_url())
        .api_key(KEY)
        .retry(ocean_core::RetryPolicy::none())
        .page_size(2)
        .max_items_per_space(cap)
        .build()
        .unwrap()
}

fn per_space(records: &[Record]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in records {
        let ParentRef { id, .. } = record.parent.clone().unwrap();
        let item_id = ocean_core::raw_field(&record.item, "Id").unwrap().unwrap();
        out.entry(id).or_default().push(item_id);
    }
    out
}

#[tokio::test]
async fn releases_and_deployments_stop_exactly_at_the_cap_without_requesting_further() {
    let server = MockServer::start_async().await;
    let mocks = capped_server(&server).await;
    let client = capped_client(&server, Some(5));

    for (i, kind) in [OctopusKind::Deployment, OctopusKind::Release]
        .into_iter()
        .enumerate()
    {
        let records: Vec<Record> = client.sync(kind).try_collect().await.unwrap();
        let newest_five: Vec<String> = (1..=5)
            .map(|n| format!("{}{n}", kind.id_prefix()))
            .collect();
        for (space, ids) in per_space(&records) {
            assert_eq!(ids, newest_five, "{kind} in {space}: exactly the 5 newest");
        }
        assert_eq!(records.len(), 10);
        for space_mocks in &mocks[2 * i..2 * i + 2] {
            assert_eq!(
                hits(space_mocks).await,
                [1, 1, 1, 0, 0],
                "{kind}: pages at skip 6 and 8 are never requested"
            );
        }
    }

    // The typed stream is capped the same way; projects are not capped at all.
    let deployments = client.deployments("Spaces-1").fetch_all().await.unwrap();
    assert_eq!(deployments.len(), 5);
    let projects: Vec<Record> = client
        .sync(OctopusKind::Project)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(projects.len(), 20);
}

#[tokio::test]
async fn a_cap_on_a_page_boundary_stops_before_the_next_page_and_none_lifts_it() {
    let server = MockServer::start_async().await;
    let mocks = capped_server(&server).await;

    let records: Vec<Record> = capped_client(&server, Some(4))
        .sync(OctopusKind::Deployment)
        .try_collect()
        .await
        .unwrap();
    assert!(per_space(&records).values().all(|ids| ids.len() == 4));
    assert_eq!(hits(&mocks[0]).await, [1, 1, 0, 0, 0]);

    let records: Vec<Record> = capped_client(&server, None)
        .sync(OctopusKind::Deployment)
        .try_collect()
        .await
        .unwrap();
    assert!(per_space(&records).values().all(|ids| ids.len() == 10));
    assert_eq!(hits(&mocks[0]).await, [2, 2, 1, 1, 1]);
}

#[tokio::test]
async fn the_default_cap_is_a_thousand_per_space() {
    let client = OctopusClient::new("https://x.octopus.app", KEY).unwrap();
    assert_eq!(client.max_items_per_space(), Some(1000));
    assert_eq!(
        client.releases("Spaces-1").endpoint().item_cap(),
        Some(1000)
    );
    assert_eq!(
        client.deployments("Spaces-1").endpoint().item_cap(),
        Some(1000)
    );
    assert_eq!(client.projects("Spaces-1").endpoint().item_cap(), None);
}

#[tokio::test]
async fn the_api_key_is_sent_and_never_shown_even_when_echoed_back() {
    let server = MockServer::start_async().await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/spaces")
                .header("X-Octopus-ApiKey", KEY);
            then.status(200)
                .body(support::page_body("/spaces", &[space("Spaces-1")], 0, 2));
        })
        .await;
    let client = client(&server, 2);
    let records: Vec<Record> = client.sync(OctopusKind::Space).try_collect().await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(ok.calls_async().await, 1);

    let echo = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/Spaces-1/projects");
            then.status(401).json_body(serde_json::json!({
                "ErrorMessage": format!("Either your API key `{KEY}` is invalid, or your account has been disabled."),
                "Errors": [format!("rejected {KEY}")]
            }));
        })
        .await;
    let err = client.projects("Spaces-1").fetch_all().await.unwrap_err();
    assert_eq!(echo.calls_async().await, 1);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("401"), "{shown}");
    assert!(
        shown.to_ascii_lowercase().contains("x-octopus-apikey"),
        "names the credential to check: {shown}"
    );

    let err = client
        .sync(OctopusKind::Project)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(KEY));
}

#[tokio::test]
async fn fetch_one_reads_documents_spaces_and_maps_404_to_none() {
    let server = MockServer::start_async().await;
    let project = r#"{"Id":"Projects-1",  "Name":"Sample"}"#;
    let get = |path: &'static str, status: u16, body: &'static str| {
        let server = &server;
        async move {
            server
                .mock_async(|when, then| {
                    when.method(GET).path(path).header("X-Octopus-ApiKey", KEY);
                    then.status(status)
                        .header("content-type", "application/json")
                        .body(body);
                })
                .await
        }
    };
    get("/api/Spaces-1/projects/Projects-1", 200, project).await;
    get("/api/spaces/Spaces-2", 200, r#"{"Id":"Spaces-2"}"#).await;
    get(
        "/api/Spaces-1/releases/Releases-9",
        404,
        r#"{"ErrorMessage":"The resource was not found.."}"#,
    )
    .await;
    get(
        "/api/Spaces-1/deployments/Deployments-1",
        500,
        r#"{"ErrorMessage":"There was a problem with your request."}"#,
    )
    .await;
    let client = client(&server, 50);

    let found = client
        .fetch_one(OctopusKind::Project, "Spaces-1", "Projects-1")
        .await
        .unwrap();
    assert_eq!(found.unwrap().get(), project);
    let space = client
        .fetch_one(OctopusKind::Space, "Spaces-1", "Spaces-2")
        .await
        .unwrap();
    assert_eq!(space.unwrap().get(), r#"{"Id":"Spaces-2"}"#);
    let gone = client
        .fetch_one(OctopusKind::Release, "Spaces-1", "Releases-9")
        .await
        .unwrap();
    assert!(gone.is_none());
    let err = client
        .fetch_one(OctopusKind::Deployment, "Spaces-1", "Deployments-1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("There was a problem"), "{err}");
}
