//! kube's hand-over from client-side to server-side apply for `kubectl`: fields named by the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation do not conflict when the
//! manager `kubectl` applies them server-side, and the annotation is kept up to date so a later
//! client-side apply still works.
//!
//! Data flows: the live object's annotation → [`allowed_conflicts`] (the fields it set that
//! still hold its values) → the updater drops those conflicts and forces the apply; after a
//! successful apply by `kubectl`, [`keep_current`] rewrites the annotation from the applied
//! configuration, as kubectl's client-side apply would have written it.

use serde_json::Value;

use super::set::Set;
use super::types::TypeRef;
use super::walk;

/// kubectl's annotation holding its last client-side applied configuration.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The manager name for which kube does the hand-over.
pub const KUBECTL: &str = "kubectl";

/// The annotation's configuration on `object`, if it has one that parses.
pub fn last_applied(object: &Value) -> Option<Value> {
    let text = annotation(object)?;
    serde_json::from_str(text).ok()
}

/// The annotation's text, when present and not empty.
fn annotation(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED_ANNOTATION)?
        .as_str()
        .filter(|text| !text.is_empty())
}

/// The fields whose conflicts kube forgives `kubectl`: every field the last client-side
/// applied configuration of `live` sets, made in `api_version`, that `live` still holds with
/// the same value. `None` when there is no such configuration (no annotation, not JSON,
/// another version, or it cannot be read by the type), and then every conflict stands.
pub fn allowed_conflicts(live: &Value, api_version: &str, ty: TypeRef<'_>) -> Option<Set> {
    let config = last_applied(live)?;
    if config.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let set = walk::fieldset(&config, ty).ok()?;
    let comparison = walk::compare(&config, live, ty).ok()?;
    Some(
        set.difference(&comparison.modified)
            .difference(&comparison.added)
            .difference(&comparison.removed),
    )
}

/// After an apply by `kubectl`: when `object` carries a (non-empty) last-applied annotation,
/// it becomes the applied `config` without that annotation, written as kubectl writes it
/// (compact JSON, keys sorted, a newline at the end).
pub fn keep_current(object: &mut Value, config: &Value) {
    if annotation(object).is_none() {
        return;
    }
    let mut config = config.clone();
    if let Some(Value::Object(annotations)) = config.pointer_mut("/metadata/annotations") {
        annotations.shift_remove(LAST_APPLIED_ANNOTATION);
    }
    let mut text = crate::meta::gojson::sorted(&config);
    text.push('\n');
    if let Some(Value::Object(annotations)) = object.pointer_mut("/metadata/annotations") {
        annotations.insert(LAST_APPLIED_ANNOTATION.to_owned(), Value::String(text));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_annotation_is_read_when_present_and_json() {
        let object = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "{\"a\":1}"}}});
        assert_eq!(last_applied(&object), Some(json!({"a": 1})));
        let broken = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "{"}}});
        assert_eq!(last_applied(&broken), None);
        assert_eq!(last_applied(&json!({"metadata": {}})), None);
    }

    #[test]
    fn kubectl_writes_compact_sorted_json_with_a_newline() {
        let config = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "a&b", "annotations": {"z": "<", LAST_APPLIED_ANNOTATION: "x"}},
            "data": {"b": "2", "a": "1"}});
        let mut object = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "{}"}}});
        keep_current(&mut object, &config);
        assert_eq!(
            object["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\",\"b\":\"2\"},\"kind\":\"ConfigMap\",\
             \"metadata\":{\"annotations\":{\"z\":\"\\u003c\"},\"name\":\"a\\u0026b\"}}\n"
        );
    }

    #[test]
    fn an_object_without_the_annotation_does_not_get_one() {
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        let mut object = json!({"metadata": {"annotations": {"other": "x"}}});
        keep_current(&mut object, &config);
        assert_eq!(object, json!({"metadata": {"annotations": {"other": "x"}}}));
        let mut empty = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: ""}}});
        keep_current(&mut empty, &config);
        assert_eq!(empty["metadata"]["annotations"][LAST_APPLIED_ANNOTATION], "");
    }

    #[test]
    fn no_conflicts_are_forgiven_without_a_configuration_in_the_same_version() {
        let ty = TypeRef::Deduced;
        assert_eq!(allowed_conflicts(&json!({"metadata": {}}), "v1", ty), None);
        let other = json!({"metadata": {"annotations": {
            LAST_APPLIED_ANNOTATION: "{\"apiVersion\":\"apps/v1beta1\"}"}}});
        assert_eq!(allowed_conflicts(&other, "apps/v1", ty), None);
    }
}
