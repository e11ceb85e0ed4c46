//! kube's hand-over from client-side to server-side apply for `kubectl`: fields named by the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation do not conflict when the
//! manager `kubectl` applies them server-side, and the annotation is kept up to date so a later
//! client-side apply still works.

use serde_json::Value;

/// kubectl's annotation holding its last client-side applied configuration.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The manager name for which kube does the hand-over.
pub const KUBECTL: &str = "kubectl";

/// The annotation's configuration on `object`, if it has one that parses.
pub fn last_applied(object: &Value) -> Option<Value> {
    let text = object.pointer("/metadata/annotations")?.get(LAST_APPLIED_ANNOTATION)?.as_str()?;
    serde_json::from_str(text).ok()
}
