//! A guide to the crate, one page per topic, in reading order. Every example here is
//! compiled as a doctest.
//!
//! 1. [Getting started](getting_started): add the crate, make a client from your Plaid keys,
//!    link an Item in Plaid's sandbox without the Link UI and read its accounts.
//! 2. [Configuration](configuration): keys and environment from the environment or a
//!    builder, timeouts, proxies, and what `build()` refuses.
//! 3. [Errors](errors): what each `Error` variant means, which are retried, and how to match
//!    Plaid's error codes.
//! 4. [Link](link): link token, public token, exchange, update mode and removal: the path from
//!    "Connect a bank" to a stored Item.
//! 5. [Pagination](pagination): the `/transactions/sync` driver and the offset paginators,
//!    built so that nothing is lost or doubled.
//! 6. [Webhooks](webhooks): verifying Plaid's signature and handling typed events.
//! 7. [Production behaviours](production): retry budget, idempotency keys, waiting for data
//!    that is not ready yet, and hooks for metrics.
//! 8. [Testing with the offline sandbox](testing): Plaid's sandbox in-process for your tests,
//!    with a clock, faults and signed webhooks.
//! 9. [Testing Link](testing_link): Plaid Link emulated offline and driven in a real browser,
//!    with the script swap for pages that load Plaid's CDN.
//! 10. [The offline sandbox as a server](sandbox_server): the same sandbox for tests in any
//!     language (Node, Python, …).
//! 11. [Building against a newer spec](newer_spec): use an operation Plaid added before this
//!     crate's next release.

pub mod getting_started {
    #![doc = include_str!("guide/getting_started.md")]
}

pub mod configuration {
    #![doc = include_str!("guide/configuration.md")]
}

pub mod errors {
    #![doc = include_str!("guide/errors.md")]
}

pub mod production {
    #![doc = include_str!("guide/production.md")]
}

pub mod link {
    #![doc = include_str!("guide/link.md")]
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/link-emulator.md"))]
}

pub mod pagination {
    #![doc = include_str!("guide/pagination.md")]
}

pub mod webhooks {
    #![doc = include_str!("guide/webhooks.md")]
}

pub mod testing {
    // Its examples use the `plaid-sandbox` crate, which depends on this one: they compile as
    // that crate's doctests (sandbox/src/lib.rs), not this one's.
    #![cfg_attr(not(doctest), doc = include_str!("guide/testing.md"))]
    #![cfg_attr(doctest, doc = "Testing with the offline sandbox.")]
}

pub mod testing_link {
    // The screenshots: link reference definitions written by build.rs from docs/images/.
    #![doc = include_str!("guide/testing_link.md")]
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/link-emulator.md"))]
    #![doc = include_str!(concat!(env!("OUT_DIR"), "/backend-page.md"))]
}

pub mod sandbox_server {
    #![doc = include_str!("guide/sandbox_server.md")]
}

pub mod newer_spec {
    #![doc = include_str!("guide/newer_spec.md")]
}
