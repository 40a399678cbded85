//! Deserialization helpers the generated types use.

use serde::{Deserialize, Deserializer};

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
    use serde::Deserialize;

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
