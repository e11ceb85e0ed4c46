//! The leaves the generated CA signs — the serving certificate and the admin client
//! certificate — and the ServiceAccount signing key: each reused from disk while it is still
//! good, else made again (the reason is logged).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier;

use super::ca::{random_serial, set_validity};
use super::x509::CertInfo;
use super::{
    ADMIN_GROUP, ADMIN_USER, CertificateAuthority, ClientIdentity, LEAF_VALIDITY_SECS, PkiError,
    RENEW_BEFORE_SECS, San, ServingIdentity, files, tls,
};

/// The serving certificate for `sans`, reused from `apiserver.{crt,key}` when it still covers
/// them, chains to `ca` and is not within [`RENEW_BEFORE_SECS`] of expiry.
pub(super) fn serving(
    dir: &Path,
    ca: &CertificateAuthority,
    sans: &[San],
    now: i64,
) -> Result<ServingIdentity, PkiError> {
    let cert_path = dir.join("apiserver.crt");
    let key_path = dir.join("apiserver.key");
    let check = |cert: &CertificateDer<'_>| check_serving(ca, cert, sans, now);
    if let Some((chain, key)) = reusable(&cert_path, &key_path, now, check)? {
        return Ok(ServingIdentity { chain, key, cert_path });
    }
    let mut params = leaf_params(ca, "kube-apiserver", None, now)?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    for san in sans {
        params.subject_alt_names.push(match san {
            San::Ip(ip) => SanType::IpAddress(*ip),
            San::Dns(name) => SanType::DnsName(name.as_str().try_into()?),
        });
    }
    let (cert, key) = issue(ca, &params, &cert_path, &key_path)?;
    let names: Vec<String> = sans.iter().map(San::to_string).collect();
    tracing::info!(path = %cert_path.display(), sans = %names.join(","), "generated the serving certificate");
    Ok(ServingIdentity { chain: vec![cert], key, cert_path })
}

/// The admin client certificate (`kubernetes-admin`, group `system:masters`), reused from
/// `admin.{crt,key}` on the same rules as the serving certificate.
pub(super) fn admin(
    dir: &Path,
    ca: &CertificateAuthority,
    now: i64,
) -> Result<ClientIdentity, PkiError> {
    let cert_path = dir.join("admin.crt");
    let key_path = dir.join("admin.key");
    let check = |cert: &CertificateDer<'_>| check_client(ca, cert, now, ADMIN_USER, &[ADMIN_GROUP]);
    if reusable(&cert_path, &key_path, now, check)?.is_none() {
        let mut params = leaf_params(ca, ADMIN_USER, Some(ADMIN_GROUP), now)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        issue(ca, &params, &cert_path, &key_path)?;
        tracing::info!(path = %cert_path.display(), "generated the admin client certificate");
    }
    let read = |path: &Path| -> Result<String, PkiError> {
        std::fs::read_to_string(path).map_err(|e| PkiError::io(path, e))
    };
    Ok(ClientIdentity { cert_pem: read(&cert_path)?, key_pem: read(&key_path)? })
}

/// The front-proxy client certificate (`front-proxy-client`, no group) signed by the
/// front-proxy CA, as kubeadm makes it: what the aggregator presents to extension API servers.
/// Reused from `front-proxy-client.{crt,key}` on the same rules as the admin certificate.
pub(super) fn front_proxy_client(
    dir: &Path,
    ca: &CertificateAuthority,
    now: i64,
) -> Result<ServingIdentity, PkiError> {
    let cert_path = dir.join("front-proxy-client.crt");
    let key_path = dir.join("front-proxy-client.key");
    let check =
        |cert: &CertificateDer<'_>| check_client(ca, cert, now, super::FRONT_PROXY_CLIENT, &[]);
    if let Some((chain, key)) = reusable(&cert_path, &key_path, now, check)? {
        return Ok(ServingIdentity { chain, key, cert_path });
    }
    let mut params = leaf_params(ca, super::FRONT_PROXY_CLIENT, None, now)?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let (cert, key) = issue(ca, &params, &cert_path, &key_path)?;
    tracing::info!(path = %cert_path.display(), "generated the front-proxy client certificate");
    Ok(ServingIdentity { chain: vec![cert], key, cert_path })
}

/// `sa.key` (PKCS#8 ECDSA P-256) and `sa.pub`, generated when `sa.key` is missing. Returns the
/// key's path; it is parsed by the ServiceAccount token signer.
pub(super) fn service_account_key(dir: &Path) -> Result<PathBuf, PkiError> {
    let key_path = dir.join("sa.key");
    if files::read_optional(&key_path)?.is_none() {
        let key = KeyPair::generate()?;
        files::write_private(&key_path, key.serialize_pem().as_bytes())?;
        files::write_public(&dir.join("sa.pub"), key.public_key_pem().as_bytes())?;
        tracing::info!(path = %key_path.display(), "generated the ServiceAccount signing key");
    }
    Ok(key_path)
}

/// Parameters common to the leaves: subject, key usage, serial, validity up to the CA's end.
fn leaf_params(
    ca: &CertificateAuthority,
    common_name: &str,
    organization: Option<&str>,
    now: i64,
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    if let Some(organization) = organization {
        params.distinguished_name.push(DnType::OrganizationName, organization);
    }
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.serial_number = Some(random_serial()?);
    set_validity(&mut params, now, (now + LEAF_VALIDITY_SECS).min(ca.not_after))?;
    Ok(params)
}

/// Signs a fresh key and writes both files; returns the certificate and the key.
fn issue(
    ca: &CertificateAuthority,
    params: &CertificateParams,
    cert_path: &Path,
    key_path: &Path,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), PkiError> {
    let key = KeyPair::generate()?;
    let cert = ca.sign(params, &key)?;
    files::write_private(key_path, key.serialize_pem().as_bytes())?;
    files::write_public(cert_path, cert.pem().as_bytes())?;
    let key_der = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|e| PkiError::file(key_path, e.to_string()))?;
    Ok((cert.der().clone(), key_der))
}

/// The certificate chain and key at the two paths, when both exist, match, are not near their
/// expiry, and pass `check`. `None` (with the reason logged) means: make them again.
#[allow(clippy::type_complexity)]
fn reusable(
    cert_path: &Path,
    key_path: &Path,
    now: i64,
    check: impl Fn(&CertificateDer<'_>) -> Result<(), String>,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, PkiError> {
    let (Some(cert_pem), Some(key_pem)) =
        (files::read_optional(cert_path)?, files::read_optional(key_path)?)
    else {
        return Ok(None);
    };
    let verdict = (|| {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("unreadable certificate: {e}"))?;
        let leaf = chain.first().ok_or("no certificate")?.clone();
        let key =
            PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("unreadable key: {e}"))?;
        tls::certified_key(chain.clone(), key.clone_key()).map_err(|e| e.to_string())?;
        let info = CertInfo::parse(&leaf).map_err(|_| "unreadable certificate".to_owned())?;
        if info.not_after - now < RENEW_BEFORE_SECS {
            return Err(format!("expires in {} days", (info.not_after - now).max(0) / 86_400));
        }
        check(&leaf)?;
        Ok((chain, key))
    })();
    match verdict {
        Ok(found) => Ok(Some(found)),
        Err(reason) => {
            tracing::info!(path = %cert_path.display(), %reason, "certificate will be reissued");
            Ok(None)
        }
    }
}

fn unix_time(now: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(now.max(0) as u64))
}

/// Chains to `ca` for server auth and covers every one of `sans`.
fn check_serving(
    ca: &CertificateAuthority,
    cert: &CertificateDer<'_>,
    sans: &[San],
    now: i64,
) -> Result<(), String> {
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(ca.roots(), tls::provider())
            .build()
            .map_err(|e| e.to_string())?;
    for san in sans {
        let name = match san {
            San::Ip(ip) => ServerName::IpAddress((*ip).into()),
            San::Dns(dns) => ServerName::try_from(dns.clone()).map_err(|e| e.to_string())?,
        };
        verifier
            .verify_server_cert(cert, &[], &name, &[], unix_time(now))
            .map_err(|e| format!("not valid for {san}: {e}"))?;
    }
    Ok(())
}

/// Chains to `ca` for client auth and names `user` in exactly `groups`.
fn check_client(
    ca: &CertificateAuthority,
    cert: &CertificateDer<'_>,
    now: i64,
    user: &str,
    groups: &[&str],
) -> Result<(), String> {
    let verifier: Arc<dyn ClientCertVerifier> =
        rustls::server::WebPkiClientVerifier::builder_with_provider(ca.roots(), tls::provider())
            .build()
            .map_err(|e| e.to_string())?;
    verifier
        .verify_client_cert(cert, &[], unix_time(now))
        .map_err(|e| format!("not a client certificate of this CA: {e}"))?;
    let info = CertInfo::parse(cert).map_err(|_| "unreadable certificate".to_owned())?;
    if info.common_name() != Some(user) || info.organizations() != groups {
        return Err("names another user or group".to_owned());
    }
    Ok(())
}
