//! When to retry a call, and how long to wait: a policy, and the decision as a pure function.
//!
//! A call is retried only when repeating it is safe:
//!
//! * reads (`…/get`, `…/list`, `…/sync`, …) on `429`, `5xx`, timeouts and network failures
//!   (not on a Plaid error that says no wait helps: `CREDITS_EXHAUSTED`, a `429`);
//!   but a read Plaid bills per answer (`/accounts/balance/get`, `/processor/balance/get`,
//!   `/asset_report/pdf/get`) only on a `429`, or a `500` or `503` carrying Plaid's error
//!   object, never after a timeout, a broken connection or any other `5xx` (a gateway's or a
//!   CDN's, or a `500`/`503` page a proxy wrote), when Plaid may have answered and billed;
//! * writes only when they carry an `idempotency_key` (sent unchanged on every attempt, so
//!   Plaid performs the write once), under the same rules as reads; but a write whose key
//!   Plaid honours only after a wait (`/wallet/transaction/execute` and
//!   `/payment_initiation/payment/reverse`, one minute:
//!   [`key_retry_delay`](crate::OperationInfo::key_retry_delay)) is never repeated once it
//!   may have reached Plaid;
//! * any call whose connection could not be made at all: the request never left the machine.
//!
//! The wait is exponential backoff with jitter, or the server's `Retry-After` when it sends one
//! (a `Retry-After` longer than [`RetryPolicy::max_retry_after`] ends the retries instead of
//! stalling the caller).
//!
//! Retries also spend a budget shared by every call of a client ([`RetryBudget`], on by
//! default), in the manner of the AWS SDKs' standard retry quota: during an outage, when every
//! call fails, the client stops multiplying the load on Plaid once the budget is spent, and
//! successes earn it back.

use std::time::Duration;

/// How many times, and how patiently, a call is retried.
///
/// ```
/// use plaid_sdk::RetryPolicy;
/// use std::time::Duration;
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .initial_backoff(Duration::from_millis(200));
/// assert_eq!(policy.attempts(), 5);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
///
/// A setter returns the changed policy and leaves its receiver alone (the type is `Copy`), so
/// a result thrown away is a mistake the compiler points out:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// let policy = plaid_sdk::RetryPolicy::default();
/// policy.max_attempts(5); // `policy` still makes 3 attempts
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a setter returns the changed policy; the one it was called on is unchanged"]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    budget: Option<RetryBudget>,
}

/// A budget for retries, shared by every call of one client (and its clones), after the AWS
/// SDKs' standard retry quota: a client holds `capacity` tokens; each retry spends
/// `retry_cost` (`timeout_cost` after a timeout); a call that succeeds returns
/// `success_refund`, and what its own retries spent. A retry the budget cannot pay for is not
/// made, and the call returns its last error. Tokens are taken when a retry is decided and
/// given back if the caller drops the call before that retry is sent (a timeout around it, a
/// `select!`), so only retries made drain the budget. So N callers hitting an outage cause at most
/// `capacity / retry_cost` retries between them, not N times the attempts, and retries come
/// back as calls succeed again.
///
/// ```
/// use plaid_sdk::{RetryBudget, RetryPolicy};
/// let tight = RetryPolicy::default().retry_budget(RetryBudget::default().capacity(100));
/// let unbounded = RetryPolicy::default().without_retry_budget();
/// # let _ = (tight, unbounded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a setter returns the changed budget; the one it was called on is unchanged"]
pub struct RetryBudget {
    capacity: u32,
    retry_cost: u32,
    timeout_cost: u32,
    success_refund: u32,
}

impl Default for RetryBudget {
    /// 500 tokens; a retry costs 5, a retry after a timeout 10; a success returns 1: the AWS
    /// SDKs' standard mode. 100 retries in a row, with no success between, spend it.
    fn default() -> Self {
        Self {
            capacity: 500,
            retry_cost: 5,
            timeout_cost: 10,
            success_refund: 1,
        }
    }
}

impl RetryBudget {
    /// The tokens a client holds, and starts with.
    pub fn capacity(mut self, tokens: u32) -> Self {
        self.capacity = tokens;
        self
    }

    /// What a retry costs.
    pub fn retry_cost(mut self, tokens: u32) -> Self {
        self.retry_cost = tokens;
        self
    }

    /// What a retry after a timeout costs.
    pub fn timeout_cost(mut self, tokens: u32) -> Self {
        self.timeout_cost = tokens;
        self
    }

    /// What a successful call returns to the budget, besides what its retries spent.
    pub fn success_refund(mut self, tokens: u32) -> Self {
        self.success_refund = tokens;
        self
    }
}

/// Tokens taken from the budget for a retry not yet sent: dropped, they go back.
#[derive(Debug)]
#[must_use = "dropped at once, the tokens go straight back: hold it through the wait, then call sent()"]
pub(crate) struct Reserved<'a> {
    pool: &'a BudgetPool,
    cost: u32,
}

impl Reserved<'_> {
    /// The retry is being sent: the tokens stay spent. Returns how many.
    pub(crate) fn sent(self) -> u32 {
        let cost = self.cost;
        std::mem::forget(self);
        cost
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        self.pool.give_back(self.cost);
    }
}

/// The tokens left in a client's [`RetryBudget`].
#[derive(Debug)]
pub(crate) struct BudgetPool {
    tokens: std::sync::atomic::AtomicU32,
    budget: RetryBudget,
}

impl BudgetPool {
    pub(crate) fn new(budget: RetryBudget) -> Self {
        Self {
            tokens: std::sync::atomic::AtomicU32::new(budget.capacity),
            budget,
        }
    }

    /// Takes the cost of one retry, if the budget holds it. The tokens come back if the
    /// [`Reserved`] is dropped before [`Reserved::sent`] (the caller gave up while waiting to
    /// retry), so only retries that are sent drain the budget.
    pub(crate) fn spend(&self, after_timeout: bool) -> Option<Reserved<'_>> {
        let cost = if after_timeout {
            self.budget.timeout_cost
        } else {
            self.budget.retry_cost
        };
        self.tokens
            .fetch_update(
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
                |left| left.checked_sub(cost),
            )
            .ok()
            .map(|_| Reserved { pool: self, cost })
    }

    /// Puts back tokens, never above the capacity: those of a retry that was never sent, those
    /// a sync's re-asks spent once the page they were for arrives, and a success's refund.
    pub(crate) fn give_back(&self, cost: u32) {
        let cap = self.budget.capacity;
        let _ = self.tokens.fetch_update(
            std::sync::atomic::Ordering::AcqRel,
            std::sync::atomic::Ordering::Acquire,
            |left| Some(left.saturating_add(cost).min(cap)),
        );
    }

    /// A call succeeded after its retries spent `spent`: returns that and the refund.
    pub(crate) fn refund(&self, spent: u32) {
        self.give_back(spent.saturating_add(self.budget.success_refund));
    }

    /// The tokens left.
    pub(crate) fn left(&self) -> u32 {
        self.tokens.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl Default for RetryPolicy {
    /// Three attempts in all, backoff from 500 ms doubling up to 8 s, `Retry-After` honoured up
    /// to 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            budget: Some(RetryBudget::default()),
        }
    }
}

impl RetryPolicy {
    /// No retries: every call is attempted once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; it doubles on each further retry.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between two attempts, without `Retry-After`.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the retries and the
    /// error is returned (see [`Error::retry_after`](crate::Error::retry_after)).
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// The wait before the first retry.
    pub(crate) fn first_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The longest `Retry-After` honoured.
    pub(crate) fn longest_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Attempts in all, the first included.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The client's shared retry budget (default: [`RetryBudget::default`]). It is a property
    /// of the client: set on the client's policy, it sizes the one pool every call draws from;
    /// a per-call policy only decides whether that call draws from it.
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// No shared budget: every call retries up to its attempts, whatever the others do.
    pub fn without_retry_budget(mut self) -> Self {
        self.budget = None;
        self
    }

    /// The retry budget, if any.
    pub fn budget(&self) -> Option<RetryBudget> {
        self.budget
    }
}

/// What happened on one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response arrived with this status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// The body was Plaid's error object (not a proxy's page).
        plaid: bool,
    },
    /// No connection could be made: the request was not sent.
    ConnectFailed,
    /// The call timed out, or the connection broke after the request was sent.
    Interrupted,
    /// Anything else (a decode error, an invalid request): retrying cannot help.
    Final,
}

/// The decision after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again after this wait.
    Retry(Duration),
    /// Return the result as it is.
    Stop,
}

/// When a call may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Whatever happened: a read, or a write with an idempotency key.
    Always,
    /// After Plaid refused or failed it (`429`; `500` or `503` with Plaid's error object), or it
    /// was never sent; not after a timeout, a broken connection or any other `5xx` (a gateway's
    /// `502`/`504`, a CDN's `520`-`524`, a proxy's own `500`/`503` page: a proxy that gave up on
    /// an answer Plaid may have sent): a read Plaid bills per answer
    /// ([`OperationKind::BilledRead`](crate::OperationKind::BilledRead)).
    AfterRefusal,
    /// Only when it was never sent: a write without a key.
    Never,
}

/// Decides whether to retry after attempt number `attempt` (1 for the first) ended with
/// `outcome`. `repeat` says when the operation may be sent twice. `jitter` is a random number
/// in `[0, 1)`.
pub(crate) fn decide(
    policy: &RetryPolicy,
    attempt: u32,
    repeat: Repeat,
    outcome: Outcome,
    jitter: f64,
) -> Decision {
    if attempt >= policy.max_attempts {
        return Decision::Stop;
    }
    let retry_after = match outcome {
        Outcome::ConnectFailed => None,
        Outcome::Interrupted if repeat == Repeat::Always => None,
        Outcome::Status {
            status,
            retry_after,
            plaid,
        } if repeat != Repeat::Never
            && match repeat {
                // Plaid's own refusals only: any other 5xx may be a proxy's that gave up on
                // an answer (`502`, `504`, a CDN's `520`-`524`, `599`), and a `500` or `503`
                // that is not Plaid's error object a proxy's too (Envoy answers `503` when
                // the upstream reset after the request went on). A `429` is a refusal
                // whoever sends it.
                Repeat::AfterRefusal => status == 429 || (plaid && matches!(status, 500 | 503)),
                _ => crate::error::is_retryable_status(status),
            } =>
        {
            retry_after
        }
        _ => return Decision::Stop,
    };
    match retry_after {
        Some(wait) if wait > policy.max_retry_after => Decision::Stop,
        Some(wait) => Decision::Retry(wait),
        None => Decision::Retry(backoff(
            policy.initial_backoff,
            policy.max_backoff,
            attempt,
            jitter,
        )),
    }
}

/// "Equal jitter": half the exponential step, plus a random part of the other half, so waits
/// spread out but never collapse to zero. `attempt` counts from 1; `jitter` is in `[0, 1)`.
/// Shared by retries and by [`until_ready`](crate::PlaidClient::until_ready)'s polling.
pub(crate) fn backoff(initial: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let exp = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let step = exp.min(max);
    let half = step / 2;
    half.saturating_add(half.mul_f64(jitter.clamp(0.0, 1.0)))
}

/// Parses a `Retry-After` value: delay-seconds, or an HTTP date in any of the three forms RFC
/// 9110 §5.6.7 has recipients accept (IMF-fixdate, RFC 850, asctime; a date in the past means
/// now).
pub(crate) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let date = match chrono::DateTime::parse_from_rfc2822(value) {
        Ok(date) => date.with_timezone(&chrono::Utc),
        Err(_) => ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
            .iter()
            .find_map(|form| chrono::NaiveDateTime::parse_from_str(value, form).ok())?
            .and_utc(),
    };
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// 64 random bits, from the standard library's per-process random hasher keys, a counter and
/// the clock (no RNG dependency needed for jitter and idempotency keys, which must differ, not
/// be secret). Two calls never hash the same input, even within one clock tick.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

/// A random number in `[0, 1)` for jitter.
pub(crate) fn jitter() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            retry_after: None,
            plaid: true,
        }
    }

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(1000),
        max_retry_after: Duration::from_secs(30),
        budget: None,
    };

    #[test]
    fn reads_retry_on_429_5xx_timeouts_and_network_failures() {
        for outcome in [
            status(429),
            status(500),
            status(502),
            status(503),
            status(504),
            Outcome::Interrupted,
            Outcome::ConnectFailed,
        ] {
            assert!(
                matches!(
                    decide(&P, 1, Repeat::Always, outcome, 0.5),
                    Decision::Retry(_)
                ),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn client_errors_and_final_outcomes_stop() {
        for outcome in [
            status(400),
            status(401),
            status(404),
            status(200),
            Outcome::Final,
        ] {
            assert_eq!(
                decide(&P, 1, Repeat::Always, outcome, 0.5),
                Decision::Stop,
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn unrepeatable_writes_retry_only_when_nothing_was_sent() {
        assert_eq!(
            decide(&P, 1, Repeat::Never, status(500), 0.5),
            Decision::Stop
        );
        assert_eq!(
            decide(&P, 1, Repeat::Never, status(429), 0.5),
            Decision::Stop
        );
        assert_eq!(
            decide(&P, 1, Repeat::Never, Outcome::Interrupted, 0.5),
            Decision::Stop
        );
        assert!(matches!(
            decide(&P, 1, Repeat::Never, Outcome::ConnectFailed, 0.5),
            Decision::Retry(_)
        ));
    }

    #[test]
    fn billed_reads_retry_when_plaid_refused_them_not_after_a_timeout() {
        for outcome in [
            status(429),
            status(500),
            status(503),
            Outcome::ConnectFailed,
        ] {
            assert!(
                matches!(
                    decide(&P, 1, Repeat::AfterRefusal, outcome, 0.5),
                    Decision::Retry(_)
                ),
                "{outcome:?}"
            );
        }
        // Round 13: any other 5xx may be a proxy's or CDN's own (`520` unknown, `524` a
        // timeout, `599` a network read timeout), as 502 and 504 are; round 22: so may a 500 or
        // 503 that is not Plaid's error object.
        let page = |status| Outcome::Status {
            status,
            retry_after: None,
            plaid: false,
        };
        for outcome in [
            page(500),
            page(503),
            Outcome::Interrupted,
            status(501),
            status(502),
            status(504),
            status(520),
            status(524),
            status(599),
        ] {
            assert_eq!(
                decide(&P, 1, Repeat::AfterRefusal, outcome, 0.5),
                Decision::Stop,
                "{outcome:?}: Plaid may have answered, and billed"
            );
        }
    }

    #[test]
    fn stops_after_max_attempts() {
        assert!(matches!(
            decide(&P, 3, Repeat::Always, status(500), 0.5),
            Decision::Retry(_)
        ));
        assert_eq!(
            decide(&P, 4, Repeat::Always, status(500), 0.5),
            Decision::Stop
        );
        assert_eq!(
            decide(&RetryPolicy::none(), 1, Repeat::Always, status(500), 0.5),
            Decision::Stop
        );
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_and_is_capped() {
        let wait = |attempt, j| match decide(&P, attempt, Repeat::Always, status(503), j) {
            Decision::Retry(d) => d,
            Decision::Stop => panic!("stopped"),
        };
        assert_eq!(wait(1, 0.0), Duration::from_millis(50));
        assert!(
            wait(1, 0.999_999) > Duration::from_millis(99)
                && wait(1, 0.999_999) < Duration::from_millis(100)
        );
        assert_eq!(wait(2, 0.0), Duration::from_millis(100));
        assert_eq!(wait(3, 1.0), Duration::from_millis(400));
        let capped = RetryPolicy {
            max_attempts: 40,
            ..P
        };
        assert_eq!(
            decide(&capped, 30, Repeat::Always, status(503), 1.0),
            Decision::Retry(Duration::from_millis(1000))
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_limit() {
        let with = |secs| Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(secs)),
            plaid: true,
        };
        assert_eq!(
            decide(&P, 1, Repeat::Always, with(7), 0.5),
            Decision::Retry(Duration::from_secs(7))
        );
        assert_eq!(
            decide(&P, 1, Repeat::Always, with(0), 0.5),
            Decision::Retry(Duration::ZERO)
        );
        assert_eq!(decide(&P, 1, Repeat::Always, with(31), 0.5), Decision::Stop);
        assert_eq!(
            decide(&P, 1, Repeat::Never, with(1), 0.5),
            Decision::Stop,
            "writes still need a key"
        );
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        // The two obsolete HTTP-date forms a recipient must accept too (RFC 9110 §5.6.7).
        assert_eq!(
            parse_retry_after("Saturday, 21-Nov-26 12:00:30 GMT", now),
            Some(Duration::from_secs(30)),
            "RFC 850"
        );
        assert_eq!(
            parse_retry_after("Sat Nov 21 12:00:30 2026", now),
            Some(Duration::from_secs(30)),
            "asctime"
        );
        assert_eq!(
            parse_retry_after("Sun Nov  1 12:00:00 2026", now),
            Some(Duration::ZERO),
            "asctime, a one-digit day"
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn the_budget_is_spent_by_retries_and_earned_back_by_successes() {
        let pool = BudgetPool::new(RetryBudget::default().capacity(20));
        let sent = |r: Option<Reserved<'_>>| r.map(Reserved::sent);
        assert_eq!(sent(pool.spend(false)), Some(5));
        assert_eq!(sent(pool.spend(true)), Some(10));
        assert_eq!(pool.left(), 5);
        assert_eq!(sent(pool.spend(true)), None, "a timeout retry costs 10");
        {
            let _unsent = pool.spend(false);
            assert_eq!(pool.left(), 0);
        }
        assert_eq!(pool.left(), 5, "a retry never sent costs nothing");
        assert_eq!(sent(pool.spend(false)), Some(5));
        assert_eq!(sent(pool.spend(false)), None, "spent");
        pool.refund(0);
        assert_eq!(pool.left(), 1, "a success returns 1");
        pool.refund(15);
        assert_eq!(pool.left(), 17, "and what its retries spent");
        pool.refund(100);
        assert_eq!(pool.left(), 20, "never more than the capacity");
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let values: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.windows(2).any(|w| w[0] != w[1]));
    }
}
