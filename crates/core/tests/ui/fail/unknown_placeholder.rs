use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/rest/agile/1.0/board/{board_id}/sprint", param(board = u64))]
struct Sprint {
    id: u64,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/rest/api/3/project/search", param(id = u64))]
struct Project {
    key: String,
}

fn main() {}
