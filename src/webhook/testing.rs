//! Signing webhooks like Plaid, for testing webhook handlers offline (`test-util` feature; the
//! `plaid-sandbox` crate signs every webhook it sends with one and serves its key).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use plaid_sdk::webhook::testing::WebhookSigner;
//! use plaid_sdk::webhook::{WebhookEvent, WebhookVerifier};
//!
//! let server = wiremock::MockServer::start().await;
//! let signer = WebhookSigner::new();
//! signer.mount(&server).await; // serves the signer's key at /webhook_verification_key/get
//!
//! let client = plaid_sdk::PlaidClient::builder()
//!     .client_id("test").secret("test").base_url(server.uri()).build().unwrap();
//! let verifier = WebhookVerifier::new(client);
//!
//! let body = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"item-1","initial_update_complete":true,"historical_update_complete":false,"environment":"sandbox"}"#;
//! let event = verifier.verify(&signer.headers(body), body).await.unwrap();
//! assert!(matches!(event, WebhookEvent::SyncUpdatesAvailable(_)));
//! # }
//! ```

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::Engine;
use serde_json::{json, Value};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A throwaway ES256 key that signs webhook bodies the way Plaid does, and serves its public
/// key the way `/webhook_verification_key/get` does.
pub struct WebhookSigner {
    key: EcdsaKeyPair,
    kid: String,
    expired_at: Option<i64>,
}

impl fmt::Debug for WebhookSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Default for WebhookSigner {
    fn default() -> Self {
        Self::new()
    }
}

impl WebhookSigner {
    /// A signer with a fresh random key and key id.
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("P-256 key generation does not fail");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("a key just generated parses");
        let mut id = [0u8; 12];
        aws_lc_rs::rand::SecureRandom::fill(&rng, &mut id).expect("random bytes");
        let kid = format!(
            "test-{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        Self {
            key,
            kid,
            expired_at: None,
        }
    }

    /// The same key, served as expired since `at` (to test that expired keys are refused).
    pub fn expired_since(mut self, at: SystemTime) -> Self {
        self.expired_at = Some(unix(at));
        self
    }

    /// The key id tokens name.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as Plaid's JWK.
    pub fn jwk(&self) -> Value {
        let point = self.key.public_key().as_ref(); // 0x04 || x || y
        json!({
            "alg": "ES256", "crv": "P-256", "kid": self.kid, "kty": "EC", "use": "sig",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            "created_at": 1_560_466_143, "expired_at": self.expired_at,
        })
    }

    /// The `/webhook_verification_key/get` response for this key.
    pub fn key_response(&self) -> Value {
        json!({ "key": self.jwk(), "request_id": "test-key-request" })
    }

    /// A `Plaid-Verification` token for `body`, signed now.
    pub fn sign(&self, body: &[u8]) -> String {
        self.sign_at(body, SystemTime::now())
    }

    /// A token for `body` with `iat` set to `at`.
    pub fn sign_at(&self, body: &[u8], at: SystemTime) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
        let hash: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        self.sign_claims(&json!({ "iat": unix(at), "request_body_sha256": hash }))
    }

    /// A token carrying any claims, for testing malformed ones.
    pub fn sign_claims(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({ "alg": "ES256", "kid": self.kid, "typ": "JWT" }),
            claims,
        )
    }

    /// A token with any header, signed with this key (for testing headers a verifier must
    /// refuse).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_parts(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// A token over any header and payload bytes, JSON or not, signed with this key (for
    /// fuzzing what a verifier does behind a valid signature).
    pub fn sign_parts(&self, header: &[u8], payload: &[u8]) -> String {
        let signed = format!("{}.{}", b64(header), b64(payload));
        let signature = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .expect("signing does not fail");
        format!("{signed}.{}", b64(signature.as_ref()))
    }

    /// Request headers carrying a token for `body`, as Plaid sends them.
    pub fn headers(&self, body: &[u8]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        let token = self.sign(body);
        headers.insert(
            "plaid-verification",
            http::HeaderValue::from_str(&token).expect("a JWT is ASCII"),
        );
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers
    }

    /// Serves this key from `server`'s `/webhook_verification_key/get`, as Plaid would; any
    /// other key id gets Plaid's error for an unknown key. Several signers can share a server.
    /// (Feature `wiremock`.)
    #[cfg(feature = "wiremock")]
    #[cfg_attr(docsrs, doc(cfg(feature = "wiremock")))]
    pub async fn mount(&self, server: &wiremock::MockServer) {
        use wiremock::matchers::{body_partial_json, method, path};
        use wiremock::{Mock, ResponseTemplate};
        Mock::given(method("POST"))
            .and(path("/webhook_verification_key/get"))
            .and(body_partial_json(json!({ "key_id": self.kid })))
            .respond_with(ResponseTemplate::new(200).set_body_json(self.key_response()))
            .with_priority(1)
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path("/webhook_verification_key/get"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error_type": "INVALID_INPUT",
                "error_code": "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
                "error_message": "invalid key_id provided",
                "display_message": null,
                "request_id": "test-key-request",
            })))
            .with_priority(10)
            .mount(server)
            .await;
    }
}
