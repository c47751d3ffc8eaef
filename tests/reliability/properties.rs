//! Pagination arithmetic as properties (issue 8): whatever page sizes the server chooses
//! (per request, at most what was asked) and whatever the total, offset and skip/take
//! pagination yield every item exactly once, in order, with prefetch on and off.
//!
//! Lying servers (issue 17) too, for every strategy (offsets, bare arrays, cursors, page
//! numbers, `Link` headers, next URLs): whatever a server claims (any total, `isLast:
//! false` forever, an offset it ignores or steps back from, fresh cursors or links over the
//! same items),
//! the stream ends within `ceil(total / page) + slack` requests or the page guard, and
//! never yields an item that was on the page before.
//!
//! Each case runs a real stream against the scripted server on loopback; case counts are
//! kept small so the whole file runs in a few seconds.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

use futures::{StreamExt, TryStreamExt};
use ocean_core::{Client, Endpoint, Error, ListRequest, Pagination, RetryPolicy};
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
        let path = req.path();
        let mut links = json!({"Self": format!("{path}?skip={skip}&take={take}")});
        if end < s.items {
            links["Page.Next"] = json!(format!("{path}?skip={end}&take={take}"));
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

/// How a lying server lies. Items come from the [`Scenario`] (its page sizes included).
#[derive(Clone, Copy, Debug)]
struct Lie {
    strategy: LyingStrategy,
    total: TotalLie,
    last: LastLie,
    start: StartLie,
}

#[derive(Clone, Copy, Debug)]
enum LyingStrategy {
    /// Jira offsets: `{startAt, total, isLast, values}`.
    Offset,
    /// A bare array paged by `startAt`.
    Array,
    /// `{issues, nextPageToken, total, isLast}`; the token says where the next page starts.
    Cursor,
    /// `{values, total}` by `page` (from 1) and `per_page`.
    PageNumber,
    /// A bare array with `Link: <…>; rel="next"`.
    LinkHeader,
    /// `{values, total, next}`, `next` a URL.
    NextUrl,
}

#[derive(Clone, Copy, Debug)]
enum TotalLie {
    Honest,
    Absent,
    Claim(u64),
    /// `1e14`.
    Huge,
}

#[derive(Clone, Copy, Debug)]
enum LastLie {
    Honest,
    Absent,
    /// `isLast: false` on every page.
    NeverLast,
}

#[derive(Clone, Copy, Debug)]
enum StartLie {
    Honest,
    /// Every page starts at 0 (`users/search` ignoring `startAt`; a fresh cursor for the
    /// same items).
    Ignore,
    /// Past the last item, it starts over at page one.
    Wrap,
    /// Every page starts this many items before where it was asked to.
    Back(u64),
}

/// What the lying server answered in one case.
#[derive(Debug, Default)]
struct Served {
    requests: u64,
    /// The fewest items on a page with any.
    smallest: Option<u64>,
}

fn lying_reply(s: &Scenario, lie: Lie, n: usize, req: &Seen, served: &Mutex<Served>) -> Reply {
    let asked = ["maxResults", "per_page", "limit", "size"]
        .iter()
        .find_map(|name| req.query_u64(name))
        .unwrap_or(0);
    // Tokens and links say `<offset>-<request number>`: fresh on every request.
    let token_offset = |name: &str| {
        req.query(name)
            .and_then(|t| t.split('-').next().and_then(|o| o.parse().ok()))
            .unwrap_or(0)
    };
    let at = match lie.strategy {
        LyingStrategy::Cursor => token_offset("nextPageToken"),
        LyingStrategy::LinkHeader | LyingStrategy::NextUrl => token_offset("at"),
        LyingStrategy::PageNumber => req.query_u64("page").unwrap_or(1).saturating_sub(1) * asked,
        _ => req.query_u64("startAt").unwrap_or(0),
    };
    let from = match lie.start {
        StartLie::Honest => at,
        StartLie::Ignore => 0,
        StartLie::Wrap if s.items > 0 && at >= s.items => at % s.items,
        StartLie::Wrap => at,
        StartLie::Back(k) => at.saturating_sub(k),
    };
    let values = s.page(from, asked);
    let len = values.len() as u64;
    {
        let mut served = served.lock().unwrap();
        served.requests += 1;
        if len > 0 {
            served.smallest = Some(served.smallest.map_or(len, |m| m.min(len)));
        }
    }
    let end = from + len;
    let total = match lie.total {
        TotalLie::Honest => Some(s.items),
        TotalLie::Absent => None,
        TotalLie::Claim(c) => Some(c),
        TotalLie::Huge => Some(100_000_000_000_000),
    };
    let is_last = match lie.last {
        LastLie::Honest => Some(end >= s.items),
        LastLie::Absent => None,
        LastLie::NeverLast => Some(false),
    };
    let more = is_last != Some(true) && len > 0;
    let link = format!("{}?at={}-{n}&size={asked}", req.path(), at + len);
    let body = match lie.strategy {
        LyingStrategy::Array => json!(values),
        LyingStrategy::LinkHeader => {
            let reply = Reply::json(200, json!(values));
            return if more {
                reply.with_header("link", &format!(r#"<{link}>; rel="next""#))
            } else {
                reply
            };
        }
        LyingStrategy::PageNumber | LyingStrategy::NextUrl => {
            let mut page = json!({ "values": values });
            if let Some(total) = total {
                page["total"] = json!(total);
            }
            if matches!(lie.strategy, LyingStrategy::NextUrl) && more {
                page["next"] = json!(link);
            }
            page
        }
        LyingStrategy::Offset | LyingStrategy::Cursor => {
            let key = if matches!(lie.strategy, LyingStrategy::Cursor) {
                "issues"
            } else {
                "values"
            };
            let mut page = json!({ key: values, "startAt": at });
            if let Some(total) = total {
                page["total"] = json!(total);
            }
            if let Some(last) = is_last {
                page["isLast"] = json!(last);
            }
            // A fresh token on every request, whatever it points at.
            if matches!(lie.strategy, LyingStrategy::Cursor) && is_last != Some(true) && len > 0 {
                page["nextPageToken"] = json!(format!("{}-{n}", at + len));
            }
            page
        }
    };
    Reply::json(200, body)
}

/// The page guard of the lying cases: above the most pages an honest server can need
/// (`scenario` holds under 120 items, one a page at the least, then an empty last page),
/// so an honest walk always completes, and low, so a liar's worst case stays fast.
const LIAR_MAX_PAGES: u64 = 128;

/// Streams a lying server's list page by page; checks the stream's promises.
fn check_liar(
    s: &Scenario,
    lie: Lie,
    limit: u32,
    prefetch: bool,
    concurrency: usize,
) -> Result<(), TestCaseError> {
    let fake = &*LYING_SERVER;
    let path = fake.set(s, Markers::Liar(lie));
    let client = &fake.clients[concurrency - 1];
    let endpoint = Endpoint::new("thing", path).page_size(limit);
    let endpoint = match lie.strategy {
        LyingStrategy::Offset => endpoint.items("values").paginate(Pagination::offset()),
        LyingStrategy::Array => endpoint.paginate(Pagination::array()),
        LyingStrategy::Cursor => endpoint.items("issues").paginate(Pagination::cursor()),
        LyingStrategy::PageNumber => endpoint.items("values").paginate(Pagination::page_number()),
        LyingStrategy::LinkHeader => endpoint.paginate(Pagination::link_header()),
        LyingStrategy::NextUrl => endpoint
            .items("values")
            .paginate(Pagination::next_url("next")),
    };
    let pages = ListRequest::<u64>::new(client, endpoint)
        .prefetch(prefetch)
        .max_pages(LIAR_MAX_PAGES)
        .pages();
    let (pages, end) = RUNTIME.block_on(support::within(20, async move {
        let mut pages = pages;
        let mut seen = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(items) => seen.push(items),
                Err(e) => return (seen, Some(e)),
            }
        }
        (seen, None)
    }));
    if let Some(e) = &end {
        prop_assert!(matches!(e, Error::Pagination { .. }), "{e:?}");
    }
    // An honest server of a strategy that follows what the server hands out (a cursor, a
    // link) gets every item once, in order, whatever its page sizes.
    let follows = matches!(
        lie.strategy,
        LyingStrategy::Cursor | LyingStrategy::LinkHeader | LyingStrategy::NextUrl
    );
    let honest = matches!(lie.start, StartLie::Honest)
        && matches!(lie.last, LastLie::Honest)
        && matches!(lie.total, TotalLie::Honest | TotalLie::Absent);
    if follows && honest {
        prop_assert!(end.is_none(), "{end:?}");
        let all: Vec<u64> = pages.iter().flatten().copied().collect();
        prop_assert_eq!(all, (0..s.items).collect::<Vec<_>>());
    }
    // Never an item of the page before.
    let mut previous: HashSet<u64> = HashSet::new();
    for page in pages.iter().filter(|p| !p.is_empty()) {
        prop_assert!(
            page.iter().all(|i| !previous.contains(i)),
            "{page:?} repeats the page before"
        );
        previous = page.iter().copied().collect();
    }
    // Within ceil(total / page) + slack requests, or the page guard; prefetches already
    // in flight when the stream ends may still arrive.
    let served = fake.served.lock().unwrap();
    let smallest = served.smallest.unwrap_or(1);
    let claimed = match (lie.strategy, lie.total) {
        (LyingStrategy::Array | LyingStrategy::LinkHeader, _) | (_, TotalLie::Absent) => None,
        (_, TotalLie::Honest) => Some(s.items),
        (_, TotalLie::Claim(c)) => Some(c),
        (_, TotalLie::Huge) => Some(100_000_000_000_000),
    };
    let budget = claimed.map_or(LIAR_MAX_PAGES, |t| {
        (t.div_ceil(smallest) + 2).min(LIAR_MAX_PAGES)
    });
    let in_flight = if prefetch { concurrency as u64 } else { 0 };
    prop_assert!(
        served.requests <= budget + in_flight,
        "{} requests, budget {budget} (+{in_flight} in flight), ended by {end:?}",
        served.requests
    );
    Ok(())
}

fn lie() -> impl Strategy<Value = Lie> {
    let strategy = prop_oneof![
        Just(LyingStrategy::Offset),
        Just(LyingStrategy::Array),
        Just(LyingStrategy::Cursor),
        Just(LyingStrategy::PageNumber),
        Just(LyingStrategy::LinkHeader),
        Just(LyingStrategy::NextUrl),
    ];
    let total = prop_oneof![
        Just(TotalLie::Honest),
        Just(TotalLie::Absent),
        (0u64..200).prop_map(TotalLie::Claim),
        Just(TotalLie::Huge),
    ];
    let last = prop_oneof![
        Just(LastLie::Honest),
        Just(LastLie::Absent),
        Just(LastLie::NeverLast),
    ];
    let start = prop_oneof![
        Just(StartLie::Honest),
        Just(StartLie::Ignore),
        Just(StartLie::Wrap),
        (1u64..40).prop_map(StartLie::Back),
    ];
    (strategy, total, last, start).prop_map(|(strategy, total, last, start)| Lie {
        strategy,
        total,
        last,
        start,
    })
}

fn collect(
    fake: &Fake,
    path: String,
    pagination: Pagination,
    items_key: &str,
    limit: u32,
    prefetch: bool,
    concurrency: usize,
) -> Vec<u64> {
    let client = &fake.clients[concurrency - 1];
    let endpoint = Endpoint::new("thing", path)
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
    /// The case being run: its number (its requests go to `/things/{number}`), scenario
    /// and markers.
    scenario: Arc<Mutex<(u64, Scenario, Markers)>>,
    /// Clients of the server with 1 to 4 requests in flight (building one per case would
    /// cost more than the case).
    clients: Vec<Client>,
    /// What a lying server answered in the current case.
    served: Arc<Mutex<Served>>,
}

#[derive(Clone, Copy, Debug)]
enum Markers {
    Offset(OffsetMarkers),
    SkipTake(SkipTakeMarkers),
    Liar(Lie),
}

impl Fake {
    fn start() -> Self {
        let scenario = Arc::new(Mutex::new((
            0,
            Scenario {
                items: 0,
                sizes: vec![1],
            },
            Markers::Offset(OffsetMarkers::Both),
        )));
        let current = scenario.clone();
        let served = Arc::new(Mutex::new(Served::default()));
        let record = served.clone();
        let server = Server::start(move |n, req| {
            let (case, s, markers) = current.lock().unwrap().clone();
            // A prefetch of an earlier case may arrive late: it is neither this case's
            // request nor counted as one.
            if req.path() != format!("/things/{case}") {
                return Reply::json(410, json!({"stale": req.path()}));
            }
            match markers {
                Markers::Offset(m) => offset_reply(&s, m, req),
                Markers::SkipTake(m) => skip_take_reply(&s, m, req),
                Markers::Liar(lie) => lying_reply(&s, lie, n, req, &record),
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
            served,
        }
    }

    /// Starts a case: its scenario and markers, and the path its requests go to.
    fn set(&self, s: &Scenario, markers: Markers) -> String {
        let mut current = self.scenario.lock().unwrap();
        let case = current.0 + 1;
        *current = (case, s.clone(), markers);
        *self.served.lock().unwrap() = Served::default();
        format!("/things/{case}")
    }
}

static OFFSET_SERVER: LazyLock<Fake> = LazyLock::new(Fake::start);
static SKIP_TAKE_SERVER: LazyLock<Fake> = LazyLock::new(Fake::start);
static LYING_SERVER: LazyLock<Fake> = LazyLock::new(Fake::start);

/// 128 cases from a fixed seed, so every run checks the same cases; `PROPTEST_CASES` and
/// `PROPTEST_RNG_SEED` (any number) explore further.
fn config() -> ProptestConfig {
    use proptest::test_runner::RngSeed;
    let from_env = ProptestConfig::default();
    let cases = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => from_env.cases,
        None => 128,
    };
    let rng_seed = match from_env.rng_seed {
        RngSeed::Random => RngSeed::Fixed(0x6f63_6561_6e2d_7273),
        chosen => chosen,
    };
    ProptestConfig {
        cases,
        rng_seed,
        failure_persistence: None,
        ..from_env
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
        let path = OFFSET_SERVER.set(&s, Markers::Offset(markers));
        let got = collect(&OFFSET_SERVER, path, Pagination::offset(), "values", limit, prefetch, concurrency);
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
        let path = SKIP_TAKE_SERVER.set(&s, Markers::SkipTake(markers));
        let got = collect(&SKIP_TAKE_SERVER, path, Pagination::skip_take(), "Items", limit, prefetch, concurrency);
        prop_assert_eq!(got, (0..s.items).collect::<Vec<_>>());
    }

    #[test]
    fn lying_servers_end_within_the_budget_and_never_repeat_the_page_before(
        s in scenario(),
        lie in lie(),
        limit in 1u32..=25,
        prefetch in any::<bool>(),
        concurrency in 1usize..=4,
    ) {
        check_liar(&s, lie, limit, prefetch, concurrency)?;
    }
}
