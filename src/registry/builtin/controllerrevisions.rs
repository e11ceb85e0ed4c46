//! `apps/v1` ControllerRevisions (`pkg/registry/apps/controllerrevision`): the immutable
//! snapshots StatefulSet and DaemonSet controllers keep of their templates. `data` is required
//! on create and never changes; `revision` is non-negative.

use std::sync::Arc;

use serde_json::Value;

use super::{Kind, age_column, column, name_column, opt_int, validate_nonnegative};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec};

const KIND: Kind = Kind {
    group: "apps",
    version: "v1",
    kind: "ControllerRevision",
    plural: "controllerrevisions",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/controllerrevisions",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(ControllerRevisionStrategy), table())
}

/// ControllerRevision rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct ControllerRevisionStrategy;

impl Strategy for ControllerRevisionStrategy {
    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if object.get("data").is_none_or(Value::is_null) {
            causes.push(FieldCause::required("data", "data is mandatory"));
        }
        let revision = opt_int(object, "revision", "revision", &mut causes);
        validate_nonnegative(revision.or(Some(0)), "revision", &mut causes);
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(new);
        if new.get("data") != old.get("data") {
            causes.push(super::invalid_rendered(
                "data",
                &new.get("data").map(Value::to_string).unwrap_or_else(|| "null".to_owned()),
                "field is immutable",
            ));
        }
        causes
    }
}

/// kube's controller column: `<kind>.<group>/<name>` of the controlling owner, lower-cased
/// kind, `<none>` without one.
fn controller(object: &Value) -> Value {
    let owners = super::array_at(object, "/metadata/ownerReferences");
    let Some(owner) = owners.iter().find(|o| o.get("controller") == Some(&Value::Bool(true)))
    else {
        return "<none>".into();
    };
    let api_version = super::str_at(owner, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = super::str_at(owner, "/kind").to_lowercase();
    let kind = if group.is_empty() { kind } else { format!("{kind}.{group}") };
    format!("{kind}/{}", super::str_at(owner, "/name")).into()
}

fn table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Controller",
                "string",
                0,
                "Controller of the object",
                Cell::Computed(controller),
            ),
            column(
                "Revision",
                "string",
                0,
                &KIND.doc("/revision"),
                Cell::Computed(|r| r.get("revision").and_then(Value::as_i64).unwrap_or(0).into()),
            ),
            age_column(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::table::render_table;
    use serde_json::json;

    #[test]
    fn data_is_required_and_immutable() {
        let s = ControllerRevisionStrategy;
        assert_eq!(
            text(&s.validate(&json!({"revision": -1}))),
            [
                "data: Required value: data is mandatory",
                "revision: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
        let old = json!({"data": {"spec": {"a": 1}}, "revision": 1});
        let mut new = old.clone();
        new["revision"] = json!(2);
        assert!(s.validate_update(&new, &old).is_empty());
        new["data"] = json!({"spec": {"a": 2}});
        assert_eq!(
            text(&s.validate_update(&new, &old)),
            ["data: Invalid value: {\"spec\":{\"a\":2}}: field is immutable"]
        );
    }

    #[test]
    fn columns() {
        let r = json!({"metadata": {"name": "web-5d4f", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]},
            "data": {}, "revision": 3});
        let table = render_table(&table(), &[r], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web-5d4f", "statefulset.apps/web", 3, "<unknown>"])
        );
    }
}
