//! The sandbox-only operations (`/sandbox/item/*`) and the webhook verification key.

use super::{item_for, json, Answer, Ctx};
use crate::body::Body;
use crate::failure::Failure;
use crate::state::{report_webhook_body, Item};
use crate::webhooks::{self, Outgoing};
use chrono::{DateTime, Utc};
use plaid_sdk::types::{
    JwkPublicKey, SandboxItemFireWebhookResponse, SandboxItemResetLoginResponse,
    SandboxItemSetVerificationStatusResponse, WebhookVerificationKeyGetResponse,
};
use serde_json::{json as value, Value};

pub(super) fn webhook_key_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let kid = body.required("key_id")?;
    if kid != ctx.signer.kid() {
        return Err(Failure::code("INVALID_WEBHOOK_VERIFICATION_KEY_ID"));
    }
    let jwk = ctx.signer.jwk();
    let text = |k: &str| {
        jwk.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    json(&WebhookVerificationKeyGetResponse::new(
        JwkPublicKey::new(
            text("alg"),
            jwk.get("created_at")
                .and_then(Value::as_i64)
                .unwrap_or_default(),
            text("crv"),
            text("kid"),
            text("kty"),
            text("use"),
            text("x"),
            text("y"),
        ),
        ctx.request_id.clone(),
    ))
}

/// Puts the Item in `ITEM_LOGIN_REQUIRED` and sends its `ITEM` `ERROR` webhook, as
/// `/sandbox/item/reset_login` does.
pub(crate) fn require_login(item: &mut Item, outgoing: &mut Vec<Outgoing>, now: DateTime<Utc>) {
    let error = Failure::code("ITEM_LOGIN_REQUIRED");
    let body = item.webhook_body("ITEM", "ERROR", &[("error", error.to_item_error())]);
    item.error = Some(error);
    webhooks::queue(item, outgoing, body, now);
}

pub(super) fn reset_login(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/sandbox/item/reset_login")?;
    let mut hooks = Vec::new();
    require_login(item, &mut hooks, now);
    ctx.outgoing.extend(hooks);
    json(&SandboxItemResetLoginResponse::new(true, request_id))
}

/// The webhook types `/sandbox/item/fire_webhook` takes, and the product each needs.
fn product_for(webhook_type: &str) -> Option<&'static str> {
    Some(match webhook_type {
        "TRANSACTIONS" => "transactions",
        "AUTH" => "auth",
        "IDENTITY" => "identity",
        "HOLDINGS" | "INVESTMENTS_TRANSACTIONS" => "investments",
        "LIABILITIES" => "liabilities",
        "ASSETS" => "assets",
        _ => return None,
    })
}

/// The webhook `code` (of `webhook_type`, or the code's own type) fires for `item`, with its
/// effect on the Item: Plaid's `/sandbox/item/fire_webhook`. `SANDBOX_PRODUCT_NOT_ENABLED` when
/// the Item lacks the webhook's product; `SANDBOX_WEBHOOK_INVALID` when its webhook "is either
/// not set up, or invalid" (Plaid), here: not an http(s) URL.
pub(crate) fn fire(
    item: &mut Item,
    code: &str,
    webhook_type: Option<&str>,
    now: DateTime<Utc>,
    outgoing: &mut Vec<Outgoing>,
) -> Result<Value, Failure> {
    if item
        .webhook
        .as_deref()
        .and_then(webhooks::http_url)
        .is_none()
    {
        return Err(Failure::code("SANDBOX_WEBHOOK_INVALID"));
    }
    let kind = match (webhook_type, code) {
        (Some(t), _) => t,
        (None, "DEFAULT_UPDATE" | "SYNC_UPDATES_AVAILABLE" | "RECURRING_TRANSACTIONS_UPDATE") => {
            "TRANSACTIONS"
        }
        (None, "SMS_MICRODEPOSITS_VERIFICATION") => "AUTH",
        (None, "PRODUCT_READY" | "ERROR") => "ASSETS",
        (None, _) => "ITEM",
    };
    if let Some(product) = product_for(kind) {
        if !item.has_product(product) {
            return Err(Failure::sandbox_product_not_enabled(product));
        }
    } else if kind != "ITEM" {
        return Err(Failure::invalid_field(format!(
            "webhook_type {kind} cannot be fired"
        )));
    }
    let first_account = item
        .accounts
        .first()
        .map(|a| a.id.clone())
        .unwrap_or_default();
    let body = match (kind, code) {
        ("TRANSACTIONS", "DEFAULT_UPDATE") => {
            // The data really changes, as the webhook says; SYNC_UPDATES_AVAILABLE goes too, and
            // TRANSACTIONS_REMOVED for what the refresh removed (pending ones posting).
            let changes = item.ledger.refresh();
            if changes.any() {
                item.last_update.insert("transactions", now);
                webhooks::sync_updates(item, outgoing, now);
            }
            super::transactions::removed_webhook(item, &changes, outgoing, now);
            super::transactions::default_update_body(item, changes.added)
        }
        ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE") => webhooks::sync_updates_body(item, true),
        ("TRANSACTIONS", "RECURRING_TRANSACTIONS_UPDATE") => {
            // Plaid: the accounts "that have new or updated recurring transactions data".
            let ids = super::transactions::accounts_with_streams(item, now.date_naive());
            item.webhook_body(kind, code, &[("account_ids", value!(ids))])
        }
        ("AUTH", "DEFAULT_UPDATE") => item.webhook_body(
            kind,
            code,
            &[
                ("account_ids_with_new_auth", value!([])),
                ("account_ids_with_updated_auth", value!({})),
                ("error", Value::Null),
            ],
        ),
        ("AUTH", "SMS_MICRODEPOSITS_VERIFICATION") => item.webhook_body(
            kind,
            code,
            &[
                ("account_id", value!(first_account)),
                ("status", value!("MANUALLY_VERIFIED")),
            ],
        ),
        ("IDENTITY", "DEFAULT_UPDATE") => item.webhook_body(
            kind,
            code,
            &[
                ("account_ids_with_updated_identity", value!({})),
                ("error", Value::Null),
            ],
        ),
        ("HOLDINGS", "DEFAULT_UPDATE") => item.webhook_body(
            kind,
            code,
            &[
                ("new_holdings", value!(0)),
                ("updated_holdings", value!(item.profile.holdings.len())),
                ("error", Value::Null),
            ],
        ),
        ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE") => item.webhook_body(
            kind,
            code,
            &[
                ("new_investments_transactions", value!(0)),
                ("cancelled_investments_transactions", value!(0)),
                ("error", Value::Null),
            ],
        ),
        ("LIABILITIES", "DEFAULT_UPDATE") => item.webhook_body(
            kind,
            code,
            &[
                ("account_ids_with_new_liabilities", value!([])),
                ("account_ids_with_updated_liabilities", value!({})),
                ("error", Value::Null),
            ],
        ),
        ("ASSETS", "PRODUCT_READY") => report_webhook_body(
            kind,
            code,
            &[
                (
                    "asset_report_id",
                    value!(format!("sandbox-report-{}", item.number)),
                ),
                ("report_type", value!("FULL")),
            ],
        ),
        ("ASSETS", "ERROR") => report_webhook_body(
            kind,
            code,
            &[
                (
                    "asset_report_id",
                    value!(format!("sandbox-report-{}", item.number)),
                ),
                (
                    "error",
                    Failure::code("INTERNAL_SERVER_ERROR").to_item_error(),
                ),
            ],
        ),
        ("ITEM", "NEW_ACCOUNTS_AVAILABLE") => {
            item.webhook_body(kind, code, &[("error", Value::Null)])
        }
        ("ITEM", "ERROR") => {
            let error = Failure::code("ITEM_LOGIN_REQUIRED");
            let body = item.webhook_body(kind, code, &[("error", error.to_item_error())]);
            item.error = Some(error);
            body
        }
        ("ITEM", "LOGIN_REPAIRED") => {
            item.error = None;
            item.login_expires_at = crate::state::later(now, crate::state::LOGIN_LIFE);
            item.webhook_body(kind, code, &[])
        }
        ("ITEM", "PENDING_EXPIRATION") => {
            let at = crate::state::later(now, chrono::Duration::days(7));
            item.consent_expiration = Some(at);
            item.webhook_body(
                kind,
                code,
                &[(
                    "consent_expiration_time",
                    value!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                )],
            )
        }
        ("ITEM", "PENDING_DISCONNECT") => item.webhook_body(
            kind,
            code,
            &[
                ("reason", value!("INSTITUTION_MIGRATION")),
                (
                    "disconnect_time",
                    value!(crate::state::later(now, chrono::Duration::days(7))
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                ),
            ],
        ),
        ("ITEM", "USER_PERMISSION_REVOKED") => {
            let error = Failure::code("USER_PERMISSION_REVOKED");
            let body = item.webhook_body(kind, code, &[("error", error.to_item_error())]);
            item.error = Some(error);
            body
        }
        ("ITEM", "USER_ACCOUNT_REVOKED") => {
            item.webhook_body(kind, code, &[("account_id", value!(first_account))])
        }
        _ => {
            return Err(Failure::invalid_field(format!(
                "webhook_code {code} cannot be fired for webhook_type {kind}"
            )))
        }
    };
    Ok(body)
}

pub(super) fn fire_webhook(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let code = body.required("webhook_code")?.to_owned();
    let webhook_type = body.optional("webhook_type")?.map(str::to_owned);
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/sandbox/item/fire_webhook")?;
    let mut hooks = Vec::new();
    let hook = fire(item, &code, webhook_type.as_deref(), now, &mut hooks)?;
    webhooks::queue(item, &mut hooks, hook, now);
    ctx.outgoing.extend(hooks);
    json(&SandboxItemFireWebhookResponse::new(true, request_id))
}

/// `/sandbox/item/set_verification_status`: finishes (or expires) the automated micro-deposit
/// verification of an account that is waiting for it, and sends the `AUTH` webhook.
pub(super) fn set_verification_status(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let account_id = body.required("account_id")?.to_owned();
    let status = body.required("verification_status")?.to_owned();
    let code = match status.as_str() {
        "automatically_verified" => "AUTOMATICALLY_VERIFIED",
        "verification_expired" => "VERIFICATION_EXPIRED",
        _ => {
            return Err(Failure::invalid_field(
                "verification_status must be automatically_verified or verification_expired",
            ))
        }
    };
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/sandbox/item/set_verification_status")?;
    let account = item
        .accounts
        .iter_mut()
        .find(|a| a.id == account_id)
        .ok_or_else(|| Failure::code("INVALID_ACCOUNT_ID"))?;
    if account.verification.as_deref() != Some("pending_automatic_verification") {
        return Err(Failure::invalid_field(
            "the account is not waiting for automated micro-deposit verification (link it with \
             user_good / microdeposits_good at Houndstooth Bank, ins_109512)",
        ));
    }
    account.verification = Some(status);
    let hook = item.webhook_body(
        "AUTH",
        code,
        &[("account_id", value!(account_id)), ("error", Value::Null)],
    );
    let mut hooks = Vec::new();
    webhooks::queue(item, &mut hooks, hook, now);
    ctx.outgoing.extend(hooks);
    json(&SandboxItemSetVerificationStatusResponse::new(request_id))
}
