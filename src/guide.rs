//! A guide to the crate, one page per topic. Every example here is compiled as a doctest.

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

pub mod sandbox_server {
    #![doc = include_str!("guide/sandbox_server.md")]
}

pub mod newer_spec {
    #![doc = include_str!("guide/newer_spec.md")]
}
