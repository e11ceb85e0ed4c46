use serde_json::{Value, json};

use super::*;
use crate::pki::x509::CertInfo;
use crate::registry::builtin::certificatesigningrequests::tests::request;

const NOW: i64 = 1_800_000_000;

fn signer() -> (tempfile::TempDir, CsrSigner) {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_generate(dir.path(), NOW).unwrap();
    (dir, CsrSigner::new(Arc::new(ca)))
}

fn approved(usages: Value, expiration: Option<i64>) -> Value {
    let mut csr = json!({
        "metadata": {"name": "alice"},
        "spec": {"request": request("alice", &["dev"]), "signerName": KUBE_APISERVER_CLIENT_SIGNER,
                 "usages": usages},
        "status": {"conditions": [{"type": "Approved", "status": "True"}]},
    });
    if let Some(secs) = expiration {
        csr["spec"]["expirationSeconds"] = secs.into();
    }
    csr
}

fn issued(outcome: Option<Outcome>) -> CertInfo {
    let Some(Outcome::Issued(certificate)) = outcome else { panic!("not issued: {outcome:?}") };
    let pem = base64::engine::general_purpose::STANDARD.decode(certificate).unwrap();
    let block = crate::pki::pem::decode(&pem).unwrap().0;
    assert_eq!(block.label, "CERTIFICATE");
    CertInfo::parse(&block.der).unwrap()
}

#[test]
fn approved_client_requests_are_issued_for_the_requested_duration() {
    let (_dir, signer) = signer();
    let info = issued(signer.decide(&approved(json!(["client auth"]), Some(3600)), NOW));
    assert_eq!(info.common_name(), Some("alice"));
    assert_eq!(info.organizations(), ["dev"]);
    assert_eq!(info.not_after, NOW + 3600);
    // Without a request, and with one past the cap: the cap (one year, backdated).
    for expiration in [None, Some(10 * MAX_TTL_SECS)] {
        let csr = approved(json!(["digital signature", "client auth"]), expiration);
        assert_eq!(issued(signer.decide(&csr, NOW)).not_after, NOW + MAX_TTL_SECS - 300);
    }
}

#[test]
fn only_approved_pending_requests_for_this_signer_are_issued() {
    let (_dir, signer) = signer();
    let base = approved(json!(["client auth"]), None);
    let mut pending = base.clone();
    pending["status"] = json!({});
    let mut denied = base.clone();
    denied["status"]["conditions"] = json!([{"type": "Denied", "status": "True"}]);
    let mut failed = base.clone();
    failed["status"]["conditions"] = json!([{"type": "Approved", "status": "True"},
        {"type": "Failed", "status": "True"}]);
    let mut done = base.clone();
    done["status"]["certificate"] = json!("eA==");
    let mut other = base.clone();
    other["spec"]["signerName"] = json!("example.com/signer");
    for csr in [pending, denied, failed, done, other] {
        assert!(signer.decide(&csr, NOW).is_none(), "{csr}");
    }
}

#[test]
fn usages_a_client_certificate_cannot_have_fail_the_request() {
    let (_dir, signer) = signer();
    let outcome = signer.decide(&approved(json!(["client auth", "server auth"]), None), NOW);
    let Some(Outcome::Failed(message)) = outcome else { panic!("{outcome:?}") };
    assert_eq!(message, "invalid usage for client certificate: server auth");
    let outcome = signer.decide(&approved(json!(["digital signature"]), None), NOW);
    let Some(Outcome::Failed(message)) = outcome else { panic!("{outcome:?}") };
    assert_eq!(message, "missing required usage for client certificate: client auth");
}
