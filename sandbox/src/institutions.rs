//! Plaid's sandbox institutions (plaid.com/docs/sandbox/institutions/), and what
//! `/institutions/get`, `/institutions/search` and `/institutions/get_by_id` answer about them.
//!
//! Plaid's docs give the ids, names and purpose of each test institution, Tartan Bank's URL and
//! colour, and Houndstooth Bank's and Windowpane Bank's routing numbers; they do not give the
//! others' products, routing numbers or colours, so those are the sandbox's own, chosen to fit
//! each institution's purpose (an OAuth bank is `oauth`, the Canadian one is `CA`, the UK ones
//! `GB` and OAuth). A US bank's routing number is the one its accounts' Auth numbers carry,
//! Plaid's sandbox `011401533`.

use plaid_sdk::types::{
    AuthMetadata, AuthSupportedMethods, CountryCode, Institution, InstitutionStatus, ProductStatus,
    ProductStatusBreakdown, ProductStatusStatus, Products,
};

/// What an institution's answer includes beyond its fixed fields: the `include_*` options
/// of the institution operations.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Include {
    /// `include_optional_metadata`: url, logo and primary colour.
    pub(crate) optional_metadata: bool,
    /// `include_status` (`/institutions/get_by_id` only).
    pub(crate) status: bool,
    /// `include_auth_metadata`: the Auth methods it supports.
    pub(crate) auth_metadata: bool,
}

/// How an institution behaves when an Item is linked at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// Links as usual.
    Healthy,
    /// Links, and says so in its status (`ins_132363`).
    Degraded,
    /// Refuses every login with `INSTITUTION_DOWN` (`ins_132361`).
    Down,
    /// Refuses every login with `INSTITUTION_NO_LONGER_SUPPORTED` (`ins_133402`).
    Unsupported,
}

/// One sandbox institution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bank {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) country: &'static str,
    pub(crate) products: &'static [&'static str],
    pub(crate) oauth: bool,
    pub(crate) routing_numbers: &'static [&'static str],
    pub(crate) url: &'static str,
    /// `#rrggbb`.
    pub(crate) color: &'static str,
    pub(crate) health: Health,
}

/// What a US test bank offers: Plaid's Tartan Bank record (its own SDK test) plus the products
/// added since.
const US_PRODUCTS: &[&str] = &[
    "assets",
    "auth",
    "balance",
    "credit_details",
    "identity",
    "identity_match",
    "income",
    "income_verification",
    "investments",
    "liabilities",
    "signal",
    "statements",
    "transactions",
    "recurring_transactions",
    "transfer",
];
const CA_PRODUCTS: &[&str] = &[
    "assets",
    "auth",
    "balance",
    "identity",
    "investments",
    "liabilities",
    "transactions",
];
const UK_PRODUCTS: &[&str] = &[
    "auth",
    "balance",
    "identity",
    "payment_initiation",
    "transactions",
];

const fn bank(
    id: &'static str,
    name: &'static str,
    routing_numbers: &'static [&'static str],
    color: &'static str,
) -> Bank {
    Bank {
        id,
        name,
        country: "US",
        products: US_PRODUCTS,
        oauth: false,
        routing_numbers,
        url: "https://www.plaid.com/",
        color,
        health: Health::Healthy,
    }
}

/// The sandbox institutions, in Plaid's order.
pub(crate) const BANKS: &[Bank] = &[
    bank(
        "ins_109508",
        "First Platypus Bank",
        &["011401533"],
        "#1f6f8b",
    ),
    bank(
        "ins_130016",
        "First Platypus Balance Bank",
        &["011401533"],
        "#2a7f62",
    ),
    bank(
        "ins_109509",
        "First Gingham Credit Union",
        &["011401533"],
        "#8b1e3f",
    ),
    Bank {
        // Plaid's note: no Auth, Assets or Identity.
        products: &["balance", "investments", "liabilities", "transactions"],
        ..bank(
            "ins_109510",
            "Tattersall Federal Credit Union",
            &["011401533"],
            "#5b3a29",
        )
    },
    bank("ins_109511", "Tartan Bank", &["011401533"], "#174e7c"),
    bank(
        "ins_109512",
        "Houndstooth Bank",
        &["011000138", "011200365", "011400495"],
        "#004966",
    ),
    Bank {
        country: "CA",
        products: CA_PRODUCTS,
        routing_numbers: &[],
        ..bank("ins_43", "Tartan-Dominion Bank of Canada", &[], "#b22234")
    },
    Bank {
        country: "GB",
        products: UK_PRODUCTS,
        oauth: true,
        routing_numbers: &[],
        ..bank(
            "ins_116834",
            "Flexible Platypus Open Banking",
            &[],
            "#3d5a80",
        )
    },
    Bank {
        country: "GB",
        products: UK_PRODUCTS,
        oauth: true,
        routing_numbers: &[],
        ..bank("ins_117650", "Royal Bank of Plaid", &[], "#293241")
    },
    Bank {
        oauth: true,
        ..bank(
            "ins_127287",
            "Platypus OAuth Bank",
            &["011401533"],
            "#ee6c4d",
        )
    },
    Bank {
        oauth: true,
        ..bank(
            "ins_132241",
            "First Platypus OAuth App2App Bank",
            &["011401533"],
            "#98c1d9",
        )
    },
    Bank {
        country: "GB",
        products: UK_PRODUCTS,
        oauth: true,
        routing_numbers: &[],
        ..bank(
            "ins_117181",
            "Flexible Platypus Open Banking (QR code)",
            &[],
            "#3d5a80",
        )
    },
    Bank {
        products: &["auth", "balance", "transactions"],
        ..bank("ins_135858", "Windowpane Bank", &["333333334"], "#6d597a")
    },
    Bank {
        health: Health::Degraded,
        ..bank(
            "ins_132363",
            "Unhealthy Platypus Bank - Degraded",
            &["011401533"],
            "#e09f3e",
        )
    },
    Bank {
        health: Health::Down,
        ..bank(
            "ins_132361",
            "Unhealthy Platypus Bank - Down",
            &["011401533"],
            "#9e2a2b",
        )
    },
    Bank {
        health: Health::Unsupported,
        ..bank(
            "ins_133402",
            "Unsupported Platypus Bank - Institution Not Supported",
            &["011401533"],
            "#540b0e",
        )
    },
    bank(
        "ins_133502",
        "Platypus Bank RUX Auth",
        &["011401533"],
        "#335c67",
    ),
    bank(
        "ins_133503",
        "Platypus Bank RUX Match",
        &["011401533"],
        "#335c67",
    ),
];

/// The sandbox institution with this id.
pub(crate) fn find(id: &str) -> Option<&'static Bank> {
    BANKS.iter().find(|b| b.id == id)
}

impl Bank {
    /// Whether the institution offers `product` (`balance` is offered everywhere).
    pub(crate) fn offers(&self, product: &str) -> bool {
        product == "balance" || self.products.contains(&product)
    }

    /// The institution object, with `url`, `logo` and `primary_color` when asked for (else
    /// left out: the spec's nullable, optional fields), and its status and Auth methods when
    /// asked for.
    pub(crate) fn institution(&self, include: Include) -> Institution {
        let mut institution = Institution::new(
            self.id,
            self.name,
            self.products
                .iter()
                .map(|p| Products::from(*p))
                .collect::<Vec<_>>(),
            vec![CountryCode::from(self.country)],
            self.routing_numbers
                .iter()
                .map(|r| (*r).to_owned())
                .collect::<Vec<_>>(),
            self.oauth,
        );
        if include.auth_metadata {
            institution = institution.auth_metadata(self.auth_metadata());
        }
        if include.optional_metadata {
            institution = institution
                .url(self.url.to_owned())
                .primary_color(self.color.to_owned())
                .logo(logo_png_base64(self.color));
        }
        if include.status {
            institution = institution.status(self.status());
        }
        institution
    }

    /// The Auth methods it supports, as the purposes Plaid's docs give its test institutions
    /// say: Houndstooth Bank for Instant Match and automated micro-deposits, Windowpane Bank
    /// for instant micro-deposits, Instant Auth elsewhere; none where there is no Auth.
    fn auth_metadata(&self) -> AuthMetadata {
        if !self.offers("auth") {
            return AuthMetadata::new();
        }
        let methods = match self.id {
            "ins_109512" => AuthSupportedMethods::new(false, true, true, false),
            "ins_135858" => AuthSupportedMethods::new(false, false, false, true),
            _ => AuthSupportedMethods::new(true, false, false, false),
        };
        AuthMetadata::new().supported_methods(methods)
    }

    fn status(&self) -> InstitutionStatus {
        let (status, success) = match self.health {
            Health::Healthy => (ProductStatusStatus::Healthy, 0.97),
            Health::Degraded => (ProductStatusStatus::Degraded, 0.61),
            Health::Down | Health::Unsupported => (ProductStatusStatus::Down, 0.0),
        };
        let since = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        // Plaid's breakdown: success, error_plaid and error_institution, summing to 1, in
        // four decimals at most (no float noise such as 0.020000000000000025).
        let round4 = |x: f64| (x * 10_000.0).round() / 10_000.0;
        let error_plaid = 0.01;
        let breakdown = ProductStatusBreakdown::new(0.0, 0.0, 0.0)
            .success(success)
            .error_plaid(error_plaid)
            .error_institution(round4(1.0 - success - error_plaid));
        let product = || ProductStatus::new(since, breakdown.clone()).status(status.clone());
        InstitutionStatus::new()
            .item_logins(product())
            .transactions_updates(product())
            .auth(product())
            .identity(product())
            .investments_updates(product())
            .liabilities_updates(product())
    }
}

/// Whether an institution's name matches a search query: every word of the query starts a word
/// of the name, ignoring case ("first plat" finds First Platypus Bank). Plaid's matching is not
/// documented beyond "institutions with names matching the query".
pub(crate) fn matches(bank: &Bank, query: &str) -> bool {
    let name = bank.name.to_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let query = query.to_lowercase();
    let mut terms = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .peekable();
    terms.peek().is_some() && terms.all(|t| words.iter().any(|w| w.starts_with(t)))
        || bank.id.eq_ignore_ascii_case(query.trim())
}

/// A 152 × 152 PNG of one colour, base64: Plaid's institution logos are 152 × 152 PNGs.
/// Made once per colour (Link searches as the user types).
pub(crate) fn logo_png_base64(color: &str) -> String {
    use base64::Engine;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static LOGOS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut logos = LOGOS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    logos
        .entry(color.to_owned())
        .or_insert_with(|| base64::engine::general_purpose::STANDARD.encode(solid_png(152, color)))
        .clone()
}

fn solid_png(side: u32, color: &str) -> Vec<u8> {
    let hex = |i: usize| u8::from_str_radix(color.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    let rgb = [hex(1), hex(3), hex(5)];
    let mut raw = Vec::with_capacity(((side * 3 + 1) * side) as usize);
    let row: Vec<u8> = std::iter::once(0) // filter: none
        .chain(rgb.iter().copied().cycle().take(side as usize * 3))
        .collect();
    for _ in 0..side {
        raw.extend_from_slice(&row);
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6),
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_plaids_test_institutions() {
        for id in [
            "ins_109508",
            "ins_130016",
            "ins_109509",
            "ins_109510",
            "ins_109511",
            "ins_109512",
            "ins_135858",
            "ins_43",
            "ins_116834",
            "ins_117650",
            "ins_127287",
            "ins_132241",
            "ins_132363",
            "ins_132361",
            "ins_133402",
        ] {
            assert!(find(id).is_some(), "{id}");
        }
        assert_eq!(find("ins_109511").unwrap().color, "#174e7c");
        assert!(find("ins_127287").unwrap().oauth);
        assert_eq!(find("ins_132361").unwrap().health, Health::Down);
    }

    #[test]
    fn search_matches_word_prefixes() {
        let platypus: Vec<_> = BANKS
            .iter()
            .filter(|b| matches(b, "first plat"))
            .map(|b| b.id)
            .collect();
        assert!(platypus.contains(&"ins_109508"));
        assert!(!platypus.contains(&"ins_109511"));
        assert!(BANKS.iter().all(|b| !matches(b, "zebra")));
        assert!(BANKS.iter().all(|b| !matches(b, "  ")));
    }

    #[test]
    fn the_logo_is_a_png() {
        let png = solid_png(4, "#174e7c");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        // Review round 14: the pixels were stored uncompressed, 69 kB a logo and 0.9 MB for
        // a Link search of ten banks. Deflated, they are what the header says.
        let big = solid_png(152, "#174e7c");
        assert!(big.len() < 1_000, "{} bytes", big.len());
        let data_len = u32::from_be_bytes(big[33..37].try_into().unwrap()) as usize;
        assert_eq!(&big[37..41], b"IDAT");
        let pixels = miniz_oxide::inflate::decompress_to_vec_zlib(&big[41..41 + data_len]).unwrap();
        assert_eq!(pixels.len(), (152 * 3 + 1) * 152);
        for row in pixels.chunks(152 * 3 + 1) {
            assert_eq!(row[0], 0);
            assert!(row[1..].chunks(3).all(|px| px == [0x17, 0x4e, 0x7c]));
        }
        assert_eq!(logo_png_base64("#174e7c"), logo_png_base64("#174e7c"));
    }
}
