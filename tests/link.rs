//! The Link flow end to end against a local server, with the generated calls and the `link`
//! module's additions: link token (new and update mode), the sandbox shortcut, exchange, fire
//! webhook, remove; with the bodies and headers sent.

mod common;

use common::{client, ACCESS_TOKEN, CLIENT_ID, SECRET};
use plaid_sdk::types::{
    CountryCode, ItemPublicTokenExchangeRequest, ItemRemoveRequest, LinkTokenCreateRequest,
    LinkTokenCreateRequestUpdate, LinkTokenCreateRequestUser, Products,
};
use plaid_sdk::{AccessToken, Error};
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PUBLIC_TOKEN: &str = "public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d";
const ITEM_ID: &str = "M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op";

async fn plaid() -> MockServer {
    let server = MockServer::start().await;
    let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
    for (route, body) in [
        (
            "/link/token/create",
            json!({ "link_token": "link-sandbox-af1a0311-da53-4636-b754-dd15cc058176", "expiration": "2026-11-21T22:00:00Z", "request_id": "r1" }),
        ),
        (
            "/sandbox/public_token/create",
            json!({ "public_token": PUBLIC_TOKEN, "request_id": "r2" }),
        ),
        (
            "/item/public_token/exchange",
            json!({ "access_token": ACCESS_TOKEN, "item_id": ITEM_ID, "request_id": "r3" }),
        ),
        (
            "/sandbox/item/fire_webhook",
            json!({ "webhook_fired": true, "request_id": "r4" }),
        ),
        ("/item/remove", json!({ "request_id": "r5" })),
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .and(header("PLAID-CLIENT-ID", CLIENT_ID))
            .and(header("PLAID-SECRET", SECRET))
            .and(header("Plaid-Version", "2020-09-14"))
            .respond_with(ok(body))
            .mount(&server)
            .await;
    }
    server
}

async fn bodies(server: &MockServer, route: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == route)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn the_whole_flow_headless() {
    let server = plaid().await;
    let client = client(&server);

    // A link token for a new user: required fields to `new`, the rest by setters.
    let request = LinkTokenCreateRequest::new(
        "My App",
        "fr",
        vec![CountryCode::Us, CountryCode::Ca],
        LinkTokenCreateRequestUser::new("user-42"),
    )
    .products(vec![Products::Transactions])
    .webhook("https://example.com/plaid/webhook")
    .redirect_uri("https://example.com/oauth")
    .link_customization_name("default");
    assert!(!request.is_update_mode());
    let token = client.link_token_create(&request).await.unwrap();
    assert!(token.link_token.starts_with("link-sandbox-"));
    assert_eq!(
        bodies(&server, "/link/token/create").await[0],
        json!({
            "client_name": "My App", "language": "fr", "country_codes": ["US", "CA"],
            "user": { "client_user_id": "user-42" }, "products": ["transactions"],
            "webhook": "https://example.com/plaid/webhook", "redirect_uri": "https://example.com/oauth",
            "link_customization_name": "default",
        })
    );

    // The sandbox shortcut: an Item without Link, exchanged.
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    assert_eq!(item.item_id, ITEM_ID);
    assert_eq!(item.access_token.expose_secret(), ACCESS_TOKEN);
    assert_eq!(item.request_id, "r3");
    assert_eq!(
        bodies(&server, "/sandbox/public_token/create").await[0],
        json!({ "institution_id": "ins_109508", "initial_products": ["transactions"] })
    );
    assert_eq!(
        bodies(&server, "/item/public_token/exchange").await[0],
        json!({ "public_token": PUBLIC_TOKEN })
    );

    // Update mode for the Item, with account selection.
    let update =
        LinkTokenCreateRequest::update_mode("My App", "user-42", item.access_token.clone())
            .update(LinkTokenCreateRequestUpdate::new().account_selection_enabled(true));
    assert!(update.is_update_mode());
    client.link_token_create(&update).await.unwrap();
    let sent = &bodies(&server, "/link/token/create").await[1];
    assert_eq!(sent["access_token"], ACCESS_TOKEN);
    assert_eq!(sent["update"], json!({ "account_selection_enabled": true }));
    assert!(
        sent.get("products").is_none(),
        "update mode sends no products: {sent}"
    );

    // A sandbox webhook, then the Item removed.
    client
        .sandbox_fire_webhook(&item.access_token, "SYNC_UPDATES_AVAILABLE")
        .await
        .unwrap();
    assert_eq!(
        bodies(&server, "/sandbox/item/fire_webhook").await[0],
        json!({ "access_token": ACCESS_TOKEN, "webhook_code": "SYNC_UPDATES_AVAILABLE" })
    );
    client
        .item_remove(&ItemRemoveRequest::new(item.access_token.clone()))
        .await
        .unwrap();
    assert_eq!(
        bodies(&server, "/item/remove").await[0],
        json!({ "access_token": ACCESS_TOKEN })
    );
}

#[tokio::test]
async fn the_exchange_of_a_link_public_token() {
    let server = plaid().await;
    let item = client(&server)
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(PUBLIC_TOKEN))
        .await
        .unwrap();
    assert_eq!(item.item_id, ITEM_ID);
    assert!(
        format!("{item:?}").contains("access-sandbox-[redacted]"),
        "{item:?}"
    );
}

#[tokio::test]
async fn empty_tokens_are_caught_before_sending() {
    let server = plaid().await;
    let client = client(&server);
    let e = client
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(""))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { message, .. } if message == "public_token is empty"),
        "{e}"
    );
    let e = client
        .item_remove(&ItemRemoveRequest::new(AccessToken::new("")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    let e = client
        .sandbox_fire_webhook(&AccessToken::new(""), "DEFAULT_UPDATE")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_public_token_is_plaids_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/item/public_token/exchange"))
        .and(body_partial_json(json!({ "public_token": PUBLIC_TOKEN })))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error_type": "INVALID_INPUT", "error_code": "INVALID_PUBLIC_TOKEN",
            "error_message": "provided public token is expired. Public tokens expire 30 minutes after creation at which point they can no longer be exchanged",
            "display_message": null, "request_id": "r9",
        })))
        .mount(&server)
        .await;
    let e = client(&server)
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(PUBLIC_TOKEN))
        .await
        .unwrap_err();
    assert_eq!(
        e.error_code().map(|c| c.as_str()),
        Some("INVALID_PUBLIC_TOKEN")
    );
}
