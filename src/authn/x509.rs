//! X.509 client certificates: the chain the client presented on its TLS connection
//! ([`ClientCertChain`], put in the request's extensions by the server) is verified against the
//! client CAs for client authentication, then its leaf names the user: CN = user name,
//! O = groups, and `extra["authentication.kubernetes.io/credential-id"] = ["X509SHA256=<hex>"]`.
//! No chain: not applicable. A chain that does not verify: an error (401), as in kube.
//!
//! The TLS handshake only checks that the client holds the key of the certificate it presents
//! (`crate::pki::tls`); the chain is verified here, once per chain: a verified chain's answer is
//! kept ([`verified`]) for as long as every certificate in it is valid, so the requests after a
//! client's first cost a SHA-256 of the chain and a lookup, not an ECDSA verification.

mod verified;

use std::sync::Arc;

use async_trait::async_trait;
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use self::verified::{ChainKey, Validity, VerifiedChains};
use super::{
    Authenticator, AuthnError, CREDENTIAL_ID_KEY, RequestParts, Response, UserInfo,
    audience_agnostic,
};
use crate::pki::tls::{self, ClientCertChain};
use crate::pki::x509::CertInfo;

/// Authenticates requests by their TLS client certificate.
#[derive(Debug)]
pub struct X509Authenticator {
    verifier: Arc<dyn ClientCertVerifier>,
    api_audiences: Vec<String>,
    /// The chains `verifier` accepted, with their answers: belongs to these client CAs.
    verified: VerifiedChains,
}

impl X509Authenticator {
    /// Trusts `client_ca` (at least one certificate) for client authentication.
    pub fn new(
        client_ca: &[CertificateDer<'static>],
        api_audiences: Vec<String>,
    ) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        for cert in client_ca {
            roots.add(cert.clone()).map_err(|e| format!("client CA: {e}"))?;
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), tls::provider())
                .build()
                .map_err(|e| format!("client CA: {e}"))?;
        let verified = VerifiedChains::new(verified::CAPACITY);
        Ok(X509Authenticator { verifier, api_audiences, verified })
    }

    /// Keeps at most `chains` verified chains instead of 4,096; 0 verifies
    /// every request's chain (what `benches/x509.rs` compares with).
    pub fn keeping(mut self, chains: usize) -> Self {
        self.verified = VerifiedChains::new(chains);
        self
    }

    /// Verifies `chain` (leaf first) as of `now`, or finds it verified already and still valid,
    /// and maps its leaf to a user. `Ok(None)` for an empty chain or a leaf without a common name.
    pub fn authenticate_chain(
        &self,
        chain: &[CertificateDer<'static>],
        now: UnixTime,
    ) -> Result<Option<Response>, AuthnError> {
        if chain.is_empty() {
            return Ok(None);
        }
        let key = ChainKey::of(chain);
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if let Some(answer) = self.verified.get(&key, seconds) {
            return Ok(answer);
        }
        let answer = self.verify_chain(chain, now)?;
        if let Some(validity) = Validity::of(chain) {
            self.verified.insert(key, answer.clone(), validity, seconds);
        }
        Ok(answer)
    }

    /// The verification itself: the chain against the client CAs, then the leaf's names.
    fn verify_chain(
        &self,
        chain: &[CertificateDer<'static>],
        now: UnixTime,
    ) -> Result<Option<Response>, AuthnError> {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Ok(None);
        };
        let info = CertInfo::parse(leaf);
        let described = match &info {
            Ok(info) => format!("CN={:?}", info.common_name().unwrap_or_default()),
            Err(_) => "(unparseable)".to_owned(),
        };
        self.verifier.verify_client_cert(leaf, intermediates, now).map_err(|e| {
            AuthnError::ClientCertificate(format!("verifying certificate {described} failed: {e}"))
        })?;
        let info = info.map_err(|_| {
            AuthnError::ClientCertificate("verified certificate is unreadable".to_owned())
        })?;
        let Some(name) = info.common_name().filter(|cn| !cn.is_empty()) else {
            return Ok(None);
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, leaf);
        let fingerprint: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let mut user = UserInfo {
            name: name.to_owned(),
            groups: info.organizations().into_iter().map(str::to_owned).collect(),
            ..UserInfo::default()
        };
        user.extra.insert(CREDENTIAL_ID_KEY.to_owned(), vec![format!("X509SHA256={fingerprint}")]);
        Ok(Some(Response {
            user,
            audiences: audience_agnostic(&self.api_audiences, None).unwrap_or_default(),
        }))
    }
}

#[async_trait]
impl Authenticator for X509Authenticator {
    async fn authenticate(&self, request: &RequestParts) -> Result<Option<Response>, AuthnError> {
        match request.extensions.get::<ClientCertChain>() {
            Some(chain) => self.authenticate_chain(&chain.0, UnixTime::now()),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Pki, PkiConfig};
    use rustls::pki_types::pem::PemObject;
    use std::time::Duration;

    fn admin_chain(pki: &Pki) -> Vec<CertificateDer<'static>> {
        vec![CertificateDer::from_pem_slice(pki.admin.cert_pem.as_bytes()).unwrap()]
    }

    fn make_pki(dir: &std::path::Path) -> Pki {
        Pki::load_or_generate(&PkiConfig { data_dir: dir.to_owned(), ..PkiConfig::default() })
            .unwrap()
    }

    fn request(chain: Option<Vec<CertificateDer<'static>>>) -> RequestParts {
        let mut request = http::Request::new(()).into_parts().0;
        if let Some(chain) = chain {
            request.extensions.insert(ClientCertChain(chain.into()));
        }
        request
    }

    #[tokio::test]
    async fn a_certificate_of_the_client_ca_names_user_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        let auth = X509Authenticator::new(&pki.client_ca, vec!["api".to_owned()]).unwrap();
        let response = auth.authenticate(&request(Some(admin_chain(&pki)))).await.unwrap().unwrap();
        assert_eq!(response.user.name, "kubernetes-admin");
        assert_eq!(response.user.groups, vec!["system:masters"]);
        assert_eq!(response.audiences, vec!["api"]);
        let id = &response.user.extra[CREDENTIAL_ID_KEY][0];
        assert!(id.starts_with("X509SHA256=") && id.len() == 11 + 64, "{id}");

        // No certificate: not this authenticator's business.
        assert_eq!(auth.authenticate(&request(None)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_untrusted_or_expired_certificate_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        let auth = X509Authenticator::new(&pki.client_ca, vec![]).unwrap();

        let other_dir = tempfile::tempdir().unwrap();
        let other = make_pki(other_dir.path());
        let error = auth.authenticate(&request(Some(admin_chain(&other)))).await.unwrap_err();
        assert!(
            matches!(&error, AuthnError::ClientCertificate(m) if m.contains("kubernetes-admin")),
            "{error}"
        );

        let in_two_years = UnixTime::since_unix_epoch(
            UnixTime::now()
                .as_secs()
                .checked_add(2 * 365 * 86_400)
                .map(Duration::from_secs)
                .unwrap(),
        );
        assert!(auth.authenticate_chain(&admin_chain(&pki), in_two_years).is_err());

        let garbage = vec![CertificateDer::from(b"garbage".to_vec())];
        assert!(auth.authenticate(&request(Some(garbage))).await.is_err());
    }

    fn at(seconds: i64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(seconds).unwrap()))
    }

    #[test]
    fn a_chain_is_verified_once_while_it_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        let chain = admin_chain(&pki);
        let validity = Validity::of(&chain).unwrap();
        let auth = X509Authenticator::new(&pki.client_ca, vec![]).unwrap();
        let first = auth.authenticate_chain(&chain, UnixTime::now()).unwrap();
        assert_eq!(first.unwrap().user.name, "kubernetes-admin");
        assert_eq!(auth.verified.len(), 1);

        // Later requests take the kept answer instead of verifying: a planted one shows it.
        let user = UserInfo { name: "planted".to_owned(), ..UserInfo::default() };
        let planted = Some(Response { user, audiences: Vec::new() });
        let now = i64::try_from(UnixTime::now().as_secs()).unwrap();
        auth.verified.insert(ChainKey::of(&chain), planted.clone(), validity, now);
        assert_eq!(auth.authenticate_chain(&chain, UnixTime::now()).unwrap(), planted);
        assert_eq!(auth.authenticate_chain(&chain, at(validity.not_after)).unwrap(), planted);

        // Outside the certificate's validity it is verified again, and refused.
        assert!(auth.authenticate_chain(&chain, at(validity.not_after + 1)).is_err());
        assert!(auth.authenticate_chain(&chain, at(validity.not_before - 1)).is_err());

        // A refused chain is not kept.
        let other_dir = tempfile::tempdir().unwrap();
        let other = make_pki(other_dir.path());
        assert!(auth.authenticate_chain(&admin_chain(&other), UnixTime::now()).is_err());
        assert_eq!(auth.verified.len(), 1);

        // Other client CAs, another authenticator: nothing carried over.
        let rotated = X509Authenticator::new(&other.client_ca, vec![]).unwrap();
        assert!(rotated.authenticate_chain(&chain, UnixTime::now()).is_err());

        // Keeping nothing: every request verifies.
        let uncached = X509Authenticator::new(&pki.client_ca, vec![]).unwrap().keeping(0);
        assert!(uncached.authenticate_chain(&chain, UnixTime::now()).unwrap().is_some());
        assert_eq!(uncached.verified.len(), 0);
    }

    #[tokio::test]
    async fn a_certificate_without_a_common_name_does_not_apply() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        // Sign a CN-less client certificate with a CA of our own.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::default();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, "ca");
        let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::default();
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        leaf.distinguished_name.push(rcgen::DnType::OrganizationName, "team");
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let leaf = leaf.signed_by(&key, &ca).unwrap();

        let roots = [pki.client_ca.clone(), vec![ca.der().clone()]].concat();
        let auth = X509Authenticator::new(&roots, vec![]).unwrap();
        let chain = vec![leaf.der().clone()];
        assert_eq!(auth.authenticate(&request(Some(chain))).await.unwrap(), None);
    }
}
