//! Registered Jira webhooks and the delivery of events to every receiver.

use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::json::object;
use crate::stats::Counters;

/// Events a dynamic (`/rest/api/3/webhook`) registration may subscribe to.
pub(crate) const DYNAMIC_EVENTS: &[&str] = &[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
];

/// Dynamic webhooks expire this long after registration or refresh.
pub(crate) const DYNAMIC_TTL_MS: i64 = 30 * 86_400_000;

/// An admin webhook (`/rest/webhooks/1.0/webhook`).
#[derive(Debug, Clone)]
pub(crate) struct AdminWebhook {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) events: Vec<String>,
    pub(crate) jql: Option<String>,
    pub(crate) exclude_body: bool,
    pub(crate) enabled: bool,
    pub(crate) secret: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) last_updated_ms: i64,
}

impl AdminWebhook {
    /// The webhook object as the API shows it. The secret is never echoed.
    pub(crate) fn render(&self, jira_base: &str) -> Vec<u8> {
        object(600, |o| {
            o.str("name", &self.name)
                .str("url", &self.url)
                .bool("excludeBody", self.exclude_body);
            o.obj("filters", |f| {
                f.str(
                    "issue-related-events-section",
                    self.jql.as_deref().unwrap_or(""),
                );
            });
            o.strs("events", &self.events).bool("enabled", self.enabled);
            if let Some(d) = &self.description {
                o.str("description", d);
            }
            o.str(
                "self",
                &format!("{jira_base}/rest/webhooks/1.0/webhook/{}", self.id),
            )
            .str("lastUpdatedUser", "5b10a2844c20165700ede21g")
            .str("lastUpdatedDisplayName", "Demo User")
            .num("lastUpdated", self.last_updated_ms);
        })
    }
}

/// A dynamic webhook (`/rest/api/3/webhook`).
#[derive(Debug, Clone)]
pub(crate) struct DynamicWebhook {
    pub(crate) id: u64,
    pub(crate) url: String,
    pub(crate) events: Vec<String>,
    pub(crate) jql_filter: String,
    pub(crate) field_ids_filter: Option<Vec<String>>,
    pub(crate) issue_property_keys_filter: Option<Vec<String>>,
    /// Epoch milliseconds (the schema's int64 representation).
    pub(crate) expiration_ms: i64,
}

impl DynamicWebhook {
    pub(crate) fn render(&self) -> Vec<u8> {
        object(400, |o| {
            o.num("id", self.id)
                .str("url", &self.url)
                .strs("events", &self.events);
            o.str("jqlFilter", &self.jql_filter);
            if let Some(f) = &self.field_ids_filter {
                o.strs("fieldIdsFilter", f);
            }
            if let Some(f) = &self.issue_property_keys_filter {
                o.strs("issuePropertyKeysFilter", f);
            }
            o.num("expirationDate", self.expiration_ms);
        })
    }
}

/// Every Jira webhook registered so far.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) admin: Vec<AdminWebhook>,
    pub(crate) dynamic: Vec<DynamicWebhook>,
    pub(crate) next_admin: u64,
    pub(crate) next_dynamic: u64,
    /// Counter for `X-Atlassian-Webhook-Identifier`.
    pub(crate) next_delivery: u64,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            next_admin: 1,
            next_dynamic: 10_000,
            next_delivery: 1,
            ..Registry::default()
        }
    }
}

/// One HTTP POST to make.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) url: String,
    pub(crate) body: Bytes,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
}

/// The result of one webhook POST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Where the event was POSTed.
    pub url: String,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why the POST failed (connection refused, timeout), if it did.
    pub error: Option<String>,
}

impl Delivery {
    /// Whether the receiver answered 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the `X-Hub-Signature` value.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// POSTs every outgoing event and waits for all of them. Receivers are served concurrently;
/// each receiver gets its events one at a time, in order (like the products' delivery queues).
pub(crate) async fn deliver(
    client: &reqwest::Client,
    outgoing: Vec<Outgoing>,
    counters: &std::sync::Arc<Counters>,
) -> Vec<Delivery> {
    let mut queues: Vec<(String, Vec<(usize, Outgoing)>)> = Vec::new();
    for (i, out) in outgoing.into_iter().enumerate() {
        match queues.iter_mut().find(|(url, _)| *url == out.url) {
            Some((_, q)) => q.push((i, out)),
            None => queues.push((out.url.clone(), vec![(i, out)])),
        }
    }
    let mut set = tokio::task::JoinSet::new();
    for (_, queue) in queues {
        let client = client.clone();
        let counters = counters.clone();
        set.spawn(async move {
            let mut results = Vec::with_capacity(queue.len());
            for (i, out) in queue {
                results.push((i, post(&client, out, &counters).await));
            }
            results
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            results.extend(r);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, d)| d).collect()
}

async fn post(client: &reqwest::Client, out: Outgoing, counters: &Counters) -> Delivery {
    let mut req = client.post(&out.url).timeout(out.timeout).body(out.body);
    for (k, v) in &out.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let delivery = match req.send().await {
        Ok(resp) => Delivery {
            url: out.url,
            status: Some(resp.status().as_u16()),
            error: None,
        },
        Err(e) => Delivery {
            url: out.url,
            status: None,
            error: Some(e.to_string()),
        },
    };
    if delivery.ok() {
        Counters::bump(&counters.webhooks_delivered);
    } else {
        tracing::warn!(url = %delivery.url, status = ?delivery.status, error = ?delivery.error, "webhook delivery failed");
        Counters::bump(&counters.webhooks_failed);
    }
    delivery
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn admin_webhook_never_echoes_its_secret() {
        let hook = AdminWebhook {
            id: 3,
            name: "n".into(),
            url: "http://r/x".into(),
            events: vec!["jira:issue_updated".into()],
            jql: Some("project = A".into()),
            exclude_body: false,
            enabled: true,
            secret: Some("top-secret".into()),
            description: None,
            last_updated_ms: 1,
        };
        let json = String::from_utf8(hook.render("http://h/jira")).unwrap();
        assert!(!json.contains("top-secret"));
        assert!(json.contains("\"self\":\"http://h/jira/rest/webhooks/1.0/webhook/3\""));
    }
}
