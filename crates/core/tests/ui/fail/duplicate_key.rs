use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/rest/api/3/project/search", items = "values")]
#[resource(items = "projects")]
struct Project {
    key: String,
}

fn main() {}
