use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/status")]
enum Status {
    Open,
    Done,
}

fn main() {}
