//! Items: the sandbox shortcut that skips Link, the exchange, and the Item's life cycle.

use super::{item_for, item_object, json, Answer, Ctx};
use crate::body::{optional_date, Body};
use crate::failure::Failure;
use crate::institutions::{self, Health};
use crate::state::{History, PendingItem, State, PUBLIC_TOKEN_LIFE};
use crate::users;
use plaid_sdk::types::{
    ItemAccessTokenInvalidateResponse, ItemGetResponse, ItemImportResponse,
    ItemPublicTokenExchangeResponse, ItemRemoveResponse, ItemStatus, ItemStatusInvestments,
    ItemStatusLastWebhook, ItemStatusNullable, ItemStatusTransactions, ItemWebhookUpdateResponse,
    ItemWithConsentFields, ItemWithConsentFieldsUpdateType, Products,
    SandboxPublicTokenCreateResponse,
};
use plaid_sdk::{AccessToken, PublicToken};

/// What linking at an institution with some credentials gives: the Item to create, or the error
/// Plaid answers (the institution's, the credentials', or the one they force).
pub(crate) fn prepare(
    state: &State,
    institution_id: &str,
    products: Vec<String>,
    username: &str,
    password: &str,
    webhook: Option<String>,
) -> Result<PendingItem, Failure> {
    let bank =
        institutions::find(institution_id).ok_or_else(|| Failure::code("INVALID_INSTITUTION"))?;
    if let Some(missing) = products.iter().find(|p| !bank.offers(p)) {
        return Err(Failure::code("PRODUCTS_NOT_SUPPORTED").message(format!(
            "{} ({}) does not support the {missing} product",
            bank.name, bank.id
        )));
    }
    match bank.health {
        Health::Down => return Err(Failure::code("INSTITUTION_DOWN")),
        Health::Unsupported => return Err(Failure::code("INSTITUTION_NO_LONGER_SUPPORTED")),
        Health::Healthy | Health::Degraded => {}
    }
    let mut profile = users::from_credentials(username, password, state.now().date_naive())?;
    if let Some(code) = &profile.force_error {
        return Err(Failure::code(code));
    }
    if profile.automated_micro_deposits {
        // Plaid's automated micro-deposit flow links the one account being verified.
        profile.accounts.truncate(1);
        profile.ledger = users::LedgerPlan::Generated(crate::ledger::Slots {
            checking: Some(0),
            savings: None,
            card: None,
        });
        profile.default_product_data = false;
    }
    needs_accounts_for(&profile, &products)?;
    Ok(PendingItem::new(
        bank,
        products,
        webhook,
        profile,
        state.now(),
    ))
}

/// What a new Item takes from the link token it is made through, whichever way Link finishes
/// (the emulated pages or [`crate::Sandbox::complete_link`]): the history Transactions asks
/// for, the consent given, and the products asked for only where supported (extracted once
/// the user has picked the accounts: [`extract_if_supported`]).
pub(crate) fn apply_link(pending: &mut PendingItem, link: &crate::state::LinkToken) {
    pending.history.days = link.days_requested;
    pending.consented = link.consented.clone();
    pending.if_supported = link.if_supported.clone();
}

/// Extracts the products the link token asked for only where supported
/// ([`crate::state::IfSupported`]): each the institution offers and an account the user kept
/// serves; an optional Auth, Identity or Signal unbilled until used.
pub(crate) fn extract_if_supported(pending: &mut PendingItem) {
    let wanted = std::mem::take(&mut pending.if_supported);
    let asked = wanted
        .required
        .into_iter()
        .map(|p| (p, false))
        .chain(wanted.optional.into_iter().map(|p| (p, true)));
    for (product, optional) in asked {
        if !pending.products.contains(&product)
            && pending.bank.offers(&product)
            && needs_accounts_for(&pending.profile, std::slice::from_ref(&product)).is_ok()
        {
            if optional && matches!(product.as_str(), "auth" | "identity" | "signal") {
                pending.unbilled.push(product.clone());
            }
            pending.products.push(product);
        }
    }
}

/// Plaid's `products`: "Item creation will fail if one or more listed products is ...
/// incompatible with the account type"; each needs "at least one compatible account".
fn needs_accounts_for(profile: &users::Profile, products: &[String]) -> Result<(), Failure> {
    for product in products {
        let (usable, code) = match product.as_str() {
            "auth" => (
                profile
                    .accounts
                    .iter()
                    .any(users::AccountPlan::auth_eligible),
                "NO_AUTH_ACCOUNTS",
            ),
            "investments" => (
                profile.accounts.iter().any(|a| a.kind == "investment"),
                "NO_INVESTMENT_ACCOUNTS",
            ),
            // user_good's loans are dated when the Item is made (`Profile::dated`).
            "liabilities" => (
                profile.default_product_data || !profile.liabilities.is_empty(),
                "NO_LIABILITY_ACCOUNTS",
            ),
            _ => continue,
        };
        if !usable {
            return Err(Failure::code(code));
        }
    }
    Ok(())
}

/// `options.transactions` of `/sandbox/public_token/create`: the history the Item's
/// Transactions asks for.
fn sandbox_history(body: &Body) -> Result<History, Failure> {
    let Some(options) = body.option("transactions") else {
        return Ok(History::default());
    };
    let field = |name: &str| format!("options.transactions.{name}");
    let history = History {
        days: History::days_requested(options.get("days_requested"), &field("days_requested"))?,
        start: optional_date(options.get("start_date"), &field("start_date"))?,
        end: optional_date(options.get("end_date"), &field("end_date"))?,
    };
    if let (Some(start), Some(end)) = (history.start, history.end) {
        if start > end {
            return Err(Failure::invalid_field(
                "options.transactions.start_date must be on or before end_date",
            ));
        }
    }
    Ok(history)
}

pub(super) fn sandbox_public_token_create(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let institution_id = body.required("institution_id")?;
    let products = body.required_list("initial_products")?;
    let text = |name: &str| -> Result<Option<String>, Failure> {
        match body.option(name) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Failure::invalid_field(format!(
                "options.{name} must be a string"
            ))),
        }
    };
    let webhook = text("webhook")?;
    let username = text("override_username")?.unwrap_or_else(|| "user_good".into());
    let password = text("override_password")?.unwrap_or_else(|| "pass_good".into());
    let history = sandbox_history(body)?;
    let mut pending = prepare(
        ctx.state,
        institution_id,
        products,
        &username,
        &password,
        webhook,
    )?;
    pending.history = history;
    let token = ctx.state.new_public_token(pending);
    json(&SandboxPublicTokenCreateResponse::new(
        PublicToken::new(token),
        ctx.request_id.clone(),
    ))
}

pub(super) fn exchange(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let public_token = body.required("public_token")?;
    let now = ctx.state.now();
    let pending = ctx
        .state
        .public_tokens
        .remove(public_token)
        .ok_or_else(|| Failure::code("INVALID_PUBLIC_TOKEN"))?;
    if now - pending.created_at > PUBLIC_TOKEN_LIFE {
        return Err(
            Failure::code("INVALID_PUBLIC_TOKEN").message("provided public token has expired")
        );
    }
    let (access_token, item_id) = match &pending.update_of {
        // An update-mode session's token needs no exchange (Plaid's docs); exchanged anyway, it
        // names the Item it repaired.
        Some(item_id) => {
            let item = ctx
                .state
                .items
                .get(item_id)
                .ok_or_else(|| Failure::code("ITEM_NOT_FOUND"))?;
            (item.access_token.clone(), item.item_id.clone())
        }
        None => {
            let (access_token, item_id) = ctx.state.create_item(pending);
            // Plaid pulls a new Item's transactions at once and says so.
            if let Some(item) = ctx.state.items.get_mut(&item_id) {
                if item.has_product("transactions") {
                    crate::webhooks::transactions_ready(item, ctx.outgoing, now);
                }
            }
            (access_token, item_id)
        }
    };
    json(&ItemPublicTokenExchangeResponse::new(
        AccessToken::new(access_token),
        item_id,
        ctx.request_id.clone(),
    ))
}

pub(super) fn get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let item = item_for(ctx, body, "/item/get")?;
    let base = item_object(item);
    let products: Vec<Products> = item
        .products
        .iter()
        .map(|p| Products::from(p.as_str()))
        .collect();
    let mut with_consent = ItemWithConsentFields::new(
        super::available_products(item),
        super::billed_products(item),
        item.item_id.clone(),
        ItemWithConsentFieldsUpdateType::Background,
    )
    .institution_id(item.bank.id.to_owned())
    .institution_name(item.bank.name.to_owned())
    .products(products.clone())
    .consented_products(super::consented_products(item))
    .created_at(item.created_at);
    if let Some(url) = &base.webhook {
        with_consent = with_consent.webhook(url.clone());
    }
    if let Some(error) = base.error.clone() {
        with_consent = with_consent.error(error);
    }
    if let Some(at) = item.consent_expiration {
        with_consent = with_consent.consent_expiration_time(at);
    }
    let mut status = ItemStatus::new();
    if item.has_product("transactions") {
        let mut t = ItemStatusTransactions::new();
        if let Some(at) = item.last_update.get("transactions") {
            t = t.last_successful_update(*at);
        }
        if let Some(at) = item.last_failed.get("transactions") {
            t = t.last_failed_update(*at);
        }
        status = status.transactions(t);
    }
    if item.has_product("investments") {
        let mut i = ItemStatusInvestments::new();
        if let Some(at) = item.last_update.get("investments") {
            i = i.last_successful_update(*at);
        }
        status = status.investments(i);
    }
    if let Some((at, code)) = &item.last_webhook {
        status = status.last_webhook(
            ItemStatusLastWebhook::new()
                .sent_at(*at)
                .code_sent(code.clone()),
        );
    }
    json(&ItemGetResponse::new(with_consent, request_id).status(ItemStatusNullable(status)))
}

pub(super) fn remove(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let item = item_for(ctx, body, "/item/remove")?;
    item.removed = true;
    // Only the flag is read again (every call answers ITEM_NOT_FOUND): the rest is let go,
    // so a server running for hours does not keep every removed Item's data.
    item.ledger.forget();
    item.accounts = Vec::new();
    item.calls = Default::default();
    let item_id = item.item_id.clone();
    ctx.state
        .processor_tokens
        .retain(|_, (id, _)| *id != item_id);
    json(&ItemRemoveResponse::new(request_id))
}

pub(super) fn webhook_update(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let url = body.optional("webhook")?.map(str::to_owned);
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/item/webhook/update")?;
    item.webhook = url.clone();
    let mut hooks = Vec::new();
    if let Some(url) = url {
        let hook = item.webhook_body(
            "ITEM",
            "WEBHOOK_UPDATE_ACKNOWLEDGED",
            &[
                ("new_webhook_url", url.clone().into()),
                ("error", serde_json::Value::Null),
            ],
        );
        crate::webhooks::queue(item, &mut hooks, hook, now);
    }
    let answer = ItemWebhookUpdateResponse::new(item_object(item), request_id);
    ctx.outgoing.extend(hooks);
    json(&answer)
}

pub(super) fn invalidate(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (old, item_id) = {
        let item = item_for(ctx, body, "/item/access_token/invalidate")?;
        (item.access_token.clone(), item.item_id.clone())
    };
    let new = ctx.state.token("access");
    ctx.state.access_tokens.remove(&old);
    ctx.state.access_tokens.insert(new.clone(), item_id.clone());
    if let Some(item) = ctx.state.items.get_mut(&item_id) {
        item.access_token = new.clone();
    }
    json(&ItemAccessTokenInvalidateResponse::new(
        AccessToken::new(new),
        request_id,
    ))
}

/// `/item/import`: an Item from a user's credentials at an institution, without Link, its
/// extraction begun at once (the transactions webhooks follow, as after an exchange).
/// `user_id` is "an opaque user identifier" of the caller's choosing: any pair is `user_good`'s
/// data, except that a sandbox test user's name with its password (`user_good` /
/// `error_ITEM_LOCKED`, `user_custom` / a config) means what it means in Link.
pub(super) fn import(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let products = body.required_list("products")?;
    let auth = body
        .get("user_auth")
        .ok_or_else(|| Failure::missing("user_auth"))?;
    let field = |name: &str| -> Result<String, Failure> {
        match auth.get(name) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            None | Some(serde_json::Value::Null) => {
                Err(Failure::missing(&format!("user_auth.{name}")))
            }
            Some(_) => Err(Failure::invalid_field(format!(
                "user_auth.{name} must be a string"
            ))),
        }
    };
    let (user_id, token) = (field("user_id")?, field("auth_token")?);
    let institution = body
        .optional("institution_id")?
        .unwrap_or("ins_109508")
        .to_owned();
    let webhook = body
        .option("webhook")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let (username, password) = if users::is_test_user(&user_id) {
        (user_id.as_str(), token.as_str())
    } else {
        ("user_good", "pass_good")
    };
    let pending = prepare(
        ctx.state,
        &institution,
        products,
        username,
        password,
        webhook,
    )?;
    let now = ctx.state.now();
    let (access_token, item_id) = ctx.state.create_item(pending);
    if let Some(item) = ctx.state.items.get_mut(&item_id) {
        if item.has_product("transactions") {
            crate::webhooks::transactions_ready(item, ctx.outgoing, now);
        }
    }
    json(&ItemImportResponse::new(
        AccessToken::new(access_token),
        ctx.request_id.clone(),
    ))
}
