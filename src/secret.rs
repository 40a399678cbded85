//! Secrets and tokens: newtypes whose `Debug` never shows the value and which have no
//! `Display`, so that no `to_string()`, `format!("{}")` or `{token}` in a log can turn one
//! into text that looks like a token.
//!
//! Plaid's tokens carry a non-secret prefix naming their kind and environment
//! (`access-sandbox-…`); the redacted form keeps that prefix when it is there, so a log still
//! tells a sandbox token from a production one:
//!
//! ```
//! use plaid_sdk::AccessToken;
//! let token = AccessToken::new("access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6");
//! assert_eq!(format!("{token:?}"), "AccessToken(access-sandbox-[redacted])");
//!
//! // The value, to store it (encrypted) or hand it to another system (`into_secret()` takes
//! // the token and returns its `String`):
//! let to_store: String = token.expose_secret().to_owned();
//! assert_eq!(to_store, "access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6");
//! // And back, when the stored value is used again:
//! let token = AccessToken::new(to_store);
//! # let _ = token;
//! ```
//!
//! What the compiler used to suggest (`.to_string()`) does not compile, since it stored
//! `"access-sandbox-[redacted]"` and lost the token:
//!
//! ```compile_fail
//! # let token = plaid_sdk::AccessToken::new("access-sandbox-x");
//! let saved: String = token.to_string();
//! ```
//!
//! ```compile_fail
//! # let token = plaid_sdk::AccessToken::new("access-sandbox-x");
//! let saved = format!("{token}");
//! ```
//!
//! ```compile_fail
//! # let token = plaid_sdk::AccessToken::new("access-sandbox-x");
//! let saved: String = token.into();
//! ```
//!
//! A redacted placeholder that reached a token anyway (copied from `Debug` output, or stored by
//! an earlier version's `to_string()`) is refused before anything is sent: the call fails with
//! [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the token type, and
//! serializing it fails the same way.

use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

const REDACTED: &str = "[redacted]";
/// The kinds of token the scrubber knows by their `<kind>-<environment>-` prefix: longer ones
/// first, so a prefix keeps its whole kind (`third-party-user-sandbox-`, not `user-sandbox-`).
/// Besides Items' tokens: asset report tokens (`assets-`), audit copy tokens (`a-`), consumer
/// report relay tokens (`credit-relay-`) and payment initiation's Link tokens
/// (`payment-token-`).
const KINDS: &[&str] = &[
    "third-party-user",
    "credit-relay",
    "payment-token",
    "processor",
    "access",
    "public",
    "assets",
    "user",
    "link",
    "a",
];
const ENVIRONMENTS: &[&str] = &["sandbox", "production", "development"];

/// The non-secret `kind-environment-` prefix of a Plaid token, if it has one.
fn token_prefix(value: &str) -> Option<&str> {
    let mut parts = value.splitn(3, '-');
    let (kind, env) = (parts.next()?, parts.next()?);
    parts.next()?;
    (KINDS.contains(&kind) && ENVIRONMENTS.contains(&env))
        .then(|| &value[..kind.len() + env.len() + 2])
}

/// Why a setting (the client secret, `PLAID_SECRET`, `PLAID_CLIENT_ID`) holding the redacted
/// form is refused.
pub(crate) const PLACEHOLDER_SETTING: &str =
    "it holds \"[redacted]\", the text this crate prints in place of a secret, not the value itself";

/// Whether `value` is (or holds) the redacted form this module prints: never a real token or
/// secret, whose characters Plaid limits to letters, digits and dashes.
pub(crate) fn is_placeholder(value: &str) -> bool {
    value.contains(REDACTED)
}

fn write_redacted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    match token_prefix(value) {
        Some(prefix) => write!(f, "{prefix}{REDACTED}"),
        None => f.write_str(REDACTED),
    }
}

macro_rules! token_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// `Debug` redacts the value and there is no `Display`; read it with
        /// [`expose_secret`](Self::expose_secret) or take it with
        /// [`into_secret`](Self::into_secret). It serializes as a plain JSON string, and
        /// refuses to serialize a redacted placeholder (`…[redacted]`), which is never a token.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a token value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The token itself. Handle it like a password: store it encrypted, never log it.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }

            /// Unwraps the token value.
            pub fn into_secret(self) -> String {
                self.0
            }

            /// Whether the value is empty (a caller mistake the client rejects before sending).
            pub fn is_empty(&self) -> bool {
                self.0.trim().is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                write_redacted(f, &self.0)?;
                f.write_str(")")
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if is_placeholder(&self.0) {
                    return Err(serde::ser::Error::custom(concat!(
                        stringify!($name),
                        " holds the redacted text its Debug prints (\"…[redacted]\"), not a \
                         token: it was copied from Debug output or stored from an earlier \
                         version's to_string(). Store and pass the value expose_secret() returns"
                    )));
                }
                serializer.serialize_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<&String> for $name {
            fn from(value: &String) -> Self {
                Self(value.clone())
            }
        }
    };
}

token_type! {
    /// An Item's access token: the long-lived credential for one user's bank connection.
    /// It never expires; store it server-side only.
    AccessToken
}

token_type! {
    /// A public token from Link, exchanged within 30 minutes for an [`AccessToken`].
    PublicToken
}

token_type! {
    /// A processor token, handed to a Plaid partner (Dwolla, Stripe, …) for one account.
    ProcessorToken
}

token_type! {
    /// A user token, identifying a Plaid user for the user-based products.
    UserToken
}

token_type! {
    /// Your Plaid API secret (`PLAID-SECRET`), for one environment; also the type of the API
    /// secrets a partner's end customer gets (`production_secret`).
    ClientSecret
}

token_type! {
    /// Any other credential a field of Plaid's API carries: an OAuth client secret, refresh
    /// or subject token, an imported Item's auth token, an asset report's token.
    SecretString
}

/// Redacts anything that looks like a Plaid token (`access-sandbox-<id>` and the like), and
/// the given secrets, from text that is about to become part of an error message. Used on
/// every piece of text the client takes from a response, so that a proxy or a server that
/// echoes the request cannot put a secret into an error.
///
/// Characters that print as nothing (control characters, zero-width and other invisible
/// format characters) are dropped first: interleaved with a secret (`"s\u{0}ecret"`), they
/// would hide it from the search and still show it on a terminal.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out: String = text.chars().filter(|&c| !invisible(c)).collect();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some((start, prefix_len)) = find_token(rest) {
        result.push_str(&rest[..start + prefix_len]);
        result.push_str(REDACTED);
        let after = &rest[start + prefix_len..];
        let secret_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        rest = &after[secret_len..];
    }
    result.push_str(rest);
    result
}

/// Whether `text` holds nothing [`scrub`] would redact: no token and none of `secrets`.
pub(crate) fn is_clean(text: &str, secrets: &[&str]) -> bool {
    scrub(text, secrets) == text
}

/// Whether a character prints as nothing: C0 and C1 controls, and the invisible format
/// characters (soft hyphen, zero-width space and joiners, direction marks, word joiner and the
/// invisible operators, byte order mark).
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
        )
}

/// The first `kind-env-` token prefix followed by a secret part: (start, prefix length).
///
/// One pass from the left: each `-` that opens `-{env}-` is checked for a kind word right
/// before it. [`scrub`] calls this on what follows the last token found, so a text dense with
/// tokens costs time in proportion to its length (searching each of the 15 prefixes through
/// the whole rest again after each token made it quadratic: seconds for 64 KiB).
fn find_token(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find('-').map(|i| from + i) {
        let after_dash = &text[i + 1..];
        for env in ENVIRONMENTS {
            let Some(rest) = after_dash
                .strip_prefix(env)
                .and_then(|r| r.strip_prefix('-'))
            else {
                continue;
            };
            if !rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                continue;
            }
            let end = text.len() - rest.len();
            for kind in KINDS {
                let Some(before) = text[..i].strip_suffix(kind) else {
                    continue;
                };
                if !before.ends_with(|c: char| c.is_ascii_alphanumeric())
                    || ends_with_escape(before)
                {
                    return Some((before.len(), end - before.len()));
                }
            }
        }
        from = i + 1;
    }
    None
}

/// Whether `text` ends with an escaped character (`%22`, `\u0022`, `\x22`, `\n`): a word
/// starts after it, though its last character is a digit or a letter (review round 15: a
/// gateway that echoed the request escaped, `\u0022access-…`, kept the token whole).
fn ends_with_escape(text: &str) -> bool {
    let b = text.as_bytes();
    let n = b.len();
    let hex = |s: &[u8]| s.iter().all(u8::is_ascii_hexdigit);
    (n >= 2 && b[n - 2] == b'\\' && matches!(b[n - 1], b'n' | b'r' | b't' | b'b' | b'f'))
        || (n >= 3 && b[n - 3] == b'%' && hex(&b[n - 2..]))
        || (n >= 6 && b[n - 6] == b'\\' && b[n - 5] == b'u' && hex(&b[n - 4..]))
        || (n >= 4 && b[n - 4] == b'\\' && b[n - 3] == b'x' && hex(&b[n - 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "access-production-de3ce8ef-33f8-452c-a685-8671031fc0f6";

    /// Review round 15: a token right after an escaped quote (a percent-encoded or JSON-escaped
    /// echo of the request) ends the escape's digit, and was taken for part of a longer word.
    #[test]
    fn a_token_after_an_escaped_quote_is_scrubbed() {
        for escape in [
            "%22", "%3D", "\\u0022", "\\x22", "&#34;", "&quot;", "\\n", "\\t", "\\r",
        ] {
            let text = format!("x {escape}{TOKEN} y");
            let out = scrub(&text, &[]);
            assert!(!out.contains("de3ce8ef"), "{escape}: {out}");
            assert!(
                out.contains("access-production-[redacted]"),
                "{escape}: {out}"
            );
        }
        // Still not a token: a kind that is part of a longer word.
        assert_eq!(find_token("xaccess-sandbox-c3 a1access-sandbox-c3"), None);
    }

    /// A text dense with tokens is scrubbed whole, every token's prefix kept.
    #[test]
    fn dense_tokens_are_all_scrubbed() {
        let unit = "access-sandbox-a1 public-production-b2 xaccess-sandbox-c3 link-development-d4 ";
        let text = unit.repeat(2000);
        let out = scrub(&text, &[]);
        assert_eq!(out.matches("access-sandbox-[redacted]").count(), 2000);
        assert_eq!(out.matches("public-production-[redacted]").count(), 2000);
        assert_eq!(out.matches("link-development-[redacted]").count(), 2000);
        // Not a token: the kind is part of a longer word.
        assert_eq!(out.matches("xaccess-sandbox-c3").count(), 2000);
        assert_eq!(find_token("user-sandbox-"), None, "no secret part");
        assert_eq!(find_token("a processor-production-x"), Some((2, 21)));
    }

    /// Review round 7: tokens of other kinds than Items' went into error text whole.
    #[test]
    fn tokens_of_every_kind_are_scrubbed() {
        for (token, kept) in [
            (
                "assets-sandbox-6f12f5bb-22dd-4855-b918-f47ec439198a",
                "assets-sandbox-",
            ),
            ("a-sandbox-3TAU2CWVYBDVRHUCAAAI27ULU4", "a-sandbox-"),
            (
                "credit-relay-production-3TAU2CWVYBDVRHUCAAAI27ULU4",
                "credit-relay-production-",
            ),
            (
                "third-party-user-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d",
                "third-party-user-sandbox-",
            ),
            (
                "payment-token-sandbox-feca8a7a-5591-4aef-9297-f3062bb735d3",
                "payment-token-sandbox-",
            ),
        ] {
            let out = scrub(&format!("echo: {token}."), &[]);
            assert_eq!(out, format!("echo: {kept}{REDACTED}."), "{token}");
        }
        // A kind inside a longer word is no token.
        assert_eq!(scrub("data-sandbox-x", &[]), "data-sandbox-x");
    }

    #[test]
    fn debug_redacts_but_keeps_the_prefix() {
        let t = AccessToken::new(TOKEN);
        assert_eq!(
            format!("{t:?}"),
            "AccessToken(access-production-[redacted])"
        );
        assert_eq!(
            format!("{:#?}", Some(&t)),
            "Some(\n    AccessToken(access-production-[redacted]),\n)"
        );
        let s = ClientSecret::new("0123456789abcdef");
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        assert_eq!(
            format!("{:?}", PublicToken::new("weird")),
            "PublicToken([redacted])"
        );
        assert_eq!(
            format!("{:?}", UserToken::new("user-sandbox")),
            "UserToken([redacted])",
            "no secret part"
        );
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let t = AccessToken::new(TOKEN);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, format!("\"{TOKEN}\""));
        let back: AccessToken = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose_secret(), TOKEN);
        assert!(AccessToken::new(" ").is_empty());
    }

    #[test]
    fn a_redacted_placeholder_does_not_serialize() {
        for text in [
            "access-sandbox-[redacted]",
            "AccessToken(access-sandbox-[redacted])",
            "[redacted]",
        ] {
            let e = serde_json::to_string(&AccessToken::new(text)).unwrap_err();
            let message = e.to_string();
            assert!(
                message.starts_with("AccessToken holds the redacted text"),
                "{message}"
            );
            assert!(message.contains("expose_secret()"), "{message}");
        }
        let e = serde_json::to_string(&ClientSecret::new("[redacted]")).unwrap_err();
        assert!(e.to_string().starts_with("ClientSecret holds"), "{e}");
    }

    #[test]
    fn scrub_removes_tokens_and_secrets() {
        let text = format!(
            "echo: {{\"access_token\":\"{TOKEN}\",\"x\":\"public-sandbox-abc_123\"}} secret=s3cr3tvalue"
        );
        let out = scrub(&text, &["s3cr3tvalue"]);
        assert!(!out.contains("de3ce8ef"), "{out}");
        assert!(!out.contains("abc_123"), "{out}");
        assert!(!out.contains("s3cr3tvalue"), "{out}");
        assert!(out.contains("access-production-[redacted]"), "{out}");
        assert!(out.contains("public-sandbox-[redacted]"), "{out}");
    }

    #[test]
    fn scrub_sees_through_invisible_characters() {
        for hidden in [
            "s3cr\u{0}3tvalue",
            "s3cr3t\u{200B}value",
            "s3\u{7}cr3t\nvalue",
        ] {
            let out = scrub(&format!("echo {hidden}!"), &["s3cr3tvalue"]);
            assert_eq!(out, "echo [redacted]!", "{hidden:?}");
        }
        let out = scrub("access-sand\u{200D}box-de3ce8ef", &[]);
        assert_eq!(out, "access-sandbox-[redacted]");
    }

    #[test]
    fn scrub_leaves_ordinary_text_alone() {
        let text = "the access-sandbox- prefix alone, reaccess-sandbox-x, and plain words";
        assert_eq!(scrub(text, &[]), text);
        assert_eq!(
            scrub("short", &["ab"]),
            "short",
            "tiny secrets are not scrubbed"
        );
    }
}
