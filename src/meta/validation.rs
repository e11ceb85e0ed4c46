//! Kubernetes' name and value validators, and validation of `metadata` (`metav1.ObjectMeta`).
//!
//! The string validators (`is_dns1123_subdomain`, `is_qualified_name`, …) return one message per
//! broken rule, worded as k8s.io/apimachinery words them, and an empty list for a valid value.
//! [`validate_object_meta`] turns them into [`FieldCause`]s — the `details.causes` entries of a
//! 422 `Invalid` status — with kube-apiserver's field paths (`metadata.name`, `metadata.labels`).
//!
//! Wording follows the long-standing apimachinery texts (`must be no more than 63 characters`,
//! `a qualified name must consist of …`), which is what clients and their tests have seen for
//! years; the newest upstream releases reword a few of them ("bytes", "a valid label key").
//!
//! Objects arrive here as untyped JSON, not as decoded Go structs, so a wrong JSON type (labels
//! that are not a map of strings, say) is reported as a `FieldValueTypeInvalid` cause instead of
//! the decode error kube-apiserver would give.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Longest DNS-1123 label (`metadata.namespace`, many names), in bytes.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Longest DNS-1123 subdomain (most object names, label-key prefixes), in bytes.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Longest DNS-1035 label (Service names), in bytes.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
/// Longest name part of a qualified name (label keys, annotation keys, finalizers).
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
/// Longest label value.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Annotations may hold at most this many bytes of keys plus values (256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
/// Longest `managedFields[].manager`.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;
/// Longest `managedFields[].subresource`.
pub const MAX_SUBRESOURCE_NAME_LENGTH: usize = 256;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case \
     alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
     alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric \
     characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and \
     must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric \
     characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const C_IDENTIFIER_FMT: &str = "[A-Za-z_][A-Za-z0-9_]*";
const C_IDENTIFIER_ERR: &str = "a valid C identifier must start with alphabetic character or \
     '_', followed by a string of alphanumeric characters or '_'";

/// `must be no more than N characters` (apimachinery's `MaxLenError`).
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// apimachinery's `RegexError`: the rule, some valid examples, and the regex it checks.
pub fn regex_error(message: &str, regex: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{message} (regex used for validation is '{regex}')");
    }
    // Upstream joins "'a', " and " or " — hence the double space, kept for fidelity.
    let mut out = format!("{message} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(example);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(regex);
    out.push_str("')");
    out
}

/// `must be non-empty`.
pub fn empty_error() -> String {
    "must be non-empty".to_owned()
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first)
                && is_lower_alnum(last)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// Labels of [`matches_dns1123_label`] joined by single dots.
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(s: &str) -> bool {
    matches_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Tests for a DNS-1123 label (RFC 1123): namespace names and several other names.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            // A valid subdomain that is not a valid label can only be wrong because of dots.
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    errs
}

/// Tests for a DNS-1123 subdomain: the names of most objects.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

/// Tests for a DNS-1035 label (RFC 1035): Service names, which become DNS names.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(value) {
        errs.push(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errs
}

/// Tests for what Kubernetes calls a "qualified name": an optional DNS-1123 subdomain prefix
/// and `/`, then a name of at most 63 characters. Label keys, annotation keys (lower-cased
/// first) and finalizers are qualified names.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix).into_iter().map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. \
                 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX_LENGTH)));
    }
    if !matches_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// Tests for a valid label value: empty, or at most 63 characters of the qualified-name set.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name_part(value) {
        errs.push(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errs
}

/// Tests for a valid key of a ConfigMap's or Secret's `data`: it becomes a file name when the
/// object is mounted, hence the ban on `.` and `..`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let charset_ok = !value.is_empty()
        && value.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'));
    if !charset_ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errs.push("must not be '.'".to_owned());
    } else if value == ".." {
        errs.push("must not be '..'".to_owned());
    } else if value.starts_with("..") {
        errs.push("must not start with '..'".to_owned());
    }
    errs
}

/// Tests for a C identifier (format only, not length): environment-variable-like names.
pub fn is_c_identifier(value: &str) -> Vec<String> {
    let b = value.as_bytes();
    let ok = b.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if ok {
        Vec::new()
    } else {
        vec![regex_error(C_IDENTIFIER_ERR, C_IDENTIFIER_FMT, &["my_name", "MY_NAME", "MyName"])]
    }
}

/// Tests that a name can be one segment of a URL path, which every object name must be:
/// the REST layer puts names in paths.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if name == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    ["/", "%"]
        .iter()
        .filter(|illegal| name.contains(*illegal))
        .map(|illegal| format!("may not contain '{illegal}'"))
        .collect()
}

/// Validates an object name. `prefix` is true for `generateName`, which will have random
/// characters appended (so a trailing `-` is fine). Returns one message per broken rule.
pub type NameValidator = fn(name: &str, prefix: bool) -> Vec<String>;

/// apimachinery's `maskTrailingDash`: a `generateName` may end in `-`, so the check runs on a
/// stand-in that ends in a letter. (Upstream drops the character before the dash too; kept.)
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        // Slicing at len-2 is safe: the last byte is the ASCII '-', and the byte before it starts
        // a character only if it is ASCII; otherwise fall back to a plain substitution.
        match name.get(..name.len() - 2) {
            Some(head) => format!("{head}a"),
            None => format!("{}a", &name[..name.len() - 1]),
        }
    } else {
        name.to_owned()
    }
}

/// [`NameValidator`] for names that must be DNS-1123 subdomains (ConfigMaps, Pods, Deployments,
/// custom resources, …).
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_dns1123_subdomain(&mask_trailing_dash(name))
    } else {
        is_dns1123_subdomain(name)
    }
}

/// [`NameValidator`] for names that must be DNS-1123 labels (Namespaces, …).
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix { is_dns1123_label(&mask_trailing_dash(name)) } else { is_dns1123_label(name) }
}

/// [`NameValidator`] for names that must be DNS-1035 labels (Services).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix { is_dns1035_label(&mask_trailing_dash(name)) } else { is_dns1035_label(name) }
}

/// Namespace names are DNS-1123 labels.
pub fn validate_namespace_name(name: &str, prefix: bool) -> Vec<String> {
    name_is_dns_label(name, prefix)
}

/// `metav1.CauseType` for field errors: the machine-readable `reason` of a status cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CauseType {
    FieldValueNotFound,
    FieldValueRequired,
    FieldValueDuplicate,
    FieldValueInvalid,
    FieldValueNotSupported,
    FieldValueForbidden,
    FieldValueTooLong,
    FieldValueTooMany,
    FieldValueTypeInvalid,
    InternalError,
}

impl CauseType {
    /// The wire form, e.g. `FieldValueInvalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseType::FieldValueNotFound => "FieldValueNotFound",
            CauseType::FieldValueRequired => "FieldValueRequired",
            CauseType::FieldValueDuplicate => "FieldValueDuplicate",
            CauseType::FieldValueInvalid => "FieldValueInvalid",
            CauseType::FieldValueNotSupported => "FieldValueNotSupported",
            CauseType::FieldValueForbidden => "FieldValueForbidden",
            CauseType::FieldValueTooLong => "FieldValueTooLong",
            CauseType::FieldValueTooMany => "FieldValueTooMany",
            CauseType::FieldValueTypeInvalid => "FieldValueTypeInvalid",
            CauseType::InternalError => "InternalError",
        }
    }

    /// The words that open a cause's message (`field.ErrorType.String()`).
    fn label(self) -> &'static str {
        match self {
            CauseType::FieldValueNotFound => "Not found",
            CauseType::FieldValueRequired => "Required value",
            CauseType::FieldValueDuplicate => "Duplicate value",
            CauseType::FieldValueInvalid | CauseType::FieldValueTypeInvalid => "Invalid value",
            CauseType::FieldValueNotSupported => "Unsupported value",
            CauseType::FieldValueForbidden => "Forbidden",
            CauseType::FieldValueTooLong => "Too long",
            CauseType::FieldValueTooMany => "Too many",
            CauseType::InternalError => "Internal error",
        }
    }
}

impl fmt::Display for CauseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CauseType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One field-level validation failure: a `details.causes` entry of a 422 status. Serializes as
/// kube's `StatusCause` (`{"reason", "message", "field"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldCause {
    /// The JSON path of the field, e.g. `metadata.name` or `metadata.managedFields[0].manager`.
    pub field: String,
    /// What kind of failure it is.
    pub reason: CauseType,
    /// The failure without the field, e.g. `Invalid value: "Bad_Name": a lowercase …` — the
    /// form kube puts in `causes[].message` (`field.Error.ErrorBody()`).
    pub message: String,
}

impl FieldCause {
    fn with_value(
        field: impl Into<String>,
        reason: CauseType,
        value: &Value,
        detail: &str,
    ) -> Self {
        let mut message = format!("{}: {}", reason.label(), render_bad_value(value));
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(detail);
        }
        FieldCause { field: field.into(), reason, message }
    }

    fn without_value(field: impl Into<String>, reason: CauseType, detail: &str) -> Self {
        let mut message = reason.label().to_owned();
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(detail);
        }
        FieldCause { field: field.into(), reason, message }
    }

    /// `Invalid value: <value>: <detail>` — a malformed value.
    pub fn invalid(field: impl Into<String>, value: impl Into<Value>, detail: &str) -> Self {
        Self::with_value(field, CauseType::FieldValueInvalid, &value.into(), detail)
    }

    /// `Invalid value: <value>: <detail>` with reason `FieldValueTypeInvalid` — wrong JSON type.
    pub fn type_invalid(field: impl Into<String>, value: impl Into<Value>, detail: &str) -> Self {
        Self::with_value(field, CauseType::FieldValueTypeInvalid, &value.into(), detail)
    }

    /// `Required value[: <detail>]`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        Self::without_value(field, CauseType::FieldValueRequired, detail)
    }

    /// `Forbidden: <detail>` — a valid value that is not allowed here.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Self::without_value(field, CauseType::FieldValueForbidden, detail)
    }

    /// `Duplicate value: <value>`.
    pub fn duplicate(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::with_value(field, CauseType::FieldValueDuplicate, &value.into(), "")
    }

    /// `Not found: <value>`.
    pub fn not_found(field: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::with_value(field, CauseType::FieldValueNotFound, &value.into(), "")
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<Value>,
        valid: &[&str],
    ) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::with_value(field, CauseType::FieldValueNotSupported, &value.into(), &detail)
    }

    /// `Too long: may not be more than <max> bytes` — the value itself is not repeated.
    pub fn too_long(field: impl Into<String>, max_length: usize) -> Self {
        let unit = if max_length == 1 { "byte" } else { "bytes" };
        let detail = format!("may not be more than {max_length} {unit}");
        Self::without_value(field, CauseType::FieldValueTooLong, &detail)
    }

    /// `Internal error: <detail>`.
    pub fn internal(field: impl Into<String>, detail: &str) -> Self {
        Self::without_value(field, CauseType::InternalError, detail)
    }
}

impl fmt::Display for FieldCause {
    /// `field: message`, the form kube joins into the status message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// How kube prints a bad value: strings Go-quoted, numbers and booleans bare, anything else as
/// JSON with its keys sorted (Go writes maps that way).
fn render_bad_value(value: &Value) -> String {
    fn sort_keys(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.sort_keys();
                map.values_mut().for_each(sort_keys);
            }
            Value::Array(items) => items.iter_mut().for_each(sort_keys),
            _ => {}
        }
    }
    match value {
        Value::String(s) => go_quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => {
            let mut sorted = other.clone();
            sort_keys(&mut sorted);
            sorted.to_string()
        }
    }
}

/// Quotes a string as Go's `%q` does, so messages read like kube-apiserver's: printable
/// characters as they are, `"` and `\` escaped, control characters as `\n`, `\x07`, `\u0085`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if c == ' ' || !(c.is_control() || c.is_whitespace() || c == '\u{feff}') => {
                out.push(c)
            }
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Reads `metadata.<key>` as a map of strings (labels, annotations). A wrong JSON type adds a
/// `FieldValueTypeInvalid` cause and yields nothing to check further.
fn string_map<'a>(
    meta: &'a serde_json::Map<String, Value>,
    key: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<(&'a str, &'a str)> {
    let field = format!("metadata.{key}");
    match meta.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => {
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                match v {
                    Value::String(s) => out.push((k.as_str(), s.as_str())),
                    other => causes.push(FieldCause::type_invalid(
                        field.clone(),
                        other.clone(),
                        "must be a string",
                    )),
                }
            }
            out
        }
        Some(other) => {
            causes.push(FieldCause::type_invalid(field, other.clone(), "must be a map of strings"));
            Vec::new()
        }
    }
}

/// Reads `metadata.<key>` as a string; absent and `null` read as empty.
fn string_field<'a>(
    meta: &'a serde_json::Map<String, Value>,
    key: &str,
    causes: &mut Vec<FieldCause>,
) -> &'a str {
    match meta.get(key) {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s,
        Some(other) => {
            causes.push(FieldCause::type_invalid(
                format!("metadata.{key}"),
                other.clone(),
                "must be a string",
            ));
            ""
        }
    }
}

/// Validates labels: keys are qualified names, values valid label values. Every cause carries
/// the field `<path>` itself (kube does not index by key).
pub fn validate_labels<'a>(
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    path: &str,
) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    for (key, value) in labels {
        for msg in is_qualified_name(key) {
            causes.push(FieldCause::invalid(path, key, &msg));
        }
        for msg in is_valid_label_value(value) {
            causes.push(FieldCause::invalid(path, value, &msg));
        }
    }
    causes
}

/// Validates annotations: keys are qualified names once lower-cased, and keys plus values
/// together stay within [`TOTAL_ANNOTATION_SIZE_LIMIT`].
pub fn validate_annotations<'a>(
    annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
    path: &str,
) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let mut total = 0usize;
    for (key, value) in annotations {
        for msg in is_qualified_name(&key.to_lowercase()) {
            causes.push(FieldCause::invalid(path, key, &msg));
        }
        total = total.saturating_add(key.len()).saturating_add(value.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        causes.push(FieldCause::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    causes
}

/// Splits an `apiVersion` into (group, version) the way `schema.ParseGroupVersion` does; `None`
/// when it has more than one `/`.
fn parse_group_version(api_version: &str) -> Option<(&str, &str)> {
    if api_version.is_empty() {
        return Some(("", ""));
    }
    match api_version.split_once('/') {
        None => Some(("", api_version)),
        Some((group, version)) if !version.contains('/') => Some((group, version)),
        Some(_) => None,
    }
}

fn validate_owner_references(refs: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let list = match refs {
        Value::Null => return,
        Value::Array(list) => list,
        other => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a list"));
            return;
        }
    };
    let mut first_controller: Option<String> = None;
    for owner in list {
        let Some(owner_map) = owner.as_object() else {
            causes.push(FieldCause::type_invalid(path, owner.clone(), "must be an object"));
            continue;
        };
        let text = |key: &str| owner_map.get(key).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind, name, uid) =
            (text("apiVersion"), text("kind"), text("name"), text("uid"));
        let (group, version) = parse_group_version(api_version).unwrap_or(("", ""));
        if version.is_empty() {
            causes.push(FieldCause::invalid(
                format!("{path}.apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        if kind.is_empty() {
            causes.push(FieldCause::invalid(format!("{path}.kind"), kind, "must not be empty"));
        }
        if name.is_empty() {
            causes.push(FieldCause::invalid(format!("{path}.name"), name, "must not be empty"));
        }
        if uid.is_empty() {
            causes.push(FieldCause::invalid(format!("{path}.uid"), uid, "must not be empty"));
        }
        // Events may not own anything: they are garbage themselves.
        if group.is_empty() && version == "v1" && kind == "Event" {
            causes.push(FieldCause::invalid(
                path,
                owner.clone(),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if owner_map.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => causes.push(FieldCause::invalid(
                    path,
                    refs.clone(),
                    &format!(
                        "Only one reference can have Controller set to true. Found \"true\" in \
                         references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
}

/// The garbage collector's finalizers, which contradict each other.
const FINALIZER_ORPHAN_DEPENDENTS: &str = "orphan";
const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";

fn string_list<'a>(
    value: Option<&'a Value>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Vec<&'a str> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(s) => Some(s.as_str()),
                other => {
                    causes.push(FieldCause::type_invalid(path, other.clone(), "must be a string"));
                    None
                }
            })
            .collect(),
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a list of strings"));
            Vec::new()
        }
    }
}

fn validate_finalizers(finalizers: &[&str], path: &str, causes: &mut Vec<FieldCause>) {
    for finalizer in finalizers {
        for msg in is_qualified_name(finalizer) {
            causes.push(FieldCause::invalid(path, *finalizer, &msg));
        }
    }
    if finalizers.contains(&FINALIZER_ORPHAN_DEPENDENTS)
        && finalizers.contains(&FINALIZER_DELETE_DEPENDENTS)
    {
        causes.push(FieldCause::invalid(
            path,
            Value::from(finalizers.to_vec()),
            &format!(
                "finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} cannot \
                 be both set"
            ),
        ));
    }
}

/// kube's `ValidateFieldManager`: at most 128 bytes, printable.
pub fn validate_field_manager(manager: &str, path: &str, causes: &mut Vec<FieldCause>) {
    if manager.len() > FIELD_MANAGER_MAX_LENGTH {
        causes.push(FieldCause::too_long(path, FIELD_MANAGER_MAX_LENGTH));
    }
    for (position, c) in manager.char_indices() {
        if !crate::apply::manager::is_printable(c) {
            causes.push(FieldCause::invalid(
                path,
                manager,
                &format!("invalid character U+{:04X} (at position {position})", c as u32),
            ));
        }
    }
}

fn validate_managed_fields(value: Option<&Value>, path: &str, causes: &mut Vec<FieldCause>) {
    let entries = match value {
        None | Some(Value::Null) => return,
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be a list"));
            return;
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        let entry_path = format!("{path}[{i}]");
        let Some(entry) = entry.as_object() else {
            causes.push(FieldCause::type_invalid(entry_path, entry.clone(), "must be an object"));
            continue;
        };
        let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or("");
        let operation = text("operation");
        if operation != "Apply" && operation != "Update" {
            causes.push(FieldCause::invalid(
                format!("{entry_path}.operation"),
                operation,
                "must be `Apply` or `Update`",
            ));
        }
        let fields_type = text("fieldsType");
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            causes.push(FieldCause::invalid(
                format!("{entry_path}.fieldsType"),
                fields_type,
                "must be `FieldsV1`",
            ));
        }
        validate_field_manager(text("manager"), &format!("{entry_path}.manager"), causes);
        if text("subresource").len() > MAX_SUBRESOURCE_NAME_LENGTH {
            causes.push(FieldCause::too_long(
                format!("{entry_path}.subresource"),
                MAX_SUBRESOURCE_NAME_LENGTH,
            ));
        }
    }
}

/// The checks shared by create and update: labels, annotations, owner references, finalizers
/// and managed fields.
fn validate_meta_common(meta: &serde_json::Map<String, Value>, causes: &mut Vec<FieldCause>) {
    let labels = string_map(meta, "labels", causes);
    causes.extend(validate_labels(labels, "metadata.labels"));
    let annotations = string_map(meta, "annotations", causes);
    causes.extend(validate_annotations(annotations, "metadata.annotations"));
    if let Some(refs) = meta.get("ownerReferences") {
        validate_owner_references(refs, "metadata.ownerReferences", causes);
    }
    let finalizers = string_list(meta.get("finalizers"), "metadata.finalizers", causes);
    validate_finalizers(&finalizers, "metadata.finalizers", causes);
    validate_managed_fields(meta.get("managedFields"), "metadata.managedFields", causes);
}

fn as_meta_object<'a>(
    meta: &'a Value,
    causes: &mut Vec<FieldCause>,
) -> Option<&'a serde_json::Map<String, Value>> {
    match meta {
        Value::Object(map) => Some(map),
        other => {
            causes.push(FieldCause::type_invalid("metadata", other.clone(), "must be an object"));
            None
        }
    }
}

/// Validates an object's `metadata` on create, as kube-apiserver's `ValidateObjectMeta` does:
///
/// - `generateName` (checked as a prefix) and `name` against `name_validator`; a missing name is
///   `Required value: name or generateName is required` (name generation runs before this);
/// - `namespace`: required and a DNS-1123 label when `namespaced`, forbidden otherwise;
/// - `generation` not negative; labels; annotations (keys, total size); owner references;
///   finalizers; managed fields.
///
/// `meta` is the `metadata` object itself; causes use paths starting at `metadata.`.
pub fn validate_object_meta(
    meta: &Value,
    namespaced: bool,
    name_validator: NameValidator,
) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let Some(map) = as_meta_object(meta, &mut causes) else {
        return causes;
    };
    let generate_name = string_field(map, "generateName", &mut causes);
    if !generate_name.is_empty() {
        for msg in name_validator(generate_name, true) {
            causes.push(FieldCause::invalid("metadata.generateName", generate_name, &msg));
        }
    }
    let name = string_field(map, "name", &mut causes);
    if name.is_empty() {
        causes.push(FieldCause::required("metadata.name", "name or generateName is required"));
    } else {
        for msg in name_validator(name, false) {
            causes.push(FieldCause::invalid("metadata.name", name, &msg));
        }
    }
    let namespace = string_field(map, "namespace", &mut causes);
    if namespaced {
        if namespace.is_empty() {
            causes.push(FieldCause::required("metadata.namespace", ""));
        } else {
            for msg in validate_namespace_name(namespace, false) {
                causes.push(FieldCause::invalid("metadata.namespace", namespace, &msg));
            }
        }
    } else if !namespace.is_empty() {
        causes.push(FieldCause::forbidden("metadata.namespace", "not allowed on this type"));
    }
    match map.get("generation") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_i64().is_some_and(|g| g >= 0) || n.is_u64() => {}
        Some(Value::Number(n)) if n.as_i64().is_some() => causes.push(FieldCause::invalid(
            "metadata.generation",
            n.clone(),
            "must be greater than or equal to 0",
        )),
        Some(other) => causes.push(FieldCause::type_invalid(
            "metadata.generation",
            other.clone(),
            "must be an integer",
        )),
    }
    validate_meta_common(map, &mut causes);
    causes
}

fn integer_field(meta: &serde_json::Map<String, Value>, key: &str) -> i64 {
    meta.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// Validates an object's `metadata` on update against the stored object's, as kube-apiserver's
/// `ValidateObjectMetaUpdate` does: `name`, `namespace`, `uid`, `creationTimestamp`,
/// `deletionTimestamp` and `deletionGracePeriodSeconds` are immutable (`field is immutable`),
/// `generation` may not go down, no finalizer may be added once deletion started, and labels,
/// annotations, owner references, finalizers and managed fields are checked again.
///
/// Call it after carrying system fields over from the stored object as kube's `rest.BeforeUpdate`
/// does (an empty `uid` takes the old one, `creationTimestamp` is always the old one); otherwise
/// a client that omits them gets `field is immutable`.
///
/// kube also rejects an update without `resourceVersion` here; that precondition belongs to the
/// store's compare-and-swap in this server, so it is not repeated.
pub fn validate_object_meta_update(new_meta: &Value, old_meta: &Value) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let Some(new) = as_meta_object(new_meta, &mut causes) else {
        return causes;
    };
    let empty = serde_json::Map::new();
    let old = old_meta.as_object().unwrap_or(&empty);

    let deleting = !matches!(old.get("deletionTimestamp"), None | Some(Value::Null));
    if deleting {
        let mut ignored = Vec::new();
        let new_finalizers =
            string_list(new.get("finalizers"), "metadata.finalizers", &mut ignored);
        let old_finalizers =
            string_list(old.get("finalizers"), "metadata.finalizers", &mut ignored);
        let mut added: Vec<&str> =
            new_finalizers.iter().copied().filter(|f| !old_finalizers.contains(f)).collect();
        added.sort_unstable();
        added.dedup();
        if !added.is_empty() {
            let list: Vec<String> = added.iter().map(|f| go_quote(f)).collect();
            causes.push(FieldCause::forbidden(
                "metadata.finalizers",
                &format!(
                    "no new finalizers can be added if the object is being deleted, found new \
                     finalizers []string{{{}}}",
                    list.join(", ")
                ),
            ));
        }
    }
    if integer_field(new, "generation") < integer_field(old, "generation") {
        causes.push(FieldCause::invalid(
            "metadata.generation",
            integer_field(new, "generation"),
            "must not be decremented",
        ));
    }
    for key in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        let normalize = |v: Option<&Value>| match v {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) if s.is_empty() => Value::Null,
            Some(other) => other.clone(),
        };
        let (new_value, old_value) = (normalize(new.get(key)), normalize(old.get(key)));
        if new_value != old_value {
            let shown = match new_value {
                Value::Null if matches!(key, "name" | "namespace" | "uid") => Value::from(""),
                other => other,
            };
            causes.push(FieldCause::invalid(
                format!("metadata.{key}"),
                shown,
                "field is immutable",
            ));
        }
    }
    validate_meta_common(new, &mut causes);
    causes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
        alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character \
        (e.g. 'example.com', regex used for validation is \
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    #[test]
    fn dns1123_subdomain() {
        for ok in ["a", "ab", "a-b", "a.b", "0", "a1.b2.c3", "x---y", &"a".repeat(253)] {
            assert!(is_dns1123_subdomain(ok).is_empty(), "{ok}");
        }
        for bad in ["", "A", "-a", "a-", "a..b", ".a", "a.", "a_b", "a.-b", "é"] {
            assert_eq!(is_dns1123_subdomain(bad), vec![SUBDOMAIN_MSG.to_owned()], "{bad}");
        }
        assert_eq!(
            is_dns1123_subdomain(&"a".repeat(254)),
            vec!["must be no more than 253 characters".to_owned()]
        );
        assert_eq!(is_dns1123_subdomain(&"A".repeat(254)).len(), 2);
    }

    #[test]
    fn dns1123_label() {
        for ok in ["a", "a-b", "0a", &"a".repeat(63)] {
            assert!(is_dns1123_label(ok).is_empty(), "{ok}");
        }
        assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots".to_owned()]);
        assert_eq!(
            is_dns1123_label("Bad"),
            vec![
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters \
                 or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
                 or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                    .to_owned()
            ]
        );
        assert_eq!(is_dns1123_label(""), is_dns1123_label("-"));
        assert_eq!(
            is_dns1123_label(&"a".repeat(64)),
            vec!["must be no more than 63 characters".to_owned()]
        );
    }

    #[test]
    fn dns1035_label() {
        assert!(is_dns1035_label("my-svc").is_empty());
        assert_eq!(
            is_dns1035_label("1abc"),
            vec![
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
                 start with an alphabetic character, and end with an alphanumeric character \
                 (e.g. 'my-name',  or 'abc-123', regex used for validation is \
                 '[a-z]([-a-z0-9]*[a-z0-9])?')"
                    .to_owned()
            ]
        );
        assert_eq!(is_dns1035_label(""), is_dns1035_label("1abc"));
        assert_eq!(is_dns1035_label(&"a".repeat(64)).len(), 1);
    }

    #[test]
    fn qualified_names() {
        for ok in ["a", "A", "a.b_c-D", "example.com/MyName", "k8s.io/x", &"a".repeat(63)] {
            assert!(is_qualified_name(ok).is_empty(), "{ok}");
        }
        let name_regex = "name part must consist of alphanumeric characters, '-', '_' or '.', and \
            must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or \
            '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        assert_eq!(is_qualified_name("app:monolith"), vec![name_regex.to_owned()]);
        assert_eq!(is_qualified_name("-a"), vec![name_regex.to_owned()]);
        assert_eq!(
            is_qualified_name(""),
            vec!["name part must be non-empty".to_owned(), name_regex.to_owned()]
        );
        assert_eq!(is_qualified_name("/a"), vec!["prefix part must be non-empty".to_owned()]);
        assert_eq!(
            is_qualified_name("a/"),
            vec!["name part must be non-empty".to_owned(), name_regex.to_owned()]
        );
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters".to_owned()]
        );
        assert_eq!(
            is_qualified_name("app.kubernetes_io/name"),
            vec![format!("prefix part {SUBDOMAIN_MSG}")]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec![
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and \
                 must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  \
                 or '123-abc', regex used for validation is \
                 '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain \
                 prefix and '/' (e.g. 'example.com/MyName')"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn label_values() {
        for ok in ["", "a", "MyValue", "my_value", "1.2-3", &"v".repeat(63)] {
            assert!(is_valid_label_value(ok).is_empty(), "{ok:?}");
        }
        let msg = "a valid label must be an empty string or consist of alphanumeric characters, \
            '-', '_' or '.', and must start and end with an alphanumeric character (e.g. \
            'MyValue',  or 'my_value',  or '12345', regex used for validation is \
            '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        assert_eq!(is_valid_label_value("-x"), vec![msg.to_owned()]);
        assert_eq!(is_valid_label_value("a b"), vec![msg.to_owned()]);
        assert_eq!(
            is_valid_label_value(&"v".repeat(64)),
            vec!["must be no more than 63 characters".to_owned()]
        );
    }

    #[test]
    fn config_map_keys_and_identifiers() {
        assert!(is_config_map_key("key.name").is_empty());
        assert!(is_config_map_key(".hidden").is_empty());
        assert_eq!(is_config_map_key("."), vec!["must not be '.'".to_owned()]);
        assert_eq!(is_config_map_key(".."), vec!["must not be '..'".to_owned()]);
        assert_eq!(is_config_map_key("..x"), vec!["must not start with '..'".to_owned()]);
        assert_eq!(is_config_map_key("a/b").len(), 1);
        assert_eq!(is_config_map_key("").len(), 1);
        assert_eq!(is_config_map_key(&"k".repeat(254)).len(), 1);
        assert!(is_c_identifier("_my_NAME1").is_empty());
        assert_eq!(is_c_identifier("1abc").len(), 1);
        assert_eq!(is_c_identifier("").len(), 1);
        assert!(is_c_identifier("a-b")[0].starts_with("a valid C identifier must start"));
    }

    #[test]
    fn path_segment_names() {
        assert!(is_valid_path_segment_name("ok").is_empty());
        assert_eq!(is_valid_path_segment_name(".."), vec!["may not be '..'".to_owned()]);
        assert_eq!(is_valid_path_segment_name("."), vec!["may not be '.'".to_owned()]);
        assert_eq!(
            is_valid_path_segment_name("a/%"),
            vec!["may not contain '/'".to_owned(), "may not contain '%'".to_owned()]
        );
    }

    #[test]
    fn generate_name_prefixes_may_end_in_a_dash() {
        assert!(name_is_dns_subdomain("web-", true).is_empty());
        assert!(!name_is_dns_subdomain("web-", false).is_empty());
        assert!(name_is_dns_label("ns-", true).is_empty());
        assert!(name_is_dns1035_label("svc-", true).is_empty());
        assert!(!name_is_dns_subdomain("-", true).is_empty());
        assert!(!name_is_dns_subdomain("Web-", true).is_empty());
        // Multi-byte character before the dash: no panic, still invalid.
        assert!(!name_is_dns_subdomain("é-", true).is_empty());
        assert!(validate_namespace_name("default", false).is_empty());
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("Bad_Name"), "\"Bad_Name\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\n\t\u{7}\u{1}"), "\"\\n\\t\\a\\x01\"");
        assert_eq!(go_quote("é ü"), "\"é ü\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
    }

    #[test]
    fn cause_messages() {
        let cause = FieldCause::invalid("metadata.name", "Bad_Name", SUBDOMAIN_MSG);
        assert_eq!(cause.reason, CauseType::FieldValueInvalid);
        assert_eq!(cause.message, format!("Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}"));
        assert_eq!(cause.to_string(), format!("metadata.name: {}", cause.message));
        assert_eq!(FieldCause::required("metadata.namespace", "").message, "Required value");
        assert_eq!(
            FieldCause::forbidden("metadata.namespace", "not allowed on this type").message,
            "Forbidden: not allowed on this type"
        );
        assert_eq!(
            FieldCause::too_long("metadata.annotations", 262144).message,
            "Too long: may not be more than 262144 bytes"
        );
        assert_eq!(FieldCause::too_long("x", 1).message, "Too long: may not be more than 1 byte");
        assert_eq!(FieldCause::duplicate("x", "a").message, "Duplicate value: \"a\"");
        assert_eq!(FieldCause::not_found("x", 3).message, "Not found: 3");
        assert_eq!(
            FieldCause::not_supported("spec.x", "b", &["a", "c"]).message,
            "Unsupported value: \"b\": supported values: \"a\", \"c\""
        );
        assert_eq!(FieldCause::not_supported("x", "b", &[]).message, "Unsupported value: \"b\"");
        assert_eq!(FieldCause::invalid("x", -1, "neg").message, "Invalid value: -1: neg");
        assert_eq!(FieldCause::invalid("x", true, "").message, "Invalid value: true");
        assert_eq!(
            FieldCause::invalid("x", json!(["a"]), "d").message,
            "Invalid value: [\"a\"]: d"
        );
        assert_eq!(FieldCause::internal("x", "boom").message, "Internal error: boom");
        assert_eq!(
            FieldCause::type_invalid("x", 1, "must be a string").reason.as_str(),
            "FieldValueTypeInvalid"
        );
        assert_eq!(
            serde_json::to_value(&cause).unwrap(),
            json!({"field": "metadata.name", "reason": "FieldValueInvalid", "message": cause.message})
        );
        assert_eq!(CauseType::FieldValueTooMany.to_string(), "FieldValueTooMany");
        assert_eq!(CauseType::FieldValueNotFound.as_str(), "FieldValueNotFound");
        assert_eq!(CauseType::FieldValueDuplicate.as_str(), "FieldValueDuplicate");
        assert_eq!(CauseType::FieldValueForbidden.as_str(), "FieldValueForbidden");
        assert_eq!(CauseType::FieldValueRequired.as_str(), "FieldValueRequired");
        assert_eq!(CauseType::FieldValueNotSupported.as_str(), "FieldValueNotSupported");
        assert_eq!(CauseType::FieldValueTooLong.as_str(), "FieldValueTooLong");
        assert_eq!(CauseType::InternalError.as_str(), "InternalError");
    }

    fn fields(causes: &[FieldCause]) -> Vec<(&str, &str)> {
        causes.iter().map(|c| (c.field.as_str(), c.reason.as_str())).collect()
    }

    #[test]
    fn object_meta_valid() {
        let meta = json!({
            "name": "web", "namespace": "default", "generation": 3,
            "labels": {"app": "web", "example.com/tier": ""},
            "annotations": {"Example.COM/Note": "anything goes here"},
            "finalizers": ["example.com/cleanup"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                                 "uid": "u1", "controller": true}],
            "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1"}]
        });
        assert_eq!(validate_object_meta(&meta, true, name_is_dns_subdomain), vec![]);
    }

    #[test]
    fn object_meta_names() {
        let causes =
            validate_object_meta(&json!({"name": "Bad_Name"}), false, name_is_dns_subdomain);
        assert_eq!(causes.len(), 1);
        assert_eq!(
            causes[0].to_string(),
            format!("metadata.name: Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}")
        );
        let causes = validate_object_meta(&json!({}), false, name_is_dns_subdomain);
        assert_eq!(
            causes[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
        let causes = validate_object_meta(
            &json!({"generateName": "Web-", "name": "web-abcde"}),
            false,
            name_is_dns_subdomain,
        );
        assert_eq!(fields(&causes), vec![("metadata.generateName", "FieldValueInvalid")]);
        let causes =
            validate_object_meta(&json!({"name": 5, "namespace": []}), true, name_is_dns_subdomain);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.name", "FieldValueTypeInvalid"),
                ("metadata.name", "FieldValueRequired"),
                ("metadata.namespace", "FieldValueTypeInvalid"),
                ("metadata.namespace", "FieldValueRequired"),
            ]
        );
        let causes = validate_object_meta(&json!("x"), true, name_is_dns_subdomain);
        assert_eq!(fields(&causes), vec![("metadata", "FieldValueTypeInvalid")]);
    }

    #[test]
    fn object_meta_namespace() {
        let v = name_is_dns_subdomain;
        let causes = validate_object_meta(&json!({"name": "a"}), true, v);
        assert_eq!(causes[0].to_string(), "metadata.namespace: Required value");
        let causes = validate_object_meta(&json!({"name": "a", "namespace": "a.b"}), true, v);
        assert_eq!(
            causes[0].to_string(),
            "metadata.namespace: Invalid value: \"a.b\": must not contain dots"
        );
        let causes = validate_object_meta(&json!({"name": "a", "namespace": "x"}), false, v);
        assert_eq!(
            causes[0].to_string(),
            "metadata.namespace: Forbidden: not allowed on this type"
        );
    }

    #[test]
    fn object_meta_generation() {
        let v = name_is_dns_subdomain;
        let causes = validate_object_meta(&json!({"name": "a", "generation": -1}), false, v);
        assert_eq!(
            causes[0].to_string(),
            "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
        );
        let causes = validate_object_meta(&json!({"name": "a", "generation": "1"}), false, v);
        assert_eq!(fields(&causes), vec![("metadata.generation", "FieldValueTypeInvalid")]);
        assert!(
            validate_object_meta(&json!({"name": "a", "generation": u64::MAX}), false, v)
                .is_empty()
        );
    }

    #[test]
    fn object_meta_labels_and_annotations() {
        let v = name_is_dns_subdomain;
        let meta = json!({"name": "a", "labels": {"bad key": "-bad-", "ok": 1}});
        let causes = validate_object_meta(&meta, false, v);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.labels", "FieldValueTypeInvalid"),
                ("metadata.labels", "FieldValueInvalid"),
                ("metadata.labels", "FieldValueInvalid"),
            ]
        );
        assert!(causes[1].message.starts_with("Invalid value: \"bad key\": name part must"));
        assert!(causes[2].message.starts_with("Invalid value: \"-bad-\": a valid label must"));
        let causes = validate_object_meta(&json!({"name": "a", "labels": []}), false, v);
        assert_eq!(causes[0].message, "Invalid value: []: must be a map of strings");

        let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
        let meta = json!({"name": "a", "annotations": {"k": big, "Bad Key!": ""}});
        let causes = validate_object_meta(&meta, false, v);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.annotations", "FieldValueInvalid"),
                ("metadata.annotations", "FieldValueTooLong"),
            ]
        );
        assert_eq!(
            causes[1].to_string(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        let exact = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1);
        assert!(
            validate_object_meta(&json!({"name": "a", "annotations": {"k": exact}}), false, v)
                .is_empty()
        );
    }

    #[test]
    fn object_meta_owner_references() {
        let v = name_is_dns_subdomain;
        let meta = json!({"name": "a", "ownerReferences": [
            {"apiVersion": "a/b/c", "kind": "", "name": "", "uid": ""},
            {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u"},
            {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "1", "controller": true},
            {"apiVersion": "v1", "kind": "Pod", "name": "q", "uid": "2", "controller": true},
            "nope"
        ]});
        let causes = validate_object_meta(&meta, false, v);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.ownerReferences.apiVersion", "FieldValueInvalid"),
                ("metadata.ownerReferences.kind", "FieldValueInvalid"),
                ("metadata.ownerReferences.name", "FieldValueInvalid"),
                ("metadata.ownerReferences.uid", "FieldValueInvalid"),
                ("metadata.ownerReferences", "FieldValueInvalid"),
                ("metadata.ownerReferences", "FieldValueInvalid"),
                ("metadata.ownerReferences", "FieldValueTypeInvalid"),
            ]
        );
        assert_eq!(causes[0].message, "Invalid value: \"a/b/c\": version must not be empty");
        assert!(causes[4].message.ends_with("/v1, Kind=Event is disallowed from being an owner"));
        assert!(causes[5].message.ends_with(
            "Only one reference can have Controller set to true. Found \"true\" in references \
             for Pod/p and Pod/q"
        ));
        let causes = validate_object_meta(&json!({"name": "a", "ownerReferences": {}}), false, v);
        assert_eq!(fields(&causes), vec![("metadata.ownerReferences", "FieldValueTypeInvalid")]);
        let missing_version = json!({"name": "a", "ownerReferences": [{"apiVersion": "apps/", "kind": "K", "name": "n", "uid": "u"}]});
        assert_eq!(validate_object_meta(&missing_version, false, v).len(), 1);
    }

    #[test]
    fn object_meta_finalizers_and_managed_fields() {
        let v = name_is_dns_subdomain;
        let meta =
            json!({"name": "a", "finalizers": ["orphan", "foregroundDeletion", "bad/x/y", 3]});
        let causes = validate_object_meta(&meta, false, v);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.finalizers", "FieldValueTypeInvalid"),
                ("metadata.finalizers", "FieldValueInvalid"),
                ("metadata.finalizers", "FieldValueInvalid"),
            ]
        );
        assert_eq!(
            causes[2].message,
            "Invalid value: [\"orphan\",\"foregroundDeletion\",\"bad/x/y\"]: finalizer orphan and \
             foregroundDeletion cannot be both set"
        );
        let meta = json!({"name": "a", "managedFields": [
            {"manager": "m\u{7}", "operation": "Patch", "fieldsType": "FieldsV2",
             "subresource": "s".repeat(257)},
            {"manager": "m".repeat(129), "operation": "Apply"},
            7
        ]});
        let causes = validate_object_meta(&meta, false, v);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.managedFields[0].operation", "FieldValueInvalid"),
                ("metadata.managedFields[0].fieldsType", "FieldValueInvalid"),
                ("metadata.managedFields[0].manager", "FieldValueInvalid"),
                ("metadata.managedFields[0].subresource", "FieldValueTooLong"),
                ("metadata.managedFields[1].manager", "FieldValueTooLong"),
                ("metadata.managedFields[2]", "FieldValueTypeInvalid"),
            ]
        );
        assert_eq!(
            causes[2].message,
            "Invalid value: \"m\\a\": invalid character U+0007 (at position 1)"
        );
    }

    #[test]
    fn object_meta_update() {
        let old = json!({"name": "a", "namespace": "ns", "uid": "u1", "generation": 2,
                         "creationTimestamp": "2024-01-01T00:00:00Z"});
        assert!(validate_object_meta_update(&old, &old).is_empty());
        let new = json!({"name": "b", "namespace": "ns", "uid": "u2", "generation": 1});
        let causes = validate_object_meta_update(&new, &old);
        assert_eq!(
            fields(&causes),
            vec![
                ("metadata.generation", "FieldValueInvalid"),
                ("metadata.name", "FieldValueInvalid"),
                ("metadata.uid", "FieldValueInvalid"),
                ("metadata.creationTimestamp", "FieldValueInvalid"),
            ]
        );
        assert_eq!(causes[1].message, "Invalid value: \"b\": field is immutable");
        assert_eq!(causes[3].message, "Invalid value: null: field is immutable");

        let deleting = json!({"name": "a", "deletionTimestamp": "2024-01-01T00:00:00Z",
                              "finalizers": ["x"]});
        let new = json!({"name": "a", "deletionTimestamp": "2024-01-01T00:00:00Z",
                         "finalizers": ["x", "z", "y"]});
        let causes = validate_object_meta_update(&new, &deleting);
        assert_eq!(
            causes[0].to_string(),
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is \
             being deleted, found new finalizers []string{\"y\", \"z\"}"
        );
        assert_eq!(
            fields(&validate_object_meta_update(&json!(1), &old)),
            vec![("metadata", "FieldValueTypeInvalid")]
        );
        let relabeled = json!({"name": "a", "namespace": "ns", "uid": "u1", "generation": 2,
                               "creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"a": "-"}});
        assert_eq!(validate_object_meta_update(&relabeled, &old).len(), 1);
    }
}
