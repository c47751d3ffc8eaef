//! Lists the projects and latest deployments of every space.
//!
//! ```text
//! OCTOPUS_URL=https://example.octopus.app OCTOPUS_API_KEY=API-… \
//!     cargo run -p ocean-examples --example octopus_projects_and_deployments
//! ```
//!
//! Optional: `LATEST` (deployments shown per space, default 5).

use std::error::Error;

use futures::TryStreamExt;
use ocean_octopus::OctopusClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::var("OCTOPUS_URL").map_err(|_| "set OCTOPUS_URL")?;
    let key = std::env::var("OCTOPUS_API_KEY").map_err(|_| "set OCTOPUS_API_KEY")?;
    let latest: u64 = std::env::var("LATEST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);

    // Deployments come newest first, so a per-space cap of `latest` reads just those.
    let client = OctopusClient::builder(&url)
        .api_key(key)
        .max_items_per_space(Some(latest))
        .build()?;

    let mut spaces = client.spaces().stream();
    while let Some(space) = spaces.try_next().await? {
        println!("{} ({})", space.name, space.id);

        let projects = client.projects(&space.id).fetch_all().await?;
        println!("  {} project(s)", projects.len());
        for project in &projects {
            let state = if project.is_disabled {
                " [disabled]"
            } else {
                ""
            };
            println!("    {} {}{state}", project.id, project.name);
        }

        let deployments = client.deployments(&space.id).fetch_all().await?;
        println!("  latest {} deployment(s)", deployments.len());
        for deployment in &deployments {
            let project = projects
                .iter()
                .find(|p| Some(&p.id) == deployment.project_id.as_ref())
                .map_or("?", |p| p.name.as_str());
            println!(
                "    {} {} | {} | {} | {}",
                deployment.id,
                deployment.created.as_deref().unwrap_or("-"),
                project,
                deployment.name.as_deref().unwrap_or("-"),
                if deployment.failure_encountered {
                    "failed"
                } else {
                    "ok"
                },
            );
        }
    }
    Ok(())
}
