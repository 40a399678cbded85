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
    std::process::exit(runtime.block_on(plaid_sandbox::cli::run(std::env::args().skip(1))));
}
