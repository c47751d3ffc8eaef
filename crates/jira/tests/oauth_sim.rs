//! OAuth 2.0 (3LO) against the simulator's rotating token endpoint: renewal before expiry,
//! one refresh per expiry however many requests wait for it, no refresh token ever reused.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use ocean_core::{MemoryTokenStore, OAuthError, RefreshingToken, RetryPolicy};
use ocean_jira::{
    IssueStrategy, JiraClient, JiraKind, SyncOptions, atlassian_tokens, find_cloud_id,
};
use ocean_sim::{SimConfig, Simulator};

const LIFETIME: Duration = Duration::from_secs(1);

async fn sim(items: usize, latency: Duration) -> Simulator {
    let sim = Simulator::start(SimConfig {
        items,
        latency,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    sim.oauth().set_access_token_lifetime(LIFETIME);
    sim
}

fn tokens(sim: &Simulator, refresh_token: &str) -> Arc<RefreshingToken> {
    atlassian_tokens(
        ocean_sim::OAUTH_CLIENT_ID,
        ocean_sim::OAUTH_CLIENT_SECRET,
        Some(&sim.oauth_token_url()),
        Arc::new(MemoryTokenStore::new(refresh_token)),
    )
    .unwrap()
}

async fn client(sim: &Simulator, tokens: Arc<RefreshingToken>) -> JiraClient {
    let cloud_id = find_cloud_id(tokens.clone(), Some(&sim.oauth_api_url()), None)
        .await
        .unwrap();
    assert_eq!(cloud_id, ocean_sim::CLOUD_ID);
    JiraClient::builder(&sim.jira_url())
        .oauth(&cloud_id, tokens)
        .api_gateway(&sim.oauth_api_url())
        .retry(RetryPolicy::none())
        .max_concurrency(20)
        .page_size(10)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_sync_longer_than_three_token_lifetimes_refreshes_once_per_expiry() {
    // 200 issues in pages of 10, one page at a time, 200 ms each: about 4 s, four lifetimes.
    let sim = sim(200, Duration::from_millis(200)).await;
    let tokens = tokens(&sim, ocean_sim::OAUTH_REFRESH_TOKEN);
    let jira = client(&sim, tokens.clone()).await;
    let started = Instant::now();
    // The cursor reads one page at a time: the sync outlives several tokens.
    let cursor = SyncOptions {
        issue_strategy: IssueStrategy::Cursor,
        ..SyncOptions::default()
    };
    let records: Vec<_> = jira
        .sync(JiraKind::Issue, &cursor)
        .try_collect()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed > 3 * LIFETIME, "the sync took only {elapsed:?}");

    let ids: Vec<String> = records
        .iter()
        .map(|r| ocean_core::raw_field(&r.item, "id").unwrap().unwrap())
        .collect();
    let unique: BTreeSet<_> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "an issue came twice");
    let want: BTreeSet<String> = sim
        .dataset()
        .jira("issue")
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(unique, want);

    // Renewed before expiry: no request ever carried an expired token, no token was reused,
    // and one grant per 750 ms of use (the lifetime minus its quarter margin), no more.
    let oauth = sim.oauth();
    eprintln!(
        "{} issues in {elapsed:?}: {} refreshes, {} expired-token rejections, {} reuses",
        ids.len(),
        oauth.refreshes(),
        oauth.expired_access_tokens(),
        oauth.reused_refresh_tokens()
    );
    assert_eq!(oauth.expired_access_tokens(), 0);
    assert_eq!(oauth.reused_refresh_tokens(), 0);
    assert_eq!(tokens.refreshes(), oauth.refreshes());
    let per_expiry = elapsed.as_secs_f64() / 0.75;
    assert!(oauth.refreshes() >= 4, "{} refreshes", oauth.refreshes());
    assert!(
        (oauth.refreshes() as f64) <= per_expiry.floor() + 1.0,
        "{} refreshes in {elapsed:?}",
        oauth.refreshes()
    );
}

#[tokio::test]
async fn twenty_requests_across_an_expiry_share_one_refresh() {
    let sim = sim(40, Duration::from_millis(20)).await;
    let tokens = tokens(&sim, ocean_sim::OAUTH_REFRESH_TOKEN);
    let jira = client(&sim, tokens).await;
    assert_eq!(sim.oauth().refreshes(), 1);

    // Past the renewal deadline: twenty requests find the token stale at once.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests = (0..20).map(|_| jira.projects().fetch_all());
    for projects in futures::future::join_all(requests).await {
        assert_eq!(projects.unwrap().len(), sim.dataset().jira_len("project"));
    }
    assert_eq!(sim.oauth().refreshes(), 2);

    // The server expires the token early: twenty requests get 401 with the same token.
    sim.oauth().expire_access_tokens();
    let requests = (0..20).map(|_| jira.projects().fetch_all());
    for projects in futures::future::join_all(requests).await {
        assert_eq!(projects.unwrap().len(), sim.dataset().jira_len("project"));
    }
    assert_eq!(sim.oauth().refreshes(), 3);
    assert!(sim.oauth().expired_access_tokens() >= 1);
    assert_eq!(sim.oauth().reused_refresh_tokens(), 0);
}

#[tokio::test]
async fn a_reused_refresh_token_is_rejected_and_says_so_without_the_token() {
    let sim = sim(20, Duration::ZERO).await;
    // A first client rotates the starting token away.
    let first = tokens(&sim, ocean_sim::OAUTH_REFRESH_TOKEN);
    first.current().await.unwrap();
    // A second one still holding it is refused: the simulator counts the reuse.
    let stale = tokens(&sim, ocean_sim::OAUTH_REFRESH_TOKEN);
    let err = stale.current().await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Rejected { status: 400, code, .. } if code == "invalid_grant"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(
        !message.contains(ocean_sim::OAUTH_REFRESH_TOKEN),
        "{message}"
    );
    assert!(
        !message.contains(ocean_sim::OAUTH_CLIENT_SECRET),
        "{message}"
    );
    assert_eq!(sim.oauth().reused_refresh_tokens(), 1);

    // The first client keeps going on its rotated token, and never sends an old one.
    for _ in 0..3 {
        sim.oauth().expire_access_tokens();
        let jira = JiraClient::builder(&sim.jira_url())
            .oauth(ocean_sim::CLOUD_ID, first.clone())
            .api_gateway(&sim.oauth_api_url())
            .build()
            .unwrap();
        jira.projects().fetch_all().await.unwrap();
    }
    assert_eq!(sim.oauth().reused_refresh_tokens(), 1);
    assert_eq!(first.refreshes(), 4);
}
