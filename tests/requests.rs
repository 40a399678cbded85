//! What the client actually sends: headers, bodies, paths; and what it returns.

mod common;

use common::{client, ACCESS_TOKEN, CLIENT_ID, SECRET};
use plaid_sdk::types::{
    AssetReportPdfGetRequest, ItemPublicTokenExchangeRequest, LinkTokenCreateRequest, Products,
    TransactionsSyncRequest, TransactionsSyncRequestOptions,
};
use plaid_sdk::{AccessToken, Error, Operation, OperationInfo, OperationKind, RawResponse};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

fn header<'a>(request: &'a Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

fn assert_plaid_headers(request: &Request) {
    assert_eq!(header(request, "PLAID-CLIENT-ID"), CLIENT_ID);
    assert_eq!(header(request, "PLAID-SECRET"), SECRET);
    assert_eq!(header(request, "Plaid-Version"), "2020-09-14");
    assert!(header(request, "User-Agent")
        .starts_with(&format!("plaid-sdk-rust/{}", env!("CARGO_PKG_VERSION"))));
    assert_eq!(header(request, "Accept"), "application/json");
}

#[tokio::test]
async fn link_token_create_sends_credentials_as_headers_and_only_the_request_as_body() {
    let server = MockServer::start().await;
    let spec = common::load_spec();
    Mock::given(method("POST"))
        .and(path("/link/token/create"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::example_for(&spec, "/link/token/create")),
        )
        .mount(&server)
        .await;

    // Built from JSON: which fields `new` takes differs between spec versions (newer specs no
    // longer require `user`), and this test runs against both.
    let mut request: LinkTokenCreateRequest = serde_json::from_value(json!({
        "client_name": "My App", "country_codes": ["US"], "language": "en",
        "user": { "client_user_id": "user-42" },
    }))
    .unwrap();
    request.products = Some(vec![Products::Transactions]);
    request.webhook = Some("https://example.com/plaid/webhook".into());
    let response = client(&server).link_token_create(&request).await.unwrap();
    assert!(
        response.link_token.starts_with("link-"),
        "{}",
        response.link_token
    );

    let sent = only_request(&server).await;
    assert_plaid_headers(&sent);
    assert_eq!(header(&sent, "Content-Type"), "application/json");
    let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(
        body,
        json!({
            "client_name": "My App",
            "country_codes": ["US"],
            "language": "en",
            "user": { "client_user_id": "user-42" },
            "products": ["transactions"],
            "webhook": "https://example.com/plaid/webhook",
        }),
        "no credentials in the body, no nulls for fields left unset"
    );
}

#[tokio::test]
async fn public_token_exchange_returns_a_typed_access_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/item/public_token/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN, "item_id": "M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op", "request_id": "Aim3b"
        })))
        .mount(&server)
        .await;
    let response = client(&server)
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(
            "public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d",
        ))
        .await
        .unwrap();
    let token: AccessToken = response.access_token;
    assert_eq!(token.expose_secret(), ACCESS_TOKEN);
    assert_eq!(response.item_id, "M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op");
    let body: serde_json::Value =
        serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(
        body,
        json!({ "public_token": "public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d" })
    );
}

#[tokio::test]
async fn transactions_sync_sends_cursor_count_and_options() {
    let server = MockServer::start().await;
    let spec = common::load_spec();
    Mock::given(method("POST"))
        .and(path("/transactions/sync"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::example_for(&spec, "/transactions/sync")),
        )
        .mount(&server)
        .await;
    let request = TransactionsSyncRequest {
        cursor: Some("c-41".into()),
        count: Some(500),
        options: Some(TransactionsSyncRequestOptions {
            include_original_description: Some(true),
            ..Default::default()
        }),
        ..TransactionsSyncRequest::new(ACCESS_TOKEN)
    };
    let page = client(&server).transactions_sync(&request).await.unwrap();
    assert!(
        !page.added.is_empty(),
        "the spec's example has transactions"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(
        body,
        json!({ "access_token": ACCESS_TOKEN, "cursor": "c-41", "count": 500, "options": { "include_original_description": true } })
    );
}

#[tokio::test]
async fn binary_endpoints_return_the_bytes_unchanged() {
    let server = MockServer::start().await;
    let pdf = b"%PDF-1.7\n\x00\x01\x02binary\xff".to_vec();
    Mock::given(method("POST"))
        .and(path("/asset_report/pdf/get"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(pdf.clone(), "application/pdf"))
        .mount(&server)
        .await;
    let bytes = client(&server)
        .asset_report_pdf_get(&AssetReportPdfGetRequest::new(
            "assets-sandbox-6f12f5bb-22dd-4d17-a7a1-0b6a9bfc0a45",
        ))
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), pdf.as_slice());
}

#[tokio::test]
async fn user_agent_can_name_the_application() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = common::builder(&server)
        .user_agent("my-app/1.2")
        .build()
        .unwrap();
    let _ = client
        .send(&BetaThingGet {
            thing_id: "t".into(),
            trace: None,
        })
        .await;
    let ua = header(&only_request(&server).await, "User-Agent").to_owned();
    assert!(
        ua.starts_with("plaid-sdk-rust/") && ua.ends_with(" my-app/1.2"),
        "{ua}"
    );
}

/// An operation defined outside the spec, with a path parameter and a header parameter, sent
/// as `GET` without a body: the shape of the newest spec's FDX endpoints.
#[derive(serde::Serialize)]
struct BetaThingGet {
    #[serde(skip)]
    thing_id: String,
    #[serde(skip)]
    trace: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
struct BetaThing {
    name: String,
}

static BETA_THING_GET: OperationInfo = {
    let mut info = OperationInfo::new(
        "beta_thing_get",
        "/beta/things/{thingId}",
        OperationKind::Read,
    );
    info.method = "GET";
    info.has_body = false;
    info
};

impl Operation for BetaThingGet {
    type Response = BetaThing;
    const INFO: &'static OperationInfo = &BETA_THING_GET;
    fn path(&self) -> std::borrow::Cow<'static, str> {
        format!("/beta/things/{}", self.thing_id.replace('/', "%2F")).into()
    }
    fn headers(&self) -> Vec<(&'static str, String)> {
        self.trace.iter().map(|t| ("X-Trace", t.clone())).collect()
    }
    fn validate(&self) -> Result<(), String> {
        if self.thing_id.is_empty() {
            return Err("thing_id is empty".into());
        }
        Ok(())
    }
    fn decode(raw: RawResponse) -> Result<BetaThing, Error> {
        raw.json()
    }
}

#[tokio::test]
async fn operations_can_have_path_and_header_parameters_and_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/beta/things/a%2Fb"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "name": "widget" })))
        .mount(&server)
        .await;
    let thing = client(&server)
        .send(&BetaThingGet {
            thing_id: "a/b".into(),
            trace: Some("t-1".into()),
        })
        .await
        .unwrap();
    assert_eq!(thing.name, "widget");
    let sent = only_request(&server).await;
    assert_plaid_headers(&sent);
    assert_eq!(header(&sent, "X-Trace"), "t-1");
    assert!(sent.body.is_empty(), "GET sends no body");
    assert!(
        sent.headers.get("Content-Type").is_none(),
        "no body, no content type"
    );
}

#[tokio::test]
async fn caller_mistakes_are_rejected_before_anything_is_sent() {
    let server = MockServer::start().await;
    let e = client(&server)
        .send(&BetaThingGet {
            thing_id: String::new(),
            trace: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { operation: "beta_thing_get", message } if message == "thing_id is empty"),
        "{e:?}"
    );
    let e = client(&server)
        .send(&BetaThingGet {
            thing_id: "x".into(),
            trace: Some("bad\nvalue".into()),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRequest { message, .. } if message.contains("X-Trace")),
        "{e:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
