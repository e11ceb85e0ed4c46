//! kube's CertificateApproval admission plugin: an update of a CertificateSigningRequest's
//! `/approval` needs the `approve` verb on the `signers` resource of `certificates.k8s.io`,
//! named the request's signer (`kubernetes.io/kube-apiserver-client`) or its domain's wildcard
//! (`kubernetes.io/*`). The signer is read from the stored object, so an approval cannot change
//! it on the way. Refusals are kube's 403.
//!
//! [`authorized_for_signer`] is the check CertificateSigning makes too (`sign`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::{Action, Attributes, Plugin};
use crate::authz::{self, Authorizer};
use crate::meta::status::ApiError;

/// The API group of CertificateSigningRequests and of the synthetic `signers` resource.
pub const GROUP: &str = "certificates.k8s.io";
/// CertificateSigningRequests' plural.
pub const CSRS: &str = "certificatesigningrequests";

/// The plugin, with the server's authorizer chain.
#[derive(Debug, Clone)]
pub struct CertificateApproval {
    authorizer: Arc<dyn Authorizer>,
}

impl CertificateApproval {
    pub fn new(authorizer: Arc<dyn Authorizer>) -> CertificateApproval {
        CertificateApproval { authorizer }
    }
}

#[async_trait]
impl Plugin for CertificateApproval {
    fn name(&self) -> &'static str {
        "CertificateApproval"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        _object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if attributes.action != Action::Update
            || attributes.subresource != "approval"
            || (attributes.group, attributes.resource) != (GROUP, CSRS)
        {
            return Ok(());
        }
        let signer = signer_of(attributes.old_object);
        if authorized_for_signer(&*self.authorizer, attributes, "approve", signer) {
            return Ok(());
        }
        let why = format!("user not permitted to approve requests with signerName {signer:?}");
        Err(ApiError::forbidden(GROUP, CSRS, attributes.name, &why))
    }
}

/// The stored request's `spec.signerName`.
pub(crate) fn signer_of(object: Option<&Value>) -> &str {
    object.and_then(|o| o.pointer("/spec/signerName")).and_then(Value::as_str).unwrap_or("")
}

/// kube's `IsAuthorizedForSignerName`: `verb` on `signers` named `signer`, else on
/// `<domain>/*`.
pub(crate) fn authorized_for_signer(
    authorizer: &dyn Authorizer,
    attributes: &Attributes<'_>,
    verb: &str,
    signer: &str,
) -> bool {
    let user = Arc::new(attributes.user.clone());
    let ask = |name: &str| {
        let request = authz::Attributes::resource(user.clone(), verb, GROUP, "*", "signers");
        authorizer.authorize(&request.name(name)).is_allowed()
    };
    let domain = signer.split('/').next().unwrap_or_default();
    ask(signer) || ask(&format!("{domain}/*"))
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::admission::{AuditAnnotations, Chain};
    use crate::authn::UserInfo;
    use crate::authz::{AuthorizationConfig, InMemoryRules, RuleSource};
    use crate::meta::status::Reason;

    /// An authorizer under RBAC where `approver` may approve one signer and `domain` every
    /// signer of `example.com`.
    pub(crate) fn authorizer() -> Arc<dyn Authorizer> {
        let rules = Arc::new(InMemoryRules::new());
        let role = |name: &str, verb: &str, signer: &str| {
            json!({"kind": "ClusterRole", "metadata": {"name": name},
                "rules": [{"apiGroups": [GROUP], "resources": ["signers"], "verbs": [verb],
                           "resourceNames": [signer]}]})
        };
        let binding = |role: &str, user: &str| {
            json!({"kind": "ClusterRoleBinding", "metadata": {"name": role},
                "roleRef": {"kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": user}]})
        };
        rules.apply(&role("approve-client", "approve", "kubernetes.io/kube-apiserver-client"));
        rules.apply(&binding("approve-client", "approver"));
        rules.apply(&role("approve-example", "approve", "example.com/*"));
        rules.apply(&binding("approve-example", "domain"));
        rules.apply(&role("sign-client", "sign", "kubernetes.io/kube-apiserver-client"));
        rules.apply(&binding("sign-client", "signer"));
        let source: Arc<dyn RuleSource> = rules;
        AuthorizationConfig::default().build(source).authorizer
    }

    pub(crate) fn attributes<'a>(
        user: &'a UserInfo,
        subresource: &'a str,
        old: &'a Value,
    ) -> Attributes<'a> {
        Attributes {
            action: Action::Update,
            user,
            group: GROUP,
            version: "v1",
            resource: CSRS,
            subresource,
            kind: "CertificateSigningRequest",
            namespace: "",
            name: "alice",
            dry_run: false,
            old_object: Some(old),
            options: None,
            audit_annotations: AuditAnnotations::unrecorded(),
        }
    }

    #[tokio::test]
    async fn approving_needs_approve_on_the_signer_or_its_domain() {
        let chain = Chain::new(vec![Arc::new(CertificateApproval::new(authorizer()))]);
        let client = json!({"spec": {"signerName": "kubernetes.io/kube-apiserver-client"}});
        let example = json!({"spec": {"signerName": "example.com/team-a"}});
        let mut warnings = Vec::new();
        let approver = UserInfo::new("approver", &["system:authenticated"]);
        let domain = UserInfo::new("domain", &["system:authenticated"]);
        let root = UserInfo::new("root", &["system:masters"]);
        for (user, old) in [(&approver, &client), (&domain, &example), (&root, &client)] {
            let attributes = attributes(user, "approval", old);
            chain.validate(&attributes, Some(old), &mut warnings).await.unwrap();
        }
        let err = chain
            .validate(&attributes(&domain, "approval", &client), Some(&client), &mut warnings)
            .await
            .unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "certificatesigningrequests.certificates.k8s.io \"alice\" is forbidden: user not \
             permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client\""
        );
        // Other subresources are not this plugin's business.
        let status = attributes(&domain, "status", &client);
        chain.validate(&status, Some(&client), &mut warnings).await.unwrap();
    }
}
