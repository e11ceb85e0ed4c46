//! JSON text as Go's `encoding/json` writes it, where kube's bytes are compared or sorted by
//! clients: `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`…, and a decoded object
//! (`map[string]interface{}`) written with its keys sorted. Used for FieldsV1 keys, the
//! identifiers `managedFields` entries sort by, kubectl's last-applied annotation and the
//! admission webhook audit annotations.

use std::fmt::Write;

use serde_json::Value;

/// `s` as a quoted JSON string, Go's escapes included.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(s, &mut out);
    out
}

/// Appends `s` as a quoted JSON string, Go's escapes included.
pub fn write_string(s: &str, out: &mut String) {
    escape_html_into(&serde_json::to_string(s).unwrap_or_default(), out);
}

/// `value` compact, every object's keys sorted, as Go writes a decoded JSON value.
pub fn sorted(value: &Value) -> String {
    let mut out = String::new();
    write_sorted(value, &mut out);
    out
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_sorted(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

/// `value` compact in its own key order (a Go struct's field order), Go's escapes included.
pub fn in_order(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    escape_html_into(&text, &mut out);
    out
}

/// Copies JSON text, escaping the characters Go escapes. They occur only inside strings in JSON
/// text, so replacing them everywhere is exact.
fn escape_html_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn writes_go_escapes_and_sorts_decoded_objects() {
        assert_eq!(string("a<b>&c\u{2028}"), r#""a\u003cb\u003e\u0026c\u2028""#);
        assert_eq!(
            sorted(&json!({"b": [1, "<"], "a": {"z": null, "y": true}})),
            r#"{"a":{"y":true,"z":null},"b":[1,"\u003c"]}"#
        );
        assert_eq!(in_order(&json!({"b": "&", "a": 1})), r#"{"b":"\u0026","a":1}"#);
    }
}
