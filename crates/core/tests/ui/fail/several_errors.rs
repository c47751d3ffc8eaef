use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(
    pth = "/rest/agile/1.0/board/{board_id}/sprint",
    paginate = offest,
    method = "post",
    cursor_param = "token"
)]
struct Sprint {
    id: u64,
}

fn main() {}
