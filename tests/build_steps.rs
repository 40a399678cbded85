//! Runs the unit tests of the build steps in `build/`. They are ordinary modules that `build.rs`
//! includes with `#[path]`; including them here too makes `cargo test` run their tests.

#![allow(dead_code)]

#[path = "../build/classify.rs"]
mod classify;
#[path = "../build/codegen.rs"]
mod codegen;
#[path = "../build/features.rs"]
mod features;
#[path = "../build/normalize.rs"]
mod normalize;
#[path = "../build/pagination.rs"]
mod pagination;
#[path = "../build/postprocess.rs"]
mod postprocess;
#[path = "../build/spec.rs"]
mod spec;
#[path = "../build/webhooks.rs"]
mod webhooks;
