//! A bounded, deterministic smoke run of the fuzz targets in `fuzz/` (issue 8), so the
//! default test run exercises them too: every input that once broke a parser, then a
//! few thousand mutations of real payloads per target. The real fuzzing (libFuzzer,
//! coverage-guided, minutes per target) is `cargo fuzz run <target>`; see the README.

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::time::{Duration, Instant};

/// Inputs the fuzzers found that once panicked (kept so they never come back).
const REGRESSIONS: &[(&str, &[u8])] = &[
    // `X-RateLimit-Reset` epoch seconds past what `SystemTime` can hold: overflow panic.
    ("wait_hint", b"18446744073709551615"),
    ("wait_hint", b"\n18446744073709551615"),
    ("wait_hint", b"\n9223372036854775808"),
    // `Octopus-RateLimit: t=` a finite number too large for a `Duration`: panic.
    ("wait_hint", b"\n\n\n\n\nr=0;t=1e300"),
    (
        "wait_hint",
        b"\n\n\n\n\nr=0;t=1e300\nl=200;rpm=0.0000000001",
    ),
    ("wait_hint", b"\n\n\n\n\nr=0;t=99999999999999999999"),
];

fn run(target: &str, data: &[u8]) {
    match target {
        "page_decode" => targets::page_decode(data),
        "pagination_guards" => targets::pagination_guards(data),
        "wait_hint" => targets::wait_hint(data),
        "jira_event" => targets::jira_event(data),
        "octopus_event" => targets::octopus_event(data),
        other => panic!("no target {other}"),
    }
}

/// A captured payload, `path` under `crates/`.
fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/../crates/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let fixtures: &[&str] = match target {
        "page_decode" => &[
            "jira/tests/fixtures/jira-project-search-page.json",
            "jira/tests/fixtures/jira-search-jql-page.json",
            "jira/tests/fixtures/jira-users-search.json",
            "jira/tests/fixtures/jira-webhook-list-page.json",
            "jira/tests/fixtures/jira-error-collection-404.json",
            "octopus/tests/fixtures/octopus-projects-collection.json",
            "octopus/tests/fixtures/octopus-deployments-collection.json",
            "octopus/tests/fixtures/octopus-environments-collection-page1.json",
        ],
        "jira_event" => &["jira/tests/fixtures/jira-webhook-event-issue-updated.json"],
        "octopus_event" => &[
            "octopus/tests/fixtures/octopus-subscription-event-2022.json",
            "octopus/tests/fixtures/octopus-subscription-event-2023.json",
        ],
        _ => &[],
    };
    let mut seeds: Vec<Vec<u8>> = fixtures.iter().map(|f| fixture(f)).collect();
    if target == "pagination_guards" {
        // The lying servers of issue 17, 4 bytes a page (start back, items, total, more):
        // one item a page under 1e14; total 7 with isLast false, then page one again; the
        // same page again and again (a bare array ignoring startAt, fresh cursors).
        seeds.push([&[63u8][..], &[0, 1, 255, 1].repeat(20)].concat());
        seeds.push(
            [
                &[63u8][..],
                &[0, 3, 71, 1, 0, 3, 68, 1, 0, 1, 65, 1, 7, 3, 64, 1].repeat(3),
            ]
            .concat(),
        );
        seeds.push([&[63u8][..], &[0, 5, 0, 1, 5, 5, 0, 1].repeat(10)].concat());
    }
    let inline: &[&str] = match target {
        "page_decode" => &[
            r#"{"startAt":0,"maxResults":2,"total":5,"isLast":false,"values":[{"id":"1"},{"id":2}]}"#,
            r#"{"issues":[{"id":"1","key":"A-1"}],"nextPageToken":"abc","isLast":false}"#,
            r#"{"TotalResults":3,"LastPageNumber":1,"Items":[{"Id":"Projects-1"}],"Links":{"Page.Next":"/x"}}"#,
            r#"[{"accountId":"a"},{"accountId":"b"}]"#,
        ],
        "wait_hint" => &[
            "120",
            "1.5",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "2023-11-14T22:14Z",
            "2023-11-14T22:13:30.5+00:00",
            "1700000005",
            "1\n2023-11-14T22:14Z\n0\n100\ntrue\nr=0;t=18\nl=200;rpm=600",
            "\n\n\n\n\nr=7;t=18\nl=200;rpm=600",
        ],
        "jira_event" => &[
            r#"{"webhookEvent":"sprint_closed","sprint":{"id":7,"originBoardId":3}}"#,
            r#"{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"A-1"},"changelog":{"items":[{"field":"Key","fromString":"B-1"}]}}"#,
            r#"{"webhookEvent":"worklog_deleted","worklog":{"id":"5","issueId":"9"}}"#,
            r#"{"webhookEvent":"jira:version_merged","version":{"id":"3","projectId":1},"mergedTo":{"id":"4"}}"#,
        ],
        _ => &[
            r#"{"EventType":"SubscriptionPayload","Payload":{"Event":{"Category":"Deleted","SpaceId":"Spaces-1","RelatedDocumentIds":["Projects-1"],"ChangeDetails":{"DocumentContext":{"Id":"Projects-1"}}}}}"#,
        ],
    };
    seeds.extend(inline.iter().map(|s| s.as_bytes().to_vec()));
    seeds
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "null",
    "[]",
    "{}",
    "\"\"",
    "-1",
    "0",
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551616",
    "9223372036854775808",
    "NaN",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\u{1F600}",
    "true",
    "\n",
    ";t=",
    "r=",
    "rpm=",
    "GMT",
    "T23:59Z",
];

/// One random edit of `input`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, others: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(8) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = b"\"{}[],:-09e.\\ "[rng.below(14)];
        }
        2 if len > 0 => {
            let start = rng.below(len);
            let end = (start + rng.below(16) + 1).min(len);
            input.drain(start..end);
        }
        3 => {
            let at = rng.below(len + 1);
            let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
            input.splice(at..at, token.iter().copied());
        }
        4 if len > 0 => {
            let start = rng.below(len);
            let end = (start + rng.below(32) + 1).min(len);
            let copy = input[start..end].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, copy);
        }
        5 if len > 0 => input.truncate(rng.below(len)),
        6 if !others.is_empty() => {
            let other = &others[rng.below(others.len())];
            let from = rng.below(other.len() + 1);
            let at = rng.below(len + 1);
            input.truncate(at);
            input.extend_from_slice(&other[from..]);
        }
        _ => {
            // Deep nesting.
            let depth = rng.below(200);
            let at = rng.below(len + 1);
            let open = if rng.below(2) == 0 { b'[' } else { b'{' };
            input.splice(at..at, std::iter::repeat_n(open, depth));
        }
    }
}

fn smoke(target: &str, iterations: usize, budget: Duration) {
    for (t, data) in REGRESSIONS {
        if *t == target {
            run(target, data);
        }
    }
    let seeds = seeds(target);
    for seed in &seeds {
        run(target, seed);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    let started = Instant::now();
    for i in 0..iterations {
        if started.elapsed() > budget {
            break;
        }
        let mut input = seeds[i % seeds.len()].clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut input, &seeds);
        }
        let result = std::panic::catch_unwind(|| run(target, &input));
        if result.is_err() {
            panic!(
                "{target} panicked on input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn page_decoding_survives_mutated_pages() {
    smoke("page_decode", 3000, Duration::from_secs(4));
}

#[test]
fn pagination_guards_hold_for_mutated_page_sequences() {
    smoke("pagination_guards", 20_000, Duration::from_secs(3));
}

#[test]
fn wait_hint_parsing_survives_mutated_headers() {
    smoke("wait_hint", 20_000, Duration::from_secs(3));
}

#[test]
fn jira_event_parsing_survives_mutated_deliveries() {
    smoke("jira_event", 5000, Duration::from_secs(3));
}

#[test]
fn octopus_event_parsing_survives_mutated_deliveries() {
    smoke("octopus_event", 5000, Duration::from_secs(3));
}
