//! The Link flow, from "the user clicked Connect" to a stored Item, with the generated calls:
//!
//! 1. Your server creates a link token ([`PlaidClient::link_token_create`]) and hands it to
//!    your front end, which opens Link with it.
//! 2. Link gives the front end a public token (valid 30 minutes), which it sends to your server.
//! 3. Your server exchanges it ([`PlaidClient::item_public_token_exchange`]) for the Item's
//!    [`AccessToken`] (it never expires; store it encrypted) and its id.
//! 4. When the Item needs the user again (`ITEM_LOGIN_REQUIRED`, new accounts, consent expiring),
//!    create a token in update mode
//!    ([`LinkTokenCreateRequest::update_mode`](types::LinkTokenCreateRequest::update_mode)) and
//!    open Link with it.
//! 5. When the user disconnects, [`PlaidClient::item_remove`].
//!
//! ```no_run
//! use plaid_sdk::types::{
//!     CountryCode, ItemPublicTokenExchangeRequest, LinkTokenCreateRequest, LinkTokenCreateRequestUser,
//!     Products,
//! };
//! # async fn run(client: plaid_sdk::PlaidClient, public_token_from_link: String) -> Result<(), plaid_sdk::Error> {
//! let request = LinkTokenCreateRequest::new("My App", "en", vec![CountryCode::Us], LinkTokenCreateRequestUser::new("user-42"))
//!     .products(vec![Products::Transactions])
//!     .webhook("https://example.com/plaid/webhook");
//! let link_token = client.link_token_create(&request).await?.link_token;
//! // ... the front end opens Link with `link_token` and sends back a public token ...
//! let item = client
//!     .item_public_token_exchange(&ItemPublicTokenExchangeRequest::new(public_token_from_link))
//!     .await?;
//! println!("linked {}", item.item_id); // store item.access_token and item.item_id
//! # Ok(()) }
//! ```
//!
//! In the sandbox, [`PlaidClient::sandbox_link_item`] skips Link entirely, so tests and examples
//! run the whole flow headless.

use crate::operation::{Operation, RawResponse};
use crate::types::{self, CountryCode, Products};
use crate::{AccessToken, Error, PlaidClient};
use serde::{Deserialize, Serialize};
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

/// An `ItemId` equals the same id as text, so it compares with the `item_id` fields of
/// Plaid's responses and webhooks, which are strings:
///
/// ```
/// use plaid_sdk::link::ItemId;
/// let from_webhook: String = "Xa1b2".to_owned();
/// assert_eq!(ItemId::new("Xa1b2"), from_webhook);
/// assert_eq!(ItemId::new("Xa1b2"), "Xa1b2");
/// ```
impl PartialEq<String> for ItemId {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for ItemId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ItemId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<ItemId> for String {
    fn eq(&self, other: &ItemId) -> bool {
        *self == other.0
    }
}

impl PartialEq<ItemId> for str {
    fn eq(&self, other: &ItemId) -> bool {
        self == other.0
    }
}

impl PartialEq<ItemId> for &str {
    fn eq(&self, other: &ItemId) -> bool {
        *self == other.0
    }
}

impl types::LinkTokenCreateRequest {
    /// A link token request for Link's update mode on an existing Item: the user
    /// re-authenticates (after `ITEM_LOGIN_REQUIRED` or `PENDING_EXPIRATION`), or, with
    /// `.update(LinkTokenCreateRequestUpdate::new().account_selection_enabled(true))`, picks
    /// accounts again. Language `en`, country `US` (change them with their setters); update
    /// mode takes no products, which Link takes from the Item.
    ///
    /// ```no_run
    /// # async fn run(client: plaid_sdk::PlaidClient, token: plaid_sdk::AccessToken) -> Result<(), plaid_sdk::Error> {
    /// use plaid_sdk::types::LinkTokenCreateRequest;
    /// let request = LinkTokenCreateRequest::update_mode("My App", "user-42", token);
    /// let link_token = client.link_token_create(&request).await?.link_token;
    /// # Ok(()) }
    /// ```
    pub fn update_mode(
        client_name: impl Into<String>,
        client_user_id: impl Into<String>,
        access_token: impl Into<AccessToken>,
    ) -> Self {
        Self::new(
            client_name,
            "en",
            vec![CountryCode::Us],
            types::LinkTokenCreateRequestUser::new(client_user_id),
        )
        .access_token(access_token)
    }

    /// Whether this request is for update mode (it names an Item's access token).
    pub fn is_update_mode(&self) -> bool {
        self.access_token.is_some()
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
    ) -> Result<types::ItemPublicTokenExchangeResponse, Error> {
        let created = self
            .sandbox_public_token_create(&types::SandboxPublicTokenCreateRequest::new(
                institution_id.into(),
                products.into_iter().collect::<Vec<_>>(),
            ))
            .await?;
        self.item_public_token_exchange(&types::ItemPublicTokenExchangeRequest::new(
            created.public_token,
        ))
        .await
    }

    /// Sandbox only: makes Plaid send the Item's webhook with this code
    /// (`SYNC_UPDATES_AVAILABLE`, `DEFAULT_UPDATE`, `NEW_ACCOUNTS_AVAILABLE`, `LOGIN_REPAIRED`,
    /// …; the codes of the spec's `/sandbox/item/fire_webhook`, each with its own type).
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

    #[test]
    fn update_mode_names_the_item_and_takes_no_products() {
        let r = types::LinkTokenCreateRequest::update_mode("App", "u", "access-sandbox-1");
        let body = serde_json::to_value(&r).unwrap();
        assert_eq!(body["access_token"], "access-sandbox-1");
        assert_eq!(body["user"]["client_user_id"], "u");
        assert_eq!(body["language"], "en");
        assert_eq!(body["country_codes"], serde_json::json!(["US"]));
        assert!(body.get("products").is_none());
        assert!(r.is_update_mode());
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
