//! Webhook registration: every outcome, never a duplicate.

mod support;

use httpmock::Method::{DELETE, GET, POST, PUT};
use httpmock::MockServer;
use ocean_core::{RetryPolicy, Secret};
use ocean_jira::{
    JiraClient, MATCH_ALL_JQL, OAUTH_WEBHOOK_EVENTS, WEBHOOK_EVENTS, WebhookOptions, WebhookOutcome,
};
use serde_json::{Value, json};
use support::*;

const APP: &str = "https://app.example.com/";
const HOOK_URL: &str = "https://app.example.com/integration/webhook";

fn permission(have: bool) -> Value {
    let mut answer = fixture("jira-mypermissions-administer.json");
    answer["permissions"]["ADMINISTER"]["havePermission"] = have.into();
    answer
}

/// An admin webhook pointing at us, from the fixture's shape.
fn admin_hook(events: &[&str], enabled: bool) -> Value {
    let mut hook = fixture("jira-admin-webhook-list.json")[0].clone();
    hook["url"] = HOOK_URL.into();
    hook["name"] = "custom-name".into();
    hook["events"] = json!(events);
    hook["enabled"] = enabled.into();
    hook["filters"] = json!({"issue-related-events-section": ""});
    hook["self"] = "https://jira.example.com/rest/webhooks/1.0/webhook/42".into();
    hook
}

struct AdminServer<'a> {
    permissions: httpmock::Mock<'a>,
    list: httpmock::Mock<'a>,
    create: httpmock::Mock<'a>,
    update: httpmock::Mock<'a>,
}

async fn admin_server(server: &MockServer, have: bool, hooks: Value) -> AdminServer<'_> {
    let permissions = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/3/mypermissions")
                .query_param("permissions", "ADMINISTER");
            then.status(200).json_body(permission(have));
        })
        .await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/webhooks/1.0/webhook");
            then.status(200).json_body(hooks);
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/rest/webhooks/1.0/webhook");
            then.status(201)
                .json_body(admin_hook(&WEBHOOK_EVENTS, true));
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            when.method(PUT).path("/rest/webhooks/1.0/webhook/42");
            then.status(200)
                .json_body(admin_hook(&WEBHOOK_EVENTS, true));
        })
        .await;
    AdminServer {
        permissions,
        list,
        create,
        update,
    }
}

#[tokio::test]
async fn without_administer_nothing_is_written() {
    let server = MockServer::start_async().await;
    let mocks = admin_server(&server, false, json!([])).await;
    let jira = basic_client(&server);
    assert!(!jira.has_webhook_permission().await.unwrap());
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::NoPermission);
    assert_eq!(outcome.to_string(), "no permission to manage webhooks");
    mocks.permissions.assert_calls_async(2).await;
    mocks.list.assert_calls_async(0).await;
    mocks.create.assert_calls_async(0).await;
    mocks.update.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_missing_webhook_is_created_with_our_events_and_secret() {
    let server = MockServer::start_async().await;
    let mocks = admin_server(&server, true, fixture("jira-admin-webhook-list.json")).await;
    mocks.create.delete_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/rest/webhooks/1.0/webhook")
                .header("authorization", BASIC_HEADER)
                .json_body(json!({
                    "name": "port-1-Ocean-Events-Webhook",
                    "url": HOOK_URL,
                    "events": WEBHOOK_EVENTS,
                    "excludeBody": false,
                    "secret": "s3cret",
                }));
            then.status(201)
                .json_body(admin_hook(&WEBHOOK_EVENTS, true));
        })
        .await;
    let jira = basic_client(&server);
    let options = WebhookOptions {
        identifier: "port-1".into(),
        secret: Some(Secret::new("s3cret")),
    };
    let outcome = jira.ensure_webhook(APP, &options).await.unwrap();
    assert_eq!(outcome, WebhookOutcome::Created);
    create.assert_calls_async(1).await;
    mocks.update.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_healthy_webhook_is_left_alone() {
    let server = MockServer::start_async().await;
    let hooks = json!([
        fixture("jira-admin-webhook-list.json")[0],
        admin_hook(&WEBHOOK_EVENTS, true)
    ]);
    let mocks = admin_server(&server, true, hooks).await;
    let jira = basic_client(&server);
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::AlreadyExists);
    mocks.list.assert_calls_async(1).await;
    mocks.create.assert_calls_async(0).await;
    mocks.update.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_disabled_or_incomplete_webhook_is_repaired_in_place() {
    for (events, enabled) in [(&WEBHOOK_EVENTS[..5], true), (&WEBHOOK_EVENTS[..], false)] {
        let server = MockServer::start_async().await;
        let mocks = admin_server(&server, true, json!([admin_hook(events, enabled)])).await;
        mocks.update.delete_async().await;
        let update = server
            .mock_async(|when, then| {
                when.method(PUT)
                    .path("/rest/webhooks/1.0/webhook/42")
                    .json_body(json!({
                        "name": "custom-name",
                        "url": HOOK_URL,
                        "events": WEBHOOK_EVENTS,
                        "excludeBody": false,
                        "enabled": true,
                        "filters": {"issue-related-events-section": ""},
                    }));
                then.status(200)
                    .json_body(admin_hook(&WEBHOOK_EVENTS, true));
            })
            .await;
        let jira = basic_client(&server);
        let outcome = jira
            .ensure_webhook(APP, &WebhookOptions::default())
            .await
            .unwrap();
        assert_eq!(outcome, WebhookOutcome::Repaired);
        update.assert_calls_async(1).await;
        mocks.create.assert_calls_async(0).await;
    }
}

#[tokio::test]
async fn a_403_while_registering_means_no_permission() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/api/3/mypermissions");
            then.status(200).json_body(permission(true));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/webhooks/1.0/webhook");
            then.status(403).json_body(error_collection("Forbidden"));
        })
        .await;
    let jira = basic_client(&server);
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::NoPermission);
}

#[tokio::test]
async fn data_center_checks_permissions_on_the_v2_api() {
    let server = MockServer::start_async().await;
    let v2 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/rest/api/2/mypermissions")
                .header("authorization", "Bearer dc-pat");
            then.status(200).json_body(permission(true));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/rest/webhooks/1.0/webhook");
            then.status(200)
                .json_body(json!([admin_hook(&WEBHOOK_EVENTS, true)]));
        })
        .await;
    let jira = JiraClient::builder(&server.base_url())
        .bearer("dc-pat")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::AlreadyExists);
    v2.assert_async().await;
}

struct DynamicServer<'a> {
    list: httpmock::Mock<'a>,
    register: httpmock::Mock<'a>,
    refresh: httpmock::Mock<'a>,
    delete: httpmock::Mock<'a>,
}

async fn dynamic_server(
    server: &MockServer,
    hooks: Vec<Value>,
    registered: Value,
) -> DynamicServer<'_> {
    let total = hooks.len() as u64;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(oauth_path("/rest/api/3/webhook"))
                .header("authorization", "Bearer old-token");
            then.status(200).json_body(offset_page(0, hooks, total));
        })
        .await;
    let register = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(oauth_path("/rest/api/3/webhook"))
                .json_body(json!({
                    "url": HOOK_URL,
                    "webhooks": [{"events": OAUTH_WEBHOOK_EVENTS, "jqlFilter": MATCH_ALL_JQL}],
                }));
            then.status(200).json_body(registered);
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(oauth_path("/rest/api/3/webhook/refresh"))
                .json_body(json!({"webhookIds": [10000]}));
            then.status(200)
                .json_body(fixture("jira-webhook-refresh-result.json"));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(oauth_path("/rest/api/3/webhook"))
                .json_body(json!({"webhookIds": [10000]}));
            then.status(202);
        })
        .await;
    DynamicServer {
        list,
        register,
        refresh,
        delete,
    }
}

/// The list fixture's webhooks, the first re-pointed at us with our filter and events.
fn dynamic_hooks(ours_healthy: bool) -> Vec<Value> {
    let mut hooks = fixture("jira-webhook-list-page.json")["values"]
        .as_array()
        .unwrap()
        .clone();
    for hook in &mut hooks {
        hook["url"] = "https://other.example.com/hook".into();
    }
    hooks[0]["url"] = HOOK_URL.into();
    hooks[0]["expirationDate"] = 1559392950000u64.into();
    if ours_healthy {
        hooks[0]["jqlFilter"] = MATCH_ALL_JQL.into();
        hooks[0]["events"] = json!(OAUTH_WEBHOOK_EVENTS);
    }
    hooks
}

#[tokio::test]
async fn oauth_creates_a_dynamic_webhook_with_a_match_all_filter() {
    let server = MockServer::start_async().await;
    let mocks = dynamic_server(
        &server,
        vec![],
        json!({"webhookRegistrationResult": [{"createdWebhookId": 1000}]}),
    )
    .await;
    let jira = oauth_client(&server, Tokens::default());
    assert!(jira.has_webhook_permission().await.unwrap());
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::Created);
    mocks.register.assert_calls_async(1).await;
    mocks.refresh.assert_calls_async(0).await;
}

#[tokio::test]
async fn oauth_refreshes_an_existing_webhook_instead_of_duplicating_it() {
    let server = MockServer::start_async().await;
    let mocks = dynamic_server(&server, dynamic_hooks(true), json!({})).await;
    let jira = oauth_client(&server, Tokens::default());
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::Refreshed);
    assert_eq!(outcome.to_string(), "webhook refreshed");
    mocks.list.assert_calls_async(1).await;
    mocks.refresh.assert_calls_async(1).await;
    mocks.register.assert_calls_async(0).await;
    mocks.delete.assert_calls_async(0).await;
}

#[tokio::test]
async fn oauth_replaces_a_webhook_with_a_narrower_filter() {
    let server = MockServer::start_async().await;
    let registered = json!({"webhookRegistrationResult": [{"createdWebhookId": 1001}]});
    let mocks = dynamic_server(&server, dynamic_hooks(false), registered).await;
    let jira = oauth_client(&server, Tokens::default());
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::Repaired);
    mocks.delete.assert_calls_async(1).await;
    mocks.register.assert_calls_async(1).await;
    mocks.refresh.assert_calls_async(0).await;
}

/// Jira created two of three webhooks: the created ones are kept, the call succeeds.
#[tokio::test]
async fn oauth_partial_registration_keeps_what_was_created() {
    let server = MockServer::start_async().await;
    let mocks = dynamic_server(
        &server,
        vec![],
        fixture("jira-webhook-register-result.json"),
    )
    .await;
    let jira = oauth_client(&server, Tokens::default());
    let outcome = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::Created);
    mocks.register.assert_calls_async(1).await;
    mocks.delete.assert_calls_async(0).await;
}

/// Nothing created: an error naming Jira's endpoint (not the app's URL) and every reason.
#[tokio::test]
async fn oauth_registration_errors_name_jiras_endpoint() {
    let server = MockServer::start_async().await;
    let rejected = json!({"webhookRegistrationResult": [
        {"errors": ["The clause watchCount is unsupported"]},
        {"errors": ["Too many webhooks"]},
    ]});
    let mocks = dynamic_server(&server, vec![], rejected).await;
    let jira = oauth_client(&server, Tokens::default());
    let err = jira
        .ensure_webhook(APP, &WebhookOptions::default())
        .await
        .unwrap_err();
    let ocean_core::Error::Api { url, message } = &err else {
        panic!("{err:?}")
    };
    assert!(
        url.starts_with(&server.base_url()) && url.ends_with("/rest/api/3/webhook"),
        "{url}"
    );
    assert!(
        message.contains("webhook 1 of 2: The clause watchCount is unsupported")
            && message.contains("webhook 2 of 2: Too many webhooks"),
        "{message}"
    );
    mocks.register.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_bad_app_host_is_a_config_error() {
    let server = MockServer::start_async().await;
    let jira = basic_client(&server);
    let err = jira
        .ensure_webhook("app.example.com", &WebhookOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ocean_core::Error::Config(_)), "{err}");
}
