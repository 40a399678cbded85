//! The spec-driven tier: the answer to every operation the sandbox has no stateful handler for.
//!
//! For every operation of Plaid's OpenAPI 3.0 spec that no stateful handler serves, this crate
//! gives the answer stripe-mock or Stoplight Prism would give:
//!
//! 1. [`SpecIndex::check_request`] validates a request body against the operation's request
//!    schema and reports a problem in Plaid's own vocabulary (`MISSING_FIELDS`,
//!    `INVALID_FIELD`, `UNKNOWN_FIELDS`, `INVALID_BODY`, all `INVALID_REQUEST`, HTTP 400).
//! 2. [`SpecIndex::answer`] gives a success body valid against the operation's response schema:
//!    the spec's example, repaired where Plaid's example breaks its own schema, or a minimal
//!    value synthesized from the schema; then request values are echoed into same-named
//!    response fields and the caller's `request_id` is set. Binary operations get a minimal
//!    valid PDF or ZIP document.
//! 3. Everything is deterministic: the same spec, request and seed give the same answer.
//!
//! The index is built from the spec as published ([`SpecIndex::new`]). Its tests also build it
//! from a compact digest (`digest.rs`), which answers exactly the same and lets them damage a
//! spec cheaply.

mod binary;
#[cfg(test)]
mod digest;
mod echo;
mod format;
mod index;
mod pattern;
mod repair;
mod router;
mod schema;
mod synth;
mod validate;

pub(crate) use index::{Answer, Operation, SpecIndex};
#[cfg(test)]
pub(crate) use index::{Fill, RequestProblem};

#[cfg(test)]
mod tests;
