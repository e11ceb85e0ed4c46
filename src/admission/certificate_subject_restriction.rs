//! kube's CertificateSubjectRestriction admission plugin: a CertificateSigningRequest for the
//! `kubernetes.io/kube-apiserver-client` signer may not ask for the group `system:masters` (an
//! `O` of its subject), which would make whoever approves it hand out cluster-admin. Refusals
//! are kube's 403.

use async_trait::async_trait;
use base64::Engine;
use serde_json::Value;

use super::certificate_approval::{CSRS, GROUP};
use super::{Action, Attributes, Plugin};
use crate::meta::status::ApiError;
use crate::pki::csr::CertificateRequest;

/// The signer whose certificates kube-apiserver trusts.
const KUBE_APISERVER_CLIENT: &str = "kubernetes.io/kube-apiserver-client";

/// The plugin; it needs nothing but the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct CertificateSubjectRestriction;

#[async_trait]
impl Plugin for CertificateSubjectRestriction {
    fn name(&self) -> &'static str {
        "CertificateSubjectRestriction"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if attributes.action != Action::Create
            || !attributes.subresource.is_empty()
            || (attributes.group, attributes.resource) != (GROUP, CSRS)
        {
            return Ok(());
        }
        let text = |pointer: &str| {
            object.and_then(|o| o.pointer(pointer)).and_then(Value::as_str).unwrap_or("")
        };
        if text("/spec/signerName") != KUBE_APISERVER_CLIENT {
            return Ok(());
        }
        let forbidden = |why: &str| ApiError::forbidden(GROUP, CSRS, attributes.name, why);
        let pem = base64::engine::general_purpose::STANDARD
            .decode(text("/spec/request"))
            .unwrap_or_default();
        let request = CertificateRequest::parse_pem(&pem)
            .map_err(|err| forbidden(&format!("failed to parse CSR: {err}")))?;
        if request.organizations().contains(&"system:masters") {
            return Err(forbidden(&format!(
                "use of {KUBE_APISERVER_CLIENT} signer with system:masters group is not allowed"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::admission::{AuditAnnotations, Chain};
    use crate::authn::UserInfo;
    use crate::meta::status::Reason;
    use crate::registry::builtin::certificatesigningrequests::tests::request;

    #[tokio::test]
    async fn system_masters_is_refused_for_the_apiserver_client_signer_only() {
        let chain = Chain::new(vec![Arc::new(CertificateSubjectRestriction)]);
        let user = UserInfo::new("root", &["system:masters"]);
        let attributes = Attributes {
            action: Action::Create,
            user: &user,
            group: GROUP,
            version: "v1",
            resource: CSRS,
            subresource: "",
            kind: "CertificateSigningRequest",
            namespace: "",
            name: "mallory",
            dry_run: false,
            old_object: None,
            options: None,
            audit_annotations: AuditAnnotations::unrecorded(),
        };
        let csr = |signer: &str, groups: &[&str]| json!({"spec": {"signerName": signer, "request": request("mallory", groups)}});
        let mut warnings = Vec::new();
        let masters = csr(KUBE_APISERVER_CLIENT, &["dev", "system:masters"]);
        let err = chain.validate(&attributes, Some(&masters), &mut warnings).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "certificatesigningrequests.certificates.k8s.io \"mallory\" is forbidden: use of \
             kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
        );
        for allowed in
            [csr(KUBE_APISERVER_CLIENT, &["dev"]), csr("example.com/x", &["system:masters"])]
        {
            chain.validate(&attributes, Some(&allowed), &mut warnings).await.unwrap();
        }
    }
}
