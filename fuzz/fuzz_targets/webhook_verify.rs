//! The webhook verifier on any header and body.
//!
//! Input: one mode byte, then the `Plaid-Verification` value and the body separated by the
//! first newline. With an odd mode byte the token is replaced by a valid signature over the
//! fuzzed body, so the fuzzer also reaches the body's parsing behind a good signature; then
//! the only acceptable failure is `InvalidBody`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaid_sdk::sandbox::OfflineSandbox;
use plaid_sdk::webhook::{WebhookError, WebhookVerifier};
use std::sync::OnceLock;

struct Env {
    runtime: tokio::runtime::Runtime,
    sandbox: OfflineSandbox,
    verifier: WebhookVerifier,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (sandbox, verifier) = runtime.block_on(async {
            let sandbox = OfflineSandbox::start().await;
            let verifier = WebhookVerifier::new(sandbox.client());
            (sandbox, verifier)
        });
        Env { runtime, sandbox, verifier }
    })
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let (header, body) = (&rest[..split], rest.get(split + 1..).unwrap_or(&[]));
    let signed = mode & 1 == 1;
    let token = if signed {
        env.sandbox.signer().sign(body)
    } else {
        String::from_utf8_lossy(header).into_owned()
    };
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(&token) {
        headers.insert("plaid-verification", value);
    }
    let result = env.runtime.block_on(env.verifier.verify(&headers, body));
    if signed {
        if let Err(e) = result {
            assert!(matches!(e, WebhookError::InvalidBody(_)), "a good signature refused: {e}");
        }
    }
});
