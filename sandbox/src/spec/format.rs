//! The `format` keyword: checks for the formats Plaid's spec uses, written to agree with
//! `ajv-formats` 2.1 in its "full" mode (what Prism validates with), and stricter where RFC
//! 3339 is (a `date-time` needs its `T` and its offset). Unknown formats (`cognito_id`,
//! `binary`, `double`, …) accept any value of the right type.

use serde_json::Value;

/// How a failed format is named in a message: "a date in the format YYYY-MM-DD".
pub(crate) fn described(format: &str) -> String {
    match format {
        "date" => "a date in the format YYYY-MM-DD".to_owned(),
        "date-time" => {
            "a date-time in RFC 3339 format (YYYY-MM-DDThh:mm:ssZ or with an offset, e.g. 2024-01-15T10:30:00Z)".to_owned()
        }
        "time" => "a time in the format hh:mm:ss with an offset".to_owned(),
        "uuid" => "a UUID".to_owned(),
        "email" => "an email address".to_owned(),
        "uri" | "url" => "an absolute URL".to_owned(),
        "web-url" => "an absolute http(s) URL".to_owned(),
        "uri-reference" => "a URI reference".to_owned(),
        "ipv4" => "an IPv4 address".to_owned(),
        "ipv6" => "an IPv6 address".to_owned(),
        "hostname" => "a hostname".to_owned(),
        "byte" => "base64-encoded bytes".to_owned(),
        "int32" => "a 32-bit integer".to_owned(),
        "int64" => "a 64-bit integer".to_owned(),
        other => format!("in the format {other}"),
    }
}

/// Whether `value` satisfies `format` (formats apply to their own type only: a number is
/// never a bad `date`).
pub(crate) fn check(format: &str, value: &Value) -> bool {
    match value {
        Value::String(s) => check_str(format, s),
        Value::Number(n) => match format {
            "int32" => {
                n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())
                    || n.as_f64().is_some_and(|f| {
                        f.fract() == 0.0 && (-2_147_483_648.0..=2_147_483_647.0).contains(&f)
                    })
            }
            "int64" => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
            _ => true,
        },
        _ => true,
    }
}

fn check_str(format: &str, s: &str) -> bool {
    match format {
        "date" => date(s),
        "date-time" => date_time(s),
        "time" => time(s),
        "uuid" => uuid(s),
        "email" => email(s),
        "uri" => uri(s),
        "url" => url(s),
        "web-url" => web_url(s),
        "uri-reference" => uri_reference(s),
        "ipv4" => ipv4(s),
        "ipv6" => ipv6(s),
        "hostname" => hostname(s),
        "byte" => byte(s),
        _ => true,
    }
}

/// The number written in `s[a..b]`, all ASCII digits.
fn part(s: &str, a: usize, b: usize) -> Option<u32> {
    digits(s.get(a..b)?)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn leap(year: u32) -> bool {
    // Remainders named, so the code reads the same under any MSRV (no `is_multiple_of`).
    let (r4, r100, r400) = (year % 4, year % 100, year % 400);
    r4 == 0 && (r100 != 0 || r400 == 0)
}

/// `YYYY-MM-DD`, a real calendar day.
pub(crate) fn date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (part(s, 0, 4), part(s, 5, 7), part(s, 8, 10)) else {
        return false;
    };
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `hh:mm:ss(.frac)` and a required offset (`Z` or `±hh:mm`).
fn time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(sec)) = (part(s, 0, 2), part(s, 3, 5), part(s, 6, 8)) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    let Some(mut rest) = s.get(8..) else {
        return false;
    };
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = frac.get(n..).unwrap_or("");
    }
    match rest {
        "Z" | "z" => true,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !(rb[0] == b'+' || rb[0] == b'-') || rb[3] != b':' {
                return false;
            }
            matches!((part(rest, 1, 3), part(rest, 4, 6)), (Some(oh), Some(om)) if oh <= 23 && om <= 59)
        }
    }
}

/// RFC 3339 `date-time`: a date, `T`, a time with its offset.
pub(crate) fn date_time(s: &str) -> bool {
    match (s.get(..10), s.get(10..11), s.get(11..)) {
        (Some(d), Some("T" | "t"), Some(t)) => date(d) && time(t),
        _ => false,
    }
}

fn uuid(s: &str) -> bool {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

/// As ajv-formats' full `email`: dot-separated atoms, `@`, at least two domain labels.
fn email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let atom_ok = |a: &str| {
        !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
    };
    local.split('.').all(atom_ok) && domain.split('.').count() >= 2 && domain.split('.').all(label)
}

fn scheme_len(s: &str) -> Option<usize> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'))
    .then_some(colon)
}

fn uri_chars(s: &str) -> bool {
    s.chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && !"<>\"{}|\\^`".contains(c))
}

/// Every `%` starts an escape of two hex digits.
fn escapes_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// The authority after `scheme://`, up to the path, query or fragment.
fn authority(rest: &str) -> &str {
    rest.find(['/', '?', '#']).map_or(rest, |i| &rest[..i])
}

/// An authority's host and port are well formed: an IPv6 literal's brackets close, and a
/// port is digits.
fn host_port_ok(authority: &str, host_required: bool) -> bool {
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let Some((literal, after)) = inner.split_once(']') else {
            return false;
        };
        if !ipv6(literal) {
            return false;
        }
        match after {
            "" => (literal, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (literal, Some(port)),
                None => return false,
            },
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, port)) => (h, Some(port)),
            None => (hostport, None),
        }
    };
    // RFC 3986 allows an empty port (`http://h:/`); a number is at most 65535.
    let port_ok = port.is_none_or(|p| p.is_empty() || digits(p).is_some_and(|n| n <= 65_535));
    let host_ok = if hostport.starts_with('[') {
        true
    } else if host_required {
        // A fully qualified name may end with its root's dot (`example.com.`).
        let host = host.strip_suffix('.').unwrap_or(host);
        !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            })
    } else {
        !host.contains(['[', ']'])
    };
    port_ok && host_ok
}

/// An absolute URI: a scheme, `:`, no characters a URI cannot hold, escapes of two hex
/// digits, and an authority (after `//`) whose brackets close (as ajv-formats' `uri`).
fn uri(s: &str) -> bool {
    let Some(colon) = scheme_len(s) else {
        return false;
    };
    let authority_ok = s[colon + 1..]
        .strip_prefix("//")
        .is_none_or(|rest| host_port_ok(authority(rest), false));
    uri_chars(s) && escapes_ok(s) && authority_ok
}

/// A request's URL (review round 20): `http` or `https` (or `ftp`, as ajv's `url`), `://`, a
/// host of any kind (a name with one label or more, an IPv4 or bracketed IPv6 address:
/// loopback and private ones too, where a test's webhook receiver listens), an optional
/// port, and a path, query and fragment a URI can hold.
fn web_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let Some(rest) = after_web_scheme(&lower) else {
        return false;
    };
    uri_chars(s) && escapes_ok(s) && host_port_ok(authority(rest), true)
}

/// What follows `http://`, `https://` or `ftp://` (the schemes of ajv's `url`).
fn after_web_scheme(lower: &str) -> Option<&str> {
    ["http://", "https://", "ftp://"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
}

fn uri_reference(s: &str) -> bool {
    uri_chars(s)
}

/// As ajv-formats' `url`: `http`, `https` or `ftp`, `://`, a public host (a domain whose last
/// label is at least two letters, or a public IPv4 address), an optional port, a path.
fn url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let Some(rest) = after_web_scheme(&lower) else {
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if path.chars().any(char::is_whitespace) {
        return false;
    }
    let hostport = match authority.rfind('@') {
        Some(i) => {
            if authority[..i].chars().any(char::is_whitespace) {
                return false;
            }
            &authority[i + 1..]
        }
        None => authority,
    };
    let host = match hostport.rsplit_once(':') {
        Some((h, port)) => {
            if !(2..=5).contains(&port.len()) || digits(port).is_none() {
                return false;
            }
            h
        }
        None => hostport,
    };
    if ipv4(host) {
        let o: Vec<u32> = host.split('.').filter_map(digits).collect();
        let [a, b, _, d] = o[..] else {
            return false;
        };
        let private = matches!(a, 0 | 10 | 127)
            || (a == 169 && b == 254)
            || (a == 192 && b == 168)
            || (a == 172 && (16..=31).contains(&b));
        return !private && a <= 223 && d != 0 && d != 255;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let domain_label = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && !l.contains("--")
            && l.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '-' || ('\u{a1}'..='\u{ffff}').contains(&c)
            })
    };
    let Some((tld, others)) = labels.split_last() else {
        return false;
    };
    others.iter().all(|l| domain_label(l))
        && tld.chars().count() >= 2
        && tld
            .chars()
            .all(|c| c.is_ascii_alphabetic() || ('\u{a1}'..='\u{ffff}').contains(&c))
}

fn ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            p.len() <= 3
                && digits(p).is_some_and(|n| n <= 255)
                && !(p.len() > 1 && p.starts_with('0'))
        })
}

fn ipv6(s: &str) -> bool {
    if s.is_empty() || !s.contains(':') {
        return false;
    }
    let groups: Vec<&str> = s.split("::").collect();
    if groups.len() > 2 {
        return false;
    }
    let count = |g: &str| -> Option<usize> {
        if g.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        for h in g.split(':') {
            if h.is_empty() || h.len() > 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            n += 1;
        }
        Some(n)
    };
    match groups.as_slice() {
        [one] => count(one) == Some(8),
        [a, b] => matches!((count(a), count(b)), (Some(x), Some(y)) if x + y <= 7),
        _ => false,
    }
}

fn hostname(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(label)
}

fn byte(s: &str) -> bool {
    let b = s.as_bytes();
    let rest = b.len() % 4;
    if rest != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(date("2024-02-29"));
        assert!(!date("2023-02-29"));
        assert!(!date("2024-13-01"));
        assert!(!date("2024-1-01"));
        assert!(!date("2024-01-01T00:00:00Z"));
        assert!(date_time("2024-01-15T10:30:00Z"));
        assert!(date_time("2024-01-15T10:30:00.123+02:00"));
        assert!(!date_time("2024-01-15T10:30:00"));
        assert!(!date_time("2024-01-15"));
        assert!(!date_time("2024-01-15 10:30:00Z"));
        assert!(!date_time("2024-01-15T24:00:00Z"));
        assert!(!date_time("2024-01-15T10:30:00é"));
    }

    #[test]
    fn others() {
        assert!(uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!uuid("123e4567e89b12d3a456426614174000"));
        assert!(email("user@example.com"));
        assert!(!email("user@localhost"));
        assert!(!email("us er@example.com"));
        assert!(uri("https://example.com/x?y=1"));
        assert!(uri("mailto:a@b.c"));
        assert!(!uri("example.com"));
        assert!(url("https://example.com/plaid"));
        assert!(url("https://www.plaid.com"));
        assert!(!url("https://localhost/x"));
        assert!(!url("https://10.0.0.1/x"));
        assert!(!url("plaid.com"));
        assert!(ipv6("2001:db8::1"));
        assert!(byte("cGxhaWQ="));
        assert!(!byte("cGxhaWQ"));
        assert!(check("int32", &serde_json::json!(5)));
        assert!(!check("int32", &serde_json::json!(5_000_000_000i64)));
        assert!(check("date", &serde_json::json!(5)));
    }
}
