use serde_json::json;

use super::*;
use crate::admission::AuditAnnotations;
use crate::authn::UserInfo;
use crate::meta::status::Reason;

/// LimitRanges in memory.
#[derive(Debug)]
struct Ranges(Vec<Value>);

#[async_trait]
impl Objects for Ranges {
    async fn get(&self, _: &str, _: &str, _: &str, _: &str) -> Result<Option<Value>, ApiError> {
        Ok(None)
    }

    async fn list(&self, group: &str, resource: &str, _: &str) -> Result<Vec<Value>, ApiError> {
        assert_eq!((group, resource), ("", "limitranges"));
        Ok(self.0.clone())
    }
}

fn attributes<'a>(user: &'a UserInfo, resource: &'a str, action: Action) -> Attributes<'a> {
    Attributes {
        action,
        user,
        group: "",
        version: "v1",
        resource,
        subresource: "",
        kind: "",
        namespace: "ns",
        name: "p",
        dry_run: false,
        old_object: None,
        options: None,
        audit_annotations: AuditAnnotations::unrecorded(),
    }
}

fn plugin(limits: Value) -> LimitRanger {
    LimitRanger::new(Arc::new(Ranges(vec![json!({"spec": {"limits": limits}})])))
}

#[tokio::test]
async fn defaults_containers_and_annotates_the_pod() {
    let plugin = plugin(json!([{"type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]));
    let user = UserInfo::anonymous();
    let mut pod = json!({"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "app"}, {"name": "sized", "resources": {"limits": {"cpu": "1"}}}],
        "initContainers": [{"name": "init", "resources": {"requests": {"memory": "1Gi"}}}]}});
    let attrs = attributes(&user, "pods", Action::Create);
    plugin.admit(&attrs, Some(&mut pod), &mut Vec::new()).await.unwrap();
    assert_eq!(
        pod["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "256Mi"},
               "requests": {"cpu": "100m", "memory": "128Mi"}})
    );
    assert_eq!(
        pod["spec"]["containers"][1]["resources"],
        json!({"limits": {"cpu": "1", "memory": "256Mi"}, "requests": {"memory": "128Mi"}})
    );
    assert_eq!(
        pod["metadata"]["annotations"][ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for \
         container app; memory request for container sized; memory limit for container sized; \
         cpu request for init container init; cpu, memory limit for init container init"
    );
    // Updates are not looked at.
    let mut other = json!({"spec": {"containers": [{"name": "app"}]}});
    let update = attributes(&user, "pods", Action::Update);
    plugin.admit(&update, Some(&mut other), &mut Vec::new()).await.unwrap();
    assert!(other["spec"]["containers"][0].get("resources").is_none());
}

#[tokio::test]
async fn bounds_are_enforced_in_kubes_words() {
    let plugin = plugin(json!([
        {"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "64Mi"},
         "maxLimitRequestRatio": {"cpu": "2"}},
        {"type": "Pod", "max": {"memory": "1Gi"}}]));
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "pods", Action::Create);
    let pod = json!({"spec": {"containers": [{"name": "a", "resources": {
        "requests": {"cpu": "250m", "memory": "32Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}}}]}});
    let err = plugin.validate(&attrs, Some(&pod), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: [minimum memory usage per Container is 64Mi, but request is 32Mi, \
         maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per \
         Container is 2, but provided ratio is 8.000000, maximum memory usage per Pod is 1Gi, but \
         limit is 2Gi]"
    );
    let fine = json!({"spec": {"containers": [{"name": "a", "resources": {
        "requests": {"cpu": "500m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}}}]}});
    plugin.validate(&attrs, Some(&fine), &mut Vec::new()).await.unwrap();
    let unlimited = json!({"spec": {"containers": [{"name": "a", "resources": {
        "requests": {"cpu": "500m", "memory": "64Mi"}, "limits": {"cpu": "1"}}}]}});
    let err = plugin.validate(&attrs, Some(&unlimited), &mut Vec::new()).await.unwrap_err();
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: maximum memory usage per Pod is 1Gi.  No limit is specified"
    );
}

#[tokio::test]
async fn claims_are_bounded_by_their_requests() {
    let plugin = plugin(json!([{"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"},
                                "max": {"storage": "10Gi"}}]));
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "persistentvolumeclaims", Action::Create);
    let claim = json!({"spec": {"resources": {"requests": {"storage": "20Gi"}}}});
    let err = plugin.validate(&attrs, Some(&claim), &mut Vec::new()).await.unwrap_err();
    assert_eq!(
        err.message,
        "persistentvolumeclaims \"p\" is forbidden: maximum storage usage per \
         PersistentVolumeClaim is 10Gi, but request is 20Gi"
    );
    let claim = json!({"spec": {"resources": {"requests": {"storage": "5Gi"}}}});
    plugin.validate(&attrs, Some(&claim), &mut Vec::new()).await.unwrap();
}
