//! `certificates.k8s.io/v1` CertificateSigningRequests (`pkg/registry/certificates/certificates`,
//! `pkg/apis/certificates/validation`): a PKCS#10 request for a certificate from a named signer,
//! approved or denied through `/approval`, issued through `/status`.
//!
//! As kube-apiserver: the requester (`spec.username`, `uid`, `groups`, `extra`) is set by the
//! server from who creates the object, never from the body; the spec never changes after
//! creation (updates keep the stored one); a create starts with an empty status; `/approval`
//! moves only the conditions, `/status` everything in the status but the Approved and Denied
//! conditions; conditions get their timestamps. Who may approve or sign is admission's
//! business (`crate::admission::certificate_*`); the signer is `crate::registry::csr_signing`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{
    Kind, age_column, array_at, column, int_at, name_column, opt_array, opt_int, opt_object,
    opt_str, str_at,
};
use crate::authn::UserInfo;
use crate::meta::validation::{FieldCause, is_dns1123_label, is_dns1123_subdomain};
use crate::pki::csr::{CertificateRequest, check_certificates};
use crate::registry::object::now_rfc3339;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec, human_duration};

pub const GROUP: &str = "certificates.k8s.io";
pub const PLURAL: &str = "certificatesigningrequests";

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "CertificateSigningRequest",
    plural: PLURAL,
    short_names: &["csr"],
    categories: &[],
    namespaced: false,
    storage_prefix: "/certificatesigningrequests",
};

/// The signer of client certificates kube-apiserver trusts.
pub const KUBE_APISERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";
/// The v1beta1 default, refused by v1.
const LEGACY_UNKNOWN_SIGNER: &str = "kubernetes.io/legacy-unknown";

/// The condition types, and those that may only be `True`.
pub const APPROVED: &str = "Approved";
pub const DENIED: &str = "Denied";
pub const FAILED: &str = "Failed";

/// kube's `KeyUsage` values.
const USAGES: &[&str] = &[
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(CsrStrategy), table()) }
}

/// CertificateSigningRequest rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsrStrategy;

impl Strategy for CsrStrategy {
    fn prepare_for_create_by(&self, csr: &mut Value, user: &UserInfo) {
        let Some(map) = csr.as_object_mut() else { return };
        if let Some(Value::Object(spec)) = map.get_mut("spec") {
            // Who asks is the server's to say.
            for field in ["username", "uid", "groups", "extra"] {
                spec.shift_remove(field);
            }
            if !user.name.is_empty() {
                spec.insert("username".into(), user.name.clone().into());
            }
            if !user.uid.is_empty() {
                spec.insert("uid".into(), user.uid.clone().into());
            }
            if !user.groups.is_empty() {
                spec.insert("groups".into(), json!(user.groups));
            }
            if !user.extra.is_empty() {
                spec.insert("extra".into(), json!(user.extra));
            }
            arrange_spec(spec);
        }
        // No pre-approved (or pre-issued) requests.
        map.insert("status".into(), json!({}));
    }

    fn validate(&self, csr: &Value) -> Vec<FieldCause> {
        validate(csr, &Options::for_update(csr, None))
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        // Only the metadata changes through the object itself.
        keep(new, old, "spec");
        keep(new, old, "status");
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        validate_update(new, old, Options::for_update(new, Some(old)))
    }

    fn update_subresources(&self) -> &'static [&'static str] {
        &["approval"]
    }

    fn prepare_for_subresource_update(&self, subresource: &str, new: &mut Value, old: &Value) {
        match subresource {
            "status" => {
                keep(new, old, "spec");
                preserve_conditions(new, old, APPROVED);
                preserve_conditions(new, old, DENIED);
                stamp_conditions(new, old);
            }
            "approval" => {
                stamp_conditions(new, old);
                let conditions = new.pointer("/status/conditions").cloned();
                keep(new, old, "spec");
                keep(new, old, "status");
                let status = status_mut(new);
                match conditions {
                    Some(conditions) => status.insert("conditions".into(), conditions),
                    None => status.shift_remove("conditions"),
                };
            }
            _ => self.prepare_for_update(new, old),
        }
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        let mut options = Options::for_update(new, Some(old));
        match subresource {
            "status" => options.allow_setting_certificate = true,
            "approval" => options.allow_setting_approval_conditions = true,
            _ => {}
        }
        validate_update(new, old, options)
    }

    fn selectable_fields(&self, csr: &Value) -> BTreeMap<String, String> {
        BTreeMap::from([("spec.signerName".to_owned(), str_at(csr, "/spec/signerName").to_owned())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["spec.signerName"]
    }
}

/// Sets `new[field]` to `old[field]` (or removes it).
fn keep(new: &mut Value, old: &Value, field: &str) {
    if let Some(map) = new.as_object_mut() {
        match old.get(field) {
            Some(value) => map.insert(field.into(), value.clone()),
            None => map.shift_remove(field),
        };
    }
}

/// `new.status` as an object, created (or replaced when not an object).
fn status_mut(new: &mut Value) -> &mut Map<String, Value> {
    if !new.get("status").is_some_and(Value::is_object) {
        new["status"] = json!({});
    }
    new["status"].as_object_mut().expect("just made an object")
}

/// The spec's fields in kube's order (`CertificateSigningRequestSpec`); others are dropped, as
/// kube's decoder drops them.
fn arrange_spec(spec: &mut Map<String, Value>) {
    let order = [
        "request",
        "signerName",
        "expirationSeconds",
        "usages",
        "username",
        "uid",
        "groups",
        "extra",
    ];
    let mut arranged = Map::new();
    for field in order {
        if let Some(value) = spec.shift_remove(field) {
            arranged.insert(field.into(), value);
        }
    }
    *spec = arranged;
}

/// The conditions of `csr` of type `kind`, with their indices.
fn conditions_of<'a>(csr: &'a Value, kind: &str) -> Vec<(usize, &'a Value)> {
    array_at(csr, "/status/conditions")
        .iter()
        .enumerate()
        .filter(|(_, c)| c.get("type").and_then(Value::as_str) == Some(kind))
        .collect()
}

/// kube's status strategy: the stored instances of a condition type stay as they were when the
/// write keeps their number (adding or removing them is then a validation error).
fn preserve_conditions(new: &mut Value, old: &Value, kind: &str) {
    let olds: Vec<Value> = conditions_of(old, kind).into_iter().map(|(_, c)| c.clone()).collect();
    let indices: Vec<usize> = conditions_of(new, kind).into_iter().map(|(i, _)| i).collect();
    if olds.len() != indices.len() {
        return;
    }
    if let Some(conditions) = new.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
        for (index, condition) in indices.into_iter().zip(olds) {
            conditions[index] = condition;
        }
    }
}

/// Conditions without `lastUpdateTime` get now; without `lastTransitionTime`, the stored one of
/// a condition of the same type and status, else now.
fn stamp_conditions(new: &mut Value, old: &Value) {
    let now = now_rfc3339();
    let olds = array_at(old, "/status/conditions");
    let Some(conditions) = new.pointer_mut("/status/conditions").and_then(Value::as_array_mut)
    else {
        return;
    };
    for condition in conditions.iter_mut().filter_map(Value::as_object_mut) {
        let unset = |c: &Map<String, Value>, f: &str| {
            c.get(f).is_none_or(|v| v.is_null() || v.as_str() == Some(""))
        };
        if unset(condition, "lastUpdateTime") {
            condition.insert("lastUpdateTime".into(), now.clone().into());
        }
        if unset(condition, "lastTransitionTime") {
            let same = |o: &&Value| {
                o.get("type") == condition.get("type") && o.get("status") == condition.get("status")
            };
            let stored = olds
                .iter()
                .filter(same)
                .filter_map(|o| o.get("lastTransitionTime").and_then(Value::as_str))
                .find(|t| !t.is_empty());
            let stamp = stored.map_or_else(|| now.clone(), str::to_owned);
            condition.insert("lastTransitionTime".into(), stamp.into());
        }
    }
}

/// What kube's validation tolerates on a given write (`certificateValidationOptions`): the
/// subresource's rights, and old problems already stored.
#[derive(Debug, Clone, Copy, Default)]
struct Options {
    allow_setting_approval_conditions: bool,
    allow_setting_certificate: bool,
    allow_both_approved_and_denied: bool,
    allow_legacy_signer_name: bool,
    allow_duplicate_condition_types: bool,
    allow_empty_condition_type: bool,
    allow_arbitrary_certificate: bool,
    allow_unknown_usages: bool,
    allow_duplicate_usages: bool,
}

impl Options {
    /// kube's `getValidationOptions`: `old` is `None` on create.
    fn for_update(new: &Value, old: Option<&Value>) -> Options {
        let Some(old) = old else { return Options::default() };
        let types: Vec<&str> = array_at(old, "/status/conditions")
            .iter()
            .map(|c| c.get("type").and_then(Value::as_str).unwrap_or(""))
            .collect();
        let usages: Vec<&str> =
            array_at(old, "/spec/usages").iter().map(|u| u.as_str().unwrap_or("")).collect();
        let duplicates =
            |items: &[&str]| items.iter().enumerate().any(|(i, item)| items[..i].contains(item));
        let certificate = |csr: &Value| csr.pointer("/status/certificate").cloned();
        Options {
            allow_both_approved_and_denied: types.contains(&APPROVED) && types.contains(&DENIED),
            allow_legacy_signer_name: str_at(old, "/spec/signerName") == LEGACY_UNKNOWN_SIGNER,
            allow_duplicate_condition_types: duplicates(&types),
            allow_empty_condition_type: types.contains(&""),
            allow_arbitrary_certificate: certificate(new) == certificate(old)
                || check_certificates(&decoded(old, "certificate").unwrap_or_default()).is_err(),
            allow_unknown_usages: usages.iter().any(|u| !USAGES.contains(u)),
            allow_duplicate_usages: duplicates(&usages),
            ..Options::default()
        }
    }
}

/// A `[]byte` field (`spec.request`, `status.certificate`): base64 in JSON. `None` when absent
/// or not valid base64.
fn decoded(csr: &Value, field: &str) -> Option<Vec<u8>> {
    let pointer = if field == "request" { "/spec/request" } else { "/status/certificate" };
    let text = csr.pointer(pointer)?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Go's `%#v` of a `[]byte`, as kube prints a bad request: `[]byte{0x2d, 0x2d}`.
fn go_bytes(bytes: Option<&[u8]>) -> String {
    match bytes {
        None => "[]byte(nil)".to_owned(),
        Some(bytes) => {
            let items: Vec<String> = bytes.iter().map(|b| format!("{b:#x}")).collect();
            format!("[]byte{{{}}}", items.join(", "))
        }
    }
}

/// A `[]byte` field read for validation: wrong JSON types and bad base64 are causes (kube's
/// decoder would refuse them).
fn bytes_field(
    parent: &Value,
    key: &str,
    path: &str,
    causes: &mut Vec<FieldCause>,
) -> Option<Vec<u8>> {
    let text = opt_str(parent, key, path, causes)?;
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            causes.push(FieldCause::type_invalid(path, text, "must be base64-encoded bytes"));
            None
        }
    }
}

/// `validateCertificateSigningRequest`, ObjectMeta aside (the store checks it).
fn validate(csr: &Value, options: &Options) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let empty = json!({});
    let spec = match opt_object(csr, "spec", "spec", &mut causes) {
        Some(_) => &csr["spec"],
        None => &empty,
    };
    let type_causes = causes.len();
    let request = bytes_field(spec, "request", "spec.request", &mut causes);
    if causes.len() == type_causes
        && let Err(err) = CertificateRequest::parse_pem(request.as_deref().unwrap_or_default())
    {
        let rendered = go_bytes(request.as_deref());
        causes.push(super::invalid_rendered("spec.request", &rendered, &err.to_string()));
    }
    validate_usages(spec, options, &mut causes);
    let signer = opt_str(spec, "signerName", "spec.signerName", &mut causes).unwrap_or("");
    if !options.allow_legacy_signer_name && signer == LEGACY_UNKNOWN_SIGNER {
        causes.push(FieldCause::invalid(
            "spec.signerName",
            signer,
            "the legacy signerName is not allowed via this API version",
        ));
    } else {
        validate_signer_name("spec.signerName", signer, &mut causes);
    }
    let expiration = "spec.expirationSeconds";
    match opt_int(spec, "expirationSeconds", expiration, &mut causes) {
        Some(n) if n > i64::from(i32::MAX) || n < i64::from(i32::MIN) => {
            causes.push(FieldCause::type_invalid(expiration, n, "must be a 32-bit integer"));
        }
        Some(n) if n < 600 => causes.push(FieldCause::invalid(
            expiration,
            n,
            "may not specify a duration less than 600 seconds (10 minutes)",
        )),
        _ => {}
    }
    validate_conditions(csr, options, &mut causes);
    if !options.allow_arbitrary_certificate {
        let status = csr.get("status").unwrap_or(&Value::Null);
        let certificate = bytes_field(status, "certificate", "status.certificate", &mut causes);
        if let Err(err) = check_certificates(certificate.as_deref().unwrap_or_default()) {
            causes.push(FieldCause::invalid("status.certificate", "<certificate data>", &err));
        }
    }
    causes
}

fn validate_usages(spec: &Value, options: &Options, causes: &mut Vec<FieldCause>) {
    let usages = opt_array(spec, "usages", "spec.usages", causes);
    if usages.is_empty() {
        causes.push(FieldCause::required("spec.usages", ""));
    }
    let mut supported: Vec<&str> = USAGES.to_vec();
    supported.sort_unstable();
    let mut seen: Vec<&str> = Vec::new();
    for (i, usage) in usages.iter().enumerate() {
        let path = format!("spec.usages[{i}]");
        let Some(usage) = usage.as_str() else {
            causes.push(FieldCause::type_invalid(path, usage.clone(), "must be a string"));
            continue;
        };
        if !options.allow_unknown_usages && !USAGES.contains(&usage) {
            causes.push(FieldCause::not_supported(path.clone(), usage, &supported));
        }
        if !options.allow_duplicate_usages && seen.contains(&usage) {
            causes.push(FieldCause::duplicate(path, usage));
        }
        seen.push(usage);
    }
}

/// kube's `ValidateSignerName`: `<domain>/<path>`, the domain DNS labels with at least one dot,
/// the path DNS subdomains separated by dots, 571 characters at most.
pub(crate) fn validate_signer_name(path: &str, signer: &str, causes: &mut Vec<FieldCause>) {
    if signer.is_empty() {
        causes.push(FieldCause::required(path, ""));
        return;
    }
    let segments: Vec<&str> = signer.split('/').collect();
    if segments.len() != 2 {
        causes.push(FieldCause::invalid(
            path,
            signer,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
        return;
    }
    let (domain, name) = (segments[0], segments[1]);
    if domain.len() > 253 {
        causes.push(FieldCause::too_long(path, 253));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        let errors = is_dns1123_label(label);
        for error in &errors {
            causes.push(FieldCause::invalid(
                path,
                domain,
                &format!("validating label {label:?}: {error}"),
            ));
        }
        if !errors.is_empty() {
            break;
        }
    }
    if labels.len() < 2 {
        causes.push(FieldCause::invalid(
            path,
            domain,
            "should be a domain with at least two segments separated by dots",
        ));
    }
    for label in name.split('.') {
        let errors = is_dns1123_subdomain(label);
        for error in &errors {
            causes.push(FieldCause::invalid(
                path,
                name,
                &format!("validating label {label:?}: {error}"),
            ));
        }
        if !errors.is_empty() {
            break;
        }
    }
    let max = 253 + (253 + 63 + 1) + 1;
    if signer.len() > max {
        causes.push(FieldCause::too_long(path, max));
    }
}

fn validate_conditions(csr: &Value, options: &Options, causes: &mut Vec<FieldCause>) {
    let Some(status) = csr.get("status").filter(|s| !s.is_null()) else { return };
    if !status.is_object() {
        causes.push(FieldCause::type_invalid("status", status.clone(), "must be an object"));
        return;
    }
    let conditions = opt_array(status, "conditions", "status.conditions", causes);
    let (mut approved, mut denied) = (false, false);
    let mut seen: Vec<&str> = Vec::new();
    for (i, condition) in super::object_items(conditions, "status.conditions", causes) {
        let path = format!("status.conditions[{i}]");
        let kind = opt_str(condition, "type", &format!("{path}.type"), causes).unwrap_or("");
        let status = opt_str(condition, "status", &format!("{path}.status"), causes).unwrap_or("");
        for field in ["reason", "message", "lastUpdateTime", "lastTransitionTime"] {
            opt_str(condition, field, &format!("{path}.{field}"), causes);
        }
        if !options.allow_empty_condition_type && kind.is_empty() {
            causes.push(FieldCause::required(format!("{path}.type"), ""));
        }
        let allowed: &[&str] = if [APPROVED, DENIED, FAILED].contains(&kind) {
            &["True"]
        } else {
            &["False", "True", "Unknown"]
        };
        if status.is_empty() {
            causes.push(FieldCause::required(format!("{path}.status"), ""));
        } else if !allowed.contains(&status) {
            causes.push(FieldCause::not_supported(format!("{path}.status"), status, allowed));
        }
        if !options.allow_both_approved_and_denied {
            let exclusive = "Approved and Denied conditions are mutually exclusive";
            if kind == APPROVED {
                approved = true;
                if denied {
                    causes.push(FieldCause::invalid(format!("{path}.type"), kind, exclusive));
                }
            } else if kind == DENIED {
                denied = true;
                if approved {
                    causes.push(FieldCause::invalid(format!("{path}.type"), kind, exclusive));
                }
            }
        }
        if !options.allow_duplicate_condition_types {
            if seen.contains(&kind) {
                causes.push(FieldCause::duplicate(format!("{path}.type"), kind));
            }
            seen.push(kind);
        }
    }
}

/// `validateCertificateSigningRequestUpdate`, ObjectMeta aside.
fn validate_update(new: &Value, old: &Value, options: Options) -> Vec<FieldCause> {
    let mut causes = validate(new, &options);
    let conditions = "status.conditions";
    for kind in [APPROVED, DENIED, FAILED] {
        if conditions_of(new, kind).len() < conditions_of(old, kind).len() {
            let detail = format!("updates may not remove a condition of type {kind:?}");
            causes.push(FieldCause::forbidden(conditions, &detail));
        }
    }
    if !options.allow_setting_approval_conditions {
        for kind in [APPROVED, DENIED] {
            let (olds, news) = (conditions_of(old, kind), conditions_of(new, kind));
            let detail = if news.len() > olds.len() {
                format!("updates may not add a condition of type {kind:?}")
            } else if news.len() == olds.len()
                && news.iter().zip(&olds).any(|((_, a), (_, b))| a != b)
            {
                format!("updates may not modify a condition of type {kind:?}")
            } else {
                continue;
            };
            causes.push(FieldCause::forbidden(conditions, &detail));
        }
    }
    let certificate = |csr: &Value| decoded(csr, "certificate").unwrap_or_default();
    let (new_certificate, old_certificate) = (certificate(new), certificate(old));
    if new_certificate != old_certificate {
        if !options.allow_setting_certificate {
            causes.push(FieldCause::forbidden(
                "status.certificate",
                "updates may not set certificate content",
            ));
        } else if !old_certificate.is_empty() {
            causes.push(FieldCause::forbidden(
                "status.certificate",
                "updates may not modify existing certificate content",
            ));
        }
    }
    causes
}

/// Whether `csr` carries a condition of type `kind` (any status: kube's printers and signers
/// look at the type).
pub fn has_condition(csr: &Value, kind: &str) -> bool {
    !conditions_of(csr, kind).is_empty()
}

/// kubectl's CONDITION: `Denied`, `Approved` or `Pending`, then `,Failed` and `,Issued`.
fn condition_column(csr: &Value) -> Value {
    let mut status = if has_condition(csr, DENIED) {
        "Denied".to_owned()
    } else if has_condition(csr, APPROVED) {
        "Approved".to_owned()
    } else {
        "Pending".to_owned()
    };
    if has_condition(csr, FAILED) {
        status.push_str(",Failed");
    }
    if !str_at(csr, "/status/certificate").is_empty() {
        status.push_str(",Issued");
    }
    status.into()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            age_column(),
            column(
                "SignerName",
                "string",
                0,
                &KIND.doc("/spec/signerName"),
                Cell::Computed(|csr| match str_at(csr, "/spec/signerName") {
                    "" => "<none>".into(),
                    signer => signer.into(),
                }),
            ),
            column(
                "Requestor",
                "string",
                0,
                &KIND.doc("/spec/request"),
                Cell::Computed(|csr| str_at(csr, "/spec/username").into()),
            ),
            column(
                "RequestedDuration",
                "string",
                0,
                &KIND.doc("/spec/expirationSeconds"),
                Cell::Computed(|csr| match int_at(csr, "/spec/expirationSeconds") {
                    Some(secs) => human_duration(Duration::from_secs(secs.max(0) as u64)).into(),
                    None => "<none>".into(),
                }),
            ),
            column(
                "Condition",
                "string",
                0,
                &KIND.doc("/status/conditions"),
                Cell::Computed(condition_column),
            ),
        ],
    }
}

#[cfg(test)]
pub(crate) mod tests;
