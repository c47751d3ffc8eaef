//! A source whose provider names the event in a header, through `ocean serve`: the intake
//! queues what `WebhookSource::delivery_body` gives, so the worker, which reads the queued
//! bytes without the request's headers, still knows the event.

#[path = "../../../tests/support/header_named.rs"]
mod header_named;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use header_named::HeaderNamed;
use ocean_core::{Client, KindInfo, Provider, Record, Result};
use ocean_serve::{Options, Service, Tenant};

static KINDS: [KindInfo; 1] = [KindInfo {
    name: "widget",
    id_field: "id",
    parent: None,
    incremental: false,
    census: false,
}];

/// A provider with no widgets to list: they arrive by webhook only.
struct Widgets {
    client: Client,
    tenant: String,
}

impl Provider for Widgets {
    fn name(&self) -> &'static str {
        "widgets"
    }
    fn tenant(&self) -> String {
        self.tenant.clone()
    }
    fn client(&self) -> &Client {
        &self.client
    }
    fn kinds(&self) -> &'static [KindInfo] {
        &KINDS
    }
    fn full(&self, _kind: &str, _resume: Option<&str>) -> BoxStream<'static, Result<Record>> {
        Box::pin(futures::stream::empty())
    }
    fn fetch_one(&self, _kind: &str, _id: &str) -> BoxFuture<'static, Result<Option<Record>>> {
        Box::pin(async { Ok(None) })
    }
}

#[tokio::test]
async fn a_queued_delivery_keeps_the_event_its_header_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("sqlite:{}", dir.path().join("w.db").display());
    let store: Arc<dyn ocean_store::Store> = ocean_store::open(&spec).await.unwrap().into();
    let tenant = format!("https://widgets-{}.example", std::process::id());
    let provider = Arc::new(Widgets {
        client: Client::builder("http://127.0.0.1:9").build().unwrap(),
        tenant: tenant.clone(),
    });
    let mut options = Options::default();
    options.bind = "127.0.0.1:0".parse().unwrap();
    options.admin_bind = Some("127.0.0.1:0".parse().unwrap());
    options.queue_poll = Duration::from_millis(50);
    let tenants = vec![Tenant::new("widgets", provider, Arc::new(HeaderNamed))];
    let service = Service::bind(Arc::clone(&store), tenants, options)
        .await
        .unwrap();
    let url = format!("http://{}/integration/webhook", service.webhook_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));

    let http = ocean_core::reqwest::Client::new();
    let post = |event: Option<&str>, body: &'static str| {
        let request = http.post(&url).body(body);
        match event {
            Some(event) => request.header("x-event", event),
            None => request,
        }
        .send()
    };
    let refused = post(None, r#"{"id":"w0"}"#).await.unwrap();
    assert_eq!(
        refused.status().as_u16(),
        400,
        "no event header, nothing queued"
    );
    let accepted = post(Some("changed"), r#"{"id":"w7"}"#).await.unwrap();
    assert_eq!(accepted.status().as_u16(), 202);

    let filter = ocean_store::ExportFilter {
        provider: Some("widgets".into()),
        kinds: vec!["widget".into()],
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let items = loop {
        let items: Vec<(String, String)> = store
            .export(filter.clone())
            .try_filter(|i| std::future::ready(i.tenant == tenant))
            .map_ok(|i| (i.id, i.json))
            .try_collect()
            .await
            .unwrap();
        if !items.is_empty() || Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].0, "w7");
    assert!(items[0].1.contains(r#""fetched":true"#), "{items:?}");
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
