//! Runs a standalone simulator until Ctrl-C.
//!
//! `cargo run -p ocean-sim --example serve -- [items] [port] [seed]`

use ocean_sim::{JIRA_EMAIL, JIRA_TOKEN, OCTOPUS_API_KEY, SimConfig, Simulator};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut config = SimConfig::default();
    if let Some(items) = args.next() {
        config.items = items.parse().expect("items must be a number");
    }
    if let Some(port) = args.next() {
        config.port = port.parse().expect("port must be a number");
    }
    if let Some(seed) = args.next() {
        config.seed = seed.parse().expect("seed must be a number");
    }
    let started = std::time::Instant::now();
    let sim = Simulator::start(config.clone()).await?;
    println!(
        "ocean-sim: {} items, seed {}, ready in {:.2?}",
        config.items,
        config.seed,
        started.elapsed()
    );
    println!(
        "  Jira:    {}  (Basic {JIRA_EMAIL}:{JIRA_TOKEN})",
        sim.jira_url()
    );
    println!(
        "  Octopus: {}  (X-Octopus-ApiKey: {OCTOPUS_API_KEY})",
        sim.octopus_url()
    );
    println!("  Control: {}/_sim/{{mutate,stats,faults}}", sim.url());
    tokio::signal::ctrl_c().await?;
    println!("{:#?}", sim.stats());
    sim.shutdown().await;
    Ok(())
}
