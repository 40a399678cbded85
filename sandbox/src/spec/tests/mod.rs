//! The spec tier's tests, on the vendored spec and the oldest supported one.

mod ajv;
mod answers;
mod common;
mod digest;
mod echo;
mod requests;
mod robustness;
mod validator;
