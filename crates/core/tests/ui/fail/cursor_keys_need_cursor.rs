use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(
    path = "/rest/api/3/project/search",
    paginate = offset,
    cursor_param = "nextPageToken",
    cursor_field = "nextPageToken"
)]
struct Project {
    key: String,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/users", start_param = "offset")]
struct User {
    id: String,
}

fn main() {}
