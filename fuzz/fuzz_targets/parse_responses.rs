//! Response decoding of the largest response types, through the same decoder the client
//! uses (UTF-8 check, typed parse, error paths). Any input must give a value or a typed
//! error, never a panic.
//!
//! Input: one byte choosing the operation, then the response body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaid_sdk::operations::__decode_response;
use plaid_sdk::RawResponse;

/// The operations with the largest, most nested responses.
const OPERATIONS: &[&str] = &[
    "transactions_sync",
    "transactions_get",
    "accounts_get",
    "investments_transactions_get",
    "investments_holdings_get",
    "asset_report_get",
    "liabilities_get",
    "identity_get",
    "auth_get",
    "item_get",
    "link_token_create",
    "webhook_verification_key_get",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let name = OPERATIONS[pick as usize % OPERATIONS.len()];
    let raw = RawResponse::new(name, 200, body.to_vec());
    let decoded = __decode_response(name, raw);
    assert!(decoded.is_some(), "{name} is generated with these features");
});
