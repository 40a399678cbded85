//! Processor tokens: made for one account of an Item (`/processor/token/create`, or the sandbox
//! shortcut), and the calls a processor partner makes with one.

use super::{account_base, balances, item_for, json, Answer, Ctx};
use crate::body::Body;
use crate::failure::Failure;
use crate::state::Item;
use plaid_sdk::types::{
    AccountIdentity, AccountSubtype, AccountType, ProcessorAccountGetResponse,
    ProcessorAuthGetResponse, ProcessorBalanceGetResponse, ProcessorIdentityGetResponse,
    ProcessorIdentityMatchResponse, ProcessorNumber, ProcessorTokenCreateResponse,
    SandboxProcessorTokenCreateResponse,
};
use plaid_sdk::ProcessorToken;

pub(super) fn token_create(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let account_id = body.required("account_id")?.to_owned();
    body.required("processor")?;
    let (item_id, index) = {
        let item = item_for(ctx, body, "/processor/token/create")?;
        let index = item
            .accounts
            .iter()
            .position(|a| a.id == account_id)
            .ok_or_else(|| Failure::code("INVALID_ACCOUNT_ID"))?;
        (item.item_id.clone(), index)
    };
    let token = ctx.state.token("processor");
    ctx.state
        .processor_tokens
        .insert(token.clone(), (item_id, index));
    json(&ProcessorTokenCreateResponse::new(
        ProcessorToken::new(token),
        ctx.request_id.clone(),
    ))
}

/// `/sandbox/processor_token/create`: an Item at `institution_id` (with the override
/// credentials), and a processor token for its first account.
pub(super) fn sandbox_token_create(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let institution_id = body.required("institution_id")?;
    let text = |name: &str| {
        body.option(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let username = text("override_username").unwrap_or_else(|| "user_good".into());
    let password = text("override_password").unwrap_or_else(|| "pass_good".into());
    let pending = super::items::prepare(
        ctx.state,
        institution_id,
        vec!["auth".into()],
        &username,
        &password,
        None,
    )?;
    let (_, item_id) = ctx.state.create_item(pending);
    let token = ctx.state.token("processor");
    ctx.state
        .processor_tokens
        .insert(token.clone(), (item_id, 0));
    json(&SandboxProcessorTokenCreateResponse::new(
        ProcessorToken::new(token),
        ctx.request_id.clone(),
    ))
}

/// The Item and account a processor token was made for, opened like an access token would be.
fn processor_account<'c>(
    ctx: &'c mut Ctx<'_>,
    body: &Body,
) -> Result<(&'c mut Item, usize), Failure> {
    let token = body.required("processor_token")?;
    let (item_id, index) = ctx
        .state
        .processor_tokens
        .get(token)
        .cloned()
        .ok_or_else(|| Failure::code("INVALID_PROCESSOR_TOKEN"))?;
    let access_token = ctx
        .state
        .items
        .get(&item_id)
        .map(|i| i.access_token.clone())
        .ok_or_else(|| Failure::code("INVALID_PROCESSOR_TOKEN"))?;
    let id = super::open_item(ctx, &access_token)?;
    let item = ctx
        .state
        .items
        .get_mut(&id)
        .ok_or_else(|| Failure::code("INVALID_PROCESSOR_TOKEN"))?;
    if let Some(error) = &item.error {
        return Err(error.clone());
    }
    Ok((item, index))
}

pub(super) fn auth_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (item, index) = processor_account(ctx, body)?;
    // Numbers "for a checking, savings, or cash management account", as `/auth/get` gives
    // them: none for other accounts, none before micro-deposits are verified.
    if !item.accounts[index].plan.auth_eligible() {
        return Err(Failure::code("NO_AUTH_ACCOUNTS"));
    }
    if super::products::awaits_verification(item, index) {
        return Err(Failure::code("PRODUCT_NOT_READY"));
    }
    let (ach, eft, bacs, international) = super::products::numbers_of(item, index);
    let mut numbers = ProcessorNumber::new();
    if let Some(n) = ach {
        numbers = numbers.ach(plaid_sdk::types::NumbersAchNullable(n));
    }
    if let Some(n) = eft {
        numbers = numbers.eft(plaid_sdk::types::NumbersEftNullable(n));
    }
    if let Some(n) = bacs {
        numbers = numbers.bacs(plaid_sdk::types::NumbersBacsNullable(n));
    }
    if let Some(n) = international {
        numbers = numbers.international(plaid_sdk::types::NumbersInternationalNullable(n));
    }
    json(&ProcessorAuthGetResponse::new(
        request_id,
        numbers,
        account_base(item, index),
    ))
}

pub(super) fn balance_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (item, index) = processor_account(ctx, body)?;
    json(&ProcessorBalanceGetResponse::new(
        account_base(item, index),
        request_id,
    ))
}

pub(super) fn account_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (item, index) = processor_account(ctx, body)?;
    json(
        &ProcessorAccountGetResponse::new(account_base(item, index), request_id)
            .institution_id(item.bank.id.to_owned()),
    )
}

pub(super) fn identity_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (item, index) = processor_account(ctx, body)?;
    let account = &item.accounts[index];
    let owners = account.plan.owners.as_ref().unwrap_or(&item.profile.owners);
    let identity = AccountIdentity::new(
        account.id.clone(),
        balances(item, index),
        account.plan.name.clone(),
        owners
            .iter()
            .map(super::products::owner_of)
            .collect::<Vec<_>>(),
        AccountType::from(account.plan.kind.as_str()),
    )
    .mask(account.plan.mask.clone())
    .subtype(AccountSubtype::from(account.plan.subtype.as_str()));
    json(&ProcessorIdentityGetResponse::new(identity, request_id))
}

pub(super) fn identity_match(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let claimed = crate::identity_match::Claimed::from_user(body.get("user"));
    let (item, index) = processor_account(ctx, body)?;
    json(&ProcessorIdentityMatchResponse::new(
        super::products::match_scores(item, index, &claimed),
        request_id,
    ))
}
