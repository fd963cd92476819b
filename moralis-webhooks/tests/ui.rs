//! Compile-time diagnostics of the attributes, checked with `trybuild`.
//!
//! `tests/ui/*.rs` must fail to compile with exactly the errors in the `.stderr` file next
//! to each; `tests/ui/pass/*.rs` must compile (with `#![deny(warnings)]`) and run.
//!
//! The `.stderr` files follow the output of Rust 1.95 (the toolchain this workspace is
//! pinned to); another compiler version may word or place rustc's own errors differently.
//! Regenerate them with `TRYBUILD=overwrite cargo test -p moralis-webhooks --test ui` and
//! read every changed file before committing it. Some of them quote lines of this crate
//! that rustc points at (the `__private::assert_*` functions, the `impl`s of the output
//! traits, the bounds of `__private::cloud_function`): changing those lines means
//! regenerating too.

#![cfg(feature = "macros")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}
