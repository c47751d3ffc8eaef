//! Fault knobs: rate limit, 503s, latency, malformed pages, control routes.

use std::time::{Duration, Instant};

use ocean_sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{start, start_with};

fn is_iso_reset(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && s.chars().filter(|c| c.is_ascii_digit()).count() == 14
}

#[tokio::test]
async fn rate_limit_answers_429_with_each_products_headers() {
    let env = start_with(SimConfig {
        items: 20,
        rate_limit: Some(5.0),
        ..Default::default()
    })
    .await;
    for i in 0..5 {
        let r = env.jira_get("/rest/api/3/project/search").await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
        assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((4 - i).to_string().as_str())
        );
        assert_eq!(r.header("x-ratelimit-nearlimit").is_some(), 4 - i < 1);
    }
    let r = env.jira_get("/rest/api/3/project/search").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r
        .header("retry-after")
        .unwrap()
        .parse()
        .expect("whole seconds");
    assert!(retry >= 1);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(r.header("ratelimit-reason"), Some("jira-burst-based"));
    assert!(
        is_iso_reset(r.header("x-ratelimit-reset").unwrap()),
        "{:?}",
        r.header("x-ratelimit-reset")
    );
    assert!(r.json()["errorMessages"].is_array());

    env.sim.faults().set_rate_limit(Some(3.0));
    for _ in 0..3 {
        let r = env.octopus_get("/api/spaces").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("octopus-ratelimit-policy"), Some("l=3;rpm=180"));
        assert!(r.header("octopus-ratelimit").unwrap().starts_with("r="));
    }
    let r = env.octopus_get("/api/spaces").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(
        r.header("octopus-ratelimit")
            .map(|h| h.starts_with("r=0;t=")),
        Some(true)
    );
    assert!(r.json()["ErrorMessage"].is_string());
    assert_eq!(env.sim.stats().rate_limited, 2);

    // Sub-second waits as decimals, when asked for.
    env.sim.faults().set_fractional_retry_after(true);
    env.sim.faults().set_rate_limit(Some(20.0));
    let mut limited = None;
    for _ in 0..40 {
        let r = env.jira_get("/rest/api/3/myself").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let retry: f64 = limited
        .expect("limited")
        .header("retry-after")
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0.0 && retry < 1.0, "{retry}");

    env.sim.faults().set_rate_limit(None);
    let r = env.jira_get("/rest/api/3/myself").await;
    assert_eq!(
        (r.status, r.header("x-ratelimit-limit")),
        (StatusCode::OK, None)
    );
}

async fn statuses(seed: u64) -> Vec<u16> {
    let env = start_with(SimConfig {
        items: 20,
        seed,
        fail_rate: 0.4,
        ..Default::default()
    })
    .await;
    let mut out = Vec::new();
    for i in 0..40 {
        let r = if i % 2 == 0 {
            env.jira_get("/rest/api/3/project/search").await
        } else {
            env.octopus_get("/api/spaces").await
        };
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            let v = r.json();
            assert!(if i % 2 == 0 {
                v["errorMessages"].is_array()
            } else {
                v["ErrorMessage"].is_string()
            });
        }
        out.push(r.status.as_u16());
    }
    let failed = out.iter().filter(|s| **s == 503).count() as u64;
    assert_eq!(env.sim.stats().unavailable, failed);
    out
}

#[tokio::test]
async fn fail_rate_is_reproducible_per_seed() {
    let a = statuses(7).await;
    assert_eq!(a, statuses(7).await);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
    assert_ne!(a, statuses(8).await);
}

#[tokio::test]
async fn latency_malformed_and_exempt_control_routes() {
    let env = start(40).await;
    env.sim.faults().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(
        env.octopus_get("/api/spaces/Spaces-1").await.status,
        StatusCode::OK
    );
    assert!(t.elapsed() >= Duration::from_millis(150));
    env.sim.faults().set_latency(Duration::ZERO);

    env.sim.faults().set_malformed(true);
    for r in [
        env.jira_get("/rest/api/3/project/search").await,
        env.jira_get("/rest/api/3/users/search").await,
        env.octopus_get("/api/Spaces-1/projects").await,
        env.jira(
            Method::POST,
            "/rest/api/3/search/jql",
            Some(json!({"jql": "updated >= 2020-01-01"})),
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert!(
            serde_json::from_slice::<serde_json::Value>(&r.body).is_err(),
            "page must not parse"
        );
    }
    let single = env.jira_get("/rest/api/3/issue/PROJ1-1").await;
    assert!(serde_json::from_slice::<serde_json::Value>(&single.body).is_ok());
    assert_eq!(env.sim.stats().malformed, 4);
    env.sim.faults().set_malformed(false);

    // /_sim is exempt from faults and auth.
    env.sim.faults().set_fail_rate(1.0);
    assert_eq!(
        env.jira_get("/rest/api/3/myself").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let url = env.sim.url();
    let stats = env
        .send(Method::GET, &format!("{url}/_sim/stats"), &[], None)
        .await;
    assert_eq!(stats.status, StatusCode::OK);
    assert!(stats.json()["unavailable"].as_u64().unwrap() >= 1);
    let f = env
        .send(
            Method::POST,
            &format!("{url}/_sim/faults"),
            &[],
            Some(json!({"fail_rate": 0.0, "rate_limit": 100})),
        )
        .await
        .json();
    assert_eq!(
        (f["fail_rate"].as_f64(), f["rate_limit"].as_f64()),
        (Some(0.0), Some(100.0))
    );
    assert_eq!(
        env.jira_get("/rest/api/3/myself").await.status,
        StatusCode::OK
    );
    assert_eq!(env.sim.faults().rate_limit(), Some(100.0));
    let per_route = env.sim.stats().per_route;
    assert!(
        per_route.contains_key("GET /jira/rest/api/3/issue/{id}"),
        "{per_route:?}"
    );
}
