//! `scheduling.k8s.io/v1` PriorityClasses (`pkg/registry/scheduling/priorityclass`,
//! `pkg/apis/scheduling/validation`): the named priorities pods refer to by
//! `spec.priorityClassName`, which the Priority admission plugin (`crate::admission::priority`)
//! turns into `spec.priority`. Cluster-scoped; `value` and `preemptionPolicy` are immutable;
//! names starting with `system-` are kube's two system classes only, which kube-apiserver creates
//! at start (`crate::registry::system_priority_classes`) and refuses to delete.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Kind, age_column, column, default_value, name_column, opt_bool, opt_int, opt_str};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

pub const GROUP: &str = "scheduling.k8s.io";
pub const PLURAL: &str = "priorityclasses";

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "PriorityClass",
    plural: PLURAL,
    short_names: &["pc"],
    categories: &[],
    namespaced: false,
    storage_prefix: "/priorityclasses",
};

/// The prefix reserved for the system classes.
pub const SYSTEM_PREFIX: &str = "system-";
/// The highest priority a user-defined class may have (`HighestUserDefinablePriority`).
pub const HIGHEST_USER_DEFINABLE: i64 = 1_000_000_000;
/// `SystemCriticalPriority`: twice the highest user-definable priority.
pub const SYSTEM_CRITICAL: i64 = 2 * HIGHEST_USER_DEFINABLE;

/// One of kube's system priority classes.
#[derive(Debug, Clone, Copy)]
pub struct SystemClass {
    pub name: &'static str,
    pub value: i64,
    pub description: &'static str,
}

/// kube's system priority classes (`SystemPriorityClasses()`), in kube's order.
pub const SYSTEM_CLASSES: [SystemClass; 2] = [
    SystemClass {
        name: "system-node-critical",
        value: SYSTEM_CRITICAL + 1000,
        description: "Used for system critical pods that must not be moved from their current node.",
    },
    SystemClass {
        name: "system-cluster-critical",
        value: SYSTEM_CRITICAL,
        description: "Used for system critical pods that must run in the cluster, but can be moved \
                      to another node if necessary.",
    },
];

impl SystemClass {
    /// The object kube-apiserver creates at start.
    pub fn object(&self) -> Value {
        json!({
            "apiVersion": KIND.api_version(),
            "kind": KIND.kind,
            "metadata": {"name": self.name},
            "value": self.value,
            "description": self.description,
        })
    }
}

const PREEMPTION_POLICIES: &[&str] = &["Never", "PreemptLowerPriority"];

pub fn resource() -> Resource {
    KIND.resource(Arc::new(PriorityClassStrategy), table())
}

/// PriorityClass rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct PriorityClassStrategy;

/// `SetDefaults_PriorityClass`, and the fields as kube writes them: `value` always,
/// `globalDefault: false` omitted (Go's `omitempty`).
fn default_class(class: &mut Value) {
    let Some(map) = class.as_object_mut() else { return };
    // `value` is a plain int32: always written, 0 when unset.
    default_value(map, "value", json!(0));
    default_value(map, "preemptionPolicy", json!("PreemptLowerPriority"));
    if map.get("globalDefault") == Some(&Value::Bool(false)) {
        map.shift_remove("globalDefault");
    }
}

/// kube's `IsKnownSystemPriorityClass`: `Err` says why a `system-` class is not one.
fn known_system_class(name: &str, value: i64, global_default: bool) -> Result<(), String> {
    let Some(class) = SYSTEM_CLASSES.iter().find(|c| c.name == name) else {
        return Err(format!("{name} is not a known system priority class"));
    };
    if class.value != value {
        return Err(format!("value of {name} PriorityClass must be {}", class.value));
    }
    if global_default {
        return Err(format!("globalDefault of {name} PriorityClass must be false"));
    }
    Ok(())
}

/// kube's `ValidatePreemptionPolicy`.
pub(crate) fn validate_preemption_policy(
    policy: Option<&str>,
    path: &str,
    causes: &mut Vec<FieldCause>,
) {
    match policy {
        None => {}
        Some("") => causes.push(FieldCause::required(path, "")),
        Some(p) if PREEMPTION_POLICIES.contains(&p) => {}
        Some(p) => causes.push(FieldCause::not_supported(path, p, PREEMPTION_POLICIES)),
    }
}

impl Strategy for PriorityClassStrategy {
    fn set_defaults(&self, class: &mut Value) {
        default_class(class);
    }

    fn validate(&self, class: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let name = super::str_at(class, "/metadata/name");
        let value = opt_int(class, "value", "value", &mut causes).unwrap_or(0);
        if !(i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&value) {
            causes.push(FieldCause::type_invalid("value", value, "must be a 32-bit integer"));
        }
        let global_default =
            opt_bool(class, "globalDefault", "globalDefault", &mut causes).unwrap_or(false);
        opt_str(class, "description", "description", &mut causes);
        if name.starts_with(SYSTEM_PREFIX) {
            if let Err(why) = known_system_class(name, value, global_default) {
                causes.push(FieldCause::forbidden(
                    "metadata.name",
                    &format!(
                        "priority class names with '{SYSTEM_PREFIX}' prefix are reserved for \
                         system use only. error: {why}"
                    ),
                ));
            }
        } else if value > HIGHEST_USER_DEFINABLE {
            causes.push(FieldCause::forbidden(
                "value",
                &format!(
                    "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE}"
                ),
            ));
        }
        let policy = opt_str(class, "preemptionPolicy", "preemptionPolicy", &mut causes);
        validate_preemption_policy(policy, "preemptionPolicy", &mut causes);
        causes
    }

    /// kube's `ValidatePriorityClassUpdate`: the class as on create, then `value` and
    /// `preemptionPolicy` unchanged.
    fn validate_update(&self, class: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(class);
        if class.get("value").and_then(Value::as_i64).unwrap_or(0)
            != old.get("value").and_then(Value::as_i64).unwrap_or(0)
        {
            causes.push(FieldCause::forbidden("value", "may not be changed in an update."));
        }
        let policy = class.get("preemptionPolicy").unwrap_or(&Value::Null);
        if policy != old.get("preemptionPolicy").unwrap_or(&Value::Null) {
            causes.push(super::immutable("preemptionPolicy", policy));
        }
        causes
    }

    fn forbid_delete(&self, name: &str) -> Option<String> {
        SYSTEM_CLASSES
            .iter()
            .any(|c| c.name == name)
            .then(|| "this is a system priority class and cannot be deleted".to_owned())
    }
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Value",
                "integer",
                0,
                &KIND.doc("/value"),
                Cell::Computed(|class| {
                    json!(class.get("value").and_then(Value::as_i64).unwrap_or(0))
                }),
            ),
            column(
                "Global-Default",
                "boolean",
                0,
                &KIND.doc("/globalDefault"),
                Cell::Computed(|class| {
                    json!(class.get("globalDefault").and_then(Value::as_bool).unwrap_or(false))
                }),
            ),
            age_column(),
            column(
                "PreemptionPolicy",
                "string",
                0,
                &KIND.doc("/preemptionPolicy"),
                Cell::Computed(|class| super::str_at(class, "/preemptionPolicy").into()),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn class(name: &str, value: i64) -> Value {
        json!({"metadata": {"name": name}, "value": value})
    }

    #[test]
    fn defaults_and_a_valid_class() {
        let mut c = json!({"metadata": {"name": "high"}, "value": 1000, "globalDefault": false});
        PriorityClassStrategy.decoded_create(&mut c);
        assert_eq!(c["preemptionPolicy"], "PreemptLowerPriority");
        assert!(c.get("globalDefault").is_none());
        assert!(PriorityClassStrategy.validate(&c).is_empty());
    }

    #[test]
    fn system_names_and_user_values_are_checked() {
        assert_eq!(
            cause_texts(&PriorityClassStrategy.validate(&class("system-mine", 10))),
            ["metadata.name: Forbidden: priority class names with 'system-' prefix are \
                 reserved for system use only. error: system-mine is not a known system \
                 priority class"]
        );
        assert_eq!(
            cause_texts(&PriorityClassStrategy.validate(&class("system-node-critical", 10))),
            ["metadata.name: Forbidden: priority class names with 'system-' prefix are \
                 reserved for system use only. error: value of system-node-critical \
                 PriorityClass must be 2000001000"]
        );
        for system in SYSTEM_CLASSES {
            let mut object = system.object();
            PriorityClassStrategy.decoded_create(&mut object);
            assert!(PriorityClassStrategy.validate(&object).is_empty(), "{}", system.name);
        }
        assert_eq!(
            cause_texts(&PriorityClassStrategy.validate(&class("huge", 1_000_000_001))),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
        );
        let mut never = class("n", 1);
        never["preemptionPolicy"] = json!("Sometimes");
        assert_eq!(
            cause_texts(&PriorityClassStrategy.validate(&never)),
            ["preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \
                 \"Never\", \"PreemptLowerPriority\""]
        );
    }

    #[test]
    fn value_and_preemption_policy_are_immutable() {
        let mut old = class("c", 1);
        PriorityClassStrategy.decoded_create(&mut old);
        let mut new = class("c", 2);
        new["preemptionPolicy"] = json!("Never");
        assert_eq!(
            cause_texts(&PriorityClassStrategy.validate_update(&new, &old)),
            [
                "value: Forbidden: may not be changed in an update.",
                "preemptionPolicy: Invalid value: \"Never\": field is immutable",
            ]
        );
        let mut described = old.clone();
        described["description"] = json!("now described");
        assert!(PriorityClassStrategy.validate_update(&described, &old).is_empty());
    }

    #[test]
    fn system_classes_cannot_be_deleted() {
        assert!(PriorityClassStrategy.forbid_delete("system-node-critical").is_some());
        assert!(PriorityClassStrategy.forbid_delete("high").is_none());
    }

    #[test]
    fn table_columns() {
        let mut c = class("high", 1000);
        c["globalDefault"] = json!(true);
        PriorityClassStrategy.decoded_create(&mut c);
        let table = render_table(&table(), &[c], Default::default(), Default::default());
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(cells[..3], [json!("high"), json!(1000), json!(true)]);
        assert_eq!(cells[4], "PreemptLowerPriority");
        let names: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]);
    }
}
