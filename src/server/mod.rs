//! The HTTP server: the routes ([`routes`]), the connections they are served on ([`accept`],
//! [`connections`], [`limits`]), a graceful shutdown that ends watches cleanly, and what clients
//! need to reach it ([`kubeconfig`]).
//!
//! Start-up order ([`Server::start`]): register built-in resources over the open storage →
//! create the built-in namespaces (every replica; idempotent) → join the leader election
//! ([`crate::leader`], with `--leader-elect`) → the singletons, while this replica leads: the
//! namespace controller (resuming cleanups), the quota controller, the `default` ServiceAccount
//! of every namespace → serve the stored CRDs (and follow them; every replica);
//! [`Server::with_root_ca`] publishes `kube-root-ca.crt` likewise. Only then does the caller bind
//! and serve, so `/readyz` can only answer once storage is open and the namespaces exist. It
//! fails again as soon as shutdown begins, and while storage cannot be reached.
//!
//! Serving ([`Server::serve_with`]): the accept loop admits each connection into the table of
//! open connections (at the cap, closing the one that has waited longest for a request), runs
//! its TLS handshake ([`Transport`]) and HTTP/1.1 or HTTP/2 on it, and marks it busy while a request is served; a
//! connection that waits for a request longer than the header timeout is closed.

mod accept;
pub mod admission;
pub mod connections;
mod health;
mod kubeconfig;
pub mod limits;
mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use ::watch::ViewConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::accept::{TLS_HANDSHAKE_TIMEOUT, Transport};
pub use self::admission::AdmissionOptions;
pub use self::connections::ConnectionConfig;
pub use self::kubeconfig::{client_url, write_kubeconfig};
use crate::api::ApiState;
use crate::apiextensions::webhook::WebhookConfig;
use crate::audit::Auditor;
use crate::authn::{Authentication, Authenticator};
use crate::authz::{AuthorizationConfig, InMemoryRules, RuleResolver, RuleSource};
use crate::filters::{InflightLimits, Security};
use crate::leader::{LeaderElectionConfig, Leadership};
use crate::metrics::Exporter;
use crate::metrics::storage::Instrumented;
use crate::registry::namespace_objects::{self, root_ca, service_accounts};
use crate::registry::rbac::{self, escalation::RbacEscalation};
use crate::registry::reviews::{self, Reviewers, RulesResolver};
use crate::registry::store::Store;
use crate::registry::views::Views;
use crate::registry::{Registry, RuntimeConfig, builtin, namespaces};
use crate::storage::Storage;

/// The Kubernetes version kube-ledger's API corresponds to (what `/version` reports).
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "33");

/// A running API server's parts, before it serves.
#[derive(Debug)]
pub struct Server {
    pub api: ApiState,
    storage: Arc<dyn Storage>,
    exporter: Arc<Exporter>,
    inflight_limits: InflightLimits,
    /// Who requests are, what they may do, what is audited (the library default: anonymous,
    /// allowed, nothing audited; `with_security`, `with_authorization`, `with_auditor`).
    security: Security,
    /// HTTPS (the binary's default) or plain HTTP (in-process tests, `--insecure-plain-http`).
    transport: Transport,
    /// RBAC's escalation checks, in the store's admission chain; `None` without RBAC.
    escalation: Option<Arc<RbacEscalation>>,
    /// The admission plugins' settings (`with_admission_options`).
    admission: AdmissionOptions,
    /// SelfSubjectRulesReview's resolvers for the authorization modes (`with_authorization`).
    rules: RulesResolver,
    /// Whether this replica runs the singleton controllers (always, without leader election).
    leadership: Leadership,
    /// The elector's task, awaited after serving: it releases the lease at shutdown.
    elector: Option<JoinHandle<()>>,
}

/// What [`Server::start_with`] starts the server with; the default serves every built-in
/// resource with the default views and webhook client, and no leader election.
#[derive(Debug, Default)]
pub struct StartOptions {
    pub views: ViewConfig,
    pub runtime_config: RuntimeConfig,
    pub webhooks: WebhookConfig,
    pub election: Option<LeaderElectionConfig>,
}

impl Server {
    /// Registers the built-in resources over `storage` and makes the server ready, with the
    /// default [`StartOptions`].
    pub async fn start(
        storage: Arc<dyn Storage>,
        server_address: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Server, crate::api::status::ApiError> {
        Self::start_with(storage, server_address, shutdown, StartOptions::default()).await
    }

    /// [`Server::start`] with `options`: the watch views (which start lazily, one per watched
    /// resource, and stop when `shutdown` flips), the built-in resources `--runtime-config`
    /// enables, the CRD conversion webhooks' client, and leader election (`--leader-elect`:
    /// the singleton controllers run only while this replica holds the election's Lease, see
    /// [`crate::leader`]; without it this process runs them itself).
    pub async fn start_with(
        storage: Arc<dyn Storage>,
        server_address: SocketAddr,
        shutdown: watch::Receiver<bool>,
        options: StartOptions,
    ) -> Result<Server, crate::api::status::ApiError> {
        let StartOptions { views, runtime_config, webhooks, election } = options;
        let runtime_config = &runtime_config;
        let registry = Arc::new(Registry::new());
        builtin::register_enabled(&registry, runtime_config);
        crate::apiextensions::register(&registry);
        let storage = Instrumented::wrap(storage, registry.clone());
        let views = Views::new(storage.clone(), views, shutdown.clone());
        let exporter = Arc::new(Exporter::new(storage.clone(), registry.clone(), views.clone()));
        let store = Store::new(storage.clone(), registry.clone(), views.clone());
        // The admission chain every write passes (`with_authorization` adds RBAC's checks).
        let chain = admission::chain(&store, None, &AdmissionOptions::default());
        let store = store.with_admission(chain);
        // The reviews and TokenRequest, with the defaults until authentication and authorization
        // are configured: AlwaysAllow and a token key of this process.
        let reviewers = Reviewers::standalone(&store, &server_address.to_string())
            .map_err(crate::api::status::ApiError::internal)?;
        reviews::install(&registry, runtime_config, Arc::new(reviewers));
        builtin::system::install(&registry);
        // The Service allocators hold what the stored Services hold before anything is served.
        builtin::system::sync::start(store.clone(), shutdown.clone()).await?;
        // What kube-apiserver's post-start hooks create, by every replica: idempotent.
        namespaces::ensure_built_in(&store).await?;
        crate::registry::system_priority_classes::ensure(&store).await?;
        crate::registry::system_flowcontrol::ensure(&store).await?;
        let (leadership, elector) = match election {
            None => (Leadership::always(), None),
            Some(config) => {
                let elected = crate::leader::start(store.clone(), config, shutdown.clone()).await?;
                (elected.leadership, Some(elected.elector))
            }
        };
        // kube-controller-manager's namespace, resourcequota and serviceaccounts controllers,
        // in process, while this replica leads.
        let controller_store = store.clone();
        leadership
            .singleton("namespace-controller", shutdown.clone(), move |stop| {
                namespaces::start_controller(controller_store.clone(), stop)
            })
            .await?;
        let quota_store = store.clone();
        leadership
            .singleton("resourcequota-controller", shutdown.clone(), move |stop| {
                crate::registry::quota::start(quota_store.clone(), stop);
                async { Ok(()) }
            })
            .await?;
        let accounts_store = store.clone();
        leadership
            .singleton("serviceaccount-controller", shutdown.clone(), move |stop| {
                let account = Arc::new(service_accounts::DefaultServiceAccount);
                namespace_objects::start(accounts_store.clone(), account, stop)
            })
            .await?;
        // Stored CRDs are served again before the caller binds (and `/readyz` answers).
        let crd_leadership = leadership.clone();
        crate::apiextensions::controller::start(
            store.clone(),
            shutdown.clone(),
            webhooks,
            crd_leadership,
        )
        .await?;
        // kube-aggregator's local APIServices, after the stored CRDs are served again (as kube
        // waits for the CRD controller's first sync) so that none of theirs is dropped.
        let apiservices_store = store.clone();
        leadership
            .singleton("kube-apiserver-autoregistration", shutdown.clone(), move |stop| {
                crate::aggregator::autoregister::start(apiservices_store.clone(), stop)
            })
            .await?;
        let api = ApiState {
            store,
            registry,
            shutdown,
            server_address: server_address.to_string(),
            openapi: Default::default(),
            proxy: Arc::new(crate::aggregator::proxy::Proxy::new(None)),
            remote_apis: Default::default(),
        };
        let inflight_limits = InflightLimits::default();
        Ok(Server {
            api,
            storage,
            exporter,
            inflight_limits,
            security: Security::default(),
            transport: Transport::Plain,
            escalation: None,
            admission: AdmissionOptions::default(),
            rules: RulesResolver::always_allow(),
            leadership,
            elector,
        })
    }

    /// Whether this replica runs the singleton controllers: for the caller's own (the
    /// compactor).
    pub fn leadership(&self) -> &Leadership {
        &self.leadership
    }

    /// Configures the admission plugins with `options` (their kube-apiserver flags and
    /// `--admission-control-config-file`): the store's chain is rebuilt with them. Call before
    /// [`Server::with_authorization`] or after, either way.
    pub fn with_admission_options(mut self, options: AdmissionOptions) -> Server {
        self.admission = options;
        self.rebuild_admission();
        self
    }

    /// The store's admission chain from the current settings and RBAC's escalation checks.
    fn rebuild_admission(&mut self) {
        let chain = admission::chain(&self.api.store, self.escalation.clone(), &self.admission);
        self.api.store = self.api.store.clone().with_admission(chain);
    }

    /// Serves with these in-flight limits (`--max-requests-inflight`,
    /// `--max-mutating-requests-inflight`) instead of kube-apiserver's defaults.
    pub fn with_inflight_limits(mut self, limits: InflightLimits) -> Server {
        self.inflight_limits = limits;
        self
    }

    /// Authorizes requests with the chain `--authorization-mode` builds (`system:masters`
    /// first). With RBAC: kube's bootstrap policy is created or reconciled first (as
    /// `system:apiserver`), the RBAC objects are followed from their views, and ClusterRole
    /// aggregation runs until shutdown.
    pub async fn with_authorization(
        mut self,
        config: &AuthorizationConfig,
    ) -> Result<Server, crate::api::status::ApiError> {
        let source: Arc<dyn RuleSource> = if config.uses_rbac() {
            rbac::bootstrap::ensure_policy(&self.api.store).await?;
            let shutdown = self.api.shutdown.clone();
            let rules = rbac::ViewRules::start(&self.api.store, shutdown.clone())
                .await
                .map_err(|err| crate::api::status::ApiError::internal(err.to_string()))?;
            let store = self.api.store.clone();
            self.leadership
                .singleton("clusterrole-aggregation-controller", shutdown, move |stop| {
                    rbac::aggregation::start(store.clone(), stop);
                    async { Ok(()) }
                })
                .await?;
            rules
        } else {
            Arc::new(InMemoryRules::new())
        };
        let chain = config.build(source.clone());
        self.rules = RulesResolver::for_modes(&config.modes, &source);
        self.escalation = chain.rbac.as_ref().map(|_| {
            Arc::new(RbacEscalation {
                authorizer: chain.authorizer.clone(),
                resolver: RuleResolver::new(source),
            })
        });
        if self.escalation.is_some() {
            self.rebuild_admission();
        }
        self.security.authorizer = chain.authorizer;
        Ok(self)
    }

    /// Authenticates requests with `authentication`'s chain (`authenticator` overrides it:
    /// plain-HTTP development mode), and answers TokenReview, TokenRequest, the access reviews
    /// and issuer discovery with it and the authorizer: call after [`Server::with_authorization`].
    pub fn with_authentication(
        mut self,
        authentication: Authentication,
        authenticator: Option<Arc<dyn Authenticator>>,
    ) -> Server {
        self.security.authenticator =
            authenticator.unwrap_or_else(|| authentication.request.clone());
        let reviewers = Reviewers::new(
            Arc::new(authentication),
            self.security.authorizer.clone(),
            self.rules.clone(),
        );
        self.api.registry.set_reviewers(Arc::new(reviewers));
        self
    }

    /// Issues approved CertificateSigningRequests for `kubernetes.io/kube-apiserver-client`
    /// with `ca` (kube-controller-manager's csrsigning controller), until shutdown. Call after
    /// [`Server::with_authorization`], whose admission chain the signer's writes must pass.
    pub fn with_csr_signer(self, ca: Arc<crate::pki::CertificateAuthority>) -> Server {
        let store = self.api.store.clone();
        let shutdown = self.api.shutdown.clone();
        self.leadership.spawn_singleton("csrsigning-controller", shutdown, move |stop| {
            let signer = crate::registry::csr_signing::CsrSigner::new(ca.clone());
            signer.start(store.clone(), stop);
            async { Ok(()) }
        });
        self
    }

    /// Publishes `ca` (PEM) as `ca.crt` of the `kube-root-ca.crt` ConfigMap in every namespace,
    /// as kube-controller-manager's root-ca-cert-publisher: in place once this returns, restored
    /// when deleted or changed, until shutdown.
    pub async fn with_root_ca(self, ca: String) -> Result<Server, crate::api::status::ApiError> {
        let store = self.api.store.clone();
        self.leadership
            .singleton("root-ca-cert-publisher", self.api.shutdown.clone(), move |stop| {
                let publisher = Arc::new(root_ca::RootCaConfigMap { ca: ca.clone() });
                namespace_objects::start(store.clone(), publisher, stop)
            })
            .await?;
        Ok(self)
    }

    /// Proxies remote APIServices presenting `identity` (the front-proxy client certificate)
    /// to their extension API servers, and checks their availability (and discovery) until
    /// shutdown: every replica checks, the leader writes the conditions.
    pub fn with_proxy_client(mut self, identity: Option<crate::pki::ServingIdentity>) -> Server {
        self.api.proxy = Arc::new(crate::aggregator::proxy::Proxy::new(identity));
        let availability = crate::aggregator::availability::Availability {
            store: self.api.store.clone(),
            proxy: self.api.proxy.clone(),
            discovery: self.api.remote_apis.clone(),
            leadership: self.leadership.clone(),
        };
        availability.start(self.api.shutdown.clone());
        self
    }

    /// Publishes `info` as `kube-system/extension-apiserver-authentication` (kube-apiserver's
    /// cluster-authentication-trust controller): in place once this returns, put back when
    /// deleted or changed, until shutdown.
    pub async fn with_authentication_info(
        self,
        info: crate::aggregator::authentication_info::AuthenticationInfo,
    ) -> Result<Server, crate::api::status::ApiError> {
        let store = self.api.store.clone();
        self.leadership
            .singleton("cluster-authentication-trust-controller", self.api.shutdown.clone(), {
                move |stop| {
                    crate::aggregator::authentication_info::start(store.clone(), info.clone(), stop)
                }
            })
            .await?;
        Ok(self)
    }

    /// Allocates Service cluster IPs and node ports from `network`'s ranges and keeps the
    /// `default/kubernetes` Service, Endpoints and EndpointSlice naming this server, as
    /// kube-apiserver does (`crate::registry::builtin::system`). Call after
    /// [`Server::with_authorization`] and [`Server::with_admission_options`], whose admission
    /// chain its writes pass.
    pub async fn with_service_network(
        self,
        network: builtin::system::ServiceNetwork,
    ) -> Result<Server, crate::api::status::ApiError> {
        if let Some(allocators) = builtin::system::allocators(&self.api.registry) {
            allocators.configure(network.cluster_ip_range, network.node_port_range);
        }
        let store = self.api.store.clone();
        self.leadership
            .singleton("kubernetes-service-controller", self.api.shutdown.clone(), move |stop| {
                builtin::system::kubernetes::start(store.clone(), network.clone(), stop)
            })
            .await?;
        Ok(self)
    }

    /// Records requests with `auditor` (`--audit-*`); `None` records nothing.
    pub fn with_auditor(mut self, auditor: Option<Arc<Auditor>>) -> Server {
        self.security.auditor = auditor;
        self
    }

    /// Authenticates and authorizes requests with `security`.
    pub fn with_security(mut self, security: Security) -> Server {
        self.security = security;
        self
    }

    /// Serves over `transport` (HTTPS with a TLS acceptor, or plain HTTP).
    pub fn with_transport(mut self, transport: Transport) -> Server {
        self.transport = transport;
        self
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish, with the default
    /// connection settings.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_with(listener, ConnectionConfig::default(), shutdown).await
    }

    /// Serves until `shutdown` completes: stops accepting, closes the connections that wait for
    /// a request, lets in-flight requests finish (watches end on the same signal, through
    /// [`ApiState::shutdown`]) and returns when the last connection has closed.
    pub async fn serve_with(
        self,
        listener: TcpListener,
        config: ConnectionConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = self.router();
        accept::serve(listener, router, self.transport, config, shutdown).await?;
        if let Some(elector) = self.elector {
            // Released at shutdown, so another replica takes over within a retry period.
            let _ = elector.await;
        }
        Ok(())
    }
}
