//! The offline sandbox, driven through the typed client: the whole Item life cycle, a ledger
//! that syncs exactly, webhooks signed like Plaid's, injected faults, and requests checked
//! the way Plaid checks them.

use plaid_sandbox::{Fault, Sandbox};
use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
use plaid_sdk::types::{
    AccountsBalanceGetRequest, AccountsGetRequest, CountryCode, ItemGetRequest,
    ItemPublicTokenExchangeRequest, ItemRemoveRequest, ItemWebhookUpdateRequest,
    LinkTokenCreateRequest, LinkTokenCreateRequestUser, Products,
};
use plaid_sdk::webhook::{WebhookEvent, WebhookVerifier};
use plaid_sdk::{AccessToken, Error, ErrorCode, ErrorType, PlaidClient};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Applies a sync result to a store keyed by transaction id, the way an app does.
fn apply(store: &mut BTreeMap<String, (f64, bool)>, outcome: SyncOutcome) -> String {
    let batch = outcome.into_batch().expect("the offline sandbox is ready");
    for t in batch.added.iter().chain(&batch.modified) {
        store.insert(t.transaction_id.clone(), (t.amount, t.pending));
    }
    for id in batch.removed_ids() {
        store.remove(&id);
    }
    batch.next_cursor
}

fn truth(sandbox: &Sandbox, item: &str) -> BTreeMap<String, (f64, bool)> {
    sandbox
        .transactions(item)
        .unwrap()
        .into_iter()
        .map(|t| (t.transaction_id, (t.amount, t.pending)))
        .collect()
}

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> plaid_sdk::ApiError {
    match result {
        Err(Error::Api(e)) => *e,
        other => panic!("expected a Plaid error, got {other:?}"),
    }
}

/// A fresh sandbox, its client, and an Item at `institution` with Transactions.
async fn linked(
    institution: &str,
) -> (
    Sandbox,
    PlaidClient,
    plaid_sdk::types::ItemPublicTokenExchangeResponse,
) {
    let sandbox = Sandbox::start().await;
    let client = sandbox.client();
    let item = client
        .sandbox_link_item(institution, [Products::Transactions])
        .await
        .unwrap();
    (sandbox, client, item)
}

/// A local endpoint that accepts webhooks, and the sandbox's key to verify them with.
/// A link token request for user-1's Transactions.
fn link_token_request() -> LinkTokenCreateRequest {
    LinkTokenCreateRequest::new(
        "Acme",
        "en",
        vec![CountryCode::Us],
        LinkTokenCreateRequestUser::new("user-1"),
    )
    .products([Products::Transactions])
}

async fn webhook_receiver() -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    receiver
}

async fn verified_events(receiver: &MockServer, client: &PlaidClient) -> Vec<WebhookEvent> {
    let verifier = WebhookVerifier::new(client.clone());
    let mut events = Vec::new();
    for request in receiver.received_requests().await.unwrap() {
        events.push(
            verifier
                .verify(&request.headers, &request.body)
                .await
                .expect("the sandbox signs like Plaid"),
        );
    }
    events
}

#[tokio::test]
async fn the_item_life_cycle_from_link_token_to_removal() {
    let sandbox = Sandbox::start().await;
    let client = sandbox.client();

    let link = client
        .link_token_create(&link_token_request())
        .await
        .unwrap();
    assert!(link.link_token.starts_with("link-sandbox-"));
    assert_eq!(
        sandbox.link_token_user(&link.link_token).as_deref(),
        Some("user-1")
    );

    let public_token = sandbox
        .complete_link(&link.link_token, "ins_109508")
        .unwrap();
    let item = client
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(public_token.clone()))
        .await
        .unwrap();
    // A public token is single-use.
    let again = api_error(
        client
            .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(public_token))
            .await,
    );
    assert_eq!(again.error_code, ErrorCode::InvalidPublicToken);

    let accounts = client
        .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
        .await
        .unwrap();
    let kinds: Vec<_> = accounts
        .accounts
        .iter()
        .map(|a| {
            a.subtype
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default()
        })
        .collect();
    // Plaid's sandbox accounts for user_good, mask 0000 to 9999.
    assert_eq!(
        kinds,
        [
            "checking",
            "savings",
            "cd",
            "credit card",
            "money market",
            "ira",
            "401k",
            "student",
            "mortgage",
            "hsa",
            "cash management",
            "credit card"
        ]
    );
    let balances = client
        .accounts_balance_get(&AccountsBalanceGetRequest::new(item.access_token.clone()))
        .await
        .unwrap();
    assert!(balances
        .accounts
        .iter()
        .all(|a| a.balances.current.is_some()));

    let got = client
        .item_get(&ItemGetRequest::new(item.access_token.clone()))
        .await
        .unwrap();
    assert_eq!(got.item.item_id, item.item_id.as_str());
    assert_eq!(got.item.institution_id.as_deref(), Some("ins_109508"));

    client
        .item_remove(&ItemRemoveRequest::new(item.access_token.clone()))
        .await
        .unwrap();
    let gone = api_error(
        client
            .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
            .await,
    );
    assert_eq!(gone.error_code, ErrorCode::ItemNotFound);
    assert_eq!(gone.error_type, ErrorType::ItemError);
}

#[tokio::test]
async fn a_full_sync_then_an_incremental_one_match_the_ledger_exactly() {
    let (sandbox, client, item) = linked("ins_109508").await;

    let mut store = BTreeMap::new();
    let cursor = apply(
        &mut store,
        client
            .transactions_sync_all(&TransactionsSync::new(item.access_token.clone()).count(100))
            .await
            .unwrap(),
    );
    let before = truth(&sandbox, &item.item_id);
    assert!(before.len() > 150, "90 days of history: {}", before.len());
    assert_eq!(store, before);

    // A week passes: purchases arrive, pending ones post (removed + added), some are fixed.
    let changes = sandbox.advance_days(&item.item_id, 7).unwrap();
    assert!(changes > 7);
    let outcome = client
        .transactions_sync_all(
            &TransactionsSync::new(item.access_token.clone())
                .cursor(Some(cursor))
                .count(5),
        )
        .await
        .unwrap();
    let SyncOutcome::Updated(batch) = &outcome else {
        panic!("ready")
    };
    assert!(!batch.removed.is_empty(), "pending transactions posted");
    assert!(batch.pages > 1);
    apply(&mut store, outcome);
    assert_eq!(store, truth(&sandbox, &item.item_id));
}

#[tokio::test]
async fn injected_mutations_restart_the_loop_and_nothing_is_lost_or_doubled() {
    let (sandbox, client, item) = linked("ins_109509").await;
    // Two mutations and a 500 in the middle of the loop; each mutation really changes the data.
    sandbox.inject(Some("/transactions/sync"), Fault::Slow(Duration::ZERO), 2);
    sandbox.inject(
        Some("/transactions/sync"),
        Fault::MutationDuringPagination,
        1,
    );
    sandbox.inject(Some("/transactions/sync"), Fault::ServerError, 1);
    sandbox.inject(Some("/transactions/sync"), Fault::Slow(Duration::ZERO), 1);
    sandbox.inject(
        Some("/transactions/sync"),
        Fault::MutationDuringPagination,
        1,
    );

    let mut store = BTreeMap::new();
    let outcome = client
        .transactions_sync_all(&TransactionsSync::new(item.access_token.clone()).count(50))
        .await
        .unwrap();
    let SyncOutcome::Updated(batch) = &outcome else {
        panic!("ready")
    };
    assert_eq!(batch.restarts, 2);
    apply(&mut store, outcome);
    assert_eq!(store, truth(&sandbox, &item.item_id));
}

#[tokio::test]
async fn per_account_sync_sees_only_that_account() {
    let (_sandbox, client, item) = linked("ins_109508").await;
    let accounts = client
        .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
        .await
        .unwrap()
        .accounts;
    let card = &accounts
        .iter()
        .find(|a| a.mask.as_deref() == Some("3333"))
        .expect("Plaid Credit Card")
        .account_id;
    let batch = client
        .transactions_sync_all(
            &TransactionsSync::new(item.access_token.clone())
                .account_id(card.clone())
                .count(500),
        )
        .await
        .unwrap()
        .into_batch()
        .unwrap();
    assert!(!batch.added.is_empty());
    assert!(batch.added.iter().all(|t| &t.account_id == card));
}

/// Every path that takes an account filter reads it the same way: a known id keeps only
/// that account, an unknown one is Plaid's `INVALID_ACCOUNT_ID`.
#[tokio::test]
async fn every_account_filter_keeps_known_ids_and_refuses_unknown_ones() {
    use plaid_sdk::types::{
        AccountsBalanceGetRequestOptions, AccountsGetRequestOptions, TransactionsGetRequest,
        TransactionsGetRequestOptions,
    };
    let (sandbox, client, item) = linked("ins_109508").await;
    let token = || item.access_token.clone();
    let accounts = client
        .accounts_get(&AccountsGetRequest::new(token()))
        .await
        .unwrap()
        .accounts;
    let today = chrono::Utc::now().date_naive();
    let since = today - chrono::Days::new(400);

    let card = accounts
        .iter()
        .find(|a| a.mask.as_deref() == Some("3333"))
        .expect("Plaid Credit Card");
    for (id, known) in [
        (card.account_id.clone(), true),
        ("not-an-account".to_owned(), false),
    ] {
        let ids = vec![id.clone()];
        let results: [(&str, Result<Vec<String>, Error>); 4] = [
            (
                "/accounts/get",
                client
                    .accounts_get(
                        &AccountsGetRequest::new(token())
                            .options(AccountsGetRequestOptions::new().account_ids(ids.clone())),
                    )
                    .await
                    .map(|r| r.accounts.into_iter().map(|a| a.account_id).collect()),
            ),
            (
                "/accounts/balance/get",
                client
                    .accounts_balance_get(
                        &AccountsBalanceGetRequest::new(token()).options(
                            AccountsBalanceGetRequestOptions::new().account_ids(ids.clone()),
                        ),
                    )
                    .await
                    .map(|r| r.accounts.into_iter().map(|a| a.account_id).collect()),
            ),
            (
                "/transactions/get",
                client
                    .transactions_get(
                        &TransactionsGetRequest::new(token(), since, today).options(
                            TransactionsGetRequestOptions::default().account_ids(ids.clone()),
                        ),
                    )
                    .await
                    .map(|r| r.transactions.into_iter().map(|t| t.account_id).collect()),
            ),
            (
                "/transactions/sync",
                client
                    .transactions_sync_all(&TransactionsSync::new(token()).account_id(id.clone()))
                    .await
                    .map(|r| {
                        r.into_batch()
                            .unwrap()
                            .added
                            .into_iter()
                            .map(|t| t.account_id)
                            .collect()
                    }),
            ),
        ];
        for (path, result) in results {
            if known {
                let seen = result.unwrap_or_else(|e| panic!("{path}: {e}"));
                assert!(!seen.is_empty(), "{path}");
                assert!(seen.iter().all(|a| *a == id), "{path}: {seen:?}");
            } else {
                let e = api_error(result);
                assert_eq!(e.error_code, ErrorCode::InvalidAccountId, "{path}");
            }
        }
    }

    // A filter of the wrong shape, which the typed client cannot send: Plaid's INVALID_FIELD.
    let token = item.access_token.expose_secret();
    for (path, options) in [
        ("/accounts/get", serde_json::json!({ "account_ids": "one" })),
        (
            "/accounts/balance/get",
            serde_json::json!({ "account_ids": [1] }),
        ),
        (
            "/transactions/sync",
            serde_json::json!({ "account_id": ["one"] }),
        ),
    ] {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", sandbox.uri()))
            .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
            .header("PLAID-SECRET", plaid_sandbox::SECRET)
            .header("Content-Type", "application/json")
            .body(serde_json::json!({ "access_token": token, "options": options }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{path}");
        let e: plaid_sdk::ApiError =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(e.error_code, ErrorCode::InvalidField, "{path}");
    }
}

#[tokio::test]
async fn a_new_item_can_be_not_ready_yet() {
    let sandbox = Sandbox::builder().not_ready_syncs(1).start().await;
    let client = sandbox.client();
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    let first = client
        .transactions_sync_all(&TransactionsSync::new(item.access_token.clone()))
        .await
        .unwrap();
    assert!(matches!(first, SyncOutcome::NotReady(_)));
    let second = client
        .transactions_sync_all(&TransactionsSync::new(item.access_token.clone()))
        .await
        .unwrap();
    assert!(second.into_batch().unwrap().added.len() > 100);
}

/// `/transactions/get` serves the same ledger as `/transactions/sync`: paged through with the
/// generic offset paginator, a window covering the whole history gives exactly the ledger.
#[tokio::test]
async fn transactions_get_pages_through_the_same_ledger_by_date() {
    use futures_util::TryStreamExt;
    use plaid_sdk::types::{TransactionsGetRequest, TransactionsGetRequestOptions};
    let (sandbox, client, item) = linked("ins_109508").await;
    let today = chrono::Utc::now().date_naive();
    let everything = TransactionsGetRequest::new(
        item.access_token.clone(),
        today - chrono::Days::new(400),
        today + chrono::Days::new(1),
    )
    .options(TransactionsGetRequestOptions::default().count(37));
    let listed: Vec<_> = client
        .paginate(everything)
        .items()
        .try_collect()
        .await
        .unwrap();
    let got: BTreeMap<_, _> = listed
        .iter()
        .map(|t| (t.transaction_id.clone(), (t.amount, t.pending)))
        .collect();
    assert_eq!(got.len(), listed.len(), "no transaction listed twice");
    assert_eq!(got, truth(&sandbox, &item.item_id));
    assert!(
        listed.windows(2).all(|w| w[0].date >= w[1].date),
        "newest first"
    );

    // A window of one week holds only that week's transactions.
    let week = TransactionsGetRequest::new(
        item.access_token.clone(),
        today - chrono::Days::new(7),
        today,
    );
    let page = client.transactions_get(&week).await.unwrap();
    assert!(page.total_transactions > 0);
    assert!(page
        .transactions
        .iter()
        .all(|t| t.date >= today - chrono::Days::new(7) && t.date <= today));

    // Dates the wrong way round: the client refuses before sending; sent anyway, the
    // sandbox answers Plaid's INVALID_FIELD.
    let backwards = TransactionsGetRequest::new(
        item.access_token.clone(),
        today,
        today - chrono::Days::new(1),
    );
    assert!(matches!(
        client.transactions_get(&backwards).await,
        Err(Error::InvalidRequest { .. })
    ));
    let body = serde_json::json!({
        "access_token": item.access_token.expose_secret(),
        "start_date": today.to_string(),
        "end_date": (today - chrono::Days::new(1)).to_string(),
    });
    let response = reqwest::Client::new()
        .post(format!("{}/transactions/get", sandbox.uri()))
        .header("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID)
        .header("PLAID-SECRET", plaid_sandbox::SECRET)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let e: plaid_sdk::ApiError = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(e.error_code, ErrorCode::InvalidField);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids_and_transactions_but_new_tokens() {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let sandbox = Sandbox::builder().seed(42).today(day).start().await;
        let item = sandbox
            .client()
            .sandbox_link_item("ins_109508", [Products::Transactions])
            .await
            .unwrap();
        seen.push((
            item.access_token.expose_secret().to_owned(),
            item.item_id.clone(),
            sandbox.transactions(&item.item_id).unwrap(),
        ));
    }
    assert_eq!((&seen[0].1, &seen[0].2), (&seen[1].1, &seen[1].2));
    // Tokens are unguessable: no seed decides them (review round 7).
    assert_ne!(seen[0].0, seen[1].0);
    let other = Sandbox::builder().seed(43).today(day).start().await;
    let item = other
        .client()
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    assert_ne!(item.item_id, seen[0].1);
}

/// A reset forgets the clock's moves but never sets a flowing clock back before the present (a
/// server that has run an hour would otherwise go an hour into the past at each reset); a
/// frozen clock returns to its start.
#[tokio::test]
async fn a_reset_forgets_the_clocks_moves_but_not_the_time_that_flowed() {
    let flowing = Sandbox::start().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = flowing.now();
    flowing.advance_clock(Duration::from_secs(86_400));
    flowing.reset();
    let after = flowing.now();
    assert!(after >= before, "{after} is before {before}");
    assert!(after < before + chrono::Duration::hours(1), "{after}");

    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap();
    let frozen = Sandbox::builder().today(day).start().await;
    let start = frozen.now();
    frozen.advance_clock(Duration::from_secs(86_400));
    frozen.reset();
    assert_eq!(frozen.now(), start);
}

#[tokio::test]
async fn webhooks_are_signed_like_plaids_and_typed() {
    // A fixed day: which webhooks a day of new data brings depends on the day's draws.
    let sandbox = Sandbox::builder()
        .today(chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap())
        .start()
        .await;
    let client = sandbox.client();
    let receiver = webhook_receiver().await;
    let hook_url = format!("{}/hook", receiver.uri());
    let link = client
        .link_token_create(&link_token_request().webhook(hook_url.clone()))
        .await
        .unwrap();
    let item = client
        .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(
            sandbox
                .complete_link(&link.link_token, "ins_109508")
                .unwrap(),
        ))
        .await
        .unwrap();

    // Plaid sends SYNC_UPDATES_AVAILABLE once the Item has been synced.
    client
        .transactions_sync(&plaid_sdk::types::TransactionsSyncRequest::new(
            item.access_token.clone(),
        ))
        .await
        .unwrap();
    // DEFAULT_UPDATE brings new data, so SYNC_UPDATES_AVAILABLE goes with it.
    for code in ["SYNC_UPDATES_AVAILABLE", "DEFAULT_UPDATE"] {
        client
            .sandbox_fire_webhook(&item.access_token, code)
            .await
            .unwrap();
    }
    // Codes Plaid's endpoint cannot fire, or not for this Item: `ERROR` alone is the Assets
    // webhook (this Item has no Assets); `PENDING_EXPIRATION` is outside the spec's enum.
    let e = api_error(
        client
            .sandbox_fire_webhook(&item.access_token, "ERROR")
            .await,
    );
    assert_eq!(e.error_code.as_str(), "SANDBOX_PRODUCT_NOT_ENABLED");
    let e = api_error(
        client
            .sandbox_fire_webhook(&item.access_token, "PENDING_EXPIRATION")
            .await,
    );
    assert_eq!(e.error_code.as_str(), "INVALID_FIELD", "{e}");
    // A day of new data, pending ones posted: SYNC_UPDATES_AVAILABLE, DEFAULT_UPDATE and
    // TRANSACTIONS_REMOVED.
    assert!(sandbox.advance_days(&item.item_id, 1).unwrap() > 0);
    // What Plaid sends by itself: consent about to expire (played in process), a login needed.
    sandbox
        .fire_webhook(&item.item_id, "PENDING_EXPIRATION")
        .unwrap();
    client
        .sandbox_item_reset_login(&plaid_sdk::types::SandboxItemResetLoginRequest::new(
            item.access_token.clone(),
        ))
        .await
        .unwrap();
    // No bank to reach while the login is needed: no new days, no webhooks.
    assert_eq!(sandbox.advance_days(&item.item_id, 1).unwrap(), 0);
    let sent = sandbox.wait_for_webhooks(10).await;
    assert_eq!(sent.len(), 10);
    assert!(sent
        .iter()
        .all(|w| w.status == Some(200) && w.url == hook_url));

    let events = verified_events(&receiver, &client).await;
    let mut kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            WebhookEvent::SyncUpdatesAvailable(h) => {
                assert_eq!(h.item_id, item.item_id.as_str());
                "sync"
            }
            WebhookEvent::DefaultUpdate(h) => {
                assert!(h.new_transactions > 0.0);
                "default"
            }
            WebhookEvent::TransactionsRemoved(h) => {
                assert!(!h.removed_transactions.is_empty());
                "removed"
            }
            WebhookEvent::PendingExpiration(_) => "expiration",
            // What Plaid sends once it has pulled the new Item's transactions.
            WebhookEvent::InitialUpdate(h) => {
                assert!(h.new_transactions > 0.0);
                "initial"
            }
            WebhookEvent::HistoricalUpdate(h) => {
                assert!(h.new_transactions > 0.0);
                "historical"
            }
            WebhookEvent::ItemError(h) => {
                let code = h.error.as_ref().map(|e| e.error_code.as_str().to_owned());
                assert_eq!(code.as_deref(), Some("ITEM_LOGIN_REQUIRED"));
                "error"
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "default",
            "default",
            "error",
            "expiration",
            "historical",
            "initial",
            "removed",
            "sync",
            "sync",
            "sync"
        ]
    );

    // The ERROR webhook left the Item needing a login, as it says.
    let broken = api_error(
        client
            .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
            .await,
    );
    assert_eq!(broken.error_code, ErrorCode::ItemLoginRequired);
}

#[tokio::test]
async fn update_mode_repairs_an_item_that_needs_a_login() {
    let sandbox = Sandbox::start().await;
    let client = sandbox.client();
    let receiver = webhook_receiver().await;
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    client
        .item_webhook_update(
            &ItemWebhookUpdateRequest::new(item.access_token.clone())
                .webhook(format!("{}/hook", receiver.uri())),
        )
        .await
        .unwrap();
    sandbox.require_login(&item.item_id).unwrap();
    let e = api_error(
        client
            .transactions_sync_all(&TransactionsSync::new(item.access_token.clone()))
            .await,
    );
    assert_eq!(e.error_code, ErrorCode::ItemLoginRequired);
    assert!(!e.is_retryable());

    let link = client
        .link_token_create(&LinkTokenCreateRequest::update_mode(
            "Acme",
            "user-1",
            item.access_token.clone(),
        ))
        .await
        .unwrap();
    assert!(sandbox
        .complete_link(&link.link_token, "ins_109508")
        .is_err());
    assert_eq!(
        sandbox.complete_update(&link.link_token).unwrap().as_str(),
        item.item_id
    );
    client
        .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
        .await
        .unwrap();

    // No LOGIN_REPAIRED for a repair in the app's own update mode: Plaid sends it only when
    // the Item recovers without it (the user repaired it in another app).
    sandbox.wait_for_webhooks(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = verified_events(&receiver, &client).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(
        events[0],
        WebhookEvent::WebhookUpdateAcknowledged(_)
    ));
    assert!(matches!(events[1], WebhookEvent::ItemError(_)));

    // A repair elsewhere: LOGIN_REPAIRED, and the Item works.
    sandbox.require_login(&item.item_id).unwrap();
    client
        .sandbox_fire_webhook(&item.access_token, "LOGIN_REPAIRED")
        .await
        .unwrap();
    client
        .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
        .await
        .unwrap();
    sandbox.wait_for_webhooks(4).await;
    let events = verified_events(&receiver, &client).await;
    assert!(matches!(events[3], WebhookEvent::ItemLoginRepaired(_)));
}

/// A control method's error carries Plaid's `error_code` when Plaid would give that error
/// (Link's credentials, a Link token), and none when the error is the sandbox's own.
#[tokio::test]
async fn control_method_errors_carry_plaids_code_only_when_plaid_would_give_it() {
    let sandbox = Sandbox::start().await;
    let client = sandbox.client();
    let link = client
        .link_token_create(&link_token_request())
        .await
        .unwrap();
    let locked = sandbox
        .complete_link_as(
            &link.link_token,
            "ins_109508",
            "user_good",
            "error_ITEM_LOCKED",
        )
        .unwrap_err();
    assert_eq!(locked.error_code(), Some("ITEM_LOCKED"));
    assert!(locked.to_string().contains("ITEM_LOCKED"), "{locked}");
    let unknown = sandbox
        .complete_link("link-sandbox-unknown", "ins_109508")
        .unwrap_err();
    assert_eq!(unknown.error_code(), Some("INVALID_LINK_TOKEN"));
    let not_update = sandbox.complete_update(&link.link_token).unwrap_err();
    assert_eq!(not_update.error_code(), Some("INVALID_FIELD"));

    let no_item = sandbox.require_login("no-such-item").unwrap_err();
    assert_eq!(no_item.error_code(), None);
    assert!(no_item.to_string().contains("no-such-item"), "{no_item}");
    let item = client
        .sandbox_link_item("ins_109508", [Products::Auth])
        .await
        .unwrap();
    let no_url = sandbox
        .fire_webhook(&item.item_id, "NEW_ACCOUNTS_AVAILABLE")
        .unwrap_err();
    // What `/sandbox/item/fire_webhook` answers an Item with no webhook URL.
    assert_eq!(
        no_url.error_code(),
        Some("SANDBOX_WEBHOOK_INVALID"),
        "{no_url}"
    );
}

#[tokio::test]
async fn injected_rate_limits_and_500s_are_retried_and_slowness_times_out() {
    let (sandbox, client, item) = linked("ins_109508").await;
    let request = AccountsGetRequest::new(item.access_token.clone());

    sandbox.inject(Some("/accounts/get"), Fault::RateLimit, 1);
    sandbox.inject(Some("/accounts/get"), Fault::ServerError, 1);
    client.accounts_get(&request).await.expect("third attempt");

    sandbox.inject(None, Fault::RateLimit, 3);
    let e = api_error(client.accounts_get(&request).await);
    assert_eq!(e.error_type, ErrorType::RateLimitExceeded);
    assert_eq!(e.status, 429);

    sandbox.inject(None, Fault::Slow(Duration::from_millis(500)), 3);
    let impatient = client.with_timeout(Duration::from_millis(100));
    match impatient.accounts_get(&request).await {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn requests_are_checked_like_plaid_checks_them() {
    let sandbox = Sandbox::start().await;
    let http = reqwest::Client::new();
    let post = |path: &str, headers: &[(&str, &str)], body: &str| {
        let mut request = http
            .post(format!("{}{path}", sandbox.uri()))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                serde_json::from_slice::<Value>(&response.bytes().await.unwrap()).unwrap(),
            )
        }
    };
    let creds = [
        ("PLAID-CLIENT-ID", plaid_sandbox::CLIENT_ID),
        ("PLAID-SECRET", plaid_sandbox::SECRET),
    ];

    let (status, body) = post("/accounts/get", &[], r#"{"access_token":"x"}"#).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("MISSING_FIELDS"))
    );
    assert!(body["error_message"]
        .as_str()
        .unwrap()
        .contains("client_id, secret"));

    let wrong = [("PLAID-CLIENT-ID", "someone"), ("PLAID-SECRET", "guess")];
    let (_, body) = post("/accounts/get", &wrong, r#"{"access_token":"x"}"#).await;
    assert_eq!(body["error_code"], "INVALID_API_KEYS");

    let (_, body) = post("/accounts/get", &creds, "{not json").await;
    assert_eq!(body["error_code"], "INVALID_BODY");

    let (_, body) = post("/accounts/get", &creds, "{}").await;
    assert_eq!(body["error_code"], "MISSING_FIELDS");

    // Every error has Plaid's shape, so the typed client reads it.
    let client = sandbox.client();
    let e = api_error(
        client
            .accounts_get(&AccountsGetRequest::new(AccessToken::new(
                "access-sandbox-00000000-0000-0000-0000-000000000000",
            )))
            .await,
    );
    assert_eq!(e.error_code, ErrorCode::InvalidAccessToken);
    assert!(e.request_id.is_some());

    let wrong_client = sandbox.client_builder().secret("not-it").build().unwrap();
    let e = api_error(
        wrong_client
            .sandbox_link_item("ins_109508", [Products::Transactions])
            .await,
    );
    assert_eq!(e.error_code, ErrorCode::InvalidApiKeys);

    let e = api_error(
        client
            .sandbox_link_item("ins_nope", [Products::Transactions])
            .await,
    );
    assert_eq!(e.error_type, ErrorType::InvalidInput);

    let (status, _) = post("/no/such/endpoint", &creds, "{}").await;
    assert_eq!(status, 404);
}

// --- moved from the SDK's tests: until_ready on a new Item, and a crafted cursor (issue 26) ----

#[tokio::test]
async fn until_ready_waits_for_a_new_items_transactions_in_the_offline_sandbox() {
    use plaid_sandbox::Sandbox;
    use plaid_sdk::types::{Products, TransactionsGetRequest, TransactionsSyncRequest};
    let sandbox = Sandbox::builder().not_ready_syncs(2).start().await;
    let client = sandbox.client();
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    // /transactions/get: PRODUCT_NOT_READY until the Item's first update is done.
    let today = chrono::Utc::now().date_naive();
    let get = TransactionsGetRequest::new(
        item.access_token.clone(),
        today - chrono::Days::new(30),
        today,
    );
    let page = client
        .until_ready(&get)
        .backoff(Duration::from_millis(5), Duration::from_millis(10))
        .await
        .unwrap();
    assert!(page.total_transactions > 0);
    // /transactions/sync answers "not ready" with an empty cursor instead of an error.
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    let sync = TransactionsSyncRequest::new(item.access_token.clone());
    let first = client
        .until_ready(&sync)
        .ready_when(|page| !page.next_cursor.is_empty())
        .backoff(Duration::from_millis(5), Duration::from_millis(10))
        .await
        .unwrap();
    assert!(!first.added.is_empty());
}

#[tokio::test]
async fn the_offline_sandbox_answers_a_crafted_cursor_with_invalid_field() {
    use base64::Engine;
    use plaid_sdk::types::{Products, TransactionsSyncRequest};
    let sandbox = Sandbox::start().await;
    let client = sandbox.client().without_retries();
    let item = client
        .sandbox_link_item("ins_109508", [Products::Transactions])
        .await
        .unwrap();
    let id = item.item_id.as_str();
    for crafted in [
        format!("v1:{id}:0:{}", usize::MAX),
        format!("v1:{id}:0:{}", usize::MAX - 10),
        format!("v1:{id}:0:99999999999999999999999"),
        format!("v1:{id}:{}", usize::MAX),
        format!("v1:{id}:0:-1"),
    ] {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&crafted);
        let request = TransactionsSyncRequest::new(item.access_token.clone()).cursor(cursor);
        let e = client.transactions_sync(&request).await.unwrap_err();
        assert_eq!(
            e.error_code().map(|c| c.as_str()),
            Some("INVALID_FIELD"),
            "{crafted}: {e}"
        );
    }
    // The sandbox still answers afterwards.
    client
        .transactions_sync(&TransactionsSyncRequest::new(item.access_token))
        .await
        .unwrap();
}

/// The sandbox and a linked Item's tokens never print: moved from the SDK's secrets sweep.
#[tokio::test]
async fn the_sandbox_and_its_items_redact_tokens() {
    let sandbox = Sandbox::start().await;
    let text = format!("{sandbox:?}");
    assert!(!text.contains(plaid_sandbox::SECRET), "{text}");
    let item = sandbox
        .client()
        .sandbox_link_item("ins_109508", [plaid_sdk::types::Products::Transactions])
        .await
        .unwrap();
    let token = item.access_token.expose_secret().to_owned();
    for text in [
        format!("{item:?}"),
        format!("{item:#?}"),
        format!("{:?}", item.access_token),
    ] {
        assert!(
            !text.contains(&token),
            "a linked Item leaks its token: {text}"
        );
    }
}

/// A sandbox started at chrono's last day, or moved thousands of years on, stays usable: its
/// clock stops at 9000-01-01, and linking an Item (its login's 30 days added to now), its
/// calls and its webhooks' dates add no overflow (linking once panicked).
#[tokio::test]
async fn a_clock_at_the_end_of_time_stays_inside_chronos_range() {
    let limit = chrono::NaiveDate::from_ymd_opt(9000, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let last = chrono::NaiveDate::MAX - chrono::Days::new(10);
    let sandbox = Sandbox::builder().today(last).start().await;
    let moved = Sandbox::builder()
        .today(chrono::NaiveDate::from_ymd_opt(2025, 3, 14).unwrap())
        .start()
        .await;
    for _ in 0..3_000 {
        moved.advance_clock(Duration::from_secs(36_500 * 86_400));
    }
    for sandbox in [&sandbox, &moved] {
        let client = sandbox.client();
        let item = client
            .sandbox_link_item("ins_109508", [Products::Transactions])
            .await
            .unwrap();
        client
            .accounts_get(&AccountsGetRequest::new(item.access_token.clone()))
            .await
            .unwrap();
        client
            .item_get(&ItemGetRequest::new(item.access_token.clone()))
            .await
            .unwrap();
        client
            .item_webhook_update(
                &ItemWebhookUpdateRequest::new(item.access_token.clone())
                    .webhook("http://127.0.0.1:9/h".to_owned()),
            )
            .await
            .unwrap();
        sandbox
            .fire_webhook(&item.item_id, "PENDING_EXPIRATION")
            .unwrap();
        sandbox.advance_clock(Duration::from_secs(40 * 86_400));
        assert_eq!(sandbox.now(), limit, "saturates, never falls back");
    }
}

/// Points the Item's webhooks at `url`.
async fn send_webhooks_to(
    client: &PlaidClient,
    item: &plaid_sdk::types::ItemPublicTokenExchangeResponse,
    url: String,
) {
    let update =
        plaid_sdk::types::ItemWebhookUpdateRequest::new(item.access_token.clone()).webhook(url);
    client.item_webhook_update(&update).await.unwrap();
}

/// Fires `NEW_ACCOUNTS_AVAILABLE` at the Item and waits for it to be answered.
async fn fire_and_wait(
    sandbox: &Sandbox,
    item_id: &str,
) -> Result<plaid_sandbox::SentWebhook, plaid_sandbox::SandboxError> {
    let from = sandbox.webhooks().len();
    sandbox
        .fire_webhook(item_id, "NEW_ACCOUNTS_AVAILABLE")
        .unwrap();
    sandbox
        .wait_for_webhook(from, "NEW_ACCOUNTS_AVAILABLE")
        .await
}

/// `wait_for_webhook` returns the first answered webhook with its code from the index given,
/// and when none comes, says what came instead.
#[tokio::test]
async fn waiting_for_one_webhook_by_code_says_what_came_instead() {
    let (sandbox, client, item) = linked("ins_109508").await;
    let receiver = webhook_receiver().await;
    send_webhooks_to(&client, &item, format!("{}/hook", receiver.uri())).await;
    let from = sandbox.webhooks().len();
    let hook = fire_and_wait(&sandbox, &item.item_id).await.unwrap();
    assert_eq!(hook.status, Some(200));
    assert_eq!(hook.body["item_id"], item.item_id);
    let missing = sandbox
        .wait_for_webhook(from, "LOGIN_REPAIRED")
        .await
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!(
            "offline sandbox: no LOGIN_REPAIRED webhook sent within 10 s from #{from}; \
             sent from there: [NEW_ACCOUNTS_AVAILABLE (200)]"
        )
    );
}

/// MED (review round 10): webhooks went out one at a time for every receiver together, so
/// a receiver that accepts and never answers (10 s per post) held every other receiver's
/// webhooks back: three of them delayed a healthy one by 30 s, past every test's wait.
/// Each receiver now has its own queue.
#[tokio::test]
async fn a_receiver_that_hangs_holds_up_only_its_own_webhooks() {
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging_url = format!("http://{}/hook", hanging.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = hanging.accept().await {
            held.push(stream); // read nothing, answer nothing
        }
    });
    let sandbox = Sandbox::start().await;
    let client = sandbox.client();
    let link = || client.sandbox_link_item("ins_109508", [Products::Auth]);
    let (stuck, healthy) = (link().await.unwrap(), link().await.unwrap());
    let receiver = webhook_receiver().await;
    send_webhooks_to(&client, &stuck, hanging_url).await;
    send_webhooks_to(&client, &healthy, format!("{}/hook", receiver.uri())).await;
    for _ in 0..3 {
        sandbox
            .fire_webhook(&stuck.item_id, "NEW_ACCOUNTS_AVAILABLE")
            .unwrap();
    }
    let hook = fire_and_wait(&sandbox, &healthy.item_id)
        .await
        .expect("the healthy receiver's webhook is not held back");
    assert_eq!(hook.body["item_id"], healthy.item_id);
}

/// The sandbox and its errors go into spawned tasks and shared fixtures (`Arc<Sandbox>`, a
/// `OnceLock`): they stay `Send + Sync` (review round 20: nothing asserted it).
#[test]
fn the_sandbox_and_its_errors_are_send_and_sync() {
    fn shared<T: Send + Sync + 'static>() {}
    fn sendable<T: Send>(_: &T) {}
    shared::<Sandbox>();
    shared::<plaid_sandbox::SandboxError>();
    shared::<Fault>();
    sendable(&Sandbox::builder().try_start());
    sendable(&Sandbox::builder().start());
}
