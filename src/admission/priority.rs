//! kube's `Priority` admission plugin (`plugin/pkg/admission/priority`).
//!
//! Mutating, for pods: a created pod's `spec.priorityClassName` is resolved to the class's
//! `value` (`spec.priority`) and `preemptionPolicy`; a pod naming no class gets the
//! `globalDefault` class (the lowest-valued one if a race left several), or priority 0 and
//! `PreemptLowerPriority` when there is none. A class that does not exist, or a priority or
//! preemption policy the client set that disagrees with the class, is a 403 in kube's words. An
//! update that drops the priority or policy keeps the stored ones (pod validation forbids changing
//! them). Validating, for PriorityClasses: only one may be `globalDefault`.
//!
//! As kube-apiserver 1.33, the system classes are usable in every namespace: kube's old
//! restriction to `kube-system` went in 1.17, in favour of ResourceQuota's `limitedResources`.
//!
//! Classes are read through [`Objects`] in their storage version (`scheduling.k8s.io/v1`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Action, Attributes, Objects, Plugin};
use crate::meta::status::ApiError;

const GROUP: &str = "scheduling.k8s.io";
const CLASSES: &str = "priorityclasses";
/// kube's `DefaultPriorityWhenNoDefaultClassExists`.
const DEFAULT_PRIORITY: i64 = 0;
const PREEMPT_LOWER_PRIORITY: &str = "PreemptLowerPriority";

/// The plugin; reads PriorityClasses through `objects`.
#[derive(Debug)]
pub struct Priority {
    objects: Arc<dyn Objects>,
}

/// What a pod gets from its class.
#[derive(Debug, Clone, PartialEq)]
struct Resolved {
    /// `""` when no class applies.
    class: String,
    priority: i64,
    preemption_policy: Option<String>,
}

impl Resolved {
    fn of(class: &Value) -> Resolved {
        Resolved {
            class: name_of(class).to_owned(),
            priority: class.get("value").and_then(Value::as_i64).unwrap_or(0),
            preemption_policy: class
                .get("preemptionPolicy")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// `metadata.name`, `""` when missing.
pub(crate) fn name_of(object: &Value) -> &str {
    object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

fn is_global_default(class: &Value) -> bool {
    class.get("globalDefault").and_then(Value::as_bool) == Some(true)
}

/// kube's `admission.NewForbidden`: the object's name, else its `generateName`, else `Unknown`.
pub(crate) fn forbidden(
    attributes: &Attributes<'_>,
    object: Option<&Value>,
    why: &str,
) -> ApiError {
    let generate_name = object
        .and_then(|o| o.pointer("/metadata/generateName"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let name = match attributes.name {
        "" => generate_name.unwrap_or("Unknown"),
        name => name,
    };
    ApiError::forbidden(attributes.group, attributes.resource, name, why)
}

impl Priority {
    pub fn new(objects: Arc<dyn Objects>) -> Priority {
        Priority { objects }
    }

    /// kube's `getDefaultPriorityClass`: among `globalDefault` classes, the lowest value.
    async fn default_class(&self) -> Result<Option<Value>, ApiError> {
        let classes = self.objects.list(GROUP, CLASSES, "").await?;
        let defaults = classes.into_iter().filter(is_global_default);
        Ok(defaults.min_by_key(|c| c.get("value").and_then(Value::as_i64).unwrap_or(0)))
    }

    /// kube's `establishPriority`.
    async fn resolve(
        &self,
        attributes: &Attributes<'_>,
        pod: &Value,
        class: &str,
    ) -> Result<Resolved, ApiError> {
        if class.is_empty() {
            return Ok(match self.default_class().await? {
                Some(default) => Resolved::of(&default),
                None => Resolved {
                    class: String::new(),
                    priority: DEFAULT_PRIORITY,
                    preemption_policy: Some(PREEMPT_LOWER_PRIORITY.to_owned()),
                },
            });
        }
        match self.objects.get(GROUP, CLASSES, "", class).await? {
            Some(found) => Ok(Resolved::of(&found)),
            None => Err(forbidden(
                attributes,
                Some(pod),
                &format!("no PriorityClass with name {class} was found"),
            )),
        }
    }

    async fn admit_pod(
        &self,
        attributes: &Attributes<'_>,
        pod: &mut Value,
    ) -> Result<(), ApiError> {
        if attributes.action == Action::Update {
            // The priority set on create stays, whatever an update sends.
            let Some(old) = attributes.old_object.and_then(|o| o.get("spec")) else {
                return Ok(());
            };
            let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
                return Ok(());
            };
            for key in ["priority", "preemptionPolicy"] {
                let unset = spec.get(key).is_none_or(Value::is_null);
                if let (true, Some(value)) = (unset, old.get(key).filter(|v| !v.is_null())) {
                    spec.insert(key.into(), value.clone());
                }
            }
            return Ok(());
        }
        let Some(spec) = pod.get("spec").filter(|s| s.is_object()) else { return Ok(()) };
        let class = spec.get("priorityClassName").and_then(Value::as_str).unwrap_or("").to_owned();
        let resolved = self.resolve(attributes, pod, &class).await?;
        let spec = &pod["spec"];
        if let Some(given) = spec.get("priority").filter(|p| !p.is_null())
            && given.as_i64() != Some(resolved.priority)
        {
            let why = format!(
                "the integer value of priority ({given}) must not be provided in pod spec; \
                 priority admission controller computed {} from the given PriorityClass name",
                resolved.priority
            );
            return Err(forbidden(attributes, Some(&*pod), &why));
        }
        if let Some(policy) = &resolved.preemption_policy
            && let Some(given) = spec.get("preemptionPolicy").filter(|p| !p.is_null())
            && given.as_str() != Some(policy)
        {
            let given = given.as_str().map_or_else(|| given.to_string(), str::to_owned);
            let why = format!(
                "the string value of PreemptionPolicy ({given}) must not be provided in pod \
                 spec; priority admission controller computed {policy} from the given \
                 PriorityClass name"
            );
            return Err(forbidden(attributes, Some(&*pod), &why));
        }
        let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return Ok(()) };
        if resolved.class.is_empty() {
            // Go's empty string, omitted.
            spec.shift_remove("priorityClassName");
        } else {
            spec.insert("priorityClassName".into(), json!(resolved.class));
        }
        spec.insert("priority".into(), json!(resolved.priority));
        if let Some(policy) = resolved.preemption_policy {
            spec.insert("preemptionPolicy".into(), json!(policy));
        }
        Ok(())
    }

    /// kube's `validatePriorityClass`: a second `globalDefault` class is refused.
    async fn validate_class(
        &self,
        attributes: &Attributes<'_>,
        class: &Value,
    ) -> Result<(), ApiError> {
        if !is_global_default(class) {
            return Ok(());
        }
        let Some(existing) = self.default_class().await? else { return Ok(()) };
        let existing = name_of(&existing);
        let this = name_of(class);
        if attributes.action == Action::Create || existing != this {
            let why = format!(
                "PriorityClass {existing} is already marked as default. Only one default can exist"
            );
            return Err(forbidden(attributes, Some(class), &why));
        }
        Ok(())
    }
}

#[async_trait]
impl Plugin for Priority {
    fn name(&self) -> &'static str {
        "Priority"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let pods = attributes.group.is_empty() && attributes.resource == "pods";
        let writes = matches!(attributes.action, Action::Create | Action::Update);
        match object {
            Some(pod) if pods && writes && attributes.subresource.is_empty() => {
                self.admit_pod(attributes, pod).await
            }
            _ => Ok(()),
        }
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let classes = attributes.group == GROUP && attributes.resource == CLASSES;
        let writes = matches!(attributes.action, Action::Create | Action::Update);
        match object {
            Some(class) if classes && writes && attributes.subresource.is_empty() => {
                self.validate_class(attributes, class).await
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::admission::AuditAnnotations;
    use crate::authn::UserInfo;
    use crate::meta::status::Reason;

    /// Objects by (group, resource), every one cluster-scoped or in the listed order.
    #[derive(Debug, Default)]
    pub(crate) struct FakeObjects(pub BTreeMap<(String, String), Vec<Value>>);

    impl FakeObjects {
        pub(crate) fn with(group: &str, resource: &str, objects: Vec<Value>) -> Arc<FakeObjects> {
            let mut map = BTreeMap::new();
            map.insert((group.to_owned(), resource.to_owned()), objects);
            Arc::new(FakeObjects(map))
        }
    }

    #[async_trait]
    impl Objects for FakeObjects {
        async fn get(
            &self,
            group: &str,
            resource: &str,
            _namespace: &str,
            name: &str,
        ) -> Result<Option<Value>, ApiError> {
            let items = self.list(group, resource, "").await?;
            Ok(items.into_iter().find(|o| o["metadata"]["name"] == name))
        }

        async fn list(
            &self,
            group: &str,
            resource: &str,
            _namespace: &str,
        ) -> Result<Vec<Value>, ApiError> {
            Ok(self.0.get(&(group.to_owned(), resource.to_owned())).cloned().unwrap_or_default())
        }
    }

    pub(crate) fn attributes<'a>(
        user: &'a UserInfo,
        action: Action,
        group: &'a str,
        resource: &'a str,
        name: &'a str,
        old: Option<&'a Value>,
    ) -> Attributes<'a> {
        Attributes {
            action,
            user,
            group,
            version: "v1",
            resource,
            subresource: "",
            kind: "",
            namespace: "default",
            name,
            dry_run: false,
            old_object: old,
            options: None,
            audit_annotations: AuditAnnotations::unrecorded(),
        }
    }

    fn class(name: &str, value: i64, global_default: bool, policy: &str) -> Value {
        json!({"metadata": {"name": name}, "value": value, "globalDefault": global_default,
            "preemptionPolicy": policy})
    }

    fn plugin(classes: Vec<Value>) -> Priority {
        Priority::new(FakeObjects::with(GROUP, CLASSES, classes))
    }

    async fn admit_pod(plugin: &Priority, pod: &mut Value) -> Result<(), ApiError> {
        let user = UserInfo::anonymous();
        let attrs = attributes(&user, Action::Create, "", "pods", "p", None);
        plugin.admit(&attrs, Some(pod), &mut Vec::new()).await
    }

    #[tokio::test]
    async fn a_named_class_gives_its_priority_and_policy() {
        let plugin = plugin(vec![class("high", 1000, false, "Never")]);
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"priorityClassName": "high"}});
        admit_pod(&plugin, &mut pod).await.unwrap();
        assert_eq!(pod["spec"]["priority"], 1000);
        assert_eq!(pod["spec"]["preemptionPolicy"], "Never");
    }

    #[tokio::test]
    async fn no_class_means_the_global_default_or_zero() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {}});
        admit_pod(&plugin(vec![]), &mut pod).await.unwrap();
        assert_eq!(pod["spec"], json!({"priority": 0, "preemptionPolicy": "PreemptLowerPriority"}));

        // Several defaults (a race): the lowest value wins.
        let classes = vec![
            class("low", 10, true, "PreemptLowerPriority"),
            class("lower", 5, true, "Never"),
            class("other", 1, false, "Never"),
        ];
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {}});
        admit_pod(&plugin(classes), &mut pod).await.unwrap();
        assert_eq!(
            pod["spec"],
            json!({"priorityClassName": "lower", "priority": 5, "preemptionPolicy": "Never"})
        );
    }

    #[tokio::test]
    async fn unknown_classes_and_disagreeing_values_are_forbidden() {
        let plugin = plugin(vec![class("high", 1000, false, "PreemptLowerPriority")]);
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"priorityClassName": "nope"}});
        let err = admit_pod(&plugin, &mut pod).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "pods \"p\" is forbidden: no PriorityClass with name nope was found"
        );
        let mut pod = json!({"metadata": {"name": "p"},
            "spec": {"priorityClassName": "high", "priority": 7}});
        let err = admit_pod(&plugin, &mut pod).await.unwrap_err();
        assert_eq!(
            err.message,
            "pods \"p\" is forbidden: the integer value of priority (7) must not be provided in \
             pod spec; priority admission controller computed 1000 from the given PriorityClass \
             name"
        );
        let mut pod = json!({"metadata": {"name": "p"},
            "spec": {"priorityClassName": "high", "priority": 1000, "preemptionPolicy": "Never"}});
        let err = admit_pod(&plugin, &mut pod).await.unwrap_err();
        assert_eq!(
            err.message,
            "pods \"p\" is forbidden: the string value of PreemptionPolicy (Never) must not be \
             provided in pod spec; priority admission controller computed PreemptLowerPriority \
             from the given PriorityClass name"
        );
        // The value the class gives is accepted.
        let mut pod = json!({"metadata": {"name": "p"},
            "spec": {"priorityClassName": "high", "priority": 1000}});
        admit_pod(&plugin, &mut pod).await.unwrap();
    }

    #[tokio::test]
    async fn updates_keep_the_priority() {
        let plugin = plugin(vec![]);
        let old = json!({"spec": {"priority": 1000, "preemptionPolicy": "Never"}});
        let user = UserInfo::anonymous();
        let attrs = attributes(&user, Action::Update, "", "pods", "p", Some(&old));
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": []}});
        plugin.admit(&attrs, Some(&mut pod), &mut Vec::new()).await.unwrap();
        assert_eq!(pod["spec"]["priority"], 1000);
        assert_eq!(pod["spec"]["preemptionPolicy"], "Never");
    }

    #[tokio::test]
    async fn only_one_global_default() {
        let plugin = plugin(vec![class("first", 1, true, "PreemptLowerPriority")]);
        let user = UserInfo::anonymous();
        let second = class("second", 2, true, "PreemptLowerPriority");
        let create = attributes(&user, Action::Create, GROUP, CLASSES, "second", None);
        let err = plugin.validate(&create, Some(&second), &mut Vec::new()).await.unwrap_err();
        assert_eq!(
            err.message,
            "priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass first is \
             already marked as default. Only one default can exist"
        );
        // The default itself may be updated; a class that is not the default may not become one.
        let first = class("first", 1, true, "PreemptLowerPriority");
        let update = attributes(&user, Action::Update, GROUP, CLASSES, "first", Some(&first));
        plugin.validate(&update, Some(&first), &mut Vec::new()).await.unwrap();
        let update = attributes(&user, Action::Update, GROUP, CLASSES, "second", None);
        assert!(plugin.validate(&update, Some(&second), &mut Vec::new()).await.is_err());
        let ordinary = class("third", 3, false, "PreemptLowerPriority");
        plugin.validate(&create, Some(&ordinary), &mut Vec::new()).await.unwrap();
    }
}
