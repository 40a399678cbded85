//! The sandbox's HTTP side: one axum app on a loopback port. Plaid's paths go to their stateful
//! handler, or else to the spec-driven answer; the sandbox's own endpoints live under
//! [`crate::ADMIN_PREFIX`].

use crate::body::Body;
use crate::failure::Failure;
use crate::handlers::{self, Ctx};
use crate::state::{lock, LinkSession, PendingItem, SessionOutcome, State};
use crate::webhooks::{self, Outbox, Outgoing};
use crate::{Fault, WebhookChaos, WebhookSigner};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request, as the handler reads it.
pub(crate) struct Request {
    pub(crate) method: http::Method,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: bytes::Bytes,
    /// The URL's query string, if any (read by the admin API only).
    pub(crate) query: Option<String>,
    /// Whether the connection came from this machine (a loopback address): the admin API
    /// asks anyone else for the client id and secret.
    pub(crate) local_peer: bool,
}

/// What a request is answered with.
pub(crate) enum Reply {
    Json(Value),
    /// A file (the PDF and ZIP operations).
    Binary {
        content_type: &'static str,
        body: Vec<u8>,
    },
}

/// The spec the sandbox serves (the one vendored in plaid-sdk, which its typed answers come
/// from), indexed on first use and shared by every sandbox of the process.
fn spec() -> Result<&'static crate::spec::SpecIndex, Failure> {
    static SPEC: std::sync::OnceLock<Result<crate::spec::SpecIndex, String>> =
        std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        let text = include_str!("../spec/plaid.json");
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        crate::spec::SpecIndex::new(value)
    })
    .as_ref()
    .map_err(|e| {
        Failure::code("INTERNAL_SERVER_ERROR")
            .message(format!("the sandbox's spec did not load: {e}"))
    })
}

/// What every request's handler shares.
pub(crate) struct App {
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) signer: Arc<WebhookSigner>,
    pub(crate) outbox: Outbox,
    /// Host names besides loopback ones the sandbox answers to (`allow_host`), lowercase.
    pub(crate) hosts: Vec<String>,
}

/// The axum app: every method and path goes to [`respond`].
pub(crate) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new().fallback(
        move |method: http::Method,
              uri: http::Uri,
              headers: http::HeaderMap,
              extensions: http::Extensions,
              body: Result<bytes::Bytes, axum::extract::rejection::BytesRejection>| {
            let app = Arc::clone(&app);
            async move {
                let mut response = if let Some(refused) = misaddressed(&headers, &app.hosts) {
                    let request_id = lock(&app.state).request_id();
                    json_response(refused.status, &refused.to_json(&request_id))
                } else {
                    match body {
                        Ok(body) => {
                            let peer = extensions
                                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                                .map(|c| c.0);
                            let request = Request {
                                method,
                                headers,
                                body,
                                query: uri.query().map(str::to_owned),
                                local_peer: peer.is_some_and(|p| is_loopback(p.ip())),
                            };
                            respond(&app, uri.path(), &request).await
                        }
                        // A body over axum's 2 MiB limit (or one that broke off): Plaid's
                        // error shape, not axum's plain text.
                        Err(rejected) => {
                            let failure = Failure::new(
                                rejected.status().as_u16(),
                                "INVALID_REQUEST",
                                "INVALID_BODY",
                                format!("the request body could not be read: {rejected}"),
                            );
                            let request_id = lock(&app.state).request_id();
                            json_response(failure.status, &failure.to_json(&request_id))
                        }
                    }
                };
                // Every answer is what its type says, whatever a browser would guess.
                response.headers_mut().insert(
                    http::header::X_CONTENT_TYPE_OPTIONS,
                    http::HeaderValue::from_static("nosniff"),
                );
                response
            }
        },
    )
}

fn json_response(status: u16, body: &Value) -> axum::response::Response {
    let status =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

/// Answers one request: an injected fault, or the handler's answer, in Plaid's shape.
pub(crate) async fn respond(app: &App, path: &str, request: &Request) -> axum::response::Response {
    if let Some((_, content_type, body)) = crate::link_flow::FILES.iter().find(|(p, ..)| *p == path)
    {
        // Review round 15: a PUT or DELETE of a file was answered with the file.
        if ![http::Method::GET, http::Method::HEAD].contains(&request.method) {
            return (
                http::StatusCode::METHOD_NOT_ALLOWED,
                [(http::header::ALLOW, "GET, HEAD")],
            )
                .into_response();
        }
        return (
            http::StatusCode::OK,
            [
                (http::header::CONTENT_TYPE, *content_type),
                (http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                (http::header::CACHE_CONTROL, "no-store"),
            ],
            *body,
        )
            .into_response();
    }
    // Link's calls also from Plaid's CDN origin: the emulator runs under it when a test swaps
    // Plaid's script for the sandbox's (a browser route, or a TLS stand-in for the CDN).
    let link = path.starts_with("/__sandbox/link/");
    let also: &[&str] = if link { &[PLAID_CDN_ORIGIN] } else { &[] };
    if let Some(refused) = from_another_site(&request.headers, also) {
        let request_id = lock(&app.state).request_id();
        return json_response(refused.status, &refused.to_json(&request_id));
    }
    if let Some(command) = path.strip_prefix("/__sandbox/link/") {
        let request_id = lock(&app.state).request_id();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let result = if request.method == http::Method::POST {
            crate::link_flow::handle(&app.state, command, &body, &request_id)
        } else {
            Err(Failure::code("NOT_FOUND"))
        };
        return match result {
            Ok(value) => json_response(200, &value),
            Err(f) => json_response(f.status, &f.to_json(&request_id)),
        };
    }
    if let Some(command) = path.strip_prefix(crate::ADMIN_PREFIX) {
        return admin(app, command, request);
    }
    // Only an operation's call takes an injected fault: a request that is none (a probe, a
    // favicon, a typo'd path) must not use up the one a test set (review round 21).
    let operation = (request.method == http::Method::POST && handlers::handler(path).is_some())
        || spec().is_ok_and(|spec| spec.find(request.method.as_str(), path).is_some());
    let mut outgoing = Vec::new();
    let (status, body, delay) = {
        let mut state = lock(&app.state);
        let fault = if operation {
            state.take_fault(path)
        } else {
            None
        };
        let request_id = state.request_id();
        let mut delay = None;
        let result = match fault {
            Some(Fault::RateLimit) => Err(Failure::code("RATE_LIMIT")),
            Some(Fault::ServerError) => Err(Failure::code("INTERNAL_SERVER_ERROR")),
            Some(Fault::MutationDuringPagination) => {
                // The data really changes: the next loop sees more transactions.
                for item in state.items.values_mut() {
                    item.ledger.refresh();
                }
                Err(Failure::code(
                    "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
                ))
            }
            Some(Fault::Slow(d)) => {
                delay = Some(d);
                handle(
                    &mut state,
                    &app.signer,
                    path,
                    request,
                    &request_id,
                    &mut outgoing,
                )
            }
            None => handle(
                &mut state,
                &app.signer,
                path,
                request,
                &request_id,
                &mut outgoing,
            ),
        };
        webhooks::send(&mut state, &app.outbox, outgoing);
        match result {
            Ok(Reply::Json(mut value)) => {
                if let Value::Object(map) = &mut value {
                    map.entry("request_id")
                        .or_insert_with(|| Value::String(request_id.clone()));
                }
                (200, Reply::Json(value), delay)
            }
            Ok(binary) => (200, binary, delay),
            Err(f) => (f.status, Reply::Json(f.to_json(&request_id)), delay),
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    match body {
        Reply::Json(value) => json_response(status, &value),
        Reply::Binary { content_type, body } => (
            http::StatusCode::OK,
            [(http::header::CONTENT_TYPE, content_type)],
            body,
        )
            .into_response(),
    }
}

/// The origin of Plaid's Link script, which the emulator runs under in the script-swap recipe.
const PLAID_CDN_ORIGIN: &str = "https://cdn.plaid.com";

/// The host name of [`PLAID_CDN_ORIGIN`]: a browser mapped to the sandbox for the script-swap
/// recipe addresses it by this name. Nobody but Plaid can point it at a machine by DNS.
const PLAID_CDN_HOST: &str = "cdn.plaid.com";

/// The host name in a `Host` header (`name`, `name:port`, `[::1]:port`), as a URL parser
/// reads it: lowercase, IP addresses in their one canonical form; `None` if it is no host.
pub(crate) fn host_of(authority: &str) -> Option<url::Host<String>> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', '\\']) {
        return None;
    }
    let url = url::Url::parse(&format!("http://{authority}/")).ok()?;
    url.host().map(|host| host.to_owned())
}

/// A request addressed to a host name the sandbox does not have: refused (421), against DNS
/// rebinding. A page at `http://attacker.example:4010` whose name then resolves to 127.0.0.1
/// reaches the sandbox as its own origin (its `Origin` and `Host` agree), and could reset it,
/// read its Items' transactions, or fire signed webhooks at other local services; its
/// browser names the attacker's host in `Host`, which this refuses. Answered: no `Host` (not
/// a browser), an IP address (rebinding needs a name), `localhost` and `*.localhost`
/// (browsers resolve them to loopback themselves), Plaid's CDN host, and the names given to
/// `allow_host` (a container's name, a proxy's).
fn misaddressed(headers: &http::HeaderMap, hosts: &[String]) -> Option<Failure> {
    let header = headers.get(http::header::HOST)?;
    let text = String::from_utf8_lossy(header.as_bytes());
    let answered = match host_of(&text) {
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name.ends_with(".localhost")
                || name == PLAID_CDN_HOST
                || hosts.contains(&name)
        }
        None => false,
    };
    (!answered).then(|| {
        Failure::new(
            421,
            "INVALID_REQUEST",
            "INVALID_HEADERS",
            format!(
                "this request was addressed to {text:?}: the offline sandbox answers requests \
                 for its IP addresses, localhost and the host names it was given \
                 (--allow-host, SandboxBuilder::allow_host), so that a web page cannot reach \
                 it under a name of its own (DNS rebinding)"
            ),
        )
    })
}

/// A request a web page on another site made (its browser says so in `Origin`): refused, as
/// the sandbox is for tests and back ends, and a page the developer happens to open could
/// otherwise reset it, move its clock or send its webhooks elsewhere with a form post. A
/// page of the sandbox's own origin, under whatever name the browser reached it by
/// (`127.0.0.1`, a container's name; http, or https through a proxy that ends TLS), is not
/// refused, nor one of the origins in `also`; clients that are not browsers send no `Origin`.
fn from_another_site(headers: &http::HeaderMap, also: &[&str]) -> Option<Failure> {
    let origin = headers.get(http::header::ORIGIN)?;
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    // http or https: behind a proxy that ends TLS the browser's origin is https while the
    // sandbox itself speaks http.
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let addressed = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let own = !host.is_empty() && addressed.is_some_and(|a| a.eq_ignore_ascii_case(host));
    let same = own || also.iter().any(|o| origin.eq_ignore_ascii_case(o));
    (!same).then(|| {
        Failure::new(
            400,
            "INVALID_REQUEST",
            "INVALID_HEADERS",
            format!(
                "a web page at {origin} sent this request: the offline sandbox answers tests and \
                 back ends, and its own Link pages, not other sites"
            ),
        )
    })
}

/// Values Plaid's docs accept where the spec's enum leaves them out: the stateful handler takes
/// them, the spec's check does not see them. `/sandbox/item/fire_webhook`'s description lists
/// `IDENTITY` among the `DEFAULT_UPDATE` webhook types; its `WebhookType` enum does not.
const DOCUMENTED_BEYOND_THE_SPEC: &[(&str, &str, &str)] =
    &[("/sandbox/item/fire_webhook", "webhook_type", "IDENTITY")];

/// The request checked against the operation's schema in the spec: Plaid's `INVALID_REQUEST`
/// error naming the first problem (unknown fields, then missing ones, then invalid values).
fn check_request(
    spec: &crate::spec::SpecIndex,
    op: &crate::spec::Operation,
    value: &Value,
) -> Result<(), Failure> {
    spec.check_request(op, value).map_err(|problem| {
        Failure::new(
            400,
            "INVALID_REQUEST",
            problem.error_code,
            problem.error_message,
        )
    })
}

/// A body sent as a type other than JSON is Plaid's `INVALID_BODY`: "The request content-type
/// was not of type application/json" (plaid.com/docs/errors/invalid-request/). Review round
/// 17: `text/plain`, or curl's default form type, was read as JSON all the same. No
/// `Content-Type` at all is taken as JSON.
fn sent_as_json(request: &Request) -> Result<(), Failure> {
    let Some(value) = request.headers.get(http::header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if media.is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        Ok(())
    } else {
        Err(Failure::code("INVALID_BODY").message(
            "the request's content-type was not application/json: the Plaid API takes JSON only",
        ))
    }
}

/// Checks the credentials, parses the body and answers one call: with the path's stateful
/// handler, or else the spec-driven answer (the request checked against the spec, the tokens it
/// names checked against the sandbox's, and a spec-valid answer from the spec's example).
fn handle(
    state: &mut State,
    signer: &WebhookSigner,
    path: &str,
    request: &Request,
    request_id: &str,
    outgoing: &mut Vec<Outgoing>,
) -> Result<Reply, Failure> {
    if let Some(handler) = handlers::handler(path).filter(|_| request.method == http::Method::POST)
    {
        sent_as_json(request)?;
        let body = Body::parse(&request.body)?;
        check_credentials(state, request, &body)?;
        // The spec's checks first, as at Plaid: unknown fields (a typo, a field of another
        // version), values outside an enum, missing required fields.
        let spec = spec()?;
        if let Some(op) = spec.find(request.method.as_str(), path) {
            let mut checked = body.0.clone();
            for (at, field, value) in DOCUMENTED_BEYOND_THE_SPEC {
                if *at == path && checked.get(*field).and_then(Value::as_str) == Some(value) {
                    checked.remove(*field);
                }
            }
            check_request(spec, op, &Value::Object(checked))?;
        }
        let mut ctx = Ctx {
            state,
            request_id: request_id.to_owned(),
            outgoing,
            signer,
        };
        return handler(&mut ctx, &body).map(Reply::Json);
    }
    let spec = spec()?;
    let Some(op) = spec.find(request.method.as_str(), path) else {
        return Err(not_served(request.method.as_str(), path));
    };
    let value: Value = if request.method == http::Method::POST {
        // A path that is no operation is NOT_FOUND (above) whatever its body's type.
        sent_as_json(request)?;
        serde_json::from_slice(&request.body).map_err(|_| Failure::code("INVALID_BODY"))?
    } else {
        Value::Object(Default::default())
    };
    let body = match &value {
        Value::Object(map) => Body(map.clone()),
        _ => return Err(Failure::code("INVALID_BODY")),
    };
    // Plaid asks every operation for its keys but the few the spec marks `security: []`.
    if !op.open {
        check_credentials(state, request, &body)?;
    }
    check_request(spec, op, &value)?;
    // The tokens the request names must be the sandbox's own, as at Plaid.
    let mut ctx = Ctx {
        state,
        request_id: request_id.to_owned(),
        outgoing,
        signer,
    };
    let mut echoed = value;
    if let Some(token) = body.str("access_token") {
        let item_id = handlers::open_item(&mut ctx, token)?;
        if handlers::asks_the_bank(path) {
            if let Some(error) = ctx.state.items.get(&item_id).and_then(|i| i.error.clone()) {
                return Err(error);
            }
        }
        // The answer talks about that Item: its id and its bank, where the response has those
        // fields (and the request does not name others).
        if let (Value::Object(map), Some(item)) = (&mut echoed, ctx.state.items.get(&item_id)) {
            for (key, known) in [
                ("item_id", item.item_id.as_str()),
                ("institution_id", item.bank.id),
                ("institution_name", item.bank.name),
            ] {
                map.entry(key)
                    .or_insert_with(|| Value::String(known.to_owned()));
            }
        }
    }
    if let Some(Value::Array(tokens)) = body.get("access_tokens") {
        for token in tokens.iter().filter_map(Value::as_str) {
            handlers::open_item(&mut ctx, token)?;
        }
    }
    if let Some(token) = body.str("processor_token") {
        if !ctx.state.processor_tokens.contains_key(token) {
            return Err(Failure::code("INVALID_PROCESSOR_TOKEN"));
        }
    }
    Ok(
        match spec.answer(op, &echoed, request_id, ctx.state.settings.seed) {
            crate::spec::Answer::Json(value) => Reply::Json(value),
            crate::spec::Answer::Binary { content_type, body } => {
                Reply::Binary { content_type, body }
            }
        },
    )
}

fn check_credentials(state: &State, request: &Request, body: &Body) -> Result<(), Failure> {
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
        return Err(Failure::missing(&absent.join(", ")));
    }
    if client_id.as_deref() != Some(state.settings.client_id.as_str())
        || secret.as_deref() != Some(state.settings.secret.as_str())
    {
        return Err(Failure::code("INVALID_API_KEYS"));
    }
    Ok(())
}

/// The answer for a path that is not one of Plaid's operations: Plaid's `NOT_FOUND`.
fn not_served(method: &str, path: &str) -> Failure {
    Failure::code("NOT_FOUND").message(format!(
        "{method} {path} is not an operation of Plaid's API (spec {})",
        plaid_sdk::SPEC_VERSION
    ))
}

/// The user finishing Link with a new-user token at `institution_id` with these credentials:
/// a public token tied to the Link token's user, products and webhook, and the session (with
/// `accounts`, the ones the user picked, or all) recorded for `/link/token/get`.
pub(crate) fn link_success(
    state: &mut State,
    link_token: &str,
    institution_id: &str,
    username: &str,
    password: &str,
    accounts: Option<&[usize]>,
) -> Result<String, Failure> {
    let link = handlers::live_link_token(state, link_token)?.clone();
    if link.item_id.is_some() {
        return Err(Failure::invalid_field(
            "an update-mode link token: use the update flow",
        ));
    }
    let prepared = handlers::items::prepare(
        state,
        institution_id,
        link.products.clone(),
        username,
        password,
        link.webhook.clone(),
    );
    let now = state.now();
    let session_id = state.uuid();
    let mut session = LinkSession {
        finished_at: Some(now),
        ..LinkSession::new(session_id, now)
    };
    let bank = crate::institutions::find(institution_id);
    let result = match prepared {
        Ok(mut pending) => {
            handlers::items::apply_link(&mut pending, &link);
            if let Some(picked) = accounts {
                keep_accounts(&mut pending, picked);
            }
            let public_token = state.new_public_token(pending.clone());
            session.outcome = Some(SessionOutcome::Success {
                public_token: public_token.clone(),
                institution_id: institution_id.to_owned(),
                institution_name: bank.map(|b| b.name.to_owned()).unwrap_or_default(),
                accounts: pending
                    .profile
                    .accounts
                    .iter()
                    .map(|a| json!({ "name": a.name, "mask": a.mask, "type": a.kind, "subtype": a.subtype }))
                    .collect(),
            });
            Ok(public_token)
        }
        Err(error) => {
            session.outcome = Some(SessionOutcome::Exit {
                error: Some(error.to_item_error()),
                status: "requires_credentials".into(),
                institution: bank.map(|b| (b.id.to_owned(), b.name.to_owned())),
                request_id: state.request_id(),
            });
            Err(error)
        }
    };
    if let Some(link) = state.link_tokens.get_mut(link_token) {
        link.sessions.push(session);
    }
    result
}

/// Keeps only the accounts the user picked in Link (by their index in the test user's data).
pub(crate) fn keep_accounts(pending: &mut PendingItem, picked: &[usize]) {
    let profile = &mut pending.profile;
    let keep: Vec<usize> = (0..profile.accounts.len())
        .filter(|i| picked.contains(i))
        .collect();
    if keep.is_empty() {
        return;
    }
    let remap = |old: usize| keep.iter().position(|k| *k == old);
    profile.accounts = keep.iter().map(|i| profile.accounts[*i].clone()).collect();
    profile.holdings.retain(|h| keep.contains(&h.account));
    for h in &mut profile.holdings {
        h.account = remap(h.account).unwrap_or(0);
    }
    profile
        .investment_transactions
        .retain(|t| keep.contains(&t.account));
    for t in &mut profile.investment_transactions {
        t.account = remap(t.account).unwrap_or(0);
    }
    profile.liabilities.retain(|l| keep.contains(&l.account()));
    for l in &mut profile.liabilities {
        match l {
            crate::users::LiabilityPlan::Credit { account, .. }
            | crate::users::LiabilityPlan::Student { account, .. }
            | crate::users::LiabilityPlan::Mortgage { account } => {
                *account = remap(*account).unwrap_or(0)
            }
        }
    }
    profile.default_product_data = false;
    match &mut profile.ledger {
        crate::users::LedgerPlan::Generated(slots) => {
            slots.checking = slots.checking.and_then(remap);
            slots.savings = slots.savings.and_then(remap);
            slots.card = slots.card.and_then(remap);
        }
        crate::users::LedgerPlan::Dynamic { checking, card } => {
            *checking = remap(*checking).unwrap_or(0);
            *card = card.and_then(remap);
        }
        crate::users::LedgerPlan::Custom(planned) => {
            planned.retain(|p| keep.contains(&p.account));
            for p in planned {
                p.account = remap(p.account).unwrap_or(0);
            }
        }
    }
}

/// The user finishing Link in update mode: the Item's error cleared and its login renewed. No
/// `LOGIN_REPAIRED`: Plaid sends it only when an Item recovers *without* the app's update mode
/// (the user repaired it in another app); the app learns of its own repair from `onSuccess`.
/// The Item's id.
pub(crate) fn link_update(
    state: &mut State,
    link_token: &str,
    credentials: Option<(&str, &str)>,
) -> Result<String, Failure> {
    let link = handlers::live_link_token(state, link_token)?.clone();
    let item_id = link
        .item_id
        .clone()
        .ok_or_else(|| Failure::invalid_field("not an update-mode link token"))?;
    let now = state.now();
    let bank = state
        .items
        .get(&item_id)
        .filter(|i| !i.removed)
        .ok_or_else(|| Failure::code("ITEM_NOT_FOUND"))?
        .bank;
    // The credentials typed, checked as at a new login: an `error_<CODE>` password fails
    // the repair and leaves the Item as it was.
    if let Some((username, password)) = credentials {
        handlers::items::prepare(state, bank.id, Vec::new(), username, password, None)?;
    }
    let Some(item) = state.items.get_mut(&item_id) else {
        return Err(Failure::code("ITEM_NOT_FOUND"));
    };
    item.error = None;
    item.login_expires_at = crate::state::later(now, crate::state::LOGIN_LIFE);
    // Update mode is how an app asks for more consent (`additional_consented_products`).
    for product in &link.consented {
        if !item.consented.contains(product) {
            item.consented.push(product.clone());
        }
    }
    let (bank, accounts) = (item.bank, item.accounts.clone());
    let profile = item.profile.clone();
    let session_id = state.uuid();
    let public_token = state.new_public_token(PendingItem::repair(
        &item_id,
        bank,
        profile,
        Vec::new(),
        now,
    ));
    if let Some(link) = state.link_tokens.get_mut(link_token) {
        link.sessions.push(LinkSession {
            finished_at: Some(now),
            outcome: Some(SessionOutcome::Success {
                public_token,
                institution_id: bank.id.to_owned(),
                institution_name: bank.name.to_owned(),
                accounts: accounts
                    .iter()
                    .map(|a| json!({ "id": a.id, "name": a.plan.name, "mask": a.plan.mask, "type": a.plan.kind, "subtype": a.plan.subtype }))
                    .collect(),
            }),
            ..LinkSession::new(session_id, now)
        });
    }
    Ok(item_id)
}

/// A whole number from the request's query string: `Ok(None)` when it is not there.
fn query_number(request: &Request, name: &str) -> Result<Option<usize>, String> {
    let Some(query) = &request.query else {
        return Ok(None);
    };
    let Some(value) = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    else {
        return Ok(None);
    };
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("{name} must be a whole number, not {value:?}"))
}

/// The longest wait an admin command may ask for (a chaos delay, a slow fault): ten minutes.
const MAX_DELAY_MS: u64 = 600_000;
const DELAY_RANGE: &str = "delay_ms must be [low, high], whole milliseconds up to 600000";

/// A field of an admin command's body; absent and `null` are the same.
fn field<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}

/// A whole-number field from `min` to `max`, if there is one; anything else is an error
/// naming it (review round 15: `-1` and `"2"` read as absent, `0` as a fault that never fired).
fn whole(body: &Value, name: &str, min: u64, max: u64) -> Result<Option<u64>, String> {
    match field(body, name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| format!("{name} must be a whole number from {min} to {max}")),
    }
}

/// The chaos `POST /__sandbox/webhooks/chaos` asks for, each field checked (its targets are
/// judged against the allowed hosts by the caller).
fn chaos_from(body: &Value) -> Result<WebhookChaos, String> {
    let duplicates = match field(body, "duplicates") {
        None => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|share| (0.0..=1.0).contains(share))
            .ok_or("duplicates must be a number from 0 to 1")?,
    };
    let max_copies = whole(body, "max_copies", 1, 100)?.unwrap_or(2);
    let (low, high) = match field(body, "delay_ms").map(|v| v.as_array().map(Vec::as_slice)) {
        None => (0, 0),
        Some(Some([low, high])) => match (low.as_u64(), high.as_u64()) {
            (Some(low), Some(high)) if low.max(high) <= MAX_DELAY_MS => (low, high),
            _ => return Err(DELAY_RANGE.to_owned()),
        },
        Some(_) => return Err(DELAY_RANGE.to_owned()),
    };
    let targets: Vec<String> = match field(body, "targets") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|t| t.iter().map(|t| t.as_str().map(str::to_owned)).collect())
            .ok_or("targets must be a list of URLs")?,
    };
    Ok(WebhookChaos::none()
        .duplicates(duplicates, max_copies as u32)
        .delay(Duration::from_millis(low), Duration::from_millis(high))
        .targets(targets))
}

/// Whether `ip` is this machine's (IPv4-mapped IPv6 included).
fn is_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        v4 => v4.is_loopback(),
    }
}

/// Whether the admin API answers `request`: from this machine, always; from another, with
/// the sandbox's client id and secret in the API's headers, and only once a secret of its
/// own was set (the default, [`crate::SECRET`], is published).
fn admin_allowed(request: &Request, settings: &crate::state::Settings) -> bool {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    request.local_peer
        || (settings.secret != crate::SECRET
            && header("plaid-client-id") == Some(settings.client_id.as_str())
            && header("plaid-secret") == Some(settings.secret.as_str()))
}

/// The sandbox's own endpoints, under [`crate::ADMIN_PREFIX`], for tests in any language. The
/// crate docs list them (lib.rs, "The admin API"), and so does the README: keep both in step
/// with this.
fn admin(app: &App, command: &str, request: &Request) -> axum::response::Response {
    // Review round 17: listening on 0.0.0.0 (a container's setup), the admin API answered
    // any host: a stranger moved the clock (every Item to ITEM_LOGIN_REQUIRED), reset it, or
    // aimed signed webhooks at any loopback port with the chaos targets. From another
    // machine it now takes the API's own PLAID-CLIENT-ID and PLAID-SECRET headers.
    if !admin_allowed(request, &lock(&app.state).settings) {
        let error = "the admin API answers another machine only with the sandbox's \
                     PLAID-CLIENT-ID and PLAID-SECRET headers, and only when it was started \
                     with a --secret of its own";
        return json_response(401, &json!({ "error": error }));
    }
    // Review round 15: a body that was not JSON read as `{}` (so `garbage{` turned the chaos
    // off and answered `{"chaos": true}`), and a field of the wrong type as absent.
    let body: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(body @ Value::Object(_)) => body,
            _ => {
                let error = "the body must be a JSON object (or empty)";
                return json_response(400, &json!({ "error": error }));
            }
        }
    };
    let method = request.method.as_str();
    // Review round 19: a misspelt field was ignored (`{"dupes": 1}` turned the chaos off and
    // answered 200): a field the command does not take is refused, named.
    // (Only for the commands that exist: an unknown one is a 404, below.)
    let known: Option<&[&str]> = match (method, command) {
        ("POST", "clock") => Some(&["advance_seconds"]),
        ("POST", "webhooks/chaos") => Some(&["duplicates", "max_copies", "delay_ms", "targets"]),
        ("POST", "faults") => Some(&["fault", "path", "times", "delay_ms"]),
        ("POST", "reset") => Some(&[]),
        _ => None,
    };
    if let Some((known, unknown)) = known.and_then(|known| {
        body.as_object()
            .and_then(|map| map.keys().find(|k| !known.contains(&k.as_str())))
            .map(|unknown| (known, unknown))
    }) {
        let takes = if known.is_empty() {
            "no fields".to_owned()
        } else {
            known.join(", ")
        };
        let error =
            format!("unknown field {unknown:?}: {method} /__sandbox/{command} takes {takes}");
        return json_response(400, &json!({ "error": error }));
    }
    let mut state = lock(&app.state);
    let mut outgoing = Vec::new();
    // `items/<id>/transactions`: the Item's id (review round 15: `items/transactions` passed
    // a prefix and a suffix test, and the slice between them began after its end, a panic).
    let transactions_of = command
        .strip_prefix("items/")
        .and_then(|rest| rest.strip_suffix("/transactions"));
    let (status, answer) = match (method, command) {
        ("POST", "reset") => {
            state.reset();
            (200, json!({ "reset": true }))
        }
        ("GET", "clock") => (200, json!({ "now": state.now() })),
        ("POST", "clock") => match body.get("advance_seconds").and_then(Value::as_f64) {
            Some(s) if s >= 0.0 && s.is_finite() => {
                outgoing =
                    handlers::advance_clock(&mut state, Duration::from_secs_f64(s.min(3.2e9)));
                (200, json!({ "now": state.now() }))
            }
            _ => (
                400,
                json!({ "error": "advance_seconds must be a number of seconds >= 0" }),
            ),
        },
        ("POST", "webhooks/chaos") => {
            let chaos = match chaos_from(&body) {
                Ok(chaos) => chaos,
                Err(error) => return json_response(400, &json!({ "error": error })),
            };
            let hosts = &state.settings.webhook_hosts;
            if let Some(bad) = chaos
                .targets
                .iter()
                .find(|t| !webhooks::webhook_allowed(t, hosts))
            {
                let error = format!(
                    "targets: {bad:?} is not an http(s) URL on a loopback host or a host allowed \
                     with --allow-webhook-host"
                );
                return json_response(400, &json!({ "error": error }));
            }
            state.chaos = chaos;
            (200, json!({ "chaos": true }))
        }
        // `?since=N`: only the webhooks from index N on, so a test polling for new ones
        // copies those, not the server's whole history, under the lock every call takes.
        ("GET", "webhooks") => match query_number(request, "since") {
            Err(bad) => (400, json!({ "error": bad })),
            Ok(since) => {
                let since = since.unwrap_or(0).min(state.webhooks.len());
                let webhooks: Vec<Value> = state.webhooks[since..]
                    .iter()
                    .map(|w| json!({ "url": w.url, "body": w.body, "status": w.status, "copy": w.copy, "attempts": w.attempts }))
                    .collect();
                (
                    200,
                    json!({ "webhooks": webhooks, "since": since, "next": state.webhooks.len() }),
                )
            }
        },
        ("POST", "faults") => {
            let numbers = whole(&body, "times", 1, 1_000_000)
                .and_then(|times| Ok((times, whole(&body, "delay_ms", 0, MAX_DELAY_MS)?)));
            let (times, delay_ms) = match numbers {
                Ok(numbers) => numbers,
                Err(error) => return json_response(400, &json!({ "error": error })),
            };
            let fault = match body.get("fault").and_then(Value::as_str) {
                Some("rate_limit") => Some(Fault::RateLimit),
                Some("server_error") => Some(Fault::ServerError),
                Some("mutation") => Some(Fault::MutationDuringPagination),
                Some("slow") => Some(Fault::Slow(Duration::from_millis(delay_ms.unwrap_or(1000)))),
                _ => None,
            };
            if delay_ms.is_some() && fault.as_ref().is_some_and(|f| !matches!(f, Fault::Slow(_))) {
                let error = "delay_ms applies to the slow fault only";
                return json_response(400, &json!({ "error": error }));
            }
            // A path no request can have would make a fault that never fires, and a test
            // that expects it pass for the wrong reason. A fault matches a request's path as
            // written: an operation's path, or one its template takes (`/fdx/consents/c-1`
            // for `/fdx/consents/{consentId}`), without a trailing slash.
            let path = match body.get("path") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(path)) => match spec() {
                    Ok(spec)
                        if !path.contains(['{', '?', '#'])
                            && (path == "/" || !path.ends_with('/'))
                            && ["POST", "GET"]
                                .iter()
                                .any(|method| spec.find(method, path).is_some()) =>
                    {
                        Ok(Some(path.clone()))
                    }
                    _ => Err(format!(
                        "path {path:?} is not a path of an operation of the spec (GET /__sandbox/operations lists them)"
                    )),
                },
                Some(_) => Err("path must be a string".to_owned()),
            };
            match (fault, path) {
                (_, Err(problem)) => (400, json!({ "error": problem })),
                (Some(fault), Ok(path)) => {
                    state.faults.push(crate::state::Injected {
                        path,
                        fault,
                        remaining: times.unwrap_or(1) as u32,
                    });
                    (200, json!({ "injected": true }))
                }
                (None, _) => (
                    400,
                    json!({ "error": "fault must be rate_limit, server_error, mutation or slow" }),
                ),
            }
        }
        ("GET", "version") => (
            200,
            json!({ "plaid_sandbox": env!("CARGO_PKG_VERSION"), "spec": plaid_sdk::SPEC_VERSION }),
        ),
        ("GET", "operations") => match spec() {
            Ok(spec) => (
                200,
                json!({
                    "spec": spec.version(),
                    "operations": spec.operations().map(|op| json!({
                        "method": op.method,
                        "path": op.path,
                        "operation_id": op.operation_id,
                        "answer": if handlers::handler(&op.path).is_some() { "stateful" } else { "spec" },
                        "content_type": op.content_type(),
                    })).collect::<Vec<_>>(),
                }),
            ),
            Err(f) => (500, f.to_json("admin")),
        },
        ("GET", _) if transactions_of.is_some() => {
            let id = transactions_of.unwrap_or_default();
            match state.items.get(id).filter(|item| !item.removed) {
                Some(item) => (
                    200,
                    json!({ "transactions": handlers::transactions::ledger(item) }),
                ),
                None => (404, json!({ "error": format!("no Item {id}") })),
            }
        }
        _ => (
            404,
            json!({ "error": format!("no sandbox command {method} {command}") }),
        ),
    };
    webhooks::send(&mut state, &app.outbox, outgoing);
    drop(state);
    json_response(status, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(local_peer: bool, credentials: &[(&'static str, &'static str)]) -> Request {
        let mut headers = http::HeaderMap::new();
        for (name, value) in credentials {
            headers.insert(*name, http::HeaderValue::from_static(value));
        }
        Request {
            method: http::Method::POST,
            headers,
            body: bytes::Bytes::new(),
            query: None,
            local_peer,
        }
    }

    /// Review round 17: on 0.0.0.0 the admin API answered any host. This machine needs no
    /// credentials (every loopback address, IPv4-mapped too); another needs the API's own.
    #[test]
    fn the_admin_api_asks_another_machine_for_the_client_id_and_secret() {
        let settings = crate::state::Settings::for_tests();
        let good = [("plaid-client-id", "id"), ("plaid-secret", "secret")];
        assert!(admin_allowed(&request(true, &[]), &settings));
        assert!(admin_allowed(&request(false, &good), &settings));
        assert!(!admin_allowed(&request(false, &[]), &settings));
        assert!(!admin_allowed(
            &request(
                false,
                &[("plaid-client-id", "id"), ("plaid-secret", "wrong")]
            ),
            &settings
        ));
        assert!(!admin_allowed(
            &request(false, &[("plaid-client-id", "id")]),
            &settings
        ));
        // The published default secret opens nothing from another machine.
        let mut published = settings.clone();
        published.secret = crate::SECRET.into();
        let default = [("plaid-client-id", "id"), ("plaid-secret", crate::SECRET)];
        assert!(!admin_allowed(&request(false, &default), &published));
        assert!(admin_allowed(&request(true, &[]), &published));
        for local in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(local.parse().unwrap()), "{local}");
        }
        for remote in [
            "192.0.2.2",
            "10.0.0.1",
            "::ffff:192.0.2.2",
            "2001:db8::1",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(remote.parse().unwrap()), "{remote}");
        }
    }
}
