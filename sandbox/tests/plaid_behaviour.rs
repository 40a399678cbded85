//! Plaid's sandbox, as its docs describe it (plaid.com/docs/sandbox/ and the pages under it;
//! GUIDE §7), reproduced: one test per behaviour, over plain HTTP so that what is checked is
//! the wire (a field left out is not a `null`).

use plaid_sandbox::{Sandbox, SentWebhook, WebhookChaos};
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Api {
    sandbox: Sandbox,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        Api::with(Sandbox::start().await)
    }

    fn with(sandbox: Sandbox) -> Api {
        Api {
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `body` to `path` with the sandbox's keys: the status and the JSON answer.
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.uri()))
            .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
            .header("PLAID-SECRET", plaid_sandbox::SECRET)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A successful call's answer.
    async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, 200, "{path}: {answer}");
        answer
    }

    /// A refused call's `error_code`.
    async fn refused(&self, path: &str, body: Value) -> String {
        let (status, answer) = self.post(path, body).await;
        assert!(status >= 400, "{path} succeeded: {answer}");
        assert!(answer["request_id"].is_string(), "{answer}");
        answer["error_code"].as_str().unwrap_or_default().to_owned()
    }

    /// An Item made with the sandbox shortcut: (access token, item id).
    async fn item(&self, institution: &str, products: Value, options: Value) -> (String, String) {
        let public = self
            .ok(
                "/sandbox/public_token/create",
                json!({ "institution_id": institution, "initial_products": products, "options": options }),
            )
            .await;
        let item = self
            .ok(
                "/item/public_token/exchange",
                json!({ "public_token": public["public_token"] }),
            )
            .await;
        (
            item["access_token"].as_str().unwrap().to_owned(),
            item["item_id"].as_str().unwrap().to_owned(),
        )
    }

    /// Every transaction of a `/transactions/sync` loop from the start, and the last answer.
    async fn sync_all(&self, access: &str, options: Value) -> (Vec<Value>, Value) {
        let (mut added, mut cursor) = (Vec::new(), String::new());
        loop {
            let page = self
                .ok(
                    "/transactions/sync",
                    json!({ "access_token": access, "cursor": cursor, "count": 500, "options": options }),
                )
                .await;
            added.extend(page["added"].as_array().unwrap().iter().cloned());
            cursor = page["next_cursor"].as_str().unwrap().to_owned();
            if page["has_more"] != true {
                return (added, page);
            }
        }
    }
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// The `webhook_code` of each webhook sent.
fn codes_of(sent: &[SentWebhook]) -> Vec<&str> {
    sent.iter()
        .map(|w| w.body["webhook_code"].as_str().unwrap_or_default())
        .collect()
}

fn codes(sandbox: &Sandbox) -> Vec<String> {
    codes_of(&sandbox.webhooks())
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// `required_if_supported_products` and `optional_products` are extracted where the
/// institution supports them and an account the user kept serves them, and left out
/// elsewhere; `additional_consented_products` is consent only. Required ones are billed at
/// once; an optional Auth, Identity or Signal only once used (the spec's descriptions and
/// Plaid's "Choosing how to initialize products"; round 16: the first two were kept as
/// consent only, so `/transactions/get` on such an Item was `PRODUCT_NOT_READY` at first and
/// its transactions webhooks came late).
#[tokio::test]
async fn products_required_if_supported_or_optional_are_extracted_where_supported() {
    let api = Api::start().await;
    let link = |institution: &'static str, username: &'static str, password: String| {
        let api = &api;
        async move {
            let made = api
                .ok(
                    "/link/token/create",
                    json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
                            "user": { "client_user_id": "user-7" }, "products": ["transactions"],
                            "required_if_supported_products": ["auth"],
                            "optional_products": ["identity"],
                            "additional_consented_products": ["liabilities"] }),
                )
                .await;
            let token = made["link_token"].as_str().unwrap();
            let public = api
                .sandbox
                .complete_link_as(token, institution, username, &password)
                .unwrap();
            let item = api
                .ok(
                    "/item/public_token/exchange",
                    json!({ "public_token": public.expose_secret() }),
                )
                .await;
            item["access_token"].as_str().unwrap().to_owned()
        }
    };
    let sorted = |list: &Value| {
        let mut names: Vec<String> = serde_json::from_value(list.clone()).unwrap();
        names.sort();
        names
    };
    let item = async |access: &str| {
        api.ok("/item/get", json!({ "access_token": access })).await["item"].clone()
    };
    let access = link("ins_109508", "user_good", "pass_good".into()).await;
    let got = item(&access).await;
    assert_eq!(
        sorted(&got["products"]),
        ["auth", "identity", "transactions"],
        "{got}"
    );
    assert_eq!(sorted(&got["billed_products"]), ["auth", "transactions"]);
    api.ok("/auth/get", json!({ "access_token": access })).await;
    api.ok("/identity/get", json!({ "access_token": access }))
        .await;
    let got = item(&access).await;
    assert_eq!(
        sorted(&got["billed_products"]),
        ["auth", "identity", "transactions"],
        "the optional Identity billed once used: {got}"
    );
    // Tattersall offers neither Auth nor Identity: the Item is made without them.
    let access = link("ins_109510", "user_good", "pass_good".into()).await;
    assert_eq!(item(&access).await["products"], json!(["transactions"]));
    // A user whose only account is a credit card: no account serves Auth.
    let card = json!({ "override_accounts": [{ "type": "credit", "subtype": "credit card",
                                                "starting_balance": 100 }] });
    let access = link("ins_109508", "user_custom", card.to_string()).await;
    let got = item(&access).await;
    assert_eq!(
        sorted(&got["products"]),
        ["identity", "transactions"],
        "{got}"
    );
}

#[tokio::test]
async fn link_tokens_in_both_modes_and_the_sessions_link_token_get_reports() {
    let api = Api::start().await;
    let made = api
        .ok(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
                    "user": { "client_user_id": "user-7" }, "products": ["transactions"],
                    "webhook": "http://127.0.0.1:9/hook" }),
        )
        .await;
    let token = made["link_token"].as_str().unwrap();
    assert!(token.starts_with("link-sandbox-"));
    let public = api.sandbox.complete_link(token, "ins_109508").unwrap();
    let got = api
        .ok("/link/token/get", json!({ "link_token": token }))
        .await;
    assert_eq!(got["metadata"]["initial_products"], json!(["transactions"]));
    assert_eq!(got["metadata"]["webhook"], "http://127.0.0.1:9/hook");
    let session = &got["link_sessions"][0];
    assert_eq!(
        session["on_success"]["public_token"],
        public.expose_secret()
    );
    assert_eq!(
        session["results"]["item_add_results"][0]["institution"]["institution_id"],
        "ins_109508"
    );
    assert_eq!(
        api.sandbox.link_token_user(token).as_deref(),
        Some("user-7")
    );
    // Update mode names an Item (and needs no products); a bad token is refused.
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let update = api
        .ok(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
                    "user": { "client_user_id": "user-7" }, "access_token": access }),
        )
        .await;
    assert!(update["link_token"].is_string());
    assert_eq!(
        api.refused(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
            "user": { "client_user_id": "u" }, "access_token": "access-sandbox-nope" })
        )
        .await,
        "INVALID_ACCESS_TOKEN"
    );
    assert_eq!(
        api.refused("/link/token/get", json!({ "link_token": "link-sandbox-x" }))
            .await,
        "INVALID_LINK_TOKEN"
    );
    assert_eq!(
        api.refused(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
            "user": { "client_user_id": "u" }, "products": ["balance"] })
        )
        .await,
        "INVALID_PRODUCT",
        "Plaid refuses balance in /link/token/create"
    );
    // A name over 30 characters is accepted (Link shows "This Application"); a language
    // outside the spec's list is not.
    let long = api
        .ok(
            "/link/token/create",
            json!({ "client_name": "The Very Long Name Of A Budgeting App, Inc.",
                    "language": "en", "country_codes": ["US"],
                    "user": { "client_user_id": "u" }, "products": ["transactions"] }),
        )
        .await;
    assert!(long["link_token"].is_string());
    assert_eq!(
        api.refused(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "xx", "country_codes": ["US"],
            "user": { "client_user_id": "u" }, "products": ["transactions"] })
        )
        .await,
        "INVALID_FIELD"
    );
}

/// Plaid checks every request against its schema, the stateful operations' too: an unknown
/// field (a typo, a field of another version) is `UNKNOWN_FIELDS`, nested ones included, and
/// a value outside an enum is `INVALID_FIELD`.
/// Review round 15: the consent Link collects is for the link token's `products` and its
/// `additional_consented_products`, `optional_products` and `required_if_supported_products`
/// (the spec's `consented_products`: "all products where ... the user has consented"); the
/// sandbox reported `products` only. Consent alone (`additional_consented_products`) is not a
/// product yet (nor billed); an optional product the bank supports is extracted (see
/// `products_required_if_supported_or_optional_are_extracted_where_supported`).
#[tokio::test]
async fn consented_products_are_those_link_asked_consent_for() {
    let api = Api::start().await;
    let made = api
        .ok(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
                    "user": { "client_user_id": "user-8" }, "products": ["transactions"],
                    "additional_consented_products": ["auth"],
                    "optional_products": ["identity"] }),
        )
        .await;
    let token = made["link_token"].as_str().unwrap();
    let public = api.sandbox.complete_link(token, "ins_109508").unwrap();
    let exchanged = api
        .ok(
            "/item/public_token/exchange",
            json!({ "public_token": public.expose_secret() }),
        )
        .await;
    let got = api
        .ok(
            "/item/get",
            json!({ "access_token": exchanged["access_token"] }),
        )
        .await;
    let mut consented: Vec<String> =
        serde_json::from_value(got["item"]["consented_products"].clone()).unwrap();
    consented.sort();
    assert_eq!(consented, ["auth", "identity", "transactions"], "{got}");
    assert_eq!(got["item"]["products"], json!(["transactions", "identity"]));
    // An optional Identity is billed only once used.
    assert_eq!(got["item"]["billed_products"], json!(["transactions"]));

    // Update mode is how an app asks for more consent.
    let update = api
        .ok(
            "/link/token/create",
            json!({ "client_name": "Acme", "language": "en", "country_codes": ["US"],
                    "user": { "client_user_id": "user-8" },
                    "access_token": exchanged["access_token"],
                    "additional_consented_products": ["liabilities"] }),
        )
        .await;
    api.sandbox
        .complete_update(update["link_token"].as_str().unwrap())
        .unwrap();
    let got = api
        .ok(
            "/item/get",
            json!({ "access_token": exchanged["access_token"] }),
        )
        .await;
    let consented = got["item"]["consented_products"].as_array().unwrap();
    assert!(consented.contains(&json!("liabilities")), "{got}");
    assert_eq!(consented.len(), 4, "{got}");
}

#[tokio::test]
async fn stateful_operations_refuse_unknown_fields_and_values_outside_the_spec() {
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let cases = [
        (
            "/transactions/sync",
            json!({ "access_token": access, "bogus": true }),
            "UNKNOWN_FIELDS",
        ),
        (
            "/transactions/get",
            json!({ "access_token": access, "start_date": "2026-01-01",
                    "end_date": "2026-02-01", "option": { "count": 5 } }),
            "UNKNOWN_FIELDS",
        ),
        (
            "/transactions/sync",
            json!({ "access_token": access, "options": { "cont": 5 } }),
            "UNKNOWN_FIELDS",
        ),
        (
            "/processor/token/create",
            json!({ "access_token": access, "account_id": "a", "processor": "notaprocessor" }),
            "INVALID_FIELD",
        ),
        (
            "/sandbox/item/fire_webhook",
            json!({ "access_token": access, "webhook_code": "PENDING_EXPIRATION" }),
            "INVALID_FIELD",
        ),
    ];
    for (path, body, code) in cases {
        assert_eq!(api.refused(path, body.clone()).await, code, "{path} {body}");
    }
}

#[tokio::test]
async fn public_tokens_are_single_use_and_expire_after_30_minutes() {
    let api = Api::with(
        Sandbox::builder()
            .today(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
            .start()
            .await,
    );
    let make = || async {
        api.ok(
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_109508", "initial_products": ["auth"] }),
        )
        .await["public_token"]
            .clone()
    };
    let once = make().await;
    api.ok(
        "/item/public_token/exchange",
        json!({ "public_token": once }),
    )
    .await;
    assert_eq!(
        api.refused(
            "/item/public_token/exchange",
            json!({ "public_token": once })
        )
        .await,
        "INVALID_PUBLIC_TOKEN"
    );
    let late = make().await;
    api.sandbox.advance_clock(Duration::from_secs(31 * 60));
    assert_eq!(
        api.refused(
            "/item/public_token/exchange",
            json!({ "public_token": late })
        )
        .await,
        "INVALID_PUBLIC_TOKEN"
    );
}

#[tokio::test]
async fn the_item_get_remove_webhook_update_invalidate_and_import() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let (access, item_id) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let got = api.ok("/item/get", json!({ "access_token": access })).await;
    assert_eq!(got["item"]["item_id"], item_id);
    assert_eq!(got["item"]["billed_products"], json!(["transactions"]));
    let available = got["item"]["available_products"].as_array().unwrap();
    assert!(available.contains(&json!("auth")));
    let mut once = available.clone();
    once.sort_by_key(|p| p.to_string());
    once.dedup();
    assert_eq!(
        once.len(),
        available.len(),
        "each product once: {available:?}"
    );
    assert!(
        got["status"]["transactions"]["last_successful_update"].is_string(),
        "{got}"
    );
    assert!(got["item"].get("webhook").is_none() || got["item"]["webhook"].is_null());

    let url = format!("{}/hooks", hooks.uri());
    api.ok(
        "/item/webhook/update",
        json!({ "access_token": access, "webhook": url }),
    )
    .await;
    let sent = api.sandbox.wait_for_webhooks(1).await;
    assert_eq!(sent[0].body["webhook_code"], "WEBHOOK_UPDATE_ACKNOWLEDGED");
    assert_eq!(sent[0].body["new_webhook_url"], url.as_str());
    let got = api.ok("/item/get", json!({ "access_token": access })).await;
    assert_eq!(
        got["status"]["last_webhook"]["code_sent"],
        "WEBHOOK_UPDATE_ACKNOWLEDGED"
    );

    let fresh = api
        .ok(
            "/item/access_token/invalidate",
            json!({ "access_token": access }),
        )
        .await;
    let fresh = fresh["new_access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        api.refused("/accounts/get", json!({ "access_token": access }))
            .await,
        "INVALID_ACCESS_TOKEN"
    );
    api.ok("/accounts/get", json!({ "access_token": fresh }))
        .await;
    api.ok("/item/remove", json!({ "access_token": fresh }))
        .await;
    assert_eq!(
        api.refused("/item/get", json!({ "access_token": fresh }))
            .await,
        "ITEM_NOT_FOUND"
    );

    let imported = api
        .ok("/item/import", json!({ "products": ["identity"], "user_auth": { "user_id": "user_good", "auth_token": "pass_good" } }))
        .await;
    api.ok(
        "/identity/get",
        json!({ "access_token": imported["access_token"] }),
    )
    .await;
    assert_eq!(
        api.refused("/item/import", json!({ "products": ["identity"], "user_auth": { "user_id": "user_good", "auth_token": "nope" } })).await,
        "INVALID_CREDENTIALS"
    );
}

#[tokio::test]
async fn accounts_are_plaids_and_balances_follow_the_transactions() {
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let accounts = api
        .ok("/accounts/get", json!({ "access_token": access }))
        .await["accounts"]
        .clone();
    let masks: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["mask"].as_str().unwrap())
        .collect();
    assert_eq!(
        masks,
        [
            "0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9001", "9002",
            "9999"
        ]
    );
    assert_eq!(accounts[0]["name"], "Plaid Checking");
    assert_eq!(
        accounts[2]["balances"]["current"], 1000.0,
        "the CD: Plaid's static balance"
    );
    // Checking: opening 4,210 less the posted amounts; available less the pending ones too.
    let sync = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": access, "count": 500 }),
        )
        .await;
    let mut posted = 0.0;
    for t in sync["added"].as_array().unwrap() {
        if t["account_id"] == accounts[0]["account_id"] && t["pending"] == false {
            posted += t["amount"].as_f64().unwrap();
        }
    }
    let current = accounts[0]["balances"]["current"].as_f64().unwrap();
    assert!(
        (current - (4_210.0 - posted)).abs() < 0.01,
        "{current} vs {posted}"
    );
    let balance = api
        .ok("/accounts/balance/get", json!({ "access_token": access }))
        .await;
    assert_eq!(
        balance["accounts"][0]["balances"]["current"],
        accounts[0]["balances"]["current"]
    );
}

#[tokio::test]
async fn refresh_recurring_streams_and_the_dynamic_user() {
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let recurring = api
        .ok(
            "/transactions/recurring/get",
            json!({ "access_token": access }),
        )
        .await;
    let inflow: Vec<&str> = recurring["inflow_streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["frequency"].as_str().unwrap())
        .collect();
    assert!(
        inflow.contains(&"SEMI_MONTHLY"),
        "pay day on the 1st and 15th: {inflow:?}"
    );
    assert!(recurring["outflow_streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["description"] == "ZELLE PAYMENT TO LANDLORD" && s["frequency"] == "MONTHLY"));

    // user_transactions_dynamic: about 50 transactions, pending and posted; a refresh posts the
    // pending ones, adds new pending ones, and adds $1.00 to one earlier amount.
    let hooks = receiver().await;
    let (dynamic, _) = api
        .item("ins_109508", json!(["transactions"]), json!({ "override_username": "user_transactions_dynamic", "override_password": "x", "webhook": format!("{}/h", hooks.uri()) }))
        .await;
    let first = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": dynamic, "count": 500 }),
        )
        .await;
    let added = first["added"].as_array().unwrap();
    assert_eq!(added.len(), 50);
    let pending: Vec<&Value> = added.iter().filter(|t| t["pending"] == true).collect();
    assert!(!pending.is_empty() && pending.len() < 50);
    api.ok("/transactions/refresh", json!({ "access_token": dynamic }))
        .await;
    let next = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": dynamic, "cursor": first["next_cursor"], "count": 500 }),
        )
        .await;
    assert_eq!(
        next["removed"].as_array().unwrap().len(),
        pending.len(),
        "every pending one posts"
    );
    assert_eq!(
        next["modified"].as_array().unwrap().len(),
        1,
        "one amount changes"
    );
    assert!(
        next["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["pending"] == true),
        "new pending ones"
    );
    // After the two Plaid sends once it has pulled the new Item's transactions.
    let sent = api.sandbox.wait_for_webhooks(5).await;
    let codes = codes_of(&sent);
    assert_eq!(
        codes,
        [
            "INITIAL_UPDATE",
            "HISTORICAL_UPDATE",
            "SYNC_UPDATES_AVAILABLE",
            "DEFAULT_UPDATE",
            "TRANSACTIONS_REMOVED"
        ]
    );

    // /sandbox/transactions/create: dynamic Items only, at most 10, dated within 14 days.
    let today = api.sandbox.now().date_naive().to_string();
    let t = json!({ "date_transacted": today, "date_posted": today, "amount": 12.34, "description": "Made by a test" });
    api.ok(
        "/sandbox/transactions/create",
        json!({ "access_token": dynamic, "transactions": [t] }),
    )
    .await;
    let after = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": dynamic, "cursor": next["next_cursor"] }),
        )
        .await;
    assert!(after["added"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["name"] == "Made by a test"));
    assert_eq!(
        api.refused(
            "/sandbox/transactions/create",
            json!({ "access_token": access, "transactions": [t] })
        )
        .await,
        "INVALID_FIELD"
    );
    assert_eq!(
        api.refused(
            "/sandbox/transactions/create",
            json!({ "access_token": dynamic, "transactions": vec![t.clone(); 11] })
        )
        .await,
        "INVALID_FIELD"
    );
    let old = json!({ "date_transacted": "2020-01-01", "date_posted": "2020-01-02", "amount": 1, "description": "old" });
    assert_eq!(
        api.refused(
            "/sandbox/transactions/create",
            json!({ "access_token": dynamic, "transactions": [old] })
        )
        .await,
        "INVALID_FIELD"
    );
}

#[tokio::test]
async fn auth_identity_investments_and_liabilities() {
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    // Auth was not in the Item's products: the first call adds it, as Plaid does.
    let auth = api.ok("/auth/get", json!({ "access_token": access })).await;
    let ach = auth["numbers"]["ach"].as_array().unwrap();
    assert_eq!(ach[0]["account"], "1111222233330000");
    assert_eq!(ach[0]["routing"], "011401533");
    assert_eq!(ach[0]["wire_routing"], "021000021");
    assert_eq!(ach.len(), 3, "checking, savings, cash management");
    let item = api.ok("/item/get", json!({ "access_token": access })).await;
    assert_eq!(
        item["item"]["billed_products"],
        json!(["transactions", "auth"])
    );

    let identity = api
        .ok("/identity/get", json!({ "access_token": access }))
        .await;
    let owner = &identity["accounts"][0]["owners"][0];
    assert_eq!(owner["names"], json!(["Alberta Bobbeth Charleson"]));
    assert_eq!(owner["addresses"][0]["data"]["street"], "2992 Cameron Road");
    assert_eq!(owner["emails"][0]["data"], "accountholder0@example.com");

    let holdings = api
        .ok(
            "/investments/holdings/get",
            json!({ "access_token": access }),
        )
        .await;
    assert_eq!(
        holdings["accounts"].as_array().unwrap().len(),
        2,
        "the IRA and the 401k"
    );
    assert!(holdings["securities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["ticker_symbol"] == "DBLTX"));
    // Review round 15: holdings added investments to the Item, but its status had no
    // `last_successful_update` (only /investments/transactions/get recorded one).
    let item = api.ok("/item/get", json!({ "access_token": access })).await;
    assert!(
        item["status"]["investments"]["last_successful_update"].is_string(),
        "{}",
        item["status"]
    );
    // Plaid's Item.products: Assets is added but not billed before /asset_report/create.
    let (assets, _) = api
        .item("ins_109508", json!(["assets", "transactions"]), json!({}))
        .await;
    let item = api.ok("/item/get", json!({ "access_token": assets })).await;
    assert_eq!(
        (&item["item"]["products"], &item["item"]["billed_products"]),
        (&json!(["assets", "transactions"]), &json!(["transactions"])),
    );
    let today = api.sandbox.now().date_naive();
    let txns = api
        .ok("/investments/transactions/get", json!({ "access_token": access, "start_date": (today - chrono::Days::new(365)).to_string(), "end_date": today.to_string() }))
        .await;
    assert!(txns["total_investment_transactions"].as_i64().unwrap() > 0);

    let liabilities = api
        .ok("/liabilities/get", json!({ "access_token": access }))
        .await;
    assert_eq!(
        liabilities["liabilities"]["credit"][0]["aprs"][0]["apr_type"],
        "balance_transfer_apr"
    );
    assert_eq!(
        liabilities["liabilities"]["student"][0]["guarantor"],
        "DEPT OF ED"
    );
    assert_eq!(
        liabilities["liabilities"]["mortgage"][0]["interest_rate"]["percentage"],
        3.99
    );

    // An institution without Auth (Tattersall): PRODUCTS_NOT_SUPPORTED; an Item without
    // investment accounts: NO_INVESTMENT_ACCOUNTS.
    let (tattersall, _) = api
        .item("ins_109510", json!(["transactions"]), json!({}))
        .await;
    assert_eq!(
        api.refused("/auth/get", json!({ "access_token": tattersall }))
            .await,
        "PRODUCTS_NOT_SUPPORTED"
    );
    let (dynamic, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "override_username": "user_transactions_dynamic", "override_password": "x" }),
        )
        .await;
    assert_eq!(
        api.refused(
            "/investments/holdings/get",
            json!({ "access_token": dynamic })
        )
        .await,
        "NO_INVESTMENT_ACCOUNTS"
    );

    // A UK bank (Royal Bank of Plaid): BACS numbers, and IBANs that pass ISO 13616's check
    // (moved to the end, letters as 10..35, mod 97 is 1) and hold the BACS sort code and account.
    let (uk, _) = api.item("ins_117650", json!(["auth"]), json!({})).await;
    let auth = api.ok("/auth/get", json!({ "access_token": uk })).await;
    let bacs = auth["numbers"]["bacs"].as_array().unwrap();
    let international = auth["numbers"]["international"].as_array().unwrap();
    assert_eq!(international.len(), bacs.len());
    assert!(!bacs.is_empty());
    for (b, i) in bacs.iter().zip(international) {
        let iban = i["iban"].as_str().unwrap();
        let (head, tail) = iban.split_at(4);
        let remainder = tail.chars().chain(head.chars()).fold(0u32, |acc, c| {
            let v = c.to_digit(36).unwrap();
            (acc * if v >= 10 { 100 } else { 10 } + v) % 97
        });
        assert_eq!(remainder, 1, "{iban} fails the IBAN check");
        let bban = format!(
            "{}{}",
            b["sort_code"].as_str().unwrap(),
            b["account"].as_str().unwrap()
        );
        assert!(iban.ends_with(&bban), "{iban} does not hold {bban}");
    }
}

#[tokio::test]
async fn institutions_get_search_and_get_by_id_with_optional_metadata() {
    let api = Api::start().await;
    let page = api
        .ok(
            "/institutions/get",
            json!({ "count": 5, "offset": 0, "country_codes": ["US"] }),
        )
        .await;
    assert_eq!(page["institutions"].as_array().unwrap().len(), 5);
    assert!(page["total"].as_i64().unwrap() >= 14);
    let found = api
        .ok(
            "/institutions/search",
            json!({ "query": "platypus oauth", "country_codes": ["US"] }),
        )
        .await;
    let ids: Vec<&str> = found["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["institution_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ins_127287", "ins_132241"]);
    assert_eq!(found["institutions"][0]["oauth"], true);
    let plain = api
        .ok(
            "/institutions/get_by_id",
            json!({ "institution_id": "ins_109511", "country_codes": ["US"] }),
        )
        .await;
    for field in ["url", "logo", "primary_color", "status"] {
        assert!(
            plain["institution"].get(field).is_none(),
            "{field} is left out, not null: {plain}"
        );
    }
    let full = api
        .ok("/institutions/get_by_id", json!({ "institution_id": "ins_109511", "country_codes": ["US"], "options": { "include_optional_metadata": true, "include_status": true } }))
        .await;
    assert_eq!(full["institution"]["primary_color"], "#174e7c");
    assert_eq!(full["institution"]["url"], "https://www.plaid.com/");
    use base64::Engine;
    let logo = base64::engine::general_purpose::STANDARD
        .decode(full["institution"]["logo"].as_str().unwrap())
        .unwrap();
    assert!(logo.starts_with(b"\x89PNG"));
    let degraded = api
        .ok("/institutions/get_by_id", json!({ "institution_id": "ins_132363", "country_codes": ["US"], "options": { "include_status": true } }))
        .await;
    assert_eq!(
        degraded["institution"]["status"]["item_logins"]["status"],
        "DEGRADED"
    );
    assert_eq!(
        api.refused(
            "/institutions/get_by_id",
            json!({ "institution_id": "ins_109511" })
        )
        .await,
        "MISSING_FIELDS"
    );
    assert_eq!(
        api.refused(
            "/institutions/get_by_id",
            json!({ "institution_id": "ins_nope", "country_codes": ["US"] })
        )
        .await,
        "INVALID_INSTITUTION"
    );
    assert_eq!(
        api.refused(
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_132361", "initial_products": ["transactions"] })
        )
        .await,
        "INSTITUTION_DOWN"
    );
}

#[tokio::test]
async fn processor_tokens() {
    let api = Api::start().await;
    let (access, _) = api.item("ins_109508", json!(["auth"]), json!({})).await;
    let accounts = api
        .ok("/accounts/get", json!({ "access_token": access }))
        .await;
    let account = accounts["accounts"][1]["account_id"].clone();
    let made = api
        .ok(
            "/processor/token/create",
            json!({ "access_token": access, "account_id": account, "processor": "dwolla" }),
        )
        .await;
    let token = made["processor_token"].as_str().unwrap();
    assert!(token.starts_with("processor-sandbox-"));
    let auth = api
        .ok("/processor/auth/get", json!({ "processor_token": token }))
        .await;
    assert_eq!(auth["account"]["account_id"], account);
    assert_eq!(auth["numbers"]["ach"]["account"], "1111222233331111");
    let sandbox_made = api
        .ok(
            "/sandbox/processor_token/create",
            json!({ "institution_id": "ins_109508" }),
        )
        .await;
    api.ok(
        "/processor/balance/get",
        json!({ "processor_token": sandbox_made["processor_token"] }),
    )
    .await;
    assert_eq!(
        api.refused(
            "/processor/auth/get",
            json!({ "processor_token": "processor-sandbox-x" })
        )
        .await,
        "INVALID_PROCESSOR_TOKEN"
    );
    assert_eq!(
        api.refused(
            "/processor/token/create",
            json!({ "access_token": access, "account_id": "nope", "processor": "dwolla" })
        )
        .await,
        "INVALID_ACCOUNT_ID"
    );
}

#[tokio::test]
async fn fire_webhook_sends_every_code_plaid_lists_and_refuses_products_the_item_lacks() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let url = format!("{}/h", hooks.uri());
    let (bare, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    assert_eq!(
        api.refused(
            "/sandbox/item/fire_webhook",
            json!({ "access_token": bare, "webhook_code": "NEW_ACCOUNTS_AVAILABLE" })
        )
        .await,
        "SANDBOX_WEBHOOK_INVALID",
        "an Item without a webhook URL"
    );
    let (access, item_id) = api
        .item(
            "ins_109508",
            json!([
                "transactions",
                "auth",
                "identity",
                "investments",
                "liabilities"
            ]),
            json!({ "webhook": url }),
        )
        .await;
    let fired = [
        ("TRANSACTIONS", "DEFAULT_UPDATE"),
        ("AUTH", "DEFAULT_UPDATE"),
        ("IDENTITY", "DEFAULT_UPDATE"),
        ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE"),
        ("HOLDINGS", "DEFAULT_UPDATE"),
        ("LIABILITIES", "DEFAULT_UPDATE"),
        ("ITEM", "NEW_ACCOUNTS_AVAILABLE"),
        ("AUTH", "SMS_MICRODEPOSITS_VERIFICATION"),
        ("ITEM", "PENDING_DISCONNECT"),
        ("TRANSACTIONS", "RECURRING_TRANSACTIONS_UPDATE"),
        ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE"),
        ("ITEM", "USER_PERMISSION_REVOKED"),
        ("ITEM", "LOGIN_REPAIRED"),
    ];
    for (kind, code) in fired {
        let answer = api
            .ok(
                "/sandbox/item/fire_webhook",
                json!({ "access_token": access, "webhook_type": kind, "webhook_code": code }),
            )
            .await;
        assert_eq!(answer["webhook_fired"], true);
    }
    // And the two Plaid sends when it has pulled a new Item's transactions.
    let sent = api.sandbox.wait_for_webhooks(fired.len() + 2).await;
    for (kind, code) in fired {
        assert!(
            sent.iter().any(|w| w.body["webhook_type"] == kind
                && w.body["webhook_code"] == code
                && w.body["item_id"] == item_id.as_str()),
            "{kind} {code}"
        );
    }
    assert!(sent.iter().all(|w| w.status == Some(200)));
    // The Item had permission revoked, then repaired: it works again.
    api.ok("/accounts/get", json!({ "access_token": access }))
        .await;
    // A product the Item was not made with: SANDBOX_PRODUCT_NOT_ENABLED.
    let (only, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "webhook": url }),
        )
        .await;
    assert_eq!(
        api.refused("/sandbox/item/fire_webhook", json!({ "access_token": only, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE" })).await,
        "SANDBOX_PRODUCT_NOT_ENABLED"
    );
    // reset_login: ITEM_LOGIN_REQUIRED, and its ERROR webhook.
    api.ok("/sandbox/item/reset_login", json!({ "access_token": only }))
        .await;
    assert_eq!(
        api.refused("/transactions/sync", json!({ "access_token": only }))
            .await,
        "ITEM_LOGIN_REQUIRED"
    );
    let item = api.ok("/item/get", json!({ "access_token": only })).await;
    assert_eq!(item["item"]["error"]["error_code"], "ITEM_LOGIN_REQUIRED");
}

/// A refresh asks the bank for fresh data ("a synchronous request for fresh data", the spec
/// says of each), so it fails with the Item's error, as Plaid's `ITEM_LOGIN_REQUIRED` "applies
/// to all institution-based products"; the refreshes the spec tier answers too (round 16:
/// `/identity/refresh` and `/investments/refresh` answered 200 after `reset_login`).
#[tokio::test]
async fn a_refresh_of_an_item_in_error_fails_with_its_error() {
    let api = Api::start().await;
    let (access, _) = api
        .item(
            "ins_109508",
            json!(["transactions", "identity", "investments"]),
            json!({}),
        )
        .await;
    for path in ["/identity/refresh", "/investments/refresh"] {
        api.ok(path, json!({ "access_token": access })).await;
    }
    api.ok(
        "/sandbox/item/reset_login",
        json!({ "access_token": access }),
    )
    .await;
    for path in [
        "/identity/refresh",
        "/investments/refresh",
        "/transactions/refresh",
    ] {
        assert_eq!(
            api.refused(path, json!({ "access_token": access })).await,
            "ITEM_LOGIN_REQUIRED",
            "{path}"
        );
    }
    // Calls that do not reach the bank still answer.
    api.ok("/item/get", json!({ "access_token": access })).await;
    api.ok("/item/activity/list", json!({ "access_token": access }))
        .await;
}

#[tokio::test]
async fn automated_micro_deposits_verify_when_the_sandbox_says_so() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let (access, _) = api
        .item("ins_109512", json!(["auth"]), json!({ "override_username": "user_good", "override_password": "microdeposits_good", "webhook": format!("{}/h", hooks.uri()) }))
        .await;
    assert_eq!(
        api.refused("/auth/get", json!({ "access_token": access }))
            .await,
        "PRODUCT_NOT_READY"
    );
    let accounts = api
        .ok("/accounts/get", json!({ "access_token": access }))
        .await;
    assert_eq!(
        accounts["accounts"][0]["verification_status"],
        "pending_automatic_verification"
    );
    let account = accounts["accounts"][0]["account_id"].clone();
    api.ok("/sandbox/item/set_verification_status", json!({ "access_token": access, "account_id": account, "verification_status": "automatically_verified" })).await;
    let auth = api.ok("/auth/get", json!({ "access_token": access })).await;
    assert_eq!(
        auth["accounts"][0]["verification_status"],
        "automatically_verified"
    );
    let sent = api.sandbox.wait_for_webhooks(1).await;
    assert_eq!(sent[0].body["webhook_code"], "AUTOMATICALLY_VERIFIED");
    assert_eq!(
        api.refused("/sandbox/item/set_verification_status", json!({ "access_token": access, "account_id": account, "verification_status": "automatically_verified" })).await,
        "INVALID_FIELD",
        "once verified, it is not waiting any more"
    );
}

#[tokio::test]
async fn plaids_test_users() {
    let api = Api::start().await;
    let create = |password: &str| json!({ "institution_id": "ins_109508", "initial_products": ["transactions"], "options": { "override_username": "user_good", "override_password": password } });
    for (password, code) in [
        ("error_ITEM_LOCKED", "ITEM_LOCKED"),
        ("error_INVALID_CREDENTIALS", "INVALID_CREDENTIALS"),
        ("error_NO_ACCOUNTS", "NO_ACCOUNTS"),
        ("wrong", "INVALID_CREDENTIALS"),
    ] {
        let (status, answer) = api
            .post("/sandbox/public_token/create", create(password))
            .await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some(code)),
            "{password}: {answer}"
        );
        if code == "ITEM_LOCKED" {
            assert!(
                answer["display_message"].is_string(),
                "Plaid's message for the user: {answer}"
            );
        }
    }
    let config = json!({
        "override_accounts": [
            { "type": "depository", "subtype": "checking", "starting_balance": 500, "meta": { "name": "Test Checking", "mask": "1234" },
              "transactions": [{ "date_transacted": "2026-01-02", "date_posted": "2026-01-03", "amount": 42.5, "description": "Custom purchase", "currency": "USD" }],
              "identity": { "names": ["Jo Tester"], "emails": [{ "data": "jo@example.com", "primary": true, "type": "primary" }] } },
            { "type": "credit", "subtype": "credit card", "starting_balance": 100, "meta": { "limit": 1000 },
              "liability": { "type": "credit", "purchase_apr": 12.9, "minimum_payment_amount": 10 } }
        ]
    });
    let (access, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "override_username": "user_custom", "override_password": config.to_string() }),
        )
        .await;
    let accounts = api
        .ok("/accounts/get", json!({ "access_token": access }))
        .await;
    assert_eq!(accounts["accounts"][0]["name"], "Test Checking");
    assert_eq!(accounts["accounts"][0]["mask"], "1234");
    assert_eq!(
        accounts["accounts"][0]["balances"]["current"], 500.0,
        "Plaid: the account starts with starting_balance as the current balance"
    );
    let sync = api
        .ok("/transactions/sync", json!({ "access_token": access }))
        .await;
    assert_eq!(sync["added"].as_array().unwrap().len(), 1);
    assert_eq!(sync["added"][0]["name"], "Custom purchase");
    let identity = api
        .ok("/identity/get", json!({ "access_token": access }))
        .await;
    assert_eq!(
        identity["accounts"][0]["owners"][0]["names"],
        json!(["Jo Tester"])
    );
    let liabilities = api
        .ok("/liabilities/get", json!({ "access_token": access }))
        .await;
    assert_eq!(
        liabilities["liabilities"]["credit"][0]["aprs"][0]["apr_percentage"],
        12.9
    );
    let forced = json!({ "force_error": "INSTITUTION_NOT_RESPONDING" }).to_string();
    let (_, answer) = api
        .post("/sandbox/public_token/create", json!({ "institution_id": "ins_109508", "initial_products": ["transactions"], "options": { "override_username": "user_custom", "override_password": forced } }))
        .await;
    assert_eq!(answer["error_code"], "INSTITUTION_NOT_RESPONDING");

    // Review round 17: `force_error` came back verbatim as the error's code and in its
    // documentation URL, markup included; like an `error_<CODE>` password, it is a code.
    let forced = json!({ "force_error": "<img src=x onerror=alert(1)>" }).to_string();
    let (status, answer) = api
        .post("/sandbox/public_token/create", json!({ "institution_id": "ins_109508", "initial_products": ["transactions"], "options": { "override_username": "user_custom", "override_password": forced } }))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error_code"], "INVALID_CREDENTIALS", "{answer}");
    assert!(!answer.to_string().contains('<'), "{answer}");
}

#[tokio::test]
async fn the_clock_posts_pending_transactions_and_ends_logins_after_30_days() {
    let (api, _hooks, access, _) = on_a_still_clock().await;
    let first = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": access, "count": 500 }),
        )
        .await;
    let pending: Vec<String> = first["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["pending"] == true)
        .map(|t| t["transaction_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!pending.is_empty());
    api.sandbox.advance_clock(Duration::from_secs(3 * 86_400));
    let later = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": access, "cursor": first["next_cursor"], "count": 500 }),
        )
        .await;
    let removed: Vec<&str> = later["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["transaction_id"].as_str().unwrap())
        .collect();
    assert!(
        pending.iter().all(|p| removed.contains(&p.as_str())),
        "each pending one posted"
    );
    assert!(later["added"].as_array().unwrap().iter().any(|t| pending
        .iter()
        .any(|p| t["pending_transaction_id"] == p.as_str())));
    assert!(codes(&api.sandbox).contains(&"SYNC_UPDATES_AVAILABLE".to_owned()));
    api.sandbox.advance_clock(Duration::from_secs(27 * 86_400));
    assert_eq!(
        api.refused("/accounts/get", json!({ "access_token": access }))
            .await,
        "ITEM_LOGIN_REQUIRED"
    );
    api.sandbox.wait_for_webhooks(3).await;
    assert!(api
        .sandbox
        .webhooks()
        .iter()
        .any(|w| w.body["webhook_code"] == "ERROR"
            && w.body["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"));
}

/// Review round 19: days passing changed an Item's transactions (new ones, pending ones
/// posted) without a word to an app on `/transactions/get`: only `SYNC_UPDATES_AVAILABLE`
/// went, and only to an Item synced once. Plaid's `DEFAULT_UPDATE` ("fired when new
/// transaction data is available") and `TRANSACTIONS_REMOVED` go to every app. Likewise a fired
/// `DEFAULT_UPDATE` removed transactions without `TRANSACTIONS_REMOVED`.
#[tokio::test]
async fn days_passing_tell_an_app_on_transactions_get_what_changed() {
    let (api, hooks, access, _) = on_a_still_clock().await;
    let window = json!({ "access_token": access, "start_date": "2024-01-01", "end_date": "2026-12-31", "options": { "count": 500 } });
    let before = api.ok("/transactions/get", window.clone()).await;
    let pending: Vec<&str> = before["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["pending"] == true)
        .map(|t| t["transaction_id"].as_str().unwrap())
        .collect();
    assert!(!pending.is_empty());
    let from = api.sandbox.wait_for_webhooks(2).await.len();
    api.sandbox.advance_clock(Duration::from_secs(3 * 86_400));
    let default = api
        .sandbox
        .wait_for_webhook(from, "DEFAULT_UPDATE")
        .await
        .expect("DEFAULT_UPDATE after new days");
    assert!(
        default.body["new_transactions"].as_u64().unwrap() > 0,
        "{}",
        default.body
    );
    let removed = api
        .sandbox
        .wait_for_webhook(from, "TRANSACTIONS_REMOVED")
        .await
        .expect("TRANSACTIONS_REMOVED once pending ones posted");
    let ids: Vec<&str> = removed.body["removed_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        pending.iter().all(|p| ids.contains(p)),
        "{ids:?} {pending:?}"
    );
    let after = api.ok("/transactions/get", window).await;
    assert!(after["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| !ids.contains(&t["transaction_id"].as_str().unwrap())));
    assert!(
        !codes(&api.sandbox).contains(&"SYNC_UPDATES_AVAILABLE".to_owned()),
        "never synced: no SYNC_UPDATES_AVAILABLE"
    );

    // A fired DEFAULT_UPDATE on a dynamic Item posts its pending ones: TRANSACTIONS_REMOVED too.
    let (dynamic, _) = api
        .item("ins_109508", json!(["transactions"]), json!({ "override_username": "user_transactions_dynamic", "override_password": "x", "webhook": format!("{}/h", hooks.uri()) }))
        .await;
    api.sync_all(&dynamic, json!({})).await;
    let from = api.sandbox.webhooks().len();
    api.ok(
        "/sandbox/item/fire_webhook",
        json!({ "access_token": dynamic, "webhook_code": "DEFAULT_UPDATE", "webhook_type": "TRANSACTIONS" }),
    )
    .await;
    let removed = api
        .sandbox
        .wait_for_webhook(from, "TRANSACTIONS_REMOVED")
        .await
        .expect("TRANSACTIONS_REMOVED with a fired DEFAULT_UPDATE");
    assert!(!removed.body["removed_transactions"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Review round 19: Assets webhooks carried `item_id`, which their schemas lack; a webhook
/// URL on another scheme than http(s) was taken by `fire_webhook`, which answered 200 and sent
/// nothing (Plaid: `SANDBOX_WEBHOOK_INVALID` when the webhook "is either not set up, or
/// invalid").
#[tokio::test]
async fn assets_webhooks_name_no_item_and_an_invalid_webhook_is_refused() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let (assets, _) = api
        .item(
            "ins_109508",
            json!(["assets"]),
            json!({ "webhook": format!("{}/h", hooks.uri()) }),
        )
        .await;
    let from = api.sandbox.webhooks().len();
    api.ok(
        "/sandbox/item/fire_webhook",
        json!({ "access_token": assets, "webhook_code": "PRODUCT_READY", "webhook_type": "ASSETS" }),
    )
    .await;
    let ready = api
        .sandbox
        .wait_for_webhook(from, "PRODUCT_READY")
        .await
        .unwrap();
    assert!(ready.body.get("item_id").is_none(), "{}", ready.body);
    assert!(ready.body["asset_report_id"].is_string(), "{}", ready.body);

    api.ok(
        "/item/webhook/update",
        json!({ "access_token": assets, "webhook": "ftp://127.0.0.1/h" }),
    )
    .await;
    assert_eq!(
        api.refused(
            "/sandbox/item/fire_webhook",
            json!({ "access_token": assets, "webhook_code": "PRODUCT_READY", "webhook_type": "ASSETS" }),
        )
        .await,
        "SANDBOX_WEBHOOK_INVALID"
    );
}

/// A sandbox whose clock stands at 2026-03-10, and a Transactions Item with webhooks to a
/// receiver: the sandbox, the receiver, the access token and the Item id.
async fn on_a_still_clock() -> (Api, MockServer, String, String) {
    let api = Api::with(
        Sandbox::builder()
            .today(chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap())
            .start()
            .await,
    );
    let hooks = receiver().await;
    let (access, item_id) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "webhook": format!("{}/h", hooks.uri()) }),
        )
        .await;
    (api, hooks, access, item_id)
}

/// [`on_a_still_clock`], the Item synced once (Plaid sends `SYNC_UPDATES_AVAILABLE` only to
/// an Item synced once).
async fn synced_on_a_still_clock() -> (Api, MockServer, String, String) {
    let (api, hooks, access, item_id) = on_a_still_clock().await;
    api.sync_all(&access, json!({})).await;
    (api, hooks, access, item_id)
}

/// At Plaid, time passing is enough for webhooks: nobody has to call for an Item. Moving the
/// clock, by the Rust method or by the admin endpoint, brings every Item up to it at once, so
/// the webhooks of what happened in between go out with no other call.
#[tokio::test]
async fn moving_the_clock_sends_the_webhooks_of_what_happened_with_no_call() {
    let (api, hooks, access, item_id) = synced_on_a_still_clock().await;
    let linked = api.sandbox.wait_for_webhooks(2).await.len();
    assert_eq!(linked, 2, "INITIAL_UPDATE and HISTORICAL_UPDATE");

    api.sandbox.advance_clock(Duration::from_secs(2 * 86_400));
    // Every webhook the move made is recorded when it returns: wait for all their answers
    // (SYNC_UPDATES_AVAILABLE, DEFAULT_UPDATE, TRANSACTIONS_REMOVED as the days bring them).
    let queued = api.sandbox.webhooks().len();
    assert!(queued > linked);
    let sent = api.sandbox.wait_for_webhooks(queued).await;
    let new = &sent[linked..];
    assert!(
        new.iter()
            .any(|w| w.body["webhook_code"] == "SYNC_UPDATES_AVAILABLE"
                && w.body["item_id"] == item_id.as_str()
                && w.status == Some(200)),
        "2 days on, with no call: {new:?}"
    );

    // 31 days more, through the admin endpoint: the login has expired.
    let before = sent.len();
    let moved = reqwest::Client::new()
        .post(format!("{}/__sandbox/clock", api.sandbox.uri()))
        .body(json!({ "advance_seconds": 31 * 86_400 }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let queued = api.sandbox.webhooks().len();
    assert!(queued >= before + 2);
    let sent = api.sandbox.wait_for_webhooks(queued).await;
    let new = &sent[before..];
    assert!(
        new.iter().any(|w| w.body["webhook_type"] == "ITEM"
            && w.body["webhook_code"] == "ERROR"
            && w.body["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"
            && w.status == Some(200)),
        "31 days on, with no call: {new:?}"
    );
    assert!(
        new.iter()
            .any(|w| w.body["webhook_code"] == "SYNC_UPDATES_AVAILABLE"),
        "{new:?}"
    );
    let received = hooks.received_requests().await.unwrap();
    assert_eq!(
        received.len(),
        sent.len(),
        "every webhook reached the receiver"
    );
    // Plaid's last update was when the login still held, 30 days after the link, not now.
    let (_, item) = api
        .post("/item/get", json!({ "access_token": access }))
        .await;
    let last = item["status"]["transactions"]["last_successful_update"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(last.starts_with("2026-04-09"), "{item}");
}

/// Plaid cannot reach the bank of an Item that needs a new login: no new transactions, and no
/// `SYNC_UPDATES_AVAILABLE`, until the user repairs it; then the days missed arrive. (Review
/// round 9: the sandbox kept adding days, and moving the clock announced them.)
#[tokio::test]
async fn an_item_that_needs_a_new_login_gets_nothing_new_until_repaired() {
    let (api, _hooks, _, item_id) = synced_on_a_still_clock().await;
    api.sandbox.require_login(&item_id).unwrap();
    let known = api.sandbox.transactions(&item_id).unwrap().len();
    let before = api.sandbox.wait_for_webhooks(3).await.len();
    assert_eq!(before, 3, "INITIAL_UPDATE, HISTORICAL_UPDATE, ERROR");

    api.sandbox.advance_clock(Duration::from_secs(5 * 86_400));
    let sent = api.sandbox.webhooks();
    assert_eq!(sent.len(), before, "{:?}", &sent[before..]);
    assert_eq!(api.sandbox.transactions(&item_id).unwrap().len(), known);

    api.sandbox
        .fire_webhook(&item_id, "LOGIN_REPAIRED")
        .unwrap();
    api.sandbox.advance_clock(Duration::from_secs(86_400));
    let sent = api.sandbox.wait_for_webhooks(before + 2).await;
    assert!(
        sent[before..]
            .iter()
            .any(|w| w.body["webhook_code"] == "SYNC_UPDATES_AVAILABLE"),
        "{:?}",
        &sent[before..]
    );
    assert!(api.sandbox.transactions(&item_id).unwrap().len() > known);
}

#[tokio::test]
async fn webhook_chaos_duplicates_delays_and_spreads_over_targets() {
    let api = Api::start().await;
    let (a, b) = (receiver().await, receiver().await);
    // Auth only: no transactions webhooks at creation, the 20 fired are all there is.
    let (access, _) = api
        .item(
            "ins_109508",
            json!(["auth"]),
            json!({ "webhook": format!("{}/h", a.uri()) }),
        )
        .await;
    api.sandbox.webhook_chaos(
        WebhookChaos::none()
            .duplicates(0.5, 3)
            .delay(Duration::from_millis(0), Duration::from_millis(150))
            .targets([format!("{}/h", a.uri()), format!("{}/h", b.uri())]),
    );
    for _ in 0..20 {
        api.ok(
            "/sandbox/item/fire_webhook",
            json!({ "access_token": access, "webhook_code": "NEW_ACCOUNTS_AVAILABLE" }),
        )
        .await;
    }
    // Every copy is recorded when it is queued: wait until each has its answer (a fixed sleep
    // here could end with delayed copies still in flight).
    let queued = api.sandbox.webhooks().len();
    let sent = api.sandbox.wait_for_webhooks(queued).await;
    let originals = sent.iter().filter(|w| w.copy == 0).count();
    let copies = sent.len() - originals;
    assert_eq!(originals, 20);
    assert!(copies >= 3, "about half are sent again: {copies}");
    assert!(sent.iter().all(|w| w.status == Some(200)));
    let (at_a, at_b) = (
        a.received_requests().await.unwrap().len(),
        b.received_requests().await.unwrap().len(),
    );
    assert_eq!(at_a + at_b, sent.len());
    assert!(at_a > 0 && at_b > 0, "both targets: {at_a} {at_b}");
    // Reset: back to a fresh sandbox.
    api.sandbox.reset();
    assert!(api.sandbox.webhooks().is_empty());
    assert_eq!(
        api.refused("/accounts/get", json!({ "access_token": access }))
            .await,
        "INVALID_ACCESS_TOKEN"
    );
}

/// A chaos delay bounded by the largest value a caller can give (the server's JSON takes any
/// `u64` of milliseconds) delays the webhook; the call that sends it is answered as usual
/// (review round 12: `[0, u64::MAX]` overflowed, and every call sending a webhook lost its
/// connection).
#[tokio::test]
async fn a_chaos_delay_of_any_size_delays_the_webhook_and_answers_the_call() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let (access, _) = api
        .item(
            "ins_109508",
            json!(["auth"]),
            json!({ "webhook": format!("{}/h", hooks.uri()) }),
        )
        .await;
    for (low, high) in [
        (Duration::ZERO, Duration::from_millis(u64::MAX)),
        (Duration::ZERO, Duration::MAX),
        (Duration::MAX, Duration::MAX),
    ] {
        api.sandbox
            .webhook_chaos(WebhookChaos::none().delay(low, high));
        let before = api.sandbox.webhooks().len();
        api.ok(
            "/sandbox/item/fire_webhook",
            json!({ "access_token": access, "webhook_code": "NEW_ACCOUNTS_AVAILABLE" }),
        )
        .await;
        assert_eq!(
            api.sandbox.webhooks().len(),
            before + 1,
            "{low:?}..{high:?}"
        );
    }
}

/// A webhook is signed as it is sent: receivers refuse an `iat` over 5 minutes old (Plaid's
/// docs), so a token signed when the webhook was queued went stale behind a slow receiver or
/// a chaos delay (round 13: each webhook queued behind one answering in 4 s arrived 4 s
/// older than the last; with a 305 s delay, 305 s old).
#[tokio::test]
async fn a_webhook_is_signed_when_it_is_sent_not_when_it_is_queued() {
    use base64::Engine as _;
    struct Arrivals(std::sync::Arc<std::sync::Mutex<Vec<(f64, String)>>>);
    impl wiremock::Respond for Arrivals {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let token = request.headers.get("plaid-verification").unwrap();
            self.0
                .lock()
                .unwrap()
                .push((now, token.to_str().unwrap().to_owned()));
            ResponseTemplate::new(200).set_delay(Duration::from_millis(1200))
        }
    }
    let api = Api::start().await;
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Arrivals(arrivals.clone()))
        .mount(&slow)
        .await;
    let (access, _) = api
        .item(
            "ins_109508",
            json!(["auth"]),
            json!({ "webhook": format!("{}/h", slow.uri()) }),
        )
        .await;
    let before = api.sandbox.webhooks().len();
    for _ in 0..3 {
        api.ok(
            "/sandbox/item/fire_webhook",
            json!({ "access_token": access, "webhook_code": "NEW_ACCOUNTS_AVAILABLE" }),
        )
        .await;
    }
    let all = api.sandbox.wait_for_webhooks(before + 3).await;
    assert!(all.iter().all(|w| w.status == Some(200)), "{all:?}");
    let arrivals = arrivals.lock().unwrap().clone();
    assert!(arrivals.len() >= 3, "{arrivals:?}");
    for (arrived, token) in arrivals {
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        let iat = claims["iat"].as_f64().unwrap();
        assert!(
            arrived - iat < 1.5,
            "signed {:.1} s before it arrived",
            arrived - iat
        );
    }
}

/// Plaid retries a webhook not answered with 200 (30 s, then 4x longer each time, for 24 h),
/// signing each delivery anew; here the first wait is 50 ms.
#[tokio::test]
async fn a_webhook_not_answered_200_is_sent_again_signed_anew() {
    let api = Api::with(
        Sandbox::builder()
            .webhook_retry(Duration::from_millis(50))
            .start()
            .await,
    );
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let (access, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "webhook": format!("{}/h", receiver.uri()) }),
        )
        .await;
    let before = receiver.received_requests().await.unwrap().len();
    api.ok(
        "/sandbox/item/fire_webhook",
        json!({ "access_token": access, "webhook_code": "NEW_ACCOUNTS_AVAILABLE" }),
    )
    .await;
    // 500, then 50 ms later 500, then 200 ms later 200 (the webhooks made at link time may
    // take the two 500s instead; what counts is that every webhook ends answered 200).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while api.sandbox.webhooks().iter().any(|w| w.status != Some(200)) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            api.sandbox.webhooks()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = api.sandbox.webhooks();
    let attempts: u32 = sent.iter().map(|w| w.attempts).sum();
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(attempts as usize, received.len(), "every post counted");
    assert_eq!(
        received.len(),
        sent.len() + 2,
        "two retries: {before} before the fire"
    );
    assert!(sent.iter().any(|w| w.attempts > 1), "{sent:?}");
    let tokens: std::collections::HashSet<_> = received
        .iter()
        .map(|r| r.headers.get("plaid-verification").unwrap().clone())
        .collect();
    assert_eq!(tokens.len(), received.len(), "each delivery signed anew");

    // Retries off: one post each.
    let once = Api::with(
        Sandbox::builder()
            .webhook_retry(Duration::ZERO)
            .start()
            .await,
    );
    let failing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&failing)
        .await;
    let (access, _) = once
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "webhook": format!("{}/h", failing.uri()) }),
        )
        .await;
    once.ok(
        "/sandbox/item/fire_webhook",
        json!({ "access_token": access, "webhook_code": "NEW_ACCOUNTS_AVAILABLE" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = once.sandbox.webhooks();
    assert!(!sent.is_empty());
    assert!(
        sent.iter()
            .all(|w| w.attempts == 1 && w.status == Some(503)),
        "{sent:?}"
    );
}

/// The binary with `args`, and the base URL it prints first. In a process group of its own,
/// so a test can kill it as a group: under scripts/conformance.sh the binary starts Prism's
/// proxy as its child, which a SIGKILL of the binary alone left running (found after a CI
/// run).
fn binary(args: &[&str]) -> (Running, String) {
    binary_with(args, |command| command)
}

/// [`binary`], its command changed by `adjust` (which may change its stderr, `null` here).
fn binary_with(
    args: &[&str],
    adjust: impl FnOnce(&mut std::process::Command) -> &mut std::process::Command,
) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let mut command = Command::new(env!("CARGO_BIN_EXE_plaid-sandbox"));
    command
        .process_group(0)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = adjust(&mut command).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Running(child), line.trim().to_owned())
}

/// The binary's process, and its process group (Prism, when the run is behind it) killed
/// when dropped: a test that fails half-way left both running (seen in round 17).
struct Running(std::process::Child);

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // The whole group, also when the binary itself was killed already (Prism outlives a
        // SIGKILL of its parent).
        let group = format!("-{}", self.0.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// A runtime for a plain `#[test]` that drives the binary.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Review round 19: the binary had no way to change the webhook retry wait, so a webhook to
/// a receiver that failed on purpose stayed unanswered (`status: null`) for 30 s, and the
/// admin API's webhook records lacked `attempts`. `--webhook-retry 0` sends each webhook once.
#[test]
fn the_binarys_webhook_retry_flag_reaches_the_admin_records() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_child, url) = binary(&["--webhook-retry", "0"]);
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let call = |path: &str, body: Value| {
            http.post(format!("{url}{path}"))
                .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
                .header("PLAID-SECRET", plaid_sandbox::SECRET)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
        };
        let answer = |r: reqwest::Response| async move { r.json::<Value>().await.unwrap() };
        let public = answer(
            call(
                "/sandbox/public_token/create",
                json!({ "institution_id": "ins_109508", "initial_products": ["auth"],
                        "options": { "webhook": format!("http://127.0.0.1:{closed}/h") } }),
            )
            .await
            .unwrap(),
        )
        .await;
        let item = answer(
            call(
                "/item/public_token/exchange",
                json!({ "public_token": public["public_token"] }),
            )
            .await
            .unwrap(),
        )
        .await;
        let fired = call(
            "/sandbox/item/fire_webhook",
            json!({ "access_token": item["access_token"], "webhook_code": "NEW_ACCOUNTS_AVAILABLE" }),
        )
        .await
        .unwrap();
        assert_eq!(fired.status(), 200);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let records = answer(
                http.get(format!("{url}/__sandbox/webhooks"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            let last = records["webhooks"].as_array().unwrap().last().cloned();
            if let Some(w) = last.filter(|w| !w["status"].is_null()) {
                assert_eq!((w["status"].clone(), w["attempts"].clone()), (json!(0), json!(1)), "{w}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no answer recorded: {records}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

/// MED (review round 22): the binary wrote a line to stderr for every webhook it would not
/// deliver, while holding the lock every request takes: a harness that pipes stderr and never
/// reads it (Python's `stderr=PIPE`, a Node `spawn` left on its pipes) hung the whole server
/// once the pipe filled (about 64 KiB, some 600 lines). Each reason is now written once.
#[test]
fn a_stderr_nobody_reads_never_stops_the_server() {
    let (_child, url) = binary_with(&[], |command| command.stderr(std::process::Stdio::piped()));
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let call = |path: &str, body: Value| {
            let request = http
                .post(format!("{url}{path}"))
                .header("PLAID-CLIENT-ID", "offline-sandbox-client")
                .header("PLAID-SECRET", "offline-sandbox-secret")
                .json(&body)
                .send();
            async move {
                let answer = tokio::time::timeout(Duration::from_secs(10), request)
                    .await
                    .expect("the server stopped answering")
                    .unwrap();
                assert_eq!(answer.status(), 200);
                answer.json::<Value>().await.unwrap()
            }
        };
        // A production-style webhook URL: not loopback, so never delivered.
        let made = call(
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_109508", "initial_products": ["transactions"],
                    "options": { "webhook": "https://example.com/plaid/hook" } }),
        )
        .await;
        let access = call(
            "/item/public_token/exchange",
            json!({ "public_token": made["public_token"] }),
        )
        .await["access_token"]
            .clone();
        for _ in 0..1_500 {
            call(
                "/sandbox/item/fire_webhook",
                json!({ "access_token": access, "webhook_code": "SYNC_UPDATES_AVAILABLE" }),
            )
            .await;
        }
        call("/item/get", json!({ "access_token": access })).await;
    });
}

#[test]
fn the_binary_prints_its_url_first_and_serves_any_language() {
    use std::process::Command;
    let (mut child, url) = binary(&[
        "--client-id",
        "cli-id",
        "--secret",
        "cli-secret",
        "--seed",
        "5",
    ]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let call = |path: &str, body: Value, secret: &'static str| {
            http.post(format!("{url}{path}"))
                .header("PLAID-CLIENT-ID", "cli-id")
                .header("PLAID-SECRET", secret)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
        };
        let made = call(
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_109508", "initial_products": ["auth"] }),
            "cli-secret",
        )
        .await
        .unwrap();
        assert_eq!(made.status(), 200);
        let wrong = call(
            "/item/get",
            json!({ "access_token": "access-sandbox-x" }),
            "other",
        )
        .await
        .unwrap();
        assert_eq!(
            wrong.json::<Value>().await.unwrap()["error_code"],
            "INVALID_API_KEYS"
        );
        let reset = http
            .post(format!("{url}/__sandbox/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(reset.status(), 200);
    });
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status();
    child.kill().ok();
    child.wait().unwrap();
}

/// The builder's settings a test in another language needs are flags of the binary too: a
/// fixed date, the history's length, and "not ready" calls after Link (round 16: they were
/// the Rust builder's only).
#[test]
fn the_binary_takes_the_date_the_history_and_not_ready_calls() {
    use std::process::Command;
    let (mut child, url) = binary(&[
        "--today",
        "2026-12-01",
        "--history-days",
        "10",
        "--not-ready-syncs",
        "1",
    ]);
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let call = |path: &'static str, body: Value| {
            let request = http
                .post(format!("{url}{path}"))
                .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
                .header("PLAID-SECRET", plaid_sandbox::SECRET)
                .header("Content-Type", "application/json")
                .body(body.to_string());
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let public = call(
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_109508", "initial_products": ["transactions"] }),
        )
        .await;
        let item = call(
            "/item/public_token/exchange",
            json!({ "public_token": public["public_token"] }),
        )
        .await;
        let sync = json!({ "access_token": item["access_token"], "count": 500 });
        let first = call("/transactions/sync", sync.clone()).await;
        assert_eq!(first["next_cursor"], "", "{first}");
        assert_eq!(first["transactions_update_status"], "NOT_READY", "{first}");
        let second = call("/transactions/sync", sync).await;
        let dates: Vec<&str> = second["added"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["date"].as_str().unwrap())
            .collect();
        assert!(!dates.is_empty(), "{second}");
        assert!(
            dates
                .iter()
                .all(|d| ("2026-11-20"..="2026-12-01").contains(d)),
            "{dates:?}"
        );
    });
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status();
    child.kill().ok();
    child.wait().unwrap();
}

/// The binary told to stop (SIGTERM, as a test runner or `docker stop` sends) answers the
/// requests it is in the middle of, then exits 0 (round 13: it exited at once, and a slow
/// call in flight got an empty reply).
#[test]
fn the_binary_answers_what_it_is_answering_before_it_stops() {
    use std::process::Command;
    // Without Prism's proxy in front (the conformance run's): what is tested is the binary's
    // own stop, and Prism, a child of the binary, goes when the binary does.
    let (mut child, url) = binary_with(&[], |command| command.env_remove("PLAID_SANDBOX_PRISM"));
    let status = runtime().block_on(async {
        let http = reqwest::Client::new();
        let injected = http
            .post(format!("{url}/__sandbox/faults"))
            .body(
                json!({ "fault": "slow", "path": "/institutions/get", "delay_ms": 1500 })
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(injected.status(), 200);
        let slow = http
            .post(format!("{url}/institutions/get"))
            .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
            .header("PLAID-SECRET", plaid_sandbox::SECRET)
            .header("Content-Type", "application/json")
            .body(json!({ "count": 1, "offset": 0, "country_codes": ["US"] }).to_string())
            .send();
        let terminate = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sent = Command::new("kill")
                .args(["-s", "TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        };
        let (answer, ()) = tokio::join!(slow, terminate);
        answer.map(|a| a.status().as_u16())
    });
    let exited = child.wait().unwrap();
    assert_eq!(status.map_err(|e| e.to_string()), Ok(200));
    assert!(exited.success(), "{exited:?}");
}

/// LOW (review round 22): the binary set up its handlers for SIGTERM and Ctrl-C only after
/// printing its URL, so a harness that stopped it as soon as it had read the URL (a test with
/// nothing to do, a fixture torn down early) killed it outright: no exit 0, requests cut off.
/// Each of 20 starts is told to stop the moment its URL is read.
#[test]
fn the_binary_told_to_stop_right_after_its_url_exits_cleanly() {
    use std::process::Command;
    for run in 0..20 {
        let (mut child, url) =
            binary_with(&[], |command| command.env_remove("PLAID_SANDBOX_PRISM"));
        assert!(url.starts_with("http://"), "{url}");
        let sent = Command::new("kill")
            .args(["-s", "TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let exited = child.wait().unwrap();
        assert!(exited.success(), "start {run}: {exited:?}");
    }
}

/// LOW (review round 22): an argument that is not UTF-8 panicked the binary (exit 101, a
/// panic message) instead of the documented usage error, exit 2.
#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plaid-sandbox"))
        .arg(std::ffi::OsStr::from_bytes(b"--seed\xff"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: no URL");
}

/// Plaid's docs: a new Item's transactions are pulled at once, and `INITIAL_UPDATE` and
/// `HISTORICAL_UPDATE` say so; on an Item not created with Transactions, the first
/// `/transactions/sync` adds the product and answers empty, and `SYNC_UPDATES_AVAILABLE` comes
/// twice (30 days ready, then the whole history); `/transactions/get` answers
/// `PRODUCT_NOT_READY` and the same two legacy webhooks follow.
#[tokio::test]
async fn transactions_webhooks_say_when_an_items_history_is_pulled() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let url = format!("{}/h", hooks.uri());
    let (_, item_id) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "webhook": url }),
        )
        .await;
    let sent = api.sandbox.wait_for_webhooks(2).await;
    let codes = codes_of(&sent);
    assert_eq!(codes, ["INITIAL_UPDATE", "HISTORICAL_UPDATE"]);
    assert!(sent.iter().all(|w| w.body["item_id"] == item_id.as_str()));
    let initial = sent[0].body["new_transactions"].as_u64().unwrap();
    let historical = sent[1].body["new_transactions"].as_u64().unwrap();
    assert!(
        0 < initial && initial < historical,
        "{initial} {historical}"
    );

    // Auth only, then a first sync.
    let (auth_only, _) = api
        .item("ins_109508", json!(["auth"]), json!({ "webhook": url }))
        .await;
    let first = api
        .ok("/transactions/sync", json!({ "access_token": auth_only }))
        .await;
    assert_eq!(first["added"], json!([]), "empty at first: {first}");
    assert_eq!(first["next_cursor"], "");
    assert_eq!(first["transactions_update_status"], "NOT_READY");
    let sent = api.sandbox.wait_for_webhooks(6).await;
    let sync: Vec<(bool, bool)> = sent[2..]
        .iter()
        .filter(|w| w.body["webhook_code"] == "SYNC_UPDATES_AVAILABLE")
        .map(|w| {
            (
                w.body["initial_update_complete"] == true,
                w.body["historical_update_complete"] == true,
            )
        })
        .collect();
    assert_eq!(sync, [(true, false), (true, true)]);
    let then = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": auth_only, "count": 500 }),
        )
        .await;
    assert!(!then["added"].as_array().unwrap().is_empty(), "{then}");

    // /transactions/get on an Item without Transactions: not ready, then the legacy webhooks.
    let (legacy, _) = api
        .item("ins_109508", json!(["auth"]), json!({ "webhook": url }))
        .await;
    let body =
        json!({ "access_token": legacy, "start_date": "2020-01-01", "end_date": "2030-01-01" });
    assert_eq!(
        api.refused("/transactions/get", body.clone()).await,
        "PRODUCT_NOT_READY"
    );
    let sent = api.sandbox.wait_for_webhooks(8).await;
    let codes = codes_of(&sent[6..]);
    assert_eq!(codes, ["INITIAL_UPDATE", "HISTORICAL_UPDATE"]);
    api.ok("/transactions/get", body).await;
}

/// An Item that answers "not ready" (`not_ready_syncs`) sends no transactions webhook while
/// it does (INITIAL_UPDATE at link time would tell an app to fetch data that is not there);
/// once its data is ready Plaid's webhooks say so, SYNC_UPDATES_AVAILABLE among them (the
/// Item was synced), and the next sync returns the data.
#[tokio::test]
async fn a_not_ready_item_sends_its_webhooks_when_its_data_is_ready() {
    let api = Api::with(Sandbox::builder().not_ready_syncs(1).start().await);
    let hooks = receiver().await;
    let url = format!("{}/h", hooks.uri());
    let (access, item_id) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "webhook": url }),
        )
        .await;
    assert!(codes(&api.sandbox).is_empty(), "{:?}", codes(&api.sandbox));
    // Days passing while it is not ready announce nothing either (review round 19: the
    // DEFAULT_UPDATE days now bring came before the INITIAL_UPDATE).
    assert!(api.sandbox.advance_days(&item_id, 3).unwrap() > 0);
    assert!(codes(&api.sandbox).is_empty(), "{:?}", codes(&api.sandbox));
    let first = api
        .ok("/transactions/sync", json!({ "access_token": access }))
        .await;
    assert_eq!(first["transactions_update_status"], "NOT_READY");
    assert_eq!(first["next_cursor"], "");
    let sent = api.sandbox.wait_for_webhooks(4).await;
    assert!(sent.iter().all(|w| w.body["item_id"] == item_id.as_str()));
    let codes = codes_of(&sent);
    assert_eq!(
        codes,
        [
            "INITIAL_UPDATE",
            "HISTORICAL_UPDATE",
            "SYNC_UPDATES_AVAILABLE",
            "SYNC_UPDATES_AVAILABLE"
        ]
    );
    let flags: Vec<(bool, bool)> = sent[2..]
        .iter()
        .map(|w| {
            (
                w.body["initial_update_complete"] == true,
                w.body["historical_update_complete"] == true,
            )
        })
        .collect();
    assert_eq!(flags, [(true, false), (true, true)]);
    let (added, last) = api.sync_all(&access, json!({})).await;
    assert!(!added.is_empty(), "{last}");
    assert_ne!(last["transactions_update_status"], "NOT_READY");
}

/// A new Item's `/transactions/refresh` called past its limit of 2 a minute: the request
/// body, and the `429` answer, checked to be Plaid's.
async fn refresh_past_its_limit(api: &Api) -> (Value, Value) {
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let refresh = json!({ "access_token": access });
    for _ in 0..2 {
        api.ok("/transactions/refresh", refresh.clone()).await;
    }
    let (status, answer) = api.post("/transactions/refresh", refresh.clone()).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error_type"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(answer["error_code"], "RATE_LIMIT");
    (refresh, answer)
}

/// Plaid's sandbox rate limits per Item (GUIDE §7, plaid.com/docs/errors/rate-limit-exceeded/):
/// past the limit a `429` of type `RATE_LIMIT_EXCEEDED` with the endpoint's own code; another
/// Item is not affected; a minute later (on the sandbox's clock) the calls go through again;
/// and a sandbox started without them answers every call.
#[tokio::test]
async fn per_item_rate_limits_answer_429_with_the_endpoints_code() {
    let api = Api::start().await;
    let (refresh, _) = refresh_past_its_limit(&api).await;
    let (other, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    api.ok("/transactions/refresh", json!({ "access_token": other }))
        .await;

    let item_get = json!({ "access_token": refresh["access_token"] });
    for _ in 0..40 {
        api.ok("/item/get", item_get.clone()).await;
    }
    let (status, answer) = api.post("/item/get", item_get.clone()).await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (429, Some("ITEM_GET_LIMIT"))
    );

    api.sandbox.advance_clock(Duration::from_secs(61));
    api.ok("/item/get", item_get).await;
    api.ok("/transactions/refresh", refresh).await;

    let unlimited = Api::with(Sandbox::builder().rate_limits(false).start().await);
    let (access, _) = unlimited
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    for _ in 0..5 {
        unlimited
            .ok("/transactions/refresh", json!({ "access_token": access }))
            .await;
    }
}

/// On a frozen clock (`SandboxBuilder::today`) a rate limit never resets by itself: the
/// `429` keeps Plaid's type and code, and its message says how to get out (move the clock, or
/// turn the limits off) instead of "try again later"; moving the clock a minute does it.
#[tokio::test]
async fn a_rate_limit_on_a_frozen_clock_says_how_to_get_out() {
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
    let api = Api::with(Sandbox::builder().today(day).start().await);
    let (refresh, answer) = refresh_past_its_limit(&api).await;
    let message = answer["error_message"].as_str().unwrap();
    for hint in [
        "frozen",
        "Sandbox::advance_clock",
        "/__sandbox/clock",
        "SandboxBuilder::rate_limits(false)",
    ] {
        assert!(message.contains(hint), "{hint}: {message}");
    }
    assert!(!message.contains("try again later"), "{message}");
    api.sandbox.advance_clock(Duration::from_secs(61));
    api.ok("/transactions/refresh", refresh).await;

    // A clock that flows resets the limit by itself: Plaid's own message.
    let flowing = Api::start().await;
    let (access, _) = flowing
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let refresh = json!({ "access_token": access });
    for _ in 0..2 {
        flowing.ok("/transactions/refresh", refresh.clone()).await;
    }
    let (_, answer) = flowing.post("/transactions/refresh", refresh).await;
    assert!(
        answer["error_message"]
            .as_str()
            .unwrap()
            .ends_with("please try again later"),
        "{answer}"
    );
}

/// A synced transaction with a merchant carries the fields of the spec's own example of
/// `/transactions/sync` (an app reading JSON by key finds them), but two that Plaid leaves
/// null for card purchases (`check_number`, and the deprecated `transaction_type`).
#[tokio::test]
async fn a_synced_transaction_has_the_fields_of_the_specs_example() {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/plaid.json")).unwrap(),
    )
    .unwrap();
    let media = &spec["paths"]["/transactions/sync"]["post"]["responses"]["200"]["content"]
        ["application/json"];
    let example = if media["example"].is_object() {
        &media["example"]
    } else {
        media["examples"]
            .as_object()
            .and_then(|e| e.values().next())
            .map(|e| &e["value"])
            .unwrap()
    };
    let expected: Vec<&String> = example["added"][0]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !matches!(k.as_str(), "check_number" | "transaction_type"))
        .collect();
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let page = api
        .ok("/transactions/sync", json!({ "access_token": access }))
        .await;
    let with_merchant = page["added"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["merchant_name"].is_string())
        .expect("a merchant's transaction");
    let missing: Vec<&&String> = expected
        .iter()
        .filter(|k| with_merchant.get(k.as_str()).is_none())
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {with_merchant}");
}

fn dates(transactions: &[Value]) -> Vec<chrono::NaiveDate> {
    transactions
        .iter()
        .map(|t| t["date"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Plaid's docs (`options.async_update` of `/investments/transactions/get`): on an Item not
/// initialised with Investments, the first extraction runs in the background:
/// `PRODUCT_NOT_READY` until it is done, then `HISTORICAL_UPDATE`; without it the call waits
/// and answers, and no webhook is sent.
#[tokio::test]
async fn investments_async_update_is_not_ready_until_its_historical_update() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let url = format!("{}/h", hooks.uri());
    let (access, item_id) = api
        .item("ins_109508", json!(["auth"]), json!({ "webhook": url }))
        .await;
    let body = json!({
        "access_token": access, "start_date": "2000-01-01", "end_date": "2100-01-01",
        "options": { "async_update": true },
    });
    assert_eq!(
        api.refused("/investments/transactions/get", body.clone())
            .await,
        "PRODUCT_NOT_READY"
    );
    let sent = api.sandbox.wait_for_webhooks(1).await;
    assert_eq!(sent[0].body["webhook_type"], "INVESTMENTS_TRANSACTIONS");
    assert_eq!(sent[0].body["webhook_code"], "HISTORICAL_UPDATE");
    assert_eq!(sent[0].body["item_id"], item_id.as_str());
    let new = sent[0].body["new_investments_transactions"]
        .as_u64()
        .unwrap();
    let answer = api.ok("/investments/transactions/get", body).await;
    assert!(new > 0);
    assert_eq!(answer["total_investment_transactions"], new);

    let (waits, _) = api
        .item("ins_109508", json!(["auth"]), json!({ "webhook": url }))
        .await;
    api.ok(
        "/investments/transactions/get",
        json!({ "access_token": waits, "start_date": "2000-01-01", "end_date": "2100-01-01" }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        codes(&api.sandbox),
        ["HISTORICAL_UPDATE"],
        "no second webhook"
    );
}

/// A product call adds its product to the Item only when it succeeds (one that fails leaves the
/// Item as it was); `/transactions/recurring/get` needs an Item already initialised with
/// Transactions, as Plaid's docs say, and does not initialise it.
#[tokio::test]
async fn only_a_product_call_that_succeeds_adds_its_product() {
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let products = |answer: &Value| answer["item"]["products"].clone();
    for (path, options) in [
        ("/auth/get", json!({ "account_ids": ["not-an-account"] })),
        (
            "/identity/get",
            json!({ "account_ids": ["not-an-account"] }),
        ),
        (
            "/liabilities/get",
            json!({ "account_ids": ["not-an-account"] }),
        ),
        (
            "/investments/holdings/get",
            json!({ "account_ids": ["not-an-account"] }),
        ),
    ] {
        let code = api
            .refused(path, json!({ "access_token": access, "options": options }))
            .await;
        assert_eq!(code, "INVALID_ACCOUNT_ID", "{path}");
        let item = api.ok("/item/get", json!({ "access_token": access })).await;
        assert_eq!(products(&item), json!(["transactions"]), "after {path}");
    }
    api.ok("/auth/get", json!({ "access_token": access })).await;
    let item = api.ok("/item/get", json!({ "access_token": access })).await;
    assert_eq!(products(&item), json!(["transactions", "auth"]));

    let (auth_only, _) = api.item("ins_109508", json!(["auth"]), json!({})).await;
    let recurring = json!({ "access_token": auth_only });
    assert_eq!(
        api.refused("/transactions/recurring/get", recurring.clone())
            .await,
        "PRODUCT_NOT_ENABLED"
    );
    let item = api
        .ok("/item/get", json!({ "access_token": auth_only }))
        .await;
    assert_eq!(products(&item), json!(["auth"]));
    // A first /transactions/sync initialises Transactions; then the streams are there.
    api.ok("/transactions/sync", json!({ "access_token": auth_only }))
        .await;
    api.ok("/transactions/recurring/get", recurring).await;
}

/// `options.include_original_description` (Plaid's docs: the field is included only when
/// asked), and the accounts a Transactions answer lists: `depository`, `credit` and student
/// loans, the products' coverage, not investment accounts or a mortgage.
#[tokio::test]
async fn original_descriptions_when_asked_and_only_the_accounts_transactions_covers() {
    let api = Api::start().await;
    let (access, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let (plain, last) = api.sync_all(&access, json!({})).await;
    assert!(!plain.is_empty());
    assert!(plain
        .iter()
        .all(|t| t.get("original_description").is_none()));
    let (asked, _) = api
        .sync_all(&access, json!({ "include_original_description": true }))
        .await;
    assert_eq!(asked.len(), plain.len());
    assert!(asked.iter().all(|t| t["original_description"]
        .as_str()
        .is_some_and(|d| !d.is_empty())));
    let get = api
        .ok(
            "/transactions/get",
            json!({
                "access_token": access, "start_date": "2000-01-01", "end_date": "2100-01-01",
                "options": { "include_original_description": true, "count": 3 },
            }),
        )
        .await;
    assert!(get["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["original_description"].is_string()));

    // A user_custom mortgage with transactions: Transactions leaves them out.
    let config = json!({ "override_accounts": [
        { "type": "depository", "subtype": "checking", "starting_balance": 100,
          "transactions": [{ "date_transacted": "2026-11-01", "date_posted": "2026-11-02",
                             "amount": 5, "description": "COFFEE", "currency": "USD" }] },
        { "type": "loan", "subtype": "mortgage", "starting_balance": 250000,
          "transactions": [{ "date_transacted": "2026-11-01", "date_posted": "2026-11-02",
                             "amount": -1200, "description": "PAYMENT", "currency": "USD" }] },
    ] });
    let (custom, custom_item) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "override_username": "user_custom", "override_password": config.to_string() }),
        )
        .await;
    let (txns, last_custom) = api.sync_all(&custom, json!({})).await;
    let names: Vec<&str> = txns.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["COFFEE"]);
    // The truth a test checks a sync against says the same, over HTTP as in-process.
    let truth: Value = api
        .http
        .get(format!(
            "{}/__sandbox/items/{}/transactions",
            api.sandbox.uri(),
            custom_item.as_str()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let in_process = api.sandbox.transactions(&custom_item).unwrap();
    // Field by field, amounts as numbers: a proxy in front (Prism, in the conformance run)
    // writes 5.0 as 5.
    let fields = |t: &Value| {
        (
            t["transaction_id"].clone(),
            t["account_id"].clone(),
            t["amount"].as_f64(),
            t["date"].clone(),
            t["pending"].clone(),
            t["name"].clone(),
            t.as_object().map(|o| o.len()),
        )
    };
    let over_http: Vec<_> = truth["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(fields)
        .collect();
    let rust: Vec<_> = in_process.iter().map(|t| fields(&json!(t))).collect();
    assert_eq!(over_http, rust);
    assert_eq!(in_process.len(), 1);
    assert_eq!(in_process[0].name, "COFFEE");
    assert_eq!(
        in_process[0].account_id,
        last_custom["accounts"][0]["account_id"]
    );
    assert_eq!(last_custom["accounts"].as_array().unwrap().len(), 1);

    for listed in [&last["accounts"], &get["accounts"]] {
        let kinds: Vec<(&str, &str)> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["type"].as_str().unwrap(), a["subtype"].as_str().unwrap()))
            .collect();
        assert!(kinds.contains(&("depository", "checking")), "{kinds:?}");
        assert!(kinds.contains(&("credit", "credit card")), "{kinds:?}");
        assert!(
            kinds
                .iter()
                .all(|(kind, subtype)| matches!(*kind, "depository" | "credit")
                    || (*kind == "loan" && *subtype == "student")),
            "{kinds:?}"
        );
    }
}

/// The transaction history an Item asks for (`days_requested` at `/sandbox/public_token/create`,
/// its `start_date` and `end_date`, a first `/transactions/sync`'s `options.days_requested`,
/// and Link's `transactions.days_requested`), within Plaid's bounds of 1 to 730 days.
#[tokio::test]
async fn an_items_transaction_history_is_what_it_asked_for() {
    let api = Api::start().await;
    let span = |txns: &[Value]| {
        let d = dates(txns);
        (*d.iter().min().unwrap(), *d.iter().max().unwrap())
    };
    let (default, _) = api
        .item("ins_109508", json!(["transactions"]), json!({}))
        .await;
    let (all, _) = api.sync_all(&default, json!({})).await;
    let (first, today) = span(&all);
    assert!((today - first).num_days() > 80, "{first} {today}");

    let (short, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "transactions": { "days_requested": 30 } }),
        )
        .await;
    let (txns, _) = api.sync_all(&short, json!({})).await;
    let (from, _) = span(&txns);
    assert!((today - from).num_days() <= 30, "{from}");
    assert!(txns.len() < all.len());

    let (long, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "transactions": { "days_requested": 365 } }),
        )
        .await;
    let (txns, _) = api.sync_all(&long, json!({})).await;
    let (from, _) = span(&txns);
    assert!((today - from).num_days() > 300, "{from}");

    let (start, end) = (today - chrono::Days::new(60), today - chrono::Days::new(30));
    let (window, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "transactions": { "start_date": start.to_string(), "end_date": end.to_string() } }),
        )
        .await;
    let (txns, _) = api.sync_all(&window, json!({})).await;
    assert!(!txns.is_empty());
    assert!(dates(&txns).iter().all(|d| (start..=end).contains(d)));

    let back = today - chrono::Days::new(200);
    let (old_start, _) = api
        .item(
            "ins_109508",
            json!(["transactions"]),
            json!({ "transactions": { "start_date": back.to_string() } }),
        )
        .await;
    let (txns, _) = api.sync_all(&old_start, json!({})).await;
    assert!(
        (span(&txns).0 - back).num_days() < 7,
        "history back to {back}"
    );

    // A first sync asking for less history leaves the balances as they were: Plaid's do not
    // depend on the history an app asked for.
    let (late, _) = api.item("ins_109508", json!(["auth"]), json!({})).await;
    let balances = async |access: &str| {
        let answer = api
            .ok("/accounts/get", json!({ "access_token": access }))
            .await;
        answer["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["balances"].clone())
            .collect::<Vec<_>>()
    };
    let before = balances(&late).await;
    let options = json!({ "days_requested": 14 });
    let first_call = api
        .ok(
            "/transactions/sync",
            json!({ "access_token": late, "options": options }),
        )
        .await;
    assert_eq!(first_call["transactions_update_status"], "NOT_READY");
    let (txns, _) = api.sync_all(&late, json!({})).await;
    assert!((today - span(&txns).0).num_days() <= 14);
    assert_eq!(balances(&late).await, before);

    for bad in [json!(0), json!(731), json!("30")] {
        let code = api
            .refused(
                "/sandbox/public_token/create",
                json!({
                    "institution_id": "ins_109508", "initial_products": ["transactions"],
                    "options": { "transactions": { "days_requested": bad } },
                }),
            )
            .await;
        assert_eq!(code, "INVALID_FIELD", "{bad}");
    }
}

/// MED (review round 10): `GET /__sandbox/webhooks` copied the server's whole webhook history
/// under the lock every call takes (177,254 records: 47 MB, 2.5 s, and every other call held
/// up), and a test in another language polling for its new webhooks paid that each time.
/// `?since=N` returns the webhooks from index N on, and `next` is where to poll from.
#[tokio::test]
async fn the_webhook_history_is_read_from_an_index_on() {
    let api = Api::start().await;
    let hooks = receiver().await;
    let (token, item_id) = api.item("ins_109508", json!(["auth"]), json!({})).await;
    api.ok(
        "/item/webhook/update",
        json!({ "access_token": token, "webhook": hooks.uri() }),
    )
    .await;
    let read = async |query: &str| -> (u16, Value) {
        let response = api
            .http
            .get(format!("{}/__sandbox/webhooks{query}", api.sandbox.uri()))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    };
    let (_, all) = read("").await;
    let next = all["next"].as_u64().unwrap();
    assert_eq!(all["webhooks"].as_array().unwrap().len() as u64, next);
    for _ in 0..2 {
        api.sandbox
            .fire_webhook(&item_id, "NEW_ACCOUNTS_AVAILABLE")
            .unwrap();
    }
    let (status, new) = read(&format!("?since={next}")).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = new["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["body"]["webhook_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["NEW_ACCOUNTS_AVAILABLE"; 2]);
    assert_eq!(
        (new["since"].as_u64(), new["next"].as_u64()),
        (Some(next), Some(next + 2))
    );
    let (_, beyond) = read("?since=999999").await;
    assert_eq!(beyond["webhooks"].as_array().unwrap().len(), 0);
    let (status, bad) = read("?since=-1").await;
    assert_eq!(status, 400, "{bad}");
}
