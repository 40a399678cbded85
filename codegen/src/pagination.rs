//! Which operations are paginated, and how, read from the spec; and the `Paginated` impls for
//! them. Deriving the set from the spec means a paginated endpoint Plaid adds in a newer spec
//! gets a paginator with no change here.
//!
//! Plaid paginates in four ways, all in the request body:
//!
//! * **offset**: `offset` (+ `count`), at the top level or in `options`; the response may carry
//!   a total (`total`, `total_transactions`, …) or `has_more`, or neither (then a short page is
//!   the last one);
//! * **cursor**: `cursor` in, `next_cursor` out (empty or missing at the end);
//! * **after_id**: `after_id` in; the next page starts after the last item's `event_id`;
//! * **sync**: `cursor` in, `next_cursor` + `has_more` + `added`/`modified`/`removed` out:
//!   the `/transactions/sync` family, driven by `crate::sync`, not by a generic paginator.

use crate::codegen::Op;
use crate::postprocess::{is_option, unraw};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value};
use syn::{Fields, Item, Type};

/// How an operation paginates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `offset` (+ `count`).
    Offset,
    /// `cursor` / `next_cursor`.
    Cursor,
    /// `after_id`.
    AfterId,
    /// The `/transactions/sync` family.
    Sync,
}

/// A request field, at the top level or inside a container field (`options`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    /// The container (`options`), if the field is nested.
    pub container: Option<String>,
    /// The field.
    pub field: String,
}

/// One paginated operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paginated {
    /// `POST`
    pub method: String,
    /// `/transfer/list`
    pub path: String,
    /// How it paginates.
    pub style: Style,
    /// The offset, cursor or after_id field.
    pub position: FieldPath,
    /// The page-size field, if any.
    pub count: Option<FieldPath>,
    /// The largest page size the spec allows.
    pub max_count: Option<u64>,
    /// The response's list of items.
    pub items: String,
    /// The response's total, if any.
    pub total: Option<String>,
    /// Whether the response has `has_more`.
    pub has_more: bool,
    /// Whether the response has `next_cursor`.
    pub next_cursor: bool,
    /// For `after_id`: the item field holding the id.
    pub item_id: Option<String>,
}

/// The properties of a schema, `allOf` members merged ([`crate::spec::all_properties`]).
fn properties(spec: &Value, schema: &Value) -> Map<String, Value> {
    crate::spec::all_properties(spec, schema)
        .into_iter()
        .map(|(name, prop)| (name.clone(), prop.clone()))
        .collect()
}

fn is_type(spec: &Value, schema: &Value, ty: &str) -> bool {
    crate::spec::follow_refs(spec, schema)
        .get("type")
        .and_then(Value::as_str)
        == Some(ty)
}

/// Every paginated operation of the spec. Run it on the spec before normalization, which drops
/// the `maximum` of `count`.
pub fn analyze(spec: &Value) -> Result<Vec<Paginated>, String> {
    let mut out = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (path, item) in paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(body) = op.pointer("/requestBody/content/application~1json/schema") else {
                continue;
            };
            let Some(response) = op
                .get("responses")
                .and_then(Value::as_object)
                .and_then(|r| {
                    r.iter()
                        .find(|(code, _)| code.starts_with('2'))
                        .and_then(|(_, resp)| resp.pointer("/content/application~1json/schema"))
                })
            else {
                continue;
            };
            let at = format!("operation {} {path}", method.to_uppercase());
            let request = properties(spec, body);
            let options = request
                .get("options")
                .map(|o| properties(spec, o))
                .unwrap_or_default();
            let reply = properties(spec, response);
            let find = |name: &str| -> Option<FieldPath> {
                if request.contains_key(name) {
                    Some(FieldPath {
                        container: None,
                        field: name.into(),
                    })
                } else if options.contains_key(name) {
                    Some(FieldPath {
                        container: Some("options".into()),
                        field: name.into(),
                    })
                } else {
                    None
                }
            };
            let (style, position) =
                if request.contains_key("cursor") && reply.contains_key("next_cursor") {
                    let sync = reply.contains_key("has_more") && reply.contains_key("added");
                    (
                        if sync { Style::Sync } else { Style::Cursor },
                        find("cursor"),
                    )
                } else if let Some(after) = find("after_id") {
                    (Style::AfterId, Some(after))
                } else if let Some(offset) = find("offset") {
                    (Style::Offset, Some(offset))
                } else {
                    continue;
                };
            let position = position.ok_or_else(|| format!("{at}: no position field"))?;
            let count = find("count");
            let max_count = count.as_ref().and_then(|c| {
                let schema = match &c.container {
                    None => request.get(&c.field),
                    Some(_) => options.get(&c.field),
                }?;
                crate::spec::follow_refs(spec, schema)
                    .get("maximum")
                    .and_then(Value::as_u64)
            });
            let total = reply
                .iter()
                .find(|(k, v)| {
                    k.starts_with("total")
                        && (is_type(spec, v, "integer") || is_type(spec, v, "number"))
                })
                .map(|(k, _)| k.clone());
            let arrays: Vec<&String> = reply
                .iter()
                .filter(|(k, v)| is_type(spec, v, "array") && k.as_str() != "warnings")
                .map(|(k, _)| k)
                .collect();
            let items = if style == Style::Sync {
                "added".to_owned()
            } else if let Some(name) = total.as_deref().and_then(|t| t.strip_prefix("total_")) {
                arrays
                    .iter()
                    .find(|a| a.as_str() == name)
                    .map(|a| a.to_string())
                    .ok_or_else(|| {
                        format!(
                            "{at}: total `{}` but no `{name}` list",
                            total.as_deref().unwrap_or("")
                        )
                    })?
            } else if arrays.len() == 1 {
                arrays[0].clone()
            } else {
                return Err(format!(
                    "{at}: paginated, but which list holds the items? {arrays:?}"
                ));
            };
            let item_id = if style == Style::AfterId {
                let list = reply
                    .get(&items)
                    .ok_or_else(|| format!("{at}: no `{items}`"))?;
                let item_schema = crate::spec::follow_refs(spec, list)
                    .get("items")
                    .cloned()
                    .unwrap_or(Value::Null);
                let fields = properties(spec, &item_schema);
                let id = ["event_id", "id"]
                    .into_iter()
                    .find(|f| fields.contains_key(*f));
                Some(
                    id.ok_or_else(|| {
                        format!("{at}: after_id pagination, but `{items}` items have no id")
                    })?
                    .to_owned(),
                )
            } else {
                None
            };
            out.push(Paginated {
                method: method.to_uppercase(),
                path: path.clone(),
                style,
                position,
                count,
                max_count,
                items,
                total,
                has_more: reply.contains_key("has_more"),
                next_cursor: reply.contains_key("next_cursor"),
                item_id,
            });
        }
    }
    Ok(out)
}

// --- code generation -------------------------------------------------------------------------

/// The last path segment of a type (`Transaction` for `types::Transaction`), or `""`.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn find_struct<'a>(types: &'a [Item], name: &str) -> Option<&'a syn::ItemStruct> {
    types.iter().find_map(|item| match item {
        Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })
}

fn field<'a>(s: &'a syn::ItemStruct, name: &str) -> Option<&'a syn::Field> {
    match &s.fields {
        Fields::Named(f) => f
            .named
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| unraw(i) == name)),
        _ => None,
    }
}

fn ident(name: &str) -> syn::Ident {
    syn::parse_str::<syn::Ident>(name).unwrap_or_else(|_| format_ident!("r#{}", name))
}

/// The single type argument of `Vec<T>` / `Option<T>`, or the type itself.
fn inner(ty: &Type) -> &Type {
    if let Type::Path(p) = ty {
        if let Some(seg) = p.path.segments.last() {
            if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
                    return t;
                }
            }
        }
    }
    ty
}

/// A generated type's name as seen from outside the `types` module.
fn qualified(ty: &Type) -> TokenStream {
    match ty {
        Type::Path(p)
            if p.qself.is_none()
                && p.path.leading_colon.is_none()
                && p.path.segments.len() == 1 =>
        {
            quote!(types::#ty)
        }
        _ => quote!(#ty),
    }
}

/// Accessors for a request field: (read, as an `Option<&T>` expression; mutable place).
fn place(
    types: &[Item],
    request: &syn::ItemStruct,
    path: &FieldPath,
    at: &str,
) -> Result<(TokenStream, TokenStream), String> {
    let name = ident(&path.field);
    match &path.container {
        None => {
            field(request, &path.field).ok_or_else(|| format!("{at}: no field {}", path.field))?;
            Ok((
                quote!(::std::option::Option::Some(&self.#name)),
                quote!(&mut self.#name),
            ))
        }
        Some(container) => {
            let c =
                field(request, container).ok_or_else(|| format!("{at}: no field {container}"))?;
            let c_ident = ident(container);
            let c_type = if is_option(&c.ty) {
                inner(&c.ty)
            } else {
                &c.ty
            };
            let c_name = type_name(c_type);
            let c_struct = find_struct(types, &c_name)
                .ok_or_else(|| format!("{at}: {container} is not a struct"))?;
            field(c_struct, &path.field)
                .ok_or_else(|| format!("{at}: no field {container}.{}", path.field))?;
            if is_option(&c.ty) {
                Ok((
                    quote!(self.#c_ident.as_ref().map(|c| &c.#name)),
                    quote!(&mut self.#c_ident.get_or_insert_with(::std::default::Default::default).#name),
                ))
            } else {
                Ok((
                    quote!(::std::option::Option::Some(&self.#c_ident.#name)),
                    quote!(&mut self.#c_ident.#name),
                ))
            }
        }
    }
}

/// The `Paginated` impls (one token stream each), and the lists of paginated operation names
/// for the `operations` module.
pub fn generate(
    pages: &[Paginated],
    ops: &[Op],
    types: &[Item],
) -> Result<(Vec<TokenStream>, TokenStream), String> {
    let mut impls = Vec::new();
    let mut generic = Vec::new();
    let mut sync = Vec::new();
    for p in pages {
        let Some(op) = ops
            .iter()
            .find(|o| o.method == p.method && o.path == p.path)
        else {
            continue;
        };
        let name = unraw(&op.name);
        if p.style == Style::Sync {
            sync.push(name);
            continue;
        }
        let at = format!("operation {name}");
        let request_name = op.request();
        let request = find_struct(types, &request_name.to_string())
            .ok_or_else(|| format!("{at}: no request struct"))?;
        let crate::codegen::Response::Json(response_ty) = &op.response else {
            return Err(format!("{at}: paginated, but its response is not JSON"));
        };
        let response_name = type_name(response_ty);
        let response = find_struct(types, &response_name)
            .ok_or_else(|| format!("{at}: no response struct"))?;
        let items_field = field(response, &p.items)
            .ok_or_else(|| format!("{at}: no `{}` in the response", p.items))?;
        let item_ty = qualified(inner(if is_option(&items_field.ty) {
            inner(&items_field.ty)
        } else {
            &items_field.ty
        }));
        let items_ident = ident(&p.items);
        let (position_read, position_place) = place(types, request, &p.position, &at)?;
        let (count_read, count_place) = match &p.count {
            Some(c) => {
                let (r, w) = place(types, request, c, &at)?;
                (
                    quote!(#r.and_then(crate::pagination::NumberField::get)),
                    quote!(crate::pagination::NumberField::set(#w, size);),
                )
            }
            None => (quote!(::std::option::Option::None), quote!(let _ = size;)),
        };
        let set_position = match p.style {
            Style::Offset => quote! {
                match position {
                    crate::pagination::Position::Offset(offset) => {
                        crate::pagination::NumberField::set(#position_place, *offset);
                        ::std::result::Result::Ok(())
                    }
                    other => ::std::result::Result::Err(
                        crate::pagination::wrong_kind(other, Self::PAGINATION.style),
                    ),
                }
            },
            Style::Cursor => quote! {
                match position {
                    crate::pagination::Position::Cursor(cursor) => {
                        crate::pagination::TextField::set(#position_place, cursor)
                    }
                    other => ::std::result::Result::Err(
                        crate::pagination::wrong_kind(other, Self::PAGINATION.style),
                    ),
                }
            },
            Style::AfterId => quote! {
                match position {
                    crate::pagination::Position::AfterId(id) => {
                        crate::pagination::TextField::set(#position_place, id)
                    }
                    other => ::std::result::Result::Err(
                        crate::pagination::wrong_kind(other, Self::PAGINATION.style),
                    ),
                }
            },
            Style::Sync => {
                return Err(format!(
                    "{at}: sync-style pagination has no generic paginator"
                ))
            }
        };
        // The position the request itself names (an `offset` set with its setter): where
        // the listing starts when no stored position is given.
        let position = match p.style {
            Style::Offset => quote! {
                #position_read
                    .and_then(crate::pagination::NumberField::get)
                    .map(crate::pagination::Position::Offset)
            },
            Style::Cursor => quote! {
                #position_read
                    .and_then(crate::pagination::TextField::get)
                    .filter(|cursor| !cursor.is_empty())
                    .map(crate::pagination::Position::Cursor)
            },
            Style::AfterId => quote! {
                #position_read
                    .and_then(crate::pagination::TextField::get)
                    .filter(|id| !id.is_empty())
                    .map(crate::pagination::Position::AfterId)
            },
            Style::Sync => unreachable!("refused above"),
        };
        let total = match &p.total {
            Some(t) => {
                let t = ident(t);
                quote!(crate::pagination::NumberField::get(&response.#t))
            }
            None => quote!(::std::option::Option::None),
        };
        let has_more = if p.has_more {
            quote!(crate::pagination::FlagField::get(&response.has_more))
        } else {
            quote!(::std::option::Option::None)
        };
        let next_cursor = if p.next_cursor {
            quote!(crate::pagination::TextField::get(&response.next_cursor))
        } else {
            quote!(::std::option::Option::None)
        };
        let last_id = match &p.item_id {
            Some(id) => {
                let id = ident(id);
                quote!(items.last().map(|item| item.#id.to_string()))
            }
            None => quote!(::std::option::Option::None),
        };
        let style = match p.style {
            Style::Offset => quote!(crate::pagination::Style::Offset),
            Style::Cursor => quote!(crate::pagination::Style::Cursor),
            Style::AfterId => quote!(crate::pagination::Style::AfterId),
            Style::Sync => {
                return Err(format!(
                    "{at}: sync-style pagination has no generic paginator"
                ))
            }
        };
        let max = match p.max_count {
            Some(m) => quote!(::std::option::Option::Some(#m)),
            None => quote!(::std::option::Option::None),
        };
        let (has_total, has_more_flag) = (p.total.is_some(), p.has_more);
        impls.push(quote! {
            impl crate::pagination::Paginated for types::#request_name {
                type Item = #item_ty;
                const PAGINATION: crate::pagination::Pagination = crate::pagination::Pagination {
                    style: #style,
                    max_page_size: #max,
                    has_total: #has_total,
                    has_more: #has_more_flag,
                };
                fn page_size(&self) -> ::std::option::Option<u64> {
                    #count_read
                }
                fn set_page_size(&mut self, size: u64) {
                    #count_place
                }
                fn set_position(&mut self, position: &crate::pagination::Position) -> ::std::result::Result<(), ::std::string::String> {
                    #set_position
                }
                fn position(&self) -> ::std::option::Option<crate::pagination::Position> {
                    #position
                }
                fn into_page(response: Self::Response) -> crate::pagination::PageData<Self::Item> {
                    let total = #total;
                    let has_more = #has_more;
                    let next_cursor = #next_cursor;
                    let items: ::std::vec::Vec<Self::Item> = crate::pagination::ListField::take(response.#items_ident);
                    let last_id = #last_id;
                    crate::pagination::PageData { items, total, has_more, next_cursor, last_id }
                }
            }
        });
        generic.push(name);
    }
    Ok((
        impls,
        quote! {
            /// The names of the operations with a generic paginator ([`PlaidClient::paginate`](crate::PlaidClient::paginate)),
            /// derived from the spec.
            pub const PAGINATED: &[&str] = &[#(#generic),*];
            /// The names of the `/transactions/sync`-style operations, driven by [`crate::sync`].
            pub const SYNC_PAGINATED: &[&str] = &[#(#sync),*];
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(paths: Value, schemas: Value) -> Value {
        json!({ "paths": paths, "components": { "schemas": schemas } })
    }

    fn op(request: &str, response: &str) -> Value {
        json!({ "post": {
            "requestBody": { "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request}") } } } },
            "responses": { "200": { "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{response}") } } } } },
        } })
    }

    #[test]
    fn finds_each_style_with_its_fields() {
        let s = spec(
            json!({
                "/transactions/get": op("TGReq", "TGResp"),
                "/wallet/list": op("WLReq", "WLResp"),
                "/transfer/event/sync": op("ESReq", "ESResp"),
                "/transfer/list": op("TLReq", "TLResp"),
                "/transactions/sync": op("TSReq", "TSResp"),
                "/item/get": op("IGReq", "IGResp"),
            }),
            json!({
                "TGReq": { "properties": { "options": { "$ref": "#/components/schemas/TGOpts" } } },
                "TGOpts": { "properties": { "count": { "type": "integer", "maximum": 500 }, "offset": { "type": "integer" } } },
                "TGResp": { "properties": { "accounts": { "type": "array" }, "transactions": { "type": "array" },
                                            "total_transactions": { "type": "integer" } } },
                "WLReq": { "properties": { "cursor": { "type": "string" }, "count": { "type": "integer", "maximum": 20 } } },
                "WLResp": { "properties": { "wallets": { "type": "array" }, "next_cursor": { "type": "string" } } },
                "ESReq": { "allOf": [{ "properties": { "after_id": { "type": "integer" } } },
                                     { "properties": { "count": { "type": "integer", "maximum": 25 } } }] },
                "ESResp": { "properties": { "transfer_events": { "type": "array", "items": { "$ref": "#/components/schemas/Ev" } } } },
                "Ev": { "properties": { "event_id": { "type": "integer" } } },
                "TLReq": { "properties": { "count": { "type": "integer", "maximum": 25 }, "offset": { "type": "integer" } } },
                "TLResp": { "properties": { "transfers": { "type": "array" }, "warnings": { "type": "array" } } },
                "TSReq": { "properties": { "cursor": { "type": "string" } } },
                "TSResp": { "properties": { "added": { "type": "array" }, "next_cursor": { "type": "string" }, "has_more": { "type": "boolean" } } },
                "IGReq": { "properties": { "access_token": { "type": "string" } } },
                "IGResp": { "properties": {} },
            }),
        );
        let found = analyze(&s).unwrap();
        let by = |path: &str| {
            found
                .iter()
                .find(|p| p.path == path)
                .unwrap_or_else(|| panic!("{path}"))
        };
        assert_eq!(found.len(), 5, "/item/get is not paginated");
        let tg = by("/transactions/get");
        assert_eq!(
            (
                tg.style,
                tg.items.as_str(),
                tg.total.as_deref(),
                tg.max_count
            ),
            (
                Style::Offset,
                "transactions",
                Some("total_transactions"),
                Some(500)
            )
        );
        assert_eq!(
            tg.position,
            FieldPath {
                container: Some("options".into()),
                field: "offset".into()
            }
        );
        let wl = by("/wallet/list");
        assert_eq!(
            (wl.style, wl.items.as_str(), wl.max_count, wl.next_cursor),
            (Style::Cursor, "wallets", Some(20), true)
        );
        let es = by("/transfer/event/sync");
        assert_eq!(
            (es.style, es.item_id.as_deref(), es.max_count),
            (Style::AfterId, Some("event_id"), Some(25))
        );
        let tl = by("/transfer/list");
        assert_eq!(
            (
                tl.style,
                tl.items.as_str(),
                tl.total.as_deref(),
                tl.has_more
            ),
            (Style::Offset, "transfers", None, false)
        );
        assert_eq!(by("/transactions/sync").style, Style::Sync);
    }

    #[test]
    fn an_ambiguous_item_list_is_an_error_naming_the_operation() {
        let s = spec(
            json!({ "/x/list": op("Req", "Resp") }),
            json!({
                "Req": { "properties": { "cursor": { "type": "string" } } },
                "Resp": { "properties": { "a": { "type": "array" }, "b": { "type": "array" }, "next_cursor": { "type": "string" } } },
            }),
        );
        let e = analyze(&s).unwrap_err();
        assert!(
            e.contains("POST /x/list") && e.contains("which list"),
            "{e}"
        );
    }
}
