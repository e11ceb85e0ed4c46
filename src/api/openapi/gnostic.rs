//! The OpenAPI v2 document as gnostic's `openapi.v2.Document` protobuf
//! (`application/com.github.proto-openapi.spec.v2.v1.0+protobuf`), what kubectl and client-go
//! fetch: kube-openapi serves `proto.Marshal(openapi_v2.ParseDocument(json))`, and this is
//! that conversion written out for the keywords the documents hold. Fields go in field-number
//! order, proto3 zero values are left out, maps are `Named*` pairs in the JSON's order, and every
//! free-form value (extensions, `default`, `enum`, `example`) is an `Any` whose `yaml` holds
//! the value's JSON (YAML's flow syntax), as gnostic's `yaml` field is read with a YAML parser.
//!
//! Field numbers are those of gnostic's `openapiv2/OpenAPIv2.proto`.

use serde_json::{Map, Value};

/// The protobuf encoding of a swagger 2.0 document.
pub fn encode(document: &Value) -> Vec<u8> {
    let mut w = Writer::default();
    let Some(doc) = document.as_object() else { return w.0 };
    w.string(1, str_of(doc.get("swagger")));
    if let Some(info) = doc.get("info").and_then(Value::as_object) {
        w.message(2, |w| {
            w.string(1, str_of(info.get("title")));
            w.string(2, str_of(info.get("version")));
            w.string(3, str_of(info.get("description")));
            extensions(w, 7, info);
        });
    }
    w.string(3, str_of(doc.get("host")));
    w.string(4, str_of(doc.get("basePath")));
    strings(&mut w, 5, doc.get("schemes"));
    strings(&mut w, 6, doc.get("consumes"));
    strings(&mut w, 7, doc.get("produces"));
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        w.message(8, |w| {
            extensions(w, 1, paths);
            for (path, item) in paths.iter().filter(|(k, _)| !k.starts_with("x-")) {
                w.message(2, |w| {
                    w.string(1, path);
                    w.message(2, |w| path_item(w, item));
                });
            }
        });
    }
    if let Some(definitions) = doc.get("definitions").and_then(Value::as_object) {
        w.message(9, |w| named_schemas(w, 1, definitions));
    }
    if let Some(security) = doc.get("security").and_then(Value::as_array) {
        for requirement in security.iter().filter_map(Value::as_object) {
            w.message(12, |w| {
                for (name, scopes) in requirement {
                    w.message(1, |w| {
                        w.string(1, name);
                        w.message(2, |w| strings(w, 1, Some(scopes)));
                    });
                }
            });
        }
    }
    if let Some(definitions) = doc.get("securityDefinitions").and_then(Value::as_object) {
        w.message(13, |w| {
            for (name, item) in definitions {
                w.message(1, |w| {
                    w.string(1, name);
                    w.message(2, |w| security_definition(w, item));
                });
            }
        });
    }
    extensions(&mut w, 16, doc);
    w.0
}

fn security_definition(w: &mut Writer, item: &Value) {
    let Some(item) = item.as_object() else { return };
    let (field, keys): (u32, &[&str]) = match str_of(item.get("type")) {
        "basic" => (1, &["type", "description"]),
        "apiKey" => (2, &["type", "name", "in", "description"]),
        _ => return,
    };
    w.message(field, |w| {
        for (n, key) in keys.iter().enumerate() {
            w.string(n as u32 + 1, str_of(item.get(*key)));
        }
        extensions(w, keys.len() as u32 + 1, item);
    });
}

fn path_item(w: &mut Writer, item: &Value) {
    let Some(item) = item.as_object() else { return };
    w.string(1, str_of(item.get("$ref")));
    for (field, method) in [
        (2, "get"),
        (3, "put"),
        (4, "post"),
        (5, "delete"),
        (6, "options"),
        (7, "head"),
        (8, "patch"),
    ] {
        if let Some(op) = item.get(method).and_then(Value::as_object) {
            w.message(field, |w| operation(w, op));
        }
    }
    parameters(w, 9, item.get("parameters"));
    extensions(w, 10, item);
}

fn operation(w: &mut Writer, op: &Map<String, Value>) {
    strings(w, 1, op.get("tags"));
    w.string(2, str_of(op.get("summary")));
    w.string(3, str_of(op.get("description")));
    w.string(5, str_of(op.get("operationId")));
    strings(w, 6, op.get("produces"));
    strings(w, 7, op.get("consumes"));
    parameters(w, 8, op.get("parameters"));
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        w.message(9, |w| {
            for (code, response) in responses.iter().filter(|(k, _)| !k.starts_with("x-")) {
                w.message(1, |w| {
                    w.string(1, code);
                    w.message(2, |w| response_value(w, response));
                });
            }
            extensions(w, 2, responses);
        });
    }
    strings(w, 10, op.get("schemes"));
    w.bool(11, op.get("deprecated").and_then(Value::as_bool).unwrap_or(false));
    extensions(w, 13, op);
}

fn response_value(w: &mut Writer, response: &Value) {
    let Some(response) = response.as_object() else { return };
    if let Some(reference) = response.get("$ref") {
        w.message(2, |w| w.string(1, str_of(Some(reference))));
        return;
    }
    w.message(1, |w| {
        w.string(1, str_of(response.get("description")));
        if let Some(schema) = response.get("schema") {
            w.message(2, |w| w.message(1, |w| self::schema(w, schema)));
        }
        extensions(w, 5, response);
    });
}

fn parameters(w: &mut Writer, field: u32, parameters: Option<&Value>) {
    for parameter in parameters.and_then(Value::as_array).into_iter().flatten() {
        let Some(p) = parameter.as_object() else { continue };
        w.message(field, |w| {
            if let Some(reference) = p.get("$ref") {
                w.message(2, |w| {
                    w.string(1, str_of(Some(reference)));
                    w.string(2, str_of(p.get("description")));
                });
                return;
            }
            w.message(1, |w| match str_of(p.get("in")) {
                "body" => w.message(1, |w| {
                    w.string(1, str_of(p.get("description")));
                    w.string(2, str_of(p.get("name")));
                    w.string(3, "body");
                    w.bool(4, flag(p, "required"));
                    if let Some(schema) = p.get("schema") {
                        w.message(5, |w| self::schema(w, schema));
                    }
                    extensions(w, 6, p);
                }),
                location => w.message(2, |w| {
                    // NonBodyParameter's oneof: header 1, formData 2, query 3, path 4. The
                    // sub-schemas share a layout but for allowEmptyValue (query, formData).
                    let (field, empty_value) = match location {
                        "header" => (1, false),
                        "formData" => (2, true),
                        "path" => (4, false),
                        _ => (3, true),
                    };
                    w.message(field, |w| non_body(w, p, empty_value));
                }),
            });
        });
    }
}

/// The fields of a query, path, header or formData parameter. Those with `allowEmptyValue`
/// (field 5) number the rest one higher.
fn non_body(w: &mut Writer, p: &Map<String, Value>, empty_value: bool) {
    w.bool(1, flag(p, "required"));
    w.string(2, str_of(p.get("in")));
    w.string(3, str_of(p.get("description")));
    w.string(4, str_of(p.get("name")));
    let shift = u32::from(empty_value);
    if empty_value {
        w.bool(5, flag(p, "allowEmptyValue"));
    }
    w.string(5 + shift, str_of(p.get("type")));
    w.string(6 + shift, str_of(p.get("format")));
    w.string(8 + shift, str_of(p.get("collectionFormat")));
    if let Some(default) = p.get("default") {
        w.message(9 + shift, |w| any(w, default));
    }
    w.double(10 + shift, number(p, "maximum"));
    w.bool(11 + shift, flag(p, "exclusiveMaximum"));
    w.double(12 + shift, number(p, "minimum"));
    w.bool(13 + shift, flag(p, "exclusiveMinimum"));
    w.int64(14 + shift, integer(p, "maxLength"));
    w.int64(15 + shift, integer(p, "minLength"));
    w.string(16 + shift, str_of(p.get("pattern")));
    w.int64(17 + shift, integer(p, "maxItems"));
    w.int64(18 + shift, integer(p, "minItems"));
    w.bool(19 + shift, flag(p, "uniqueItems"));
    for value in p.get("enum").and_then(Value::as_array).into_iter().flatten() {
        w.message(20 + shift, |w| any(w, value));
    }
    w.double(21 + shift, number(p, "multipleOf"));
    extensions(w, 22 + shift, p);
}

fn named_schemas(w: &mut Writer, field: u32, schemas: &Map<String, Value>) {
    for (name, schema) in schemas {
        w.message(field, |w| {
            w.string(1, name);
            w.message(2, |w| self::schema(w, schema));
        });
    }
}

/// gnostic's `Schema`.
fn schema(w: &mut Writer, schema: &Value) {
    let Some(s) = schema.as_object() else { return };
    w.string(1, str_of(s.get("$ref")));
    w.string(2, str_of(s.get("format")));
    w.string(3, str_of(s.get("title")));
    w.string(4, str_of(s.get("description")));
    if let Some(default) = s.get("default") {
        w.message(5, |w| any(w, default));
    }
    w.double(6, number(s, "multipleOf"));
    w.double(7, number(s, "maximum"));
    w.bool(8, flag(s, "exclusiveMaximum"));
    w.double(9, number(s, "minimum"));
    w.bool(10, flag(s, "exclusiveMinimum"));
    w.int64(11, integer(s, "maxLength"));
    w.int64(12, integer(s, "minLength"));
    w.string(13, str_of(s.get("pattern")));
    w.int64(14, integer(s, "maxItems"));
    w.int64(15, integer(s, "minItems"));
    w.bool(16, flag(s, "uniqueItems"));
    w.int64(17, integer(s, "maxProperties"));
    w.int64(18, integer(s, "minProperties"));
    strings(w, 19, s.get("required"));
    for value in s.get("enum").and_then(Value::as_array).into_iter().flatten() {
        w.message(20, |w| any(w, value));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(allowed)) => w.message(21, |w| w.bool_always(2, *allowed)),
        Some(additional @ Value::Object(_)) => {
            w.message(21, |w| w.message(1, |w| self::schema(w, additional)));
        }
        _ => {}
    }
    if let Some(ty) = s.get("type") {
        w.message(22, |w| match ty {
            Value::String(ty) => w.string(1, ty),
            other => strings(w, 1, Some(other)),
        });
    }
    match s.get("items") {
        Some(Value::Array(items)) => w.message(23, |w| {
            for item in items {
                w.message(1, |w| self::schema(w, item));
            }
        }),
        Some(item @ Value::Object(_)) => w.message(23, |w| w.message(1, |w| self::schema(w, item))),
        _ => {}
    }
    for item in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        w.message(24, |w| self::schema(w, item));
    }
    if let Some(properties) = s.get("properties").and_then(Value::as_object) {
        w.message(25, |w| named_schemas(w, 1, properties));
    }
    w.string(26, str_of(s.get("discriminator")));
    w.bool(27, flag(s, "readOnly"));
    if let Some(docs) = s.get("externalDocs").and_then(Value::as_object) {
        w.message(29, |w| {
            w.string(1, str_of(docs.get("description")));
            w.string(2, str_of(docs.get("url")));
            extensions(w, 3, docs);
        });
    }
    if let Some(example) = s.get("example") {
        w.message(30, |w| any(w, example));
    }
    extensions(w, 31, s);
}

/// `NamedAny` pairs for every `x-` key.
fn extensions(w: &mut Writer, field: u32, object: &Map<String, Value>) {
    for (name, value) in object.iter().filter(|(k, _)| k.starts_with("x-")) {
        w.message(field, |w| {
            w.string(1, name);
            w.message(2, |w| any(w, value));
        });
    }
}

/// gnostic's `Any`: the value as YAML (its JSON), in field 2.
fn any(w: &mut Writer, value: &Value) {
    w.string(2, &yaml(value));
}

/// A value as YAML text: block style for what gnostic writes as mappings and sequences would
/// do, but JSON is YAML's flow style and every reader of the field parses it as YAML.
fn yaml(value: &Value) -> String {
    let mut text = value.to_string();
    text.push('\n');
    text
}

fn strings(w: &mut Writer, field: u32, values: Option<&Value>) {
    for value in values.and_then(Value::as_array).into_iter().flatten() {
        w.string_always(field, str_of(Some(value)));
    }
}

fn str_of(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or("")
}

fn flag(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn number(object: &Map<String, Value>, key: &str) -> f64 {
    object.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn integer(object: &Map<String, Value>, key: &str) -> i64 {
    object.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A protobuf writer: varints, length-delimited fields and nested messages.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire_type));
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    /// A proto3 string: left out when empty.
    fn string(&mut self, field: u32, value: &str) {
        if !value.is_empty() {
            self.bytes(field, value.as_bytes());
        }
    }

    /// An element of a repeated string: written even when empty.
    fn string_always(&mut self, field: u32, value: &str) {
        self.bytes(field, value.as_bytes());
    }

    fn bool(&mut self, field: u32, value: bool) {
        if value {
            self.bool_always(field, true);
        }
    }

    /// A bool in a oneof: present even when false.
    fn bool_always(&mut self, field: u32, value: bool) {
        self.key(field, 0);
        self.varint(u64::from(value));
    }

    fn int64(&mut self, field: u32, value: i64) {
        if value != 0 {
            self.key(field, 0);
            self.varint(value as u64);
        }
    }

    fn double(&mut self, field: u32, value: f64) {
        if value != 0.0 {
            self.key(field, 1);
            self.0.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// A present message, written even when empty.
    fn message(&mut self, field: u32, build: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        build(&mut inner);
        self.bytes(field, &inner.0);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn varints_and_nested_messages() {
        let doc = json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}});
        let bytes = encode(&doc);
        let mut expected = vec![0x0a, 3];
        expected.extend_from_slice(b"2.0");
        expected.extend_from_slice(&[0x12, 21, 0x0a, 10]);
        expected.extend_from_slice(b"Kubernetes");
        expected.extend_from_slice(&[0x12, 7]);
        expected.extend_from_slice(b"v1.33.0");
        assert_eq!(bytes, expected);
        let mut w = Writer::default();
        w.varint(300);
        assert_eq!(w.0, [0xac, 0x02]);
    }
}
