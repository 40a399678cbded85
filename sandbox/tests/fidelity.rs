//! The sandbox against Plaid's documentation (the descriptions of the vendored spec are Plaid's
//! published doc text): one small test per point where it used to differ, over plain HTTP so
//! that what is checked is the wire.

mod common;

use common::{item, post};
use plaid_sandbox::Sandbox;
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn ok(sandbox: &Sandbox, path: &str, body: Value) -> Value {
    let (status, answer) = post(sandbox, path, body, &[]).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

/// `/auth/get` of a new Auth Item at `institution`; `None` if the bank refuses the login
/// (down, or no longer supported).
async fn auth_at(sandbox: &Sandbox, institution: &str) -> Option<Value> {
    let (status, public) = post(
        sandbox,
        "/sandbox/public_token/create",
        json!({ "institution_id": institution, "initial_products": ["auth"] }),
        &[],
    )
    .await;
    if status != 200 {
        return None;
    }
    let made = ok(
        sandbox,
        "/item/public_token/exchange",
        json!({ "public_token": public["public_token"] }),
    )
    .await;
    Some(
        ok(
            sandbox,
            "/auth/get",
            json!({ "access_token": made["access_token"] }),
        )
        .await,
    )
}

/// A call Plaid refuses with 400: its `error_code`.
async fn refused(sandbox: &Sandbox, path: &str, body: Value) -> Value {
    let (status, answer) = post(sandbox, path, body, &[]).await;
    assert_eq!(status, 400, "{path}: {answer}");
    answer["error_code"].clone()
}

/// The accounts a `/transactions/recurring/get` answer has streams on, sorted, each once.
fn stream_accounts(answer: &Value) -> Vec<String> {
    let mut ids: Vec<String> = ["inflow_streams", "outflow_streams"]
        .iter()
        .flat_map(|k| answer[*k].as_array().unwrap())
        .map(|s| s["account_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The first webhook sent with `code` for `item_id` (waiting up to 10 s for it).
async fn webhook(sandbox: &Sandbox, item_id: &str, code: &str) -> Value {
    for _ in 0..1000 {
        if let Some(w) = sandbox.webhooks().into_iter().find(|w| {
            w.body["webhook_code"] == code && w.body["item_id"] == item_id && w.status.is_some()
        }) {
            return w.body;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {code} webhook for {item_id}: {:?}", sandbox.webhooks());
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// OverrideAccounts.starting_balance: "If provided, the account will start with this amount as
/// the current balance." Transactions that post later still move it.
#[tokio::test]
async fn user_custom_starting_balance_is_the_current_balance_at_creation() {
    let sandbox = Sandbox::builder()
        .today(chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap())
        .start()
        .await;
    let txn = |transacted: &str, posted: &str, amount: f64| {
        json!({ "date_transacted": transacted, "date_posted": posted, "amount": amount,
                "description": "PURCHASE", "currency": "USD" })
    };
    let config = json!({ "override_accounts": [
        { "type": "depository", "subtype": "checking", "starting_balance": 500,
          "transactions": [txn("2026-03-01", "2026-03-02", 42.5),
                           txn("2026-03-09", "2026-03-12", 10.0)] },
        { "type": "credit", "subtype": "credit card", "starting_balance": 100,
          "meta": { "limit": 1000 },
          "transactions": [txn("2026-03-01", "2026-03-02", 25.0)] },
    ] });
    let (_, access) = item(
        &sandbox,
        json!(["transactions"]),
        json!({ "override_username": "user_custom", "override_password": config.to_string() }),
    )
    .await;
    let balances = |answer: &Value, i: usize| answer["accounts"][i]["balances"].clone();
    let at_start = ok(&sandbox, "/accounts/get", json!({ "access_token": access })).await;
    let checking = balances(&at_start, 0);
    assert_eq!(checking["current"], 500.0, "starting_balance: {checking}");
    assert_eq!(
        checking["available"], 490.0,
        "less the pending $10: {checking}"
    );
    let card = balances(&at_start, 1);
    assert_eq!(card["current"], 100.0, "starting_balance: {card}");
    assert_eq!(card["available"], 900.0, "limit less what is owed: {card}");
    // The pending purchase posts: the balance moves from the starting balance.
    sandbox.advance_clock(Duration::from_secs(3 * 86_400));
    let later = ok(&sandbox, "/accounts/get", json!({ "access_token": access })).await;
    assert_eq!(balances(&later, 0)["current"], 490.0, "{later}");
    assert_eq!(balances(&later, 1)["current"], 100.0, "{later}");
}

/// ProductStatusBreakdown: `success`, `error_plaid` and `error_institution` sum to 1; a
/// healthy institution mostly succeeds.
#[tokio::test]
async fn institution_status_breakdown_reports_success_first_and_sums_to_one() {
    let sandbox = Sandbox::start().await;
    let answer = ok(
        &sandbox,
        "/institutions/get_by_id",
        json!({ "institution_id": "ins_109508", "country_codes": ["US"],
                "options": { "include_status": true } }),
    )
    .await;
    let status = &answer["institution"]["status"];
    assert_eq!(status["item_logins"]["status"], "HEALTHY", "{status}");
    for product in ["item_logins", "transactions_updates", "auth"] {
        let b = &status[product]["breakdown"];
        let part = |k: &str| b[k].as_f64().unwrap();
        let (success, plaid, bank) = (
            part("success"),
            part("error_plaid"),
            part("error_institution"),
        );
        assert!(success > plaid && success > bank, "{product}: {b}");
        assert!(
            (success + plaid + bank - 1.0).abs() < 1e-9,
            "{product}: {b}"
        );
        for v in [success, plaid, bank] {
            assert_eq!(v, (v * 10_000.0).round() / 10_000.0, "{product}: {b}");
        }
    }
}

/// PlaidError.status: "This will only be returned in the response body when the error
/// information is provided via a webhook" (and is an integer): `/item/get`'s Item error has
/// none; the `ITEM` `ERROR` webhook's has the integer.
#[tokio::test]
async fn an_item_errors_status_is_absent_from_item_get_and_an_integer_in_its_webhook() {
    let sandbox = Sandbox::start().await;
    let hooks = receiver().await;
    let (item_id, access) = item(
        &sandbox,
        json!(["transactions"]),
        json!({ "webhook": format!("{}/h", hooks.uri()) }),
    )
    .await;
    ok(
        &sandbox,
        "/sandbox/item/reset_login",
        json!({ "access_token": access }),
    )
    .await;
    let got = ok(&sandbox, "/item/get", json!({ "access_token": access })).await;
    let error = &got["item"]["error"];
    assert_eq!(error["error_code"], "ITEM_LOGIN_REQUIRED", "{got}");
    assert!(error["status"].is_null(), "item.error.status: {error}");
    let hook = webhook(&sandbox, &item_id, "ERROR").await;
    assert!(hook["error"]["status"].is_u64(), "{hook}");
}

/// Plaid's error documentation lives on one page per category:
/// `https://plaid.com/docs/errors/item/#item_login_required`.
#[tokio::test]
async fn documentation_url_names_the_errors_category_page() {
    let sandbox = Sandbox::start().await;
    let (status, answer) = post(
        &sandbox,
        "/accounts/get",
        json!({ "access_token": "access-sandbox-00000000-0000-0000-0000-000000000000" }),
        &[],
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["documentation_url"],
        "https://plaid.com/docs/errors/invalid-input/#invalid_access_token"
    );
    let (_, access) = item(&sandbox, json!(["transactions"]), json!({})).await;
    ok(
        &sandbox,
        "/sandbox/item/reset_login",
        json!({ "access_token": access }),
    )
    .await;
    let (_, answer) = post(
        &sandbox,
        "/accounts/get",
        json!({ "access_token": access }),
        &[],
    )
    .await;
    assert_eq!(
        answer["documentation_url"], "https://plaid.com/docs/errors/item/#item_login_required",
        "{answer}"
    );
}

/// Every `error_<CODE>` test password fails Link with a message saying what went wrong.
#[tokio::test]
async fn error_passwords_fail_with_a_message() {
    let sandbox = Sandbox::start().await;
    for code in [
        "PRODUCTS_NOT_SUPPORTED",
        "ITEM_LOCKED",
        "INSTITUTION_DOWN",
        "NO_ACCOUNTS",
    ] {
        let (status, answer) = post(
            &sandbox,
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_109508", "initial_products": ["transactions"],
                    "options": { "override_username": "user_good",
                                 "override_password": format!("error_{code}") } }),
            &[],
        )
        .await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some(code)),
            "{answer}"
        );
        assert!(
            !answer["error_message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{code}: {answer}"
        );
    }
}

/// RECURRING_TRANSACTIONS_UPDATE's `account_ids`: "the accounts that have new or updated
/// recurring transactions data" — those `/transactions/recurring/get` finds streams on.
#[tokio::test]
async fn recurring_transactions_update_names_only_accounts_with_streams() {
    let sandbox = Sandbox::start().await;
    let hooks = receiver().await;
    let (item_id, access) = item(
        &sandbox,
        json!(["transactions"]),
        json!({ "webhook": format!("{}/h", hooks.uri()) }),
    )
    .await;
    let streams = ok(
        &sandbox,
        "/transactions/recurring/get",
        json!({ "access_token": access }),
    )
    .await;
    let with_streams = stream_accounts(&streams);
    assert!(!with_streams.is_empty(), "{streams}");
    ok(
        &sandbox,
        "/sandbox/item/fire_webhook",
        json!({ "access_token": access, "webhook_code": "RECURRING_TRANSACTIONS_UPDATE" }),
    )
    .await;
    let hook = webhook(&sandbox, &item_id, "RECURRING_TRANSACTIONS_UPDATE").await;
    let mut named: Vec<&str> = hook["account_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(named, with_streams, "{hook}");
}

/// TransactionsRecurringGetRequest.account_ids (a top-level field, not under `options`):
/// "Retrieves all active accounts on item if no `account_id`s are provided. Note: An error will
/// be returned if a provided `account_id` is not associated with the Item."
#[tokio::test]
async fn recurring_get_filters_by_its_top_level_account_ids() {
    let sandbox = Sandbox::start().await;
    let (_, access) = item(&sandbox, json!(["transactions"]), json!({})).await;
    let all = stream_accounts(
        &ok(
            &sandbox,
            "/transactions/recurring/get",
            json!({ "access_token": access }),
        )
        .await,
    );
    assert!(all.len() > 1, "{all:?}");
    let one = ok(
        &sandbox,
        "/transactions/recurring/get",
        json!({ "access_token": access, "account_ids": [all[0]] }),
    )
    .await;
    assert_eq!(stream_accounts(&one), vec![all[0].clone()], "{one}");
    let none_named = ok(
        &sandbox,
        "/transactions/recurring/get",
        json!({ "access_token": access, "account_ids": [] }),
    )
    .await;
    assert_eq!(stream_accounts(&none_named), all, "{none_named}");
    let code = refused(
        &sandbox,
        "/transactions/recurring/get",
        json!({ "access_token": access, "account_ids": ["not-an-account"] }),
    )
    .await;
    assert_eq!(code, "INVALID_ACCOUNT_ID");
}

/// An operation answered from the spec talks about the Item its token opens (its `item_id`
/// and bank), and every token of `access_tokens` must be the sandbox's own, as
/// `access_token` must.
#[tokio::test]
async fn spec_answers_name_the_item_their_token_opens() {
    let sandbox = Sandbox::start().await;
    let (item_id, access) = item(&sandbox, json!(["transactions"]), json!({})).await;
    let listed = ok(
        &sandbox,
        "/statements/list",
        json!({ "access_token": access }),
    )
    .await;
    assert_eq!(listed["item_id"], item_id.as_str(), "{listed}");
    assert_eq!(listed["institution_id"], "ins_109508", "{listed}");
    let code = refused(
        &sandbox,
        "/asset_report/create",
        json!({ "access_tokens": [access, "access-sandbox-00000000-0000-0000-0000-000000000000"],
                "days_requested": 30 }),
    )
    .await;
    assert_eq!(code, "INVALID_ACCESS_TOKEN");
}

/// Plaid's timestamps are whole seconds (`2020-03-27T12:56:34Z` in its examples); the
/// sandbox's carried nine digits of nanoseconds, which parsers written against Plaid's format
/// (Python's `strptime` with `%SZ` or `%S.%fZ`) refuse.
#[tokio::test]
async fn timestamps_are_whole_seconds_as_plaids_are() {
    let sandbox = Sandbox::start().await;
    let (_, access) = item(&sandbox, json!(["transactions"]), json!({})).await;
    let link = ok(
        &sandbox,
        "/link/token/create",
        json!({ "client_name": "t", "language": "en", "country_codes": ["US"],
                "user": { "client_user_id": "u" }, "products": ["auth"] }),
    )
    .await;
    let item = ok(&sandbox, "/item/get", json!({ "access_token": access })).await;
    for stamp in [&link["expiration"], &item["item"]["created_at"]] {
        let stamp = stamp.as_str().unwrap();
        let parsed = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%SZ");
        assert!(parsed.is_ok(), "{stamp}");
    }
}

/// TransactionsSyncResponse.accounts: "Only accounts that have associated transactions will be
/// shown."
#[tokio::test]
async fn transactions_sync_lists_only_accounts_with_transactions() {
    let sandbox = Sandbox::start().await;
    let (_, access) = item(&sandbox, json!(["transactions"]), json!({})).await;
    let (mut added, mut cursor) = (Vec::new(), String::new());
    let page = loop {
        let page = ok(
            &sandbox,
            "/transactions/sync",
            json!({ "access_token": access, "cursor": cursor, "count": 500 }),
        )
        .await;
        added.extend(page["added"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
        if page["has_more"] != true {
            break page;
        }
    };
    let accounts = page["accounts"].as_array().unwrap();
    assert!(!accounts.is_empty(), "{page}");
    for account in accounts {
        let id = &account["account_id"];
        assert!(
            added.iter().any(|t| &t["account_id"] == id),
            "{} ({}) has no transactions",
            account["name"],
            id
        );
    }
}

/// The user_good Item with these products: its access token, item id and accounts.
async fn good_item(sandbox: &Sandbox, products: Value) -> (String, String, Vec<Value>) {
    let (item_id, access) = item(sandbox, products, json!({})).await;
    let accounts = ok(sandbox, "/accounts/get", json!({ "access_token": access })).await;
    let accounts = accounts["accounts"].as_array().unwrap().clone();
    (access, item_id, accounts)
}

fn ids(accounts: &[Value]) -> Vec<Value> {
    accounts.iter().map(|a| a["account_id"].clone()).collect()
}

/// `/identity/match` "generates a match score, which indicates how well the provided identity
/// data matches the identity information on file"; a field not sent has no score; "balances
/// ... will always be null". It answered the spec's example (another Item's accounts, Chase,
/// 90 and 30 whatever was sent).
#[tokio::test]
async fn identity_match_scores_what_was_sent_against_the_items_owners() {
    let sandbox = Sandbox::start().await;
    let (access, item_id, accounts) = good_item(&sandbox, json!(["identity"])).await;
    let identity = ok(&sandbox, "/identity/get", json!({ "access_token": access })).await;
    let owner = &identity["accounts"][0]["owners"][0];
    let address = &owner["addresses"][0]["data"];
    let user = json!({
        "legal_name": owner["names"][0],
        "phone_number": owner["phone_numbers"][0]["data"],
        "email_address": owner["emails"][0]["data"],
        "address": { "street": address["street"], "city": address["city"],
                     "region": address["region"], "postal_code": address["postal_code"],
                     "country": address["country"] },
    });
    let matched = ok(
        &sandbox,
        "/identity/match",
        json!({ "access_token": access, "user": user }),
    )
    .await;
    assert_eq!(matched["item"]["item_id"], item_id.as_str());
    let scored = matched["accounts"].as_array().unwrap();
    assert_eq!(ids(scored), ids(&accounts));
    for account in scored {
        assert_eq!(account["legal_name"]["score"], 100, "{account}");
        assert_eq!(account["phone_number"]["score"], 100, "{account}");
        assert_eq!(account["email_address"]["score"], 100, "{account}");
        assert_eq!(account["address"]["score"], 100, "{account}");
        assert_eq!(account["address"]["is_postal_code_match"], true);
        assert_eq!(account["balances"]["current"], Value::Null, "{account}");
    }

    // Someone else, by name only: a mismatch, and no score for what was not sent.
    let one = accounts[0]["account_id"].clone();
    let other = ok(
        &sandbox,
        "/identity/match",
        json!({ "access_token": access, "user": { "legal_name": "Totally Different Person" },
                "options": { "account_ids": [one] } }),
    )
    .await;
    let scored = other["accounts"].as_array().unwrap();
    assert_eq!(ids(scored), vec![one]);
    assert!(
        scored[0]["legal_name"]["score"].as_i64().unwrap() < 70,
        "{other}"
    );
    assert_eq!(
        scored[0]["legal_name"]["is_first_name_or_last_name_match"],
        false
    );
    assert!(scored[0].get("phone_number").is_none(), "{other}");

    let refused = |body: Value| {
        let sandbox = &sandbox;
        async move { post(sandbox, "/identity/match", body, &[]).await.1["error_code"].clone() }
    };
    assert_eq!(
        refused(json!({ "access_token": access, "options": { "account_ids": ["zzz"] } })).await,
        "INVALID_ACCOUNT_ID"
    );
    ok(
        &sandbox,
        "/sandbox/item/reset_login",
        json!({ "access_token": access }),
    )
    .await;
    assert_eq!(
        refused(json!({ "access_token": access, "user": user })).await,
        "ITEM_LOGIN_REQUIRED"
    );
}

/// `/processor/auth/get` returns numbers "for a checking, savings, or cash management account";
/// `/auth/get` leaves a credit card out and waits for micro-deposits. The processor call gave
/// a credit card ACH numbers and a pending account its numbers.
#[tokio::test]
async fn processor_auth_gives_numbers_only_where_auth_does() {
    let sandbox = Sandbox::start().await;
    let (access, _, accounts) = good_item(&sandbox, json!(["auth"])).await;
    let card = accounts
        .iter()
        .find(|a| a["subtype"] == "credit card")
        .unwrap()["account_id"]
        .clone();
    let made = ok(
        &sandbox,
        "/processor/token/create",
        json!({ "access_token": access, "account_id": card, "processor": "dwolla" }),
    )
    .await;
    let (status, answer) = post(
        &sandbox,
        "/processor/auth/get",
        json!({ "processor_token": made["processor_token"] }),
        &[],
    )
    .await;
    assert_eq!(
        (status, answer["error_code"].clone()),
        (400, json!("NO_AUTH_ACCOUNTS")),
        "{answer}"
    );

    let pending = ok(
        &sandbox,
        "/sandbox/processor_token/create",
        json!({ "institution_id": "ins_109512",
                "options": { "override_username": "user_good", "override_password": "microdeposits_good" } }),
    )
    .await;
    let (status, answer) = post(
        &sandbox,
        "/processor/auth/get",
        json!({ "processor_token": pending["processor_token"] }),
        &[],
    )
    .await;
    assert_eq!(
        (status, answer["error_code"].clone()),
        (400, json!("PRODUCT_NOT_READY")),
        "{answer}"
    );
}

/// `products`: "Item creation will fail if one or more listed products is ... incompatible
/// with the account type"; each product needs "at least one compatible account" (the spec).
/// Items were made with Auth over a credit card alone, Investments over a checking account.
#[tokio::test]
async fn an_item_is_not_made_with_a_product_none_of_its_accounts_can_use() {
    let sandbox = Sandbox::start().await;
    let custom = |accounts: Value| {
        json!({ "override_username": "user_custom",
                "override_password": json!({ "override_accounts": accounts }).to_string() })
    };
    let checking = json!([{ "type": "depository", "subtype": "checking", "starting_balance": 10 }]);
    let card = json!([{ "type": "credit", "subtype": "credit card", "starting_balance": 10,
                        "meta": { "limit": 100 } }]);
    for (products, accounts, code) in [
        (json!(["investments"]), &checking, "NO_INVESTMENT_ACCOUNTS"),
        (json!(["liabilities"]), &checking, "NO_LIABILITY_ACCOUNTS"),
        (json!(["auth"]), &card, "NO_AUTH_ACCOUNTS"),
        (json!(["transactions", "auth"]), &card, "NO_AUTH_ACCOUNTS"),
    ] {
        let (status, answer) = post(
            &sandbox,
            "/sandbox/public_token/create",
            json!({ "institution_id": "ins_109508", "initial_products": products,
                    "options": custom(accounts.clone()) }),
            &[],
        )
        .await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some(code)),
            "{products}: {answer}"
        );
    }
    // What each can use still links.
    item(&sandbox, json!(["auth", "transactions"]), custom(checking)).await;
    item(&sandbox, json!(["transactions"]), custom(card)).await;
}

/// `/liabilities/get`'s `accounts` is "an array of accounts associated with the Item" (Plaid's
/// example lists Plaid Checking beside the loans); it listed the liability accounts only.
#[tokio::test]
async fn liabilities_get_lists_the_items_accounts() {
    let sandbox = Sandbox::start().await;
    let (access, _, accounts) = good_item(&sandbox, json!(["liabilities"])).await;
    let all = ok(
        &sandbox,
        "/liabilities/get",
        json!({ "access_token": access }),
    )
    .await;
    assert_eq!(ids(all["accounts"].as_array().unwrap()), ids(&accounts));
    let checking = accounts
        .iter()
        .find(|a| a["subtype"] == "checking")
        .unwrap()["account_id"]
        .clone();
    let one = ok(
        &sandbox,
        "/liabilities/get",
        json!({ "access_token": access, "options": { "account_ids": [checking] } }),
    )
    .await;
    assert_eq!(ids(one["accounts"].as_array().unwrap()), vec![checking]);
    assert_eq!(one["liabilities"]["credit"], json!([]));
}

/// `/item/import`: `user_id` is an "opaque user identifier", the pair is "chosen by you", and
/// "Plaid will automatically begin an extraction of that Item". Any pair but the sandbox's
/// test users was refused as wrong credentials, and no transactions webhook followed.
#[tokio::test]
async fn item_import_takes_any_user_and_pulls_transactions() {
    let sandbox = Sandbox::start().await;
    let hooks = receiver().await;
    let imported = ok(
        &sandbox,
        "/item/import",
        json!({ "products": ["transactions"], "user_auth": { "user_id": "abc123", "auth_token": "tok" },
                "options": { "webhook": format!("{}/hooks", hooks.uri()) } }),
    )
    .await;
    let got = ok(
        &sandbox,
        "/item/get",
        json!({ "access_token": imported["access_token"] }),
    )
    .await;
    let item_id = got["item"]["item_id"].as_str().unwrap();
    webhook(&sandbox, item_id, "HISTORICAL_UPDATE").await;
    // The sandbox's own users keep their meaning.
    let (status, answer) = post(
        &sandbox,
        "/item/import",
        json!({ "products": ["transactions"],
                "user_auth": { "user_id": "user_good", "auth_token": "error_ITEM_LOCKED" } }),
        &[],
    )
    .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (400, Some("ITEM_LOCKED")),
        "{answer}"
    );
}

/// Windowpane's Auth numbers: "Routing number `333333334`" (plaid.com/docs/auth/coverage/
/// testing/); every US bank answered 011401533.
#[tokio::test]
async fn windowpane_answers_its_own_routing_number() {
    let sandbox = Sandbox::start().await;
    let auth = auth_at(&sandbox, "ins_135858")
        .await
        .expect("Windowpane links");
    assert_eq!(auth["numbers"]["ach"][0]["routing"], "333333334", "{auth}");
    let (_, access) = item(&sandbox, json!(["auth"]), json!({})).await;
    let auth = ok(&sandbox, "/auth/get", json!({ "access_token": access })).await;
    assert_eq!(auth["numbers"]["ach"][0]["routing"], "011401533");
}

/// `/categories/get` takes no keys (the spec's `security: []`; Plaid's official Python SDK
/// sends none): it was refused `MISSING_FIELDS` "client_id, secret". Every other operation
/// still wants them.
#[tokio::test]
async fn categories_get_takes_no_credentials() {
    let sandbox = Sandbox::start().await;
    let bare = |path: &'static str| {
        let url = format!("{}{path}", sandbox.uri());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("Content-Type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) = bare("/categories/get").await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["categories"].is_array(), "{answer}");
    let (status, answer) = bare("/institutions/get").await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (400, Some("MISSING_FIELDS"))
    );
}

/// user_good's securities carry what Plaid's `/investments/holdings/get` example gives for
/// them: the option's contract, the bill's fixed-income terms, sectors, industries and
/// subtypes (they were null).
#[tokio::test]
async fn user_goods_securities_have_plaids_details() {
    let sandbox = Sandbox::start().await;
    let (access, _, _) = good_item(&sandbox, json!(["investments"])).await;
    let holdings = ok(
        &sandbox,
        "/investments/holdings/get",
        json!({ "access_token": access }),
    )
    .await;
    let securities = holdings["securities"].as_array().unwrap();
    let named = |name: &str| {
        securities
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {holdings}"))
            .clone()
    };
    let option = named("Nflx Feb 01'18 $355 Call");
    assert_eq!(
        option["option_contract"],
        json!({ "contract_type": "call", "expiration_date": "2018-02-01",
                "strike_price": 355.0, "underlying_security_ticker": "NFLX" })
    );
    assert_eq!(option["subtype"], "option");
    let bill = named("US Treasury Bill - 5.43% 31/10/2024 USD 100");
    assert_eq!(bill["fixed_income"]["face_value"], 100.0);
    assert_eq!(bill["fixed_income"]["yield_rate"]["percentage"], 5.43);
    assert_eq!(bill["fixed_income"]["maturity_date"], "2024-10-31");
    assert_eq!(bill["sector"], "Government");
    let stock = named("Achillion Pharmaceuticals Inc.");
    assert_eq!(stock["sector"], "Health Technology");
    assert_eq!(stock["industry"], "Major Pharmaceuticals");
    assert_eq!(stock["subtype"], "common stock");
    assert_eq!(stock["market_identifier_code"], "XNAS");
    assert_eq!(named("U S Dollar")["subtype"], "cash");
}

/// LOW (round 17): a product named twice, not next to each other, was kept twice: `auth,
/// transactions, auth` made `products` and `billed_products` list `auth` twice, and a long
/// repeated list made every `/item/get` megabytes. Each product is listed once, in the order
/// first named.
#[tokio::test]
async fn a_product_named_twice_is_listed_once() {
    let sandbox = Sandbox::start().await;
    let (_, access) = item(&sandbox, json!(["auth", "transactions", "auth"]), json!({})).await;
    let got = ok(&sandbox, "/item/get", json!({ "access_token": access })).await;
    assert_eq!(
        got["item"]["products"],
        json!(["auth", "transactions"]),
        "{got}"
    );
    assert_eq!(
        got["item"]["billed_products"],
        json!(["auth", "transactions"]),
        "{got}"
    );
}

/// LOW (round 17): a body sent as another type (`text/plain`, or curl's default form type)
/// was read as JSON all the same. Plaid's INVALID_BODY: "The request content-type was not of
/// type application/json" (plaid.com/docs/errors/invalid-request/). A JSON type with a
/// charset, in any case, is JSON.
#[tokio::test]
async fn a_body_sent_as_another_type_is_invalid_body() {
    let sandbox = Sandbox::start().await;
    let body = json!({ "count": 1, "offset": 0, "country_codes": ["US"] }).to_string();
    let send = |content_type: &'static str| {
        let (uri, body) = (sandbox.uri(), body.clone());
        async move {
            let response = reqwest::Client::new()
                .post(format!("{uri}/institutions/get"))
                .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
                .header("PLAID-SECRET", plaid_sandbox::SECRET)
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    for refused in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, answer) = send(refused).await;
        assert_eq!(status, 400, "{refused}: {answer}");
        assert_eq!(answer["error_code"], "INVALID_BODY", "{refused}: {answer}");
    }
    for taken in ["application/json; charset=utf-8", "Application/JSON"] {
        let (status, answer) = send(taken).await;
        assert_eq!(status, 200, "{taken}: {answer}");
    }
}

/// A `user_custom` Item made from this config, with these products: (access token, item id).
async fn custom_item(sandbox: &Sandbox, products: Value, config: Value) -> (String, String) {
    let (item_id, access) = item(
        sandbox,
        products,
        json!({ "override_username": "user_custom", "override_password": config.to_string() }),
    )
    .await;
    (access, item_id)
}

/// MED (review round 18): an empty `options.account_ids` answered 200 with no accounts.
/// Plaid refuses it: "options.account_ids must be a non-empty array of valid account ids"
/// (an INVALID_REQUEST quoted in frappe/erpnext#23376), so an app that sends an empty
/// selection passed here and failed at Plaid.
#[tokio::test]
async fn an_empty_account_ids_list_is_refused_as_plaid_refuses_it() {
    let sandbox = Sandbox::start().await;
    let (access, _, _) = good_item(
        &sandbox,
        json!([
            "auth",
            "transactions",
            "identity",
            "investments",
            "liabilities"
        ]),
    )
    .await;
    let dates = json!({ "start_date": "2020-01-01", "end_date": "2030-01-01" });
    for (path, extra) in [
        ("/accounts/get", json!({})),
        ("/accounts/balance/get", json!({})),
        ("/auth/get", json!({})),
        ("/identity/get", json!({})),
        ("/investments/holdings/get", json!({})),
        ("/investments/transactions/get", dates.clone()),
        ("/liabilities/get", json!({})),
        ("/transactions/get", dates.clone()),
    ] {
        let mut body = json!({ "access_token": access, "options": { "account_ids": [] } });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = post(&sandbox, path, body, &[]).await;
        assert_eq!(
            (
                status,
                answer["error_type"].as_str(),
                answer["error_code"].as_str()
            ),
            (400, Some("INVALID_REQUEST"), Some("INVALID_FIELD")),
            "{path}: {answer}"
        );
        assert!(
            answer["error_message"]
                .as_str()
                .unwrap()
                .contains("options.account_ids must be a non-empty array"),
            "{path}: {answer}"
        );
    }
    // `/transactions/recurring/get`'s top-level list: empty is every account, as documented.
    let (status, answer) = post(
        &sandbox,
        "/transactions/recurring/get",
        json!({ "access_token": access, "account_ids": [] }),
        &[],
    )
    .await;
    assert_ne!(answer["error_code"], "INVALID_FIELD", "{status}: {answer}");
}

/// MED (review round 18): `user_custom` investments gave one security a new `security_id`
/// at each mention, so the holding of ABC and the buy of ABC named different securities
/// (the spec: `security_id` is "used to associate securities with holdings"); and a `cash`
/// or `fee` transaction had the subtype `cash` or `fee`, outside the spec's
/// `InvestmentTransactionSubtype` enum.
#[tokio::test]
async fn user_custom_investments_name_one_security_once_with_subtypes_from_the_spec() {
    let sandbox = Sandbox::builder()
        .today(chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap())
        .start()
        .await;
    let abc = json!({ "ticker_symbol": "ABC", "name": "ABC Corp", "currency": "USD" });
    let config = json!({ "override_accounts": [{
        "type": "investment", "subtype": "brokerage", "starting_balance": 1000,
        "holdings": [{ "institution_price": 10, "quantity": 5, "currency": "USD", "security": abc }],
        "investment_transactions": [
            { "date": "2026-03-01", "name": "buy ABC", "quantity": 3, "price": 10, "fees": 0,
              "type": "buy", "currency": "USD", "security": abc },
            { "date": "2026-03-02", "name": "buy more ABC", "quantity": 2, "price": 10, "fees": 0,
              "type": "buy", "currency": "USD", "security": { "ticker_symbol": "ABC" } },
            { "date": "2026-03-03", "name": "deposit", "quantity": 1, "price": -500, "fees": 0,
              "type": "cash", "currency": "USD" },
            { "date": "2026-03-04", "name": "withdrawal", "quantity": 1, "price": 100, "fees": 0,
              "type": "cash", "currency": "USD" },
            { "date": "2026-03-05", "name": "fee", "quantity": 0, "price": 0, "fees": 2,
              "type": "fee", "currency": "USD" },
        ],
    }] });
    let (access, _) = custom_item(&sandbox, json!(["investments"]), config).await;
    let holdings = ok(
        &sandbox,
        "/investments/holdings/get",
        json!({ "access_token": access }),
    )
    .await;
    let held = holdings["holdings"][0]["security_id"].clone();
    assert_eq!(
        holdings["securities"].as_array().unwrap().len(),
        1,
        "{holdings}"
    );
    let mut listed = Value::Null;
    for _ in 0..100 {
        let (status, answer) = post(
            &sandbox,
            "/investments/transactions/get",
            json!({ "access_token": access, "start_date": "2026-01-01", "end_date": "2026-03-10" }),
            &[],
        )
        .await;
        if status == 200 {
            listed = answer;
            break;
        }
        assert_eq!(answer["error_code"], "PRODUCT_NOT_READY", "{answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let txns = listed["investment_transactions"]
        .as_array()
        .expect("an answer");
    let by_name = |name: &str| txns.iter().find(|t| t["name"] == name).unwrap().clone();
    assert_eq!(by_name("buy ABC")["security_id"], held, "{listed}");
    assert_eq!(by_name("buy more ABC")["security_id"], held, "{listed}");
    assert_eq!(
        listed["securities"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
    for (name, kind, subtype) in [
        ("buy ABC", "buy", "buy"),
        ("deposit", "cash", "deposit"),
        ("withdrawal", "cash", "withdrawal"),
        ("fee", "fee", "account fee"),
    ] {
        let t = by_name(name);
        assert_eq!(
            (t["type"].as_str(), t["subtype"].as_str()),
            (Some(kind), Some(subtype)),
            "{t}"
        );
    }
    // A type Plaid's override does not list is refused when the Item is made.
    let (status, answer) = post(
        &sandbox,
        "/sandbox/public_token/create",
        json!({ "institution_id": "ins_109508", "initial_products": ["investments"],
                "options": { "override_username": "user_custom", "override_password": json!({
                    "override_accounts": [{ "type": "investment", "subtype": "brokerage",
                        "investment_transactions": [{ "date": "2026-03-01", "name": "x",
                            "quantity": 1, "price": 1, "type": "dividend", "currency": "USD" }] }]
                }).to_string() } }),
        &[],
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error_message"].as_str().unwrap().contains("type"),
        "{answer}"
    );
}

/// MED (review round 18): a student loan's overrides beyond a few were ignored: the
/// spec's `LiabilityOverride` sets `loan_status`, `repayment_plan_description`,
/// `pslf_status`, `servicer_address`, `payment_reference_number` and `sequence_number`,
/// and `/liabilities/get` answered fixed values for each.
#[tokio::test]
async fn user_custom_student_loans_take_every_override_the_spec_lists() {
    let sandbox = Sandbox::start().await;
    let config = json!({ "override_accounts": [{
        "type": "loan", "subtype": "student", "starting_balance": 12000,
        "liability": {
            "type": "student", "loan_name": "Grad", "nominal_apr": 4.5,
            "loan_status": { "type": "in school", "end_date": "2026-05-31" },
            "repayment_plan_type": "income-based repayment",
            "repayment_plan_description": "Income-Based",
            "pslf_status": { "estimated_eligibility_date": "2031-01-01",
                             "payments_made": 3, "payments_remaining": 117 },
            "servicer_address": { "data": { "street": "1 Main St", "city": "Austin",
                                            "region": "TX", "postal_code": "78701",
                                            "country": "US" } },
            "payment_reference_number": "REF-123",
            "sequence_number": "7",
        },
    }] });
    let (access, _) = custom_item(&sandbox, json!(["liabilities"]), config).await;
    let got = ok(
        &sandbox,
        "/liabilities/get",
        json!({ "access_token": access }),
    )
    .await;
    let loan = &got["liabilities"]["student"][0];
    assert_eq!(loan["loan_name"], "Grad", "{loan}");
    assert_eq!(
        loan["loan_status"],
        json!({ "type": "in school", "end_date": "2026-05-31" })
    );
    assert_eq!(loan["repayment_plan"]["description"], "Income-Based");
    assert_eq!(
        loan["pslf_status"],
        json!({ "estimated_eligibility_date": "2031-01-01", "payments_made": 3,
                "payments_remaining": 117 })
    );
    assert_eq!(loan["servicer_address"]["street"], "1 Main St", "{loan}");
    assert_eq!(loan["servicer_address"]["city"], "Austin");
    assert_eq!(loan["payment_reference_number"], "REF-123");
    assert_eq!(loan["sequence_number"], "7");
}

/// LOW (review round 18): a `user_custom` credit card without a `liability` block could not
/// be linked with Liabilities (`NO_LIABILITY_ACCOUNTS`), though a credit card is a
/// Liabilities account and the override's docs say products without overrides "will have
/// fixed or empty data".
#[tokio::test]
async fn a_user_custom_credit_card_links_with_liabilities() {
    let sandbox = Sandbox::start().await;
    let config = json!({ "override_accounts": [
        { "type": "credit", "subtype": "credit card", "starting_balance": 10, "meta": { "limit": 100 } },
    ] });
    let (access, _) = custom_item(&sandbox, json!(["liabilities"]), config).await;
    let got = ok(
        &sandbox,
        "/liabilities/get",
        json!({ "access_token": access }),
    )
    .await;
    let credit = got["liabilities"]["credit"].as_array().unwrap();
    assert_eq!(credit.len(), 1, "{got}");
    assert_eq!(credit[0]["account_id"], got["accounts"][0]["account_id"]);
}

/// LOW (review round 18): `include_auth_metadata` ("returns metadata related to the Auth
/// product indicating which auth methods are supported") was ignored by all three
/// institution operations; Houndstooth (instant match, automated micro-deposits) and
/// Windowpane (instant micro-deposits) are where an app checks it.
#[tokio::test]
async fn institutions_answer_auth_metadata_when_asked() {
    let sandbox = Sandbox::start().await;
    let by_id = |id: &str, asked: bool| {
        json!({ "institution_id": id, "country_codes": ["US"],
                "options": { "include_auth_metadata": asked } })
    };
    for (id, method) in [
        ("ins_109512", "instant_match"),
        ("ins_109512", "automated_micro_deposits"),
        ("ins_135858", "instant_micro_deposits"),
        ("ins_109508", "instant_auth"),
    ] {
        let got = ok(&sandbox, "/institutions/get_by_id", by_id(id, true)).await;
        let methods = &got["institution"]["auth_metadata"]["supported_methods"];
        assert_eq!(methods[method], true, "{id}: {got}");
    }
    let got = ok(
        &sandbox,
        "/institutions/get_by_id",
        by_id("ins_109508", false),
    )
    .await;
    assert!(
        got["institution"]
            .get("auth_metadata")
            .is_none_or(Value::is_null),
        "{got}"
    );
    let found = ok(
        &sandbox,
        "/institutions/search",
        json!({ "query": "Houndstooth", "country_codes": ["US"], "products": ["auth"],
                "options": { "include_auth_metadata": true } }),
    )
    .await;
    assert_eq!(
        found["institutions"][0]["auth_metadata"]["supported_methods"]["instant_match"], true,
        "{found}"
    );
    let listed = ok(
        &sandbox,
        "/institutions/get",
        json!({ "count": 20, "offset": 0, "country_codes": ["US"],
                "options": { "include_auth_metadata": true } }),
    )
    .await;
    for i in listed["institutions"].as_array().unwrap() {
        assert!(i["auth_metadata"].is_object(), "{i}");
    }
}

/// LOW (review round 18): Auth's routing number at a bank was not one of that bank's own
/// `routing_numbers` (Tartan Bank answered 011401533 from `/auth/get` and `["011401537"]`
/// from `/institutions/get_by_id`), so an app matching the two found no bank. Plaid's docs
/// give the numbers of Houndstooth Bank (its Instant Match numbers, typed in by the user)
/// and Windowpane; the others' were the sandbox's own, now the number Auth answers there.
#[tokio::test]
async fn auth_routing_numbers_are_the_banks_own() {
    let sandbox = Sandbox::start().await;
    let listed = ok(
        &sandbox,
        "/institutions/get",
        json!({ "count": 50, "offset": 0, "country_codes": ["US"], "options": { "products": ["auth"] } }),
    )
    .await;
    let mut checked = 0;
    for bank in listed["institutions"].as_array().unwrap() {
        let id = bank["institution_id"].as_str().unwrap();
        if id == "ins_109512" {
            continue;
        }
        let Some(auth) = auth_at(&sandbox, id).await else {
            continue; // a bank that refuses every login (down, no longer supported)
        };
        for ach in auth["numbers"]["ach"].as_array().unwrap() {
            assert!(
                bank["routing_numbers"]
                    .as_array()
                    .unwrap()
                    .contains(&ach["routing"]),
                "{id}: {} not in {}",
                ach["routing"],
                bank["routing_numbers"]
            );
        }
        checked += 1;
    }
    assert!(checked >= 6, "{checked} banks checked");
}
