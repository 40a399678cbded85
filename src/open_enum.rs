//! Open enums: Plaid adds enum values without notice and calls that non-breaking, so every
//! enum in this crate keeps a value it does not know instead of failing the whole response.
//!
//! The fallback variant is `Unrecognized(UnrecognizedValue)`, not `Unknown`: 14 Plaid enums have
//! a real `UNKNOWN` value of their own. It is sealed, as aws-sdk-rust seals its `Unknown`: the
//! value inside cannot be matched on or built, only read through the enum's `as_str()`. A
//! `match` arm `Unrecognized(s) if s == "NEW"` would silently stop matching the day a refresh
//! makes `NEW` a known variant; `other => other.as_str()` keeps working.
//!
//! Open enums order by their wire string (`PartialOrd`, `Ord`), not by the position of their
//! variants, which moves whenever Plaid adds a value in the middle of a list.
//!
//! `open_enum!` is used by the generated types (one invocation per string enum of the spec) and
//! by the hand-written [`ErrorType`](crate::ErrorType) and [`ErrorCode`](crate::ErrorCode).

use std::fmt;
use std::marker::PhantomData;

/// A value an open enum does not know, kept verbatim: the inside of every open enum's
/// `Unrecognized` variant. It cannot be built or read outside this crate; read it with the
/// enum's `as_str()`, and make one with `From<&str>` (`AccountType::from("metaverse")`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnrecognizedValue(pub(crate) String);

impl fmt::Debug for UnrecognizedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Defines a string enum that also holds any value it does not know.
///
/// Its methods are `#[inline]`: compiled in the crate that calls them, and only if it does.
/// Without it plaid-sdk's own build compiled a dozen functions for each of the 345 enums of the
/// spec whether or not anything used them: 4,300 of the 13,270 functions it compiled.
///
/// Each variant maps to its wire string; `Unrecognized` keeps any other value verbatim and
/// serializes it back unchanged. The enum is `#[non_exhaustive]`, so a future SDK version can
/// add a known variant without breaking a `match`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(#[$fmeta:meta])* $first:ident = $fvalue:literal,
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $crate::open_enum::open_enum! {
            @example $first;
            $(#[$meta])*
            $vis enum $name {
                $(#[$fmeta])* $first = $fvalue,
                $( $(#[$vmeta])* $variant = $value, )*
            }
        }
    };
    (
        @example $example:ident;
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        ///
        /// This enum is *open*: a value this version of the SDK does not know parses as
        /// `Unrecognized`, keeps its text, and serializes back unchanged. Match the values you
        /// handle and end with a wildcard arm; read any value with [`as_str`](Self::as_str):
        ///
        /// ```text
        /// match value {
        #[doc = concat!("    ", stringify!($name), "::", stringify!($example), " => …,")]
        ///     other => println!("not handled yet: {}", other.as_str()),
        /// }
        /// ```
        ///
        /// Do not test an unknown value's text inside an `Unrecognized` arm: the day a refresh
        /// makes it known, it arrives as its own variant instead (the value inside is sealed
        /// for that reason). Ordering is by the wire string.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[doc = concat!("`", $value, "`")]
                $variant,
            )*
            /// A value this version of the SDK does not know yet, kept verbatim (read it with
            /// `as_str`).
            Unrecognized($crate::UnrecognizedValue),
        }

        impl ::std::cmp::PartialOrd for $name {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> ::std::option::Option<::std::cmp::Ordering> {
                ::std::option::Option::Some(::std::cmp::Ord::cmp(self, other))
            }
        }

        impl ::std::cmp::Ord for $name {
            #[inline]
            fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl $name {
            /// Every value this version of the SDK knows, in the spec's order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),*];

            /// The value exactly as Plaid spells it.
            #[inline]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unrecognized(other) => other.0.as_str(),
                }
            }

            /// Whether this is a value this version of the SDK does not know.
            #[inline]
            pub fn is_unrecognized(&self) -> bool {
                matches!(self, Self::Unrecognized(_))
            }
        }

        impl $name {
            /// The known variant spelled `value`: the one string `match` of the enum, which
            /// both `From` impls share (two copies of it were a measurable part of the crate's
            /// type checking).
            #[inline]
            fn known(value: &str) -> ::std::option::Option<Self> {
                ::std::option::Option::Some(match value {
                    $($value => Self::$variant,)*
                    _ => return ::std::option::Option::None,
                })
            }
        }

        impl ::std::convert::From<&str> for $name {
            #[inline]
            fn from(value: &str) -> Self {
                Self::known(value).unwrap_or_else(|| {
                    Self::Unrecognized($crate::UnrecognizedValue(value.to_owned()))
                })
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            #[inline]
            fn from(value: ::std::string::String) -> Self {
                match Self::known(&value) {
                    ::std::option::Option::Some(known) => known,
                    ::std::option::Option::None => Self::Unrecognized($crate::UnrecognizedValue(value)),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            #[inline]
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(Self::from(value))
            }
        }

        /// The empty, unrecognized value (its text is `""`): a placeholder for building values
        /// in tests, which Plaid never sends.
        impl ::std::default::Default for $name {
            #[inline]
            fn default() -> Self {
                Self::Unrecognized($crate::UnrecognizedValue(::std::string::String::new()))
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            #[inline]
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                deserializer.deserialize_any($crate::open_enum::OpenEnumVisitor::<Self>::new())
            }
        }
    };
}

pub(crate) use open_enum;

/// The one serde visitor every open enum shares: any string is accepted, and so is a number or
/// a boolean, as its JSON text. Plaid's spec declares some string enums with unquoted values
/// (`enum: [true, false]`, `enum: [3, 4.1]`: eight schemas of 1.697.4, the Freddie Mac
/// report's `AssetRetirementIndicator` among them), which YAML reads as booleans and numbers,
/// so a server following the spec may send them unquoted; the SDK treats them as the strings
/// the schema's `type` says they are, instead of failing the whole response.
pub(crate) struct OpenEnumVisitor<T>(PhantomData<fn() -> T>);

impl<T> OpenEnumVisitor<T> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> serde::de::Visitor<'_> for OpenEnumVisitor<T>
where
    T: for<'a> From<&'a str> + From<String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::from(if v { "true" } else { "false" }))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::from(v.to_string()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::from(v.to_string()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        // serde_json writes 4.1 back as "4.1", as YAML read it.
        Ok(T::from(
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
        ))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from(v))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::from(v))
    }
}

#[cfg(test)]
mod tests {
    open_enum! {
        /// A test enum.
        pub enum Subtype {
            Checking = "checking",
            X401k = "401k",
        }
    }

    #[test]
    fn known_values_round_trip() {
        let v: Subtype = serde_json::from_str("\"401k\"").unwrap();
        assert_eq!(v, Subtype::X401k);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"401k\"");
        assert_eq!(v.as_str(), "401k");
        assert_eq!(v.to_string(), "401k");
        assert!(!v.is_unrecognized());
    }

    #[test]
    fn unknown_values_are_kept_and_written_back_unchanged() {
        let v: Subtype = serde_json::from_str("\"crypto wallet\"").unwrap();
        assert_eq!(v, Subtype::from("crypto wallet"));
        assert_eq!(format!("{v:?}"), "Unrecognized(\"crypto wallet\")");
        assert!(v.is_unrecognized());
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"crypto wallet\"");
        // Escaped strings arrive owned; they are kept too.
        let v: Subtype = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(v.as_str(), "a\"b");
    }

    #[test]
    fn unquoted_scalars_are_read_as_their_text_and_anything_else_is_an_error() {
        // `enum: [true, false]` and `enum: [3, 4.1]` of string schemas, as YAML reads them.
        let v: Subtype = serde_json::from_str("true").unwrap();
        assert_eq!(v.as_str(), "true");
        assert_eq!(serde_json::from_str::<Subtype>("3").unwrap().as_str(), "3");
        assert_eq!(
            serde_json::from_str::<Subtype>("-2").unwrap().as_str(),
            "-2"
        );
        assert_eq!(
            serde_json::from_str::<Subtype>("4.1").unwrap().as_str(),
            "4.1"
        );
        for bad in ["null", "[]", "{}"] {
            let e = serde_json::from_str::<Subtype>(bad).unwrap_err();
            assert!(e.to_string().contains("expected a string"), "{bad}: {e}");
        }
    }

    #[test]
    fn open_enums_order_by_their_text_not_by_variant_position() {
        let mut values = [Subtype::from("zebra"), Subtype::X401k, Subtype::Checking];
        values.sort();
        let text: Vec<&str> = values.iter().map(Subtype::as_str).collect();
        assert_eq!(text, ["401k", "checking", "zebra"]);
        assert!(
            Subtype::Checking > Subtype::X401k,
            "not the declaration order"
        );
    }

    #[test]
    fn the_default_is_the_empty_unrecognized_value() {
        let v = Subtype::default();
        assert!(v.is_unrecognized());
        assert_eq!(v.as_str(), "");
    }

    #[test]
    fn conversions() {
        assert_eq!(Subtype::from("checking"), Subtype::Checking);
        assert_eq!("x".parse::<Subtype>().unwrap().as_str(), "x");
        assert!("x".parse::<Subtype>().unwrap().is_unrecognized());
        assert_eq!(Subtype::from(String::from("401k")), Subtype::X401k);
        assert_eq!(Subtype::KNOWN, &[Subtype::Checking, Subtype::X401k]);
    }
}
