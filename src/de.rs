//! Deserialization helpers the generated types use.

use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt;

/// An object key, borrowed from the input when it can be: what every generated `Deserialize`
/// matches field names against (one shared type instead of a field enum per struct).
pub(crate) struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads `null` as the type's default: an optional list or map that Plaid sends as `null`
/// parses as empty instead of failing the whole response.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::Key;
    use serde::Deserialize;

    #[test]
    fn keys_are_borrowed_when_possible_and_owned_when_escaped() {
        let mut de = serde_json::Deserializer::from_str(r#""plain""#);
        let k = Key::deserialize(&mut de).unwrap();
        assert!(matches!(k.0, std::borrow::Cow::Borrowed("plain")));
        let k: Key = serde_json::from_str(r#""esc\u0061ped""#).unwrap();
        assert_eq!(k.as_str(), "escaped");
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Holder {
        #[serde(default, deserialize_with = "super::null_as_default")]
        list: Vec<u32>,
    }

    #[test]
    fn null_missing_and_present() {
        let h: Holder = serde_json::from_str(r#"{"list": null}"#).unwrap();
        assert_eq!(h.list, Vec::<u32>::new());
        let h: Holder = serde_json::from_str("{}").unwrap();
        assert!(h.list.is_empty());
        let h: Holder = serde_json::from_str(r#"{"list": [1, 2]}"#).unwrap();
        assert_eq!(h.list, vec![1, 2]);
        assert!(serde_json::from_str::<Holder>(r#"{"list": "x"}"#).is_err());
    }
}
