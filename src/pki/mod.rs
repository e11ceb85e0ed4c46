//! Certificates for a secure default, as kubeadm and k3s make them.
//!
//! On first start [`Pki::load_or_generate`] creates, under `<--data-dir>/pki/`:
//! - `ca.crt`/`ca.key` — a self-signed CA (ECDSA P-256, 10 years). Signs everything below and is
//!   the default client CA. Reused forever; an expired or half-present CA is an error, never
//!   silently replaced (every client trusts it).
//! - `apiserver.crt`/`apiserver.key` — the serving certificate (1 year) for 127.0.0.1, ::1,
//!   localhost, the host name, `--advertise-address` and any extra SANs. Reissued when it no
//!   longer covers what is asked, is within 90 days of expiry, or no longer chains to the CA.
//!   Not made when `--tls-cert-file`/`--tls-private-key-file` are given ([`load`]).
//! - `admin.crt`/`admin.key` — a client certificate for `kubernetes-admin` in `system:masters`,
//!   put into the kubeconfig ([`kubeconfig`]). Reissued on the same rules.
//! - `sa.key`/`sa.pub` — the ServiceAccount token signing key (ECDSA P-256, so ES256 tokens).
//! - `front-proxy-ca.crt`/`.key` and `front-proxy-client.crt`/`.key` — kubeadm's front-proxy
//!   pair: a second CA whose client certificates may assert a user in `X-Remote-*` headers
//!   (the requestheader authenticator), and the certificate (CN `front-proxy-client`) the
//!   aggregator presents to extension API servers. Not made when `--requestheader-client-ca-file`
//!   is given; `--proxy-client-cert-file`/`--proxy-client-key-file` replace the client
//!   certificate ([`FrontProxy`]).
//!
//! Keys are 0600 and written atomically ([`files`]). [`tls`] turns the result into a rustls
//! `ServerConfig` (ALPN `h2`, `http/1.1`; client certificates requested, verified later by the
//! x509 authenticator). Data flows one way: files (or flags) → [`Pki`] → TLS config, kubeconfig
//! and the authenticators' trust anchors.

mod ca;
pub mod csr;
pub mod der;
pub mod files;
mod issue;
pub mod kubeconfig;
pub mod load;
pub mod pem;
pub mod tls;
pub mod x509;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use ca::CertificateAuthority;

/// How long a generated CA is valid (kubeadm: 10 years).
pub const CA_VALIDITY_SECS: i64 = 10 * 365 * 86_400;
/// How long a generated serving or client certificate is valid (kubeadm, k3s: 1 year).
pub const LEAF_VALIDITY_SECS: i64 = 365 * 86_400;
/// A generated leaf this close to its expiry is reissued at start (k3s: 90 days).
pub const RENEW_BEFORE_SECS: i64 = 90 * 86_400;

/// The admin client certificate's user (its CN), as kubeadm names it.
pub const ADMIN_USER: &str = "kubernetes-admin";
/// The admin client certificate's group (its O): bound to cluster-admin by kube's bootstrap policy.
pub const ADMIN_GROUP: &str = "system:masters";

/// The front-proxy client certificate's user (its CN), as kubeadm names it; the default of
/// `--requestheader-allowed-names` when the front-proxy CA is generated.
pub const FRONT_PROXY_CLIENT: &str = "front-proxy-client";

/// What the certificates are made from. Each field names the flag that fills it.
#[derive(Debug, Clone, Default)]
pub struct PkiConfig {
    /// `--data-dir`: generated files live in `<data_dir>/pki/`.
    pub data_dir: PathBuf,
    /// `--tls-cert-file`: a PEM serving certificate, followed by its intermediates. With
    /// `tls_private_key_file`, replaces the generated serving certificate.
    pub tls_cert_file: Option<PathBuf>,
    /// `--tls-private-key-file`: the PEM key of `tls_cert_file` (RSA, ECDSA or Ed25519; PKCS#8,
    /// PKCS#1 or SEC1).
    pub tls_private_key_file: Option<PathBuf>,
    /// `--client-ca-file`: PEM CA certificates whose client certificates authenticate, trusted in
    /// addition to the generated CA (which signs the admin certificate).
    pub client_ca_file: Option<PathBuf>,
    /// `--advertise-address`: an address the serving certificate must also cover.
    pub advertise_address: Option<IpAddr>,
    /// Extra subject alternative names for the serving certificate, IPs or DNS names (k3s's
    /// `--tls-san`).
    pub extra_sans: Vec<String>,
    /// The host name to include in the serving certificate; `None` reads the machine's.
    pub host_name: Option<String>,
    /// `--requestheader-client-ca-file`: PEM CAs of the front proxies allowed to assert a user
    /// in headers. Without it a front-proxy CA is generated.
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// `--proxy-client-cert-file`: the client certificate the aggregator presents to extension
    /// API servers. Without it (and `--requestheader-client-ca-file`) one is generated.
    pub proxy_client_cert_file: Option<PathBuf>,
    /// `--proxy-client-key-file`: the key of `proxy_client_cert_file`.
    pub proxy_client_key_file: Option<PathBuf>,
}

/// A subject alternative name of the serving certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    Ip(IpAddr),
    Dns(String),
}

impl San {
    /// Parses an IP address or a DNS name; `None` for text that is neither.
    pub fn parse(text: &str) -> Option<San> {
        let text = text.trim();
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(San::Ip(ip));
        }
        let name = text.trim_end_matches('.').to_ascii_lowercase();
        rustls::pki_types::DnsName::try_from(name.as_str()).ok()?;
        Some(San::Dns(name))
    }
}

impl std::fmt::Display for San {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            San::Ip(ip) => write!(f, "{ip}"),
            San::Dns(name) => f.write_str(name),
        }
    }
}

impl PkiConfig {
    /// The directory of the generated files.
    pub fn pki_dir(&self) -> PathBuf {
        self.data_dir.join("pki")
    }

    /// The names the serving certificate must cover, in order, without duplicates. Text that is
    /// neither an IP nor a DNS name (a host name with `_`) is left out with a warning.
    pub fn requested_sans(&self) -> Vec<San> {
        let mut sans = vec![
            San::Ip(IpAddr::from([127, 0, 0, 1])),
            San::Ip(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
            San::Dns("localhost".to_owned()),
        ];
        let host = self.host_name.clone().or_else(machine_host_name);
        let named = host.iter().chain(self.extra_sans.iter());
        let parsed = named.filter_map(|text| {
            let san = San::parse(text);
            if san.is_none() {
                tracing::warn!(name = %text, "not a DNS name or IP: left out of the serving certificate");
            }
            san
        });
        let candidates: Vec<San> = parsed.chain(self.advertise_address.map(San::Ip)).collect();
        for san in candidates {
            if !sans.contains(&san) {
                sans.push(san);
            }
        }
        sans
    }
}

/// The machine's host name (Linux), if it can be read.
fn machine_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The certificate and key the server presents.
#[derive(Debug)]
pub struct ServingIdentity {
    /// The leaf first, then intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// Where they came from (the generated files or the flags), for messages.
    pub cert_path: PathBuf,
}

impl Clone for ServingIdentity {
    fn clone(&self) -> Self {
        ServingIdentity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            cert_path: self.cert_path.clone(),
        }
    }
}

/// The front-proxy trust and identity (kube's requestheader and proxy-client options).
#[derive(Debug)]
pub struct FrontProxy {
    /// The CAs a requestheader client certificate must chain to: `--requestheader-client-ca-file`'s,
    /// or the generated front-proxy CA.
    pub client_ca: Vec<CertificateDer<'static>>,
    /// The same, PEM (published as `requestheader-client-ca-file` in
    /// `kube-system/extension-apiserver-authentication`).
    pub client_ca_pem: String,
    /// True when `client_ca` is the generated front-proxy CA.
    pub generated: bool,
    /// The certificate chain and key the aggregator presents to extension API servers:
    /// `--proxy-client-cert-file`/`--proxy-client-key-file`, or the generated
    /// `front-proxy-client`. `None` with a user's requestheader CA and no proxy client flags
    /// (as kube-apiserver, requests are then proxied without a client certificate).
    pub proxy_client: Option<ServingIdentity>,
}

/// A client certificate and its key, PEM-encoded (for a kubeconfig).
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Everything [`Pki::load_or_generate`] produced or loaded.
#[derive(Debug)]
pub struct Pki {
    /// `<data_dir>/pki`.
    pub dir: PathBuf,
    /// The generated (or reused) CA.
    pub ca: CertificateAuthority,
    /// What the server presents: generated, or from `--tls-cert-file`.
    pub serving: ServingIdentity,
    /// True when `serving` is signed by `ca` (so a kubeconfig can trust `ca`).
    pub serving_is_generated: bool,
    /// The admin client certificate, signed by `ca`.
    pub admin: ClientIdentity,
    /// Trust anchors for client certificates: `ca` first, then `--client-ca-file`'s.
    pub client_ca: Vec<CertificateDer<'static>>,
    /// The generated ServiceAccount signing key (PKCS#8 PEM); the default for
    /// `--service-account-signing-key-file` and `--service-account-key-file`.
    pub service_account_key_file: PathBuf,
    /// The front-proxy CA and the aggregator's client certificate.
    pub front_proxy: FrontProxy,
}

/// Why the PKI could not be loaded or made. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Config(String),
    #[error("certificate authority {}: {message}", path.display())]
    Ca { path: PathBuf, message: String },
    #[error("generating a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

impl PkiError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> PkiError {
        PkiError::Io { path: path.to_owned(), source }
    }

    pub(crate) fn file(path: &Path, message: impl Into<String>) -> PkiError {
        PkiError::File { path: path.to_owned(), message: message.into() }
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Pki {
    /// Loads the PKI under `<data_dir>/pki`, generating what is missing or due (see the module
    /// doc), and the user's files named by the flags.
    pub fn load_or_generate(config: &PkiConfig) -> Result<Pki, PkiError> {
        Self::load_or_generate_at(config, unix_now())
    }

    /// [`Pki::load_or_generate`] as if the time were `now` (Unix seconds).
    pub fn load_or_generate_at(config: &PkiConfig, now: i64) -> Result<Pki, PkiError> {
        let dir = config.pki_dir();
        files::ensure_private_dir(&dir)?;
        let ca = CertificateAuthority::load_or_generate(&dir, now)?;

        let (serving, serving_is_generated) =
            match (&config.tls_cert_file, &config.tls_private_key_file) {
                (Some(cert), Some(key)) => (load::serving_identity(cert, key)?, false),
                (None, None) => (issue::serving(&dir, &ca, &config.requested_sans(), now)?, true),
                _ => {
                    return Err(PkiError::Config(
                        "--tls-cert-file and --tls-private-key-file must be given together"
                            .to_owned(),
                    ));
                }
            };
        let admin = issue::admin(&dir, &ca, now)?;

        let mut client_ca = vec![ca.cert_der.clone()];
        if let Some(path) = &config.client_ca_file {
            client_ca.extend(load::ca_bundle(path)?);
        }
        let service_account_key_file = issue::service_account_key(&dir)?;
        let front_proxy = front_proxy(config, &dir, now)?;
        Ok(Pki {
            dir,
            ca,
            serving,
            serving_is_generated,
            admin,
            client_ca,
            service_account_key_file,
            front_proxy,
        })
    }

    /// The client CAs (the generated CA and `--client-ca-file`'s), PEM: the
    /// `client-ca-file` of `kube-system/extension-apiserver-authentication`.
    pub fn client_ca_pem(&self) -> String {
        self.client_ca.iter().map(|cert| load::pem("CERTIFICATE", cert)).collect()
    }

    /// The CA a kubeconfig should trust for this server: the generated CA when it signed the
    /// serving certificate; otherwise the last certificate of the user's chain when it is
    /// self-signed (its own root); otherwise `None` (the system's roots must trust it).
    pub fn kubeconfig_ca_pem(&self) -> Option<String> {
        if self.serving_is_generated {
            return Some(self.ca.cert_pem.clone());
        }
        let last = self.serving.chain.last()?;
        let info = x509::CertInfo::parse(last).ok()?;
        info.is_self_issued().then(|| load::pem("CERTIFICATE", last))
    }
}

/// The front-proxy CA and client certificate the flags name, or generated (see [`FrontProxy`]).
fn front_proxy(config: &PkiConfig, dir: &Path, now: i64) -> Result<FrontProxy, PkiError> {
    let flagged = match (&config.proxy_client_cert_file, &config.proxy_client_key_file) {
        (Some(cert), Some(key)) => Some(load::serving_identity(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(PkiError::Config(
                "--proxy-client-cert-file and --proxy-client-key-file must be given together"
                    .to_owned(),
            ));
        }
    };
    if let Some(path) = &config.requestheader_client_ca_file {
        let client_ca = load::ca_bundle(path)?;
        let client_ca_pem = client_ca.iter().map(|cert| load::pem("CERTIFICATE", cert)).collect();
        if flagged.is_none() {
            tracing::warn!(
                "--requestheader-client-ca-file without --proxy-client-cert-file: requests to \
                 extension API servers are proxied without a client certificate"
            );
        }
        return Ok(FrontProxy {
            client_ca,
            client_ca_pem,
            generated: false,
            proxy_client: flagged,
        });
    }
    let ca = CertificateAuthority::load_or_generate_named(
        dir,
        "front-proxy-ca",
        "kube-ledger-front-proxy-ca",
        now,
    )?;
    let proxy_client = match flagged {
        Some(identity) => identity,
        None => issue::front_proxy_client(dir, &ca, now)?,
    };
    Ok(FrontProxy {
        client_ca: vec![ca.cert_der.clone()],
        client_ca_pem: ca.cert_pem.clone(),
        generated: true,
        proxy_client: Some(proxy_client),
    })
}

#[cfg(test)]
mod tests;
