//! Generates the SDK's operation layer from progenitor's positional client.
//!
//! progenitor emits one `impl Client` method per operation, with the operation's summary and
//! description as rustdoc, its request body type and its success type. Its method bodies decode
//! with bare `serde_json::from_slice`, which loses the HTTP status of a non-JSON error page and
//! the JSON path of a decode error, and offer no per-call timeout or retry seam. So this module
//! reads each method's signature, docs and URL, matches it to the spec's operation (for the
//! parameters), and emits instead:
//!
//! * `operations::NAME`: an `OperationInfo` constant per operation (path, method, read/write,
//!   slow or not, body or not, response kind) and `operations::ALL`;
//! * one request type per operation: the body type, or, for an operation without a body, a
//!   generated `…Request` struct holding its parameters. Path, query and header parameters are
//!   `#[serde(skip)]` fields of that type, set like any other field;
//! * `impl Operation for <Request>`: ties each request type to its response type, its info, its
//!   parameters and, where the request has one, its idempotency key;
//! * `impl PlaidClient { pub async fn <operation>(&self, request: &<Request>) -> Result<…> }`,
//!   with progenitor's docs plus what the caller needs: required and optional inputs, retry and
//!   timeout behaviour, and errors.

use crate::classify::{self, Kind};
use crate::postprocess::{doc_strings, is_option, unraw};
use crate::spec::{self, Location, Param, ParamType};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::visit::Visit;
use syn::{Fields, FnArg, ImplItem, Item, ItemImpl, ReturnType, Type};

/// What a successful call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A JSON body of this type (a generated type's name, or a path like `::std::string::String`).
    Json(Box<syn::Type>),
    /// Raw bytes (PDF, ZIP).
    Binary,
    /// No body.
    Empty,
}

/// One operation, as read from progenitor's output and the spec.
#[derive(Debug, Clone)]
pub struct Op {
    /// The method name (`transactions_sync`).
    pub name: syn::Ident,
    /// Doc lines from the spec's summary and description.
    pub docs: Vec<String>,
    /// `POST`, `GET`, …
    pub method: String,
    /// The path template (`/transactions/sync`, `/fdx/consents/{consentId}`).
    pub path: String,
    /// The request body type (`TransactionsSyncRequest`), if the operation has a body.
    pub body: Option<syn::Ident>,
    /// Path, query and header parameters.
    pub params: Vec<Param>,
    /// Numeric bounds on body fields, checked before sending.
    pub bounds: Vec<spec::Bound>,
    /// The `Accept` header: the success response's media types.
    pub accept: String,
    /// The seconds Plaid requires before a failed call is repeated with the same idempotency
    /// key ([`spec::key_retry_delay`]): the client never repeats such a call itself.
    pub key_retry_delay: Option<u64>,
    /// Whether the spec warns of a long latency ([`spec::documents_latency`]).
    pub documents_latency: bool,
    /// The success response.
    pub response: Response,
}

impl Op {
    /// The type the client method takes: the body type, or the generated parameters struct.
    pub fn request(&self) -> syn::Ident {
        self.body
            .clone()
            .unwrap_or_else(|| format_ident!("{}Request", spec::pascal_case(&unraw(&self.name))))
    }
}

/// Names `PlaidClient` defines by hand; an operation with one of them would shadow it.
const RESERVED: &[&str] = &[
    "new",
    "builder",
    "from_env",
    "send",
    "config",
    "base_url",
    "with_timeout",
    "with_retry_policy",
    "without_retries",
    "clone",
    "fmt",
];

/// Reads every operation from progenitor's `impl Client` block, matching each to the spec's
/// operation with the same method and path.
pub fn extract(client: &ItemImpl, spec_ops: &[spec::Operation]) -> Result<Vec<Op>, String> {
    let mut ops = Vec::new();
    for item in &client.items {
        let ImplItem::Fn(f) = item else { continue };
        let name = f.sig.ident.clone();
        let at = |problem: &str| format!("operation {name}: {problem}");
        let docs = doc_strings(&f.attrs);
        let mut body = None;
        for input in &f.sig.inputs {
            let FnArg::Typed(arg) = input else { continue };
            let syn::Pat::Ident(pat) = &*arg.pat else {
                continue;
            };
            if pat.ident == "body" {
                body =
                    Some(type_name(&arg.ty).ok_or_else(|| at("request body is not a named type"))?);
            }
        }
        let response =
            response_kind(&f.sig.output).ok_or_else(|| at("unrecognized return type"))?;
        let mut finder = RequestFinder::default();
        finder.visit_block(&f.block);
        let pattern = finder
            .path
            .ok_or_else(|| at("no URL found in the generated method"))?;
        let method = finder.method.ok_or_else(|| at("no HTTP method found"))?;
        let spec_op = spec_ops
            .iter()
            .find(|o| o.method == method && o.path_pattern() == pattern)
            .ok_or_else(|| at(&format!("no {method} {pattern} in the spec")))?;
        if RESERVED.contains(&unraw(&name).as_str()) {
            return Err(at("its name would shadow a PlaidClient method"));
        }
        if body.is_some() != spec_op.has_body {
            return Err(at(
                "progenitor and the spec disagree on whether it has a body",
            ));
        }
        ops.push(Op {
            name,
            docs,
            method,
            path: spec_op.path.clone(),
            body,
            params: spec_op.params.clone(),
            bounds: spec_op.bounds.clone(),
            accept: spec_op.accept.clone(),
            key_retry_delay: spec_op.key_retry_delay,
            documents_latency: spec_op.documents_latency,
            response,
        });
    }
    Ok(ops)
}

/// `&'a types::X` -> `X`
fn type_name(ty: &Type) -> Option<syn::Ident> {
    match ty {
        Type::Reference(r) => type_name(&r.elem),
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.clone()),
        _ => None,
    }
}

/// `Result<ResponseValue<T>, Error<E>>` -> T
fn response_kind(output: &ReturnType) -> Option<Response> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let ok = first_generic(ty)?;
    let inner = first_generic(ok)?;
    match inner {
        Type::Tuple(t) if t.elems.is_empty() => Some(Response::Empty),
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            if last.ident == "ByteStream" {
                Some(Response::Binary)
            } else if p.path.segments.len() == 2 && p.path.segments[0].ident == "types" {
                Some(Response::Json(Box::new(syn::parse_quote!(types::#last))))
            } else {
                Some(Response::Json(Box::new(inner.clone())))
            }
        }
        _ => None,
    }
}

fn first_generic(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Finds `format!("{}/path/{}", self.baseurl, …)` and `self.client.<method>(url)` in a method
/// body.
#[derive(Default)]
struct RequestFinder {
    path: Option<String>,
    method: Option<String>,
}

impl<'ast> Visit<'ast> for RequestFinder {
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if self.path.is_none() && m.path.is_ident("format") {
            if let Some(proc_macro2::TokenTree::Literal(lit)) = m.tokens.clone().into_iter().next()
            {
                if let Ok(s) = syn::parse_str::<syn::LitStr>(&lit.to_string()) {
                    if let Some(path) = s.value().strip_prefix("{}") {
                        self.path = Some(path.to_owned());
                    }
                }
            }
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let on_client = matches!(&*call.receiver, syn::Expr::Field(f)
            if matches!(&f.member, syn::Member::Named(n) if n == "client"));
        let m = call.method.to_string();
        if on_client && matches!(m.as_str(), "get" | "post" | "put" | "patch" | "delete") {
            self.method = Some(m.to_uppercase());
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

fn param_field(p: &Param) -> syn::Ident {
    let name = spec::snake_case(&p.name);
    syn::parse_str::<syn::Ident>(&name).unwrap_or_else(|_| format_ident!("r#{}", name))
}

fn param_type(p: &Param) -> TokenStream {
    let base = match p.ty {
        ParamType::String => quote!(::std::string::String),
        ParamType::Bool => quote!(bool),
        ParamType::Integer => quote!(i64),
        ParamType::Number => quote!(f64),
    };
    if p.required {
        base
    } else {
        quote!(::std::option::Option<#base>)
    }
}

fn param_doc(p: &Param) -> String {
    let place = match p.location {
        Location::Path => format!("Sent in the URL path as `{{{}}}`", p.name),
        Location::Query => format!("Sent as the `{}` query parameter", p.name),
        Location::Header => format!("Sent as the `{}` header", p.name),
    };
    match &p.description {
        Some(d) => format!("{d}\n\n{place}, not in the JSON body."),
        None => format!("{place}, not in the JSON body."),
    }
}

/// Puts every operation's parameters on its request type: as `#[serde(skip)]` fields of the
/// body type, or as a new `…Request` struct for an operation without a body. Runs before the
/// constructors are generated, so `new` covers the parameters too.
pub fn add_request_types(ops: &[Op], types: &mut Vec<Item>) -> Result<(), String> {
    add_operation_docs(ops, types);
    for op in ops {
        let fields: Vec<syn::Field> = op
            .params
            .iter()
            .map(|p| {
                let (ident, ty, doc) = (param_field(p), param_type(p), param_doc(p));
                syn::Field::parse_named
                    .parse2(quote! { #[doc = #doc] #[serde(skip)] pub #ident: #ty })
                    .map_err(|e| format!("operation {}: parameter {}: {e}", op.name, p.name))
            })
            .collect::<Result<_, _>>()?;
        let request = op.request();
        match &op.body {
            Some(body) => {
                if fields.is_empty() {
                    continue;
                }
                let s = types
                    .iter_mut()
                    .find_map(|item| match item {
                        Item::Struct(s) if &s.ident == body => Some(s),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        format!(
                            "operation {}: request type {body} is not a generated struct",
                            op.name
                        )
                    })?;
                let Fields::Named(named) = &mut s.fields else {
                    return Err(format!(
                        "operation {}: request type {body} has no named fields",
                        op.name
                    ));
                };
                for field in fields {
                    if named.named.iter().any(|f| f.ident == field.ident) {
                        return Err(format!(
                            "operation {}: parameter field `{}` clashes with a body field of {body}",
                            op.name,
                            field.ident.as_ref().map(unraw).unwrap_or_default()
                        ));
                    }
                    named.named.push(field);
                }
            }
            None => {
                if types
                    .iter()
                    .any(|item| matches!(item, Item::Struct(s) if s.ident == request))
                {
                    return Err(format!(
                        "operation {}: a schema is already named {request}",
                        op.name
                    ));
                }
                let doc = operation_doc(
                    op,
                    format!(
                        "The request of `{} {}`, which has no body: its parameters only.\n\n\
                         # The operation\n\nSent with [`PlaidClient::{}`](crate::PlaidClient::{}).\n",
                        op.method,
                        op.path,
                        unraw(&op.name),
                        unraw(&op.name)
                    ),
                );
                let default = op
                    .params
                    .iter()
                    .all(|p| !p.required)
                    .then(|| quote!(Default,));
                types.push(
                    syn::parse2(quote! {
                        #[doc = #doc]
                        #[derive(::serde::Serialize, ::serde::Deserialize, Clone, Debug, #default PartialEq)]
                        pub struct #request { #(#fields),* }
                    })
                    .map_err(|e| format!("operation {}: {e}", op.name))?,
                );
            }
        }
    }
    Ok(())
}

/// `lead` followed by the operation's full description (its summary and description).
fn operation_doc(op: &Op, mut lead: String) -> String {
    for line in operation_text(op) {
        lead.push('\n');
        lead.push_str(&line);
    }
    lead
}

/// Puts each operation's full description (the spec's summary and description) on its request
/// type, where the client method's short doc links to it: the client's page stays a list of
/// operations. For an operation without a body, its generated request type gets it when it is
/// made.
fn add_operation_docs(ops: &[Op], types: &mut [Item]) {
    for op in ops {
        let Some(body) = &op.body else { continue };
        let Some(Item::Struct(s)) = types
            .iter_mut()
            .find(|item| matches!(item, Item::Struct(s) if &s.ident == body))
        else {
            continue;
        };
        let doc = operation_doc(
            op,
            format!(
                "\n# The operation\n\n`{} {}`, sent with [`PlaidClient::{}`](crate::PlaidClient::{}).\n",
                op.method,
                op.path,
                unraw(&op.name),
                unraw(&op.name)
            ),
        );
        s.attrs.push(syn::parse_quote!(#[doc = #doc]));
    }
}

/// The spec's summary and description of an operation, without progenitor's "Sends a `POST`
/// request" line.
fn operation_text(op: &Op) -> Vec<String> {
    op.docs
        .iter()
        .filter(|l| !l.trim_start().starts_with("Sends a `"))
        .cloned()
        .collect()
}

/// The fields of the struct named `name` in the generated types.
fn struct_fields<'a>(types: &'a [Item], name: &syn::Ident) -> Option<Vec<&'a syn::Field>> {
    types.iter().find_map(|item| match item {
        Item::Struct(s) if &s.ident == name => match &s.fields {
            Fields::Named(f) => Some(f.named.iter().collect()),
            _ => Some(Vec::new()),
        },
        _ => None,
    })
}

/// `Option<X>` or `X` -> `X`'s name.
fn value_type_name(ty: &Type) -> Option<syn::Ident> {
    if let Type::Path(p) = ty {
        let last = p.path.segments.last()?;
        if last.ident == "Option" {
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                if let Some(syn::GenericArgument::Type(inner)) = args.args.first() {
                    return type_name(inner);
                }
            }
        }
    }
    type_name(ty)
}

/// Checks of the spec's `minimum`/`maximum` on the request's numeric fields (and on fields of
/// its object fields, like `options.count`), for `validate`. A bound on a field the generated
/// struct does not have (renamed, or pruned) is skipped.
fn bound_checks(op: &Op, types: &[Item], fields: &[&syn::Field]) -> Vec<TokenStream> {
    fn find<'a>(fields: &[&'a syn::Field], name: &str) -> Option<&'a syn::Field> {
        fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| unraw(i) == name))
            .copied()
    }
    fn literal(n: &Option<serde_json::Number>) -> TokenStream {
        match n.as_ref().and_then(serde_json::Number::as_f64) {
            Some(v) => {
                let v = proc_macro2::Literal::f64_suffixed(v);
                quote!(::std::option::Option::Some(#v))
            }
            None => quote!(::std::option::Option::None),
        }
    }
    // `check(value)` for a field of `owner` (an expression of the struct holding it).
    fn access(
        field: &syn::Field,
        owner: TokenStream,
        check: impl Fn(TokenStream) -> TokenStream,
    ) -> TokenStream {
        let ident = field.ident.as_ref().expect("a named field");
        if is_option(&field.ty) {
            let body = check(quote!(v));
            quote!(if let ::std::option::Option::Some(v) = &#owner.#ident { #body })
        } else {
            check(quote!(&#owner.#ident))
        }
    }
    // The check of the field at `path` below `owner` (whose fields are `fields`), reached
    // through each object on the way (`o0`, `o1`, … name them) when it is there.
    fn nested_check(
        types: &[Item],
        fields: &[&syn::Field],
        owner: TokenStream,
        path: &[String],
        depth: usize,
        check: &dyn Fn(TokenStream) -> TokenStream,
    ) -> Option<TokenStream> {
        let (name, rest) = path.split_first()?;
        let field = find(fields, name)?;
        if rest.is_empty() {
            return Some(access(field, owner, check));
        }
        // Through newtypes (`PaymentAmountToRefund(PaymentAmountNullable)`, an `allOf` of a
        // `$ref` and a description) to the struct with the fields.
        let mut ty = value_type_name(&field.ty)?;
        let mut hops = 0;
        let inner_fields = loop {
            match newtype_inner(types, &ty) {
                Some(inner) if hops < 4 => {
                    ty = value_type_name(inner)?;
                    hops += 1;
                }
                _ => break struct_fields(types, &ty)?,
            }
        };
        let var = format_ident!("o{depth}");
        let inner = nested_check(types, &inner_fields, quote!(#var), rest, depth + 1, check)?;
        let unwrap: Vec<TokenStream> = std::iter::repeat_n(quote!(.0), hops).collect();
        Some(access(
            field,
            owner,
            |value| quote!({ let #var = &(#value) #(#unwrap)*; #inner }),
        ))
    }
    // The type a one-field tuple struct wraps.
    fn newtype_inner<'a>(types: &'a [Item], name: &syn::Ident) -> Option<&'a Type> {
        types.iter().find_map(|item| match item {
            Item::Struct(s) if &s.ident == name => match &s.fields {
                Fields::Unnamed(f) if f.unnamed.len() == 1 => Some(&f.unnamed[0].ty),
                _ => None,
            },
            _ => None,
        })
    }
    let mut checks = Vec::new();
    for bound in &op.bounds {
        let label = bound.path.join(".");
        let (min, max) = (literal(&bound.min), literal(&bound.max));
        let check = move |value: TokenStream| quote!(crate::operation::check_bound(#label, #value, #min, #max)?;);
        if let Some(checked) = nested_check(types, fields, quote!(self), &bound.path, 0, &check) {
            checks.push(checked);
        }
    }
    // A date range must not end before it starts (Plaid answers INVALID_FIELD otherwise).
    let is_date = |f: &syn::Field| quote!(#f).to_string().contains("NaiveDate");
    if let (Some(start), Some(end)) = (find(fields, "start_date"), find(fields, "end_date")) {
        if is_date(start) && is_date(end) {
            checks.push(
                quote!(crate::operation::check_date_range(&self.start_date, &self.end_date)?;),
            );
        }
    }
    checks
}

/// Whether a field's type is one of the SDK's token newtypes (`crate::secret::AccessToken`, …).
fn is_token_type(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    p.path.segments.len() > 1
        && p.path.segments.iter().any(|s| s.ident == "secret")
        && p.path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().ends_with("Token"))
}

fn shout(name: &syn::Ident) -> syn::Ident {
    format_ident!("{}", unraw(name).to_uppercase())
}

/// The `path`, `headers` and `validate` methods of an operation: parameters filled in, and
/// caller mistakes caught before sending (an empty access token, an empty path parameter).
fn param_methods(op: &Op, token_fields: &[&syn::Ident], bounds: Vec<TokenStream>) -> TokenStream {
    let mut template = op.path.clone();
    let mut path_args = Vec::new();
    for p in op.params.iter().filter(|p| p.location == Location::Path) {
        template = template.replace(&format!("{{{}}}", p.name), "{}");
        let f = param_field(p);
        path_args.push(quote!(crate::operation::encode_path_segment(&self.#f.to_string())));
    }
    let query: Vec<TokenStream> = op
        .params
        .iter()
        .filter(|p| p.location == Location::Query)
        .map(|p| {
            let (f, name) = (param_field(p), &p.name);
            if p.required {
                quote!(query.push((#name, self.#f.to_string()));)
            } else {
                quote!(if let ::std::option::Option::Some(v) = &self.#f { query.push((#name, v.to_string())); })
            }
        })
        .collect();
    let headers: Vec<TokenStream> = op
        .params
        .iter()
        .filter(|p| p.location == Location::Header)
        .map(|p| {
            let (f, name) = (param_field(p), &p.name);
            if p.required {
                quote!(headers.push((#name, self.#f.to_string()));)
            } else {
                quote!(if let ::std::option::Option::Some(v) = &self.#f { headers.push((#name, v.to_string())); })
            }
        })
        .collect();
    let mut checks: Vec<TokenStream> = Vec::new();
    for field in token_fields {
        let message = format!("{} is empty", unraw(field));
        checks.push(quote! {
            if self.#field.is_empty() {
                return ::std::result::Result::Err(#message.into());
            }
        });
    }
    checks.extend(bounds);
    checks.extend(
        op.params
            .iter()
            .filter(|p| p.location == Location::Path && p.ty == ParamType::String)
            .map(|p| {
                let (f, name) = (param_field(p), &p.name);
                quote!(crate::operation::check_path_segment(#name, &self.#f)?;)
            }),
    );
    let path_fn = if path_args.is_empty() && query.is_empty() {
        quote!()
    } else {
        let base = if path_args.is_empty() {
            quote!(::std::string::String::from(#template))
        } else {
            quote!(format!(#template, #(#path_args),*))
        };
        quote! {
            fn path(&self) -> ::std::borrow::Cow<'static, str> {
                #[allow(unused_mut)]
                let mut query: ::std::vec::Vec<(&'static str, ::std::string::String)> = ::std::vec::Vec::new();
                #(#query)*
                ::std::borrow::Cow::Owned(crate::operation::with_query(#base, &query))
            }
        }
    };
    let headers_fn = if headers.is_empty() {
        quote!()
    } else {
        quote! {
            fn headers(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                let mut headers = ::std::vec::Vec::new();
                #(#headers)*
                headers
            }
        }
    };
    let validate_fn = if checks.is_empty() {
        quote!()
    } else {
        quote! {
            fn validate(&self) -> ::std::result::Result<(), ::std::string::String> {
                #(#checks)*
                ::std::result::Result::Ok(())
            }
        }
    };
    quote!(#path_fn #headers_fn #validate_fn)
}

/// Generates the operation layer for `ops` (see the module docs). `extra` goes into the
/// `operations` module (the pagination lists). Returns one token stream per item, so the
/// build can write each on its own line (see `build.rs`).
pub fn generate(
    ops: &[Op],
    types: &[Item],
    extra: TokenStream,
    required: &crate::postprocess::Required,
) -> Result<Vec<String>, String> {
    let mut seen = std::collections::BTreeMap::new();
    for op in ops {
        if let Some(other) = seen.insert(op.request().to_string(), op.name.to_string()) {
            return Err(format!(
                "operations {other} and {} share the request type {}; each operation needs its own",
                op.name,
                op.request()
            ));
        }
    }
    let mut consts = Vec::new();
    let mut impls = Vec::new();
    // The client methods by product family (`None`: the core), in the families' order.
    let mut methods: std::collections::BTreeMap<usize, Vec<TokenStream>> = Default::default();
    for op in ops {
        let name = &op.name;
        let request = op.request();
        let konst = shout(name);
        let name_str = unraw(name);
        let (method, path) = (&op.method, &op.path);
        let kind = classify::kind(method, path);
        let slow = classify::is_slow(path, op.documents_latency);
        let has_body = op.body.is_some();
        let kind_tokens = match kind {
            Kind::Read => quote!(crate::operation::OperationKind::Read),
            Kind::Write => quote!(crate::operation::OperationKind::Write),
            Kind::BilledRead => quote!(crate::operation::OperationKind::BilledRead),
        };
        let (response_kind, response_ty, decode) = match &op.response {
            Response::Json(t) => (
                quote!(crate::operation::ResponseKind::Json),
                quote!(#t),
                quote!(raw.json()),
            ),
            Response::Binary => (
                quote!(crate::operation::ResponseKind::Binary),
                quote!(::bytes::Bytes),
                quote!(::std::result::Result::Ok(raw.into_bytes())),
            ),
            Response::Empty => (
                quote!(crate::operation::ResponseKind::Empty),
                quote!(()),
                quote!({
                    let _ = raw;
                    ::std::result::Result::Ok(())
                }),
            ),
        };
        let fields = struct_fields(types, &request).ok_or_else(|| {
            format!("operation {name}: request type {request} is not a generated struct")
        })?;
        let key_field = fields
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == "idempotency_key"));
        // An optional key is one the client can fill in (see `PlaidClient::send`).
        let optional_key = key_field.is_some_and(|f| is_option(&f.ty));
        let const_doc = format!("`{method} {path}`");
        let accept = &op.accept;
        let key_retry_delay = match op.key_retry_delay {
            Some(seconds) => quote!(::std::option::Option::Some(
                ::std::time::Duration::from_secs(#seconds)
            )),
            None => quote!(::std::option::Option::None),
        };
        consts.push(quote! {
            #[doc = #const_doc]
            pub const #konst: OperationInfo = OperationInfo {
                name: #name_str,
                method: #method,
                path: #path,
                kind: #kind_tokens,
                slow: #slow,
                has_body: #has_body,
                response: #response_kind,
                optional_idempotency_key: #optional_key,
                key_retry_delay: #key_retry_delay,
                accept: #accept,
            };
        });

        let idempotency = key_field.map(|f| {
            if is_option(&f.ty) {
                quote! {
                    fn idempotency_key(&self) -> ::std::option::Option<&str> {
                        self.idempotency_key.as_ref().map(|k| k.as_str())
                    }
                }
            } else {
                quote! {
                    fn idempotency_key(&self) -> ::std::option::Option<&str> {
                        ::std::option::Option::Some(self.idempotency_key.as_str())
                    }
                }
            }
        });
        // Required tokens (access, public, processor, user) must not be empty: a caller
        // mistake, refused before sending.
        let token_fields: Vec<&syn::Ident> = fields
            .iter()
            .filter(|f| !is_option(&f.ty) && is_token_type(&f.ty))
            .filter_map(|f| f.ident.as_ref())
            .collect();
        let params = param_methods(op, &token_fields, bound_checks(op, types, &fields));
        impls.push(quote! {
            impl crate::operation::Operation for types::#request {
                type Response = #response_ty;
                const INFO: &'static crate::operation::OperationInfo = &operations::#konst;
                #idempotency
                #params
                // `#[inline]` keeps the library from compiling every response's decoder up
                // front (a trait method of a concrete type is compiled where it is defined):
                // a crate compiles the decoders of the operations it calls, which an
                // optimized build re-instantiates in that crate anyway.
                #[inline]
                fn decode(raw: crate::operation::RawResponse) -> ::std::result::Result<Self::Response, crate::Error> {
                    #decode
                }
            }
        });

        let response_name = match &op.response {
            Response::Json(t) => value_type_name(t),
            _ => None,
        };
        let response_fields = response_name
            .as_ref()
            .and_then(|name| struct_fields(types, name));
        let none = Default::default();
        let required_in = |name: &syn::Ident| required.get(&name.to_string()).unwrap_or(&none);
        let doc = method_doc(
            op,
            &fields,
            required_in(&request),
            response_fields.as_deref(),
            response_name.as_ref().map(required_in),
            kind,
            slow,
            key_field.is_some(),
        );
        let family = crate::features::family(&op.path);
        let order = family.map_or(0, |f| {
            1 + crate::features::FEATURES
                .iter()
                .position(|x| *x == f)
                .unwrap_or(crate::features::FEATURES.len())
        });
        methods.entry(order).or_default().push(quote! {
            #[doc = #doc]
            pub async fn #name(&self, request: &types::#request) -> ::std::result::Result<#response_ty, crate::Error> {
                self.send(request).await
            }
        });
    }
    let names = ops.iter().map(|op| shout(&op.name));
    let decode_arms = ops.iter().map(|op| {
        let (name, request) = (unraw(&op.name), op.request());
        let write = match op.response {
            Response::Json(_) => quote!(b::write_json),
            Response::Binary | Response::Empty => quote!(b::write_null),
        };
        quote! {
            #name => b::decode::<super::types::#request>(raw, #write),
        }
    });
    let send_arms = ops.iter().map(|op| {
        let (name, request) = (unraw(&op.name), op.request());
        let set = if op.params.is_empty() {
            quote!(b::no_params)
        } else {
            let params = op.params.iter().map(|p| {
                let (field, wire) = (param_field(p), &p.name);
                quote! {
                    if let ::std::option::Option::Some(v) = params.get(#wire) {
                        request.#field = ::serde_json::from_value(v.clone())
                            .map_err(|e| ::std::format!("parameter {}: {e}", #wire))?;
                    }
                }
            });
            quote! {
                |request: &mut super::types::#request, params: &::serde_json::Map<::std::string::String, ::serde_json::Value>| {
                    #(#params)*
                    ::std::result::Result::Ok(())
                }
            }
        };
        let write = match op.response {
            Response::Json(_) => quote!(b::write_json),
            Response::Binary => quote!(b::write_len),
            Response::Empty => quote!(b::write_null),
        };
        quote! {
            #name => ::std::boxed::Box::pin(b::send::<super::types::#request, C>(client, body, params, #set, #write)),
        }
    });
    let operations = quote! {
        /// Every operation of the spec this build was generated from: path, HTTP method, whether
        /// it is safe to retry, and whether it is slow.
        pub mod operations {
            use crate::operation::OperationInfo;
            #(#consts)*
            /// All operations, in path order.
            pub const ALL: &[&OperationInfo] = &[#(&#names),*];

            #extra

            /// Decodes `raw` as the response of the operation named `name` and writes the
            /// typed response back as JSON (`null` for a binary or empty response); `None` for
            /// an unknown name. Used by the tests that run every spec example through its
            /// operation's decoder and back, and only there: behind `operations-by-name`, and
            /// `#[inline]`, like `decode`, so that only the tests compile all the decoders.
            #[cfg(feature = "operations-by-name")]
            #[doc(hidden)]
            #[inline]
            pub fn __decode_response(
                name: &str,
                raw: crate::operation::RawResponse,
            ) -> ::std::option::Option<::std::result::Result<::serde_json::Value, ::std::string::String>> {
                use crate::operation::by_name as b;
                ::std::option::Option::Some(match name {
                    #(#decode_arms)*
                    _ => return ::std::option::Option::None,
                })
            }

            /// Calls the operation named `name` with a request read from `body` (its JSON body;
            /// `{}` for an operation without one) and `params` (its path, query and header
            /// parameters, by their names in the spec), and writes the typed response back as
            /// JSON (a file's length for a binary response, `null` for an empty one). `None` for
            /// an unknown name. Used by the conformance tests, which call every operation of
            /// the spec, and only there: behind `operations-by-name`, and generic over how the client is
            /// held, so that only they compile it (`#[inline]` does not reach an `async fn`'s
            /// body, which the library would otherwise compile with every request's serializer
            /// and every response's decoder).
            #[cfg(feature = "operations-by-name")]
            #[doc(hidden)]
            pub async fn __send_json<C: ::std::borrow::Borrow<crate::PlaidClient>>(
                client: &C,
                name: &str,
                body: ::serde_json::Value,
                params: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
            ) -> ::std::option::Option<::std::result::Result<::serde_json::Value, crate::Error>> {
                use crate::operation::by_name as b;
                let call: ::std::pin::Pin<::std::boxed::Box<dyn ::std::future::Future<Output = ::std::result::Result<::serde_json::Value, crate::Error>> + '_>> = match name {
                    #(#send_arms)*
                    _ => return ::std::option::Option::None,
                };
                ::std::option::Option::Some(call.await)
            }
        }
    };
    // One `impl` block per family, with its heading on docs.rs; one method per line.
    let mut blocks = Vec::new();
    for (order, family_methods) in methods {
        let feature = order
            .checked_sub(1)
            .and_then(|i| crate::features::FEATURES.get(i).copied());
        let heading = match feature {
            None => {
                "# Core operations\n\nAlways compiled, whatever the features: Link tokens, the \
                     Item's life cycle, accounts and balances, processor tokens, the generic \
                     sandbox calls, webhook keys."
                    .to_owned()
            }
            Some(f) => format!(
                "# {}\n\nThe operations of the `{f}` Cargo feature (in `full`, the default).",
                family_title(f)
            ),
        };
        let cfg = feature.map(|f| quote! { #[cfg_attr(docsrs, doc(cfg(feature = #f)))] });
        let mut text = quote! { #[doc = #heading] #cfg impl crate::PlaidClient }.to_string();
        text.push_str(" {\n");
        for m in family_methods {
            text.push_str(&m.to_string());
            text.push('\n');
        }
        text.push('}');
        blocks.push(text);
    }
    Ok(std::iter::once(operations.to_string())
        .chain(impls.iter().map(TokenStream::to_string))
        .chain(blocks)
        .collect())
}

/// A product family's heading on the client's page.
fn family_title(feature: &str) -> String {
    match feature {
        "cra" => "Consumer Report (CRA)".to_owned(),
        "item-admin" => "Item administration".to_owned(),
        "hosted-link" => "Hosted Link".to_owned(),
        "other" => "Other operations".to_owned(),
        f => {
            let words = f.replace('-', " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        }
    }
}

/// The error codes Plaid's docs give for an operation, beyond those every call can get: by
/// the request's token fields (a fact of the spec), then by path (Plaid's error reference and
/// each product's troubleshooting page). Each is an [`ErrorCode`] variant's name.
///
/// [`ErrorCode`]: https://docs.rs/plaid-sdk/latest/plaid_sdk/enum.ErrorCode.html
fn error_codes(op: &Op, fields: &[&syn::Field]) -> Vec<&'static str> {
    let has = |name: &str| {
        fields
            .iter()
            .any(|f| f.ident.as_ref().is_some_and(|i| i == name))
    };
    let mut codes = Vec::new();
    if has("access_token") {
        codes.extend(["ItemLoginRequired", "InvalidAccessToken", "ItemNotFound"]);
    }
    if has("public_token") {
        codes.push("InvalidPublicToken");
    }
    if has("link_token") {
        codes.push("InvalidLinkToken");
    }
    if has("processor_token") {
        codes.push("InvalidProcessorToken");
    }
    if has("institution_id") {
        codes.push("InvalidInstitution");
    }
    const BY_PATH: &[(&str, &[&str])] = &[
        (
            "/transactions/sync",
            &[
                "TransactionsSyncMutationDuringPagination",
                "TransactionsSyncLimit",
            ],
        ),
        (
            "/transactions/get",
            &["ProductNotReady", "TransactionsLimit"],
        ),
        (
            "/auth/get",
            &["ProductNotReady", "NoAuthAccounts", "AuthLimit"],
        ),
        ("/accounts/get", &["AccountsLimit"]),
        ("/accounts/balance/get", &["AccountsBalanceGetLimit"]),
        ("/identity/get", &["IdentityLimit"]),
        ("/item/get", &["ItemGetLimit"]),
        ("/institutions/get", &["InstitutionsGetLimit"]),
        ("/institutions/get_by_id", &["InstitutionsGetByIdLimit"]),
        (
            "/investments/holdings/get",
            &["NoInvestmentAccounts", "InvestmentHoldingsGetLimit"],
        ),
        (
            "/investments/transactions/get",
            &["ProductNotReady", "InvestmentTransactionsLimit"],
        ),
        ("/liabilities/get", &["NoLiabilityAccounts"]),
        (
            "/webhook_verification_key/get",
            &["InvalidWebhookVerificationKeyId"],
        ),
        ("/link/token/create", &["InvalidProduct"]),
    ];
    if let Some((_, more)) = BY_PATH.iter().find(|(path, _)| *path == op.path) {
        codes.extend(*more);
    }
    if op.path.starts_with("/sandbox/") {
        codes.push("SandboxOnly");
    }
    codes
}

/// `required` names the request's fields a value must have and `response_required` the
/// response's (`postprocess::Stats::required`: by the time this runs, the serde attributes
/// that say a field defaults are gone).
#[allow(clippy::too_many_arguments)]
fn method_doc(
    op: &Op,
    fields: &[&syn::Field],
    required: &std::collections::BTreeSet<String>,
    response_fields: Option<&[&syn::Field]>,
    response_required: Option<&std::collections::BTreeSet<String>>,
    kind: Kind,
    slow: bool,
    has_key: bool,
) -> String {
    let is_required = |f: &syn::Field| {
        f.ident
            .as_ref()
            .is_some_and(|i| required.contains(&unraw(i)))
    };
    // The summary: the first line of the spec's text (progenitor puts the summary first,
    // sometimes with the description in the same doc string).
    let summary = operation_text(op)
        .iter()
        .flat_map(|l| l.lines())
        .map(|l| l.trim().to_owned())
        .find(|l| !l.is_empty())
        .unwrap_or_else(|| format!("`{} {}`", op.method, op.path));
    let (required, optional): (Vec<&&syn::Field>, Vec<&&syn::Field>) =
        fields.iter().partition(|f| is_required(f));
    let response_required = response_required.cloned().unwrap_or_default();
    let names = |fs: Vec<&&syn::Field>| -> String {
        if fs.is_empty() {
            return "none".to_owned();
        }
        fs.iter()
            .map(|f| format!("`{}`", unraw(f.ident.as_ref().expect("named"))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let request = op.request();
    let returns = match &op.response {
        Response::Json(t) => match &**t {
            syn::Type::Path(p)
                if p.path.segments.len() == 2 && p.path.segments[0].ident == "types" =>
            {
                let t = &p.path.segments[1].ident;
                format!("[`{t}`](crate::types::{t})")
            }
            other => format!("`{}`", quote!(#other).to_string().replace(' ', "")),
        },
        Response::Binary => "the file's bytes".to_owned(),
        Response::Empty => "nothing".to_owned(),
    };
    // What the answer holds: its required fields (request_id aside), the ones every answer has.
    let holds = response_fields
        .map(|fs| {
            fs.iter()
                .map(|f| unraw(f.ident.as_ref().expect("named")))
                .filter(|n| response_required.contains(n) && n != "request_id")
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
        })
        .filter(|names| !names.is_empty())
        .map(|mut names| {
            if names.len() > 8 {
                names.truncate(8);
                names.push("…".to_owned());
            }
            format!(" holding {}", names.join(", "))
        })
        .unwrap_or_default();
    let codes = error_codes(op, fields);
    let errors = if codes.is_empty() {
        "Errors: [`Error`](crate::Error), Plaid's own as [`Error::Api`](crate::Error::Api)."
            .to_owned()
    } else {
        format!(
            "Errors: [`Error`](crate::Error), Plaid's own as [`Error::Api`](crate::Error::Api); \
             its codes here include {}.",
            codes
                .iter()
                .map(|c| format!("[`{c}`](crate::ErrorCode::{c})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let waited;
    let retries = match (kind, has_key, op.key_retry_delay) {
        (_, _, Some(seconds)) => {
            waited = format!(
                "Retried only when it never reached Plaid: Plaid honours its \
                 `idempotency_key` for a repeat only {seconds} s or more after a failure, so \
                 after a timeout or a `5xx` repeat it yourself, with the same key, once \
                 [`key_retry_delay`](crate::OperationInfo::key_retry_delay) has passed."
            );
            waited.as_str()
        }
        (Kind::Read, _, None) => "A read: retried on `429`, `5xx`, timeouts and network failures.",
        (Kind::BilledRead, _, None) => {
            "A read Plaid bills per answer: retried on a `429`, on a `500` or `503` carrying \
             Plaid's error object, and when it never reached Plaid; not after a timeout, a \
             gateway's `502`/`504` or a proxy's own `500`/`503` page (an answer may have been \
             billed already)."
        }
        (Kind::Write, true, None) => "A write: retried only with an `idempotency_key`.",
        (Kind::Write, false, None) => "A write: retried only when it never reached Plaid.",
    };
    let slow = if slow {
        " Slow: it gets the client's `slow_timeout`."
    } else {
        ""
    };
    format!(
        "{summary}\n\n`{method} {path}` with [`{request}`](crate::types::{request}) \
         (required: {req}; optional: {opt}), returning {returns}{holds}. {retries}{slow} \
         {errors} The full description is on [`{request}`](crate::types::{request}).",
        method = op.method,
        path = op.path,
        req = names(required),
        opt = names(optional),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_impl(src: &str) -> ItemImpl {
        syn::parse_str(src).unwrap()
    }

    const METHOD: &str = r#"
        impl Client {
            ///Sync transactions
            ///
            ///Sends a `POST` request to `/transactions/sync`
            pub async fn transactions_sync<'a>(&'a self, body: &'a types::TransactionsSyncRequest)
                -> Result<ResponseValue<types::TransactionsSyncResponse>, Error<types::PlaidError>> {
                let url = format!("{}/transactions/sync", self.baseurl,);
                let request = self.client.post(url).json(&body).build()?;
                todo!()
            }
            pub async fn asset_report_pdf_get<'a>(&'a self, body: &'a types::AssetReportPdfGetRequest)
                -> Result<ResponseValue<ByteStream>, Error<()>> {
                let url = format!("{}/asset_report/pdf/get", self.baseurl,);
                let request = self.client.post(url).build()?;
                todo!()
            }
            pub async fn wallet_create<'a>(&'a self, body: &'a types::WalletCreateRequest)
                -> Result<ResponseValue<()>, Error<()>> {
                let url = format!("{}/wallet/create", self.baseurl,);
                let request = self.client.post(url).build()?;
                todo!()
            }
            pub async fn fdx_consent_get<'a>(&'a self, consent_id: &'a str)
                -> Result<ResponseValue<types::Consent>, Error<()>> {
                let url = format!("{}/fdx/consents/{}", self.baseurl, encode_path(&consent_id.to_string()));
                let request = self.client.get(url).build()?;
                todo!()
            }
        }
    "#;

    fn spec_ops() -> Vec<spec::Operation> {
        let op = |method: &str, path: &str, has_body, params| spec::Operation {
            bounds: vec![],
            accept: "application/json".into(),
            key_retry_delay: None,
            documents_latency: false,
            method: method.into(),
            path: path.into(),
            operation_id: None,
            has_body,
            params,
        };
        vec![
            op("POST", "/transactions/sync", true, vec![]),
            op("POST", "/asset_report/pdf/get", true, vec![]),
            op(
                "POST",
                "/wallet/create",
                true,
                vec![Param {
                    name: "Plaid-New-User-API-Enabled".into(),
                    location: Location::Header,
                    required: false,
                    ty: ParamType::Bool,
                    description: None,
                }],
            ),
            op(
                "GET",
                "/fdx/consents/{consentId}",
                false,
                vec![Param {
                    name: "consentId".into(),
                    location: Location::Path,
                    required: true,
                    ty: ParamType::String,
                    description: Some("The consent.".into()),
                }],
            ),
        ]
    }

    #[test]
    fn extracts_name_path_method_body_params_and_response() {
        let ops = extract(&client_impl(METHOD), &spec_ops()).unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[0].name, "transactions_sync");
        assert_eq!(ops[0].path, "/transactions/sync");
        assert_eq!(ops[0].method, "POST");
        assert_eq!(ops[0].body.as_ref().unwrap(), "TransactionsSyncRequest");
        assert_eq!(
            ops[0].response,
            Response::Json(Box::new(syn::parse_quote!(types::TransactionsSyncResponse)))
        );
        assert_eq!(ops[0].docs[0], "Sync transactions");
        assert_eq!(ops[1].response, Response::Binary);
        assert_eq!(ops[2].response, Response::Empty);
        assert_eq!(ops[3].method, "GET");
        assert_eq!(ops[3].path, "/fdx/consents/{consentId}");
        assert_eq!(ops[3].body, None);
        assert_eq!(ops[3].request(), "FdxConsentGetRequest");
    }

    #[test]
    fn an_operation_missing_from_the_spec_is_an_error_naming_it() {
        let e = extract(&client_impl(METHOD), &spec_ops()[..2]).unwrap_err();
        assert!(
            e.contains("wallet_create") && e.contains("POST /wallet/create"),
            "{e}"
        );
    }

    #[test]
    fn a_name_that_shadows_a_client_method_is_an_error() {
        let e = extract(
            &client_impl(
                r#"impl Client {
                pub async fn send<'a>(&'a self, body: &'a types::SendRequest) -> Result<ResponseValue<()>, Error<()>> {
                    let url = format!("{}/send", self.baseurl,);
                    self.client.post(url);
                    todo!()
                }
            }"#,
            ),
            &[spec::Operation { method: "POST".into(), path: "/send".into(), operation_id: None, has_body: true, params: vec![], bounds: vec![], accept: "application/json".into(), key_retry_delay: None, documents_latency: false }],
        )
        .unwrap_err();
        assert!(e.contains("shadow"), "{e}");
    }

    fn types() -> Vec<Item> {
        syn::parse_file(
            r#"
            pub struct TransactionsSyncRequest {
                pub access_token: AccessToken,
                pub cursor: ::std::option::Option<::std::string::String>,
            }
            pub struct AssetReportPdfGetRequest { pub asset_report_token: ::std::string::String }
            pub struct WalletCreateRequest {
                pub idempotency_key: ::std::option::Option<::std::string::String>,
            }
            "#,
        )
        .unwrap()
        .items
    }

    #[test]
    fn parameters_become_skipped_fields_or_a_request_struct() {
        let ops = extract(&client_impl(METHOD), &spec_ops()).unwrap();
        let mut types = types();
        add_request_types(&ops, &mut types).unwrap();
        let out = quote!(#(#types)*).to_string();
        assert!(out.contains("# [serde (skip)] pub plaid_new_user_api_enabled : :: std :: option :: Option < bool >"), "{out}");
        assert!(out.contains("pub struct FdxConsentGetRequest { # [doc = \"The consent.\\n\\nSent in the URL path as `{consentId}`, not in the JSON body.\"] # [serde (skip)] pub consent_id : :: std :: string :: String }"), "{out}");
        assert!(
            !out.contains("Default , PartialEq) ] pub struct FdxConsentGetRequest"),
            "a required param: no Default"
        );
    }

    #[test]
    fn a_parameter_clashing_with_a_body_field_is_an_error() {
        let mut ops = extract(&client_impl(METHOD), &spec_ops()).unwrap();
        ops[2].params[0].name = "idempotency_key".into();
        let e = add_request_types(&ops, &mut types()).unwrap_err();
        assert!(e.contains("clashes"), "{e}");
    }

    #[test]
    fn generates_infos_trait_impls_and_documented_methods() {
        let ops = extract(&client_impl(METHOD), &spec_ops()).unwrap();
        let mut types = types();
        add_request_types(&ops, &mut types).unwrap();
        let required = [(
            "TransactionsSyncRequest".to_owned(),
            ["access_token".to_owned()].into(),
        )]
        .into();
        let out = render(generate(&ops, &types, quote!(), &required).unwrap());
        assert!(
            out.contains("pub const TRANSACTIONS_SYNC : OperationInfo"),
            "{out}"
        );
        assert!(out.contains("kind : crate :: operation :: OperationKind :: Read"));
        assert!(out.contains("pub const ALL : & [& OperationInfo] = & [& TRANSACTIONS_SYNC , & ASSET_REPORT_PDF_GET , & WALLET_CREATE , & FDX_CONSENT_GET]"), "{out}");
        assert!(out.contains("type Response = :: bytes :: Bytes"));
        assert!(out.contains("self . idempotency_key . as_ref ()"), "{out}");
        assert!(
            out.contains("(required: `access_token`; optional: `cursor`)"),
            "{out}"
        );
        assert!(
            out.contains("The full description is on [`TransactionsSyncRequest`](crate::types::TransactionsSyncRequest)"),
            "{out}"
        );
        // One impl block per family, each with its heading; one method per line.
        assert!(
            out.contains(
                "# [doc = \"# Transactions\\n\\nThe operations of the `transactions` Cargo feature"
            ),
            "{out}"
        );
        assert!(out.contains("# [cfg_attr (docsrs , doc (cfg (feature = \"transactions\")))] impl crate :: PlaidClient {\n"), "{out}");
        assert!(
            !out.contains("Sends a `POST`"),
            "progenitor's line replaced"
        );
        assert!(out.contains("pub async fn wallet_create"));
        assert!(
            out.contains("headers . push ((\"Plaid-New-User-API-Enabled\" , v . to_string ()))"),
            "{out}"
        );
        assert!(out.contains("format ! (\"/fdx/consents/{}\" , crate :: operation :: encode_path_segment (& self . consent_id . to_string ()))"), "{out}");
        assert!(
            out.contains("check_path_segment (\"consentId\" , & self . consent_id)"),
            "{out}"
        );
        assert!(out.contains("has_body : false"), "{out}");
        // Decoders compile only where an operation is called, not all in the library.
        assert_eq!(
            out.matches("# [inline] fn decode (raw").count(),
            ops.len(),
            "{out}"
        );
        assert!(out.contains("# [inline] pub fn __decode_response"), "{out}");
    }

    fn render(items: Vec<String>) -> String {
        items.join("\n")
    }

    #[test]
    fn a_request_type_shared_by_two_operations_is_an_error() {
        let mut ops = extract(&client_impl(METHOD), &spec_ops()).unwrap();
        ops[1].body = ops[0].body.clone();
        let e = generate(&ops, &types(), quote!(), &Default::default()).unwrap_err();
        assert!(
            e.contains("share the request type TransactionsSyncRequest"),
            "{e}"
        );
    }
}
