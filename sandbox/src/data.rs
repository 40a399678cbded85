//! The offline sandbox's data: institutions, accounts and a deterministic transaction ledger.
//!
//! Everything here is a pure function of a seed, an item number and a day number, so two
//! sandboxes started with the same seed hand out the same tokens, ids and transactions, and a
//! cursor saved by one run is still meaningful in the next.

use chrono::{Days, NaiveDate};
use serde_json::{json, Value};

/// SplitMix64: a tiny, well-known generator; good enough for fake data, never for secrets.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, stream: u64, index: u64) -> Self {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.0 ^= rng
            .next()
            .wrapping_add(index.wrapping_mul(0xBF58_476D_1CE4_E5B9));
        rng
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An id of `len` characters from Plaid's alphabet (letters and digits).
    pub(crate) fn id(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// A UUID-shaped string, as Plaid's tokens end with.
    pub(crate) fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The institutions the offline sandbox knows (Plaid's own sandbox institutions).
pub(crate) const INSTITUTIONS: &[(&str, &str)] = &[
    ("ins_109508", "First Platypus Bank"),
    ("ins_109509", "First Gingham Credit Union"),
    ("ins_109510", "Tattersall Federal Credit Union"),
    ("ins_109511", "Tartan Bank"),
    ("ins_109512", "Houndstooth Bank"),
    ("ins_127287", "Platypus OAuth Bank"),
];

pub(crate) fn institution_name(id: &str) -> Option<&'static str> {
    INSTITUTIONS.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

/// One account of an Item: what `/accounts/get` shows, minus the balances, which come from the
/// ledger.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) name: &'static str,
    pub(crate) official_name: &'static str,
    pub(crate) mask: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) subtype: &'static str,
    pub(crate) opening: f64,
    pub(crate) limit: Option<f64>,
}

/// Every Item gets Plaid's sandbox trio: checking, savings and a credit card.
pub(crate) fn accounts(rng: &mut Rng) -> Vec<Account> {
    let mut account = |name, official_name, mask, kind, subtype, opening, limit| Account {
        id: rng.id(37),
        name,
        official_name,
        mask,
        kind,
        subtype,
        opening,
        limit,
    };
    vec![
        account(
            "Plaid Checking",
            "Plaid Gold Standard 0% Interest Checking",
            "0000",
            "depository",
            "checking",
            4_210.0,
            None,
        ),
        account(
            "Plaid Saving",
            "Plaid Silver Standard 0.1% Interest Saving",
            "1111",
            "depository",
            "savings",
            5_320.0,
            None,
        ),
        account(
            "Plaid Credit Card",
            "Plaid Diamond 12.5% APR Interest Credit Card",
            "3333",
            "credit",
            "credit card",
            0.0,
            Some(2_000.0),
        ),
    ]
}

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
    pub(crate) account: usize,
    pub(crate) amount: f64,
    pub(crate) date: NaiveDate,
    pub(crate) authorized: NaiveDate,
    pub(crate) name: &'static str,
    pub(crate) merchant: Option<&'static str>,
    pub(crate) primary: &'static str,
    pub(crate) detailed: &'static str,
    pub(crate) channel: &'static str,
    pub(crate) pending: bool,
    pub(crate) pending_id: Option<String>,
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

/// An Item's transactions: the change log, and the day it has been generated up to.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    seed: u64,
    item: u64,
    pub(crate) log: Vec<Change>,
    /// The last day generated, counted from the sandbox's start date.
    pub(crate) day: u64,
    /// The first day of the history.
    start: NaiveDate,
}

impl Ledger {
    /// `history_days` days of transactions ending on `today`.
    pub(crate) fn new(seed: u64, item: u64, today: NaiveDate, history_days: u64) -> Self {
        let start = today
            .checked_sub_days(Days::new(history_days))
            .unwrap_or(today);
        let mut ledger = Ledger {
            seed,
            item,
            log: Vec::new(),
            day: 0,
            start,
        };
        for _ in 0..history_days {
            ledger.advance_day();
        }
        ledger
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

    /// One more day: transactions pending long enough post (the pending one is removed and a
    /// posted one, naming it, is added, as Plaid does), a few restaurant bills gain a tip, and
    /// new purchases arrive. Returns how many changes it made.
    pub(crate) fn advance_day(&mut self) -> usize {
        self.day += 1;
        let today = self.date(self.day);
        let mut rng = Rng::new(self.seed, 0x7478_6e73 ^ self.item, self.day);
        let before = self.log.len();

        for pending in self.current().into_iter().filter(|t| t.pending) {
            if today.signed_duration_since(pending.authorized).num_days() < PENDING_DAYS as i64 {
                continue;
            }
            let tip = if pending.detailed == "FOOD_AND_DRINK_RESTAURANT" {
                (pending.amount * 0.18 * 100.0).round() / 100.0
            } else {
                0.0
            };
            let posted = Txn {
                id: rng.id(37),
                amount: round2(pending.amount + tip),
                date: today,
                pending: false,
                pending_id: Some(pending.id.clone()),
                ..pending.clone()
            };
            self.log.push(Change::Removed {
                id: pending.id,
                account: pending.account,
            });
            self.log.push(Change::Added(posted));
        }

        // Now and then a posted transaction's description is corrected.
        if rng.below(7) == 0 {
            let posted: Vec<Txn> = self.current().into_iter().filter(|t| !t.pending).collect();
            if !posted.is_empty() {
                let mut fixed = posted[rng.below(posted.len() as u64) as usize].clone();
                if fixed.merchant.is_some() && fixed.name != fixed.merchant.unwrap_or_default() {
                    fixed.name = fixed.merchant.unwrap_or(fixed.name);
                    self.log.push(Change::Modified(fixed));
                }
            }
        }

        // Pay day on the 1st and the 15th, rent on the 1st, and a few purchases every day.
        let dom = chrono::Datelike::day(&today);
        if dom == 1 || dom == 15 {
            self.log.push(Change::Added(Txn {
                id: rng.id(37),
                account: 0,
                amount: -3_150.0,
                date: today,
                authorized: today,
                name: "GUSTO PAY 123456 PPD",
                merchant: Some("Gusto"),
                primary: "INCOME",
                detailed: "INCOME_WAGES",
                channel: "other",
                pending: false,
                pending_id: None,
            }));
        }
        if dom == 1 {
            self.log.push(Change::Added(Txn {
                id: rng.id(37),
                account: 0,
                amount: 1_850.0,
                date: today,
                authorized: today,
                name: "ZELLE PAYMENT TO LANDLORD",
                merchant: None,
                primary: "RENT_AND_UTILITIES",
                detailed: "RENT_AND_UTILITIES_RENT",
                channel: "other",
                pending: false,
                pending_id: None,
            }));
        }
        // On the 5th the card's posted balance is paid from checking: money leaves one
        // account (positive) and arrives on the other (negative), as Plaid reports transfers.
        if dom == 5 {
            let owed = round2(
                self.current()
                    .iter()
                    .filter(|t| t.account == 2 && !t.pending)
                    .map(|t| t.amount)
                    .sum::<f64>(),
            );
            if owed > 0.0 {
                for (account, amount, name) in [
                    (0, owed, "PLAID CREDIT CARD AUTOPAY"),
                    (2, -owed, "AUTOMATIC PAYMENT - THANK YOU"),
                ] {
                    self.log.push(Change::Added(Txn {
                        id: rng.id(37),
                        account,
                        amount,
                        date: today,
                        authorized: today,
                        name,
                        merchant: None,
                        primary: "LOAN_PAYMENTS",
                        detailed: "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT",
                        channel: "other",
                        pending: false,
                        pending_id: None,
                    }));
                }
            }
        }
        for _ in 0..1 + rng.below(4) {
            let m = &MERCHANTS[rng.below(MERCHANTS.len() as u64) as usize];
            let amount = if m.low == m.high {
                m.low
            } else {
                round2(m.low + (m.high - m.low) * (rng.below(10_000) as f64 / 10_000.0))
            };
            // Descriptions as banks send them: the merchant in capitals plus a reference,
            // sometimes corrected later (see above).
            let name = if rng.below(3) == 0 {
                upper(m.name)
            } else {
                m.name
            };
            self.log.push(Change::Added(Txn {
                id: rng.id(37),
                account: m.account,
                amount,
                date: today,
                authorized: today,
                name,
                merchant: Some(m.name),
                primary: m.primary,
                detailed: m.detailed,
                channel: m.channel,
                pending: m.account == 2,
                pending_id: None,
            }));
        }
        self.log.len() - before
    }

    /// The transactions as they stand after the whole log.
    pub(crate) fn current(&self) -> Vec<Txn> {
        self.state_at(self.log.len())
    }

    /// The transactions as they stood after the first `pos` changes.
    pub(crate) fn state_at(&self, pos: usize) -> Vec<Txn> {
        let mut out: Vec<Txn> = Vec::new();
        for change in &self.log[..pos.min(self.log.len())] {
            match change {
                Change::Added(t) => out.push(t.clone()),
                Change::Modified(t) => {
                    if let Some(slot) = out.iter_mut().find(|x| x.id == t.id) {
                        *slot = t.clone();
                    }
                }
                Change::Removed { id, .. } => out.retain(|x| &x.id != id),
            }
        }
        out
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

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A transaction as `/transactions/sync` returns it: every field of both the vendored and
/// the newest spec's `Transaction`.
pub(crate) fn txn_json(t: &Txn, accounts: &[Account]) -> Value {
    let account_id = accounts.get(t.account).map(|a| a.id.as_str()).unwrap_or("");
    let merchant = t.merchant.map(|m| {
        json!({
            "name": m, "type": "merchant", "logo_url": null, "website": null,
            "entity_id": null, "confidence_level": "VERY_HIGH",
        })
    });
    json!({
        "transaction_id": t.id,
        "account_id": account_id,
        "amount": t.amount,
        "iso_currency_code": "USD",
        "unofficial_currency_code": null,
        "date": t.date,
        "authorized_date": t.authorized,
        "authorized_datetime": null,
        "datetime": null,
        "name": t.name,
        "merchant_name": t.merchant,
        "merchant_entity_id": null,
        "logo_url": null,
        "website": null,
        "pending": t.pending,
        "pending_transaction_id": t.pending_id,
        "account_owner": null,
        "payment_channel": t.channel,
        "transaction_code": null,
        "transaction_type": if t.channel == "other" { "special" } else { "place" },
        "category": null,
        "category_id": null,
        "check_number": null,
        "location": {
            "address": null, "city": null, "region": null, "postal_code": null,
            "country": null, "lat": null, "lon": null, "store_number": null,
        },
        "payment_meta": {
            "reference_number": null, "ppd_id": null, "payee": null, "by_order_of": null,
            "payer": null, "payment_method": null, "payment_processor": null, "reason": null,
        },
        "personal_finance_category": {
            "primary": t.primary, "detailed": t.detailed, "confidence_level": "VERY_HIGH",
        },
        "counterparties": merchant.into_iter().collect::<Vec<_>>(),
    })
}

/// An account as `/accounts/get` returns it, with balances from the ledger: `current` counts
/// posted transactions, `available` also the pending ones.
pub(crate) fn account_json(a: &Account, index: usize, txns: &[Txn]) -> Value {
    let mine = txns.iter().filter(|t| t.account == index);
    let (mut posted, mut pending) = (0.0, 0.0);
    for t in mine {
        if t.pending {
            pending += t.amount;
        } else {
            posted += t.amount;
        }
    }
    // Plaid's amounts are positive for money out. A deposit account's balance is what is in
    // it; a credit card's is what is owed.
    let (current, available) = if a.kind == "credit" {
        let owed = round2(a.opening + posted);
        (owed, a.limit.map(|l| round2(l - owed - pending)))
    } else {
        let held = round2(a.opening - posted);
        (held, Some(round2(held - pending)))
    };
    json!({
        "account_id": a.id,
        "balances": {
            "available": available, "current": current, "limit": a.limit,
            "iso_currency_code": "USD", "unofficial_currency_code": null,
        },
        "mask": a.mask,
        "name": a.name,
        "official_name": a.official_name,
        "type": a.kind,
        "subtype": a.subtype,
        // No `verification_status`: the spec's is a non-nullable enum, present only for Items
        // verified by micro-deposits or database match, which the sandbox's are not.
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day0() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_ledger() {
        let a = Ledger::new(7, 1, day0(), 60);
        let b = Ledger::new(7, 1, day0(), 60);
        assert_eq!(a.log, b.log);
        assert_ne!(a.log, Ledger::new(8, 1, day0(), 60).log);
        assert_ne!(a.log, Ledger::new(7, 2, day0(), 60).log);
    }

    #[test]
    fn advancing_day_by_day_extends_the_log_without_rewriting_it() {
        let mut a = Ledger::new(3, 0, day0(), 30);
        let before = a.log.clone();
        a.advance_day();
        a.advance_day();
        assert_eq!(&a.log[..before.len()], &before[..]);
        assert!(a.log.len() > before.len());
        assert_eq!(a.today(), day0().checked_add_days(Days::new(2)).unwrap());
    }

    #[test]
    fn pending_transactions_post_and_name_the_pending_one() {
        let ledger = Ledger::new(11, 0, day0(), 90);
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
        // Only the last two days can still be pending.
        assert!(current.iter().filter(|t| t.pending).all(|t| ledger
            .today()
            .signed_duration_since(t.authorized)
            .num_days()
            < 2));
    }

    #[test]
    fn ids_are_unique_and_plaid_shaped() {
        let ledger = Ledger::new(5, 0, day0(), 120);
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
    fn balances_follow_the_ledger() {
        let mut rng = Rng::new(1, 2, 3);
        let accts = accounts(&mut rng);
        let txns = vec![Txn {
            id: "t".into(),
            account: 0,
            amount: 10.0,
            date: day0(),
            authorized: day0(),
            name: "x",
            merchant: None,
            primary: "P",
            detailed: "D",
            channel: "other",
            pending: false,
            pending_id: None,
        }];
        let checking = account_json(&accts[0], 0, &txns);
        assert_eq!(checking["balances"]["current"], 4_200.0);
        let card = account_json(&accts[2], 2, &txns);
        assert_eq!(card["balances"]["current"], 0.0);
        assert_eq!(card["balances"]["available"], 2_000.0);
    }
}
