use ocean_core::Resource;
use serde::Deserialize;

#[derive(Deserialize, Resource)]
#[resource(path = "/a", paginate = pages)]
struct A {
    id: String,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/b", paginate = skiptake)]
struct B {
    id: String,
}

#[derive(Deserialize, Resource)]
#[resource(path = "/c", paginate = "offset")]
struct C {
    id: String,
}

fn main() {}
