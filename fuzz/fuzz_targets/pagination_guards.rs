#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ocean_fuzz::pagination_guards(data));
