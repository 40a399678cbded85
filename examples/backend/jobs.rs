//! Jobs any replica can run: a table, claimed one row at a time with `FOR UPDATE SKIP LOCKED`
//! and a lease the worker renews while it works. A replica that dies loses its lease, and
//! another claims the job again and resumes the Item from its stored cursor. A replica told
//! to stop (SIGTERM: a deploy, a scaler) hands its running jobs back at once instead. One job
//! of an Item runs at a time (a unique index on the running ones); a job that panics goes back
//! in the queue like one that met a passing failure. Ended jobs are forgotten after a week,
//! applied webhooks after a day.
//!
//! Forty lines of SQL rather than a queue crate: the queue must share transactions with the
//! app's own tables (a webhook's effect and its inbox row commit together, and a sync's cursor
//! with its changes), run on SQLite as well as PostgreSQL, and coalesce jobs per Item, which
//! the crates on PostgreSQL (graphile_worker, apalis-postgres, underway) model differently
//! or not at all, each with sqlx and its compile time behind it.

use crate::app::{now_ms, now_s, random_id, App};
use crate::store::{params, Stmt, StoreError, SKIP_LOCKED};
use plaid_sdk::sync::{SyncOutcome, TransactionsSync};
use plaid_sdk::types::{ItemGetRequest, ItemRemoveRequest};
use plaid_sdk::{AccessToken, Error as PlaidError, ErrorCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A job's work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// `/transactions/sync` from the stored cursor, the changes and the new cursor committed
    /// together.
    Sync,
    /// `/item/remove` of an Item the app does not keep (a failed or duplicate link), retried
    /// until Plaid confirms, so no bank stays connected (and billed) without a record.
    Remove,
    /// `/item/get` after an `ITEM` webhook, or after an answer that met a state recorded in
    /// its own second: Plaid's own word on the Item's error, recorded as of when the call
    /// started. Webhooks come in any order and Plaid signs each retry anew, so their `iat`
    /// alone cannot say which state is the newest.
    Check,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Sync => "sync",
            Kind::Remove => "remove",
            Kind::Check => "check",
        }
    }
}

/// A claim gives up on a job after this many claims in a row that ended with no outcome (each
/// a replica that died mid-job, or lost the job's lease: a job that kills its replica must
/// not kill them all). A job that ends in a passing failure is queued again with its count
/// reset, and one handed back by a stopping replica without counting that claim
/// ([`requeue`]).
const MAX_ATTEMPTS: i64 = 5;

/// When a new job is not needed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unless {
    /// One of its kind is queued (they coalesce).
    Queued,
    /// One is queued or running: a user's request, answered 409.
    Busy,
    /// One is queued, or started after this time (ms): a job that started after a change
    /// at Plaid sees it, so a webhook signed at `iat` (s) needs no new sync if one started
    /// after `(iat + 1) * 1000` (the end of that second). Duplicates and retries of a sync
    /// webhook coalesce this way without losing a genuinely new one.
    StartedAfter(i64),
}

/// The end of the second `s` (a webhook's `iat`, a call's start, whole seconds), in ms: a
/// job that starts after it sees what happened in that second.
pub fn second_end_ms(s: i64) -> i64 {
    s.saturating_add(1).saturating_mul(1000)
}

/// Queues a job for the Item, while the Item is in the state the job needs, unless `unless`
/// says one is not needed. The job's id and the statements, for a transaction: the insert
/// (its count says whether it queued), then one that makes a job of its kind queued already
/// and waiting out a retry's backoff run now: a request for one is a reason to try again
/// (a user asking, a webhook with news; Plaid may be back). A check is the other way round:
/// one queued already waits until the latest second it was asked to wait out. (A sync asked
/// for at a time, [`enqueue_stmt_at`], is moved to that time either way.)
pub fn enqueue_stmt(
    kind: Kind,
    item_id: &str,
    reason: &str,
    unless: Unless,
) -> (String, Vec<Stmt>) {
    enqueue_stmt_at(kind, item_id, reason, unless, 0)
}

/// [`enqueue_stmt`] for a job that must not start before `not_before` (ms): a check that must
/// ask Plaid after a given second, or a sync a webhook asks for, which starts after the
/// second the webhook was signed in (`inbox::sync_stmts`); a sync of the Item queued already
/// is moved to that time, sooner or later.
pub fn enqueue_stmt_at(
    kind: Kind,
    item_id: &str,
    reason: &str,
    unless: Unless,
    not_before: i64,
) -> (String, Vec<Stmt>) {
    let id = random_id();
    let now = now_ms();
    let run_after = not_before.max(now);
    let needs = match kind {
        Kind::Sync | Kind::Check => "active",
        Kind::Remove => "removing",
    };
    let (busy, started_after) = match unless {
        Unless::Queued => (0, i64::MAX),
        Unless::Busy => (1, i64::MAX),
        Unless::StartedAfter(ms) => (0, ms),
    };
    let insert = Stmt::new(
        "INSERT INTO jobs (id, kind, item_id, reason, state, run_after, created_at)
         SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT),
                'queued', CAST($9 AS BIGINT), CAST($5 AS BIGINT)
         WHERE EXISTS (SELECT 1 FROM items WHERE id = $3 AND status = $6)
           AND NOT EXISTS (SELECT 1 FROM jobs WHERE item_id = $3 AND kind = $2
                           AND (($7 = 1 AND state = 'running')
                                OR (started_at >= $8
                                    AND state NOT IN ('failed', 'superseded'))))
         ON CONFLICT (item_id, kind) WHERE state = 'queued' DO NOTHING",
        params![
            id.clone(),
            kind.as_str(),
            item_id,
            reason,
            now,
            needs,
            busy,
            started_after,
            run_after
        ],
    );
    let run_now = if kind == Kind::Check {
        Stmt::new(
            "UPDATE jobs SET run_after = $1
             WHERE item_id = $2 AND kind = $3 AND state = 'queued' AND run_after < $1",
            params![run_after, item_id, kind.as_str()],
        )
    } else {
        // Sooner: a retry's backoff cut short. Or later, when a time is asked for: a sync a
        // webhook asks for starts after the second it was signed in (inbox::sync_stmts).
        Stmt::new(
            "UPDATE jobs SET run_after = $1
             WHERE item_id = $2 AND kind = $3 AND state = 'queued'
               AND (run_after > $1 OR run_after < $4)",
            params![run_after, item_id, kind.as_str(), not_before],
        )
    };
    (id, vec![insert, run_now])
}

/// [`enqueue_stmt`], run: `Some(job id)` when queued.
pub async fn enqueue(
    app: &App,
    kind: Kind,
    item_id: &str,
    reason: &str,
    unless: Unless,
) -> Result<Option<String>, StoreError> {
    let (id, stmts) = enqueue_stmt(kind, item_id, reason, unless);
    let counts = app.db.transaction(stmts).await?.unwrap_or_default();
    let changed = |i: usize| counts.get(i).is_some_and(|n| *n > 0);
    let (queued, run_now) = (changed(0), changed(1));
    if queued || run_now {
        app.wake.notify_waiters();
    }
    Ok(queued.then_some(id))
}

/// A claimed job.
struct Claimed {
    id: String,
    kind: String,
    item_id: String,
    attempts: i64,
    created_at: i64,
    /// The claim's own name in `owner`: the replica's and one for this claim, so that a
    /// claim whose lease ran out cannot end or renew the job another claim of the same
    /// replica took over (two workers, a database that stopped answering for a lease).
    owner: String,
}

async fn claim(app: &App, owner: String) -> Result<Option<Claimed>, StoreError> {
    let now = now_ms();
    let sql = format!(
        "UPDATE jobs SET state = 'running', owner = $1, lease_until = $2,
                         attempts = attempts + 1, started_at = COALESCE(started_at, $3)
         WHERE id = (
             SELECT j.id FROM jobs j
             WHERE ((j.state = 'queued' AND j.run_after <= $3)
                    OR (j.state = 'running' AND j.lease_until < $3))
               AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.item_id = j.item_id
                               AND r.id <> j.id AND r.state = 'running')
             ORDER BY j.run_after, j.created_at
             LIMIT 1 {SKIP_LOCKED})
         RETURNING id, kind, item_id, attempts, created_at"
    );
    let claimed = app
        .db
        .query_one(&sql, params![owner.clone(), now + lease_ms(app), now])
        .await;
    let row = match claimed {
        Ok(row) => row,
        // One job of an Item runs at a time (the `jobs_one_running` index). On PostgreSQL two
        // claims at the same moment each skip the row the other locked, and may pick two jobs
        // of one Item: the second to commit is refused, and claims nothing.
        Err(e) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(row.map(|r| Claimed {
        id: r.text(0),
        kind: r.text(1),
        item_id: r.text(2),
        attempts: r.int(3),
        created_at: r.int(4),
        owner,
    }))
}

/// The `owner` a claim writes: `<replica>/<claim>`.
pub fn claim_owner(app: &App) -> String {
    format!("{}/{}", app.replica, random_id())
}

fn lease_ms(app: &App) -> i64 {
    i64::try_from(app.lease.as_millis()).unwrap_or(i64::MAX / 4)
}

/// The outcome of a job, as `GET /api/jobs/{id}` shows it.
#[derive(Default)]
struct Done {
    added: Option<i64>,
    modified: Option<i64>,
    removed: Option<i64>,
    error: Option<String>,
}

async fn finish(app: &App, job: &Claimed, state: &str, done: Done) -> Result<bool, StoreError> {
    let changed = app
        .db
        .execute(
            "UPDATE jobs SET state = $1, added = $2, modified = $3, removed = $4, error = $5,
                             finished_at = $6, lease_until = NULL
             WHERE id = $7 AND owner = $8 AND state = 'running'",
            params![
                state,
                done.added,
                done.modified,
                done.removed,
                done.error,
                now_ms(),
                job.id.clone(),
                job.owner.clone()
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// The worker loop of one replica: claim, run with the lease renewed, finish; wait when
/// there is nothing to do. It ends when the replica stops ([`App::stop_workers`]), handing
/// back the job it runs.
pub async fn worker(app: Arc<App>) {
    let mut stop = app.stopping();
    let mut outage = Outage::default();
    let mut lost = LostClaims::default();
    while !*stop.borrow() {
        let claimed = match lost.claim(&app, app.lease, hand_back_lost, claim).await {
            Ok(Some(job)) => {
                run(&app, job, &mut stop).await;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        let wake = &app.wake;
        outage
            .pause("claiming jobs", claimed, app.poll, wake, &mut stop)
            .await;
    }
    lost.settle_at_stop(&app, hand_back_lost).await;
}

/// The claims of one worker whose answer never came (the database too slow, the connection
/// lost): the database may have made them all the same, leaving a row `running` under a
/// claim nobody runs until its lease runs out; a job would count that as one of its tries,
/// and five such made it `failed` without ever running (review round 10: commits slower
/// than the step limit, a synchronous standby down). The worker settles them before it
/// claims again, and once more when it stops. A claim may become visible only later (its
/// commit still waiting when the worker looks), so each is looked for until the lease it
/// would have had runs out.
#[derive(Default)]
pub struct LostClaims {
    owners: std::collections::VecDeque<(String, Instant)>,
}

impl LostClaims {
    /// The most kept: older ones have long lost their lease.
    const KEPT: usize = 64;

    /// A claim whose answer never came, whose lease would be `lease`.
    pub fn add(&mut self, owner: String, lease: Duration) {
        if self.owners.len() == Self::KEPT {
            self.owners.pop_front();
        }
        let until = Instant::now() + lease + Duration::from_secs(1);
        self.owners.push_back((owner, until));
    }

    /// Hands back what each lost claim took, with `release` (true when it found the claim);
    /// keeps a claim not found while its lease would last. Stops at the first failure,
    /// keeping that claim and the ones not tried for the next time.
    pub async fn settle<F>(&mut self, app: &App, release: F) -> Result<(), StoreError>
    where
        F: AsyncFn(&App, &str) -> Result<bool, StoreError>,
    {
        let mut pending = std::mem::take(&mut self.owners);
        while let Some((owner, until)) = pending.pop_front() {
            match release(app, &owner).await {
                Ok(true) => {}
                Ok(false) => {
                    if Instant::now() < until {
                        self.owners.push_back((owner, until));
                    }
                }
                Err(e) => {
                    self.owners.push_back((owner, until));
                    self.owners.extend(pending);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Settles the lost claims, then claims with `claim` under a new owner; a claim whose
    /// answer never came is remembered, with `lease`, for the next time.
    pub async fn claim<T, R, C>(
        &mut self,
        app: &App,
        lease: Duration,
        release: R,
        claim: C,
    ) -> Result<Option<T>, StoreError>
    where
        R: AsyncFn(&App, &str) -> Result<bool, StoreError>,
        C: AsyncFn(&App, String) -> Result<Option<T>, StoreError>,
    {
        self.settle(app, release).await?;
        let owner = claim_owner(app);
        claim(app, owner.clone())
            .await
            .inspect_err(|_| self.add(owner, lease))
    }

    /// [`settle`](Self::settle) once more as the worker stops, for at most 5 s.
    pub async fn settle_at_stop<F>(&mut self, app: &App, release: F)
    where
        F: AsyncFn(&App, &str) -> Result<bool, StoreError>,
    {
        if self.owners.is_empty() {
            return;
        }
        let settled = tokio::time::timeout(Duration::from_secs(5), self.settle(app, release));
        if !matches!(settled.await, Ok(Ok(()))) {
            tracing::warn!(
                "stopping: claims whose answer was lost keep their leases, which run out"
            );
        }
    }
}

/// A lost claim's job, if the claim was made: back in the queue at once, the claim not
/// counted as a try (as a stopping replica hands its job back). True when it was found.
async fn hand_back_lost(app: &App, owner: &str) -> Result<bool, StoreError> {
    let row = app
        .db
        .query_one(
            "SELECT id, kind, item_id, attempts, created_at FROM jobs
             WHERE owner = $1 AND state = 'running'",
            params![owner.to_owned()],
        )
        .await?;
    let Some(r) = row else {
        return Ok(false); // not (yet) made, or its lease ran out and another took it
    };
    let job = Claimed {
        id: r.text(0),
        kind: r.text(1),
        item_id: r.text(2),
        attempts: r.int(3),
        created_at: r.int(4),
        owner: owner.to_owned(),
    };
    if requeue(app, &job, Requeue::HandBack).await? {
        tracing::info!(job = %job.id, "a claim whose answer was lost is handed back");
    }
    Ok(true)
}

/// Resolves once the replica is stopping.
pub async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await; // the App is gone: nothing will say stop
    }
}

/// The longest a worker waits between two tries while the database does not answer.
const OUTAGE_WAIT: Duration = Duration::from_secs(5);

/// A worker's view of a database that stops answering: it waits longer after each failure
/// (from the poll interval, doubling, to [`OUTAGE_WAIT`]), says so once when it begins and
/// once when it ends, not at every try.
#[derive(Default)]
pub struct Outage {
    failures: u32,
    since: Option<Instant>,
}

impl Outage {
    /// A failed try: how long to wait before the next.
    fn failed(&mut self, what: &str, error: &StoreError, poll: Duration) -> Duration {
        if self.failures == 0 {
            self.since = Some(Instant::now());
            tracing::warn!(error = %error, "{what} failed; trying again, less often, until the database answers");
        }
        self.failures = self.failures.saturating_add(1);
        let doubled = poll.saturating_mul(1u32 << (self.failures.min(16) - 1));
        doubled.min(OUTAGE_WAIT).max(poll.min(OUTAGE_WAIT))
    }

    /// Waits before a worker's next claim, as its last one went (`Ok(true)`: it found work):
    /// not at all after work; until `wake` or the poll interval when there was none; less and
    /// less often while the database fails. Cut short when the replica stops.
    pub async fn pause(
        &mut self,
        what: &str,
        claimed: Result<bool, StoreError>,
        poll: Duration,
        wake: &tokio::sync::Notify,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) {
        let wait = match claimed {
            Ok(true) => {
                self.answered(what);
                return;
            }
            Ok(false) => {
                self.answered(what);
                None
            }
            Err(e) => Some(self.failed(what, &e, poll)),
        };
        let notified = wake.notified();
        let waited = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => drop(tokio::time::timeout(poll, notified).await),
            }
        };
        tokio::select! {
            () = waited => {}
            () = stopped(stop) => {}
        }
    }

    /// A try that reached the database.
    fn answered(&mut self, what: &str) {
        if self.failures > 0 {
            let seconds = self.since.map_or(0, |t| t.elapsed().as_secs());
            tracing::info!(
                failures = self.failures,
                "{what}: the database answers again, after {seconds} s"
            );
            self.failures = 0;
            self.since = None;
        }
    }
}

async fn run(app: &Arc<App>, job: Claimed, stop: &mut tokio::sync::watch::Receiver<bool>) {
    if job.attempts > MAX_ATTEMPTS {
        let error = format!("gave up after {MAX_ATTEMPTS} attempts");
        tracing::error!(job = %job.id, item_id = %job.item_id, kind = %job.kind,
            "a job ended {MAX_ATTEMPTS} claims in a row with no outcome: given up");
        let _ = finish(
            app,
            &job,
            "failed",
            Done {
                error: Some(error),
                ..Done::default()
            },
        )
        .await;
        return;
    }
    if job.attempts > 1 {
        tracing::info!(job = %job.id, attempt = job.attempts, "resuming a job whose lease expired");
    }
    // Renew the lease while the work runs (and not after: the guard stops it however `run`
    // ends).
    let heartbeat = {
        let (app, id, owner) = (app.clone(), job.id.clone(), job.owner.clone());
        AbortOnDrop(tokio::spawn(async move {
            let every = app.lease / 3;
            loop {
                tokio::time::sleep(every).await;
                let renewed = app
                    .db
                    .execute(
                        "UPDATE jobs SET lease_until = $1
                         WHERE id = $2 AND owner = $3 AND state = 'running'",
                        params![now_ms() + lease_ms(&app), id.clone(), owner.clone()],
                    )
                    .await;
                match renewed {
                    Ok(1) => {}
                    // A database hiccup: try again at the next beat (the lease lasts three).
                    Err(e) => tracing::warn!(job = %id, error = %e, "renewing a lease failed"),
                    Ok(_) => {
                        tracing::warn!(job = %id, "lost the job's lease");
                        return;
                    }
                }
            }
        }))
    };
    // The work runs as a task of its own, so that a panic in it ends this job, not the
    // worker (which would leave the replica with one worker fewer for good, and the job's
    // lease renewed forever by a heartbeat nobody stops).
    let mut task = {
        let (app, kind, item_id) = (app.clone(), job.kind.clone(), job.item_id.clone());
        AbortOnDrop(tokio::spawn(async move {
            match kind.as_str() {
                "sync" => sync(&app, &item_id).await,
                "remove" => remove(&app, &item_id).await,
                "check" => check(&app, &item_id).await,
                #[cfg(test)]
                "panic" => panic!("a job that panics (a test)"),
                other => Err(Failed::fatal(format!("unknown job kind {other}"))),
            }
        }))
    };
    // A replica told to stop drops the work where it is (a sync's changes commit with their
    // cursor, or not at all) and hands the job back, so another replica starts it now
    // rather than when the lease runs out, and the stop does not count as one of its tries.
    let outcome = tokio::select! {
        joined = &mut task.0 => match joined {
            Ok(outcome) => outcome,
            // A bug, not a passing failure: recorded on the job, and tried again after the
            // backoff of any retry (a sync may be all that stands for a webhook).
            Err(e) => {
                tracing::error!(job = %job.id, item_id = %job.item_id, kind = %job.kind,
                    error = %e, "a job panicked");
                Err(Failed::retry(format!("the job panicked: {e}")))
            }
        },
        () = stopped(stop) => {
            drop(heartbeat);
            task.0.abort();
            let _ = (&mut task.0).await; // ended where it was, before the job is handed back
            match requeue(app, &job, Requeue::HandBack).await {
                Ok(true) => tracing::info!(job = %job.id, "stopping: the job is handed back"),
                // Another claim holds it (this one's lease ran out), or another job of its
                // kind is queued and does its work: nothing to hand back.
                Ok(false) => tracing::info!(job = %job.id, "stopping: the job was not this replica's to hand back"),
                Err(e) => tracing::warn!(job = %job.id, error = %e,
                    "stopping: handing the job back failed; its lease runs out"),
            }
            return;
        }
    };
    drop(heartbeat);
    let finished = match outcome {
        Ok(done) => finish(app, &job, "done", done).await,
        // A removal Plaid did not confirm, a sync that met a passing failure (Plaid or the
        // network down, the database busy): again later. A failed sync that stayed failed
        // would also swallow the webhooks it was meant to cover.
        Err(Failed { error, retry: true }) => requeue(app, &job, Requeue::Later(error)).await,
        Err(Failed { error, .. }) => {
            let done = Done {
                error: Some(error),
                ..Done::default()
            };
            finish(app, &job, "failed", done).await
        }
    };
    if let Err(e) = finished {
        tracing::warn!(job = %job.id, error = %e, "recording a job's end failed");
    }
}

/// A task stopped when this is dropped (a [`tokio::task::JoinHandle`] dropped lets its task
/// run on).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why a job did not finish, and whether trying again later can help.
struct Failed {
    error: String,
    retry: bool,
}

impl Failed {
    fn retry(error: String) -> Self {
        Failed { error, retry: true }
    }
    fn fatal(error: String) -> Self {
        Failed {
            error,
            retry: false,
        }
    }
}

/// Why a running job goes back in the queue.
enum Requeue {
    /// It met a passing failure: again later, its claim count started again.
    Later(String),
    /// Its replica is stopping: at once, for any replica, this claim not counted.
    HandBack,
}

/// A job that may succeed later goes back in the queue, for as long as it fails that way:
/// Plaid down for an hour delays a sync or a removal, never drops it (a sync may be all that
/// stands for a webhook Plaid will not send again). It waits half its age each time, from 1 s
/// to [`App::max_retry_wait`] (10 minutes); its claim count starts again. A job handed back
/// by a stopping replica is queued to run now. If a job of its kind is queued for the Item
/// already, that one does the work and this one ends `superseded` (`GET /api/jobs/{id}`
/// names the one to follow).
async fn requeue(app: &App, job: &Claimed, why: Requeue) -> Result<bool, StoreError> {
    let now = now_ms();
    let (run_after, error, hand_back) = match why {
        Requeue::Later(error) => {
            let longest = i64::try_from(app.max_retry_wait.as_millis()).unwrap_or(i64::MAX);
            let wait = (now.saturating_sub(job.created_at) / 2).clamp(1_000.min(longest), longest);
            (now.saturating_add(wait), Some(error), false)
        }
        Requeue::HandBack => (now, None, true),
    };
    // One queued job per Item and kind (the unique index): if one is queued already, it does
    // the work, and this one says so.
    let requeue = app
        .db
        .execute(
            "UPDATE jobs SET state = 'queued', run_after = $1, owner = NULL, lease_until = NULL,
                             attempts = CASE WHEN $7 = 1 THEN attempts - 1 ELSE 0 END,
                             error = COALESCE($2, error)
             WHERE id = $3 AND owner = $4 AND state = 'running'
               AND NOT EXISTS (SELECT 1 FROM jobs q WHERE q.item_id = $5 AND q.kind = $6
                               AND q.state = 'queued')",
            params![
                run_after,
                error.clone(),
                job.id.clone(),
                job.owner.clone(),
                job.item_id.clone(),
                job.kind.clone(),
                hand_back
            ],
        )
        .await;
    let requeued = match requeue {
        Ok(n) => n,
        // On PostgreSQL a job of its kind queued at the same moment by another transaction
        // (a webhook's), unseen by the check above, breaks the one-queued-job index: that
        // job does the work. Any other error leaves this one running (below).
        Err(e) => {
            let queued = app
                .db
                .query_one(
                    "SELECT 1 FROM jobs WHERE item_id = $1 AND kind = $2 AND state = 'queued'",
                    params![job.item_id.clone(), job.kind.clone()],
                )
                .await?;
            if queued.is_none() {
                return Err(e);
            }
            0
        }
    };
    if requeued == 1 {
        return Ok(true);
    }
    // Not requeued: another job of its kind is queued (or this replica lost the lease, and the
    // finish below changes nothing). A database error above with no job of its kind queued
    // leaves the job running: its lease runs out and a worker claims it again, so it is never
    // ended by the database's trouble.
    let done = Done {
        error: Some(error.unwrap_or_else(|| "handed back by its replica".to_owned())),
        ..Done::default()
    };
    finish(app, job, "superseded", done).await
}

/// One sync of an Item: the driver's whole loop from the stored cursor, then the changes and
/// the new cursor in one transaction, on condition that the cursor is still the one this
/// worker started from. If another worker moved it meanwhile, nothing is written and the
/// sync starts again from the new cursor.
async fn sync(app: &App, item_id: &str) -> Result<Done, Failed> {
    let db_error = |e: StoreError| {
        tracing::warn!(item_id = %item_id, error = %e, "database error during a sync");
        Failed::retry("database error".to_owned())
    };
    for _ in 0..3 {
        let row = app
            .db
            .query_one(
                "SELECT access_token, cursor, status FROM items WHERE id = $1",
                params![item_id],
            )
            .await
            .map_err(db_error)?;
        let Some(row) = row.filter(|r| r.text(2) == "active") else {
            return Ok(Done::default()); // removed or disconnected meanwhile: nothing to do
        };
        let token = AccessToken::new(row.text(0));
        let start = row.opt_text(1);
        // What Plaid answers is the Item's state as of now: a webhook signed after this (an
        // `ERROR` while the sync runs) is newer than anything the sync can say.
        let asked_at = now_s();
        let outcome = app
            .plaid
            .transactions_sync_all(
                &TransactionsSync::new(token)
                    .cursor(start.clone())
                    .count(500)
                    .max_restarts(app.sync_restarts)
                    .max_retries(app.sync_restarts),
            )
            .await;
        let batch = match outcome {
            Ok(SyncOutcome::Updated(batch)) => batch,
            Ok(SyncOutcome::NotReady(_)) => return Ok(counts(0, 0, 0)),
            Err(e) => return Err(sync_failed(app, item_id, &e, asked_at).await),
        };
        let now = now_ms();
        let mut stmts = vec![Stmt::guard(
            "UPDATE items SET cursor = $1, last_synced_at = $2,
                 error_code = CASE WHEN state_at < $3 OR error_code = 'SYNC_FAILED' THEN NULL
                                   ELSE error_code END,
                 state_at = CASE WHEN state_at < $3 THEN $3 ELSE state_at END
             WHERE id = $4 AND status = 'active' AND cursor IS NOT DISTINCT FROM $5",
            params![batch.next_cursor.clone(), now, asked_at, item_id, start],
        )];
        for t in batch.added.iter().chain(&batch.modified) {
            stmts.push(Stmt::new(
                "INSERT INTO transactions
                     (id, item_id, account_id, date, name, amount, category, pending)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id,
                     date = excluded.date, name = excluded.name, amount = excluded.amount,
                     category = excluded.category, pending = excluded.pending
                 WHERE transactions.item_id = excluded.item_id",
                params![
                    t.transaction_id.clone(),
                    item_id,
                    t.account_id.clone(),
                    t.date.to_string(),
                    // `name` is deprecated (Plaid keeps sending it): the merchant first.
                    t.merchant_name
                        .clone()
                        .or_else(|| t.name.clone())
                        .unwrap_or_default(),
                    t.amount,
                    t.personal_finance_category
                        .as_ref()
                        .map(|c| c.primary.clone()),
                    t.pending
                ],
            ));
        }
        for id in batch.removed_ids() {
            stmts.push(Stmt::new(
                "DELETE FROM transactions WHERE id = $1 AND item_id = $2",
                params![id, item_id],
            ));
        }
        let (a, m, r) = (batch.added.len(), batch.modified.len(), batch.removed.len());
        match app.db.transaction(stmts).await.map_err(db_error)? {
            Some(_) => {
                settle_later(app, item_id, asked_at, true).await;
                tracing::info!(item_id = %item_id, added = a, modified = m, removed = r, "synced");
                return Ok(counts(a, m, r));
            }
            None => {
                tracing::info!(item_id = %item_id, "the cursor moved under this sync; again from the new one");
            }
        }
    }
    Err(Failed::retry(
        "the cursor kept moving under this sync".into(),
    ))
}

fn counts(a: usize, m: usize, r: usize) -> Done {
    let n = |v: usize| Some(i64::try_from(v).unwrap_or(i64::MAX));
    Done {
        added: n(a),
        modified: n(m),
        removed: n(r),
        error: None,
    }
}

/// Records what a failed sync says about the Item, for a failure trying again cannot fix:
/// Plaid's error (a login to repair, an Item gone) as of `asked_at`, when the failing call
/// started, unless a newer state was recorded ([`record_error`]); or `SYNC_FAILED`, an answer
/// this app cannot read, which is the app's own state and stays until a sync succeeds. The
/// code, and whether to retry.
async fn sync_failed(app: &App, item_id: &str, e: &PlaidError, asked_at: i64) -> Failed {
    let code = e
        .api_error()
        .map(|a| a.error_code.as_str().to_owned())
        .unwrap_or_else(|| "SYNC_FAILED".into());
    if !e.is_retryable() {
        if e.api_error().is_none() {
            // Not the bank's state but this app's: someone must look (Decode names the field).
            tracing::error!(item_id = %item_id, error = %e, "sync failed for good");
        }
        let _ = match e.api_error() {
            Some(_) => record_error(app, item_id, Some(code.clone()), asked_at).await,
            None => app
                .db
                .execute(
                    "UPDATE items SET error_code = 'SYNC_FAILED' WHERE id = $1 AND status = 'active'",
                    params![item_id],
                )
                .await
                .map(drop),
        };
    }
    tracing::warn!(item_id = %item_id, error = %e, "sync failed");
    Failed {
        error: code,
        retry: e.is_retryable(),
    }
}

/// `/item/get` of an Item an `ITEM` webhook spoke of: its error as Plaid has it when the call
/// starts, recorded unless a newer state was (a webhook signed after the call started). A
/// refusal no retry changes (`INVALID_ACCESS_TOKEN`, `ITEM_NOT_FOUND`) is recorded the same
/// way, and ends the job `failed`.
async fn check(app: &App, item_id: &str) -> Result<Done, Failed> {
    let db_error = |e: StoreError| {
        tracing::warn!(item_id = %item_id, error = %e, "database error during a check");
        Failed::retry(e.to_string())
    };
    let row = app
        .db
        .query_one(
            "SELECT access_token FROM items WHERE id = $1 AND status = 'active'",
            params![item_id],
        )
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        return Ok(Done::default()); // disconnected meanwhile: nothing to say
    };
    let asked_at = now_s();
    let answer = app
        .plaid
        .item_get(&ItemGetRequest::new(AccessToken::new(row.text(0))))
        .await;
    let code = match answer {
        Ok(got) => got.item.error.map(|e| e.error_code.as_str().to_owned()),
        Err(e) if e.is_retryable() => {
            tracing::warn!(item_id = %item_id, error = %e, "checking an Item failed; again later");
            let error = e.api_error().map_or_else(
                || "could not reach Plaid".to_owned(),
                |a| a.error_code.as_str().to_owned(),
            );
            return Err(Failed::retry(error));
        }
        Err(e) => {
            let still_active = app
                .db
                .query_one(
                    "SELECT 1 FROM items WHERE id = $1 AND status = 'active'",
                    params![item_id],
                )
                .await
                .map_err(db_error)?;
            if still_active.is_none() {
                return Ok(Done::default()); // disconnected while Plaid was asked
            }
            tracing::error!(item_id = %item_id, error = %e, "checking an Item failed for good");
            let error = e.api_error().map_or_else(
                || "could not read Plaid's answer".to_owned(),
                |a| a.error_code.as_str().to_owned(),
            );
            // Plaid's refusal (a token rotated elsewhere, an Item removed in Plaid's portal) is
            // the Item's state now, over the webhook's older word.
            if e.api_error().is_some() {
                record_error(app, item_id, Some(error.clone()), asked_at)
                    .await
                    .map_err(db_error)?;
            }
            return Err(Failed::fatal(error));
        }
    };
    record_error(app, item_id, code, asked_at)
        .await
        .map_err(db_error)?;
    Ok(Done::default())
}

/// Records Plaid's answer on the Item's error (`None`: none), given by a call that started
/// at `asked_at` (s), over any state recorded in an earlier second. A webhook's `iat` is whole
/// seconds, so a state from the same second may be newer or older than the answer: then a
/// check after that second settles it ([`settle_later`]). Plaid's "no error" leaves the app's
/// own `SYNC_FAILED`, which only a sync that succeeds clears.
async fn record_error(
    app: &App,
    item_id: &str,
    code: Option<String>,
    asked_at: i64,
) -> Result<(), StoreError> {
    let applied = app
        .db
        .execute(
            "UPDATE items SET error_code = COALESCE(CAST($1 AS TEXT), CASE WHEN error_code = 'SYNC_FAILED'
                                                             THEN error_code END),
                             state_at = $2
             WHERE id = $3 AND status = 'active' AND state_at < $2",
            params![code, asked_at, item_id],
        )
        .await?;
    if applied == 0 {
        settle_later(app, item_id, asked_at, false).await;
    }
    Ok(())
}

/// Queues a check for after the second `asked_at` if the Item's state was recorded in that
/// same second (and, with `only_errors`, is an error): Plaid's answer then, asked in a later
/// second, is newer than both.
async fn settle_later(app: &App, item_id: &str, asked_at: i64, only_errors: bool) {
    let unsure = app
        .db
        .query_one(
            "SELECT 1 FROM items WHERE id = $1 AND status = 'active' AND state_at = $2
               AND ($3 = 0 OR error_code IS NOT NULL)",
            params![item_id, asked_at, i64::from(only_errors)],
        )
        .await;
    if !matches!(unsure, Ok(Some(_))) {
        return;
    }
    let after = second_end_ms(asked_at);
    let (_, stmts) = enqueue_stmt_at(
        Kind::Check,
        item_id,
        "a state from the same second",
        Unless::StartedAfter(after),
        after,
    );
    match app.db.transaction(stmts).await {
        Ok(_) => app.wake.notify_waiters(),
        Err(e) => tracing::warn!(item_id = %item_id, error = %e, "could not queue a check"),
    }
}

/// `/item/remove` of an Item the app gave up; the row goes once Plaid confirms (or says the
/// Item is gone already).
/// Plaid down or the database busy: tried again later. A refusal trying again cannot change
/// (an access token Plaid no longer knows as valid) ends the job `failed`, logged with the
/// Item's id: someone must remove it by hand (the Dashboard), and the sweeper leaves it be.
async fn remove(app: &App, item_id: &str) -> Result<Done, Failed> {
    let row = app
        .db
        .query_one(
            "SELECT access_token FROM items WHERE id = $1 AND status = 'removing'",
            params![item_id],
        )
        .await
        .map_err(|e| Failed::retry(e.to_string()))?;
    let Some(row) = row else {
        return Ok(Done::default());
    };
    match app
        .plaid
        .item_remove(&ItemRemoveRequest::new(AccessToken::new(row.text(0))))
        .await
    {
        Ok(_) => {}
        Err(PlaidError::Api(e)) if e.error_code == ErrorCode::ItemNotFound => {}
        Err(e) => {
            let error = e.api_error().map_or_else(
                || "could not reach Plaid".to_owned(),
                |a| a.error_code.as_str().to_owned(),
            );
            if e.api_error().is_some() && !e.is_retryable() {
                tracing::error!(item_id = %item_id, error = %e,
                    "Plaid refused to remove an Item the app does not keep: remove it by hand");
                return Err(Failed::fatal(error));
            }
            tracing::warn!(item_id = %item_id, error = %e,
                "removing an Item the app does not keep failed; again later");
            return Err(Failed::retry(error));
        }
    }
    app.db
        .execute(
            "DELETE FROM items WHERE id = $1 AND status = 'removing'",
            params![item_id],
        )
        .await
        .map_err(|e| Failed::retry(e.to_string()))?;
    tracing::info!(item_id = %item_id, "an Item the app did not keep was removed at Plaid");
    Ok(Done::default())
}

/// Items left half-linked by a replica that died between the exchange and storing the Item
/// (status `linking` for longer than a link takes) are removed at Plaid; so is any Item to
/// remove that never had its removal queued (its replica died between the two): nothing stays
/// connected at Plaid without a job to end it. One whose removal failed (Plaid refused it
/// for good, or it killed five replicas) is logged and left for a person.
pub async fn sweep(app: Arc<App>) {
    loop {
        tokio::time::sleep(Duration::from_secs(30).min(app.lease)).await;
        sweep_once(&app, now_ms()).await;
    }
}

/// How long a webhook applied stays in the inbox: a copy delivered later is a duplicate only
/// while the verifier takes it, five minutes after it was signed (and a minute of clocks'
/// disagreement), so a day is ample.
const INBOX_KEPT_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a job that ended stays for `GET /api/jobs/{id}` to report. A removal that failed
/// stays until a person sees to it (its Item waits in `removing`).
const JOBS_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// One round of [`sweep`], at `now` (ms): also forgets what nobody needs any more, applied
/// webhooks and ended jobs, or both tables grow by a row per webhook and per sync for ever
/// (and each webhook's check for a job that covers it reads more).
async fn sweep_once(app: &App, now: i64) {
    let stale = now - 10 * 60 * 1000;
    let _ = app
        .db
        .execute(
            "UPDATE items SET status = 'removing' WHERE status = 'linking' AND created_at < $1",
            params![stale],
        )
        .await;
    let rows = app
        .db
        .query(
            "SELECT i.id FROM items i WHERE i.status = 'removing'
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.item_id = i.id
                               AND j.kind = 'remove'
                               AND j.state IN ('queued', 'running', 'failed'))",
            params![],
        )
        .await;
    for row in rows.unwrap_or_default() {
        let _ = enqueue(
            app,
            Kind::Remove,
            &row.text(0),
            "an Item to remove at Plaid",
            Unless::Busy,
        )
        .await;
    }
    let forgotten = app
        .db
        .transaction(vec![
            Stmt::new(
                "DELETE FROM webhook_inbox WHERE state = 'done' AND done_at < $1",
                params![now.saturating_sub(INBOX_KEPT_MS)],
            ),
            Stmt::new(
                "DELETE FROM jobs WHERE finished_at < $1
                   AND (state IN ('done', 'superseded') OR (state = 'failed' AND kind <> 'remove'))",
                params![now.saturating_sub(JOBS_KEPT_MS)],
            ),
        ])
        .await;
    if let Err(e) = forgotten {
        tracing::warn!(error = %e, "forgetting old webhooks and jobs failed");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::app::Settings;
    use crate::store::Db;

    /// A new SQLite file's path.
    pub(crate) fn new_database() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("jobs-{}.sqlite3", random_id()))
    }

    /// A replica with no job workers of its own, on the SQLite file at `path`.
    pub(crate) async fn replica(
        sandbox: &plaid_sandbox::Sandbox,
        path: &std::path::Path,
    ) -> Result<Arc<App>, crate::app::StartError> {
        let mut settings = Settings::new("http://127.0.0.1:9/webhooks/plaid", sandbox.uri());
        settings.workers = 0;
        App::start(sandbox.client(), Db::sqlite(path).unwrap(), settings).await
    }

    /// A job of `item-1`, made at time 0 to run from time 0.
    async fn add_job(app: &App, id: &str, kind: &str, state: &str) {
        app.db
            .execute(
                "INSERT INTO jobs (id, kind, item_id, reason, state, run_after, created_at)
                 VALUES ($1, $2, 'item-1', 'a test', $3, 0, 0)",
                params![id, kind, state],
            )
            .await
            .unwrap();
    }

    /// A replica with no job workers of its own, on a new SQLite file, and a queued job.
    async fn replica_and_job(sandbox: &plaid_sandbox::Sandbox) -> Arc<App> {
        let app = replica(sandbox, &new_database()).await.unwrap();
        add_job(&app, "job-1", "sync", "queued").await;
        app
    }

    /// LOW (review round 9): leases were the replica's, not the claim's. After a database
    /// outage longer than a lease, a second worker of the same replica took the job over
    /// while the first still ran it, and the first then marked it done mid-sync.
    #[tokio::test]
    async fn a_claim_whose_lease_ran_out_cannot_end_the_job_another_claim_took_over() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica_and_job(&sandbox).await;
        let first = claim(&app, claim_owner(&app))
            .await
            .unwrap()
            .expect("the job is claimed");
        app.db
            .execute("UPDATE jobs SET lease_until = 0", params![])
            .await
            .unwrap(); // its renewals failed for a lease
        let second = claim(&app, claim_owner(&app))
            .await
            .unwrap()
            .expect("its lease ran out");
        assert_eq!((first.id.as_str(), second.attempts), ("job-1", 2));
        assert!(
            !finish(&app, &first, "done", Done::default()).await.unwrap(),
            "the claim that lost the lease ended the job another claim runs"
        );
        assert!(!requeue(&app, &first, Requeue::HandBack).await.unwrap());
        assert!(finish(&app, &second, "done", Done::default())
            .await
            .unwrap());
    }

    /// MED (review round 10): a claim whose answer was lost (the database committed it after
    /// the call's time limit) left the job `running` under a claim nobody ran; each such
    /// claim counted as a try, and five made the job `failed` without running. The worker
    /// hands it back, its try not counted; a claim that was not made is forgotten.
    #[tokio::test]
    async fn a_claim_whose_answer_was_lost_is_handed_back_uncounted() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica_and_job(&sandbox).await;
        let owner = claim_owner(&app);
        claim(&app, owner.clone()).await.unwrap().expect("claimed");
        let mut lost = LostClaims::default();
        lost.add(owner, Duration::ZERO);
        // A claim the database never made, its lease over.
        lost.owners.push_back((claim_owner(&app), Instant::now()));
        lost.add(claim_owner(&app), Duration::from_secs(30)); // one it may make yet
        lost.settle(&app, hand_back_lost).await.unwrap();
        assert_eq!(
            lost.owners.len(),
            1,
            "looked for while its lease would last"
        );
        let row = app
            .db
            .query_one("SELECT state, attempts, owner FROM jobs", params![])
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.text(0), row.int(1)), ("queued".to_owned(), 0));
        assert_eq!(row.opt_text(2), None);
        let again = claim(&app, claim_owner(&app)).await.unwrap().unwrap();
        assert_eq!(again.attempts, 1);
    }

    /// LOW (review round 9): while the database was down each worker tried again every
    /// 250 ms, a new connection and a warning each time (455 lines in 40 s).
    #[test]
    fn a_database_outage_is_retried_less_and_less_often() {
        let mut outage = Outage::default();
        let error = StoreError("postgres: connection refused".into());
        let waits: Vec<u128> = (0..8)
            .map(|_| {
                outage
                    .failed("claiming", &error, Duration::from_millis(250))
                    .as_millis()
            })
            .collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
        outage.answered("claiming");
        assert_eq!(
            outage
                .failed("claiming", &error, Duration::from_millis(250))
                .as_millis(),
            250
        );
    }

    /// A job handed back by a stopping replica is queued to run now, its claim uncounted.
    #[tokio::test]
    async fn a_job_handed_back_runs_now_and_its_claim_is_not_counted() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica_and_job(&sandbox).await;
        let job = claim(&app, claim_owner(&app)).await.unwrap().unwrap();
        assert!(requeue(&app, &job, Requeue::HandBack).await.unwrap());
        let row = app
            .db
            .query_one(
                "SELECT state, attempts, owner, run_after <= $1 FROM jobs",
                params![now_ms()],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.text(0), row.int(1), row.opt_text(2), row.int(3)),
            ("queued".to_owned(), 0, None, 1)
        );
        app.workers_stopped(Duration::from_secs(5)).await;
        assert!(*app.stopping().borrow());
    }

    /// LOW (review round 13): on PostgreSQL two claims at the same moment each skipped the
    /// row the other had locked and could run two jobs of one Item (a sync and a check, or a
    /// sync whose lease ran out and a newer one): the database now refuses a second running
    /// job of an Item, and a claim takes the job whose lease ran out before any other of its
    /// Item.
    #[tokio::test]
    async fn one_job_of_an_item_runs_at_a_time() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica_and_job(&sandbox).await;
        add_job(&app, "job-2", "check", "queued").await;
        let first = claim(&app, claim_owner(&app)).await.unwrap().unwrap();
        let second = app
            .db
            .execute(
                "UPDATE jobs SET state = 'running' WHERE id <> $1",
                params![first.id.clone()],
            )
            .await
            .expect_err("two jobs of one Item running");
        assert!(second.is_unique_violation(), "{second}");
        // Its replica died: the lease runs out, and that job is the one taken over.
        app.db
            .execute("UPDATE jobs SET lease_until = 0", params![])
            .await
            .unwrap();
        let next = claim(&app, claim_owner(&app)).await.unwrap().unwrap();
        assert_eq!(next.id, first.id);
        assert!(claim(&app, claim_owner(&app)).await.unwrap().is_none());
    }

    /// LOW (review round 13): a job that panicked unwound the worker: the worker was gone for
    /// good and the job's heartbeat, never stopped, renewed its lease for ever, so no replica
    /// could run that Item's jobs again. Now the job goes back in the queue with the panic as
    /// its error, and its lease ends.
    #[tokio::test]
    async fn a_job_that_panics_is_queued_again_and_its_lease_ends() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica_and_job(&sandbox).await;
        app.db
            .execute("UPDATE jobs SET kind = 'panic'", params![])
            .await
            .unwrap();
        let job = claim(&app, claim_owner(&app)).await.unwrap().unwrap();
        let mut stop = app.stopping();
        run(&app, job, &mut stop).await;
        let row = app
            .db
            .query_one(
                "SELECT state, owner, lease_until, error FROM jobs",
                params![],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.text(0), "queued");
        assert_eq!((row.opt_text(1), row.opt_int(2)), (None, None));
        assert!(row.text(3).contains("panicked"), "{}", row.text(3));
    }

    /// MED (review round 13): every webhook left its inbox row and every sync its job row,
    /// for ever; each webhook's check for a job covering it read them all. The sweeper
    /// forgets applied webhooks after a day and ended jobs after a week, but not a removal
    /// that failed (a person sees to it) nor anything still to do.
    #[tokio::test]
    async fn the_sweeper_forgets_old_webhooks_and_ended_jobs() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let app = replica_and_job(&sandbox).await;
        let now = now_ms();
        let (old, recent) = (now - JOBS_KEPT_MS - 1, now - 60_000);
        for (id, kind, state, finished) in [
            ("done-old", "sync", "done", old),
            ("done-new", "sync", "done", recent),
            ("superseded-old", "sync", "superseded", old),
            ("failed-old", "check", "failed", old),
            ("remove-failed-old", "remove", "failed", old),
        ] {
            app.db
                .execute(
                    "INSERT INTO jobs (id, kind, item_id, reason, state, run_after, created_at,
                                       finished_at)
                     VALUES ($1, $2, $1, 'a test', $3, 0, 0, $4)",
                    params![id, kind, state, finished],
                )
                .await
                .unwrap();
        }
        for (key, state, done) in [
            ("applied-old", "done", Some(now - INBOX_KEPT_MS - 1)),
            ("applied-new", "done", Some(recent)),
            ("waiting-old", "new", None),
        ] {
            app.db
                .execute(
                    "INSERT INTO webhook_inbox (key, webhook_type, webhook_code, iat, body, state,
                                                received_at, done_at)
                     VALUES ($1, 'TRANSACTIONS', 'SYNC_UPDATES_AVAILABLE', 0, '{}', $2, 0, $3)",
                    params![key, state, done],
                )
                .await
                .unwrap();
        }
        sweep_once(&app, now).await;
        let ids = |sql: &'static str| {
            let app = app.clone();
            async move {
                let rows = app.db.query(sql, params![]).await.unwrap();
                rows.iter().map(|r| r.text(0)).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            ids("SELECT id FROM jobs ORDER BY id").await,
            ["done-new", "job-1", "remove-failed-old"]
        );
        assert_eq!(
            ids("SELECT key FROM webhook_inbox ORDER BY key").await,
            ["applied-new", "waiting-old"]
        );
    }

    /// LOW (review round 22): the schema was one text of `CREATE … IF NOT EXISTS`, stored
    /// whole in `meta`: a column added later would never reach an existing database, and a
    /// replica of an older version started on a database a newer one had changed (a rolling
    /// deploy) ran its older schema over it. Migrations are numbered now, each run once; a
    /// database newer than the backend stops its start.
    #[tokio::test]
    async fn a_database_newer_than_the_backend_stops_its_start() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let path = new_database();
        let app = replica(&sandbox, &path).await.unwrap();
        app.db
            .execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', '99')
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![],
            )
            .await
            .unwrap();
        app.stop_workers();
        let refused = replica(&sandbox, &path)
            .await
            .err()
            .expect("started on a newer database");
        let text = refused.to_string();
        assert!(text.contains("version 99"), "{text}");
    }

    /// The migration that adds the one-running-job index puts back what the old claims left:
    /// an Item's first running job runs on, one job of each other kind goes back in the
    /// queue, and the rest end superseded (review of round 13: two syncs of one kind both
    /// queued again broke the one-queued-job index, and every start failed).
    #[tokio::test]
    async fn the_migration_leaves_one_running_job_per_item() {
        let sandbox = plaid_sandbox::Sandbox::start().await;
        let path = new_database();
        let app = replica(&sandbox, &path).await.unwrap();
        app.db
            .execute("DROP INDEX jobs_one_running", params![])
            .await
            .unwrap();
        for (id, kind, state) in [
            ("a-check", "check", "running"),
            ("b-sync", "sync", "running"),
            ("c-sync", "sync", "running"),
            ("d-remove", "remove", "running"),
            ("e-remove", "remove", "queued"),
        ] {
            add_job(&app, id, kind, state).await;
        }
        app.db
            .execute("DELETE FROM meta WHERE key = 'schema_version'", params![])
            .await
            .unwrap();
        app.stop_workers();
        let app = replica(&sandbox, &path).await.expect("the migration runs");
        let rows = app
            .db
            .query("SELECT id, state FROM jobs ORDER BY id", params![])
            .await
            .unwrap();
        let states: Vec<(String, String)> = rows.iter().map(|r| (r.text(0), r.text(1))).collect();
        let expected = [
            ("a-check", "running"),
            ("b-sync", "queued"),
            ("c-sync", "superseded"),
            ("d-remove", "superseded"),
            ("e-remove", "queued"),
        ];
        assert_eq!(states, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
        assert!(app
            .db
            .execute(
                "UPDATE jobs SET state = 'running' WHERE id = 'b-sync'",
                params![]
            )
            .await
            .unwrap_err()
            .is_unique_violation());
    }
}
