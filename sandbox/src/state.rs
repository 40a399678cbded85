//! Everything the sandbox knows: its settings and clock, Link tokens and their sessions, public
//! tokens not yet exchanged, Items, processor tokens, faults and sent webhooks.

use crate::failure::Failure;
use crate::institutions::Bank;
use crate::ledger::Ledger;
use crate::rng::Rng;
use crate::users::{AccountPlan, LedgerPlan, Profile};
use crate::{Fault, SentWebhook, WebhookChaos};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// How long a public token lives (Plaid: 30 minutes).
pub(crate) const PUBLIC_TOKEN_LIFE: chrono::Duration = chrono::Duration::minutes(30);
/// How long a Link token lives: 4 hours, 30 minutes in update mode (Plaid's defaults).
pub(crate) const LINK_TOKEN_LIFE: chrono::Duration = chrono::Duration::hours(4);
pub(crate) const UPDATE_LINK_TOKEN_LIFE: chrono::Duration = chrono::Duration::minutes(30);
/// A sandbox Item needs its user to log in again after 30 days (Plaid's sandbox does this).
pub(crate) const LOGIN_LIFE: chrono::Duration = chrono::Duration::days(30);

/// The latest time the sandbox's clock shows, 9000-01-01: far inside chrono's range (to year
/// 262143), so that no margin the handlers add to `now` (a login's 30 days, a loan's years)
/// can overflow.
pub(crate) fn clock_limit() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// The earliest start the clock takes, 0001-01-01: the margins subtracted from `now` (a
/// minute of rate limit, a month of history) stay inside chrono's range too.
fn clock_floor() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc())
}

/// `at` plus `by`, saturating at chrono's last instant rather than overflowing (a panic) for
/// a date near it.
pub(crate) fn later(at: DateTime<Utc>, by: chrono::Duration) -> DateTime<Utc> {
    at.checked_add_signed(by)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The sandbox's virtual clock: a start time, the real time passed since (unless frozen), and
/// what tests added.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    base: DateTime<Utc>,
    started: std::time::Instant,
    frozen: bool,
    added: chrono::Duration,
}

impl Clock {
    /// A clock from `base` in whole seconds (so that a frozen clock moves by exactly what
    /// is added), taken between 0001-01-01 and [`clock_limit`].
    pub(crate) fn new(base: DateTime<Utc>, frozen: bool) -> Self {
        use chrono::SubsecRound;
        Clock {
            base: base.clamp(clock_floor(), clock_limit()).trunc_subsecs(0),
            started: std::time::Instant::now(),
            frozen,
            added: chrono::Duration::zero(),
        }
    }

    /// The time, in whole seconds as Plaid's timestamps are (`2020-03-27T12:56:34Z`; nine
    /// digits of nanoseconds broke parsers written against Plaid's format): at most
    /// [`clock_limit`] (where it stands, however far it is moved).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        let limit = clock_limit();
        self.unmoved()
            .checked_add_signed(self.added)
            .map_or(limit, |t| t.min(limit))
            .trunc_subsecs(0)
    }

    /// The time without the moves `advance` made: the start, plus the time that flowed since
    /// if the clock is not frozen.
    fn unmoved(&self) -> DateTime<Utc> {
        let flowed = if self.frozen {
            chrono::Duration::zero()
        } else {
            chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
        };
        self.base.checked_add_signed(flowed).unwrap_or(self.base)
    }

    /// Moves the clock forward (at most 100 years at once), saturating: the moves in all
    /// take it no further than [`clock_limit`].
    pub(crate) fn advance(&mut self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by)
            .unwrap_or(chrono::Duration::days(36_500))
            .min(chrono::Duration::days(36_500));
        let room = clock_limit()
            .signed_duration_since(self.base)
            .max(chrono::Duration::zero());
        self.added = self.added.checked_add(&by).unwrap_or(room).min(room);
    }
}

/// The settings a sandbox was started with; a reset keeps them.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) seed: u64,
    pub(crate) history_days: u64,
    pub(crate) not_ready_syncs: u32,
    pub(crate) client_id: String,
    pub(crate) secret: String,
    pub(crate) webhook_hosts: Vec<String>,
    /// The wait before a failed webhook's first retry (zero: no retries).
    pub(crate) webhook_retry: std::time::Duration,
    pub(crate) start: DateTime<Utc>,
    pub(crate) frozen: bool,
    /// Plaid's sandbox rate limits per Item are enforced (see `handlers::RATE_LIMITS`).
    pub(crate) rate_limits: bool,
}

#[cfg(test)]
impl Settings {
    /// Settings for a unit test: seed 0, client `id` with secret `secret`, a clock frozen at
    /// the Unix epoch, no webhook retries, no rate limits.
    pub(crate) fn for_tests() -> Settings {
        Settings {
            seed: 0,
            history_days: 730,
            not_ready_syncs: 0,
            client_id: "id".into(),
            secret: "secret".into(),
            webhook_hosts: Vec::new(),
            webhook_retry: std::time::Duration::ZERO,
            start: chrono::DateTime::UNIX_EPOCH,
            frozen: true,
            rate_limits: false,
        }
    }
}

/// One account of an Item.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) plan: AccountPlan,
    /// Micro-deposit verification status (`pending_automatic_verification`, …), if any.
    pub(crate) verification: Option<String>,
}

/// One Item.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Its number among the sandbox's Items: with the seed, where its data comes from.
    pub(crate) number: u64,
    pub(crate) item_id: String,
    pub(crate) access_token: String,
    /// The times of its recent calls to each rate-limited path, oldest first.
    pub(crate) calls: HashMap<&'static str, std::collections::VecDeque<DateTime<Utc>>>,
    pub(crate) bank: &'static Bank,
    /// Products added to the Item (billed), in the order added.
    pub(crate) products: Vec<String>,
    /// Consent given in Link beyond `products` (see [`LinkToken::consented`]).
    pub(crate) consented: Vec<String>,
    /// Products it has but is not billed for until their first call: an optional Auth,
    /// Identity or Signal ("you will only be billed if you use the product").
    pub(crate) unbilled: Vec<String>,
    pub(crate) webhook: Option<String>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) ledger: Ledger,
    pub(crate) profile: Profile,
    /// The error every call needing the bank answers until the user repairs the Item.
    pub(crate) error: Option<Failure>,
    pub(crate) created_at: DateTime<Utc>,
    /// When the bank next asks the user to log in (30 days after linking or repair).
    pub(crate) login_expires_at: DateTime<Utc>,
    pub(crate) consent_expiration: Option<DateTime<Utc>>,
    pub(crate) removed: bool,
    /// Transactions calls still to answer "not ready".
    pub(crate) not_ready: u32,
    /// When each product's data was last refreshed, and last failed to be.
    pub(crate) last_update: HashMap<&'static str, DateTime<Utc>>,
    pub(crate) last_failed: HashMap<&'static str, DateTime<Utc>>,
    pub(crate) last_webhook: Option<(DateTime<Utc>, String)>,
    /// Whether `/transactions/sync` has been called (Plaid sends `SYNC_UPDATES_AVAILABLE`
    /// only after).
    pub(crate) synced: bool,
}

impl Item {
    pub(crate) fn has_product(&self, product: &str) -> bool {
        self.products.iter().any(|p| p == product)
    }

    /// The webhook's body with the fields every Item webhook carries.
    pub(crate) fn webhook_body(
        &self,
        webhook_type: &str,
        code: &str,
        extra: &[(&str, Value)],
    ) -> Value {
        let mut body = report_webhook_body(webhook_type, code, extra);
        if let Value::Object(map) = &mut body {
            map.insert("item_id".to_owned(), Value::String(self.item_id.clone()));
        }
        body
    }
}

/// A webhook's body about a report rather than an Item (Assets: its schemas have no
/// `item_id`): its type, code and environment, and `extra`.
pub(crate) fn report_webhook_body(
    webhook_type: &str,
    code: &str,
    extra: &[(&str, Value)],
) -> Value {
    let mut body = serde_json::json!({
        "webhook_type": webhook_type,
        "webhook_code": code,
        "environment": "sandbox",
    });
    if let Value::Object(map) = &mut body {
        for (k, v) in extra {
            map.insert((*k).to_owned(), v.clone());
        }
    }
    body
}

/// What a Link session did, for `/link/token/get` and the Link emulator.
#[derive(Debug, Clone)]
pub(crate) struct LinkSession {
    pub(crate) id: String,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) finished_at: Option<DateTime<Utc>>,
    /// `(event_name, timestamp, metadata)`, in order.
    pub(crate) events: Vec<(String, DateTime<Utc>, Value)>,
    /// What `events` keep, as the Link emulator counts it (bounded there).
    pub(crate) events_bytes: usize,
    pub(crate) outcome: Option<SessionOutcome>,
    /// Where the user is in the Link emulator: logged in, through how much MFA.
    pub(crate) login: Option<crate::link_flow::Login>,
}

impl LinkSession {
    /// A session started at `now`: no event, login or outcome yet.
    pub(crate) fn new(id: String, now: DateTime<Utc>) -> Self {
        LinkSession {
            id,
            started_at: now,
            finished_at: None,
            events: Vec::new(),
            events_bytes: 0,
            outcome: None,
            login: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum SessionOutcome {
    Success {
        public_token: String,
        institution_id: String,
        institution_name: String,
        /// `(account_id or null before exchange, name, mask, type, subtype)`.
        accounts: Vec<Value>,
    },
    Exit {
        error: Option<Value>,
        status: String,
        institution: Option<(String, String)>,
        /// The `request_id` of `onExit`'s metadata.
        request_id: String,
    },
}

/// Products a link token asks for only where supported: extracted when Link hands over the
/// public token ([`State::new_public_token`]), if the institution offers them and an account
/// the user kept serves them; else the Item is made without them (the spec's
/// `required_if_supported_products` and `optional_products`; Plaid's "Choosing how to
/// initialize products").
#[derive(Debug, Clone, Default)]
pub(crate) struct IfSupported {
    /// `required_if_supported_products`: billed when extracted.
    pub(crate) required: Vec<String>,
    /// `optional_products`: billed when extracted, but Auth, Identity and Signal only once
    /// used ([`Item::unbilled`]).
    pub(crate) optional: Vec<String>,
}

/// What a Link token was created for.
#[derive(Debug, Clone)]
pub(crate) struct LinkToken {
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) client_user_id: String,
    /// Update mode: the Item's id.
    pub(crate) item_id: Option<String>,
    pub(crate) products: Vec<String>,
    /// Consent Link collects beyond `products`: `additional_consented_products`,
    /// `optional_products`, `required_if_supported_products`.
    pub(crate) consented: Vec<String>,
    /// `required_if_supported_products` and `optional_products`.
    pub(crate) if_supported: IfSupported,
    pub(crate) webhook: Option<String>,
    pub(crate) country_codes: Vec<String>,
    pub(crate) language: String,
    pub(crate) client_name: String,
    pub(crate) redirect_uri: Option<String>,
    /// `transactions.days_requested`: the history a new Item's Transactions asks for.
    pub(crate) days_requested: Option<u64>,
    /// Update mode: `update.account_selection_enabled` (Link shows Account Select).
    pub(crate) account_selection: bool,
    /// `account_filters` as given (checked against the spec): the account types, and their
    /// subtypes, Link shows.
    pub(crate) account_filters: Option<serde_json::Value>,
    pub(crate) sessions: Vec<LinkSession>,
}

/// A public token not yet exchanged.
#[derive(Debug, Clone)]
pub(crate) struct PendingItem {
    pub(crate) bank: &'static Bank,
    pub(crate) products: Vec<String>,
    /// Consent given in Link beyond `products` (see [`LinkToken::consented`]).
    pub(crate) consented: Vec<String>,
    pub(crate) webhook: Option<String>,
    pub(crate) profile: Profile,
    pub(crate) created_at: DateTime<Utc>,
    /// The ids its accounts will have, given when the public token is made: Link's
    /// `onSuccess` names the accounts before the exchange, as Plaid's does.
    pub(crate) account_ids: Vec<String>,
    /// For an update-mode session's token: the Item it repaired (its exchange is refused).
    pub(crate) update_of: Option<String>,
    /// The transaction history asked for when Transactions is initialised at creation.
    pub(crate) history: History,
    /// Products its link token asked for only where supported, until extracted.
    pub(crate) if_supported: IfSupported,
    /// Products extracted but not billed until used (see [`Item::unbilled`]).
    pub(crate) unbilled: Vec<String>,
}

impl PendingItem {
    /// A new Item's, at `bank` for the login `profile`, with nothing yet from a link token
    /// ([`crate::handlers::items::apply_link`]).
    pub(crate) fn new(
        bank: &'static Bank,
        products: Vec<String>,
        webhook: Option<String>,
        profile: Profile,
        created_at: DateTime<Utc>,
    ) -> Self {
        PendingItem {
            bank,
            products,
            consented: Vec::new(),
            webhook,
            profile,
            created_at,
            account_ids: Vec::new(),
            update_of: None,
            history: History::default(),
            if_supported: IfSupported::default(),
            unbilled: Vec::new(),
        }
    }

    /// An update-mode session's: the Item `item_id` repaired, with its bank, the login
    /// `profile` and its accounts' ids.
    pub(crate) fn repair(
        item_id: &str,
        bank: &'static Bank,
        profile: Profile,
        account_ids: Vec<String>,
        created_at: DateTime<Utc>,
    ) -> Self {
        PendingItem {
            update_of: Some(item_id.to_owned()),
            account_ids,
            ..PendingItem::new(bank, Vec::new(), None, profile, created_at)
        }
    }
}

/// The transaction history an Item's Transactions asks for: `days_requested` (Link's
/// `transactions.days_requested`, the sandbox's `options.transactions.days_requested`, or a
/// first `/transactions/sync` or `/transactions/get`'s `options.days_requested`) and the
/// sandbox's `start_date`/`end_date`. Nothing asked: the sandbox's own `history_days`. Asked
/// at the Item's creation, it may be longer or shorter than that; asked by a first sync or
/// get (the Item exists, and its balances with it), only shorter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct History {
    pub(crate) days: Option<u64>,
    pub(crate) start: Option<NaiveDate>,
    pub(crate) end: Option<NaiveDate>,
}

impl History {
    /// Plaid's bounds for `days_requested`.
    pub(crate) const MAX_DAYS: u64 = 730;

    /// A `days_requested` value: an integer from 1 to 730 (Plaid's bounds); absent: none.
    pub(crate) fn days_requested(
        value: Option<&Value>,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        crate::body::one_to(value, field, Self::MAX_DAYS)
    }

    /// Whether anything was asked.
    pub(crate) fn any(&self) -> bool {
        self.days.is_some() || self.start.is_some() || self.end.is_some()
    }

    /// The first and last dates of the history asked for, as of `today`.
    pub(crate) fn window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let by_days = self
            .days
            .and_then(|d| today.checked_sub_days(chrono::Days::new(d.clamp(1, Self::MAX_DAYS))))
            .unwrap_or(NaiveDate::MIN);
        let from = self.start.map_or(by_days, |s| s.max(by_days));
        (from, self.end.unwrap_or(NaiveDate::MAX))
    }
}

/// A fault a test asked for, on one path or on all.
#[derive(Debug, Clone)]
pub(crate) struct Injected {
    pub(crate) path: Option<String>,
    pub(crate) fault: Fault,
    pub(crate) remaining: u32,
}

/// Everything the sandbox knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    pub(crate) clock: Clock,
    next_item: u64,
    next_token: u64,
    /// The secret key tokens are made with: fresh from the operating system's randomness for
    /// every state (each start, each reset), never from the seed.
    token_key: std::collections::hash_map::RandomState,
    next_request: u64,
    next_id: u64,
    pub(crate) link_tokens: HashMap<String, LinkToken>,
    pub(crate) public_tokens: HashMap<String, PendingItem>,
    /// Items by item id.
    pub(crate) items: HashMap<String, Item>,
    /// Live access tokens: access token → item id.
    pub(crate) access_tokens: HashMap<String, String>,
    /// Processor tokens: token → (item id, account index).
    pub(crate) processor_tokens: HashMap<String, (String, usize)>,
    pub(crate) faults: Vec<Injected>,
    pub(crate) webhooks: Vec<SentWebhook>,
    pub(crate) chaos: WebhookChaos,
    /// Resets so far ([`generation`](Self::generation)), watched by the webhooks waiting out a
    /// chaos delay or a retry, so that a reset ends their waits at once (kept across resets,
    /// like the settings).
    pub(crate) generations: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Set when the sandbox is dropped: webhooks made after it (by a request still being
    /// answered as the server shuts down) are neither recorded nor sent.
    pub(crate) webhooks_ended: bool,
    /// Why webhooks were not delivered, each said once on stderr (`webhooks::refused`); a
    /// reset forgets them, so the next test is told again.
    pub(crate) refusals_said: Vec<String>,
}

impl State {
    pub(crate) fn new(settings: Settings) -> Self {
        let clock = Clock::new(settings.start, settings.frozen);
        State {
            settings,
            clock,
            next_item: 0,
            next_token: 0,
            token_key: std::collections::hash_map::RandomState::new(),
            next_request: 0,
            next_id: 0,
            link_tokens: HashMap::new(),
            public_tokens: HashMap::new(),
            items: HashMap::new(),
            access_tokens: HashMap::new(),
            processor_tokens: HashMap::new(),
            faults: Vec::new(),
            webhooks: Vec::new(),
            chaos: WebhookChaos::default(),
            generations: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
            webhooks_ended: false,
            refusals_said: Vec::new(),
        }
    }

    /// Forgets everything a test made: Items, tokens, sessions, faults, sent webhooks, the
    /// clock's moves and the webhook chaos. The settings stay, so the numbering starts over: a
    /// reset sandbox hands out the same tokens as a new one. A clock that flows keeps the time
    /// that flowed (a reset never sets it back before the present); a frozen one returns to its
    /// start.
    pub(crate) fn reset(&mut self) {
        let unmoved = self.clock.unmoved();
        let generations = std::sync::Arc::clone(&self.generations);
        let webhooks_ended = self.webhooks_ended;
        *self = State::new(self.settings.clone());
        self.webhooks_ended = webhooks_ended;
        self.clock = Clock::new(unmoved, self.settings.frozen);
        generations.send_modify(|generation| *generation += 1);
        self.generations = generations;
    }

    /// Ends what the webhook sender waits on and drops what it was about to post, as a reset
    /// does: the sandbox is being dropped.
    pub(crate) fn end_webhooks(&mut self) {
        self.webhooks_ended = true;
        self.generations.send_modify(|generation| *generation += 1);
    }

    /// Resets so far: a webhook made before the last one is neither sent nor recorded (its
    /// test is over, and its record's place now belongs to another).
    pub(crate) fn generation(&self) -> u64 {
        *self.generations.borrow()
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A token `<prefix>-sandbox-<uuid>`: unguessable, as Plaid's are. Its 128 bits are keyed
    /// SipHash of the token's number under [`token_key`](Self::token_key), a key that no seed,
    /// id or earlier token reveals, so that a page or another user who has seen tokens cannot
    /// work out the next one (tokens from the seed could be, the seed itself recovered from
    /// four of them).
    pub(crate) fn token(&mut self, prefix: &str) -> String {
        use std::hash::BuildHasher;
        self.next_token += 1;
        let high = self.token_key.hash_one((prefix, self.next_token, 0u8));
        let low = self.token_key.hash_one((prefix, self.next_token, 1u8));
        format!("{prefix}-sandbox-{}", crate::rng::uuid(high, low))
    }

    /// An id of Plaid's shape (letters and digits), from the seed.
    pub(crate) fn id(&mut self, len: usize) -> String {
        self.next_id += 1;
        let mut rng = Rng::new(self.settings.seed, 0x0069_6473, self.next_id);
        rng.id(len)
    }

    /// A UUID (Link session ids have this shape), from the seed.
    pub(crate) fn uuid(&mut self) -> String {
        self.next_id += 1;
        let mut rng = Rng::new(self.settings.seed, 0x0069_6473, self.next_id);
        rng.uuid()
    }

    pub(crate) fn request_id(&mut self) -> String {
        self.next_request += 1;
        let mut rng = Rng::new(self.settings.seed, 0x0072_6571, self.next_request);
        rng.id(15)
    }

    /// A public token for a new Item, as Link's `onSuccess` (or the sandbox shortcut) gives.
    pub(crate) fn new_public_token(&mut self, mut pending: PendingItem) -> String {
        crate::handlers::items::extract_if_supported(&mut pending);
        if pending.account_ids.len() != pending.profile.accounts.len() {
            pending.account_ids = (0..pending.profile.accounts.len())
                .map(|_| self.id(37))
                .collect();
        }
        let token = self.token("public");
        self.public_tokens.insert(token.clone(), pending);
        token
    }

    /// Creates the Item a public token stands for.
    pub(crate) fn create_item(&mut self, pending: PendingItem) -> (String, String) {
        self.next_item += 1;
        let number = self.next_item;
        let seed = self.settings.seed ^ pending.profile.seed;
        let mut rng = Rng::new(seed, 0x6974_656d, number);
        let item_id = rng.id(37);
        let now = self.now();
        let today = now.date_naive();
        let profile = pending.profile.dated(today);
        let mut accounts: Vec<Account> = profile
            .accounts
            .iter()
            .enumerate()
            .map(|(i, plan)| Account {
                id: pending
                    .account_ids
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| rng.id(37)),
                plan: plan.clone(),
                verification: (profile.automated_micro_deposits && i == 0)
                    .then(|| "pending_automatic_verification".to_owned()),
            })
            .collect();
        let transactions = pending.products.iter().any(|p| p == "transactions");
        let history = Some(pending.history).filter(|h| transactions && h.any());
        let mut ledger = match &profile.ledger {
            LedgerPlan::Generated(slots) => {
                // The history asked for, if more or less than the sandbox's own; back to a
                // `start_date` before it, too (the window below cuts what is not asked for).
                let days = history
                    .and_then(|h| h.days)
                    .map_or(self.settings.history_days, |d| {
                        d.clamp(1, History::MAX_DAYS)
                    });
                let to_start = history
                    .and_then(|h| h.start)
                    .map_or(0, |s| u64::try_from((today - s).num_days()).unwrap_or(0));
                let days = days.max(to_start.min(History::MAX_DAYS));
                Ledger::generated(seed, number, today, days, *slots)
            }
            LedgerPlan::Dynamic { checking, card } => {
                Ledger::dynamic(seed, number, today, *checking, *card)
            }
            LedgerPlan::Custom(planned) => Ledger::custom(seed, number, today, planned),
        };
        if let Some(history) = history {
            let (from, to) = history.window(today);
            ledger.keep_between(from, to);
        }
        // A balance that starts at the Item's creation (`starting_balance`) already holds
        // what has posted by then: a ledger balance is its plan's `current` less (more, for
        // what a card owes) what has posted, so that goes into `current`.
        for (index, account) in accounts.iter_mut().enumerate() {
            let plan = &mut account.plan;
            if plan.ledger_balance && plan.starts_at_current {
                let posted = ledger.posted(index);
                plan.current += if plan.kind == "credit" {
                    -posted
                } else {
                    posted
                };
            }
        }
        let access_token = self.token("access");
        // Each product once, in the order first named (review round 17: `dedup` removed only
        // neighbours, so `auth, transactions, auth` listed auth twice).
        let mut products = pending.products;
        let mut seen = std::collections::HashSet::new();
        products.retain(|p| seen.insert(p.clone()));
        let mut last_update = HashMap::new();
        if products.iter().any(|p| p == "transactions") {
            last_update.insert("transactions", now);
        }
        if products.iter().any(|p| p == "investments") {
            last_update.insert("investments", now);
        }
        let item = Item {
            number,
            item_id: item_id.clone(),
            access_token: access_token.clone(),
            bank: pending.bank,
            products,
            consented: pending.consented,
            unbilled: pending.unbilled,
            webhook: pending.webhook,
            accounts,
            ledger,
            profile,
            error: None,
            created_at: now,
            login_expires_at: later(now, LOGIN_LIFE),
            consent_expiration: None,
            removed: false,
            not_ready: self.settings.not_ready_syncs,
            calls: HashMap::new(),
            last_update,
            last_failed: HashMap::new(),
            last_webhook: None,
            synced: false,
        };
        self.access_tokens
            .insert(access_token.clone(), item_id.clone());
        self.items.insert(item_id.clone(), item);
        (access_token, item_id)
    }

    /// The Item an access token opens, if the token is live.
    pub(crate) fn item_id_for(&self, access_token: &str) -> Option<&str> {
        self.access_tokens.get(access_token).map(String::as_str)
    }

    /// The next fault injected for `path`, if any (and counts it used).
    pub(crate) fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let slot = self
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.path.as_deref().is_none_or(|p| p == path))?;
        slot.remaining -= 1;
        let fault = slot.fault.clone();
        self.faults.retain(|f| f.remaining > 0);
        Some(fault)
    }
}

/// Locks the state; a panic elsewhere while it was held does not make it unusable.
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However far the clock is moved, it saturates at `clock_limit` (never falls back to its
    /// start, as it did once the moves overflowed chrono), and never goes backwards.
    #[test]
    fn the_clock_saturates_at_its_limit_and_never_falls_back() {
        let start = NaiveDate::from_ymd_opt(2025, 3, 14)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap()
            .and_utc();
        let mut clock = Clock::new(start, true);
        let century = std::time::Duration::from_secs(36_500 * 86_400);
        let mut last = clock.now();
        for _ in 0..3_000 {
            clock.advance(century);
            let now = clock.now();
            assert!(now >= last, "{now} before {last}");
            last = now;
        }
        assert_eq!(clock.now(), clock_limit());
        clock.advance(std::time::Duration::MAX);
        assert_eq!(clock.now(), clock_limit());
        // Any margin added to it stays inside chrono's range.
        assert!(clock.now().checked_add_signed(LOGIN_LIFE * 1000).is_some());
        // A start past the limit (or before year 1) is taken at the limit (at year 1).
        let max = NaiveDate::MAX.and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert_eq!(Clock::new(max, true).now(), clock_limit());
        let min = NaiveDate::MIN.and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert_eq!(Clock::new(min, true).now(), clock_floor());
        assert_eq!(
            later(DateTime::<Utc>::MAX_UTC, LOGIN_LIFE),
            DateTime::<Utc>::MAX_UTC
        );
    }

    /// The clock reads in whole seconds, as Plaid's timestamps are, and a frozen clock moves
    /// by exactly what is added: two moves of 500 ms are one second, whatever fraction of a
    /// second it started at.
    #[test]
    fn the_clock_reads_whole_seconds_and_a_frozen_one_moves_by_what_is_added() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_milli_opt(12, 0, 0, 700)
            .unwrap()
            .and_utc();
        let whole = chrono::Timelike::with_nanosecond(&start, 0).unwrap();
        let mut clock = Clock::new(start, true);
        assert_eq!(clock.now(), whole);
        clock.advance(std::time::Duration::from_millis(500));
        assert_eq!(clock.now(), whole);
        clock.advance(std::time::Duration::from_millis(500));
        assert_eq!(clock.now(), whole + chrono::Duration::seconds(1));
    }
}
