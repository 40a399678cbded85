//! Cargo features per Plaid product family: which operations each covers, and the pruning
//! that generates only the selected ones (and the schemas they reach).
//!
//! Plaid tags every operation `plaid`, so the family comes from the path: a few prefixes first
//! (the core, always generated, and the calls whose product the path does not spell out), then
//! the path's first segment, or its second under `/sandbox/`, `/beta/` and `/credit/`
//! (product-specific sandbox calls go with their product). A family this table does not know
//! (one Plaid adds in a newer spec) falls in `other`, which `full` includes, so every operation
//! belongs to some feature.

use crate::normalize::collect_refs;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every product feature, in `Cargo.toml` order; `full` enables them all.
pub const FEATURES: &[&str] = &[
    "transactions",
    "auth",
    "identity",
    "investments",
    "liabilities",
    "assets",
    "transfer",
    "payment-initiation",
    "income",
    "cra",
    "signal",
    "identity-verification",
    "statements",
    "institutions",
    "users",
    "processor",
    "partner",
    "enrich",
    "hosted-link",
    "item-admin",
    "other",
];

/// Path prefixes whose family is not their first segment, checked in order before the segment
/// table: `None` is the core, always generated (what every Plaid integration uses: Link tokens,
/// the Item's life cycle, accounts and balances, processor tokens, the generic sandbox calls,
/// webhook keys); the rest go with a product that the segment alone would not name.
const PREFIXES: &[(&str, Option<&str>)] = &[
    ("/link/token/", None),
    ("/link/oauth/", None),
    ("/item/get", None),
    ("/item/remove", None),
    ("/item/public_token/", None),
    ("/item/webhook/", None),
    ("/item/access_token/", None),
    ("/accounts/", None),
    ("/webhook_verification_key/", None),
    ("/processor/token/create", None),
    ("/sandbox/public_token/", None),
    ("/sandbox/item/fire_webhook", None),
    ("/sandbox/item/reset_login", None),
    ("/sandbox/oauth/", None),
    ("/sandbox/item/set_verification_status", Some("auth")),
    ("/sandbox/item/application/", Some("item-admin")),
    ("/item/", Some("item-admin")),
    ("/link_delivery/", Some("hosted-link")),
    // Processor partners' variants of every product, their token admin and sandbox.
    ("/processor/", Some("processor")),
    ("/sandbox/processor_token/", Some("processor")),
    ("/transactions/enrich", Some("enrich")),
    ("/beta/transactions/v1/enhance", Some("enrich")),
];

/// (path segment, feature), for the segment that names the family.
const FAMILIES: &[(&str, &str)] = &[
    ("transactions", "transactions"),
    ("categories", "transactions"),
    ("auth", "auth"),
    ("identity", "identity"),
    ("investments", "investments"),
    ("liabilities", "liabilities"),
    ("asset_report", "assets"),
    ("audit_copy_token", "assets"),
    ("relay", "assets"),
    ("freddie_mac", "assets"),
    ("transfer", "transfer"),
    ("bank_transfer", "transfer"),
    ("payment_profile", "transfer"),
    ("payment_initiation", "payment-initiation"),
    ("payment", "payment-initiation"),
    ("wallet", "payment-initiation"),
    ("income", "income"),
    ("bank_income", "income"),
    ("payroll_income", "income"),
    ("employment", "income"),
    ("employers", "income"),
    ("bank_statements", "income"),
    ("sessions", "income"),
    ("cra", "cra"),
    ("consumer_report", "cra"),
    ("cashflow_report", "cra"),
    ("ewa_report", "cra"),
    ("signal", "signal"),
    ("identity_verification", "identity-verification"),
    ("watchlist_screening", "identity-verification"),
    ("beacon", "identity-verification"),
    ("dashboard_user", "identity-verification"),
    ("protect", "identity-verification"),
    ("business_verification", "identity-verification"),
    ("statements", "statements"),
    ("institutions", "institutions"),
    ("user", "users"),
    ("user_account", "users"),
    ("partner", "partner"),
];

/// (webhook_type, feature): the family of each webhook, to keep its schema.
const WEBHOOK_FAMILIES: &[(&str, &str)] = &[
    ("TRANSACTIONS", "transactions"),
    ("AUTH", "auth"),
    ("IDENTITY", "identity"),
    ("HOLDINGS", "investments"),
    ("INVESTMENTS_TRANSACTIONS", "investments"),
    ("LIABILITIES", "liabilities"),
    ("ASSETS", "assets"),
    ("TRANSFER", "transfer"),
    ("BANK_TRANSFER", "transfer"),
    ("PAYMENT_INITIATION", "payment-initiation"),
    ("WALLET", "payment-initiation"),
    ("INCOME", "income"),
    ("EMPLOYMENT", "income"),
    ("CRA_INCOME", "cra"),
    ("CHECK_REPORT", "cra"),
    ("BASE_REPORT", "cra"),
    ("CONSUMER_REPORT", "cra"),
    ("SIGNAL", "signal"),
    ("IDENTITY_VERIFICATION", "identity-verification"),
    ("SCREENING", "identity-verification"),
    ("ENTITY_SCREENING", "identity-verification"),
    ("BEACON", "identity-verification"),
    ("PROTECT", "identity-verification"),
    ("STATEMENTS", "statements"),
];

/// The feature an operation belongs to; `None` for the core, always generated.
pub fn family(path: &str) -> Option<&'static str> {
    if let Some((_, feature)) = PREFIXES.iter().find(|(p, _)| path.starts_with(p)) {
        return *feature;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let named = match segments.as_slice() {
        ["sandbox" | "beta" | "credit", second, ..] => {
            lookup(second).or_else(|| lookup(segments[0]))
        }
        [first, ..] => lookup(first),
        [] => None,
    };
    Some(named.unwrap_or("other"))
}

fn lookup(segment: &str) -> Option<&'static str> {
    FAMILIES
        .iter()
        .find(|(s, _)| *s == segment)
        .map(|(_, f)| *f)
}

/// The feature a webhook schema belongs to (`ITEM` webhooks are core).
pub fn webhook_family(webhook_type: &str) -> Option<&'static str> {
    if webhook_type == "ITEM" {
        return None;
    }
    Some(
        WEBHOOK_FAMILIES
            .iter()
            .find(|(t, _)| *t == webhook_type)
            .map(|(_, f)| *f)
            .unwrap_or("other"),
    )
}

/// What [`prune`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Operations kept.
    pub operations: usize,
    /// Operations removed.
    pub operations_removed: usize,
    /// Schemas removed because no kept operation or webhook reaches them.
    pub schemas_removed: usize,
}

/// Removes the operations of disabled families, then every schema that the remaining
/// operations, the error and token schemas, and the webhooks in `keep_schemas` do not reach.
pub fn prune(spec: &mut Value, enabled: &dyn Fn(&str) -> bool, keep_schemas: &[String]) -> Pruned {
    let mut pruned = Pruned::default();
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let keep = family(path).is_none_or(enabled);
            let before = item.len();
            item.retain(|key, _| keep || !is_method(key));
            let removed = before - item.len();
            pruned.operations_removed += removed;
            pruned.operations += item.keys().filter(|k| is_method(k)).count();
        }
        paths.retain(|_, item| {
            item.as_object()
                .is_some_and(|i| i.keys().any(|k| is_method(k)))
        });
    }
    // Reachability from the kept operations.
    let mut roots = BTreeSet::new();
    if let Some(paths) = spec.get("paths") {
        collect_refs(paths, &mut roots);
    }
    if let Some(params) = spec.pointer("/components/parameters") {
        collect_refs(params, &mut roots);
    }
    for name in keep_schemas.iter().map(String::as_str).chain([
        "PlaidError",
        "AccessToken",
        "PublicToken",
        "ProcessorToken",
        "UserToken",
    ]) {
        roots.insert(format!("#/components/schemas/{name}"));
    }
    let reached = crate::normalize::reachable(spec, roots);
    if let Some(all) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        let before = all.len();
        all.retain(|name, _| reached.contains(name));
        pruned.schemas_removed = before - all.len();
    }
    pruned
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn families_come_from_the_path() {
        for (path, feature) in [
            ("/link/token/create", None),
            ("/item/public_token/exchange", None),
            ("/accounts/balance/get", None),
            ("/sandbox/public_token/create", None),
            ("/webhook_verification_key/get", None),
            ("/processor/token/create", None),
            ("/transactions/sync", Some("transactions")),
            ("/processor/transactions/sync", Some("processor")),
            ("/beta/transactions/v1/enhance", Some("enrich")),
            ("/beta/transactions/rules/v1/create", Some("transactions")),
            ("/transactions/enrich", Some("enrich")),
            ("/item/activity/list", Some("item-admin")),
            ("/item/import", Some("item-admin")),
            ("/sandbox/item/application/seed", Some("item-admin")),
            ("/sandbox/item/set_verification_status", Some("auth")),
            ("/sandbox/item/fire_webhook", None),
            ("/sandbox/oauth/select_accounts", None),
            ("/link_delivery/create", Some("hosted-link")),
            ("/link/oauth/correlation_id/exchange", None),
            ("/processor/token/permissions/set", Some("processor")),
            ("/sandbox/processor_token/create", Some("processor")),
            ("/sandbox/user/reset_login", Some("users")),
            ("/sandbox/transactions/create", Some("transactions")),
            ("/categories/get", Some("transactions")),
            ("/sandbox/transfer/simulate", Some("transfer")),
            ("/bank_transfer/create", Some("transfer")),
            ("/wallet/list", Some("payment-initiation")),
            ("/credit/payroll_income/get", Some("income")),
            ("/credit/asset_report/freddie_mac/get", Some("assets")),
            ("/processor/auth/get", Some("processor")),
            (
                "/processor/stripe/bank_account_token/create",
                Some("processor"),
            ),
            (
                "/watchlist_screening/individual/list",
                Some("identity-verification"),
            ),
            ("/cra/check_report/pdf/get", Some("cra")),
            ("/teleport/create", Some("other")),
            ("/sandbox/teleport/fire", Some("other")),
        ] {
            assert_eq!(family(path), feature, "{path}");
        }
    }

    #[test]
    fn every_family_is_a_feature() {
        for (_, f) in FAMILIES.iter().chain(WEBHOOK_FAMILIES) {
            assert!(FEATURES.contains(f), "{f}");
        }
        assert_eq!(webhook_family("ITEM"), None);
        assert_eq!(webhook_family("HOLDINGS"), Some("investments"));
        assert_eq!(webhook_family("QUANTUM"), Some("other"));
    }

    #[test]
    fn pruning_keeps_core_and_enabled_operations_and_what_they_reach() {
        let mut spec = json!({
            "paths": {
                "/item/get": { "post": { "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ItemGetRequest" } } } } } },
                "/transactions/sync": { "post": { "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/TxReq" } } } } } },
                "/transfer/create": { "post": { "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/TrReq" } } } } } },
            },
            "components": { "schemas": {
                "ItemGetRequest": { "properties": { "a": { "$ref": "#/components/schemas/Shared" } } },
                "TxReq": { "properties": { "t": { "$ref": "#/components/schemas/Transaction" } } },
                "Transaction": { "properties": { "s": { "$ref": "#/components/schemas/Shared" } } },
                "TrReq": { "properties": { "x": { "$ref": "#/components/schemas/TransferOnly" } } },
                "TransferOnly": {}, "Shared": {}, "PlaidError": {}, "Orphan": {}, "HoldingsWebhook": {},
            } },
        });
        let pruned = prune(
            &mut spec,
            &|f| f == "transactions",
            &["HoldingsWebhook".into()],
        );
        let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths, ["/item/get", "/transactions/sync"]);
        let schemas: Vec<&String> = spec["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            schemas,
            [
                "HoldingsWebhook",
                "ItemGetRequest",
                "PlaidError",
                "Shared",
                "Transaction",
                "TxReq"
            ]
        );
        assert_eq!(
            pruned,
            Pruned {
                operations: 2,
                operations_removed: 1,
                schemas_removed: 3
            }
        );
    }
}
