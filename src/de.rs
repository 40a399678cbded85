//! Deserialization helpers the generated types use.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
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

/// A chrono date or date-time read fast: Plaid's canonical forms (`2024-03-01`,
/// `2024-03-01T17:04:00Z`, with or without fractional seconds or a numeric offset) are parsed
/// directly; anything else goes to chrono's own parser, so what parses, and the error when
/// nothing does, is exactly chrono's. chrono's general-purpose parser was a tenth of the time
/// spent parsing a `/transactions/sync` page.
pub(crate) struct Fast<T>(pub(crate) T);

/// A type [`Fast`] knows.
pub(crate) trait FastParse: Sized {
    const EXPECTING: &'static str;
    /// The canonical forms, or `None` to defer to chrono.
    fn fast(s: &str) -> Option<Self>;
    /// chrono's parser.
    fn chrono(s: &str) -> Result<Self, chrono::ParseError>;
}

impl FastParse for NaiveDate {
    const EXPECTING: &'static str = "a formatted date string";
    fn fast(s: &str) -> Option<Self> {
        match s.as_bytes() {
            [y @ .., b'-', m1, m2, b'-', d1, d2] if y.len() == 4 => NaiveDate::from_ymd_opt(
                digits(y)? as i32,
                digits(&[*m1, *m2])?,
                digits(&[*d1, *d2])?,
            ),
            _ => None,
        }
    }
    fn chrono(s: &str) -> Result<Self, chrono::ParseError> {
        s.parse()
    }
}

impl FastParse for DateTime<Utc> {
    const EXPECTING: &'static str = "an RFC 3339 formatted date and time string";
    fn fast(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let date = NaiveDate::fast(s.get(..10)?)?;
        let (h, mi, sec) = (
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
        let mut rest = &b[19..];
        let mut nanos = 0u32;
        if let [b'.', tail @ ..] = rest {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            nanos = digits(&tail[..n])? * 10u32.pow(9 - n as u32);
            rest = &tail[n..];
        }
        let offset_secs = match rest {
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                // Minutes of 60 and over go to chrono, which refuses them.
                let minutes = digits(&[*m1, *m2]).filter(|m| *m < 60)?;
                let secs = (digits(&[*h1, *h2])? * 3600 + minutes * 60) as i32;
                if *sign == b'-' {
                    -secs
                } else {
                    secs
                }
            }
            _ => return None,
        };
        // Leap seconds (`:60`) and out-of-range fields go to chrono.
        let time = NaiveTime::from_hms_nano_opt(h, mi, sec, nanos).filter(|_| sec < 60)?;
        let offset = FixedOffset::east_opt(offset_secs)?;
        let local = NaiveDateTime::new(date, time);
        Some(Utc.from_utc_datetime(&(local - offset)))
    }
    fn chrono(s: &str) -> Result<Self, chrono::ParseError> {
        s.parse()
    }
}

/// The value of up to 9 ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

impl<'de, T: FastParse> Deserialize<'de> for Fast<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FastVisitor<T>(std::marker::PhantomData<T>);
        impl<T: FastParse> serde::de::Visitor<'_> for FastVisitor<T> {
            type Value = Fast<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Fast<T>, E> {
                match T::fast(v) {
                    Some(t) => Ok(Fast(t)),
                    None => T::chrono(v).map(Fast).map_err(E::custom),
                }
            }
        }
        deserializer.deserialize_str(FastVisitor(std::marker::PhantomData))
    }
}

impl<'de, T: FastParse> Deserialize<'de> for Fast<Option<T>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Fast(
            Option::<Fast<T>>::deserialize(deserializer)?.map(|f| f.0),
        ))
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

/// Plaid's error object, read so that one odd optional field never costs the error its code:
/// a field of the wrong type is kept in a form its Rust type holds, not refused.
pub(crate) mod error_field {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// Text: `null` is empty, a value that is not a string is kept as [`leaves`] reads it.
    pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        Ok(optional_text(deserializer)?.unwrap_or_default())
    }

    /// Optional text: `null` is `None`, a value that is not a string is kept as [`leaves`]
    /// reads it.
    pub(crate) fn optional_text<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => {
                let mut out = String::new();
                leaves(&other, &mut out);
                Some(out)
            }
        })
    }

    /// The keys, strings, numbers and booleans of a JSON value, in order, separated by spaces:
    /// its text as it is, not JSON's escapes of it. Escaped, a control character inside a
    /// token (`acc\u0000ess-sandbox-…`) becomes six printable characters that hide the
    /// token from [`scrub`](crate::secret::scrub), which drops the character itself.
    fn leaves(value: &Value, out: &mut String) {
        fn push(out: &mut String, text: &str) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(text);
        }
        match value {
            Value::Null => {}
            Value::String(s) => push(out, s),
            Value::Bool(b) => push(out, &b.to_string()),
            Value::Number(n) => push(out, &n.to_string()),
            Value::Array(items) => items.iter().for_each(|item| leaves(item, out)),
            Value::Object(map) => {
                for (key, item) in map {
                    push(out, key);
                    leaves(item, out);
                }
            }
        }
    }

    /// A list: `null` is empty, a single value is a list of one.
    pub(crate) fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Value>, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Vec::new(),
            Value::Array(items) => items,
            other => vec![other],
        })
    }

    /// A number, also when sent as a string (`"400"`); anything else is `None`.
    pub(crate) fn number<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok().filter(|n: &f64| n.is_finite()),
            _ => None,
        })
    }
}

/// Whether the generated lean `Deserialize`/`Serialize` of `L` and serde's derive of its copy
/// `R` (Cargo feature `serde-reference`) agree on one JSON input: both refuse it (`Ok(false)`),
/// or both accept it, write the same JSON back, and the lean impls read what the derive wrote
/// to the same value again (`Ok(true)`). Anything else is a divergence, described.
#[cfg(feature = "serde-reference")]
pub(crate) fn differential<L, R>(value: &serde_json::Value) -> Result<bool, String>
where
    L: serde::Serialize + serde::de::DeserializeOwned,
    R: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = value.to_string();
    match (
        serde_json::from_str::<L>(&text),
        serde_json::from_str::<R>(&text),
    ) {
        (Err(_), Err(_)) => Ok(false),
        (Ok(_), Err(e)) => Err(format!(
            "only the lean Deserialize accepts it (derive: {e})"
        )),
        (Err(e), Ok(_)) => Err(format!("only serde's derive accepts it (lean: {e})")),
        (Ok(lean), Ok(derived)) => {
            let written =
                serde_json::to_value(&lean).map_err(|e| format!("lean Serialize: {e}"))?;
            let expected =
                serde_json::to_value(&derived).map_err(|e| format!("derived Serialize: {e}"))?;
            if written != expected {
                return Err(format!(
                    "written back differently:\n  lean   {written}\n  derive {expected}"
                ));
            }
            let again = serde_json::from_value::<L>(expected.clone())
                .and_then(|l| serde_json::to_value(&l))
                .map_err(|e| format!("the lean impls cannot read what the derive wrote: {e}"))?;
            if again != expected {
                return Err(format!(
                    "read back differently:\n  lean   {again}\n  derive {expected}"
                ));
            }
            Ok(true)
        }
    }
}

/// A generated struct's lean `Deserialize`, without the visitor: `visit_map` reads the struct
/// from a JSON object (see the generator's `postprocess` module). Every struct shares one
/// visitor, [`LeanVisitor`], instead of a visitor type and impl each.
pub(crate) trait LeanStruct: Sized {
    /// What the struct is, for serde's "invalid type: …, expected …" messages.
    const EXPECTING: &'static str;

    /// Reads the struct's fields from a map.
    fn visit_map<'de, A: serde::de::MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// The visitor of every generated struct (see [`LeanStruct`]).
pub(crate) struct LeanVisitor<T>(std::marker::PhantomData<fn() -> T>);

impl<T> LeanVisitor<T> {
    pub(crate) fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<'de, T: LeanStruct> serde::de::Visitor<'de> for LeanVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::visit_map(map)
    }
}

/// JSON bytes as text for serde_json's `str` reader, the one reader every parse in the crate
/// uses (so each type's deserializer is compiled once, not once per reader). One UTF-8 check;
/// not UTF-8 means not JSON.
pub(crate) fn json_text(bytes: &[u8]) -> Result<&str, serde_json::Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        <serde_json::Error as serde::de::Error>::custom(format_args!(
            "the body is not valid UTF-8 (byte {})",
            e.valid_up_to()
        ))
    })
}

/// JSON bytes parsed as `T` through [`json_text`]; `None` if they are not.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    serde_json::from_str(json_text(bytes).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::{json_text, parse_json, Fast, Key};
    use chrono::{DateTime, NaiveDate, Utc};

    fn both<T>(json: &str) -> (Result<T, String>, Result<T, String>)
    where
        T: for<'de> serde::Deserialize<'de>,
        Fast<T>: for<'de> serde::Deserialize<'de>,
    {
        let fast = serde_json::from_str::<Fast<T>>(json)
            .map(|f| f.0)
            .map_err(|e| e.to_string());
        let chrono = serde_json::from_str::<T>(json).map_err(|e| e.to_string());
        (fast, chrono)
    }

    #[test]
    fn fast_dates_agree_with_chrono_on_every_input() {
        for input in [
            r#""2024-03-01""#,
            r#""2024-02-29""#,
            r#""2023-02-29""#,
            r#""2024-13-01""#,
            r#""2024-3-01""#,
            r#""+2024-03-01""#,
            r#""20240301""#,
            r#""2024-03-01x""#,
            r#""２０２４-03-01""#,
            r#""""#,
            "null",
            "7",
        ] {
            let (fast, chrono) = both::<NaiveDate>(input);
            assert_eq!(fast, chrono, "{input}");
            let (fast, chrono) = both::<Option<NaiveDate>>(input);
            assert_eq!(fast, chrono, "{input}");
        }
    }

    #[test]
    fn fast_date_times_agree_with_chrono_on_every_input() {
        for input in [
            r#""2017-01-27T11:00:00Z""#,
            r#""2022-08-18T15:42:01.123Z""#,
            r#""2022-08-18T15:42:01.123456789Z""#,
            r#""2022-08-18T15:42:01.1234567891Z""#,
            r#""2022-08-18T15:42:01+02:00""#,
            r#""2022-08-18T00:42:01-05:30""#,
            r#""2022-08-18T15:42:01.5-00:00""#,
            r#""2016-12-31T23:59:60Z""#,
            r#""2022-08-18T24:00:00Z""#,
            r#""2022-08-18 15:42:01Z""#,
            r#""2022-08-18t15:42:01z""#,
            r#""2022-08-18T15:42:01""#,
            r#""2022-08-18T15:42:01.Z""#,
            r#""2022-08-18T15:42Z""#,
            r#""2022-08-18T15:42:01+2:00""#,
            r#""2022-08-18T15:42:01+24:00""#,
            // Review round 11: minutes of 60 and over in an offset were taken as more hours.
            r#""2022-08-18T15:42:01+00:60""#,
            r#""2022-08-18T15:42:01+00:99""#,
            r#""2022-08-18T15:42:01-23:60""#,
            r#""2022-08-18T15:42:01+23:59""#,
            r#""2022-02-30T15:42:01Z""#,
            "null",
        ] {
            let (fast, chrono) = both::<DateTime<Utc>>(input);
            assert_eq!(fast, chrono, "{input}");
            let (fast, chrono) = both::<Option<DateTime<Utc>>>(input);
            assert_eq!(fast, chrono, "{input}");
        }
    }
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

    #[test]
    fn json_bytes_go_through_one_utf8_check() {
        assert_eq!(json_text(b"{}").unwrap(), "{}");
        let e = json_text(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(e.to_string(), "the body is not valid UTF-8 (byte 6)");
        assert_eq!(parse_json::<Vec<u8>>(b"[1, 2]"), Some(vec![1, 2]));
        assert_eq!(parse_json::<Vec<u8>>(b"[1, \xff]"), None);
        assert_eq!(parse_json::<Vec<u8>>(b"{}"), None);
    }
}
