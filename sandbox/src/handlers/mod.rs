//! The stateful operations: Plaid's sandbox reproduced, each answer built from the SDK's
//! generated response type (so a spec change that changes a shape fails the build here).
//! Operations not listed in [`handler`] get the spec-driven answer (see `spec`).

mod accounts;
mod institutions;
pub(crate) mod items;
mod link;
mod processor;
mod products;
mod sandbox_ops;
pub(crate) mod transactions;

pub(crate) use link::{live_link_token, shown_client_name};
pub(crate) use sandbox_ops::{fire, require_login};

use crate::body::Body;
use crate::failure::Failure;
use crate::state::{Item, State};
use crate::webhooks::Outgoing;
use crate::WebhookSigner;
use chrono::{DateTime, Utc};
use plaid_sdk::types::{AccountBalance, AccountBase, AccountSubtype, AccountType, Products};
use serde_json::Value;

/// What a handler works with.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a mut State,
    pub(crate) request_id: String,
    pub(crate) outgoing: &'a mut Vec<Outgoing>,
    pub(crate) signer: &'a WebhookSigner,
}

pub(crate) type Answer = Result<Value, Failure>;
type Handler = fn(&mut Ctx<'_>, &Body) -> Answer;

/// The stateful handler of a path, if the sandbox has one.
pub(crate) fn handler(path: &str) -> Option<Handler> {
    Some(match path {
        "/link/token/create" => link::create,
        "/link/token/get" => link::get,
        "/sandbox/public_token/create" => items::sandbox_public_token_create,
        "/item/public_token/exchange" => items::exchange,
        "/item/get" => items::get,
        "/item/remove" => items::remove,
        "/item/webhook/update" => items::webhook_update,
        "/item/access_token/invalidate" => items::invalidate,
        "/item/import" => items::import,
        "/accounts/get" => accounts::get,
        "/accounts/balance/get" => accounts::balance_get,
        "/transactions/sync" => transactions::sync,
        "/transactions/get" => transactions::get,
        "/transactions/refresh" => transactions::refresh,
        "/transactions/recurring/get" => transactions::recurring_get,
        "/sandbox/transactions/create" => transactions::sandbox_create,
        "/auth/get" => products::auth_get,
        "/identity/get" => products::identity_get,
        "/identity/match" => products::identity_match,
        "/investments/holdings/get" => products::holdings_get,
        "/investments/transactions/get" => products::investment_transactions_get,
        "/liabilities/get" => products::liabilities_get,
        "/institutions/get" => institutions::get,
        "/institutions/search" => institutions::search,
        "/institutions/get_by_id" => institutions::get_by_id,
        "/processor/token/create" => processor::token_create,
        "/sandbox/processor_token/create" => processor::sandbox_token_create,
        "/processor/auth/get" => processor::auth_get,
        "/processor/balance/get" => processor::balance_get,
        "/processor/identity/get" => processor::identity_get,
        "/processor/identity/match" => processor::identity_match,
        "/processor/account/get" => processor::account_get,
        "/webhook_verification_key/get" => sandbox_ops::webhook_key_get,
        "/sandbox/item/reset_login" => sandbox_ops::reset_login,
        "/sandbox/item/fire_webhook" => sandbox_ops::fire_webhook,
        "/sandbox/item/set_verification_status" => sandbox_ops::set_verification_status,
        _ => return None,
    })
}

/// The paths with a stateful handler (every other operation of the spec gets the spec-driven
/// answer).
pub const STATEFUL_PATHS: &[&str] = &[
    "/link/token/create",
    "/link/token/get",
    "/sandbox/public_token/create",
    "/item/public_token/exchange",
    "/item/get",
    "/item/remove",
    "/item/webhook/update",
    "/item/access_token/invalidate",
    "/item/import",
    "/accounts/get",
    "/accounts/balance/get",
    "/transactions/sync",
    "/transactions/get",
    "/transactions/refresh",
    "/transactions/recurring/get",
    "/sandbox/transactions/create",
    "/auth/get",
    "/identity/get",
    "/identity/match",
    "/investments/holdings/get",
    "/investments/transactions/get",
    "/liabilities/get",
    "/institutions/get",
    "/institutions/search",
    "/institutions/get_by_id",
    "/processor/token/create",
    "/sandbox/processor_token/create",
    "/processor/auth/get",
    "/processor/balance/get",
    "/processor/identity/get",
    "/processor/identity/match",
    "/processor/account/get",
    "/webhook_verification_key/get",
    "/sandbox/item/reset_login",
    "/sandbox/item/fire_webhook",
    "/sandbox/item/set_verification_status",
];

/// A typed answer as JSON.
pub(crate) fn json<T: serde::Serialize>(answer: &T) -> Answer {
    serde_json::to_value(answer).map_err(|e| {
        Failure::code("INTERNAL_SERVER_ERROR")
            .message(format!("the sandbox could not write its answer: {e}"))
    })
}

/// Whether a call the spec tier answers asks the bank for fresh data, and so fails while its
/// Item is in error: the refreshes, each "a synchronous request for fresh data" in the spec
/// (Plaid's `ITEM_LOGIN_REQUIRED` "applies to all institution-based products"). The spec
/// tier's other calls read what Plaid already holds, or act on the Item itself.
pub(crate) fn asks_the_bank(path: &str) -> bool {
    path.ends_with("/refresh")
}

/// Whether a call needs the bank (and so fails while the Item is in error): every data call.
fn needs_login(path: &str) -> bool {
    !matches!(
        path,
        "/item/get"
            | "/item/remove"
            | "/item/webhook/update"
            | "/item/access_token/invalidate"
            | "/sandbox/item/reset_login"
            | "/sandbox/item/fire_webhook"
            | "/sandbox/item/set_verification_status"
            | "/processor/token/create"
            | "/link/token/create"
    )
}

/// The id of the live Item an access token opens, brought up to the clock: its ledger caught
/// up, and `ITEM_LOGIN_REQUIRED` (with its webhook) if 30 days have passed since its login.
/// `INVALID_ACCESS_TOKEN` for a token the sandbox never issued (or replaced), `ITEM_NOT_FOUND`
/// for a removed Item.
pub(crate) fn open_item(ctx: &mut Ctx<'_>, token: &str) -> Result<String, Failure> {
    let Some(item_id) = ctx.state.item_id_for(token).map(str::to_owned) else {
        let message = if token.starts_with("access-") {
            "could not find matching access token".to_owned()
        } else {
            "provided access token is in an invalid format. expected format: \
             access-<environment>-<identifier>"
                .to_owned()
        };
        return Err(Failure::code("INVALID_ACCESS_TOKEN").message(message));
    };
    let now = ctx.state.now();
    let Some(item) = ctx.state.items.get_mut(&item_id) else {
        return Err(Failure::code("INVALID_ACCESS_TOKEN"));
    };
    if item.removed {
        return Err(Failure::code("ITEM_NOT_FOUND"));
    }
    catch_up(item, now, ctx.outgoing);
    Ok(item_id)
}

/// Brings one Item up to the clock, with the webhooks Plaid would send on its own: its ledger
/// caught up to today (if that changed anything, `SYNC_UPDATES_AVAILABLE` once the Item has
/// been synced, and `DEFAULT_UPDATE` and `TRANSACTIONS_REMOVED` to every app), and
/// `ITEM_LOGIN_REQUIRED` (with the `ITEM` `ERROR` webhook) once 30 days have passed since its
/// login. Plaid reaches the bank only while the login holds: an Item in
/// error gets no new days until it is repaired (then it catches up), and one whose login
/// expires meanwhile gets the days up to then. Doing it twice at one time changes nothing the
/// second time.
fn catch_up(item: &mut Item, now: DateTime<Utc>, outgoing: &mut Vec<Outgoing>) {
    if item.error.is_some() {
        return;
    }
    let reached = now.min(item.login_expires_at);
    let changes = item.ledger.catch_up(reached.date_naive());
    if item.has_product("transactions") {
        // The last update Plaid made: not after the login ran out.
        transactions::refreshed_webhooks(item, &changes, reached, outgoing, now);
    }
    if item.error.is_none() && now >= item.login_expires_at {
        let error = Failure::code("ITEM_LOGIN_REQUIRED");
        let body = item.webhook_body("ITEM", "ERROR", &[("error", error.to_item_error())]);
        item.error = Some(error);
        crate::webhooks::queue(item, outgoing, body, now);
    }
}

/// Moves the clock forward and brings every live Item up to it at once, in the order the
/// Items were made, as [`open_item`] does for one: at Plaid, the webhooks of what happened
/// meanwhile arrive without the app calling. Returns those webhooks, to deliver once the
/// state is unlocked.
pub(crate) fn advance_clock(state: &mut State, by: std::time::Duration) -> Vec<Outgoing> {
    state.clock.advance(by);
    let now = state.now();
    let mut items: Vec<&mut Item> = state.items.values_mut().filter(|i| !i.removed).collect();
    items.sort_by_key(|item| item.number);
    let mut outgoing = Vec::new();
    for item in items {
        catch_up(item, now, &mut outgoing);
    }
    outgoing
}

/// The Item an access-token call names, ready for `path`: opened (see [`open_item`]), and, for
/// a call that needs the bank, not in error.
pub(crate) fn item_for<'c>(
    ctx: &'c mut Ctx<'_>,
    body: &Body,
    path: &str,
) -> Result<&'c mut Item, Failure> {
    let token = body.required("access_token")?.to_owned();
    let id = open_item(ctx, &token)?;
    let (now, limits, frozen) = (
        ctx.state.now(),
        ctx.state.settings.rate_limits,
        ctx.state.settings.frozen,
    );
    let item = ctx
        .state
        .items
        .get_mut(&id)
        .ok_or_else(|| Failure::code("ITEM_NOT_FOUND"))?;
    if limits {
        rate_limit(item, path, now, frozen)?;
    }
    if needs_login(path) {
        if let Some(error) = &item.error {
            return Err(error.clone());
        }
    }
    Ok(item)
}

/// Plaid's sandbox rate limits per Item, per minute: (path, calls, error code). GUIDE §7 and
/// plaid.com/docs/errors/rate-limit-exceeded/ (the sandbox's figures where they differ from
/// production's).
const RATE_LIMITS: &[(&str, usize, &str)] = &[
    ("/transactions/sync", 50, "TRANSACTIONS_SYNC_LIMIT"),
    ("/accounts/balance/get", 25, "BALANCE_LIMIT"),
    ("/transactions/refresh", 2, "RATE_LIMIT"),
    ("/item/get", 40, "ITEM_GET_LIMIT"),
    ("/accounts/get", 100, "ACCOUNTS_LIMIT"),
    ("/auth/get", 100, "AUTH_LIMIT"),
];

/// Counts a call of `path` on the Item against its limit over the last minute of the
/// sandbox's clock: `429` once the limit is reached (refused calls do not count). On a
/// `frozen` clock the minute never passes by itself, so the message says how to get out.
fn rate_limit(
    item: &mut Item,
    path: &str,
    now: chrono::DateTime<chrono::Utc>,
    frozen: bool,
) -> Result<(), Failure> {
    let Some(&(path, limit, code)) = RATE_LIMITS.iter().find(|(p, _, _)| *p == path) else {
        return Ok(());
    };
    let calls = item.calls.entry(path).or_default();
    let minute_ago = now - chrono::Duration::minutes(1);
    while calls.front().is_some_and(|t| *t <= minute_ago) {
        calls.pop_front();
    }
    if calls.len() >= limit {
        let message = if frozen {
            format!(
                "rate limit exceeded for attempts to access this item ({limit} calls of {path} \
                 a minute). The sandbox's clock is frozen, so the limit does not reset by \
                 itself: move the clock a minute on (Sandbox::advance_clock, or POST \
                 /__sandbox/clock with advance_seconds) or turn the limits off \
                 (SandboxBuilder::rate_limits(false), or --no-rate-limits)"
            )
        } else {
            "rate limit exceeded for attempts to access this item. please try again later"
                .to_owned()
        };
        return Err(Failure::new(429, "RATE_LIMIT_EXCEEDED", code, message));
    }
    calls.push_back(now);
    Ok(())
}

/// `PRODUCTS_NOT_SUPPORTED` when the Item's institution lacks `product`. A product call checks
/// this first and adds the product ([`add_product`]) only once every other check passed: a
/// call that fails leaves the Item as it was.
pub(crate) fn offers_product(item: &Item, product: &str) -> Result<(), Failure> {
    if item.has_product(product) || item.bank.offers(product) {
        return Ok(());
    }
    Err(Failure::code("PRODUCTS_NOT_SUPPORTED").message(format!(
        "the {product} product is not supported by {} ({})",
        item.bank.name, item.bank.id
    )))
}

/// Adds `product` to the Item the first time one of its calls succeeds, as Plaid does for
/// products not initialised in Link (after [`offers_product`]).
pub(crate) fn add_product(item: &mut Item, product: &str) {
    if !item.has_product(product) {
        item.products.push(product.to_owned());
    }
    // A product extracted but unbilled until used (an optional Auth, say) is used now.
    item.unbilled.retain(|p| p != product);
}

/// The products Plaid lists as available to an Item: what the institution offers (`balance`
/// everywhere), less what the Item has, each once.
pub(crate) fn available_products(item: &Item) -> Vec<Products> {
    let mut offered: Vec<&str> = item.bank.products.to_vec();
    if !offered.contains(&"balance") {
        offered.push("balance");
    }
    offered
        .into_iter()
        .filter(|p| !item.has_product(p))
        .map(Products::from)
        .collect()
}

/// An account's balances: for one that carries transactions, from its opening balance and its
/// ledger (current counts posted transactions, available the pending ones too); else as the
/// test user's data gives them.
pub(crate) fn balances(item: &Item, index: usize) -> AccountBalance {
    let Some(account) = item.accounts.get(index) else {
        return AccountBalance::new();
    };
    let plan = &account.plan;
    let (current, mut available) = if plan.ledger_balance {
        let posted = item.ledger.posted(index);
        let pending: f64 = item
            .ledger
            .current_refs()
            .into_iter()
            .filter(|t| t.account == index && t.pending)
            .map(|t| t.amount)
            .sum();
        let round = crate::ledger::round2;
        // Plaid's amounts are positive for money out. A deposit account's balance is what is in
        // it; a credit card's is what is owed.
        if plan.kind == "credit" {
            let owed = round(plan.current + posted);
            (owed, plan.limit.map(|l| round(l - owed - pending)))
        } else {
            let held = round(plan.current - posted);
            (held, Some(round(held - pending)))
        }
    } else {
        (plan.current, plan.available)
    };
    if let Some(forced) = plan.force_available {
        available = forced;
    }
    let mut balance = AccountBalance::new()
        .current(current)
        .iso_currency_code(plan.currency.clone());
    if let Some(a) = available {
        balance = balance.available(a);
    }
    if let Some(l) = plan.limit {
        balance = balance.limit(l);
    }
    balance
}

/// An account as `/accounts/get` shows it.
pub(crate) fn account_base(item: &Item, index: usize) -> AccountBase {
    let account = &item.accounts[index];
    let plan = &account.plan;
    let mut base = AccountBase::new(
        account.id.clone(),
        balances(item, index),
        plan.name.clone(),
        AccountType::from(plan.kind.as_str()),
    )
    .mask(plan.mask.clone())
    .subtype(AccountSubtype::from(plan.subtype.as_str()));
    if let Some(official) = &plan.official_name {
        base = base.official_name(official.clone());
    }
    if let Some(category) = plan.holder_category {
        base = base.holder_category(plaid_sdk::types::AccountHolderCategory::from(category));
    }
    if let Some(status) = &account.verification {
        base = base.verification_status(plaid_sdk::types::AccountBaseVerificationStatus::from(
            status.as_str(),
        ));
    }
    base
}

/// The accounts a request limits itself to (`options.account_ids`, or the single
/// `options.account_id` of `/transactions/sync`), as indexes; all of the Item's when it names
/// none. An id that is not one of the Item's accounts is `INVALID_ACCOUNT_ID`; an empty list
/// is `INVALID_FIELD`, as at Plaid.
pub(crate) fn account_filter(
    item: &Item,
    body: &Body,
    field: &str,
) -> Result<Option<Vec<usize>>, Failure> {
    let named = format!("options.{field}");
    match accounts_named(item, body.option(field), &named)? {
        // Plaid's words (its answer quoted in frappe/erpnext#23376).
        Some(chosen) if chosen.is_empty() => Err(Failure::invalid_field(format!(
            "{named} must be a non-empty array of valid account ids"
        ))),
        chosen => Ok(chosen),
    }
}

/// The accounts a top-level `account_ids` names (`/transactions/recurring/get`: "Retrieves all
/// active accounts on item if no `account_id`s are provided"), so an empty list is all of them.
pub(crate) fn account_ids_filter(item: &Item, body: &Body) -> Result<Option<Vec<usize>>, Failure> {
    Ok(accounts_named(item, body.get("account_ids"), "account_ids")?.filter(|f| !f.is_empty()))
}

/// The positions of the accounts `value` (an id, or a list of ids when `field` is plural)
/// names; `INVALID_ACCOUNT_ID` if one is not the Item's.
fn accounts_named(
    item: &Item,
    value: Option<&Value>,
    field: &str,
) -> Result<Option<Vec<usize>>, Failure> {
    let one = !field.ends_with('s');
    let ids: Vec<String> = match value {
        None => return Ok(None),
        Some(Value::String(id)) if one => vec![id.clone()],
        Some(Value::Array(ids)) if !one => ids
            .iter()
            .map(|id| id.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Failure::invalid_field(format!("{field} must be a list of strings")))?,
        Some(_) => {
            let shape = if one { "a string" } else { "a list of strings" };
            return Err(Failure::invalid_field(format!("{field} must be {shape}")));
        }
    };
    ids.iter()
        .map(|id| {
            item.accounts
                .iter()
                .position(|a| &a.id == id)
                .ok_or_else(|| Failure::code("INVALID_ACCOUNT_ID"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The products Plaid bills an Item for: its products, but Assets, which Plaid adds to an
/// Item without billing it before `/asset_report/create` (Plaid's `Item.products`), and the
/// sandbox makes no reports an Item is billed for.
pub(crate) fn billed_products(item: &Item) -> Vec<Products> {
    item.products
        .iter()
        .filter(|p| *p != "assets" && !item.unbilled.contains(p))
        .map(|p| Products::from(p.as_str()))
        .collect()
}

/// The products the user consented to in Link: the Item's products and the consent its link
/// token asked for besides ([`Item::consented`]), each once.
pub(crate) fn consented_products(item: &Item) -> Vec<Products> {
    let mut consented: Vec<&String> = Vec::new();
    for product in item.products.iter().chain(&item.consented) {
        if !consented.contains(&product) {
            consented.push(product);
        }
    }
    consented
        .into_iter()
        .map(|p| Products::from(p.as_str()))
        .collect()
}

/// The typed Item object (`item` of most answers).
pub(crate) fn item_object(item: &Item) -> plaid_sdk::types::Item {
    let mut out = plaid_sdk::types::Item::new(
        available_products(item),
        billed_products(item),
        item.item_id.clone(),
        plaid_sdk::types::ItemUpdateType::Background,
    )
    .institution_id(item.bank.id.to_owned())
    .products(
        item.products
            .iter()
            .map(|p| Products::from(p.as_str()))
            .collect::<Vec<_>>(),
    )
    .consented_products(consented_products(item));
    if let Some(url) = &item.webhook {
        out = out.webhook(url.clone());
    }
    if let Some(error) = &item.error {
        out = out.error(api_error(error));
    }
    if let Some(at) = item.consent_expiration {
        out = out.consent_expiration_time(at);
    }
    out
}

/// An error object as the typed answers carry it (an Item's `error` in `/item/get`): without
/// `status`, which Plaid's PlaidError returns "only ... in the response body when the error
/// information is provided via a webhook" (the webhooks carry [`Failure::to_item_error`]).
pub(crate) fn api_error(error: &Failure) -> plaid_sdk::ApiError {
    let mut object = error.to_item_error();
    if let Value::Object(map) = &mut object {
        map.remove("status");
    }
    serde_json::from_value(object).unwrap_or_else(|_| {
        serde_json::from_value(serde_json::json!({
            "error_type": "ITEM_ERROR", "error_code": error.code, "error_message": error.message
        }))
        .expect("a minimal error object parses")
    })
}
