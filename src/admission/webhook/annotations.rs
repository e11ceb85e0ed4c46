//! The audit annotations the webhook plugins add to a write's audit event, with
//! kube-apiserver's keys and JSON values:
//!
//! - every called mutating webhook: `mutation.webhook.admission.k8s.io/round_{r}_index_{i}` =
//!   `{"configuration":…,"webhook":…,"mutated":…}` (from level `Metadata`);
//! - a mutating webhook whose non-empty patch was applied:
//!   `patch.webhook.admission.k8s.io/round_{r}_index_{i}` =
//!   `{"configuration":…,"webhook":…,"patch":[…],"patchType":"JSONPatch"}` (from level
//!   `Request`: the patch is request content);
//! - a webhook that failed open under `failurePolicy: Ignore`:
//!   `failed-open.mutation.webhook.admission.k8s.io/round_{r}_index_{i}` or
//!   `failed-open.validating.webhook.admission.k8s.io/round_0_index_{i}` = the webhook's name;
//! - a webhook's own `auditAnnotations`: `{webhook name}/{key}` (a key that makes no qualified
//!   name is dropped by `Attributes::annotate`, as kube drops it).
//!
//! `r` is 1 for a reinvocation, else 0. `i` is, for mutating webhooks, the webhook's place among
//! all mutating webhooks (configurations by name, then as listed); for validating ones, its
//! place among the webhooks that matched the write — the indices kube's two dispatchers use.

use serde_json::{Map, Value, json};

use super::config::Hook;

pub const MUTATION_PREFIX: &str = "mutation.webhook.admission.k8s.io/";
pub const PATCH_PREFIX: &str = "patch.webhook.admission.k8s.io/";
pub const MUTATION_FAILED_OPEN_PREFIX: &str = "failed-open.mutation.webhook.admission.k8s.io/";
pub const VALIDATING_FAILED_OPEN_PREFIX: &str = "failed-open.validating.webhook.admission.k8s.io/";

/// Where one webhook call stands in the dispatch, for its annotation keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// 0, or 1 when the webhook is reinvoked.
    pub round: usize,
    pub index: usize,
}

impl Slot {
    /// `<prefix>round_<r>_index_<i>`.
    pub fn key(self, prefix: &str) -> String {
        format!("{prefix}round_{}_index_{}", self.round, self.index)
    }
}

/// The value of a mutation annotation.
pub fn mutation(hook: &Hook, mutated: bool) -> String {
    crate::meta::gojson::in_order(
        &json!({"configuration": hook.configuration, "webhook": hook.name, "mutated": mutated}),
    )
}

/// The value of a patch annotation: the patch's operations as Go marshals them (each
/// operation's keys sorted, its values as the webhook sent them).
pub fn patch(hook: &Hook, patch: &Value) -> String {
    let operations: Vec<Value> = match patch {
        Value::Array(operations) => operations.iter().map(sorted_keys).collect(),
        other => vec![other.clone()],
    };
    crate::meta::gojson::in_order(
        &json!({"configuration": hook.configuration, "webhook": hook.name,
                    "patch": operations, "patchType": "JSONPatch"}),
    )
}

/// A JSON patch operation decodes, in kube, into a Go map: it marshals with its keys sorted.
fn sorted_keys(operation: &Value) -> Value {
    match operation {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let sorted: Map<String, Value> =
                keys.into_iter().map(|k| (k.clone(), map[k].clone())).collect();
            Value::Object(sorted)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> Hook {
        let stored = json!({"name": "label.example.com",
            "clientConfig": {"url": "https://127.0.0.1:1/x"}});
        Hook::parse("labels", &stored)
    }

    #[test]
    fn keys_and_values_are_kube_s() {
        let slot = Slot { round: 1, index: 3 };
        assert_eq!(slot.key(MUTATION_PREFIX), "mutation.webhook.admission.k8s.io/round_1_index_3");
        assert_eq!(
            Slot { round: 0, index: 0 }.key(VALIDATING_FAILED_OPEN_PREFIX),
            "failed-open.validating.webhook.admission.k8s.io/round_0_index_0"
        );
        assert_eq!(
            mutation(&hook(), true),
            r#"{"configuration":"labels","webhook":"label.example.com","mutated":true}"#
        );
        let ops =
            json!([{"value": {"b": "<x>", "a": "&"}, "path": "/metadata/labels", "op": "add"}]);
        assert_eq!(
            patch(&hook(), &ops),
            r#"{"configuration":"labels","webhook":"label.example.com","patch":[{"op":"add","path":"/metadata/labels","value":{"b":"\u003cx\u003e","a":"\u0026"}}],"patchType":"JSONPatch"}"#
        );
    }
}
