//! The code generator of [plaid-sdk](https://docs.rs/plaid-sdk): its build script calls
//! [`run`], which generates the whole Plaid API from the OpenAPI spec, `spec/plaid.json`, or
//! the file named by `PLAID_OPENAPI_SPEC`. Not meant to be used directly; its version always
//! equals plaid-sdk's.
//!
//! It is a crate of its own, not the build script's modules, so that it is compiled once,
//! like progenitor: changing plaid-sdk's features reruns the generator without recompiling it.
//!
//! The steps, each a module with its own unit tests (run by plaid-sdk's
//! `tests/build_steps.rs`):
//!
//! 1. `normalize`: rewrite the spec so progenitor can generate it and the types are
//!    forward-compatible;
//! 2. progenitor 0.15 (positional interface) generates the types and a client;
//! 3. `codegen` reads progenitor's methods (signatures, docs, URLs) and, with each operation's
//!    parameters from `spec`, gives every operation one request type;
//! 4. `postprocess`: open enums, lenient fields and constructors in the generated types;
//! 5. `codegen` emits the SDK's operation layer: `OperationInfo`s, `Operation` impls and one
//!    `PlaidClient` method per operation.
//!
//! The result is `$OUT_DIR/plaid_api.rs`, included by plaid-sdk's `src/generated.rs`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chunks;
mod classify;
mod codegen;
mod diff;
mod features;
mod normalize;
mod pagination;
mod postprocess;
mod spec;
mod webhooks;

use quote::quote;
use std::path::{Path, PathBuf};

/// The variable that points the build at another spec file.
const SPEC_VAR: &str = "PLAID_OPENAPI_SPEC";

/// Schemas replaced by the SDK's own types: secret-holding newtypes that redact themselves, and
/// Plaid's error object and its category.
const REPLACEMENTS: &[(&str, &str)] = &[
    ("AccessToken", "crate::secret::AccessToken"),
    ("PublicToken", "crate::secret::PublicToken"),
    ("ProcessorToken", "crate::secret::ProcessorToken"),
    ("UserToken", "crate::secret::UserToken"),
    ("ClientSecret", "crate::secret::ClientSecret"),
    ("SecretString", "crate::secret::SecretString"),
    // One error object wherever Plaid sends it: a failed call's `Error::Api`, an Item's
    // `error`, an `ITEM` `ERROR` webhook's `error` are all `ApiError`, with the open
    // `ErrorType` and `ErrorCode` (the spec's `PlaidError` has plain strings).
    ("PlaidError", "crate::ApiError"),
    // And its category, wherever else the spec uses it (a `Cause`'s `error_type`): one
    // `ErrorType` to match on, not a generated twin of it (review round 20).
    ("PlaidErrorType", "crate::ErrorType"),
];

/// Prints how long each step took when `PLAID_SDK_BUILD_TIMINGS` is set (see it with
/// `cargo build -vv`).
struct Timings(Option<std::time::Instant>);

impl Timings {
    fn lap(&mut self, step: &str) {
        if let Some(start) = &mut self.0 {
            eprintln!("plaid-sdk build: {step:<28} {:>8.2?}", start.elapsed());
            *start = std::time::Instant::now();
        }
    }
}

/// Generates `$OUT_DIR/plaid_api.rs` and prints the build script's `cargo:` directives.
///
/// Call it from a build script only: it reads Cargo's build-script environment
/// (`CARGO_MANIFEST_DIR`, `OUT_DIR`, and `CARGO_FEATURE_*` for the product features) and
/// `PLAID_OPENAPI_SPEC`. The error, if any, names the spec file and the schema or operation at
/// fault.
///
/// The `main` of plaid-sdk's `build.rs` is this:
///
/// ```no_run
/// if let Err(e) = plaid_sdk_codegen::run() {
///     eprintln!("\nerror: plaid-sdk could not generate the Plaid API\n  {e}\n");
///     std::process::exit(1);
/// }
/// ```
pub fn run() -> Result<(), String> {
    println!("cargo:rerun-if-env-changed=PLAID_SDK_BUILD_TIMINGS");
    println!("cargo:rustc-check-cfg=cfg(docsrs)");
    let mut timings =
        Timings(std::env::var_os("PLAID_SDK_BUILD_TIMINGS").map(|_| std::time::Instant::now()));
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    println!("cargo:rerun-if-env-changed={SPEC_VAR}");
    println!("cargo:rerun-if-env-changed=PLAID_SDK_UNFROZEN");
    println!("cargo:rerun-if-changed=build.rs");
    let spec_path = match std::env::var_os(SPEC_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => manifest_dir.join("spec/plaid.json"),
    };
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let at = spec_path.display().to_string();

    let mut spec = load(&spec_path)?;
    timings.lap("read and parse the spec");
    // Before normalization, which drops the page-size maximums.
    let pages = pagination::analyze(&spec).map_err(|e| format!("{at}: {e}"))?;
    let webhook_kinds = webhooks::analyze(&spec);
    let mut bounds = spec::bounds(&spec);
    let mut accepts = spec::accept_headers(&spec);
    let required_nullable = spec::required_nullable(&spec);
    let webhook_bodies: Vec<String> = webhook_kinds.iter().map(|w| w.schema.clone()).collect();
    let stats =
        normalize::normalize(&mut spec, &webhook_bodies).map_err(|e| format!("{at}: {e}"))?;
    normalize::check_coverage(&spec, &stats).map_err(|e| format!("{at}: {e}"))?;
    // Product features: without `full`, generate only the enabled families (and the core).
    let enabled = |feature: &str| {
        std::env::var_os(format!(
            "CARGO_FEATURE_{}",
            feature.to_uppercase().replace('-', "_")
        ))
        .is_some()
    };
    if !enabled("full") {
        let keep: Vec<String> = webhook_kinds
            .iter()
            .filter(|w| features::webhook_family(&w.webhook_type).is_none_or(&enabled))
            .map(|w| w.schema.clone())
            .collect();
        let pruned = features::prune(&mut spec, &enabled, &keep);
        let on: Vec<&str> = features::FEATURES
            .iter()
            .copied()
            .filter(|f| enabled(f))
            .collect();
        timings.lap(&format!(
            "prune to {} operations ({})",
            pruned.operations,
            on.join(",")
        ));
    }
    let mut spec_ops = spec::operations(&spec).map_err(|e| format!("{at}: {e}"))?;
    for op in &mut spec_ops {
        op.bounds = bounds
            .remove(&(op.method.clone(), op.path.clone()))
            .unwrap_or_default();
        if let Some(accept) = accepts.remove(&(op.method.clone(), op.path.clone())) {
            op.accept = accept;
        }
    }
    let required_orders = spec::required_orders(&spec);
    let version = spec
        .pointer("/info/version")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_owned();
    timings.lap("normalize");
    let openapi: openapiv3::OpenAPI = serde_path_to_error::deserialize(spec).map_err(|e| {
        format!(
            "{at}: not a valid OpenAPI 3.0 document at `{}`: {}",
            e.path(),
            e.inner()
        )
    })?;

    timings.lap("OpenAPI model");
    let generated = progenitor_generate(&openapi).map_err(|e| format!("{at}: {e}"))?;
    timings.lap("progenitor + syn parse");
    let (mut types, client) = split(generated)?;
    let ops = codegen::extract(&client, &spec_ops).map_err(|e| format!("{at}: {e}"))?;
    if ops.len() != spec_ops.len() {
        return Err(format!(
            "{at}: the spec has {} operations but {} methods were generated",
            spec_ops.len(),
            ops.len()
        ));
    }
    codegen::add_request_types(&ops, &mut types).map_err(|e| format!("{at}: {e}"))?;
    // Fields the spec requires but allows null: written as null, not left out.
    postprocess::write_required_nulls(&mut types, &required_nullable);
    // Webhook fields the spec has spelled two ways: read under both.
    postprocess::older_spellings(&mut types);
    // serde's derive of every struct, for the differential test only.
    let reference = enabled("serde-reference").then(|| postprocess::serde_reference(&types));
    // `new`'s frozen parameters (see postprocess::Signatures).
    let signatures_path = manifest_dir.join("spec/signatures.json");
    println!("cargo:rerun-if-changed={}", signatures_path.display());
    // Required: without it every `new` would take whatever the spec requires today, and the
    // published crate's signatures would not be the ones it documents. Only
    // scripts/freeze_signatures.sh builds without it, to make a new baseline.
    let frozen: postprocess::Signatures = match std::fs::read_to_string(&signatures_path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e}", signatures_path.display()))?,
        Err(_) if std::env::var_os("PLAID_SDK_UNFROZEN").is_some() => Default::default(),
        Err(e) => {
            return Err(format!(
                "cannot read {}: {e} (it freezes every `new`'s parameters; see scripts/freeze_signatures.sh)",
                signatures_path.display()
            ))
        }
    };
    let (stats, generated_impls) = postprocess::rewrite(&mut types, &required_orders, &frozen)
        .map_err(|e| format!("{at}: {e}"))?;
    // What this build's `new`s take, and every struct's fields: for tests/signatures.rs and
    // scripts/compat.sh, and for refreezing the signatures (scripts/freeze_signatures.sh).
    let write_json = |name: &str, value: serde_json::Value| {
        let target = out_dir.join(name);
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        std::fs::write(&target, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", target.display()))
    };
    write_json(
        "signatures.json",
        serde_json::to_value(&stats.signatures).map_err(|e| e.to_string())?,
    )?;
    write_json(
        "inventory.json",
        postprocess::inventory(&types, &stats.signatures),
    )?;
    timings.lap("request types, postprocess");
    let (pagination_impls, pagination_lists) =
        pagination::generate(&pages, &ops, &types).map_err(|e| format!("{at}: {e}"))?;
    let operations = codegen::generate(&ops, &types, pagination_lists, &stats.required)
        .map_err(|e| format!("{at}: {e}"))?;
    timings.lap("operation layer");

    // One item per line, so a compile error in generated code points at a readable line.
    let mut file = String::with_capacity(4 << 20);
    file.push_str(
        "/// The request and response types of every operation, generated from Plaid's spec.\n\
         ///\n\
         /// Every struct has a `new` constructor taking its required fields and a setter per\n\
         /// field (`TransactionsSyncRequest::new(token).count(500)`). Every enum is open: a\n\
         /// value this build does not know parses as `Unrecognized` and is sent back unchanged.\n\
         pub mod types {\n",
    );
    // One impl per line too: rustc computes a column for every span it puts in debug info,
    // and all of them on one 2.5 MB line tripled the crate's codegen time.
    let type_texts = types
        .iter()
        .map(|item| quote!(#item).to_string())
        .chain(generated_impls.iter().cloned());
    file.push_str(&chunks::write_chunks(&out_dir, "types", type_texts)?);
    file.push_str("}\n");
    let webhook_events = webhooks::generate(&webhook_kinds, &types);
    file.push_str(
        &quote! {
            /// Typed webhook bodies (see [`crate::webhook`]).
            pub mod webhooks {
                use super::types;
                #webhook_events
            }
        }
        .to_string(),
    );
    file.push('\n');
    let operation_texts = operations
        .into_iter()
        .chain(pagination_impls.iter().map(|t| t.to_string()));
    file.push_str(&chunks::write_chunks(
        &out_dir,
        "operations",
        operation_texts,
    )?);
    file.push('\n');
    if let Some((structs, names)) = reference {
        let names_str = names.iter().map(|n| n.to_string());
        let spellings = postprocess::OLDER_SPELLINGS;
        let (spelled, one, other) = (
            spellings.iter().map(|s| s.0),
            spellings.iter().map(|s| s.1),
            spellings.iter().map(|s| s.2),
        );
        file.push_str(
            "/// serde's derive of every generated struct (Cargo feature `serde-reference`, for\n\
             /// tests/serde_differential.rs only): see `postprocess::serde_reference`.\n\
             #[doc(hidden)]\n\
             #[allow(clippy::all, unused_imports)]\n\
             pub mod __serde_reference {\n\
             use super::types::*;\n",
        );
        for item in &structs {
            file.push_str(&quote!(#item).to_string());
            file.push('\n');
        }
        file.push_str("}\n");
        file.push_str(
            &quote! {
                /// Every struct with both impls: its name, and a check that the lean impls
                /// and serde's derive agree on one JSON input (see `crate::de::differential`).
                #[doc(hidden)]
                pub const __SERDE_DIFFERENTIAL: &[(&str, fn(&::serde_json::Value) -> ::std::result::Result<bool, ::std::string::String>)] = &[
                    #((#names_str, crate::de::differential::<types::#names, __serde_reference::#names>)),*
                ];
                /// The generator's `OLDER_SPELLINGS`: (struct, one spelling, the other).
                #[doc(hidden)]
                pub const __OLDER_SPELLINGS: &[(&str, &str, &str)] = &[
                    #((#spelled, #one, #other)),*
                ];
            }
            .to_string(),
        );
        file.push('\n');
    }
    file.push_str(
        &quote! {
            /// The `info.version` of the spec this build was generated from.
            pub const SPEC_VERSION: &str = #version;
        }
        .to_string(),
    );
    let target = out_dir.join("plaid_api.rs");
    std::fs::write(&target, file).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    timings.lap("write the file");
    Ok(())
}

/// Reads a spec file, JSON or YAML, exactly as the build does, and returns it as pretty JSON
/// (keys sorted, two-space indent, a final newline): what `spec/refresh.sh` vendors, so that
/// building from the vendored JSON and from the YAML it came from generate the same code.
pub fn spec_to_json(path: &Path) -> Result<String, String> {
    let spec = load(path)?;
    let mut text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// The change report between two spec files (JSON or YAML): operations added and removed,
/// request and response fields added, removed, made required or optional, enum values added
/// and removed, each marked breaking or not. `spec/refresh.sh` prints it on every refresh.
pub fn spec_diff(old: &Path, new: &Path) -> Result<String, String> {
    Ok(diff::diff(&load(old)?, &load(new)?).to_string())
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

/// Reads a spec file, JSON or YAML, into a JSON value.
fn load(path: &Path) -> Result<serde_json::Value, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("cannot read the Plaid spec {at}: {e} (set {SPEC_VAR} to a spec file, or unset it to use spec/plaid.json)")
    })?;
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| format!("{at}: not valid JSON: {e}"))
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{at}: not valid YAML: {e}"))
    }
}

/// Runs progenitor, turning a panic inside it into an error.
fn progenitor_generate(spec: &openapiv3::OpenAPI) -> Result<syn::File, String> {
    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged);
    for (schema, rust_type) in REPLACEMENTS {
        settings.with_replacement(*schema, *rust_type, std::iter::empty());
    }
    let message = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = message.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut m) = sink.lock() {
            *m = info.to_string();
        }
    }));
    let result = std::panic::catch_unwind(|| {
        let mut generator = progenitor::Generator::new(&settings);
        generator.generate_tokens(spec)
    });
    std::panic::set_hook(previous);
    let tokens = match result {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("progenitor rejected the spec: {e}")),
        Err(_) => {
            let m = message.lock().map(|m| m.clone()).unwrap_or_default();
            return Err(format!(
                "progenitor panicked: {m}\n  The spec uses a construct codegen/src/normalize.rs does not rewrite yet."
            ));
        }
    };
    syn::parse2(tokens).map_err(|e| format!("progenitor's output does not parse: {e}"))
}

/// Splits progenitor's output into the items of `mod types` and the `impl Client` block.
fn split(file: syn::File) -> Result<(Vec<syn::Item>, syn::ItemImpl), String> {
    let mut types = None;
    let mut client = None;
    for item in file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "types" => {
                types = m.content.map(|(_, items)| items);
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() && is_client(&imp.self_ty) => {
                let has_methods = imp
                    .items
                    .iter()
                    .any(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.asyncness.is_some()));
                if has_methods || client.is_none() {
                    client = Some(imp);
                }
            }
            _ => {}
        }
    }
    Ok((
        types.ok_or("progenitor's output has no `types` module")?,
        client.ok_or("progenitor's output has no `impl Client` block")?,
    ))
}

fn is_client(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.is_ident("Client"))
}
