use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/board/{board_id}/sprint", param(board_id = Vec<u8>))]
struct Sprint {
    id: u64,
}

fn main() {}
