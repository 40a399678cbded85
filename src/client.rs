//! The client: configuration, credentials, and the one path every call takes (headers, retries,
//! timeouts, tracing, errors).

use crate::error::{ApiError, ConfigError, Error};
use crate::operation::{sniff_request_id, Operation, OperationInfo, OperationKind, RawResponse};
use crate::retry::{self, Decision, Outcome, RetryPolicy};
use crate::secret::{scrub, ClientSecret};
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
/// The longest excerpt of a non-Plaid error body kept in [`Error::Http`].
const EXCERPT_CHARS: usize = 512;

/// Where the client sends requests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// `https://sandbox.plaid.com`: test data, free.
    Sandbox,
    /// `https://production.plaid.com`: real data.
    Production,
    /// Any other base URL: a mock server, a proxy, the offline sandbox.
    Custom(url::Url),
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
                "expected sandbox, production or an http(s):// URL, got {value:?}"
            ));
        }
        let url = url::Url::parse(value).map_err(|e| format!("not a valid URL: {e}"))?;
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
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the URL must not have a query or fragment".into());
        }
        Ok(Environment::Custom(url))
    }
}

/// Builds a [`PlaidClient`].
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
#[derive(Clone)]
pub struct ClientBuilder {
    client_id: Option<String>,
    secret: Option<ClientSecret>,
    environment: Option<Result<Environment, String>>,
    http: Option<reqwest::Client>,
    connect_timeout: Duration,
    timeout: Duration,
    slow_timeout: Duration,
    retry: RetryPolicy,
    user_agent: Option<String>,
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
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            slow_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            user_agent: None,
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
            Err(format!("expected an http(s):// URL, got {url:?}"))
        });
        self
    }

    /// Uses your own `reqwest::Client` (proxies, custom TLS roots, connection pool settings).
    /// The connect timeout is then the one you set on it; the per-call timeouts still apply.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
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

    /// The timeout for the operations Plaid documents as slow: `/accounts/balance/get`, the
    /// `…/refresh` calls and `/investments/transactions/get` (default 300 s).
    pub fn slow_timeout(mut self, timeout: Duration) -> Self {
        self.slow_timeout = timeout;
        self
    }

    /// When and how calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
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
        if client_id.trim().is_empty() {
            return Err(invalid("client_id", "it is empty").into());
        }
        if secret.is_empty() {
            return Err(invalid("secret", "it is empty").into());
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
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| ConfigError::Http(e.without_url()))?,
        };
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
}

/// One call, ready to send (and to send again).
struct Call {
    info: &'static OperationInfo,
    method: reqwest::Method,
    path: std::borrow::Cow<'static, str>,
    headers: HeaderMap,
    body: Option<Bytes>,
    repeatable: bool,
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
        let client_id = read("PLAID_CLIENT_ID", ID_HINT)?.ok_or(ConfigError::MissingVar {
            name: "PLAID_CLIENT_ID",
            hint: ID_HINT,
        })?;
        let secret = read("PLAID_SECRET", SECRET_HINT)?.ok_or(ConfigError::MissingVar {
            name: "PLAID_SECRET",
            hint: SECRET_HINT,
        })?;
        let environment = match read("PLAID_ENV", ENV_HINT)? {
            None => Environment::Sandbox,
            Some(value) => {
                Environment::parse(&value).map_err(|reason| ConfigError::InvalidVar {
                    name: "PLAID_ENV",
                    reason,
                })?
            }
        };
        let check = |name: &'static str, value: &str| {
            if HeaderValue::from_str(value).is_err() {
                Err(ConfigError::InvalidVar {
                    name,
                    reason: "it contains characters not allowed in an HTTP header".into(),
                })
            } else {
                Ok(())
            }
        };
        check("PLAID_CLIENT_ID", &client_id)?;
        check("PLAID_SECRET", &secret)?;
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

    /// A handle to the same client whose calls are attempted once.
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
        let body = if info.has_body {
            let json = serde_json::to_vec(request).map_err(|e| Error::InvalidRequest {
                operation: info.name,
                message: format!("the request cannot be serialized: {e}"),
            })?;
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
            repeatable: info.kind == OperationKind::Read || request.idempotency_key().is_some(),
        };
        let result = match self.execute(call).await {
            Ok(raw) => O::decode(raw),
            Err(e) => Err(e),
        };
        result.map_err(|e| self.scrub_error(e))
    }

    /// The last line of defence for text that came from a response: every error leaving the
    /// client has tokens and the client secret removed, whichever path built it.
    fn scrub_error(&self, e: Error) -> Error {
        let secrets = [self.inner.secret.expose_secret()];
        match e {
            Error::Decode {
                operation,
                status,
                path,
                message,
                request_id,
            } => Error::Decode {
                operation,
                status,
                path: scrub(&path, &secrets),
                message: scrub(&message, &secrets),
                request_id: request_id.map(|id| scrub(&id, &secrets)),
            },
            Error::Api(mut api) => {
                api.request_id = api.request_id.map(|id| scrub(&id, &secrets));
                api.error_code_reason = api.error_code_reason.map(|r| scrub(&r, &secrets));
                api.suggested_action = api.suggested_action.map(|r| scrub(&r, &secrets));
                api.documentation_url = api.documentation_url.map(|r| scrub(&r, &secrets));
                Error::Api(api)
            }
            other => other,
        }
    }

    fn timeout_for(&self, info: &OperationInfo) -> Duration {
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
        async move {
            let mut attempt = 1;
            loop {
                tracing::Span::current().record("attempt", attempt);
                let (result, outcome) = self.attempt(&call, timeout).await;
                match retry::decide(&policy, attempt, call.repeatable, outcome, retry::jitter()) {
                    Decision::Retry(wait) => {
                        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %DisplayErr(&result), "retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    Decision::Stop => return result,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// One attempt: the result, and what it means for retrying.
    async fn attempt(
        &self,
        call: &Call,
        timeout: Duration,
    ) -> (Result<RawResponse, Error>, Outcome) {
        let info = call.info;
        let url = format!("{}{}", self.inner.base_url, call.path);
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .headers(self.inner.headers.clone())
            .headers(call.headers.clone())
            .timeout(timeout);
        if let Some(body) = &call.body {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .body(body.clone());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return transport_error(info, e, timeout),
        };
        let status = response.status().as_u16();
        let span = tracing::Span::current();
        span.record("status", status);
        if response.status().is_success() {
            return match response.bytes().await {
                Ok(body) => {
                    if !span.is_disabled() {
                        if let Some(id) = sniff_request_id(&body) {
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
                Err(e) => transport_error(info, e, timeout),
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
        let error = self.error_from_body(info, status, retry_after, &body);
        if let Some(id) = error.request_id() {
            span.record("request_id", id);
        }
        (
            Err(error),
            Outcome::Status {
                status,
                retry_after,
            },
        )
    }

    /// Maps an error response: Plaid's error object when the body is one, else the status and a
    /// bounded excerpt. Text from the body is scrubbed of tokens and the client secret.
    fn error_from_body(
        &self,
        info: &'static OperationInfo,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Error {
        let secrets = [self.inner.secret.expose_secret()];
        if let Some(mut e) = crate::de::parse_json::<ApiError>(body) {
            e.status = status;
            e.operation = info.name;
            e.retry_after = retry_after;
            e.error_message = scrub(&e.error_message, &secrets);
            e.display_message = e.display_message.map(|m| scrub(&m, &secrets));
            e.extra = scrub_extra(std::mem::take(&mut e.extra), &secrets);
            return Error::Api(Box::new(e));
        }
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text
            .chars()
            .filter(|c| !c.is_control() || *c == ' ')
            .take(EXCERPT_CHARS)
            .collect();
        Error::Http {
            operation: info.name,
            status,
            excerpt: scrub(excerpt.trim(), &secrets),
            retry_after,
        }
    }
}

/// Scrubs the string values of the error fields the SDK does not know.
fn scrub_extra(
    extra: serde_json::Map<String, serde_json::Value>,
    secrets: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    extra
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, serde_json::Value::String(scrub(&s, secrets))),
            other => (k, other),
        })
        .collect()
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
    let e = e.without_url();
    if e.is_connect() {
        (
            Err(Error::Connect {
                operation: info.name,
                source: e,
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
                source: e,
            }),
            Outcome::Interrupted,
        )
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
