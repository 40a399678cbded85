//! Where in a JSON document a decode error happened, as a path (`accounts[1].balances.current`).
//!
//! serde_json reports the line and column of an error but not the path. Tracking the path
//! during typed deserialization (as `serde_path_to_error` does) would instantiate every
//! response type's deserializer a second time, doubling the largest part of this crate's
//! compiled code, for a path that is only needed once decoding has already failed. Instead this
//! module walks the raw text up to the error's position, keeping a stack of the objects and
//! arrays it is in. It is not generic, so it costs the same however many types there are.

/// The path of the value at `line`/`column` (serde_json's one-based line, column of the
/// error). `object_only` drops the last key: for "missing field" errors, which serde_json
/// reports at the end of the object that lacks the field.
pub(crate) fn path_at(body: &[u8], line: usize, column: usize, object_only: bool) -> String {
    let mut offset = offset_of(body, line, column);
    if object_only {
        // Reported at the object's closing brace: stay inside the object.
        offset = offset.saturating_sub(1);
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < offset.min(body.len()) {
        match body[i] {
            b'{' => stack.push(Frame::Object {
                key: None,
                expecting_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = false;
                }
            }
            b'"' => {
                let (text, end) = read_string(body, i + 1);
                if let Some(Frame::Object {
                    key,
                    expecting_key: true,
                }) = stack.last_mut()
                {
                    // A key is text followed by `:`, named like a field. In a malformed body a
                    // value can sit where a key is expected; its text (a name, a number from
                    // the body) never becomes part of the path.
                    *key = Some(if followed_by_colon(body, end) && is_field_name(&text) {
                        text
                    } else {
                        "<key>".to_owned()
                    });
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    if object_only {
        if let Some(Frame::Object { key, .. }) = stack.last_mut() {
            *key = None;
        }
    }
    render(&stack)
}

enum Frame {
    Object {
        key: Option<String>,
        expecting_key: bool,
    },
    Array {
        index: usize,
    },
}

fn render(stack: &[Frame]) -> String {
    let mut out = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Whether the string that closes at `end` is followed (after blanks) by a `:`.
fn followed_by_colon(body: &[u8], end: usize) -> bool {
    body.get(end + 1..)
        .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()))
        == Some(&b':')
}

/// Plaid's keys: letters, digits, `_` and `-`, at most 64 of them.
fn is_field_name(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Reads a JSON string starting after its opening quote; returns its text (escapes kept as
/// written, which is enough for Plaid's keys) and the index of the closing quote.
fn read_string(body: &[u8], start: usize) -> (String, usize) {
    let mut i = start;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    let end = i.min(body.len());
    (
        String::from_utf8_lossy(&body[start.min(end)..end]).into_owned(),
        end,
    )
}

/// The byte offset just after serde_json's (line, column): columns count bytes from 1, and the
/// error is detected after reading the byte at that column.
fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    let mut current = 1;
    let mut start = 0;
    if line > 1 {
        for (i, b) in body.iter().enumerate() {
            if *b == b'\n' {
                current += 1;
                if current == line {
                    start = i + 1;
                    break;
                }
            }
        }
        if current < line {
            return body.len();
        }
    }
    (start + column).min(body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of_error<T: serde::de::DeserializeOwned>(json: &str) -> String {
        let e = serde_json::from_str::<T>(json).err().expect("an error");
        path_at(
            json.as_bytes(),
            e.line(),
            e.column(),
            e.to_string().starts_with("missing field"),
        )
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Page {
        accounts: Vec<Account>,
        request_id: String,
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Account {
        name: String,
        balances: Balances,
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Balances {
        current: f64,
        limit: Option<f64>,
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let json = r#"{"accounts":[{"name":"a","balances":{"current":1}},{"name":"b","balances":{"limit":null,"current":"x"}}],"request_id":"r"}"#;
        assert_eq!(path_of_error::<Page>(json), "accounts[1].balances.current");
    }

    #[test]
    fn missing_fields_point_at_the_object() {
        let json = "{\n  \"accounts\": [\n    {\"name\": \"a\", \"balances\": {\"limit\": 3}}\n  ],\n  \"request_id\": \"r\"\n}";
        assert_eq!(path_of_error::<Page>(json), "accounts[0].balances");
        assert_eq!(path_of_error::<Page>(r#"{"accounts":[]}"#), ".");
    }

    #[test]
    fn strings_with_brackets_and_escapes_do_not_confuse_it() {
        let json = r#"{"accounts":[{"name":"a [weird] {name}, \"quoted\"","balances":{"current":true}}],"request_id":"r"}"#;
        assert_eq!(path_of_error::<Page>(json), "accounts[0].balances.current");
    }

    #[test]
    fn multibyte_text_before_the_error() {
        let json = "{\"accounts\":[{\"name\":\"Café ✓ 日本\",\"balances\":{\"current\":[]}}],\"request_id\":\"r\"}";
        assert_eq!(path_of_error::<Page>(json), "accounts[0].balances.current");
    }

    /// A value where a key should be (a missing `:`): its text is not quoted in the path.
    #[test]
    fn a_value_in_a_keys_place_is_never_part_of_the_path() {
        for json in [
            r#"{"accounts" "Jane O'Connor 123-45-6789", "request_id": "r"}"#,
            r#"{"accounts":[{"name":"a","balances":{"Jane O'Connor 123-45-6789" 1}}]}"#,
        ] {
            let path = path_of_error::<Page>(json);
            assert!(!path.contains("Jane") && !path.contains("6789"), "{path}");
        }
        assert_eq!(
            path_of_error::<Page>(r#"{"accounts":[{"name":"a","balances":{"Jane O'Connor" 1}}]}"#),
            "accounts[0].balances.<key>"
        );
    }

    #[test]
    fn garbage_and_truncation() {
        assert_eq!(path_of_error::<Page>("<html>"), ".");
        assert_eq!(
            path_of_error::<Page>(r#"{"accounts":[{"name":"a","bal"#),
            "accounts[0].<key>",
            "a key cut off before its `:` is not quoted"
        );
        assert_eq!(path_at(b"", 1, 0, false), ".");
        assert_eq!(
            path_at(b"{}", 9, 9, false),
            ".",
            "a position past the end is the end"
        );
    }
}
