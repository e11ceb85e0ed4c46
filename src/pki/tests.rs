//! Tests of the generated PKI, the user's PEM files, the kubeconfig and a real TLS handshake.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier;

use super::tls::{self, ClientCertChain};
use super::x509::CertInfo;
use super::*;

/// A fixed "now" (2027-01-15), so expiry tests do not depend on the clock.
const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pki/testdata").join(name)
}

fn config(dir: &Path) -> PkiConfig {
    PkiConfig {
        data_dir: dir.to_owned(),
        host_name: Some("node-1.example".to_owned()),
        ..PkiConfig::default()
    }
}

fn at(now: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(now as u64))
}

/// Verifies `pki`'s serving certificate for `name` against its CA, as a client would.
fn verify_serving(pki: &Pki, name: &str, now: i64) -> Result<(), rustls::Error> {
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        pki.ca.roots(),
        tls::provider(),
    )
    .build()
    .unwrap();
    let server_name = ServerName::try_from(name.to_owned()).unwrap();
    let (leaf, intermediates) = pki.serving.chain.split_first().unwrap();
    verifier.verify_server_cert(leaf, intermediates, &server_name, &[], at(now)).map(|_| ())
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The bytes of every generated file, to compare starts.
fn snapshot(dir: &Path) -> [Vec<u8>; 5] {
    let pki = dir.join("pki");
    ["ca.crt", "ca.key", "apiserver.crt", "admin.crt", "sa.key"].map(|f| read(pki.join(f)))
}

#[test]
fn first_start_makes_a_ca_a_serving_and_an_admin_certificate_and_an_sa_key() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();

    for name in ["127.0.0.1", "::1", "localhost", "node-1.example"] {
        verify_serving(&pki, name, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(verify_serving(&pki, "other.example", NOW).is_err());
    assert!(pki.serving_is_generated);
    assert_eq!(pki.kubeconfig_ca_pem().as_deref(), Some(pki.ca.cert_pem.as_str()));

    // The admin certificate is a client certificate of the CA for kubernetes-admin/system:masters.
    let admin = CertificateDer::from_pem_slice(pki.admin.cert_pem.as_bytes()).unwrap();
    let verifier: Arc<dyn ClientCertVerifier> =
        rustls::server::WebPkiClientVerifier::builder_with_provider(
            pki.ca.roots(),
            tls::provider(),
        )
        .build()
        .unwrap();
    verifier.verify_client_cert(&admin, &[], at(NOW)).unwrap();
    let info = CertInfo::parse(&admin).unwrap();
    assert_eq!(info.common_name(), Some(ADMIN_USER));
    assert_eq!(info.organizations(), vec![ADMIN_GROUP]);
    assert_eq!(info.not_after, NOW + LEAF_VALIDITY_SECS);

    // The ServiceAccount key is a PKCS#8 P-256 key ring can sign with.
    let sa = PrivateKeyDer::from_pem_file(&pki.service_account_key_file).unwrap();
    ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        sa.secret_der(),
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();

    use std::os::unix::fs::PermissionsExt;
    let mode = |f: &str| std::fs::metadata(pki.dir.join(f)).unwrap().permissions().mode() & 0o777;
    for key in ["ca.key", "apiserver.key", "admin.key", "sa.key"] {
        assert_eq!(mode(key), 0o600, "{key}");
    }
    assert_eq!(mode("ca.crt"), 0o644);
}

#[test]
fn later_starts_reuse_every_file() {
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let first = snapshot(dir.path());
    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW + 30 * DAY).unwrap();
    assert_eq!(snapshot(dir.path()), first);
    verify_serving(&pki, "localhost", NOW + 30 * DAY).unwrap();
}

#[test]
fn new_sans_reissue_only_the_serving_certificate() {
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let [ca, ca_key, serving, admin, sa] = snapshot(dir.path());

    let mut wider = config(dir.path());
    wider.advertise_address = Some("10.1.2.3".parse().unwrap());
    wider.extra_sans = vec!["api.example.com".to_owned(), "not a name!".to_owned()];
    let pki = Pki::load_or_generate_at(&wider, NOW).unwrap();
    let [ca2, ca_key2, serving2, admin2, sa2] = snapshot(dir.path());
    assert_ne!(serving, serving2);
    assert_eq!((ca, ca_key, admin, sa), (ca2, ca_key2, admin2, sa2));
    for name in ["10.1.2.3", "api.example.com", "localhost", "node-1.example"] {
        verify_serving(&pki, name, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    // Asking for less than the certificate covers keeps it.
    Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    assert_eq!(snapshot(dir.path())[2], serving2);
}

#[test]
fn leaves_near_expiry_are_reissued_and_the_ca_kept() {
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let [ca, ca_key, serving, admin, _] = snapshot(dir.path());

    // 300 days on, the one-year leaves are within the 90-day renewal window.
    let later = NOW + 300 * DAY;
    let pki = Pki::load_or_generate_at(&config(dir.path()), later).unwrap();
    let [ca2, ca_key2, serving2, admin2, _] = snapshot(dir.path());
    assert_eq!((ca, ca_key), (ca2, ca_key2));
    assert_ne!(serving, serving2);
    assert_ne!(admin, admin2);
    verify_serving(&pki, "localhost", later + 200 * DAY).unwrap();
}

#[test]
fn a_serving_key_that_no_longer_matches_is_reissued() {
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let pki_dir = dir.path().join("pki");
    std::fs::copy(pki_dir.join("admin.key"), pki_dir.join("apiserver.key")).unwrap();
    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    tls::certified_key(pki.serving.chain.clone(), pki.serving.key.clone_key()).unwrap();
}

#[test]
fn the_ca_is_never_replaced_silently() {
    let dir = tempfile::tempdir().unwrap();
    Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let pki_dir = dir.path().join("pki");
    let ca = read(pki_dir.join("ca.crt"));
    let ca_key = read(pki_dir.join("ca.key"));

    std::fs::remove_file(pki_dir.join("ca.key")).unwrap();
    let error = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap_err();
    assert!(error.to_string().contains("ca.key: missing while ca.crt exists"), "{error}");
    assert_eq!(read(pki_dir.join("ca.crt")), ca);

    std::fs::write(pki_dir.join("ca.key"), read(pki_dir.join("admin.key"))).unwrap();
    let error = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap_err();
    assert!(error.to_string().contains("does not match ca.crt"), "{error}");

    std::fs::write(pki_dir.join("ca.key"), &ca_key).unwrap();
    let error =
        Pki::load_or_generate_at(&config(dir.path()), NOW + CA_VALIDITY_SECS + DAY).unwrap_err();
    assert!(error.to_string().contains("has expired"), "{error}");
    assert_eq!(read(pki_dir.join("ca.crt")), ca);

    std::fs::remove_file(pki_dir.join("ca.crt")).unwrap();
    let error = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap_err();
    assert!(error.to_string().contains("ca.crt: missing while ca.key exists"), "{error}");
}

#[test]
fn a_ca_put_in_place_by_the_user_signs_the_leaves() {
    // A CA with an organization and a PrintableString name, as other tools make them.
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Example Corp");
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        rcgen::DnValue::PrintableString("Example Root".try_into().unwrap()),
    );
    params.not_after = rcgen::date_time_ymd(2090, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(pki_dir.join("ca.crt"), cert.pem()).unwrap();
    std::fs::write(pki_dir.join("ca.key"), key.serialize_pem()).unwrap();

    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    verify_serving(&pki, "localhost", NOW).unwrap();
}

#[test]
fn user_serving_certificates_load_in_every_key_format() {
    let cases = [
        ("rsa.crt", "rsa-pkcs1.key"),
        ("rsa.crt", "rsa-pkcs8.key"),
        ("ec.crt", "ec-sec1.key"),
        ("ed25519.crt", "ed25519.key"),
    ];
    for (cert, key) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        config.tls_cert_file = Some(testdata(cert));
        config.tls_private_key_file = Some(testdata(key));
        let pki = Pki::load_or_generate_at(&config, NOW).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(!pki.serving_is_generated);
        assert!(!pki.dir.join("apiserver.crt").exists());
        tls::server_config(&pki.serving, Some(&pki.client_ca)).unwrap();
        // A self-signed certificate is its own root: the kubeconfig trusts it.
        let expected = std::fs::read_to_string(testdata(cert)).unwrap();
        let ca = pki.kubeconfig_ca_pem().unwrap();
        let der = |pem: &str| CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(der(&ca), der(&expected), "{cert}");
    }
}

#[test]
fn a_user_chain_keeps_its_intermediates() {
    let root_key = rcgen::KeyPair::generate().unwrap();
    let mut root = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    root.distinguished_name.push(rcgen::DnType::CommonName, "root");
    let root = rcgen::CertifiedIssuer::self_signed(root, root_key).unwrap();
    let mid_key = rcgen::KeyPair::generate().unwrap();
    let mut mid = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    mid.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    mid.distinguished_name.push(rcgen::DnType::CommonName, "intermediate");
    let mid = rcgen::CertifiedIssuer::signed_by(mid, mid_key, &root).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["api.example.com".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &mid)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let cert_file = dir.path().join("tls.crt");
    let key_file = dir.path().join("tls.key");
    std::fs::write(&cert_file, format!("{}{}", leaf.pem(), mid.pem())).unwrap();
    std::fs::write(&key_file, leaf_key.serialize_pem()).unwrap();
    let mut config = config(dir.path());
    config.tls_cert_file = Some(cert_file);
    config.tls_private_key_file = Some(key_file);
    let pki = Pki::load_or_generate_at(&config, NOW).unwrap();
    assert_eq!(pki.serving.chain.len(), 2);
    assert_eq!(pki.serving.chain[1], *mid.der());
    // The chain ends at an intermediate: the kubeconfig cannot name the root.
    assert_eq!(pki.kubeconfig_ca_pem(), None);
}

#[test]
fn bad_user_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, contents: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    };
    let load = |cert: &Path, key: &Path| load::serving_identity(cert, key).unwrap_err().to_string();

    let missing = dir.path().join("missing.crt");
    let error = load(&missing, &testdata("ec-sec1.key"));
    assert!(error.starts_with(&missing.display().to_string()), "{error}");

    let empty = file("empty.crt", b"hello\n");
    assert!(load(&empty, &testdata("ec-sec1.key")).contains("no certificate found"));

    let bad_base64 =
        file("bad64.crt", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    assert!(load(&bad_base64, &testdata("ec-sec1.key")).contains("invalid PEM"));

    let unterminated = file("open.crt", b"-----BEGIN CERTIFICATE-----\nAAAA\n");
    assert!(load(&unterminated, &testdata("ec-sec1.key")).contains("missing the END line"));

    let not_x509 = file("junk.crt", load::pem("CERTIFICATE", b"junk").as_bytes());
    assert!(load(&not_x509, &testdata("ec-sec1.key")).contains("#1 is not a valid X.509"));

    let error = load(&testdata("rsa.crt"), &testdata("ec-sec1.key"));
    assert!(error.contains("does not match the certificate in"), "{error}");

    let error = load(&testdata("ec.crt"), &testdata("encrypted.key"));
    assert!(error.contains("the key is encrypted"), "{error}");

    let error = load(&testdata("ec.crt"), &testdata("ec.crt"));
    assert!(error.contains("no private key found"), "{error}");

    let mut only_cert = config(dir.path());
    only_cert.tls_cert_file = Some(testdata("ec.crt"));
    let error = Pki::load_or_generate_at(&only_cert, NOW).unwrap_err();
    assert!(error.to_string().contains("must be given together"), "{error}");

    let mut bad_ca = config(dir.path());
    bad_ca.client_ca_file = Some(empty);
    let error = Pki::load_or_generate_at(&bad_ca, NOW).unwrap_err();
    assert!(error.to_string().contains("no certificate found"), "{error}");
}

#[test]
fn client_ca_file_adds_to_the_generated_ca() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.client_ca_file = Some(testdata("ec.crt"));
    let pki = Pki::load_or_generate_at(&config, NOW).unwrap();
    assert_eq!(pki.client_ca.len(), 2);
    assert_eq!(pki.client_ca[0], pki.ca.cert_der);
}

#[test]
fn the_front_proxy_pair_is_generated_as_kubeadm_makes_it_unless_flags_name_one() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let front = &pki.front_proxy;
    assert!(front.generated);
    assert_ne!(front.client_ca[0], pki.ca.cert_der, "a CA of its own");
    assert_eq!(front.client_ca_pem.as_bytes(), read(dir.path().join("pki/front-proxy-ca.crt")));
    let client = front.proxy_client.as_ref().unwrap();
    let info = CertInfo::parse(&client.chain[0]).unwrap();
    assert_eq!(info.common_name(), Some(FRONT_PROXY_CLIENT));
    assert!(info.organizations().is_empty());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new({
            let mut roots = rustls::RootCertStore::empty();
            roots.add(front.client_ca[0].clone()).unwrap();
            roots
        }),
        tls::provider(),
    )
    .build()
    .unwrap();
    verifier.verify_client_cert(&client.chain[0], &[], at(NOW + 60)).unwrap();
    // Reused on the next start.
    let again = Pki::load_or_generate_at(&config(dir.path()), NOW + 60).unwrap();
    assert_eq!(again.front_proxy.proxy_client.unwrap().chain, client.chain);
    assert_eq!(again.front_proxy.client_ca, front.client_ca);

    // A requestheader CA of the user's: nothing generated, no client certificate unless named.
    let other = tempfile::tempdir().unwrap();
    let mut flagged = config(other.path());
    flagged.requestheader_client_ca_file = Some(testdata("ec.crt"));
    let pki = Pki::load_or_generate_at(&flagged, NOW).unwrap();
    assert!(!pki.front_proxy.generated);
    assert!(pki.front_proxy.proxy_client.is_none());
    assert!(!other.path().join("pki/front-proxy-ca.crt").exists());
    flagged.proxy_client_cert_file = Some(testdata("ec.crt"));
    flagged.proxy_client_key_file = Some(testdata("ec-sec1.key"));
    let pki = Pki::load_or_generate_at(&flagged, NOW).unwrap();
    assert!(pki.front_proxy.proxy_client.is_some());
    flagged.proxy_client_key_file = None;
    let error = Pki::load_or_generate_at(&flagged, NOW).unwrap_err();
    assert!(error.to_string().contains("must be given together"), "{error}");
}

#[test]
fn the_kubeconfig_is_yaml_with_the_ca_and_the_admin_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    let url = kubeconfig::server_url("127.0.0.1:6443".parse().unwrap());
    let path = kubeconfig::write_kubeconfig(
        dir.path(),
        &url,
        pki.kubeconfig_ca_pem().as_deref(),
        &pki.admin,
    )
    .unwrap();
    assert!(path.is_absolute());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
    use base64::Engine;
    let decode = |v: &serde_json::Value| {
        let bytes = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        String::from_utf8(bytes).unwrap()
    };
    assert_eq!(doc["kind"], "Config");
    assert_eq!(doc["current-context"], "kube-ledger");
    let cluster = &doc["clusters"][0]["cluster"];
    assert_eq!(cluster["server"], "https://127.0.0.1:6443");
    assert_eq!(decode(&cluster["certificate-authority-data"]), pki.ca.cert_pem);
    let user = &doc["users"][0]["user"];
    assert_eq!(decode(&user["client-certificate-data"]), pki.admin.cert_pem);
    assert_eq!(decode(&user["client-key-data"]), pki.admin.key_pem);
    let context = &doc["contexts"][0]["context"];
    assert_eq!(context["cluster"], "kube-ledger");
    assert_eq!(context["user"], "kube-ledger");
    assert_eq!(context["namespace"], "default");
}

/// A rustls client trusting `pki`'s CA, offering `alpn`, with the admin certificate or none.
fn client_config(pki: &Pki, alpn: &[&[u8]], with_cert: bool) -> Arc<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki.ca.roots());
    let mut config = if with_cert {
        let chain = CertificateDer::pem_slice_iter(pki.admin.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(pki.admin.key_pem.as_bytes()).unwrap();
        builder.with_client_auth_cert(chain, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// One TLS handshake against a server built from `pki`; returns the client's ALPN and what
/// the server saw (h2 negotiated, the client's chain).
async fn handshake(
    pki: &Pki,
    client: Arc<rustls::ClientConfig>,
) -> (Option<Vec<u8>>, bool, Option<ClientCertChain>) {
    let config = tls::server_config(&pki.serving, Some(&pki.client_ca)).unwrap();
    let acceptor = tls::acceptor(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let stream = acceptor.accept(tcp).await.unwrap();
        let (_, connection) = stream.get_ref();
        (tls::negotiated_h2(connection), ClientCertChain::from_connection(connection))
    });
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(client);
    let name = ServerName::try_from("localhost").unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let (h2, chain) = server.await.unwrap();
    drop(stream);
    (alpn, h2, chain)
}

#[tokio::test]
async fn tls_negotiates_h2_and_hands_the_admin_certificate_to_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_generate(&config(dir.path())).unwrap();

    let (alpn, h2, chain) = handshake(&pki, client_config(&pki, &[b"h2", b"http/1.1"], true)).await;
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    assert!(h2);
    let admin = CertificateDer::from_pem_slice(pki.admin.cert_pem.as_bytes()).unwrap();
    assert_eq!(chain.unwrap().0[0], admin);

    // HTTP/1.1-only clients, and clients without a certificate, are served too.
    let (alpn, h2, chain) = handshake(&pki, client_config(&pki, &[b"http/1.1"], false)).await;
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert!(!h2);
    assert_eq!(chain, None);
}

#[tokio::test]
async fn a_certificate_from_another_ca_still_completes_the_handshake() {
    // Trust is decided per request by the x509 authenticator (a 401), as kube-apiserver does.
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_generate(&config(dir.path())).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki.ca.roots());
    let chain = vec![CertificateDer::from_pem_file(testdata("ec.crt")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(testdata("ec-sec1.key")).unwrap();
    let client = Arc::new(builder.with_client_auth_cert(chain.clone(), key).unwrap());
    let (_, _, seen) = handshake(&pki, client).await;
    assert_eq!(seen.unwrap().0.to_vec(), chain);
}

#[test]
fn the_ca_signs_certificate_requests_into_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::load_or_generate_at(&config(dir.path()), NOW).unwrap();
    // Two groups: rcgen keeps one value per attribute type, so the second O goes in under its
    // OID as a custom type.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, "alice");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "dev");
    params.distinguished_name.push(rcgen::DnType::CustomDnType(vec![2, 5, 4, 10]), "ops");
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    let request = csr::CertificateRequest::parse_pem(pem.as_bytes()).unwrap();
    let usages = csr::Usages::from_names(["digital signature", "client auth"]).unwrap();

    let hour = 3600;
    let der = pki.ca.sign_request(&request, &usages, hour, NOW).unwrap();
    let cert = CertificateDer::from(der);
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        pki.ca.roots(),
        tls::provider(),
    )
    .build()
    .unwrap();
    verifier.verify_client_cert(&cert, &[], at(NOW)).unwrap();
    let info = CertInfo::parse(&cert).unwrap();
    assert_eq!(info.common_name(), Some("alice"));
    assert_eq!(info.organizations(), ["dev", "ops"]);
    // Short-lived: backdated five minutes, the end not backdated.
    assert_eq!((info.not_before, info.not_after), (NOW - 300, NOW + hour));
    let year = 365 * DAY;
    let info =
        CertInfo::parse(&pki.ca.sign_request(&request, &usages, year, NOW).unwrap()).unwrap();
    assert_eq!(info.not_after, NOW + year - 300);
    // Never past the CA's own end.
    let info =
        CertInfo::parse(&pki.ca.sign_request(&request, &usages, 20 * year, NOW).unwrap()).unwrap();
    assert_eq!(info.not_after, pki.ca.not_after);
    let expired = pki.ca.sign_request(&request, &usages, hour, pki.ca.not_after + 301);
    assert!(expired.unwrap_err().starts_with("the signer has expired"));
    let expired = pki.ca.sign_request(&request, &usages, hour, pki.ca.not_after + 1);
    assert!(expired.unwrap_err().starts_with("refusing to sign a certificate that expired"));
}
