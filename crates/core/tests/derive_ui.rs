//! Compile-time behaviour of `#[derive(Resource)]`: every error message, pinned with trybuild,
//! and a crate using every key that compiles without a warning.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p ocean-core --test
//! derive_ui`, then read every `.stderr`: each error must underline the offending token.

#[test]
fn derive_ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
