//! The webhook verifier on any header, claims and body.
//!
//! Input: one mode byte, then lines separated by the first newlines. By the mode byte modulo 3:
//!
//! * 0: the `Plaid-Verification` value, then the body: any token at all;
//! * 1: a line ignored, then the body, with a valid signature over it, so the fuzzer reaches the body's parsing
//!   behind a good signature; then the only acceptable failure is `InvalidBody`;
//! * 2: the JWT header, the claims, then the body, as any bytes, signed with the sandbox's key:
//!   the header's `alg`/`kid`/`crit` and the claims' `iat`/`request_body_sha256` with any
//!   value, behind a valid signature (where an `iat` of `i64::MIN` once overflowed).

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaid_sandbox::Sandbox;
use plaid_sdk::webhook::{WebhookError, WebhookVerifier};
use std::sync::OnceLock;

struct Env {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
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
            let sandbox = Sandbox::start().await;
            let verifier = WebhookVerifier::new(sandbox.client());
            (sandbox, verifier)
        });
        Env { runtime, sandbox, verifier }
    })
}

/// The first line of `data` and the rest.
fn line(data: &[u8]) -> (&[u8], &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    (&data[..split], data.get(split + 1..).unwrap_or(&[]))
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (token, body) = match mode % 3 {
        0 => {
            let (header, body) = line(rest);
            (String::from_utf8_lossy(header).into_owned(), body)
        }
        1 => {
            let (_, body) = line(rest);
            (env.sandbox.signer().sign(body), body)
        }
        _ => {
            let (header, rest) = line(rest);
            let (claims, body) = line(rest);
            (env.sandbox.signer().sign_parts(header, claims), body)
        }
    };
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(&token) {
        headers.insert("plaid-verification", value);
    }
    let result = env.runtime.block_on(env.verifier.verify(&headers, body));
    if mode % 3 == 1 {
        if let Err(e) = result {
            assert!(matches!(e, WebhookError::InvalidBody(_)), "a good signature refused: {e}");
        }
    }
});
