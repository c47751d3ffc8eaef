//! Runnable examples of the ocean-rs providers: see `examples/*.rs`.
