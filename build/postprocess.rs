//! Rewrites of typify's generated `types` module, on its syntax tree, that make the types
//! forward-compatible and short to build:
//!
//! * **Open enums.** Every string enum becomes an `open_enum!` invocation: the same variants plus
//!   `Unrecognized(String)`, `#[non_exhaustive]`, `as_str()`, and serde impls that keep an unknown
//!   value verbatim and write it back unchanged. typify's own impls for the enum (closed
//!   `FromStr`, `TryFrom`, `Display`) are dropped.
//! * **Lenient fields.** A required-but-nullable field (typify rejects a missing key with
//!   `deserialize_with = "Option::deserialize"`) accepts a missing key as `None`; an optional
//!   list or map accepts `null` as empty; no container keeps `deny_unknown_fields`.
//! * **Constructors.** Every struct with required fields gets `new(required...)` whose
//!   arguments take `impl Into<T>`, and whose optional fields start empty, so a request with a
//!   few of many optional fields is `Req { count: Some(500), ..Req::new(token) }`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{Attribute, Field, Fields, Item, ItemEnum, Meta, Token, Type};

/// Counts of what [`rewrite`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Enums made open.
    pub open_enums: usize,
    /// typify impl blocks dropped with them.
    pub enum_impls_dropped: usize,
    /// Required-nullable fields that now accept a missing key.
    pub missing_as_none: usize,
    /// Optional list/map fields that now accept `null`.
    pub null_as_empty: usize,
    /// `deny_unknown_fields` removed.
    pub deny_unknown_fields_removed: usize,
    /// `new` constructors added.
    pub constructors: usize,
    /// `From<&str>` impls added to string newtypes.
    pub str_conversions: usize,
}

/// The path of the function that reads `null` as `Default::default()`.
const NULL_AS_DEFAULT: &str = "crate::de::null_as_default";
/// The open-enum fallback variant (`Unrecognized(String)`).
const FALLBACK: &str = "Unrecognized";
/// The path of the open-enum macro.
const OPEN_ENUM_MACRO: &str = "crate::open_enum::open_enum";

/// Applies every rewrite to the items of the generated `types` module.
pub fn rewrite(items: &mut Vec<Item>) -> Result<Stats, String> {
    let mut stats = Stats::default();
    open_enums(items, &mut stats)?;
    for item in items.iter_mut() {
        if let Item::Struct(s) = item {
            stats.deny_unknown_fields_removed +=
                remove_serde_items(&mut s.attrs, |m| m.path().is_ident("deny_unknown_fields"));
            if let Fields::Named(fields) = &mut s.fields {
                for field in fields.named.iter_mut() {
                    relax_field(field, &mut stats);
                }
            }
        }
    }
    let conversions = str_conversions(items);
    stats.str_conversions = conversions.len();
    items.extend(conversions);
    let constructors = constructors(items);
    stats.constructors = constructors.len();
    items.extend(constructors);
    Ok(stats)
}

// --- serde attribute helpers ----------------------------------------------------------------

fn serde_items(attr: &Attribute) -> Option<Punctuated<Meta, Token![,]>> {
    if !attr.path().is_ident("serde") {
        return None;
    }
    attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()
}

/// Removes the items of `#[serde(...)]` attributes that match `pred`; drops attributes left
/// empty. Returns how many items were removed.
fn remove_serde_items(attrs: &mut Vec<Attribute>, pred: impl Fn(&Meta) -> bool) -> usize {
    let mut removed = 0;
    let mut out = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        match serde_items(&attr) {
            Some(metas) if metas.iter().any(&pred) => {
                let kept: Vec<&Meta> = metas.iter().filter(|m| !pred(m)).collect();
                removed += metas.len() - kept.len();
                if !kept.is_empty() {
                    out.push(syn::parse_quote!(#[serde(#(#kept),*)]));
                }
            }
            _ => out.push(attr),
        }
    }
    *attrs = out;
    removed
}

fn has_serde_item(attrs: &[Attribute], pred: impl Fn(&Meta) -> bool) -> bool {
    attrs
        .iter()
        .filter_map(serde_items)
        .any(|metas| metas.iter().any(&pred))
}

fn name_value_str(meta: &Meta, name: &str) -> Option<String> {
    let Meta::NameValue(nv) = meta else {
        return None;
    };
    if !nv.path.is_ident(name) {
        return None;
    }
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// `Some(path)` for `default = "path"`, `Some("")` for a bare `default`, `None` without one.
fn serde_default(attrs: &[Attribute]) -> Option<String> {
    for metas in attrs.iter().filter_map(serde_items) {
        for m in metas.iter() {
            if m.path().is_ident("default") {
                return Some(name_value_str(m, "default").unwrap_or_default());
            }
        }
    }
    None
}

/// The last path segment of a type and its generic arguments: `::std::option::Option<T>` ->
/// ("Option", [T]).
fn last_segment(ty: &Type) -> Option<(String, Vec<&Type>)> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let args = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((seg.ident.to_string(), args))
}

/// Whether a type is `Option<_>`.
pub fn is_option(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|(name, _)| name == "Option")
}

// --- open enums -----------------------------------------------------------------------------

struct Variant {
    attrs: Vec<Attribute>,
    ident: syn::Ident,
    wire: String,
}

/// The variants of a typify string enum, or `None` if `e` is not one (data-carrying variants).
fn string_enum_variants(e: &ItemEnum) -> Option<Vec<Variant>> {
    let mut out = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) || v.discriminant.is_some() {
            return None;
        }
        let mut wire = None;
        for metas in v.attrs.iter().filter_map(serde_items) {
            for m in metas.iter() {
                if let Some(s) = name_value_str(m, "rename") {
                    wire = Some(s);
                }
            }
        }
        let docs = v
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        out.push(Variant {
            attrs: docs,
            ident: v.ident.clone(),
            wire: wire.unwrap_or_else(|| v.ident.to_string()),
        });
    }
    (!out.is_empty()).then_some(out)
}

fn self_type_ident(imp: &syn::ItemImpl) -> Option<String> {
    match &*imp.self_ty {
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        _ => None,
    }
}

fn open_enums(items: &mut Vec<Item>, stats: &mut Stats) -> Result<(), String> {
    let mut open = std::collections::BTreeSet::new();
    let macro_path: syn::Path = syn::parse_str(OPEN_ENUM_MACRO).map_err(|e| e.to_string())?;
    for item in items.iter_mut() {
        let Item::Enum(e) = item else { continue };
        let Some(variants) = string_enum_variants(e) else {
            continue;
        };
        let mut variants = variants;
        for v in variants.iter_mut().filter(|v| v.ident == FALLBACK) {
            // A spec value that typify names like the fallback (`"unrecognized"`).
            v.ident = format_ident!("{FALLBACK}Value");
        }
        if variants
            .iter()
            .filter(|v| v.ident == format!("{FALLBACK}Value"))
            .count()
            > 1
            || variants.iter().any(|v| v.ident == FALLBACK)
        {
            return Err(format!(
                "enum {}: cannot name the open-enum fallback variant {FALLBACK} without a clash",
                e.ident
            ));
        }
        let docs: Vec<&Attribute> = e
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        let vis = &e.vis;
        let name = &e.ident;
        let arms = variants.iter().map(|v| {
            let (attrs, ident, wire) = (&v.attrs, &v.ident, &v.wire);
            quote! { #(#attrs)* #ident = #wire, }
        });
        let tokens = quote! {
            #macro_path! {
                #(#docs)*
                #vis enum #name {
                    #(#arms)*
                }
            }
        };
        open.insert(name.to_string());
        *item = syn::parse2(tokens).map_err(|e| format!("open enum {name}: {e}"))?;
        stats.open_enums += 1;
    }
    let before = items.len();
    items.retain(|item| match item {
        Item::Impl(imp) => !self_type_ident(imp).is_some_and(|n| open.contains(&n)),
        _ => true,
    });
    stats.enum_impls_dropped = before - items.len();
    Ok(())
}

// --- lenient fields -------------------------------------------------------------------------

fn relax_field(field: &mut Field, stats: &mut Stats) {
    let option_deserialize = |m: &Meta| {
        name_value_str(m, "deserialize_with").is_some_and(|p| p.ends_with("Option::deserialize"))
    };
    let removed = remove_serde_items(&mut field.attrs, option_deserialize);
    if removed > 0 {
        stats.missing_as_none += 1;
        // Without `default`, serde already reads a missing `Option` field as `None`.
    }
    let has_custom_de = has_serde_item(&field.attrs, |m| {
        m.path().is_ident("deserialize_with") || m.path().is_ident("with")
    });
    if serde_default(&field.attrs).is_some() && !is_option(&field.ty) && !has_custom_de {
        let path = NULL_AS_DEFAULT;
        field
            .attrs
            .push(syn::parse_quote!(#[serde(deserialize_with = #path)]));
        stats.null_as_empty += 1;
    }
}

// --- string newtypes -------------------------------------------------------------------------

fn is_string(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|(name, args)| name == "String" && args.is_empty())
}

/// `From<&str>` for every `struct X(pub String)` that converts from `String`, so constructor
/// arguments take string literals.
fn str_conversions(items: &[Item]) -> Vec<Item> {
    let from_string = |name: &syn::Ident| {
        items.iter().any(|item| match item {
            Item::Impl(imp) => {
                self_type_ident(imp).is_some_and(|n| name == &n)
                    && imp.trait_.as_ref().is_some_and(|(_, p, _)| {
                        p.segments.last().is_some_and(|s| {
                            s.ident == "From"
                                && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                                    if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(t) if is_string(t))))
                        })
                    })
            }
            _ => false,
        })
    };
    items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => match &s.fields {
                Fields::Unnamed(f)
                    if f.unnamed.len() == 1
                        && is_string(&f.unnamed[0].ty)
                        && from_string(&s.ident) =>
                {
                    let name = &s.ident;
                    Some(syn::parse_quote! {
                        impl ::std::convert::From<&str> for #name {
                            fn from(value: &str) -> Self {
                                Self(value.to_owned())
                            }
                        }
                    })
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

// --- constructors ---------------------------------------------------------------------------

fn has_default_impl(items: &[Item], name: &str) -> bool {
    items.iter().any(|item| match item {
        Item::Impl(imp) => {
            imp.trait_
                .as_ref()
                .is_some_and(|(_, p, _)| p.segments.last().is_some_and(|s| s.ident == "Default"))
                && self_type_ident(imp).as_deref() == Some(name)
        }
        Item::Struct(s) if s.ident == name => s.attrs.iter().any(|a| {
            a.path().is_ident("derive")
                && a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                    .is_ok_and(|ps| {
                        ps.iter()
                            .any(|p| p.segments.last().is_some_and(|s| s.ident == "Default"))
                    })
        }),
        _ => false,
    })
}

/// Whether a field must be given to `new`: neither `Option` nor defaulted by serde.
pub fn is_required(field: &Field) -> bool {
    !is_option(&field.ty) && serde_default(&field.attrs).is_none()
}

fn constructors(items: &[Item]) -> Vec<Item> {
    let mut out = Vec::new();
    for item in items {
        let Item::Struct(s) = item else { continue };
        let Fields::Named(fields) = &s.fields else {
            continue;
        };
        let name = &s.ident;
        let required: Vec<&Field> = fields.named.iter().filter(|f| is_required(f)).collect();
        if required.is_empty() && has_default_impl(items, &name.to_string()) {
            continue;
        }
        let params = required.iter().map(|f| {
            let (ident, ty) = (f.ident.as_ref().expect("named"), &f.ty);
            quote! { #ident: impl ::std::convert::Into<#ty> }
        });
        let inits = fields.named.iter().map(|f| {
            let ident = f.ident.as_ref().expect("named");
            if is_required(f) {
                quote! { #ident: #ident.into() }
            } else {
                match serde_default(&f.attrs).as_deref() {
                    Some(path) if !path.is_empty() => {
                        let path: syn::Path = syn::parse_str(path).expect("serde default path");
                        quote! { #ident: #path() }
                    }
                    _ => quote! { #ident: ::std::default::Default::default() },
                }
            }
        });
        let listed = if required.is_empty() {
            "It has no required fields.".to_owned()
        } else {
            let names: Vec<String> = required
                .iter()
                .map(|f| format!("`{}`", unraw(f.ident.as_ref().expect("named"))))
                .collect();
            format!("Its required fields are {}.", names.join(", "))
        };
        let doc = format!(
            "Creates a `{name}` from its required fields; every optional field starts empty.\n\n\
             {listed} Set optional fields with struct update syntax: \
             `{name} {{ field: Some(value), ..{name}::new(...) }}`."
        );
        let tokens: TokenStream = quote! {
            impl #name {
                #[doc = #doc]
                #[allow(clippy::too_many_arguments, clippy::new_without_default)]
                pub fn new(#(#params),*) -> Self {
                    Self { #(#inits),* }
                }
            }
        };
        out.push(syn::parse2(tokens).expect("constructor tokens parse"));
    }
    out
}

/// The identifier without a leading `r#`.
pub fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(src: &str) -> Vec<Item> {
        syn::parse_file(src).unwrap().items
    }

    fn render(items: &[Item]) -> String {
        quote!(#(#items)*).to_string()
    }

    const ENUM: &str = r#"
        ///Account subtype.
        #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub enum AccountSubtype {
            #[serde(rename = "401a")]
            X401a,
            #[serde(rename = "checking")]
            Checking,
            Other,
        }
        impl ::std::fmt::Display for AccountSubtype {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { todo!() }
        }
        impl ::std::str::FromStr for AccountSubtype {
            type Err = ();
            fn from_str(value: &str) -> Result<Self, ()> { todo!() }
        }
        pub struct Keep;
        impl ::std::convert::From<AccountSubtype> for Keep { fn from(_: AccountSubtype) -> Self { Keep } }
    "#;

    #[test]
    fn string_enums_become_open_enum_invocations_and_lose_typify_impls() {
        let mut it = items(ENUM);
        let stats = rewrite(&mut it).unwrap();
        assert_eq!(stats.open_enums, 1);
        assert_eq!(stats.enum_impls_dropped, 2);
        let out = render(&it);
        assert!(out.contains("crate :: open_enum :: open_enum !"), "{out}");
        assert!(out.contains("X401a = \"401a\""), "{out}");
        assert!(
            out.contains("Other = \"Other\""),
            "variant without rename keeps its name: {out}"
        );
        assert!(out.contains("Account subtype."), "docs kept: {out}");
        assert!(
            out.contains("impl :: std :: convert :: From < AccountSubtype > for Keep"),
            "{out}"
        );
        assert!(!out.contains("FromStr for AccountSubtype"));
    }

    #[test]
    fn data_carrying_enums_are_left_alone() {
        let mut it = items("pub enum Shape { Circle(f64), Square { side: f64 } }");
        let stats = rewrite(&mut it).unwrap();
        assert_eq!(stats.open_enums, 0);
        assert!(render(&it).contains("Circle (f64)"));
    }

    #[test]
    fn a_spec_value_named_like_the_fallback_is_renamed() {
        let mut it = items(
            "pub enum Holder { #[serde(rename = \"unrecognized\")] Unrecognized, #[serde(rename = \"UNKNOWN\")] Unknown }",
        );
        rewrite(&mut it).unwrap();
        let out = render(&it);
        assert!(
            out.contains("UnrecognizedValue = \"unrecognized\""),
            "{out}"
        );
        assert!(
            out.contains("Unknown = \"UNKNOWN\""),
            "Plaid's own UNKNOWN stays Unknown: {out}"
        );
    }

    #[test]
    fn lenient_fields_and_no_deny_unknown_fields() {
        let mut it = items(
            r#"
            #[derive(::serde::Deserialize)]
            #[serde(deny_unknown_fields, rename_all = "snake_case")]
            pub struct Account {
                #[serde(deserialize_with = "::std::option::Option::deserialize")]
                pub mask: ::std::option::Option<::std::string::String>,
                #[serde(rename = "type", deserialize_with = "::std::option::Option::deserialize")]
                pub type_: ::std::option::Option<::std::string::String>,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub owners: ::std::vec::Vec<::std::string::String>,
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub name: ::std::option::Option<::std::string::String>,
                pub id: ::std::string::String,
            }
            "#,
        );
        let stats = rewrite(&mut it).unwrap();
        assert_eq!(stats.missing_as_none, 2);
        assert_eq!(stats.null_as_empty, 1);
        assert_eq!(stats.deny_unknown_fields_removed, 1);
        let out = render(&it);
        assert!(!out.contains("Option :: deserialize"), "{out}");
        assert!(
            out.contains("rename = \"type\""),
            "other serde items kept: {out}"
        );
        assert!(out.contains("rename_all"), "{out}");
        assert!(!out.contains("deny_unknown_fields"), "{out}");
        assert!(out.contains("crate::de::null_as_default"), "{out}");
    }

    #[test]
    fn string_newtypes_that_convert_from_string_also_convert_from_str() {
        let mut it = items(
            r#"
            pub struct RequestId(pub ::std::string::String);
            impl ::std::convert::From<::std::string::String> for RequestId {
                fn from(value: ::std::string::String) -> Self { Self(value) }
            }
            pub struct Validated(::std::string::String);
            pub struct Count(pub i64);
            impl ::std::convert::From<i64> for Count { fn from(v: i64) -> Self { Self(v) } }
            "#,
        );
        let stats = rewrite(&mut it).unwrap();
        assert_eq!(stats.str_conversions, 1);
        let out = render(&it);
        assert!(
            out.contains("impl :: std :: convert :: From < & str > for RequestId"),
            "{out}"
        );
        assert!(
            !out.contains("for Validated"),
            "no From<String>, no From<&str>: {out}"
        );
    }

    #[test]
    fn constructors_take_required_fields_and_default_the_rest() {
        let mut it = items(
            r#"
            pub struct TransactionsSyncRequest {
                pub access_token: AccessToken,
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub count: ::std::option::Option<i64>,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub account_ids: ::std::vec::Vec<::std::string::String>,
                pub r#type: ::std::string::String,
                pub maybe: ::std::option::Option<::std::string::String>,
            }
            #[derive(Default)]
            pub struct AllOptional { pub a: ::std::option::Option<i64> }
            pub struct AllOptionalNoDefault { pub a: ::std::option::Option<i64> }
            "#,
        );
        let stats = rewrite(&mut it).unwrap();
        assert_eq!(stats.constructors, 2);
        let out = render(&it);
        assert!(
            out.contains("pub fn new (access_token : impl :: std :: convert :: Into < AccessToken > , r#type : impl :: std :: convert :: Into < :: std :: string :: String >) -> Self"),
            "{out}"
        );
        assert!(
            out.contains("count : :: std :: default :: Default :: default ()"),
            "{out}"
        );
        assert!(
            out.contains("Its required fields are `access_token`, `type`."),
            "{out}"
        );
        assert!(out.contains("impl AllOptionalNoDefault"), "{out}");
        assert!(!out.contains("impl AllOptional {"), "{out}");
    }
}
