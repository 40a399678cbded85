//! Classifies operations by their path: is a call safe to repeat, and is it one of the slow
//! endpoints that need a longer default timeout. Pure functions, unit-tested.
//!
//! Plaid sends every call as `POST`, so the HTTP method says nothing about safety. The path does:
//! Plaid names reads `…/get`, `…/list`, `…/search`, `…/sync` (`/institutions/get_by_id`,
//! `/transfer/event/sync`), and everything else (`…/create`, `…/remove`, `…/exchange`,
//! `…/refresh`, `…/fire_webhook`, `/identity/match`, `/signal/evaluate`) changes state or is
//! billed per call, so it is never repeated unless the request carries an idempotency key.
//! Reads Plaid bills per answer ([`BILLED_READS`]) are repeated only when Plaid refused or
//! failed them, never after a timeout, when an answer may have been billed already.

/// Whether repeating an operation is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads state; repeating it changes nothing.
    Read,
    /// Reads state, but each answer is billed: repeat after a refusal, not after a timeout.
    BilledRead,
    /// Changes state (or is billed per call); repeat only with an idempotency key.
    Write,
}

/// Reads that Plaid bills per successful answer, from Plaid's billing docs: Balance's
/// `/accounts/balance/get` is a per-request product (plaid.com/docs/account/billing/, which
/// sets it apart from the free `/accounts/get`), as is its processor twin
/// `/processor/balance/get` (the spec describes both as the same real-time refresh), and each
/// `/asset_report/pdf/get` is a billing event ("How is Plaid Assets billed?", Plaid support).
/// `tests/retries.rs` checks that each is still an operation of the spec.
pub const BILLED_READS: &[&str] = &[
    "/accounts/balance/get",
    "/processor/balance/get",
    "/asset_report/pdf/get",
];

/// The last path segment names the action: `/accounts/balance/get` -> `get`.
fn action(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// Classifies an operation by its HTTP method and path. `GET` is always a read; for `POST`,
/// the path's action decides.
pub fn kind(method: &str, path: &str) -> Kind {
    if method == "GET" {
        return Kind::Read;
    }
    let action = action(path);
    let read = matches!(action, "get" | "list" | "search" | "sync")
        || action.starts_with("get_")
        || action.ends_with("_get")
        || action.ends_with("_list");
    if read && BILLED_READS.contains(&path) {
        Kind::BilledRead
    } else if read && !path.starts_with("/sandbox/") {
        Kind::Read
    } else {
        Kind::Write
    }
}

/// Whether an operation gets the client's longer timeout: every one whose description warns
/// of its latency (`documented`: [`crate::spec::documents_latency`]), and those slow by
/// their nature whatever their description says: balance checks and refreshes go to the
/// institution and can take 30 s or more (`/processor/balance/get` is `/accounts/balance/get`
/// for a partner, whose description leaves the warning out); `/investments/transactions/get`
/// takes one to two minutes right after Link (an older spec does not say so of each).
pub fn is_slow(path: &str, documented: bool) -> bool {
    documented
        || matches!(
            path,
            "/accounts/balance/get" | "/processor/balance/get" | "/investments/transactions/get"
        )
        || action(path) == "refresh"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_named_by_their_action() {
        for path in [
            "/accounts/get",
            "/transactions/sync",
            "/processor/transactions/sync",
            "/transfer/event/sync",
            "/transfer/list",
            "/institutions/search",
            "/institutions/get_by_id",
            "/asset_report/get",
            "/webhook_verification_key/get",
        ] {
            assert_eq!(kind("POST", path), Kind::Read, "{path}");
        }
    }

    #[test]
    fn everything_else_is_a_write() {
        for path in [
            "/link/token/create",
            "/item/public_token/exchange",
            "/item/remove",
            "/transactions/refresh",
            "/transfer/create",
            "/identity/match",
            "/signal/evaluate",
            "/item/webhook/update",
            "/sandbox/item/fire_webhook",
            "/forget",
            "/getaway/create",
        ] {
            assert_eq!(kind("POST", path), Kind::Write, "{path}");
        }
    }

    #[test]
    fn reads_billed_per_answer_are_their_own_kind() {
        for path in BILLED_READS {
            assert_eq!(kind("POST", path), Kind::BilledRead, "{path}");
        }
    }

    #[test]
    fn sandbox_helpers_are_never_reads_even_when_named_get() {
        assert_eq!(kind("POST", "/sandbox/transfer/get"), Kind::Write);
        assert_eq!(kind("GET", "/fdx/consents/{consentId}"), Kind::Read);
    }

    #[test]
    fn slow_endpoints() {
        assert!(is_slow("/accounts/balance/get", false));
        assert!(is_slow("/investments/transactions/get", false));
        assert!(is_slow("/transactions/refresh", false));
        assert!(is_slow("/investments/refresh", false));
        assert!(is_slow("/processor/balance/get", false));
        assert!(!is_slow("/accounts/get", false));
        assert!(!is_slow("/transactions/sync", false));
        assert!(!is_slow("/refresh/token/create", false));
        assert!(is_slow("/signal/evaluate", true), "its description warns");
    }
}
