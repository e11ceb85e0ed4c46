//! PriorityLevelConfigurations: how much of the server's concurrency a priority level gets and
//! what happens to requests beyond it (queued or rejected). Defaults as kube's v1
//! `SetDefaults_*` (30 nominal shares, 64 queues, hand size 8, queue length 50, nothing lent);
//! validation as `ValidatePriorityLevelConfiguration`, `exempt` being the one exempt level.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::{
    Kind, age_column, child_object, column, default_value, name_column, opt_int, opt_object,
    opt_str, str_at,
};
use super::{GROUP, mandatory, validate_conditions};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "PriorityLevelConfiguration",
    plural: "prioritylevelconfigurations",
    short_names: &[],
    categories: &[],
    namespaced: false,
    storage_prefix: "/prioritylevelconfigurations",
};

const TYPES: &[&str] = &["Exempt", "Limited"];
const LIMIT_RESPONSES: &[&str] = &["Queue", "Reject"];
/// kube's `priorityLevelConfigurationQueuingMaxQueues` and shuffle sharding's `MaxHashBits`.
const MAX_QUEUES: i64 = 10_000_000;
const MAX_HASH_BITS: u32 = 60;

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(PriorityLevelStrategy), table()) }
}

/// PriorityLevelConfiguration rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct PriorityLevelStrategy;

/// An int32 field of Go's value type: 0 counts as unset.
fn default_positive(map: &mut serde_json::Map<String, Value>, key: &str, value: i64) {
    if map.get(key).and_then(Value::as_i64) == Some(0) {
        map.shift_remove(key);
    }
    default_value(map, key, json!(value));
}

/// kube's v1 `SetDefaults_PriorityLevelConfiguration`, `_LimitedPriorityLevelConfiguration`,
/// `_ExemptPriorityLevelConfiguration` and `_QueuingConfiguration`.
fn default_level(level: &mut Value) {
    let Some(map) = level.as_object_mut() else { return };
    let Some(spec) = child_object(map, "spec") else { return };
    if let Some(limited) = spec.get_mut("limited").and_then(Value::as_object_mut) {
        default_value(limited, "nominalConcurrencyShares", json!(30));
        default_value(limited, "lendablePercent", json!(0));
        let queuing = limited
            .get_mut("limitResponse")
            .and_then(Value::as_object_mut)
            .and_then(|r| r.get_mut("queuing"))
            .and_then(Value::as_object_mut);
        if let Some(queuing) = queuing {
            default_positive(queuing, "queues", 64);
            default_positive(queuing, "handSize", 8);
            default_positive(queuing, "queueLengthLimit", 50);
        }
    }
    if let Some(exempt) = spec.get_mut("exempt").and_then(Value::as_object_mut) {
        default_value(exempt, "nominalConcurrencyShares", json!(0));
        default_value(exempt, "lendablePercent", json!(0));
    }
}

fn percent(object: &Value, key: &str, path: &str, causes: &mut Vec<FieldCause>) {
    let field = format!("{path}.{key}");
    if let Some(p) = opt_int(object, key, &field, causes).filter(|p| !(0..=100).contains(p)) {
        causes.push(FieldCause::invalid(field, p, "must be between 0 and 100, inclusive"));
    }
}

fn shares(object: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let field = format!("{path}.nominalConcurrencyShares");
    if let Some(n) = opt_int(object, "nominalConcurrencyShares", &field, causes).filter(|n| *n < 0)
    {
        causes.push(FieldCause::invalid(field, n, "must be a non-negative integer"));
    }
}

/// `shufflesharding.RequiredEntropyBits`: ⌈log2(queues) × handSize⌉.
fn entropy_bits(queues: i64, hand_size: i64) -> u32 {
    ((queues as f64).log2() * hand_size as f64).ceil() as u32
}

/// kube's `ValidatePriorityLevelQueuingConfiguration`.
fn validate_queuing(queuing: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let get = |key: &str, causes: &mut Vec<FieldCause>| {
        opt_int(queuing, key, &format!("{path}.{key}"), causes).unwrap_or(0)
    };
    let limit = get("queueLengthLimit", causes);
    let queues = get("queues", causes);
    let hand_size = get("handSize", causes);
    if limit <= 0 {
        causes.push(FieldCause::invalid(
            format!("{path}.queueLengthLimit"),
            limit,
            "must be positive",
        ));
    }
    if queues <= 0 {
        causes.push(FieldCause::invalid(format!("{path}.queues"), queues, "must be positive"));
    } else if queues > MAX_QUEUES {
        causes.push(FieldCause::invalid(
            format!("{path}.queues"),
            queues,
            &format!("must not be greater than {MAX_QUEUES}"),
        ));
    }
    if hand_size <= 0 {
        causes.push(FieldCause::invalid(format!("{path}.handSize"), hand_size, "must be positive"));
    } else if hand_size > queues {
        causes.push(FieldCause::invalid(
            format!("{path}.handSize"),
            hand_size,
            &format!("should not be greater than queues ({queues})"),
        ));
    } else if entropy_bits(queues, hand_size) > MAX_HASH_BITS {
        causes.push(super::super::invalid_rendered(
            path,
            &format!(
                "flowcontrol.QueuingConfiguration{{Queues:{queues}, HandSize:{hand_size}, \
                 QueueLengthLimit:{limit}}}"
            ),
            &format!(
                "shuffle-sharding entropy ({} bits) exceeded, must not be more than \
                 {MAX_HASH_BITS} bits",
                entropy_bits(queues, hand_size)
            ),
        ));
    }
}

/// kube's `ValidateLimitedPriorityLevelConfiguration` and `ValidateLimitResponse`.
fn validate_limited(limited: &Value, causes: &mut Vec<FieldCause>) {
    let path = "spec.limited";
    shares(limited, path, causes);
    let response_path = "spec.limited.limitResponse";
    let empty = json!({});
    let response = match opt_object(limited, "limitResponse", response_path, causes) {
        Some(_) => &limited["limitResponse"],
        None => &empty,
    };
    let kind = opt_str(response, "type", "spec.limited.limitResponse.type", causes).unwrap_or("");
    let queuing = response.get("queuing").filter(|q| !q.is_null());
    let queuing_path = "spec.limited.limitResponse.queuing";
    match kind {
        "Reject" if queuing.is_some() => causes.push(FieldCause::forbidden(
            queuing_path,
            "must be nil if limited.limitResponse.type is not Limited",
        )),
        "Reject" => {}
        "Queue" => match queuing {
            None => causes.push(FieldCause::required(
                queuing_path,
                "must not be empty if limited.limitResponse.type is Limited",
            )),
            Some(queuing) => validate_queuing(queuing, queuing_path, causes),
        },
        other => causes.push(FieldCause::not_supported(
            "spec.limited.limitResponse.type",
            other,
            LIMIT_RESPONSES,
        )),
    }
    percent(limited, "lendablePercent", path, causes);
    let field = "spec.limited.borrowingLimitPercent";
    if let Some(p) = opt_int(limited, "borrowingLimitPercent", field, causes).filter(|p| *p < 0) {
        causes.push(FieldCause::invalid(field, p, "if specified, must be a non-negative integer"));
    }
}

/// kube's `ValidatePriorityLevelConfigurationSpec`.
fn validate_spec(name: &str, spec: &Value, causes: &mut Vec<FieldCause>) {
    let kind = opt_str(spec, "type", "spec.type", causes).unwrap_or("");
    if (name == mandatory::EXEMPT) != (kind == "Exempt") {
        causes.push(FieldCause::invalid(
            "spec.type",
            kind,
            "type must be 'Exempt' if and only if name is 'exempt'",
        ));
    }
    let set = |key: &str| spec.get(key).is_some_and(|v| !v.is_null());
    match kind {
        "Exempt" => {
            if set("limited") {
                causes.push(FieldCause::forbidden(
                    "spec.limited",
                    "must be nil if the type is not Limited",
                ));
            }
            if let Some(exempt) = opt_object(spec, "exempt", "spec.exempt", causes) {
                let exempt = Value::Object(exempt.clone());
                shares(&exempt, "spec.exempt", causes);
                percent(&exempt, "lendablePercent", "spec.exempt", causes);
            }
        }
        "Limited" => {
            if set("exempt") {
                causes.push(FieldCause::forbidden(
                    "spec.exempt",
                    "must be nil if the type is Limited",
                ));
            }
            match opt_object(spec, "limited", "spec.limited", causes) {
                Some(_) => validate_limited(&spec["limited"], causes),
                None if !set("limited") => causes.push(FieldCause::required(
                    "spec.limited",
                    "must not be empty when type is Limited",
                )),
                None => {}
            }
        }
        other => causes.push(FieldCause::not_supported("spec.type", other, TYPES)),
    }
}

/// kube's `ValidateIfMandatoryPriorityLevelConfigurationObject`: `catch-all`'s spec is fixed;
/// `exempt`'s too but for its `exempt` field (its shares may be tuned).
fn validate_mandatory(name: &str, spec: &Value, causes: &mut Vec<FieldCause>) {
    let Some(mut fixed) = mandatory::priority_level_spec(name) else { return };
    let mut have = spec.clone();
    let detail = if name == mandatory::EXEMPT {
        for s in [&mut fixed, &mut have] {
            if let Some(map) = s.as_object_mut() {
                map.shift_remove("exempt");
            }
        }
        format!("spec of '{name}' except the 'spec.exempt' field must equal the fixed value")
    } else {
        format!("spec of '{name}' must equal the fixed value")
    };
    if have != fixed {
        causes.push(FieldCause::invalid("spec", spec.clone(), &detail));
    }
}

impl Strategy for PriorityLevelStrategy {
    fn set_defaults(&self, level: &mut Value) {
        default_level(level);
    }

    /// kube's `ValidatePriorityLevelConfiguration` (an update checks the same).
    fn validate(&self, level: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let name = str_at(level, "/metadata/name");
        let empty = json!({});
        let spec = match opt_object(level, "spec", "spec", &mut causes) {
            Some(_) => &level["spec"],
            None => &empty,
        };
        validate_spec(name, spec, &mut causes);
        validate_mandatory(name, spec, &mut causes);
        validate_conditions(level, &mut causes);
        causes
    }

    fn validate_subresource_update(&self, sub: &str, new: &Value, old: &Value) -> Vec<FieldCause> {
        if sub != "status" {
            return self.validate_update(new, old);
        }
        let mut causes = Vec::new();
        validate_conditions(new, &mut causes);
        causes
    }
}

/// A Limited level's queuing number, `<none>` for other levels or without queuing.
fn table() -> TableSpec {
    // The queuing of a Limited level with a Queue response; `<none>` for the others.
    let queuing = |name: &str, pointer: &'static str| {
        KIND.field_column(name, "string", 0, pointer, |value| {
            value.cloned().unwrap_or_else(|| "<none>".into())
        })
    };
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Type",
                "string",
                0,
                &KIND.doc("/spec/type"),
                Cell::Computed(|l| str_at(l, "/spec/type").into()),
            ),
            column(
                "NominalConcurrencyShares",
                "string",
                0,
                &KIND.doc("/spec/limited/nominalConcurrencyShares"),
                Cell::Computed(|l| match l.pointer("/spec/limited") {
                    Some(limited) if limited.is_object() => json!(
                        limited
                            .get("nominalConcurrencyShares")
                            .and_then(Value::as_i64)
                            .unwrap_or(0)
                    ),
                    _ => "<none>".into(),
                }),
            ),
            queuing("Queues", "/spec/limited/limitResponse/queuing/queues"),
            queuing("HandSize", "/spec/limited/limitResponse/queuing/handSize"),
            queuing("QueueLengthLimit", "/spec/limited/limitResponse/queuing/queueLengthLimit"),
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

    fn level(name: &str, spec: Value) -> Value {
        let mut l = json!({"metadata": {"name": name}, "spec": spec});
        PriorityLevelStrategy.decoded_create(&mut l);
        l
    }

    #[test]
    fn defaults_and_row() {
        let l = level(
            "workload-low",
            json!({"type": "Limited", "limited": {
            "limitResponse": {"type": "Queue", "queuing": {}}}}),
        );
        assert_eq!(
            l["spec"]["limited"],
            json!({"limitResponse": {"type": "Queue",
                "queuing": {"queues": 64, "handSize": 8, "queueLengthLimit": 50}},
                "nominalConcurrencyShares": 30, "lendablePercent": 0})
        );
        assert!(PriorityLevelStrategy.validate(&l).is_empty());
        let reject = level(
            "tiny",
            json!({"type": "Limited", "limited": {
            "nominalConcurrencyShares": 0, "limitResponse": {"type": "Reject"}}}),
        );
        assert_eq!(reject["spec"]["limited"]["nominalConcurrencyShares"], 0);
        let table = render_table(&table(), &[l, reject], Default::default(), Default::default());
        let rows = table["rows"].as_array().unwrap();
        assert_eq!(
            rows[0]["cells"].as_array().unwrap()[..6],
            [json!("workload-low"), json!("Limited"), json!(30), json!(64), json!(8), json!(50)]
        );
        assert_eq!(
            rows[1]["cells"].as_array().unwrap()[..6],
            [
                json!("tiny"),
                json!("Limited"),
                json!(0),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn type_and_limits_are_checked() {
        let exempt_named = level("ops", json!({"type": "Exempt", "limited": {}}));
        assert_eq!(
            cause_texts(&PriorityLevelStrategy.validate(&exempt_named)),
            [
                "spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name \
                 is 'exempt'",
                "spec.limited: Forbidden: must be nil if the type is not Limited",
            ]
        );
        let bad = level(
            "bad",
            json!({"type": "Limited", "exempt": {},
            "limited": {"nominalConcurrencyShares": -1, "lendablePercent": 101,
                "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 10}}}}),
        );
        assert_eq!(
            cause_texts(&PriorityLevelStrategy.validate(&bad)),
            [
                "spec.exempt: Forbidden: must be nil if the type is Limited",
                "spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a \
                 non-negative integer",
                "spec.limited.limitResponse.queuing: Invalid value: \
                 flowcontrol.QueuingConfiguration{Queues:128, HandSize:10, QueueLengthLimit:50}: \
                 shuffle-sharding entropy (70 bits) exceeded, must not be more than 60 bits",
                "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, \
                 inclusive",
            ]
        );
        let missing = level("m", json!({"type": "Limited"}));
        assert_eq!(
            cause_texts(&PriorityLevelStrategy.validate(&missing)),
            ["spec.limited: Required value: must not be empty when type is Limited"]
        );
        let unknown = level("u", json!({"type": "Sometimes"}));
        assert_eq!(
            cause_texts(&PriorityLevelStrategy.validate(&unknown)),
            [
                "spec.type: Unsupported value: \"Sometimes\": supported values: \"Exempt\", \"Limited\""
            ]
        );
    }

    #[test]
    fn mandatory_levels_are_fixed_but_exempt_shares() {
        for object in mandatory::priority_levels() {
            let mut object = object.clone();
            PriorityLevelStrategy.decoded_create(&mut object);
            assert!(PriorityLevelStrategy.validate(&object).is_empty(), "{object}");
        }
        let mut exempt = mandatory::priority_levels()[0].clone();
        exempt["spec"]["exempt"]["nominalConcurrencyShares"] = json!(10);
        assert!(PriorityLevelStrategy.validate(&exempt).is_empty());
        let mut catch_all = mandatory::priority_levels()[1].clone();
        catch_all["spec"]["limited"]["nominalConcurrencyShares"] = json!(50);
        let causes = PriorityLevelStrategy.validate(&catch_all);
        assert_eq!(causes.len(), 1);
        assert!(causes[0].message.ends_with("spec of 'catch-all' must equal the fixed value"));
    }
}
