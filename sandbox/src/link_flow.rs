//! The offline Link: the pages the sandbox serves in place of Plaid's (`link/`), and the calls
//! they make under `/__sandbox/link/` to go through a Link session: institution search, login
//! (with MFA), account selection, success or exit, and the events for `/link/token/get`.

use crate::failure::Failure;
use crate::handlers;
use crate::institutions::{self, BANKS};
use crate::state::{lock, LinkSession, PendingItem, SessionOutcome, State};
use crate::users::Mfa;
use serde_json::{json, Value};
use std::sync::Mutex;

/// The script an app loads in place of `https://cdn.plaid.com/link/v2/stable/link-initialize.js`.
pub(crate) const SCRIPT_PATH: &str = "/link/v2/stable/link-initialize.js";

/// The files of the offline Link: `(path, content type, body)`.
pub(crate) const FILES: &[(&str, &str, &str)] = &[
    (
        SCRIPT_PATH,
        "text/javascript; charset=utf-8",
        include_str!("../link/link-initialize.js"),
    ),
    (
        "/link/emulator.html",
        "text/html; charset=utf-8",
        include_str!("../link/emulator.html"),
    ),
];

/// Where a user is in a Link session: logged in (the Item to create, or the Item being
/// repaired), through how many MFA rounds.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub(crate) item: PendingItem,
    pub(crate) mfa_rounds_done: u32,
    /// Update mode: the Item repaired.
    pub(crate) update_of: Option<String>,
}

fn str_field<'a>(body: &'a Value, name: &str) -> Result<&'a str, Failure> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Failure::missing(name))
}

/// The session a call names, in a live Link token.
fn session<'s>(state: &'s mut State, body: &Value) -> Result<&'s mut LinkSession, Failure> {
    let token = str_field(body, "link_token")?.to_owned();
    let id = str_field(body, "link_session_id")?.to_owned();
    let link = handlers::live_link_token(state, &token)?;
    link.sessions
        .iter_mut()
        .find(|s| s.id == id)
        .ok_or_else(|| {
            Failure::invalid_field("link_session_id is not a session of this link token")
        })
}

/// The session a call names, while it has no outcome: a Link session ends once (in a public
/// token or an exit), and a finished session takes no further login or MFA answer, nor a
/// choice of accounts or an exit (but see [`replayed_success`]).
fn open_session<'s>(state: &'s mut State, body: &Value) -> Result<&'s mut LinkSession, Failure> {
    let session = session(state, body)?;
    if session.outcome.is_some() {
        return Err(Failure::invalid_field(
            "this Link session has ended; open Link again for a new one",
        ));
    }
    Ok(session)
}

/// A session's success, answered again as `complete` first answered it (same public token):
/// to a `complete` whose answer was lost, and to an `exit` the user confirmed while that
/// answer was on its way (the page then hands the app this success, which the sandbox has
/// recorded, rather than an exit it has not).
fn replayed_success(session: &LinkSession, request_id: &str) -> Option<Value> {
    let Some(SessionOutcome::Success {
        public_token,
        institution_id,
        institution_name,
        accounts,
    }) = &session.outcome
    else {
        return None;
    };
    Some(json!({
        "public_token": public_token,
        "request_id": request_id,
        "metadata": {
            "institution": { "name": institution_name, "institution_id": institution_id },
            "accounts": accounts,
            "link_session_id": session.id,
            "transfer_status": null,
        },
    }))
}

/// Answers one `/__sandbox/link/<command>` call.
pub(crate) fn handle(
    state_lock: &Mutex<State>,
    command: &str,
    body: &Value,
    request_id: &str,
) -> Result<Value, Failure> {
    let mut state = lock(state_lock);
    let state = &mut *state;
    match command {
        "session" => start(state, body, request_id),
        "institutions" => search(state, body, request_id),
        "login" => login(state, body, request_id),
        "mfa" => mfa(state, body, request_id),
        "complete" => complete(state, body, request_id),
        "exit" => exit(state, body, request_id),
        "event" => event(state, body),
        other => Err(Failure::code("NOT_FOUND").message(format!("no Link emulator call {other}"))),
    }
}

fn start(state: &mut State, body: &Value, request_id: &str) -> Result<Value, Failure> {
    // No token at all is a token Link cannot use: INVALID_LINK_TOKEN, as for an unknown one.
    let token = body
        .get("link_token")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let now = state.now();
    let session_id = state.uuid();
    let link = handlers::live_link_token(state, &token)?.clone();
    let institution = match &link.item_id {
        Some(item_id) => {
            let item = state
                .items
                .get(item_id)
                .filter(|i| !i.removed)
                .ok_or_else(|| Failure::code("ITEM_NOT_FOUND"))?;
            json!({ "institution_id": item.bank.id, "name": item.bank.name })
        }
        None => Value::Null,
    };
    if let Some(link) = state.link_tokens.get_mut(&token) {
        // A link token may open Link any number of times in its 4 hours: the latest sessions
        // are kept, so a page that reopens it in a loop cannot grow the sandbox without end.
        if link.sessions.len() >= MAX_SESSIONS {
            link.sessions.remove(0);
        }
        link.sessions
            .push(LinkSession::new(session_id.clone(), now));
    }
    Ok(json!({
        "link_session_id": session_id,
        "request_id": request_id,
        "mode": if link.item_id.is_some() { "update" } else { "new" },
        // Update mode shows Account Select only when the token asked for it
        // (`update.account_selection_enabled`), as Plaid's does for a non-OAuth bank.
        "account_selection_enabled": link.item_id.is_none() || link.account_selection,
        "client_name": handlers::shown_client_name(&link.client_name),
        "language": link.language,
        "products": link.products,
        "country_codes": link.country_codes,
        "institution": institution,
    }))
}

fn search(state: &mut State, body: &Value, request_id: &str) -> Result<Value, Failure> {
    let token = str_field(body, "link_token")?.to_owned();
    let link = handlers::live_link_token(state, &token)?.clone();
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    let found: Vec<Value> = BANKS
        .iter()
        .filter(|b| link.country_codes.iter().any(|c| c == b.country))
        .filter(|b| link.products.iter().all(|p| b.offers(p)))
        .filter(|b| query.is_empty() || institutions::matches(b, &query))
        .take(10)
        .map(|b| {
            json!({
                "institution_id": b.id,
                "name": b.name,
                "oauth": b.oauth,
                "primary_color": b.color,
                "logo": institutions::logo_png_base64(b.color),
            })
        })
        .collect();
    Ok(json!({ "institutions": found, "request_id": request_id }))
}

/// Whether Link shows an account on Account Select for this link token. Plaid's
/// `LinkTokenAccountFilters`: with `auth` among the products, only checking, savings and
/// cash management accounts; with `account_filters`, only the types it names, each limited
/// to its `account_subtypes` (`all` for every one): "any account type for which a filter is
/// not specified will be entirely omitted from Link".
fn shows(link: &crate::state::LinkToken, account: &crate::users::AccountPlan) -> bool {
    if link.products.iter().any(|p| p == "auth") && !account.auth_eligible() {
        return false;
    }
    let Some(filters) = &link.account_filters else {
        return true;
    };
    let Some(subtypes) = filters
        .get(&account.kind)
        .and_then(|f| f.get("account_subtypes"))
        .and_then(Value::as_array)
    else {
        return false;
    };
    subtypes
        .iter()
        .filter_map(Value::as_str)
        .any(|s| s == "all" || s == account.subtype)
}

/// The accounts the user is shown to pick from.
fn accounts_step(item: &PendingItem, request_id: &str) -> Value {
    json!({
        "next": "select_account",
        "request_id": request_id,
        "accounts": item.profile.accounts.iter().enumerate().map(|(i, a)| json!({
            "index": i, "name": a.name, "mask": a.mask, "type": a.kind, "subtype": a.subtype,
        })).collect::<Vec<_>>(),
    })
}

/// The MFA step for round `round` (0-based), if the credentials ask for one that far.
fn mfa_step(mfa: &Mfa, round: u32, request_id: &str) -> Option<Value> {
    let step = match mfa {
        Mfa::Device if round == 0 => json!({
            "type": "device",
            "prompt": "Enter the code sent to your device (the sandbox's code is 1234).",
        }),
        Mfa::Questions { rounds, per_round } if round < *rounds => json!({
            "type": "questions",
            "prompt": format!("Answer the security questions (round {} of {rounds}).", round + 1),
            "questions": (0..*per_round)
                .map(|q| format!("Question {} (answer: answer_{round}_{q})", q + 1))
                .collect::<Vec<_>>(),
        }),
        Mfa::Selections { rounds } if round < *rounds => json!({
            "type": "selections",
            "prompt": format!("Did you open an account at this bank in 2015? (round {} of {rounds})", round + 1),
            "options": ["Yes", "No"],
        }),
        _ => return None,
    };
    Some(json!({ "next": "mfa", "mfa": step, "request_id": request_id }))
}

fn login(state: &mut State, body: &Value, request_id: &str) -> Result<Value, Failure> {
    let institution_id = str_field(body, "institution_id")?.to_owned();
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let password = body
        .get("password")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let token = str_field(body, "link_token")?.to_owned();
    let link = handlers::live_link_token(state, &token)?.clone();
    open_session(state, body)?;
    // Link lists only the banks of the token's countries (see `search`); a login elsewhere is
    // a bank the user could not have picked.
    if link.item_id.is_none()
        && !institutions::find(&institution_id)
            .is_some_and(|b| link.country_codes.iter().any(|c| c == b.country))
    {
        return Err(Failure::code("INVALID_INSTITUTION").message(format!(
            "{institution_id} is not offered in this link token's country_codes"
        )));
    }
    let (item, update_of) = match &link.item_id {
        Some(item_id) => {
            let existing = state
                .items
                .get(item_id)
                .filter(|i| !i.removed)
                .ok_or_else(|| Failure::code("ITEM_NOT_FOUND"))?;
            if existing.bank.id != institution_id {
                return Err(Failure::invalid_field(
                    "update mode repairs the Item at its own institution",
                ));
            }
            let (bank, profile) = (existing.bank, existing.profile.clone());
            let existing_account_ids: Vec<String> =
                existing.accounts.iter().map(|a| a.id.clone()).collect();
            // The credentials are checked as at a new login; the Item keeps its data.
            let fresh = handlers::items::prepare(
                state,
                &institution_id,
                Vec::new(),
                &username,
                &password,
                None,
            )?;
            let pending = PendingItem::repair(
                item_id,
                bank,
                crate::users::Profile {
                    mfa: fresh.profile.mfa,
                    ..profile
                },
                existing_account_ids,
                state.now(),
            );
            (pending, Some(item_id.clone()))
        }
        None => {
            let mut pending = handlers::items::prepare(
                state,
                &institution_id,
                link.products.clone(),
                &username,
                &password,
                link.webhook.clone(),
            )?;
            handlers::items::apply_link(&mut pending, &link);
            // Account Select shows only the accounts the link token's products and
            // `account_filters` allow; none left is Plaid's error for it.
            let shown: Vec<usize> = (0..pending.profile.accounts.len())
                .filter(|i| shows(&link, &pending.profile.accounts[*i]))
                .collect();
            if shown.is_empty() {
                let auth = link.products.iter().any(|p| p == "auth");
                return Err(Failure::code(if auth {
                    "NO_AUTH_ACCOUNTS"
                } else {
                    "NO_ACCOUNTS"
                }));
            }
            crate::server::keep_accounts(&mut pending, &shown);
            (pending, None)
        }
    };
    let next = match &item.profile.mfa {
        Some(mfa) => {
            mfa_step(mfa, 0, request_id).unwrap_or_else(|| accounts_step(&item, request_id))
        }
        None => accounts_step(&item, request_id),
    };
    let session = open_session(state, body)?;
    session.login = Some(Login {
        item,
        mfa_rounds_done: 0,
        update_of,
    });
    Ok(next)
}

fn mfa(state: &mut State, body: &Value, request_id: &str) -> Result<Value, Failure> {
    let answers: Vec<String> = body
        .get("answers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let session = open_session(state, body)?;
    let login = session
        .login
        .as_mut()
        .ok_or_else(|| Failure::invalid_field("log in before answering MFA"))?;
    let mfa = login
        .item
        .profile
        .mfa
        .clone()
        .ok_or_else(|| Failure::invalid_field("this login asked for no MFA"))?;
    let round = login.mfa_rounds_done;
    if mfa_step(&mfa, round, request_id).is_none() {
        // Review round 15: answers after the last round were taken, each a round more.
        return Err(Failure::invalid_field(
            "this login's MFA is done; choose the accounts",
        ));
    }
    let right = match &mfa {
        Mfa::Device => answers.first().map(String::as_str) == Some("1234"),
        Mfa::Questions { per_round, .. } => {
            answers.len() == *per_round as usize
                && answers
                    .iter()
                    .enumerate()
                    .all(|(q, a)| *a == format!("answer_{round}_{q}"))
        }
        Mfa::Selections { .. } => answers.first().map(String::as_str) == Some("Yes"),
    };
    if !right {
        return Err(Failure::code("INVALID_MFA"));
    }
    login.mfa_rounds_done += 1;
    Ok(mfa_step(&mfa, login.mfa_rounds_done, request_id)
        .unwrap_or_else(|| accounts_step(&login.item, request_id)))
}

fn complete(state: &mut State, body: &Value, request_id: &str) -> Result<Value, Failure> {
    let token = str_field(body, "link_token")?.to_owned();
    let picked: Vec<usize> = body
        .get("accounts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .map(|n| n as usize)
                .collect()
        })
        .unwrap_or_default();
    if let Some(done) = replayed_success(session(state, body)?, request_id) {
        return Ok(done);
    }
    let login = open_session(state, body)?
        .login
        .clone()
        .ok_or_else(|| Failure::invalid_field("log in before choosing accounts"))?;
    if let Some(mfa) = &login.item.profile.mfa {
        if mfa_step(mfa, login.mfa_rounds_done, "").is_some() {
            return Err(Failure::invalid_field("answer the MFA questions first"));
        }
    }
    let total = login.item.profile.accounts.len();
    if picked.is_empty() || picked.iter().any(|i| *i >= total) {
        return Err(Failure::invalid_field(
            "choose at least one of the accounts shown",
        ));
    }
    let bank = login.item.bank;
    let now = state.now();
    let (public_token, accounts) = match &login.update_of {
        Some(_) => {
            crate::server::link_update(state, &token, None)?;
            let link = handlers::live_link_token(state, &token)?;
            // link_update recorded its own session: take its token, and fold it into this one.
            let recorded = link.sessions.pop();
            let public_token = match recorded.and_then(|s| s.outcome) {
                Some(SessionOutcome::Success { public_token, .. }) => public_token,
                _ => return Err(Failure::code("INTERNAL_SERVER_ERROR")),
            };
            let item_id = login.update_of.clone().unwrap_or_default();
            // The accounts the user kept on Account Select (all of them without the pane).
            let accounts = state
                .items
                .get(&item_id)
                .map(|i| {
                    i.accounts
                        .iter()
                        .enumerate()
                        .filter(|(n, _)| picked.contains(n))
                        .map(|(_, a)| account_json(&a.id, &a.plan))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            (public_token, accounts)
        }
        None => {
            let mut item = login.item.clone();
            crate::server::keep_accounts(&mut item, &picked);
            item.account_ids = (0..item.profile.accounts.len())
                .map(|_| state.id(37))
                .collect();
            let accounts: Vec<Value> = item
                .profile
                .accounts
                .iter()
                .zip(&item.account_ids)
                .map(|(a, id)| account_json(id, a))
                .collect();
            (state.new_public_token(item), accounts)
        }
    };
    let session = session(state, body)?;
    session.finished_at = Some(now);
    session.outcome = Some(SessionOutcome::Success {
        public_token: public_token.clone(),
        institution_id: bank.id.to_owned(),
        institution_name: bank.name.to_owned(),
        accounts: accounts.clone(),
    });
    let session_id = session.id.clone();
    Ok(json!({
        "public_token": public_token,
        "request_id": request_id,
        "metadata": {
            "institution": { "name": bank.name, "institution_id": bank.id },
            "accounts": accounts,
            "link_session_id": session_id,
            "transfer_status": null,
        },
    }))
}

/// An account as Link's `onSuccess` metadata shows it, with the id the Item's account will
/// have once the public token is exchanged (as Plaid's does).
fn account_json(id: &str, a: &crate::users::AccountPlan) -> Value {
    json!({
        "id": id,
        "name": a.name,
        "mask": a.mask,
        "type": a.kind,
        "subtype": a.subtype,
        "verification_status": null,
        "class_type": null,
    })
}

fn exit(state: &mut State, body: &Value, request_id: &str) -> Result<Value, Failure> {
    let status = match body.get("status") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.is_empty() || EXIT_STATUSES.contains(&s.as_str()) => s.clone(),
        Some(_) => {
            return Err(Failure::invalid_field(format!(
                "an exit's status is one of {}",
                EXIT_STATUSES.join(", ")
            )))
        }
    };
    let institution = body
        .get("institution_id")
        .and_then(Value::as_str)
        .and_then(institutions::find)
        .map(|b| (b.id.to_owned(), b.name.to_owned()));
    let error = body.get("error").filter(|e| e.is_object());
    if error.is_some_and(|e| e.to_string().len() > MAX_EVENT_BYTES) {
        return Err(Failure::invalid_field(format!(
            "an exit's error takes at most {MAX_EVENT_BYTES} bytes"
        )));
    }
    let error = error.map(|e| only(e, EXIT_ERROR_FIELDS).0);
    let now = state.now();
    if let Some(done) = replayed_success(session(state, body)?, request_id) {
        return Ok(done);
    }
    let session = open_session(state, body)?;
    session.finished_at = Some(now);
    session.outcome = Some(SessionOutcome::Exit {
        error,
        status: status.clone(),
        institution: institution.clone(),
        request_id: request_id.to_owned(),
    });
    Ok(json!({
        "request_id": request_id,
        "metadata": {
            "institution": institution.map(|(id, name)| json!({ "name": name, "institution_id": id })),
            "status": if status.is_empty() { Value::Null } else { Value::String(status) },
            "link_session_id": session.id,
            "request_id": request_id,
        },
    }))
}

/// The statuses of Plaid's `onExit` metadata (plaid.com/docs/link/web/#onexit): the pane the
/// user left from. Review round 17: any text was kept, so 40 exits of a 1.9 MB status grew
/// the server by 94 MB and made `/link/token/get` answer 78 MB.
const EXIT_STATUSES: &[&str] = &[
    "requires_questions",
    "requires_selections",
    "requires_code",
    "choose_device",
    "requires_credentials",
    "requires_account_selection",
    "requires_oauth",
    "institution_not_found",
    "institution_not_supported",
];

/// Link sessions kept per link token (the latest).
const MAX_SESSIONS: usize = 100;

/// The largest event a session records: Plaid's event metadata is a few hundred bytes.
const MAX_EVENT_BYTES: usize = 16 * 1024;

/// What a session's events take at most, all together (a Link session has a few dozen
/// events), counting what each keeps ([`EVENT_FIELDS`]) and [`EVENT_OVERHEAD`]: with
/// [`MAX_SESSIONS`], 25.6 MiB per link token at most.
const MAX_SESSION_EVENT_BYTES: usize = 256 * 1024;

/// The metadata fields `/link/token/get` reports of an event (Plaid's `LinkEventMetadata`):
/// all an event keeps. Review round 15: metadata kept whole, parsed, took about ten times its
/// text (`[[],[],…]`), so one link token's sessions held 564 MB.
const EVENT_FIELDS: &[&str] = &[
    "request_id",
    "view_name",
    "institution_id",
    "institution_name",
    "error_code",
    "error_type",
    "error_message",
    "exit_status",
    "mfa_type",
    "institution_search_query",
];

/// The fields of Plaid's error an exit keeps (its `error` in `/link/token/get`).
const EXIT_ERROR_FIELDS: &[&str] = &[
    "error_type",
    "error_code",
    "error_code_reason",
    "error_message",
    "display_message",
    "request_id",
    "status",
    "documentation_url",
    "suggested_action",
];

/// What an event costs beyond the text it keeps: its name's and time's places, its map.
const EVENT_OVERHEAD: usize = 128;

/// The string and number `fields` of `value`, and the bytes they take as text.
fn only(value: &Value, fields: &[&str]) -> (Value, usize) {
    let mut kept = serde_json::Map::new();
    let mut bytes = 0;
    for &field in fields {
        if let Some(v @ (Value::String(_) | Value::Number(_))) = value.get(field) {
            bytes += field.len() + v.as_str().map_or(20, str::len);
            kept.insert(field.to_owned(), v.clone());
        }
    }
    (Value::Object(kept), bytes)
}

fn event(state: &mut State, body: &Value) -> Result<Value, Failure> {
    let name = str_field(body, "event_name")?.to_owned();
    let metadata = body.get("metadata").unwrap_or(&Value::Null);
    if name.len() + metadata.to_string().len() > MAX_EVENT_BYTES {
        return Err(Failure::invalid_field(format!(
            "an event's name and metadata take at most {MAX_EVENT_BYTES} bytes"
        )));
    }
    let (metadata, kept) = only(metadata, EVENT_FIELDS);
    let size = name.len() + kept + EVENT_OVERHEAD;
    let now = state.now();
    let session = session(state, body)?;
    if session.events.len() < 1_000 && session.events_bytes + size <= MAX_SESSION_EVENT_BYTES {
        session.events_bytes += size;
        session.events.push((name, now, metadata));
    }
    Ok(json!({}))
}
