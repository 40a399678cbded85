//! The client: configuration, credentials, and the one path every call takes (headers, retries,
//! timeouts, tracing, errors).

use crate::error::{ApiError, ConfigError, Error, NetworkError};
use crate::hook::{Attempt, AttemptOutcome, CallHook, FailureKind};
use crate::operation::{
    sniff_request_id, Operation, OperationInfo, OperationKind, RawResponse, ResponseKind,
};
use crate::retry::{self, BudgetPool, Decision, Outcome, RetryPolicy};
use crate::secret::{is_clean, scrub, ClientSecret};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// The Plaid API version every request asks for (`Plaid-Version`).
pub const API_VERSION: &str = "2020-09-14";

/// The largest error body the client reads; the rest is discarded.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The default cap on a JSON response body. Plaid's largest paged answers are about 1 MB (a
/// 500-transaction `/transactions/sync` or `/transactions/get` page: 0.97 MB); the largest
/// unpaged ones are reports: an Asset Report of 731 days over several Items carries every
/// transaction and a daily balance per account, tens of MB at the extreme. 64 MiB leaves room
/// for that and still bounds what a hostile or broken server can make the client hold.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;
/// The default cap on a file download (the PDF and ZIP operations): report PDFs of a few
/// hundred pages and statement archives, with the same margin.
pub const DEFAULT_MAX_FILE_BYTES: usize = 256 << 20;

/// Where the client sends requests.
///
/// `Debug` never prints credentials a `Custom` URL may carry (the client refuses such a URL
/// anyway: see [`Environment::parse`]).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// `https://sandbox.plaid.com`: test data, free.
    Sandbox,
    /// `https://production.plaid.com`: real data.
    Production,
    /// Any other base URL: a mock server, a proxy, the offline sandbox. It goes through the
    /// same checks as [`Environment::parse`] when the client is built.
    Custom(url::Url),
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Sandbox => f.write_str("Sandbox"),
            Environment::Production => f.write_str("Production"),
            Environment::Custom(url) => f
                .debug_tuple("Custom")
                .field(&without_credentials(url).as_str())
                .finish(),
        }
    }
}

/// `url` with any user name and password replaced by `[redacted]`, for messages.
fn without_credentials(url: &url::Url) -> url::Url {
    let mut shown = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        // Both only fail for URLs that cannot have credentials, which then have none.
        let _ = shown.set_username("[redacted]");
        let _ = shown.set_password(None);
    }
    shown
}

/// A value from a caller or the environment, fit to quote in a message: the part before an
/// `@` (where a URL keeps its credentials) is left out; a long value that is not a URL is
/// only counted, since it may be a secret in the wrong place (review round 15: `PLAID_ENV`
/// and `PLAID_SECRET` swapped in a `.env` file printed the secret). A misspelt environment
/// (`"sandox"`) is short, and shown.
fn quoted(value: &str) -> String {
    const SHOWN: usize = 16;
    match value.rfind('@') {
        Some(at) => format!("\"[redacted]{}\"", value[at..].escape_debug()),
        None if value.contains("://") || value.chars().count() <= SHOWN => format!("{value:?}"),
        None => format!(
            "a value of {} characters (not shown: it may be a secret)",
            value.chars().count()
        ),
    }
}

/// The checks every base URL passes, however it reached the client ([`Environment::parse`],
/// [`ClientBuilder::base_url`], or [`Environment::Custom`] given directly): http(s), a host,
/// no credentials (they would be sent to the server and printed), no query or fragment (the
/// operation's path is appended to the URL, so a query would swallow it:
/// `POST /base?tenant=1/accounts/get`).
fn check_base_url(url: &url::Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL scheme must be http or https, not {}",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL must not contain credentials; the client sends them as headers".into(),
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or fragment".into());
    }
    Ok(())
}

impl Environment {
    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> String {
        match self {
            Environment::Sandbox => "https://sandbox.plaid.com".to_owned(),
            Environment::Production => "https://production.plaid.com".to_owned(),
            Environment::Custom(url) => url.as_str().trim_end_matches('/').to_owned(),
        }
    }

    /// Parses `sandbox`, `production` (any case) or an `http(s)://` base URL.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "sandbox" => return Ok(Environment::Sandbox),
            "production" => return Ok(Environment::Production),
            "development" => {
                return Err(
                    "Plaid retired the development environment; use sandbox or production".into(),
                )
            }
            _ => {}
        }
        if !value.contains("://") {
            return Err(format!(
                "expected sandbox, production or an http(s):// URL, got {}",
                quoted(value)
            ));
        }
        let url = url::Url::parse(value).map_err(|e| format!("not a valid URL: {e}"))?;
        check_base_url(&url)?;
        Ok(Environment::Custom(url))
    }
}

/// [`Environment::parse`] as `str::parse`, its error a [`ConfigError::Invalid`] of the
/// `environment` setting, so that `?` makes it an [`Error`] and argument parsers take it.
///
/// ```
/// # fn run() -> Result<(), plaid_sdk::Error> {
/// use plaid_sdk::Environment;
/// let environment: Environment = "sandbox".parse()?;
/// assert_eq!(environment, Environment::Sandbox);
/// let wrong = "sandox".parse::<Environment>().unwrap_err();
/// assert!(wrong.to_string().starts_with("invalid environment: expected sandbox, production"));
/// # Ok(()) }
/// # run().unwrap();
/// ```
impl std::str::FromStr for Environment {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, ConfigError> {
        Environment::parse(value).map_err(|reason| ConfigError::Invalid {
            setting: "environment",
            reason,
        })
    }
}

/// Builds a [`PlaidClient`].
///
/// The client follows no redirect (Plaid's API never sends one; a `3xx` answer is
/// [`Error::Redirect`]), reads every response body under a cap
/// ([`max_response_bytes`](Self::max_response_bytes), [`max_file_bytes`](Self::max_file_bytes)),
/// refuses a plain `http://` base URL to any host but loopback unless you name the host
/// ([`allow_insecure_http`](Self::allow_insecure_http)), and sends a plain `http://` request
/// through no proxy from the environment (see [`http_client`](Self::http_client)). `Debug`
/// shows the settings with the secret redacted.
///
/// ```no_run
/// use plaid_sdk::{Environment, PlaidClient, RetryPolicy};
/// use std::time::Duration;
/// # fn main() -> Result<(), plaid_sdk::Error> {
/// let client = PlaidClient::builder()
///     .client_id("your-client-id")
///     .secret("your-sandbox-secret")
///     .environment(Environment::Sandbox)
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default().max_attempts(4))
///     .build()?;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    client_id: Option<String>,
    secret: Option<ClientSecret>,
    environment: Option<Result<Environment, String>>,
    http: Option<reqwest::ClientBuilder>,
    insecure_hosts: Vec<String>,
    max_response_bytes: usize,
    max_file_bytes: usize,
    connect_timeout: Duration,
    timeout: Duration,
    slow_timeout: Duration,
    retry: RetryPolicy,
    user_agent: Option<String>,
    hooks: Vec<Arc<dyn CallHook>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .field("environment", &self.environment)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("slow_timeout", &self.slow_timeout)
            .field("retry", &self.retry)
            .field("insecure_hosts", &self.insecure_hosts)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_file_bytes", &self.max_file_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            client_id: None,
            secret: None,
            environment: None,
            http: None,
            insecure_hosts: Vec::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            slow_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            user_agent: None,
            hooks: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// Your Plaid `client_id` (required).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Your Plaid secret for the chosen environment (required).
    pub fn secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Where requests go (default: [`Environment::Sandbox`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(Ok(environment));
        self
    }

    /// Sends requests to this base URL: a mock server, a proxy or the offline sandbox. An
    /// invalid URL is reported by [`build`](Self::build).
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        let url = url.as_ref();
        self.environment = Some(if url.contains("://") {
            Environment::parse(url)
        } else {
            Err(format!("expected an http(s):// URL, got {}", quoted(url)))
        });
        self
    }

    /// Builds the HTTP client from your `reqwest::ClientBuilder` (proxies, custom TLS roots,
    /// connection pool settings). The connect timeout is then the one you set on it; the
    /// per-call timeouts still apply.
    ///
    /// It takes the builder, not a built `reqwest::Client`, because the client must not follow
    /// redirects, and a built client's redirect policy can be neither read nor changed: a
    /// redirect from the base URL to another host would carry `PLAID-CLIENT-ID` and
    /// `PLAID-SECRET` there (reqwest strips only the standard sensitive headers), and on
    /// `307`/`308` the body with its access token. [`build`](Self::build) sets
    /// `redirect::Policy::none()` on your builder last, over any policy you set, and a floor
    /// of TLS 1.2.
    ///
    /// Proxies: over `https://` (Plaid's own URLs) a proxy sees only the `CONNECT` to the
    /// host, so the proxies named by `HTTPS_PROXY`/`ALL_PROXY` are used as reqwest uses them.
    /// Over a plain `http://` base URL (loopback, or a host named with
    /// [`allow_insecure_http`](Self::allow_insecure_http)) a proxy would receive the
    /// credentials and the body in clear, so the environment's proxies (`HTTP_PROXY`,
    /// `ALL_PROXY`, …) are never used: the request goes straight to that host, unless you
    /// name a proxy on this builder yourself, which is then the request's first hop and
    /// sees everything.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), plaid_sdk::Error> {
    /// let proxy = reqwest::Proxy::https("http://proxy.internal:3128").expect("a proxy URL");
    /// let client = plaid_sdk::PlaidClient::builder()
    ///     .client_id("your-client-id")
    ///     .secret("your-secret")
    ///     .http_client(reqwest::Client::builder().proxy(proxy))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(builder);
        self
    }

    /// Allows a plain `http://` base URL to this host (a TLS-terminating proxy on a private
    /// network, say). Without it, `build` refuses `http://` to any host but loopback
    /// (`localhost`, `127.0.0.0/8`, `::1`), since the client secret would cross the network in
    /// clear. Name the host exactly as in the URL; each call adds one. Requests to it never
    /// go through a proxy from the environment (see [`http_client`](Self::http_client)).
    pub fn allow_insecure_http(mut self, host: impl Into<String>) -> Self {
        self.insecure_hosts.push(host.into());
        self
    }

    /// The largest JSON response body a call accepts (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB). A larger one, or one that declares a larger
    /// `Content-Length`, ends the call with [`Error::ResponseTooLarge`] without being read
    /// further; the connection is dropped.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The largest file (the PDF and ZIP operations) a call accepts (default
    /// [`DEFAULT_MAX_FILE_BYTES`], 256 MiB), with the same behaviour as
    /// [`max_response_bytes`](Self::max_response_bytes).
    pub fn max_file_bytes(mut self, bytes: usize) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a call may take in all, connection to last byte, per attempt (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout for the operations Plaid documents as slow (default 300 s): every one whose
    /// spec description warns of its latency (`/accounts/balance/get`, the `…/refresh` calls,
    /// `/investments/transactions/get`, `/signal/evaluate`, their processor twins), and
    /// `/processor/balance/get`. [`OperationInfo::slow`](crate::OperationInfo::slow) tells.
    pub fn slow_timeout(mut self, timeout: Duration) -> Self {
        self.slow_timeout = timeout;
        self
    }

    /// When and how calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Adds a [`CallHook`](crate::hook::CallHook), which sees every attempt of every call (the
    /// operation, the attempt number, the status, Plaid's `request_id`, the latency, the kind
    /// of failure) and may add headers. Hooks run in the order added.
    pub fn hook(mut self, hook: impl CallHook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Appends a product token to the `User-Agent` (`my-app/1.2`).
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Builds the client, checking every setting.
    pub fn build(self) -> Result<PlaidClient, Error> {
        let client_id = self.client_id.ok_or(ConfigError::Missing {
            setting: "client_id",
        })?;
        let secret = self
            .secret
            .ok_or(ConfigError::Missing { setting: "secret" })?;
        let environment = match self.environment {
            None => Environment::Sandbox,
            Some(Ok(env)) => env,
            Some(Err(reason)) => {
                return Err(ConfigError::Invalid {
                    setting: "base_url",
                    reason,
                }
                .into())
            }
        };
        let invalid = |setting: &'static str, reason: &str| ConfigError::Invalid {
            setting,
            reason: reason.to_owned(),
        };
        if let Environment::Custom(url) = &environment {
            check_base_url(url).map_err(|reason| invalid("base_url", &reason))?;
        }
        if let Some(reason) = insecure_http(&environment, &self.insecure_hosts) {
            return Err(invalid("base_url", &reason).into());
        }
        if client_id.trim().is_empty() {
            return Err(invalid("client_id", "it is empty").into());
        }
        if secret.is_empty() {
            return Err(invalid("secret", "it is empty").into());
        }
        if crate::secret::is_placeholder(secret.expose_secret()) {
            return Err(invalid("secret", crate::secret::PLACEHOLDER_SETTING).into());
        }
        let mut headers = HeaderMap::new();
        let id = HeaderValue::from_str(&client_id).map_err(|_| {
            invalid(
                "client_id",
                "it contains characters not allowed in an HTTP header",
            )
        })?;
        let mut key = HeaderValue::from_str(secret.expose_secret()).map_err(|_| {
            invalid(
                "secret",
                "it contains characters not allowed in an HTTP header",
            )
        })?;
        key.set_sensitive(true);
        let mut agent = format!("plaid-sdk-rust/{}", env!("CARGO_PKG_VERSION"));
        if let Some(product) = &self.user_agent {
            agent.push(' ');
            agent.push_str(product);
        }
        let agent = HeaderValue::from_str(&agent)
            .map_err(|_| invalid("user_agent", "it is not a valid header value"))?;
        headers.insert(HeaderName::from_static("plaid-client-id"), id);
        headers.insert(HeaderName::from_static("plaid-secret"), key);
        headers.insert(
            HeaderName::from_static("plaid-version"),
            HeaderValue::from_static(API_VERSION),
        );
        headers.insert(reqwest::header::USER_AGENT, agent);
        let plain_http = matches!(&environment, Environment::Custom(url) if url.scheme() == "http");
        let http = match self.http {
            Some(theirs) if plain_http => {
                // A proxy the caller named on this builder is theirs to choose; one from
                // the environment is not (see `http_client`). Adding any proxy turns the
                // environment's off, and this one routes nothing.
                theirs.proxy(reqwest::Proxy::custom(|_| None::<url::Url>))
            }
            Some(theirs) => theirs,
            None => {
                let ours = reqwest::Client::builder().connect_timeout(self.connect_timeout);
                if plain_http {
                    ours.no_proxy()
                } else {
                    ours
                }
            }
        };
        let http = tls_floor(http)
            // Last, over anything the caller set: see `http_client`.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Http(e.without_url()))?;
        Ok(PlaidClient {
            inner: Arc::new(Inner {
                http,
                base_url: environment.base_url(),
                client_id,
                secret,
                headers,
                timeout: self.timeout,
                slow_timeout: self.slow_timeout,
                retry: self.retry,
                budget: self.retry.budget().map(BudgetPool::new),
                hooks: self.hooks,
                max_response_bytes: self.max_response_bytes,
                max_file_bytes: self.max_file_bytes,
            }),
            overrides: Overrides::default(),
        })
    }
}

/// A client for the whole Plaid API: one method per operation, plus [`send`](Self::send) for
/// any request type.
///
/// Cheap to clone (an `Arc` inside) and safe to share between tasks; reuse one for the
/// connection pool. `Debug` shows the configuration with the secret redacted.
///
/// ```no_run
/// use plaid_sdk::{types::AccountsGetRequest, AccessToken, PlaidClient};
/// # async fn run() -> Result<(), plaid_sdk::Error> {
/// let client = PlaidClient::from_env()?;
/// let token = AccessToken::new("access-sandbox-…");
/// let accounts = client.accounts_get(&AccountsGetRequest::new(token)).await?;
/// for account in &accounts.accounts {
///     println!("{} {:?}", account.name, account.balances.current);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PlaidClient {
    inner: Arc<Inner>,
    overrides: Overrides,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    client_id: String,
    secret: ClientSecret,
    headers: HeaderMap,
    timeout: Duration,
    slow_timeout: Duration,
    retry: RetryPolicy,
    /// The tokens of the retry budget every call of this client shares, if it has one.
    budget: Option<BudgetPool>,
    hooks: Vec<Arc<dyn CallHook>>,
    max_response_bytes: usize,
    max_file_bytes: usize,
}

/// TLS 1.2 at least, whichever TLS backend is compiled in: rustls never offers less, but a
/// platform library (`native-tls`) may allow TLS 1.0 and 1.1 unless told otherwise.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn tls_floor(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder.tls_version_min(reqwest::tls::Version::TLS_1_2)
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn tls_floor(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder
}

/// Why a `http://` base URL must not be used, if it must not: its host is neither loopback nor
/// named by `allow_insecure_http`.
fn insecure_http(environment: &Environment, allowed: &[String]) -> Option<String> {
    let Environment::Custom(url) = environment else {
        return None;
    };
    if url.scheme() != "http" {
        return None;
    }
    let loopback = match url.host()? {
        url::Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let host = url.host_str()?;
    if loopback || allowed.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return None;
    }
    Some(format!(
        "plain http:// to {host} would send the client secret in clear; use https, or name \
         the host with ClientBuilder::allow_insecure_http if the network is yours"
    ))
}

/// Headers a hook may not set: they frame the request (`Content-Length` shorter than the body
/// would cut it, and the rest would be read as a second request), route it (`Host`), or
/// describe a connection the client manages. reqwest and hyper set them from the request.
const HOOK_RESERVED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// One call, ready to send (and to send again).
struct Call {
    info: &'static OperationInfo,
    method: reqwest::Method,
    path: std::borrow::Cow<'static, str>,
    headers: HeaderMap,
    body: Option<Bytes>,
    /// When it may be sent again.
    repeat: retry::Repeat,
}

/// Per-call settings from [`PlaidClient::with_timeout`] and friends.
#[derive(Clone, Copy, Default, Debug)]
struct Overrides {
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
}

impl fmt::Debug for PlaidClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlaidClient")
            .field("base_url", &self.inner.base_url)
            .field("client_id", &self.inner.client_id)
            .field("secret", &self.inner.secret)
            .field("timeout", &self.inner.timeout)
            .field("slow_timeout", &self.inner.slow_timeout)
            .field("retry", &self.inner.retry)
            .field("overrides", &self.overrides)
            .finish()
    }
}

impl PlaidClient {
    /// Starts a [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from `PLAID_CLIENT_ID`, `PLAID_SECRET` and `PLAID_ENV` (`sandbox`, the
    /// default when unset; `production`; or a base URL). A missing or malformed variable is an
    /// error naming it.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), plaid_sdk::Error> {
    /// let client = plaid_sdk::PlaidClient::from_env()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_with(std::env::var)
    }

    /// [`from_env`](Self::from_env), reading variables through `var` (for tests).
    pub(crate) fn from_env_with(
        var: impl Fn(&'static str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, Error> {
        let read =
            |name: &'static str, hint: &'static str| -> Result<Option<String>, ConfigError> {
                match var(name) {
                    Ok(v) if v.trim().is_empty() => Ok(None),
                    Ok(v) => Ok(Some(v.trim().to_owned())),
                    Err(std::env::VarError::NotPresent) => Ok(None),
                    Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::InvalidVar {
                        name,
                        reason: format!("it is not valid UTF-8 ({hint})"),
                    }),
                }
            };
        const ID_HINT: &str = "your Plaid client_id, from the Plaid dashboard's Keys page";
        const SECRET_HINT: &str = "your Plaid secret for the environment in PLAID_ENV";
        const ENV_HINT: &str = "sandbox, production, or a base URL";
        // Every variable is read and checked before any is reported, so that a person sees
        // every problem at once, in the order they would fix them: the environment first
        // (which Plaid), then the keys for it.
        let mut problems = Vec::new();
        let mut keep = |result: Result<Option<String>, ConfigError>| match result {
            Ok(value) => value,
            Err(e) => {
                problems.push(e);
                None
            }
        };
        let env_value = keep(read("PLAID_ENV", ENV_HINT));
        let client_id = keep(read("PLAID_CLIENT_ID", ID_HINT));
        let secret = keep(read("PLAID_SECRET", SECRET_HINT));
        let environment = match env_value {
            None => Some(Environment::Sandbox),
            Some(value) => match Environment::parse(&value) {
                Ok(environment) => Some(environment),
                Err(reason) => {
                    problems.push(ConfigError::InvalidVar {
                        name: "PLAID_ENV",
                        reason,
                    });
                    None
                }
            },
        };
        let mut check = |name: &'static str, hint: &'static str, value: &Option<String>| {
            let reason = match value {
                None => {
                    // Not set (or not UTF-8, reported above).
                    if !problems.iter().any(|p| p.names(name)) {
                        problems.push(ConfigError::MissingVar { name, hint });
                    }
                    return;
                }
                Some(v) if HeaderValue::from_str(v).is_err() => {
                    "it contains characters not allowed in an HTTP header"
                }
                Some(v) if crate::secret::is_placeholder(v) => crate::secret::PLACEHOLDER_SETTING,
                Some(_) => return,
            };
            problems.push(ConfigError::InvalidVar {
                name,
                reason: reason.to_owned(),
            });
        };
        check("PLAID_CLIENT_ID", ID_HINT, &client_id);
        check("PLAID_SECRET", SECRET_HINT, &secret);
        let (Some(environment), Some(client_id), Some(secret), true) =
            (environment, client_id, secret, problems.is_empty())
        else {
            return Err(ConfigError::from_problems(problems).into());
        };
        Self::builder()
            .client_id(client_id)
            .secret(secret)
            .environment(environment)
            .build()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// A handle to the same client whose calls use this timeout (per attempt), slow operations
    /// included.
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient, req: plaid_sdk::types::AccountsBalanceGetRequest) -> Result<(), plaid_sdk::Error> {
    /// use std::time::Duration;
    /// let balances = client.with_timeout(Duration::from_secs(120)).accounts_balance_get(&req).await?;
    /// # Ok(()) }
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        let mut client = self.clone();
        client.overrides.timeout = Some(timeout);
        client
    }

    /// A handle to the same client whose calls use this retry policy.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        let mut client = self.clone();
        client.overrides.retry = Some(policy);
        client
    }

    /// The retry policy this handle's calls use.
    pub(crate) fn effective_retry_policy(&self) -> RetryPolicy {
        self.overrides.retry.unwrap_or(self.inner.retry)
    }

    /// The client's retry budget, if the policy in force uses one.
    pub(crate) fn budget_pool(&self) -> Option<&BudgetPool> {
        self.inner
            .budget
            .as_ref()
            .filter(|_| self.effective_retry_policy().budget().is_some())
    }

    /// A handle to the same client whose calls are attempted once. Drivers made of several
    /// calls keep their own settings: a `/transactions/sync` loop still asks again for a failed
    /// page unless its [`max_retries`](crate::sync::TransactionsSync::max_retries) is `0`.
    pub fn without_retries(&self) -> Self {
        self.with_retry_policy(RetryPolicy::none())
    }

    /// Sends any request type of the API (every generated `…Request`, or your own
    /// [`Operation`]). The per-operation methods call this.
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient) -> Result<(), plaid_sdk::Error> {
    /// use plaid_sdk::types::{CountryCode, InstitutionsGetRequest};
    /// let page = client.send(&InstitutionsGetRequest::new(10, 0, vec![CountryCode::Us])).await?;
    /// println!("{} institutions", page.total);
    /// # Ok(()) }
    /// ```
    pub async fn send<O: Operation>(&self, request: &O) -> Result<O::Response, Error> {
        let info = O::INFO;
        if let Err(message) = request.validate() {
            return Err(Error::InvalidRequest {
                operation: info.name,
                message,
            });
        }
        if request.idempotency_key() == Some("") {
            return Err(Error::InvalidRequest {
                operation: info.name,
                message: "idempotency_key is empty: set a key unique to this write, or leave it \
                          unset where it is optional and the client makes one"
                    .to_owned(),
            });
        }
        // A write whose request takes an optional idempotency key the caller left empty gets
        // one, the same on every attempt of this call and new for the next call, so that it
        // can be retried like a read.
        let generated_key = (info.optional_idempotency_key && request.idempotency_key().is_none())
            .then(crate::operation::new_idempotency_key);
        let body = if info.has_body {
            let mut json = serde_json::to_vec(request).map_err(|e| Error::InvalidRequest {
                operation: info.name,
                message: format!("the request cannot be serialized: {e}"),
            })?;
            if let Some(key) = &generated_key {
                json = crate::operation::with_idempotency_key(json, key);
                tracing::debug!(operation = info.name, idempotency_key = %key, "generated an idempotency key");
            }
            Some(Bytes::from(json))
        } else {
            None
        };
        let mut headers = HeaderMap::new();
        for (name, value) in request.headers() {
            let invalid = |what: &str| Error::InvalidRequest {
                operation: info.name,
                message: format!("header {name}: {what}"),
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("not a valid header name"))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| invalid("its value has characters not allowed in a header"))?;
            headers.insert(name, value);
        }
        let method = reqwest::Method::from_bytes(info.method.as_bytes()).map_err(|_| {
            Error::InvalidRequest {
                operation: info.name,
                message: format!("{:?} is not an HTTP method", info.method),
            }
        })?;
        let call = Call {
            info,
            method,
            path: request.path(),
            headers,
            body,
            // A call whose key Plaid honours only after a wait (`key_retry_delay`) is not
            // repeated here: the client's retries would come sooner.
            repeat: if info.key_retry_delay.is_some() {
                retry::Repeat::Never
            } else if info.kind == OperationKind::Read
                || request.idempotency_key().is_some()
                || generated_key.is_some()
            {
                retry::Repeat::Always
            } else if info.kind == OperationKind::BilledRead {
                retry::Repeat::AfterRefusal
            } else {
                retry::Repeat::Never
            },
        };
        let result = match self.execute(call).await {
            Ok(raw) => O::decode(raw),
            Err(e) => Err(e),
        };
        result.map_err(|e| self.scrub_error(e))
    }

    /// Scrubs an error of tokens and the client secret, in every string it holds (see
    /// [`Error::scrubbed`]). Every error the client makes passes through here before it is
    /// logged or returned.
    pub(crate) fn scrub_error(&self, e: Error) -> Error {
        e.scrubbed(&[self.inner.secret.expose_secret()])
    }

    pub(crate) fn timeout_for(&self, info: &OperationInfo) -> Duration {
        self.overrides.timeout.unwrap_or(if info.slow {
            self.inner.slow_timeout
        } else {
            self.inner.timeout
        })
    }

    /// Sends one call, retrying under the policy. Not generic, so its code exists once however
    /// many operations there are.
    async fn execute(&self, call: Call) -> Result<RawResponse, Error> {
        let info = call.info;
        let policy = self.overrides.retry.unwrap_or(self.inner.retry);
        let timeout = self.timeout_for(info);
        let span = tracing::info_span!(
            "plaid.request",
            operation = info.name,
            path = info.path,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let budget = self.budget_pool();
        async move {
            let mut attempt = 1;
            // What this call's retries took from the budget, returned if it succeeds.
            let mut spent: u32 = 0;
            loop {
                tracing::Span::current().record("attempt", attempt);
                let number = Attempt {
                    operation: info.name,
                    path: info.path,
                    number: attempt,
                };
                let mut extra = HeaderMap::new();
                for hook in &self.inner.hooks {
                    hook.before_attempt(&number, &mut extra);
                }
                let started = std::time::Instant::now();
                let in_flight = InFlight {
                    hooks: &self.inner.hooks,
                    attempt: number,
                    started,
                };
                let (result, outcome) = self.attempt(&call, timeout, extra).await;
                in_flight.answered();
                if !self.inner.hooks.is_empty() {
                    self.report(&number, &result, outcome, started.elapsed());
                }
                match retry::decide(&policy, attempt, call.repeat, outcome, retry::jitter()) {
                    Decision::Retry(wait) => {
                        // Held through the wait: a caller that gives up then (a timeout, a
                        // `select!`, a dropped request) gets the tokens back.
                        let reserved = match budget {
                            Some(pool) => {
                                match pool.spend(matches!(result, Err(Error::Timeout { .. }))) {
                                    Some(reserved) => Some(reserved),
                                    None => {
                                        tracing::warn!(attempt, tokens_left = pool.left(), error = %DisplayErr(&result), "not retrying: the client's retry budget is spent");
                                        return result;
                                    }
                                }
                            }
                            None => None,
                        };
                        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %DisplayErr(&result), "retrying");
                        tokio::time::sleep(wait).await;
                        spent = spent.saturating_add(reserved.map_or(0, retry::Reserved::sent));
                        attempt += 1;
                    }
                    Decision::Stop => {
                        if let (Some(pool), Ok(_)) = (budget, &result) {
                            pool.refund(spent);
                        }
                        return result;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Tells the hooks how an attempt ended.
    fn report(
        &self,
        attempt: &Attempt,
        result: &Result<RawResponse, Error>,
        outcome: Outcome,
        latency: Duration,
    ) {
        let secrets = [self.inner.secret.expose_secret()];
        let (status, request_id, failure) = match result {
            Ok(raw) => (
                Some(raw.status),
                sniff_request_id(&raw.body).filter(|id| is_clean(id, &secrets)),
                None,
            ),
            Err(e) => {
                let status = match outcome {
                    Outcome::Status { status, .. } => Some(status),
                    _ => e.status(),
                };
                (status, e.request_id(), Some(FailureKind::of(e)))
            }
        };
        let outcome = AttemptOutcome {
            status,
            request_id,
            latency,
            failure,
        };
        for hook in &self.inner.hooks {
            hook.after_attempt(attempt, &outcome);
        }
    }

    /// One attempt: the result, and what it means for retrying. `extra` holds the headers the
    /// hooks added.
    async fn attempt(
        &self,
        call: &Call,
        timeout: Duration,
        extra: HeaderMap,
    ) -> (Result<RawResponse, Error>, Outcome) {
        let info = call.info;
        let url = format!("{}{}", self.inner.base_url, call.path);
        // One map, built in order: the hooks' headers first, less the ones that frame or
        // route the request; then the client's own (the credentials among them), `Accept`,
        // `Content-Type` and the request's parameters, each replacing any of the same name.
        let mut headers = extra;
        for name in HOOK_RESERVED {
            headers.remove(*name);
        }
        for (name, value) in &self.inner.headers {
            headers.insert(name, value.clone());
        }
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static(info.accept),
        );
        if call.body.is_some() {
            headers.insert(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        } else {
            headers.remove(reqwest::header::CONTENT_TYPE);
        }
        for (name, value) in &call.headers {
            headers.insert(name, value.clone());
        }
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .headers(headers)
            .timeout(timeout);
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return transport_error(info, e, timeout),
        };
        let status = response.status().as_u16();
        let span = tracing::Span::current();
        span.record("status", status);
        if response.status().is_redirection() {
            // Only the host of the Location: its path or query may carry anything.
            let location_host = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|location| response.url().join(location).ok())
                .and_then(|url| url.host_str().map(str::to_owned));
            let error = Error::Redirect {
                operation: info.name,
                status,
                location_host,
            };
            return (Err(self.scrub_error(error)), Outcome::Final);
        }
        if response.status().is_success() {
            let limit = match info.response {
                ResponseKind::Binary => self.inner.max_file_bytes,
                _ => self.inner.max_response_bytes,
            };
            return match read_body(response, limit).await {
                Ok(body) => {
                    if !span.is_disabled() {
                        let secrets = [self.inner.secret.expose_secret()];
                        if let Some(id) =
                            sniff_request_id(&body).filter(|id| is_clean(id, &secrets))
                        {
                            span.record("request_id", id);
                        }
                    }
                    (
                        Ok(RawResponse {
                            operation: info.name,
                            status,
                            body,
                        }),
                        Outcome::Final,
                    )
                }
                Err(BodyError::TooLarge) => (
                    Err(Error::ResponseTooLarge {
                        operation: info.name,
                        status,
                        limit,
                    }),
                    Outcome::Final,
                ),
                Err(BodyError::Transport(e)) => transport_error(info, e, timeout),
            };
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, chrono::Utc::now()));
        let body = match read_capped(response, MAX_ERROR_BODY).await {
            Ok(body) => body,
            Err(e) => return transport_error(info, e, timeout),
        };
        let error = self.error_from_body(info, status, retry_after, &body, call.body.as_deref());
        if let Some(id) = error.request_id() {
            span.record("request_id", id);
        }
        // Plaid's error says no wait helps (`CREDITS_EXHAUSTED` is a 429): not repeated.
        let outcome = match &error {
            Error::Api(e) if !e.is_retryable() => Outcome::Final,
            _ => Outcome::Status {
                status,
                retry_after,
                plaid: matches!(error, Error::Api(_)),
            },
        };
        (Err(error), outcome)
    }

    /// Maps an error response: Plaid's error object when the body is one, else the status, the
    /// page's title (unless it repeats a value of `request`) and the body kept out of sight.
    /// Every string from the body is scrubbed of tokens and the client secret here, before
    /// the error is logged or returned.
    fn error_from_body(
        &self,
        info: &'static OperationInfo,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
        request: Option<&[u8]>,
    ) -> Error {
        let error = match crate::de::parse_json::<ApiError>(body) {
            Some(mut e) => {
                e.status = status;
                e.operation = info.name;
                e.retry_after = retry_after;
                Error::Api(Box::new(e))
            }
            None => {
                let text = scrub(
                    &String::from_utf8_lossy(body),
                    &[self.inner.secret.expose_secret()],
                );
                let values = request
                    .map(crate::error::request_values)
                    .unwrap_or_default();
                Error::Http {
                    operation: info.name,
                    status,
                    title: crate::error::page_title(&text, &values),
                    body: crate::error::ErrorBody(text),
                    retry_after,
                }
            }
        };
        self.scrub_error(error)
    }
}

/// Why a success body was not read whole.
enum BodyError {
    /// It is larger than the cap (by its `Content-Length`, or as it arrived).
    TooLarge,
    /// The connection failed while reading it.
    Transport(reqwest::Error),
}

/// Reads a whole body of at most `limit` bytes. A declared `Content-Length` over the limit is
/// refused before anything is read; a body that grows past it is abandoned at that chunk. On
/// either, the response is dropped unread, which closes its connection instead of returning it
/// to the pool, so memory stays within the limit and one chunk.
async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Bytes, BodyError> {
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if chunk.len() > limit - body.len() {
            return Err(BodyError::TooLarge);
        }
        if body.is_empty() && declared == Some(chunk.len() as u64) {
            // The whole body in one chunk: no copy.
            return Ok(chunk);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// Reads at most `cap` bytes of a body, discarding the rest.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

fn transport_error(
    info: &'static OperationInfo,
    e: reqwest::Error,
    timeout: Duration,
) -> (Result<RawResponse, Error>, Outcome) {
    if e.is_connect() {
        (
            Err(Error::Connect {
                operation: info.name,
                source: NetworkError::new(e),
            }),
            Outcome::ConnectFailed,
        )
    } else if e.is_timeout() {
        (
            Err(Error::Timeout {
                operation: info.name,
                timeout,
            }),
            Outcome::Interrupted,
        )
    } else {
        (
            Err(Error::Transport {
                operation: info.name,
                source: NetworkError::new(e),
            }),
            Outcome::Interrupted,
        )
    }
}

/// An attempt in flight, for the hooks: dropped before [`InFlight::answered`] (the caller
/// dropped the call: a `timeout`, a `select!`, a cancelled handler), it reports the attempt as
/// [`FailureKind::Cancelled`], so every `before_attempt` has its `after_attempt`.
struct InFlight<'a> {
    hooks: &'a [Arc<dyn CallHook>],
    attempt: Attempt,
    started: std::time::Instant,
}

impl InFlight<'_> {
    /// The attempt ended with an answer or an error: the caller reports it.
    fn answered(self) {
        std::mem::forget(self);
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        // Dropped while unwinding from a panic: a hook that panicked too would abort.
        if std::thread::panicking() {
            return;
        }
        let outcome = AttemptOutcome {
            status: None,
            request_id: None,
            latency: self.started.elapsed(),
            failure: Some(FailureKind::Cancelled),
        };
        for hook in self.hooks {
            hook.after_attempt(&self.attempt, &outcome);
        }
    }
}

/// Displays the error of a result for a log line.
struct DisplayErr<'a>(&'a Result<RawResponse, Error>);

impl fmt::Display for DisplayErr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(_) => f.write_str("ok"),
            Err(e) => fmt::Display::fmt(e, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::env::VarError;

    fn env<'a>(
        vars: &'a [(&'static str, &'a str)],
    ) -> impl Fn(&'static str) -> Result<String, VarError> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
                .ok_or(VarError::NotPresent)
        }
    }

    fn config_error(result: Result<PlaidClient, Error>) -> ConfigError {
        match result {
            Err(Error::Config(e)) => e,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn from_env_reads_all_three_variables() {
        let c = PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id"),
            ("PLAID_SECRET", "s3cr3t"),
            ("PLAID_ENV", "Production"),
        ]))
        .unwrap();
        assert_eq!(c.base_url(), "https://production.plaid.com");
        let c = PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id"),
            ("PLAID_SECRET", "s3cr3t"),
        ]))
        .unwrap();
        assert_eq!(
            c.base_url(),
            "https://sandbox.plaid.com",
            "sandbox when PLAID_ENV is unset"
        );
        let c = PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id"),
            ("PLAID_SECRET", "s"),
            ("PLAID_ENV", "http://127.0.0.1:8080/"),
        ]))
        .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
    }

    /// Issue 30: with `PLAID_ENV=sandox` and no keys, the typo was reported only once keys
    /// were set. Every problem is reported at once, the environment first.
    #[test]
    fn from_env_reports_every_problem_at_once_environment_first() {
        let e = config_error(PlaidClient::from_env_with(env(&[("PLAID_ENV", "sandox")])));
        let names: Vec<_> = e.problems().iter().map(|p| p.variable()).collect();
        assert_eq!(
            names,
            [
                Some("PLAID_ENV"),
                Some("PLAID_CLIENT_ID"),
                Some("PLAID_SECRET")
            ]
        );
        assert!(matches!(e.problems()[0], ConfigError::InvalidVar { .. }));
        assert!(matches!(e.problems()[1], ConfigError::MissingVar { .. }));
        let text = e.to_string();
        assert!(
            text.starts_with(
                "3 configuration problems: (1) environment variable PLAID_ENV is invalid"
            ),
            "{text}"
        );
        assert!(
            text.contains("(2) environment variable PLAID_CLIENT_ID is not set"),
            "{text}"
        );
        assert!(
            text.contains("(3) environment variable PLAID_SECRET is not set"),
            "{text}"
        );

        // Two problems, one of them a value that cannot be a header, and a secret that is the
        // redacted text this crate prints: never echoed.
        let e = config_error(PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id\nwith a newline"),
            ("PLAID_SECRET", "[redacted]"),
        ])));
        assert_eq!(e.problems().len(), 2, "{e}");
        assert!(
            e.to_string()
                .contains("PLAID_SECRET is invalid: it holds \"[redacted]\""),
            "{e}"
        );
        // One problem is that problem's own variant, as before.
        let e = config_error(PlaidClient::from_env_with(env(&[("PLAID_SECRET", "s")])));
        assert!(
            matches!(
                e,
                ConfigError::MissingVar {
                    name: "PLAID_CLIENT_ID",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.problems().len(), 1);
    }

    #[test]
    fn from_env_names_the_missing_or_malformed_variable() {
        let e = config_error(PlaidClient::from_env_with(env(&[("PLAID_SECRET", "s")])));
        assert!(e.to_string().contains("PLAID_CLIENT_ID is not set"), "{e}");
        let e = config_error(PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id"),
            ("PLAID_SECRET", "  "),
        ])));
        assert!(e.to_string().contains("PLAID_SECRET is not set"), "{e}");
        for (value, says) in [
            ("prod", "expected sandbox, production"),
            ("development", "retired"),
            ("ftp://x", "scheme"),
            ("https://user:pw@example.com", "credentials"),
            ("http://[::1", "not a valid URL"),
        ] {
            let e = config_error(PlaidClient::from_env_with(env(&[
                ("PLAID_CLIENT_ID", "id"),
                ("PLAID_SECRET", "s"),
                ("PLAID_ENV", value),
            ])));
            let text = e.to_string();
            assert!(
                text.contains("PLAID_ENV") && text.contains(says),
                "{value}: {text}"
            );
        }
        // Review round 15: PLAID_ENV and PLAID_SECRET swapped printed the secret in the error.
        let secret = "4f5e9d8c7b6a5f4e3d2c1b0a9f8e7d";
        let e = config_error(PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id"),
            ("PLAID_SECRET", "sandbox"),
            ("PLAID_ENV", secret),
        ])));
        let text = e.to_string();
        assert!(
            text.contains("PLAID_ENV") && text.contains("30 characters"),
            "{text}"
        );
        assert!(
            !text.contains("4f5e9d8c") && !format!("{e:?}").contains("4f5e9d8c"),
            "{text}"
        );
        let e = config_error(PlaidClient::from_env_with(env(&[
            ("PLAID_CLIENT_ID", "id"),
            ("PLAID_SECRET", "bad\nsecret-value"),
        ])));
        assert!(e.to_string().contains("PLAID_SECRET"), "{e}");
        assert!(
            !e.to_string().contains("secret-value"),
            "never the value: {e}"
        );
    }

    #[test]
    fn builder_checks_its_settings() {
        let e = config_error(PlaidClient::builder().secret("s").build());
        assert!(e.to_string().contains("ClientBuilder::client_id"), "{e}");
        let e = config_error(PlaidClient::builder().client_id("id").build());
        assert!(e.to_string().contains("ClientBuilder::secret"), "{e}");
        let e = config_error(
            PlaidClient::builder()
                .client_id("id")
                .secret("s")
                .base_url("localhost:1")
                .build(),
        );
        assert!(e.to_string().contains("base_url"), "{e}");
        let c = PlaidClient::builder()
            .client_id("id")
            .secret("s")
            .base_url("http://localhost:1/plaid/")
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "http://localhost:1/plaid");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = PlaidClient::builder()
            .client_id("my-id")
            .secret("very-secret-value")
            .build()
            .unwrap();
        for text in [
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{:?}", PlaidClient::builder().secret("very-secret-value")),
        ] {
            assert!(!text.contains("very-secret-value"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
        assert!(format!("{c:?}").contains("my-id"));
    }

    #[test]
    fn per_call_overrides_leave_the_original_alone() {
        let c = PlaidClient::builder()
            .client_id("id")
            .secret("s")
            .timeout(Duration::from_secs(5))
            .slow_timeout(Duration::from_secs(50))
            .build()
            .unwrap();
        let fast = OperationInfo::new("a", "/a/get", OperationKind::Read);
        let slow = OperationInfo { slow: true, ..fast };
        assert_eq!(c.timeout_for(&fast), Duration::from_secs(5));
        assert_eq!(c.timeout_for(&slow), Duration::from_secs(50));
        let short = c.with_timeout(Duration::from_secs(1));
        assert_eq!(short.timeout_for(&slow), Duration::from_secs(1));
        assert_eq!(c.timeout_for(&slow), Duration::from_secs(50));
        assert_eq!(
            c.without_retries().overrides.retry,
            Some(RetryPolicy::none())
        );
        assert_eq!(c.overrides.retry, None);
    }
}
