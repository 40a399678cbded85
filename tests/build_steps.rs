//! Runs the unit tests of the build steps in `codegen/src/`, the generator crate's modules:
//! including them here with `#[path]` makes plaid-sdk's `cargo test` run their tests.

#![allow(dead_code)]

#[path = "../codegen/src/classify.rs"]
mod classify;
#[path = "../codegen/src/codegen.rs"]
mod codegen;
#[path = "../codegen/src/diff.rs"]
mod diff;
#[path = "../codegen/src/features.rs"]
mod features;
#[path = "../codegen/src/normalize.rs"]
mod normalize;
#[path = "../codegen/src/pagination.rs"]
mod pagination;
#[path = "../codegen/src/postprocess.rs"]
mod postprocess;
#[path = "../codegen/src/spec.rs"]
mod spec;
#[path = "../codegen/src/webhooks.rs"]
mod webhooks;
