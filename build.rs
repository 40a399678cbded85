//! Generates the whole Plaid API from its OpenAPI spec (`spec/plaid.json`, or the file named
//! by `PLAID_OPENAPI_SPEC`) into `$OUT_DIR/plaid_api.rs`, included by `src/generated.rs`. The
//! generator is the `plaid-sdk-codegen` crate in `codegen/`.

fn main() {
    if let Err(e) = plaid_sdk_codegen::run() {
        eprintln!("\nerror: plaid-sdk could not generate the Plaid API\n  {e}\n");
        std::process::exit(1);
    }
}
