//! Webhooks, for delivery at least once, in any order, to any replica (Plaid retries a
//! webhook that got no 200 within 10 s, and has no delivery id).
//!
//! The receiver verifies, stores the webhook in the inbox under a dedupe key (the body's
//! SHA-256 and the token's `iat`, what the signature vouches for: a replayed delivery is the
//! same key however its token is spelt; Plaid signs each retry anew) and answers 200 at once. Workers claim inbox rows like jobs and
//! apply each in one transaction with marking it done, so a webhook has one effect however
//! often it arrives:
//! - a sync request queues a sync, unless one is queued or started after the webhook was
//!   signed (it sees the change the webhook announces): copies and retries coalesce, and a
//!   new change is never mistaken for a copy. Two changes Plaid announces in one second have
//!   one body and one `iat`, so one key: the second is stored as a copy of the first. So the
//!   sync a webhook queues waits for the end of the second it was signed in (2 s at most),
//!   and then covers both; and a copy that arrives once the first is applied queues a sync
//!   too (reason `webhook again`), on the same terms, in case the first's sync began before
//!   (a user's sync it coalesced with; review round 21: such a copy was dropped, and its
//!   change waited for the next webhook). Once a sync has started after that second, a copy
//!   has no effect;
//! - an Item's state (its error, its consent expiry) changes only if the webhook's `iat` is
//!   not older than the state's, and only while the Item is active: a late `ERROR` never
//!   undoes a newer `LOGIN_REPAIRED`. A retry of an `ERROR` is signed anew, though, and then
//!   looks newer than the repair, so an `ERROR` or `LOGIN_REPAIRED` also queues a check
//!   (`/item/get`, [`Kind::Check`]) whose answer, Plaid's own, has the last word.
//!
//! A webhook naming an Item the app has no row for is applied like any other and logged with
//! the Item's id (at `info`: most are an exchange still under way): an Item whose exchange
//! answer was lost (logged as an error by the exchange) is connected at Plaid with no access
//! token kept, and its webhooks are how it shows. Those of the last day are listed by
//! `SELECT DISTINCT item_id FROM webhook_inbox WHERE item_id NOT IN (SELECT id FROM items)
//! AND item_id NOT IN (SELECT item_id FROM jobs WHERE kind = 'remove')` (the second part
//! leaves out the Items this app removed itself).
//!
//! "Started after the webhook was signed" compares this server's clock with Plaid's `iat`
//! (whole seconds, so a second's margin): replicas need clocks kept by NTP. One running more
//! than a second ahead of Plaid's can take a webhook as covered by a sync that began before
//! the change it announces; that change then waits for the next webhook or sync.

use crate::app::{now_ms, App};
use crate::jobs::{enqueue_stmt_at, second_end_ms, Kind, LostClaims, Outage, Unless};
use crate::store::{params, Stmt, StoreError, SKIP_LOCKED};
use std::sync::Arc;
use std::time::Duration;

/// How long a claimed webhook stays one worker's.
const INBOX_LEASE: Duration = Duration::from_secs(30);
const INBOX_LEASE_MS: i64 = INBOX_LEASE.as_millis() as i64;

/// A verified webhook, as the receiver stores it.
pub struct Delivery<'a> {
    pub key: String,
    pub item_id: Option<String>,
    pub webhook_type: &'a str,
    pub webhook_code: &'a str,
    pub iat: i64,
    pub body: &'a str,
}

/// Stores a webhook; `true` if it is new, `false` for a copy of one stored (counted, not
/// stored again). A copy of a sync request whose first delivery was applied already queues a
/// sync unless one started after the second it was signed in (the module's docs say why).
pub async fn store(app: &App, d: Delivery<'_>) -> Result<bool, StoreError> {
    let row = app
        .db
        .query_one(
            "INSERT INTO webhook_inbox
                 (key, item_id, webhook_type, webhook_code, iat, body, state, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'new', $7)
             ON CONFLICT (key) DO UPDATE SET deliveries = webhook_inbox.deliveries + 1
             RETURNING deliveries, state",
            params![
                d.key,
                d.item_id.clone(),
                d.webhook_type,
                d.webhook_code,
                d.iat,
                d.body,
                now_ms()
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    if row.int(0) == 1 {
        app.inbox_wake.notify_waiters();
        return Ok(true);
    }
    // Not applied yet ('new', 'running'): its sync is queued after this copy arrived, so it
    // covers this copy's change too.
    if row.text(1) == "done" && (d.webhook_type, d.webhook_code) == SYNC_REQUEST {
        if let Some(item_id) = d.item_id.as_deref() {
            let queued = app
                .db
                .transaction(sync_stmts(item_id, "webhook again", d.iat))
                .await?;
            if queued.is_some_and(|counts| counts.iter().any(|n| *n > 0)) {
                app.wake.notify_waiters();
            }
        }
    }
    Ok(false)
}

/// The webhook that asks an app on `/transactions/sync` to sync.
const SYNC_REQUEST: (&str, &str) = ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE");

/// The longest a sync a webhook asks for waits for the end of the second it was signed in.
const SECOND_END_WAIT_MS: i64 = 2_000;

/// A sync for a webhook signed at `iat` (s): none if one is queued or started after the end
/// of that second (it sees the change the webhook announces), else one that starts after it,
/// so that it also covers any other change announced in that second (same body, same key).
/// A queued one is moved to that time, too. The wait is at most [`SECOND_END_WAIT_MS`]:
/// Plaid's clock running ahead of this one must not hold syncs back for long.
fn sync_stmts(item_id: &str, reason: &str, iat: i64) -> Vec<Stmt> {
    let second_end = second_end_ms(iat);
    let covered = Unless::StartedAfter(second_end);
    let not_before = second_end.min(now_ms().saturating_add(SECOND_END_WAIT_MS));
    enqueue_stmt_at(Kind::Sync, item_id, reason, covered, not_before).1
}

struct Claimed {
    key: String,
    /// The claim's name in `owner` ([`claim_owner`](crate::jobs::claim_owner)).
    owner: String,
    item_id: Option<String>,
    webhook_type: String,
    webhook_code: String,
    iat: i64,
    body: String,
}

async fn claim(app: &App, owner: String) -> Result<Option<Claimed>, StoreError> {
    let now = now_ms();
    let sql = format!(
        "UPDATE webhook_inbox SET state = 'running', owner = $1, lease_until = $2,
                                  attempts = attempts + 1
         WHERE key = (
             SELECT key FROM webhook_inbox
             WHERE state = 'new' OR (state = 'running' AND lease_until < $3)
             ORDER BY received_at
             LIMIT 1 {SKIP_LOCKED})
         RETURNING key, item_id, webhook_type, webhook_code, iat, body"
    );
    let row = app
        .db
        .query_one(&sql, params![owner.clone(), now + INBOX_LEASE_MS, now])
        .await?;
    Ok(row.map(|r| Claimed {
        key: r.text(0),
        owner,
        item_id: r.opt_text(1),
        webhook_type: r.text(2),
        webhook_code: r.text(3),
        iat: r.int(4),
        body: r.text(5),
    }))
}

/// The inbox worker of one replica. It ends when the replica stops, after the webhook it
/// is applying (one transaction).
pub async fn worker(app: Arc<App>) {
    let mut stop = app.stopping();
    let mut outage = Outage::default();
    let mut lost = LostClaims::default();
    while !*stop.borrow() {
        let claimed = match lost.claim(&app, INBOX_LEASE, release_lost, claim).await {
            Ok(Some(hook)) => {
                if let Err(e) = apply(&app, &hook).await {
                    // The lease runs out and a worker tries again.
                    tracing::warn!(key = %hook.key, item_id = ?hook.item_id,
                        webhook_type = %hook.webhook_type, webhook_code = %hook.webhook_code,
                        error = %e, "applying a webhook failed; again when its lease ends");
                }
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        let wake = &app.inbox_wake;
        outage
            .pause("claiming webhooks", claimed, app.poll, wake, &mut stop)
            .await;
    }
    lost.settle_at_stop(&app, release_lost).await;
}

/// A lost claim's webhook ([`LostClaims`]), if the claim was made: new again at once, not
/// when its lease runs out.
async fn release_lost(app: &App, owner: &str) -> Result<bool, StoreError> {
    let released = app
        .db
        .execute(
            "UPDATE webhook_inbox SET state = 'new', owner = NULL, lease_until = NULL,
                                      attempts = attempts - 1
             WHERE owner = $1 AND state = 'running'",
            params![owner.to_owned()],
        )
        .await?;
    Ok(released > 0)
}

/// How long an `ITEM` webhook for an Item still being linked waits before it is tried again.
const LINKING_WAIT_MS: i64 = 2_000;

/// A webhook's effect and the inbox row marked done, in one transaction.
async fn apply(app: &App, hook: &Claimed) -> Result<(), StoreError> {
    // An Item's state changes only once it is active. One still being linked (its exchange
    // done, its first calls under way) becomes active in a moment, or is removed: the webhook
    // waits for that, claimable again after the wait, its try not counted (review round 15:
    // it was marked done and changed nothing). A sync webhook needs no wait: the link queues
    // the first sync itself.
    if let Some(item_id) = &hook.item_id {
        let status = app
            .db
            .query_one(
                "SELECT status FROM items WHERE id = $1",
                params![item_id.clone()],
            )
            .await?
            .map(|r| r.text(0));
        if status.is_none() {
            // No row: an Item whose exchange is still under way (Plaid makes the Item when
            // Link succeeds, and may send its webhooks before the exchange), one this app
            // removed after a failed link (its row deleted), or one whose exchange answer was
            // lost (no access token kept: connected at Plaid for good). Only the last is
            // wrong, and the exchange logs it as an error; this line names the Item for it
            // (review round 20: such webhooks were marked "not needed" like any other).
            tracing::info!(item_id = %item_id, webhook_code = %hook.webhook_code,
                "a webhook names an Item with no record of Item {item_id} here (yet)");
        }
        if hook.webhook_type == "ITEM" && status.as_deref() == Some("linking") {
            app.db
                .execute(
                    "UPDATE webhook_inbox SET lease_until = $1, attempts = attempts - 1
                     WHERE key = $2 AND owner = $3 AND state = 'running'",
                    params![
                        now_ms() + LINKING_WAIT_MS,
                        hook.key.clone(),
                        hook.owner.clone()
                    ],
                )
                .await?;
            return Ok(());
        }
    }
    let (effect, outcome) = effect(hook);
    let mut stmts = vec![Stmt::guard(
        "UPDATE webhook_inbox SET state = 'done', outcome = $1, done_at = $2
         WHERE key = $3 AND owner = $4 AND state = 'running'",
        params![outcome, now_ms(), hook.key.clone(), hook.owner.clone()],
    )];
    let queues_job = effect.iter().any(|e| matches!(e, Effect::Job(_)));
    stmts.extend(effect.into_iter().flat_map(|e| match e {
        Effect::Job(stmts) => stmts,
        Effect::State(stmt) => vec![stmt],
    }));
    if app.db.transaction(stmts).await?.is_some() && queues_job {
        app.wake.notify_waiters();
    }
    Ok(())
}

enum Effect {
    /// A job queued ([`enqueue_stmt_at`]'s statements).
    Job(Vec<Stmt>),
    State(Stmt),
}

/// What a webhook does, and the outcome recorded on its inbox row.
fn effect(hook: &Claimed) -> (Vec<Effect>, &'static str) {
    let Some(item_id) = hook.item_id.as_deref() else {
        return (Vec::new(), "no Item named");
    };
    let after = second_end_ms(hook.iat);
    let sync = || Effect::Job(sync_stmts(item_id, "webhook", hook.iat));
    // A check asks Plaid after the second the webhook was signed in, so its answer is newer.
    let check = || {
        let covered = Unless::StartedAfter(after);
        Effect::Job(enqueue_stmt_at(Kind::Check, item_id, "webhook", covered, after).1)
    };
    let body: serde_json::Value = serde_json::from_str(&hook.body).unwrap_or_default();
    match (hook.webhook_type.as_str(), hook.webhook_code.as_str()) {
        ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE") => (
            vec![sync()],
            "sync queued, unless one queued or started since",
        ),
        // Plaid sends these to every app, for /transactions/get; an app on /transactions/sync
        // needs only SYNC_UPDATES_AVAILABLE, which comes with them (Plaid: "it is not necessary
        // to listen for and respond to those webhooks"), and its link already queued the first
        // sync. Acting on both made two sync jobs for one day's data.
        (
            "TRANSACTIONS",
            "INITIAL_UPDATE" | "HISTORICAL_UPDATE" | "DEFAULT_UPDATE" | "TRANSACTIONS_REMOVED",
        ) => (
            Vec::new(),
            "not needed: this app syncs with /transactions/sync",
        ),
        // An Item Plaid can no longer reach: the bank wants a login (`ERROR`), or the user took
        // back the app's access at the bank or in Plaid's portal (`USER_PERMISSION_REVOKED`,
        // which only update mode or a new link undoes). Both carry the Item's error.
        ("ITEM", webhook_code @ ("ERROR" | "USER_PERMISSION_REVOKED")) => {
            let fallback = if webhook_code == "ERROR" {
                "UNKNOWN"
            } else {
                webhook_code
            };
            let code = body["error"]["error_code"]
                .as_str()
                .unwrap_or(fallback)
                .to_owned();
            (
                vec![
                    Effect::State(Stmt::new(
                        "UPDATE items SET error_code = $1, state_at = $2
                         WHERE id = $3 AND status = 'active' AND state_at <= $2",
                        params![code, hook.iat, item_id],
                    )),
                    check(),
                ],
                "error recorded unless a newer state was; check queued",
            )
        }
        ("ITEM", "LOGIN_REPAIRED") => (
            vec![
                Effect::State(Stmt::new(
                    "UPDATE items SET error_code = NULL, state_at = $1
                     WHERE id = $2 AND status = 'active' AND state_at <= $1",
                    params![hook.iat, item_id],
                )),
                sync(),
                check(),
            ],
            "error cleared unless a newer state was; sync and check queued",
        ),
        // When the Item stops working: its consent's end (`consent_expiration_time`), or the
        // disconnection Plaid has scheduled (`disconnect_time`). A webhook without its time
        // leaves the one recorded.
        ("ITEM", code @ ("PENDING_EXPIRATION" | "PENDING_DISCONNECT")) => {
            let field = if code == "PENDING_EXPIRATION" {
                "consent_expiration_time"
            } else {
                "disconnect_time"
            };
            let Some(at) = body[field].as_str().map(str::to_owned) else {
                return (Vec::new(), "no time given: nothing recorded");
            };
            (
                vec![Effect::State(Stmt::new(
                    "UPDATE items SET consent_expires_at = $1, consent_at = $2
                     WHERE id = $3 AND status = 'active' AND consent_at <= $2",
                    params![at, hook.iat, item_id],
                ))],
                "access end recorded unless a newer one was",
            )
        }
        _ => (Vec::new(), "not handled by this app"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::tests::{new_database, replica};

    fn transactions_hook(code: &str) -> Claimed {
        Claimed {
            key: "key".into(),
            owner: "owner".into(),
            item_id: Some("item-1".into()),
            webhook_type: "TRANSACTIONS".into(),
            webhook_code: code.into(),
            iat: 1_700_000_000,
            body: "{}".into(),
        }
    }

    /// Review round 19: `DEFAULT_UPDATE` queued a sync like `SYNC_UPDATES_AVAILABLE`, which
    /// Plaid sends with it, so one day of new data made two sync jobs once the sandbox sent
    /// both as Plaid does. An app on `/transactions/sync` acts on `SYNC_UPDATES_AVAILABLE`
    /// alone (Plaid: the older webhooks need no answer).
    #[test]
    fn only_sync_updates_available_queues_a_sync() {
        let (effects, _) = effect(&transactions_hook("SYNC_UPDATES_AVAILABLE"));
        assert_eq!(effects.len(), 1);
        for code in [
            "DEFAULT_UPDATE",
            "TRANSACTIONS_REMOVED",
            "INITIAL_UPDATE",
            "HISTORICAL_UPDATE",
        ] {
            let (effects, outcome) = effect(&transactions_hook(code));
            assert!(effects.is_empty(), "{code}: {outcome}");
        }
    }

    /// LOW (review round 15): an `ITEM` `ERROR` that arrived while its Item was still being
    /// kept (`linking`: the exchange done, `/item/get` and `/accounts/get` under way) was
    /// marked done, "error recorded", and changed nothing: the Item showed no error until the
    /// next webhook. It waits until the link ends, then applies.
    #[tokio::test]
    async fn an_item_webhook_waits_for_its_item_to_be_linked() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica(&sandbox, &new_database()).await.unwrap();
        // The claims below are this test's: the replica's own inbox worker stops first.
        app.workers_stopped(Duration::from_secs(5)).await;
        app.db
            .execute(
                "INSERT INTO items (id, user_id, access_token, status, created_at)
                 VALUES ('item-1', 'user-1', 'access-sandbox-x', 'linking', $1)",
                params![now_ms()],
            )
            .await
            .unwrap();
        let body = serde_json::json!({
            "webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": "item-1",
            "error": { "error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED" },
        })
        .to_string();
        let iat = now_ms() / 1000;
        let delivery = Delivery {
            key: "key-1".into(),
            item_id: Some("item-1".into()),
            webhook_type: "ITEM",
            webhook_code: "ERROR",
            iat,
            body: &body,
        };
        assert!(store(&app, delivery).await.unwrap());
        let owner = crate::jobs::claim_owner(&app);
        let hook = claim(&app, owner).await.unwrap().expect("the webhook");
        apply(&app, &hook).await.unwrap();
        let owner = crate::jobs::claim_owner(&app);
        assert!(
            claim(&app, owner).await.unwrap().is_none(),
            "it waits a moment, not claimed again at once"
        );

        // The link ends; the wait runs out.
        app.db
            .execute(
                "UPDATE items SET status = 'active' WHERE id = 'item-1'",
                params![],
            )
            .await
            .unwrap();
        app.db
            .execute("UPDATE webhook_inbox SET lease_until = 0", params![])
            .await
            .unwrap();
        let owner = crate::jobs::claim_owner(&app);
        let hook = claim(&app, owner)
            .await
            .unwrap()
            .expect("the webhook, once more");
        apply(&app, &hook).await.unwrap();
        let row = app
            .db
            .query_one(
                "SELECT i.error_code, w.state, w.attempts FROM items i, webhook_inbox w
                 WHERE i.id = 'item-1' AND w.key = 'key-1'",
                params![],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.opt_text(0).as_deref(), Some("ITEM_LOGIN_REQUIRED"));
        assert_eq!((row.text(1).as_str(), row.int(2)), ("done", 1));
    }
}
