//! Three replicas of the reference backend, as separate processes on one PostgreSQL, behind a
//! "load balancer" (the sandbox delivers each webhook to a random replica), with Plaid's
//! delivery at its worst: duplicates, delays that reorder, retries of what got no 200. Twenty
//! users link two Items each; the banks keep adding and posting transactions; users start
//! syncs; one replica is killed with SIGKILL in the middle of a sync and started again.
//!
//! At the end, every Item's stored transactions equal the sandbox's ledger exactly (none lost,
//! none doubled), every cursor is the latest, no job is left queued or running, and every
//! webhook stored was applied once.
//!
//!     eval "$(bash scripts/postgres.sh start)"
//!     cargo test -p plaid-examples --test replicas -- --ignored --nocapture
//!     bash scripts/postgres.sh stop "$PG_DIR"

mod support;

use plaid_sandbox::{Fault, Sandbox, WebhookChaos};
use plaid_sdk::types::TransactionsSyncRequest;
use plaid_sdk::AccessToken;
use std::time::{Duration, Instant};
use support::{Backend, Start, CLIENT_ID, SECRET};

const USERS: usize = 20;
const INSTITUTIONS: [&str; 2] = ["ins_109508", "ins_109511"];

/// A small deterministic generator, so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A new database on the test server: its URL, and a connection to inspect it.
async fn fresh_database() -> (String, tokio_postgres::Client) {
    let admin = std::env::var("BACKEND_TEST_DATABASE_URL").expect(
        "set BACKEND_TEST_DATABASE_URL to a PostgreSQL server (bash scripts/postgres.sh start)",
    );
    let connect = |url: String| async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL answers");
        tokio::spawn(connection);
        client
    };
    let name = format!("replicas_{}", std::process::id());
    let server = connect(admin.clone()).await;
    // One statement each: CREATE DATABASE cannot run in a transaction block.
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        server.batch_execute(&sql).await.unwrap();
    }
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    (url.clone(), connect(url).await)
}

async fn count(db: &tokio_postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).await.unwrap().get(0)
}

fn balance(sandbox: &Sandbox, replicas: &[&Backend]) {
    sandbox.webhook_chaos(
        WebhookChaos::none()
            .duplicates(0.3, 3)
            .delay(Duration::ZERO, Duration::from_millis(300))
            .targets(replicas.iter().map(|r| format!("{}/webhooks/plaid", r.url))),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: BACKEND_TEST_DATABASE_URL (.ci/run starts one)"]
async fn three_replicas_lose_nothing_double_nothing_and_survive_a_kill() {
    let began = Instant::now();
    let (db_url, db) = fresh_database().await;
    let sandbox = Sandbox::builder()
        .client_id(CLIENT_ID)
        .secret(SECRET)
        .seed(29)
        .webhook_retry(Duration::from_millis(500))
        .start()
        .await;
    let start = Start::default()
        .plaid(&sandbox)
        .env("DATABASE_URL", &db_url)
        .env("JOB_LEASE_SECONDS", "3")
        .env("WORKERS", "2");
    let mut replicas: Vec<Backend> = (0..3).map(|_| start.spawn().unwrap()).collect();
    balance(&sandbox, &replicas.iter().collect::<Vec<_>>());
    let mut rng = Lcg(29);

    // Twenty users link two Items each, each call through a random replica.
    let mut items: Vec<(String, String)> = Vec::new();
    for u in 0..USERS {
        let user = format!("user-{u:02}");
        for institution in INSTITUTIONS {
            let replica = &replicas[rng.below(3)];
            let (status, body) = replica.link(&sandbox, &user, institution).await;
            assert_eq!(status, 201, "{body}");
            items.push((user.clone(), body["item_id"].as_str().unwrap().to_owned()));
        }
    }

    // The banks move (new transactions, pending ones posting, each followed by Plaid's
    // SYNC_UPDATES_AVAILABLE, and the DEFAULT_UPDATE and TRANSACTIONS_REMOVED a sync app
    // ignores), and users ask for syncs.
    let mut user_syncs = (0, 0);
    for round in 0..3 {
        for (_, item) in &items {
            sandbox.advance_days(item, 1).unwrap();
        }
        for (user, item) in items.iter().skip(round).step_by(3) {
            let replica = &replicas[rng.below(3)];
            let path = format!("/api/items/{item}/sync");
            match replica.call("POST", &path, user, None).await.0 {
                202 => user_syncs.0 += 1,
                409 => user_syncs.1 += 1,
                other => panic!("a user's sync answered {other}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Kill replica 0 in the middle of a sync: slow Plaid's sync answers down, make work, and
    // wait until replica 0 holds a running job.
    sandbox.inject(
        Some("/transactions/sync"),
        Fault::Slow(Duration::from_secs(2)),
        12,
    );
    let victim = replicas[0].replica.clone();
    // A claim's owner is `<replica>/<claim>`.
    let claims = format!("{victim}/%");
    let owned =
        format!("SELECT COUNT(*) FROM jobs WHERE state = 'running' AND owner LIKE '{claims}'");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next = 0;
    while count(&db, &owned).await == 0 {
        assert!(Instant::now() < deadline, "replica 0 never ran a job");
        let (user, item) = &items[next % items.len()];
        next += 1;
        sandbox.advance_days(item, 1).unwrap();
        let path = format!("/api/items/{item}/sync");
        replicas[0].call("POST", &path, user, None).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    replicas[0].kill();
    let killed_at = Instant::now();
    // The jobs the kill interrupted: still `running` under replica 0's name. At least one (a
    // job that finished in the instant before the kill is not one; none would leave the
    // recovery below checking nothing).
    let interrupted: Vec<String> = db
        .query(
            "SELECT id FROM jobs WHERE state = 'running' AND owner LIKE $1",
            &[&claims],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!interrupted.is_empty(), "the kill interrupted no job");
    // The load balancer notices and sends webhooks to the two left.
    balance(&sandbox, &[&replicas[1], &replicas[2]]);
    for (_, item) in items.iter().step_by(2) {
        sandbox.advance_days(item, 1).unwrap();
    }

    // Another replica takes over each interrupted job once its lease runs out.
    let mut recovered_after = Duration::ZERO;
    for job in &interrupted {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let row = db
                .query_one(
                    "SELECT state, owner, attempts FROM jobs WHERE id = $1",
                    &[job],
                )
                .await
                .unwrap();
            let (state, owner): (String, Option<String>) = (row.get(0), row.get(1));
            if state == "done" {
                assert!(!owner.unwrap_or_default().starts_with(&format!("{victim}/")));
                assert!(row.get::<_, i64>(2) >= 2, "claimed again");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "job {job} never finished: {state}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        recovered_after = recovered_after.max(killed_at.elapsed());
    }

    // Replica 0 comes back (a new process, a new name) and rejoins the balancer.
    replicas[0] = start.spawn().unwrap();
    balance(&sandbox, &replicas.iter().collect::<Vec<_>>());
    for (_, item) in &items {
        sandbox.advance_days(item, 1).unwrap();
    }

    // Wait for calm: every webhook answered 200 (retries included), the inbox worked off, no
    // job queued or running, twice in a row half a second apart.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut calm = 0;
    while calm < 2 {
        assert!(Instant::now() < deadline, "the replicas never settled");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let webhooks_done = sandbox.webhooks().iter().all(|w| w.status == Some(200));
        let busy = count(
            &db,
            "SELECT (SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running'))
                  + (SELECT COUNT(*) FROM webhook_inbox WHERE state <> 'done')",
        )
        .await;
        calm = if webhooks_done && busy == 0 {
            calm + 1
        } else {
            0
        };
    }

    // Every Item: the stored transactions are the ledger, exactly, and the cursor is the
    // latest (a sync from it brings nothing).
    let plaid = sandbox.client();
    let mut stored_total = 0;
    for (_, item) in &items {
        let stored: Vec<(String, f64, bool)> = db
            .query(
                "SELECT id, amount, pending FROM transactions WHERE item_id = $1 ORDER BY id",
                &[item],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get::<_, i64>(2) != 0))
            .collect();
        let truth: Vec<(String, f64, bool)> = sandbox
            .transactions(item)
            .unwrap()
            .into_iter()
            .map(|t| (t.transaction_id, t.amount, t.pending))
            .collect();
        assert_eq!(stored.len(), truth.len(), "Item {item}: count");
        assert_eq!(
            stored, truth,
            "Item {item}: the stored transactions are not the ledger"
        );
        stored_total += stored.len();
        let row = db
            .query_one(
                "SELECT access_token, cursor FROM items WHERE id = $1",
                &[item],
            )
            .await
            .unwrap();
        let (token, cursor): (String, Option<String>) = (row.get(0), row.get(1));
        let mut request = TransactionsSyncRequest::new(AccessToken::new(token));
        if let Some(cursor) = cursor {
            request = request.cursor(cursor);
        }
        let page = plaid.transactions_sync(&request).await.unwrap();
        assert!(
            page.added.is_empty() && page.modified.is_empty() && page.removed.is_empty(),
            "Item {item}: the stored cursor is not the latest"
        );
    }

    // Jobs: none failed, none left; webhooks: each stored once and applied once.
    let failed = count(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'").await;
    assert_eq!(failed, 0, "failed jobs");
    let jobs_done = count(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'done'").await;
    let resumed = count(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND attempts > 1",
    )
    .await;
    let stored_hooks = count(&db, "SELECT COUNT(*) FROM webhook_inbox").await;
    let deliveries = count(
        &db,
        "SELECT COALESCE(SUM(deliveries), 0)::BIGINT FROM webhook_inbox",
    )
    .await;
    let applied = count(
        &db,
        "SELECT COUNT(*) FROM webhook_inbox WHERE state = 'done' AND outcome IS NOT NULL",
    )
    .await;
    assert_eq!(applied, stored_hooks, "every stored webhook applied");
    let sent = sandbox.webhooks();
    let posts: u32 = sent.iter().map(|w| w.attempts).sum();
    let answered = sent.len();
    assert!(
        deliveries >= answered as i64,
        "{deliveries} deliveries stored, {answered} answered 200"
    );
    let webhook_jobs = count(&db, "SELECT COUNT(*) FROM jobs WHERE reason = 'webhook'").await;
    // Copies that came after their first was applied, and before any sync began after the
    // second they were signed in: each may announce a change of its own.
    let again_jobs = count(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE reason = 'webhook again'",
    )
    .await;
    let sync_hooks = count(
        &db,
        "SELECT COUNT(*) FROM webhook_inbox
         WHERE webhook_code IN ('SYNC_UPDATES_AVAILABLE', 'LOGIN_REPAIRED')",
    )
    .await;
    assert!(
        again_jobs <= deliveries - stored_hooks,
        "{again_jobs} jobs from {} copies",
        deliveries - stored_hooks
    );
    assert!(
        webhook_jobs <= sync_hooks,
        "{webhook_jobs} jobs from {sync_hooks} sync webhooks"
    );

    println!(
        "replicas: {} Items of {USERS} users on 3 replicas, {stored_total} transactions stored, \
         each equal to the sandbox's ledger and at its latest cursor",
        items.len()
    );
    let idle_jobs = count(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE reason = 'webhook' AND state = 'done'
           AND added = 0 AND modified = 0 AND removed = 0",
    )
    .await;
    println!(
        "replicas: webhooks: {} made, {answered} copies delivered to random replicas in {posts} \
         posts ({} retried after no answer); {deliveries} deliveries stored as {stored_hooks} \
         rows (replays deduplicated: {}), each applied once; {webhook_jobs} sync jobs from \
         {sync_hooks} sync webhooks ({} coalesced with a queued or later sync; {idle_jobs} ran \
         and found nothing new), {again_jobs} for copies that came once their first was applied",
        sent.iter().filter(|w| w.copy == 0).count(),
        posts as usize - answered,
        deliveries - stored_hooks,
        sync_hooks - webhook_jobs,
    );
    println!(
        "replicas: jobs: {jobs_done} done, 0 failed, 0 left; users' syncs {} accepted and {} \
         refused while one ran; replica 0 killed (SIGKILL) holding {} running jobs, all \
         resumed by another replica ({resumed} jobs resumed in all), the last done {:.1} s \
         after the kill (lease 3 s); whole test {:.1} s",
        user_syncs.0,
        user_syncs.1,
        interrupted.len(),
        recovered_after.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    drop(replicas);
    db.batch_execute("SELECT 1").await.unwrap();
}
