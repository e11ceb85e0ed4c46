//! The errors Go's `encoding/json` gives when kube-apiserver's decoder first reads a request
//! body for its `apiVersion` and `kind` (apimachinery's `SimpleMetaFactory.Interpret`, which
//! unmarshals into a two-field struct), worded as Go words them: clients and kubectl's own tests
//! match these messages.
//!
//! Go checks the whole body with its scanner before decoding ([`syntax_error`]), then reports
//! the first value of the wrong type ([`type_error`]). The messages are Go's; the code is ours.

use serde_json::Value;

/// Go's `maxNestingDepth`: deeper bodies are refused by the scanner.
const MAX_DEPTH: usize = 10_000;

/// The Go type the body is unmarshalled into, as `reflect.Type.String()` prints it.
const PROBE_TYPE: &str = r#"struct { APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }"#;

/// Go's message for `data` if it is not well-formed JSON (`json.SyntaxError`), else `None`.
pub fn syntax_error(data: &[u8]) -> Option<String> {
    let mut scanner = Scanner { state: State::BeginValue, stack: Vec::new(), end_top: false };
    for &c in data {
        if let Err(message) = scanner.step(c) {
            return Some(message);
        }
    }
    // At the end Go feeds one space, which completes a trailing number.
    if scanner.end_top {
        return None;
    }
    if let Err(message) = scanner.step(b' ') {
        return Some(message);
    }
    (!scanner.end_top).then(|| "unexpected end of JSON input".to_owned())
}

/// Go's message for a well-formed body whose top level is not an object, or whose `apiVersion`
/// or `kind` is not a string (`json.UnmarshalTypeError`); `None` when it decodes.
pub fn type_error(value: &Value) -> Option<String> {
    let Value::Object(map) = value else {
        return go_type_name(value)
            .map(|got| format!("json: cannot unmarshal {got} into Go value of type {PROBE_TYPE}"));
    };
    // Go matches field names case-insensitively and keeps the first error.
    map.iter().find_map(|(key, field_value)| {
        let field = ["apiVersion", "kind"].into_iter().find(|f| f.eq_ignore_ascii_case(key))?;
        let got = go_type_name(field_value).filter(|t| *t != "string")?;
        Some(format!("json: cannot unmarshal {got} into Go struct field .{field} of type string"))
    })
}

/// How Go names a JSON value in an `UnmarshalTypeError`; `None` for `null` (which decodes).
fn go_type_name(value: &Value) -> Option<&'static str> {
    match value {
        Value::Null => None,
        Value::Bool(_) => Some("bool"),
        Value::Number(_) => Some("number"),
        Value::String(_) => Some("string"),
        Value::Array(_) => Some("array"),
        Value::Object(_) => Some("object"),
    }
}

/// Where the scanner is inside a composite value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

/// The scanner's states, one per step function of Go's `encoding/json` scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    BeginValue,
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    /// Inside `\u`, with this many hex digits read.
    InStringEscU(u8),
    Neg,
    Zero,
    One,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// Inside `true`, `false` or `null`, with this many bytes read.
    Literal(&'static str, usize),
}

#[derive(Debug)]
struct Scanner {
    state: State,
    stack: Vec<Parse>,
    end_top: bool,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// `invalid character 'x' <context>`, with Go's quoting of the byte.
fn invalid(c: u8, context: &str) -> String {
    format!("invalid character {} {context}", quote_char(c))
}

/// Go's `quoteChar`: the byte as a rune (so 0x80–0xFF are U+0080–U+00FF), quoted as
/// `strconv.Quote` would, between single quotes.
fn quote_char(c: u8) -> String {
    let inner = match c {
        b'\'' => "\\'".to_owned(),
        b'"' => "\"".to_owned(),
        b'\\' => "\\\\".to_owned(),
        0x07 => "\\a".to_owned(),
        0x08 => "\\b".to_owned(),
        0x0c => "\\f".to_owned(),
        b'\n' => "\\n".to_owned(),
        b'\r' => "\\r".to_owned(),
        b'\t' => "\\t".to_owned(),
        0x0b => "\\v".to_owned(),
        0x00..=0x1f | 0x7f => format!("\\x{c:02x}"),
        // C1 controls, no-break space and soft hyphen are not printable in Go.
        0x80..=0xa0 | 0xad => format!("\\u{:04x}", c),
        _ => char::from(c).to_string(),
    };
    format!("'{inner}'")
}

impl Scanner {
    fn push(&mut self, parse: Parse, next: State) -> Result<(), String> {
        self.stack.push(parse);
        if self.stack.len() > MAX_DEPTH {
            return Err("exceeded max depth".to_owned());
        }
        self.state = next;
        Ok(())
    }

    fn replace_top(&mut self, parse: Parse) {
        if let Some(top) = self.stack.last_mut() {
            *top = parse;
        }
    }

    fn pop(&mut self) {
        self.stack.pop();
        if self.stack.is_empty() {
            self.state = State::EndTop;
            self.end_top = true;
        } else {
            self.state = State::EndValue;
        }
    }

    fn step(&mut self, c: u8) -> Result<(), String> {
        match self.state {
            State::BeginValueOrEmpty if is_space(c) => Ok(()),
            State::BeginValueOrEmpty if c == b']' => self.end_value(c),
            State::BeginValueOrEmpty | State::BeginValue => self.begin_value(c),
            State::BeginStringOrEmpty if is_space(c) => Ok(()),
            State::BeginStringOrEmpty if c == b'}' => {
                self.replace_top(Parse::ObjectValue);
                self.end_value(c)
            }
            State::BeginStringOrEmpty | State::BeginString => self.begin_string(c),
            State::EndValue => self.end_value(c),
            State::EndTop if is_space(c) => Ok(()),
            State::EndTop => Err(invalid(c, "after top-level value")),
            State::InString => {
                match c {
                    b'"' => self.state = State::EndValue,
                    b'\\' => self.state = State::InStringEsc,
                    0x00..=0x1f => return Err(invalid(c, "in string literal")),
                    _ => {}
                }
                Ok(())
            }
            State::InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {
                    self.state = State::InString;
                    Ok(())
                }
                b'u' => {
                    self.state = State::InStringEscU(0);
                    Ok(())
                }
                _ => Err(invalid(c, "in string escape code")),
            },
            State::InStringEscU(read) if c.is_ascii_hexdigit() => {
                self.state =
                    if read == 3 { State::InString } else { State::InStringEscU(read + 1) };
                Ok(())
            }
            State::InStringEscU(_) => Err(invalid(c, "in \\u hexadecimal character escape")),
            State::Neg => match c {
                b'0' => {
                    self.state = State::Zero;
                    Ok(())
                }
                b'1'..=b'9' => {
                    self.state = State::One;
                    Ok(())
                }
                _ => Err(invalid(c, "in numeric literal")),
            },
            State::One if c.is_ascii_digit() => Ok(()),
            State::One | State::Zero => match c {
                b'.' => {
                    self.state = State::Dot;
                    Ok(())
                }
                b'e' | b'E' => {
                    self.state = State::E;
                    Ok(())
                }
                _ => self.end_value(c),
            },
            State::Dot if c.is_ascii_digit() => {
                self.state = State::Dot0;
                Ok(())
            }
            State::Dot => Err(invalid(c, "after decimal point in numeric literal")),
            State::Dot0 if c.is_ascii_digit() => Ok(()),
            State::Dot0 if c == b'e' || c == b'E' => {
                self.state = State::E;
                Ok(())
            }
            State::Dot0 | State::E0 if !c.is_ascii_digit() => self.end_value(c),
            State::Dot0 | State::E0 => Ok(()),
            State::E if c == b'+' || c == b'-' => {
                self.state = State::ESign;
                Ok(())
            }
            State::E | State::ESign if c.is_ascii_digit() => {
                self.state = State::E0;
                Ok(())
            }
            State::E | State::ESign => Err(invalid(c, "in exponent of numeric literal")),
            State::Literal(word, read) => {
                let expected = word.as_bytes()[read];
                if c != expected {
                    return Err(invalid(
                        c,
                        &format!("in literal {word} (expecting {})", quote_char(expected)),
                    ));
                }
                self.state = if read + 1 == word.len() {
                    State::EndValue
                } else {
                    State::Literal(word, read + 1)
                };
                Ok(())
            }
        }
    }

    fn begin_value(&mut self, c: u8) -> Result<(), String> {
        self.state = match c {
            _ if is_space(c) => return Ok(()),
            b'{' => return self.push(Parse::ObjectKey, State::BeginStringOrEmpty),
            b'[' => return self.push(Parse::ArrayValue, State::BeginValueOrEmpty),
            b'"' => State::InString,
            b'-' => State::Neg,
            b'0' => State::Zero,
            b'1'..=b'9' => State::One,
            b't' => State::Literal("true", 1),
            b'f' => State::Literal("false", 1),
            b'n' => State::Literal("null", 1),
            _ => return Err(invalid(c, "looking for beginning of value")),
        };
        Ok(())
    }

    fn begin_string(&mut self, c: u8) -> Result<(), String> {
        match c {
            _ if is_space(c) => Ok(()),
            b'"' => {
                self.state = State::InString;
                Ok(())
            }
            _ => Err(invalid(c, "looking for beginning of object key string")),
        }
    }

    fn end_value(&mut self, c: u8) -> Result<(), String> {
        let Some(&top) = self.stack.last() else {
            self.state = State::EndTop;
            self.end_top = true;
            return self.step(c);
        };
        if is_space(c) {
            self.state = State::EndValue;
            return Ok(());
        }
        match (top, c) {
            (Parse::ObjectKey, b':') => {
                self.replace_top(Parse::ObjectValue);
                self.state = State::BeginValue;
            }
            (Parse::ObjectKey, _) => return Err(invalid(c, "after object key")),
            (Parse::ObjectValue, b',') => {
                self.replace_top(Parse::ObjectKey);
                self.state = State::BeginString;
            }
            (Parse::ObjectValue, b'}') | (Parse::ArrayValue, b']') => self.pop(),
            (Parse::ObjectValue, _) => return Err(invalid(c, "after object key:value pair")),
            (Parse::ArrayValue, b',') => self.state = State::BeginValue,
            (Parse::ArrayValue, _) => return Err(invalid(c, "after array element")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(data: &str) -> String {
        syntax_error(data.as_bytes()).unwrap_or_else(|| panic!("{data:?} is valid"))
    }

    #[test]
    fn well_formed_documents_pass() {
        for ok in [
            "{}",
            " [ ] ",
            r#"{"a": [1, -0.5e+3, 2E7, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"], "b": {}}"#,
            "0",
            "12",
            "-1.0",
            "\"s\"",
            "\n{\"k\":\"v\"}\n",
        ] {
            assert_eq!(syntax_error(ok.as_bytes()), None, "{ok}");
        }
    }

    /// Messages as Go 1.2x's `json.Unmarshal` gives them.
    #[test]
    fn malformed_documents_get_gos_messages() {
        assert_eq!(err(""), "unexpected end of JSON input");
        assert_eq!(err("{"), "unexpected end of JSON input");
        assert_eq!(err(r#"{"a":"#), "unexpected end of JSON input");
        assert_eq!(
            err("{not json"),
            "invalid character 'n' looking for beginning of object key string"
        );
        assert_eq!(err("{]"), "invalid character ']' looking for beginning of object key string");
        assert_eq!(err("apiVersion: v1"), "invalid character 'a' looking for beginning of value");
        assert_eq!(err(r#"{"a" 1}"#), "invalid character '1' after object key");
        assert_eq!(err(r#"{"a":1 "b":2}"#), "invalid character '\"' after object key:value pair");
        assert_eq!(err("[1 2]"), "invalid character '2' after array element");
        assert_eq!(err("{} x"), "invalid character 'x' after top-level value");
        assert_eq!(err("[1,]"), "invalid character ']' looking for beginning of value");
        assert_eq!(err("\"a\tb\""), "invalid character '\\t' in string literal");
        assert_eq!(err(r#""\q""#), "invalid character 'q' in string escape code");
        assert_eq!(err(r#""\u12g4""#), "invalid character 'g' in \\u hexadecimal character escape");
        assert_eq!(err("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(err("1.x"), "invalid character 'x' after decimal point in numeric literal");
        assert_eq!(err("1."), "invalid character ' ' after decimal point in numeric literal");
        assert_eq!(err("1ex"), "invalid character 'x' in exponent of numeric literal");
        assert_eq!(err("01"), "invalid character '1' after top-level value");
        // At the end Go steps one space, which a literal or a sign cannot take.
        assert_eq!(err("tru"), "invalid character ' ' in literal true (expecting 'e')");
        assert_eq!(err("-"), "invalid character ' ' in numeric literal");
        assert_eq!(err("\"abc"), "unexpected end of JSON input");
        assert_eq!(err("trux"), "invalid character 'x' in literal true (expecting 'e')");
        assert_eq!(err("nil"), "invalid character 'i' in literal null (expecting 'u')");
        assert_eq!(
            err("{'a': 1}"),
            "invalid character '\\'' looking for beginning of object key string"
        );
        assert_eq!(err("\u{1}"), "invalid character '\\x01' looking for beginning of value");
        assert_eq!(err("\u{e9}"), "invalid character 'Ã' looking for beginning of value");
        assert_eq!(err(&"[".repeat(10_001)), "exceeded max depth");
    }

    #[test]
    fn type_errors_name_the_value_and_the_field() {
        let probe = r#"struct { APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }"#;
        assert_eq!(
            type_error(&json!([1])).unwrap(),
            format!("json: cannot unmarshal array into Go value of type {probe}")
        );
        assert_eq!(
            type_error(&json!("x")).unwrap(),
            format!("json: cannot unmarshal string into Go value of type {probe}")
        );
        assert_eq!(
            type_error(&json!({"kind": 5})).unwrap(),
            "json: cannot unmarshal number into Go struct field .kind of type string"
        );
        assert_eq!(
            type_error(&json!({"APIVERSION": {}})).unwrap(),
            "json: cannot unmarshal object into Go struct field .apiVersion of type string"
        );
        assert_eq!(type_error(&json!({"kind": "Pod", "apiVersion": null, "x": 1})), None);
        assert_eq!(type_error(&json!(null)), None);
    }
}
