//! `/transactions/sync` done right: the whole loop, restarted when Plaid says so, nothing lost
//! and nothing doubled.
//!
//! Plaid's sync is a loop: start from the cursor you stored (or none, for the full history),
//! call until `has_more` is false, apply every page, and store the last `next_cursor` with the
//! changes it covers. If a page fails mid-loop with
//! `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`, the pages already taken are no longer valid:
//! the loop must start again from its *first* cursor. Every other Plaid SDK leaves that to you.
//!
//! One departure from Plaid's advice, on purpose: Plaid says any failed page restarts the
//! whole loop. Here a page that fails transiently (a rate limit, a `5xx`, a timeout) is asked
//! for again with its own cursor, after a jittered backoff paid from the client's retry
//! budget, keeping the pages taken; only `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION` starts
//! over. Restarting on every `429` meant a loop longer than Plaid's per-minute limit could
//! never finish; and if the data changed meanwhile, Plaid answers the page with that mutation
//! error, which restarts. These asks are the driver's, apart from the client's own retries of
//! each call: [`TransactionsSync::max_retries`] sets them (`0` for none), and a client made
//! [`without_retries`](crate::PlaidClient::without_retries) still makes them.
//!
//! ```no_run
//! use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
//! # async fn run(client: plaid_sdk::PlaidClient, token: plaid_sdk::AccessToken, stored: Option<String>) -> Result<(), plaid_sdk::Error> {
//! let sync = TransactionsSync::new(token).cursor(stored);
//! match client.transactions_sync_all(&sync).await? {
//!     SyncOutcome::Updated(batch) => {
//!         // In one database transaction: apply the changes, then store the cursor.
//!         println!("+{} ~{} -{}", batch.added.len(), batch.modified.len(), batch.removed.len());
//!         let _cursor_to_store = batch.next_cursor;
//!     }
//!     SyncOutcome::NotReady(_) => println!("not ready yet: wait for SYNC_UPDATES_AVAILABLE"),
//! }
//! # Ok(()) }
//! ```
//!
//! For histories too large to hold at once, [`PlaidClient::transactions_sync_stream`] yields
//! the pages as they arrive; each is provisional until the stream says the loop completed.

use crate::error::{ApiError, ErrorCode};
use crate::open_enum::open_enum;
use crate::operation::{Operation, OperationInfo, OperationKind, RawResponse};
use crate::pagination::TextField;
use crate::types::{AccountBase, RemovedTransaction, Transaction};
use crate::{AccessToken, Error, PlaidClient, ProcessorToken};
use futures_util::stream::{self, Stream, StreamExt};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Plaid's largest page.
pub const MAX_COUNT: u32 = 500;

static TRANSACTIONS_SYNC: OperationInfo = OperationInfo::new(
    "transactions_sync",
    "/transactions/sync",
    OperationKind::Read,
);

static PROCESSOR_TRANSACTIONS_SYNC: OperationInfo = OperationInfo {
    name: "processor_transactions_sync",
    path: "/processor/transactions/sync",
    ..TRANSACTIONS_SYNC
};

/// Whose transactions to sync.
#[derive(Clone, Debug)]
enum Source {
    Item(AccessToken),
    Processor(ProcessorToken),
}

/// One sync of an Item's transactions (or a processor token's): where to start and how.
///
/// ```
/// use plaid_sdk::sync::TransactionsSync;
/// use plaid_sdk::AccessToken;
/// let sync = TransactionsSync::new(AccessToken::new("access-sandbox-…"))
///     .cursor(Some("stored-cursor".to_owned()))
///     .account_id("BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp");
/// ```
#[derive(Clone, Debug)]
pub struct TransactionsSync {
    source: Source,
    cursor: Option<String>,
    count: u32,
    account_id: Option<String>,
    options: Map<String, Value>,
    /// An [`option`](Self::option) whose value could not be made JSON: the sync fails with
    /// it before sending.
    unserializable: Option<String>,
    max_restarts: u32,
    max_retries: u32,
    max_pages: u32,
    restart_backoff: Option<Duration>,
}

impl TransactionsSync {
    /// Syncs the Item behind `access_token`, from the start of its history until a cursor is
    /// set.
    pub fn new(access_token: impl Into<AccessToken>) -> Self {
        Self::with_source(Source::Item(access_token.into()))
    }

    /// Syncs through `/processor/transactions/sync`, for a Plaid partner holding a processor
    /// token.
    pub fn processor(processor_token: impl Into<ProcessorToken>) -> Self {
        Self::with_source(Source::Processor(processor_token.into()))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            cursor: None,
            count: MAX_COUNT,
            account_id: None,
            options: Map::new(),
            unserializable: None,
            max_restarts: 8,
            max_retries: 8,
            max_pages: 10_000,
            restart_backoff: None,
        }
    }

    /// The cursor stored after the last completed sync; `None` (or empty) syncs the whole
    /// history.
    pub fn cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor.filter(|c| !c.is_empty());
        self
    }

    /// Transactions per page, 1 to 500 (default 500: fewest calls).
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Syncs one account only (`options.account_id`). Its cursor is separate from the
    /// Item-wide one: store them apart.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Sets another field of the request's `options` by name (`include_original_description`,
    /// `days_requested`, `include_personal_finance_category`, …). A value that cannot be made
    /// JSON (a map whose keys are not strings) fails the sync before anything is sent
    /// ([`Error::InvalidRequest`], naming the option).
    pub fn option(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        match serde_json::to_value(value) {
            Ok(value) => {
                self.options.insert(name, value);
            }
            Err(e) => {
                self.options.remove(&name);
                self.unserializable
                    .get_or_insert_with(|| format!("options.{name}: {e}"));
            }
        }
        self
    }

    /// How many times a loop may start over from its first cursor, after
    /// `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`, before the sync gives up (default 8).
    pub fn max_restarts(mut self, restarts: u32) -> Self {
        self.max_restarts = restarts;
        self
    }

    /// How many times in a row one page may fail with a transient error (a `429`, a `5xx`, a
    /// timeout), once the client's own retries are spent, and be asked for again with the same
    /// cursor before the sync ends with that error (default 8). The pages already taken stay:
    /// a rate limit (Plaid allows `/transactions/sync` 50 calls a minute per Item) slows a long
    /// loop down but never makes it start over. Each ask is paid from the client's
    /// [`RetryBudget`](crate::RetryBudget), as its own retries are: once the budget is spent,
    /// the sync ends with the error instead of asking again.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// How many pages one loop may take before the sync gives up (default 10,000): a guard
    /// against a server that never says `has_more: false`.
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The wait before asking again for a page that failed with a transient error: by default
    /// twice the client's
    /// [`RetryPolicy::initial_backoff`](crate::RetryPolicy::initial_backoff), 1 s with the
    /// default policy. It doubles with each failure in a row, at most five times (to 32 times
    /// the first wait), and is never more than 30 s, whatever is set here; an error's
    /// `Retry-After`, when longer, is waited instead (up to the client's
    /// [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after)). A restart after
    /// `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION` does not wait.
    pub fn restart_backoff(mut self, backoff: Duration) -> Self {
        self.restart_backoff = Some(backoff);
        self
    }

    fn info(&self) -> &'static OperationInfo {
        match self.source {
            Source::Item(_) => &TRANSACTIONS_SYNC,
            Source::Processor(_) => &PROCESSOR_TRANSACTIONS_SYNC,
        }
    }

    fn check(&self) -> Result<(), Error> {
        let invalid = |message: &str| Error::InvalidRequest {
            operation: self.info().name,
            message: message.to_owned(),
        };
        if !(1..=MAX_COUNT).contains(&self.count) {
            return Err(invalid(&format!(
                "count must be 1 to {MAX_COUNT}, not {}",
                self.count
            )));
        }
        let empty = match &self.source {
            Source::Item(t) => t.is_empty(),
            Source::Processor(t) => t.is_empty(),
        };
        if empty {
            return Err(invalid("the token is empty"));
        }
        if self
            .account_id
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(invalid("account_id is empty"));
        }
        Ok(())
    }
}

open_enum! {
    /// How far Plaid has got with an Item's transactions (`transactions_update_status`).
    pub enum UpdateStatus {
        /// Plaid cannot tell.
        Unknown = "TRANSACTIONS_UPDATE_STATUS_UNKNOWN",
        /// Nothing to fetch yet: a new Item.
        NotReady = "NOT_READY",
        /// The last 30 days are ready; older history is coming.
        InitialUpdateComplete = "INITIAL_UPDATE_COMPLETE",
        /// The whole history is ready.
        HistoricalUpdateComplete = "HISTORICAL_UPDATE_COMPLETE",
    }
}

/// The result of a completed sync: a closed set, so a `match` needs no wildcard.
#[derive(Clone, Debug)]
pub enum SyncOutcome {
    /// The loop completed: apply the changes, and store `next_cursor` together with them.
    Updated(SyncBatch),
    /// Plaid has no transactions for this Item yet (a new Item): nothing to apply and no cursor
    /// to store. Sync again when `SYNC_UPDATES_AVAILABLE` arrives.
    NotReady(NotReady),
}

/// The ids of removed transactions. `RemovedTransaction::transaction_id` is optional in older
/// specs and required in newer ones; this reads it either way, so code built on it compiles
/// against both.
fn removed_ids(removed: &[RemovedTransaction]) -> Vec<String> {
    removed
        .iter()
        .filter_map(|r| TextField::get(&r.transaction_id))
        .collect()
}

impl SyncBatch {
    /// The ids of the transactions to delete (see [`removed`](Self::removed)).
    ///
    /// ```no_run
    /// # fn apply(batch: plaid_sdk::sync::SyncBatch, store: &mut std::collections::HashMap<String, f64>) {
    /// for id in batch.removed_ids() {
    ///     store.remove(&id);
    /// }
    /// # }
    /// ```
    pub fn removed_ids(&self) -> Vec<String> {
        removed_ids(&self.removed)
    }
}

impl ProvisionalPage {
    /// The ids of the transactions this page removes (see [`removed`](Self::removed)).
    pub fn removed_ids(&self) -> Vec<String> {
        removed_ids(&self.removed)
    }
}

impl SyncOutcome {
    /// The batch, if the loop produced one.
    pub fn into_batch(self) -> Option<SyncBatch> {
        match self {
            SyncOutcome::Updated(batch) => Some(batch),
            SyncOutcome::NotReady(_) => None,
        }
    }
}

/// Every change since the starting cursor, each transaction once: a transaction added and then
/// modified in a later page is in `added` with its last version; one added or modified and
/// then removed is only in `removed`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncBatch {
    /// Transactions new since the starting cursor.
    pub added: Vec<Transaction>,
    /// Transactions you already had, changed.
    pub modified: Vec<Transaction>,
    /// Transactions to delete.
    pub removed: Vec<RemovedTransaction>,
    /// The Item's accounts, from the last page (newer specs send them).
    pub accounts: Vec<AccountBase>,
    /// The cursor to store, with these changes, for the next sync.
    pub next_cursor: String,
    /// Plaid's `transactions_update_status`, when it sends one.
    pub update_status: Option<UpdateStatus>,
    /// Pages taken in the loop that completed.
    pub pages: u32,
    /// How many times the loop started over.
    pub restarts: u32,
    /// How many times a page that failed with a transient error was asked for again.
    pub retries: u32,
}

/// A sync that found nothing ready yet.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NotReady {
    /// Plaid's `transactions_update_status`, when it sends one.
    pub update_status: Option<UpdateStatus>,
    /// How many times the loop started over.
    pub restarts: u32,
}

/// What [`PlaidClient::transactions_sync_stream`] yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncEvent {
    /// One page of changes, **provisional**: keep it (say, in an open database transaction)
    /// until `Completed`, and drop it on `Restarted`. It carries no cursor, so it cannot be
    /// stored as progress by mistake.
    Page(ProvisionalPage),
    /// The loop started over from its first cursor: discard every page received so far.
    Restarted {
        /// Restarts so far.
        restarts: u32,
        /// What made the loop start over.
        cause: Box<Error>,
    },
    /// The loop completed: the pages since the last `Restarted` are final, and this cursor
    /// covers exactly them. The stream ends after it.
    Completed(SyncCommit),
    /// Nothing is ready yet (see [`SyncOutcome::NotReady`]). The stream ends after it.
    NotReady(NotReady),
}

/// A provisional page of changes (see [`SyncEvent::Page`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProvisionalPage {
    /// Its number in the current loop, from 1.
    pub page: u32,
    /// Transactions added.
    pub added: Vec<Transaction>,
    /// Transactions modified.
    pub modified: Vec<Transaction>,
    /// Transactions removed.
    pub removed: Vec<RemovedTransaction>,
}

/// The end of a completed loop (see [`SyncEvent::Completed`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncCommit {
    /// The cursor to store with the pages of this loop.
    pub next_cursor: String,
    /// Plaid's `transactions_update_status`, when it sends one.
    pub update_status: Option<UpdateStatus>,
    /// The Item's accounts, from the last page.
    pub accounts: Vec<AccountBase>,
    /// Pages in the loop that completed.
    pub pages: u32,
    /// How many times the loop started over.
    pub restarts: u32,
    /// How many times a page that failed with a transient error was asked for again.
    pub retries: u32,
}

/// One page request: the same body for both sources but the token's field name and the path.
struct PageRequest<'a, K> {
    sync: &'a TransactionsSync,
    cursor: Option<&'a str>,
    kind: std::marker::PhantomData<K>,
}

struct ItemKind;
struct ProcessorKind;

impl<K> Serialize for PageRequest<'_, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(problem) = &self.sync.unserializable {
            return Err(serde::ser::Error::custom(problem));
        }
        let mut map = serializer.serialize_map(None)?;
        match &self.sync.source {
            Source::Item(t) => map.serialize_entry("access_token", t)?,
            Source::Processor(t) => map.serialize_entry("processor_token", t)?,
        }
        if let Some(cursor) = self.cursor {
            map.serialize_entry("cursor", cursor)?;
        }
        map.serialize_entry("count", &self.sync.count)?;
        if self.sync.account_id.is_some() || !self.sync.options.is_empty() {
            let mut options = self.sync.options.clone();
            if let Some(account) = &self.sync.account_id {
                options.insert("account_id".into(), Value::String(account.clone()));
            }
            map.serialize_entry("options", &options)?;
        }
        map.end()
    }
}

macro_rules! page_request_operation {
    ($kind:ty, $info:expr) => {
        impl Operation for PageRequest<'_, $kind> {
            type Response = Page;
            const INFO: &'static OperationInfo = $info;
            fn decode(raw: RawResponse) -> Result<Page, Error> {
                raw.json()
            }
        }
    };
}
page_request_operation!(ItemKind, &TRANSACTIONS_SYNC);
page_request_operation!(ProcessorKind, &PROCESSOR_TRANSACTIONS_SYNC);

/// One page as Plaid sends it; every field but `next_cursor` optional, so older and newer
/// specs both parse. Plaid sends `next_cursor` on every page (`""` while the Item is not
/// ready), so a body without it, `{}` or an error object a proxy sent with 200, is a
/// `Decode` error rather than "not ready".
#[derive(Deserialize)]
struct Page {
    #[serde(default, deserialize_with = "crate::de::null_as_default")]
    added: Vec<Transaction>,
    #[serde(default, deserialize_with = "crate::de::null_as_default")]
    modified: Vec<Transaction>,
    #[serde(default, deserialize_with = "crate::de::null_as_default")]
    removed: Vec<RemovedTransaction>,
    #[serde(default, deserialize_with = "crate::de::null_as_default")]
    accounts: Vec<AccountBase>,
    next_cursor: String,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    transactions_update_status: Option<UpdateStatus>,
}

impl PlaidClient {
    /// Runs a whole `/transactions/sync` loop and returns every change since the starting
    /// cursor, with the cursor to store next.
    ///
    /// The loop keeps its first cursor. If a page fails with
    /// `TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`, it starts over from that first cursor,
    /// dropping the pages already taken (at most [`max_restarts`](TransactionsSync::max_restarts)
    /// times). A page that fails with a transient error the client's own retries could not
    /// overcome (a rate limit, a `5xx`, a timeout) is asked for again with the same cursor
    /// after a backoff (at most [`max_retries`](TransactionsSync::max_retries) times in a row),
    /// keeping the pages already taken, while the client's retry budget pays for it. The
    /// result counts both.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for a `count` outside 1–500 or an empty token, before
    /// sending; [`Error::SyncRestarts`] when every restart failed; [`Error::Pagination`] when
    /// the server repeats a cursor or the page limit is reached; a transient error as it came
    /// when its page failed `max_retries + 1` times in a row or the retry budget could not pay
    /// for asking again; any other error (such as
    /// `ITEM_LOGIN_REQUIRED`) as it came.
    pub async fn transactions_sync_all(
        &self,
        sync: &TransactionsSync,
    ) -> Result<SyncOutcome, Error> {
        let mut changes = Changes::default();
        let events = self.transactions_sync_stream(sync.clone());
        futures_util::pin_mut!(events);
        while let Some(event) = events.next().await {
            match event? {
                SyncEvent::Page(page) => changes.apply(page),
                SyncEvent::Restarted { .. } => changes = Changes::default(),
                SyncEvent::Completed(commit) => {
                    let (added, modified, removed) = changes.finish();
                    return Ok(SyncOutcome::Updated(SyncBatch {
                        added,
                        modified,
                        removed,
                        accounts: commit.accounts,
                        next_cursor: commit.next_cursor,
                        update_status: commit.update_status,
                        pages: commit.pages,
                        restarts: commit.restarts,
                        retries: commit.retries,
                    }));
                }
                SyncEvent::NotReady(not_ready) => return Ok(SyncOutcome::NotReady(not_ready)),
            }
        }
        Err(Error::Pagination {
            operation: sync.info().name,
            reason: "the sync ended without completing".into(),
        })
    }

    /// The same loop as [`transactions_sync_all`](Self::transactions_sync_all), one page at a
    /// time: for histories too large to hold in memory. See [`SyncEvent`] for what to do with
    /// each event.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use plaid_sdk::sync::{SyncEvent, TransactionsSync};
    /// # async fn run(client: plaid_sdk::PlaidClient, token: plaid_sdk::AccessToken) -> Result<(), plaid_sdk::Error> {
    /// let events = client.transactions_sync_stream(TransactionsSync::new(token));
    /// futures_util::pin_mut!(events);
    /// while let Some(event) = events.next().await {
    ///     match event? {
    ///         SyncEvent::Page(page) => { /* write page.added, … inside an open transaction */ }
    ///         SyncEvent::Restarted { .. } => { /* roll the transaction back, begin again */ }
    ///         SyncEvent::Completed(commit) => { /* store commit.next_cursor, then commit */ }
    ///         SyncEvent::NotReady(_) => { /* nothing yet */ }
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn transactions_sync_stream(
        &self,
        sync: TransactionsSync,
    ) -> impl Stream<Item = Result<SyncEvent, Error>> + Send + 'static {
        let state = Loop {
            client: self.clone(),
            cursor: sync.cursor.clone(),
            seen: HashSet::new(),
            pages: 0,
            restarts: 0,
            failures: 0,
            retries: 0,
            budget_spent: 0,
            pending: None,
            done: false,
            sync,
        };
        stream::unfold(state, |mut state| async move {
            let event = state.step().await?;
            Some((event, state))
        })
    }

    async fn fetch_page(
        &self,
        sync: &TransactionsSync,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        match sync.source {
            Source::Item(_) => {
                self.send(&PageRequest::<ItemKind> {
                    sync,
                    cursor,
                    kind: std::marker::PhantomData,
                })
                .await
            }
            Source::Processor(_) => {
                self.send(&PageRequest::<ProcessorKind> {
                    sync,
                    cursor,
                    kind: std::marker::PhantomData,
                })
                .await
            }
        }
    }
}

/// The state of one sync, between stream items.
struct Loop {
    client: PlaidClient,
    sync: TransactionsSync,
    /// The cursor of the next page.
    cursor: Option<String>,
    /// Cursors this loop has been given, to catch a server that repeats one.
    seen: HashSet<String>,
    pages: u32,
    restarts: u32,
    /// Transient failures of the current page in a row.
    failures: u32,
    /// Pages asked for again in this sync, after a transient failure.
    retries: u32,
    /// What those asks took from the client's retry budget, given back when the page comes.
    budget_spent: u32,
    /// An event to yield before fetching more (the commit after the last page).
    pending: Option<SyncEvent>,
    done: bool,
}

impl Loop {
    /// The next event, or `None` once the sync has ended.
    async fn step(&mut self) -> Option<Result<SyncEvent, Error>> {
        if let Some(event) = self.pending.take() {
            self.done = true;
            return Some(Ok(event));
        }
        if self.done {
            return None;
        }
        if let Err(e) = self.sync.check() {
            self.done = true;
            return Some(Err(e));
        }
        let operation = self.sync.info().name;
        let page = loop {
            match self
                .client
                .fetch_page(&self.sync, self.cursor.as_deref())
                .await
            {
                Ok(page) => break page,
                Err(e) => match self.after_failure(e).await {
                    Next::Retry => continue,
                    Next::Yield(event) => return Some(event),
                },
            }
        };
        self.failures = 0;
        if let Some(pool) = self.client.budget_pool() {
            pool.give_back(std::mem::take(&mut self.budget_spent));
        }
        self.pages += 1;
        let next = page.next_cursor.clone();
        let not_ready = next.is_empty()
            || (page.transactions_update_status == Some(UpdateStatus::NotReady)
                && page.added.is_empty()
                && page.modified.is_empty()
                && page.removed.is_empty()
                && !page.has_more);
        if not_ready && self.pages == 1 {
            self.done = true;
            return Some(Ok(SyncEvent::NotReady(NotReady {
                update_status: page.transactions_update_status,
                restarts: self.restarts,
            })));
        }
        if next.is_empty() {
            self.done = true;
            return Some(Err(Error::Pagination {
                operation,
                reason: format!("page {} has no next_cursor", self.pages),
            }));
        }
        let provisional = ProvisionalPage {
            page: self.pages,
            added: page.added,
            modified: page.modified,
            removed: page.removed,
        };
        if page.has_more {
            if self.cursor.as_deref() == Some(next.as_str()) || !self.seen.insert(next.clone()) {
                self.done = true;
                return Some(Err(Error::Pagination {
                    operation,
                    reason: format!("the server repeated a cursor on page {}", self.pages),
                }));
            }
            if self.pages >= self.sync.max_pages {
                self.done = true;
                return Some(Err(Error::Pagination {
                    operation,
                    reason: format!("more than {} pages in one loop", self.sync.max_pages),
                }));
            }
            self.cursor = Some(next);
        } else {
            self.pending = Some(SyncEvent::Completed(SyncCommit {
                next_cursor: next,
                update_status: page.transactions_update_status,
                accounts: page.accounts,
                pages: self.pages,
                restarts: self.restarts,
                retries: self.retries,
            }));
        }
        Some(Ok(SyncEvent::Page(provisional)))
    }

    /// After a failed page: ask for it again after a transient error, start the loop over
    /// after a mutation, while the settings allow; otherwise end with the error.
    async fn after_failure(&mut self, e: Error) -> Next {
        let mutation = e.error_code() == Some(&ErrorCode::TransactionsSyncMutationDuringPagination);
        // A bank that is down stays down for longer than a retry takes: the loop ends and the
        // error says to try later.
        let bank = e.api_error().is_some_and(ApiError::waits_on_the_bank);
        if mutation {
            return Next::Yield(self.restart(e));
        }
        let policy = self.client.effective_retry_policy();
        // A `Retry-After` longer than the client waits for ends the sync, as it ends the
        // client's own retries: asking sooner than Plaid said would only be refused again.
        let too_long = e
            .retry_after()
            .is_some_and(|wait| wait > policy.longest_retry_after());
        if !e.is_retryable() || bank || too_long || self.failures >= self.sync.max_retries {
            self.done = true;
            return Next::Yield(Err(e));
        }
        // Asking again is a retry: it is paid from the client's budget like the client's own,
        // so N syncs in an outage add no more than the budget allows.
        let reserved = match self.client.budget_pool() {
            Some(pool) => match pool.spend(matches!(e, Error::Timeout { .. })) {
                Some(reserved) => Some(reserved),
                None => {
                    tracing::warn!(tokens_left = pool.left(), error = %e, "transactions sync ends: the client's retry budget is spent");
                    self.done = true;
                    return Next::Yield(Err(e));
                }
            },
            None => None,
        };
        self.failures += 1;
        self.retries += 1;
        let first = self
            .sync
            .restart_backoff
            .unwrap_or_else(|| policy.first_backoff().saturating_mul(2));
        // Jittered as the client's retries are, so loops failing together do not ask together.
        // At most five doublings (32 times the first wait), as `restart_backoff` says.
        let backoff = crate::retry::backoff(
            first,
            Duration::from_secs(30),
            self.failures.min(6),
            crate::retry::jitter(),
        );
        let wait = backoff.max(e.retry_after().unwrap_or_default());
        tracing::info!(
            failures = self.failures,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            error = %e,
            "transactions sync asks for the same page again"
        );
        tokio::time::sleep(wait).await;
        self.budget_spent = self
            .budget_spent
            .saturating_add(reserved.map_or(0, crate::retry::Reserved::sent));
        Next::Retry
    }

    /// Starts the loop over from its first cursor, if restarts remain.
    fn restart(&mut self, e: Error) -> Result<SyncEvent, Error> {
        if self.restarts >= self.sync.max_restarts {
            self.done = true;
            return Err(Error::SyncRestarts {
                operation: self.sync.info().name,
                restarts: self.restarts,
                source: Box::new(e),
            });
        }
        self.restarts += 1;
        self.failures = 0;
        tracing::info!(restarts = self.restarts, error = %e, "transactions sync restarts from its first cursor");
        self.cursor = self.sync.cursor.clone();
        self.seen.clear();
        self.pages = 0;
        Ok(SyncEvent::Restarted {
            restarts: self.restarts,
            cause: Box::new(e),
        })
    }
}

/// What to do after a failed page.
enum Next {
    /// Ask for the same page again.
    Retry,
    /// End the step with this.
    Yield(Result<SyncEvent, Error>),
}

/// The changes of one loop, merged so each transaction appears once (see [`SyncBatch`]).
#[derive(Default)]
struct Changes {
    added: Vec<Option<Transaction>>,
    modified: Vec<Option<Transaction>>,
    removed: Vec<RemovedTransaction>,
    /// transaction_id -> (in `added`?, index)
    index: HashMap<String, (bool, usize)>,
    removed_ids: HashSet<String>,
}

impl Changes {
    fn apply(&mut self, page: ProvisionalPage) {
        for t in page.added {
            self.upsert(t, true);
        }
        for t in page.modified {
            self.upsert(t, false);
        }
        for r in page.removed {
            // Optional in older specs, required in newer ones: read it either way.
            if let Some(id) = &TextField::get(&r.transaction_id) {
                if let Some((in_added, i)) = self.index.remove(id) {
                    if in_added {
                        self.added[i] = None;
                    } else {
                        self.modified[i] = None;
                    }
                }
                if !self.removed_ids.insert(id.clone()) {
                    continue;
                }
            }
            self.removed.push(r);
        }
    }

    fn upsert(&mut self, t: Transaction, added: bool) {
        let id = t.transaction_id.clone();
        if self.removed_ids.remove(&id) {
            self.removed
                .retain(|r| TextField::get(&r.transaction_id).as_deref() != Some(id.as_str()));
        }
        match self.index.get(&id) {
            Some(&(true, i)) => self.added[i] = Some(t),
            Some(&(false, i)) => self.modified[i] = Some(t),
            None if added => {
                self.index.insert(id, (true, self.added.len()));
                self.added.push(Some(t));
            }
            None => {
                self.index.insert(id, (false, self.modified.len()));
                self.modified.push(Some(t));
            }
        }
    }

    fn finish(self) -> (Vec<Transaction>, Vec<Transaction>, Vec<RemovedTransaction>) {
        (
            self.added.into_iter().flatten().collect(),
            self.modified.into_iter().flatten().collect(),
            self.removed,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(id: &str, amount: f64) -> Transaction {
        serde_json::from_value(serde_json::json!({
            "transaction_id": id, "account_id": "a", "amount": amount, "date": "2026-11-01",
            "pending": false, "iso_currency_code": "USD", "unofficial_currency_code": null,
            "name": "n", "payment_channel": "online", "account_owner": null,
            "pending_transaction_id": null, "category_id": null, "category": null,
            "location": {}, "payment_meta": {}, "authorized_date": null,
            "authorized_datetime": null, "datetime": null, "transaction_code": null,
        }))
        .expect("a minimal transaction parses")
    }

    fn removed(id: &str) -> RemovedTransaction {
        serde_json::from_value(serde_json::json!({ "transaction_id": id, "account_id": "a" }))
            .unwrap()
    }

    fn page(
        added: Vec<Transaction>,
        modified: Vec<Transaction>,
        removed: Vec<RemovedTransaction>,
    ) -> ProvisionalPage {
        ProvisionalPage {
            page: 1,
            added,
            modified,
            removed,
        }
    }

    fn ids(ts: &[Transaction]) -> Vec<(&str, f64)> {
        ts.iter()
            .map(|t| (t.transaction_id.as_str(), t.amount))
            .collect()
    }

    #[test]
    fn merged_changes_name_each_transaction_once_with_its_last_version() {
        let mut c = Changes::default();
        c.apply(page(
            vec![txn("a", 1.0), txn("b", 2.0)],
            vec![txn("old", 9.0)],
            vec![],
        ));
        c.apply(page(
            vec![],
            vec![txn("a", 1.5), txn("old", 9.5)],
            vec![removed("b")],
        ));
        c.apply(page(
            vec![txn("c", 3.0)],
            vec![],
            vec![removed("gone"), removed("gone")],
        ));
        let (added, modified, removed) = c.finish();
        assert_eq!(ids(&added), [("a", 1.5), ("c", 3.0)]);
        assert_eq!(ids(&modified), [("old", 9.5)]);
        let removed: Vec<_> = removed
            .iter()
            .map(|r| TextField::get(&r.transaction_id).unwrap())
            .collect();
        assert_eq!(removed, ["b", "gone"]);
    }

    #[test]
    fn a_transaction_removed_then_added_again_is_added() {
        let mut c = Changes::default();
        c.apply(page(vec![], vec![], vec![removed("x")]));
        c.apply(page(vec![txn("x", 4.0)], vec![], vec![]));
        let (added, _, removed) = c.finish();
        assert_eq!(ids(&added), [("x", 4.0)]);
        assert!(removed.is_empty());
    }

    #[test]
    fn the_page_request_body() {
        let sync = TransactionsSync::new(AccessToken::new("access-sandbox-1"))
            .count(100)
            .account_id("acc")
            .option("include_original_description", true);
        let body = serde_json::to_value(PageRequest::<ItemKind> {
            sync: &sync,
            cursor: Some("c1"),
            kind: Default::default(),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "access_token": "access-sandbox-1", "cursor": "c1", "count": 100,
                "options": { "include_original_description": true, "account_id": "acc" },
            })
        );
        let processor = TransactionsSync::processor(ProcessorToken::new("processor-sandbox-1"));
        let body = serde_json::to_value(PageRequest::<ProcessorKind> {
            sync: &processor,
            cursor: None,
            kind: Default::default(),
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "processor_token": "processor-sandbox-1", "count": 500 })
        );
    }

    #[test]
    fn settings_are_checked_before_sending() {
        let token = || AccessToken::new("access-sandbox-1");
        assert!(TransactionsSync::new(token()).check().is_ok());
        for bad in [0, 501] {
            let e = TransactionsSync::new(token())
                .count(bad)
                .check()
                .unwrap_err();
            assert!(e.to_string().contains("count must be 1 to 500"), "{e}");
        }
        assert!(TransactionsSync::new(AccessToken::new("")).check().is_err());
        assert!(TransactionsSync::new(token())
            .account_id(" ")
            .check()
            .is_err());
        assert_eq!(
            TransactionsSync::new(token())
                .cursor(Some(String::new()))
                .cursor,
            None
        );
    }
}
