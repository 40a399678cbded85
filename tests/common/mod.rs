//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod synth;

use plaid_sdk::{PlaidClient, RetryPolicy};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use wiremock::MockServer;

pub const CLIENT_ID: &str = "test-client-id-0001";
pub const SECRET: &str = "test-secret-7f3a9c2e5b1d";
pub const ACCESS_TOKEN: &str = "access-sandbox-5cd6e1b1-1b5b-459d-9284-366e2da89755";

/// A client pointed at `server`, with retries that wait 1 ms so tests stay fast.
pub fn client(server: &MockServer) -> PlaidClient {
    builder(server).build().expect("client")
}

pub fn builder(server: &MockServer) -> plaid_sdk::ClientBuilder {
    PlaidClient::builder()
        .client_id(CLIENT_ID)
        .secret(SECRET)
        .base_url(server.uri())
        .timeout(Duration::from_secs(5))
        .retry_policy(fast_retries(3))
}

pub fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2))
}

/// The generated source (`plaid_api.rs` and the files it includes).
pub fn generated_source() -> String {
    let mut source = String::new();
    for entry in std::fs::read_dir(env!("OUT_DIR")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("plaid_api") && name.ends_with(".rs") {
            source.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    source
}

/// The spec the crate was built from: `PLAID_OPENAPI_SPEC`, or the vendored one.
pub fn spec_path() -> PathBuf {
    match std::env::var_os("PLAID_OPENAPI_SPEC") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec/plaid.json"),
    }
}

pub fn load_spec() -> Value {
    let text = std::fs::read_to_string(spec_path()).expect("read spec");
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).expect("spec JSON")
    } else {
        serde_yaml_ng::from_str(&text).expect("spec YAML")
    }
}

/// The example responses of the spec: (method, path, status, example name, body).
pub fn response_examples(spec: &Value) -> Vec<(String, String, String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            for (status, resp) in responses {
                if !status.starts_with('2') {
                    continue;
                }
                let Some(media) = resp.pointer("/content/application~1json") else {
                    continue;
                };
                if let Some(example) = media.get("example") {
                    out.push((
                        method.to_uppercase(),
                        path.clone(),
                        status.clone(),
                        "example".into(),
                        example.clone(),
                    ));
                }
                for (name, ex) in media
                    .get("examples")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(value) = ex.get("value") {
                        out.push((
                            method.to_uppercase(),
                            path.clone(),
                            status.clone(),
                            name.clone(),
                            value.clone(),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The spec's example response for one operation (the first one).
pub fn example_for(spec: &Value, path: &str) -> Value {
    response_examples(spec)
        .into_iter()
        .find(|(_, p, ..)| p == path)
        .map(|(.., v)| v)
        .unwrap_or_else(|| panic!("no example response for {path}"))
}

/// A Plaid error response: `status` with Plaid's error object.
pub fn plaid_error(status: u16, error_type: &str, code: &str) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "error_type": error_type, "error_code": code, "error_message": "injected",
        "display_message": null, "request_id": "req-fault",
    }))
}

/// A local server answering every `POST` with `template`.
pub async fn answering(template: wiremock::ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// `failures` answers of `failure` on `route`, then `success` (a 200): the failing mock takes
/// priority until it is used up.
pub async fn flaky(
    server: &MockServer,
    route: &str,
    failure: wiremock::ResponseTemplate,
    failures: u64,
    success: Value,
) {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("POST"))
        .and(path(route))
        .respond_with(failure)
        .up_to_n_times(failures)
        .with_priority(1)
        .mount(server)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(route))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(success))
        .mount(server)
        .await;
}

/// The requests `server` got for a webhook verification key: for `kid`'s, or any key's for `""`.
pub async fn key_requests_for(server: &MockServer, kid: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/webhook_verification_key/get")
        .filter(|r| String::from_utf8_lossy(&r.body).contains(kid))
        .count()
}

/// The schema a `$ref` (or an `allOf` of one) names, followed to the end; anything else as
/// it is.
pub fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    loop {
        let next = schema
            .get("$ref")
            .or_else(|| match schema["allOf"].as_array().map(Vec::as_slice) {
                Some([one]) => one.get("$ref"),
                _ => None,
            })
            .and_then(Value::as_str)
            .and_then(|r| spec.pointer(&r[1..]));
        match next {
            Some(next) => schema = next,
            None => return schema,
        }
    }
}
