//! Identity Match's scores: what a request says about the user against what an account's
//! owners have on file (`/identity/match`, `/processor/identity/match`).
//!
//! Plaid's rules ("Interpreting Identity Match Scores", plaid.com/docs/identity/): a score from
//! 0 to 100 per field; no score for a field the request leaves out or the bank does not have;
//! the highest score over an account's owners; 70 and up is a match. Plaid's fuzzy matcher is
//! not published; the sandbox's is small and predictable, so a test knows what it gets (the
//! crate's README has the table).

use crate::users::{AddressPlan, OwnerPlan};
use plaid_sdk::types::{
    AddressMatchScore, EmailAddressMatchScore, NameMatchScore, PhoneNumberMatchScore,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// What a request's `user` says (each field only when given as non-empty text).
#[derive(Debug, Default)]
pub(crate) struct Claimed {
    legal_name: Option<String>,
    phone_number: Option<String>,
    email_address: Option<String>,
    street: Option<String>,
    postal_code: Option<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Claimed {
    /// Reads a request's `user` object (absent: nothing is claimed).
    pub(crate) fn from_user(user: Option<&Value>) -> Self {
        let Some(user) = user else {
            return Self::default();
        };
        let address = user.get("address");
        Self {
            legal_name: text(user.get("legal_name")),
            phone_number: text(user.get("phone_number")),
            email_address: text(user.get("email_address")),
            street: text(address.and_then(|a| a.get("street"))),
            postal_code: text(address.and_then(|a| a.get("postal_code"))),
        }
    }

    /// The best score of each claimed field over `owners`.
    pub(crate) fn score(
        &self,
        owners: &[OwnerPlan],
    ) -> (
        Option<NameMatchScore>,
        Option<PhoneNumberMatchScore>,
        Option<EmailAddressMatchScore>,
        Option<AddressMatchScore>,
    ) {
        let name = self.legal_name.as_deref().map(Name::new);
        let name = name.and_then(|claimed| {
            owners
                .iter()
                .flat_map(|o| o.names.iter())
                .map(|held| claimed.score(held))
                .max_by_key(|s| s.0)
                .map(|(score, first_or_last, business)| {
                    NameMatchScore::new()
                        .score(score)
                        .is_first_name_or_last_name_match(first_or_last)
                        .is_nickname_match(false)
                        .is_business_name_detected(business)
                })
        });
        let phone = self.phone_number.as_deref().and_then(|claimed| {
            owners
                .iter()
                .flat_map(|o| o.phones.iter())
                .map(|(held, _, _)| phone_score(claimed, held))
                .max()
                .map(|score| PhoneNumberMatchScore::new().score(score))
        });
        let email = self.email_address.as_deref().and_then(|claimed| {
            owners
                .iter()
                .flat_map(|o| o.emails.iter())
                .map(|(held, _, _)| email_score(claimed, held))
                .max()
                .map(|score| EmailAddressMatchScore::new().score(score))
        });
        let street = self.street.as_deref().map(words);
        let address = street.and_then(|street| {
            owners
                .iter()
                .flat_map(|o| o.addresses.iter())
                .map(|(held, _)| address_score(&street, self.postal_code.as_deref(), held))
                .max_by_key(|s| s.0)
                .map(|(score, postal)| {
                    let mut out = AddressMatchScore::new().score(score);
                    if let Some(postal) = postal {
                        out = out.is_postal_code_match(postal);
                    }
                    out
                })
        });
        (name, phone, email, address)
    }
}

const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "jr", "sr", "ii", "iii", "iv",
];
const BUSINESS: &[&str] = &[
    "corp",
    "corporation",
    "llc",
    "inc",
    "incorporated",
    "ltd",
    "limited",
];

/// A name's words: lower case, punctuation and titles dropped.
fn words(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !TITLES.contains(w))
        .map(str::to_owned)
        .collect()
}

/// A claimed name, read once for all the names it is scored against. Review round 17: its
/// words were split again for each held name and each compared with every held word, under
/// the sandbox's lock: 100,000 words against 100,000 took 75 s. Now a held name costs its
/// own length.
struct Name<'a> {
    text: &'a str,
    words: Vec<String>,
    sorted: Vec<String>,
    /// How often each word is in the name.
    counts: HashMap<String, usize>,
    business: bool,
}

impl<'a> Name<'a> {
    fn new(text: &'a str) -> Self {
        let words = words(text);
        let mut sorted = words.clone();
        sorted.sort_unstable();
        let mut counts = HashMap::new();
        for w in &words {
            *counts.entry(w.clone()).or_insert(0) += 1;
        }
        let business = words.iter().any(|w| BUSINESS.contains(&w.as_str()));
        Name {
            text,
            words,
            sorted,
            counts,
            business,
        }
    }

    /// Against one held name: (score, first or last name the same, a business name).
    fn score(&self, held: &str) -> (i64, bool, bool) {
        let (a, b) = (&self.words, words(held));
        let business = self.business || b.iter().any(|w| BUSINESS.contains(&w.as_str()));
        // A first or last name of one is a first or last name of the other (in either order).
        let ends = |v: &[String]| [v.first().cloned(), v.last().cloned()];
        let first_or_last = ends(a)
            .iter()
            .flatten()
            .any(|w| ends(&b).iter().flatten().any(|x| x == w));
        if self.text.trim() == held.trim() {
            return (100, first_or_last, business);
        }
        let mut sb = b.clone();
        sb.sort_unstable();
        let same_first_last =
            a.len() >= 2 && b.len() >= 2 && a.first() == b.first() && a.last() == b.last();
        if (!self.sorted.is_empty() && self.sorted == sb) || same_first_last {
            return (99, first_or_last, business);
        }
        // The claimed words that are among the held ones, each as often as claimed.
        let held_words: HashSet<&String> = b.iter().collect();
        let common: usize = held_words.iter().filter_map(|w| self.counts.get(*w)).sum();
        let total = a.len() + b.len();
        let score = (200 * common)
            .checked_div(total)
            .map_or(0, |share| (share as i64).min(89));
        (score, first_or_last, business)
    }
}

/// A claimed name against one held: [`Name::score`].
#[cfg(test)]
fn name_score(claimed: &str, held: &str) -> (i64, bool, bool) {
    Name::new(claimed).score(held)
}

fn phone_score(claimed: &str, held: &str) -> i64 {
    let last10 = |s: &str| {
        let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(10)..]
            .iter()
            .collect::<String>()
    };
    let (a, b) = (last10(claimed), last10(held));
    if !a.is_empty() && a == b {
        100
    } else {
        0
    }
}

fn email_score(claimed: &str, held: &str) -> i64 {
    let (a, b) = (claimed.to_lowercase(), held.trim().to_lowercase());
    if a == b {
        return 100;
    }
    let untagged = |s: &str| match s.split_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{local}@{domain}")
        }
        None => s.to_owned(),
    };
    if untagged(&a) == untagged(&b) {
        90
    } else {
        0
    }
}

/// A claimed street and postal code against one held address: (score, whether the postal
/// codes are the same when both are known).
fn address_score(
    street: &[String],
    postal: Option<&str>,
    held: &AddressPlan,
) -> (i64, Option<bool>) {
    let same_street = street == words(&held.street);
    let postal_match = match (postal, held.postal_code.as_deref()) {
        (Some(a), Some(b)) => {
            Some(a.trim().get(..5).unwrap_or(a.trim()) == b.trim().get(..5).unwrap_or(b.trim()))
        }
        _ => None,
    };
    let score = match (same_street, postal, postal_match) {
        (true, _, Some(true)) => 100,
        (true, None, _) => 90,
        (true, Some(_), _) => 70,
        (false, _, Some(true)) => 30,
        (false, _, _) => 0,
    };
    (score, postal_match)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_score_as_the_table_says() {
        let held = "Alberta Bobbeth Charleson";
        let cases = [
            ("Alberta Bobbeth Charleson", 100, true),
            ("alberta bobbeth charleson", 99, true),
            ("Charleson, Alberta Bobbeth", 99, true),
            ("Ms. Alberta Charleson", 99, true),
            ("Bobbeth Charleson", 80, true),
            ("Robert Charleson", 40, true),
            ("Totally Different Person", 0, false),
        ];
        for (claimed, score, first_or_last) in cases {
            let (s, f, b) = name_score(claimed, held);
            assert_eq!((s, f, b), (score, first_or_last, false), "{claimed}");
        }
        assert!(name_score("Acme Widgets LLC", held).2);
    }

    #[test]
    fn phones_emails_and_addresses() {
        assert_eq!(phone_score("+1 (111) 222-3333", "1112223333"), 100);
        assert_eq!(phone_score("+14157452130", "1112223333"), 0);
        assert_eq!(phone_score("", "1112223333"), 0);
        assert_eq!(
            email_score("Accountholder0@Example.com", "accountholder0@example.com"),
            100
        );
        assert_eq!(
            email_score(
                "accountholder0+plaid@example.com",
                "accountholder0@example.com"
            ),
            90
        );
        assert_eq!(
            email_score("someone@example.com", "accountholder0@example.com"),
            0
        );
        let held = AddressPlan {
            street: "2992 Cameron Road".into(),
            city: Some("Malakoff".into()),
            region: Some("NY".into()),
            postal_code: Some("14236".into()),
            country: Some("US".into()),
        };
        assert_eq!(
            address_score(&words("2992 cameron road"), Some("14236-1234"), &held),
            (100, Some(true))
        );
        assert_eq!(
            address_score(&words("2992 Cameron Road"), None, &held),
            (90, None)
        );
        assert_eq!(
            address_score(&words("2992 Cameron Road"), Some("99999"), &held),
            (70, Some(false))
        );
        assert_eq!(
            address_score(&words("1 Elm St"), Some("14236"), &held),
            (30, Some(true))
        );
        assert_eq!(
            address_score(&words("1 Elm St"), Some("99999"), &held),
            (0, Some(false))
        );
    }

    #[test]
    fn a_field_not_sent_or_not_held_has_no_score() {
        let owner = OwnerPlan {
            names: vec!["Alberta Bobbeth Charleson".into()],
            phones: Vec::new(),
            emails: vec![("a@example.com".into(), true, "primary".into())],
            addresses: Vec::new(),
        };
        let claimed = Claimed::from_user(Some(&serde_json::json!({
            "legal_name": "Alberta Charleson", "phone_number": "+11112223333",
            "email_address": null, "address": { "street": "1 Elm St" }
        })));
        let (name, phone, email, address) = claimed.score(&[owner]);
        assert_eq!(name.and_then(|n| n.score), Some(99));
        assert!(phone.is_none(), "the bank has no phone");
        assert!(email.is_none(), "no email was sent");
        assert!(address.is_none(), "the bank has no address");
    }
}
