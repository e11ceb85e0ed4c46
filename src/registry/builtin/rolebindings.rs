//! `rbac.authorization.k8s.io/v1` RoleBindings (`pkg/registry/rbac/rolebinding`): grant a Role
//! of the namespace, or a ClusterRole within the namespace, to users, groups and service
//! accounts. Also what ClusterRoleBindings share with them: v1 defaulting (`roleRef.apiGroup`,
//! each subject's `apiGroup`), `roleRef` and subject validation, the immutable `roleRef`, and
//! kubectl's columns (`ROLE`, and with `-o wide` `USERS`, `GROUPS`, `SERVICEACCOUNTS`).
//!
//! Whether the writer may grant the role (`bind`, or holding every permission it grants) needs
//! the requesting user: [`crate::authz::escalation`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::roles::{GROUP, rbac_name};
use super::{Kind, age_column, column, invalid_rendered, name_column, object_items, opt_array};
use super::{opt_object, opt_str, str_at};
use crate::meta::validation::{FieldCause, NameValidator, go_quote, is_dns1123_subdomain};
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, Column, TableSpec};

const KIND: Kind = Kind {
    group: GROUP,
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    short_names: &[],
    categories: &[],
    namespaced: true,
    storage_prefix: "/rolebindings",
};

pub fn resource() -> Resource {
    KIND.resource(Arc::new(BindingStrategy { namespaced: true }), table(true))
}

/// RoleBinding rules (`namespaced`) and ClusterRoleBinding rules.
#[derive(Debug, Clone, Copy)]
pub struct BindingStrategy {
    /// A RoleBinding: its `roleRef` may name a Role, and its ServiceAccount subjects may leave
    /// the namespace out (they mean the binding's own).
    pub namespaced: bool,
}

impl Strategy for BindingStrategy {
    fn set_defaults(&self, binding: &mut Value) {
        default_binding(binding);
    }

    fn validate(&self, binding: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        validate_role_ref(binding, self.namespaced, &mut causes);
        let subjects = opt_array(binding, "subjects", "subjects", &mut causes);
        for (i, subject) in object_items(subjects, "subjects", &mut causes) {
            validate_subject(subject, self.namespaced, &format!("subjects[{i}]"), &mut causes);
        }
        causes
    }

    fn validate_update(&self, binding: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(binding);
        let changed = ["apiGroup", "kind", "name"]
            .iter()
            .any(|f| role_ref_str(binding, f) != role_ref_str(old, f));
        if changed {
            causes.push(invalid_rendered(
                "roleRef",
                &go_role_ref(binding),
                "cannot change roleRef",
            ));
        }
        causes
    }

    fn name_validator(&self) -> NameValidator {
        rbac_name
    }
}

/// `SetDefaults_RoleBinding` / `_ClusterRoleBinding` and `SetDefaults_Subject`: an empty
/// `roleRef.apiGroup` is the RBAC group; a User or Group subject's empty `apiGroup` too (a
/// ServiceAccount's stays the core group, left out).
fn default_binding(binding: &mut Value) {
    let Some(map) = binding.as_object_mut() else { return };
    if let Some(role_ref) = map.get_mut("roleRef").and_then(Value::as_object_mut) {
        default_api_group(role_ref, true);
    }
    if let Some(subjects) = map.get_mut("subjects").and_then(Value::as_array_mut) {
        for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
            let rbac =
                matches!(subject.get("kind").and_then(Value::as_str), Some("User" | "Group"));
            default_api_group(subject, rbac);
        }
    }
    let no_subjects = match map.get("subjects") {
        Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        _ => false,
    };
    if no_subjects {
        // `subjects` is omitempty.
        map.shift_remove("subjects");
    }
}

/// Sets `apiGroup` to the RBAC group when it is missing or empty and `rbac` says so.
fn default_api_group(map: &mut Map<String, Value>, rbac: bool) {
    let empty = match map.get("apiGroup") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if empty && rbac {
        map.insert("apiGroup".into(), GROUP.into());
    }
}

fn role_ref_str<'a>(binding: &'a Value, field: &str) -> &'a str {
    str_at(binding, &format!("/roleRef/{field}"))
}

/// Go's `%#v` of the internal `rbac.RoleRef`, as the `cannot change roleRef` cause prints it.
fn go_role_ref(binding: &Value) -> String {
    format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        go_quote(role_ref_str(binding, "apiGroup")),
        go_quote(role_ref_str(binding, "kind")),
        go_quote(role_ref_str(binding, "name")),
    )
}

/// `roleRef`: the RBAC group, a kind this binding may refer to, a name.
fn validate_role_ref(binding: &Value, namespaced: bool, causes: &mut Vec<FieldCause>) {
    let empty = Map::new();
    let role_ref = opt_object(binding, "roleRef", "roleRef", causes).unwrap_or(&empty);
    let role_ref = Value::Object(role_ref.clone());
    let group = opt_str(&role_ref, "apiGroup", "roleRef.apiGroup", causes).unwrap_or("");
    if group != GROUP {
        causes.push(FieldCause::not_supported("roleRef.apiGroup", group, &[GROUP]));
    }
    let kind = opt_str(&role_ref, "kind", "roleRef.kind", causes).unwrap_or("");
    let kinds: &[&str] = if namespaced { &["Role", "ClusterRole"] } else { &["ClusterRole"] };
    if !kinds.contains(&kind) {
        causes.push(FieldCause::not_supported("roleRef.kind", kind, kinds));
    }
    let name = opt_str(&role_ref, "name", "roleRef.name", causes).unwrap_or("");
    if name.is_empty() {
        causes.push(FieldCause::required("roleRef.name", ""));
    }
    for msg in rbac_name(name, false).into_iter().filter(|_| !name.is_empty()) {
        causes.push(FieldCause::invalid("roleRef.name", name, &msg));
    }
}

/// `ValidateRoleBindingSubject`.
fn validate_subject(subject: &Value, namespaced: bool, path: &str, causes: &mut Vec<FieldCause>) {
    let field = |f: &str| format!("{path}.{f}");
    let name = opt_str(subject, "name", &field("name"), causes).unwrap_or("");
    let kind = opt_str(subject, "kind", &field("kind"), causes).unwrap_or("");
    let group = opt_str(subject, "apiGroup", &field("apiGroup"), causes).unwrap_or("");
    let namespace = opt_str(subject, "namespace", &field("namespace"), causes).unwrap_or("");
    if name.is_empty() {
        causes.push(FieldCause::required(field("name"), ""));
    }
    match kind {
        "ServiceAccount" => {
            if !name.is_empty() {
                for msg in is_dns1123_subdomain(name) {
                    causes.push(FieldCause::invalid(field("name"), name, &msg));
                }
            }
            if !group.is_empty() {
                causes.push(FieldCause::not_supported(field("apiGroup"), group, &[""]));
            }
            if !namespaced && namespace.is_empty() {
                causes.push(FieldCause::required(field("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != GROUP {
                causes.push(FieldCause::not_supported(field("apiGroup"), group, &[GROUP]));
            }
        }
        other => causes.push(FieldCause::not_supported(
            field("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

/// `rbac.SubjectsStrings`: users, groups and `namespace/name` of service accounts, each joined
/// with `, ` as kubectl's wide columns show them.
fn subjects_of(binding: &Value, kind: &str) -> String {
    let subjects = binding.get("subjects").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    subjects
        .iter()
        .filter(|s| str_at(s, "/kind") == kind)
        .map(|s| match kind {
            "ServiceAccount" => format!("{}/{}", str_at(s, "/namespace"), str_at(s, "/name")),
            _ => str_at(s, "/name").to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The printer of `kubectl get rolebindings` / `clusterrolebindings`.
pub(crate) fn table(namespaced: bool) -> TableSpec {
    // kube describes ROLE by the binding kind's `roleRef`.
    let (type_name, kind) = if namespaced {
        ("roleBinding", KIND)
    } else {
        ("clusterRoleBinding", Kind { kind: "ClusterRoleBinding", ..KIND })
    };
    let role_ref_doc = kind.doc("/roleRef");
    let wide = |name: &str, what: &str, cell: fn(&Value) -> Value| -> Column {
        column(name, "string", 1, &format!("{what} in the {type_name}"), Cell::Computed(cell))
    };
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Role",
                "string",
                0,
                &role_ref_doc,
                Cell::Computed(|b| {
                    format!("{}/{}", role_ref_str(b, "kind"), role_ref_str(b, "name")).into()
                }),
            ),
            age_column(),
            wide("Users", "Users", |b| subjects_of(b, "User").into()),
            wide("Groups", "Groups", |b| subjects_of(b, "Group").into()),
            wide("ServiceAccounts", "ServiceAccounts", |b| subjects_of(b, "ServiceAccount").into()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;
    use serde_json::json;

    const RB: BindingStrategy = BindingStrategy { namespaced: true };
    const CRB: BindingStrategy = BindingStrategy { namespaced: false };

    fn defaulted(mut binding: Value) -> Value {
        RB.decoded_create(&mut binding);
        binding
    }

    #[test]
    fn api_groups_are_defaulted() {
        let binding = defaulted(json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [
            {"kind": "User", "name": "alice"}, {"kind": "Group", "name": "g", "apiGroup": ""},
            {"kind": "ServiceAccount", "name": "sa"}, {"kind": "Robot", "name": "x"}]}));
        assert_eq!(binding["roleRef"]["apiGroup"], GROUP);
        assert_eq!(binding["subjects"][0]["apiGroup"], GROUP);
        assert_eq!(binding["subjects"][1]["apiGroup"], GROUP);
        assert!(binding["subjects"][2].get("apiGroup").is_none());
        assert!(binding["subjects"][3].get("apiGroup").is_none());
        assert!(defaulted(json!({"subjects": []})).get("subjects").is_none());
    }

    #[test]
    fn a_binding_as_kubectl_creates_it_is_valid() {
        let binding = defaulted(json!({"roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "system:masters"},
                         {"kind": "ServiceAccount", "name": "default"}]}));
        assert!(RB.validate(&binding).is_empty());
        assert!(
            RB.validate(&defaulted(json!({"roleRef": {"kind": "Role", "name": "r"}}))).is_empty()
        );
    }

    #[test]
    fn role_refs_are_checked() {
        let causes =
            cause_texts(&CRB.validate(&json!({"roleRef": {"apiGroup": "", "kind": "Role"}})));
        assert_eq!(
            causes,
            [
                "roleRef.apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "roleRef.name: Required value",
            ]
        );
        let causes = cause_texts(
            &RB.validate(&defaulted(json!({"roleRef": {"kind": "Pod", "name": "a/b"}}))),
        );
        assert_eq!(
            causes,
            [
                "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
                "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
            ]
        );
    }

    #[test]
    fn subjects_are_checked() {
        let binding = json!({"roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "view"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "Bad_SA", "apiGroup": "v1"},
                {"kind": "User", "name": ""},
                {"kind": "Group", "name": "g", "apiGroup": "example.com"},
                {"kind": "Robot", "name": "r2"}]});
        let causes = cause_texts(&CRB.validate(&binding));
        assert_eq!(causes.len(), 7, "{causes:#?}");
        assert!(causes[0].starts_with(
            "subjects[0].name: Invalid value: \"Bad_SA\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(
            causes[1],
            "subjects[0].apiGroup: Unsupported value: \"v1\": supported values: \"\""
        );
        assert_eq!(causes[2], "subjects[0].namespace: Required value");
        assert_eq!(causes[3], "subjects[1].name: Required value");
        assert_eq!(
            causes[4],
            "subjects[1].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\""
        );
        assert_eq!(
            causes[5],
            "subjects[2].apiGroup: Unsupported value: \"example.com\": supported values: \"rbac.authorization.k8s.io\""
        );
        assert_eq!(
            causes[6],
            "subjects[3].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
        );
        // In a RoleBinding a service account may leave its namespace out.
        let sa = json!({"roleRef": {"apiGroup": GROUP, "kind": "Role", "name": "r"},
                        "subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
        assert!(RB.validate(&sa).is_empty());
        assert_eq!(cause_texts(&CRB.validate(&sa))[1], "subjects[0].namespace: Required value");
    }

    #[test]
    fn the_role_ref_cannot_change() {
        let old = defaulted(json!({"roleRef": {"kind": "Role", "name": "a"}}));
        let mut new = old.clone();
        new["subjects"] = json!([{"kind": "User", "name": "bob", "apiGroup": GROUP}]);
        assert!(RB.validate_update(&new, &old).is_empty());
        new["roleRef"]["name"] = json!("b");
        assert_eq!(
            cause_texts(&RB.validate_update(&new, &old)),
            ["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", \
              Kind:\"Role\", Name:\"b\"}: cannot change roleRef"]
        );
    }

    #[test]
    fn columns_as_kubectl_shows_them() {
        let binding = json!({"metadata": {"name": "rb"},
            "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "User", "name": "bob"},
                         {"kind": "Group", "name": "devs"},
                         {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}]});
        let table = render_table(&table(true), &[binding], Default::default(), Default::default());
        let names: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(names, ["Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"]);
        let priorities: Vec<_> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["priority"].clone())
            .collect();
        assert_eq!(priorities, [0, 0, 0, 1, 1, 1]);
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["rb", "ClusterRole/edit", "<unknown>", "alice, bob", "devs", "build/ci"])
        );
        assert_eq!(table["columnDefinitions"][3]["description"], "Users in the roleBinding");
        let r = resource();
        assert!(r.namespaced && r.short_names.is_empty());
        assert_eq!(r.key(Some("ns"), "rb"), "/rolebindings/ns/rb");
    }
}
