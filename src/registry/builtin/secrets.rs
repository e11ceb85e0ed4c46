//! `v1` Secrets (`pkg/registry/core/secret`): `Opaque` by default, `stringData` folded into
//! `data` on every write (and never stored), `data` keys that can be file names with base64
//! values, 1 MiB at most, an immutable `type`, and the keys each well-known type requires.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::columns::item_count;
use super::configmaps::{MAX_SIZE, decode_base64, decoded_len, immutable_changes, validate_key};
use super::{Kind, age_column, child_object, immutable, name_column, opt_object, str_at};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

pub const TYPE_OPAQUE: &str = "Opaque";
pub const TYPE_SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";
pub const TYPE_DOCKERCFG: &str = "kubernetes.io/dockercfg";
pub const TYPE_DOCKER_CONFIG_JSON: &str = "kubernetes.io/dockerconfigjson";
pub const TYPE_BASIC_AUTH: &str = "kubernetes.io/basic-auth";
pub const TYPE_SSH_AUTH: &str = "kubernetes.io/ssh-auth";
pub const TYPE_TLS: &str = "kubernetes.io/tls";

/// The annotation a service-account token secret must carry.
pub const SERVICE_ACCOUNT_NAME_KEY: &str = "kubernetes.io/service-account.name";

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "Secret",
    plural: "secrets",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/secrets",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(SecretStrategy), table())
}

/// Secret rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecretStrategy;

/// kube's `SetDefaults_Secret` and the v1 → internal conversion: `type` defaults to `Opaque`,
/// and `stringData` entries overwrite `data` entries (base64-encoded) and disappear.
fn default_secret(secret: &mut Value) {
    let Some(map) = secret.as_object_mut() else { return };
    super::default_string(map, "type", TYPE_OPAQUE);
    let Some(Value::Object(string_data)) = map.shift_remove("stringData") else { return };
    if string_data.is_empty() {
        return;
    }
    let Some(data) = child_object(map, "data") else {
        // `data` is not a map: put `stringData` back for validation to report.
        map.insert("stringData".into(), Value::Object(string_data));
        return;
    };
    for (key, value) in string_data {
        let encoded = match &value {
            Value::String(s) => STANDARD.encode(s.as_bytes()),
            // Left as it is for validation to report the type.
            _ => {
                data.insert(key, value);
                continue;
            }
        };
        data.insert(key, encoded.into());
    }
}

impl Strategy for SecretStrategy {
    fn set_defaults(&self, secret: &mut Value) {
        default_secret(secret);
    }

    fn validate(&self, secret: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        // Present only when it could not be folded into a malformed `data`.
        opt_object(secret, "stringData", "stringData", &mut causes);
        let data = opt_object(secret, "data", "data", &mut causes);
        let mut decoded: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        let mut total = 0usize;
        // By key, so that causes come in a stable order.
        let mut entries: Vec<_> = data.into_iter().flatten().collect();
        entries.sort_by_key(|(key, _)| *key);
        for (key, value) in entries {
            let path = format!("data[{key}]");
            validate_key(key, &path, &mut causes);
            total += decoded_len(value, &path, &mut causes);
            if let Some(bytes) = value.as_str().and_then(|t| decode_base64(t).ok()) {
                decoded.insert(key, bytes);
            }
        }
        if total > MAX_SIZE {
            causes.push(FieldCause::too_long("data", MAX_SIZE));
        }
        let has = |key: &str| data.is_some_and(|d| d.contains_key(key));
        match str_at(secret, "/type") {
            TYPE_SERVICE_ACCOUNT_TOKEN => {
                let annotation = secret
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(SERVICE_ACCOUNT_NAME_KEY))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if annotation.is_empty() {
                    causes.push(FieldCause::required(
                        format!("metadata.annotations[{SERVICE_ACCOUNT_NAME_KEY}]"),
                        "",
                    ));
                }
            }
            TYPE_DOCKERCFG => require_json(".dockercfg", has, &decoded, &mut causes),
            TYPE_DOCKER_CONFIG_JSON => {
                require_json(".dockerconfigjson", has, &decoded, &mut causes)
            }
            TYPE_BASIC_AUTH
                // Either may be empty, but one of them must be there.
                if !has("username") && !has("password") => {
                    causes.push(FieldCause::required("data[username]", ""));
                    causes.push(FieldCause::required("data[password]", ""));
                }
            TYPE_SSH_AUTH
                if decoded.get("ssh-privatekey").is_none_or(Vec::is_empty) => {
                    causes.push(FieldCause::required("data[ssh-privatekey]", ""));
                }
            TYPE_TLS => {
                for key in ["tls.crt", "tls.key"] {
                    if !has(key) {
                        causes.push(FieldCause::required(format!("data[{key}]"), ""));
                    }
                }
            }
            _ => {}
        }
        causes
    }

    fn validate_update(&self, secret: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let new_type = secret.get("type").cloned().unwrap_or(Value::Null);
        if Some(&new_type) != old.get("type") {
            causes.push(immutable("type", &new_type));
        }
        causes.extend(immutable_changes(secret, old, &["data"]));
        causes.extend(self.validate(secret));
        causes
    }

    fn selectable_fields(&self, secret: &Value) -> BTreeMap<String, String> {
        BTreeMap::from([("type".to_owned(), str_at(secret, "/type").to_owned())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["type"]
    }
}

/// A docker config key must be present and hold a JSON object.
fn require_json(
    key: &str,
    has: impl Fn(&str) -> bool,
    decoded: &BTreeMap<&str, Vec<u8>>,
    causes: &mut Vec<FieldCause>,
) {
    let path = format!("data[{key}]");
    if !has(key) {
        causes.push(FieldCause::required(path, ""));
        return;
    }
    let Some(bytes) = decoded.get(key) else { return };
    if let Err(message) = go_json_object_error(bytes) {
        causes.push(FieldCause::invalid(path, "<secret contents redacted>", &message));
    }
}

/// Whether `bytes` decode as a JSON object, with Go's `json.Unmarshal` wording when not.
fn go_json_object_error(bytes: &[u8]) -> Result<(), String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => return Ok(()), // `null` decodes into a map without error.
            };
            Err(format!(
                "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(err) if err.is_eof() => Err("unexpected end of JSON input".to_owned()),
        Err(_) => {
            let first =
                String::from_utf8_lossy(bytes).chars().find(|c| !c.is_whitespace()).unwrap_or(' ');
            Err(format!("invalid character '{first}' looking for beginning of value"))
        }
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            KIND.field_column("Type", "string", 0, "/type", |t| {
                t.and_then(Value::as_str).unwrap_or("").into()
            }),
            KIND.field_column("Data", "string", 0, "/data", item_count),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use serde_json::json;

    fn prepared(mut secret: Value) -> Value {
        SecretStrategy.decoded_create(&mut secret);
        secret
    }

    #[test]
    fn defaults_type_and_folds_string_data() {
        let s = prepared(json!({"metadata": {"name": "s"}, "data": {"a": "eA==", "b": "eA=="},
                                "stringData": {"b": "hello", "c": "wörld"}}));
        assert_eq!(s["type"], "Opaque");
        assert_eq!(s["data"], json!({"a": "eA==", "b": "aGVsbG8=", "c": "d8O2cmxk"}));
        assert!(s.get("stringData").is_none());
        assert!(SecretStrategy.validate(&s).is_empty());
        let mut updated = json!({"type": "", "stringData": {"x": "y"}});
        SecretStrategy.decoded_update(&mut updated, &s);
        assert_eq!(updated, json!({"type": "Opaque", "data": {"x": "eQ=="}}));
    }

    #[test]
    fn data_keys_and_values_are_checked() {
        let s = prepared(json!({"data": {"bad/key": "eA==", "v": "%%%", "n": 5},
                                "stringData": {"also bad": "x"}}));
        let causes = SecretStrategy.validate(&s);
        assert_eq!(causes.len(), 4, "{causes:?}");
        assert!(causes[0].to_string().starts_with("data[also bad]: Invalid value: \"also bad\""));
        assert!(causes[1].to_string().starts_with("data[bad/key]: Invalid value: \"bad/key\""));
        assert_eq!(causes[2].reason.as_str(), "FieldValueTypeInvalid");
        assert_eq!(
            causes[3].to_string(),
            "data[v]: Invalid value: \"<secret contents redacted>\": illegal base64 data at input \
             byte 0"
        );
        let big = STANDARD.encode(vec![0u8; MAX_SIZE + 1]);
        let causes = SecretStrategy.validate(&prepared(json!({"data": {"a": big}})));
        assert_eq!(text(&causes), ["data: Too long: may not be more than 1048576 bytes"]);
    }

    #[test]
    fn typed_secrets_need_their_keys() {
        let tls = prepared(json!({"type": TYPE_TLS, "data": {"tls.crt": ""}}));
        assert_eq!(text(&SecretStrategy.validate(&tls)), ["data[tls.key]: Required value"]);
        let docker = prepared(json!({"type": TYPE_DOCKER_CONFIG_JSON}));
        assert_eq!(
            text(&SecretStrategy.validate(&docker)),
            ["data[.dockerconfigjson]: Required value"]
        );
        let docker = prepared(json!({"type": TYPE_DOCKER_CONFIG_JSON,
                                     "stringData": {".dockerconfigjson": "nope"}}));
        assert_eq!(
            text(&SecretStrategy.validate(&docker)),
            ["data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid \
              character 'n' looking for beginning of value"]
        );
        let docker = prepared(json!({"type": TYPE_DOCKERCFG, "stringData": {".dockercfg": "{}"}}));
        assert!(SecretStrategy.validate(&docker).is_empty());
        let basic = prepared(json!({"type": TYPE_BASIC_AUTH}));
        assert_eq!(
            text(&SecretStrategy.validate(&basic)),
            ["data[username]: Required value", "data[password]: Required value"]
        );
        let ssh = prepared(json!({"type": TYPE_SSH_AUTH, "data": {"ssh-privatekey": ""}}));
        assert_eq!(text(&SecretStrategy.validate(&ssh)), ["data[ssh-privatekey]: Required value"]);
        let token = prepared(json!({"type": TYPE_SERVICE_ACCOUNT_TOKEN}));
        assert_eq!(
            text(&SecretStrategy.validate(&token)),
            ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
        );
    }

    #[test]
    fn type_and_immutable_data_cannot_change() {
        let old = prepared(json!({"type": TYPE_OPAQUE, "immutable": true, "data": {"a": "eA=="}}));
        let new = prepared(json!({"type": TYPE_TLS, "immutable": true,
                                  "data": {"tls.crt": "", "tls.key": ""}}));
        assert_eq!(
            text(&SecretStrategy.validate_update(&new, &old)),
            [
                "type: Invalid value: \"kubernetes.io/tls\": field is immutable",
                "data: Forbidden: field is immutable when `immutable` is set",
            ]
        );
        assert!(SecretStrategy.validate_update(&old, &old).is_empty());
    }

    #[test]
    fn type_is_selectable_and_table_counts_data() {
        let s = prepared(json!({"metadata": {"name": "s"}, "data": {"a": "", "b": ""}}));
        assert_eq!(SecretStrategy.selectable_fields(&s)["type"], "Opaque");
        let table = render_table(&table(), &[s], Default::default(), Default::default());
        assert_eq!(table["rows"][0]["cells"], json!(["s", "Opaque", 2, "<unknown>"]));
    }
}
