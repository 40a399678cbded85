//! Auth, Identity, Investments and Liabilities over an Item's accounts and its test user's data.

use super::{
    account_base, account_filter, add_product, balances, item_for, item_object, json,
    offers_product, Answer, Ctx,
};
use crate::body::{offset, page_count, Body};
use crate::failure::Failure;
use crate::identity_match::Claimed;
use crate::state::Item;
use crate::users::{LiabilityPlan, OwnerPlan, SecurityPlan};
use plaid_sdk::types::{
    AccountBalance, AccountIdentity, AccountIdentityMatchScore, AccountSubtype, AccountType,
    Address, AddressData, Apr, AprAprType, AuthGetNumbers, AuthGetResponse, CreditCardLiability,
    Email, EmailType, FixedIncome, Holding, IdentityGetResponse, IdentityMatchResponse,
    InvestmentAccount, InvestmentAccountBalances, InvestmentTransaction,
    InvestmentTransactionSubtype, InvestmentTransactionType, InvestmentsHoldingsGetResponse,
    InvestmentsTransactionsGetResponse, LiabilitiesGetResponse, LiabilitiesObject,
    MortgageInterestRate, MortgageLiability, MortgagePropertyAddress, NumbersAch, NumbersBacs,
    NumbersEft, NumbersInternational, OptionContract, Owner, PhoneNumber, PhoneNumberType,
    PslfStatus, Security, ServicerAddressData, StudentLoan, StudentLoanStatus,
    StudentLoanStatusType, StudentRepaymentPlan, StudentRepaymentPlanType, YieldRate,
    YieldRateType,
};

/// Whether Auth covers an Item's account (see [`crate::users::AccountPlan::auth_eligible`]).
fn auth_eligible(item: &Item, index: usize) -> bool {
    item.accounts[index].plan.auth_eligible()
}

/// Whether an account waits for its micro-deposits (Auth is `PRODUCT_NOT_READY` until then).
pub(crate) fn awaits_verification(item: &Item, index: usize) -> bool {
    item.accounts[index]
        .verification
        .as_deref()
        .is_some_and(|s| s.starts_with("pending"))
}

/// An account's numbers, by its institution's country: ACH in the US (Plaid's sandbox numbers:
/// `111122223333` and the mask, routing `011401533` or the bank's own where Plaid's Auth testing
/// page gives one, wire `021000021`), EFT in Canada, BACS and
/// IBAN in the UK; or those a `user_custom` config sets.
pub(crate) fn numbers_of(
    item: &Item,
    index: usize,
) -> (
    Option<NumbersAch>,
    Option<NumbersEft>,
    Option<NumbersBacs>,
    Option<NumbersInternational>,
) {
    let account = &item.accounts[index];
    let n = &account.plan.numbers;
    let number = n
        .account
        .clone()
        .unwrap_or_else(|| format!("111122223333{}", account.plan.mask));
    let id = account.id.clone();
    match item.bank.country {
        "CA" => (
            None,
            Some(NumbersEft::new(
                id,
                number,
                n.eft_institution.clone().unwrap_or_else(|| "021".into()),
                n.eft_branch.clone().unwrap_or_else(|| "01140".into()),
            )),
            None,
            None,
        ),
        "GB" => {
            let bacs_account = n
                .account
                .clone()
                .unwrap_or_else(|| format!("3192{}", account.plan.mask));
            let sort_code = n.bacs_sort_code.clone().unwrap_or_else(|| "601613".into());
            let iban = n
                .international_iban
                .clone()
                .unwrap_or_else(|| iban("GB", &format!("NWBK{sort_code}{bacs_account}")));
            (
                None,
                None,
                Some(NumbersBacs::new(id.clone(), bacs_account, sort_code)),
                Some(NumbersInternational::new(
                    id,
                    iban,
                    n.international_bic
                        .clone()
                        .unwrap_or_else(|| "NWBKGB21".into()),
                )),
            )
        }
        _ => (
            Some(
                NumbersAch::new(
                    number,
                    id,
                    n.ach_routing
                        .clone()
                        .unwrap_or_else(|| sandbox_routing(item.bank.id).into()),
                )
                .wire_routing(
                    n.ach_wire_routing
                        .clone()
                        .unwrap_or_else(|| "021000021".into()),
                )
                .is_tokenized_account_number(false),
            ),
            None,
            None,
            None,
        ),
    }
}

/// An IBAN (ISO 13616) for `country` and `bban`, with the check digits that make it valid: the
/// BBAN, the country and `00`, letters as 10 to 35, taken mod 97 and subtracted from 98. Plaid's
/// UK sandbox accounts end in their mask, so each needs its own check digits (`GB29` belongs to
/// `…31926819` only).
fn iban(country: &str, bban: &str) -> String {
    // A `user_custom` sort code may be written `60-16-13`: an IBAN has no separators.
    let bban: String = bban.chars().filter(char::is_ascii_alphanumeric).collect();
    let rearranged = bban.chars().chain(country.chars()).chain("00".chars());
    let remainder = rearranged.fold(0u32, |acc, c| match c.to_digit(36) {
        Some(v) if v >= 10 => (acc * 100 + v) % 97,
        Some(v) => (acc * 10 + v) % 97,
        None => acc,
    });
    format!("{country}{:02}{bban}", 98 - remainder)
}

/// The routing number a US test bank's accounts have: Windowpane's "Routing number
/// `333333334`" (plaid.com/docs/auth/coverage/testing/), Plaid's `011401533` elsewhere.
fn sandbox_routing(bank_id: &str) -> &'static str {
    match bank_id {
        "ins_135858" => "333333334",
        _ => "011401533",
    }
}

pub(super) fn auth_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let item = item_for(ctx, body, "/auth/get")?;
    offers_product(item, "auth")?;
    let filter = account_filter(item, body, "account_ids")?;
    let chosen: Vec<usize> = (0..item.accounts.len())
        .filter(|i| auth_eligible(item, *i))
        .filter(|i| filter.as_ref().is_none_or(|f| f.contains(i)))
        .collect();
    if (0..item.accounts.len()).all(|i| !auth_eligible(item, i)) {
        return Err(Failure::code("NO_AUTH_ACCOUNTS"));
    }
    if chosen.iter().any(|i| awaits_verification(item, *i)) {
        // Plaid: Auth on an Item whose micro-deposits are not verified yet.
        return Err(Failure::code("PRODUCT_NOT_READY"));
    }
    add_product(item, "auth");
    let (mut ach, mut eft, mut bacs, mut international) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in &chosen {
        let (a, e, b, n) = numbers_of(item, *i);
        ach.extend(a);
        eft.extend(e);
        bacs.extend(b);
        international.extend(n);
    }
    let accounts: Vec<_> = chosen.iter().map(|i| account_base(item, *i)).collect();
    json(&AuthGetResponse::new(
        accounts,
        AuthGetNumbers::new(ach, eft, international, bacs),
        item_object(item),
        request_id,
    ))
}

pub(crate) fn owner_of(plan: &OwnerPlan) -> Owner {
    Owner::new(
        plan.names.clone(),
        plan.phones
            .iter()
            .map(|(data, primary, kind)| {
                PhoneNumber::new(data.clone(), *primary, PhoneNumberType::from(kind.as_str()))
            })
            .collect::<Vec<_>>(),
        plan.emails
            .iter()
            .map(|(data, primary, kind)| {
                Email::new(data.clone(), *primary, EmailType::from(kind.as_str()))
            })
            .collect::<Vec<_>>(),
        plan.addresses
            .iter()
            .map(|(a, primary)| {
                let mut data = AddressData::new(a.street.clone());
                if let Some(v) = &a.city {
                    data = data.city(v.clone());
                }
                if let Some(v) = &a.region {
                    data = data.region(v.clone());
                }
                if let Some(v) = &a.postal_code {
                    data = data.postal_code(v.clone());
                }
                if let Some(v) = &a.country {
                    data = data.country(v.clone());
                }
                Address::new(data).primary(*primary)
            })
            .collect::<Vec<_>>(),
    )
}

pub(super) fn identity_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let item = item_for(ctx, body, "/identity/get")?;
    offers_product(item, "identity")?;
    let filter = account_filter(item, body, "account_ids")?;
    add_product(item, "identity");
    let accounts: Vec<AccountIdentity> = (0..item.accounts.len())
        .filter(|i| filter.as_ref().is_none_or(|f| f.contains(i)))
        .map(|i| {
            let account = &item.accounts[i];
            let owners = account.plan.owners.as_ref().unwrap_or(&item.profile.owners);
            let mut out = AccountIdentity::new(
                account.id.clone(),
                balances(item, i),
                account.plan.name.clone(),
                owners.iter().map(owner_of).collect::<Vec<_>>(),
                AccountType::from(account.plan.kind.as_str()),
            )
            .mask(account.plan.mask.clone())
            .subtype(AccountSubtype::from(account.plan.subtype.as_str()));
            if let Some(official) = &account.plan.official_name {
                out = out.official_name(official.clone());
            }
            out
        })
        .collect();
    json(&IdentityGetResponse::new(
        accounts,
        item_object(item),
        request_id,
    ))
}

/// An account scored against what a request claims (Identity Match): the account's fields
/// with null balances ("Fields within the `balances` object will always be null").
pub(crate) fn match_scores(
    item: &Item,
    index: usize,
    claimed: &Claimed,
) -> AccountIdentityMatchScore {
    let account = &item.accounts[index];
    let owners = account.plan.owners.as_ref().unwrap_or(&item.profile.owners);
    let (name, phone, email, address) = claimed.score(owners);
    let mut out = AccountIdentityMatchScore::new(
        account.id.clone(),
        AccountBalance::new(),
        account.plan.name.clone(),
        AccountType::from(account.plan.kind.as_str()),
    )
    .mask(account.plan.mask.clone())
    .subtype(AccountSubtype::from(account.plan.subtype.as_str()));
    if let Some(official) = &account.plan.official_name {
        out = out.official_name(official.clone());
    }
    if let Some(v) = name {
        out = out.legal_name(v);
    }
    if let Some(v) = phone {
        out = out.phone_number(v);
    }
    if let Some(v) = email {
        out = out.email_address(v);
    }
    if let Some(v) = address {
        out = out.address(v);
    }
    out
}

pub(super) fn identity_match(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let claimed = Claimed::from_user(body.get("user"));
    let item = item_for(ctx, body, "/identity/match")?;
    offers_product(item, "identity")?;
    let filter = account_filter(item, body, "account_ids")?;
    let accounts: Vec<AccountIdentityMatchScore> = (0..item.accounts.len())
        .filter(|i| filter.as_ref().is_none_or(|f| f.contains(i)))
        .map(|i| match_scores(item, i, &claimed))
        .collect();
    json(&IdentityMatchResponse::new(
        accounts,
        item_object(item),
        request_id,
    ))
}

/// The Item's investment accounts, `NO_INVESTMENT_ACCOUNTS` when it has none.
fn investment_accounts(item: &Item, filter: &Option<Vec<usize>>) -> Result<Vec<usize>, Failure> {
    let all: Vec<usize> = (0..item.accounts.len())
        .filter(|i| item.accounts[*i].plan.kind == "investment")
        .collect();
    if all.is_empty() {
        return Err(Failure::code("NO_INVESTMENT_ACCOUNTS"));
    }
    Ok(all
        .into_iter()
        .filter(|i| filter.as_ref().is_none_or(|f| f.contains(i)))
        .collect())
}

fn investment_account(item: &Item, index: usize) -> InvestmentAccount {
    let account = &item.accounts[index];
    let mut balance = InvestmentAccountBalances::new()
        .current(account.plan.current)
        .iso_currency_code(account.plan.currency.clone());
    if let Some(a) = account.plan.available {
        balance = balance.available(a);
    }
    let mut out = InvestmentAccount::new(
        account.id.clone(),
        balance,
        account.plan.name.clone(),
        AccountType::from(account.plan.kind.as_str()),
    )
    .mask(account.plan.mask.clone())
    .subtype(AccountSubtype::from(account.plan.subtype.as_str()));
    if let Some(official) = &account.plan.official_name {
        out = out.official_name(official.clone());
    }
    out
}

fn security(plan: &SecurityPlan) -> Security {
    let mut out = Security::new(plan.id.clone())
        .name(plan.name.clone())
        .type_(plan.kind.clone())
        .is_cash_equivalent(plan.cash_equivalent)
        .iso_currency_code(plan.currency.clone());
    if let Some(v) = &plan.ticker {
        out = out.ticker_symbol(v.clone());
    }
    if let Some(v) = &plan.cusip {
        out = out.cusip(v.clone());
    }
    if let Some(v) = &plan.isin {
        out = out.isin(v.clone());
    }
    if let Some(v) = plan.close_price {
        out = out.close_price(v);
    }
    plaids_details(&plan.name, out)
}

/// What Plaid's `/investments/holdings/get` example gives for user_good's securities beyond
/// their names and prices: subtype, sector, industry, market, and the option's contract and
/// the bill's fixed-income terms. Other securities (a `user_custom` config's) have none.
fn plaids_details(name: &str, out: Security) -> Security {
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let (subtype, sector, industry, market) = match name {
        "U S Dollar" => ("cash", None, None, None),
        "Nflx Feb 01'18 $355 Call" => (
            "option",
            Some("Technology Services"),
            Some("Internet Software or Services"),
            Some("XNAS"),
        ),
        "Achillion Pharmaceuticals Inc." => (
            "common stock",
            Some("Health Technology"),
            Some("Major Pharmaceuticals"),
            Some("XNAS"),
        ),
        "DoubleLine Total Return Bond Fund" => ("mutual fund", None, None, Some("XNAS")),
        "Matthews Pacific Tiger Fund Insti Class" => (
            "mutual fund",
            Some("Miscellaneous"),
            Some("Investment Trusts or Mutual Funds"),
            Some("XNAS"),
        ),
        "NH PORTFOLIO 1055 (FIDELITY INDEX)" => ("etf", None, None, Some("XNAS")),
        "US Treasury Bill - 5.43% 31/10/2024 USD 100" => (
            "bill",
            Some("Government"),
            Some("Sovereign Government"),
            None,
        ),
        _ => return out,
    };
    let mut out = out.subtype(subtype.to_owned());
    if let Some(v) = sector {
        out = out.sector(v.to_owned());
    }
    if let Some(v) = industry {
        out = out.industry(v.to_owned());
    }
    if let Some(v) = market {
        out = out.market_identifier_code(v.to_owned());
    }
    match subtype {
        "option" => out.option_contract(OptionContract::new(
            "call".to_owned(),
            date(2018, 2, 1),
            355.0,
            "NFLX".to_owned(),
        )),
        "bill" => out.fixed_income(
            FixedIncome::new()
                .face_value(100.0)
                .issue_date(date(2023, 11, 2))
                .maturity_date(date(2024, 10, 31))
                .yield_rate(YieldRate::new(5.43).type_(YieldRateType::CouponEquivalent)),
        ),
        _ => out,
    }
}

/// Securities, each once.
fn securities<'a>(plans: impl Iterator<Item = &'a SecurityPlan>) -> Vec<Security> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for plan in plans {
        if !seen.contains(&plan.id.as_str()) {
            seen.push(&plan.id);
            out.push(security(plan));
        }
    }
    out
}

/// Adds Investments to an Item, by its first holdings or transactions call: the first
/// extraction, which `/item/get`'s `status.investments` reports (review round 15: holdings
/// left it empty).
fn add_investments(item: &mut crate::state::Item, now: chrono::DateTime<chrono::Utc>) {
    add_product(item, "investments");
    item.last_update.insert("investments", now);
}

pub(super) fn holdings_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/investments/holdings/get")?;
    offers_product(item, "investments")?;
    let filter = account_filter(item, body, "account_ids")?;
    let chosen = investment_accounts(item, &filter)?;
    if !item.has_product("investments") {
        add_investments(item, now);
    }
    let plans: Vec<_> = item
        .profile
        .holdings
        .iter()
        .filter(|h| chosen.contains(&h.account))
        .collect();
    let holdings: Vec<Holding> = plans
        .iter()
        .map(|h| {
            let mut out = Holding::new(
                item.accounts[h.account].id.clone(),
                h.price,
                crate::ledger::round2(h.price * h.quantity),
                h.quantity,
                h.security.id.clone(),
            )
            .iso_currency_code(h.currency.clone());
            if let Some(c) = h.cost_basis {
                out = out.cost_basis(c);
            }
            if let Some(d) = h.price_as_of {
                out = out.institution_price_as_of(d);
            }
            out
        })
        .collect();
    json(&InvestmentsHoldingsGetResponse::new(
        chosen
            .iter()
            .map(|i| investment_account(item, *i))
            .collect::<Vec<_>>(),
        holdings,
        securities(plans.iter().map(|h| &h.security)),
        item_object(item),
        request_id,
    ))
}

pub(super) fn investment_transactions_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let (start, end) = (body.date("start_date")?, body.date("end_date")?);
    if start > end {
        return Err(Failure::invalid_field(
            "start_date must be on or before end_date",
        ));
    }
    let count = page_count(body.option("count"), "options.count", 100, 500)?;
    let skip = offset(body.option("offset"), "options.offset")?;
    let asynchronous = body.option_flag("async_update")?;
    let now = ctx.state.now();
    let item = item_for(ctx, body, "/investments/transactions/get")?;
    offers_product(item, "investments")?;
    let filter = account_filter(item, body, "account_ids")?;
    let chosen = investment_accounts(item, &filter)?;
    if !item.has_product("investments") {
        add_investments(item, now);
        if asynchronous {
            // Plaid's docs (`options.async_update`): the first extraction runs in the
            // background, `PRODUCT_NOT_READY` until it is done, then `HISTORICAL_UPDATE`. Here
            // it is done at once: the webhook leaves now and the next call has the data.
            let mut hooks = Vec::new();
            crate::webhooks::investments_ready(item, &mut hooks, now);
            ctx.outgoing.extend(hooks);
            return Err(Failure::code("PRODUCT_NOT_READY"));
        }
    }
    let mut matching: Vec<_> = item
        .profile
        .investment_transactions
        .iter()
        .enumerate()
        .filter(|(_, t)| chosen.contains(&t.account) && t.date >= start && t.date <= end)
        .collect();
    matching.sort_by_key(|(_, t)| std::cmp::Reverse(t.date));
    let page: Vec<_> = matching.iter().skip(skip).take(count).collect();
    let txns: Vec<InvestmentTransaction> = page
        .iter()
        .map(|(n, t)| {
            let mut rng =
                crate::rng::Rng::new(crate::rng::Rng::hash(&item.item_id), 0x696e_7674, *n as u64);
            let mut out = InvestmentTransaction::new(
                item.accounts[t.account].id.clone(),
                t.amount,
                t.date,
                rng.id(37),
                t.name.clone(),
                t.price,
                t.quantity,
                InvestmentTransactionSubtype::from(t.subtype.as_str()),
                InvestmentTransactionType::from(t.kind.as_str()),
            )
            .fees(t.fees)
            .iso_currency_code(t.currency.clone());
            if let Some(s) = &t.security {
                out = out.security_id(s.id.clone());
            }
            out
        })
        .collect();
    json(&InvestmentsTransactionsGetResponse::new(
        item_object(item),
        chosen
            .iter()
            .map(|i| investment_account(item, *i))
            .collect::<Vec<_>>(),
        securities(page.iter().filter_map(|(_, t)| t.security.as_ref())),
        txns,
        matching.len() as i64,
        request_id,
    ))
}

pub(super) fn liabilities_get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let request_id = ctx.request_id.clone();
    let today = ctx.state.now().date_naive();
    let item = item_for(ctx, body, "/liabilities/get")?;
    offers_product(item, "liabilities")?;
    let filter = account_filter(item, body, "account_ids")?;
    if item.profile.liabilities.is_empty() {
        return Err(Failure::code("NO_LIABILITY_ACCOUNTS"));
    }
    add_product(item, "liabilities");
    let plans: Vec<&LiabilityPlan> = item.profile.liabilities.iter().collect();
    let account_of = LiabilityPlan::account;
    let chosen: Vec<&LiabilityPlan> = plans
        .into_iter()
        .filter(|p| filter.as_ref().is_none_or(|f| f.contains(&account_of(p))))
        .collect();
    let date = |days: i64| {
        today
            .checked_add_signed(chrono::Duration::days(days))
            .unwrap_or(today)
    };
    let (mut credit, mut student, mut mortgage) = (Vec::new(), Vec::new(), Vec::new());
    for plan in &chosen {
        let id = item.accounts[account_of(plan)].id.clone();
        match plan {
            LiabilityPlan::Credit {
                aprs,
                is_overdue,
                last_payment_amount,
                last_statement_balance,
                minimum_payment_amount,
                ..
            } => {
                let mut c = CreditCardLiability::new(
                    aprs.iter()
                        .map(|(kind, pct, balance, interest)| {
                            let mut apr = Apr::new(*pct, AprAprType::from(kind.as_str()));
                            if let Some(b) = balance {
                                apr = apr.balance_subject_to_apr(*b);
                            }
                            if let Some(i) = interest {
                                apr = apr.interest_charge_amount(*i);
                            }
                            apr
                        })
                        .collect::<Vec<_>>(),
                )
                .account_id(id)
                .is_overdue(*is_overdue)
                .last_payment_date(date(-13))
                .last_statement_issue_date(date(-7))
                .next_payment_due_date(date(18));
                if let Some(v) = last_payment_amount {
                    c = c.last_payment_amount(*v);
                }
                if let Some(v) = last_statement_balance {
                    c = c.last_statement_balance(*v);
                }
                if let Some(v) = minimum_payment_amount {
                    c = c.minimum_payment_amount(*v);
                }
                credit.push(c);
            }
            LiabilityPlan::Student {
                loan_name,
                interest_rate,
                principal,
                origination,
                payoff,
                guarantor,
                minimum_payment_amount,
                is_overdue,
                repayment_type,
                terms,
                ..
            } => {
                let number = format!("42770756{}", item.accounts[account_of(plan)].plan.mask);
                let mut pslf = PslfStatus::new()
                    .estimated_eligibility_date(terms.pslf_date.unwrap_or(*payoff));
                if let Some(made) = terms.pslf_made {
                    pslf = pslf.payments_made(made);
                }
                if let Some(remaining) = terms.pslf_remaining {
                    pslf = pslf.payments_remaining(remaining);
                }
                let servicer = match &terms.servicer {
                    Some(a) => {
                        let mut address = ServicerAddressData::new().street(a.street.clone());
                        if let Some(v) = &a.city {
                            address = address.city(v.clone());
                        }
                        if let Some(v) = &a.region {
                            address = address.region(v.clone());
                        }
                        if let Some(v) = &a.postal_code {
                            address = address.postal_code(v.clone());
                        }
                        if let Some(v) = &a.country {
                            address = address.country(v.clone());
                        }
                        address
                    }
                    None => ServicerAddressData::new()
                        .street("123 Relaxation Road".to_owned())
                        .city("San Matias".to_owned())
                        .region("CA".to_owned())
                        .postal_code("99415".to_owned())
                        .country("US".to_owned()),
                };
                student.push(
                    StudentLoan::new(
                        *interest_rate,
                        StudentLoanStatus::new()
                            .end_date(terms.status_end.unwrap_or(*payoff))
                            .type_(StudentLoanStatusType::from(terms.status.as_str())),
                        pslf,
                        StudentRepaymentPlan::new()
                            .description(terms.plan_description.clone())
                            .type_(StudentRepaymentPlanType::from(repayment_type.as_str())),
                        servicer,
                    )
                    .account_id(id)
                    .account_number(number.clone())
                    .payment_reference_number(terms.reference.clone().unwrap_or(number))
                    .disbursement_dates(vec![*origination])
                    .expected_payoff_date(*payoff)
                    .guarantor(guarantor.clone())
                    .is_overdue(*is_overdue)
                    .last_payment_amount(138.05)
                    .last_payment_date(date(-13))
                    .last_statement_balance(1_708.77)
                    .last_statement_issue_date(date(-7))
                    .loan_name(loan_name.clone())
                    .minimum_payment_amount(*minimum_payment_amount)
                    .next_payment_due_date(date(18))
                    .origination_date(*origination)
                    .origination_principal_amount(*principal)
                    .outstanding_interest_amount(6_227.36)
                    .sequence_number(terms.sequence.clone())
                    .ytd_interest_paid(280.55)
                    .ytd_principal_paid(271.65),
                );
            }
            LiabilityPlan::Mortgage { .. } => {
                mortgage.push(
                    MortgageLiability::new(
                        id,
                        "3120194154".to_owned(),
                        MortgageInterestRate::new()
                            .percentage(3.99)
                            .type_("fixed".to_owned()),
                        MortgagePropertyAddress::new()
                            .street("2992 Cameron Road".to_owned())
                            .city("Malakoff".to_owned())
                            .region("NY".to_owned())
                            .postal_code("14236".to_owned())
                            .country("US".to_owned()),
                    )
                    .current_late_fee(25.0)
                    .escrow_balance(3_141.54)
                    .has_pmi(true)
                    .has_prepayment_penalty(true)
                    .last_payment_amount(3_141.54)
                    .last_payment_date(date(-13))
                    .loan_term("30 year".to_owned())
                    .loan_type_description("conventional".to_owned())
                    .maturity_date(NaiveDateExt::years_on(date(0), 19))
                    .next_monthly_payment(3_141.54)
                    .next_payment_due_date(date(18))
                    .origination_date(NaiveDateExt::years_on(date(0), -11))
                    .origination_principal_amount(425_000.0)
                    .past_due_amount(2_304.0)
                    .ytd_interest_paid(12_300.4)
                    .ytd_principal_paid(12_340.5),
                );
            }
        }
    }
    // "An array of accounts associated with the Item" (Plaid's example lists Plaid Checking
    // beside the loans): every account the request's filter allows.
    let accounts_seen: Vec<usize> = (0..item.accounts.len())
        .filter(|i| filter.as_ref().is_none_or(|f| f.contains(i)))
        .collect();
    let liabilities = LiabilitiesObject::new()
        .credit(credit)
        .student(student)
        .mortgage(mortgage);
    json(&LiabilitiesGetResponse::new(
        accounts_seen
            .iter()
            .map(|i| account_base(item, *i))
            .collect::<Vec<_>>(),
        item_object(item),
        liabilities,
        request_id,
    ))
}

/// Years added to a date, for loan terms.
struct NaiveDateExt;

impl NaiveDateExt {
    fn years_on(day: chrono::NaiveDate, years: i32) -> chrono::NaiveDate {
        use chrono::Datelike;
        day.with_year(day.year() + years).unwrap_or(day)
    }
}

#[cfg(test)]
mod tests {
    use super::iban;

    #[test]
    fn ibans_get_the_check_digits_of_plaids_examples() {
        assert_eq!(iban("GB", "NWBK60161331926819"), "GB29NWBK60161331926819");
        assert_eq!(iban("GB", "BUKB20201555555555"), "GB33BUKB20201555555555");
        assert_eq!(iban("NL", "ABNA0417164300"), "NL91ABNA0417164300");
        assert_eq!(
            iban("GB", "NWBK60-16-1331926819"),
            "GB29NWBK60161331926819",
            "separators are left out"
        );
    }
}
