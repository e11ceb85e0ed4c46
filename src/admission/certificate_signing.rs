//! kube's CertificateSigning admission plugin: an update of a CertificateSigningRequest's
//! `/status` that changes `status.certificate` needs the `sign` verb on the `signers` resource
//! of `certificates.k8s.io` named the request's signer, or its domain's wildcard. Refusals are
//! kube's 403.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::certificate_approval::{CSRS, GROUP, authorized_for_signer, signer_of};
use super::{Action, Attributes, Plugin};
use crate::authz::Authorizer;
use crate::meta::status::ApiError;

/// The plugin, with the server's authorizer chain.
#[derive(Debug, Clone)]
pub struct CertificateSigning {
    authorizer: Arc<dyn Authorizer>,
}

impl CertificateSigning {
    pub fn new(authorizer: Arc<dyn Authorizer>) -> CertificateSigning {
        CertificateSigning { authorizer }
    }
}

#[async_trait]
impl Plugin for CertificateSigning {
    fn name(&self) -> &'static str {
        "CertificateSigning"
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        if attributes.action != Action::Update
            || attributes.subresource != "status"
            || (attributes.group, attributes.resource) != (GROUP, CSRS)
        {
            return Ok(());
        }
        let certificate =
            |o: Option<&Value>| o.and_then(|o| o.pointer("/status/certificate")).cloned();
        if certificate(object) == certificate(attributes.old_object) {
            return Ok(());
        }
        let signer = signer_of(attributes.old_object);
        if authorized_for_signer(&*self.authorizer, attributes, "sign", signer) {
            return Ok(());
        }
        let why = format!("user not permitted to sign requests with signerName {signer:?}");
        Err(ApiError::forbidden(GROUP, CSRS, attributes.name, &why))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::admission::Chain;
    use crate::admission::certificate_approval::tests::{attributes, authorizer};
    use crate::authn::UserInfo;
    use crate::meta::status::Reason;

    #[tokio::test]
    async fn issuing_needs_sign_on_the_signer() {
        let chain = Chain::new(vec![Arc::new(CertificateSigning::new(authorizer()))]);
        let old =
            json!({"spec": {"signerName": "kubernetes.io/kube-apiserver-client"}, "status": {}});
        let issued = json!({"spec": old["spec"], "status": {"certificate": "eA=="}});
        let mut warnings = Vec::new();
        let signer = UserInfo::new("signer", &["system:authenticated"]);
        let approver = UserInfo::new("approver", &["system:authenticated"]);
        chain
            .validate(&attributes(&signer, "status", &old), Some(&issued), &mut warnings)
            .await
            .unwrap();
        let err = chain
            .validate(&attributes(&approver, "status", &old), Some(&issued), &mut warnings)
            .await
            .unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(
            err.message,
            "certificatesigningrequests.certificates.k8s.io \"alice\" is forbidden: user not \
             permitted to sign requests with signerName \"kubernetes.io/kube-apiserver-client\""
        );
        // A status write that leaves the certificate alone needs nothing.
        chain
            .validate(&attributes(&approver, "status", &old), Some(&old), &mut warnings)
            .await
            .unwrap();
    }
}
