//! A webhook source whose provider names the event in a header, not in the body, for the
//! receivers' tests (`ocean-listen`, `ocean-serve`): it reads the body that
//! `WebhookSource::delivery_body` folds the `x-event` header into.

use std::borrow::Cow;

use futures::future::BoxFuture;
use ocean_core::RawItem;
use ocean_core::reqwest::header::HeaderMap;
use ocean_core::webhook::{
    Action, Change, JsonNode, ParseError, PendingChange, VerifyError, WebhookEvent, WebhookSource,
    fold_headers, unfold,
};

/// The header naming a delivery's event: `removed` deletes the widget, any other upserts it.
pub const EVENT_HEADER: &str = "x-event";

/// Deliveries of `widget` changes, `{"id": …}` with the event in [`EVENT_HEADER`]; a
/// widget fetched again is `{"id": …, "fetched": true}`. Nothing is verified.
pub struct HeaderNamed;

impl WebhookSource for HeaderNamed {
    fn provider(&self) -> &'static str {
        "widgets"
    }

    fn verifies(&self) -> bool {
        false
    }

    fn verify(&self, _: &HeaderMap, _: &[u8]) -> Result<(), VerifyError> {
        Ok(())
    }

    fn delivery_body<'a>(&self, headers: &HeaderMap, body: &'a [u8]) -> Cow<'a, [u8]> {
        Cow::Owned(fold_headers(headers, &[EVENT_HEADER], body))
    }

    fn parse(&self, body: &[u8]) -> Result<WebhookEvent, ParseError> {
        let (event, body) = unfold(body, EVENT_HEADER)?;
        let action = match event.as_str() {
            "removed" => Action::Delete,
            _ => Action::Upsert,
        };
        let id = JsonNode::root(&body).id("id")?;
        let change = Change {
            kind: "widget",
            action,
            id,
            parent: None,
        };
        Ok(WebhookEvent::Changes {
            event,
            changes: vec![change.into()],
        })
    }

    fn fetch<'a>(
        &'a self,
        change: &'a PendingChange,
    ) -> BoxFuture<'a, ocean_core::Result<Option<RawItem>>> {
        let widget = serde_json::json!({ "id": change.change.id, "fetched": true });
        let item = serde_json::value::to_raw_value(&widget);
        Box::pin(async move {
            item.map(Some)
                .map_err(|e| ocean_core::Error::Config(e.to_string()))
        })
    }
}
