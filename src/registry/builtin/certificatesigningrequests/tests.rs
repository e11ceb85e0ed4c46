use base64::Engine;
use serde_json::{Value, json};

use super::*;
use crate::registry::builtin::cause_texts;

/// A base64 PEM request for `cn` in `groups`, made with a fresh key.
pub(crate) fn request(cn: &str, groups: &[&str]) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    for group in groups {
        params.distinguished_name.push(rcgen::DnType::OrganizationName, *group);
    }
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    base64::engine::general_purpose::STANDARD.encode(pem)
}

fn csr(request: &str) -> Value {
    json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "alice"},
        "spec": {
            "usages": ["client auth"],
            "request": request,
            "signerName": KUBE_APISERVER_CLIENT_SIGNER,
            "username": "forged",
            "groups": ["system:masters"],
        },
        "status": {"conditions": [{"type": "Approved", "status": "True"}]},
    })
}

fn created(user: &UserInfo) -> Value {
    let mut object = csr(&request("alice", &["dev"]));
    CsrStrategy.prepare_for_create_by(&mut object, user);
    object
}

#[test]
fn the_requester_is_the_creating_user_and_the_status_starts_empty() {
    let mut user = UserInfo::new("bob", &["team", "system:authenticated"]);
    user.uid = "u-1".into();
    user.extra.insert("scopes".into(), vec!["a".into()]);
    let object = created(&user);
    assert_eq!(object["status"], json!({}));
    let spec = object["spec"].as_object().unwrap();
    let keys: Vec<&str> = spec.keys().map(String::as_str).collect();
    assert_eq!(keys, ["request", "signerName", "usages", "username", "uid", "groups", "extra"]);
    assert_eq!(spec["username"], "bob");
    assert_eq!(spec["uid"], "u-1");
    assert_eq!(spec["groups"], json!(["team", "system:authenticated"]));
    assert_eq!(spec["extra"], json!({"scopes": ["a"]}));
    assert!(CsrStrategy.validate(&object).is_empty(), "{:?}", CsrStrategy.validate(&object));
}

#[test]
fn invalid_requests_are_refused_with_kubes_field_paths() {
    let garbage = base64::engine::general_purpose::STANDARD.encode("--");
    let object = json!({"spec": {
        "request": garbage,
        "usages": ["client auth", "bogus", "client auth"],
        "signerName": "example",
        "expirationSeconds": 599,
    }});
    assert_eq!(
        cause_texts(&CsrStrategy.validate(&object)),
        [
            "spec.request: Invalid value: []byte{0x2d, 0x2d}: PEM block type must be CERTIFICATE REQUEST",
            "spec.usages[1]: Unsupported value: \"bogus\": supported values: \"any\", \"cert sign\", \
             \"client auth\", \"code signing\", \"content commitment\", \"crl sign\", \
             \"data encipherment\", \"decipher only\", \"digital signature\", \"email protection\", \
             \"encipher only\", \"ipsec end system\", \"ipsec tunnel\", \"ipsec user\", \
             \"key agreement\", \"key encipherment\", \"microsoft sgc\", \"netscape sgc\", \
             \"ocsp signing\", \"s/mime\", \"server auth\", \"signing\", \"timestamping\"",
            "spec.usages[2]: Duplicate value: \"client auth\"",
            "spec.signerName: Invalid value: \"example\": must be a fully qualified domain and \
             path of the form 'example.com/signer-name'",
            "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than \
             600 seconds (10 minutes)",
        ]
    );
    assert_eq!(
        cause_texts(&CsrStrategy.validate(&json!({"spec": {}}))),
        [
            "spec.request: Invalid value: []byte(nil): PEM block type must be CERTIFICATE REQUEST",
            "spec.usages: Required value",
            "spec.signerName: Required value",
        ]
    );
    let mut legacy = csr(&request("alice", &[]));
    legacy["spec"]["signerName"] = json!("kubernetes.io/legacy-unknown");
    legacy["status"] = json!({});
    assert_eq!(
        cause_texts(&CsrStrategy.validate(&legacy)),
        ["spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy \
          signerName is not allowed via this API version"]
    );
    let mut causes = Vec::new();
    validate_signer_name("f", "Example/x", &mut causes);
    validate_signer_name("f", "example.com/a_b", &mut causes);
    assert_eq!(causes.len(), 3, "{:?}", cause_texts(&causes));
    assert!(causes[0].message.contains("validating label \"Example\""));
    assert!(causes[1].message.contains("at least two segments"));
    assert!(causes[2].message.contains("validating label \"a_b\""));
    // A request whose signature does not verify.
    let good = request("alice", &[]);
    let mut pem = base64::engine::general_purpose::STANDARD.decode(&good).unwrap();
    let der_start = pem.iter().position(|&b| b == b'\n').unwrap() + 1;
    pem[der_start + 60] = if pem[der_start + 60] == b'A' { b'B' } else { b'A' };
    let tampered = base64::engine::general_purpose::STANDARD.encode(&pem);
    let mut object = csr(&tampered);
    object["status"] = json!({});
    let causes = CsrStrategy.validate(&object);
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, "spec.request");
}

fn with_conditions(mut object: Value, conditions: Value) -> Value {
    object["status"]["conditions"] = conditions;
    object
}

#[test]
fn approval_moves_only_the_conditions_and_stamps_them() {
    let stored = created(&UserInfo::new("bob", &[]));
    let mut new = with_conditions(
        stored.clone(),
        json!([{"type": "Approved", "status": "True", "reason": "ok"}]),
    );
    new["spec"]["signerName"] = json!("example.com/other");
    new["status"]["certificate"] = json!("bm90IGEgY2VydA==");
    CsrStrategy.prepare_for_subresource_update("approval", &mut new, &stored);
    assert_eq!(new["spec"], stored["spec"]);
    assert!(new["status"].get("certificate").is_none());
    let condition = &new["status"]["conditions"][0];
    assert_eq!(condition["type"], "Approved");
    assert!(condition["lastUpdateTime"].is_string() && condition["lastTransitionTime"].is_string());
    assert!(CsrStrategy.validate_subresource_update("approval", &new, &stored).is_empty());

    // Both Approved and Denied; and an approval may not be taken back.
    let mut both = with_conditions(
        stored.clone(),
        json!([{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]),
    );
    CsrStrategy.prepare_for_subresource_update("approval", &mut both, &stored);
    assert_eq!(
        cause_texts(&CsrStrategy.validate_subresource_update("approval", &both, &stored)),
        ["status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions \
          are mutually exclusive"]
    );
    let mut withdrawn = with_conditions(new.clone(), json!([]));
    CsrStrategy.prepare_for_subresource_update("approval", &mut withdrawn, &new);
    assert_eq!(
        cause_texts(&CsrStrategy.validate_subresource_update("approval", &withdrawn, &new)),
        ["status.conditions: Forbidden: updates may not remove a condition of type \"Approved\""]
    );
    let mut bad = with_conditions(stored.clone(), json!([{"type": "Approved", "status": "False"}]));
    CsrStrategy.prepare_for_subresource_update("approval", &mut bad, &stored);
    assert_eq!(
        cause_texts(&CsrStrategy.validate_subresource_update("approval", &bad, &stored)),
        ["status.conditions[0].status: Unsupported value: \"False\": supported values: \"True\""]
    );
}

#[test]
fn status_sets_the_certificate_once_and_cannot_approve() {
    let stored = created(&UserInfo::new("bob", &[]));
    let approved = with_conditions(
        stored.clone(),
        json!([{"type": "Approved", "status": "True",
        "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]),
    );
    let certificate = {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::default().self_signed(&key).unwrap();
        base64::engine::general_purpose::STANDARD.encode(cert.pem())
    };
    let mut issued = approved.clone();
    issued["status"]["certificate"] = json!(certificate);
    // A status write keeps the stored Approved condition as it was.
    issued["status"]["conditions"][0]["reason"] = json!("changed");
    CsrStrategy.prepare_for_subresource_update("status", &mut issued, &approved);
    assert_eq!(issued["status"]["conditions"], approved["status"]["conditions"]);
    assert!(CsrStrategy.validate_subresource_update("status", &issued, &approved).is_empty());

    let mut again = issued.clone();
    again["status"]["certificate"] = json!(base64::engine::general_purpose::STANDARD.encode("x"));
    CsrStrategy.prepare_for_subresource_update("status", &mut again, &issued);
    assert_eq!(
        cause_texts(&CsrStrategy.validate_subresource_update("status", &again, &issued)),
        [
            "status.certificate: Invalid value: \"<certificate data>\": must contain at least \
             one CERTIFICATE PEM block",
            "status.certificate: Forbidden: updates may not modify existing certificate content",
        ]
    );
    let mut self_approved =
        with_conditions(stored.clone(), json!([{"type": "Approved", "status": "True"}]));
    CsrStrategy.prepare_for_subresource_update("status", &mut self_approved, &stored);
    assert_eq!(
        cause_texts(&CsrStrategy.validate_subresource_update("status", &self_approved, &stored)),
        ["status.conditions: Forbidden: updates may not add a condition of type \"Approved\""]
    );
    // Through the object itself, neither spec nor status moves.
    let mut put = issued.clone();
    put["spec"]["usages"] = json!(["server auth"]);
    put["status"] = json!({});
    CsrStrategy.prepare_for_subresource_update("", &mut put, &issued);
    assert_eq!((&put["spec"], &put["status"]), (&issued["spec"], &issued["status"]));
}

#[test]
fn the_condition_column_reads_as_kubectls() {
    let stored = created(&UserInfo::new("bob", &[]));
    assert_eq!(condition_column(&stored), "Pending");
    let mut issued = with_conditions(
        stored.clone(),
        json!([{"type": "Approved", "status": "True"},
        {"type": "Failed", "status": "True"}]),
    );
    issued["status"]["certificate"] = json!("eA==");
    assert_eq!(condition_column(&issued), "Approved,Failed,Issued");
    let denied = with_conditions(stored, json!([{"type": "Denied", "status": "True"}]));
    assert_eq!(condition_column(&denied), "Denied");
}
