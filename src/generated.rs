//! The code `build.rs` generates from Plaid's spec: every request and response type
//! ([`types`]), every operation's facts ([`operations`]) and one [`PlaidClient`](crate::PlaidClient)
//! method per operation. Never edited by hand; see the `plaid-sdk-codegen` crate (`codegen/`) for how it is made.

#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::invalid_rust_codeblocks,
    unused_imports
)]

include!(concat!(env!("OUT_DIR"), "/plaid_api.rs"));
