use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/rest/api/3/project/search", pagniate = offset)]
struct Project {
    key: String,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/users", colour = "blue")]
struct User {
    id: String,
}

fn main() {}
