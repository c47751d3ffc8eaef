//! Starting, stopping and dropping.

use std::time::{Duration, Instant};

use ocean_sim::OCTOPUS_API_KEY;

use crate::common::{Env, start};

async fn refused(http: &reqwest::Client, url: &str) -> bool {
    // Dropping stops the runtime in the background; give it a moment.
    for _ in 0..50 {
        if http
            .get(url)
            .header("x-octopus-apikey", OCTOPUS_API_KEY)
            .send()
            .await
            .is_err()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let Env { sim, http } = start(10).await;
    let url = format!("{}/api", sim.octopus_url());
    let ok = http
        .get(&url)
        .header("x-octopus-apikey", OCTOPUS_API_KEY)
        .send()
        .await
        .unwrap();
    assert!(ok.status().is_success());
    // The pooled keep-alive connection must not hold shutdown up.
    let t = Instant::now();
    sim.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(refused(&http, &url).await);

    let Env { sim, http } = start(10).await;
    let url = format!("{}/api", sim.octopus_url());
    assert!(
        http.get(&url)
            .header("x-octopus-apikey", OCTOPUS_API_KEY)
            .send()
            .await
            .is_ok()
    );
    drop(sim);
    assert!(refused(&http, &url).await);
}

#[test]
fn a_simulator_outlives_the_runtime_that_started_it() {
    // Started from one runtime, used from another: the server runs on its own threads.
    let sim = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(ocean_sim::Simulator::start(ocean_sim::SimConfig::default()))
        .unwrap();
    let url = format!("{}/api/spaces", sim.octopus_url());
    let status = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            http.get(&url)
                .header("x-octopus-apikey", OCTOPUS_API_KEY)
                .send()
                .await
                .unwrap()
                .status()
        });
    assert!(status.is_success());
}
