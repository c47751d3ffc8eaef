//! Registering the webhook Jira delivers live events to, and keeping it healthy.
//!
//! * Basic and Data Center (bearer PAT) credentials use admin webhooks
//!   (`/rest/webhooks/1.0/webhook`), which need the `ADMINISTER` permission.
//! * OAuth 2.0 apps use dynamic webhooks (`/rest/api/3/webhook`), which expire after 30
//!   days unless refreshed.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use ocean_core::{Auth, Resource, Result, Secret};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::JiraClient;
use crate::events::{subscribed_count, subscribed_events};
use ocean_core::path_segment;

/// The events an admin webhook subscribes to: Ocean's 29, the subscribed rows of the
/// events table the classifier reads.
pub const WEBHOOK_EVENTS: [&str; subscribed_count(false)] = subscribed_events(false);

/// The events a dynamic (OAuth) webhook subscribes to: the issue events, the only entity
/// events Jira's dynamic webhooks accept (the API's `events` enum). Ocean asks for 19,
/// of which Jira delivers only these.
pub const OAUTH_WEBHOOK_EVENTS: [&str; subscribed_count(true)] = subscribed_events(true);

/// The `jqlFilter` of a dynamic webhook: dynamic webhooks require one, and this one
/// matches every issue (no project has this key), as Ocean's does.
pub const MATCH_ALL_JQL: &str = "project not in (00000000-ocean-match-all-0000)";

/// The path the receiving app serves webhooks at, below its host.
pub const WEBHOOK_PATH: &str = "/integration/webhook";

/// How [`JiraClient::ensure_webhook`] names and secures the webhook.
///
/// ```
/// use ocean_jira::WebhookOptions;
/// let options = WebhookOptions { secret: Some("s3cret".into()), ..WebhookOptions::default() };
/// assert_eq!(options.identifier, "ocean");
/// assert_eq!(options.webhook_name(), "ocean-Ocean-Events-Webhook");
/// ```
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Names the webhook `{identifier}-Ocean-Events-Webhook` (default `"ocean"`).
    pub identifier: String,
    /// A secret Jira signs deliveries with (`X-Hub-Signature: sha256=…`; admin webhooks
    /// only). Check it with [`verify_signature`](crate::verify_signature).
    pub secret: Option<Secret>,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        Self {
            identifier: "ocean".to_owned(),
            secret: None,
        }
    }
}

impl WebhookOptions {
    /// The name a created webhook gets.
    pub fn webhook_name(&self) -> String {
        format!("{}-Ocean-Events-Webhook", self.identifier)
    }
}

/// What [`JiraClient::ensure_webhook`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookOutcome {
    /// No webhook pointed at the app: one was registered.
    Created,
    /// A healthy webhook already pointed at the app: nothing was sent.
    AlreadyExists,
    /// A webhook pointed at the app but was disabled, sent no body, or had other
    /// events (or, for OAuth, another filter): it was fixed.
    Repaired,
    /// The app's dynamic (OAuth) webhook existed: its 30-day expiry was pushed back.
    Refreshed,
    /// The credentials lack the Jira Administrator permission admin webhooks need: nothing
    /// was registered (a warning was logged).
    NoPermission,
}

impl fmt::Display for WebhookOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "webhook created",
            Self::AlreadyExists => "webhook already exists",
            Self::Repaired => "webhook repaired",
            Self::Refreshed => "webhook refreshed",
            Self::NoPermission => "no permission to manage webhooks",
        })
    }
}

/// An admin webhook as `GET /rest/webhooks/1.0/webhook` lists it (a bare array).
#[derive(Debug, Clone, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(kind = "admin_webhook", path = "/rest/webhooks/1.0/webhook")]
pub(crate) struct AdminWebhook {
    #[serde(default)]
    name: Option<String>,
    url: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    exclude_body: Option<bool>,
    #[serde(default)]
    filters: Option<Map<String, Value>>,
    #[serde(rename = "self", default)]
    self_url: Option<String>,
}

/// A dynamic webhook as `GET /rest/api/3/webhook` lists it.
#[derive(Debug, Clone, Deserialize, Resource)]
#[serde(rename_all = "camelCase")]
#[resource(
    kind = "dynamic_webhook",
    path = "/rest/api/3/webhook",
    items = "values",
    paginate = offset,
    page_size = 100
)]
pub(crate) struct DynamicWebhook {
    id: i64,
    url: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    jql_filter: Option<String>,
}

/// `expirationDate`: epoch milliseconds per the schema, a date string in the spec's own
/// examples. Both are accepted.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Expiration {
    Millis(i64),
    Text(String),
}

impl Expiration {
    fn to_datetime(&self) -> Option<DateTime<FixedOffset>> {
        match self {
            Self::Millis(ms) => {
                DateTime::<Utc>::from_timestamp_millis(*ms).map(|d| d.fixed_offset())
            }
            Self::Text(text) => crate::models::parse_timestamp(text),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshResult {
    expiration_date: Option<Expiration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationResults {
    #[serde(default)]
    webhook_registration_result: Vec<Registration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    created_webhook_id: Option<i64>,
    #[serde(default)]
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Permissions {
    #[serde(default)]
    permissions: Map<String, Value>,
}

/// `{app_host}/integration/webhook`.
fn webhook_url(app_host: &str) -> Result<String> {
    let host = app_host.trim().trim_end_matches('/');
    if !(host.starts_with("https://") || host.starts_with("http://")) {
        return Err(ocean_core::Error::Config(format!(
            "app host `{app_host}` must be an http(s) URL"
        )));
    }
    Ok(format!("{host}{WEBHOOK_PATH}"))
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

fn is_forbidden(e: &ocean_core::Error) -> bool {
    e.status().is_some_and(|s| s.as_u16() == 403)
}

fn event_set<'a>(events: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    events.into_iter().collect()
}

impl AdminWebhook {
    /// What is wrong with an existing webhook for our purposes, in words.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.enabled == Some(false) {
            problems.push("it is disabled".to_owned());
        }
        if self.exclude_body == Some(true) {
            problems.push("it sends no body".to_owned());
        }
        let theirs = event_set(self.events.iter().map(String::as_str));
        let ours = event_set(WEBHOOK_EVENTS);
        let missing: Vec<_> = ours.difference(&theirs).collect();
        let extra: Vec<_> = theirs.difference(&ours).collect();
        if !missing.is_empty() {
            problems.push(format!("it lacks the events {missing:?}"));
        }
        if !extra.is_empty() {
            problems.push(format!("it has the extra events {extra:?}"));
        }
        problems
    }

    fn jql_filter(&self) -> Option<&str> {
        self.filters
            .as_ref()?
            .get("issue-related-events-section")?
            .as_str()
            .filter(|f| !f.trim().is_empty())
    }

    /// The id: the last segment of `self`.
    fn id(&self) -> Result<&str> {
        self.self_url
            .as_deref()
            .and_then(|s| s.trim_end_matches('/').rsplit('/').next())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ocean_core::Error::Decode {
                url: self.url.clone(),
                path: "self".into(),
                message: "the admin webhook has no `self` URL to take its id from".into(),
            })
    }
}

impl JiraClient {
    /// Whether the credentials may manage admin webhooks: the global `ADMINISTER`
    /// permission, read from `GET /rest/api/3/mypermissions?permissions=ADMINISTER`
    /// (`/rest/api/2/…` with a Data Center PAT, since Data Center has no v3 API).
    ///
    /// With OAuth it is `true` without a request: dynamic webhooks need no Jira
    /// permission, only the app's `manage:jira-webhook` scope, which Jira checks when the
    /// webhook is registered.
    pub async fn has_webhook_permission(&self) -> Result<bool> {
        let path = match self.core.auth() {
            Auth::Provider(_) => return Ok(true),
            Auth::Bearer(_) => "/rest/api/2/mypermissions",
            _ => "/rest/api/3/mypermissions",
        };
        let answer: Permissions = self
            .core
            .get(path)
            .query("permissions", "ADMINISTER")
            .send_json()
            .await?;
        Ok(answer
            .permissions
            .get("ADMINISTER")
            .and_then(|p| p.get("havePermission"))
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }

    /// Makes sure Jira delivers live events to `{app_host}/integration/webhook`, creating,
    /// repairing or refreshing the webhook as needed. Safe to call on every start.
    ///
    /// Basic and Data Center credentials (admin webhooks):
    /// 1. without the `ADMINISTER` permission → [`WebhookOutcome::NoPermission`], no write
    ///    (a `403` on the list or the write is reported the same way);
    /// 2. a webhook with the same URL that is enabled, sends bodies and has exactly
    ///    [`WEBHOOK_EVENTS`] → [`WebhookOutcome::AlreadyExists`] (a JQL filter on it is kept,
    ///    with a warning, since it hides issues);
    /// 3. one with the same URL but disabled, `excludeBody`, or other events → `PUT` with
    ///    our events, enabled, bodies on, its name and filter kept →
    ///    [`WebhookOutcome::Repaired`];
    /// 4. none → `POST` named [`WebhookOptions::webhook_name`], with the secret if given →
    ///    [`WebhookOutcome::Created`].
    ///
    /// OAuth credentials (dynamic webhooks, which expire after 30 days):
    /// 1. the app's webhooks with our URL, [`MATCH_ALL_JQL`] and every
    ///    [`OAUTH_WEBHOOK_EVENTS`] → `PUT /rest/api/3/webhook/refresh` →
    ///    [`WebhookOutcome::Refreshed`];
    /// 2. ours with another filter or events → deleted and registered again →
    ///    [`WebhookOutcome::Repaired`];
    /// 3. none → registered → [`WebhookOutcome::Created`]. Jira answers a registration with
    ///    `200` and a per-webhook result: any `errors` there fail this call.
    ///
    /// The secret cannot be read back, so an existing webhook's secret is never checked.
    pub async fn ensure_webhook(
        &self,
        app_host: &str,
        options: &WebhookOptions,
    ) -> Result<WebhookOutcome> {
        let url = webhook_url(app_host)?;
        if self.is_oauth() {
            return self.ensure_dynamic_webhook(&url).await;
        }
        match self.ensure_admin_webhook(&url, options).await {
            Err(e) if is_forbidden(&e) => {
                tracing::warn!(error = %e, "Jira refused to manage webhooks: live events stay off");
                Ok(WebhookOutcome::NoPermission)
            }
            outcome => outcome,
        }
    }

    async fn ensure_admin_webhook(
        &self,
        url: &str,
        options: &WebhookOptions,
    ) -> Result<WebhookOutcome> {
        if !self.has_webhook_permission().await? {
            tracing::warn!(
                url,
                "registering a Jira webhook needs the Jira Administrator permission: live events stay off"
            );
            return Ok(WebhookOutcome::NoPermission);
        }
        let hooks = AdminWebhook::fetch_all(&self.core).await?;
        let mut ours = hooks.iter().filter(|h| same_url(&h.url, url));
        let Some(hook) = ours.next() else {
            let mut body = json!({
                "name": options.webhook_name(),
                "url": url,
                "events": WEBHOOK_EVENTS,
                "excludeBody": false,
            });
            if let Some(secret) = &options.secret {
                body["secret"] = secret.expose().into();
            }
            self.core
                .post("/rest/webhooks/1.0/webhook")
                .json(&body)
                .send()
                .await?;
            tracing::info!(url, name = %options.webhook_name(), "created the Jira webhook");
            return Ok(WebhookOutcome::Created);
        };
        if ours.next().is_some() {
            tracing::warn!(
                url,
                "several Jira webhooks point at this URL: only the first is checked"
            );
        }
        if let Some(filter) = hook.jql_filter() {
            tracing::warn!(
                url,
                filter,
                "the Jira webhook has a JQL filter: events of issues outside it never arrive"
            );
        }
        let problems = hook.problems();
        if problems.is_empty() {
            return Ok(WebhookOutcome::AlreadyExists);
        }
        let id = hook.id()?;
        let mut body = json!({
            "name": hook.name.clone().unwrap_or_else(|| options.webhook_name()),
            "url": url,
            "events": WEBHOOK_EVENTS,
            "excludeBody": false,
            "enabled": true,
        });
        if let Some(filters) = &hook.filters {
            body["filters"] = Value::Object(filters.clone());
        }
        if let Some(secret) = &options.secret {
            body["secret"] = secret.expose().into();
        }
        self.core
            .put(format!("/rest/webhooks/1.0/webhook/{}", path_segment(id)))
            .json(&body)
            .send()
            .await?;
        tracing::warn!(url, id, problems = %problems.join("; "), "repaired the Jira webhook");
        Ok(WebhookOutcome::Repaired)
    }

    async fn ensure_dynamic_webhook(&self, url: &str) -> Result<WebhookOutcome> {
        let hooks = DynamicWebhook::fetch_all(&self.core).await?;
        let (ours, others): (Vec<_>, Vec<_>) = hooks.iter().partition(|h| same_url(&h.url, url));
        if ours.is_empty() {
            if let Some(other) = others.first() {
                tracing::warn!(
                    url,
                    existing = %other.url,
                    "this OAuth app already has a webhook for another URL; Jira allows one URL per app"
                );
            }
            self.register_dynamic_webhook(url).await?;
            return Ok(WebhookOutcome::Created);
        }
        let ids: Vec<i64> = ours.iter().map(|h| h.id).collect();
        let covered = event_set(
            ours.iter()
                .filter(|h| h.jql_filter.as_deref() == Some(MATCH_ALL_JQL))
                .flat_map(|h| h.events.iter().map(String::as_str)),
        );
        if !event_set(OAUTH_WEBHOOK_EVENTS).is_subset(&covered) {
            tracing::warn!(
                url,
                ?ids,
                "the app's Jira webhook misses events or filters issues: registering it again"
            );
            self.core
                .delete("/rest/api/3/webhook")
                .json(&json!({ "webhookIds": ids }))
                .send()
                .await?;
            self.register_dynamic_webhook(url).await?;
            return Ok(WebhookOutcome::Repaired);
        }
        let refreshed: RefreshResult = self
            .core
            .put("/rest/api/3/webhook/refresh")
            .json(&json!({ "webhookIds": ids }))
            .send_json()
            .await?;
        let expires = refreshed
            .expiration_date
            .as_ref()
            .and_then(Expiration::to_datetime);
        tracing::info!(url, ?ids, expires = ?expires, "refreshed the Jira webhook");
        Ok(WebhookOutcome::Refreshed)
    }

    /// Registers the app's dynamic webhook(s) and reads Jira's answer one webhook at a
    /// time: every created id is kept and reported, every failure is named, and only a
    /// registration that set up nothing is an error, naming the Jira endpoint called.
    async fn register_dynamic_webhook(&self, url: &str) -> Result<Vec<i64>> {
        const PATH: &str = "/rest/api/3/webhook";
        let body = json!({
            "url": url,
            "webhooks": [{ "events": OAUTH_WEBHOOK_EVENTS, "jqlFilter": MATCH_ALL_JQL }],
        });
        let results: RegistrationResults = self.core.post(PATH).json(&body).send_json().await?;
        let endpoint = self
            .core
            .url(PATH)
            .map_or(PATH.to_owned(), |u| u.to_string());
        let outcome = read_registration(&results.webhook_registration_result);
        if outcome.created.is_empty() {
            let why = if outcome.failed.is_empty() {
                "Jira created no webhook and gave no reason".to_owned()
            } else {
                outcome.failed.join("; ")
            };
            return Err(ocean_core::Error::Api {
                url: endpoint,
                message: format!("Jira rejected the webhook for {url}: {why}"),
            });
        }
        if !outcome.failed.is_empty() {
            tracing::warn!(
                endpoint,
                url,
                ids = ?outcome.created,
                failed = %outcome.failed.join("; "),
                "Jira registered only some of the webhooks: the created ones are kept"
            );
        }
        tracing::info!(url, ids = ?outcome.created, "registered the Jira webhook");
        Ok(outcome.created)
    }
}

/// Jira's answer to a registration, webhook by webhook.
#[derive(Debug, PartialEq)]
struct RegistrationOutcome {
    /// The ids of the webhooks Jira created.
    created: Vec<i64>,
    /// One line per webhook Jira did not create: which one, and why.
    failed: Vec<String>,
}

fn read_registration(results: &[Registration]) -> RegistrationOutcome {
    let mut outcome = RegistrationOutcome {
        created: Vec::new(),
        failed: Vec::new(),
    };
    for (n, result) in results.iter().enumerate() {
        let which = format!("webhook {} of {}", n + 1, results.len());
        match result.created_webhook_id {
            Some(id) => {
                outcome.created.push(id);
                if !result.errors.is_empty() {
                    tracing::warn!(id, errors = %result.errors.join("; "), "{which} was created with errors");
                }
            }
            None if result.errors.is_empty() => {
                outcome
                    .failed
                    .push(format!("{which}: not created, no reason given"));
            }
            None => outcome
                .failed
                .push(format!("{which}: {}", result.errors.join("; "))),
        }
    }
    outcome
}

#[cfg(test)]
#[path = "../../../tests/conformance/spec.rs"]
mod spec;

#[cfg(test)]
mod tests {
    use super::*;

    /// The webhook types are private, so their schema check lives here.
    #[test]
    fn webhook_models_hold_their_schemas_range() {
        let spec = spec::Spec::load(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
            "jira-platform-v3.json",
        );
        let mut failures = Vec::new();
        failures.extend(spec::check::<DynamicWebhook>(
            &spec,
            "Webhook",
            "DynamicWebhook",
        ));
        failures.extend(spec::check::<Registration>(
            &spec,
            "RegisteredWebhook",
            "Registration",
        ));
        spec::assert_conforms(failures);
    }

    #[test]
    fn the_event_lists_have_no_duplicates() {
        assert_eq!(event_set(WEBHOOK_EVENTS).len(), 29);
        assert!(event_set(OAUTH_WEBHOOK_EVENTS).is_subset(&event_set(WEBHOOK_EVENTS)));
    }

    #[test]
    fn webhook_urls_are_built_and_compared_without_trailing_slashes() {
        assert_eq!(
            webhook_url("https://app.example.com/").unwrap(),
            "https://app.example.com/integration/webhook"
        );
        assert!(webhook_url("app.example.com").is_err());
        assert!(same_url(
            "https://a/integration/webhook/",
            "https://a/integration/webhook"
        ));
    }

    #[test]
    fn expiration_dates_are_millis_or_text() {
        let millis: RefreshResult =
            serde_json::from_str(r#"{"expirationDate":1559392950000}"#).unwrap();
        let text: RefreshResult = serde_json::from_str(include_str!(
            "../tests/fixtures/jira-webhook-refresh-result.json"
        ))
        .unwrap();
        let (a, b) = (
            millis.expiration_date.unwrap(),
            text.expiration_date.unwrap(),
        );
        assert_eq!(a.to_datetime(), b.to_datetime());
        assert!(a.to_datetime().is_some());
    }

    #[test]
    fn registration_results_are_read_one_webhook_at_a_time() {
        let results: RegistrationResults = serde_json::from_str(include_str!(
            "../tests/fixtures/jira-webhook-register-result.json"
        ))
        .unwrap();
        let outcome = read_registration(&results.webhook_registration_result);
        assert_eq!(
            outcome,
            RegistrationOutcome {
                created: vec![1000, 1001],
                failed: vec!["webhook 2 of 3: The clause watchCount is unsupported".into()],
            }
        );
        let none: RegistrationResults =
            serde_json::from_str(r#"{"webhookRegistrationResult":[{}]}"#).unwrap();
        let outcome = read_registration(&none.webhook_registration_result);
        assert!(outcome.created.is_empty());
        assert_eq!(
            outcome.failed,
            ["webhook 1 of 1: not created, no reason given"]
        );
    }

    #[test]
    fn admin_webhook_problems_and_id() {
        let hooks: Vec<AdminWebhook> = serde_json::from_str(include_str!(
            "../tests/fixtures/jira-admin-webhook-list.json"
        ))
        .unwrap();
        let hook = &hooks[0];
        assert_eq!(hook.id().unwrap(), "1");
        assert_eq!(
            hook.jql_filter(),
            Some("project = JRA AND resolution = Fixed")
        );
        let problems = hook.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("it lacks the events"));
    }
}
