//! The two-phase issue sync (an id-only census, then bulk fetches of 100) against the
//! simulator: the same issues as the cursor, byte for byte and each once, on Cloud
//! (`issue/bulkfetch`) and on Data Center (`id in (…)` searches).

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use ocean_core::{Error, RetryPolicy, raw_field};
use ocean_jira::{
    BULK_FETCH_MAX, CENSUS_PAGE, Deployment, IssueStrategy, JiraClient, JiraKind, SyncOptions,
};
use ocean_sim::{Mutation, SimConfig, Simulator};

/// A client of `url` without retries (a failure is seen at once).
fn client(url: &str, deployment: Deployment) -> JiraClient {
    JiraClient::builder(url)
        .basic(ocean_sim::JIRA_EMAIL, ocean_sim::JIRA_TOKEN)
        .deployment(deployment)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn options(strategy: IssueStrategy) -> SyncOptions {
    SyncOptions {
        issue_strategy: strategy,
        ..SyncOptions::default()
    }
}

/// The synced issues' JSON, in the order they came.
async fn issues(jira: &JiraClient, options: &SyncOptions) -> Vec<String> {
    jira.sync(JiraKind::Issue, options)
        .map_ok(|record| record.item.get().to_owned())
        .try_collect()
        .await
        .unwrap()
}

fn ids(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|item| {
            let item = serde_json::value::RawValue::from_string(item.clone()).unwrap();
            raw_field(&item, "id").unwrap().unwrap()
        })
        .collect()
}

fn requests_to(sim: &Simulator, route_suffix: &str) -> u64 {
    sim.stats()
        .per_route
        .iter()
        .filter(|(route, _)| route.ends_with(route_suffix))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn census_and_bulk_fetch_yield_exactly_the_cursors_issues_each_once() {
    // More than one census page, and a last bulk fetch of fewer than 100.
    let n = CENSUS_PAGE as usize + 250;
    let sim = Simulator::start(SimConfig::new(n)).await.unwrap();
    let jira = client(&sim.jira_url(), Deployment::Cloud);

    let by_cursor = issues(&jira, &options(IssueStrategy::Cursor)).await;
    sim.reset_stats();
    let by_census = issues(&jira, &options(IssueStrategy::Census)).await;

    assert_eq!(by_census.len(), n);
    assert!(by_census == by_cursor, "same bytes in the same order");
    let unique: HashSet<String> = ids(&by_census).into_iter().collect();
    let expected: HashSet<String> = sim.dataset().jira_ids("issue").into_iter().collect();
    assert_eq!(unique, expected, "every issue of the site, each once");
    assert_eq!(requests_to(&sim, "/search/jql"), 2, "two census pages");
    assert_eq!(
        requests_to(&sim, "/issue/bulkfetch"),
        n.div_ceil(BULK_FETCH_MAX) as u64
    );
}

#[tokio::test]
async fn max_issues_caps_the_census_and_fetches_only_what_it_keeps() {
    let sim = Simulator::start(SimConfig::new(600)).await.unwrap();
    let jira = client(&sim.jira_url(), Deployment::Cloud);
    let cap = |strategy| SyncOptions {
        max_issues: Some(250),
        ..options(strategy)
    };
    let by_cursor = issues(&jira, &cap(IssueStrategy::Cursor)).await;
    sim.reset_stats();
    let by_census = issues(&jira, &cap(IssueStrategy::Census)).await;
    assert_eq!(by_census.len(), 250);
    assert!(by_census == by_cursor, "the same first 250 issues");
    assert_eq!(requests_to(&sim, "/issue/bulkfetch"), 3);
}

/// Census first, then an issue deleted, then the bulk fetch: the gone issue is left out,
/// the stream does not fail.
async fn deleted_after_the_census_is_left_out(deployment: Deployment) {
    let sim = Simulator::start(SimConfig::new(300)).await.unwrap();
    let url = match deployment {
        Deployment::Cloud => sim.jira_url(),
        Deployment::DataCenter => sim.jira_dc_url(),
    };
    let jira = client(&url, deployment);
    let census: Vec<String> = jira
        .issue_ids(ocean_jira::DEFAULT_JQL)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(census.len(), 300);
    let gone = census[150].clone();
    sim.mutate(Mutation::JiraIssueDelete {
        issue: gone.clone(),
    })
    .await
    .unwrap();

    let fields = ["*all".to_owned()];
    let ids_stream = futures::stream::iter(census.clone().into_iter().map(Ok)).boxed();
    let fetched: Vec<String> = jira
        .bulk_issues(ids_stream, &fields, None)
        .map_ok(|item| item.get().to_owned())
        .try_collect()
        .await
        .unwrap();
    let fetched_ids = ids(&fetched);
    let mut expected = census;
    expected.retain(|id| *id != gone);
    assert_eq!(
        fetched_ids, expected,
        "census order, without the deleted issue"
    );
}

#[tokio::test]
async fn an_issue_deleted_between_census_and_bulk_fetch_is_left_out_on_cloud() {
    deleted_after_the_census_is_left_out(Deployment::Cloud).await;
}

#[tokio::test]
async fn an_issue_deleted_between_census_and_id_search_is_left_out_on_data_center() {
    deleted_after_the_census_is_left_out(Deployment::DataCenter).await;
}

#[tokio::test]
async fn a_failed_bulk_fetch_ends_the_stream_with_a_typed_error_naming_its_url() {
    let sim = Simulator::start(SimConfig::new(120)).await.unwrap();
    let jira = client(&sim.jira_url(), Deployment::Cloud);
    let census: Vec<String> = jira
        .issue_ids(ocean_jira::DEFAULT_JQL)
        .try_collect()
        .await
        .unwrap();
    sim.faults().set_fail_rate(1.0);
    let ids_stream = futures::stream::iter(census.into_iter().map(Ok)).boxed();
    let result: Result<Vec<_>, Error> = jira
        .bulk_issues(ids_stream, &["*all".to_owned()], None)
        .try_collect()
        .await;
    let error = result.expect_err("every bulk fetch answers 503");
    match &error {
        Error::Status(status) => {
            assert_eq!(status.status.as_u16(), 503);
            assert!(
                status.url.ends_with("/jira/rest/api/3/issue/bulkfetch"),
                "{}",
                status.url
            );
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    assert!(error.to_string().contains("/rest/api/3/issue/bulkfetch"));
}

#[tokio::test]
async fn a_malformed_bulk_fetch_answer_is_a_decode_error_naming_its_url() {
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/rest/api/3/search/jql");
            then.status(200).json_body(serde_json::json!({
                "issues": [{"id": "10001", "key": "EX-1", "fields": {}}],
                "isLast": true
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method("POST").path("/rest/api/3/issue/bulkfetch");
            then.status(200).json_body(serde_json::json!({"issues": 5}));
        })
        .await;
    let jira = client(&server.base_url(), Deployment::Cloud);
    let error = jira
        .sync(JiraKind::Issue, &options(IssueStrategy::Census))
        .try_collect::<Vec<_>>()
        .await
        .expect_err("`issues` is not a list");
    match error {
        Error::Decode { url, path, .. } => {
            assert_eq!(url, server.url("/rest/api/3/issue/bulkfetch"));
            assert_eq!(path, "issues");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn data_center_census_fetches_by_id_search_the_same_issues_as_its_offset_pages() {
    let n = 450;
    let sim = Simulator::start(SimConfig::new(n)).await.unwrap();
    let dc = client(&sim.jira_dc_url(), Deployment::DataCenter);

    let by_pages = issues(&dc, &options(IssueStrategy::Cursor)).await;
    sim.reset_stats();
    let by_census = issues(&dc, &options(IssueStrategy::Census)).await;
    assert_eq!(by_census.len(), n);
    assert!(by_census == by_pages, "same bytes in the same order");
    let unique: HashSet<String> = ids(&by_census).into_iter().collect();
    assert_eq!(unique.len(), n, "each once");
    // The simulator serves Data Center pages of 100: 5 census pages, then 5 `id in`
    // searches of 100; no Cloud route is touched.
    assert_eq!(requests_to(&sim, "/rest/api/2/search"), 10);
    assert_eq!(requests_to(&sim, "/issue/bulkfetch"), 0);

    let cloud = client(&sim.jira_url(), Deployment::Cloud);
    let on_cloud = issues(&cloud, &options(IssueStrategy::Census)).await;
    assert_eq!(
        ids(&on_cloud),
        ids(&by_census),
        "the same issues as on Cloud"
    );
}
