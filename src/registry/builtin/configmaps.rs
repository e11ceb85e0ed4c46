//! `v1` ConfigMaps (`pkg/registry/core/configmap`): keys that can be file names, no key in both
//! `data` and `binaryData`, at most 1 MiB of values, and nothing but metadata may change once
//! `immutable` is set.

use std::sync::Arc;

use base64::Engine;
use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::{Kind, age_column, column, name_column, opt_bool, opt_object};
use crate::meta::validation::{FieldCause, is_config_map_key};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

/// `core.MaxSecretSize`: the most bytes of values a ConfigMap or Secret may hold (1 MiB).
pub const MAX_SIZE: usize = 1024 * 1024;

/// kube's message when an `immutable` object's data changes.
pub(crate) const IMMUTABLE_MESSAGE: &str = "field is immutable when `immutable` is set";

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    short_names: &["cm"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/configmaps",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(ConfigMapStrategy), table())
}

/// ConfigMap rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConfigMapStrategy;

impl Strategy for ConfigMapStrategy {
    fn validate(&self, cm: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let data = opt_object(cm, "data", "data", &mut causes);
        let binary = opt_object(cm, "binaryData", "binaryData", &mut causes);
        let mut total = 0usize;
        let mut entries: Vec<_> = data.into_iter().flatten().collect();
        entries.sort_by_key(|(key, _)| *key); // causes in a stable order
        for (key, value) in entries {
            let path = format!("data[{key}]");
            validate_key(key, &path, &mut causes);
            if binary.is_some_and(|b| b.contains_key(key)) {
                causes.push(FieldCause::invalid(
                    path.clone(),
                    key.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
            match value {
                Value::String(s) => total += s.len(),
                Value::Null => {}
                other => {
                    causes.push(FieldCause::type_invalid(path, other.clone(), "must be a string"))
                }
            }
        }
        let mut entries: Vec<_> = binary.into_iter().flatten().collect();
        entries.sort_by_key(|(key, _)| *key); // causes in a stable order
        for (key, value) in entries {
            let path = format!("binaryData[{key}]");
            validate_key(key, &path, &mut causes);
            total += decoded_len(value, &path, &mut causes);
        }
        if total > MAX_SIZE {
            causes.push(FieldCause::too_long("", MAX_SIZE));
        }
        opt_bool(cm, "immutable", "immutable", &mut causes);
        causes
    }

    fn validate_update(&self, cm: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = immutable_changes(cm, old, &["data", "binaryData"]);
        causes.extend(self.validate(cm));
        causes
    }
}

/// The `Forbidden` causes for an update of an object stored with `immutable: true`: it must stay
/// immutable and `fields` must not change.
pub(crate) fn immutable_changes(new: &Value, old: &Value, fields: &[&str]) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    if old.get("immutable") != Some(&Value::Bool(true)) {
        return causes;
    }
    if new.get("immutable") != Some(&Value::Bool(true)) {
        causes.push(FieldCause::forbidden("immutable", IMMUTABLE_MESSAGE));
    }
    for field in fields {
        if normalized_map(new.get(*field)) != normalized_map(old.get(*field)) {
            causes.push(FieldCause::forbidden(*field, IMMUTABLE_MESSAGE));
        }
    }
    causes
}

/// A map field with absent, `null` and `{}` read alike: kube stores all three as an empty map.
fn normalized_map(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_object).filter(|m| !m.is_empty())
}

/// `IsConfigMapKey` on a key of `data`/`binaryData`: the cause carries the key as bad value.
pub(crate) fn validate_key(key: &str, path: &str, causes: &mut Vec<FieldCause>) {
    for msg in is_config_map_key(key) {
        causes.push(FieldCause::invalid(path, key, &msg));
    }
}

/// The decoded size of a base64 value (`binaryData`, a Secret's `data`); a value that is not a
/// base64 string adds a cause and counts 0.
pub(crate) fn decoded_len(value: &Value, path: &str, causes: &mut Vec<FieldCause>) -> usize {
    match value {
        Value::String(text) => match decode_base64(text) {
            Ok(bytes) => bytes.len(),
            Err(message) => {
                causes.push(FieldCause::invalid(path, "<secret contents redacted>", &message));
                0
            }
        },
        Value::Null => 0,
        other => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a base64 string"));
            0
        }
    }
}

/// Go's `base64.StdEncoding`: padded, and lenient about the unused bits of the last symbol.
const GO_STD_ENCODING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Decodes a `[]byte` field as Go's `encoding/json` does (standard alphabet, padded, line
/// breaks ignored); the error reads like Go's `illegal base64 data at input byte N`.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    GO_STD_ENCODING.decode(compact.as_bytes()).map_err(|err| {
        let at = match err {
            base64::DecodeError::InvalidByte(offset, _) => offset,
            base64::DecodeError::InvalidLastSymbol { offset, .. } => offset,
            base64::DecodeError::InvalidLength(len) => len,
            base64::DecodeError::InvalidPadding => compact.len(),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Data",
                "string",
                0,
                &KIND.doc("/data"),
                Cell::Computed(|cm| {
                    let count =
                        |field: &str| cm.get(field).and_then(Value::as_object).map_or(0, Map::len);
                    (count("data") + count("binaryData")).into()
                }),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::table::render_table;
    use serde_json::json;

    fn fields(causes: &[FieldCause]) -> Vec<(String, &'static str)> {
        causes.iter().map(|c| (c.field.clone(), c.reason.as_str())).collect()
    }

    #[test]
    fn keys_must_be_file_names_and_unique_across_maps() {
        let cm = json!({"metadata": {"name": "c"},
                        "data": {"ok.key": "v", "bad key": "v", "both": "v"},
                        "binaryData": {"both": "aGk=", "..x": "aGk="}});
        let causes = ConfigMapStrategy.validate(&cm);
        assert_eq!(
            fields(&causes),
            [
                ("data[bad key]".to_owned(), "FieldValueInvalid"),
                ("data[both]".to_owned(), "FieldValueInvalid"),
                ("binaryData[..x]".to_owned(), "FieldValueInvalid"),
            ]
        );
        assert!(causes[0].message.starts_with(
            "Invalid value: \"bad key\": a valid config key must consist of alphanumeric"
        ));
        assert_eq!(
            causes[1].message,
            "Invalid value: \"both\": duplicate of key present in binaryData"
        );
        assert_eq!(causes[2].message, "Invalid value: \"..x\": must not start with '..'");
    }

    #[test]
    fn binary_data_must_be_base64_and_size_is_limited() {
        let cm = json!({"binaryData": {"b": "not base64!"}, "data": {"n": 1}});
        let causes = ConfigMapStrategy.validate(&cm);
        assert_eq!(
            fields(&causes),
            [
                ("data[n]".to_owned(), "FieldValueTypeInvalid"),
                ("binaryData[b]".to_owned(), "FieldValueInvalid"),
            ]
        );
        assert_eq!(
            causes[1].message,
            "Invalid value: \"<secret contents redacted>\": illegal base64 data at input byte 3"
        );
        let big = "x".repeat(MAX_SIZE);
        let cm = json!({"data": {"a": big, "b": "y"}});
        let causes = ConfigMapStrategy.validate(&cm);
        assert_eq!(fields(&causes), [(String::new(), "FieldValueTooLong")]);
        let exact = json!({"data": {"a": "x".repeat(MAX_SIZE)}});
        assert!(ConfigMapStrategy.validate(&exact).is_empty());
    }

    #[test]
    fn immutable_config_maps_keep_their_data() {
        let old = json!({"immutable": true, "data": {"a": "1"}});
        assert!(ConfigMapStrategy.validate_update(&old, &old).is_empty());
        let new = json!({"immutable": false, "data": {"a": "2"}, "binaryData": {"b": "aGk="}});
        let causes = ConfigMapStrategy.validate_update(&new, &old);
        let text: Vec<String> = causes.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "immutable: Forbidden: field is immutable when `immutable` is set",
                "data: Forbidden: field is immutable when `immutable` is set",
                "binaryData: Forbidden: field is immutable when `immutable` is set",
            ]
        );
        // Mutable config maps may become immutable.
        let mutable = json!({"data": {"a": "1"}});
        assert!(ConfigMapStrategy.validate_update(&old, &mutable).is_empty());
    }

    #[test]
    fn table_counts_both_maps() {
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "binaryData": {"b": ""}});
        let table = render_table(&table(), &[cm], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["c", 2, "<unknown>"]));
        assert_eq!(resource().short_names, ["cm"]);
    }
}
