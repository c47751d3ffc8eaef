use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/board/{}/sprint")]
struct Empty {
    id: u64,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/board/{board-id}/sprint")]
struct NotAnIdentifier {
    id: u64,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/board/{board_id/sprint")]
struct Unclosed {
    id: u64,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/board/{client}/{id}/{id}")]
struct ClashAndRepeat {
    id: u64,
}

fn main() {}
