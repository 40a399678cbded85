//! Webhook verification throughput with a cached key: the full check (JWT split, ES256
//! signature, iat, SHA-256 of the body, constant-time compare) and the typed parse.
//!
//!     cargo bench --bench webhook_verify --features test-util
//!
//! Prints the median of 5 runs of 20,000 verifications each.

use plaid_sdk::webhook::testing::WebhookSigner;
use plaid_sdk::webhook::{WebhookEvent, WebhookVerifier};
use std::time::Instant;

const RUNS: usize = 5;
const PER_RUN: usize = 20_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        let signer = WebhookSigner::new();
        signer.mount(&server).await;
        let client = plaid_sdk::PlaidClient::builder()
            .client_id("bench")
            .secret("bench")
            .base_url(server.uri())
            .build()
            .unwrap();
        let verifier = WebhookVerifier::new(client);
        // A realistic body: Plaid's SYNC_UPDATES_AVAILABLE, indented as Plaid sends it.
        let body = serde_json::to_vec_pretty(&serde_json::json!({
            "webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
            "item_id": "wz666MBjYWTp2PDzzggYhM6oWWmBb", "initial_update_complete": true,
            "historical_update_complete": true, "environment": "production",
        }))
        .unwrap();
        let token = signer.sign(&body);
        verifier
            .verify_token(&token, &body)
            .await
            .expect("the first call fetches the key");

        let mut verify = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            for _ in 0..PER_RUN {
                std::hint::black_box(
                    verifier
                        .verify_signature(std::hint::black_box(&token), &body)
                        .await,
                )
                .unwrap();
            }
            verify.push(PER_RUN as f64 / start.elapsed().as_secs_f64());
        }
        let mut parse = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            for _ in 0..PER_RUN {
                std::hint::black_box(WebhookEvent::parse(&body).unwrap());
            }
            parse.push(PER_RUN as f64 / start.elapsed().as_secs_f64());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[v.len() / 2]
        };
        let (v, p) = (median(&mut verify), median(&mut parse));
        println!(
            "webhook verification, cached key: {v:>10.0} /s  ({:.1} µs each)",
            1e6 / v
        );
        println!(
            "typed parse of the body:          {p:>10.0} /s  ({:.1} µs each)",
            1e6 / p
        );
        println!(
            "verify + parse:                   {:>10.0} /s",
            1.0 / (1.0 / v + 1.0 / p)
        );
        println!(
            "({} byte body, {RUNS} runs of {PER_RUN}, median; {} cores)",
            body.len(),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
    });
}
