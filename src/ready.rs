//! Waiting until Plaid has the data: a call that answers "not ready yet" polled with backoff.
//!
//! Several products answer `PRODUCT_NOT_READY` until Plaid has fetched the data:
//! `/transactions/get` and `/investments/transactions/get` (and their processor variants) right
//! after an Item is linked, `/asset_report/get` and `/asset_report/pdf/get` until the report is
//! built, the income and Consumer Report reports likewise. Others answer with data that says it
//! is not ready (`/transactions/sync` with an empty cursor and `NOT_READY`).
//!
//! Prefer the webhook when you can: Plaid sends `TRANSACTIONS` `SYNC_UPDATES_AVAILABLE` (or
//! `INITIAL_UPDATE`/`HISTORICAL_UPDATE`), `ASSETS` `PRODUCT_READY`, `INCOME`
//! `INCOME_VERIFICATION` and the Consumer Report `CHECK_REPORT` `CHECK_REPORT_READY` when the
//! data is there, and a server that waits for them makes no call in vain. Polling is for the
//! places a webhook cannot reach: a script, a test, a job that must finish in one go.
//!
//! ```no_run
//! # async fn run(client: plaid_sdk::PlaidClient, token: plaid_sdk::AccessToken) -> Result<(), plaid_sdk::Error> {
//! use plaid_sdk::types::TransactionsGetRequest;
//! use std::time::Duration;
//! let today = chrono::Utc::now().date_naive();
//! let request = TransactionsGetRequest::new(token, today - chrono::Days::new(30), today);
//! // Polls while Plaid answers PRODUCT_NOT_READY: about 1 s, 2 s, 4 s … up to 30 s apart
//! // (jittered), for at most 5 minutes; any other error ends it at once.
//! let page = client.until_ready(&request).deadline(Duration::from_secs(300)).await?;
//! println!("{} transactions", page.total_transactions);
//! # Ok(()) }
//! ```

use crate::{retry, Error, ErrorCode, Operation, PlaidClient};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

type Ready<'a, R> = Box<dyn Fn(&R) -> bool + Send + Sync + 'a>;

/// A call repeated until Plaid has the data (see the [module docs](self)). Made by
/// [`PlaidClient::until_ready`]; `.await` it.
#[must_use = "nothing is sent until it is awaited"]
pub struct UntilReady<'a, O: Operation> {
    client: &'a PlaidClient,
    request: &'a O,
    deadline: Duration,
    initial: Duration,
    max: Duration,
    ready: Option<Ready<'a, O::Response>>,
}

impl<O: Operation> std::fmt::Debug for UntilReady<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UntilReady")
            .field("operation", &O::INFO.name)
            .field("deadline", &self.deadline)
            .field("initial", &self.initial)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<'a, O: Operation> UntilReady<'a, O> {
    /// The longest the whole wait may take, from the first call (default 5 minutes): calls,
    /// their retries and the waits between them included. Each call gets only the time left
    /// (as its timeout, and for its retries); when that runs out, or the next wait would pass
    /// the deadline, [`Error::NotReady`] is returned if Plaid said "not ready" at least once,
    /// and [`Error::Timeout`] (with the time the call had) if no call was answered at all.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The first wait, doubled after each answer that is not ready, up to `max` (default 1 s
    /// and 30 s). Each wait is jittered as the client's retries are: between half of it and
    /// all of it, so that many pollers started together spread out. A first wait of zero is
    /// taken as 1 ms: polling without a pause would only spend Plaid's rate limit.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        self.initial = initial;
        self.max = max.max(initial);
        self
    }

    /// Also counts a successful answer as not ready unless `ready` says it is: for operations
    /// that answer with data saying so (`/transactions/sync` with an empty `next_cursor`).
    pub fn ready_when(mut self, ready: impl Fn(&O::Response) -> bool + Send + Sync + 'a) -> Self {
        self.ready = Some(Box::new(ready));
        self
    }
}

/// Whether Plaid said the data is not ready yet.
fn not_ready(e: &Error) -> bool {
    e.error_code() == Some(&ErrorCode::ProductNotReady)
}

impl<'a, O> IntoFuture for UntilReady<'a, O>
where
    O: Operation,
    O::Response: Send,
{
    type Output = Result<O::Response, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let started = Instant::now();
            let mut polls = 0u32;
            // Whether Plaid has said "not ready" yet: a deadline that cuts the first call short
            // (a server that hangs, an outage retried) is a timeout, not Plaid's answer.
            let mut said_not_ready = false;
            let cut_short = |polls, said_not_ready, timeout| {
                if said_not_ready {
                    Error::NotReady {
                        operation: O::INFO.name,
                        waited: started.elapsed(),
                        polls,
                    }
                } else {
                    Error::Timeout {
                        operation: O::INFO.name,
                        timeout,
                    }
                }
            };
            loop {
                polls += 1;
                // The call gets the time left: as its timeout, and for its retries.
                let left = self.deadline.saturating_sub(started.elapsed());
                let timeout = self.client.timeout_for(O::INFO).min(left);
                let client = self.client.with_timeout(timeout);
                let answer = match tokio::time::timeout(left, client.send(self.request)).await {
                    Ok(answer) => answer,
                    Err(_) => return Err(cut_short(polls, said_not_ready, left)),
                };
                match answer {
                    Ok(response) => {
                        if self.ready.as_ref().is_none_or(|ready| ready(&response)) {
                            return Ok(response);
                        }
                    }
                    Err(e) if not_ready(&e) => {}
                    // The deadline cut the call short: the wait is over.
                    Err(Error::Timeout { .. }) if timeout >= left => {
                        return Err(cut_short(polls, said_not_ready, left))
                    }
                    Err(e) => return Err(e),
                }
                said_not_ready = true;
                let wait = retry::backoff(self.initial, self.max, polls, retry::jitter());
                let waited = started.elapsed();
                if waited.saturating_add(wait) > self.deadline {
                    return Err(Error::NotReady {
                        operation: O::INFO.name,
                        waited,
                        polls,
                    });
                }
                tracing::debug!(
                    operation = O::INFO.name,
                    polls,
                    wait_ms = wait.as_millis() as u64,
                    "not ready yet"
                );
                tokio::time::sleep(wait).await;
            }
        })
    }
}

impl PlaidClient {
    /// Sends `request` until Plaid has the data: while it answers `PRODUCT_NOT_READY` (or, with
    /// [`ready_when`](UntilReady::ready_when), data that says it is not ready), the call is
    /// repeated with backoff until the deadline ([`Error::NotReady`], or [`Error::Timeout`] if
    /// no call was answered by then); any other error ends it at once. Each call still gets
    /// the client's retries for transient failures. Prefer the
    /// product's webhook where you can (see [`ready`](crate::ready)).
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient, request: plaid_sdk::types::AssetReportGetRequest) -> Result<(), plaid_sdk::Error> {
    /// let report = client.until_ready(&request).await?;
    /// # Ok(()) }
    /// ```
    pub fn until_ready<'a, O: Operation>(&'a self, request: &'a O) -> UntilReady<'a, O> {
        UntilReady {
            client: self,
            request,
            deadline: Duration::from_secs(300),
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            ready: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review round 11: a zero first wait polled Plaid without a pause until the deadline
    /// (`retry::backoff` of zero is zero). Before the fix `initial` stayed zero.
    #[test]
    fn a_zero_first_wait_is_taken_as_a_millisecond() {
        let client = PlaidClient::builder()
            .client_id("id")
            .secret("s")
            .base_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let request = crate::types::AssetReportGetRequest::new();
        let wait = client
            .until_ready(&request)
            .backoff(Duration::ZERO, Duration::ZERO);
        assert_eq!(
            (wait.initial, wait.max),
            (Duration::from_millis(1), Duration::from_millis(1))
        );
        let first = crate::retry::backoff(wait.initial, wait.max, 1, 0.0);
        assert!(first > Duration::ZERO, "{first:?}");
    }
}
