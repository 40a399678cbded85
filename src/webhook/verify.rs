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
    UnknownKey {
        /// The key id.
        kid: String,
    },
    /// The key has expired.
    #[error("webhook verification key {kid:?} has expired")]
    KeyExpired {
        /// The key id.
        kid: String,
    },
    /// The key Plaid returned is not an ES256 (P-256) key.
    #[error("webhook verification key {kid:?} is unusable: {reason}")]
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
/// letting the flood lock out Plaid's own webhooks:
///
/// * A key Plaid has given the verifier is refetched when its [`key_ttl`](Self::key_ttl) runs
///   out without spending the budget below: only Plaid's own key ids can be on that path.
/// * A key id never seen before spends one fetch from a budget of
///   [`fetches_per_minute`](Self::fetches_per_minute) (a burst of that many, refilled
///   evenly over the minute). When the budget is spent, the webhook waits up to
///   [`fetch_wait`](Self::fetch_wait) in a room of [`waiting_keys`](Self::waiting_keys)
///   key ids; each refilled fetch goes to the id the most waiting webhooks present, the newest
///   among equals. A newcomer displaces the oldest of the least-presented ids; the displaced
///   webhooks are refused with [`WebhookError::KeyFetchLimited`].
///
/// So a burst of forged ids, however large, costs Plaid the budget and no more, and the first
/// webhook with a new genuine key after it is served by the next refill. During a flood, a
/// genuine new key wins the next fetch as soon as more of Plaid's webhooks present it than the
/// flood presents any one forged id: every forged id that gets fetched is then known as unknown
/// for [`unknown_ttl`](Self::unknown_ttl) and costs nothing more.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct KeyCachePolicy {
    /// Fetches of new key ids per minute, and the burst allowed at once (default 10). Plaid
    /// rotates keys rarely; more than a few new `kid`s a minute means forged tokens.
    pub fetches_per_minute: u32,
    /// How long a webhook with a new key id waits for a fetch when the budget is spent
    /// (default 10 s). Zero refuses it at once.
    pub fetch_wait: Duration,
    /// How many distinct new key ids may wait for a fetch at once (default 64).
    pub waiting_keys: usize,
    /// How long a valid key is used before it is fetched again, to notice expiry (default 1 h).
    pub key_ttl: Duration,
    /// How long a `kid` Plaid does not know stays known as unknown (default 10 min).
    pub unknown_ttl: Duration,
    /// The most keys kept (default 1,000).
    pub max_keys: usize,
}

impl Default for KeyCachePolicy {
    fn default() -> Self {
        Self {
            fetches_per_minute: 10,
            fetch_wait: Duration::from_secs(10),
            waiting_keys: 64,
            key_ttl: Duration::from_secs(3600),
            unknown_ttl: Duration::from_secs(600),
            max_keys: 1000,
        }
    }
}

impl KeyCachePolicy {
    /// Sets [`fetches_per_minute`](Self::fetches_per_minute).
    pub fn fetches_per_minute(mut self, fetches: u32) -> Self {
        self.fetches_per_minute = fetches;
        self
    }

    /// Sets [`fetch_wait`](Self::fetch_wait).
    pub fn fetch_wait(mut self, wait: Duration) -> Self {
        self.fetch_wait = wait;
        self
    }

    /// Sets [`waiting_keys`](Self::waiting_keys).
    pub fn waiting_keys(mut self, keys: usize) -> Self {
        self.waiting_keys = keys;
        self
    }

    /// Sets [`key_ttl`](Self::key_ttl).
    pub fn key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
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
    /// The budget for new key ids refused the fetch.
    Limited,
}

enum Slot {
    Ready { key: ParsedPublicKey, at: Instant },
    Expired,
    Invalid(&'static str),
    Unknown { at: Instant },
    Pending { fetch: KeyFuture, id: u64 },
}

/// Who gets the next fetch of a key id Plaid has not given the verifier before: a token
/// bucket, and the room where key ids wait for it (see [`KeyCachePolicy`]).
struct Admission {
    tokens: f64,
    refilled: Instant,
    waiting: HashMap<String, Waiting>,
}

/// A key id waiting for a fetch: how many webhooks have presented it, and when last.
struct Waiting {
    demand: u32,
    last_seen: Instant,
}

/// How often a waiting webhook looks again whether it is its turn.
const ADMISSION_POLL: Duration = Duration::from_millis(50);

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
    }

    /// How long until a whole token is there (at most an hour, for a zero budget).
    fn until_token(&self, policy: &KeyCachePolicy) -> Duration {
        if self.tokens >= 1.0 {
            return Duration::ZERO;
        }
        let per_second = f64::from(policy.fetches_per_minute) / 60.0;
        if per_second <= 0.0 {
            return Duration::from_secs(3600);
        }
        Duration::from_secs_f64(((1.0 - self.tokens) / per_second).min(3600.0))
    }

    /// Counts one more webhook presenting `kid`, adding it to the room if there is a place
    /// for it: a full room gives up its oldest least-presented id to a newcomer, unless every
    /// id in it has been presented more than once. Whether `kid` is in the room.
    fn present(&mut self, kid: &str, now: Instant, room: usize) -> bool {
        if let Some(waiting) = self.waiting.get_mut(kid) {
            waiting.demand = waiting.demand.saturating_add(1);
            waiting.last_seen = now;
            return true;
        }
        if self.waiting.len() >= room {
            let victim = self
                .waiting
                .iter()
                .filter(|(_, w)| w.demand <= 1)
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
                demand: 1,
                last_seen: now,
            },
        );
        true
    }

    /// The waiting key id to fetch next: the most presented, the newest among equals.
    fn next(&self) -> Option<&str> {
        self.waiting
            .iter()
            .max_by_key(|(_, w)| (w.demand, w.last_seen))
            .map(|(kid, _)| kid.as_str())
    }
}

/// Waits for the budget to allow fetching `kid` (see [`KeyCachePolicy`]); false if it does not
/// within the policy's wait, or `kid` was displaced from the waiting room.
async fn admit(inner: std::sync::Weak<Inner>, kid: String) -> bool {
    let mut deadline = None;
    loop {
        let Some(strong) = inner.upgrade() else {
            return false;
        };
        let policy = strong.policy;
        let wait = {
            let mut admission = strong.admission.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            admission.refill(now, &policy);
            let deadline = match deadline {
                Some(deadline) => {
                    if !admission.waiting.contains_key(&kid) {
                        return false;
                    }
                    deadline
                }
                None => {
                    if admission.tokens >= 1.0 && admission.waiting.is_empty() {
                        admission.tokens -= 1.0;
                        return true;
                    }
                    if !admission.present(&kid, now, policy.waiting_keys) {
                        return false;
                    }
                    *deadline.insert(now + policy.fetch_wait)
                }
            };
            if admission.tokens >= 1.0 && admission.next() == Some(kid.as_str()) {
                admission.tokens -= 1.0;
                admission.waiting.remove(&kid);
                return true;
            }
            if now >= deadline {
                admission.waiting.remove(&kid);
                return false;
            }
            admission
                .until_token(&policy)
                .min(deadline - now)
                .clamp(Duration::from_millis(1), ADMISSION_POLL)
        };
        drop(strong);
        tokio::time::sleep(wait).await;
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
    keys: Mutex<HashMap<String, Slot>>,
    /// Key ids Plaid has given a valid key for: refreshed without spending the budget.
    vouched: Mutex<std::collections::HashSet<String>>,
    admission: Mutex<Admission>,
    next_id: std::sync::atomic::AtomicU64,
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

    /// Checks the signature, key, age and body hash, without parsing the body.
    pub async fn verify_signature(&self, token: &str, body: &[u8]) -> Result<(), WebhookError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(WebhookError::MissingHeader);
        }
        let jwt = Jwt::split(token)?;
        let header: JwtHeader = crate::de::parse_json(&jwt.header).ok_or(
            WebhookError::MalformedToken("the header is not a JSON object"),
        )?;
        if header.alg != "ES256" {
            return Err(WebhookError::UnsupportedAlgorithm(header.alg));
        }
        if header.crit.is_some() {
            return Err(WebhookError::CriticalExtension);
        }
        let signature = base64url(jwt.signature).filter(|s| s.len() == 64).ok_or(
            WebhookError::MalformedToken("an ES256 signature is 64 base64url-encoded bytes"),
        )?;
        let kid = header
            .kid
            .filter(|k| !k.is_empty())
            .ok_or(WebhookError::MissingKeyId)?;
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
            .map_err(|_| WebhookError::BodyMismatch)
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

    /// The key for `kid`: from the cache, or fetched once however many callers wait for it.
    async fn key(&self, kid: &str) -> Result<ParsedPublicKey, WebhookError> {
        let (fetch, id) = {
            let mut keys = self.inner.keys.lock().unwrap_or_else(|p| p.into_inner());
            let policy = &self.inner.policy;
            match keys.get(kid) {
                Some(Slot::Ready { key, at }) if at.elapsed() < policy.key_ttl => {
                    return Ok(key.clone())
                }
                Some(Slot::Expired) => {
                    return Err(WebhookError::KeyExpired {
                        kid: kid.to_owned(),
                    })
                }
                Some(Slot::Invalid(reason)) => {
                    return Err(WebhookError::InvalidKey {
                        kid: kid.to_owned(),
                        reason,
                    })
                }
                Some(Slot::Unknown { at }) if at.elapsed() < policy.unknown_ttl => {
                    return Err(WebhookError::UnknownKey {
                        kid: kid.to_owned(),
                    })
                }
                Some(Slot::Pending { fetch, id }) => {
                    // One more webhook presenting a key id that may be waiting for the budget.
                    let mut admission = self
                        .inner
                        .admission
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    if admission.waiting.contains_key(kid) {
                        admission.present(kid, Instant::now(), policy.waiting_keys);
                    }
                    (fetch.clone(), *id)
                }
                _ => {
                    if keys.len() >= policy.max_keys {
                        evict(&mut keys);
                    }
                    let id = self
                        .inner
                        .next_id
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let client = self.inner.client.clone();
                    let vouched = self
                        .inner
                        .vouched
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .contains(kid);
                    let fetch = if vouched {
                        fetch_key(client, kid.to_owned()).boxed()
                    } else {
                        let (inner, kid) = (Arc::downgrade(&self.inner), kid.to_owned());
                        async move {
                            if admit(inner, kid.clone()).await {
                                fetch_key(client, kid).await
                            } else {
                                Fetched::Limited
                            }
                        }
                        .boxed()
                    }
                    .shared();
                    keys.insert(
                        kid.to_owned(),
                        Slot::Pending {
                            fetch: fetch.clone(),
                            id,
                        },
                    );
                    (fetch, id)
                }
            }
        };
        let fetched = fetch.await;
        let mut keys = self.inner.keys.lock().unwrap_or_else(|p| p.into_inner());
        let still_ours =
            matches!(keys.get(kid), Some(Slot::Pending { id: current, .. }) if *current == id);
        let settled = match &fetched {
            Fetched::Key(key) => Some(Slot::Ready {
                key: key.clone(),
                at: Instant::now(),
            }),
            Fetched::Expired => Some(Slot::Expired),
            Fetched::Invalid(reason) => Some(Slot::Invalid(reason)),
            Fetched::Unknown => Some(Slot::Unknown { at: Instant::now() }),
            Fetched::Failed(_) | Fetched::Limited => None,
        };
        if let Fetched::Key(_) = &fetched {
            let mut vouched = self.inner.vouched.lock().unwrap_or_else(|p| p.into_inner());
            if vouched.len() >= self.inner.policy.max_keys {
                vouched.clear();
            }
            vouched.insert(kid.to_owned());
        }
        if still_ours {
            match settled {
                Some(slot) => keys.insert(kid.to_owned(), slot),
                // A transient failure is not cached: the next webhook tries again.
                None => keys.remove(kid),
            };
        }
        match fetched {
            Fetched::Key(key) => Ok(key),
            Fetched::Expired => Err(WebhookError::KeyExpired {
                kid: kid.to_owned(),
            }),
            Fetched::Invalid(reason) => Err(WebhookError::InvalidKey {
                kid: kid.to_owned(),
                reason,
            }),
            Fetched::Unknown => Err(WebhookError::UnknownKey {
                kid: kid.to_owned(),
            }),
            Fetched::Failed(e) => Err(WebhookError::KeyFetch(e)),
            Fetched::Limited => Err(WebhookError::KeyFetchLimited {
                kid: kid.to_owned(),
            }),
        }
    }
}

/// Makes room in a full cache: forgets unknown and settled-invalid `kid`s first, then the
/// oldest keys. Pending fetches stay.
fn evict(keys: &mut HashMap<String, Slot>) {
    keys.retain(|_, slot| {
        !matches!(
            slot,
            Slot::Unknown { .. } | Slot::Invalid(_) | Slot::Expired
        )
    });
    if let Some(oldest) = keys
        .iter()
        .filter_map(|(kid, slot)| match slot {
            Slot::Ready { at, .. } => Some((kid.clone(), *at)),
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

    /// How keys are fetched and cached.
    pub fn key_cache(mut self, policy: KeyCachePolicy) -> Self {
        self.policy = policy;
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
                vouched: Mutex::new(Default::default()),
                admission: Mutex::new(Admission::new(&self.policy)),
                next_id: std::sync::atomic::AtomicU64::new(0),
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

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Only whether it is there matters: no extension is implemented (RFC 7515 §4.1.11).
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
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

async fn fetch_key(client: PlaidClient, kid: String) -> Fetched {
    match client.send(&KeyGet { key_id: kid }).await {
        Ok(response) => parse_jwk(&response.key),
        Err(Error::Api(e))
            if e.error_code == ErrorCode::InvalidWebhookVerificationKeyId || e.status == 404 =>
        {
            Fetched::Unknown
        }
        Err(e) => Fetched::Failed(Arc::new(e)),
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
        assert_eq!(a.until_token(&p), Duration::from_secs(1));
        let later = a.refilled + Duration::from_millis(2500);
        a.refill(later, &p);
        assert!((a.tokens - 2.5).abs() < 1e-9);
        a.refill(later + Duration::from_secs(3600), &p);
        assert_eq!(a.tokens, 60.0, "never more than the burst");
        let none = policy(0, 4);
        let mut a = Admission::new(&none);
        a.refill(Instant::now() + Duration::from_secs(60), &none);
        assert_eq!(a.tokens, 0.0);
        assert_eq!(a.until_token(&none), Duration::from_secs(3600));
    }

    #[test]
    fn the_room_keeps_the_most_presented_ids_and_serves_them_first() {
        let p = policy(10, 3);
        let mut a = Admission::new(&p);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(a.present("genuine", at(0), 3));
        assert!(a.present("forged-1", at(1), 3));
        assert!(
            a.present("genuine", at(2), 3),
            "a second webhook with the same id"
        );
        assert!(a.present("forged-2", at(3), 3));
        assert_eq!(a.next(), Some("genuine"), "most presented first");
        // A full room: a newcomer displaces the oldest id presented once.
        assert!(a.present("forged-3", at(4), 3));
        assert!(!a.waiting.contains_key("forged-1"));
        assert!(
            a.waiting.contains_key("genuine"),
            "never displaced by ids seen once"
        );
        a.waiting.remove("genuine");
        assert_eq!(a.next(), Some("forged-3"), "the newest among equals");
        // A room where every id was presented twice turns a newcomer away.
        let mut a = Admission::new(&p);
        for kid in ["a", "b", "c", "a", "b", "c"] {
            assert!(a.present(kid, at(0), 3));
        }
        assert!(!a.present("d", at(1), 3));
        assert!(!Admission::new(&p).present("x", at(0), 0), "no room at all");
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
