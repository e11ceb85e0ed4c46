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
