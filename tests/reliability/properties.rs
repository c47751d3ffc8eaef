//! Pagination arithmetic as properties (issue 8): whatever page sizes the server chooses
//! (per request, at most what was asked) and whatever the total, offset and skip/take
//! pagination yield every item exactly once, in order, with prefetch on and off.
//!
//! Each case runs a real stream against the scripted server on loopback; case counts are
//! kept small so the whole file runs in a few seconds.

mod support;

use std::sync::{Arc, LazyLock, Mutex};

use futures::TryStreamExt;
use ocean_core::{Client, Endpoint, ListRequest, Pagination, RetryPolicy};
use proptest::prelude::*;
use serde_json::json;
use support::{Reply, Seen, Server};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

/// What a fake server does: how many items it holds, and the page sizes it picks.
#[derive(Clone, Debug)]
struct Scenario {
    items: u64,
    /// The server answers a request at offset `o` with at most `sizes[o % len]` items
    /// (and never more than asked).
    sizes: Vec<u64>,
}

impl Scenario {
    /// The items the page at `offset` holds when `asked` were asked for.
    fn page(&self, offset: u64, asked: u64) -> Vec<u64> {
        let size = self.sizes[(offset % self.sizes.len() as u64) as usize].clamp(1, asked.max(1));
        (offset.min(self.items)..(offset + size).min(self.items)).collect()
    }
}

/// Which end markers a Jira-style offset server sends (it always sends at least one:
/// without either, a short page is the end by the strategy's rule).
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
enum OffsetMarkers {
    Total,
    IsLast,
    Both,
}

fn offset_reply(s: &Scenario, markers: OffsetMarkers, req: &Seen) -> Reply {
    let start = req.query_u64("startAt").unwrap_or(0);
    let asked = req.query_u64("maxResults").unwrap_or(0);
    let values = s.page(start, asked);
    let end = start + values.len() as u64;
    let mut page = json!({"startAt": start, "maxResults": asked, "values": values});
    if matches!(markers, OffsetMarkers::Total | OffsetMarkers::Both) {
        page["total"] = json!(s.items);
    }
    if matches!(markers, OffsetMarkers::IsLast | OffsetMarkers::Both) {
        page["isLast"] = json!(end >= s.items);
    }
    Reply::json(200, page)
}

/// Which envelope fields an Octopus-style skip/take server sends, each one true to what
/// it returned: `Links["Page.Next"]` when items remain after this page, `TotalResults`,
/// and `LastPageNumber` (only with full pages, the one case where page numbers are
/// meaningful).
#[derive(Clone, Copy, Debug)]
enum SkipTakeMarkers {
    LinksAndTotal,
    TotalOnly,
    Everything,
}

fn skip_take_reply(s: &Scenario, markers: SkipTakeMarkers, req: &Seen) -> Reply {
    let skip = req.query_u64("skip").unwrap_or(0);
    let take = req.query_u64("take").unwrap_or(0);
    let items = match markers {
        SkipTakeMarkers::Everything => (skip.min(s.items)..(skip + take).min(s.items)).collect(),
        _ => s.page(skip, take),
    };
    let end = skip + items.len() as u64;
    let mut page = json!({"ItemType": "Thing", "TotalResults": s.items, "Items": items});
    if !matches!(markers, SkipTakeMarkers::TotalOnly) {
        let mut links = json!({"Self": format!("/things?skip={skip}&take={take}")});
        if end < s.items {
            links["Page.Next"] = json!(format!("/things?skip={end}&take={take}"));
        }
        page["Links"] = links;
    }
    if matches!(markers, SkipTakeMarkers::Everything) {
        let pages = s.items.div_ceil(take.max(1));
        page["LastPageNumber"] = json!(pages.saturating_sub(1));
        page["NumberOfPages"] = json!(pages);
        page["ItemsPerPage"] = json!(take);
    }
    Reply::json(200, page)
}

fn collect(
    fake: &Fake,
    pagination: Pagination,
    items_key: &str,
    limit: u32,
    prefetch: bool,
    concurrency: usize,
) -> Vec<u64> {
    let client = &fake.clients[concurrency - 1];
    let endpoint = Endpoint::new("thing", "/things")
        .items(items_key.to_owned())
        .paginate(pagination)
        .page_size(limit);
    let stream = ListRequest::<u64>::new(client, endpoint)
        .prefetch(prefetch)
        .stream();
    RUNTIME.block_on(async {
        support::within(20, stream.try_collect::<Vec<u64>>())
            .await
            .unwrap()
    })
}

/// One server per property, answering from the scenario of the case being run.
struct Fake {
    _server: Server,
    scenario: Arc<Mutex<(Scenario, Markers)>>,
    /// Clients of the server with 1 to 4 requests in flight (building one per case would
    /// cost more than the case).
    clients: Vec<Client>,
}

#[derive(Clone, Copy, Debug)]
enum Markers {
    Offset(OffsetMarkers),
    SkipTake(SkipTakeMarkers),
}

impl Fake {
    fn start() -> Self {
        let scenario = Arc::new(Mutex::new((
            Scenario {
                items: 0,
                sizes: vec![1],
            },
            Markers::Offset(OffsetMarkers::Both),
        )));
        let current = scenario.clone();
        let server = Server::start(move |_, req| {
            let (s, markers) = current.lock().unwrap().clone();
            match markers {
                Markers::Offset(m) => offset_reply(&s, m, req),
                Markers::SkipTake(m) => skip_take_reply(&s, m, req),
            }
        });
        let clients = (1..=4)
            .map(|n| {
                Client::builder(&server.url)
                    .retry(RetryPolicy::none())
                    .max_concurrency(n)
                    .build()
                    .unwrap()
            })
            .collect();
        Self {
            _server: server,
            scenario,
            clients,
        }
    }

    fn set(&self, s: &Scenario, markers: Markers) {
        *self.scenario.lock().unwrap() = (s.clone(), markers);
    }
}

static OFFSET_SERVER: LazyLock<Fake> = LazyLock::new(Fake::start);
static SKIP_TAKE_SERVER: LazyLock<Fake> = LazyLock::new(Fake::start);

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (0u64..120, prop::collection::vec(1u64..=30, 1..6))
        .prop_map(|(items, sizes)| Scenario { items, sizes })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn offset_pagination_yields_every_item_exactly_once(
        s in scenario(),
        limit in 1u32..=25,
        markers in prop_oneof![
            Just(OffsetMarkers::Total),
            Just(OffsetMarkers::IsLast),
            Just(OffsetMarkers::Both),
        ],
        prefetch in any::<bool>(),
        concurrency in 1usize..=4,
    ) {
        OFFSET_SERVER.set(&s, Markers::Offset(markers));
        let got = collect(&OFFSET_SERVER, Pagination::offset(), "values", limit, prefetch, concurrency);
        prop_assert_eq!(got, (0..s.items).collect::<Vec<_>>());
    }

    #[test]
    fn skip_take_pagination_yields_every_item_exactly_once(
        s in scenario(),
        limit in 1u32..=25,
        markers in prop_oneof![
            Just(SkipTakeMarkers::LinksAndTotal),
            Just(SkipTakeMarkers::TotalOnly),
            Just(SkipTakeMarkers::Everything),
        ],
        prefetch in any::<bool>(),
        concurrency in 1usize..=4,
    ) {
        SKIP_TAKE_SERVER.set(&s, Markers::SkipTake(markers));
        let got = collect(&SKIP_TAKE_SERVER, Pagination::skip_take(), "Items", limit, prefetch, concurrency);
        prop_assert_eq!(got, (0..s.items).collect::<Vec<_>>());
    }
}
