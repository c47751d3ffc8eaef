//! Creating event subscriptions once per space, deduplicated across every page.

mod support;

use httpmock::Method::POST;
use httpmock::MockServer;
use ocean_octopus::{SpaceOutcome, SubscriptionFilter, SubscriptionOptions, SubscriptionOutcome};
use serde_json::{Value, json};
use support::{KEY, client, collection, space};

const APP_HOST: &str = "https://ocean.example.com";
const HOOK: &str = "https://ocean.example.com/integration/webhook";

fn subscription(n: usize, space_id: &str, uri: &str) -> String {
    json!({
        "Id": format!("Subscriptions-{n}"),
        "Name": format!("Subscription {n}"),
        "Type": "Event",
        "IsDisabled": false,
        "SpaceId": space_id,
        "EventNotificationSubscription": {
            "Filter": { "EventCategories": ["DeploymentFailed"], "DocumentTypes": [] },
            "WebhookURI": uri,
            "WebhookHeaderKey": null,
            "WebhookHeaderValue": null,
            "WebhookTimeout": "00:00:10"
        },
        "Links": { "Self": format!("/api/{space_id}/subscriptions/Subscriptions-{n}") }
    })
    .to_string()
}

/// The body `ensure_subscriptions` must post in `space_id`.
fn expected_body(space_id: &str, header: Option<(&str, &str)>) -> Value {
    let filter = SubscriptionFilter::default();
    let mut notification = json!({
        "Filter": {
            "Users": [], "Projects": [], "ProjectGroups": [], "Environments": [],
            "EventGroups": [], "EventCategories": filter.event_categories,
            "EventAgents": [], "Tenants": [], "Tags": [],
            "DocumentTypes": ["Spaces", "Projects", "Releases", "Deployments", "Machines", "Environments"]
        },
        "WebhookURI": HOOK,
        "WebhookTimeout": "00:00:50",
        "WebhookTeams": [],
        "EmailTeams": [],
        "EmailFrequencyPeriod": "01:00:00",
        "EmailPriority": "Normal",
        "EmailShowDatesInTimeZoneId": "UTC"
    });
    if let Some((key, value)) = header {
        notification["WebhookHeaderKey"] = json!(key);
        notification["WebhookHeaderValue"] = json!(value);
    }
    json!({
        "Name": format!("Ocean Subscription - {APP_HOST}"),
        "Type": "Event",
        "IsDisabled": false,
        "SpaceId": space_id,
        "EventNotificationSubscription": notification
    })
}

#[tokio::test]
async fn a_match_on_a_later_page_prevents_a_post_and_other_spaces_get_one() {
    let server = MockServer::start_async().await;
    let spaces = [space("Spaces-1"), space("Spaces-2")];
    collection(&server, "/spaces", &spaces, 2).await;
    // Spaces-1: the match sits on page 2 of 2; Ocean would have created a duplicate.
    let pages_1 = collection(
        &server,
        "/Spaces-1/subscriptions",
        &[
            subscription(1, "Spaces-1", "https://elsewhere.example.com/hook"),
            subscription(2, "Spaces-1", "https://ocean.example.com/other"),
            subscription(3, "Spaces-1", HOOK),
        ],
        2,
    )
    .await;
    // Spaces-2: two pages, no match.
    let pages_2 = collection(
        &server,
        "/Spaces-2/subscriptions",
        &[
            subscription(4, "Spaces-2", "https://elsewhere.example.com/hook"),
            subscription(
                5,
                "Spaces-2",
                "https://ocean.example.com/integration/webhook/x",
            ),
            subscription(6, "Spaces-2", "https://ocean.example.com"),
        ],
        2,
    )
    .await;
    let post_1 = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/Spaces-1/subscriptions");
            then.status(201)
                .json_body(json!({ "Id": "Subscriptions-99" }));
        })
        .await;
    let post_2 = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/Spaces-2/subscriptions")
                .header("X-Octopus-ApiKey", KEY)
                .header("content-type", "application/json")
                .json_body(expected_body(
                    "Spaces-2",
                    Some(("X-Ocean-Token", "hook-s3cret")),
                ));
            then.status(201)
                .json_body(json!({ "Id": "Subscriptions-7" }));
        })
        .await;

    let options = SubscriptionOptions {
        header: Some(("X-Ocean-Token".into(), "hook-s3cret".into())),
        ..SubscriptionOptions::default()
    };
    let outcomes = client(&server, 2)
        .ensure_subscriptions(APP_HOST, &options)
        .await
        .unwrap();

    assert_eq!(
        outcomes,
        [
            SpaceOutcome {
                space_id: "Spaces-1".into(),
                outcome: SubscriptionOutcome::AlreadyExists
            },
            SpaceOutcome {
                space_id: "Spaces-2".into(),
                outcome: SubscriptionOutcome::Created
            },
        ]
    );
    assert_eq!(
        post_1.calls_async().await,
        0,
        "no POST where a match exists on page 2"
    );
    assert_eq!(
        post_2.calls_async().await,
        1,
        "exactly one POST, with the full body"
    );
    assert_eq!(support::hits(&pages_1).await, [1, 1, 0], "page 2 was read");
    assert_eq!(
        support::hits(&pages_2).await,
        [1, 1, 0],
        "every page was read before posting, nothing past the end"
    );
}

#[tokio::test]
async fn without_a_header_secret_none_is_sent_and_a_trailing_slash_changes_nothing() {
    let server = MockServer::start_async().await;
    collection(&server, "/spaces", &[space("Spaces-1")], 50).await;
    collection(&server, "/Spaces-1/subscriptions", &[], 50).await;
    let post = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/Spaces-1/subscriptions")
                .json_body(expected_body("Spaces-1", None));
            then.status(201)
                .json_body(json!({ "Id": "Subscriptions-1" }));
        })
        .await;
    let outcomes = client(&server, 50)
        .ensure_subscriptions(APP_HOST, &SubscriptionOptions::default())
        .await
        .unwrap();
    assert_eq!(outcomes[0].outcome, SubscriptionOutcome::Created);
    assert_eq!(post.calls_async().await, 1);
}

#[tokio::test]
async fn a_rejected_post_fails_without_showing_the_header_secret() {
    let server = MockServer::start_async().await;
    collection(&server, "/spaces", &[space("Spaces-1")], 50).await;
    collection(&server, "/Spaces-1/subscriptions", &[], 50).await;
    let post = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/Spaces-1/subscriptions");
            then.status(400).json_body(json!({
                "ErrorMessage": "There was a problem with your request.",
                "Errors": ["Header value hook-s3cret is not allowed"]
            }));
        })
        .await;
    let options = SubscriptionOptions {
        header: Some(("X-Ocean-Token".into(), "hook-s3cret".into())),
        ..SubscriptionOptions::default()
    };
    let err = client(&server, 50)
        .ensure_subscriptions(APP_HOST, &options)
        .await
        .unwrap_err();
    assert_eq!(
        post.calls_async().await,
        1,
        "a POST is never retried on 400"
    );
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("400"), "{shown}");
    assert!(!shown.contains("hook-s3cret"), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");
}
