//! A protobuf message → the JSON kube's own encoding of the same object would give, walking the
//! type's schema ([`crate::schema`]).
//!
//! How a field shows in JSON ([`Card`]) follows the Go types: Go clients write every value field,
//! zero or not, and a pointer only when set; kube's JSON then leaves out zero values of
//! `omitempty` value fields ([`ZeroRule::Omit`]) but shows set pointers (`replicas: 0`) and
//! fields without `omitempty` ([`ZeroRule::Keep`]). Structs always show; lists and maps show
//! when they have entries. A field number the schema does not know (a newer client's field) is
//! skipped, as kube's decoder skips it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::wire::{Reader, Wire as W};
use super::{MAX_DEPTH, ProtobufError, decode_at, lossy};
use crate::schema::{self, DefId, Field, Scalar, Shape, Ty, Wire, ZeroRule};

const TIME: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
const DURATION: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Duration";
const INT_OR_STRING: &str = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "k8s.io.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION: &str = "k8s.io.apimachinery.pkg.runtime.RawExtension";
const FIELDS_V1: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1";
const JSON: &str = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON";
const OR_ARRAY: &str =
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray";
const OR_BOOL: &str =
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool";
const OR_STRINGS: &str =
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray";
const MAP_ENTRY: &str = "map entry";
const LIST_WRAPPER: &str = "list wrapper";

/// How a field shows up in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    /// A non-pointer `omitempty` scalar: left out when zero (`""`, `0`, `false`).
    Omit,
    /// A pointer, struct or non-`omitempty` field: shown whenever it is on the wire.
    Keep,
    /// A list or a map: a JSON array or object; left out when it has no entries.
    Rep,
    /// An embedded Go struct (`json:",inline"`): its fields are the enclosing object's.
    Inline,
}

fn card(field: &Field) -> Card {
    if field.json.is_empty() {
        return Card::Inline;
    }
    match (field.ty, field.zero) {
        (Ty::Array(_) | Ty::Map(_), _) => Card::Rep,
        (Ty::Ref(_), _) | (Ty::Scalar(_), ZeroRule::Keep) => Card::Keep,
        (Ty::Scalar(_), ZeroRule::Omit) => Card::Omit,
    }
}

/// The proto name of a definition, for error messages.
fn proto_name(id: DefId) -> &'static str {
    let definition = schema::builtin().get(id);
    definition.proto.unwrap_or(definition.name)
}

/// The field numbered `number` of definition `id`.
fn field(id: DefId, number: u32) -> Option<&'static Field> {
    let fields = super::encode::by_number(id);
    let index = fields.binary_search_by_key(&Some(number), |field| field.number).ok()?;
    fields.get(index).copied()
}

/// Decodes the message of definition `id`.
pub(super) fn message(
    id: DefId,
    buf: &[u8],
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::malformed("objects nested too deeply"));
    }
    let mut object = Map::new();
    let mut reader = Reader::new(buf);
    while let Some((number, wire)) = reader.next_field().map_err(ProtobufError::malformed)? {
        let Some(field) = field(id, number) else { continue };
        decode_field(id, field, number, wire, &mut object, depth)?;
    }
    Ok(object)
}

fn decode_field(
    id: DefId,
    field: &'static Field,
    number: u32,
    wire: W<'_>,
    object: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), ProtobufError> {
    let name = field.json;
    match card(field) {
        Card::Inline => {
            let (Some(inner), W::Bytes(bytes)) = (schema::element(&field.ty), wire) else {
                return Err(wire_mismatch(proto_name(id), number, wire));
            };
            for (key, value) in message(inner, bytes, depth + 1)? {
                set(object, key, value);
            }
        }
        Card::Rep if field.wrapped && matches!(field.ty, Ty::Array(_)) => {
            // Go's named slice (`Verbs`): one message holding the list as its field 1.
            let W::Bytes(bytes) = wire else {
                return Err(wire_mismatch(proto_name(id), number, wire));
            };
            let mut reader = Reader::new(bytes);
            while let Some((inner, wire)) = reader.next_field().map_err(ProtobufError::malformed)? {
                if inner != 1 {
                    return Err(unsupported(LIST_WRAPPER, inner));
                }
                repeated(&field.ty, wire, name, object, depth).map_err(|err| match err {
                    ValueError::Wire(wire) => wire_mismatch(LIST_WRAPPER, 1, wire),
                    ValueError::Other(err) => err,
                })?;
            }
        }
        Card::Rep => {
            repeated(&field.ty, wire, name, object, depth).map_err(|err| match err {
                ValueError::Wire(wire) => wire_mismatch(proto_name(id), number, wire),
                ValueError::Other(err) => err,
            })?;
        }
        card @ (Card::Omit | Card::Keep) => {
            let (value, zero) = value(&field.ty, wire, depth)
                .map_err(|err| match err {
                    ValueError::Wire(wire) => wire_mismatch(proto_name(id), number, wire),
                    ValueError::Other(err) => err,
                })
                .map_err(|err| err.within(name, None))?;
            match value {
                Some(value) if !(zero && card == Card::Omit) => {
                    // A message field seen twice is merged, as protobuf does.
                    match (object.get_mut(name), value) {
                        (Some(Value::Object(old)), Value::Object(new))
                            if matches!(field.ty, Ty::Ref(_)) =>
                        {
                            merge(old, new)
                        }
                        (_, value) => {
                            object.insert(name.to_owned(), value);
                        }
                    }
                }
                _ => {
                    // Last one wins: a later zero or empty value clears an earlier one.
                    object.shift_remove(name);
                }
            }
        }
    }
    Ok(())
}

/// One occurrence of a list or map field, added to `object[name]`.
fn repeated<'a>(
    ty: &Ty,
    wire: W<'a>,
    name: &str,
    object: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), ValueError<'a>> {
    match ty {
        Ty::Map(value_type) => {
            let W::Bytes(entry) = wire else { return Err(ValueError::Wire(wire)) };
            let (key, value) =
                map_entry(value_type, entry, depth).map_err(|err| err.within(name, None))?;
            let map = object.entry(name).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = map {
                map.insert(key, value);
            }
        }
        Ty::Array(item) => {
            let list = object.entry(name).or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = list else { return Ok(()) };
            match (item, wire) {
                // Scalars may come packed: one length-delimited run of values.
                (Ty::Scalar(Scalar::Int32 | Scalar::Int64 | Scalar::Bool), W::Bytes(packed)) => {
                    let mut reader = Reader::new(packed);
                    while !reader.is_empty() {
                        let v = reader.varint().map_err(ProtobufError::malformed)?;
                        let (value, _) = value(item, W::Varint(v), depth)?;
                        list.push(value.unwrap_or(Value::Null));
                    }
                }
                (Ty::Scalar(Scalar::Double), W::Bytes(packed)) => {
                    for chunk in packed.chunks(8) {
                        let bytes: [u8; 8] = chunk
                            .try_into()
                            .map_err(|_| ProtobufError::malformed("truncated packed doubles"))?;
                        let (value, _) = value(item, W::Fixed64(u64::from_le_bytes(bytes)), depth)?;
                        list.push(value.unwrap_or(Value::Null));
                    }
                }
                (item, wire) => {
                    let index = list.len();
                    let (value, _) = value(item, wire, depth).map_err(|err| match err {
                        ValueError::Other(err) => ValueError::Other(err.within(name, Some(index))),
                        wire => wire,
                    })?;
                    list.push(value.unwrap_or(Value::Null));
                }
            }
        }
        _ => return Err(ProtobufError::malformed("a list field that is not a list").into()),
    }
    Ok(())
}

fn set(object: &mut Map<String, Value>, key: String, value: Value) {
    match (object.get_mut(&key), value) {
        (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
        (_, value) => {
            object.insert(key, value);
        }
    }
}

/// Protobuf's merge of a message seen twice: fields of the later one win, repeated fields
/// concatenate, nested messages merge.
fn merge(old: &mut Map<String, Value>, new: Map<String, Value>) {
    for (key, value) in new {
        match (old.get_mut(&key), value) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
            (_, value) => {
                old.insert(key, value);
            }
        }
    }
}

enum ValueError<'a> {
    /// The wire type does not fit the field's type.
    Wire(W<'a>),
    Other(ProtobufError),
}

impl From<ProtobufError> for ValueError<'_> {
    fn from(err: ProtobufError) -> Self {
        ValueError::Other(err)
    }
}

fn wire_mismatch(message: &str, number: u32, wire: W<'_>) -> ProtobufError {
    ProtobufError::malformed(format!(
        "field {number} of message {message} has the wrong wire type ({})",
        wire.kind()
    ))
}

fn unsupported(message: &'static str, number: u32) -> ProtobufError {
    ProtobufError::UnsupportedField { message, number, path: String::new() }
}

/// One value: `(None, _)` for a value kube shows as `null` (an empty `Time`), and whether the
/// value is its type's zero.
fn value<'a>(ty: &Ty, wire: W<'a>, depth: usize) -> Result<(Option<Value>, bool), ValueError<'a>> {
    let rendered = match (ty, wire) {
        (Ty::Scalar(Scalar::String), W::Bytes(bytes)) => {
            (Value::String(lossy(bytes)), bytes.is_empty())
        }
        // int32 is sign-extended to 64 bits on the wire; Go keeps the low 32.
        (Ty::Scalar(Scalar::Int32), W::Varint(v)) => (Value::from(v as i32), v as i32 == 0),
        (Ty::Scalar(Scalar::Int64), W::Varint(v)) => (Value::from(v as i64), v == 0),
        (Ty::Scalar(Scalar::Bool), W::Varint(v)) => (Value::Bool(v != 0), v == 0),
        (Ty::Scalar(Scalar::Double), W::Fixed64(bits)) => {
            let x = f64::from_bits(bits);
            (float(x), x == 0.0)
        }
        (Ty::Scalar(Scalar::Bytes), W::Bytes(bytes)) => {
            (Value::String(STANDARD.encode(bytes)), bytes.is_empty())
        }
        // A list of lists, or a map of lists: a message whose field 1 is the inner list.
        (Ty::Array(_) | Ty::Map(_), W::Bytes(bytes)) => {
            let mut wrapper = Map::new();
            let mut reader = Reader::new(bytes);
            while let Some((number, wire)) =
                reader.next_field().map_err(ProtobufError::malformed)?
            {
                if number != 1 {
                    return Err(unsupported(LIST_WRAPPER, number).into());
                }
                repeated(ty, wire, "items", &mut wrapper, depth + 1)?;
            }
            let inner = wrapper.shift_remove("items").unwrap_or_else(|| match ty {
                Ty::Map(_) => Value::Object(Map::new()),
                _ => Value::Array(Vec::new()),
            });
            (inner, false)
        }
        (Ty::Ref(id), W::Bytes(bytes)) => return reference(*id, bytes, depth),
        (_, wire) => return Err(ValueError::Wire(wire)),
    };
    Ok((Some(rendered.0), rendered.1))
}

/// A JSON number as Go prints a float64: integral values without a fraction.
fn float(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

fn reference<'a>(
    id: DefId,
    bytes: &'a [u8],
    depth: usize,
) -> Result<(Option<Value>, bool), ValueError<'a>> {
    let shape = schema::builtin().get(id).shape;
    Ok(match shape {
        Shape::Object(_) => {
            let object = message(id, bytes, depth + 1)?;
            let empty = object.is_empty();
            (Some(Value::Object(object)), empty)
        }
        Shape::Opaque => (raw_json(RAW_EXTENSION, bytes, depth)?, false),
        Shape::Wire(wire) => (special(wire, bytes, depth)?, false),
    })
}

/// apimachinery's hand-marshalled types.
fn special(wire: Wire, bytes: &[u8], depth: usize) -> Result<Option<Value>, ProtobufError> {
    Ok(match wire {
        Wire::Time => time(bytes, false)?,
        Wire::MicroTime => time(bytes, true)?,
        Wire::Duration => {
            let [nanos] = small_message(DURATION, bytes, [true])?;
            let nanos = match nanos {
                Some(W::Varint(v)) => v as i64,
                _ => 0,
            };
            Some(Value::String(go_duration(nanos)))
        }
        Wire::IntOrString => Some(int_or_string(bytes)?),
        Wire::Quantity => Some(quantity(bytes)?),
        Wire::RawExtension => raw_json(RAW_EXTENSION, bytes, depth)?,
        Wire::FieldsV1 => raw_json(FIELDS_V1, bytes, depth)?,
        Wire::Json => raw_json(JSON, bytes, depth)?,
        Wire::JsonSchemaPropsOrArray => {
            let (schema, list) = schema_or(OR_ARRAY, bytes, depth, 1, 2)?;
            if list.is_empty() { schema } else { Some(Value::Array(list)) }
        }
        Wire::JsonSchemaPropsOrBool => {
            let mut allows = false;
            let mut schema = None;
            let mut reader = Reader::new(bytes);
            while let Some((number, wire)) =
                reader.next_field().map_err(ProtobufError::malformed)?
            {
                match (number, wire) {
                    (1, W::Varint(v)) => allows = v != 0,
                    (2, W::Bytes(bytes)) => schema = json_schema_props(bytes, depth)?,
                    (1 | 2, wire) => return Err(wire_mismatch(OR_BOOL, number, wire)),
                    _ => return Err(unsupported(OR_BOOL, number)),
                }
            }
            Some(schema.unwrap_or(Value::Bool(allows)))
        }
        Wire::JsonSchemaPropsOrStringArray => {
            let (schema, list) = schema_or(OR_STRINGS, bytes, depth, 1, 2)?;
            if list.is_empty() { schema } else { Some(Value::Array(list)) }
        }
    })
}

/// A `JSONSchemaPropsOr…`: the schema of field `one`, and the list of field `many` (schemas for
/// `OrArray`, strings for `OrStringArray`).
fn schema_or(
    name: &'static str,
    bytes: &[u8],
    depth: usize,
    one: u32,
    many: u32,
) -> Result<(Option<Value>, Vec<Value>), ProtobufError> {
    let mut schema = None;
    let mut list = Vec::new();
    let mut reader = Reader::new(bytes);
    while let Some((number, wire)) = reader.next_field().map_err(ProtobufError::malformed)? {
        let W::Bytes(bytes) = wire else { return Err(wire_mismatch(name, number, wire)) };
        if number == one {
            schema = json_schema_props(bytes, depth)?;
        } else if number == many {
            let item = match name {
                OR_STRINGS => Some(Value::String(lossy(bytes))),
                _ => json_schema_props(bytes, depth)?,
            };
            list.extend(item);
        } else {
            return Err(unsupported(name, number));
        }
    }
    Ok((schema, list))
}

fn json_schema_props(bytes: &[u8], depth: usize) -> Result<Option<Value>, ProtobufError> {
    let Some(id) = schema::builtin().by_name(super::encode::JSON_SCHEMA_PROPS) else {
        return Ok(None);
    };
    message(id, bytes, depth + 1).map(|object| Some(Value::Object(object)))
}

/// One `{key = 1, value = 2}` entry; a missing value is its type's zero.
fn map_entry(value_type: &Ty, buf: &[u8], depth: usize) -> Result<(String, Value), ProtobufError> {
    let mut key = String::new();
    let mut value_wire = None;
    let mut reader = Reader::new(buf);
    while let Some((number, wire)) = reader.next_field().map_err(ProtobufError::malformed)? {
        match (number, wire) {
            (1, W::Bytes(bytes)) => key = lossy(bytes),
            (2, wire) => value_wire = Some(wire),
            (1, wire) => return Err(wire_mismatch(MAP_ENTRY, 1, wire)),
            (number, _) => return Err(unsupported(MAP_ENTRY, number)),
        }
    }
    let wire = value_wire.unwrap_or(match value_type {
        Ty::Scalar(Scalar::Int32 | Scalar::Int64 | Scalar::Bool) => W::Varint(0),
        Ty::Scalar(Scalar::Double) => W::Fixed64(0),
        _ => W::Bytes(&[]),
    });
    let (value, _) = value(value_type, wire, depth).map_err(|err| match err {
        ValueError::Wire(wire) => wire_mismatch(MAP_ENTRY, 2, wire),
        ValueError::Other(err) => err,
    })?;
    Ok((key, value.unwrap_or(Value::Null)))
}

/// The fields of a small fixed message, each checked against the wire type it must have.
fn small_message<'a, const N: usize>(
    name: &'static str,
    buf: &'a [u8],
    varint: [bool; N],
) -> Result<[Option<W<'a>>; N], ProtobufError> {
    let mut fields = [None; N];
    let mut reader = Reader::new(buf);
    while let Some((number, wire)) = reader.next_field().map_err(ProtobufError::malformed)? {
        let index = number as usize - 1;
        let Some(&is_varint) = varint.get(index) else {
            return Err(unsupported(name, number));
        };
        if is_varint != matches!(wire, W::Varint(_))
            || matches!(wire, W::Fixed32(_) | W::Fixed64(_))
        {
            return Err(wire_mismatch(name, number, wire));
        }
        fields[index] = Some(wire);
    }
    Ok(fields)
}

/// `metav1.Time` / `MicroTime`: empty is Go's zero time, which kube shows as `null`. `Time`
/// keeps whole seconds only (as kube's protobuf decoding does); `MicroTime` microseconds.
pub(super) fn time(buf: &[u8], micro: bool) -> Result<Option<Value>, ProtobufError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let [seconds, nanos] = small_message(TIME, buf, [true, true])?;
    let seconds = match seconds {
        Some(W::Varint(v)) => v as i64,
        _ => 0,
    };
    let nanos = match nanos {
        Some(W::Varint(v)) if micro => i64::from(v as i32),
        _ => 0,
    };
    // Go's time.Unix normalises nanoseconds outside [0, 1e9).
    let seconds = seconds.checked_add(nanos.div_euclid(1_000_000_000));
    let nanos = nanos.rem_euclid(1_000_000_000);
    let formatted =
        seconds.and_then(|seconds| rfc3339(seconds, nanos, micro)).ok_or_else(|| {
            ProtobufError::malformed("time outside the years 0 to 9999, which JSON cannot show")
        })?;
    Ok(Some(Value::String(formatted)))
}

/// RFC 3339 in UTC, to the second or (`micro`) to the microsecond; `None` outside the years
/// 0–9999 (Go's JSON encoding refuses those).
fn rfc3339(seconds: i64, nanos: i64, micro: bool) -> Option<String> {
    // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    if !(-62_167_219_200..=253_402_300_799).contains(&seconds) {
        return None;
    }
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    if micro {
        out.push_str(&format!(".{:06}", nanos / 1000));
    }
    out.push('Z');
    Some(out)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `300ms`, `0s`.
pub(super) fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let fraction = |value: u64, digits: u32| -> String {
        let scale = 10u64.pow(digits);
        let (whole, rest) = (value / scale, value % scale);
        if rest == 0 {
            whole.to_string()
        } else {
            let text = format!("{whole}.{rest:0width$}", width = digits as usize);
            text.trim_end_matches('0').to_owned()
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", fraction(n, 3));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", fraction(n, 6));
    }
    let seconds = fraction(n % 60_000_000_000, 9);
    let minutes = n / 60_000_000_000;
    if minutes == 0 {
        return format!("{sign}{seconds}s");
    }
    let (hours, minutes) = (minutes / 60, minutes % 60);
    if hours == 0 {
        return format!("{sign}{minutes}m{seconds}s");
    }
    format!("{sign}{hours}h{minutes}m{seconds}s")
}

/// `IntOrString`: type 0 is the int, type 1 the string.
fn int_or_string(buf: &[u8]) -> Result<Value, ProtobufError> {
    let [kind, int_val, str_val] = small_message(INT_OR_STRING, buf, [true, true, false])?;
    let kind = match kind {
        Some(W::Varint(v)) => v,
        _ => 0,
    };
    match kind {
        0 => Ok(Value::from(match int_val {
            Some(W::Varint(v)) => v as i32,
            _ => 0,
        })),
        1 => Ok(Value::String(match str_val {
            Some(W::Bytes(bytes)) => lossy(bytes),
            _ => String::new(),
        })),
        other => Err(ProtobufError::malformed(format!("IntOrString of unknown type {other}"))),
    }
}

/// `Quantity`: its canonical string; absent is Go's zero quantity, `"0"`.
fn quantity(buf: &[u8]) -> Result<Value, ProtobufError> {
    let [string] = small_message(QUANTITY, buf, [false])?;
    Ok(Value::String(match string {
        Some(W::Bytes(bytes)) => lossy(bytes),
        _ => "0".to_owned(),
    }))
}

/// `RawExtension` / `FieldsV1` / `JSON`: the raw bytes are JSON (`null` when empty); a
/// `RawExtension` may also hold a nested `k8s\0` object.
fn raw_json(name: &'static str, buf: &[u8], depth: usize) -> Result<Option<Value>, ProtobufError> {
    let [raw] = small_message(name, buf, [false])?;
    let raw = match raw {
        Some(W::Bytes(raw)) if !raw.is_empty() => raw,
        _ => return Ok(None),
    };
    if raw.starts_with(super::MAGIC) && name == RAW_EXTENSION {
        return decode_at(raw, depth + 1).map(|object| Some(Value::Object(object)));
    }
    serde_json::from_slice(raw)
        .map(Some)
        .map_err(|err| ProtobufError::malformed(format!("{name} does not hold JSON: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        for (nanos, text) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (60_000_000_000, "1m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_500_000_000, "1h2m3.5s"),
            (-90_000_000_000, "-1m30s"),
        ] {
            assert_eq!(go_duration(nanos), text, "{nanos}");
            assert_eq!(super::super::encode::parse_go_duration(text), Some(nanos), "{text}");
        }
    }
}
