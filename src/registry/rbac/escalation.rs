//! Escalation prevention on the RBAC kinds' writes, as a validating admission plugin: a create
//! or update of a Role, ClusterRole, RoleBinding or ClusterRoleBinding passes
//! [`check_role_write`] / [`check_binding_write`] (kube's `escalate` and `bind` checks, with
//! `system:masters` exempt) after the strategy's validation and before storage, so a user can
//! never grant what they do not hold. Refusals are kube's 403 (or the 404 of a binding's missing
//! role); nothing is stored.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::GROUP;
use crate::admission::{Action, Attributes, Plugin};
use crate::authz::escalation::{
    EscalationError, RbacWrite, RoleKind, check_binding_write, check_role_write,
};
use crate::authz::{Authorizer, RuleResolver};
use crate::meta::status::{ApiError, Reason};

/// The plugin: the server's authorizer chain (for `escalate` and `bind`) and RBAC's rules
/// (for what the writer holds).
#[derive(Debug, Clone)]
pub struct RbacEscalation {
    pub authorizer: Arc<dyn Authorizer>,
    pub resolver: RuleResolver,
}

#[async_trait]
impl Plugin for RbacEscalation {
    fn name(&self) -> &'static str {
        "RBACEscalation"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let (Some(object), Action::Create | Action::Update) = (object, attributes.action) else {
            return Ok(());
        };
        if attributes.group != GROUP || !attributes.subresource.is_empty() {
            return Ok(());
        }
        check(&*self.authorizer, &self.resolver, attributes, object)
    }
}

/// The check for one write; `Ok` for anything that is not an RBAC object.
pub fn check(
    authorizer: &dyn Authorizer,
    resolver: &RuleResolver,
    attributes: &Attributes<'_>,
    object: &Value,
) -> Result<(), ApiError> {
    let user = Arc::new(attributes.user.clone());
    let write = RbacWrite {
        user: &user,
        namespace: attributes.namespace,
        // kube's RequestInfo has no name for a create by POST.
        request_name: if attributes.action == Action::Create { "" } else { attributes.name },
        object,
        old: attributes.old_object,
    };
    let outcome = match attributes.resource {
        "roles" => check_role_write(authorizer, resolver, RoleKind::Role, write),
        "clusterroles" => check_role_write(authorizer, resolver, RoleKind::ClusterRole, write),
        "rolebindings" | "clusterrolebindings" => check_binding_write(authorizer, resolver, write),
        _ => Ok(()),
    };
    outcome.map_err(|err| to_api_error(attributes.resource, err))
}

fn to_api_error(resource: &str, err: EscalationError) -> ApiError {
    match err {
        EscalationError::Forbidden(forbidden) => {
            match forbidden.message.split_once(" is forbidden: ") {
                Some((_, cause)) if !forbidden.name.is_empty() => ApiError::forbidden(
                    &forbidden.group,
                    &forbidden.resource,
                    &forbidden.name,
                    cause,
                ),
                _ => ApiError::new(Reason::Forbidden, forbidden.message),
            }
        }
        EscalationError::RoleNotFound { resource: role_resource, name } => {
            let role_resource = if role_resource.is_empty() { resource } else { &role_resource };
            ApiError::not_found(GROUP, role_resource, &name)
        }
        EscalationError::Internal(message) => ApiError::internal(message),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::admission::Chain;
    use crate::authn::UserInfo;
    use crate::authz::{AuthorizationConfig, InMemoryRules, RuleSource};

    fn write<'a>(user: &'a UserInfo, resource: &'a str, action: Action) -> Attributes<'a> {
        Attributes {
            action,
            user,
            group: GROUP,
            version: "v1",
            resource,
            subresource: "",
            kind: "",
            namespace: "team",
            name: "r",
            dry_run: false,
            old_object: None,
            options: None,
            audit_annotations: crate::admission::AuditAnnotations::unrecorded(),
        }
    }

    #[tokio::test]
    async fn rbac_writes_cannot_grant_more_than_the_writer_holds() {
        let rules = Arc::new(InMemoryRules::new());
        // alice may write roles and bindings in `team` (not `escalate` or `bind`: `*` would
        // include them), and read configmaps there.
        rules.apply(&json!({"kind": "Role", "metadata": {"name": "manager", "namespace": "team"},
            "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "update"]},
                      {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}));
        rules.apply(&json!({"kind": "RoleBinding", "metadata": {"name": "m", "namespace": "team"},
            "roleRef": {"kind": "Role", "name": "manager"},
            "subjects": [{"kind": "User", "name": "alice"}]}));
        rules.apply(&json!({"kind": "Role", "metadata": {"name": "secrets", "namespace": "team"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}));
        let source: Arc<dyn RuleSource> = rules;
        let chain = AuthorizationConfig::default().build(source.clone());
        let plugin =
            RbacEscalation { authorizer: chain.authorizer, resolver: RuleResolver::new(source) };
        let admission = Chain::new(vec![Arc::new(plugin)]);
        let alice = UserInfo::new("alice", &["system:authenticated"]);
        let root = UserInfo::new("root", &["system:masters"]);
        let mut warnings = Vec::new();

        let held = json!({"metadata": {"name": "r", "namespace": "team"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]});
        let create = write(&alice, "roles", Action::Create);
        admission.validate(&create, Some(&held), &mut warnings).await.unwrap();

        let more = json!({"metadata": {"name": "r", "namespace": "team"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]});
        let err = admission.validate(&create, Some(&more), &mut warnings).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) \
             is attempting to grant RBAC permissions not currently held:\n\
             {APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}"
        );
        let root_create = write(&root, "roles", Action::Create);
        admission.validate(&root_create, Some(&more), &mut warnings).await.unwrap();

        let binding = |role: &str| {
            json!({"metadata": {"name": "b", "namespace": "team"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                "subjects": [{"kind": "User", "name": "bob"}]})
        };
        let bind = write(&alice, "rolebindings", Action::Create);
        let err =
            admission.validate(&bind, Some(&binding("secrets")), &mut warnings).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert!(
            err.message.starts_with(
                "rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"alice\""
            ),
            "{}",
            err.message
        );
        let err =
            admission.validate(&bind, Some(&binding("nope")), &mut warnings).await.unwrap_err();
        assert_eq!(
            (err.reason, err.message.as_str()),
            (Reason::NotFound, "roles.rbac.authorization.k8s.io \"nope\" not found")
        );

        // Other resources, deletes and subresources are not this plugin's business.
        let configmaps = Attributes { group: "", resource: "configmaps", ..create };
        admission.validate(&configmaps, Some(&more), &mut warnings).await.unwrap();
        let delete = write(&alice, "roles", Action::Delete);
        admission.validate(&delete, None, &mut warnings).await.unwrap();
    }
}
