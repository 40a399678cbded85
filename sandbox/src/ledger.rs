//! An Item's transactions: a change log that `/transactions/sync` pages through, and the day it
//! has been brought up to. Three kinds, after Plaid's sandbox users:
//!
//! * **generated** (`user_good` and most users): `history_days` of realistic activity (pay days,
//!   rent, card purchases that stay pending two days, card payments, corrected descriptions),
//!   a pure function of the seed and the Item's number, extended day by day as the clock moves;
//! * **dynamic** (`user_transactions_dynamic`): about 50 transactions over 30 days, pending and
//!   posted; each `/transactions/refresh` adds new pending ones, posts the earlier pending ones
//!   and adds $1.00 to one earlier amount, as Plaid's docs describe;
//! * **custom** (`user_custom`): exactly the transactions the config lists, pending until their
//!   posted date.

use crate::rng::Rng;
use chrono::{Datelike, Days, NaiveDate};

/// A merchant the generator draws from: name, personal finance category (primary, detailed),
/// amount range in dollars, channel, and which account pays (0 checking, 2 credit card).
struct Merchant {
    name: &'static str,
    primary: &'static str,
    detailed: &'static str,
    low: f64,
    high: f64,
    channel: &'static str,
    account: usize,
}

const MERCHANTS: &[Merchant] = &[
    Merchant {
        name: "Starbucks",
        primary: "FOOD_AND_DRINK",
        detailed: "FOOD_AND_DRINK_COFFEE",
        low: 3.5,
        high: 9.0,
        channel: "in store",
        account: 2,
    },
    Merchant {
        name: "McDonald's",
        primary: "FOOD_AND_DRINK",
        detailed: "FOOD_AND_DRINK_FAST_FOOD",
        low: 6.0,
        high: 18.0,
        channel: "in store",
        account: 2,
    },
    Merchant {
        name: "Sweetgreen",
        primary: "FOOD_AND_DRINK",
        detailed: "FOOD_AND_DRINK_RESTAURANT",
        low: 12.0,
        high: 28.0,
        channel: "in store",
        account: 2,
    },
    Merchant {
        name: "Whole Foods Market",
        primary: "FOOD_AND_DRINK",
        detailed: "FOOD_AND_DRINK_GROCERIES",
        low: 25.0,
        high: 160.0,
        channel: "in store",
        account: 0,
    },
    Merchant {
        name: "Trader Joe's",
        primary: "FOOD_AND_DRINK",
        detailed: "FOOD_AND_DRINK_GROCERIES",
        low: 20.0,
        high: 120.0,
        channel: "in store",
        account: 0,
    },
    Merchant {
        name: "Uber",
        primary: "TRANSPORTATION",
        detailed: "TRANSPORTATION_TAXIS_AND_RIDE_SHARES",
        low: 8.0,
        high: 45.0,
        channel: "online",
        account: 2,
    },
    Merchant {
        name: "Shell",
        primary: "TRANSPORTATION",
        detailed: "TRANSPORTATION_GAS",
        low: 30.0,
        high: 75.0,
        channel: "in store",
        account: 2,
    },
    Merchant {
        name: "Amazon",
        primary: "GENERAL_MERCHANDISE",
        detailed: "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
        low: 9.0,
        high: 220.0,
        channel: "online",
        account: 2,
    },
    Merchant {
        name: "Target",
        primary: "GENERAL_MERCHANDISE",
        detailed: "GENERAL_MERCHANDISE_SUPERSTORES",
        low: 15.0,
        high: 140.0,
        channel: "in store",
        account: 2,
    },
    Merchant {
        name: "Netflix",
        primary: "ENTERTAINMENT",
        detailed: "ENTERTAINMENT_TV_AND_MOVIES",
        low: 15.49,
        high: 15.49,
        channel: "online",
        account: 2,
    },
    Merchant {
        name: "Spotify",
        primary: "ENTERTAINMENT",
        detailed: "ENTERTAINMENT_MUSIC_AND_AUDIO",
        low: 10.99,
        high: 10.99,
        channel: "online",
        account: 2,
    },
    Merchant {
        name: "United Airlines",
        primary: "TRAVEL",
        detailed: "TRAVEL_FLIGHTS",
        low: 120.0,
        high: 420.0,
        channel: "online",
        account: 2,
    },
    Merchant {
        name: "CVS Pharmacy",
        primary: "MEDICAL",
        detailed: "MEDICAL_PHARMACIES_AND_SUPPLEMENTS",
        low: 6.0,
        high: 60.0,
        channel: "in store",
        account: 0,
    },
    Merchant {
        name: "Con Edison",
        primary: "RENT_AND_UTILITIES",
        detailed: "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY",
        low: 60.0,
        high: 140.0,
        channel: "online",
        account: 0,
    },
    Merchant {
        name: "Planet Fitness",
        primary: "PERSONAL_CARE",
        detailed: "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS",
        low: 24.99,
        high: 24.99,
        channel: "in store",
        account: 0,
    },
];

/// A transaction as the ledger holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Txn {
    pub(crate) id: String,
    /// The index of its account among the Item's accounts.
    pub(crate) account: usize,
    pub(crate) amount: f64,
    pub(crate) currency: String,
    pub(crate) date: NaiveDate,
    pub(crate) authorized: NaiveDate,
    pub(crate) name: String,
    pub(crate) merchant: Option<&'static str>,
    pub(crate) primary: &'static str,
    pub(crate) detailed: &'static str,
    pub(crate) channel: &'static str,
    pub(crate) pending: bool,
    pub(crate) pending_id: Option<String>,
    /// When a pending transaction posts.
    pub(crate) posts_on: Option<NaiveDate>,
}

/// One entry of an Item's change log; `/transactions/sync` pages through these.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    Added(Txn),
    Modified(Txn),
    Removed { id: String, account: usize },
}

/// Days a card transaction stays pending before it posts.
const PENDING_DAYS: u64 = 2;

/// Which of the Item's accounts the generated activity lands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slots {
    pub(crate) checking: Option<usize>,
    pub(crate) savings: Option<usize>,
    pub(crate) card: Option<usize>,
}

/// A transaction a `user_custom` config or `/sandbox/transactions/create` lists.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    pub(crate) account: usize,
    pub(crate) transacted: NaiveDate,
    pub(crate) posted: NaiveDate,
    pub(crate) amount: f64,
    pub(crate) description: String,
    pub(crate) currency: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Generated {
        slots: Slots,
    },
    Dynamic {
        checking: usize,
        card: Option<usize>,
    },
    Custom,
}

/// What one refresh changed, for the webhooks it fires.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Refreshed {
    pub(crate) added: usize,
    pub(crate) modified: usize,
    pub(crate) removed: Vec<String>,
}

impl Refreshed {
    pub(crate) fn any(&self) -> bool {
        self.count() > 0
    }

    /// How many changes: transactions added, modified and removed.
    pub(crate) fn count(&self) -> usize {
        self.added + self.modified + self.removed.len()
    }
}

/// The transactions as the log stands, in the order the log added them, kept up to date from
/// the log's tail: what a day of activity reads (what is pending and due, what could be
/// corrected), so a long catch-up does not replay the whole log each day (ten years of days
/// took 44 s, every other call waiting).
#[derive(Debug, Clone, Default)]
struct LiveIndex {
    /// How much of the log it has read.
    read: usize,
    /// Transactions added so far: the next one's place in the log's order.
    added: usize,
    /// Every live id, by its place.
    places: std::collections::HashMap<String, usize>,
    /// The live transactions, by place.
    live: std::collections::BTreeMap<usize, Txn>,
    /// The places of the pending ones.
    pending: std::collections::BTreeSet<usize>,
}

impl LiveIndex {
    /// Reads the log's changes it has not read yet (the same replay as `Ledger::refs_at`).
    fn read(&mut self, log: &[Change]) {
        if self.read > log.len() {
            *self = LiveIndex::default();
        }
        for change in &log[self.read..] {
            match change {
                Change::Added(t) => {
                    let place = self.added;
                    self.added += 1;
                    self.places.insert(t.id.clone(), place);
                    self.set(place, t);
                }
                Change::Modified(t) => {
                    if let Some(&place) = self.places.get(&t.id) {
                        self.set(place, t);
                    }
                }
                Change::Removed { id, .. } => {
                    if let Some(place) = self.places.remove(id) {
                        self.live.remove(&place);
                        self.pending.remove(&place);
                    }
                }
            }
        }
        self.read = log.len();
    }

    fn set(&mut self, place: usize, t: &Txn) {
        if t.pending {
            self.pending.insert(place);
        } else {
            self.pending.remove(&place);
        }
        self.live.insert(place, t.clone());
    }

    /// The pending transactions, in the log's order.
    fn pending(&self) -> impl Iterator<Item = &Txn> {
        self.pending.iter().filter_map(|place| self.live.get(place))
    }
}

/// The most days a ledger that fell behind generates to catch up: the 24 months of history a
/// bank gives Plaid (`History::MAX_DAYS`, Plaid's longest `days_requested`).
pub(crate) const REACH_DAYS: u64 = crate::state::History::MAX_DAYS;

/// An Item's transactions: the change log, and the day it has been brought up to.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    seed: u64,
    item: u64,
    kind: Kind,
    pub(crate) log: Vec<Change>,
    /// The last day brought up to, counted from `start`.
    pub(crate) day: u64,
    /// The first day of the history.
    start: NaiveDate,
    /// Refreshes so far (a stream of their own for the generator).
    refreshes: u64,
    /// Per account, the amounts of the transactions left out of the history asked for
    /// ([`keep_between`](Self::keep_between)): still part of the balances, as at Plaid, whose
    /// balances do not depend on the history an app asked for.
    carried: std::collections::HashMap<usize, f64>,
    /// The live transactions, read from the log as it grows.
    index: LiveIndex,
}

impl Ledger {
    /// Drops every transaction, for an Item removed: nothing reads its ledger again, and a
    /// server that runs for hours would keep each removed Item's history for ever.
    pub(crate) fn forget(&mut self) {
        *self = Ledger::empty(self.seed, self.item, self.kind.clone(), self.start);
    }

    fn empty(seed: u64, item: u64, kind: Kind, start: NaiveDate) -> Self {
        Ledger {
            seed,
            item,
            kind,
            log: Vec::new(),
            day: 0,
            start,
            refreshes: 0,
            carried: std::collections::HashMap::new(),
            index: LiveIndex::default(),
        }
    }

    /// What has posted to an account: its live posted transactions and what a history left
    /// out ([`carried`](Self::carried)).
    pub(crate) fn posted(&self, account: usize) -> f64 {
        self.carried(account)
            + self
                .current_refs()
                .into_iter()
                .filter(|t| t.account == account && !t.pending)
                .map(|t| t.amount)
                .sum::<f64>()
    }

    /// `history_days` days of generated activity ending on `today`.
    pub(crate) fn generated(
        seed: u64,
        item: u64,
        today: NaiveDate,
        history_days: u64,
        slots: Slots,
    ) -> Self {
        let start = today
            .checked_sub_days(Days::new(history_days))
            .unwrap_or(today);
        let mut ledger = Ledger::empty(seed, item, Kind::Generated { slots }, start);
        for _ in 0..history_days {
            ledger.advance_day();
        }
        ledger
    }

    /// `user_transactions_dynamic`'s ledger: about 50 transactions over the 30 days to
    /// `today`, the last two days' still pending.
    pub(crate) fn dynamic(
        seed: u64,
        item: u64,
        today: NaiveDate,
        checking: usize,
        card: Option<usize>,
    ) -> Self {
        let start = today.checked_sub_days(Days::new(30)).unwrap_or(today);
        let mut ledger = Ledger::empty(seed, item, Kind::Dynamic { checking, card }, start);
        ledger.day = 30;
        let mut rng = Rng::new(seed, 0x6479_6e61 ^ item, 0);
        for n in 0..50u64 {
            let date = start
                .checked_add_days(Days::new(n * 30 / 50 + 1))
                .unwrap_or(today);
            let pending = today.signed_duration_since(date).num_days() < PENDING_DAYS as i64;
            let txn = ledger.purchase(&mut rng, date, pending);
            ledger.log.push(Change::Added(txn));
        }
        ledger
    }

    /// Exactly the `planned` transactions, as of `today`: those posted on or before it are
    /// posted, the others pending until their posted date.
    pub(crate) fn custom(seed: u64, item: u64, today: NaiveDate, planned: &[Planned]) -> Self {
        let start = planned
            .iter()
            .map(|p| p.transacted)
            .min()
            .unwrap_or(today)
            .min(today);
        let mut ledger = Ledger::empty(seed, item, Kind::Custom, start);
        ledger.day = u64::try_from(today.signed_duration_since(start).num_days()).unwrap_or(0);
        let mut rng = Rng::new(seed, 0x6375_7374 ^ item, 0);
        let mut sorted = planned.to_vec();
        sorted.sort_by_key(|p| (p.transacted, p.posted));
        for p in &sorted {
            let txn = ledger.planned_txn(&mut rng, p, today);
            ledger.log.push(Change::Added(txn));
        }
        ledger
    }

    fn planned_txn(&self, rng: &mut Rng, p: &Planned, today: NaiveDate) -> Txn {
        let pending = p.posted > today;
        Txn {
            id: rng.id(37),
            account: p.account,
            amount: round2(p.amount),
            currency: p.currency.clone(),
            date: if pending { p.transacted } else { p.posted },
            authorized: p.transacted,
            name: p.description.clone(),
            merchant: None,
            primary: "GENERAL_MERCHANDISE",
            detailed: "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
            channel: "other",
            pending,
            pending_id: None,
            posts_on: pending.then_some(p.posted),
        }
    }

    /// The date of day `day`.
    fn date(&self, day: u64) -> NaiveDate {
        self.start
            .checked_add_days(Days::new(day))
            .unwrap_or(self.start)
    }

    /// The ledger's "today".
    pub(crate) fn today(&self) -> NaiveDate {
        self.date(self.day)
    }

    /// Brings the ledger up to `today`, a day at a time. What changed.
    ///
    /// A ledger more than [`REACH_DAYS`] behind (an Item Plaid could not reach for that long,
    /// in error until repaired) jumps to `REACH_DAYS` before `today` first: the bank gives
    /// Plaid that much history when it reaches it again, and the days before are never
    /// pulled. So any gap costs at most `REACH_DAYS` generated days, however long.
    pub(crate) fn catch_up(&mut self, today: NaiveDate) -> Refreshed {
        let behind = today.signed_duration_since(self.today()).num_days();
        let Ok(behind) = u64::try_from(behind) else {
            return Refreshed::default(); // already there, or past it
        };
        self.leap(behind)
    }

    /// `days` days forward, of which at most the last [`REACH_DAYS`] are generated, as
    /// [`catch_up`](Self::catch_up) does; never past the clock's limit (a day beyond chrono's
    /// dates would read as the ledger's first).
    pub(crate) fn leap(&mut self, days: u64) -> Refreshed {
        let room = crate::state::clock_limit()
            .date_naive()
            .signed_duration_since(self.today())
            .num_days();
        let mut days = days.min(u64::try_from(room).unwrap_or(0));
        if days > REACH_DAYS {
            self.day = self.day.saturating_add(days - REACH_DAYS);
            days = REACH_DAYS;
        }
        self.advance_days(days)
    }

    /// `days` more days, one after the other ([`advance_day`](Self::advance_day)): what they
    /// changed, for the webhooks Plaid sends about them.
    pub(crate) fn advance_days(&mut self, days: u64) -> Refreshed {
        let before = self.log.len();
        for _ in 0..days {
            self.advance_day();
        }
        summarize(&self.log[before..])
    }

    /// One more day. Generated ledgers get the day's activity; every kind posts what is due.
    /// Returns how many changes it made.
    pub(crate) fn advance_day(&mut self) -> usize {
        self.day += 1;
        let today = self.date(self.day);
        let mut rng = Rng::new(self.seed, 0x7478_6e73 ^ self.item, self.day);
        let before = self.log.len();
        self.post_due(&mut rng, today);
        if let Kind::Generated { slots } = self.kind {
            self.activity(&mut rng, today, slots, true);
        }
        self.log.len() - before
    }

    /// What `/transactions/refresh` finds: a generated ledger, a batch of new purchases
    /// today; a dynamic one, Plaid's documented refresh (new pending transactions, the
    /// earlier pending ones posted, $1.00 more on one earlier transaction); a custom one,
    /// only what is due.
    pub(crate) fn refresh(&mut self) -> Refreshed {
        self.refreshes += 1;
        let today = self.today();
        let mut rng = Rng::new(self.seed, 0x7265_6672 ^ self.item, self.refreshes);
        let before = self.log.len();
        match self.kind.clone() {
            Kind::Generated { slots } => {
                self.post_due(&mut rng, today);
                self.activity(&mut rng, today, slots, false);
            }
            Kind::Dynamic { .. } => {
                let pending: Vec<Txn> = self.current().into_iter().filter(|t| t.pending).collect();
                for p in pending {
                    self.post(&mut rng, p, today);
                }
                if let Some(mut bumped) = self
                    .current()
                    .into_iter()
                    .filter(|t| !t.pending)
                    .nth(rng.below(10) as usize)
                {
                    bumped.amount = round2(bumped.amount + 1.0);
                    self.log.push(Change::Modified(bumped));
                }
                for _ in 0..2 + rng.below(3) {
                    let txn = self.purchase(&mut rng, today, true);
                    self.log.push(Change::Added(txn));
                }
            }
            Kind::Custom => {
                self.post_due(&mut rng, today);
            }
        }
        summarize(&self.log[before..])
    }

    /// Adds transactions as `/sandbox/transactions/create` does: as if a refresh found them.
    pub(crate) fn add_planned(&mut self, planned: &[Planned]) -> Refreshed {
        let today = self.today();
        self.refreshes += 1;
        let mut rng = Rng::new(self.seed, 0x6372_6561 ^ self.item, self.refreshes);
        let before = self.log.len();
        for p in planned {
            let txn = self.planned_txn(&mut rng, p, today);
            self.log.push(Change::Added(txn));
        }
        summarize(&self.log[before..])
    }

    /// Whether `/sandbox/transactions/create` applies: only `user_transactions_dynamic`
    /// Items. Its depository account.
    pub(crate) fn dynamic_account(&self) -> Option<usize> {
        match self.kind {
            Kind::Dynamic { checking, .. } => Some(checking),
            _ => None,
        }
    }

    /// A pending transaction posts: the pending one is removed and a posted one, naming it, is
    /// added, as Plaid does; a restaurant bill gains a tip.
    fn post(&mut self, rng: &mut Rng, pending: Txn, today: NaiveDate) {
        let tip = if pending.detailed == "FOOD_AND_DRINK_RESTAURANT" {
            (pending.amount * 0.18 * 100.0).round() / 100.0
        } else {
            0.0
        };
        let posted = Txn {
            id: rng.id(37),
            amount: round2(pending.amount + tip),
            date: pending.posts_on.unwrap_or(today).min(today),
            pending: false,
            pending_id: Some(pending.id.clone()),
            posts_on: None,
            ..pending.clone()
        };
        self.log.push(Change::Removed {
            id: pending.id,
            account: pending.account,
        });
        self.log.push(Change::Added(posted));
    }

    /// Posts every pending transaction whose day has come.
    fn post_due(&mut self, rng: &mut Rng, today: NaiveDate) {
        self.index.read(&self.log);
        let due: Vec<Txn> = self
            .index
            .pending()
            .filter(|t| match t.posts_on {
                Some(day) => day <= today,
                None => {
                    matches!(self.kind, Kind::Generated { .. })
                        && today.signed_duration_since(t.authorized).num_days()
                            >= PENDING_DAYS as i64
                }
            })
            .cloned()
            .collect();
        for pending in due {
            self.post(rng, pending, today);
        }
    }

    /// A purchase from the merchant list on `date`, on the dynamic ledger's accounts.
    fn purchase(&self, rng: &mut Rng, date: NaiveDate, pending: bool) -> Txn {
        let m = &MERCHANTS[rng.below(MERCHANTS.len() as u64) as usize];
        let (checking, card) = match self.kind {
            Kind::Dynamic { checking, card } => (checking, card),
            Kind::Generated { slots } => (slots.checking.unwrap_or(0), slots.card),
            Kind::Custom => (0, None),
        };
        let account = if m.account == 2 {
            card.unwrap_or(checking)
        } else {
            checking
        };
        Txn {
            id: rng.id(37),
            account,
            amount: amount_for(rng, m),
            currency: "USD".into(),
            date,
            authorized: date,
            name: display_name(rng, m.name).to_owned(),
            merchant: Some(m.name),
            primary: m.primary,
            detailed: m.detailed,
            channel: m.channel,
            pending,
            pending_id: None,
            posts_on: None,
        }
    }

    /// A generated day: pay days on the 1st and 15th, rent on the 1st, the card's balance
    /// paid on the 5th, a few purchases (card ones pending), and now and then a corrected
    /// description. `dated` false for a refresh, which finds purchases only.
    fn activity(&mut self, rng: &mut Rng, today: NaiveDate, slots: Slots, dated: bool) {
        let Some(checking) = slots.checking.or(slots.card) else {
            return;
        };
        if dated && rng.below(7) == 0 {
            self.index.read(&self.log);
            let posted: Vec<&Txn> = self.index.live.values().filter(|t| !t.pending).collect();
            if !posted.is_empty() {
                let mut fixed = posted[rng.below(posted.len() as u64) as usize].clone();
                if let Some(merchant) = fixed.merchant {
                    if fixed.name != merchant {
                        fixed.name = merchant.to_owned();
                        self.log.push(Change::Modified(fixed));
                    }
                }
            }
        }
        let dom = today.day();
        let plain = |id: String, account, amount, name: &str, primary, detailed| Txn {
            id,
            account,
            amount,
            currency: "USD".into(),
            date: today,
            authorized: today,
            name: name.to_owned(),
            merchant: None,
            primary,
            detailed,
            channel: "other",
            pending: false,
            pending_id: None,
            posts_on: None,
        };
        if dated && (dom == 1 || dom == 15) {
            let mut pay = plain(
                rng.id(37),
                checking,
                -3_150.0,
                "GUSTO PAY 123456 PPD",
                "INCOME",
                "INCOME_WAGES",
            );
            pay.merchant = Some("Gusto");
            self.log.push(Change::Added(pay));
        }
        if dated && dom == 1 {
            self.log.push(Change::Added(plain(
                rng.id(37),
                checking,
                1_850.0,
                "ZELLE PAYMENT TO LANDLORD",
                "RENT_AND_UTILITIES",
                "RENT_AND_UTILITIES_RENT",
            )));
            if let Some(savings) = slots.savings {
                for (account, amount, name, primary, detailed) in [
                    (
                        checking,
                        250.0,
                        "TRANSFER TO SAVINGS",
                        "TRANSFER_OUT",
                        "TRANSFER_OUT_SAVINGS",
                    ),
                    (
                        savings,
                        -250.0,
                        "TRANSFER FROM CHECKING",
                        "TRANSFER_IN",
                        "TRANSFER_IN_SAVINGS",
                    ),
                ] {
                    self.log.push(Change::Added(plain(
                        rng.id(37),
                        account,
                        amount,
                        name,
                        primary,
                        detailed,
                    )));
                }
            }
        }
        // On the 5th the card's posted balance is paid from checking: money leaves one
        // account (positive) and arrives on the other (negative), as Plaid reports transfers.
        if let (true, Some(card)) = (dated && dom == 5, slots.card) {
            let owed = round2(
                self.current()
                    .iter()
                    .filter(|t| t.account == card && !t.pending)
                    .map(|t| t.amount)
                    .sum::<f64>(),
            );
            if owed > 0.0 {
                for (account, amount, name) in [
                    (checking, owed, "PLAID CREDIT CARD AUTOPAY"),
                    (card, -owed, "AUTOMATIC PAYMENT - THANK YOU"),
                ] {
                    self.log.push(Change::Added(plain(
                        rng.id(37),
                        account,
                        amount,
                        name,
                        "LOAN_PAYMENTS",
                        "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT",
                    )));
                }
            }
        }
        for _ in 0..1 + rng.below(4) {
            let m = &MERCHANTS[rng.below(MERCHANTS.len() as u64) as usize];
            let on_card = m.account == 2 && slots.card.is_some();
            let account = if on_card {
                slots.card.unwrap_or(checking)
            } else {
                checking
            };
            self.log.push(Change::Added(Txn {
                id: rng.id(37),
                account,
                amount: amount_for(rng, m),
                currency: "USD".into(),
                date: today,
                authorized: today,
                name: display_name(rng, m.name).to_owned(),
                merchant: Some(m.name),
                primary: m.primary,
                detailed: m.detailed,
                channel: m.channel,
                pending: on_card,
                pending_id: None,
                posts_on: None,
            }));
        }
    }

    /// Keeps only the transactions dated from `from` to `to`, as the log's history: for the
    /// history an Item's Transactions asked for, before anything was read from the log.
    /// The balances still count those left out, as posted ([`carried`](Self::carried)).
    pub(crate) fn keep_between(&mut self, from: NaiveDate, to: NaiveDate) {
        let (kept, left): (Vec<Txn>, Vec<Txn>) = self
            .current()
            .into_iter()
            .partition(|t| t.date >= from && t.date <= to);
        for t in left {
            *self.carried.entry(t.account).or_insert(0.0) += t.amount;
        }
        self.log = kept.into_iter().map(Change::Added).collect();
        self.index = LiveIndex::default();
    }

    /// The amounts of an account's transactions left out of the history, for its balances.
    pub(crate) fn carried(&self, account: usize) -> f64 {
        self.carried.get(&account).copied().unwrap_or(0.0)
    }

    /// The transactions as they stand after the whole log.
    pub(crate) fn current(&self) -> Vec<Txn> {
        self.state_at(self.log.len())
    }

    /// The transactions as they stood after the first `pos` changes.
    pub(crate) fn state_at(&self, pos: usize) -> Vec<Txn> {
        self.refs_at(pos).into_iter().cloned().collect()
    }

    /// [`current`](Self::current) without copying: for sums over the ledger.
    pub(crate) fn current_refs(&self) -> Vec<&Txn> {
        self.refs_at(self.log.len())
    }

    /// The log replayed up to `pos`, in the order transactions were added; one pass, each id
    /// found through a map (a history of thousands of changes stays linear).
    fn refs_at(&self, pos: usize) -> Vec<&Txn> {
        let mut out: Vec<Option<&Txn>> = Vec::new();
        let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for change in &self.log[..pos.min(self.log.len())] {
            match change {
                Change::Added(t) => {
                    at.insert(&t.id, out.len());
                    out.push(Some(t));
                }
                Change::Modified(t) => {
                    if let Some(&i) = at.get(t.id.as_str()) {
                        out[i] = Some(t);
                    }
                }
                Change::Removed { id, .. } => {
                    if let Some(i) = at.remove(id.as_str()) {
                        out[i] = None;
                    }
                }
            }
        }
        out.into_iter().flatten().collect()
    }
}

fn summarize(changes: &[Change]) -> Refreshed {
    let mut out = Refreshed::default();
    for change in changes {
        match change {
            Change::Added(_) => out.added += 1,
            Change::Modified(_) => out.modified += 1,
            Change::Removed { id, .. } => out.removed.push(id.clone()),
        }
    }
    out
}

fn amount_for(rng: &mut Rng, m: &Merchant) -> f64 {
    if m.low == m.high {
        m.low
    } else {
        round2(m.low + (m.high - m.low) * (rng.below(10_000) as f64 / 10_000.0))
    }
}

/// Descriptions as banks send them: sometimes the merchant in capitals plus a reference
/// (corrected later, see `activity`).
fn display_name(rng: &mut Rng, name: &'static str) -> &'static str {
    if rng.below(3) == 0 {
        upper(name)
    } else {
        name
    }
}

/// The few names the generator writes in capitals, as static strings.
fn upper(name: &'static str) -> &'static str {
    match name {
        "Starbucks" => "STARBUCKS STORE 0414",
        "McDonald's" => "MCDONALD'S F1234",
        "Uber" => "UBER *TRIP HELP.UBER.COM",
        "Amazon" => "AMZN Mktp US*2K4L05",
        "Shell" => "SHELL OIL 57444",
        "Target" => "TARGET 00012345",
        _ => name,
    }
}

/// The largest amount, balance or price a request may give (a trillion): beyond it sums and
/// rounding overflow to infinity, which JSON writes as `null` where the spec wants a number.
pub(crate) const MAX_AMOUNT: f64 = 1e12;

/// The path of the first number in `value` larger than [`MAX_AMOUNT`], if any.
pub(crate) fn first_huge_number(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Number(n) => n
            .as_f64()
            .is_none_or(|x| x.abs() > MAX_AMOUNT)
            .then(|| path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_huge_number(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let inner = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            first_huge_number(v, &inner)
        }),
        _ => None,
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    // `+ 0.0` turns a -0.0 into 0.0.
    (x * 100.0).round() / 100.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day0() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    const SLOTS: Slots = Slots {
        checking: Some(0),
        savings: Some(1),
        card: Some(3),
    };

    #[test]
    fn the_same_seed_gives_the_same_ledger() {
        let a = Ledger::generated(7, 1, day0(), 60, SLOTS);
        let b = Ledger::generated(7, 1, day0(), 60, SLOTS);
        assert_eq!(a.log, b.log);
        assert_ne!(a.log, Ledger::generated(8, 1, day0(), 60, SLOTS).log);
        assert_ne!(a.log, Ledger::generated(7, 2, day0(), 60, SLOTS).log);
    }

    #[test]
    fn advancing_day_by_day_extends_the_log_without_rewriting_it() {
        let mut a = Ledger::generated(3, 0, day0(), 30, SLOTS);
        let before = a.log.clone();
        a.advance_day();
        a.advance_day();
        assert_eq!(&a.log[..before.len()], &before[..]);
        assert!(a.log.len() > before.len());
        assert_eq!(a.today(), day0().checked_add_days(Days::new(2)).unwrap());
        let mut b = Ledger::generated(3, 0, day0(), 30, SLOTS);
        b.catch_up(day0().checked_add_days(Days::new(2)).unwrap());
        assert_eq!(a.log, b.log, "catching up is advancing day by day");
    }

    /// The days of the transactions `changes` add.
    fn added_days(changes: &[Change]) -> std::collections::BTreeSet<NaiveDate> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Added(t) => Some(t.date),
                _ => None,
            })
            .collect()
    }

    /// A ledger a century behind (an Item repaired after a long clock move) catches up by
    /// generating only the last `REACH_DAYS` days, in one call: the work is one window's,
    /// not the gap's.
    #[test]
    fn a_century_gap_generates_only_the_last_window() {
        let mut ledger = Ledger::generated(3, 0, day0(), 30, SLOTS);
        let before = ledger.log.len();
        let target = day0().checked_add_days(Days::new(36_500)).unwrap();
        let changes = ledger.catch_up(target).count();
        assert_eq!(ledger.today(), target, "caught up in one call");
        assert_eq!(changes, ledger.log.len() - before);
        let from = target.checked_sub_days(Days::new(REACH_DAYS)).unwrap();
        let new_days = added_days(&ledger.log[before..]);
        assert!(new_days.iter().all(|d| *d > from), "{:?}", new_days.first());
        assert_eq!(
            new_days.len() as u64,
            REACH_DAYS,
            "one window of days generated"
        );
        // A day brings a handful of changes: the whole catch-up is a window's worth.
        assert!(changes < REACH_DAYS as usize * 20, "{changes}");
        assert!(
            !ledger.catch_up(target).any(),
            "twice at one time changes nothing"
        );
    }

    /// A gap within the window still generates every one of its days.
    #[test]
    fn a_normal_gap_generates_every_day() {
        let mut ledger = Ledger::generated(3, 0, day0(), 30, SLOTS);
        let before = ledger.log.len();
        let target = day0().checked_add_days(Days::new(40)).unwrap();
        ledger.catch_up(target);
        assert_eq!(ledger.today(), target);
        let new_days = added_days(&ledger.log[before..]);
        let every: std::collections::BTreeSet<NaiveDate> = (1..=40)
            .map(|n| day0().checked_add_days(Days::new(n)).unwrap())
            .collect();
        assert_eq!(new_days, every);
    }

    /// The index a day's activity reads agrees with the log replayed, in order, day after
    /// day, refreshes and a history cut short included.
    #[test]
    fn the_pending_index_is_the_log_replayed() {
        let mut generated = Ledger::generated(5, 0, day0(), 30, SLOTS);
        generated.keep_between(day0() - Days::new(10), day0() + Days::new(400));
        let mut dynamic = Ledger::dynamic(5, 1, day0(), 0, Some(3));
        for day in 0..400 {
            for ledger in [&mut generated, &mut dynamic] {
                if day % 7 == 0 {
                    ledger.refresh();
                }
                ledger.advance_day();
                ledger.index.read(&ledger.log);
                let indexed: Vec<Txn> = ledger.index.live.values().cloned().collect();
                assert_eq!(indexed, ledger.current(), "day {day}");
                let replayed: Vec<Txn> =
                    ledger.current().into_iter().filter(|t| t.pending).collect();
                let pending: Vec<Txn> = ledger.index.pending().cloned().collect();
                assert_eq!(pending, replayed, "day {day}");
            }
        }
        assert!(generated.log.len() > 1000);
    }

    #[test]
    fn pending_transactions_post_and_name_the_pending_one() {
        let ledger = Ledger::generated(11, 0, day0(), 90, SLOTS);
        let current = ledger.current();
        let posted_from_pending: Vec<_> =
            current.iter().filter(|t| t.pending_id.is_some()).collect();
        assert!(!posted_from_pending.is_empty());
        for t in posted_from_pending {
            assert!(!t.pending);
            let old = t.pending_id.as_deref().unwrap();
            assert!(
                current.iter().all(|x| x.id != old),
                "the pending one is gone"
            );
        }
        assert!(current.iter().filter(|t| t.pending).all(|t| ledger
            .today()
            .signed_duration_since(t.authorized)
            .num_days()
            < 2));
        assert!(
            current.iter().any(|t| t.account == 1),
            "savings gets transfers"
        );
        assert!(current.iter().all(|t| [0, 1, 3].contains(&t.account)));
    }

    #[test]
    fn ids_are_unique_and_plaid_shaped() {
        let ledger = Ledger::generated(5, 0, day0(), 120, SLOTS);
        let mut ids: Vec<_> = ledger
            .log
            .iter()
            .filter_map(|c| match c {
                Change::Added(t) => Some(t.id.clone()),
                _ => None,
            })
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(ids.iter().all(|i| i.len() == 37));
    }

    #[test]
    fn a_dynamic_refresh_posts_the_pending_adds_new_ones_and_bumps_one_amount() {
        let mut ledger = Ledger::dynamic(1, 1, day0(), 0, Some(1));
        let before = ledger.current();
        assert_eq!(before.len(), 50);
        let pending_before: Vec<String> = before
            .iter()
            .filter(|t| t.pending)
            .map(|t| t.id.clone())
            .collect();
        assert!(!pending_before.is_empty() && pending_before.len() < 50);
        let refreshed = ledger.refresh();
        assert_eq!(
            refreshed.removed, pending_before,
            "every earlier pending one posts"
        );
        assert_eq!(refreshed.modified, 1);
        let after = ledger.current();
        let new_pending = after.iter().filter(|t| t.pending).count();
        assert!((2..=4).contains(&new_pending));
        assert!(after.iter().all(|t| !pending_before.contains(&t.id)));
        let bumped = after
            .iter()
            .filter_map(|t| before.iter().find(|b| b.id == t.id).map(|b| (b, t)))
            .filter(|(b, t)| (t.amount - b.amount - 1.0).abs() < 1e-9)
            .count();
        assert_eq!(bumped, 1, "one amount is $1.00 more");
    }

    #[test]
    fn custom_transactions_are_pending_until_their_posted_date() {
        let planned = vec![
            Planned {
                account: 0,
                transacted: day0(),
                posted: day0().checked_add_days(Days::new(2)).unwrap(),
                amount: 100.0,
                description: "future".into(),
                currency: "USD".into(),
            },
            Planned {
                account: 0,
                transacted: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                posted: NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
                amount: -5.5,
                description: "past".into(),
                currency: "CAD".into(),
            },
        ];
        let mut ledger = Ledger::custom(1, 1, day0(), &planned);
        let now = ledger.current();
        assert_eq!(now.len(), 2);
        assert!(now.iter().any(|t| t.name == "future" && t.pending));
        assert!(now
            .iter()
            .any(|t| t.name == "past" && !t.pending && t.currency == "CAD"));
        ledger.catch_up(day0().checked_add_days(Days::new(2)).unwrap());
        let later = ledger.current();
        assert_eq!(later.len(), 2);
        assert!(later.iter().all(|t| !t.pending));
    }
}
