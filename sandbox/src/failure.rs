//! Plaid's error object, as the sandbox answers it: the codes it uses, with the type, HTTP
//! status and messages of Plaid's error reference (plaid.com/docs/errors/).

use serde_json::{json, Value};

/// An error answer in Plaid's shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) error_type: &'static str,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) display: Option<String>,
}

/// The codes whose type, status and messages the sandbox knows: `(code, type, status,
/// error_message, display_message)`. From Plaid's error reference.
const CATALOGUE: &[(&str, &str, u16, &str, Option<&str>)] = &[
    ("INVALID_CREDENTIALS", "ITEM_ERROR", 400, "the provided credentials were not correct", Some("The provided credentials were not correct. Please try again.")),
    ("INVALID_MFA", "ITEM_ERROR", 400, "the provided MFA response(s) were not correct", Some("The provided MFA responses were not correct. Please try again.")),
    ("INVALID_SEND_METHOD", "ITEM_ERROR", 400, "the provided MFA send_method was invalid", None),
    ("ITEM_LOCKED", "ITEM_ERROR", 400, "the account is locked. prompt the user to visit the institution's site and unlock their account", Some("The given account has been locked by the financial institution. Please visit your financial institution's website to unlock your account.")),
    ("ITEM_LOGIN_REQUIRED", "ITEM_ERROR", 400, "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state", None),
    ("ITEM_NOT_SUPPORTED", "ITEM_ERROR", 400, "this account is currently not supported", Some("The given account is not currently supported for this financial institution. We apologize for the inconvenience.")),
    ("MFA_NOT_SUPPORTED", "ITEM_ERROR", 400, "this account requires a MFA type that we do not currently support for the institution", Some("The multi-factor security features enabled on this account are not currently supported for this financial institution. We apologize for the inconvenience.")),
    ("NO_ACCOUNTS", "ITEM_ERROR", 400, "no valid accounts were found for this item", Some("No valid accounts were found at the financial institution. Please visit your financial institution's website to confirm accounts are available.")),
    ("NO_AUTH_ACCOUNTS", "ITEM_ERROR", 400, "There are no valid checking or savings account(s) associated with this Item. See https://plaid.com/docs/api/#item-errors for more.", None),
    ("NO_INVESTMENT_ACCOUNTS", "ITEM_ERROR", 400, "There are no valid investment account(s) associated with this Item. See https://plaid.com/docs/api/#item-errors for more information.", None),
    ("NO_LIABILITY_ACCOUNTS", "ITEM_ERROR", 400, "There are no valid liability account(s) associated with this Item. See https://plaid.com/docs/api/#item-errors for more information.", None),
    ("USER_SETUP_REQUIRED", "ITEM_ERROR", 400, "the account has not been fully set up. prompt the user to visit the issuing institution's site and finish the setup process", Some("The given account is not fully setup. Please visit your financial institution's website to setup your account.")),
    ("USER_INPUT_TIMEOUT", "ITEM_ERROR", 400, "user must retry this operation", Some("The application timed out waiting for user input")),
    ("INSUFFICIENT_CREDENTIALS", "ITEM_ERROR", 400, "insufficient authorization was provided to complete the request", Some("INSUFFICIENT_CREDENTIALS")),
    ("PASSWORD_RESET_REQUIRED", "ITEM_ERROR", 400, "user must reset their password", Some("The user needs to reset their password for their account")),
    ("USER_PERMISSION_REVOKED", "ITEM_ERROR", 400, "the holder of this account has revoked their permission for your application to access it", None),
    ("ITEM_NOT_FOUND", "ITEM_ERROR", 400, "The Item you requested cannot be found. This Item does not exist, has been previously removed via /item/remove, or has had access removed by the user.", None),
    ("PRODUCTS_NOT_SUPPORTED", "ITEM_ERROR", 400, "the requested product is not supported by this item. use /item/get to find out which products it supports", None),
    ("PRODUCT_NOT_READY", "ITEM_ERROR", 400, "the requested product is not yet ready. please provide a webhook or try the request again later", None),
    ("PRODUCT_NOT_ENABLED", "ITEM_ERROR", 400, "A requested product was not enabled for the current access token. Please ensure it is included when when initializing Link and create the Item again.", None),
    ("INSTITUTION_DOWN", "INSTITUTION_ERROR", 400, "this institution is not currently responding to this request. please try again soon", Some("This financial institution is not currently responding to requests. We apologize for the inconvenience.")),
    ("INSTITUTION_NOT_RESPONDING", "INSTITUTION_ERROR", 400, "this institution is not currently responding to this request. please try again soon", Some("This financial institution is not currently responding to requests. We apologize for the inconvenience.")),
    ("INSTITUTION_NOT_AVAILABLE", "INSTITUTION_ERROR", 400, "this institution is not currently responding to this request. please try again soon", Some("This financial institution is not currently responding to requests. We apologize for the inconvenience.")),
    ("INSTITUTION_NO_LONGER_SUPPORTED", "INSTITUTION_ERROR", 400, "this institution is no longer supported", Some("This financial institution is no longer supported. We apologize for the inconvenience.")),
    ("INSTITUTION_NOT_SUPPORTED", "INSTITUTION_ERROR", 400, "this institution is not currently supported", Some("This financial institution is not currently supported. We apologize for the inconvenience.")),
    ("INVALID_ACCESS_TOKEN", "INVALID_INPUT", 400, "could not find matching access token", None),
    ("INVALID_PUBLIC_TOKEN", "INVALID_INPUT", 400, "could not find matching public token", None),
    ("INVALID_LINK_TOKEN", "INVALID_INPUT", 400, "invalid link_token provided", None),
    ("INVALID_PROCESSOR_TOKEN", "INVALID_INPUT", 400, "invalid processor_token provided", None),
    ("INVALID_INSTITUTION", "INVALID_INPUT", 400, "invalid institution_id provided", None),
    ("INVALID_API_KEYS", "INVALID_INPUT", 400, "invalid client_id or secret provided", None),
    ("INVALID_PRODUCT", "INVALID_INPUT", 400, "client is not authorized to access the following products", None),
    ("INVALID_ACCOUNT_ID", "INVALID_INPUT", 400, "failed to find requested account ID for requested item", None),
    ("INVALID_WEBHOOK_VERIFICATION_KEY_ID", "INVALID_INPUT", 400, "invalid key_id provided. note that key_ids are specific to Plaid environments, and verification requests must be made to the same environment that the webhook was sent from", None),
    ("INVALID_FIELD", "INVALID_REQUEST", 400, "a field of the request is invalid", None),
    ("MISSING_FIELDS", "INVALID_REQUEST", 400, "the following required fields are missing", None),
    ("UNKNOWN_FIELDS", "INVALID_REQUEST", 400, "the following fields are not recognized by this endpoint", None),
    ("INVALID_BODY", "INVALID_REQUEST", 400, "body could not be parsed as JSON", None),
    ("NOT_FOUND", "INVALID_REQUEST", 404, "not found", None),
    ("SANDBOX_PRODUCT_NOT_ENABLED", "SANDBOX_ERROR", 400, "The product is not enabled on this item", None),
    ("SANDBOX_WEBHOOK_INVALID", "SANDBOX_ERROR", 400, "Webhook for this item is either not set up, or invalid. Please update the item's webhook and try again.", None),
    ("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", "TRANSACTIONS_ERROR", 400, "Underlying transaction data changed since last page was fetched. Please restart pagination from last update.", None),
    ("INTERNAL_SERVER_ERROR", "API_ERROR", 500, "an unexpected error occurred", None),
    ("PLAID_ERROR", "API_ERROR", 500, "an unexpected error occurred", None),
    ("RATE_LIMIT", "RATE_LIMIT_EXCEEDED", 429, "rate limit exceeded for attempts to access this item. please try again later", None),
];

impl Failure {
    /// An error with every part given.
    pub(crate) fn new(
        status: u16,
        error_type: &'static str,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        Failure {
            status,
            error_type,
            code: code.to_owned(),
            message: message.into(),
            display: None,
        }
    }

    /// The error Plaid answers for `code`, with its type, status and messages; a code the
    /// catalogue does not know is an `ITEM_ERROR` (400) that names itself, as the sandbox's
    /// `error_<CODE>` passwords can name any code.
    pub(crate) fn code(code: &str) -> Self {
        match CATALOGUE.iter().find(|(c, ..)| *c == code) {
            Some((c, error_type, status, message, display)) => Failure {
                status: *status,
                error_type,
                code: (*c).to_owned(),
                message: (*message).to_owned(),
                display: display.map(str::to_owned),
            },
            None => Failure::new(
                400,
                "ITEM_ERROR",
                code,
                format!("the sandbox test credentials asked for {code}"),
            ),
        }
    }

    /// The same error with another `error_message`.
    pub(crate) fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// `INVALID_REQUEST` / `INVALID_FIELD` with a message naming the field.
    pub(crate) fn invalid_field(message: impl Into<String>) -> Self {
        Failure::code("INVALID_FIELD").message(message)
    }

    /// `INVALID_REQUEST` / `MISSING_FIELDS` naming the fields.
    pub(crate) fn missing(fields: &str) -> Self {
        Failure::code("MISSING_FIELDS").message(format!(
            "the following required fields are missing: {fields}"
        ))
    }

    /// `SANDBOX_PRODUCT_NOT_ENABLED` for `product`.
    pub(crate) fn sandbox_product_not_enabled(product: &str) -> Self {
        Failure::code("SANDBOX_PRODUCT_NOT_ENABLED")
            .message(format!("The {product} product is not enabled on this item"))
    }

    /// The JSON body of the error, as Plaid sends it.
    pub(crate) fn to_json(&self, request_id: &str) -> Value {
        let mut body = error_object(
            self.error_type,
            &self.code,
            &self.message,
            self.display.as_deref(),
        );
        if let Value::Object(map) = &mut body {
            map.insert("request_id".into(), Value::String(request_id.to_owned()));
        }
        body
    }

    /// The error object as an Item or a webhook carries it (no `request_id`, and Plaid's
    /// `status` inside).
    pub(crate) fn to_item_error(&self) -> Value {
        let mut body = error_object(
            self.error_type,
            &self.code,
            &self.message,
            self.display.as_deref(),
        );
        if let Value::Object(map) = &mut body {
            map.insert("status".into(), json!(self.status));
        }
        body
    }
}

fn error_object(error_type: &str, code: &str, message: &str, display: Option<&str>) -> Value {
    json!({
        "error_type": error_type,
        "error_code": code,
        "error_code_reason": null,
        "error_message": message,
        "display_message": display,
        "causes": [],
        "documentation_url": documentation_url(error_type, code),
        "suggested_action": null,
    })
}

/// The page of Plaid's error reference for `error_type` (one page per category).
fn category_page(error_type: &str) -> Option<&'static str> {
    Some(match error_type {
        "ITEM_ERROR" => "item",
        "INVALID_REQUEST" => "invalid-request",
        "INVALID_INPUT" => "invalid-input",
        "INVALID_RESULT" => "invalid-result",
        "API_ERROR" => "api",
        "RATE_LIMIT_EXCEEDED" => "rate-limit-exceeded",
        "INSTITUTION_ERROR" => "institution",
        "ASSET_REPORT_ERROR" => "assets",
        "OAUTH_ERROR" => "oauth",
        "SANDBOX_ERROR" => "sandbox",
        "RECAPTCHA_ERROR" => "recaptcha",
        "PAYMENT_ERROR" => "payment",
        "BANK_TRANSFER_ERROR" => "bank-transfers",
        "TRANSACTIONS_ERROR" | "TRANSACTION_ERROR" => "transactions",
        "PARTNER_ERROR" => "partner",
        _ => return None,
    })
}

/// Where Plaid documents an error: `https://plaid.com/docs/errors/item/#item_login_required`
/// (the category's page, the code as its anchor); the overview page for a category the
/// sandbox does not know.
fn documentation_url(error_type: &str, code: &str) -> String {
    let anchor = code.to_lowercase();
    match category_page(error_type) {
        Some(page) => format!("https://plaid.com/docs/errors/{page}/#{anchor}"),
        None => format!("https://plaid.com/docs/errors/#{anchor}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_plaids_type_status_and_messages() {
        let f = Failure::code("INVALID_CREDENTIALS");
        assert_eq!((f.status, f.error_type), (400, "ITEM_ERROR"));
        assert!(f.display.is_some());
        assert_eq!(Failure::code("RATE_LIMIT").status, 429);
        assert_eq!(Failure::code("NOT_FOUND").status, 404);
        let odd = Failure::code("SOMETHING_NEW");
        assert_eq!((odd.status, odd.error_type), (400, "ITEM_ERROR"));
        let body = Failure::missing("a, b").to_json("req");
        assert_eq!(
            body["error_message"],
            "the following required fields are missing: a, b"
        );
        assert_eq!(body["request_id"], "req");
        assert_eq!(
            Failure::code("ITEM_LOGIN_REQUIRED").to_item_error()["status"],
            400
        );
    }

    #[test]
    fn documentation_urls_point_at_the_categorys_page() {
        let url = |f: Failure| f.to_json("req")["documentation_url"].clone();
        for (code, page) in [
            ("ITEM_LOGIN_REQUIRED", "item/#item_login_required"),
            ("INVALID_FIELD", "invalid-request/#invalid_field"),
            ("INVALID_ACCOUNT_ID", "invalid-input/#invalid_account_id"),
            (
                "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
                "transactions/#transactions_sync_mutation_during_pagination",
            ),
            ("RATE_LIMIT", "rate-limit-exceeded/#rate_limit"),
            ("INTERNAL_SERVER_ERROR", "api/#internal_server_error"),
        ] {
            assert_eq!(
                url(Failure::code(code)),
                format!("https://plaid.com/docs/errors/{page}")
            );
        }
        assert_eq!(
            url(Failure::new(400, "SOME_NEW_ERROR", "ODD", "odd")),
            "https://plaid.com/docs/errors/#odd"
        );
        for (code, error_type, ..) in CATALOGUE {
            assert!(
                category_page(error_type).is_some(),
                "{code}: {error_type} has no page"
            );
        }
    }

    #[test]
    fn every_code_an_error_password_can_name_has_a_message() {
        for (code, ..) in CATALOGUE {
            assert!(
                !Failure::code(code).message.is_empty(),
                "{code} has an empty error_message"
            );
        }
        assert!(!Failure::code("SOMETHING_NEW").message.is_empty());
    }
}
