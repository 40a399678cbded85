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
    let request = TransactionsSyncRequest::new(ACCESS_TOKEN)
        .cursor("c-41")
        .count(500)
        .options(TransactionsSyncRequestOptions::new().include_original_description(true));
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
        matches!(&e, Error::InvalidRequest { operation: "beta_thing_get", message, .. } if message == "thing_id is empty"),
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

/// The media types the spec declares for an operation's success responses, in order.
fn declared_media_types(spec: &serde_json::Value, info: &OperationInfo) -> Vec<String> {
    let op = &spec["paths"][info.path][info.method.to_lowercase()];
    let mut types = Vec::new();
    for (status, response) in op["responses"].as_object().unwrap() {
        if status.starts_with('2') {
            for media in response["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|c| c.0)
            {
                if !types.contains(media) {
                    types.push(media.clone());
                }
            }
        }
    }
    types
}

/// Every operation sends the `Accept` its spec declares: a PDF or ZIP download asks for its
/// file type (with JSON, for Plaid's errors), not for JSON alone. Prism answers `406` to a file
/// operation asked for JSON only, which is how all of them failed conformance before.
#[tokio::test]
async fn every_operation_accepts_the_media_types_its_spec_declares() {
    let spec = common::load_spec();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(b"%PDF-1.7".to_vec(), "application/pdf"),
        )
        .mount(&server)
        .await;
    let mut files = 0;
    for info in plaid_sdk::operations::ALL {
        let declared = declared_media_types(&spec, info);
        let accept: Vec<&str> = info.accept.split(", ").collect();
        for (i, media) in declared.iter().enumerate() {
            assert_eq!(
                accept.get(i),
                Some(&media.as_str()),
                "{}: {}",
                info.name,
                info.accept
            );
        }
        assert!(info.accept.contains("application/json"), "{}", info.name);
        if declared.iter().any(|m| m != "application/json") {
            files += 1;
            let body = common::synth::value(
                &spec,
                &spec["paths"][info.path]["post"]["requestBody"]["content"]["application/json"]
                    ["schema"],
                common::synth::Fill::Required,
            );
            plaid_sdk::operations::__send_json(
                &client(&server),
                info.name,
                body,
                &Default::default(),
            )
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", info.name));
            let sent = server.received_requests().await.unwrap().pop().unwrap();
            assert_eq!(header(&sent, "Accept"), info.accept, "{}", info.name);
            assert!(
                header(&sent, "Accept").starts_with(declared[0].as_str()),
                "{}",
                info.name
            );
        }
    }
    assert!(
        files >= 4,
        "the spec has PDF and ZIP downloads; found {files}"
    );
}

/// A header parameter (`Plaid-New-User-API-Enabled` on the `/user/*` calls of 1.697.4) is sent
/// as a header when it is set, not at all when it is not, and never in the JSON body: the
/// generated `Serialize` once wrote it into the body as `null`, unlike serde's derive.
#[tokio::test]
async fn header_parameters_go_as_headers_only_when_set_and_never_in_the_body() {
    let spec = common::load_spec();
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "request_id": "r" })))
        .mount(&server)
        .await;
    let mut checked = 0;
    let mut in_spec = 0;
    let mut names = std::collections::BTreeSet::new();
    for info in plaid_sdk::operations::ALL {
        let op = &spec["paths"][info.path][info.method.to_lowercase()];
        // Parameters are often `$ref`s (`PlaidNewUserApiEnabledHeader` on every `/user/*`).
        let declared: Vec<&serde_json::Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| common::resolve(&spec, p))
            .collect();
        let headers: Vec<&serde_json::Value> = declared
            .iter()
            .copied()
            .filter(|p| p["in"] == "header")
            .collect();
        if headers.is_empty() {
            continue;
        }
        in_spec += headers.len();
        let schema = op.pointer("/requestBody/content/application~1json/schema");
        let body = schema.map_or(json!({}), |s| {
            common::synth::value(&spec, s, common::synth::Fill::Required)
        });
        for set in [false, true] {
            let mut params = serde_json::Map::new();
            for p in &declared {
                if set || p["required"] == json!(true) {
                    params.insert(
                        p["name"].as_str().unwrap().into(),
                        common::synth::value(&spec, &p["schema"], common::synth::Fill::All),
                    );
                }
            }
            let _ = plaid_sdk::operations::__send_json(
                &client(&server),
                info.name,
                body.clone(),
                &params,
            )
            .await
            .unwrap();
            let sent = server.received_requests().await.unwrap().pop().unwrap();
            for p in &headers {
                let name = p["name"].as_str().unwrap();
                let snake = name.to_lowercase().replace('-', "_");
                assert!(
                    !String::from_utf8_lossy(&sent.body).contains(&snake),
                    "{}: {name} in the body: {}",
                    info.name,
                    String::from_utf8_lossy(&sent.body)
                );
                let required = p["required"] == json!(true);
                assert_eq!(
                    sent.headers.get(name).is_some(),
                    set || required,
                    "{}: header {name} when {}set",
                    info.name,
                    if set { "" } else { "not " }
                );
                if set {
                    checked += 1;
                    names.insert(format!("{} {name}", info.path));
                }
            }
        }
    }
    assert_eq!(
        checked, in_spec,
        "every header parameter of the spec was checked"
    );
    // 1.697.4 gives /user/create the header (by `$ref`); 1.482.3 has no parameters there.
    if spec
        .pointer("/paths/~1user~1create/post/parameters")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|p| !p.is_empty())
    {
        assert!(
            names.contains("/user/create Plaid-New-User-API-Enabled"),
            "the header parameter the spec puts on /user/create was checked: {names:?}"
        );
    }
}
