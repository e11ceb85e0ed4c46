//! Command-line options. Flag names follow kube-apiserver's where the concept is the same
//! (`--etcd-servers`, `--etcd-prefix`), so operators can carry their habits over.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ::watch::ViewConfig;
use clap::Parser;

use crate::admission::config::AdmissionConfig;
use crate::admission::default_toleration_seconds::{DEFAULT_SECONDS, DefaultTolerationSeconds};
use crate::apiextensions::webhook::WebhookConfig;
use crate::audit::AuditOptions;
use crate::authn::AuthnConfig;
use crate::authz::{AuthorizationConfig, AuthorizationMode};
use crate::filters::InflightLimits;
use crate::leader::LeaderElectionConfig;
use crate::pki::{Pki, PkiConfig};
use crate::registry::builtin;
use crate::registry::runtime_config::{RuntimeConfig, RuntimeConfigError};
use crate::server::limits::DEFAULT_MAX_CONNECTIONS;
use crate::server::{AdmissionOptions, ConnectionConfig};
use crate::storage::embedded::EmbeddedStorage;
use crate::storage::etcd::{EtcdConfig, EtcdStorage};
use crate::storage::{Result, Storage};

#[derive(Debug, Clone, Parser)]
#[command(name = "kube-ledger", version, about)]
pub struct Options {
    /// Address to serve the API on, over HTTPS (HTTP/2 and HTTP/1.1 through ALPN).
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,

    /// Directory of the embedded store's database, the generated certificates (`pki/`) and the
    /// written kubeconfig.
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,

    /// Serve plain HTTP instead of HTTPS, for local development only: refused unless `--listen`
    /// is a loopback address. Every request without credentials is then `system:unsecured` in
    /// `system:masters` (kube-apiserver's old insecure port); the kubeconfig has no credentials.
    #[arg(long)]
    pub insecure_plain_http: bool,

    /// PEM serving certificate (followed by its intermediates). Without it and
    /// `--tls-private-key-file`, a CA and a serving certificate are generated under
    /// `<data-dir>/pki/` on first start and reused.
    #[arg(long, value_name = "FILE", requires = "tls_private_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// PEM private key of `--tls-cert-file`.
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    pub tls_private_key_file: Option<PathBuf>,

    /// PEM CA certificates whose client certificates authenticate (CN = user, O = groups), in
    /// addition to the generated CA that signs the admin certificate.
    #[arg(long, value_name = "FILE")]
    pub client_ca_file: Option<PathBuf>,

    /// The address clients reach the server at: added to the generated serving certificate.
    #[arg(long, value_name = "IP")]
    pub advertise_address: Option<IpAddr>,

    /// Extra names (IPs or DNS names) for the generated serving certificate (k3s's flag).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub tls_san: Vec<String>,

    /// PEM CAs of the front proxies (another kube-apiserver's aggregator) whose client
    /// certificates may assert a user in the `--requestheader-*` headers. Without it a
    /// front-proxy CA and a `front-proxy-client` certificate are generated under
    /// `<data-dir>/pki/`, as kubeadm makes them.
    #[arg(long, value_name = "FILE")]
    pub requestheader_client_ca_file: Option<PathBuf>,

    /// Common names of front-proxy client certificates allowed to assert users; empty: any
    /// certificate of the requestheader CA. Defaults to `front-proxy-client` when the
    /// front-proxy CA is generated.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub requestheader_allowed_names: Option<Vec<String>>,

    /// Headers naming the user of a front proxy's request; the first present wins.
    #[arg(long, value_name = "HEADERS", value_delimiter = ',', default_value = "X-Remote-User")]
    pub requestheader_username_headers: Vec<String>,

    /// Headers naming the groups of a front proxy's request (every value of each).
    #[arg(long, value_name = "HEADERS", value_delimiter = ',', default_value = "X-Remote-Group")]
    pub requestheader_group_headers: Vec<String>,

    /// Header prefixes of a front proxy's request's extra attributes (`<prefix><key>`).
    #[arg(long, value_name = "PREFIXES", value_delimiter = ',', default_value = "X-Remote-Extra-")]
    pub requestheader_extra_headers_prefix: Vec<String>,

    /// PEM client certificate the aggregator presents to extension API servers (with
    /// `--proxy-client-key-file`). Default: the generated `front-proxy-client`.
    #[arg(long, value_name = "FILE", requires = "proxy_client_key_file")]
    pub proxy_client_cert_file: Option<PathBuf>,

    /// PEM private key of `--proxy-client-cert-file`.
    #[arg(long, value_name = "FILE", requires = "proxy_client_cert_file")]
    pub proxy_client_key_file: Option<PathBuf>,

    /// Static bearer tokens: kube's CSV (`token,user,uid,"group1,group2"`).
    #[arg(long, value_name = "FILE")]
    pub token_auth_file: Option<PathBuf>,

    /// Requests without credentials are `system:anonymous` in `system:unauthenticated`; with
    /// `false` they are refused with 401.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub anonymous_auth: bool,

    /// PEM keys (public or private) that verify ServiceAccount tokens, besides the signing key.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub service_account_key_file: Vec<PathBuf>,

    /// PEM private key that signs ServiceAccount tokens (default: `<data-dir>/pki/sa.key`,
    /// generated).
    #[arg(long, value_name = "FILE")]
    pub service_account_signing_key_file: Option<PathBuf>,

    /// The `iss` of issued ServiceAccount tokens (the first), and the issuers accepted (all).
    /// Repeatable. Default `https://kubernetes.default.svc.cluster.local`.
    #[arg(long, value_name = "URL")]
    pub service_account_issuer: Vec<String>,

    /// Audiences a token must name to reach the API (default: the first issuer).
    #[arg(long, value_name = "AUDIENCE", value_delimiter = ',')]
    pub api_audiences: Vec<String>,

    /// Longest lifetime of a ServiceAccount token issued through TokenRequest.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub service_account_max_token_expiration: Option<Duration>,

    /// The `jwks_uri` of the OIDC discovery document (default: this server's `/openid/v1/jwks`).
    #[arg(long, value_name = "URL")]
    pub service_account_jwks_uri: Option<String>,

    /// A CIDR range of IPs from which to assign Service cluster IPs (IPv4; the first IP is the
    /// `kubernetes` Service's).
    #[arg(long, value_name = "CIDR", default_value = "10.96.0.0/12",
          value_parser = crate::registry::builtin::system::allocator::IpRange::parse)]
    pub service_cluster_ip_range: crate::registry::builtin::system::allocator::IpRange,

    /// The range of ports reserved for Services with NodePort visibility (inclusive).
    #[arg(long, value_name = "MIN-MAX", default_value = "30000-32767",
          value_parser = crate::registry::builtin::system::allocator::PortRange::parse)]
    pub service_node_port_range: crate::registry::builtin::system::allocator::PortRange,

    /// etcd endpoints, comma separated (`http://127.0.0.1:2379,…`). When set, the log lives in
    /// etcd instead of the embedded store.
    #[arg(long, value_delimiter = ',')]
    pub etcd_servers: Vec<String>,

    /// Prefix of every key kube-ledger writes to etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,

    /// On etcd: how many requests for its current revision (the fence of every consistent GET
    /// and LIST, shared by all the reads that arrived before it was sent) may be outstanding at
    /// once. 1 sends the next only when the last returned; more shorten a read's wait for a
    /// request sent after it arrived. kube-ledger's own flag (kube-apiserver has none).
    #[arg(long, default_value_t = crate::storage::etcd::DEFAULT_HEAD_READS_IN_FLIGHT,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub etcd_head_reads_in_flight: u16,

    /// How long a storage request may take before it fails as unavailable.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub storage_request_timeout: Duration,

    /// How much history the log keeps: watches can resume, and history can be read, this far
    /// back. Older revisions are compacted.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub history_retention: Duration,

    /// At most this many revisions are kept behind the head, however recent: the log's size
    /// bound, checked on every compactor tick (a quarter of --history-retention, at most 5 min).
    /// The default, 10,000,000, is about 10-20 GiB of events of 1-2 KiB: far above an hour of a
    /// busy cluster's writes (hundreds per second, about a million an hour), so the time window
    /// is what normally applies, and a write storm cannot fill the disk before the window ends.
    /// On etcd, its --quota-backend-bytes (2 GiB by default) is the lower limit: size this flag
    /// to fit it.
    #[arg(long, default_value_t = 10_000_000)]
    pub history_max_revisions: u64,

    /// How many recent events each resource's watch view keeps for watchers that resume; older
    /// resumes replay from the log. For tests and tuning.
    #[arg(long, default_value_t = ViewConfig::default().window_events, hide = true)]
    pub watch_window_events: usize,

    /// How often a watch that asked for bookmarks gets one (when its resource's revision moved).
    /// For tests.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, hide = true)]
    pub watch_bookmark_interval: Duration,

    /// Built-in APIs to turn on or off, as kube-apiserver's flag: comma-separated `key=value`
    /// (`key` alone means true). `<group>/<version>` (`v1` or `api/v1` for the core group) for a
    /// version, `<group>/<version>/<resource>` for one resource, `api/all`, `api/ga`, `api/beta`,
    /// `api/alpha` for many. Repeatable; a later value of a key wins. Stored objects are kept.
    #[arg(long, value_name = "KEY[=VALUE],...", value_parser = parse_runtime_config)]
    pub runtime_config: Vec<RuntimeConfig>,

    /// How long a CRD conversion webhook may take to answer one ConversionReview; the request
    /// that needed it then fails with a 500 Status (kube-apiserver waits 30 s).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub conversion_webhook_timeout: Duration,

    /// How many read requests (GET, LIST) may be served at once; one more is answered 429 with
    /// `Retry-After: 1`. Watches are not counted. 0 is unlimited.
    #[arg(long, default_value_t = InflightLimits::default().read_only)]
    pub max_requests_inflight: usize,

    /// How many mutating requests (create, update, patch, delete) may be served at once; one
    /// more is answered 429 with `Retry-After: 1`. 0 is unlimited.
    #[arg(long, default_value_t = InflightLimits::default().mutating)]
    pub max_mutating_requests_inflight: usize,

    /// Most client connections open at once. At the cap a new connection is let in by closing
    /// the one that has waited longest for a request, so health checks and API calls are still
    /// answered; it is refused only when every open connection is serving a request. Kept below
    /// the open-file limit (raised to the hard limit at start) minus 256 descriptors.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = positive_count)]
    pub max_connections: usize,

    /// How long a connection may wait for a request head — from connecting, or from its previous
    /// response — before it is closed (kube-apiserver's HTTP server: 32 s). For tests.
    #[arg(long, default_value = "32s", value_parser = positive_duration, hide = true)]
    pub request_header_timeout: Duration,

    /// Ordered, comma-separated authorizers (kube-apiserver's flag): `RBAC`, `AlwaysAllow`,
    /// `AlwaysDeny`. Members of `system:masters` are always allowed first. With RBAC, kube's
    /// bootstrap roles and bindings are created (or reconciled) at start.
    #[arg(long, default_value = "RBAC", value_parser = parse_authorization_mode)]
    pub authorization_mode: AuthorizationConfig,

    /// kube-apiserver's AdmissionConfiguration file (`apiserver.config.k8s.io/v1`): the
    /// admission plugins' configuration, such as PodSecurity's defaults and exemptions.
    #[arg(long, value_name = "FILE")]
    pub admission_control_config_file: Option<PathBuf>,

    /// The `tolerationSeconds` of the `node.kubernetes.io/not-ready:NoExecute` toleration the
    /// DefaultTolerationSeconds admission plugin adds to every pod without one.
    #[arg(long, default_value_t = DEFAULT_SECONDS, value_name = "SECONDS")]
    pub default_not_ready_toleration_seconds: i64,

    /// The `tolerationSeconds` of the `node.kubernetes.io/unreachable:NoExecute` toleration the
    /// DefaultTolerationSeconds admission plugin adds to every pod without one.
    #[arg(long, default_value_t = DEFAULT_SECONDS, value_name = "SECONDS")]
    pub default_unreachable_toleration_seconds: i64,

    /// PEM CA bundle published as `ca.crt` of the `kube-root-ca.crt` ConfigMap in every namespace
    /// (kube-controller-manager's flag). Default: the CA that signed the serving certificate
    /// (the generated CA, or the self-signed root of `--tls-cert-file`'s chain).
    #[arg(long, value_name = "FILE")]
    pub root_ca_file: Option<PathBuf>,

    /// Run the singleton controllers (namespace, quota, service accounts, CRD status, CSR
    /// signing, ClusterRole aggregation, compaction) only while this replica holds the leader
    /// election Lease, as kube-controller-manager does. Default: true on etcd (several replicas
    /// may share it), false on the embedded store (one process).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    pub leader_elect: Option<bool>,

    /// How long other replicas wait, from when they last saw the Lease change, before taking it
    /// from a leader that stopped renewing.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub leader_elect_lease_duration: Duration,

    /// How long the leader keeps trying to renew before it steps down and stops its
    /// singletons; shorter than the lease duration.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub leader_elect_renew_deadline: Duration,

    /// How long candidates wait between attempts to acquire, and the leader between renewals.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub leader_elect_retry_period: Duration,

    /// The name of the Lease the replicas compete for.
    #[arg(long, default_value = crate::leader::DEFAULT_LEASE)]
    pub leader_elect_resource_name: String,

    /// The namespace of that Lease.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    #[command(flatten)]
    pub audit: AuditOptions,
}

fn parse_authorization_mode(text: &str) -> std::result::Result<AuthorizationConfig, String> {
    AuthorizationConfig::parse(text).map_err(|errors| errors.join("; "))
}

fn positive_count(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}

fn positive_duration(text: &str) -> std::result::Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(Duration::ZERO) => Err("must be longer than zero".to_owned()),
        Ok(duration) => Ok(duration),
        Err(err) => Err(err.to_string()),
    }
}

/// One `--runtime-config` value, checked against the built-in resources.
fn parse_runtime_config(text: &str) -> std::result::Result<RuntimeConfig, RuntimeConfigError> {
    RuntimeConfig::parse(text, &builtin::known())
}

impl Options {
    /// Opens the backend the options select: etcd when `--etcd-servers` is given, else embedded.
    pub async fn open_storage(&self) -> Result<Arc<dyn Storage>> {
        if self.etcd_servers.is_empty() {
            let dir = self.data_dir.clone();
            let storage = tokio::task::spawn_blocking(move || EmbeddedStorage::open(&dir))
                .await
                .map_err(|e| crate::storage::StorageError::Internal(e.to_string()))??;
            Ok(Arc::new(storage))
        } else {
            let config = EtcdConfig {
                endpoints: self.etcd_servers.clone(),
                prefix: self.etcd_prefix.trim_end_matches('/').to_owned(),
                request_timeout: self.storage_request_timeout,
                head_reads_in_flight: usize::from(self.etcd_head_reads_in_flight),
            };
            Ok(Arc::new(EtcdStorage::connect(config).await?))
        }
    }

    /// The configuration of the watch views.
    pub fn view_config(&self) -> ViewConfig {
        ViewConfig {
            window_events: self.watch_window_events,
            bookmark_interval: self.watch_bookmark_interval,
            ..ViewConfig::default()
        }
    }

    /// The admission plugins' flags and `--admission-control-config-file`, validated.
    pub fn admission_options(&self) -> std::result::Result<AdmissionOptions, String> {
        let options = AdmissionOptions {
            default_toleration_seconds: DefaultTolerationSeconds {
                not_ready_seconds: self.default_not_ready_toleration_seconds,
                unreachable_seconds: self.default_unreachable_toleration_seconds,
            },
            ..AdmissionOptions::default()
        };
        match &self.admission_control_config_file {
            None => Ok(options),
            Some(path) => options.with_config(&AdmissionConfig::load(path)?),
        }
    }

    /// What `kube-root-ca.crt` publishes: `--root-ca-file` as written (after checking it holds CA
    /// certificates), else the CA a kubeconfig trusts for this server, else nothing (kube then
    /// publishes an empty `ca.crt`).
    pub fn root_ca(&self, pki: &Pki) -> std::result::Result<String, crate::pki::PkiError> {
        match &self.root_ca_file {
            Some(path) => {
                crate::pki::load::ca_bundle(path)?;
                std::fs::read_to_string(path).map_err(|e| crate::pki::PkiError::io(path, e))
            }
            None => Ok(pki.kubeconfig_ca_pem().unwrap_or_default()),
        }
    }

    /// `--max-requests-inflight` and `--max-mutating-requests-inflight`.
    pub fn inflight_limits(&self) -> InflightLimits {
        InflightLimits {
            read_only: self.max_requests_inflight,
            mutating: self.max_mutating_requests_inflight,
        }
    }

    /// The settings of CRD conversion webhooks.
    pub fn webhook_config(&self) -> WebhookConfig {
        WebhookConfig { timeout: self.conversion_webhook_timeout }
    }

    /// How connections are treated: the header timeout and the connection cap.
    pub fn connection_config(&self) -> ConnectionConfig {
        ConnectionConfig {
            request_header_timeout: self.request_header_timeout,
            max_connections: self.max_connections,
        }
    }

    /// Every `--runtime-config` merged in the order given, and checked as a whole.
    pub fn runtime_config(&self) -> std::result::Result<RuntimeConfig, RuntimeConfigError> {
        let mut merged = RuntimeConfig::default();
        for value in &self.runtime_config {
            merged.merge(value.clone());
        }
        merged.validate()?;
        Ok(merged)
    }

    /// Refuses `--insecure-plain-http` on an address other than loopback: plain HTTP carries
    /// bearer tokens in the clear and is served without authentication.
    pub fn check_transport(&self) -> std::result::Result<(), String> {
        if self.insecure_plain_http && !self.listen.ip().is_loopback() {
            return Err(format!(
                "--insecure-plain-http serves only loopback addresses; --listen is {}",
                self.listen
            ));
        }
        Ok(())
    }

    /// What the certificates are made from: `--data-dir`, `--tls-*`, `--client-ca-file`,
    /// `--advertise-address`.
    /// The Service network: the ranges, and the address and port of the `kubernetes` Service's
    /// endpoints (`--advertise-address`, else `127.0.0.1`; the port listened on).
    pub fn service_network(&self, port: u16) -> crate::registry::builtin::system::ServiceNetwork {
        crate::registry::builtin::system::ServiceNetwork {
            cluster_ip_range: self.service_cluster_ip_range,
            node_port_range: self.service_node_port_range,
            advertise_address: self
                .advertise_address
                .unwrap_or_else(|| std::net::IpAddr::from([127, 0, 0, 1])),
            port,
        }
    }

    pub fn pki_config(&self) -> PkiConfig {
        PkiConfig {
            data_dir: self.data_dir.clone(),
            tls_cert_file: self.tls_cert_file.clone(),
            tls_private_key_file: self.tls_private_key_file.clone(),
            client_ca_file: self.client_ca_file.clone(),
            advertise_address: self.advertise_address,
            extra_sans: self.tls_san.clone(),
            host_name: None,
            requestheader_client_ca_file: self.requestheader_client_ca_file.clone(),
            proxy_client_cert_file: self.proxy_client_cert_file.clone(),
            proxy_client_key_file: self.proxy_client_key_file.clone(),
        }
    }

    /// The authentication flags over the loaded PKI; `address` is where the server listens
    /// (the default `jwks_uri` names it, or `--advertise-address`).
    pub fn authn_config(&self, pki: &Pki, address: SocketAddr) -> AuthnConfig {
        let mut config = AuthnConfig::new(pki);
        // As kube-apiserver: anonymous requests are refused under AlwaysAllow, which would let
        // them do anything.
        let always_allow = self.authorization_mode.modes.contains(&AuthorizationMode::AlwaysAllow);
        if self.anonymous_auth && always_allow {
            tracing::warn!(
                "--anonymous-auth is not allowed with --authorization-mode=AlwaysAllow: anonymous requests are refused"
            );
        }
        config.anonymous_auth = self.anonymous_auth && !always_allow;
        config.token_auth_file = self.token_auth_file.clone();
        config.service_account_issuers = self.service_account_issuer.clone();
        config.api_audiences = self.api_audiences.clone();
        if let Some(key) = &self.service_account_signing_key_file {
            config.service_account_signing_key_file = key.clone();
        }
        config.service_account_key_files = self.service_account_key_file.clone();
        config.service_account_max_token_expiration = self.service_account_max_token_expiration;
        config.service_account_jwks_uri = self.service_account_jwks_uri.clone();
        if let Some(requestheader) = &mut config.requestheader {
            if let Some(names) = &self.requestheader_allowed_names {
                requestheader.allowed_names =
                    names.iter().filter(|n| !n.is_empty()).cloned().collect();
            }
            requestheader.username_headers = self.requestheader_username_headers.clone();
            requestheader.group_headers = self.requestheader_group_headers.clone();
            requestheader.extra_headers_prefix = self.requestheader_extra_headers_prefix.clone();
        }
        let host = match self.advertise_address {
            Some(ip) => SocketAddr::new(ip, address.port()),
            None => address,
        };
        let url = crate::pki::kubeconfig::server_url(host);
        config.external_address = Some(url.trim_start_matches("https://").to_owned());
        config
    }

    /// A one-word name of the selected backend, for logs.
    pub fn backend_name(&self) -> &'static str {
        if self.etcd_servers.is_empty() { "embedded" } else { "etcd" }
    }

    /// The leader election this replica joins (`--leader-elect-*`), or `None` when the
    /// singletons simply run; checked as client-go checks it.
    pub fn leader_election(
        &self,
    ) -> std::result::Result<Option<LeaderElectionConfig>, crate::leader::ConfigError> {
        if !self.leader_elect.unwrap_or(!self.etcd_servers.is_empty()) {
            return Ok(None);
        }
        let mut config = LeaderElectionConfig::new(&self.leader_elect_resource_name);
        config.namespace = self.leader_elect_resource_namespace.clone();
        config.lease_duration = self.leader_elect_lease_duration;
        config.renew_deadline = self.leader_elect_renew_deadline;
        config.retry_period = self.leader_elect_retry_period;
        config.validate()?;
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::GroupVersion;

    fn options(args: &[&str]) -> std::result::Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("kube-ledger").chain(args.iter().copied()))
    }

    fn enabled(config: &RuntimeConfig, group: &str, version: &str, plural: &str) -> bool {
        config.enabled(&GroupVersion::new(group, version), plural)
    }

    #[test]
    fn leader_election_is_on_by_default_on_etcd_only() {
        let etcd = "--etcd-servers=http://127.0.0.1:2379";
        let elected = options(&[etcd]).unwrap().leader_election().unwrap().unwrap();
        assert_eq!(elected.name, "kube-ledger-controllers");
        assert_eq!(elected.namespace, "kube-system");
        assert_eq!(elected.lease_duration, Duration::from_secs(15));
        assert_eq!(elected.renew_deadline, Duration::from_secs(10));
        assert_eq!(elected.retry_period, Duration::from_secs(2));
        assert_eq!(options(&[]).unwrap().leader_election().unwrap(), None);
        let off = options(&[etcd, "--leader-elect=false"]).unwrap();
        assert_eq!(off.leader_election().unwrap(), None);
        let on = options(&["--leader-elect"]).unwrap();
        assert!(on.leader_election().unwrap().is_some(), "a bare flag means true");
    }

    #[test]
    fn leader_election_flags_are_kubes_and_checked() {
        let args = [
            "--leader-elect=true",
            "--leader-elect-lease-duration=30s",
            "--leader-elect-renew-deadline=20s",
            "--leader-elect-retry-period=5s",
            "--leader-elect-resource-name=mine",
            "--leader-elect-resource-namespace=elsewhere",
        ];
        let config = options(&args).unwrap().leader_election().unwrap().unwrap();
        assert_eq!((config.name.as_str(), config.namespace.as_str()), ("mine", "elsewhere"));
        assert_eq!(config.lease_duration, Duration::from_secs(30));
        let too_long = ["--leader-elect", "--leader-elect-renew-deadline=15s"];
        let err = options(&too_long).unwrap().leader_election().unwrap_err();
        assert_eq!(err, crate::leader::ConfigError::LeaseNotLongerThanDeadline);
    }

    #[test]
    fn authorization_mode_defaults_to_rbac_and_is_validated() {
        assert!(options(&[]).unwrap().authorization_mode.uses_rbac());
        let open = options(&["--authorization-mode=AlwaysAllow"]).unwrap();
        assert!(!open.authorization_mode.uses_rbac());
        let err = options(&["--authorization-mode=RBAC,Node"]).unwrap_err().to_string();
        assert!(err.contains("authorization-mode \"Node\" is not supported"), "{err}");
        let audit = options(&["--audit-log-path=-", "--audit-log-maxage=3"]).unwrap().audit;
        assert_eq!((audit.log_path.as_deref(), audit.log_max_age), (Some("-"), 3));
    }

    #[test]
    fn runtime_config_defaults_to_serving_everything() {
        let config = options(&[]).unwrap().runtime_config().unwrap();
        assert!(config.is_empty());
        for (gv, plural) in builtin::known() {
            assert!(config.enabled(&gv, &plural), "{gv}/{plural}");
        }
    }

    #[test]
    fn runtime_config_values_merge_in_order() {
        let opts = options(&[
            "--runtime-config",
            "autoscaling/v1=false,apps/v1=false",
            "--runtime-config=apps/v1,v1/secrets=false",
        ])
        .unwrap();
        let config = opts.runtime_config().unwrap();
        assert!(!enabled(&config, "autoscaling", "v1", "horizontalpodautoscalers"));
        assert!(enabled(&config, "autoscaling", "v2", "horizontalpodautoscalers"));
        assert!(enabled(&config, "apps", "v1", "deployments"));
        assert!(!enabled(&config, "", "v1", "secrets"));
        assert!(enabled(&config, "", "v1", "configmaps"));
    }

    #[test]
    fn runtime_config_knows_every_built_in() {
        let opts = options(&[
            "--runtime-config",
            "api/all=false,v1,apps/v1/deployments,coordination.k8s.io/v1,events.k8s.io/v1=true",
        ])
        .unwrap();
        let config = opts.runtime_config().unwrap();
        assert!(enabled(&config, "", "v1", "pods"));
        assert!(enabled(&config, "apps", "v1", "deployments"));
        assert!(!enabled(&config, "autoscaling", "v2", "horizontalpodautoscalers"));
    }

    #[test]
    fn malformed_runtime_config_is_a_usage_error() {
        for (value, message) in [
            ("apps/v1=nope", "invalid value of apps/v1: nope"),
            ("apps", "runtime-config invalid key apps"),
            ("bar.io/v1=false", "unknown api groups bar.io"),
            ("apps/v1beta1=false", "group version apps/v1beta1 that has not been registered"),
            ("apps/v1/Deployments=false", "resource is always lowercase plural"),
            ("api/all=0", "invalid value api/all=0"),
        ] {
            let err = options(&["--runtime-config", value]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{value}");
            let text = err.to_string();
            assert!(text.contains("--runtime-config"), "{text}");
            assert!(text.contains(message), "{value}: {text}");
        }
    }

    #[test]
    fn connection_settings_default_to_kube_apiserver_s_and_refuse_zero() {
        let config = options(&[]).unwrap().connection_config();
        assert_eq!(config, ConnectionConfig::default());
        assert_eq!(config.request_header_timeout, Duration::from_secs(32));
        let set = options(&["--max-connections", "100", "--request-header-timeout", "1500ms"])
            .unwrap()
            .connection_config();
        assert_eq!((set.max_connections, set.request_header_timeout.as_millis()), (100, 1500));
        for bad in [["--max-connections", "0"], ["--request-header-timeout", "0s"]] {
            let err = options(&bad).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{bad:?}");
        }
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert!(options(&["--insecure-plain-http"]).unwrap().check_transport().is_ok());
        let ipv6 = options(&["--insecure-plain-http", "--listen", "[::1]:8080"]).unwrap();
        assert!(ipv6.check_transport().is_ok());
        let wide = options(&["--insecure-plain-http", "--listen", "0.0.0.0:8080"]).unwrap();
        let err = wide.check_transport().unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(options(&["--listen", "0.0.0.0:6443"]).unwrap().check_transport().is_ok());
    }

    #[test]
    fn authentication_flags_use_kube_apiserver_s_names() {
        let opts = options(&[
            "--anonymous-auth=false",
            "--token-auth-file",
            "/t.csv",
            "--service-account-issuer",
            "https://a",
            "--service-account-issuer=https://b",
            "--api-audiences",
            "x,y",
            "--advertise-address",
            "10.0.0.7",
            "--tls-cert-file",
            "/c",
            "--tls-private-key-file",
            "/k",
        ])
        .unwrap();
        assert!(!opts.anonymous_auth);
        assert_eq!(opts.service_account_issuer, ["https://a", "https://b"]);
        assert_eq!(opts.api_audiences, ["x", "y"]);
        let pki = opts.pki_config();
        assert_eq!(pki.advertise_address, Some("10.0.0.7".parse().unwrap()));
        assert!(options(&[]).unwrap().anonymous_auth);
        let half = options(&["--tls-cert-file", "/c"]).unwrap_err();
        assert_eq!(half.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn always_allow_refuses_anonymous_requests_as_kube_does() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let anonymous = |args: &[&str]| {
            let opts = options(&[&["--data-dir", data_dir], args].concat()).unwrap();
            let pki = Pki::load_or_generate(&opts.pki_config()).unwrap();
            opts.authn_config(&pki, "127.0.0.1:6443".parse().unwrap()).anonymous_auth
        };
        assert!(anonymous(&[]));
        assert!(!anonymous(&["--authorization-mode", "AlwaysAllow"]));
        assert!(!anonymous(&["--authorization-mode", "RBAC,AlwaysAllow"]));
        assert!(!anonymous(&["--anonymous-auth=false"]));
    }

    #[test]
    fn api_all_false_alone_is_refused_after_merging() {
        let opts = options(&["--runtime-config", "api/all=false"]).unwrap();
        assert_eq!(opts.runtime_config(), Err(RuntimeConfigError::OnlyAllFalse));
        let opts =
            options(&["--runtime-config", "api/all=false", "--runtime-config", "v1"]).unwrap();
        assert!(opts.runtime_config().is_ok());
    }
}
