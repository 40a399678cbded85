//! Plaid's sandbox test users (plaid.com/docs/sandbox/test-credentials/ and /user-custom/): what
//! an Item linked with a username and password holds.
//!
//! | username | password | Item |
//! |---|---|---|
//! | `user_good` | `pass_good` | Plaid's default accounts, a generated transaction history |
//! | `user_good` | `mfa_device`, `mfa_questions_<n>_<m>`, `mfa_selections` | the same, behind a Link MFA step (code `1234`; answers `answer_<i>_<j>`; `Yes`) |
//! | `user_good` | `microdeposits_good` | automated micro-deposits at Houndstooth Bank: the checking account verifies later |
//! | `user_good` | `error_<CODE>` | linking fails with `<CODE>` |
//! | `user_transactions_dynamic` | any | checking and a credit card, about 50 transactions; `/transactions/refresh` and `/sandbox/transactions/create` change them |
//! | `user_custom` | a JSON config | the config's accounts, transactions, identity, holdings, liabilities, `force_error` |
//! | `user_ewa_user`, `user_yuppie`, `user_small_business`, `user_bank_income`, `user_credit_*` | any | `user_good`'s data (the sandbox does not model their income streams) |

use crate::failure::Failure;
use crate::ledger::{Planned, Slots};
use crate::rng::Rng;
use chrono::{Days, NaiveDate};
use serde_json::Value;

/// One account of an Item, as the test user's data describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccountPlan {
    pub(crate) name: String,
    pub(crate) official_name: Option<String>,
    pub(crate) mask: String,
    pub(crate) kind: String,
    pub(crate) subtype: String,
    /// The current balance (for an account with transactions, the balance before them).
    pub(crate) current: f64,
    pub(crate) available: Option<f64>,
    pub(crate) limit: Option<f64>,
    pub(crate) currency: String,
    pub(crate) holder_category: Option<&'static str>,
    pub(crate) numbers: Numbers,
    /// Whether its balances follow the ledger (`current` is then the opening balance).
    pub(crate) ledger_balance: bool,
    /// `user_custom`'s `starting_balance`: `current` is the balance at the Item's creation
    /// ("the account will start with this amount as the current balance"), not before its
    /// transactions; the Item's making folds what has posted by then into it.
    pub(crate) starts_at_current: bool,
    /// `user_custom`'s `force_available_balance` / `has_null_available_balance`.
    pub(crate) force_available: Option<Option<f64>>,
    /// Owners of this account, when the config names them (else the Item's).
    pub(crate) owners: Option<Vec<OwnerPlan>>,
}

impl AccountPlan {
    /// Whether Auth covers it: debitable checking, savings and cash management (Plaid's
    /// `NO_AUTH_ACCOUNTS` rule; `/auth/get` and `/processor/auth/get` describe these three).
    pub(crate) fn auth_eligible(&self) -> bool {
        self.kind == "depository"
            && matches!(
                self.subtype.as_str(),
                "checking" | "savings" | "cash management"
            )
    }
}

/// Account and routing numbers a config may set.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Numbers {
    pub(crate) account: Option<String>,
    pub(crate) ach_routing: Option<String>,
    pub(crate) ach_wire_routing: Option<String>,
    pub(crate) eft_institution: Option<String>,
    pub(crate) eft_branch: Option<String>,
    pub(crate) international_bic: Option<String>,
    pub(crate) international_iban: Option<String>,
    pub(crate) bacs_sort_code: Option<String>,
}

/// An account owner, for `/identity/get`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OwnerPlan {
    pub(crate) names: Vec<String>,
    /// `(number, primary, type)`.
    pub(crate) phones: Vec<(String, bool, String)>,
    /// `(address, primary, type)`.
    pub(crate) emails: Vec<(String, bool, String)>,
    pub(crate) addresses: Vec<(AddressPlan, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AddressPlan {
    pub(crate) street: String,
    pub(crate) city: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) postal_code: Option<String>,
    pub(crate) country: Option<String>,
}

/// A security a holding or an investment transaction names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SecurityPlan {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) ticker: Option<String>,
    pub(crate) cusip: Option<String>,
    pub(crate) isin: Option<String>,
    pub(crate) kind: String,
    pub(crate) close_price: Option<f64>,
    pub(crate) currency: String,
    pub(crate) cash_equivalent: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HoldingPlan {
    pub(crate) account: usize,
    pub(crate) security: SecurityPlan,
    pub(crate) quantity: f64,
    pub(crate) price: f64,
    pub(crate) cost_basis: Option<f64>,
    pub(crate) price_as_of: Option<NaiveDate>,
    pub(crate) currency: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvestmentTxnPlan {
    pub(crate) account: usize,
    pub(crate) date: NaiveDate,
    pub(crate) name: String,
    pub(crate) quantity: f64,
    pub(crate) price: f64,
    pub(crate) fees: f64,
    pub(crate) amount: f64,
    pub(crate) kind: String,
    pub(crate) subtype: String,
    pub(crate) security: Option<SecurityPlan>,
    pub(crate) currency: String,
}

/// A liability of one account, for `/liabilities/get`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LiabilityPlan {
    Credit {
        account: usize,
        /// `(apr_type, percentage, balance subject to it, interest charged)`.
        aprs: Vec<(String, f64, Option<f64>, Option<f64>)>,
        is_overdue: bool,
        last_payment_amount: Option<f64>,
        last_statement_balance: Option<f64>,
        minimum_payment_amount: Option<f64>,
    },
    Student {
        account: usize,
        loan_name: String,
        interest_rate: f64,
        principal: f64,
        origination: NaiveDate,
        payoff: NaiveDate,
        guarantor: String,
        minimum_payment_amount: f64,
        is_overdue: bool,
        repayment_type: String,
        terms: Box<StudentTerms>,
    },
    Mortgage {
        account: usize,
    },
}

impl LiabilityPlan {
    /// The account (its index in the Item) this liability is on.
    pub(crate) fn account(&self) -> usize {
        match self {
            LiabilityPlan::Credit { account, .. }
            | LiabilityPlan::Student { account, .. }
            | LiabilityPlan::Mortgage { account } => *account,
        }
    }
}

/// What a student loan's `/liabilities/get` entry says beyond its amounts and dates: Plaid's
/// example values, or a `user_custom` config's `LiabilityOverride`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StudentTerms {
    /// `loan_status.type`, and its `end_date` (the payoff date when `None`).
    pub(crate) status: String,
    pub(crate) status_end: Option<NaiveDate>,
    /// `repayment_plan.description`.
    pub(crate) plan_description: String,
    /// `pslf_status`: the estimated eligibility date (the payoff date when `None`), payments
    /// made and remaining.
    pub(crate) pslf_date: Option<NaiveDate>,
    pub(crate) pslf_made: Option<i64>,
    pub(crate) pslf_remaining: Option<i64>,
    /// The servicer's address (Plaid's example address when `None`).
    pub(crate) servicer: Option<AddressPlan>,
    /// `payment_reference_number` (the account number when `None`).
    pub(crate) reference: Option<String>,
    pub(crate) sequence: String,
}

impl Default for StudentTerms {
    fn default() -> Self {
        Self {
            status: "repayment".into(),
            status_end: None,
            plan_description: "Standard Repayment".into(),
            pslf_date: None,
            pslf_made: Some(12),
            pslf_remaining: Some(108),
            servicer: None,
            reference: None,
            sequence: "1".into(),
        }
    }
}

/// Where an Item's transactions come from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LedgerPlan {
    Generated(Slots),
    Dynamic {
        checking: usize,
        card: Option<usize>,
    },
    Custom(Vec<Planned>),
}

/// A Link MFA step the credentials ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mfa {
    /// A code sent to a device: `1234`.
    Device,
    /// `rounds` rounds of `per_round` questions: `answer_<round>_<question>`.
    Questions { rounds: u32, per_round: u32 },
    /// `rounds` rounds of choices: the first option (`Yes`).
    Selections { rounds: u32 },
}

/// What an Item linked with some credentials holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Profile {
    pub(crate) username: String,
    pub(crate) accounts: Vec<AccountPlan>,
    pub(crate) ledger: LedgerPlan,
    pub(crate) owners: Vec<OwnerPlan>,
    pub(crate) holdings: Vec<HoldingPlan>,
    pub(crate) investment_transactions: Vec<InvestmentTxnPlan>,
    pub(crate) liabilities: Vec<LiabilityPlan>,
    /// Mixed into the Item's seed (a config's `seed`).
    pub(crate) seed: u64,
    pub(crate) force_error: Option<String>,
    pub(crate) mfa: Option<Mfa>,
    pub(crate) automated_micro_deposits: bool,
    /// Whether its holdings, investment transactions and liabilities are `user_good`'s, dated
    /// when the Item is made (see [`Profile::dated`]).
    pub(crate) default_product_data: bool,
}

/// The users whose data is `user_good`'s.
const LIKE_USER_GOOD: &[&str] = &[
    "user_ewa_user",
    "user_yuppie",
    "user_small_business",
    "user_bank_income",
    "user_credit_bonus",
    "user_credit_joint_account",
    "user_credit_profile_poor",
    "user_credit_profile_good",
    "user_credit_profile_excellent",
];

/// The Item some credentials link, or the error linking with them gives (`INVALID_CREDENTIALS`
/// for unknown ones). `today` dates a custom config's relative data.
/// Whether `username` is one of the sandbox's test users (`from_credentials` knows it).
pub(crate) fn is_test_user(username: &str) -> bool {
    matches!(
        username,
        "user_good" | "user_transactions_dynamic" | "user_custom"
    ) || LIKE_USER_GOOD.contains(&username)
}

pub(crate) fn from_credentials(
    username: &str,
    password: &str,
    today: NaiveDate,
) -> Result<Profile, Failure> {
    let invalid = || Failure::code("INVALID_CREDENTIALS");
    if password.is_empty() {
        return Err(invalid());
    }
    match username {
        "user_good" => {
            let mut profile = user_good(username);
            match password {
                "pass_good" | "credential_good" => {}
                "mfa_device" => profile.mfa = Some(Mfa::Device),
                "mfa_selections" => profile.mfa = Some(Mfa::Selections { rounds: 1 }),
                "microdeposits_good" => profile.automated_micro_deposits = true,
                p if p.starts_with("mfa_questions_") => {
                    let mut parts = p["mfa_questions_".len()..].split('_');
                    let (Some(Ok(rounds)), Some(Ok(per_round)), None) = (
                        parts.next().map(str::parse::<u32>),
                        parts.next().map(str::parse::<u32>),
                        parts.next(),
                    ) else {
                        return Err(invalid());
                    };
                    if !(1..10).contains(&rounds) || !(1..10).contains(&per_round) {
                        return Err(invalid());
                    }
                    profile.mfa = Some(Mfa::Questions { rounds, per_round });
                }
                p if p.starts_with("mfa_selections_") => {
                    let rounds = p["mfa_selections_".len()..]
                        .split('_')
                        .next()
                        .and_then(|n| n.parse::<u32>().ok())
                        .filter(|n| (1..10).contains(n))
                        .ok_or_else(invalid)?;
                    profile.mfa = Some(Mfa::Selections { rounds });
                }
                p if p.starts_with("error_") => {
                    let code = &p["error_".len()..];
                    if !is_error_code(code) {
                        return Err(invalid());
                    }
                    profile.force_error = Some(code.to_owned());
                }
                p if p.trim_start().starts_with('{') => {
                    // {"recaptcha":"good"|"bad"}: a Link captcha Plaid asks a person to solve.
                }
                _ => return Err(invalid()),
            }
            Ok(profile)
        }
        "user_transactions_dynamic" => Ok(user_transactions_dynamic()),
        "user_custom" => user_custom(password, today),
        other if is_test_user(other) => Ok(user_good(other)),
        _ => Err(invalid()),
    }
}

#[allow(clippy::too_many_arguments)]
fn account(
    name: &str,
    official_name: Option<&str>,
    mask: &str,
    kind: &str,
    subtype: &str,
    current: f64,
    available: Option<f64>,
    limit: Option<f64>,
) -> AccountPlan {
    AccountPlan {
        name: name.to_owned(),
        official_name: official_name.map(str::to_owned),
        mask: mask.to_owned(),
        kind: kind.to_owned(),
        subtype: subtype.to_owned(),
        current,
        available,
        limit,
        currency: "USD".into(),
        holder_category: None,
        numbers: Numbers::default(),
        ledger_balance: false,
        starts_at_current: false,
        force_available: None,
        owners: None,
    }
}

/// The accounts of Plaid's `user_good` (its current sandbox: the nine of its docs and three
/// added since). Checking, savings and the credit card carry the transactions, so their
/// balances follow them from these opening balances.
fn default_accounts() -> Vec<AccountPlan> {
    let ledger = |mut a: AccountPlan| {
        a.ledger_balance = true;
        a
    };
    let personal = |mut a: AccountPlan| {
        a.holder_category = Some("personal");
        a
    };
    vec![
        personal(ledger(account(
            "Plaid Checking",
            Some("Plaid Gold Standard 0% Interest Checking"),
            "0000",
            "depository",
            "checking",
            4_210.0,
            None,
            None,
        ))),
        ledger(account(
            "Plaid Saving",
            Some("Plaid Silver Standard 0.1% Interest Saving"),
            "1111",
            "depository",
            "savings",
            5_320.0,
            None,
            None,
        )),
        account(
            "Plaid CD",
            Some("Plaid Bronze Standard 0.2% Interest CD"),
            "2222",
            "depository",
            "cd",
            1_000.0,
            None,
            None,
        ),
        ledger(account(
            "Plaid Credit Card",
            Some("Plaid Diamond 12.5% APR Interest Credit Card"),
            "3333",
            "credit",
            "credit card",
            0.0,
            None,
            Some(2_000.0),
        )),
        account(
            "Plaid Money Market",
            Some("Plaid Platinum Standard 1.85% Interest Money Market"),
            "4444",
            "depository",
            "money market",
            43_200.0,
            Some(43_200.0),
            None,
        ),
        account(
            "Plaid IRA",
            None,
            "5555",
            "investment",
            "ira",
            320.76,
            None,
            None,
        ),
        account(
            "Plaid 401k",
            None,
            "6666",
            "investment",
            "401k",
            23_631.980_5,
            None,
            None,
        ),
        personal(account(
            "Plaid Student Loan",
            None,
            "7777",
            "loan",
            "student",
            65_262.0,
            None,
            None,
        )),
        account(
            "Plaid Mortgage",
            None,
            "8888",
            "loan",
            "mortgage",
            56_302.06,
            None,
            None,
        ),
        account(
            "Plaid HSA",
            Some("Plaid Cares Health Savings Account"),
            "9001",
            "depository",
            "hsa",
            6_009.0,
            Some(6_009.0),
            None,
        ),
        account(
            "Plaid Cash Management",
            Some("Plaid Growth Cash Management"),
            "9002",
            "depository",
            "cash management",
            12_060.0,
            Some(12_060.0),
            None,
        ),
        AccountPlan {
            holder_category: Some("business"),
            ..account(
                "Plaid Business Credit Card",
                Some("Plaid Platinum Small Business Credit Card"),
                "9999",
                "credit",
                "credit card",
                5_020.0,
                Some(4_980.0),
                Some(10_000.0),
            )
        },
    ]
}

/// The owner of every `user_good` account: Plaid's documented sandbox identity.
fn default_owner() -> OwnerPlan {
    let address = |street: &str, city: &str, region: &str, postal: &str| AddressPlan {
        street: street.into(),
        city: Some(city.into()),
        region: Some(region.into()),
        postal_code: Some(postal.into()),
        country: Some("US".into()),
    };
    OwnerPlan {
        names: vec!["Alberta Bobbeth Charleson".into()],
        phones: vec![
            ("1112223333".into(), false, "home".into()),
            ("1112224444".into(), false, "work".into()),
            ("1112225555".into(), false, "mobile".into()),
        ],
        emails: vec![
            ("accountholder0@example.com".into(), true, "primary".into()),
            (
                "accountholder1@example.com".into(),
                false,
                "secondary".into(),
            ),
            (
                "extraordinarily.long.email.username.123456@reallylonghostname.com".into(),
                false,
                "other".into(),
            ),
        ],
        addresses: vec![
            (
                address("2992 Cameron Road", "Malakoff", "NY", "14236"),
                true,
            ),
            (
                address("2493 Leisure Lane", "San Matias", "CA", "93405-2255"),
                false,
            ),
        ],
    }
}

fn security(
    id: &str,
    name: &str,
    ticker: Option<&str>,
    kind: &str,
    close_price: f64,
    cash: bool,
) -> SecurityPlan {
    SecurityPlan {
        id: id.into(),
        name: name.into(),
        ticker: ticker.map(str::to_owned),
        cusip: None,
        isin: None,
        kind: kind.into(),
        close_price: Some(close_price),
        currency: "USD".into(),
        cash_equivalent: cash,
    }
}

/// The securities of `user_good`'s holdings: those of Plaid's own `/investments/holdings/get`
/// example.
fn default_securities() -> [SecurityPlan; 7] {
    [
        security(
            "d6ePmbPxgWCWmMVv66q9iPV94n91vMtov5Are",
            "U S Dollar",
            Some("USD"),
            "cash",
            1.0,
            true,
        ),
        security(
            "8E4L9XLl6MudjEpwPAAgivmdZRdBPJuvMPlPb",
            "Nflx Feb 01'18 $355 Call",
            Some("NFLX180201C00355000"),
            "derivative",
            0.011,
            false,
        ),
        security(
            "KDwjlXj1Rqt58dVvmzRguxJybmyQL8FgeWWAA",
            "Achillion Pharmaceuticals Inc.",
            Some("ACHN"),
            "equity",
            2.11,
            false,
        ),
        security(
            "NDVQrXQoqzt5v3bAe8qRt4A7mK7wvZCLEBBJk",
            "DoubleLine Total Return Bond Fund",
            Some("DBLTX"),
            "mutual fund",
            10.42,
            false,
        ),
        security(
            "JDdP7XPMklt5vwPmDN45t3KAoWAPmjtpaW7DP",
            "Matthews Pacific Tiger Fund Insti Class",
            Some("MIPTX"),
            "mutual fund",
            27.0,
            false,
        ),
        security(
            "nnmo8doZ4lfKNEDe3mPJipLGkaGw3jfPrpxoN",
            "NH PORTFOLIO 1055 (FIDELITY INDEX)",
            Some("NHX105509"),
            "etf",
            13.73,
            false,
        ),
        SecurityPlan {
            cusip: Some("912797HE0".into()),
            ..security(
                "Lxe4yz8AqDtvQ8kAJA1ZhWvR4nW8yET4v1Noe",
                "US Treasury Bill - 5.43% 31/10/2024 USD 100",
                None,
                "fixed income",
                94.808,
                false,
            )
        },
    ]
}

/// `user_good`'s holdings on the IRA (account 5) and the 401k (account 6), after Plaid's own
/// example.
fn default_holdings(today: NaiveDate) -> Vec<HoldingPlan> {
    let [usd, nflx, achn, dbltx, miptx, nhx, bill] = default_securities();
    let holding =
        |account: usize, security: &SecurityPlan, quantity: f64, cost_basis: f64| HoldingPlan {
            account,
            price: security.close_price.unwrap_or(1.0),
            security: security.clone(),
            quantity,
            cost_basis: Some(cost_basis),
            price_as_of: Some(today),
            currency: "USD".into(),
        };
    vec![
        holding(5, &usd, 0.01, 1.0),
        holding(5, &nflx, 10_000.0, 0.01),
        holding(6, &achn, 1.0, 1.5),
        holding(6, &dbltx, 2.0, 10.0),
        holding(6, &miptx, 23.567, 23.0),
        holding(6, &nhx, 100.05, 15.0),
        holding(6, &bill, 10.0, 948.08),
        holding(6, &usd, 12_345.67, 1.0),
    ]
}

/// A few months of activity on the 401k: buys, a sale, dividends, a fee.
fn default_investment_transactions(today: NaiveDate) -> Vec<InvestmentTxnPlan> {
    let [usd, _, _, dbltx, miptx, nhx, _] = default_securities();
    let ago = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
    let txn = |days: u64,
               name: &str,
               security: Option<&SecurityPlan>,
               quantity: f64,
               price: f64,
               fees: f64,
               kind: &str,
               subtype: &str| {
        InvestmentTxnPlan {
            account: 6,
            date: ago(days),
            name: name.into(),
            quantity,
            price,
            fees,
            amount: crate::ledger::round2(quantity * price + fees),
            kind: kind.into(),
            subtype: subtype.into(),
            security: security.cloned(),
            currency: "USD".into(),
        }
    };
    vec![
        txn(
            85,
            "BUY DoubleLine Total Return Bond Fund",
            Some(&dbltx),
            0.73896,
            10.42,
            7.99,
            "buy",
            "buy",
        ),
        txn(
            70,
            "SELL Matthews Pacific Tiger Fund Insti Class",
            Some(&miptx),
            -47.74104,
            27.53,
            7.99,
            "sell",
            "sell",
        ),
        txn(
            60,
            "INCOME DIV DIVIDEND RECEIVED",
            Some(&nhx),
            0.0,
            0.0,
            0.0,
            "cash",
            "dividend",
        ),
        txn(
            45,
            "BUY NH PORTFOLIO 1055 (FIDELITY INDEX)",
            Some(&nhx),
            5.0,
            13.73,
            0.0,
            "buy",
            "buy",
        ),
        txn(
            30,
            "ACCOUNT MAINTENANCE FEE",
            None,
            0.0,
            0.0,
            2.5,
            "fee",
            "account fee",
        ),
        txn(
            15,
            "INCOME DIV DIVIDEND RECEIVED",
            Some(&dbltx),
            0.0,
            0.0,
            0.0,
            "cash",
            "dividend",
        ),
        txn(
            5,
            "CONTRIBUTION",
            Some(&usd),
            500.0,
            1.0,
            0.0,
            "cash",
            "contribution",
        ),
    ]
    .into_iter()
    .map(|mut t| {
        if t.subtype == "dividend" {
            t.amount = -8.72;
        }
        if t.subtype == "account fee" {
            t.amount = 2.5;
        }
        if t.subtype == "contribution" {
            t.amount = -500.0;
        }
        t
    })
    .collect()
}

/// `user_good`'s liabilities: the credit cards, the student loan and the mortgage of Plaid's
/// own `/liabilities/get` example.
fn default_liabilities(today: NaiveDate) -> Vec<LiabilityPlan> {
    let credit = |account: usize, purchase: f64| LiabilityPlan::Credit {
        account,
        aprs: vec![
            (
                "balance_transfer_apr".into(),
                15.24,
                Some(1_562.32),
                Some(130.22),
            ),
            ("cash_apr".into(), 27.95, Some(56.22), Some(14.81)),
            ("purchase_apr".into(), purchase, Some(157.01), Some(25.66)),
            ("special".into(), 0.0, Some(1_000.0), Some(0.0)),
        ],
        is_overdue: false,
        last_payment_amount: Some(168.25),
        last_statement_balance: Some(1_708.77),
        minimum_payment_amount: Some(20.0),
    };
    vec![
        credit(3, 12.5),
        credit(11, 16.99),
        LiabilityPlan::Student {
            account: 7,
            loan_name: "Consolidation".into(),
            interest_rate: 5.25,
            principal: 25_000.0,
            origination: NaiveDate::from_ymd_opt(2002, 8, 28).unwrap_or(today),
            payoff: NaiveDate::from_ymd_opt(2032, 7, 28).unwrap_or(today),
            guarantor: "DEPT OF ED".into(),
            minimum_payment_amount: 25.0,
            is_overdue: false,
            repayment_type: "standard".into(),
            terms: Box::default(),
        },
        LiabilityPlan::Mortgage { account: 8 },
    ]
}

fn user_good(username: &str) -> Profile {
    Profile {
        username: username.to_owned(),
        accounts: default_accounts(),
        ledger: LedgerPlan::Generated(Slots {
            checking: Some(0),
            savings: Some(1),
            card: Some(3),
        }),
        owners: vec![default_owner()],
        holdings: Vec::new(),
        investment_transactions: Vec::new(),
        liabilities: Vec::new(),
        seed: 0,
        force_error: None,
        mfa: None,
        automated_micro_deposits: false,
        default_product_data: true,
    }
}

impl Profile {
    /// The profile's dated data (holdings' price dates, investment transactions, liabilities)
    /// for an Item created on `today`, where the profile uses `user_good`'s.
    pub(crate) fn dated(mut self, today: NaiveDate) -> Self {
        if self.default_product_data {
            self.holdings = default_holdings(today);
            self.investment_transactions = default_investment_transactions(today);
            self.liabilities = default_liabilities(today);
        }
        self
    }
}

/// `user_transactions_dynamic`: checking and a credit card (Plaid's sandbox gives these two).
fn user_transactions_dynamic() -> Profile {
    let mut checking = account(
        "Plaid Checking",
        Some("Plaid Gold Standard 0% Interest Checking"),
        "0000",
        "depository",
        "checking",
        4_210.0,
        None,
        None,
    );
    checking.ledger_balance = true;
    let mut card = account(
        "Plaid Credit Card",
        Some("Plaid Diamond 12.5% APR Interest Credit Card"),
        "3333",
        "credit",
        "credit card",
        0.0,
        None,
        Some(2_000.0),
    );
    card.ledger_balance = true;
    Profile {
        username: "user_transactions_dynamic".into(),
        accounts: vec![checking, card],
        ledger: LedgerPlan::Dynamic {
            checking: 0,
            card: Some(1),
        },
        owners: vec![default_owner()],
        holdings: Vec::new(),
        investment_transactions: Vec::new(),
        liabilities: Vec::new(),
        seed: Rng::hash("user_transactions_dynamic"),
        force_error: None,
        mfa: None,
        automated_micro_deposits: false,
        default_product_data: false,
    }
}

/// The top-level keys of a `user_custom` config (Plaid's `UserCustomPassword`).
const CUSTOM_KEYS: &[&str] = &[
    "version",
    "seed",
    "override_accounts",
    "mfa",
    "recaptcha",
    "force_error",
];

/// The account types an `override_accounts` entry may have (Plaid's `OverrideAccountType`).
const CUSTOM_ACCOUNT_TYPES: &[&str] = &[
    "investment",
    "credit",
    "depository",
    "loan",
    "payroll",
    "other",
];

/// Whether `code` has the shape of Plaid's error codes (`ITEM_LOGIN_REQUIRED`): what an
/// `error_<CODE>` password or a `user_custom` config's `force_error` may name. Review round
/// 17: `force_error` took any text, markup included, and answered it as the error's code.
fn is_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

/// `user_custom`: the JSON config Plaid documents at plaid.com/docs/sandbox/user-custom/.
fn user_custom(config: &str, today: NaiveDate) -> Result<Profile, Failure> {
    let bad = |why: String| {
        Failure::code("INVALID_CREDENTIALS").message(format!(
            "user_custom: the password is not a valid configuration: {why}"
        ))
    };
    let value: Value = serde_json::from_str(config).map_err(|e| bad(format!("not JSON ({e})")))?;
    if let Some(path) = crate::ledger::first_huge_number(&value, "") {
        return Err(bad(format!(
            "{path} is larger than {} (a trillion)",
            crate::ledger::MAX_AMOUNT
        )));
    }
    let Value::Object(config) = value else {
        return Err(bad("not a JSON object".into()));
    };
    // The keys of Plaid's schema for the config (`UserCustomPassword`): a misspelt one is
    // refused by name rather than read as an empty config.
    if let Some(key) = config.keys().find(|k| !CUSTOM_KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown key {key:?}; the keys are {}",
            CUSTOM_KEYS.join(", ")
        )));
    }
    let seed_text = config.get("seed").and_then(Value::as_str).unwrap_or("");
    let mut rng = Rng::new(Rng::hash(seed_text), 0x6375_7374, 0);
    // Every security the config names, once: a holding and the trades of one security share
    // its `security_id` ("used to associate securities with holdings").
    let mut securities: Vec<SecurityPlan> = Vec::new();
    let mut profile = Profile {
        username: "user_custom".into(),
        accounts: Vec::new(),
        ledger: LedgerPlan::Custom(Vec::new()),
        owners: vec![default_owner()],
        holdings: Vec::new(),
        investment_transactions: Vec::new(),
        liabilities: Vec::new(),
        seed: Rng::hash(seed_text),
        force_error: None,
        mfa: None,
        automated_micro_deposits: false,
        default_product_data: false,
    };
    if let Some(code) = config.get("force_error") {
        let code = code
            .as_str()
            .filter(|c| is_error_code(c))
            .ok_or_else(|| bad("force_error must be an error code (A-Z and _)".into()))?;
        profile.force_error = Some(code.to_owned());
    }
    if let Some(mfa) = config.get("mfa").filter(|m| !m.is_null()) {
        let number = |field: &str, default: u32| {
            mfa.get(field)
                .and_then(Value::as_u64)
                .map_or(default, |n| n.clamp(1, 9) as u32)
        };
        profile.mfa = match mfa.get("type").and_then(Value::as_str) {
            Some("device") => Some(Mfa::Device),
            Some("questions") => Some(Mfa::Questions {
                rounds: number("question_rounds", 1),
                per_round: number("questions_per_round", 1),
            }),
            Some("selections") => Some(Mfa::Selections {
                rounds: number("selection_rounds", 1),
            }),
            _ => {
                return Err(bad(
                    "mfa.type must be device, questions or selections".into()
                ))
            }
        };
    }
    let overrides = match config.get("override_accounts") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Err(bad("override_accounts must be a list".into())),
    };
    if overrides.len() > 10 {
        return Err(bad("more than ten accounts are not supported".into()));
    }
    if overrides.is_empty() {
        // Plaid: "Sending an empty object as a configuration will result in an account
        // configured with random balances and transaction history."
        let mut checking = default_accounts().remove(0);
        checking.current = crate::ledger::round2(500.0 + rng.below(900_000) as f64 / 100.0);
        profile.accounts = vec![checking];
        profile.ledger = LedgerPlan::Generated(Slots {
            checking: Some(0),
            savings: None,
            card: None,
        });
        return Ok(profile);
    }
    let mut planned = Vec::new();
    let mut any_transactions = false;
    for (index, o) in overrides.iter().enumerate() {
        let field = |name: &str| o.get(name).filter(|v| !v.is_null());
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let kind = text(field("type")).unwrap_or_else(|| "depository".into());
        if !CUSTOM_ACCOUNT_TYPES.contains(&kind.as_str()) {
            return Err(bad(format!(
                "override_accounts[{index}].type {kind:?} is not an account type; the types \
                 are {}",
                CUSTOM_ACCOUNT_TYPES.join(", ")
            )));
        }
        let subtype = text(field("subtype")).unwrap_or_else(|| match kind.as_str() {
            "credit" => "credit card".into(),
            "loan" => "student".into(),
            "investment" => "brokerage".into(),
            _ => "checking".into(),
        });
        let meta = field("meta");
        let meta_text = |name: &str| text(meta.and_then(|m| m.get(name)).filter(|v| !v.is_null()));
        let mask = meta_text("mask").unwrap_or_else(|| format!("{:04}", 1000 + rng.below(9000)));
        if !(mask.is_empty()
            || (2..=4).contains(&mask.len()) && mask.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(bad(format!(
                "override_accounts[{index}].meta.mask must be 2-4 letters or digits"
            )));
        }
        let starting = field("starting_balance")
            .and_then(Value::as_f64)
            .unwrap_or_else(|| crate::ledger::round2(100.0 + rng.below(1_000_000) as f64 / 100.0));
        let currency = text(field("currency")).unwrap_or_else(|| "USD".into());
        let numbers = field("numbers").map(|n| {
            let get = |k: &str| n.get(k).and_then(Value::as_str).map(str::to_owned);
            Numbers {
                account: get("account"),
                ach_routing: get("ach_routing"),
                ach_wire_routing: get("ach_wire_routing"),
                eft_institution: get("eft_institution"),
                eft_branch: get("eft_branch"),
                international_bic: get("international_bic"),
                international_iban: get("international_iban"),
                bacs_sort_code: get("bacs_sort_code"),
            }
        });
        let force_available = match (
            field("force_available_balance"),
            field("has_null_available_balance"),
        ) {
            (Some(v), _) => Some(v.as_f64()),
            (None, Some(Value::Bool(true))) => Some(None),
            _ => None,
        };
        let title = {
            let mut t = subtype.clone();
            if let Some(first) = t.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            format!("Plaid {t}")
        };
        let mut plan = account(
            &meta_text("name").unwrap_or(title),
            meta_text("official_name").as_deref(),
            &mask,
            &kind,
            &subtype,
            starting,
            None,
            meta.and_then(|m| m.get("limit")).and_then(Value::as_f64),
        );
        plan.currency = currency.clone();
        plan.starts_at_current = true;
        plan.numbers = numbers.unwrap_or_default();
        plan.force_available = force_available;
        if let Some(identity) = field("identity") {
            let owner = owner_from(identity)
                .map_err(|why| bad(format!("override_accounts[{index}].identity: {why}")))?;
            plan.owners = Some(vec![owner]);
        }
        if let Some(list) = field("transactions") {
            let list = list.as_array().ok_or_else(|| {
                bad(format!(
                    "override_accounts[{index}].transactions must be a list"
                ))
            })?;
            any_transactions = true;
            plan.ledger_balance = true;
            for (n, t) in list.iter().enumerate() {
                let at = |k: &str| -> Result<NaiveDate, Failure> {
                    t.get(k)
                        .and_then(Value::as_str)
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                        .ok_or_else(|| {
                            bad(format!(
                                "override_accounts[{index}].transactions[{n}].{k} must be a date"
                            ))
                        })
                };
                planned.push(Planned {
                    account: index,
                    transacted: at("date_transacted")?,
                    posted: at("date_posted")?,
                    amount: t.get("amount").and_then(Value::as_f64).ok_or_else(|| {
                        bad(format!(
                            "override_accounts[{index}].transactions[{n}].amount must be a number"
                        ))
                    })?,
                    description: t
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    currency: t
                        .get("currency")
                        .and_then(Value::as_str)
                        .map_or_else(|| currency.clone(), str::to_owned),
                });
            }
        }
        for (n, h) in field("holdings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let security = security_from(h.get("security"), &currency, &mut rng, &mut securities)
                .map_err(|why| {
                bad(format!(
                    "override_accounts[{index}].holdings[{n}].security: {why}"
                ))
            })?;
            profile.holdings.push(HoldingPlan {
                account: index,
                price: h
                    .get("institution_price")
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0),
                quantity: h.get("quantity").and_then(Value::as_f64).unwrap_or(0.0),
                cost_basis: h.get("cost_basis").and_then(Value::as_f64),
                price_as_of: h
                    .get("institution_price_as_of")
                    .and_then(Value::as_str)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                currency: h
                    .get("currency")
                    .and_then(Value::as_str)
                    .map_or_else(|| currency.clone(), str::to_owned),
                security,
            });
        }
        for (n, t) in field("investment_transactions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let security = match t.get("security").filter(|s| !s.is_null()) {
                Some(s) => Some(
                    security_from(Some(s), &currency, &mut rng, &mut securities).map_err(
                        |why| {
                            bad(format!(
                        "override_accounts[{index}].investment_transactions[{n}].security: {why}"
                    ))
                        },
                    )?,
                ),
                None => None,
            };
            let quantity = t.get("quantity").and_then(Value::as_f64).unwrap_or(0.0);
            let price = t.get("price").and_then(Value::as_f64).unwrap_or(0.0);
            let fees = t.get("fees").and_then(Value::as_f64).unwrap_or(0.0);
            let kind = t
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("cash")
                .to_owned();
            let amount = crate::ledger::round2(quantity * price + fees);
            let subtype = investment_subtype(&kind, amount).ok_or_else(|| {
                bad(format!(
                    "override_accounts[{index}].investment_transactions[{n}].type {kind:?}: \
                     the types are buy, sell, cash, fee and transfer"
                ))
            })?;
            profile.investment_transactions.push(InvestmentTxnPlan {
                account: index,
                date: t
                    .get("date")
                    .and_then(Value::as_str)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .unwrap_or(today),
                name: t
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                quantity,
                price,
                fees,
                amount,
                subtype: subtype.to_owned(),
                kind,
                security,
                currency: t
                    .get("currency")
                    .and_then(Value::as_str)
                    .map_or_else(|| currency.clone(), str::to_owned),
            });
        }
        if let Some(l) = field("liability") {
            profile.liabilities.push(
                liability_from(l, index, today)
                    .map_err(|why| bad(format!("override_accounts[{index}].liability: {why}")))?,
            );
        }
        profile.accounts.push(plan);
    }
    // A credit card or a student loan without a `liability` block is a Liabilities account
    // all the same: "other products will have fixed or empty data" (`override_accounts`).
    for (index, account) in profile.accounts.iter().enumerate() {
        if profile.liabilities.iter().any(|l| l.account() == index) {
            continue;
        }
        match (account.kind.as_str(), account.subtype.as_str()) {
            ("credit", "credit card" | "paypal") => {
                profile.liabilities.push(LiabilityPlan::Credit {
                    account: index,
                    aprs: Vec::new(),
                    is_overdue: false,
                    last_payment_amount: None,
                    last_statement_balance: None,
                    minimum_payment_amount: None,
                })
            }
            ("loan", "student") => profile.liabilities.push(
                liability_from(&serde_json::json!({ "type": "student" }), index, today)
                    .map_err(bad)?,
            ),
            _ => {}
        }
    }
    profile.ledger = if any_transactions {
        LedgerPlan::Custom(planned)
    } else {
        // Accounts without transactions get generated ones, like Plaid's random history.
        let find = |kind: &str, subtype: &str| {
            profile
                .accounts
                .iter()
                .position(|a| a.kind == kind && a.subtype == subtype)
        };
        let slots = Slots {
            checking: find("depository", "checking"),
            savings: find("depository", "savings"),
            card: find("credit", "credit card"),
        };
        for slot in [slots.checking, slots.savings, slots.card]
            .into_iter()
            .flatten()
        {
            profile.accounts[slot].ledger_balance = true;
        }
        LedgerPlan::Generated(slots)
    };
    Ok(profile)
}

fn owner_from(identity: &Value) -> Result<OwnerPlan, String> {
    let list = |k: &str| {
        identity
            .get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let entry = |v: &Value, what: &str| -> Result<(String, bool, String), String> {
        Ok((
            v.get("data")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{what}.data must be text"))?
                .to_owned(),
            v.get("primary").and_then(Value::as_bool).unwrap_or(false),
            v.get("type")
                .and_then(Value::as_str)
                .unwrap_or("other")
                .to_owned(),
        ))
    };
    Ok(OwnerPlan {
        names: list("names")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        phones: list("phone_numbers")
            .iter()
            .map(|v| entry(v, "phone_numbers[]"))
            .collect::<Result<_, _>>()?,
        emails: list("emails")
            .iter()
            .map(|v| entry(v, "emails[]"))
            .collect::<Result<_, _>>()?,
        addresses: list("addresses")
            .iter()
            .map(|a| {
                let data = a.get("data").ok_or("addresses[].data is missing")?;
                let get = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_owned);
                Ok((
                    AddressPlan {
                        street: get("street").ok_or("addresses[].data.street is missing")?,
                        city: get("city"),
                        region: get("region"),
                        postal_code: get("postal_code"),
                        country: get("country"),
                    },
                    a.get("primary").and_then(Value::as_bool).unwrap_or(false),
                ))
            })
            .collect::<Result<_, String>>()?,
    })
}

/// The subtype of a `user_custom` investment transaction of this type (the override has no
/// subtype; the spec's `InvestmentTransactionSubtype` has no `cash` or `fee`): a cash
/// movement is a deposit when it credits the account (a negative amount), else a withdrawal.
/// `None` for a type the override does not list.
fn investment_subtype(kind: &str, amount: f64) -> Option<&'static str> {
    Some(match kind {
        "buy" => "buy",
        "sell" => "sell",
        "cash" if amount < 0.0 => "deposit",
        "cash" => "withdrawal",
        "fee" => "account fee",
        "transfer" => "transfer",
        _ => return None,
    })
}

/// The security a config names: one already named (the same ticker, CUSIP or ISIN) is the
/// same security, with the same id; a new one is added to `known`.
fn security_from(
    value: Option<&Value>,
    currency: &str,
    rng: &mut Rng,
    known: &mut Vec<SecurityPlan>,
) -> Result<SecurityPlan, String> {
    let s = value
        .filter(|v| v.is_object())
        .ok_or("a security is required")?;
    let get = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
    let (ticker, cusip, isin) = (get("ticker_symbol"), get("cusip"), get("isin"));
    if ticker.is_none() && cusip.is_none() && isin.is_none() {
        return Err("a ticker_symbol, cusip or isin is required".into());
    }
    let same = |mine: &Option<String>, theirs: &Option<String>| mine.is_some() && mine == theirs;
    if let Some(seen) = known
        .iter()
        .find(|k| same(&ticker, &k.ticker) || same(&cusip, &k.cusip) || same(&isin, &k.isin))
    {
        return Ok(seen.clone());
    }
    let security = SecurityPlan {
        id: rng.id(37),
        name: get("name")
            .or_else(|| ticker.clone())
            .unwrap_or_else(|| "Security".into()),
        ticker,
        cusip,
        isin,
        kind: "equity".into(),
        close_price: None,
        currency: get("currency").unwrap_or_else(|| currency.to_owned()),
        cash_equivalent: false,
    };
    known.push(security.clone());
    Ok(security)
}

fn liability_from(l: &Value, account: usize, today: NaiveDate) -> Result<LiabilityPlan, String> {
    let num = |k: &str| l.get(k).and_then(Value::as_f64);
    let date = |k: &str| {
        l.get(k)
            .and_then(Value::as_str)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    match l.get("type").and_then(Value::as_str) {
        Some("credit") => {
            let mut aprs = Vec::new();
            for (field, apr_type) in [
                ("purchase_apr", "purchase_apr"),
                ("cash_apr", "cash_apr"),
                ("balance_transfer_apr", "balance_transfer_apr"),
                ("special_apr", "special"),
            ] {
                if let Some(p) = num(field) {
                    aprs.push((apr_type.to_owned(), p, None, None));
                }
            }
            Ok(LiabilityPlan::Credit {
                account,
                aprs,
                is_overdue: l.get("is_overdue").and_then(Value::as_bool).unwrap_or(false),
                last_payment_amount: num("last_payment_amount"),
                last_statement_balance: None,
                minimum_payment_amount: num("minimum_payment_amount"),
            })
        }
        Some("student") => Ok(LiabilityPlan::Student {
            account,
            loan_name: l.get("loan_name").and_then(Value::as_str).unwrap_or("Student Loan").to_owned(),
            interest_rate: num("nominal_apr").unwrap_or(5.0),
            principal: num("principal").unwrap_or(10_000.0),
            origination: date("origination_date").unwrap_or(today),
            payoff: date("expected_payoff_date").unwrap_or_else(|| today.checked_add_days(Days::new(3650)).unwrap_or(today)),
            guarantor: l.get("guarantor").and_then(Value::as_str).unwrap_or("DEPT OF ED").to_owned(),
            minimum_payment_amount: num("minimum_payment_amount").unwrap_or(25.0),
            is_overdue: l.get("is_overdue").and_then(Value::as_bool).unwrap_or(false),
            repayment_type: l.get("repayment_plan_type").and_then(Value::as_str).unwrap_or("standard").to_owned(),
            terms: Box::new(student_terms(l)?),
        })
        .and_then(|plan| match &plan {
            LiabilityPlan::Student { repayment_type, .. }
                if plaid_sdk::types::StudentRepaymentPlanType::from(repayment_type.as_str())
                    .is_unrecognized() =>
            {
                Err(format!("repayment_plan_type {repayment_type:?} is not one of the spec's"))
            }
            _ => Ok(plan),
        }),
        Some(other) => Err(format!("type {other:?}: the sandbox models credit and student (Plaid's custom sandbox does not support mortgages)")),
        None => Err("type is required (credit or student)".into()),
    }
}

/// The student loan terms a `LiabilityOverride` sets; Plaid's example values for the rest.
fn student_terms(l: &Value) -> Result<StudentTerms, String> {
    let mut terms = StudentTerms::default();
    let text = |v: &Value, at: &str| -> Result<Option<String>, String> {
        match v.get(at) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{at} must be text")),
        }
    };
    let date = |v: &Value, at: &str| -> Result<Option<NaiveDate>, String> {
        text(v, at)?
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| format!("{at} must be a date (YYYY-MM-DD)"))
            })
            .transpose()
    };
    let count = |v: &Value, at: &str| -> Result<Option<i64>, String> {
        match v.get(at) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_i64()
                .filter(|n| (0..=10_000).contains(n))
                .map(Some)
                .ok_or_else(|| format!("{at} must be a whole number from 0 to 10000")),
        }
    };
    if let Some(status) = l.get("loan_status").filter(|v| !v.is_null()) {
        if let Some(kind) = text(status, "type")? {
            if plaid_sdk::types::StudentLoanStatusType::from(kind.as_str()).is_unrecognized() {
                return Err(format!(
                    "loan_status.type {kind:?} is not one of the spec's"
                ));
            }
            terms.status = kind;
        }
        terms.status_end = date(status, "end_date")?;
    }
    if let Some(description) = text(l, "repayment_plan_description")? {
        terms.plan_description = description;
    }
    if let Some(pslf) = l.get("pslf_status").filter(|v| !v.is_null()) {
        terms.pslf_date = date(pslf, "estimated_eligibility_date")?;
        terms.pslf_made = count(pslf, "payments_made")?;
        terms.pslf_remaining = count(pslf, "payments_remaining")?;
    }
    if let Some(address) = l.get("servicer_address").filter(|v| !v.is_null()) {
        let data = address.get("data").unwrap_or(address);
        terms.servicer = Some(AddressPlan {
            street: text(data, "street")?.unwrap_or_default(),
            city: text(data, "city")?,
            region: text(data, "region")?,
            postal_code: text(data, "postal_code")?,
            country: text(data, "country")?,
        });
    }
    terms.reference = text(l, "payment_reference_number")?;
    if let Some(sequence) = text(l, "sequence_number")? {
        terms.sequence = sequence;
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn plaids_credentials() {
        let good = from_credentials("user_good", "pass_good", today()).unwrap();
        assert_eq!(good.accounts.len(), 12);
        assert_eq!(good.accounts[0].mask, "0000");
        assert_eq!(good.owners[0].names, ["Alberta Bobbeth Charleson"]);
        assert_eq!(
            from_credentials("user_good", "mfa_device", today())
                .unwrap()
                .mfa,
            Some(Mfa::Device)
        );
        assert_eq!(
            from_credentials("user_good", "mfa_questions_2_3", today())
                .unwrap()
                .mfa,
            Some(Mfa::Questions {
                rounds: 2,
                per_round: 3
            })
        );
        assert_eq!(
            from_credentials("user_good", "error_ITEM_LOCKED", today())
                .unwrap()
                .force_error
                .as_deref(),
            Some("ITEM_LOCKED")
        );
        for (u, p) in [
            ("user_good", "wrong"),
            ("user_good", ""),
            ("nobody", "pass_good"),
            ("user_good", "error_bad-code"),
        ] {
            assert_eq!(
                from_credentials(u, p, today()).unwrap_err().code,
                "INVALID_CREDENTIALS",
                "{u}/{p}"
            );
        }
        let dynamic = from_credentials("user_transactions_dynamic", "anything", today()).unwrap();
        assert_eq!(dynamic.accounts.len(), 2);
        assert!(matches!(dynamic.ledger, LedgerPlan::Dynamic { .. }));
        let dated = good.dated(today());
        assert!(!dated.holdings.is_empty() && !dated.liabilities.is_empty());
    }

    #[test]
    fn a_custom_config_sets_accounts_transactions_identity_and_errors() {
        let config = serde_json::json!({
            "seed": "my-seed",
            "override_accounts": [
                {
                    "type": "depository", "subtype": "checking", "starting_balance": 1000,
                    "meta": { "name": "Spending", "mask": "4321" },
                    "numbers": { "account": "9900001234", "ach_routing": "322271627" },
                    "transactions": [
                        { "date_transacted": "2026-11-01", "date_posted": "2026-11-02", "amount": 12.5, "description": "Coffee", "currency": "USD" }
                    ],
                    "identity": { "names": ["John Doe"], "emails": [{ "data": "j@example.com", "primary": true, "type": "primary" }] }
                },
                { "type": "credit", "subtype": "credit card", "liability": { "type": "credit", "purchase_apr": 12.9 } },
                { "type": "investment", "subtype": "brokerage", "holdings": [
                    { "institution_price": 10, "quantity": 10, "currency": "USD", "security": { "ticker_symbol": "PLAID", "currency": "USD" } }
                ] }
            ]
        });
        let p = from_credentials("user_custom", &config.to_string(), today()).unwrap();
        assert_eq!(p.accounts.len(), 3);
        assert_eq!(p.accounts[0].name, "Spending");
        assert_eq!(
            p.accounts[0].numbers.ach_routing.as_deref(),
            Some("322271627")
        );
        assert_eq!(
            p.accounts[0].owners.as_ref().unwrap()[0].names,
            ["John Doe"]
        );
        let LedgerPlan::Custom(planned) = &p.ledger else {
            panic!("{:?}", p.ledger)
        };
        assert_eq!(planned.len(), 1);
        assert_eq!(p.liabilities.len(), 1);
        assert_eq!(p.holdings[0].security.ticker.as_deref(), Some("PLAID"));
        let forced =
            from_credentials("user_custom", r#"{"force_error":"ITEM_LOCKED"}"#, today()).unwrap();
        assert_eq!(forced.force_error.as_deref(), Some("ITEM_LOCKED"));
        let empty = from_credentials("user_custom", "{}", today()).unwrap();
        assert_eq!(empty.accounts.len(), 1);
        for bad in [
            "not json",
            "[]",
            r#"{"override_accounts": 3}"#,
            r#"{"override_accounts":[{"meta":{"mask":"x"}}]}"#,
        ] {
            let e = from_credentials("user_custom", bad, today()).unwrap_err();
            assert_eq!(e.code, "INVALID_CREDENTIALS", "{bad}");
            assert!(e.message.contains("user_custom"), "{}", e.message);
        }
    }

    /// A misspelt top-level key, or an account type Plaid does not have, is refused by name
    /// (with the names it could have been), not read as an empty config or failing later as
    /// `NO_AUTH_ACCOUNTS`; every key and type of Plaid's schema is still accepted.
    #[test]
    fn user_custom_refuses_unknown_keys_and_account_types_by_name() {
        let refused_naming = |config: &str, parts: &[&str]| {
            let e = from_credentials("user_custom", config, today()).unwrap_err();
            assert_eq!(e.code, "INVALID_CREDENTIALS");
            for part in parts {
                assert!(e.message.contains(part), "{part}: {}", e.message);
            }
        };
        refused_naming(
            r#"{"override_acounts":[{"type":"depository","subtype":"checking"}]}"#,
            &[
                "user_custom",
                "\"override_acounts\"",
                "override_accounts",
                "recaptcha",
            ],
        );
        refused_naming(
            r#"{"override_accounts":[{"type":"depositry","subtype":"checking"}]}"#,
            &[
                "override_accounts[0].type",
                "\"depositry\"",
                "depository",
                "payroll",
            ],
        );
        let every_key = r#"{"version":"2","seed":"s","mfa":null,"recaptcha":"good",
            "force_error":"ITEM_LOCKED","override_accounts":[]}"#;
        from_credentials("user_custom", every_key, today()).unwrap();
        for kind in CUSTOM_ACCOUNT_TYPES {
            let config = serde_json::json!({ "override_accounts": [{ "type": kind }] }).to_string();
            from_credentials("user_custom", &config, today()).unwrap();
        }
    }
}
