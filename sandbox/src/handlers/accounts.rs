//! `/accounts/get` and `/accounts/balance/get`.

use super::{account_base, account_filter, item_for, item_object, json, Answer, Ctx};
use crate::body::Body;
use plaid_sdk::types::{AccountBase, AccountsGetResponse};

fn accounts(ctx: &mut Ctx<'_>, body: &Body, path: &str) -> Answer {
    let request_id = ctx.request_id.clone();
    let item = item_for(ctx, body, path)?;
    let filter = account_filter(item, body, "account_ids")?;
    let list: Vec<AccountBase> = (0..item.accounts.len())
        .filter(|i| filter.as_ref().is_none_or(|f| f.contains(i)))
        .map(|i| account_base(item, i))
        .collect();
    json(&AccountsGetResponse::new(
        list,
        item_object(item),
        request_id,
    ))
}

pub(super) fn get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    accounts(ctx, body, "/accounts/get")
}

pub(super) fn balance_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    accounts(ctx, body, "/accounts/balance/get")
}
