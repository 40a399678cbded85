//! `/institutions/get`, `/institutions/search` and `/institutions/get_by_id` over Plaid's
//! sandbox institutions.

use super::{json, Answer, Ctx};
use crate::body::{offset, page_count, Body};
use crate::failure::Failure;
use crate::institutions::{self, Bank, Include, BANKS};
use plaid_sdk::types::{
    Institution, InstitutionsGetByIdResponse, InstitutionsGetResponse, InstitutionsSearchResponse,
};
use serde_json::Value;

/// The required `country_codes`, each a two-letter code.
fn countries(body: &Body) -> Result<Vec<String>, Failure> {
    let list = body.required_list("country_codes")?;
    if let Some(bad) = list
        .iter()
        .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(Failure::invalid_field(format!(
            "country_codes: {bad} is not a country code"
        )));
    }
    Ok(list)
}

/// A list of product names from `value` (`options.products` or the top-level `products`).
fn products(value: Option<&Value>, field: &str) -> Result<Vec<String>, Failure> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Failure::invalid_field(format!("{field} must be a list of products"))),
        Some(_) => Err(Failure::invalid_field(format!(
            "{field} must be a list of products"
        ))),
    }
}

/// Whether a bank passes the common filters: country, products (all of them), `oauth`.
fn keeps(bank: &Bank, countries: &[String], products: &[String], oauth: Option<bool>) -> bool {
    countries.iter().any(|c| c == bank.country)
        && products.iter().all(|p| bank.offers(p))
        && oauth.is_none_or(|o| o == bank.oauth)
}

fn oauth(body: &Body) -> Result<Option<bool>, Failure> {
    match body.option("oauth") {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Failure::invalid_field("options.oauth must be a boolean")),
    }
}

/// What `options` asks every institution operation to add (`include_status` is
/// `/institutions/get_by_id`'s alone).
fn include(body: &Body) -> Result<Include, Failure> {
    Ok(Include {
        optional_metadata: body.option_flag("include_optional_metadata")?,
        auth_metadata: body.option_flag("include_auth_metadata")?,
        status: false,
    })
}

pub(super) fn get(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let count = page_count(body.get("count"), "count", 100, 500)?;
    let skip = offset(body.get("offset"), "offset")?;
    if body.get("count").is_none() {
        return Err(Failure::missing("count"));
    }
    if body.get("offset").is_none() {
        return Err(Failure::missing("offset"));
    }
    let countries = countries(body)?;
    let wanted = products(body.option("products"), "options.products")?;
    let routing = products(body.option("routing_numbers"), "options.routing_numbers")?;
    let oauth = oauth(body)?;
    let include = include(body)?;
    let matching: Vec<&Bank> = BANKS
        .iter()
        .filter(|b| keeps(b, &countries, &wanted, oauth))
        .filter(|b| {
            routing
                .iter()
                .all(|r| b.routing_numbers.contains(&r.as_str()))
        })
        .collect();
    let page: Vec<Institution> = matching
        .iter()
        .skip(skip)
        .take(count)
        .map(|b| b.institution(include))
        .collect();
    json(&InstitutionsGetResponse::new(
        page,
        matching.len() as i64,
        ctx.request_id.clone(),
    ))
}

/// Up to ten institutions whose names match the query (see [`institutions::matches`]).
pub(super) fn search(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let query = body.required("query")?;
    let countries = countries(body)?;
    let wanted = products(body.get("products"), "products")?;
    let oauth = oauth(body)?;
    let include = include(body)?;
    let found: Vec<Institution> = BANKS
        .iter()
        .filter(|b| keeps(b, &countries, &wanted, oauth) && institutions::matches(b, query))
        .take(10)
        .map(|b| b.institution(include))
        .collect();
    json(&InstitutionsSearchResponse::new(
        found,
        ctx.request_id.clone(),
    ))
}

pub(super) fn get_by_id(ctx: &mut Ctx<'_>, body: &Body) -> Answer {
    let id = body.required("institution_id")?;
    let countries = countries(body)?;
    let include = Include {
        status: body.option_flag("include_status")?,
        ..include(body)?
    };
    let bank = institutions::find(id)
        .filter(|b| countries.iter().any(|c| c == b.country))
        .ok_or_else(|| Failure::code("INVALID_INSTITUTION"))?;
    json(&InstitutionsGetByIdResponse::new(
        bank.institution(include),
        ctx.request_id.clone(),
    ))
}
