use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
struct Project {
    key: String,
}

fn main() {}
