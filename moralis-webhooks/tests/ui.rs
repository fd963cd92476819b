//! Compile-time diagnostics of the attributes, checked with `trybuild`.
//!
//! `tests/ui/pass/*.rs` must compile (with `#![deny(warnings)]`) and run, on any stable
//! compiler. `tests/ui/*.rs` must fail to compile with exactly the errors in the `.stderr`
//! file next to each: those follow the words and layout of Rust 1.95 (the toolchain CI
//! uses), which other compiler versions change, so they are compared only under 1.95; on
//! another version the test says so and checks the passing cases alone.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p moralis-webhooks
//! --test ui` and read every changed file before committing it. Some of them quote lines
//! of this crate that rustc points at (the assertion functions and the output traits'
//! `impl`s in `src/handler.rs`, the registering methods' bounds in `src/registry.rs`):
//! changing those lines means regenerating too.

#![cfg(feature = "macros")]

use std::process::Command;

/// The compiler version the `.stderr` files were written with.
const STDERR_RUSTC: &str = "rustc 1.95.";

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    if version.starts_with(STDERR_RUSTC) {
        t.compile_fail("tests/ui/*.rs");
    } else {
        eprintln!(
            "the compile-fail UI cases were not compared: their expected output follows \
             {STDERR_RUSTC}x, and this is {}",
            version.trim()
        );
    }
}
