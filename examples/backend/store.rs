//! The backend's storage: one interface, two databases. SQLite (embedded, the default: a
//! private file) or PostgreSQL (`DATABASE_URL=postgres://…`, for several replicas).
//!
//! The SQL is written once, in PostgreSQL's dialect that SQLite also speaks (`$1` parameters,
//! `ON CONFLICT`, `RETURNING`, `IS NOT DISTINCT FROM`, partial indexes); the only difference is
//! the row lock a job claim takes (`FOR UPDATE SKIP LOCKED`), which SQLite, with one writer at a
//! time, does not need. Values cross the interface as [`Value`]: integers, reals, text, null.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A value bound to a parameter or read from a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(storable(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(storable(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(storable(v.clone()))
    }
}

/// Text both databases store alike: PostgreSQL's `TEXT` refuses NUL (`\0`), which Plaid's
/// data can hold (a transaction's name); it would fail the whole sync, on every retry. NUL
/// becomes U+FFFD, on SQLite too.
fn storable(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Parameters for a statement: `params![a, b]`.
macro_rules! params {
    ($($v:expr),* $(,)?) => { vec![$($crate::store::Value::from($v)),*] };
}
pub(crate) use params;

/// One row of a result.
#[derive(Clone, Debug)]
pub struct Row(Vec<Value>);

impl Row {
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Some(s.clone()),
            Some(Value::Int(n)) => Some(n.to_string()),
            _ => None,
        }
    }
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Some(*n),
            Some(Value::Real(r)) => Some(*r as i64),
            _ => None,
        }
    }
    pub fn real(&self, i: usize) -> f64 {
        match self.0.get(i) {
            Some(Value::Real(r)) => *r,
            Some(Value::Int(n)) => *n as f64,
            _ => 0.0,
        }
    }
}

/// A statement of a transaction. A guard must change at least one row, or the whole
/// transaction is rolled back: the way a write is made conditional on the state it read.
pub struct Stmt {
    sql: String,
    params: Vec<Value>,
    guard: bool,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Stmt {
        Stmt {
            sql: sql.into(),
            params,
            guard: false,
        }
    }
    pub fn guard(sql: impl Into<String>, params: Vec<Value>) -> Stmt {
        Stmt {
            guard: true,
            ..Stmt::new(sql, params)
        }
    }
}

/// A database failure, with the database's own message (it never holds a parameter's value).
#[derive(Debug)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// The database refused a row a unique index forbids (PostgreSQL's `23505`).
    pub fn is_unique_violation(&self) -> bool {
        self.0.starts_with("postgres: ") && self.0.ends_with("(23505)")
            || self.0.starts_with("sqlite: UNIQUE constraint failed")
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("sqlite: {e}"))
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => StoreError(format!("postgres: {} ({})", db.message(), db.code().code())),
            // tokio-postgres leaves the cause (connection refused, a TLS or DNS failure) to
            // `source()`: say it, or "error connecting to server" is all a person reads.
            None => {
                let mut text = format!("postgres: {e}");
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(&format!(": {c}"));
                    cause = c.source();
                }
                StoreError(text)
            }
        }
    }
}

/// The database.
#[derive(Clone)]
pub enum Db {
    Sqlite(Arc<Sqlite>),
    Postgres(Arc<Pool>),
}

/// The SQLite connection, and the file it opened: a file removed or replaced while the
/// backend runs is noticed at the next statement, which fails, rather than writes going on
/// into a file no one will read again (Items kept there are lost at the next start while
/// their banks stay connected at Plaid).
pub struct Sqlite {
    conn: Mutex<rusqlite::Connection>,
    path: std::path::PathBuf,
    /// The file's device and inode when opened.
    file: (u64, u64),
}

impl Sqlite {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, StoreError> {
        use std::os::unix::fs::MetadataExt;
        let same = std::fs::metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.file);
        if !same {
            return Err(StoreError(format!(
                "the database file {} was removed or replaced while the backend ran: restart \
                 it (what it wrote since is in the removed file)",
                self.path.display()
            )));
        }
        Ok(self.conn.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// How long PostgreSQL has to accept a connection, and to answer each step of a call (a
/// statement, a commit): a database that hangs (stopped, or a network that drops packets)
/// fails the call, which is logged and retried, instead of holding it for ever. Each step,
/// not the whole call, so that a transaction of many statements (a big sync) still commits.
const PG_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const PG_STEP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// A migration's steps wait longer: a new schema's `CREATE INDEX` waits for every write
/// transaction on its table, and builds the index on a big table, and replicas starting
/// together wait for each other's migration. (Review round 10: with the step limit, an
/// upgrade behind a sync's 15 s transaction failed the start, and an index taking longer
/// than 15 s to build could never be made.)
const PG_MIGRATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// One step of a call on a PostgreSQL connection, within `limit`. A step that does not answer
/// marks the connection `hung`: it is not lent again, and its statement is cancelled.
async fn within<T, E: Into<StoreError>>(
    hung: &std::sync::atomic::AtomicBool,
    limit: std::time::Duration,
    step: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, step).await {
        Ok(answer) => answer.map_err(Into::into),
        Err(_) => {
            hung.store(true, std::sync::atomic::Ordering::Relaxed);
            Err(StoreError(format!(
                "postgres: the database did not answer within {} s",
                limit.as_secs()
            )))
        }
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: say which database, nothing more.
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres(_) => "Db::Postgres",
        })
    }
}

impl Db {
    /// An SQLite database at `path`. A new file is created readable by its owner only (0600);
    /// an existing one that others can read is refused, since it holds access tokens.
    pub fn sqlite(path: &std::path::Path) -> Result<Db, StoreError> {
        use std::os::unix::fs::MetadataExt;
        private_file(path)?;
        let db = rusqlite::Connection::open(path)?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
        )?;
        let meta = std::fs::metadata(path)
            .map_err(|e| StoreError(format!("cannot read {}: {e}", path.display())))?;
        Ok(Db::Sqlite(Arc::new(Sqlite {
            conn: Mutex::new(db),
            path: path.to_owned(),
            file: (meta.dev(), meta.ino()),
        })))
    }

    /// A PostgreSQL database, `postgres://user@host:port/db` (no TLS: a database on this
    /// machine or a private network; put TLS in front for anything else).
    pub async fn postgres(url: &str, connections: usize) -> Result<Db, StoreError> {
        Db::postgres_timed(url, connections, PG_CONNECT_TIMEOUT, PG_STEP_TIMEOUT).await
    }

    /// [`Db::postgres`] with its own timeouts for a connection and for each step of a call.
    pub async fn postgres_timed(
        url: &str,
        connections: usize,
        connect_timeout: std::time::Duration,
        step_timeout: std::time::Duration,
    ) -> Result<Db, StoreError> {
        let pool = Pool {
            url: url.to_owned(),
            connect_timeout,
            step_timeout,
            idle: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(connections.max(1)),
        };
        // Connect once now, so a wrong URL fails at start, not at the first request.
        pool.get().await?.settled();
        Ok(Db::Postgres(Arc::new(pool)))
    }

    /// Rows of a query (or of a statement with `RETURNING`).
    pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(db) => {
                let (db, sql) = (db.clone(), sqlite_sql(sql));
                blocking(move || sqlite_query(&*db.lock()?, &sql, &params)).await
            }
            Db::Postgres(pool) => {
                let (limit, hung) = (pool.step_timeout, std::sync::atomic::AtomicBool::new(false));
                let mut conn = pool.get().await?;
                let sql = postgres_sql(sql);
                let rows = async {
                    let statement = within(&hung, limit, conn.prepare(&sql)).await?;
                    let bound = pg_params(&statement, params)?;
                    within(
                        &hung,
                        limit,
                        conn.client.query(&statement, &pg_refs(&bound)),
                    )
                    .await
                }
                .await;
                conn.settle(&hung);
                rows?.iter().map(pg_row).collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub async fn query_one(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StoreError> {
        Ok(self
            .transaction(vec![Stmt::new(sql, params)])
            .await?
            .and_then(|counts| counts.first().copied())
            .unwrap_or(0))
    }

    /// Runs the statements in one transaction: every row count, or `None` (and nothing
    /// written) when a guard changed no row.
    pub async fn transaction(&self, stmts: Vec<Stmt>) -> Result<Option<Vec<u64>>, StoreError> {
        match self {
            Db::Sqlite(db) => {
                let db = db.clone();
                blocking(move || {
                    let mut db = db.lock()?;
                    let tx = db.transaction()?;
                    let mut counts = Vec::with_capacity(stmts.len());
                    for stmt in &stmts {
                        let n = tx.execute(
                            &sqlite_sql(&stmt.sql),
                            rusqlite::params_from_iter(stmt.params.iter().map(SqliteValue)),
                        )? as u64;
                        if stmt.guard && n == 0 {
                            return Ok(None); // dropping `tx` rolls back
                        }
                        counts.push(n);
                    }
                    tx.commit()?;
                    Ok(Some(counts))
                })
                .await
            }
            Db::Postgres(pool) => {
                let (limit, hung) = (pool.step_timeout, std::sync::atomic::AtomicBool::new(false));
                let mut conn = pool.get().await?;
                let result = pg_transaction(&mut conn, stmts, &hung, limit).await;
                conn.settle(&hung);
                result
            }
        }
    }

    /// Brings the schema to version `migrations.len()`: migration N (from 1) takes a database
    /// from version N - 1 to N, and the version is kept in `meta` (`schema_version`). The
    /// missing ones run in one transaction with the version they reach, so each runs once; a
    /// database at a version beyond `migrations` (made by a newer backend) is refused.
    /// Replicas starting together take turns (an immediate transaction on SQLite, an advisory
    /// lock on PostgreSQL), and the version is read again under it. A database already at
    /// the version is left alone, without the lock: `CREATE INDEX IF NOT EXISTS` waits on a
    /// table's write locks even when the index exists, so a replica starting during a long
    /// sync would wait behind it (and time out).
    pub async fn migrate(&self, migrations: &'static [&'static str]) -> Result<(), StoreError> {
        let current = migrations.len().to_string();
        if let Ok(Some(row)) = self.query_one(SCHEMA_VERSION, Vec::new()).await {
            if row.text(0) == current {
                return Ok(());
            }
        }
        match self {
            Db::Sqlite(db) => {
                let db = db.clone();
                blocking(move || {
                    let mut conn = db.lock()?;
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    tx.execute_batch(META_TABLE)?;
                    let stored: Option<String> = rusqlite::OptionalExtension::optional(
                        tx.query_row(SCHEMA_VERSION, [], |r| r.get(0)),
                    )?;
                    for migration in pending(stored.as_deref(), migrations)? {
                        tx.execute_batch(migration)?;
                    }
                    tx.execute(&sqlite_sql(SET_SCHEMA_VERSION), [current])?;
                    tx.commit()?;
                    Ok(())
                })
                .await
            }
            Db::Postgres(pool) => {
                let limit = pool.step_timeout.max(PG_MIGRATION_TIMEOUT);
                let hung = std::sync::atomic::AtomicBool::new(false);
                let mut conn = pool.get().await?;
                let result = async {
                    let tx = within(&hung, limit, conn.client.transaction()).await?;
                    let lock = tx.batch_execute("SELECT pg_advisory_xact_lock(7279542)");
                    within(&hung, limit, lock).await?;
                    within(&hung, limit, tx.batch_execute(META_TABLE)).await?;
                    let stored = within(&hung, limit, tx.query_opt(SCHEMA_VERSION, &[]))
                        .await?
                        .map(|row| row.get::<_, String>(0));
                    for migration in pending(stored.as_deref(), migrations)? {
                        within(&hung, limit, tx.batch_execute(migration)).await?;
                    }
                    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&current];
                    let set = tx.execute(SET_SCHEMA_VERSION, &params);
                    within(&hung, limit, set).await?;
                    within(&hung, limit, tx.commit()).await
                }
                .await;
                conn.settle(&hung);
                result
            }
        }
    }
}

/// The table the schema's version is kept in (migration 1 makes it too).
const META_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";
/// The schema's version, as stored.
const SCHEMA_VERSION: &str = "SELECT value FROM meta WHERE key = 'schema_version'";
/// The schema's version, stored.
const SET_SCHEMA_VERSION: &str = "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The migrations a database at version `stored` (none: a new one, or one made before the
/// schema had versions, which migration 1 takes as it finds it) still needs.
fn pending(
    stored: Option<&str>,
    migrations: &'static [&'static str],
) -> Result<&'static [&'static str], StoreError> {
    let version = match stored {
        None => 0,
        Some(text) => text.trim().parse::<usize>().map_err(|_| {
            StoreError(format!(
                "meta.schema_version is {text:?}, not a version number"
            ))
        })?,
    };
    migrations.get(version..).ok_or_else(|| {
        StoreError(format!(
            "the database's schema is version {version}, newer than this backend's {}: start \
             the backend that made it (or a newer one)",
            migrations.len()
        ))
    })
}

/// A transaction's statements on one PostgreSQL connection, each step within `limit`.
async fn pg_transaction(
    conn: &mut Lent<'_>,
    stmts: Vec<Stmt>,
    hung: &std::sync::atomic::AtomicBool,
    limit: std::time::Duration,
) -> Result<Option<Vec<u64>>, StoreError> {
    let mut prepared = Vec::with_capacity(stmts.len());
    for stmt in &stmts {
        let sql = postgres_sql(&stmt.sql);
        prepared.push(within(hung, limit, conn.prepare(&sql)).await?);
    }
    let tx = within(hung, limit, conn.client.transaction()).await?;
    let mut counts = Vec::with_capacity(stmts.len());
    for (stmt, statement) in stmts.into_iter().zip(&prepared) {
        let bound = pg_params(statement, stmt.params)?;
        let n = within(hung, limit, tx.execute(statement, &pg_refs(&bound))).await?;
        if stmt.guard && n == 0 {
            within(hung, limit, tx.rollback()).await?;
            return Ok(None);
        }
        counts.push(n);
    }
    within(hung, limit, tx.commit()).await?;
    Ok(Some(counts))
}

/// Creates `path` readable and writable by its owner only, or checks that an existing file
/// is not readable by others.
fn private_file(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(StoreError(format!(
                    "{shown} can be read by other users (mode {mode:o}) and holds access \
                     tokens: run `chmod 600 {shown}`, or use another file"
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map(drop)
            .map_err(|e| StoreError(format!("cannot create {shown}: {e}"))),
        Err(e) => Err(StoreError(format!("cannot read {shown}: {e}"))),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError(format!("the database task failed: {e}")))?
}

/// `$1` parameters as SQLite numbers them (`?1`); the row lock dropped (one writer at a time).
fn sqlite_sql(sql: &str) -> String {
    let sql = sql.replace(SKIP_LOCKED, "");
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Where a job claim's subquery takes its row lock.
pub const SKIP_LOCKED: &str = "/* row lock */";

fn postgres_sql(sql: &str) -> String {
    sql.replace(SKIP_LOCKED, "FOR UPDATE SKIP LOCKED")
}

struct SqliteValue<'a>(&'a Value);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

fn sqlite_query(
    db: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    use rusqlite::types::ValueRef;
    let mut stmt = db.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(SqliteValue)))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(r) => Value::Real(r),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Value::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(Row(values));
    }
    Ok(out)
}

/// A few PostgreSQL connections, each with its prepared statements; a connection that broke
/// is replaced at its next use.
pub struct Pool {
    url: String,
    connect_timeout: std::time::Duration,
    step_timeout: std::time::Duration,
    idle: Mutex<Vec<Conn>>,
    permits: tokio::sync::Semaphore,
}

struct Conn {
    client: tokio_postgres::Client,
    prepared: HashMap<String, tokio_postgres::Statement>,
}

impl Conn {
    async fn prepare(&mut self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.prepared.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// A connection lent by the pool; it goes back when dropped, unless it broke or the call
/// using it did not end with an answer (a step timed out, a stopped job dropped the call):
/// then its statement is cancelled (one waiting on a lock would otherwise still run, later)
/// and the connection closed.
struct Lent<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
    settled: bool,
    _permit: tokio::sync::SemaphorePermit<'p>,
}

impl Lent<'_> {
    /// The call using it ended (with its answer or an error): it can be lent again.
    fn settled(&mut self) {
        self.settled = true;
    }

    /// The call ended: lent again unless one of its steps went unanswered.
    fn settle(&mut self, hung: &std::sync::atomic::AtomicBool) {
        self.settled = !hung.load(std::sync::atomic::Ordering::Relaxed);
    }
}

impl std::ops::Deref for Lent<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("lent until dropped")
    }
}
impl std::ops::DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("lent until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take().filter(|c| !c.client.is_closed()) else {
            return;
        };
        if self.settled {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(conn);
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let cancel = conn.client.cancel_token();
            let limit = self.pool.connect_timeout;
            runtime.spawn(async move {
                let cancelled = cancel.cancel_query(tokio_postgres::NoTls);
                if let Ok(Err(e)) = tokio::time::timeout(limit, cancelled).await {
                    tracing::debug!(error = %e, "cancelling a statement given up on failed");
                }
            });
        }
    }
}

impl Pool {
    async fn get(&self) -> Result<Lent<'_>, StoreError> {
        // Waiting for a connection is bounded by a step's limit: while the database hangs, the
        // calls queued behind the pool fail in time instead of each waiting its turn. (A call
        // may still take that wait, a connect and its own steps; and a healthy pool busy for a
        // whole step now fails the call, 500 or a webhook's 503, where it waited before.)
        let permit = tokio::time::timeout(self.step_timeout, self.permits.acquire())
            .await
            .map_err(|_| {
                StoreError(format!(
                    "postgres: every connection busy for {} ms",
                    self.step_timeout.as_millis()
                ))
            })?
            .map_err(|_| StoreError("the connection pool is closed".into()))?;
        let idle = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            std::iter::from_fn(|| idle.pop()).find(|c| !c.client.is_closed())
        };
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let connect = tokio_postgres::connect(&self.url, tokio_postgres::NoTls);
                let (client, connection) = tokio::time::timeout(self.connect_timeout, connect)
                    .await
                    .map_err(|_| {
                        StoreError(format!(
                            "postgres: no connection within {} s",
                            self.connect_timeout.as_secs()
                        ))
                    })??;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "a database connection closed");
                    }
                });
                Conn {
                    client,
                    prepared: HashMap::new(),
                }
            }
        };
        Ok(Lent {
            pool: self,
            conn: Some(conn),
            settled: false,
            _permit: permit,
        })
    }
}

/// A parameter as PostgreSQL's declared type for it wants it.
type PgParam = Box<dyn tokio_postgres::types::ToSql + Sync + Send>;

fn pg_params(
    statement: &tokio_postgres::Statement,
    params: Vec<Value>,
) -> Result<Vec<PgParam>, StoreError> {
    use tokio_postgres::types::Type;
    let types = statement.params();
    if types.len() != params.len() {
        return Err(StoreError(format!(
            "the statement takes {} parameters, {} given",
            types.len(),
            params.len()
        )));
    }
    types
        .iter()
        .zip(params)
        .map(|(ty, v)| -> Result<PgParam, StoreError> {
            Ok(match (ty, v) {
                (&Type::INT8, Value::Int(n)) => Box::new(n),
                (&Type::INT8, Value::Null) => Box::new(None::<i64>),
                (&Type::INT4, Value::Int(n)) => Box::new(
                    i32::try_from(n).map_err(|_| StoreError(format!("{n} is out of range")))?,
                ),
                (&Type::INT4, Value::Null) => Box::new(None::<i32>),
                (&Type::FLOAT8, Value::Real(r)) => Box::new(r),
                (&Type::FLOAT8, Value::Int(n)) => Box::new(n as f64),
                (&Type::FLOAT8, Value::Null) => Box::new(None::<f64>),
                (&Type::TEXT | &Type::VARCHAR, Value::Text(s)) => Box::new(s),
                (&Type::TEXT | &Type::VARCHAR, Value::Null) => Box::new(None::<String>),
                (&Type::TEXT | &Type::VARCHAR, Value::Int(n)) => Box::new(n.to_string()),
                (ty, v) => {
                    return Err(StoreError(format!(
                        "no conversion of a {} to {ty}",
                        match v {
                            Value::Null => "null",
                            Value::Int(_) => "integer",
                            Value::Real(_) => "real",
                            Value::Text(_) => "text",
                        }
                    )))
                }
            })
        })
        .collect()
}

fn pg_refs(params: &[PgParam]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

fn pg_row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    use tokio_postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let value = match *column.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|n| Value::Int(n.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(b.into())),
            Type::TEXT | Type::VARCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            ref other => {
                return Err(StoreError(format!(
                    "column {} has type {other}, which the backend does not read",
                    column.name()
                )))
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_the_sqlite_way_and_the_row_lock_is_dropped() {
        assert_eq!(
            sqlite_sql("SELECT $1, $12 FROM t WHERE a = '$' /* row lock */"),
            "SELECT ?1, ?12 FROM t WHERE a = '$' "
        );
        assert_eq!(
            postgres_sql("SELECT id FROM jobs /* row lock */"),
            "SELECT id FROM jobs FOR UPDATE SKIP LOCKED"
        );
    }

    /// Review round 22: a migration added to the list reaches a database made with the
    /// earlier list, once (each `ALTER TABLE` here fails if run twice).
    #[tokio::test]
    async fn each_migration_runs_once_in_order() {
        const FIRST: &[&str] = &["CREATE TABLE t (a TEXT)"];
        const BOTH: &[&str] = &["CREATE TABLE t (a TEXT)", "ALTER TABLE t ADD COLUMN b TEXT"];
        let path = crate::jobs::tests::new_database();
        let db = Db::sqlite(&path).unwrap();
        db.migrate(FIRST).await.unwrap();
        db.migrate(FIRST).await.unwrap();
        db.migrate(BOTH).await.unwrap();
        db.migrate(BOTH).await.unwrap();
        db.execute("INSERT INTO t (a, b) VALUES ($1, $2)", params!["x", "y"])
            .await
            .unwrap();
        let version = db
            .query_one(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                params![],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(version.text(0), "2");
        let newer = db.migrate(FIRST).await.unwrap_err();
        assert!(
            newer.0.contains("version 2, newer than this backend's 1"),
            "{newer}"
        );
        let _ = std::fs::remove_file(&path);
    }

    /// LOW (review round 9): the SQLite file removed while the backend ran went unnoticed:
    /// links answered 201 into a file gone at the next start, their banks still connected.
    #[tokio::test]
    async fn a_database_file_removed_or_replaced_fails_every_statement() {
        let path = crate::jobs::tests::new_database();
        let db = Db::sqlite(&path).unwrap();
        db.execute("CREATE TABLE t (a TEXT)", params![])
            .await
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let gone = db
            .execute("INSERT INTO t (a) VALUES ($1)", params!["x"])
            .await
            .unwrap_err();
        assert!(gone.0.contains("removed or replaced"), "{gone}");
        std::fs::write(&path, b"").unwrap(); // another file at the same path
        let other = db.query("SELECT a FROM t", params![]).await.unwrap_err();
        assert!(other.0.contains("removed or replaced"), "{other}");
        let _ = std::fs::remove_file(&path);
    }

    /// Connections a [`hanging_server`] accepted: sessions started, and cancel requests.
    #[derive(Default)]
    struct Seen {
        sessions: std::sync::atomic::AtomicUsize,
        cancels: std::sync::atomic::AtomicUsize,
    }

    /// A stand-in for a PostgreSQL server that hangs: it accepts connections (counted) and, if
    /// `greets`, completes a session's start (no password), then answers nothing.
    async fn hanging_server(greets: bool) -> (String, Arc<Seen>) {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("postgres://app@{}/app", listener.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let count = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let mut length = [0u8; 4];
                    if socket.read_exact(&mut length).await.is_err() {
                        return;
                    }
                    let length = (u32::from_be_bytes(length) as usize).saturating_sub(4);
                    let mut first = vec![0u8; length];
                    if length < 4 || socket.read_exact(&mut first).await.is_err() {
                        return;
                    }
                    // A cancel request's code is 80877102; a session's start, the protocol.
                    if first[..4] == 80_877_102u32.to_be_bytes() {
                        count.cancels.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    count.sessions.fetch_add(1, Ordering::SeqCst);
                    if greets {
                        // AuthenticationOk, BackendKeyData, ReadyForQuery (idle).
                        let mut hello = b"R\0\0\0\x08\0\0\0\0".to_vec();
                        hello.extend_from_slice(b"K\0\0\0\x0c\0\0\0\x01\0\0\0\x02");
                        hello.extend_from_slice(b"Z\0\0\0\x05I");
                        let _ = socket.write_all(&hello).await;
                    }
                    let mut sink = [0u8; 1024];
                    while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                });
            }
        });
        (url, seen)
    }

    /// LOW (review round 9): a PostgreSQL that hangs held every request (and a webhook past
    /// Plaid's 10 s) for as long as it hung, with nothing logged; a connection whose call
    /// was given up on went back to the pool and hung the next call too, and its statement
    /// could still run later.
    #[tokio::test]
    async fn a_hanging_database_fails_each_call_in_time_on_a_fresh_connection() {
        use std::sync::atomic::Ordering;
        use std::time::Duration;
        let (url, _) = hanging_server(false).await;
        let refused = tokio::time::timeout(
            Duration::from_secs(10),
            Db::postgres_timed(
                &url,
                2,
                Duration::from_millis(300),
                Duration::from_millis(300),
            ),
        )
        .await;
        let refused = refused.expect("connecting hung").unwrap_err();
        assert!(refused.0.contains("no connection within"), "{refused}");

        let (url, seen) = hanging_server(true).await;
        let db = Db::postgres_timed(&url, 2, Duration::from_secs(5), Duration::from_millis(300))
            .await
            .unwrap();
        for call in 1..=2 {
            let hung =
                tokio::time::timeout(Duration::from_secs(10), db.query("SELECT 1", params![]))
                    .await;
            let hung = hung.expect("a call hung").unwrap_err();
            assert!(hung.0.contains("did not answer within"), "{hung}");
            // The start's connection came back (it ended); each hung call's did not.
            assert_eq!(seen.sessions.load(Ordering::SeqCst), call);
        }
        // And each hung call's statement was cancelled, so it cannot run later.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while seen.cancels.load(Ordering::SeqCst) < 2 {
            assert!(std::time::Instant::now() < deadline, "no cancel request");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// MED (review round 22): while PostgreSQL hung, a call waited for one of the pool's
    /// connections without a limit, so the calls queued behind the pool's size each took a
    /// whole step's limit in turn (48 requests on 8 connections: the last answered after about
    /// 40 s, a webhook long past Plaid's 10 s). Waiting for a connection now has the same limit
    /// as a step: a one-statement call ends within about two steps, whatever is queued.
    #[tokio::test]
    async fn calls_queued_behind_a_hanging_pool_fail_in_time() {
        use std::time::Duration;
        let (url, _) = hanging_server(true).await;
        let step = Duration::from_millis(800);
        let db = Arc::new(
            Db::postgres_timed(&url, 1, Duration::from_secs(5), step)
                .await
                .unwrap(),
        );
        let calls: Vec<_> = (0..5)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    tokio::time::timeout(step * 3, db.query("SELECT 1", params![])).await
                })
            })
            .collect();
        for call in calls {
            let failed = call
                .await
                .unwrap()
                .expect("a queued call outlived its limit");
            let e = failed.unwrap_err();
            assert!(
                e.0.contains("did not answer within") || e.0.contains("busy"),
                "{e}"
            );
        }
    }
}
