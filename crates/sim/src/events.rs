//! Webhook payloads in the products' shapes, and who receives them.
//!
//! Jira: `jira-webhook-event-issue-updated.json` (`{timestamp, webhookEvent,
//! issue_event_type_name, user, issue, changelog}`; entity events carry `project`, `version`,
//! `sprint`, `board`, `user` or `worklog` instead of `issue`). Octopus:
//! `octopus-subscription-event-2023.json` (`{Timestamp, EventType: "SubscriptionPayload",
//! Payload{..., Subscription, Event}}`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::data::jira::JiraData;
use crate::data::octopus::OctopusData;
use crate::jql::{self, IssueFacts};
use crate::rng::Rng;
use crate::time;
use crate::webhooks::{Outgoing, Registry, signature};

const JIRA_TIMEOUT: Duration = Duration::from_secs(10);

/// A Jira webhook event, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct JiraEvent {
    pub(crate) name: String,
    pub(crate) body: Value,
    /// `(id, key, project key)` of the issue, for JQL-filtered webhooks.
    pub(crate) issue: Option<(String, String, String)>,
}

impl JiraEvent {
    /// `jira:issue_*`: `issue` is the full issue (its `expand` is dropped, like the real payload).
    pub(crate) fn issue(
        name: &str,
        type_name: &str,
        actor: Value,
        mut issue: Value,
        project_key: &str,
        changelog: Option<Value>,
    ) -> Self {
        if let Some(obj) = issue.as_object_mut() {
            obj.remove("expand");
        }
        let id = issue["id"].as_str().unwrap_or_default().to_owned();
        let key = issue["key"].as_str().unwrap_or_default().to_owned();
        let mut body = json!({
            "timestamp": time::now_ms(),
            "webhookEvent": name,
            "issue_event_type_name": type_name,
            "user": actor,
            "issue": issue,
        });
        if let Some(changelog) = changelog {
            body["changelog"] = changelog;
        }
        JiraEvent {
            name: name.to_owned(),
            body,
            issue: Some((id, key, project_key.to_owned())),
        }
    }

    /// Entity events: `{timestamp, webhookEvent, <field>: value}` plus optional extras.
    pub(crate) fn entity(name: &str, field: &str, value: Value, extra: Vec<(&str, Value)>) -> Self {
        let mut body = json!({ "timestamp": time::now_ms(), "webhookEvent": name });
        body[field] = value;
        for (k, v) in extra {
            body[k] = v;
        }
        JiraEvent {
            name: name.to_owned(),
            body,
            issue: None,
        }
    }
}

/// The acting user as webhook payloads show it.
pub(crate) fn actor(jira: &JiraData) -> Value {
    let mut user: Value = serde_json::from_slice(&jira.people[0].short).unwrap_or(Value::Null);
    user["timeZone"] = json!("Europe/Paris");
    user
}

fn filter_matches(
    filter: Option<&str>,
    issue: Option<&(String, String, String)>,
    jira: &JiraData,
) -> bool {
    let (Some(filter), Some((id, key, project))) = (filter.filter(|f| !f.trim().is_empty()), issue)
    else {
        return true;
    };
    match jql::parse(filter) {
        // Date clauses cannot be told for an event (no dates passed): they do not hold back.
        Ok(q) => q.matches(
            &IssueFacts {
                id,
                key,
                project_key: project,
                created_ms: None,
                updated_ms: None,
            },
            &|v, k| jira.project_matches(v, k),
            time::now_ms(),
        ),
        // A filter the simulator cannot parse does not hold deliveries back.
        Err(_) => true,
    }
}

/// The POSTs an event causes: every enabled admin webhook subscribed to it (signed when it has
/// a secret) and every unexpired dynamic webhook subscribed to it, both filtered by their JQL.
pub(crate) fn jira_outgoing(
    registry: &mut Registry,
    jira: &JiraData,
    ev: &JiraEvent,
) -> Vec<Outgoing> {
    let body = serde_json::to_vec(&ev.body).expect("event bodies serialize");
    let now = time::now_ms();
    let mut targets: Vec<(String, Option<String>, bool)> = Vec::new();
    for hook in &registry.admin {
        let subscribed = hook.events.is_empty() || hook.events.contains(&ev.name);
        if hook.enabled
            && subscribed
            && filter_matches(hook.jql.as_deref(), ev.issue.as_ref(), jira)
        {
            targets.push((hook.url.clone(), hook.secret.clone(), hook.exclude_body));
        }
    }
    for hook in &registry.dynamic {
        let subscribed = hook.events.contains(&ev.name);
        if subscribed
            && hook.expiration_ms > now
            && filter_matches(Some(&hook.jql_filter), ev.issue.as_ref(), jira)
        {
            targets.push((hook.url.clone(), None, false));
        }
    }
    targets
        .into_iter()
        .map(|(url, secret, exclude_body)| {
            let id = registry.next_delivery;
            registry.next_delivery += 1;
            let body = if exclude_body {
                Vec::new()
            } else {
                body.clone()
            };
            let mut headers = vec![
                (
                    "content-type".to_owned(),
                    "application/json; charset=utf-8".to_owned(),
                ),
                (
                    "user-agent".to_owned(),
                    "Atlassian Webhook HTTP Client".to_owned(),
                ),
                ("x-atlassian-webhook-identifier".to_owned(), id.to_string()),
                ("x-atlassian-webhook-flow".to_owned(), "Primary".to_owned()),
                ("x-atlassian-webhook-retry".to_owned(), "0".to_owned()),
            ];
            if let Some(secret) = secret.filter(|s| !s.is_empty()) {
                headers.push(("x-hub-signature".to_owned(), signature(&secret, &body)));
            }
            Outgoing {
                url,
                body: body.into(),
                headers,
                timeout: JIRA_TIMEOUT,
            }
        })
        .collect()
}

/// An Octopus event (one audit-log entry).
#[derive(Debug, Clone)]
pub(crate) struct OctopusEvent {
    pub(crate) space: String,
    pub(crate) category: String,
    pub(crate) message: String,
    pub(crate) related: Vec<String>,
    /// `ChangeDetails.DocumentContext`: the document created, modified or deleted.
    pub(crate) document: Option<Value>,
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn subscription_matches(filter: &Value, ev: &OctopusEvent) -> bool {
    let categories = str_list(&filter["EventCategories"]);
    if !categories.is_empty() && !categories.contains(&ev.category) {
        return false;
    }
    for field in ["Projects", "Environments"] {
        let ids = str_list(&filter[field]);
        if !ids.is_empty() && !ev.related.iter().any(|r| ids.contains(r)) {
            return false;
        }
    }
    let types = str_list(&filter["DocumentTypes"]);
    let type_of = |id: &str| id.split('-').next().unwrap_or_default().to_owned();
    types.is_empty() || ev.related.iter().any(|r| types.contains(&type_of(r)))
}

/// Parses a .NET TimeSpan `hh:mm:ss`.
fn timespan(s: &str) -> Option<Duration> {
    let parts: Vec<u64> = s
        .split(':')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    match parts[..] {
        [h, m, s] => Some(Duration::from_secs(h * 3600 + m * 60 + s)),
        _ => None,
    }
}

/// The POSTs a batch of events causes: one per event per enabled subscription of the event's
/// space whose filter matches, with the subscription's `WebhookHeaderKey: WebhookHeaderValue`.
pub(crate) fn octopus_outgoing(
    octopus: &mut OctopusData,
    events: &[OctopusEvent],
) -> Vec<Outgoing> {
    let Some(space) = events.first().map(|e| e.space.clone()) else {
        return Vec::new();
    };
    octopus.next.event += 1;
    let batch_id = Rng::new(octopus.seed, "octopus.batch", octopus.next.event).guid();
    let now = time::octopus(time::now_ms());
    let mut numbered = Vec::with_capacity(events.len());
    for ev in events {
        octopus.next.event += 1;
        numbered.push((format!("Events-{}", octopus.next.event), ev));
    }
    let mut out = Vec::new();
    for row in octopus.subscriptions.served(&space) {
        let Ok(sub) = serde_json::from_slice::<Value>(&row.json()) else {
            continue;
        };
        if sub["IsDisabled"].as_bool().unwrap_or(false) {
            continue;
        }
        let ens = &sub["EventNotificationSubscription"];
        let Some(url) = ens["WebhookURI"].as_str().filter(|u| !u.is_empty()) else {
            continue;
        };
        let matching: Vec<&(String, &OctopusEvent)> = numbered
            .iter()
            .filter(|(_, ev)| subscription_matches(&ens["Filter"], ev))
            .collect();
        let timeout = ens["WebhookTimeout"]
            .as_str()
            .and_then(timespan)
            .unwrap_or(Duration::from_secs(10));
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let (Some(k), Some(v)) = (
            ens["WebhookHeaderKey"].as_str(),
            ens["WebhookHeaderValue"].as_str(),
        ) {
            if !k.is_empty() {
                headers.push((k.to_owned(), v.to_owned()));
            }
        }
        // Real payloads echo the subscription with the header value hidden.
        let mut echoed = sub.clone();
        echoed["EventNotificationSubscription"]["WebhookHeaderValue"] = Value::Null;
        for (n, (event_id, ev)) in matching.iter().enumerate() {
            let body = json!({
                "Timestamp": now,
                "EventType": "SubscriptionPayload",
                "Payload": {
                    "ServerUri": octopus.base,
                    "ServerAuditUri": format!("{}/app#/{}/configuration/audit?eventCategories={}", octopus.base, ev.space, ev.category),
                    "BatchProcessingDate": now,
                    "Subscription": echoed,
                    "Event": {
                        "Id": event_id,
                        "RelatedDocumentIds": ev.related,
                        "Category": ev.category,
                        "UserId": "users-system",
                        "Username": "system",
                        "IsService": false,
                        "IdentityEstablishedWith": "",
                        "UserAgent": "Server",
                        "Occurred": now,
                        "Message": ev.message,
                        "MessageHtml": ev.message,
                        "MessageReferences": [],
                        "Comments": null,
                        "Details": null,
                        "ChangeDetails": { "DocumentContext": ev.document, "Differences": null },
                        "IpAddress": null,
                        "SpaceId": ev.space,
                        "Links": { "Self": format!("/api/events/{event_id}") },
                    },
                    "BatchId": batch_id,
                    "TotalEventsInBatch": matching.len(),
                    "EventNumberInBatch": n + 1,
                },
            });
            out.push(Outgoing {
                url: url.to_owned(),
                body: serde_json::to_vec(&body)
                    .expect("event bodies serialize")
                    .into(),
                headers: headers.clone(),
                timeout,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_filters() {
        let ev = OctopusEvent {
            space: "Spaces-1".into(),
            category: "DeploymentQueued".into(),
            message: String::new(),
            related: vec![
                "Deployments-1".into(),
                "Projects-2".into(),
                "Environments-3".into(),
            ],
            document: None,
        };
        assert!(subscription_matches(&json!({}), &ev));
        assert!(subscription_matches(
            &json!({"EventCategories": ["DeploymentQueued"]}),
            &ev
        ));
        assert!(!subscription_matches(
            &json!({"EventCategories": ["DeploymentFailed"]}),
            &ev
        ));
        assert!(subscription_matches(
            &json!({"Projects": ["Projects-2"]}),
            &ev
        ));
        assert!(!subscription_matches(
            &json!({"Environments": ["Environments-9"]}),
            &ev
        ));
        assert!(subscription_matches(
            &json!({"DocumentTypes": ["Deployments"]}),
            &ev
        ));
        assert_eq!(timespan("00:00:50"), Some(Duration::from_secs(50)));
        assert_eq!(timespan("bad"), None);
    }
}
