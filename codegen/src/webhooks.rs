//! Typed webhook events from the spec's webhook schemas.
//!
//! Plaid's webhook body schemas (most named `…Webhook`) pin their `webhook_type` and
//! `webhook_code`, by a one-value enum or by naming the value in the description
//! ("`TRANSACTIONS`", "`\"DEPOSIT_SWITCH\"`"). This module reads those pairs and generates
//! `WebhookEvent`: one variant per body, and `Unrecognized` for any other pair. Some pairs have
//! two schemas (`SYNC_UPDATES_AVAILABLE` for an Item and for a processor token); the dispatcher
//! tries the Item one first, then the one named after the code, then `Processor…` ones, and
//! the first the body parses as wins. Two schemas of a pair with the same fields are one body
//! and get one variant: the other could never arrive.

use crate::spec::{pascal_case, snake_case};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use std::collections::BTreeMap;
use syn::Item;

/// One webhook schema and the pair it is sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// `TRANSACTIONS`
    pub webhook_type: String,
    /// `SYNC_UPDATES_AVAILABLE`
    pub webhook_code: String,
    /// The schema's name (`SyncUpdatesAvailableWebhook`).
    pub schema: String,
    /// The schema's description.
    pub description: Option<String>,
}

/// The value a `webhook_type` / `webhook_code` property pins: its one enum value, or the single
/// constant its description names in backticks.
fn pinned(property: &Value) -> Option<String> {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        if let [Value::String(v)] = values.as_slice() {
            return Some(v.clone());
        }
    }
    let description = property.get("description").and_then(Value::as_str)?;
    let mut found = Vec::new();
    let mut rest = description;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        let token = after[..end].trim_matches('"');
        if !token.is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            found.push(token.to_owned());
        }
        rest = &after[end + 1..];
    }
    found.dedup();
    (found.len() == 1).then(|| found.remove(0))
}

/// Every schema that pins a webhook type and code, in spec order: Plaid names most of them
/// `…Webhook`, not all (`ProcessorTokenWebhookUpdate`), so the pinned pair decides.
pub fn analyze(spec: &Value) -> Vec<Webhook> {
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    schemas
        .iter()
        .filter_map(|(name, schema)| {
            let props = schema.get("properties")?;
            Some(Webhook {
                webhook_type: pinned(props.get("webhook_type")?)?,
                webhook_code: pinned(props.get("webhook_code")?)?,
                schema: name.clone(),
                description: schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// The generated `WebhookEvent` enum and its dispatcher, over the webhooks whose type exists
/// among the generated types.
pub fn generate(webhooks: &[Webhook], types: &[Item]) -> TokenStream {
    let exists = |name: &str| {
        types
            .iter()
            .any(|i| matches!(i, Item::Struct(s) if s.ident == name))
    };
    let mut variants = Vec::new();
    let mut pairs: BTreeMap<(String, String), Vec<(syn::Ident, syn::Ident)>> = BTreeMap::new();
    let mut accessors = Vec::new();
    let typed: Vec<&Webhook> = webhooks
        .iter()
        .filter(|w| exists(&pascal_case(&snake_case(&w.schema))))
        .collect();
    let (kept, aliases) = one_schema_per_body(&typed, types);
    for w in kept {
        let ty_name = pascal_case(&snake_case(&w.schema));
        let ty = format_ident!("{}", ty_name);
        let variant = format_ident!("{}", variant_name(w));
        let also = aliases
            .get(&w.schema)
            .map(|names| {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                format!(
                    " (The spec also describes this body, field for field, as {}.)",
                    names.join(", ")
                )
            })
            .unwrap_or_default();
        let doc = format!(
            "`{}` / `{}`{}{also}",
            w.webhook_type,
            w.webhook_code,
            w.description
                .as_deref()
                .map(|d| format!(": {}", first_sentence(d)))
                .unwrap_or_default()
        );
        variants.push(quote! {
            #[doc = #doc]
            #variant(::std::boxed::Box<types::#ty>),
        });
        accessors.push(variant.clone());
        pairs
            .entry((w.webhook_type.clone(), w.webhook_code.clone()))
            .or_default()
            .push((variant, ty));
    }
    for ((_, code), candidates) in pairs.iter_mut() {
        // Item webhooks are the common case: try them before the processor-token ones; then
        // the schema named after the code (`VerificationExpired` before
        // `FallbackAuthMicrodepositVerificationExpired`, which differs only in its `error`
        // being text), so the order is the spec's meaning, not its map order.
        candidates.sort_by_key(|(variant, _)| {
            let name = variant.to_string();
            (
                name.starts_with("Processor"),
                !named_after_code(&name, code),
                name,
            )
        });
    }
    let arms = pairs.iter().map(|((t, c), candidates)| {
        let tries = candidates.iter().map(|(variant, ty)| {
            quote! {
                let _failed = match ::serde_json::from_str::<types::#ty>(text) {
                    ::std::result::Result::Ok(v) => {
                        return ::std::result::Result::Ok(WebhookEvent::#variant(::std::boxed::Box::new(v)))
                    }
                    ::std::result::Result::Err(e) => e,
                };
            }
        });
        quote! {
            (#t, #c) => {
                #(#tries)*
                // serde's message without the values it quotes (a token, a name).
                ::std::option::Option::Some(crate::operation::describe(&_failed))
            }
        }
    });
    let kinds = accessors.iter().map(|v| quote!(WebhookEvent::#v(_)));
    let pair_arms = pairs.iter().flat_map(|((t, c), candidates)| {
        candidates
            .iter()
            .map(move |(v, _)| quote!(WebhookEvent::#v(_) => (#t, #c),))
    });
    let count = accessors.len();
    let kinds_doc = format!("{count} webhook bodies are typed in this build.");
    quote! {
        /// A verified webhook's body, typed by its `webhook_type` and `webhook_code`.
        ///
        #[doc = #kinds_doc]
        /// A pair this build does not know (Plaid adds webhooks without notice), or a body that
        /// does not parse as its type, arrives as `Unrecognized` with the raw JSON.
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum WebhookEvent {
            #(#variants)*
            /// Any other webhook, kept whole.
            Unrecognized(crate::webhook::RawWebhook),
        }

        impl WebhookEvent {
            /// Parses a webhook body (verify it first: see [`WebhookVerifier`](crate::webhook::WebhookVerifier)).
            pub fn parse(body: &[u8]) -> ::std::result::Result<Self, ::serde_json::Error> {
                let text = crate::de::json_text(body)?;
                let raw: crate::webhook::RawWebhook = ::serde_json::from_str(text)?;
                let failed = match (raw.webhook_type.as_str(), raw.webhook_code.as_str()) {
                    #(#arms)*
                    _ => ::std::option::Option::None,
                };
                ::std::result::Result::Ok(WebhookEvent::Unrecognized(crate::webhook::RawWebhook { decode_error: failed, ..raw }))
            }

            /// The `webhook_type` and `webhook_code`.
            pub fn kind(&self) -> (&str, &str) {
                match self {
                    #(#pair_arms)*
                    WebhookEvent::Unrecognized(raw) => (raw.webhook_type.as_str(), raw.webhook_code.as_str()),
                }
            }

            /// Whether this build has a type for the webhook.
            pub fn is_typed(&self) -> bool {
                matches!(self, #(#kinds)|*)
            }
        }
    }
}

/// Whether a variant is named after its webhook code (`VerificationExpired` for
/// `VERIFICATION_EXPIRED`): the schema Plaid means first when two describe one pair.
fn named_after_code(variant: &str, code: &str) -> bool {
    variant == pascal_case(&snake_case(code))
}

/// The variant a schema gets: its name without `Webhook`.
fn variant_name(w: &Webhook) -> String {
    let name = w
        .schema
        .strip_suffix("Webhook")
        .filter(|v| !v.is_empty())
        .unwrap_or(&w.schema);
    pascal_case(&snake_case(name))
}

/// The generated struct's fields, names and types, without docs or attributes: what decides
/// which bodies parse as it.
fn shape(types: &[Item], schema: &str) -> Option<Vec<(String, String)>> {
    let name = pascal_case(&snake_case(schema));
    types.iter().find_map(|item| match item {
        Item::Struct(s) if s.ident == name => Some(
            s.fields
                .iter()
                .map(|f| {
                    let ty = &f.ty;
                    (
                        f.ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        quote!(#ty).to_string(),
                    )
                })
                .collect(),
        ),
        _ => None,
    })
}

/// Two schemas of one pair with the same fields are one body: the dispatcher would always
/// pick the first it tries, and the other's variant would never arrive. One is kept, the one
/// named after the webhook code (`VerificationExpiredWebhook` for `VERIFICATION_EXPIRED`, over
/// `FallbackAuthMicrodepositVerificationExpiredWebhook`), else the shortest name; the others
/// are returned by the kept schema's name, for its doc.
fn one_schema_per_body<'a>(
    webhooks: &[&'a Webhook],
    types: &[Item],
) -> (Vec<&'a Webhook>, BTreeMap<String, Vec<String>>) {
    let preference = |w: &Webhook| {
        (
            !named_after_code(&variant_name(w), &w.webhook_code),
            w.schema.len(),
            w.schema.clone(),
        )
    };
    let mut kept: Vec<&Webhook> = Vec::new();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for w in webhooks {
        let same = webhooks.iter().filter(|o| {
            o.webhook_type == w.webhook_type
                && o.webhook_code == w.webhook_code
                && shape(types, &o.schema) == shape(types, &w.schema)
        });
        let best = same
            .clone()
            .min_by_key(|o| preference(o))
            .expect("a schema is like itself");
        if best.schema == w.schema {
            kept.push(w);
        } else {
            aliases
                .entry(best.schema.clone())
                .or_default()
                .push(w.schema.clone());
        }
    }
    (kept, aliases)
}

fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    match line.find(". ") {
        Some(i) => line[..=i].to_owned(),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A request can name webhooks too: `SandboxItemFireWebhookRequest` has `webhook_type`
    /// and `webhook_code` properties, but pins neither, so it is not a webhook body. Taken for
    /// one (by a second reading of "webhook body" in normalize.rs, in 33fbce1), it counted as
    /// a response and kept its `client_id` and `secret` body fields: a plain-`String` secret
    /// setter on a request.
    #[test]
    fn a_request_that_names_webhooks_is_no_body_and_loses_its_credentials() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = [
            here.join("spec/plaid.json"),
            here.join("../spec/plaid.json"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .expect("the vendored spec");
        let mut spec: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let bodies: Vec<String> = analyze(&spec).into_iter().map(|w| w.schema).collect();
        assert!(bodies.iter().any(|b| b == "SyncUpdatesAvailableWebhook"));
        assert!(!bodies.iter().any(|b| b == "SandboxItemFireWebhookRequest"));
        crate::normalize::normalize(&mut spec, &bodies).unwrap();
        let props = &spec["components"]["schemas"]["SandboxItemFireWebhookRequest"]["properties"];
        assert!(props.get("webhook_code").is_some(), "{props}");
        assert!(
            props.get("client_id").is_none() && props.get("secret").is_none(),
            "{props}"
        );
    }

    #[test]
    fn pairs_come_from_one_value_enums_or_descriptions() {
        let spec = json!({ "components": { "schemas": {
            "SyncUpdatesAvailableWebhook": { "properties": {
                "webhook_type": { "type": "string", "description": "`TRANSACTIONS`" },
                "webhook_code": { "type": "string", "description": "`SYNC_UPDATES_AVAILABLE`" } } },
            "DepositSwitchStateUpdateWebhook": { "properties": {
                "webhook_type": { "description": "`\"DEPOSIT_SWITCH\"`" },
                "webhook_code": { "enum": ["SWITCH_STATE_UPDATE"] } } },
            "AmbiguousWebhook": { "properties": {
                "webhook_type": { "description": "`ITEM` or `AUTH`" },
                "webhook_code": { "description": "`X`" } } },
            "ItemStatusLastWebhook": { "properties": { "sent_at": {} } },
            "ProcessorTokenWebhookUpdate": { "properties": {
                "webhook_type": { "enum": ["PROCESSOR_TOKEN"] },
                "webhook_code": { "enum": ["WEBHOOK_UPDATE_ACKNOWLEDGED"] } } },
            "SandboxItemFireWebhookRequest": { "properties": {
                "webhook_type": { "enum": ["AUTH", "ITEM"] },
                "webhook_code": { "enum": ["ERROR", "NEW_ACCOUNTS_AVAILABLE"] } } },
        } } });
        let found = analyze(&spec);
        let pairs: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|w| {
                (
                    w.webhook_type.as_str(),
                    w.webhook_code.as_str(),
                    w.schema.as_str(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                (
                    "DEPOSIT_SWITCH",
                    "SWITCH_STATE_UPDATE",
                    "DepositSwitchStateUpdateWebhook"
                ),
                (
                    "PROCESSOR_TOKEN",
                    "WEBHOOK_UPDATE_ACKNOWLEDGED",
                    "ProcessorTokenWebhookUpdate"
                ),
                (
                    "TRANSACTIONS",
                    "SYNC_UPDATES_AVAILABLE",
                    "SyncUpdatesAvailableWebhook"
                ),
            ],
            "a pinned pair makes a webhook whatever the name; an enum of many values does not"
        );
    }

    fn hook(t: &str, c: &str, schema: &str) -> Webhook {
        Webhook {
            webhook_type: t.into(),
            webhook_code: c.into(),
            schema: schema.into(),
            description: None,
        }
    }

    /// Review round 11: `VerificationExpiredWebhook` and
    /// `FallbackAuthMicrodepositVerificationExpiredWebhook` share a pair; the spec's map order
    /// put the second first, so the first never arrived. The one named after the code is
    /// tried first; a schema with the very same fields as another gets no variant at all.
    #[test]
    fn the_schema_named_after_the_code_wins_and_identical_bodies_get_one_variant() {
        let hooks = vec![
            hook(
                "AUTH",
                "VERIFICATION_EXPIRED",
                "FallbackAuthMicrodepositVerificationExpiredWebhook",
            ),
            hook("AUTH", "VERIFICATION_EXPIRED", "VerificationExpiredWebhook"),
            hook("BANK_TRANSFERS", "EVENTS_UPDATE", "EventsUpdateWebhook"),
            hook(
                "BANK_TRANSFERS",
                "EVENTS_UPDATE",
                "EventsUpdateWebhookForAuth",
            ),
        ];
        let types = syn::parse_file(
            "pub struct FallbackAuthMicrodepositVerificationExpiredWebhook { pub error: Option<String> }
             pub struct VerificationExpiredWebhook { pub error: Option<PlaidError> }
             pub struct EventsUpdateWebhook { #[doc = \"a\"] pub environment: String }
             pub struct EventsUpdateWebhookForAuth { #[doc = \"b\"] pub environment: String }",
        )
        .unwrap()
        .items;
        let out = generate(&hooks, &types).to_string();
        let named = out
            .find("from_str :: < types :: VerificationExpiredWebhook >")
            .unwrap();
        let fallback = out
            .find("from_str :: < types :: FallbackAuthMicrodepositVerificationExpiredWebhook >")
            .unwrap();
        assert!(named < fallback, "{out}");
        assert!(!out.contains("EventsUpdateWebhookForAuth >"), "{out}");
        assert!(
            out.contains(
                "also describes this body, field for field, as `EventsUpdateWebhookForAuth`"
            ),
            "{out}"
        );
        assert!(out.contains("3 webhook bodies are typed"), "{out}");
    }

    #[test]
    fn generates_variants_a_dispatcher_and_skips_missing_types() {
        let hooks = vec![
            Webhook {
                webhook_type: "TRANSACTIONS".into(),
                webhook_code: "SYNC_UPDATES_AVAILABLE".into(),
                schema: "ProcessorSyncUpdatesAvailableWebhook".into(),
                description: None,
            },
            Webhook {
                webhook_type: "TRANSACTIONS".into(),
                webhook_code: "SYNC_UPDATES_AVAILABLE".into(),
                schema: "SyncUpdatesAvailableWebhook".into(),
                description: Some("Fired when an Item's transactions change. More.".into()),
            },
            Webhook {
                webhook_type: "ITEM".into(),
                webhook_code: "ERROR".into(),
                schema: "ItemErrorWebhook".into(),
                description: None,
            },
        ];
        let types = syn::parse_file("pub struct SyncUpdatesAvailableWebhook { pub item_id: String } pub struct ProcessorSyncUpdatesAvailableWebhook { pub account_id: String }").unwrap().items;
        let out = generate(&hooks, &types).to_string();
        assert!(out.contains("SyncUpdatesAvailable (:: std :: boxed :: Box < types :: SyncUpdatesAvailableWebhook >)"), "{out}");
        assert!(
            out.contains("Fired when an Item's transactions change."),
            "{out}"
        );
        assert!(!out.contains("ItemError"), "no type, no variant: {out}");
        let sync = out
            .find("from_str :: < types :: SyncUpdatesAvailableWebhook >")
            .unwrap();
        let processor = out
            .find("from_str :: < types :: ProcessorSyncUpdatesAvailableWebhook >")
            .unwrap();
        assert!(sync < processor, "the Item candidate is tried first");
        assert!(
            out.contains("2 webhook bodies are typed in this build."),
            "{out}"
        );
    }
}
