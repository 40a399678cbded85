//! The Link flow, from "the user clicked Connect" to a stored Item.
//!
//! 1. Your server creates a link token ([`PlaidClient::create_link_token`]) and hands it to your
//!    front end, which opens Link with it.
//! 2. Link gives the front end a public token (valid 30 minutes), which it sends to your server.
//! 3. Your server exchanges it ([`PlaidClient::exchange_public_token`]) for a [`LinkedItem`]:
//!    an [`AccessToken`] (it never expires; store it encrypted) and an [`ItemId`].
//! 4. When the Item needs the user again (`ITEM_LOGIN_REQUIRED`, new accounts, consent expiring),
//!    create a token in update mode ([`LinkTokenRequest::update_mode`]) and open Link with it.
//! 5. When the user disconnects, [`PlaidClient::remove_item`].
//!
//! ```no_run
//! use plaid_sdk::link::LinkTokenRequest;
//! use plaid_sdk::types::Products;
//! # async fn run(client: plaid_sdk::PlaidClient, public_token_from_link: String) -> Result<(), plaid_sdk::Error> {
//! let request = LinkTokenRequest::new("My App", "user-42")
//!     .products([Products::Transactions])
//!     .webhook("https://example.com/plaid/webhook");
//! let link_token = client.create_link_token(&request).await?.link_token;
//! // ... the front end opens Link with `link_token` and sends back a public token ...
//! let item = client.exchange_public_token(public_token_from_link).await?;
//! println!("linked {}", item.item_id); // store item.access_token and item.item_id
//! # Ok(()) }
//! ```
//!
//! In the sandbox, [`PlaidClient::sandbox_link_item`] skips Link entirely, so tests and examples
//! run the whole flow headless.

use crate::operation::{Operation, RawResponse};
use crate::types::{self, CountryCode, Products};
use crate::{AccessToken, Error, PlaidClient, PublicToken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// An Item's id. Not a secret (safe to log), but not interchangeable with other ids either.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(String);

impl ItemId {
    /// Wraps an Item id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ItemId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&str> for ItemId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl AsRef<str> for ItemId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A linked Item: what to store after Link. `Debug` redacts the access token.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LinkedItem {
    /// The Item's access token: the credential for every later call about it.
    pub access_token: AccessToken,
    /// The Item's id, as webhooks name it.
    pub item_id: ItemId,
    /// Plaid's id for the exchange request.
    pub request_id: String,
}

/// A request for a link token (`POST /link/token/create`): for a new Item, or in update mode
/// for an existing one.
///
/// The common fields have setters; [`set`](Self::set) reaches any other field of the request
/// by name, and [`into_request`](Self::into_request) gives the generated
/// [`LinkTokenCreateRequest`](crate::types::LinkTokenCreateRequest) with every field typed.
/// `language` defaults to `"en"` and `country_codes` to `[US]`.
#[derive(Clone, Debug, Serialize)]
pub struct LinkTokenRequest {
    client_name: String,
    language: String,
    country_codes: Vec<CountryCode>,
    user: LinkUser,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    products: Vec<Products>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<AccessToken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update: Option<UpdateOptions>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize)]
struct LinkUser {
    client_user_id: String,
}

#[derive(Clone, Debug, Serialize)]
struct UpdateOptions {
    account_selection_enabled: bool,
}

/// Plaid's limit on `client_name`.
const CLIENT_NAME_MAX: usize = 30;

impl LinkTokenRequest {
    /// A token to link a new Item. `client_name` is your app's name as Link shows it (at most
    /// 30 characters); `client_user_id` is your id for the user (not an email or phone
    /// number). Add at least one product.
    pub fn new(client_name: impl Into<String>, client_user_id: impl Into<String>) -> Self {
        Self {
            client_name: client_name.into(),
            language: "en".into(),
            country_codes: vec![CountryCode::Us],
            user: LinkUser {
                client_user_id: client_user_id.into(),
            },
            products: Vec::new(),
            webhook: None,
            redirect_uri: None,
            access_token: None,
            update: None,
            extra: Map::new(),
        }
    }

    /// A token for Link's update mode on an existing Item: the user re-authenticates
    /// (after `ITEM_LOGIN_REQUIRED` or `PENDING_EXPIRATION`), or, with
    /// [`account_selection`](Self::account_selection), picks accounts again. Update mode takes
    /// no products.
    pub fn update_mode(
        client_name: impl Into<String>,
        client_user_id: impl Into<String>,
        access_token: AccessToken,
    ) -> Self {
        Self {
            access_token: Some(access_token),
            ..Self::new(client_name, client_user_id)
        }
    }

    /// The products to enable (new Items only).
    pub fn products(mut self, products: impl IntoIterator<Item = Products>) -> Self {
        self.products = products.into_iter().collect();
        self
    }

    /// Link's language (`en`, `fr`, `es`, `nl`, `de`, …).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }

    /// The countries whose institutions Link offers.
    pub fn country_codes(mut self, codes: impl IntoIterator<Item = CountryCode>) -> Self {
        self.country_codes = codes.into_iter().collect();
        self
    }

    /// Where Plaid sends this Item's webhooks.
    pub fn webhook(mut self, url: impl Into<String>) -> Self {
        self.webhook = Some(url.into());
        self
    }

    /// The redirect URI for OAuth institutions (registered in the Plaid dashboard).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// In update mode, lets the user change which accounts the Item shares.
    pub fn account_selection(mut self, enabled: bool) -> Self {
        self.update = Some(UpdateOptions {
            account_selection_enabled: enabled,
        });
        self
    }

    /// Sets any other field of `/link/token/create` by its JSON name (`link_customization_name`,
    /// `android_package_name`, `transactions`, …). Replaces a setter's value of the same name.
    pub fn set(mut self, field: impl Into<String>, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.extra.insert(field.into(), value);
        self
    }

    /// Whether this request is in update mode.
    pub fn is_update_mode(&self) -> bool {
        self.access_token.is_some()
    }

    /// The generated request type, with every field of the spec typed, for fields without a
    /// setter here. Send it with [`PlaidClient::link_token_create`].
    // `#[inline]`: the JSON round trip instantiates serde_json's `Value` deserializer for the
    // whole request type, a sixth of a `transactions` build's LLVM IR; only crates that call
    // this compile it.
    #[inline]
    pub fn into_request(self) -> Result<types::LinkTokenCreateRequest, Error> {
        self.validate().map_err(invalid)?;
        let json = serde_json::to_value(&self).map_err(|e| invalid(e.to_string()))?;
        serde_json::from_value(json).map_err(|e| invalid(e.to_string()))
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidRequest {
        operation: "link_token_create",
        message,
    }
}

impl Operation for LinkTokenRequest {
    type Response = types::LinkTokenCreateResponse;
    const INFO: &'static crate::OperationInfo = &crate::operations::LINK_TOKEN_CREATE;

    fn validate(&self) -> Result<(), String> {
        let name = self.client_name.trim();
        if name.is_empty() || name.chars().count() > CLIENT_NAME_MAX {
            return Err(format!(
                "client_name must be 1 to {CLIENT_NAME_MAX} characters"
            ));
        }
        if self.user.client_user_id.trim().is_empty() {
            return Err("client_user_id is empty".into());
        }
        if self.country_codes.is_empty() {
            return Err("country_codes is empty".into());
        }
        match &self.access_token {
            Some(token) if token.is_empty() => Err("access_token is empty".into()),
            Some(_) if !self.products.is_empty() => {
                Err("update mode takes no products: Link uses the Item's".into())
            }
            None if self.products.is_empty() && !self.extra.contains_key("products") => {
                Err("a new Item needs at least one product".into())
            }
            _ => Ok(()),
        }
    }

    fn decode(raw: RawResponse) -> Result<Self::Response, Error> {
        raw.json()
    }
}

/// `/sandbox/item/fire_webhook` with the code as a string, whatever the spec version calls its
/// enum.
#[derive(Serialize)]
struct FireWebhook<'a> {
    access_token: &'a AccessToken,
    webhook_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_type: Option<&'a str>,
}

impl Operation for FireWebhook<'_> {
    type Response = serde::de::IgnoredAny;
    const INFO: &'static crate::OperationInfo = &crate::operations::SANDBOX_ITEM_FIRE_WEBHOOK;

    fn validate(&self) -> Result<(), String> {
        if self.access_token.is_empty() {
            return Err("access_token is empty".into());
        }
        Ok(())
    }

    fn decode(raw: RawResponse) -> Result<Self::Response, Error> {
        raw.json()
    }
}

impl PlaidClient {
    /// Creates a link token for Link, for a new Item or in update mode.
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient, token: plaid_sdk::AccessToken) -> Result<(), plaid_sdk::Error> {
    /// use plaid_sdk::link::LinkTokenRequest;
    /// // The user must log in again: update mode.
    /// let request = LinkTokenRequest::update_mode("My App", "user-42", token);
    /// let link_token = client.create_link_token(&request).await?.link_token;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] before sending for a `client_name` outside 1–30 characters, an
    /// empty user id, products in update mode or none for a new Item; otherwise as any call.
    pub async fn create_link_token(
        &self,
        request: &LinkTokenRequest,
    ) -> Result<types::LinkTokenCreateResponse, Error> {
        self.send(request).await
    }

    /// Exchanges the public token Link returned for the Item's access token and id.
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient) -> Result<(), plaid_sdk::Error> {
    /// let item = client.exchange_public_token("public-sandbox-…").await?;
    /// println!("{} {:?}", item.item_id, item.access_token); // the token prints redacted
    /// # Ok(()) }
    /// ```
    pub async fn exchange_public_token(
        &self,
        public_token: impl Into<PublicToken>,
    ) -> Result<LinkedItem, Error> {
        let public_token = public_token.into();
        if public_token.is_empty() {
            return Err(Error::InvalidRequest {
                operation: "item_public_token_exchange",
                message: "public_token is empty".into(),
            });
        }
        let response = self
            .item_public_token_exchange(&types::ItemPublicTokenExchangeRequest::new(public_token))
            .await?;
        Ok(LinkedItem {
            access_token: response.access_token,
            item_id: ItemId(response.item_id),
            request_id: response.request_id,
        })
    }

    /// Removes an Item at Plaid: its access token stops working and billing for it stops.
    /// Keep your own copy of its data if you need it.
    pub async fn remove_item(&self, access_token: &AccessToken) -> Result<(), Error> {
        self.item_remove(&types::ItemRemoveRequest::new(access_token.clone()))
            .await?;
        Ok(())
    }

    /// Sandbox only: creates an Item at `institution_id` (`ins_109508` is First Platypus Bank)
    /// with `products`, without Link, and exchanges its public token.
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient) -> Result<(), plaid_sdk::Error> {
    /// use plaid_sdk::types::Products;
    /// let item = client.sandbox_link_item("ins_109508", [Products::Transactions]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn sandbox_link_item(
        &self,
        institution_id: impl Into<String>,
        products: impl IntoIterator<Item = Products>,
    ) -> Result<LinkedItem, Error> {
        let created = self
            .sandbox_public_token_create(&types::SandboxPublicTokenCreateRequest::new(
                institution_id.into(),
                products.into_iter().collect::<Vec<_>>(),
            ))
            .await?;
        self.exchange_public_token(created.public_token).await
    }

    /// Sandbox only: makes Plaid send the Item's webhook with this code
    /// (`SYNC_UPDATES_AVAILABLE`, `DEFAULT_UPDATE`, `NEW_ACCOUNTS_AVAILABLE`, `ERROR`, …).
    pub async fn sandbox_fire_webhook(
        &self,
        access_token: &AccessToken,
        webhook_code: &str,
    ) -> Result<(), Error> {
        self.send(&FireWebhook {
            access_token,
            webhook_code,
            webhook_type: None,
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &LinkTokenRequest) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn a_new_item_request_sends_only_what_was_set() {
        let r = LinkTokenRequest::new("My App", "user-42")
            .products([Products::Transactions, Products::Auth])
            .webhook("https://example.com/hook")
            .set("link_customization_name", "dark");
        assert_eq!(
            body(&r),
            serde_json::json!({
                "client_name": "My App", "language": "en", "country_codes": ["US"],
                "user": { "client_user_id": "user-42" },
                "products": ["transactions", "auth"],
                "webhook": "https://example.com/hook",
                "link_customization_name": "dark",
            })
        );
        assert!(r.validate().is_ok());
        assert!(!r.is_update_mode());
    }

    #[test]
    fn update_mode_sends_the_token_and_no_products() {
        let token = AccessToken::new("access-sandbox-1");
        let r = LinkTokenRequest::update_mode("App", "u", token).account_selection(true);
        let b = body(&r);
        assert_eq!(b["access_token"], "access-sandbox-1");
        assert_eq!(
            b["update"],
            serde_json::json!({ "account_selection_enabled": true })
        );
        assert!(b.get("products").is_none());
        assert!(r.validate().is_ok());
        let bad = r.products([Products::Auth]);
        assert!(bad
            .validate()
            .unwrap_err()
            .contains("update mode takes no products"));
    }

    #[test]
    fn caller_mistakes_are_named() {
        let ok = || LinkTokenRequest::new("App", "u").products([Products::Auth]);
        assert!(ok().validate().is_ok());
        assert!(LinkTokenRequest::new("App", "u")
            .validate()
            .unwrap_err()
            .contains("at least one product"));
        assert!(LinkTokenRequest::new("", "u")
            .products([Products::Auth])
            .validate()
            .unwrap_err()
            .contains("client_name"));
        let long = "x".repeat(31);
        assert!(LinkTokenRequest::new(long, "u")
            .products([Products::Auth])
            .validate()
            .is_err());
        assert!(LinkTokenRequest::new("App", " ")
            .products([Products::Auth])
            .validate()
            .unwrap_err()
            .contains("client_user_id"));
        assert!(ok()
            .country_codes([])
            .validate()
            .unwrap_err()
            .contains("country_codes"));
        let empty = LinkTokenRequest::update_mode("App", "u", AccessToken::new(""));
        assert!(empty.validate().unwrap_err().contains("access_token"));
    }

    #[test]
    fn into_request_gives_the_generated_type() {
        let r = LinkTokenRequest::new("My App", "user-42")
            .products([Products::Transactions])
            .redirect_uri("https://example.com/oauth");
        let generated = r.into_request().unwrap();
        assert_eq!(generated.client_name, "My App");
        assert_eq!(
            generated.redirect_uri.as_deref(),
            Some("https://example.com/oauth")
        );
        assert!(
            LinkTokenRequest::new("App", "u").into_request().is_err(),
            "validated first"
        );
    }

    #[test]
    fn item_ids_are_plain() {
        let id = ItemId::new("M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op");
        assert_eq!(format!("{id}"), "M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op\""
        );
    }
}
