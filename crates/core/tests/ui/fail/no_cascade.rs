//! One mistake in the attribute gives one error, not one more at every use of the type.
use ocean_core::{Client, Resource};
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/rest/agile/1.0/board/{board_id}/sprint", paginate = pages)]
struct Sprint {
    id: u64,
}

fn needs_resource<T: Resource>() -> &'static str {
    T::KIND
}

async fn run(client: &Client) -> ocean_core::Result<()> {
    let _request = Sprint::list(client, 42).query("state", "active");
    let _stream = Sprint::stream(client, 42);
    let _pages = Sprint::pages(client, 42);
    let sprints = Sprint::fetch_all(client, 42).await?;
    let _ = sprints.iter().map(|s| s.id).sum::<u64>();
    let _ = needs_resource::<Sprint>();
    Ok(())
}

fn main() {
    let _ = run;
}
