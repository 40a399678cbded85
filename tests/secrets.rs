//! No secret or token ever reaches `Debug`, `Display`, an error or a log line, even when a
//! server echoes them back.

mod common;

use common::{client, ACCESS_TOKEN, SECRET};
use plaid_sdk::types::{
    ItemPublicTokenExchangeRequest, ItemPublicTokenExchangeResponse, LinkTokenCreateRequest,
    TransactionsSyncRequest,
};
use plaid_sdk::{AccessToken, Error, PlaidClient, PublicToken};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PUBLIC_TOKEN: &str = "public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d";
/// The secret parts of the tokens (the `access-sandbox-` prefix is not secret).
const SECRET_PARTS: &[&str] = &[
    SECRET,
    "5cd6e1b1-1b5b-459d-9284-366e2da89755",
    "b0e2c4ee-a763-4df5-bfe9-46a46bce993d",
];

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for secret in SECRET_PARTS {
        assert!(!text.contains(secret), "{what} leaks {secret}:\n{text}");
    }
}

/// Display, Debug, pretty Debug, and every source in the chain.
#[track_caller]
fn assert_error_clean(e: &Error) {
    assert_clean("Display", &e.to_string());
    assert_clean("Debug", &format!("{e:?}"));
    assert_clean("pretty Debug", &format!("{e:#?}"));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        assert_clean("source", &s.to_string());
        source = s.source();
    }
}

#[test]
fn client_requests_and_responses_redact_tokens() {
    let builder = PlaidClient::builder().client_id("id").secret(SECRET);
    assert_clean("builder", &format!("{builder:?}"));
    let client = builder.build().unwrap();
    assert_clean("client", &format!("{client:?} {client:#?}"));

    let sync = TransactionsSyncRequest::new(ACCESS_TOKEN);
    assert_clean("request", &format!("{sync:?} {sync:#?}"));
    let mut update_mode: LinkTokenCreateRequest = serde_json::from_value(json!({
        "client_name": "App", "country_codes": ["US"], "language": "en",
        "user": { "client_user_id": "u" },
    }))
    .unwrap();
    update_mode.access_token = Some(AccessToken::new(ACCESS_TOKEN));
    assert_clean("update-mode request", &format!("{update_mode:?}"));
    let exchange = ItemPublicTokenExchangeRequest::new(PublicToken::new(PUBLIC_TOKEN));
    assert_clean("exchange request", &format!("{exchange:?}"));
    let response: ItemPublicTokenExchangeResponse = serde_json::from_value(json!({
        "access_token": ACCESS_TOKEN, "item_id": "item-1", "request_id": "r"
    }))
    .unwrap();
    assert_clean("response", &format!("{response:?} {response:#?}"));
    assert!(format!("{response:?}").contains("access-sandbox-[redacted]"));
    // The wire format is the real token: redaction is for humans only.
    assert!(serde_json::to_string(&response)
        .unwrap()
        .contains(ACCESS_TOKEN));
}

/// A server that echoes the request (headers and body) into its answer.
async fn echo_server(status: u16, as_plaid_error: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(move |req: &wiremock::Request| {
            let echo = format!("{:?} {}", req.headers, String::from_utf8_lossy(&req.body));
            if as_plaid_error {
                ResponseTemplate::new(status).set_body_json(json!({
                    "error_type": "INVALID_INPUT", "error_code": "INVALID_ACCESS_TOKEN",
                    "error_message": format!("bad token {ACCESS_TOKEN}; you sent {echo}"),
                    "display_message": format!("secret {SECRET}"),
                    "request_id": "r", "echo": echo,
                }))
            } else {
                ResponseTemplate::new(status)
                    .set_body_raw(format!("<html>{echo}</html>"), "text/html")
            }
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn every_error_variant_is_clean_even_when_the_server_echoes_secrets() {
    let request = TransactionsSyncRequest::new(ACCESS_TOKEN);

    // Api: a Plaid error whose messages and unknown fields echo the token and the secret.
    let e = client(&echo_server(400, true).await)
        .transactions_sync(&request)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api(_)));
    assert_error_clean(&e);

    // Http: an HTML page echoing the request headers (PLAID-SECRET) and body.
    let e = client(&echo_server(502, false).await)
        .without_retries()
        .transactions_sync(&request)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { .. }));
    assert_error_clean(&e);

    // Decode: a success body whose bad value is a token.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "added": ACCESS_TOKEN, "request_id": SECRET })),
        )
        .mount(&server)
        .await;
    let e = client(&server)
        .transactions_sync(&request)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_error_clean(&e);

    // Timeout.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let e = client(&server)
        .with_timeout(Duration::from_millis(50))
        .without_retries()
        .transactions_sync(&request)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }));
    assert_error_clean(&e);

    // Connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = PlaidClient::builder()
        .client_id("id")
        .secret(SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let e = refused
        .without_retries()
        .transactions_sync(&request)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }));
    assert_error_clean(&e);

    // Transport: the connection closes in the middle of the body.
    let addr = cut_off_server().await;
    let cut = PlaidClient::builder()
        .client_id("id")
        .secret(SECRET)
        .base_url(format!("http://{addr}"))
        .build()
        .unwrap();
    let e = cut
        .without_retries()
        .transactions_sync(&request)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_error_clean(&e);

    // InvalidRequest.
    let e = client(&echo_server(200, true).await)
        .transactions_sync(&TransactionsSyncRequest::new(""))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
    assert_error_clean(&e);

    // Config: a secret that cannot be a header value.
    let bad = format!("{SECRET}\n");
    let e = PlaidClient::builder()
        .client_id("id")
        .secret(bad.as_str())
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)));
    assert_error_clean(&e);
}

/// Answers every connection with a 200 that promises 1000 bytes and sends 10.
async fn cut_off_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0; 64 * 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"added\":[").await;
            let _ = socket.shutdown().await;
        }
    });
    addr
}

/// The hand-written layer's own types that hold a token: Link, the sync driver and the webhook
/// testing kit. (The offline sandbox's are checked in its own crate's tests.)
#[cfg(all(feature = "test-util", feature = "transactions"))]
#[tokio::test]
async fn link_sync_and_testing_kit_types_redact_tokens() {
    use plaid_sdk::sync::TransactionsSync;
    use plaid_sdk::webhook::testing::WebhookSigner;
    use plaid_sdk::webhook::WebhookVerifier;
    use plaid_sdk::{ProcessorToken, UserToken};

    let update = LinkTokenCreateRequest::update_mode("App", "u", AccessToken::new(ACCESS_TOKEN));
    assert_clean("update-mode link request", &format!("{update:?}"));
    let sync = TransactionsSync::new(ACCESS_TOKEN).cursor(Some("c".into()));
    assert_clean("sync settings", &format!("{sync:?}"));
    let processor = TransactionsSync::processor(ProcessorToken::new(ACCESS_TOKEN));
    assert_clean("processor sync settings", &format!("{processor:?}"));
    assert_clean(
        "user token",
        &format!("{:?} {:#?}", UserToken::new(SECRET), UserToken::new(SECRET)),
    );

    let server = wiremock::MockServer::start().await;
    let signer = WebhookSigner::new();
    signer.mount(&server).await;
    assert!(!format!("{signer:?}").contains("BEGIN"), "no key material");

    // A verifier refusing a token does not repeat it: signed with a key Plaid never issued.
    let verifier = WebhookVerifier::new(common::client(&server));
    let jwt = WebhookSigner::new().sign(b"{}");
    let mut headers = http::HeaderMap::new();
    headers.insert("plaid-verification", jwt.parse().unwrap());
    let refused = verifier.verify(&headers, b"{}").await.unwrap_err();
    for text in [refused.to_string(), format!("{refused:?}")] {
        assert!(!text.contains(&jwt), "the JWT leaks: {text}");
        assert!(
            !text.contains(jwt.split('.').nth(2).unwrap()),
            "the signature leaks"
        );
    }
}

/// Issue 30: `let saved: String = item.access_token;` does not compile and rustc suggested
/// `.to_string()`, whose `Display` stored `"access-sandbox-[redacted]"`: the token was lost
/// and the app learnt it at its next call. Every way a user might turn a token into text and
/// back either keeps the token or is refused before anything is sent. (`to_string()`,
/// `format!("{}")` and `.into()` no longer compile: the `compile_fail` examples in
/// `plaid_sdk::secret`'s docs check that.)
#[tokio::test]
async fn a_token_turned_into_text_is_kept_or_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "added": [], "modified": [], "removed": [], "accounts": [],
            "next_cursor": "c1", "has_more": false, "request_id": "r1",
            "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let token = AccessToken::new(ACCESS_TOKEN);

    // The ways that keep the token: each reaches Plaid with the real value.
    let kept = [
        (
            "expose_secret().to_owned()",
            token.expose_secret().to_owned(),
        ),
        ("clone().into_secret()", token.clone().into_secret()),
        (
            "serde_json round trip",
            serde_json::from_str::<String>(&serde_json::to_string(&token).unwrap()).unwrap(),
        ),
    ];
    for (how, stored) in kept {
        let before = server.received_requests().await.unwrap().len();
        client
            .transactions_sync(&TransactionsSyncRequest::new(AccessToken::new(stored)))
            .await
            .unwrap_or_else(|e| panic!("{how}: {e}"));
        let sent = server.received_requests().await.unwrap();
        assert_eq!(sent.len(), before + 1, "{how}");
        let body = String::from_utf8_lossy(&sent[before].body).into_owned();
        assert!(body.contains(ACCESS_TOKEN), "{how}: {body}");
    }

    // The ways that lose it: Debug output, and what an earlier version's to_string() stored.
    let lost = [
        ("format!(\"{:?}\")", format!("{token:?}")),
        (
            "an earlier version's to_string()",
            "access-sandbox-[redacted]".to_owned(),
        ),
    ];
    for (how, stored) in lost {
        let before = server.received_requests().await.unwrap().len();
        let e = client
            .transactions_sync(&TransactionsSyncRequest::new(AccessToken::new(
                stored.clone(),
            )))
            .await
            .expect_err(how);
        match &e {
            Error::InvalidRequest {
                operation, message, ..
            } => {
                assert_eq!(*operation, "transactions_sync");
                assert!(
                    message.contains("AccessToken holds the redacted text"),
                    "{how}: {message}"
                );
                assert!(message.contains("expose_secret()"), "{how}: {message}");
            }
            other => panic!("{how}: expected InvalidRequest, got {other:?}"),
        }
        assert!(!e.is_retryable(), "{how}");
        // An optional token field is refused the same way.
        let mut update_mode: LinkTokenCreateRequest = serde_json::from_value(json!({
            "client_name": "App", "country_codes": ["US"], "language": "en",
            "user": { "client_user_id": "u" },
        }))
        .unwrap();
        update_mode.access_token = Some(AccessToken::new(stored));
        let e = client.link_token_create(&update_mode).await.expect_err(how);
        assert!(matches!(e, Error::InvalidRequest { .. }), "{how}: {e:?}");
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            before,
            "{how}: nothing may be sent"
        );
    }
}

/// Generated types that carry other credentials print none of them (review, round 4): a
/// session's list of public tokens, a partner's end customer's API secrets, an imported Item's
/// auth token, a second access token under another name; nor does a raw response's `Debug`
/// print its body (an exchange's holds the access token).
#[test]
fn generated_types_redact_every_credential_and_raw_responses_hide_their_body() {
    // Types of both specs CI builds (1.482.3 has no OAuth types: their mapping is the
    // generator's unit test `other_secrets_point_at_redacting_schemas`).
    use plaid_sdk::types::{
        CreditRelayCreateRequest, CreditRelayCreateResponse, IncomeVerificationPrecheckRequest,
        ItemImportRequestUserAuth, LinkSessionFinishedWebhook, PartnerCustomerEnableResponse,
        PartnerEndCustomerSecrets, ProcessorStripeBankAccountTokenCreateResponse,
    };
    use plaid_sdk::webhook::WebhookEvent;
    const PARTNER_SECRET: &str = "9f86d081884c7d659a2feaa0c55ad0";
    const AUTH_TOKEN: &str = "import-auth-token-value-123";
    let finished = json!({
        "webhook_type": "LINK", "webhook_code": "SESSION_FINISHED", "status": "SUCCESS",
        "link_session_id": "s", "link_token": "link-sandbox-x", "environment": "sandbox",
        "public_tokens": [PUBLIC_TOKEN]
    });
    let event = WebhookEvent::parse(&serde_json::to_vec(&finished).unwrap()).unwrap();
    let finished: LinkSessionFinishedWebhook = serde_json::from_value(finished).unwrap();
    let enable: PartnerCustomerEnableResponse =
        serde_json::from_value(json!({ "production_secret": PARTNER_SECRET, "request_id": "r" }))
            .unwrap();
    let secrets: PartnerEndCustomerSecrets = serde_json::from_value(
        json!({ "sandbox": PARTNER_SECRET, "development": PARTNER_SECRET,
                "production": PARTNER_SECRET }),
    )
    .unwrap();
    let import: ItemImportRequestUserAuth =
        serde_json::from_value(json!({ "user_id": "u", "auth_token": AUTH_TOKEN })).unwrap();
    let precheck: IncomeVerificationPrecheckRequest =
        serde_json::from_value(json!({ "transactions_access_token": ACCESS_TOKEN })).unwrap();
    // Review round 7: the same asset report token was redacted as `asset_report_token` and
    // printed in `report_tokens`; a relay token and a Stripe bank account token were plain.
    const REPORT_TOKEN: &str = "assets-sandbox-6f12f5bb-22dd-4855-b918-f47ec439198a";
    const RELAY_TOKEN: &str = "credit-relay-sandbox-8218d5f8-6d6d-403d-92f5-13a9afaa4398";
    const STRIPE_TOKEN: &str = "btok_5oEetfLzPklE1fwJZ7SG";
    let relay: CreditRelayCreateRequest = serde_json::from_value(
        json!({ "report_tokens": [REPORT_TOKEN], "secondary_client_id": "c" }),
    )
    .unwrap();
    let relayed: CreditRelayCreateResponse =
        serde_json::from_value(json!({ "relay_token": RELAY_TOKEN, "request_id": "r" })).unwrap();
    let stripe: ProcessorStripeBankAccountTokenCreateResponse = serde_json::from_value(
        json!({ "stripe_bank_account_token": STRIPE_TOKEN, "request_id": "r" }),
    )
    .unwrap();
    let raw = plaid_sdk::RawResponse::new(
        "item_public_token_exchange",
        200,
        format!(r#"{{"access_token":"{ACCESS_TOKEN}","item_id":"i","request_id":"r"}}"#),
    );
    for (what, text, secret) in [
        (
            "LinkSessionFinishedWebhook",
            format!("{finished:?}"),
            PUBLIC_TOKEN,
        ),
        ("WebhookEvent", format!("{event:?}"), PUBLIC_TOKEN),
        (
            "PartnerCustomerEnableResponse",
            format!("{enable:?}"),
            PARTNER_SECRET,
        ),
        (
            "PartnerEndCustomerSecrets",
            format!("{secrets:?}"),
            PARTNER_SECRET,
        ),
        (
            "ItemImportRequestUserAuth",
            format!("{import:?}"),
            AUTH_TOKEN,
        ),
        (
            "IncomeVerificationPrecheckRequest",
            format!("{precheck:?}"),
            ACCESS_TOKEN,
        ),
        ("RawResponse", format!("{raw:?}"), ACCESS_TOKEN),
        (
            "CreditRelayCreateRequest",
            format!("{relay:?}"),
            REPORT_TOKEN,
        ),
        (
            "CreditRelayCreateResponse",
            format!("{relayed:?}"),
            RELAY_TOKEN,
        ),
        (
            "ProcessorStripeBankAccountTokenCreateResponse",
            format!("{stripe:?}"),
            STRIPE_TOKEN,
        ),
    ] {
        assert!(!text.contains(secret), "{what}: {text}");
    }
    // Still sent to Plaid as the plain strings it expects.
    let sent = serde_json::to_value(&precheck).unwrap();
    assert_eq!(sent["transactions_access_token"], ACCESS_TOKEN);
    let sent = serde_json::to_value(&relay).unwrap();
    assert_eq!(sent["report_tokens"], json!([REPORT_TOKEN]));
}

/// A webhook that does not parse as its type keeps serde's reason, without the values serde
/// quotes (review, round 4: a public token, a name).
#[test]
fn a_webhook_decode_error_quotes_no_value() {
    use plaid_sdk::webhook::WebhookEvent;
    // A string where the type wants an object: serde's message quotes it. (Fields of both
    // specs CI builds.)
    let bodies = [PUBLIC_TOKEN, "Jane O'Connor 123-45-6789"].map(|quoted| {
        json!({
            "webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": "i",
            "environment": "sandbox", "error": quoted
        })
    });
    for body in bodies {
        let event = WebhookEvent::parse(&serde_json::to_vec(&body).unwrap()).unwrap();
        let WebhookEvent::Unrecognized(raw) = &event else {
            panic!("parsed: {event:?}");
        };
        let reason = raw.decode_error.as_deref().expect("a reason");
        assert!(reason.starts_with("invalid type: "), "{reason}");
        for quoted in ["b0e2c4ee", "Jane", "6789"] {
            assert!(!reason.contains(quoted), "{reason}");
        }
    }
}

/// LOW (review round 18): a webhook kept whole (`Unrecognized`: a pair this build has no type
/// for, or a body that did not parse as its type) printed its whole body in `Debug`, public
/// token included; typed webhooks redact theirs. `{event:?}` in a log line is what apps write.
#[test]
fn a_webhook_kept_whole_prints_no_token_in_debug() {
    use plaid_sdk::webhook::WebhookEvent;
    let bodies = [
        // No `environment`: not the typed body, so kept whole.
        json!({ "webhook_type": "LINK", "webhook_code": "ITEM_ADD_RESULT",
                "link_session_id": "s", "link_token": "link-sandbox-0f1e2d3c-aaaa-bbbb-cccc-000000000001",
                "public_token": PUBLIC_TOKEN }),
        // A code this build has no type for, with the token under another name.
        json!({ "webhook_type": "LINK", "webhook_code": "FUTURE_CODE",
                "public_tokens": [PUBLIC_TOKEN], "user_secret": "not-a-token-shape-but-a-secret" }),
    ];
    for body in bodies {
        let event = WebhookEvent::parse(&serde_json::to_vec(&body).unwrap()).unwrap();
        let WebhookEvent::Unrecognized(raw) = &event else {
            panic!("parsed: {event:?}");
        };
        for text in [
            format!("{event:?}"),
            format!("{raw:?}"),
            format!("{raw:#?}"),
        ] {
            assert_clean("an unrecognized webhook's Debug", &text);
            assert!(!text.contains("0f1e2d3c"), "{text}");
            assert!(!text.contains("not-a-token-shape"), "{text}");
            // What a reader needs to tell webhooks apart is still there.
            assert!(text.contains("LINK"), "{text}");
        }
        // The body itself is kept whole, for the app to store or parse again.
        assert_eq!(raw.body, body);
    }
}
