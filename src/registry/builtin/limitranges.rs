//! `v1` LimitRanges (`pkg/registry/core/limitrange`): per-namespace bounds and defaults for the
//! resources of containers, pods and PersistentVolumeClaims, which the LimitRanger admission
//! plugin applies. Defaulting as kube's `SetDefaults_LimitRangeItem` (a Container item's
//! `default` from `max`, `defaultRequest` from `default`, then from `min`); validation as
//! `ValidateLimitRange` (min ≤ defaultRequest ≤ default ≤ max, ratios ≥ 1 and within max/min).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::resourcequotas::{quantity_at, validate_resource_name};
use super::{Kind, object_items, opt_array, opt_object, opt_str};
use crate::meta::quantity::Quantity;
use crate::meta::validation::{FieldCause, is_qualified_name};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::TableSpec;

const KIND: Kind = Kind {
    group: "",
    version: "v1",
    kind: "LimitRange",
    plural: "limitranges",
    short_names: &["limits"],
    categories: &[],
    namespaced: true,
    storage_prefix: "/limitranges",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(LimitRangeStrategy), table())
}

/// The limit types kube knows.
const LIMIT_TYPES: &[&str] = &["Pod", "Container", "PersistentVolumeClaim"];

/// Resources a container may name without a domain (`IsStandardContainerResourceName`).
const CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

/// LimitRange rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitRangeStrategy;

impl Strategy for LimitRangeStrategy {
    fn set_defaults(&self, range: &mut Value) {
        default_items(range);
    }

    fn validate(&self, range: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if opt_object(range, "spec", "spec", &mut causes).is_none() {
            return causes;
        }
        let items = opt_array(&range["spec"], "limits", "spec.limits", &mut causes);
        let mut types = Vec::new();
        for (i, item) in object_items(items, "spec.limits", &mut causes) {
            validate_item(item, &format!("spec.limits[{i}]"), &mut types, &mut causes);
        }
        causes
    }

    fn validate_update(&self, range: &Value, _old: &Value) -> Vec<FieldCause> {
        self.validate(range)
    }
}

/// `SetDefaults_LimitRangeItem` on every item.
fn default_items(range: &mut Value) {
    let Some(items) = range.pointer_mut("/spec/limits").and_then(Value::as_array_mut) else {
        return;
    };
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let max = map_of(item, "max");
        let min = map_of(item, "min");
        let mut default = map_of(item, "default");
        for (k, v) in &max {
            default.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut request = map_of(item, "defaultRequest");
        for (k, v) in default.iter().chain(&min) {
            request.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (key, map) in [("default", default), ("defaultRequest", request)] {
            if !map.is_empty() {
                item.insert(key.to_owned(), Value::Object(map));
            }
        }
    }
}

fn map_of(item: &Map<String, Value>, key: &str) -> Map<String, Value> {
    item.get(key).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// The quantities of one of an item's maps, after checking their names and values.
fn quantities(
    item: &Value,
    key: &str,
    path: &str,
    limit_type: &str,
    causes: &mut Vec<FieldCause>,
) -> BTreeMap<String, Quantity> {
    let mut out = BTreeMap::new();
    let Some(map) = opt_object(item, key, &format!("{path}.{key}"), causes) else { return out };
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(name, _)| *name);
    for (name, value) in entries {
        let at = format!("{path}.{key}[{name}]");
        validate_resource_name(name, &at, causes);
        if matches!(limit_type, "Pod" | "Container")
            && !name.contains('/')
            && is_qualified_name(name).is_empty()
            && !CONTAINER_RESOURCES.contains(&name.as_str())
            && !name.starts_with("hugepages-")
        {
            causes.push(FieldCause::invalid(
                &at,
                name.as_str(),
                "must be a standard resource for containers",
            ));
        }
        if let Some(quantity) = quantity_at(value, &at, causes) {
            out.insert(name.clone(), quantity);
        }
    }
    out
}

fn validate_item(item: &Value, path: &str, types: &mut Vec<String>, causes: &mut Vec<FieldCause>) {
    let type_path = format!("{path}.type");
    let limit_type = opt_str(item, "type", &type_path, causes).unwrap_or("");
    for msg in is_qualified_name(limit_type) {
        causes.push(FieldCause::invalid(&type_path, limit_type, &msg));
    }
    if !limit_type.contains('/') && !limit_type.is_empty() && !LIMIT_TYPES.contains(&limit_type) {
        causes.push(FieldCause::invalid(
            &type_path,
            limit_type,
            "must be a standard limit type or fully qualified",
        ));
    }
    if types.iter().any(|t| t == limit_type) {
        causes.push(FieldCause::duplicate(&type_path, limit_type));
    }
    types.push(limit_type.to_owned());

    let max = quantities(item, "max", path, limit_type, causes);
    let min = quantities(item, "min", path, limit_type, causes);
    let (default, default_request) = if limit_type == "Pod" {
        for key in ["default", "defaultRequest"] {
            if item.get(key).and_then(Value::as_object).is_some_and(|m| !m.is_empty()) {
                causes.push(FieldCause::forbidden(
                    format!("{path}.{key}"),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
        }
        (BTreeMap::new(), BTreeMap::new())
    } else {
        (
            quantities(item, "default", path, limit_type, causes),
            quantities(item, "defaultRequest", path, limit_type, causes),
        )
    };
    if limit_type == "PersistentVolumeClaim"
        && !min.contains_key("storage")
        && !max.contains_key("storage")
    {
        causes.push(FieldCause::required(
            format!("{path}.limits"),
            "either minimum or maximum storage value is required, but neither was provided",
        ));
    }
    let ratios = quantities(item, "maxLimitRequestRatio", path, limit_type, causes);
    let mut keys: Vec<&String> =
        max.keys().chain(min.keys()).chain(default.keys()).chain(default_request.keys()).collect();
    keys.extend(ratios.keys());
    keys.sort();
    keys.dedup();
    for k in keys {
        let at = |field: &str| format!("{path}.{field}[{k}]");
        let (mn, mx, df, dr, ratio) =
            (min.get(k), max.get(k), default.get(k), default_request.get(k), ratios.get(k));
        if let (Some(mn), Some(mx)) = (mn, mx)
            && mn > mx
        {
            causes.push(FieldCause::invalid(
                at("min"),
                mn.to_string(),
                &format!("min value {mn} is greater than max value {mx}"),
            ));
        }
        if let (Some(dr), Some(mn)) = (dr, mn)
            && mn > dr
        {
            causes.push(FieldCause::invalid(
                at("defaultRequest"),
                dr.to_string(),
                &format!("min value {mn} is greater than default request value {dr}"),
            ));
        }
        if let (Some(dr), Some(mx)) = (dr, mx)
            && dr > mx
        {
            causes.push(FieldCause::invalid(
                at("defaultRequest"),
                dr.to_string(),
                &format!("default request value {dr} is greater than max value {mx}"),
            ));
        }
        if let (Some(dr), Some(df)) = (dr, df)
            && dr > df
        {
            causes.push(FieldCause::invalid(
                at("defaultRequest"),
                dr.to_string(),
                &format!("default request value {dr} is greater than default limit value {df}"),
            ));
        }
        if let (Some(df), Some(mn)) = (df, mn)
            && mn > df
        {
            causes.push(FieldCause::invalid(
                at("default"),
                mn.to_string(),
                &format!("min value {mn} is greater than default value {df}"),
            ));
        }
        if let (Some(df), Some(mx)) = (df, mx)
            && df > mx
        {
            causes.push(FieldCause::invalid(
                at("default"),
                mx.to_string(),
                &format!("default value {df} is greater than max value {mx}"),
            ));
        }
        if let Some(ratio) = ratio {
            if *ratio < Quantity::from_units(1) {
                causes.push(FieldCause::invalid(
                    at("maxLimitRequestRatio"),
                    ratio.to_string(),
                    &format!("ratio {ratio} is less than 1"),
                ));
            }
            if let (Some(mn), Some(mx)) = (mn, mx)
                && mn.nanos() > 0
            {
                let limit = mx.nanos() as f64 / mn.nanos() as f64;
                if ratio.nanos() as f64 / 1e9 > limit {
                    causes.push(FieldCause::invalid(
                        at("maxLimitRequestRatio"),
                        ratio.to_string(),
                        &format!("ratio {ratio} is greater than max/min = {limit:.6}"),
                    ));
                }
            }
        }
        let native = !k.contains('/') || k.contains("kubernetes.io/");
        let overcommit = native && !k.starts_with("hugepages-");
        if let (Some(df), Some(dr)) = (df, dr)
            && !overcommit
            && df != dr
        {
            causes.push(FieldCause::invalid(
                at("defaultRequest"),
                dr.to_string(),
                &format!("default value {df} must equal to defaultRequest value {dr} in {k}"),
            ));
        }
    }
}

/// kubectl's columns: `Name` and `Created At` (the creation time itself, RFC 3339), which are
/// the generic table's.
fn table() -> TableSpec {
    super::generic_table()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;

    #[test]
    fn container_items_are_defaulted_as_kube_does() {
        let mut range = json!({"spec": {"limits": [
            {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"},
             "default": {"memory": "256Mi"}},
            {"type": "Pod", "max": {"cpu": "4"}}]}});
        LimitRangeStrategy.decoded_create(&mut range);
        assert_eq!(range["spec"]["limits"][0]["default"], json!({"memory": "256Mi", "cpu": "2"}));
        assert_eq!(
            range["spec"]["limits"][0]["defaultRequest"],
            json!({"memory": "256Mi", "cpu": "2"})
        );
        assert!(range["spec"]["limits"][1].get("default").is_none());
        assert!(text(&LimitRangeStrategy.validate(&range)).is_empty());
    }

    #[test]
    fn bounds_must_be_ordered() {
        let range = json!({"spec": {"limits": [
            {"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"},
             "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "3"},
             "maxLimitRequestRatio": {"cpu": "500m"}},
            {"type": "Container"},
            {"type": "Pod", "default": {"cpu": "1"}},
            {"type": "PersistentVolumeClaim"}]}});
        assert_eq!(
            text(&LimitRangeStrategy.validate(&range)),
            [
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
                "spec.limits[0].defaultRequest[cpu]: Invalid value: \"3\": default request value 3 is greater than max value 1",
                "spec.limits[0].defaultRequest[cpu]: Invalid value: \"3\": default request value 3 is greater than default limit value 500m",
                "spec.limits[0].default[cpu]: Invalid value: \"2\": min value 2 is greater than default value 500m",
                "spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: \"500m\": ratio 500m is less than 1",
                "spec.limits[1].type: Duplicate value: \"Container\"",
                "spec.limits[2].default: Forbidden: may not be specified when `type` is 'Pod'",
                "spec.limits[3].limits: Required value: either minimum or maximum storage value is required, but neither was provided",
            ]
        );
    }
}
