//! Webhook verification (see the [module docs](super)).

use super::WebhookEvent;
use crate::operation::{Operation, OperationInfo, OperationKind, RawResponse};
use crate::{Error, ErrorCode, PlaidClient};
use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED};
use base64::Engine;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The header Plaid sends the JWT in (matched in any case).
pub const VERIFICATION_HEADER: &str = "plaid-verification";

/// The longest JWT the verifier reads; Plaid's are a few hundred bytes.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The longest key id the verifier looks up, in bytes; Plaid's are UUIDs (36). A longer one
/// is refused before any fetch, so the errors apps log never carry kilobytes of it.
const MAX_KID_LEN: usize = 128;

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `Plaid-Verification` header.
    #[error("the request has no Plaid-Verification header")]
    MissingHeader,
    /// The header is not a JWT the verifier can read.
    #[error("the Plaid-Verification header is not a valid JWT: {0}")]
    MalformedToken(&'static str),
    /// The JWT header lists critical extensions (`crit`). RFC 7515 §4.1.11 requires refusing a
    /// token whose critical extensions the verifier does not implement, and this one implements
    /// none (Plaid uses none).
    #[error("the JWT header lists critical extensions (crit) this verifier does not implement")]
    CriticalExtension,
    /// The JWT asks for an algorithm other than ES256.
    #[error("the JWT's algorithm is {0:?}; only ES256 is accepted")]
    UnsupportedAlgorithm(String),
    /// The JWT header names no key.
    #[error("the JWT header has no kid")]
    MissingKeyId,
    /// Plaid does not know the key the JWT names.
    #[error("Plaid has no webhook verification key {kid:?}")]
    #[non_exhaustive]
    UnknownKey {
        /// The key id.
        kid: String,
    },
    /// The key has expired.
    #[error("webhook verification key {kid:?} has expired")]
    #[non_exhaustive]
    KeyExpired {
        /// The key id.
        kid: String,
    },
    /// The key Plaid returned is not an ES256 (P-256) key.
    #[error("webhook verification key {kid:?} is unusable: {reason}")]
    #[non_exhaustive]
    InvalidKey {
        /// The key id.
        kid: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The key could not be fetched (Plaid unreachable, an error status).
    #[error("cannot fetch webhook verification key: {0}")]
    KeyFetch(#[source] Arc<Error>),
    /// Too many new key ids in too short a time: the fetch was not attempted (see
    /// [`KeyCachePolicy`]). A genuine webhook refused this way is retried by Plaid.
    #[error("too many webhook verification key fetches; not fetching {kid:?}")]
    #[non_exhaustive]
    KeyFetchLimited {
        /// The key id.
        kid: String,
    },
    /// The signature does not verify.
    #[error("the JWT signature does not verify")]
    BadSignature,
    /// The JWT's claims are missing or malformed.
    #[error("the JWT claims are malformed: {0}")]
    MalformedClaims(&'static str),
    /// The JWT is older than the allowed age.
    #[error("the webhook was signed {age:?} ago, more than the {max:?} allowed")]
    #[non_exhaustive]
    TooOld {
        /// How old it is.
        age: Duration,
        /// The allowed age.
        max: Duration,
    },
    /// The JWT claims to be signed in the future (beyond the allowed clock skew).
    #[error("the webhook claims to be signed {0:?} in the future")]
    IssuedInFuture(Duration),
    /// The body is not the one Plaid signed.
    #[error("the body does not match the signed request_body_sha256")]
    BodyMismatch,
    /// The verified body is not JSON.
    #[error("the webhook body is not valid JSON: {0}")]
    InvalidBody(String),
}

/// How a [`WebhookVerifier`] fetches and caches keys.
///
/// A webhook's key id (`kid`) is chosen by whoever sends it, so a flood of webhooks with
/// forged ids could turn into a flood of requests to Plaid. The verifier bounds that, without
/// letting an attacker lock out Plaid's own webhooks:
///
/// * A key Plaid has given the verifier is used for [`key_ttl`](Self::key_ttl), then fetched
///   again in the background while the cached key goes on serving (stale-while-revalidate);
///   if Plaid cannot be reached, the cached key serves for [`stale_if_error`](Self::stale_if_error)
///   more (stale-if-error). When a new key of Plaid's arrives (a rotation), every other
///   cached key is fetched again at once, so that one Plaid has expired is refused from then
///   on, as Plaid's own recipe does. Those fetches never spend the budget below: only Plaid's
///   own key ids can be on that path; a failed one is the answer for 10 s before the next
///   try. A fetch gives up after [`fetch_timeout`](Self::fetch_timeout), retries included.
/// * A key id never seen before spends one fetch from a budget of
///   [`fetches_per_minute`](Self::fetches_per_minute) (a burst of that many, refilled evenly
///   over the minute). When the budget is spent, the id takes a place in a queue of
///   [`waiting_keys`](Self::waiting_keys) places, and its webhook waits up to
///   [`fetch_wait`](Self::fetch_wait) for the fetch; a webhook that gives up is refused with
///   [`WebhookError::KeyFetchLimited`] (Plaid retries it), but the id keeps its place, for an
///   hour from its last webhook, and is fetched when its turn comes, so Plaid's retry finds
///   the key cached.
/// * The queue serves, first, ids presented by more than one webhook, oldest first; then ids
///   seen once, newest first. A full queue gives the place of its least recently seen id
///   presented once to a newcomer, or turns the newcomer away if every id in it was presented
///   more than once.
///
/// What that guarantees, at the defaults (10 fetches a minute, 64 places):
///
/// * **A burst of forged ids** costs Plaid the budget and no more, whatever its size; each
///   forged id fetched is known as unknown for [`unknown_ttl`](Self::unknown_ttl) and costs
///   nothing more. The first webhook with a new genuine key after it is served by the next
///   refill, and any second one puts the key ahead of every id seen once.
/// * **One forged id, or a series of them, presented as often as the attacker likes**, cannot
///   outrank a genuine new key: among ids presented more than once, the older goes first, and
///   ids the attacker starts presenting after Plaid's key queue behind it. A new key presented
///   twice is fetched after at most the ids already ahead of it: 63 fetches, 6.3 minutes, at
///   worst.
/// * What it cannot do: an attacker who keeps all 64 places filled with ids it presents
///   repeatedly, replacing each one as soon as it is fetched (about 20 requests a minute),
///   can keep a new key out of the queue; the webhooks are refused with `KeyFetchLimited`,
///   Plaid retries them for a day, and Plaid still sees 10 requests a minute. A key id the
///   verifier has had a key for never waits there, so this bites when Plaid rotates its key,
///   and after every restart unless the app keeps the ids it has seen
///   ([`VerifiedWebhook::key_id`]) and gives them to the next verifier
///   ([`WebhookVerifierBuilder::vouched_key_ids`]): then only a rotation is exposed.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
#[must_use = "a setter returns the changed policy; the one it was called on is unchanged"]
pub struct KeyCachePolicy {
    /// Fetches of new key ids per minute, and the burst allowed at once (default 10; 0 counts
    /// as 1). Plaid rotates keys rarely; more than a few new `kid`s a minute means forged
    /// tokens.
    pub fetches_per_minute: u32,
    /// How long a webhook with a new key id waits for a fetch when the budget is spent
    /// (default 10 s). Zero refuses it at once (its id still keeps its place in the queue).
    pub fetch_wait: Duration,
    /// How many distinct new key ids may wait for a fetch at once (default 64; 0 counts as
    /// 1).
    pub waiting_keys: usize,
    /// How long a valid key is used before it is fetched again, to notice expiry (default 1 h).
    pub key_ttl: Duration,
    /// How long past its TTL a key still serves while Plaid cannot be reached to refresh it
    /// (default 1 h).
    pub stale_if_error: Duration,
    /// The longest one key fetch may take, its retries included (default 5 s: Plaid waits
    /// 10 s for a webhook's answer).
    pub fetch_timeout: Duration,
    /// How long a `kid` Plaid does not know, or answered with something that is not a usable
    /// key, stays known as such before it is fetched again (default 10 min).
    pub unknown_ttl: Duration,
    /// The most keys kept (default 1,000; 0 counts as 1).
    pub max_keys: usize,
}

impl Default for KeyCachePolicy {
    fn default() -> Self {
        Self {
            fetches_per_minute: 10,
            fetch_wait: Duration::from_secs(10),
            waiting_keys: 64,
            key_ttl: Duration::from_secs(3600),
            stale_if_error: Duration::from_secs(3600),
            fetch_timeout: Duration::from_secs(5),
            unknown_ttl: Duration::from_secs(600),
            max_keys: 1000,
        }
    }
}

impl KeyCachePolicy {
    /// Sets [`fetches_per_minute`](Self::fetches_per_minute).
    pub fn fetches_per_minute(mut self, fetches: u32) -> Self {
        self.fetches_per_minute = fetches.max(1);
        self
    }

    /// Sets [`fetch_wait`](Self::fetch_wait). Any duration is accepted; a very long one
    /// waits as long as the webhook's caller lets it.
    pub fn fetch_wait(mut self, wait: Duration) -> Self {
        self.fetch_wait = wait;
        self
    }

    /// Sets [`waiting_keys`](Self::waiting_keys); at least 1 (with none, no new key could
    /// ever be fetched).
    pub fn waiting_keys(mut self, keys: usize) -> Self {
        self.waiting_keys = keys.max(1);
        self
    }

    /// Sets [`key_ttl`](Self::key_ttl).
    pub fn key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
        self
    }

    /// Sets [`stale_if_error`](Self::stale_if_error).
    pub fn stale_if_error(mut self, grace: Duration) -> Self {
        self.stale_if_error = grace;
        self
    }

    /// Sets [`fetch_timeout`](Self::fetch_timeout).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Sets [`unknown_ttl`](Self::unknown_ttl).
    pub fn unknown_ttl(mut self, ttl: Duration) -> Self {
        self.unknown_ttl = ttl;
        self
    }

    /// Sets [`max_keys`](Self::max_keys).
    pub fn max_keys(mut self, keys: usize) -> Self {
        self.max_keys = keys.max(1);
        self
    }

    /// The policy with each limit that counts from 1 at 1 or more, however it was set (a
    /// field set to 0 goes around the setters): what the verifier runs on, so that none of
    /// its uses has to check.
    fn at_least_one(self) -> Self {
        Self {
            fetches_per_minute: self.fetches_per_minute.max(1),
            waiting_keys: self.waiting_keys.max(1),
            max_keys: self.max_keys.max(1),
            ..self
        }
    }
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;
type KeyFuture = Shared<BoxFuture<'static, Fetched>>;

/// The outcome of one key fetch, shared by everyone waiting for it.
#[derive(Clone)]
enum Fetched {
    Key(ParsedPublicKey),
    Expired,
    Unknown,
    Invalid(&'static str),
    Failed(Arc<Error>),
}

/// What the verifier knows about one key id.
#[derive(Default)]
struct Entry {
    /// The last settled answer about it.
    known: Option<Known>,
    /// A fetch in flight, shared by every webhook waiting for it.
    fetching: Option<KeyFuture>,
}

#[derive(Clone)]
enum Known {
    Key {
        key: ParsedPublicKey,
        fetched: Instant,
        /// When a refresh of this key last failed, and why.
        refresh_failed: Option<(Instant, Arc<Error>)>,
    },
    Expired,
    /// Plaid's answer was not a usable key: known as such for `unknown_ttl`, like an
    /// unknown id, in case the answer was a proxy's glitch.
    Invalid {
        reason: &'static str,
        at: Instant,
    },
    Unknown {
        at: Instant,
    },
    /// A fetch of a key id the verifier trusts, with no key cached, failed: the answer for
    /// [`RETRY_AFTER_FAILURE`], since such fetches spend no budget (review round 18: forged
    /// webhooks naming a trusted id each made a request while Plaid's key endpoint failed).
    FetchFailed {
        at: Instant,
        error: Arc<Error>,
    },
}

/// How long after a failed refresh of a key Plaid vouched for the verifier tries again: until
/// then the cached key serves (within `stale_if_error`) or the failure is the answer, so that
/// webhooks arriving while Plaid is unreachable do not each wait out a fetch. The same holds
/// for a trusted key id with no key cached (it is fetched without the budget). A failed fetch
/// of a new key id is not remembered: the next webhook tries again, within the budget.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// How long a key id keeps its place in the queue after its last webhook.
const PLACE_TTL: Duration = Duration::from_secs(3600);

/// How often a waiting webhook looks again whether its key id's turn has come.
const ADMISSION_POLL: Duration = Duration::from_millis(50);

/// A webhook waiting in the queue for its key id's turn: when it ends, however it ends (a
/// refusal, or dropped by its caller), an id still waiting keeps the queue moving (review
/// round 20: a dropped wait never started it).
struct QueuedWebhook<'a> {
    verifier: &'a WebhookVerifier,
    kid: &'a str,
}

impl Drop for QueuedWebhook<'_> {
    fn drop(&mut self) {
        // Outside a runtime (one shut down under it) no task can be started.
        if tokio::runtime::Handle::try_current().is_err() || std::thread::panicking() {
            return;
        }
        let waits = self
            .verifier
            .inner
            .admission()
            .waiting
            .contains_key(self.kid);
        if waits {
            self.verifier.keep_queue_moving();
        }
    }
}

/// `now + wait`, or a time so far ahead it is never reached when that overflows.
fn saturating_deadline(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Who gets the next fetch of a key id Plaid has not given the verifier before: a token
/// bucket, and the queue where key ids wait for it (see [`KeyCachePolicy`]).
struct Admission {
    tokens: f64,
    refilled: Instant,
    waiting: HashMap<String, Waiting>,
}

/// A key id waiting for a fetch.
struct Waiting {
    /// How many webhooks have presented it.
    presented: u32,
    first_seen: Instant,
    last_seen: Instant,
}

impl Waiting {
    /// Presented by more than one webhook: Plaid's keys are (every webhook and every retry
    /// presents the current one).
    fn repeated(&self) -> bool {
        self.presented > 1
    }
}

impl Admission {
    fn new(policy: &KeyCachePolicy) -> Self {
        Self {
            tokens: f64::from(policy.fetches_per_minute),
            refilled: Instant::now(),
            waiting: HashMap::new(),
        }
    }

    fn refill(&mut self, now: Instant, policy: &KeyCachePolicy) {
        let per_second = f64::from(policy.fetches_per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * per_second).min(f64::from(policy.fetches_per_minute));
        self.refilled = now;
        self.waiting
            .retain(|_, w| now.saturating_duration_since(w.last_seen) < PLACE_TTL);
    }

    /// Counts one more webhook presenting `kid`, giving it a place in the queue if there is
    /// one for it: a full queue gives up its least recently seen id presented once to a
    /// newcomer, unless every id in it was presented more than once. Whether `kid` has a
    /// place.
    fn present(&mut self, kid: &str, now: Instant, places: usize) -> bool {
        if let Some(waiting) = self.waiting.get_mut(kid) {
            waiting.presented = waiting.presented.saturating_add(1);
            waiting.last_seen = now;
            return true;
        }
        if self.waiting.len() >= places {
            let victim = self
                .waiting
                .iter()
                .filter(|(_, w)| !w.repeated())
                .min_by_key(|(_, w)| w.last_seen)
                .map(|(kid, _)| kid.clone());
            match victim {
                Some(victim) => self.waiting.remove(&victim),
                None => return false,
            };
        }
        self.waiting.insert(
            kid.to_owned(),
            Waiting {
                presented: 1,
                first_seen: now,
                last_seen: now,
            },
        );
        true
    }

    /// The key id to fetch next: of the ids presented more than once, the one waiting
    /// longest; else, of the ids seen once, the most recently seen (its webhook is the likeliest
    /// to be still waiting).
    fn next(&self) -> Option<&str> {
        let repeated = self
            .waiting
            .iter()
            .filter(|(_, w)| w.repeated())
            .min_by_key(|(_, w)| w.first_seen);
        repeated
            .or_else(|| self.waiting.iter().max_by_key(|(_, w)| w.last_seen))
            .map(|(kid, _)| kid.as_str())
    }

    /// Takes a token for the next key id, if there is both; removes the id from the queue.
    fn take_next(&mut self) -> Option<String> {
        if self.tokens < 1.0 {
            return None;
        }
        let kid = self.next()?.to_owned();
        self.waiting.remove(&kid);
        self.tokens -= 1.0;
        Some(kid)
    }
}

/// Verifies Plaid webhooks and parses them. Keep one for the whole server (it is cheap to
/// clone and shares its key cache between clones).
#[derive(Clone)]
pub struct WebhookVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    client: PlaidClient,
    max_age: Duration,
    clock_skew: Duration,
    clock: Clock,
    policy: KeyCachePolicy,
    keys: Mutex<HashMap<String, Entry>>,
    /// Key ids Plaid has given a valid key for: refreshed without spending the budget.
    vouched: Mutex<std::collections::HashSet<String>>,
    admission: Mutex<Admission>,
    /// Whether a task moves the queue on ([`WebhookVerifier::keep_queue_moving`]).
    queue_moving: std::sync::atomic::AtomicBool,
}

impl Inner {
    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn admission(&self) -> std::sync::MutexGuard<'_, Admission> {
        self.admission.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn vouched(&self, kid: &str) -> bool {
        self.vouched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(kid)
    }
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("max_age", &self.inner.max_age)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    /// A verifier that fetches keys through `client`, accepts webhooks signed at most
    /// 5 minutes ago, and uses the system clock.
    pub fn new(client: PlaidClient) -> Self {
        Self::builder(client).build()
    }

    /// A verifier with other settings.
    pub fn builder(client: PlaidClient) -> WebhookVerifierBuilder {
        WebhookVerifierBuilder {
            client,
            max_age: Duration::from_secs(5 * 60),
            clock_skew: Duration::from_secs(60),
            clock: Arc::new(SystemTime::now),
            policy: KeyCachePolicy::default(),
            vouched: Vec::new(),
        }
    }

    /// Verifies a webhook from its request headers and raw body, then parses it.
    ///
    /// Takes `http::HeaderMap`, which axum, hyper, reqwest and most Rust servers use.
    pub async fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let token = headers
            .get(VERIFICATION_HEADER)
            .ok_or(WebhookError::MissingHeader)?
            .to_str()
            .map_err(|_| WebhookError::MalformedToken("the header is not ASCII"))?;
        self.verify_token(token, body).await
    }

    /// Verifies a webhook from the `Plaid-Verification` header's value and the raw body, then
    /// parses it.
    pub async fn verify_token(
        &self,
        token: &str,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        self.verify_signature(token, body).await?;
        WebhookEvent::parse(body).map_err(|e| WebhookError::InvalidBody(e.to_string()))
    }

    /// Verifies a webhook like [`verify`](Self::verify), and also returns what the signature
    /// says about this delivery: when Plaid signed it (`iat`) and the body's SHA-256. A
    /// receiver that stores webhooks for workers (Plaid delivers at least once, in no
    /// guaranteed order) can key them on both: that catches a replay of one delivery, not a
    /// retry, which Plaid signs anew. It also takes two events with one body signed in one
    /// second for one (two `SYNC_UPDATES_AVAILABLE` for an Item: the body says only which
    /// Item), so a copy that comes after the first was acted on must still ask for a sync,
    /// unless one began after that second. So make each webhook's effect safe to apply twice
    /// (queue a sync that is coalesced, not a second one), and do not take a later
    /// `issued_at` for a newer state: a retry of an older `ERROR` is signed after a newer
    /// `LOGIN_REPAIRED`. Ask Plaid (`/item/get`) for an Item's current state instead.
    ///
    /// ```no_run
    /// # async fn run(verifier: plaid_sdk::webhook::WebhookVerifier, headers: http::HeaderMap, body: bytes::Bytes) -> Result<(), plaid_sdk::webhook::WebhookError> {
    /// let delivery = verifier.verify_delivery(&headers, &body).await?;
    /// let dedupe_key = format!("{}:{}", delivery.body_sha256_hex(), delivery.issued_at);
    /// let (webhook_type, webhook_code) = delivery.event.kind();
    /// # let _ = (dedupe_key, webhook_type, webhook_code); Ok(()) }
    /// ```
    pub async fn verify_delivery(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedWebhook, WebhookError> {
        let token = headers
            .get(VERIFICATION_HEADER)
            .ok_or(WebhookError::MissingHeader)?
            .to_str()
            .map_err(|_| WebhookError::MalformedToken("the header is not ASCII"))?;
        let (issued_at, body_sha256, key_id) = self.check(token, body).await?;
        let event =
            WebhookEvent::parse(body).map_err(|e| WebhookError::InvalidBody(e.to_string()))?;
        Ok(VerifiedWebhook {
            event,
            issued_at,
            body_sha256,
            key_id,
        })
    }

    /// Checks the signature, key, age and body hash, without parsing the body.
    pub async fn verify_signature(&self, token: &str, body: &[u8]) -> Result<(), WebhookError> {
        self.check(token, body).await.map(drop)
    }

    /// The checks of [`verify_signature`](Self::verify_signature); the token's `iat`, the
    /// body's SHA-256 and the key id when they pass.
    async fn check(
        &self,
        token: &str,
        body: &[u8],
    ) -> Result<(i64, [u8; 32], String), WebhookError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(WebhookError::MissingHeader);
        }
        let jwt = Jwt::split(token)?;
        let header: JwtHeader = crate::de::parse_json(&jwt.header).ok_or(
            WebhookError::MalformedToken("the header is not a JSON object"),
        )?;
        if header.alg != "ES256" {
            // The attacker's text: no more of it than an algorithm name needs.
            let alg: String = header.alg.chars().take(32).collect();
            return Err(WebhookError::UnsupportedAlgorithm(alg));
        }
        if header.crit {
            return Err(WebhookError::CriticalExtension);
        }
        let signature = base64url(jwt.signature).filter(|s| s.len() == 64).ok_or(
            WebhookError::MalformedToken("an ES256 signature is 64 base64url-encoded bytes"),
        )?;
        let kid = header
            .kid
            .filter(|k| !k.is_empty())
            .ok_or(WebhookError::MissingKeyId)?;
        if kid.len() > MAX_KID_LEN {
            return Err(WebhookError::MalformedToken(
                "its kid is longer than any Plaid key id",
            ));
        }
        let key = self.key(&kid).await?;
        key.verify_sig(jwt.signed.as_bytes(), &signature)
            .map_err(|_| WebhookError::BadSignature)?;
        let claims: Claims =
            crate::de::parse_json(&jwt.payload).ok_or(WebhookError::MalformedClaims(
                "the payload is not a JSON object with iat and request_body_sha256",
            ))?;
        self.check_age(claims.iat)?;
        let expected = decode_hex(&claims.request_body_sha256).ok_or(
            WebhookError::MalformedClaims("request_body_sha256 is not 64 hex digits"),
        )?;
        let actual = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
        aws_lc_rs::constant_time::verify_slices_are_equal(actual.as_ref(), &expected)
            .map_err(|_| WebhookError::BodyMismatch)?;
        Ok((claims.iat, expected, kid))
    }

    /// Judges `iat`, which the sender chose: in `i128`, where no `i64` difference overflows.
    fn check_age(&self, iat: i64) -> Result<(), WebhookError> {
        let now = (self.inner.clock)()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let (now, iat) = (i128::from(now), i128::from(iat));
        let seconds = |s: i128| Duration::from_secs(u64::try_from(s).unwrap_or(u64::MAX));
        let (max, skew) = (self.inner.max_age, self.inner.clock_skew);
        if iat > now {
            let ahead = seconds(iat - now);
            return if ahead > skew {
                Err(WebhookError::IssuedInFuture(ahead))
            } else {
                Ok(())
            };
        }
        let age = seconds(now - iat);
        if age > max {
            return Err(WebhookError::TooOld { age, max });
        }
        Ok(())
    }

    /// The key for `kid`: from the cache, or fetched once however many callers wait for it
    /// (see [`KeyCachePolicy`]).
    async fn key(&self, kid: &str) -> Result<ParsedPublicKey, WebhookError> {
        match self.lookup(kid) {
            Step::Done(result) => result,
            Step::Await(fetch) => outcome(kid, fetch.await),
            Step::Queue => self.queue(kid).await,
        }
    }

    /// What the cache says about `kid`, starting a fetch where one is due and needs no budget:
    /// a refresh of a key Plaid vouched for, in the background while the key is fresh enough
    /// to serve.
    fn lookup(&self, kid: &str) -> Step {
        let policy = &self.inner.policy;
        let now = Instant::now();
        let mut keys = self.inner.keys();
        let (known, fetching) = keys
            .get(kid)
            .map(|e| (e.known.clone(), e.fetching.clone()))
            .unwrap_or_default();
        let since = |at: Instant| now.saturating_duration_since(at);
        match known {
            Some(Known::Key {
                key,
                fetched,
                refresh_failed,
            }) => {
                let age = since(fetched);
                if age < policy.key_ttl {
                    return Step::Done(Ok(key));
                }
                let retry_due = refresh_failed
                    .as_ref()
                    .is_none_or(|(at, _)| since(*at) >= RETRY_AFTER_FAILURE);
                if age < policy.key_ttl.saturating_add(policy.stale_if_error) {
                    // Stale while revalidating, or while Plaid cannot be reached.
                    if fetching.is_none() && retry_due {
                        let _refresh = self.start_fetch(&mut keys, kid);
                    }
                    return Step::Done(Ok(key));
                }
                match (fetching, refresh_failed) {
                    (Some(fetch), _) => Step::Await(fetch),
                    (None, Some((_, error))) if !retry_due => {
                        Step::Done(Err(WebhookError::KeyFetch(error)))
                    }
                    (None, _) => Step::Await(self.start_fetch(&mut keys, kid)),
                }
            }
            Some(Known::Expired) => Step::Done(Err(WebhookError::KeyExpired {
                kid: kid.to_owned(),
            })),
            Some(Known::Invalid { reason, at }) if since(at) < policy.unknown_ttl => {
                Step::Done(Err(WebhookError::InvalidKey {
                    kid: kid.to_owned(),
                    reason,
                }))
            }
            Some(Known::Unknown { at }) if since(at) < policy.unknown_ttl => {
                Step::Done(Err(WebhookError::UnknownKey {
                    kid: kid.to_owned(),
                }))
            }
            Some(Known::FetchFailed { at, error }) if since(at) < RETRY_AFTER_FAILURE => {
                match fetching {
                    Some(fetch) => Step::Await(fetch),
                    None => Step::Done(Err(WebhookError::KeyFetch(error))),
                }
            }
            _ => match fetching {
                Some(fetch) => Step::Await(fetch),
                None if self.inner.vouched(kid) => Step::Await(self.start_fetch(&mut keys, kid)),
                None => Step::Queue,
            },
        }
    }

    /// A key id the verifier has never had a key for: spends the budget, or waits in the
    /// queue for its turn (see [`KeyCachePolicy`]).
    async fn queue(&self, kid: &str) -> Result<ParsedPublicKey, WebhookError> {
        let policy = self.inner.policy;
        let started = Instant::now();
        {
            let mut admission = self.inner.admission();
            admission.refill(started, &policy);
            if !admission.present(kid, started, policy.waiting_keys) {
                return Err(WebhookError::KeyFetchLimited {
                    kid: kid.to_owned(),
                });
            }
        }
        // Dropped while it waits (Plaid hung up first: its 10 s are the default wait), the
        // webhook leaves its id in the queue: the queue is kept moving for it then too.
        let _queued = QueuedWebhook {
            verifier: self,
            kid,
        };
        let deadline = saturating_deadline(started, policy.fetch_wait);
        loop {
            self.dispatch();
            match self.lookup(kid) {
                Step::Done(result) => return result,
                Step::Await(fetch) => return outcome(kid, fetch.await),
                Step::Queue => {}
            }
            let now = Instant::now();
            let displaced = !self.inner.admission().waiting.contains_key(kid);
            if displaced {
                // Its turn may have come between the lookup above and that check: the fetch
                // started then is this webhook's to wait for, not a reason to refuse it.
                match self.lookup(kid) {
                    Step::Done(result) => return result,
                    Step::Await(fetch) => return outcome(kid, fetch.await),
                    Step::Queue => {}
                }
            }
            if displaced || now >= deadline {
                // Either way the webhook is refused; a kid that was not displaced keeps its
                // place and is fetched in its turn, for Plaid's retry to find (`_queued`
                // keeps the queue moving).
                return Err(WebhookError::KeyFetchLimited {
                    kid: kid.to_owned(),
                });
            }
            tokio::time::sleep(ADMISSION_POLL.min(deadline - now)).await;
        }
    }

    /// Makes sure the queue moves on while ids wait in it, with no webhook waiting for them:
    /// one task, started here if none runs, that starts the fetches whose turn has come each
    /// time the budget allows one more, and ends once the queue is empty (review round 15:
    /// the queue moved only while a webhook waited in it, so an id refused and then left
    /// alone was never fetched before Plaid's retry).
    fn keep_queue_moving(&self) {
        use std::sync::atomic::Ordering;
        let per_minute = self.inner.policy.fetches_per_minute;
        if self.inner.queue_moving.swap(true, Ordering::AcqRel) {
            return;
        }
        let tick = Duration::from_secs_f64(60.0 / f64::from(per_minute));
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(inner) = inner.upgrade() else {
                    return; // the verifier is gone
                };
                let verifier = WebhookVerifier { inner };
                verifier.dispatch();
                if verifier.inner.admission().waiting.is_empty() {
                    verifier.inner.queue_moving.store(false, Ordering::Release);
                    // An id queued since the check above finds no task running: start again.
                    let queued = !verifier.inner.admission().waiting.is_empty();
                    if !queued || verifier.inner.queue_moving.swap(true, Ordering::AcqRel) {
                        return;
                    }
                }
            }
        });
    }

    /// Starts the fetches the budget allows, for the key ids whose turn it is.
    ///
    /// The queue's lock is held until the fetches are in the cache (locks in the order queue,
    /// then cache; nothing takes them the other way): a webhook that finds its id gone from
    /// the queue then finds its fetch in flight, or what it settled to (a failed fetch of an
    /// id not trusted leaves nothing, and that webhook is refused as one the budget could not
    /// serve).
    fn dispatch(&self) {
        let mut admission = self.inner.admission();
        admission.refill(Instant::now(), &self.inner.policy);
        let picked: Vec<String> = std::iter::from_fn(|| admission.take_next()).collect();
        if picked.is_empty() {
            return;
        }
        let mut keys = self.inner.keys();
        for kid in picked {
            let _started = self.start_fetch(&mut keys, &kid);
        }
        drop(keys);
        drop(admission);
    }

    /// The fetch of `kid` in flight, started if there is none. It runs on its own task, so it
    /// finishes (and its answer is cached) whether or not a webhook still waits for it, and it
    /// settles the cache entry whatever happens, a panic included.
    fn start_fetch(&self, keys: &mut HashMap<String, Entry>, kid: &str) -> KeyFuture {
        if let Some(fetch) = keys.get(kid).and_then(|e| e.fetching.clone()) {
            return fetch;
        }
        if keys.len() >= self.inner.policy.max_keys && !keys.contains_key(kid) {
            evict(keys, self.inner.policy.max_keys);
        }
        let inner = Arc::downgrade(&self.inner);
        let client = self.inner.client.clone();
        let timeout = self.inner.policy.fetch_timeout;
        let owned = kid.to_owned();
        let fetch = async move {
            let fetched = std::panic::AssertUnwindSafe(fetch_key(client, owned.clone(), timeout))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Fetched::Failed(Arc::new(Error::InvalidRequest {
                        operation: WEBHOOK_VERIFICATION_KEY_GET.name,
                        message: "fetching the key panicked; the next webhook tries again".into(),
                    }))
                });
            match inner.upgrade() {
                Some(inner) => {
                    let (fetched, rotated) = inner.settle(&owned, fetched);
                    if rotated {
                        WebhookVerifier { inner }.refresh_others(&owned);
                    }
                    fetched
                }
                None => fetched,
            }
        }
        .boxed()
        .shared();
        keys.entry(kid.to_owned()).or_default().fetching = Some(fetch.clone());
        tokio::spawn(fetch.clone());
        fetch
    }
}

impl WebhookVerifier {
    /// Refreshes every cached key but `kid`, in the background: a new key id from Plaid means
    /// a rotation, and Plaid's recipe is to refresh the other keys then and refuse the ones it
    /// has expired (review round 18: an expired key verified until its own `key_ttl` ran out).
    /// Only keys Plaid issued are refreshed, so this spends no budget.
    fn refresh_others(&self, kid: &str) {
        let mut keys = self.inner.keys();
        let others: Vec<String> = keys
            .iter()
            .filter(|(other, entry)| {
                other.as_str() != kid
                    && entry.fetching.is_none()
                    && matches!(entry.known, Some(Known::Key { .. }))
            })
            .map(|(other, _)| other.clone())
            .collect();
        for other in others {
            let _refresh = self.start_fetch(&mut keys, &other);
        }
    }
}

/// What [`WebhookVerifier::lookup`] found.
enum Step {
    Done(Result<ParsedPublicKey, WebhookError>),
    Await(KeyFuture),
    Queue,
}

impl Inner {
    /// Records what a fetch of `kid` found, and that it is no longer in flight, and returns
    /// it as the webhooks waiting for it see it. A failed refresh keeps the key it meant to
    /// refresh (served within `stale_if_error`); so does an answer that is not a usable key,
    /// which those webhooks see as the failed fetch it is, as the next ones will. Also says
    /// whether the answer is a key the verifier did not have (a rotation, or its first key).
    fn settle(&self, kid: &str, fetched: Fetched) -> (Fetched, bool) {
        let now = Instant::now();
        let vouched = self.vouched(kid);
        if let Fetched::Key(_) = &fetched {
            let mut vouched = self.vouched.lock().unwrap_or_else(|p| p.into_inner());
            if vouched.len() >= self.policy.max_keys {
                vouched.clear();
            }
            vouched.insert(kid.to_owned());
        }
        let mut keys = self.keys();
        if keys.len() >= self.policy.max_keys && !keys.contains_key(kid) {
            evict(&mut keys, self.policy.max_keys);
        }
        let entry = keys.entry(kid.to_owned()).or_default();
        entry.fetching = None;
        let previous = entry.known.take();
        // A key Plaid vouched for, answered with something that is not a key: more likely a
        // proxy's glitch than Plaid withdrawing it (that is `expired_at`), so a failed refresh.
        let fetched = match (fetched, &previous) {
            (Fetched::Invalid(reason), Some(Known::Key { .. })) => {
                Fetched::Failed(Arc::new(Error::Decode {
                    operation: WEBHOOK_VERIFICATION_KEY_GET.name,
                    status: 200,
                    path: "key".into(),
                    message: format!("not a usable key: {reason}"),
                    request_id: None,
                }))
            }
            (fetched, _) => fetched,
        };
        let new_key =
            matches!(fetched, Fetched::Key(_)) && !matches!(previous, Some(Known::Key { .. }));
        let known = match (&fetched, previous) {
            (Fetched::Key(key), _) => Some(Known::Key {
                key: key.clone(),
                fetched: now,
                refresh_failed: None,
            }),
            (Fetched::Failed(error), Some(Known::Key { key, fetched, .. })) => Some(Known::Key {
                key,
                fetched,
                refresh_failed: Some((now, Arc::clone(error))),
            }),
            // A trusted id is fetched without the budget: its failure is the answer for a
            // while, or every forged webhook naming it would be a request to Plaid (also
            // when an earlier answer, an unknown id's, has gone stale: it would be refetched).
            (
                Fetched::Failed(error),
                None
                | Some(Known::FetchFailed { .. } | Known::Unknown { .. } | Known::Invalid { .. }),
            ) if vouched => Some(Known::FetchFailed {
                at: now,
                error: Arc::clone(error),
            }),
            // Nothing learnt; an earlier answer (an unknown id's, say) stands.
            (Fetched::Failed(_), previous) => previous,
            (Fetched::Expired, _) => Some(Known::Expired),
            (Fetched::Invalid(reason), _) => Some(Known::Invalid { reason, at: now }),
            (Fetched::Unknown, _) => Some(Known::Unknown { at: now }),
        };
        match known {
            Some(known) => entry.known = Some(known),
            None => {
                keys.remove(kid);
            }
        }
        (fetched, new_key)
    }
}

/// A fetch's outcome as the webhook's.
fn outcome(kid: &str, fetched: Fetched) -> Result<ParsedPublicKey, WebhookError> {
    let kid = kid.to_owned();
    match fetched {
        Fetched::Key(key) => Ok(key),
        Fetched::Expired => Err(WebhookError::KeyExpired { kid }),
        Fetched::Invalid(reason) => Err(WebhookError::InvalidKey { kid, reason }),
        Fetched::Unknown => Err(WebhookError::UnknownKey { kid }),
        Fetched::Failed(e) => Err(WebhookError::KeyFetch(e)),
    }
}

/// Makes room in a full cache (of `max` entries): forgets what is not a key first (unknown,
/// invalid and expired ids), then, only if that made no room, the oldest key. Fetches in
/// flight stay.
fn evict(keys: &mut HashMap<String, Entry>, max: usize) {
    keys.retain(|_, entry| {
        entry.fetching.is_some() || matches!(entry.known, Some(Known::Key { .. }))
    });
    if keys.len() < max {
        return;
    }
    if let Some(oldest) = keys
        .iter()
        .filter(|(_, entry)| entry.fetching.is_none())
        .filter_map(|(kid, entry)| match &entry.known {
            Some(Known::Key { fetched, .. }) => Some((kid.clone(), *fetched)),
            _ => None,
        })
        .min_by_key(|(_, at)| *at)
        .map(|(kid, _)| kid)
    {
        keys.remove(&oldest);
    }
}

/// Settings for a [`WebhookVerifier`].
#[must_use]
pub struct WebhookVerifierBuilder {
    client: PlaidClient,
    max_age: Duration,
    clock_skew: Duration,
    clock: Clock,
    policy: KeyCachePolicy,
    vouched: Vec<String>,
}

impl fmt::Debug for WebhookVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifierBuilder")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifierBuilder {
    /// The oldest a webhook may be when it arrives (default 5 minutes, as Plaid recommends).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How far in the future `iat` may be, for clocks that disagree (default 60 s).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The clock to judge `iat` by (tests set a fixed time).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How keys are fetched and cached. A limit set to 0 through a field counts as 1, as the
    /// setters have it (review round 20: no key was ever fetched, or every vouched id dropped).
    pub fn key_cache(mut self, policy: KeyCachePolicy) -> Self {
        self.policy = policy.at_least_one();
        self
    }

    /// Key ids Plaid has vouched for before ([`VerifiedWebhook::key_id`] of webhooks this app
    /// verified, kept in its database): their keys are fetched when first presented without
    /// spending the budget for new ids or waiting in its queue, as the keys this verifier
    /// fetched itself are. Without them, a process that has just started knows no key, and
    /// an attacker who keeps the queue full of forged ids (see [`KeyCachePolicy`]) keeps
    /// Plaid's current key from being fetched. At most [`max_keys`](KeyCachePolicy::max_keys)
    /// are kept. Only ids from verified webhooks belong here: an id on this list costs a fetch
    /// every [`unknown_ttl`](KeyCachePolicy::unknown_ttl) if Plaid does not know it.
    ///
    /// ```no_run
    /// # fn run(client: plaid_sdk::PlaidClient, stored: Vec<String>) {
    /// use plaid_sdk::webhook::WebhookVerifier;
    ///
    /// let verifier = WebhookVerifier::builder(client)
    ///     .vouched_key_ids(stored) // e.g. SELECT kid FROM webhook_keys
    ///     .build();
    /// # let _ = verifier; }
    /// ```
    pub fn vouched_key_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.vouched.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Builds the verifier.
    pub fn build(self) -> WebhookVerifier {
        WebhookVerifier {
            inner: Arc::new(Inner {
                client: self.client,
                max_age: self.max_age,
                clock_skew: self.clock_skew,
                clock: self.clock,
                policy: self.policy,
                keys: Mutex::new(HashMap::new()),
                vouched: Mutex::new(
                    self.vouched
                        .into_iter()
                        .filter(|kid| !kid.is_empty())
                        .take(self.policy.max_keys)
                        .collect(),
                ),
                admission: Mutex::new(Admission::new(&self.policy)),
                queue_moving: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }
}

/// The three parts of a compact JWS, decoded.
struct Jwt<'a> {
    /// `header.payload`, the signed text.
    signed: &'a str,
    header: Vec<u8>,
    payload: Vec<u8>,
    /// Still encoded: checked only once the algorithm is known to be ES256 (an `alg: none`
    /// token has an empty signature, and must be refused for its algorithm).
    signature: &'a str,
}

fn base64url(part: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()
}

impl<'a> Jwt<'a> {
    fn split(token: &'a str) -> Result<Self, WebhookError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(WebhookError::MalformedToken("it is too long"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(WebhookError::MalformedToken("it does not have three parts"));
        };
        if h.is_empty() || p.is_empty() {
            return Err(WebhookError::MalformedToken("a part is empty"));
        }
        let decode = |part: &str, what: &'static str| {
            base64url(part).ok_or(WebhookError::MalformedToken(what))
        };
        Ok(Jwt {
            signed: &token[..h.len() + 1 + p.len()],
            header: decode(h, "the header is not base64url")?,
            payload: decode(p, "the payload is not base64url")?,
            signature: s,
        })
    }
}

/// A webhook [`WebhookVerifier::verify_delivery`] verified: the event, and what the signature
/// vouches for about this delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedWebhook {
    /// The event, parsed.
    pub event: WebhookEvent,
    /// When Plaid signed this delivery: the token's `iat`, in seconds since the Unix epoch.
    /// A replay of one delivery has the same value; Plaid signs each retry anew, so this is
    /// when the delivery was made, not when its event happened: of two events about one
    /// Item, the later `issued_at` may be a retry of the older event. The event happened
    /// before it, so a sync that started after it has seen the event's news.
    pub issued_at: i64,
    /// The SHA-256 of the body, which the signature covers.
    pub body_sha256: [u8; 32],
    /// The id of the key Plaid signed it with (the token's `kid`): a key Plaid has vouched
    /// for. Store the ids you see and give them to the next verifier you build
    /// ([`WebhookVerifierBuilder::vouched_key_ids`]), so a restart does not start cold.
    pub key_id: String,
}

impl VerifiedWebhook {
    /// [`body_sha256`](Self::body_sha256) as 64 lowercase hex digits.
    pub fn body_sha256_hex(&self) -> String {
        use fmt::Write;
        self.body_sha256
            .iter()
            .fold(String::with_capacity(64), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            })
    }
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Only whether it is there matters, whatever its value (`null` too): no extension is
    /// implemented (RFC 7515 §4.1.11).
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// `true` for any value, `null` included; an absent field is the default, `false`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    request_body_sha256: String,
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

// --- fetching keys -----------------------------------------------------------------------------

static WEBHOOK_VERIFICATION_KEY_GET: OperationInfo = OperationInfo::new(
    "webhook_verification_key_get",
    "/webhook_verification_key/get",
    OperationKind::Read,
);

#[derive(Serialize)]
struct KeyGet {
    key_id: String,
}

/// A JWK as Plaid sends it.
#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kty: String,
    #[serde(default)]
    crv: String,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    x: String,
    #[serde(default)]
    y: String,
    #[serde(default)]
    expired_at: Option<i64>,
}

#[derive(Deserialize)]
struct KeyGetResponse {
    key: Jwk,
}

impl Operation for KeyGet {
    type Response = KeyGetResponse;
    const INFO: &'static OperationInfo = &WEBHOOK_VERIFICATION_KEY_GET;
    fn decode(raw: RawResponse) -> Result<KeyGetResponse, Error> {
        raw.json()
    }
}

/// Fetches one key, giving up after `timeout` in all, retries included.
async fn fetch_key(client: PlaidClient, kid: String, timeout: Duration) -> Fetched {
    let (client, request) = (client.with_timeout(timeout), KeyGet { key_id: kid });
    match tokio::time::timeout(timeout, client.send(&request)).await {
        Err(_) => Fetched::Failed(Arc::new(Error::Timeout {
            operation: WEBHOOK_VERIFICATION_KEY_GET.name,
            timeout,
        })),
        Ok(Ok(response)) => parse_jwk(&response.key),
        Ok(Err(Error::Api(e)))
            if e.error_code == ErrorCode::InvalidWebhookVerificationKeyId || e.status == 404 =>
        {
            Fetched::Unknown
        }
        Ok(Err(e)) => Fetched::Failed(Arc::new(e)),
    }
}

fn parse_jwk(jwk: &Jwk) -> Fetched {
    if jwk.expired_at.is_some() {
        return Fetched::Expired;
    }
    if jwk.kty != "EC" || jwk.crv != "P-256" {
        return Fetched::Invalid("not an EC P-256 key");
    }
    if jwk.alg.as_deref().is_some_and(|a| a != "ES256") {
        return Fetched::Invalid("its alg is not ES256");
    }
    let coordinate = |c: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c.trim_end_matches('='))
            .ok()
            .filter(|b| b.len() == 32)
    };
    let (Some(x), Some(y)) = (coordinate(&jwk.x), coordinate(&jwk.y)) else {
        return Fetched::Invalid("x and y are not 32-byte base64url coordinates");
    };
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    match ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point) {
        Ok(key) => Fetched::Key(key),
        Err(_) => Fetched::Invalid("the point is not on the P-256 curve"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(per_minute: u32, room: usize) -> KeyCachePolicy {
        KeyCachePolicy::default()
            .fetches_per_minute(per_minute)
            .waiting_keys(room)
    }

    #[test]
    fn the_budget_is_a_burst_refilled_evenly() {
        let p = policy(60, 4);
        let mut a = Admission::new(&p);
        assert_eq!(a.tokens, 60.0);
        a.tokens = 0.0;
        let later = a.refilled + Duration::from_millis(2500);
        a.refill(later, &p);
        assert!((a.tokens - 2.5).abs() < 1e-9);
        a.refill(later + Duration::from_secs(3600), &p);
        assert_eq!(a.tokens, 60.0, "never more than the burst");
        // 0 counts as 1 (review round 20): a budget of none would never fetch a key.
        let none = policy(0, 4);
        let mut a = Admission::new(&none);
        a.tokens = 0.0;
        a.refill(a.refilled + Duration::from_secs(60), &none);
        assert_eq!(a.tokens, 1.0);
    }

    #[test]
    fn the_queue_serves_repeated_ids_oldest_first_and_protects_them() {
        let p = policy(10, 3);
        let mut a = Admission::new(&p);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(a.present("genuine", at(0), 3));
        assert!(a.present("forged-1", at(1), 3));
        assert!(a.present("genuine", at(2), 3), "a second webhook");
        // A forged id presented far more often, but after the genuine one, does not outrank it.
        for ms in 3..100 {
            assert!(a.present("forged-1", at(ms), 3));
        }
        assert_eq!(a.next(), Some("genuine"), "repeated ids: the oldest first");
        assert!(a.present("forged-2", at(100), 3));
        // A full queue: a newcomer displaces the least recently seen id presented once.
        assert!(a.present("forged-3", at(101), 3));
        assert!(!a.waiting.contains_key("forged-2"));
        assert!(a.waiting.contains_key("genuine") && a.waiting.contains_key("forged-1"));
        a.waiting.remove("genuine");
        a.waiting.remove("forged-1");
        assert!(a.present("forged-4", at(102), 3));
        assert_eq!(
            a.next(),
            Some("forged-4"),
            "ids seen once: the newest first"
        );
        // A queue where every id was presented twice turns a newcomer away.
        let mut a = Admission::new(&p);
        for kid in ["a", "b", "c", "a", "b", "c"] {
            assert!(a.present(kid, at(0), 3));
        }
        assert!(!a.present("d", at(1), 3));
        assert!(
            !Admission::new(&p).present("x", at(0), 0),
            "no place at all"
        );
    }

    #[test]
    fn a_place_lasts_an_hour_from_the_last_webhook_and_a_token_goes_with_each_fetch() {
        let p = policy(2, 8);
        let mut a = Admission::new(&p);
        let t0 = a.refilled;
        assert!(a.present("x", t0, 8));
        assert!(a.present("y", t0 + Duration::from_millis(1), 8));
        assert!(a.present("z", t0 + Duration::from_millis(2), 8));
        assert_eq!(a.take_next().as_deref(), Some("z"));
        assert_eq!(a.take_next().as_deref(), Some("y"));
        assert_eq!(a.take_next(), None, "the burst of 2 is spent");
        a.refill(t0 + PLACE_TTL - Duration::from_secs(1), &p);
        assert!(a.waiting.contains_key("x"));
        a.refill(t0 + PLACE_TTL, &p);
        assert!(
            a.waiting.is_empty(),
            "forgotten an hour after its last webhook"
        );
    }

    #[test]
    fn deadlines_saturate() {
        let now = Instant::now();
        assert!(saturating_deadline(now, Duration::MAX) > now + Duration::from_secs(86_400));
        assert_eq!(saturating_deadline(now, Duration::ZERO), now);
    }

    #[test]
    fn hex_decoding_is_strict() {
        let h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(decode_hex(h).unwrap()[0], 0xe3);
        assert_eq!(decode_hex(&h.to_uppercase()), decode_hex(h));
        assert!(decode_hex(&h[..62]).is_none());
        assert!(decode_hex(&format!("{}zz", &h[..62])).is_none());
    }

    #[test]
    fn tokens_must_have_three_non_empty_base64url_parts() {
        assert!(matches!(
            Jwt::split("a.b"),
            Err(WebhookError::MalformedToken(_))
        ));
        assert!(matches!(
            Jwt::split("a.b.c.d"),
            Err(WebhookError::MalformedToken(_))
        ));
        assert!(matches!(
            Jwt::split("a..c"),
            Err(WebhookError::MalformedToken(_))
        ));
        assert!(matches!(
            Jwt::split("!!!.e30.c"),
            Err(WebhookError::MalformedToken(_))
        ));
        let long = format!("{}.b.c", "a".repeat(MAX_TOKEN_LEN));
        assert!(matches!(
            Jwt::split(&long),
            Err(WebhookError::MalformedToken("it is too long"))
        ));
        assert!(
            Jwt::split("e30.e30.").is_ok(),
            "the signature is judged after the algorithm"
        );
    }

    #[test]
    fn jwks_are_checked() {
        let jwk = |kty: &str, crv: &str, expired: Option<i64>| Jwk {
            kty: kty.into(),
            crv: crv.into(),
            alg: Some("ES256".into()),
            x: "AAAA".into(),
            y: "AAAA".into(),
            expired_at: expired,
        };
        assert!(matches!(
            parse_jwk(&jwk("EC", "P-256", Some(1))),
            Fetched::Expired
        ));
        assert!(matches!(
            parse_jwk(&jwk("RSA", "P-256", None)),
            Fetched::Invalid(_)
        ));
        assert!(matches!(
            parse_jwk(&jwk("EC", "P-384", None)),
            Fetched::Invalid(_)
        ));
        assert!(matches!(
            parse_jwk(&jwk("EC", "P-256", None)),
            Fetched::Invalid("x and y are not 32-byte base64url coordinates")
        ));
        let zeros = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0u8; 32]);
        let off_curve = Jwk {
            x: zeros.clone(),
            y: zeros,
            ..jwk("EC", "P-256", None)
        };
        assert!(matches!(
            parse_jwk(&off_curve),
            Fetched::Invalid("the point is not on the P-256 curve")
        ));
    }
}
