use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/projects")]
struct Project<'a> {
    key: &'a str,
}

fn main() {}
