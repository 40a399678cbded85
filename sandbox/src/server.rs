//! The sandbox's request handling: one handler that checks each request the way Plaid does and
//! answers from the shared state, served by axum on a loopback port.

use crate::data::{self, Account, Change, Ledger, Rng, Txn};
use crate::WebhookSigner;
use crate::{Fault, SentWebhook};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// One request, as the handler reads it.
pub(crate) struct Request {
    pub(crate) method: http::Method,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: bytes::Bytes,
}

/// What a link token was created for.
#[derive(Debug, Clone)]
pub(crate) struct LinkSession {
    pub(crate) client_user_id: String,
    /// Update mode: the Item's access token.
    pub(crate) access_token: Option<String>,
    pub(crate) products: Vec<String>,
    pub(crate) webhook: Option<String>,
}

/// A public token not yet exchanged.
#[derive(Debug, Clone)]
struct PendingItem {
    institution_id: String,
    products: Vec<String>,
    webhook: Option<String>,
}

/// One Item.
#[derive(Debug, Clone)]
pub(crate) struct ItemState {
    pub(crate) item_id: String,
    pub(crate) institution_id: String,
    products: Vec<String>,
    pub(crate) webhook: Option<String>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) ledger: Ledger,
    /// An error every item-scoped call returns (e.g. ITEM_LOGIN_REQUIRED), until repaired.
    pub(crate) error: Option<(String, String, String)>,
    pub(crate) consent_expiration: Option<DateTime<Utc>>,
    pub(crate) removed: bool,
    /// `/transactions/sync` calls still to answer "not ready".
    not_ready: u32,
}

/// A fault a test asked for, on one path or on all.
#[derive(Debug, Clone)]
pub(crate) struct Injected {
    pub(crate) path: Option<String>,
    pub(crate) fault: Fault,
    pub(crate) remaining: u32,
}

/// Everything the sandbox knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) seed: u64,
    pub(crate) today: NaiveDate,
    pub(crate) history_days: u64,
    pub(crate) not_ready_syncs: u32,
    pub(crate) client_id: String,
    pub(crate) secret: String,
    next_item: u64,
    next_token: u64,
    next_request: u64,
    pub(crate) link_sessions: HashMap<String, LinkSession>,
    public_tokens: HashMap<String, PendingItem>,
    /// Items by access token.
    pub(crate) items: HashMap<String, ItemState>,
    pub(crate) faults: Vec<Injected>,
    pub(crate) webhooks: Vec<SentWebhook>,
    /// Hosts other than loopback that webhooks may go to.
    pub(crate) webhook_hosts: Vec<String>,
}

impl State {
    pub(crate) fn new(seed: u64, today: NaiveDate, history_days: u64) -> Self {
        State {
            seed,
            today,
            history_days,
            not_ready_syncs: 0,
            client_id: crate::CLIENT_ID.to_owned(),
            secret: crate::SECRET.to_owned(),
            next_item: 0,
            next_token: 0,
            next_request: 0,
            link_sessions: HashMap::new(),
            public_tokens: HashMap::new(),
            items: HashMap::new(),
            faults: Vec::new(),
            webhooks: Vec::new(),
            webhook_hosts: Vec::new(),
        }
    }

    /// Forgets everything a test made: Items, tokens, sessions, faults, sent webhooks. The
    /// settings (credentials, seed, dates, webhook hosts) stay, and so the numbering starts
    /// over: a reset sandbox hands out the same tokens as a new one.
    pub(crate) fn reset(&mut self) {
        let mut fresh = State::new(self.seed, self.today, self.history_days);
        fresh.not_ready_syncs = self.not_ready_syncs;
        fresh.client_id = std::mem::take(&mut self.client_id);
        fresh.secret = std::mem::take(&mut self.secret);
        fresh.webhook_hosts = std::mem::take(&mut self.webhook_hosts);
        *self = fresh;
    }

    fn token(&mut self, prefix: &str) -> String {
        self.next_token += 1;
        let mut rng = Rng::new(self.seed, 0x0074_6f6b_656e, self.next_token);
        format!("{prefix}-sandbox-{}", rng.uuid())
    }

    fn request_id(&mut self) -> String {
        self.next_request += 1;
        let mut rng = Rng::new(self.seed, 0x0072_6571, self.next_request);
        rng.id(15)
    }

    pub(crate) fn item_by_id(&mut self, item_id: &str) -> Option<&mut ItemState> {
        self.items.values_mut().find(|i| i.item_id == item_id)
    }

    /// A public token for a new Item, as Link's `onSuccess` (or the sandbox shortcut) gives.
    pub(crate) fn new_public_token(
        &mut self,
        institution_id: &str,
        products: Vec<String>,
        webhook: Option<String>,
    ) -> String {
        let token = self.token("public");
        self.public_tokens.insert(
            token.clone(),
            PendingItem {
                institution_id: institution_id.to_owned(),
                products,
                webhook,
            },
        );
        token
    }

    /// Exchanges a public token: the Item exists from now on.
    fn exchange(&mut self, public_token: &str) -> Option<(String, String)> {
        let pending = self.public_tokens.remove(public_token)?;
        self.next_item += 1;
        let n = self.next_item;
        let mut rng = Rng::new(self.seed, 0x6974_656d, n);
        let item_id = rng.id(37);
        let accounts = data::accounts(&mut rng);
        let access_token = self.token("access");
        let item = ItemState {
            item_id: item_id.clone(),
            institution_id: pending.institution_id,
            products: pending.products,
            webhook: pending.webhook,
            accounts,
            ledger: Ledger::new(self.seed, n, self.today, self.history_days),
            error: None,
            consent_expiration: None,
            removed: false,
            not_ready: self.not_ready_syncs,
        };
        self.items.insert(access_token.clone(), item);
        Some((access_token, item_id))
    }

    /// The next fault injected for `path`, if any (and counts it used).
    fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let slot = self
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.path.as_deref().is_none_or(|p| p == path))?;
        slot.remaining -= 1;
        let fault = slot.fault.clone();
        self.faults.retain(|f| f.remaining > 0);
        Some(fault)
    }
}

/// Locks the state; a panic elsewhere while it was held does not make it unusable.
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An error response in Plaid's shape.
pub(crate) struct PlaidFailure {
    status: u16,
    error_type: &'static str,
    code: String,
    message: String,
}

fn fail(
    status: u16,
    error_type: &'static str,
    code: &str,
    message: impl Into<String>,
) -> PlaidFailure {
    PlaidFailure {
        status,
        error_type,
        code: code.to_owned(),
        message: message.into(),
    }
}

fn invalid_request(code: &str, message: impl Into<String>) -> PlaidFailure {
    fail(400, "INVALID_REQUEST", code, message)
}

/// Plaid's answer to a request without a required field.
fn missing(fields: &str) -> PlaidFailure {
    invalid_request(
        "MISSING_FIELDS",
        format!("the following required fields are missing: {fields}"),
    )
}

fn invalid_input(code: &str, message: impl Into<String>) -> PlaidFailure {
    fail(400, "INVALID_INPUT", code, message)
}

pub(crate) fn error_json(
    error_type: &str,
    code: &str,
    message: &str,
    status: u16,
    request_id: &str,
) -> Value {
    json!({
        "error_type": error_type,
        "error_code": code,
        "error_message": message,
        "display_message": null,
        "request_id": request_id,
        "causes": [],
        "status": status,
        "documentation_url": format!("https://plaid.com/docs/errors/#{}", code.to_lowercase()),
        "suggested_action": null,
    })
}

/// The request body, its fields by name.
struct Body(Map<String, Value>);

impl Body {
    /// A JSON object whose `options`, if any, is an object (as in every request of the spec):
    /// [`Body::option`] then reads it without a check of its own.
    fn parse(bytes: &[u8]) -> Result<Body, PlaidFailure> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => match map.get("options") {
                None | Some(Value::Null | Value::Object(_)) => Ok(Body(map)),
                Some(_) => Err(invalid_request(
                    "INVALID_FIELD",
                    "options must be an object",
                )),
            },
            _ => Err(invalid_request(
                "INVALID_BODY",
                "body could not be parsed as JSON",
            )),
        }
    }

    fn str(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }

    fn required(&self, field: &str) -> Result<&str, PlaidFailure> {
        match self.0.get(field) {
            Some(Value::String(s)) => Ok(s),
            None | Some(Value::Null) => Err(missing(field)),
            Some(_) => Err(invalid_request(
                "INVALID_FIELD",
                format!("{field} must be a string"),
            )),
        }
    }

    fn strings(&self, field: &str) -> Vec<String> {
        self.0
            .get(field)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A list of strings that must not be empty.
    fn required_list(&self, field: &str) -> Result<Vec<String>, PlaidFailure> {
        let list = self.strings(field);
        if list.is_empty() {
            return Err(missing(field));
        }
        Ok(list)
    }

    /// A field of the request's `options` object.
    fn option(&self, name: &str) -> Option<&Value> {
        self.0
            .get("options")
            .and_then(Value::as_object)
            .and_then(|o| o.get(name))
    }
}

/// What every request's handler shares.
pub(crate) struct App {
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) signer: Arc<WebhookSigner>,
    pub(crate) http: reqwest::Client,
    pub(crate) outbox: Outbox,
}

/// A webhook to deliver once the state lock is released.
pub(crate) struct Outgoing {
    pub(crate) url: String,
    pub(crate) body: Value,
}

/// The axum app: every method and path goes to [`respond`].
pub(crate) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new().fallback(
        move |method: http::Method,
              uri: http::Uri,
              headers: http::HeaderMap,
              body: bytes::Bytes| {
            let app = Arc::clone(&app);
            async move {
                let request = Request {
                    method,
                    headers,
                    body,
                };
                respond(&app, uri.path(), &request).await
            }
        },
    )
}

/// Answers one request: an injected fault, or the handler's answer, in Plaid's shape.
pub(crate) async fn respond(app: &App, path: &str, request: &Request) -> axum::response::Response {
    if let Some(command) = path.strip_prefix(crate::ADMIN_PREFIX) {
        return admin(app, command, request);
    }
    let mut outgoing = Vec::new();
    let (status, body, delay) = {
        let mut state = lock(&app.state);
        let fault = state.take_fault(path);
        let request_id = state.request_id();
        let mut delay = None;
        let result = match fault {
            Some(Fault::RateLimit) => Err(fail(
                429,
                "RATE_LIMIT_EXCEEDED",
                "RATE_LIMIT",
                "rate limit exceeded for this endpoint; try again later",
            )),
            Some(Fault::ServerError) => Err(fail(
                500,
                "API_ERROR",
                "INTERNAL_SERVER_ERROR",
                "an unexpected error occurred",
            )),
            Some(Fault::MutationDuringPagination) => {
                // The data really changes: the next loop sees one more day.
                for item in state.items.values_mut() {
                    item.ledger.advance_day();
                }
                Err(fail(
                    400,
                    "TRANSACTIONS_ERROR",
                    "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
                    "underlying transaction data changed since the last page was fetched; \
                     restart pagination from the first cursor",
                ))
            }
            Some(Fault::Slow(d)) => {
                delay = Some(d);
                handle(&mut state, &app.signer, path, request, &mut outgoing)
            }
            None => handle(&mut state, &app.signer, path, request, &mut outgoing),
        };
        match result {
            Ok(mut value) => {
                if let Value::Object(map) = &mut value {
                    map.insert("request_id".into(), Value::String(request_id));
                }
                (200, value, delay)
            }
            Err(f) => (
                f.status,
                error_json(f.error_type, &f.code, &f.message, f.status, &request_id),
                delay,
            ),
        }
    };
    for hook in outgoing {
        deliver(&app.state, &app.signer, &app.http, &app.outbox, hook);
    }
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let status =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response()
}

/// The sandbox's own endpoints, under [`crate::ADMIN_PREFIX`]: `POST reset` forgets every
/// Item, token, session, injected fault and sent webhook (the credentials, seed and signing
/// key stay).
fn admin(app: &App, command: &str, request: &Request) -> axum::response::Response {
    let answer = |status: http::StatusCode, body: Value| {
        (
            status,
            [(http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    };
    match (request.method.as_str(), command) {
        ("POST", "reset") => {
            lock(&app.state).reset();
            answer(http::StatusCode::OK, json!({ "reset": true }))
        }
        _ => answer(
            http::StatusCode::NOT_FOUND,
            json!({ "error": format!("no sandbox command {} {command}", request.method) }),
        ),
    }
}

/// The webhook sender: one task posting webhooks in the order they were made, so a receiver
/// sees an Item's events in order.
pub(crate) type Outbox = tokio::sync::mpsc::UnboundedSender<(usize, reqwest::RequestBuilder)>;

/// Starts the task that posts queued webhooks and records each receiver's answer.
pub(crate) fn start_outbox(state: Arc<Mutex<State>>) -> Outbox {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, reqwest::RequestBuilder)>();
    tokio::spawn(async move {
        while let Some((index, request)) = rx.recv().await {
            let status = match request.timeout(Duration::from_secs(10)).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            if let Some(sent) = lock(&state).webhooks.get_mut(index) {
                sent.status = Some(status);
            }
        }
    });
    tx
}

/// Signs a webhook, records it and queues it for sending.
pub(crate) fn deliver(
    state: &Mutex<State>,
    signer: &WebhookSigner,
    http: &reqwest::Client,
    outbox: &Outbox,
    hook: Outgoing,
) {
    let bytes = serde_json::to_vec_pretty(&hook.body).unwrap_or_default();
    let headers = signer.headers(&bytes);
    let (index, allowed) = {
        let mut s = lock(state);
        let allowed = webhook_allowed(&hook.url, &s.webhook_hosts);
        s.webhooks.push(SentWebhook {
            url: hook.url.clone(),
            body: hook.body,
            status: (!allowed).then_some(0),
        });
        (s.webhooks.len() - 1, allowed)
    };
    if !allowed {
        eprintln!(
            "plaid-sandbox: not delivering a webhook to {}: only loopback hosts, and hosts \
             allowed by name, receive webhooks",
            url_host(&hook.url).unwrap_or("an unparsable URL")
        );
        return;
    }
    let request = http.post(&hook.url).headers(headers).body(bytes);
    if outbox.send((index, request)).is_err() {
        // The runtime that started the sandbox is gone: nobody is left to receive it.
        if let Some(sent) = lock(state).webhooks.get_mut(index) {
            sent.status = Some(0);
        }
    }
}

/// The host of a URL, if it has one.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// Whether a webhook may go to `url`: an http(s) URL to a loopback host, or to a host named in
/// `allowed`.
pub(crate) fn webhook_allowed(url: &str, allowed: &[String]) -> bool {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return false;
    }
    let Some(host) = url_host(url) else {
        return false;
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback || allowed.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// Checks the credentials, parses the body and answers one call.
fn handle(
    state: &mut State,
    signer: &WebhookSigner,
    path: &str,
    request: &Request,
    outgoing: &mut Vec<Outgoing>,
) -> Result<Value, PlaidFailure> {
    if request.method.as_str() != "POST" || !crate::SERVED_PATHS.contains(&path) {
        return Err(not_served(request.method.as_str(), path));
    }
    let body = Body::parse(&request.body)?;
    if path != "/webhook_verification_key/get" || body.str("client_id").is_some() {
        check_credentials(state, request, &body)?;
    }
    match path {
        "/link/token/create" => link_token_create(state, &body),
        "/sandbox/public_token/create" => {
            let institution_id = body.required("institution_id")?;
            if data::institution_name(institution_id).is_none() {
                return Err(invalid_input(
                    "INVALID_INSTITUTION",
                    format!("invalid institution_id provided: {institution_id}"),
                ));
            }
            let products = body.required_list("initial_products")?;
            let webhook = body
                .option("webhook")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let token = state.new_public_token(institution_id, products, webhook);
            Ok(json!({ "public_token": token }))
        }
        "/item/public_token/exchange" => {
            let public_token = body.required("public_token")?;
            let (access_token, item_id) = state.exchange(public_token).ok_or_else(|| {
                invalid_input(
                    "INVALID_PUBLIC_TOKEN",
                    "provided public token is expired or has already been exchanged",
                )
            })?;
            Ok(json!({ "access_token": access_token, "item_id": item_id }))
        }
        "/webhook_verification_key/get" => {
            let kid = body.required("key_id")?;
            if kid == signer.kid() {
                Ok(json!({ "key": signer.jwk() }))
            } else {
                Err(invalid_input(
                    "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
                    "invalid key_id provided",
                ))
            }
        }
        "/institutions/get_by_id" => {
            let id = body.required("institution_id")?;
            let name = data::institution_name(id).ok_or_else(|| {
                invalid_input("INVALID_INSTITUTION", "invalid institution_id provided")
            })?;
            Ok(json!({ "institution": institution_json(id, name) }))
        }
        _ => item_call(state, path, &body, outgoing),
    }
}

fn check_credentials(state: &State, request: &Request, body: &Body) -> Result<(), PlaidFailure> {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let client_id = header("plaid-client-id").or_else(|| body.str("client_id").map(str::to_owned));
    let secret = header("plaid-secret").or_else(|| body.str("secret").map(str::to_owned));
    let absent: Vec<&str> = [("client_id", &client_id), ("secret", &secret)]
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !absent.is_empty() {
        return Err(missing(&absent.join(", ")));
    }
    if client_id.as_deref() != Some(state.client_id.as_str())
        || secret.as_deref() != Some(state.secret.as_str())
    {
        return Err(invalid_input(
            "INVALID_API_KEYS",
            "invalid client_id or secret provided",
        ));
    }
    Ok(())
}

fn link_token_create(state: &mut State, body: &Body) -> Result<Value, PlaidFailure> {
    for field in ["client_name", "language"] {
        body.required(field)?;
    }
    body.required_list("country_codes")?;
    let client_user_id = body
        .0
        .get("user")
        .and_then(|u| u.get("client_user_id"))
        .and_then(Value::as_str)
        .ok_or_else(|| missing("user.client_user_id"))?
        .to_owned();
    let access_token = body.str("access_token").map(str::to_owned);
    let products = body.strings("products");
    match &access_token {
        Some(token) => {
            live_item(state, token)?;
        }
        None if products.is_empty() => return Err(missing("products")),
        None => {}
    }
    let link_token = state.token("link");
    state.link_sessions.insert(
        link_token.clone(),
        LinkSession {
            client_user_id,
            access_token,
            products,
            webhook: body.str("webhook").map(str::to_owned),
        },
    );
    let expiration = Utc::now() + chrono::Duration::hours(4);
    Ok(json!({
        "link_token": link_token,
        "expiration": expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
}

/// The Item an access token names, if it exists and was not removed.
fn live_item<'a>(state: &'a mut State, token: &str) -> Result<&'a mut ItemState, PlaidFailure> {
    match state.items.get_mut(token) {
        None => Err(invalid_input(
            "INVALID_ACCESS_TOKEN",
            "provided access token is in an invalid format, or does not exist",
        )),
        Some(item) if item.removed => Err(fail(
            400,
            "ITEM_ERROR",
            "ITEM_NOT_FOUND",
            "the Item you requested cannot be found. This Item does not exist, has been \
             previously removed via /item/remove, or has had access removed by the user.",
        )),
        Some(item) => Ok(item),
    }
}

/// Calls that name an Item by its access token.
fn item_call(
    state: &mut State,
    path: &str,
    body: &Body,
    outgoing: &mut Vec<Outgoing>,
) -> Result<Value, PlaidFailure> {
    let token = body.required("access_token")?.to_owned();
    let item = live_item(state, &token)?;
    // Calls that need the institution fail while the Item is in error; the rest work.
    let needs_login = matches!(
        path,
        "/accounts/get"
            | "/accounts/balance/get"
            | "/transactions/sync"
            | "/transactions/get"
            | "/transactions/refresh"
    );
    if needs_login {
        if let Some((error_type, code, message)) = &item.error {
            return Err(PlaidFailure {
                status: 400,
                error_type: static_error_type(error_type),
                code: code.clone(),
                message: message.clone(),
            });
        }
    }
    match path {
        "/item/get" => Ok(json!({
            "item": item_json(item),
            "status": { "transactions": null, "last_webhook": null },
        })),
        "/item/remove" => {
            item.removed = true;
            Ok(json!({}))
        }
        "/item/webhook/update" => {
            let url = body.str("webhook").map(str::to_owned);
            item.webhook = url.clone();
            if let Some(url) = url {
                outgoing.push(Outgoing {
                    url: url.clone(),
                    body: webhook_body(
                        item,
                        "ITEM",
                        "WEBHOOK_UPDATE_ACKNOWLEDGED",
                        &[("new_webhook_url", Value::String(url))],
                    ),
                });
            }
            Ok(json!({ "item": item_json(item) }))
        }
        "/accounts/get" | "/accounts/balance/get" => {
            let filter = AccountFilter::read(item, body, "account_ids")?;
            let accounts = accounts_json(item, |a| filter.keeps(a));
            Ok(json!({ "accounts": accounts, "item": item_json(item) }))
        }
        "/transactions/sync" => transactions_sync(item, body),
        "/transactions/get" => transactions_get(item, body),
        "/transactions/refresh" => {
            if item.ledger.advance_day() > 0 {
                queue_sync_webhook(item, outgoing);
            }
            Ok(json!({}))
        }
        "/sandbox/item/reset_login" => {
            item.error = Some(login_required());
            Ok(json!({ "reset_login": true }))
        }
        "/sandbox/item/fire_webhook" => {
            let code = body.required("webhook_code")?;
            let body = fire(item, code)?;
            match &item.webhook {
                Some(url) => {
                    outgoing.push(Outgoing {
                        url: url.clone(),
                        body,
                    });
                    Ok(json!({ "webhook_fired": true }))
                }
                None => Ok(json!({ "webhook_fired": false })),
            }
        }
        _ => Err(not_served("POST", path)),
    }
}

/// The answer for an operation the offline sandbox does not implement: Plaid's error shape,
/// saying so plainly, so a test that strays off the sandbox's surface is not mistaken for a
/// missing resource.
fn not_served(method: &str, path: &str) -> PlaidFailure {
    fail(
        404,
        "INVALID_REQUEST",
        "NOT_FOUND",
        format!(
            "the offline sandbox does not serve {method} {path}: it is a fake of the calls an \
             app makes most ({}); test this operation against Plaid's sandbox or a mock server \
             of your own",
            crate::SERVED_PATHS.join(", ")
        ),
    )
}

/// The error_type strings an Item error can carry, as `'static` for [`PlaidFailure`].
fn static_error_type(error_type: &str) -> &'static str {
    match error_type {
        "ITEM_ERROR" => "ITEM_ERROR",
        "INSTITUTION_ERROR" => "INSTITUTION_ERROR",
        "API_ERROR" => "API_ERROR",
        "RATE_LIMIT_EXCEEDED" => "RATE_LIMIT_EXCEEDED",
        "INVALID_INPUT" => "INVALID_INPUT",
        "INVALID_REQUEST" => "INVALID_REQUEST",
        "TRANSACTIONS_ERROR" => "TRANSACTIONS_ERROR",
        _ => "ITEM_ERROR",
    }
}

pub(crate) fn login_required() -> (String, String, String) {
    (
        "ITEM_ERROR".into(),
        "ITEM_LOGIN_REQUIRED".into(),
        "the login details of this item have changed (credentials, MFA, or required user \
         action) and a user login is required to update this information. use Link's update \
         mode to restore the item to a good state"
            .into(),
    )
}

/// The body of a webhook about `item`, with the fields every one of them carries.
pub(crate) fn webhook_body(
    item: &ItemState,
    webhook_type: &str,
    code: &str,
    extra: &[(&str, Value)],
) -> Value {
    let mut body = json!({
        "webhook_type": webhook_type,
        "webhook_code": code,
        "item_id": item.item_id,
        "environment": "sandbox",
    });
    if let Value::Object(map) = &mut body {
        for (k, v) in extra {
            map.insert((*k).to_owned(), v.clone());
        }
    }
    body
}

/// SYNC_UPDATES_AVAILABLE for an Item that has a webhook URL.
pub(crate) fn queue_sync_webhook(item: &ItemState, outgoing: &mut Vec<Outgoing>) {
    if let Some(url) = &item.webhook {
        outgoing.push(Outgoing {
            url: url.clone(),
            body: webhook_body(
                item,
                "TRANSACTIONS",
                "SYNC_UPDATES_AVAILABLE",
                &[
                    ("initial_update_complete", Value::Bool(true)),
                    ("historical_update_complete", Value::Bool(true)),
                ],
            ),
        });
    }
}

/// The webhook `/sandbox/item/fire_webhook` sends for `code` (and what it does to the Item).
pub(crate) fn fire(item: &mut ItemState, code: &str) -> Result<Value, PlaidFailure> {
    let today = item.ledger.today();
    let item_error =
        |(t, c, m): (String, String, String)| error_json(&t, &c, &m, 400, "sandbox-webhook");
    Ok(match code {
        "SYNC_UPDATES_AVAILABLE" => webhook_body(
            item,
            "TRANSACTIONS",
            code,
            &[
                ("initial_update_complete", Value::Bool(true)),
                ("historical_update_complete", Value::Bool(true)),
            ],
        ),
        "DEFAULT_UPDATE" => {
            let added = item.ledger.advance_day();
            webhook_body(
                item,
                "TRANSACTIONS",
                code,
                &[("new_transactions", json!(added)), ("error", Value::Null)],
            )
        }
        "NEW_ACCOUNTS_AVAILABLE" => webhook_body(item, "ITEM", code, &[("error", Value::Null)]),
        "ERROR" => {
            item.error = Some(login_required());
            let error = item_error(login_required());
            webhook_body(item, "ITEM", code, &[("error", error)])
        }
        "PENDING_EXPIRATION" => {
            let at = today
                .checked_add_days(chrono::Days::new(7))
                .unwrap_or(today)
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now);
            item.consent_expiration = Some(at);
            webhook_body(
                item,
                "ITEM",
                code,
                &[(
                    "consent_expiration_time",
                    Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                )],
            )
        }
        "PENDING_DISCONNECT" => {
            let at = Utc::now() + chrono::Duration::days(7);
            webhook_body(
                item,
                "ITEM",
                code,
                &[
                    ("reason", Value::String("INSTITUTION_MIGRATION".into())),
                    (
                        "disconnect_time",
                        Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    ),
                ],
            )
        }
        "USER_PERMISSION_REVOKED" => {
            let error = item_error((
                "ITEM_ERROR".into(),
                "USER_PERMISSION_REVOKED".into(),
                "the user has revoked access to this Item".into(),
            ));
            item.error = Some((
                "ITEM_ERROR".into(),
                "USER_PERMISSION_REVOKED".into(),
                "the user has revoked access to this Item".into(),
            ));
            webhook_body(item, "ITEM", code, &[("error", error)])
        }
        "LOGIN_REPAIRED" => {
            item.error = None;
            webhook_body(item, "ITEM", code, &[])
        }
        other => {
            return Err(invalid_request(
                "INVALID_FIELD",
                format!("webhook_code {other} cannot be fired in the offline sandbox"),
            ))
        }
    })
}

/// A page size: `field` absent or null is 100, else an integer from 1 to 500.
fn page_count(value: Option<&Value>, field: &str) -> Result<usize, PlaidFailure> {
    match value {
        None | Some(Value::Null) => Ok(100),
        Some(v) => match v.as_u64() {
            Some(n @ 1..=500) => Ok(n as usize),
            _ => Err(invalid_request(
                "INVALID_FIELD",
                format!("{field} must be an integer between 1 and 500"),
            )),
        },
    }
}

/// The accounts a request limits itself to: `options.account_ids`, or the one
/// `options.account_id` of `/transactions/sync`; all of the Item's when it names none. Every
/// path that takes a filter reads it here, so all check it as Plaid does: the right shape
/// (`INVALID_FIELD`), and each id an account of the Item (`INVALID_ACCOUNT_ID`).
struct AccountFilter(Option<Vec<String>>);

impl AccountFilter {
    fn read(item: &ItemState, body: &Body, field: &str) -> Result<AccountFilter, PlaidFailure> {
        let one = !field.ends_with('s');
        let ids = match body.option(field) {
            None | Some(Value::Null) => return Ok(AccountFilter(None)),
            Some(Value::String(id)) if one => Some(vec![id.clone()]),
            Some(Value::Array(ids)) if !one => ids
                .iter()
                .map(|id| id.as_str().map(str::to_owned))
                .collect(),
            Some(_) => None,
        }
        .ok_or_else(|| {
            let shape = if one { "a string" } else { "a list of strings" };
            invalid_request("INVALID_FIELD", format!("options.{field} must be {shape}"))
        })?;
        if ids
            .iter()
            .any(|id| !item.accounts.iter().any(|a| &a.id == id))
        {
            return Err(invalid_input(
                "INVALID_ACCOUNT_ID",
                "one or more of the account IDs is invalid",
            ));
        }
        Ok(AccountFilter(Some(ids)))
    }

    /// Whether the request covers `account`.
    fn keeps(&self, account: &data::Account) -> bool {
        self.0.as_ref().is_none_or(|ids| ids.contains(&account.id))
    }

    /// Whether the request covers the Item's account at `index` (as a ledger entry names it).
    fn keeps_index(&self, item: &ItemState, index: usize) -> bool {
        item.accounts.get(index).is_some_and(|a| self.keeps(a))
    }
}

/// The Item's accounts that `keep` selects, with balances from its ledger as it stands.
fn accounts_json(item: &ItemState, keep: impl Fn(&data::Account) -> bool) -> Vec<Value> {
    let txns = item.ledger.current();
    item.accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| keep(a))
        .map(|(i, a)| data::account_json(a, i, &txns))
        .collect()
}

/// `/transactions/sync`: pages through the Item's change log. The cursor is the position in
/// the log (opaque to callers), so a loop sees every change once, in order.
fn transactions_sync(item: &mut ItemState, body: &Body) -> Result<Value, PlaidFailure> {
    let count = page_count(body.0.get("count"), "count")?;
    let filter = AccountFilter::read(item, body, "account_id")?;
    if item.not_ready > 0 {
        item.not_ready -= 1;
        return Ok(json!({
            "added": [], "modified": [], "removed": [], "accounts": [],
            "next_cursor": "", "has_more": false,
            "transactions_update_status": "NOT_READY",
        }));
    }
    let cursor = match body.str("cursor") {
        // No cursor: the whole history, as it stands now, in pages.
        None | Some("") => Cursor::Snapshot {
            pos: item.ledger.log.len(),
            offset: 0,
        },
        Some(cursor) => {
            decode_cursor(&item.item_id, cursor, item.ledger.log.len()).ok_or_else(|| {
                invalid_input(
                    "INVALID_FIELD",
                    "cursor is not valid for this Item; start again without one",
                )
            })?
        }
    };
    let wanted = |account: usize| filter.keeps_index(item, account);
    let (mut added, mut modified, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    let next = match cursor {
        Cursor::Snapshot { pos, offset } => {
            // The state at `pos`, listed in a fixed order; later changes come after it.
            let state: Vec<_> = item
                .ledger
                .state_at(pos)
                .into_iter()
                .filter(|t| wanted(t.account))
                .collect();
            if offset > state.len() {
                return Err(invalid_input(
                    "INVALID_FIELD",
                    "cursor is not valid for this Item; start again without one",
                ));
            }
            let end = offset.saturating_add(count).min(state.len());
            added.extend(
                state[offset.min(end)..end]
                    .iter()
                    .map(|t| data::txn_json(t, &item.accounts)),
            );
            if end < state.len() {
                Cursor::Snapshot { pos, offset: end }
            } else {
                Cursor::At(pos)
            }
        }
        Cursor::At(start) => {
            let mut pos = start;
            let mut taken = 0;
            while pos < item.ledger.log.len() && taken < count {
                match &item.ledger.log[pos] {
                    Change::Added(t) if wanted(t.account) => {
                        added.push(data::txn_json(t, &item.accounts))
                    }
                    Change::Modified(t) if wanted(t.account) => {
                        modified.push(data::txn_json(t, &item.accounts))
                    }
                    Change::Removed { id, account } if wanted(*account) => removed.push(json!({
                        "transaction_id": id,
                        "account_id": item.accounts.get(*account).map(|a| a.id.as_str()),
                    })),
                    _ => {
                        pos += 1;
                        continue;
                    }
                }
                taken += 1;
                pos += 1;
            }
            // Skip changes for other accounts at the end, so has_more is exact.
            while pos < item.ledger.log.len() {
                let account = match &item.ledger.log[pos] {
                    Change::Added(t) | Change::Modified(t) => t.account,
                    Change::Removed { account, .. } => *account,
                };
                if wanted(account) {
                    break;
                }
                pos += 1;
            }
            Cursor::At(pos)
        }
    };
    let has_more = match next {
        Cursor::Snapshot { .. } => true,
        Cursor::At(pos) => pos < item.ledger.log.len(),
    };
    Ok(json!({
        "added": added,
        "modified": modified,
        "removed": removed,
        "accounts": accounts_json(item, |a| filter.keeps(a)),
        "next_cursor": encode_cursor(&item.item_id, next),
        "has_more": has_more,
        "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
    }))
}

/// `/transactions/get`: the Item's transactions between two dates, newest first, a page at
/// a time (`options.count`, `options.offset`). While the Item is not ready it answers
/// `PRODUCT_NOT_READY`, as Plaid does before the first pull of a new Item finishes.
fn transactions_get(item: &mut ItemState, body: &Body) -> Result<Value, PlaidFailure> {
    let date = |field: &str| -> Result<NaiveDate, PlaidFailure> {
        NaiveDate::parse_from_str(body.required(field)?, "%Y-%m-%d").map_err(|_| {
            invalid_request(
                "INVALID_FIELD",
                format!("{field} must be a date in the format YYYY-MM-DD"),
            )
        })
    };
    let (start, end) = (date("start_date")?, date("end_date")?);
    if start > end {
        return Err(invalid_request(
            "INVALID_FIELD",
            "start_date must be on or before end_date",
        ));
    }
    let count = page_count(body.option("count"), "options.count")?;
    let offset = match body.option("offset") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().map(|n| n as usize).ok_or_else(|| {
            invalid_request("INVALID_FIELD", "options.offset must be an integer >= 0")
        })?,
    };
    let filter = AccountFilter::read(item, body, "account_ids")?;
    if item.not_ready > 0 {
        item.not_ready -= 1;
        return Err(fail(
            400,
            "ITEM_ERROR",
            "PRODUCT_NOT_READY",
            "the requested product is not yet ready. please provide a webhook or try the \
             request again later",
        ));
    }
    let all = item.ledger.current();
    let mut matching: Vec<&Txn> = all
        .iter()
        .filter(|t| t.date >= start && t.date <= end && filter.keeps_index(item, t.account))
        .collect();
    matching.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(count)
        .map(|t| data::txn_json(t, &item.accounts))
        .collect();
    Ok(json!({
        "accounts": accounts_json(item, |a| filter.keeps(a)),
        "transactions": page,
        "total_transactions": matching.len(),
        "item": item_json(item),
    }))
}

/// Where a `/transactions/sync` cursor points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    /// After the first `pos` changes of the log.
    At(usize),
    /// Part way through listing the state after `pos` changes (a first sync).
    Snapshot { pos: usize, offset: usize },
}

fn encode_cursor(item_id: &str, cursor: Cursor) -> String {
    use base64::Engine;
    let text = match cursor {
        Cursor::At(pos) => format!("v1:{item_id}:{pos}"),
        Cursor::Snapshot { pos, offset } => format!("v1:{item_id}:{pos}:{offset}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(item_id: &str, cursor: &str, len: usize) -> Option<Cursor> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.strip_prefix("v1:")?.split(':');
    let (id, pos) = (parts.next()?, parts.next()?.parse::<usize>().ok()?);
    let offset = parts.next().map(str::parse::<usize>);
    if id != item_id || pos > len || parts.next().is_some() {
        return None;
    }
    match offset {
        None => Some(Cursor::At(pos)),
        Some(Ok(offset)) => Some(Cursor::Snapshot { pos, offset }),
        Some(Err(_)) => None,
    }
}

pub(crate) fn item_json(item: &ItemState) -> Value {
    let error = item
        .error
        .clone()
        .map(|(t, c, m)| error_json(&t, &c, &m, 400, "item"));
    json!({
        "item_id": item.item_id,
        "institution_id": item.institution_id,
        "institution_name": data::institution_name(&item.institution_id),
        "webhook": item.webhook,
        "auth_method": null,
        "error": error,
        "available_products": ["balance", "identity", "investments"],
        "billed_products": item.products,
        "products": item.products,
        "consented_products": item.products,
        "consent_expiration_time": item.consent_expiration
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "update_type": "background",
    })
}

fn institution_json(id: &str, name: &str) -> Value {
    json!({
        "institution_id": id,
        "name": name,
        "products": ["assets", "auth", "balance", "transactions", "identity", "liabilities"],
        "country_codes": ["US"],
        "routing_numbers": ["011401533"],
        "oauth": id == "ins_127287",
        "status": null,
        "primary_color": null,
        "url": null,
        "logo": null,
        "dtc_numbers": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_one_item() {
        let c = encode_cursor("item-a", Cursor::At(42));
        assert_eq!(decode_cursor("item-a", &c, 100), Some(Cursor::At(42)));
        let snap = Cursor::Snapshot { pos: 40, offset: 7 };
        assert_eq!(
            decode_cursor("item-a", &encode_cursor("item-a", snap), 40),
            Some(snap)
        );
        assert_eq!(decode_cursor("item-b", &c, 100), None);
        assert_eq!(decode_cursor("item-a", &c, 10), None, "beyond the log");
        assert_eq!(decode_cursor("item-a", "garbage!", 100), None);
    }

    #[test]
    fn options_must_be_an_object_on_every_path() {
        for ok in [
            r#"{}"#,
            r#"{"options": null}"#,
            r#"{"options": {"count": 5}}"#,
        ] {
            assert!(Body::parse(ok.as_bytes()).is_ok(), "{ok}");
        }
        for bad in [
            r#"{"options": "count=5"}"#,
            r#"{"options": [5]}"#,
            r#"{"options": 5}"#,
        ] {
            let e = Body::parse(bad.as_bytes()).err().expect(bad);
            assert_eq!((e.status, e.code.as_str()), (400, "INVALID_FIELD"), "{bad}");
            assert_eq!(e.message, "options must be an object");
        }
    }
}
