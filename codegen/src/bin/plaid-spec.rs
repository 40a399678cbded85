//! The spec tools `spec/refresh.sh` runs, with the build's own reader:
//!
//! ```text
//! plaid-spec to-json IN OUT     # a spec (JSON or YAML) as the JSON plaid-sdk vendors
//! plaid-spec diff OLD NEW       # what changed between two specs, breaking changes marked
//! ```

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["to-json", input, output] => plaid_sdk_codegen::spec_to_json(Path::new(input))
            .and_then(|json| std::fs::write(output, json).map_err(|e| format!("{output}: {e}"))),
        ["diff", old, new] => plaid_sdk_codegen::spec_diff(Path::new(old), Path::new(new))
            .map(|report| print!("{report}")),
        _ => Err("usage: plaid-spec to-json IN OUT | plaid-spec diff OLD NEW".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
