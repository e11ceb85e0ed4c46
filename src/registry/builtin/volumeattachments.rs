//! `storage.k8s.io/v1` VolumeAttachments (`pkg/registry/storage/volumeattachment`): a request
//! to attach a volume to a node, cluster-scoped, with a `status` subresource the attacher
//! writes. The spec is fixed at creation. Nothing here attaches anything.

use std::sync::Arc;

use serde_json::{Value, json};

use super::csi::{GROUP, validate_driver_name};
use super::{
    Kind, age_column, column, invalid_rendered, name_column, opt_int, opt_object, opt_str, str_at,
};
use crate::meta::validation::{FieldCause, go_quote, name_is_dns_subdomain};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "VolumeAttachment",
    plural: "volumeattachments",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/volumeattachments",
};

/// kube's `maxAttachedVolumeMetadataSize` and `maxVolumeErrorMessageSize`.
const MAX_METADATA: usize = 256 * 1024;
const MAX_ERROR_MESSAGE: usize = 1024;

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(AttachmentStrategy), table()) }
}

/// VolumeAttachment rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttachmentStrategy;

/// kube's `validateVolumeAttachmentSpec` and the v1 checks (`ValidateVolumeAttachmentV1`).
fn validate_spec(attachment: &Value, causes: &mut Vec<FieldCause>) {
    let empty = json!({});
    let spec = match opt_object(attachment, "spec", "spec", causes) {
        Some(_) => &attachment["spec"],
        None => &empty,
    };
    let attacher = opt_str(spec, "attacher", "spec.attacher", causes).unwrap_or("");
    if attacher.is_empty() {
        causes.push(FieldCause::required("spec.attacher", ""));
    }
    let source = opt_object(spec, "source", "spec.source", causes).cloned().unwrap_or_default();
    let set = |key: &str| source.get(key).is_some_and(|v| !v.is_null());
    let pv_path = "spec.source.persistentVolumeName";
    match (set("inlineVolumeSpec"), set("persistentVolumeName")) {
        (false, false) => causes.push(FieldCause::required(
            "spec.source",
            "must specify exactly one of inlineVolumeSpec and persistentVolumeName",
        )),
        (true, true) => causes.push(FieldCause::forbidden(
            "spec.source",
            "must specify exactly one of inlineVolumeSpec and persistentVolumeName",
        )),
        (false, true) => {
            let source = serde_json::Value::Object(source.clone());
            if opt_str(&source, "persistentVolumeName", pv_path, causes) == Some("") {
                causes.push(FieldCause::required(
                    pv_path,
                    "must specify non empty persistentVolumeName",
                ));
            }
        }
        (true, false) => {}
    }
    let node = opt_str(spec, "nodeName", "spec.nodeName", causes).unwrap_or("");
    for msg in name_is_dns_subdomain(node, false) {
        causes.push(FieldCause::invalid("spec.nodeName", node, &msg));
    }
    if let Some(status) = attachment.get("status").filter(|s| s.is_object()) {
        validate_status(status, causes);
    }
    // ValidateVolumeAttachmentV1.
    validate_driver_name(attacher, "spec.attacher", causes);
    if let Some(Value::String(pv)) = source.get("persistentVolumeName") {
        for msg in name_is_dns_subdomain(pv, false) {
            causes.push(FieldCause::invalid(pv_path, pv.as_str(), &msg));
        }
    }
}

/// kube's `validateVolumeAttachmentStatus`.
fn validate_status(status: &Value, causes: &mut Vec<FieldCause>) {
    let metadata =
        super::opt_string_map(status, "attachmentMetadata", "status.attachmentMetadata", causes);
    if metadata.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() > MAX_METADATA {
        causes.push(FieldCause::too_long("status.attachmentMetadata", MAX_METADATA));
    }
    for key in ["attachError", "detachError"] {
        let path = format!("status.{key}");
        let Some(error) = opt_object(status, key, &path, causes) else { continue };
        let error = Value::Object(error.clone());
        let message = opt_str(&error, "message", &format!("{path}.message"), causes);
        if message.is_some_and(|m| m.len() > MAX_ERROR_MESSAGE) {
            // kube reports the metadata limit here, as its code does.
            causes.push(FieldCause::too_long(format!("{path}.message"), MAX_METADATA));
        }
        let code_path = format!("{path}.errorCode");
        if let Some(code) = opt_int(&error, "errorCode", &code_path, causes).filter(|c| *c < 0) {
            causes.push(FieldCause::invalid(
                code_path,
                code,
                "must be between 0 and 2147483647, inclusive",
            ));
        }
    }
}

/// Go's `%#v` of a `storage.VolumeAttachmentSpec` as kube's immutability message prints it
/// (pointers shown by what they point to, not their address).
fn go_spec(attachment: &Value) -> String {
    let pv = match attachment.pointer("/spec/source/persistentVolumeName") {
        Some(Value::String(name)) => format!("(*string)({})", go_quote(name)),
        _ => "(*string)(nil)".to_owned(),
    };
    let inline = match attachment.pointer("/spec/source/inlineVolumeSpec") {
        Some(spec) if spec.is_object() => "&core.PersistentVolumeSpec{…}",
        _ => "(*core.PersistentVolumeSpec)(nil)",
    };
    format!(
        "storage.VolumeAttachmentSpec{{Attacher:{}, Source:storage.VolumeAttachmentSource{{\
         PersistentVolumeName:{pv}, InlineVolumeSpec:{inline}}}, NodeName:{}}}",
        go_quote(str_at(attachment, "/spec/attacher")),
        go_quote(str_at(attachment, "/spec/nodeName")),
    )
}

impl Strategy for AttachmentStrategy {
    fn prepare_for_create(&self, attachment: &mut Value) {
        if let Some(map) = attachment.as_object_mut() {
            map.insert("status".into(), json!({"attached": false}));
        }
    }

    fn validate(&self, attachment: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_spec(attachment, &mut causes);
        causes
    }

    /// kube's `ValidateVolumeAttachmentUpdate`: the spec is read-only.
    fn validate_update(&self, attachment: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(attachment);
        if attachment.get("spec") != old.get("spec") {
            causes.push(invalid_rendered("spec", &go_spec(attachment), "field is immutable"));
        }
        causes
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            crate::registry::table::Column {
                format: "name".to_owned(),
                ..column(
                    "Attacher",
                    "string",
                    0,
                    &KIND.doc("/spec/attacher"),
                    Cell::Computed(|a| str_at(a, "/spec/attacher").into()),
                )
            },
            column(
                "PV",
                "string",
                0,
                &KIND.doc("/spec/source/persistentVolumeName"),
                Cell::Computed(|a| str_at(a, "/spec/source/persistentVolumeName").into()),
            ),
            column(
                "Node",
                "string",
                0,
                &KIND.doc("/spec/nodeName"),
                Cell::Computed(|a| str_at(a, "/spec/nodeName").into()),
            ),
            column(
                "Attached",
                "boolean",
                0,
                &KIND.doc("/status/attached"),
                Cell::Computed(|a| {
                    json!(a.pointer("/status/attached").and_then(Value::as_bool).unwrap_or(false))
                }),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn attachment(spec: Value) -> Value {
        let mut a = json!({"metadata": {"name": "csi-123"}, "spec": spec});
        AttachmentStrategy.decoded_create(&mut a);
        a
    }

    fn valid() -> Value {
        attachment(json!({"attacher": "ebs.csi.aws.com", "nodeName": "node-1",
            "source": {"persistentVolumeName": "pv-1"}}))
    }

    #[test]
    fn a_valid_attachment_and_its_row() {
        let a = valid();
        assert_eq!(a["status"], json!({"attached": false}));
        assert!(AttachmentStrategy.validate(&a).is_empty());
        let table = render_table(&table(), &[a], Default::default(), Default::default());
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells[..5],
            [
                json!("csi-123"),
                json!("ebs.csi.aws.com"),
                json!("pv-1"),
                json!("node-1"),
                json!(false)
            ]
        );
    }

    #[test]
    fn fields_are_checked_and_the_spec_is_fixed() {
        let bad = attachment(json!({"nodeName": "Node_1", "source": {}}));
        let texts = cause_texts(&AttachmentStrategy.validate(&bad));
        assert_eq!(texts[0], "spec.attacher: Required value");
        assert_eq!(
            texts[1],
            "spec.source: Required value: must specify exactly one of inlineVolumeSpec and \
             persistentVolumeName"
        );
        assert!(
            texts[2].starts_with("spec.nodeName: Invalid value: \"Node_1\": a lowercase RFC 1123")
        );
        let old = valid();
        let mut moved = old.clone();
        moved["spec"]["nodeName"] = json!("node-2");
        assert_eq!(
            cause_texts(&AttachmentStrategy.validate_update(&moved, &old)),
            ["spec: Invalid value: storage.VolumeAttachmentSpec{Attacher:\"ebs.csi.aws.com\", \
              Source:storage.VolumeAttachmentSource{PersistentVolumeName:(*string)(\"pv-1\"), \
              InlineVolumeSpec:(*core.PersistentVolumeSpec)(nil)}, NodeName:\"node-2\"}: field \
              is immutable"]
        );
        let mut attached = old.clone();
        attached["status"] = json!({"attached": true, "attachError": {"errorCode": -1}});
        assert_eq!(
            cause_texts(&AttachmentStrategy.validate_update(&attached, &old)),
            ["status.attachError.errorCode: Invalid value: -1: must be between 0 and 2147483647, \
              inclusive"]
        );
    }
}
