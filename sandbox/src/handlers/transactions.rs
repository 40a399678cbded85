//! Transactions: `/transactions/sync` over the Item's change log, `/transactions/get` by date,
//! `/transactions/refresh`, `/transactions/recurring/get`, and `/sandbox/transactions/create`.

use super::{
    account_base, account_filter, account_ids_filter, add_product, item_for, item_object, json,
    offers_product, Answer, Ctx,
};
use crate::body::{offset, page_count, Body};
use crate::failure::Failure;
use crate::ledger::{Change, Planned, Refreshed, Txn};
use crate::state::Item;
use crate::webhooks::{self, Outgoing};
use chrono::{DateTime, NaiveDate, Utc};
use plaid_sdk::types::{
    AccountBase, CounterpartyType, Location, PaymentMeta, PersonalFinanceCategory,
    RecurringTransactionFrequency, RemovedTransaction, SandboxTransactionsCreateResponse,
    Transaction, TransactionCounterparty, TransactionPaymentChannel, TransactionStream,
    TransactionStreamAmount, TransactionStreamStatus, TransactionsGetResponse,
    TransactionsRecurringGetResponse, TransactionsRefreshResponse, TransactionsSyncResponse,
    TransactionsUpdateStatus,
};
use serde_json::{json as value, Value};

/// A transaction as Plaid answers it; `original_description` (the description as the bank
/// gave it, here the ledger's) only when the request's `options.include_original_description`
/// asked for it, as Plaid's docs say.
fn transaction(t: &Txn, item: &Item, original: bool) -> Transaction {
    let account_id = item
        .accounts
        .get(t.account)
        .map(|a| a.id.clone())
        .unwrap_or_default();
    let mut out = Transaction::new(
        account_id,
        t.amount,
        t.date,
        Location::new(),
        t.name.clone(),
        TransactionPaymentChannel::from(t.channel),
        PaymentMeta::new(),
        t.pending,
        t.id.clone(),
    )
    .iso_currency_code(t.currency.clone())
    .authorized_date(t.authorized)
    .personal_finance_category(
        PersonalFinanceCategory::new(t.primary, t.detailed)
            .confidence_level("VERY_HIGH".to_owned()),
    )
    // The fields of the spec's example that an app reading JSON by key expects to find.
    .personal_finance_category_icon_url(format!(
        "https://plaid-category-icons.plaid.com/PFC_{}.png",
        t.primary
    ));
    if let Some(id) = &t.pending_id {
        out = out.pending_transaction_id(id.clone());
    }
    if original {
        out = out.original_description(t.name.clone());
    }
    if let Some(merchant) = t.merchant {
        let slug: String = merchant
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        out = out
            .merchant_name(merchant.to_owned())
            .merchant_entity_id(merchant_entity_id(&slug))
            .logo_url(format!("https://plaid-merchant-logos.plaid.com/{slug}.png"))
            .website(format!("{slug}.com"))
            .counterparties(vec![TransactionCounterparty::new(
                merchant,
                CounterpartyType::Merchant,
            )
            .confidence_level("VERY_HIGH".to_owned())]);
    }
    out
}

/// A merchant's entity id, stable for its name (Plaid's are 20-odd letters and digits).
fn merchant_entity_id(slug: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in slug.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..22)
        .map(|i| {
            let n = hash.rotate_left(i * 7) ^ u64::from(i).wrapping_mul(0x9e37_79b9);
            char::from(ALPHABET[(n % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// The accounts Transactions covers (Plaid's docs: `credit`, `depository`, and `loan` only of
/// subtype `student`): its answers leave the others out, their transactions (a `user_custom`
/// config may give a mortgage some) and their place in `accounts`.
pub(crate) fn covered(item: &Item, index: usize) -> bool {
    let Some(account) = item.accounts.get(index) else {
        return false;
    };
    match account.plan.kind.as_str() {
        "depository" | "credit" => true,
        "loan" => account.plan.subtype == "student",
        _ => false,
    }
}

/// The Item's transactions as they stand, on the accounts Transactions covers, sorted by id:
/// the truth `Sandbox::transactions` and `GET /__sandbox/items/<id>/transactions` give.
pub(crate) fn ledger(item: &Item) -> Vec<crate::LedgerTransaction> {
    let mut out: Vec<crate::LedgerTransaction> = item
        .ledger
        .current()
        .into_iter()
        .filter(|t| covered(item, t.account))
        .map(|t| crate::LedgerTransaction {
            account_id: item
                .accounts
                .get(t.account)
                .map(|a| a.id.clone())
                .unwrap_or_default(),
            transaction_id: t.id,
            amount: t.amount,
            date: t.date,
            pending: t.pending,
            name: t.name,
        })
        .collect();
    out.sort_by(|a, b| a.transaction_id.cmp(&b.transaction_id));
    out
}

/// The accounts a transactions answer lists: those `keep` selects.
fn accounts(item: &Item, keep: impl Fn(usize) -> bool) -> Vec<AccountBase> {
    (0..item.accounts.len())
        .filter(|i| keep(*i))
        .map(|i| account_base(item, i))
        .collect()
}

/// Where a `/transactions/sync` cursor points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// After the first `pos` changes of the log.
    At(usize),
    /// Part way through listing the state after `pos` changes (a first sync).
    Snapshot { pos: usize, offset: usize },
}

pub(crate) fn encode_cursor(item_id: &str, cursor: Cursor) -> String {
    use base64::Engine;
    let text = match cursor {
        Cursor::At(pos) => format!("v1:{item_id}:{pos}"),
        Cursor::Snapshot { pos, offset } => format!("v1:{item_id}:{pos}:{offset}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

pub(crate) fn decode_cursor(item_id: &str, cursor: &str, len: usize) -> Option<Cursor> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.strip_prefix("v1:")?.split(':');
    let (id, pos) = (parts.next()?, parts.next()?.parse::<usize>().ok()?);
    let offset = parts.next().map(str::parse::<usize>);
    if id != item_id || pos > len || parts.next().is_some() {
        return None;
    }
    match offset {
        None => Some(Cursor::At(pos)),
        Some(Ok(offset)) => Some(Cursor::Snapshot { pos, offset }),
        Some(Err(_)) => None,
    }
}

fn bad_cursor() -> Failure {
    Failure::code("INVALID_FIELD")
        .message("cursor is not valid for this Item; start again without one")
}

/// The answer while an Item's transactions are not pulled yet: nothing, no cursor.
fn not_ready_page(request_id: String) -> Answer {
    json(
        &TransactionsSyncResponse::new(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            String::new(),
            false,
            request_id,
        )
        .accounts(Vec::new())
        .transactions_update_status(TransactionsUpdateStatus::NotReady),
    )
}

/// Counts a transactions call against the Item's "not ready" answers
/// ([`SandboxBuilder::not_ready_syncs`](crate::SandboxBuilder::not_ready_syncs)): true while it
/// must answer not ready. The call that uses up the last one is when the Item's data is
/// pulled: Plaid's webhooks say so then, not before (`INITIAL_UPDATE`, `HISTORICAL_UPDATE`,
/// and `SYNC_UPDATES_AVAILABLE` once `/transactions/sync` has been called), so that an app
/// told "not ready" hears when to come back.
fn still_not_ready(item: &mut Item, outgoing: &mut Vec<Outgoing>, now: DateTime<Utc>) -> bool {
    if item.not_ready == 0 {
        return false;
    }
    item.not_ready -= 1;
    if item.not_ready == 0 && item.has_product("transactions") {
        webhooks::transactions_ready(item, outgoing, now);
    }
    true
}

/// The history a first call that adds Transactions to an Item asks for
/// (`options.days_requested`; Plaid ignores it once Transactions is initialised).
fn first_history(item: &mut Item, days: Option<u64>) {
    if days.is_some() {
        let history = crate::state::History {
            days,
            ..Default::default()
        };
        let (from, to) = history.window(item.ledger.today());
        item.ledger.keep_between(from, to);
    }
}

/// `/transactions/sync`: pages through the Item's change log. The cursor is the position in
/// the log (opaque to callers), so a loop sees every change once, in order.
pub(super) fn sync(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let count = page_count(body.get("count"), "count", 100, 500)?;
    let original = body.option_flag("include_original_description")?;
    let days = crate::state::History::days_requested(
        body.option("days_requested"),
        "options.days_requested",
    )?;
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/transactions/sync")?;
    // An Item not created with Transactions: this first call adds it and answers empty
    // (Plaid's docs); the webhooks say when the history is there.
    let added = !item.has_product("transactions");
    offers_product(item, "transactions")?;
    let filter = account_filter(item, body, "account_id")?;
    add_product(item, "transactions");
    item.synced = true;
    if added {
        first_history(item, days);
        let mut hooks = Vec::new();
        webhooks::transactions_ready(item, &mut hooks, now);
        ctx.outgoing.extend(hooks);
        return not_ready_page(request_id);
    }
    let mut hooks = Vec::new();
    if still_not_ready(item, &mut hooks, now) {
        ctx.outgoing.extend(hooks);
        return not_ready_page(request_id);
    }
    let wanted = |account: usize| {
        covered(item, account) && filter.as_ref().is_none_or(|f| f.contains(&account))
    };
    let len = item.ledger.log.len();
    let cursor = match body.optional("cursor")? {
        // No cursor: the whole history, as it stands now, in pages. "now": from here on.
        None | Some("") => Cursor::Snapshot {
            pos: len,
            offset: 0,
        },
        Some("now") => Cursor::At(len),
        Some(cursor) => decode_cursor(&item.item_id, cursor, len).ok_or_else(bad_cursor)?,
    };
    let (mut added, mut modified, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    let next = match cursor {
        Cursor::Snapshot { pos, offset } => {
            let state: Vec<Txn> = item
                .ledger
                .state_at(pos)
                .into_iter()
                .filter(|t| wanted(t.account))
                .collect();
            if offset > state.len() {
                return Err(bad_cursor());
            }
            let end = offset.saturating_add(count).min(state.len());
            added.extend(
                state[offset..end]
                    .iter()
                    .map(|t| transaction(t, item, original)),
            );
            if end < state.len() {
                Cursor::Snapshot { pos, offset: end }
            } else {
                Cursor::At(pos)
            }
        }
        Cursor::At(start) => {
            let mut pos = start;
            let mut taken = 0;
            while pos < len && taken < count {
                match &item.ledger.log[pos] {
                    Change::Added(t) if wanted(t.account) => {
                        added.push(transaction(t, item, original))
                    }
                    Change::Modified(t) if wanted(t.account) => {
                        modified.push(transaction(t, item, original))
                    }
                    Change::Removed { id, account } if wanted(*account) => {
                        let mut r = RemovedTransaction::new().transaction_id(id.clone());
                        if let Some(a) = item.accounts.get(*account) {
                            r = r.account_id(a.id.clone());
                        }
                        removed.push(r);
                    }
                    _ => {
                        pos += 1;
                        continue;
                    }
                }
                taken += 1;
                pos += 1;
            }
            // Skip changes for other accounts at the end, so has_more is exact.
            while pos < len {
                let account = match &item.ledger.log[pos] {
                    Change::Added(t) | Change::Modified(t) => t.account,
                    Change::Removed { account, .. } => *account,
                };
                if wanted(account) {
                    break;
                }
                pos += 1;
            }
            Cursor::At(pos)
        }
    };
    let has_more = match next {
        Cursor::Snapshot { .. } => true,
        Cursor::At(pos) => pos < len,
    };
    // Plaid: "Only accounts that have associated transactions will be shown."
    let with_transactions: std::collections::HashSet<usize> = item
        .ledger
        .current_refs()
        .into_iter()
        .map(|t| t.account)
        .collect();
    json(
        &TransactionsSyncResponse::new(
            added,
            modified,
            removed,
            encode_cursor(&item.item_id, next),
            has_more,
            request_id,
        )
        .accounts(accounts(item, |a| {
            wanted(a) && with_transactions.contains(&a)
        }))
        .transactions_update_status(TransactionsUpdateStatus::HistoricalUpdateComplete),
    )
}

/// `/transactions/get`: the Item's transactions between two dates, newest first, a page at a
/// time. While the Item is not ready, and on the first call for an Item not initialised with
/// Transactions, `PRODUCT_NOT_READY`, as Plaid answers.
pub(super) fn get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (start, end) = (body.date("start_date")?, body.date("end_date")?);
    if start > end {
        return Err(Failure::invalid_field(
            "start_date must be on or before end_date",
        ));
    }
    let count = page_count(body.option("count"), "options.count", 100, 500)?;
    let skip = offset(body.option("offset"), "options.offset")?;
    let original = body.option_flag("include_original_description")?;
    let days = crate::state::History::days_requested(
        body.option("days_requested"),
        "options.days_requested",
    )?;
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/transactions/get")?;
    let filter = account_filter(item, body, "account_ids")?;
    if !item.has_product("transactions") {
        offers_product(item, "transactions")?;
        add_product(item, "transactions");
        first_history(item, days);
        let mut hooks = Vec::new();
        webhooks::transactions_ready(item, &mut hooks, now);
        ctx.outgoing.extend(hooks);
        return Err(Failure::code("PRODUCT_NOT_READY"));
    }
    let mut hooks = Vec::new();
    if still_not_ready(item, &mut hooks, now) {
        ctx.outgoing.extend(hooks);
        return Err(Failure::code("PRODUCT_NOT_READY"));
    }
    let wanted = |account: usize| {
        covered(item, account) && filter.as_ref().is_none_or(|f| f.contains(&account))
    };
    let all = item.ledger.current();
    let mut matching: Vec<&Txn> = all
        .iter()
        .filter(|t| t.date >= start && t.date <= end && wanted(t.account))
        .collect();
    matching.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    let page: Vec<Transaction> = matching
        .iter()
        .skip(skip)
        .take(count)
        .map(|t| transaction(t, item, original))
        .collect();
    json(&TransactionsGetResponse::new(
        accounts(item, wanted),
        page,
        matching.len() as i64,
        item_object(item),
        request_id,
    ))
}

/// What a refresh (or days passing) that found changes leaves: the product's last update
/// at `updated_at`, and the webhooks: `SYNC_UPDATES_AVAILABLE`, and the older `DEFAULT_UPDATE`
/// and `TRANSACTIONS_REMOVED`, as Plaid documents.
pub(crate) fn refreshed_webhooks(
    item: &mut Item,
    changes: &Refreshed,
    updated_at: DateTime<Utc>,
    outgoing: &mut Vec<Outgoing>,
    now: DateTime<Utc>,
) {
    if !changes.any() {
        return;
    }
    item.last_update.insert("transactions", updated_at);
    // While the Item still answers "not ready", nothing is announced: its INITIAL_UPDATE and
    // HISTORICAL_UPDATE come first, when it is ready ([`webhooks::transactions_ready`]).
    if item.not_ready > 0 {
        return;
    }
    webhooks::sync_updates(item, outgoing, now);
    if changes.added > 0 {
        let body = default_update_body(item, changes.added);
        webhooks::queue(item, outgoing, body, now);
    }
    removed_webhook(item, changes, outgoing, now);
}

/// `TRANSACTIONS` `DEFAULT_UPDATE`: `added` new transactions.
pub(crate) fn default_update_body(item: &Item, added: usize) -> Value {
    item.webhook_body(
        "TRANSACTIONS",
        "DEFAULT_UPDATE",
        &[("new_transactions", value!(added)), ("error", Value::Null)],
    )
}

/// `TRANSACTIONS_REMOVED`, if the changes removed any transaction.
pub(crate) fn removed_webhook(
    item: &mut Item,
    changes: &Refreshed,
    outgoing: &mut Vec<Outgoing>,
    now: DateTime<Utc>,
) {
    if !changes.removed.is_empty() {
        let body = item.webhook_body(
            "TRANSACTIONS",
            "TRANSACTIONS_REMOVED",
            &[
                ("removed_transactions", value!(changes.removed)),
                ("error", Value::Null),
            ],
        );
        webhooks::queue(item, outgoing, body, now);
    }
}

pub(super) fn refresh(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/transactions/refresh")?;
    if !item.has_product("transactions") {
        return Err(Failure::code("PRODUCT_NOT_ENABLED"));
    }
    let changes = item.ledger.refresh();
    let mut hooks = Vec::new();
    refreshed_webhooks(item, &changes, now, &mut hooks, now);
    ctx.outgoing.extend(hooks);
    json(&TransactionsRefreshResponse::new(request_id))
}

/// `/transactions/recurring/get`: the streams the Item's posted transactions make, grouped by
/// account, description and category, three occurrences or more.
pub(super) fn recurring_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/transactions/recurring/get")?;
    // Plaid's docs: only on an Item already initialised with Transactions (in Link, or by a
    // first `/transactions/get` or `/transactions/sync`), as `/transactions/refresh`.
    if !item.has_product("transactions") {
        return Err(Failure::code("PRODUCT_NOT_ENABLED"));
    }
    let filter = account_ids_filter(item, body)?;
    let (inflow, outflow) = streams(item, filter.as_deref(), now.date_naive());
    json(&TransactionsRecurringGetResponse::new(
        inflow, outflow, now, request_id,
    ))
}

/// The ids of the accounts `/transactions/recurring/get` finds streams on: those a
/// `RECURRING_TRANSACTIONS_UPDATE` webhook names ("the accounts that have new or updated
/// recurring transactions data").
pub(crate) fn accounts_with_streams(item: &Item, today: NaiveDate) -> Vec<String> {
    let (inflow, outflow) = streams(item, None, today);
    let ids: std::collections::HashSet<&String> = inflow
        .iter()
        .chain(&outflow)
        .map(|s| &s.account_id)
        .collect();
    // In the Item's order of accounts.
    item.accounts
        .iter()
        .filter(|a| ids.contains(&a.id))
        .map(|a| a.id.clone())
        .collect()
}

/// The streams the Item's posted transactions make (on the accounts of `filter`, or all):
/// `(inflow, outflow)`.
fn streams(
    item: &Item,
    filter: Option<&[usize]>,
    today: NaiveDate,
) -> (Vec<TransactionStream>, Vec<TransactionStream>) {
    // (account, description, category) → its posted transactions, in the order the groups
    // are first seen; found by a map (review round 17: a linear search over the groups, under
    // the sandbox's lock, took past 30 s for 100,000 distinct descriptions).
    type Key = (usize, String, &'static str);
    let mut groups: Vec<(Key, Vec<Txn>)> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    for t in item.ledger.current().into_iter().filter(|t| !t.pending) {
        if !covered(item, t.account) || filter.is_some_and(|f| !f.contains(&t.account)) {
            continue;
        }
        let key = (
            t.account,
            t.merchant.map_or_else(|| t.name.clone(), str::to_owned),
            t.detailed,
        );
        match index.get(&key) {
            Some(&at) => groups[at].1.push(t),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![t]));
            }
        }
    }
    let (mut inflow, mut outflow) = (Vec::new(), Vec::new());
    for ((account, description, _), mut txns) in groups {
        if txns.len() < 3 {
            continue;
        }
        txns.sort_by_key(|t| t.date);
        let (first, last) = (txns[0].date, txns[txns.len() - 1].date);
        let gap = last.signed_duration_since(first).num_days() as f64 / (txns.len() - 1) as f64;
        let frequency = match gap {
            g if g < 10.0 => RecurringTransactionFrequency::Weekly,
            g if g < 14.5 => RecurringTransactionFrequency::Biweekly,
            g if g < 20.0 => RecurringTransactionFrequency::SemiMonthly,
            g if g < 45.0 => RecurringTransactionFrequency::Monthly,
            _ => RecurringTransactionFrequency::Unknown,
        };
        let total: f64 = txns.iter().map(|t| t.amount).sum();
        let average = crate::ledger::round2(total / txns.len() as f64);
        let amount = |a: f64| {
            TransactionStreamAmount::new()
                .amount(a)
                .iso_currency_code("USD".to_owned())
        };
        let predicted = last
            .checked_add_signed(chrono::Duration::days(gap.round() as i64))
            .unwrap_or(last);
        let mut stream = TransactionStream::new(
            item.accounts[account].id.clone(),
            amount(average),
            description.clone(),
            first,
            frequency,
            today.signed_duration_since(last).num_days() < (gap * 2.0) as i64 + 3,
            false,
            amount(txns[txns.len() - 1].amount),
            last,
            TransactionStreamStatus::Mature,
            stream_id(&item.item_id, account, &description),
            txns.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        )
        .predicted_next_date(predicted)
        .personal_finance_category(PersonalFinanceCategory::new(
            txns[0].primary,
            txns[0].detailed,
        ));
        if let Some(merchant) = txns[0].merchant {
            stream = stream.merchant_name(merchant.to_owned());
        }
        if average < 0.0 {
            inflow.push(stream);
        } else {
            outflow.push(stream);
        }
    }
    (inflow, outflow)
}

fn stream_id(item_id: &str, account: usize, description: &str) -> String {
    let mut rng = crate::rng::Rng::new(
        crate::rng::Rng::hash(item_id),
        account as u64,
        crate::rng::Rng::hash(description),
    );
    rng.id(37)
}

/// `/sandbox/transactions/create`: up to ten transactions on a `user_transactions_dynamic`
/// Item's depository account, dated within the last 14 days, found as a refresh finds them.
pub(super) fn sandbox_create(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let list = match body.get("transactions") {
        Some(Value::Array(list)) => list.clone(),
        None => return Err(Failure::missing("transactions")),
        Some(_) => return Err(Failure::invalid_field("transactions must be a list")),
    };
    if list.is_empty() {
        return Err(Failure::missing("transactions"));
    }
    if list.len() > 10 {
        return Err(Failure::invalid_field(
            "The request contains too many transactions.",
        ));
    }
    let today = now.date_naive();
    let item = item_for(ctx, body, "/sandbox/transactions/create")?;
    let Some(account) = item.ledger.dynamic_account() else {
        return Err(Failure::invalid_field(
            "/sandbox/transactions/create can only be used with Items created with the \
             user_transactions_dynamic test user",
        ));
    };
    let mut planned = Vec::new();
    for (n, t) in list.iter().enumerate() {
        let date = |k: &str| -> Result<NaiveDate, Failure> {
            match t.get(k) {
                Some(Value::String(d)) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    Failure::invalid_field(format!(
                        "transactions[{n}].{k} must be a date in the format YYYY-MM-DD"
                    ))
                }),
                None | Some(Value::Null) => {
                    Err(Failure::missing(&format!("transactions[{n}].{k}")))
                }
                Some(_) => Err(Failure::invalid_field(format!(
                    "transactions[{n}].{k} must be a date"
                ))),
            }
        };
        let (transacted, posted) = (date("date_transacted")?, date("date_posted")?);
        let window = today
            .checked_sub_days(chrono::Days::new(14))
            .unwrap_or(today);
        if transacted < window
            || posted < window
            || transacted > today
            || posted > today
            || posted < transacted
        {
            return Err(Failure::invalid_field(
                "Transaction and posted dates must be within the last 14 days. The posted date \
                 cannot be before the transaction date.",
            ));
        }
        let amount = t
            .get("amount")
            .and_then(Value::as_f64)
            .ok_or_else(|| Failure::missing(&format!("transactions[{n}].amount")))?;
        if amount.abs() > crate::ledger::MAX_AMOUNT {
            return Err(Failure::invalid_field(format!(
                "transactions[{n}].amount must be at most a trillion in size"
            )));
        }
        let description = t
            .get("description")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::missing(&format!("transactions[{n}].description")))?;
        planned.push(Planned {
            account,
            transacted,
            posted,
            amount,
            description: description.to_owned(),
            currency: t
                .get("iso_currency_code")
                .and_then(Value::as_str)
                .unwrap_or("USD")
                .to_owned(),
        });
    }
    let changes = item.ledger.add_planned(&planned);
    let mut hooks = Vec::new();
    refreshed_webhooks(item, &changes, now, &mut hooks, now);
    ctx.outgoing.extend(hooks);
    json(&SandboxTransactionsCreateResponse::new(request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_one_item() {
        let c = encode_cursor("item-a", Cursor::At(42));
        assert_eq!(decode_cursor("item-a", &c, 100), Some(Cursor::At(42)));
        let snap = Cursor::Snapshot { pos: 40, offset: 7 };
        assert_eq!(
            decode_cursor("item-a", &encode_cursor("item-a", snap), 40),
            Some(snap)
        );
        assert_eq!(decode_cursor("item-b", &c, 100), None);
        assert_eq!(decode_cursor("item-a", &c, 10), None, "beyond the log");
        assert_eq!(decode_cursor("item-a", "garbage!", 100), None);
    }
}
