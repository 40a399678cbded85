//! `plaid-sandbox`: the offline Plaid as a server, for tests in any language.
//!
//! ```text
//! plaid-sandbox [--listen 127.0.0.1:0] [--client-id ID] [--secret SECRET] [--seed N]
//!               [--allow-webhook-host H]... [--allow-host H]... [--no-rate-limits]
//!               [--today YYYY-MM-DD] [--history-days N] [--not-ready-syncs N]
//!               [--webhook-retry SECS]
//! ```
//!
//! `plaid-sandbox --help` explains each.
//!
//! Prints its base URL as the first line on stdout, then serves until interrupted.

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("plaid-sandbox: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    // An argument that is not UTF-8 is a usage error (exit 2), not a panic.
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => {
                eprintln!("plaid-sandbox: argument {arg:?} is not UTF-8; see --help");
                std::process::exit(2);
            }
        }
    }
    std::process::exit(runtime.block_on(plaid_sandbox::cli::run(args)));
}
