//! What the sandbox's tests over plain HTTP share: a request with the sandbox's keys, and an
//! Item made with the sandbox shortcut.

use plaid_sandbox::Sandbox;
use serde_json::{json, Value};

/// POSTs JSON to the sandbox with its keys (and `extra` headers): the status and the answer.
pub async fn post(
    sandbox: &Sandbox,
    route: &str,
    body: Value,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{route}", sandbox.uri()))
        .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
        .header("PLAID-SECRET", plaid_sandbox::SECRET)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An Item at First Platypus Bank with these products and `/sandbox/public_token/create`
/// options: its item id and access token.
pub async fn item(sandbox: &Sandbox, products: Value, options: Value) -> (String, String) {
    let (status, public) = post(
        sandbox,
        "/sandbox/public_token/create",
        json!({ "institution_id": "ins_109508", "initial_products": products,
                "options": options }),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{public}");
    let (status, made) = post(
        sandbox,
        "/item/public_token/exchange",
        json!({ "public_token": public["public_token"] }),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{made}");
    (
        made["item_id"].as_str().unwrap().to_owned(),
        made["access_token"].as_str().unwrap().to_owned(),
    )
}
