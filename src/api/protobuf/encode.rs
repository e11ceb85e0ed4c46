//! An object's JSON → its protobuf message, walking the type's schema ([`crate::schema`]).
//!
//! What gogo-protobuf (kube's marshaller) writes, field by field: fields in field-number order,
//! map entries sorted by key, repeated scalars unpacked (`packed = false`), Go-inlined structs
//! as the nested message of their field number, and apimachinery's hand-marshalled types (`Time`,
//! `IntOrString`, `Quantity`, `RawExtension`, …) in their own formats. A field absent from the
//! JSON is not written: for a pointer that is Go's `nil`; for a value field Go would write its
//! zero, which a decoder reads the same as an absent field, so the two encodings decode alike.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::wire::{begin, end, put_bytes_field, put_key, put_varint_field};
use crate::schema::{self, DefId, Field, Scalar, Schemas, Shape, Ty, Wire};

/// Nesting deeper than this is refused (a stored object never comes close).
const MAX_DEPTH: usize = 64;

/// Why an object could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("objects nested too deeply to encode")]
    TooDeep,
    #[error("{value:?} is not a valid {what}")]
    Invalid { what: &'static str, value: String },
}

/// Appends the message of definition `id` for `object`.
pub fn message(
    buf: &mut Vec<u8>,
    id: DefId,
    object: &Map<String, Value>,
    depth: usize,
) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::TooDeep);
    }
    for field in by_number(id) {
        let Some(number) = field.number else { continue };
        if field.json.is_empty() {
            // A Go-inlined struct: its fields are the parent's in JSON, a message of their own
            // in protobuf, written whether or not any is set (a Go value field).
            let Some(inner) = schema::element(&field.ty) else { continue };
            let start = begin(buf, number);
            message(buf, inner, object, depth + 1)?;
            end(buf, start);
            continue;
        }
        let Some(value) = object.get(field.json) else { continue };
        if field.wrapped && matches!(field.ty, Ty::Array(_)) {
            // Go's named slice (`Verbs`): one message holding the list as its field 1.
            if !value.is_null() {
                let start = begin(buf, number);
                put_field(buf, 1, &field.ty, value, depth + 1)?;
                end(buf, start);
            }
            continue;
        }
        put_field(buf, number, &field.ty, value, depth)?;
    }
    Ok(())
}

/// A definition's fields in field-number order, computed once for every definition.
pub(super) fn by_number(id: DefId) -> &'static [&'static Field] {
    static ORDER: OnceLock<Vec<Vec<&'static Field>>> = OnceLock::new();
    let order = ORDER.get_or_init(|| {
        schemas()
            .iter()
            .map(|(_, definition)| {
                let mut fields: Vec<&'static Field> =
                    definition.fields().iter().filter(|f| f.number.is_some()).collect();
                fields.sort_by_key(|f| f.number);
                fields
            })
            .collect()
    });
    order.get(usize::from(id.0)).map_or(&[], Vec::as_slice)
}

fn schemas() -> &'static Schemas {
    schema::builtin()
}

/// One field: every item of a list, every entry of a map (sorted by key), or one value.
fn put_field(
    buf: &mut Vec<u8>,
    number: u32,
    ty: &Ty,
    value: &Value,
    depth: usize,
) -> Result<(), EncodeError> {
    match (ty, value) {
        (_, Value::Null) => {}
        (Ty::Array(item), Value::Array(items)) => {
            for value in items {
                put_one(buf, number, item, value, depth)?;
            }
        }
        (Ty::Map(item), Value::Object(entries)) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort_unstable();
            for key in keys {
                let start = begin(buf, number);
                put_bytes_field(buf, 1, key.as_bytes());
                put_one(buf, 2, item, &entries[key.as_str()], depth)?;
                end(buf, start);
            }
        }
        // A value of the wrong JSON type (never stored by the server): left out.
        (Ty::Array(_) | Ty::Map(_), _) => {}
        (ty, value) => put_one(buf, number, ty, value, depth)?,
    }
    Ok(())
}

/// One value of a field. A list of lists or a map of lists is, in kube's protobuf, a message
/// whose field 1 holds the inner list (`ExtraValue`, `StringArray`).
fn put_one(
    buf: &mut Vec<u8>,
    number: u32,
    ty: &Ty,
    value: &Value,
    depth: usize,
) -> Result<(), EncodeError> {
    match ty {
        Ty::Scalar(scalar) => put_scalar(buf, number, *scalar, value),
        Ty::Array(_) | Ty::Map(_) => {
            let start = begin(buf, number);
            put_field(buf, 1, ty, value, depth + 1)?;
            end(buf, start);
            Ok(())
        }
        Ty::Ref(id) => put_ref(buf, number, *id, value, depth),
    }
}

fn put_scalar(
    buf: &mut Vec<u8>,
    number: u32,
    scalar: Scalar,
    value: &Value,
) -> Result<(), EncodeError> {
    match scalar {
        Scalar::String => match value {
            Value::String(text) => put_bytes_field(buf, number, text.as_bytes()),
            Value::Null => {}
            other => put_bytes_field(buf, number, other.to_string().as_bytes()),
        },
        Scalar::Bytes => {
            let Some(text) = value.as_str() else { return Ok(()) };
            let bytes = STANDARD
                .decode(text)
                .map_err(|_| EncodeError::Invalid { what: "base64 value", value: text.into() })?;
            put_bytes_field(buf, number, &bytes);
        }
        Scalar::Int32 => {
            if let Some(n) = integer(value) {
                put_varint_field(buf, number, i64::from(n as i32) as u64);
            }
        }
        Scalar::Int64 => {
            if let Some(n) = integer(value) {
                put_varint_field(buf, number, n as u64);
            }
        }
        Scalar::Double => {
            if let Some(x) = value.as_f64() {
                put_key(buf, number, 1);
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
        Scalar::Bool => {
            if let Some(b) = value.as_bool() {
                put_varint_field(buf, number, u64::from(b));
            }
        }
    }
    Ok(())
}

fn integer(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_u64().map(|n| n as i64))
        .or_else(|| value.as_f64().filter(|x| x.fract() == 0.0).map(|x| x as i64))
}

fn put_ref(
    buf: &mut Vec<u8>,
    number: u32,
    id: DefId,
    value: &Value,
    depth: usize,
) -> Result<(), EncodeError> {
    match schemas().get(id).shape {
        Shape::Object(_) => {
            let Value::Object(object) = value else { return Ok(()) };
            let start = begin(buf, number);
            message(buf, id, object, depth + 1)?;
            end(buf, start);
        }
        Shape::Wire(wire) => put_wire(buf, number, wire, value, depth)?,
        // Anything goes: kept as JSON, as a RawExtension keeps it.
        Shape::Opaque => put_raw_json(buf, number, value),
    }
    Ok(())
}

/// apimachinery's hand-marshalled types.
fn put_wire(
    buf: &mut Vec<u8>,
    number: u32,
    wire: Wire,
    value: &Value,
    depth: usize,
) -> Result<(), EncodeError> {
    match wire {
        Wire::Time | Wire::MicroTime => {
            let Some(text) = value.as_str() else { return Ok(()) };
            let (seconds, nanos) = parse_rfc3339(text).ok_or_else(|| EncodeError::Invalid {
                what: "RFC 3339 time",
                value: text.into(),
            })?;
            // `Time` keeps whole seconds on the wire (kube leaves its nanos at 0); `MicroTime`
            // microseconds.
            let nanos = if wire == Wire::MicroTime { nanos / 1000 * 1000 } else { 0 };
            let start = begin(buf, number);
            put_varint_field(buf, 1, seconds as u64);
            put_varint_field(buf, 2, i64::from(nanos) as u64);
            end(buf, start);
        }
        Wire::Duration => {
            let Some(text) = value.as_str() else { return Ok(()) };
            let nanos = parse_go_duration(text)
                .ok_or_else(|| EncodeError::Invalid { what: "duration", value: text.into() })?;
            let start = begin(buf, number);
            put_varint_field(buf, 1, nanos as u64);
            end(buf, start);
        }
        Wire::IntOrString => {
            let start = begin(buf, number);
            match value {
                Value::String(text) => {
                    put_varint_field(buf, 1, 1);
                    put_varint_field(buf, 2, 0);
                    put_bytes_field(buf, 3, text.as_bytes());
                }
                other => {
                    let n = integer(other).unwrap_or_default();
                    put_varint_field(buf, 1, 0);
                    put_varint_field(buf, 2, i64::from(n as i32) as u64);
                    put_bytes_field(buf, 3, b"");
                }
            }
            end(buf, start);
        }
        Wire::Quantity => {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let start = begin(buf, number);
            put_bytes_field(buf, 1, text.as_bytes());
            end(buf, start);
        }
        Wire::RawExtension | Wire::FieldsV1 | Wire::Json => put_raw_json(buf, number, value),
        Wire::JsonSchemaPropsOrArray => {
            let start = begin(buf, number);
            match value {
                Value::Array(schemas) => {
                    for schema in schemas {
                        put_json_schema_props(buf, 2, schema, depth)?;
                    }
                }
                schema => put_json_schema_props(buf, 1, schema, depth)?,
            }
            end(buf, start);
        }
        Wire::JsonSchemaPropsOrBool => {
            let start = begin(buf, number);
            match value {
                Value::Bool(allows) => put_varint_field(buf, 1, u64::from(*allows)),
                schema => {
                    put_varint_field(buf, 1, 1);
                    put_json_schema_props(buf, 2, schema, depth)?;
                }
            }
            end(buf, start);
        }
        Wire::JsonSchemaPropsOrStringArray => {
            let start = begin(buf, number);
            match value {
                Value::Array(items) => {
                    for item in items {
                        put_scalar(buf, 2, Scalar::String, item)?;
                    }
                }
                schema => put_json_schema_props(buf, 1, schema, depth)?,
            }
            end(buf, start);
        }
    }
    Ok(())
}

pub(super) const JSON_SCHEMA_PROPS: &str =
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

fn put_json_schema_props(
    buf: &mut Vec<u8>,
    number: u32,
    value: &Value,
    depth: usize,
) -> Result<(), EncodeError> {
    match schemas().by_name(JSON_SCHEMA_PROPS) {
        Some(id) => put_ref(buf, number, id, value, depth + 1),
        None => Ok(()),
    }
}

/// `{raw = 1}` holding the value's JSON.
fn put_raw_json(buf: &mut Vec<u8>, number: u32, value: &Value) {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let start = begin(buf, number);
    put_bytes_field(buf, 1, &json);
    end(buf, start);
}

/// RFC 3339 (`2024-01-02T03:04:05Z`, a fraction and an offset allowed) → Unix seconds and
/// nanoseconds.
pub(super) fn parse_rfc3339(text: &str) -> Option<(i64, i32)> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let kept = &fraction[..len.min(9)];
        nanos = kept.parse::<i64>().ok()? * 10i64.pow(9 - kept.len() as u32);
        rest = &fraction[len..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (h, m): (i64, i64) = (rest[1..3].parse().ok()?, rest[4..6].parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some((seconds, nanos as i32))
}

/// A Go duration string (`1h2m3.5s`, `300ms`, `-1m`) → nanoseconds, as `time.ParseDuration`.
pub(super) fn parse_go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let len = rest.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
        if len == 0 {
            return None;
        }
        let number: f64 = rest[..len].parse().ok()?;
        rest = &rest[len..];
        let unit_len = rest.bytes().take_while(|c| !c.is_ascii_digit() && *c != b'.').count();
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    let nanos = total.round() as i64;
    Some(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_go_parses_them() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_rfc3339("2024-01-02T03:04:05Z"), Some((1_704_164_645, 0)));
        assert_eq!(
            parse_rfc3339("2024-01-02T03:04:05.123456Z"),
            Some((1_704_164_645, 123_456_000))
        );
        assert_eq!(parse_rfc3339("2024-01-02T05:04:05+02:00"), Some((1_704_164_645, 0)));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some((-1, 0)));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some((951_782_400, 0)));
        for bad in ["", "2024-01-02", "2024-13-02T03:04:05Z", "2024-01-02T03:04:05", "x"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_parse_as_go_parses_them() {
        assert_eq!(parse_go_duration("0s"), Some(0));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("1h0m0s"), Some(3_600_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration("-300ms"), Some(-300_000_000));
        assert_eq!(parse_go_duration("2m3s"), Some(123_000_000_000));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("1d"), None);
    }
}
