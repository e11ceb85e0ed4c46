//! DefaultTolerationSeconds, as kube-apiserver's admission plugin of that name (mutating, pods,
//! create and update): a pod that does not tolerate the `node.kubernetes.io/not-ready` or
//! `node.kubernetes.io/unreachable` NoExecute taints gets a toleration of each for a while
//! (`--default-not-ready-toleration-seconds`, `--default-unreachable-toleration-seconds`, 300 s
//! each), so its node's short trouble does not evict it at once.
//!
//! A toleration counts when its key is the taint's or empty (every key) and its effect is
//! `NoExecute` or empty (every effect), as kube decides it.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Action, Attributes, Plugin};
use crate::meta::status::ApiError;

/// The taint of a node whose kubelet is not ready.
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
/// The taint of a node the node controller cannot reach.
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// kube's default for both flags.
pub const DEFAULT_SECONDS: i64 = 300;

/// The plugin, with the seconds of each toleration it adds.
#[derive(Debug, Clone, Copy)]
pub struct DefaultTolerationSeconds {
    pub not_ready_seconds: i64,
    pub unreachable_seconds: i64,
}

impl Default for DefaultTolerationSeconds {
    fn default() -> Self {
        DefaultTolerationSeconds {
            not_ready_seconds: DEFAULT_SECONDS,
            unreachable_seconds: DEFAULT_SECONDS,
        }
    }
}

/// Whether `toleration` tolerates the NoExecute taint `key`.
fn tolerates(toleration: &Value, key: &str) -> bool {
    let field = |name: &str| toleration.get(name).and_then(Value::as_str).unwrap_or("");
    let taint_key = field("key");
    (taint_key.is_empty() || taint_key == key) && matches!(field("effect"), "" | "NoExecute")
}

fn toleration(key: &str, seconds: i64) -> Value {
    json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds})
}

#[async_trait]
impl Plugin for DefaultTolerationSeconds {
    fn name(&self) -> &'static str {
        "DefaultTolerationSeconds"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let pods = attributes.group.is_empty()
            && attributes.resource == "pods"
            && attributes.subresource.is_empty()
            && matches!(attributes.action, Action::Create | Action::Update);
        let Some(pod) = object.filter(|_| pods) else { return Ok(()) };
        let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return Ok(()) };
        let slot = spec.entry("tolerations").or_insert(Value::Null);
        if slot.is_null() {
            *slot = Value::Array(Vec::new());
        }
        // Something other than a list is left for validation to refuse.
        let Some(tolerations) = slot.as_array_mut() else { return Ok(()) };
        let wanted = [
            (NOT_READY_TAINT, self.not_ready_seconds),
            (UNREACHABLE_TAINT, self.unreachable_seconds),
        ];
        for (key, seconds) in wanted {
            if !tolerations.iter().any(|t| tolerates(t, key)) {
                tolerations.push(toleration(key, seconds));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::AuditAnnotations;
    use crate::authn::UserInfo;

    fn attributes<'a>(user: &'a UserInfo, action: Action, subresource: &'a str) -> Attributes<'a> {
        Attributes {
            action,
            user,
            group: "",
            version: "v1",
            resource: "pods",
            subresource,
            kind: "Pod",
            namespace: "ns",
            name: "p",
            dry_run: false,
            old_object: None,
            options: None,
            audit_annotations: AuditAnnotations::unrecorded(),
        }
    }

    async fn admit(plugin: DefaultTolerationSeconds, tolerations: Value) -> Value {
        let user = UserInfo::anonymous();
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": []}});
        if !tolerations.is_null() {
            pod["spec"]["tolerations"] = tolerations;
        }
        let attributes = attributes(&user, Action::Create, "");
        plugin.admit(&attributes, Some(&mut pod), &mut Vec::new()).await.unwrap();
        pod["spec"]["tolerations"].clone()
    }

    #[tokio::test]
    async fn a_pod_gets_both_tolerations_for_the_configured_seconds() {
        let got = admit(DefaultTolerationSeconds::default(), Value::Null).await;
        assert_eq!(
            got,
            json!([
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
            ])
        );
        let plugin = DefaultTolerationSeconds { not_ready_seconds: 30, unreachable_seconds: 60 };
        let got = admit(plugin, json!([{"key": "gpu", "operator": "Exists"}])).await;
        assert_eq!(got[0], json!({"key": "gpu", "operator": "Exists"}));
        assert_eq!(
            (&got[1]["tolerationSeconds"], &got[2]["tolerationSeconds"]),
            (&json!(30), &json!(60))
        );
    }

    #[tokio::test]
    async fn what_the_pod_already_tolerates_is_not_added() {
        let plugin = DefaultTolerationSeconds::default();
        // Its own not-ready toleration (any effect): only unreachable is added.
        let own = json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}]);
        let got = admit(plugin, own).await;
        assert_eq!(got.as_array().unwrap().len(), 2);
        assert_eq!(got[1]["key"], "node.kubernetes.io/unreachable");
        // An empty key with operator Exists tolerates every NoExecute taint.
        let every = json!([{"operator": "Exists", "effect": "NoExecute"}]);
        assert_eq!(admit(plugin, every.clone()).await, every);
        // A NoSchedule toleration of the taint does not count.
        let other_effect = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                   "effect": "NoSchedule"}]);
        assert_eq!(admit(plugin, other_effect).await.as_array().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn subresources_and_other_resources_are_left_alone() {
        let plugin = DefaultTolerationSeconds::default();
        let user = UserInfo::anonymous();
        let mut pod = json!({"spec": {"containers": []}});
        let status = attributes(&user, Action::Update, "status");
        plugin.admit(&status, Some(&mut pod), &mut Vec::new()).await.unwrap();
        let configmap =
            Attributes { resource: "configmaps", ..attributes(&user, Action::Create, "") };
        plugin.admit(&configmap, Some(&mut pod), &mut Vec::new()).await.unwrap();
        assert!(pod["spec"].get("tolerations").is_none());
        let update = attributes(&user, Action::Update, "");
        plugin.admit(&update, Some(&mut pod), &mut Vec::new()).await.unwrap();
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 2);
    }
}
