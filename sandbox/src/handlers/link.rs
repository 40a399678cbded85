//! `/link/token/create` and `/link/token/get`, and the Link sessions behind them: what the Link
//! emulator and `Sandbox::complete_link` record when a user goes through Link.

use super::{json, open_item, Answer, Ctx};
use crate::body::Body;
use crate::failure::Failure;
use crate::state::{
    LinkSession, LinkToken, SessionOutcome, State, LINK_TOKEN_LIFE, UPDATE_LINK_TOKEN_LIFE,
};
use plaid_sdk::types::{
    CountryCode, LinkEvent, LinkEventMetadata, LinkSessionExit, LinkSessionExitMetadata,
    LinkSessionExitMetadataInstitution, LinkSessionItemAddResult, LinkSessionResults,
    LinkSessionSuccess, LinkSessionSuccessMetadata, LinkSessionSuccessMetadataAccount,
    LinkSessionSuccessMetadataInstitution, LinkTokenCreateResponse, LinkTokenGetMetadataResponse,
    LinkTokenGetResponse, LinkTokenGetSessionsResponse, Products,
};
use serde_json::Value;

/// The products `/link/token/create` takes (the spec's `Products`, less `balance`, which Plaid
/// refuses there).
const LINK_PRODUCTS: &[&str] = &[
    "assets",
    "auth",
    "beacon",
    "employment",
    "identity",
    "income_verification",
    "identity_verification",
    "investments",
    "liabilities",
    "payment_initiation",
    "standing_orders",
    "signal",
    "statements",
    "transactions",
    "transfer",
    "cra_base_report",
    "cra_income_insights",
    "cra_partner_insights",
    "cra_network_insights",
    "cra_cashflow_insights",
    "cra_monitoring",
    "cra_lend_score",
    "layer",
    "pay_by_bank",
    "protect_linked_bank",
    "investments_auth",
    "recurring_transactions",
    "processor_payments",
    "processor_identity",
    "profile",
    "credit_details",
    "income",
    "identity_match",
];

/// The languages Link is displayed in (the spec's description of `language`).
const LANGUAGES: &[&str] = &[
    "da", "nl", "en", "et", "fr", "de", "hi", "it", "lv", "lt", "no", "pl", "pt", "ro", "es", "sv",
    "vi",
];

/// The name Link shows for the app: Plaid shows "This Application" when `client_name` is longer
/// than 30 characters (the spec's description of `client_name`).
pub(crate) fn shown_client_name(client_name: &str) -> &str {
    if client_name.chars().count() > 30 {
        "This Application"
    } else {
        client_name
    }
}

/// The country codes Plaid serves.
const COUNTRIES: &[&str] = &[
    "US", "GB", "ES", "NL", "FR", "IE", "CA", "DE", "IT", "PL", "DK", "NO", "SE", "EE", "LT", "LV",
    "PT", "BE", "AT", "FI",
];

pub(super) fn create(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    // Longer than 30 characters is accepted; Link shows "This Application" instead (see
    // `shown_client_name`).
    let client_name = body.required("client_name")?;
    let language = body.required("language")?.to_owned();
    if !LANGUAGES.contains(&language.as_str()) {
        return Err(Failure::invalid_field(format!(
            "language: {language} is not a supported language (one of {})",
            LANGUAGES.join(", ")
        )));
    }
    let country_codes = body.required_list("country_codes")?;
    if let Some(bad) = country_codes
        .iter()
        .find(|c| !COUNTRIES.contains(&c.as_str()))
    {
        return Err(Failure::invalid_field(format!(
            "country_codes: {bad} is not a supported country"
        )));
    }
    // `user.client_user_id`, or the newer `user_id` (from /user/create) in its place.
    let client_user_id = match (body.get("user"), body.optional("user_id")?) {
        (Some(user), _) => match user.get("client_user_id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            None | Some(Value::Null) => return Err(Failure::missing("user.client_user_id")),
            Some(_) => {
                return Err(Failure::invalid_field(
                    "user.client_user_id must be a non-empty string",
                ))
            }
        },
        (None, Some(user_id)) => user_id.to_owned(),
        (None, None) => return Err(Failure::missing("user")),
    };
    let products = body.strings("products")?;
    // The consent Link collects beyond `products` (the spec's `consented_products`).
    let if_supported = crate::state::IfSupported {
        required: body.strings("required_if_supported_products")?,
        optional: body.strings("optional_products")?,
    };
    let mut consented = body.strings("additional_consented_products")?;
    consented.extend(if_supported.required.iter().cloned());
    consented.extend(if_supported.optional.iter().cloned());
    if let Some(bad) = products
        .iter()
        .chain(&consented)
        .find(|p| !LINK_PRODUCTS.contains(&p.as_str()))
    {
        return Err(Failure::code("INVALID_PRODUCT").message(format!(
            "client is not authorized to access the following products: [\"{bad}\"]"
        )));
    }
    let item_id = match body.optional("access_token")? {
        Some(token) => Some(open_item(ctx, token)?),
        None if products.is_empty() => return Err(Failure::missing("products")),
        None => None,
    };
    let webhook = body.optional("webhook")?.map(str::to_owned);
    let redirect_uri = body.optional("redirect_uri")?.map(str::to_owned);
    let days_requested = crate::state::History::days_requested(
        body.get("transactions")
            .and_then(|t| t.get("days_requested")),
        "transactions.days_requested",
    )?;
    let account_selection = match body
        .get("update")
        .and_then(|u| u.get("account_selection_enabled"))
    {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Failure::invalid_field(
                "update.account_selection_enabled must be a boolean",
            ))
        }
    };
    let now = ctx.state.now();
    let life = if item_id.is_some() {
        UPDATE_LINK_TOKEN_LIFE
    } else {
        LINK_TOKEN_LIFE
    };
    let link_token = ctx.state.token("link");
    ctx.state.link_tokens.insert(
        link_token.clone(),
        LinkToken {
            created_at: now,
            expires_at: crate::state::later(now, life),
            client_user_id,
            item_id,
            products,
            consented,
            if_supported,
            webhook,
            country_codes,
            language,
            client_name: client_name.to_owned(),
            redirect_uri,
            days_requested,
            account_selection,
            account_filters: body
                .get("account_filters")
                .filter(|f| !f.is_null())
                .cloned(),
            sessions: Vec::new(),
        },
    );
    json(&LinkTokenCreateResponse::new(
        link_token,
        crate::state::later(now, life),
        ctx.request_id.clone(),
    ))
}

pub(super) fn get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let token = body.required("link_token")?;
    let link = ctx
        .state
        .link_tokens
        .get(token)
        .ok_or_else(|| Failure::code("INVALID_LINK_TOKEN"))?;
    let products: Vec<Products> = link
        .products
        .iter()
        .map(|p| Products::from(p.as_str()))
        .collect();
    let mut metadata = LinkTokenGetMetadataResponse::new(
        link.country_codes
            .iter()
            .map(|c| CountryCode::from(c.as_str()))
            .collect::<Vec<_>>(),
        products,
    )
    .client_name(link.client_name.clone())
    .language(link.language.clone());
    let filters: Option<plaid_sdk::types::AccountFiltersResponse> = link
        .account_filters
        .as_ref()
        .and_then(|f| serde_json::from_value(f.clone()).ok());
    if let Some(filters) = filters {
        metadata = metadata.account_filters(filters);
    }
    if let Some(url) = &link.webhook {
        metadata = metadata.webhook(url.clone());
    }
    if let Some(uri) = &link.redirect_uri {
        metadata = metadata.redirect_uri(uri.clone());
    }
    let sessions: Vec<LinkTokenGetSessionsResponse> =
        link.sessions.iter().map(session_json).collect();
    json(
        &LinkTokenGetResponse::new(token.to_owned(), metadata, ctx.request_id.clone())
            .created_at(link.created_at)
            .expiration(link.expires_at)
            .link_sessions(sessions),
    )
}

fn session_json(session: &LinkSession) -> LinkTokenGetSessionsResponse {
    let mut out = LinkTokenGetSessionsResponse::new(session.id.clone())
        .started_at(session.started_at)
        .events(
            session
                .events
                .iter()
                .enumerate()
                .map(|(n, (name, at, metadata))| {
                    let mut meta = LinkEventMetadata::new(
                        metadata
                            .get("request_id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    );
                    let text = |k: &str| metadata.get(k).and_then(Value::as_str).map(str::to_owned);
                    if let Some(v) = text("view_name") {
                        meta = meta.view_name(v);
                    }
                    if let Some(v) = text("institution_id") {
                        meta = meta.institution_id(v);
                    }
                    if let Some(v) = text("institution_name") {
                        meta = meta.institution_name(v);
                    }
                    if let Some(v) = text("error_code") {
                        meta = meta.error_code(v);
                    }
                    if let Some(v) = text("error_type") {
                        meta = meta.error_type(v);
                    }
                    if let Some(v) = text("error_message") {
                        meta = meta.error_message(v);
                    }
                    if let Some(v) = text("exit_status") {
                        meta = meta.exit_status(v);
                    }
                    if let Some(v) = text("mfa_type") {
                        meta = meta.mfa_type(v);
                    }
                    if let Some(v) = text("institution_search_query") {
                        meta = meta.institution_search_query(v);
                    }
                    // Plaid's event_id is a UUID: one made from the session's id and the
                    // event's place, so that every /link/token/get names an event alike.
                    let key = format!("{}/{n}", session.id);
                    let event_id = crate::rng::uuid(
                        crate::rng::Rng::hash(&key),
                        crate::rng::Rng::hash(&format!("{key}/event")),
                    );
                    LinkEvent::new(
                        event_id,
                        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        name.clone(),
                    )
                    .event_metadata(meta)
                })
                .collect::<Vec<_>>(),
        );
    if let Some(at) = session.finished_at {
        out = out.finished_at(at);
    }
    match &session.outcome {
        Some(SessionOutcome::Success {
            public_token,
            institution_id,
            institution_name,
            accounts,
        }) => {
            let accounts: Vec<LinkSessionSuccessMetadataAccount> = accounts
                .iter()
                .map(|a| {
                    let text = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
                    let mut account = LinkSessionSuccessMetadataAccount::new();
                    if let Some(v) = text("id") {
                        account = account.id(v);
                    }
                    if let Some(v) = text("name") {
                        account = account.name(v);
                    }
                    if let Some(v) = text("mask") {
                        account = account.mask(v);
                    }
                    if let Some(v) = text("type") {
                        account = account.type_(v);
                    }
                    if let Some(v) = text("subtype") {
                        account = account.subtype(v);
                    }
                    account
                })
                .collect();
            let institution = LinkSessionSuccessMetadataInstitution::new()
                .institution_id(institution_id.clone())
                .name(institution_name.clone());
            out = out
                .on_success(
                    LinkSessionSuccess::new(plaid_sdk::PublicToken::new(public_token.clone()))
                        .metadata(
                            LinkSessionSuccessMetadata::new()
                                .accounts(accounts.clone())
                                .institution(institution.clone())
                                .link_session_id(session.id.clone()),
                        ),
                )
                .results(LinkSessionResults::new(
                    vec![LinkSessionItemAddResult::new(
                        plaid_sdk::PublicToken::new(public_token.clone()),
                        accounts,
                    )
                    .institution(institution)],
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                ));
        }
        Some(SessionOutcome::Exit {
            error,
            status,
            institution,
            request_id,
        }) => {
            let mut metadata = LinkSessionExitMetadata::new()
                .link_session_id(session.id.clone())
                .request_id(request_id.clone())
                .status(status.clone());
            if let Some((id, name)) = institution {
                metadata = metadata.institution(
                    LinkSessionExitMetadataInstitution::new()
                        .institution_id(id.clone())
                        .name(name.clone()),
                );
            }
            let mut exit = LinkSessionExit::new().metadata(metadata);
            if let Some(error) = error
                .as_ref()
                .and_then(|e| serde_json::from_value::<plaid_sdk::ApiError>(e.clone()).ok())
            {
                exit = exit.error(error);
            }
            out = out.exit(exit);
        }
        None => {}
    }
    out
}

/// A live Link token (known and not expired), for a session to use.
pub(crate) fn live_link_token<'s>(
    state: &'s mut State,
    token: &str,
) -> Result<&'s mut LinkToken, Failure> {
    let now = state.now();
    match state.link_tokens.get_mut(token) {
        Some(link) if link.expires_at > now => Ok(link),
        Some(_) => Err(Failure::code("INVALID_LINK_TOKEN").message("link token has expired")),
        None => Err(Failure::code("INVALID_LINK_TOKEN")),
    }
}
