use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(
    path = "/rest/api/3/search/jql",
    method = "PUT",
    page_size = 0,
    max_items = "all",
    items = values,
    query(expand = lead)
)]
struct Issue {
    id: String,
}

fn main() {}
