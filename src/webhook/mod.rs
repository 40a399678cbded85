//! Webhooks: verified, then typed.
//!
//! Plaid signs every webhook with a JWT in the `Plaid-Verification` header. [`WebhookVerifier`]
//! checks it exactly as Plaid specifies, and only then parses the body into a
//! [`WebhookEvent`]:
//!
//! 1. the JWT header's `alg` must be exactly `ES256` (`none`, `HS256` and the rest are
//!    refused before anything else happens); its `kid` names the key;
//! 2. the key comes from `/webhook_verification_key/get`, cached by `kid`; a key with an
//!    `expired_at` is refused; fetches happen on a miss only, one per `kid` however many
//!    webhooks wait for it, and within a budget, so forged `kid`s cannot become a flood of
//!    requests to Plaid nor lock out a new genuine key; a cached key is refreshed in the
//!    background and serves for a grace while Plaid cannot be reached (see
//!    [`KeyCachePolicy`]);
//! 3. the ES256 signature must verify;
//! 4. the `iat` claim must be at most 5 minutes old (configurable; the clock is injectable);
//! 5. the SHA-256 of the body, exactly as received, must equal the `request_body_sha256` claim
//!    (compared in constant time). Plaid signs its own formatting of the JSON: re-serialize the
//!    body and the check fails, so hand the verifier the raw bytes.
//!
//! Each failure is its own [`WebhookError`]; none of them contains the JWT or the body.
//!
//! ```no_run
//! use plaid_sdk::webhook::{WebhookEvent, WebhookVerifier};
//! # async fn handle(client: plaid_sdk::PlaidClient, headers: &http::HeaderMap, body: &[u8]) -> Result<(), plaid_sdk::webhook::WebhookError> {
//! let verifier = WebhookVerifier::new(client); // keep one for the whole server: it caches keys
//! match verifier.verify(headers, body).await? {
//!     WebhookEvent::SyncUpdatesAvailable(hook) => println!("sync item {}", hook.item_id),
//!     WebhookEvent::ItemError(hook) => println!("item {} needs attention", hook.item_id),
//!     other => println!("not handled: {:?}", other.kind()),
//! }
//! # Ok(()) }
//! ```
//!
//! Verification needs the `webhook-verify` feature (on by default; it uses `aws-lc-rs`, the
//! crypto library rustls already brings in). [`WebhookEvent::parse`] is always available.
//!
#![cfg_attr(
    feature = "test-util",
    doc = "With the `test-util` feature, [`testing::WebhookSigner`] signs webhooks like Plaid does,"
)]
#![cfg_attr(
    not(feature = "test-util"),
    doc = "With the `test-util` feature, `testing::WebhookSigner` signs webhooks like Plaid does,"
)]
//! with a throwaway key it can serve on a local server (or the `plaid-sandbox` crate serves),
//! so webhook handlers can be tested offline.

pub use crate::generated::webhooks::WebhookEvent;

use serde::{Deserialize, Serialize};

#[cfg(feature = "webhook-verify")]
mod verify;
#[cfg(feature = "webhook-verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhook-verify")))]
pub use verify::{
    KeyCachePolicy, VerifiedWebhook, WebhookError, WebhookVerifier, WebhookVerifierBuilder,
    VERIFICATION_HEADER,
};

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;

/// A webhook kept whole: one this build has no type for, or whose body did not parse as its
/// type.
///
/// It serializes as the body Plaid sent, so that it can be stored and read back (or parsed
/// again with [`WebhookEvent::parse`] by a newer build); `decode_error` is not stored.
/// `Debug` shows the body with its tokens and secrets redacted (the value of any field whose
/// name says `token` or `secret`, and any text shaped like a Plaid token), as the typed
/// webhooks do; [`body`](Self::body) is whole.
#[derive(Clone)]
#[non_exhaustive]
pub struct RawWebhook {
    /// `webhook_type` (empty if missing).
    pub webhook_type: String,
    /// `webhook_code` (empty if missing).
    pub webhook_code: String,
    /// The whole body.
    pub body: serde_json::Value,
    /// Why the typed parse failed, if there was a type for this pair.
    pub decode_error: Option<String>,
}

impl std::fmt::Debug for RawWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawWebhook")
            .field("webhook_type", &self.webhook_type)
            .field("webhook_code", &self.webhook_code)
            .field("body", &redacted(&self.body))
            .field("decode_error", &self.decode_error)
            .finish()
    }
}

/// `value` as `Debug` may show it: a field named for a token or a secret has its value
/// replaced, then text shaped like a Plaid token is scrubbed wherever it is, as in errors.
fn redacted(value: &serde_json::Value) -> serde_json::Value {
    fn hide_named(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Array(items) => items.iter_mut().for_each(hide_named),
            serde_json::Value::Object(fields) => {
                for (name, v) in fields.iter_mut() {
                    let lower = name.to_ascii_lowercase();
                    if !v.is_null() && (lower.contains("token") || lower.contains("secret")) {
                        *v = serde_json::Value::String("[redacted]".into());
                    } else {
                        hide_named(v);
                    }
                }
            }
            _ => {}
        }
    }
    let mut shown = value.clone();
    hide_named(&mut shown);
    crate::error::scrub_value(shown, &[])
}

impl Serialize for RawWebhook {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawWebhook {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = serde_json::Value::deserialize(deserializer)?;
        let field = |name: &str| {
            body.get(name)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        Ok(RawWebhook {
            webhook_type: field("webhook_type"),
            webhook_code: field("webhook_code"),
            body,
            decode_error: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_webhooks_keep_everything() {
        let raw: RawWebhook =
            serde_json::from_str(r#"{"webhook_type":"NEW","webhook_code":"THING","x":[1]}"#)
                .unwrap();
        assert_eq!(
            (raw.webhook_type.as_str(), raw.webhook_code.as_str()),
            ("NEW", "THING")
        );
        assert_eq!(raw.body["x"][0], 1);
        let raw: RawWebhook = serde_json::from_str("{}").unwrap();
        assert_eq!(raw.webhook_type, "");
    }

    /// Review round 11: a `RawWebhook` stored as JSON (an inbox of webhooks this build has
    /// no type for) came back nested: its serialized form was `{webhook_type, webhook_code,
    /// body, decode_error}`, which reads back as a body of its own. Before the fix the read
    /// back `body` held a `body`.
    #[test]
    fn raw_webhooks_survive_being_stored_as_json() {
        let sent = r#"{"webhook_type":"NEW","webhook_code":"THING","x":[1]}"#;
        let raw: RawWebhook = serde_json::from_str(sent).unwrap();
        let stored = serde_json::to_string(&raw).unwrap();
        let back: RawWebhook = serde_json::from_str(&stored).unwrap();
        assert_eq!(back.body, raw.body);
        assert_eq!(
            (back.webhook_type.as_str(), back.webhook_code.as_str()),
            ("NEW", "THING")
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&stored).unwrap(),
            serde_json::from_str::<serde_json::Value>(sent).unwrap(),
            "stored as Plaid sent it"
        );
    }

    #[test]
    fn unknown_pairs_and_untyped_bodies_are_kept() {
        let event = WebhookEvent::parse(
            br#"{"webhook_type":"FUTURE","webhook_code":"THING","item_id":"i"}"#,
        )
        .unwrap();
        assert!(!event.is_typed());
        assert_eq!(event.kind(), ("FUTURE", "THING"));
        let WebhookEvent::Unrecognized(raw) = event else {
            panic!("untyped")
        };
        assert_eq!(raw.body["item_id"], "i");
        assert!(raw.decode_error.is_none());
        assert!(WebhookEvent::parse(b"not json").is_err());
    }

    #[test]
    fn a_body_that_is_not_utf8_is_an_error_saying_so() {
        let body = b"{\"webhook_type\":\"ITEM\",\"webhook_code\":\"ERR\xffOR\"}";
        let e = WebhookEvent::parse(body).unwrap_err();
        assert_eq!(e.to_string(), "the body is not valid UTF-8 (byte 42)");
    }
}
