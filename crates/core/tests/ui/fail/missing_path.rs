use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(items = "values", paginate = offset)]
struct Project {
    key: String,
}

fn main() {}
