#!/usr/bin/env bash
# The cold build a new user pays: the README's "Use it" app, built from nothing (its own empty
# target dir, `cargo build`, the debug build `cargo run` makes), against two peers in the same
# run on the same machine:
#   bare      the same program written by hand on reqwest (the same TLS: rustls), serde_json
#             and tokio: the floor any Plaid client on reqwest starts from
#   plaid-sdk the README's app on this crate (default features)
#   plaid     the same app on the `plaid` 9.0.1 crate
# Each line: wall time, peak RSS of the largest process, crates compiled, target dir size.
# Dependencies come from the local registry cache (`cargo fetch` first, not timed).
#
#   benches/cold_build.sh             # one run of each, in the order above
#   RUNS=2 benches/cold_build.sh      # more runs, taking turns; medians
set -euo pipefail

runs=${RUNS:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_INCREMENTAL=0

project() { # name, dependencies (TOML lines), main.rs on stdin
  mkdir -p "$work/$1/src"
  printf '[package]\nname = "cold-%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n[dependencies]\n%s\n[workspace]\n' \
    "$1" "$2" >"$work/$1/Cargo.toml"
  cat >"$work/$1/src/main.rs"
}

project plaid-sdk "plaid-sdk = { path = \"$root\" }
tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }" <<'EOF'
use plaid_sdk::types::{ItemPublicTokenExchangeRequest, TransactionsSyncRequest};
use plaid_sdk::{Error, ErrorCode, PlaidClient};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = PlaidClient::from_env()?;
    let item = client
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new("public-sandbox-x"))
        .await?;
    println!("{item:?}");
    let request = TransactionsSyncRequest::new(item.access_token).count(500);
    match client.transactions_sync(&request).await {
        Ok(page) => println!("{} new transactions", page.added.len()),
        Err(Error::Api(e)) if e.error_code == ErrorCode::ItemLoginRequired => {
            println!("send the user through Link in update mode");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
EOF

project bare 'reqwest = { version = "0.13", features = ["json"] }
serde_json = "1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }' <<'EOF'
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (id, secret) = (std::env::var("PLAID_CLIENT_ID")?, std::env::var("PLAID_SECRET")?);
    let http = reqwest::Client::new();
    let call = |path: &str, body: Value| {
        http.post(format!("https://sandbox.plaid.com{path}"))
            .header("PLAID-CLIENT-ID", &id)
            .header("PLAID-SECRET", &secret)
            .json(&body)
            .send()
    };
    let item: Value = call("/item/public_token/exchange", json!({ "public_token": "public-sandbox-x" }))
        .await?
        .json()
        .await?;
    let page: Value = call("/transactions/sync", json!({ "access_token": item["access_token"], "count": 500 }))
        .await?
        .json()
        .await?;
    match page["error_code"].as_str() {
        Some("ITEM_LOGIN_REQUIRED") => println!("send the user through Link in update mode"),
        _ => println!("{} new transactions", page["added"].as_array().map_or(0, Vec::len)),
    }
    Ok(())
}
EOF

project plaid 'plaid = "=9.0.1"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }' <<'EOF'
#[tokio::main]
async fn main() {
    let client = plaid::PlaidClient::from_env();
    let item = client.item_public_token_exchange("public-sandbox-x").await.unwrap();
    match client.transactions_sync(&item.access_token).count(500).await {
        Ok(page) => println!("{} new transactions", page.added.len()),
        Err(e) => println!("send the user through Link in update mode? {e}"),
    }
}
EOF

for p in bare plaid-sdk plaid; do (cd "$work/$p" && cargo fetch -q); done

echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(rustc --version)"
echo "Cold debug builds (cargo build, empty target dir), $runs run(s) each, taking turns"
declare -A times
for run in $(seq "$runs"); do
  for p in bare plaid-sdk plaid; do
    target="$work/target-$p-$run"
    (cd "$work/$p" && /usr/bin/time -f '%e %M' -o "$work/time" \
      cargo build --target-dir "$target" --message-format short >"$work/log" 2>&1) || {
      tail -20 "$work/log" >&2
      exit 1
    }
    read -r secs kib <"$work/time"
    crates=$(grep -c '^ *Compiling ' "$work/log" || true)
    size=$(du -sm "$target" | cut -f1)
    printf '%-10s run %s: %7.1f s  %5.2f GB peak RSS  %4s crates  %5s MB target\n' \
      "$p" "$run" "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1048576 }')" "$crates" "$size"
    times[$p]="${times[$p]:-} $secs"
    rm -rf "$target"
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
bare=$(echo "${times[bare]}" | median)
ours=$(echo "${times[plaid-sdk]}" | median)
peer=$(echo "${times[plaid]}" | median)
awk -v b="$bare" -v o="$ours" -v p="$peer" 'BEGIN {
  printf "plaid-sdk app / bare reqwest app: %.2fx (%.1f s more)\n", o / b, o - b
  printf "plaid 9.0.1 app / bare reqwest app: %.2fx\n", p / b
  printf "plaid-sdk app / plaid 9.0.1 app: %.2fx\n", o / p
}'
