//! Rewrites of typify's generated `types` module, on its syntax tree, that make the types
//! forward-compatible and short to build:
//!
//! * **Open enums.** Every string enum becomes an `open_enum!` invocation: the same variants plus
//!   `Unrecognized(String)`, `#[non_exhaustive]`, `as_str()`, and serde impls that keep an unknown
//!   value verbatim and write it back unchanged. typify's own impls for the enum (closed
//!   `FromStr`, `TryFrom`, `Display`) are dropped. A value the enum's description explains
//!   ("`online:` transactions that took place online.") gets that text as its doc
//!   (`value_doc`), instead of its wire string alone.
//! * **No `deny_unknown_fields`** on any container.
//! * **No `Deref` to `String`.** A string newtype gets `as_str()` and `AsRef<str>` instead
//!   (`string_derefs`): through `Deref`, its docs page listed ~120 `String` methods.
//! * **Lean `Deserialize`.** Structs get a generated `Deserialize` instead of serde's derive:
//!   one `visit_map` matching each key once. serde's derive also emits a field-identifier enum
//!   with three visitor methods and a `visit_seq` JSON never uses; on ~1,200 structs that was
//!   the largest part of the crate's type- and borrow-checking time. Semantics are serde's for
//!   the attributes typify uses (`rename`, `default`), plus: unknown keys are skipped, a missing
//!   `Option` is `None` (typify's `deserialize_with = "Option::deserialize"`, which rejects a
//!   missing required-but-nullable key, is dropped), and a defaulted list or map accepts `null`.
//! * **Lean `Serialize`.** The same structs get a generated `Serialize`: the fields in order,
//!   each skipped when its `skip_serializing_if` says so, with the exact field count up front.
//!   serde's derive writes the same fields but leaves the crate one `?` per field and a call of
//!   `skip_field` per skipped one (a no-op in every format this SDK writes); with ~1,900
//!   optional fields that was the largest part of type checking left.
//! * **Older spellings.** A webhook field Plaid's spec has spelled two ways within one API
//!   version ([`OLDER_SPELLINGS`]) is read under either (`#[serde(alias)]`), so a body Plaid
//!   sends with the other spelling is typed rather than `Unrecognized`.
//! * **Required nulls.** A field the spec requires and allows to be `null` is written as `null`
//!   when empty, not left out (`write_required_nulls`): normalization made it optional so a
//!   missing key parses, but Plaid's answers carry the key (`Transaction.transaction_code`).
//! * **Constructors and setters.** Every struct is `#[non_exhaustive]` and gets
//!   `new(required...)`, whose arguments take `impl Into<T>` and whose optional fields start
//!   empty, and a setter per field, so a request is `Req::new(token).count(500)`. A field Plaid
//!   adds is one more setter, which breaks nobody. `new`'s parameters are frozen by
//!   `spec/signatures.json` ([`Signatures`]): a type listed there keeps them, in that order,
//!   even when the spec makes one optional (`new` then still takes it and stores `Some`); a
//!   field the spec removes leaves, and a field it makes required is appended. A type not
//!   listed takes its required fields.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use std::fmt::Write as _;
use syn::punctuated::Punctuated;
use syn::{Attribute, Field, Fields, Item, ItemEnum, Meta, Token, Type};

/// Counts of what [`rewrite`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Enums made open.
    pub open_enums: usize,
    /// typify impl blocks dropped with them.
    pub enum_impls_dropped: usize,
    /// Enum values given the text their enum's description has for them.
    pub variant_docs: usize,
    /// `deny_unknown_fields` removed.
    pub deny_unknown_fields_removed: usize,
    /// `new` constructors added.
    pub constructors: usize,
    /// `From<&str>` impls added to string newtypes.
    pub str_conversions: usize,
    /// `Deref<Target = String>` impls of string newtypes replaced by `as_str()` and
    /// `AsRef<str>`.
    pub string_derefs_replaced: usize,
    /// Structs given a lean `Deserialize` instead of serde's derive.
    pub lean_deserialize: usize,
    /// Structs given a lean `Serialize` instead of serde's derive.
    pub lean_serialize: usize,
    /// Setters added.
    pub setters: usize,
    /// `new`'s parameters per type, as generated: the frozen ones kept.
    pub signatures: Signatures,
    /// The fields of each struct a value must have (neither `Option` nor defaulted), read
    /// before the lean impls strip serde's attributes, after which a defaulted `Vec` looks
    /// required: what the operation docs call required, and what an answer always holds.
    pub required: Required,
}

/// Field names (without `r#`) per struct name.
pub type Required = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// The open-enum fallback variant (`Unrecognized(String)`).
const FALLBACK: &str = "Unrecognized";
/// The path of the open-enum macro.
const OPEN_ENUM_MACRO: &str = "crate::open_enum::open_enum";

/// The spec's `required` order per type name (see `spec::required_orders`).
pub type RequiredOrders = std::collections::BTreeMap<String, Vec<String>>;

/// `new`'s parameters per type name, as field names: the frozen ones read from
/// `spec/signatures.json`, or the ones a build generated (see the module docs).
pub type Signatures = std::collections::BTreeMap<String, Vec<String>>;

/// Applies every rewrite to the items of the generated `types` module. `new` takes its
/// arguments in the order of `orders` where the type has an entry whose names are exactly its
/// required fields, else in field (alphabetical) order.
///
/// Returns the counts and the impls it generated, as source text: parsing ~2,000 generated
/// impls back into syntax trees cost more than the rest of the build script together. Each impl
/// is one line, but for the constructors and setters, one line per method, so that a compiler
/// note about a call points at a line holding that method alone.
pub fn rewrite(
    items: &mut Vec<Item>,
    orders: &RequiredOrders,
    frozen: &Signatures,
) -> Result<(Stats, Vec<String>), String> {
    let mut stats = Stats::default();
    open_enums(items, &mut stats)?;
    for item in items.iter_mut() {
        if let Item::Struct(s) = item {
            stats.deny_unknown_fields_removed +=
                remove_serde_items(&mut s.attrs, |m| m.path().is_ident("deny_unknown_fields"));
        }
    }
    stats.required = items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => match &s.fields {
                Fields::Named(fields) => Some((
                    s.ident.to_string(),
                    fields
                        .named
                        .iter()
                        .filter(|f| is_required(f))
                        .filter_map(|f| f.ident.as_ref().map(unraw))
                        .collect(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let lean = lean_deserialize(items);
    stats.lean_deserialize = lean.len();
    let conversions = str_conversions(items);
    stats.str_conversions = conversions.len();
    let as_refs = string_derefs(items);
    stats.string_derefs_replaced = as_refs.len();
    let (constructors, signatures, setters) = constructors(items, orders, frozen);
    stats.constructors = signatures.len();
    stats.setters = setters;
    stats.signatures = signatures;
    for item in items.iter_mut() {
        if let Item::Struct(s) = item {
            if matches!(s.fields, Fields::Named(_)) {
                s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
            }
        }
    }
    // Last: it removes the `#[serde(...)]` attributes the passes above read.
    let lean_ser = lean_serialize(items);
    stats.lean_serialize = lean_ser.len();
    Ok((
        stats,
        lean.into_iter()
            .chain(lean_ser)
            .chain(conversions.iter().map(TokenStream::to_string))
            .chain(as_refs.iter().map(TokenStream::to_string))
            .chain(constructors)
            .collect(),
    ))
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

/// The string of the first `#[serde(name = "...")]` item in `attrs`.
fn serde_str(attrs: &[Attribute], name: &str) -> Option<String> {
    attrs
        .iter()
        .filter_map(serde_items)
        .find_map(|metas| metas.iter().find_map(|m| name_value_str(m, name)))
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

/// Whether a field value is a chrono date or date-time (or an `Option` of one): those are read
/// through `crate::de::Fast`, which parses Plaid's canonical forms directly and hands anything
/// else to chrono, with chrono's result and errors.
fn is_chrono(ty: &Type) -> bool {
    match last_segment(ty) {
        Some((name, args)) if name == "Option" => args.first().is_some_and(|t| is_chrono(t)),
        Some((name, _)) => name == "NaiveDate" || name == "DateTime",
        None => false,
    }
}

/// How a generated `visit_map` stores the value of a field: the type it asks `next_value` for,
/// and the expression (of the value, bound as `__v`) it puts in the field's slot, as Rust
/// source. Dates and date-times go through `crate::de::Fast`; `some` wraps the value for a slot
/// of a required field, which holds an `Option` of the field's type.
///
/// `ty` is the field's type as source, `chrono` whether it is a date or date-time; `wrap` reads
/// it as an `Option<ty>` (a field with a default).
fn read_value(ty: &str, chrono: bool, wrap: bool, some: bool) -> (String, String) {
    let value = if wrap {
        format!("::std::option::Option<{ty}>")
    } else {
        ty.to_owned()
    };
    let (asked, got) = if chrono {
        (format!("crate::de::Fast<{value}>"), "__v.0")
    } else {
        (value, "__v")
    };
    let stored = if some {
        format!("::std::option::Option::Some({got})")
    } else {
        got.to_owned()
    };
    (asked, stored)
}

/// A string as a Rust string literal.
fn literal(s: &str) -> String {
    format!("{s:?}")
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
        let wire = serde_str(&v.attrs, "rename");
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

/// The strings of an item's `#[doc = "…"]` attributes, in order.
pub(crate) fn doc_strings(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// What an enum's description says about one of its values. Plaid's descriptions list them
/// as "`online:` transactions that took place online." or "`pending`: …" (also as list
/// items, with ` - ` for the colon): the text after the value, up to a blank line or the next
/// value. `None` when the description does not single the value out.
fn value_doc(enum_doc: &str, wire: &str) -> Option<String> {
    let markers = [
        format!("`{wire}:`"),
        format!("`{wire}`:"),
        format!("`{wire}` -"),
        format!("`{wire}` –"),
        format!("`{wire}` —"),
    ];
    let mut lines = enum_doc.lines().map(str::trim);
    let mut text = loop {
        let line = lines.next()?;
        let line = line.trim_start_matches(['-', '*', ' ']);
        if let Some(rest) = markers.iter().find_map(|m| line.strip_prefix(m.as_str())) {
            break rest.trim().to_owned();
        }
    };
    for line in lines {
        let item = line.trim_start_matches(['-', '*', ' ']);
        if line.is_empty() || item.starts_with('`') {
            break;
        }
        text.push(' ');
        text.push_str(line);
    }
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
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
        let enum_doc = doc_strings(&e.attrs).join("\n");
        for v in variants.iter_mut().filter(|v| v.attrs.is_empty()) {
            if let Some(text) = value_doc(&enum_doc, &v.wire) {
                v.attrs.push(syn::parse_quote!(#[doc = #text]));
                stats.variant_docs += 1;
            }
        }
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

// --- lean Deserialize ------------------------------------------------------------------------

/// The path of the shared borrowed-or-owned key type.
const KEY_TYPE: &str = "crate::de::Key";

fn derives(attrs: &[Attribute]) -> Vec<syn::Path> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

fn is_deserialize(p: &syn::Path) -> bool {
    p.segments.last().is_some_and(|s| s.ident == "Deserialize")
}

/// For a struct with named fields that derives the trait `which` matches and is not
/// `#[serde(transparent)]`: removes that derive, keeping the others, and returns whether a
/// `Deserialize` derive is left. `None` for any other struct.
fn take_derive(s: &mut syn::ItemStruct, which: fn(&syn::Path) -> bool) -> Option<bool> {
    if !matches!(s.fields, Fields::Named(_)) {
        return None;
    }
    let all = derives(&s.attrs);
    let transparent = has_serde_item(&s.attrs, |m| m.path().is_ident("transparent"));
    if transparent || !all.iter().any(which) {
        return None;
    }
    s.attrs.retain(|a| !a.path().is_ident("derive"));
    let kept: Vec<&syn::Path> = all.iter().filter(|p| !which(p)).collect();
    if !kept.is_empty() {
        s.attrs.push(syn::parse_quote!(#[derive(#(#kept),*)]));
    }
    Some(kept.iter().any(|p| is_deserialize(p)))
}

/// Replaces serde's derived `Deserialize` on every struct with named fields by a lean impl
/// (see the module docs); returns the impls to add.
fn lean_deserialize(items: &mut [Item]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        if take_derive(s, is_deserialize).is_none() {
            continue;
        }
        let Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        let name = s.ident.to_string();
        let expecting = literal(&format!("struct {name}"));
        // One slot per field, all in one tuple `__s`: an early exit then drops one value, not
        // every slot filled so far (drop elaboration and borrow checking grew with the square of
        // the field count). Errors leave the key loop by `break`, to one exit, instead of a `?`
        // per field (two trait calls each for type checking to resolve).
        //
        // Written as source text, not built as tokens and printed: the unoptimized build script
        // spent a third of its time in `quote!` and in printing these impls.
        let mut slot_types = String::new();
        let mut nones = String::new();
        let mut arms = String::new();
        let mut binds = String::new();
        let mut builds = String::new();
        let mut missing = Vec::new();
        let mut i = 0usize;
        for field in fields.named.iter_mut() {
            // Deserialization is generated here; field-level deserialize attributes go.
            remove_serde_items(&mut field.attrs, |m| m.path().is_ident("deserialize_with"));
            let ident = field.ident.as_ref().expect("named").to_string();
            if is_skipped(field) {
                // As serde's derive: never read (its key is ignored like any unknown one),
                // always the type's default.
                let _ = write!(builds, "{ident}: ::std::default::Default::default(),");
                continue;
            }
            let wire = literal(&wire_name(field));
            // Its aliases (`older_spellings`): read as serde's derive reads them, except that a
            // body with both spellings (where the derive fails on a duplicate field) keeps the
            // spec's, in whatever order they come, and the other's value is then skipped unread.
            let aliases = serde_aliases(&field.attrs)
                .iter()
                .map(|a| literal(a))
                .collect::<Vec<_>>()
                .join(" | ");
            let ty_src = field.ty.to_token_stream().to_string();
            let chrono = is_chrono(&field.ty);
            let default = serde_default(&field.attrs);
            let (asked, stored) = if is_option(&field.ty) {
                let _ = write!(slot_types, "{ty_src},");
                let _ = write!(binds, "__f{i},");
                let _ = write!(builds, "{ident}: __f{i},");
                read_value(&ty_src, chrono, false, false)
            } else {
                let _ = write!(slot_types, "::std::option::Option<{ty_src}>,");
                match default.as_deref() {
                    Some("") => {
                        let _ = write!(binds, "__f{i},");
                        let _ = write!(builds, "{ident}: __f{i}.unwrap_or_default(),");
                        read_value(&ty_src, chrono, true, false)
                    }
                    Some(path) => {
                        let _ = write!(binds, "__f{i},");
                        let _ = write!(builds, "{ident}: __f{i}.unwrap_or_else({path}),");
                        read_value(&ty_src, chrono, true, false)
                    }
                    None => {
                        let _ = write!(binds, "::std::option::Option::Some(__f{i}),");
                        let _ = write!(builds, "{ident}: __f{i},");
                        missing.push((i, wire.clone()));
                        read_value(&ty_src, chrono, false, true)
                    }
                }
            };
            nones.push_str("::std::option::Option::None,");
            let _ = writeln!(
                arms,
                "{wire} => match map.next_value::<{asked}>() {{ \
                 ::std::result::Result::Ok(__v) => __s.{i} = {stored}, \
                 ::std::result::Result::Err(__e) => break ::std::result::Result::Err(__e), }},"
            );
            if !aliases.is_empty() {
                let _ = writeln!(
                    arms,
                    "{aliases} => if __s.{i}.is_none() {{ match map.next_value::<{asked}>() {{ \
                     ::std::result::Result::Ok(__v) => __s.{i} = {stored}, \
                     ::std::result::Result::Err(__e) => break ::std::result::Result::Err(__e), }} }} \
                     else if let ::std::result::Result::Err(__e) = \
                     map.next_value::<::serde::de::IgnoredAny>() {{ \
                     break ::std::result::Result::Err(__e); }},"
                );
            }
            i += 1;
        }
        // The name of the first required field that is missing: only reached when one is.
        let first_missing = missing.iter().rev().fold(None, |rest, (index, wire)| {
            Some(match rest {
                None => wire.clone(),
                Some(rest) => format!("if __s.{index}.is_none() {{ {wire} }} else {{ {rest} }}"),
            })
        });
        let missing_arm = first_missing.map_or(String::new(), |first| {
            format!(
                "__s => ::std::result::Result::Err(\
                 <__A::Error as ::serde::de::Error>::missing_field({first}),),"
            )
        });
        // The struct's part only: the `Visitor` is `crate::de::LeanVisitor`, one generic impl
        // for every struct, instead of a visitor type, its impl and its `expecting` per struct.
        out.push(format!(
            "impl<'de> ::serde::Deserialize<'de> for {name} {{ \
             fn deserialize<__D: ::serde::Deserializer<'de>>(deserializer: __D,) \
             -> ::std::result::Result<Self, __D::Error> {{ \
             deserializer.deserialize_map(crate::de::LeanVisitor::<{name}>::new()) }} }}\n\
             impl crate::de::LeanStruct for {name} {{ \
             const EXPECTING: &'static str = {expecting}; \
             #[allow(unused_mut)] \
             fn visit_map<'de, __A: ::serde::de::MapAccess<'de>>(mut map: __A,) \
             -> ::std::result::Result<{name}, __A::Error> {{\n\
             let mut __s: ({slot_types}) = ({nones});\n\
             let __read: ::std::result::Result<(), __A::Error> = loop {{ \
             let key = match map.next_key::<{KEY_TYPE}<'de>>() {{ \
             ::std::result::Result::Ok(::std::option::Option::Some(key)) => key, \
             ::std::result::Result::Ok(::std::option::Option::None) => {{ break ::std::result::Result::Ok(()) }} \
             ::std::result::Result::Err(__e) => break ::std::result::Result::Err(__e), }};\n\
             match key.as_str() {{\n{arms}\
             _ => {{ if let ::std::result::Result::Err(__e) = map.next_value::<::serde::de::IgnoredAny>() \
             {{ break ::std::result::Result::Err(__e); }} }} }} }};\n\
             if let ::std::result::Result::Err(__e) = __read {{ return ::std::result::Result::Err(__e); }}\n\
             match __s {{ ({binds}) => ::std::result::Result::Ok({name} {{ {builds} }}), {missing_arm} }} }} }}"
        ));
    }
    out
}

// --- lean Serialize --------------------------------------------------------------------------

fn is_serialize(p: &syn::Path) -> bool {
    p.segments.last().is_some_and(|s| s.ident == "Serialize")
}

/// Whether the field is `#[serde(skip)]`: a parameter sent in the path, query or headers,
/// never in the body (see `codegen::add_request_types`).
fn is_skipped(field: &Field) -> bool {
    has_serde_item(&field.attrs, |m| m.path().is_ident("skip"))
}

fn skip_serializing_if(field: &Field) -> Option<String> {
    serde_str(&field.attrs, "skip_serializing_if")
}

/// Replaces serde's derived `Serialize` on every struct with named fields by a lean impl (see
/// the module docs); returns the impls to add, as source text (see `lean_deserialize`). Drops
/// the `#[serde(...)]` attributes of a struct left with no serde derive.
fn lean_serialize(items: &mut [Item]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let Some(serde_derive_left) = take_derive(s, is_serialize) else {
            continue;
        };
        let Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        let name = s.ident.to_string();
        let mut always = 0usize;
        let mut counted = String::new();
        let mut writes = String::new();
        for field in fields.named.iter_mut() {
            let ident = field.ident.as_ref().expect("named").to_string();
            if is_skipped(field) {
                // As serde's derive: not written, not counted.
                if !serde_derive_left {
                    field.attrs.retain(|a| !a.path().is_ident("serde"));
                }
                continue;
            }
            let wire = literal(&wire_name(field));
            let write = format!(
                "if let ::std::result::Result::Err(__e) = \
                 ::serde::ser::SerializeStruct::serialize_field(&mut __st, {wire}, &self.{ident}) \
                 {{ return ::std::result::Result::Err(__e); }}"
            );
            match skip_serializing_if(field) {
                Some(skip) => {
                    let _ = write!(counted, " + (!{skip}(&self.{ident})) as usize");
                    let _ = writeln!(writes, "if !{skip}(&self.{ident}) {{ {write} }}");
                }
                None => {
                    always += 1;
                    writes.push_str(&write);
                    writes.push('\n');
                }
            }
            if !serde_derive_left {
                field.attrs.retain(|a| !a.path().is_ident("serde"));
            }
        }
        if !serde_derive_left {
            s.attrs.retain(|a| !a.path().is_ident("serde"));
        }
        let name_literal = literal(&name);
        out.push(format!(
            "impl ::serde::Serialize for {name} {{ #[allow(unused_mut)] \
             fn serialize<__S: ::serde::Serializer>(&self, serializer: __S,) \
             -> ::std::result::Result<__S::Ok, __S::Error> {{\n\
             let __len: usize = {always}usize{counted};\n\
             let mut __st = match ::serde::Serializer::serialize_struct(serializer, {name_literal}, __len) {{ \
             ::std::result::Result::Ok(__st) => __st, \
             ::std::result::Result::Err(__e) => return ::std::result::Result::Err(__e), }};\n\
             {writes}::serde::ser::SerializeStruct::end(__st) }} }}"
        ));
    }
    out
}

// --- serde's derive, as the reference ---------------------------------------------------------

/// The structs of the generated types as serde's derive would implement them, for the
/// differential test (`tests/serde_differential.rs`, Cargo feature `serde-reference`): a copy of
/// every struct with named fields that the lean passes rewrite, taken before they run, keeping
/// `#[derive(Deserialize, Serialize)]` and the field attributes, with the two semantic choices of
/// the lean `Deserialize` (see the module docs) spelled as serde attributes: a missing `Option`
/// is `None` (typify's `deserialize_with = "Option::deserialize"` is dropped, as the lean pass
/// drops it), and a defaulted list or map reads `null` as empty (`null_as_default`). Every
/// other difference between the lean impls and these is a bug.
///
/// Returns the copies and their names. They go in a module that imports the real `types` with a
/// glob, so a field naming another struct names its copy, and enums (open enums, whose serde
/// impls are hand-written and shared) and aliases resolve to the real ones.
pub fn serde_reference(items: &[Item]) -> (Vec<Item>, Vec<syn::Ident>) {
    let mut out = Vec::new();
    let mut names = Vec::new();
    for item in items {
        let Item::Struct(s) = item else { continue };
        let Fields::Named(_) = &s.fields else {
            continue;
        };
        let all = derives(&s.attrs);
        if has_serde_item(&s.attrs, |m| m.path().is_ident("transparent"))
            || !all.iter().any(is_deserialize)
            || !all.iter().any(is_serialize)
        {
            continue;
        }
        let mut copy = s.clone();
        remove_serde_items(&mut copy.attrs, |m| {
            m.path().is_ident("deny_unknown_fields")
        });
        copy.attrs
            .retain(|a| a.path().is_ident("derive") || a.path().is_ident("serde"));
        let Fields::Named(fields) = &mut copy.fields else {
            continue;
        };
        for field in fields.named.iter_mut() {
            field.attrs.retain(|a| a.path().is_ident("serde"));
            remove_serde_items(&mut field.attrs, |m| m.path().is_ident("deserialize_with"));
            if !is_option(&field.ty)
                && !is_skipped(field)
                && serde_default(&field.attrs).as_deref() == Some("")
            {
                field.attrs.push(
                    syn::parse_quote!(#[serde(deserialize_with = "crate::de::null_as_default")]),
                );
            }
        }
        names.push(copy.ident.clone());
        out.push(Item::Struct(copy));
    }
    (out, names)
}

// --- string newtypes -------------------------------------------------------------------------

fn is_string(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|(name, args)| name == "String" && args.is_empty())
}

/// `From<&str>` for every `struct X(pub String)` that converts from `String`, so constructor
/// arguments take string literals.
fn str_conversions(items: &[Item]) -> Vec<TokenStream> {
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
                    Some(quote! {
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

/// Replaces typify's `impl Deref for X { type Target = String; … }` on a string newtype with
/// `X::as_str()` and `AsRef<str>` (returned, to be written after the types). Through `Deref`,
/// rustdoc listed about 120 `String` and `str` methods on each such type's page, burying its
/// own items; the value stays one call away.
fn string_derefs(items: &mut [Item]) -> Vec<TokenStream> {
    let mut as_refs = Vec::new();
    for item in items.iter_mut() {
        let Item::Impl(imp) = item else { continue };
        let is_deref = imp
            .trait_
            .as_ref()
            .is_some_and(|(_, p, _)| p.segments.last().is_some_and(|s| s.ident == "Deref"));
        let to_string = imp.items.iter().any(
            |i| matches!(i, syn::ImplItem::Type(t) if t.ident == "Target" && is_string(&t.ty)),
        );
        if !(is_deref && to_string) {
            continue;
        }
        let self_ty = imp.self_ty.clone();
        *item = syn::parse_quote! {
            impl #self_ty {
                /// The value, as text.
                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }
        };
        as_refs.push(quote! {
            impl ::std::convert::AsRef<str> for #self_ty {
                fn as_ref(&self) -> &str {
                    &self.0
                }
            }
        });
    }
    as_refs
}

// --- constructors ---------------------------------------------------------------------------

/// Whether a field must be given to `new`: neither `Option` nor defaulted by serde.
pub fn is_required(field: &Field) -> bool {
    !is_option(&field.ty) && serde_default(&field.attrs).is_none()
}

/// Webhook fields Plaid's spec spells two ways within API version `2020-09-14`: (struct, one
/// spelling, the other). 1.482.3 has `canceled_investments_transactions` and `screening_id`,
/// 1.697.4 `cancelled_investments_transactions` and `entity_screening_id`, each required, and a
/// webhook body carries one version's spelling whatever spec the SDK was built from (Plaid's
/// older docs and every SDK generated before the change read `canceled_`). Whichever the spec
/// has names the field; the other is read too.
pub const OLDER_SPELLINGS: &[(&str, &str, &str)] = &[
    (
        "InvestmentsDefaultUpdateWebhook",
        "cancelled_investments_transactions",
        "canceled_investments_transactions",
    ),
    (
        "InvestmentsHistoricalUpdateWebhook",
        "cancelled_investments_transactions",
        "canceled_investments_transactions",
    ),
    (
        "EntityScreeningStatusUpdatedWebhook",
        "entity_screening_id",
        "screening_id",
    ),
];

/// Gives each field [`OLDER_SPELLINGS`] names an alias for its other spelling. Runs before the
/// lean `Deserialize` and the serde reference copy are made, so both read it. Returns how many
/// fields got one.
pub fn older_spellings(items: &mut [Item]) -> usize {
    let mut changed = 0;
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let name = s.ident.to_string();
        let Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        for field in fields.named.iter_mut() {
            let wire = wire_name(field);
            let other = OLDER_SPELLINGS
                .iter()
                .filter(|(ty, ..)| *ty == name)
                .find_map(|&(_, a, b)| match wire.as_str() {
                    w if w == a => Some(b),
                    w if w == b => Some(a),
                    _ => None,
                });
            if let Some(other) = other {
                field
                    .attrs
                    .push(syn::parse_quote!(#[serde(alias = #other)]));
                changed += 1;
            }
        }
    }
    changed
}

/// The `alias` values of a field's `#[serde(...)]` attributes.
fn serde_aliases(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(serde_items)
        .flat_map(|metas| {
            metas
                .iter()
                .filter_map(|m| name_value_str(m, "alias"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Makes the generated `Serialize` write `null` for an empty `Option` field the spec requires
/// (and allows to be `null`), instead of leaving it out: `required` names such fields per type
/// (`spec::required_nullable`). Normalization made them optional so that a missing key parses
/// too; on the way out, the spec's shape has the key. Runs before the lean `Serialize` and the
/// serde reference copy are made, so both write the same. Returns how many fields changed.
pub fn write_required_nulls(
    items: &mut [Item],
    required: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> usize {
    let mut changed = 0;
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let Some(names) = required.get(&s.ident.to_string()) else {
            continue;
        };
        let Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        for field in fields.named.iter_mut() {
            if is_option(&field.ty) && names.contains(&wire_name(field)) {
                changed += remove_serde_items(&mut field.attrs, |m| {
                    m.path().is_ident("skip_serializing_if")
                });
            }
        }
    }
    changed
}

/// The field's name on the wire: its `#[serde(rename)]`, or its identifier.
fn wire_name(field: &Field) -> String {
    serde_str(&field.attrs, "rename").unwrap_or_else(|| unraw(field.ident.as_ref().expect("named")))
}

/// Whether a field of type `ty` can start empty (`Default::default()`): the standard library's
/// containers, strings, numbers, booleans, JSON values, and generated structs that derive
/// `Default`.
fn has_default(items: &[Item], ty: &Type) -> bool {
    let Some((name, _)) = last_segment(ty) else {
        return false;
    };
    const STD: &[&str] = &[
        "Option",
        "Vec",
        "String",
        "HashMap",
        "BTreeMap",
        "Map",
        "Value",
        "bool",
        "i64",
        "i32",
        "u64",
        "u32",
        "f64",
        "f32",
        "NaiveDate",
        "DateTime",
    ];
    STD.contains(&name.as_str())
        || items.iter().any(|item| match item {
            Item::Struct(s) if s.ident == name => derives(&s.attrs)
                .iter()
                .any(|p| p.segments.last().is_some_and(|s| s.ident == "Default")),
            // Open enums start as the empty, unrecognized value.
            Item::Macro(m) if is_open_enum_named(m, &name) => true,
            _ => false,
        })
}

/// Whether the item is the `open_enum!` invocation defining `name`.
fn is_open_enum_named(m: &syn::ItemMacro, name: &str) -> bool {
    let tokens: Vec<proc_macro2::TokenTree> = m.mac.tokens.clone().into_iter().collect();
    m.mac.path.segments.last().is_some_and(|s| s.ident == "open_enum")
        && tokens.windows(2).any(|w| {
            matches!((&w[0], &w[1]), (proc_macro2::TokenTree::Ident(e), proc_macro2::TokenTree::Ident(n))
                if e == "enum" && n == name)
        })
}

/// The `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// `new` and the setters of every struct with named fields; returns them, the signatures
/// generated, and how many setters.
fn constructors(
    items: &[Item],
    orders: &RequiredOrders,
    frozen: &Signatures,
) -> (Vec<String>, Signatures, usize) {
    let mut out = Vec::new();
    let mut signatures = Signatures::new();
    let mut setters = 0;
    for item in items {
        let Item::Struct(s) = item else { continue };
        let Fields::Named(fields) = &s.fields else {
            continue;
        };
        let name = &s.ident;
        let field_named = |n: &str| {
            fields
                .named
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| unraw(i) == n))
        };
        let mut required: Vec<&Field> = fields.named.iter().filter(|f| is_required(f)).collect();
        if let Some(order) = orders.get(&name.to_string()) {
            let mut wire: Vec<String> = required.iter().map(|f| wire_name(f)).collect();
            wire.sort();
            let mut listed = order.clone();
            listed.sort();
            if wire == listed {
                required.sort_by_key(|f| order.iter().position(|o| *o == wire_name(f)));
            }
        }
        // The frozen parameters that still exist. A field required since is appended only to
        // a request type (its name says `Request`): Plaid refuses a request without it, so
        // callers must be told; any other type starts it empty, to be set with its setter (a
        // response type a test builds keeps compiling when Plaid adds a field).
        let listed = frozen.get(&name.to_string());
        let mut params: Vec<&Field> = match listed {
            Some(list) => list.iter().filter_map(|n| field_named(n)).collect(),
            None => Vec::new(),
        };
        let appends = listed.is_none() || name.to_string().contains("Request");
        for f in required {
            // A field that cannot start empty (an enum, a struct without `Default`) must be
            // given: it is appended whatever the type.
            if !params.iter().any(|p| p.ident == f.ident) && (appends || !has_default(items, &f.ty))
            {
                params.push(f);
            }
        }
        signatures.insert(
            name.to_string(),
            params
                .iter()
                .map(|f| unraw(f.ident.as_ref().expect("named")))
                .collect(),
        );
        // Written as source text, as the lean serde impls are (see `lean_deserialize`).
        let args: Vec<String> = params
            .iter()
            .map(|f| {
                let ident = f.ident.as_ref().expect("named");
                let ty = option_inner(&f.ty).unwrap_or(&f.ty).to_token_stream();
                format!("{ident}: impl ::std::convert::Into<{ty}>")
            })
            .collect();
        let inits: Vec<String> = fields
            .named
            .iter()
            .map(|f| {
                let ident = f.ident.as_ref().expect("named");
                if params.iter().any(|p| p.ident == f.ident) {
                    if is_option(&f.ty) {
                        format!("{ident}: ::std::option::Option::Some({ident}.into())")
                    } else {
                        format!("{ident}: {ident}.into()")
                    }
                } else {
                    match serde_default(&f.attrs).as_deref() {
                        Some(path) if !path.is_empty() => format!("{ident}: {path}()"),
                        _ => format!("{ident}: ::std::default::Default::default()"),
                    }
                }
            })
            .collect();
        let listed = if params.is_empty() {
            "It takes no fields.".to_owned()
        } else {
            let names: Vec<String> = params
                .iter()
                .map(|f| format!("`{}`", unraw(f.ident.as_ref().expect("named"))))
                .collect();
            format!("It takes {}.", names.join(", "))
        };
        let example_setter = fields
            .named
            .iter()
            .find(|f| !params.iter().any(|p| p.ident == f.ident))
            .and_then(|f| f.ident.as_ref())
            .map(unraw);
        let doc = match example_setter {
            Some(setter) => format!(
                "Creates a `{name}`; every other field starts empty. {listed} Set the others \
                 with their setters: `{name}::new(…).{setter}(…)`."
            ),
            None => format!("Creates a `{name}`. {listed}"),
        };
        // `#[inline]`: compiled in the crate that calls it, only if it does, as the (generic)
        // setters are; without it the debug build of plaid-sdk itself compiled every
        // non-generic `new` and the `Default`s it calls.
        let mut text = format!(
            "impl {name} {{\n#[doc = {}] \
             #[allow(clippy::too_many_arguments, clippy::new_without_default)] #[inline] \
             pub fn new({}) -> Self {{ Self {{ {} }} }}\n",
            literal(&doc),
            args.join(", "),
            inits.join(", ")
        );
        for f in &fields.named {
            let ident = f.ident.as_ref().expect("named");
            if unraw(ident) == "new" {
                continue;
            }
            let doc = literal(&format!("Sets `{}`.", wire_name(f)));
            let (ty, value) = match option_inner(&f.ty) {
                Some(inner) => (inner, "::std::option::Option::Some(value.into())"),
                None => (&f.ty, "value.into()"),
            };
            let ty = ty.to_token_stream();
            let _ = writeln!(
                text,
                "#[doc = {doc}] #[must_use] \
                 pub fn {ident}(mut self, value: impl ::std::convert::Into<{ty}>) -> Self \
                 {{ self.{ident} = {value}; self }}"
            );
            setters += 1;
        }
        text.push('}');
        out.push(text);
    }
    (out, signatures, setters)
}

/// Every struct's `new` parameters and fields with their types, as JSON: what
/// `scripts/compat.sh` writes calls against, to check that code written against one build
/// compiles against another. `{"Type": {"new": [[field, type]…], "fields": [[field, type]…]}}`,
/// types as Rust source.
pub fn inventory(items: &[Item], signatures: &Signatures) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for item in items {
        let Item::Struct(s) = item else { continue };
        let Fields::Named(fields) = &s.fields else {
            continue;
        };
        let ty_of = |f: &Field, inner: bool| {
            let ty = if inner {
                option_inner(&f.ty).unwrap_or(&f.ty)
            } else {
                &f.ty
            };
            quote!(#ty).to_string()
        };
        let find = |n: &str| {
            fields
                .named
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| unraw(i) == n))
        };
        let new: Vec<serde_json::Value> = signatures
            .get(&s.ident.to_string())
            .into_iter()
            .flatten()
            .filter_map(|n| find(n).map(|f| serde_json::json!([n, ty_of(f, true)])))
            .collect();
        let all: Vec<serde_json::Value> = fields
            .named
            .iter()
            .map(|f| {
                serde_json::json!([
                    unraw(f.ident.as_ref().expect("named")),
                    ty_of(f, false),
                    ty_of(f, true)
                ])
            })
            .collect();
        out.insert(
            s.ident.to_string(),
            serde_json::json!({ "new": new, "fields": all }),
        );
    }
    serde_json::Value::Object(out)
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

    /// The generated impls as tokens print them: the passes write some as source text.
    fn normalized(extra: &[String]) -> String {
        extra
            .iter()
            .map(|text| {
                let file = syn::parse_file(text).expect("generated Rust");
                file.to_token_stream().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
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
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        assert_eq!(stats.open_enums, 1);
        assert_eq!(stats.enum_impls_dropped, 2);
        let out = format!("{} {extra}", render(&it));
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

    /// Review round 18: the operation docs read "required" off the fields after the lean
    /// impls had stripped `#[serde(default)]`, so a defaulted `Vec` (`access_tokens` of
    /// `/link/token/create`) was listed as required. `Stats::required` is read before.
    #[test]
    fn the_required_fields_are_read_before_serdes_attributes_go() {
        let mut it = items(
            r#"
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            pub struct LinkTokenCreateRequest {
                pub client_name: ::std::string::String,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub access_tokens: ::std::vec::Vec<::std::string::String>,
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub webhook: ::std::option::Option<::std::string::String>,
                pub r#type: ::std::string::String,
            }
            "#,
        );
        let (stats, _) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        assert_eq!(
            stats.required["LinkTokenCreateRequest"],
            ["client_name".to_owned(), "type".to_owned()].into()
        );
        assert!(
            !render(&it).contains("serde (default"),
            "the attributes are gone after"
        );
    }

    #[test]
    fn data_carrying_enums_are_left_alone() {
        let mut it = items("pub enum Shape { Circle(f64), Square { side: f64 } }");
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        assert_eq!(stats.open_enums, 0);
        assert!(format!("{} {extra}", render(&it)).contains("Circle (f64)"));
    }

    #[test]
    fn a_spec_value_named_like_the_fallback_is_renamed() {
        let mut it = items(
            "pub enum Holder { #[serde(rename = \"unrecognized\")] Unrecognized, #[serde(rename = \"UNKNOWN\")] Unknown }",
        );
        let (_, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        let out = format!("{} {extra}", render(&it));
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
    fn required_nullable_fields_are_written_as_null() {
        let mut it = items(
            r#"
            pub struct Transaction {
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub transaction_code: Option<String>,
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub merchant_name: Option<String>,
            }
        "#,
        );
        let required = [(
            "Transaction".to_owned(),
            ["transaction_code".to_owned()].into(),
        )]
        .into();
        assert_eq!(write_required_nulls(&mut it, &required), 1);
        let out = render(&it);
        assert!(
            out.contains("# [serde (default)] pub transaction_code"),
            "{out}"
        );
        assert!(
            out.contains(
                "skip_serializing_if = \"::std::option::Option::is_none\")] pub merchant_name"
            ),
            "{out}"
        );
    }

    #[test]
    fn skipped_fields_are_neither_written_nor_read_as_with_serdes_derive() {
        // A header parameter on a body type: sent as a header, never in the body.
        let mut it = items(
            r#"
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            pub struct UserCreateRequest {
                pub client_user_id: ::std::string::String,
                #[serde(skip)]
                pub plaid_new_user_api_enabled: ::std::option::Option<bool>,
                #[serde(skip)]
                pub consent_id: ::std::string::String,
            }
            "#,
        );
        let (_, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        let ser = &extra[extra.find("Serialize for UserCreateRequest").unwrap()..];
        let de = &extra[extra
            .find("Deserialize < 'de > for UserCreateRequest")
            .unwrap()..];
        let ser = &ser[..ser.find("impl").unwrap_or(ser.len())];
        let de = &de[..de.find("Serialize for").unwrap_or(de.len())];
        for code in [ser, de] {
            assert!(code.contains("\"client_user_id\""), "{code}");
            assert!(!code.contains("\"plaid_new_user_api_enabled\""), "{code}");
            assert!(!code.contains("\"consent_id\""), "{code}");
        }
        assert!(
            ser.contains("let __len : usize = 1usize"),
            "one field counted: {ser}"
        );
        assert!(
            de.contains("plaid_new_user_api_enabled : :: std :: default :: Default :: default ()"),
            "{de}"
        );
    }

    #[test]
    fn a_field_spelled_two_ways_is_read_under_both() {
        for spelling in [
            "cancelled_investments_transactions",
            "canceled_investments_transactions",
        ] {
            let mut it = items(&format!(
                r#"
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                pub struct InvestmentsDefaultUpdateWebhook {{
                    pub {spelling}: f64,
                    pub new_investments_transactions: f64,
                }}
                "#
            ));
            assert_eq!(older_spellings(&mut it), 1, "{spelling}");
            let (reference, _) = serde_reference(&it);
            let copy = render(&reference);
            let (_, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
            let de = normalized(&extra);
            let other = if spelling.starts_with("cancelled") {
                "canceled_investments_transactions"
            } else {
                "cancelled_investments_transactions"
            };
            assert!(de.contains(&format!("\"{spelling}\" =>")), "{de}");
            // The other spelling is read only when the spec's is not there.
            assert!(
                de.contains(&format!("\"{other}\" =>")) && de.contains("if __s . 0 . is_none ()"),
                "{de}"
            );
            assert!(
                copy.contains("alias"),
                "serde's derive reads it too: {copy}"
            );
        }
        let mut other = items("pub struct Unrelated { pub screening_id: String }");
        assert_eq!(older_spellings(&mut other), 0, "only the structs named");
    }

    #[test]
    fn lean_deserialize_replaces_the_derive_and_no_deny_unknown_fields() {
        let mut it = items(
            r#"
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            #[serde(deny_unknown_fields)]
            pub struct Account {
                #[serde(deserialize_with = "::std::option::Option::deserialize")]
                pub mask: ::std::option::Option<::std::string::String>,
                #[serde(rename = "type")]
                pub type_: ::std::string::String,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub owners: ::std::vec::Vec<::std::string::String>,
            }
            #[derive(::serde::Deserialize, ::serde::Serialize)]
            #[serde(transparent)]
            pub struct Id(pub ::std::string::String);
            "#,
        );
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        assert_eq!(
            stats.lean_deserialize, 1,
            "transparent newtypes keep serde's derive"
        );
        assert_eq!(stats.deny_unknown_fields_removed, 1);
        let out = format!("{} {extra}", render(&it));
        assert_eq!(stats.lean_serialize, 1);
        assert!(
            out.contains("# [derive (Clone , Debug)] pub struct Account"),
            "{out}"
        );
        assert!(
            !out.contains("# [serde (rename") && !out.contains("skip_serializing_if ="),
            "no serde derive left on Account, so no serde attributes: {out}"
        );
        assert!(
            out.contains("let __len : usize = 2usize + (! :: std :: vec :: Vec :: is_empty (& self . owners)) as usize ;"),
            "the exact field count; a required nullable field is always written: {out}"
        );
        assert!(
            out.contains("serialize_field (& mut __st , \"type\" , & self . type_)"),
            "renamed on the wire: {out}"
        );
        assert!(out.contains("# [derive (:: serde :: Deserialize , :: serde :: Serialize)] # [serde (transparent)] pub struct Id"), "{out}");
        assert!(!out.contains("Option :: deserialize"), "{out}");
        assert!(!out.contains("deny_unknown_fields"), "{out}");
        assert!(
            out.contains(
                "\"type\" => match map . next_value :: < :: std :: string :: String > () { \
                 :: std :: result :: Result :: Ok (__v) => __s . 1 = :: std :: option :: Option :: Some (__v) , \
                 :: std :: result :: Result :: Err (__e) => break :: std :: result :: Result :: Err (__e) , }"
            ),
            "a required field's slot is an Option; errors leave the loop by break: {out}"
        );
        assert!(
            out.contains("(__f0 , :: std :: option :: Option :: Some (__f1) , __f2 ,) =>"),
            "the required field must be present: {out}"
        );
        assert!(
            out.contains("owners : __f2 . unwrap_or_default ()"),
            "null or missing list is empty: {out}"
        );
        assert!(
            out.contains("mask : __f0 ,"),
            "missing Option is None: {out}"
        );
        assert!(
            out.contains("__s => :: std :: result :: Result :: Err (< __A :: Error as :: serde :: de :: Error > :: missing_field (\"type\") ,)"),
            "{out}"
        );
        assert!(
            !out.contains(") ?"),
            "no `?` in a generated visit_map: {out}"
        );
    }

    #[test]
    fn constructor_arguments_follow_the_spec_required_order_when_it_fits() {
        let src = r#"
            pub struct SandboxPublicTokenCreateRequest {
                pub initial_products: ::std::vec::Vec<Products>,
                pub institution_id: ::std::string::String,
                pub options: ::std::option::Option<Options>,
            }
        "#;
        let mut orders = RequiredOrders::new();
        orders.insert(
            "SandboxPublicTokenCreateRequest".into(),
            vec!["institution_id".into(), "initial_products".into()],
        );
        let mut it = items(src);
        let (_, extra) = rewrite(&mut it, &orders, &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        let out = format!("{} {extra}", render(&it));
        assert!(out.contains("pub fn new (institution_id : impl :: std :: convert :: Into < :: std :: string :: String > , initial_products"), "{out}");

        // An order that does not name exactly the required fields is ignored.
        orders.insert(
            "SandboxPublicTokenCreateRequest".into(),
            vec!["institution_id".into(), "client_id".into()],
        );
        let mut it = items(src);
        let (_, extra) = rewrite(&mut it, &orders, &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        assert!(format!("{} {extra}", render(&it)).contains("pub fn new (initial_products"));
    }

    #[test]
    fn enum_values_get_the_text_their_description_has_for_them() {
        let doc = "The channel used to make a payment.\n`online:` transactions that took place online.\n\n`in store:` transactions that were made at a physical location.\n\n`other:` transactions that relate to banks, e.g. fees or deposits.";
        assert_eq!(
            value_doc(doc, "online").as_deref(),
            Some("transactions that took place online.")
        );
        assert_eq!(
            value_doc(doc, "in store").as_deref(),
            Some("transactions that were made at a physical location.")
        );
        let listed = "Status.\n- `pending`: waiting\n  for the bank\n- `posted`: settled";
        assert_eq!(
            value_doc(listed, "pending").as_deref(),
            Some("waiting for the bank")
        );
        assert_eq!(value_doc(listed, "posted").as_deref(), Some("settled"));
        assert_eq!(value_doc(listed, "unknown"), None);
        assert_eq!(value_doc("Uses `pending` in prose.", "pending"), None);

        let mut it = items(
            r#"
            #[doc = "The channel.\n`online:` took place online.\n\n`other:` anything else."]
            pub enum PaymentChannel {
                #[serde(rename = "online")]
                Online,
                #[serde(rename = "other")]
                Other,
            }
            "#,
        );
        let (stats, _) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        assert_eq!(stats.variant_docs, 2);
        let out = render(&it);
        assert!(
            out.contains("# [doc = \"took place online.\"] Online"),
            "{out}"
        );
    }

    #[test]
    fn string_newtypes_get_as_str_instead_of_deref_to_string() {
        let mut it = items(
            r#"
            pub struct DepositoryAccount(::std::string::String);
            impl ::std::ops::Deref for DepositoryAccount {
                type Target = ::std::string::String;
                fn deref(&self) -> &::std::string::String { &self.0 }
            }
            pub struct Extra(::serde_json::Map<::std::string::String, ::serde_json::Value>);
            impl ::std::ops::Deref for Extra {
                type Target = ::serde_json::Map<::std::string::String, ::serde_json::Value>;
                fn deref(&self) -> &::serde_json::Map<::std::string::String, ::serde_json::Value> { &self.0 }
            }
            "#,
        );
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        assert_eq!(stats.string_derefs_replaced, 1);
        let out = format!("{} {}", render(&it), normalized(&extra));
        assert!(
            !out.contains("Deref for DepositoryAccount"),
            "no Deref to String: {out}"
        );
        assert!(out.contains("pub fn as_str (& self) -> & str"), "{out}");
        assert!(
            out.contains("impl :: std :: convert :: AsRef < str > for DepositoryAccount"),
            "{out}"
        );
        assert!(out.contains("Deref for Extra"), "other Derefs stay: {out}");
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
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        assert_eq!(stats.str_conversions, 1);
        let out = format!("{} {extra}", render(&it));
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
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &Signatures::new()).unwrap();
        let extra = normalized(&extra);
        assert_eq!(stats.constructors, 3, "every struct has new");
        assert_eq!(stats.setters, 7, "one setter per field");
        let out = format!("{} {extra}", render(&it));
        assert!(
            out.contains("# [non_exhaustive] pub struct TransactionsSyncRequest"),
            "{out}"
        );
        assert!(
            out.contains("pub fn count (mut self , value : impl :: std :: convert :: Into < i64 >) -> Self { self . count = :: std :: option :: Option :: Some (value . into ()) ; self }"),
            "{out}"
        );
        assert!(
            out.contains("pub fn new (access_token : impl :: std :: convert :: Into < AccessToken > , r#type : impl :: std :: convert :: Into < :: std :: string :: String >) -> Self"),
            "{out}"
        );
        assert!(
            out.contains("count : :: std :: default :: Default :: default ()"),
            "{out}"
        );
        assert!(
            out.contains("It takes `access_token`, `type`. Set the others with their setters"),
            "{out}"
        );
        assert!(out.contains("impl AllOptionalNoDefault"), "{out}");
        assert!(out.contains("impl AllOptional { # [doc"), "{out}");
        assert_eq!(
            stats.signatures["TransactionsSyncRequest"],
            ["access_token", "type"]
        );
    }

    #[test]
    fn frozen_signatures_keep_parameters_the_spec_made_optional() {
        // 1.482.3 required `user`; a newer spec makes it optional and requires `mode`, and
        // drops `gone`. A response type gains a required field.
        let mut it = items(
            r#"
            pub struct LinkTokenCreateRequest {
                pub client_name: ::std::string::String,
                pub user: ::std::option::Option<User>,
                pub mode: ::std::string::String,
                pub webhook: ::std::option::Option<::std::string::String>,
            }
            pub struct Account {
                pub id: ::std::string::String,
                pub holder_category: ::std::string::String,
            }
            "#,
        );
        let mut frozen = Signatures::new();
        frozen.insert(
            "LinkTokenCreateRequest".into(),
            vec!["client_name".into(), "gone".into(), "user".into()],
        );
        frozen.insert("Account".into(), vec!["id".into()]);
        let (stats, extra) = rewrite(&mut it, &RequiredOrders::new(), &frozen).unwrap();
        let out = normalized(&extra);
        assert!(
            out.contains("pub fn new (client_name : impl :: std :: convert :: Into < :: std :: string :: String > , user : impl :: std :: convert :: Into < User > , mode : impl"),
            "{out}"
        );
        assert!(
            out.contains("user : :: std :: option :: Option :: Some (user . into ())"),
            "{out}"
        );
        assert_eq!(
            stats.signatures["LinkTokenCreateRequest"],
            ["client_name", "user", "mode"]
        );
        // A response type whose spec now requires one more field keeps its `new`.
        assert_eq!(stats.signatures["Account"], ["id"]);
        assert!(
            out.contains("holder_category : :: std :: default :: Default :: default ()"),
            "{out}"
        );
    }
}
